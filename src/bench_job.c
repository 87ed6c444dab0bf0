/* bench_job.c - the stage benchmark of infuse.yaml, from settings to report (see bench_job.h). */
#include "bench_job.h"
#include "fsutil.h"
#include "qa_store.h"

#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_prefix[BENCH_KINDS] = {"", "(probe) ", "(golden) ", "(taught) "};
static const char *const kind_name[BENCH_KINDS] = {"eval", "probe", "golden", "taught"};

const char *bench_job_kind_prefix(BenchKind kind)
{
    return kind >= BENCH_EVAL && kind < BENCH_KINDS ? kind_prefix[kind] : "";
}

void bench_job_args_init(BenchJobArgs *a)
{
    memset(a, 0, sizeof *a);
}

/* Adds sets[kind] to the items. */
static int add_items(BenchJob *j, BenchKind kind, Err *e)
{
    const QaEvalSet *set = &j->sets[kind];
    BenchItem *items = realloc(j->items, sizeof *items * ((size_t)j->n_items + set->n));
    if (!items && (size_t)j->n_items + set->n)
        return err_set(e, "out of memory");
    j->items = items;
    for (size_t i = 0; i < set->n; i++) {
        const QaEvalItem *q = &set->items[i];
        j->items[j->n_items++] = (BenchItem){q->question, q->reference, (const char *const *)q->keywords,
                                             q->n_keywords, q->category[0] ? q->category : NULL, kind};
    }
    return 0;
}

static int load_items(BenchJob *j, const char *path, BenchKind kind, Err *e)
{
    if (qa_eval_load(&j->sets[kind], path, e) != 0)
        return -1;
    return add_items(j, kind, e);
}

/* Whether set already asks question with this reference. */
static int has_item(const QaEvalSet *set, const char *question, const char *reference)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].question, question) == 0 && strcmp(set->items[i].reference, reference) == 0)
            return 1;
    return 0;
}

/* Golden Data is what SFT must learn, so it is asked as written and scored
 * against its own answer: the data.golden file and the store's golden
 * pairs (st: data.qa, NULL without one) not already in it, or the one file
 * given. */
static int load_golden(BenchJob *j, const char *arg, const Config *cfg, const QaStore *st, Err *e)
{
    QaEvalSet *set = &j->sets[BENCH_GOLDEN];
    if (arg)
        return strcmp(arg, "none") == 0 ? 0 : load_items(j, arg, BENCH_GOLDEN, e);
    if (cfg->golden && fs_exists(cfg->golden) && qa_eval_load(set, cfg->golden, e) != 0)
        return -1;
    for (size_t i = 0; st && i < st->n; i++) {
        const QaRecord *r = &st->r[i];
        if (r->golden && !r->deleted && r->status != QA_REJECTED && !has_item(set, r->question, r->answer) &&
            qa_eval_append(set, r->question, r->answer, e))
            return -1;
    }
    return add_items(j, BENCH_GOLDEN, e);
}

/* The taught pairs: n of the store's approved pairs that are not golden
 * (those are asked already) or deleted, evenly spaced through the store so
 * the sample is the same run after run and spans every source. */
static int load_taught(BenchJob *j, int n, const QaStore *st, Err *e)
{
    if (n < 0 || !st)
        return 0;
    if (n == 0)
        n = BENCH_JOB_TAUGHT;
    size_t *pick = malloc(sizeof *pick * (st->n ? st->n : 1)), m = 0;
    if (!pick)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < st->n; i++) {
        const QaRecord *r = &st->r[i];
        if (r->status == QA_APPROVED && !r->golden && !r->deleted)
            pick[m++] = i;
    }
    size_t k = (size_t)n < m ? (size_t)n : m;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        const QaRecord *r = &st->r[pick[i * m / k]];
        rc = qa_eval_append(&j->sets[BENCH_TAUGHT], r->question, r->answer, e);
    }
    free(pick);
    return rc ? -1 : add_items(j, BENCH_TAUGHT, e);
}

/* Golden Data, then the taught pairs, from one snapshot of the QA store
 * (the workbench may hold it): both sets see the same version of it. */
static int load_store_items(BenchJob *j, const BenchJobArgs *a, const Config *cfg, Err *e)
{
    QaStore st;
    int have = (!a->golden || a->taught >= 0) && cfg->qa && qa_store_sniff(cfg->qa);
    if (have && qa_store_open_snapshot(&st, cfg->qa, e) != 0)
        return -1;
    const QaStore *sp = have ? &st : NULL;
    int rc = load_golden(j, a->golden, cfg, sp, e) != 0 || load_taught(j, a->taught, sp, e) != 0;
    if (have)
        qa_store_close(&st);
    return rc ? -1 : 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Whether name is a probe file: probe.jsonl or probe_*.jsonl. */
static int probe_name(const char *name)
{
    size_t l = strlen(name);
    return strcmp(name, "probe.jsonl") == 0 ||
           (strncmp(name, "probe_", 6) == 0 && l > 12 && strcmp(name + l - 6, ".jsonl") == 0);
}

/* The probe files beside the evaluation set (none is no error), in name
 * order, as one probe. */
static int load_probes_beside(BenchJob *j, const char *eval_path, Err *e)
{
    char *dir = strdup(eval_path);
    if (!dir)
        return err_set(e, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;   /* no folder to look in: no probe */
    }
    char *names[64];
    size_t n = 0;
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (!probe_name(de->d_name))
            continue;
        if (n == sizeof names / sizeof *names)
            rc = err_set(e, "%s: more than %zu probe files", dir, n);
        else if (!(names[n] = slash ? fs_join(dir, de->d_name) : strdup(de->d_name)))
            rc = err_set(e, "out of memory");
        else
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = qa_eval_load_more(&j->sets[BENCH_PROBE], names[i], e);
        free(names[i]);
    }
    free(dir);
    return rc || n == 0 ? rc : add_items(j, BENCH_PROBE, e);
}

/* The files of a ","-separated list as one probe. */
static int load_probes(BenchJob *j, const char *list, Err *e)
{
    char *buf = strdup(list);
    if (!buf)
        return err_set(e, "out of memory");
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); rc == 0 && t; t = strtok_r(NULL, ",", &save))
        rc = qa_eval_load_more(&j->sets[BENCH_PROBE], t, e);
    free(buf);
    return rc ? -1 : add_items(j, BENCH_PROBE, e);
}

/* Stages: base, a config adapter name, or NAME=FOLDER, comma-separated. */
static int parse_stages(BenchJob *j, const char *arg, const Config *cfg, Err *e)
{
    char *buf = strdup(arg);
    if (!buf)
        return err_set(e, "out of memory");
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); rc == 0 && t; t = strtok_r(NULL, ",", &save)) {
        if (j->n_stages == BENCH_JOB_MAX_STAGES) {
            rc = err_set(e, "bench: at most %d stages", BENCH_JOB_MAX_STAGES);
            break;
        }
        BenchStage *s = &j->st[j->n_stages];
        char *eq = strchr(t, '=');
        if (eq)
            *eq = 0;
        snprintf(s->name, sizeof s->name, "%s", t);
        const char *dir = eq ? eq + 1 : strcmp(t, "base") == 0 ? NULL : config_adapter(cfg, t);
        if (!eq && !dir && strcmp(t, "base") != 0) {
            rc = err_set(e, "bench: stage \"%s\" is neither base nor an adapter named in the config", t);
            break;
        }
        if (dir && !(j->adapter_dirs[j->n_stages] = strdup(dir))) {
            rc = err_set(e, "out of memory");
            break;
        }
        s->adapter_dir = j->adapter_dirs[j->n_stages];
        j->n_stages++;
    }
    free(buf);
    return rc;
}

int bench_job_prepare(BenchJob *j, const Config *cfg, const BenchJobArgs *a, Err *e)
{
    memset(j, 0, sizeof *j);
    const char *model_dir = a->model ? a->model : cfg->model;
    const char *eval_path = a->eval ? a->eval : cfg->eval;
    char *tok_path = NULL;
    if (!model_dir || !eval_path)
        return err_set(e, "bench: needs a model (-m or model:) and an evaluation set (--eval or data.eval)");
    if (!(j->model_dir = strdup(model_dir)) || (cfg->system_prompt && !(j->system = strdup(cfg->system_prompt)))) {
        err_set(e, "out of memory");
        goto fail;
    }
    if (parse_stages(j, a->stages ? a->stages : BENCH_JOB_STAGES, cfg, e) != 0)
        goto fail;
    if (load_items(j, eval_path, BENCH_EVAL, e) != 0)
        goto fail;
    /* the forgetting probe: the files given, or those beside the evaluation set */
    if (a->probe ? strcmp(a->probe, "none") != 0 && load_probes(j, a->probe, e) != 0
                 : load_probes_beside(j, eval_path, e) != 0)
        goto fail;
    if (load_store_items(j, a, cfg, e) != 0)
        goto fail;
    if (!(tok_path = fs_join(model_dir, "tokenizer.json"))) {
        err_set(e, "out of memory");
        goto fail;
    }
    if (!(j->tok = tokenizer_load(tok_path, e)) || model_load(&j->model, model_dir, e) != 0)
        goto fail;
    j->have_model = 1;
    int threads = a->threads > 0 ? a->threads : cfg->threads > 0 ? cfg->threads : pool_cpu_count();
    if (!(j->pool = pool_new(threads))) {
        err_set(e, "bench: cannot start %d threads", threads);
        goto fail;
    }
    if (stage_bench_prepare(j->st, j->n_stages, &j->model, j->tok, j->pool, e) != 0)
        goto fail;
    j->opts = (BenchOptions){cfg->chat_template, j->system, a->max_tokens > 0 ? a->max_tokens : BENCH_JOB_MAX_TOKENS,
                             {1.0, 0.5}};
    free(tok_path);
    return 0;
fail:
    free(tok_path);
    bench_job_free(j);
    return -1;
}

static void free_answers(BenchJob *j)
{
    if (j->ans)
        for (long i = 0; i < (long)j->n_items * j->n_stages; i++)
            free(j->ans[i].text);
    free(j->ans);
    j->ans = NULL;
    j->ran = 0;
}

int bench_job_run(BenchJob *j, BenchProgress progress, void *ctx, Err *e)
{
    free_answers(j);
    size_t n = (size_t)j->n_items * (size_t)j->n_stages;
    j->ans = calloc(n ? n : 1, sizeof *j->ans);
    if (!j->ans)
        return err_set(e, "out of memory");
    if (stage_bench_run(&j->model, j->tok, j->pool, j->st, j->n_stages, j->items, j->n_items, &j->opts, j->ans,
                        j->sum, progress, ctx, e) != 0)
        return -1;
    j->ran = 1;
    return 0;
}

int bench_percent(int k, int n) { return n > 0 ? (200 * k + n) / (2 * n) : 0; }

void bench_score_cell(char *buf, size_t n_buf, int k, int n)
{
    if (n > 0)
        snprintf(buf, n_buf, "%d/%d %d%%", k, n, bench_percent(k, n));
    else
        snprintf(buf, n_buf, "-");
}

char *bench_job_markdown(const BenchJob *j)
{
    if (!j->ran)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const BenchStage *st = j->st;
    const BenchSummary *sum = j->sum;
    const int ns = j->n_stages;
    fprintf(f, "| Stage | Accuracy | F1 | ROUGE-L | Taught pairs | Golden Data | Forgetting probe | Decode tokens/s | "
               "Prefill tokens/s |\n");
    fprintf(f, "| :--- | :--- | :--- | :--- | :--- | :--- | :--- | :--- | :--- |\n");
    for (int s = 0; s < ns; s++)
        fprintf(f, "| **%s** | %d/%d (%d%%) | %.3f | %.3f | %d/%d (%d%%) | %d/%d (%d%%) | %d/%d (%d%%) | %.1f | %.1f |\n",
                st[s].name, sum[s].correct, sum[s].n, bench_percent(sum[s].correct, sum[s].n), sum[s].f1, sum[s].rouge_l,
                sum[s].taught_correct, sum[s].n_taught, bench_percent(sum[s].taught_correct, sum[s].n_taught),
                sum[s].golden_correct, sum[s].n_golden, bench_percent(sum[s].golden_correct, sum[s].n_golden),
                sum[s].probe_correct, sum[s].n_probe, bench_percent(sum[s].probe_correct, sum[s].n_probe), sum[s].decode_tps,
                sum[s].prefill_tps);
    fprintf(f, "\n| Question |");
    for (int s = 0; s < ns; s++)
        fprintf(f, " %s |", st[s].name);
    fprintf(f, "\n| :--- |");
    for (int s = 0; s < ns; s++)
        fprintf(f, " :--- |");
    fputc('\n', f);
    for (int i = 0; i < j->n_items; i++) {
        fprintf(f, "| %s%s |", kind_prefix[j->items[i].kind], j->items[i].question);
        for (int s = 0; s < ns; s++)
            fprintf(f, " %s |", j->ans[(long)i * ns + s].score.correct ? "Correct" : "Wrong");
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static cJSON *to_json(const BenchJob *j)
{
    const BenchStage *st = j->st;
    const BenchSummary *sum = j->sum;
    const int ns = j->n_stages;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", j->model_dir);
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
        cJSON_AddNumberToObject(o, "taught_questions", sum[s].n_taught);
        cJSON_AddNumberToObject(o, "taught_correct", sum[s].taught_correct);
        cJSON_AddNumberToObject(o, "probe_questions", sum[s].n_probe);
        cJSON_AddNumberToObject(o, "probe_correct", sum[s].probe_correct);
        cJSON_AddNumberToObject(o, "prefill_tokens_per_s", sum[s].prefill_tps);
        cJSON_AddNumberToObject(o, "decode_tokens_per_s", sum[s].decode_tps);
        cJSON_AddItemToArray(stages, o);
    }
    cJSON *items = cJSON_AddArrayToObject(r, "questions");
    for (int i = 0; i < j->n_items; i++) {
        const BenchItem *it = &j->items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "question", it->question);
        cJSON_AddStringToObject(o, "reference", it->reference);
        if (it->category)
            cJSON_AddStringToObject(o, "category", it->category);
        cJSON_AddStringToObject(o, "kind", kind_name[it->kind]);
        cJSON *a = cJSON_AddObjectToObject(o, "answers");
        for (int s = 0; s < ns; s++) {
            const BenchAnswer *b = &j->ans[(long)i * ns + s];
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

char *bench_job_json(const BenchJob *j)
{
    if (!j->ran)
        return NULL;
    cJSON *r = to_json(j);
    char *s = r ? cJSON_Print(r) : NULL;
    cJSON_Delete(r);
    return s;
}

static int write_text(const char *path, char *text, Err *e)
{
    if (!text)
        return err_set(e, "%s: no report to write (the benchmark has not run, or out of memory)", path);
    const void *p[1] = {text};
    size_t l[1] = {strlen(text)};
    int rc = fs_write_atomic(path, p, l, 1, e);
    free(text);
    return rc;
}

int bench_job_write_markdown(const BenchJob *j, const char *path, Err *e)
{
    return write_text(path, bench_job_markdown(j), e);
}

int bench_job_write_json(const BenchJob *j, const char *path, Err *e)
{
    return write_text(path, bench_job_json(j), e);
}

void bench_job_free(BenchJob *j)
{
    free_answers(j);
    stage_bench_release(j->st, j->n_stages);
    pool_delete(j->pool);
    if (j->have_model)
        model_free(&j->model);
    tokenizer_delete(j->tok);
    for (int i = 0; i < BENCH_KINDS; i++)
        qa_eval_free(&j->sets[i]);
    free(j->items);
    free(j->model_dir);
    free(j->system);
    for (int s = 0; s < BENCH_JOB_MAX_STAGES; s++)
        free(j->adapter_dirs[s]);
    memset(j, 0, sizeof *j);
}
