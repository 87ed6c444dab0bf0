/* adamw.c - AdamW, clipping and schedules (see adamw.h). */
#include "adamw.h"

#include <math.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif
#include <stdlib.h>

/* Elements per chunk: the unit of work and of the norm's partial sums. */
#define CHUNK 65536

typedef struct Chunks {
    OptParam *p;
    int n;
    long total;             /* chunks over all tensors */
    long *first;            /* [n + 1] first chunk of each tensor */
} Chunks;

static int chunks_init(Chunks *c, const OptParam *p, int n)
{
    c->p = (OptParam *)p, c->n = n;
    c->first = malloc(sizeof(long) * (size_t)(n + 1));
    if (!c->first)
        return -1;
    long k = 0;
    for (int i = 0; i < n; i++) {
        c->first[i] = k;
        k += (long)((p[i].n + CHUNK - 1) / CHUNK);
    }
    c->first[n] = c->total = k;
    return 0;
}

/* The tensor and element range of chunk k. */
static OptParam *chunk_at(const Chunks *c, long k, size_t *b, size_t *e)
{
    int lo = 0, hi = c->n - 1;
    while (lo < hi) {  /* the last tensor whose first chunk is <= k */
        int mid = (lo + hi + 1) / 2;
        if (c->first[mid] <= k)
            lo = mid;
        else
            hi = mid - 1;
    }
    OptParam *p = &c->p[lo];
    *b = (size_t)(k - c->first[lo]) * CHUNK;
    *e = *b + CHUNK < p->n ? *b + CHUNK : p->n;
    return p;
}

typedef struct NormJob {
    Chunks c;
    double *part;
} NormJob;

static void norm_task(void *arg, int ith, int nth)
{
    NormJob *j = arg;
    for (long k = ith; k < j->c.total; k += nth) {
        size_t b, e;
        const OptParam *p = chunk_at(&j->c, k, &b, &e);
        double s = 0;
        for (size_t i = b; i < e; i++)
            s += (double)p->g[i] * p->g[i];
        j->part[k] = s;
    }
}

double grad_norm(Pool *pool, const OptParam *p, int n)
{
    NormJob j;
    if (chunks_init(&j.c, p, n) != 0)
        return NAN;
    j.part = malloc(sizeof(double) * (size_t)(j.c.total ? j.c.total : 1));
    if (!j.part) {
        free(j.c.first);
        return NAN;
    }
    if (pool)
        pool_run(pool, norm_task, &j);
    else
        norm_task(&j, 0, 1);
    double s = 0;
    for (long k = 0; k < j.c.total; k++)
        s += j.part[k];
    free(j.part);
    free(j.c.first);
    return sqrt(s);
}

double clip_factor(double norm, double max_norm)
{
    if (max_norm <= 0)
        return 1;
    double coef = max_norm / (norm + 1e-6);
    return coef < 1 ? coef : 1;
}

typedef struct StepJob {
    Chunks c;
    float b1, b2, step, inv_sqrt_bc2, eps, decay, gscale;
} StepJob;

static void step_task(void *arg, int ith, int nth)
{
    const StepJob *j = arg;
    for (long k = ith; k < j->c.total; k += nth) {
        size_t b, e;
        OptParam *p = chunk_at(&j->c, k, &b, &e);
        const float decay = p->decay ? j->decay : 1.0f, b1 = j->b1, b2 = j->b2, gs = j->gscale;
        float *w = p->w, *m = p->m, *v = p->v, *g = p->g;
        size_t i = b;
#ifdef __AVX512F__
        /* The scalar loop does not vectorise (sqrtf may set errno) and the
         * update is a tenth of a full-training step. */
        const __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), vgs = _mm512_set1_ps(gs);
        const __m512 c1 = _mm512_set1_ps(1 - b1), c2 = _mm512_set1_ps(1 - b2), vdec = _mm512_set1_ps(decay);
        const __m512 vstep = _mm512_set1_ps(j->step), vibc = _mm512_set1_ps(j->inv_sqrt_bc2);
        const __m512 veps = _mm512_set1_ps(j->eps);
        for (; i + 16 <= e; i += 16) {
            __m512 gi = _mm512_mul_ps(_mm512_loadu_ps(g + i), vgs);
            __m512 mi = _mm512_fmadd_ps(vb1, _mm512_loadu_ps(m + i), _mm512_mul_ps(c1, gi));
            __m512 vi = _mm512_fmadd_ps(vb2, _mm512_loadu_ps(v + i), _mm512_mul_ps(c2, _mm512_mul_ps(gi, gi)));
            __m512 den = _mm512_fmadd_ps(_mm512_sqrt_ps(vi), vibc, veps);
            __m512 wi = _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(w + i), vdec),
                                      _mm512_div_ps(_mm512_mul_ps(vstep, mi), den));
            _mm512_storeu_ps(m + i, mi);
            _mm512_storeu_ps(v + i, vi);
            _mm512_storeu_ps(w + i, wi);
            _mm512_storeu_ps(g + i, _mm512_setzero_ps());
        }
#endif
        for (; i < e; i++) {
            const float gi = g[i] * gs;
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            w[i] = w[i] * decay - j->step * m[i] / (sqrtf(v[i]) * j->inv_sqrt_bc2 + j->eps);
            g[i] = 0;
        }
    }
}

void adamw_step(AdamW *o, Pool *pool, OptParam *p, int n, double lr, double gscale)
{
    o->t++;
    const double bc1 = 1 - pow(o->beta1, (double)o->t), bc2 = 1 - pow(o->beta2, (double)o->t);
    StepJob j;
    if (chunks_init(&j.c, p, n) != 0)
        return;
    j.b1 = (float)o->beta1, j.b2 = (float)o->beta2, j.step = (float)(lr / bc1);
    j.inv_sqrt_bc2 = (float)(1 / sqrt(bc2)), j.eps = (float)o->eps;
    j.decay = (float)(1 - lr * o->weight_decay), j.gscale = (float)gscale;
    if (pool)
        pool_run(pool, step_task, &j);
    else
        step_task(&j, 0, 1);
    free(j.c.first);
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
