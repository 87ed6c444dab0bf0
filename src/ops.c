/* ops.c - RMSNorm, RoPE, SwiGLU, softmax (see ops.h). */
#include "ops.h"

#include <math.h>

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
