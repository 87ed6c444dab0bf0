/* runstate.c - sizing and allocation of inference buffers (see runstate.h). */
#include "runstate.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

static float *falloc(size_t n, size_t *total)
{
    *total += n * sizeof(float);
    return aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
}

int runstate_init(RunState *s, const Model *m, Pool *pool, int ctx, int t_max, Err *e)
{
    memset(s, 0, sizeof *s);
    const ModelConfig *c = &m->cfg;
    if (ctx <= 0)
        ctx = c->max_pos < 4096 ? c->max_pos : 4096;
    if (ctx > c->max_pos)
        ctx = c->max_pos;
    if (t_max <= 0)
        t_max = 256;
    if (t_max > ctx)
        t_max = ctx;
    s->m = m;
    s->pool = pool;
    s->ctx = ctx;
    s->t_max = t_max;
    const size_t H = (size_t)c->hidden, Q = (size_t)c->n_heads * c->head_dim;
    const size_t KV = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate;
    const size_t T = (size_t)t_max, L = (size_t)c->n_layers, nth = (size_t)pool_threads(pool);
    size_t total = 0;
    s->x = falloc(T * H, &total);
    s->xn = falloc(T * H, &total);
    s->q = falloc(T * Q, &total);
    s->att = falloc(T * Q, &total);
    s->hg = falloc(T * I, &total);
    s->hu = falloc(T * I, &total);
    s->kc = falloc(L * (size_t)ctx * KV, &total);
    s->vc = falloc(L * (size_t)ctx * KV, &total);
    s->scores = falloc(nth * T * (size_t)ctx, &total);
    s->rope_cos = falloc((size_t)ctx * (size_t)c->head_dim / 2, &total);
    s->rope_sin = falloc((size_t)ctx * (size_t)c->head_dim / 2, &total);
    int widest = c->hidden > c->intermediate ? c->hidden : c->intermediate;
    if ((int)Q > widest)
        widest = (int)Q;
    if (!s->x || !s->xn || !s->q || !s->att || !s->hg || !s->hu || !s->kc || !s->vc || !s->scores ||
        !s->rope_cos || !s->rope_sin || matmul_init(&s->mm, pool, widest) != 0) {
        runstate_free(s);
        return err_set(e, "%s: out of memory for a %d-position context (%zu MB)", m->dir, ctx, total >> 20);
    }
    rope_tables(s->rope_cos, s->rope_sin, ctx, c->head_dim, c->rope_theta, c->rope_factor, c->rope_low_freq,
                c->rope_high_freq, c->rope_orig_max_pos);
    return 0;
}

void runstate_free(RunState *s)
{
    free(s->x);
    free(s->xn);
    free(s->q);
    free(s->att);
    free(s->hg);
    free(s->hu);
    free(s->kc);
    free(s->vc);
    free(s->scores);
    free(s->lu);
    free(s->rope_cos);
    free(s->rope_sin);
    matmul_free(&s->mm);
    memset(s, 0, sizeof *s);
}

void runstate_reset(RunState *s) { s->n_past = 0; }

size_t runstate_bytes(const RunState *s)
{
    const ModelConfig *c = &s->m->cfg;
    size_t H = (size_t)c->hidden, Q = (size_t)c->n_heads * c->head_dim, KV = (size_t)c->n_kv_heads * c->head_dim;
    size_t T = (size_t)s->t_max, I = (size_t)c->intermediate;
    size_t n = T * (2 * H + 2 * Q + 2 * I) + 2 * (size_t)c->n_layers * (size_t)s->ctx * KV +
               (size_t)pool_threads(s->pool) * T * (size_t)s->ctx + (size_t)s->ctx * (size_t)c->head_dim;
    return n * sizeof(float) + s->mm.scratch_stride * (size_t)pool_threads(s->pool) * sizeof(float);
}

int runstate_set_lora(RunState *s, const Lora *l, Err *e)
{
    if (l && l->n_layers != s->m->cfg.n_layers)
        return err_set(e, "the adapter has %d layers, the model %d", l->n_layers, s->m->cfg.n_layers);
    if (l && l->rank > s->lu_rank) {
        float *lu = realloc(s->lu, sizeof(float) * (size_t)s->t_max * (size_t)l->rank);
        if (!lu)
            return err_set(e, "out of memory for the adapter");
        s->lu = lu;
        s->lu_rank = l->rank;
    }
    s->lora = l;
    runstate_reset(s);
    return 0;
}
