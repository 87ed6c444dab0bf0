/* bench_peak.c - the SGEMM rate this machine reaches, for "share of peak". */
#include "bench.h"
#include "cli.h"
#include "gemm.h"
#include "rng.h"

#include <stdlib.h>

double bench_gemm_peak(Pool *pool, int M, int N, int K)
{
    float *x = malloc(sizeof(float) * (size_t)M * K), *w = malloc(sizeof(float) * (size_t)N * K);
    float *y = malloc(sizeof(float) * (size_t)M * N);
    double best = 0;
    if (x && w && y) {
        Rng rng;
        rng_seed(&rng, 7);
        for (long i = 0; i < (long)M * K; i++)
            x[i] = (float)rng_uniform(&rng);
        for (long i = 0; i < (long)N * K; i++)
            w[i] = (float)rng_uniform(&rng);
        /* about 0.1 s per repetition */
        int it = (int)(3e10 / (2.0 * M * N * K)) + 1;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = cli_now();
            for (int i = 0; i < it; i++)
                gemm_nt(pool, M, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
            double g = 2.0 * M * N * K * it / (cli_now() - t0) / 1e9;
            best = g > best ? g : best;
        }
    }
    free(x), free(w), free(y);
    return best;
}

#include <sys/resource.h>

double bench_peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

double bench_matrix_params(const ModelConfig *c)
{
    double H = c->hidden, I = c->intermediate, Q = (double)c->n_heads * c->head_dim;
    double KV = (double)c->n_kv_heads * c->head_dim;
    return c->n_layers * (H * Q * 2 + 2 * H * KV + 3 * H * I);
}
