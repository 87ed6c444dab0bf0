/* qa_flags.h - quality flags on question/answer pairs, each with a reason
 * a curator can read ("answer repeats \"the model the\" 4 times").
 *
 *   repetition      a 3-word sequence 3 or more times, or one word 4 times
 *                   in a row, in the question or the answer
 *   placeholder     template text left in: "[Your Question]", "{answer}",
 *                   "<answer>", "TODO", "TBD", "Lorem ipsum", ..., or a
 *                   slot such as "[ANSWER]", "<NAME>" or "{table_number}"
 *                   (not the special tokens "[CLS]", "<EOS>", ...)
 *   truncated       empty answer; an answer ending in a comma, colon or a
 *                   word that cannot end a sentence ("and", "the", ...);
 *                   or one of 8+ words with no closing punctuation
 *   duplicate       same question (case, spacing, punctuation aside) as an
 *                   earlier record, or, for a pair not golden itself, as a
 *                   Golden Data pair given in the options with another
 *                   answer (training would teach both answers)
 *   near_duplicate  an earlier record's question but for trivial changes,
 *                   or for one more word when the answers agree (qa_dup.h)
 *   too_long        question and answer, as the caller tokenizes them
 *                   (chat template included), are more than seq_len tokens
 *   unsupported     under min_support (default 0.5) of the answer's content
 *                   words (not function words) occur in the corpus
 *
 * "Earlier" is a lower id; deleted and rejected records are not compared.
 * Flags are computed on import and after edits (qa_flags_update). */
#ifndef INFUSE_QA_FLAGS_H
#define INFUSE_QA_FLAGS_H

#include <stddef.h>

#include "err.h"
#include "qa_text.h"

enum {
    QA_FLAG_REPETITION = 1u << 0,
    QA_FLAG_PLACEHOLDER = 1u << 1,
    QA_FLAG_TRUNCATED = 1u << 2,
    QA_FLAG_DUPLICATE = 1u << 3,
    QA_FLAG_NEAR_DUPLICATE = 1u << 4,
    QA_FLAG_TOO_LONG = 1u << 5,
    QA_FLAG_UNSUPPORTED = 1u << 6,
};
#define QA_N_FLAGS 7

/* "repetition", ... for bit i (0-based); NULL past the end. */
const char *qa_flag_name(int i);
/* The bit of a flag name, or 0 if unknown. */
unsigned qa_flag_parse(const char *name);

/* The single-text checks: 1 and a reason in why[n] when the flag applies. */
int qa_check_repetition(const char *text, char *why, size_t n);
int qa_check_placeholder(const char *text, char *why, size_t n);
int qa_check_truncated(const char *answer, char *why, size_t n);

/* Counts the tokens of a pair as training would see it; -1 on error. */
typedef int (*QaTokenCount)(void *ctx, const char *question, const char *answer);

typedef struct QaFlagOptions {
    const QaWordSet *corpus;    /* words of the corpus (qa_corpus_words); NULL: no support check */
    double min_support;         /* fraction of content words found; 0 = 0.5 */
    QaTokenCount count;         /* NULL: no length check */
    void *count_ctx;
    int seq_len;
    const char *const *golden_q, *const *golden_a;  /* Golden Data outside the store (data.golden) */
    size_t n_golden;
    const char *golden_path;    /* named in the reason */
} QaFlagOptions;

/* Adds the words of each text to set (case folded). */
int qa_corpus_words(QaWordSet *set, const char *const *texts, size_t n, Err *e);

/* The fraction of answer's content words that are in corpus (1 when it has
 * none), and the first missing ones in missing[n]. */
double qa_support(const QaWordSet *corpus, const char *answer, char *missing, size_t n);

struct QaStore;
/* Recomputes every live record's flags and stores (journals) the ones that
 * changed; *n_changed (if not NULL) gets how many. */
int qa_flags_update(struct QaStore *s, const QaFlagOptions *o, size_t *n_changed, Err *e);

#endif
