/* sampler.h - picking the next token from a row of logits.
 *
 * A Sampler is a small caller-owned struct (sampler_init / sampler_free)
 * holding its parameters, its own random state and scratch buffers sized to
 * the vocabulary once, so sampler_sample never allocates.
 *
 * sampler_sample, in order:
 *   1. repetition penalty (llama.cpp / Hugging Face style) over the last
 *      repeat_last_n ids of history, once per distinct id: a positive logit
 *      is divided by repeat_penalty, a negative one multiplied by it;
 *   2. temperature <= 0 or top_k == 1: greedy argmax, ties to the lowest id;
 *      the random state does not advance;
 *   3. top-k (0 = off): the k largest logits, ties to the lower id, found by
 *      a bounded heap without sorting the whole vocabulary;
 *   4. softmax of logit / temperature over the remaining candidates;
 *   5. top-p (1 = off): the smallest prefix of the candidates by descending
 *      probability whose mass is >= top_p, at least one token; with top_k off
 *      the tokens are bucketed by probability in one pass and only the bucket
 *      where the mass crosses top_p is sorted, not the vocabulary;
 *   6. one draw from the renormalised set with the sampler's xoshiro256**
 *      generator (seeded through splitmix64), so equal seeds and equal inputs
 *      give equal token streams.
 * NaN logits count as -inf.  If every logit is -inf the lowest id is
 * returned. */
#ifndef INFUSE_SAMPLER_H
#define INFUSE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rng.h"

typedef struct SamplerParams {
    float temperature;  /* <= 0: greedy */
    int top_k;          /* 0: off */
    float top_p;        /* (0, 1]; 1: off */
    float repeat_penalty; /* > 0; 1: off */
    int repeat_last_n;  /* >= 0; 0: off */
    uint64_t seed;
} SamplerParams;

#define SAMPLER_BUCKETS 1024

typedef struct Sampler {
    SamplerParams p;
    int vocab;
    Rng rng;
    int32_t *idx;     /* (vocab) candidate ids, best first once selected */
    float *prob;      /* (vocab) candidate weights exp((l - max) / T) */
    uint8_t *seen;    /* (vocab) repetition marks, all zero between calls */
    double *mass;     /* (SAMPLER_BUCKETS) top-p probability mass per bucket */
} Sampler;

/* Checks the parameters (temperature finite and >= 0, top_k >= 0, top_p in
 * (0, 1], repeat_penalty finite and > 0, repeat_last_n >= 0, vocab > 0),
 * copies them and allocates the scratch buffers.  On failure s holds nothing
 * and sampler_free(s) is still safe. */
int sampler_init(Sampler *s, const SamplerParams *p, int vocab, Err *e);
void sampler_free(Sampler *s);

/* Restarts the random stream as if freshly initialised with this seed. */
void sampler_reseed(Sampler *s, uint64_t seed);

/* Returns the next token id in [0, vocab).  logits (length vocab) are
 * modified in place (penalty, NaN clean-up).  history holds the prompt and
 * the tokens generated so far, oldest first; ids outside [0, vocab) in it are
 * ignored. */
int sampler_sample(Sampler *s, float *logits, const int32_t *history, size_t n_history);

#endif
