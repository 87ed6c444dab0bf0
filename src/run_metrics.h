/* run_metrics.h - a training run's metrics.jsonl read back (trainer.h
 * writes it): the loss curves of a finished or interrupted run, which the
 * workbench draws faintly behind the run in progress.
 *
 * Ownership: a RunMetrics is caller-owned ({0}); run_metrics_free
 * releases its arrays. */
#ifndef INFUSE_RUN_METRICS_H
#define INFUSE_RUN_METRICS_H

#include <stddef.h>

#include "err.h"

typedef struct RunMetrics {
    long *step;             /* [n] training steps */
    double *loss;           /* [n] their training loss */
    size_t n;
    long *valid_step;       /* [n_valid] steps with a validation */
    double *valid_loss;     /* [n_valid] */
    size_t n_valid;
} RunMetrics;

/* Reads path.  A line that is not a step record (torn by a crash, or of
 * another kind) is skipped: the curve is for looking at, and a run killed
 * mid-write still has every earlier step. */
int run_metrics_load(RunMetrics *m, const char *path, Err *e);
void run_metrics_free(RunMetrics *m);

#endif
