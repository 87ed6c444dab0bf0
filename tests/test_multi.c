/* test_multi.c - adapters in inference: one sequence, and several stages batched.
 *
 * 1. The inference forward with an adapter gives the logits of the training
 *    forward (a separate code path: SGEMM over whole batches, dropout off).
 * 2. Folding the adapter into the weights (infuse merge) gives the same
 *    logits as applying it.
 * 3. Decoding three sequences together (base, adapter 1, adapter 2) with
 *    model_forward_multi gives the logits of decoding each on its own. */
#include "test.h"
#include "forward.h"
#include "lora.h"
#include "model.h"
#include "model_params.h"
#include "pool.h"
#include "rng.h"
#include "train_step.h"

#define DIR "tests/fixtures/models/tiny-gqa"

static void random_lora(Lora *l, const ModelConfig *c, uint64_t seed)
{
    Err e;
    CHECK(lora_init(l, c, 4, 8.0f, 0.0f, LORA_ALL_TARGETS, seed, &e) == 0);
    Rng r;
    rng_seed(&r, seed + 100);
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            for (int k = 0; k < m->out * l->rank; k++)
                m->B[k] = (float)(rng_uniform(&r) - 0.5) * 0.4f;
        }
}

static double max_diff(const float *a, const float *b, long n)
{
    double d = 0;
    for (long i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        if (!(x <= d))
            d = x;
    }
    return d;
}

static void test_inference_vs_training(const Model *m, const Lora *l, Pool *pool)
{
    enum { T = 12 };
    const int V = m->cfg.vocab;
    int32_t tok[T];
    Rng r;
    rng_seed(&r, 4);
    for (int t = 0; t < T; t++)
        tok[t] = (int32_t)(rng_next(&r) % (uint64_t)V);
    Err e = {{0}};
    RunState s;
    CHECK(runstate_init(&s, m, pool, 64, 0, &e) == 0);
    CHECK(runstate_set_lora(&s, l, &e) == 0);
    float *inf = malloc(sizeof(float) * T * V);
    CHECK(model_forward(&s, tok, T, inf, 1, &e) == 0);

    TrainState ts;
    CHECKF(train_state_init(&ts, m, l, NULL, NULL, pool, 1, T, &e) == 0, "%s", e.msg);
    uint8_t mask[T];
    memset(mask, 1, sizeof mask);
    float w = 1;
    int len = T;
    Batch b = {.B = 1, .T = T, .tok = tok, .mask = mask, .weight = &w, .len = &len, .n_targets = T - 1};
    double ls, ws;
    CHECK(train_forward(&ts, &b, 0, 0, &ls, &ws, &e) == 0);
    double d = max_diff(inf, ts.logits, (long)T * V);
    CHECKF(d <= 1e-4, "inference and training logits with an adapter differ by %g", d);

    /* and the adapter does change them */
    CHECK(runstate_set_lora(&s, NULL, &e) == 0);
    float *base = malloc(sizeof(float) * T * V);
    CHECK(model_forward(&s, tok, T, base, 1, &e) == 0);
    CHECK(max_diff(inf, base, (long)T * V) > 1e-2);
    free(base);
    free(inf);
    train_state_free(&ts);
    runstate_free(&s);
}

static void test_merge(const Model *loaded, const Lora *l, Pool *pool)
{
    enum { T = 10 };
    const int V = loaded->cfg.vocab;
    int32_t tok[T] = {3, 70, 12, 200, 5, 9, 9, 31, 250, 1};
    Err e = {{0}};
    Model merged;
    CHECK(model_clone_f32(&merged, loaded, 0, &e) == 0);
    CHECK(model_merge_lora(&merged, l, &e) == 0);
    RunState a, b;
    float *la = malloc(sizeof(float) * T * V), *lb = malloc(sizeof(float) * T * V);
    CHECK(runstate_init(&a, loaded, pool, 32, 0, &e) == 0 && runstate_init(&b, &merged, pool, 32, 0, &e) == 0);
    CHECK(runstate_set_lora(&a, l, &e) == 0);
    CHECK(model_forward(&a, tok, T, la, 1, &e) == 0 && model_forward(&b, tok, T, lb, 1, &e) == 0);
    double d = max_diff(la, lb, (long)T * V);
    CHECKF(d <= 1e-4, "merged weights and the applied adapter differ by %g", d);
    runstate_free(&a), runstate_free(&b);
    free(la), free(lb);
    model_free(&merged);
}

static void test_batched_decode(const Model *m, const Lora *l1, const Lora *l2, Pool *pool)
{
    enum { N = 3, STEPS = 10 };
    const int V = m->cfg.vocab;
    const Lora *ad[N] = {NULL, l1, l2};
    RunState one[N], many[N];
    Err e = {{0}};
    /* Different prompts, of different lengths, so positions differ too. */
    int32_t prompts[N][8] = {{5, 9, 11, 40}, {7, 7, 100, 3, 8, 2}, {250, 1, 60}};
    int plen[N] = {4, 6, 3};
    float *lg = malloc(sizeof(float) * V), *lg_many = malloc(sizeof(float) * N * V);
    int32_t next[N];
    for (int i = 0; i < N; i++) {
        CHECK(runstate_init(&one[i], m, pool, 64, 0, &e) == 0);
        CHECK(runstate_init(&many[i], m, pool, 64, 0, &e) == 0);
        CHECK(runstate_set_lora(&one[i], ad[i], &e) == 0);
        CHECK(runstate_set_lora(&many[i], ad[i], &e) == 0);
        CHECK(model_forward(&one[i], prompts[i], plen[i], lg, 0, &e) == 0);
        CHECK(model_forward(&many[i], prompts[i], plen[i], lg, 0, &e) == 0);
        next[i] = (int32_t)(i * 37 + 1);
    }
    RunState *seq[N] = {&many[0], &many[1], &many[2]};
    double worst = 0;
    for (int st = 0; st < STEPS; st++) {
        CHECK(model_forward_multi(seq, N, next, lg_many, &e) == 0);
        for (int i = 0; i < N; i++) {
            CHECK(model_forward(&one[i], &next[i], 1, lg, 0, &e) == 0);
            double d = max_diff(lg, lg_many + (long)i * V, V);
            worst = d > worst ? d : worst;
        }
        for (int i = 0; i < N; i++) {  /* feed each its own greedy token */
            int b = 0;
            for (int k = 1; k < V; k++)
                b = lg_many[(long)i * V + k] > lg_many[(long)i * V + b] ? k : b;
            next[i] = b;
        }
    }
    CHECKF(worst <= 1e-5, "batched and one-at-a-time decoding differ by %g", worst);
    for (int i = 0; i < N; i++)
        CHECK(one[i].n_past == many[i].n_past);
    for (int i = 0; i < N; i++) {
        runstate_free(&one[i]);
        runstate_free(&many[i]);
    }
    free(lg);
    free(lg_many);
}

int main(void)
{
    Err e = {{0}};
    Model loaded, m;
    if (model_load(&loaded, DIR, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        TEST_MAIN_END();
    }
    CHECK(model_clone_f32(&m, &loaded, 0, &e) == 0);
    Pool *pool = pool_new(2);
    Lora l1, l2;
    random_lora(&l1, &m.cfg, 1);
    random_lora(&l2, &m.cfg, 2);
    test_inference_vs_training(&m, &l1, pool);
    test_merge(&loaded, &l1, pool);
    test_batched_decode(&loaded, &l1, &l2, pool);
    lora_free(&l1);
    lora_free(&l2);
    pool_delete(pool);
    model_free(&m);
    model_free(&loaded);
    TEST_MAIN_END();
}
