/* linear.h - a projection y = x W^T + b (+ LoRA) in a training step, with its backward.
 *
 * With an adapter: y += scale * (drop(x) A^T) B^T, where drop() zeroes each
 * element of x with probability p and scales the rest by 1/(1-p) (PEFT's
 * lora_dropout, training only).  The mask is not stored: it is a pure
 * function of (drop_key, element index), drawn again in the backward.
 *
 * The backward adds into whatever gradients are given: dW and db (full
 * training), the adapter's dA and dB, and dx (with beta 0 it overwrites). */
#ifndef INFUSE_LINEAR_H
#define INFUSE_LINEAR_H

#include <stdint.h>

#include "lora.h"
#include "matmul.h"
#include "pool.h"

typedef struct Linear {
    const Mat *W;           /* [out, in], F32 */
    const float *bias;      /* [out] or NULL */
    float *dW, *db;         /* gradients, or NULL */
    const LoraMat *lora;    /* adapter pair, or NULL */
    LoraMat *lora_grad;     /* its gradient, or NULL */
    int rank;
    float scale, dropout;
    uint64_t drop_key;
} Linear;

/* y[M, out] = x[M, in] W^T (+ bias) (+ adapter); lu[M, r] keeps drop(x) A^T;
 * tmp[M, in] is scratch (used only with dropout). */
void linear_forward(Pool *p, const Linear *l, const float *x, int M, float *y, float *lu, float *tmp, int training);

/* Given dy[M, out]: dx = beta * dx + dy W (+ the adapter's path); gradients
 * added.  x and lu are the forward's; dlu[M, r] and tmp[M, in] scratch. */
void linear_backward(Pool *p, const Linear *l, const float *x, int M, const float *dy, float *dx, float beta,
                     const float *lu, float *dlu, float *tmp, int training);

/* out = x * keep / (1 - p) with keep drawn from (key, index): the LoRA
 * dropout mask, the same in forward and backward. */
void dropout_apply(float *out, const float *x, long n, float p, uint64_t key);

#endif
