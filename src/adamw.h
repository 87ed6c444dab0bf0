/* adamw.h - the optimizer: AdamW with global gradient-norm clipping, and
 * the learning-rate schedules.
 *
 * The update is PyTorch's torch.optim.AdamW: decoupled weight decay
 * (w -= lr * wd * w), moments m and v with bias correction, and
 * w -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).  Clipping is
 * torch.nn.utils.clip_grad_norm_'s: when the global L2 norm exceeds
 * max_norm every gradient is scaled by max_norm / (norm + 1e-6); here the
 * scale is applied as the update reads each gradient, saving a pass over
 * them.  Work is split over the pool in fixed chunks and the norm's partial
 * sums are added in chunk order, so results do not depend on the number of
 * threads. */
#ifndef INFUSE_ADAMW_H
#define INFUSE_ADAMW_H

#include <stddef.h>

#include "pool.h"

typedef struct OptParam {
    float *w, *g, *m, *v;   /* weights, gradient, first and second moment: n floats each */
    size_t n;
    int decay;              /* weight decay applies */
} OptParam;

typedef struct AdamW {
    double beta1, beta2, eps, weight_decay;
    long t;                 /* updates made */
} AdamW;

/* Global L2 norm of the gradients (pool may be NULL: one thread). */
double grad_norm(Pool *pool, const OptParam *p, int n);
/* The factor clip_grad_norm_ scales gradients by: 1 when norm <= max_norm
 * or max_norm <= 0 (no clipping). */
double clip_factor(double norm, double max_norm);
/* One update at learning rate lr, each gradient multiplied by gscale (the
 * clip factor) as it is read.  The gradients are left zero, ready for the
 * next step's accumulation. */
void adamw_step(AdamW *o, Pool *pool, OptParam *p, int n, double lr, double gscale);

typedef enum { SCHED_CONSTANT, SCHED_COSINE } Schedule;

/* Learning rate for update number step (0-based) of total: linear warm-up
 * from lr/warmup to lr over `warmup` updates, then constant, or cosine
 * decay to lr * min_ratio at the last update. */
double lr_at(Schedule s, double lr, long step, long total, long warmup, double min_ratio);

#endif
