/* chat_job.c - loading and answering on the worker thread (chat_job.h).
 *
 * The engine keeps what the last job built, so a prompt asked of the same
 * stages as the one before only resets the KV caches: the model is mapped
 * once, each adapter read once (again when its file changes), and the
 * ChatSession is rebuilt only when the set of adapters changes.  A session
 * borrows its Loras, so dropping or re-reading any adapter deletes the
 * session first: a new Lora may well land at a freed one's address.
 *
 * The session's template, system prompt and stop strings are the ones of
 * the job that built it; they come from the Config, which does not change
 * while the workbench runs. */
#include "chat_job.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "adapter.h"
#include "chat_session.h"
#include "fsutil.h"
#include "generate.h"
#include "model.h"
#include "pool.h"
#include "tokenizer.h"

/* How often the job reports tokens/s while answering. */
#define STATS_EVERY_S 0.25

typedef struct EngineLora {
    char *name, *dir;
    Lora lora;
    struct timespec mtime;      /* of adapter_model.safetensors when it was read */
    off_t size;
} EngineLora;

struct ChatEngine {
    char *model_dir;            /* of the loaded model; NULL before the first job */
    Model model;
    Tokenizer *tok;
    Pool *pool;                 /* the worker thread's */
    EngineLora **loras;         /* [n_loras] by stage name, each allocated alone (sessions hold &lora) */
    size_t n_loras, cap_loras;
    ChatSession *cs;            /* the last session, or NULL */
    const Lora *cs_loras[CHAT_JOB_MAX_STAGES]; /* what it was built with */
    int cs_n;
    SamplerParams cs_sp;
    int cs_max_tokens;
};

struct ChatJob {
    ChatEngine *en;             /* borrowed */
    char *model_dir, *prompt, *system;
    char *names[CHAT_JOB_MAX_STAGES], *dirs[CHAT_JOB_MAX_STAGES];
    int n;
    char **stale;
    size_t n_stale;
    char **stops;
    size_t n_stops;
    SamplerParams sp;
    int max_tokens;
    ChatTemplate tmpl;
    int threads;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the engine ---- */

ChatEngine *chat_engine_new(void)
{
    return calloc(1, sizeof(ChatEngine));
}

static void drop_session(ChatEngine *en)
{
    chat_session_delete(en->cs);
    en->cs = NULL;
    en->cs_n = 0;
}

static void lora_entry_free(EngineLora *l)
{
    if (!l)
        return;
    lora_free(&l->lora);
    free(l->name);
    free(l->dir);
    free(l);
}

static void drop_lora_at(ChatEngine *en, size_t i)
{
    drop_session(en);
    lora_entry_free(en->loras[i]);
    memmove(en->loras + i, en->loras + i + 1, (en->n_loras - i - 1) * sizeof *en->loras);
    en->n_loras--;
}

void chat_engine_drop_stage(ChatEngine *en, const char *name)
{
    for (size_t i = 0; en && i < en->n_loras; i++)
        if (strcmp(en->loras[i]->name, name) == 0) {
            drop_lora_at(en, i);
            return;
        }
}

static void drop_model(ChatEngine *en)
{
    drop_session(en);
    while (en->n_loras)
        drop_lora_at(en, en->n_loras - 1);
    if (en->model_dir)
        model_free(&en->model);
    tokenizer_delete(en->tok);
    en->tok = NULL;
    free(en->model_dir);
    en->model_dir = NULL;
}

void chat_engine_delete(ChatEngine *en)
{
    if (!en)
        return;
    drop_model(en);
    free(en->loras);
    pool_delete(en->pool);
    free(en);
}

/* The base model, tokenizer and pool, loaded unless they are already. */
static int engine_base(ChatEngine *en, WorkerJob *job, const char *dir, int threads, Err *e)
{
    if (en->model_dir && strcmp(en->model_dir, dir) == 0)
        return 0;
    drop_model(en);
    worker_post_log(job, "loading the base model (%s)", dir);
    char *tok_path = fs_join(dir, "tokenizer.json");
    if (!tok_path)
        return err_set(e, "%s: out of memory", dir);
    if (!fs_is_dir(dir)) {
        free(tok_path);
        return err_set(e, "%s: no such model folder (model: in infuse.yaml)", dir);
    }
    en->tok = tokenizer_load(tok_path, e);
    free(tok_path);
    if (!en->tok)
        return -1;
    if (model_load(&en->model, dir, e) != 0) {
        tokenizer_delete(en->tok);
        en->tok = NULL;
        return -1;
    }
    if (!(en->model_dir = strdup(dir))) {
        model_free(&en->model);
        tokenizer_delete(en->tok);
        en->tok = NULL;
        return err_set(e, "%s: out of memory", dir);
    }
    if (!en->pool && !(en->pool = pool_new(threads > 0 ? threads : pool_cpu_count())))
        return err_set(e, "chat: cannot start the compute threads");
    return 0;
}

/* Size and modification time of the adapter's weights; -1 if missing. */
static int weights_sig(const char *dir, struct timespec *mtime, off_t *size)
{
    char *p = fs_join(dir, "adapter_model.safetensors");
    struct stat sb;
    int rc = p && stat(p, &sb) == 0 ? 0 : -1;
    free(p);
    if (rc == 0) {
        *mtime = sb.st_mtim;
        *size = sb.st_size;
    }
    return rc;
}

/* Stage name's adapter from dir, read unless the cached copy is current. */
static const Lora *engine_lora(ChatEngine *en, WorkerJob *job, const char *name, const char *dir, Err *e)
{
    struct timespec mt = {0};
    off_t size = -1;
    int have_sig = weights_sig(dir, &mt, &size) == 0;
    for (size_t i = 0; i < en->n_loras; i++) {
        EngineLora *l = en->loras[i];
        if (strcmp(l->name, name) != 0)
            continue;
        if (have_sig && strcmp(l->dir, dir) == 0 && l->size == size && l->mtime.tv_sec == mt.tv_sec &&
            l->mtime.tv_nsec == mt.tv_nsec)
            return &l->lora;
        drop_lora_at(en, i);    /* retrained, moved or gone: read it again */
        break;
    }
    if (en->n_loras == en->cap_loras) {
        size_t cap = en->cap_loras ? 2 * en->cap_loras : 4;
        EngineLora **v = realloc(en->loras, cap * sizeof *v);
        if (!v) {
            err_set(e, "%s: out of memory", name);
            return NULL;
        }
        en->loras = v;
        en->cap_loras = cap;
    }
    worker_post_log(job, "loading adapter %s (%s)", name, dir);
    EngineLora *l = calloc(1, sizeof *l);
    if (!l || !(l->name = strdup(name)) || !(l->dir = strdup(dir))) {
        lora_entry_free(l);
        err_set(e, "%s: out of memory", name);
        return NULL;
    }
    if (adapter_load(&l->lora, dir, &en->model.cfg, NULL, e) != 0) {
        err_prefix(e, "stage %s", name);
        lora_entry_free(l);
        return NULL;
    }
    l->mtime = mt;
    l->size = size;
    en->loras[en->n_loras++] = l;
    return &l->lora;
}

static int same_sampling(const SamplerParams *a, const SamplerParams *b)
{
    return a->temperature == b->temperature && a->top_k == b->top_k && a->top_p == b->top_p &&
           a->repeat_penalty == b->repeat_penalty && a->repeat_last_n == b->repeat_last_n && a->seed == b->seed;
}

/* A session for these stages and settings: the last one when it fits. */
static int engine_session(ChatEngine *en, const ChatJob *cj, const Lora *const *loras, int n, Err *e)
{
    if (en->cs && en->cs_n == n && memcmp(en->cs_loras, loras, (size_t)n * sizeof *loras) == 0) {
        if (same_sampling(&en->cs_sp, &cj->sp) && en->cs_max_tokens == cj->max_tokens)
            return 0;
        if (chat_session_set_sampling(en->cs, &cj->sp, cj->max_tokens, e) != 0)
            return -1;
    } else {
        drop_session(en);
        ChatSessionParams p = {.sampling = cj->sp, .max_tokens = cj->max_tokens, .tmpl = cj->tmpl,
                               .system = cj->system, .stops = (const char *const *)cj->stops,
                               .n_stops = cj->n_stops, .batch = 1};
        en->cs = chat_session_new(&en->model, en->tok, en->pool, loras, n, &p, e);
        if (!en->cs)
            return -1;
        memcpy(en->cs_loras, loras, (size_t)n * sizeof *loras);
        en->cs_n = n;
    }
    en->cs_sp = cj->sp;
    en->cs_max_tokens = cj->max_tokens;
    return 0;
}

/* ---- the job ---- */

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void chat_job_free(void *p)
{
    ChatJob *cj = p;
    if (!cj)
        return;
    free(cj->model_dir);
    free(cj->prompt);
    free(cj->system);
    for (int i = 0; i < CHAT_JOB_MAX_STAGES; i++) {
        free(cj->names[i]);
        free(cj->dirs[i]);
    }
    free_strv(cj->stale, cj->n_stale);
    free_strv(cj->stops, cj->n_stops);
    free(cj);
}

/* *dst = a copy of s (NULL stays NULL); -1 when out of memory. */
static int dup_to(char **dst, const char *s)
{
    *dst = s ? strdup(s) : NULL;
    return s && !*dst ? -1 : 0;
}

static int dup_strv(char ***dst, const char *const *v, size_t n)
{
    *dst = NULL;
    if (!n)
        return 0;
    if (!(*dst = calloc(n, sizeof **dst)))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (dup_to(&(*dst)[i], v[i]) != 0)
            return -1;
    return 0;
}

ChatJob *chat_job_new(ChatEngine *en, const ChatJobSpec *s, Err *e)
{
    if (s->n_stages < 1 || s->n_stages > CHAT_JOB_MAX_STAGES) {
        err_set(e, "chat: %d stages (1 to %d)", s->n_stages, CHAT_JOB_MAX_STAGES);
        return NULL;
    }
    ChatJob *cj = calloc(1, sizeof *cj);
    if (!cj) {
        err_set(e, "chat: out of memory");
        return NULL;
    }
    cj->en = en;
    cj->n = s->n_stages;
    cj->sp = s->sampling;
    cj->max_tokens = s->max_tokens;
    cj->tmpl = s->tmpl;
    cj->threads = s->threads;
    int bad = dup_to(&cj->model_dir, s->model_dir) || dup_to(&cj->prompt, s->prompt) ||
              dup_to(&cj->system, s->system && *s->system ? s->system : NULL);
    for (int i = 0; i < cj->n; i++)
        bad |= dup_to(&cj->names[i], s->names[i]) || dup_to(&cj->dirs[i], s->dirs[i]);
    cj->n_stale = s->n_stale;
    bad |= dup_strv(&cj->stale, s->stale, s->n_stale);
    cj->n_stops = s->n_stops;
    bad |= dup_strv(&cj->stops, s->stops, s->n_stops);
    if (bad || !cj->model_dir || !cj->prompt) {
        chat_job_free(cj);
        err_set(e, "chat: out of memory");
        return NULL;
    }
    return cj;
}

typedef struct Run {
    WorkerJob *job;
    ChatSession *cs;
    int pos[CHAT_JOB_MAX_STAGES];   /* session stage -> position in the job's list */
    int n;                          /* session stages */
    int n_job;                      /* the job's stages */
} Run;

static int on_piece(void *ctx, int stage, const char *text, size_t len)
{
    Run *r = ctx;
    worker_post_token(r->job, r->pos[stage], text, len);
    return 0;
}

static int on_cancel(void *ctx)
{
    Run *r = ctx;
    return worker_job_cancelled(r->job);
}

static void post_stats(Run *r)
{
    ChatJobStats s;
    memset(&s, 0, sizeof s);
    s.n_stages = r->n_job;
    for (int k = 0; k < r->n; k++) {
        const GenResult *g = chat_session_result(r->cs, k);
        s.st[r->pos[k]] = (ChatJobStat){.n_prompt = g->n_prompt, .n_gen = g->n_gen, .prefill_s = g->prefill_s,
                                        .decode_s = g->decode_s, .stop = (int)g->stop,
                                        .done = chat_session_stage_done(r->cs, k), .loaded = 1};
    }
    worker_post(r->job, &(WorkerEvent){.type = WORKER_EV_USER, .index = CHAT_JOB_EV_STATS, .data = &s,
                                       .size = sizeof s});
}

int chat_job_run(WorkerJob *job, void *ctx)
{
    ChatJob *cj = ctx;
    ChatEngine *en = cj->en;
    Err *e = worker_job_err(job);
    for (size_t i = 0; i < cj->n_stale; i++)
        chat_engine_drop_stage(en, cj->stale[i]);
    if (engine_base(en, job, cj->model_dir, cj->threads, e) != 0)
        return -1;
    Run r = {.job = job, .n_job = cj->n};
    const Lora *loras[CHAT_JOB_MAX_STAGES];
    Err le = {{0}};
    for (int i = 0; i < cj->n; i++) {
        if (worker_job_cancelled(job))
            return 0;
        const Lora *l = NULL;
        if (cj->dirs[i] && !(l = engine_lora(en, job, cj->names[i], cj->dirs[i], &le))) {
            worker_post(job, &(WorkerEvent){.type = WORKER_EV_ERROR, .index = i + 1, .text = le.msg});
            continue;
        }
        loras[r.n] = l;
        r.pos[r.n++] = i;
    }
    if (r.n == 0)
        return err_set(e, "%s", le.msg);
    if (engine_session(en, cj, loras, r.n, e) != 0)
        return -1;
    r.cs = en->cs;
    if (chat_session_start(r.cs, cj->prompt, e) != 0)
        return -1;
    worker_post_log(job, "%s", CHAT_JOB_LOG_ANSWERING);
    double last = now_s();
    for (;;) {
        int left = chat_session_step_all(r.cs, on_piece, on_cancel, &r, e);
        double t = now_s();
        if (left <= 0 || t - last >= STATS_EVERY_S) {
            post_stats(&r);
            last = t;
        }
        if (left < 0)
            return -1;
        if (left == 0)
            return 0;
        while (worker_job_paused(job) && !worker_job_cancelled(job))
            nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
}
