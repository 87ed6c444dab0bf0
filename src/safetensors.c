/* safetensors.c - bounds-checked mmap reader and atomic writer (see safetensors.h). */
#include "safetensors.h"
#include "fsutil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is certainly not a real file's. */
#define ST_MAX_HEADER (100u << 20)

static int by_begin(const void *a, const void *b)
{
    const StTensor *x = a, *y = b;
    const char *px = x->data, *py = y->data;
    return px < py ? -1 : px > py;
}

static int parse_tensor(StTensor *t, const cJSON *item, const char *data, size_t data_size,
                        const char *path, Err *e)
{
    const char *name = item->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsObject(item) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return err_set(e, "%s: tensor \"%s\": entry needs dtype, shape and data_offsets", path, name);
    if (dtype_from_name(dt->valuestring, &t->dtype) != 0)
        return err_set(e, "%s: tensor \"%s\": unknown dtype \"%s\"", path, name, dt->valuestring);
    int nd = cJSON_GetArraySize(shape);
    if (nd > ST_MAX_DIMS)
        return err_set(e, "%s: tensor \"%s\": %d dimensions (at most %d)", path, name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    size_t nelem = 1;
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1e15 ||
            d->valuedouble != (double)(int64_t)d->valuedouble)
            return err_set(e, "%s: tensor \"%s\": bad shape entry %d", path, name, i);
        t->shape[i] = (int64_t)d->valuedouble;
        if (t->shape[i] && nelem > SIZE_MAX / (size_t)t->shape[i])
            return err_set(e, "%s: tensor \"%s\": shape overflows", path, name);
        nelem *= (size_t)t->shape[i];
    }
    t->nelem = nelem;
    const cJSON *b = cJSON_GetArrayItem(offs, 0), *en = cJSON_GetArrayItem(offs, 1);
    if (cJSON_GetArraySize(offs) != 2 || !cJSON_IsNumber(b) || !cJSON_IsNumber(en) ||
        b->valuedouble < 0 || en->valuedouble < b->valuedouble)
        return err_set(e, "%s: tensor \"%s\": bad data_offsets", path, name);
    double bd = b->valuedouble, ed = en->valuedouble;
    if (ed > (double)data_size)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%.0f, %.0f] run past the end of the data (%zu bytes)",
                       path, name, bd, ed, data_size);
    size_t begin = (size_t)bd, end = (size_t)ed;
    if (nelem > SIZE_MAX / dtype_size(t->dtype) || end - begin != nelem * dtype_size(t->dtype))
        return err_set(e, "%s: tensor \"%s\": %zu bytes of data for %zu elements of %s",
                       path, name, end - begin, nelem, dtype_name(t->dtype));
    t->data = data + begin;
    t->nbytes = end - begin;
    t->name = strdup(name);
    return t->name ? 0 : err_set(e, "%s: out of memory", path);
}

static int parse_meta(SafeTensors *st, const cJSON *meta, Err *e)
{
    if (!cJSON_IsObject(meta))
        return err_set(e, "%s: __metadata__ is not an object", st->path);
    int n = cJSON_GetArraySize(meta);
    st->meta_keys = calloc((size_t)n + 1, sizeof *st->meta_keys);
    st->meta_vals = calloc((size_t)n + 1, sizeof *st->meta_vals);
    if (!st->meta_keys || !st->meta_vals)
        return err_set(e, "%s: out of memory", st->path);
    const cJSON *it;
    cJSON_ArrayForEach(it, meta) {
        if (!cJSON_IsString(it))
            return err_set(e, "%s: __metadata__ value \"%s\" is not a string", st->path, it->string);
        st->meta_keys[st->n_meta] = strdup(it->string);
        st->meta_vals[st->n_meta] = strdup(it->valuestring);
        st->n_meta++;
    }
    return 0;
}

int safetensors_open(SafeTensors *st, const char *path, Err *e)
{
    memset(st, 0, sizeof *st);
    st->path = strdup(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        err_set(e, "%s: not a regular file", path);
        goto fail;
    }
    if (sb.st_size < 8) {
        close(fd);
        err_set(e, "%s: truncated: %lld bytes, too short for a safetensors header", path, (long long)sb.st_size);
        goto fail;
    }
    st->map_size = (size_t)sb.st_size;
    st->map = mmap(NULL, st->map_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        err_set(e, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }
    const unsigned char *p = st->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | p[i];
    if (hlen > st->map_size - 8 || hlen > ST_MAX_HEADER) {
        err_set(e, "%s: header length %llu runs past the end of the file (%zu bytes): truncated or not safetensors",
                path, (unsigned long long)hlen, st->map_size);
        goto fail;
    }
    cJSON *root = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        err_set(e, "%s: header is not a JSON object", path);
        goto fail;
    }
    const char *data = (const char *)p + 8 + hlen;
    size_t data_size = st->map_size - 8 - (size_t)hlen;
    st->tensors = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *st->tensors);
    const cJSON *item;
    int bad = st->tensors ? 0 : err_set(e, "%s: out of memory", path);
    cJSON_ArrayForEach(item, root) {
        if (bad)
            break;
        if (strcmp(item->string, "__metadata__") == 0)
            bad = parse_meta(st, item, e);
        else if ((bad = parse_tensor(&st->tensors[st->n], item, data, data_size, path, e)) == 0)
            st->n++;
    }
    cJSON_Delete(root);
    if (bad)
        goto fail;
    /* Overlapping tensors mean a corrupt (or hostile) file. */
    StTensor *sorted = malloc((st->n + 1) * sizeof *sorted);
    if (!sorted) {
        err_set(e, "%s: out of memory", path);
        goto fail;
    }
    memcpy(sorted, st->tensors, st->n * sizeof *sorted);
    qsort(sorted, st->n, sizeof *sorted, by_begin);
    for (size_t i = 1; i < st->n; i++) {
        const char *prev_end = (const char *)sorted[i - 1].data + sorted[i - 1].nbytes;
        if ((const char *)sorted[i].data < prev_end) {
            err_set(e, "%s: tensors \"%s\" and \"%s\" overlap", path, sorted[i - 1].name, sorted[i].name);
            free(sorted);
            goto fail;
        }
    }
    free(sorted);
    return 0;
fail:
    safetensors_close(st);
    return -1;
}

void safetensors_close(SafeTensors *st)
{
    if (st->map)
        munmap(st->map, st->map_size);
    for (size_t i = 0; i < st->n; i++)
        free(st->tensors[i].name);
    free(st->tensors);
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_vals[i]);
    }
    free(st->meta_keys);
    free(st->meta_vals);
    free(st->path);
    memset(st, 0, sizeof *st);
}

const StTensor *safetensors_find(const SafeTensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

const char *safetensors_meta(const SafeTensors *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0)
            return st->meta_vals[i];
    return NULL;
}

int safetensors_write(const char *path, const StWrite *t, size_t n,
                      const char *const *meta_keys, const char *const *meta_vals, size_t n_meta, Err *e)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return err_set(e, "%s: out of memory", path);
    if (n_meta) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (size_t i = 0; i < n_meta; i++)
            cJSON_AddStringToObject(m, meta_keys[i], meta_vals[i]);
    }
    size_t off = 0;
    size_t *sizes = calloc(n + 1, sizeof *sizes);
    for (size_t i = 0; sizes && i < n; i++) {
        size_t ne = 1;
        for (int d = 0; d < t[i].ndim; d++)
            ne *= (size_t)t[i].shape[d];
        sizes[i] = ne * dtype_size(t[i].dtype);
        cJSON *o = cJSON_AddObjectToObject(root, t[i].name);
        cJSON_AddStringToObject(o, "dtype", dtype_name(t[i].dtype));
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t[i].ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + sizes[i])));
        off += sizes[i];
    }
    char *json = sizes ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) {
        free(sizes);
        return err_set(e, "%s: out of memory", path);
    }
    /* Pad the header with spaces so the data start 8-byte aligned. */
    size_t jl = strlen(json), hl = (jl + 7) & ~(size_t)7;
    char *head = malloc(8 + hl);
    const void **ptrs = malloc((n + 1) * sizeof *ptrs);
    size_t *lens = malloc((n + 1) * sizeof *lens);
    int rc;
    if (!head || !ptrs || !lens) {
        rc = err_set(e, "%s: out of memory", path);
    } else {
        for (int i = 0; i < 8; i++)
            head[i] = (char)(((uint64_t)hl >> (8 * i)) & 0xff);
        memcpy(head + 8, json, jl);
        memset(head + 8 + jl, ' ', hl - jl);
        ptrs[0] = head;
        lens[0] = 8 + hl;
        for (size_t i = 0; i < n; i++) {
            ptrs[i + 1] = t[i].data;
            lens[i + 1] = sizes[i];
        }
        rc = fs_write_atomic(path, ptrs, lens, n + 1, e);
    }
    free(head);
    free(ptrs);
    free(lens);
    free(json);
    free(sizes);
    return rc;
}
