/* qa_checker.h - what the quality flags need from a project, loaded once:
 * the corpus's words (the "unsupported" check), the model's tokenizer and
 * chat template (the "too_long" check against train.sft.seq_len) and the
 * Golden Data file (a store pair that contradicts a Golden pair).
 *
 * Both `infuse review` and the workbench's Review pane recompute flags with
 * it, so a pair is judged the same way from a script and from the screen.
 * A missing part is not an error: its check is skipped and a note says so
 * (notes[], for the caller to show).
 *
 * Ownership: a QaChecker is caller-owned, filled by qa_checker_load and
 * released by qa_checker_free; opts points into it. */
#ifndef INFUSE_QA_CHECKER_H
#define INFUSE_QA_CHECKER_H

#include "chat_template.h"
#include "config.h"
#include "qa_corpus.h"
#include "qa_eval.h"
#include "qa_flags.h"
#include "tokenizer.h"

typedef struct QaChecker {
    QaFlagOptions opts;     /* hand to qa_flags_update */
    QaCorpus corpus;
    QaWordSet words;
    Tokenizer *tok;         /* NULL: no tokenizer.json in the model folder */
    ChatTemplate tmpl;
    const char *system;     /* borrowed from the Config */
    QaEvalSet golden;       /* data.golden */
    const char **golden_q, **golden_a;
    const char *notes[3];   /* static strings: checks skipped */
    int n_notes;
} QaChecker;

int qa_checker_load(QaChecker *c, const Config *cfg, Err *e);
void qa_checker_free(QaChecker *c);

/* Tokens of a pair as SFT sees it (chat template included); -1 without a
 * tokenizer or on error. */
int qa_checker_tokens(QaChecker *c, const char *question, const char *answer);

#endif
