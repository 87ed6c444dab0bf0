/* test_train_ref.c - a training step against the independent float64 reference.
 *
 * tests/ref/make_train_fixtures.py computed, for a batch with padding, a
 * loss mask and row weights: the loss and logits of a LoRA-adapted model,
 * every LoRA gradient, every weight's gradient in full training, and the
 * adapter after two clipped AdamW steps.  infuse must agree to 1e-4
 * relative (float32 against float64: observed about 1e-6).  The adapter the
 * reference wrote is read with adapter_load (an adapter saved elsewhere
 * gives the same logits in infuse); infuse's own save of the trained
 * adapter is compared with the logits the reference computed from that very
 * file (tests/fixtures/train/tiny-gqa/infuse-adapter, made by this test with
 * INFUSE_WRITE_FIXTURES=1 and `train_ref.py logits ... --out`). */
#include "test.h"
#include "adapter.h"
#include "model.h"
#include "model_params.h"
#include "pool.h"
#include "safetensors.h"
#include "train_step.h"
#include "trainable.h"

/* max |a - b| / max(|b|) over n values: relative to the tensor's scale. */
static double rel_err(const float *a, const float *b, size_t n)
{
    double d = 0, m = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        if (!(x <= d))
            d = x;
        m = fabs(b[i]) > m ? fabs(b[i]) : m;
    }
    return d / m;
}

typedef struct Fix {
    SafeTensors ref;
    Batch b;
    int32_t *tok;
    uint8_t *mask;
    float *w;
    int *len;
} Fix;

static int load_batch(Fix *f, const char *path)
{
    Err e = {{0}};
    if (safetensors_open(&f->ref, path, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        return -1;
    }
    const StTensor *t = safetensors_find(&f->ref, "tokens"), *m = safetensors_find(&f->ref, "mask");
    const StTensor *w = safetensors_find(&f->ref, "weights"), *l = safetensors_find(&f->ref, "lengths");
    /* train_ref.py logits writes one row of tokens and nothing else */
    const int one_row = t && t->ndim == 1;
    CHECK(t && (one_row || (m && w && t->ndim == 2)));
    if (!(t && (one_row || (m && w && t->ndim == 2))))
        return -1;
    int B = one_row ? 1 : (int)t->shape[0], T = (int)t->shape[one_row ? 0 : 1];
    f->tok = malloc(sizeof(int32_t) * (size_t)(B * T));
    f->mask = malloc((size_t)(B * T));
    f->w = malloc(sizeof(float) * (size_t)B);
    f->len = malloc(sizeof(int) * (size_t)B);
    memcpy(f->tok, t->data, sizeof(int32_t) * (size_t)(B * T));
    for (int i = 0; i < B * T; i++)
        f->mask[i] = one_row ? 1 : ((const int32_t *)m->data)[i] != 0;
    if (one_row)
        f->w[0] = 1;
    else
        memcpy(f->w, w->data, sizeof(float) * (size_t)B);
    for (int i = 0; i < B; i++)
        f->len[i] = l ? ((const int32_t *)l->data)[i] : T;
    f->b = (Batch){.B = B, .T = T, .tok = f->tok, .mask = f->mask, .weight = f->w, .len = f->len};
    return 0;
}

static void free_fix(Fix *f)
{
    safetensors_close(&f->ref);
    free(f->tok), free(f->mask), free(f->w), free(f->len);
}

static const float *ref_tensor(const Fix *f, const char *name, size_t n)
{
    const StTensor *t = safetensors_find(&f->ref, name);
    CHECKF(t && t->dtype == DT_F32 && t->nelem == n, "reference tensor %s missing or of another size", name);
    return t && t->dtype == DT_F32 && t->nelem == n ? t->data : NULL;
}

static double meta_num(const Fix *f, const char *key)
{
    const char *v = safetensors_meta(&f->ref, key);
    CHECKF(v != NULL, "metadata %s missing", key);
    return v ? strtod(v, NULL) : 0;
}

/* Every trained tensor's gradient against "<name>.grad"; the worst error. */
static double check_grads(const Fix *f, const Trainable *tr, const char *name)
{
    double worst = 0;
    for (int i = 0; i < tr->n; i++) {
        char gname[120];
        snprintf(gname, sizeof gname, "%s.grad", tr->names[i]);
        const float *g = ref_tensor(f, gname, tr->p[i].n);
        if (!g)
            continue;
        double d = rel_err(tr->p[i].g, g, tr->p[i].n);
        worst = d > worst ? d : worst;
        CHECKF(d <= 1e-4, "%s: %s differs by %g of its scale", name, gname, d);
    }
    return worst;
}

static void test_lora_case(const char *name, const char *model)
{
    char dir[160], path[200], adir[200];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", model);
    snprintf(path, sizeof path, "tests/fixtures/train/%s/reference.safetensors", name);
    snprintf(adir, sizeof adir, "tests/fixtures/train/%s/adapter", name);
    Err e = {{0}};
    Model base;
    Fix f;
    if (model_load(&base, dir, &e) != 0 || load_batch(&f, path) != 0) {
        CHECKF(0, "%s: %s", name, e.msg);
        return;
    }
    Trainable tr;
    if (trainable_init(&tr, &base, 0, 0, 0, 0, 0, 0, adir, 0, &e) != 0) {
        CHECKF(0, "%s: %s", name, e.msg);
        free_fix(&f);
        model_free(&base);
        return;
    }
    Pool *pool = pool_new(2);
    TrainState s;
    CHECK(train_state_init(&s, &tr.w, &tr.lw, &tr.lg, NULL, pool, f.b.B, f.b.T, &e) == 0);
    const int V = base.cfg.vocab;

    /* loss and logits of the adapted model */
    double ls, ws;
    trainable_zero_grad(&tr);
    CHECK(train_forward(&s, &f.b, 1, 0, &ls, &ws, &e) == 0);
    const float *rl = ref_tensor(&f, "loss", 1), *rlog = ref_tensor(&f, "logits", (size_t)f.b.B * f.b.T * V);
    if (rl)
        CHECKF(fabs(ls / ws - rl[0]) <= 1e-4 * fabs(rl[0]), "%s: loss %.8g, reference %.8g", name, ls / ws, rl[0]);
    if (rlog) {
        double d = rel_err(s.logits, rlog, (size_t)f.b.B * f.b.T * V);
        CHECKF(d <= 1e-4, "%s: logits differ by %g of their scale", name, d);
    }
    /* every LoRA gradient */
    train_backward(&s, &f.b, (float)(1.0 / ws));
    printf("%s: LoRA gradients within %.2g of the reference\n", name, check_grads(&f, &tr, name));

    /* two clipped AdamW steps on the same batch */
    AdamW opt = {meta_num(&f, "beta1"), meta_num(&f, "beta2"), meta_num(&f, "eps"), meta_num(&f, "weight_decay"), 0};
    const double lr = meta_num(&f, "lr"), clip = meta_num(&f, "clip");
    const float *sl = ref_tensor(&f, "step_loss", 2), *gn = ref_tensor(&f, "grad_norm", 2);
    for (int st = 0; st < 2; st++) {
        trainable_zero_grad(&tr);
        CHECK(train_forward(&s, &f.b, 1, 0, &ls, &ws, &e) == 0);
        train_backward(&s, &f.b, (float)(1.0 / ws));
        double norm = grad_norm(pool, tr.p, tr.n);
        adamw_step(&opt, pool, tr.p, tr.n, lr, clip_factor(norm, clip));
        if (sl && gn) {
            CHECKF(fabs(ls / ws - sl[st]) <= 1e-4 * fabs(sl[st]), "%s step %d: loss %.8g vs %.8g", name, st + 1,
                   ls / ws, sl[st]);
            CHECKF(fabs(norm - gn[st]) <= 1e-4 * fabs(gn[st]), "%s step %d: grad norm %.8g vs %.8g", name, st + 1,
                   norm, gn[st]);
        }
        /* AdamW's first updates are about lr * g / (|g| + eps): for a
         * gradient near zero the float32 rounding of g (1e-6 of the
         * gradients' scale) can move an element by a fraction of lr, so
         * the parameters get 5% of lr per step on top of 1e-4 relative. */
        for (int i = 0; i < tr.n; i++) {
            char pname[120];
            snprintf(pname, sizeof pname, "%s.step%d", tr.names[i], st + 1);
            const float *p = ref_tensor(&f, pname, tr.p[i].n);
            if (!p)
                continue;
            double d = 0, m = 0;
            for (size_t k = 0; k < tr.p[i].n; k++) {
                d = fmax(d, fabs((double)tr.p[i].w[k] - p[k]));
                m = fmax(m, fabs(p[k]));
            }
            CHECKF(d <= 1e-4 * m + 0.05 * lr * (st + 1), "%s: %s differs by %g (%.2g lr)", name, pname, d, d / lr);
        }
    }

    /* The adapter infuse saves gives the reference's logits (tiny-gqa). */
    if (strcmp(name, "tiny-gqa") == 0) {
        const char *out = "tests/fixtures/train/tiny-gqa/infuse-adapter";
        if (getenv("INFUSE_WRITE_FIXTURES"))
            CHECK(adapter_save(&tr.lw, out, "tests/fixtures/models/tiny-gqa", NULL, &e) == 0);
        Lora back;
        Fix g;
        if (adapter_load(&back, out, &base.cfg, NULL, &e) != 0 ||
            load_batch(&g, "tests/fixtures/train/tiny-gqa/infuse-adapter-logits.safetensors") != 0) {
            CHECKF(0, "%s", e.msg);
        } else {
            TrainState s2;
            CHECK(train_state_init(&s2, &tr.w, &back, NULL, NULL, pool, g.b.B, g.b.T, &e) == 0);
            CHECK(train_forward(&s2, &g.b, 0, 0, &ls, &ws, &e) == 0);
            const float *lg = ref_tensor(&g, "logits", (size_t)g.b.B * g.b.T * V);
            if (lg)
                CHECKF(rel_err(s2.logits, lg, (size_t)g.b.B * g.b.T * V) <= 1e-4,
                       "logits of infuse's adapter in the reference differ by %g",
                       rel_err(s2.logits, lg, (size_t)g.b.B * g.b.T * V));
            train_state_free(&s2);
            lora_free(&back);
            free_fix(&g);
        }
    }
    train_state_free(&s);
    pool_delete(pool);
    trainable_free(&tr);
    free_fix(&f);
    model_free(&base);
}

static void test_full_case(const char *name)
{
    char dir[160], path[200];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", name);
    snprintf(path, sizeof path, "tests/fixtures/train/%s/full_grads.safetensors", name);
    Err e = {{0}};
    Model base;
    Fix f;
    if (model_load(&base, dir, &e) != 0 || load_batch(&f, path) != 0) {
        CHECKF(0, "%s: %s", name, e.msg);
        return;
    }
    Trainable tr;
    CHECK(trainable_init(&tr, &base, 1, 0, 0, 0, 0, 0, NULL, 0, &e) == 0);
    Pool *pool = pool_new(2);
    TrainState s;
    CHECK(train_state_init(&s, &tr.w, NULL, NULL, &tr.g, pool, f.b.B, f.b.T, &e) == 0);
    double ls, ws;
    trainable_zero_grad(&tr);
    CHECK(train_forward(&s, &f.b, 1, 0, &ls, &ws, &e) == 0);
    const float *rl = ref_tensor(&f, "loss", 1);
    if (rl)
        CHECKF(fabs(ls / ws - rl[0]) <= 1e-4 * fabs(rl[0]), "%s: base loss %.8g vs %.8g", name, ls / ws, rl[0]);
    train_backward(&s, &f.b, (float)(1.0 / ws));
    printf("%s: full-training gradients within %.2g of the reference\n", name, check_grads(&f, &tr, name));
    train_state_free(&s);
    pool_delete(pool);
    trainable_free(&tr);
    free_fix(&f);
    model_free(&base);
}

int main(void)
{
    test_lora_case("tiny-gqa", "tiny-gqa");
    test_lora_case("tiny-qwen-bias", "tiny-qwen-bias");
    test_lora_case("tiny-headdim-qvd-rslora", "tiny-headdim");
    test_full_case("tiny-gqa");
    test_full_case("tiny-qwen-bias");
    TEST_MAIN_END();
}
