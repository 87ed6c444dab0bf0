/* adapter.h - LoRA adapters on disk in Hugging Face PEFT's layout.
 *
 * A folder with
 *   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha",
 *                               "lora_dropout", "target_modules": [...],
 *                               "base_model_name_or_path", "use_rslora",
 *                               "bias": "none", "task_type": "CAUSAL_LM", ...,
 *                               "infuse": { our training record }}
 *   adapter_model.safetensors  base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight [r, in]
 *                              base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight [out, r]
 *                              (mlp.gate_proj / up_proj / down_proj likewise), F32, F16 or BF16
 * Adapters written by PEFT load too; what infuse cannot apply (DoRA,
 * rank_pattern / alpha_pattern, modules_to_save, bias other than "none",
 * target modules other than the seven projections, layers_to_transform, an
 * initialisation that rewrote the base weights: PiSSA, OLoRA, LoftQ, CorDA)
 * is an error naming the file and the key, never silently ignored. */
#ifndef INFUSE_ADAPTER_H
#define INFUSE_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "lora.h"
#include "model_config.h"

/* What infuse records about how an adapter was made (all optional when
 * loading; an adapter made elsewhere has none of it). */
typedef struct AdapterRecord {
    char stage[16];             /* "cpt", "sft", or "" */
    char data_sha256[65];       /* of the training data as read, hex; "" = unknown */
    char valid_sha256[65];
    long steps;                 /* optimizer steps taken */
    long tokens;                /* training tokens seen */
    double train_loss;          /* last smoothed training loss; NAN = unknown */
    double valid_loss;          /* last validation loss; NAN = unknown */
    uint64_t seed;
    double elapsed_s;
    char created[32];           /* UTC, ISO 8601 */
} AdapterRecord;

/* Writes dir/adapter_config.json and dir/adapter_model.safetensors, each
 * atomically (temp file, fsync, rename), creating dir if needed.
 * base_model is what goes into base_model_name_or_path (the base folder as
 * given); rec may be NULL. */
int adapter_save(const Lora *l, const char *dir, const char *base_model, const AdapterRecord *rec, Err *e);

/* Reads the adapter in dir for a model with config c: every tensor must be
 * present with the shape c implies for its module (an adapter for another
 * base shape is an error naming the tensor, its shape and the expected one).
 * rec (may be NULL) receives the training record, zeroed / NAN when absent. */
int adapter_load(Lora *l, const char *dir, const ModelConfig *c, AdapterRecord *rec, Err *e);

/* SHA-256 of the file adapter_model.safetensors in dir, as 64 hex digits,
 * for "which adapter exactly" in benchmarks and logs. */
int adapter_hash(const char *dir, char out[65], Err *e);

#endif
