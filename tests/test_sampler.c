/* test_sampler.c - greedy, top-k, top-p, temperature, repetition penalty,
 * determinism and the distribution of draws.
 *
 * Frequency checks: with N independent draws a token of probability p shows
 * up with frequency f whose standard deviation is sqrt(p (1 - p) / N); each
 * check allows 5 standard deviations (plus 1e-9), a false alarm rate below
 * 1e-6 per check, and the seeds are fixed so the run is reproducible. */
#include "sampler.h"
#include "test.h"

#include <stdint.h>

#define NDRAW 200000

static SamplerParams params(float temp, int top_k, float top_p, uint64_t seed)
{
    return (SamplerParams){.temperature = temp, .top_k = top_k, .top_p = top_p,
                           .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = seed};
}

/* Softmax of logits / temp into p. */
static void softmax(const float *l, int n, float temp, double *p)
{
    double mx = -INFINITY, z = 0;
    for (int i = 0; i < n; i++)
        mx = l[i] > mx ? l[i] : mx;
    for (int i = 0; i < n; i++)
        z += p[i] = exp((l[i] - mx) / temp);
    for (int i = 0; i < n; i++)
        p[i] /= z;
}

/* Draws NDRAW tokens from a fresh copy of logits each time into counts. */
static void draw(Sampler *s, const float *logits, int n, long *counts)
{
    float tmp[64];
    for (int i = 0; i < n; i++)
        counts[i] = 0;
    for (int d = 0; d < NDRAW; d++) {
        memcpy(tmp, logits, (size_t)n * sizeof *tmp);
        int t = sampler_sample(s, tmp, NULL, 0);
        if (t >= 0 && t < n)
            counts[t]++;
    }
}

static void check_freqs(const long *counts, const double *p, int n, const char *what)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += counts[i];
    CHECKF(total == NDRAW, "%s: %ld draws in range", what, total);
    for (int i = 0; i < n; i++) {
        double f = (double)counts[i] / NDRAW, sd = sqrt(p[i] * (1 - p[i]) / NDRAW);
        CHECKF(fabs(f - p[i]) <= 5 * sd + 1e-9, "%s: token %d freq %.5f want %.5f (sd %.5f)", what, i, f, p[i], sd);
    }
}

static void test_init_errors(void)
{
    Sampler s;
    Err e = {{0}};
    SamplerParams p = params(1, 0, 1, 0);
    CHECK(sampler_init(&s, &p, 0, &e) == -1);
    CHECKF(strcmp(e.msg, "sampler: vocabulary size must be > 0, got 0") == 0, "%s", e.msg);
    p = params(-1, 0, 1, 0);
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    p = params(NAN, 0, 1, 0);
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    p = params(1, -1, 1, 0);
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    p = params(1, 0, 0, 0);
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    CHECKF(strcmp(e.msg, "sampler: top_p must be in (0, 1], got 0") == 0, "%s", e.msg);
    p = params(1, 0, 1.5f, 0);
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    p = params(1, 0, 1, 0);
    p.repeat_penalty = 0;
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    p.repeat_penalty = 1;
    p.repeat_last_n = -1;
    CHECK(sampler_init(&s, &p, 10, &e) == -1);
    sampler_free(&s); /* safe after a failed init */
    CHECK(s.idx == NULL && s.vocab == 0);
}

static void test_greedy(void)
{
    Sampler s;
    Err e = {{0}};
    float l[6] = {0.5f, 2.0f, -1.0f, 3.0f, 3.0f, 1.0f};
    SamplerParams p = params(0, 0, 1, 1);
    CHECK(sampler_init(&s, &p, 6, &e) == 0);
    CHECK(sampler_sample(&s, l, NULL, 0) == 3); /* tie 3/4: lowest id */
    float nan_l[6] = {NAN, 1.0f, NAN, 0.5f, -INFINITY, 1.0f};
    CHECK(sampler_sample(&s, nan_l, NULL, 0) == 1);
    float all_masked[6] = {NAN, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    CHECK(sampler_sample(&s, all_masked, NULL, 0) == 0);
    sampler_free(&s);

    /* top_k = 1 is greedy at any temperature, and so is a masked row. */
    for (int seed = 0; seed < 4; seed++) {
        p = params(5.0f, 1, 1, (uint64_t)seed);
        CHECK(sampler_init(&s, &p, 6, &e) == 0);
        int ok = 1;
        for (int d = 0; d < 1000; d++) {
            float tmp[6];
            memcpy(tmp, l, sizeof tmp);
            ok &= sampler_sample(&s, tmp, NULL, 0) == 3;
        }
        CHECK(ok);
        float inf_l[6] = {0, INFINITY, 1, INFINITY, 2, 3};
        CHECK(sampler_sample(&s, inf_l, NULL, 0) == 1);
        sampler_free(&s);
    }
}

static void test_distribution(void)
{
    Sampler s;
    Err e = {{0}};
    float l[5] = {1.0f, 2.0f, 0.0f, -1.0f, 1.5f};
    double want[5];
    long counts[5];
    float temps[] = {1.0f, 0.5f, 2.0f};
    for (int ti = 0; ti < 3; ti++) {
        SamplerParams p = params(temps[ti], 0, 1, 42);
        CHECK(sampler_init(&s, &p, 5, &e) == 0);
        softmax(l, 5, temps[ti], want);
        draw(&s, l, 5, counts);
        char what[64];
        snprintf(what, sizeof what, "softmax T=%g", (double)temps[ti]);
        check_freqs(counts, want, 5, what);
        sampler_free(&s);
    }
}

static void test_top_k(void)
{
    Sampler s;
    Err e = {{0}};
    /* 20 tokens; the 3 best are ids 7 (3.0), 2 (2.5) and 11/15 tie (2.0):
     * the tie goes to the lower id, 11. */
    float l[20];
    for (int i = 0; i < 20; i++)
        l[i] = (float)(i % 5) * 0.1f;
    l[7] = 3.0f;
    l[2] = 2.5f;
    l[11] = 2.0f;
    l[15] = 2.0f;
    SamplerParams p = params(1.0f, 3, 1, 7);
    CHECK(sampler_init(&s, &p, 20, &e) == 0);
    long counts[20];
    draw(&s, l, 20, counts);
    long outside = 0;
    for (int i = 0; i < 20; i++)
        if (i != 7 && i != 2 && i != 11)
            outside += counts[i];
    CHECK(outside == 0);
    float kl[3] = {3.0f, 2.5f, 2.0f};
    double w3[3];
    softmax(kl, 3, 1.0f, w3);
    long c3[3] = {counts[7], counts[2], counts[11]};
    check_freqs(c3, w3, 3, "top-k 3");
    sampler_free(&s);

    /* top_k >= vocab is off. */
    float l4[4] = {0, 1, 2, 3};
    p = params(1.0f, 10, 1, 7);
    CHECK(sampler_init(&s, &p, 4, &e) == 0);
    long c4[4];
    double w4[4];
    draw(&s, l4, 4, c4);
    softmax(l4, 4, 1.0f, w4);
    check_freqs(c4, w4, 4, "top-k above vocab");
    sampler_free(&s);
}

static void test_top_p(void)
{
    Sampler s;
    Err e = {{0}};
    /* Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 (ids shuffled). */
    float l[5];
    int order[5] = {3, 0, 4, 1, 2};
    double pr[5] = {0.5, 0.25, 0.125, 0.0625, 0.0625};
    for (int i = 0; i < 5; i++)
        l[order[i]] = (float)log(pr[i]);
    long counts[5];
    /* top_p 0.7: {3 (0.5), 0 (0.25)} reaches 0.75 >= 0.7. */
    SamplerParams p = params(1.0f, 0, 0.7f, 3);
    CHECK(sampler_init(&s, &p, 5, &e) == 0);
    draw(&s, l, 5, counts);
    CHECK(counts[4] == 0 && counts[1] == 0 && counts[2] == 0);
    double w2[2] = {2.0 / 3, 1.0 / 3};
    long c2[2] = {counts[3], counts[0]};
    check_freqs(c2, w2, 2, "top-p 0.7");
    sampler_free(&s);

    /* top_p tiny: always at least the best token. */
    p = params(1.0f, 0, 0.01f, 3);
    CHECK(sampler_init(&s, &p, 5, &e) == 0);
    draw(&s, l, 5, counts);
    CHECK(counts[3] == NDRAW);
    sampler_free(&s);

    /* top-k then top-p: k=4 renormalises to 0.5/0.9375 ... ; top_p 0.9 of
     * that keeps ids 3, 0, 4 (0.875/0.9375 = 0.933 >= 0.9). */
    p = params(1.0f, 4, 0.9f, 3);
    CHECK(sampler_init(&s, &p, 5, &e) == 0);
    draw(&s, l, 5, counts);
    CHECK(counts[1] == 0 && counts[2] == 0);
    double w3[3] = {0.5 / 0.875, 0.25 / 0.875, 0.125 / 0.875};
    long c3[3] = {counts[3], counts[0], counts[4]};
    check_freqs(c3, w3, 3, "top-k 4 + top-p 0.9");
    sampler_free(&s);

    /* top-p with top-k off on a vocabulary larger than the first selection
     * (64): 1000 tokens, 200 of them with equal high logits.  top_p 0.5 keeps
     * the 100 lowest ids among the 200 (ties to the lower id). */
    enum { V = 1000 };
    static float big[V], tmp[V];
    for (int i = 0; i < V; i++)
        big[i] = (i % 5 == 0) ? 10.0f : -100.0f; /* the rest carry no mass in double */
    p = params(1.0f, 0, 0.5f, 11);
    CHECK(sampler_init(&s, &p, V, &e) == 0);
    int bad = 0, maxid = -1, seenlow = 0;
    for (int d = 0; d < 20000; d++) {
        memcpy(tmp, big, sizeof tmp);
        int t = sampler_sample(&s, tmp, NULL, 0);
        if (t % 5 != 0 || t >= 500)
            bad++;
        if (t > maxid)
            maxid = t;
        seenlow |= t == 0;
    }
    CHECK(bad == 0);
    CHECK(maxid == 495 && seenlow); /* the whole nucleus is reachable */
    sampler_free(&s);
}

/* Reference nucleus by sorting the whole vocabulary (what the sampler
 * avoids): ids ranked by logit, ties to the lower id. */
static const float *cmp_l;
static int cmp_rank(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (cmp_l[x] != cmp_l[y])
        return cmp_l[x] > cmp_l[y] ? -1 : 1;
    return x < y ? -1 : 1;
}

static void test_large_vocab(void)
{
    enum { V = 128256 };
    static float l[V], tmp[V];
    static int32_t rank[V];
    static unsigned char in[V];
    uint64_t x = 99;
    for (int i = 0; i < V; i++) { /* a heavy-ish tail: a few strong tokens, many weak */
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) * 0x1.0p-53;
        l[i] = (float)(8.0 * u * u * u * u - 2.0);
        rank[i] = i;
    }
    cmp_l = l;
    qsort(rank, V, sizeof rank[0], cmp_rank);
    float temps[] = {0.7f, 1.0f};
    float tops[] = {0.9f, 0.5f};
    int ks[] = {0, 40};
    for (int c = 0; c < 2; c++) {
        float T = temps[c], top_p = tops[c];
        int k = ks[c];
        int n = k ? k : V;
        double z = 0, cum = 0;
        for (int i = 0; i < n; i++)
            z += exp((l[rank[i]] - l[rank[0]]) / T);
        memset(in, 0, sizeof in);
        int nucleus = 0;
        for (int i = 0; i < n && cum < top_p * z; i++) {
            cum += exp((l[rank[i]] - l[rank[0]]) / T);
            in[rank[i]] = 1;
            nucleus++;
        }
        Sampler s;
        Err e = {{0}};
        SamplerParams p = params(T, k, top_p, 5);
        CHECK(sampler_init(&s, &p, V, &e) == 0);
        int outside = 0;
        for (int d = 0; d < 300; d++) {
            memcpy(tmp, l, sizeof tmp);
            int t = sampler_sample(&s, tmp, NULL, 0);
            outside += t < 0 || t >= V || !in[t];
        }
        CHECKF(outside == 0, "T=%g k=%d top_p=%g: %d of 300 outside a nucleus of %d", (double)T, k,
               (double)top_p, outside, nucleus);
        CHECKF(k || nucleus > 64, "nucleus %d should exceed the first selection", nucleus);
        sampler_free(&s);
    }
}

static void test_penalty(void)
{
    Sampler s;
    Err e = {{0}};
    SamplerParams p = params(0, 0, 1, 0);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 5;
    CHECK(sampler_init(&s, &p, 6, &e) == 0);
    float l[6] = {4.0f, -1.0f, 3.0f, 0.0f, 2.0f, 1.0f};
    /* Last 5 of history: -3, 99, 2, 1, 2 -> 2 and 1 once each; 0 and 4 are
     * older, -3 and 99 are out of range and ignored. */
    int32_t h[] = {0, 4, -3, 99, 2, 1, 2};
    int t = sampler_sample(&s, l, h, sizeof h / sizeof h[0]);
    CHECK_NEAR(l[0], 4.0, 0);
    CHECK_NEAR(l[1], -2.0, 0);  /* negative: multiplied once */
    CHECK_NEAR(l[2], 1.5, 0);   /* positive: divided once despite two uses */
    CHECK_NEAR(l[3], 0.0, 0);
    CHECK_NEAR(l[4], 2.0, 0);
    CHECK(t == 0);
    /* The marks are cleared: a second call penalises again from scratch. */
    float l2[6] = {4.0f, -1.0f, 3.0f, 0.0f, 2.0f, 1.0f};
    int32_t h2[] = {0, 0};
    t = sampler_sample(&s, l2, h2, 2);
    CHECK_NEAR(l2[0], 2.0, 0);
    CHECK_NEAR(l2[2], 3.0, 0);
    CHECK(t == 2);
    int clean = 1;
    for (int i = 0; i < 6; i++)
        clean &= s.seen[i] == 0;
    CHECK(clean);
    /* repeat_last_n = 0 turns it off. */
    s.p.repeat_last_n = 0;
    float l3[6] = {4.0f, -1.0f, 3.0f, 0.0f, 2.0f, 1.0f};
    CHECK(sampler_sample(&s, l3, h2, 2) == 0 && l3[0] == 4.0f);
    sampler_free(&s);
}

static void test_determinism(void)
{
    Sampler a, b, c;
    Err e = {{0}};
    SamplerParams pa = params(1.0f, 0, 0.95f, 1234), pc = params(1.0f, 0, 0.95f, 1235);
    CHECK(sampler_init(&a, &pa, 32, &e) == 0);
    CHECK(sampler_init(&b, &pa, 32, &e) == 0);
    CHECK(sampler_init(&c, &pc, 32, &e) == 0);
    float l[32];
    for (int i = 0; i < 32; i++)
        l[i] = (float)sin(i * 1.3);
    int same_ab = 1, diff_ac = 0;
    int first[200];
    for (int d = 0; d < 200; d++) {
        float x[32], y[32], z[32];
        memcpy(x, l, sizeof x);
        memcpy(y, l, sizeof y);
        memcpy(z, l, sizeof z);
        int ta = sampler_sample(&a, x, NULL, 0), tb = sampler_sample(&b, y, NULL, 0);
        int tc = sampler_sample(&c, z, NULL, 0);
        first[d] = ta;
        same_ab &= ta == tb;
        diff_ac += ta != tc;
    }
    CHECK(same_ab);
    CHECK(diff_ac > 50);
    /* Reseeding restarts the stream. */
    sampler_reseed(&a, 1234);
    int again = 1;
    for (int d = 0; d < 200; d++) {
        float x[32];
        memcpy(x, l, sizeof x);
        again &= sampler_sample(&a, x, NULL, 0) == first[d];
    }
    CHECK(again);
    sampler_free(&a);
    sampler_free(&b);
    sampler_free(&c);
}

int main(void)
{
    test_init_errors();
    test_greedy();
    test_distribution();
    test_top_k();
    test_top_p();
    test_large_vocab();
    test_penalty();
    test_determinism();
    TEST_MAIN_END();
}
