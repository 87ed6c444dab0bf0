/* stage_bench.c - stages answering an evaluation set side by side (see stage_bench.h). */
#include "stage_bench.h"
#include "adapter.h"
#include "forward.h"
#include "fsutil.h"
#include "generate.h"
#include "strbuf.h"
#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A prompt every adapter trained on anything must move: plain text. */
static const char PROBE[] = "The quick brown fox jumps over the lazy dog. What is it about?";

int stage_bench_prepare(BenchStage *st, int n, const Model *m, const Tokenizer *tok, Pool *pool, Err *e)
{
    TokIds ids = {0};
    if (tokenizer_encode(tok, PROBE, strlen(PROBE), 0, &ids, e) != 0)
        return -1;
    const int V = m->cfg.vocab, T = (int)ids.n;
    float *base = malloc(sizeof(float) * (size_t)V * (size_t)T), *with = malloc(sizeof(float) * (size_t)V * (size_t)T);
    RunState s;
    int rc = -1, have_state = 0;
    if (!base || !with) {
        err_set(e, "out of memory");
        goto out;
    }
    if (runstate_init(&s, m, pool, T + 1, 0, e) != 0)
        goto out;
    have_state = 1;
    if (model_forward(&s, ids.v, T, base, 1, e) != 0)
        goto out;
    for (int i = 0; i < n; i++) {
        BenchStage *b = &st[i];
        b->sha256[0] = 0;
        b->probe_delta = 0;
        if (!b->adapter_dir)
            continue;
        char *cfg = fs_join(b->adapter_dir, "adapter_config.json");
        int exists = cfg && fs_exists(cfg);
        free(cfg);
        if (!exists) {
            err_set(e, "stage %s: no adapter in %s (train it first: infuse train %s)", b->name, b->adapter_dir,
                    b->name);
            goto out;
        }
        if (adapter_load(&b->lora, b->adapter_dir, &m->cfg, NULL, e) != 0) {
            err_prefix(e, "stage %s: ", b->name);
            goto out;
        }
        b->loaded = 1;
        if (adapter_hash(b->adapter_dir, b->sha256, e) != 0)
            goto out;
        int nonzero = 0;
        for (int l = 0; l < b->lora.n_layers && !nonzero; l++)
            for (int t = 0; t < LORA_N_TARGETS && !nonzero; t++) {
                const LoraMat *p = lora_mat(&b->lora, l, (LoraTarget)t);
                for (int k = 0; p && k < p->out * b->lora.rank && !nonzero; k++)
                    nonzero = p->B[k] != 0;
            }
        if (!nonzero) {
            err_set(e, "stage %s: the adapter in %s is empty (every lora_B is zero: it was never trained)", b->name,
                    b->adapter_dir);
            goto out;
        }
        if (runstate_set_lora(&s, &b->lora, e) != 0 || model_forward(&s, ids.v, T, with, 1, e) != 0)
            goto out;
        for (long k = 0; k < (long)V * T; k++) {
            double d = fabs((double)with[k] - base[k]);
            b->probe_delta = d > b->probe_delta ? d : b->probe_delta;
        }
        if (!(b->probe_delta > 1e-6)) {
            err_set(e, "stage %s: the adapter in %s changes no logit of the base model on a probe prompt", b->name,
                    b->adapter_dir);
            goto out;
        }
        runstate_set_lora(&s, NULL, e);
    }
    rc = 0;
out:
    if (have_state)
        runstate_free(&s);
    free(base);
    free(with);
    tokids_free(&ids);
    if (rc)
        stage_bench_release(st, n);
    return rc;
}

void stage_bench_release(BenchStage *st, int n)
{
    for (int i = 0; i < n; i++)
        if (st[i].loaded) {
            lora_free(&st[i].lora);
            st[i].loaded = 0;
        }
}

/* One stage's answer as it is generated. */
typedef struct Seq {
    RunState s;
    StrBuf text;
    int n_tok, done;
    double decode_s;            /* its share of the batched steps */
} Seq;

/* Cuts the text at the first stop string; 1 if one was found. */
static int cut_at_stop(Seq *q, const char *const *stops)
{
    for (const char *const *s = stops; *s; s++) {
        const char *hit = q->text.s ? memmem(q->text.s, q->text.n, *s, strlen(*s)) : NULL;
        if (hit) {
            q->text.n = (size_t)(hit - q->text.s);
            q->text.s[q->text.n] = 0;
            return 1;
        }
    }
    return 0;
}

/* The answer as text: ill-formed bytes become U+FFFD, ends trimmed. */
static char *finish_text(const Seq *q)
{
    const size_t n = q->text.n;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)q->text.s;
    for (size_t i = 0; i < n;) {
        size_t len;
        if (utf8_char(u + i, n - i, &len) == UTF8_OK) {
            memcpy(out + o, u + i, len);
            o += len;
        } else {
            memcpy(out + o, UTF8_REPLACEMENT, 3);
            o += 3;
        }
        i += len;
    }
    out[o] = 0;
    size_t b = 0;
    while (out[b] == ' ' || out[b] == '\n')
        b++;
    while (o > b && (out[o - 1] == ' ' || out[o - 1] == '\n'))
        out[--o] = 0;
    if (b)
        memmove(out, out + b, o - b + 1);
    return out;
}

static int argmax(const float *x, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b])
            b = i;
    return b;
}

void bench_summary_add(BenchSummary *m, BenchKind kind, const EvalScore *score)
{
    switch (kind) {
    case BENCH_PROBE: m->n_probe++, m->probe_correct += score->correct; break;
    case BENCH_GOLDEN: m->n_golden++, m->golden_correct += score->correct; break;
    case BENCH_TAUGHT: m->n_taught++, m->taught_correct += score->correct; break;
    default:
        m->n++;
        m->correct += score->correct;
        m->f1 += score->f1;
        m->rouge_l += score->rouge_l;
        m->exact += score->exact;
    }
}

int stage_bench_run(const Model *m, const Tokenizer *tok, Pool *pool, BenchStage *st, int n_stages,
                    const BenchItem *items, int n_items, const BenchOptions *o, BenchAnswer *ans, BenchSummary *sum,
                    BenchProgress progress, void *ctx, Err *e)
{
    const int V = m->cfg.vocab;
    memset(sum, 0, sizeof *sum * (size_t)n_stages);
    memset(ans, 0, sizeof *ans * (size_t)n_items * (size_t)n_stages);
    Seq *q = calloc((size_t)n_stages, sizeof *q);
    float *logits = malloc(sizeof(float) * (size_t)V * (size_t)n_stages);
    double *prefill_s = calloc((size_t)n_stages, sizeof *prefill_s), *decode_s = calloc((size_t)n_stages, sizeof *decode_s);
    int32_t eos[GEN_MAX_END_IDS];
    const int n_eos = (int)gen_end_ids(m, tok, 1, eos);
    const char *const *stops = chat_template_stops(o->tmpl);
    int rc = -1, inited = 0;
    if (n_stages < 1 || n_stages > 16) {
        err_set(e, "bench: 1 to 16 stages (got %d)", n_stages);
        goto out;
    }
    if (!q || !logits || !prefill_s || !decode_s) {
        err_set(e, "out of memory");
        goto out;
    }
    const int ctx_len = 4096 < m->cfg.max_pos ? 4096 : m->cfg.max_pos;
    for (; inited < n_stages; inited++) {
        if (runstate_init(&q[inited].s, m, pool, ctx_len, 0, e) != 0 ||
            runstate_set_lora(&q[inited].s, st[inited].adapter_dir ? &st[inited].lora : NULL, e) != 0)
            goto out;
    }
    for (int it = 0; it < n_items; it++) {
        ChatMessage msg = {CHAT_USER, items[it].question};
        char *prompt = chat_render(o->tmpl, o->system, &msg, 1, 1, NULL, NULL, e);
        TokIds ids = {0};
        if (!prompt || tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, e) != 0) {
            free(prompt);
            goto out;
        }
        free(prompt);
        int32_t next[16];
        /* room for the whole reference: a long Golden answer cut short
         * would score low for the cut, not for what was said */
        int budget = o->max_tokens;
        if (items[it].reference[0]) {
            TokIds ref = {0};
            if (tokenizer_encode(tok, items[it].reference, strlen(items[it].reference), 0, &ref, e) != 0) {
                tokids_free(&ids);
                goto out;
            }
            if ((int)ref.n + 8 > budget)
                budget = (int)ref.n + 8;
            tokids_free(&ref);
        }
        if ((int)ids.n + budget + 1 > ctx_len)
            budget = ctx_len - (int)ids.n - 1;
        /* each stage prefills on its own (its adapter, its cache) */
        for (int s = 0; s < n_stages; s++) {
            q[s].text.n = 0, q[s].n_tok = 0, q[s].done = budget <= 0;
            if (q[s].text.s)
                q[s].text.s[0] = 0;
            runstate_reset(&q[s].s);
            double t0 = now_s();
            if (model_forward(&q[s].s, ids.v, (int)ids.n, logits, 0, e) != 0) {
                tokids_free(&ids);
                goto out;
            }
            prefill_s[s] += now_s() - t0;
            sum[s].prompt_tokens += (long)ids.n;
            next[s] = argmax(logits, V);
        }
        tokids_free(&ids);
        /* then decode together, dropping each stage when it ends */
        for (;;) {
            RunState *act[16];
            int idx[16], na = 0;
            for (int s = 0; s < n_stages; s++) {
                if (q[s].done)
                    continue;
                int is_eos = 0;
                for (int k = 0; k < n_eos; k++)
                    is_eos |= next[s] == eos[k];
                size_t bl = 0;
                const char *b = is_eos ? NULL : tokenizer_token_bytes(tok, next[s], &bl);
                if (is_eos) {
                    q[s].done = 1;
                    continue;
                }
                if (b && strbuf_put(&q[s].text, b, bl) != 0) {
                    err_set(e, "out of memory");
                    goto out;
                }
                q[s].n_tok++;
                if (cut_at_stop(&q[s], stops) || q[s].n_tok >= budget) {
                    q[s].done = 1;
                    continue;
                }
                act[na] = &q[s].s;
                idx[na++] = s;
            }
            if (na == 0)
                break;
            int32_t toks[16];
            for (int k = 0; k < na; k++)
                toks[k] = next[idx[k]];
            double t0 = now_s();
            if (model_forward_multi(act, na, toks, logits, e) != 0)
                goto out;
            double dt = now_s() - t0;
            for (int k = 0; k < na; k++) {
                decode_s[idx[k]] += dt / na;  /* each shares the step's time */
                next[idx[k]] = argmax(logits + (long)k * V, V);
            }
        }
        for (int s = 0; s < n_stages; s++) {
            BenchAnswer *a = &ans[(long)it * n_stages + s];
            a->text = finish_text(&q[s]);
            a->n_tokens = q[s].n_tok;
            eval_score(a->text, items[it].reference, items[it].keywords, items[it].n_keywords, &o->rule, &a->score);
            sum[s].gen_tokens += q[s].n_tok;
            bench_summary_add(&sum[s], items[it].kind, &a->score);
        }
        if (progress && progress(ctx, it + 1, n_items, &ans[(long)it * n_stages]) != 0) {
            err_set(e, "stopped after %d of %d questions", it + 1, n_items);
            goto out;
        }
    }
    for (int s = 0; s < n_stages; s++) {
        if (sum[s].n) {
            sum[s].f1 /= sum[s].n;
            sum[s].rouge_l /= sum[s].n;
            sum[s].exact /= sum[s].n;
        }
        sum[s].prefill_tps = prefill_s[s] > 0 ? (double)sum[s].prompt_tokens / prefill_s[s] : 0;
        sum[s].decode_tps = decode_s[s] > 0 ? (double)sum[s].gen_tokens / decode_s[s] : 0;
    }
    rc = 0;
out:
    for (int s = 0; s < inited; s++)
        runstate_free(&q[s].s);
    if (q)
        for (int s = 0; s < n_stages; s++)
            strbuf_free(&q[s].text);
    free(q);
    free(logits);
    free(prefill_s);
    free(decode_s);
    return rc;
}
