/* dataset.h - training examples: tokenized, packed, masked, batched.
 *
 * An Example is a token sequence with a loss mask: mask[i] = 1 means token i
 * is a target (predicted from positions < i; mask[0] is always 0).  Batches
 * are B examples padded to the longest of them; padding has mask 0.
 *
 * CPT (continued pre-training): .txt / .md files (one document each) and
 * {"text": ...} JSONL (one document per line) are tokenized, each document
 * followed by the end-of-sequence token, joined, and cut into windows of
 * seq_len tokens (the last, shorter window kept); every token but a
 * window's first is a target.
 *
 * SFT (supervised fine-tuning): JSONL records, one per line, of the forms
 *   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
 *   {"prompt": "...", "completion": "..."}
 *   {"text": "User: ...\n\nAssistant: ..."}   (our users' existing files;
 *        turns split at "\n\nUser:" / "\n\nAssistant:", "User:" / "Assistant:"
 *        at the start; a record with no assistant turn is an error)
 * rendered with the chat template (chat_template.h); the loss is on the
 * assistant spans only (mask_prompt, the default) or on every token, and a
 * plain-template conversation gets the end-of-sequence token appended as a
 * target.  Records longer than seq_len are cut to seq_len and counted.
 *
 * Errors name file:line and the problem (malformed JSON, a field of the
 * wrong type, an unknown role, a record with no assistant turn, an empty
 * file or an empty dataset); nothing is skipped silently.
 *
 * Ownership: a Dataset owns its examples; dataset_free releases them. */
#ifndef INFUSE_DATASET_H
#define INFUSE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "err.h"
#include "rng.h"
#include "tokenizer.h"

typedef struct Example {
    int32_t *tok;
    uint8_t *mask;
    int n;
    float weight;       /* loss weight of this example's targets (1; golden data may weigh more) */
} Example;

typedef struct Dataset {
    Example *ex;
    size_t n, cap;
    long n_tokens;      /* sum of n */
    long n_targets;     /* sum of mask */
    long n_truncated;   /* records cut to seq_len */
    char sha256[65];    /* of the bytes read, all files in order, hex */
} Dataset;

typedef struct SftOptions {
    ChatTemplate tmpl;
    const char *system;     /* default system prompt, or NULL */
    int seq_len;
    int mask_prompt;        /* 1: loss on assistant spans only */
    int eos_id;             /* appended to plain-template conversations */
    float weight;           /* Example.weight for these records */
} SftOptions;

/* Adds the documents of the files paths[0..n) (a folder means its .txt, .md
 * and .jsonl files in name order). */
int dataset_load_cpt(Dataset *d, const char *const *paths, size_t n, const Tokenizer *tok, int seq_len,
                     int eos_id, Err *e);
/* Adds the records of the JSONL file path. */
int dataset_load_sft(Dataset *d, const char *path, const Tokenizer *tok, const SftOptions *o, Err *e);
void dataset_free(Dataset *d);

/* Moves a deterministic fraction (by seed) of d's examples into valid,
 * at least one, leaving at least one in d. */
int dataset_split(Dataset *d, Dataset *valid, double fraction, uint64_t seed, Err *e);

/* The order examples are visited in: a fresh seeded permutation per epoch.
 * Its whole state is (seed, epoch, pos), so a checkpoint can store it and
 * a resumed run visits the same examples in the same order. */
typedef struct Batcher {
    const Dataset *d;
    uint64_t seed;
    long epoch, pos;        /* next example: perm(epoch)[pos] */
    size_t *perm;           /* of the current epoch */
} Batcher;

typedef struct Batch {
    int B, T;               /* T = longest example in the batch */
    int32_t *tok;           /* [B, T], padding 0 */
    uint8_t *mask;          /* [B, T] */
    float *weight;          /* [B] */
    int *len;               /* [B] */
    long n_targets;         /* sum of mask */
} Batch;

int batcher_init(Batcher *b, const Dataset *d, uint64_t seed, long epoch, long pos, Err *e);
void batcher_free(Batcher *b);
/* Fills the next B examples into out (allocated to B x max_T on first use
 * and reused; max_T = the longest example in the dataset), moving to the
 * next epoch (a new permutation) when one ends. */
int batcher_next(Batcher *b, int B, Batch *out, Err *e);
void batch_free(Batch *out);

#endif
