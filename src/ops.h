/* ops.h - the pointwise and row-wise layers of the transformer.
 *
 * Plain functions on raw float arrays, arguments ordered outputs, inputs,
 * sizes.  Each op's backward (added with training) sits beside its forward
 * in ops.c; backward functions accumulate into gradients. */
#ifndef INFUSE_OPS_H
#define INFUSE_OPS_H

/* out[T, n] = x / rms(x) * w, row by row; out may equal x. */
void rmsnorm_forward(float *out, const float *x, const float *w, int T, int n, float eps);
/* The same, keeping each row's 1/rms in rinv[T] for the backward. */
void rmsnorm_forward_r(float *out, float *rinv, const float *x, const float *w, int T, int n, float eps);
/* dx[T, n] += the gradient through the norm (dx must not alias dy);
 * dw[n] += the weight's gradient unless dw is NULL. */
void rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *rinv, const float *w,
                      int T, int n);

/* Rotary position embedding, Hugging Face rotate-half convention, in place
 * on x[T, n_heads * hd]; row t has position pos0 + t.  cos/sin are tables
 * [positions, hd/2]. */
void rope_forward(float *x, int T, int n_heads, int hd, int pos0, const float *cos, const float *sin);
/* The gradient through rope_forward, in place on dx (the inverse rotation). */
void rope_backward(float *dx, int T, int n_heads, int hd, int pos0, const float *cos, const float *sin);

/* Fills the tables for positions [0, n_pos). factor 0 = no Llama 3 scaling. */
void rope_tables(float *cos, float *sin, int n_pos, int hd, double theta, double factor, double low_freq,
                 double high_freq, int orig_max_pos);

/* g[i] = silu(g[i]) * u[i] for n elements (the SwiGLU gate, in place). */
void swiglu_forward(float *g, const float *u, long n);
/* out[i] = silu(g[i]) * u[i]. */
void swiglu_forward_to(float *out, const float *g, const float *u, long n);
/* Given da = dL/d(silu(g) u): dg, du (overwritten). */
void swiglu_backward(float *dg, float *du, const float *da, const float *g, const float *u, long n);

/* out[i] += x[i] */
void add_inplace(float *out, const float *x, long n);

/* log(sum(exp(x[i]))), stable for any range. */
float logsumexp(const float *x, int n);

/* Numerically stable softmax of x[n] in place. */
void softmax_forward(float *x, int n);

#endif
