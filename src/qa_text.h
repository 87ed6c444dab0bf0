/* qa_text.h - words of a question or answer, for the quality flags and
 * synthesis: Unicode word boundaries (UAX #29, libunistring), case folded,
 * keeping only words with a letter or digit (punctuation and spaces are
 * not words).  "Don't" is one word, "3.5" is one word.
 *
 * Ownership: QaWords and QaWordSet are caller-owned ({0} to start) and
 * released by their _free. */
#ifndef INFUSE_QA_TEXT_H
#define INFUSE_QA_TEXT_H

#include <stddef.h>

typedef struct QaWords {
    char *buf;          /* the words, each NUL-terminated, in order */
    size_t *off;        /* [n] start of word i in buf */
    size_t n;
} QaWords;

/* Splits text into its case-folded words; -1 only when out of memory. */
int qa_words(QaWords *w, const char *text);
static inline const char *qa_word(const QaWords *w, size_t i) { return w->buf + w->off[i]; }
void qa_words_free(QaWords *w);

/* Words joined by single spaces: "What is  RAG?" and "what is rag" give the
 * same string.  malloc'd; NULL when out of memory. */
char *qa_normalize(const char *text);

/* A set of strings (owned copies), open addressing. */
typedef struct QaWordSet {
    char **slot;
    size_t cap, n;
} QaWordSet;

int qa_wordset_add(QaWordSet *s, const char *word);   /* 0, or -1 out of memory */
int qa_wordset_has(const QaWordSet *s, const char *word);
void qa_wordset_free(QaWordSet *s);

/* Function words ("the", "is", "of", ...) that say nothing about content. */
int qa_stopword(const char *word);

#endif
