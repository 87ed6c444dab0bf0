/* cmd_corpus_build.c - `infuse corpus-build`: the base model's pretraining
 * corpus from dictd dictionaries (see src/dict.h and `make corpus`).
 *
 * A folder given to --dict stands for the NAME.index files in it, in name
 * order, so `--dict build/dict` takes whatever the Makefile decompressed. */
#include "cli.h"
#include "dict.h"
#include "fsutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds path (a .index or .dict file, or a folder of them) to the list. */
static int add_dict(char ***list, size_t *n, const char *path)
{
    char *one[1];
    char **found = NULL;
    size_t nf = 0;
    if (fs_is_dir(path)) {
        DIR *d = opendir(path);
        if (!d) return cli_fail("corpus-build: cannot read folder %s", path);
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l <= 6 || strcmp(de->d_name + l - 6, ".index") != 0) continue;
            char **nf2 = realloc(found, (nf + 1) * sizeof *found);
            if (!nf2 || !(nf2[nf] = fs_join(path, de->d_name))) {
                closedir(d);
                free(nf2 ? nf2 : found);
                return cli_fail("corpus-build: out of memory");
            }
            found = nf2, nf++;
        }
        closedir(d);
        if (!nf) return cli_fail("corpus-build: no .index files in %s", path);
        qsort(found, nf, sizeof *found, cmp_str);
    } else {
        size_t l = strlen(path);
        if (l > 5 && strcmp(path + l - 5, ".dict") == 0) {
            one[0] = malloc(l + 2);
            if (one[0]) snprintf(one[0], l + 2, "%.*s.index", (int)(l - 5), path);
        } else {
            one[0] = strdup(path);
        }
        if (!one[0]) return cli_fail("corpus-build: out of memory");
        found = malloc(sizeof *found);
        if (!found) {
            free(one[0]);
            return cli_fail("corpus-build: out of memory");
        }
        found[0] = one[0], nf = 1;
    }
    char **nl = realloc(*list, (*n + nf) * sizeof **list);
    if (!nl) {
        for (size_t i = 0; i < nf; i++) free(found[i]);
        free(found);
        return cli_fail("corpus-build: out of memory");
    }
    memcpy(nl + *n, found, nf * sizeof *found);
    *list = nl, *n += nf;
    free(found);
    return 0;
}

/* One headword per line; blank lines and "#" comments skipped. */
static int read_keep(const char *path, char **buf, char ***keep, size_t *n)
{
    Err e;
    size_t len;
    if (!(*buf = fs_read_all(path, &len, &e))) return cli_fail_err(&e);
    size_t cap = 0;
    for (char *p = *buf; *p;) {
        char *end = strchr(p, '\n');
        if (end) *end = 0;
        size_t l = strlen(p);
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' ')) p[--l] = 0;
        if (l && *p != '#') {
            if (*n == cap) {
                cap = cap ? 2 * cap : 64;
                char **nk = realloc(*keep, cap * sizeof *nk);
                if (!nk) return cli_fail("corpus-build: out of memory");
                *keep = nk;
            }
            (*keep)[(*n)++] = p;
        }
        p = end ? end + 1 : p + l;
    }
    return 0;
}

int cmd_corpus_build(int argc, char **argv)
{
    char **dicts = NULL, **keep = NULL, *keep_buf = NULL;
    size_t n_dicts = 0, n_keep = 0;
    const char *out = NULL;
    DictCorpusOptions o = {0, 0, 50, NULL, 0};
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        if (strcmp(a, "--dict") == 0 && v) {
            while (rc == 0 && i + 1 < argc && argv[i + 1][0] != '-') rc = add_dict(&dicts, &n_dicts, argv[++i]);
        } else if (strcmp(a, "-o") == 0 && v) {
            out = argv[++i];
        } else if (strcmp(a, "--max-entries") == 0 && v) {
            rc = cli_int(a, argv[++i], 0, 1L << 40, &x) ? 1 : 0;
            o.max_entries = x;
        } else if (strcmp(a, "--seed") == 0 && v) {
            rc = cli_int(a, argv[++i], 0, 1L << 62, &x) ? 1 : 0;
            o.seed = (uint64_t)x;
        } else if (strcmp(a, "--heldout-every") == 0 && v) {
            rc = cli_int(a, argv[++i], 0, 1L << 30, &x) ? 1 : 0;
            o.heldout_every = (int)x;
        } else if (strcmp(a, "--keep") == 0 && v) {
            rc = read_keep(argv[++i], &keep_buf, &keep, &n_keep);
        } else {
            rc = cli_fail("corpus-build: unexpected argument \"%s\"", a);
        }
    }
    if (rc == 0 && (!n_dicts || !out))
        rc = cli_fail("usage: infuse corpus-build --dict DIR_OR_INDEX... -o OUTDIR [--max-entries N] [--seed S] "
                      "[--keep FILE] [--heldout-every N]");
    if (rc == 0) {
        o.keep = (const char *const *)keep;
        o.n_keep = n_keep;
        DictCorpusStats st;
        Err e;
        if (dict_corpus_build((const char *const *)dicts, n_dicts, out, &o, &st, &e)) {
            rc = cli_fail_err(&e);
        } else {
            for (int i = 0; i < st.n_dicts; i++)
                printf("%-10s %8ld entries, %8ld kept\n", st.names[i], st.available[i], st.written[i]);
            printf("%s/text.txt: %ld entries, %ld words\n", out, st.entries - st.heldout, st.words);
            printf("%s/qa.jsonl: %ld Q&A pairs\n", out, st.qa);
            printf("%s/heldout.txt: %ld entries, %ld words\n", out, st.heldout, st.heldout_words);
        }
    }
    for (size_t i = 0; i < n_dicts; i++) free(dicts[i]);
    free(dicts), free(keep), free(keep_buf);
    return rc;
}
