/* attention.h - grouped-query causal self-attention over a KV cache.
 *
 * q holds T new query rows (positions pos0 .. pos0+T-1) of n_heads heads;
 * kc / vc hold the keys and values of positions 0 .. pos0+T-1 for n_kv
 * heads, row stride n_kv*hd.  Query head h reads kv head h / (n_heads/n_kv).
 * Work is split over the pool's threads by heads. */
#ifndef INFUSE_ATTENTION_H
#define INFUSE_ATTENTION_H

#include "pool.h"

typedef struct AttnArgs {
    float *out;         /* [T, n_heads*hd] */
    const float *q;     /* [T, n_heads*hd] */
    const float *kc;    /* [pos0+T, n_kv*hd] */
    const float *vc;    /* [pos0+T, n_kv*hd] */
    int T, pos0, n_heads, n_kv, hd;
    float *scores;      /* per thread [T, score_stride] */
    long score_stride;  /* >= pos0 + T, times T per thread */
} AttnArgs;

void attention_forward(Pool *pool, AttnArgs *a);

#endif
