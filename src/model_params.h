/* model_params.h - a model's tensors as a list, and owned F32 copies.
 *
 * Full training, its gradients and optimizer moments, merging an adapter
 * and saving a model all need to visit every weight by its Hugging Face
 * name.  model_params() lists them in a fixed order; model_clone_f32()
 * makes a model whose weights live in memory it owns (F32, writable), with
 * the same layout, so a gradient "model" has exactly the shapes of the
 * weights. */
#ifndef INFUSE_MODEL_PARAMS_H
#define INFUSE_MODEL_PARAMS_H

#include "lora.h"
#include "model.h"

typedef struct ModelParam {
    char name[96];      /* Hugging Face name */
    float *w;           /* F32 data (writable for a clone) */
    long rows, cols;    /* a vector has cols == 0 */
    int decay;          /* weight decay applies: matrices yes, norms and biases no */
} ModelParam;

/* Number of tensors of a model with config c (the tied LM head counts once). */
int model_param_count(const ModelConfig *c);
/* Fills out[model_param_count()] for m, whose matrices must be F32 (a clone). */
void model_params(const Model *m, ModelParam *out);

/* dst = an owned F32 copy of src (zero: all weights 0 instead, for
 * gradients and moments).  dst->dir is src's. */
int model_clone_f32(Model *dst, const Model *src, int zero, Err *e);

/* Writes config.json and model.safetensors (weights converted to dt: F32,
 * BF16 or F16) into dir, creating it; each file atomic.  meta (may be
 * NULL) is added to the safetensors metadata as key/value pairs. */
int model_save(const Model *m, const char *dir, DType dt, const char *const *meta_keys,
               const char *const *meta_vals, size_t n_meta, Err *e);

/* Copies tokenizer.json and, when present, tokenizer_config.json,
 * special_tokens_map.json and generation_config.json from one model folder
 * to another (each atomically), so a saved model folder is whole. */
int model_copy_tokenizer(const char *src_dir, const char *dst_dir, Err *e);

/* W += scale * B A for every pair of the adapter: the adapter folded into
 * the weights of m (an F32 clone), as PEFT's merge_and_unload does. */
int model_merge_lora(Model *m, const Lora *l, Err *e);

#endif
