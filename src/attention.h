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

/* Training: B independent rows of T positions each (row b's tokens are rows
 * b*T .. b*T+T-1 of q, k, v, out).  The probabilities are kept in
 * p[B, n_heads, T, T] for the backward.  Work is split by (row, kv head),
 * so the heads that share a kv head, whose key and value gradients add up,
 * stay on one thread. */
typedef struct AttnTrain {
    const float *q, *k, *v; /* [B*T, n_heads*hd], [B*T, n_kv*hd] x2 */
    float *p;               /* [B, n_heads, T, T] */
    float *out;             /* [B*T, n_heads*hd] */
    int B, T, n_heads, n_kv, hd;
    /* backward */
    const float *dout;
    float *dq, *dk, *dv;    /* overwritten */
    float *dp;              /* per thread [T, T] scratch */
} AttnTrain;

void attention_train_forward(Pool *pool, AttnTrain *a);
void attention_train_backward(Pool *pool, AttnTrain *a);

#endif
