/* cmd_bench_train.c - `infuse bench-train`: training speed on this machine.
 *
 * Times whole optimizer steps (forward, backward, AdamW) on seeded random
 * tokens, as PyTorch users measure a training loop: tokens/s, GFLOP/s
 * counted as 6 x matrix parameters x tokens for full training (forward,
 * input gradients, weight gradients) and 4 x for LoRA (no weight gradients
 * for the frozen base) plus attention, the share of the SGEMM peak measured
 * at the step's own shape, and the process's peak memory. */
#include "adamw.h"
#include "bench.h"
#include "cli.h"
#include "lora.h"
#include "model.h"
#include "rng.h"
#include "train_step.h"
#include "trainable.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_bench_train(int argc, char **argv)
{
    const char *dir = NULL;
    long threads = cli_default_threads(), B = 4, T = 256, rank = 8, steps = 3;
    int full = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-m") == 0 && v)
            dir = argv[++i];
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--full") == 0)
            full = 1;
        else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
            if (cli_int(a, v, 1, 256, &threads))
                return 1;
            i++;
        } else if (strcmp(a, "--batch") == 0) {
            if (cli_int(a, v, 1, 4096, &B))
                return 1;
            i++;
        } else if (strcmp(a, "--seq") == 0) {
            if (cli_int(a, v, 2, 65536, &T))
                return 1;
            i++;
        } else if (strcmp(a, "--lora-rank") == 0) {
            if (cli_int(a, v, 1, 4096, &rank))
                return 1;
            i++;
        } else if (strcmp(a, "--steps") == 0) {
            if (cli_int(a, v, 1, 1000, &steps))
                return 1;
            i++;
        } else
            return cli_fail("bench-train: unexpected argument \"%s\"", a);
    }
    if (!dir)
        return cli_fail("usage: infuse bench-train -m MODEL [--lora-rank R | --full] [--batch B] [--seq T] "
                        "[--steps N] [--threads N] [--json]");
    Err e;
    Model base;
    Trainable tr;
    if (model_load(&base, dir, &e) != 0)
        return cli_fail_err(&e);
    int rc = trainable_init(&tr, &base, full, (int)rank, 2.0f * rank, 0.0f, LORA_ALL_TARGETS, 0, NULL, 1, &e);
    model_free(&base);
    if (rc != 0)
        return cli_fail_err(&e);
    const ModelConfig *c = &tr.w.cfg;
    Pool *pool = pool_new((int)threads);
    TrainState s;
    if (train_state_init(&s, &tr.w, full ? NULL : &tr.lw, full ? NULL : &tr.lg, full ? &tr.g : NULL, pool, (int)B,
                         (int)T, &e) != 0) {
        pool_delete(pool);
        trainable_free(&tr);
        return cli_fail_err(&e);
    }
    AdamW opt = {0.9, 0.999, 1e-8, 0.0, 0};

    Batch b = {.B = (int)B, .T = (int)T, .tok = calloc((size_t)(B * T), sizeof(int32_t)),
               .mask = calloc((size_t)(B * T), 1), .weight = malloc(sizeof(float) * (size_t)B),
               .len = malloc(sizeof(int) * (size_t)B)};
    Rng rng;
    rng_seed(&rng, 1);
    for (long i = 0; i < B * T; i++) {
        b.tok[i] = (int32_t)(rng_next(&rng) % (uint64_t)c->vocab);
        b.mask[i] = i % T != 0;
    }
    for (long i = 0; i < B; i++)
        b.weight[i] = 1, b.len[i] = (int)T;

    double peak = bench_gemm_peak(pool, (int)(B * T), c->intermediate, c->hidden);
    double best = 1e30, loss = 0, phase[3] = {0};
    for (long st = -1; st < steps; st++) {  /* step -1 warms up */
        double t0 = cli_now(), ls, ws;
        train_forward(&s, &b, 1, (uint64_t)st, &ls, &ws, &e);
        double t1 = cli_now();
        train_backward(&s, &b, (float)(1.0 / ws));
        double t2 = cli_now();
        adamw_step(&opt, pool, tr.p, tr.n, 1e-5, clip_factor(grad_norm(pool, tr.p, tr.n), 1.0));
        double t = cli_now() - t0;
        if (st >= 0 && t < best) {
            best = t;
            phase[0] = t1 - t0, phase[1] = t2 - t1, phase[2] = t0 + t - t2;
        }
        loss = ls / ws;
    }
    double tokens = (double)(B * T);
    double mp = bench_matrix_params(c) + (double)c->vocab * c->hidden, attn = 4.0 * c->n_layers * c->n_heads * c->head_dim * (double)T / 2;
    double flops_tok = (full ? 6 : 4) * mp + 3 * attn;
    double tps = tokens / best, gf = flops_tok * tokens / best / 1e9;
    double rss = bench_peak_rss();
    if (json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "model", dir);
        cJSON_AddStringToObject(r, "mode", full ? "full" : "lora");
        if (!full)
            cJSON_AddNumberToObject(r, "lora_rank", (double)rank);
        cJSON_AddNumberToObject(r, "batch", (double)B);
        cJSON_AddNumberToObject(r, "seq", (double)T);
        cJSON_AddNumberToObject(r, "threads", (double)pool_threads(pool));
        cJSON_AddNumberToObject(r, "tokens_per_s", tps);
        cJSON_AddNumberToObject(r, "gflops", gf);
        cJSON_AddNumberToObject(r, "gemm_peak_gflops", peak);
        cJSON_AddNumberToObject(r, "share_of_peak", gf / peak);
        cJSON_AddNumberToObject(r, "peak_memory_bytes", rss);
        cJSON_AddNumberToObject(r, "step_seconds", best);
        cJSON_AddNumberToObject(r, "loss", loss);
        char *str = cJSON_Print(r);
        puts(str);
        free(str);
        cJSON_Delete(r);
    } else {
        printf("model     %s: %.1f M parameters; %s", dir, model_config_params(c) / 1e6,
               full ? "full training" : "LoRA");
        if (!full)
            printf(" rank %ld on all 7 projections (%.2f M trainable)", rank, lora_params(&tr.lw) / 1e6);
        printf("\nbatch     %ld x %ld tokens, %d threads; SGEMM peak %.1f GFLOP/s at %ldx%dx%d\n", B, T,
               pool_threads(pool), peak, B * T, c->intermediate, c->hidden);
        printf("step      %.3f s (best of %ld): %.1f tokens/s, %.1f GFLOP/s (%.0f%% of peak)\n", best, steps, tps,
               gf, 100 * gf / peak);
        printf("phases    forward %.3f s, backward %.3f s, optimizer %.3f s\n", phase[0], phase[1], phase[2]);
        printf("memory    peak %.2f GiB (activations %.2f GiB)\n", rss / 1073741824.0,
               train_state_bytes(&s) / 1073741824.0);
    }
    free(b.tok), free(b.mask), free(b.weight), free(b.len);
    train_state_free(&s);
    pool_delete(pool);
    trainable_free(&tr);
    return 0;
}
