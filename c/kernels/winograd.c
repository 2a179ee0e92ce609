/* winograd.c: 3x3 stride-1 convolutions as Winograd F(2x2, 3x3).
 *
 * Each 2x2 block of outputs ("tile") comes from a 4x4 patch of input. With
 * the transforms of Lavin & Gray (2016),
 *
 *   U = G g G^T (per in/out channel pair),  V = B^T d B (per tile and input
 *   channel),  Y = A^T [U . V summed over input channels] A,
 *
 * the 36 multiply-adds per output pixel and channel pair of the direct conv
 * become 16 per 4 outputs: 2.25x fewer. The sum over input channels at each
 * of the 16 transform positions is a GEMM (tiles x Ci) x (Ci x Co), run by
 * the ISA's micro-kernel, so this file only adds the transforms:
 *
 *   per block of tiles (sized to stay in L2), on each thread:
 *     V[16][tiles][Ci]  <- input transform (zeros outside the image)
 *     M[16][tiles][Co]  <- 16 micro-kernel GEMMs with the packed U
 *     y                 <- output transform + epilogue (bias, residual,
 *                          relu, or accumulate), edge tiles clipped
 *
 * The transforms only add and subtract (G's halves are exact in binary), so
 * F(2x2, 3x3) loses almost nothing to rounding; tests hold it to the same
 * tolerance as the direct kernels.
 */
#include "kernels_internal.h"
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

typedef void (*input_tile_fn)(const float *const d[16], int ci, float *v,
                              size_t pstride);
typedef void (*output_tile_fn)(const float *m, size_t pstride, int co,
                               float *const y[4], const float *const res[4],
                               const float *bias, int flags);

/* V[p][row] = (B^T d B)[p] for one tile; d[16] point at the patch's pixels
 * (row-major 4x4), or at zeros. W channels per step. */
#define INPUT_TILE(NAME, ATTR, VT, W, LD, ST)                                 \
    static ATTR void NAME(const float *const d[16], int ci, float *v,       \
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
 * for outputs past the image edge. ReLU maps v < 0 to 0 and keeps NaN, as
 * the reference does. */
#define OUTPUT_TILE(NAME, ATTR, VT, VTI, W, LD, ST)                           \
    static ATTR void NAME(const float *m, size_t pstride, int co,           \
                          float *const y[4], const float *const res[4],     \
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
            for (int k = 0; k < 4; k++) {                                   \
                if (!y[k])                                                  \
                    continue;                                               \
                VT v = out[k];                                              \
                if (flags & UNR_UK_ACCUMULATE) {                            \
                    ST(y[k] + c, LD(y[k] + c) + v);                         \
                    continue;                                               \
                }                                                           \
                if (bias)                                                   \
                    v += LD(bias + c);                                      \
                if (res)                                                    \
                    v += LD(res[k] + c);                                    \
                if (flags & UNR_UK_RELU)                                    \
                    v = (VT)((VTI)v & ~(VTI)(v < zero));                    \
                ST(y[k] + c, v);                                            \
            }                                                               \
        }                                                                   \
    }

INPUT_TILE(input_tile4, , unr_v4, 4, unr_ld4, unr_st4)
OUTPUT_TILE(output_tile4, , unr_v4, unr_v4i, 4, unr_ld4, unr_st4)

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
#endif

/* 8-channel layers stay direct: their 8-deep GEMMs are too short to beat
 * the direct kernel (measured: ResNet-110-half training 219 vs 234 img/s
 * with them, 230 without). */
int unr_winograd_fits(const unr_conv_shape *s)
{
    return s->k == 3 && s->stride == 1 && s->ci % 4 == 0 && s->co % 4 == 0 &&
           s->ci >= 16 && s->co >= 16 && (long)s->n * s->h * s->w >= WINO_MIN_PIXELS;
}

/* U[p][panel][i][NR] = (G g G^T)[p] for in channel i, out channel
 * panel*NR + j; zero past the last out channel. */
static void transform_weights(const unr_wino_weights *wt, int cin, int cout,
                              int nr, float *u)
{
    const int np = (cout + nr - 1) / nr;
    const size_t pstride = (size_t)np * cin * nr;
    const unr_v4 half = {0.5f, 0.5f, 0.5f, 0.5f};
    memset(u, 0, 16 * pstride * sizeof(float));
    /* Four out channels at a time (cout % 4 == 0, and nr is a multiple of
     * 4, so they share a panel). */
    for (int i = 0; i < cin; i++)
    for (int o = 0; o < cout; o += 4) {
        unr_v4 g[3][3], t[4][3];
        for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const int tap = wt->flip ? (2 - ky) * 3 + (2 - kx) : ky * 3 + kx;
            const float *src = wt->w + tap * wt->tap_stride + i * wt->in_stride +
                               o * wt->out_stride;
            const ptrdiff_t os = wt->out_stride;
            g[ky][kx] = os == 1 ? unr_ld4(src) : (unr_v4){src[0], src[os], src[2 * os], src[3 * os]};
        }
        for (int c = 0; c < 3; c++) {   /* t = G g */
            t[0][c] = g[0][c];
            t[1][c] = half * (g[0][c] + g[1][c] + g[2][c]);
            t[2][c] = half * (g[0][c] - g[1][c] + g[2][c]);
            t[3][c] = g[2][c];
        }
        float *d = u + ((size_t)(o / nr) * cin + i) * nr + o % nr;
        for (int r = 0; r < 4; r++) {   /* U = t G^T */
            unr_st4(d + (r * 4 + 0) * pstride, t[r][0]);
            unr_st4(d + (r * 4 + 1) * pstride, half * (t[r][0] + t[r][1] + t[r][2]));
            unr_st4(d + (r * 4 + 2) * pstride, half * (t[r][0] - t[r][1] + t[r][2]));
            unr_st4(d + (r * 4 + 3) * pstride, t[r][2]);
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
    input_tile_fn input_tile;
    output_tile_fn output_tile;
    int th, tw, tiles, block, nchunks;
    float *scratch[64];     /* per chunk: V then M */
} wino_job;

/* Tiles [t0, t0 + nt) (nt <= block): transform, multiply, transform back. */
static void run_block(const wino_job *jb, float *v, float *mm, int t0, int nt)
{
    const unr_conv_shape *s = jb->s;
    const int ci = s->ci, co = s->co, h = s->h, w = s->w;
    const int MR = jb->uk->mr, NR = jb->uk->nr;
    const int np = (co + NR - 1) / NR, cop = np * NR;
    const int rows = (nt + MR - 1) / MR * MR;
    const size_t vp = (size_t)rows * ci, mp = (size_t)rows * cop;

    /* Walk (b, ty, tx) along the tiles instead of dividing per tile. */
    int b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    const size_t row = (size_t)w * ci;
    for (int q = 0; q < nt; q++) {
        const int oy = 2 * ty, ox = 2 * tx;
        const float *d[16];
        if (oy >= 1 && oy + 2 < h && ox >= 1 && ox + 2 < w) {
            const float *p0 = jb->x + (((size_t)b * h + oy - 1) * w + ox - 1) * ci;
            for (int e = 0; e < 16; e++)
                d[e] = p0 + (e / 4) * row + (e % 4) * (size_t)ci;
        } else {
            for (int e = 0; e < 16; e++) {
                const int iy = oy - 1 + e / 4, ix = ox - 1 + e % 4;
                d[e] = iy >= 0 && iy < h && ix >= 0 && ix < w
                           ? jb->x + (((size_t)b * h + iy) * w + ix) * ci
                           : jb->zeros;
            }
        }
        jb->input_tile(d, ci, v + (size_t)q * ci, vp);
        if (++tx == jb->tw) {
            tx = 0;
            if (++ty == jb->th) {
                ty = 0;
                b++;
            }
        }
    }

    const float *a[UNR_MAX_MR];
    float *c[UNR_MAX_MR];
    for (int p = 0; p < 16; p++)
    for (int r0 = 0; r0 < rows; r0 += MR) {
        for (int i = 0; i < MR; i++) {
            /* rows past nt repeat a valid row; their results go unused */
            const int row = r0 + i < nt ? r0 + i : r0;
            a[i] = v + p * vp + (size_t)row * ci;
            c[i] = mm + p * mp + (size_t)(r0 + i) * cop;
        }
        for (int j = 0; j < np; j++) {
            float *cj[UNR_MAX_MR];
            for (int i = 0; i < MR; i++)
                cj[i] = c[i] + j * NR;
            jb->uk->fn(1, ci, a, 1,
                       jb->u + ((size_t)p * np + j) * ci * NR, cj, NULL, NULL, 0);
        }
    }

    b = t0 / (jb->th * jb->tw), ty = t0 / jb->tw % jb->th, tx = t0 % jb->tw;
    for (int q = 0; q < nt; q++) {
        const int oy = 2 * ty, ox = 2 * tx;
        float *y[4];
        const float *res[4];
        for (int k = 0; k < 4; k++) {
            const int py = oy + k / 2, px = ox + k % 2;
            const size_t off = (((size_t)b * h + py) * w + px) * co;
            const int inside = py < h && px < w;
            y[k] = inside ? jb->y + off : NULL;
            res[k] = inside && jb->res ? jb->res + off : NULL;
        }
        if (++tx == jb->tw) {
            tx = 0;
            if (++ty == jb->th) {
                ty = 0;
                b++;
            }
        }
        jb->output_tile(mm + (size_t)q * cop, mp, co, y, jb->res ? res : NULL,
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
        float *mm = v + 16 * rows * jb->s->ci;
        for (int t0 = t_begin; t0 < t_end; t0 += jb->block) {
            const int nt = t_end - t0 < jb->block ? t_end - t0 : jb->block;
            run_block(jb, v, mm, t0, nt);
        }
    }
}

int unr_winograd_conv(unr_ctx *ctx, const unr_conv_shape *s, const float *x,
                      const unr_wino_weights *wt, const float *bias,
                      const float *residual, int flags, float *y)
{
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, s->co);
    const int MR = uk->mr, NR = uk->nr;
    const int np = (s->co + NR - 1) / NR, cop = np * NR;
    float *u = unr_ctx_shared_scratch(ctx, 16 * (size_t)np * s->ci * NR + s->ci);
    if (!u)
        return 0;
    float *zeros = u + 16 * (size_t)np * s->ci * NR;
    memset(zeros, 0, (size_t)s->ci * sizeof(float));
    transform_weights(wt, s->ci, s->co, NR, u);

    wino_job jb = {
        .uk = uk, .s = s, .x = x, .u = u, .zeros = zeros,
        .res = residual, .bias = bias, .y = y, .flags = flags,
        .th = (s->h + 1) / 2, .tw = (s->w + 1) / 2,
    };
    jb.tiles = s->n * jb.th * jb.tw;
    jb.input_tile = input_tile4;
    jb.output_tile = output_tile4;
#if defined(UNR_HAVE_AVX2_BUILD)
    if (unr_ctx_isa(ctx) == UNR_ISA_AVX2) {
        if (s->ci % 8 == 0)
            jb.input_tile = input_tile8;
        if (s->co % 8 == 0)
            jb.output_tile = output_tile8;
    }
#endif
    jb.block = WINO_BLOCK_FLOATS / (16 * (s->ci + cop)) / MR * MR;
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
        jb.scratch[t] = unr_ctx_thread_scratch(ctx, t, 16 * rows * (s->ci + cop));
        if (!jb.scratch[t])
            return 0;
    }
    if (jb.nchunks > 1)
        unr_parallel_for(ctx, jb.nchunks, wino_chunk, &jb);
    else
        wino_chunk(&jb, 0, 1, 0);
    return 1;
}
