/* test_textwidth.c - columns, clusters, cutting, word motion and wrapping.
 *
 * Expected widths and byte offsets are worked out by hand from the UTF-8
 * lengths written next to each string.  Cluster boundaries of random text
 * are checked three ways: tw_next walking forward, tw_prev walking back
 * from every byte, and (for well-formed text) libunistring's
 * u8_grapheme_breaks, which applies the rules to the whole string at once
 * and so is an independent reference. */
#include "test.h"

#include "rng.h"
#include "textwidth.h"

#include <stdint.h>
#include <unigbrk.h>

/* UTF-8 pieces and their byte lengths. */
#define ACUTE   "\xcc\x81"                                   /* U+0301, 2 bytes, width 0 */
#define FAMILY  "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" /* 18 */
#define RI_K    "\xf0\x9f\x87\xb0"                           /* regional indicator K, 4 */
#define RI_R    "\xf0\x9f\x87\xb7"
#define RI_J    "\xf0\x9f\x87\xaf"
#define RI_P    "\xf0\x9f\x87\xb5"
#define HEART   "\xe2\x9d\xa4"                               /* U+2764, 3, text style */
#define VS16    "\xef\xb8\x8f"                               /* U+FE0F, 3 */
#define THUMB   "\xf0\x9f\x91\x8d"                           /* U+1F44D, 4 */
#define TONE    "\xf0\x9f\x8f\xbd"                           /* U+1F3FD, 4 */
#define KEYCAP  "\xe2\x83\xa3"                               /* U+20E3, 3 */
#define ZWSP    "\xe2\x80\x8b"                               /* U+200B, 3 */
#define JAMO_HAN "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"      /* U+1112 U+1161 U+11AB, 9 */
#define KOREAN  "한국어 텍스트"                               /* 6 syllables of 3 bytes, 1 space: 19 */

static size_t W(const char *s) { return tw_width(s, strlen(s)); }
static TwCluster C(const char *s, size_t pos) { return tw_cluster(s, strlen(s), pos); }

/* Boundaries found by tw_next from 0, as "0 1 4 ..." */
static void forward(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "0");
    for (size_t p = 0; p < n && o < cap;) {
        p = tw_next(s, n, p);
        o += (size_t)snprintf(out + o, cap - o, " %zu", p);
    }
}

/* The same found by tw_prev from n. */
static void backward(const char *s, size_t n, char *out, size_t cap)
{
    size_t b[256], k = 0;
    for (size_t p = n; p > 0 && k < 256;)
        b[k++] = p = tw_prev(s, n, p);
    size_t o = 0;
    out[0] = 0;
    while (k-- > 0 && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%zu ", b[k]);
    snprintf(out + o, cap - o, "%zu", n);
}

static void check_bounds(const char *s, const char *want, int line)
{
    char f[1024], b[1024];
    size_t n = strlen(s);
    forward(s, n, f, sizeof f);
    backward(s, n, b, sizeof b);
    CHECKF(strcmp(f, want) == 0, "line %d: forward %s, want %s", line, f, want);
    CHECKF(strcmp(b, want) == 0, "line %d: backward %s, want %s", line, b, want);
}
#define BOUNDS(s, want) check_bounds(s, want, __LINE__)

static void test_widths(void)
{
    CHECK(W("") == 0);
    CHECK(W("hello") == 5);
    CHECK(W(KOREAN) == 13);
    CHECK(strlen(KOREAN) == 19);
    CHECK(W("e" ACUTE) == 1);
    CHECK(W("e" ACUTE "x") == 2);
    CHECK(W(FAMILY) == 6);     /* joined pictographs: the sum, as tmux and xterm draw them */
    CHECK(W(HEART VS16 "\xe2\x80\x8d" "\xf0\x9f\x94\xa5") == 3);  /* heart on fire: 1 + 2 */
    CHECK(W(RI_K RI_R) == 2);
    CHECK(W(RI_K RI_R RI_J RI_P) == 4);
    CHECK(W(RI_K RI_R RI_J) == 3);          /* a flag, then a lone indicator (1 column) */
    CHECK(W(HEART) == 1);
    CHECK(W(HEART VS16) == 2);
    CHECK(W(THUMB TONE) == 2);
    CHECK(W("1" VS16 KEYCAP) == 2);
    CHECK(W("1" KEYCAP) == 1);
    CHECK(W("中文") == 4);
    CHECK(W("日本語テキスト") == 14);
    CHECK(W("ＡＢ!") == 5);                 /* fullwidth A and B */
    CHECK(W(JAMO_HAN) == 2);
    CHECK(W("a\xff" "b") == 3);
    CHECK(W("\xff\xfe") == 2);
    CHECK(W("\xe0\x80") == 2);              /* E0 80 is two ill-formed parts */
    CHECK(W("ab\xe2\x82") == 3);            /* a truncated character is one */
    CHECK(W("a\tb") == 3);
    CHECK(W("a\nb") == 3);
    CHECK(W(ACUTE) == 1);                   /* a mark with nothing to sit on */
    CHECK(W(ZWSP) == 1);
    CHECK(W("Ünïcödé") == 7);
}

static void test_clusters(void)
{
    TwCluster c = C("hello", 1);
    CHECK(c.len == 1 && c.width == 1 && c.kind == TW_TEXT);
    c = C(KOREAN, 3);
    CHECK(c.len == 3 && c.width == 2 && c.kind == TW_TEXT);
    c = C("e" ACUTE "x", 0);
    CHECK(c.len == 3 && c.width == 1 && c.kind == TW_TEXT);
    c = C(FAMILY "x", 0);
    CHECK(c.len == 18 && c.width == 6 && c.kind == TW_TEXT);
    c = C(RI_K RI_R RI_J, 0);
    CHECK(c.len == 8 && c.width == 2);
    c = C(RI_K RI_R RI_J, 8);
    CHECK(c.len == 4 && c.width == 1);
    c = C(HEART VS16 "!", 0);
    CHECK(c.len == 6 && c.width == 2);
    c = C(THUMB TONE, 0);
    CHECK(c.len == 8 && c.width == 2);
    c = C(JAMO_HAN "a", 0);
    CHECK(c.len == 9 && c.width == 2);
    c = C("a\xff" ACUTE, 1);
    CHECK(c.len == 1 && c.width == 1 && c.kind == TW_INVALID);
    c = C("a\xff" ACUTE, 2);
    CHECK(c.len == 2 && c.width == 1 && c.kind == TW_CONTROL);
    c = C("\xe2\x82", 0);
    CHECK(c.len == 2 && c.width == 1 && c.kind == TW_INVALID);
    c = C("a\r\nb", 1);
    CHECK(c.len == 2 && c.width == 1 && c.kind == TW_NEWLINE);
    c = C("a\nb", 1);
    CHECK(c.len == 1 && c.kind == TW_NEWLINE);
    c = C("\rb", 0);
    CHECK(c.len == 1 && c.kind == TW_CONTROL);
    c = C("\t" ACUTE, 0);                   /* controls never take marks */
    CHECK(c.len == 1 && c.kind == TW_CONTROL);
    c = C(ZWSP "a", 0);
    CHECK(c.len == 3 && c.width == 1 && c.kind == TW_CONTROL);
    c = C("ab", 2);
    CHECK(c.len == 0 && c.width == 0);
}

static void test_boundaries(void)
{
    BOUNDS("", "0");
    BOUNDS("abc", "0 1 2 3");
    /* a 0-1, e+acute 1-4, family 4-22, han 22-25, flag 25-33, FF 33-34, z 34-35 */
    BOUNDS("a" "e" ACUTE FAMILY "한" RI_K RI_R "\xff" "z", "0 1 4 22 25 33 34 35");
    BOUNDS(KOREAN, "0 3 6 9 10 13 16 19");
    BOUNDS(RI_K RI_R RI_J RI_P RI_K, "0 8 16 20");
    BOUNDS("x" RI_K RI_R RI_J, "0 1 9 13");
    BOUNDS(JAMO_HAN JAMO_HAN, "0 9 18");
    BOUNDS("a\r\n\r\nb", "0 1 3 5 6");
    BOUNDS("\r\r\n", "0 1 3");
    BOUNDS("a" ACUTE ACUTE "b", "0 5 6");
    BOUNDS(ACUTE "a", "0 2 3");
    BOUNDS("a\xe0\x80" "b", "0 1 2 3 4");
    BOUNDS("\x80\x80\x80\x80\x80", "0 1 2 3 4 5");
    BOUNDS("\xf0\x9f\x91", "0 3");          /* truncated at the end: one part */
    BOUNDS("\xf0\x9f\x91" "a", "0 3 4");
    BOUNDS(THUMB TONE THUMB, "0 8 12");
    /* a lone U+200D after a letter stays with it; the emoji after it does not join */
    BOUNDS("a\xe2\x80\x8d" THUMB, "0 4 8");
    BOUNDS(HEART VS16 "\xe2\x80\x8d" "\xf0\x9f\x94\xa5", "0 13");   /* heart on fire */
    BOUNDS("\t" ACUTE, "0 1 3");

    /* Mid-character offsets: prev goes to the cluster's start. */
    const char *s = "a" FAMILY "b";
    CHECK(tw_prev(s, strlen(s), 7) == 1);
    CHECK(tw_next(s, strlen(s), tw_prev(s, strlen(s), 7)) == 19);
    CHECK(tw_prev(s, strlen(s), 100) == 19);
    CHECK(tw_next(s, strlen(s), 20) == 20);
    CHECK(tw_next(s, strlen(s), 500) == 20);
    CHECK(tw_prev(s, strlen(s), 0) == 0);
}

/* Random strings from pieces chosen to meet every rule. */
static const char *pieces[] = {
    "a", "Z", " ", "\n", "\r", "\t", ACUTE, "\xe2\x80\x8d", VS16, RI_K, RI_R,
    "\xf0\x9f\x91\xa8", THUMB, TONE, HEART, "\xe1\x84\x92", "\xe1\x85\xa1", "\xe1\x86\xab",
    "한", "\xea\xb0\x80" /* LV */, "\xd8\x80" /* prepend */, "\xe0\xa4\x83" /* spacing mark */,
    "中", ZWSP, "\xe2\x9c\x8c" /* victory hand, pictographic */,
};
static const char *bad_pieces[] = { "\xff", "\x80", "\xe2\x82", "\xf0", "\xed\xa0\x80" };

static void test_random_boundaries(void)
{
    Rng r;
    rng_seed(&r, 7);
    size_t np = sizeof pieces / sizeof *pieces, nb = sizeof bad_pieces / sizeof *bad_pieces;
    int bad_prev = 0, bad_ref = 0, bad_width = 0, runs = 3000;
    for (int it = 0; it < runs; it++) {
        char s[512];
        size_t n = 0;
        int with_bad = it % 3 == 0, k = 1 + (int)(rng_next(&r) % 24);
        for (int j = 0; j < k; j++) {
            const char *p = with_bad && rng_next(&r) % 6 == 0 ? bad_pieces[rng_next(&r) % nb]
                                                               : pieces[rng_next(&r) % np];
            memcpy(s + n, p, strlen(p));
            n += strlen(p);
        }
        s[n] = 0;
        char is_b[512] = {0};
        size_t width = 0;
        for (size_t p = 0; p < n;) {
            is_b[p] = 1;
            width += (size_t)tw_cluster(s, n, p).width;
            p = tw_next(s, n, p);
        }
        is_b[n] = 1;
        /* tw_prev from every byte: the last boundary before it. */
        size_t last = 0;
        for (size_t p = 1; p <= n; p++) {
            if (tw_prev(s, n, p) != last)
                bad_prev++;
            if (is_b[p])
                last = p;
        }
        if (tw_width(s, n) != width)
            bad_width++;
        if (!with_bad) {
            char ref[512];
            u8_grapheme_breaks((const uint8_t *)s, n, ref);
            for (size_t p = 0; p < n; p++)
                if (!ref[p] != !is_b[p]) {
                    bad_ref++;
                    break;
                }
        }
    }
    CHECKF(bad_prev == 0, "%d offsets where tw_prev disagrees with tw_next", bad_prev);
    CHECKF(bad_ref == 0, "%d of %d strings split unlike u8_grapheme_breaks", bad_ref, runs);
    CHECK(bad_width == 0);
}

static void check_cut(const char *s, size_t cols, int ell, const char *want, size_t want_w, int line)
{
    TwCut c = tw_cut(s, strlen(s), cols, ell);
    char *d = tw_cut_dup(s, strlen(s), cols, ell);
    size_t keep = strlen(want);
    int want_ell = 0;
    if (keep >= 3 && strcmp(want + keep - 3, TW_ELLIPSIS) == 0)
        keep -= 3, want_ell = 1;
    CHECKF(c.len == keep && c.width == want_w && c.ellipsis == want_ell,
           "line %d: len %zu width %zu ellipsis %d", line, c.len, c.width, c.ellipsis);
    CHECKF(d && strcmp(d, want) == 0, "line %d: got \"%s\", want \"%s\"", line, d ? d : "(null)", want);
    free(d);
}
#define CUT(s, cols, ell, want, w) check_cut(s, cols, ell, want, w, __LINE__)

static void test_cut(void)
{
    size_t w = 99;
    CHECK(tw_fit("hello", 5, 3, &w) == 3 && w == 3);
    CHECK(tw_fit("hello", 5, 10, &w) == 5 && w == 5);
    CHECK(tw_fit("한국어", 9, 5, &w) == 6 && w == 4);  /* the third syllable does not fit in one column */
    CHECK(tw_fit("한국어", 9, 1, &w) == 0 && w == 0);
    CHECK(tw_fit("e" ACUTE "e" ACUTE "e" ACUTE, 9, 2, &w) == 6 && w == 2);
    CHECK(tw_fit(FAMILY "x", 19, 1, &w) == 0 && w == 0);
    CHECK(tw_fit(FAMILY "x", 19, 5, &w) == 0 && w == 0);
    CHECK(tw_fit(FAMILY "x", 19, 6, NULL) == 18);

    CUT("abcdef", 6, 1, "abcdef", 6);
    CUT("abcdef", 5, 1, "abcd" TW_ELLIPSIS, 5);
    CUT("abcdef", 3, 1, "ab" TW_ELLIPSIS, 3);
    CUT("abcdef", 1, 1, TW_ELLIPSIS, 1);
    CUT("abcdef", 0, 1, "", 0);
    CUT("abcdef", 3, 0, "abc", 3);
    CUT("", 3, 1, "", 0);
    CUT(KOREAN, 13, 1, KOREAN, 13);
    CUT(KOREAN, 12, 1, "한국어 텍스" TW_ELLIPSIS, 12);
    CUT(KOREAN, 11, 1, "한국어 텍" TW_ELLIPSIS, 10);      /* one column left empty */
    CUT(KOREAN, 11, 0, "한국어 텍스", 11);
    CUT(KOREAN, 10, 0, "한국어 텍", 9);
    CUT("한국어", 4, 1, "한" TW_ELLIPSIS, 3);
    CUT("한국어", 3, 1, "한" TW_ELLIPSIS, 3);
    CUT("한국어", 2, 1, TW_ELLIPSIS, 1);
    CUT("한국어", 1, 0, "", 0);
    CUT(FAMILY "x", 2, 1, TW_ELLIPSIS, 1);               /* never half a family */
    CUT(FAMILY "x", 6, 0, FAMILY, 6);
    CUT(FAMILY "xy", 8, 1, FAMILY "xy", 8);
    CUT(FAMILY "xyz", 8, 1, FAMILY "x" TW_ELLIPSIS, 8);
    CUT("e" ACUTE "tait", 3, 1, "e" ACUTE "t" TW_ELLIPSIS, 3);
    CUT(RI_K RI_R RI_J RI_P, 3, 1, RI_K RI_R TW_ELLIPSIS, 3);
}

static void test_words(void)
{
    const char *s = "hello, world";
    size_t n = strlen(s);
    CHECK(tw_word_next(s, n, 0) == 5);
    CHECK(tw_word_next(s, n, 5) == 12);
    CHECK(tw_word_next(s, n, 12) == 12);
    CHECK(tw_word_prev(s, n, 12) == 7);
    CHECK(tw_word_prev(s, n, 7) == 0);
    CHECK(tw_word_prev(s, n, 3) == 0);
    CHECK(tw_word_prev(s, n, 0) == 0);

    /* 한국어 0-9, ' ' 9, 텍스트 10-19, ',' 19, ' ' 20, 좋아요 21-30, '!' 30 */
    s = "한국어 텍스트, 좋아요!";
    n = strlen(s);
    CHECK(n == 31);
    CHECK(tw_word_next(s, n, 0) == 9);
    CHECK(tw_word_next(s, n, 9) == 19);
    CHECK(tw_word_next(s, n, 19) == 30);
    CHECK(tw_word_next(s, n, 30) == 31);
    CHECK(tw_word_prev(s, n, 31) == 21);
    CHECK(tw_word_prev(s, n, 21) == 10);
    CHECK(tw_word_prev(s, n, 13) == 10);
    CHECK(tw_word_prev(s, n, 10) == 0);

    /* "foo_bar2" is one word; "(x)" is punctuation around a word */
    s = "foo_bar2 (x) ...";
    n = strlen(s);
    CHECK(tw_word_next(s, n, 0) == 8);
    CHECK(tw_word_next(s, n, 8) == 11);
    CHECK(tw_word_next(s, n, 11) == n);
    CHECK(tw_word_prev(s, n, n) == 10);

    /* marks stay inside their word: c a f e+acute = 6 bytes */
    s = "cafe" ACUTE " ok";
    n = strlen(s);
    CHECK(tw_word_next(s, n, 0) == 6);
    CHECK(tw_word_prev(s, n, 6) == 0);
    CHECK(tw_word_prev(s, n, n) == 7);

    /* an emoji is not a word: "a " 0-2, thumbs 2-6, " " 6, "b" 7 */
    s = "a " THUMB " b";
    n = strlen(s);
    CHECK(tw_word_next(s, n, 1) == 8);
    CHECK(tw_word_prev(s, n, 7) == 0);

    /* jamo-spelled Hangul counts as a word; "中文" too */
    s = JAMO_HAN JAMO_HAN "-中文";
    n = strlen(s);
    CHECK(tw_word_next(s, n, 0) == 18);
    CHECK(tw_word_next(s, n, 18) == n);
    CHECK(tw_word_prev(s, n, n) == 19);
    CHECK(tw_word_prev(s, n, 19) == 0);
}

/* Rows as "start-end start-end ..." */
static void check_wrap(const char *s, size_t width, const char *want, int line)
{
    TwLine *l = NULL;
    size_t k = 0;
    Err e;
    int rc = tw_wrap(s, strlen(s), width, &l, &k, &e);
    char got[1024] = "";
    size_t o = 0;
    for (size_t i = 0; rc == 0 && i < k && o < sizeof got; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%zu-%zu", i ? " " : "", l[i].start, l[i].end);
    CHECKF(rc == 0 && strcmp(got, want) == 0, "line %d: width %zu: rows %s, want %s", line, width, got, want);
    free(l);
}
#define WRAP(s, w, want) check_wrap(s, w, want, __LINE__)

static void test_wrap(void)
{
    WRAP("", 10, "0-0");
    WRAP("hello world", 5, "0-6 6-11");
    WRAP("hello world", 11, "0-11");
    WRAP("hello world", 0, "0-11");
    WRAP("abcdefghij", 4, "0-4 4-8 8-10");
    WRAP(KOREAN, 7, "0-10 10-19");
    WRAP(KOREAN, 5, "0-6 6-10 10-16 16-19");
    WRAP("한국어", 3, "0-3 3-6 6-9");              /* each row leaves a column empty */
    WRAP("한a", 1, "0-3 3-4");                     /* too wide for any row: a row of its own */
    WRAP("ab\n\ncd\n", 10, "0-2 3-3 4-6 7-7");
    WRAP("ab\r\ncd", 10, "0-2 4-6");
    WRAP("aaaa bbbb\ncc", 0, "0-9 10-12");
    WRAP("ab    cd", 4, "0-6 6-8");                    /* the spaces hang past the edge */
    WRAP("a bcdefg", 3, "0-2 2-5 5-8");
    WRAP(FAMILY FAMILY, 3, "0-18 18-36");
    WRAP("e" ACUTE "e" ACUTE "e" ACUTE, 2, "0-6 6-9");
    WRAP("   abc", 3, "0-3 3-6");
    WRAP("ab cd\xc2\xa0" "ef", 6, "0-3 3-9");          /* U+00A0 does not break: "cd ef" is one word */

    /* tw_wrap_line by itself */
    const char *s = "hello world\nx";
    size_t next, end = tw_wrap_line(s, strlen(s), 0, 5, &next);
    CHECK(end == 6 && next == 6);
    end = tw_wrap_line(s, strlen(s), 6, 5, &next);
    CHECK(end == 11 && next == 12);
    end = tw_wrap_line(s, strlen(s), 12, 5, &next);
    CHECK(end == 13 && next == 13);

    /* Cursor offsets to rows and columns. */
    TwLine *l;
    size_t k;
    Err e;
    s = "hello world";
    CHECK(tw_wrap(s, strlen(s), 5, &l, &k, &e) == 0 && k == 2);
    CHECK(tw_wrap_find(l, k, 0) == 0);
    CHECK(tw_wrap_find(l, k, 5) == 0);
    CHECK(tw_wrap_find(l, k, 6) == 1);
    CHECK(tw_wrap_find(l, k, 11) == 1);
    CHECK(tw_width(s + l[1].start, 9 - l[1].start) == 3);
    free(l);
    s = "ab\n\ncd\n";
    CHECK(tw_wrap(s, strlen(s), 10, &l, &k, &e) == 0 && k == 4);
    CHECK(tw_wrap_find(l, k, 2) == 0);
    CHECK(tw_wrap_find(l, k, 3) == 1);
    CHECK(tw_wrap_find(l, k, 4) == 2);
    CHECK(tw_wrap_find(l, k, 6) == 2);
    CHECK(tw_wrap_find(l, k, 7) == 3);
    free(l);
    s = KOREAN;
    CHECK(tw_wrap(s, strlen(s), 5, &l, &k, &e) == 0 && k == 4);
    size_t row = tw_wrap_find(l, k, 13);     /* before 스 */
    CHECK(row == 2 && tw_width(s + l[row].start, 13 - l[row].start) == 2);
    free(l);

    /* Many rows: the row array grows. */
    char big[4001];
    for (int i = 0; i < 1000; i++)
        memcpy(big + 4 * i, "ab\n\n", 4);
    big[4000] = 0;
    CHECK(tw_wrap(big, 4000, 80, &l, &k, &e) == 0 && k == 2001);
    CHECK(l[1999].start == 3999 && l[1999].end == 3999 && l[2000].start == 4000);
    free(l);
}

int main(void)
{
    test_widths();
    test_clusters();
    test_boundaries();
    test_random_boundaries();
    test_cut();
    test_words();
    test_wrap();
    TEST_MAIN_END();
}
