/* ops.c - RMSNorm, RoPE, SwiGLU, softmax (see ops.h). */
#include "ops.h"

#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

void rmsnorm_forward(float *out, const float *x, const float *w, int T, int n, float eps)
{
    for (int t = 0; t < T; t++) {
        const float *xr = x + (long)t * n;
        float *o = out + (long)t * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (double)xr[i] * xr[i];
        float r = (float)(1.0 / sqrt(ss / n + eps));
        for (int i = 0; i < n; i++)
            o[i] = xr[i] * r * w[i];
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

void rope_forward(float *x, int T, int n_heads, int hd, int pos0, const float *cos_t, const float *sin_t)
{
    int half = hd / 2;
    for (int t = 0; t < T; t++) {
        const float *c = cos_t + (long)(pos0 + t) * half, *s = sin_t + (long)(pos0 + t) * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((long)t * n_heads + h) * hd;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
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

void swiglu_forward(float *g, const float *u, long n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(_mm512_mul_ps(x, sig), _mm512_maskz_loadu_ps(m, u + i)));
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
#else
void swiglu_forward(float *g, const float *u, long n)
{
    for (long i = 0; i < n; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
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

void add_inplace(float *out, const float *x, long n)
{
    for (long i = 0; i < n; i++)
        out[i] += x[i];
}

