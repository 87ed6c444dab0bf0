/* attention.c - causal GQA attention forward (see attention.h). */
#include "attention.h"
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static void attn_head(AttnArgs *a, int h, float *sc)
{
    const int hd = a->hd, ldq = a->n_heads * hd, ldk = a->n_kv * hd;
    const int kvh = h / (a->n_heads / a->n_kv);
    const int npos = a->pos0 + a->T;
    const float scale = 1.0f / sqrtf((float)hd);
    const float *q = a->q + (long)h * hd;
    const float *k = a->kc + (long)kvh * hd;
    const float *v = a->vc + (long)kvh * hd;
    float *out = a->out + (long)h * hd;
    if (a->T == 1) {
        /* sgemv reads the cached rows with vector-wide partial sums; a dot
         * product per position spent most of its time on the reductions. */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, npos, hd, scale, k, ldk, q, 1, 0.0f, sc, 1);
        softmax_forward(sc, npos);
        cblas_sgemv(CblasRowMajor, CblasTrans, npos, hd, 1.0f, v, ldk, sc, 1, 0.0f, out, 1);
        return;
    }
    /* scores[T, npos] = q k^T * scale; row t may see positions <= pos0 + t. */
    const long ld = a->score_stride;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a->T, npos, hd, scale, q, ldq, k, ldk, 0.0f, sc, (int)ld);
    for (int t = 0; t < a->T; t++) {
        float *row = sc + t * ld;
        int seen = a->pos0 + t + 1;
        softmax_forward(row, seen);
        for (int p = seen; p < npos; p++)
            row[p] = 0;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, a->T, hd, npos, 1.0f, sc, (int)ld, v, ldk, 0.0f, out,
                ldq);
}

static void attn_task(void *arg, int ith, int nth)
{
    AttnArgs *a = arg;
    float *sc = a->scores + (long)ith * a->score_stride * a->T;
    for (int h = ith; h < a->n_heads; h += nth)
        attn_head(a, h, sc);
}

void attention_forward(Pool *pool, AttnArgs *a)
{
    pool_run(pool, attn_task, a);
}
