/* trainable.c - the trained tensors, gradients and moments (see trainable.h). */
#include "trainable.h"
#include "adapter.h"
#include "model_params.h"
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_lora(Trainable *t, Err *e)
{
    Lora *w = &t->lw;
    t->p = calloc((size_t)w->n_layers * LORA_N_TARGETS * 2, sizeof *t->p);
    t->names = calloc((size_t)w->n_layers * LORA_N_TARGETS * 2, sizeof *t->names);
    if (!t->p || !t->names)
        return err_set(e, "out of memory");
    for (int l = 0; l < w->n_layers; l++)
        for (int k = 0; k < LORA_N_TARGETS; k++) {
            LoraMat *a = lora_mat(w, l, (LoraTarget)k);
            if (!a)
                continue;
            LoraMat *g = lora_mat(&t->lg, l, (LoraTarget)k), *m = lora_mat(&t->l1, l, (LoraTarget)k),
                    *v = lora_mat(&t->l2, l, (LoraTarget)k);
            size_t na = (size_t)w->rank * (size_t)a->in, nb = (size_t)a->out * (size_t)w->rank;
            const char *part = k <= LORA_O ? "self_attn" : "mlp";
            snprintf(t->names[t->n], 96, "base_model.model.model.layers.%d.%s.%s.lora_A.weight", l, part,
                     lora_target_name((LoraTarget)k));
            t->p[t->n++] = (OptParam){a->A, g->A, m->A, v->A, na, 1};
            snprintf(t->names[t->n], 96, "base_model.model.model.layers.%d.%s.%s.lora_B.weight", l, part,
                     lora_target_name((LoraTarget)k));
            t->p[t->n++] = (OptParam){a->B, g->B, m->B, v->B, nb, 1};
        }
    return 0;
}

static int list_full(Trainable *t, Err *e)
{
    int np = model_param_count(&t->w.cfg);
    ModelParam *a = malloc(sizeof *a * (size_t)np * 4);
    t->p = calloc((size_t)np, sizeof *t->p);
    t->names = calloc((size_t)np, sizeof *t->names);
    if (!a || !t->p || !t->names) {
        free(a);
        return err_set(e, "out of memory");
    }
    model_params(&t->w, a);
    model_params(&t->g, a + np);
    model_params(&t->m1, a + 2 * np);
    model_params(&t->m2, a + 3 * np);
    for (int i = 0; i < np; i++) {
        memcpy(t->names[i], a[i].name, sizeof t->names[i]);
        t->p[i] = (OptParam){a[i].w, a[np + i].w, a[2 * np + i].w, a[3 * np + i].w,
                             (size_t)a[i].rows * (size_t)(a[i].cols ? a[i].cols : 1), a[i].decay};
    }
    t->n = np;
    free(a);
    return 0;
}

int trainable_init(Trainable *t, const Model *base, int full, int rank, float alpha, float dropout,
                   unsigned targets, int rslora, const char *init_adapter, uint64_t seed, Err *e)
{
    memset(t, 0, sizeof *t);
    t->full = full;
    if (model_clone_f32(&t->w, base, 0, e) != 0)
        return -1;
    int rc;
    if (full) {
        rc = model_clone_f32(&t->g, &t->w, 1, e) || model_clone_f32(&t->m1, &t->w, 1, e) ||
             model_clone_f32(&t->m2, &t->w, 1, e) || list_full(t, e);
    } else {
        if (init_adapter) {
            rc = adapter_load(&t->lw, init_adapter, &base->cfg, NULL, e);
        } else {
            rc = lora_init(&t->lw, &base->cfg, rank, alpha, dropout, targets, seed, e);
            t->lw.rslora = rslora;
        }
        rc = rc || lora_init_like(&t->lg, &t->lw, e) || lora_init_like(&t->l1, &t->lw, e) ||
             lora_init_like(&t->l2, &t->lw, e) || list_lora(t, e);
    }
    if (rc) {
        trainable_free(t);
        return -1;
    }
    return 0;
}

void trainable_free(Trainable *t)
{
    model_free(&t->w);
    if (t->full) {
        model_free(&t->g);
        model_free(&t->m1);
        model_free(&t->m2);
    } else {
        lora_free(&t->lw);
        lora_free(&t->lg);
        lora_free(&t->l1);
        lora_free(&t->l2);
    }
    free(t->p);
    free(t->names);
    memset(t, 0, sizeof *t);
}

void trainable_zero_grad(Trainable *t)
{
    for (int i = 0; i < t->n; i++)
        memset(t->p[i].g, 0, sizeof(float) * t->p[i].n);
}

int trainable_save(const Trainable *t, const char *path, const char *const *keys, const char *const *vals,
                   size_t n_meta, Err *e)
{
    StWrite *w = calloc((size_t)t->n * 3, sizeof *w);
    char (*names)[104] = calloc((size_t)t->n * 3, sizeof *names);
    if (!w || !names) {
        free(w);
        free(names);
        return err_set(e, "out of memory");
    }
    for (int i = 0; i < t->n; i++) {
        const float *src[3] = {t->p[i].w, t->p[i].m, t->p[i].v};
        static const char pre[3] = {'w', 'm', 'v'};
        for (int k = 0; k < 3; k++) {
            StWrite *x = &w[3 * i + k];
            snprintf(names[3 * i + k], sizeof names[0], "%c.%s", pre[k], t->names[i]);
            x->name = names[3 * i + k];
            x->dtype = DT_F32;
            x->ndim = 1;
            x->shape[0] = (int64_t)t->p[i].n;
            x->data = src[k];
        }
    }
    int rc = safetensors_write(path, w, (size_t)t->n * 3, keys, vals, n_meta, e);
    free(w);
    free(names);
    return rc;
}

int trainable_load(Trainable *t, const char *path, SafeTensors *st, Err *e)
{
    if (safetensors_open(st, path, e) != 0)
        return -1;
    for (int i = 0; i < t->n; i++) {
        float *dst[3] = {t->p[i].w, t->p[i].m, t->p[i].v};
        static const char pre[3] = {'w', 'm', 'v'};
        for (int k = 0; k < 3; k++) {
            char name[104];
            snprintf(name, sizeof name, "%c.%s", pre[k], t->names[i]);
            const StTensor *x = safetensors_find(st, name);
            if (!x || x->dtype != DT_F32 || x->nelem != t->p[i].n) {
                err_set(e, "%s: tensor \"%s\" is %s (this run trains %zu F32 values there)", path, name,
                        x ? "of another size or type" : "missing", t->p[i].n);
                safetensors_close(st);
                return -1;
            }
            memcpy(dst[k], x->data, sizeof(float) * t->p[i].n);
        }
    }
    return 0;
}
