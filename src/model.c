/* model.c - loading and checking a Hugging Face model folder (see model.h). */
#include "model.h"
#include "fsutil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_shards(Model *m, Err *e)
{
    char *single = fs_join(m->dir, "model.safetensors");
    if (fs_exists(single)) {
        m->shards = calloc(1, sizeof *m->shards);
        if (!m->shards) {
            free(single);
            return err_set(e, "%s: out of memory", m->dir);
        }
        int rc = safetensors_open(&m->shards[0], single, e);
        free(single);
        if (rc)
            return -1;
        m->n_shards = 1;
        return 0;
    }
    free(single);
    char *index = fs_join(m->dir, "model.safetensors.index.json");
    if (!fs_exists(index)) {
        err_set(e, "%s: no model.safetensors (nor model.safetensors.index.json)", m->dir);
        free(index);
        return -1;
    }
    char *json = fs_read_all(index, NULL, e);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    free(json);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        err_set(e, "%s: malformed JSON or no weight_map", index);
        free(index);
        return -1;
    }
    free(index);
    /* Distinct file names, in order of first appearance. */
    int cap = cJSON_GetArraySize(map);
    char **files = calloc((size_t)cap + 1, sizeof *files);
    int nf = 0, rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, map) {
        if (!cJSON_IsString(it) || strchr(it->valuestring, '/')) {
            rc = err_set(e, "%s/model.safetensors.index.json: bad file name for \"%s\"", m->dir, it->string);
            break;
        }
        int seen = 0;
        for (int i = 0; i < nf && !seen; i++)
            seen = strcmp(files[i], it->valuestring) == 0;
        if (!seen)
            files[nf++] = it->valuestring;
    }
    if (rc == 0) {
        m->shards = calloc((size_t)nf + 1, sizeof *m->shards);
        for (int i = 0; i < nf && rc == 0; i++) {
            char *p = fs_join(m->dir, files[i]);
            rc = safetensors_open(&m->shards[i], p, e);
            free(p);
            if (rc == 0)
                m->n_shards++;
        }
    }
    free(files);
    cJSON_Delete(root);
    return rc;
}

const StTensor *model_tensor(const Model *m, const char *name)
{
    for (int i = 0; i < m->n_shards; i++) {
        const StTensor *t = safetensors_find(&m->shards[i], name);
        if (t)
            return t;
    }
    return NULL;
}

static const StTensor *need(const Model *m, const char *name, int64_t d0, int64_t d1, Err *e)
{
    const StTensor *t = model_tensor(m, name);
    if (!t) {
        err_set(e, "%s: tensor \"%s\" is missing", m->dir, name);
        return NULL;
    }
    if (t->dtype != DT_F32 && t->dtype != DT_F16 && t->dtype != DT_BF16) {
        err_set(e, "%s: tensor \"%s\" has dtype %s (F32, F16 or BF16 expected)", m->dir, name, dtype_name(t->dtype));
        return NULL;
    }
    int ok = d1 < 0 ? (t->ndim == 1 && t->shape[0] == d0) : (t->ndim == 2 && t->shape[0] == d0 && t->shape[1] == d1);
    if (!ok) {
        char got[96] = "";
        size_t k = 0;
        for (int i = 0; i < t->ndim && k < sizeof got - 24; i++)
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        if (d1 < 0)
            err_set(e, "%s: tensor \"%s\" has shape [%s], config.json implies [%lld]", m->dir, name, got,
                    (long long)d0);
        else
            err_set(e, "%s: tensor \"%s\" has shape [%s], config.json implies [%lld, %lld]", m->dir, name, got,
                    (long long)d0, (long long)d1);
        return NULL;
    }
    return t;
}

static int get_mat(const Model *m, Mat *out, const char *name, int rows, int cols, Err *e)
{
    const StTensor *t = need(m, name, rows, cols, e);
    if (!t)
        return -1;
    out->dtype = t->dtype;
    out->data = t->data;
    out->rows = rows;
    out->cols = cols;
    return 0;
}

/* Copies a vector tensor into the owned F32 block at *cursor. */
static int get_vec(const Model *m, float **out, float **cursor, const char *name, int n, Err *e)
{
    const StTensor *t = need(m, name, n, -1, e);
    if (!t)
        return -1;
    dtype_to_f32(*cursor, t->data, t->dtype, (size_t)n);
    *out = *cursor;
    *cursor += n;
    return 0;
}

int model_load(Model *m, const char *dir, Err *e)
{
    memset(m, 0, sizeof *m);
    m->dir = strdup(dir);
    if (!fs_is_dir(dir)) {
        err_set(e, "%s: not a model folder", dir);
        goto fail;
    }
    char *cfg_path = fs_join(dir, "config.json");
    int rc = model_config_load(&m->cfg, cfg_path, e);
    free(cfg_path);
    if (rc || open_shards(m, e))
        goto fail;
    const ModelConfig *c = &m->cfg;
    const int H = c->hidden, I = c->intermediate, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    size_t per_layer = 2 * (size_t)H + (c->qkv_bias ? (size_t)Q + 2 * (size_t)KV : 0);
    m->small = malloc(((size_t)H + per_layer * (size_t)c->n_layers) * sizeof(float));
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->small || !m->layers) {
        err_set(e, "%s: out of memory", dir);
        goto fail;
    }
    float *cur = m->small;
    if (get_mat(m, &m->embed, "model.embed_tokens.weight", c->vocab, H, e) ||
        get_vec(m, &m->final_norm, &cur, "model.norm.weight", H, e))
        goto fail;
    if (c->tied)
        m->lm_head = m->embed;
    else if (get_mat(m, &m->lm_head, "lm_head.weight", c->vocab, H, e))
        goto fail;
    for (int l = 0; l < c->n_layers; l++) {
        LayerWeights *w = &m->layers[l];
        char n[160];
#define NAME(s) (snprintf(n, sizeof n, "model.layers.%d.%s", l, s), n)
        if (get_mat(m, &w->q, NAME("self_attn.q_proj.weight"), Q, H, e) ||
            get_mat(m, &w->k, NAME("self_attn.k_proj.weight"), KV, H, e) ||
            get_mat(m, &w->v, NAME("self_attn.v_proj.weight"), KV, H, e) ||
            get_mat(m, &w->o, NAME("self_attn.o_proj.weight"), H, Q, e) ||
            get_mat(m, &w->gate, NAME("mlp.gate_proj.weight"), I, H, e) ||
            get_mat(m, &w->up, NAME("mlp.up_proj.weight"), I, H, e) ||
            get_mat(m, &w->down, NAME("mlp.down_proj.weight"), H, I, e) ||
            get_vec(m, &w->attn_norm, &cur, NAME("input_layernorm.weight"), H, e) ||
            get_vec(m, &w->mlp_norm, &cur, NAME("post_attention_layernorm.weight"), H, e))
            goto fail;
        if (c->qkv_bias &&
            (get_vec(m, &w->bq, &cur, NAME("self_attn.q_proj.bias"), Q, e) ||
             get_vec(m, &w->bk, &cur, NAME("self_attn.k_proj.bias"), KV, e) ||
             get_vec(m, &w->bv, &cur, NAME("self_attn.v_proj.bias"), KV, e)))
            goto fail;
#undef NAME
    }
    m->dtype = m->layers[0].q.dtype;
    for (int i = 0; i < m->n_shards; i++)
        m->file_bytes += m->shards[i].map_size;
    return 0;
fail:
    model_free(m);
    return -1;
}

void model_free(Model *m)
{
    for (int i = 0; i < m->n_shards; i++)
        safetensors_close(&m->shards[i]);
    free(m->shards);
    free(m->layers);
    free(m->small);
    free(m->dir);
    memset(m, 0, sizeof *m);
}
