/* gemm.h: the GEMM driver (gemm.c): convolutions and plain GEMMs as tiles
 * of the context's micro-kernel, for every ISA that has one (isa.h).
 *
 * Each takes what its kernels.h counterpart takes, after the dispatch
 * (dispatch.c) has returned early on empty shapes, and returns 0, having
 * written nothing, when it cannot run: scratch memory ran out, or a shape
 * it does not take (backward-data stride over 4, k < 0). The dispatch then
 * runs the reference, which needs no memory. */
#ifndef UNR_GEMM_H
#define UNR_GEMM_H

#include "kernels.h"

#include <stddef.h>

int unr_conv_forward__ukernel(unr_ctx *ctx, const unr_conv_shape *s, const float *x,
                              const float *w, const unr_epilogue *ep, float *y);
int unr_conv_backward_data__ukernel(unr_ctx *ctx, const unr_conv_shape *s,
                                    const float *dy, const float *w, float *dx,
                                    int accumulate);
int unr_conv_backward_weights__ukernel(unr_ctx *ctx, const unr_conv_shape *s,
                                       const float *x, const float *dy, float *dw);
int unr_gemm__ukernel(unr_ctx *ctx, int m, int n, int k,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      float *c, ptrdiff_t ldc, const unr_epilogue *ep);

#endif
