/* ops.c - RMSNorm, RoPE, SwiGLU, softmax (see ops.h). */
#include "ops.h"

#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

void rmsnorm_forward(float *out, const float *x, const float *w, int T, int n, float eps)
{
    rmsnorm_forward_r(out, NULL, x, w, T, n, eps);
}

/* Sum of x[i]^2 and of a[i] * b[i] * c[i] over n: the row reductions of the
 * norm, vectorised (float lanes; rounding stays near 1e-7 at these widths). */
#if defined(__AVX512F__)
static float sum_sq(const float *x, int n)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 u = _mm512_loadu_ps(x + i), v = _mm512_loadu_ps(x + i + 16);
        a0 = _mm512_fmadd_ps(u, u, a0);
        a1 = _mm512_fmadd_ps(v, v, a1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 u = _mm512_maskz_loadu_ps(m, x + i);
        a0 = _mm512_fmadd_ps(u, u, a0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

static float sum_prod3(const float *a, const float *b, const float *c, int n)
{
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        s = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)),
                            _mm512_maskz_loadu_ps(m, c + i), s);
    }
    return _mm512_reduce_add_ps(s);
}
#else
static float sum_sq(const float *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return (float)s;
}

static float sum_prod3(const float *a, const float *b, const float *c, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i] * c[i];
    return (float)s;
}
#endif

void rmsnorm_forward_r(float *out, float *rinv, const float *x, const float *w, int T, int n, float eps)
{
    for (int t = 0; t < T; t++) {
        const float *xr = x + (long)t * n;
        float *o = out + (long)t * n;
        float r = 1.0f / sqrtf(sum_sq(xr, n) / (float)n + eps);
        if (rinv)
            rinv[t] = r;
        for (int i = 0; i < n; i++)
            o[i] = xr[i] * r * w[i];
    }
}

/* y = x r w with r = (mean(x^2) + eps)^-1/2, so
 * dx = r (dy w) - x r^3 / n * sum(dy w x), dw = sum over rows of dy x r. */
void rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *rinv, const float *w,
                      int T, int n)
{
    for (int t = 0; t < T; t++) {
        const float *xr = x + (long)t * n, *g = dy + (long)t * n;
        float *d = dx + (long)t * n;
        const float r = rinv[t];
        const float c = sum_prod3(g, w, xr, n) * r * r * r / (float)n;
        for (int i = 0; i < n; i++)
            d[i] += r * g[i] * w[i] - xr[i] * c;
        if (dw)
            for (int i = 0; i < n; i++)
                dw[i] += g[i] * xr[i] * r;
    }
}

void rope_tables(float *cos_t, float *sin_t, int n_pos, int hd, double theta, double factor, double low_freq,
                 double high_freq, int orig_max_pos)
{
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        double inv = 1.0 / pow(theta, (2.0 * i) / hd);
        if (factor > 0) {
            /* Llama 3: long wavelengths slowed by factor, short kept, a blend between. */
            double wavelen = 2 * M_PI / inv;
            double lo = orig_max_pos / low_freq, hi = orig_max_pos / high_freq;
            if (wavelen > lo) {
                inv /= factor;
            } else if (wavelen >= hi) {
                double s = (orig_max_pos / wavelen - low_freq) / (high_freq - low_freq);
                inv = (1 - s) * inv / factor + s * inv;
            }
        }
        for (int p = 0; p < n_pos; p++) {
            double a = p * inv;
            cos_t[(long)p * half + i] = (float)cos(a);
            sin_t[(long)p * half + i] = (float)sin(a);
        }
    }
}

/* RoPE rotates each pair (i, i + hd/2) by the position's angle; its
 * backward is the rotation by minus that angle. */
static void rope_rotate(float *x, int T, int n_heads, int hd, int pos0, const float *cos_t, const float *sin_t,
                        float sign)
{
    int half = hd / 2;
    for (int t = 0; t < T; t++) {
        const float *c = cos_t + (long)(pos0 + t) * half, *s = sin_t + (long)(pos0 + t) * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((long)t * n_heads + h) * hd;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                float sn = sign * s[i];
                v[i] = a * c[i] - b * sn;
                v[i + half] = b * c[i] + a * sn;
            }
        }
    }
}

void rope_forward(float *x, int T, int n_heads, int hd, int pos0, const float *cos_t, const float *sin_t)
{
    rope_rotate(x, T, n_heads, hd, pos0, cos_t, sin_t, 1.0f);
}

void rope_backward(float *dx, int T, int n_heads, int hd, int pos0, const float *cos_t, const float *sin_t)
{
    rope_rotate(dx, T, n_heads, hd, pos0, cos_t, sin_t, -1.0f);
}

#if defined(__AVX512F__)
/* exp of 16 floats: 2^n * e^r with |r| <= ln2/2 and e^r by its Taylor
 * polynomial to r^7 (truncation < 6e-9 relative, below float rounding).
 * libm's expf was a tenth of prefill's time.  The clamps keep NaN; past
 * 88.7 scalef gives inf, as expf does. */
static inline __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(200.0f), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 tail_mask(long left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

void swiglu_forward_to(float *out, const float *g, const float *u, long n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_mul_ps(x, sig), _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* a = silu(g) u: du = da silu(g), dg = da u s (1 + g (1 - s)), s = sigmoid(g). */
void swiglu_backward(float *dg, float *du, const float *da, const float *g, const float *u, long n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i), d = _mm512_maskz_loadu_ps(m, da + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        __m512 silu = _mm512_mul_ps(x, sig);
        __m512 dsilu = _mm512_mul_ps(sig, _mm512_fmadd_ps(x, _mm512_sub_ps(one, sig), one));
        _mm512_mask_storeu_ps(du + i, m, _mm512_mul_ps(d, silu));
        _mm512_mask_storeu_ps(dg + i, m, _mm512_mul_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + i)), dsilu));
    }
}

void softmax_forward(float *x, int n)
{
    __m512 vmx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16)
        vmx = _mm512_mask_max_ps(vmx, tail_mask(n - i), vmx, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmx));
    __m512 vs = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx));
        _mm512_mask_storeu_ps(x + i, m, e);
        vs = _mm512_mask_add_ps(vs, m, vs, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vs));
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}
float logsumexp(const float *x, int n)
{
    __m512 vmx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16)
        vmx = _mm512_mask_max_ps(vmx, tail_mask(n - i), vmx, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    const float mx = _mm512_reduce_max_ps(vmx);
    const __m512 vm = _mm512_set1_ps(mx);
    __m512 vs = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        vs = _mm512_mask_add_ps(vs, m, vs, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm)));
    }
    return mx + logf(_mm512_reduce_add_ps(vs));
}
#else
float logsumexp(const float *x, int n)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += expf(x[i] - mx);
    return mx + (float)log(s);
}

void swiglu_forward_to(float *out, const float *g, const float *u, long n)
{
    for (long i = 0; i < n; i++)
        out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void swiglu_backward(float *dg, float *du, const float *da, const float *g, const float *u, long n)
{
    for (long i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-g[i]));
        du[i] = da[i] * g[i] * s;
        dg[i] = da[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

void softmax_forward(float *x, int n)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    float sum = 0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}
#endif

void swiglu_forward(float *g, const float *u, long n) { swiglu_forward_to(g, g, u, n); }

void add_inplace(float *out, const float *x, long n)
{
    for (long i = 0; i < n; i++)
        out[i] += x[i];
}

