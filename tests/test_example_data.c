/* test_example_data.c - the bundled example's data files (data/) keep the
 * promises the docs make about them.
 *
 * The example is hand-written text, so nothing but a test stops an edit
 * from quietly breaking it: a chunk grown past 300 words, an evaluation
 * question that leaks into the training set (the benchmark would then
 * measure recall of a seen question, not knowledge), a keyword that the
 * reference answer or the corpus does not contain (no model could earn it),
 * a keyword made of the question's own words (echoing the question earns it),
 * or an answer key in qa_flaws.md that no longer matches qa_source.jsonl.
 *
 * Leak detection compares questions after normalisation (lower case, runs
 * of anything but letters and digits as one space) and also by word-set
 * overlap (Jaccard), since a near-verbatim copy ("what learning rate is used
 * for stage 3 ?") is as much a leak as an exact one. */
#include "fsutil.h"
#include "jsonl.h"
#include "test.h"

#include <ctype.h>
#include <dirent.h>

#define DATA "data/"
#define MAX_ROWS 512
/* Word-set overlap at or above this counts as the same question.  The
 * eval set's closest paraphrases sit below 0.5. */
#define NEAR_DUP 0.6

typedef struct Row {
    char *q, *a;        /* question and (reference) answer, owned */
    char *source;       /* qa_source: chunk name */
    char *kw[8];
    int n_kw;
    char *category;
} Row;

typedef struct Rows {
    Row r[MAX_ROWS];
    int n;
} Rows;

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static const char *str_field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Loads path; every line needs non-empty strings qkey and akey and, when
 * want_kw, a list of 1-4 string keywords. */
static void load(Rows *rs, const char *path, const char *qkey, const char *akey, int want_kw)
{
    TextFile f = {0};
    Err e;
    rs->n = 0;
    if (textfile_read(&f, path, NULL, &e) < 0) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    Jsonl j;
    jsonl_init(&j, path, &f);
    cJSON *o;
    int rc;
    while ((rc = jsonl_next(&j, &o, &e)) == 1) {
        const char *q = str_field(o, qkey), *a = str_field(o, akey);
        CHECKF(q && *q && a && *a, "%s:%ld: needs non-empty \"%s\" and \"%s\"", path, j.line, qkey, akey);
        if (rs->n < MAX_ROWS && q && a) {
            Row *r = &rs->r[rs->n++];
            memset(r, 0, sizeof *r);
            r->q = dupstr(q);
            r->a = dupstr(a);
            r->source = dupstr(str_field(o, "source"));
            r->category = dupstr(str_field(o, "category"));
            const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "keywords");
            if (want_kw) {
                CHECKF(cJSON_IsArray(kw), "%s:%ld: keywords must be a list", path, j.line);
                int n = cJSON_GetArraySize(kw);
                CHECKF(n >= 1 && n <= 4, "%s:%ld: %d keywords (want 1-4)", path, j.line, n);
                const cJSON *k;
                cJSON_ArrayForEach(k, kw) {
                    CHECKF(cJSON_IsString(k), "%s:%ld: a keyword is not a string", path, j.line);
                    if (cJSON_IsString(k) && r->n_kw < 8) r->kw[r->n_kw++] = dupstr(k->valuestring);
                }
            }
        }
        cJSON_Delete(o);
    }
    CHECKF(rc == 0, "%s", e.msg);
    textfile_free(&f);
}

static void rows_free(Rows *rs)
{
    for (int i = 0; i < rs->n; i++) {
        Row *r = &rs->r[i];
        free(r->q), free(r->a), free(r->source), free(r->category);
        for (int k = 0; k < r->n_kw; k++) free(r->kw[k]);
    }
    rs->n = 0;
}

/* Lower case, every run of non-alphanumerics one space, no edge spaces. */
static void normalize(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    int space = 0;
    for (; *s && n + 2 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c)) {
            if (space && n) out[n++] = ' ';
            out[n++] = (char)tolower(c);
            space = 0;
        } else {
            space = 1;
        }
    }
    out[n] = 0;
}

static int count_words(const char *s)
{
    int n = 0, in = 0;
    for (; *s; s++) {
        int w = !isspace((unsigned char)*s);
        n += w && !in;
        in = w;
    }
    return n;
}

/* Jaccard overlap of the two normalised questions' word sets. */
static double word_overlap(const char *a, const char *b)
{
    char na[1024], nb[1024];
    normalize(a, na, sizeof na);
    normalize(b, nb, sizeof nb);
    char *wa[128], *wb[128];
    int ka = 0, kb = 0;
    for (char *t = strtok(na, " "); t && ka < 128; t = strtok(NULL, " ")) wa[ka++] = t;
    for (char *t = strtok(nb, " "); t && kb < 128; t = strtok(NULL, " ")) wb[kb++] = t;
    int inter = 0, ua = 0;
    for (int i = 0; i < ka; i++) {
        int seen = 0;
        for (int p = 0; p < i; p++) seen |= strcmp(wa[p], wa[i]) == 0;
        if (seen) continue;
        ua++;
        for (int k = 0; k < kb; k++)
            if (strcmp(wa[i], wb[k]) == 0) { inter++; break; }
    }
    int ub = 0;
    for (int k = 0; k < kb; k++) {
        int seen = 0;
        for (int p = 0; p < k; p++) seen |= strcmp(wb[p], wb[k]) == 0;
        ub += !seen;
    }
    int uni = ua + ub - inter;
    return uni ? (double)inter / uni : 1.0;
}

/* 1 when every word of kw is a word of q (both normalised): such a keyword
 * only restates the question, so it rewards echoing it, not knowing. */
static int restates_question(const char *q, const char *kw)
{
    char nq[1024], nk[256];
    normalize(q, nq, sizeof nq);
    normalize(kw, nk, sizeof nk);
    char *qw[128];
    int n = 0;
    for (char *t = strtok(nq, " "); t && n < 128; t = strtok(NULL, " ")) qw[n++] = t;
    int all = *nk != 0;
    for (char *t = strtok(nk, " "); t && all; t = strtok(NULL, " ")) {
        int found = 0;
        for (int i = 0; i < n && !found; i++) found = strcmp(qw[i], t) == 0;
        all = found;
    }
    return all;
}

static int contains_ci(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

/* The corpus: all chunk-NN.md files, concatenated (for keyword support). */
static char *corpus_text;
static int corpus_chunks;

static void check_corpus(void)
{
    DIR *d = opendir(DATA "corpus");
    CHECKF(d != NULL, "cannot open " DATA "corpus");
    if (!d) return;
    size_t len = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int num;
        char tail[8];
        int ok = sscanf(de->d_name, "chunk-%2d.%7s", &num, tail) == 2 && strcmp(tail, "md") == 0 &&
                 strlen(de->d_name) == strlen("chunk-00.md");
        CHECKF(ok, "corpus file %s is not named chunk-NN.md", de->d_name);
        char path[512];
        snprintf(path, sizeof path, DATA "corpus/%s", de->d_name);
        TextFile f = {0};
        Err e;
        if (textfile_read(&f, path, NULL, &e) < 0) {
            CHECKF(0, "%s", e.msg);
            continue;
        }
        int w = count_words(f.text);
        CHECKF(w >= 150 && w <= 300, "%s: %d words (want 150-300)", path, w);
        corpus_text = realloc(corpus_text, len + f.len + 2);
        memcpy(corpus_text + len, f.text, f.len);
        len += f.len;
        corpus_text[len++] = '\n';
        corpus_text[len] = 0;
        corpus_chunks++;
        textfile_free(&f);
    }
    closedir(d);
    CHECKF(corpus_chunks >= 30 && corpus_chunks <= 40, "%d corpus chunks (want 30-40)", corpus_chunks);
}

static int chunk_exists(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, DATA "corpus/%s.md", name);
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Eval-format rows: keywords are lower case, are not just the question's
 * words, appear in the reference answer, and (when in_corpus) somewhere in
 * the corpus. */
static void check_eval_rows(const Rows *rs, const char *path, int in_corpus, const char *only_category)
{
    static const char *cats[] = {"definition", "acronym", "number", "name", "method", "result", "general"};
    for (int i = 0; i < rs->n; i++) {
        const Row *r = &rs->r[i];
        int known = 0;
        for (size_t c = 0; c < sizeof cats / sizeof *cats; c++)
            known |= r->category && strcmp(r->category, cats[c]) == 0;
        CHECKF(known, "%s:%d: category \"%s\"", path, i + 1, r->category ? r->category : "(none)");
        if (only_category)
            CHECKF(r->category && strcmp(r->category, only_category) == 0, "%s:%d: category must be %s", path,
                   i + 1, only_category);
        else
            CHECKF(!r->category || strcmp(r->category, "general") != 0, "%s:%d: general belongs in probe", path,
                   i + 1);
        CHECKF(r->n_kw >= 1, "%s:%d: no keywords", path, i + 1);
        for (int k = 0; k < r->n_kw; k++) {
            int lower = 1;
            for (const char *p = r->kw[k]; *p; p++) lower &= !isupper((unsigned char)*p);
            CHECKF(lower && *r->kw[k], "%s:%d: keyword \"%s\" must be non-empty lower case", path, i + 1, r->kw[k]);
            CHECKF(!restates_question(r->q, r->kw[k]), "%s:%d: keyword \"%s\" only restates the question", path,
                   i + 1, r->kw[k]);
            CHECKF(contains_ci(r->a, r->kw[k]), "%s:%d: keyword \"%s\" not in the reference answer", path, i + 1,
                   r->kw[k]);
            if (in_corpus && corpus_text)
                CHECKF(contains_ci(corpus_text, r->kw[k]), "%s:%d: keyword \"%s\" not in the corpus", path, i + 1,
                       r->kw[k]);
        }
        CHECKF(count_words(r->a) <= 40, "%s:%d: reference answer too long (%d words)", path, i + 1,
               count_words(r->a));
    }
}

/* A question in `held` must not be in `train`: not after normalisation,
 * and not by a word overlap of `near` or more. */
static void check_no_leak(const Rows *held, const char *hpath, const Rows *train, const char *tpath, double near)
{
    for (int i = 0; i < held->n; i++) {
        char nh[1024], nt[1024];
        normalize(held->r[i].q, nh, sizeof nh);
        int bad = -1;
        double o = 0;
        for (int k = 0; k < train->n && bad < 0; k++) {
            normalize(train->r[k].q, nt, sizeof nt);
            o = word_overlap(held->r[i].q, train->r[k].q);
            if (strcmp(nh, nt) == 0 || o >= near) bad = k;
        }
        CHECKF(bad < 0, "%s:%d \"%s\" leaks into %s:%d \"%s\" (overlap %.2f)", hpath, i + 1, held->r[i].q, tpath,
               bad + 1, bad >= 0 ? train->r[bad].q : "", o);
    }
}

/* Template slots that generated QA leaves behind. */
static int has_placeholder(const char *s)
{
    static const char *marks[] = {"[Your", "{answer}", "{question}", "<insert>", "[ANSWER]", "[BASELINE", "{table"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        if (strstr(s, marks[i])) return 1;
    return 0;
}

/* A word trigram seen four times in a short answer is a generation loop. */
static int has_loop(const char *s)
{
    char n[2048];
    normalize(s, n, sizeof n);
    char *w[400];
    int k = 0;
    for (char *t = strtok(n, " "); t && k < 400; t = strtok(NULL, " ")) w[k++] = t;
    for (int i = 0; i + 2 < k; i++) {
        int seen = 0;
        for (int p = i; p + 2 < k; p++)
            seen += strcmp(w[p], w[i]) == 0 && strcmp(w[p + 1], w[i + 1]) == 0 && strcmp(w[p + 2], w[i + 2]) == 0;
        if (seen >= 4) return 1;
    }
    return 0;
}

/* The replay files (scripts/replay.sh) hold nothing about a probe term or
 * an acronym of the recall probe (scripts/probe-recall.sh): a probe must
 * measure what the model kept, not what it was shown again.  Checked per
 * line of replay.jsonl (SFT) and replay_chat.jsonl (CPT). */
static void check_replay(const Rows *recall)
{
    static char terms[256][64];
    char buf[8192];
    int nt = 0;
    FILE *f = fopen(DATA "probe_terms.txt", "r");
    CHECKF(f != NULL, "cannot open " DATA "probe_terms.txt");
    if (!f) return;
    while (nt < 64 && fgets(buf, sizeof buf, f))
        if (buf[0] != '#' && buf[0] != '\n') {
            terms[nt][0] = ' ';
            normalize(buf, terms[nt] + 1, sizeof terms[nt] - 2);
            strcat(terms[nt], " ");
            nt++;
        }
    fclose(f);
    CHECK(nt >= 30);
    for (int i = 0; i < recall->n && nt < 256; i++) {
        char x[64];
        CHECKF(sscanf(recall->r[i].q, "What does %63s stand for?", x) == 1, "probe_recall.jsonl:%d: not \"What "
               "does X stand for?\"", i + 1);
        terms[nt][0] = ' ';
        normalize(x, terms[nt] + 1, sizeof terms[nt] - 2);
        strcat(terms[nt], " ");
        nt++;
    }
    const char *files[] = {DATA "replay.jsonl", DATA "replay_chat.jsonl"};
    for (int k = 0; k < 2; k++) {
        Err e;
        size_t len;
        char *text = fs_read_all(files[k], &len, &e);
        CHECKF(text != NULL, "cannot read %s", files[k]);
        if (!text) continue;
        int n = 0, bad = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            buf[0] = ' ';
            normalize(line, buf + 1, sizeof buf - 2);
            strcat(buf, " ");
            for (int t = 0; t < nt; t++)
                if (strstr(buf, terms[t])) {
                    CHECKF(0, "%s: \"%.60s\" mentions the probe term%s", files[k], line, terms[t]);
                    bad++;
                }
            n++;
        }
        CHECKF(n >= 100 && !bad, "%s: %d lines, %d about probe terms", files[k], n, bad);
        free(text);
    }
}

/* qa_flaws.md lists "| LINE | KIND | note |" rows; they must match what
 * the lines of qa_source.jsonl show, and no unlisted line may show a
 * placeholder or a loop (the kinds a machine can see). */
static void check_flaws(const Rows *qa)
{
    char *kind_of[MAX_ROWS + 1] = {0};
    int of_line[MAX_ROWS + 1] = {0};
    FILE *f = fopen(DATA "qa_flaws.md", "r");
    CHECKF(f != NULL, "cannot open " DATA "qa_flaws.md");
    if (!f) return;
    char buf[1024];
    int n = 0;
    while (fgets(buf, sizeof buf, f)) {
        int line;
        char kind[64];
        if (sscanf(buf, "| %d | %63[a-z-] |", &line, kind) != 2) continue;
        CHECKF(line >= 1 && line <= qa->n, "qa_flaws.md: line %d out of range", line);
        if (line < 1 || line > qa->n) continue;
        CHECKF(!kind_of[line], "qa_flaws.md: line %d listed twice", line);
        free(kind_of[line]);
        kind_of[line] = strdup(kind);
        const char *of = strstr(buf, "of line ");
        if (of) of_line[line] = atoi(of + 8);
        n++;
    }
    fclose(f);
    CHECKF(n >= 20 && n <= 30, "qa_flaws.md lists %d flawed lines (want 20-30)", n);
    for (int l = 1; l <= qa->n; l++) {
        const Row *r = &qa->r[l - 1];
        const char *k = kind_of[l];
        int ph = has_placeholder(r->q) || has_placeholder(r->a), loop = has_loop(r->a);
        if (!k) {
            CHECKF(!ph && !loop, "qa_source.jsonl:%d shows a flaw but qa_flaws.md does not list it", l);
            size_t al = strlen(r->a);
            CHECKF(al && strchr(".?!)", r->a[al - 1]), "qa_source.jsonl:%d: a good answer ends a sentence", l);
            continue;
        }
        if (strcmp(k, "placeholder") == 0) CHECKF(ph, "qa_source.jsonl:%d: listed as placeholder", l);
        else if (strcmp(k, "repetition") == 0) CHECKF(loop, "qa_source.jsonl:%d: listed as repetition", l);
        else if (strcmp(k, "truncated") == 0) {
            size_t al = strlen(r->a);
            CHECKF(al && !strchr(".?!", r->a[al - 1]), "qa_source.jsonl:%d: listed as truncated", l);
        } else if (strcmp(k, "duplicate") == 0 || strcmp(k, "near-duplicate") == 0) {
            int o = of_line[l];
            CHECKF(o >= 1 && o < l && !kind_of[o], "qa_source.jsonl:%d: duplicate of an earlier good line", l);
            if (o >= 1 && o < l) {
                char a[1024], b[1024];
                normalize(r->q, a, sizeof a);
                normalize(qa->r[o - 1].q, b, sizeof b);
                /* A duplicate repeats the question byte for byte; a near
                 * one differs in the bytes but not after normalisation or
                 * in most of its words. */
                int same = strcmp(r->q, qa->r[o - 1].q) == 0;
                int near = strcmp(a, b) == 0 || word_overlap(r->q, qa->r[o - 1].q) >= NEAR_DUP;
                CHECKF(strcmp(k, "duplicate") == 0 ? same : !same && near, "qa_source.jsonl:%d vs %d: not a %s", l, o,
                       k);
            }
        } else {
            CHECKF(strcmp(k, "unsupported") == 0, "qa_flaws.md: unknown kind %s", k);
        }
    }
    for (int l = 0; l <= MAX_ROWS; l++) free(kind_of[l]);
}

/* Pairs written to be good: from a chunk, no flaw, a whole answer. */
static void check_good_pairs(const Rows *rs, const char *path)
{
    for (int i = 0; i < rs->n; i++) {
        const Row *r = &rs->r[i];
        size_t al = strlen(r->a);
        CHECKF(r->source && chunk_exists(r->source), "%s:%d: source is not a chunk", path, i + 1);
        CHECKF(!has_placeholder(r->q) && !has_placeholder(r->a) && !has_loop(r->a), "%s:%d: a flaw", path, i + 1);
        CHECKF(al && strchr(".?!)", r->a[al - 1]), "%s:%d: an answer ends a sentence", path, i + 1);
    }
}

int main(void)
{
    static Rows qa, more, para, golden, eval, probe, recall;
    check_corpus();

    load(&qa, DATA "qa_source.jsonl", "question", "answer", 0);
    CHECKF(qa.n >= 150, "qa_source.jsonl: %d pairs (want >= 150)", qa.n);
    for (int i = 0; i < qa.n; i++)
        CHECKF(qa.r[i].source && chunk_exists(qa.r[i].source), "qa_source.jsonl:%d: source \"%s\" is not a chunk",
               i + 1, qa.r[i].source ? qa.r[i].source : "(none)");
    check_flaws(&qa);

    /* qa_more.jsonl and qa_paraphrase.jsonl: more ways to ask the same
     * facts, all good pairs, none a copy of an earlier file's question. */
    load(&more, DATA "qa_more.jsonl", "question", "answer", 0);
    CHECKF(more.n >= 150, "qa_more.jsonl: %d pairs (want >= 150)", more.n);
    check_good_pairs(&more, "qa_more.jsonl");
    check_no_leak(&more, "qa_more.jsonl", &qa, "qa_source.jsonl", NEAR_DUP);
    load(&para, DATA "qa_paraphrase.jsonl", "question", "answer", 0);
    CHECKF(para.n >= 200, "qa_paraphrase.jsonl: %d pairs (want >= 200)", para.n);
    check_good_pairs(&para, "qa_paraphrase.jsonl");
    check_no_leak(&para, "qa_paraphrase.jsonl", &qa, "qa_source.jsonl", NEAR_DUP);
    check_no_leak(&para, "qa_paraphrase.jsonl", &more, "qa_more.jsonl", NEAR_DUP);

    load(&golden, DATA "golden.jsonl", "question", "answer", 0);
    CHECKF(golden.n >= 13, "golden.jsonl: %d pairs (want >= 13)", golden.n);
    /* The three definitions the example is built around come first. */
    CHECK(golden.n >= 3 && strcmp(golden.r[0].q, "What is CLaRa?") == 0 &&
          contains_ci(golden.r[0].a, "continuous latent reasoning"));
    CHECK(golden.n >= 3 && strcmp(golden.r[1].q, "What is SCP?") == 0 &&
          contains_ci(golden.r[1].a, "salient compressor pretraining"));
    CHECK(golden.n >= 3 && contains_ci(golden.r[2].q, "joint training") &&
          contains_ci(golden.r[2].a, "differentiable top-k"));

    load(&eval, DATA "eval.jsonl", "question", "reference_answer", 1);
    CHECKF(eval.n >= 40, "eval.jsonl: %d questions (want >= 40)", eval.n);
    check_eval_rows(&eval, "eval.jsonl", 1, NULL);
    check_no_leak(&eval, "eval.jsonl", &qa, "qa_source.jsonl", NEAR_DUP);
    check_no_leak(&eval, "eval.jsonl", &golden, "golden.jsonl", NEAR_DUP);
    check_no_leak(&eval, "eval.jsonl", &more, "qa_more.jsonl", NEAR_DUP);
    check_no_leak(&eval, "eval.jsonl", &para, "qa_paraphrase.jsonl", NEAR_DUP);
    int clara_def = 0, scp_def = 0;
    for (int i = 0; i < eval.n; i++) {
        clara_def |= contains_ci(eval.r[i].q, "clara") && contains_ci(eval.r[i].a, "continuous");
        scp_def |= contains_ci(eval.r[i].q, "scp") && contains_ci(eval.r[i].a, "salient compressor pretraining");
    }
    CHECK(clara_def && scp_def);

    load(&probe, DATA "probe.jsonl", "question", "reference_answer", 1);
    CHECKF(probe.n >= 30, "probe.jsonl: %d questions (want >= 30)", probe.n);
    check_eval_rows(&probe, "probe.jsonl", 0, "general");
    /* Probe questions share a template ("What does X stand for?") with a
     * few domain ones, so only an exact repeat counts there. */
    check_no_leak(&probe, "probe.jsonl", &qa, "qa_source.jsonl", 1.01);

    /* The recall probe: acronyms the base model was taught, asked as taught. */
    load(&recall, DATA "probe_recall.jsonl", "question", "reference_answer", 1);
    CHECKF(recall.n == 100, "probe_recall.jsonl: %d questions (want 100)", recall.n);
    check_eval_rows(&recall, "probe_recall.jsonl", 0, "general");

    check_replay(&recall);

    rows_free(&qa), rows_free(&more), rows_free(&para), rows_free(&golden);
    rows_free(&eval), rows_free(&probe), rows_free(&recall);
    free(corpus_text);
    TEST_MAIN_END();
}
