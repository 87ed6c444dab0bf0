/* cmd_train.c - `infuse train cpt|sft`: a training stage from the command line.
 *
 * Settings come from infuse.yaml's train.STAGE section (docs/config.md),
 * flags override them.  The run lives in RUNS/STAGE-YYYYmmdd-HHMMSS
 * (metrics.jsonl, checkpoint, best/); --resume continues the newest run of
 * the stage that has a checkpoint.  Ctrl-C stops after the current step,
 * saving a checkpoint and the adapter so far.  On a terminal progress is
 * one line rewritten in place, otherwise one plain line per step.  The
 * work itself is train_job.h's, shared with the workbench. */
#include "cli.h"
#include "train_job.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

static TrainAction progress(void *ctx, const TrainProgress *p)
{
    Live *l = ctx;
    char el[16], eta[16], val[32] = "";
    cli_hms(el, sizeof el, p->elapsed_s);
    cli_hms(eta, sizeof eta, p->eta_s);
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

/* The job's lines for a person, as "infuse: ..." on stderr. */
static void log_line(void *ctx, int warning, const char *line)
{
    (void)ctx;
    fprintf(stderr, "infuse: %s%s\n", warning ? "warning: " : "", line);
}

int cmd_train(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "cpt") != 0 && strcmp(argv[1], "sft") != 0))
        return cli_fail("usage: infuse train cpt|sft [-c infuse.yaml] [-m MODEL] [--data PATH]... [--valid FILE] "
                        "[--output DIR] [--steps N] [--epochs N] [--batch B] [--seq-len T] [--lr X] [--full] "
                        "[--resume] [--run-dir DIR] [--threads N] [--seed N]");
    const char *stage_name = argv[1];
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
    TrainJobArgs a;
    train_job_args_init(&a, stage_name);
    a.model = model_dir;
    a.data = data_flags;
    a.n_data = n_data_flags;
    a.valid = valid_path;
    a.output = output;
    a.run_dir = run_dir;
    a.steps = steps, a.epochs = epochs, a.batch = batch, a.seq_len = seq_len, a.threads = threads, a.seed = seed;
    a.lr = lr;
    a.full = full;
    a.resume = resume;
    TrainJob job;
    Err e;
    int rc = 1;
    if (train_job_prepare(&job, &cfg, &a, log_line, NULL, &e) != 0) {
        config_free(&cfg);
        return cli_fail_err(&e);
    }
    config_free(&cfg);

    Live live = {isatty(2), 100};
    signal(SIGINT, on_sigint);
    if (train_job_run(&job, progress, &live, &e) != 0) {
        if (live.tty)
            fputc('\n', stderr);
        cli_fail_err(&e);
        goto out;
    }
    if (live.tty)
        fputc('\n', stderr);
    const TrainOptions *o = &job.opts;
    const TrainResult *res = &job.result;
    printf("%s %s after %ld steps: loss %.4f", res->stopped ? "stopped" : "done", o->output, res->steps,
           res->train_loss);
    if (!isnan(res->valid_loss))
        printf(", validation %.4f (best %.4f in %s/best)", res->valid_loss, res->best_valid_loss, o->run_dir);
    printf(", %.1f s\n", res->elapsed_s);
    rc = 0;
out:
    train_job_free(&job);
    return rc;
}
