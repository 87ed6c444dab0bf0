/* chat_pane.c - the Chat pane: one question, answered side by side by the
 * base model and the adapters ("base", "cpt", "sft", ...).
 *
 * Up to four stages are columns; each keeps its own transcript (the
 * questions and its answers, the newest 64 KB), wrapped to the column and
 * scrolled from the bottom, so a streaming answer stays in view unless the
 * curator scrolled up.  Under each column: the answer's tokens and
 * tokens/s.  One input line (a TextEdit) with a history sends a question to
 * every column at once; an answer worth keeping becomes a QA record in the
 * Review pane's editor (Ctrl-G golden, Ctrl-P pending).
 *
 * Concurrency: the answers are one worker job (chat_job.h) that loads what
 * it needs and streams every stage's text back as TOKEN events; this file
 * runs on the UI thread only and never waits for the job.  The job borrows
 * the pane's ChatEngine (model, adapters, session cache), which the UI
 * thread touches only while no chat job is queued or running (job == 0):
 * to forget a retrained adapter, and in destroy, after worker_delete.
 *
 * Focus: while the input line has the keys (captures), every printable key
 * is typed, so the pane itself does what the global keys would (Tab,
 * Shift-Tab, F1-F4 switch panes); Esc leaves the input for the columns,
 * where q, ?, 1-4 work again, and Enter or i returns to it. */
#include "workbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat_job.h"
#include "edit_field.h"
#include "generate.h"
#include "strbuf.h"
#include "textwidth.h"

#define MAX_COLS CHAT_JOB_MAX_STAGES
#define KEEP_BYTES ((size_t)64 << 10)   /* questions and answers kept per stage */
#define HIST_MAX 100                    /* input history entries */
#define TEMP_MAX 2.0f
#define MAX_TOKENS_MAX 4096
#define INPUT_ROWS_MAX 3

typedef enum { EX_WAITING, EX_RUNNING, EX_DONE, EX_STOPPED, EX_FAILED } ExState;

/* One question and one stage's answer to it. */
typedef struct Exchange {
    char *q;                    /* the question */
    StrBuf a;                   /* the answer so far (a.s NULL while empty) */
    int truncated;              /* the answer reached KEEP_BYTES; the rest was not kept */
    char *note;                 /* why it failed, or NULL */
    ExState state;
    ChatJobStat stat;
    /* the rows at wrap_w columns, until the width or the answer changes */
    TwLine *qrows, *arows, *nrows;
    size_t n_qrows, n_arows, n_nrows, wrap_w, wrap_alen;
} Exchange;

typedef struct Stage {
    const char *name;           /* "base", or the Config's adapter name (borrowed) */
    const char *dir;            /* adapter folder (borrowed), NULL for base */
    Exchange *ex;               /* [n_ex], oldest first */
    size_t n_ex, cap_ex;
    size_t bytes;               /* of questions and answers held */
    int scroll;                 /* rows above the bottom; 0 follows the end */
    int stale;                  /* adapter retrained while a job ran: read it again */
} Stage;

typedef struct Chat {
    Stage *st;                  /* [n_st]: base, then the Config's adapters */
    int n_st;
    int cols[MAX_COLS];         /* the stages shown, in stage order */
    int n_cols;
    int focus;                  /* the picked column (Ctrl-G, Ctrl-P, scrolling) */
    TextEdit in;
    int in_scroll, in_focused;
    size_t in_width;            /* wrap width of the input at the last draw */
    char **hist;                /* [n_hist] questions sent, oldest first */
    size_t n_hist, hist_pos;    /* hist_pos == n_hist: the draft */
    char *draft;                /* what was typed before Up went into the history */
    long job;                   /* the chat job queued or running, 0 for none */
    int run[MAX_COLS];          /* its stages by position */
    int n_run;
    double t_start;
    float temperature;
    int max_tokens;
    int ctrl_t;                 /* Ctrl-T was pressed: a digit toggles a stage */
    char status[512];
    UiRole status_role;
    ChatEngine *eng;
    /* layout of the last draw (pane rows), for clicks and page sizes */
    int body_y, body_h, col_x[MAX_COLS], col_w[MAX_COLS], input_y;
    int chip_x0[9], chip_x1[9];
} Chat;

static const PaneKey chat_keys[] = {
    {"Enter", "ask every column the question", "ask"},
    {"Esc", "stop the answers; when idle, leave the input (Enter or i: back)", "stop"},
    {"F5-F8", "toggle stage 1-4 as a column (Ctrl-T, 1-9: any stage)", "columns"},
    {"Ctrl-G", "the last question and the picked column's answer as Golden Data, in Review's editor", "to golden"},
    {"Ctrl-P", "the same as a pending record", "to pending"},
    {"Left/Right", "pick a column (in the input: when it is empty)", NULL},
    {"PgUp/PgDn", "scroll the picked column (Shift-Up/Down: one row; outside the input also Up/Down, Home/End)", NULL},
    {"Up/Down", "input history (past the first / last row of the input)", NULL},
    {"Ctrl-Up/Down", "temperature +/- 0.1 (also F10 / F9; outside the input ] / [)", NULL},
    {"F11/F12", "max tokens per answer: halve / double (outside the input - / +)", NULL},
    {"Tab", "next pane (Shift-Tab previous, F1-F4 a pane), also from the input", NULL},
    {"In the input", "arrows, Ctrl-arrows by word, Home/End, Ctrl-W, Ctrl-Z undo, Ctrl-Y redo", NULL},
    {"Outside it", "g / p as Ctrl-G / Ctrl-P; q, ?, 1-4 as everywhere", NULL},
    {NULL, NULL, NULL},
};

/* ---- transcripts ---- */

static void ex_free(Exchange *x)
{
    free(x->q);
    strbuf_free(&x->a);
    free(x->note);
    free(x->qrows);
    free(x->arows);
    free(x->nrows);
}

static Exchange *last_ex(Stage *s)
{
    return s->n_ex ? &s->ex[s->n_ex - 1] : NULL;
}

/* Drops the oldest exchanges while the stage holds more than KEEP_BYTES
 * (the newest always stays). */
static void stage_trim(Stage *s)
{
    size_t k = 0;
    while (s->n_ex - k > 1 && s->bytes > KEEP_BYTES) {
        s->bytes -= strlen(s->ex[k].q) + s->ex[k].a.n;
        ex_free(&s->ex[k]);
        k++;
    }
    if (k) {
        memmove(s->ex, s->ex + k, (s->n_ex - k) * sizeof *s->ex);
        s->n_ex -= k;
    }
}

static int stage_push(Stage *s, const char *q)
{
    if (s->n_ex == s->cap_ex) {
        size_t cap = s->cap_ex ? 2 * s->cap_ex : 8;
        Exchange *v = realloc(s->ex, cap * sizeof *v);
        if (!v)
            return -1;
        s->ex = v;
        s->cap_ex = cap;
    }
    Exchange *x = &s->ex[s->n_ex];
    memset(x, 0, sizeof *x);
    if (!(x->q = strdup(q)))
        return -1;
    x->state = EX_WAITING;
    s->n_ex++;
    s->bytes += strlen(q);
    s->scroll = 0;
    stage_trim(s);
    return 0;
}

/* Appends a piece of the newest answer; leading blanks of an answer are
 * dropped (a plain template's answer starts with a space). */
static void stage_append(Stage *s, const char *text, size_t len)
{
    Exchange *x = last_ex(s);
    if (!x)
        return;
    if (x->a.n == 0)
        while (len && (*text == ' ' || *text == '\n' || *text == '\t' || *text == '\r'))
            text++, len--;
    if (!len || x->truncated)
        return;
    if (x->a.n + len > KEEP_BYTES) {
        x->truncated = 1;
        return;
    }
    if (strbuf_put(&x->a, text, len) != 0) {
        x->truncated = 1;
        return;
    }
    s->bytes += len;
    stage_trim(s);
}

static void ex_finish(Exchange *x, ExState state, const char *note)
{
    if (x->state != EX_WAITING && x->state != EX_RUNNING)
        return;
    x->state = state;
    if (note && !x->note)
        x->note = strdup(note);
}

/* ---- the input line and its history ---- */

static void input_set(Chat *c, Workbench *wb, const char *text)
{
    Err e;
    TextEdit t;
    if (te_init(&t, text, strlen(text), &e) != 0) {
        wb_message(wb, UI_BAD, "%s", e.msg);
        return;
    }
    te_free(&c->in);
    c->in = t;
    c->in_scroll = 0;
}

static void history_push(Chat *c, const char *q)
{
    free(c->draft);
    c->draft = NULL;
    if (c->n_hist && strcmp(c->hist[c->n_hist - 1], q) == 0) {
        c->hist_pos = c->n_hist;
        return;
    }
    char *d = strdup(q);
    if (!d)
        return;
    if (c->n_hist == HIST_MAX) {
        free(c->hist[0]);
        memmove(c->hist, c->hist + 1, (HIST_MAX - 1) * sizeof *c->hist);
        c->n_hist--;
    }
    c->hist[c->n_hist++] = d;
    c->hist_pos = c->n_hist;
}

static void history_move(Chat *c, Workbench *wb, int d)
{
    if (d < 0 && c->hist_pos == 0)
        return;
    if (d > 0 && c->hist_pos >= c->n_hist)
        return;
    if (c->hist_pos == c->n_hist) {
        free(c->draft);
        c->draft = strdup(te_text(&c->in));
    }
    c->hist_pos = d < 0 ? c->hist_pos - 1 : c->hist_pos + 1;
    input_set(c, wb, c->hist_pos < c->n_hist ? c->hist[c->hist_pos] : c->draft ? c->draft : "");
}

/* A copy of s[0..n) without the blanks around it. */
static char *trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return strndup(s, n);
}

/* ---- actions ---- */

static void ask(Pane *p, Chat *c, Workbench *wb)
{
    char *q = trimmed(te_text(&c->in), c->in.len);
    if (!q) {
        wb_message(wb, UI_BAD, "out of memory");
        return;
    }
    if (!*q) {
        free(q);
        return;
    }
    if (c->job) {
        wb_message(wb, UI_WARN, "still answering: Esc stops it");
        free(q);
        return;
    }
    if (!wb->cfg.model) {
        wb_message(wb, UI_BAD, "no model: set model: in infuse.yaml");
        free(q);
        return;
    }
    ChatJobSpec s = {.model_dir = wb->cfg.model, .prompt = q, .n_stages = c->n_cols, .max_tokens = c->max_tokens,
                     .tmpl = wb->cfg.chat_template, .system = wb->cfg.system_prompt,
                     .stops = (const char *const *)wb->cfg.stop, .n_stops = wb->cfg.n_stop,
                     .threads = wb->cfg.threads};
    config_sampler_params(&wb->cfg, &s.sampling);
    s.sampling.temperature = c->temperature;
    const char *stale[64];
    for (int i = 0; i < c->n_st && s.n_stale < 64; i++)
        if (c->st[i].stale)
            stale[s.n_stale++] = c->st[i].name;
    s.stale = stale;
    for (int k = 0; k < c->n_cols; k++) {
        s.names[k] = c->st[c->cols[k]].name;
        s.dirs[k] = c->st[c->cols[k]].dir;
    }
    /* the exchanges first: the job's text has a place to go from its first event */
    for (int k = 0; k < c->n_cols; k++)
        if (stage_push(&c->st[c->cols[k]], q) != 0) {
            for (int j = 0; j < k; j++) /* take back the ones pushed */
                ex_finish(last_ex(&c->st[c->cols[j]]), EX_FAILED, "out of memory");
            wb_message(wb, UI_BAD, "out of memory");
            free(q);
            return;
        }
    Err e;
    ChatJob *cj = chat_job_new(c->eng, &s, &e);
    long id = cj ? worker_submit(wb->worker, "chat", chat_job_run, cj, chat_job_free, &e) : -1;
    if (id < 0) {
        chat_job_free(cj);
        for (int k = 0; k < c->n_cols; k++)
            ex_finish(last_ex(&c->st[c->cols[k]]), EX_FAILED, e.msg);
        wb_message(wb, UI_BAD, "%s", e.msg);
        free(q);
        return;
    }
    for (int i = 0; i < c->n_st; i++)
        c->st[i].stale = 0;
    c->job = id;
    memcpy(c->run, c->cols, sizeof c->run);
    c->n_run = c->n_cols;
    c->t_start = cli_now();
    snprintf(c->status, sizeof c->status, "asking %d stage%s", c->n_cols, c->n_cols == 1 ? "" : "s");
    c->status_role = UI_DIM;
    history_push(c, q);
    input_set(c, wb, "");
    free(q);
    p->needs_redraw = 1;
}

static void stop(Chat *c, Workbench *wb)
{
    if (c->job && worker_cancel(wb->worker, c->job)) {
        snprintf(c->status, sizeof c->status, "stopping");
        c->status_role = UI_WARN;
    }
}

/* The picked column's last answer to its question, as a new QA record. */
static void make_record(Chat *c, Workbench *wb, int golden)
{
    if (!wb->store_open) {
        wb_message(wb, UI_WARN, "no QA store: set data.qa in infuse.yaml");
        return;
    }
    Stage *s = &c->st[c->cols[c->focus]];
    Exchange *x = last_ex(s);
    if (!x) {
        wb_message(wb, UI_WARN, "ask a question first");
        return;
    }
    if (x->state == EX_WAITING || x->state == EX_RUNNING) {
        wb_message(wb, UI_WARN, "%s is still answering: wait, or Esc stops it", s->name);
        return;
    }
    char *a = trimmed(x->a.s ? x->a.s : "", x->a.n);
    if (!a) {
        wb_message(wb, UI_BAD, "out of memory");
        return;
    }
    if (review_pane_add(&wb->panes[PANE_REVIEW], wb, x->q, a, golden) < 0) {
        wb_message(wb, UI_WARN, "Review is editing a record: save or cancel it there first");
    } else {
        wb_show_pane(wb, PANE_REVIEW);
        wb_message(wb, golden ? UI_GOLD : UI_GOOD, "%s record from %s's answer%s: edit it, Ctrl-S saves",
                   golden ? "Golden Data" : "pending", s->name, x->truncated ? " (cut at 64 KB)" : "");
    }
    free(a);
}

static void toggle_stage(Chat *c, Workbench *wb, int i)
{
    if (i < 0 || i >= c->n_st) {
        wb_message(wb, UI_WARN, "no stage %d: there %s %d (base and the adapters in infuse.yaml)", i + 1,
                   c->n_st == 1 ? "is" : "are", c->n_st);
        return;
    }
    int focused = c->cols[c->focus], at = -1;
    for (int k = 0; k < c->n_cols; k++)
        if (c->cols[k] == i)
            at = k;
    if (at >= 0) {
        if (c->n_cols == 1) {
            wb_message(wb, UI_WARN, "one column at least");
            return;
        }
        memmove(c->cols + at, c->cols + at + 1, (size_t)(c->n_cols - at - 1) * sizeof *c->cols);
        c->n_cols--;
    } else {
        if (c->n_cols == MAX_COLS) {
            wb_message(wb, UI_WARN, "at most %d columns: turn one off first", MAX_COLS);
            return;
        }
        int k = c->n_cols;
        while (k > 0 && c->cols[k - 1] > i) {
            c->cols[k] = c->cols[k - 1];
            k--;
        }
        c->cols[k] = i;
        c->n_cols++;
        focused = i;
    }
    c->focus = 0;
    for (int k = 0; k < c->n_cols; k++)
        if (c->cols[k] == focused)
            c->focus = k;
    if (c->job)
        wb_message(wb, UI_NORMAL, "%s %s from the next question", c->st[i].name, at >= 0 ? "leaves" : "answers");
}

static void change_temperature(Chat *c, Workbench *wb, float d)
{
    float t = roundf((c->temperature + d) * 10.0f) / 10.0f;
    c->temperature = t < 0 ? 0 : t > TEMP_MAX ? TEMP_MAX : t;
    wb_message(wb, UI_NORMAL, "temperature %.1f%s, from the next question", (double)c->temperature,
               c->temperature == 0 ? " (greedy)" : "");
}

static void change_max_tokens(Chat *c, Workbench *wb, int up)
{
    int m = up ? c->max_tokens * 2 : c->max_tokens / 2;
    c->max_tokens = m < 1 ? 1 : m > MAX_TOKENS_MAX ? MAX_TOKENS_MAX : m;
    wb_message(wb, UI_NORMAL, "at most %d tokens per answer, from the next question", c->max_tokens);
}

static void scroll_by(Chat *c, int d)
{
    Stage *s = &c->st[c->cols[c->focus]];
    long v = (long)s->scroll + d;
    s->scroll = v < 0 ? 0 : v > 1 << 28 ? 1 << 28 : (int)v;   /* the draw clamps it to the text */
}

/* ---- events from the job ---- */

static Stage *run_stage(Chat *c, long pos)
{
    return pos >= 0 && pos < c->n_run ? &c->st[c->run[pos]] : NULL;
}

static void take_stats(Chat *c, const ChatJobStats *s)
{
    for (int k = 0; k < s->n_stages && k < c->n_run; k++) {
        const ChatJobStat *t = &s->st[k];
        Exchange *x = last_ex(&c->st[c->run[k]]);
        if (!t->loaded || !x || (x->state != EX_WAITING && x->state != EX_RUNNING))
            continue;
        x->stat = *t;
        if (t->done)
            x->state = t->stop == GEN_STOP_CALLER ? EX_STOPPED : EX_DONE;
        else if (t->n_gen > 0 || t->prefill_s > 0)
            x->state = EX_RUNNING;
    }
}

static void chat_event(Pane *p, Workbench *wb, const WorkerEvent *ev)
{
    Chat *c = p->self;
    if (!c->job || ev->job_id != c->job)
        return;
    p->needs_redraw = 1;
    Stage *s;
    switch (ev->type) {
    case WORKER_EV_TOKEN:
        if ((s = run_stage(c, ev->index)) && ev->text) {
            if (last_ex(s) && last_ex(s)->state == EX_WAITING)
                last_ex(s)->state = EX_RUNNING;
            stage_append(s, ev->text, ev->len);
        }
        break;
    case WORKER_EV_USER:
        if (ev->index == CHAT_JOB_EV_STATS && ev->data && ev->size == sizeof(ChatJobStats))
            take_stats(c, ev->data);
        break;
    case WORKER_EV_LOG:
        if (ev->text) {
            if (strcmp(ev->text, CHAT_JOB_LOG_ANSWERING) == 0)
                snprintf(c->status, sizeof c->status, "answering: Esc stops");
            else
                snprintf(c->status, sizeof c->status, "%s...", ev->text);
            c->status_role = UI_DIM;
        }
        break;
    case WORKER_EV_ERROR:
        /* index > 0: a stage that could not be loaded; 0 repeats the DONE's message */
        if (ev->index > 0 && (s = run_stage(c, ev->index - 1)) && last_ex(s)) {
            ex_finish(last_ex(s), EX_FAILED, ev->text ? ev->text : "failed");
            wb_message(wb, UI_BAD, "%s", ev->text ? ev->text : "failed");
        }
        break;
    case WORKER_EV_DONE: {
        ExState to = ev->status == WORKER_OK ? EX_DONE : ev->status == WORKER_CANCELLED ? EX_STOPPED : EX_FAILED;
        for (int k = 0; k < c->n_run; k++)
            if (last_ex(&c->st[c->run[k]]))
                ex_finish(last_ex(&c->st[c->run[k]]), to, to == EX_FAILED ? ev->text : NULL);
        c->job = 0;
        c->n_run = 0;
        if (ev->status == WORKER_OK) {
            snprintf(c->status, sizeof c->status, "answered in %.1f s; Ctrl-G/Ctrl-P: answer to Review",
                     cli_now() - c->t_start);
            c->status_role = UI_DIM;
        } else if (ev->status == WORKER_CANCELLED) {
            snprintf(c->status, sizeof c->status, "stopped");
            c->status_role = UI_WARN;
        } else {
            snprintf(c->status, sizeof c->status, "%s", ev->text ? ev->text : "the chat job failed");
            c->status_role = UI_BAD;
            wb_message(wb, UI_BAD, "chat: %s", c->status);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- drawing ---- */

/* Rows of s at width w into *rows (none when s is empty or out of memory). */
static void wrap_into(const char *s, size_t n, size_t w, TwLine **rows, size_t *n_rows)
{
    Err e;
    free(*rows);
    *rows = NULL;
    *n_rows = 0;
    if (n && tw_wrap(s, n, w, rows, n_rows, &e) != 0)
        *rows = NULL, *n_rows = 0;
}

static void ex_wrap(Exchange *x, size_t w)
{
    int resized = x->wrap_w != w;
    if (resized || !x->qrows)
        wrap_into(x->q, strlen(x->q), w, &x->qrows, &x->n_qrows);
    if (resized || x->wrap_alen != x->a.n)
        wrap_into(x->a.s, x->a.n, w, &x->arows, &x->n_arows);
    if (x->note && (resized || !x->nrows))
        wrap_into(x->note, strlen(x->note), w, &x->nrows, &x->n_nrows);
    x->wrap_w = w;
    x->wrap_alen = x->a.n;
}

/* Rows of an exchange: a gap before all but the first, the question, the
 * answer (or one row while it is awaited), the note (an error, wrapped; or
 * one row: stopped, cut, no answer). */
static size_t ex_rows(const Exchange *x, int first)
{
    int waiting = x->state == EX_WAITING || x->state == EX_RUNNING;
    size_t note = x->note ? (x->n_nrows ? x->n_nrows : 1)
                          : x->truncated || x->state == EX_STOPPED || (!x->a.n && x->state == EX_DONE);
    return (first ? 0 : 1) + x->n_qrows + (x->a.n ? x->n_arows : waiting ? 1 : 0) + note;
}

static void ex_draw_row(const Exchange *x, int first, size_t r, int y, int xx, int w)
{
    if (!first) {
        if (r == 0)
            return;
        r--;
    }
    if (r < x->n_qrows) {
        ui_put_row(stdscr, y, xx, w, x->q, x->qrows[r].start, x->qrows[r].end, UI_ACCENT);
        return;
    }
    r -= x->n_qrows;
    if (x->a.n && r < x->n_arows) {
        ui_put_row(stdscr, y, xx, w, x->a.s, x->arows[r].start, x->arows[r].end, UI_NORMAL);
        return;
    }
    if (!x->a.n && (x->state == EX_WAITING || x->state == EX_RUNNING)) {
        if (r == 0) {
            ui_put(stdscr, y, xx, w, "...", UI_DIM);
            return;
        }
        r--;
    } else if (x->a.n) {
        r -= x->n_arows;
    }
    if (x->note && r < x->n_nrows)
        ui_put_row(stdscr, y, xx, w, x->note, x->nrows[r].start, x->nrows[r].end, UI_BAD);
    else if (r != 0)
        return;
    else if (x->note)
        ui_put(stdscr, y, xx, w, x->note, UI_BAD);
    else if (x->truncated)
        ui_put(stdscr, y, xx, w, "(the rest was not kept: 64 KB per answer)", UI_WARN);
    else if (x->state == EX_STOPPED)
        ui_put(stdscr, y, xx, w, "(stopped)", UI_WARN);
    else
        ui_put(stdscr, y, xx, w, "(no answer)", UI_DIM);
}

static void draw_transcript(Stage *s, int y, int x, int h, int w)
{
    if (w < 2 || h < 1)
        return;
    size_t total = 0;
    for (size_t i = 0; i < s->n_ex; i++) {
        ex_wrap(&s->ex[i], (size_t)w);
        total += ex_rows(&s->ex[i], i == 0);
    }
    size_t max_scroll = total > (size_t)h ? total - (size_t)h : 0;
    if ((size_t)s->scroll > max_scroll)
        s->scroll = (int)max_scroll;
    size_t first = total > (size_t)h ? total - (size_t)h - (size_t)s->scroll : 0;
    size_t row = 0;
    int drawn = 0;
    for (size_t i = 0; i < s->n_ex && drawn < h; i++) {
        size_t n = ex_rows(&s->ex[i], i == 0);
        if (row + n <= first) {
            row += n;
            continue;
        }
        for (size_t r = first > row ? first - row : 0; r < n && drawn < h; r++)
            ex_draw_row(&s->ex[i], i == 0, r, y + drawn++, x, w);
        row += n;
    }
}

/* "12 tokens  34.5 tok/s", and how the answer ended. */
static void draw_footer(Chat *c, Workbench *wb, Stage *s, int y, int x, int w)
{
    Exchange *x1 = last_ex(s);
    if (!x1)
        return;
    const ChatJobStat *t = &x1->stat;
    double tps = t->decode_s > 0 ? t->n_gen / t->decode_s : 0;
    char line[160];
    UiRole role = UI_DIM;
    switch (x1->state) {
    case EX_WAITING:
        snprintf(line, sizeof line, "%s",
                 c->job && worker_current(wb->worker, NULL, 0) != c->job ? "queued" : "loading, prefill...");
        break;
    case EX_RUNNING:
        snprintf(line, sizeof line, "%d tok %.0f tok/s", t->n_gen, tps);
        role = UI_ACCENT;
        break;
    case EX_DONE:
        /* short words: the footer is as narrow as a column */
        snprintf(line, sizeof line, "%d tok %.0f tok/s %s", t->n_gen, tps,
                 t->stop == GEN_STOP_LENGTH ? "max" : t->stop == GEN_STOP_CONTEXT ? "ctx full" :
                 t->stop == GEN_STOP_STRING ? "stop" : gen_stop_name((GenStop)t->stop));
        break;
    case EX_STOPPED:
        snprintf(line, sizeof line, "%d tok %.0f tok/s stopped", t->n_gen, tps);
        role = UI_WARN;
        break;
    case EX_FAILED:
        snprintf(line, sizeof line, "failed");
        role = UI_BAD;
        break;
    }
    ui_put(stdscr, y, x, w, line, role);
}

static int input_rows(const Chat *c, size_t width)
{
    size_t start = 0, next;
    int rows = 0;
    for (;;) {
        size_t end = tw_wrap_line(c->in.buf, c->in.len, start, width, &next);
        rows++;
        if (end >= c->in.len || next <= start || rows >= INPUT_ROWS_MAX)
            break;
        start = next;
    }
    return rows;
}

static void chat_draw(Pane *p, Workbench *wb, int y, int x, int h, int w)
{
    Chat *c = p->self;
    /* the stages: chosen ones highlighted */
    int cx = x + ui_put(stdscr, y, x, w, "Stages ", UI_TITLE);
    for (int i = 0; i < c->n_st && i < 9; i++) {
        int on = 0;
        for (int k = 0; k < c->n_cols; k++)
            on |= c->cols[k] == i;
        char label[96];
        if (i < 4)
            snprintf(label, sizeof label, "F%d %s", i + 5, c->st[i].name);
        else
            snprintf(label, sizeof label, "^T%d %s", i + 1, c->st[i].name);
        c->chip_x0[i] = cx - x;
        cx += ui_put(stdscr, y, cx, x + w - cx, label, on ? UI_SELECT : UI_DIM);
        c->chip_x1[i] = cx - x;
        cx += 1;
    }
    /* the input's height first: the columns get the rest */
    size_t in_w = w > 4 ? (size_t)(w - 3) : 1;
    c->in_width = in_w;
    int in_h = input_rows(c, in_w);
    int body_h = h - 4 - in_h;
    if (body_h < 1)
        body_h = 1;
    int ty = y + 1, by = y + 2, fy = by + body_h, sy = fy + 1, iy = sy + 1;
    c->body_y = by - y;
    c->body_h = body_h;
    c->input_y = iy - y;
    int n = c->n_cols, cw = (w - (n - 1)) / n;
    for (int k = 0; k < n; k++) {
        Stage *s = &c->st[c->cols[k]];
        int x0 = x + k * (cw + 1), ww = k == n - 1 ? x + w - x0 : cw;
        c->col_x[k] = x0 - x;
        c->col_w[k] = ww;
        if (k > 0)
            mvwvline(stdscr, ty, x0 - 1, ACS_VLINE, body_h + 2);
        draw_transcript(s, by, x0 + (k > 0 ? 1 : 0), body_h, ww - (k > 0 ? 1 : 0)); /* clamps scroll */
        char title[128];
        if (s->scroll > 0)
            snprintf(title, sizeof title, " %s  (%d more rows below: PgDn)", s->name, s->scroll);
        else
            snprintf(title, sizeof title, " %s", s->name);
        ui_putw(stdscr, ty, x0, ww, title, k == c->focus ? UI_SELECT : UI_TITLE);
        draw_footer(c, wb, s, fy, x0 + (k > 0 ? 1 : 0), ww - (k > 0 ? 1 : 0));
    }
    int empty = 1;
    for (int k = 0; k < n; k++)
        empty &= c->st[c->cols[k]].n_ex == 0;
    if (empty)
        ui_put(stdscr, by + 1, x + 1, c->col_w[0] - 2,
               wb->cfg.model ? "Ask below: all columns answer."
                             : "No model: set model: in infuse.yaml.",
               wb->cfg.model ? UI_DIM : UI_WARN);
    /* status: what the job does, and the sampling settings on the right */
    char samp[160];
    snprintf(samp, sizeof samp, " temp %.1f%s top_k %d top_p %.2f max %d ", (double)c->temperature,
             c->temperature == 0 ? " (greedy)" : "", wb->cfg.top_k, (double)wb->cfg.top_p, c->max_tokens);
    int sw = (int)tw_width(samp, strlen(samp));
    if (sw > w / 2)
        sw = w / 2;
    const char *st = c->status;
    char queued[192];
    char name[64];
    long cur = c->job ? worker_current(wb->worker, name, sizeof name) : 0;
    if (c->job && cur != c->job) {
        snprintf(queued, sizeof queued, "waiting for the worker: %s runs (Esc cancels the question)",
                 cur ? name : "a job");
        st = queued;
    }
    ui_put(stdscr, sy, x, w - sw - 1, st, c->job && st == queued ? UI_WARN : c->status_role);
    ui_put(stdscr, sy, x + w - sw, sw, samp, UI_DIM);
    /* the input */
    ui_put(stdscr, iy, x, 2, "> ", c->in_focused ? UI_ACCENT : UI_DIM);
    field_draw(stdscr, &c->in, iy, x + 2, in_h, w - 2, &c->in_scroll, c->in_focused, UI_NORMAL);
    if (c->in.len == 0)
        ui_put(stdscr, iy, x + 4, w - 4,
               c->in_focused ? "a question; Enter asks every column, Esc leaves the input"
                             : "Enter or i: back to the input",
               UI_DIM);
}

/* ---- keys ---- */

/* ncurses names modified keys by terminfo capability: kUP5 is Ctrl-Up. */
static int key_named(wint_t key, const char *name)
{
    const char *n = keyname((int)key);
    return n && strcmp(n, name) == 0;
}

static void pick_column(Chat *c, int d)
{
    c->focus += d;
    if (c->focus < 0)
        c->focus = 0;
    if (c->focus >= c->n_cols)
        c->focus = c->n_cols - 1;
}

static int page(const Chat *c)
{
    return c->body_h > 2 ? c->body_h - 1 : 1;
}

/* Keys of the pane in both modes; -1 when the key is not one of them. */
static int common_key(Chat *c, Workbench *wb, wint_t key, int is_fn)
{
    if (is_fn) {
        if (key >= KEY_F(5) && key <= KEY_F(8))
            toggle_stage(c, wb, (int)(key - KEY_F(5)));
        else if (key == KEY_F(9) || key_named(key, "kDN5"))
            change_temperature(c, wb, -0.1f);
        else if (key == KEY_F(10) || key_named(key, "kUP5"))
            change_temperature(c, wb, 0.1f);
        else if (key == KEY_F(11) || key == KEY_F(12))
            change_max_tokens(c, wb, key == KEY_F(12));
        else if (key == KEY_PPAGE || key == KEY_NPAGE)
            scroll_by(c, key == KEY_PPAGE ? page(c) : -page(c));
        else if (key == KEY_SR || key == KEY_SF)
            scroll_by(c, key == KEY_SR ? 1 : -1);
        else
            return -1;
        return 1;
    }
    switch (key) {
    case 20: /* Ctrl-T */
        c->ctrl_t = 1;
        wb_message(wb, UI_NORMAL, "Ctrl-T: a digit 1-%d toggles that stage", c->n_st < 9 ? c->n_st : 9);
        return 1;
    case 7: make_record(c, wb, 1); return 1;   /* Ctrl-G */
    case 16: make_record(c, wb, 0); return 1;  /* Ctrl-P */
    default: return -1;
    }
}

static int input_key(Pane *p, Chat *c, Workbench *wb, wint_t key, int is_fn)
{
    if ((!is_fn && (key == '\r' || key == '\n')) || (is_fn && key == KEY_ENTER)) {
        ask(p, c, wb);
        return 1;
    }
    /* pane switching: the workbench's (it applies even while we capture) */
    if ((!is_fn && key == '\t') || (is_fn && key == KEY_BTAB))
        return 0;
    if (is_fn && (key == KEY_LEFT || key == KEY_RIGHT) && c->in.len == 0) {
        pick_column(c, key == KEY_LEFT ? -1 : 1);
        return 1;
    }
    Err e;
    int rc = field_key(&c->in, key, is_fn, c->in_width, 0, &e);
    if (rc < 0)
        wb_message(wb, UI_BAD, "%s", e.msg);
    if (rc == 0 && is_fn && (key == KEY_UP || key == KEY_DOWN)) {
        history_move(c, wb, key == KEY_UP ? -1 : 1);
        return 1;
    }
    if (rc == 0) {
        p->needs_redraw = 0;
        return 0;
    }
    return 1;
}

static int column_key(Pane *p, Chat *c, Workbench *wb, wint_t key, int is_fn)
{
    if (is_fn) {
        switch (key) {
        case KEY_LEFT: pick_column(c, -1); return 1;
        case KEY_RIGHT: pick_column(c, 1); return 1;
        case KEY_UP: scroll_by(c, 1); return 1;
        case KEY_DOWN: scroll_by(c, -1); return 1;
        case KEY_HOME: scroll_by(c, 1 << 28); return 1;
        case KEY_END: c->st[c->cols[c->focus]].scroll = 0; return 1;
        case KEY_ENTER: c->in_focused = 1; return 1;
        default: break;
        }
    } else {
        switch (key) {
        case '\r': case '\n': case 'i': c->in_focused = 1; return 1;
        case 'g': make_record(c, wb, 1); return 1;
        case 'p': make_record(c, wb, 0); return 1;
        case '[': case ']': change_temperature(c, wb, key == '[' ? -0.1f : 0.1f); return 1;
        case '-': case '+': case '=': change_max_tokens(c, wb, key != '-'); return 1;
        default: break;
        }
    }
    p->needs_redraw = 0;
    return 0;
}

static int chat_key(Pane *p, Workbench *wb, wint_t key, int is_fn)
{
    Chat *c = p->self;
    p->needs_redraw = 1;
    if (c->ctrl_t) {
        c->ctrl_t = 0;
        if (!is_fn && key >= '1' && key <= '9') {
            toggle_stage(c, wb, (int)(key - '1'));
            return 1;
        }
        wb_message(wb, UI_NORMAL, "Ctrl-T: no stage toggled");
    }
    int rc = common_key(c, wb, key, is_fn);
    if (rc >= 0)
        return rc;
    if (!is_fn && key == 27) { /* Esc */
        if (c->job)
            stop(c, wb);
        else if (c->in_focused)
            c->in_focused = 0;
        else
            return p->needs_redraw = 0, 0;
        return 1;
    }
    return c->in_focused ? input_key(p, c, wb, key, is_fn) : column_key(p, c, wb, key, is_fn);
}

static void chat_click(Pane *p, Workbench *wb, int row, int col)
{
    Chat *c = p->self;
    p->needs_redraw = 1;
    if (row == 0) {
        for (int i = 0; i < c->n_st && i < 9; i++)
            if (col >= c->chip_x0[i] && col < c->chip_x1[i])
                toggle_stage(c, wb, i);
        return;
    }
    if (row >= c->input_y) {
        /* the field is drawn from column 2 ("> "), from row in_scroll */
        c->in_focused = 1;
        te_point(&c->in, c->in_width, (size_t)(c->in_scroll + row - c->input_y), col > 2 ? (size_t)(col - 2) : 0);
        return;
    }
    for (int k = 0; k < c->n_cols; k++)
        if (col >= c->col_x[k] && col < c->col_x[k] + c->col_w[k])
            c->focus = k;
}

static int chat_captures(Pane *p)
{
    Chat *c = p->self;
    return c->in_focused;
}

static void chat_show(Pane *p, Workbench *wb)
{
    Chat *c = p->self;
    c->in_focused = 1;
}

static void chat_destroy(Pane *p)
{
    Chat *c = p->self;
    if (!c)
        return;
    chat_engine_delete(c->eng); /* the worker is gone: no job holds it */
    for (int i = 0; c->st && i < c->n_st; i++) {
        for (size_t k = 0; k < c->st[i].n_ex; k++)
            ex_free(&c->st[i].ex[k]);
        free(c->st[i].ex);
    }
    free(c->st);
    te_free(&c->in);
    for (size_t i = 0; i < c->n_hist; i++)
        free(c->hist[i]);
    free(c->hist);
    free(c->draft);
    free(c);
    p->self = NULL;
}

void chat_pane_adapter_changed(Pane *p, Workbench *wb, const char *stage)
{
    Chat *c = p->self;
    if (!c || !stage)
        return;
    for (int i = 1; i < c->n_st; i++)
        if (strcmp(c->st[i].name, stage) == 0) {
            if (c->job)
                c->st[i].stale = 1;     /* the job holds the engine: at the next question */
            else
                chat_engine_drop_stage(c->eng, stage);
            p->needs_redraw = 1;
        }
}

int chat_pane_init(Pane *p, Workbench *wb, Err *e)
{
    *p = (Pane){.name = "Chat", .draw = chat_draw, .on_key = chat_key, .on_click = chat_click,
                .on_event = chat_event, .on_show = chat_show, .captures = chat_captures,
                .destroy = chat_destroy, .keys = chat_keys};
    Chat *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, "chat: out of memory");
    p->self = c;
    c->n_st = 1 + (int)wb->cfg.n_adapters;
    c->st = calloc((size_t)c->n_st, sizeof *c->st);
    c->hist = calloc(HIST_MAX, sizeof *c->hist);
    c->eng = chat_engine_new();
    if (!c->st || !c->hist || !c->eng || te_init(&c->in, "", 0, e) != 0) {
        c->n_st = c->st ? c->n_st : 0;
        return err_set(e, "chat: out of memory");
    }
    c->st[0].name = "base";
    for (size_t i = 0; i < wb->cfg.n_adapters; i++) {
        c->st[i + 1].name = wb->cfg.adapters[i].name;
        c->st[i + 1].dir = wb->cfg.adapters[i].path;
    }
    for (int i = 0; i < c->n_st && c->n_cols < MAX_COLS; i++)
        c->cols[c->n_cols++] = i;
    c->temperature = wb->cfg.temperature;
    c->max_tokens = wb->cfg.max_tokens;
    c->in_focused = 1;
    c->status_role = UI_DIM;
    return 0;
}
