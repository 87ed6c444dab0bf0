/* lossplot.h - the Train pane's loss chart, as a grid of character cells.
 *
 * Four series of (step, value) points: this run's training loss (one point
 * a step), its validation loss (sparse), and the previous run's two series
 * of the same stage, drawn faintly behind.  The module never includes
 * curses: lossplot_render fills a caller's rows x cols grid of cells, each a
 * UTF-8 character and a style, and the UI copies them to the screen and maps
 * the styles to colours (dim for the previous run).
 *
 * Bounded memory: a series keeps at most max_points buckets (the plot
 * allocates them once, in lossplot_init; adding never allocates).  A bucket
 * holds a run of consecutive points as their step span, min, max, sum and
 * count.  When a series is full, neighbouring buckets are merged pairwise
 * and each bucket takes twice as many points from then on, so a run of a
 * million steps costs the same memory as one of max_points.  Min and max
 * survive the merging: a single spike is still drawn, as the vertical span
 * of its bucket.
 *
 * Drawing (lossplot_render):
 *   - x runs from step 0 to max(total_steps, the last step of any drawn
 *     series), so a run whose length is known does not rescale every step;
 *   - y runs over the drawn values with 5% headroom (from 0 if that would
 *     cross 0 on a linear axis), or over the caller's fixed y_min..y_max;
 *     a log axis drops values <= 0;
 *   - consecutive points are joined by straight lines on the dot grid
 *     (2x4 braille dots a cell, or one ASCII character a cell), so lines
 *     stay continuous however steep;
 *   - smoothing is an exponential moving average, debiased at the start the
 *     way Adam's moments are: ema_t = b ema_{t-1} + (1-b) x_t, ema_0 = 0,
 *     drawn as ema_t / (1 - b^t).  A bucket of n points with mean m counts
 *     as n equal points (exact until the first merge, close after it).  It
 *     applies to both train lines, so the previous run compares like for
 *     like; validation is never smoothed.
 *   - overlap: a cell reached by several series shows every dot that any of
 *     them set (so each line keeps its shape), in the style of the one that
 *     ranks first: this run before the previous one, and within a run
 *     validation before train (VALID > TRAIN > PREV_VALID > PREV_TRAIN).
 *     In ASCII mode the cell shows that series' character alone.
 *
 * Steps are expected to grow; points with a negative step or a NaN or
 * infinite value are ignored. */
#ifndef INFUSE_LOSSPLOT_H
#define INFUSE_LOSSPLOT_H

#include <stddef.h>

#include "err.h"

/* A cell's role, for the UI's colours; TRAIN..PREV_VALID also name the
 * series (they are consecutive, LOSSPLOT_NSERIES of them). */
typedef enum {
    LOSSPLOT_EMPTY,         /* a space */
    LOSSPLOT_AXIS,          /* axis lines and ticks */
    LOSSPLOT_LABEL,         /* y values, x steps */
    LOSSPLOT_TRAIN,
    LOSSPLOT_VALID,
    LOSSPLOT_PREV_TRAIN,    /* faint */
    LOSSPLOT_PREV_VALID,    /* faint */
} LossPlotStyle;

#define LOSSPLOT_NSERIES 4
#define LOSSPLOT_DEFAULT_POINTS 2048
#define LOSSPLOT_LABEL_W 6  /* columns for the y labels, left of the axis */

typedef struct LossPlotCell {
    char ch[5];             /* one UTF-8 character, NUL-terminated */
    unsigned char dots;     /* the braille dot bits when ch is U+2800+dots, else 0 */
    LossPlotStyle style;
} LossPlotCell;

/* Points merged into one: steps step_lo..step_hi, n of them. */
typedef struct LossBucket {
    long step_lo, step_hi;
    double min, max, sum;
    long n;
} LossBucket;

typedef struct LossSeries {
    LossBucket *b;          /* [cap], a slice of the plot's block */
    size_t n, cap;
    long width;             /* points a new bucket takes; doubles at each merge */
    long count;             /* points added (the ignored ones not counted) */
    long last_step;         /* of the last point added, -1 before */
    double last;            /* its value, NAN before */
} LossSeries;

/* Caller-owned: lossplot_init / lossplot_free. */
typedef struct LossPlot {
    LossSeries s[LOSSPLOT_NSERIES];     /* indexed by style - LOSSPLOT_TRAIN */
    LossBucket *block;                  /* (NSERIES, cap): every bucket */
} LossPlot;

typedef struct LossPlotOptions {
    int braille;            /* 1: braille dots, box-drawing axes; 0: ASCII only */
    int log_y;              /* log10 y axis */
    int smooth;             /* draw the train lines as an EMA ... */
    double smoothing;       /* ... with this factor b in [0, 1) (default 0.9) */
    int show_previous;      /* draw the previous run (default 1) */
    long total_steps;       /* planned steps, 0 if unknown */
    double y_min, y_max;    /* NAN (default): from the data */
} LossPlotOptions;

/* One point as drawn: for smoothed lines lo = hi = value. */
typedef struct LossPlotPoint {
    double step;            /* a bucket's middle step (its last, when smoothed) */
    double value, lo, hi;   /* mean (or EMA), min, max */
} LossPlotPoint;

void lossplot_options_defaults(LossPlotOptions *o);

/* Allocates room for max_points buckets a series (0: LOSSPLOT_DEFAULT_POINTS;
 * at least 2).  Returns 0, or -1 with e set. */
int lossplot_init(LossPlot *p, size_t max_points, Err *e);
void lossplot_free(LossPlot *p);

/* Adds one point to a series (series is LOSSPLOT_TRAIN..LOSSPLOT_PREV_VALID;
 * anything else is ignored).  Never allocates. */
void lossplot_add(LossPlot *p, LossPlotStyle series, long step, double value);
void lossplot_add_train(LossPlot *p, long step, double value);
void lossplot_add_valid(LossPlot *p, long step, double value);

/* Empties this run's two series; the previous run stays. */
void lossplot_clear(LossPlot *p);
void lossplot_clear_previous(LossPlot *p);

/* Makes src's current run (train and valid) dst's previous run.  src may be
 * dst: then follow with lossplot_clear to start the next run. */
void lossplot_set_previous(LossPlot *dst, const LossPlot *src);

/* Replaces the previous run with these arrays (either n may be 0), e.g. read
 * back from the last run's metrics.jsonl. */
void lossplot_load_previous(LossPlot *p, const long *train_steps, const double *train_values, size_t n_train,
                            const long *valid_steps, const double *valid_values, size_t n_valid);

/* Writes up to max points of a series as it would be drawn (smoothing > 0:
 * the debiased EMA with that factor) and returns how many there are. */
size_t lossplot_points(const LossPlot *p, LossPlotStyle series, double smoothing, LossPlotPoint *out, size_t max);

/* Formats v in at most width characters with up to sig significant digits
 * ("2.35", "0.012", "1.5e-3", "1e6"), trailing zeros dropped.  Returns the
 * length, or -1 (buf empty) if it cannot fit.  size must exceed width. */
int lossplot_format(char *buf, size_t size, double v, int width, int sig);

/* Fills out[rows * cols] (row-major) with the chart.  Layout, as room
 * allows: y labels (LOSSPLOT_LABEL_W columns) and a y axis on the left from
 * 16 columns and 3 rows, the x axis below from 8 columns and 3 rows, step
 * labels (start, middle, end) under it from 5 rows; at smaller sizes only
 * the plot.  o NULL: the defaults.  Returns 0, or -1 with e set and the
 * grid blank (if it exists) when it is smaller than 2 columns by 1 row. */
int lossplot_render(const LossPlot *p, int cols, int rows, const LossPlotOptions *o, LossPlotCell *out, Err *e);

#endif
