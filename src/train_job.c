/* train_job.c - a training stage of infuse.yaml, from settings to adapter (see train_job.h).
 *
 * The order of the work is the order a person reads about it: the model,
 * the settings, the data (with its warnings), what the run will train on,
 * the run folder.  A failure part-way leaves the lines logged so far, so
 * the command line shows the same lines before an error as it always did. */
#include "train_job.h"
#include "fsutil.h"
#include "generate.h"
#include "qa_store.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void train_job_args_init(TrainJobArgs *a, const char *stage)
{
    memset(a, 0, sizeof *a);
    a->stage = stage;
    a->steps = a->epochs = a->batch = a->seq_len = a->threads = a->seed = -1;
    a->lr = -1;
    a->full = -1;
}

static void jlog(const TrainJob *j, int warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void jlog(const TrainJob *j, int warning, const char *fmt, ...)
{
    if (!j->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        j->log(j->log_ctx, warning, line);
        free(line);
    }
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* Golden Data from path: golden_repeat times, each weighing golden_weight.
 * Repeats, not only weight, are what makes it learned: AdamW's step is
 * about as long whatever the loss's scale, so a heavier example moves the
 * weights once per epoch, where a repeated one moves them again. */
static int load_golden(TrainJob *j, const char *path, const SftOptions *o, const ConfigStage *st, Err *e)
{
    SftOptions go = *o;
    go.weight = st->golden_weight;
    go.golden = 1;
    int rc = 0;
    for (int r = 0; rc == 0 && r < st->golden_repeat; r++)
        rc = dataset_load_sft(&j->train, path, j->tok, &go, e);
    return rc;
}

/* A QA store (qa_store.h) trains on its approved pairs, golden ones as
 * load_golden does: each kind is exported to a temporary SFT file and
 * loaded from there, so the store goes through the same loader as any
 * JSONL. */
static int load_store(TrainJob *j, const char *path, const SftOptions *o, const ConfigStage *st, Err *e)
{
    /* a snapshot: the workbench may hold the store open while it trains */
    QaStore s;
    if (qa_store_open_snapshot(&s, path, e) != 0)
        return -1;
    for (size_t i = 0; i < s.n_warnings; i++)
        jlog(j, 1, "%s", s.warnings[i]);
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *tmp = NULL;
    if (asprintf(&tmp, "%s/infuse-sft-%ld.jsonl", tmpdir, (long)getpid()) < 0) {
        qa_store_close(&s);
        return err_set(e, "out of memory");
    }
    size_t total = 0;
    int rc = 0;
    for (int golden = 0; rc == 0 && golden < 2; golden++) {
        size_t n = 0;
        rc = qa_store_export_sft(&s, tmp, golden ? QA_EXPORT_GOLDEN : QA_EXPORT_PLAIN, &n, e);
        if (rc == 0 && n)
            rc = golden ? load_golden(j, tmp, o, st, e) : dataset_load_sft(&j->train, tmp, j->tok, o, e);
        total += n;
        unlink(tmp);
    }
    free(tmp);
    if (rc == 0 && total == 0)
        rc = err_set(e, "%s: no approved pairs to train on (infuse review --approve ID)", path);
    if (rc == 0) {
        j->data.n_store_pairs += total;
        jlog(j, 0, "%s: %zu approved pairs", path, total);
    }
    qa_store_close(&s);
    return rc;
}

/* The end-of-sequence id appended to documents: the first of gen_end_ids. */
static int eos_of(const Model *m, const Tokenizer *tok)
{
    int32_t ids[GEN_MAX_END_IDS];
    return gen_end_ids(m, tok, 0, ids) > 0 ? ids[0] : 0;
}

/* The effective TrainOptions: the stage's section with a's overrides. */
static void fill_options(TrainJob *j, const ConfigStage *st, const TrainJobArgs *a)
{
    TrainOptions *o = &j->opts;
    train_options_defaults(o);
    o->stage = j->stage;
    o->base_name = j->model_dir;
    o->full = a->full >= 0 ? a->full : st->full;
    o->lora_rank = st->lora.rank;
    o->lora_alpha = st->lora.alpha;
    o->lora_dropout = st->lora.dropout;
    o->lora_targets = st->lora.targets;
    o->rslora = st->lora.rslora;
    o->batch = a->batch > 0 ? (int)a->batch : st->batch;
    o->grad_accum = st->grad_accum;
    o->group_by_length = st->group_by_length;
    o->seq_len = a->seq_len > 0 ? (int)a->seq_len : st->seq_len;
    o->steps = a->steps > 0 ? a->steps : st->steps;
    o->epochs = a->epochs > 0 ? (int)a->epochs : st->epochs;
    o->lr = a->lr > 0 ? a->lr : st->lr;
    o->min_lr_ratio = st->min_lr_ratio;
    o->weight_decay = st->weight_decay;
    o->beta1 = st->beta1, o->beta2 = st->beta2, o->eps = st->eps;
    o->grad_clip = st->grad_clip;
    o->schedule = st->schedule == CONFIG_SCHEDULE_CONSTANT ? SCHED_CONSTANT : SCHED_COSINE;
    o->warmup = st->warmup;
    o->eval_every = st->eval_every;
    o->save_every = st->save_every;
    o->patience = st->patience;
    o->min_delta = st->min_delta;
    o->seed = a->seed >= 0 ? (uint64_t)a->seed : st->seed;
    o->threads = a->threads > 0 ? (int)a->threads : st->threads;
    o->save_dtype = j->model.dtype == DT_F32 ? DT_F32 : j->model.dtype;
    o->resume = a->resume;
}

/* The training and validation data, and their description. */
static int load_data(TrainJob *j, const Config *cfg, const ConfigStage *st, const TrainJobArgs *a, Err *e)
{
    const int sft = strcmp(j->stage, "sft") == 0;
    const char *const *paths = (const char *const *)st->data;
    size_t n_paths = st->n_data;
    if (a->n_data) {
        paths = a->data;
        n_paths = a->n_data;
    }
    if (n_paths == 0)
        return err_set(e, "train: no training data: pass --data PATH or set train.%s.data", j->stage);
    const int eos = eos_of(&j->model, j->tok);
    const SftOptions so = {.tmpl = cfg->chat_template,
                           .system = cfg->system_prompt,
                           .seq_len = j->opts.seq_len,
                           .mask_prompt = st->mask_prompt,
                           .eos_id = eos,
                           .weight = 1.0f,
                           .augment = st->augment,
                           .augment_drop = st->augment_drop,
                           .augment_seed = j->opts.seed};
    const CptOptions co = {.seq_len = j->opts.seq_len, .eos_id = eos, .tmpl = cfg->chat_template,
                           .system = cfg->system_prompt};
    int rc = 0;
    if (sft) {
        for (size_t i = 0; rc == 0 && i < n_paths; i++)
            rc = qa_store_sniff(paths[i]) ? load_store(j, paths[i], &so, st, e)
                                          : dataset_load_sft(&j->train, paths[i], j->tok, &so, e);
    } else {
        rc = dataset_load_cpt(&j->train, paths, n_paths, j->tok, &co, e);
    }
    if (rc == 0 && sft && !a->n_data && cfg->golden && fs_exists(cfg->golden))
        rc = load_golden(j, cfg->golden, &so, st, e);
    const char *vp = a->valid ? a->valid : st->valid;
    SftOptions vo = so;
    vo.augment = 0; /* validation measures the questions as asked */
    if (rc == 0 && vp)
        rc = sft ? dataset_load_sft(&j->valid, vp, j->tok, &vo, e)
                 : dataset_load_cpt(&j->valid, &vp, 1, j->tok, &co, e);
    else if (rc == 0 && st->valid_fraction > 0 && dataset_n_splittable(&j->train) >= 2) {
        rc = dataset_split(&j->train, &j->valid, st->valid_fraction, j->opts.seed, e);
        j->data.valid_split = rc == 0;
    } else if (rc == 0 && st->valid_fraction > 0)
        jlog(j, 1, "no validation: valid_fraction %g, but fewer than 2 examples may be held out (Golden Data never is)",
             st->valid_fraction);
    if (rc == 0) {
        TrainJobData *d = &j->data;
        d->n_train = j->train.n;
        for (size_t i = 0; i < j->train.n; i++) {
            d->n_copies += j->train.ex[i].copy;
            d->n_golden += j->train.ex[i].golden;
        }
        d->n_valid = j->valid.n;
        d->n_tokens = j->train.n_tokens;
        d->n_targets = j->train.n_targets;
        d->n_valid_tokens = j->valid.n_tokens;
        d->n_truncated = j->train.n_truncated;
        d->n_dropped = j->train.n_dropped;
        d->valid_fraction = st->valid_fraction;
        if (sft) {
            d->golden_weight = st->golden_weight;
            d->golden_repeat = st->golden_repeat;
            d->augment = st->augment;
            d->augment_drop = st->augment_drop;
            d->mask_prompt = st->mask_prompt;
        }
    }
    return rc;
}

/* RUNS/STAGE-YYYYmmdd-HHMMSS, the given folder, or the newest to resume. */
static int pick_run_dir(TrainJob *j, const Config *cfg, const TrainJobArgs *a, Err *e)
{
    const char *runs = train_job_runs_dir(cfg);
    if (a->run_dir)
        j->run_dir = strdup(a->run_dir);
    else if (a->resume) {
        j->run_dir = train_job_latest_run(runs, j->stage);
        if (!j->run_dir)
            return err_set(e, "train: --resume: no %s run with a checkpoint in %s", j->stage, runs);
    } else {
        char id[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        snprintf(id, sizeof id, "%s-", j->stage);
        strftime(id + strlen(id), sizeof id - strlen(id), "%Y%m%d-%H%M%S", &tm);
        j->run_dir = fs_join(runs, id);
    }
    if (!j->run_dir)
        return err_set(e, "out of memory");
    j->opts.run_dir = j->run_dir;
    return 0;
}

int train_job_prepare(TrainJob *j, const Config *cfg, const TrainJobArgs *a, TrainJobLog log, void *log_ctx,
                      Err *e)
{
    memset(j, 0, sizeof *j);
    j->log = log;
    j->log_ctx = log_ctx;
    if (!a->stage || (strcmp(a->stage, "cpt") != 0 && strcmp(a->stage, "sft") != 0))
        return err_set(e, "train: unknown stage \"%s\" (cpt or sft)", a->stage ? a->stage : "");
    const int sft = strcmp(a->stage, "sft") == 0;
    const ConfigStage *st = sft ? &cfg->train.sft : &cfg->train.cpt;
    const char *model_dir = a->model ? a->model : cfg->model;
    if (!model_dir)
        return err_set(e, "train: no model: pass -m MODEL or set model: in infuse.yaml");
    int oom = 0;
    j->stage = dup_or_null(a->stage, &oom);
    j->model_dir = dup_or_null(model_dir, &oom);
    char *tok_path = fs_join(model_dir, "tokenizer.json");
    if (oom || !tok_path) {
        free(tok_path);
        err_set(e, "out of memory");
        goto fail;
    }
    j->tok = tokenizer_load(tok_path, e);
    free(tok_path);
    if (!j->tok || model_load(&j->model, model_dir, e) != 0)
        goto fail;
    j->have_model = 1;
    fill_options(j, st, a);
    j->output = dup_or_null(a->output ? a->output : st->output, &oom);
    j->opts.output = j->output;
    if (!oom && !j->output) {
        err_set(e, "train: no output folder: pass --output DIR or set train.%s.output", j->stage);
        goto fail;
    }
    /* SFT continues the CPT adapter when asked to and it exists. */
    if (sft && !j->opts.full) {
        if (st->init_from == CONFIG_INIT_PATH)
            j->init_adapter = dup_or_null(st->init_path, &oom);
        else if (st->init_from == CONFIG_INIT_CPT && cfg->train.cpt.output) {
            char *ac = fs_join(cfg->train.cpt.output, "adapter_config.json");
            if (!ac)
                oom = 1;
            else if (fs_exists(ac))
                j->init_adapter = dup_or_null(cfg->train.cpt.output, &oom);
            free(ac);
        }
        j->opts.init_adapter = j->init_adapter;
    }
    if (oom) {
        err_set(e, "out of memory");
        goto fail;
    }
    if (load_data(j, cfg, st, a, e) != 0)
        goto fail;
    const TrainJobData *d = &j->data;
    if (d->n_truncated && d->n_dropped)
        jlog(j, 1, "%ld records longer than seq_len %d were cut to it; %ld dropped (no answer left after the cut)",
             d->n_truncated, j->opts.seq_len, d->n_dropped);
    else if (d->n_truncated)
        jlog(j, 1, "%ld records longer than seq_len %d were cut to it", d->n_truncated, j->opts.seq_len);
    else if (d->n_dropped)
        jlog(j, 1, "%ld records dropped (no answer left within seq_len %d)", d->n_dropped, j->opts.seq_len);
    jlog(j, 0, "%s on %zu examples (%ld tokens, %ld targets), %zu held out; %s", j->stage, d->n_train, d->n_tokens,
         d->n_targets, d->n_valid, j->opts.full ? "full training" : "LoRA");
    if (d->n_golden)
        jlog(j, 0, "%zu of them are Golden Data (%d time%s each, loss weight %g), never held out", d->n_golden,
             st->golden_repeat, st->golden_repeat == 1 ? "" : "s", st->golden_weight);
    if (d->n_copies)
        jlog(j, 0, "%zu of them are augmented copies (train.sft.augment %d)", d->n_copies, st->augment);
    if (pick_run_dir(j, cfg, a, e) != 0)
        goto fail;
    return 0;
fail:
    train_job_free(j);
    return -1;
}

int train_job_run(TrainJob *j, TrainCallback cb, void *ctx, Err *e)
{
    jlog(j, 0, "run folder %s%s", j->opts.run_dir, j->opts.resume ? " (resuming)" : "");
    memset(&j->result, 0, sizeof j->result);
    return train_run(&j->opts, &j->model, &j->train, j->valid.n ? &j->valid : NULL, cb, ctx, &j->result, e);
}

void train_job_free(TrainJob *j)
{
    dataset_free(&j->train);
    dataset_free(&j->valid);
    if (j->have_model)
        model_free(&j->model);
    tokenizer_delete(j->tok);
    free(j->stage);
    free(j->model_dir);
    free(j->output);
    free(j->run_dir);
    free(j->init_adapter);
    memset(j, 0, sizeof *j);
}

const char *train_job_runs_dir(const Config *cfg)
{
    return cfg->train.runs_dir ? cfg->train.runs_dir : "runs";
}

char *train_job_latest_run(const char *runs_dir, const char *stage)
{
    DIR *d = opendir(runs_dir);
    if (!d)
        return NULL;
    char *best = NULL;
    size_t sl = strlen(stage);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, stage, sl) != 0 || de->d_name[sl] != '-')
            continue;
        if (best && strcmp(de->d_name, best) <= 0)
            continue;
        char *dir = fs_join(runs_dir, de->d_name), *ck = dir ? fs_join(dir, "checkpoint.safetensors") : NULL;
        if (ck && fs_exists(ck)) {
            char *name = strdup(de->d_name);
            if (name) {
                free(best);
                best = name;
            }
        }
        free(ck);
        free(dir);
    }
    closedir(d);
    char *path = best ? fs_join(runs_dir, best) : NULL;
    free(best);
    return path;
}
