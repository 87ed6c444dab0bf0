/* test_train_job.c - a training stage prepared from infuse.yaml and run.
 *
 * What test_cli cannot see through the program's output: the effective
 * options (config values with overrides on top), the data description
 * (golden examples counted on both sides of the validation split, checked
 * against the examples' loss weights; augmented copies; tokens), the log
 * lines and their warning flag, a job that outlives its Config, the
 * run's callback and results, and the newest-run lookup. */
#include "test.h"
#include "config.h"
#include "fsutil.h"
#include "qa_store.h"
#include "train_job.h"

#include <sys/stat.h>
#include <unistd.h>

#define MODEL "tests/fixtures/models/tiny-gqa"

static char tmp[] = "/tmp/infuse-train-job-XXXXXX";

static char *in_tmp(const char *name) { return fs_join(tmp, name); }

static void write_file(const char *name, const char *text)
{
    char *p = in_tmp(name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(p);
}

/* The log as the job wrote it: lines, how many were warnings. */
typedef struct Log {
    char text[8192];
    size_t n;
    int lines, warnings;
} Log;

static void log_line(void *ctx, int warning, const char *line)
{
    Log *l = ctx;
    int k = snprintf(l->text + l->n, sizeof l->text - l->n, "%s%s\n", warning ? "W " : "", line);
    if (k > 0 && l->n + (size_t)k < sizeof l->text)
        l->n += (size_t)k;
    l->lines++;
    l->warnings += warning;
}

/* Examples of d whose loss weight is w. */
static size_t count_weight(const Dataset *d, float w)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += d->ex[i].weight == w;
    return n;
}

static size_t count_copies(const Dataset *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += d->ex[i].copy;
    return n;
}

/* A QA store of 4 pairs: 1-3 approved (2 golden), 4 pending. */
static void make_store(void)
{
    Err e;
    QaStore s;
    char *p = in_tmp("qa.jsonl");
    CHECKF(qa_store_open(&s, p, &e) == 0, "%s", e.msg);
    const char *q[4] = {"Which two steps does a retrieval system perform first?", "Who wrote the CLaRa paper?",
                        "What does the compressor keep from each document?", "Is it pending?"};
    const char *a[4] = {"Retrieve, then generate.", "Apple researchers.", "Sixteen memory tokens.", "Yes."};
    for (int i = 0; i < 4; i++)
        CHECKF(qa_add(&s, q[i], a[i], NULL, &e) == i + 1, "%s", e.msg);
    for (long id = 1; id <= 3; id++)
        CHECK(qa_set_status(&s, id, QA_APPROVED, &e) == 0);
    CHECK(qa_set_golden(&s, 2, 1, &e) == 0);
    CHECKF(qa_store_compact(&s, &e) == 0, "%s", e.msg);   /* PATH itself, so it sniffs as a store */
    qa_store_close(&s);
    free(p);
}

static int load_cfg(Config *c, const char *yaml_text)
{
    write_file("infuse.yaml", yaml_text);
    char *p = in_tmp("infuse.yaml");
    Err e;
    int rc = config_load(c, p, &e);
    CHECKF(rc == 0, "%s", e.msg);
    free(p);
    return rc;
}

/* Settings and data: no split, so every example is in training. */
static void test_prepare_counts(const char *yaml_head)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%strain:\n  runs: myruns\n  sft:\n    valid_fraction: 0\n    golden_weight: 4\n    golden_repeat: 2\n"
             "    lr: 0.003\n"
             "    batch: 3\n    seq_len: 96\n    output: out-sft\n",
             yaml_head);
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    TrainJobArgs a;
    train_job_args_init(&a, "sft");
    a.steps = 7;
    a.seq_len = 80;
    a.seed = 11;
    TrainJob j;
    Log log = {{0}, 0, 0, 0};
    Err e = {{0}};
    int rc = train_job_prepare(&j, &cfg, &a, log_line, &log, &e);
    config_free(&cfg);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc != 0)
        return;
    /* overrides win, the rest comes from the config */
    CHECK(j.opts.steps == 7 && j.opts.seq_len == 80 && j.opts.seed == 11);
    CHECK(j.opts.batch == 3 && fabs(j.opts.lr - 0.003) < 1e-9 && !j.opts.full && !j.opts.resume);
    CHECKF(j.opts.output && strstr(j.opts.output, "/out-sft") && strcmp(j.opts.stage, "sft") == 0, "%s",
           j.opts.output ? j.opts.output : "(null)");
    CHECKF(j.opts.run_dir && strstr(j.opts.run_dir, "/myruns/sft-"), "%s", j.opts.run_dir ? j.opts.run_dir : "");
    CHECK(!fs_exists(j.opts.run_dir));      /* prepare does not create the run */
    /* 3 approved pairs (1 golden) and 2 data.golden lines, Golden Data twice */
    const TrainJobData *d = &j.data;
    CHECKF(d->n_store_pairs == 3 && d->n_train == 8 && d->n_valid == 0 && d->n_copies == 0, "%zu %zu %zu %zu",
           d->n_store_pairs, d->n_train, d->n_valid, d->n_copies);
    CHECKF(d->n_golden == 6 && count_weight(&j.train, 4.0f) == 6, "golden %zu, weighted %zu", d->n_golden,
           count_weight(&j.train, 4.0f));
    CHECK(d->n_tokens == j.train.n_tokens && d->n_targets == j.train.n_targets && d->n_tokens > 0);
    CHECK(d->golden_weight == 4.0f && d->golden_repeat == 2 && d->mask_prompt == 1 && !d->valid_split);
    CHECKF(log.warnings == 0 && strstr(log.text, "qa.jsonl: 3 approved pairs\n") &&
               strstr(log.text, "sft on 8 examples (") &&
               strstr(log.text, "6 of them are Golden Data (2 times each, loss weight 4), never held out\n"),
           "%s", log.text);
    train_job_free(&j);
}

/* A split with augmented copies: Golden Data and its copies all stay in
 * training, so only the 2 other pairs may be held out (0.4 of 2 is 1). */
static void test_prepare_split(const char *yaml_head)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%strain:\n  sft:\n    valid_fraction: 0.4\n    golden_weight: 2.5\n    augment: 2\n"
             "    seq_len: 96\n",
             yaml_head);
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    TrainJobArgs a;
    train_job_args_init(&a, "sft");
    a.output = "explicit-out";
    a.run_dir = "explicit-run";
    TrainJob j;
    Log log = {{0}, 0, 0, 0};
    Err e = {{0}};
    int rc = train_job_prepare(&j, &cfg, &a, log_line, &log, &e);
    config_free(&cfg);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc != 0)
        return;
    const TrainJobData *d = &j.data;
    CHECK(strcmp(j.opts.output, "explicit-out") == 0 && strcmp(j.opts.run_dir, "explicit-run") == 0);
    CHECKF(d->valid_split && d->n_valid == 1 && d->n_valid == j.valid.n, "split %d, %zu held out", d->valid_split,
           d->n_valid);
    CHECKF(d->n_copies > 0 && d->n_copies == count_copies(&j.train) && count_copies(&j.valid) == 0, "copies %zu",
           d->n_copies);
    size_t golden_copies = 0;
    for (size_t i = 0; i < j.train.n; i++)
        golden_copies += j.train.ex[i].golden && j.train.ex[i].copy;
    CHECKF(d->n_golden == count_weight(&j.train, 2.5f) && d->n_golden - golden_copies == 3 &&
               count_weight(&j.valid, 2.5f) == 0,
           "golden %zu (%zu copies), %zu held out", d->n_golden, golden_copies, count_weight(&j.valid, 2.5f));
    CHECK(d->n_train == j.train.n && d->n_valid_tokens == j.valid.n_tokens && d->augment == 2);
    char want[128];
    snprintf(want, sizeof want, "%zu of them are augmented copies (train.sft.augment 2)\n", d->n_copies);
    CHECKF(strstr(log.text, want) && strstr(log.text, ", 1 held out; LoRA\n") &&
               strstr(log.text, " of them are Golden Data (1 time each, loss weight 2.5), never held out\n"),
           "%s", log.text);
    train_job_free(&j);
}

/* Errors name the setting or file; nothing is left to free. */
static void test_errors(const char *yaml_head)
{
    Config cfg;
    Err e = {{0}};
    TrainJobArgs a;
    TrainJob j;
    Log log = {{0}, 0, 0, 0};
    config_defaults(&cfg);
    train_job_args_init(&a, "sft");
    CHECK(train_job_prepare(&j, &cfg, &a, log_line, &log, &e) != 0 && strstr(e.msg, "no model"));
    train_job_args_init(&a, "dpo");
    CHECKF(train_job_prepare(&j, &cfg, &a, NULL, NULL, &e) != 0 && strstr(e.msg, "\"dpo\""), "%s", e.msg);
    train_job_free(&j);     /* harmless after a failure */

    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s", yaml_head);
    if (load_cfg(&cfg, yaml) != 0)
        return;
    train_job_args_init(&a, "sft");
    a.resume = 1;
    CHECKF(train_job_prepare(&j, &cfg, &a, log_line, &log, &e) != 0 && strstr(e.msg, "no sft run") &&
               strstr(e.msg, "/runs"),
           "%s", e.msg);
    /* a store with a malformed line: its warning is logged as one */
    write_file("bad.jsonl", "{\"id\": 1, \"question\": \"x\", \"status\": \"approved\"}\n{broken\n");
    char *bad = in_tmp("bad.jsonl");
    const char *data[1] = {bad};
    train_job_args_init(&a, "sft");
    a.data = data;
    a.n_data = 1;
    log = (Log){{0}, 0, 0, 0};
    CHECKF(train_job_prepare(&j, &cfg, &a, log_line, &log, &e) != 0 && strstr(e.msg, "bad.jsonl") &&
               strstr(e.msg, "no approved pairs"),
           "%s", e.msg);
    CHECKF(log.warnings == 2 && strstr(log.text, "W ") && strstr(log.text, "bad.jsonl:2"), "%s", log.text);
    free(bad);
    config_free(&cfg);
}

typedef struct Calls {
    long n, last_step;
} Calls;

static TrainAction on_step(void *ctx, const TrainProgress *p)
{
    Calls *c = ctx;
    c->n++;
    c->last_step = p->step;
    return TRAIN_GO;
}

/* A CPT run of 2 steps; the job keeps what it needs from the freed Config. */
static void test_run(const char *yaml_head)
{
    char yaml[2048];
    write_file("doc.txt", "CLaRa is a retrieval model. It compresses each document into sixteen memory tokens, "
                          "and a generator answers from them.\n");
    snprintf(yaml, sizeof yaml,
             "%strain:\n  cpt:\n    data: [doc.txt]\n    seq_len: 8\n    valid_fraction: 0.2\n    eval_every: 0\n"
             "    save_every: 0\n    threads: 1\n",
             yaml_head);
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    TrainJobArgs a;
    train_job_args_init(&a, "cpt");
    a.steps = 2;
    TrainJob j;
    Log log = {{0}, 0, 0, 0};
    Err e = {{0}};
    int rc = train_job_prepare(&j, &cfg, &a, log_line, &log, &e);
    char *runs = strdup(train_job_runs_dir(&cfg));
    config_free(&cfg);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc != 0) {
        free(runs);
        return;
    }
    CHECK(j.data.n_valid >= 1 && j.data.n_golden == 0 && j.data.n_store_pairs == 0);
    Calls calls = {0, 0};
    int lines = log.lines;
    rc = train_job_run(&j, on_step, &calls, &e);
    CHECKF(rc == 0, "%s", e.msg);
    CHECKF(calls.n >= 2 && calls.last_step == 2 && j.result.steps == 2 && !j.result.stopped, "%ld calls, step %ld",
           calls.n, calls.last_step);
    CHECKF(log.lines == lines + 1 && strstr(log.text, "run folder ") && strstr(log.text, "/runs/cpt-"), "%s",
           log.text);
    char *ac = fs_join(j.opts.output, "adapter_config.json"), *ck = fs_join(j.opts.run_dir, "checkpoint.safetensors");
    CHECKF(fs_exists(ac) && strstr(j.opts.output, "/adapters/cpt"), "%s", j.opts.output);
    CHECK(fs_exists(ck));
    char *latest = train_job_latest_run(runs, "cpt");
    CHECKF(latest && strcmp(latest, j.opts.run_dir) == 0, "%s vs %s", latest ? latest : "(none)", j.opts.run_dir);
    free(latest), free(ac), free(ck), free(runs);
    train_job_free(&j);
}

/* The newest run of the stage that has a checkpoint. */
static void test_latest_run(void)
{
    char *runs = in_tmp("lookup");
    const char *dirs[] = {"sft-20240101-000000", "sft-20250101-000000", "sft-20230101-000000", "cpt-20990101-000000",
                          "sftx-20990101-000000"};
    const int with_ck[] = {1, 0, 1, 1, 1};
    mkdir(runs, 0755);
    for (int i = 0; i < 5; i++) {
        char *d = fs_join(runs, dirs[i]);
        mkdir(d, 0755);
        if (with_ck[i]) {
            char *ck = fs_join(d, "checkpoint.safetensors");
            FILE *f = fopen(ck, "w");
            if (f)
                fclose(f);
            free(ck);
        }
        free(d);
    }
    char *got = train_job_latest_run(runs, "sft");
    CHECKF(got && strstr(got, "/lookup/sft-20240101-000000"), "%s", got ? got : "(none)");
    free(got);
    CHECK(train_job_latest_run(runs, "dpo") == NULL);
    CHECK(train_job_latest_run("/nonexistent/runs", "sft") == NULL);
    free(runs);
}

int main(void)
{
    if (!mkdtemp(tmp)) {
        CHECK(0);
        TEST_MAIN_END();
    }
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    make_store();
    write_file("golden.jsonl", "{\"question\": \"What is CLaRa?\", \"answer\": \"A retrieval framework.\"}\n"
                               "{\"question\": \"What is SCP in CLaRa?\", \"answer\": \"Salient compressor "
                               "pretraining.\"}\n");
    char head[1536];
    snprintf(head, sizeof head, "model: %s/" MODEL "\ndata:\n  qa: qa.jsonl\n  golden: golden.jsonl\n", cwd);
    test_prepare_counts(head);
    test_prepare_split(head);
    test_errors(head);
    test_run(head);
    test_latest_run();
    Err e;
    fs_remove_tree(tmp, &e);
    TEST_MAIN_END();
}
