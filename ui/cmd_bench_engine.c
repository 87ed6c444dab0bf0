/* cmd_bench_engine.c - `infuse bench-engine`: inference speed on this machine.
 *
 * Reports what a user compares against llama.cpp's llama-bench: prefill
 * tokens/s for a P-token prompt (pp) and decode tokens/s for G tokens from
 * an empty cache (tg), plus GFLOP/s and the SGEMM peak measured here, so
 * the share of the machine the engine uses is visible.  Token ids are
 * seeded random: speed does not depend on them, and no tokenizer is needed. */
#include "bench.h"
#include "blas_env.h"
#include "cli.h"
#include "forward.h"
#include "model.h"
#include "rng.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read bandwidth over the model's own mapped weights, split over the pool:
 * decode reads every weight once per token, so this is its ceiling, and
 * on a shared machine it moves from run to run (seen here: 31-65 GB/s). */
typedef struct {
    const Model *m;
    _Atomic unsigned long long sink;
} ReadJob;

static void read_task(void *arg, int ith, int nth)
{
    ReadJob *j = arg;
    unsigned long long acc[8] = {0};
    for (int sh = 0; sh < j->m->n_shards; sh++) {
        const SafeTensors *st = &j->m->shards[sh];
        size_t words = st->map_size / 64 * 8;
        int w0, w1;
        pool_range((int)(words / 4096), ith, nth, 1, &w0, &w1);
        const unsigned long long *p = st->map;
        for (size_t i = (size_t)w0 * 4096; i < (size_t)w1 * 4096; i += 8)
            for (int k = 0; k < 8; k++)
                acc[k] ^= p[i + k];
    }
    unsigned long long x = 0;
    for (int k = 0; k < 8; k++)
        x ^= acc[k];
    j->sink ^= x;
}

static double read_bandwidth(const Model *m, Pool *pool)
{
    ReadJob j = {m, 0};
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = cli_now();
        pool_run(pool, read_task, &j);
        double gbs = (double)m->file_bytes / (cli_now() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    return best;
}

int cmd_bench_engine(int argc, char **argv)
{
    const char *dir = NULL;
    long threads = cli_default_threads(), P = 128, G = 128, reps = 3;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-m") == 0 && v)
            dir = argv[++i];
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
            if (cli_int(a, v, 1, 256, &threads))
                return 1;
            i++;
        } else if (strcmp(a, "--prompt") == 0) {
            if (cli_int(a, v, 1, 8192, &P))
                return 1;
            i++;
        } else if (strcmp(a, "--gen") == 0) {
            if (cli_int(a, v, 1, 8192, &G))
                return 1;
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            if (cli_int(a, v, 1, 100, &reps))
                return 1;
            i++;
        } else
            return cli_fail("bench-engine: unexpected argument \"%s\"", a);
    }
    if (!dir)
        return cli_fail("usage: infuse bench-engine -m MODEL [--threads N] [--prompt 128] [--gen 128] [--reps 3] [--json]");
    Err e;
    Model m;
    double t0 = cli_now();
    if (model_load(&m, dir, &e) != 0)
        return cli_fail_err(&e);
    double load_s = cli_now() - t0;
    const ModelConfig *c = &m.cfg;
    Pool *pool = pool_new((int)threads);
    RunState s;
    int ctx = (int)(P > G ? P : G) + 1;
    if (runstate_init(&s, &m, pool, ctx, (int)P, &e) != 0) {
        pool_delete(pool);
        model_free(&m);
        return cli_fail_err(&e);
    }
    int32_t *tok = malloc(sizeof *tok * (size_t)(P > G ? P : G));
    float *logits = malloc(sizeof *logits * (size_t)c->vocab);
    Rng rng;
    rng_seed(&rng, 1);
    for (long i = 0; i < (P > G ? P : G); i++)
        tok[i] = (int32_t)(rng_next(&rng) % (uint64_t)c->vocab);

    double peak = bench_gemm_peak(pool, 128, 1536, 576);  /* a prefill-like shape */
    double bw = read_bandwidth(&m, pool);
    /* Warm-up touches every page of the mapped weights once. */
    model_forward(&s, tok, (int)P, logits, 0, &e);
    double pp_best = 1e30, tg_best = 1e30;
    for (long r = 0; r < reps; r++) {
        runstate_reset(&s);
        double a = cli_now();
        model_forward(&s, tok, (int)P, logits, 0, &e);
        double t = cli_now() - a;
        pp_best = t < pp_best ? t : pp_best;
    }
    for (long r = 0; r < reps; r++) {
        runstate_reset(&s);
        double a = cli_now();
        for (long g = 0; g < G; g++)
            model_forward(&s, &tok[g], 1, logits, 0, &e);
        double t = cli_now() - a;
        tg_best = t < tg_best ? t : tg_best;
    }
    double mp = bench_matrix_params(c), hd = c->head_dim, nh = c->n_heads;
    double attn_pp = 4.0 * c->n_layers * nh * hd * (P * (P + 1) / 2.0);
    double pp_flops = 2.0 * mp * P + attn_pp + 2.0 * c->vocab * c->hidden;
    double tg_flops = (2.0 * mp + 2.0 * c->vocab * c->hidden) * G + 4.0 * c->n_layers * nh * hd * (G * (G + 1) / 2.0);
    double pp_tps = P / pp_best, tg_tps = G / tg_best;
    double pp_gf = pp_flops / pp_best / 1e9, tg_gf = tg_flops / tg_best / 1e9;
    double bytes_tok = (double)m.file_bytes - (c->tied ? 0 : 0);
    double tg_gbs = bytes_tok * G / tg_best / 1e9;
    const char *core = blas_env_corename();
    if (json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "model", dir);
        cJSON_AddNumberToObject(r, "parameters", (double)model_config_params(c));
        cJSON_AddStringToObject(r, "dtype", dtype_name(m.dtype));
        cJSON_AddStringToObject(r, "blas_core", core);
        cJSON_AddNumberToObject(r, "threads", (double)pool_threads(pool));
        cJSON_AddNumberToObject(r, "load_seconds", load_s);
        cJSON_AddNumberToObject(r, "gemm_peak_gflops", peak);
        cJSON_AddNumberToObject(r, "read_bandwidth_gb_per_s", bw);
        cJSON_AddNumberToObject(r, "prefill_tokens", (double)P);
        cJSON_AddNumberToObject(r, "prefill_tokens_per_s", pp_tps);
        cJSON_AddNumberToObject(r, "prefill_gflops", pp_gf);
        cJSON_AddNumberToObject(r, "decode_tokens", (double)G);
        cJSON_AddNumberToObject(r, "decode_tokens_per_s", tg_tps);
        cJSON_AddNumberToObject(r, "decode_gflops", tg_gf);
        cJSON_AddNumberToObject(r, "decode_weight_gb_per_s", tg_gbs);
        char *str = cJSON_Print(r);
        puts(str);
        free(str);
        cJSON_Delete(r);
    } else {
        printf("model     %s: %.1f M parameters, %s weights, %.1f MB\n", dir, model_config_params(c) / 1e6,
               dtype_name(m.dtype), m.file_bytes / 1048576.0);
        printf("machine   OpenBLAS core %s, %d threads; SGEMM peak %.1f GFLOP/s (128x1536x576)\n", core,
               pool_threads(pool), peak);
        printf("memory    reading the weights: %.1f GB/s, so decode can reach %.1f tokens/s at most\n", bw,
               bw * 1e9 / (double)m.file_bytes);
        printf("load      %.3f s\n", load_s);
        printf("prefill   %ld tokens: %8.1f tokens/s  %6.1f GFLOP/s (%.0f%% of peak)\n", P, pp_tps, pp_gf,
               100 * pp_gf / peak);
        printf("decode    %ld tokens: %8.1f tokens/s  %6.1f GFLOP/s  %.1f GB/s of weights (%.0f%% of memory)\n", G,
               tg_tps, tg_gf, tg_gbs, 100 * tg_gbs / bw);
    }
    free(tok);
    free(logits);
    runstate_free(&s);
    pool_delete(pool);
    model_free(&m);
    return 0;
}
