/* test_ops.c - the row-wise ops against double-precision formulas.
 *
 * SwiGLU and softmax use a vectorised exp of our own; these checks hold it
 * to float rounding over the whole range the model produces, at every tail
 * length, and check that NaN still comes out as NaN. */
#include "ops.h"
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

int main(void)
{
    test_swiglu();
    test_softmax();
    TEST_MAIN_END();
}
