/* dataset.h - training examples: tokenized, packed, masked, batched.
 *
 * An Example is a token sequence with a loss mask: mask[i] = 1 means token i
 * is a target (predicted from positions < i; mask[0] is always 0).  Batches
 * are B examples padded to the longest of them; padding has mask 0.
 *
 * Files are read whole as UTF-8 text (textfile.h): a leading byte order mark
 * is dropped; invalid UTF-8, NUL bytes and empty files are errors.  JSONL
 * files hold one JSON object per line; blank lines are skipped.
 *
 * CPT (continued pre-training): .txt / .md files (one document each) and
 * {"text": ...} JSONL (one document per line; other keys ignored) are
 * tokenized as literal text (special-token strings in them are not
 * special).  A JSONL file whose first record is a conversation
 * ({"messages"} or {"prompt", "completion"}) is a chat file: each record is
 * read as SFT reads it (below; a {"text"} record in it too) and rendered
 * with the chat template, special tokens parsed, a conversation being one
 * document.  Replaying a little of a chat model's own instruction data in
 * CPT keeps it answering in turns: plain text alone teaches it to run on
 * past the end of an answer.  Each document is followed by the
 * end-of-sequence token; all are joined in the order given and cut into
 * windows of seq_len tokens (the last, shorter window kept unless it is a
 * single token, which has no target); every token but a window's first is
 * a target.  A folder stands for its .txt, .md and .jsonl files (any
 * letter case; not its subfolders, not names starting with '.') in strcmp
 * order of their names; a file named directly is JSONL if its name ends in
 * .jsonl and one document otherwise.
 *
 * SFT (supervised fine-tuning): JSONL records, one per line, of the forms
 *   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
 *   {"prompt": "...", "completion": "..."}   (one user and one assistant message)
 *   {"text": "User: ...\n\nAssistant: ..."}   (our users' existing files;
 *        turns start at "User:" / "Assistant:" at the start of the text or
 *        after "\n\n"; the one space after the colon is dropped; text before
 *        the first turn is a system message, as the plain template renders
 *        one)
 * Other keys are ignored; a record with more than one of these forms is an
 * error.  Every record needs an assistant message.  Records are rendered
 * with the chat template (chat_template.h) and tokenized with special
 * tokens parsed, piece by piece at the assistant spans' edges so that no
 * token straddles a span edge; the loss is on the tokens of the assistant
 * spans only (mask_prompt, the default) or on every token.  A plain-template
 * conversation that ends with an assistant message gets eos_id appended as
 * a target (plain has no end-of-turn marker of its own).
 *
 * Records longer than seq_len are cut to seq_len and counted in
 * n_truncated.  One whose targets all lie past seq_len would train nothing:
 * it is counted in n_truncated and in n_dropped and not added, so a caller
 * can warn about both.
 *
 * Errors name file:line and the problem (malformed JSON with the column
 * where parsing stopped, a field missing or of the wrong type, an unknown
 * role, a record with no assistant turn, an empty file, a file whose
 * records were all dropped, no examples at all); nothing is skipped
 * silently.  A load that fails leaves the Dataset as it was.
 *
 * Ownership: a Dataset starts zeroed ({0}), owns its examples, and
 * dataset_free releases them.  Batcher and Batch are caller-owned too,
 * released by batcher_free and batch_free; a Batcher borrows its Dataset. */
#ifndef INFUSE_DATASET_H
#define INFUSE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "err.h"
#include "rng.h"
#include "sha256.h"
#include "tokenizer.h"

typedef struct Example {
    int32_t *tok;
    uint8_t *mask;
    int n;
    float weight;       /* loss weight of this example's targets (1; golden data may weigh more) */
    uint8_t copy;       /* 1: an augmented copy of the nearest example before it with copy 0 */
    uint8_t golden;     /* Golden Data: must be learned, so never held out for validation */
} Example;

typedef struct Dataset {
    Example *ex;
    size_t n, cap;
    long n_tokens;      /* sum of n */
    long n_targets;     /* sum of mask */
    long n_truncated;   /* SFT records cut to seq_len (dropped ones included) */
    long n_dropped;     /* SFT records not added: no target within seq_len */
    long n_files;       /* files read */
    char sha256[65];    /* of the bytes read, all files in order, hex */
    Sha256 hash;        /* running state behind sha256 */
} Dataset;

typedef struct SftOptions {
    ChatTemplate tmpl;
    const char *system;     /* default system prompt, or NULL */
    int seq_len;
    int mask_prompt;        /* 1: loss on assistant spans only */
    int eos_id;             /* appended to plain-template conversations */
    float weight;           /* Example.weight for these records */
    int golden;             /* Example.golden for these records */
    int augment;            /* copies of each record with question words dropped (augment.h); 0: none */
    float augment_drop;     /* the chance of each word being dropped, in (0, 1) */
    uint64_t augment_seed;
} SftOptions;

typedef struct CptOptions {
    int seq_len;            /* >= 2 */
    int eos_id;             /* a token of the tokenizer */
    ChatTemplate tmpl;      /* for chat files */
    const char *system;     /* their default system prompt, or NULL */
} CptOptions;

/* Adds the documents of the files paths[0..n) (a folder means its .txt, .md
 * and .jsonl files in name order), windowed as one stream. */
int dataset_load_cpt(Dataset *d, const char *const *paths, size_t n, const Tokenizer *tok, const CptOptions *o,
                     Err *e);
/* Adds the records of the JSONL file path.  Several files (Q&A, then
 * golden data with a larger weight) may go into one Dataset.  With
 * o->augment, each record is followed by up to that many copies whose last
 * user message has words dropped (augment.h), marked Example.copy; they
 * are not counted in n_truncated / n_dropped, and the settings go into the
 * hash, so a resumed run notices a change. */
int dataset_load_sft(Dataset *d, const char *path, const Tokenizer *tok, const SftOptions *o, Err *e);
void dataset_free(Dataset *d);

/* The longest example's length (0 when empty). */
int dataset_max_len(const Dataset *d);

/* Moves a deterministic fraction (by seed) of d's examples into valid,
 * round(fraction * n) clamped to at least one, leaving at least one in d;
 * both keep the examples' original order.  Only examples that may be held
 * out count in n (dataset_n_splittable): augmented copies (Example.copy)
 * are never held out, and a held-out example's copies are dropped, since
 * training on them would leak it; Golden Data (Example.golden) and its
 * copies always stay in d, since it must be learned.  fraction in [0, 1);
 * n must be at least 2; valid must be empty (zeroed).  valid gets d's sha256
 * (the same bytes); n_truncated / n_dropped stay with d. */
int dataset_split(Dataset *d, Dataset *valid, double fraction, uint64_t seed, Err *e);
/* The examples dataset_split may hold out: neither copies nor Golden Data. */
size_t dataset_n_splittable(const Dataset *d);

/* The order examples are visited in: a fresh seeded permutation per epoch.
 * Its whole state is (seed, epoch, pos), so a checkpoint can store it and
 * a resumed run visits the same examples in the same order. */
typedef struct Batcher {
    const Dataset *d;
    uint64_t seed;
    long epoch, pos;        /* next example: perm(epoch)[pos] */
    size_t *perm;           /* [d->n], of the current epoch */
    int max_T;              /* dataset_max_len(d) */
    int group;              /* > 1: batches of this size grouped by length */
} Batcher;

typedef struct Batch {
    int B, T;               /* T = longest example in the batch */
    int32_t *tok;           /* [B, T], padding 0 */
    uint8_t *mask;          /* [B, T] */
    float *weight;          /* [B] */
    int *len;               /* [B] */
    long n_targets;         /* sum of mask */
    size_t cap;             /* elements allocated in tok and mask */
    int cap_B;              /* elements allocated in weight and len */
} Batch;

/* A Batcher at state (seed, epoch, pos) of the non-empty d; a pos past the
 * end of an epoch carries into the following ones.  d must not change
 * while b uses it. */
int batcher_init(Batcher *b, const Dataset *d, uint64_t seed, long epoch, long pos, Err *e);
void batcher_free(Batcher *b);
/* From now on (this epoch's order included) makes batches of B examples of
 * like length: shuffled, sorted by length within windows of 32 batches, the
 * batches visited in shuffled order.  SFT examples vary from a few tokens to
 * seq_len and each batch is padded to its longest, so this saves most of the
 * padding's work.  B 0 or 1 turns it off.  Call it with the B given to
 * batcher_next; the order stays a function of (seed, epoch, B). */
int batcher_group(Batcher *b, int B, Err *e);
/* Fills the next B examples into out (allocated to B x max_T on first use
 * and reused; max_T = the longest example in the dataset), moving to the
 * next epoch (a new permutation) when one ends.  out starts zeroed; rows
 * are T apart.  B > d->n is allowed (an example may then appear twice). */
int batcher_next(Batcher *b, int B, Batch *out, Err *e);
void batch_free(Batch *out);

#endif
