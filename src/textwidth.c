/* textwidth.c - terminal columns, grapheme clusters, words and wrapping
 * (see textwidth.h).
 *
 * libunistring supplies the character properties but not the cluster
 * walk: its u8_grapheme_next decides each boundary from two characters
 * alone (so it splits family emoji and pairs flags wrongly) and its
 * u8_grapheme_prev crashes on ill-formed bytes.  The rules are applied here
 * instead, forward as a small state machine from a known boundary, and
 * backward (tw_prev) by deciding each candidate boundary with a look back
 * at the characters before it.  The two are the same rules written twice;
 * the tests check that they agree on every boundary of random text.
 *
 * Units are characters or ill-formed parts, as utf8_char splits them.
 * Stepping back one unit needs no history: a byte that is not a
 * continuation byte always starts a unit, and a unit is at most 4 bytes,
 * so decoding forward from the last such byte within 4 bytes finds it. */
#include "textwidth.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unigbrk.h>
#include <uniwidth.h>

typedef struct Unit {
    size_t len;
    uint32_t cp;        /* meaningless when bad */
    int bad;
} Unit;

static Unit unit_at(const unsigned char *s, size_t n, size_t pos)
{
    Unit u = {0, 0, 0};
    if (utf8_char(s + pos, n - pos, &u.len) != UTF8_OK) {
        u.bad = 1;
        return u;
    }
    const unsigned char *p = s + pos;
    switch (u.len) {
    case 1: u.cp = p[0]; break;
    case 2: u.cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f); break;
    case 3: u.cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f); break;
    default:
        u.cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
               (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    }
    return u;
}

/* Start of the unit that ends at pos (pos > 0, a unit boundary). */
static size_t unit_prev(const unsigned char *s, size_t n, size_t pos)
{
    size_t lo = pos >= 4 ? pos - 4 : 0, q = pos - 1;
    while (q > lo && (s[q] & 0xc0) == 0x80)
        q--;
    size_t last = q;
    while (q < pos) {
        last = q;
        q += unit_at(s, n, q).len;
    }
    return last;
}

static int is_control(int gbp) { return gbp == GBP_CONTROL || gbp == GBP_CR || gbp == GBP_LF; }
static int is_pict(uint32_t cp) { return uc_is_property_extended_pictographic(cp); }

/* UAX #29 GB6..GB13 between characters of properties a and b, given the
 * context the pairwise rules cannot see: ri, the number of regional
 * indicators in a row ending with a; pict, 2 when a is a U+200D that
 * follows an Extended_Pictographic character and Extend marks (GB11).
 * GB3..GB5 (controls) are decided by the callers. */
static int joins(int a, int b, size_t ri, int pict, int b_pict)
{
    if (a == GBP_L && (b == GBP_L || b == GBP_V || b == GBP_LV || b == GBP_LVT))
        return 1;
    if ((a == GBP_LV || a == GBP_V) && (b == GBP_V || b == GBP_T))
        return 1;
    if ((a == GBP_LVT || a == GBP_T) && b == GBP_T)
        return 1;
    if (b == GBP_EXTEND || b == GBP_ZWJ || b == GBP_SPACINGMARK || a == GBP_PREPEND)
        return 1;
    if (a == GBP_ZWJ && pict == 2 && b_pict)
        return 1;
    return a == GBP_RI && b == GBP_RI && ri % 2 == 1;
}

TwCluster tw_cluster(const char *str, size_t n, size_t pos)
{
    const unsigned char *s = (const unsigned char *)str;
    TwCluster c = {0, 1, TW_TEXT};
    if (pos >= n) {
        c.width = 0;
        return c;
    }
    Unit u = unit_at(s, n, pos);
    c.len = u.len;
    if (u.bad) {
        c.kind = TW_INVALID;
        return c;
    }
    if (u.cp == '\n' || (u.cp == '\r' && pos + 1 < n && s[pos + 1] == '\n')) {
        c.len = u.cp == '\r' ? 2 : 1;
        c.kind = TW_NEWLINE;
        return c;
    }
    int a = uc_graphemeclusterbreak_property(u.cp);
    if (is_control(a)) {
        c.kind = TW_CONTROL;
        return c;
    }
    /* pict: 1 after an Extended_Pictographic character and its Extend
     * marks, 2 after a U+200D that follows those. */
    size_t ri = a == GBP_RI;
    int pict = is_pict(u.cp), wide = 0, emoji = uc_is_property_emoji(u.cp);
    int w = uc_width(u.cp, "UTF-8");
    w = w > 0 ? w : 0;
    /* pictographs joined by U+200D: the sum of their widths (see the header) */
    int zsum = pict ? (w > 1 ? 2 : 1) : 0;
    while (pos + c.len < n) {
        Unit v = unit_at(s, n, pos + c.len);
        if (v.bad)
            break;
        int b = uc_graphemeclusterbreak_property(v.cp), b_pict = is_pict(v.cp);
        if (is_control(b) || !joins(a, b, ri, pict, b_pict))
            break;
        if ((a == GBP_ZWJ && pict == 2 && b_pict) || (a == GBP_RI && b == GBP_RI) ||
            (v.cp == 0xfe0f && emoji))
            wide = 1;
        if (a == GBP_ZWJ && pict == 2 && b_pict) {
            int vw = uc_width(v.cp, "UTF-8");
            zsum += vw > 1 ? 2 : 1;
        }
        if (!w) {
            int vw = uc_width(v.cp, "UTF-8");
            w = vw > 0 ? vw : 0;
        }
        ri = b == GBP_RI ? ri + 1 : 0;
        pict = b_pict ? 1 : pict == 1 && b == GBP_EXTEND ? 1 : pict == 1 && b == GBP_ZWJ ? 2 : 0;
        a = b;
        c.len += v.len;
    }
    if (!w)
        c.kind = TW_CONTROL;
    c.width = wide || w >= 2 ? 2 : 1;
    if (zsum > c.width)
        c.width = zsum;
    return c;
}

/* Whether a cluster boundary lies at pos, deciding from the text before it:
 * the backward twin of tw_cluster's loop. */
static int is_boundary(const unsigned char *s, size_t n, size_t pos)
{
    if (pos == 0 || pos >= n)
        return 1;
    size_t ap = unit_prev(s, n, pos);
    Unit ua = unit_at(s, n, ap), ub = unit_at(s, n, pos);
    if (ua.bad || ub.bad)
        return 1;
    if (ua.cp == '\r' && ub.cp == '\n')
        return 0;
    int a = uc_graphemeclusterbreak_property(ua.cp), b = uc_graphemeclusterbreak_property(ub.cp);
    if (is_control(a) || is_control(b))
        return 1;
    int b_pict = is_pict(ub.cp), pict = 0;
    size_t ri = 0;
    if (a == GBP_ZWJ && b_pict) {
        for (size_t q = ap; q > 0;) {
            q = unit_prev(s, n, q);
            Unit u = unit_at(s, n, q);
            if (u.bad)
                break;
            if (is_pict(u.cp)) {
                pict = 2;
                break;
            }
            if (uc_graphemeclusterbreak_property(u.cp) != GBP_EXTEND)
                break;
        }
    }
    if (a == GBP_RI && b == GBP_RI) {
        ri = 1;
        for (size_t q = ap; q > 0; ri++) {
            q = unit_prev(s, n, q);
            Unit u = unit_at(s, n, q);
            if (u.bad || uc_graphemeclusterbreak_property(u.cp) != GBP_RI)
                break;
        }
    }
    return !joins(a, b, ri, pict, b_pict);
}

size_t tw_next(const char *s, size_t n, size_t pos)
{
    if (pos >= n)
        return n;
    return pos + tw_cluster(s, n, pos).len;
}

size_t tw_prev(const char *str, size_t n, size_t pos)
{
    const unsigned char *s = (const unsigned char *)str;
    if (pos > n)
        pos = n;
    if (pos == 0)
        return 0;
    size_t q = unit_prev(s, n, pos);
    while (q > 0 && !is_boundary(s, n, q))
        q = unit_prev(s, n, q);
    return q;
}

/* A word cluster starts with a letter, a digit or '_'. */
static int is_word(const char *s, size_t n, size_t pos)
{
    Unit u = unit_at((const unsigned char *)s, n, pos);
    return !u.bad && (u.cp == '_' || uc_is_general_category(u.cp, UC_CATEGORY_L) ||
                      uc_is_general_category(u.cp, UC_CATEGORY_N));
}

size_t tw_word_next(const char *s, size_t n, size_t pos)
{
    while (pos < n && !is_word(s, n, pos))
        pos = tw_next(s, n, pos);
    while (pos < n && is_word(s, n, pos))
        pos = tw_next(s, n, pos);
    return pos;
}

size_t tw_word_prev(const char *s, size_t n, size_t pos)
{
    size_t p;
    if (pos > n)
        pos = n;
    while (pos > 0 && !is_word(s, n, p = tw_prev(s, n, pos)))
        pos = p;
    while (pos > 0 && is_word(s, n, p = tw_prev(s, n, pos)))
        pos = p;
    return pos;
}

size_t tw_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t pos = 0; pos < n;) {
        TwCluster c = tw_cluster(s, n, pos);
        w += (size_t)c.width;
        pos += c.len;
    }
    return w;
}

size_t tw_fit(const char *s, size_t n, size_t cols, size_t *width)
{
    size_t pos = 0, w = 0;
    while (pos < n) {
        TwCluster c = tw_cluster(s, n, pos);
        if (w + (size_t)c.width > cols)
            break;
        w += (size_t)c.width;
        pos += c.len;
    }
    if (width)
        *width = w;
    return pos;
}

TwCut tw_cut(const char *s, size_t n, size_t cols, int want_ellipsis)
{
    TwCut r = {0, 0, 0};
    r.len = tw_fit(s, n, cols, &r.width);
    if (r.len == n || !want_ellipsis || cols == 0)
        return r;
    r.len = tw_fit(s, n, cols - 1, &r.width);
    r.width++;
    r.ellipsis = 1;
    return r;
}

char *tw_cut_dup(const char *s, size_t n, size_t cols, int want_ellipsis)
{
    TwCut c = tw_cut(s, n, cols, want_ellipsis);
    size_t extra = c.ellipsis ? sizeof TW_ELLIPSIS - 1 : 0;
    char *out = malloc(c.len + extra + 1);
    if (!out)
        return NULL;
    memcpy(out, s, c.len);
    memcpy(out + c.len, TW_ELLIPSIS, extra);
    out[c.len + extra] = 0;
    return out;
}

/* A break may follow a space, a tab or another space separator, but not a
 * no-break space. */
static int is_space(const char *s, size_t n, size_t pos)
{
    Unit u = unit_at((const unsigned char *)s, n, pos);
    if (u.bad || u.cp == 0xa0 || u.cp == 0x2007 || u.cp == 0x202f)
        return 0;
    return u.cp == '\t' || uc_is_general_category(u.cp, UC_CATEGORY_Zs);
}

size_t tw_wrap_line(const char *s, size_t n, size_t start, size_t width, size_t *next)
{
    /* brk: just after the last run of spaces on this row, 0 if none yet. */
    size_t pos = start, col = 0, brk = 0;
    while (pos < n) {
        TwCluster c = tw_cluster(s, n, pos);
        if (c.kind == TW_NEWLINE) {
            *next = pos + c.len;
            return pos;
        }
        if (is_space(s, n, pos)) {
            col += (size_t)c.width;
            pos += c.len;
            brk = pos;
            continue;
        }
        if (width && col + (size_t)c.width > width && pos > start) {
            *next = brk ? brk : pos;
            return *next;
        }
        col += (size_t)c.width;
        pos += c.len;
    }
    *next = n;
    return n;
}

int tw_wrap(const char *s, size_t n, size_t width, TwLine **lines, size_t *nlines, Err *e)
{
    TwLine *v = NULL;
    size_t k = 0, cap = 0, start = 0;
    for (;;) {
        size_t next, end = tw_wrap_line(s, n, start, width, &next);
        /* After the last row, text that ends with a newline has one more. */
        int last_nl = next >= n && end < n;
        if (k + 2 > cap) {
            size_t c2 = cap ? cap * 2 : 16;
            TwLine *v2 = realloc(v, c2 * sizeof *v);
            if (!v2) {
                free(v);
                return err_set(e, "wrap: out of memory");
            }
            v = v2, cap = c2;
        }
        v[k].start = start, v[k].end = end, k++;
        if (next >= n) {
            if (last_nl)
                v[k].start = v[k].end = n, k++;
            break;
        }
        start = next;
    }
    *lines = v;
    *nlines = k;
    return 0;
}

size_t tw_wrap_find(const TwLine *lines, size_t nlines, size_t pos)
{
    /* The last row whose start <= pos; row 0 starts at 0. */
    size_t lo = 0, hi = nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (lines[mid].start <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}
