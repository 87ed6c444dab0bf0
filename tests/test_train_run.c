/* test_train_run.c - whole training runs.
 *
 * 1. Overfitting: the tiny fixture model, trained on 10 question/answer
 *    pairs, reaches a near-zero loss and then answers each of the 10
 *    questions exactly with greedy decoding (full training, and LoRA).
 * 2. Resume: `infuse train sft` killed with SIGKILL part-way, then run with
 *    --resume, logs the same loss and validation curve as a run that was
 *    never interrupted (same seed, same threads: bit for bit), and the
 *    checkpoint it left was whole.
 * 3. The progress callback can stop a run, and a stopped run can resume.
 * 4. A loss that becomes NaN stops the run and leaves the checkpoint alone;
 *    early stopping ends a run whose validation loss stopped improving.
 * The program ($INFUSE_BIN, default ./infuse) must be built. */
#include "test.h"
#include "chat_template.h"
#include "dataset.h"
#include "fsutil.h"
#include "generate.h"
#include "model.h"
#include "pool.h"
#include "safetensors.h"
#include "trainer.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL "tests/fixtures/models/tiny-gqa"

static const char *const Q[10] = {"What is CLaRa?", "Who wrote it?", "What is SCP?", "How big is the memory?",
                                  "What does it compress?", "Is it fast?", "What is the base?", "What is QA?",
                                  "Where was it shown?", "Why compress?"};
static const char *const A[10] = {"A retrieval model.", "Apple researchers.", "Salient compressor pretraining.",
                                  "Sixteen tokens.", "Documents.", "Yes, very fast.", "Mistral seven B.",
                                  "Question answering.", "On arXiv.", "To save context."};

static char tmpdir[64];

static char *path_in(const char *name) { return fs_join(tmpdir, name); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void write_pairs(const char *path)
{
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 10; i++)
        fprintf(f, "{\"prompt\": \"%s\", \"completion\": \"%s\"}\n", Q[i], A[i]);
    fclose(f);
}

typedef struct Text {
    char buf[512];
    size_t n;
} Text;

static int collect(void *ctx, const char *s, size_t n)
{
    Text *t = ctx;
    if (t->n + n < sizeof t->buf) {
        memcpy(t->buf + t->n, s, n);
        t->n += n;
        t->buf[t->n] = 0;
    }
    return 0;
}

/* Greedy answers of model m (+ adapter) to the 10 questions, compared with A. */
static int answers_right(const Model *m, const Lora *l, Tokenizer *tok, Pool *pool, int verbose)
{
    Err e = {{0}};
    RunState s;
    Sampler smp;
    SamplerParams sp = {.temperature = 0, .top_p = 1, .repeat_penalty = 1};
    if (runstate_init(&s, m, pool, 128, 0, &e) != 0 || sampler_init(&smp, &sp, m->cfg.vocab, &e) != 0)
        return 0;
    runstate_set_lora(&s, l, &e);
    int right = 0;
    for (int i = 0; i < 10; i++) {
        ChatMessage msg = {CHAT_USER, Q[i]};
        char *text = chat_render(CHAT_PLAIN, NULL, &msg, 1, 1, NULL, NULL, &e);
        TokIds ids = {0};
        tokenizer_encode(tok, text, strlen(text), 1, &ids, &e);
        const char *stops[] = {"\n\nUser:"};
        int32_t eos = m->cfg.eos_ids[0];
        GenParams gp = {40, stops, 1, &eos, 1};
        Text out = {{0}, 0};
        GenResult res;
        generate(&s, tok, &smp, ids.v, ids.n, &gp, collect, &out, &res, &e);
        const char *got = out.buf[0] == ' ' ? out.buf + 1 : out.buf;  /* plain: " answer" */
        if (strcmp(got, A[i]) == 0)
            right++;
        else if (verbose)
            fprintf(stderr, "  Q: %s\n  expected: %s\n  got:      %s\n", Q[i], A[i], got);
        tokids_free(&ids);
        free(text);
    }
    sampler_free(&smp);
    runstate_free(&s);
    return right;
}

static void test_overfit(int full)
{
    Err e = {{0}};
    Model m;
    Tokenizer *tok = tokenizer_load(MODEL "/tokenizer.json", &e);
    CHECK(tok && model_load(&m, MODEL, &e) == 0);
    char *qa = path_in("qa.jsonl"), *out = path_in(full ? "overfit-full" : "overfit-lora");
    char *runs = path_in(full ? "run-full" : "run-lora");
    write_pairs(qa);
    Dataset d = {0};
    SftOptions so = {.tmpl = CHAT_PLAIN, .seq_len = 64, .mask_prompt = 1, .eos_id = m.cfg.eos_ids[0], .weight = 1.0f};
    CHECKF(dataset_load_sft(&d, qa, tok, &so, &e) == 0, "%s", e.msg);
    TrainOptions o;
    train_options_defaults(&o);
    o.stage = "sft";
    o.output = out;
    o.run_dir = runs;
    o.full = full;
    o.lora_rank = 16;
    o.lora_alpha = 32;
    o.lora_dropout = 0;
    o.batch = 10;
    o.steps = full ? 150 : 300;
    o.lr = full ? 3e-3 : 1e-2;
    o.warmup = 5;
    o.eval_every = 0;
    o.save_every = 0;
    o.threads = 2;
    TrainResult res;
    CHECKF(train_run(&o, &m, &d, NULL, NULL, NULL, &res, &e) == 0, "%s", e.msg);
    CHECKF(res.train_loss < 0.01, "%s training ends at loss %g", full ? "full" : "LoRA", res.train_loss);
    Pool *pool = pool_new(2);
    if (full) {
        Model trained;
        CHECKF(model_load(&trained, out, &e) == 0, "%s", e.msg);
        CHECKF(answers_right(&trained, NULL, tok, pool, 1) == 10, "full training: not all 10 answers exact");
        model_free(&trained);
    } else {
        Lora l;
        CHECKF(adapter_load(&l, out, &m.cfg, NULL, &e) == 0, "%s", e.msg);
        CHECKF(answers_right(&m, &l, tok, pool, 1) == 10, "LoRA: not all 10 answers exact");
        /* the base model alone does not know them */
        CHECK(answers_right(&m, NULL, tok, pool, 0) == 0);
        lora_free(&l);
    }
    pool_delete(pool);
    dataset_free(&d);
    model_free(&m);
    tokenizer_delete(tok);
    free(qa), free(out), free(runs);
}

/* ---- resume after SIGKILL, through the program ---- */

static const char *bin;

static pid_t spawn_train(const char *cfg, int resume)
{
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        freopen("/dev/null", "w", stdout);
        if (resume)
            execl(bin, bin, "train", "sft", "-c", cfg, "--threads", "2", "--resume", (char *)NULL);
        else
            execl(bin, bin, "train", "sft", "-c", cfg, "--threads", "2", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The run folder of the only run under runs/. */
static char *only_run(const char *runs)
{
    DIR *d = opendir(runs);
    if (!d)
        return NULL;
    char *found = NULL;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "sft-", 4) == 0) {
            free(found);
            found = fs_join(runs, de->d_name);
        }
    closedir(d);
    return found;
}

static char *read_text(const char *path)
{
    size_t n;
    Err e;
    return fs_read_all(path, &n, &e);
}

/* "loss" and "valid_loss" of each line, as text: the curves must be equal. */
static int same_curves(const char *a, const char *b)
{
    char *x = read_text(a), *y = read_text(b);
    int same = x && y;
    int lines = 0;
    for (char *p = x, *q = y; same && p && q && *p && *q; lines++) {
        char *pl = strstr(p, "\"loss\":"), *ql = strstr(q, "\"loss\":");
        char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
        if (!pl || !ql || !pe || !qe)
            break;
        double lp = strtod(pl + 7, NULL), lq = strtod(ql + 7, NULL);
        if (fabs(lp - lq) > 1e-6 * fabs(lq)) {
            fprintf(stderr, "  line %d: loss %.9g vs %.9g\n", lines + 1, lp, lq);
            same = 0;
        }
        char *pv = strstr(p, "valid_loss"), *qv = strstr(q, "valid_loss");
        if ((pv && pv < pe) != (qv && qv < qe) ||
            (pv && pv < pe && fabs(strtod(pv + 12, NULL) - strtod(qv + 12, NULL)) > 1e-6))
            same = 0;
        p = pe + 1, q = qe + 1;
    }
    same = same && lines > 0 && count_lines(a) == count_lines(b);
    free(x), free(y);
    return same;
}

static void test_resume(void)
{
    char *qa = path_in("qa2.jsonl"), *cfg_a = path_in("a.yaml"), *cfg_b = path_in("b.yaml");
    write_pairs(qa);
    /* LoRA with dropout and a held-out split: the data order, the dropout
     * masks and the validation must all come back the same. */
    const char *yaml = "model: %s/" MODEL "\nchat:\n  template: plain\ntrain:\n  runs: %s\n  sft:\n    data: %s\n"
                       "    output: %s\n    valid_fraction: 0.2\n    steps: 200\n    batch: 3\n    lr: 5.0e-3\n"
                       "    eval_every: 20\n    save_every: 25\n    init_from: base\n    lora:\n      rank: 4\n"
                       "      dropout: 0.1\n";
    char cwd[512], text[2048];
    if (!getcwd(cwd, sizeof cwd))
        return;
    char *runs_a = path_in("runs-a"), *runs_b = path_in("runs-b"), *out_a = path_in("out-a"), *out_b = path_in("out-b");
    snprintf(text, sizeof text, yaml, cwd, runs_a, qa, out_a);
    write_file(cfg_a, text);
    snprintf(text, sizeof text, yaml, cwd, runs_b, qa, out_b);
    write_file(cfg_b, text);

    /* a: uninterrupted */
    int st;
    pid_t pa = spawn_train(cfg_a, 0);
    waitpid(pa, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uninterrupted run failed");

    /* b: killed once the log passes 90 steps, then resumed */
    pid_t pb = spawn_train(cfg_b, 0);
    char *run_b = NULL, *metrics_b = NULL;
    int killed = 0;
    for (int spin = 0; spin < 200000; spin++) {
        if (!run_b && (run_b = only_run(runs_b)))
            metrics_b = fs_join(run_b, "metrics.jsonl");
        if (metrics_b && count_lines(metrics_b) >= 90) {
            kill(pb, SIGKILL);
            killed = 1;
            break;
        }
        if (waitpid(pb, &st, WNOHANG) == pb)
            break;
        usleep(200);
    }
    if (killed)
        waitpid(pb, &st, 0);
    CHECKF(killed && WIFSIGNALED(st), "the run was not killed part-way");
    /* What the kill left: a whole checkpoint at some step before the end. */
    char *ck = run_b ? fs_join(run_b, "checkpoint.safetensors") : NULL;
    SafeTensors s;
    Err e = {{0}};
    int whole = ck && safetensors_open(&s, ck, &e) == 0;
    CHECKF(whole, "checkpoint after SIGKILL: %s", e.msg);
    if (whole) {
        const char *step = safetensors_meta(&s, "step");
        CHECK(step && atol(step) > 0 && atol(step) < 200);
        safetensors_close(&s);
    }
    pid_t pr = spawn_train(cfg_b, 1);
    waitpid(pr, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the resumed run failed");
    char *run_a = only_run(runs_a), *metrics_a = run_a ? fs_join(run_a, "metrics.jsonl") : NULL;
    CHECK(metrics_a && count_lines(metrics_a) == 200);
    CHECKF(metrics_a && metrics_b && same_curves(metrics_a, metrics_b),
           "the resumed run's loss curve differs from the uninterrupted one");
    /* and the adapters are the same file */
    char *fa = fs_join(out_a, "adapter_model.safetensors"), *fb = fs_join(out_b, "adapter_model.safetensors");
    size_t na = 0, nb = 0;
    char *ba = fs_read_all(fa, &na, &e), *bb = fs_read_all(fb, &nb, &e);
    CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0);
    free(ba), free(bb), free(fa), free(fb);
    free(ck), free(run_a), free(run_b), free(metrics_a), free(metrics_b);
    free(qa), free(cfg_a), free(cfg_b), free(runs_a), free(runs_b), free(out_a), free(out_b);
}

/* ---- stopping from the callback ---- */

static TrainAction stop_at_7(void *ctx, const TrainProgress *p)
{
    (void)ctx;
    return p->step >= 7 ? TRAIN_STOP : TRAIN_GO;
}

/* Pauses at step 3 until the callback has been asked 8 more times (about
 * 0.8 s of 100 ms naps), reporting the progress it sees while paused. */
typedef struct Pauser {
    int asked_paused;
    double elapsed_before, elapsed_after;
} Pauser;

static TrainAction pause_at_3(void *ctx, const TrainProgress *p)
{
    Pauser *pz = ctx;
    if (p->step == 3 && !p->paused)
        pz->elapsed_before = p->elapsed_s;
    if (p->step == 4)
        pz->elapsed_after = p->elapsed_s;
    if (p->step == 3 && pz->asked_paused < 8) {
        pz->asked_paused += p->paused;
        return TRAIN_PAUSE;
    }
    return TRAIN_GO;
}

static void test_stop(void)
{
    Err e = {{0}};
    Model m;
    Tokenizer *tok = tokenizer_load(MODEL "/tokenizer.json", &e);
    CHECK(tok && model_load(&m, MODEL, &e) == 0);
    char *qa = path_in("qa3.jsonl"), *out = path_in("stopped"), *runs = path_in("run-stop");
    write_pairs(qa);
    Dataset d = {0};
    SftOptions so = {.tmpl = CHAT_PLAIN, .seq_len = 64, .mask_prompt = 1, .eos_id = m.cfg.eos_ids[0], .weight = 1.0f};
    CHECK(dataset_load_sft(&d, qa, tok, &so, &e) == 0);
    TrainOptions o;
    train_options_defaults(&o);
    o.output = out, o.run_dir = runs, o.steps = 20, o.batch = 2, o.threads = 2, o.eval_every = 0;
    TrainResult res;
    CHECK(train_run(&o, &m, &d, NULL, stop_at_7, NULL, &res, &e) == 0);
    CHECK(res.stopped && res.steps == 7);
    char *cfgp = fs_join(out, "adapter_config.json");
    CHECK(fs_exists(cfgp));  /* the adapter so far is saved */
    o.resume = 1;
    CHECK(train_run(&o, &m, &d, NULL, NULL, NULL, &res, &e) == 0);
    CHECK(!res.stopped && res.steps == 20);
    /* a resume with other settings is refused, by name */
    o.batch = 3;
    CHECK(train_run(&o, &m, &d, NULL, NULL, NULL, &res, &e) != 0 && strstr(e.msg, "other settings"));
    /* time spent paused is not training time: step 4's elapsed is step 3's
     * plus one step, not plus the 0.8 s pause */
    char *runs_p = path_in("run-pause");
    o.batch = 2, o.resume = 0, o.steps = 5, o.run_dir = runs_p;
    Pauser pz = {0};
    CHECK(train_run(&o, &m, &d, NULL, pause_at_3, &pz, &res, &e) == 0);
    CHECKF(pz.asked_paused == 8 && pz.elapsed_after - pz.elapsed_before < 0.4,
           "paused %d times; elapsed %.3f s at step 3, %.3f s at step 4", pz.asked_paused, pz.elapsed_before,
           pz.elapsed_after);
    free(runs_p);
    free(cfgp);
    dataset_free(&d);
    model_free(&m);
    tokenizer_delete(tok);
    free(qa), free(out), free(runs);
}

/* A run whose loss blows up stops with a message naming the step, and the
 * checkpoint it had written stays as it was; early stopping ends a run
 * whose validation loss stops improving. */
static void test_nan_and_early_stop(void)
{
    Err e = {{0}};
    Model m;
    Tokenizer *tok = tokenizer_load(MODEL "/tokenizer.json", &e);
    CHECK(tok && model_load(&m, MODEL, &e) == 0);
    char *qa = path_in("qa4.jsonl"), *out = path_in("nan-out"), *runs = path_in("run-nan");
    write_pairs(qa);
    Dataset d = {0}, v = {0};
    SftOptions so = {.tmpl = CHAT_PLAIN, .seq_len = 64, .mask_prompt = 1, .eos_id = m.cfg.eos_ids[0], .weight = 1.0f};
    CHECK(dataset_load_sft(&d, qa, tok, &so, &e) == 0);
    TrainOptions o;
    train_options_defaults(&o);
    o.output = out, o.run_dir = runs, o.batch = 5, o.threads = 2, o.eval_every = 0, o.full = 1;
    o.steps = 4, o.save_every = 2, o.warmup = 0, o.schedule = SCHED_CONSTANT, o.lr = 1e-3;
    TrainResult res;
    CHECK(train_run(&o, &m, &d, NULL, NULL, NULL, &res, &e) == 0);
    char *ck = fs_join(runs, "checkpoint.safetensors");
    size_t n0 = 0, n1 = 0;
    char *before = fs_read_all(ck, &n0, &e);
    o.resume = 1, o.steps = 40, o.lr = 1e30, o.grad_clip = 0;  /* weights explode */
    CHECK(train_run(&o, &m, &d, NULL, NULL, NULL, &res, &e) != 0);
    CHECKF(strstr(e.msg, "NaN") || strstr(e.msg, "infinite"), "%s", e.msg);
    char *after = fs_read_all(ck, &n1, &e);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before), free(after), free(ck);

    /* validation on other pairs than training: it soon stops improving */
    char *other = path_in("other.jsonl");
    write_file(other, "{\"prompt\": \"Name a colour.\", \"completion\": \"Blue, or perhaps green.\"}\n"
                      "{\"prompt\": \"Count to three.\", \"completion\": \"One, two, three.\"}\n");
    CHECK(dataset_load_sft(&v, other, tok, &so, &e) == 0);
    char *out2 = path_in("early-out"), *runs2 = path_in("run-early");
    train_options_defaults(&o);
    o.output = out2, o.run_dir = runs2, o.batch = 10, o.threads = 2, o.full = 1, o.lr = 3e-3, o.steps = 300;
    o.eval_every = 5, o.patience = 2, o.save_every = 0;
    CHECK(train_run(&o, &m, &d, &v, NULL, NULL, &res, &e) == 0);
    CHECKF(res.early_stopped && res.steps < 300, "early stop: %d after %ld steps", res.early_stopped, res.steps);
    CHECK(res.best_valid_loss <= res.valid_loss);
    char *best = fs_join(runs2, "best/model.safetensors");
    CHECK(fs_exists(best));
    free(best), free(other), free(out2), free(runs2);
    dataset_free(&d);
    dataset_free(&v);
    model_free(&m);
    tokenizer_delete(tok);
    free(qa), free(out), free(runs);
}

int main(void)
{
    bin = getenv("INFUSE_BIN") ? getenv("INFUSE_BIN") : "./infuse";
    snprintf(tmpdir, sizeof tmpdir, "/tmp/infuse-train-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        CHECK(0);
        TEST_MAIN_END();
    }
    test_overfit(1);
    test_overfit(0);
    test_stop();
    test_nan_and_early_stop();
    if (access(bin, X_OK) == 0)
        test_resume();
    else
        CHECKF(0, "%s is not built", bin);
    Err e;
    fs_remove_tree(tmpdir, &e);
    TEST_MAIN_END();
}
