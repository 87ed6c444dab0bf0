/* dict.h - dictd dictionaries (Debian's dict-* packages) read and cleaned
 * into the bundled base model's pretraining corpus.
 *
 * A dictd dictionary is two files.  NAME.index has one line per headword:
 * "HEADWORD TAB OFFSET TAB LENGTH", where OFFSET and LENGTH are byte
 * positions in NAME.dict written as big-endian base-64 numbers with no
 * padding (digits A-Z a-z 0-9 + /, so "B" is 1 and "BA" is 64).  Several
 * headwords may point at one entry (FOLDoc lists an entry's aliases,
 * WordNet its synonyms); entries are therefore told apart by offset.  The
 * packages ship NAME.dict.dz, dictzip-compressed; dictzip is gzip with an
 * index in a header field, so `gzip -dc` yields NAME.dict, which is what
 * this module reads (the Makefile's `corpus` target decompresses them).
 *
 * Each dictionary writes its entries in its own layout; the kind, taken
 * from the file name, picks the cleaner:
 *   vera    "CPU\n  Central Processing Unit\n": an acronym and its
 *           expansion, often with "(topic, ...)" tags and [notes]; one
 *           entry per meaning, so the entries of one acronym are merged;
 *   foldoc  headword, alias lines, a blank line, then "<category> text",
 *           {cross references}, [citations] and a "(YYYY-MM-DD)" date;
 *   jargon  headword, then "/pronunciation/, n." and "[etymology]";
 *   wn      WordNet: "n 1: definition; \"example\" [syn: {a}, {b}]" senses;
 *   gcide   Webster 1913: "Word \Wo*rd\, n. [etymology]" and quotations;
 *   other   markup is removed as for foldoc.
 * What every kind gets: {braces} unwrapped, runs of white space made one
 * space, no space inside quotes or before punctuation.  Meta entries
 * (headwords "00-database-...", "00databaseinfo", "00-gcide-...") are not
 * entries and are skipped.
 *
 * Ownership: a Dict owns both files' bytes and its word table; a DictEntry
 * list owns its strings.  Both start zeroed and have a _free. */
#ifndef INFUSE_DICT_H
#define INFUSE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum DictKind { DICT_OTHER, DICT_VERA, DICT_FOLDOC, DICT_JARGON, DICT_WN, DICT_GCIDE } DictKind;

typedef struct DictWord {
    const char *head;       /* into Dict.index; not NUL-terminated */
    size_t head_len;
    uint64_t off, len;      /* the entry: Dict.data[off, off + len) */
} DictWord;

typedef struct Dict {
    char *name;             /* file name without folder and ".index": "vera" */
    DictKind kind;
    char *index;            /* NAME.index, NUL-terminated */
    char *data;             /* NAME.dict, NUL-terminated */
    size_t data_len;
    DictWord *words;        /* [n_words], in the index's order */
    size_t n_words;
} Dict;

typedef struct DictEntry {
    char *head;             /* the headword as the entry spells it ("CPU", not the index's "cpu") */
    char *text;             /* the definition as one markup-free paragraph */
    char **exp;             /* vera: the expansions, slang dropped unless all are slang; else NULL */
    int n_exp;
    int dict;               /* the caller's number for the dictionary */
    uint64_t off;           /* where the entry starts in its .dict (the first, for merged ones) */
} DictEntry;

typedef struct DictEntries {
    DictEntry *e;
    size_t n, cap;
} DictEntries;

/* The value of the dictd base-64 number s[0..n); -1 if s is empty, holds a
 * character outside the alphabet or overflows 64 bits. */
int dict_b64_decode(const char *s, size_t n, uint64_t *out);

/* The kind the file name (without folder and suffix) stands for. */
DictKind dict_kind_of(const char *name);

/* Reads index_path ("X/NAME.index") and the decompressed "X/NAME.dict"
 * beside it.  Errors name the file and line: a line without three fields,
 * a bad number, an entry past the end of the .dict; a missing .dict with a
 * .dict.dz beside it is reported as needing `gzip -dc`. */
int dict_open(Dict *d, const char *index_path, Err *e);
void dict_close(Dict *d);

/* Appends d's entries (one per distinct offset, meta entries and entries
 * that clean to nothing skipped; vera's meanings of one acronym merged)
 * to out, each tagged with dict_no, in index order. */
int dict_entries(const Dict *d, int dict_no, DictEntries *out, Err *e);
void dict_entries_free(DictEntries *l);

/* s[0..n) without markup, for any kind: {x} -> x, white space collapsed,
 * no space after an opening or before a closing quote or bracket, none
 * before , . ; : ! ?.  Returns a malloc'd string (NULL when out of memory). */
char *dict_clean_text(const char *s, size_t n);

/* The first sentence(s) of a definition for a short answer: whole
 * sentences while they fit in max_words, until there are 6 words or more
 * (a sentence that does not fit while there are fewer is cut at its last
 * ';' or ',' within the budget, or at the budget), capitalised and ending
 * in a full stop.  malloc'd; NULL when out of
 * memory. */
char *dict_short_answer(const char *def, int max_words);

/* Words (runs of non-space) in s. */
long dict_count_words(const char *s);

/* Builds the corpus from the dictionaries index_paths[0..n) into outdir:
 *   text.txt     "HEADWORD: definition" paragraphs, blank-line separated;
 *   qa.jsonl     {"messages": [user, assistant]} records: for vera
 *                "What does X stand for?" -> "X stands for E." and
 *                "What is X?"; for the others "What is X?" (wn, gcide:
 *                "What does X mean?") and "Define X." -> the definition's
 *                short answer (40 words at most); a question asked twice
 *                keeps its first answer;
 *   heldout.txt  every heldout_every-th entry (unless its headword is in
 *                keep), in text.txt's format and left out of the other
 *                two (for a held-out loss).
 * Entries are sorted by headword (ASCII case folded, then reversed byte
 * order so "byte" comes before "Byte", then
 * the dictionaries' order as given, then offset).  max_entries > 0 keeps
 * that many: those whose headword is in keep (any case) first, then the
 * ones whose hash of (seed, lower-cased headword) is smallest, so a corpus
 * keeps every meaning of a headword it keeps and the same arguments give
 * the same bytes. */
typedef struct DictCorpusOptions {
    long max_entries;       /* 0: all */
    uint64_t seed;
    int heldout_every;      /* 0: none */
    const char *const *keep;
    size_t n_keep;
} DictCorpusOptions;

#define DICT_CORPUS_MAX 16

typedef struct DictCorpusStats {
    int n_dicts;
    char names[DICT_CORPUS_MAX][64];
    long available[DICT_CORPUS_MAX];    /* entries the dictionary holds */
    long written[DICT_CORPUS_MAX];      /* kept, held-out ones included */
    long entries, heldout, words, heldout_words, qa;
} DictCorpusStats;

int dict_corpus_build(const char *const *index_paths, size_t n, const char *outdir, const DictCorpusOptions *o,
                      DictCorpusStats *st, Err *e);

#endif
