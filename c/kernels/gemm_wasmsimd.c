/* gemm_wasmsimd.c: WASM SIMD128 micro-kernel (contract in kernels_internal.h).
 *
 * 6x8: 12 f32x4 accumulators + 2 B vectors + 1 splat = 15 live v128 values.
 * V8 maps v128 onto the 16 x86 xmm registers and spills beyond that, so this
 * is as wide as the tile can go. SIMD128 has no FMA: mul then add.
 */
#include "kernels_internal.h"

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

void unr_f32_gemm_6x8__wasmsimd(int ks, int kc, const float *const *a,
                                ptrdiff_t as, const float *b, float *const *c,
                                const float *const *r, const float *bias,
                                int flags)
{
    v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00;
    v128_t c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    v128_t c30 = c00, c31 = c00, c40 = c00, c41 = c00;
    v128_t c50 = c00, c51 = c00;

    for (int s = 0; s < ks; s++, a += 6) {
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2];
        const float *a3 = a[3], *a4 = a[4], *a5 = a[5];
        ptrdiff_t o = 0;
        for (int k = 0; k < kc; k++, o += as, b += 8) {
            const v128_t b0 = wasm_v128_load(b);
            const v128_t b1 = wasm_v128_load(b + 4);
            v128_t t;
            t = wasm_v128_load32_splat(a0 + o);
            c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(t, b0));
            c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(t, b1));
            t = wasm_v128_load32_splat(a1 + o);
            c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(t, b0));
            c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(t, b1));
            t = wasm_v128_load32_splat(a2 + o);
            c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(t, b0));
            c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(t, b1));
            t = wasm_v128_load32_splat(a3 + o);
            c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(t, b0));
            c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(t, b1));
            t = wasm_v128_load32_splat(a4 + o);
            c40 = wasm_f32x4_add(c40, wasm_f32x4_mul(t, b0));
            c41 = wasm_f32x4_add(c41, wasm_f32x4_mul(t, b1));
            t = wasm_v128_load32_splat(a5 + o);
            c50 = wasm_f32x4_add(c50, wasm_f32x4_mul(t, b0));
            c51 = wasm_f32x4_add(c51, wasm_f32x4_mul(t, b1));
        }
    }

#define ROW(i, x0, x1)                                                      \
    store4(c[i], r ? r[i] : NULL, bias, flags, x0);                         \
    store4(c[i] + 4, r ? r[i] + 4 : NULL, bias ? bias + 4 : NULL, flags, x1)
    ROW(0, c00, c01);
    ROW(1, c10, c11);
    ROW(2, c20, c21);
    ROW(3, c30, c31);
    ROW(4, c40, c41);
    ROW(5, c50, c51);
#undef ROW
}

#else
typedef int unr_gemm_wasmsimd_unused;   /* ISO C forbids an empty file */
#endif
