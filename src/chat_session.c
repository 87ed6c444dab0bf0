/* chat_session.c - stages answering one prompt side by side (see chat_session.h).
 *
 * A stage moves IDLE (never started) -> WAITING (a prompt is set, not yet
 * fed) -> RUNNING -> DONE; a start puts every stage back to WAITING.  The
 * GenStream does the token work; this file adds the prompt, the round-robin,
 * cancellation and, with batch, one model_forward_multi per round for the
 * stages whose next step would otherwise each read the weights alone. */
#include "chat_session.h"
#include "forward.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { STAGE_IDLE, STAGE_WAITING, STAGE_RUNNING, STAGE_DONE } StageState;

typedef struct Stage {
    RunState s;             /* this stage's KV cache, its adapter applied */
    Sampler smp;
    GenStream g;            /* borrows s and smp, so a Stage never moves */
    StageState state;
    int have_s, have_smp, have_g;
} Stage;

struct ChatSession {
    const Model *m;         /* borrowed */
    const Tokenizer *tok;   /* borrowed */
    ChatTemplate tmpl;
    SamplerParams sp;
    int batch;
    char *system;           /* owned copy, or NULL */
    char **stops;           /* [n_stops] owned copies: the template's, then the caller's */
    GenParams gp;           /* what every stage's stream runs with; stops and eos point here */
    int32_t eos[GEN_MAX_END_IDS];
    TokIds prompt;          /* the current prompt's ids */
    Stage *st;              /* [n] */
    int n;
    /* batched decode, with batch only */
    RunState **seq;         /* [n] */
    int32_t *next;          /* [n] */
    int *which;             /* [n] stage of each row */
    float *logits;          /* [n, vocab] */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* Fills *st (zeroed); on failure what was made is marked for chat_session_delete. */
static int stage_init(Stage *st, const Model *m, const Tokenizer *tok, Pool *pool, int ctx, const Lora *l,
                      const SamplerParams *sp, Err *e)
{
    if (runstate_init(&st->s, m, pool, ctx, 0, e) != 0)
        return -1;
    st->have_s = 1;
    if (runstate_set_lora(&st->s, l, e) != 0 || sampler_init(&st->smp, sp, m->cfg.vocab, e) != 0)
        return -1;
    st->have_smp = 1;
    if (gen_stream_init(&st->g, &st->s, &st->smp, tok, e) != 0)
        return -1;
    st->have_g = 1;
    st->state = STAGE_IDLE;
    return 0;
}

ChatSession *chat_session_new(const Model *m, const Tokenizer *tok, Pool *pool, const Lora *const *loras,
                              int n_stages, const ChatSessionParams *p, Err *e)
{
    if (n_stages < 1 || n_stages > CHAT_SESSION_MAX_STAGES) {
        err_set(e, "chat session: %d stages (1 to %d)", n_stages, CHAT_SESSION_MAX_STAGES);
        return NULL;
    }
    if (!m || !tok || !pool || !p) {
        err_set(e, "chat session: no model, tokenizer, pool or parameters");
        return NULL;
    }
    ChatSession *cs = calloc(1, sizeof *cs);
    if (!cs) {
        err_set(e, "chat session: out of memory");
        return NULL;
    }
    cs->m = m;
    cs->tok = tok;
    cs->tmpl = p->tmpl;
    cs->sp = p->sampling;
    cs->batch = p->batch != 0;
    cs->n = n_stages;
    const int V = m->cfg.vocab;
    size_t n_tmpl = 0;
    const char *const *ts = chat_template_stops(p->tmpl);
    while (ts[n_tmpl])
        n_tmpl++;
    size_t n_stops = n_tmpl + p->n_stops;
    cs->st = calloc((size_t)n_stages, sizeof *cs->st);
    cs->stops = calloc(n_stops ? n_stops : 1, sizeof *cs->stops);
    if (p->system && p->system[0])
        cs->system = dup_str(p->system);
    if (!cs->st || !cs->stops || (p->system && p->system[0] && !cs->system))
        goto oom;
    cs->gp.n_stops = n_stops;   /* the entries not yet copied are NULL, for chat_session_delete */
    for (size_t i = 0; i < n_stops; i++) {
        const char *src = i < n_tmpl ? ts[i] : p->stops[i - n_tmpl];
        if (!src) {
            err_set(e, "chat session: stop string %zu is NULL", i - n_tmpl);
            goto fail;
        }
        if (!(cs->stops[i] = dup_str(src)))
            goto oom;
    }
    cs->gp.max_tokens = p->max_tokens;
    cs->gp.stops = (const char *const *)cs->stops;
    cs->gp.eos = cs->eos;
    cs->gp.n_eos = gen_end_ids(m, tok, 1, cs->eos);
    if (cs->batch) {
        cs->seq = calloc((size_t)n_stages, sizeof *cs->seq);
        cs->next = calloc((size_t)n_stages, sizeof *cs->next);
        cs->which = calloc((size_t)n_stages, sizeof *cs->which);
        cs->logits = malloc((size_t)n_stages * (size_t)V * sizeof *cs->logits);
        if (!cs->seq || !cs->next || !cs->which || !cs->logits)
            goto oom;
    }
    for (int i = 0; i < n_stages; i++)
        if (stage_init(&cs->st[i], m, tok, pool, p->ctx, loras ? loras[i] : NULL, &cs->sp, e) != 0) {
            err_prefix(e, "chat session: stage %d", i);
            goto fail;
        }
    return cs;
oom:
    err_set(e, "chat session: out of memory");
fail:
    chat_session_delete(cs);
    return NULL;
}

void chat_session_delete(ChatSession *cs)
{
    if (!cs)
        return;
    for (int i = 0; cs->st && i < cs->n; i++) {
        Stage *st = &cs->st[i];
        if (st->have_g)
            gen_stream_free(&st->g);
        if (st->have_smp)
            sampler_free(&st->smp);
        if (st->have_s)
            runstate_free(&st->s);
    }
    for (size_t i = 0; cs->stops && i < cs->gp.n_stops; i++)
        free(cs->stops[i]);
    free(cs->stops);
    free(cs->st);
    free(cs->system);
    tokids_free(&cs->prompt);
    free(cs->seq);
    free(cs->next);
    free(cs->which);
    free(cs->logits);
    free(cs);
}

int chat_session_n_stages(const ChatSession *cs)
{
    return cs->n;
}

void chat_session_stop(ChatSession *cs)
{
    for (int i = 0; i < cs->n; i++) {
        Stage *st = &cs->st[i];
        if (st->state == STAGE_WAITING) {
            /* never fed: no stream to stop, only a result to fill in */
            memset(&st->g.res, 0, sizeof st->g.res);
            st->g.res.n_prompt = (int)cs->prompt.n;
            st->g.res.stop = GEN_STOP_CALLER;
        } else if (st->state == STAGE_RUNNING) {
            gen_stream_stop(&st->g);
        } else {
            continue;
        }
        st->state = STAGE_DONE;
    }
}

int chat_session_set_sampling(ChatSession *cs, const SamplerParams *sp, int max_tokens, Err *e)
{
    /* New samplers for every stage first, so a failure leaves the old ones. */
    Sampler *fresh = calloc((size_t)cs->n, sizeof *fresh);
    if (!fresh)
        return err_set(e, "chat session: out of memory");
    int i;
    for (i = 0; i < cs->n; i++)
        if (sampler_init(&fresh[i], sp, cs->m->cfg.vocab, e) != 0)
            break;
    if (i < cs->n) {
        while (i-- > 0)
            sampler_free(&fresh[i]);
        free(fresh);
        return err_prefix(e, "chat session");
    }
    chat_session_stop(cs);
    for (i = 0; i < cs->n; i++) {
        sampler_free(&cs->st[i].smp);
        cs->st[i].smp = fresh[i];   /* the stream points at smp, which stays put */
    }
    free(fresh);
    cs->sp = *sp;
    cs->gp.max_tokens = max_tokens;
    return 0;
}

int chat_session_start_ids(ChatSession *cs, const int32_t *ids, size_t n, Err *e)
{
    const int ctx = cs->st[0].s.ctx;
    if (n == 0)
        return err_set(e, "chat session: empty prompt");
    if (n >= (size_t)ctx)
        return err_set(e, "chat session: prompt of %zu tokens does not fit the context of %d", n, ctx);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= cs->m->cfg.vocab)
            return err_set(e, "chat session: token id %d is outside the vocabulary (0..%d)", ids[i],
                           cs->m->cfg.vocab - 1);
    chat_session_stop(cs);
    if (n > cs->prompt.cap) {
        int32_t *v = realloc(cs->prompt.v, n * sizeof *v);
        if (!v)
            return err_set(e, "chat session: out of memory for a prompt of %zu tokens", n);
        cs->prompt.v = v;
        cs->prompt.cap = n;
    }
    memcpy(cs->prompt.v, ids, n * sizeof *ids);
    cs->prompt.n = n;
    for (int i = 0; i < cs->n; i++) {
        Stage *st = &cs->st[i];
        sampler_reseed(&st->smp, cs->sp.seed);
        memset(&st->g.res, 0, sizeof st->g.res);
        st->g.res.n_prompt = (int)n;
        st->state = STAGE_WAITING;
    }
    return 0;
}

int chat_session_start(ChatSession *cs, const char *user, Err *e)
{
    if (!user)
        return err_set(e, "chat session: no message");
    ChatMessage msg = {CHAT_USER, user};
    char *text = chat_render(cs->tmpl, cs->system, &msg, 1, 1, NULL, NULL, e);
    if (!text)
        return err_prefix(e, "chat session");
    TokIds ids = {0};
    int rc = tokenizer_encode(cs->tok, text, strlen(text), 1, &ids, e);
    free(text);
    if (rc != 0) {
        tokids_free(&ids);
        return err_prefix(e, "chat session: the message");
    }
    rc = chat_session_start_ids(cs, ids.v, ids.n, e);
    tokids_free(&ids);
    return rc;
}

int chat_session_running(const ChatSession *cs)
{
    int k = 0;
    for (int i = 0; i < cs->n; i++)
        k += cs->st[i].state == STAGE_WAITING || cs->st[i].state == STAGE_RUNNING;
    return k;
}

/* Feeds every running stage's pending token through the model together,
 * in chunks as large as the first state of each chunk can hold. */
static int batch_decode(ChatSession *cs, Err *e)
{
    const int V = cs->m->cfg.vocab;
    int k = 0;
    for (int i = 0; i < cs->n; i++) {
        Stage *st = &cs->st[i];
        if (st->state != STAGE_RUNNING || gen_stream_pending(&st->g) < 0)
            continue;
        cs->seq[k] = &st->s;
        cs->next[k] = gen_stream_pending(&st->g);
        cs->which[k] = i;
        k++;
    }
    if (k < 2)
        return 0;   /* a lone stage decodes in its own step */
    for (int j0 = 0; j0 < k;) {
        int nb = k - j0 < cs->seq[j0]->t_max ? k - j0 : cs->seq[j0]->t_max;
        double t0 = now_s();
        if (model_forward_multi(cs->seq + j0, nb, cs->next + j0, cs->logits, e) != 0)
            return err_prefix(e, "chat session");
        double share = (now_s() - t0) / nb;
        for (int j = 0; j < nb; j++)
            gen_stream_fed(&cs->st[cs->which[j0 + j]].g, cs->logits + (size_t)j * V, share);
        j0 += nb;
    }
    return 0;
}

int chat_session_step_all(ChatSession *cs, ChatPieceFn piece, ChatCancelFn cancel, void *ctx, Err *e)
{
    if (!chat_session_running(cs))
        return 0;
    if (cs->batch) {
        if (cancel && cancel(ctx)) {
            chat_session_stop(cs);
            return 0;
        }
        if (batch_decode(cs, e) != 0) {
            chat_session_stop(cs);
            return -1;
        }
    }
    for (int i = 0; i < cs->n; i++) {
        Stage *st = &cs->st[i];
        if (st->state != STAGE_WAITING && st->state != STAGE_RUNNING)
            continue;
        if (cancel && cancel(ctx)) {
            chat_session_stop(cs);
            return 0;
        }
        if (st->state == STAGE_WAITING) {
            if (gen_stream_start(&st->g, cs->prompt.v, cs->prompt.n, &cs->gp, e) != 0) {
                st->state = STAGE_DONE;
                chat_session_stop(cs);
                return err_prefix(e, "chat session: stage %d", i);
            }
            st->state = STAGE_RUNNING;
        }
        const char *text;
        size_t len;
        if (gen_stream_step(&st->g, &text, &len, e) != 0) {
            st->state = STAGE_DONE;
            chat_session_stop(cs);
            return err_prefix(e, "chat session: stage %d", i);
        }
        if (st->g.done)
            st->state = STAGE_DONE;
        if (len && piece && piece(ctx, i, text, len)) {
            chat_session_stop(cs);
            return 0;
        }
    }
    return chat_session_running(cs);
}

int chat_session_run(ChatSession *cs, ChatPieceFn piece, ChatCancelFn cancel, void *ctx, Err *e)
{
    int r;
    while ((r = chat_session_step_all(cs, piece, cancel, ctx, e)) > 0)
        ;
    return r < 0 ? -1 : 0;
}

const GenResult *chat_session_result(const ChatSession *cs, int stage)
{
    return &cs->st[stage].g.res;
}

int chat_session_stage_done(const ChatSession *cs, int stage)
{
    StageState s = cs->st[stage].state;
    return s == STAGE_IDLE || s == STAGE_DONE;
}
