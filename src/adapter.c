/* adapter.c - LoRA adapter folders in PEFT's layout: tensors, save, load, hash (see adapter.h).
 *
 * PEFT names each tensor by the path of the module it adapts inside the
 * PeftModel, minus the adapter's name:
 *     base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight
 * ("base_model" is the LoraModel, ".model" the LlamaForCausalLM, then the
 * Hugging Face module path).  Loading refuses any tensor it would not use,
 * since a tensor infuse skipped would make the outputs differ from PEFT's. */
#include "adapter.h"
#include "adapter_config.h"
#include "fsutil.h"
#include "safetensors.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_FILE "adapter_config.json"
#define TENSOR_FILE "adapter_model.safetensors"
#define KEY_PREFIX "base_model.model.model.layers."
#define NAME_MAX_LEN 96

/* Where each target lives inside a decoder layer. */
static const char *const module_path[LORA_N_TARGETS] = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};

static void tensor_name(char out[NAME_MAX_LEN], int layer, int t, int is_b)
{
    snprintf(out, NAME_MAX_LEN, KEY_PREFIX "%d.%s.lora_%c.weight", layer, module_path[t], is_b ? 'B' : 'A');
}

/* Splits a PEFT key into (layer, target, A or B); -1 if it is not one. */
static int parse_name(const char *s, int *layer, int *t, int *is_b)
{
    size_t np = strlen(KEY_PREFIX);
    if (strncmp(s, KEY_PREFIX, np) != 0)
        return -1;
    s += np;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    long n = 0;
    while (*s >= '0' && *s <= '9' && n < 1000000)
        n = n * 10 + (*s++ - '0');
    if (*s++ != '.')
        return -1;
    for (int k = 0; k < LORA_N_TARGETS; k++) {
        size_t ml = strlen(module_path[k]);
        if (strncmp(s, module_path[k], ml) != 0)
            continue;
        if (strcmp(s + ml, ".lora_A.weight") == 0 || strcmp(s + ml, ".lora_B.weight") == 0) {
            *layer = (int)n, *t = k, *is_b = s[ml + 6] == 'B';
            return 0;
        }
    }
    return -1;
}

static void shape_str(char *buf, size_t n, const StTensor *t)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int d = 0; d < t->ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* ---- save ---- */

int adapter_save(const Lora *l, const char *dir, const char *base_model, const AdapterRecord *rec, Err *e)
{
    if (l->rank < 1 || !l->mats || !(l->targets & LORA_ALL_TARGETS))
        return err_set(e, "%s: cannot save an empty adapter", dir);
    if (fs_mkdirs(dir, e) != 0)
        return -1;
    size_t cap = (size_t)l->n_layers * LORA_N_TARGETS * 2, n = 0;
    StWrite *w = calloc(cap + 1, sizeof *w);
    char (*names)[NAME_MAX_LEN] = calloc(cap + 1, sizeof *names);
    char *st_path = fs_join(dir, TENSOR_FILE), *cfg_path = fs_join(dir, CONFIG_FILE);
    char *json = adapter_config_render(l, base_model, rec);
    int rc = -1;
    if (!w || !names || !st_path || !cfg_path || !json) {
        err_set(e, "%s: out of memory", dir);
        goto done;
    }
    /* PEFT's state-dict order: layer by layer, modules in forward order, A then B. */
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            const LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            if (!m)
                continue;
            for (int b = 0; b < 2; b++, n++) {
                tensor_name(names[n], i, t, b);
                w[n] = (StWrite){.name = names[n], .dtype = DT_F32, .ndim = 2, .data = b ? m->B : m->A};
                w[n].shape[0] = b ? m->out : l->rank;
                w[n].shape[1] = b ? l->rank : m->in;
            }
        }
    /* PEFT's files carry this metadata; transformers' loaders look for it. */
    const char *mk[] = {"format"}, *mv[] = {"pt"};
    /* Tensors first: a folder whose config is new always has tensors beside it. */
    if (safetensors_write(st_path, w, n, mk, mv, 1, e) != 0)
        goto done;
    const void *ptr[] = {json};
    size_t len[] = {strlen(json)};
    rc = fs_write_atomic(cfg_path, ptr, len, 1, e);
done:
    free(w);
    free(names);
    free(st_path);
    free(cfg_path);
    free(json);
    return rc;
}

/* ---- load ---- */

/* Copies one tensor into its matrix after checking its dtype and shape:
 * A [r, in], B [out, r]. */
static int load_tensor(Lora *l, const StTensor *t, int layer, int target, int is_b, const char *path, Err *e)
{
    LoraMat *m = lora_mat(l, layer, (LoraTarget)target);
    if (t->dtype != DT_F32 && t->dtype != DT_F16 && t->dtype != DT_BF16)
        return err_set(e, "%s: tensor \"%s\" is %s (F32, F16 or BF16 expected)", path, t->name,
                       dtype_name(t->dtype));
    int64_t want0 = is_b ? m->out : l->rank, want1 = is_b ? l->rank : m->in;
    /* The dimension that is not the rank comes from the base model. */
    int64_t got_rank = t->ndim == 2 ? t->shape[is_b ? 1 : 0] : -1;
    int64_t got_base = t->ndim == 2 ? t->shape[is_b ? 0 : 1] : -1;
    char got[96];
    shape_str(got, sizeof got, t);
    if (t->ndim != 2 || got_base != (is_b ? want0 : want1))
        return err_set(e, "%s: tensor \"%s\" has shape %s, expected [%lld, %lld] for this base model "
                       "(an adapter made for a different model?)", path, t->name, got,
                       (long long)want0, (long long)want1);
    if (got_rank != l->rank)
        return err_set(e, "%s: tensor \"%s\" has shape %s: rank %lld, but adapter_config.json says r = %d",
                       path, t->name, got, (long long)got_rank, l->rank);
    dtype_to_f32(is_b ? m->B : m->A, t->data, t->dtype, t->nelem);
    return 0;
}

static int load_tensors(Lora *l, const SafeTensors *st, const ModelConfig *c, const char *path, Err *e)
{
    /* seen[(layer * N_TARGETS + t) * 2 + is_b] */
    unsigned char *seen = calloc((size_t)l->n_layers * LORA_N_TARGETS * 2 + 1, 1);
    if (!seen)
        return err_set(e, "%s: out of memory", path);
    int rc = 0;
    for (size_t k = 0; k < st->n && rc == 0; k++) {
        const StTensor *t = &st->tensors[k];
        int layer, target, is_b;
        if (parse_name(t->name, &layer, &target, &is_b) != 0)
            rc = err_set(e, "%s: unexpected tensor \"%s\" (infuse applies LoRA A and B of q/k/v/o_proj "
                         "and gate/up/down_proj only)", path, t->name);
        else if (layer >= c->n_layers)
            rc = err_set(e, "%s: tensor \"%s\" is for layer %d, but the base model has %d layers", path,
                         t->name, layer, c->n_layers);
        else if (!(l->targets >> target & 1))
            rc = err_set(e, "%s: tensor \"%s\" is for %s, which target_modules in " CONFIG_FILE
                         " does not list", path, t->name, lora_target_name((LoraTarget)target));
        else if (seen[((size_t)layer * LORA_N_TARGETS + (size_t)target) * 2 + (size_t)is_b]++)
            rc = err_set(e, "%s: tensor \"%s\" appears twice", path, t->name);
        else
            rc = load_tensor(l, t, layer, target, is_b, path, e);
    }
    for (int i = 0; i < l->n_layers && rc == 0; i++)
        for (int t = 0; t < LORA_N_TARGETS && rc == 0; t++)
            for (int b = 0; b < 2 && rc == 0; b++)
                if ((l->targets >> t & 1) && !seen[((size_t)i * LORA_N_TARGETS + (size_t)t) * 2 + (size_t)b]) {
                    char name[NAME_MAX_LEN];
                    tensor_name(name, i, t, b);
                    rc = err_set(e, "%s: tensor \"%s\" is missing", path, name);
                }
    free(seen);
    return rc;
}

/* The path of file in dir, or NULL with a message when it is not there. */
static char *need_file(const char *dir, const char *file, Err *e)
{
    char *p = fs_join(dir, file);
    if (!p) {
        err_set(e, "%s: out of memory", dir);
        return NULL;
    }
    if (fs_exists(p))
        return p;
    free(p);
    if (!fs_is_dir(dir)) {
        err_set(e, "%s: no such adapter folder", dir);
        return NULL;
    }
    /* Older PEFT saved a pickle; say so rather than just "missing". */
    char *bin = fs_join(dir, "adapter_model.bin");
    if (strcmp(file, TENSOR_FILE) == 0 && bin && fs_exists(bin))
        err_set(e, "%s: has only the PyTorch pickle adapter_model.bin; infuse reads " TENSOR_FILE
                " (PEFT's save_pretrained with safe_serialization=True)", dir);
    else
        err_set(e, "%s/%s: missing (not a PEFT adapter folder?)", dir, file);
    free(bin);
    return NULL;
}

int adapter_load(Lora *l, const char *dir, const ModelConfig *c, AdapterRecord *rec, Err *e)
{
    memset(l, 0, sizeof *l);
    char *cfg_path = need_file(dir, CONFIG_FILE, e);
    char *st_path = cfg_path ? need_file(dir, TENSOR_FILE, e) : NULL;
    if (!st_path) {
        free(cfg_path);
        return -1;
    }
    size_t len = 0;
    char *json = fs_read_all(cfg_path, &len, e);
    AdapterConfig ac;
    SafeTensors st = {0};
    int rc = -1;
    if (!json || adapter_config_parse(&ac, rec, json, len, cfg_path, e) != 0)
        goto done;
    /* lora_init only allocates here: every matrix is overwritten by a tensor. */
    if (lora_init(l, c, ac.rank, ac.alpha, ac.dropout, ac.targets, 0, e) != 0) {
        err_prefix(e, "%s", cfg_path);
        goto done;
    }
    l->rslora = ac.rslora;
    if (safetensors_open(&st, st_path, e) != 0)
        goto done;
    rc = load_tensors(l, &st, c, st_path, e);
done:
    if (rc != 0)
        lora_free(l);
    safetensors_close(&st);
    free(json);
    free(cfg_path);
    free(st_path);
    return rc;
}

/* ---- hash ---- */

int adapter_hash(const char *dir, char out[65], Err *e)
{
    out[0] = 0;
    char *path = fs_join(dir, TENSOR_FILE);
    if (!path)
        return err_set(e, "%s: out of memory", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    Sha256 s;
    sha256_init(&s);
    static const size_t chunk = 1 << 16;
    unsigned char *buf = malloc(chunk);
    int rc = buf ? 0 : err_set(e, "%s: out of memory", path);
    while (rc == 0) {
        ssize_t r = read(fd, buf, chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = err_set(e, "%s: read failed: %s", path, strerror(errno));
        if (r <= 0)
            break;
        sha256_update(&s, buf, (size_t)r);
    }
    close(fd);
    free(buf);
    if (rc == 0)
        sha256_hex(&s, out);
    free(path);
    return rc;
}
