/* qa_corpus.c - corpus documents as texts (see qa_corpus.h). */
#include "qa_corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fsutil.h"
#include "jsonl.h"
#include "textfile.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int push(QaCorpus *c, const char *text, const char *name)
{
    char **t = realloc(c->text, (c->n + 1) * sizeof *t);
    if (!t)
        return -1;
    c->text = t;
    char **nm = realloc(c->name, (c->n + 1) * sizeof *nm);
    if (!nm)
        return -1;
    c->name = nm;
    t[c->n] = strdup(text);
    nm[c->n] = strdup(name);
    if (!t[c->n] || !nm[c->n]) {
        free(t[c->n]);
        free(nm[c->n]);
        return -1;
    }
    c->n++;
    return 0;
}

static int load_file(QaCorpus *c, const char *path, Err *e)
{
    TextFile f;
    if (textfile_read(&f, path, NULL, e) != 0)
        return -1;
    int rc = 0;
    if (!ends_with(path, ".jsonl")) {
        if (push(c, f.text, path) != 0)
            rc = err_set(e, "%s: out of memory", path);
    } else {
        Jsonl j;
        jsonl_init(&j, path, &f);
        cJSON *o;
        int got;
        while (rc == 0 && (got = jsonl_next(&j, &o, e)) != 0) {
            if (got < 0) {
                rc = -1;
                break;
            }
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
            char name[1100];
            snprintf(name, sizeof name, "%s:%ld", path, j.line);
            if (!cJSON_IsString(t))
                rc = err_set(e, "%s: text: expected a string, got %s", name, json_type_name(t));
            else if (push(c, t->valuestring, name) != 0)
                rc = err_set(e, "%s: out of memory", path);
            cJSON_Delete(o);
        }
    }
    textfile_free(&f);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int qa_corpus_load(QaCorpus *c, const char *path, Err *e)
{
    memset(c, 0, sizeof *c);
    if (!fs_is_dir(path)) {
        if (load_file(c, path, e) != 0) {
            qa_corpus_free(c);
            return -1;
        }
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return err_set(e, "%s: cannot open the folder", path);
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            !(ends_with(de->d_name, ".txt") || ends_with(de->d_name, ".md") || ends_with(de->d_name, ".jsonl")))
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup(de->d_name))) {
            names = nn ? nn : names;
            rc = err_set(e, "%s: out of memory", path);
            break;
        }
        names = nn;
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *full = fs_join(path, names[i]);
        rc = full ? load_file(c, full, e) : err_set(e, "%s: out of memory", path);
        free(full);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc)
        qa_corpus_free(c);
    return rc;
}

void qa_corpus_free(QaCorpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->text[i]);
        free(c->name[i]);
    }
    free(c->text);
    free(c->name);
    memset(c, 0, sizeof *c);
}
