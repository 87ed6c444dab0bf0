/* test_ops.c - the row-wise ops against double-precision formulas.
 *
 * SwiGLU and softmax use a vectorised exp of our own; these checks hold it
 * to float rounding over the whole range the model produces, at every tail
 * length, and check that NaN still comes out as NaN.
 *
 * Then every op's backward against central finite differences of
 * f(x) = sum(c * op(x)) for a random c, element by element, on sizes small
 * enough to visit every input.  The ops run in float32, so with a step of
 * 1e-3 the difference carries about 1e-4 of rounding: the tolerance is
 * 2e-3 relative plus 2e-3 times the largest gradient. */
#include "attention.h"
#include "linear.h"
#include "loss.h"
#include "ops.h"
#include "pool.h"
#include "rng.h"
#include "test.h"

static double rel(double got, double want)
{
    double d = fabs(got - want), m = fabs(want);
    return m > 1e-30 ? d / m : d;
}

static void test_swiglu(void)
{
    enum { N = 4099 };
    static float g[N], u[N];
    static double want[N];
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        /* from -90 to 90: exp's clamps, its polynomial, and the tails */
        g[i] = (float)(-90.0 + 180.0 * i / (N - 1));
        u[i] = (float)(rng_uniform(&r) * 4 - 2);
        want[i] = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
    }
    swiglu_forward(g, u, N);
    double worst = 0;
    int at = 0;
    for (int i = 0; i < N; i++) {
        double e = fabs(g[i] - want[i]) / (fabs(want[i]) + 1e-30);
        if (fabs(want[i]) < 1e-30)   /* sigmoid is subnormal here: absolute */
            e = fabs(g[i] - want[i]) < 1e-36 ? 0 : 1;  /* float flushes to 0 */
        if (e > worst)
            worst = e, at = i;
    }
    CHECKF(worst <= 4e-7, "worst relative error %g at x=%g", worst, -90.0 + 180.0 * at / (N - 1));

    float nan_in[3] = {NAN, 1.0f, -1.0f}, ones[3] = {1, 1, 1};
    swiglu_forward(nan_in, ones, 3);
    CHECK(isnan(nan_in[0]));
    CHECK_NEAR(nan_in[1], 1.0 / (1.0 + exp(-1.0)), 1e-7);
}

static void test_softmax(void)
{
    Rng r;
    rng_seed(&r, 5);
    for (int n = 1; n <= 70; n++) {
        float x[70];
        double d[70], mx = -1e300, sum = 0;
        for (int i = 0; i < n; i++) {
            x[i] = (float)(rng_uniform(&r) * 40 - 20);
            d[i] = x[i];
            mx = d[i] > mx ? d[i] : mx;
        }
        /* The float code subtracts the max in float; so does the reference,
         * so that only exp and the sum are compared. */
        for (int i = 0; i < n; i++) {
            d[i] = (float)(x[i] - (float)mx);
            sum += exp(d[i]);
        }
        softmax_forward(x, n);
        double worst = 0, total = 0;
        for (int i = 0; i < n; i++) {
            double w = exp(d[i]) / sum, e = w > 1e-30 ? rel(x[i], w) : fabs(x[i] - w);
            worst = e > worst ? e : worst;
            total += x[i];
        }
        CHECKF(worst <= 1e-6, "n=%d: worst relative error %g", n, worst);
        CHECKF(fabs(total - 1) <= 1e-6, "n=%d: sums to %.9f", n, total);
    }
    /* A very negative score gets a zero weight, not a NaN. */
    float x[3] = {0, -1e30f, 0};
    softmax_forward(x, 3);
    CHECK(x[1] == 0 && fabs(x[0] - 0.5) < 1e-7 && fabs(x[2] - 0.5) < 1e-7);
}

/* ---- finite differences ---- */

typedef double (*ScalarFn)(void *ctx);

static double fill(Rng *r, float *x, int n, double scale)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)((rng_uniform(r) * 2 - 1) * scale);
    return 0;
}

static double dotc(const float *c, const float *y, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++)
        s += (double)c[i] * y[i];
    return s;
}

/* Compares grad[0..n) with finite differences of f with respect to x[0..n). */
static void fd_check(const char *what, float *x, const float *grad, int n, ScalarFn f, void *ctx)
{
    double gmax = 0;
    for (int i = 0; i < n; i++)
        gmax = fabs(grad[i]) > gmax ? fabs(grad[i]) : gmax;
    int bad = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        const float x0 = x[i], h = 1e-3f;
        x[i] = x0 + h;
        double fp = f(ctx);
        x[i] = x0 - h;
        double fm = f(ctx);
        x[i] = x0;
        double fd = (fp - fm) / (2.0 * h), err = fabs(fd - grad[i]);
        if (err > 2e-3 * fabs(grad[i]) + 2e-3 * gmax) {
            bad++;
            worst = err > worst ? err : worst;
        }
    }
    CHECKF(bad == 0 && gmax > 0, "%s: %d of %d gradients off (worst by %g; largest %g)", what, bad, n, worst, gmax);
}

enum { ROWS = 5, N = 24 };

typedef struct NormCtx { float x[ROWS * N], w[N], y[ROWS * N], c[ROWS * N], r[ROWS]; } NormCtx;
static double norm_f(void *p)
{
    NormCtx *k = p;
    rmsnorm_forward_r(k->y, k->r, k->x, k->w, ROWS, N, 1e-5f);
    return dotc(k->c, k->y, ROWS * N);
}

static void test_norm_grad(Rng *r)
{
    NormCtx k;
    fill(r, k.x, ROWS * N, 1), fill(r, k.w, N, 1), fill(r, k.c, ROWS * N, 1);
    float dx[ROWS * N] = {0}, dw[N] = {0};
    norm_f(&k);
    rmsnorm_backward(dx, dw, k.c, k.x, k.r, k.w, ROWS, N);
    fd_check("rmsnorm dx", k.x, dx, ROWS * N, norm_f, &k);
    fd_check("rmsnorm dw", k.w, dw, N, norm_f, &k);
}

typedef struct RopeCtx { float x[ROWS * N], y[ROWS * N], c[ROWS * N], cs[64 * 6], sn[64 * 6]; } RopeCtx;
static double rope_f(void *p)
{
    RopeCtx *k = p;
    memcpy(k->y, k->x, sizeof k->y);
    rope_forward(k->y, ROWS, 2, 12, 3, k->cs, k->sn);
    return dotc(k->c, k->y, ROWS * N);
}

static void test_rope_grad(Rng *r)
{
    RopeCtx k;
    fill(r, k.x, ROWS * N, 1), fill(r, k.c, ROWS * N, 1);
    rope_tables(k.cs, k.sn, 64, 12, 100.0, 0, 0, 0, 0);
    float dx[ROWS * N];
    memcpy(dx, k.c, sizeof dx);
    rope_backward(dx, ROWS, 2, 12, 3, k.cs, k.sn);
    fd_check("rope", k.x, dx, ROWS * N, rope_f, &k);
}

typedef struct SwiCtx { float g[ROWS * N], u[ROWS * N], y[ROWS * N], c[ROWS * N]; } SwiCtx;
static double swi_f(void *p)
{
    SwiCtx *k = p;
    swiglu_forward_to(k->y, k->g, k->u, ROWS * N);
    return dotc(k->c, k->y, ROWS * N);
}

static void test_swiglu_grad(Rng *r)
{
    SwiCtx k;
    fill(r, k.g, ROWS * N, 4), fill(r, k.u, ROWS * N, 2), fill(r, k.c, ROWS * N, 1);
    float dg[ROWS * N], du[ROWS * N];
    swiglu_backward(dg, du, k.c, k.g, k.u, ROWS * N);
    fd_check("swiglu dgate", k.g, dg, ROWS * N, swi_f, &k);
    fd_check("swiglu dup", k.u, du, ROWS * N, swi_f, &k);
}

/* Attention: rows of AT positions, AH heads sharing AKV kv heads of width
 * AD.  AT spans two of the training attention's 64-row blocks, so the
 * blocked products and their boundaries are exercised. */
enum { AB = 2, AT = 73, AH = 4, AKV = 2, AD = 4 };
typedef struct AttCtx {
    Pool *pool;
    float q[AB * AT * AH * AD], k[AB * AT * AKV * AD], v[AB * AT * AKV * AD];
    float p[AB * AH * AT * AT], out[AB * AT * AH * AD], c[AB * AT * AH * AD], dp[4 * AT * AT];
} AttCtx;
static double att_f(void *p)
{
    AttCtx *k = p;
    AttnTrain a = {k->q, k->k, k->v, k->p, k->out, AB, AT, AH, AKV, AD, NULL, NULL, NULL, NULL, k->dp};
    attention_train_forward(k->pool, &a);
    return dotc(k->c, k->out, AB * AT * AH * AD);
}

static void test_attention_grad(Rng *r)
{
    static AttCtx k;
    k.pool = pool_new(2);
    fill(r, k.q, AB * AT * AH * AD, 1.5), fill(r, k.k, AB * AT * AKV * AD, 1.5);
    fill(r, k.v, AB * AT * AKV * AD, 1), fill(r, k.c, AB * AT * AH * AD, 1);
    static float dq[AB * AT * AH * AD], dk[AB * AT * AKV * AD], dv[AB * AT * AKV * AD];
    att_f(&k);
    /* the output against a plain causal softmax-attention, row by row */
    double worst = 0;
    for (int b = 0; b < AB; b++)
        for (int h = 0; h < AH; h++)
            for (int t = 0; t < AT; t++) {
                const int g = h / (AH / AKV);
                double w[AT], mx = -1e300, sum = 0;
                for (int j = 0; j <= t; j++) {
                    double s = 0;
                    for (int i = 0; i < AD; i++)
                        s += (double)k.q[((b * AT + t) * AH + h) * AD + i] * k.k[((b * AT + j) * AKV + g) * AD + i];
                    w[j] = s / sqrt((double)AD);
                    mx = w[j] > mx ? w[j] : mx;
                }
                for (int j = 0; j <= t; j++)
                    sum += (w[j] = exp(w[j] - mx));
                for (int i = 0; i < AD; i++) {
                    double o = 0;
                    for (int j = 0; j <= t; j++)
                        o += w[j] / sum * k.v[((b * AT + j) * AKV + g) * AD + i];
                    double d = fabs(o - k.out[((b * AT + t) * AH + h) * AD + i]);
                    worst = d > worst ? d : worst;
                }
            }
    CHECKF(worst <= 1e-5, "attention output differs from the plain formula by %g", worst);
    AttnTrain a = {k.q, k.k, k.v, k.p, k.out, AB, AT, AH, AKV, AD, k.c, dq, dk, dv, k.dp};
    attention_train_backward(k.pool, &a);
    fd_check("attention dq", k.q, dq, AB * AT * AH * AD, att_f, &k);
    fd_check("attention dk", k.k, dk, AB * AT * AKV * AD, att_f, &k);
    fd_check("attention dv", k.v, dv, AB * AT * AKV * AD, att_f, &k);
    pool_delete(k.pool);
}

/* Loss: 2 rows of 4 positions over a vocabulary of 7. */
typedef struct LossCtx {
    Pool *pool;
    float z[8 * 7], work[8 * 7], rl[8], w[2];
    int32_t tok[8];
    uint8_t mask[8];
} LossCtx;
static double loss_f(void *p)
{
    LossCtx *k = p;
    memcpy(k->work, k->z, sizeof k->z);
    LossArgs a = {k->work, 2, 4, 7, k->tok, k->mask, k->w, k->rl, 1};
    double ls, ws;
    loss_forward(k->pool, &a, &ls, &ws);
    return ls;
}

static void test_loss_grad(Rng *r)
{
    LossCtx k = {.pool = pool_new(2), .w = {1.0f, 3.0f}, .tok = {1, 5, 2, 6, 0, 3, 3, 4},
                 .mask = {0, 1, 1, 0, 0, 0, 1, 1}};
    fill(r, k.z, 8 * 7, 3);
    loss_f(&k);
    LossArgs a = {k.work, 2, 4, 7, k.tok, k.mask, k.w, k.rl, 1};
    loss_backward(k.pool, &a);
    float dz[8 * 7];
    memcpy(dz, k.work, sizeof dz);
    fd_check("cross-entropy", k.z, dz, 8 * 7, loss_f, &k);
    /* positions without a target have no gradient */
    int zero = 1;
    for (int j = 0; j < 7; j++)
        zero &= dz[2 * 7 + j] == 0 && dz[3 * 7 + j] == 0;
    CHECK(zero);
    pool_delete(k.pool);
}

/* A projection with bias and a LoRA pair, with and without dropout. */
enum { LM = 6, LIN = 10, LOUT = 8, LR = 3 };
typedef struct LinCtx {
    Pool *pool;
    Mat W;
    float w[LOUT * LIN], b[LOUT], x[LM * LIN], y[LM * LOUT], c[LM * LOUT], A[LR * LIN], Bm[LOUT * LR];
    float lu[LM * LR], tmp[LM * LIN];
    LoraMat lm;
    Linear lin;
} LinCtx;
static double lin_f(void *p)
{
    LinCtx *k = p;
    linear_forward(k->pool, &k->lin, k->x, LM, k->y, k->lu, k->tmp, 1);
    return dotc(k->c, k->y, LM * LOUT);
}

static void test_linear_grad(Rng *r, float dropout)
{
    static LinCtx k;
    k.pool = pool_new(2);
    fill(r, k.w, LOUT * LIN, 1), fill(r, k.b, LOUT, 1), fill(r, k.x, LM * LIN, 1), fill(r, k.c, LM * LOUT, 1);
    fill(r, k.A, LR * LIN, 1), fill(r, k.Bm, LOUT * LR, 1);
    k.W = (Mat){DT_F32, k.w, LOUT, LIN};
    k.lm = (LoraMat){k.A, k.Bm, LIN, LOUT};
    static float dW[LOUT * LIN], db[LOUT], dA[LR * LIN], dB[LOUT * LR], dx[LM * LIN], dlu[LM * LR];
    memset(dW, 0, sizeof dW), memset(db, 0, sizeof db), memset(dA, 0, sizeof dA), memset(dB, 0, sizeof dB);
    static LoraMat lg;
    lg = (LoraMat){dA, dB, LIN, LOUT};
    k.lin = (Linear){&k.W, k.b, dW, db, &k.lm, &lg, LR, 1.7f, dropout, 12345};
    lin_f(&k);
    linear_backward(k.pool, &k.lin, k.x, LM, k.c, dx, 0.0f, k.lu, dlu, k.tmp, 1);
    char what[64];
    snprintf(what, sizeof what, "linear (dropout %.1f) dx", dropout);
    fd_check(what, k.x, dx, LM * LIN, lin_f, &k);
    snprintf(what, sizeof what, "linear (dropout %.1f) dW", dropout);
    fd_check(what, k.w, dW, LOUT * LIN, lin_f, &k);
    snprintf(what, sizeof what, "linear (dropout %.1f) db", dropout);
    fd_check(what, k.b, db, LOUT, lin_f, &k);
    snprintf(what, sizeof what, "linear (dropout %.1f) lora_A", dropout);
    fd_check(what, k.A, dA, LR * LIN, lin_f, &k);
    snprintf(what, sizeof what, "linear (dropout %.1f) lora_B", dropout);
    fd_check(what, k.Bm, dB, LOUT * LR, lin_f, &k);
    pool_delete(k.pool);
}

int main(void)
{
    test_swiglu();
    test_softmax();
    Rng r;
    rng_seed(&r, 2024);
    test_norm_grad(&r);
    test_rope_grad(&r);
    test_swiglu_grad(&r);
    test_attention_grad(&r);
    test_loss_grad(&r);
    test_linear_grad(&r, 0.0f);
    test_linear_grad(&r, 0.4f);
    TEST_MAIN_END();
}
