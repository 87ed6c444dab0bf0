/* lossplot.c - the loss chart: bucketed series and their rendering into
 * cells (see lossplot.h for the model and the drawing rules).
 *
 * Rendering works in dot coordinates: the plot area is W x H dots, 2 x 4 a
 * cell in braille mode and 1 x 1 in ASCII mode, with (0, 0) at the top
 * left.  Step s maps to x = s / x_max * (W-1) and a (transformed) value t to
 * y = (y_max - t) / (y_max - y_min) * (H-1); segments are clipped to the
 * area in floating point first (a fixed y range may cut a line), then
 * rounded and rasterised with Bresenham.  A dot lands straight in its cell:
 * braille cells OR in the dot's bit, so the cell's `dots` field is the
 * canvas and no scratch buffer is needed.  Series are drawn lowest rank
 * first and each dot sets the cell's style, which gives the overlap rule. */
#include "lossplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSER LOSSPLOT_NSERIES
#define SER(style) ((int)(style) - LOSSPLOT_TRAIN)

/* Box drawing, U+2502 U+2500 U+2514 U+2524 U+2534, in UTF-8. */
#define BOX_V   "\xe2\x94\x82"
#define BOX_H   "\xe2\x94\x80"
#define BOX_BL  "\xe2\x94\x94"
#define BOX_VT  "\xe2\x94\xa4"
#define BOX_HT  "\xe2\x94\xb4"

void lossplot_options_defaults(LossPlotOptions *o)
{
    memset(o, 0, sizeof *o);
    o->braille = 1;
    o->smoothing = 0.9;
    o->show_previous = 1;
    o->y_min = o->y_max = NAN;
}

static void series_reset(LossSeries *s)
{
    s->n = 0;
    s->width = 1;
    s->count = 0;
    s->last_step = -1;
    s->last = NAN;
}

int lossplot_init(LossPlot *p, size_t max_points, Err *e)
{
    memset(p, 0, sizeof *p);
    size_t cap = max_points ? max_points : LOSSPLOT_DEFAULT_POINTS;
    if (cap < 2)
        cap = 2;
    p->block = calloc(cap * NSER, sizeof *p->block);
    if (!p->block)
        return err_set(e, "lossplot: out of memory for %zu points", cap * NSER);
    for (int i = 0; i < NSER; i++) {
        p->s[i].b = p->block + (size_t)i * cap;
        p->s[i].cap = cap;
        series_reset(&p->s[i]);
    }
    return 0;
}

void lossplot_free(LossPlot *p)
{
    free(p->block);
    memset(p, 0, sizeof *p);
}

static void bucket_merge(LossBucket *a, const LossBucket *b)
{
    if (b->step_lo < a->step_lo)
        a->step_lo = b->step_lo;
    if (b->step_hi > a->step_hi)
        a->step_hi = b->step_hi;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
    a->sum += b->sum;
    a->n += b->n;
}

/* Halves the bucket count by merging neighbours; an odd last bucket moves
 * down alone. */
static void series_compact(LossSeries *s)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < s->n; i += 2, k++) {
        LossBucket m = s->b[i];
        bucket_merge(&m, &s->b[i + 1]);
        s->b[k] = m;
    }
    if (s->n % 2)
        s->b[k++] = s->b[s->n - 1];
    s->n = k;
    if (s->width < (1L << 60))
        s->width *= 2;
}

/* Appends a bucket (a single point, or a whole bucket when copying a
 * series), into the last one while that stays within width.  A copied
 * bucket may hold more than width points; the next merge evens it out. */
static void series_push(LossSeries *s, const LossBucket *b)
{
    if (s->n == s->cap && s->b[s->n - 1].n + b->n > s->width)
        series_compact(s);
    if (s->n > 0 && s->b[s->n - 1].n + b->n <= s->width)
        bucket_merge(&s->b[s->n - 1], b);
    else
        s->b[s->n++] = *b;
}

void lossplot_add(LossPlot *p, LossPlotStyle series, long step, double value)
{
    if (series < LOSSPLOT_TRAIN || series > LOSSPLOT_PREV_VALID || step < 0 || !isfinite(value))
        return;
    LossSeries *s = &p->s[SER(series)];
    LossBucket b = {step, step, value, value, value, 1};
    series_push(s, &b);
    s->count++;
    s->last_step = step;
    s->last = value;
}

void lossplot_add_train(LossPlot *p, long step, double value) { lossplot_add(p, LOSSPLOT_TRAIN, step, value); }
void lossplot_add_valid(LossPlot *p, long step, double value) { lossplot_add(p, LOSSPLOT_VALID, step, value); }

void lossplot_clear(LossPlot *p)
{
    series_reset(&p->s[SER(LOSSPLOT_TRAIN)]);
    series_reset(&p->s[SER(LOSSPLOT_VALID)]);
}

void lossplot_clear_previous(LossPlot *p)
{
    series_reset(&p->s[SER(LOSSPLOT_PREV_TRAIN)]);
    series_reset(&p->s[SER(LOSSPLOT_PREV_VALID)]);
}

static void series_copy(LossSeries *dst, const LossSeries *src)
{
    series_reset(dst);
    for (size_t i = 0; i < src->n; i++)
        series_push(dst, &src->b[i]);
    dst->count = src->count;
    dst->last_step = src->last_step;
    dst->last = src->last;
}

void lossplot_set_previous(LossPlot *dst, const LossPlot *src)
{
    series_copy(&dst->s[SER(LOSSPLOT_PREV_TRAIN)], &src->s[SER(LOSSPLOT_TRAIN)]);
    series_copy(&dst->s[SER(LOSSPLOT_PREV_VALID)], &src->s[SER(LOSSPLOT_VALID)]);
}

void lossplot_load_previous(LossPlot *p, const long *train_steps, const double *train_values, size_t n_train,
                            const long *valid_steps, const double *valid_values, size_t n_valid)
{
    lossplot_clear_previous(p);
    for (size_t i = 0; i < n_train; i++)
        lossplot_add(p, LOSSPLOT_PREV_TRAIN, train_steps[i], train_values[i]);
    for (size_t i = 0; i < n_valid; i++)
        lossplot_add(p, LOSSPLOT_PREV_VALID, valid_steps[i], valid_values[i]);
}

/* Walks a series' buckets as drawn points, carrying the EMA state. */
typedef struct PointIter {
    const LossSeries *s;
    size_t i;
    double beta;            /* 0: raw buckets */
    double ema, bpow;       /* biased average, beta^(points so far) */
} PointIter;

static void iter_start(PointIter *it, const LossSeries *s, double beta)
{
    it->s = s;
    it->i = 0;
    it->beta = beta > 0 && beta < 1 ? beta : 0;
    it->ema = 0;
    it->bpow = 1;
}

static int iter_next(PointIter *it, LossPlotPoint *pt)
{
    if (it->i >= it->s->n)
        return 0;
    const LossBucket *b = &it->s->b[it->i++];
    double mean = b->sum / (double)b->n;
    if (it->beta > 0) {
        /* n equal points of value mean, folded in at once */
        double bn = pow(it->beta, (double)b->n);
        it->ema = bn * it->ema + (1 - bn) * mean;
        it->bpow *= bn;
        pt->step = (double)b->step_hi;
        pt->value = pt->lo = pt->hi = it->ema / (1 - it->bpow);
    } else {
        pt->step = 0.5 * ((double)b->step_lo + (double)b->step_hi);
        pt->value = mean;
        pt->lo = b->min;
        pt->hi = b->max;
    }
    return 1;
}

size_t lossplot_points(const LossPlot *p, LossPlotStyle series, double smoothing, LossPlotPoint *out, size_t max)
{
    if (series < LOSSPLOT_TRAIN || series > LOSSPLOT_PREV_VALID)
        return 0;
    PointIter it;
    iter_start(&it, &p->s[SER(series)], smoothing);
    LossPlotPoint pt;
    size_t n = 0;
    while (iter_next(&it, &pt)) {
        if (n < max)
            out[n] = pt;
        n++;
    }
    return n;
}

/* ---- number formatting ---- */

static void strip_zeros(char *t)
{
    if (!strchr(t, '.'))
        return;
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == '0')
        t[--n] = 0;
    if (n > 0 && t[n - 1] == '.')
        t[--n] = 0;
}

static int put_fit(char *buf, size_t size, const char *t, int width)
{
    size_t n = strlen(t);
    if (n > (size_t)width || n >= size)
        return -1;
    memcpy(buf, t, n + 1);
    return (int)n;
}

int lossplot_format(char *buf, size_t size, double v, int width, int sig)
{
    if (!buf || size == 0)
        return -1;
    buf[0] = 0;
    if (width < 1)
        return -1;
    if ((size_t)width >= size)
        width = (int)size - 1;
    sig = sig < 1 ? 1 : sig > 15 ? 15 : sig;
    char t[64];
    if (isnan(v))
        return put_fit(buf, size, "nan", width);
    if (isinf(v))
        return put_fit(buf, size, v < 0 ? "-inf" : "inf", width);
    if (v == 0)
        return put_fit(buf, size, "0", width);
    double a = fabs(v);
    /* plain decimals read best; below 0.01 they spend the width on zeros */
    if (a >= 1e-2 && a < 1e15) {
        int e10 = (int)floor(log10(a));
        for (int s = sig; s >= 1; s--) {
            int dec = s - 1 - e10;
            snprintf(t, sizeof t, "%.*f", dec > 0 ? dec : 0, v);
            strip_zeros(t);
            int n = put_fit(buf, size, t, width);
            if (n >= 0)
                return n;
        }
    }
    for (int s = sig; s >= 1; s--) {
        snprintf(t, sizeof t, "%.*e", s - 1, v);
        char *ep = strchr(t, 'e');
        if (!ep)
            continue;
        int ex = atoi(ep + 1);
        *ep = 0;
        strip_zeros(t);
        char u[80];
        snprintf(u, sizeof u, "%se%d", t, ex);
        int n = put_fit(buf, size, u, width);
        if (n >= 0)
            return n;
    }
    return -1;
}

/* Steps for the x labels: "12500", "250k", "1.5M". */
static void format_step(char *buf, size_t size, double s)
{
    if (s < 1e5) {
        snprintf(buf, size, "%.0f", s);
        return;
    }
    const char *unit = "kMG";
    double d = 1e3;
    while (s / d >= 999.5 && unit[1]) {
        d *= 1e3;
        unit++;
    }
    double v = s / d;
    snprintf(buf, size, "%.*f", v >= 100 ? 0 : v >= 10 ? 1 : 2, v);
    strip_zeros(buf);
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%c", *unit);
}

/* ---- layout and canvas ---- */

typedef struct Layout {
    int axes, ylabels, xlabels;
    int x0, pw, ph;             /* plot area: columns x0.., rows 0..ph-1 */
} Layout;

static void layout(int cols, int rows, Layout *L)
{
    L->axes = rows >= 3 && cols >= 8;
    L->ylabels = L->axes && cols >= 16;
    L->xlabels = L->axes && rows >= 5;
    L->x0 = (L->ylabels ? LOSSPLOT_LABEL_W : 0) + (L->axes ? 1 : 0);
    L->pw = cols - L->x0;
    L->ph = rows - L->axes - L->xlabels;
}

typedef struct Canvas {
    LossPlotCell *out;
    int cols;                   /* of the whole grid */
    int x0, cw, chh;            /* plot area: first column, cells across, down */
    int dx, dy;                 /* dots a cell: 2 x 4 braille, 1 x 1 ASCII */
    int W, H;                   /* plot area in dots */
    int braille;
    /* the ranges */
    double x_max;
    double y_lo, y_hi;          /* transformed (log10 on a log axis) */
    int have_y;
    int log_y;
} Canvas;

static void cell_set(LossPlotCell *c, const char *s, LossPlotStyle style)
{
    snprintf(c->ch, sizeof c->ch, "%s", s);
    c->dots = 0;
    c->style = style;
}

static void put_text(LossPlotCell *out, int cols, int row, int col, const char *s, LossPlotStyle style)
{
    for (; *s; s++, col++)
        if (col >= 0 && col < cols) {
            char ch[2] = {*s, 0};
            cell_set(&out[row * cols + col], ch, style);
        }
}

/* The dot bit of column cx (0, 1) and row cy (0..3) of a braille cell. */
static const unsigned char braille_bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};

/* ASCII characters by series: line, then point marker. */
static const char ascii_line[NSER] = {'*', '+', '.', ':'};
static const char ascii_mark[NSER] = {'*', 'o', '.', 'x'};

static void dot(Canvas *c, int x, int y, int ser, int mark)
{
    if (x < 0 || y < 0 || x >= c->W || y >= c->H)
        return;
    LossPlotCell *cell = &c->out[(y / c->dy) * c->cols + c->x0 + x / c->dx];
    if (c->braille) {
        unsigned m = cell->dots | braille_bit[x % 2][y % 4];
        cell->ch[0] = (char)0xe2;
        cell->ch[1] = (char)(0xa0 | m >> 6);
        cell->ch[2] = (char)(0x80 | (m & 0x3f));
        cell->ch[3] = 0;
        cell->dots = (unsigned char)m;
    } else {
        cell->ch[0] = mark ? ascii_mark[ser] : ascii_line[ser];
        cell->ch[1] = 0;
        cell->dots = 0;
    }
    cell->style = (LossPlotStyle)(LOSSPLOT_TRAIN + ser);
}

static int iround(double v) { return (int)floor(v + 0.5); }

/* Clips p + u (q - p), u in [0, 1], to lo <= coordinate <= hi (Liang-Barsky
 * for one axis); 0 if nothing is left. */
static int clip_axis(double p, double q, double lo, double hi, double *u0, double *u1)
{
    double d = q - p;
    if (d == 0)
        return p >= lo && p <= hi;
    double a = (lo - p) / d, b = (hi - p) / d;
    if (a > b) {
        double t = a;
        a = b, b = t;
    }
    if (a > *u0)
        *u0 = a;
    if (b < *u1)
        *u1 = b;
    return *u0 <= *u1;
}

static void segment(Canvas *c, double xa, double ya, double xb, double yb, int ser)
{
    double u0 = 0, u1 = 1;
    if (!clip_axis(xa, xb, -0.5, c->W - 0.5, &u0, &u1) || !clip_axis(ya, yb, -0.5, c->H - 0.5, &u0, &u1))
        return;
    int x0 = iround(xa + u0 * (xb - xa)), y0 = iround(ya + u0 * (yb - ya));
    int x1 = iround(xa + u1 * (xb - xa)), y1 = iround(ya + u1 * (yb - ya));
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        dot(c, x0, y0, ser, 0);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy)
            err += dy, x0 += sx;
        if (e2 <= dx)
            err += dx, y0 += sy;
    }
}

static double tr(const Canvas *c, double v) { return c->log_y ? log10(v) : v; }
static int drawable(const Canvas *c, double v) { return isfinite(v) && (!c->log_y || v > 0); }
static double map_x(const Canvas *c, double step) { return c->x_max > 0 ? step / c->x_max * (c->W - 1) : 0; }
static double map_y(const Canvas *c, double t)
{
    return c->H > 1 ? (c->y_hi - t) / (c->y_hi - c->y_lo) * (c->H - 1) : 0;
}

/* A point's drawn value and span, transformed; 0 if it cannot be drawn.
 * On a log axis a min <= 0 shortens the span to the mean. */
static int point_span(const Canvas *c, const LossPlotPoint *pt, double *t, double *tlo, double *thi)
{
    if (!drawable(c, pt->value))
        return 0;
    *t = tr(c, pt->value);
    *tlo = drawable(c, pt->lo) ? tr(c, pt->lo) : *t;
    *thi = drawable(c, pt->hi) ? tr(c, pt->hi) : *t;
    return 1;
}

typedef struct Drawn {
    int on;
    double beta;
} Drawn;

/* Which series are drawn and with what smoothing. */
static void drawn_series(const LossPlotOptions *o, Drawn d[NSER])
{
    double beta = o->smooth && o->smoothing > 0 && o->smoothing < 1 ? o->smoothing : 0;
    for (int i = 0; i < NSER; i++) {
        d[i].on = i < 2 || o->show_previous;
        d[i].beta = (i == SER(LOSSPLOT_TRAIN) || i == SER(LOSSPLOT_PREV_TRAIN)) ? beta : 0;
    }
}

static void ranges(Canvas *c, const LossPlot *p, const LossPlotOptions *o, const Drawn d[NSER])
{
    c->x_max = o->total_steps > 0 ? (double)o->total_steps : 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < NSER; i++) {
        if (!d[i].on)
            continue;
        const LossSeries *s = &p->s[i];
        for (size_t k = 0; k < s->n; k++)
            if ((double)s->b[k].step_hi > c->x_max)
                c->x_max = (double)s->b[k].step_hi;
        PointIter it;
        iter_start(&it, s, d[i].beta);
        LossPlotPoint pt;
        double t, tlo, thi;
        while (iter_next(&it, &pt))
            if (point_span(c, &pt, &t, &tlo, &thi)) {
                lo = fmin(lo, fmin(t, tlo));
                hi = fmax(hi, fmax(t, thi));
            }
    }
    int fix_lo = drawable(c, o->y_min), fix_hi = drawable(c, o->y_max);
    if (fix_lo && fix_hi && o->y_min >= o->y_max)
        fix_lo = fix_hi = 0;
    if (fix_lo && !fix_hi && !(hi > tr(c, o->y_min)))
        fix_lo = 0;
    if (fix_hi && !fix_lo && !(lo < tr(c, o->y_max)))
        fix_hi = 0;
    c->have_y = (lo <= hi) || (fix_lo && fix_hi);
    if (!c->have_y)
        return;
    double pad;
    if (fix_lo && fix_hi)
        pad = 0;
    else if (hi > lo)
        pad = 0.05 * (hi - lo);
    else
        pad = c->log_y ? 0.1 : lo != 0 ? 0.1 * fabs(lo) : 1;
    c->y_lo = fix_lo ? tr(c, o->y_min) : lo - pad;
    c->y_hi = fix_hi ? tr(c, o->y_max) : hi + pad;
    /* headroom must not invent negative losses */
    if (!fix_lo && !c->log_y && lo >= 0 && c->y_lo < 0)
        c->y_lo = 0;
    if (!(c->y_hi > c->y_lo))
        c->have_y = 0;
}

static void draw_series(Canvas *c, const LossSeries *s, int ser, double beta)
{
    PointIter it;
    LossPlotPoint pt;
    double t, tlo, thi, px = 0, py = 0;
    int have_prev = 0;
    iter_start(&it, s, beta);
    while (iter_next(&it, &pt)) {
        if (!point_span(c, &pt, &t, &tlo, &thi))
            continue;
        double x = map_x(c, pt.step), y = map_y(c, t);
        if (have_prev)
            segment(c, px, py, x, y, ser);
        else
            segment(c, x, y, x, y, ser);
        if (tlo < thi)
            segment(c, x, map_y(c, thi), x, map_y(c, tlo), ser);
        px = x, py = y, have_prev = 1;
    }
    /* validation points stand out from their line in ASCII */
    if (c->braille || !(ser == SER(LOSSPLOT_VALID) || ser == SER(LOSSPLOT_PREV_VALID)))
        return;
    iter_start(&it, s, 0);
    while (iter_next(&it, &pt))
        if (point_span(c, &pt, &t, &tlo, &thi)) {
            double x = map_x(c, pt.step), y = map_y(c, t);
            if (x >= -0.5 && x <= c->W - 0.5 && y >= -0.5 && y <= c->H - 0.5)
                dot(c, iround(x), iround(y), ser, 1);
        }
}

/* y labels on up to five rows at least two apart, each the value at the
 * middle of its row; more digits when neighbours would read the same. */
static void draw_ylabels(Canvas *c, const Layout *L, int label_rows[5], int *n_rows)
{
    int ph = L->ph, k = (ph - 1) / 2;
    k = k < 1 ? 1 : k > 4 ? 4 : k;
    int n = 0;
    for (int i = 0; i <= k; i++) {
        int r = ph > 1 ? iround((double)i * (ph - 1) / k) : 0;
        if (n == 0 || r != label_rows[n - 1])
            label_rows[n++] = r;
    }
    *n_rows = n;
    if (!c->have_y)
        return;
    double span = c->y_hi - c->y_lo;
    double val[5];
    for (int i = 0; i < n; i++) {
        double dc = label_rows[i] * c->dy + (c->dy - 1) / 2.0;
        double t = c->H > 1 ? c->y_hi - dc / (c->H - 1) * span : 0.5 * (c->y_hi + c->y_lo);
        if (!c->log_y && fabs(t) < 1e-9 * span)
            t = 0;   /* not "1e-17" for a rounded zero */
        val[i] = c->log_y ? pow(10, t) : t;
    }
    char txt[5][LOSSPLOT_LABEL_W + 1];
    for (int sig = 3; sig <= LOSSPLOT_LABEL_W; sig++) {
        int same = 0;
        for (int i = 0; i < n; i++) {
            lossplot_format(txt[i], sizeof txt[i], val[i], LOSSPLOT_LABEL_W, sig);
            if (i > 0 && txt[i][0] && strcmp(txt[i], txt[i - 1]) == 0)
                same = 1;
        }
        if (!same)
            break;
    }
    for (int i = 0; i < n; i++)
        put_text(c->out, c->cols, label_rows[i], LOSSPLOT_LABEL_W - (int)strlen(txt[i]), txt[i], LOSSPLOT_LABEL);
}

static void draw_axes(Canvas *c, const Layout *L, const int *label_rows, int n_rows, const int *ticks, int n_ticks)
{
    int ax = L->x0 - 1;
    const char *v = c->braille ? BOX_V : "|", *h = c->braille ? BOX_H : "-";
    const char *vt = c->braille ? BOX_VT : "+", *ht = c->braille ? BOX_HT : "+";
    for (int r = 0; r < L->ph; r++)
        cell_set(&c->out[r * c->cols + ax], v, LOSSPLOT_AXIS);
    for (int i = 0; i < n_rows && c->have_y && L->ylabels; i++)
        cell_set(&c->out[label_rows[i] * c->cols + ax], vt, LOSSPLOT_AXIS);
    LossPlotCell *row = &c->out[L->ph * c->cols];
    cell_set(&row[ax], c->braille ? BOX_BL : "+", LOSSPLOT_AXIS);
    for (int x = L->x0; x < c->cols; x++)
        cell_set(&row[x], h, LOSSPLOT_AXIS);
    for (int i = 0; i < n_ticks; i++)
        cell_set(&row[ticks[i]], ht, LOSSPLOT_AXIS);
}

/* Step labels: 0 at the left, x_max at the right, the middle one where
 * it fits with a space either side; fills ticks with the columns of the
 * last two. */
static void draw_xlabels(Canvas *c, const Layout *L, int ticks[2], int *n_ticks)
{
    int row = L->ph + 1, right = c->cols - 1;
    char a[32], m[32], z[32];
    format_step(a, sizeof a, 0);
    put_text(c->out, c->cols, row, L->x0, a, LOSSPLOT_LABEL);   /* the corner is its tick */
    *n_ticks = 0;
    int a_end = L->x0 + (int)strlen(a) - 1;
    if (c->x_max <= 0)
        return;
    format_step(z, sizeof z, c->x_max);
    int z_start = right - (int)strlen(z) + 1;
    if (z_start <= a_end + 1)
        return;
    put_text(c->out, c->cols, row, z_start, z, LOSSPLOT_LABEL);
    ticks[(*n_ticks)++] = right;
    double mid = floor(c->x_max / 2 + 0.5);
    if (mid <= 0 || mid >= c->x_max)
        return;
    format_step(m, sizeof m, mid);
    int mc = L->x0 + iround(map_x(c, mid)) / c->dx;
    int ms = mc - (int)strlen(m) / 2;
    if (ms > a_end + 1 && ms + (int)strlen(m) < z_start) {
        put_text(c->out, c->cols, row, ms, m, LOSSPLOT_LABEL);
        ticks[(*n_ticks)++] = mc;
    }
}

int lossplot_render(const LossPlot *p, int cols, int rows, const LossPlotOptions *o, LossPlotCell *out, Err *e)
{
    LossPlotOptions defaults;
    if (!o) {
        lossplot_options_defaults(&defaults);
        o = &defaults;
    }
    if (!out || cols <= 0 || rows <= 0)
        return err_set(e, "lossplot: no grid to draw into (%dx%d)", cols, rows);
    for (int i = 0; i < rows * cols; i++)
        cell_set(&out[i], " ", LOSSPLOT_EMPTY);
    Layout L;
    layout(cols, rows, &L);
    if (L.pw < 2 || L.ph < 1)
        return err_set(e, "lossplot: a %dx%d grid is too small for a chart (at least 2x1)", cols, rows);
    Canvas c = {0};
    c.out = out;
    c.cols = cols;
    c.x0 = L.x0;
    c.cw = L.pw;
    c.chh = L.ph;
    c.braille = o->braille != 0;
    c.dx = c.braille ? 2 : 1;
    c.dy = c.braille ? 4 : 1;
    c.W = c.cw * c.dx;
    c.H = c.chh * c.dy;
    c.log_y = o->log_y != 0;
    Drawn d[NSER];
    drawn_series(o, d);
    ranges(&c, p, o, d);
    static const int order[NSER] = {2, 3, 0, 1};   /* PREV_TRAIN, PREV_VALID, TRAIN, VALID: lowest rank first */
    for (int i = 0; i < NSER && c.have_y; i++)
        if (d[order[i]].on)
            draw_series(&c, &p->s[order[i]], order[i], d[order[i]].beta);
    int label_rows[5], n_rows = 0, ticks[2], n_ticks = 0;
    if (L.ylabels)
        draw_ylabels(&c, &L, label_rows, &n_rows);
    if (L.xlabels)
        draw_xlabels(&c, &L, ticks, &n_ticks);
    if (L.axes)
        draw_axes(&c, &L, label_rows, n_rows, ticks, n_ticks);
    return 0;
}
