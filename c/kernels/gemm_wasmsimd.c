/* gemm_wasmsimd.c: WASM SIMD128 micro-kernels (contract in ukernel.h).
 *
 * MRx8: 2*MR f32x4 accumulators, 2 B vectors, one broadcast A value and one
 * product per step. V8 maps v128 values onto the 16 x86 xmm registers and
 * keeps one as scratch; its loop unrolling and scheduling hoist the A loads
 * of several rows, so a tile that fits on paper (6x8: 12 + 2 + 1 + 1) still
 * spills every step. 4x8 (12 live) spills nothing: measured, it beats 6x8
 * despite loading B 1.5 times as often. SIMD128 has no FMA: mul then add.
 *
 * V8 computes every load address as memory base + one 32-bit register +
 * a constant, so a0 + k costs an add per row per step. The _sD variants take
 * rows D floats apart (a conv tile of adjacent pixels over a padded input):
 * one pointer per segment, the rows at constant offsets, 3 adds fewer per
 * step; measured 12-16% faster than plain 4x8 alone, 8-10% on ResNet-20/56.
 */
#include "ukernel.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

static inline void store4(float *c, const float *r, const float *bias,
                          int flags, v128_t v)
{
    if (flags & UNR_UK_ACCUMULATE) {
        wasm_v128_store(c, wasm_f32x4_add(wasm_v128_load(c), v));
        return;
    }
    if (bias)
        v = wasm_f32x4_add(v, wasm_v128_load(bias));
    if (r)
        v = wasm_f32x4_add(v, wasm_v128_load(r));
    if (flags & UNR_UK_RELU)
        v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f));  /* keeps NaN */
    wasm_v128_store(c, v);
}

/* The per-row vocabulary: declare, step, store. */
#define DECL(i)   v128_t c##i##0 = wasm_f32x4_splat(0.0f), c##i##1 = c##i##0;
#define APTR(i)   const float *a##i = a[i];
#define STEP(i)                                                             \
    {                                                                       \
        const v128_t t = wasm_v128_load32_splat(a##i + o);                  \
        c##i##0 = wasm_f32x4_add(c##i##0, wasm_f32x4_mul(t, b0));           \
        c##i##1 = wasm_f32x4_add(c##i##1, wasm_f32x4_mul(t, b1));           \
    }
#define STORE(i)                                                            \
    store4(c[i], r ? r[i] : NULL, bias, flags, c##i##0);                    \
    store4(c[i] + 4, r ? r[i] + 4 : NULL, bias ? bias + 4 : NULL, flags,    \
           c##i##1);
#define ROWS4(X) X(0) X(1) X(2) X(3)
#define ROWS6(X) ROWS4(X) X(4) X(5)

#define GEMM_MRX8(MR)                                                       \
    void unr_f32_gemm_##MR##x8__wasmsimd(                                   \
        int ks, int kc, const float *const *a, ptrdiff_t as, const float *b,\
        float *const *c, const float *const *r, const float *bias,          \
        int flags)                                                          \
    {                                                                       \
        ROWS##MR(DECL)                                                      \
        for (int s = 0; s < ks; s++, a += MR) {                             \
            ROWS##MR(APTR)                                                  \
            ptrdiff_t o = 0;                                                \
            for (int k = 0; k < kc; k++, o += as, b += 8) {                 \
                const v128_t b0 = wasm_v128_load(b);                        \
                const v128_t b1 = wasm_v128_load(b + 4);                    \
                ROWS##MR(STEP)                                              \
            }                                                               \
        }                                                                   \
        ROWS##MR(STORE)                                                     \
    }

/* Rows D floats apart: row i of segment s is a[s*MR] + i*D; as must be 1. */
#define STEP_SPACED(i)                                                      \
    {                                                                       \
        const v128_t t = wasm_v128_load32_splat(p + (i) * D);               \
        c##i##0 = wasm_f32x4_add(c##i##0, wasm_f32x4_mul(t, b0));           \
        c##i##1 = wasm_f32x4_add(c##i##1, wasm_f32x4_mul(t, b1));           \
    }

#define GEMM_4X8_SPACED(DD)                                                 \
    void unr_f32_gemm_4x8__wasmsimd_s##DD(                                  \
        int ks, int kc, const float *const *a, ptrdiff_t as, const float *b,\
        float *const *c, const float *const *r, const float *bias,          \
        int flags)                                                          \
    {                                                                       \
        enum { D = DD };                                                    \
        (void)as;                                                           \
        ROWS4(DECL)                                                         \
        for (int s = 0; s < ks; s++, a += 4) {                              \
            const float *p = a[0], *const end = p + kc;                     \
            for (; p < end; p++, b += 8) {                                  \
                const v128_t b0 = wasm_v128_load(b);                        \
                const v128_t b1 = wasm_v128_load(b + 4);                    \
                ROWS4(STEP_SPACED)                                          \
            }                                                               \
        }                                                                   \
        ROWS4(STORE)                                                        \
    }

GEMM_MRX8(4)    /* the one the context uses */
GEMM_MRX8(6)    /* for comparison (bench/kernels.c, bench/simd_peak.c) */
/* 3x3 convs over 8, 16, 32, 64 channels at stride 1, 8, 16 and 32 at
 * stride 2 (spacing = stride * channels). */
GEMM_4X8_SPACED(8)
GEMM_4X8_SPACED(16)
GEMM_4X8_SPACED(32)
GEMM_4X8_SPACED(64)
GEMM_4X8_SPACED(128)


/* Winograd's a^2 GEMMs for one group of 4 tiles and one 8-column panel, all
 * positions in one call (winograd.c, grouped layout): position p's A is 4
 * rows kc floats apart at a + p*as (row i of V holds tile i of the group),
 * its B the packed kc x 8 panel at b + p*bs, its C one contiguous 4 x 8
 * block at c + p*32. With K = Ci as short as 8, a call per position spent
 * about half its time outside the K loop; the _kD variants have kc = D
 * fixed, so the K loop unrolls and every load is at a constant offset. */
#define WINO_STEP(i)                                                        \
    {                                                                       \
        const v128_t t = wasm_v128_load32_splat(pa + (i) * KC + k);         \
        c##i##0 = wasm_f32x4_add(c##i##0, wasm_f32x4_mul(t, b0));           \
        c##i##1 = wasm_f32x4_add(c##i##1, wasm_f32x4_mul(t, b1));           \
    }
#define WINO_STORE(i)                                                       \
    wasm_v128_store(pc + 8 * (i), c##i##0);                                 \
    wasm_v128_store(pc + 8 * (i) + 4, c##i##1);

#define WINO_GEMM_BODY                                                      \
    for (int p = 0; p < positions; p++) {                                   \
        const float *pa = a + (ptrdiff_t)p * as;                            \
        const float *pb = b + (ptrdiff_t)p * bs;                            \
        float *pc = c + (ptrdiff_t)p * 32;                                  \
        ROWS4(DECL)                                                         \
        for (int k = 0; k < KC; k++, pb += 8) {                             \
            const v128_t b0 = wasm_v128_load(pb);                           \
            const v128_t b1 = wasm_v128_load(pb + 4);                       \
            ROWS4(WINO_STEP)                                                \
        }                                                                   \
        ROWS4(WINO_STORE)                                                   \
    }

void unr_f32_wino_gemm_4x8__wasmsimd(int positions, int kc, const float *a, ptrdiff_t as,
                                     const float *b, ptrdiff_t bs, float *c)
{
    const int KC = kc;
    WINO_GEMM_BODY
}

#define WINO_GEMM_K(DD)                                                     \
    void unr_f32_wino_gemm_4x8__wasmsimd_k##DD(                             \
        int positions, int kc, const float *a, ptrdiff_t as,                \
        const float *b, ptrdiff_t bs, float *c)                             \
    {                                                                       \
        enum { KC = DD };                                                   \
        (void)kc;                                                           \
        WINO_GEMM_BODY                                                      \
    }
WINO_GEMM_K(8)
WINO_GEMM_K(16)
WINO_GEMM_K(32)
WINO_GEMM_K(64)

#else
typedef int unr_gemm_wasmsimd_unused;   /* ISO C forbids an empty file */
#endif
