/* test_utf8.c - utf8_char and utf8_incomplete_tail against an enumeration.
 *
 * The reference does not decode at all: it encodes every Unicode scalar
 * value (U+0000..U+10FFFF without surrogates) by arithmetic and records
 * which byte strings of length 1-3 are whole characters or proper prefixes
 * of one.  Every string of 1, 2 and 3 bytes is then checked exhaustively,
 * and four-byte strings by sampling. */
#include "test.h"
#include "rng.h"
#include "utf8.h"

#include <stdint.h>

static uint8_t *whole[4], *prefix[4];   /* bitmaps over k-byte strings, k = 1..3 */

static size_t encode(uint32_t cp, unsigned char *b)
{
    if (cp < 0x80)
        return b[0] = (unsigned char)cp, 1;
    if (cp < 0x800)
        return b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | (cp >> 6 & 63));
        b[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | (cp >> 12 & 63));
    b[2] = (unsigned char)(0x80 | (cp >> 6 & 63)), b[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

static uint32_t key(const unsigned char *b, size_t k)
{
    uint32_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = v << 8 | b[i];
    return v;
}

static void set(uint8_t *bm, uint32_t v) { bm[v >> 3] |= (uint8_t)(1u << (v & 7)); }
static int get(const uint8_t *bm, uint32_t v) { return bm[v >> 3] >> (v & 7) & 1; }

/* A 4-byte string is a whole character iff it encodes a scalar value. */
static int whole4(const unsigned char *b)
{
    if ((b[0] & 0xf8) != 0xf0 || (b[1] & 0xc0) != 0x80 || (b[2] & 0xc0) != 0x80 || (b[3] & 0xc0) != 0x80)
        return 0;
    uint32_t cp = (uint32_t)(b[0] & 7) << 18 | (uint32_t)(b[1] & 63) << 12 | (uint32_t)(b[2] & 63) << 6 | (b[3] & 63);
    unsigned char e[4];
    return cp <= 0x10ffff && encode(cp, e) == 4 && memcmp(e, b, 4) == 0;
}

static void build(void)
{
    for (int k = 1; k <= 3; k++) {
        whole[k] = calloc((size_t)1 << (8 * k - 3), 1);
        prefix[k] = calloc((size_t)1 << (8 * k - 3), 1);
    }
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        unsigned char b[4];
        size_t n = encode(cp, b);
        if (n <= 3)
            set(whole[n], key(b, n));
        for (size_t k = 1; k < n; k++)
            set(prefix[k], key(b, k));
    }
}

/* What utf8_char should say about s[0..n). */
static Utf8Kind expect(const unsigned char *s, size_t n, size_t *len)
{
    for (size_t k = 1; k <= 4 && k <= n; k++)
        if (k == 4 ? whole4(s) : get(whole[k], key(s, k))) {
            *len = k;
            return UTF8_OK;
        }
    size_t p = 0;   /* longest proper prefix of some character */
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (get(prefix[k], key(s, k)))
            p = k;
    if (p == n) {
        *len = n;
        return UTF8_TRUNCATED;
    }
    *len = p ? p : 1;
    return UTF8_BAD;
}

static long mismatches;

static void check_one(const unsigned char *s, size_t n)
{
    size_t got_len = 99, want_len = 0;
    Utf8Kind got = utf8_char(s, n, &got_len), want = expect(s, n, &want_len);
    if (got != want || got_len != want_len) {
        if (mismatches++ < 10)
            fprintf(stderr, "  %zu bytes %02x %02x %02x %02x: got %d/%zu, expected %d/%zu\n", n, s[0],
                    n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, got, got_len, want, want_len);
    }
}

static void test_exhaustive(void)
{
    unsigned char s[4];
    for (uint32_t v = 0; v < 256; v++)
        s[0] = (unsigned char)v, check_one(s, 1);
    for (uint32_t v = 0; v < 65536; v++)
        s[0] = (unsigned char)(v >> 8), s[1] = (unsigned char)v, check_one(s, 2);
    for (uint32_t v = 0; v < (1u << 24); v++) {
        s[0] = (unsigned char)(v >> 16), s[1] = (unsigned char)(v >> 8), s[2] = (unsigned char)v;
        check_one(s, 3);
    }
    Rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < 2000000; i++) {
        uint64_t x = rng_next(&r);
        s[0] = (unsigned char)(0xc0 | (x & 0x3f));  /* leads, where the cases are */
        for (int k = 1; k < 4; k++)
            s[k] = (unsigned char)(x >> (8 * k));
        if (x >> 40 & 1)   /* half the time, continuation bytes only */
            for (int k = 1; k < 4; k++)
                s[k] = (unsigned char)(0x80 | (s[k] & 0x3f));
        check_one(s, 4);
    }
    CHECKF(mismatches == 0, "%ld strings classified differently from the enumeration", mismatches);
    /* Every scalar value round-trips as one character. */
    long bad = 0;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        unsigned char b[4];
        size_t n = encode(cp, b), len = 0;
        bad += utf8_char(b, n, &len) != UTF8_OK || len != n;
    }
    CHECK(bad == 0);
}

static void test_tail(void)
{
    const unsigned char a[] = "ab\xe2\x82", b[] = "ab\xe2\x82\xac", c[] = "ab\xff", d[] = "\xf0\x9f\x98";
    CHECK(utf8_incomplete_tail(a, 4) == 2);
    CHECK(utf8_incomplete_tail(b, 5) == 0);
    CHECK(utf8_incomplete_tail(c, 3) == 0);  /* ill-formed, not incomplete: nothing to wait for */
    CHECK(utf8_incomplete_tail(d, 3) == 3);
    CHECK(utf8_incomplete_tail(d, 0) == 0);
    const unsigned char e[] = "\xe0\x80";    /* E0 80 can never complete */
    CHECK(utf8_incomplete_tail(e, 2) == 0);
}

int main(void)
{
    build();
    test_exhaustive();
    test_tail();
    for (int k = 1; k <= 3; k++)
        free(whole[k]), free(prefix[k]);
    TEST_MAIN_END();
}
