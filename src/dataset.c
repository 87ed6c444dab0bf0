/* dataset.c - a Dataset's memory, hash, rollback and split (see dataset.h;
 * the loaders are dataset_cpt.c and dataset_sft.c). */
#include "dataset_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dataset_mark(const Dataset *d, DatasetMark *m)
{
    m->n = d->n;
    m->n_tokens = d->n_tokens;
    m->n_targets = d->n_targets;
    m->n_truncated = d->n_truncated;
    m->n_dropped = d->n_dropped;
    m->n_files = d->n_files;
    m->hash = d->hash;
    memcpy(m->sha256, d->sha256, sizeof m->sha256);
}

int dataset_rollback(Dataset *d, const DatasetMark *m)
{
    for (size_t i = m->n; i < d->n; i++) {
        free(d->ex[i].tok);
        free(d->ex[i].mask);
    }
    d->n = m->n;
    d->n_tokens = m->n_tokens;
    d->n_targets = m->n_targets;
    d->n_truncated = m->n_truncated;
    d->n_dropped = m->n_dropped;
    d->n_files = m->n_files;
    d->hash = m->hash;
    memcpy(d->sha256, m->sha256, sizeof d->sha256);
    return -1;
}

int dataset_read_file(Dataset *d, TextFile *f, const char *path, Err *e)
{
    /* A zeroed Dataset has no hash state yet; the first file starts it. */
    if (d->n_files == 0)
        sha256_init(&d->hash);
    d->n_files++;
    return textfile_read(f, path, &d->hash, e);
}

void dataset_finish_hash(Dataset *d)
{
    Sha256 s = d->hash; /* sha256_hex finishes its argument; the running state goes on */
    sha256_hex(&s, d->sha256);
}

int dataset_push(Dataset *d, const int32_t *tok, const uint8_t *mask, int n, float weight, Err *e)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        Example *ex = realloc(d->ex, cap * sizeof *ex);
        if (!ex)
            return err_set(e, "dataset: out of memory");
        d->ex = ex;
        d->cap = cap;
    }
    Example *x = &d->ex[d->n];
    x->tok = malloc((size_t)n * sizeof *x->tok);
    x->mask = malloc((size_t)n);
    if (!x->tok || !x->mask) {
        free(x->tok);
        free(x->mask);
        return err_set(e, "dataset: out of memory");
    }
    memcpy(x->tok, tok, (size_t)n * sizeof *tok);
    memcpy(x->mask, mask, (size_t)n);
    x->mask[0] = 0;
    x->n = n;
    x->weight = weight;
    x->copy = 0;
    x->golden = 0;
    long targets = 0;
    for (int i = 0; i < n; i++)
        targets += x->mask[i];
    d->n++;
    d->n_tokens += n;
    d->n_targets += targets;
    return 0;
}

int dataset_check_args(const Tokenizer *tok, int seq_len, int eos_id, Err *e)
{
    if (seq_len < 2)
        return err_set(e, "dataset: seq_len must be at least 2, got %d", seq_len);
    if (eos_id < 0 || eos_id >= tokenizer_vocab_size(tok) || !tokenizer_token_bytes(tok, eos_id, &(size_t){0}))
        return err_set(e, "dataset: end-of-sequence id %d is not a token of the tokenizer", eos_id);
    return 0;
}

void dataset_free(Dataset *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->ex[i].tok);
        free(d->ex[i].mask);
    }
    free(d->ex);
    memset(d, 0, sizeof *d);
}

int dataset_max_len(const Dataset *d)
{
    int m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->ex[i].n > m)
            m = d->ex[i].n;
    return m;
}

size_t dataset_n_splittable(const Dataset *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += !d->ex[i].copy && !d->ex[i].golden;
    return n;
}

int dataset_split(Dataset *d, Dataset *valid, double fraction, uint64_t seed, Err *e)
{
    const size_t n = dataset_n_splittable(d);
    if (n < 2)
        return err_set(e, "dataset: %zu example%s that may be held out (not Golden Data, not augmented copies): "
                          "a validation split needs at least 2", n, n == 1 ? "" : "s");
    if (!(fraction >= 0 && fraction < 1))
        return err_set(e, "dataset: validation fraction must be in [0, 1), got %g", fraction);
    if (valid->n || valid->ex)
        return err_set(e, "dataset: the validation set to split into is not empty");
    size_t k = (size_t)llround(fraction * (double)n);
    if (k < 1)
        k = 1;
    if (k > n - 1)
        k = n - 1;
    size_t *perm = malloc(n * sizeof *perm);
    uint8_t *held = calloc(n, 1);
    Example *vex = malloc(k * sizeof *vex);
    if (!perm || !held || !vex) {
        free(perm);
        free(held);
        free(vex);
        return err_set(e, "dataset: out of memory");
    }
    /* The first k of a seeded permutation are held out (partial Fisher-Yates). */
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(((unsigned __int128)rng_next(&r) * (n - i)) >> 64);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        held[perm[i]] = 1;
    }
    memset(valid, 0, sizeof *valid);
    valid->ex = vex;
    valid->cap = k;
    size_t kept = 0, orig = 0;
    int cur_held = 0;   /* of the last example that is not a copy: its copies follow it */
    for (size_t i = 0; i < d->n; i++) {
        Example x = d->ex[i];
        long targets = 0;
        for (int t = 0; t < x.n; t++)
            targets += x.mask[t];
        if (!x.copy)
            cur_held = x.golden ? 0 : held[orig++];
        if (cur_held) {
            d->n_tokens -= x.n;
            d->n_targets -= targets;
            if (x.copy) {
                free(x.tok);
                free(x.mask);
                continue;
            }
            valid->ex[valid->n++] = x;
            valid->n_tokens += x.n;
            valid->n_targets += targets;
        } else {
            d->ex[kept++] = x;
        }
    }
    d->n = kept;
    valid->n_files = d->n_files;
    valid->hash = d->hash;
    memcpy(valid->sha256, d->sha256, sizeof valid->sha256);
    free(perm);
    free(held);
    return 0;
}
