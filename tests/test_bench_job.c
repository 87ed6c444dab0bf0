/* test_bench_job.c - the stage benchmark prepared from infuse.yaml and run.
 *
 * What test_cli cannot see through the program's output: the items in
 * their order (evaluation set, the probe beside it, the Golden Data of
 * data.golden and of the store), the per-question callback (once per
 * question, in order, with that question's final answers for every stage),
 * the reports before and after a run, a job that outlives its Config, and
 * the errors of a stage that cannot be benchmarked. */
#include "test.h"
#include "bench_job.h"
#include "config.h"
#include "fsutil.h"
#include "qa_store.h"

#include <cJSON.h>
#include <unistd.h>

#define MODEL "tests/fixtures/models/tiny-gqa"
#define GOOD "tests/fixtures/train/tiny-gqa/adapter"

static char tmp[] = "/tmp/infuse-bench-job-XXXXXX";

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

/* What the callback saw, row by row. */
typedef struct Rows {
    const BenchJob *j;
    int calls, in_order, totals_right, rows_right;
    int stop_at;            /* answer "stop" at this call (0: never) */
    char *text[16][2];      /* copies of the answers as handed out */
} Rows;

static int on_row(void *ctx, int done, int total, const BenchAnswer *row)
{
    Rows *r = ctx;
    r->in_order += done == r->calls + 1;
    r->totals_right += total == r->j->n_items;
    r->rows_right += done >= 1 && row == r->j->ans + (long)(done - 1) * r->j->n_stages;
    if (done >= 1 && done <= 16)
        for (int s = 0; s < 2 && s < r->j->n_stages; s++)
            r->text[done - 1][s] = strdup(row[s].text ? row[s].text : "(null)");
    r->calls++;
    return r->stop_at && r->calls == r->stop_at;
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

/* A store with three golden pairs: one rejected, one data.golden's own
 * (a curator marked it in both: it is asked once). */
static void make_store(void)
{
    Err e;
    QaStore s;
    char *p = in_tmp("qa.jsonl");
    CHECKF(qa_store_open(&s, p, &e) == 0, "%s", e.msg);
    CHECK(qa_add(&s, "Who wrote it?", "Apple researchers.", NULL, &e) == 1);
    CHECK(qa_add(&s, "Is this rejected?", "Yes.", NULL, &e) == 2);
    CHECK(qa_set_golden(&s, 1, 1, &e) == 0 && qa_set_status(&s, 1, QA_APPROVED, &e) == 0);
    CHECK(qa_set_golden(&s, 2, 1, &e) == 0 && qa_set_status(&s, 2, QA_REJECTED, &e) == 0);
    CHECK(qa_add(&s, "What is CLaRa?", "A retrieval framework.", NULL, &e) == 3);
    CHECK(qa_set_golden(&s, 3, 1, &e) == 0 && qa_set_status(&s, 3, QA_APPROVED, &e) == 0);
    CHECKF(qa_store_compact(&s, &e) == 0, "%s", e.msg);   /* PATH itself, so it sniffs as a store */
    qa_store_close(&s);
    free(p);
}

static void test_run(const char *yaml)
{
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    BenchJobArgs a;
    bench_job_args_init(&a);
    a.stages = "base,good";
    a.max_tokens = 3;
    a.threads = 2;
    BenchJob j;
    Err e = {{0}};
    int rc = bench_job_prepare(&j, &cfg, &a, &e);
    config_free(&cfg);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc != 0)
        return;
    /* 2 evaluation questions, the probe beside them, data.golden then the store's golden pair */
    CHECKF(j.n_items == 5 && j.n_stages == 2, "%d items, %d stages", j.n_items, j.n_stages);
    if (j.n_items == 5) {
        const BenchKind kinds[5] = {BENCH_EVAL, BENCH_EVAL, BENCH_PROBE, BENCH_GOLDEN, BENCH_GOLDEN};
        int same = 0;
        for (int i = 0; i < 5; i++)
            same += j.items[i].kind == kinds[i];
        CHECK(same == 5);
        CHECK(strcmp(j.items[2].question, "What does RAM stand for?") == 0);
        CHECK(strcmp(j.items[4].question, "Who wrote it?") == 0 && strcmp(j.items[4].reference, "Apple researchers.") == 0);
        CHECK(strcmp(j.items[0].category, "c") == 0 && j.items[0].n_keywords == 1 && !j.items[1].category);
    }
    CHECK(strcmp(j.st[0].name, "base") == 0 && !j.st[0].adapter_dir && j.st[0].sha256[0] == 0);
    CHECKF(strcmp(j.st[1].name, "good") == 0 && j.st[1].adapter_dir && strstr(j.st[1].adapter_dir, GOOD) &&
               strlen(j.st[1].sha256) == 64 && j.st[1].probe_delta > 0,
           "%s", j.st[1].adapter_dir ? j.st[1].adapter_dir : "(null)");
    CHECK(j.opts.max_tokens == 3 && strcmp(bench_job_kind_prefix(BENCH_GOLDEN), "(golden) ") == 0);
    CHECK(bench_job_markdown(&j) == NULL && bench_job_json(&j) == NULL);   /* nothing to report yet */
    char *md_path = in_tmp("early.md");
    CHECK(bench_job_write_markdown(&j, md_path, &e) != 0 && strstr(e.msg, "early.md") && !fs_exists(md_path));
    free(md_path);

    Rows r = {.j = &j};
    rc = bench_job_run(&j, on_row, &r, &e);
    CHECKF(rc == 0, "%s", e.msg);
    CHECKF(r.calls == 5 && r.in_order == 5 && r.totals_right == 5 && r.rows_right == 5, "%d calls, %d %d %d",
           r.calls, r.in_order, r.totals_right, r.rows_right);
    int kept = 0;
    for (int i = 0; i < 5 && i < r.calls; i++)
        for (int s = 0; s < 2; s++)
            kept += r.text[i][s] && j.ans[i * 2 + s].text && strcmp(r.text[i][s], j.ans[i * 2 + s].text) == 0;
    CHECKF(kept == 10, "%d of 10 answers as handed out", kept);
    CHECK(j.ran && j.sum[0].n == 2 && j.sum[0].n_probe == 1 && j.sum[0].n_golden == 2);

    /* a callback that answers "stop" ends the run there, as a failure */
    {
        BenchJob k;
        Config c2;
        CHECK(load_cfg(&c2, yaml) == 0);
        CHECKF(bench_job_prepare(&k, &c2, &a, &e) == 0, "%s", e.msg);
        config_free(&c2);
        Rows stop = {.j = &k, .stop_at = 2};
        CHECK(bench_job_run(&k, on_row, &stop, &e) != 0);
        CHECKF(stop.calls == 2 && strstr(e.msg, "stopped after 2 of 5 questions") && !k.ran, "%d: %s", stop.calls, e.msg);
        for (int i = 0; i < 16; i++)
            for (int s = 0; s < 2; s++)
                free(stop.text[i][s]);
        bench_job_free(&k);
    }

    /* the reports */
    char *md = bench_job_markdown(&j);
    CHECKF(md && strncmp(md, "| Stage | Accuracy |", 20) == 0 && strstr(md, "| **good** |") &&
               strstr(md, "| (probe) What does RAM stand for? |") && strstr(md, "| (golden) Who wrote it? |"),
           "%s", md ? md : "(null)");
    char *js = bench_job_json(&j);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    CHECK(root != NULL);
    const cJSON *model = cJSON_GetObjectItem(root, "model"), *stages = cJSON_GetObjectItem(root, "stages"),
                *qs = cJSON_GetObjectItem(root, "questions");
    CHECK(cJSON_IsString(model) && strstr(model->valuestring, MODEL));
    CHECK(cJSON_GetArraySize(stages) == 2 && cJSON_GetArraySize(qs) == 5);
    const cJSON *s1 = cJSON_GetArrayItem(stages, 1), *q3 = cJSON_GetArrayItem(qs, 3);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(s1, "adapter_sha256")) &&
          strcmp(cJSON_GetObjectItem(s1, "adapter_sha256")->valuestring, j.st[1].sha256) == 0);
    const cJSON *kind = cJSON_GetObjectItem(q3, "kind"), *ans = cJSON_GetObjectItem(q3, "answers");
    CHECK(cJSON_IsString(kind) && strcmp(kind->valuestring, "golden") == 0);
    const cJSON *text = cJSON_GetObjectItem(cJSON_GetObjectItem(ans, "good"), "text");
    CHECK(cJSON_IsString(text) && strcmp(text->valuestring, j.ans[3 * 2 + 1].text) == 0);
    cJSON_Delete(root);
    char *jpath = in_tmp("out.json");
    CHECKF(bench_job_write_json(&j, jpath, &e) == 0, "%s", e.msg);
    size_t n = 0;
    char *back = fs_read_all(jpath, &n, &e);
    CHECK(back && js && strcmp(back, js) == 0);
    free(back), free(jpath), free(js), free(md);
    for (int i = 0; i < 16; i++)
        free(r.text[i][0]), free(r.text[i][1]);
    bench_job_free(&j);
}

/* Overrides: probe and golden off, NAME=FOLDER, defaults with nothing given. */
static void test_overrides(const char *yaml)
{
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    BenchJobArgs a;
    bench_job_args_init(&a);
    a.stages = "x=" GOOD;
    a.probe = "none";
    a.golden = "none";
    BenchJob j;
    Err e = {{0}};
    int rc = bench_job_prepare(&j, &cfg, &a, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(j.n_items == 2 && j.n_stages == 1 && strcmp(j.st[0].name, "x") == 0 &&
              strcmp(j.st[0].adapter_dir, GOOD) == 0);
        CHECK(j.opts.max_tokens == BENCH_JOB_MAX_TOKENS);
        bench_job_free(&j);
    }
    /* the default stages need cpt and sft adapters this config lacks */
    bench_job_args_init(&a);
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "\"cpt\""), "%s", e.msg);
    config_free(&cfg);
}

/* The taught pairs: approved, not golden, not deleted, evenly spaced. */
static void test_taught(const char *yaml)
{
    Err e;
    QaStore s;
    char *p = in_tmp("qa.jsonl");
    CHECKF(qa_store_open(&s, p, &e) == 0, "%s", e.msg);
    for (int i = 4; i <= 15; i++) {     /* #4-#13 approved, #14 pending, #15 approved but deleted */
        char q[16];
        snprintf(q, sizeof q, "Q%d", i);
        CHECK(qa_add(&s, q, "A.", NULL, &e) == i);
        if (i != 14)
            CHECK(qa_set_status(&s, i, QA_APPROVED, &e) == 0);
    }
    CHECK(qa_delete(&s, 15, 1, &e) == 0);
    CHECKF(qa_store_compact(&s, &e) == 0, "%s", e.msg);
    qa_store_close(&s);
    free(p);

    const int asks[3] = {4, 0, -1}, want[3] = {4, 10, 0};
    for (int t = 0; t < 3; t++) {
        Config cfg;
        if (load_cfg(&cfg, yaml) != 0)
            return;
        BenchJobArgs a;
        bench_job_args_init(&a);
        a.stages = "base";
        a.taught = asks[t];
        BenchJob j;
        int rc = bench_job_prepare(&j, &cfg, &a, &e);
        config_free(&cfg);
        CHECKF(rc == 0, "%s", e.msg);
        if (rc != 0)
            continue;
        int n = 0, first = -1;
        for (int i = 0; i < j.n_items; i++)
            if (j.items[i].kind == BENCH_TAUGHT) {
                n++;
                if (first < 0)
                    first = i;
                CHECK(i == first + n - 1);          /* together, after the others */
            }
        CHECKF(n == want[t], "taught %d: %d pairs, want %d", asks[t], n, want[t]);
        if (asks[t] == 4 && n == 4) {           /* ids 4-13: every 10/4th from the first */
            const char *picked[4] = {"Q4", "Q6", "Q9", "Q11"};
            int same = 0;
            for (int k = 0; k < 4; k++)
                same += strcmp(j.items[first + k].question, picked[k]) == 0 && strcmp(j.items[first + k].reference, "A.") == 0;
            CHECK(same == 4);
            CHECK(first == j.n_items - 4 && strcmp(bench_job_kind_prefix(BENCH_TAUGHT), "(taught) ") == 0);
        }
        bench_job_free(&j);
    }
}

/* Stages that cannot be benchmarked: the message names the stage and folder. */
static void test_errors(const char *yaml)
{
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    BenchJobArgs a;
    BenchJob j;
    Err e = {{0}};
    char *missing = in_tmp("no-such-adapter"), stages[512];
    snprintf(stages, sizeof stages, "base,late=%s", missing);
    bench_job_args_init(&a);
    a.stages = stages;
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "stage late") && strstr(e.msg, missing),
           "%s", e.msg);
    bench_job_free(&j);     /* harmless after a failure */
    a.stages = "base,nope";
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "\"nope\""), "%s", e.msg);
    a.stages = "base,base,base,base,base,base,base,base,base";
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "at most 8 stages"), "%s", e.msg);
    a.stages = "base";
    a.eval = "/nonexistent/eval.jsonl";
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "/nonexistent/eval.jsonl"), "%s", e.msg);
    config_free(&cfg);
    config_defaults(&cfg);
    bench_job_args_init(&a);
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "needs a model"), "%s", e.msg);
    free(missing);
}

/* The probe: probe.jsonl and probe_*.jsonl beside the evaluation set, in
 * name order, or --probe's comma-separated files; nothing else. */
static int n_probe_items(const BenchJob *j)
{
    int n = 0;
    for (int i = 0; i < j->n_items; i++)
        n += j->items[i].kind == BENCH_PROBE;
    return n;
}

static void test_probes(const char *yaml)
{
    write_file("probe_recall.jsonl", "{\"question\": \"What does ROM stand for?\", \"answer\": \"read only memory\"}\n"
                                     "{\"question\": \"What does LED stand for?\", \"answer\": \"light emitting diode\"}\n");
    write_file("probes.jsonl", "{\"question\": \"not a probe file\", \"answer\": \"x\"}\n");
    write_file("probe_notes.txt", "not a probe file either\n");
    Config cfg;
    if (load_cfg(&cfg, yaml) != 0)
        return;
    BenchJobArgs a;
    bench_job_args_init(&a);
    a.stages = "base";
    a.golden = "none";
    a.taught = -1;
    BenchJob j;
    Err e = {{0}};
    int rc = bench_job_prepare(&j, &cfg, &a, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(n_probe_items(&j) == 3 && j.n_items == 5);
        CHECK(strcmp(j.items[2].question, "What does RAM stand for?") == 0 &&
              strcmp(j.items[4].question, "What does LED stand for?") == 0);
        bench_job_free(&j);
    }
    char *p1 = in_tmp("probe_recall.jsonl"), *p2 = in_tmp("probes.jsonl"), list[2048];
    snprintf(list, sizeof list, "%s,%s", p1, p2);
    a.probe = list;
    rc = bench_job_prepare(&j, &cfg, &a, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(n_probe_items(&j) == 3 && strcmp(j.items[4].question, "not a probe file") == 0);
        bench_job_free(&j);
    }
    /* a missing file in the list is an error naming it */
    snprintf(list, sizeof list, "%s,%s-missing", p1, p1);
    CHECKF(bench_job_prepare(&j, &cfg, &a, &e) != 0 && strstr(e.msg, "probe_recall.jsonl-missing"), "%s", e.msg);
    free(p1);
    free(p2);
    config_free(&cfg);
    const char *made[] = {"probe_recall.jsonl", "probes.jsonl", "probe_notes.txt"};
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
        char *p = in_tmp(made[i]);
        remove(p);
        free(p);
    }
}

/* One rounding everywhere: halves go up, as a reader rounds 92.5. */
static void test_percent(void)
{
    CHECK(bench_percent(37, 40) == 93 && bench_percent(1, 8) == 13 && bench_percent(1, 3) == 33);
    CHECK(bench_percent(2, 3) == 67 && bench_percent(127, 134) == 95 && bench_percent(117, 134) == 87);
    CHECK(bench_percent(0, 46) == 0 && bench_percent(46, 46) == 100 && bench_percent(0, 0) == 0);
    char c[32], small[6];
    bench_score_cell(c, sizeof c, 37, 40);
    CHECK(strcmp(c, "37/40 93%") == 0);
    bench_score_cell(c, sizeof c, 0, 0); /* nothing asked: not "0/0 0%" */
    CHECK(strcmp(c, "-") == 0);
    bench_score_cell(small, sizeof small, 127, 134);
    CHECK(strcmp(small, "127/1") == 0);
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
    write_file("eval.jsonl", "{\"question\": \"What is SCP in CLaRa?\", \"answer\": \"Salient compressor "
                             "pretraining.\", \"keywords\": [\"compressor\"], \"category\": \"c\"}\n"
                             "{\"question\": \"Name the first stage.\", \"answer\": \"SCP.\"}\n");
    write_file("probe.jsonl", "{\"question\": \"What does RAM stand for?\", \"answer\": \"random access memory\"}\n");
    write_file("golden.jsonl", "{\"question\": \"What is CLaRa?\", \"answer\": \"A retrieval framework.\"}\n");
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "model: %s/" MODEL "\nadapters:\n  good: %s/" GOOD "\ndata:\n  qa: qa.jsonl\n  eval: eval.jsonl\n"
             "  golden: golden.jsonl\nthreads: 2\n",
             cwd, cwd);
    test_percent();
    test_run(yaml);
    test_overrides(yaml);
    test_errors(yaml);
    test_taught(yaml);
    test_probes(yaml);
    Err e;
    fs_remove_tree(tmp, &e);
    TEST_MAIN_END();
}
