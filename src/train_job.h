/* train_job.h - a training stage of infuse.yaml, from settings to adapter.
 *
 * What `infuse train cpt|sft` does and the workbench's engine thread does
 * the same way: train_job_prepare reads the stage's section of the Config
 * with the caller's overrides on top (the command line's flags), loads the
 * base model and tokenizer, the training data (a QA store trains on its
 * approved pairs, golden ones weighted train.sft.golden_weight and repeated
 * golden_repeat times; data.golden joins SFT the same way unless the data
 * was overridden), the validation data (a file,
 * or a split of valid_fraction), and picks the run folder (a new
 * RUNS/STAGE-YYYYmmdd-HHMMSS, the given one, or with resume the newest of
 * the stage with a checkpoint).  The caller can then show job.opts and
 * job.data (the effective settings) before train_job_run starts the run
 * under its TrainCallback; train_job_free releases everything.
 *
 * Nothing here prints: lines meant for a person (store warnings, how much
 * data was read, the run folder) go to the caller's TrainJobLog as they
 * happen, errors into the Err (one line naming the file or setting).
 *
 * Ownership: a TrainJob is caller-owned and starts from train_job_prepare
 * (which leaves nothing to free when it fails, though train_job_free is
 * then harmless); it keeps copies of every path it uses, so the Config and
 * the TrainJobArgs may be freed once prepare has returned.  Not thread-safe:
 * one thread at a time (prepare and run may be on different threads). */
#ifndef INFUSE_TRAIN_JOB_H
#define INFUSE_TRAIN_JOB_H

#include <stddef.h>

#include "config.h"
#include "dataset.h"
#include "err.h"
#include "model.h"
#include "tokenizer.h"
#include "trainer.h"

/* Overrides of the stage's settings; train_job_args_init sets every one to
 * "as the config says" (NULL, 0 paths, -1). */
typedef struct TrainJobArgs {
    const char *stage;              /* "cpt" or "sft" */
    const char *model;              /* base model folder; NULL: cfg->model */
    const char *const *data;        /* training files / folders; n_data 0: train.STAGE.data */
    size_t n_data;
    const char *valid;              /* held-out file; NULL: train.STAGE.valid, else a split */
    const char *output;             /* NULL: train.STAGE.output */
    const char *run_dir;            /* NULL: a new folder under train.runs (or the newest with resume) */
    long steps, epochs, batch, seq_len, threads;  /* > 0 overrides */
    long seed;                      /* >= 0 overrides */
    double lr;                      /* > 0 overrides */
    int full;                       /* 0 / 1 overrides, -1: train.STAGE.full */
    int resume;                     /* continue the run folder's checkpoint */
} TrainJobArgs;

void train_job_args_init(TrainJobArgs *a, const char *stage);

/* What the run will train on, for the "effective settings" view. */
typedef struct TrainJobData {
    size_t n_train;                 /* training examples, augmented copies included */
    size_t n_copies;                /* of them augmented copies (train.sft.augment) */
    size_t n_golden;                /* of them Golden Data (store or data.golden), copies included */
    size_t n_store_pairs;           /* approved pairs read from QA stores, golden ones included */
    size_t n_valid;                 /* held-out examples */
    long n_tokens, n_targets;       /* of the training examples */
    long n_valid_tokens;
    long n_truncated, n_dropped;    /* SFT records cut to seq_len / with nothing left to learn */
    int valid_split;                /* 1: held out from the data (valid_fraction), 0: a file or none */
    float valid_fraction;
    float golden_weight;            /* sft: loss weight of Golden Data */
    int golden_repeat;              /* sft: times it is in each epoch */
    int augment;                    /* sft: augmented copies per pair */
    float augment_drop;
    int mask_prompt;                /* sft: loss on answers only */
} TrainJobData;

/* Lines for a person; warning 1 for "warning: ..." lines (without that word). */
typedef void (*TrainJobLog)(void *ctx, int warning, const char *line);

typedef struct TrainJob {
    TrainOptions opts;              /* effective settings; its strings are owned by the job */
    TrainJobData data;
    Model model;                    /* the base model as loaded */
    Tokenizer *tok;
    Dataset train, valid;
    TrainResult result;             /* after train_job_run */
    TrainJobLog log;
    void *log_ctx;
    /* owned copies behind opts' strings */
    char *stage, *model_dir, *output, *run_dir, *init_adapter;
    int have_model;
} TrainJob;

/* Everything up to the run (see above).  log may be NULL.  Errors: no
 * model, output or data configured, a model, tokenizer or data file that
 * does not load ("FILE:LINE: problem"), a QA store with nothing approved,
 * resume without a run to continue. */
int train_job_prepare(TrainJob *j, const Config *cfg, const TrainJobArgs *a, TrainJobLog log, void *log_ctx,
                      Err *e);

/* Logs the run folder, then train_run() with cb (may be NULL; it may stop
 * or pause the run).  On success j->result is filled, the adapter (or model)
 * is in j->opts.output and the run's metrics, checkpoint and best/ in
 * j->opts.run_dir; a run stopped by cb succeeds with result.stopped set. */
int train_job_run(TrainJob *j, TrainCallback cb, void *ctx, Err *e);

void train_job_free(TrainJob *j);

/* The folder runs of a config live in: train.runs, or "runs". */
const char *train_job_runs_dir(const Config *cfg);

/* The newest RUNS/STAGE-* folder with a checkpoint (the one resume
 * continues, the "previous run" of a stage), malloc'd; NULL if none. */
char *train_job_latest_run(const char *runs_dir, const char *stage);

#endif
