/* bpe_train_merge.c - the BPE merge loop with incremental pair counts.
 *
 * Recounting every pair after every merge costs the whole corpus per merge;
 * instead each pair keeps its count (occurrences weighted by word frequency)
 * and the list of words it may occur in.  Merging (a, b) -> c visits only the
 * words on (a, b)'s list and changes the counts of the pairs around each
 * occurrence: (x, a) and (b, y) lose, (x, c) and (c, y) gain.
 *
 * The best pair comes from a max-heap with lazy updates.  A pair's heap
 * entry is left alone when its count drops; when popped, an entry whose count
 * is no longer the pair's goes back in with the current count.  A count that
 * rises (only pairs with the new symbol, or with a symbol a merge produced
 * again) gets a fresh entry at once.  So every live pair has an entry at or
 * above its count, and an entry popped with its exact count is the maximum.
 *
 * A word's list entries are appended, never removed: a word may sit on a
 * list it no longer has the pair in (the merge then finds nothing there),
 * and may appear twice (a per-word stamp skips the repeat). */
#include "bpe_train_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct Pair {
    int32_t a, b;
    int64_t count;
    uint32_t *w; /* (nw) words that may hold the pair */
    uint32_t nw, wcap;
    uint32_t stamp; /* merge number that last queued it for the heap */
    uint8_t done;   /* merged (or refused): never again */
} Pair;

typedef struct HeapItem {
    int64_t count;
    uint32_t pair;
} HeapItem;

typedef struct Learn {
    BpeTrainer *t;
    uint32_t byte_rank[256]; /* a byte symbol's place among the 256 ids written */
    /* Words with two or more bytes, as symbol ids, shrinking in place. */
    int32_t *sym;        /* (sum of word lengths) */
    uint32_t *woff, *wlen, *wstamp; /* (nw) */
    int64_t *wcount;     /* (nw) */
    size_t nw;

    Pair *pair;          /* (npair) */
    size_t npair, pair_cap;
    uint32_t *slot;      /* (slot_cap) pair index + 1 by (a, b) hash; 0 = empty */
    size_t slot_cap;

    HeapItem *heap;
    size_t nheap, heap_cap;
    uint32_t *touched;   /* pairs whose count rose in this merge */
    size_t ntouched, touched_cap;
} Learn;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static uint64_t pair_hash(int32_t a, int32_t b)
{
    uint64_t h = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static int slots_grow(Learn *L)
{
    size_t cap = L->slot_cap ? L->slot_cap * 2 : 1 << 16;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t k = 0; k < L->npair; k++) {
        size_t i = pair_hash(L->pair[k].a, L->pair[k].b) & (cap - 1);
        while (slot[i]) i = (i + 1) & (cap - 1);
        slot[i] = (uint32_t)k + 1;
    }
    free(L->slot);
    L->slot = slot;
    L->slot_cap = cap;
    return 0;
}

/* Index of pair (a, b), created with count 0 if new; -1 out of memory. */
static long pair_get(Learn *L, int32_t a, int32_t b)
{
    if ((L->npair + 1) * 2 > L->slot_cap && slots_grow(L)) return -1;
    size_t mask = L->slot_cap - 1, i = pair_hash(a, b) & mask;
    for (; L->slot[i]; i = (i + 1) & mask) {
        uint32_t k = L->slot[i] - 1;
        if (L->pair[k].a == a && L->pair[k].b == b) return k;
    }
    if (L->npair >= UINT32_MAX - 1) return -1;
    if (grow((void **)&L->pair, &L->pair_cap, L->npair + 1, sizeof *L->pair)) return -1;
    Pair *p = &L->pair[L->npair];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    L->slot[i] = (uint32_t)L->npair + 1;
    return (long)L->npair++;
}

/* Symbol order for ties: the order of the ids written, bytes by byte-level
 * character, merged tokens after them in creation order. */
static uint32_t sym_rank(const Learn *L, int32_t x) { return x < 256 ? L->byte_rank[x] : (uint32_t)x; }

/* Heap order: the larger count first, then the pair with the smaller ids
 * (left, then right), as HF's BpeTrainer breaks ties. */
static int before(const Learn *L, const HeapItem *x, const HeapItem *y)
{
    if (x->count != y->count) return x->count > y->count;
    const Pair *p = &L->pair[x->pair], *q = &L->pair[y->pair];
    uint32_t pa = sym_rank(L, p->a), qa = sym_rank(L, q->a);
    if (pa != qa) return pa < qa;
    return sym_rank(L, p->b) < sym_rank(L, q->b);
}

static int heap_push(Learn *L, int64_t count, uint32_t pair)
{
    if (grow((void **)&L->heap, &L->heap_cap, L->nheap + 1, sizeof *L->heap)) return -1;
    HeapItem it = {count, pair};
    size_t i = L->nheap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(L, &it, &L->heap[up])) break;
        L->heap[i] = L->heap[up];
        i = up;
    }
    L->heap[i] = it;
    return 0;
}

static HeapItem heap_pop(Learn *L)
{
    HeapItem top = L->heap[0], last = L->heap[--L->nheap];
    size_t i = 0, n = L->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(L, &L->heap[c + 1], &L->heap[c])) c++;
        if (!before(L, &L->heap[c], &last)) break;
        L->heap[i] = L->heap[c];
        i = c;
    }
    if (n) L->heap[i] = last;
    return top;
}

/* Adds delta to pair (a, b)'s count; a rise puts word w on its list and the
 * pair on this merge's touched list. */
static int pair_add(Learn *L, int32_t a, int32_t b, int64_t delta, uint32_t w, uint32_t merge_no)
{
    long k = pair_get(L, a, b);
    if (k < 0) return -1;
    Pair *p = &L->pair[k];
    p->count += delta;
    if (delta <= 0) return 0;
    if (p->nw == 0 || p->w[p->nw - 1] != w) {
        if (p->nw == p->wcap) {
            size_t cap = p->wcap;
            if (grow((void **)&p->w, &cap, (size_t)p->nw + 1, sizeof *p->w) || cap > UINT32_MAX) return -1;
            p->wcap = (uint32_t)cap;
        }
        p->w[p->nw++] = w;
    }
    if (p->stamp != merge_no) {
        p->stamp = merge_no;
        if (grow((void **)&L->touched, &L->touched_cap, L->ntouched + 1, sizeof *L->touched)) return -1;
        L->touched[L->ntouched++] = (uint32_t)k;
    }
    return 0;
}

/* Replaces each (a, b) in word w, left to right, by c, and moves the
 * counts of the pairs around each replaced occurrence. */
static int merge_word(Learn *L, uint32_t w, int32_t a, int32_t b, int32_t c, uint32_t merge_no)
{
    int32_t *s = L->sym + L->woff[w];
    size_t n = L->wlen[w], j = 0;
    int64_t f = L->wcount[w];
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (j > 0 && (pair_add(L, s[j - 1], a, -f, w, merge_no) || pair_add(L, s[j - 1], c, f, w, merge_no)))
                return -1;
            if (pair_add(L, a, b, -f, w, merge_no)) return -1;
            if (i + 2 < n && (pair_add(L, b, s[i + 2], -f, w, merge_no) || pair_add(L, c, s[i + 2], f, w, merge_no)))
                return -1;
            s[j++] = c;
            i += 2;
        } else {
            s[j++] = s[i++];
        }
    }
    L->wlen[w] = (uint32_t)j;
    return 0;
}

static void learn_free(Learn *L)
{
    free(L->sym);
    free(L->woff);
    free(L->wlen);
    free(L->wstamp);
    free(L->wcount);
    for (size_t k = 0; k < L->npair; k++) free(L->pair[k].w);
    free(L->pair);
    free(L->slot);
    free(L->heap);
    free(L->touched);
}

/* The words of two or more bytes as symbol strings, and their pairs. */
static int learn_init(Learn *L)
{
    const BpeStrSet *ws = &L->t->words;
    size_t total = 0;
    for (size_t k = 0; k < ws->n; k++)
        if (ws->len[k] >= 2) {
            total += ws->len[k];
            L->nw++;
        }
    L->sym = malloc((total ? total : 1) * sizeof *L->sym);
    L->woff = malloc((L->nw + 1) * sizeof *L->woff);
    L->wlen = malloc((L->nw + 1) * sizeof *L->wlen);
    L->wstamp = calloc(L->nw + 1, sizeof *L->wstamp);
    L->wcount = malloc((L->nw + 1) * sizeof *L->wcount);
    if (!L->sym || !L->woff || !L->wlen || !L->wstamp || !L->wcount) return -1;
    size_t w = 0, at = 0;
    for (size_t k = 0; k < ws->n; k++) {
        if (ws->len[k] < 2) continue;
        const uint8_t *p = (const uint8_t *)ws->arena.s + ws->off[k];
        L->woff[w] = (uint32_t)at;
        L->wlen[w] = ws->len[k];
        L->wcount[w] = (int64_t)L->t->count[k];
        for (uint32_t i = 0; i < ws->len[k]; i++) L->sym[at + i] = p[i];
        for (uint32_t i = 0; i + 1 < ws->len[k]; i++)
            if (pair_add(L, p[i], p[i + 1], L->wcount[w], (uint32_t)w, 0)) return -1;
        at += ws->len[k];
        w++;
    }
    L->ntouched = 0;
    for (size_t k = 0; k < L->npair; k++)
        if (heap_push(L, L->pair[k].count, (uint32_t)k)) return -1;
    return 0;
}

/* 1 if bytes m[0..n) are the raw form of a special token: a merged token
 * with them would have the special token's string as its vocab key. */
static int is_special_raw(const BpeTrainer *t, const uint8_t *m, size_t n)
{
    for (int k = 0; k < t->n_special; k++)
        if (t->special_raw_len[k] == (long)n && memcmp(t->special_raw[k], m, n) == 0) return 1;
    return 0;
}

int bpe_learn(BpeTrainer *t, int vocab_size, int min_frequency, Err *e)
{
    bpe_strset_free(&t->syms);
    free(t->merges);
    t->merges = NULL;
    t->n_merges = 0;
    t->trained = 0;
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        int added;
        if (bpe_strset_add(&t->syms, &c, 1, &added) != b) return err_set(e, "tokenizer-train: out of memory");
    }
    size_t target = (size_t)vocab_size - (size_t)t->n_special, merge_cap = 0;
    Learn L = {.t = t};
    bpe_byte_order(L.byte_rank);
    StrBuf merged = {0};
    int rc = learn_init(&L);
    uint32_t merge_no = 0;
    while (rc == 0 && t->syms.n < target && L.nheap > 0) {
        HeapItem top = heap_pop(&L);
        Pair *p = &L.pair[top.pair];
        if (p->done || p->count <= 0) continue;
        if (top.count != p->count) {
            if (top.count > p->count && p->count >= min_frequency) rc = heap_push(&L, p->count, top.pair);
            continue;
        }
        if (p->count < min_frequency) break;
        int32_t a = p->a, b = p->b;
        p->done = 1;
        merged.n = 0;
        if (strbuf_put(&merged, t->syms.arena.s + t->syms.off[a], t->syms.len[a]) ||
            strbuf_put(&merged, t->syms.arena.s + t->syms.off[b], t->syms.len[b])) {
            rc = -1;
            break;
        }
        if (is_special_raw(t, (const uint8_t *)merged.s, merged.n)) continue;
        int added;
        long c = bpe_strset_add(&t->syms, merged.s, merged.n, &added);
        if (c < 0 || grow((void **)&t->merges, &merge_cap, (size_t)t->n_merges + 1, sizeof *t->merges)) {
            rc = -1;
            break;
        }
        t->merges[t->n_merges++] = (BpeMerge){a, b};
        merge_no++;
        /* The list is taken out first: the merge may append to other lists
         * while it runs, and p may move when the pair array grows. */
        uint32_t *list = p->w, nl = p->nw;
        p->w = NULL;
        p->nw = p->wcap = 0;
        L.ntouched = 0;
        for (uint32_t i = 0; i < nl && rc == 0; i++) {
            uint32_t w = list[i];
            if (L.wstamp[w] == merge_no) continue;
            L.wstamp[w] = merge_no;
            rc = merge_word(&L, w, a, b, (int32_t)c, merge_no);
        }
        free(list);
        for (size_t i = 0; i < L.ntouched && rc == 0; i++) {
            Pair *q = &L.pair[L.touched[i]];
            if (!q->done && q->count >= min_frequency) rc = heap_push(&L, q->count, L.touched[i]);
        }
    }
    learn_free(&L);
    free(merged.s);
    if (rc) return err_set(e, "tokenizer-train: out of memory learning merges");
    t->trained = 1;
    return 0;
}
