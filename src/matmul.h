/* matmul.h - products with weight matrices stored F32, F16 or BF16.
 *
 * A Mat is a read-only view of a Hugging Face weight, [rows = out features,
 * cols = in features], row-major, usually pointing into a memory-mapped
 * safetensors file.  matmul() computes out[T, rows] = x[T, cols] W^T in F32:
 * - few rows of x (decode): our own matrix-vector kernels, which read each
 *   weight once and convert F16/BF16 on the fly (decode is bound by memory
 *   bandwidth, so half-precision weights decode faster);
 * - many rows (prefill, training): OpenBLAS SGEMM on each thread's slice of
 *   W's rows; F16/BF16 slices are converted block by block into the
 *   thread's scratch first.
 * The work is split over the pool's threads by rows of W. */
#ifndef INFUSE_MATMUL_H
#define INFUSE_MATMUL_H

#include <stddef.h>
#include "dtype.h"
#include "pool.h"

typedef struct Mat {
    DType dtype;
    const void *data;
    int rows, cols;
} Mat;

/* Rows of W converted per SGEMM call on the half-precision path. */
#define MATMUL_BLOCK 128
/* Up to this many rows of x go through the matrix-vector kernels. */
#define MATMUL_SMALL_T 4

typedef struct Matmul {
    Pool *pool;
    float *scratch;        /* n_threads * MATMUL_BLOCK * max_cols floats */
    size_t scratch_stride; /* floats per thread */
} Matmul;

/* max_cols: the widest cols of any Mat that will be used. 0 / -1. */
int matmul_init(Matmul *m, Pool *pool, int max_cols);
void matmul_free(Matmul *m);

/* out[T, W->rows] = x[T, W->cols] W^T; ldo is out's row stride (>= rows). */
void matmul(Matmul *m, float *out, int ldo, const float *x, int T, const Mat *W);

/* One product of a matmul_many() call. */
typedef struct MatmulOut {
    float *out;
    int ldo;
    const Mat *W;
} MatmulOut;

/* outs[k].out = x W_k^T for k < n, all from the same x (the q/k/v and the
 * gate/up projections): one hand-off to the threads instead of n. */
void matmul_many(Matmul *m, const float *x, int T, int n, const MatmulOut *outs);

/* Row r of W converted to F32 (an embedding lookup). */
void mat_row_f32(const Mat *W, int r, float *dst);

#endif
