/* test_cli.c - bad input through the real program: one clear line, no crash.
 *
 * Each case builds a damaged copy of the tiny-gqa model folder (or a bad
 * prompt / config) under build/cli-cases/, runs the infuse binary
 * ($INFUSE_BIN, default ./infuse; the sanitizer run passes its own build so
 * leaks on error paths are caught) and checks: exit status 1 (not a signal,
 * not a sanitizer abort), exactly one line on stderr, naming the file and
 * the problem. */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SRC "tests/fixtures/models/tiny-gqa"
#define CASES "build/cli-cases"

static const char *bin;

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    b[got] = 0;
    *n = got;
    return b;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = slurp(from, &n);
    spit(to, b, n);
    free(b);
}

/* A fresh copy of the tiny model folder called name; returns its path. */
static const char *make_case(const char *name)
{
    static char dir[256];
    char a[512], b[512];
    snprintf(dir, sizeof dir, CASES "/%s", name);
    mkdir(CASES, 0755);
    mkdir(dir, 0755);
    const char *files[] = {"config.json", "tokenizer.json", "model.safetensors"};
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, SRC "/%s", files[i]);
        snprintf(b, sizeof b, "%s/%s", dir, files[i]);
        copy_file(a, b);
    }
    return dir;
}

/* Writes a safetensors file from a header text and n_data zero bytes. */
static void write_st(const char *dir, const char *header, size_t n_data)
{
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    size_t hl = strlen(header);
    char *buf = calloc(1, 8 + hl + n_data);
    for (int i = 0; i < 8; i++)
        buf[i] = (char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    spit(path, buf, 8 + hl + n_data);
    free(buf);
}

/* Replaces the first occurrence of from with to in dir/file. */
static void edit(const char *dir, const char *file, const char *from, const char *to)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t n;
    char *s = slurp(path, &n);
    char *at = strstr(s, from);
    if (!at) {
        fprintf(stderr, "test setup: \"%s\" not in %s\n", from, path);
        free(s);
        return;
    }
    size_t fl = strlen(from), tl = strlen(to);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, s, (size_t)(at - s));
    memcpy(o + (at - s), to, tl);
    memcpy(o + (at - s) + tl, at + fl, n - (size_t)(at - s) - fl);
    spit(path, o, n - fl + tl);
    free(o);
    free(s);
}

/* Runs bin with args (NULL-terminated), feeding stdin_text if not NULL. */
static void expect_error(const char *what, const char *const *args, const char *stdin_text, const char *must1,
                         const char *must2)
{
    char out_path[] = CASES "/stderr.txt", in_path[] = CASES "/stdin.txt";
    if (stdin_text)
        spit(in_path, stdin_text, strlen(stdin_text));
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(out_path, "w", stderr);
        (void)f;
        if (!freopen(stdin_text ? in_path : "/dev/null", "r", stdin))
            _exit(99);
        if (!freopen("/dev/null", "w", stdout))
            _exit(99);
        const char *argv[32] = {bin};
        int k = 1;
        for (; args[k - 1] && k < 31; k++)
            argv[k] = args[k - 1];
        argv[k] = NULL;
        execv(bin, (char *const *)argv);
        _exit(98);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    size_t n = 0;
    char *err = slurp(out_path, &n);
    if (!err)
        err = strdup("");
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += err[i] == '\n';
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit status %d (signal %d), stderr: %s", what,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0, err);
    CHECKF(lines == 1, "%s: %d lines on stderr: %s", what, lines, err);
    CHECKF(strstr(err, must1) != NULL, "%s: stderr lacks \"%s\": %s", what, must1, err);
    if (must2)
        CHECKF(strstr(err, must2) != NULL, "%s: stderr lacks \"%s\": %s", what, must2, err);
    free(err);
}

/* Runs bin with args; stdout goes to out_path, stderr to CASES/stderr.txt.
 * Returns the exit status (-1 for a signal). */
static int run_ok(const char *const *args, const char *out_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen(CASES "/stderr.txt", "w", stderr) ||
            !freopen("/dev/null", "r", stdin))
            _exit(99);
        const char *argv[32] = {bin};
        int k = 1;
        for (; args[k - 1] && k < 31; k++)
            argv[k] = args[k - 1];
        argv[k] = NULL;
        execv(bin, (char *const *)argv);
        _exit(98);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* infuse review on a store of its own, and training from it. */
static void review_cases(void)
{
    const char *qa = CASES "/review/qa.jsonl", *in = CASES "/review-in.jsonl", *out = CASES "/review-out.txt";
    const char *sft = CASES "/review-sft.jsonl";
    mkdir(CASES, 0755);
    unlink(qa);
    unlink(CASES "/review/qa.jsonl.journal");
    unlink(CASES "/review/qa.jsonl.rejected");
    const char *text = "{\"question\": \"What is CLaRa?\", \"answer\": \"A retrieval model.\"}\n"
                       "{\"instruction\": \"Who wrote it?\", \"input\": \"\", \"output\": \"Apple researchers.\"}\n"
                       "{broken\n";
    spit(in, text, strlen(text));
    CHECK(run_ok((const char *[]){"review", "--qa", qa, "--import", in, "--list", NULL}, out) == 0);
    size_t n;
    char *o = slurp(out, &n);
    CHECK(o && strstr(o, "     1  pending") && strstr(o, "What is CLaRa?") && strstr(o, "     2  pending"));
    free(o);
    o = slurp(CASES "/review/qa.jsonl.rejected", &n);
    CHECK(o && strcmp(o, "{broken\n") == 0);
    free(o);
    expect_error("train on a store with nothing approved",
                 (const char *[]){"train", "sft", "-m", SRC, "--data", qa, "--output", CASES "/out", "--run-dir",
                                  CASES "/run", NULL},
                 NULL, "review/qa.jsonl", "no approved pairs");
    CHECK(run_ok((const char *[]){"review", "--qa", qa, "--approve", "1", "--golden", "2", "--export", sft, NULL},
                 out) == 0);
    CHECK(run_ok((const char *[]){"review", "--qa", qa, "--list", "--status", "approved", NULL}, out) == 0);
    o = slurp(out, &n);
    CHECK(o && strstr(o, "     1  approved -") && strstr(o, "     2  approved G"));
    free(o);
    o = slurp(sft, &n);
    CHECK(o && strstr(o, "{\"messages\":[{\"role\":\"user\",\"content\":\"What is CLaRa?\"}"));
    free(o);
    CHECK(run_ok((const char *[]){"review", "--qa", qa, "--reject", "1", "--list", "--json", NULL}, out) == 0);
    o = slurp(out, &n);
    CHECK(o && strstr(o, "\"status\":\"rejected\"") && strstr(o, "\"old\":\"approved\",\"new\":\"rejected\""));
    free(o);
    /* train.sft.augment adds copies with question words dropped */
    {
        const char *ayaml = CASES "/augment.yaml", *adata = CASES "/augment.jsonl";
        text = "train:\n  sft:\n    augment: 2\n    valid_fraction: 0\n";
        spit(ayaml, text, strlen(text));
        text = "{\"question\": \"Which two steps does a retrieval system perform first?\", \"answer\": \"Retrieve, "
               "then generate.\"}\n{\"question\": \"Who?\", \"answer\": \"Apple.\"}\n";
        spit(adata, text, strlen(text));
        CHECK(run_ok((const char *[]){"train", "sft", "-c", ayaml, "-m", SRC, "--data", adata, "--steps", "1",
                                      "--output", CASES "/aug-out", "--run-dir", CASES "/aug-run", NULL},
                     out) == 0);
        o = slurp(CASES "/stderr.txt", &n);
        CHECKF(o && strstr(o, "sft on 4 examples") && strstr(o, "2 of them are augmented copies"), "%s", o ? o : "");
        free(o);
    }
    /* the benchmark asks the store's Golden Data (record 2) as written, and
     * its other approved pairs (record 3) as taught pairs */
    const char *yaml = CASES "/review/p.yaml", *js = CASES "/review-bench.json";
    text = "{\"question\": \"How many stages?\", \"answer\": \"Three.\"}\n";
    spit(CASES "/review-more.jsonl", text, strlen(text));
    CHECK(run_ok((const char *[]){"review", "--qa", qa, "--import", CASES "/review-more.jsonl", "--approve", "3", NULL},
                 out) == 0);
    text = "data:\n  qa: qa.jsonl\n  eval: eval.jsonl\n";
    spit(yaml, text, strlen(text));
    text = "{\"question\": \"What is SCP?\", \"answer\": \"Salient Compressor Pretraining.\"}\n";
    spit(CASES "/review/eval.jsonl", text, strlen(text));
    CHECK(run_ok((const char *[]){"bench", "-c", yaml, "-m", SRC, "--stages", "base", "--probe", "none", "--json", js,
                                  "--max-tokens", "4", NULL},
                 out) == 0);
    o = slurp(js, &n);
    CHECK(o && strstr(o, "\"golden_questions\":\t1,") && strstr(o, "\"question\":\t\"Who wrote it?\"") &&
          !strstr(o, "\"question\":\t\"What is CLaRa?\""));
    CHECK(o && strstr(o, "\"taught_questions\":\t1,") && strstr(o, "\"kind\":\t\"taught\"") &&
          strstr(o, "\"question\":\t\"How many stages?\""));
    free(o);
    CHECK(run_ok((const char *[]){"bench", "-c", yaml, "-m", SRC, "--stages", "base", "--probe", "none", "--taught",
                                  "none", "--json", js, "--max-tokens", "4", NULL},
                 out) == 0);
    o = slurp(js, &n);
    CHECK(o && strstr(o, "\"taught_questions\":\t0,") && !strstr(o, "\"kind\":\t\"taught\""));
    free(o);
    expect_error("bench --taught 0", (const char *[]){"bench", "-c", yaml, "--taught", "0", NULL}, NULL, "--taught",
                 "0");
    expect_error("review of an unknown id", (const char *[]){"review", "--qa", qa, "--approve", "99", NULL}, NULL,
                 "qa.jsonl", "no record with id 99");
    expect_error("review with a bad status", (const char *[]){"review", "--qa", qa, "--list", "--status", "meh", NULL},
                 NULL, "--status", "meh");
    expect_error("review with an ID missing", (const char *[]){"review", "--qa", qa, "--approve", NULL}, NULL,
                 "--approve", "ID");
}

/* An eval set imported as is, with a reference that contradicts the corpus
 * ("SCP is Secure Copy"): the benchmark runs and its report names the
 * answers that disagree with their reference and the keywords they lack. */
static void bench_contradiction_case(void)
{
    const char *ev = CASES "/contra-eval.jsonl", *js = CASES "/contra.json", *md = CASES "/contra.md";
    const char *out = CASES "/contra-out.txt";
    const char *text = "{\"question\": \"What is SCP in CLaRa?\", \"gold_answer\": \"Secure Copy, a file transfer "
                       "tool.\", \"keywords\": [\"secure copy\"], \"category\": \"contradiction\"}\n"
                       "{\"instruction\": \"ignored: not an eval format\"}\n";
    spit(ev, text, strlen(text));
    expect_error("bench on an eval line without a reference",
                 (const char *[]){"bench", "-m", SRC, "--stages", "base", "--eval", ev, "--probe", "none", NULL},
                 NULL, "contra-eval.jsonl:2", "missing");
    text = "{\"question\": \"What is SCP in CLaRa?\", \"gold_answer\": \"Secure Copy, a file transfer tool.\", "
           "\"keywords\": [\"secure copy\"], \"category\": \"contradiction\"}\n"
           "{\"question\": \"Name the first stage.\", \"answer\": \"SCP.\"}\n";
    spit(ev, text, strlen(text));
    /* Golden Data is asked as written and counted apart */
    const char *gd = CASES "/contra-golden.jsonl";
    text = "{\"question\": \"What is CLaRa?\", \"answer\": \"A retrieval framework.\"}\n";
    spit(gd, text, strlen(text));
    CHECK(run_ok((const char *[]){"bench", "-m", SRC, "--stages", "base", "--eval", ev, "--probe", "none", "--golden",
                                  gd, "--json", js, "--markdown", md, "--max-tokens", "8", NULL},
                 out) == 0);
    size_t n;
    char *o = slurp(js, &n);
    CHECK(o && strstr(o, "\"reference\":\t\"Secure Copy, a file transfer tool.\"") &&
          strstr(o, "\"missing_keywords\":\t[\"secure copy\"]") && strstr(o, "\"correct\":\tfalse"));
    CHECK(o && strstr(o, "\"questions\":\t2,") && strstr(o, "\"golden_questions\":\t1,") &&
          strstr(o, "\"question\":\t\"What is CLaRa?\",\n\t\t\t\"reference\":\t\"A retrieval framework.\"") &&
          strstr(o, "\"kind\":\t\"golden\""));
    free(o);
    o = slurp(out, &n);
    CHECK(o && strstr(o, "What is SCP in CLaRa?") && strstr(o, "wrong"));
    free(o);
    o = slurp(md, &n);
    CHECK(o && strstr(o, "What is SCP in CLaRa?") && strstr(o, "| (golden) What is CLaRa? |"));
    free(o);
}

int main(void)
{
    bin = getenv("INFUSE_BIN") ? getenv("INFUSE_BIN") : "./infuse";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", bin);
        CHECK(0);
        TEST_MAIN_END();
    }
    const char *d;
    char mst[512];

    d = make_case("truncated");
    snprintf(mst, sizeof mst, "%s/model.safetensors", d);
    CHECK(truncate(mst, 5) == 0);
    expect_error("truncated file", (const char *[]){"info", d, NULL}, NULL, "model.safetensors", "truncated");

    d = make_case("truncated-data");
    snprintf(mst, sizeof mst, "%s/model.safetensors", d);
    CHECK(truncate(mst, 4000) == 0);
    expect_error("truncated data", (const char *[]){"info", d, NULL}, NULL, "model.safetensors", "past the end");

    d = make_case("header-past-end");
    write_st(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    snprintf(mst, sizeof mst, "%s/model.safetensors", d);
    {
        FILE *f = fopen(mst, "r+b");
        unsigned char big[8] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
        fwrite(big, 1, 8, f);
        fclose(f);
    }
    expect_error("header length past the file", (const char *[]){"info", d, NULL}, NULL, "model.safetensors",
                 "header length");

    d = make_case("overlap");
    write_st(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24);
    expect_error("overlapping tensors", (const char *[]){"info", d, NULL}, NULL, "model.safetensors", "overlap");

    d = make_case("out-of-range");
    write_st(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}", 20);
    expect_error("offsets out of range", (const char *[]){"info", d, NULL}, NULL, "model.safetensors",
                 "past the end");

    d = make_case("size-mismatch");
    write_st(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}}", 16);
    expect_error("size not matching the shape", (const char *[]){"info", d, NULL}, NULL, "model.safetensors",
                 "elements");

    d = make_case("unknown-dtype");
    write_st(d, "{\"a\":{\"dtype\":\"F8_E9\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
    expect_error("unknown dtype", (const char *[]){"info", d, NULL}, NULL, "model.safetensors", "unknown dtype");

    d = make_case("missing-tensor");
    edit(d, "config.json", "\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4");
    expect_error("tensor missing", (const char *[]){"info", d, NULL}, NULL, "model.layers.3", "missing");

    d = make_case("wrong-shape");
    edit(d, "config.json", "\"intermediate_size\": 160", "\"intermediate_size\": 128");
    expect_error("tensor of the wrong shape", (const char *[]){"info", d, NULL}, NULL, "gate_proj", "shape");

    d = make_case("bad-config");
    edit(d, "config.json", "\"hidden_size\": 64,", "\"hidden_size\": 64,,");
    expect_error("malformed config.json", (const char *[]){"info", d, NULL}, NULL, "config.json", "malformed");

    d = make_case("bad-tokenizer");
    edit(d, "tokenizer.json", "\"model\"", "\"model\" \"");
    expect_error("malformed tokenizer.json", (const char *[]){"generate", "-m", d, "-p", "hi", NULL}, NULL,
                 "tokenizer.json", NULL);

    d = make_case("unigram-tokenizer");
    edit(d, "tokenizer.json", "\"type\": \"BPE\"", "\"type\": \"Unigram\"");
    expect_error("unsupported tokenizer model", (const char *[]){"generate", "-m", d, "-p", "hi", NULL}, NULL,
                 "tokenizer.json", "Unigram");

    d = make_case("utf8");
    expect_error("invalid UTF-8 prompt (argument)", (const char *[]){"generate", "-m", d, "-p", "ab\xff\xfe", NULL},
                 NULL, "prompt", "UTF-8");
    expect_error("invalid UTF-8 prompt (stdin)", (const char *[]){"generate", "-m", d, NULL}, "caf\xc3(", "prompt",
                 "UTF-8");

    {
        char yaml[256];
        snprintf(yaml, sizeof yaml, CASES "/bad.yaml");
        const char *text = "model: x\nsampling:\n  temperature: [1\n";
        spit(yaml, text, strlen(text));
        expect_error("bad YAML", (const char *[]){"generate", "-c", yaml, "-p", "hi", NULL}, NULL, "bad.yaml:4:1:", "expected");
        const char *text2 = "sampling:\n  temperature: hot\n";
        spit(yaml, text2, strlen(text2));
        expect_error("wrong YAML type", (const char *[]){"generate", "-c", yaml, "-p", "hi", NULL}, NULL, "bad.yaml:2:",
                     "temperature");
    }

    /* training data and adapters */
    {
        struct { const char *name, *text, *must1, *must2; } data[] = {
            {"malformed.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\",\n", "malformed.jsonl:2",
             "JSON"},
            {"types.jsonl", "{\"prompt\": \"a\", \"completion\": 5}\n", "types.jsonl:1", "completion"},
            {"empty.jsonl", "", "empty.jsonl", "empty"},
            {"no-answer.jsonl", "{\"text\": \"User: where is it?\"}\n", "no-answer.jsonl:1", "assistant"},
        };
        for (size_t i = 0; i < sizeof data / sizeof *data; i++) {
            char path[256];
            snprintf(path, sizeof path, CASES "/%s", data[i].name);
            spit(path, data[i].text, strlen(data[i].text));
            expect_error(data[i].name, (const char *[]){"train", "sft", "-m", SRC, "--data", path, "--output",
                                                        CASES "/out", "--run-dir", CASES "/run", NULL},
                         NULL, data[i].must1, data[i].must2);
        }
        expect_error("adapter for another base shape",
                     (const char *[]){"generate", "-m", SRC, "--adapter", "tests/fixtures/train/tiny-qwen-bias/adapter",
                                      "-p", "hi", NULL},
                     NULL, "adapter_model.safetensors", "shape");
        char ad[256], cfgp[300];
        snprintf(ad, sizeof ad, CASES "/odd-adapter");
        mkdir(ad, 0755);
        snprintf(cfgp, sizeof cfgp, "%s/adapter_model.safetensors", ad);
        copy_file("tests/fixtures/train/tiny-gqa/adapter/adapter_model.safetensors", cfgp);
        snprintf(cfgp, sizeof cfgp, "%s/adapter_config.json", ad);
        const char *conf = "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"c_attn\"]}";
        spit(cfgp, conf, strlen(conf));
        expect_error("unknown target module", (const char *[]){"generate", "-m", SRC, "--adapter", ad, "-p", "hi", NULL},
                     NULL, "adapter_config.json", "c_attn");
    }

    review_cases();
    bench_contradiction_case();

    /* `infuse CMD --help` prints the command's usage and succeeds */
    {
        CHECK(run_ok((const char *[]){"review", "--help", NULL}, CASES "/help.txt") == 0);
        size_t n;
        char *o = slurp(CASES "/help.txt", &n);
        CHECK(o && strncmp(o, "usage: infuse review ", 21) == 0);
        free(o);
    }

    /* merge without an adapter converts; config.json names the new dtype */
    CHECK(run_ok((const char *[]){"merge", "-m", SRC, "-o", CASES "/bf16", "--dtype", "bf16", NULL},
                 CASES "/merge-out.txt") == 0);
    {
        size_t n;
        char *o = slurp(CASES "/bf16/config.json", &n);
        CHECK(o && strstr(o, "\"torch_dtype\":\t\"bfloat16\""));
        free(o);
        CHECK(run_ok((const char *[]){"info", CASES "/bf16", NULL}, CASES "/info-out.txt") == 0);
        o = slurp(CASES "/info-out.txt", &n);
        CHECK(o && strstr(o, "BF16"));
        free(o);
    }
    expect_error("missing folder", (const char *[]){"info", CASES "/no-such-model", NULL}, NULL, "no-such-model", NULL);
    expect_error("bad number", (const char *[]){"generate", "-m", SRC, "-p", "hi", "--temp", "warm", NULL}, NULL,
                 "--temp", "warm");
    TEST_MAIN_END();
}
