/* strbuf.c - a growable byte string (see strbuf.h). */
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

int strbuf_put(StrBuf *b, const void *p, size_t n)
{
    if (b->oom)
        return -1;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return -1;
        }
        b->s = s, b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
    return 0;
}

int strbuf_puts(StrBuf *b, const char *s) { return strbuf_put(b, s, strlen(s)); }

void strbuf_free(StrBuf *b)
{
    free(b->s);
    b->s = NULL;
    b->n = b->cap = 0;
    b->oom = 0;
}
