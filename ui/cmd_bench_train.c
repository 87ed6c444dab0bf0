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
#include "model_params.h"
#include "rng.h"
#include "train_step.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double matrix_params(const ModelConfig *c)
{
    double H = c->hidden, I = c->intermediate, Q = (double)c->n_heads * c->head_dim;
    double KV = (double)c->n_kv_heads * c->head_dim;
    return c->n_layers * (H * Q * 2 + 2 * H * KV + 3 * H * I) + (double)c->vocab * H;
}

/* The optimizer's view of what is trained. */
static int collect(Model *w, Model *g, Model *m1, Model *m2, Lora *lw, Lora *lg, Lora *l1, Lora *l2, OptParam **out)
{
    int n = 0;
    OptParam *p;
    if (lw) {
        p = calloc((size_t)lw->n_layers * LORA_N_TARGETS * 2, sizeof *p);
        for (int l = 0; l < lw->n_layers; l++)
            for (int t = 0; t < LORA_N_TARGETS; t++) {
                LoraMat *a = lora_mat(lw, l, (LoraTarget)t);
                if (!a)
                    continue;
                LoraMat *b = lora_mat(lg, l, (LoraTarget)t), *c = lora_mat(l1, l, (LoraTarget)t),
                        *d = lora_mat(l2, l, (LoraTarget)t);
                size_t na = (size_t)lw->rank * (size_t)a->in, nb = (size_t)a->out * (size_t)lw->rank;
                p[n++] = (OptParam){a->A, b->A, c->A, d->A, na, 1};
                p[n++] = (OptParam){a->B, b->B, c->B, d->B, nb, 1};
            }
    } else {
        int np = model_param_count(&w->cfg);
        ModelParam *a = malloc(sizeof *a * (size_t)np * 4);
        model_params(w, a);
        model_params(g, a + np);
        model_params(m1, a + 2 * np);
        model_params(m2, a + 3 * np);
        p = calloc((size_t)np, sizeof *p);
        for (int i = 0; i < np; i++)
            p[n++] = (OptParam){a[i].w, a[np + i].w, a[2 * np + i].w, a[3 * np + i].w,
                                (size_t)a[i].rows * (size_t)(a[i].cols ? a[i].cols : 1), a[i].decay};
        free(a);
    }
    *out = p;
    return n;
}

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
    Model base, m, g = {0}, m1 = {0}, m2 = {0};
    Lora lw = {0}, lg = {0}, l1 = {0}, l2 = {0};
    if (model_load(&base, dir, &e) != 0)
        return cli_fail_err(&e);
    int rc = model_clone_f32(&m, &base, 0, &e);
    model_free(&base);
    if (rc != 0)
        return cli_fail_err(&e);
    const ModelConfig *c = &m.cfg;
    if (full) {
        if (model_clone_f32(&g, &m, 1, &e) || model_clone_f32(&m1, &m, 1, &e) || model_clone_f32(&m2, &m, 1, &e))
            return cli_fail_err(&e);
    } else if (lora_init(&lw, c, (int)rank, 2.0f * rank, 0.0f, LORA_ALL_TARGETS, 1, &e) ||
               lora_init_like(&lg, &lw, &e) || lora_init_like(&l1, &lw, &e) || lora_init_like(&l2, &lw, &e))
        return cli_fail_err(&e);
    Pool *pool = pool_new((int)threads);
    TrainState s;
    if (train_state_init(&s, &m, full ? NULL : &lw, full ? NULL : &lg, full ? &g : NULL, pool, (int)B, (int)T,
                         &e) != 0)
        return cli_fail_err(&e);
    OptParam *op;
    int nop = collect(&m, &g, &m1, &m2, full ? NULL : &lw, &lg, &l1, &l2, &op);
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
        adamw_step(&opt, pool, op, nop, 1e-5, clip_factor(grad_norm(pool, op, nop), 1.0));
        double t = cli_now() - t0;
        if (st >= 0 && t < best) {
            best = t;
            phase[0] = t1 - t0, phase[1] = t2 - t1, phase[2] = t0 + t - t2;
        }
        loss = ls / ws;
    }
    double tokens = (double)(B * T);
    double mp = matrix_params(c), attn = 4.0 * c->n_layers * c->n_heads * c->head_dim * (double)T / 2;
    double flops_tok = (full ? 6 : 4) * mp + (full ? 3 : 3) * attn;
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
            printf(" rank %ld on all 7 projections (%.2f M trainable)", rank, lora_params(&lw) / 1e6);
        printf("\nbatch     %ld x %ld tokens, %d threads; SGEMM peak %.1f GFLOP/s at %ldx%dx%d\n", B, T,
               pool_threads(pool), peak, B * T, c->intermediate, c->hidden);
        printf("step      %.3f s (best of %ld): %.1f tokens/s, %.1f GFLOP/s (%.0f%% of peak)\n", best, steps, tps,
               gf, 100 * gf / peak);
        printf("phases    forward %.3f s, backward %.3f s, optimizer %.3f s\n", phase[0], phase[1], phase[2]);
        printf("memory    peak %.2f GiB (activations %.2f GiB)\n", rss / 1073741824.0,
               train_state_bytes(&s) / 1073741824.0);
    }
    free(b.tok), free(b.mask), free(b.weight), free(b.len);
    free(op);
    train_state_free(&s);
    pool_delete(pool);
    lora_free(&lw), lora_free(&lg), lora_free(&l1), lora_free(&l2);
    if (full)
        model_free(&g), model_free(&m1), model_free(&m2);
    model_free(&m);
    return 0;
}
