/* simd_peak.c: the WASM SIMD128 multiply-add peak of one core, compiled at
 * bench time by bench/wasm-vs-tfjs.mjs (emcc -O3 -msimd128, standalone).
 *
 * chains_N runs N independent f32x4 accumulators, each step acc = acc * m + a
 * (a mul and an add: SIMD128 has no FMA), all in registers. Few chains are
 * bound by the mul+add latency; enough of them by the two vector ports. V8
 * maps v128 values onto the 16 x86 xmm registers and keeps one as scratch,
 * so N + 2 constants must stay within 15: 13 chains fit, 14 spill.
 *
 * gemm_4x8 is the inner loop of unravel's 4x8 micro-kernel (8 accumulators,
 * two B vectors and a broadcast A value per row, rows at constant offsets
 * from one pointer as in its spaced variants, data in L1): the ceiling with
 * the loads a real kernel needs. gemm_6x8, the same with 12 accumulators,
 * shows what V8's register allocation does to a tile that should fit.
 */
#include <wasm_simd128.h>

#define R2(X) X(0) X(1)
#define R4(X) R2(X) X(2) X(3)
#define R6(X) R4(X) X(4) X(5)
#define R8(X) R6(X) X(6) X(7)
#define R12(X) R8(X) X(8) X(9) X(10) X(11)
#define R13(X) R12(X) X(12)
#define R14(X) R13(X) X(13)
#define R16(X) R14(X) X(14) X(15)

#define CHAIN(i) v128_t c##i = wasm_f32x4_splat(1.0f + 0.01f * i);
#define STEP(i) c##i = wasm_f32x4_add(wasm_f32x4_mul(c##i, m), a);
#define SUM(i) s = wasm_f32x4_add(s, c##i);

/* iters steps of N chains: 8 * N * iters flops. */
#define CHAINS(N)                                                          \
    __attribute__((export_name("chains_" #N))) float chains_##N(int iters) \
    {                                                                      \
        const v128_t m = wasm_f32x4_splat(0.99999f);                       \
        const v128_t a = wasm_f32x4_splat(1e-5f);                          \
        R##N(CHAIN)                                                        \
        for (int i = 0; i < iters; i++) {                                  \
            __asm__ volatile("" ::: "memory");                             \
            R##N(STEP)                                                     \
        }                                                                  \
        v128_t s = wasm_f32x4_splat(0.0f);                                 \
        R##N(SUM)                                                          \
        return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3); \
    }

CHAINS(4)
CHAINS(8)
CHAINS(12)
CHAINS(13)
CHAINS(14)
CHAINS(16)

#define K 64
static float A[K * 8] __attribute__((aligned(16)));
static float B[K * 8] __attribute__((aligned(16)));

__attribute__((export_name("init"))) void init(void)
{
    for (int i = 0; i < K * 8; i++) {
        A[i] = 1e-3f * (float)(i % 7);
        B[i] = 1e-3f * (float)(i % 5);
    }
}

#define DECL(r) v128_t c##r##0 = wasm_f32x4_splat(0.0f), c##r##1 = c##r##0;
#define ROW(r)                                                             \
    {                                                                      \
        const v128_t t = wasm_v128_load32_splat(pa + r);                    \
        c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(t, b0));           \
        c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(t, b1));           \
    }
#define RSUM(r) s = wasm_f32x4_add(s, wasm_f32x4_add(c##r##0, c##r##1));

/* iters passes over K steps: 2 * 32 * K * iters flops. */
__attribute__((export_name("gemm_4x8"))) float gemm_4x8(int iters)
{
    R4(DECL)
    for (int it = 0; it < iters; it++) {
        __asm__ volatile("" ::: "memory");
        const float *pa = A, *pb = B;
        for (int k = 0; k < K; k++, pa += 8, pb += 8) {
            const v128_t b0 = wasm_v128_load(pb);
            const v128_t b1 = wasm_v128_load(pb + 4);
            R4(ROW)
        }
    }
    v128_t s = wasm_f32x4_splat(0.0f);
    R4(RSUM)
    return wasm_f32x4_extract_lane(s, 0);
}

/* iters passes over K steps: 2 * 48 * K * iters flops. */
__attribute__((export_name("gemm_6x8"))) float gemm_6x8(int iters)
{
    R6(DECL)
    for (int it = 0; it < iters; it++) {
        __asm__ volatile("" ::: "memory");
        const float *pa = A, *pb = B;
        for (int k = 0; k < K; k++, pa += 8, pb += 8) {
            const v128_t b0 = wasm_v128_load(pb);
            const v128_t b1 = wasm_v128_load(pb + 4);
            R6(ROW)
        }
    }
    v128_t s = wasm_f32x4_splat(0.0f);
    R6(RSUM)
    return wasm_f32x4_extract_lane(s, 0);
}
