/* eval_metrics.h - scoring an answer against a reference.
 *
 * Texts are compared as normalised words, the way SQuAD-style evaluation
 * does: case folded (Unicode, libunistring), punctuation dropped, the
 * English articles a / an / the dropped, split on whitespace.  Then:
 *   exact match   the word sequences are equal;
 *   token F1      harmonic mean of word precision and recall (multiset overlap);
 *   ROUGE-L       F1 of the longest common subsequence of words;
 *   keyword recall  the share of keywords (each normalised, possibly several
 *                 words) that occur in the answer as a contiguous word run;
 *                 keywords that normalise to nothing ("the") are ignored.
 * The verdict is configurable (EvalRule): an answer is correct when it
 * matches exactly, or, if the item has keywords, when keyword recall reaches
 * min_keyword_recall, or, without keywords, when F1 reaches min_f1. */
#ifndef INFUSE_EVAL_METRICS_H
#define INFUSE_EVAL_METRICS_H

#include <stddef.h>

typedef struct EvalScore {
    int exact;
    double f1, rouge_l, keyword_recall;   /* keyword_recall is NAN without keywords */
    int correct;
    unsigned matched;                     /* bit k: keyword k was found (first 32) */
} EvalScore;

typedef struct EvalRule {
    double min_keyword_recall;  /* default 1.0: every keyword */
    double min_f1;              /* default 0.5 */
} EvalRule;

void eval_rule_defaults(EvalRule *r);

/* Scores answer against reference and keywords[0..n_kw). */
void eval_score(const char *answer, const char *reference, const char *const *keywords, size_t n_kw,
                const EvalRule *rule, EvalScore *out);

#endif
