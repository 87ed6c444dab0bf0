/* test_dataset.c - training data: JSONL and text reading, SFT records and
 * their loss masks, CPT windows, truncation, hashes, the validation split
 * and the batcher's restorable order.
 *
 * Files are written into a fresh folder under /tmp, which the test enters
 * so messages name short relative paths; every error is checked word for
 * word.  Masks are checked on the tiny fixture tokenizer (256 byte tokens,
 * 40 merges, <|endoftext|> <|im_start|> <|im_end|>) and, when
 * ../shared/fixtures is there, on real tokenizers: the masked tokens must
 * decode to exactly the assistant contents and their end markers. */
#include "dataset.h"
#include "augment.h"
#include "dataset_internal.h"
#include "test.h"

#include <cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define TINY "tests/fixtures/models/tiny-gqa/tokenizer.json"
#define SHARED "../shared/fixtures/tokenizers/"

enum { EOS = 296, IM_START = 297, IM_END = 298 };

static Tokenizer *tiny;
static char repo[4096]; /* the repository root: the test works in a scratch folder */

static void write_bytes(const char *name, const void *p, size_t n)
{
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", name);
        exit(1);
    }
    fclose(f);
}

static void write_file(const char *name, const char *text) { write_bytes(name, text, strlen(text)); }

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static CptOptions cpt_opts(int seq_len)
{
    return (CptOptions){.seq_len = seq_len, .eos_id = EOS, .tmpl = CHAT_CHATML, .system = NULL};
}

static SftOptions opts(ChatTemplate t)
{
    return (SftOptions){.tmpl = t, .system = NULL, .seq_len = 512, .mask_prompt = 1, .eos_id = EOS, .weight = 1.0f};
}

static void tok_add(TokIds *ids, const char *s, int special)
{
    Err e;
    if (tokenizer_encode(tiny, s, strlen(s), special, ids, &e) < 0) {
        fprintf(stderr, "encode: %s\n", e.msg);
        exit(1);
    }
}

/* The example's tokens, decoded. */
static char *decode_all(const Tokenizer *t, const Example *x)
{
    Err e;
    return tokenizer_decode(t, x->tok, (size_t)x->n, 0, &e);
}

/* The runs of targets in x, each decoded, joined by "|" (the tests' texts
 * hold no "|" outside special tokens, which decode whole). */
static char *masked_runs(const Tokenizer *t, const Example *x)
{
    size_t cap = 1, len = 0;
    char *out = calloc(1, 1);
    for (int i = 0; i < x->n;) {
        if (!x->mask[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < x->n && x->mask[j])
            j++;
        Err e;
        char *s = tokenizer_decode(t, x->tok + i, (size_t)(j - i), 0, &e);
        size_t n = strlen(s);
        cap += n + 1;
        out = realloc(out, cap);
        if (len)
            out[len++] = '|';
        memcpy(out + len, s, n + 1);
        len += n;
        free(s);
        i = j;
    }
    return out;
}

static long sum_mask(const Example *x)
{
    long s = 0;
    for (int i = 0; i < x->n; i++)
        s += x->mask[i];
    return s;
}

/* ---- errors ------------------------------------------------------------ */

static void expect_sft_error(const char *name, const char *text, const SftOptions *o, const char *want, int line)
{
    if (text)
        write_file(name, text);
    Dataset d = {0};
    Err e = {{0}};
    int rc = dataset_load_sft(&d, name, tiny, o, &e);
    if (rc == -1 && strcmp(e.msg, want) == 0) {
        test_passed++;
    } else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: rc %d\n  got  %s\n  want %s\n", __FILE__, line, rc, e.msg, want);
    }
    CHECK(d.n == 0 && d.n_tokens == 0 && d.n_targets == 0 && d.n_files == 0 && d.n_truncated == 0);
    dataset_free(&d);
    unlink(name);
}
#define SFT_ERROR(name, text, want) expect_sft_error(name, text, &o, want, __LINE__)

static void test_sft_errors(void)
{
    SftOptions o = opts(CHAT_CHATML);
    /* Reading: JSON syntax, encoding, empty files. */
    SFT_ERROR("qa.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": }\n", "qa.jsonl:2:12: invalid JSON");
    SFT_ERROR("qa.jsonl", "\n\n{\"prompt\": \"a\", \"completion\": \"b\"\n", "qa.jsonl:3:33: invalid JSON");
    SFT_ERROR("qa.jsonl", "{\"text\": \"User: a\\n\\nAssistant: b\"} {\"text\": 1}\n",
              "qa.jsonl:1:37: invalid JSON: more text after the value (one record per line)");
    SFT_ERROR("qa.jsonl", "[1, 2]\n", "qa.jsonl:1: expected a JSON object, got a list");
    SFT_ERROR("qa.jsonl", "\"User: a\"\n", "qa.jsonl:1: expected a JSON object, got a string");
    SFT_ERROR("qa.jsonl", "{\"prompt\": \"caf\xc3\xa9 \xe9t\xe9\", \"completion\": \"b\"}\n",
              "qa.jsonl:1:18: invalid UTF-8");
    SFT_ERROR("qa.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"\xc0\xaf\"}\n",
              "qa.jsonl:2:13: invalid UTF-8");
    write_bytes("qa.jsonl", "{\"prompt\": \"a\0\"}\n", 17);
    SFT_ERROR("qa.jsonl", NULL, "qa.jsonl:1:14: NUL byte (not a text file?)");
    SFT_ERROR("qa.jsonl", "", "qa.jsonl: empty file");
    SFT_ERROR("qa.jsonl", "\xEF\xBB\xBF", "qa.jsonl: empty file");
    SFT_ERROR("qa.jsonl", "\n  \r\n\t\n", "qa.jsonl: no records (only blank lines)");
    SFT_ERROR("missing.jsonl", NULL, "missing.jsonl: No such file or directory");

    /* Forms and fields. */
    SFT_ERROR("qa.jsonl", "{\"text\": 5}\n", "qa.jsonl:1: text: expected a string, got a number");
    SFT_ERROR("qa.jsonl", "{\"text\": \"User: hi\"}\n", "qa.jsonl:1: no assistant turn");
    SFT_ERROR("qa.jsonl", "{\"text\": \"Just some text.\\n\\nUser:no space\"}\n", "qa.jsonl:1: no assistant turn");
    SFT_ERROR("qa.jsonl", "{\"text\": \"User: a\\nAssistant: b\"}\n", "qa.jsonl:1: no assistant turn");
    SFT_ERROR("qa.jsonl", "{\"query\": \"a\", \"reply\": \"b\"}\n",
              "qa.jsonl:1: expected \"messages\", \"prompt\" and \"completion\", \"question\" and \"answer\", or \"text\"");
    SFT_ERROR("qa.jsonl", "{\"question\": \"a\", \"answer\": 7}\n", "qa.jsonl:1: answer: expected a string, got a number");
    SFT_ERROR("qa.jsonl", "{\"text\": \"User: a\\n\\nAssistant: b\", \"prompt\": \"a\"}\n",
              "qa.jsonl:1: more than one of \"messages\", \"prompt\"/\"completion\" and \"text\" (a record has one form)");
    SFT_ERROR("qa.jsonl", "{\"prompt\": \"a\"}\n", "qa.jsonl:1: missing \"completion\"");
    SFT_ERROR("qa.jsonl", "{\"completion\": \"a\"}\n", "qa.jsonl:1: missing \"prompt\"");
    SFT_ERROR("qa.jsonl", "{\"prompt\": \"a\", \"completion\": null}\n",
              "qa.jsonl:1: completion: expected a string, got null");
    SFT_ERROR("qa.jsonl", "{\"prompt\": [\"a\"], \"completion\": \"b\"}\n",
              "qa.jsonl:1: prompt: expected a string, got a list");
    SFT_ERROR("qa.jsonl", "{\"messages\": {\"role\": \"user\"}}\n",
              "qa.jsonl:1: messages: expected a list, got an object");
    SFT_ERROR("qa.jsonl", "{\"messages\": [\"hi\"]}\n", "qa.jsonl:1: messages[0]: expected an object, got a string");
    SFT_ERROR("qa.jsonl", "{\"messages\": [{\"content\": \"hi\"}]}\n", "qa.jsonl:1: messages[0]: missing \"role\"");
    SFT_ERROR("qa.jsonl", "{\"messages\": [{\"role\": \"user\"}]}\n", "qa.jsonl:1: messages[0]: missing \"content\"");
    SFT_ERROR("qa.jsonl", "{\"messages\": [{\"role\": 1, \"content\": \"hi\"}]}\n",
              "qa.jsonl:1: messages[0].role: expected a string, got a number");
    SFT_ERROR("qa.jsonl",
              "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"bot\", \"content\": \"yo\"}]}\n",
              "qa.jsonl:1: messages[1].role: unknown role \"bot\" (expected system, user or assistant)");
    SFT_ERROR("qa.jsonl",
              "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": 3}]}\n",
              "qa.jsonl:1: messages[1].content: expected a string, got a number");
    SFT_ERROR("qa.jsonl",
              "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": false}]}\n",
              "qa.jsonl:1: messages[1].content: expected a string, got true or false");
    SFT_ERROR("qa.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n",
              "qa.jsonl:1: messages: no assistant message");
    SFT_ERROR("qa.jsonl", "{\"messages\": []}\n", "qa.jsonl:1: messages: no assistant message");
    /* The line number counts blank lines and survives a BOM and CRLF. */
    SFT_ERROR("qa.jsonl",
              "\xEF\xBB\xBF{\"prompt\": \"a\", \"completion\": \"b\"}\r\n\r\n"
              "{\"prompt\": \"a\", \"completion\": \"b\"}\r\n{\"text\": \"?\"}\r\n",
              "qa.jsonl:4: no assistant turn");

    /* Arguments. */
    SftOptions bad = o;
    bad.seq_len = 1;
    write_file("qa.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
    expect_sft_error("qa.jsonl", NULL, &bad, "dataset: seq_len must be at least 2, got 1", __LINE__);
    bad = o;
    bad.eos_id = 5000;
    expect_sft_error("qa.jsonl", NULL, &bad, "dataset: end-of-sequence id 5000 is not a token of the tokenizer",
                     __LINE__);
}

static void expect_cpt_error(const char *const *paths, size_t n, int seq_len, const char *want, int line)
{
    Dataset d = {0};
    Err e = {{0}};
    int rc = dataset_load_cpt(&d, paths, n, tiny, &(CptOptions){.seq_len = seq_len, .eos_id = EOS}, &e);
    if (rc == -1 && strcmp(e.msg, want) == 0) {
        test_passed++;
    } else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: rc %d\n  got  %s\n  want %s\n", __FILE__, line, rc, e.msg, want);
    }
    CHECK(d.n == 0 && d.n_tokens == 0 && d.n_files == 0);
    dataset_free(&d);
}
#define CPT_ERROR(path, want) expect_cpt_error((const char *[]){path}, 1, 16, want, __LINE__)

static void test_cpt_errors(void)
{
    CHECK(mkdir("empty", 0755) == 0 && mkdir("empty/sub.txt", 0755) == 0);
    write_file("empty/notes.pdf", "x");
    write_file("empty/.hidden.txt", "x");
    CPT_ERROR("empty", "empty: no .txt, .md or .jsonl files in this folder");
    unlink("empty/notes.pdf");
    unlink("empty/.hidden.txt");
    rmdir("empty/sub.txt");
    rmdir("empty");
    CPT_ERROR("nowhere.txt", "nowhere.txt: No such file or directory");
    write_file("c.txt", "");
    CPT_ERROR("c.txt", "c.txt: empty file");
    write_file("c.txt", "line one\nline \xe2\x82 two\n");
    CPT_ERROR("c.txt", "c.txt:2:6: invalid UTF-8");
    write_file("c.jsonl", "{\"text\": \"a\"}\n{\"body\": \"b\"}\n");
    CPT_ERROR("c.jsonl", "c.jsonl:2: missing \"text\"");
    write_file("c.jsonl", "{\"text\": \"a\"}\n\n{\"text\": {\"b\": 1}}\n");
    CPT_ERROR("c.jsonl", "c.jsonl:3: text: expected a string, got an object");
    write_file("c.jsonl", "{\"text\": \"a\"\n");
    CPT_ERROR("c.jsonl", "c.jsonl:1:12: invalid JSON");
    write_file("c.jsonl", " \n");
    CPT_ERROR("c.jsonl", "c.jsonl: no records (only blank lines)");
    /* One record of "" is one token (eos): no window has a target. */
    write_file("c.jsonl", "{\"text\": \"\"}\n");
    CPT_ERROR("c.jsonl", "c.jsonl: no examples (fewer than 2 tokens)");
    expect_cpt_error((const char *[]){"c.jsonl"}, 1, 1, "dataset: seq_len must be at least 2, got 1", __LINE__);
    expect_cpt_error(NULL, 0, 16, "dataset: no CPT data given", __LINE__);
    unlink("c.txt");
    unlink("c.jsonl");
}

/* ---- SFT masks --------------------------------------------------------- */

/* Loads text as one SFT file into a fresh d; 0 on success. */
static int load_sft(Dataset *d, const char *text, const SftOptions *o)
{
    Err e = {{0}};
    write_file("sft.jsonl", text);
    memset(d, 0, sizeof *d);
    int rc = dataset_load_sft(d, "sft.jsonl", tiny, o, &e);
    if (rc)
        fprintf(stderr, "load_sft: %s\n", e.msg);
    unlink("sft.jsonl");
    return rc;
}

static void test_sft_chatml_exact(void)
{
    SftOptions o = opts(CHAT_CHATML);
    Dataset d;
    CHECK(load_sft(&d, "{\"prompt\": \"Q\", \"completion\": \"A\"}\n", &o) == 0);
    /* <|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n */
    static const int32_t want[] = {IM_START, 'u', 's', 261, '\n', 'Q', IM_END, '\n', IM_START,
                                   294, 's', 273, 't', 282, 't', '\n', 'A', IM_END, '\n'};
    static const uint8_t want_mask[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0};
    int n = (int)(sizeof want / sizeof want[0]);
    CHECK(d.n == 1 && d.ex[0].n == n);
    if (d.n == 1 && d.ex[0].n == n) {
        CHECK(memcmp(d.ex[0].tok, want, sizeof want) == 0);
        CHECK(memcmp(d.ex[0].mask, want_mask, sizeof want_mask) == 0);
    }
    CHECK(d.n_tokens == n && d.n_targets == 2 && d.n_truncated == 0 && d.n_dropped == 0 && d.n_files == 1);
    CHECK(d.ex[0].weight == 1.0f);
    dataset_free(&d);
}

/* The three record forms give the same example; the text form splits
 * turns only at "\n\n" + marker and drops one space after the colon. */
static void test_sft_forms(void)
{
    const char *file =
        "{\"messages\": [{\"role\": \"user\", \"content\": \"What is it?\"}, "
        "{\"role\": \"assistant\", \"content\": \"A tool.\\n\\nUser manual: none.\"}, "
        "{\"role\": \"user\", \"content\": \" Why?\"}, {\"role\": \"assistant\", \"content\": \"Because.\"}]}\n"
        "{\"text\": \"User: What is it?\\n\\nAssistant: A tool.\\n\\nUser manual: none.\\n\\n"
        "User:  Why?\\n\\nAssistant: Because.\", \"id\": 7}\n"
        "{\"prompt\": \"Q\", \"completion\": \"A\"}\n"
        "{\"text\": \"User: Q\\n\\nAssistant: A\"}\n"
        "{\"text\": \"Be brief.\\n\\nUser: Q\\n\\nAssistant:A\"}\n"
        "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Q\"}, "
        "{\"role\": \"assistant\", \"content\": \"A\"}]}\n";
    ChatTemplate ts[] = {CHAT_CHATML, CHAT_LLAMA3, CHAT_PLAIN};
    for (int k = 0; k < 3; k++) {
        SftOptions o = opts(ts[k]);
        Dataset d;
        CHECK(load_sft(&d, file, &o) == 0);
        CHECK(d.n == 6);
        if (d.n != 6) {
            dataset_free(&d);
            continue;
        }
        for (int p = 0; p < 6; p += 2) {
            const Example *a = &d.ex[p], *b = &d.ex[p + 1];
            CHECKF(a->n == b->n && memcmp(a->tok, b->tok, (size_t)a->n * 4) == 0 && memcmp(a->mask, b->mask, (size_t)a->n) == 0,
                   "%s pair %d", chat_template_name(ts[k]), p / 2);
        }
        if (ts[k] == CHAT_PLAIN) {
            /* Plain renders the text form back byte for byte, then eos. */
            char *s = decode_all(tiny, &d.ex[1]);
            CHECK(streq(s, "User: What is it?\n\nAssistant: A tool.\n\nUser manual: none.\n\nUser:  Why?\n\n"
                           "Assistant: Because.<|endoftext|>"));
            free(s);
            s = masked_runs(tiny, &d.ex[1]);
            CHECK(streq(s, " A tool.\n\nUser manual: none.\n\n| Because.<|endoftext|>"));
            free(s);
            s = decode_all(tiny, &d.ex[5]);
            CHECK(streq(s, "Be brief.\n\nUser: Q\n\nAssistant: A<|endoftext|>"));
            free(s);
        }
        if (ts[k] == CHAT_LLAMA3) {
            char *s = masked_runs(tiny, &d.ex[0]);
            CHECK(streq(s, "A tool.\n\nUser manual: none.<|eot_id|>|Because.<|eot_id|>"));
            free(s);
        }
        dataset_free(&d);
    }
}

static void test_sft_options(void)
{
    const char *file = "{\"prompt\": \"Q\", \"completion\": \"A\"}\n"
                       "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}, "
                       "{\"role\": \"assistant\", \"content\": \"A\"}, {\"role\": \"user\", \"content\": \"R\"}]}\n";
    /* No mask_prompt: everything but token 0 is a target. */
    SftOptions o = opts(CHAT_CHATML);
    o.mask_prompt = 0;
    o.weight = 2.5f;
    o.system = "Be brief.";
    Dataset d;
    CHECK(load_sft(&d, file, &o) == 0 && d.n == 2);
    char *s = decode_all(tiny, &d.ex[0]);
    CHECK(streq(s, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
                   "<|im_start|>assistant\nA<|im_end|>\n"));
    free(s);
    CHECK(d.ex[0].mask[0] == 0 && sum_mask(&d.ex[0]) == d.ex[0].n - 1 && d.ex[0].weight == 2.5f);
    CHECK(d.n_targets == d.n_tokens - 2);
    dataset_free(&d);

    /* Plain: eos only after a final assistant message, not after a user one. */
    o = opts(CHAT_PLAIN);
    CHECK(load_sft(&d, file, &o) == 0 && d.n == 2);
    s = masked_runs(tiny, &d.ex[0]);
    CHECK(streq(s, " A<|endoftext|>"));
    free(s);
    s = masked_runs(tiny, &d.ex[1]);
    CHECK(streq(s, " A\n\n"));
    free(s);
    CHECK(d.ex[1].tok[d.ex[1].n - 1] == 'R');
    dataset_free(&d);
}

static void test_sft_truncation(void)
{
    SftOptions o = opts(CHAT_CHATML);
    o.seq_len = 24;
    /* Prompt part "<|im_start|>user\n" .. "assistant\n" is 16 tokens with a
     * one-letter question; the long answer is cut, the long question
     * leaves no target and is dropped, the short pair is kept whole. */
    const char *file = "{\"prompt\": \"Q\", \"completion\": \"zzzzzzzzzzzzzzzzzzzzzz\"}\n"
                       "{\"prompt\": \"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\", \"completion\": \"A\"}\n"
                       "{\"prompt\": \"Q\", \"completion\": \"A\"}\n";
    Dataset d;
    CHECK(load_sft(&d, file, &o) == 0);
    CHECK(d.n == 2 && d.n_truncated == 2 && d.n_dropped == 1);
    if (d.n == 2) {
        CHECK(d.ex[0].n == 24 && sum_mask(&d.ex[0]) == 24 - 16);
        CHECK(d.ex[1].n == 19 && sum_mask(&d.ex[1]) == 2);
        CHECK(d.n_tokens == 24 + 19 && d.n_targets == 8 + 2);
    }
    dataset_free(&d);
    write_file("long.jsonl", "{\"prompt\": \"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\", \"completion\": \"A\"}\n");
    expect_sft_error("long.jsonl", NULL, &o,
                     "long.jsonl: no examples: every record's targets lie past seq_len 24 (1 dropped)", __LINE__);
}

/* Two files in one Dataset, golden data weighing more; the hash covers the
 * bytes of both in order, and a failing third load changes nothing. */
static void test_sft_files_and_hash(void)
{
    const char *qa = "{\"prompt\": \"Q\", \"completion\": \"A\"}\n";
    const char *golden = "\xEF\xBB\xBF{\"prompt\": \"G\", \"completion\": \"H\"}\r\n";
    write_file("qa.jsonl", qa);
    write_file("golden.jsonl", golden);
    SftOptions o = opts(CHAT_CHATML), og = o;
    og.weight = 3.0f;
    Dataset d = {0};
    Err e = {{0}};
    CHECK(dataset_load_sft(&d, "qa.jsonl", tiny, &o, &e) == 0);
    char first[65];
    memcpy(first, d.sha256, 65);
    CHECK(dataset_load_sft(&d, "golden.jsonl", tiny, &og, &e) == 0);
    CHECK(d.n == 2 && d.n_files == 2 && d.ex[0].weight == 1.0f && d.ex[1].weight == 3.0f);
    Sha256 s;
    char want[65];
    sha256_init(&s);
    sha256_update(&s, qa, strlen(qa));
    sha256_update(&s, golden, strlen(golden));
    sha256_hex(&s, want);
    CHECK(streq(d.sha256, want) && !streq(first, want));
    sha256_init(&s);
    sha256_update(&s, qa, strlen(qa));
    sha256_hex(&s, want);
    CHECK(streq(first, want));

    char before[65];
    memcpy(before, d.sha256, 65);
    long tokens = d.n_tokens;
    write_file("bad.jsonl", "{\"prompt\": \"x\", \"completion\": \"y\"}\n{\"prompt\": 1}\n");
    CHECK(dataset_load_sft(&d, "bad.jsonl", tiny, &o, &e) == -1);
    CHECK(streq(e.msg, "bad.jsonl:2: prompt: expected a string, got a number"));
    CHECK(d.n == 2 && d.n_files == 2 && d.n_tokens == tokens && streq(d.sha256, before));
    /* ...and loading goes on from the same hash state. */
    CHECK(dataset_load_sft(&d, "qa.jsonl", tiny, &o, &e) == 0);
    sha256_init(&s);
    sha256_update(&s, qa, strlen(qa));
    sha256_update(&s, golden, strlen(golden));
    sha256_update(&s, qa, strlen(qa));
    sha256_hex(&s, want);
    CHECK(streq(d.sha256, want) && d.n == 3);
    dataset_free(&d);

    /* One changed byte, another hash. */
    Dataset d2 = {0};
    write_file("qa.jsonl", "{\"prompt\": \"Q\", \"completion\": \"B\"}\n");
    CHECK(dataset_load_sft(&d2, "qa.jsonl", tiny, &o, &e) == 0);
    CHECK(!streq(d2.sha256, first) && strlen(d2.sha256) == 64);
    dataset_free(&d2);
    unlink("qa.jsonl");
    unlink("golden.jsonl");
    unlink("bad.jsonl");
}

/* ---- real tokenizers: the masked tokens are exactly the answers -------- */

static void check_real(const char *dir, ChatTemplate t, const char *eos)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s%s/tokenizer.json", repo, SHARED, dir);
    if (access(path, R_OK) != 0) {
        TEST_SKIP(path);
        return;
    }
    Err e = {{0}};
    Tokenizer *tk = tokenizer_load(path, &e);
    CHECKF(tk != NULL, "%s", e.msg);
    if (!tk)
        return;
    int eos_id = tokenizer_token_id(tk, eos);
    CHECK(eos_id >= 0);
    static const char *sys = "You answer questions about CLaRa, tersely.";
    static const char *q1 = "What's 12+30? Answer in digits:";
    static const char *a1 = "42.\nThat's all;no more";
    static const char *q2 = "And in words \xe2\x80\x94 with \xc3\xbcn\xc3\xaf\x63\xc3\xb6\x64\xc3\xa9?  ";
    static const char *a2 = "Forty-two!!\n\n   indented\tcode()  ";
    cJSON *rec = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(rec, "messages");
    const char *roles[] = {"system", "user", "assistant", "user", "assistant"};
    const char *contents[] = {sys, q1, a1, q2, a2};
    for (int i = 0; i < 5; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", roles[i]);
        cJSON_AddStringToObject(m, "content", contents[i]);
        cJSON_AddItemToArray(msgs, m);
    }
    char *line = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    char text[4096];
    snprintf(text, sizeof text, "%s\n{\"text\": \"User: %s\\n\\nAssistant: %s\"}\n", line, "Why?", "Because.");
    free(line);
    write_file("real.jsonl", text);
    SftOptions o = opts(t);
    o.eos_id = eos_id;
    Dataset d = {0};
    int rc = dataset_load_sft(&d, "real.jsonl", tk, &o, &e);
    CHECKF(rc == 0 && d.n == 2, "%s: %s", dir, e.msg);
    if (rc == 0 && d.n == 2) {
        const char *end = t == CHAT_CHATML ? "<|im_end|>" : "<|eot_id|>";
        char want[2048];
        if (t == CHAT_PLAIN)
            snprintf(want, sizeof want, " %s\n\n| %s%s", a1, a2, eos);
        else
            snprintf(want, sizeof want, "%s%s|%s%s", a1, end, a2, end);
        char *runs = masked_runs(tk, &d.ex[0]);
        CHECKF(streq(runs, want), "%s %s:\n  got  [%s]\n  want [%s]", dir, chat_template_name(t), runs, want);
        free(runs);
        if (t == CHAT_PLAIN)
            snprintf(want, sizeof want, " Because.%s", eos);
        else
            snprintf(want, sizeof want, "Because.%s", end);
        runs = masked_runs(tk, &d.ex[1]);
        CHECKF(streq(runs, want), "%s %s: [%s]", dir, chat_template_name(t), runs);
        free(runs);
        /* And the whole example is the rendered text. */
        ChatMessage cm[4] = {{CHAT_USER, q1}, {CHAT_ASSISTANT, a1}, {CHAT_USER, q2}, {CHAT_ASSISTANT, a2}};
        char *r = chat_render(t, sys, cm, 4, 0, NULL, NULL, &e);
        char *all = decode_all(tk, &d.ex[0]);
        size_t rl = strlen(r);
        CHECK(all && strncmp(all, r, rl) == 0 && streq(all + rl, t == CHAT_PLAIN ? eos : ""));
        free(all);
        free(r);
    }
    dataset_free(&d);
    unlink("real.jsonl");
    tokenizer_delete(tk);
}

/* ---- CPT --------------------------------------------------------------- */

static void test_cpt(void)
{
    CHECK(mkdir("corpus", 0755) == 0 && mkdir("corpus/sub.md", 0755) == 0);
    const char *a = "# Title\n\nThe body of the paper.\n";
    const char *b = "\xEF\xBB\xBFHello world <|im_end|>";
    const char *c = "{\"text\": \"one\"}\n\n{\"text\": \"two\", \"source\": \"x\"}\n";
    write_file("corpus/b.TXT", b);
    write_file("corpus/a.md", a);
    write_file("corpus/c.jsonl", c);
    write_file("corpus/d.pdf", "%PDF");
    write_file("corpus/.e.txt", "hidden");
    write_file("corpus/sub.md/f.txt", "nested");
    write_file("extra.text", "Extra doc.");

    /* The stream: a.md, b.TXT (its <|im_end|> is literal text), c.jsonl's
     * records, extra.text, each followed by eos. */
    TokIds want = {0};
    Err e = {{0}};
    tok_add(&want, a, 0);
    tokids_push(&want, EOS, &e);
    tok_add(&want, b + 3, 0);
    tokids_push(&want, EOS, &e);
    tok_add(&want, "one", 0);
    tokids_push(&want, EOS, &e);
    tok_add(&want, "two", 0);
    tokids_push(&want, EOS, &e);
    tok_add(&want, "Extra doc.", 0);
    tokids_push(&want, EOS, &e);
    for (size_t i = 0; i < want.n; i++)
        CHECK(want.v[i] != IM_END);

    const char *paths[] = {"corpus", "extra.text"};
    int seq_len = 7;
    Dataset d = {0};
    const CptOptions co = cpt_opts(seq_len);
    CHECK(dataset_load_cpt(&d, paths, 2, tiny, &co, &e) == 0);
    size_t full = want.n / (size_t)seq_len, rest = want.n % (size_t)seq_len;
    size_t n_ex = full + (rest >= 2);
    CHECKF(d.n == n_ex, "%zu examples, want %zu (%zu tokens)", d.n, n_ex, want.n);
    CHECK(d.n_tokens == (long)(full * (size_t)seq_len + (rest >= 2 ? rest : 0)));
    CHECK(d.n_targets == d.n_tokens - (long)d.n && d.n_files == 4 && d.n_truncated == 0);
    for (size_t i = 0; i < d.n; i++) {
        const Example *x = &d.ex[i];
        size_t off = i * (size_t)seq_len;
        int len = (int)(want.n - off < (size_t)seq_len ? want.n - off : (size_t)seq_len);
        CHECK(x->n == len && memcmp(x->tok, want.v + off, (size_t)len * 4) == 0);
        CHECK(x->mask[0] == 0 && sum_mask(x) == len - 1 && x->weight == 1.0f);
    }
    Sha256 s;
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, a, strlen(a));
    sha256_update(&s, b, strlen(b));
    sha256_update(&s, c, strlen(c));
    sha256_update(&s, "Extra doc.", 10);
    sha256_hex(&s, hex);
    CHECK(streq(d.sha256, hex));
    dataset_free(&d);

    /* Deterministic, and the hash follows the data. */
    CHECK(dataset_load_cpt(&d, paths, 2, tiny, &co, &e) == 0 && streq(d.sha256, hex));
    dataset_free(&d);
    write_file("corpus/a.md", "# Title\n\nThe body of the paper!\n");
    CHECK(dataset_load_cpt(&d, paths, 2, tiny, &co, &e) == 0 && !streq(d.sha256, hex));
    dataset_free(&d);

    /* A last window of a single token has no target and is left out:
     * "ab" + eos = 3 tokens in windows of 2. */
    write_file("ab.txt", "ab");
    const CptOptions co2 = cpt_opts(2), co3 = cpt_opts(3);
    CHECK(dataset_load_cpt(&d, (const char *[]){"ab.txt"}, 1, tiny, &co2, &e) == 0);
    CHECK(d.n == 1 && d.ex[0].n == 2 && d.ex[0].tok[0] == 'a' && d.ex[0].tok[1] == 'b' && d.n_tokens == 2);
    /* A second load adds its own windows. */
    CHECK(dataset_load_cpt(&d, (const char *[]){"ab.txt"}, 1, tiny, &co3, &e) == 0);
    CHECK(d.n == 2 && d.ex[1].n == 3 && d.ex[1].tok[2] == EOS && d.n_files == 2);
    dataset_free(&d);

    tokids_free(&want);
    unlink("ab.txt");
    unlink("extra.text");
    unlink("corpus/sub.md/f.txt");
    rmdir("corpus/sub.md");
    const char *names[] = {"a.md", "b.TXT", "c.jsonl", "d.pdf", ".e.txt"};
    for (int i = 0; i < 5; i++) {
        char p[64];
        snprintf(p, sizeof p, "corpus/%s", names[i]);
        unlink(p);
    }
    rmdir("corpus");
}

/* The decoded stream of d's windows, special tokens spelled out. */
static char *decode_stream(const Dataset *d)
{
    TokIds all = {0};
    Err e;
    for (size_t i = 0; i < d->n; i++)
        for (int t = 0; t < d->ex[i].n; t++)
            tokids_push(&all, d->ex[i].tok[t], &e);
    char *s = tokenizer_decode(tiny, all.v, all.n, 0, &e);
    tokids_free(&all);
    return s;
}

static int count_id(const Dataset *d, int32_t id)
{
    int n = 0;
    for (size_t i = 0; i < d->n; i++)
        for (int t = 0; t < d->ex[i].n; t++)
            n += d->ex[i].tok[t] == id;
    return n;
}

/* A JSONL file whose first record is a conversation is rendered with the
 * chat template, its markers special tokens, one document per record. */
static void test_cpt_chat(void)
{
    write_file("doc.txt", "Plain <|im_end|> text");
    write_file("chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"Q1?\"}, "
                             "{\"role\": \"assistant\", \"content\": \"A1.\"}]}\n"
                             "{\"prompt\": \"Q2?\", \"completion\": \"A2.\"}\n"
                             "{\"text\": \"User: Q3?\\n\\nAssistant: A3.\"}\n");
    const char *paths[] = {"doc.txt", "chat.jsonl"};
    const char *q[] = {"Q1?", "Q2?", "Q3?"}, *a[] = {"A1.", "A2.", "A3."};
    const ChatTemplate tmpls[] = {CHAT_CHATML, CHAT_PLAIN};
    for (int k = 0; k < 2; k++) {
        Err e = {{0}};
        CptOptions co = cpt_opts(7);
        co.tmpl = tmpls[k];
        co.system = "Be brief.";
        Dataset d = {0};
        CHECKF(dataset_load_cpt(&d, paths, 2, tiny, &co, &e) == 0, "%s", e.msg);
        /* doc, eos, then each conversation as the template renders it and
         * one eos (plain's own end-of-answer eos is not doubled) */
        char want[1024] = "Plain <|im_end|> text<|endoftext|>";
        for (int i = 0; i < 3; i++) {
            ChatMessage m[2] = {{CHAT_USER, q[i]}, {CHAT_ASSISTANT, a[i]}};
            char *r = chat_render(tmpls[k], co.system, m, 2, 0, NULL, NULL, &e);
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s<|endoftext|>", r);
            free(r);
        }
        char *got = decode_stream(&d);
        CHECKF(streq(got, want), "%s:\n  got  [%s]\n  want [%s]", chat_template_name(tmpls[k]), got, want);
        free(got);
        /* the document's marker is literal text, the conversations' are tokens */
        CHECK(count_id(&d, IM_END) == (k == 0 ? 9 : 0) && count_id(&d, IM_START) == (k == 0 ? 9 : 0));
        CHECK(count_id(&d, EOS) == 4);
        /* every token a target but each window's first; the file bytes hashed */
        for (size_t i = 0; i < d.n; i++)
            CHECK(d.ex[i].n <= 7 && d.ex[i].mask[0] == 0 && sum_mask(&d.ex[i]) == d.ex[i].n - 1);
        CHECK(d.n_files == 2 && d.n_truncated == 0 && d.n_dropped == 0);
        dataset_free(&d);
    }
    /* A bad record in a chat file is named by line; a file that starts as
     * text stays text. */
    write_file("chat.jsonl", "{\"prompt\": \"Q\", \"completion\": \"A\"}\n"
                             "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}]}\n");
    CPT_ERROR("chat.jsonl", "chat.jsonl:2: messages: no assistant message");
    write_file("chat.jsonl", "{\"text\": \"a\"}\n{\"prompt\": \"Q\", \"completion\": \"A\"}\n");
    CPT_ERROR("chat.jsonl", "chat.jsonl:2: missing \"text\"");
    unlink("doc.txt");
    unlink("chat.jsonl");
}

/* ---- split and batches ------------------------------------------------- */

/* n examples; example i has length 2 + i % 5, tokens 1000 + i, then i. */
static void make_dataset(Dataset *d, size_t n)
{
    memset(d, 0, sizeof *d);
    Err e;
    for (size_t i = 0; i < n; i++) {
        int32_t tok[8];
        uint8_t mask[8];
        int len = 2 + (int)(i % 5);
        for (int t = 0; t < len; t++) {
            tok[t] = t == 0 ? 1000 + (int32_t)i : (int32_t)i + 1;
            mask[t] = 1;
        }
        dataset_push(d, tok, mask, len, 1.0f + (float)i, &e);
    }
}

static int ex_id(const Example *x) { return x->tok[0] - 1000; }

static void test_split(void)
{
    Dataset d, v = {0}, d2, v2 = {0};
    Err e = {{0}};
    make_dataset(&d, 10);
    long tokens = d.n_tokens, targets = d.n_targets;
    CHECK(dataset_split(&d, &v, 0.2, 42, &e) == 0);
    CHECK(d.n == 8 && v.n == 2);
    CHECK(d.n_tokens + v.n_tokens == tokens && d.n_targets + v.n_targets == targets);
    int seen[10] = {0};
    for (size_t i = 0; i < d.n; i++)
        seen[ex_id(&d.ex[i])]++;
    for (size_t i = 0; i < v.n; i++)
        seen[ex_id(&v.ex[i])]++;
    int all_once = 1;
    for (int i = 0; i < 10; i++)
        all_once &= seen[i] == 1;
    CHECK(all_once);
    for (size_t i = 1; i < d.n; i++)
        CHECK(ex_id(&d.ex[i - 1]) < ex_id(&d.ex[i]));
    CHECK(v.n == 2 && ex_id(&v.ex[0]) < ex_id(&v.ex[1]));
    /* Same seed, same split; the examples move, they are not copied. */
    make_dataset(&d2, 10);
    CHECK(dataset_split(&d2, &v2, 0.2, 42, &e) == 0);
    CHECK(v2.n == 2 && ex_id(&v2.ex[0]) == ex_id(&v.ex[0]) && ex_id(&v2.ex[1]) == ex_id(&v.ex[1]));
    dataset_free(&d2);
    dataset_free(&v2);
    /* Another seed, most likely another split (fixed seeds: checked once). */
    make_dataset(&d2, 10);
    CHECK(dataset_split(&d2, &v2, 0.2, 43, &e) == 0);
    CHECK(ex_id(&v2.ex[0]) != ex_id(&v.ex[0]) || ex_id(&v2.ex[1]) != ex_id(&v.ex[1]));
    dataset_free(&d2);
    dataset_free(&v2);
    /* Not empty: refused. */
    CHECK(dataset_split(&d, &v, 0.2, 42, &e) == -1);
    CHECK(streq(e.msg, "dataset: the validation set to split into is not empty"));
    dataset_free(&d);
    dataset_free(&v);

    /* At least one on each side. */
    make_dataset(&d, 3);
    CHECK(dataset_split(&d, &v, 0.0, 1, &e) == 0 && d.n == 2 && v.n == 1);
    dataset_free(&d);
    dataset_free(&v);
    make_dataset(&d, 2);
    CHECK(dataset_split(&d, &v, 0.5, 1, &e) == 0 && d.n == 1 && v.n == 1);
    dataset_free(&d);
    dataset_free(&v);
    make_dataset(&d, 1);
    CHECK(dataset_split(&d, &v, 0.1, 1, &e) == -1);
    CHECKF(streq(e.msg, "dataset: 1 example that may be held out (not Golden Data, not augmented copies): a "
                        "validation split needs at least 2"),
           "%s", e.msg);
    make_dataset(&d2, 4);
    CHECK(dataset_split(&d2, &v, 1.0, 1, &e) == -1);
    CHECK(streq(e.msg, "dataset: validation fraction must be in [0, 1), got 1"));
    CHECK(v.n == 0 && v.ex == NULL);
    dataset_free(&d);
    dataset_free(&d2);

    /* Golden Data must be learned: never held out, whatever the seed, and
     * the fraction is of the others (0.5 of 4 is 2).  Golden 1, 4, 6, 7;
     * 7 is followed by an augmented copy of it, which stays with it. */
    int held_golden = 0, split_ok = 1;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        make_dataset(&d, 9);
        d.ex[1].golden = d.ex[4].golden = d.ex[6].golden = d.ex[7].golden = 1;
        d.ex[8].golden = d.ex[8].copy = 1;
        CHECK(dataset_n_splittable(&d) == 4);
        if (dataset_split(&d, &v, 0.5, seed, &e) != 0) {
            split_ok = 0;
            dataset_free(&d);
            break;
        }
        split_ok &= d.n == 7 && v.n == 2;
        for (size_t i = 0; i < v.n; i++)
            held_golden += v.ex[i].golden;
        int kept_golden = 0;
        for (size_t i = 0; i < d.n; i++)
            kept_golden += d.ex[i].golden;
        split_ok &= kept_golden == 5;
        dataset_free(&d);
        dataset_free(&v);
    }
    CHECKF(split_ok && held_golden == 0, "split %d, %d golden held out", split_ok, held_golden);
    make_dataset(&d, 3);
    d.ex[0].golden = d.ex[2].golden = 1;
    CHECK(dataset_split(&d, &v, 0.5, 1, &e) == -1 && strstr(e.msg, "1 example that may be held out"));
    dataset_free(&d);
}

/* Example ids of the next k batches of B. */
static void next_ids(Batcher *b, int B, int k, int *out)
{
    Batch bt = {0};
    Err e = {{0}};
    for (int i = 0; i < k; i++) {
        CHECK(batcher_next(b, B, &bt, &e) == 0);
        for (int r = 0; r < B; r++)
            out[i * B + r] = bt.tok[(size_t)r * (size_t)bt.T] - 1000;
    }
    batch_free(&bt);
}

static void test_batcher(void)
{
    Dataset d;
    Err e = {{0}};
    make_dataset(&d, 7);
    Batcher b;

    /* Each epoch visits every example once, in a new order. */
    CHECK(batcher_init(&b, &d, 9, 0, 0, &e) == 0);
    int ids[21];
    next_ids(&b, 1, 21, ids);
    CHECK(b.epoch == 3 && b.pos == 0);
    for (int ep = 0; ep < 3; ep++) {
        int seen[7] = {0}, ok = 1;
        for (int i = 0; i < 7; i++)
            seen[ids[ep * 7 + i]]++;
        for (int i = 0; i < 7; i++)
            ok &= seen[i] == 1;
        CHECKF(ok, "epoch %d", ep);
    }
    CHECK(memcmp(ids, ids + 7, 7 * sizeof *ids) != 0);
    batcher_free(&b);

    /* Batches: padded to the longest, rows T apart, weights and lengths. */
    CHECK(batcher_init(&b, &d, 9, 0, 0, &e) == 0);
    Batch bt = {0};
    CHECK(batcher_next(&b, 3, &bt, &e) == 0);
    CHECK(bt.B == 3 && bt.T <= 6 && bt.cap >= (size_t)(3 * 6));
    long targets = 0;
    int maxlen = 0;
    for (int r = 0; r < 3; r++) {
        int id = bt.tok[(size_t)r * (size_t)bt.T] - 1000;
        CHECK(id == ids[r]);
        const Example *x = &d.ex[id];
        CHECK(bt.len[r] == x->n && bt.weight[r] == x->weight);
        CHECK(memcmp(bt.tok + (size_t)r * (size_t)bt.T, x->tok, (size_t)x->n * 4) == 0);
        CHECK(memcmp(bt.mask + (size_t)r * (size_t)bt.T, x->mask, (size_t)x->n) == 0);
        for (int t = x->n; t < bt.T; t++)
            CHECK(bt.tok[(size_t)r * (size_t)bt.T + (size_t)t] == 0 && bt.mask[(size_t)r * (size_t)bt.T + (size_t)t] == 0);
        targets += sum_mask(x);
        if (x->n > maxlen)
            maxlen = x->n;
    }
    CHECK(bt.T == maxlen && bt.n_targets == targets);
    /* More rows than examples: wraps into the next epoch. */
    CHECK(batcher_next(&b, 10, &bt, &e) == 0 && bt.B == 10 && b.epoch == 1 && b.pos == 6);
    CHECK(batcher_next(&b, 0, &bt, &e) == -1 && streq(e.msg, "batcher: batch size must be >= 1, got 0"));
    batch_free(&bt);
    batcher_free(&b);

    /* A run restored from (seed, epoch, pos) mid-way sees the same batches. */
    int run[30], resumed[18];
    CHECK(batcher_init(&b, &d, 123, 0, 0, &e) == 0);
    next_ids(&b, 3, 4, run);
    long ep = b.epoch, pos = b.pos;
    CHECK(ep == 1 && pos == 5);
    next_ids(&b, 3, 6, run + 12);
    batcher_free(&b);
    CHECK(batcher_init(&b, &d, 123, ep, pos, &e) == 0);
    next_ids(&b, 3, 6, resumed);
    CHECK(memcmp(run + 12, resumed, sizeof resumed) == 0);
    batcher_free(&b);
    /* A position past an epoch's end carries over. */
    CHECK(batcher_init(&b, &d, 123, 0, 12, &e) == 0 && b.epoch == 1 && b.pos == 5);
    next_ids(&b, 3, 6, resumed);
    CHECK(memcmp(run + 12, resumed, sizeof resumed) == 0);
    batcher_free(&b);
    /* Another seed, another order. */
    CHECK(batcher_init(&b, &d, 124, 0, 0, &e) == 0);
    next_ids(&b, 3, 4, resumed);
    CHECK(memcmp(run, resumed, 12 * sizeof *run) != 0);
    batcher_free(&b);

    CHECK(batcher_init(&b, &d, 1, -1, 0, &e) == -1 && streq(e.msg, "batcher: epoch -1, position 0: must be >= 0"));
    dataset_free(&d);
    CHECK(batcher_init(&b, &d, 1, 0, 0, &e) == -1 && streq(e.msg, "batcher: the dataset is empty"));
    CHECK(b.perm == NULL);
}

/* Padding a batcher's batches of B over k batches: sum of (T - len). */
static long padding(Batcher *b, int B, int k)
{
    Batch bt = {0};
    Err e = {{0}};
    long pad = 0;
    for (int i = 0; i < k; i++) {
        CHECK(batcher_next(b, B, &bt, &e) == 0);
        for (int r = 0; r < B; r++)
            pad += bt.T - bt.len[r];
    }
    batch_free(&bt);
    return pad;
}

static void test_batcher_group(void)
{
    /* 1000 examples of lengths 1..100 in a scrambled order. */
    Dataset d;
    memset(&d, 0, sizeof d);
    Err e = {{0}};
    enum { N = 1000, B = 8 };
    for (int i = 0; i < N; i++) {
        int32_t tok[100];
        uint8_t mask[100];
        int len = 1 + (i * 37) % 100;
        for (int t = 0; t < len; t++)
            tok[t] = t == 0 ? 1000 + i : 5, mask[t] = 1;
        CHECK(dataset_push(&d, tok, mask, len, 1.0f, &e) == 0);
    }
    Batcher b;
    /* Each epoch still visits every example once, in a new order; the
     * partial last batch (1000 = 125 x 8: none here, so use B = 7) too. */
    CHECK(batcher_init(&b, &d, 5, 0, 0, &e) == 0 && batcher_group(&b, 7, &e) == 0);
    static int ids[3 * N];
    next_ids(&b, 1, 3 * N, ids);
    for (int ep = 0; ep < 3; ep++) {
        static int seen[N];
        memset(seen, 0, sizeof seen);
        int ok = 1;
        for (int i = 0; i < N; i++)
            seen[ids[ep * N + i]]++;
        for (int i = 0; i < N; i++)
            ok &= seen[i] == 1;
        CHECKF(ok, "grouped epoch %d", ep);
    }
    CHECK(memcmp(ids, ids + N, N * sizeof *ids) != 0);
    /* Consecutive batches are not simply ever longer: the batch order is
     * shuffled after sorting. */
    int rises = 0;
    for (int i = 1; i < N / 7; i++)
        rises += d.ex[ids[i * 7]].n > d.ex[ids[(i - 1) * 7]].n;
    CHECKF(rises > N / 7 / 4 && rises < N / 7 * 3 / 4, "%d rises in %d batches", rises, N / 7);
    batcher_free(&b);

    /* Far less padding than plain shuffling: random lengths 1..100 pad
     * about 300 per batch of 8; sorted windows of 256 pad about 3. */
    CHECK(batcher_init(&b, &d, 5, 0, 0, &e) == 0);
    long plain = padding(&b, B, N / B);
    batcher_free(&b);
    CHECK(batcher_init(&b, &d, 5, 0, 0, &e) == 0 && batcher_group(&b, B, &e) == 0);
    long grouped = padding(&b, B, N / B);
    batcher_free(&b);
    CHECKF(grouped * 20 < plain, "padding grouped %ld, plain %ld", grouped, plain);

    /* Restored from (seed, epoch, pos), a grouped run sees the same batches. */
    int run[20 * B], resumed[20 * B];
    CHECK(batcher_init(&b, &d, 77, 0, 0, &e) == 0 && batcher_group(&b, B, &e) == 0);
    next_ids(&b, B, 140, ids);
    long ep = b.epoch, pos = b.pos;
    CHECK(ep == 1 && pos == 15 * B);
    next_ids(&b, B, 20, run);
    batcher_free(&b);
    CHECK(batcher_init(&b, &d, 77, ep, pos, &e) == 0 && batcher_group(&b, B, &e) == 0);
    next_ids(&b, B, 20, resumed);
    CHECK(memcmp(run, resumed, sizeof resumed) == 0);
    CHECK(batcher_group(&b, -1, &e) == -1 && streq(e.msg, "batcher: group size must be >= 0, got -1"));
    batcher_free(&b);
    dataset_free(&d);
}

/* ---- augmentation ------------------------------------------------------ */

static int count_words(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        n += *p != ' ' && (p == s || p[-1] == ' ');
    return n;
}

/* Every word of v appears in q, in q's order. */
static int is_subsequence(const char *v, const char *q)
{
    char *vc = strdup(v), *save = NULL;
    const char *at = q;
    int ok = 1;
    for (char *w = strtok_r(vc, " ", &save); ok && w; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        const char *f = at;
        while ((f = strstr(f, w)) && !((f == q || f[-1] == ' ') && (f[n] == ' ' || f[n] == 0)))
            f++;
        ok = f != NULL;
        if (f)
            at = f + n;
    }
    free(vc);
    return ok;
}

static void test_augment_questions(void)
{
    Err e;
    Rng r;
    char *v[8];
    rng_seed(&r, 1);
    /* Short questions stay as they are: every word counts. */
    CHECK(augment_questions("What is CLaRa?", 0.5, 4, &r, v, &e) == 0);
    CHECK(augment_questions("What does SCP mean?", 0.5, 4, &r, v, &e) == 0);
    const char *q = "Which compression rates  does the CLaRa paper report for Mistral-7B?";
    int n = augment_questions(q, 0.3, 6, &r, v, &e);
    CHECK(n >= 4 && n <= 6);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        ok &= count_words(v[i]) < count_words(q) && is_subsequence(v[i], q) && !strstr(v[i], "  ");
        for (int j = 0; j < i; j++)
            ok &= strcmp(v[i], v[j]) != 0;
    }
    CHECKF(ok, "variants of \"%s\" drop words, keep the order, differ", q);
    /* Two content words at least: the function words alone never remain. */
    int content_ok = 1;
    for (int i = 0; i < n; i++) {
        int c = 0;
        const char *cw[] = {"compression", "rates", "CLaRa", "paper", "report", "Mistral-7B?"};
        for (size_t k = 0; k < 6; k++)
            c += is_subsequence(cw[k], v[i]);
        content_ok &= c >= 2;
    }
    CHECK(content_ok);
    /* The same seed, the same variants. */
    Rng r2;
    rng_seed(&r2, 1);
    char *w[8];
    CHECK(augment_questions("What is CLaRa?", 0.5, 4, &r2, w, &e) == 0);
    CHECK(augment_questions("What does SCP mean?", 0.5, 4, &r2, w, &e) == 0);
    CHECK(augment_questions(q, 0.3, 6, &r2, w, &e) == n);
    int same = 1;
    for (int i = 0; i < n; i++) {
        same &= strcmp(v[i], w[i]) == 0;
        free(v[i]);
        free(w[i]);
    }
    CHECK(same);
    /* Korean words (UTF-8) are dropped whole, never cut. */
    const char *ko = "CLaRa 논문은 어떤 압축 비율을 실험에서 보고하나요?";
    n = augment_questions(ko, 0.3, 4, &r, v, &e);
    CHECK(n >= 1);
    ok = 1;
    for (int i = 0; i < n; i++) {
        ok &= is_subsequence(v[i], ko);
        free(v[i]);
    }
    CHECK(ok);
}

/* Each record is followed by its copies; a held-out record takes its
 * copies out of training with it; the settings change the hash. */
static void test_sft_augment(void)
{
    char text[4096] = "";
    for (int i = 0; i < 12; i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "{\"prompt\": \"Which number does the answer of question %d hold today?\", \"completion\": \"A%d\"}\n",
                 i, i);
        strcat(text, line);
    }
    strcat(text, "{\"prompt\": \"Short one?\", \"completion\": \"S\"}\n");
    SftOptions o = opts(CHAT_CHATML);
    Dataset plain, d;
    CHECK(load_sft(&plain, text, &o) == 0 && plain.n == 13);
    o.augment = 2;
    o.augment_drop = 0.3f;
    o.augment_seed = 7;
    CHECK(load_sft(&d, text, &o) == 0);
    CHECKF(d.n == 13 + 24, "%zu examples (13 records, 2 copies of each long one)", d.n);
    CHECK(!streq(d.sha256, plain.sha256));
    int order_ok = !d.ex[0].copy, answers_ok = 1;
    size_t orig = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (!d.ex[i].copy)
            orig = i;
        char *a = masked_runs(tiny, &d.ex[i]), *b = masked_runs(tiny, &d.ex[orig]);
        answers_ok &= streq(a, b);
        free(a);
        free(b);
        if (!d.ex[i].copy && i + 1 < d.n && i + 2 < d.n && d.ex[i].n > 30)
            order_ok &= d.ex[i + 1].copy && d.ex[i + 2].copy;
    }
    CHECK(order_ok && answers_ok && !d.ex[d.n - 1].copy);
    /* loaded again: the same copies */
    Dataset d2;
    CHECK(load_sft(&d2, text, &o) == 0 && d2.n == d.n && streq(d2.sha256, d.sha256));
    int same = 1;
    for (size_t i = 0; i < d.n; i++)
        same &= d.ex[i].n == d2.ex[i].n && memcmp(d.ex[i].tok, d2.ex[i].tok, (size_t)d.ex[i].n * 4) == 0;
    CHECK(same);
    dataset_free(&d2);
    /* the split holds records out, never copies, and drops a held record's copies */
    Dataset v = {0};
    Err e;
    CHECK(dataset_split(&d, &v, 0.25, 3, &e) == 0);
    CHECKF(v.n == 3, "%zu held out (a quarter of 13 records)", v.n);
    int leak = 0, copies_in_valid = 0;
    for (size_t i = 0; i < v.n; i++) {
        copies_in_valid += v.ex[i].copy;
        char *a = masked_runs(tiny, &v.ex[i]);
        for (size_t j = 0; j < d.n; j++) {
            char *b = masked_runs(tiny, &d.ex[j]);
            leak += streq(a, b);
            free(b);
        }
        free(a);
    }
    CHECK(leak == 0 && copies_in_valid == 0);
    long tokens = 0;
    for (size_t j = 0; j < d.n; j++)
        tokens += d.ex[j].n;
    CHECK(tokens == d.n_tokens);
    dataset_free(&v);
    dataset_free(&d);
    dataset_free(&plain);
    /* a drop chance outside (0, 1) is refused */
    o.augment_drop = 1.0f;
    write_file("sft.jsonl", text);
    memset(&d, 0, sizeof d);
    CHECK(dataset_load_sft(&d, "sft.jsonl", tiny, &o, &e) == -1);
    CHECK(streq(e.msg, "sft.jsonl: augment_drop must be in (0, 1), got 1"));
    CHECK(d.n == 0);
    unlink("sft.jsonl");
}

int main(void)
{
    Err e = {{0}};
    tiny = tokenizer_load(TINY, &e);
    if (!tiny) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    if (!getcwd(repo, sizeof repo))
        return 1;
    char dir[] = "/tmp/infuse-test-dataset-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        fprintf(stderr, "cannot make a scratch folder\n");
        return 1;
    }
    test_sft_errors();
    test_cpt_errors();
    test_sft_chatml_exact();
    test_sft_forms();
    test_sft_options();
    test_sft_truncation();
    test_augment_questions();
    test_sft_augment();
    test_sft_files_and_hash();
    test_cpt();
    test_cpt_chat();
    test_split();
    test_batcher();
    test_batcher_group();

    check_real("smollm2-135m-instruct", CHAT_CHATML, "<|im_end|>");
    check_real("qwen3", CHAT_CHATML, "<|endoftext|>");
    check_real("llama3", CHAT_LLAMA3, "<|end_of_text|>");
    check_real("smollm2-135m-instruct", CHAT_PLAIN, "<|endoftext|>");
    check_real("gpt2", CHAT_PLAIN, "<|endoftext|>");
    check_real("llama3", CHAT_PLAIN, "<|end_of_text|>");

    tokenizer_delete(tiny);
    CHECK(chdir("/") == 0 && rmdir(dir) == 0); /* every file was removed */
    TEST_MAIN_END();
}
