/* gemm_avx2.c: AVX2 + FMA micro-kernels (contract in ukernel.h).
 *
 * Compiled with target attributes rather than -mavx2 for the whole file, so
 * the build needs no per-file flags and the rest of the program still runs
 * on CPUs without AVX2 (the context only picks these after a CPUID check).
 *
 * 6x16: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm
 * registers; per k, 8 loads feed 12 FMAs, so the FMA ports set the pace.
 */
#include "ukernel.h"

#if defined(UNR_HAVE_AVX2_BUILD)
#include <immintrin.h>

#define UNR_AVX2 __attribute__((target("avx2,fma")))

/* Epilogue for one row of 8 columns: bias, residual, relu, or accumulate. */
static inline UNR_AVX2 void store8(float *c, const float *r, const float *bias,
                                   int flags, __m256 v)
{
    if (flags & UNR_UK_ACCUMULATE) {
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), v));
        return;
    }
    if (bias)
        v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    if (r)
        v = _mm256_add_ps(v, _mm256_loadu_ps(r));
    if (flags & UNR_UK_RELU)
        v = _mm256_max_ps(_mm256_setzero_ps(), v);   /* keeps NaN, like ref */
    _mm256_storeu_ps(c, v);
}

UNR_AVX2 void unr_f32_gemm_6x16__avx2(int ks, int kc, const float *const *a,
                                      ptrdiff_t as, const float *b,
                                      float *const *c, const float *const *r,
                                      const float *bias, int flags)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    for (int s = 0; s < ks; s++, a += 6) {
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2];
        const float *a3 = a[3], *a4 = a[4], *a5 = a[5];
        ptrdiff_t o = 0;
        for (int k = 0; k < kc; k++, o += as, b += 16) {
            const __m256 b0 = _mm256_loadu_ps(b);
            const __m256 b1 = _mm256_loadu_ps(b + 8);
            __m256 t;
            t = _mm256_broadcast_ss(a0 + o);
            c00 = _mm256_fmadd_ps(t, b0, c00);
            c01 = _mm256_fmadd_ps(t, b1, c01);
            t = _mm256_broadcast_ss(a1 + o);
            c10 = _mm256_fmadd_ps(t, b0, c10);
            c11 = _mm256_fmadd_ps(t, b1, c11);
            t = _mm256_broadcast_ss(a2 + o);
            c20 = _mm256_fmadd_ps(t, b0, c20);
            c21 = _mm256_fmadd_ps(t, b1, c21);
            t = _mm256_broadcast_ss(a3 + o);
            c30 = _mm256_fmadd_ps(t, b0, c30);
            c31 = _mm256_fmadd_ps(t, b1, c31);
            t = _mm256_broadcast_ss(a4 + o);
            c40 = _mm256_fmadd_ps(t, b0, c40);
            c41 = _mm256_fmadd_ps(t, b1, c41);
            t = _mm256_broadcast_ss(a5 + o);
            c50 = _mm256_fmadd_ps(t, b0, c50);
            c51 = _mm256_fmadd_ps(t, b1, c51);
        }
    }

#define ROW(i, x0, x1)                                                      \
    store8(c[i], r ? r[i] : NULL, bias, flags, x0);                         \
    store8(c[i] + 8, r ? r[i] + 8 : NULL, bias ? bias + 8 : NULL, flags, x1)
    ROW(0, c00, c01);
    ROW(1, c10, c11);
    ROW(2, c20, c21);
    ROW(3, c30, c31);
    ROW(4, c40, c41);
    ROW(5, c50, c51);
#undef ROW
}

/* MRx8 kernels for 8-channel layers, where 6x16 would waste half its work,
 * written once over the row count. 8x8 is the one the context uses: 8
 * accumulator chains cover the FMA latency (4 cycles x 2 ports) where 6x8
 * left a quarter of the FMA slots idle; per k, 9 loads feed 8 FMAs. 12 rows
 * would need more pointers than x86-64 has general registers (measured:
 * spills made 12x8 slower than 6x8). 6x8 stays for bench/kernels.c. */
#define DECL8(i)  __m256 c##i = _mm256_setzero_ps();
#define APTR8(i)  const float *a##i = a[i];
#define STEP8(i)  c##i = _mm256_fmadd_ps(_mm256_broadcast_ss(a##i + o), b0, c##i);
#define STORE8(i) store8(c[i], r ? r[i] : NULL, bias, flags, c##i);
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ROWS8(X) ROWS6(X) X(6) X(7)

#define GEMM_MRX8(MR)                                                       \
    UNR_AVX2 void unr_f32_gemm_##MR##x8__avx2(                              \
        int ks, int kc, const float *const *a, ptrdiff_t as, const float *b,\
        float *const *c, const float *const *r, const float *bias,          \
        int flags)                                                          \
    {                                                                       \
        ROWS##MR(DECL8)                                                     \
        for (int s = 0; s < ks; s++, a += MR) {                             \
            ROWS##MR(APTR8)                                                 \
            ptrdiff_t o = 0;                                                \
            for (int k = 0; k < kc; k++, o += as, b += 8) {                 \
                const __m256 b0 = _mm256_loadu_ps(b);                       \
                ROWS##MR(STEP8)                                             \
            }                                                               \
        }                                                                   \
        ROWS##MR(STORE8)                                                    \
    }

/* 8x8 over rows D floats apart (a tile of 8 adjacent pixels of a padded
 * input with D / stride channels): one pointer per K segment instead of
 * eight, so the driver sets up 3 pointers per tile, not 24 (see the spaced
 * contract). */
#define STEP8_SPACED(i) \
    c##i = _mm256_fmadd_ps(_mm256_broadcast_ss(p + (i) * D), b0, c##i);

#define GEMM_8X8_SPACED(DD)                                                 \
    UNR_AVX2 void unr_f32_gemm_8x8__avx2_s##DD(                             \
        int ks, int kc, const float *const *a, ptrdiff_t as, const float *b,\
        float *const *c, const float *const *r, const float *bias,          \
        int flags)                                                          \
    {                                                                       \
        enum { D = DD };                                                    \
        (void)as;                                                           \
        ROWS8(DECL8)                                                        \
        for (int s = 0; s < ks; s++, a += 8) {                              \
            const float *p = a[0];                                          \
            for (int k = 0; k < kc; k++, p++, b += 8) {                     \
                const __m256 b0 = _mm256_loadu_ps(b);                       \
                ROWS8(STEP8_SPACED)                                         \
            }                                                               \
        }                                                                   \
        ROWS8(STORE8)                                                       \
    }

GEMM_MRX8(8)
GEMM_MRX8(6)
GEMM_8X8_SPACED(8)

#else
typedef int unr_gemm_avx2_unused;   /* ISO C forbids an empty file */
#endif
