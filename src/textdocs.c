/* textdocs.c - documents from files and folders (see textdocs.h). */
#include "textdocs.h"
#include "fsutil.h"
#include "jsonl.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), m = strlen(ext);
    return n > m && strcasecmp(name + n - m, ext) == 0;
}

static int is_doc(const char *name)
{
    return name[0] != '.' && (has_ext(name, ".txt") || has_ext(name, ".md") || has_ext(name, ".jsonl"));
}

int textdocs_is_jsonl(const char *path) { return has_ext(path, ".jsonl"); }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Takes ownership of p (NULL = out of memory). */
static int add(char ***files, size_t *n, char *p, Err *e)
{
    char **v = p ? realloc(*files, (*n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(p);
        return err_set(e, "out of memory listing files");
    }
    v[(*n)++] = p;
    *files = v;
    return 0;
}

int textdocs_list(const char *path, int strict, char ***files, size_t *n, Err *e)
{
    if (!fs_is_dir(path))
        return add(files, n, strdup(path), e);
    DIR *dp = opendir(path);
    if (!dp)
        return err_set(e, "%s: cannot open folder", path);
    size_t first = *n;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(dp))) {
        if (!is_doc(de->d_name))
            continue;
        char *p = fs_join(path, de->d_name);
        if (p && fs_is_dir(p))
            free(p);
        else
            rc = add(files, n, p, e);
    }
    closedir(dp);
    if (rc)
        return -1;
    if (strict && *n == first)
        return err_set(e, "%s: no .txt, .md or .jsonl files in this folder", path);
    qsort(*files + first, *n - first, sizeof **files, cmp_str);
    return 0;
}

void textdocs_list_free(char **files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

int textdocs_each(const char *path, const TextFile *f, int strict, TextDocFn fn, void *ctx, Err *e)
{
    if (!textdocs_is_jsonl(path))
        return fn(ctx, f->text, f->len, 0, e) < 0 ? err_prefix(e, "%s", path) : 0;
    Jsonl j;
    jsonl_init(&j, path, f);
    cJSON *obj;
    int rc = 0;
    while (rc == 0 && (rc = jsonl_next(&j, &obj, e)) == 1) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "text");
        if (!t)
            rc = err_set(e, "%s:%ld: missing \"text\"", path, j.line);
        else if (!cJSON_IsString(t))
            rc = err_set(e, "%s:%ld: text: expected a string, got %s", path, j.line, json_type_name(t));
        else if (fn(ctx, t->valuestring, strlen(t->valuestring), j.line, e) < 0)
            rc = err_prefix(e, "%s:%ld", path, j.line);
        else
            rc = 0;
        cJSON_Delete(obj);
    }
    if (rc == 0 && strict && j.n_records == 0)
        rc = err_set(e, "%s: no records (only blank lines)", path);
    return rc < 0 ? -1 : 0;
}
