/* utf8.h - well-formed UTF-8, one character at a time (RFC 3629 and the
 * Unicode standard's table of well-formed byte sequences: no overlong
 * forms, no surrogates, nothing past U+10FFFF).
 *
 * Model output is bytes, not text: the generation loop uses these to hold
 * back a character that is still arriving and to replace ill-formed bytes
 * with U+FFFD the way Unicode's "maximal subpart" practice (and so Rust's
 * from_utf8_lossy and Hugging Face's decoder) does. */
#ifndef INFUSE_UTF8_H
#define INFUSE_UTF8_H

#include <stddef.h>

typedef enum Utf8Kind { UTF8_TRUNCATED = -1, UTF8_BAD = 0, UTF8_OK = 1 } Utf8Kind;

/* What starts at s[0..n), n >= 1, and how long it is (*len):
 * UTF8_OK: a character of *len bytes;
 * UTF8_BAD: an ill-formed part of *len bytes (1-3), to be replaced by one U+FFFD;
 * UTF8_TRUNCATED: all n bytes (*len = n) begin a character that needs more. */
Utf8Kind utf8_char(const unsigned char *s, size_t n, size_t *len);

/* Bytes at the end of s[0..n) that begin a character still missing bytes. */
size_t utf8_incomplete_tail(const unsigned char *s, size_t n);

/* The replacement character, U+FFFD, in UTF-8. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

#endif
