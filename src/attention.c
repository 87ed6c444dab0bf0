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

/* ---- training: forward beside backward ----
 *
 * Causal attention leaves the upper triangle of the T x T scores unused, so
 * rows are taken in blocks of ABLK: block i's rows see only the keys of
 * blocks 0..i, and the products skip the rest (a third fewer flops at
 * T = 256). */

#define ABLK 64

static void train_fwd_task(void *arg, int ith, int nth)
{
    AttnTrain *a = arg;
    const int T = a->T, hd = a->hd, ldq = a->n_heads * hd, ldk = a->n_kv * hd, grp = a->n_heads / a->n_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int task = ith; task < a->B * a->n_kv; task += nth) {
        const int b = task / a->n_kv, g = task % a->n_kv;
        const float *k = a->k + (long)b * T * ldk + (long)g * hd, *v = a->v + (long)b * T * ldk + (long)g * hd;
        for (int h = g * grp; h < (g + 1) * grp; h++) {
            const float *q = a->q + (long)b * T * ldq + (long)h * hd;
            float *p = a->p + ((long)b * a->n_heads + h) * T * T, *out = a->out + (long)b * T * ldq + (long)h * hd;
            for (int r0 = 0; r0 < T; r0 += ABLK) {
                const int nr = T - r0 < ABLK ? T - r0 : ABLK, nk = r0 + nr;
                float *pb = p + (long)r0 * T;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nk, hd, scale, q + (long)r0 * ldq, ldq, k,
                            ldk, 0.0f, pb, T);
                for (int t = r0; t < r0 + nr; t++) {
                    float *row = p + (long)t * T;
                    softmax_forward(row, t + 1);
                    memset(row + t + 1, 0, sizeof(float) * (size_t)(T - t - 1));
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nk, 1.0f, pb, T, v, ldk, 0.0f,
                            out + (long)r0 * ldq, ldq);
            }
        }
    }
}

void attention_train_forward(Pool *pool, AttnTrain *a) { pool_run(pool, train_fwd_task, a); }

/* With S = q k^T scale, P = softmax(S) (causal), O = P v:
 *   dv += P^T dO,  dP = dO v^T,  dS = P (dP - rowsum(dP P)),
 *   dq = dS k scale,  dk += dS^T q scale. */
static void train_bwd_task(void *arg, int ith, int nth)
{
    AttnTrain *a = arg;
    const int T = a->T, hd = a->hd, ldq = a->n_heads * hd, ldk = a->n_kv * hd, grp = a->n_heads / a->n_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *dp = a->dp + (long)ith * T * T;
    for (int task = ith; task < a->B * a->n_kv; task += nth) {
        const int b = task / a->n_kv, g = task % a->n_kv;
        const long kvo = (long)b * T * ldk + (long)g * hd;
        const float *k = a->k + kvo, *v = a->v + kvo;
        float *dk = a->dk + kvo, *dv = a->dv + kvo;
        for (int t = 0; t < T; t++) {
            memset(dk + (long)t * ldk, 0, sizeof(float) * (size_t)hd);
            memset(dv + (long)t * ldk, 0, sizeof(float) * (size_t)hd);
        }
        for (int h = g * grp; h < (g + 1) * grp; h++) {
            const long qo = (long)b * T * ldq + (long)h * hd;
            const float *q = a->q + qo, *dout = a->dout + qo, *p = a->p + ((long)b * a->n_heads + h) * T * T;
            for (int r0 = 0; r0 < T; r0 += ABLK) {
                const int nr = T - r0 < ABLK ? T - r0 : ABLK, nk = r0 + nr;
                const float *pb = p + (long)r0 * T, *dob = dout + (long)r0 * ldq, *qb = q + (long)r0 * ldq;
                float *db = dp + (long)r0 * T;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hd, nr, 1.0f, pb, T, dob, ldq, 1.0f, dv,
                            ldk);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nk, hd, 1.0f, dob, ldq, v, ldk, 0.0f, db, T);
                for (int t = r0; t < r0 + nr; t++) {
                    const float *pr = p + (long)t * T;
                    float *dr = dp + (long)t * T;
                    double dot = 0;
                    for (int j = 0; j <= t; j++)
                        dot += (double)pr[j] * dr[j];
                    for (int j = 0; j <= t; j++)
                        dr[j] = pr[j] * (dr[j] - (float)dot);
                    for (int j = t + 1; j < nk; j++)
                        dr[j] = 0;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, nk, scale, db, T, k, ldk, 0.0f,
                            a->dq + qo + (long)r0 * ldq, ldq);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, hd, nr, scale, db, T, qb, ldq, 1.0f, dk,
                            ldk);
            }
        }
    }
}

void attention_train_backward(Pool *pool, AttnTrain *a) { pool_run(pool, train_bwd_task, a); }
