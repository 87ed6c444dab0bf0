/* train_step.c - a training step's forward and backward through the layers (see train_step.h). */
#include "train_step.h"
#include "attention.h"
#include "gemm.h"
#include "linear.h"
#include "loss.h"
#include "ops.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define N_BUF 40

/* Every buffer of the state with its size in floats, so that allocation,
 * freeing and accounting walk one list. */
typedef struct Buf {
    float **ptr;
    size_t n;
} Buf;

static int layout(TrainState *s, Buf *b)
{
    const ModelConfig *c = &s->m->cfg;
    const size_t L = (size_t)c->n_layers, BT = (size_t)s->B * (size_t)s->T, H = (size_t)c->hidden;
    const size_t I = (size_t)c->intermediate, Q = (size_t)c->n_heads * (size_t)c->head_dim;
    const size_t KV = (size_t)c->n_kv_heads * (size_t)c->head_dim, V = (size_t)c->vocab;
    const size_t r = s->lora ? (size_t)s->lora->rank : 0;
    const size_t T = (size_t)s->T, wide = H > I ? (H > Q ? H : Q) : (I > Q ? I : Q);
    const size_t nth = (size_t)pool_threads(s->pool);
    int k = 0;
#define ADD(p, count) (b[k].ptr = &s->p, b[k].n = (count), k++)
    ADD(x, (L + 1) * BT * H);
    ADD(h, L * BT * H);
    ADD(xn1, L * BT * H);
    ADD(xn2, L * BT * H);
    ADD(r1, L * BT);
    ADD(r2, L * BT);
    ADD(q, L * BT * Q);
    ADD(k, L * BT * KV);
    ADD(v, L * BT * KV);
    ADD(p, L * (size_t)s->B * (size_t)c->n_heads * T * T);
    ADD(att, L * BT * Q);
    ADD(g, L * BT * I);
    ADD(u, L * BT * I);
    ADD(act, L * BT * I);
    ADD(lu, L * LORA_N_TARGETS * BT * r);
    ADD(xf, BT * H);
    ADD(rf, BT);
    ADD(logits, BT * V);
    ADD(row_loss, BT);
    ADD(dx, BT * H);
    ADD(dh, BT * H);
    ADD(dxn, BT * H);
    ADD(dq, BT * Q);
    ADD(dk, BT * KV);
    ADD(dv, BT * KV);
    ADD(datt, BT * Q);
    ADD(dg, BT * I);
    ADD(du, BT * I);
    ADD(dact, BT * I);
    ADD(tmp, BT * wide);
    ADD(dlu, BT * (r ? r : 1));
    ADD(dp, nth * T * T);
    ADD(rope_cos, T * (size_t)(c->head_dim / 2));
    ADD(rope_sin, T * (size_t)(c->head_dim / 2));
#undef ADD
    return k;
}

int train_state_init(TrainState *s, const Model *m, const Lora *lora, Lora *lora_grad, Model *grad, Pool *pool,
                     int B, int T, Err *e)
{
    memset(s, 0, sizeof *s);
    if (m->dtype != DT_F32 || m->embed.dtype != DT_F32)
        return err_set(e, "training needs F32 weights (copy the model with model_clone_f32 first)");
    if (B < 1 || T < 2)
        return err_set(e, "training batch must have at least 1 row of 2 tokens (got %d x %d)", B, T);
    if (lora && lora->n_layers != m->cfg.n_layers)
        return err_set(e, "the adapter has %d layers, the model %d", lora->n_layers, m->cfg.n_layers);
    s->m = m, s->lora = lora, s->lora_grad = lora_grad, s->grad = grad, s->pool = pool, s->B = B, s->T = T;
    Buf b[N_BUF];
    int n = layout(s, b);
    for (int i = 0; i < n; i++) {
        *b[i].ptr = malloc((b[i].n ? b[i].n : 1) * sizeof(float));
        if (!*b[i].ptr) {
            train_state_free(s);
            return err_set(e, "out of memory for training activations (batch %d x %d)", B, T);
        }
    }
    const ModelConfig *c = &m->cfg;
    rope_tables(s->rope_cos, s->rope_sin, T, c->head_dim, c->rope_theta, c->rope_factor, c->rope_low_freq,
                c->rope_high_freq, c->rope_orig_max_pos);
    return 0;
}

void train_state_free(TrainState *s)
{
    if (!s->m)
        return;
    Buf b[N_BUF];
    int n = layout(s, b);
    for (int i = 0; i < n; i++) {
        free(*b[i].ptr);
        *b[i].ptr = NULL;
    }
    s->m = NULL;
}

size_t train_state_bytes(const TrainState *s)
{
    Buf b[N_BUF];
    int n = layout((TrainState *)s, b);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += b[i].n * sizeof(float);
    return total;
}

/* The projection `t` of layer l as a Linear, with its gradients if trained. */
static Linear linear_of(const TrainState *s, int l, LoraTarget t)
{
    const LayerWeights *w = &s->m->layers[l];
    LayerWeights *gw = s->grad ? &s->grad->layers[l] : NULL;
    static const size_t off[LORA_N_TARGETS] = {offsetof(LayerWeights, q), offsetof(LayerWeights, k),
                                               offsetof(LayerWeights, v), offsetof(LayerWeights, o),
                                               offsetof(LayerWeights, gate), offsetof(LayerWeights, up),
                                               offsetof(LayerWeights, down)};
    Linear lin = {0};
    lin.W = (const Mat *)((const char *)w + off[t]);
    if (gw)
        lin.dW = (float *)((const Mat *)((const char *)gw + off[t]))->data;
    if (t == LORA_Q || t == LORA_K || t == LORA_V) {
        lin.bias = t == LORA_Q ? w->bq : t == LORA_K ? w->bk : w->bv;
        if (gw)
            lin.db = t == LORA_Q ? gw->bq : t == LORA_K ? gw->bk : gw->bv;
    }
    if (s->lora) {
        lin.lora = lora_mat(s->lora, l, t);
        lin.lora_grad = s->lora_grad && lin.lora ? lora_mat(s->lora_grad, l, t) : NULL;
        lin.rank = s->lora->rank;
        lin.scale = lora_scale(s->lora);
        lin.dropout = s->lora->dropout;
        lin.drop_key = s->drop_seed ^ (0x632be59bd9b4e019ull * (uint64_t)(l * LORA_N_TARGETS + (int)t + 1));
    }
    return lin;
}

static float *lu_of(const TrainState *s, int l, LoraTarget t)
{
    const size_t r = s->lora ? (size_t)s->lora->rank : 0;
    return s->lu + ((size_t)l * LORA_N_TARGETS + (size_t)t) * (size_t)s->B * (size_t)s->T * r;
}

/* ---- row-wise steps, split over the threads by rows ---- */

typedef enum { R_NORM, R_NORM_BWD, R_ROPE, R_ROPE_BWD, R_SWIGLU, R_SWIGLU_BWD } RowOp;

typedef struct RowJob {
    RowOp op;
    TrainState *s;
    int n;                  /* rows */
    float *out, *r;         /* NORM: out, 1/rms */
    const float *x, *w, *dy;
    float *dx;              /* NORM_BWD */
    float *dwp;             /* NORM_BWD: per-thread partial weight gradients [threads, H], or NULL */
    float *a, *b;           /* ROPE: q, k; SWIGLU: g/u; SWIGLU_BWD: dg, du */
    const float *ga, *ua;   /* SWIGLU(_BWD): gate, up */
} RowJob;

static void row_task(void *arg, int ith, int nth)
{
    RowJob *j = arg;
    TrainState *s = j->s;
    const ModelConfig *c = &s->m->cfg;
    const int H = c->hidden, I = c->intermediate, hd = c->head_dim, T = s->t;
    int r0, r1;
    pool_range(j->n, ith, nth, 1, &r0, &r1);
    if (r0 >= r1)
        return;
    const int n = r1 - r0;
    switch (j->op) {
    case R_NORM:
        rmsnorm_forward_r(j->out + (long)r0 * H, j->r + r0, j->x + (long)r0 * H, j->w, n, H, c->norm_eps);
        break;
    case R_NORM_BWD:  /* each thread's weight gradient apart, added in thread order after */
        if (j->dwp)
            memset(j->dwp + (long)ith * H, 0, sizeof(float) * (size_t)H);
        rmsnorm_backward(j->dx + (long)r0 * H, j->dwp ? j->dwp + (long)ith * H : NULL, j->dy + (long)r0 * H,
                         j->x + (long)r0 * H, j->r + r0, j->w, n, H);
        break;
    case R_ROPE:
    case R_ROPE_BWD:
        for (int i = r0; i < r1; i++) {
            const int pos = i % T;
            void (*f)(float *, int, int, int, int, const float *, const float *) =
                j->op == R_ROPE ? rope_forward : rope_backward;
            f(j->a + (long)i * c->n_heads * hd, 1, c->n_heads, hd, pos, s->rope_cos, s->rope_sin);
            f(j->b + (long)i * c->n_kv_heads * hd, 1, c->n_kv_heads, hd, pos, s->rope_cos, s->rope_sin);
        }
        break;
    case R_SWIGLU:
        swiglu_forward_to(j->out + (long)r0 * I, j->ga + (long)r0 * I, j->ua + (long)r0 * I, (long)n * I);
        break;
    case R_SWIGLU_BWD:
        swiglu_backward(j->a + (long)r0 * I, j->b + (long)r0 * I, j->dy + (long)r0 * I, j->ga + (long)r0 * I,
                        j->ua + (long)r0 * I, (long)n * I);
        break;
    }
}

static void rows(RowJob j) { pool_run(j.s->pool, row_task, &j); }

/* The norm's backward over all rows: dx += ..., and dw (if not NULL) +=
 * the weight gradient, summed from per-thread partials in thread order so
 * that a run is reproducible for a given thread count. */
static void norm_backward(TrainState *s, int n, float *dx, float *dw, const float *dy, const float *x,
                          const float *r, const float *w)
{
    const int H = s->m->cfg.hidden, nth = pool_threads(s->pool);
    /* tmp is free between the projections; it holds [threads, H] easily */
    rows((RowJob){.op = R_NORM_BWD, .s = s, .n = n, .dx = dx, .dwp = dw ? s->tmp : NULL, .dy = dy, .x = x, .r = (float *)r,
                  .w = w});
    if (!dw)
        return;
    for (int t = 0; t < nth; t++) {
        int r0, r1;
        pool_range(n, t, nth, 1, &r0, &r1);
        if (r0 < r1)
            for (int k = 0; k < H; k++)
                dw[k] += s->tmp[(long)t * H + k];
    }
}

/* ---- forward ---- */

int train_forward(TrainState *s, const Batch *b, int training, uint64_t drop_seed, double *loss_sum,
                  double *weight_sum, Err *e)
{
    const Model *m = s->m;
    const ModelConfig *c = &m->cfg;
    if (b->B > s->B || b->T > s->T)
        return err_set(e, "batch %d x %d exceeds the training state's %d x %d", b->B, b->T, s->B, s->T);
    s->b = b->B, s->t = b->T, s->training = training, s->drop_seed = drop_seed;
    const int H = c->hidden, I = c->intermediate, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    const int BT = b->B * b->T;
    const long cap = (long)s->B * s->T;
    for (int i = 0; i < BT; i++) {
        int32_t id = b->tok[i];
        if (id < 0 || id >= c->vocab)
            return err_set(e, "token id %d is outside the vocabulary (0..%d)", id, c->vocab - 1);
        memcpy(s->x + (long)i * H, (const float *)m->embed.data + (long)id * H, sizeof(float) * (size_t)H);
    }
    for (int l = 0; l < c->n_layers; l++) {
        const LayerWeights *w = &m->layers[l];
        float *x = s->x + l * cap * H, *xn1 = s->xn1 + l * cap * H, *xn2 = s->xn2 + l * cap * H;
        float *q = s->q + l * cap * Q, *k = s->k + l * cap * KV, *v = s->v + l * cap * KV;
        float *att = s->att + l * cap * Q, *h = s->h + l * cap * H;
        float *g = s->g + l * cap * I, *u = s->u + l * cap * I, *act = s->act + l * cap * I;
        float *xnext = s->x + (l + 1) * cap * H;
        rows((RowJob){.op = R_NORM, .s = s, .n = BT, .out = xn1, .r = s->r1 + l * cap, .x = x, .w = w->attn_norm});
        Linear lq = linear_of(s, l, LORA_Q), lk = linear_of(s, l, LORA_K), lv = linear_of(s, l, LORA_V);
        linear_forward(s->pool, &lq, xn1, BT, q, lu_of(s, l, LORA_Q), s->tmp, training);
        linear_forward(s->pool, &lk, xn1, BT, k, lu_of(s, l, LORA_K), s->tmp, training);
        linear_forward(s->pool, &lv, xn1, BT, v, lu_of(s, l, LORA_V), s->tmp, training);
        rows((RowJob){.op = R_ROPE, .s = s, .n = BT, .a = q, .b = k});
        AttnTrain at = {q, k, v, s->p + l * (long)s->B * c->n_heads * s->T * s->T, att, b->B, b->T, c->n_heads,
                        c->n_kv_heads, c->head_dim, NULL, NULL, NULL, NULL, s->dp};
        attention_train_forward(s->pool, &at);
        Linear lo = linear_of(s, l, LORA_O);
        linear_forward(s->pool, &lo, att, BT, h, lu_of(s, l, LORA_O), s->tmp, training);
        add_inplace(h, x, (long)BT * H);
        rows((RowJob){.op = R_NORM, .s = s, .n = BT, .out = xn2, .r = s->r2 + l * cap, .x = h, .w = w->mlp_norm});
        Linear lg = linear_of(s, l, LORA_GATE), lup = linear_of(s, l, LORA_UP), ld = linear_of(s, l, LORA_DOWN);
        linear_forward(s->pool, &lg, xn2, BT, g, lu_of(s, l, LORA_GATE), s->tmp, training);
        linear_forward(s->pool, &lup, xn2, BT, u, lu_of(s, l, LORA_UP), s->tmp, training);
        rows((RowJob){.op = R_SWIGLU, .s = s, .n = BT, .out = act, .ga = g, .ua = u});
        linear_forward(s->pool, &ld, act, BT, xnext, lu_of(s, l, LORA_DOWN), s->tmp, training);
        add_inplace(xnext, h, (long)BT * H);
    }
    const float *xl = s->x + (long)c->n_layers * cap * H;
    rows((RowJob){.op = R_NORM, .s = s, .n = BT, .out = s->xf, .r = s->rf, .x = xl, .w = m->final_norm});
    gemm_nt(s->pool, BT, c->vocab, H, 1.0f, s->xf, H, (const float *)m->lm_head.data, H, 0.0f, s->logits,
            c->vocab);
    LossArgs la = {s->logits, b->B, b->T, c->vocab, b->tok, b->mask, b->weight, s->row_loss, 1.0f};
    loss_forward(s->pool, &la, loss_sum, weight_sum);
    return 0;
}

/* ---- backward ---- */

void train_backward(TrainState *s, const Batch *b, float scale)
{
    const Model *m = s->m;
    const ModelConfig *c = &m->cfg;
    const int H = c->hidden, I = c->intermediate, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    const int BT = b->B * b->T, V = c->vocab;
    const long cap = (long)s->B * s->T;
    Model *gm = s->grad;
    const int training = s->training;

    LossArgs la = {s->logits, b->B, b->T, V, b->tok, b->mask, b->weight, s->row_loss, scale};
    loss_backward(s->pool, &la);
    /* logits = xf E^T: dxf = dz E, dE += dz^T xf. */
    gemm_nn(s->pool, BT, H, V, 1.0f, s->logits, V, (const float *)m->lm_head.data, H, 0.0f, s->dxn, H);
    if (gm)
        gemm_tn(s->pool, V, H, BT, 1.0f, s->logits, V, s->xf, H, 1.0f, (float *)gm->lm_head.data, H);
    const float *xl = s->x + (long)c->n_layers * cap * H;
    memset(s->dx, 0, sizeof(float) * (size_t)BT * H);
    norm_backward(s, BT, s->dx, gm ? gm->final_norm : NULL, s->dxn, xl, s->rf, m->final_norm);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        const LayerWeights *w = &m->layers[l];
        LayerWeights *gw = gm ? &gm->layers[l] : NULL;
        float *x = s->x + l * cap * H, *xn1 = s->xn1 + l * cap * H, *xn2 = s->xn2 + l * cap * H;
        float *q = s->q + l * cap * Q, *k = s->k + l * cap * KV, *v = s->v + l * cap * KV;
        float *att = s->att + l * cap * Q, *h = s->h + l * cap * H;
        float *g = s->g + l * cap * I, *u = s->u + l * cap * I, *act = s->act + l * cap * I;
        float *r1 = s->r1 + l * cap, *r2 = s->r2 + l * cap;

        /* MLP: x_next = h + down(silu(gate(xn2)) up(xn2)); s->dx holds d x_next. */
        Linear lg = linear_of(s, l, LORA_GATE), lup = linear_of(s, l, LORA_UP), ld = linear_of(s, l, LORA_DOWN);
        linear_backward(s->pool, &ld, act, BT, s->dx, s->dact, 0.0f, lu_of(s, l, LORA_DOWN), s->dlu, s->tmp,
                        training);
        rows((RowJob){.op = R_SWIGLU_BWD, .s = s, .n = BT, .a = s->dg, .b = s->du, .dy = s->dact, .ga = g, .ua = u});
        linear_backward(s->pool, &lg, xn2, BT, s->dg, s->dxn, 0.0f, lu_of(s, l, LORA_GATE), s->dlu, s->tmp,
                        training);
        linear_backward(s->pool, &lup, xn2, BT, s->du, s->dxn, 1.0f, lu_of(s, l, LORA_UP), s->dlu, s->tmp,
                        training);
        /* dh = d x_next (the residual) + the norm's backward. */
        memcpy(s->dh, s->dx, sizeof(float) * (size_t)BT * H);
        norm_backward(s, BT, s->dh, gw ? gw->mlp_norm : NULL, s->dxn, h, r2, w->mlp_norm);

        /* Attention: h = x + o(attn(rope(q(xn1)), rope(k(xn1)), v(xn1))). */
        Linear lo = linear_of(s, l, LORA_O);
        linear_backward(s->pool, &lo, att, BT, s->dh, s->datt, 0.0f, lu_of(s, l, LORA_O), s->dlu, s->tmp, training);
        AttnTrain at = {q, k, v, s->p + l * (long)s->B * c->n_heads * s->T * s->T, att, b->B, b->T, c->n_heads,
                        c->n_kv_heads, c->head_dim, s->datt, s->dq, s->dk, s->dv, s->dp};
        attention_train_backward(s->pool, &at);
        rows((RowJob){.op = R_ROPE_BWD, .s = s, .n = BT, .a = s->dq, .b = s->dk});
        Linear lq = linear_of(s, l, LORA_Q), lk = linear_of(s, l, LORA_K), lv = linear_of(s, l, LORA_V);
        linear_backward(s->pool, &lq, xn1, BT, s->dq, s->dxn, 0.0f, lu_of(s, l, LORA_Q), s->dlu, s->tmp, training);
        linear_backward(s->pool, &lk, xn1, BT, s->dk, s->dxn, 1.0f, lu_of(s, l, LORA_K), s->dlu, s->tmp, training);
        linear_backward(s->pool, &lv, xn1, BT, s->dv, s->dxn, 1.0f, lu_of(s, l, LORA_V), s->dlu, s->tmp, training);
        /* dx = dh (the residual) + the norm's backward. */
        memcpy(s->dx, s->dh, sizeof(float) * (size_t)BT * H);
        norm_backward(s, BT, s->dx, gw ? gw->attn_norm : NULL, s->dxn, x, r1, w->attn_norm);
    }
    /* The embedding: each token's row gets its position's gradient. */
    if (gm) {
        float *dE = (float *)gm->embed.data;
        for (int i = 0; i < BT; i++) {
            float *row = dE + (long)b->tok[i] * H;
            const float *d = s->dx + (long)i * H;
            for (int k = 0; k < H; k++)
                row[k] += d[k];
        }
    }
}
