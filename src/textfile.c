/* textfile.c - reading data files as checked UTF-8 text (see textfile.h). */
#include "textfile.h"

#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "utf8.h"

/* The 1-based line and column (in characters) of byte offset off of s. */
static void text_position(const char *s, size_t off, long *line, long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

int textfile_read(TextFile *f, const char *path, Sha256 *sha, Err *e)
{
    memset(f, 0, sizeof *f);
    size_t n;
    char *raw = fs_read_all(path, &n, e);
    if (!raw)
        return -1;
    if (sha)
        sha256_update(sha, raw, n);
    size_t skip = n >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    const unsigned char *t = (const unsigned char *)raw + skip;
    size_t len = n - skip;
    if (len == 0) {
        free(raw);
        return err_set(e, "%s: empty file", path);
    }
    for (size_t i = 0; i < len;) {
        size_t cl = 1;
        const char *problem = NULL;
        if (t[i] == 0)
            problem = "NUL byte (not a text file?)";
        else if (utf8_char(t + i, len - i, &cl) != UTF8_OK)
            problem = "invalid UTF-8";
        if (problem) {
            long line, col;
            text_position((const char *)t, i, &line, &col);
            free(raw);
            return err_set(e, "%s:%ld:%ld: %s", path, line, col, problem);
        }
        i += cl;
    }
    f->raw = raw;
    f->raw_len = n;
    f->text = (const char *)t;
    f->len = len;
    return 0;
}

void textfile_free(TextFile *f)
{
    free(f->raw);
    memset(f, 0, sizeof *f);
}
