/* bpe_train.h - learns a byte-level BPE tokenizer from text and writes it as a
 * Hugging Face tokenizer.json.
 *
 * The file it writes declares exactly the pre-tokenization used to count
 * words (SmolLM2's: special tokens cut out first, then Digits with
 * individual_digits, then ByteLevel with the GPT-2 regex, no normalizer), so
 * encoding with it (tokenizer.h, or the HF library) segments text the way
 * training did.  Ids: the special tokens first (0, 1, 2, ... in the order
 * given), then the 256 byte symbols ordered by their byte-level character,
 * then one id per merge that made a new token, in merge order.
 *
 * Training repeatedly merges the most frequent adjacent pair of symbols,
 * counted over all words with their frequencies; ties go to the pair with
 * the smaller ids (left, then right), as HF's BpeTrainer breaks them, so
 * that trainer and this one learn the same merges from the same words.  The
 * result depends only on the text added, in order, and the options: same
 * input, identical bytes out.
 *
 * Ownership: bpe_trainer_new returns a trainer that owns copies of the
 * special tokens, the word counts and, after training, the merges;
 * bpe_trainer_delete frees it.  Not thread-safe.  The engine never prints:
 * errors go into the Err. */
#ifndef INFUSE_BPE_TRAIN_H
#define INFUSE_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct BpeTrainer BpeTrainer;

/* SmolLM2's first three: <|endoftext|>, <|im_start|>, <|im_end|>. */
extern const char *const bpe_default_special[3];

/* special[0..n_special) become ids 0..n_special-1 (special NULL: the three
 * defaults).  Each must be non-empty valid UTF-8 and distinct.  NULL with a
 * message on error. */
BpeTrainer *bpe_trainer_new(const char *const *special, int n_special, Err *e);
void bpe_trainer_delete(BpeTrainer *t);

/* Counts the words of len bytes of UTF-8 text.  Special tokens in the text
 * are cut out first (leftmost, longest), as encoding does, so they are never
 * learned as merges.  Invalid UTF-8: -1, a message with the byte offset, and
 * nothing counted. */
int bpe_trainer_add_text(BpeTrainer *t, const char *text, size_t len, Err *e);

/* Adds a file or a folder's .txt, .md and .jsonl files in name order.  A .txt
 * or .md file is one text; a .jsonl file has one {"text": ...} object a line,
 * each its own text.  Errors name the file (and line). */
int bpe_trainer_add_path(BpeTrainer *t, const char *path, Err *e);

/* Learns merges until the vocabulary (specials + 256 bytes + merged tokens)
 * has vocab_size entries or no pair occurs min_frequency times (min_frequency
 * >= 1).  May be called again with other options; the word counts are kept.
 * Errors: vocab_size below 256 + the specials (or above 1 << 24), no text. */
int bpe_trainer_train(BpeTrainer *t, int vocab_size, int min_frequency, Err *e);

typedef struct BpeTrainStats {
    long n_files;      /* files read by bpe_trainer_add_path */
    uint64_t n_bytes;  /* text bytes counted */
    uint64_t n_words;  /* pre-tokenized words, with repeats */
    long n_unique;     /* distinct words */
    int n_special;
    int vocab_size;    /* of the last training: ids written */
    int n_merges;      /* merges written (>= vocab_size - 256 - specials) */
} BpeTrainStats;

void bpe_trainer_stats(const BpeTrainer *t, BpeTrainStats *s);

/* The trained tokenizer as tokenizer.json text: a malloc'd NUL-terminated
 * string the caller frees, its length in *len.  NULL before training. */
char *bpe_trainer_json(const BpeTrainer *t, size_t *len, Err *e);

/* Writes bpe_trainer_json's text to path atomically (fsutil.h). */
int bpe_trainer_save(const BpeTrainer *t, const char *path, Err *e);

#endif
