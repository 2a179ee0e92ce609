/* kernels_internal.h: what the kernel files share and nothing else sees.
 *
 * Every fast path is one GEMM driver (kernels.c) around one register-blocked
 * micro-kernel per ISA. The micro-kernel contract:
 *
 *   C[MR x NR] = epilogue( sum_{s < ks} sum_{k < kc} A_s[i][k] * B[s*kc + k][j] )
 *
 *   a      ks*MR row pointers, a[s*MR + i]; element k of row i in segment s
 *          is a[s*MR + i][k * as]. Implicit im2col: a conv tap is a segment,
 *          its rows point straight into the NHWC input (or at zeros).
 *   b      packed panel: ks*kc rows of NR floats, contiguous, zero-padded.
 *   c      MR row pointers to NR contiguous outputs each.
 *   r      MR residual row pointers (same shape as c) or NULL.
 *   bias   NR floats or NULL.
 *   flags  UNR_UK_RELU / UNR_UK_ACCUMULATE.
 *
 * The micro-kernel only ever sees full tiles: the driver sends partial tiles
 * to a private MR x NR buffer and finishes them with a scalar epilogue, and
 * pads missing A rows by repeating row 0. ks may be 0 (C = epilogue(0)).
 *
 * A spaced micro-kernel (unr_spaced_ukernel) keeps the contract with one
 * promise more from the driver: as == 1 and row i of every segment is
 * a[s*MR] + i*spacing floats, so it reads a[s*MR] only. The driver uses it
 * for full tiles of adjacent pixels of a zero-padded input.
 */
#ifndef UNR_KERNELS_INTERNAL_H
#define UNR_KERNELS_INTERNAL_H

#include "kernels.h"

#include <stddef.h>

#define UNR_UK_RELU       1
#define UNR_UK_ACCUMULATE 2

/* The largest micro-tile any ISA uses; sizes the partial-tile buffer. */
#define UNR_MAX_MR 8
#define UNR_MAX_NR 16
/* Convs are 1x1 or 3x3; the indirection table is sized for 3x3. */
#define UNR_MAX_TAPS 9

typedef void (*unr_ukernel_fn)(int ks, int kc, const float *const *a,
                               ptrdiff_t as, const float *b, float *const *c,
                               const float *const *r, const float *bias,
                               int flags);

typedef struct {
    int mr, nr;
    unr_ukernel_fn fn;
    const char *name;
} unr_ukernel;

/* Spaced micro-kernels, each standing in for the context's micro-kernel of
 * the same mr x nr when rows are `spacing` floats apart. */
#define UNR_MAX_SPACED 5
typedef struct {
    int spacing;            /* floats between rows; 0 ends the list */
    int mr, nr;
    unr_ukernel_fn fn;
} unr_spaced_ukernel;

#if defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#define UNR_HAVE_AVX2_BUILD 1
void unr_f32_gemm_6x16__avx2(int ks, int kc, const float *const *a,
                             ptrdiff_t as, const float *b, float *const *c,
                             const float *const *r, const float *bias,
                             int flags);
void unr_f32_gemm_6x8__avx2(int ks, int kc, const float *const *a,
                            ptrdiff_t as, const float *b, float *const *c,
                            const float *const *r, const float *bias,
                            int flags);
void unr_f32_gemm_8x8__avx2(int ks, int kc, const float *const *a,
                            ptrdiff_t as, const float *b, float *const *c,
                            const float *const *r, const float *bias,
                            int flags);
void unr_f32_gemm_8x8__avx2_s8(int ks, int kc, const float *const *a,
                               ptrdiff_t as, const float *b, float *const *c,
                               const float *const *r, const float *bias,
                               int flags);
#endif

#if defined(__wasm_simd128__)
#define UNR_WASMSIMD_KERNEL(name)                                          \
    void name(int ks, int kc, const float *const *a, ptrdiff_t as,          \
              const float *b, float *const *c, const float *const *r,       \
              const float *bias, int flags);
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_6x8__wasmsimd)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd_s8)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd_s16)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd_s32)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd_s64)
UNR_WASMSIMD_KERNEL(unr_f32_gemm_4x8__wasmsimd_s128)
#undef UNR_WASMSIMD_KERNEL
/* Winograd's GEMMs, all positions of one group of 4 tiles x 8 columns per
 * call (contract in gemm_wasmsimd.c); _kD: kc must be D. */
#define UNR_WINO_GEMM(name)                                                \
    void name(int positions, int kc, const float *a, ptrdiff_t as,          \
              const float *b, ptrdiff_t bs, float *c);
UNR_WINO_GEMM(unr_f32_wino_gemm_4x8__wasmsimd)
UNR_WINO_GEMM(unr_f32_wino_gemm_4x8__wasmsimd_k8)
UNR_WINO_GEMM(unr_f32_wino_gemm_4x8__wasmsimd_k16)
UNR_WINO_GEMM(unr_f32_wino_gemm_4x8__wasmsimd_k32)
UNR_WINO_GEMM(unr_f32_wino_gemm_4x8__wasmsimd_k64)
#undef UNR_WINO_GEMM
#endif

/* What kernels.c lends the other kernel files: the micro-kernel for an
 * N-column GEMM, one shared scratch (read-only once a parallel region
 * starts) and one scratch per thread. Scratch calls return NULL when memory
 * runs out; contents do not survive the next call for the same buffer. */
const unr_ukernel *unr_ctx_pick_ukernel(const unr_ctx *ctx, int n);
float *unr_ctx_shared_scratch(unr_ctx *ctx, size_t n);
float *unr_ctx_thread_scratch(unr_ctx *ctx, int thread, size_t n);

/* Winograd F(m x m, 3x3), m = 2 or 4 (winograd.c), for 3x3 stride-1 convs.
 * The weights
 * are read as g(ky, kx, in, out) = w[tap*tap_stride + in*in_stride +
 * out*out_stride], tap = ky*3 + kx, or (2-ky)*3 + (2-kx) when flip: a
 * forward conv reads HWIO as is; backward-data reads it flipped with in and
 * out swapped. */
typedef struct {
    const float *w;
    ptrdiff_t tap_stride, in_stride, out_stride;
    int flip;
} unr_wino_weights;

/* Whether the dispatch uses it: 3x3, stride 1, channels multiples of 4 and
 * at least 16 (8 in WASM), and enough pixels to pay for transforming the
 * weights.
 * unr_winograd_conv itself takes any 3x3 stride-1 shape with channels a
 * multiple of 4. */
int unr_winograd_fits(const unr_ctx *ctx, const unr_conv_shape *s);
/* y = epilogue(conv(x, g)) with s->ci in and s->co out channels, same H, W,
 * in m x m output tiles. Returns 0 (nothing written) if m is not 2 or 4 or
 * scratch memory runs out. */
int unr_winograd_conv(unr_ctx *ctx, int m, const unr_conv_shape *s, const float *x,
                      const unr_wino_weights *wt, const float *bias,
                      const float *residual, int flags, float *y);

/* dw += backward-weights of a 3x3 stride-1 conv (HWIO, as
 * unr_conv_backward_weights) by Winograd F(m x m, 3x3). Returns 0 (nothing
 * written) if m is not 2 or 4, a channel count is not a multiple of 4, or
 * scratch memory runs out. */
int unr_winograd_backward_weights(unr_ctx *ctx, int m, const unr_conv_shape *s,
                                  const float *x, const float *dy, float *dw);

/* Scalar reference kernels (ref.c): plain loops, single thread, the truth. */
void unr_conv_forward__scalar(const unr_conv_shape *s, const float *x,
                              const float *w, const unr_epilogue *ep, float *y);
void unr_conv_backward_data__scalar(const unr_conv_shape *s, const float *dy,
                                    const float *w, float *dx, int accumulate);
void unr_conv_backward_weights__scalar(const unr_conv_shape *s,
                                       const float *x, const float *dy,
                                       float *dw);
void unr_gemm__scalar(int m, int n, int k,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      float *c, ptrdiff_t ldc, const unr_epilogue *ep);

#endif
