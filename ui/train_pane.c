/* train_pane.c - the Train pane: run CPT or SFT and watch it learn.
 *
 * The run is one worker job (train_job.h on the engine thread); the pane
 * only keeps numbers the job posts: each step's TrainProgress as a STEP
 * event (merged by the worker when the UI is slow, so only the latest step
 * is kept, but every step's loss goes into the chart through a USER event
 * batch), log lines, and what the job read (TrainJobData).  Pause and stop
 * are the worker's flags, answered by the trainer's callback between
 * steps, so neither waits for the engine.
 *
 * The Config is shared read-only with the job: the UI never changes it
 * while the workbench runs.
 *
 * The chart is lossplot.h: the current run's train and validation loss,
 * the previous run of the same stage (its metrics.jsonl) drawn faintly
 * behind. */
#include "workbench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "lossplot.h"
#include "run_metrics.h"
#include "train_job.h"

#define LOG_LINES 200
#define LOSS_BATCH 64

enum { EV_DATA = 1, EV_LOSSES, EV_RESULT };

/* Losses of steps since the last batch: the STEP event carries only the
 * latest step, so the chart gets every point through these. */
typedef struct LossBatch {
    int n;
    long step[LOSS_BATCH];
    double loss[LOSS_BATCH];
    long valid_step;        /* -1: no validation in this batch */
    double valid_loss;
} LossBatch;

typedef struct JobCtx {
    const Config *cfg;      /* the workbench's, read-only */
    char stage[8];
    LossBatch batch;
} JobCtx;

typedef struct Train {
    int stage;              /* 0 cpt, 1 sft */
    long job;               /* the running job's id, 0 when none */
    int state;              /* 0 idle, 1 running, 2 done, 3 stopped, 4 failed */
    TrainProgress last;
    int have_last;
    TrainJobData data;
    int have_data;
    TrainResult result;
    int have_result;
    LossPlot plot;
    LossPlotOptions popt;
    LossPlotCell *cells;
    size_t n_cells;
    char *log[LOG_LINES];   /* ring */
    int log_n, log_head, log_scroll;
    char prev_run[512];
} Train;

static const char *const stage_names[2] = {"cpt", "sft"};

static const PaneKey train_keys[] = {
    {"c / s", "choose CPT (corpus text) or SFT (QA pairs)", "stage"},
    {"Enter", "start training the chosen stage", "start"},
    {"p", "pause / resume", "pause"},
    {"x", "stop (the stage's adapter stays as it was; the run's own is in its run folder)", "stop"},
    {"e", "EMA smoothing of the train line", "EMA"},
    {"l", "log-scale loss axis", NULL},
    {"b", "braille / ASCII chart", NULL},
    {"PgUp/PgDn", "scroll the log", NULL},
    {NULL, NULL, NULL},
};

static void log_add(Train *t, const char *line)
{
    int i = (t->log_head + t->log_n) % LOG_LINES;
    if (t->log_n == LOG_LINES) {
        free(t->log[t->log_head]);
        t->log_head = (t->log_head + 1) % LOG_LINES;
        i = (t->log_head + t->log_n - 1) % LOG_LINES;
    } else {
        t->log_n++;
    }
    t->log[i] = strdup(line);
}

/* The previous run of the chosen stage, drawn behind the current one. */
static void load_previous(Train *t, Workbench *wb)
{
    lossplot_clear_previous(&t->plot);
    t->prev_run[0] = 0;
    char *dir = train_job_latest_run(train_job_runs_dir(&wb->cfg), stage_names[t->stage]);
    if (!dir)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    RunMetrics m;
    Err e;
    if (run_metrics_load(&m, path, &e) == 0) {
        lossplot_load_previous(&t->plot, m.step, m.loss, m.n, m.valid_step, m.valid_loss, m.n_valid);
        const char *base = strrchr(dir, '/');
        snprintf(t->prev_run, sizeof t->prev_run, "%s", base ? base + 1 : dir);
        run_metrics_free(&m);
    }
    free(dir);
}

/* ---- the job, on the worker thread ---- */

static void job_log(void *ctx, int warning, const char *line)
{
    WorkerJob *job = ctx;
    if (warning)
        worker_post_log(job, "warning: %s", line);
    else
        worker_post_log(job, "%s", line);
}

typedef struct CbCtx {
    WorkerJob *job;
    JobCtx *jc;
} CbCtx;

static void flush_losses(CbCtx *c)
{
    LossBatch *b = &c->jc->batch;
    if (b->n == 0 && b->valid_step < 0)
        return;
    LossBatch *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *b;
        worker_post_user(c->job, EV_LOSSES, copy, free);
    }
    b->n = 0;
    b->valid_step = -1;
}

static TrainAction on_progress(void *ctx, const TrainProgress *p)
{
    CbCtx *c = ctx;
    LossBatch *b = &c->jc->batch;
    if (!p->paused && (b->n == 0 || b->step[b->n - 1] != p->step)) {
        b->step[b->n] = p->step;
        b->loss[b->n++] = p->loss;
    }
    if (p->evaluated) {
        b->valid_step = p->step;
        b->valid_loss = p->valid_loss;
    }
    if (b->n == LOSS_BATCH || p->evaluated || p->step == p->total_steps || b->n % 4 == 0)
        flush_losses(c);
    TrainProgress copy = *p;
    if (p->message)
        worker_post_log(c->job, "%s", p->message);
    copy.message = NULL;
    worker_post_step(c->job, &copy, sizeof copy);
    if (worker_job_cancelled(c->job))
        return TRAIN_STOP;
    return worker_job_paused(c->job) ? TRAIN_PAUSE : TRAIN_GO;
}

static int run_job(WorkerJob *job, void *ctx)
{
    JobCtx *jc = ctx;
    TrainJobArgs a;
    train_job_args_init(&a, jc->stage);
    TrainJob tj;
    Err *e = worker_job_err(job);
    jc->batch.valid_step = -1;
    if (train_job_prepare(&tj, jc->cfg, &a, job_log, job, e) != 0)
        return -1;
    TrainJobData *d = malloc(sizeof *d);
    if (d) {
        *d = tj.data;
        worker_post_user(job, EV_DATA, d, free);
    }
    /* The run writes its adapter inside its run folder; only a run that
     * finishes replaces the stage's adapter (adapters/sft), so stopping a
     * run early never throws away the adapter Bench and Chat use. */
    char *final = tj.output, *staged = fs_join(tj.run_dir, "adapter");
    if (!staged) {
        train_job_free(&tj);
        return err_set(e, "out of memory");
    }
    tj.output = staged;
    tj.opts.output = staged;
    CbCtx cb = {job, jc};
    int rc = worker_job_cancelled(job) ? 0 : train_job_run(&tj, on_progress, &cb, e);
    flush_losses(&cb);
    if (rc == 0 && !tj.result.stopped) {
        rc = fs_replace_dir(staged, final, e);
        if (rc == 0)
            worker_post_log(job, "adapter written to %s", final);
    } else if (rc == 0) {
        worker_post_log(job, "stopped: %s is unchanged; this run's adapter is in %s", final, staged);
    }
    if (rc == 0) {
        TrainResult *r = malloc(sizeof *r);
        if (r) {
            *r = tj.result;
            worker_post_user(job, EV_RESULT, r, free);
        }
    }
    tj.output = final;
    tj.opts.output = final;
    free(staged);
    train_job_free(&tj);
    return rc;
}

/* ---- the UI side ---- */

static void start(Train *t, Workbench *wb)
{
    if (t->job) {
        wb_message(wb, UI_WARN, "a training run is already going (x stops it)");
        return;
    }
    if (worker_busy(wb->worker)) {
        wb_message(wb, UI_WARN, "the engine is busy with another job; wait for it or stop it");
        return;
    }
    JobCtx *jc = calloc(1, sizeof *jc);
    if (!jc)
        return;
    jc->cfg = &wb->cfg;
    snprintf(jc->stage, sizeof jc->stage, "%s", stage_names[t->stage]);
    /* what the store holds now is what SFT reads: flush it to disk */
    Err e;
    if (wb->store_open && t->stage == 1 && wb->store.n_journal && qa_store_compact(&wb->store, &e) != 0)
        wb_message(wb, UI_WARN, "%s", e.msg);
    char name[32];
    snprintf(name, sizeof name, "train %s", jc->stage);
    long id = worker_submit(wb->worker, name, run_job, jc, free, &e);
    if (id < 0) {
        free(jc);
        wb_message(wb, UI_BAD, "%s", e.msg);
        return;
    }
    t->job = id;
    t->state = 1;
    t->have_last = t->have_data = t->have_result = 0;
    load_previous(t, wb);
    lossplot_clear(&t->plot);
    char line[64];
    snprintf(line, sizeof line, "starting %s", name);
    log_add(t, line);
}

static void train_event(Pane *p, Workbench *wb, const WorkerEvent *ev)
{
    Train *t = p->self;
    if (!t->job || ev->job_id != t->job)
        return;
    p->needs_redraw = 1;
    switch (ev->type) {
    case WORKER_EV_STEP:
        if (ev->size == sizeof t->last) {
            memcpy(&t->last, ev->data, sizeof t->last);
            t->have_last = 1;
        }
        break;
    case WORKER_EV_USER:
        if (ev->index == EV_DATA) {
            t->data = *(const TrainJobData *)ev->data;
            t->have_data = 1;
        } else if (ev->index == EV_LOSSES) {
            const LossBatch *b = ev->data;
            for (int i = 0; i < b->n; i++)
                lossplot_add_train(&t->plot, b->step[i], b->loss[i]);
            if (b->valid_step >= 0)
                lossplot_add_valid(&t->plot, b->valid_step, b->valid_loss);
        } else if (ev->index == EV_RESULT) {
            t->result = *(const TrainResult *)ev->data;
            t->have_result = 1;
        }
        break;
    case WORKER_EV_LOG:
    case WORKER_EV_ERROR:
        log_add(t, ev->text ? ev->text : "");
        break;
    case WORKER_EV_DONE:
        t->job = 0;
        if (ev->status == WORKER_OK) {
            t->state = t->result.stopped ? 3 : 2;
            const char *st = stage_names[t->stage];
            wb_message(wb, UI_GOOD, "%s %s: Bench and Chat use the new %s adapter", st,
                       t->result.stopped ? "stopped" : "finished", st);
            bench_pane_adapter_changed(&wb->panes[PANE_BENCH], wb, st);
            chat_pane_adapter_changed(&wb->panes[PANE_CHAT], wb, st);
        } else if (ev->status == WORKER_CANCELLED) {
            t->state = 3;
            const ConfigStage *cs = t->stage ? &wb->cfg.train.sft : &wb->cfg.train.cpt;
            if (t->have_result)
                wb_message(wb, UI_WARN, "%s stopped at step %ld; %s is unchanged (the run's adapter stays in its run folder)",
                           stage_names[t->stage], t->result.steps, cs->output ? cs->output : "the adapter");
            else
                wb_message(wb, UI_WARN, "training stopped before it began; no adapter written");
        } else {
            t->state = 4;
            wb_message(wb, UI_BAD, "training failed: %s", ev->text ? ev->text : "");
        }
        if (ev->text && ev->status != WORKER_OK)
            log_add(t, ev->text);
        break;
    default: break;
    }
}

/* An unknown time (no ETA yet) shows as such, not as 00:00. */
static void hms(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "--:--");
    else
        cli_hms(buf, n, s);
}

static void draw_settings(Train *t, Workbench *wb, int y, int x, int w)
{
    const ConfigStage *s = t->stage ? &wb->cfg.train.sft : &wb->cfg.train.cpt;
    char data[256] = "";
    for (size_t i = 0; i < s->n_data; i++)
        snprintf(data + strlen(data), sizeof data - strlen(data), "%s%s", i ? ", " : "", s->data[i]);
    ui_printf(stdscr, y, x, w, UI_NORMAL, "data %s -> %s", s->n_data ? data : "(none)", s->output ? s->output : "?");
    char decay[48] = "";
    if (s->weight_decay > 0)
        snprintf(decay, sizeof decay, ", weight decay %g", (double)s->weight_decay);
    char sched[160];
    snprintf(sched, sizeof sched, "%s, lr %.2g (warm-up %d)%s, batch %d x %d, seq %d, %s %d", s->full ? "full" : "LoRA",
             (double)s->lr, s->warmup, decay, s->batch, s->grad_accum, s->seq_len, s->steps ? "steps" : "epochs",
             s->steps ? s->steps : s->epochs);
    char lora[96] = "";
    /* A continued adapter keeps its own rank and alpha, not the config's. */
    int continued = t->stage && (s->init_from == CONFIG_INIT_CPT || s->init_from == CONFIG_INIT_PATH);
    if (!s->full && !continued)
        snprintf(lora, sizeof lora, ", rank %d alpha %g", s->lora.rank, (double)s->lora.alpha);
    ui_printf(stdscr, y + 1, x, w, UI_NORMAL, "%s%s", sched, lora);
    const char *from = "a new adapter";
    if (s->init_from == CONFIG_INIT_CPT)
        from = "the CPT adapter";
    else if (s->init_from == CONFIG_INIT_PATH && s->init_path)
        from = s->init_path;
    if (t->stage)
        ui_printf(stdscr, y + 2, x, w, UI_NORMAL, "golden weight %g x %d, augment %d, answers only %s, from %s",
                  (double)s->golden_weight, s->golden_repeat, s->augment, s->mask_prompt ? "yes" : "no", from);
    else
        ui_printf(stdscr, y + 2, x, w, UI_NORMAL, "validation %s", s->valid ? s->valid : s->valid_fraction > 0 ? "split off the data" : "none");
    if (t->have_data)
        ui_printf(stdscr, y + 3, x, w, UI_DIM, "read: %zu examples (%zu golden, %zu copies), %ld tokens; %zu held out",
                  t->data.n_train, t->data.n_golden, t->data.n_copies, t->data.n_tokens, t->data.n_valid);
}

static void draw_stats(Train *t, int y, int x, int w)
{
    static const char *const state[] = {"idle", "running", "finished", "stopped", "failed"};
    if (!t->have_last) {
        ui_printf(stdscr, y, x, w, t->state == 4 ? UI_BAD : UI_DIM, "%s%s", state[t->state],
                  t->state == 1 ? ": loading the model and data..." : "");
        return;
    }
    const TrainProgress *p = &t->last;
    char el[32], eta[32];
    hms(el, sizeof el, p->elapsed_s);
    hms(eta, sizeof eta, p->eta_s);
    char valid[32] = "-";
    if (!isnan(p->valid_loss))
        snprintf(valid, sizeof valid, "%.4f", p->valid_loss);
    int paused = t->state == 1 && p->paused;
    ui_printf(stdscr, y, x, w, t->state == 1 ? (paused ? UI_WARN : UI_GOOD) : UI_NORMAL,
              "%s  step %ld/%ld  epoch %ld  loss %.4f  valid %s  lr %.2e  |g| %.3f", paused ? "PAUSED" : state[t->state],
              p->step, p->total_steps, p->epoch, p->loss, valid, p->lr, p->grad_norm);
    if (t->state == 1)
        ui_printf(stdscr, y + 1, x, w, UI_NORMAL, "%.0f tokens/s  elapsed %s  ETA %s  %ld tokens", p->tokens_per_s, el,
                  eta, p->tokens);
    else
        ui_printf(stdscr, y + 1, x, w, UI_NORMAL, "%.0f tokens/s  took %s  %ld tokens", p->tokens_per_s, el, p->tokens);
}

static UiRole cell_role(LossPlotStyle s)
{
    switch (s) {
    case LOSSPLOT_TRAIN: return UI_GOOD;
    case LOSSPLOT_VALID: return UI_ACCENT;
    case LOSSPLOT_PREV_TRAIN: case LOSSPLOT_PREV_VALID: return UI_DIM;
    case LOSSPLOT_AXIS: case LOSSPLOT_LABEL: return UI_NORMAL;
    default: return UI_NORMAL;
    }
}

static void draw_chart(Train *t, int y, int x, int h, int w)
{
    size_t need = (size_t)h * (size_t)w;
    if (need > t->n_cells) {
        LossPlotCell *c = realloc(t->cells, need * sizeof *c);
        if (!c)
            return;
        t->cells = c;
        t->n_cells = need;
    }
    t->popt.braille = t->popt.braille && ui_utf8();
    if (t->have_last)
        t->popt.total_steps = t->last.total_steps;
    Err e;
    if (lossplot_render(&t->plot, w, h, &t->popt, t->cells, &e) != 0)
        return;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            const LossPlotCell *cell = &t->cells[r * w + c];
            if (cell->ch[0] == ' ' && !cell->ch[1])
                continue;
            attr_t a = ui_attr(cell_role(cell->style));
            wattron(stdscr, a);
            mvwaddstr(stdscr, y + r, x + c, cell->ch);
            wattroff(stdscr, a);
        }
}

static void train_draw(Pane *p, Workbench *wb, int y, int x, int h, int w)
{
    Train *t = p->self;
    int xx = x + 1;
    xx += ui_put(stdscr, y, xx, w, "Stage: ", UI_TITLE);
    for (int i = 0; i < 2; i++)
        xx += ui_printf(stdscr, y, xx, w - xx, i == t->stage ? UI_SELECT : UI_DIM, " %s ", i ? "SFT" : "CPT") + 1;
    ui_printf(stdscr, y, xx + 1, w - xx - 1, UI_DIM, "previous run: %s%s%s%s", t->prev_run[0] ? t->prev_run : "none",
              t->popt.smooth ? "  [EMA]" : "", t->popt.log_y ? "  [log]" : "", t->popt.braille ? "" : "  [ASCII]");
    draw_settings(t, wb, y + 1, x + 1, w - 2);
    draw_stats(t, y + 5, x + 1, w - 2);
    int log_h = h >= 30 ? 6 : 3;
    int chart_h = h - 8 - log_h;
    if (chart_h >= 4)
        draw_chart(t, y + 7, x, chart_h, w);
    else
        ui_put(stdscr, y + 7, x + 1, w - 2, "(the loss chart needs a taller terminal)", UI_DIM);
    int ly = y + h - log_h;
    mvwhline(stdscr, ly - 1 < y + 7 ? y + 7 : ly - 1, x, ACS_HLINE, w);
    int first = t->log_n - log_h - t->log_scroll;
    if (first < 0)
        first = 0;
    for (int i = 0; i < log_h && first + i < t->log_n; i++) {
        const char *line = t->log[(t->log_head + first + i) % LOG_LINES];
        ui_put(stdscr, ly + i, x + 1, w - 2, line ? line : "", strncmp(line ? line : "", "warning", 7) ? UI_DIM : UI_WARN);
    }
}

static int train_key(Pane *p, Workbench *wb, wint_t key, int is_fn)
{
    Train *t = p->self;
    p->needs_redraw = 1;
    if (is_fn) {
        if (key == KEY_PPAGE)
            t->log_scroll = t->log_scroll + 3 < t->log_n ? t->log_scroll + 3 : t->log_n;
        else if (key == KEY_NPAGE)
            t->log_scroll = t->log_scroll > 3 ? t->log_scroll - 3 : 0;
        else if (key == KEY_ENTER)
            start(t, wb);
        else
            return p->needs_redraw = 0, 0;
        return 1;
    }
    switch (key) {
    case 'c': case 's':
        if (t->job) {
            wb_message(wb, UI_WARN, "a run is going; the stage changes when it ends");
            return 1;
        }
        t->stage = key == 's';
        t->have_last = t->have_data = 0;
        t->state = 0;
        lossplot_clear(&t->plot);
        load_previous(t, wb);
        return 1;
    case '\r': case '\n': start(t, wb); return 1;
    case 'p':
        if (!t->job) {
            wb_message(wb, UI_NORMAL, "no run to pause: Enter starts one");
            return 1;
        }
        if (worker_paused(wb->worker))
            worker_resume(wb->worker);
        else
            worker_pause(wb->worker);
        wb_message(wb, UI_NORMAL, worker_paused(wb->worker) ? "pausing after this step" : "resumed");
        return 1;
    case 'x':
        if (t->job) {
            worker_resume(wb->worker);
            worker_cancel(wb->worker, t->job);
            wb_message(wb, UI_WARN, "stopping after this step");
        } else {
            wb_message(wb, UI_NORMAL, "no run to stop");
        }
        return 1;
    case 'e': t->popt.smooth = !t->popt.smooth; return 1;
    case 'l': t->popt.log_y = !t->popt.log_y; return 1;
    case 'b': t->popt.braille = !t->popt.braille; return 1;
    default: p->needs_redraw = 0; return 0;
    }
}

static void train_destroy(Pane *p)
{
    Train *t = p->self;
    if (!t)
        return;
    lossplot_free(&t->plot);
    free(t->cells);
    for (int i = 0; i < t->log_n; i++)
        free(t->log[(t->log_head + i) % LOG_LINES]);
    free(t);
    p->self = NULL;
}

int train_pane_init(Pane *p, Workbench *wb, Err *e)
{
    Train *t = calloc(1, sizeof *t);
    if (!t)
        return err_set(e, "out of memory");
    if (lossplot_init(&t->plot, 0, e) != 0) {
        free(t);
        return -1;
    }
    lossplot_options_defaults(&t->popt);
    /* SFT batches differ in answer length, so step losses scatter widely:
     * a long average is what shows the trend */
    t->popt.smoothing = 0.97;
    t->stage = wb->cfg.train.sft.n_data ? 1 : 0;
    *p = (Pane){.name = "Train", .self = t, .draw = train_draw, .on_key = train_key, .on_event = train_event,
                .destroy = train_destroy, .keys = train_keys};
    load_previous(t, wb);
    return 0;
}
