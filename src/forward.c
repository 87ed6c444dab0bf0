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

static void forward_chunk(RunState *s, const int32_t *tok, int T, float *logits, int all)
{
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
        float *knew = kc + (long)pos0 * KV, *vnew = vc + (long)pos0 * KV;

        /* The previous layer's MLP output (in xn) joins the residual here. */
        rows(l == 0 ? ROW_NORM : ROW_ADD_NORM, s, T, w->attn_norm, NULL, NULL);
        MatmulOut qkv[3] = {{s->q, Q, &w->q}, {knew, KV, &w->k}, {vnew, KV, &w->v}};
        matmul_many(mm, s->xn, T, 3, qkv);
        if (w->bq) {
            add_bias(s->q, w->bq, T, Q, Q);
            add_bias(knew, w->bk, T, KV, KV);
            add_bias(vnew, w->bv, T, KV, KV);
        }
        rows(ROW_ROPE, s, T, NULL, s->q, knew);

        AttnArgs a = {s->att, s->q, kc, vc, T, pos0, c->n_heads, c->n_kv_heads, hd, s->scores, s->ctx};
        attention_forward(s->pool, &a);
        matmul(mm, s->xn, H, s->att, T, &w->o);
        rows(ROW_ADD_NORM, s, T, w->mlp_norm, NULL, NULL);
        MatmulOut gu[2] = {{s->hg, I, &w->gate}, {s->hu, I, &w->up}};
        matmul_many(mm, s->xn, T, 2, gu);
        rows(ROW_SWIGLU, s, T, NULL, s->hg, s->hu);
        matmul(mm, s->xn, H, s->hg, T, &w->down);
    }
    add_inplace(s->x, s->xn, (long)T * H);
    s->n_past += T;
    if (!logits)
        return;
    if (all) {
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
        forward_chunk(s, tokens + done, n, out, all);
        done += n;
    }
    return 0;
}
