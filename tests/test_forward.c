/* test_forward.c - logits against the independent float64 torch reference.
 *
 * tests/ref/make_model_fixtures.py made each tests/fixtures/models/<name>
 * folder and its reference.safetensors (prompt, logits for every position,
 * 16 greedy tokens with their logits, the last logits of a 200-token
 * prompt).  The tolerance 1e-4 is the bar: float32 accumulation over
 * these tiny widths stays around 1e-6. */
#include "test.h"
#include "forward.h"
#include "model.h"
#include "pool.h"
#include "safetensors.h"

#include <stdio.h>

static const char *models[] = {"tiny-gqa", "tiny-qwen-bias", "tiny-headdim", "tiny-gqa-bf16", "tiny-gqa-f16"};

static double max_diff(const float *a, const float *b, long n)
{
    double d = 0;
    for (long i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        if (!(x <= d))
            d = x;  /* NaN also counts as a failure */
    }
    return d;
}

static int argmax(const float *x, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b])
            b = i;
    return b;
}

static void check_model(const char *name, int threads, int t_max)
{
    char dir[256], ref_path[300];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", name);
    snprintf(ref_path, sizeof ref_path, "%s/reference.safetensors", dir);
    Err e = {{0}};
    Model m;
    SafeTensors ref;
    int ok = model_load(&m, dir, &e) == 0;
    CHECKF(ok, "%s", e.msg);
    if (!ok)
        return;
    CHECKF(safetensors_open(&ref, ref_path, &e) == 0, "%s", e.msg);
    const StTensor *tok = safetensors_find(&ref, "tokens"), *lg = safetensors_find(&ref, "logits");
    const StTensor *gr = safetensors_find(&ref, "greedy"), *grl = safetensors_find(&ref, "greedy_logits");
    const StTensor *tl = safetensors_find(&ref, "tokens_long"), *tll = safetensors_find(&ref, "logits_long_last");
    CHECK(tok && lg && gr && grl && tl && tll);
    if (!(tok && lg && gr && grl && tl && tll)) {
        model_free(&m);
        return;
    }
    const int V = m.cfg.vocab, T = (int)tok->nelem, G = (int)gr->nelem;
    Pool *pool = pool_new(threads);
    RunState s;
    CHECKF(runstate_init(&s, &m, pool, 256, t_max, &e) == 0, "%s", e.msg);
    float *logits = malloc(sizeof(float) * (size_t)V * 256);

    /* 1. all positions of the prompt at once (in chunks of t_max). */
    CHECKF(model_forward(&s, tok->data, T, logits, 1, &e) == 0, "%s", e.msg);
    double d = max_diff(logits, lg->data, (long)T * V);
    CHECKF(d <= 1e-4, "%s threads=%d t_max=%d: prompt logits differ by %g", name, threads, t_max, d);

    /* 2. greedy decode with the KV cache, one token at a time. */
    int32_t next = argmax(logits + (long)(T - 1) * V, V);
    const int32_t *want = gr->data;
    const float *want_l = grl->data;
    int same = 1;
    double dg = max_diff(logits + (long)(T - 1) * V, want_l, V);
    for (int g = 0; g < G; g++) {
        same &= next == want[g];
        if (g + 1 == G)
            break;
        if (model_forward(&s, &next, 1, logits, 0, &e) != 0)
            break;
        double x = max_diff(logits, want_l + (long)(g + 1) * V, V);
        dg = x > dg ? x : dg;
        next = argmax(logits, V);
    }
    CHECKF(same, "%s: cached greedy tokens differ from the reference", name);
    CHECKF(dg <= 1e-4, "%s threads=%d: cached decode logits differ by %g", name, threads, dg);

    /* 3. a 200-token prompt: RoPE at larger positions. */
    runstate_reset(&s);
    CHECKF(model_forward(&s, tl->data, (int)tl->nelem, logits, 0, &e) == 0, "%s", e.msg);
    d = max_diff(logits, tll->data, V);
    CHECKF(d <= 1e-4, "%s: long-prompt last logits differ by %g", name, d);

    /* 4. errors: context overflow and a bad id are refused, state untouched. */
    int32_t bad = V;
    CHECK(model_forward(&s, &bad, 1, logits, 0, &e) == -1 && strstr(e.msg, "outside the vocabulary"));

    free(logits);
    runstate_free(&s);
    pool_delete(pool);
    safetensors_close(&ref);
    model_free(&m);
}

int main(void)
{
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        check_model(models[i], 1, 256);
        check_model(models[i], 2, 256);
        check_model(models[i], 2, 7);   /* prefill in chunks through the cache */
    }
    TEST_MAIN_END();
}
