/* bpe_train.c - the BPE trainer's input side: special tokens, pre-tokenizing
 * text into words exactly as the written tokenizer.json will (so what is
 * learned is what encoding sees), counting the words, and reading files.
 *
 * Words are counted in one hash set of their raw bytes; a 20 MB corpus has a
 * few hundred thousand distinct words, so the merge loop works on those, not
 * on the text. */
#include "bpe_train_internal.h"

#include <stdlib.h>
#include <string.h>

#include "textdocs.h"
#include "tokenizer_pretok.h"
#include "utf8.h"

const char *const bpe_default_special[3] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

/* ---------------------------------------------------------------- containers */

/* FNV-1a, then a final mix so that the low bits used for slots depend on
 * every byte. */
uint64_t bpe_hash(const void *s, size_t n)
{
    const uint8_t *p = s;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

long bpe_strset_find(const BpeStrSet *m, const void *s, size_t n)
{
    if (!m->cap) return -1;
    size_t mask = m->cap - 1;
    for (size_t i = bpe_hash(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t k = m->slot[i];
        if (!k) return -1;
        k--;
        if (m->len[k] == n && memcmp(m->arena.s + m->off[k], s, n) == 0) return k;
    }
}

static int strset_grow(BpeStrSet *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = bpe_hash(m->arena.s + m->off[k], m->len[k]) & (cap - 1);
        while (slot[i]) i = (i + 1) & (cap - 1);
        slot[i] = (uint32_t)k + 1;
    }
    free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return 0;
}

long bpe_strset_add(BpeStrSet *m, const void *s, size_t n, int *added)
{
    *added = 0;
    long k = bpe_strset_find(m, s, n);
    if (k >= 0) return k;
    if (m->n >= UINT32_MAX - 1 || m->arena.n + n >= UINT32_MAX) return -1;
    if ((m->n + 1) * 2 > m->cap && strset_grow(m)) return -1;
    if (m->n == m->n_cap) {
        size_t cap = m->n_cap ? m->n_cap * 2 : 1024;
        uint32_t *off = realloc(m->off, cap * sizeof *off);
        if (!off) return -1;
        m->off = off;
        uint32_t *len = realloc(m->len, cap * sizeof *len);
        if (!len) return -1;
        m->len = len;
        m->n_cap = cap;
    }
    size_t at = m->arena.n;
    if (strbuf_put(&m->arena, s, n)) return -1;
    m->off[m->n] = (uint32_t)at;
    m->len[m->n] = (uint32_t)n;
    size_t mask = m->cap - 1, i = bpe_hash(s, n) & mask;
    while (m->slot[i]) i = (i + 1) & mask;
    m->slot[i] = (uint32_t)m->n + 1;
    *added = 1;
    return (long)m->n++;
}

void bpe_strset_free(BpeStrSet *m)
{
    free(m->slot);
    free(m->off);
    free(m->len);
    free(m->arena.s);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- byte level */

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
 * other 68 map to U+0100.. in byte order. */
static int byte_kept(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

void bpe_byte_level(uint32_t cp[256])
{
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) cp[b] = byte_kept(b) ? (uint32_t)b : next++;
}

void bpe_byte_order(uint32_t rank[256])
{
    /* Kept bytes are their own characters, below U+0100; the others follow
     * in byte order. */
    uint32_t next = 0;
    for (int b = 0; b < 256; b++)
        if (byte_kept(b)) rank[b] = next++;
    for (int b = 0; b < 256; b++)
        if (!byte_kept(b)) rank[b] = next++;
}

/* ---------------------------------------------------------------- lifecycle */

static int valid_utf8(const char *s, size_t n, size_t *bad_at)
{
    for (size_t i = 0; i < n;) {
        size_t l;
        if (utf8_char((const unsigned char *)s + i, n - i, &l) != UTF8_OK) {
            *bad_at = i;
            return 0;
        }
        i += l;
    }
    return 1;
}

/* The raw bytes whose byte-level form (GPT-2's bytes_to_unicode) is the text
 * s, or -1 when some character of s is not a byte-level one. */
static long special_raw(const char *s, uint8_t *out)
{
    uint32_t cp[256];
    bpe_byte_level(cp);
    size_t n = 0;
    for (const uint8_t *p = (const uint8_t *)s; *p;) {
        uint32_t c;
        if (p[0] < 0x80) {
            c = *p++;
        } else if ((p[0] & 0xE0) == 0xC0 && p[1]) {
            c = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else {
            return -1; /* three-byte characters are all above the byte-level ones */
        }
        int b = -1;
        for (int x = 0; x < 256 && b < 0; x++)
            if (cp[x] == c) b = x;
        if (b < 0) return -1;
        out[n++] = (uint8_t)b;
    }
    return (long)n;
}

BpeTrainer *bpe_trainer_new(const char *const *special, int n_special, Err *e)
{
    if (!special) {
        special = bpe_default_special;
        n_special = 3;
    }
    if (n_special < 0 || n_special > 1000) {
        err_set(e, "tokenizer-train: %d special tokens (at most 1000)", n_special);
        return NULL;
    }
    BpeTrainer *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->n_special = n_special;
    t->special = calloc((size_t)n_special + 1, sizeof *t->special);
    t->special_len = calloc((size_t)n_special + 1, sizeof *t->special_len);
    t->special_raw = calloc((size_t)n_special + 1, sizeof *t->special_raw);
    t->special_raw_len = calloc((size_t)n_special + 1, sizeof *t->special_raw_len);
    if (!t->special || !t->special_len || !t->special_raw || !t->special_raw_len) goto oom;
    for (int i = 0; i < n_special; i++) {
        size_t n = strlen(special[i]), bad;
        if (n == 0) {
            err_set(e, "tokenizer-train: special token %d is empty", i);
            goto fail;
        }
        if (!valid_utf8(special[i], n, &bad)) {
            err_set(e, "tokenizer-train: special token %d is not valid UTF-8 (byte %zu)", i, bad);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(special[i], special[j]) == 0) {
                err_set(e, "tokenizer-train: special token \"%.100s\" is given twice", special[i]);
                goto fail;
            }
        if (!(t->special[i] = strdup(special[i]))) goto oom;
        t->special_len[i] = n;
        if (!(t->special_raw[i] = malloc(n))) goto oom;
        t->special_raw_len[i] = special_raw(special[i], t->special_raw[i]);
        /* Its text would be the vocab key of a byte symbol as well. */
        if (t->special_raw_len[i] == 1) {
            err_set(e, "tokenizer-train: special token \"%s\" is a single byte symbol", special[i]);
            goto fail;
        }
    }
    return t;
oom:
    err_set(e, "tokenizer-train: out of memory");
fail:
    bpe_trainer_delete(t);
    return NULL;
}

void bpe_trainer_delete(BpeTrainer *t)
{
    if (!t) return;
    for (int i = 0; i < t->n_special; i++) {
        if (t->special) free(t->special[i]);
        if (t->special_raw) free(t->special_raw[i]);
    }
    free(t->special_raw);
    free(t->special_raw_len);
    free(t->special);
    free(t->special_len);
    bpe_strset_free(&t->words);
    free(t->count);
    bpe_strset_free(&t->syms);
    free(t->merges);
    free(t);
}

/* ---------------------------------------------------------------- counting */

static int count_word(BpeTrainer *t, const uint8_t *s, size_t n)
{
    int added;
    long k = bpe_strset_add(&t->words, s, n, &added);
    if (k < 0) return -1;
    if (added && t->words.n_cap > t->count_cap) {
        uint64_t *c = realloc(t->count, t->words.n_cap * sizeof *c);
        if (!c) return -1;
        memset(c + t->count_cap, 0, (t->words.n_cap - t->count_cap) * sizeof *c);
        t->count = c;
        t->count_cap = t->words.n_cap;
    }
    t->count[k]++;
    t->n_words++;
    return 0;
}

/* ByteLevel's regex split (use_regex, no prefix space): each match a word. */
static int count_regex(BpeTrainer *t, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t m = pretok_regex_match(PRETOK_GPT2, s, n, i);
        if (m <= i) { /* the GPT-2 pattern matches every character; guard anyway */
            size_t l;
            pretok_cp(s, n, i, &l);
            m = i + l;
        }
        if (count_word(t, s + i, m - i)) return -1;
        i = m;
    }
    return 0;
}

/* Digits(individual_digits): each numeric character alone, the runs between
 * them as they are (tokenizer.c's step_digits). */
static int count_piece(BpeTrainer *t, const uint8_t *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n;) {
        size_t l;
        if (pretok_is_numeric(pretok_cp(s, n, i, &l))) {
            if (i > start && count_regex(t, s + start, i - start)) return -1;
            if (count_regex(t, s + i, l)) return -1;
            start = i + l;
        }
        i += l;
    }
    if (start < n) return count_regex(t, s + start, n - start);
    return 0;
}

/* The longest special token starting at s[i], or -1. */
static int special_at(const BpeTrainer *t, const uint8_t *s, size_t n, size_t i)
{
    int best = -1;
    for (int k = 0; k < t->n_special; k++) {
        size_t l = t->special_len[k];
        if (l <= n - i && (uint8_t)t->special[k][0] == s[i] && memcmp(s + i, t->special[k], l) == 0 &&
            (best < 0 || l > t->special_len[best]))
            best = k;
    }
    return best;
}

int bpe_trainer_add_text(BpeTrainer *t, const char *text, size_t len, Err *e)
{
    size_t bad;
    if (!valid_utf8(text, len, &bad))
        return err_set(e, "tokenizer-train: invalid UTF-8 in the text at byte offset %zu", bad);
    const uint8_t *s = (const uint8_t *)text;
    size_t seg = 0;
    for (size_t i = 0; i < len;) {
        int k = special_at(t, s, len, i);
        if (k < 0) {
            i++;
            continue;
        }
        if (i > seg && count_piece(t, s + seg, i - seg)) goto oom;
        i = seg = i + t->special_len[k];
    }
    if (seg < len && count_piece(t, s + seg, len - seg)) goto oom;
    t->n_bytes += len;
    return 0;
oom:
    return err_set(e, "tokenizer-train: out of memory counting words");
}

/* ---------------------------------------------------------------- files */

static int on_doc(void *ctx, const char *text, size_t len, long line, Err *e)
{
    (void)line;
    return bpe_trainer_add_text(ctx, text, len, e);
}

static int add_file(BpeTrainer *t, const char *path, Err *e)
{
    TextFile f;
    if (textfile_read(&f, path, NULL, e)) return -1;
    t->n_files++;
    int rc = textdocs_each(path, &f, TEXTDOCS_STRICT, on_doc, t, e);
    textfile_free(&f);
    return rc;
}

int bpe_trainer_add_path(BpeTrainer *t, const char *path, Err *e)
{
    char **files = NULL;
    size_t n = 0;
    int rc = textdocs_list(path, TEXTDOCS_STRICT, &files, &n, e);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_file(t, files[i], e);
    textdocs_list_free(files, n);
    return rc;
}

/* ---------------------------------------------------------------- training */

int bpe_trainer_train(BpeTrainer *t, int vocab_size, int min_frequency, Err *e)
{
    int floor = 256 + t->n_special;
    if (vocab_size < floor)
        return err_set(e, "tokenizer-train: vocab size %d is below the %d bytes and special tokens", vocab_size,
                       floor);
    if (vocab_size > (1 << 24)) return err_set(e, "tokenizer-train: vocab size %d is above 16777216", vocab_size);
    if (min_frequency < 1) return err_set(e, "tokenizer-train: min frequency %d is below 1", min_frequency);
    if (t->words.n == 0) return err_set(e, "tokenizer-train: no text to train on");
    return bpe_learn(t, vocab_size, min_frequency, e);
}

void bpe_trainer_stats(const BpeTrainer *t, BpeTrainStats *s)
{
    memset(s, 0, sizeof *s);
    s->n_files = t->n_files;
    s->n_special = t->n_special;
    s->n_bytes = t->n_bytes;
    s->n_words = t->n_words;
    s->n_unique = (long)t->words.n;
    if (t->trained) {
        s->vocab_size = t->n_special + (int)t->syms.n;
        s->n_merges = t->n_merges;
    }
}
