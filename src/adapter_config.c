/* adapter_config.c - PEFT's adapter_config.json and our record in it (see adapter_config.h). */
#include "adapter_config.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys that ask, by any value but null, false, "", {} or [], for something
 * infuse does not compute; loading them anyway would give wrong outputs
 * without a word. */
static const struct {
    const char *key, *what;
} unsupported[] = {
    {"use_dora", "DoRA (weight-decomposed LoRA)"},
    {"rank_pattern", "per-module ranks"},
    {"alpha_pattern", "per-module alphas"},
    {"modules_to_save", "extra fully trained modules"},
    {"layers_to_transform", "adapting only some layers"},
    {"layer_replication", "replicated layers"},
    {"lora_bias", "a trained bias on lora_B"},
    {"trainable_token_indices", "trainable token embeddings"},
    {"target_parameters", "adapted parameters of non-Linear modules"},
    {"exclude_modules", "excluded modules"},
};

static const cJSON *item(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static int absent(const cJSON *v) { return !v || cJSON_IsNull(v); }

static int is_off(const cJSON *v)
{
    if (absent(v) || cJSON_IsFalse(v))
        return 1;
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        return v->child == NULL;
    return cJSON_IsString(v) && v->valuestring[0] == 0;
}

/* v as compact JSON, cut to fit buf, for messages. */
static const char *shown(const cJSON *v, char *buf, size_t n)
{
    char *s = cJSON_PrintUnformatted(v);
    snprintf(buf, n, "%s", s ? s : "?");
    if (s && strlen(s) >= n && n > 4)
        memcpy(buf + n - 4, "...", 4);
    free(s);
    return buf;
}

static int is_integer(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= lo &&
           v->valuedouble <= hi;
}

static int add_target(unsigned *targets, const char *name, const char *path, Err *e)
{
    for (int t = 0; t < LORA_N_TARGETS; t++)
        if (strcmp(name, lora_target_name((LoraTarget)t)) == 0) {
            *targets |= 1u << t;
            return 0;
        }
    return err_set(e, "%s: unknown target module \"%s\" in \"target_modules\" (infuse adapts q_proj, k_proj, "
                   "v_proj, o_proj, gate_proj, up_proj and down_proj)", path, name);
}

/* PEFT takes a list of module names (each matching modules whose path ends
 * in it) or one string, which it treats as a regular expression over whole
 * module paths (or "all-linear").  Of the strings only plain names and
 * "all-linear" are accepted: matching PEFT's regex semantics would need a
 * regex engine for a case no trainer we know produces. */
static int parse_targets(unsigned *targets, const cJSON *v, const char *path, Err *e)
{
    *targets = 0;
    if (absent(v))
        return err_set(e, "%s: \"target_modules\" is missing", path);
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strcmp(s, "all-linear") == 0) {
            *targets = LORA_ALL_TARGETS;
            return 0;
        }
        if (s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_")] != 0)
            return err_set(e, "%s: \"target_modules\" is the pattern \"%s\": infuse accepts a list of module "
                           "names, one name, or \"all-linear\"", path, s);
        return add_target(targets, s, path, e);
    }
    if (!cJSON_IsArray(v))
        return err_set(e, "%s: \"target_modules\" must be a list of module names", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it))
            return err_set(e, "%s: \"target_modules\" entries must be strings", path);
        if (add_target(targets, it->valuestring, path, e) != 0)
            return -1;
    }
    if (!*targets)
        return err_set(e, "%s: \"target_modules\" is empty", path);
    return 0;
}

static int get_number(const cJSON *o, const char *key, double def, double *out, const char *path, Err *e)
{
    const cJSON *v = item(o, key);
    if (absent(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return err_set(e, "%s: \"%s\" must be a number", path, key);
    *out = v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int *out, const char *path, Err *e)
{
    const cJSON *v = item(o, key);
    *out = 0;
    if (absent(v))
        return 0;
    if (!cJSON_IsBool(v))
        return err_set(e, "%s: \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* ---- the "infuse" record ---- */

static int rec_string(const cJSON *r, const char *key, char *out, size_t cap, const char *path, Err *e)
{
    const cJSON *v = item(r, key);
    out[0] = 0;
    if (absent(v))
        return 0;
    if (!cJSON_IsString(v))
        return err_set(e, "%s: \"infuse.%s\" must be a string", path, key);
    if (strlen(v->valuestring) >= cap)
        return err_set(e, "%s: \"infuse.%s\" is longer than %zu bytes", path, key, cap - 1);
    strcpy(out, v->valuestring);
    return 0;
}

static int rec_count(const cJSON *r, const char *key, long *out, const char *path, Err *e)
{
    const cJSON *v = item(r, key);
    *out = 0;
    if (absent(v))
        return 0;
    if (!is_integer(v, 0, 9007199254740992.0))
        return err_set(e, "%s: \"infuse.%s\" must be a whole number", path, key);
    *out = (long)v->valuedouble;
    return 0;
}

/* null means unknown (how NAN is written). */
static int rec_real(const cJSON *r, const char *key, double def, double *out, const char *path, Err *e)
{
    if (get_number(r, key, def, out, path, e) != 0)
        return err_set(e, "%s: \"infuse.%s\" must be a number or null", path, key);
    return 0;
}

/* The seed is written as a decimal string because JSON readers (Python's
 * included) may hold numbers as doubles, which keep only 53 bits; a number
 * is accepted when it is an integer a double holds exactly. */
static int rec_seed(const cJSON *r, uint64_t *out, const char *path, Err *e)
{
    const cJSON *v = item(r, "seed");
    *out = 0;
    if (absent(v))
        return 0;
    if (is_integer(v, 0, 9007199254740992.0)) {
        *out = (uint64_t)v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (s[0] >= '0' && s[0] <= '9' && *end == 0 && errno == 0) {
            *out = (uint64_t)x;
            return 0;
        }
    }
    return err_set(e, "%s: \"infuse.seed\" must be a whole number from 0 to 2^64-1 (as a decimal string)", path);
}

static int parse_record(AdapterRecord *rec, const cJSON *r, const char *path, Err *e)
{
    memset(rec, 0, sizeof *rec);
    rec->train_loss = rec->valid_loss = NAN;
    if (absent(r))
        return 0;
    if (!cJSON_IsObject(r))
        return err_set(e, "%s: \"infuse\" must be an object", path);
    if (rec_string(r, "stage", rec->stage, sizeof rec->stage, path, e) ||
        rec_string(r, "data_sha256", rec->data_sha256, sizeof rec->data_sha256, path, e) ||
        rec_string(r, "valid_sha256", rec->valid_sha256, sizeof rec->valid_sha256, path, e) ||
        rec_string(r, "created", rec->created, sizeof rec->created, path, e) ||
        rec_count(r, "steps", &rec->steps, path, e) || rec_count(r, "tokens", &rec->tokens, path, e) ||
        rec_real(r, "train_loss", NAN, &rec->train_loss, path, e) ||
        rec_real(r, "valid_loss", NAN, &rec->valid_loss, path, e) ||
        rec_real(r, "elapsed_s", 0, &rec->elapsed_s, path, e) || rec_seed(r, &rec->seed, path, e))
        return -1;
    return 0;
}

static int parse_root(AdapterConfig *ac, AdapterRecord *rec, const cJSON *root, const char *path, Err *e)
{
    char buf[64];
    if (!cJSON_IsObject(root))
        return err_set(e, "%s: not a JSON object", path);
    const cJSON *pt = item(root, "peft_type");
    if (absent(pt))
        return err_set(e, "%s: \"peft_type\" is missing (not a PEFT adapter config?)", path);
    if (!cJSON_IsString(pt) || strcmp(pt->valuestring, "LORA") != 0)
        return err_set(e, "%s: \"peft_type\" is %s: infuse applies only LORA adapters", path,
                       shown(pt, buf, sizeof buf));
    const cJSON *r = item(root, "r");
    if (absent(r))
        return err_set(e, "%s: \"r\" is missing", path);
    if (!is_integer(r, 1, 65536))
        return err_set(e, "%s: \"r\" must be a positive whole number, not %s", path, shown(r, buf, sizeof buf));
    ac->rank = (int)r->valuedouble;
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        const cJSON *v = item(root, unsupported[i].key);
        if (!is_off(v))
            return err_set(e, "%s: \"%s\" is %s: infuse does not support %s", path, unsupported[i].key,
                           shown(v, buf, sizeof buf), unsupported[i].what);
    }
    /* These initialisations rewrite the base weights as well, so the saved
     * A and B only fit a base that no longer exists on disk (unless PEFT
     * converted the adapter on saving, which sets the key back to true). */
    const cJSON *init = item(root, "init_lora_weights");
    if (cJSON_IsString(init)) {
        static const char *const base_changing[] = {"pissa", "olora", "loftq", "corda"};
        for (size_t i = 0; i < sizeof base_changing / sizeof *base_changing; i++)
            if (strncmp(init->valuestring, base_changing[i], strlen(base_changing[i])) == 0)
                return err_set(e, "%s: \"init_lora_weights\" is \"%s\": such an adapter needs the base weights "
                               "its initialisation changed (PEFT's save_pretrained with "
                               "path_initial_model_for_weight_conversion turns PiSSA, OLoRA and CorDA ones into "
                               "plain LoRA)", path, init->valuestring);
    }
    const cJSON *bias = item(root, "bias");
    if (!absent(bias) && !(cJSON_IsString(bias) && strcmp(bias->valuestring, "none") == 0))
        return err_set(e, "%s: \"bias\" is %s: only \"none\" is supported (no trained biases)", path,
                       shown(bias, buf, sizeof buf));
    /* PEFT's defaults for the keys that may be left out. */
    double alpha, dropout;
    if (get_number(root, "lora_alpha", 8, &alpha, path, e) || get_number(root, "lora_dropout", 0, &dropout, path, e) ||
        get_bool(root, "use_rslora", &ac->rslora, path, e))
        return -1;
    if (!(dropout >= 0 && dropout < 1))
        return err_set(e, "%s: \"lora_dropout\" must be in [0, 1), not %g", path, dropout);
    ac->alpha = (float)alpha;
    ac->dropout = (float)dropout;
    if (parse_targets(&ac->targets, item(root, "target_modules"), path, e) != 0)
        return -1;
    return rec ? parse_record(rec, item(root, "infuse"), path, e) : 0;
}

int adapter_config_parse(AdapterConfig *ac, AdapterRecord *rec, const char *json, size_t len, const char *path,
                         Err *e)
{
    memset(ac, 0, sizeof *ac);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        int line = 1;
        for (const char *p = json; end && p < end && p < json + len; p++)
            line += *p == '\n';
        return err_set(e, "%s:%d: malformed JSON", path, line);
    }
    int rc = parse_root(ac, rec, root, path, e);
    cJSON_Delete(root);
    return rc;
}

/* ---- writing ---- */

/* f as the shortest decimal that reads back as f, held in a double: cJSON
 * prints doubles to 17 digits, which would write 0.05f as
 * 0.05000000074505806. */
static double json_float(float f)
{
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f;
}

/* Adds v under key; 0 (and nothing added) when v could not be made, so
 * that `ok &= add(...)` catches every allocation failure. */
static int add(cJSON *o, const char *key, cJSON *v)
{
    if (!v)
        return 0;
    if (!cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        return 0;
    }
    return 1;
}

static cJSON *fixed_string(const char *s, size_t cap)
{
    char buf[80];
    size_t n = strnlen(s, cap < sizeof buf ? cap : sizeof buf - 1);
    memcpy(buf, s, n);
    buf[n] = 0;
    return cJSON_CreateString(buf);
}

static cJSON *real_or_null(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }

static cJSON *render_record(const AdapterRecord *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    int ok = add(o, "created", fixed_string(r->created, sizeof r->created));
    ok &= add(o, "data_sha256", fixed_string(r->data_sha256, sizeof r->data_sha256));
    ok &= add(o, "elapsed_s", real_or_null(r->elapsed_s));
    ok &= add(o, "seed", cJSON_CreateString(seed));
    ok &= add(o, "stage", fixed_string(r->stage, sizeof r->stage));
    ok &= add(o, "steps", cJSON_CreateNumber((double)r->steps));
    ok &= add(o, "tokens", cJSON_CreateNumber((double)r->tokens));
    ok &= add(o, "train_loss", real_or_null(r->train_loss));
    ok &= add(o, "valid_loss", real_or_null(r->valid_loss));
    ok &= add(o, "valid_sha256", fixed_string(r->valid_sha256, sizeof r->valid_sha256));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static cJSON *render_targets(unsigned targets)
{
    const char *names[LORA_N_TARGETS];
    int n = 0;
    for (int t = 0; t < LORA_N_TARGETS; t++)
        if (targets >> t & 1)
            names[n++] = lora_target_name((LoraTarget)t);
    qsort(names, (size_t)n, sizeof *names, by_name);
    return cJSON_CreateStringArray(names, n);
}

char *adapter_config_render(const Lora *l, const char *base_model, const AdapterRecord *rec)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    /* PEFT writes its keys sorted (json.dump with sort_keys); so do we. */
    int ok = add(root, "alpha_pattern", cJSON_CreateObject());
    ok &= add(root, "auto_mapping", cJSON_CreateNull());
    ok &= add(root, "base_model_name_or_path", base_model ? cJSON_CreateString(base_model) : cJSON_CreateNull());
    ok &= add(root, "bias", cJSON_CreateString("none"));
    ok &= add(root, "fan_in_fan_out", cJSON_CreateFalse());
    ok &= add(root, "inference_mode", cJSON_CreateTrue());
    if (rec)
        ok &= add(root, "infuse", render_record(rec));
    ok &= add(root, "init_lora_weights", cJSON_CreateTrue());
    ok &= add(root, "layers_pattern", cJSON_CreateNull());
    ok &= add(root, "layers_to_transform", cJSON_CreateNull());
    ok &= add(root, "lora_alpha", cJSON_CreateNumber(json_float(l->alpha)));
    ok &= add(root, "lora_dropout", cJSON_CreateNumber(json_float(l->dropout)));
    ok &= add(root, "modules_to_save", cJSON_CreateNull());
    ok &= add(root, "peft_type", cJSON_CreateString("LORA"));
    ok &= add(root, "r", cJSON_CreateNumber(l->rank));
    ok &= add(root, "rank_pattern", cJSON_CreateObject());
    ok &= add(root, "revision", cJSON_CreateNull());
    ok &= add(root, "target_modules", render_targets(l->targets));
    ok &= add(root, "task_type", cJSON_CreateString("CAUSAL_LM"));
    ok &= add(root, "use_dora", cJSON_CreateFalse());
    ok &= add(root, "use_rslora", cJSON_CreateBool(l->rslora != 0));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *out = realloc(text, n + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out + n, "\n", 2);
    return out;
}
