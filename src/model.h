/* model.h - the weights of a Llama-family model, loaded from a Hugging Face folder.
 *
 * A Model is read-only after model_load: its matrices point into the
 * memory-mapped safetensors file(s) (model.safetensors, or the shards named
 * by model.safetensors.index.json), so loading costs no copy and several
 * runtimes (inference, training, the workbench's stages) can share one
 * Model.  The small vectors (norms, biases) are converted to F32 into one
 * owned block. */
#ifndef INFUSE_MODEL_H
#define INFUSE_MODEL_H

#include "err.h"
#include "matmul.h"
#include "model_config.h"
#include "safetensors.h"

typedef struct LayerWeights {
    Mat q, k, v, o;         /* [nh*hd, H], [nkv*hd, H], [nkv*hd, H], [H, nh*hd] */
    Mat gate, up, down;     /* [I, H], [I, H], [H, I] */
    float *attn_norm;       /* [H] input_layernorm */
    float *mlp_norm;        /* [H] post_attention_layernorm */
    float *bq, *bk, *bv;    /* [nh*hd], [nkv*hd], [nkv*hd], or NULL */
} LayerWeights;

typedef struct Model {
    ModelConfig cfg;
    char *dir;
    SafeTensors *shards;
    int n_shards;
    Mat embed;              /* [V, H] */
    Mat lm_head;            /* [V, H]; the same data as embed when tied */
    float *final_norm;      /* [H] */
    LayerWeights *layers;   /* [L] */
    float *small;           /* owns every F32 vector above */
    DType dtype;            /* dtype of the layer matrices */
    size_t file_bytes;      /* total size of the weight files */
} Model;

/* Loads config.json and the weights of the folder dir; checks that every
 * tensor the config implies is present with the right shape and a
 * supported dtype. */
int model_load(Model *m, const char *dir, Err *e);
void model_free(Model *m);

/* The mapped tensor called name in any shard, or NULL. */
const StTensor *model_tensor(const Model *m, const char *name);

#endif
