/* qa_corpus.h - the domain corpus as plain texts, for the "unsupported"
 * flag and for synthesis: a .txt / .md file, a JSONL file of {"text"}
 * records, or a folder of them (not recursive, names in strcmp order,
 * names starting with '.' skipped), as CPT reads them (dataset.h).
 *
 * Ownership: a QaCorpus is caller-owned ({0}); qa_corpus_free releases it. */
#ifndef INFUSE_QA_CORPUS_H
#define INFUSE_QA_CORPUS_H

#include <stddef.h>

#include "err.h"

typedef struct QaCorpus {
    char **text;    /* [n] documents */
    char **name;    /* [n] "FILE" or "FILE:LINE" for JSONL records */
    size_t n;
} QaCorpus;

int qa_corpus_load(QaCorpus *c, const char *path, Err *e);
void qa_corpus_free(QaCorpus *c);

#endif
