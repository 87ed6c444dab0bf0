/* matmul.c - matrix-vector kernels and the SGEMM path (see matmul.h). */
#include "matmul.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

int matmul_init(Matmul *m, Pool *pool, int max_cols)
{
    m->pool = pool;
    m->scratch_stride = (size_t)MATMUL_BLOCK * (size_t)max_cols;
    size_t bytes = m->scratch_stride * (size_t)pool_threads(pool) * sizeof(float);
    m->scratch = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    return m->scratch ? 0 : -1;
}

void matmul_free(Matmul *m)
{
    free(m->scratch);
    m->scratch = NULL;
}

void mat_row_f32(const Mat *W, int r, float *dst)
{
    const char *p = (const char *)W->data + (size_t)r * (size_t)W->cols * dtype_size(W->dtype);
    dtype_to_f32(dst, p, W->dtype, (size_t)W->cols);
}

/* ---- matrix-vector kernels: y[r] = dot(W[r], x) for rows [r0, r1) ---- */

#ifdef __AVX512F__
static inline __attribute__((always_inline)) __m512 load16(const void *base, size_t i, DType t)
{
    switch (t) {
    case DT_BF16: {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)base + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case DT_F16:
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + i)));
    default:
        return _mm512_loadu_ps((const float *)base + i);
    }
}

/* One row at a time, read front to back as a single stream (the hardware
 * prefetcher does best on that), with four accumulators to hide FMA latency. */
static inline __attribute__((always_inline)) void matvec_rows_t(float *y, const float *x, const Mat *W, int r0,
                                                                 int r1, DType t)
{
    const int n = W->cols, n64 = n & ~63, n16 = n & ~15;
    const size_t es = dtype_size(t);
    const char *base = W->data;
    for (int r = r0; r < r1; r++) {
        const void *w = base + (size_t)r * n * es;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i < n64; i += 64) {
            a0 = _mm512_fmadd_ps(load16(w, i, t), _mm512_loadu_ps(x + i), a0);
            a1 = _mm512_fmadd_ps(load16(w, i + 16, t), _mm512_loadu_ps(x + i + 16), a1);
            a2 = _mm512_fmadd_ps(load16(w, i + 32, t), _mm512_loadu_ps(x + i + 32), a2);
            a3 = _mm512_fmadd_ps(load16(w, i + 48, t), _mm512_loadu_ps(x + i + 48), a3);
        }
        for (; i < n16; i += 16)
            a0 = _mm512_fmadd_ps(load16(w, i, t), _mm512_loadu_ps(x + i), a0);
        float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
        for (; i < n; i++) {
            float wf;
            dtype_to_f32(&wf, (const char *)w + (size_t)i * es, t, 1);
            s += wf * x[i];
        }
        y[r] = s;
    }
}

/* One copy per dtype, so that the conversion is not a branch in the loop. */
static void matvec_rows(float *y, const float *x, const Mat *W, int r0, int r1, DType t)
{
    switch (t) {
    case DT_BF16: matvec_rows_t(y, x, W, r0, r1, DT_BF16); break;
    case DT_F16: matvec_rows_t(y, x, W, r0, r1, DT_F16); break;
    default: matvec_rows_t(y, x, W, r0, r1, DT_F32); break;
    }
}
#else
static void matvec_rows(float *y, const float *x, const Mat *W, int r0, int r1, DType t)
{
    const int n = W->cols;
    const size_t es = dtype_size(t);
    float buf[256];
    for (int r = r0; r < r1; r++) {
        const char *w = (const char *)W->data + (size_t)r * n * es;
        float s = 0;
        for (int i = 0; i < n; i += 256) {
            int k = n - i < 256 ? n - i : 256;
            dtype_to_f32(buf, w + (size_t)i * es, t, (size_t)k);
            for (int j = 0; j < k; j++)
                s += buf[j] * x[i + j];
        }
        y[r] = s;
    }
}
#endif

typedef struct {
    Matmul *m;
    float *out;
    int ldo;
    const float *x;
    int T;
    const Mat *W;
    atomic_int next;    /* next block of rows to take (small-T path) */
} MatmulJob;

/* Rows per block handed out on the small-T path. */
#define MATVEC_BLOCK 32

/* Decode is bound by memory bandwidth, which the threads do not share
 * fairly: a static split leaves one waiting for the other at every call.
 * So threads take blocks of rows from a shared counter until none are left. */
static void matmul_small_task(void *arg, int ith, int nth)
{
    MatmulJob *j = arg;
    const int rows = j->W->rows;
    for (;;) {
        int b = atomic_fetch_add_explicit(&j->next, MATVEC_BLOCK, memory_order_relaxed);
        if (b >= rows)
            break;
        int be = b + MATVEC_BLOCK < rows ? b + MATVEC_BLOCK : rows;
        /* The block stays in cache across the T vectors. */
        for (int t = 0; t < j->T; t++)
            matvec_rows(j->out + (size_t)t * j->ldo, j->x + (size_t)t * j->W->cols, j->W, b, be, j->W->dtype);
    }
}

static void matmul_gemm_task(void *arg, int ith, int nth)
{
    MatmulJob *j = arg;
    const Mat *W = j->W;
    int r0, r1;
    pool_range(W->rows, ith, nth, 16, &r0, &r1);
    if (r0 >= r1)
        return;
    const int K = W->cols;
    if (W->dtype == DT_F32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->T, r1 - r0, K, 1.0f, j->x, K,
                    (const float *)W->data + (size_t)r0 * K, K, 0.0f, j->out + r0, j->ldo);
        return;
    }
    float *buf = j->m->scratch + (size_t)ith * j->m->scratch_stride;
    const size_t es = dtype_size(W->dtype);
    for (int b = r0; b < r1; b += MATMUL_BLOCK) {
        int nb = r1 - b < MATMUL_BLOCK ? r1 - b : MATMUL_BLOCK;
        dtype_to_f32(buf, (const char *)W->data + (size_t)b * K * es, W->dtype, (size_t)nb * K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->T, nb, K, 1.0f, j->x, K, buf, K, 0.0f,
                    j->out + b, j->ldo);
    }
}

void matmul(Matmul *m, float *out, int ldo, const float *x, int T, const Mat *W)
{
    MatmulJob j = {m, out, ldo, x, T, W, 0};
    pool_run(m->pool, T <= MATMUL_SMALL_T ? matmul_small_task : matmul_gemm_task, &j);
}
