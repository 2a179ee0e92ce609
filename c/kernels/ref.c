/* ref.c: scalar reference kernels. Plain loops over the definitions, one
 * thread, one output value at a time: slow and obviously right. Every other
 * variant is tested against these. The conv geometry (unr_conv_out_h/w) is
 * defined here too, with the reference. */
#include "ref.h"

/* ---------------------------------------------------------------- shapes */

int unr_conv_out_h(const unr_conv_shape *s)
{
    return (s->h + 2 * ((s->k - 1) / 2) - s->k) / s->stride + 1;
}

int unr_conv_out_w(const unr_conv_shape *s)
{
    return (s->w + 2 * ((s->k - 1) / 2) - s->k) / s->stride + 1;
}

/* ---------------------------------------------------------------- helpers */

static float apply_epilogue(float acc, const unr_epilogue *ep, size_t idx,
                            int col, float *out)
{
    if (ep && ep->accumulate)
        return *out + acc;
    float v = acc;
    if (ep && ep->bias)
        v += ep->bias[col];
    if (ep && ep->residual)
        v += ep->residual[idx];
    if (ep && ep->relu && v < 0.0f)
        v = 0.0f;
    return v;
}

/* ---------------------------------------------------------------- conv */

void unr_conv_forward__scalar(const unr_conv_shape *s, const float *x,
                              const float *w, const unr_epilogue *ep, float *y)
{
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const int pad = (s->k - 1) / 2;
    for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < ho; oy++)
    for (int ox = 0; ox < wo; ox++)
    for (int co = 0; co < s->co; co++) {
        float acc = 0.0f;
        for (int ky = 0; ky < s->k; ky++)
        for (int kx = 0; kx < s->k; kx++) {
            const int iy = oy * s->stride + ky - pad;
            const int ix = ox * s->stride + kx - pad;
            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                continue;   /* zero padding */
            for (int ci = 0; ci < s->ci; ci++)
                acc += x[(((size_t)b * s->h + iy) * s->w + ix) * s->ci + ci] *
                       w[((size_t)(ky * s->k + kx) * s->ci + ci) * s->co + co];
        }
        const size_t idx = (((size_t)b * ho + oy) * wo + ox) * s->co + co;
        y[idx] = apply_epilogue(acc, ep, idx, co, &y[idx]);
    }
}

void unr_conv_backward_data__scalar(const unr_conv_shape *s, const float *dy,
                                    const float *w, float *dx, int accumulate)
{
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const int pad = (s->k - 1) / 2;
    /* Gather form: every input pixel sums the outputs it fed. */
    for (int b = 0; b < s->n; b++)
    for (int iy = 0; iy < s->h; iy++)
    for (int ix = 0; ix < s->w; ix++)
    for (int ci = 0; ci < s->ci; ci++) {
        float acc = 0.0f;
        for (int ky = 0; ky < s->k; ky++)
        for (int kx = 0; kx < s->k; kx++) {
            const int ty = iy + pad - ky, tx = ix + pad - kx;
            if (ty < 0 || tx < 0 || ty % s->stride || tx % s->stride)
                continue;
            const int oy = ty / s->stride, ox = tx / s->stride;
            if (oy >= ho || ox >= wo)
                continue;
            for (int co = 0; co < s->co; co++)
                acc += dy[(((size_t)b * ho + oy) * wo + ox) * s->co + co] *
                       w[((size_t)(ky * s->k + kx) * s->ci + ci) * s->co + co];
        }
        const size_t idx = (((size_t)b * s->h + iy) * s->w + ix) * s->ci + ci;
        dx[idx] = accumulate ? dx[idx] + acc : acc;
    }
}

void unr_conv_backward_weights__scalar(const unr_conv_shape *s,
                                       const float *x, const float *dy,
                                       float *dw)
{
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const int pad = (s->k - 1) / 2;
    for (int ky = 0; ky < s->k; ky++)
    for (int kx = 0; kx < s->k; kx++)
    for (int ci = 0; ci < s->ci; ci++)
    for (int co = 0; co < s->co; co++) {
        float acc = 0.0f;
        for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++) {
            const int iy = oy * s->stride + ky - pad;
            const int ix = ox * s->stride + kx - pad;
            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                continue;
            acc += x[(((size_t)b * s->h + iy) * s->w + ix) * s->ci + ci] *
                   dy[(((size_t)b * ho + oy) * wo + ox) * s->co + co];
        }
        dw[((size_t)(ky * s->k + kx) * s->ci + ci) * s->co + co] += acc;
    }
}

/* ---------------------------------------------------------------- gemm */

void unr_gemm__scalar(int m, int n, int k,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      float *c, ptrdiff_t ldc, const unr_epilogue *ep)
{
    for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
        float acc = 0.0f;
        for (int p = 0; p < k; p++)
            acc += a[i * rsa + p * csa] * b[p * rsb + j * csb];
        const size_t idx = (size_t)(i * ldc + j);
        c[idx] = apply_epilogue(acc, ep, idx, j, &c[idx]);
    }
}
