/* qa_dup.h - whether a question/answer pair only repeats an earlier one.
 *
 * Two questions are near-duplicates when they differ only trivially: small
 * words ("the", "is"/"was", "in", ...), word endings ("stage"/"stages"),
 * word order; or by one more word, not a number, when the two answers say
 * the same (the same numbers, and one's words all in the other's or most
 * shared).  "What does SCP stand for in the CLaRa paper?" repeats "What
 * does SCP stand for in CLaRa?"; a changed question word ("how"/"why"),
 * number ("stage 1"/"stage 2") or term ("QA loss"/"MSE loss") makes another
 * question however many words the two share, which a word-overlap measure
 * cannot tell (the example's "What does the QA loss do in stage 1?" shares
 * 80% of its words with the MSE one).
 *
 * Ownership: a QaWordList is caller-owned; qa_word_list_free releases it. */
#ifndef INFUSE_QA_DUP_H
#define INFUSE_QA_DUP_H

#include <stddef.h>

#include "qa_text.h"

/* A text's words as a sorted set, built once per record for the O(n^2)
 * duplicate scan (rebuilding both sets per pair was 0.2 s for the
 * example's 356 records, a pause on every save in the workbench). */
typedef struct QaWordList {
    QaWords w;
    const char **set;   /* sorted, unique words of w */
    size_t n;
} QaWordList;

int qa_word_list_init(QaWordList *ws, const char *text);
void qa_word_list_free(QaWordList *ws);

/* The rule on prepared word lists of two pairs: 1 and a reason ("but for
 * \"paper\", with the same answer") in why[n]. */
int qa_near_duplicate(const QaWordList *q1, const QaWordList *a1, const QaWordList *q2, const QaWordList *a2,
                      char *why, size_t n);
/* The same on texts. */
int qa_check_near_duplicate(const char *q1, const char *a1, const char *q2, const char *a2, char *why, size_t n);

#endif
