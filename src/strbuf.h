/* strbuf.h - a growable byte string, always NUL-terminated.
 *
 * Running out of memory is sticky: the put that fails returns -1 and sets
 * oom, and later puts do nothing, so a writer of many pieces may check once
 * at the end.  A zeroed StrBuf is empty; strbuf_free releases it. */
#ifndef INFUSE_STRBUF_H
#define INFUSE_STRBUF_H

#include <stddef.h>

typedef struct StrBuf {
    char *s;            /* NULL until the first put */
    size_t n, cap;
    int oom;
} StrBuf;

int strbuf_put(StrBuf *b, const void *p, size_t n);
int strbuf_puts(StrBuf *b, const char *s);
void strbuf_free(StrBuf *b);

#endif
