/* gemm.c: the one GEMM driver that turns convolutions into micro-kernel
 * calls (contract in ukernel.h), and the plain GEMM.
 *
 * Forward conv and backward-data are both "implicit im2col" GEMMs: rows are
 * pixels of the tensor being written, each conv tap is a K segment whose row
 * pointers aim straight into the NHWC source (or at a zero row for padding),
 * and B is the weight matrix packed into NR-wide panels. Backward-data with
 * stride s splits the input pixels into s*s parity classes; within a class
 * every pixel sees the same taps, so it is again a plain conv. Backward-
 * weights is a GEMM with K = pixels: each thread sums its share of pixels
 * into a private dw and the partial sums are added at the end.
 */
#include "gemm.h"
#include "context.h"

#include <string.h>

/* Backward-data runs one job per stride parity class, up to stride^2. */
#define UNR_MAX_STRIDE 4

/* Convs with at most this K (taps * channels) copy each row's taps into one
 * contiguous run (the RGB stem: 27). */
#define UNR_GATHER_MAX_K 32

/* Backward-weights: the im2col block holds at most this many floats
 * (256 KiB, within L2) and this many pixels; measured, flat around here. */
#ifndef UNR_BWW_MAX_PIXELS
#define UNR_BWW_MAX_PIXELS 256
#endif
#ifndef UNR_BWW_BLOCK_FLOATS
#define UNR_BWW_BLOCK_FLOATS 65536
#endif

/* ---------------------------------------------------------------- tiles */

/* Packs rows [k0, k0+kk) of a K x N matrix src[k*rs + j*cs] into NR-wide
 * panels: dst[p][k][j] with panel stride ktot*nr, zero past column n. */
static void pack_b(float *dst, int ktot, int k0, int kk, int n, int nr,
                   const float *src, ptrdiff_t rs, ptrdiff_t cs)
{
    for (int j0 = 0; j0 < n; j0 += nr) {
        const int nn = n - j0 < nr ? n - j0 : nr;
        float *d = dst + ((size_t)(j0 / nr) * ktot + k0) * nr;
        for (int k = 0; k < kk; k++, d += nr) {
            const float *s = src + k * rs + j0 * cs;
            int j = 0;
            if (cs == 1)
                for (; j < nn; j++) d[j] = s[j];
            else
                for (; j < nn; j++) d[j] = s[j * cs];
            for (; j < nr; j++) d[j] = 0.0f;
        }
    }
}

/* One MR x NR output tile. Partial tiles go through a local buffer so the
 * micro-kernel only ever writes full tiles. */
static void run_tile(const unr_ukernel *uk, int mr, int nr, int ks, int kc,
                     const float *const *a, ptrdiff_t as, const float *b,
                     float *const *c, const float *const *r,
                     const float *bias, int flags)
{
    if (mr == uk->mr && nr == uk->nr) {
        uk->fn(ks, kc, a, as, b, c, r, bias, flags);
        return;
    }
    float tmp[UNR_MAX_MR * UNR_MAX_NR];
    float *tc[UNR_MAX_MR];
    for (int i = 0; i < uk->mr; i++)
        tc[i] = tmp + i * uk->nr;
    uk->fn(ks, kc, a, as, b, tc, NULL, NULL, 0);
    for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) {
        float v = tc[i][j];
        if (flags & UNR_UK_ACCUMULATE) {
            c[i][j] += v;
            continue;
        }
        if (bias)
            v += bias[j];
        if (r)
            v += r[i][j];
        if ((flags & UNR_UK_RELU) && v < 0.0f)
            v = 0.0f;
        c[i][j] = v;
    }
}

/* An implicit-im2col GEMM. Row (b, i, j) of the row grid reads, for tap t,
 * the source pixel (i*rmul + ty[t], j*rmul + tx[t]) of image b (zeros when
 * outside), and writes destination pixel (i*dmul + doy, j*dmul + dox). */
typedef struct {
    const unr_ukernel *uk;
    int n, rh, rw;                      /* row grid */
    const float *src;                   /* [n, sh, sw, sc] */
    int sh, sw, sc;
    int rmul, ks;
    int ty[UNR_MAX_TAPS], tx[UNR_MAX_TAPS];
    const float *zeros;                 /* [sc] */
    float *dst;                         /* [n, dh, dw, nc] */
    const float *res;                   /* like dst, or NULL */
    int dh, dw, nc, dmul, doy, dox;
    const float *bpack;                 /* [ceil(nc/nr)][ks*sc][nr] */
    const float *bias;                  /* [nc] or NULL */
    int flags;
    /* Forward 3x3 conv over a zero-padded source with nc a multiple of NR:
     * the micro-kernel for rows rmul*sc floats apart (spaced_tile), or NULL. */
    unr_ukernel_fn spaced;
    /* A 3x3 conv over a zero-padded source whose taps come in rows of three
     * (same ty, tx ascending by one): every tap of every row is inside, so a
     * row's A is 3 pointers to runs of 3*sc floats, found without bounds
     * checks, and the micro-kernel runs 3 long K segments instead of 9. */
    int rows3;
    /* Filled by finish_job: each tap's offset from the row's source pixel,
     * and the range of taps, for rows whose taps are all inside. */
    ptrdiff_t toff[UNR_MAX_TAPS];
    int ty_min, ty_max, tx_min, tx_max;
} conv_job;

static void finish_job(conv_job *jb)
{
    jb->ty_min = jb->tx_min = 0;
    jb->ty_max = jb->tx_max = 0;
    for (int t = 0; t < jb->ks; t++) {
        jb->toff[t] = ((ptrdiff_t)jb->ty[t] * jb->sw + jb->tx[t]) * jb->sc;
        if (t == 0 || jb->ty[t] < jb->ty_min) jb->ty_min = jb->ty[t];
        if (t == 0 || jb->ty[t] > jb->ty_max) jb->ty_max = jb->ty[t];
        if (t == 0 || jb->tx[t] < jb->tx_min) jb->tx_min = jb->tx[t];
        if (t == 0 || jb->tx[t] > jb->tx_max) jb->tx_max = jb->tx[t];
    }
}

/* A full tile of MR adjacent pixels of one output row of a forward conv
 * over a zero-padded input (jb->spaced set): every tap is inside, the rows
 * are rmul*sc floats apart, and each row of three taps (kx = 0, 1, 2) is one
 * contiguous run, so the spaced micro-kernel takes 3 segments of 3*sc. */
static void spaced_tile(const conv_job *jb, int b, int ii, int jj)
{
    const int MR = jb->uk->mr, NR = jb->uk->nr, kdim = jb->ks * jb->sc;
    const float *a[3 * UNR_MAX_MR];
    float *cp[UNR_MAX_MR];
    const float *rp[UNR_MAX_MR];
    const float *px = jb->src +
        (((ptrdiff_t)b * jb->sh + ii * jb->rmul) * jb->sw + jj * jb->rmul) * jb->sc;
    for (int g = 0; g < 3; g++)
        a[g * MR] = px + jb->toff[3 * g];
    const size_t off = (((size_t)b * jb->dh + ii) * jb->dw + jj) * jb->nc;
    const float *bp = jb->bpack;
    for (int j0 = 0; j0 < jb->nc; j0 += NR, bp += (size_t)kdim * NR) {
        for (int i = 0; i < MR; i++) {
            cp[i] = jb->dst + off + (size_t)i * jb->nc + j0;
            rp[i] = jb->res ? jb->res + off + (size_t)i * jb->nc + j0 : NULL;
        }
        jb->spaced(3, 3 * jb->sc, a, 1, bp, cp, jb->res ? rp : NULL,
                   jb->bias ? jb->bias + j0 : NULL, jb->flags);
    }
}

/* The spaced stand-in for micro-kernel uk over rows `spacing` floats apart,
 * or NULL. */
static unr_ukernel_fn find_spaced(const unr_ctx *ctx, const unr_ukernel *uk,
                                  int spacing)
{
    for (const unr_spaced_ukernel *sp = unr_ctx_info(ctx)->spaced; sp->spacing; sp++)
        if (sp->spacing == spacing && sp->mr == uk->mr && sp->nr == uk->nr)
            return sp->fn;
    return NULL;
}

/* Rows [r_begin, r_end) of one job, in MR-row tiles. */
static void conv_rows(const conv_job *jb, int r_begin, int r_end)
{
    const int MR = jb->uk->mr, NR = jb->uk->nr;
    const int kc = jb->sc, kdim = jb->ks * kc;
    const int gather = jb->ks > 1 && kdim <= UNR_GATHER_MAX_K && !jb->rows3;
    /* K segments the micro-kernel sees and the floats in each */
    const int segs = gather ? 1 : jb->rows3 ? 3 : jb->ks;
    const int seglen = gather ? kdim : jb->rows3 ? 3 * kc : kc;
    const float *a[UNR_MAX_TAPS * UNR_MAX_MR], *ag[UNR_MAX_MR];
    float rowbuf[UNR_MAX_MR * UNR_GATHER_MAX_K];
    float *c[UNR_MAX_MR], *cp[UNR_MAX_MR];
    const float *r[UNR_MAX_MR], *rp[UNR_MAX_MR];

    /* Walk (b, ii, jj) along the rows instead of dividing per row. */
    int b = r_begin / (jb->rh * jb->rw);
    int ii = (r_begin / jb->rw) % jb->rh, jj = r_begin % jb->rw;
    for (int r0 = r_begin; r0 < r_end; r0 += MR) {
        const int mr = r_end - r0 < MR ? r_end - r0 : MR;
        if (jb->spaced && mr == MR && jj + MR <= jb->rw) {
            spaced_tile(jb, b, ii, jj);
            if ((jj += MR) == jb->rw) {
                jj = 0;
                if (++ii == jb->rh) {
                    ii = 0;
                    b++;
                }
            }
            continue;
        }
        for (int i = 0; i < MR; i++) {
            if (i == mr) {  /* pad the tile with copies of its first row */
                for (int t = 0; t < (jb->rows3 ? 3 : jb->ks); t++)
                    for (int k = i; k < MR; k++)
                        a[t * MR + k] = a[t * MR];
                for (int k = i; k < MR; k++) {
                    c[k] = c[0];
                    r[k] = r[0];
                }
                break;
            }
            const int y0 = ii * jb->rmul, x0 = jj * jb->rmul;
            const float *px = jb->src + (((ptrdiff_t)b * jb->sh + y0) * jb->sw + x0) * kc;
            if (jb->rows3) {
                a[i] = px + jb->toff[0];
                a[MR + i] = px + jb->toff[3];
                a[2 * MR + i] = px + jb->toff[6];
            } else if (y0 + jb->ty_min >= 0 && y0 + jb->ty_max < jb->sh &&
                x0 + jb->tx_min >= 0 && x0 + jb->tx_max < jb->sw) {
                for (int t = 0; t < jb->ks; t++)
                    a[t * MR + i] = px + jb->toff[t];
            } else {
                for (int t = 0; t < jb->ks; t++) {
                    const int sy = y0 + jb->ty[t], sx = x0 + jb->tx[t];
                    a[t * MR + i] =
                        (sy >= 0 && sy < jb->sh && sx >= 0 && sx < jb->sw)
                            ? px + jb->toff[t] : jb->zeros;
                }
            }
            const size_t off =
                (((size_t)b * jb->dh + ii * jb->dmul + jb->doy) * jb->dw +
                 jj * jb->dmul + jb->dox) * jb->nc;
            c[i] = jb->dst + off;
            r[i] = jb->res ? jb->res + off : NULL;
            if (++jj == jb->rw) {
                jj = 0;
                if (++ii == jb->rh) {
                    ii = 0;
                    b++;
                }
            }
        }
        /* Few channels per tap (the RGB stem): copy each row's taps into one
         * contiguous K so the micro-kernel runs one long loop, not 9 short. */
        if (gather) {
            for (int i = 0; i < MR; i++) {
                float *d = rowbuf + i * kdim;
                for (int t = 0; t < jb->ks; t++)
                    for (int k = 0; k < kc; k++)
                        *d++ = a[t * MR + i][k];
                ag[i] = rowbuf + i * kdim;
            }
        }
        for (int j0 = 0; j0 < jb->nc; j0 += NR) {
            const int nr = jb->nc - j0 < NR ? jb->nc - j0 : NR;
            for (int i = 0; i < MR; i++) {
                cp[i] = c[i] + j0;
                rp[i] = r[i] ? r[i] + j0 : NULL;
            }
            run_tile(jb->uk, mr, nr, segs, seglen, gather ? ag : a, 1,
                     jb->bpack + (size_t)(j0 / NR) * kdim * NR, cp,
                     jb->res ? rp : NULL, jb->bias ? jb->bias + j0 : NULL,
                     jb->flags);
        }
    }
}

/* Several jobs (the parity classes of backward-data) in one parallel region:
 * chunk c takes the same slice of every job's rows, so each thread keeps
 * writing the same part of the output. */
typedef struct {
    const conv_job *jobs;
    int njobs, nchunks;
} conv_batch;

static void conv_chunks(void *arg, int begin, int end, int thread)
{
    (void)thread;
    const conv_batch *cb = arg;
    for (int chunk = begin; chunk < end; chunk++)
        for (int j = 0; j < cb->njobs; j++) {
            const conv_job *jb = &cb->jobs[j];
            const int rows = jb->n * jb->rh * jb->rw, mr = jb->uk->mr;
            /* Slice bounds on tile boundaries, the last one takes the rest. */
            const int tiles = (rows + mr - 1) / mr;
            const int t0 = (int)((long long)tiles * chunk / cb->nchunks);
            const int t1 = (int)((long long)tiles * (chunk + 1) / cb->nchunks);
            const int r1 = t1 * mr < rows ? t1 * mr : rows;
            if (t0 * mr < r1)
                conv_rows(jb, t0 * mr, r1);
        }
}

static void run_conv_jobs(unr_ctx *ctx, conv_job *jobs, int njobs)
{
    double macs = 0;
    for (int j = 0; j < njobs; j++)
        finish_job(&jobs[j]);
    for (int j = 0; j < njobs; j++)
        macs += (double)jobs[j].n * jobs[j].rh * jobs[j].rw * jobs[j].ks *
                jobs[j].sc * jobs[j].nc;
    conv_batch cb = {jobs, njobs, unr_ctx_threads(ctx)};
    if (macs < (double)UNR_MIN_MACS_PER_THREAD * 2 || cb.nchunks == 1) {
        cb.nchunks = 1;
        conv_chunks(&cb, 0, 1, 0);
        return;
    }
    unr_parallel_for(ctx, cb.nchunks, conv_chunks, &cb);
}

/* ---------------------------------------------------------------- padding */

/* xp[n, h+2p, w+2p, c] = x[n, h, w, c] inside a border of p zero pixels;
 * images [b0, b1). */
static void pad_images(float *xp, const float *x, int b0, int b1, int h, int w,
                       int c, int p)
{
    const size_t row = (size_t)(w + 2 * p) * c, side = (size_t)p * c;
    for (int b = b0; b < b1; b++) {
        float *img = xp + (size_t)b * (h + 2 * p) * row;
        memset(img, 0, p * row * sizeof(float));
        for (int y = 0; y < h; y++) {
            float *d = img + (size_t)(y + p) * row;
            memset(d, 0, side * sizeof(float));
            memcpy(d + side, x + ((size_t)b * h + y) * w * c,
                   (size_t)w * c * sizeof(float));
            memset(d + row - side, 0, side * sizeof(float));
        }
        memset(img + (size_t)(h + p) * row, 0, p * row * sizeof(float));
    }
}

typedef struct {
    float *xp;
    const float *x;
    int h, w, c, p;
} pad_job;

static void pad_chunk(void *arg, int begin, int end, int thread)
{
    (void)thread;
    const pad_job *jb = arg;
    pad_images(jb->xp, jb->x, begin, end, jb->h, jb->w, jb->c, jb->p);
}

/* The copy is memory-bound: split by images when the batch is large. */
static void pad_input(unr_ctx *ctx, float *xp, const float *x, int n, int h,
                      int w, int c, int p)
{
    pad_job jb = {xp, x, h, w, c, p};
    unr_parallel_for_work(ctx, n, (double)n * h * w * c * 16, pad_chunk, &jb);
}

/* ---------------------------------------------------------------- forward */

int unr_conv_forward__ukernel(unr_ctx *ctx, const unr_conv_shape *s, const float *x,
                              const float *w, const unr_epilogue *ep, float *y)
{
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, s->co);
    const int ks = s->k * s->k, kdim = ks * s->ci;
    const int np = (s->co + uk->nr - 1) / uk->nr;
    float *bp = unr_ctx_shared_scratch(ctx, (size_t)np * kdim * uk->nr);
    float *zeros = unr_ctx_zeros(ctx, (size_t)s->ci);
    if (!bp || !zeros)
        return 0;
    pack_b(bp, kdim, 0, kdim, s->co, uk->nr, w, s->co, 1);

    int pad = (s->k - 1) / 2;
    conv_job jb = {
        .uk = uk, .n = s->n, .rh = ho, .rw = wo,
        .src = x, .sh = s->h, .sw = s->w, .sc = s->ci,
        .rmul = s->stride, .ks = ks, .zeros = zeros,
        .dst = y, .res = ep ? ep->residual : NULL,
        .dh = ho, .dw = wo, .nc = s->co, .dmul = 1,
        .bpack = bp, .bias = ep ? ep->bias : NULL, .flags = unr_uk_flags(ep),
    };
    /* A spaced micro-kernel wants every tap of every row inside: give it a
     * zero-padded copy of x (a copy costs ~1/(9*Co) of the conv). */
    unr_ukernel_fn spaced = NULL;
    if (s->k == 3 && kdim > UNR_GATHER_MAX_K && s->co % uk->nr == 0)
        spaced = find_spaced(ctx, uk, s->stride * s->ci);
    const int rows3 = !spaced && unr_ctx_info(ctx)->pad_3x3 && s->k == 3 &&
                      kdim > UNR_GATHER_MAX_K;
    float *xp = spaced || rows3
                    ? unr_ctx_padded_scratch(ctx, (size_t)s->n * (s->h + 2 * pad) *
                                                      (s->w + 2 * pad) * s->ci)
                    : NULL;
    if (xp) {
        pad_input(ctx, xp, x, s->n, s->h, s->w, s->ci, pad);
        jb.src = xp;
        jb.sh = s->h + 2 * pad;
        jb.sw = s->w + 2 * pad;
        jb.spaced = spaced;
        jb.rows3 = rows3;
        pad = 0;
    }
    for (int t = 0; t < ks; t++) {
        jb.ty[t] = t / s->k - pad;
        jb.tx[t] = t % s->k - pad;
    }
    run_conv_jobs(ctx, &jb, 1);
    return 1;
}

/* ---------------------------------------------------------------- backward-data */

/* Backward-data of a 3x3 stride-1 conv as the forward conv of zero-padded
 * dy with the kernel flipped (Co in, Ci out), so it takes the rows-of-three
 * path: 3 K segments of 3*Co per tile instead of 9 bounds-checked ones of
 * Co. Returns 0 (nothing written) when scratch memory runs out. */
static int backward_data_3x3_padded(unr_ctx *ctx, const unr_conv_shape *s,
                                    const float *dy, const float *w, float *dx,
                                    int accumulate)
{
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, s->ci);
    const int kdim = 9 * s->co, np = (s->ci + uk->nr - 1) / uk->nr;
    if (kdim <= UNR_GATHER_MAX_K)
        return 0;
    float *bp = unr_ctx_shared_scratch(ctx, (size_t)np * kdim * uk->nr);
    float *dyp = unr_ctx_padded_scratch(ctx,
                                        (size_t)s->n * (s->h + 2) * (s->w + 2) * s->co);
    if (!bp || !dyp)
        return 0;
    /* B rows (t, co), columns ci: tap t of the flipped kernel is tap 8 - t. */
    for (int t = 0; t < 9; t++)
        pack_b(bp, kdim, t * s->co, s->co, s->ci, uk->nr,
               w + (size_t)(8 - t) * s->ci * s->co, 1, s->co);
    pad_input(ctx, dyp, dy, s->n, s->h, s->w, s->co, 1);
    conv_job jb = {
        .uk = uk, .n = s->n, .rh = s->h, .rw = s->w,
        .src = dyp, .sh = s->h + 2, .sw = s->w + 2, .sc = s->co,
        .rmul = 1, .ks = 9, .zeros = NULL,
        .dst = dx, .dh = s->h, .dw = s->w, .nc = s->ci, .dmul = 1,
        .bpack = bp, .flags = accumulate ? UNR_UK_ACCUMULATE : 0,
    };
    if (s->ci % uk->nr == 0)
        jb.spaced = find_spaced(ctx, uk, s->co);
    jb.rows3 = !jb.spaced;
    for (int t = 0; t < 9; t++) {
        jb.ty[t] = t / 3;
        jb.tx[t] = t % 3;
    }
    run_conv_jobs(ctx, &jb, 1);
    return 1;
}

int unr_conv_backward_data__ukernel(unr_ctx *ctx, const unr_conv_shape *s,
                                    const float *dy, const float *w, float *dx,
                                    int accumulate)
{
    if (s->stride > UNR_MAX_STRIDE)
        return 0;
    if (s->stride == 1 && s->k == 3 && unr_ctx_info(ctx)->pad_3x3 &&
        backward_data_3x3_padded(ctx, s, dy, w, dx, accumulate))
        return 1;
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, s->ci);
    const int ks = s->k * s->k, st = s->stride, pad = (s->k - 1) / 2;
    const int np = (s->ci + uk->nr - 1) / uk->nr;
    float *bp = unr_ctx_shared_scratch(ctx, (size_t)np * ks * s->co * uk->nr);
    float *zeros = unr_ctx_zeros(ctx, (size_t)s->co);
    if (!bp || !zeros)
        return 0;

    /* Input pixel y gets dy[(y + pad - ky) / st] from tap ky when that
     * divides exactly; the parity class (y % st, x % st) fixes which taps.
     * Each class packs its own B: rows (tap, co), columns ci. */
    conv_job jobs[UNR_MAX_STRIDE * UNR_MAX_STRIDE];
    int njobs = 0;
    size_t boff = 0;
    for (int py = 0; py < st; py++)
    for (int px = 0; px < st; px++) {
        conv_job jb = {
            .uk = uk, .n = s->n,
            .rh = (s->h - py + st - 1) / st, .rw = (s->w - px + st - 1) / st,
            .src = dy, .sh = ho, .sw = wo, .sc = s->co,
            .rmul = 1, .zeros = zeros,
            .dst = dx, .dh = s->h, .dw = s->w, .nc = s->ci,
            .dmul = st, .doy = py, .dox = px,
            .flags = accumulate ? UNR_UK_ACCUMULATE : 0,
        };
        if (jb.rh <= 0 || jb.rw <= 0)
            continue;
        int tap[UNR_MAX_TAPS];
        for (int ky = 0; ky < s->k; ky++)
        for (int kx = 0; kx < s->k; kx++) {
            const int ty = py + pad - ky, tx = px + pad - kx;
            if (ty % st || tx % st)
                continue;
            tap[jb.ks] = ky * s->k + kx;
            jb.ty[jb.ks] = ty / st;
            jb.tx[jb.ks] = tx / st;
            jb.ks++;
        }
        jb.bpack = bp + boff;
        for (int t = 0; t < jb.ks; t++)
            pack_b(bp + boff, jb.ks * s->co, t * s->co, s->co, s->ci, uk->nr,
                   w + (size_t)tap[t] * s->ci * s->co, 1, s->co);
        boff += (size_t)np * jb.ks * s->co * uk->nr;   /* classes share no tap */
        jobs[njobs++] = jb;
    }
    run_conv_jobs(ctx, jobs, njobs);
    return 1;
}

/* ---------------------------------------------------------------- backward-weights */

/* Backward-weights: dw[(tap, ci), co] += sum_p col[p, (tap, ci)] * dy[p, co]
 * with p over all output pixels. A = col^T read with stride M from an
 * im2col block; B = a block of dy rows, packed. */
typedef struct {
    const unr_ctx *ctx;
    const unr_conv_shape *s;
    const unr_ukernel *uk;
    const float *x, *dy;
    int ho, wo, m, pixels, kcb, nthreads;
    float *parts[64];   /* per thread [m][co] partial sums */
    float *cols[64];    /* per thread [kcb][m] im2col block */
    float *bblk[64];    /* per thread [np][kcb][nr] packed dy block */
    /* 3x3 stride 1 (bww_rows): x zero-padded to [n][ho+2][wo+2][ci], and
     * output rows per block; cols unused. */
    const float *xp;
    int rows_per_block;
} bww_job;

/* Backward-weights of a 3x3 stride-1 conv without im2col. Over the padded
 * input, row (ky, kx, c) of col^T along the pixels of one output row is xp
 * itself, read every ci floats from pixel (oy + ky, kx): so each output row
 * is one K segment of wo pixels whose A rows point straight into xp, and
 * the micro-kernel reads them in place. Chunks take whole output rows. */
#define UNR_BWW_MAX_SEGMENTS 64
static void bww_rows(const bww_job *jb, int chunk)
{
    const unr_conv_shape *s = jb->s;
    const unr_ukernel *uk = jb->uk;
    const int MR = uk->mr, NR = uk->nr, m = jb->m, co = s->co, ci = s->ci;
    const int ho = jb->ho, wo = jb->wo, wp = wo + 2;
    const int rows = s->n * ho;
    const float *a[UNR_BWW_MAX_SEGMENTS * UNR_MAX_MR];
    float *c[UNR_MAX_MR];
    ptrdiff_t off[UNR_MAX_MR];
    float *part = jb->parts[chunk], *bb = jb->bblk[chunk];
    const int r_begin = (int)((long long)rows * chunk / jb->nthreads);
    const int r_end = (int)((long long)rows * (chunk + 1) / jb->nthreads);
    for (int r0 = r_begin; r0 < r_end; r0 += jb->rows_per_block) {
        const int nrow = r_end - r0 < jb->rows_per_block ? r_end - r0 : jb->rows_per_block;
        const int kb = nrow * wo;
        pack_b(bb, kb, 0, kb, co, NR, jb->dy + (size_t)r0 * wo * co, co, 1);
        for (int m0 = 0; m0 < m; m0 += MR) {
            const int mr = m - m0 < MR ? m - m0 : MR;
            for (int i = 0; i < MR; i++) {
                const int row = m0 + (i < mr ? i : 0);
                const int tap = row / ci;
                off[i] = ((ptrdiff_t)(tap / 3) * wp + tap % 3) * ci + row % ci;
                c[i] = part + (size_t)row * co;
            }
            for (int q = 0; q < nrow; q++) {
                const int b = (r0 + q) / ho, oy = (r0 + q) % ho;
                const float *base = jb->xp + ((size_t)b * (ho + 2) + oy) * wp * ci;
                for (int i = 0; i < MR; i++)
                    a[q * MR + i] = base + off[i];
            }
            for (int j0 = 0; j0 < co; j0 += NR) {
                const int nr = co - j0 < NR ? co - j0 : NR;
                float *cj[UNR_MAX_MR];
                for (int i = 0; i < MR; i++)
                    cj[i] = c[i] + j0;
                run_tile(uk, mr, nr, nrow, wo, a, ci,
                         bb + (size_t)(j0 / NR) * kb * NR, cj, NULL, NULL,
                         UNR_UK_ACCUMULATE);
            }
        }
    }
}

/* Short runs (a few times Ci floats): loops of 8 inline, calls would not. */
static void copy_floats(float *d, const float *src, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        memcpy(d + i, src + i, 8 * sizeof(float));
    for (; i < n; i++)
        d[i] = src[i];
}

static void zero_floats(float *d, int n)
{
    static const float zeros8[8];
    int i = 0;
    for (; i + 8 <= n; i += 8)
        memcpy(d + i, zeros8, 8 * sizeof(float));
    for (; i < n; i++)
        d[i] = 0.0f;
}

static void bww_chunk(void *arg, int begin, int end, int thread)
{
    const bww_job *jb = arg;
    const unr_conv_shape *s = jb->s;
    const unr_ukernel *uk = jb->uk;
    const int MR = uk->mr, NR = uk->nr, m = jb->m, co = s->co;
    const int pad = (s->k - 1) / 2, k = s->k, stride = s->stride;
    const int h = s->h, w = s->w, ci = s->ci, ho = jb->ho, wo = jb->wo;
    (void)thread;
    float *part = NULL, *col = NULL, *bb = NULL;
    const float *a[UNR_MAX_MR];
    float *c[UNR_MAX_MR];

    /* Scratch follows the chunk, not the thread: one chunk, one owner. */
    for (int chunk = begin; chunk < end; chunk++) {
        if (jb->xp) {
            bww_rows(jb, chunk);
            continue;
        }
        part = jb->parts[chunk];
        col = jb->cols[chunk];
        bb = jb->bblk[chunk];
        const int p_begin = (int)((long long)jb->pixels * chunk / jb->nthreads);
        const int p_end = (int)((long long)jb->pixels * (chunk + 1) / jb->nthreads);
        for (int p0 = p_begin; p0 < p_end; p0 += jb->kcb) {
            const int kb = p_end - p0 < jb->kcb ? p_end - p0 : jb->kcb;
            /* Walk (b, oy, ox) along the pixels; per row of taps, copy the
             * inside ones as one run and zero the rest. */
            int b = p0 / (ho * wo), oy = (p0 / wo) % ho, ox = p0 % wo;
            for (int q = 0; q < kb; q++) {
                const int x0 = ox * stride - pad;
                const int kx_lo = x0 < 0 ? -x0 : 0;
                const int kx_hi = x0 + k > w ? w - x0 : k;
                for (int ky = 0; ky < k; ky++) {
                    const int iy = oy * stride + ky - pad;
                    float *d = col + (size_t)q * m + (size_t)ky * k * ci;
                    if (iy < 0 || iy >= h || kx_lo >= kx_hi) {
                        zero_floats(d, k * ci);
                        continue;
                    }
                    zero_floats(d, kx_lo * ci);
                    copy_floats(d + kx_lo * ci,
                                jb->x + (((size_t)b * h + iy) * w + x0 + kx_lo) * ci,
                                (kx_hi - kx_lo) * ci);
                    zero_floats(d + kx_hi * ci, (k - kx_hi) * ci);
                }
                if (++ox == wo) {
                    ox = 0;
                    if (++oy == ho) {
                        oy = 0;
                        b++;
                    }
                }
            }
            pack_b(bb, kb, 0, kb, co, NR, jb->dy + (size_t)p0 * co, co, 1);
            for (int j0 = 0; j0 < co; j0 += NR) {
                const int nr = co - j0 < NR ? co - j0 : NR;
                const float *bpanel = bb + (size_t)(j0 / NR) * kb * NR;
                for (int m0 = 0; m0 < m; m0 += MR) {
                    const int mr = m - m0 < MR ? m - m0 : MR;
                    for (int i = 0; i < MR; i++) {
                        const int row = m0 + (i < mr ? i : 0);
                        a[i] = col + row;
                        c[i] = part + (size_t)row * co + j0;
                    }
                    run_tile(uk, mr, nr, 1, kb, a, m, bpanel, c, NULL, NULL,
                             UNR_UK_ACCUMULATE);
                }
            }
        }
    }
}

int unr_conv_backward_weights__ukernel(unr_ctx *ctx, const unr_conv_shape *s,
                                       const float *x, const float *dy, float *dw)
{
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    const int threads = unr_ctx_threads(ctx);
    bww_job jb = {
        .ctx = ctx, .s = s, .uk = unr_ctx_pick_ukernel(ctx, s->co), .x = x, .dy = dy,
        .ho = ho, .wo = wo, .m = s->k * s->k * s->ci,
        .pixels = s->n * ho * wo,
    };
    const int nr = jb.uk->nr, np = (s->co + nr - 1) / nr;
    const double macs = (double)jb.pixels * jb.m * s->co;
    int nt = threads < 64 ? threads : 64;
    if (macs < (double)UNR_MIN_MACS_PER_THREAD * 2)
        nt = 1;
    jb.nthreads = nt;
    jb.kcb = UNR_BWW_BLOCK_FLOATS / jb.m;
    jb.kcb = jb.kcb < 16 ? 16 : jb.kcb > UNR_BWW_MAX_PIXELS ? UNR_BWW_MAX_PIXELS : jb.kcb;
    if (s->k == 3 && s->stride == 1) {
        float *xp = unr_ctx_padded_scratch(ctx, (size_t)s->n * (ho + 2) * (wo + 2) * s->ci);
        if (xp) {
            pad_input(ctx, xp, x, s->n, s->h, s->w, s->ci, 1);
            jb.xp = xp;
            jb.rows_per_block = jb.kcb / wo < 1 ? 1 : jb.kcb / wo;
            if (jb.rows_per_block > UNR_BWW_MAX_SEGMENTS)
                jb.rows_per_block = UNR_BWW_MAX_SEGMENTS;
            jb.kcb = jb.rows_per_block * wo;
        }
    }
    const size_t part_n = (size_t)jb.m * s->co;
    const size_t part_pad = (part_n + 15) & ~(size_t)15;
    const size_t col_n = jb.xp ? 0 : ((size_t)jb.kcb * jb.m + 15) & ~(size_t)15;
    const size_t bb_n = (size_t)np * jb.kcb * nr;
    for (int t = 0; t < nt; t++) {
        float *p = unr_ctx_thread_scratch(ctx, t, part_pad + col_n + bb_n);
        if (!p)
            return 0;
        jb.parts[t] = p;
        jb.cols[t] = p + part_pad;
        jb.bblk[t] = p + part_pad + col_n;
        memset(p, 0, part_n * sizeof(float));
    }
    if (nt > 1)
        unr_parallel_for(ctx, nt, bww_chunk, &jb);
    else
        bww_chunk(&jb, 0, 1, 0);
    for (int t = 0; t < nt; t++)
        for (size_t e = 0; e < part_n; e++)
            dw[e] += jb.parts[t][e];
    return 1;
}

/* ---------------------------------------------------------------- gemm */

typedef struct {
    const unr_ukernel *uk;
    int m, n, k;
    const float *a;
    ptrdiff_t rsa, csa;
    const float *bpack;
    float *c;
    ptrdiff_t ldc;
    const float *res, *bias;
    int flags;
} gemm_job;

static void gemm_tiles(void *arg, int begin, int end, int thread)
{
    (void)thread;
    const gemm_job *jb = arg;
    const int MR = jb->uk->mr, NR = jb->uk->nr;
    const float *a[UNR_MAX_MR], *rp[UNR_MAX_MR];
    float *cp[UNR_MAX_MR];
    for (int tile = begin; tile < end; tile++) {
        const int i0 = tile * MR;
        const int mr = jb->m - i0 < MR ? jb->m - i0 : MR;
        for (int i = 0; i < MR; i++)
            a[i] = jb->a + (i0 + (i < mr ? i : 0)) * jb->rsa;
        for (int j0 = 0; j0 < jb->n; j0 += NR) {
            const int nr = jb->n - j0 < NR ? jb->n - j0 : NR;
            for (int i = 0; i < MR; i++) {
                const ptrdiff_t off = (i0 + (i < mr ? i : 0)) * jb->ldc + j0;
                cp[i] = jb->c + off;
                rp[i] = jb->res ? jb->res + off : NULL;
            }
            run_tile(jb->uk, mr, nr, 1, jb->k, a, jb->csa,
                     jb->bpack + (size_t)(j0 / NR) * jb->k * NR, cp,
                     jb->res ? rp : NULL, jb->bias ? jb->bias + j0 : NULL,
                     jb->flags);
        }
    }
}

int unr_gemm__ukernel(unr_ctx *ctx, int m, int n, int k,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      float *c, ptrdiff_t ldc, const unr_epilogue *ep)
{
    if (k < 0)
        return 0;
    const unr_ukernel *uk = unr_ctx_pick_ukernel(ctx, n);
    const int np = (n + uk->nr - 1) / uk->nr;
    float *bp = unr_ctx_shared_scratch(ctx, (size_t)np * k * uk->nr);
    if (!bp)
        return 0;
    pack_b(bp, k, 0, k, n, uk->nr, b, rsb, csb);
    gemm_job jb = {
        .uk = uk, .m = m, .n = n, .k = k, .a = a, .rsa = rsa, .csa = csa,
        .bpack = bp, .c = c, .ldc = ldc,
        .res = ep ? ep->residual : NULL, .bias = ep ? ep->bias : NULL,
        .flags = unr_uk_flags(ep),
    };
    const int tiles = (m + uk->mr - 1) / uk->mr;
    unr_parallel_for_work(ctx, tiles, (double)m * n * k, gemm_tiles, &jb);
    return 1;
}
