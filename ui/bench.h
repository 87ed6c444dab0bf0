/* bench.h - measuring helpers shared by the bench-* commands. */
#ifndef INFUSE_BENCH_H
#define INFUSE_BENCH_H

#include "model_config.h"
#include "pool.h"

/* Best GFLOP/s of y[M, N] = x[M, K] w^T over the pool's threads. */
double bench_gemm_peak(Pool *pool, int M, int N, int K);

/* Parameters in the layers' projection matrices (not the LM head): the
 * multiply-adds per token of a forward pass, for GFLOP/s. */
double bench_matrix_params(const ModelConfig *c);

/* Peak resident memory of this process so far, in bytes. */
double bench_peak_rss(void);

#endif
