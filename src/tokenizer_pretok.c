/* tokenizer_pretok.c - hand-written scanners for the known pre-tokenizer regexes.
 *
 * Each scanner answers one question: how long is the match that starts at byte
 * i?  The caller (tokenizer.c) walks the text with it, as HF's Split with
 * behavior Isolated does.  The alternatives of each pattern are tried in order,
 * as a backtracking engine (Oniguruma, which HF uses) would; the comments give
 * the alternative each branch stands for.  Character classes come from
 * libunistring: \p{L} and \p{N} are general categories, \s is White_Space. */
#include "tokenizer_pretok.h"

#include <string.h>
#include <unictype.h>

static const char *const PATTERN_GPT2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char *const PATTERN_LLAMA3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *const PATTERN_QWEN2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

int pretok_regex_from_pattern(const char *pattern)
{
    if (strcmp(pattern, PATTERN_GPT2) == 0) return PRETOK_GPT2;
    if (strcmp(pattern, PATTERN_LLAMA3) == 0) return PRETOK_LLAMA3;
    if (strcmp(pattern, PATTERN_QWEN2) == 0) return PRETOK_QWEN2;
    return -1;
}

uint32_t pretok_cp(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    uint8_t b = s[i];
    if (b < 0x80) { *len = 1; return b; }
    if (b < 0xE0 && i + 1 < n) { *len = 2; return ((uint32_t)(b & 0x1F) << 6) | (s[i + 1] & 0x3F); }
    if (b < 0xF0 && i + 2 < n) {
        *len = 3;
        return ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    }
    if (i + 3 < n) {
        *len = 4;
        return ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
               ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
    }
    *len = 1; /* truncated: cannot happen for validated input */
    return 0xFFFD;
}

int pretok_is_space(uint32_t c)
{
    if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
    return uc_is_property_white_space(c);
}

int pretok_is_numeric(uint32_t c)
{
    if (c < 0x80) return c >= '0' && c <= '9';
    return uc_is_general_category(c, UC_CATEGORY_N);
}

static int is_letter(uint32_t c)
{
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return uc_is_general_category(c, UC_CATEGORY_L);
}

/* [^\s\p{L}\p{N}] */
static int is_other(uint32_t c)
{
    return !pretok_is_space(c) && !is_letter(c) && !pretok_is_numeric(c);
}

static int is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

/* End of the run of characters with property p starting at i (may be i). */
static size_t run(const uint8_t *s, size_t n, size_t i, int (*p)(uint32_t))
{
    while (i < n) {
        size_t l;
        if (!p(pretok_cp(s, n, i, &l))) break;
        i += l;
    }
    return i;
}

/* After an apostrophe at j: s|t|re|ve|m|ll|d, optionally case-insensitive
 * (where Oniguruma also folds U+017F LATIN SMALL LETTER LONG S to s).  Returns
 * the end of the contraction, or 0. */
static size_t contraction(const uint8_t *s, size_t n, size_t j, int icase)
{
    if (j >= n) return 0;
    size_t l;
    uint32_t a = pretok_cp(s, n, j, &l);
    if (icase && a == 0x17F) return j + l;
    if (a >= 0x80) return 0;
    if (icase) a |= 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return j + 1;
    if (j + 1 >= n || s[j + 1] >= 0x80) return 0;
    uint32_t b = icase ? (uint32_t)(s[j + 1] | 0x20) : s[j + 1];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return j + 2;
    return 0;
}

/* \s+(?!\S)|\s+ at i, where s[i] is white space: the run, less its last
 * character when a non-space follows and the run is longer than one. */
static size_t space_tail(const uint8_t *s, size_t n, size_t i)
{
    size_t last = i, e = i;
    while (e < n) {
        size_t l;
        if (!pretok_is_space(pretok_cp(s, n, e, &l))) break;
        last = e;
        e += l;
    }
    if (e == n || last == i) return e;
    return last;
}

static size_t match_gpt2(const uint8_t *s, size_t n, size_t i)
{
    size_t l, l2 = 0;
    uint32_t c = pretok_cp(s, n, i, &l), d = 0;
    size_t j = i + l;
    int has_d = j < n;
    if (has_d) d = pretok_cp(s, n, j, &l2);
    if (c == '\'') { /* 's|'t|'re|'ve|'m|'ll|'d */
        size_t k = contraction(s, n, j, 0);
        if (k) return k;
    }
    if (c == ' ' && has_d) { /*  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ */
        if (is_letter(d)) return run(s, n, j + l2, is_letter);
        if (pretok_is_numeric(d)) return run(s, n, j + l2, pretok_is_numeric);
        if (is_other(d)) return run(s, n, j + l2, is_other);
    }
    if (is_letter(c)) return run(s, n, j, is_letter);
    if (pretok_is_numeric(c)) return run(s, n, j, pretok_is_numeric);
    if (is_other(c)) return run(s, n, j, is_other);
    return space_tail(s, n, i); /* \s+(?!\S) | \s+ */
}

static size_t match_llama3(const uint8_t *s, size_t n, size_t i, int max_digits)
{
    size_t l, l2 = 0;
    uint32_t c = pretok_cp(s, n, i, &l), d = 0;
    size_t j = i + l;
    int has_d = j < n;
    if (has_d) d = pretok_cp(s, n, j, &l2);
    if (c == '\'') { /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
        size_t k = contraction(s, n, j, 1);
        if (k) return k;
    }
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (!is_crlf(c) && !is_letter(c) && !pretok_is_numeric(c) && has_d && is_letter(d))
        return run(s, n, j + l2, is_letter);
    if (is_letter(c)) return run(s, n, j, is_letter);
    if (pretok_is_numeric(c)) { /* \p{N}{1,3} or \p{N} */
        size_t e = j;
        for (int k = 1; k < max_digits && e < n; k++) {
            size_t m;
            if (!pretok_is_numeric(pretok_cp(s, n, e, &m))) break;
            e += m;
        }
        return e;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    if (c == ' ' && has_d && is_other(d)) return run(s, n, run(s, n, j + l2, is_other), is_crlf);
    if (is_other(c)) return run(s, n, run(s, n, j, is_other), is_crlf);
    /* c is white space.  \s*[\r\n]+ : up to and including the last CR or LF of the run */
    size_t e = i, end_crlf = 0;
    while (e < n) {
        size_t m;
        uint32_t x = pretok_cp(s, n, e, &m);
        if (!pretok_is_space(x)) break;
        e += m;
        if (is_crlf(x)) end_crlf = e;
    }
    if (end_crlf) return end_crlf;
    return space_tail(s, n, i); /* \s+(?!\S) | \s+ */
}

size_t pretok_regex_match(PretokRegex kind, const uint8_t *s, size_t n, size_t i)
{
    switch (kind) {
    case PRETOK_GPT2: return match_gpt2(s, n, i);
    case PRETOK_LLAMA3: return match_llama3(s, n, i, 3);
    case PRETOK_QWEN2: return match_llama3(s, n, i, 1);
    }
    return i;
}
