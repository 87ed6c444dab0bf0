/* dict_corpus.c - dictionaries -> text.txt, qa.jsonl and heldout.txt.
 *
 * Determinism is the point of most choices here: the output must depend
 * only on the input files and the options, never on hash-table iteration,
 * locale or qsort's handling of ties.  Every sort therefore ends in a key
 * that is unique (dictionary number, then offset), the subset is chosen by
 * a seeded hash of the headword rather than by a random stream, and case
 * folding is ASCII-only. */
#include "dict.h"
#include "fsutil.h"
#include "strbuf.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int fold_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = lower((unsigned char)*a), y = lower((unsigned char)*b);
        if (x != y || !x) return x - y;
    }
}

typedef struct Item {
    const DictEntry *en;
    uint64_t hash;
    int keep;
} Item;

static int by_head(const void *a, const void *b)
{
    const DictEntry *x = ((const Item *)a)->en, *y = ((const Item *)b)->en;
    int c = fold_cmp(x->head, y->head);
    /* "byte" before "Byte": of two spellings the common noun is more
     * likely the meaning a question wants, and the first answer wins. */
    if (!c) c = -strcmp(x->head, y->head);
    if (!c) c = x->dict - y->dict;
    if (!c) c = x->off < y->off ? -1 : x->off > y->off;
    return c;
}

static int by_pick(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->keep != y->keep) return y->keep - x->keep;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return by_head(a, b);
}

/* FNV-1a over the folded headword, started from the seed and finished
 * with a splitmix64 mix so that nearby seeds pick unrelated subsets. */
static uint64_t head_hash(const char *h, uint64_t seed)
{
    uint64_t v = 1469598103934665603ull ^ (seed * 0x9e3779b97f4a7c15ull);
    for (; *h; h++) v = (v ^ (uint64_t)lower((unsigned char)*h)) * 1099511628211ull;
    v ^= v >> 30, v *= 0xbf58476d1ce4e5b9ull;
    v ^= v >> 27, v *= 0x94d049bb133111ebull;
    return v ^ (v >> 31);
}

/* ---- output buffers ---- */

static void paragraph(StrBuf *b, const DictEntry *en)
{
    if (b->n) strbuf_puts(b, "\n");
    strbuf_puts(b, en->head);
    strbuf_puts(b, ": ");
    strbuf_puts(b, en->text);
    size_t l = strlen(en->text);
    int closed = l && strchr(".?!\"", en->text[l - 1]);
    closed |= l >= 3 && memcmp(en->text + l - 3, "\xe2\x80\x9d", 3) == 0; /* a closing U+201D quote */
    if (!closed) strbuf_puts(b, ".");
    strbuf_puts(b, "\n");
}

/* ---- the question set: first answer wins ---- */

typedef struct QSet {
    char **q;       /* open addressing, folded questions */
    size_t cap, n;
} QSet;

/* 1 if q was new (and is now in the set), 0 if seen, -1 out of memory. */
static int qset_add(QSet *s, const char *q)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1 << 16;
        char **nq = calloc(cap, sizeof *nq);
        if (!nq) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->q[i]) continue;
            size_t h = head_hash(s->q[i], 0) & (cap - 1);
            while (nq[h]) h = (h + 1) & (cap - 1);
            nq[h] = s->q[i];
        }
        free(s->q);
        s->q = nq, s->cap = cap;
    }
    size_t h = head_hash(q, 0) & (s->cap - 1);
    for (; s->q[h]; h = (h + 1) & (s->cap - 1))
        if (fold_cmp(s->q[h], q) == 0) return 0;
    if (!(s->q[h] = strdup(q))) return -1;
    s->n++;
    return 1;
}

static void qset_free(QSet *s)
{
    for (size_t i = 0; i < s->cap; i++) free(s->q[i]);
    free(s->q);
}

/* Appends {"messages": [user q, assistant a]} unless q was asked before. */
static int qa_add(StrBuf *b, QSet *seen, const char *q, const char *a, long *n)
{
    int fresh = qset_add(seen, q);
    if (fresh <= 0) return fresh;
    cJSON *o = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(o, "messages");
    cJSON *u = cJSON_CreateObject(), *r = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, u);
    cJSON_AddItemToArray(msgs, r);
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", q);
    cJSON_AddStringToObject(r, "role", "assistant");
    cJSON_AddStringToObject(r, "content", a);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return -1;
    strbuf_puts(b, s);
    strbuf_puts(b, "\n");
    free(s);
    (*n)++;
    return 1;
}

static char *fmt(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

/* Other ways to ask: the text before and after the headword.  One fixed
 * phrasing per kind would teach the model that phrasing alone: asked any
 * other way, it answers at random.  Several, spread over the entries, teach
 * it to find the term and the kind of question in words it has not seen
 * together. */
typedef struct Ask { const char *pre, *post; } Ask;
static const Ask acronym_asks[] = {
    {"What is ", " short for?"}, {"Expand the acronym ", "."}, {"What is the full form of ", "?"},
    {"Spell out ", "."}, {"What do the letters ", " stand for?"}, {"What is ", " an abbreviation for?"},
    {"", " is an abbreviation of what?"}, {"Which words does the abbreviation ", " represent?"},
    {"What is the expansion of ", "?"}, {"Give the long form of ", "."},
    {"What does the abbreviation ", " mean?"}, {"Write out ", " in full."}, {"What is ", "?"},
};
static const Ask define_asks[] = {
    {"Define ", "."}, {"What is meant by ", "?"}, {"Explain ", "."}, {"Give a definition of ", "."},
    {"Describe ", "."}, {"What is ", "?"}, {"Tell me what ", " means."}, {"Explain the term ", "."},
    {"How would you define ", "?"}, {"What does the word ", " refer to?"}, {"", ": what is it?"},
    {"Briefly, what is ", "?"}, {"Can you define ", "?"},
};
#define N_ASKS(a) (sizeof(a) / sizeof *(a))

static char *ask(const Ask *a, const char *head) { return fmt(a->pre, head, a->post); }

/* The Q&A of one entry: acronyms are asked three ways ("What does X stand
 * for?" and two from acronym_asks), other terms two ("What does X mean?" or
 * "What is X?", and one from define_asks). */
static int entry_qa(StrBuf *b, QSet *seen, const DictEntry *en, DictKind kind, long *n)
{
    int rc = 0;
    char *answer = NULL, *q1 = NULL, *q2 = NULL, *q3 = NULL;
    uint64_t h = head_hash(en->head, 0x61736b); /* the phrasings depend on the headword alone */
    if (kind == DICT_VERA) {
        /* "X stands for A." or "X can stand for A, B or C." */
        StrBuf a = {0};
        strbuf_puts(&a, en->head);
        strbuf_puts(&a, en->n_exp == 1 ? " stands for " : " can stand for ");
        int k = en->n_exp < 3 ? en->n_exp : 3;
        for (int i = 0; i < k; i++) {
            if (i) strbuf_puts(&a, i == k - 1 ? " or " : ", ");
            strbuf_puts(&a, en->exp[i]);
        }
        strbuf_puts(&a, ".");
        if (a.oom) {
            free(a.s);
            return -1;
        }
        answer = a.s;
        size_t na = N_ASKS(acronym_asks), i2 = h % na, i3 = (i2 + 1 + (h / na) % (na - 1)) % na;
        q1 = fmt("What does ", en->head, " stand for?");
        q2 = ask(&acronym_asks[i2], en->head);
        q3 = ask(&acronym_asks[i3], en->head);
        if (!q3) rc = -1;
    } else {
        answer = dict_short_answer(en->text, 40);
        if (answer && dict_count_words(answer) < 3) { /* "Kluge." teaches nothing */
            free(answer);
            return 0;
        }
        q1 = kind == DICT_WN || kind == DICT_GCIDE ? fmt("What does ", en->head, " mean?")
                                                    : fmt("What is ", en->head, "?");
        q2 = ask(&define_asks[h % N_ASKS(define_asks)], en->head);
    }
    if (rc || !answer || !q1 || !q2 || qa_add(b, seen, q1, answer, n) < 0 || qa_add(b, seen, q2, answer, n) < 0 ||
        (q3 && qa_add(b, seen, q3, answer, n) < 0))
        rc = -1;
    free(answer), free(q1), free(q2), free(q3);
    return rc;
}

int dict_corpus_build(const char *const *index_paths, size_t n, const char *outdir, const DictCorpusOptions *o,
                      DictCorpusStats *st, Err *e)
{
    memset(st, 0, sizeof *st);
    if (n == 0) return err_set(e, "corpus: no dictionaries given");
    if (n > DICT_CORPUS_MAX) return err_set(e, "corpus: at most %d dictionaries", DICT_CORPUS_MAX);
    DictEntries all = {0};
    DictKind kinds[DICT_CORPUS_MAX];
    for (size_t i = 0; i < n; i++) {
        Dict d;
        if (dict_open(&d, index_paths[i], e)) {
            dict_entries_free(&all);
            return -1;
        }
        size_t before = all.n;
        int rc = dict_entries(&d, (int)i, &all, e);
        kinds[i] = d.kind;
        snprintf(st->names[i], sizeof st->names[i], "%s", d.name);
        st->available[i] = (long)(all.n - before);
        dict_close(&d);
        if (rc) {
            dict_entries_free(&all);
            return -1;
        }
    }
    st->n_dicts = (int)n;

    Item *it = malloc((all.n ? all.n : 1) * sizeof *it);
    if (!it) {
        dict_entries_free(&all);
        return err_set(e, "corpus: out of memory");
    }
    for (size_t i = 0; i < all.n; i++) {
        it[i].en = &all.e[i];
        it[i].hash = head_hash(all.e[i].head, o->seed);
        it[i].keep = 0;
        for (size_t k = 0; k < o->n_keep && !it[i].keep; k++) it[i].keep = fold_cmp(all.e[i].head, o->keep[k]) == 0;
    }
    size_t m = all.n;
    if (o->max_entries > 0 && (size_t)o->max_entries < m) {
        qsort(it, m, sizeof *it, by_pick);
        m = (size_t)o->max_entries;
    }
    qsort(it, m, sizeof *it, by_head);

    StrBuf text = {0}, qa = {0}, held = {0};
    QSet seen = {0};
    int rc = 0;
    for (size_t i = 0; i < m && rc == 0; i++) {
        const DictEntry *en = it[i].en;
        st->written[en->dict]++;
        st->entries++;
        /* Kept headwords are there to be learnt (the probe asks about
         * them), so they are never the ones held out. */
        if (o->heldout_every > 0 && (i + 1) % (size_t)o->heldout_every == 0 && !it[i].keep) {
            paragraph(&held, en);
            st->heldout++;
            continue;
        }
        paragraph(&text, en);
        if (entry_qa(&qa, &seen, en, kinds[en->dict], &st->qa)) rc = -1;
    }
    if (rc || text.oom || qa.oom || held.oom) rc = err_set(e, "corpus: out of memory");
    st->words = text.s ? dict_count_words(text.s) : 0;
    st->heldout_words = held.s ? dict_count_words(held.s) : 0;
    if (rc == 0 && fs_mkdirs(outdir, e)) rc = -1;
    const char *names[] = {"text.txt", "qa.jsonl", "heldout.txt"};
    StrBuf *bufs[] = {&text, &qa, &held};
    for (int k = 0; k < 3 && rc == 0; k++) {
        char *path = fs_join(outdir, names[k]);
        const void *ptr = bufs[k]->s ? bufs[k]->s : "";
        size_t len = bufs[k]->n;
        if (!path) rc = err_set(e, "corpus: out of memory");
        else if (fs_write_atomic(path, &ptr, &len, 1, e)) rc = -1;
        free(path);
    }
    free(text.s), free(qa.s), free(held.s);
    qset_free(&seen);
    free(it);
    dict_entries_free(&all);
    return rc;
}
