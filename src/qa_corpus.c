/* qa_corpus.c - corpus documents as texts (see qa_corpus.h). */
#include "qa_corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textdocs.h"

static int push(QaCorpus *c, const char *text, const char *name)
{
    char **t = realloc(c->text, (c->n + 1) * sizeof *t);
    if (!t)
        return -1;
    c->text = t;
    char **nm = realloc(c->name, (c->n + 1) * sizeof *nm);
    if (!nm)
        return -1;
    c->name = nm;
    t[c->n] = strdup(text);
    nm[c->n] = strdup(name);
    if (!t[c->n] || !nm[c->n]) {
        free(t[c->n]);
        free(nm[c->n]);
        return -1;
    }
    c->n++;
    return 0;
}

typedef struct DocCtx {
    QaCorpus *c;
    const char *path;
} DocCtx;

/* Documents are named "FILE", or "FILE:LINE" for JSONL records. */
static int on_doc(void *ctx, const char *text, size_t len, long line, Err *e)
{
    (void)len;
    DocCtx *d = ctx;
    char name[1100];
    if (line)
        snprintf(name, sizeof name, "%s:%ld", d->path, line);
    else
        snprintf(name, sizeof name, "%s", d->path);
    return push(d->c, text, name) != 0 ? err_set(e, "out of memory") : 0;
}

int qa_corpus_load(QaCorpus *c, const char *path, Err *e)
{
    memset(c, 0, sizeof *c);
    char **files = NULL;
    size_t n = 0;
    int rc = textdocs_list(path, TEXTDOCS_LENIENT, &files, &n, e);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        TextFile f;
        DocCtx d = {c, files[i]};
        if ((rc = textfile_read(&f, files[i], NULL, e)) == 0) {
            rc = textdocs_each(files[i], &f, TEXTDOCS_LENIENT, on_doc, &d, e);
            textfile_free(&f);
        }
    }
    textdocs_list_free(files, n);
    if (rc)
        qa_corpus_free(c);
    return rc;
}

void qa_corpus_free(QaCorpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->text[i]);
        free(c->name[i]);
    }
    free(c->text);
    free(c->name);
    memset(c, 0, sizeof *c);
}
