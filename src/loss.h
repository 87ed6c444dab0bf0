/* loss.h - token cross-entropy with a loss mask and per-row weights.
 *
 * Position t of row b predicts token t+1: its target is tok[b, t+1] when
 * t+1 < T and mask[b, t+1] is set, else it has none.  The loss sum is
 * sum of weight[b] * (logsumexp(z) - z[target]) over targets, the weight sum
 * sum of weight[b] over targets (see train_step.h for how they combine). */
#ifndef INFUSE_LOSS_H
#define INFUSE_LOSS_H

#include <stdint.h>

#include "pool.h"

typedef struct LossArgs {
    float *logits;          /* [B*T, V]; the backward overwrites it with d loss / d logits */
    int B, T, V;
    const int32_t *tok;     /* [B, T] */
    const uint8_t *mask;    /* [B, T] */
    const float *weight;    /* [B] */
    float *row_loss;        /* [B*T] each position's loss (0 without a target) */
    float scale;            /* backward: gradient of scale * loss sum */
} LossArgs;

void loss_forward(Pool *p, LossArgs *a, double *loss_sum, double *weight_sum);
void loss_backward(Pool *p, LossArgs *a);

#endif
