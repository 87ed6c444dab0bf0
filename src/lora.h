/* lora.h - LoRA adapters: low-rank updates to the projection matrices.
 *
 * For a target projection W [out, in] the adapted layer computes
 *     y = x W^T + scale * (drop(x) A^T) B^T,   A [r, in], B [out, r],
 * with scale = alpha / r (or alpha / sqrt(r) with rsLoRA), exactly as
 * Hugging Face PEFT does.  PEFT initialisation: A ~ U(-1/sqrt(in),
 * 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)), B = 0, so a new adapter
 * changes nothing until trained.  The base weights are never touched.
 *
 * A Lora owns its matrices, F32, one pair per (layer, target) that is
 * targeted; the pairs of untargeted modules have A == B == NULL. */
#ifndef INFUSE_LORA_H
#define INFUSE_LORA_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model_config.h"

typedef enum LoraTarget {
    LORA_Q, LORA_K, LORA_V, LORA_O, LORA_GATE, LORA_UP, LORA_DOWN, LORA_N_TARGETS
} LoraTarget;

/* All seven projections. */
#define LORA_ALL_TARGETS ((1u << LORA_N_TARGETS) - 1)

typedef struct LoraMat {
    float *A;       /* [r, in] */
    float *B;       /* [out, r] */
    int in, out;
} LoraMat;

typedef struct Lora {
    int rank;
    float alpha;
    float dropout;          /* probability, [0, 1) */
    int rslora;             /* scale alpha/sqrt(r) instead of alpha/r */
    unsigned targets;       /* bit (1 << LoraTarget) per targeted module */
    int n_layers;
    LoraMat *mats;          /* [n_layers * LORA_N_TARGETS] */
} Lora;

/* PEFT's module names: "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
 * "up_proj", "down_proj". */
const char *lora_target_name(LoraTarget t);
/* The target called name (a module name as above, or its short form "q",
 * "k", "v", "o", "gate", "up", "down"); -1 if none. */
int lora_target_parse(const char *name);

/* [in, out] of target t in a model with config c. */
void lora_target_shape(const ModelConfig *c, LoraTarget t, int *in, int *out);

/* A new adapter for a model with config c, initialised as PEFT does from
 * seed.  rank >= 1, targets != 0. */
int lora_init(Lora *l, const ModelConfig *c, int rank, float alpha, float dropout, unsigned targets,
              uint64_t seed, Err *e);
/* Same shapes, rank, alpha, targets, every matrix zero (gradients, moments). */
int lora_init_like(Lora *l, const Lora *like, Err *e);
void lora_free(Lora *l);

/* alpha / r, or alpha / sqrt(r) with rsLoRA. */
static inline float lora_scale(const Lora *l)
{
    return l->rslora ? l->alpha / sqrtf((float)l->rank) : l->alpha / (float)l->rank;
}

/* The pair for (layer, t), or NULL when t is not targeted. */
static inline LoraMat *lora_mat(const Lora *l, int layer, LoraTarget t)
{
    LoraMat *m = &l->mats[layer * LORA_N_TARGETS + (int)t];
    return m->A ? m : NULL;
}

/* y[T, out] += scale (x[T, in] A^T) B^T for the pair on projection t of
 * layer `layer`, if l has one (inference: no dropout).  lu: [T, rank]
 * scratch.  Rank-sized products, on the calling thread. */
void lora_apply(const Lora *l, int layer, LoraTarget t, float *y, int ldy, const float *x, int T, float *lu);

/* Number of trainable parameters. */
size_t lora_params(const Lora *l);

#endif
