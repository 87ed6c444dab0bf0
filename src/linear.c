/* linear.c - a trainable projection, forward beside backward (see linear.h). */
#include "linear.h"
#include "gemm.h"

#include <string.h>

/* A counter-based generator (splitmix64's finaliser): element i's draw
 * depends only on (key, i), so the backward redraws the forward's mask
 * without storing it, whatever the thread split. */
static inline uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void dropout_apply(float *out, const float *x, long n, float p, uint64_t key)
{
    /* 16-bit uniforms, four per draw: p is resolved to 1/65536. */
    const uint32_t thresh = (uint32_t)(p * 65536.0f + 0.5f);
    const float keep_scale = 1.0f / (1.0f - p);
    for (long i = 0; i < n; i += 4) {
        uint64_t r = mix(key + 0x9e3779b97f4a7c15ull * (uint64_t)(i / 4 + 1));
        for (long k = i; k < i + 4 && k < n; k++, r >>= 16)
            out[k] = ((uint32_t)(r & 0xffff) < thresh) ? 0.0f : x[k] * keep_scale;
    }
}

static int dropping(const Linear *l, int training) { return training && l->lora && l->dropout > 0; }

void linear_forward(Pool *p, const Linear *l, const float *x, int M, float *y, float *lu, float *tmp, int training)
{
    const int in = l->W->cols, out = l->W->rows;
    gemm_nt(p, M, out, in, 1.0f, x, in, (const float *)l->W->data, in, 0.0f, y, out);
    if (l->bias)
        for (int i = 0; i < M; i++) {
            float *yr = y + (long)i * out;
            for (int j = 0; j < out; j++)
                yr[j] += l->bias[j];
        }
    if (!l->lora)
        return;
    const float *xd = x;
    if (dropping(l, training)) {
        dropout_apply(tmp, x, (long)M * in, l->dropout, l->drop_key);
        xd = tmp;
    }
    const int r = l->rank;
    gemm_nt(p, M, r, in, 1.0f, xd, in, l->lora->A, in, 0.0f, lu, r);
    gemm_nt(p, M, out, r, l->scale, lu, r, l->lora->B, r, 1.0f, y, out);
}

void linear_backward(Pool *p, const Linear *l, const float *x, int M, const float *dy, float *dx, float beta,
                     const float *lu, float *dlu, float *tmp, int training)
{
    const int in = l->W->cols, out = l->W->rows;
    const float *W = l->W->data;
    gemm_nn(p, M, in, out, 1.0f, dy, out, W, in, beta, dx, in);
    if (l->dW)
        gemm_tn(p, out, in, M, 1.0f, dy, out, x, in, 1.0f, l->dW, in);
    if (l->db)
        for (int i = 0; i < M; i++) {
            const float *g = dy + (long)i * out;
            for (int j = 0; j < out; j++)
                l->db[j] += g[j];
        }
    if (!l->lora)
        return;
    const int r = l->rank;
    const int drop = dropping(l, training);
    /* dU = scale dy B: the gradient at drop(x) A^T. */
    gemm_nn(p, M, r, out, l->scale, dy, out, l->lora->B, r, 0.0f, dlu, r);
    if (l->lora_grad) {
        gemm_tn(p, out, r, M, l->scale, dy, out, lu, r, 1.0f, l->lora_grad->B, r);
        const float *xd = x;
        if (drop) {
            dropout_apply(tmp, x, (long)M * in, l->dropout, l->drop_key);
            xd = tmp;
        }
        gemm_tn(p, r, in, M, 1.0f, dlu, r, xd, in, 1.0f, l->lora_grad->A, in);
    }
    if (!drop) {
        gemm_nn(p, M, in, r, 1.0f, dlu, r, l->lora->A, in, 1.0f, dx, in);
        return;
    }
    /* Through the dropout: the mask (and its 1/(1-p)) applies to the
     * gradient as it did to x. */
    gemm_nn(p, M, in, r, 1.0f, dlu, r, l->lora->A, in, 0.0f, tmp, in);
    dropout_apply(tmp, tmp, (long)M * in, l->dropout, l->drop_key);
    for (long i = 0; i < (long)M * in; i++)
        dx[i] += tmp[i];
}
