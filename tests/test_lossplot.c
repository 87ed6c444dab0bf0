/* test_lossplot.c - the loss chart: bucketing, smoothing, label formatting
 * and the rendered cells.
 *
 * Expected braille is derived by hand from the mapping in lossplot.c (x =
 * step / x_max * (W-1), y = (y_hi - v) / (y_hi - y_lo) * (H-1), rounded
 * half up) and the dot numbering: left column top to bottom 0x01 0x02 0x04
 * 0x40, right column 0x08 0x10 0x20 0x80, character U+2800 + bits.  Larger
 * renders are checked for properties (a descending line is continuous and
 * goes down, log spacing is even) rather than for whole pictures. */
#include "test.h"
#include "lossplot.h"

#include <stdint.h>

static LossPlotCell *grid(int cols, int rows) { return calloc((size_t)cols * rows, sizeof(LossPlotCell)); }

static int same_grid(const LossPlotCell *a, const LossPlotCell *b, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].ch, b[i].ch) != 0 || a[i].style != b[i].style || a[i].dots != b[i].dots)
            return 0;
    return 1;
}

/* The UTF-8 of braille U+2800 + bits. */
static void braille(unsigned bits, char out[4])
{
    out[0] = (char)0xe2;
    out[1] = (char)(0xa0 | bits >> 6);
    out[2] = (char)(0x80 | (bits & 0x3f));
    out[3] = 0;
}

static int is_braille(const char *s, unsigned bits)
{
    char b[4];
    braille(bits, b);
    return strcmp(s, b) == 0;
}

static LossPlotOptions opts(int braille_mode)
{
    LossPlotOptions o;
    lossplot_options_defaults(&o);
    o.braille = braille_mode;
    return o;
}

/* Row of the dot `bit` in a braille cell (-1 if none), column via *col. */
static int bit_pos(int bit, int *col)
{
    static const unsigned char b[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    for (int c = 0; c < 2; c++)
        for (int r = 0; r < 4; r++)
            if (b[c][r] == bit)
                return *col = c, r;
    return -1;
}

/* For every dot column of the grid: the top and bottom dot rows of cells in
 * style st (-1 if none).  Arrays sized cols*2. */
static void dot_extents(const LossPlotCell *g, int cols, int rows, LossPlotStyle st, int *top, int *bot)
{
    for (int x = 0; x < cols * 2; x++)
        top[x] = bot[x] = -1;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const LossPlotCell *cell = &g[r * cols + c];
            if (cell->style != st)
                continue;
            for (int k = 0; k < 8; k++) {
                if (!(cell->dots & 1u << k))
                    continue;
                int dc, dr = bit_pos(1 << k, &dc);
                int x = c * 2 + dc, y = r * 4 + dr;
                if (top[x] < 0 || y < top[x])
                    top[x] = y;
                if (y > bot[x])
                    bot[x] = y;
            }
        }
}

/* ---- tiny hand-computed braille ---- */

static void test_braille_by_hand(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    LossPlotCell *g = grid(2, 1);
    LossPlotOptions o = opts(1);
    o.total_steps = 3;

    /* Values 3,2,1,0 at steps 0..3 on a 4x4 dot area.  Auto range: 0..3
     * plus 5% = -0.15..3.15, clamped to 0..3.15, so y = (3.15-v)/3.15*3:
     * 0.14, 1.10, 2.05, 2.86 -> rows 0,1,2,3; x = 0,1,2,3.  Left cell: dots
     * (0,0)=0x01 and (1,1)=0x10 -> U+2811; right: (0,2)=0x04, (1,3)=0x80 ->
     * U+2884. */
    for (int s = 0; s <= 3; s++)
        lossplot_add_train(&p, s, 3 - s);
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECKF(g[0].dots == 0x11 && is_braille(g[0].ch, 0x11), "dots %#x", g[0].dots);
    CHECKF(g[1].dots == 0x84 && is_braille(g[1].ch, 0x84), "dots %#x", g[1].dots);
    CHECK(g[0].style == LOSSPLOT_TRAIN && g[1].style == LOSSPLOT_TRAIN);

    /* Only the two end points of a rising line, fixed range 0..3: the line
     * from (0,3) to (3,0) must be filled in: (1,2) and (2,1).  Left cell
     * 0x40|0x20 = 0x60, right 0x02|0x08 = 0x0a. */
    lossplot_clear(&p);
    lossplot_add_train(&p, 0, 0);
    lossplot_add_train(&p, 3, 3);
    o.y_min = 0, o.y_max = 3;
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECKF(g[0].dots == 0x60 && is_braille(g[0].ch, 0x60), "dots %#x", g[0].dots);
    CHECKF(g[1].dots == 0x0a && is_braille(g[1].ch, 0x0a), "dots %#x", g[1].dots);

    /* Flat at 1 on 0..3: y = 2 everywhere, dots 0x04|0x20 in both cells. */
    lossplot_clear(&p);
    lossplot_add_train(&p, 0, 1);
    lossplot_add_train(&p, 3, 1);
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECKF(g[0].dots == 0x24 && g[1].dots == 0x24, "dots %#x %#x", g[0].dots, g[1].dots);

    /* No data: nothing drawn, not an error. */
    lossplot_clear(&p);
    o.y_min = o.y_max = NAN;
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(strcmp(g[0].ch, " ") == 0 && g[0].style == LOSSPLOT_EMPTY && g[1].style == LOSSPLOT_EMPTY);
    free(g);
    lossplot_free(&p);
}

/* ---- a descending curve, full layout ---- */

static void test_descending(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    for (int s = 1; s <= 1000; s++)
        lossplot_add_train(&p, s, 1 + 5 * exp(-s / 200.0));
    int cols = 40, rows = 12;
    LossPlotCell *g = grid(cols, rows);
    LossPlotOptions o = opts(1);
    o.total_steps = 1000;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    int top[80], bot[80];
    dot_extents(g, cols, rows, LOSSPLOT_TRAIN, top, bot);
    /* plot area: 7 columns of labels and axis, 10 rows above axis and labels */
    int x_first = 7 * 2, x_last = cols * 2 - 1, H = 10 * 4;
    int gaps = 0, rising = 0, broken = 0;
    for (int x = x_first; x <= x_last; x++) {
        if (top[x] < 0) {
            gaps++;
            continue;
        }
        if (x > x_first && top[x - 1] >= 0) {
            if (top[x] < top[x - 1] || bot[x] < bot[x - 1])
                rising++;
            if (top[x] > bot[x - 1] + 1)
                broken++;
        }
    }
    CHECKF(gaps == 0, "%d dot columns without the line", gaps);
    CHECKF(rising == 0, "%d columns where the line goes up", rising);
    CHECKF(broken == 0, "%d breaks in the line", broken);
    CHECKF(top[x_first] >= 0 && top[x_first] <= 3, "starts at dot row %d", top[x_first]);
    CHECKF(bot[x_last] >= H - 4, "ends at dot row %d of %d", bot[x_last], H);
    int left = 0;
    for (int x = 0; x < x_first; x++)
        left += top[x] >= 0;
    CHECKF(left == 0, "%d train dot columns left of the plot", left);
    /* axis and labels where the layout puts them */
    CHECK(strcmp(g[0 * cols + 6].ch, "\xe2\x94\xa4") == 0 && g[6].style == LOSSPLOT_AXIS);   /* tick at the top label */
    CHECK(strcmp(g[10 * cols + 6].ch, "\xe2\x94\x94") == 0);                                /* corner */
    CHECK(strcmp(g[10 * cols + cols - 1].ch, "\xe2\x94\xb4") == 0);                         /* end tick */
    CHECK(strcmp(g[10 * cols + 7].ch, "\xe2\x94\x80") == 0);                                /* axis */
    CHECK(strcmp(g[11 * cols + 7].ch, "0") == 0 && g[11 * cols + 7].style == LOSSPLOT_LABEL);
    char end[8] = {0};
    for (int i = 0; i < 4; i++)
        end[i] = g[11 * cols + cols - 4 + i].ch[0];
    CHECKF(strcmp(end, "1000") == 0, "end label '%s'", end);
    char mid[8] = {0};
    for (int c = 10, k = 0; c < cols - 5 && k < 7; c++)
        if (g[11 * cols + c].style == LOSSPLOT_LABEL)
            mid[k++] = g[11 * cols + c].ch[0];
    CHECKF(strcmp(mid, "500") == 0, "middle label '%s'", mid);
    free(g);
    lossplot_free(&p);
}

/* ---- log scale ---- */

/* Row of the 'o' in ASCII column c, -1 if none. */
static int o_row(const LossPlotCell *g, int cols, int rows, int c)
{
    for (int r = 0; r < rows; r++)
        if (strcmp(g[r * cols + c].ch, "o") == 0)
            return r;
    return -1;
}

static void test_log_scale(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    lossplot_add_valid(&p, 0, 1);
    lossplot_add_valid(&p, 1, 10);
    lossplot_add_valid(&p, 2, 100);
    int cols = 3, rows = 5;     /* below 8 columns: the plot alone */
    LossPlotCell *g = grid(cols, rows);
    LossPlotOptions o = opts(0);
    o.log_y = 1;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    int r1 = o_row(g, cols, rows, 0), r10 = o_row(g, cols, rows, 1), r100 = o_row(g, cols, rows, 2);
    CHECKF(r1 == 4 && r10 == 2 && r100 == 0, "log rows %d %d %d", r1, r10, r100);
    o.y_min = 1, o.y_max = 100;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    r1 = o_row(g, cols, rows, 0), r10 = o_row(g, cols, rows, 1), r100 = o_row(g, cols, rows, 2);
    CHECKF(r1 == 4 && r10 == 2 && r100 == 0, "fixed log rows %d %d %d", r1, r10, r100);
    /* the same data on a linear axis: 10 sits near 1, not halfway */
    o.log_y = 0;
    o.y_min = o.y_max = NAN;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    r10 = o_row(g, cols, rows, 1);
    CHECKF(r10 == 4, "linear row of 10: %d", r10);

    /* log drops values <= 0 instead of failing */
    lossplot_add_valid(&p, 3, 0);
    o.log_y = 1;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    CHECK(o_row(g, cols, rows, 1) >= 0);

    /* labels on a log axis: top ~ 100 and bottom ~ 1 (rows 0 and 4 of the
     * plot are dot centres; with 5% headroom in log space) */
    lossplot_clear(&p);
    lossplot_add_train(&p, 0, 1);
    lossplot_add_train(&p, 100, 100);
    int C = 30, R = 11;
    LossPlotCell *G = grid(C, R);
    o.braille = 1;
    CHECK(lossplot_render(&p, C, R, &o, G, &e) == 0);
    char top[8] = {0}, bottom[8] = {0};
    for (int c = 0; c < LOSSPLOT_LABEL_W; c++) {
        top[c] = G[c].ch[0];
        bottom[c] = G[8 * C + c].ch[0];
    }
    double vt = atof(top), vb = atof(bottom);
    CHECKF(vt > 80 && vt < 130, "top label '%s'", top);
    CHECKF(vb > 0.75 && vb < 1.3, "bottom label '%s'", bottom);
    free(G);
    free(g);
    lossplot_free(&p);
}

/* ---- smoothing ---- */

static void test_ema(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    lossplot_add_train(&p, 1, 4);
    lossplot_add_train(&p, 2, 2);
    lossplot_add_train(&p, 3, 3);
    /* b = 0.5: ema 2, 2, 2.5; debiased by 1-0.5, 1-0.25, 1-0.125 */
    LossPlotPoint pt[4];
    CHECK(lossplot_points(&p, LOSSPLOT_TRAIN, 0.5, pt, 4) == 3);
    CHECK_NEAR(pt[0].value, 4.0, 1e-12);
    CHECK_NEAR(pt[1].value, 2.0 / 0.75, 1e-12);
    CHECK_NEAR(pt[2].value, 2.5 / 0.875, 1e-12);
    CHECK(pt[2].step == 3 && pt[2].lo == pt[2].value && pt[2].hi == pt[2].value);
    /* unsmoothed: the raw values */
    CHECK(lossplot_points(&p, LOSSPLOT_TRAIN, 0, pt, 4) == 3);
    CHECK(pt[1].value == 2 && pt[1].lo == 2 && pt[1].hi == 2 && pt[1].step == 2);

    /* After many merges (64 buckets for 10000 points) the EMA still tracks
     * the exact one, because a bucket counts as its n points. */
    LossPlot q;
    CHECK(lossplot_init(&q, 64, &e) == 0);
    double exact = 0, bp = 1, b = 0.9;
    for (int s = 0; s < 10000; s++) {
        double v = 1 + 1.0 / (1 + s / 100.0);
        lossplot_add_train(&q, s, v);
        exact = b * exact + (1 - b) * v;
        bp *= b;
    }
    exact /= 1 - bp;
    LossPlotPoint qp[64];
    size_t n = lossplot_points(&q, LOSSPLOT_TRAIN, b, qp, 64);
    CHECK(n > 1 && n <= 64);
    CHECKF(fabs(qp[n - 1].value - exact) < 1e-3 * exact, "ema %g vs exact %g", qp[n - 1].value, exact);

    /* the smoothing option changes the drawing of a noisy line */
    lossplot_clear(&p);
    for (int s = 0; s < 200; s++)
        lossplot_add_train(&p, s, s % 2 ? 3.0 : 1.0);
    LossPlotCell *g1 = grid(20, 6), *g2 = grid(20, 6);
    LossPlotOptions o = opts(1);
    CHECK(lossplot_render(&p, 20, 6, &o, g1, &e) == 0);
    o.smooth = 1;
    CHECK(lossplot_render(&p, 20, 6, &o, g2, &e) == 0);
    CHECK(!same_grid(g1, g2, 120));
    free(g1);
    free(g2);
    lossplot_free(&q);
    lossplot_free(&p);
}

/* ---- bounded memory, spikes survive ---- */

static void test_bucketing(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 4, &e) == 0);
    for (int s = 0; s < 16; s++)
        lossplot_add_train(&p, s, s == 5 ? 9.0 : s == 11 ? -1.0 : 1.0);
    const LossSeries *t = &p.s[0];
    CHECKF(t->n <= 4, "%zu buckets", t->n);
    double mx = -INFINITY, mn = INFINITY, sum = 0;
    long pts = 0;
    for (size_t i = 0; i < t->n; i++) {
        mx = fmax(mx, t->b[i].max);
        mn = fmin(mn, t->b[i].min);
        sum += t->b[i].sum;
        pts += t->b[i].n;
        if (t->b[i].step_lo <= 5 && 5 <= t->b[i].step_hi)
            CHECK(t->b[i].max == 9.0);
    }
    CHECK(mx == 9.0 && mn == -1.0 && pts == 16 && sum == 14 + 9 - 1);
    lossplot_free(&p);

    CHECK(lossplot_init(&p, 0, &e) == 0);
    LossBucket *block = p.block;
    for (long s = 0; s < 1000000; s++)
        lossplot_add_train(&p, s, s == 123457 ? 50.0 : 1.0 + 0.001 * (s % 7));
    t = &p.s[0];
    CHECK(p.block == block && t->cap == LOSSPLOT_DEFAULT_POINTS);
    CHECKF(t->n <= t->cap && t->n >= t->cap / 2, "%zu buckets of %zu", t->n, t->cap);
    CHECK(t->count == 1000000 && t->last_step == 999999);
    pts = 0;
    mx = -INFINITY;
    int untiled = 0;
    for (size_t i = 0; i < t->n; i++) {
        pts += t->b[i].n;
        mx = fmax(mx, t->b[i].max);
        untiled += i > 0 && t->b[i].step_lo != t->b[i - 1].step_hi + 1;   /* buckets tile the steps */
    }
    CHECK(pts == 1000000 && untiled == 0 && t->b[0].step_lo == 0 && t->b[t->n - 1].step_hi == 999999);
    CHECK(mx == 50.0);
    /* the spike is drawn: its column reaches the top, the rest stay low */
    int cols = 60, rows = 15;
    LossPlotCell *g = grid(cols, rows);
    LossPlotOptions o = opts(1);
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    int top[120], bot[120];
    dot_extents(g, cols, rows, LOSSPLOT_TRAIN, top, bot);
    int high = 0;
    for (int x = 0; x < cols * 2; x++)
        if (top[x] >= 0 && top[x] <= 4)
            high++;
    CHECKF(high >= 1 && high <= 3, "%d dot columns near the top", high);
    free(g);
    lossplot_free(&p);
}

/* ---- NaN, inf and negative steps are ignored ---- */

static void test_nan(void)
{
    LossPlot a, b;
    Err e;
    CHECK(lossplot_init(&a, 0, &e) == 0);
    CHECK(lossplot_init(&b, 0, &e) == 0);
    for (int s = 0; s < 50; s++) {
        double v = 2 + sin(s / 5.0);
        lossplot_add_train(&a, s, v);
        lossplot_add_train(&b, s, v);
        if (s % 10 == 3) {
            lossplot_add_train(&a, s, NAN);
            lossplot_add_train(&a, s, INFINITY);
            lossplot_add_valid(&a, s, -INFINITY);
            lossplot_add_train(&a, -1, 7);
        }
    }
    CHECK(a.s[0].count == 50 && a.s[1].count == 0 && a.s[0].last == b.s[0].last);
    LossPlotCell *ga = grid(30, 8), *gb = grid(30, 8);
    LossPlotOptions o = opts(1);
    CHECK(lossplot_render(&a, 30, 8, &o, ga, &e) == 0);
    CHECK(lossplot_render(&b, 30, 8, &o, gb, &e) == 0);
    CHECK(same_grid(ga, gb, 240));
    /* and they would have shown: a real outlier changes the picture */
    lossplot_add_train(&b, 50, 7);
    CHECK(lossplot_render(&b, 30, 8, &o, gb, &e) == 0);
    CHECK(!same_grid(ga, gb, 240));
    free(ga);
    free(gb);
    lossplot_free(&a);
    lossplot_free(&b);
}

/* ---- ASCII mode, every series ---- */

static void test_ascii(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    for (int s = 0; s <= 300; s++) {
        lossplot_add(&p, LOSSPLOT_PREV_TRAIN, s, 3 * exp(-s / 80.0) + 0.5);
        if (s % 50 == 0)
            lossplot_add(&p, LOSSPLOT_PREV_VALID, s, 3 * exp(-s / 80.0) + 0.9);
    }
    for (int s = 0; s <= 150; s++) {
        lossplot_add_train(&p, s, 3 * exp(-s / 60.0) + 0.3 + 0.2 * (s % 3));
        if (s % 50 == 25)
            lossplot_add_valid(&p, s, 3 * exp(-s / 60.0) + 1.2);
    }
    int cols = 60, rows = 15;
    LossPlotCell *g = grid(cols, rows);
    LossPlotOptions o = opts(0);
    o.smooth = 1;
    o.total_steps = 300;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    int non_ascii = 0, long_cells = 0, n_style[8] = {0}, n_o = 0;
    for (int i = 0; i < cols * rows; i++) {
        for (const char *c = g[i].ch; *c; c++)
            if ((unsigned char)*c >= 0x80)
                non_ascii++;
        if (strlen(g[i].ch) != 1)
            long_cells++;
        n_style[g[i].style]++;
        n_o += strcmp(g[i].ch, "o") == 0 && g[i].style == LOSSPLOT_VALID;
    }
    CHECKF(non_ascii == 0, "%d non-ASCII bytes", non_ascii);
    CHECKF(long_cells == 0, "%d cells not one character", long_cells);
    CHECK(n_style[LOSSPLOT_TRAIN] > 10 && n_style[LOSSPLOT_PREV_TRAIN] > 10);
    CHECK(n_style[LOSSPLOT_VALID] > 0 && n_style[LOSSPLOT_PREV_VALID] > 0);
    CHECK(n_style[LOSSPLOT_AXIS] >= rows - 2 + cols - 6 && n_style[LOSSPLOT_LABEL] > 0);
    CHECKF(n_o == 3, "%d validation points marked", n_o);

    /* braille mode: plot cells are braille, axes box drawing, nothing else */
    o.braille = 1;
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    int bad = 0;
    for (int i = 0; i < cols * rows; i++) {
        const unsigned char *c = (const unsigned char *)g[i].ch;
        LossPlotStyle st = g[i].style;
        if (st >= LOSSPLOT_TRAIN)
            bad += !(c[0] == 0xe2 && c[1] >= 0xa0 && c[1] <= 0xa3 && c[3] == 0 && g[i].dots != 0 &&
                     is_braille(g[i].ch, g[i].dots));
        else if (st == LOSSPLOT_AXIS)
            bad += !(c[0] == 0xe2 && c[1] == 0x94);
        else
            bad += !(c[0] < 0x80 && c[1] == 0);
    }
    CHECKF(bad == 0, "%d cells with the wrong kind of character", bad);
    free(g);
    lossplot_free(&p);
}

/* ---- labels ---- */

static void test_format(void)
{
    char b[16];
    CHECK(lossplot_format(b, sizeof b, 2.351, 6, 3) == 4 && strcmp(b, "2.35") == 0);
    CHECK(lossplot_format(b, sizeof b, 0.012, 6, 3) == 5 && strcmp(b, "0.012") == 0);
    CHECK(lossplot_format(b, sizeof b, 0.001, 6, 3) == 4 && strcmp(b, "1e-3") == 0);
    CHECK(lossplot_format(b, sizeof b, 0.00015, 6, 3) == 6 && strcmp(b, "1.5e-4") == 0);
    CHECK(lossplot_format(b, sizeof b, 1234567, 6, 3) == 6 && strcmp(b, "1.23e6") == 0);
    CHECK(lossplot_format(b, sizeof b, 12345, 6, 3) == 5 && strcmp(b, "12345") == 0);
    CHECK(lossplot_format(b, sizeof b, 2.5, 6, 3) == 3 && strcmp(b, "2.5") == 0);
    CHECK(lossplot_format(b, sizeof b, 10, 6, 3) == 2 && strcmp(b, "10") == 0);
    CHECK(lossplot_format(b, sizeof b, 9.999, 6, 3) == 2 && strcmp(b, "10") == 0);
    CHECK(lossplot_format(b, sizeof b, 0, 6, 3) == 1 && strcmp(b, "0") == 0);
    CHECK(lossplot_format(b, sizeof b, -0.25, 6, 3) == 5 && strcmp(b, "-0.25") == 0);
    CHECK(lossplot_format(b, sizeof b, 2.3456, 6, 5) == 6 && strcmp(b, "2.3456") == 0);
    CHECK(lossplot_format(b, sizeof b, 2.3456, 3, 5) == 3 && strcmp(b, "2.3") == 0);
    CHECK(lossplot_format(b, sizeof b, 1.5e-300, 3, 3) == -1 && b[0] == 0);
    CHECK(lossplot_format(b, 4, 123.456, 10, 3) == 3 && strcmp(b, "123") == 0);   /* width clamped to size */
    /* every magnitude fits in 6 columns and reads back close */
    int too_long = 0, off = 0, coarse = 0;
    for (int k = -15; k <= 15; k++)
        for (int j = 0; j < 5; j++)
            for (int sign = -1; sign <= 1; sign += 2) {
                static const double m[5] = {1, 1.5, 2.345, 6.789, 9.99};
                double v = sign * m[j] * pow(10, k);
                int n = lossplot_format(b, sizeof b, v, 6, 3);
                if (n < 0 || n > 6 || (int)strlen(b) != n) {
                    too_long++;
                    continue;
                }
                double r = strtod(b, NULL);
                if (fabs(r - v) > 0.501 * pow(10, k))   /* half a leading digit (1.5e-11 may round down) */
                    off++;
                if (sign > 0 && k >= -2 && k < 4 && fabs(r - v) > 0.005 * v)
                    coarse++;                           /* losses get 3 digits */
            }
    CHECKF(too_long == 0, "%d values did not fit", too_long);
    CHECKF(off == 0, "%d values read back wrong", off);
    CHECKF(coarse == 0, "%d loss-range values lost digits", coarse);
}

static void read_label(const LossPlotCell *g, int cols, int row, char *out)
{
    int k = 0;
    for (int c = 0; c < LOSSPLOT_LABEL_W; c++)
        if (g[row * cols + c].style == LOSSPLOT_LABEL)
            out[k++] = g[row * cols + c].ch[0];
    out[k] = 0;
}

static void test_render_labels(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    /* a narrow range: labels need more digits to differ */
    for (int s = 0; s <= 100; s++)
        lossplot_add_train(&p, s, 2.35 + 0.001 * s / 100);
    int cols = 30, rows = 12;
    LossPlotCell *g = grid(cols, rows);
    LossPlotOptions o = opts(1);
    CHECK(lossplot_render(&p, cols, rows, &o, g, &e) == 0);
    /* plot rows 0..9, five labels at 0, 2, 5, 7, 9 (every other, rounded) */
    char lab[5][8];
    int lrows[5] = {0, 2, 5, 7, 9}, distinct = 1, right = 1, outside = 0;
    for (int i = 0; i < 5; i++) {
        read_label(g, cols, lrows[i], lab[i]);
        if (i > 0 && (strcmp(lab[i], lab[i - 1]) == 0 || atof(lab[i]) >= atof(lab[i - 1])))
            distinct = 0;
        int n = (int)strlen(lab[i]);
        if (n == 0 || g[lrows[i] * cols + LOSSPLOT_LABEL_W - 1].style != LOSSPLOT_LABEL)
            right = 0;
    }
    CHECKF(distinct, "labels %s %s %s %s %s", lab[0], lab[1], lab[2], lab[3], lab[4]);
    CHECK(right);
    CHECKF(atof(lab[0]) > 2.3505 && atof(lab[0]) < 2.3511, "top %s", lab[0]);
    CHECKF(atof(lab[4]) > 2.3499 && atof(lab[4]) < 2.3505, "bottom %s", lab[4]);
    for (int r = 0; r < 10; r++)
        for (int c = LOSSPLOT_LABEL_W; c < cols; c++)
            outside += g[r * cols + c].style == LOSSPLOT_LABEL;
    CHECKF(outside == 0, "%d label cells right of the label column", outside);
    free(g);
    lossplot_free(&p);
}

/* ---- overlap ---- */

static void test_overlap(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    LossPlotCell *g = grid(2, 1);
    LossPlotOptions o = opts(1);
    o.total_steps = 3;
    o.y_min = 0, o.y_max = 3;
    /* dots: (step s, value v) -> (x = s, y = 3 - v) on 4x4 */
    lossplot_add(&p, LOSSPLOT_PREV_TRAIN, 0, 3);    /* (0,0) 0x01, cell 0 */
    lossplot_add(&p, LOSSPLOT_PREV_VALID, 3, 0);    /* (3,3) 0x80, cell 1 */
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[0].style == LOSSPLOT_PREV_TRAIN && g[0].dots == 0x01);
    CHECK(g[1].style == LOSSPLOT_PREV_VALID && g[1].dots == 0x80);
    lossplot_clear_previous(&p);
    lossplot_add(&p, LOSSPLOT_PREV_TRAIN, 2, 3);   /* prev train line (2,0)-(3,0): 0x01|0x08 in cell 1 */
    lossplot_add(&p, LOSSPLOT_PREV_TRAIN, 3, 3);
    lossplot_add(&p, LOSSPLOT_PREV_VALID, 3, 0);   /* (3,3) 0x80 in cell 1 */
    lossplot_add_train(&p, 1, 2);                  /* (1,1) 0x10 in cell 0 */
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[0].style == LOSSPLOT_TRAIN && g[0].dots == 0x10);
    /* prev valid outranks prev train; the dots are the union */
    CHECKF(g[1].style == LOSSPLOT_PREV_VALID && g[1].dots == (0x01 | 0x08 | 0x80), "style %d dots %#x", g[1].style,
           g[1].dots);
    /* this run outranks the previous one: a train point in cell 1 */
    lossplot_clear(&p);
    lossplot_add_train(&p, 3, 1);                  /* (3,2) 0x20 */
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECKF(g[1].style == LOSSPLOT_TRAIN && g[1].dots == (0x01 | 0x08 | 0x80 | 0x20), "style %d dots %#x", g[1].style,
           g[1].dots);
    /* validation outranks train */
    lossplot_add_valid(&p, 2, 2);                  /* (2,1) 0x02 */
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[1].style == LOSSPLOT_VALID && g[1].dots == (0x01 | 0x08 | 0x80 | 0x20 | 0x02));
    /* ASCII: one character, the winner's; 'o' for a validation point */
    o.braille = 0;
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[1].style == LOSSPLOT_VALID && strcmp(g[1].ch, "o") == 0);
    lossplot_clear(&p);
    lossplot_add_train(&p, 3, 1);
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[1].style == LOSSPLOT_TRAIN && strcmp(g[1].ch, "*") == 0);
    /* a previous point alone in cell 0, then the previous run hidden */
    lossplot_add(&p, LOSSPLOT_PREV_VALID, 0, 1);
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[0].style == LOSSPLOT_PREV_VALID && strcmp(g[0].ch, "x") == 0);
    o.show_previous = 0;
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(g[0].style == LOSSPLOT_EMPTY && g[1].style == LOSSPLOT_TRAIN);
    free(g);
    lossplot_free(&p);
}

/* ---- sizes, x range, previous runs ---- */

static int count_style(const LossPlotCell *g, int n, LossPlotStyle st)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += g[i].style == st;
    return k;
}

static void test_sizes(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 0, &e) == 0);
    for (int s = 1; s <= 500; s++)
        lossplot_add_train(&p, s, 4.0 / (1 + s / 50.0));
    lossplot_add_valid(&p, 250, 1.5);
    LossPlotCell *g = grid(20, 5);
    LossPlotOptions o = opts(1);
    o.total_steps = 1000;
    CHECK(lossplot_render(&p, 20, 5, &o, g, &e) == 0);
    CHECK(count_style(g, 100, LOSSPLOT_LABEL) > 0 && count_style(g, 100, LOSSPLOT_TRAIN) > 0);
    CHECK(strcmp(g[4 * 20 + 7].ch, "0") == 0);
    CHECK(strcmp(g[4 * 20 + 19].ch, "0") == 0 && strcmp(g[4 * 20 + 16].ch, "1") == 0);  /* "1000" at the end */
    /* 10x4: axes, no labels */
    CHECK(lossplot_render(&p, 10, 4, &o, g, &e) == 0);
    CHECK(count_style(g, 40, LOSSPLOT_LABEL) == 0 && count_style(g, 40, LOSSPLOT_AXIS) == 3 + 10);
    /* 2x1: the plot alone */
    CHECK(lossplot_render(&p, 2, 1, &o, g, &e) == 0);
    CHECK(count_style(g, 2, LOSSPLOT_TRAIN) + count_style(g, 2, LOSSPLOT_VALID) == 2);
    /* too small: an error and blank cells */
    g[0].style = LOSSPLOT_TRAIN;
    e.msg[0] = 0;
    CHECK(lossplot_render(&p, 1, 1, &o, g, &e) == -1);
    CHECK(strstr(e.msg, "too small") != NULL && g[0].style == LOSSPLOT_EMPTY && strcmp(g[0].ch, " ") == 0);
    CHECK(lossplot_render(&p, 0, 5, &o, g, &e) == -1);
    CHECK(lossplot_render(&p, 5, 5, &o, NULL, &e) == -1);
    free(g);

    /* x range: 0..max(total_steps, last step) */
    lossplot_clear(&p);
    lossplot_add_train(&p, 50, 1);
    g = grid(11, 1);
    o.braille = 0;
    o.total_steps = 100;
    CHECK(lossplot_render(&p, 11, 1, &o, g, &e) == 0);
    CHECK(g[5].style == LOSSPLOT_TRAIN && count_style(g, 11, LOSSPLOT_TRAIN) == 1);
    lossplot_add_train(&p, 200, 1);   /* past the plan: the axis grows */
    CHECK(lossplot_render(&p, 11, 1, &o, g, &e) == 0);
    /* 50 / 200 * 10 = 2.5 rounds up to 3; the line runs on to 10 */
    CHECK(g[2].style == LOSSPLOT_EMPTY && g[3].style == LOSSPLOT_TRAIN && g[10].style == LOSSPLOT_TRAIN);
    CHECK(count_style(g, 11, LOSSPLOT_TRAIN) == 8);
    free(g);
    lossplot_free(&p);
}

static void test_previous(void)
{
    LossPlot p;
    Err e;
    CHECK(lossplot_init(&p, 8, &e) == 0);
    long ts[20], vs[2] = {10, 20};
    double tv[20], vv[2] = {1.5, 1.2};
    for (int i = 0; i < 20; i++) {
        ts[i] = i + 1;
        tv[i] = 3.0 - 0.1 * i;
        lossplot_add_train(&p, ts[i], tv[i]);
    }
    lossplot_add_valid(&p, vs[0], vv[0]);
    lossplot_add_valid(&p, vs[1], vv[1]);
    /* this run becomes the previous one */
    lossplot_set_previous(&p, &p);
    lossplot_clear(&p);
    CHECK(p.s[0].n == 0 && p.s[1].n == 0 && p.s[0].count == 0);
    CHECK(p.s[2].count == 20 && p.s[3].count == 2 && p.s[2].last == tv[19]);
    LossPlotPoint a[8], b[8];
    size_t na = lossplot_points(&p, LOSSPLOT_PREV_TRAIN, 0, a, 8);
    /* loading the same arrays gives the same buckets */
    LossPlot q;
    CHECK(lossplot_init(&q, 8, &e) == 0);
    lossplot_add_train(&q, 99, 9);    /* this run is left alone */
    lossplot_load_previous(&q, ts, tv, 20, vs, vv, 2);
    size_t nb = lossplot_points(&q, LOSSPLOT_PREV_TRAIN, 0, b, 8);
    CHECK(na == nb && na <= 8 && na > 0);
    int same = 1;
    for (size_t i = 0; i < na && i < nb; i++)
        same &= a[i].step == b[i].step && a[i].value == b[i].value && a[i].lo == b[i].lo && a[i].hi == b[i].hi;
    CHECK(same);
    CHECK(q.s[0].count == 1 && q.s[3].count == 2);
    /* into a smaller plot: still bounded, nothing lost */
    LossPlot r;
    CHECK(lossplot_init(&r, 2, &e) == 0);
    lossplot_set_previous(&r, &q);    /* q's current run: the one point */
    CHECK(r.s[2].n == 1 && r.s[2].b[0].step_lo == 99);
    lossplot_set_previous(&r, &p);    /* p's current run is empty */
    CHECK(r.s[2].n == 0);
    for (int i = 0; i < 20; i++)
        lossplot_add_train(&p, ts[i], tv[i]);
    lossplot_set_previous(&r, &p);
    long pts = 0;
    for (size_t i = 0; i < r.s[2].n; i++)
        pts += r.s[2].b[i].n;
    CHECK(r.s[2].n <= 2 && pts == 20 && r.s[2].b[0].max == 3.0);
    /* drawn in the previous styles only */
    lossplot_clear(&p);
    LossPlotCell *g = grid(20, 6);
    LossPlotOptions o = opts(1);
    CHECK(lossplot_render(&p, 20, 6, &o, g, &e) == 0);
    CHECK(count_style(g, 120, LOSSPLOT_PREV_TRAIN) > 0 && count_style(g, 120, LOSSPLOT_TRAIN) == 0);
    free(g);
    lossplot_free(&r);
    lossplot_free(&q);
    lossplot_free(&p);
}

int main(void)
{
    test_braille_by_hand();
    test_descending();
    test_log_scale();
    test_ema();
    test_bucketing();
    test_nan();
    test_ascii();
    test_format();
    test_render_labels();
    test_overlap();
    test_sizes();
    test_previous();
    TEST_MAIN_END();
}
