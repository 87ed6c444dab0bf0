/* utf8.c - well-formed UTF-8 (see utf8.h). */
#include "utf8.h"

Utf8Kind utf8_char(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0], need, lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
        *len = 1;
        return UTF8_OK;
    }
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        /* E0 would be overlong below A0; ED above 9F would be a surrogate. */
        need = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        /* F0 would be overlong below 90; F4 above 8F is past U+10FFFF. */
        need = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        *len = 1;
        return UTF8_BAD;
    }
    for (size_t k = 1; k <= need; k++) {
        if (k == n) {
            *len = n;
            return UTF8_TRUNCATED;
        }
        if (s[k] < lo || s[k] > hi) {
            *len = k;
            return UTF8_BAD;
        }
        lo = 0x80, hi = 0xbf;
    }
    *len = need + 1;
    return UTF8_OK;
}

size_t utf8_incomplete_tail(const unsigned char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        size_t len;
        if (utf8_char(s + n - k, k, &len) == UTF8_TRUNCATED)
            return k;
    }
    return 0;
}
