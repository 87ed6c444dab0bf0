/* adamw.c - AdamW, clipping and schedules (see adamw.h). */
#include "adamw.h"

#include <math.h>

double grad_norm(const OptParam *p, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < p[i].n; k++)
            s += (double)p[i].g[k] * p[i].g[k];
    return sqrt(s);
}

double grad_clip(OptParam *p, int n, double max_norm)
{
    double norm = grad_norm(p, n);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1)
        for (int i = 0; i < n; i++)
            for (size_t k = 0; k < p[i].n; k++)
                p[i].g[k] = (float)(p[i].g[k] * coef);
    return norm;
}

void adamw_step(AdamW *o, OptParam *p, int n, double lr)
{
    o->t++;
    const double bc1 = 1 - pow(o->beta1, (double)o->t), bc2 = 1 - pow(o->beta2, (double)o->t);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, step = (float)(lr / bc1);
    const float inv_sqrt_bc2 = (float)(1 / sqrt(bc2)), eps = (float)o->eps;
    for (int i = 0; i < n; i++) {
        const float decay = p[i].decay ? (float)(1 - lr * o->weight_decay) : 1.0f;
        float *w = p[i].w, *m = p[i].m, *v = p[i].v;
        const float *g = p[i].g;
        for (size_t k = 0; k < p[i].n; k++) {
            m[k] = b1 * m[k] + (1 - b1) * g[k];
            v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
            w[k] = w[k] * decay - step * m[k] / (sqrtf(v[k]) * inv_sqrt_bc2 + eps);
        }
    }
}

double lr_at(Schedule s, double lr, long step, long total, long warmup, double min_ratio)
{
    if (warmup > 0 && step < warmup)
        return lr * (double)(step + 1) / (double)warmup;
    if (s == SCHED_CONSTANT || total <= warmup + 1)
        return lr;
    double progress = (double)(step - warmup) / (double)(total - warmup - 1);
    if (progress > 1)
        progress = 1;
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + cos(M_PI * progress)));
}
