/* textdocs.h - documents from plain-text files and folders.
 *
 * Several readers take "text" the same way (CPT data, the tokenizer
 * trainer's input, the corpus the QA flags check answers against): a file
 * is one document, except a .jsonl file, whose {"text": ...} lines are one
 * document each; a folder means its .txt, .md and .jsonl files (names not
 * starting with '.', any letter case, not recursive) in strcmp order. */
#ifndef INFUSE_TEXTDOCS_H
#define INFUSE_TEXTDOCS_H

#include <stddef.h>

#include "err.h"
#include "textfile.h"

/* strict: a folder without such files, or a .jsonl file without records,
 * is an error rather than no documents. */
enum { TEXTDOCS_LENIENT = 0, TEXTDOCS_STRICT = 1 };

/* The files path stands for, appended to *files (malloc'd paths; *n counts them). */
int textdocs_list(const char *path, int strict, char ***files, size_t *n, Err *e);
void textdocs_list_free(char **files, size_t n);

/* Called per document: line is its JSONL line, 0 for a whole file.  An
 * error it returns gets "PATH" or "PATH:LINE" put in front. */
typedef int (*TextDocFn)(void *ctx, const char *text, size_t len, long line, Err *e);

/* Whether the file path is read as JSONL: its name ends in .jsonl (any
 * letter case); any other file is one document. */
int textdocs_is_jsonl(const char *path);

/* The documents of the file path, already read into f. */
int textdocs_each(const char *path, const TextFile *f, int strict, TextDocFn fn, void *ctx, Err *e);

#endif
