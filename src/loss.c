/* loss.c - masked, weighted cross-entropy, forward beside backward (see loss.h). */
#include "loss.h"
#include "ops.h"

#include <string.h>

static int target_of(const LossArgs *a, int i)
{
    int t = i % a->T;
    if (t + 1 >= a->T || !a->mask[i + 1])
        return -1;
    return a->tok[i + 1];
}

static void fwd_task(void *arg, int ith, int nth)
{
    LossArgs *a = arg;
    int r0, r1;
    pool_range(a->B * a->T, ith, nth, 1, &r0, &r1);
    for (int i = r0; i < r1; i++) {
        int y = target_of(a, i);
        const float *z = a->logits + (long)i * a->V;
        a->row_loss[i] = y < 0 ? 0.0f : logsumexp(z, a->V) - z[y];
    }
}

void loss_forward(Pool *p, LossArgs *a, double *loss_sum, double *weight_sum)
{
    pool_run(p, fwd_task, a);
    /* Summed here, in a fixed order, so the result does not depend on the
     * thread count. */
    double ls = 0, ws = 0;
    for (int i = 0; i < a->B * a->T; i++)
        if (target_of(a, i) >= 0) {
            double w = a->weight[i / a->T];
            ls += w * a->row_loss[i];
            ws += w;
        }
    *loss_sum = ls;
    *weight_sum = ws;
}

/* d/dz of w (logsumexp(z) - z[y]) is w (softmax(z) - onehot(y)). */
static void bwd_task(void *arg, int ith, int nth)
{
    LossArgs *a = arg;
    int r0, r1;
    pool_range(a->B * a->T, ith, nth, 1, &r0, &r1);
    for (int i = r0; i < r1; i++) {
        int y = target_of(a, i);
        float *z = a->logits + (long)i * a->V;
        if (y < 0) {
            memset(z, 0, sizeof(float) * (size_t)a->V);
            continue;
        }
        const float w = a->weight[i / a->T] * a->scale;
        softmax_forward(z, a->V);
        for (int j = 0; j < a->V; j++)
            z[j] *= w;
        z[y] -= w;
    }
}

void loss_backward(Pool *p, LossArgs *a) { pool_run(p, bwd_task, a); }
