/* forward.h - the transformer's forward pass for inference.
 *
 * model_forward() appends T tokens to the sequence in s (positions
 * s->n_past ...), filling the KV cache, and writes logits: for every new
 * position (logits[T, V]) when all is set, else for the last one only
 * (logits[V]).  T > 1 goes through matrix-matrix products (prefill), T == 1
 * through matrix-vector products over the cache (decode). */
#ifndef INFUSE_FORWARD_H
#define INFUSE_FORWARD_H

#include <stdint.h>
#include "runstate.h"

int model_forward(RunState *s, const int32_t *tokens, int T, float *logits, int all, Err *e);

/* One decode step for n sequences at once, each with its own cache,
 * position and adapter (runstate_set_lora) over the same model: tokens[i]
 * goes to seq[i], logits[n, V] come back.  The weights are read once for
 * all n rows, which is what makes comparing stages side by side cheap.
 * seq[0]'s buffers do the work: its t_max must be >= n. */
int model_forward_multi(RunState *const *seq, int n, const int32_t *tokens, float *logits, Err *e);

#endif
