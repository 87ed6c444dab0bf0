/* bench_pane.c - the Bench pane: Base vs CPT vs SFT on the evaluation set.
 *
 * The benchmark is one worker job (bench_job.h).  Ownership across the
 * threads: the BenchJob belongs to the pane, but between submit and the
 * job's DONE event only the worker thread writes it.  The UI reads its
 * items after the PREPARED event and a question's answers after that
 * question's ROW event: the job wrote them before posting, and posting and
 * draining go through the worker's mutex, so those reads see finished
 * data and nothing writes it again.  After DONE the UI owns all of it.
 *
 * Every run loads the adapters afresh, so after Train finishes a stage the
 * next run measures the new adapter (and its hash shows which one). */
#include "workbench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_job.h"
#include "fsutil.h"
#include "textwidth.h"

enum { EV_PREPARED = 1 };

typedef struct JobCtx {
    const Config *cfg;      /* the workbench's, read-only */
    BenchJob *bj;           /* the pane's */
} JobCtx;

typedef struct Bench {
    BenchJob bj;
    int have_job;           /* bj was prepared (and must be freed) */
    BenchJob prev;          /* the last complete run, kept while a new one runs */
    int have_prev;
    long job;               /* running job id, 0 when none */
    int prepared;           /* items readable */
    int done_rows;          /* rows readable */
    int complete;           /* the run finished: sums and reports */
    int stale;              /* an adapter changed since this run */
    int sel, top, col;      /* selected question, first shown, selected stage */
    int wrong_only;
    int *view;              /* indices of shown rows */
    int n_view;
    char status[256];
} Bench;

static const PaneKey bench_keys[] = {
    {"b", "run the benchmark (Enter too, before the first run)", "run"},
    {"Esc", "stop the run", "stop"},
    {"Left/Right", "choose the stage whose answer is shown", "stage"},
    {"w", "only questions some stage got wrong (base gets most wrong)", "wrong only"},
    {"J", "jump to the QA records about this question (Review)", "records"},
    {"m", "export Markdown and JSON (runs/bench-*.md, .json)", "export"},
    {"Up/Down", "select a question (PgUp, PgDn, Home, End)", NULL},
    {NULL, NULL, NULL},
};

/* ---- the job ---- */

static int on_row(void *ctx, int done, int total, const BenchAnswer *row)
{
    WorkerJob *job = ctx;
    (void)row;
    (void)total;
    worker_post_row(job, done, NULL, NULL);
    return worker_job_cancelled(job);
}

static int run_job(WorkerJob *job, void *ctx)
{
    JobCtx *jc = ctx;
    BenchJobArgs a;
    bench_job_args_init(&a);
    Err *e = worker_job_err(job);
    if (bench_job_prepare(jc->bj, jc->cfg, &a, e) != 0)
        return -1;
    worker_post_user(job, EV_PREPARED, NULL, NULL);
    for (int s = 0; s < jc->bj->n_stages; s++)
        if (jc->bj->st[s].adapter_dir)
            worker_post_log(job, "%s: %s (sha256 %.12s)", jc->bj->st[s].name, jc->bj->st[s].adapter_dir,
                            jc->bj->st[s].sha256);
    return bench_job_run(jc->bj, on_row, job, e);
}

/* ---- the UI side ---- */

static void refresh_view(Bench *b)
{
    free(b->view);
    b->view = NULL;
    b->n_view = 0;
    if (!b->prepared)
        return;
    b->view = malloc(((size_t)b->bj.n_items + 1) * sizeof *b->view);
    if (!b->view)
        return;
    for (int i = 0; i < b->bj.n_items; i++) {
        if (b->wrong_only) {
            if (i >= b->done_rows)
                continue;
            int wrong = 0;
            for (int s = 0; s < b->bj.n_stages; s++)
                wrong |= !b->bj.ans[i * b->bj.n_stages + s].score.correct;
            if (!wrong)
                continue;
        }
        b->view[b->n_view++] = i;
    }
    if (b->sel >= b->n_view)
        b->sel = b->n_view ? b->n_view - 1 : 0;
}

static void start(Bench *b, Workbench *wb)
{
    if (b->job) {
        wb_message(wb, UI_WARN, "the benchmark is running (Esc stops it)");
        return;
    }
    if (worker_busy(wb->worker)) {
        wb_message(wb, UI_WARN, "the engine is busy with another job; wait for it or stop it");
        return;
    }
    /* a complete run is kept until the new one completes: stopping the
     * new one brings it back */
    if (b->have_job && b->complete) {
        if (b->have_prev)
            bench_job_free(&b->prev);
        b->prev = b->bj;
        b->have_prev = 1;
    } else if (b->have_job) {
        bench_job_free(&b->bj);
    }
    b->have_job = 1;
    memset(&b->bj, 0, sizeof b->bj);
    b->prepared = b->done_rows = b->complete = b->stale = 0;
    refresh_view(b);
    JobCtx *jc = malloc(sizeof *jc);
    if (!jc)
        return;
    *jc = (JobCtx){&wb->cfg, &b->bj};
    /* the store's golden pairs are asked too: flush them to disk */
    Err e;
    if (wb->store_open && wb->store.n_journal && qa_store_compact(&wb->store, &e) != 0)
        wb_message(wb, UI_WARN, "%s", e.msg);
    long id = worker_submit(wb->worker, "benchmark", run_job, jc, free, &e);
    if (id < 0) {
        free(jc);
        wb_message(wb, UI_BAD, "%s", e.msg);
        return;
    }
    b->job = id;
    snprintf(b->status, sizeof b->status, "loading the model and the adapters...");
}

static void bench_event(Pane *p, Workbench *wb, const WorkerEvent *ev)
{
    Bench *b = p->self;
    if (!b->job || ev->job_id != b->job)
        return;
    p->needs_redraw = 1;
    switch (ev->type) {
    case WORKER_EV_USER:
        if (ev->index == EV_PREPARED) {
            b->prepared = 1;
            refresh_view(b);
            snprintf(b->status, sizeof b->status, "running");
        }
        break;
    case WORKER_EV_ROW:
        b->done_rows = (int)ev->index;
        if (b->wrong_only)
            refresh_view(b);
        break;
    case WORKER_EV_LOG:
        snprintf(b->status, sizeof b->status, "%s", ev->text ? ev->text : "");
        break;
    case WORKER_EV_DONE:
        b->job = 0;
        if (ev->status == WORKER_OK) {
            b->complete = 1;
            snprintf(b->status, sizeof b->status, "finished");
            if (b->have_prev)
                bench_job_free(&b->prev);
            b->have_prev = 0;
        } else if (b->have_prev) {
            bench_job_free(&b->bj);
            b->bj = b->prev;
            b->have_prev = 0;
            b->prepared = b->complete = 1;
            b->done_rows = b->bj.n_items;
            snprintf(b->status, sizeof b->status, "%s; showing the previous run", ev->status == WORKER_CANCELLED ?
                     "stopped" : ev->text ? ev->text : "failed");
            if (ev->status == WORKER_FAILED)
                wb_message(wb, UI_BAD, "benchmark: %s", ev->text ? ev->text : "failed");
        } else {
            snprintf(b->status, sizeof b->status, "%s", ev->status == WORKER_CANCELLED ? "stopped" :
                     ev->text ? ev->text : "failed");
            if (ev->status == WORKER_FAILED)
                wb_message(wb, UI_BAD, "benchmark: %s", ev->text ? ev->text : "failed");
        }
        refresh_view(b);
        break;
    default: break;
    }
}

/* Accuracy and friends over the rows done so far (the final sums once the
 * run is complete). */
static void partial_sum(const Bench *b, int s, BenchSummary *out)
{
    if (b->complete) {
        *out = b->bj.sum[s];
        return;
    }
    memset(out, 0, sizeof *out);
    for (int i = 0; i < b->done_rows; i++) {
        const BenchAnswer *a = &b->bj.ans[i * b->bj.n_stages + s];
        bench_summary_add(out, b->bj.items[i].kind, &a->score);
    }
    if (out->n)
        out->f1 /= out->n, out->rouge_l /= out->n;
}

static void draw_progress(Bench *b, int y, int x, int w)
{
    int total = b->prepared ? b->bj.n_items : 0;
    char label[96];
    snprintf(label, sizeof label, " %d/%d questions ", b->done_rows, total);
    int bw = w - (int)strlen(label) - 2;
    if (bw < 10) {
        ui_put(stdscr, y, x, w, label, UI_NORMAL);
        return;
    }
    int fill = total ? (int)((long)bw * b->done_rows / total) : 0;
    ui_put(stdscr, y, x, 1, "[", UI_NORMAL);
    /* characters, not only attributes, so the bar reads in monochrome too */
    const char *full = ui_utf8() ? "\xe2\x96\x88" : "#", *empty = ui_utf8() ? "\xe2\x96\x91" : "-";
    wattron(stdscr, ui_attr(UI_GOOD));
    for (int i = 0; i < bw; i++) {
        if (i == fill)
            wattroff(stdscr, ui_attr(UI_GOOD));
        mvwaddstr(stdscr, y, x + 1 + i, i < fill ? full : empty);
    }
    wattroff(stdscr, ui_attr(UI_GOOD));
    ui_put(stdscr, y, x + 1 + bw, 1, "]", UI_NORMAL);
    ui_put(stdscr, y, x + 2 + bw, w - bw - 2, label, UI_NORMAL);
}

static void draw_summary(Bench *b, int y, int x, int w)
{
    ui_printf(stdscr, y, x, w, UI_TITLE, "%-7s %-12s %6s %7s  %-10s %-10s %-10s %8s", "stage", "accuracy", "F1",
              "ROUGE-L", "taught", "golden", "probe", "decode/s");
    for (int s = 0; s < b->bj.n_stages; s++) {
        BenchSummary m;
        partial_sum(b, s, &m);
        char acc[32], taught[32], gold[32], probe[32], dec[32] = "-";
        bench_score_cell(acc, sizeof acc, m.correct, m.n);
        bench_score_cell(taught, sizeof taught, m.taught_correct, m.n_taught);
        bench_score_cell(gold, sizeof gold, m.golden_correct, m.n_golden);
        bench_score_cell(probe, sizeof probe, m.probe_correct, m.n_probe);
        if (b->complete)
            snprintf(dec, sizeof dec, "%.0f", m.decode_tps);
        ui_printf(stdscr, y + 1 + s, x, w, s == b->col ? UI_ACCENT : UI_NORMAL, "%-7s %-12s %6.3f %7.3f  %-10s %-10s %-10s %8s",
                  b->bj.st[s].name, acc, m.f1, m.rouge_l, taught, gold, probe, dec);
    }
}

static void draw_table(Bench *b, int y, int x, int h, int w)
{
    int ns = b->bj.n_stages;
    int cw = 7, qw = w - ns * cw - 1;
    if (qw < 10)
        qw = 10;
    ui_put(stdscr, y, x, qw, "question", UI_TITLE);
    for (int s = 0; s < ns; s++)
        ui_put(stdscr, y, x + qw + 1 + s * cw, cw, b->bj.st[s].name, s == b->col ? UI_ACCENT : UI_TITLE);
    h--;
    y++;
    if (b->sel < b->top)
        b->top = b->sel;
    if (b->sel >= b->top + h)
        b->top = b->sel - h + 1;
    for (int r = 0; r < h && b->top + r < b->n_view; r++) {
        int i = b->view[b->top + r];
        const BenchItem *it = &b->bj.items[i];
        int sel = b->top + r == b->sel;
        if (sel)
            ui_fill(stdscr, y + r, x, qw, UI_SELECT);
        char q[600];
        snprintf(q, sizeof q, "%s%s", bench_job_kind_prefix(it->kind), it->question);
        ui_put(stdscr, y + r, x, qw, q, sel ? UI_SELECT : it->kind == BENCH_EVAL ? UI_NORMAL : UI_DIM);
        for (int s = 0; s < ns; s++) {
            int cx = x + qw + 1 + s * cw;
            if (i >= b->done_rows) {
                ui_put(stdscr, y + r, cx, cw, "  .", UI_DIM);
                continue;
            }
            const BenchAnswer *a = &b->bj.ans[i * ns + s];
            char cell[16];
            snprintf(cell, sizeof cell, "%s %3.0f", a->score.correct ? "ok" : "--", a->score.f1 * 100);
            UiRole role = a->score.correct ? UI_GOOD : UI_BAD;
            if (sel && s == b->col)
                role = UI_SELECT;
            ui_put(stdscr, y + r, cx, cw - 1, cell, role);
        }
    }
}

/* The selected answer beside the reference, keywords found and missing. */
static void draw_detail(Bench *b, int y, int x, int h, int w)
{
    if (!b->n_view || h < 3)
        return;
    int i = b->view[b->sel];
    const BenchItem *it = &b->bj.items[i];
    int half = (w - 1) / 2;
    ui_printf(stdscr, y, x, half, UI_TITLE, "%s answered:", b->bj.st[b->col].name);
    ui_put(stdscr, y, x + half + 1, w - half - 1, "reference:", UI_TITLE);
    const char *ans = i < b->done_rows ? b->bj.ans[i * b->bj.n_stages + b->col].text : "(not yet asked)";
    const char *texts[2] = {ans ? ans : "", it->reference ? it->reference : ""};
    int rows = h - 2;
    for (int c = 0; c < 2; c++) {
        TwLine *lines = NULL;
        size_t n = 0;
        Err e;
        int cw = c ? w - half - 1 : half - 1;
        if (tw_wrap(texts[c], strlen(texts[c]), (size_t)cw, &lines, &n, &e) != 0)
            continue;
        for (size_t k = 0; k < n && (int)k < rows; k++)
            ui_put_row(stdscr, y + 1 + (int)k, x + (c ? half + 1 : 0), cw, texts[c], lines[k].start, lines[k].end,
                       UI_NORMAL);
        free(lines);
    }
    if (it->n_keywords && i < b->done_rows) {
        const EvalScore *sc = &b->bj.ans[i * b->bj.n_stages + b->col].score;
        int xx = x + ui_put(stdscr, y + h - 1, x, w, "keywords: ", UI_TITLE);
        for (size_t k = 0; k < it->n_keywords && xx < x + w; k++) {
            int found = k < 32 && (sc->matched >> k) & 1;
            char kw[128];
            snprintf(kw, sizeof kw, "%s%s", found ? "+" : "-", it->keywords[k]);
            xx += ui_put(stdscr, y + h - 1, xx, x + w - xx, kw, found ? UI_GOOD : UI_BAD) + 2;
        }
    }
}

static void bench_draw(Pane *p, Workbench *wb, int y, int x, int h, int w)
{
    Bench *b = p->self;
    UiRole role = b->job ? UI_WARN : b->complete ? UI_GOOD : UI_DIM;
    ui_printf(stdscr, y, x + 1, w - 2, role, "%s%s%s", b->status[0] ? b->status : "b runs the benchmark",
              b->wrong_only ? "  [only questions some stage got wrong]" : "",
              b->stale ? "  (an adapter changed since: b runs it again)" : "");
    if (!b->prepared)
        return;
    draw_progress(b, y + 1, x + 1, w - 2);
    draw_summary(b, y + 2, x + 1, w - 2);
    int ty = y + 3 + b->bj.n_stages + 1;
    int rest = y + h - ty;
    int dh = rest / 3 < 4 ? 4 : rest / 3;
    draw_table(b, ty, x + 1, rest - dh - 1, w - 2);
    mvwhline(stdscr, y + h - dh - 1, x, ACS_HLINE, w);
    draw_detail(b, y + h - dh, x + 1, dh, w - 2);
}

static void export(Bench *b, Workbench *wb)
{
    if (!b->complete) {
        wb_message(wb, UI_WARN, "no finished benchmark to export");
        return;
    }
    char stamp[32], md[600], js[600];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    const char *runs = wb->cfg.train.runs_dir ? wb->cfg.train.runs_dir : "runs";
    Err e;
    if (fs_mkdirs(runs, &e) != 0) {
        wb_message(wb, UI_BAD, "%s", e.msg);
        return;
    }
    snprintf(md, sizeof md, "%s/bench-%s.md", runs, stamp);
    snprintf(js, sizeof js, "%s/bench-%s.json", runs, stamp);
    if (bench_job_write_markdown(&b->bj, md, &e) != 0 || bench_job_write_json(&b->bj, js, &e) != 0)
        wb_message(wb, UI_BAD, "%s", e.msg);
    else
        wb_message(wb, UI_GOOD, "wrote %s and %s", md, js);
}

/* Review shows the records that share the question's first keyword (or
 * its longest word): where the knowledge should have come from. */
static void jump(Bench *b, Workbench *wb)
{
    if (!b->n_view)
        return;
    const BenchItem *it = &b->bj.items[b->view[b->sel]];
    char word[128] = "";
    if (it->n_keywords) {
        snprintf(word, sizeof word, "%s", it->keywords[0]);
    } else {
        const char *q = it->question;
        while (*q) {
            size_t n = strcspn(q, " ?,.;:'\"()");
            if (n > strlen(word) && n < sizeof word)
                snprintf(word, sizeof word, "%.*s", (int)n, q);
            q += n;
            q += strspn(q, " ?,.;:'\"()");
        }
    }
    review_pane_search(&wb->panes[PANE_REVIEW], wb, word);
    wb_show_pane(wb, PANE_REVIEW);
    wb_message(wb, UI_NORMAL, "records matching \"%s\" (Esc clears the search)", word);
}

static int bench_key(Pane *p, Workbench *wb, wint_t key, int is_fn)
{
    Bench *b = p->self;
    p->needs_redraw = 1;
    int page = 10;
    if (is_fn) {
        switch (key) {
        case KEY_UP: if (b->sel > 0) b->sel--; return 1;
        case KEY_DOWN: if (b->sel + 1 < b->n_view) b->sel++; return 1;
        case KEY_PPAGE: b->sel = b->sel > page ? b->sel - page : 0; return 1;
        case KEY_NPAGE: b->sel = b->sel + page < b->n_view ? b->sel + page : (b->n_view ? b->n_view - 1 : 0); return 1;
        case KEY_HOME: b->sel = 0; return 1;
        case KEY_END: b->sel = b->n_view ? b->n_view - 1 : 0; return 1;
        case KEY_LEFT: if (b->col > 0) b->col--; return 1;
        case KEY_RIGHT: if (b->col + 1 < b->bj.n_stages) b->col++; return 1;
        case KEY_ENTER: if (!b->prepared) start(b, wb); return 1;
        default: p->needs_redraw = 0; return 0;
        }
    }
    switch (key) {
    case 'b': start(b, wb); return 1;
    case '\r': case '\n': if (!b->prepared) start(b, wb); return 1;
    case 27:
        if (b->job) {
            worker_cancel(wb->worker, b->job);
            snprintf(b->status, sizeof b->status, "stopping after this question...");
        }
        return 1;
    case 'w': b->wrong_only = !b->wrong_only; refresh_view(b); return 1;
    case 'm': export(b, wb); return 1;
    case 'J': jump(b, wb); return 1;
    case 'k': if (b->sel > 0) b->sel--; return 1;
    case 'j': if (b->sel + 1 < b->n_view) b->sel++; return 1;
    default: p->needs_redraw = 0; return 0;
    }
}

static void bench_click(Pane *p, Workbench *wb, int row, int col)
{
    Bench *b = p->self;
    int first = 4 + b->bj.n_stages + 1; /* the table's first question row */
    if (!b->prepared || row < first)
        return;
    int i = b->top + row - first;
    if (i < b->n_view)
        b->sel = i;
    p->needs_redraw = 1;
}

static void bench_destroy(Pane *p)
{
    Bench *b = p->self;
    if (!b)
        return;
    if (b->have_job)
        bench_job_free(&b->bj);
    if (b->have_prev)
        bench_job_free(&b->prev);
    free(b->view);
    free(b);
    p->self = NULL;
}

void bench_pane_adapter_changed(Pane *p, Workbench *wb, const char *stage)
{
    Bench *b = p->self;
    if (b->prepared)
        b->stale = 1;
    p->needs_redraw = 1;
}

int bench_pane_init(Pane *p, Workbench *wb, Err *e)
{
    Bench *b = calloc(1, sizeof *b);
    if (!b)
        return err_set(e, "out of memory");
    *p = (Pane){.name = "Bench", .self = b, .draw = bench_draw, .on_key = bench_key, .on_click = bench_click,
                .on_event = bench_event, .destroy = bench_destroy, .keys = bench_keys};
    return 0;
}
