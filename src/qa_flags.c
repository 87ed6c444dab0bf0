/* qa_flags.c - quality flags (see qa_flags.h for each rule).
 *
 * Every check works on case-folded words (qa_text.h) so that punctuation,
 * spacing and letter case neither hide nor invent a problem. */
#include "qa_flags.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_dup.h"
#include "qa_store.h"

static const char *const names[QA_N_FLAGS] = {
    "repetition", "placeholder", "truncated", "duplicate", "near_duplicate", "too_long", "unsupported",
};

const char *qa_flag_name(int i) { return i >= 0 && i < QA_N_FLAGS ? names[i] : NULL; }

unsigned qa_flag_parse(const char *name)
{
    for (int i = 0; i < QA_N_FLAGS; i++)
        if (strcmp(name, names[i]) == 0)
            return 1u << i;
    return 0;
}

int qa_check_repetition(const char *text, char *why, size_t n)
{
    QaWords w;
    if (qa_words(&w, text) != 0)
        return 0;
    int found = 0;
    /* A word 4 times in a row: "very very very very" is a decoding loop. */
    for (size_t i = 0, run = 1; !found && i + 1 < w.n; i++) {
        run = strcmp(qa_word(&w, i), qa_word(&w, i + 1)) == 0 ? run + 1 : 1;
        if (run >= 4) {
            snprintf(why, n, "\"%.40s\" %zu times in a row", qa_word(&w, i), run);
            found = 1;
        }
    }
    /* A 3-word sequence three times anywhere: the loop of a longer phrase.
     * Quadratic in words, which for a Q&A pair is at most a few hundred. */
    for (size_t i = 0; !found && i + 2 < w.n; i++) {
        int count = 1;
        for (size_t j = i + 1; j + 2 < w.n; j++)
            if (!strcmp(qa_word(&w, i), qa_word(&w, j)) && !strcmp(qa_word(&w, i + 1), qa_word(&w, j + 1)) &&
                !strcmp(qa_word(&w, i + 2), qa_word(&w, j + 2)))
                count++;
        if (count >= 3) {
            snprintf(why, n, "\"%.30s %.30s %.30s\" %d times", qa_word(&w, i), qa_word(&w, i + 1),
                     qa_word(&w, i + 2), count);
            found = 1;
        }
    }
    qa_words_free(&w);
    return found;
}

/* The names of real special tokens, which text about language models
 * writes in the same brackets as a template slot ("the [CLS] token"). */
static int special_token(const char *p, size_t l)
{
    static const char *const tokens[] = {"CLS", "SEP", "MASK", "PAD", "UNK", "BOS", "EOS", "S", "INST", "SYS"};
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++)
        if (strlen(tokens[i]) == l && strncmp(p, tokens[i], l) == 0)
            return 1;
    return 0;
}

/* A template slot a generator left unfilled: "[ANSWER]", "[BASELINE NAME]"
 * or "<NAME>" (capitals, spaces, "_"), "{table_number}" (an identifier of
 * 3 or more characters in braces, not right after a letter or "\" as in
 * LaTeX's "\mathrm{softmax}"). Its length in *len. */
static const char *slot(const char *text, size_t *len)
{
    for (const char *p = text; *p; p++) {
        char close = *p == '[' ? ']' : *p == '<' ? '>' : *p == '{' ? '}' : 0;
        if (!close)
            continue;
        const char *q = p + 1;
        size_t letters = 0;
        if (close == '}') {
            if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '\\'))
                continue;
            if (!(isalpha((unsigned char)*q) || *q == '_'))
                continue;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++, letters++;
            if (*q == '}' && letters >= 3) {
                *len = (size_t)(q + 1 - p);
                return p;
            }
            continue;
        }
        while (isupper((unsigned char)*q) || *q == ' ' || *q == '_')
            letters += isupper((unsigned char)*q) != 0, q++;
        if (*q == close && letters >= 2 && p[1] != ' ' && q[-1] != ' ' && !special_token(p + 1, (size_t)(q - p - 1))) {
            *len = (size_t)(q + 1 - p);
            return p;
        }
    }
    return NULL;
}

int qa_check_placeholder(const char *text, char *why, size_t n)
{
    /* Matched case-insensitively anywhere in the text. */
    static const char *const marks[] = {
        "[your", "[insert", "{question}", "{answer}", "{{", "}}", "<question>", "<answer>", "<your", "<insert",
        "lorem ipsum", "your answer here", "your question here", "answer goes here", "placeholder",
    };
    /* Matched as whole words, upper case only ("todo" in prose is rarer
     * than "TODO" left in a template, but "TBD" in prose means the same). */
    static const char *const words[] = {"TODO", "TBD", "FIXME", "XXX"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        if (strcasestr(text, marks[i])) {
            snprintf(why, n, "contains \"%s\"", marks[i]);
            return 1;
        }
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t l = strlen(words[i]);
        for (const char *p = strstr(text, words[i]); p; p = strstr(p + 1, words[i])) {
            int before = p == text || !((unsigned char)p[-1] < 0x80 && (p[-1] == '_' || isalnum((unsigned char)p[-1])));
            int after = !(p[l] == '_' || isalnum((unsigned char)p[l]));
            if (before && after) {
                snprintf(why, n, "contains \"%s\"", words[i]);
                return 1;
            }
        }
    }
    size_t l;
    const char *p = slot(text, &l);
    if (p) {
        snprintf(why, n, "template slot \"%.*s\"", (int)(l < 60 ? l : 60), p);
        return 1;
    }
    return 0;
}

int qa_check_truncated(const char *answer, char *why, size_t n)
{
    size_t len = strlen(answer);
    while (len && strchr(" \t\r\n", answer[len - 1]))
        len--;
    if (len == 0) {
        snprintf(why, n, "empty answer");
        return 1;
    }
    char last = answer[len - 1];
    if (last == ',' || last == ';' || last == ':' || last == '-' || last == '(') {
        snprintf(why, n, "answer ends with \"%c\"", last);
        return 1;
    }
    QaWords w;
    if (qa_words(&w, answer) != 0)
        return 0;
    static const char *const dangling[] = {"and", "or", "but", "the", "a", "an", "of", "to", "with", "because",
                                           "which", "that", "for", "in", "is", "are", "by", "from"};
    int found = 0;
    const char *tail = w.n ? qa_word(&w, w.n - 1) : "";
    /* A closing word only counts when nothing (not even a ".") follows it. */
    const char *after = answer + len - strlen(tail);
    int ends_in_word = w.n && after >= answer && strncasecmp(after, tail, strlen(tail)) == 0;
    for (size_t i = 0; ends_in_word && w.n > 1 && i < sizeof dangling / sizeof *dangling; i++)
        if (strcmp(tail, dangling[i]) == 0) {
            snprintf(why, n, "answer ends with \"%s\"", tail);
            found = 1;
        }
    /* Short answers ("Paris", "42 kg") are complete without a full stop. */
    if (!found && w.n >= 8 && !strchr(".!?)]\"'`*>|", last) && ((unsigned char)last < 0x80)) {
        snprintf(why, n, "answer of %zu words stops without closing punctuation", w.n);
        found = 1;
    }
    qa_words_free(&w);
    return found;
}

int qa_corpus_words(QaWordSet *set, const char *const *texts, size_t n, Err *e)
{
    for (size_t i = 0; i < n; i++) {
        QaWords w;
        if (qa_words(&w, texts[i]) != 0)
            return err_set(e, "corpus: out of memory");
        int rc = 0;
        for (size_t j = 0; rc == 0 && j < w.n; j++)
            rc = qa_wordset_add(set, qa_word(&w, j));
        qa_words_free(&w);
        if (rc)
            return err_set(e, "corpus: out of memory");
    }
    return 0;
}

/* Whether word is already in the ", "-separated list. */
static int listed(const char *list, const char *word)
{
    size_t l = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && (p[l] == ',' || p[l] == 0))
            return 1;
    return 0;
}

double qa_support(const QaWordSet *corpus, const char *answer, char *missing, size_t n)
{
    QaWords w;
    if (n)
        missing[0] = 0;
    if (qa_words(&w, answer) != 0)
        return 1;
    size_t content = 0, found = 0, used = 0;
    for (size_t i = 0; i < w.n; i++) {
        const char *x = qa_word(&w, i);
        if (qa_stopword(x))
            continue;
        content++;
        if (qa_wordset_has(corpus, x)) {
            found++;
        } else if (n && used + strlen(x) + 4 < n && !listed(missing, x)) {
            used += (size_t)snprintf(missing + used, n - used, "%s%s", used ? ", " : "", x);
        }
    }
    qa_words_free(&w);
    return content ? (double)found / (double)content : 1.0;
}

/* Appends "name: why" as a line of reasons. */
static void add_reason(char *reasons, size_t cap, unsigned *flags, unsigned bit, const char *why)
{
    size_t used = strlen(reasons);
    int i = 0;
    while (!(bit & (1u << i)))
        i++;
    snprintf(reasons + used, cap - used, "%s%s: %s", used ? "\n" : "", names[i], why);
    *flags |= bit;
}

int qa_flags_update(QaStore *s, const QaFlagOptions *o, size_t *n_changed, Err *e)
{
    const double min_support = o->min_support > 0 ? o->min_support : 0.5;
    size_t changed = 0;
    char **norm = calloc(s->n + 1, sizeof *norm);
    /* [2i] question, [2i+1] answer */
    QaWordList *words = calloc(2 * s->n + 1, sizeof *words);
    size_t n_words = 0;
    if (!norm || !words) {
        free(norm);
        free(words);
        return err_set(e, "%s: out of memory", s->path);
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        if (!(norm[i] = qa_normalize(s->r[i].question)))
            rc = err_set(e, "%s: out of memory", s->path);
    for (; rc == 0 && n_words < 2 * s->n; n_words++)
        if (qa_word_list_init(&words[n_words], n_words % 2 ? s->r[n_words / 2].answer : s->r[n_words / 2].question) != 0)
            rc = err_set(e, "%s: out of memory", s->path);
    /* Golden questions and answers, normalised once: [2k] question, [2k+1] answer */
    char **gnorm = calloc(2 * o->n_golden + 1, sizeof *gnorm);
    if (!gnorm && rc == 0)
        rc = err_set(e, "%s: out of memory", s->path);
    for (size_t k = 0; rc == 0 && k < o->n_golden; k++)
        if (!(gnorm[2 * k] = qa_normalize(o->golden_q[k])) || !(gnorm[2 * k + 1] = qa_normalize(o->golden_a[k])))
            rc = err_set(e, "%s: out of memory", s->path);
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        QaRecord *r = &s->r[i];
        if (r->deleted)
            continue;
        char reasons[2048] = "", why[256];
        unsigned flags = 0;
        if (qa_check_repetition(r->answer, why, sizeof why) || qa_check_repetition(r->question, why, sizeof why))
            add_reason(reasons, sizeof reasons, &flags, QA_FLAG_REPETITION, why);
        if (qa_check_placeholder(r->question, why, sizeof why) || qa_check_placeholder(r->answer, why, sizeof why))
            add_reason(reasons, sizeof reasons, &flags, QA_FLAG_PLACEHOLDER, why);
        if (qa_check_truncated(r->answer, why, sizeof why))
            add_reason(reasons, sizeof reasons, &flags, QA_FLAG_TRUNCATED, why);
        int dup = 0;
        for (size_t j = 0; j < s->n && !dup; j++) {
            const QaRecord *q = &s->r[j];
            if (q->id >= r->id || q->deleted || q->status == QA_REJECTED)
                continue;
            if (strcmp(norm[i], norm[j]) == 0) {
                snprintf(why, sizeof why, "same question as #%ld", q->id);
                add_reason(reasons, sizeof reasons, &flags, QA_FLAG_DUPLICATE, why);
                dup = 1;
            } else if (qa_near_duplicate(&words[2 * i], &words[2 * i + 1], &words[2 * j], &words[2 * j + 1], why,
                                      sizeof why)) {
                char at[300];
                snprintf(at, sizeof at, "question like #%ld's %s", q->id, why);
                add_reason(reasons, sizeof reasons, &flags, QA_FLAG_NEAR_DUPLICATE, at);
                dup = 1;
            }
        }
        for (size_t k = 0; k < o->n_golden && !dup && !r->golden && rc == 0; k++) {
            if (strcmp(norm[i], gnorm[2 * k]) != 0)
                continue;
            char *ra = qa_normalize(r->answer);
            if (!ra)
                rc = err_set(e, "%s: out of memory", s->path);
            else if (strcmp(gnorm[2 * k + 1], ra) != 0) {
                snprintf(why, sizeof why, "same question as Golden Data %s #%zu, with another answer",
                         o->golden_path ? o->golden_path : "", k + 1);
                add_reason(reasons, sizeof reasons, &flags, QA_FLAG_DUPLICATE, why);
                dup = 1;
            }
            free(ra);
        }
        if (o->count && o->seq_len > 0) {
            int t = o->count(o->count_ctx, r->question, r->answer);
            if (t > o->seq_len) {
                snprintf(why, sizeof why, "%d tokens, seq_len is %d", t, o->seq_len);
                add_reason(reasons, sizeof reasons, &flags, QA_FLAG_TOO_LONG, why);
            }
        }
        if (o->corpus) {
            char missing[160];
            double sup = qa_support(o->corpus, r->answer, missing, sizeof missing);
            if (sup < min_support) {
                snprintf(why, sizeof why, "%.0f%% of the answer's words are in the corpus (not: %s)", 100 * sup,
                         missing);
                add_reason(reasons, sizeof reasons, &flags, QA_FLAG_UNSUPPORTED, why);
            }
        }
        if (flags != r->flags || strcmp(reasons, r->reasons) != 0) {
            rc = qa_set_flags(s, r->id, flags, reasons, e);
            changed++;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        free(norm[i]);
    free(norm);
    for (size_t i = 0; i < n_words; i++)
        qa_word_list_free(&words[i]);
    free(words);
    for (size_t k = 0; gnorm && k < 2 * o->n_golden; k++)
        free(gnorm[k]);
    free(gnorm);
    if (rc == 0 && n_changed)
        *n_changed = changed;
    return rc;
}
