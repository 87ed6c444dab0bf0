/* pool.h - a fixed set of threads that run one function together.
 *
 * The engine's parallelism is all here: a matrix product or an attention
 * layer calls pool_run(), every thread (the caller is thread 0) runs the
 * function with its index, and pool_run returns when all have finished.
 * OpenBLAS is kept single-threaded so that its own threads never compete
 * with these for the cores.
 *
 * Concurrency: workers spin for a short while on a generation counter
 * (decode issues a few hundred pool_run calls per token, too many for a
 * sleep/wake each), then sleep on a condition variable.  Only one thread may
 * call pool_run at a time; a pool belongs to the thread that made it. */
#ifndef INFUSE_POOL_H
#define INFUSE_POOL_H

typedef struct Pool Pool;
typedef void (*PoolFn)(void *ctx, int ith, int nth);

/* n_threads counts the caller; 1 means no extra threads. NULL on failure. */
Pool *pool_new(int n_threads);
void pool_delete(Pool *p);
int pool_threads(const Pool *p);
void pool_run(Pool *p, PoolFn fn, void *ctx);

/* Splits [0, n) into nth near-equal ranges, boundaries multiples of align. */
void pool_range(int n, int ith, int nth, int align, int *begin, int *end);

/* Number of online CPUs. */
int pool_cpu_count(void);

#endif
