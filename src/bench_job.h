/* bench_job.h - the stage benchmark of infuse.yaml, from settings to report.
 *
 * What `infuse bench` does and the workbench's engine thread does the same
 * way.  bench_job_prepare reads the Config with the caller's overrides on
 * top (the command line's flags): the stages ("base", the name of one of
 * the config's adapters, or NAME=FOLDER, comma-separated), the evaluation
 * set (data.eval), the forgetting probe (probe.jsonl and probe_*.jsonl
 * beside the evaluation set, when there are any), the Golden Data
 * (data.golden and the QA store's golden pairs that are not rejected or
 * deleted, asked as written) and
 * the taught pairs (a fixed sample of the store's other approved pairs,
 * asked as written: did the stage learn what it was taught, apart from
 * whether it answers the same facts asked in other words), then loads the
 * base model and checks every stage's adapter
 * (stage_bench_prepare: missing, another base, empty or without effect is
 * an error naming the folder).  bench_job_run answers every question with
 * every stage (stage_bench_run), calling back after each question with its
 * answers so a screen can show rows as they arrive.  The reports are the
 * JSON and the Markdown table `infuse bench --json / --markdown` write.
 *
 * Nothing here prints; errors go into the Err naming the file or stage.
 *
 * Ownership: a BenchJob is caller-owned and starts from bench_job_prepare
 * (which leaves nothing to free when it fails; bench_job_free is harmless
 * then); it keeps copies of the paths it uses, so the Config and the
 * BenchJobArgs may be freed once prepare has returned.  One thread at a
 * time. */
#ifndef INFUSE_BENCH_JOB_H
#define INFUSE_BENCH_JOB_H

#include "config.h"
#include "err.h"
#include "model.h"
#include "pool.h"
#include "qa_eval.h"
#include "stage_bench.h"
#include "tokenizer.h"

#define BENCH_JOB_MAX_STAGES 8
#define BENCH_JOB_STAGES "base,cpt,sft"     /* the stages when none are given */
#define BENCH_JOB_MAX_TOKENS 64             /* per answer when not given */
#define BENCH_JOB_TAUGHT 40                 /* taught pairs asked when not given */

/* Overrides; bench_job_args_init sets each to "as the config says". */
typedef struct BenchJobArgs {
    const char *model;          /* base model folder; NULL: cfg->model */
    const char *stages;         /* NULL: BENCH_JOB_STAGES */
    const char *eval;           /* NULL: data.eval */
    const char *probe;          /* FILE[,FILE...], "none", or NULL: probe.jsonl and probe_*.jsonl beside the
                                 * evaluation set (name order), if any */
    const char *golden;         /* FILE (alone), "none", or NULL: data.golden and the store's golden pairs */
    int max_tokens;             /* <= 0: BENCH_JOB_MAX_TOKENS */
    int taught;                 /* taught pairs: 0 BENCH_JOB_TAUGHT, < 0 none */
    int threads;                /* <= 0: cfg->threads, when that is 0 all cores */
} BenchJobArgs;

void bench_job_args_init(BenchJobArgs *a);

typedef struct BenchJob {
    BenchStage st[BENCH_JOB_MAX_STAGES];    /* prepared: adapters loaded, hashed, checked */
    int n_stages;
    QaEvalSet sets[BENCH_KINDS];
    BenchItem *items;           /* the evaluation set, the probe, the Golden Data, the taught pairs, in that order */
    int n_items;
    BenchOptions opts;          /* its system prompt is owned by the job */
    Model model;
    Tokenizer *tok;
    Pool *pool;
    BenchAnswer *ans;           /* [n_items * n_stages], row i at ans + i * n_stages; after a run */
    BenchSummary sum[BENCH_JOB_MAX_STAGES];
    int ran;                    /* bench_job_run succeeded: ans and sum are complete */
    /* owned copies */
    char *model_dir, *system, *adapter_dirs[BENCH_JOB_MAX_STAGES];
    int have_model;
} BenchJob;

/* Everything up to the run (see above).  Errors: no model or evaluation
 * set, an unknown stage name, more than BENCH_JOB_MAX_STAGES stages, a file
 * that does not load ("FILE:LINE: problem"), an adapter that fails its
 * checks ("stage NAME: ... FOLDER ..."). */
int bench_job_prepare(BenchJob *j, const Config *cfg, const BenchJobArgs *a, Err *e);

/* Answers every item with every stage into j->ans and j->sum; progress
 * (may be NULL) is called after each question, in order, with its row of
 * answers (j->ans entries, kept until bench_job_free). */
int bench_job_run(BenchJob *j, BenchProgress progress, void *ctx, Err *e);

/* k of n as a whole percentage, a half rounded up (0 when n is 0): the one
 * rounding of the terminal table, the Markdown and the Bench pane, so that
 * 37/40 reads 93% on all three. */
int bench_percent(int k, int n);

/* "k/n P%" into buf (size n_buf), or "-" when there were none to ask: a
 * score cell of the terminal table and of the Bench pane. */
void bench_score_cell(char *buf, size_t n_buf, int k, int n);

/* The reports of a finished run, malloc'd; NULL before a run or when out
 * of memory.  Markdown: the summary table per stage, then Correct / Wrong
 * per question and stage.  JSON: the model, each stage's summary and
 * adapter hash, each question with every stage's answer and scores. */
char *bench_job_markdown(const BenchJob *j);
char *bench_job_json(const BenchJob *j);
/* The same written to path atomically; errors name the path. */
int bench_job_write_markdown(const BenchJob *j, const char *path, Err *e);
int bench_job_write_json(const BenchJob *j, const char *path, Err *e);

/* "" / "(probe) " / "(golden) ": how a question of that kind is shown. */
const char *bench_job_kind_prefix(BenchKind kind);

void bench_job_free(BenchJob *j);

#endif
