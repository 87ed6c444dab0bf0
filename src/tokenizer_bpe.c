/* tokenizer_bpe.c - rank-ordered BPE merging of one pre-tokenized piece.
 *
 * Mirrors HF's Word::merge_all: the piece's bytes become symbols (the vocab id
 * of each byte's byte-level character) in a doubly linked list; a min-heap
 * holds candidate merges ordered by (rank, position).  Popping the best one,
 * we skip it when it has gone stale (its left symbol was absorbed, or the pair
 * there is no longer the one it was pushed for), else merge and push the two
 * new neighbouring pairs.  O(n log n) in the piece length, so a 10k-space run
 * is cheap.  Bytes without a vocab symbol are dropped, as HF does when the
 * model has no unk token. */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct TokSym {
    int32_t id;
    int32_t prev, next; /* neighbours in the list; -1 at the ends */
    int alive;
} TokSym;

typedef struct TokMerge {
    uint32_t rank;
    uint32_t pos; /* index of the left symbol */
    int32_t merged;
} TokMerge;

void tok_scratch_free(TokScratch *sc)
{
    free(sc->word);
    free(sc->sym);
    free(sc->heap);
    sc->word = NULL;
    sc->sym = NULL;
    sc->heap = NULL;
    sc->word_cap = sc->sym_cap = sc->heap_cap = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *np = realloc(*p, c * elem);
    if (!np) return -1;
    *p = np;
    *cap = c;
    return 0;
}

static int merge_less(const TokMerge *a, const TokMerge *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(TokMerge *h, size_t *n, TokMerge m)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!merge_less(&m, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = m;
}

static TokMerge heap_pop(TokMerge *h, size_t *n)
{
    TokMerge top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && merge_less(&h[c + 1], &h[c])) c++;
        if (!merge_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static void push_pair(const Tokenizer *t, TokMerge *h, size_t *nh, const TokSym *sym, int32_t left)
{
    int32_t right = sym[left].next;
    if (right < 0) return;
    const PairSlot *ps = tok_pair_get(t, sym[left].id, sym[right].id);
    if (ps) heap_push(h, nh, (TokMerge){.rank = ps->rank, .pos = (uint32_t)left, .merged = ps->merged1 - 1});
}

int tok_bpe(const Tokenizer *t, const uint8_t *s, size_t n, TokScratch *sc, TokIds *out, Err *e)
{
    if (n == 0) return 0;
    if (t->ignore_merges) { /* the whole piece is a token: take it as is */
        if (grow((void **)&sc->word, &sc->word_cap, 2 * n, 1)) return err_set(e, "tokenizer: out of memory");
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t c = t->byte_cp[s[i]];
            if (c < 0x80) sc->word[w++] = (char)c;
            else {
                sc->word[w++] = (char)(0xC0 | (c >> 6));
                sc->word[w++] = (char)(0x80 | (c & 0x3F));
            }
        }
        int32_t id = tok_vocab_get(t, sc->word, w);
        if (id >= 0) return tokids_push(out, id, e);
    }
    if (grow((void **)&sc->sym, &sc->sym_cap, n, sizeof(TokSym)) ||
        grow((void **)&sc->heap, &sc->heap_cap, 3 * n + 1, sizeof(TokMerge)))
        return err_set(e, "tokenizer: out of memory");
    TokSym *sym = sc->sym;
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_id[s[i]];
        if (id < 0) continue;
        sym[m] = (TokSym){.id = id, .prev = m - 1, .next = m + 1, .alive = 1};
        m++;
    }
    if (m == 0) return 0;
    sym[m - 1].next = -1;

    TokMerge *h = sc->heap;
    size_t nh = 0;
    for (int32_t i = 0; i + 1 < m; i++) push_pair(t, h, &nh, sym, i);
    while (nh) {
        TokMerge top = heap_pop(h, &nh);
        int32_t l = (int32_t)top.pos;
        if (!sym[l].alive || sym[l].next < 0) continue;
        int32_t r = sym[l].next;
        const PairSlot *ps = tok_pair_get(t, sym[l].id, sym[r].id);
        if (!ps || ps->merged1 - 1 != top.merged) continue; /* stale */
        sym[l].id = top.merged;
        sym[r].alive = 0;
        sym[l].next = sym[r].next;
        if (sym[r].next >= 0) sym[sym[r].next].prev = l;
        if (sym[l].prev >= 0) push_pair(t, h, &nh, sym, sym[l].prev);
        push_pair(t, h, &nh, sym, l);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next)
        if (tokids_push(out, sym[i].id, e)) return -1;
    return 0;
}
