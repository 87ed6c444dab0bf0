/* qa_eval.h - held-out evaluation questions (data.eval) for the benchmark.
 *
 * JSONL, one question per line: {"question": Q, "reference_answer": A}
 * (or "answer" / "gold_answer"), optional "keywords" (a list of strings the
 * answer should contain) and "category" (a string).  The other import
 * formats (qa_import.h) work too; a conversation gives its first exchange.
 * A line needs a question and a reference answer or keywords.
 *
 * References are taken as written: one that contradicts the corpus still
 * loads (measuring what the model says against it is the benchmark's job).
 * Unlike an import, evaluation is all-or-nothing: a malformed line is an
 * error naming FILE:LINE, so a score never silently covers fewer questions.
 *
 * Ownership: a QaEvalSet is caller-owned ({0}) and qa_eval_free releases it. */
#ifndef INFUSE_QA_EVAL_H
#define INFUSE_QA_EVAL_H

#include <stddef.h>

#include "err.h"

typedef struct QaEvalItem {
    char *question;
    char *reference;    /* "" when only keywords are given */
    char **keywords;
    size_t n_keywords;
    char *category;     /* "" when not given */
    long line;          /* in the file, 1-based */
} QaEvalItem;

typedef struct QaEvalSet {
    QaEvalItem *items;
    size_t n;
} QaEvalSet;

int qa_eval_load(QaEvalSet *set, const char *path, Err *e);
/* Appends path's questions to a loaded set (on failure the whole set is freed). */
int qa_eval_load_more(QaEvalSet *set, const char *path, Err *e);
/* Appends one question with its reference answer (no keywords, no
 * category): a set built from elsewhere, such as the QA store's Golden Data. */
int qa_eval_append(QaEvalSet *set, const char *question, const char *reference, Err *e);
void qa_eval_free(QaEvalSet *set);

#endif
