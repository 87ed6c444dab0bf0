/* test_config.c - infuse.yaml: defaults, a full file, the shipped example,
 * every error kind with its exact line and column, unknown-key warnings,
 * relative paths and empty files.  Files are written into a fresh folder
 * under /tmp, which the test enters so messages name short relative paths. */
#include "config.h"
#include "test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", name);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Loads text as name and expects an error message equal to want. */
static void expect_error(const char *name, const char *text, const char *want, int line)
{
    Config c;
    Err e = {{0}};
    write_file(name, text);
    int rc = config_load(&c, name, &e);
    if (rc == 0)
        config_free(&c);
    if (rc == -1 && strcmp(e.msg, want) == 0) {
        test_passed++;
    } else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: rc %d\n  got  %s\n  want %s\n", __FILE__, line, rc, e.msg, want);
    }
    CHECK(rc == 0 || (c.path == NULL && c.model == NULL && c.n_warnings == 0)); /* nothing left on failure */
    unlink(name);
}
#define EXPECT_ERROR(name, text, want) expect_error(name, text, want, __LINE__)

static void check_defaults(const Config *c)
{
    CHECK(c->path == NULL && c->model == NULL && c->n_adapters == 0 && c->adapters == NULL);
    CHECK(!c->corpus && !c->qa && !c->golden && !c->eval);
    CHECK(c->chat_template == CHAT_CHATML && c->system_prompt == NULL);
    CHECK(c->temperature == 0.0f && c->top_k == 0 && c->top_p == 1.0f && c->repeat_penalty == 1.0f);
    CHECK(c->repeat_last_n == 64 && c->max_tokens == 256 && c->seed == 0);
    CHECK(c->n_stop == 0 && c->stop == NULL && c->threads == 0 && c->n_warnings == 0);
}

static void test_defaults(void)
{
    Config c;
    config_defaults(&c);
    check_defaults(&c);
    SamplerParams p;
    config_sampler_params(&c, &p);
    CHECK(p.temperature == 0.0f && p.top_k == 0 && p.top_p == 1.0f && p.repeat_penalty == 1.0f);
    CHECK(p.repeat_last_n == 64 && p.seed == 0);
    Err e = {{0}};
    Sampler s;
    CHECK(sampler_init(&s, &p, 10, &e) == 0); /* the defaults are valid sampler input */
    sampler_free(&s);
    config_free(&c);
}

/* The example at the repository root (the test runs from there). */
static void test_example(void)
{
    Config c;
    Err e = {{0}};
    int rc = config_load(&c, "infuse.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc)
        return;
    CHECK(streq(c.path, "infuse.yaml") && streq(c.model, "models/base"));
    CHECK(c.n_adapters == 2 && streq(config_adapter(&c, "cpt"), "adapters/cpt") &&
          streq(config_adapter(&c, "sft"), "adapters/sft") && config_adapter(&c, "x") == NULL);
    CHECK(streq(c.corpus, "data/corpus") && streq(c.qa, "data/qa.jsonl"));
    CHECK(streq(c.golden, "data/golden.jsonl") && streq(c.eval, "data/eval.jsonl"));
    CHECK(c.chat_template == CHAT_CHATML && streq(c.system_prompt, ""));
    CHECK(c.temperature == 0.0f && c.top_k == 0 && c.top_p == 1.0f && c.max_tokens == 256);
    CHECK(c.n_stop == 0 && c.threads == 0);
    CHECKF(c.n_warnings == 0, "%s", c.n_warnings ? c.warnings[0] : "");
    config_free(&c);
}

static void test_full(void)
{
    write_file("full.yaml",
               "model: /opt/models/smol\n"
               "adapters:\n"
               "  cpt: out/cpt\n"
               "  sft: /abs/sft\n"
               "data:\n"
               "  corpus: docs\n"
               "  qa: qa.jsonl\n"
               "  golden: g.jsonl\n"
               "  eval: e.jsonl\n"
               "chat:\n"
               "  template: llama3\n"
               "  system: \"You answer questions about CLaRa.\\n\"\n"
               "sampling:\n"
               "  temperature: 0.7\n"
               "  top_k: 40\n"
               "  top_p: 0.95\n"
               "  repeat_penalty: 1.1\n"
               "  repeat_last_n: 0\n"
               "  max_tokens: 1000\n"
               "  seed: 18446744073709551615\n"
               "  stop: [\"\\n\\nQ:\", '###']\n"
               "threads: 4\n");
    Config c;
    Err e = {{0}};
    int rc = config_load(&c, "full.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(streq(c.model, "/opt/models/smol"));
        CHECK(c.n_adapters == 2 && streq(c.adapters[0].name, "cpt") && streq(c.adapters[0].path, "out/cpt"));
        CHECK(streq(c.adapters[1].name, "sft") && streq(c.adapters[1].path, "/abs/sft"));
        CHECK(streq(c.corpus, "docs") && streq(c.qa, "qa.jsonl") && streq(c.golden, "g.jsonl") &&
              streq(c.eval, "e.jsonl"));
        CHECK(c.chat_template == CHAT_LLAMA3 && streq(c.system_prompt, "You answer questions about CLaRa.\n"));
        CHECK(c.temperature == 0.7f && c.top_k == 40 && c.top_p == 0.95f && c.repeat_penalty == 1.1f);
        CHECK(c.repeat_last_n == 0 && c.max_tokens == 1000 && c.seed == UINT64_MAX);
        CHECK(c.n_stop == 2 && streq(c.stop[0], "\n\nQ:") && streq(c.stop[1], "###"));
        CHECK(c.threads == 4 && c.n_warnings == 0);
        SamplerParams p;
        config_sampler_params(&c, &p);
        CHECK(p.temperature == 0.7f && p.top_k == 40 && p.top_p == 0.95f && p.repeat_penalty == 1.1f &&
              p.repeat_last_n == 0 && p.seed == UINT64_MAX);
        config_free(&c);
    }
    unlink("full.yaml");
}

static void test_errors(void)
{
    /* Wrong types: the column is the value's. */
    EXPECT_ERROR("infuse.yaml",
                 "model: m\nadapters:\n  cpt: a\ndata:\n  qa: q\n  eval: e\nchat:\nsampling:\n"
                 "  temperature: hot\n",
                 "infuse.yaml:9:16: sampling.temperature: expected a number, got \"hot\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  top_k: 1.5\n",
                 "t.yaml:2:10: sampling.top_k: expected a whole number, got \"1.5\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  top_p: .nan\n", "t.yaml:2:10: sampling.top_p: expected a number, got \".nan\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  temperature:\n", "t.yaml:2:15: sampling.temperature: expected a number, got nothing");
    EXPECT_ERROR("t.yaml", "sampling:\n  seed: -1\n", "t.yaml:2:9: sampling.seed: expected a whole number >= 0, got \"-1\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  seed: 18446744073709551616\n",
                 "t.yaml:2:9: sampling.seed: must be at most 18446744073709551615, got 18446744073709551616");
    EXPECT_ERROR("t.yaml", "threads: 99999999999\n", "t.yaml:1:10: threads: must be at most 2147483647, got 99999999999");
    EXPECT_ERROR("t.yaml", "threads: [1, 2]\n", "t.yaml:1:10: threads: expected a whole number, got a list");
    /* A mapping where a scalar belongs, and the reverse. */
    EXPECT_ERROR("t.yaml", "model:\n  path: x\n", "t.yaml:2:3: model: expected a path, got a mapping");
    EXPECT_ERROR("t.yaml", "model: \"\"\n", "t.yaml:1:8: model: expected a path, got \"\"");
    EXPECT_ERROR("t.yaml", "model:\n", "t.yaml:1:7: model: expected a path, got nothing");
    EXPECT_ERROR("t.yaml", "sampling: fast\n", "t.yaml:1:11: sampling: expected a mapping of settings, got \"fast\"");
    EXPECT_ERROR("t.yaml", "adapters: [a, b]\n",
                 "t.yaml:1:11: adapters: expected a mapping of stage names to adapter folders, got a list");
    EXPECT_ERROR("t.yaml", "adapters:\n  sft:\n", "t.yaml:2:7: adapters.sft: expected a path, got nothing");
    EXPECT_ERROR("t.yaml", "chat:\n  system: {a: 1}\n", "t.yaml:2:11: chat.system: expected a string, got a mapping");
    EXPECT_ERROR("t.yaml", "- model\n", "t.yaml:1:1: top level: expected a mapping of settings, got a list");
    EXPECT_ERROR("t.yaml", "sampling:\n  stop: \"###\"\n",
                 "t.yaml:2:9: sampling.stop: expected a list of strings, got \"###\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  stop:\n    - a\n    - ''\n",
                 "t.yaml:4:7: sampling.stop: an empty string is not allowed");
    EXPECT_ERROR("t.yaml", "sampling:\n  stop: [a, [b]]\n", "t.yaml:2:13: sampling.stop: expected a string, got a list");
    EXPECT_ERROR("t.yaml", "? [a]\n: b\n", "t.yaml:1:3: expected a key name, got a list");
    /* Out of range. */
    EXPECT_ERROR("t.yaml", "sampling:\n  top_k: -1\n", "t.yaml:2:10: sampling.top_k: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "sampling:\n  top_p: 0\n", "t.yaml:2:10: sampling.top_p: must be in (0, 1], got 0");
    EXPECT_ERROR("t.yaml", "sampling:\n  top_p: 1.01\n", "t.yaml:2:10: sampling.top_p: must be in (0, 1], got 1.01");
    EXPECT_ERROR("t.yaml", "sampling:\n  temperature: -0.5\n",
                 "t.yaml:2:16: sampling.temperature: must be >= 0, got -0.5");
    EXPECT_ERROR("t.yaml", "sampling:\n  temperature: 1e39\n",
                 "t.yaml:2:16: sampling.temperature: expected a number, got \"1e39\"");
    EXPECT_ERROR("t.yaml", "sampling:\n  repeat_penalty: 0\n",
                 "t.yaml:2:19: sampling.repeat_penalty: must be > 0, got 0");
    EXPECT_ERROR("t.yaml", "sampling:\n  max_tokens: 0\n", "t.yaml:2:15: sampling.max_tokens: must be >= 1, got 0");
    EXPECT_ERROR("t.yaml", "threads: -2\n", "t.yaml:1:10: threads: must be >= 0, got -2");
    EXPECT_ERROR("t.yaml", "chat:\n  template: mistral\n",
                 "t.yaml:2:13: chat.template: unknown chat template \"mistral\" (expected chatml, llama3 or plain)");
    /* Duplicates. */
    EXPECT_ERROR("t.yaml", "model: a\nthreads: 1\nmodel: b\n", "t.yaml:3:1: duplicate key \"model\" (first at line 1)");
    EXPECT_ERROR("t.yaml", "sampling:\n  seed: 1\n  seed: 2\n",
                 "t.yaml:3:3: duplicate key \"sampling.seed\" (first at line 2)");
    EXPECT_ERROR("t.yaml", "adapters:\n  sft: a\n  sft: b\n", "t.yaml:3:3: duplicate key \"adapters.sft\"");
    /* YAML syntax, with libyaml's own problem text. */
    EXPECT_ERROR("t.yaml", "model: a\n  threads: 1\n",
                 "t.yaml:2:10: mapping values are not allowed in this context");
    EXPECT_ERROR("t.yaml", "sampling:\n  stop: [a, b\nthreads: 1\n",
                 "t.yaml:3:8: did not find expected ',' or ']' (while parsing a flow sequence at 2:9)");
    EXPECT_ERROR("t.yaml", "sampling:\n\ttop_k: 1\n",
                 "t.yaml:2:1: found character that cannot start any token (while scanning for the next token at 2:1)");
    EXPECT_ERROR("t.yaml", "model: *nowhere\n", "t.yaml:1:8: found undefined alias");
    /* Reader errors carry a byte offset, turned into line and column. */
    EXPECT_ERROR("t.yaml", "model: a\nsystem: \"caf\xe9\"\n", "t.yaml:2:14: invalid trailing UTF-8 octet");
    EXPECT_ERROR("t.yaml", "model: \xc3\xa9t\xc3\xa9\nchat:\n  system: \x80\n",
                 "t.yaml:3:11: invalid leading UTF-8 octet");
    EXPECT_ERROR("t.yaml", "model: a\n---\nmodel: b\n", "t.yaml:2:1: a second YAML document: the file must hold one");
    /* A missing file named explicitly. */
    Config c;
    Err e = {{0}};
    CHECK(config_load(&c, "missing.yaml", &e) == -1);
    CHECKF(streq(e.msg, "missing.yaml: cannot open: No such file or directory"), "%s", e.msg);
    CHECK(c.path == NULL);
}

static void test_optional(void)
{
    Config c;
    Err e = {{0}};
    CHECK(config_load_optional(&c, "missing.yaml", &e) == 0);
    check_defaults(&c);
    config_free(&c);
    write_file("here.yaml", "threads: 3\n");
    CHECK(config_load_optional(&c, "here.yaml", &e) == 1);
    CHECK(c.threads == 3 && streq(c.path, "here.yaml"));
    config_free(&c);
    write_file("here.yaml", "threads: x\n");
    CHECK(config_load_optional(&c, "here.yaml", &e) == -1);
    CHECKF(streq(e.msg, "here.yaml:1:10: threads: expected a whole number, got \"x\""), "%s", e.msg);
    unlink("here.yaml");
}

static void test_warnings(void)
{
    write_file("w.yaml",
               "modle: models/base\n"
               "train:\n"
               "  steps: 10\n"
               "sampling:\n"
               "  temprature: 0.5\n"
               "  top_k: 5\n"
               "data:\n"
               "  zzz: 1\n");
    Config c;
    Err e = {{0}};
    int rc = config_load(&c, "w.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(c.n_warnings == 4);
        if (c.n_warnings == 4) {
            CHECKF(streq(c.warnings[0], "w.yaml:1:1: unknown key \"modle\" (ignored; did you mean \"model\"?)"), "%s",
                   c.warnings[0]);
            CHECKF(streq(c.warnings[1], "w.yaml:2:1: unknown key \"train\" (ignored)"), "%s", c.warnings[1]);
            CHECKF(streq(c.warnings[2],
                         "w.yaml:5:3: unknown key \"sampling.temprature\" (ignored; did you mean \"temperature\"?)"),
                   "%s", c.warnings[2]);
            CHECKF(streq(c.warnings[3], "w.yaml:8:3: unknown key \"data.zzz\" (ignored)"), "%s", c.warnings[3]);
        }
        CHECK(c.model == NULL && c.temperature == 0.0f && c.top_k == 5);
        config_free(&c);
    }
    unlink("w.yaml");
}

static void test_paths(void)
{
    CHECK(mkdir("proj", 0755) == 0);
    write_file("proj/infuse.yaml",
               "model: models/base\nadapters:\n  sft: adapters/sft\n  abs: /srv/a\n"
               "data:\n  corpus: ../shared/corpus\n  qa: ./qa.jsonl\n");
    Config c;
    Err e = {{0}};
    int rc = config_load(&c, "proj/infuse.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(streq(c.model, "proj/models/base"));
        CHECK(streq(config_adapter(&c, "sft"), "proj/adapters/sft") && streq(config_adapter(&c, "abs"), "/srv/a"));
        CHECK(streq(c.corpus, "proj/../shared/corpus") && streq(c.qa, "proj/./qa.jsonl"));
        CHECK(c.golden == NULL);
        config_free(&c);
    }
    /* An absolute config path gives absolute results. */
    char cwd[4096], abs[4200];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(abs, sizeof abs, "%s/proj/infuse.yaml", cwd);
    rc = config_load(&c, abs, &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        char want[4200];
        snprintf(want, sizeof want, "%s/proj/models/base", cwd);
        CHECK(streq(c.model, want));
        config_free(&c);
    }
    unlink("proj/infuse.yaml");
    rmdir("proj");
}

static void test_empty(void)
{
    const char *texts[] = {"", "# nothing set yet\n\n", "~\n", "---\n", "data:\nchat:\nsampling:\nadapters:\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_file("empty.yaml", texts[i]);
        Config c;
        Err e = {{0}};
        int rc = config_load(&c, "empty.yaml", &e);
        CHECKF(rc == 0, "case %zu: %s", i, e.msg);
        if (rc == 0) {
            CHECK(streq(c.path, "empty.yaml"));
            free(c.path);
            c.path = NULL;
            check_defaults(&c);
            config_free(&c);
        }
    }
    unlink("empty.yaml");
}

int main(void)
{
    test_defaults();
    test_example();

    char dir[] = "/tmp/infuse-test-config-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        fprintf(stderr, "cannot make a scratch folder\n");
        return 1;
    }
    test_full();
    test_errors();
    test_optional();
    test_warnings();
    test_paths();
    test_empty();
    CHECK(chdir("/") == 0 && rmdir(dir) == 0); /* every file was removed */
    TEST_MAIN_END();
}
