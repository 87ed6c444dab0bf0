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

static void permute(size_t *v, size_t n, Rng *r)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(((unsigned __int128)rng_next(r) * i) >> 64);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Grouping by length: the shuffled order is cut into windows of
 * GROUP_WINDOW batches, each window sorted by length, and the whole batches
 * so formed visited in a second shuffled order.  Batches then hold examples
 * of like length (little padding) while each batch is still a random draw.
 * The last, partial batch stays last so every batch but one is whole. */
enum { GROUP_WINDOW = 32 };

static int group(Batcher *b, Err *e)
{
    size_t n = b->d->n, B = (size_t)b->group;
    size_t win = B * GROUP_WINDOW, nb = n / B;
    /* keys are length << 32 | index (both below 2^31): sorting them sorts
     * by length, ties by index, with no context for qsort */
    uint64_t *key = malloc((n < win ? n : win) * sizeof *key);
    size_t *order = malloc((nb ? nb : 1) * sizeof *order), *copy = malloc(n * sizeof *copy);
    if (!key || !order || !copy) {
        free(key);
        free(order);
        free(copy);
        return err_set(e, "batcher: out of memory");
    }
    for (size_t at = 0; at < n; at += win) {
        size_t w = n - at < win ? n - at : win;
        for (size_t i = 0; i < w; i++)
            key[i] = (uint64_t)b->d->ex[b->perm[at + i]].n << 32 | b->perm[at + i];
        qsort(key, w, sizeof *key, cmp_u64);
        for (size_t i = 0; i < w; i++)
            b->perm[at + i] = (size_t)(key[i] & 0xffffffffu);
    }
    Rng r;
    rng_seed(&r, mix64(b->seed ^ 0x67726f7570ull) ^ (uint64_t)b->epoch);
    for (size_t i = 0; i < nb; i++)
        order[i] = i;
    permute(order, nb, &r);
    memcpy(copy, b->perm, n * sizeof *copy);
    for (size_t i = 0; i < nb; i++)
        memcpy(b->perm + i * B, copy + order[i] * B, B * sizeof *copy);
    free(key);
    free(order);
    free(copy);
    return 0;
}

/* The visiting order of b's epoch. */
static int shuffle(Batcher *b, Err *e)
{
    Rng r;
    rng_seed(&r, mix64(b->seed) ^ (uint64_t)b->epoch);
    for (size_t i = 0; i < b->d->n; i++)
        b->perm[i] = i;
    permute(b->perm, b->d->n, &r);
    return b->group > 1 ? group(b, e) : 0;
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
    return shuffle(b, e);
}

int batcher_group(Batcher *b, int B, Err *e)
{
    if (B < 0)
        return err_set(e, "batcher: group size must be >= 0, got %d", B);
    b->group = B;
    return shuffle(b, e);
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
            if (shuffle(b, e) != 0)
                return -1;
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
