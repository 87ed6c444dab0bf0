/* model_params.c - listing, cloning and saving a model's weights (see model_params.h). */
#include "model_params.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int model_param_count(const ModelConfig *c)
{
    return 2 + !c->tied + c->n_layers * (9 + (c->qkv_bias ? 3 : 0));
}

static void put(ModelParam *p, const char *name, const void *w, long rows, long cols, int decay)
{
    snprintf(p->name, sizeof p->name, "%s", name);
    p->w = (float *)w;
    p->rows = rows, p->cols = cols, p->decay = decay;
}

void model_params(const Model *m, ModelParam *out)
{
    const ModelConfig *c = &m->cfg;
    const int H = c->hidden, I = c->intermediate, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    int k = 0;
    put(&out[k++], "model.embed_tokens.weight", m->embed.data, c->vocab, H, 1);
    if (!c->tied)
        put(&out[k++], "lm_head.weight", m->lm_head.data, c->vocab, H, 1);
    put(&out[k++], "model.norm.weight", m->final_norm, H, 0, 0);
    for (int l = 0; l < c->n_layers; l++) {
        const LayerWeights *w = &m->layers[l];
        char n[96];
#define P(s, p, r, cl, d) (snprintf(n, sizeof n, "model.layers.%d.%s", l, s), put(&out[k++], n, p, r, cl, d))
        P("self_attn.q_proj.weight", w->q.data, Q, H, 1);
        P("self_attn.k_proj.weight", w->k.data, KV, H, 1);
        P("self_attn.v_proj.weight", w->v.data, KV, H, 1);
        P("self_attn.o_proj.weight", w->o.data, H, Q, 1);
        P("mlp.gate_proj.weight", w->gate.data, I, H, 1);
        P("mlp.up_proj.weight", w->up.data, I, H, 1);
        P("mlp.down_proj.weight", w->down.data, H, I, 1);
        P("input_layernorm.weight", w->attn_norm, H, 0, 0);
        P("post_attention_layernorm.weight", w->mlp_norm, H, 0, 0);
        if (c->qkv_bias) {
            P("self_attn.q_proj.bias", w->bq, Q, 0, 0);
            P("self_attn.k_proj.bias", w->bk, KV, 0, 0);
            P("self_attn.v_proj.bias", w->bv, KV, 0, 0);
        }
#undef P
    }
}

static size_t numel(const ModelParam *p) { return (size_t)p->rows * (size_t)(p->cols ? p->cols : 1); }

int model_clone_f32(Model *dst, const Model *src, int zero, Err *e)
{
    const ModelConfig *c = &src->cfg;
    memset(dst, 0, sizeof *dst);
    dst->cfg = *c;
    dst->dir = strdup(src->dir ? src->dir : "");
    dst->dtype = DT_F32;
    dst->layers = calloc((size_t)c->n_layers, sizeof *dst->layers);
    int np = model_param_count(c);
    ModelParam *sp = malloc(sizeof *sp * (size_t)np);
    if (!dst->layers || !sp || !dst->dir)
        goto oom;
    /* The list gives the sizes; the data is read through the Mats, since
     * the source may be mapped half precision. */
    size_t total = 0;
    model_params(src, sp);
    for (int i = 0; i < np; i++)
        total += numel(&sp[i]);
    float *block = zero ? calloc(total, sizeof(float)) : malloc(total * sizeof(float));
    if (!block)
        goto oom;
    /* Lay the clone out in list order: matrices and vectors alike. */
    float *cur = block;
#define MAT(dm, sm) do { \
        (dm).dtype = DT_F32, (dm).rows = (sm).rows, (dm).cols = (sm).cols, (dm).data = cur; \
        if (!zero) dtype_to_f32(cur, (sm).data, (sm).dtype, (size_t)(sm).rows * (size_t)(sm).cols); \
        cur += (size_t)(sm).rows * (size_t)(sm).cols; \
    } while (0)
#define VEC(dv, sv, n) do { \
        (dv) = cur; \
        if (!zero) memcpy(cur, (sv), sizeof(float) * (size_t)(n)); \
        cur += (n); \
    } while (0)
    const int Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    MAT(dst->embed, src->embed);
    if (c->tied)
        dst->lm_head = dst->embed;
    else
        MAT(dst->lm_head, src->lm_head);
    VEC(dst->final_norm, src->final_norm, c->hidden);
    for (int l = 0; l < c->n_layers; l++) {
        const LayerWeights *s = &src->layers[l];
        LayerWeights *d = &dst->layers[l];
        MAT(d->q, s->q);
        MAT(d->k, s->k);
        MAT(d->v, s->v);
        MAT(d->o, s->o);
        MAT(d->gate, s->gate);
        MAT(d->up, s->up);
        MAT(d->down, s->down);
        VEC(d->attn_norm, s->attn_norm, c->hidden);
        VEC(d->mlp_norm, s->mlp_norm, c->hidden);
        if (c->qkv_bias) {
            VEC(d->bq, s->bq, Q);
            VEC(d->bk, s->bk, KV);
            VEC(d->bv, s->bv, KV);
        }
    }
#undef MAT
#undef VEC
    dst->small = block;   /* owns everything */
    dst->file_bytes = total * sizeof(float);
    free(sp);
    return 0;
oom:
    free(sp);
    model_free(dst);
    return err_set(e, "out of memory copying the model's weights to F32");
}

int model_save(const Model *m, const char *dir, DType dt, const char *const *meta_keys,
               const char *const *meta_vals, size_t n_meta, Err *e)
{
    if (m->dtype != DT_F32)
        return err_set(e, "model_save: the model must be an F32 copy");
    if (fs_mkdirs(dir, e) != 0)
        return -1;
    int np = model_param_count(&m->cfg);
    ModelParam *p = malloc(sizeof *p * (size_t)np);
    StWrite *t = calloc((size_t)np, sizeof *t);
    void **conv = calloc((size_t)np, sizeof *conv);
    int rc = -1;
    if (!p || !t || !conv) {
        err_set(e, "out of memory");
        goto out;
    }
    model_params(m, p);
    for (int i = 0; i < np; i++) {
        size_t n = numel(&p[i]);
        t[i].name = p[i].name;
        t[i].dtype = dt;
        t[i].ndim = p[i].cols ? 2 : 1;
        t[i].shape[0] = p[i].rows;
        t[i].shape[1] = p[i].cols;
        if (dt == DT_F32) {
            t[i].data = p[i].w;
            continue;
        }
        conv[i] = malloc(n * dtype_size(dt));
        if (!conv[i]) {
            err_set(e, "out of memory");
            goto out;
        }
        dtype_from_f32(conv[i], p[i].w, dt, n);
        t[i].data = conv[i];
    }
    char *cfg_path = fs_join(dir, "config.json"), *st_path = fs_join(dir, "model.safetensors");
    rc = model_config_save(&m->cfg, dt, cfg_path, e);
    if (rc == 0)
        rc = safetensors_write(st_path, t, (size_t)np, meta_keys, meta_vals, n_meta, e);
    free(cfg_path);
    free(st_path);
out:
    if (conv)
        for (int i = 0; i < np; i++)
            free(conv[i]);
    free(conv);
    free(t);
    free(p);
    return rc;
}

int model_copy_tokenizer(const char *src_dir, const char *dst_dir, Err *e)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                         "generation_config.json"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *src = fs_join(src_dir, names[i]), *dst = fs_join(dst_dir, names[i]);
        int rc = 0;
        if (!src || !dst)
            rc = err_set(e, "out of memory");
        else if (fs_exists(src))
            rc = fs_copy_file(src, dst, e);
        free(src);
        free(dst);
        if (rc)
            return -1;
    }
    return 0;
}
