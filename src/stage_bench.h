/* stage_bench.h - the stage benchmark: Base vs CPT vs SFT on an evaluation set.
 *
 * Every stage answers every question under the same chat template and the
 * same greedy decoding; the stages of one question decode together in one
 * batched forward pass (model_forward_multi), so the weights are read once
 * per token for all of them and the comparison is fair by construction.
 *
 * It must be impossible to benchmark an adapter that is not really in use
 * (the mistake the source project's post-mortem describes), so
 * stage_bench_prepare loads every adapter and refuses, naming the folder,
 * one that is missing, made for another base (shapes), empty (every B zero),
 * or that changes no logit of the base on a probe prompt; it records each
 * adapter file's SHA-256 for the report. */
#ifndef INFUSE_STAGE_BENCH_H
#define INFUSE_STAGE_BENCH_H

#include <stddef.h>

#include "chat_template.h"
#include "eval_metrics.h"
#include "lora.h"
#include "model.h"
#include "pool.h"
#include "tokenizer.h"

typedef struct BenchStage {
    char name[32];
    const char *adapter_dir;    /* NULL: the base model */
    Lora lora;                  /* loaded by stage_bench_prepare */
    int loaded;
    char sha256[65];            /* of adapter_model.safetensors; "" for the base */
    double probe_delta;         /* max |logit change| on the probe prompt */
} BenchStage;

/* What a question measures; each kind is summed apart. */
typedef enum BenchKind {
    BENCH_EVAL,                 /* held-out question about the domain */
    BENCH_PROBE,                /* forgetting probe: general knowledge of the base */
    BENCH_GOLDEN,               /* Golden Data asked as written: what must be learned */
    BENCH_TAUGHT,               /* approved training pairs asked as written: what was learned */
    BENCH_KINDS
} BenchKind;

typedef struct BenchItem {
    const char *question, *reference;
    const char *const *keywords;
    size_t n_keywords;
    const char *category;
    BenchKind kind;
} BenchItem;

typedef struct BenchAnswer {
    char *text;                 /* malloc'd, well-formed UTF-8 */
    int n_tokens;
    EvalScore score;
} BenchAnswer;

typedef struct BenchSummary {
    int n, correct;             /* evaluation items (not probes) */
    int n_probe, probe_correct; /* forgetting probe */
    int n_golden, golden_correct;
    int n_taught, taught_correct;
    double f1, rouge_l, exact;  /* means over evaluation items */
    double prefill_tps, decode_tps;
    long prompt_tokens, gen_tokens;
} BenchSummary;

typedef struct BenchOptions {
    ChatTemplate tmpl;
    const char *system;
    int max_tokens;             /* per answer; more when the reference is longer (its tokens + 8) */
    EvalRule rule;
} BenchOptions;

/* Called after each question with the number done and that question's
 * answers, row[s] for stage s (the ans entries, finished and scored).
 * Returns 0 to go on; anything else stops the run, which then fails with
 * "stopped after N of M questions" (a screen's Esc). */
typedef int (*BenchProgress)(void *ctx, int done, int total, const BenchAnswer *row);

/* Loads and checks the stages' adapters (see above). */
int stage_bench_prepare(BenchStage *st, int n, const Model *m, const Tokenizer *tok, Pool *pool, Err *e);
void stage_bench_release(BenchStage *st, int n);

/* Counts one scored answer of that kind into m (the evaluation items'
 * F1, ROUGE-L and exact match as sums; stage_bench_run turns them into
 * means at the end). */
void bench_summary_add(BenchSummary *m, BenchKind kind, const EvalScore *score);

/* Answers items[0..n_items) with every stage: ans[i * n_stages + s]
 * (caller frees each text), sum[s]. */
int stage_bench_run(const Model *m, const Tokenizer *tok, Pool *pool, BenchStage *st, int n_stages,
                    const BenchItem *items, int n_items, const BenchOptions *o, BenchAnswer *ans, BenchSummary *sum,
                    BenchProgress progress, void *ctx, Err *e);

#endif
