/* trainer.h - a training run: batches, optimizer steps, validation,
 * checkpoints and resume, under a caller's progress callback.
 *
 * The caller (the command line, the workbench) loads the base model and the
 * datasets and calls train_run(); it returns when the run ends, is stopped
 * or fails.  Every step the callback receives a TrainProgress and answers
 * whether to go on, pause (the trainer calls again every 100 ms until the
 * answer changes) or stop.
 *
 * On disk, under opts->run_dir:
 *   metrics.jsonl       one JSON object per step (and per validation)
 *   checkpoint.safetensors  the trained tensors, AdamW moments and the
 *                       step / data-order state, written atomically every
 *                       save_every steps and at the end; --resume continues
 *                       from it bit for bit (same seed, same threads)
 *   best/               the adapter (or model) with the lowest validation loss
 * and the result in opts->output: a PEFT adapter folder (LoRA) or a model
 * folder (full training).  A NaN or infinite loss stops the run with an
 * error and leaves the last checkpoint as it was. */
#ifndef INFUSE_TRAINER_H
#define INFUSE_TRAINER_H

#include <stdint.h>

#include "adamw.h"
#include "adapter.h"
#include "dataset.h"
#include "model.h"

typedef struct TrainOptions {
    const char *stage;          /* "cpt" / "sft": recorded in the adapter */
    const char *base_name;      /* base_model_name_or_path to record */
    const char *output;         /* adapter folder (LoRA) or model folder (full) */
    const char *run_dir;        /* metrics, checkpoint, best/ */
    int full;                   /* train every weight */
    int lora_rank;
    float lora_alpha, lora_dropout;
    unsigned lora_targets;
    int rslora;
    const char *init_adapter;   /* LoRA: start from this adapter folder, or NULL */
    int batch, grad_accum, seq_len;
    int group_by_length;        /* batches of like-length examples (batcher_group) */
    long steps;                 /* > 0: this many optimizer steps */
    int epochs;                 /* else this many passes over the data */
    double lr, min_lr_ratio, weight_decay, beta1, beta2, eps, grad_clip;
    Schedule schedule;
    long warmup;
    long eval_every, save_every; /* 0: only at the end */
    int patience;               /* early stopping after this many evaluations without improvement; 0 off */
    double min_delta;
    uint64_t seed;
    int threads;
    int resume;                 /* continue from run_dir's checkpoint */
    DType save_dtype;           /* full training: dtype of the saved model */
} TrainOptions;

/* Defaults for every field (the same as infuse.yaml's, docs/config.md). */
void train_options_defaults(TrainOptions *o);

typedef struct TrainProgress {
    long step, total_steps;     /* optimizer steps done / planned */
    long epoch;
    double loss;                /* this step's training loss */
    double valid_loss;          /* the latest validation loss, NAN before the first */
    int evaluated;              /* this call reports a new validation loss */
    double best_valid_loss;
    double lr, grad_norm;
    double tokens_per_s;        /* over the run so far */
    long tokens;                /* training tokens seen */
    double elapsed_s, eta_s;
    int paused;                 /* the trainer is waiting for the answer to change */
    const char *message;        /* a line for the log, or NULL */
} TrainProgress;

typedef enum { TRAIN_GO, TRAIN_PAUSE, TRAIN_STOP } TrainAction;
typedef TrainAction (*TrainCallback)(void *ctx, const TrainProgress *p);

typedef struct TrainResult {
    long steps;
    double train_loss, valid_loss, best_valid_loss;
    double elapsed_s;
    int stopped;                /* by the callback */
    int early_stopped;
} TrainResult;

/* base: the model as loaded (any dtype; copied to F32 inside).  valid may
 * be NULL or empty (no validation).  cb may be NULL. */
int train_run(const TrainOptions *o, const Model *base, const Dataset *train, const Dataset *valid,
              TrainCallback cb, void *ctx, TrainResult *res, Err *e);

#endif
