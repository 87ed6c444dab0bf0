/* cmd_train.c - `infuse train cpt|sft`: a training stage from the command line.
 *
 * Settings come from infuse.yaml's train.STAGE section (docs/config.md),
 * flags override them.  The run lives in RUNS/STAGE-YYYYmmdd-HHMMSS
 * (metrics.jsonl, checkpoint, best/); --resume continues the newest run of
 * the stage that has a checkpoint.  Ctrl-C stops after the current step,
 * saving a checkpoint and the adapter so far.  On a terminal progress is
 * one line rewritten in place, otherwise one plain line per step. */
#include "cli.h"
#include "dataset.h"
#include "fsutil.h"
#include "generate.h"
#include "model.h"
#include "qa_store.h"
#include "tokenizer.h"
#include "trainer.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct Live {
    int tty;
    int width;
} Live;

static void hms(char *buf, size_t n, double s)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

static TrainAction progress(void *ctx, const TrainProgress *p)
{
    Live *l = ctx;
    char el[16], eta[16], val[32] = "";
    hms(el, sizeof el, p->elapsed_s);
    hms(eta, sizeof eta, p->eta_s);
    if (!isnan(p->valid_loss))
        snprintf(val, sizeof val, "  valid %.4f", p->valid_loss);
    char line[256];
    snprintf(line, sizeof line, "step %ld/%ld  epoch %ld  loss %.4f%s  lr %.2e  |g| %.3f  %.0f tok/s  %s  ETA %s",
             p->step, p->total_steps, p->epoch + 1, p->loss, val, p->lr, p->grad_norm, p->tokens_per_s, el, eta);
    if (l->tty) {
        fprintf(stderr, "\r%-*.*s", l->width, l->width, line);
        if (p->evaluated || p->message)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s\n", line);
    }
    if (p->message)
        fprintf(stderr, "infuse: %s\n", p->message);
    return interrupted ? TRAIN_STOP : TRAIN_GO;
}

/* The newest RUNS/STAGE-* folder with a checkpoint, or NULL. */
static char *latest_run(const char *runs, const char *stage)
{
    DIR *d = opendir(runs);
    if (!d)
        return NULL;
    char best[256] = "";
    size_t sl = strlen(stage);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, stage, sl) != 0 || de->d_name[sl] != '-')
            continue;
        char *dir = fs_join(runs, de->d_name), *ck = dir ? fs_join(dir, "checkpoint.safetensors") : NULL;
        if (ck && fs_exists(ck) && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
        free(ck);
        free(dir);
    }
    closedir(d);
    return best[0] ? fs_join(runs, best) : NULL;
}

/* A QA store (qa_store.h) trains on its approved pairs, golden ones with
 * golden_weight: each kind is exported to a temporary SFT file and loaded
 * from there, so the store goes through the same loader as any JSONL. */
static int load_store(Dataset *d, const char *path, const Tokenizer *tok, const SftOptions *o, float golden_weight,
                      Err *e)
{
    QaStore s;
    if (qa_store_open(&s, path, e) != 0)
        return -1;
    for (size_t i = 0; i < s.n_warnings; i++)
        fprintf(stderr, "infuse: warning: %s\n", s.warnings[i]);
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/infuse-sft-%ld.jsonl", tmpdir, (long)getpid());
    size_t total = 0;
    int rc = 0;
    for (int golden = 0; rc == 0 && golden < 2; golden++) {
        size_t n = 0;
        rc = qa_store_export_sft(&s, tmp, golden ? QA_EXPORT_GOLDEN : QA_EXPORT_PLAIN, &n, e);
        if (rc == 0 && n) {
            SftOptions go = *o;
            go.weight = golden ? golden_weight : o->weight;
            rc = dataset_load_sft(d, tmp, tok, &go, e);
        }
        total += n;
        unlink(tmp);
    }
    if (rc == 0 && total == 0)
        rc = err_set(e, "%s: no approved pairs to train on (infuse review --approve ID)", path);
    if (rc == 0)
        fprintf(stderr, "infuse: %s: %zu approved pairs\n", path, total);
    qa_store_close(&s);
    return rc;
}

static int load_sft(Dataset *d, char **paths, size_t n, const Tokenizer *tok, const SftOptions *o, float golden_weight,
                    Err *e)
{
    for (size_t i = 0; i < n; i++)
        if ((qa_store_sniff(paths[i]) ? load_store(d, paths[i], tok, o, golden_weight, e)
                                      : dataset_load_sft(d, paths[i], tok, o, e)) != 0)
            return -1;
    return 0;
}

/* The end-of-sequence id appended to documents: the first of gen_end_ids. */
static int eos_of(const Model *m, const Tokenizer *tok)
{
    int32_t ids[GEN_MAX_END_IDS];
    return gen_end_ids(m, tok, 0, ids) > 0 ? ids[0] : 0;
}

int cmd_train(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "cpt") != 0 && strcmp(argv[1], "sft") != 0))
        return cli_fail("usage: infuse train cpt|sft [-c infuse.yaml] [-m MODEL] [--data PATH]... [--valid FILE] "
                        "[--output DIR] [--steps N] [--epochs N] [--batch B] [--seq-len T] [--lr X] [--full] "
                        "[--resume] [--run-dir DIR] [--threads N] [--seed N]");
    const char *stage_name = argv[1];
    const int sft = strcmp(stage_name, "sft") == 0;
    const char *cfg_path = NULL, *model_dir = NULL, *valid_path = NULL, *output = NULL, *run_dir = NULL;
    const char *data_flags[32];
    size_t n_data_flags = 0;
    long steps = -1, epochs = -1, batch = -1, seq_len = -1, threads = -1, seed = -1;
    double lr = -1;
    int full = -1, resume = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL(flag) (strcmp(a, flag) == 0 && v && (i++, 1))
        if (VAL("-c"))
            cfg_path = v;
        else if (VAL("-m"))
            model_dir = v;
        else if (VAL("--data")) {
            if (n_data_flags == 32)
                return cli_fail("train: at most 32 --data paths");
            data_flags[n_data_flags++] = v;
        } else if (VAL("--valid"))
            valid_path = v;
        else if (VAL("--output"))
            output = v;
        else if (VAL("--run-dir"))
            run_dir = v;
        else if (VAL("--steps")) {
            if (cli_int("--steps", v, 1, 100000000, &steps))
                return 1;
        } else if (VAL("--epochs")) {
            if (cli_int("--epochs", v, 1, 100000, &epochs))
                return 1;
        } else if (VAL("--batch")) {
            if (cli_int("--batch", v, 1, 4096, &batch))
                return 1;
        } else if (VAL("--seq-len")) {
            if (cli_int("--seq-len", v, 2, 1 << 20, &seq_len))
                return 1;
        } else if (VAL("--threads")) {
            if (cli_int("--threads", v, 1, 256, &threads))
                return 1;
        } else if (VAL("--seed")) {
            if (cli_int("--seed", v, 0, 1L << 62, &seed))
                return 1;
        } else if (VAL("--lr")) {
            if (cli_float("--lr", v, &lr) || !(lr > 0))
                return cli_fail("train: --lr must be a positive number");
        } else if (strcmp(a, "--full") == 0)
            full = 1;
        else if (strcmp(a, "--resume") == 0)
            resume = 1;
        else
            return cli_fail("train: unexpected argument \"%s\"", a);
#undef VAL
    }
    Config cfg;
    if (cli_load_config(&cfg, cfg_path))
        return 1;
    const ConfigStage *st = sft ? &cfg.train.sft : &cfg.train.cpt;
    int rc = 1;
    Err e;
    Tokenizer *tok = NULL;
    Model m;
    int have_model = 0;
    Dataset train = {0}, valid = {0};
    char *tok_path = NULL, *run_owned = NULL, *init_owned = NULL;
    if (!model_dir)
        model_dir = cfg.model;
    if (!model_dir) {
        cli_fail("train: no model: pass -m MODEL or set model: in infuse.yaml");
        goto out;
    }
    tok_path = fs_join(model_dir, "tokenizer.json");
    if (!(tok = tokenizer_load(tok_path, &e)) || model_load(&m, model_dir, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    have_model = 1;
    TrainOptions o;
    train_options_defaults(&o);
    o.stage = stage_name;
    o.base_name = model_dir;
    o.full = full >= 0 ? full : st->full;
    o.lora_rank = st->lora.rank;
    o.lora_alpha = st->lora.alpha;
    o.lora_dropout = st->lora.dropout;
    o.lora_targets = st->lora.targets;
    o.rslora = st->lora.rslora;
    o.batch = batch > 0 ? (int)batch : st->batch;
    o.grad_accum = st->grad_accum;
    o.group_by_length = st->group_by_length;
    o.seq_len = seq_len > 0 ? (int)seq_len : st->seq_len;
    o.steps = steps > 0 ? steps : st->steps;
    o.epochs = epochs > 0 ? (int)epochs : st->epochs;
    o.lr = lr > 0 ? lr : st->lr;
    o.min_lr_ratio = st->min_lr_ratio;
    o.weight_decay = st->weight_decay;
    o.beta1 = st->beta1, o.beta2 = st->beta2, o.eps = st->eps;
    o.grad_clip = st->grad_clip;
    o.schedule = st->schedule == CONFIG_SCHEDULE_CONSTANT ? SCHED_CONSTANT : SCHED_COSINE;
    o.warmup = st->warmup;
    o.eval_every = st->eval_every;
    o.save_every = st->save_every;
    o.patience = st->patience;
    o.min_delta = st->min_delta;
    o.seed = seed >= 0 ? (uint64_t)seed : st->seed;
    o.threads = threads > 0 ? (int)threads : st->threads;
    o.output = output ? output : st->output;
    o.save_dtype = m.dtype == DT_F32 ? DT_F32 : m.dtype;
    if (!o.output) {
        cli_fail("train: no output folder: pass --output DIR or set train.%s.output", stage_name);
        goto out;
    }
    /* SFT continues the CPT adapter when asked to and it exists. */
    if (sft && !o.full) {
        if (st->init_from == CONFIG_INIT_PATH)
            o.init_adapter = st->init_path;
        else if (st->init_from == CONFIG_INIT_CPT && cfg.train.cpt.output) {
            init_owned = fs_join(cfg.train.cpt.output, "adapter_config.json");
            if (fs_exists(init_owned))
                o.init_adapter = cfg.train.cpt.output;
        }
    }

    /* the data */
    char **paths = st->data;
    size_t n_paths = st->n_data;
    if (n_data_flags) {
        paths = (char **)data_flags;
        n_paths = n_data_flags;
    }
    if (n_paths == 0) {
        cli_fail("train: no training data: pass --data PATH or set train.%s.data", stage_name);
        goto out;
    }
    const int eos = eos_of(&m, tok);
    SftOptions so = {.tmpl = cfg.chat_template,
                     .system = cfg.system_prompt,
                     .seq_len = o.seq_len,
                     .mask_prompt = st->mask_prompt,
                     .eos_id = eos,
                     .weight = 1.0f,
                     .augment = st->augment,
                     .augment_drop = st->augment_drop,
                     .augment_seed = o.seed};
    int drc = sft ? load_sft(&train, paths, n_paths, tok, &so, st->golden_weight, &e)
                  : dataset_load_cpt(&train, (const char *const *)paths, n_paths, tok, o.seq_len, eos, &e);
    if (drc == 0 && sft && !n_data_flags && cfg.golden && fs_exists(cfg.golden)) {
        SftOptions go = so;
        go.weight = st->golden_weight;
        drc = dataset_load_sft(&train, cfg.golden, tok, &go, &e);
    }
    const char *vp = valid_path ? valid_path : st->valid;
    SftOptions vo = so;
    vo.augment = 0;     /* validation measures the questions as asked */
    if (drc == 0 && vp)
        drc = sft ? dataset_load_sft(&valid, vp, tok, &vo, &e)
                  : dataset_load_cpt(&valid, (const char *const *)&vp, 1, tok, o.seq_len, eos, &e);
    else if (drc == 0 && st->valid_fraction > 0 && train.n >= 2)
        drc = dataset_split(&train, &valid, st->valid_fraction, o.seed, &e);
    if (drc != 0) {
        cli_fail_err(&e);
        goto out;
    }
    if (train.n_truncated || train.n_dropped)
        fprintf(stderr, "infuse: warning: %ld records longer than seq_len %d were cut to it%s%ld dropped (no "
                        "answer left after the cut)\n",
                train.n_truncated, o.seq_len, train.n_dropped ? "; " : "", train.n_dropped);
    size_t n_copies = 0;
    for (size_t i = 0; i < train.n; i++)
        n_copies += train.ex[i].copy;
    fprintf(stderr, "infuse: %s on %zu examples (%ld tokens, %ld targets)%s%zu held out; %s\n", stage_name, train.n,
            train.n_tokens, train.n_targets, valid.n ? ", " : "", valid.n,
            o.full ? "full training" : "LoRA");
    if (n_copies)
        fprintf(stderr, "infuse: %zu of them are augmented copies (train.sft.augment %d)\n", n_copies, st->augment);

    /* the run folder */
    const char *runs = cfg.train.runs_dir ? cfg.train.runs_dir : "runs";
    if (run_dir)
        o.run_dir = run_dir;
    else if (resume) {
        run_owned = latest_run(runs, stage_name);
        if (!run_owned) {
            cli_fail("train: --resume: no %s run with a checkpoint in %s", stage_name, runs);
            goto out;
        }
        o.run_dir = run_owned;
    } else {
        char id[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        snprintf(id, sizeof id, "%s-", stage_name);
        strftime(id + strlen(id), sizeof id - strlen(id), "%Y%m%d-%H%M%S", &tm);
        o.run_dir = run_owned = fs_join(runs, id);
    }
    o.resume = resume;
    fprintf(stderr, "infuse: run folder %s%s\n", o.run_dir, resume ? " (resuming)" : "");

    Live live = {isatty(2), 100};
    signal(SIGINT, on_sigint);
    TrainResult res;
    if (train_run(&o, &m, &train, valid.n ? &valid : NULL, progress, &live, &res, &e) != 0) {
        if (live.tty)
            fputc('\n', stderr);
        cli_fail_err(&e);
        goto out;
    }
    if (live.tty)
        fputc('\n', stderr);
    printf("%s %s after %ld steps: loss %.4f", res.stopped ? "stopped" : "done", o.output, res.steps,
           res.train_loss);
    if (!isnan(res.valid_loss))
        printf(", validation %.4f (best %.4f in %s/best)", res.valid_loss, res.best_valid_loss, o.run_dir);
    printf(", %.1f s\n", res.elapsed_s);
    rc = 0;
out:
    dataset_free(&train);
    dataset_free(&valid);
    if (have_model)
        model_free(&m);
    tokenizer_delete(tok);
    free(tok_path);
    free(run_owned);
    free(init_owned);
    config_free(&cfg);
    return rc;
}
