/* model_init.h - writing a randomly initialised model folder.
 *
 * For benchmarks at real shapes without shipping real weights, and as the
 * starting point of full training.  Matrices are N(0, std^2), norms are 1,
 * biases 0 (Hugging Face's initialisation). */
#ifndef INFUSE_MODEL_INIT_H
#define INFUSE_MODEL_INIT_H

#include <stdint.h>
#include "dtype.h"
#include "err.h"
#include "model_config.h"

/* Shape presets: "smollm2-135m", "tiny". 0 if found. */
int model_init_preset(ModelConfig *c, const char *name);

/* Writes dir/config.json and dir/model.safetensors (creating dir). */
int model_init_random(const ModelConfig *c, DType dtype, float std, uint64_t seed, const char *dir, Err *e);

#endif
