/* textfile.h - a training data file read whole and checked as text.
 *
 * Data files come from users' editors and scripts, so the reader is strict
 * where a mistake would train on garbage and lenient where editors differ:
 * a leading UTF-8 byte order mark is dropped, but invalid UTF-8 and NUL
 * bytes (a binary file, a wrong encoding) are errors naming file, line and
 * column.  Lines are 1-based; columns count characters, 1-based, as the
 * config reader's messages do.
 *
 * Ownership: a TextFile owns its buffer; textfile_free releases it. */
#ifndef INFUSE_TEXTFILE_H
#define INFUSE_TEXTFILE_H

#include <stddef.h>

#include "err.h"
#include "sha256.h"

typedef struct TextFile {
    char *raw;          /* the bytes as read, NUL-terminated */
    size_t raw_len;
    const char *text;   /* raw past the BOM, NUL-terminated */
    size_t len;
} TextFile;

/* Reads path into f.  If sha is not NULL the bytes as read (BOM included)
 * are added to it.  An empty file (nothing after the BOM) is an error
 * "PATH: empty file". */
int textfile_read(TextFile *f, const char *path, Sha256 *sha, Err *e);
void textfile_free(TextFile *f);

#endif
