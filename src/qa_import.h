/* qa_import.h - question/answer pairs from other people's JSONL files.
 *
 * One record gives one or more pairs:
 *   {"question": Q, "answer": A}       (A may also be "reference_answer" or
 *                                        "gold_answer", as in eval sets)
 *   {"instruction": I, "input": X, "output": A}   alpaca; the question is I,
 *                                        or I + "\n\n" + X when X is not empty
 *   {"messages": [...]}, {"prompt", "completion"},
 *   {"text": "User: ...\n\nAssistant: ..."}       as in dataset.h; every user
 *        message followed by an assistant message is one pair (a multi-turn
 *        conversation gives one pair per exchange; system messages and a
 *        user message with no reply are not pairs)
 * Other keys are ignored.
 *
 * Importing adds each pair as a pending record whose source is "FILE:LINE"
 * ("FILE:LINE#2" for a conversation's second exchange).  A pair whose
 * question and answer are both already in the store (not deleted) is
 * skipped and counted, so importing a file twice adds nothing.  A line that
 * is not JSON or gives no pair is not fatal: it is reported in bad[] with
 * FILE:LINE and the problem and kept verbatim for the caller to set aside
 * (qa_import_keep_bad).
 *
 * Ownership: QaPairs and QaImport are caller-owned ({0}) and released by
 * their _free. */
#ifndef INFUSE_QA_IMPORT_H
#define INFUSE_QA_IMPORT_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"
#include "qa_store.h"

typedef struct QaPairs {
    char **question, **answer;  /* [n], owned */
    size_t n;
} QaPairs;

/* The pairs of one parsed record; errors name path:line. */
int qa_pairs_from_json(QaPairs *p, const cJSON *obj, const char *path, long line, Err *e);
void qa_pairs_free(QaPairs *p);

typedef struct QaBadLine {
    long line;
    char *text;     /* the line as it was */
    char *why;      /* "FILE:LINE: problem" */
} QaBadLine;

typedef struct QaImport {
    size_t n_added, n_existing;
    long first_id, last_id;     /* ids added (0 when none) */
    QaBadLine *bad;
    size_t n_bad;
} QaImport;

/* Adds path's pairs to s.  Fails only when the file cannot be read (or is
 * not UTF-8 text) or the store cannot be written. */
int qa_import_file(QaStore *s, const char *path, QaImport *out, Err *e);
/* Appends the bad lines verbatim to rejected_path (one per line). */
int qa_import_keep_bad(const QaImport *im, const char *rejected_path, Err *e);
void qa_import_free(QaImport *im);

#endif
