/* model_merge.c - folding a LoRA adapter into the weights (see model_params.h). */
#include "model_params.h"

#include <cblas.h>

int model_merge_lora(Model *m, const Lora *l, Err *e)
{
    if (m->dtype != DT_F32)
        return err_set(e, "merge: the model must be an F32 copy");
    if (l->n_layers != m->cfg.n_layers)
        return err_set(e, "merge: the adapter has %d layers, the model %d", l->n_layers, m->cfg.n_layers);
    const float s = lora_scale(l);
    for (int i = 0; i < l->n_layers; i++) {
        LayerWeights *w = &m->layers[i];
        Mat *mats[LORA_N_TARGETS] = {&w->q, &w->k, &w->v, &w->o, &w->gate, &w->up, &w->down};
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            const LoraMat *p = lora_mat(l, i, (LoraTarget)t);
            if (!p)
                continue;
            if (p->out != mats[t]->rows || p->in != mats[t]->cols)
                return err_set(e, "merge: layer %d %s is %dx%d in the adapter, %dx%d in the model", i,
                               lora_target_name((LoraTarget)t), p->out, p->in, mats[t]->rows, mats[t]->cols);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->out, p->in, l->rank, s, p->B, l->rank, p->A,
                        p->in, 1.0f, (float *)mats[t]->data, p->in);
        }
    }
    return 0;
}
