/* winograd.c: 3x3 stride-1 convolutions as Winograd F(2x2, 3x3) or
 * F(4x4, 3x3): forward and backward-data here, backward-weights at the end
 * of the file.
 *
 * Each m x m block of outputs ("tile") comes from an a x a patch of input,
 * a = m + 2. With the transforms of Lavin & Gray (2016),
 *
 *   U = G g G^T (per in/out channel pair),  V = B^T d B (per tile and input
 *   channel),  Y = A^T [U . V summed over input channels] A,
 *
 * the 9 multiply-adds per output pixel and channel pair of the direct conv
 * become a^2 / m^2: 16 per 4 outputs for F(2x2) (2.25x fewer), 36 per 16
 * for F(4x4) (4x fewer). The sum over input channels at each of the a^2
 * transform positions is a GEMM (tiles x Ci) x (Ci x Co), run by the ISA's
 * micro-kernel, so this file only adds the transforms:
 *
 *   per block of tiles (sized to stay in L2), on each thread:
 *     V[tiles][a^2][Ci] <- input transform (zeros outside the image)
 *     M[tiles][a^2][Co] <- a^2 micro-kernel GEMMs with the packed U
 *     y                 <- output transform + epilogue (bias, residual,
 *                          relu, or accumulate), edge tiles clipped
 *
 * F(2x2)'s transforms only add and subtract (G's halves are exact in
 * binary), so it loses almost nothing to rounding. F(4x4)'s constants (4, 5,
 * 1/6, 1/24) round, costing about one more decimal digit; tests hold both to
 * the same tolerance as the direct kernels.
 */
#include "winograd.h"
#include "context.h"
#include "vec4.h"

#include <string.h>

/* V and M of one block together stay under this many floats (256 KiB). */
#define WINO_BLOCK_FLOATS 65536

/* Below this many output pixels the per-call weight transform costs more
 * than the 2.25x saves (batch 1 at 8x8 is 64 pixels). */
#define WINO_MIN_PIXELS 256

/* The transforms run over channels in vectors: 8 wide with AVX2 (native),
 * 4 wide elsewhere (SSE, WASM SIMD128). They are written once, as macros
 * over the vector type, and every loop over the 16 patch positions is
 * unrolled so the patch lives in registers, not on the stack. */

typedef void (*wino_gemm_fn)(int positions, int kc, const float *a, ptrdiff_t as,
                             const float *b, ptrdiff_t bs, float *c);

/* d: the a^2 patch pixels (row-major); y, res: the m^2 outputs. */
typedef void (*input_tile_fn)(const float *const *d, int ci, float *v,
                              size_t pstride);
typedef void (*output_tile_fn)(const float *m, size_t pstride, int co,
                               float *const *y, const float *const *res,
                               const float *bias, int flags);

/* One output vector through the epilogue: accumulate, or bias, residual,
 * relu. ReLU maps v < 0 to 0 and keeps NaN, as the reference does. */
#define EPILOGUE(VT, VTI, LD, ST, zero, yk, rk, c, bias, flags, v0)         \
    do {                                                                    \
        VT v = (v0);                                                        \
        if ((flags) & UNR_UK_ACCUMULATE) {                                  \
            ST((yk) + (c), LD((yk) + (c)) + v);                             \
            break;                                                          \
        }                                                                   \
        if (bias)                                                           \
            v += LD((bias) + (c));                                          \
        if (rk)                                                             \
            v += LD((rk) + (c));                                            \
        if ((flags) & UNR_UK_RELU)                                          \
            v = (VT)((VTI)v & ~(VTI)(v < (zero)));                          \
        ST((yk) + (c), v);                                                  \
    } while (0)

/* V[p][row] = (B^T d B)[p] for one tile; d[16] point at the patch's pixels
 * (row-major 4x4), or at zeros. W channels per step. */
#define INPUT_TILE(NAME, ATTR, VT, W, LD, ST)                                 \
    static ATTR void NAME(const float *const *d, int ci, float *v,          \
                          size_t pstride)                                   \
    {                                                                       \
        for (int c = 0; c < ci; c += W) {                                   \
            VT x[16], t[16];                                                \
            _Pragma("GCC unroll 16")                                        \
            for (int e = 0; e < 16; e++)                                    \
                x[e] = LD(d[e] + c);                                        \
            _Pragma("GCC unroll 4")                                         \
            for (int col = 0; col < 4; col++) {     /* t = B^T x */         \
                t[0 + col] = x[0 + col] - x[8 + col];                       \
                t[4 + col] = x[4 + col] + x[8 + col];                       \
                t[8 + col] = x[8 + col] - x[4 + col];                       \
                t[12 + col] = x[4 + col] - x[12 + col];                     \
            }                                                               \
            _Pragma("GCC unroll 4")                                         \
            for (int r = 0; r < 4; r++) {           /* V = t B */           \
                float *o = v + (size_t)(4 * r) * pstride + c;               \
                ST(o, t[4 * r] - t[4 * r + 2]);                             \
                ST(o + pstride, t[4 * r + 1] + t[4 * r + 2]);               \
                ST(o + 2 * pstride, t[4 * r + 2] - t[4 * r + 1]);           \
                ST(o + 3 * pstride, t[4 * r + 1] - t[4 * r + 3]);           \
            }                                                               \
        }                                                                   \
    }

/* The 2x2 outputs (A^T M A) of one tile, through the epilogue; y[k] NULL
 * for outputs past the image edge. */
#define OUTPUT_TILE(NAME, ATTR, VT, VTI, W, LD, ST)                           \
    static ATTR void NAME(const float *m, size_t pstride, int co,           \
                          float *const *y, const float *const *res,         \
                          const float *bias, int flags)                     \
    {                                                                       \
        const VT zero = {0};                                                \
        for (int c = 0; c < co; c += W) {                                   \
            VT q[16], s0[4], s1[4], out[4];                                 \
            _Pragma("GCC unroll 16")                                        \
            for (int e = 0; e < 16; e++)                                    \
                q[e] = LD(m + (size_t)e * pstride + c);                     \
            _Pragma("GCC unroll 4")                                         \
            for (int col = 0; col < 4; col++) {     /* s = A^T q */         \
                s0[col] = q[col] + q[4 + col] + q[8 + col];                 \
                s1[col] = q[4 + col] - q[8 + col] - q[12 + col];            \
            }                                                               \
            out[0] = s0[0] + s0[1] + s0[2];         /* out = s A */         \
            out[1] = s0[1] - s0[2] - s0[3];                                 \
            out[2] = s1[0] + s1[1] + s1[2];                                 \
            out[3] = s1[1] - s1[2] - s1[3];                                 \
            _Pragma("GCC unroll 4")                                         \
            for (int k = 0; k < 4; k++)                                     \
                if (y[k])                                                   \
                    EPILOGUE(VT, VTI, LD, ST, zero, y[k], res ? res[k] : NULL, \
                             c, bias, flags, out[k]);                       \
        }                                                                   \
    }

/* F(4x4, 3x3). B^T, one 6-vector: rows of
 *   [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0]
 *   [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1]. */
#define BT6(x0, x1, x2, x3, x4, x5, r0, r1, r2, r3, r4, r5)                   \
    do {                                                                    \
        r0 = 4.0f * (x0) - 5.0f * (x2) + (x4);                              \
        r1 = ((x3) + (x4)) - 4.0f * ((x1) + (x2));                          \
        r2 = ((x4) - (x3)) + 4.0f * ((x1) - (x2));                          \
        r3 = 2.0f * ((x3) - (x1)) + ((x4) - (x2));                          \
        r4 = 2.0f * ((x1) - (x3)) + ((x4) - (x2));                          \
        r5 = 4.0f * (x1) - 5.0f * (x3) + (x5);                              \
    } while (0)

/* A^T, one 6-vector to 4: rows [1 1 1 1 1 0] [0 1 -1 2 -2 0]
 * [0 1 1 4 4 0] [0 1 -1 8 -8 1]. */
#define AT6(VT, q0, q1, q2, q3, q4, q5, o0, o1, o2, o3)                       \
    do {                                                                    \
        const VT p12 = (q1) + (q2), m12 = (q1) - (q2);                      \
        const VT p34 = (q3) + (q4), m34 = (q3) - (q4);                      \
        o0 = (q0) + p12 + p34;                                              \
        o1 = m12 + 2.0f * m34;                                              \
        o2 = p12 + 4.0f * p34;                                              \
        o3 = m12 + 8.0f * m34 + (q5);                                       \
    } while (0)

/* V = B^T d B for one 6x6 patch: columns into t, then rows out. The patch
 * (36 vectors) cannot live in 16 registers, so t goes through L1. */
#define INPUT_TILE6(NAME, ATTR, VT, W, LD, ST)                                \
    static ATTR void NAME(const float *const *d, int ci, float *v,          \
                          size_t pstride)                                   \
    {                                                                       \
        for (int c = 0; c < ci; c += W) {                                   \
            VT t[36];                                                       \
            _Pragma("GCC unroll 6")                                         \
            for (int col = 0; col < 6; col++) {                             \
                const VT x0 = LD(d[col] + c), x1 = LD(d[6 + col] + c);      \
                const VT x2 = LD(d[12 + col] + c), x3 = LD(d[18 + col] + c); \
                const VT x4 = LD(d[24 + col] + c), x5 = LD(d[30 + col] + c); \
                BT6(x0, x1, x2, x3, x4, x5, t[col], t[6 + col], t[12 + col], \
                    t[18 + col], t[24 + col], t[30 + col]);                 \
            }                                                               \
            _Pragma("GCC unroll 6")                                         \
            for (int r = 0; r < 6; r++) {                                   \
                const VT *x = t + 6 * r;                                    \
                VT o0, o1, o2, o3, o4, o5;                                  \
                BT6(x[0], x[1], x[2], x[3], x[4], x[5], o0, o1, o2, o3, o4, o5); \
                float *o = v + (size_t)(6 * r) * pstride + c;               \
                ST(o, o0);                                                  \
                ST(o + pstride, o1);                                        \
                ST(o + 2 * pstride, o2);                                    \
                ST(o + 3 * pstride, o3);                                    \
                ST(o + 4 * pstride, o4);                                    \
                ST(o + 5 * pstride, o5);                                    \
            }                                                               \
        }                                                                   \
    }

/* The 4x4 outputs A^T M A of one tile, through the epilogue. */
#define OUTPUT_TILE6(NAME, ATTR, VT, VTI, W, LD, ST)                          \
    static ATTR void NAME(const float *m, size_t pstride, int co,           \
                          float *const *y, const float *const *res,         \
                          const float *bias, int flags)                     \
    {                                                                       \
        const VT zero = {0};                                                \
        for (int c = 0; c < co; c += W) {                                   \
            VT s[24], out[16];                                              \
            _Pragma("GCC unroll 6")                                         \
            for (int col = 0; col < 6; col++) {     /* s = A^T q */         \
                const float *q = m + (size_t)col * pstride + c;             \
                const VT q0 = LD(q), q1 = LD(q + 6 * pstride);              \
                const VT q2 = LD(q + 12 * pstride), q3 = LD(q + 18 * pstride); \
                const VT q4 = LD(q + 24 * pstride), q5 = LD(q + 30 * pstride); \
                AT6(VT, q0, q1, q2, q3, q4, q5, s[col], s[6 + col],          \
                    s[12 + col], s[18 + col]);                              \
            }                                                               \
            _Pragma("GCC unroll 4")                                         \
            for (int r = 0; r < 4; r++) {           /* out = s A */         \
                const VT *q = s + 6 * r;                                    \
                AT6(VT, q[0], q[1], q[2], q[3], q[4], q[5], out[4 * r],     \
                    out[4 * r + 1], out[4 * r + 2], out[4 * r + 3]);        \
            }                                                               \
            _Pragma("GCC unroll 16")                                        \
            for (int k = 0; k < 16; k++)                                    \
                if (y[k])                                                   \
                    EPILOGUE(VT, VTI, LD, ST, zero, y[k], res ? res[k] : NULL, \
                             c, bias, flags, out[k]);                       \
        }                                                                   \
    }

INPUT_TILE(input_tile4, , unr_v4, 4, unr_ld4, unr_st4)
OUTPUT_TILE(output_tile4, , unr_v4, unr_v4i, 4, unr_ld4, unr_st4)

/* F(4x4) 4 channels wide, as 1-D passes through a small L1 buffer: one
 * column (or row) of the patch per loop step, loops not unrolled, so about
 * 12 vectors are live at once. For WASM, where V8 keeps ~15 xmm registers
 * and the unrolled form spilled the patch (measured at 16/32 channels:
 * 79-83 vs 45-75 GFLOP/s-equivalent; noisy, never slower). Natively the
 * 4-wide path only takes channel counts that are not multiples of 8. */
#if defined(__clang__)
#define NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#define NO_UNROLL _Pragma("GCC unroll 1")
#endif

static void input_tile6x6_mem(const float *const *d, int ci, float *v, size_t pstride)
{
    float t[36 * 4];
    for (int c = 0; c < ci; c += 4) {
        NO_UNROLL
        for (int col = 0; col < 6; col++) {
            const unr_v4 x0 = unr_ld4(d[col] + c), x1 = unr_ld4(d[6 + col] + c);
            const unr_v4 x2 = unr_ld4(d[12 + col] + c), x3 = unr_ld4(d[18 + col] + c);
            const unr_v4 x4 = unr_ld4(d[24 + col] + c), x5 = unr_ld4(d[30 + col] + c);
            unr_v4 r0, r1, r2, r3, r4, r5;
            BT6(x0, x1, x2, x3, x4, x5, r0, r1, r2, r3, r4, r5);
            float *o = t + 4 * col;
            unr_st4(o, r0);
            unr_st4(o + 24, r1);
            unr_st4(o + 48, r2);
            unr_st4(o + 72, r3);
            unr_st4(o + 96, r4);
            unr_st4(o + 120, r5);
        }
        NO_UNROLL
        for (int r = 0; r < 6; r++) {
            const float *x = t + 24 * r;
            unr_v4 o0, o1, o2, o3, o4, o5;
            BT6(unr_ld4(x), unr_ld4(x + 4), unr_ld4(x + 8), unr_ld4(x + 12), unr_ld4(x + 16),
                unr_ld4(x + 20), o0, o1, o2, o3, o4, o5);
            float *o = v + (size_t)(6 * r) * pstride + c;
            unr_st4(o, o0);
            unr_st4(o + pstride, o1);
            unr_st4(o + 2 * pstride, o2);
            unr_st4(o + 3 * pstride, o3);
            unr_st4(o + 4 * pstride, o4);
            unr_st4(o + 5 * pstride, o5);
        }
    }
}

/* Channel c of M at m + (c / 8) * cpanel + c % 8 (8 for plain rows). */
static void output_tile6x6_panels(const float *m, size_t pstride, size_t cpanel, int co,
                                  float *const *y, const float *const *res,
                                  const float *bias, int flags)
{
    const unr_v4 zero = {0};
    float s[24 * 4];
    for (int c = 0; c < co; c += 4) {
        NO_UNROLL
        for (int col = 0; col < 6; col++) {     /* s = A^T q */
            const float *q = m + (size_t)col * pstride + (size_t)(c >> 3) * cpanel + (c & 7);
            const unr_v4 q0 = unr_ld4(q), q1 = unr_ld4(q + 6 * pstride);
            const unr_v4 q2 = unr_ld4(q + 12 * pstride), q3 = unr_ld4(q + 18 * pstride);
            const unr_v4 q4 = unr_ld4(q + 24 * pstride), q5 = unr_ld4(q + 30 * pstride);
            unr_v4 o0, o1, o2, o3;
            AT6(unr_v4, q0, q1, q2, q3, q4, q5, o0, o1, o2, o3);
            float *o = s + 4 * col;
            unr_st4(o, o0);
            unr_st4(o + 24, o1);
            unr_st4(o + 48, o2);
            unr_st4(o + 72, o3);
        }
        NO_UNROLL
        for (int r = 0; r < 4; r++) {           /* out = s A */
            const float *q = s + 24 * r;
            unr_v4 out[4];
            AT6(unr_v4, unr_ld4(q), unr_ld4(q + 4), unr_ld4(q + 8), unr_ld4(q + 12),
                unr_ld4(q + 16), unr_ld4(q + 20), out[0], out[1], out[2], out[3]);
            for (int k = 0; k < 4; k++) {
                float *yk = y[4 * r + k];
                if (yk)
                    EPILOGUE(unr_v4, unr_v4i, unr_ld4, unr_st4, zero, yk,
                             res ? res[4 * r + k] : NULL, c, bias, flags, out[k]);
            }
        }
    }
}

static void output_tile6x6_mem(const float *m, size_t pstride, int co, float *const *y,
                               const float *const *res, const float *bias, int flags)
{
    output_tile6x6_panels(m, pstride, 8, co, y, res, bias, flags);
}

/* The grouped path's fast form, for images whose sides are multiples of 4:
 * the patch read from a zero-padded copy of x (pixel (r, c) at
 * p + r*rs + c*ci), the 4x4 outputs at y + r*ys + k*co, with no pointer
 * tables to build and no output to clip. */
static void input_tile6x6_strided(const float *p, size_t rs, int ci, float *v,
                                  size_t pstride)
{
    float t[36 * 4];
    for (int c = 0; c < ci; c += 4) {
        NO_UNROLL
        for (int col = 0; col < 6; col++) {
            const float *x = p + (size_t)col * ci + c;
            unr_v4 r0, r1, r2, r3, r4, r5;
            BT6(unr_ld4(x), unr_ld4(x + rs), unr_ld4(x + 2 * rs), unr_ld4(x + 3 * rs),
                unr_ld4(x + 4 * rs), unr_ld4(x + 5 * rs), r0, r1, r2, r3, r4, r5);
            float *o = t + 4 * col;
            unr_st4(o, r0);
            unr_st4(o + 24, r1);
            unr_st4(o + 48, r2);
            unr_st4(o + 72, r3);
            unr_st4(o + 96, r4);
            unr_st4(o + 120, r5);
        }
        NO_UNROLL
        for (int r = 0; r < 6; r++) {
            const float *x = t + 24 * r;
            unr_v4 o0, o1, o2, o3, o4, o5;
            BT6(unr_ld4(x), unr_ld4(x + 4), unr_ld4(x + 8), unr_ld4(x + 12), unr_ld4(x + 16),
                unr_ld4(x + 20), o0, o1, o2, o3, o4, o5);
            float *o = v + (size_t)(6 * r) * pstride + c;
            unr_st4(o, o0);
            unr_st4(o + pstride, o1);
            unr_st4(o + 2 * pstride, o2);
            unr_st4(o + 3 * pstride, o3);
            unr_st4(o + 4 * pstride, o4);
            unr_st4(o + 5 * pstride, o5);
        }
    }
}

static void output_tile6x6_strided(const float *m, size_t pstride, size_t cpanel, int co,
                                   float *y, const float *res, size_t ys,
                                   const float *bias, int flags)
{
    const unr_v4 zero = {0};
    float s[24 * 4];
    for (int c = 0; c < co; c += 4) {
        NO_UNROLL
        for (int col = 0; col < 6; col++) {     /* s = A^T q */
            const float *q = m + (size_t)col * pstride + (size_t)(c >> 3) * cpanel + (c & 7);
            unr_v4 o0, o1, o2, o3;
            AT6(unr_v4, unr_ld4(q), unr_ld4(q + 6 * pstride), unr_ld4(q + 12 * pstride),
                unr_ld4(q + 18 * pstride), unr_ld4(q + 24 * pstride), unr_ld4(q + 30 * pstride),
                o0, o1, o2, o3);
            float *o = s + 4 * col;
            unr_st4(o, o0);
            unr_st4(o + 24, o1);
            unr_st4(o + 48, o2);
            unr_st4(o + 72, o3);
        }
        NO_UNROLL
        for (int r = 0; r < 4; r++) {           /* out = s A */
            const float *q = s + 24 * r;
            unr_v4 out[4];
            AT6(unr_v4, unr_ld4(q), unr_ld4(q + 4), unr_ld4(q + 8), unr_ld4(q + 12),
                unr_ld4(q + 16), unr_ld4(q + 20), out[0], out[1], out[2], out[3]);
            float *yr = y + (size_t)r * ys;
            const float *rr = res ? res + (size_t)r * ys : NULL;
            for (int k = 0; k < 4; k++)
                EPILOGUE(unr_v4, unr_v4i, unr_ld4, unr_st4, zero, yr + (size_t)k * co,
                         rr ? rr + (size_t)k * co : NULL, c, bias, flags, out[k]);
        }
    }
}

#if defined(UNR_HAVE_AVX2_BUILD)
#define UNR_AVX2 __attribute__((target("avx2,fma")))
typedef float wv8 __attribute__((vector_size(32)));
typedef int wv8i __attribute__((vector_size(32)));

static inline UNR_AVX2 wv8 ld8(const float *p)
{
    wv8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline UNR_AVX2 void st8(float *p, wv8 v) { memcpy(p, &v, sizeof v); }

INPUT_TILE(input_tile8, UNR_AVX2, wv8, 8, ld8, st8)
OUTPUT_TILE(output_tile8, UNR_AVX2, wv8, wv8i, 8, ld8, st8)
INPUT_TILE6(input_tile6x6_8, UNR_AVX2, wv8, 8, ld8, st8)
OUTPUT_TILE6(output_tile6x6_8, UNR_AVX2, wv8, wv8i, 8, ld8, st8)
#endif

/* The fewest channels per ISA are in its table entry (isa.c): 16 natively,
 * where 8-channel layers stay direct, 8 in WASM, with the measurements. */
int unr_winograd_fits(const unr_ctx *ctx, const unr_conv_shape *s)
{
    const int min_ch = unr_ctx_info(ctx)->winograd_min_channels;
    return s->k == 3 && s->stride == 1 && s->ci % 4 == 0 && s->co % 4 == 0 &&
           s->ci >= min_ch && s->co >= min_ch && (long)s->n * s->h * s->w >= WINO_MIN_PIXELS;
}

/* G, one 3-vector to a: F(2x2) rows [1 0 0] [1/2 1/2 1/2] [1/2 -1/2 1/2]
 * [0 0 1]; F(4x4) rows [1/4 0 0] [-1/6 -1/6 -1/6] [-1/6 1/6 -1/6]
 * [1/24 1/12 1/6] [1/24 -1/12 1/6] [0 0 1]. */
static void g_rows(int m, const unr_v4 g[3], unr_v4 *t, int stride)
{
    if (m == 2) {
        const float h = 0.5f;
        t[0] = g[0];
        t[stride] = h * (g[0] + g[1] + g[2]);
        t[2 * stride] = h * (g[0] - g[1] + g[2]);
        t[3 * stride] = g[2];
        return;
    }
    t[0] = g[0] * (1.0f / 4);
    t[stride] = (g[0] + g[1] + g[2]) * (-1.0f / 6);
    t[2 * stride] = (g[0] - g[1] + g[2]) * (-1.0f / 6);
    t[3 * stride] = g[0] * (1.0f / 24) + g[1] * (1.0f / 12) + g[2] * (1.0f / 6);
    t[4 * stride] = g[0] * (1.0f / 24) - g[1] * (1.0f / 12) + g[2] * (1.0f / 6);
    t[5 * stride] = g[2];
}

/* U[p][panel][i][NR] = (G g G^T)[p] for in channel i, out channel
 * panel*NR + j; zero past the last out channel. */
static void transform_weights(const unr_wino_weights *wt, int cin, int cout,
                              int nr, int m, float *u)
{
    const int a = m + 2, np = (cout + nr - 1) / nr;
    const size_t pstride = (size_t)np * cin * nr;
    memset(u, 0, (size_t)a * a * pstride * sizeof(float));
    /* Four out channels at a time (cout % 4 == 0, and nr is a multiple of
     * 4, so they share a panel). */
    for (int i = 0; i < cin; i++)
    for (int o = 0; o < cout; o += 4) {
        unr_v4 g[3][3], t[6][3], col[3], row[6];
        for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const int tap = wt->flip ? (2 - ky) * 3 + (2 - kx) : ky * 3 + kx;
            const float *src = wt->w + tap * wt->tap_stride + i * wt->in_stride +
                               o * wt->out_stride;
            const ptrdiff_t os = wt->out_stride;
            g[ky][kx] = os == 1 ? unr_ld4(src) : (unr_v4){src[0], src[os], src[2 * os], src[3 * os]};
        }
        for (int c = 0; c < 3; c++) {   /* t = G g, column by column */
            for (int k = 0; k < 3; k++)
                col[k] = g[k][c];
            g_rows(m, col, &t[0][c], 3);
        }
        float *d = u + ((size_t)(o / nr) * cin + i) * nr + o % nr;
        for (int r = 0; r < a; r++) {   /* U = t G^T, row by row */
            g_rows(m, t[r], row, 1);
            for (int j = 0; j < a; j++)
                unr_st4(d + (size_t)(r * a + j) * pstride, row[j]);
        }
    }
}

/* The a x a input patch of the tile whose top-left output is (oy, ox) in
 * image b of x [n][h][w][ci], row-major: pixels outside read zeros. */
static void patch_pointers(const float *x, const float *zeros, int h, int w, int ci, int a,
                           int b, int oy, int ox, const float **d)
{
    /* Rows and columns as loops, not e / a and e % a per pointer (a is not
     * a compile-time constant). */
    if (oy >= 1 && oy + a - 2 < h && ox >= 1 && ox + a - 2 < w) {
        const float *p0 = x + (((size_t)b * h + oy - 1) * w + ox - 1) * ci;
        for (int r = 0; r < a; r++, p0 += (size_t)w * ci)
            for (int c = 0; c < a; c++)
                *d++ = p0 + (size_t)c * ci;
        return;
    }
    for (int r = 0; r < a; r++) {
        const int iy = oy - 1 + r;
        for (int c = 0; c < a; c++) {
            const int ix = ox - 1 + c;
            *d++ = iy >= 0 && iy < h && ix >= 0 && ix < w
                       ? x + (((size_t)b * h + iy) * w + ix) * ci : zeros;
        }
    }
}

/* The next tile of a walk over (b, ty, tx), th x tw tiles per image. */
static void next_tile(int *b, int *ty, int *tx, int th, int tw)
{
    if (++*tx == tw) {
        *tx = 0;
        if (++*ty == th) {
            *ty = 0;
            ++*b;
        }
    }
}

typedef struct {
    const unr_ukernel *uk;
    const unr_conv_shape *s;
    const float *x, *u, *zeros;
    const float *res, *bias;
    float *y;
    int flags;
    int m, a;               /* output tile side, patch side (m + 2) */
    input_tile_fn input_tile;
    output_tile_fn output_tile;
    /* WASM F(4x4): all positions of a group of 4 tiles per GEMM call, in
     * the grouped layout (run_block), or NULL. */
    wino_gemm_fn gemm_grouped;
    /* With whole_tiles at 8 channels: x zero-padded to [n][h + 2][w + 2][ci],
     * or NULL. */
    const float *xpad;
    int whole_tiles;        /* h, w multiples of 4: no output is clipped */
    int th, tw, tiles, block, nchunks;
    float *scratch[64];     /* per chunk: V then M */
} wino_job;

/* run_block with grouped GEMMs: V is [p][i][ci] and M [panel][p][i][8]
 * for tile i of a group of 4, so the group's A at one position is 4 rows ci
 * floats apart and its C one 4 x 8 block. */
static void run_block_grouped(const wino_job *jb, float *v, float *mm, int t0, int nt)
{
    enum { MR = 4, NR = 8 };
    const unr_conv_shape *s = jb->s;
    const int ci = s->ci, co = s->co, h = s->h, w = s->w;
    const int m = jb->m, a = jb->a, positions = a * a;
    const int np = (co + NR - 1) / NR;
    const size_t panel = (size_t)positions * MR * NR;

    /* One group of 4 tiles at a time, start to end: its V and M stay in L1,
     * and the output's loads and stores (residual, y) interleave with the
     * next group's GEMMs instead of coming in one burst per block. */
    int b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    if (jb->whole_tiles) {
        const size_t rs = (size_t)(w + 2) * ci, ys = (size_t)w * co;
        for (int g0 = 0; g0 < nt; g0 += MR) {
            const int gn = nt - g0 < MR ? nt - g0 : MR;
            const int b0 = b, ty0 = ty, tx0 = tx;
            for (int i = 0; i < gn; i++) {
                if (jb->xpad) {
                    const float *p = jb->xpad + (((size_t)b * (h + 2) + m * ty) * (w + 2) + m * tx) * ci;
                    input_tile6x6_strided(p, rs, ci, v + (size_t)i * ci, (size_t)MR * ci);
                } else {
                    const float *d[36];
                    patch_pointers(jb->x, jb->zeros, h, w, ci, a, b, m * ty, m * tx, d);
                    jb->input_tile(d, ci, v + (size_t)i * ci, (size_t)MR * ci);
                }
                next_tile(&b, &ty, &tx, jb->th, jb->tw);
            }
            for (int j = 0; j < np; j++)
                jb->gemm_grouped(positions, ci, v, (ptrdiff_t)MR * ci,
                                 jb->u + (size_t)j * ci * NR, (ptrdiff_t)np * ci * NR,
                                 mm + (size_t)j * panel);
            b = b0, ty = ty0, tx = tx0;
            for (int i = 0; i < gn; i++) {
                const size_t off = (((size_t)b * h + m * ty) * w + m * tx) * co;
                output_tile6x6_strided(mm + (size_t)i * NR, MR * NR, panel, co, jb->y + off,
                                       jb->res ? jb->res + off : NULL, ys, jb->bias, jb->flags);
                next_tile(&b, &ty, &tx, jb->th, jb->tw);
            }
        }
        return;
    }
    for (int g0 = 0; g0 < nt; g0 += MR) {
        const int gn = nt - g0 < MR ? nt - g0 : MR;
        const int b0 = b, ty0 = ty, tx0 = tx;
        for (int i = 0; i < gn; i++) {
            const float *d[36];
            patch_pointers(jb->x, jb->zeros, h, w, ci, a, b, m * ty, m * tx, d);
            jb->input_tile(d, ci, v + (size_t)i * ci, (size_t)MR * ci);
            next_tile(&b, &ty, &tx, jb->th, jb->tw);
        }
        /* Rows past gn hold stale V; their M goes unused. */
        for (int j = 0; j < np; j++)
            jb->gemm_grouped(positions, ci, v, (ptrdiff_t)MR * ci, jb->u + (size_t)j * ci * NR,
                             (ptrdiff_t)np * ci * NR, mm + (size_t)j * panel);
        b = b0, ty = ty0, tx = tx0;
        for (int i = 0; i < gn; i++) {
            const int oy = m * ty, ox = m * tx;
            float *y[16];
            const float *res[16];
            for (int ky = 0, k = 0; ky < m; ky++)
            for (int kx = 0; kx < m; kx++, k++) {
                const int py = oy + ky, px = ox + kx;
                const size_t off = (((size_t)b * h + py) * w + px) * co;
                const int inside = py < h && px < w;
                y[k] = inside ? jb->y + off : NULL;
                res[k] = inside && jb->res ? jb->res + off : NULL;
            }
            next_tile(&b, &ty, &tx, jb->th, jb->tw);
            output_tile6x6_panels(mm + (size_t)i * NR, MR * NR, panel, co, y,
                                  jb->res ? res : NULL, jb->bias, jb->flags);
        }
    }
}

/* Tiles [t0, t0 + nt) (nt <= block): transform, multiply, transform back.
 * V and M are tile-major, so each transform reads or writes one contiguous
 * a^2 x C run per tile; the GEMMs do not mind, as the micro-kernel takes a
 * pointer per row (measured: forward 32->32 about +8% over position-major,
 * whose a^2 scattered streams per tile made the transforms store-bound). */
static void run_block(const wino_job *jb, float *v, float *mm, int t0, int nt)
{
    const unr_conv_shape *s = jb->s;
    const int ci = s->ci, co = s->co, h = s->h, w = s->w;
    const int m = jb->m, a = jb->a, positions = a * a;
    const int MR = jb->uk->mr, NR = jb->uk->nr;
    const int np = (co + NR - 1) / NR, cop = np * NR;
    const int rows = (nt + MR - 1) / MR * MR;

    /* Walk (b, ty, tx) along the tiles instead of dividing per tile. */
    int b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    for (int q = 0; q < nt; q++) {
        const float *d[36];
        patch_pointers(jb->x, jb->zeros, h, w, ci, a, b, m * ty, m * tx, d);
        jb->input_tile(d, ci, v + (size_t)q * positions * ci, ci);
        next_tile(&b, &ty, &tx, jb->th, jb->tw);
    }

    const float *ap[UNR_MAX_MR];
    float *c[UNR_MAX_MR];
    for (int p = 0; p < positions; p++)
    for (int r0 = 0; r0 < rows; r0 += MR) {
        for (int i = 0; i < MR; i++) {
            /* rows past nt repeat a valid row; their results go unused */
            const int row = r0 + i < nt ? r0 + i : r0;
            ap[i] = v + ((size_t)row * positions + p) * ci;
            c[i] = mm + ((size_t)(r0 + i) * positions + p) * cop;
        }
        for (int j = 0; j < np; j++) {
            float *cj[UNR_MAX_MR];
            for (int i = 0; i < MR; i++)
                cj[i] = c[i] + j * NR;
            jb->uk->fn(1, ci, ap, 1,
                       jb->u + ((size_t)p * np + j) * ci * NR, cj, NULL, NULL, 0);
        }
    }

    b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    for (int q = 0; q < nt; q++) {
        const int oy = m * ty, ox = m * tx;
        float *y[16];
        const float *res[16];
        for (int ky = 0, k = 0; ky < m; ky++)
        for (int kx = 0; kx < m; kx++, k++) {
            const int py = oy + ky, px = ox + kx;
            const size_t off = (((size_t)b * h + py) * w + px) * co;
            const int inside = py < h && px < w;
            y[k] = inside ? jb->y + off : NULL;
            res[k] = inside && jb->res ? jb->res + off : NULL;
        }
        next_tile(&b, &ty, &tx, jb->th, jb->tw);
        jb->output_tile(mm + (size_t)q * positions * cop, cop, co, y, jb->res ? res : NULL,
                        jb->bias, jb->flags);
    }
}

static void wino_chunk(void *arg, int begin, int end, int thread)
{
    (void)thread;
    const wino_job *jb = arg;
    for (int chunk = begin; chunk < end; chunk++) {
        const int t_begin = (int)((long long)jb->tiles * chunk / jb->nchunks);
        const int t_end = (int)((long long)jb->tiles * (chunk + 1) / jb->nchunks);
        const int MR = jb->uk->mr;
        const size_t rows = (size_t)(jb->block + MR - 1) / MR * MR;
        float *v = jb->scratch[chunk];
        float *mm = v + (size_t)jb->a * jb->a * rows * jb->s->ci;
        for (int t0 = t_begin; t0 < t_end; t0 += jb->block) {
            const int nt = t_end - t0 < jb->block ? t_end - t0 : jb->block;
            if (jb->gemm_grouped)
                run_block_grouped(jb, v, mm, t0, nt);
            else
                run_block(jb, v, mm, t0, nt);
        }
    }
}

int unr_winograd_conv(unr_ctx *ctx, int m, const unr_conv_shape *s, const float *x,
                      const unr_wino_weights *wt, const float *bias,
                      const float *residual, int flags, float *y)
{
    if (m != 2 && m != 4)
        return 0;
    const int a = m + 2, positions = a * a;
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, s->co);
    const int MR = uk->mr, NR = uk->nr;
    const int np = (s->co + NR - 1) / NR, cop = np * NR;
    /* WASM F(4x4) over sides that are multiples of 4 writes whole tiles
     * without pointer tables and, at 8 channels, reads a zero-padded copy
     * of x (32x32 8->8 +10-15%; from 16 channels the copy cost what it
     * saved, measured, as a Winograd conv is 4x cheaper than the direct
     * one the copy was sized against). */
    int grouped = 0;
#if defined(__wasm_simd128__)
    grouped = unr_ctx_isa(ctx) == UNR_ISA_WASMSIMD && m == 4 && MR == 4 && NR == 8;
#endif
    const int whole = grouped && s->h % 4 == 0 && s->w % 4 == 0;
    const int padded = whole && s->ci <= 8;
    const size_t nu = (size_t)positions * np * s->ci * NR + s->ci;
    const size_t npad = padded ? (size_t)s->n * (s->h + 2) * (s->w + 2) * s->ci : 0;
    float *u = unr_ctx_shared_scratch(ctx, nu + npad);
    if (!u)
        return 0;
    float *zeros = u + (size_t)positions * np * s->ci * NR;
    memset(zeros, 0, (size_t)s->ci * sizeof(float));
    transform_weights(wt, s->ci, s->co, NR, m, u);

    wino_job jb = {
        .uk = uk, .s = s, .x = x, .u = u, .zeros = zeros,
        .res = residual, .bias = bias, .y = y, .flags = flags,
        .m = m, .a = a,
        .th = (s->h + m - 1) / m, .tw = (s->w + m - 1) / m,
    };
    jb.tiles = s->n * jb.th * jb.tw;
    jb.input_tile = m == 2 ? input_tile4 : input_tile6x6_mem;
    jb.output_tile = m == 2 ? output_tile4 : output_tile6x6_mem;
    jb.whole_tiles = whole;
    if (padded) {
        float *xp = u + nu;
        jb.xpad = xp;
        const size_t row = (size_t)(s->w + 2) * s->ci;
        for (int b = 0; b < s->n; b++) {
            float *img = xp + (size_t)b * (s->h + 2) * row;
            memset(img, 0, row * sizeof(float));
            for (int r = 0; r < s->h; r++) {
                float *d = img + (size_t)(r + 1) * row;
                memset(d, 0, (size_t)s->ci * sizeof(float));
                memcpy(d + s->ci, x + ((size_t)b * s->h + r) * s->w * s->ci,
                       (size_t)s->w * s->ci * sizeof(float));
                memset(d + row - s->ci, 0, (size_t)s->ci * sizeof(float));
            }
            memset(img + (size_t)(s->h + 1) * row, 0, row * sizeof(float));
        }
    }
#if defined(__wasm_simd128__)
    if (grouped)
        jb.gemm_grouped = s->ci == 8 ? unr_f32_wino_gemm_4x8__wasmsimd_k8
                        : s->ci == 16 ? unr_f32_wino_gemm_4x8__wasmsimd_k16
                        : s->ci == 32 ? unr_f32_wino_gemm_4x8__wasmsimd_k32
                        : s->ci == 64 ? unr_f32_wino_gemm_4x8__wasmsimd_k64
                        : unr_f32_wino_gemm_4x8__wasmsimd;
#endif
#if defined(UNR_HAVE_AVX2_BUILD)
    if (unr_ctx_isa(ctx) == UNR_ISA_AVX2) {
        if (s->ci % 8 == 0)
            jb.input_tile = m == 2 ? input_tile8 : input_tile6x6_8;
        if (s->co % 8 == 0)
            jb.output_tile = m == 2 ? output_tile8 : output_tile6x6_8;
    }
#endif
    jb.block = WINO_BLOCK_FLOATS / (positions * (s->ci + cop)) / MR * MR;
    if (jb.block < MR)
        jb.block = MR;
    /* One chunk per thread when each gets at least a block of tiles. */
    const int threads = unr_ctx_threads(ctx);
    jb.nchunks = jb.tiles / jb.block < threads ? jb.tiles / jb.block : threads;
    if (jb.nchunks < 1)
        jb.nchunks = 1;
    if (jb.nchunks > 64)
        jb.nchunks = 64;
    const size_t rows = (size_t)(jb.block + MR - 1) / MR * MR;
    for (int t = 0; t < jb.nchunks; t++) {
        jb.scratch[t] = unr_ctx_thread_scratch(ctx, t, positions * rows * (s->ci + cop));
        if (!jb.scratch[t])
            return 0;
    }
    if (jb.nchunks > 1)
        unr_parallel_for(ctx, jb.nchunks, wino_chunk, &jb);
    else
        wino_chunk(&jb, 0, 1, 0);
    return 1;
}

/* ---------------------------------------------------------------------------
 * Backward-weights. The forward tile is Y = A^T [(G g G^T) . V] A, linear in
 * g, so by transposition dL/dg = G^T [V . (A dY A^T)] G: the same input
 * transform V = B^T d B, dy transformed by A (a x m), and G^T (3 x a) to
 * come back. Summed over tiles, each of the a^2 positions is a GEMM
 * (Ci x tiles) x (tiles x Co) with the tiles as K; threads take ranges of
 * tiles into private sums, reduced in a fixed order (no timing in results).
 */

/* Tiles per GEMM call (its K): long enough to amortise the micro-kernel's
 * accumulator loads and stores, short enough that a position's A and B
 * (tiles x (Ci + Co)) stay in L2. */
#define WINO_BWW_MAX_TILES 256
#define WINO_BWW_POSITION_FLOATS 16384

/* T = A dY A^T for one m x m tile of dy (y[k] NULL outside the image:
 * zero), W channels at a time, into out[p*pstride + (c / nr)*panel + c % nr]:
 * the packed B layout of the GEMMs. A (m = 4) has rows (1 0 0 0) (1 1 1 1)
 * (1 -1 1 -1) (1 2 4 8) (1 -2 4 -8) (0 0 0 1); (m = 2) (1 0) (1 1) (1 -1)
 * (0 -1). Columns first into t (through L1), then rows straight out. */
typedef void (*dy_tile_fn)(const float *const *y, int co, float *out, size_t pstride,
                           int nr, size_t panel);

#define A4(VT, y0, y1, y2, y3, o, s)                                          \
    do {                                                                    \
        const VT p02 = (y0) + (y2), p13 = (y1) + (y3);                      \
        const VT q02 = (y0) + 4.0f * (y2), q13 = 2.0f * (y1) + 8.0f * (y3); \
        o[0] = (y0);                                                        \
        o[s] = p02 + p13;                                                   \
        o[2 * (s)] = p02 - p13;                                             \
        o[3 * (s)] = q02 + q13;                                             \
        o[4 * (s)] = q02 - q13;                                             \
        o[5 * (s)] = (y3);                                                  \
    } while (0)

#define DY_TILE4(NAME, ATTR, VT, W, LD, ST)                                   \
    static ATTR void NAME(const float *const *y, int co, float *out,        \
                          size_t pstride, int nr, size_t panel)             \
    {                                                                       \
        const VT zero = {0};                                                \
        for (int c = 0; c < co; c += W) {                                   \
            VT d[16], t[24], r[6];                                          \
            _Pragma("GCC unroll 16")                                        \
            for (int k = 0; k < 16; k++)                                    \
                d[k] = y[k] ? LD(y[k] + c) : zero;                          \
            _Pragma("GCC unroll 4")                                         \
            for (int col = 0; col < 4; col++) {                             \
                VT *o = t + col;                                            \
                A4(VT, d[col], d[4 + col], d[8 + col], d[12 + col], o, 4);  \
            }                                                               \
            float *base = out + (size_t)(c / nr) * panel + c % nr;          \
            _Pragma("GCC unroll 6")                                         \
            for (int row = 0; row < 6; row++) {                             \
                const VT *q = t + 4 * row;                                  \
                A4(VT, q[0], q[1], q[2], q[3], r, 1);                       \
                float *o = base + (size_t)(6 * row) * pstride;              \
                _Pragma("GCC unroll 6")                                     \
                for (int k = 0; k < 6; k++)                                 \
                    ST(o + (size_t)k * pstride, r[k]);                      \
            }                                                               \
        }                                                                   \
    }

#define DY_TILE2(NAME, ATTR, VT, W, LD, ST)                                   \
    static ATTR void NAME(const float *const *y, int co, float *out,        \
                          size_t pstride, int nr, size_t panel)             \
    {                                                                       \
        const VT zero = {0};                                                \
        for (int c = 0; c < co; c += W) {                                   \
            VT d[4], t[8];                                                  \
            _Pragma("GCC unroll 4")                                         \
            for (int k = 0; k < 4; k++)                                     \
                d[k] = y[k] ? LD(y[k] + c) : zero;                          \
            _Pragma("GCC unroll 2")                                         \
            for (int col = 0; col < 2; col++) {                             \
                t[col] = d[col];                                            \
                t[2 + col] = d[col] + d[2 + col];                           \
                t[4 + col] = d[col] - d[2 + col];                           \
                t[6 + col] = -d[2 + col];                                   \
            }                                                               \
            float *base = out + (size_t)(c / nr) * panel + c % nr;          \
            _Pragma("GCC unroll 4")                                         \
            for (int row = 0; row < 4; row++) {                             \
                const VT a0 = t[2 * row], a1 = t[2 * row + 1];              \
                float *o = base + (size_t)(4 * row) * pstride;              \
                ST(o, a0);                                                  \
                ST(o + pstride, a0 + a1);                                   \
                ST(o + 2 * pstride, a0 - a1);                               \
                ST(o + 3 * pstride, -a1);                                   \
            }                                                               \
        }                                                                   \
    }

DY_TILE4(dy_tile4x4_4, , unr_v4, 4, unr_ld4, unr_st4)
DY_TILE2(dy_tile2x2_4, , unr_v4, 4, unr_ld4, unr_st4)
#if defined(UNR_HAVE_AVX2_BUILD)
DY_TILE4(dy_tile4x4_8, UNR_AVX2, wv8, 8, ld8, st8)
DY_TILE2(dy_tile2x2_8, UNR_AVX2, wv8, 8, ld8, st8)
#endif

/* G^T v for one a-vector, to 3. */
static void gt_rows(int m, const unr_v4 *v, int step, unr_v4 *o, int ostep)
{
    if (m == 2) {
        const unr_v4 h = {0.5f, 0.5f, 0.5f, 0.5f};
        o[0] = v[0] + h * (v[step] + v[2 * step]);
        o[ostep] = h * (v[step] - v[2 * step]);
        o[2 * ostep] = h * (v[step] + v[2 * step]) + v[3 * step];
        return;
    }
    const unr_v4 p12 = v[step] + v[2 * step], m12 = v[2 * step] - v[step];
    const unr_v4 p34 = v[3 * step] + v[4 * step], m34 = v[3 * step] - v[4 * step];
    o[0] = v[0] * 0.25f - p12 * (1.0f / 6) + p34 * (1.0f / 24);
    o[ostep] = m12 * (1.0f / 6) + m34 * (1.0f / 12);
    o[2 * ostep] = (p34 - p12) * (1.0f / 6) + v[5 * step];
}

typedef struct {
    const unr_ukernel *uk;
    const unr_conv_shape *s;
    const float *x, *dy, *zeros;
    int m, a, th, tw, tiles, block, nchunks, cip, cop;
    input_tile_fn input_tile;
    dy_tile_fn dy_tile;
    float *scratch[64];     /* per chunk: sums [a^2][cip][cop], V, D */
} wino_bww_job;

static void bww_block(const wino_bww_job *jb, float *sums, float *v, float *dd, int t0, int nt)
{
    const unr_conv_shape *s = jb->s;
    const int ci = s->ci, co = s->co, h = s->h, w = s->w, m = jb->m, a = jb->a;
    const int MR = jb->uk->mr, NR = jb->uk->nr, np = jb->cop / NR;
    const size_t vq = (size_t)a * a * ci, dp = (size_t)np * nt * NR;
    int b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    for (int q = 0; q < nt; q++) {
        const int oy = m * ty, ox = m * tx;
        const float *d[36], *y[16];
        patch_pointers(jb->x, jb->zeros, h, w, ci, a, b, oy, ox, d);
        for (int ky = 0, k = 0; ky < m; ky++)
        for (int kx = 0; kx < m; kx++, k++) {
            const int py = oy + ky, px = ox + kx;
            y[k] = py < h && px < w ? jb->dy + (((size_t)b * h + py) * w + px) * co : NULL;
        }
        jb->input_tile(d, ci, v + (size_t)q * vq, ci);
        jb->dy_tile(y, co, dd + (size_t)q * NR, dp, NR, (size_t)nt * NR);
        next_tile(&b, &ty, &tx, jb->th, jb->tw);
    }
    /* sums[p][i][j] += sum_q V[q][p][i] * D[p][q][j]: A rows are input
     * channels read every a^2 * ci floats (V is tile-major, so the input
     * transform writes one contiguous run per tile: 32->32 +5-20%); rows
     * past ci land in the padding. */
    const float *ap[UNR_MAX_MR];
    float *c[UNR_MAX_MR];
    for (int p = 0; p < a * a; p++)
    for (int i0 = 0; i0 < ci; i0 += MR) {
        for (int i = 0; i < MR; i++)
            ap[i] = v + (size_t)p * ci + (i0 + i < ci ? i0 + i : i0);
        for (int j = 0; j < np; j++) {
            for (int i = 0; i < MR; i++)
                c[i] = sums + ((size_t)p * jb->cip + i0 + i) * jb->cop + j * NR;
            jb->uk->fn(1, nt, ap, (ptrdiff_t)vq, dd + p * dp + (size_t)j * nt * NR, c, NULL, NULL,
                       UNR_UK_ACCUMULATE);
        }
    }
}

static void wino_bww_chunk(void *arg, int begin, int end, int thread)
{
    (void)thread;
    const wino_bww_job *jb = arg;
    const size_t sums_n = (size_t)jb->a * jb->a * jb->cip * jb->cop;
    for (int chunk = begin; chunk < end; chunk++) {
        float *sums = jb->scratch[chunk];
        float *v = sums + sums_n;
        float *dd = v + (size_t)jb->a * jb->a * jb->block * jb->s->ci;
        memset(sums, 0, sums_n * sizeof *sums);
        const int t_begin = (int)((long long)jb->tiles * chunk / jb->nchunks);
        const int t_end = (int)((long long)jb->tiles * (chunk + 1) / jb->nchunks);
        for (int t0 = t_begin; t0 < t_end; t0 += jb->block) {
            const int nt = t_end - t0 < jb->block ? t_end - t0 : jb->block;
            bww_block(jb, sums, v, dd, t0, nt);
        }
    }
}

int unr_winograd_backward_weights(unr_ctx *ctx, int m, const unr_conv_shape *s,
                                  const float *x, const float *dy, float *dw)
{
    if ((m != 2 && m != 4) || s->ci % 4 || s->co % 4)
        return 0;
    const int a = m + 2, positions = a * a, ci = s->ci, co = s->co;
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, co);
    const int MR = uk->mr, NR = uk->nr;
    wino_bww_job jb = {
        .uk = uk, .s = s, .x = x, .dy = dy, .m = m, .a = a,
        .th = (s->h + m - 1) / m, .tw = (s->w + m - 1) / m,
        .cip = (ci + MR - 1) / MR * MR, .cop = (co + NR - 1) / NR * NR,
    };
    jb.tiles = s->n * jb.th * jb.tw;
    jb.input_tile = m == 2 ? input_tile4 : input_tile6x6_mem;
    jb.dy_tile = m == 2 ? dy_tile2x2_4 : dy_tile4x4_4;
#if defined(UNR_HAVE_AVX2_BUILD)
    if (unr_ctx_isa(ctx) == UNR_ISA_AVX2) {
        if (ci % 8 == 0)
            jb.input_tile = m == 2 ? input_tile8 : input_tile6x6_8;
        if (co % 8 == 0)
            jb.dy_tile = m == 2 ? dy_tile2x2_8 : dy_tile4x4_8;
    }
#endif
    jb.block = WINO_BWW_POSITION_FLOATS / (ci + jb.cop);
    jb.block = jb.block > WINO_BWW_MAX_TILES ? WINO_BWW_MAX_TILES : jb.block < 8 ? 8 : jb.block;
    const int threads = unr_ctx_threads(ctx);
    jb.nchunks = jb.tiles / jb.block < threads ? jb.tiles / jb.block : threads;
    jb.nchunks = jb.nchunks < 1 ? 1 : jb.nchunks > 64 ? 64 : jb.nchunks;
    const size_t sums_n = (size_t)positions * jb.cip * jb.cop;
    const size_t need = sums_n + (size_t)positions * jb.block * (ci + jb.cop);
    float *zeros = unr_ctx_shared_scratch(ctx, (size_t)ci);
    if (!zeros)
        return 0;
    memset(zeros, 0, (size_t)ci * sizeof *zeros);
    jb.zeros = zeros;
    for (int t = 0; t < jb.nchunks; t++)
        if (!(jb.scratch[t] = unr_ctx_thread_scratch(ctx, t, need)))
            return 0;
    if (jb.nchunks > 1)
        unr_parallel_for(ctx, jb.nchunks, wino_bww_chunk, &jb);
    else
        wino_bww_chunk(&jb, 0, 1, 0);

    /* Reduce the chunks' sums in order, then dw[ky][kx][i][o] +=
     * (G^T S G)[ky][kx], four out channels at a time. */
    float *total = jb.scratch[0];
    for (int t = 1; t < jb.nchunks; t++)
        for (size_t e = 0; e < sums_n; e++)
            total[e] += jb.scratch[t][e];
    for (int i = 0; i < ci; i++)
    for (int o = 0; o < co; o += 4) {
        unr_v4 sp[36], t[18], r[9];
        for (int p = 0; p < positions; p++)
            sp[p] = unr_ld4(total + ((size_t)p * jb.cip + i) * jb.cop + o);
        for (int col = 0; col < a; col++)       /* t = G^T S, by columns */
            gt_rows(m, sp + col, a, t + col, a);
        for (int ky = 0; ky < 3; ky++)          /* r = t G, by rows */
            gt_rows(m, t + ky * a, 1, r + ky * 3, 1);
        for (int k = 0; k < 9; k++) {
            float *dst = dw + ((size_t)k * ci + i) * co + o;
            unr_st4(dst, unr_ld4(dst) + r[k]);
        }
    }
    return 1;
}
