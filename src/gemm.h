/* gemm.h - F32 matrix products for training, split over the pool's threads.
 *
 * Row-major, as cblas: C[M, N] = alpha op(A) op(B) + beta * C, where
 *   gemm_nt: op(A) = A [M, K],   op(B) = B^T, B [N, K]   (x W^T: a layer)
 *   gemm_nn: op(A) = A [M, K],   op(B) = B [K, N]        (dy W: its input gradient)
 *   gemm_tn: op(A) = A^T, A [K, M], op(B) = B [K, N]     (dy^T x: its weight gradient)
 * Each thread runs single-threaded OpenBLAS on its own block of C's rows or
 * columns (whichever dimension is larger), so the threads never write the
 * same element and the result does not depend on timing. */
#ifndef INFUSE_GEMM_H
#define INFUSE_GEMM_H

#include "pool.h"

void gemm_nt(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);
void gemm_nn(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);
void gemm_tn(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);

#endif
