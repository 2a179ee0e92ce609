/* dispatch.c: the convolutions and the GEMM of kernels.h. Each call takes,
 * once, one of three implementations: the reference (ref.c) for the scalar
 * ISA, Winograd (winograd.c) for the 3x3 stride-1 convs it pays for, and
 * otherwise the GEMM driver around the ISA's micro-kernel (gemm.c). Where a
 * fast path cannot run (scratch memory ran out), the reference, which needs
 * none, does the work. */
#include "context.h"
#include "gemm.h"
#include "ref.h"
#include "winograd.h"

#include <assert.h>

void unr_conv_forward(unr_ctx *ctx, const unr_conv_shape *s, const float *x,
                      const float *w, const unr_epilogue *ep, float *y)
{
    assert(s->k == 1 || s->k == 3);
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    if (s->n <= 0 || ho <= 0 || wo <= 0 || s->co <= 0)
        return;
    if (unr_ctx_isa(ctx) == UNR_ISA_SCALAR) {
        unr_conv_forward__scalar(s, x, w, ep, y);
        return;
    }
    const int m = unr_ctx_winograd(ctx);
    if (m && unr_winograd_fits(ctx, s)) {
        const unr_wino_weights wt = {w, (ptrdiff_t)s->ci * s->co, s->co, 1, 0};
        if (unr_winograd_conv(ctx, m, s, x, &wt, ep ? ep->bias : NULL,
                              ep ? ep->residual : NULL, unr_uk_flags(ep), y))
            return;
    }
    if (!unr_conv_forward__ukernel(ctx, s, x, w, ep, y))
        unr_conv_forward__scalar(s, x, w, ep, y);
}

void unr_conv_backward_data(unr_ctx *ctx, const unr_conv_shape *s,
                            const float *dy, const float *w, float *dx,
                            int accumulate)
{
    assert(s->k == 1 || s->k == 3);
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    if (s->n <= 0 || s->h <= 0 || s->w <= 0 || s->ci <= 0)
        return;
    if (unr_ctx_isa(ctx) == UNR_ISA_SCALAR || ho <= 0 || wo <= 0) {
        unr_conv_backward_data__scalar(s, dy, w, dx, accumulate);
        return;
    }
    /* Stride 1: dx is a 3x3 conv of dy with the kernel flipped, Co in and
     * Ci out. */
    const int m = unr_ctx_winograd(ctx);
    const unr_conv_shape t = {s->n, s->h, s->w, s->co, s->ci, s->k, 1};
    if (m && s->stride == 1 && unr_winograd_fits(ctx, &t)) {
        const unr_wino_weights wt = {w, (ptrdiff_t)s->ci * s->co, 1, s->co, 1};
        if (unr_winograd_conv(ctx, m, &t, dy, &wt, NULL, NULL,
                              accumulate ? UNR_UK_ACCUMULATE : 0, dx))
            return;
    }
    if (!unr_conv_backward_data__ukernel(ctx, s, dy, w, dx, accumulate))
        unr_conv_backward_data__scalar(s, dy, w, dx, accumulate);
}

void unr_conv_backward_weights(unr_ctx *ctx, const unr_conv_shape *s,
                               const float *x, const float *dy, float *dw)
{
    assert(s->k == 1 || s->k == 3);
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    if (s->n <= 0 || ho <= 0 || wo <= 0 || s->ci <= 0 || s->co <= 0)
        return;
    if (unr_ctx_isa(ctx) == UNR_ISA_SCALAR) {
        unr_conv_backward_weights__scalar(s, x, dy, dw);
        return;
    }
    /* Winograd from 32 channels: at 16 its transforms (two thirds of the
     * time) cancel the GEMM savings (measured 72 GFLOP/s-equivalent both
     * ways at 32x32 16->16; 129 vs 81 at 16x16 32->32, 147 vs 80 at 8x8
     * 64->64, one thread). */
    const int m = unr_ctx_winograd(ctx);
    if (m && unr_winograd_fits(ctx, s) && s->ci >= 32 && s->co >= 32 &&
        unr_winograd_backward_weights(ctx, m, s, x, dy, dw))
        return;
    if (!unr_conv_backward_weights__ukernel(ctx, s, x, dy, dw))
        unr_conv_backward_weights__scalar(s, x, dy, dw);
}

void unr_gemm(unr_ctx *ctx, int m, int n, int k,
              const float *a, ptrdiff_t rsa, ptrdiff_t csa,
              const float *b, ptrdiff_t rsb, ptrdiff_t csb,
              float *c, ptrdiff_t ldc, const unr_epilogue *ep)
{
    if (m <= 0 || n <= 0)
        return;
    if (unr_ctx_isa(ctx) == UNR_ISA_SCALAR ||
        !unr_gemm__ukernel(ctx, m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, ep))
        unr_gemm__scalar(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, ep);
}
