/* runstate.h - the mutable side of inference: activations and the KV cache.
 *
 * A RunState is sized once for a model, a context length (ctx positions of
 * KV cache) and a chunk length (t_max tokens per forward call; longer
 * prompts are fed in chunks), then reused for every token: nothing is
 * allocated inside model_forward.  One RunState is one sequence; the model
 * it reads is shared and read-only. */
#ifndef INFUSE_RUNSTATE_H
#define INFUSE_RUNSTATE_H

#include "err.h"
#include "lora.h"
#include "matmul.h"
#include "model.h"
#include "pool.h"

typedef struct RunState {
    const Model *m;
    Pool *pool;             /* borrowed */
    Matmul mm;
    int ctx, t_max;
    int n_past;             /* positions already in the cache */
    float *x;               /* [t_max, H] residual stream */
    float *xn;              /* [t_max, H] normed input / projection output */
    float *q;               /* [t_max, nh*hd] */
    float *att;             /* [t_max, nh*hd] */
    float *hg, *hu;         /* [t_max, I] */
    float *kc, *vc;         /* [L, ctx, nkv*hd] */
    float *scores;          /* [threads, t_max, ctx] */
    float *rope_cos, *rope_sin; /* [ctx, hd/2] */
    const Lora *lora;       /* adapter applied to every projection, or NULL (borrowed) */
    float *lu;              /* [t_max, lora rank] */
    int lu_rank;
} RunState;

/* ctx <= 0 takes min(max_position_embeddings, 4096); t_max <= 0 takes 256. */
int runstate_init(RunState *s, const Model *m, Pool *pool, int ctx, int t_max, Err *e);
void runstate_free(RunState *s);
/* Applies the adapter l (NULL: none) from the next forward on; it must be
 * made for this model's shapes.  Also forgets the cached positions, which
 * were computed with the previous adapter. */
int runstate_set_lora(RunState *s, const Lora *l, Err *e);

/* Forgets the cached positions (a new sequence). */
void runstate_reset(RunState *s);
/* Bytes the state holds. */
size_t runstate_bytes(const RunState *s);

#endif
