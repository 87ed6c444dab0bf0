/* forward.c - one chunk of tokens through the transformer (see forward.h). */
#include "forward.h"
#include "attention.h"
#include "ops.h"

#include <string.h>

static void add_bias(float *x, const float *b, int T, int n, int ld)
{
    for (int t = 0; t < T; t++)
        add_inplace(x + (long)t * ld, b, n);
}

/* The row-wise steps between the products, split over the pool's threads by
 * rows (prefill would otherwise leave all but one core idle for ~10% of
 * its time).  Each kind reads and writes only its own rows. */
typedef enum { ROW_NORM, ROW_ADD_NORM, ROW_SWIGLU, ROW_ROPE } RowKind;

typedef struct RowJob {
    RowKind kind;
    RunState *s;
    int T;
    const float *w;         /* norm weight */
    float *a;               /* ROW_ROPE: q; ROW_SWIGLU: gate */
    float *b;               /* ROW_ROPE: new keys; ROW_SWIGLU: up */
} RowJob;

static void row_task(void *arg, int ith, int nth)
{
    RowJob *j = arg;
    RunState *s = j->s;
    const ModelConfig *c = &s->m->cfg;
    const int H = c->hidden, I = c->intermediate, hd = c->head_dim;
    int t0, t1;
    pool_range(j->T, ith, nth, 1, &t0, &t1);
    if (t0 >= t1)
        return;
    const int n = t1 - t0;
    switch (j->kind) {
    case ROW_ADD_NORM:  /* x += xn (a projection's output), then xn = norm(x) */
        add_inplace(s->x + (long)t0 * H, s->xn + (long)t0 * H, (long)n * H);
        /* fall through */
    case ROW_NORM:
        rmsnorm_forward(s->xn + (long)t0 * H, s->x + (long)t0 * H, j->w, n, H, c->norm_eps);
        break;
    case ROW_SWIGLU:
        swiglu_forward(j->a + (long)t0 * I, j->b + (long)t0 * I, (long)n * I);
        break;
    case ROW_ROPE:
        rope_forward(j->a + (long)t0 * c->n_heads * hd, n, c->n_heads, hd, s->n_past + t0, s->rope_cos, s->rope_sin);
        rope_forward(j->b + (long)t0 * c->n_kv_heads * hd, n, c->n_kv_heads, hd, s->n_past + t0, s->rope_cos,
                     s->rope_sin);
        break;
    }
}

static void rows(RowKind kind, RunState *s, int T, const float *w, float *a, float *b)
{
    RowJob j = {kind, s, T, w, a, b};
    if (T == 1)
        row_task(&j, 0, 1);
    else
        pool_run(s->pool, row_task, &j);
}

/* The rows of one forward call: T tokens of one sequence (positions
 * n_past ...), or one token from each of T sequences, each with its own
 * cache, position and adapter (seq != NULL: batched decode across stages).
 * Buffers are s's either way. */
typedef struct Rows {
    RunState *s;
    RunState *const *seq;   /* NULL, or T sequences (s is seq[0]) */
    int T;
} Rows;

static void add_lora(const Rows *r, int l, LoraTarget t, float *y, int ldy, const float *x)
{
    const int in = t == LORA_O ? r->s->m->cfg.n_heads * r->s->m->cfg.head_dim
                 : t == LORA_DOWN ? r->s->m->cfg.intermediate : r->s->m->cfg.hidden;
    if (!r->seq) {
        if (r->s->lora)
            lora_apply(r->s->lora, l, t, y, ldy, x, r->T, r->s->lu);
        return;
    }
    for (int i = 0; i < r->T; i++)
        if (r->seq[i]->lora)
            lora_apply(r->seq[i]->lora, l, t, y + (long)i * ldy, ldy, x + (long)i * in, 1, r->seq[i]->lu);
}

static void forward_rows(const Rows *r, const int32_t *tok, float *logits, int all)
{
    RunState *s = r->s;
    const int T = r->T;
    const Model *m = s->m;
    const ModelConfig *c = &m->cfg;
    const int H = c->hidden, I = c->intermediate, hd = c->head_dim;
    const int Q = c->n_heads * hd, KV = c->n_kv_heads * hd;
    const int pos0 = s->n_past;
    Matmul *mm = &s->mm;

    for (int t = 0; t < T; t++)
        mat_row_f32(&m->embed, tok[t], s->x + (long)t * H);

    for (int l = 0; l < c->n_layers; l++) {
        const LayerWeights *w = &m->layers[l];
        float *kc = s->kc + (long)l * s->ctx * KV, *vc = s->vc + (long)l * s->ctx * KV;
        /* One sequence writes its new keys and values straight into its
         * cache; rows of several go through hg/hu and are copied to theirs. */
        float *knew = r->seq ? s->hg : kc + (long)pos0 * KV, *vnew = r->seq ? s->hu : vc + (long)pos0 * KV;

        /* The previous layer's MLP output (in xn) joins the residual here. */
        rows(l == 0 ? ROW_NORM : ROW_ADD_NORM, s, T, w->attn_norm, NULL, NULL);
        MatmulOut qkv[3] = {{s->q, Q, &w->q}, {knew, KV, &w->k}, {vnew, KV, &w->v}};
        matmul_many(mm, s->xn, T, 3, qkv);
        add_lora(r, l, LORA_Q, s->q, Q, s->xn);
        add_lora(r, l, LORA_K, knew, KV, s->xn);
        add_lora(r, l, LORA_V, vnew, KV, s->xn);
        if (w->bq) {
            add_bias(s->q, w->bq, T, Q, Q);
            add_bias(knew, w->bk, T, KV, KV);
            add_bias(vnew, w->bv, T, KV, KV);
        }
        if (!r->seq) {
            rows(ROW_ROPE, s, T, NULL, s->q, knew);
            AttnArgs a = {s->att, s->q, kc, vc, T, pos0, c->n_heads, c->n_kv_heads, hd, s->scores, s->ctx};
            attention_forward(s->pool, &a);
        } else {
            for (int i = 0; i < T; i++) {
                RunState *q = r->seq[i];
                const int pos = q->n_past;
                float *qkc = q->kc + (long)l * q->ctx * KV, *qvc = q->vc + (long)l * q->ctx * KV;
                rope_forward(s->q + (long)i * Q, 1, c->n_heads, hd, pos, s->rope_cos, s->rope_sin);
                rope_forward(knew + (long)i * KV, 1, c->n_kv_heads, hd, pos, s->rope_cos, s->rope_sin);
                memcpy(qkc + (long)pos * KV, knew + (long)i * KV, sizeof(float) * (size_t)KV);
                memcpy(qvc + (long)pos * KV, vnew + (long)i * KV, sizeof(float) * (size_t)KV);
                AttnArgs a = {s->att + (long)i * Q, s->q + (long)i * Q, qkc, qvc, 1, pos, c->n_heads,
                              c->n_kv_heads, hd, s->scores, s->ctx};
                attention_forward(s->pool, &a);
            }
        }
        matmul(mm, s->xn, H, s->att, T, &w->o);
        add_lora(r, l, LORA_O, s->xn, H, s->att);
        rows(ROW_ADD_NORM, s, T, w->mlp_norm, NULL, NULL);
        MatmulOut gu[2] = {{s->hg, I, &w->gate}, {s->hu, I, &w->up}};
        matmul_many(mm, s->xn, T, 2, gu);
        add_lora(r, l, LORA_GATE, s->hg, I, s->xn);
        add_lora(r, l, LORA_UP, s->hu, I, s->xn);
        rows(ROW_SWIGLU, s, T, NULL, s->hg, s->hu);
        matmul(mm, s->xn, H, s->hg, T, &w->down);
        add_lora(r, l, LORA_DOWN, s->xn, H, s->hg);
    }
    add_inplace(s->x, s->xn, (long)T * H);
    if (r->seq)
        for (int i = 0; i < T; i++)
            r->seq[i]->n_past++;
    else
        s->n_past += T;
    if (!logits)
        return;
    if (all || r->seq) {
        rmsnorm_forward(s->xn, s->x, m->final_norm, T, H, c->norm_eps);
        matmul(mm, logits, c->vocab, s->xn, T, &m->lm_head);
    } else {
        const float *last = s->x + (long)(T - 1) * H;
        rmsnorm_forward(s->xn, last, m->final_norm, 1, H, c->norm_eps);
        matmul(mm, logits, c->vocab, s->xn, 1, &m->lm_head);
    }
}

int model_forward(RunState *s, const int32_t *tokens, int T, float *logits, int all, Err *e)
{
    const ModelConfig *c = &s->m->cfg;
    if (T <= 0)
        return err_set(e, "forward: no tokens");
    if (s->n_past + T > s->ctx)
        return err_set(e, "forward: %d positions exceed the context of %d", s->n_past + T, s->ctx);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= c->vocab)
            return err_set(e, "forward: token id %d is outside the vocabulary (0..%d)", tokens[t], c->vocab - 1);
    for (int done = 0; done < T;) {
        int n = T - done < s->t_max ? T - done : s->t_max;
        int last = done + n == T;
        float *out = NULL;
        if (all)
            out = logits + (long)done * c->vocab;
        else if (last)
            out = logits;
        Rows r = {s, NULL, n};
        forward_rows(&r, tokens + done, out, all);
        done += n;
    }
    return 0;
}

int model_forward_multi(RunState *const *seq, int n, const int32_t *tokens, float *logits, Err *e)
{
    RunState *s = seq[0];
    const ModelConfig *c = &s->m->cfg;
    if (n <= 0 || n > s->t_max)
        return err_set(e, "forward: %d sequences for a state of %d rows", n, s->t_max);
    for (int i = 0; i < n; i++) {
        if (seq[i]->m != s->m)
            return err_set(e, "forward: sequences of different models");
        if (seq[i]->n_past + 1 > seq[i]->ctx)
            return err_set(e, "forward: sequence %d is at the end of its context of %d", i, seq[i]->ctx);
        if (tokens[i] < 0 || tokens[i] >= c->vocab)
            return err_set(e, "forward: token id %d is outside the vocabulary (0..%d)", tokens[i], c->vocab - 1);
    }
    Rows r = {s, seq, n};
    forward_rows(&r, tokens, logits, 1);
    return 0;
}
