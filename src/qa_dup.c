/* qa_dup.c - when a question/answer pair only repeats an earlier one, with
 * trivial changes (the near_duplicate rule of qa_flags.h). */
#include "qa_dup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sorted, de-duplicated words of a text, for set operations. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t word_set(const QaWords *w, const char **out)
{
    for (size_t i = 0; i < w->n; i++)
        out[i] = qa_word(w, i);
    qsort(out, w->n, sizeof *out, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < w->n; i++)
        if (m == 0 || strcmp(out[m - 1], out[i]) != 0)
            out[m++] = out[i];
    return m;
}

int qa_word_list_init(QaWordList *ws, const char *text)
{
    memset(ws, 0, sizeof *ws);
    if (qa_words(&ws->w, text) != 0) {
        memset(ws, 0, sizeof *ws);  /* nothing to free: qa_word_list_free is harmless */
        return -1;
    }
    if (!(ws->set = malloc((ws->w.n + 1) * sizeof *ws->set))) {
        qa_words_free(&ws->w);
        memset(ws, 0, sizeof *ws);
        return -1;
    }
    ws->n = word_set(&ws->w, ws->set);
    return 0;
}

void qa_word_list_free(QaWordList *ws)
{
    free(ws->set);
    qa_words_free(&ws->w);
}

/* Words whose presence or absence leaves a question asking the same thing
 * ("in the CLaRa paper", "was"/"is"); not question words or negations,
 * which qa_stopword counts as function words but which change the question. */
static int trivial(const char *w)
{
    static const char *const words[] = {"a", "an", "the", "is", "are", "was", "were", "be", "been", "do", "does",
                                        "did", "of", "in", "on", "for", "to", "at", "by", "from", "with", "into",
                                        "this", "that", "its", "it", "please", "exactly", "actually"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

/* The length of w without an inflection ending ("stages", "evaluated",
 * "training" -> "stage", "evaluate", "train"), keeping at least 3 letters. */
static size_t stem_len(const char *w)
{
    static const char *const ends[] = {"ing", "es", "ed", "s", "d"};
    size_t l = strlen(w);
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        size_t k = strlen(ends[i]);
        if (l >= k + 3 && strcmp(w + l - k, ends[i]) == 0)
            return l - k;
    }
    return l;
}

static int inflections(const char *a, const char *b)
{
    size_t la = stem_len(a), lb = stem_len(b);
    /* "evaluated" -> "evaluat" and "evaluate": equal stems, or but for an "e" */
    size_t m = la < lb ? la : lb;
    if (m < 3 || strncmp(a, b, m) != 0)
        return 0;
    return la == lb || (la == lb + 1 && a[la - 1] == 'e') || (lb == la + 1 && b[lb - 1] == 'e');
}

/* The words of a not in b that matter (not trivial, no inflection of a word
 * of b), at most 2 counted; the first in *one. */
static int differ(const QaWordList *a, const QaWordList *b, const char **one)
{
    int n = 0;
    for (size_t i = 0, j = 0; i < a->n && n < 2; i++) {
        while (j < b->n && strcmp(b->set[j], a->set[i]) < 0)
            j++;
        if (j < b->n && strcmp(b->set[j], a->set[i]) == 0)
            continue;
        if (trivial(a->set[i]))
            continue;
        int partner = 0;
        for (size_t k = 0; k < b->n && !partner; k++)
            partner = inflections(a->set[i], b->set[k]);
        if (!partner && n++ == 0)
            *one = a->set[i];
    }
    return n;
}

static int has_digit(const char *w)
{
    for (; *w; w++)
        if (isdigit((unsigned char)*w))
            return 1;
    return 0;
}

/* Whether two answers say the same: the same numbers, and every word of one
 * in the other ("Salient Compressor Pretraining." and "SCP stands for
 * Salient Compressor Pretraining.") or most words shared. */
static int same_answer(const QaWordList *a, const QaWordList *b)
{
    size_t inter = 0, numbers = 0;
    for (size_t i = 0, j = 0; i < a->n || j < b->n;) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->set[i], b->set[j]);
        const char *w = c <= 0 ? a->set[i] : b->set[j];
        if (c != 0 && has_digit(w))
            numbers++;
        if (c == 0)
            inter++, i++, j++;
        else if (c < 0)
            i++;
        else
            j++;
    }
    size_t least = a->n < b->n ? a->n : b->n;
    return numbers == 0 && least > 0 && (inter == least || (double)inter >= 0.6 * (double)(a->n + b->n - inter));
}

int qa_near_duplicate(const QaWordList *q1, const QaWordList *a1, const QaWordList *q2, const QaWordList *a2,
                      char *why, size_t n)
{
    const char *w1 = NULL, *w2 = NULL;
    int d1 = differ(q1, q2, &w1), d2 = differ(q2, q1, &w2);
    if (d1 + d2 == 0) {
        snprintf(why, n, "but for small words or endings");
        return 1;
    }
    const char *w = d1 ? w1 : w2;
    if (d1 + d2 == 1 && !has_digit(w) && same_answer(a1, a2)) {
        snprintf(why, n, "but for \"%.40s\", with the same answer", w);
        return 1;
    }
    return 0;
}

int qa_check_near_duplicate(const char *q1, const char *a1, const char *q2, const char *a2, char *why, size_t n)
{
    QaWordList w[4];
    const char *texts[4] = {q1, a1, q2, a2};
    int k = 0, found = 0;
    while (k < 4 && qa_word_list_init(&w[k], texts[k]) == 0)
        k++;
    if (k == 4)
        found = qa_near_duplicate(&w[0], &w[1], &w[2], &w[3], why, n);
    while (k--)
        qa_word_list_free(&w[k]);
    return found;
}
