/* trainer.c - the training loop, validation, checkpoints and resume (see trainer.h). */
#include "trainer.h"
#include "fsutil.h"
#include "model_params.h"
#include "pool.h"
#include "safetensors.h"
#include "train_step.h"
#include "trainable.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void train_options_defaults(TrainOptions *o)
{
    memset(o, 0, sizeof *o);
    o->stage = "";
    o->lora_rank = 8;
    o->lora_alpha = 16;
    o->lora_dropout = 0.05f;
    o->lora_targets = LORA_ALL_TARGETS;
    o->batch = 4;
    o->grad_accum = 1;
    o->seq_len = 512;
    o->epochs = 1;
    o->lr = 2e-4;
    o->min_lr_ratio = 0.1;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->grad_clip = 1.0;
    o->schedule = SCHED_COSINE;
    o->warmup = 10;
    o->eval_every = 50;
    o->save_every = 100;
    o->seed = 0;
    o->save_dtype = DT_F32;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Everything a run carries from step to step; a checkpoint stores the
 * scalars here and the Trainable's tensors. */
typedef struct Run {
    const TrainOptions *o;
    Trainable tr;
    Pool *pool;
    TrainState s;
    Batcher bat;
    Batch *mb;              /* grad_accum micro-batches */
    Batch vb;               /* validation batch */
    AdamW opt;
    long step, total, tokens;
    double elapsed0;        /* elapsed before this session (resume) */
    double best, last_valid, last_loss;
    int bad_evals;
    FILE *metrics;
    char *ckpt_path, *metrics_path, *best_dir;
} Run;

static long count_steps(const TrainOptions *o, const Dataset *d)
{
    if (o->steps > 0)
        return o->steps;
    long per_step = (long)o->batch * o->grad_accum;
    long per_epoch = ((long)d->n + per_step - 1) / per_step;
    return per_epoch * (o->epochs > 0 ? o->epochs : 1);
}

/* Validation loss over every example of v, in order, without dropout. */
static int validate(Run *r, const Dataset *v, double *out, Err *e)
{
    double ls_all = 0, ws_all = 0;
    for (size_t i = 0; i < v->n; i += (size_t)r->o->batch) {
        Batch *b = &r->vb;
        int B = (int)(v->n - i < (size_t)r->o->batch ? v->n - i : (size_t)r->o->batch), T = 0;
        for (int k = 0; k < B; k++)
            T = v->ex[i + (size_t)k].n > T ? v->ex[i + (size_t)k].n : T;
        b->B = B, b->T = T;
        memset(b->tok, 0, sizeof(int32_t) * (size_t)B * (size_t)T);
        memset(b->mask, 0, (size_t)B * (size_t)T);
        for (int k = 0; k < B; k++) {
            const Example *x = &v->ex[i + (size_t)k];
            memcpy(b->tok + (size_t)k * (size_t)T, x->tok, sizeof(int32_t) * (size_t)x->n);
            memcpy(b->mask + (size_t)k * (size_t)T, x->mask, (size_t)x->n);
            b->weight[k] = x->weight;
            b->len[k] = x->n;
        }
        double ls, ws;
        if (train_forward(&r->s, b, 0, 0, &ls, &ws, e) != 0)
            return -1;
        ls_all += ls, ws_all += ws;
    }
    *out = ws_all > 0 ? ls_all / ws_all : NAN;
    return 0;
}

static void now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The trained result into dir: a PEFT adapter or a model folder. */
static int save_result(Run *r, const char *dir, const Dataset *train, const Dataset *valid, double elapsed, Err *e)
{
    const TrainOptions *o = r->o;
    if (o->full) {
        char steps[32];
        snprintf(steps, sizeof steps, "%ld", r->step);
        const char *k[] = {"format", "infuse_stage", "infuse_steps", "infuse_data_sha256"};
        const char *v[] = {"pt", o->stage, steps, train->sha256};
        if (model_save(&r->tr.w, dir, o->save_dtype, k, v, 4, e) != 0)
            return -1;
        /* The tokenizer comes along, so the folder is a whole model. */
        return model_copy_tokenizer(r->tr.w.dir, dir, e);
    }
    AdapterRecord rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.stage, sizeof rec.stage, "%s", o->stage ? o->stage : "");
    snprintf(rec.data_sha256, sizeof rec.data_sha256, "%s", train->sha256);
    if (valid)
        snprintf(rec.valid_sha256, sizeof rec.valid_sha256, "%s", valid->sha256);
    rec.steps = r->step;
    rec.tokens = r->tokens;
    rec.train_loss = r->last_loss;
    rec.valid_loss = r->last_valid;
    rec.seed = o->seed;
    rec.elapsed_s = elapsed;
    now_iso(rec.created, sizeof rec.created);
    return adapter_save(&r->tr.lw, dir, o->base_name ? o->base_name : "", &rec, e);
}

/* Writes the result into a temporary folder beside dir, then swaps it in. */
static int save_result_atomic(Run *r, const char *dir, const Dataset *train, const Dataset *valid, double elapsed,
                              Err *e)
{
    size_t n = strlen(dir);
    char *tmp = malloc(n + 8);
    if (!tmp)
        return err_set(e, "out of memory");
    memcpy(tmp, dir, n);
    memcpy(tmp + n, ".tmp", 5);
    int rc = fs_remove_tree(tmp, e);
    if (rc == 0)
        rc = save_result(r, tmp, train, valid, elapsed, e);
    if (rc == 0)
        rc = fs_replace_dir(tmp, dir, e);
    free(tmp);
    return rc;
}

static int save_checkpoint(Run *r, double elapsed, Err *e)
{
    char v[10][40];
    snprintf(v[0], 40, "%ld", r->step);
    snprintf(v[1], 40, "%ld", r->bat.epoch);
    snprintf(v[2], 40, "%ld", r->bat.pos);
    snprintf(v[3], 40, "%ld", r->tokens);
    snprintf(v[4], 40, "%.17g", elapsed);
    snprintf(v[5], 40, "%.17g", r->best);
    snprintf(v[6], 40, "%d", r->bad_evals);
    snprintf(v[7], 40, "%ld", r->opt.t);
    snprintf(v[8], 40, "%.17g", r->last_valid);
    snprintf(v[9], 40, "%.17g", r->last_loss);
    const char *keys[] = {"step", "epoch", "pos", "tokens", "elapsed", "best", "bad_evals", "adam_t",
                          "valid_loss", "loss", "settings"};
    char settings[200];
    snprintf(settings, sizeof settings, "full=%d rank=%d batch=%d accum=%d seq=%d seed=%llu", r->o->full,
             r->o->full ? 0 : r->tr.lw.rank, r->o->batch, r->o->grad_accum, r->o->seq_len,
             (unsigned long long)r->o->seed);
    const char *vals[11];
    for (int i = 0; i < 10; i++)
        vals[i] = v[i];
    vals[10] = settings;
    return trainable_save(&r->tr, r->ckpt_path, keys, vals, 11, e);
}

static int load_checkpoint(Run *r, Err *e)
{
    SafeTensors st;
    if (trainable_load(&r->tr, r->ckpt_path, &st, e) != 0)
        return -1;
    const char *need[] = {"step", "epoch", "pos", "tokens", "elapsed", "best", "bad_evals", "adam_t", "valid_loss",
                          "loss", "settings"};
    const char *val[11];
    for (int i = 0; i < 11; i++)
        if (!(val[i] = safetensors_meta(&st, need[i]))) {
            err_set(e, "%s: metadata \"%s\" missing: not an infuse checkpoint", r->ckpt_path, need[i]);
            safetensors_close(&st);
            return -1;
        }
    char settings[200];
    snprintf(settings, sizeof settings, "full=%d rank=%d batch=%d accum=%d seq=%d seed=%llu", r->o->full,
             r->o->full ? 0 : r->tr.lw.rank, r->o->batch, r->o->grad_accum, r->o->seq_len,
             (unsigned long long)r->o->seed);
    if (strcmp(settings, val[10]) != 0) {
        err_set(e, "%s: made with other settings (%s; now %s): resume with the same ones or start afresh",
                r->ckpt_path, val[10], settings);
        safetensors_close(&st);
        return -1;
    }
    r->step = atol(val[0]);
    long epoch = atol(val[1]), pos = atol(val[2]);
    r->tokens = atol(val[3]);
    r->elapsed0 = strtod(val[4], NULL);
    r->best = strtod(val[5], NULL);
    r->bad_evals = atoi(val[6]);
    r->opt.t = atol(val[7]);
    r->last_valid = strtod(val[8], NULL);
    r->last_loss = strtod(val[9], NULL);
    safetensors_close(&st);
    const Dataset *d = r->bat.d;
    batcher_free(&r->bat);
    if (batcher_init(&r->bat, d, r->o->seed, epoch, pos, e) != 0)
        return -1;
    return r->o->group_by_length ? batcher_group(&r->bat, r->o->batch, e) : 0;
}

/* On resume, the metrics file keeps the lines up to the checkpoint's step:
 * what was logged after it is about to be done again. */
static int trim_metrics(const char *path, long step, Err *e)
{
    if (!fs_exists(path))
        return 0;
    size_t len;
    char *text = fs_read_all(path, &len, e);
    if (!text)
        return -1;
    size_t keep = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;  /* a torn last line is dropped */
        cJSON *j = cJSON_ParseWithLength(line, (size_t)(nl - line));
        cJSON *s = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
        int ok = s && cJSON_IsNumber(s) && (long)s->valuedouble <= step;
        cJSON_Delete(j);
        if (!ok)
            break;
        keep = (size_t)(nl + 1 - text);
        line = nl + 1;
    }
    const void *p[1] = {text};
    size_t l[1] = {keep};
    int rc = fs_write_atomic(path, p, l, 1, e);
    free(text);
    return rc;
}

static void log_metrics(Run *r, const TrainProgress *p)
{
    if (!r->metrics)
        return;
    fprintf(r->metrics, "{\"step\":%ld,\"epoch\":%ld,\"loss\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%ld,"
                        "\"tokens_per_s\":%.1f,\"elapsed_s\":%.3f",
            p->step, p->epoch, p->loss, p->lr, p->grad_norm, p->tokens, p->tokens_per_s, p->elapsed_s);
    if (p->evaluated)
        fprintf(r->metrics, ",\"valid_loss\":%.6g", p->valid_loss);
    fputs("}\n", r->metrics);
    fflush(r->metrics);
}

/* *paused_s gets the seconds spent paused, which are not training time:
 * elapsed, tokens/s and the ETA leave them out. */
static TrainAction ask(TrainCallback cb, void *ctx, TrainProgress *p, double *paused_s)
{
    *paused_s = 0;
    if (!cb)
        return TRAIN_GO;
    TrainAction a = cb(ctx, p);
    if (a != TRAIN_PAUSE)
        return a;
    const double t0 = now_s();
    while (a == TRAIN_PAUSE) {
        usleep(100000);
        p->paused = 1;
        a = cb(ctx, p);
    }
    p->paused = 0;
    *paused_s = now_s() - t0;
    return a;
}

static void run_free(Run *r)
{
    if (r->metrics)
        fclose(r->metrics);
    train_state_free(&r->s);
    if (r->mb)
        for (int i = 0; i < r->o->grad_accum; i++)
            batch_free(&r->mb[i]);
    free(r->mb);
    free(r->vb.tok), free(r->vb.mask), free(r->vb.weight), free(r->vb.len);
    batcher_free(&r->bat);
    pool_delete(r->pool);
    trainable_free(&r->tr);
    free(r->ckpt_path), free(r->metrics_path), free(r->best_dir);
}

static int longest(const Dataset *d)
{
    int T = 0;
    for (size_t i = 0; d && i < d->n; i++)
        T = d->ex[i].n > T ? d->ex[i].n : T;
    return T;
}

int train_run(const TrainOptions *o, const Model *base, const Dataset *train, const Dataset *valid,
              TrainCallback cb, void *ctx, TrainResult *res, Err *e)
{
    memset(res, 0, sizeof *res);
    if (!train || train->n == 0)
        return err_set(e, "no training examples");
    if (o->batch < 1 || o->grad_accum < 1)
        return err_set(e, "batch and grad_accum must be at least 1");
    if (valid && valid->n == 0)
        valid = NULL;
    Run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.best = INFINITY;
    r.last_valid = NAN;
    r.last_loss = NAN;
    r.opt = (AdamW){o->beta1, o->beta2, o->eps, o->weight_decay, 0};
    int rc = -1;
    if (trainable_init(&r.tr, base, o->full, o->lora_rank, o->lora_alpha, o->lora_dropout, o->lora_targets,
                       o->rslora, o->init_adapter, o->seed, e) != 0)
        return -1;
    r.pool = pool_new(o->threads > 0 ? o->threads : pool_cpu_count());
    int T = longest(train), Tv = longest(valid);
    if (Tv > T)
        T = Tv;
    if (T < 2)
        T = 2;
    if (train_state_init(&r.s, &r.tr.w, o->full ? NULL : &r.tr.lw, o->full ? NULL : &r.tr.lg,
                         o->full ? &r.tr.g : NULL, r.pool, o->batch, T, e) != 0)
        goto out;
    r.mb = calloc((size_t)o->grad_accum, sizeof *r.mb);
    r.vb.tok = calloc((size_t)o->batch * (size_t)T, sizeof(int32_t));
    r.vb.mask = calloc((size_t)o->batch * (size_t)T, 1);
    r.vb.weight = calloc((size_t)o->batch, sizeof(float));
    r.vb.len = calloc((size_t)o->batch, sizeof(int));
    if (!r.mb || !r.vb.tok || !r.vb.mask || !r.vb.weight || !r.vb.len) {
        err_set(e, "out of memory");
        goto out;
    }
    if (batcher_init(&r.bat, train, o->seed, 0, 0, e) != 0 ||
        (o->group_by_length && batcher_group(&r.bat, o->batch, e) != 0))
        goto out;
    if (fs_mkdirs(o->run_dir, e) != 0)
        goto out;
    r.ckpt_path = fs_join(o->run_dir, "checkpoint.safetensors");
    r.metrics_path = fs_join(o->run_dir, "metrics.jsonl");
    r.best_dir = fs_join(o->run_dir, "best");
    if (o->resume) {
        if (!fs_exists(r.ckpt_path)) {
            err_set(e, "%s: no checkpoint to resume from", r.ckpt_path);
            goto out;
        }
        if (load_checkpoint(&r, e) != 0 || trim_metrics(r.metrics_path, r.step, e) != 0)
            goto out;
    } else if (fs_exists(r.metrics_path) && remove(r.metrics_path) != 0) {
        err_set(e, "%s: cannot start a new log", r.metrics_path);
        goto out;
    }
    r.metrics = fopen(r.metrics_path, "a");
    if (!r.metrics) {
        err_set(e, "%s: cannot open for writing", r.metrics_path);
        goto out;
    }
    r.total = count_steps(o, train);
    double t_start = now_s();  /* moved later by the time spent paused */
    const long tokens0 = r.tokens;
    TrainProgress p = {0};
    p.total_steps = r.total;
    p.valid_loss = r.last_valid;
    p.best_valid_loss = r.best;
    int stop = 0;
    double step_time = 0;
    while (r.step < r.total && !stop) {
        /* The step's micro-batches first: the loss is normalised by the
         * weight of all their targets together. */
        double wsum = 0;
        long step_tokens = 0;
        for (int k = 0; k < o->grad_accum; k++) {
            if (batcher_next(&r.bat, o->batch, &r.mb[k], e) != 0)
                goto out;
            const Batch *b = &r.mb[k];
            for (int i = 0; i < b->B; i++) {
                step_tokens += b->len[i];
                for (int t = 1; t < b->T; t++)
                    wsum += b->mask[i * b->T + t] ? b->weight[i] : 0;
            }
        }
        const double t0 = now_s();
        double ls_all = 0;  /* (adamw_step leaves the gradients zero) */
        for (int k = 0; k < o->grad_accum && wsum > 0; k++) {
            double ls, ws;
            uint64_t drop_seed = o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)r.step * 131 + (uint64_t)k + 1;
            if (train_forward(&r.s, &r.mb[k], 1, drop_seed, &ls, &ws, e) != 0)
                goto out;
            train_backward(&r.s, &r.mb[k], (float)(1.0 / wsum));
            ls_all += ls;
        }
        double loss = wsum > 0 ? ls_all / wsum : 0;
        double gnorm = grad_norm(r.pool, r.tr.p, r.tr.n);
        if (!isfinite(loss) || !isfinite(gnorm)) {
            err_set(e, "the loss became %s at step %ld; stopped, and the last checkpoint (%s) is kept as it was",
                    isnan(loss) || isnan(gnorm) ? "NaN" : "infinite", r.step + 1, r.ckpt_path);
            goto out;
        }
        double lr = lr_at(o->schedule, o->lr, r.step, r.total, o->warmup, o->min_lr_ratio);
        adamw_step(&r.opt, r.pool, r.tr.p, r.tr.n, lr, clip_factor(gnorm, o->grad_clip));
        r.step++;
        r.tokens += step_tokens;
        r.last_loss = loss;
        double dt = now_s() - t0;
        step_time = step_time == 0 ? dt : 0.9 * step_time + 0.1 * dt;
        const double elapsed = r.elapsed0 + (now_s() - t_start);

        p.step = r.step;
        p.epoch = r.bat.epoch;
        p.loss = loss;
        p.lr = lr;
        p.grad_norm = gnorm;
        p.tokens = r.tokens;
        p.tokens_per_s = (double)(r.tokens - tokens0) / (now_s() - t_start);
        p.elapsed_s = elapsed;
        p.eta_s = step_time * (double)(r.total - r.step);
        p.evaluated = 0;
        p.message = NULL;
        int last = r.step == r.total;
        if (valid && ((o->eval_every > 0 && r.step % o->eval_every == 0) || last)) {
            double vl;
            if (validate(&r, valid, &vl, e) != 0)
                goto out;
            r.last_valid = vl;
            p.valid_loss = vl;
            p.evaluated = 1;
            if (vl < r.best - o->min_delta) {
                r.best = vl;
                r.bad_evals = 0;
                if (save_result_atomic(&r, r.best_dir, train, valid, elapsed, e) != 0)
                    goto out;
            } else if (o->patience > 0 && ++r.bad_evals >= o->patience) {
                res->early_stopped = 1;
                p.message = "early stop: validation loss stopped improving";
                stop = 1;
            }
            p.best_valid_loss = r.best;
        }
        log_metrics(&r, &p);
        double paused_s;
        TrainAction a = ask(cb, ctx, &p, &paused_s);
        t_start += paused_s;
        if (a == TRAIN_STOP) {
            res->stopped = 1;
            stop = 1;
        }
        /* (the last one is written after the loop) */
        if (!last && !stop && o->save_every > 0 && r.step % o->save_every == 0)
            if (save_checkpoint(&r, elapsed, e) != 0)
                goto out;
    }
    const double elapsed = r.elapsed0 + (now_s() - t_start);
    if (save_checkpoint(&r, elapsed, e) != 0 || save_result_atomic(&r, o->output, train, valid, elapsed, e) != 0)
        goto out;
    res->steps = r.step;
    res->train_loss = r.last_loss;
    res->valid_loss = r.last_valid;
    res->best_valid_loss = r.best;
    res->elapsed_s = elapsed;
    rc = 0;
out:
    run_free(&r);
    return rc;
}
