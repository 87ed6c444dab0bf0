/* test_stage_bench.c - the stage benchmark refuses adapters it cannot prove
 * are in use, and its batched answers are each stage's own answers.
 *
 * The answers of stage_bench_run (stages decoded together) are compared
 * with generate() run on each stage alone, greedy, same template. */
#include "test.h"
#include "adapter.h"
#include "chat_template.h"
#include "fsutil.h"
#include "generate.h"
#include "model.h"
#include "pool.h"
#include "stage_bench.h"

#define MODEL "tests/fixtures/models/tiny-gqa"
#define GOOD "tests/fixtures/train/tiny-gqa/adapter"

typedef struct Text {
    char buf[1024];
    size_t n;
} Text;

static int collect(void *ctx, const char *s, size_t n)
{
    Text *t = ctx;
    if (t->n + n < sizeof t->buf) {
        memcpy(t->buf + t->n, s, n);
        t->n += n;
        t->buf[t->n] = 0;
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s), b = 0;
    while (s[b] == ' ' || s[b] == '\n')
        b++;
    while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = 0;
    memmove(s, s + b, n - b + 1);
}

static int prepare_one(const char *dir, const Model *m, Tokenizer *tok, Pool *pool, Err *e)
{
    BenchStage st[2] = {{.name = "base"}, {.name = "x", .adapter_dir = dir}};
    int rc = stage_bench_prepare(st, 2, m, tok, pool, e);
    stage_bench_release(st, 2);
    return rc;
}

int main(void)
{
    Err e = {{0}};
    Model m;
    Tokenizer *tok = tokenizer_load(MODEL "/tokenizer.json", &e);
    if (!tok || model_load(&m, MODEL, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        TEST_MAIN_END();
    }
    Pool *pool = pool_new(2);
    char tmp[] = "/tmp/infuse-bench-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);

    /* refusals */
    CHECK(prepare_one("/nonexistent/adapter", &m, tok, pool, &e) != 0 && strstr(e.msg, "no adapter"));
    CHECK(prepare_one("tests/fixtures/train/tiny-qwen-bias/adapter", &m, tok, pool, &e) != 0 &&
          strstr(e.msg, "shape"));
    Lora fresh;
    char *empty = fs_join(tmp, "empty");
    CHECK(lora_init(&fresh, &m.cfg, 4, 8, 0, LORA_ALL_TARGETS, 1, &e) == 0);
    CHECK(adapter_save(&fresh, empty, MODEL, NULL, &e) == 0);
    CHECKF(prepare_one(empty, &m, tok, pool, &e) != 0 && strstr(e.msg, "empty"), "%s", e.msg);
    lora_free(&fresh);
    CHECKF(prepare_one(GOOD, &m, tok, pool, &e) == 0, "%s", e.msg);

    /* answers: batched == alone */
    BenchStage st[3] = {{.name = "base"}, {.name = "a", .adapter_dir = GOOD},
                        {.name = "b", .adapter_dir = "tests/fixtures/train/tiny-gqa/infuse-adapter"}};
    CHECKF(stage_bench_prepare(st, 3, &m, tok, pool, &e) == 0, "%s", e.msg);
    CHECK(strlen(st[1].sha256) == 64 && st[1].probe_delta > 0);
    const char *kw[] = {"retrieval"};
#define LONG_REF "Jie He, Richard He Bai, Sinead Williamson, Jeff Z. Pan, Navdeep Jaitly and Yizhe Zhang, at Apple."
    BenchItem items[3] = {{"What is CLaRa?", "A retrieval model.", kw, 1, "definition", BENCH_EVAL},
                          {"Who wrote it?", "Apple researchers: " LONG_REF, NULL, 0, NULL, BENCH_GOLDEN},
                          {"What does RAM stand for?", "random access memory", NULL, 0, "general", BENCH_PROBE}};
    BenchOptions o = {CHAT_PLAIN, NULL, 12, {1.0, 0.5}};
    BenchAnswer ans[9];
    BenchSummary sum[3];
    CHECKF(stage_bench_run(&m, tok, pool, st, 3, items, 3, &o, ans, sum, NULL, NULL, &e) == 0, "%s", e.msg);
    RunState s;
    Sampler smp;
    SamplerParams sp = {.temperature = 0, .top_p = 1, .repeat_penalty = 1};
    CHECK(runstate_init(&s, &m, pool, 256, 0, &e) == 0 && sampler_init(&smp, &sp, m.cfg.vocab, &e) == 0);
    int same = 0, budget[3];
    for (int si = 0; si < 3; si++) {
        runstate_set_lora(&s, st[si].adapter_dir ? &st[si].lora : NULL, &e);
        for (int i = 0; i < 3; i++) {
            ChatMessage msg = {CHAT_USER, items[i].question};
            char *p = chat_render(CHAT_PLAIN, NULL, &msg, 1, 1, NULL, NULL, &e);
            TokIds ids = {0};
            tokenizer_encode(tok, p, strlen(p), 1, &ids, &e);
            int32_t eos = m.cfg.eos_ids[0];
            TokIds ref = {0};
            tokenizer_encode(tok, items[i].reference, strlen(items[i].reference), 0, &ref, &e);
            budget[i] = (int)ref.n + 8 > 12 ? (int)ref.n + 8 : 12;
            tokids_free(&ref);
            GenParams gp = {budget[i], chat_template_stops(CHAT_PLAIN), 1, &eos, 1};
            Text t = {{0}, 0};
            GenResult res;
            generate(&s, tok, &smp, ids.v, ids.n, &gp, collect, &t, &res, &e);
            trim(t.buf);
            if (strcmp(t.buf, ans[i * 3 + si].text) == 0)
                same++;
            else
                fprintf(stderr, "stage %s q%d: alone \"%s\", batched \"%s\"\n", st[si].name, i, t.buf,
                        ans[i * 3 + si].text);
            tokids_free(&ids);
            free(p);
        }
    }
    CHECKF(same == 9, "%d of 9 answers equal", same);
    /* a reference longer than max_tokens gets room for itself (+ 8) */
    int longest = 0, within = 1;
    for (int i = 0; i < 9; i++) {
        longest = ans[i].n_tokens > longest ? ans[i].n_tokens : longest;
        within &= ans[i].n_tokens <= budget[i / 3];
    }
    CHECKF(budget[1] > 40 && longest > 12 && within, "budgets %d %d %d, longest answer %d", budget[0], budget[1],
           budget[2], longest);
    /* the summary counts evaluation items, Golden Data and probes apart */
    CHECK(sum[0].n == 1 && sum[0].n_probe == 1 && sum[0].n_golden == 1 && sum[0].gen_tokens > 0 && sum[0].decode_tps > 0);
    for (int i = 0; i < 9; i++)
        free(ans[i].text);
    sampler_free(&smp);
    runstate_free(&s);
    stage_bench_release(st, 3);
    fs_remove_tree(tmp, &e);
    free(empty);
    pool_delete(pool);
    model_free(&m);
    tokenizer_delete(tok);
    TEST_MAIN_END();
}
