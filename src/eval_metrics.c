/* eval_metrics.c - exact match, token F1, ROUGE-L, keyword recall (see eval_metrics.h). */
#include "eval_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

void eval_rule_defaults(EvalRule *r)
{
    r->min_keyword_recall = 1.0;
    r->min_f1 = 0.5;
}

typedef struct Words {
    char **w;
    size_t n;
    char *buf;
} Words;

static int is_article(const char *w) { return !strcmp(w, "a") || !strcmp(w, "an") || !strcmp(w, "the"); }

/* Case-folds s and splits it into words of letters and digits. */
static int words_of(const char *s, Words *out)
{
    memset(out, 0, sizeof *out);
    size_t flen = 0;
    uint8_t *folded = u8_casefold((const uint8_t *)s, strlen(s), NULL, NULL, NULL, &flen);
    if (!folded)
        return -1;
    out->buf = malloc(flen + 1);
    out->w = malloc(sizeof(char *) * (flen / 2 + 2));
    if (!out->buf || !out->w) {
        free(folded);
        return -1;
    }
    size_t o = 0, i = 0;
    int in_word = 0;
    while (i < flen) {
        ucs4_t c;
        int k = u8_mbtouc(&c, folded + i, flen - i);
        int alnum = uc_is_alnum(c);
        if (alnum) {
            if (!in_word)
                out->w[out->n++] = out->buf + o;
            memcpy(out->buf + o, folded + i, (size_t)k);
            o += (size_t)k;
            in_word = 1;
        } else if (in_word) {
            out->buf[o++] = 0;
            in_word = 0;
        }
        i += (size_t)k;
    }
    if (in_word)
        out->buf[o++] = 0;
    free(folded);
    /* articles go */
    size_t kept = 0;
    for (size_t j = 0; j < out->n; j++)
        if (!is_article(out->w[j]))
            out->w[kept++] = out->w[j];
    out->n = kept;
    return 0;
}

static void words_free(Words *w)
{
    free(w->w);
    free(w->buf);
}

static double f1_of(const Words *a, const Words *r)
{
    if (a->n == 0 || r->n == 0)
        return a->n == r->n ? 1.0 : 0.0;
    /* multiset overlap: each reference word can be matched once */
    char *used = calloc(r->n, 1);
    size_t common = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < r->n; j++)
            if (!used[j] && strcmp(a->w[i], r->w[j]) == 0) {
                used[j] = 1;
                common++;
                break;
            }
    free(used);
    if (!common)
        return 0;
    double p = (double)common / (double)a->n, rc = (double)common / (double)r->n;
    return 2 * p * rc / (p + rc);
}

static double rouge_l_of(const Words *a, const Words *r)
{
    if (a->n == 0 || r->n == 0)
        return a->n == r->n ? 1.0 : 0.0;
    size_t *prev = calloc(r->n + 1, sizeof *prev), *cur = calloc(r->n + 1, sizeof *cur);
    for (size_t i = 1; i <= a->n; i++) {
        for (size_t j = 1; j <= r->n; j++)
            cur[j] = strcmp(a->w[i - 1], r->w[j - 1]) == 0 ? prev[j - 1] + 1
                     : prev[j] > cur[j - 1]                ? prev[j]
                                                           : cur[j - 1];
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t lcs = prev[r->n];
    free(prev);
    free(cur);
    if (!lcs)
        return 0;
    double p = (double)lcs / (double)a->n, rc = (double)lcs / (double)r->n;
    return 2 * p * rc / (p + rc);
}

/* Does the word run k occur contiguously in a? */
static int contains_run(const Words *a, const Words *k)
{
    if (k->n == 0)
        return 1;
    for (size_t i = 0; i + k->n <= a->n; i++) {
        size_t j = 0;
        while (j < k->n && strcmp(a->w[i + j], k->w[j]) == 0)
            j++;
        if (j == k->n)
            return 1;
    }
    return 0;
}

void eval_score(const char *answer, const char *reference, const char *const *keywords, size_t n_kw,
                const EvalRule *rule, EvalScore *out)
{
    memset(out, 0, sizeof *out);
    out->keyword_recall = NAN;
    Words a, r;
    if (words_of(answer ? answer : "", &a) != 0)
        return;
    if (words_of(reference ? reference : "", &r) != 0) {
        words_free(&a);
        return;
    }
    out->exact = a.n == r.n;
    for (size_t i = 0; out->exact && i < a.n; i++)
        out->exact = strcmp(a.w[i], r.w[i]) == 0;
    out->f1 = f1_of(&a, &r);
    out->rouge_l = rouge_l_of(&a, &r);
    size_t counted = 0, found = 0;
    for (size_t k = 0; k < n_kw; k++) {
        Words kw;
        if (words_of(keywords[k], &kw) != 0)
            continue;
        /* a keyword that normalises to nothing ("the", "!") cannot be looked for */
        if (kw.n > 0) {
            counted++;
            if (contains_run(&a, &kw)) {
                found++;
                if (k < 32)
                    out->matched |= 1u << k;
            }
        }
        words_free(&kw);
    }
    if (counted)
        out->keyword_recall = (double)found / (double)counted;
    out->correct = out->exact || (counted ? out->keyword_recall >= rule->min_keyword_recall - 1e-9
                                          : out->f1 >= rule->min_f1 - 1e-9);
    words_free(&a);
    words_free(&r);
}
