/* textedit.c - a multi-line text being edited (see textedit.h).
 *
 * The text is one gap-less buffer: an edit moves the tail once, so a paste
 * of many kilobytes costs one memmove, and typing costs a short one per
 * key, which is nothing at the sizes of a question or an answer.
 *
 * Every change goes through edit(), which replaces a range by new bytes and
 * records the step; undo and redo replay a step's two texts the other way.
 * The step's copies are made before the buffer changes, so a failed
 * allocation leaves everything as it was (and text inserted from the
 * buffer itself is copied before the buffer can move).
 *
 * Rows for up, down, home and end are found by walking tw_wrap_line from
 * the start of the cursor's line (the byte after the last '\n'), since
 * where a row starts depends on every row before it: only that line (and
 * the one above, when the cursor is on its line's first row) is walked,
 * and nothing is allocated. */
#include "textedit.h"
#include "textwidth.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Writes s[0..n) as the buffer holds it to out (if not NULL) and returns
 * its length; *same is cleared when that differs from s. */
static size_t clean(const char *s, size_t n, char *out, int *same)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const char *put = s + i;
        size_t k = 1, step = 1;
        if (u[i] == '\r') {
            put = "\n";
            step = i + 1 < n && u[i + 1] == '\n' ? 2 : 1;
            *same = 0;
        } else if (u[i] == 0) {
            put = UTF8_REPLACEMENT, k = 3;
            *same = 0;
        } else if (u[i] >= 0x80) {
            if (utf8_char(u + i, n - i, &step) == UTF8_OK) {
                k = step;
            } else {
                put = UTF8_REPLACEMENT, k = 3;
                *same = 0;
            }
        }
        if (out)
            memcpy(out + o, put, k);
        o += k;
        i += step;
    }
    return o;
}

/* The cleaned copy of s[0..n), malloc'd, in *out (NULL when n is 0). */
static int clean_dup(const char *s, size_t n, char **out, size_t *nout, Err *e)
{
    int same = 1;
    size_t m = clean(s, n, NULL, &same);
    *out = NULL;
    *nout = m;
    if (!m)
        return 0;
    if (!(*out = malloc(m)))
        return err_set(e, "text edit: out of memory");
    if (same)
        memcpy(*out, s, n);
    else
        clean(s, n, *out, &same);
    return 0;
}

static int reserve(TextEdit *t, size_t len, Err *e)
{
    if (len + 1 <= t->cap)
        return 0;
    size_t cap = t->cap * 2 > len + 1 ? t->cap * 2 : len + 1;
    char *b = realloc(t->buf, cap);
    if (!b)
        return err_set(e, "text edit: out of memory");
    t->buf = b, t->cap = cap;
    return 0;
}

/* buf[pos, pos + ndel) becomes ins[0..nins); room is already reserved. */
static void splice(TextEdit *t, size_t pos, size_t ndel, const char *ins, size_t nins)
{
    memmove(t->buf + pos + nins, t->buf + pos + ndel, t->len - pos - ndel + 1);
    if (nins)
        memcpy(t->buf + pos, ins, nins);
    t->len = t->len - ndel + nins;
}

static int is_boundary(const TextEdit *t, size_t pos)
{
    return pos == 0 || tw_next(t->buf, t->len, tw_prev(t->buf, t->len, pos)) == pos;
}

static void drop_step(TextEdit *t, TeStep *s)
{
    t->step_bytes -= s->ndel + s->nins;
    free(s->del);
    free(s->ins);
}

static void drop_oldest(TextEdit *t)
{
    drop_step(t, &t->steps[0]);
    memmove(t->steps, t->steps + 1, (t->nsteps - 1) * sizeof *t->steps);
    t->nsteps--, t->nundo--;
}

/* Replaces buf[pos, pos + ndel) by ins[0..nins) (already clean) as a new
 * undo step, or as more of the typing step when typing continues it.  The
 * cursor goes after an insertion (to the end of its cluster, should the
 * new text have joined the one after it) or to a deletion's place (to the
 * start of its cluster). */
static int edit(TextEdit *t, size_t pos, size_t ndel, const char *ins, size_t nins, int typing, Err *e)
{
    if (!t->steps && !(t->steps = calloc(TE_UNDO_STEPS, sizeof *t->steps)))
        return err_set(e, "text edit: out of memory");
    TeStep *ext = NULL, fresh = {0};
    if (typing && t->typing && t->nundo == t->nsteps && t->nundo > 0) {
        TeStep *last = &t->steps[t->nundo - 1];
        if (last->ndel == 0 && ndel == 0 && last->pos + last->nins == pos)
            ext = last;
    }
    const char *src;
    if (ext) {
        if (ext->nins + nins > ext->ins_cap) {
            size_t cap = ext->ins_cap * 2 > ext->nins + nins ? ext->ins_cap * 2 : ext->nins + nins;
            char *p = realloc(ext->ins, cap);
            if (!p)
                return err_set(e, "text edit: out of memory");
            ext->ins = p, ext->ins_cap = cap;
        }
        memcpy(ext->ins + ext->nins, ins, nins);
        src = ext->ins + ext->nins;
    } else {
        fresh.pos = pos, fresh.ndel = ndel, fresh.nins = fresh.ins_cap = nins;
        fresh.del = ndel ? malloc(ndel) : NULL;
        fresh.ins = nins ? malloc(nins) : NULL;
        if ((ndel && !fresh.del) || (nins && !fresh.ins)) {
            free(fresh.del);
            free(fresh.ins);
            return err_set(e, "text edit: out of memory");
        }
        if (ndel)
            memcpy(fresh.del, t->buf + pos, ndel);
        if (nins)
            memcpy(fresh.ins, ins, nins);
        src = fresh.ins;
    }
    if (reserve(t, t->len - ndel + nins, e) < 0) {
        free(fresh.del);
        free(fresh.ins);
        return -1;
    }

    size_t before = t->cur;
    splice(t, pos, ndel, src, nins);
    t->cur = pos + nins;
    if (!is_boundary(t, t->cur))
        t->cur = nins ? tw_next(t->buf, t->len, tw_prev(t->buf, t->len, t->cur))
                      : tw_prev(t->buf, t->len, t->cur);

    if (ext) {
        ext->nins += nins;
        ext->cur_after = t->cur;
    } else {
        while (t->nsteps > t->nundo)
            drop_step(t, &t->steps[--t->nsteps]);
        if (t->nsteps == TE_UNDO_STEPS)
            drop_oldest(t);
        fresh.cur_before = before, fresh.cur_after = t->cur;
        t->steps[t->nsteps++] = fresh;
        t->nundo = t->nsteps;
    }
    t->step_bytes += ndel + nins;
    while (t->step_bytes > TE_UNDO_BYTES && t->nsteps > 1)
        drop_oldest(t);
    t->typing = typing;
    t->goal = TE_NO_GOAL;
    return 1;
}

int te_init(TextEdit *t, const char *text, size_t n, Err *e)
{
    memset(t, 0, sizeof *t);
    t->goal = TE_NO_GOAL;
    int same = 1;
    size_t m = clean(text, n, NULL, &same);
    if (!(t->buf = malloc(m + 1)))
        return err_set(e, "text edit: out of memory");
    t->cap = m + 1;
    clean(text, n, t->buf, &same);
    t->buf[m] = 0;
    t->len = t->cur = m;
    return 0;
}

void te_free(TextEdit *t)
{
    for (size_t i = 0; i < t->nsteps; i++)
        drop_step(t, &t->steps[i]);
    free(t->steps);
    free(t->buf);
    memset(t, 0, sizeof *t);
    t->goal = TE_NO_GOAL;
}

static int insert(TextEdit *t, const char *s, size_t n, int typing, Err *e)
{
    char *c;
    size_t m;
    if (clean_dup(s, n, &c, &m, e) < 0)
        return -1;
    int rc = m ? edit(t, t->cur, 0, c, m, typing, e) : 0;
    free(c);
    return rc;
}

int te_insert(TextEdit *t, const char *s, size_t n, Err *e) { return insert(t, s, n, 0, e); }
int te_type(TextEdit *t, const char *s, size_t n, Err *e) { return insert(t, s, n, 1, e); }

/* Deletes buf[from, to); nothing to delete still ends the typing step. */
static int delete_range(TextEdit *t, size_t from, size_t to, Err *e)
{
    t->typing = 0;
    t->goal = TE_NO_GOAL;
    return from < to ? edit(t, from, to - from, NULL, 0, 0, e) : 0;
}

int te_backspace(TextEdit *t, Err *e) { return delete_range(t, tw_prev(t->buf, t->len, t->cur), t->cur, e); }
int te_delete(TextEdit *t, Err *e) { return delete_range(t, t->cur, tw_next(t->buf, t->len, t->cur), e); }
int te_delete_word(TextEdit *t, Err *e) { return delete_range(t, tw_word_prev(t->buf, t->len, t->cur), t->cur, e); }

/* Puts back one side of a step: the step's span of the other side, at its
 * pos, becomes `text`. */
static int replay(TextEdit *t, const TeStep *s, size_t nout, const char *text, size_t n, size_t cur, Err *e)
{
    if (reserve(t, t->len - nout + n, e) < 0)
        return -1;
    splice(t, s->pos, nout, text, n);
    t->cur = cur;
    t->typing = 0;
    t->goal = TE_NO_GOAL;
    return 1;
}

int te_undo(TextEdit *t, Err *e)
{
    t->typing = 0;
    if (!t->nundo)
        return 0;
    const TeStep *s = &t->steps[t->nundo - 1];
    if (replay(t, s, s->nins, s->del, s->ndel, s->cur_before, e) < 0)
        return -1;
    t->nundo--;
    return 1;
}

int te_redo(TextEdit *t, Err *e)
{
    t->typing = 0;
    if (t->nundo == t->nsteps)
        return 0;
    const TeStep *s = &t->steps[t->nundo];
    if (replay(t, s, s->ndel, s->ins, s->nins, s->cur_after, e) < 0)
        return -1;
    t->nundo++;
    return 1;
}

static int move_to(TextEdit *t, size_t pos)
{
    t->typing = 0;
    t->goal = TE_NO_GOAL;
    if (pos == t->cur)
        return 0;
    t->cur = pos;
    return 1;
}

int te_left(TextEdit *t) { return move_to(t, tw_prev(t->buf, t->len, t->cur)); }
int te_right(TextEdit *t) { return move_to(t, tw_next(t->buf, t->len, t->cur)); }
int te_word_left(TextEdit *t) { return move_to(t, tw_word_prev(t->buf, t->len, t->cur)); }
int te_word_right(TextEdit *t) { return move_to(t, tw_word_next(t->buf, t->len, t->cur)); }
int te_buf_start(TextEdit *t) { return move_to(t, 0); }
int te_buf_end(TextEdit *t) { return move_to(t, t->len); }

void te_set_cursor(TextEdit *t, size_t pos)
{
    if (pos > t->len)
        pos = t->len;
    move_to(t, is_boundary(t, pos) ? pos : tw_prev(t->buf, t->len, pos));
}

/* A row as tw_wrap_line gives it: buf[start, end), the next row at next. */
typedef struct Row {
    size_t start, end, next;
} Row;

/* After a wrap (not a newline, not the end) the row's end is the next
 * row's start, so a cursor there would show on the next row. */
static int soft_end(const TextEdit *t, Row r) { return r.end == r.next && r.end < t->len; }

static size_t line_start(const TextEdit *t, size_t pos)
{
    const char *nl = memrchr(t->buf, '\n', pos);
    return nl ? (size_t)(nl - t->buf) + 1 : 0;
}

/* The row holding pos, walking from from (a line's start); *above (if
 * not NULL) gets each row walked past. */
static Row walk_rows(const TextEdit *t, size_t width, size_t from, size_t pos, Row *above)
{
    Row r = {from, 0, 0};
    for (;;) {
        r.end = tw_wrap_line(t->buf, t->len, r.start, width, &r.next);
        if (pos < r.next || r.next >= t->len)
            return r;
        if (above)
            *above = r;
        r.start = r.next;
    }
}

/* The row holding byte pos and, if above is not NULL and that row is not
 * the first, the row above it (the last row of the line before when the
 * cursor's row starts its line). */
static Row row_at(const TextEdit *t, size_t width, size_t pos, Row *above)
{
    Row r = walk_rows(t, width, line_start(t, pos), pos, above);
    if (above && r.start > 0 && t->buf[r.start - 1] == '\n')
        *above = walk_rows(t, width, line_start(t, r.start - 1), r.start - 1, NULL);
    return r;
}

/* The cluster boundary of row r at column col or the last one before it. */
static size_t row_pos(const TextEdit *t, Row r, size_t col)
{
    size_t p = r.start + tw_fit(t->buf + r.start, r.end - r.start, col, NULL);
    if (p == r.end && p > r.start && soft_end(t, r))
        p = tw_prev(t->buf, t->len, p);
    return p;
}

static int move_row(TextEdit *t, Row to, Row from)
{
    size_t goal = t->goal != TE_NO_GOAL ? t->goal : tw_width(t->buf + from.start, t->cur - from.start);
    t->cur = row_pos(t, to, goal);
    t->goal = goal;
    t->typing = 0;
    return 1;
}

int te_up(TextEdit *t, size_t width)
{
    Row above = {0, 0, 0}, r = row_at(t, width, t->cur, &above);
    t->typing = 0;
    if (r.start == 0)
        return 0;
    return move_row(t, above, r);
}

int te_down(TextEdit *t, size_t width)
{
    Row r = row_at(t, width, t->cur, NULL);
    t->typing = 0;
    if (r.next >= t->len && r.end == r.next)
        return 0;
    Row d = {r.next, 0, 0};
    d.end = tw_wrap_line(t->buf, t->len, d.start, width, &d.next);
    return move_row(t, d, r);
}

int te_home(TextEdit *t, size_t width) { return move_to(t, row_at(t, width, t->cur, NULL).start); }

int te_end(TextEdit *t, size_t width)
{
    Row r = row_at(t, width, t->cur, NULL);
    return move_to(t, r.end > r.start && soft_end(t, r) ? tw_prev(t->buf, t->len, r.end) : r.end);
}

int te_point(TextEdit *t, size_t width, size_t row, size_t col)
{
    Row r = {0, 0, 0};
    r.end = tw_wrap_line(t->buf, t->len, 0, width, &r.next);
    for (; row > 0; row--) {
        if (r.next >= t->len) {
            /* past the last row: a text ending in '\n' has an empty row
             * there, any other stays on its last row */
            if (r.end < t->len)
                return move_to(t, t->len);
            break;
        }
        r.start = r.next;
        r.end = tw_wrap_line(t->buf, t->len, r.start, width, &r.next);
    }
    return move_to(t, row_pos(t, r, col));
}
