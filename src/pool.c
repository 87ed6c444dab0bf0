/* pool.c - spinning-then-sleeping thread pool (see pool.h for the design). */
#include "pool.h"
#include "blas_env.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ITERS 200000

struct Pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;        /* bumped once per pool_run */
    atomic_int done;        /* workers finished with the current gen */
    atomic_int sleepers;
    atomic_int quit;
    PoolFn fn;
    void *ctx;
};

typedef struct { Pool *p; int ith; } WorkerArg;

static void *worker(void *arg)
{
    WorkerArg *wa = arg;
    Pool *p = wa->p;
    int ith = wa->ith;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load(&p->gen)) == seen && spins < SPIN_ITERS) {
            _mm_pause();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen)
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load(&p->quit))
            return NULL;
        p->fn(p->ctx, ith, p->n);
        atomic_fetch_add(&p->done, 1);
    }
}

Pool *pool_new(int n_threads)
{
    /* Every product runs on these threads; OpenBLAS's own would compete
     * with them for the cores (and spin in sched_yield). */
    blas_env_single_thread();
    Pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc((size_t)p->n, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    for (int i = 1; i < p->n; i++) {
        WorkerArg *wa = malloc(sizeof *wa);
        wa->p = p;
        wa->ith = i;
        if (pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
            free(wa);
            p->n = i;  /* run with the threads we got */
            break;
        }
    }
    return p;
}

static void wake(Pool *p)
{
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

void pool_delete(Pool *p)
{
    if (!p)
        return;
    atomic_store(&p->quit, 1);
    atomic_fetch_add(&p->gen, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}

int pool_threads(const Pool *p) { return p ? p->n : 1; }

void pool_run(Pool *p, PoolFn fn, void *ctx)
{
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->done, 0);
    atomic_fetch_add(&p->gen, 1);
    wake(p);
    fn(ctx, 0, p->n);
    while (atomic_load(&p->done) < p->n - 1)
        _mm_pause();
}

void pool_range(int n, int ith, int nth, int align, int *begin, int *end)
{
    int units = (n + align - 1) / align;
    int b = (int)((long long)units * ith / nth) * align;
    int en = (int)((long long)units * (ith + 1) / nth) * align;
    *begin = b < n ? b : n;
    *end = en < n ? en : n;
}

int pool_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
