/* cmd_bench.c - `infuse bench`: Base vs CPT vs SFT on the evaluation set.
 *
 * Stages are "base" (no adapter) and the names of infuse.yaml's adapters
 * (or NAME=FOLDER).  Prints a table (a row per question, a column per
 * stage), the summary per stage, each adapter's SHA-256, and optionally
 * writes JSON and a Markdown table like the one users already publish.
 * Besides the evaluation set it asks the forgetting probe (probe.jsonl
 * beside it) and the Golden Data, each summed apart.  The work itself is
 * bench_job.h's, shared with the workbench; this file prints. */
#include "cli.h"
#include "bench_job.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Prints s cut to at most max characters (not bytes), never inside one. */
static void put_cut(const char *s, int max, int pad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n = strlen(s);
    int chars = 0;
    while (i < n && chars < max) {
        size_t len;
        if (utf8_char(u + i, n - i, &len) != UTF8_OK)
            len = 1;
        if (chars == max - 1 && i + len < n) {
            fputs("…", stdout);
            chars++;
            i = n;
            break;
        }
        fwrite(u + i, 1, len, stdout);
        i += len;
        chars++;
    }
    for (; pad && chars < max; chars++)
        putchar(' ');
}

static int progress(void *ctx, int done, int total, const BenchAnswer *row)
{
    (void)row;
    if (*(int *)ctx)
        fprintf(stderr, "\rinfuse: bench %d/%d questions", done, total);
    return 0;
}

/* The table: a row per question, a column per stage, then the summary. */
static void print_table(const BenchJob *j)
{
    const BenchStage *st = j->st;
    const BenchSummary *sum = j->sum;
    const int ns = j->n_stages;
    printf("%-4s ", "#");
    put_cut("question", 44, 1);
    for (int s = 0; s < ns; s++)
        printf(" %-7s", st[s].name);
    putchar('\n');
    for (int i = 0; i < j->n_items; i++) {
        printf("%-4d ", i + 1);
        char q[512];
        snprintf(q, sizeof q, "%s%s", bench_job_kind_prefix(j->items[i].kind), j->items[i].question);
        put_cut(q, 44, 1);
        for (int s = 0; s < ns; s++)
            printf(" %-7s", j->ans[(long)i * ns + s].score.correct ? "ok" : "wrong");
        putchar('\n');
    }
    printf("\n%-12s %-14s %-7s %-8s %-14s %-14s %-14s %-10s %-10s\n", "stage", "accuracy", "F1", "ROUGE-L", "taught",
           "golden", "probe", "decode/s", "prefill/s");
    for (int s = 0; s < ns; s++) {
        char acc[32], tg[32], gd[32], pr[32];
        bench_score_cell(acc, sizeof acc, sum[s].correct, sum[s].n);
        bench_score_cell(tg, sizeof tg, sum[s].taught_correct, sum[s].n_taught);
        bench_score_cell(gd, sizeof gd, sum[s].golden_correct, sum[s].n_golden);
        bench_score_cell(pr, sizeof pr, sum[s].probe_correct, sum[s].n_probe);
        printf("%-12s %-14s %-7.3f %-8.3f %-14s %-14s %-14s %-10.1f %-10.1f\n", st[s].name, acc, sum[s].f1,
               sum[s].rouge_l, tg, gd, pr, sum[s].decode_tps, sum[s].prefill_tps);
    }
}

int cmd_bench(int argc, char **argv)
{
    const char *cfg_path = NULL, *model_dir = NULL, *stages_arg = BENCH_JOB_STAGES, *eval_path = NULL;
    const char *probe_path = NULL, *golden_path = NULL, *json_path = NULL, *md_path = NULL;
    long threads = -1, max_tokens = BENCH_JOB_MAX_TOKENS, taught = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL(flag) (strcmp(a, flag) == 0 && v && (i++, 1))
        if (VAL("-c"))
            cfg_path = v;
        else if (VAL("-m"))
            model_dir = v;
        else if (VAL("--stages"))
            stages_arg = v;
        else if (VAL("--eval"))
            eval_path = v;
        else if (VAL("--probe"))
            probe_path = v;
        else if (VAL("--golden"))
            golden_path = v;
        else if (VAL("--taught")) {
            if (strcmp(v, "none") == 0)
                taught = -1;
            else if (cli_int("--taught", v, 1, 100000, &taught))
                return 1;
        } else if (VAL("--json"))
            json_path = v;
        else if (VAL("--markdown"))
            md_path = v;
        else if (VAL("--threads")) {
            if (cli_int("--threads", v, 1, 256, &threads))
                return 1;
        } else if (VAL("--max-tokens")) {
            if (cli_int("--max-tokens", v, 1, 4096, &max_tokens))
                return 1;
        } else
            return cli_fail("usage: infuse bench [-c infuse.yaml] [-m MODEL] [--stages base,cpt,sft] [--eval FILE] "
                            "[--probe FILE[,FILE...]|none] [--golden FILE|none] [--taught N|none] [--max-tokens N] [--json FILE] [--markdown FILE] [--threads N]");
#undef VAL
    }
    Config cfg;
    if (cli_load_config(&cfg, cfg_path))
        return 1;
    BenchJobArgs a;
    bench_job_args_init(&a);
    a.model = model_dir;
    a.stages = stages_arg;
    a.eval = eval_path;
    a.probe = probe_path;
    a.golden = golden_path;
    a.max_tokens = (int)max_tokens;
    a.taught = (int)taught;
    a.threads = (int)threads;
    BenchJob job;
    Err e;
    int rc = 1, tty = isatty(2);
    if (bench_job_prepare(&job, &cfg, &a, &e) != 0) {
        config_free(&cfg);
        return cli_fail_err(&e);
    }
    config_free(&cfg);
    for (int s = 0; s < job.n_stages; s++)
        if (job.st[s].adapter_dir)
            fprintf(stderr, "infuse: stage %-6s %s  sha256 %.16s…  (changes the probe's logits by up to %.3g)\n",
                    job.st[s].name, job.st[s].adapter_dir, job.st[s].sha256, job.st[s].probe_delta);
    if (bench_job_run(&job, progress, &tty, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    if (tty)
        fputc('\n', stderr);
    print_table(&job);
    if (md_path && bench_job_write_markdown(&job, md_path, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    if (json_path && bench_job_write_json(&job, json_path, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    rc = 0;
out:
    bench_job_free(&job);
    return rc;
}
