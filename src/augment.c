/* augment.c - question word dropout (see augment.h). */
#include "augment.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIES 8

/* English function words: they say how a question is asked, not what about. */
static const char *const function_words[] = {
    "a",    "an",    "and",   "are",   "as",    "at",    "be",    "been",  "by",   "can",  "did",   "do",
    "does", "for",   "from",  "has",   "have",  "how",   "in",    "into",  "is",   "it",   "its",   "of",
    "on",   "or",    "that",  "the",   "their", "them",  "then",  "there", "these", "they", "this", "those",
    "to",   "was",   "were",  "what",  "when",  "where", "which", "who",   "whom",  "whose", "why", "with",
};

typedef struct Word {
    const char *s;
    size_t len;
    int content;
} Word;

static int is_content(const char *s, size_t len)
{
    /* compare the word without surrounding punctuation, in lower case */
    while (len && ispunct((unsigned char)*s))
        s++, len--;
    while (len && ispunct((unsigned char)s[len - 1]))
        len--;
    char w[16];
    if (len == 0)
        return 0;
    if (len >= sizeof w)
        return 1;
    for (size_t i = 0; i < len; i++)
        w[i] = (char)tolower((unsigned char)s[i]);
    w[len] = 0;
    for (size_t i = 0; i < sizeof function_words / sizeof *function_words; i++)
        if (strcmp(w, function_words[i]) == 0)
            return 0;
    return 1;
}

int augment_questions(const char *question, double p, int n, Rng *r, char **out, Err *e)
{
    size_t cap = 16, nw = 0;
    Word *w = malloc(cap * sizeof *w);
    char *buf = malloc(strlen(question) + 1);
    if (!w || !buf) {
        free(w);
        free(buf);
        return err_set(e, "augment: out of memory");
    }
    for (const char *s = question; *s;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const char *t = s;
        while (*t && *t != ' ')
            t++;
        if (nw == cap) {
            Word *g = realloc(w, 2 * cap * sizeof *w);
            if (!g) {
                free(w);
                free(buf);
                return err_set(e, "augment: out of memory");
            }
            w = g;
            cap *= 2;
        }
        w[nw++] = (Word){s, (size_t)(t - s), is_content(s, (size_t)(t - s))};
        s = t;
    }
    int made = 0;
    for (int v = 0; nw >= AUGMENT_MIN_WORDS && v < n; v++) {
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            size_t len = 0, kept = 0, content = 0;
            for (size_t i = 0; i < nw; i++) {
                if (rng_uniform(r) < p)
                    continue;
                if (len)
                    buf[len++] = ' ';
                memcpy(buf + len, w[i].s, w[i].len);
                len += w[i].len;
                kept++;
                content += (size_t)w[i].content;
            }
            buf[len] = 0;
            int fresh = kept < nw && content >= 2;
            for (int k = 0; fresh && k < made; k++)
                fresh = strcmp(out[k], buf) != 0;
            if (!fresh)
                continue;
            if (!(out[made] = strdup(buf))) {
                while (made)
                    free(out[--made]);
                free(w);
                free(buf);
                return err_set(e, "augment: out of memory");
            }
            made++;
            break;
        }
    }
    free(w);
    free(buf);
    return made;
}
