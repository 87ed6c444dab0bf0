/* bench.h - measuring helpers shared by the bench-* commands. */
#ifndef INFUSE_BENCH_H
#define INFUSE_BENCH_H

#include "pool.h"

/* Best GFLOP/s of y[M, N] = x[M, K] w^T over the pool's threads. */
double bench_gemm_peak(Pool *pool, int M, int N, int K);

/* Peak resident memory of this process so far, in bytes. */
double bench_peak_rss(void);

#endif
