/* config.h - the project file (infuse.yaml) read into one struct.
 *
 * A Config is caller-owned: config_defaults or config_load fill it,
 * config_free releases every string and array in it (all malloc'd and owned
 * by the struct).  Every key, its meaning and its default are in
 * docs/config.md.  Relative paths in the file are resolved against the
 * file's folder and stored resolved ("proj/infuse.yaml" with
 * `model: models/base` gives "proj/models/base"); absolute paths are kept.
 *
 * The train: section has one ConfigStage per training stage (cpt, sft).
 * Some of their defaults come from elsewhere in the file and are filled in
 * by config_load / config_load_optional after the whole file is read, so
 * key order does not matter: a stage's data defaults to data.corpus (cpt)
 * or data.qa (sft), its output to adapters/cpt or adapters/sft and
 * train.runs to runs (both resolved like written paths: under the yaml's
 * folder), its seed to sampling.seed and its threads (when 0) to the
 * top-level threads.  config_defaults leaves those paths NULL.
 *
 * Errors are one line, "FILE:LINE:COLUMN: key.name: problem" (1-based),
 * for YAML syntax, wrong types, out-of-range values, unknown chat templates,
 * duplicate keys and the like.  Unknown keys are not errors: they become
 * warnings in c->warnings ("infuse.yaml:12:3: unknown key \"modle\"
 * (ignored; did you mean \"model\"?)") for the caller to show. */
#ifndef INFUSE_CONFIG_H
#define INFUSE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "err.h"
#include "sampler.h"

/* The default project file, looked up in the current folder. */
#define CONFIG_DEFAULT_PATH "infuse.yaml"

typedef struct ConfigAdapter {
    char *name;  /* stage name, e.g. "sft" */
    char *path;  /* PEFT adapter folder, resolved */
} ConfigAdapter;

typedef enum ConfigSchedule { CONFIG_SCHEDULE_COSINE, CONFIG_SCHEDULE_CONSTANT } ConfigSchedule;

/* Where a stage's trainable weights start from. */
typedef enum ConfigInit {
    CONFIG_INIT_BASE,   /* a new adapter (PEFT init) on the base model */
    CONFIG_INIT_CPT,    /* the cpt stage's output when it exists, else as BASE */
    CONFIG_INIT_PATH,   /* the adapter folder init_path */
} ConfigInit;

typedef struct ConfigLora {
    int rank;               /* >= 1 */
    float alpha;            /* > 0 */
    float dropout;          /* [0, 1) */
    unsigned targets;       /* bit (1 << LoraTarget) per module (lora.h); never 0 */
    int rslora;             /* scale alpha / sqrt(rank) */
} ConfigLora;

/* One training stage; docs/config.md says what each key does. */
typedef struct ConfigStage {
    char **data;            /* files / folders, resolved; none if unset and no default */
    size_t n_data;
    char *valid;            /* held-out file; NULL = split valid_fraction off data */
    float valid_fraction;   /* [0, 0.5] */
    char *output;           /* adapter folder (with full: a model folder) */
    int epochs;             /* >= 1; used when steps is 0 */
    int steps;              /* >= 0; optimizer steps, 0 = epochs decide */
    int batch;              /* >= 1 examples per micro-batch */
    int grad_accum;         /* >= 1 micro-batches per step */
    int seq_len;            /* >= 2 tokens */
    int group_by_length;    /* batches of like-length examples; default on for sft */
    float lr;               /* > 0, peak learning rate */
    ConfigSchedule schedule;
    int warmup;             /* >= 0 steps of linear warm-up */
    float min_lr_ratio;     /* [0, 1]: cosine floor as a fraction of lr */
    float weight_decay;     /* >= 0 (AdamW, decoupled) */
    float beta1, beta2;     /* [0, 1) */
    float eps;              /* > 0 */
    float grad_clip;        /* >= 0: global norm limit, 0 = off */
    int full;               /* 1: train every weight instead of LoRA */
    ConfigLora lora;
    ConfigInit init_from;   /* sft only; cpt always starts from BASE */
    char *init_path;        /* with CONFIG_INIT_PATH, resolved; else NULL */
    int mask_prompt;        /* sft only: loss on answers only */
    float golden_weight;    /* sft only: >= 0, loss weight of Golden Data */
    int golden_repeat;      /* sft only: >= 1, times Golden Data is in each epoch */
    int augment;            /* sft only: copies of each pair with question words dropped (augment.h) */
    float augment_drop;     /* sft only: each word's chance of being dropped */
    int eval_every;         /* >= 0 steps; 0 = only at the end */
    int save_every;         /* >= 0 steps; 0 = only at the end */
    int patience;           /* >= 0 evaluations without improvement; 0 = never stop early */
    float min_delta;        /* >= 0: the least validation-loss drop that counts */
    uint64_t seed;
    int threads;            /* >= 0; 0 = all cores */
} ConfigStage;

typedef struct ConfigTrain {
    ConfigStage cpt, sft;
    char *runs_dir;         /* run logs, resolved */
} ConfigTrain;

typedef struct Config {
    char *path;                /* file it was read from, NULL for defaults */
    char *model;               /* model folder (HF layout), NULL = not set */
    ConfigAdapter *adapters;   /* in file order, names unique */
    size_t n_adapters;
    char *corpus, *qa, *golden, *eval; /* data paths, NULL = not set */
    ChatTemplate chat_template;
    char *system_prompt;       /* NULL = none */
    float temperature;         /* >= 0; 0 = greedy */
    int top_k;                 /* >= 0; 0 = off */
    float top_p;               /* (0, 1] */
    float repeat_penalty;      /* > 0; 1 = off */
    int repeat_last_n;         /* >= 0; 0 = off */
    int max_tokens;            /* >= 1 */
    uint64_t seed;
    char **stop;               /* extra stop strings, none empty */
    size_t n_stop;
    int threads;               /* >= 0; 0 = all cores */
    ConfigTrain train;
    char **warnings;           /* one line each, for the caller to show */
    size_t n_warnings;
} Config;

/* Fills c with every key's default; allocates nothing (so c needs no
 * config_free, though calling it is harmless), so the path defaults that
 * depend on the file's folder (see above) stay NULL. */
void config_defaults(Config *c);

/* Defaults, then the file at path over them.  c is overwritten, not freed
 * first.  A missing file is an error.  On failure c holds nothing (as after
 * config_free) and e names file, line, column and problem. */
int config_load(Config *c, const char *path, Err *e);

/* Like config_load, but a file that does not exist is not an error: c gets
 * the defaults (c->path stays NULL) and the result is 0.  Returns 1 when the
 * file was read, -1 on error.  The CLI uses it for the default infuse.yaml
 * and config_load for an explicit -c FILE. */
int config_load_optional(Config *c, const char *path, Err *e);

void config_free(Config *c);

/* The folder of the adapter with this stage name, or NULL. */
const char *config_adapter(const Config *c, const char *name);

/* The sampling section as sampler parameters. */
void config_sampler_params(const Config *c, SamplerParams *p);

#endif
