/* config.h - the project file (infuse.yaml) read into one struct.
 *
 * A Config is caller-owned: config_defaults or config_load fill it,
 * config_free releases every string and array in it (all malloc'd and owned
 * by the struct).  Every key, its meaning and its default are in
 * docs/config.md.  Relative paths in the file are resolved against the
 * file's folder and stored resolved ("proj/infuse.yaml" with
 * `model: models/base` gives "proj/models/base"); absolute paths are kept.
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
    char **warnings;           /* one line each, for the caller to show */
    size_t n_warnings;
} Config;

/* Fills c with every key's default; allocates nothing (so c needs no
 * config_free, though calling it is harmless). */
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
