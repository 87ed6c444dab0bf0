/* model_config.h - the blueprint of a model, read from Hugging Face config.json.
 *
 * Supported: LlamaForCausalLM (model_type "llama", with optional
 * attention_bias and Llama 3 rope_scaling) and Qwen2ForCausalLM
 * (model_type "qwen2": bias on q, k and v).  Anything else is refused with
 * a message that names the key, rather than computed wrongly. */
#ifndef INFUSE_MODEL_CONFIG_H
#define INFUSE_MODEL_CONFIG_H

#include "dtype.h"
#include "err.h"

#define MODEL_MAX_EOS 8

typedef struct ModelConfig {
    char model_type[32];
    int hidden;         /* hidden_size */
    int intermediate;   /* intermediate_size */
    int n_layers;
    int n_heads;
    int n_kv_heads;
    int head_dim;       /* head_dim if given, else hidden / n_heads */
    int vocab;
    int max_pos;        /* max_position_embeddings */
    float norm_eps;
    float rope_theta;
    int tied;           /* tie_word_embeddings */
    int qkv_bias;       /* Qwen2, or Llama's attention_bias */
    int o_bias;         /* Llama's attention_bias also biases o_proj */
    int mlp_bias;       /* Llama's mlp_bias */
    /* Llama 3 rope scaling (rope_type "llama3"); factor 0 = none. */
    float rope_factor, rope_low_freq, rope_high_freq;
    int rope_orig_max_pos;
    int bos_id;         /* -1 if none */
    int eos_ids[MODEL_MAX_EOS];
    int n_eos;
} ModelConfig;

/* Parses config.json text; path only names the file in messages. */
int model_config_parse(ModelConfig *c, const char *json, const char *path, Err *e);
int model_config_load(ModelConfig *c, const char *path, Err *e);
/* Writes c as a Hugging Face config.json (atomic); torch_dtype names dt,
 * the dtype of the weights saved beside it. */
int model_config_save(const ModelConfig *c, DType dt, const char *path, Err *e);

/* Parameter count of the whole model. */
long long model_config_params(const ModelConfig *c);

#endif
