/* tokenizer_internal.h - the Tokenizer's layout, shared by tokenizer.c (loading,
 * added tokens, pre-tokenizing, decoding) and tokenizer_bpe.c (merging).
 * Not part of the public interface. */
#ifndef INFUSE_TOKENIZER_INTERNAL_H
#define INFUSE_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

#define TOK_MAX_STEPS 8
#define TOK_BYTE_CP_MAX 324 /* byte-level code points are all below 256 + 68 */

/* Open-addressing string -> id map; keys live in arena. */
typedef struct StrSlot {
    uint32_t off, len;
    int32_t id1; /* id + 1; 0 = empty slot */
} StrSlot;

typedef struct StrMap {
    StrSlot *slot; /* (cap) */
    size_t cap;
    char *arena;
    size_t arena_len, arena_cap;
} StrMap;

/* Open-addressing (left id, right id) -> merge map. */
typedef struct PairSlot {
    uint64_t key; /* left << 32 | right */
    uint32_t rank;
    int32_t merged1; /* merged id + 1; 0 = empty slot */
} PairSlot;

typedef struct PairMap {
    PairSlot *slot; /* (cap) */
    size_t cap;
} PairMap;

typedef struct AddedTok {
    char *content; /* as in the file, NUL-terminated */
    size_t len;
    const char *match; /* what is matched: content, or its NFC form when normalized */
    size_t match_len;
    char *match_buf; /* owns match when it differs from content */
    int32_t id;
    uint8_t special, normalized, lstrip, rstrip, single_word;
} AddedTok;

typedef enum { STEP_SPLIT, STEP_DIGITS, STEP_BYTELEVEL } TokStepKind;

typedef struct TokStep {
    TokStepKind kind;
    int arg;          /* SPLIT: PretokRegex; DIGITS: individual_digits; BYTELEVEL: use_regex */
    int prefix_space; /* BYTELEVEL: add_prefix_space */
} TokStep;

struct Tokenizer {
    int vocab_size; /* largest id + 1 */
    StrMap vocab;   /* model vocab, byte-level strings */
    PairMap merges;
    int ignore_merges, nfc;
    TokStep steps[TOK_MAX_STEPS];
    int nsteps;

    AddedTok *added; /* (n_added) sorted by first byte of match, longest first */
    int n_added;
    int added_first[257]; /* added[added_first[b] .. added_first[b+1]) start with byte b */

    uint32_t byte_cp[256];            /* byte -> byte-level code point */
    int16_t cp_byte[TOK_BYTE_CP_MAX]; /* and back; -1 for none */
    int32_t byte_id[256];             /* vocab id of each byte's symbol; -1 if absent */

    char *bytes;                      /* decoded bytes of all tokens */
    uint32_t *tok_off, *tok_len;      /* (vocab_size) where each id's bytes are */
    uint8_t *special, *present;       /* (vocab_size) flags */
};

/* Per-call working memory for encoding, grown as needed. */
typedef struct TokScratch {
    int parse_special;
    char *word; /* byte-level form of a piece, for ignore_merges */
    size_t word_cap;
    struct TokSym *sym;
    size_t sym_cap;
    struct TokMerge *heap;
    size_t heap_cap;
} TokScratch;

void tok_scratch_free(TokScratch *sc);
const PairSlot *tok_pair_get(const Tokenizer *t, int32_t a, int32_t b);
int32_t tok_vocab_get(const Tokenizer *t, const char *s, size_t n);
/* BPE-encodes one pre-tokenized piece (raw bytes) and appends its ids. */
int tok_bpe(const Tokenizer *t, const uint8_t *s, size_t n, TokScratch *sc, TokIds *out, Err *e);

#endif
