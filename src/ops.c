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

void swiglu_forward(float *g, const float *u, long n)
{
    for (long i = 0; i < n; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void add_inplace(float *out, const float *x, long n)
{
    for (long i = 0; i < n; i++)
        out[i] += x[i];
}

#if defined(__AVX512F__)
float vec_dot(const float *a, const float *b, int n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void vec_axpy(float *y, float a, const float *x, int n)
{
    const __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m,
                              _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}
#else
float vec_dot(const float *a, const float *b, int n)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[i + k] * b[i + k];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void vec_axpy(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}
#endif

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
