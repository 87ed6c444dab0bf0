/* test_dict.c - dictd reading and the dictionary corpus builder, on the
 * hand-made dictionaries in tests/fixtures/dict (vera, foldoc, wn, jargon
 * in each one's real layout; their .index files were written by a script
 * that encoded the offsets independently of src/dict.c).
 *
 * Checked: dictd's base-64 numbers, index parsing against the .dict bytes,
 * aliases collapsing to one entry, meta entries skipped, each cleaner's
 * output word for word, VERA's merged meanings with slang dropped, short
 * answers, error messages, and that corpus-build writes the same bytes
 * twice, honours --keep and --max-entries and holds out every Nth entry. */
#include "dict.h"
#include "fsutil.h"
#include "test.h"

#include <unistd.h>

#define FIX "tests/fixtures/dict/"

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const DictEntry *find(const DictEntries *l, const char *head)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].head, head) == 0) return &l->e[i];
    return NULL;
}

static void test_b64(void)
{
    uint64_t v = 99;
    CHECK(dict_b64_decode("A", 1, &v) == 0 && v == 0);
    CHECK(dict_b64_decode("B", 1, &v) == 0 && v == 1);
    CHECK(dict_b64_decode("/", 1, &v) == 0 && v == 63);
    CHECK(dict_b64_decode("BA", 2, &v) == 0 && v == 64);
    CHECK(dict_b64_decode("CK", 2, &v) == 0 && v == 2 * 64 + 10);
    CHECK(dict_b64_decode("+8", 2, &v) == 0 && v == 62 * 64 + 60);
    CHECK(dict_b64_decode("BAAA", 4, &v) == 0 && v == 1u << 18);
    CHECK(dict_b64_decode("//////////", 10, &v) == 0 && v == (1ull << 60) - 1);
    CHECK(dict_b64_decode("BAAAAAAAAAA", 11, &v) == 0 && v == 1ull << 60);
    CHECK(dict_b64_decode("BAAAAAAAAAAA", 12, &v) == -1); /* 2^66 overflows */
    CHECK(dict_b64_decode("", 0, &v) == -1);
    CHECK(dict_b64_decode("A=", 2, &v) == -1);
    CHECK(dict_b64_decode("A\tB", 3, &v) == -1);
}

static void test_index(void)
{
    Dict d;
    Err e;
    CHECK(dict_open(&d, FIX "foldoc.index", &e) == 0);
    if (!d.words) return;
    CHECK(streq(d.name, "foldoc") && d.kind == DICT_FOLDOC);
    CHECK(d.n_words == 8);
    /* Every index line points at an entry that starts with its headword
     * line (aliases at their entry's first line). */
    for (size_t i = 0; i < d.n_words; i++) {
        const DictWord *w = &d.words[i];
        CHECK(w->off + w->len <= d.data_len);
        CHECK(w->len > 0 && d.data[w->off + w->len - 1] == '\n');
        CHECK(w->off == 0 || d.data[w->off - 1] == '\n');
    }
    const char *cpu = strstr(d.data, "central processing unit\n");
    CHECK(cpu && d.words[3].off == (uint64_t)(cpu - d.data) && d.words[4].off == d.words[3].off);
    CHECK(d.words[4].head_len == 3 && strncmp(d.words[4].head, "CPU", 3) == 0);
    dict_close(&d);
    CHECK(d.data == NULL);
    CHECK(dict_kind_of("vera") == DICT_VERA && dict_kind_of("wn") == DICT_WN && dict_kind_of("x") == DICT_OTHER);
}

static void test_vera(void)
{
    Dict d;
    Err e;
    DictEntries l = {0};
    CHECK(dict_open(&d, FIX "vera.index", &e) == 0);
    CHECK(dict_entries(&d, 3, &l, &e) == 0);
    CHECK(l.n == 5); /* meta skipped; three RAM lines are one entry */
    const DictEntry *ram = find(&l, "RAM"), *xml = find(&l, "XML"), *gip = find(&l, "3GIP"), *lol = find(&l, "LOL");
    CHECK(ram && ram->n_exp == 2 && streq(ram->exp[0], "Random Access Memory") &&
          streq(ram->exp[1], "Rate Adaptive Mode") && ram->dict == 3);
    CHECK(ram && streq(ram->text, "Random Access Memory; Rate Adaptive Mode"));
    CHECK(xml && xml->n_exp == 1 && streq(xml->exp[0], "Extensible Markup Language"));
    CHECK(gip && gip->n_exp == 1 && streq(gip->exp[0], "3rd Generation. Internet Protocol"));
    /* Slang stays when it is the only meaning. */
    CHECK(lol && lol->n_exp == 1 && streq(lol->exp[0], "Lots Of Laughs"));
    CHECK(find(&l, "CPU") && streq(find(&l, "CPU")->text, "Central Processing Unit"));
    dict_entries_free(&l);
    dict_close(&d);
}

static void test_cleaners(void)
{
    Dict d;
    Err e;
    DictEntries l = {0};
    CHECK(dict_open(&d, FIX "foldoc.index", &e) == 0);
    CHECK(dict_entries(&d, 0, &l, &e) == 0);
    dict_close(&d);
    CHECK(l.n == 5); /* three index lines name the CPU entry */
    const DictEntry *x = find(&l, "central processing unit");
    CHECKF(x && streq(x->text, "The part of a computer which controls all the other parts. See RAM and arithmetic "
                               "and logic unit (ALU)."),
           "%s", x ? x->text : "(none)");
    x = find(&l, "byte");
    CHECKF(x && streq(x->text, "A component of the machine data hierarchy, now nearly always eight bits. A byte "
                               "holds one character."),
           "%s", x ? x->text : "(none)");
    x = find(&l, "Byte");
    CHECKF(x && streq(x->text, "A popular computing magazine."), "%s", x ? x->text : "(none)");
    x = find(&l, "grok");
    CHECKF(x && streq(x->text, "To understand, usually in a global sense. 2. Used of programs."), "%s",
           x ? x->text : "(none)");
    x = find(&l, "kludge");
    CHECK(x && streq(x->text, "Kluge"));
    CHECK(find(&l, "CPU") == NULL && find(&l, "processor") == NULL);
    dict_entries_free(&l);

    CHECK(dict_open(&d, FIX "wn.index", &e) == 0);
    CHECK(dict_entries(&d, 0, &l, &e) == 0);
    dict_close(&d);
    x = find(&l, "kernel");
    CHECKF(x && streq(x->text, "The inner part of a seed; \"a kernel of corn\". The most essential part of an idea. "
                               "To form kernels."),
           "%s", x ? x->text : "(none)");
    dict_entries_free(&l);

    CHECK(dict_open(&d, FIX "jargon.index", &e) == 0);
    CHECK(dict_entries(&d, 0, &l, &e) == 0);
    dict_close(&d);
    x = find(&l, "hack");
    CHECKF(x && streq(x->text, "Originally, a quick job that produces what is needed, but not well. 2. vt. To bear "
                               "emotionally. \xe2\x80\x9cI can't hack this heat!\xe2\x80\x9d"),
           "%s", x ? x->text : "(none)");
    dict_entries_free(&l);

    const char *raw = "  a {cross\n   reference} ( here ) , and [ x ] .  \xe2\x80\x9c quoted \xe2\x80\x9d ";
    char *c = dict_clean_text(raw, strlen(raw));
    CHECKF(streq(c, "a cross reference (here), and [x]. \xe2\x80\x9cquoted\xe2\x80\x9d"), "%s", c);
    free(c);
    c = dict_clean_text("x. .", 4);
    CHECK(streq(c, "x."));
    free(c);
}

static void test_short_answer(void)
{
    char *a = dict_short_answer("a unit of data. It has eight bits. More.", 40);
    CHECKF(streq(a, "A unit of data. It has eight bits."), "%s", a);
    free(a);
    a = dict_short_answer("Binary digit. The unit of information; the amount of information one yes-or-no "
                          "question gives; a quantity with two values, such as false and true or 0 and 1; the "
                          "smallest unit of storage. Next.",
                          20);
    CHECKF(streq(a, "Binary digit. The unit of information; the amount of information one yes-or-no question "
                    "gives; a quantity with two values."),
           "%s", a);
    free(a);
    a = dict_short_answer("Used e.g. in Unix, i.e. everywhere. 2. Other sense.", 40);
    CHECKF(streq(a, "Used e.g. in Unix, i.e. everywhere."), "%s", a);
    free(a);
    a = dict_short_answer("one two three four five six seven eight nine ten", 4);
    CHECKF(streq(a, "One two three four."), "%s", a);
    free(a);
    CHECK(dict_count_words("  a bb  c\n") == 3);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_errors(void)
{
    char dir[] = "/tmp/infuse-dict-XXXXXX";
    if (!mkdtemp(dir)) return;
    char p[256], q[256];
    Dict d;
    Err e;
    snprintf(p, sizeof p, "%s/x.index", dir);
    snprintf(q, sizeof q, "%s/x.dict.dz", dir);
    write_file(p, "a\tA\tB\n");
    write_file(q, "gz");
    CHECK(dict_open(&d, p, &e) == -1 && strstr(e.msg, "x.dict: missing; decompress") && strstr(e.msg, "gzip -dc"));
    snprintf(q, sizeof q, "%s/x.dict", dir);
    write_file(q, "a\nb\n");
    write_file(p, "a\tA\tB\nb\tC\n");
    CHECKF(dict_open(&d, p, &e) == -1 && strstr(e.msg, "x.index:2: expected HEADWORD TAB OFFSET TAB LENGTH"), "%s",
           e.msg);
    write_file(p, "a\tA\tB\nb\tC\tB!\n");
    CHECKF(dict_open(&d, p, &e) == -1 && strstr(e.msg, "x.index:2: bad base-64"), "%s", e.msg);
    write_file(p, "a\tA\tB\nb\tC\tZ\n");
    CHECKF(dict_open(&d, p, &e) == -1 && strstr(e.msg, "x.index:2: entry at 2+25 lies past the end"), "%s", e.msg);
    write_file(p, "a\tA\tC\n\nb\tC\tC\n");
    CHECK(dict_open(&d, p, &e) == 0 && d.n_words == 2 && d.words[1].off == 2);
    dict_close(&d);
    CHECK(dict_open(&d, q, &e) == -1 && strstr(e.msg, "must end in .index"));
    fs_remove_tree(dir, &e);
}

static char *slurp(const char *dir, const char *name)
{
    char *p = fs_join(dir, name);
    Err e;
    size_t n;
    char *s = p ? fs_read_all(p, &n, &e) : NULL;
    free(p);
    return s;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* How many distinct openings (the first two words) the questions have. */
static int count_asks(const char *qa)
{
    char seen[64][32];
    int n = 0;
    const char *key = "\"role\":\"user\",\"content\":\"";
    for (const char *p = qa; (p = strstr(p, key)); p++) {
        p += strlen(key);
        const char *sp = strchr(p, ' ');
        sp = sp ? strchr(sp + 1, ' ') : NULL;
        if (!sp || sp - p >= 32)
            continue;
        char w[32];
        snprintf(w, sizeof w, "%.*s", (int)(sp - p), p);
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= strcmp(seen[i], w) == 0;
        if (!dup && n < 64)
            snprintf(seen[n++], 32, "%s", w);
    }
    return n;
}

static void test_corpus(void)
{
    char dir[] = "/tmp/infuse-corpus-XXXXXX";
    if (!mkdtemp(dir)) return;
    const char *dicts[] = {FIX "foldoc.index", FIX "jargon.index", FIX "wn.index", FIX "vera.index"};
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    DictCorpusOptions o = {0, 7, 0, NULL, 0};
    DictCorpusStats st;
    Err e;
    CHECKF(dict_corpus_build(dicts, 4, a, &o, &st, &e) == 0, "%s", e.msg);
    CHECK(st.n_dicts == 4 && st.available[0] == 5 && st.available[1] == 1 && st.available[2] == 2 &&
          st.available[3] == 5);
    CHECK(st.entries == 13 && st.heldout == 0);
    char *text = slurp(a, "text.txt"), *qa = slurp(a, "qa.jsonl");
    const char *start = "3GIP: 3rd Generation. Internet Protocol.\n\nbyte: A component";
    CHECK(text && strncmp(text, start, strlen(start)) == 0);
    CHECK(text && strstr(text, "hack: Originally, a quick job") && strstr(text, "heat!\xe2\x80\x9d\n"));
    CHECK(text && strstr(text, "\n\nRAM: Random Access Memory; Rate Adaptive Mode.\n"));
    /* "byte" sorts before "Byte", foldoc before wn: foldoc's byte answers. */
    CHECK(text && strstr(text, "\n\nbyte: A sequence of 8 bits") > strstr(text, "byte: A component") &&
          strstr(text, "Byte: A popular") > strstr(text, "byte: A sequence"));
    CHECK(qa && strstr(qa, "{\"messages\":[{\"role\":\"user\",\"content\":\"What does RAM stand for?\"},"
                           "{\"role\":\"assistant\",\"content\":\"RAM can stand for Random Access Memory or Rate "
                           "Adaptive Mode.\"}]}\n"));
    /* An acronym is asked three ways, a term two, in phrasings that vary
     * from entry to entry. */
    CHECK(qa && count(qa, "\"What does XML stand for?\"},{\"role\":\"assistant\",\"content\":\"XML stands for "
                          "Extensible Markup Language.\"}") == 1);
    CHECK(qa && count(qa, "\"content\":\"XML stands for Extensible Markup Language.\"}") == 3);
    CHECK(qa && count(qa, "\"content\":\"Originally, a quick job") == 2);
    CHECK(qa && count_asks(qa) >= 4);
    CHECK(qa && strstr(qa, "\"What is byte?\"},{\"role\":\"assistant\",\"content\":\"A component of the machine data "
                           "hierarchy, now nearly always eight bits.\"}"));
    CHECK(qa && strstr(qa, "\"What does kernel mean?\"},{\"role\":\"assistant\",\"content\":\"The inner part of a "
                           "seed; \\\"a kernel of corn\\\".\"}"));
    CHECK(qa && !strstr(qa, "What is kludge?")); /* "Kluge" alone teaches nothing */
    CHECK(qa && !strstr(qa, "What is Byte?"));   /* asked already, about "byte" */
    free(text), free(qa);

    /* Same arguments, same bytes. */
    CHECK(dict_corpus_build(dicts, 4, b, &o, &st, &e) == 0);
    const char *files[] = {"text.txt", "qa.jsonl", "heldout.txt"};
    for (int i = 0; i < 3; i++) {
        char *x = slurp(a, files[i]), *y = slurp(b, files[i]);
        CHECK(x && y && strcmp(x, y) == 0);
        free(x), free(y);
    }

    /* A subset: kept headwords first, every meaning of a headword alike. */
    const char *keep[] = {"xml", "KERNEL"};
    DictCorpusOptions sub = {3, 7, 0, keep, 2};
    CHECK(dict_corpus_build(dicts, 4, b, &sub, &st, &e) == 0 && st.entries == 3);
    text = slurp(b, "text.txt");
    CHECK(text && strstr(text, "XML: ") && strstr(text, "kernel: "));
    free(text);
    /* Without keep, different seeds pick by hash; the same seed repeats. */
    DictCorpusOptions s1 = {6, 1, 0, NULL, 0}, s2 = {6, 2, 0, NULL, 0};
    char *t1 = NULL, *t1b = NULL, *t2 = NULL;
    if (dict_corpus_build(dicts, 4, b, &s1, &st, &e) == 0) t1 = slurp(b, "text.txt");
    if (dict_corpus_build(dicts, 4, b, &s1, &st, &e) == 0) t1b = slurp(b, "text.txt");
    if (dict_corpus_build(dicts, 4, b, &s2, &st, &e) == 0) t2 = slurp(b, "text.txt");
    CHECK(t1 && t1b && t2 && strcmp(t1, t1b) == 0 && strcmp(t1, t2) != 0);
    free(t1), free(t1b), free(t2);

    /* Every 4th entry is held out of text and Q&A. */
    DictCorpusOptions h = {0, 7, 4, NULL, 0};
    CHECK(dict_corpus_build(dicts, 4, b, &h, &st, &e) == 0 && st.entries == 13 && st.heldout == 3);
    char *held = slurp(b, "heldout.txt");
    text = slurp(b, "text.txt");
    CHECKF(streq(held, "Byte: A popular computing magazine.\n\nhack: Originally, a quick job that produces what "
                       "is needed, but not well. 2. vt. To bear emotionally. \xe2\x80\x9cI can't hack this "
                       "heat!\xe2\x80\x9d\n\nRAM: Random Access Memory; Rate Adaptive Mode.\n"),
           "%s", held);
    CHECK(text && !strstr(text, "Byte: A popular") && !strstr(text, "RAM:") && strstr(text, "XML:"));
    qa = slurp(b, "qa.jsonl");
    CHECK(qa && !strstr(qa, "RAM") && !strstr(qa, "hack") && strstr(qa, "XML"));
    free(qa);
    free(held), free(text);

    CHECK(dict_corpus_build(dicts, 0, b, &h, &st, &e) == -1 && strstr(e.msg, "no dictionaries"));
    fs_remove_tree(dir, &e);
}

int main(void)
{
    test_b64();
    test_index();
    test_vera();
    test_cleaners();
    test_short_answer();
    test_errors();
    test_corpus();
    TEST_MAIN_END();
}
