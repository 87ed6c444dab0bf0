/* config.c - reading infuse.yaml with libyaml's document API (the key list
 * and rules are in config.h and docs/config.md).
 *
 * The file is read into memory, loaded as one YAML document, and walked
 * against tables of known keys: one table per section, each entry naming the
 * key, its kind, where it lives and its allowed range.  Offsets are
 * relative to the struct the table describes: Config for the top level
 * and the sections that live in it directly (data, chat, sampling), and a
 * K_SECTION with an offset moves the base into a member struct (train ->
 * ConfigTrain, train.cpt -> ConfigStage, lora -> ConfigLora).  A new
 * section (bench:) is a new table plus one K_SECTION line in top_keys.
 * Defaults that depend on other keys are filled in after the walk
 * (finish).  Every message carries the 1-based line and column of the node
 * it is about; libyaml's marks are 0-based. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lora.h"

#define CONFIG_MAX_BYTES (16u << 20)

typedef enum {
    K_PATH,     /* string, resolved against the file's folder; not empty */
    K_STRING,   /* string; null = NULL */
    K_FLOAT,    /* float in [lo, hi] (open ends by flags) */
    K_INT,      /* int in [lo, hi] */
    K_U64,      /* unsigned 64-bit integer */
    K_TEMPLATE, /* chat template name */
    K_STRLIST,  /* list of non-empty strings; uses off and off2 (count) */
    K_PATHLIST, /* a path or a list of paths, resolved; off and off2 (count) */
    K_BOOL,     /* true / false, into an int */
    K_CHOICE,   /* one of choices[], its index into an int */
    K_TARGETS,  /* list of LoRA module names, into an unsigned bitmask */
    K_INIT,     /* "base" | "cpt" | a path: ConfigInit at off, path at off2 */
    K_ADAPTERS, /* mapping stage name -> path */
    K_SECTION,  /* mapping with its own table, based at off */
} KeyKind;

enum {
    LO_OPEN = 1,
    HI_OPEN = 2,
    TRACK = 4, /* remember that the file set it (for defaults taken from other keys) */
};

typedef struct Key {
    const char *name;
    KeyKind kind;
    size_t off, off2;
    double lo, hi;
    unsigned flags;
    const struct Key *sub;
    const char *const *choices; /* K_CHOICE, NULL-terminated */
} Key;

#define F(field) offsetof(Config, field)

static const Key data_keys[] = {
    {.name = "corpus", .kind = K_PATH, .off = F(corpus)},
    {.name = "qa", .kind = K_PATH, .off = F(qa)},
    {.name = "golden", .kind = K_PATH, .off = F(golden)},
    {.name = "eval", .kind = K_PATH, .off = F(eval)},
    {0},
};

static const Key chat_keys[] = {
    {.name = "template", .kind = K_TEMPLATE, .off = F(chat_template)},
    {.name = "system", .kind = K_STRING, .off = F(system_prompt)},
    {0},
};

static const Key sampling_keys[] = {
    {.name = "temperature", .kind = K_FLOAT, .off = F(temperature), .lo = 0, .hi = INFINITY},
    {.name = "top_k", .kind = K_INT, .off = F(top_k), .lo = 0, .hi = INT_MAX},
    {.name = "top_p", .kind = K_FLOAT, .off = F(top_p), .lo = 0, .hi = 1, .flags = LO_OPEN},
    {.name = "repeat_penalty", .kind = K_FLOAT, .off = F(repeat_penalty), .lo = 0, .hi = INFINITY, .flags = LO_OPEN},
    {.name = "repeat_last_n", .kind = K_INT, .off = F(repeat_last_n), .lo = 0, .hi = INT_MAX},
    {.name = "max_tokens", .kind = K_INT, .off = F(max_tokens), .lo = 1, .hi = INT_MAX},
    {.name = "seed", .kind = K_U64, .off = F(seed)},
    {.name = "stop", .kind = K_STRLIST, .off = F(stop), .off2 = F(n_stop)},
    {0},
};

#undef F

static const char *const schedules[] = {"cosine", "constant", NULL};

#define L(field) offsetof(ConfigLora, field)
static const Key lora_keys[] = {
    {.name = "rank", .kind = K_INT, .off = L(rank), .lo = 1, .hi = INT_MAX},
    {.name = "alpha", .kind = K_FLOAT, .off = L(alpha), .lo = 0, .hi = INFINITY, .flags = LO_OPEN},
    {.name = "dropout", .kind = K_FLOAT, .off = L(dropout), .lo = 0, .hi = 1, .flags = HI_OPEN},
    {.name = "targets", .kind = K_TARGETS, .off = L(targets)},
    {.name = "rslora", .kind = K_BOOL, .off = L(rslora)},
    {0},
};
#undef L

/* The keys every stage has; sft_keys adds its own. */
#define S(field) offsetof(ConfigStage, field)
#define STAGE_KEYS \
    {.name = "data", .kind = K_PATHLIST, .off = S(data), .off2 = S(n_data)}, \
    {.name = "valid", .kind = K_PATH, .off = S(valid)}, \
    {.name = "valid_fraction", .kind = K_FLOAT, .off = S(valid_fraction), .lo = 0, .hi = 0.5}, \
    {.name = "output", .kind = K_PATH, .off = S(output)}, \
    {.name = "epochs", .kind = K_INT, .off = S(epochs), .lo = 1, .hi = INT_MAX}, \
    {.name = "steps", .kind = K_INT, .off = S(steps), .lo = 0, .hi = INT_MAX}, \
    {.name = "batch", .kind = K_INT, .off = S(batch), .lo = 1, .hi = INT_MAX}, \
    {.name = "grad_accum", .kind = K_INT, .off = S(grad_accum), .lo = 1, .hi = INT_MAX}, \
    {.name = "seq_len", .kind = K_INT, .off = S(seq_len), .lo = 2, .hi = INT_MAX}, \
    {.name = "lr", .kind = K_FLOAT, .off = S(lr), .lo = 0, .hi = INFINITY, .flags = LO_OPEN}, \
    {.name = "schedule", .kind = K_CHOICE, .off = S(schedule), .choices = schedules}, \
    {.name = "warmup", .kind = K_INT, .off = S(warmup), .lo = 0, .hi = INT_MAX}, \
    {.name = "min_lr_ratio", .kind = K_FLOAT, .off = S(min_lr_ratio), .lo = 0, .hi = 1}, \
    {.name = "weight_decay", .kind = K_FLOAT, .off = S(weight_decay), .lo = 0, .hi = INFINITY}, \
    {.name = "beta1", .kind = K_FLOAT, .off = S(beta1), .lo = 0, .hi = 1, .flags = HI_OPEN}, \
    {.name = "beta2", .kind = K_FLOAT, .off = S(beta2), .lo = 0, .hi = 1, .flags = HI_OPEN}, \
    {.name = "eps", .kind = K_FLOAT, .off = S(eps), .lo = 0, .hi = INFINITY, .flags = LO_OPEN}, \
    {.name = "grad_clip", .kind = K_FLOAT, .off = S(grad_clip), .lo = 0, .hi = INFINITY}, \
    {.name = "full", .kind = K_BOOL, .off = S(full)}, \
    {.name = "group_by_length", .kind = K_BOOL, .off = S(group_by_length)}, \
    {.name = "lora", .kind = K_SECTION, .off = S(lora), .sub = lora_keys}, \
    {.name = "eval_every", .kind = K_INT, .off = S(eval_every), .lo = 0, .hi = INT_MAX}, \
    {.name = "save_every", .kind = K_INT, .off = S(save_every), .lo = 0, .hi = INT_MAX}, \
    {.name = "patience", .kind = K_INT, .off = S(patience), .lo = 0, .hi = INT_MAX}, \
    {.name = "min_delta", .kind = K_FLOAT, .off = S(min_delta), .lo = 0, .hi = INFINITY}, \
    {.name = "seed", .kind = K_U64, .off = S(seed), .flags = TRACK}, \
    {.name = "threads", .kind = K_INT, .off = S(threads), .lo = 0, .hi = INT_MAX}

static const Key cpt_keys[] = {STAGE_KEYS, {0}};

static const Key sft_keys[] = {
    STAGE_KEYS,
    {.name = "init_from", .kind = K_INIT, .off = S(init_from), .off2 = S(init_path)},
    {.name = "mask_prompt", .kind = K_BOOL, .off = S(mask_prompt)},
    {.name = "golden_weight", .kind = K_FLOAT, .off = S(golden_weight), .lo = 0, .hi = INFINITY},
    {.name = "golden_repeat", .kind = K_INT, .off = S(golden_repeat), .lo = 1, .hi = 64},
    {.name = "augment", .kind = K_INT, .off = S(augment), .lo = 0, .hi = 64},
    {.name = "augment_drop", .kind = K_FLOAT, .off = S(augment_drop), .lo = 0, .hi = 1, .flags = LO_OPEN | HI_OPEN},
    {0},
};
#undef STAGE_KEYS
#undef S

static const Key train_keys[] = {
    {.name = "cpt", .kind = K_SECTION, .off = offsetof(ConfigTrain, cpt), .sub = cpt_keys},
    {.name = "sft", .kind = K_SECTION, .off = offsetof(ConfigTrain, sft), .sub = sft_keys},
    {.name = "runs", .kind = K_PATH, .off = offsetof(ConfigTrain, runs_dir)},
    {0},
};

#define F(field) offsetof(Config, field)
static const Key top_keys[] = {
    {.name = "model", .kind = K_PATH, .off = F(model)},
    {.name = "adapters", .kind = K_ADAPTERS, .off = F(adapters), .off2 = F(n_adapters)},
    {.name = "data", .kind = K_SECTION, .sub = data_keys},
    {.name = "chat", .kind = K_SECTION, .sub = chat_keys},
    {.name = "sampling", .kind = K_SECTION, .sub = sampling_keys},
    {.name = "threads", .kind = K_INT, .off = F(threads), .lo = 0, .hi = INT_MAX},
    {.name = "train", .kind = K_SECTION, .off = F(train), .sub = train_keys},
    {0},
};
#undef F

static void stage_defaults(ConfigStage *s, int sft)
{
    memset(s, 0, sizeof *s);
    s->valid_fraction = 0.1f;
    s->epochs = 1;
    s->batch = 4;
    s->grad_accum = 1;
    s->seq_len = 512;
    s->lr = 2e-4f;
    s->schedule = CONFIG_SCHEDULE_COSINE;
    s->warmup = 10;
    s->min_lr_ratio = 0.1f;
    s->beta1 = 0.9f;
    s->beta2 = 0.999f;
    s->eps = 1e-8f;
    s->grad_clip = 1.0f;
    s->lora = (ConfigLora){.rank = 8, .alpha = 16.0f, .dropout = 0.05f, .targets = LORA_ALL_TARGETS};
    s->init_from = sft ? CONFIG_INIT_CPT : CONFIG_INIT_BASE;
    s->mask_prompt = 1;
    s->group_by_length = sft;
    s->golden_weight = 1.0f;
    s->golden_repeat = 1;
    s->augment_drop = 0.3f;
    s->eval_every = 50;
    s->save_every = 100;
}

static void stage_free(ConfigStage *s)
{
    for (size_t i = 0; i < s->n_data; i++)
        free(s->data[i]);
    free(s->data);
    free(s->valid);
    free(s->output);
    free(s->init_path);
}

void config_defaults(Config *c)
{
    memset(c, 0, sizeof *c);
    c->chat_template = CHAT_CHATML;
    c->temperature = 0.0f;
    c->top_k = 0;
    c->top_p = 1.0f;
    c->repeat_penalty = 1.0f;
    c->repeat_last_n = 64;
    c->max_tokens = 256;
    c->seed = 0;
    c->threads = 0;
    stage_defaults(&c->train.cpt, 0);
    stage_defaults(&c->train.sft, 1);
}

void config_free(Config *c)
{
    free(c->path);
    free(c->model);
    for (size_t i = 0; i < c->n_adapters; i++) {
        free(c->adapters[i].name);
        free(c->adapters[i].path);
    }
    free(c->adapters);
    free(c->corpus);
    free(c->qa);
    free(c->golden);
    free(c->eval);
    free(c->system_prompt);
    for (size_t i = 0; i < c->n_stop; i++)
        free(c->stop[i]);
    free(c->stop);
    stage_free(&c->train.cpt);
    stage_free(&c->train.sft);
    free(c->train.runs_dir);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    memset(c, 0, sizeof *c);
}

const char *config_adapter(const Config *c, const char *name)
{
    for (size_t i = 0; i < c->n_adapters; i++)
        if (strcmp(c->adapters[i].name, name) == 0)
            return c->adapters[i].path;
    return NULL;
}

void config_sampler_params(const Config *c, SamplerParams *p)
{
    p->temperature = c->temperature;
    p->top_k = c->top_k;
    p->top_p = c->top_p;
    p->repeat_penalty = c->repeat_penalty;
    p->repeat_last_n = c->repeat_last_n;
    p->seed = c->seed;
}

/* ---- the walk ---------------------------------------------------------- */

typedef struct Ctx {
    Config *c;
    yaml_document_t *doc;
    const char *file; /* as given, for messages */
    size_t dir_len;   /* bytes of file up to and including its last '/' */
    Err *e;
    void *tracked[8]; /* fields of TRACK keys the file set */
    size_t n_tracked;
} Ctx;

/* err_set with "FILE:LINE:COL: " in front, at a node's start. */
static int node_err(Ctx *x, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int node_err(Ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(x->e, "%s:%zu:%zu: %s", x->file, n->start_mark.line + 1, n->start_mark.column + 1, msg);
}

static const char *sv(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = sv(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* How a wrong value reads in "expected X, got ..." (quoted scalar text
 * shortened to fit). */
static const char *got(const yaml_node_t *n, char *buf, size_t size)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (is_null(n))
        return "nothing";
    const char *s = sv(n);
    if (strlen(s) > 60)
        snprintf(buf, size, "\"%.57s...\"", s);
    else
        snprintf(buf, size, "\"%s\"", s);
    return buf;
}

static int expect_err(Ctx *x, const yaml_node_t *n, const char *key, const char *what)
{
    char buf[80];
    return node_err(x, n, "%s: expected %s, got %s", key, what, got(n, buf, sizeof buf));
}

static int oom(Ctx *x) { return err_set(x->e, "%s: out of memory", x->file); }

/* A scalar's text as a C string: rejects non-scalars, null (unless allowed)
 * and embedded NUL bytes. */
static int scalar_text(Ctx *x, const yaml_node_t *n, const char *key, const char *what, int null_ok,
                       const char **out)
{
    if (n->type != YAML_SCALAR_NODE || (!null_ok && is_null(n)))
        return expect_err(x, n, key, what);
    if (strlen(sv(n)) != n->data.scalar.length)
        return node_err(x, n, "%s: contains a NUL character", key);
    *out = is_null(n) ? NULL : sv(n);
    return 0;
}

static int resolve(Ctx *x, const char *p, char **out)
{
    size_t pre = p[0] == '/' ? 0 : x->dir_len, n = strlen(p);
    char *s = malloc(pre + n + 1);
    if (!s)
        return oom(x);
    memcpy(s, x->file, pre);
    memcpy(s + pre, p, n + 1);
    *out = s;
    return 0;
}

static int get_path(Ctx *x, const yaml_node_t *n, const char *key, char **out)
{
    const char *s;
    if (scalar_text(x, n, key, "a path", 0, &s) < 0)
        return -1;
    if (!*s)
        return expect_err(x, n, key, "a path");
    return resolve(x, s, out);
}

static int parse_double(const char *s, double *out)
{
    /* Decimal only: no hex, inf or nan, and no dependence on LC_NUMERIC. */
    if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
        return -1;
    locale_t c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_loc)
        return -1;
    char *end;
    errno = 0;
    double v = strtod_l(s, &end, c_loc);
    int bad = *end || end == s || errno == ERANGE || !isfinite(v);
    freelocale(c_loc);
    if (bad)
        return -1;
    *out = v;
    return 0;
}

/* "must be >= 0" / "must be in (0, 1]" for a key's range. */
static void range_text(const Key *k, char *buf, size_t size)
{
    if (isinf(k->hi) || k->hi == INT_MAX)
        snprintf(buf, size, "must be %s %g", k->flags & LO_OPEN ? ">" : ">=", k->lo);
    else
        snprintf(buf, size, "must be in %c%g, %g%c", k->flags & LO_OPEN ? '(' : '[', k->lo, k->hi,
                 k->flags & HI_OPEN ? ')' : ']');
}

static int in_range(const Key *k, double v)
{
    if (v < k->lo || (v == k->lo && (k->flags & LO_OPEN)))
        return 0;
    if (v > k->hi || (v == k->hi && (k->flags & HI_OPEN)))
        return 0;
    return 1;
}

static int set_number(Ctx *x, char *base, const Key *k, const yaml_node_t *n, const char *key)
{
    const char *s;
    char *field = base + k->off;
    char rt[64];
    if (k->kind == K_FLOAT) {
        double v;
        if (scalar_text(x, n, key, "a number", 0, &s) < 0)
            return -1;
        if (parse_double(s, &v) < 0 || !isfinite((float)v))
            return expect_err(x, n, key, "a number");
        if (!in_range(k, v)) {
            range_text(k, rt, sizeof rt);
            return node_err(x, n, "%s: %s, got %s", key, rt, s);
        }
        *(float *)field = (float)v;
        return 0;
    }
    const char *what = k->kind == K_U64 ? "a whole number >= 0" : "a whole number";
    if (scalar_text(x, n, key, what, 0, &s) < 0)
        return -1;
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return expect_err(x, n, key, what);
    errno = 0;
    if (k->kind == K_U64) {
        if (*s == '-')
            return expect_err(x, n, key, what);
        unsigned long long v = strtoull(s, NULL, 10);
        if (errno == ERANGE)
            return node_err(x, n, "%s: must be at most %llu, got %s", key, (unsigned long long)UINT64_MAX, s);
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    }
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || !in_range(k, (double)v)) {
        range_text(k, rt, sizeof rt);
        if (v > INT_MAX || errno == ERANGE)
            return node_err(x, n, "%s: must be at most %d, got %s", key, INT_MAX, s);
        return node_err(x, n, "%s: %s, got %s", key, rt, s);
    }
    *(int *)field = (int)v;
    return 0;
}

static int set_strlist(Ctx *x, char *base, const Key *k, const yaml_node_t *n, const char *key)
{
    char ***list = (char ***)(base + k->off);
    size_t *count = (size_t *)(base + k->off2);
    for (size_t i = 0; i < *count; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *count = 0;
    if (is_null(n))
        return 0;
    int paths = k->kind == K_PATHLIST;
    if (paths && n->type == YAML_SCALAR_NODE) {
        if (!(*list = calloc(1, sizeof **list)))
            return oom(x);
        if (get_path(x, n, key, &(*list)[0]) < 0)
            return -1;
        *count = 1;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return expect_err(x, n, key, paths ? "a path or a list of paths" : "a list of strings");
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len == 0)
        return 0;
    if (!(*list = calloc(len, sizeof **list)))
        return oom(x);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *item = yaml_document_get_node(x->doc, n->data.sequence.items.start[i]);
        const char *s;
        if (scalar_text(x, item, key, "a string", 0, &s) < 0)
            return -1;
        if (!*s)
            return node_err(x, item, "%s: an empty string is not allowed", key);
        if (paths) {
            if (resolve(x, s, &(*list)[i]) < 0)
                return -1;
        } else if (!((*list)[i] = strdup(s))) {
            return oom(x);
        }
        *count = i + 1;
    }
    return 0;
}

static int walk(Ctx *x, const yaml_node_t *map, const Key *table, const char *prefix, char *base);

static int set_adapters(Ctx *x, const Key *k, const yaml_node_t *n, const char *key)
{
    Config *c = x->c;
    for (size_t i = 0; i < c->n_adapters; i++) {
        free(c->adapters[i].name);
        free(c->adapters[i].path);
    }
    free(c->adapters);
    c->adapters = NULL;
    c->n_adapters = 0;
    if (is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return expect_err(x, n, key, "a mapping of stage names to adapter folders");
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (len == 0)
        return 0;
    if (!(c->adapters = calloc(len, sizeof *c->adapters)))
        return oom(x);
    for (size_t i = 0; i < len; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        const yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        const yaml_node_t *vn = yaml_document_get_node(x->doc, pr->value);
        const char *name;
        char full[256];
        if (scalar_text(x, kn, key, "a stage name", 0, &name) < 0)
            return -1;
        if (config_adapter(c, name))
            return node_err(x, kn, "duplicate key \"%s.%s\"", key, name);
        snprintf(full, sizeof full, "%s.%s", key, name);
        ConfigAdapter *a = &c->adapters[c->n_adapters];
        if (!(a->name = strdup(name)))
            return oom(x);
        c->n_adapters++;
        if (get_path(x, vn, full, &a->path) < 0)
            return -1;
    }
    return 0;
}

static int set_bool(Ctx *x, const yaml_node_t *n, const char *key, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        for (int i = 0; i < 3; i++) {
            if (strcmp(sv(n), yes[i]) == 0) {
                *out = 1;
                return 0;
            }
            if (strcmp(sv(n), no[i]) == 0) {
                *out = 0;
                return 0;
            }
        }
    return expect_err(x, n, key, "true or false");
}

static int set_choice(Ctx *x, const Key *k, const yaml_node_t *n, const char *key, int *out)
{
    char what[128] = "";
    size_t nc = 0;
    while (k->choices[nc])
        nc++;
    for (size_t i = 0; i < nc; i++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", i == 0 ? "" : i + 1 == nc ? " or " : ", ",
                 k->choices[i]);
    const char *s;
    if (scalar_text(x, n, key, what, 0, &s) < 0)
        return -1;
    for (size_t i = 0; i < nc; i++)
        if (strcmp(s, k->choices[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    return expect_err(x, n, key, what);
}

static int set_targets(Ctx *x, const yaml_node_t *n, const char *key, unsigned *out)
{
    if (is_null(n)) {
        *out = LORA_ALL_TARGETS;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return expect_err(x, n, key, "a list of module names");
    yaml_node_item_t *it = n->data.sequence.items.start, *top = n->data.sequence.items.top;
    if (it == top)
        return node_err(x, n, "%s: an empty list: name at least one module", key);
    unsigned mask = 0;
    for (; it < top; it++) {
        const yaml_node_t *item = yaml_document_get_node(x->doc, *it);
        const char *s;
        if (scalar_text(x, item, key, "a module name", 0, &s) < 0)
            return -1;
        int t = lora_target_parse(s);
        if (t < 0) {
            char names[160] = "";
            for (int i = 0; i < LORA_N_TARGETS; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         lora_target_name((LoraTarget)i));
            return node_err(x, item, "%s: unknown module \"%s\" (expected %s)", key, s, names);
        }
        mask |= 1u << t;
    }
    *out = mask;
    return 0;
}

/* "base" and "cpt" name stages; anything else is a folder ("./cpt" for a
 * folder that happens to be called cpt). */
static int set_init(Ctx *x, const yaml_node_t *n, const char *key, ConfigInit *init, char **path)
{
    const char *s;
    if (scalar_text(x, n, key, "base, cpt or an adapter folder", 0, &s) < 0)
        return -1;
    if (!*s)
        return expect_err(x, n, key, "base, cpt or an adapter folder");
    char *p = NULL;
    ConfigInit v = !strcmp(s, "base") ? CONFIG_INIT_BASE : !strcmp(s, "cpt") ? CONFIG_INIT_CPT : CONFIG_INIT_PATH;
    if (v == CONFIG_INIT_PATH && resolve(x, s, &p) < 0)
        return -1;
    free(*path);
    *path = p;
    *init = v;
    return 0;
}

static int set_value(Ctx *x, char *base, const Key *k, const yaml_node_t *n, const char *key)
{
    char *field = base + k->off;
    const char *s;
    switch (k->kind) {
    case K_PATH: {
        char *p;
        if (get_path(x, n, key, &p) < 0)
            return -1;
        free(*(char **)field);
        *(char **)field = p;
        return 0;
    }
    case K_STRING: {
        if (scalar_text(x, n, key, "a string", 1, &s) < 0)
            return -1;
        char *p = s ? strdup(s) : NULL;
        if (s && !p)
            return oom(x);
        free(*(char **)field);
        *(char **)field = p;
        return 0;
    }
    case K_FLOAT:
    case K_INT:
    case K_U64:
        return set_number(x, base, k, n, key);
    case K_TEMPLATE: {
        if (scalar_text(x, n, key, "a chat template name", 0, &s) < 0)
            return -1;
        if (chat_template_parse(s, (ChatTemplate *)field, x->e) < 0)
            return err_prefix(x->e, "%s:%zu:%zu: %s", x->file, n->start_mark.line + 1,
                              n->start_mark.column + 1, key);
        return 0;
    }
    case K_STRLIST:
    case K_PATHLIST:
        return set_strlist(x, base, k, n, key);
    case K_BOOL:
        return set_bool(x, n, key, (int *)field);
    case K_CHOICE:
        return set_choice(x, k, n, key, (int *)field);
    case K_TARGETS:
        return set_targets(x, n, key, (unsigned *)field);
    case K_INIT:
        return set_init(x, n, key, (ConfigInit *)field, (char **)(base + k->off2));
    case K_ADAPTERS:
        return set_adapters(x, k, n, key);
    case K_SECTION:
        if (is_null(n))
            return 0;
        if (n->type != YAML_MAPPING_NODE)
            return expect_err(x, n, key, "a mapping of settings");
        return walk(x, n, k->sub, key, base + k->off);
    }
    return 0;
}

/* Edit distance, for "did you mean" on short key names. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int warn(Ctx *x, const yaml_node_t *n, const char *key, const char *name, const Key *table)
{
    const char *near = NULL;
    size_t best = 3;
    for (const Key *k = table; k->name; k++) {
        size_t d = distance(name, k->name);
        if (d < best) {
            best = d;
            near = k->name;
        }
    }
    char line[ERR_MSG_MAX];
    if (near)
        snprintf(line, sizeof line, "%s:%zu:%zu: unknown key \"%s\" (ignored; did you mean \"%s\"?)", x->file,
                 n->start_mark.line + 1, n->start_mark.column + 1, key, near);
    else
        snprintf(line, sizeof line, "%s:%zu:%zu: unknown key \"%s\" (ignored)", x->file, n->start_mark.line + 1,
                 n->start_mark.column + 1, key);
    Config *c = x->c;
    char **w = realloc(c->warnings, (c->n_warnings + 1) * sizeof *w);
    if (!w)
        return oom(x);
    c->warnings = w;
    if (!(w[c->n_warnings] = strdup(line)))
        return oom(x);
    c->n_warnings++;
    return 0;
}

static int walk(Ctx *x, const yaml_node_t *map, const Key *table, const char *prefix, char *base)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start, *top = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *pr = start; pr < top; pr++) {
        const yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        const yaml_node_t *vn = yaml_document_get_node(x->doc, pr->value);
        if (kn->type != YAML_SCALAR_NODE)
            return node_err(x, kn, "%s%sexpected a key name, got %s", prefix, *prefix ? ": " : "",
                            kn->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
        const char *name = sv(kn);
        for (yaml_node_pair_t *q = start; q < pr; q++) {
            const yaml_node_t *qk = yaml_document_get_node(x->doc, q->key);
            if (qk->type == YAML_SCALAR_NODE && strcmp(sv(qk), name) == 0)
                return node_err(x, kn, "duplicate key \"%s%s%s\" (first at line %zu)", prefix, *prefix ? "." : "",
                                name, qk->start_mark.line + 1);
        }
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", name);
        const Key *k = table;
        while (k->name && strcmp(k->name, name) != 0)
            k++;
        if (!k->name) {
            if (warn(x, kn, key, name, table) < 0)
                return -1;
            continue;
        }
        if (set_value(x, base, k, vn, key) < 0)
            return -1;
        if ((k->flags & TRACK) && x->n_tracked < sizeof x->tracked / sizeof x->tracked[0])
            x->tracked[x->n_tracked++] = base + k->off;
    }
    return 0;
}

/* ---- reading ----------------------------------------------------------- */

/* Reads the whole file; returns 0, -1 with e set, or -2 (e set too) when the
 * file does not exist. */
static int read_file(const char *path, char **buf, size_t *len, Err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int missing = errno == ENOENT;
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return missing ? -2 : -1;
    }
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= CONFIG_MAX_BYTES) {
            free(b);
            fclose(f);
            return err_set(e, "%s: larger than %u bytes: not a config file?", path, CONFIG_MAX_BYTES);
        }
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (!b) {
        fclose(f);
        return err_set(e, "%s: out of memory", path);
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(b);
        return err_set(e, "%s: read error: %s", path, strerror(saved));
    }
    *buf = b;
    *len = n;
    return 0;
}

/* 1-based line and column (in characters) of a byte offset. */
static void offset_pos(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int yaml_err(const yaml_parser_t *p, const char *path, const char *buf, size_t len, Err *e)
{
    const char *problem = p->problem ? p->problem : "cannot parse YAML";
    if (p->error == YAML_MEMORY_ERROR)
        return err_set(e, "%s: out of memory", path);
    if (p->error == YAML_READER_ERROR) {
        size_t line, col;
        offset_pos(buf, len, p->problem_offset, &line, &col);
        return err_set(e, "%s:%zu:%zu: %s", path, line, col, problem);
    }
    if (p->context)
        return err_set(e, "%s:%zu:%zu: %s (%s at %zu:%zu)", path, p->problem_mark.line + 1,
                       p->problem_mark.column + 1, problem, p->context, p->context_mark.line + 1,
                       p->context_mark.column + 1);
    return err_set(e, "%s:%zu:%zu: %s", path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

/* ---- defaults taken from other keys ------------------------------------ */

static int was_set(const Ctx *x, const void *field)
{
    for (size_t i = 0; i < x->n_tracked; i++)
        if (x->tracked[i] == field)
            return 1;
    return 0;
}

/* A stage's output defaults to the adapter its name maps to under adapters:
 * (already resolved), else to adapters/NAME: what is trained is what Bench
 * and Chat load. */
static int finish_stage(Ctx *x, ConfigStage *s, const char *name, const char *data)
{
    if (s->n_data == 0 && data) {
        if (!(s->data = malloc(sizeof *s->data)) || !(s->data[0] = strdup(data)))
            return oom(x);
        s->n_data = 1;
    }
    for (size_t i = 0; !s->output && i < x->c->n_adapters; i++)
        if (strcmp(x->c->adapters[i].name, name) == 0 && !(s->output = strdup(x->c->adapters[i].path)))
            return oom(x);
    char fallback[32];
    snprintf(fallback, sizeof fallback, "adapters/%s", name);
    if (!s->output && resolve(x, fallback, &s->output) < 0)
        return -1;
    if (!was_set(x, &s->seed))
        s->seed = x->c->seed;
    if (s->threads == 0)
        s->threads = x->c->threads;
    return 0;
}

static int finish(Ctx *x)
{
    Config *c = x->c;
    if (finish_stage(x, &c->train.cpt, "cpt", c->corpus) < 0 || finish_stage(x, &c->train.sft, "sft", c->qa) < 0)
        return -1;
    if (!c->train.runs_dir && resolve(x, "runs", &c->train.runs_dir) < 0)
        return -1;
    return 0;
}

static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

static int parse(Config *c, const char *path, const char *buf, size_t len, Err *e)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, "%s: out of memory", path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_err(&parser, path, buf, len, e);
        yaml_parser_delete(&parser);
        return -1;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        /* A second document would be silently ignored: refuse it. */
        if (!yaml_parser_load(&parser, &extra)) {
            rc = yaml_err(&parser, path, buf, len, e);
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&extra);
            if (r2)
                rc = err_set(e, "%s:%zu:%zu: a second YAML document: the file must hold one", path,
                             extra.start_mark.line + 1, extra.start_mark.column + 1);
            yaml_document_delete(&extra);
        }
    }
    Ctx x = {.c = c, .doc = &doc, .file = path, .dir_len = dir_len(path), .e = e};
    if (rc == 0 && root && !is_null(root)) {
        if (root->type != YAML_MAPPING_NODE)
            rc = expect_err(&x, root, "top level", "a mapping of settings");
        else
            rc = walk(&x, root, top_keys, "", (char *)c);
    }
    if (rc == 0)
        rc = finish(&x);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static int load(Config *c, const char *path, int optional, Err *e)
{
    char *buf = NULL;
    size_t len = 0;
    config_defaults(c);
    int rc = read_file(path, &buf, &len, e);
    if (rc == -2 && optional) {
        /* No file: the project folder is still the one it would be in. */
        Ctx x = {.c = c, .file = path, .dir_len = dir_len(path), .e = e};
        if (finish(&x) < 0) {
            config_free(c);
            return -1;
        }
        return 0;
    }
    if (rc < 0)
        return -1;
    if (!(c->path = strdup(path))) {
        free(buf);
        return err_set(e, "%s: out of memory", path);
    }
    rc = parse(c, path, buf, len, e);
    free(buf);
    if (rc < 0) {
        config_free(c);
        return -1;
    }
    return 1;
}

int config_load(Config *c, const char *path, Err *e)
{
    return load(c, path, 0, e) < 0 ? -1 : 0;
}

int config_load_optional(Config *c, const char *path, Err *e)
{
    return load(c, path, 1, e);
}
