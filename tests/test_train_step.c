/* test_train_step.c - the whole model's gradients against finite differences.
 *
 * For every trained tensor (each weight in full training, each LoRA A and B),
 * the analytic directional derivative g.d is compared with the central
 * difference (L(w + eps d) - L(w - eps d)) / 2 eps along two directions: the
 * gradient itself (d = g/|g|, where a wrong scale shows) and a random one
 * (where a wrong direction shows).  The forward runs in float32, so the loss
 * carries rounding noise of about 1e-6; eps is chosen so that the loss moves
 * by about 1e-2 where it can, and Richardson extrapolation removes the
 * difference's second-order error.  The tolerance is 1e-2 relative plus the
 * noise over the step (a random direction's derivative can be near zero).  Exact
 * agreement with an independent implementation is test_train_ref's job. */
#include "test.h"
#include "lora.h"
#include "model.h"
#include "model_params.h"
#include "pool.h"
#include "rng.h"
#include "train_step.h"

typedef struct Case {
    Model m;            /* F32 clone: the weights the step reads */
    Model grad;         /* full training */
    Lora lora, lora_grad;
    int use_lora;
    Pool *pool;
    TrainState s;
    Batch b;
} Case;

static void make_batch(Batch *b, int vocab, uint64_t seed)
{
    enum { B = 3, T = 11 };
    static const int len[B] = {11, 7, 9};
    b->B = B, b->T = T;
    b->tok = calloc(B * T, sizeof *b->tok);
    b->mask = calloc(B * T, 1);
    b->weight = malloc(B * sizeof(float));
    b->len = malloc(B * sizeof(int));
    Rng r;
    rng_seed(&r, seed);
    b->n_targets = 0;
    for (int i = 0; i < B; i++) {
        b->len[i] = len[i];
        b->weight[i] = i == 1 ? 2.5f : 1.0f;
        for (int t = 0; t < len[i]; t++) {
            b->tok[i * T + t] = (int32_t)(rng_next(&r) % (uint64_t)vocab);
            /* a prompt of 3 tokens without loss, as SFT masks it */
            b->mask[i * T + t] = t >= 3;
            b->n_targets += t >= 3;
        }
    }
}

static double loss_of(Case *c, int training)
{
    double ls, ws;
    Err e;
    train_forward(&c->s, &c->b, training, 42, &ls, &ws, &e);
    return ls / ws;
}

/* Zeroes the gradients, runs forward and backward. */
static void gradients(Case *c, int training)
{
    int np = model_param_count(&c->m.cfg);
    ModelParam *gp = malloc(sizeof *gp * (size_t)np);
    if (!c->use_lora) {
        model_params(&c->grad, gp);
        for (int i = 0; i < np; i++)
            memset(gp[i].w, 0, sizeof(float) * (size_t)gp[i].rows * (size_t)(gp[i].cols ? gp[i].cols : 1));
    } else {
        for (int l = 0; l < c->lora_grad.n_layers; l++)
            for (int t = 0; t < LORA_N_TARGETS; t++) {
                LoraMat *g = lora_mat(&c->lora_grad, l, (LoraTarget)t);
                if (g) {
                    memset(g->A, 0, sizeof(float) * (size_t)c->lora.rank * (size_t)g->in);
                    memset(g->B, 0, sizeof(float) * (size_t)g->out * (size_t)c->lora.rank);
                }
            }
    }
    free(gp);
    double ls, ws;
    Err e;
    train_forward(&c->s, &c->b, training, 42, &ls, &ws, &e);
    train_backward(&c->s, &c->b, (float)(1.0 / ws));
}

/* Checks one tensor w (n floats) with gradient g. */
static void check_tensor(Case *c, const char *name, float *w, const float *g, size_t n, int training, Rng *r)
{
    float *d = malloc(sizeof(float) * n), *w0 = malloc(sizeof(float) * n);
    memcpy(w0, w, sizeof(float) * n);
    for (int dir = 0; dir < 2; dir++) {
        double dn = 0;
        for (size_t i = 0; i < n; i++) {
            d[i] = dir == 0 ? g[i] : (float)(rng_uniform(r) * 2 - 1);
            dn += (double)d[i] * d[i];
        }
        dn = sqrt(dn);
        if (dn == 0) {
            CHECKF(dir == 1, "%s: zero gradient", name);
            continue;
        }
        double an = 0;
        for (size_t i = 0; i < n; i++) {
            d[i] = (float)(d[i] / dn);
            an += (double)g[i] * d[i];
        }
        /* a step that moves the loss by about 1e-2, at most 0.05 along a
         * unit direction; Richardson's extrapolation from eps and eps/2
         * cancels the eps^2 term of the central difference. */
        double eps = 1e-2 / (fabs(an) > 0.2 ? fabs(an) : 0.2);
        double D[2];
        for (int k = 0; k < 2; k++) {
            double h = k ? eps / 2 : eps;
            for (size_t i = 0; i < n; i++)
                w[i] = (float)(w0[i] + h * d[i]);
            double lp = loss_of(c, training);
            for (size_t i = 0; i < n; i++)
                w[i] = (float)(w0[i] - h * d[i]);
            double lm = loss_of(c, training);
            D[k] = (lp - lm) / (2 * h);
        }
        memcpy(w, w0, sizeof(float) * n);
        double fd = (4 * D[1] - D[0]) / 3;
        /* the loss's rounding noise (~1e-6) divided by the step */
        double noise = 1e-5 / eps;
        CHECKF(fabs(fd - an) <= 1e-2 * fabs(an) + noise, "%s (%s direction): analytic %.6g, finite difference %.6g",
               name, dir ? "random" : "gradient", an, fd);
    }
    free(d);
    free(w0);
}

static int setup(Case *c, const char *model, int use_lora, float dropout)
{
    memset(c, 0, sizeof *c);
    Err e = {{0}};
    Model base;
    char dir[128];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", model);
    if (model_load(&base, dir, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        return -1;
    }
    int ok = model_clone_f32(&c->m, &base, 0, &e) == 0;
    model_free(&base);
    CHECKF(ok, "%s", e.msg);
    if (!ok)
        return -1;
    c->use_lora = use_lora;
    c->pool = pool_new(2);
    if (use_lora) {
        CHECK(lora_init(&c->lora, &c->m.cfg, 4, 8.0f, dropout, LORA_ALL_TARGETS, 3, &e) == 0);
        CHECK(lora_init_like(&c->lora_grad, &c->lora, &e) == 0);
        /* PEFT starts B at zero, where A's gradient vanishes: give B values
         * so that both are exercised. */
        Rng r;
        rng_seed(&r, 9);
        for (int l = 0; l < c->lora.n_layers; l++)
            for (int t = 0; t < LORA_N_TARGETS; t++) {
                LoraMat *lm = lora_mat(&c->lora, l, (LoraTarget)t);
                for (int i = 0; i < lm->out * c->lora.rank; i++)
                    lm->B[i] = (float)(rng_uniform(&r) - 0.5) * 0.2f;
            }
    } else {
        CHECK(model_clone_f32(&c->grad, &c->m, 1, &e) == 0);
    }
    make_batch(&c->b, c->m.cfg.vocab, 5);
    ok = train_state_init(&c->s, &c->m, use_lora ? &c->lora : NULL, use_lora ? &c->lora_grad : NULL,
                          use_lora ? NULL : &c->grad, c->pool, 4, 16, &e) == 0;
    CHECKF(ok, "%s", e.msg);
    return ok ? 0 : -1;
}

static void teardown(Case *c)
{
    train_state_free(&c->s);
    if (c->use_lora) {
        lora_free(&c->lora);
        lora_free(&c->lora_grad);
    } else {
        model_free(&c->grad);
    }
    model_free(&c->m);
    pool_delete(c->pool);
    free(c->b.tok);
    free(c->b.mask);
    free(c->b.weight);
    free(c->b.len);
}

static void test_full(const char *model)
{
    Case c;
    if (setup(&c, model, 0, 0) != 0)
        return;
    gradients(&c, 1);
    int np = model_param_count(&c.m.cfg);
    ModelParam *wp = malloc(sizeof *wp * (size_t)np), *gp = malloc(sizeof *gp * (size_t)np);
    model_params(&c.m, wp);
    model_params(&c.grad, gp);
    Rng r;
    rng_seed(&r, 77);
    for (int i = 0; i < np; i++) {
        char name[160];
        snprintf(name, sizeof name, "%s %s", model, wp[i].name);
        check_tensor(&c, name, wp[i].w, gp[i].w, (size_t)wp[i].rows * (size_t)(wp[i].cols ? wp[i].cols : 1), 1, &r);
    }
    free(wp);
    free(gp);
    teardown(&c);
}

static void test_lora(const char *model, float dropout)
{
    Case c;
    if (setup(&c, model, 1, dropout) != 0)
        return;
    gradients(&c, 1);
    Rng r;
    rng_seed(&r, 78);
    for (int l = 0; l < c.lora.n_layers; l++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            LoraMat *w = lora_mat(&c.lora, l, (LoraTarget)t), *g = lora_mat(&c.lora_grad, l, (LoraTarget)t);
            char name[160];
            snprintf(name, sizeof name, "%s dropout %.2f layer %d %s lora_A", model, dropout, l,
                     lora_target_name((LoraTarget)t));
            check_tensor(&c, name, w->A, g->A, (size_t)c.lora.rank * (size_t)w->in, 1, &r);
            snprintf(name, sizeof name, "%s dropout %.2f layer %d %s lora_B", model, dropout, l,
                     lora_target_name((LoraTarget)t));
            check_tensor(&c, name, w->B, g->B, (size_t)w->out * (size_t)c.lora.rank, 1, &r);
        }
    teardown(&c);
}

int main(void)
{
    test_full("tiny-gqa");
    test_full("tiny-qwen-bias");
    test_full("tiny-headdim");
    test_lora("tiny-gqa", 0.0f);
    test_lora("tiny-qwen-bias", 0.0f);
    test_lora("tiny-gqa", 0.3f);
    TEST_MAIN_END();
}
