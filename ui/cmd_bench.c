/* cmd_bench.c - `infuse bench`: Base vs CPT vs SFT on the evaluation set.
 *
 * Stages are "base" (no adapter) and the names of infuse.yaml's adapters
 * (or NAME=FOLDER).  Prints a table (a row per question, a column per
 * stage), the summary per stage, each adapter's SHA-256, and optionally
 * writes JSON and a Markdown table like the one users already publish.
 * Besides the evaluation set it asks the forgetting probe (probe.jsonl
 * beside it) and the Golden Data, each summed apart. */
#include "cli.h"
#include "fsutil.h"
#include "model.h"
#include "qa_eval.h"
#include "qa_store.h"
#include "stage_bench.h"
#include "tokenizer.h"
#include "utf8.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STAGES 8

/* The evaluation set, the forgetting probe and the Golden Data (qa_eval.h)
 * as one list of items, in that order. */
typedef struct EvalSet {
    QaEvalSet sets[3];  /* by BenchKind */
    BenchItem *items;
    int n;
} EvalSet;

static const char *const kind_prefix[] = {"", "(probe) ", "(golden) "};
static const char *const kind_name[] = {"eval", "probe", "golden"};

/* Adds sets[kind] to the items. */
static int add_items(EvalSet *es, BenchKind kind)
{
    QaEvalSet *set = &es->sets[kind];
    BenchItem *items = realloc(es->items, sizeof *items * ((size_t)es->n + set->n));
    if (!items)
        return cli_fail("out of memory");
    es->items = items;
    for (size_t i = 0; i < set->n; i++) {
        const QaEvalItem *q = &set->items[i];
        es->items[es->n++] = (BenchItem){q->question, q->reference, (const char *const *)q->keywords,
                                          q->n_keywords, q->category[0] ? q->category : NULL, kind};
    }
    return 0;
}

static int load_eval(EvalSet *es, const char *path, BenchKind kind)
{
    Err e;
    if (qa_eval_load(&es->sets[kind], path, &e) != 0)
        return cli_fail_err(&e);
    return add_items(es, kind);
}

/* Golden Data is what SFT must learn, so it is asked as written and scored
 * against its own answer: the data.golden file and the store's golden
 * pairs (data.qa), or the one file given with --golden. */
static int load_golden(EvalSet *es, const char *arg, const Config *cfg)
{
    Err e;
    QaEvalSet *set = &es->sets[BENCH_GOLDEN];
    if (arg)
        return strcmp(arg, "none") == 0 ? 0 : load_eval(es, arg, BENCH_GOLDEN);
    if (cfg->golden && fs_exists(cfg->golden) && qa_eval_load(set, cfg->golden, &e) != 0)
        return cli_fail_err(&e);
    if (cfg->qa && qa_store_sniff(cfg->qa)) {
        QaStore st;
        if (qa_store_open(&st, cfg->qa, &e) != 0)
            return cli_fail_err(&e);
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < st.n; i++) {
            const QaRecord *r = &st.r[i];
            if (r->golden && !r->deleted && r->status != QA_REJECTED)
                rc = qa_eval_append(set, r->question, r->answer, &e);
        }
        qa_store_close(&st);
        if (rc)
            return cli_fail_err(&e);
    }
    return add_items(es, BENCH_GOLDEN);
}

static void free_eval(EvalSet *es)
{
    qa_eval_free(&es->sets[0]);
    qa_eval_free(&es->sets[1]);
    qa_eval_free(&es->sets[2]);
    free(es->items);
}

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

static void progress(void *ctx, int done, int total)
{
    if (*(int *)ctx)
        fprintf(stderr, "\rinfuse: bench %d/%d questions", done, total);
}

static double pct(int k, int n)
{
    return n ? 100.0 * k / n : 0;
}

static void write_markdown(FILE *f, const BenchStage *st, int ns, const EvalSet *es, const BenchAnswer *ans,
                           const BenchSummary *sum)
{
    fprintf(f, "| Stage | Accuracy | F1 | ROUGE-L | Golden Data | Forgetting probe | Decode tokens/s | "
               "Prefill tokens/s |\n");
    fprintf(f, "| :--- | :--- | :--- | :--- | :--- | :--- | :--- | :--- |\n");
    for (int s = 0; s < ns; s++)
        fprintf(f, "| **%s** | %d/%d (%.0f%%) | %.3f | %.3f | %d/%d (%.0f%%) | %d/%d (%.0f%%) | %.1f | %.1f |\n",
                st[s].name, sum[s].correct, sum[s].n, pct(sum[s].correct, sum[s].n), sum[s].f1, sum[s].rouge_l,
                sum[s].golden_correct, sum[s].n_golden, pct(sum[s].golden_correct, sum[s].n_golden),
                sum[s].probe_correct, sum[s].n_probe, pct(sum[s].probe_correct, sum[s].n_probe), sum[s].decode_tps,
                sum[s].prefill_tps);
    fprintf(f, "\n| Question |");
    for (int s = 0; s < ns; s++)
        fprintf(f, " %s |", st[s].name);
    fprintf(f, "\n| :--- |");
    for (int s = 0; s < ns; s++)
        fprintf(f, " :--- |");
    fputc('\n', f);
    for (int i = 0; i < es->n; i++) {
        fprintf(f, "| %s%s |", kind_prefix[es->items[i].kind], es->items[i].question);
        for (int s = 0; s < ns; s++)
            fprintf(f, " %s |", ans[(long)i * ns + s].score.correct ? "Correct" : "Wrong");
        fputc('\n', f);
    }
}

static cJSON *to_json(const BenchStage *st, int ns, const EvalSet *es, const BenchAnswer *ans,
                      const BenchSummary *sum, const char *model)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", model);
    cJSON *stages = cJSON_AddArrayToObject(r, "stages");
    for (int s = 0; s < ns; s++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", st[s].name);
        if (st[s].adapter_dir) {
            cJSON_AddStringToObject(o, "adapter", st[s].adapter_dir);
            cJSON_AddStringToObject(o, "adapter_sha256", st[s].sha256);
            cJSON_AddNumberToObject(o, "probe_logit_change", st[s].probe_delta);
        }
        cJSON_AddNumberToObject(o, "questions", sum[s].n);
        cJSON_AddNumberToObject(o, "correct", sum[s].correct);
        cJSON_AddNumberToObject(o, "accuracy", sum[s].n ? (double)sum[s].correct / sum[s].n : 0);
        cJSON_AddNumberToObject(o, "exact_match", sum[s].exact);
        cJSON_AddNumberToObject(o, "f1", sum[s].f1);
        cJSON_AddNumberToObject(o, "rouge_l", sum[s].rouge_l);
        cJSON_AddNumberToObject(o, "golden_questions", sum[s].n_golden);
        cJSON_AddNumberToObject(o, "golden_correct", sum[s].golden_correct);
        cJSON_AddNumberToObject(o, "probe_questions", sum[s].n_probe);
        cJSON_AddNumberToObject(o, "probe_correct", sum[s].probe_correct);
        cJSON_AddNumberToObject(o, "prefill_tokens_per_s", sum[s].prefill_tps);
        cJSON_AddNumberToObject(o, "decode_tokens_per_s", sum[s].decode_tps);
        cJSON_AddItemToArray(stages, o);
    }
    cJSON *items = cJSON_AddArrayToObject(r, "questions");
    for (int i = 0; i < es->n; i++) {
        const BenchItem *it = &es->items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "question", it->question);
        cJSON_AddStringToObject(o, "reference", it->reference);
        if (it->category)
            cJSON_AddStringToObject(o, "category", it->category);
        cJSON_AddStringToObject(o, "kind", kind_name[it->kind]);
        cJSON *a = cJSON_AddObjectToObject(o, "answers");
        for (int s = 0; s < ns; s++) {
            const BenchAnswer *b = &ans[(long)i * ns + s];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "text", b->text ? b->text : "");
            cJSON_AddBoolToObject(x, "correct", b->score.correct);
            cJSON_AddBoolToObject(x, "exact", b->score.exact);
            cJSON_AddNumberToObject(x, "f1", b->score.f1);
            cJSON_AddNumberToObject(x, "rouge_l", b->score.rouge_l);
            if (it->n_keywords) {
                cJSON_AddNumberToObject(x, "keyword_recall", b->score.keyword_recall);
                cJSON *mk = cJSON_AddArrayToObject(x, "missing_keywords");
                for (size_t k = 0; k < it->n_keywords && k < 32; k++)
                    if (!(b->score.matched >> k & 1))
                        cJSON_AddItemToArray(mk, cJSON_CreateString(it->keywords[k]));
            }
            cJSON_AddNumberToObject(x, "tokens", b->n_tokens);
            cJSON_AddItemToObject(a, st[s].name, x);
        }
        cJSON_AddItemToArray(items, o);
    }
    return r;
}

static int write_text(const char *path, const char *text)
{
    Err e;
    const void *p[1] = {text};
    size_t l[1] = {strlen(text)};
    return fs_write_atomic(path, p, l, 1, &e) ? cli_fail_err(&e) : 0;
}

int cmd_bench(int argc, char **argv)
{
    const char *cfg_path = NULL, *model_dir = NULL, *stages_arg = "base,cpt,sft", *eval_path = NULL;
    const char *probe_path = NULL, *golden_path = NULL, *json_path = NULL, *md_path = NULL;
    long threads = -1, max_tokens = 64;
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
        else if (VAL("--json"))
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
                            "[--probe FILE|none] [--golden FILE|none] [--max-tokens N] [--json FILE] [--markdown FILE] [--threads N]");
#undef VAL
    }
    Config cfg;
    if (cli_load_config(&cfg, cfg_path))
        return 1;
    int rc = 1;
    Model m;
    int have_model = 0, tty = isatty(2);
    Tokenizer *tok = NULL;
    Pool *pool = NULL;
    EvalSet es = {0};
    BenchStage st[MAX_STAGES];
    int ns = 0;
    BenchAnswer *ans = NULL;
    char *tok_path = NULL, *probe_owned = NULL, stages_buf[256];
    memset(st, 0, sizeof st);
    Err e;
    if (!model_dir)
        model_dir = cfg.model;
    if (!eval_path)
        eval_path = cfg.eval;
    if (!model_dir || !eval_path) {
        cli_fail("bench: needs a model (-m or model:) and an evaluation set (--eval or data.eval)");
        goto out;
    }
    /* stages: base, a config adapter name, or NAME=FOLDER */
    snprintf(stages_buf, sizeof stages_buf, "%s", stages_arg);
    for (char *save = NULL, *t = strtok_r(stages_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (ns == MAX_STAGES) {
            cli_fail("bench: at most %d stages", MAX_STAGES);
            goto out;
        }
        char *eq = strchr(t, '=');
        if (eq)
            *eq = 0;
        snprintf(st[ns].name, sizeof st[ns].name, "%s", t);
        if (eq)
            st[ns].adapter_dir = eq + 1;
        else if (strcmp(t, "base") != 0 && !(st[ns].adapter_dir = config_adapter(&cfg, t))) {
            cli_fail("bench: stage \"%s\" is neither base nor an adapter named in the config", t);
            goto out;
        }
        ns++;
    }
    if (load_eval(&es, eval_path, BENCH_EVAL))
        goto out;
    if (!probe_path) {
        /* the forgetting probe beside the evaluation set, when there is one */
        char *dir = strdup(eval_path), *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        probe_owned = slash ? fs_join(dir, "probe.jsonl") : strdup("probe.jsonl");
        free(dir);
        if (fs_exists(probe_owned))
            probe_path = probe_owned;
    }
    if (probe_path && strcmp(probe_path, "none") != 0 && load_eval(&es, probe_path, BENCH_PROBE))
        goto out;
    if (load_golden(&es, golden_path, &cfg))
        goto out;
    tok_path = fs_join(model_dir, "tokenizer.json");
    if (!(tok = tokenizer_load(tok_path, &e)) || model_load(&m, model_dir, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    have_model = 1;
    pool = pool_new(threads > 0 ? (int)threads : cfg.threads > 0 ? cfg.threads : cli_default_threads());
    if (stage_bench_prepare(st, ns, &m, tok, pool, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    for (int s = 0; s < ns; s++)
        if (st[s].adapter_dir)
            fprintf(stderr, "infuse: stage %-6s %s  sha256 %.16s…  (changes the probe's logits by up to %.3g)\n",
                    st[s].name, st[s].adapter_dir, st[s].sha256, st[s].probe_delta);
    ans = calloc((size_t)es.n * (size_t)ns, sizeof *ans);
    BenchSummary sum[MAX_STAGES];
    BenchOptions bo = {cfg.chat_template, cfg.system_prompt, (int)max_tokens, {1.0, 0.5}};
    if (stage_bench_run(&m, tok, pool, st, ns, es.items, es.n, &bo, ans, sum, progress, &tty, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    if (tty)
        fputc('\n', stderr);
    /* the table */
    printf("%-4s ", "#");
    put_cut("question", 44, 1);
    for (int s = 0; s < ns; s++)
        printf(" %-7s", st[s].name);
    putchar('\n');
    for (int i = 0; i < es.n; i++) {
        printf("%-4d ", i + 1);
        char q[512];
        snprintf(q, sizeof q, "%s%s", kind_prefix[es.items[i].kind], es.items[i].question);
        put_cut(q, 44, 1);
        for (int s = 0; s < ns; s++)
            printf(" %-7s", ans[(long)i * ns + s].score.correct ? "ok" : "wrong");
        putchar('\n');
    }
    printf("\n%-12s %-14s %-7s %-8s %-14s %-14s %-10s %-10s\n", "stage", "accuracy", "F1", "ROUGE-L", "golden",
           "probe", "decode/s", "prefill/s");
    for (int s = 0; s < ns; s++) {
        char acc[32], gd[32], pr[32];
        snprintf(acc, sizeof acc, "%d/%d %.0f%%", sum[s].correct, sum[s].n, pct(sum[s].correct, sum[s].n));
        snprintf(gd, sizeof gd, "%d/%d %.0f%%", sum[s].golden_correct, sum[s].n_golden,
                 pct(sum[s].golden_correct, sum[s].n_golden));
        snprintf(pr, sizeof pr, "%d/%d %.0f%%", sum[s].probe_correct, sum[s].n_probe,
                 pct(sum[s].probe_correct, sum[s].n_probe));
        printf("%-12s %-14s %-7.3f %-8.3f %-14s %-14s %-10.1f %-10.1f\n", st[s].name, acc, sum[s].f1, sum[s].rouge_l,
               gd, pr, sum[s].decode_tps, sum[s].prefill_tps);
    }
    if (md_path) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        write_markdown(f, st, ns, &es, ans, sum);
        fclose(f);
        int w = write_text(md_path, buf);
        free(buf);
        if (w)
            goto out;
    }
    if (json_path) {
        cJSON *j = to_json(st, ns, &es, ans, sum, model_dir);
        char *s = cJSON_Print(j);
        int w = write_text(json_path, s);
        free(s);
        cJSON_Delete(j);
        if (w)
            goto out;
    }
    rc = 0;
out:
    if (ans)
        for (long i = 0; i < (long)es.n * ns; i++)
            free(ans[i].text);
    free(ans);
    stage_bench_release(st, ns);
    pool_delete(pool);
    if (have_model)
        model_free(&m);
    tokenizer_delete(tok);
    free(tok_path);
    free(probe_owned);
    free_eval(&es);
    config_free(&cfg);
    return rc;
}
