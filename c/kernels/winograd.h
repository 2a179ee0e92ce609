/* winograd.h: Winograd F(m x m, 3x3), m = 2 or 4 (winograd.c), for 3x3
 * stride-1 convs. */
#ifndef UNR_WINOGRAD_H
#define UNR_WINOGRAD_H

#include "kernels.h"

#include <stddef.h>

/* The weights are read as g(ky, kx, in, out) = w[tap*tap_stride +
 * in*in_stride + out*out_stride], tap = ky*3 + kx, or (2-ky)*3 + (2-kx)
 * when flip: a forward conv reads HWIO as is; backward-data reads it
 * flipped with in and out swapped. */
typedef struct {
    const float *w;
    ptrdiff_t tap_stride, in_stride, out_stride;
    int flip;
} unr_wino_weights;

/* Whether the dispatch uses it: 3x3, stride 1, channels multiples of 4 and
 * at least the ISA's winograd_min_channels (isa.c: 16, 8 in WASM), and
 * enough pixels to pay for transforming the weights.
 * unr_winograd_conv itself takes any 3x3 stride-1 shape with channels a
 * multiple of 4. */
int unr_winograd_fits(const unr_ctx *ctx, const unr_conv_shape *s);
/* y = epilogue(conv(x, g)) with s->ci in and s->co out channels, same H, W,
 * in m x m output tiles; flags as the micro-kernels' (ukernel.h). Returns 0
 * (nothing written) if m is not 2 or 4 or scratch memory runs out. */
int unr_winograd_conv(unr_ctx *ctx, int m, const unr_conv_shape *s, const float *x,
                      const unr_wino_weights *wt, const float *bias,
                      const float *residual, int flags, float *y);

/* dw += backward-weights of a 3x3 stride-1 conv (HWIO, as
 * unr_conv_backward_weights) by Winograd F(m x m, 3x3). Returns 0 (nothing
 * written) if m is not 2 or 4, a channel count is not a multiple of 4, or
 * scratch memory runs out. */
int unr_winograd_backward_weights(unr_ctx *ctx, int m, const unr_conv_shape *s,
                                  const float *x, const float *dy, float *dw);

#endif
