/* test_example_flags.c - the quality flags against the example's answer key.
 *
 * data/qa_flaws.md lists which lines of data/qa_source.jsonl are flawed and
 * how; tests/test_example_data.c checks that list against the file itself.
 * Here infuse's own checks meet it: imported into a fresh store, every line
 * the key calls a placeholder, a loop, truncated or a near-duplicate must
 * carry that flag, an exact duplicate must not be imported twice, and no
 * line the key calls good may carry a flag.  ("Unsupported" is a judgement
 * against the corpus that a word-overlap check catches only sometimes; it
 * is not asked for, but a good line flagged unsupported still fails.)
 *
 * And the shipped store, data/qa.jsonl, must not approve a line of the key:
 * SFT trains on approved pairs, so an approved flaw is taught. */
#include "test.h"

#include "fsutil.h"
#include "qa_corpus.h"
#include "qa_flags.h"
#include "qa_import.h"
#include "qa_store.h"

#define SOURCE "data/qa_source.jsonl"
#define MAX_LINES 1024

/* kind[line] from the key's "| LINE | KIND | note |" rows; the count. */
static int read_key(char kind[][32])
{
    FILE *f = fopen("data/qa_flaws.md", "r");
    CHECKF(f != NULL, "cannot open data/qa_flaws.md");
    if (!f) return 0;
    char buf[1024], k[32];
    int n = 0, line;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "| %d | %31[a-z-] |", &line, k) == 2 && line >= 1 && line < MAX_LINES) {
            snprintf(kind[line], sizeof kind[line], "%s", k);
            n++;
        }
    fclose(f);
    return n;
}

/* The record imported from line of SOURCE, or NULL. */
static const QaRecord *from_line(const QaStore *s, int line)
{
    char want[64];
    snprintf(want, sizeof want, SOURCE ":%d", line);
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].source && strcmp(s->r[i].source, want) == 0) return &s->r[i];
    return NULL;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
        last = c;
    }
    fclose(f);
    return n + (last != '\n');
}

static void check_flags(char kind[][32], int lines)
{
    Err e;
    const char *dir = "build/example-flags-test";
    fs_remove_tree(dir, &e);
    QaStore s;
    CHECKF(qa_store_open(&s, "build/example-flags-test/qa.jsonl", &e) == 0, "%s", e.msg);
    QaImport im = {0};
    CHECKF(qa_import_file(&s, SOURCE, &im, &e) == 0, "%s", e.msg);
    CHECK(im.n_bad == 0);
    QaCorpus c = {0};
    QaWordSet words = {0};
    CHECKF(qa_corpus_load(&c, "data/corpus", &e) == 0, "%s", e.msg);
    CHECK(qa_corpus_words(&words, (const char *const *)c.text, c.n, &e) == 0);
    QaFlagOptions o = {.corpus = &words};
    CHECKF(qa_flags_update(&s, &o, NULL, &e) == 0, "%s", e.msg);

    int caught = 0, listed = 0, unsupported = 0, n_unsupported = 0;
    for (int l = 1; l <= lines; l++) {
        const QaRecord *r = from_line(&s, l);
        const char *k = kind[l];
        if (strcmp(k, "duplicate") == 0) {
            CHECKF(r == NULL, SOURCE ":%d: an exact duplicate was imported again", l);
            continue;
        }
        CHECKF(r != NULL, SOURCE ":%d: not imported", l);
        if (!r) continue;
        unsigned want = strcmp(k, "placeholder") == 0   ? QA_FLAG_PLACEHOLDER
                        : strcmp(k, "repetition") == 0  ? QA_FLAG_REPETITION
                        : strcmp(k, "truncated") == 0   ? QA_FLAG_TRUNCATED
                        : strcmp(k, "near-duplicate") == 0 ? QA_FLAG_NEAR_DUPLICATE | QA_FLAG_DUPLICATE
                                                        : 0;
        if (want) {
            listed++;
            caught += (r->flags & want) != 0;
            CHECKF(r->flags & want, SOURCE ":%d: the key says %s, infuse flags 0x%x (%s)", l, k, r->flags,
                   r->reasons);
        } else if (k[0]) {
            n_unsupported++;
            unsupported += (r->flags & QA_FLAG_UNSUPPORTED) != 0;
        } else {
            CHECKF(r->flags == 0, SOURCE ":%d: a good pair flagged: %s", l, r->reasons);
        }
    }
    printf("answer key: %d of %d machine-visible flaws flagged; %d of %d unsupported answers\n", caught, listed,
           unsupported, n_unsupported);
    qa_import_free(&im);
    qa_wordset_free(&words);
    qa_corpus_free(&c);
    qa_store_close(&s);
}

/* Opened from a copy: opening may compact the journal into the file. */
static void check_shipped(char kind[][32], int lines)
{
    Err e;
    const char *dir = "build/example-flags-test";
    CHECK(fs_mkdirs(dir, &e) == 0);
    CHECK(fs_copy_file("data/qa.jsonl", "build/example-flags-test/shipped.jsonl", &e) == 0);
    fs_remove_tree("build/example-flags-test/shipped.jsonl.journal", &e);
    if (fs_exists("data/qa.jsonl.journal"))
        CHECK(fs_copy_file("data/qa.jsonl.journal", "build/example-flags-test/shipped.jsonl.journal", &e) == 0);
    QaStore s;
    CHECKF(qa_store_open(&s, "build/example-flags-test/shipped.jsonl", &e) == 0, "%s", e.msg);
    for (int l = 1; l <= lines; l++) {
        if (!kind[l][0]) continue;
        const QaRecord *r = from_line(&s, l);
        CHECKF(!r || r->status != QA_APPROVED, "data/qa.jsonl approves #%ld, " SOURCE ":%d, a %s pair",
               r ? r->id : 0L, l, kind[l]);
    }
    qa_store_close(&s);
}

int main(void)
{
    static char kind[MAX_LINES][32];
    int lines = count_lines(SOURCE);
    CHECKF(lines >= 150 && lines < MAX_LINES, SOURCE ": %d lines", lines);
    CHECK(read_key(kind) >= 20);
    check_flags(kind, lines);
    check_shipped(kind, lines);
    TEST_MAIN_END();
}
