/* qa_text.c - word splitting, normalization and word sets (see qa_text.h). */
#include "qa_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uniwbrk.h>
#include <unistr.h>

/* A segment is a word when it holds at least one letter or digit. */
static int has_alnum(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        int l = u8_mbtoucr(&c, s + i, n - i);
        if (l <= 0)
            return 0;
        if (uc_is_alnum(c))
            return 1;
        i += (size_t)l;
    }
    return 0;
}

int qa_words(QaWords *w, const char *text)
{
    memset(w, 0, sizeof *w);
    size_t n = strlen(text);
    if (n == 0)
        return 0;
    /* Folding first keeps the breaks and the words consistent with each
     * other (folding can change lengths: "ß" becomes "ss"). */
    size_t fl = 0;
    uint8_t *f = u8_casefold((const uint8_t *)text, n, NULL, NULL, NULL, &fl);
    char *brk = malloc(fl + 1);
    w->buf = malloc(2 * fl + 1);
    w->off = malloc((fl + 1) * sizeof *w->off);
    if (!f || !brk || !w->buf || !w->off) {
        free(f);
        free(brk);
        qa_words_free(w);
        return -1;
    }
    u8_wordbreaks(f, fl, brk);
    size_t out = 0;
    for (size_t i = 0; i < fl;) {
        size_t j = i + 1;
        while (j < fl && !brk[j])
            j++;
        if (has_alnum(f + i, j - i)) {
            w->off[w->n++] = out;
            memcpy(w->buf + out, f + i, j - i);
            out += j - i;
            w->buf[out++] = 0;
        }
        i = j;
    }
    free(f);
    free(brk);
    return 0;
}

void qa_words_free(QaWords *w)
{
    free(w->buf);
    free(w->off);
    memset(w, 0, sizeof *w);
}

char *qa_normalize(const char *text)
{
    QaWords w;
    if (qa_words(&w, text) != 0)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < w.n; i++)
        len += strlen(qa_word(&w, i)) + 1;
    char *s = malloc(len), *p = s;
    if (s) {
        for (size_t i = 0; i < w.n; i++) {
            if (i)
                *p++ = ' ';
            size_t l = strlen(qa_word(&w, i));
            memcpy(p, qa_word(&w, i), l);
            p += l;
        }
        *p = 0;
    }
    qa_words_free(&w);
    return s;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t find(char **slot, size_t cap, const char *word)
{
    size_t i = (size_t)hash(word) & (cap - 1);
    while (slot[i] && strcmp(slot[i], word) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

int qa_wordset_add(QaWordSet *s, const char *word)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                slot[find(slot, cap, s->slot[i])] = s->slot[i];
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t i = find(s->slot, s->cap, word);
    if (s->slot[i])
        return 0;
    if (!(s->slot[i] = strdup(word)))
        return -1;
    s->n++;
    return 0;
}

int qa_wordset_has(const QaWordSet *s, const char *word)
{
    return s->cap && s->slot[find(s->slot, s->cap, word)] != NULL;
}

void qa_wordset_free(QaWordSet *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

int qa_stopword(const char *word)
{
    static const char *const stop[] = {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "does", "for", "from",
        "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "it's", "many", "may", "more", "most",
        "much", "no", "not", "of", "on", "or", "so", "such", "than", "that", "the", "their", "them", "then",
        "there", "these", "they", "this", "those", "to", "use", "used", "uses", "was", "we", "were", "what",
        "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    };
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strcmp(word, stop[i]) == 0)
            return 1;
    return 0;
}
