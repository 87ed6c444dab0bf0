/* batcher.c - the order of examples and their packing into batches (see
 * dataset.h).
 *
 * Each epoch's permutation is drawn from an Rng seeded by (seed, epoch)
 * alone, never from the previous epoch's state, so restoring a checkpoint
 * needs only the three numbers, not a replay of every earlier draw. */
#include "dataset.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void shuffle(size_t *perm, size_t n, uint64_t seed, long epoch)
{
    Rng r;
    rng_seed(&r, mix64(seed) ^ (uint64_t)epoch);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(((unsigned __int128)rng_next(&r) * i) >> 64);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

int batcher_init(Batcher *b, const Dataset *d, uint64_t seed, long epoch, long pos, Err *e)
{
    memset(b, 0, sizeof *b);
    if (d->n == 0)
        return err_set(e, "batcher: the dataset is empty");
    if (d->n > INT_MAX)
        return err_set(e, "batcher: %zu examples: at most %d", d->n, INT_MAX);
    if (epoch < 0 || pos < 0)
        return err_set(e, "batcher: epoch %ld, position %ld: must be >= 0", epoch, pos);
    long n = (long)d->n;
    epoch += pos / n;
    pos %= n;
    if (!(b->perm = malloc(d->n * sizeof *b->perm)))
        return err_set(e, "batcher: out of memory");
    b->d = d;
    b->seed = seed;
    b->epoch = epoch;
    b->pos = pos;
    b->max_T = dataset_max_len(d);
    shuffle(b->perm, d->n, seed, epoch);
    return 0;
}

void batcher_free(Batcher *b)
{
    free(b->perm);
    memset(b, 0, sizeof *b);
}

static int reserve(Batch *out, int B, int max_T, Err *e)
{
    size_t need = (size_t)B * (size_t)max_T;
    if (need > out->cap) {
        int32_t *tok = realloc(out->tok, need * sizeof *tok);
        if (tok)
            out->tok = tok;
        uint8_t *mask = tok ? realloc(out->mask, need) : NULL;
        if (!mask)
            return err_set(e, "batcher: out of memory");
        out->mask = mask;
        out->cap = need;
    }
    if (B > out->cap_B) {
        float *w = realloc(out->weight, (size_t)B * sizeof *w);
        if (w)
            out->weight = w;
        int *len = w ? realloc(out->len, (size_t)B * sizeof *len) : NULL;
        if (!len)
            return err_set(e, "batcher: out of memory");
        out->len = len;
        out->cap_B = B;
    }
    return 0;
}

int batcher_next(Batcher *b, int B, Batch *out, Err *e)
{
    if (B < 1)
        return err_set(e, "batcher: batch size must be >= 1, got %d", B);
    if (reserve(out, B, b->max_T, e) < 0)
        return -1;
    const Dataset *d = b->d;
    int T = 0;
    /* Two passes over the same picks: the first finds T, the second fills
     * rows T apart; the indices are kept in len[] meanwhile. */
    for (int i = 0; i < B; i++) {
        size_t idx = b->perm[b->pos];
        out->len[i] = (int)idx;
        if (d->ex[idx].n > T)
            T = d->ex[idx].n;
        if (++b->pos == (long)d->n) {
            b->pos = 0;
            b->epoch++;
            shuffle(b->perm, d->n, b->seed, b->epoch);
        }
    }
    out->B = B;
    out->T = T;
    out->n_targets = 0;
    for (int i = 0; i < B; i++) {
        const Example *x = &d->ex[out->len[i]];
        int32_t *tok = out->tok + (size_t)i * (size_t)T;
        uint8_t *mask = out->mask + (size_t)i * (size_t)T;
        memcpy(tok, x->tok, (size_t)x->n * sizeof *tok);
        memcpy(mask, x->mask, (size_t)x->n);
        memset(tok + x->n, 0, (size_t)(T - x->n) * sizeof *tok);
        memset(mask + x->n, 0, (size_t)(T - x->n));
        for (int t = 0; t < x->n; t++)
            out->n_targets += x->mask[t];
        out->weight[i] = x->weight;
        out->len[i] = x->n;
    }
    return 0;
}

void batch_free(Batch *out)
{
    free(out->tok);
    free(out->mask);
    free(out->weight);
    free(out->len);
    memset(out, 0, sizeof *out);
}
