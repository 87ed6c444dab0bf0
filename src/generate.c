/* generate.c - prefill, sample, decode, stream (see generate.h). */
#include "generate.h"
#include "forward.h"
#include "strbuf.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

const char *gen_stop_name(GenStop s)
{
    static const char *names[] = {"eos", "stop string", "max tokens", "caller", "context full"};
    return names[s];
}

/* Length of the longest suffix of buf that is a proper prefix of a stop string. */
static size_t stop_prefix_tail(const char *buf, size_t n, const GenParams *p)
{
    size_t best = 0;
    for (size_t i = 0; i < p->n_stops; i++) {
        size_t sl = strlen(p->stops[i]);
        for (size_t k = sl ? sl - 1 : 0; k > best; k--)
            if (k <= n && memcmp(buf + n - k, p->stops[i], k) == 0) {
                best = k;
                break;
            }
    }
    return best;
}

/* Appends buf[0..n) to out with every ill-formed part replaced by U+FFFD: a
 * model may produce any byte sequence, and callers (a terminal, the
 * workbench, JSON) need valid text.  Out of memory sticks in out->oom. */
static void put_valid(StrBuf *out, const char *buf, size_t n)
{
    const unsigned char *u = (const unsigned char *)buf;
    size_t start = 0, i = 0;
    while (i < n) {
        size_t len;
        if (utf8_char(u + i, n - i, &len) == UTF8_OK) {
            i += len;
            continue;
        }
        /* Ill-formed, or cut off at the end of the text. */
        strbuf_put(out, buf + start, i - start);
        strbuf_put(out, UTF8_REPLACEMENT, 3);
        i += len;
        start = i;
    }
    strbuf_put(out, buf + start, i - start);
}

/* Moves the first k held bytes, repaired, to the piece. */
static void release(GenStream *g, size_t k)
{
    if (k == 0)
        return;
    put_valid(&g->piece, g->held.s, k);
    memmove(g->held.s, g->held.s + k, g->held.n - k);
    g->held.n -= k;
}

static void finish(GenStream *g, GenStop why)
{
    g->res.stop = why;
    g->done = 1;
    g->pending = -1;
}

int gen_stream_init(GenStream *g, RunState *s, Sampler *smp, const Tokenizer *tok, Err *e)
{
    memset(g, 0, sizeof *g);
    g->s = s, g->smp = smp, g->tok = tok;
    g->pending = -1;
    g->done = 1;
    /* The last token sampled may have no room in the cache, hence + 1. */
    g->hist_cap = (size_t)s->ctx + 1;
    g->hist = malloc(g->hist_cap * sizeof *g->hist);
    g->logits = malloc((size_t)s->m->cfg.vocab * sizeof *g->logits);
    if (!g->hist || !g->logits) {
        gen_stream_free(g);
        return err_set(e, "generate: out of memory for a context of %d", s->ctx);
    }
    return 0;
}

void gen_stream_free(GenStream *g)
{
    free(g->hist);
    free(g->logits);
    strbuf_free(&g->held);
    strbuf_free(&g->piece);
    g->hist = NULL, g->logits = NULL;
    g->n_hist = g->hist_cap = 0;
    g->done = 1;
}

int gen_stream_start(GenStream *g, const int32_t *prompt, size_t n_prompt, const GenParams *p, Err *e)
{
    memset(&g->res, 0, sizeof g->res);
    g->done = 1;
    g->pending = -1;
    g->held.n = g->piece.n = 0;
    g->held.oom = g->piece.oom = 0;
    g->n_hist = 0;
    if (n_prompt == 0)
        return err_set(e, "generate: empty prompt");
    if (n_prompt >= (size_t)g->s->ctx || n_prompt >= g->hist_cap)
        return err_set(e, "generate: prompt of %zu tokens does not fit the context of %d", n_prompt, g->s->ctx);
    g->p = *p;
    memcpy(g->hist, prompt, n_prompt * sizeof *g->hist);
    g->n_hist = n_prompt;
    runstate_reset(g->s);
    g->res.n_prompt = (int)n_prompt;
    double t0 = now_s();
    if (model_forward(g->s, prompt, (int)n_prompt, g->logits, 0, e) != 0)
        return -1;
    g->res.prefill_s = now_s() - t0;
    g->res.stop = GEN_STOP_LENGTH;
    g->done = p->max_tokens <= 0;
    return 0;
}

int32_t gen_stream_pending(const GenStream *g)
{
    return g->pending;
}

void gen_stream_fed(GenStream *g, const float *logits, double seconds)
{
    memcpy(g->logits, logits, (size_t)g->s->m->cfg.vocab * sizeof *g->logits);
    g->pending = -1;
    g->res.decode_s += seconds;
}

void gen_stream_stop(GenStream *g)
{
    if (g->done)
        return;
    finish(g, GEN_STOP_CALLER);
    g->held.n = 0;
}

int gen_stream_step(GenStream *g, const char **text, size_t *len, Err *e)
{
    g->piece.n = 0;
    *text = "";
    *len = 0;
    if (g->done)
        return 0;
    const GenParams *p = &g->p;
    double t0 = now_s();
    if (g->pending >= 0) {
        int32_t prev = g->pending;
        g->pending = -1;
        if (model_forward(g->s, &prev, 1, g->logits, 0, e) != 0) {
            finish(g, g->res.stop);
            return -1;
        }
    }
    int32_t next = sampler_sample(g->smp, g->logits, g->hist, g->n_hist);
    int is_eos = 0;
    for (size_t i = 0; i < p->n_eos; i++)
        is_eos |= next == p->eos[i];
    if (is_eos) {
        finish(g, GEN_STOP_EOS);
        release(g, g->held.n);
        goto out;
    }
    g->hist[g->n_hist++] = next;
    g->res.n_gen++;
    size_t bl = 0;
    const char *bytes = tokenizer_token_bytes(g->tok, next, &bl);
    if (bytes)
        strbuf_put(&g->held, bytes, bl);
    /* A stop string anywhere in the held text ends the answer before it
     * (text already handed out held no stop string nor a start of one, so a
     * match cannot start earlier).  Models can emit NUL bytes, hence memmem. */
    size_t cut = g->held.n;
    for (size_t i = 0; i < p->n_stops && g->held.n; i++) {
        if (!p->stops[i][0])
            continue;   /* an empty stop string would end every answer at once */
        const char *hit = memmem(g->held.s, g->held.n, p->stops[i], strlen(p->stops[i]));
        if (hit && (size_t)(hit - g->held.s) < cut)
            cut = (size_t)(hit - g->held.s);
    }
    if (cut < g->held.n) {
        release(g, cut);
        g->held.n = 0;
        finish(g, GEN_STOP_STRING);
        goto out;
    }
    size_t hold = stop_prefix_tail(g->held.s, g->held.n, p);
    size_t hold_utf8 = utf8_incomplete_tail((const unsigned char *)g->held.s, g->held.n);
    if (hold_utf8 > hold)
        hold = hold_utf8;
    release(g, g->held.n - hold);
    if (g->res.n_gen >= p->max_tokens)
        finish(g, GEN_STOP_LENGTH);
    else if (g->s->n_past + 1 > g->s->ctx || g->n_hist >= g->hist_cap)
        finish(g, GEN_STOP_CONTEXT);   /* next was sampled, but has no room in the cache */
    else
        g->pending = next;
    /* The tail goes out separately, as its own repaired run. */
    if (g->done)
        release(g, g->held.n);
out:
    g->res.decode_s += now_s() - t0;
    if (g->held.oom || g->piece.oom) {
        finish(g, g->res.stop);
        return err_set(e, "generate: out of memory");
    }
    *text = g->piece.s ? g->piece.s : "";
    *len = g->piece.n;
    return 0;
}

int generate(RunState *s, const Tokenizer *tok, Sampler *smp, const int32_t *prompt, size_t n_prompt,
             const GenParams *p, GenTextFn emit, void *ctx, GenResult *res, Err *e)
{
    memset(res, 0, sizeof *res);
    GenStream g;
    if (gen_stream_init(&g, s, smp, tok, e) != 0)
        return -1;
    int rc = -1;
    if (gen_stream_start(&g, prompt, n_prompt, p, e) != 0)
        goto out;
    double t0 = now_s();
    while (!g.done) {
        const char *text;
        size_t len;
        if (gen_stream_step(&g, &text, &len, e) != 0)
            goto out;
        if (len && emit(ctx, text, len) && !g.done)
            gen_stream_stop(&g);
    }
    g.res.decode_s = now_s() - t0;
    rc = 0;
out:
    *res = g.res;
    gen_stream_free(&g);
    return rc;
}

size_t gen_end_ids(const Model *m, const Tokenizer *tok, int chat, int32_t *out)
{
    size_t n = 0;
    for (int i = 0; i < m->cfg.n_eos; i++)
        out[n++] = m->cfg.eos_ids[i];
    static const char *const names[] = {"<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>"};
    for (int i = 0; i < (chat ? 4 : 2); i++) {
        int id = tokenizer_token_id(tok, names[i]);
        if (id >= 0)
            out[n++] = id;
    }
    return n;
}
