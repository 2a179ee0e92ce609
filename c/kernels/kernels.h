/* kernels.h: the compute kernels under the network code.
 *
 * Activations are NHWC float32: x[((n*H + y)*W + x)*C + c].
 * Conv weights are HWIO: w[((ky*K + kx)*Ci + ci)*Co + co] (K = 1 or 3).
 *
 * Every kernel exists as a scalar reference (the truth) and, where the build
 * allows, an AVX2/FMA (native x86-64) or WASM SIMD128 variant. A context picks
 * the variant once; tests create one context per variant and compare.
 * The context also owns the thread pool (native only) and the scratch memory
 * the kernels need, so no kernel allocates in a hot loop.
 */
#ifndef UNR_KERNELS_H
#define UNR_KERNELS_H

#include <stddef.h>

typedef enum {
    UNR_ISA_AUTO = 0,   /* best the build and the CPU support */
    UNR_ISA_SCALAR,     /* the reference */
    UNR_ISA_AVX2,       /* x86-64 AVX2 + FMA, native builds only */
    UNR_ISA_WASMSIMD,   /* WASM SIMD128, wasm builds only */
    UNR_ISA_COUNT
} unr_isa;

typedef struct unr_ctx unr_ctx;

/* threads <= 0 means one per online CPU. Returns NULL if the ISA is not
 * available in this build or on this CPU, or if memory runs out. */
unr_ctx *unr_ctx_create(int threads, unr_isa isa);
void unr_ctx_destroy(unr_ctx *ctx);
unr_isa unr_ctx_isa(const unr_ctx *ctx);
int unr_ctx_threads(const unr_ctx *ctx);
const char *unr_isa_name(unr_isa isa);
/* 3x3 stride-1 convs use Winograd F(m x m, 3x3) where it pays: on by
 * default (m = 4) for AVX2 and WASM SIMD128, never for the scalar
 * reference. m = 0 turns it off (every conv is the
 * direct GEMM), 2 or 4 picks the tile, any other value the default. */
void unr_ctx_set_winograd(unr_ctx *ctx, int m);
int unr_isa_available(unr_isa isa);

/* What happens to each output value after the sum:
 *   v = acc + bias[co] (if bias) + residual[...] (if residual)
 *   v = max(v, 0) if relu
 *   y = v, or y += v if accumulate (then bias/residual/relu must be off). */
typedef struct {
    const float *bias;      /* [Co] or NULL */
    const float *residual;  /* same shape and layout as y, or NULL */
    int relu;
    int accumulate;
} unr_epilogue;

/* Geometry of one convolution. pad is (k-1)/2 in this project: 1 for 3x3,
 * 0 for 1x1. Ho = (H + 2*pad - k)/stride + 1, likewise Wo. */
typedef struct {
    int n, h, w, ci, co;
    int k;        /* 1 or 3 */
    int stride;   /* 1 or 2 */
} unr_conv_shape;

int unr_conv_out_h(const unr_conv_shape *s);
int unr_conv_out_w(const unr_conv_shape *s);

/* y[n,Ho,Wo,Co] = epilogue(conv(x[n,H,W,Ci], w)) */
void unr_conv_forward(unr_ctx *ctx, const unr_conv_shape *s, const float *x,
                      const float *w, const unr_epilogue *ep, float *y);

/* dx[n,H,W,Ci] (=, or += if accumulate) = gradient of the conv w.r.t. its
 * input, given dy[n,Ho,Wo,Co]. */
void unr_conv_backward_data(unr_ctx *ctx, const unr_conv_shape *s,
                            const float *dy, const float *w, float *dx,
                            int accumulate);

/* dw[k,k,Ci,Co] += gradient w.r.t. the weights, given x and dy. */
void unr_conv_backward_weights(unr_ctx *ctx, const unr_conv_shape *s,
                               const float *x, const float *dy, float *dw);

/* Plain row-major GEMM with general strides, for the linear layer and for
 * anything else that needs one:
 *   C[i*ldc + j] = epilogue(sum_p A[i*rsa + p*csa] * B[p*rsb + j*csb])
 * The epilogue's residual, if any, has row stride ldc. */
void unr_gemm(unr_ctx *ctx, int m, int n, int k,
              const float *a, ptrdiff_t rsa, ptrdiff_t csa,
              const float *b, ptrdiff_t rsb, ptrdiff_t csb,
              float *c, ptrdiff_t ldc, const unr_epilogue *ep);

/* Run fn(arg, i) for i in [0, count) across the context's threads, and wait.
 * Work is split into contiguous chunks; fn must be safe to run concurrently
 * for different i. */
typedef void (*unr_parallel_fn)(void *arg, int begin, int end, int thread);
void unr_parallel_for(unr_ctx *ctx, int count, unr_parallel_fn fn, void *arg);

#endif
