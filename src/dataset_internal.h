/* dataset_internal.h - what the CPT and SFT loaders share: adding examples,
 * reading files into the running hash, and undoing a failed load. */
#ifndef INFUSE_DATASET_INTERNAL_H
#define INFUSE_DATASET_INTERNAL_H

#include "dataset.h"
#include "textfile.h"

/* A Dataset's state before a load, to return to if the load fails. */
typedef struct DatasetMark {
    size_t n;
    long n_tokens, n_targets, n_truncated, n_dropped, n_files;
    Sha256 hash;
    char sha256[65];
} DatasetMark;

void dataset_mark(const Dataset *d, DatasetMark *m);
/* Frees the examples added since m and restores the counters and hash;
 * returns -1 so a failing path can `return dataset_rollback(d, &m);`. */
int dataset_rollback(Dataset *d, const DatasetMark *m);

/* Reads path into f, adding its bytes to d's hash (and counting the file). */
int dataset_read_file(Dataset *d, TextFile *f, const char *path, Err *e);
/* Adds the SFT examples of f, the text of path already read (and hashed)
 * by the caller, so that a file is read once however it is used.  The
 * caller has checked tok, seq_len and eos_id (dataset_check_args).  -1 on
 * an error, with the examples added so far left for the caller's rollback. */
int dataset_sft_add_text(Dataset *d, const TextFile *f, const char *path, const Tokenizer *tok, const SftOptions *o,
                         Err *e);
/* Updates d->sha256 from the running hash. */
void dataset_finish_hash(Dataset *d);

/* Appends an example of n tokens, copying tok[0..n) and mask[0..n) (mask[0]
 * is forced to 0), and adds to the counters. */
int dataset_push(Dataset *d, const int32_t *tok, const uint8_t *mask, int n, float weight, Err *e);

/* 0 if eos_id is a token of tok and seq_len >= 2, else an error naming what. */
int dataset_check_args(const Tokenizer *tok, int seq_len, int eos_id, Err *e);

#endif
