/* simd_peak.c: the WASM SIMD128 multiply-add peak of one core, compiled at
 * bench time by bench/wasm-vs-tfjs.mjs (emcc -O3 -msimd128, standalone).
 *
 * peak_R runs the inner loop of a GEMM micro-kernel with R rows and two
 * f32x4 columns: per step, two vector loads of B, R broadcast loads of A,
 * and 2R independent accumulators acc += a * b (a mul and an add each:
 * SIMD128 has no FMA). Data stays in L1, so this is the arithmetic ceiling.
 * Live v128 values are 2R + 3: V8 maps them onto the 16 x86 xmm registers,
 * so R = 6 (12 accumulators) fits and R = 7 (14) spills. scalar_peak is the
 * same loop with R = 6 and scalar floats, 2 columns.
 */
#include <wasm_simd128.h>

#define K 64                          /* steps over the L1-resident panels */
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
#define STEP(r)                                                            \
    {                                                                      \
        const v128_t t = wasm_v128_load32_splat(a + r);                     \
        c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(t, b0));           \
        c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(t, b1));           \
    }
#define SUM(r) s = wasm_f32x4_add(s, wasm_f32x4_add(c##r##0, c##r##1));

#define PEAK(R, REP)                                                       \
    __attribute__((export_name("peak_" #R))) float peak_##R(int iters)     \
    {                                                                      \
        REP(DECL)                                                          \
        for (int it = 0; it < iters; it++) {                               \
            __asm__ volatile("" ::: "memory");                             \
            const float *a = A, *b = B;                                    \
            for (int k = 0; k < K; k++, a += 8, b += 8) {                  \
                const v128_t b0 = wasm_v128_load(b);                       \
                const v128_t b1 = wasm_v128_load(b + 4);                   \
                REP(STEP)                                                  \
            }                                                              \
        }                                                                  \
        v128_t s = wasm_f32x4_splat(0.0f);                                 \
        REP(SUM)                                                           \
        return wasm_f32x4_extract_lane(s, 0);                              \
    }

#define R2(X) X(0) X(1)
#define R4(X) R2(X) X(2) X(3)
#define R6(X) R4(X) X(4) X(5)
#define R7(X) R6(X) X(6)

PEAK(2, R2)
PEAK(4, R4)
PEAK(6, R6)
PEAK(7, R7)

#define SDECL(r) float s##r##0 = 0.0f, s##r##1 = 0.0f;
#define SSTEP(r)                                                           \
    {                                                                      \
        const float t = a[r];                                              \
        s##r##0 += t * b[0];                                               \
        s##r##1 += t * b[1];                                               \
    }
#define SSUM(r) s += s##r##0 + s##r##1;

__attribute__((export_name("scalar_peak"))) float scalar_peak(int iters)
{
    R6(SDECL)
    for (int it = 0; it < iters; it++) {
        __asm__ volatile("" ::: "memory");
        const float *a = A, *b = B;
        for (int k = 0; k < K; k++, a += 8, b += 8)
            R6(SSTEP)
    }
    float s = 0.0f;
    R6(SSUM)
    return s;
}
