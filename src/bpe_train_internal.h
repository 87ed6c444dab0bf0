/* bpe_train_internal.h - the BpeTrainer's layout, shared by bpe_train.c
 * (word counting, input files), bpe_train_merge.c (the merge loop) and
 * bpe_train_json.c (the tokenizer.json writer).  Not part of the interface. */
#ifndef INFUSE_BPE_TRAIN_INTERNAL_H
#define INFUSE_BPE_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "bpe_train.h"

#include "strbuf.h"

/* Open-addressing set of byte strings kept in a StrBuf arena; slot holds
 * index + 1 into off/len (0 = empty). */
typedef struct BpeStrSet {
    uint32_t *slot; /* (cap), cap a power of two */
    size_t cap;
    uint32_t *off, *len; /* (n) where string i is in arena */
    size_t n, n_cap;
    StrBuf arena;
} BpeStrSet;

uint64_t bpe_hash(const void *s, size_t n);
/* Index of s in the set, or -1. */
long bpe_strset_find(const BpeStrSet *m, const void *s, size_t n);
/* Index of s, added if absent (*added = 1 then); -1 if memory runs out. */
long bpe_strset_add(BpeStrSet *m, const void *s, size_t n, int *added);
void bpe_strset_free(BpeStrSet *m);

/* GPT-2's bytes_to_unicode: the character standing for each byte. */
void bpe_byte_level(uint32_t cp[256]);
/* Each byte symbol's place (0..255) in the order of those characters: the
 * order of the byte ids written, and of HF's trainer's alphabet. */
void bpe_byte_order(uint32_t rank[256]);

typedef struct BpeMerge {
    int32_t left, right; /* symbol ids: 0..255 bytes, 256.. merged tokens */
} BpeMerge;

struct BpeTrainer {
    char **special; /* (n_special) NUL-terminated contents */
    size_t *special_len;
    uint8_t **special_raw; /* (n_special) the bytes whose byte-level form is the */
    long *special_raw_len; /* special's text, or length -1 when there are none */
    int n_special;

    BpeStrSet words;   /* distinct pre-tokenized words, raw bytes */
    uint64_t *count;   /* (count_cap >= words.n) occurrences of each word */
    size_t count_cap;

    BpeStrSet syms;    /* symbol id -> raw bytes; 0..255 are the bytes */
    BpeMerge *merges;  /* (n_merges) in rank order, after training */
    int n_merges;
    int trained;

    long n_files;
    uint64_t n_bytes, n_words;
};

/* The merge loop (bpe_train_merge.c): fills t->merges and t->syms. */
int bpe_learn(BpeTrainer *t, int vocab_size, int min_frequency, Err *e);

#endif
