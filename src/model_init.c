/* model_init.c - random model folders (see model_init.h). */
#include "model_init.h"
#include "fsutil.h"
#include "rng.h"
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int model_init_preset(ModelConfig *c, const char *name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model_type, sizeof c->model_type, "llama");
    c->norm_eps = 1e-5f;
    c->bos_id = 1;
    c->n_eos = 1;
    c->eos_ids[0] = 2;
    if (strcmp(name, "smollm2-135m") == 0) {
        /* SmolLM2-135M: the reference shape for speed. */
        c->hidden = 576, c->intermediate = 1536, c->n_layers = 30, c->n_heads = 9, c->n_kv_heads = 3;
        c->head_dim = 64, c->vocab = 49152, c->max_pos = 8192, c->rope_theta = 100000, c->tied = 1;
        return 0;
    }
    if (strcmp(name, "base") == 0) {
        /* The bundled base model: about 16M parameters with an 8192-token
         * vocabulary (the tokenizer sets the vocabulary size). */
        c->hidden = 384, c->intermediate = 1024, c->n_layers = 8, c->n_heads = 6, c->n_kv_heads = 2;
        c->head_dim = 64, c->vocab = 8192, c->max_pos = 1024, c->rope_theta = 10000, c->tied = 1;
        return 0;
    }
    if (strcmp(name, "base-large") == 0) {
        /* The base model at the budget: about 29M parameters
         * (58 MB in BF16) with an 8192-token vocabulary. */
        c->hidden = 512, c->intermediate = 1536, c->n_layers = 8, c->n_heads = 8, c->n_kv_heads = 4;
        c->head_dim = 64, c->vocab = 8192, c->max_pos = 1024, c->rope_theta = 10000, c->tied = 1;
        return 0;
    }
    if (strcmp(name, "small") == 0) {
        /* The training issue's small shape (PyTorch reference: 4150 LoRA, 3500 full tokens/s). */
        c->hidden = 256, c->intermediate = 688, c->n_layers = 6, c->n_heads = 8, c->n_kv_heads = 4;
        c->head_dim = 32, c->vocab = 4096, c->max_pos = 2048, c->rope_theta = 10000, c->tied = 1;
        return 0;
    }
    if (strcmp(name, "tiny") == 0) {
        c->hidden = 64, c->intermediate = 160, c->n_layers = 2, c->n_heads = 4, c->n_kv_heads = 2;
        c->head_dim = 16, c->vocab = 320, c->max_pos = 512, c->rope_theta = 10000, c->tied = 1;
        return 0;
    }
    return -1;
}

typedef struct Buf { void *p; } Buf;

int model_init_random(const ModelConfig *c, DType dtype, float std, uint64_t seed, const char *dir, Err *e)
{
    if (fs_mkdirs(dir, e))
        return -1;
    const int L = c->n_layers, H = c->hidden, I = c->intermediate;
    const int Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    size_t cap = (size_t)L * 12 + 4, n = 0;
    StWrite *t = calloc(cap, sizeof *t);
    char **names = calloc(cap, sizeof *names);
    void **data = calloc(cap, sizeof *data);
    if (!t || !names || !data) {
        free(t), free(names), free(data);
        return err_set(e, "%s: out of memory", dir);
    }
    Rng rng;
    rng_seed(&rng, seed);
    int rc = 0;
    float *tmp = NULL;
    size_t tmp_cap = 0;
#define ADD(nm, r, cols, kind) do { \
        size_t ne_ = (size_t)(r) * (size_t)((cols) > 0 ? (cols) : 1); \
        if (ne_ > tmp_cap) { free(tmp); tmp = malloc(ne_ * sizeof *tmp); tmp_cap = ne_; } \
        void *d_ = malloc(ne_ * dtype_size(dtype)); \
        if (!tmp || !d_) { free(d_); rc = err_set(e, "%s: out of memory", dir); goto done; } \
        for (size_t i_ = 0; i_ < ne_; i_++) \
            tmp[i_] = (kind) == 0 ? (float)(rng_normal(&rng) * std) : (kind) == 1 ? 1.0f : 0.0f; \
        dtype_from_f32(d_, tmp, dtype, ne_); \
        names[n] = strdup(nm); data[n] = d_; \
        t[n].name = names[n]; t[n].dtype = dtype; t[n].data = d_; \
        t[n].ndim = (cols) > 0 ? 2 : 1; t[n].shape[0] = (r); t[n].shape[1] = (cols); n++; \
    } while (0)
    ADD("model.embed_tokens.weight", c->vocab, H, 0);
    char nm[160];
    for (int l = 0; l < L; l++) {
#define N(s) (snprintf(nm, sizeof nm, "model.layers.%d.%s", l, s), nm)
        ADD(N("input_layernorm.weight"), H, 0, 1);
        ADD(N("self_attn.q_proj.weight"), Q, H, 0);
        ADD(N("self_attn.k_proj.weight"), KV, H, 0);
        ADD(N("self_attn.v_proj.weight"), KV, H, 0);
        if (c->qkv_bias) {
            ADD(N("self_attn.q_proj.bias"), Q, 0, 2);
            ADD(N("self_attn.k_proj.bias"), KV, 0, 2);
            ADD(N("self_attn.v_proj.bias"), KV, 0, 2);
        }
        ADD(N("self_attn.o_proj.weight"), H, Q, 0);
        ADD(N("post_attention_layernorm.weight"), H, 0, 1);
        ADD(N("mlp.gate_proj.weight"), I, H, 0);
        ADD(N("mlp.up_proj.weight"), I, H, 0);
        ADD(N("mlp.down_proj.weight"), H, I, 0);
#undef N
    }
    ADD("model.norm.weight", H, 0, 1);
    if (!c->tied)
        ADD("lm_head.weight", c->vocab, H, 0);
#undef ADD
    {
        char *p = fs_join(dir, "model.safetensors");
        const char *mk[] = {"format"}, *mv[] = {"pt"};
        rc = safetensors_write(p, t, n, mk, mv, 1, e);
        free(p);
    }
    if (rc == 0) {
        char *p = fs_join(dir, "config.json");
        rc = model_config_save(c, dtype, p, e);
        free(p);
    }
done:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        free(data[i]);
    }
    free(tmp);
    free(t);
    free(names);
    free(data);
    return rc;
}
