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

/* Hands buf[0..n) to emit with every ill-formed part replaced by U+FFFD: a
 * model may produce any byte sequence, and callers (a terminal, the
 * workbench, JSON) need valid text.  Returns emit's answer. */
static int emit_valid(GenTextFn emit, void *ctx, const char *buf, size_t n)
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
        if (i > start && emit(ctx, buf + start, i - start))
            return 1;
        if (emit(ctx, UTF8_REPLACEMENT, 3))
            return 1;
        i += len;
        start = i;
    }
    return i > start ? emit(ctx, buf + start, i - start) : 0;
}

int generate(RunState *s, const Tokenizer *tok, Sampler *smp, const int32_t *prompt, size_t n_prompt,
             const GenParams *p, GenTextFn emit, void *ctx, GenResult *res, Err *e)
{
    memset(res, 0, sizeof *res);
    const int V = s->m->cfg.vocab;
    if (n_prompt == 0)
        return err_set(e, "generate: empty prompt");
    if ((int)n_prompt >= s->ctx)
        return err_set(e, "generate: prompt of %zu tokens does not fit the context of %d", n_prompt, s->ctx);
    size_t hist_cap = n_prompt + (size_t)(p->max_tokens > 0 ? p->max_tokens : 0) + 1;
    int32_t *hist = malloc(hist_cap * sizeof *hist);
    float *logits = malloc((size_t)V * sizeof *logits);
    StrBuf pd = {0};    /* the answer's bytes so far */
    int rc = -1;
    if (!hist || !logits) {
        err_set(e, "generate: out of memory");
        goto out;
    }
    memcpy(hist, prompt, n_prompt * sizeof *hist);
    size_t n_hist = n_prompt;
    runstate_reset(s);
    res->n_prompt = (int)n_prompt;
    double t0 = now_s();
    if (model_forward(s, prompt, (int)n_prompt, logits, 0, e) != 0)
        goto out;
    res->prefill_s = now_s() - t0;
    t0 = now_s();
    res->stop = GEN_STOP_LENGTH;
    size_t emitted = 0;  /* bytes of pd already handed to emit */
    for (int g = 0; g < p->max_tokens; g++) {
        int32_t next = sampler_sample(smp, logits, hist, n_hist);
        int is_eos = 0;
        for (size_t i = 0; i < p->n_eos; i++)
            is_eos |= next == p->eos[i];
        if (is_eos) {
            res->stop = GEN_STOP_EOS;
            break;
        }
        hist[n_hist++] = next;
        res->n_gen++;
        size_t bl = 0;
        const char *bytes = tokenizer_token_bytes(tok, next, &bl);
        if (bytes && strbuf_put(&pd, bytes, bl) != 0) {
            err_set(e, "generate: out of memory");
            goto out;
        }
        /* A stop string anywhere in the new text ends the answer before it. */
        size_t cut = pd.n;
        for (size_t i = 0; i < p->n_stops; i++) {
            if (!p->stops[i][0])
                continue;   /* an empty stop string would end every answer at once */
            /* Held-back text starts at emitted, so a match cannot start before
             * it.  Models can emit NUL bytes, hence memmem. */
            const char *hit = memmem(pd.s + emitted, pd.n - emitted, p->stops[i], strlen(p->stops[i]));
            if (hit && (size_t)(hit - pd.s) < cut)
                cut = (size_t)(hit - pd.s);
        }
        if (cut < pd.n) {
            if (cut > emitted)
                emit_valid(emit, ctx, pd.s + emitted, cut - emitted);
            emitted = cut;
            res->stop = GEN_STOP_STRING;
            break;
        }
        size_t hold = stop_prefix_tail(pd.s + emitted, pd.n - emitted, p);
        size_t hold_utf8 = utf8_incomplete_tail((const unsigned char *)pd.s + emitted, pd.n - emitted);
        if (hold_utf8 > hold)
            hold = hold_utf8;
        if (pd.n - emitted > hold) {
            size_t k = pd.n - emitted - hold;
            if (emit_valid(emit, ctx, pd.s + emitted, k)) {
                emitted += k;
                res->stop = GEN_STOP_CALLER;
                break;
            }
            emitted += k;
        }
        if (g + 1 == p->max_tokens)
            break;
        if (s->n_past + 1 > s->ctx) {
            res->stop = GEN_STOP_CONTEXT;
            break;
        }
        if (model_forward(s, &next, 1, logits, 0, e) != 0)
            goto out;
    }
    if (res->stop != GEN_STOP_STRING && res->stop != GEN_STOP_CALLER && pd.n > emitted)
        emit_valid(emit, ctx, pd.s + emitted, pd.n - emitted);
    res->decode_s = now_s() - t0;
    rc = 0;
out:
    free(hist);
    free(logits);
    strbuf_free(&pd);
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
