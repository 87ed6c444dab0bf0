/* model_config.c - config.json reading and writing (see model_config.h). */
#include "model_config.h"
#include "fsutil.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads an integer key; missing keys take def (or fail when def < -1e9). */
static int get_int(const cJSON *root, const char *key, long long def, int *out, const char *path, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        if (def < -1000000000LL)
            return err_set(e, "%s: missing key \"%s\"", path, key);
        *out = (int)def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 2e9)
        return err_set(e, "%s: \"%s\" must be an integer", path, key);
    *out = (int)v->valuedouble;
    return 0;
}

static int get_float(const cJSON *root, const char *key, double def, float *out, const char *path, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = (float)def;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return err_set(e, "%s: \"%s\" must be a number", path, key);
    *out = (float)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *root, const char *key, int def, int *out, const char *path, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(v))
        return err_set(e, "%s: \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int parse_rope_scaling(ModelConfig *c, const cJSON *rs, const char *path, Err *e)
{
    if (!rs || cJSON_IsNull(rs))
        return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    if (!type)
        type = cJSON_GetObjectItemCaseSensitive(rs, "type");
    if (!cJSON_IsString(type))
        return err_set(e, "%s: rope_scaling has no rope_type", path);
    if (strcmp(type->valuestring, "default") == 0)
        return 0;
    if (strcmp(type->valuestring, "llama3") != 0)
        return err_set(e, "%s: rope_scaling type \"%s\" is not supported (only llama3)", path, type->valuestring);
    if (get_float(rs, "factor", 8.0, &c->rope_factor, path, e) ||
        get_float(rs, "low_freq_factor", 1.0, &c->rope_low_freq, path, e) ||
        get_float(rs, "high_freq_factor", 4.0, &c->rope_high_freq, path, e) ||
        get_int(rs, "original_max_position_embeddings", 8192, &c->rope_orig_max_pos, path, e))
        return -1;
    return 0;
}

int model_config_parse(ModelConfig *c, const char *json, const char *path, Err *e)
{
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = json; at && p < at && *p; p++)
            line += *p == '\n';
        cJSON_Delete(root);
        return err_set(e, "%s:%d: malformed JSON", path, line);
    }
    int rc = -1;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) {
        err_set(e, "%s: missing \"model_type\"", path);
        goto out;
    }
    snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    int is_llama = strcmp(mt->valuestring, "llama") == 0;
    int is_qwen2 = strcmp(mt->valuestring, "qwen2") == 0;
    if (!is_llama && !is_qwen2) {
        err_set(e, "%s: model_type \"%s\" is not supported (llama, qwen2)", path, mt->valuestring);
        goto out;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0)) {
        err_set(e, "%s: hidden_act must be \"silu\"", path);
        goto out;
    }
    const long long REQ = -2000000000LL;
    if (get_int(root, "hidden_size", REQ, &c->hidden, path, e) ||
        get_int(root, "intermediate_size", REQ, &c->intermediate, path, e) ||
        get_int(root, "num_hidden_layers", REQ, &c->n_layers, path, e) ||
        get_int(root, "num_attention_heads", REQ, &c->n_heads, path, e) ||
        get_int(root, "vocab_size", REQ, &c->vocab, path, e) ||
        get_int(root, "max_position_embeddings", 2048, &c->max_pos, path, e) ||
        get_float(root, "rms_norm_eps", 1e-6, &c->norm_eps, path, e) ||
        get_float(root, "rope_theta", 10000.0, &c->rope_theta, path, e) ||
        get_bool(root, "tie_word_embeddings", 0, &c->tied, path, e) ||
        get_bool(root, "mlp_bias", 0, &c->mlp_bias, path, e))
        goto out;
    if (c->hidden <= 0 || c->intermediate <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->vocab <= 0 ||
        c->max_pos <= 0) {
        err_set(e, "%s: sizes must be positive", path);
        goto out;
    }
    if (get_int(root, "num_key_value_heads", c->n_heads, &c->n_kv_heads, path, e) ||
        get_int(root, "head_dim", c->hidden / c->n_heads, &c->head_dim, path, e))
        goto out;
    if (c->n_kv_heads <= 0 || c->n_heads % c->n_kv_heads != 0) {
        err_set(e, "%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", path,
                c->n_heads, c->n_kv_heads);
        goto out;
    }
    if (c->head_dim <= 0 || c->head_dim % 2 != 0) {
        err_set(e, "%s: head_dim %d must be positive and even", path, c->head_dim);
        goto out;
    }
    if (c->mlp_bias) {
        err_set(e, "%s: mlp_bias is not supported", path);
        goto out;
    }
    int attn_bias = 0;
    if (get_bool(root, "attention_bias", 0, &attn_bias, path, e))
        goto out;
    c->qkv_bias = is_qwen2 || attn_bias;
    c->o_bias = is_llama && attn_bias;
    if (c->o_bias) {
        err_set(e, "%s: attention_bias on o_proj is not supported", path);
        goto out;
    }
    if (parse_rope_scaling(c, cJSON_GetObjectItemCaseSensitive(root, "rope_scaling"), path, e))
        goto out;
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(root, "use_sliding_window");
    if (cJSON_IsTrue(sw)) {
        err_set(e, "%s: use_sliding_window is not supported", path);
        goto out;
    }
    if (get_int(root, "bos_token_id", -1, &c->bos_id, path, e))
        goto out;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(root, "eos_token_id");
    if (cJSON_IsNumber(eos)) {
        c->eos_ids[c->n_eos++] = eos->valueint;
    } else if (cJSON_IsArray(eos)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, eos) {
            if (!cJSON_IsNumber(it)) {
                err_set(e, "%s: eos_token_id entries must be integers", path);
                goto out;
            }
            if (c->n_eos < MODEL_MAX_EOS)
                c->eos_ids[c->n_eos++] = it->valueint;
        }
    } else if (eos && !cJSON_IsNull(eos)) {
        err_set(e, "%s: eos_token_id must be an integer or a list", path);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int model_config_load(ModelConfig *c, const char *path, Err *e)
{
    char *json = fs_read_all(path, NULL, e);
    if (!json)
        return -1;
    int rc = model_config_parse(c, json, path, e);
    free(json);
    return rc;
}

int model_config_save(const ModelConfig *c, DType dt, const char *path, Err *e)
{
    cJSON *r = cJSON_CreateObject();
    int qwen = strcmp(c->model_type, "qwen2") == 0;
    cJSON *arch = cJSON_AddArrayToObject(r, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    cJSON_AddStringToObject(r, "model_type", c->model_type);
    cJSON_AddNumberToObject(r, "hidden_size", c->hidden);
    cJSON_AddNumberToObject(r, "intermediate_size", c->intermediate);
    cJSON_AddNumberToObject(r, "num_hidden_layers", c->n_layers);
    cJSON_AddNumberToObject(r, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(r, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(r, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(r, "vocab_size", c->vocab);
    cJSON_AddNumberToObject(r, "max_position_embeddings", c->max_pos);
    cJSON_AddNumberToObject(r, "rms_norm_eps", c->norm_eps);
    cJSON_AddNumberToObject(r, "rope_theta", c->rope_theta);
    cJSON_AddBoolToObject(r, "tie_word_embeddings", c->tied);
    if (!qwen)
        cJSON_AddBoolToObject(r, "attention_bias", c->qkv_bias);
    cJSON_AddStringToObject(r, "hidden_act", "silu");
    if (c->bos_id >= 0)
        cJSON_AddNumberToObject(r, "bos_token_id", c->bos_id);
    if (c->n_eos == 1)
        cJSON_AddNumberToObject(r, "eos_token_id", c->eos_ids[0]);
    else if (c->n_eos > 1)
        cJSON_AddItemToObject(r, "eos_token_id", cJSON_CreateIntArray(c->eos_ids, c->n_eos));
    cJSON_AddStringToObject(r, "torch_dtype", dt == DT_BF16 ? "bfloat16" : dt == DT_F16 ? "float16" : "float32");
    char *s = cJSON_Print(r);
    cJSON_Delete(r);
    if (!s)
        return err_set(e, "%s: out of memory", path);
    size_t len = strlen(s);
    s[len] = '\n';
    const void *p[1] = {s};
    size_t l[1] = {len + 1};
    int rc = fs_write_atomic(path, p, l, 1, e);
    free(s);
    return rc;
}

long long model_config_params(const ModelConfig *c)
{
    long long H = c->hidden, I = c->intermediate, hd = c->head_dim;
    long long q = (long long)c->n_heads * hd, kv = (long long)c->n_kv_heads * hd;
    long long layer = H * q + 2 * H * kv + q * H + 3 * H * I + 2 * H;
    if (c->qkv_bias)
        layer += q + 2 * kv;
    long long n = (long long)c->vocab * H * (c->tied ? 1 : 2) + H + layer * c->n_layers;
    return n;
}
