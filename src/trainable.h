/* trainable.h - what a run trains, with its gradients and AdamW moments.
 *
 * Either a LoRA adapter over a frozen base or every weight of the model;
 * either way the optimizer sees one flat list of named tensors (OptParam:
 * weights, gradient, first and second moment), which is also what a
 * checkpoint stores.  The names are those of the saved files: PEFT adapter
 * keys for LoRA, Hugging Face weight names for full training. */
#ifndef INFUSE_TRAINABLE_H
#define INFUSE_TRAINABLE_H

#include "adamw.h"
#include "lora.h"
#include "model.h"

typedef struct Trainable {
    int full;
    Model w;                /* F32 copy of the base: read by the step; trained when full */
    Model g, m1, m2;        /* full: gradient and moments, same layout */
    Lora lw, lg, l1, l2;    /* LoRA: adapter, gradient and moments */
    OptParam *p;            /* n tensors */
    char (*names)[96];
    int n;
} Trainable;

/* full = 0: a LoRA adapter, loaded from init_adapter when not NULL (its
 * rank, alpha, targets and dropout win), else new with the given settings
 * (PEFT initialisation from seed). */
int trainable_init(Trainable *t, const Model *base, int full, int rank, float alpha, float dropout,
                   unsigned targets, int rslora, const char *init_adapter, uint64_t seed, Err *e);
void trainable_free(Trainable *t);
void trainable_zero_grad(Trainable *t);

/* Writes weights and moments ("w.NAME", "m.NAME", "v.NAME") with metadata
 * key/value pairs into one safetensors file, atomically. */
int trainable_save(const Trainable *t, const char *path, const char *const *keys, const char *const *vals,
                   size_t n_meta, Err *e);
/* Reads them back; every tensor must be present with its size.  The
 * metadata stays readable through *st until safetensors_close (the caller
 * closes it). */
struct SafeTensors;
int trainable_load(Trainable *t, const char *path, struct SafeTensors *st, Err *e);

#endif
