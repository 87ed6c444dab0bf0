/* matmul.c - matrix-vector kernels and the SGEMM path (see matmul.h). */
#include "matmul.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
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

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
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

#ifndef MATVEC_PREFETCH
#define MATVEC_PREFETCH 2048
#endif

/* Masked form for the ragged ends: lanes outside `m` read nothing. */
static inline __attribute__((always_inline)) __m512 load16m(const void *base, size_t i, DType t, __mmask16 m)
{
    switch (t) {
    case DT_BF16: {
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)base + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case DT_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)base + i));
    default:
        return _mm512_maskz_loadu_ps(m, (const float *)base + i);
    }
}

/* Adds W[i..i+k) . x[i..i+k) for k < 16 or a short stretch, with masks. */
static inline __attribute__((always_inline)) __m512 fma_ragged(__m512 acc, const void *w, const float *x, int i,
                                                               int k, DType t)
{
    while (k > 0) {
        int c = k < 16 ? k : 16;
        __mmask16 m = (__mmask16)((1u << c) - 1);
        acc = _mm512_fmadd_ps(load16m(w, (size_t)i, t, m), _mm512_maskz_loadu_ps(m, x + i), acc);
        i += c;
        k -= c;
    }
    return acc;
}

/* One row at a time, read front to back as a single stream (the hardware
 * prefetcher does best on that), with four accumulators to hide FMA latency.
 * Safetensors data are only 8-byte aligned, and loads that straddle cache
 * lines cost a third of the bandwidth here, so each row first takes the
 * elements before its first 64-byte boundary with a masked load. */
static inline __attribute__((always_inline)) void matvec_rows_t(float *y, const float *x, const Mat *W, int r0,
                                                                 int r1, DType t)
{
    const int n = W->cols;
    const size_t es = dtype_size(t);
    const char *base = W->data;
    for (int r = r0; r < r1; r++) {
        const char *w = base + (size_t)r * n * es;
        int i = (int)(((64 - ((uintptr_t)w & 63)) & 63) / es);
        if (i > n)
            i = n;
        __m512 a0 = fma_ragged(_mm512_setzero_ps(), w, x, 0, i, t), a1 = _mm512_setzero_ps(), a2 = a1, a3 = a1;
        for (; i + 64 <= n; i += 64) {
            const char *pf = w + (size_t)i * es + MATVEC_PREFETCH;
            for (size_t b = 0; b < 64 * es; b += 64)
                _mm_prefetch(pf + b, _MM_HINT_T0);
            a0 = _mm512_fmadd_ps(load16(w, i, t), _mm512_loadu_ps(x + i), a0);
            a1 = _mm512_fmadd_ps(load16(w, i + 16, t), _mm512_loadu_ps(x + i + 16), a1);
            a2 = _mm512_fmadd_ps(load16(w, i + 32, t), _mm512_loadu_ps(x + i + 32), a2);
            a3 = _mm512_fmadd_ps(load16(w, i + 48, t), _mm512_loadu_ps(x + i + 48), a3);
        }
        a1 = fma_ragged(a1, w, x, i, n - i, t);
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
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

/* Rows per block handed out on the small-T path. */
#ifndef MATVEC_BLOCK
#define MATVEC_BLOCK 32
#endif
#define MATMUL_MAX_THREADS 64

typedef struct {
    atomic_int next, end;       /* blocks [next, end) not yet taken */
    char pad[56];               /* one cache line per cursor */
} Cursor;

typedef struct {
    Matmul *m;
    const float *x;
    int T;
    int n;
    const MatmulOut *outs;
    int runs;                           /* small-T path: cursors in use */
    Cursor cur[MATMUL_MAX_THREADS];     /* small-T path: one run per thread */
} MatmulJob;

static int blocks_of(const Mat *W) { return (W->rows + MATVEC_BLOCK - 1) / MATVEC_BLOCK; }

static void matvec_block(MatmulJob *j, int b)
{
    int k = 0;
    while (b >= blocks_of(j->outs[k].W))
        b -= blocks_of(j->outs[k++].W);
    const MatmulOut *o = &j->outs[k];
    const Mat *W = o->W;
    int r0 = b * MATVEC_BLOCK, r1 = r0 + MATVEC_BLOCK < W->rows ? r0 + MATVEC_BLOCK : W->rows;
    /* The block stays in cache across the T vectors. */
    for (int t = 0; t < j->T; t++)
        matvec_rows(o->out + (size_t)t * o->ldo, j->x + (size_t)t * W->cols, W, r0, r1, W->dtype);
}

/* Decode is bound by memory bandwidth, which the threads do not get in
 * equal shares: a static split leaves one waiting for the other at every
 * call, and handing out blocks round-robin breaks each thread's reading into
 * short jumps the prefetchers cannot follow (measured: 43 vs 51 GB/s).  So
 * the blocks of all the job's matrices are split into one contiguous run per
 * thread, read front to back, and a thread that finishes its run takes the
 * remaining blocks of the others' runs. */
static void matmul_small_task(void *arg, int ith, int nth)
{
    MatmulJob *j = arg;
    for (int v = 0; v < j->runs; v++) {
        Cursor *c = &j->cur[(ith + v) % j->runs];
        for (;;) {
            int b = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
            if (b >= atomic_load_explicit(&c->end, memory_order_relaxed))
                break;
            matvec_block(j, b);
        }
    }
}

static void gemm_slice(Matmul *m, const float *x, int T, const MatmulOut *o, int ith, int nth)
{
    const Mat *W = o->W;
    int r0, r1;
    pool_range(W->rows, ith, nth, 16, &r0, &r1);
    if (r0 >= r1)
        return;
    const int K = W->cols;
    if (W->dtype == DT_F32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, r1 - r0, K, 1.0f, x, K,
                    (const float *)W->data + (size_t)r0 * K, K, 0.0f, o->out + r0, o->ldo);
        return;
    }
    float *buf = m->scratch + (size_t)ith * m->scratch_stride;
    const size_t es = dtype_size(W->dtype);
    for (int b = r0; b < r1; b += MATMUL_BLOCK) {
        int nb = r1 - b < MATMUL_BLOCK ? r1 - b : MATMUL_BLOCK;
        dtype_to_f32(buf, (const char *)W->data + (size_t)b * K * es, W->dtype, (size_t)nb * K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, nb, K, 1.0f, x, K, buf, K, 0.0f, o->out + b,
                    o->ldo);
    }
}

static void matmul_gemm_task(void *arg, int ith, int nth)
{
    MatmulJob *j = arg;
    for (int k = 0; k < j->n; k++)
        gemm_slice(j->m, j->x, j->T, &j->outs[k], ith, nth);
}

void matmul_many(Matmul *m, const float *x, int T, int n, const MatmulOut *outs)
{
    MatmulJob j = {.m = m, .x = x, .T = T, .n = n, .outs = outs};
    if (T > MATMUL_SMALL_T) {
        pool_run(m->pool, matmul_gemm_task, &j);
        return;
    }
    int nth = pool_threads(m->pool), total = 0;
    if (nth > MATMUL_MAX_THREADS)
        nth = MATMUL_MAX_THREADS;
    for (int k = 0; k < n; k++)
        total += blocks_of(outs[k].W);
    for (int i = 0; i < nth; i++) {
        atomic_init(&j.cur[i].next, (int)((long)total * i / nth));
        atomic_init(&j.cur[i].end, (int)((long)total * (i + 1) / nth));
    }
    j.runs = nth;
    pool_run(m->pool, matmul_small_task, &j);
}

void matmul(Matmul *m, float *out, int ldo, const float *x, int T, const Mat *W)
{
    MatmulOut o = {out, ldo, W};
    matmul_many(m, x, T, 1, &o);
}
