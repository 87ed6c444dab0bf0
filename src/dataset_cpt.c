/* dataset_cpt.c - continued pre-training examples: documents joined with
 * end-of-sequence tokens and cut into windows (rules in dataset.h).
 *
 * All tokens of one call are gathered into one stream first, so a window
 * may span the end of one document and the start of the next, as packed
 * pre-training does; the end-of-sequence token between them tells the model
 * that the text before it is unrelated. */
#include "dataset_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fsutil.h"
#include "jsonl.h"

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), m = strlen(ext);
    return n > m && strcasecmp(name + n - m, ext) == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct PathList {
    char **v;
    size_t n, cap;
} PathList;

static void paths_free(PathList *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Takes ownership of p (NULL = out of memory). */
static int paths_add(PathList *l, char *p, Err *e)
{
    if (p && l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(p);
            p = NULL;
        } else {
            l->v = v;
            l->cap = cap;
        }
    }
    if (!p)
        return err_set(e, "dataset: out of memory");
    l->v[l->n++] = p;
    return 0;
}

/* Appends dir's .txt, .md and .jsonl files, sorted by name. */
static int list_dir(PathList *l, const char *dir, Err *e)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return err_set(e, "%s: cannot open folder", dir);
    size_t first = l->n;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(dp))) {
        const char *name = de->d_name;
        if (name[0] == '.' || !(has_ext(name, ".txt") || has_ext(name, ".md") || has_ext(name, ".jsonl")))
            continue;
        char *p = fs_join(dir, name);
        if (p && fs_is_dir(p)) {
            free(p);
            continue;
        }
        rc = paths_add(l, p, e);
    }
    closedir(dp);
    if (rc < 0)
        return -1;
    if (l->n == first)
        return err_set(e, "%s: no .txt, .md or .jsonl files in this folder", dir);
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return 0;
}

static int add_doc(TokIds *all, const Tokenizer *tok, const char *text, size_t len, int eos_id, Err *e)
{
    if (tokenizer_encode(tok, text, len, 0, all, e) < 0)
        return -1;
    return tokids_push(all, eos_id, e);
}

static int read_doc_file(Dataset *d, TokIds *all, const char *path, const Tokenizer *tok, int eos_id, Err *e)
{
    TextFile f;
    if (dataset_read_file(d, &f, path, e) < 0)
        return -1;
    int rc = 0;
    if (!has_ext(path, ".jsonl")) {
        if (add_doc(all, tok, f.text, f.len, eos_id, e) < 0)
            rc = err_prefix(e, "%s", path);
        textfile_free(&f);
        return rc;
    }
    Jsonl j;
    jsonl_init(&j, path, &f);
    cJSON *obj;
    while (rc == 0 && (rc = jsonl_next(&j, &obj, e)) == 1) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "text");
        if (!t)
            rc = err_set(e, "%s:%ld: missing \"text\"", path, j.line);
        else if (!cJSON_IsString(t))
            rc = err_set(e, "%s:%ld: text: expected a string, got %s", path, j.line, json_type_name(t));
        else if (add_doc(all, tok, t->valuestring, strlen(t->valuestring), eos_id, e) < 0)
            rc = err_prefix(e, "%s:%ld", path, j.line);
        else
            rc = 0;
        cJSON_Delete(obj);
    }
    if (rc == 0 && j.n_records == 0)
        rc = err_set(e, "%s: no records (only blank lines)", path);
    textfile_free(&f);
    return rc;
}

static int windows(Dataset *d, const TokIds *all, int seq_len, Err *e)
{
    uint8_t *mask = malloc((size_t)seq_len);
    if (!mask)
        return err_set(e, "dataset: out of memory");
    memset(mask, 1, (size_t)seq_len);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < all->n; off += (size_t)seq_len) {
        size_t w = all->n - off < (size_t)seq_len ? all->n - off : (size_t)seq_len;
        if (w >= 2)
            rc = dataset_push(d, all->v + off, mask, (int)w, 1.0f, e);
    }
    free(mask);
    return rc;
}

int dataset_load_cpt(Dataset *d, const char *const *paths, size_t n, const Tokenizer *tok, int seq_len,
                     int eos_id, Err *e)
{
    if (n == 0)
        return err_set(e, "dataset: no CPT data given");
    if (dataset_check_args(tok, seq_len, eos_id, e) < 0)
        return -1;
    DatasetMark m;
    dataset_mark(d, &m);
    PathList files = {0};
    TokIds all = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (fs_is_dir(paths[i]))
            rc = list_dir(&files, paths[i], e);
        else
            rc = paths_add(&files, strdup(paths[i]), e);
    }
    for (size_t i = 0; rc == 0 && i < files.n; i++)
        rc = read_doc_file(d, &all, files.v[i], tok, eos_id, e);
    size_t before = d->n;
    if (rc == 0)
        rc = windows(d, &all, seq_len, e);
    /* Every file adds at least its eos, so only one file can fall short. */
    if (rc == 0 && d->n == before)
        rc = err_set(e, "%s: no examples (fewer than 2 tokens)", paths[0]);
    paths_free(&files);
    tokids_free(&all);
    if (rc < 0)
        return dataset_rollback(d, &m);
    dataset_finish_hash(d);
    return 0;
}
