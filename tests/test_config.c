/* test_config.c - infuse.yaml: defaults, a full file, the shipped example,
 * every error kind with its exact line and column, unknown-key warnings,
 * relative paths and empty files.  Files are written into a fresh folder
 * under /tmp, which the test enters so messages name short relative paths. */
#include "config.h"
#include "lora.h"
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

/* The numeric defaults of a stage (docs/config.md). */
static void check_stage_defaults(const ConfigStage *s, int sft)
{
    CHECK(s->valid == NULL && s->valid_fraction == 0.1f && s->epochs == 1 && s->steps == 0 && s->batch == 4);
    CHECK(s->group_by_length == sft);
    CHECK(s->grad_accum == 1 && s->seq_len == 512 && s->lr == 2e-4f && s->schedule == CONFIG_SCHEDULE_COSINE);
    CHECK(s->warmup == 10 && s->min_lr_ratio == 0.1f && s->weight_decay == 0.0f && s->beta1 == 0.9f);
    CHECK(s->beta2 == 0.999f && s->eps == 1e-8f && s->grad_clip == 1.0f && s->full == 0);
    CHECK(s->lora.rank == 8 && s->lora.alpha == 16.0f && s->lora.dropout == 0.05f);
    CHECK(s->lora.targets == LORA_ALL_TARGETS && s->lora.targets == 0x7f && s->lora.rslora == 0);
    CHECK(s->init_from == (sft ? CONFIG_INIT_CPT : CONFIG_INIT_BASE) && s->init_path == NULL);
    CHECK(s->mask_prompt == 1 && s->golden_weight == 1.0f && s->golden_repeat == 1 && s->eval_every == 50 && s->save_every == 100);
    CHECK(s->patience == 0 && s->min_delta == 0.0f && s->seed == 0 && s->threads == 0);
}

/* What a load adds to the defaults when the file sets nothing: paths
 * under the project folder (here the current one). */
static void check_loaded_defaults(const Config *c)
{
    check_stage_defaults(&c->train.cpt, 0);
    check_stage_defaults(&c->train.sft, 1);
    CHECK(c->train.cpt.n_data == 0 && c->train.cpt.data == NULL && c->train.sft.n_data == 0);
    CHECK(streq(c->train.cpt.output, "adapters/cpt") && streq(c->train.sft.output, "adapters/sft"));
    CHECK(streq(c->train.runs_dir, "runs"));
}

static void check_defaults(const Config *c)
{
    CHECK(c->path == NULL && c->model == NULL && c->n_adapters == 0 && c->adapters == NULL);
    CHECK(!c->corpus && !c->qa && !c->golden && !c->eval);
    CHECK(c->chat_template == CHAT_CHATML && c->system_prompt == NULL);
    CHECK(c->temperature == 0.0f && c->top_k == 0 && c->top_p == 1.0f && c->repeat_penalty == 1.0f);
    CHECK(c->repeat_last_n == 64 && c->max_tokens == 256 && c->seed == 0);
    CHECK(c->n_stop == 0 && c->stop == NULL && c->threads == 0 && c->n_warnings == 0);
    check_stage_defaults(&c->train.cpt, 0);
    check_stage_defaults(&c->train.sft, 1);
}

static void test_defaults(void)
{
    Config c;
    config_defaults(&c);
    check_defaults(&c);
    CHECK(!c.train.cpt.output && !c.train.sft.output && !c.train.runs_dir && !c.train.cpt.data);
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
    const ConfigStage *cpt = &c.train.cpt, *sft = &c.train.sft;
    CHECK(streq(c.train.runs_dir, "runs"));
    CHECK(cpt->n_data == 2 && streq(cpt->data[0], "data/corpus") &&
          streq(cpt->data[1], "data/replay_chat.jsonl") && streq(cpt->output, "adapters/cpt"));
    CHECK(sft->n_data == 4 && streq(sft->data[0], "data/qa.jsonl") && streq(sft->data[1], "data/qa.jsonl") &&
          streq(sft->data[2], "data/qa_paraphrase.jsonl") && streq(sft->data[3], "data/replay.jsonl") &&
          streq(sft->output, "adapters/sft"));
    CHECK(cpt->seq_len == 256 && cpt->batch == 4 && cpt->epochs == 30 && cpt->lr == 3e-4f);
    CHECK(cpt->lora.rank == 16 && cpt->lora.alpha == 32.0f && cpt->lora.targets == LORA_ALL_TARGETS);
    CHECK(sft->init_from == CONFIG_INIT_CPT && sft->epochs == 6 && sft->lr == 2e-3f && sft->mask_prompt == 1 &&
          sft->golden_weight == 5.0f && sft->golden_repeat == 2 && sft->weight_decay == 0.3f);
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

static void test_train(void)
{
    write_file("train.yaml",
               "data:\n"
               "  corpus: corpus\n"
               "  qa: qa.jsonl\n"
               "train:\n"
               "  runs: /var/runs\n"
               "  cpt:\n"
               "    data: [docs, more/notes.md]\n"
               "    valid: held.txt\n"
               "    valid_fraction: 0.5\n"
               "    output: out/cpt\n"
               "    epochs: 2\n"
               "    steps: 300\n"
               "    batch: 8\n"
               "    grad_accum: 4\n"
               "    seq_len: 1024\n"
               "    lr: 1e-3\n"
               "    schedule: constant\n"
               "    warmup: 0\n"
               "    min_lr_ratio: 0\n"
               "    weight_decay: 0.01\n"
               "    beta1: 0.8\n"
               "    beta2: 0.95\n"
               "    eps: 1e-6\n"
               "    grad_clip: 0\n"
               "    full: true\n"
               "    lora:\n"
               "      rank: 16\n"
               "      alpha: 32\n"
               "      dropout: 0\n"
               "      targets: [q_proj, v, down_proj]\n"
               "      rslora: True\n"
               "    eval_every: 0\n"
               "    save_every: 0\n"
               "    patience: 3\n"
               "    min_delta: 0.001\n"
               "    seed: 7\n"
               "    threads: 2\n"
               "  sft:\n"
               "    data: golden-only.jsonl\n"
               "    init_from: /abs/adapter\n"
               "    mask_prompt: false\n"
               "    golden_weight: 2.5\n"
               "    golden_repeat: 3\n"
               "    augment: 3\n"
               "    augment_drop: 0.25\n"
               "    lora: {targets: [gate, up]}\n"
               "sampling:\n"
               "  seed: 99\n"
               "threads: 6\n");
    Config c;
    Err e = {{0}};
    int rc = config_load(&c, "train.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc)
        return;
    const ConfigStage *p = &c.train.cpt, *q = &c.train.sft;
    CHECK(streq(c.train.runs_dir, "/var/runs"));
    CHECK(p->n_data == 2 && streq(p->data[0], "docs") && streq(p->data[1], "more/notes.md"));
    CHECK(streq(p->valid, "held.txt") && p->valid_fraction == 0.5f && streq(p->output, "out/cpt"));
    CHECK(p->epochs == 2 && p->steps == 300 && p->batch == 8 && p->grad_accum == 4 && p->seq_len == 1024);
    CHECK(p->lr == 1e-3f && p->schedule == CONFIG_SCHEDULE_CONSTANT && p->warmup == 0 && p->min_lr_ratio == 0.0f);
    CHECK(p->weight_decay == 0.01f && p->beta1 == 0.8f && p->beta2 == 0.95f && p->eps == 1e-6f && p->grad_clip == 0.0f);
    CHECK(p->full == 1 && p->lora.rank == 16 && p->lora.alpha == 32.0f && p->lora.dropout == 0.0f && p->lora.rslora == 1);
    CHECK(p->lora.targets == ((1u << LORA_Q) | (1u << LORA_V) | (1u << LORA_DOWN)));
    CHECK(p->eval_every == 0 && p->save_every == 0 && p->patience == 3 && p->min_delta == 0.001f);
    CHECK(p->seed == 7 && p->threads == 2 && p->init_from == CONFIG_INIT_BASE);
    /* sft: its own keys; the rest defaults, seed and threads inherited. */
    CHECK(q->n_data == 1 && streq(q->data[0], "golden-only.jsonl") && streq(q->output, "adapters/sft"));
    CHECK(q->init_from == CONFIG_INIT_PATH && streq(q->init_path, "/abs/adapter"));
    CHECK(q->mask_prompt == 0 && q->golden_weight == 2.5f && q->golden_repeat == 3 && q->augment == 3 && q->augment_drop == 0.25f);
    CHECK(p->augment == 0 && p->augment_drop == 0.3f);
    CHECK(q->lora.targets == ((1u << LORA_GATE) | (1u << LORA_UP)) && q->lora.rank == 8);
    CHECK(q->seed == 99 && q->threads == 6 && q->epochs == 1 && q->lr == 2e-4f);
    CHECKF(c.n_warnings == 0, "%s", c.n_warnings ? c.warnings[0] : "");
    config_free(&c);

    /* init_from by name; an explicit seed 0 is kept, not replaced. */
    write_file("train.yaml", "train:\n  sft:\n    init_from: base\n    seed: 0\n"
                             "  cpt:\n    lora:\n      targets:\nsampling:\n  seed: 5\n");
    rc = config_load(&c, "train.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(c.train.sft.init_from == CONFIG_INIT_BASE && c.train.sft.init_path == NULL);
        CHECK(c.train.sft.seed == 0 && c.train.cpt.seed == 5);
        CHECK(c.train.cpt.lora.targets == LORA_ALL_TARGETS);
        config_free(&c);
    }
    write_file("train.yaml", "train:\n  sft:\n    init_from: ./cpt\n    init_from: cpt\n");
    rc = config_load(&c, "train.yaml", &e);
    CHECKF(rc == -1 && streq(e.msg, "train.yaml:4:5: duplicate key \"train.sft.init_from\" (first at line 3)"), "%s", e.msg);
    write_file("train.yaml", "train:\n  sft:\n    init_from: ./cpt\n");
    rc = config_load(&c, "train.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(c.train.sft.init_from == CONFIG_INIT_PATH && streq(c.train.sft.init_path, "./cpt"));
        config_free(&c);
    }
    /* SFT-only keys under cpt are unknown there. */
    write_file("train.yaml", "train:\n  cpt:\n    mask_prompt: false\n    lora:\n      rnak: 4\n  sft:\n    epoch: 2\n");
    rc = config_load(&c, "train.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(c.n_warnings == 3);
        if (c.n_warnings == 3) {
            CHECKF(streq(c.warnings[0], "train.yaml:3:5: unknown key \"train.cpt.mask_prompt\" (ignored)"), "%s",
                   c.warnings[0]);
            CHECKF(streq(c.warnings[1],
                         "train.yaml:5:7: unknown key \"train.cpt.lora.rnak\" (ignored; did you mean \"rank\"?)"),
                   "%s", c.warnings[1]);
            CHECKF(streq(c.warnings[2],
                         "train.yaml:7:5: unknown key \"train.sft.epoch\" (ignored; did you mean \"epochs\"?)"),
                   "%s", c.warnings[2]);
        }
        CHECK(c.train.cpt.mask_prompt == 1 && c.train.cpt.lora.rank == 8 && c.train.sft.epochs == 1);
        config_free(&c);
    }
    unlink("train.yaml");
}

static void test_train_errors(void)
{
    EXPECT_ERROR("t.yaml", "train: 3\n", "t.yaml:1:8: train: expected a mapping of settings, got \"3\"");
    EXPECT_ERROR("t.yaml", "train:\n  cpt: [a]\n", "t.yaml:2:8: train.cpt: expected a mapping of settings, got a list");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    data: {a: b}\n",
                 "t.yaml:3:11: train.cpt.data: expected a path or a list of paths, got a mapping");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    data: [a, \"\"]\n",
                 "t.yaml:3:15: train.cpt.data: an empty string is not allowed");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    data: \"\"\n", "t.yaml:3:11: train.cpt.data: expected a path, got \"\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    valid_fraction: 0.6\n",
                 "t.yaml:3:21: train.sft.valid_fraction: must be in [0, 0.5], got 0.6");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    epochs: 0\n", "t.yaml:3:13: train.sft.epochs: must be >= 1, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    steps: -1\n", "t.yaml:3:12: train.sft.steps: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    batch: 2.5\n",
                 "t.yaml:3:12: train.sft.batch: expected a whole number, got \"2.5\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    grad_accum: 0\n", "t.yaml:3:17: train.sft.grad_accum: must be >= 1, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    seq_len: 1\n", "t.yaml:3:14: train.sft.seq_len: must be >= 2, got 1");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lr: 0\n", "t.yaml:3:9: train.cpt.lr: must be > 0, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lr: fast\n", "t.yaml:3:9: train.cpt.lr: expected a number, got \"fast\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    schedule: linear\n",
                 "t.yaml:3:15: train.sft.schedule: expected cosine or constant, got \"linear\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    schedule: [cosine]\n",
                 "t.yaml:3:15: train.sft.schedule: expected cosine or constant, got a list");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    min_lr_ratio: 1.5\n",
                 "t.yaml:3:19: train.cpt.min_lr_ratio: must be in [0, 1], got 1.5");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    weight_decay: -0.1\n",
                 "t.yaml:3:19: train.cpt.weight_decay: must be >= 0, got -0.1");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    beta2: 1\n", "t.yaml:3:12: train.cpt.beta2: must be in [0, 1), got 1");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    eps: 0\n", "t.yaml:3:10: train.cpt.eps: must be > 0, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    grad_clip: -1\n", "t.yaml:3:16: train.cpt.grad_clip: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    full: yes\n",
                 "t.yaml:3:11: train.cpt.full: expected true or false, got \"yes\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    mask_prompt: \"true\"\n",
                 "t.yaml:3:18: train.sft.mask_prompt: expected true or false, got \"true\"");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora: 8\n", "t.yaml:3:11: train.cpt.lora: expected a mapping of settings, got \"8\"");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      rank: 0\n",
                 "t.yaml:4:13: train.cpt.lora.rank: must be >= 1, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      alpha: 0\n",
                 "t.yaml:4:14: train.cpt.lora.alpha: must be > 0, got 0");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      dropout: 1\n",
                 "t.yaml:4:16: train.cpt.lora.dropout: must be in [0, 1), got 1");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      targets: [q_proj, qkv_proj]\n",
                 "t.yaml:4:25: train.cpt.lora.targets: unknown module \"qkv_proj\" (expected q_proj, k_proj, v_proj, "
                 "o_proj, gate_proj, up_proj, down_proj)");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      targets: []\n",
                 "t.yaml:4:16: train.cpt.lora.targets: an empty list: name at least one module");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      targets: q_proj\n",
                 "t.yaml:4:16: train.cpt.lora.targets: expected a list of module names, got \"q_proj\"");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      targets: [[q]]\n",
                 "t.yaml:4:17: train.cpt.lora.targets: expected a module name, got a list");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    lora:\n      rslora: 1\n",
                 "t.yaml:4:15: train.cpt.lora.rslora: expected true or false, got \"1\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    init_from: \"\"\n",
                 "t.yaml:3:16: train.sft.init_from: expected base, cpt or an adapter folder, got \"\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    init_from:\n",
                 "t.yaml:3:15: train.sft.init_from: expected base, cpt or an adapter folder, got nothing");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    augment_drop: 1\n",
                 "t.yaml:3:19: train.sft.augment_drop: must be in (0, 1), got 1");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    augment: 65\n", "t.yaml:3:14: train.sft.augment: must be in [0, 64], got 65");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    golden_repeat: 0\n",
                 "t.yaml:3:20: train.sft.golden_repeat: must be in [1, 64], got 0");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    golden_weight: -1\n",
                 "t.yaml:3:20: train.sft.golden_weight: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    eval_every: -5\n", "t.yaml:3:17: train.sft.eval_every: must be >= 0, got -5");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    save_every: x\n",
                 "t.yaml:3:17: train.sft.save_every: expected a whole number, got \"x\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    patience: -1\n", "t.yaml:3:15: train.sft.patience: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    min_delta: -0.5\n", "t.yaml:3:16: train.sft.min_delta: must be >= 0, got -0.5");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    seed: -3\n",
                 "t.yaml:3:11: train.sft.seed: expected a whole number >= 0, got \"-3\"");
    EXPECT_ERROR("t.yaml", "train:\n  sft:\n    threads: -1\n", "t.yaml:3:14: train.sft.threads: must be >= 0, got -1");
    EXPECT_ERROR("t.yaml", "train:\n  runs: \"\"\n", "t.yaml:2:9: train.runs: expected a path, got \"\"");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    output: [a]\n", "t.yaml:3:13: train.cpt.output: expected a path, got a list");
    EXPECT_ERROR("t.yaml", "train:\n  cpt:\n    valid: {}\n", "t.yaml:3:12: train.cpt.valid: expected a path, got a mapping");
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
    check_loaded_defaults(&c);
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
            CHECKF(streq(c.warnings[1], "w.yaml:3:3: unknown key \"train.steps\" (ignored)"), "%s", c.warnings[1]);
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
        /* Stage paths: defaults under the project folder, data from data:. */
        CHECK(c.train.cpt.n_data == 1 && streq(c.train.cpt.data[0], "proj/../shared/corpus"));
        CHECK(c.train.sft.n_data == 1 && streq(c.train.sft.data[0], "proj/./qa.jsonl"));
        CHECK(streq(c.train.cpt.output, "proj/adapters/cpt") && streq(c.train.sft.output, "proj/adapters/sft"));
        CHECK(streq(c.train.runs_dir, "proj/runs"));
        config_free(&c);
    }
    write_file("proj/t.yaml", "train:\n  cpt:\n    data: [a.txt, /b]\n    valid: v.txt\n    output: o\n"
                              "  sft:\n    data: s.jsonl\n    init_from: ../x\n  runs: r\n");
    rc = config_load(&c, "proj/t.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(c.train.cpt.n_data == 2 && streq(c.train.cpt.data[0], "proj/a.txt") && streq(c.train.cpt.data[1], "/b"));
        CHECK(streq(c.train.cpt.valid, "proj/v.txt") && streq(c.train.cpt.output, "proj/o"));
        CHECK(c.train.sft.n_data == 1 && streq(c.train.sft.data[0], "proj/s.jsonl"));
        CHECK(streq(c.train.sft.init_path, "proj/../x") && streq(c.train.runs_dir, "proj/r"));
        config_free(&c);
    }
    /* A stage trains into the folder adapters: names for it, which Bench and
     * Chat load, unless train.STAGE.output says otherwise. */
    write_file("proj/t.yaml", "adapters:\n  sft: mine/sft-v2\n  cpt: /srv/cpt\ntrain:\n  cpt:\n    output: o\n");
    rc = config_load(&c, "proj/t.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECKF(streq(c.train.sft.output, "proj/mine/sft-v2") && streq(c.train.cpt.output, "proj/o"), "%s %s",
               c.train.sft.output, c.train.cpt.output);
        config_free(&c);
    }
    write_file("proj/t.yaml", "adapters:\n  cpt: /srv/cpt\n");
    rc = config_load(&c, "proj/t.yaml", &e);
    CHECKF(rc == 0, "%s", e.msg);
    if (rc == 0) {
        CHECK(streq(c.train.cpt.output, "/srv/cpt") && streq(c.train.sft.output, "proj/adapters/sft"));
        config_free(&c);
    }
    unlink("proj/t.yaml");
    /* No file: the folder it would be in is still the project folder. */
    CHECK(config_load_optional(&c, "proj/none.yaml", &e) == 0);
    CHECK(streq(c.train.cpt.output, "proj/adapters/cpt") && streq(c.train.runs_dir, "proj/runs"));
    config_free(&c);
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
            check_loaded_defaults(&c);
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
    test_train();
    test_train_errors();
    test_errors();
    test_optional();
    test_warnings();
    test_paths();
    test_empty();
    CHECK(chdir("/") == 0 && rmdir(dir) == 0); /* every file was removed */
    TEST_MAIN_END();
}
