/* train_step.h - one forward and backward pass over a batch, for training.
 *
 * A TrainState holds everything a step needs, sized once for at most B rows
 * of T tokens: the activations the backward reads (per layer: the residual
 * stream, normed inputs and their 1/rms, q/k/v after RoPE, attention
 * probabilities, the attention output, the MLP's gate, up and SwiGLU
 * output, the LoRA down-projections), the logits, and scratch for the
 * gradients flowing back.  Rows are independent sequences starting at
 * position 0 (padding after a row's end only ever attends to itself and
 * carries no loss, so it changes nothing).
 *
 * What is trained is either a LoRA adapter (lora / lora_grad; the model's
 * weights are only read) or every weight (grad, a model of the same layout
 * that receives the gradient of each weight).  The model must be F32: a
 * half-precision base is copied to F32 once (model_clone_f32) before
 * training, so the backward's products are plain SGEMM.
 *
 * The loss of a batch is sum over targets of weight[row] * CE(token), to be
 * divided by the sum of weight[row] over the same targets: train_forward
 * returns both sums, and train_backward accumulates the gradient of
 * scale * (the first sum), so gradient accumulation over micro-batches
 * passes scale = 1 / (the step's total weight). */
#ifndef INFUSE_TRAIN_STEP_H
#define INFUSE_TRAIN_STEP_H

#include <stdint.h>

#include "dataset.h"
#include "lora.h"
#include "model.h"
#include "pool.h"

typedef struct TrainState {
    const Model *m;         /* F32 weights, read */
    Model *grad;            /* full training: receives every weight's gradient; else NULL */
    const Lora *lora;       /* the adapter applied, or NULL */
    Lora *lora_grad;        /* receives the adapter's gradient (NULL: the adapter is frozen) */
    Pool *pool;             /* borrowed */
    int B, T;               /* capacity */
    int b, t;               /* the current batch */
    int training;           /* LoRA dropout on (train_forward sets it from its argument) */
    uint64_t drop_seed;

    /* activations, per layer l (offsets in the arrays are l * B*T * width) */
    float *x;               /* [L+1, BT, H] residual stream entering each layer; x[L] leaves the last */
    float *h;               /* [L, BT, H] after attention's residual add */
    float *xn1, *xn2;       /* [L, BT, H] normed inputs of attention and MLP */
    float *r1, *r2;         /* [L, BT] their 1/rms */
    float *q, *k, *v;       /* [L, BT, Q|KV|KV] after bias and RoPE */
    float *p;               /* [L, B, nh, T, T] attention probabilities */
    float *att;             /* [L, BT, Q] attention output (o_proj's input) */
    float *g, *u, *act;     /* [L, BT, I] gate, up, silu(gate) * up */
    float *lu;              /* [L, 7, BT, r] each adapted projection's x A^T */
    float *xf, *rf;         /* [BT, H], [BT] final norm output and 1/rms */
    float *logits;          /* [BT, V]; the backward turns it into d loss / d logits */
    float *row_loss;        /* [BT] token loss (0 where no target) */

    /* scratch for the backward */
    float *dx, *dh, *dxn, *dq, *dk, *dv, *datt, *dg, *du, *dact;
    float *tmp;             /* [BT, max(H, I, Q)] */
    float *dlu;             /* [BT, r] */
    float *dp;              /* [threads, T, T] */
    float *rope_cos, *rope_sin; /* [T, hd/2] */
} TrainState;

int train_state_init(TrainState *s, const Model *m, const Lora *lora, Lora *lora_grad, Model *grad, Pool *pool,
                     int B, int T, Err *e);
void train_state_free(TrainState *s);
/* Bytes allocated. */
size_t train_state_bytes(const TrainState *s);

/* Forward over the batch (b->B <= B rows, b->T <= T), keeping activations.
 * training turns LoRA dropout on, with masks drawn from drop_seed.  Writes
 * the weighted loss sum and the weight sum (see above); returns 0. */
int train_forward(TrainState *s, const Batch *b, int training, uint64_t drop_seed, double *loss_sum,
                  double *weight_sum, Err *e);

/* Backward of the last train_forward: adds scale * d(loss_sum)/d(param)
 * into grad or lora_grad. */
void train_backward(TrainState *s, const Batch *b, float scale);

#endif
