/* lora.c - LoRA adapter memory and PEFT initialisation (see lora.h). */
#include "lora.h"
#include "rng.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[LORA_N_TARGETS] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
static const char *const short_names[LORA_N_TARGETS] = {"q", "k", "v", "o", "gate", "up", "down"};

const char *lora_target_name(LoraTarget t) { return (unsigned)t < LORA_N_TARGETS ? names[t] : "?"; }

int lora_target_parse(const char *name)
{
    for (int t = 0; t < LORA_N_TARGETS; t++)
        if (strcmp(name, names[t]) == 0 || strcmp(name, short_names[t]) == 0)
            return t;
    return -1;
}

void lora_target_shape(const ModelConfig *c, LoraTarget t, int *in, int *out)
{
    const int H = c->hidden, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim, FF = c->intermediate;
    switch (t) {
    case LORA_Q: *in = H, *out = Q; break;
    case LORA_K:
    case LORA_V: *in = H, *out = KV; break;
    case LORA_O: *in = Q, *out = H; break;
    case LORA_GATE:
    case LORA_UP: *in = H, *out = FF; break;
    default: *in = FF, *out = H; break;
    }
}

/* Allocates every targeted pair, zeroed. */
static int alloc_pairs(Lora *l, const int (*shape)[2], Err *e)
{
    l->mats = calloc((size_t)l->n_layers * LORA_N_TARGETS, sizeof *l->mats);
    if (!l->mats)
        return err_set(e, "lora: out of memory");
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            if (!(l->targets >> t & 1))
                continue;
            LoraMat *m = &l->mats[i * LORA_N_TARGETS + t];
            m->in = shape[t][0], m->out = shape[t][1];
            m->A = calloc((size_t)l->rank * (size_t)m->in, sizeof(float));
            m->B = calloc((size_t)m->out * (size_t)l->rank, sizeof(float));
            if (!m->A || !m->B) {
                lora_free(l);
                return err_set(e, "lora: out of memory for rank %d", l->rank);
            }
        }
    return 0;
}

int lora_init(Lora *l, const ModelConfig *c, int rank, float alpha, float dropout, unsigned targets,
              uint64_t seed, Err *e)
{
    memset(l, 0, sizeof *l);
    if (rank < 1)
        return err_set(e, "lora: rank must be at least 1 (got %d)", rank);
    if (!(targets & LORA_ALL_TARGETS))
        return err_set(e, "lora: no target modules");
    if (!(dropout >= 0 && dropout < 1))
        return err_set(e, "lora: dropout must be in [0, 1) (got %g)", dropout);
    l->rank = rank, l->alpha = alpha, l->dropout = dropout, l->targets = targets & LORA_ALL_TARGETS;
    l->n_layers = c->n_layers;
    int shape[LORA_N_TARGETS][2];
    for (int t = 0; t < LORA_N_TARGETS; t++)
        lora_target_shape(c, (LoraTarget)t, &shape[t][0], &shape[t][1]);
    if (alloc_pairs(l, (const int(*)[2])shape, e) != 0)
        return -1;
    /* PEFT: kaiming_uniform_(A, a=sqrt(5)) is U(-1/sqrt(in), 1/sqrt(in)); B = 0. */
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            if (!m)
                continue;
            float bound = 1.0f / sqrtf((float)m->in);
            for (size_t k = 0; k < (size_t)rank * (size_t)m->in; k++)
                m->A[k] = (float)((rng_uniform(&r) * 2 - 1) * bound);
        }
    return 0;
}

int lora_init_like(Lora *l, const Lora *like, Err *e)
{
    memset(l, 0, sizeof *l);
    l->rank = like->rank, l->alpha = like->alpha, l->dropout = like->dropout, l->rslora = like->rslora;
    l->targets = like->targets, l->n_layers = like->n_layers;
    int shape[LORA_N_TARGETS][2] = {{0}};
    for (int t = 0; t < LORA_N_TARGETS; t++)
        for (int i = 0; i < like->n_layers; i++) {
            const LoraMat *m = &like->mats[i * LORA_N_TARGETS + t];
            if (m->A) {
                shape[t][0] = m->in, shape[t][1] = m->out;
                break;
            }
        }
    return alloc_pairs(l, (const int(*)[2])shape, e);
}

void lora_free(Lora *l)
{
    if (l->mats)
        for (int i = 0; i < l->n_layers * LORA_N_TARGETS; i++) {
            free(l->mats[i].A);
            free(l->mats[i].B);
        }
    free(l->mats);
    l->mats = NULL;
}

size_t lora_params(const Lora *l)
{
    size_t n = 0;
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            const LoraMat *m = lora_mat(l, i, (LoraTarget)t);
            if (m)
                n += (size_t)l->rank * (size_t)(m->in + m->out);
        }
    return n;
}

void lora_apply(const Lora *l, int layer, LoraTarget t, float *y, int ldy, const float *x, int T, float *lu)
{
    const LoraMat *p = lora_mat(l, layer, t);
    if (!p)
        return;
    const int r = l->rank;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, r, p->in, 1.0f, x, p->in, p->A, p->in, 0.0f, lu, r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, p->out, r, lora_scale(l), lu, r, p->B, r, 1.0f, y, ldy);
}
