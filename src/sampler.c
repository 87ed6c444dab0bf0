/* sampler.c - repetition penalty, greedy, top-k, temperature, top-p and the
 * random draw (the order and rules are in sampler.h).
 *
 * Candidates are ranked by a total order, larger logit first and the lower id
 * on equal logits, so every cut (top-k, top-p, greedy) is deterministic.  The
 * k best are found with a size-k min-heap in s->idx (worst candidate at the
 * root) and then heap-sorted in place to best-first: O(vocab log k).  Top-p
 * without top-k buckets the vocabulary by probability instead (top_p_full).
 * Nothing is allocated per call: idx, prob, seen and mass are sized in
 * sampler_init. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


void sampler_reseed(Sampler *s, uint64_t seed) { rng_seed(&s->rng, seed); }

int sampler_init(Sampler *s, const SamplerParams *p, int vocab, Err *e)
{
    memset(s, 0, sizeof *s);
    if (vocab <= 0)
        return err_set(e, "sampler: vocabulary size must be > 0, got %d", vocab);
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return err_set(e, "sampler: temperature must be >= 0, got %g", (double)p->temperature);
    if (p->top_k < 0)
        return err_set(e, "sampler: top_k must be >= 0, got %d", p->top_k);
    if (!(p->top_p > 0 && p->top_p <= 1))
        return err_set(e, "sampler: top_p must be in (0, 1], got %g", (double)p->top_p);
    if (!(p->repeat_penalty > 0) || !isfinite(p->repeat_penalty))
        return err_set(e, "sampler: repeat_penalty must be > 0, got %g", (double)p->repeat_penalty);
    if (p->repeat_last_n < 0)
        return err_set(e, "sampler: repeat_last_n must be >= 0, got %d", p->repeat_last_n);
    s->idx = malloc((size_t)vocab * sizeof *s->idx);
    s->prob = malloc((size_t)vocab * sizeof *s->prob);
    s->seen = calloc((size_t)vocab, 1);
    s->mass = malloc(SAMPLER_BUCKETS * sizeof *s->mass);
    if (!s->idx || !s->prob || !s->seen || !s->mass) {
        sampler_free(s);
        return err_set(e, "sampler: out of memory for a vocabulary of %d", vocab);
    }
    s->p = *p;
    s->vocab = vocab;
    sampler_reseed(s, p->seed);
    return 0;
}

void sampler_free(Sampler *s)
{
    free(s->idx);
    free(s->prob);
    free(s->seen);
    free(s->mass);
    memset(s, 0, sizeof *s);
}

static void apply_penalty(Sampler *s, float *logits, const int32_t *history, size_t n_history)
{
    float pen = s->p.repeat_penalty;
    if (pen == 1.0f || s->p.repeat_last_n <= 0 || !history || n_history == 0)
        return;
    size_t n = (size_t)s->p.repeat_last_n < n_history ? (size_t)s->p.repeat_last_n : n_history;
    const int32_t *h = history + (n_history - n);
    for (size_t i = 0; i < n; i++) {
        int32_t t = h[i];
        if (t < 0 || t >= s->vocab || s->seen[t])
            continue;
        s->seen[t] = 1;
        logits[t] = logits[t] > 0 ? logits[t] / pen : logits[t] * pen;
    }
    for (size_t i = 0; i < n; i++)
        if (h[i] >= 0 && h[i] < s->vocab)
            s->seen[h[i]] = 0;
}

/* a ranks before b: larger logit, then lower id. */
static int better(const float *l, int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); }

/* Min-heap on idx[0..n) with the worst candidate at the root. */
static void sift_down(const float *l, int32_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1, w = i;
        if (c < n && better(l, h[w], h[c]))
            w = c;
        if (c + 1 < n && better(l, h[w], h[c + 1]))
            w = c + 1;
        if (w == i)
            return;
        int32_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sort_heap(const float *l, int32_t *idx, size_t k);

/* Puts the k best ids of the vocabulary into idx[0..k), best first. */
static void select_top(const float *l, int32_t *idx, int vocab, size_t k)
{
    for (size_t i = 0; i < k; i++)
        idx[i] = (int32_t)i;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(l, idx, k, i);
    for (int32_t t = (int32_t)k; t < vocab; t++) {
        if (better(l, t, idx[0])) {
            idx[0] = t;
            sift_down(l, idx, k, 0);
        }
    }
    sort_heap(l, idx, k);
}

/* Sorts a heap made by sift_down best-first: the worst goes to the back. */
static void sort_heap(const float *l, int32_t *idx, size_t k)
{
    for (size_t n = k; n > 1; n--) {
        int32_t t = idx[0];
        idx[0] = idx[n - 1];
        idx[n - 1] = t;
        sift_down(l, idx, n - 1, 0);
    }
}

/* Sorts idx[0..n) best-first. */
static void sort_best_first(const float *l, int32_t *idx, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(l, idx, n, i);
    sort_heap(l, idx, n);
}

/* Bucket of a token for top-p over the whole vocabulary: its distance below
 * the best logit in units of SAMPLER_BUCKETS / SPAN_NATS nats after
 * temperature; everything further than SPAN_NATS shares the last bucket.
 * Monotone in the logit, so equal logits share a bucket and every token in a
 * lower bucket ranks above every token in a higher one. */
#define SPAN_NATS 32.0
static size_t bucket_of(float logit, float max, double inv_t)
{
    double d = ((double)max - logit) * inv_t * (SAMPLER_BUCKETS / SPAN_NATS);
    return d < SAMPLER_BUCKETS - 1 ? (size_t)d : SAMPLER_BUCKETS - 1;
}

/* top-p with top-k off: the nucleus is every token in the buckets above
 * the one where the cumulative mass crosses top_p, plus the best-ranked
 * tokens of that bucket; only that bucket is sorted.  O(vocab) plus the
 * sort of one bucket. */
static int top_p_full(Sampler *s, float *logits, float max, double inv_t)
{
    int vocab = s->vocab;
    double *mass = s->mass, z = 0;
    for (size_t b = 0; b < SAMPLER_BUCKETS; b++)
        mass[b] = 0;
    for (int32_t i = 0; i < vocab; i++) {
        float w = (float)exp((logits[i] - max) * inv_t);
        s->prob[i] = w; /* by id here */
        z += w;
        mass[bucket_of(logits[i], max, inv_t)] += w;
    }
    double want = (double)s->p.top_p * z, cum = 0;
    size_t cross = 0;
    while (cross < SAMPLER_BUCKETS - 1 && cum + mass[cross] < want)
        cum += mass[cross++];
    size_t n = 0, m = (size_t)vocab; /* idx[0..n): above the crossing bucket; idx[m..vocab): in it */
    for (int32_t i = 0; i < vocab; i++) {
        size_t b = bucket_of(logits[i], max, inv_t);
        if (b < cross)
            s->idx[n++] = i;
        else if (b == cross)
            s->idx[--m] = i;
    }
    sort_best_first(logits, s->idx + m, (size_t)vocab - m);
    for (size_t j = m; j < (size_t)vocab;) { /* the best of the crossing bucket until top_p */
        int32_t t = s->idx[j++];
        s->idx[n++] = t;
        cum += s->prob[t];
        if (cum >= want)
            break;
    }
    double r = rng_uniform(&s->rng) * cum, c = 0;
    for (size_t i = 0; i < n; i++) {
        c += s->prob[s->idx[i]];
        if (r < c)
            return s->idx[i];
    }
    return s->idx[n - 1];
}

int sampler_sample(Sampler *s, float *logits, const int32_t *history, size_t n_history)
{
    int vocab = s->vocab;
    apply_penalty(s, logits, history, n_history);

    int32_t best = 0;
    for (int32_t i = 0; i < vocab; i++) {
        if (isnan(logits[i]))
            logits[i] = -INFINITY;
        if (logits[i] > logits[best])
            best = i;
    }
    float max = logits[best];
    if (s->p.temperature <= 0 || s->p.top_k == 1 || isinf(max))
        return best;

    double inv_t = 1.0 / s->p.temperature;
    size_t k = s->p.top_k > 0 && s->p.top_k < vocab ? (size_t)s->p.top_k : (size_t)vocab;
    size_t n;     /* candidates kept, in idx[0..n) best first unless whole */
    double mass;  /* their total weight */
    if (k < (size_t)vocab) {
        /* top-k, then top-p within the k (renormalised over them). */
        select_top(logits, s->idx, vocab, k);
        double z = 0;
        for (size_t i = 0; i < k; i++)
            z += s->prob[i] = (float)exp((logits[s->idx[i]] - max) * inv_t);
        n = k;
        mass = z;
        if (s->p.top_p < 1) {
            double cum = 0, want = (double)s->p.top_p * z;
            for (n = 0; n < k;) {
                cum += s->prob[n++];
                if (cum >= want)
                    break;
            }
            mass = cum;
        }
    } else if (s->p.top_p < 1) {
        return top_p_full(s, logits, max, inv_t);
    } else {
        /* Whole vocabulary in id order: no ranking needed. */
        double z = 0;
        for (int32_t i = 0; i < vocab; i++) {
            s->idx[i] = i;
            z += s->prob[i] = (float)exp((logits[i] - max) * inv_t);
        }
        n = (size_t)vocab;
        mass = z;
    }

    double r = rng_uniform(&s->rng) * mass, cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += s->prob[i];
        if (r < cum)
            return s->idx[i];
    }
    /* Rounding left r at the very top: take the last candidate with weight. */
    for (size_t i = n; i-- > 0;)
        if (s->prob[i] > 0)
            return s->idx[i];
    return best;
}
