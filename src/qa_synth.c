/* qa_synth.c - question/answer proposals by sentence patterns (see qa_synth.h). */
#include "qa_synth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

const char *qa_synth_kind_name(QaSynthKind k)
{
    static const char *const names[] = {"acronym", "definition", "number"};
    return (unsigned)k < 3 ? names[k] : "?";
}

void qa_proposals_free(QaProposals *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->p[i].question);
        free(p->p[i].answer);
    }
    free(p->p);
    memset(p, 0, sizeof *p);
}

static int propose(QaProposals *out, char *q, char *a, const char *source, QaSynthKind k, Err *e)
{
    if (!q || !a) {
        free(q), free(a);
        return err_set(e, "out of memory");
    }
    for (size_t i = 0; i < out->n; i++)
        if (strcasecmp(out->p[i].question, q) == 0) {  /* once per question */
            free(q), free(a);
            return 0;
        }
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 32;
        QaProposal *p = realloc(out->p, sizeof *p * cap);
        if (!p) {
            free(q), free(a);
            return err_set(e, "out of memory");
        }
        out->p = p, out->cap = cap;
    }
    out->p[out->n++] = (QaProposal){q, a, source, k};
    return 0;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static char *fmt(const char *f, const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = strlen(f) + an + bn + 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    char *sa = dup_range(a, an), *sb = b ? dup_range(b, bn) : NULL;
    if (sa && (!b || sb))
        snprintf(out, n, f, sa, sb ? sb : "");
    free(sa), free(sb);
    return out;
}

/* "Long Name (ABC)": the last len(ABC) capitalised-or-not words before the
 * parenthesis whose initials spell the acronym, small words allowed between. */
static int acronyms(QaProposals *out, const char *s, size_t n, const char *source, Err *e)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '(')
            continue;
        size_t j = i + 1;
        while (j < n && (isupper((unsigned char)s[j]) || isdigit((unsigned char)s[j])))
            j++;
        size_t alen = j - i - 1;
        if (j >= n || s[j] != ')' || alen < 2 || alen > 8)
            continue;
        const char *acr = s + i + 1;
        /* walk back over words, matching initials from the acronym's end */
        size_t k = alen, end = i;
        while (end > 0 && s[end - 1] == ' ')
            end--;
        size_t start = end, pos = end;
        int ok = 1;
        while (k > 0 && ok) {
            /* words end at spaces and hyphens ("Key-Value" spells KV) */
            while (pos > 0 && (s[pos - 1] == ' ' || s[pos - 1] == '-'))
                pos--;
            size_t we = pos;
            while (pos > 0 && s[pos - 1] != ' ' && s[pos - 1] != '-' && s[pos - 1] != '(' && s[pos - 1] != ',')
                pos--;
            if (pos == we) {
                ok = 0;
                break;
            }
            char c = (char)toupper((unsigned char)s[pos]);
            if (c == acr[k - 1]) {
                k--;
                start = pos;
            } else if (we - pos > 3 || k == alen) {
                ok = 0;  /* only short words (of, for, and) may be skipped */
            }
        }
        if (!ok || k > 0)
            continue;
        char *q = fmt("What does %s stand for?", acr, alen, NULL, 0);
        char *a = fmt("%s stands for %s.", acr, alen, s + start, end - start);
        if (propose(out, q, a, source, QA_SYNTH_ACRONYM, e) != 0)
            return -1;
    }
    return 0;
}

/* Index of " is a/an/the ", " are " etc. in s[0..n) after a short subject, or 0. */
static size_t verb_at(const char *s, size_t n, const char *const *verbs, size_t *vlen)
{
    for (const char *const *v = verbs; *v; v++) {
        size_t l = strlen(*v);
        for (size_t i = 1; i + l <= n; i++)
            if (memcmp(s + i, *v, l) == 0) {
                size_t words = 1;
                for (size_t k = 0; k < i; k++)
                    words += s[k] == ' ';
                if (words <= 6) {
                    *vlen = l;
                    return i;
                }
                break;
            }
    }
    return 0;
}

static int has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)s[i]))
            return 1;
    return 0;
}

/* Subjects that make no question: pronouns, quantifiers, clauses. */
static int bad_subject(const char *s, size_t n)
{
    static const char *const starts[] = {"It ", "This ", "That ", "They ", "These ", "Those ", "There ", "Here ",
                                         "Both ", "All ", "Each ", "Compared ", "Before ", "After ", "When ", "If ",
                                         "In ", "On ", "At ", "For ", "With ", "Without ", "Such ", "Its ", "Because ", "As ", "So ", "But ", "And ", "Or ", NULL};
    for (const char *const *p = starts; *p; p++)
        if (strncmp(s, *p, strlen(*p)) == 0)
            return 1;
    return memchr(s, ',', n) != NULL;
}

/* "The compressor" -> "the compressor" inside a question; anything else
 * may be a name ("CLaRa", "Jie He") and keeps its capital. */
static char *subject(const char *s, size_t n)
{
    char *d = dup_range(s, n);
    if (d && (!strncmp(d, "The ", 4) || !strncmp(d, "A ", 2) || !strncmp(d, "An ", 3)))
        d[0] = (char)tolower((unsigned char)d[0]);
    return d;
}

static int ask(QaProposals *out, const char *f, const char *s, size_t at, size_t n, const char *source,
               QaSynthKind k, Err *e)
{
    char *subj = subject(s, at);
    char *q = subj ? fmt(f, subj, strlen(subj), NULL, 0) : NULL;
    free(subj);
    return propose(out, q, fmt("%s.", s, n, NULL, 0), source, k, e);
}

static int sentence(QaProposals *out, const char *s, size_t n, const char *source, Err *e)
{
    while (n && (*s == ' ' || *s == '-' || *s == '*' || *s == '#'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '.'))
        n--;
    if (n < 12 || !isupper((unsigned char)s[0]))
        return 0;
    if (acronyms(out, s, n, source, e) != 0)
        return -1;
    static const char *const is_verbs[] = {" is a ", " is an ", " is the ", NULL};
    static const char *const are_verbs[] = {" are ", NULL};
    static const char *const any_verbs[] = {" uses ", " has ", " reaches ", " is ", " are ", " was ", NULL};
    size_t vl = 0, at;
    if ((at = verb_at(s, n, is_verbs, &vl)) != 0 && !bad_subject(s, at))
        return ask(out, "What is %s?", s, at, n, source, QA_SYNTH_DEFINITION, e);
    if ((at = verb_at(s, n, are_verbs, &vl)) != 0 && !bad_subject(s, at))
        return ask(out, "What are %s?", s, at, n, source, QA_SYNTH_DEFINITION, e);
    if (has_digit(s, n) && (at = verb_at(s, n, any_verbs, &vl)) != 0 && !bad_subject(s, at) && !has_digit(s, at))
        return ask(out, "What figure does the text give for %s?", s, at, n, source, QA_SYNTH_NUMBER, e);
    return 0;
}

int qa_synth(QaProposals *out, const char *text, const char *source, Err *e)
{
    const char *s = text;
    while (*s) {
        /* a heading line is not a sentence, but it may define an acronym */
        if (*s == '#') {
            const char *nl = strchr(s, '\n');
            size_t hn = nl ? (size_t)(nl - s) : strlen(s);
            if (acronyms(out, s, hn, source, e) != 0)
                return -1;
            s += hn + (nl != NULL);
            continue;
        }
        size_t n = 0;
        while (s[n] && s[n] != '\n' && !((s[n] == '.' || s[n] == '?' || s[n] == '!') && (s[n + 1] == ' ' ||
                                                                                          s[n + 1] == '\n' ||
                                                                                          !s[n + 1])))
            n++;
        if (sentence(out, s, n, source, e) != 0)
            return -1;
        s += n;
        while (*s == '.' || *s == '?' || *s == '!' || *s == ' ' || *s == '\n')
            s++;
    }
    return 0;
}
