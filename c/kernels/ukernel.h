/* ukernel.h: the micro-kernels (gemm_avx2.c, gemm_wasmsimd.c) and their
 * contract with the GEMM driver (gemm.c) and Winograd (winograd.c).
 *
 * Every fast path is one GEMM driver around one register-blocked
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
#ifndef UNR_UKERNEL_H
#define UNR_UKERNEL_H

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

/* The micro-kernel flags for an epilogue (bias and residual travel as
 * pointers). */
static inline int unr_uk_flags(const unr_epilogue *ep)
{
    if (!ep)
        return 0;
    return (ep->relu ? UNR_UK_RELU : 0) |
           (ep->accumulate ? UNR_UK_ACCUMULATE : 0);
}

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

#endif
