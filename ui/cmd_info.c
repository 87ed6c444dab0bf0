/* cmd_info.c - `infuse info MODEL [--json]`: what a model folder holds. */
#include "blas_env.h"
#include "cli.h"
#include "model.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_info(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            return cli_fail("info: unexpected argument \"%s\"", argv[i]);
    }
    if (!dir)
        return cli_fail("usage: infuse info MODEL [--json]");
    Err e;
    Model m;
    double t0 = cli_now();
    if (model_load(&m, dir, &e) != 0)
        return cli_fail_err(&e);
    double load_s = cli_now() - t0;
    const ModelConfig *c = &m.cfg;
    long long params = model_config_params(c);
    /* Count dtypes over every tensor in the files. */
    size_t by_dtype[DT_COUNT] = {0};
    size_t n_tensors = 0;
    for (int s = 0; s < m.n_shards; s++)
        for (size_t i = 0; i < m.shards[s].n; i++) {
            by_dtype[m.shards[s].tensors[i].dtype] += m.shards[s].tensors[i].nelem;
            n_tensors++;
        }
    int ctx = c->max_pos < 4096 ? c->max_pos : 4096;
    double kv_mb = 2.0 * c->n_layers * ctx * c->n_kv_heads * c->head_dim * 4 / 1048576.0;
    if (json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "model", dir);
        cJSON_AddStringToObject(r, "model_type", c->model_type);
        cJSON_AddNumberToObject(r, "hidden_size", c->hidden);
        cJSON_AddNumberToObject(r, "intermediate_size", c->intermediate);
        cJSON_AddNumberToObject(r, "num_hidden_layers", c->n_layers);
        cJSON_AddNumberToObject(r, "num_attention_heads", c->n_heads);
        cJSON_AddNumberToObject(r, "num_key_value_heads", c->n_kv_heads);
        cJSON_AddNumberToObject(r, "head_dim", c->head_dim);
        cJSON_AddNumberToObject(r, "vocab_size", c->vocab);
        cJSON_AddNumberToObject(r, "max_position_embeddings", c->max_pos);
        cJSON_AddNumberToObject(r, "rope_theta", c->rope_theta);
        cJSON_AddNumberToObject(r, "rms_norm_eps", c->norm_eps);
        cJSON_AddBoolToObject(r, "tie_word_embeddings", c->tied);
        cJSON_AddBoolToObject(r, "qkv_bias", c->qkv_bias);
        cJSON_AddNumberToObject(r, "parameters", (double)params);
        cJSON_AddNumberToObject(r, "tensors", (double)n_tensors);
        cJSON *dt = cJSON_AddObjectToObject(r, "dtypes");
        for (int d = 0; d < DT_COUNT; d++)
            if (by_dtype[d])
                cJSON_AddNumberToObject(dt, dtype_name((DType)d), (double)by_dtype[d]);
        cJSON_AddNumberToObject(r, "file_bytes", (double)m.file_bytes);
        cJSON_AddNumberToObject(r, "kv_cache_mb", kv_mb);
        cJSON_AddNumberToObject(r, "kv_cache_positions", ctx);
        cJSON_AddNumberToObject(r, "load_seconds", load_s);
        char *s = cJSON_Print(r);
        puts(s);
        free(s);
        cJSON_Delete(r);
    } else {
        printf("model        %s (%s)\n", dir, c->model_type);
        printf("layers       %d   hidden %d   ffn %d\n", c->n_layers, c->hidden, c->intermediate);
        printf("heads        %d query, %d key/value (GQA %d:1), head_dim %d\n", c->n_heads, c->n_kv_heads,
               c->n_heads / c->n_kv_heads, c->head_dim);
        printf("vocab        %d   context %d   rope_theta %g%s   rms_norm_eps %g\n", c->vocab, c->max_pos,
               c->rope_theta, c->rope_factor > 0 ? " (llama3 scaling)" : "", c->norm_eps);
        printf("embeddings   %s   q/k/v bias %s\n", c->tied ? "tied" : "separate lm_head",
               c->qkv_bias ? "yes" : "no");
        printf("parameters   %lld (%.1f M)\n", params, params / 1e6);
        printf("tensors      %zu in %d file(s), %.1f MB on disk:", n_tensors, m.n_shards, m.file_bytes / 1048576.0);
        for (int d = 0; d < DT_COUNT; d++)
            if (by_dtype[d])
                printf(" %s %.1f M", dtype_name((DType)d), by_dtype[d] / 1e6);
        printf("\n");
        printf("memory       weights mapped %.1f MB; KV cache %.1f MB at %d positions (F32)\n",
               m.file_bytes / 1048576.0, kv_mb, ctx);
        printf("load         %.3f s\n", load_s);
    }
    model_free(&m);
    return 0;
}
