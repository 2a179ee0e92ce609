/* test_kernels.c: every kernel variant against the scalar reference, and the
 * reference against an independent direct convolution and against finite
 * differences. Prints one line per failing check; exit status 1 on failure.
 *
 * Tolerance: |got - ref| <= 1e-4 * (|ref| + 1) * sqrt(K), K the length of
 * the sum behind each output (k*k*Ci forward, k*k*Co backward-data,
 * n*Ho*Wo backward-weights). Float sums in a different order drift by about
 * eps * sqrt(K) * |terms|; the slack covers terms of size ~1. */
#include "kernels.h"
#include "isa.h"        /* the ISA table: every available entry is tested */
#include "winograd.h"   /* unr_winograd_conv, tested directly */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_checks, n_failures;

/* ---------------------------------------------------------------- helpers */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float frand(void)    /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1 << 23))) - 1.0f;
}

static float *rand_array(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static float *copy_array(const float *src, size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(p, src, n * sizeof *p);
    return p;
}

static void expect_close(const char *what, const float *got, const float *ref,
                         size_t n, double kdim)
{
    n_checks++;
    const double scale = 1e-4 * sqrt(kdim > 1 ? kdim : 1);
    for (size_t i = 0; i < n; i++) {
        const double tol = scale * (fabs(ref[i]) + 1.0);
        if (!(fabs((double)got[i] - ref[i]) <= tol)) {
            printf("FAIL %s: [%zu] got %.7g want %.7g (tol %.2g)\n", what, i,
                   got[i], ref[i], tol);
            n_failures++;
            return;
        }
    }
}

static const char *shape_str(const unr_conv_shape *s)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "n%d %dx%d ci%d co%d k%d s%d", s->n, s->h, s->w,
             s->ci, s->co, s->k, s->stride);
    return buf;
}

/* ---------------------------------------------------------------- variants */

/* 3 thread counts x 3 Winograd settings per ISA entry */
#define MAX_CTX (3 * 3 * UNR_ISA_COUNT)
static unr_ctx *ref_ctx;
static unr_ctx *ctxs[MAX_CTX];
static int ctx_wino[MAX_CTX];       /* Winograd tile m: 2, 4, or 0 (off) */
static int n_ctx;

/* Every entry of the ISA table that this build and CPU run, but the
 * reference itself. */
static void make_contexts(void)
{
    ref_ctx = unr_ctx_create(1, UNR_ISA_SCALAR);
    static const int thread_counts[] = {1, 2, 3};
    int n_isa;
    const unr_isa_info *table = unr_isa_table(&n_isa);
    for (int e = 0; e < n_isa; e++) {
        const unr_isa isa = table[e].isa;
        if (isa == UNR_ISA_SCALAR || !unr_isa_available(isa))
            continue;
        for (int t = 0; t < 3; t++) {
            unr_ctx *c = unr_ctx_create(thread_counts[t], isa);
            if (!c) {
                printf("FAIL create %s with %d threads\n",
                       table[e].name, thread_counts[t]);
                n_failures++;
                continue;
            }
            /* WASM clamps to one thread: keep one context per thread count. */
            if (unr_ctx_threads(c) != thread_counts[t]) {
                unr_ctx_destroy(c);
                continue;
            }
            /* Each ISA with F(4x4), F(2x2) (even where Winograd is not the
             * default) and with every conv direct, so every path is held to
             * the reference whichever one the dispatch prefers. */
            unr_ctx_set_winograd(c, 4);
            ctx_wino[n_ctx] = 4;
            ctxs[n_ctx++] = c;
            static const int others[] = {2, 0};
            for (int k = 0; k < 2; k++) {
                unr_ctx *d = unr_ctx_create(thread_counts[t], isa);
                if (d) {
                    unr_ctx_set_winograd(d, others[k]);
                    ctx_wino[n_ctx] = others[k];
                    ctxs[n_ctx++] = d;
                }
            }
        }
    }
}

static const char *ctx_str(unr_ctx *c)
{
    static char buf[32];
    int m = 0;
    for (int i = 0; i < n_ctx; i++)
        if (ctxs[i] == c)
            m = ctx_wino[i];
    snprintf(buf, sizeof buf, "%s/t%d%s", unr_isa_name(unr_ctx_isa(c)),
             unr_ctx_threads(c), m == 4 ? "/F4" : m == 2 ? "/F2" : "/direct");
    return buf;
}

/* ---------------------------------------------------------------- conv */

/* Every variant against the reference on one shape. */
static void check_conv(unr_conv_shape s, int all_epilogues)
{
    const int ho = unr_conv_out_h(&s), wo = unr_conv_out_w(&s);
    const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
    const size_t ny = (size_t)s.n * ho * wo * s.co;
    const size_t nw = (size_t)s.k * s.k * s.ci * s.co;
    float *x = rand_array(nx), *w = rand_array(nw), *bias = rand_array(s.co);
    float *res = rand_array(ny), *y0 = rand_array(ny), *dy = rand_array(ny);
    float *dx0 = rand_array(nx), *dw0 = rand_array(nw);
    char what[256];

    /* Forward, one epilogue at a time. */
    const unr_epilogue eps[] = {
        {bias, res, 1, 0}, {NULL, NULL, 0, 1}, {NULL, NULL, 0, 0},
        {bias, NULL, 0, 0}, {NULL, res, 0, 0}, {NULL, NULL, 1, 0},
    };
    static const char *const ep_names[] = {
        "bias+res+relu", "accumulate", "plain", "bias", "residual", "relu",
    };
    const int n_eps = all_epilogues ? 6 : 2;
    for (int e = 0; e < n_eps; e++) {
        float *want = copy_array(y0, ny);
        unr_conv_forward(ref_ctx, &s, x, w, &eps[e], want);
        for (int c = 0; c < n_ctx; c++) {
            float *got = copy_array(y0, ny);
            unr_conv_forward(ctxs[c], &s, x, w, &eps[e], got);
            snprintf(what, sizeof what, "forward %s %s [%s]", ep_names[e],
                     shape_str(&s), ctx_str(ctxs[c]));
            expect_close(what, got, want, ny, s.k * s.k * s.ci);
            free(got);
        }
        free(want);
    }
    /* Residual may alias the output (y += conv, then relu). */
    if (all_epilogues) {
        float *want = copy_array(y0, ny);
        unr_epilogue ep = {bias, want, 1, 0};
        unr_conv_forward(ref_ctx, &s, x, w, &ep, want);
        for (int c = 0; c < n_ctx; c++) {
            float *got = copy_array(y0, ny);
            ep.residual = got;
            unr_conv_forward(ctxs[c], &s, x, w, &ep, got);
            snprintf(what, sizeof what, "forward residual-in-place %s [%s]",
                     shape_str(&s), ctx_str(ctxs[c]));
            expect_close(what, got, want, ny, s.k * s.k * s.ci);
            free(got);
        }
        free(want);
    }

    /* Backward-data, overwrite and accumulate. */
    for (int acc = 0; acc < 2; acc++) {
        float *want = copy_array(dx0, nx);
        unr_conv_backward_data(ref_ctx, &s, dy, w, want, acc);
        for (int c = 0; c < n_ctx; c++) {
            float *got = copy_array(dx0, nx);
            unr_conv_backward_data(ctxs[c], &s, dy, w, got, acc);
            snprintf(what, sizeof what, "backward_data acc%d %s [%s]", acc,
                     shape_str(&s), ctx_str(ctxs[c]));
            expect_close(what, got, want, nx, s.k * s.k * s.co);
            free(got);
        }
        free(want);
    }

    /* Backward-weights (always accumulates). */
    {
        float *want = copy_array(dw0, nw);
        unr_conv_backward_weights(ref_ctx, &s, x, dy, want);
        for (int c = 0; c < n_ctx; c++) {
            float *got = copy_array(dw0, nw);
            unr_conv_backward_weights(ctxs[c], &s, x, dy, got);
            snprintf(what, sizeof what, "backward_weights %s [%s]",
                     shape_str(&s), ctx_str(ctxs[c]));
            expect_close(what, got, want, nw, (double)s.n * ho * wo);
            free(got);
        }
        free(want);
    }
    free(x); free(w); free(bias); free(res); free(y0); free(dy);
    free(dx0); free(dw0);
}

/* Winograd F(2x2, 3x3) called directly, on shapes its dispatch rule would
 * send elsewhere too (few pixels, odd sizes, 4 channels): forward with each
 * epilogue, and backward-data as the flipped, transposed conv. */
static void check_winograd(unr_conv_shape s)
{
    const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
    const size_t ny = (size_t)s.n * s.h * s.w * s.co;
    const size_t nw = (size_t)9 * s.ci * s.co;
    float *x = rand_array(nx), *w = rand_array(nw), *bias = rand_array(s.co);
    float *res = rand_array(ny), *y0 = rand_array(ny), *dy = rand_array(ny);
    float *dx0 = rand_array(nx), *dw0 = rand_array(nw);
    char what[256];
    const unr_epilogue eps[] = {
        {bias, res, 1, 0}, {NULL, NULL, 0, 1}, {NULL, NULL, 0, 0}, {NULL, NULL, 1, 0},
    };
    const int flags[] = {1, 2, 0, 1};   /* UNR_UK_RELU, UNR_UK_ACCUMULATE */
    const unr_wino_weights fw = {w, (ptrdiff_t)s.ci * s.co, s.co, 1, 0};
    const unr_conv_shape t = {s.n, s.h, s.w, s.co, s.ci, 3, 1};
    const unr_wino_weights bw = {w, (ptrdiff_t)s.ci * s.co, 1, s.co, 1};
    for (int c = 0; c < n_ctx; c++) {
        if (!ctx_wino[c])
            continue;
        for (int e = 0; e < 4; e++) {
            float *want = copy_array(y0, ny), *got = copy_array(y0, ny);
            unr_conv_forward(ref_ctx, &s, x, w, &eps[e], want);
            int ok = unr_winograd_conv(ctxs[c], ctx_wino[c], &s, x, &fw, eps[e].bias,
                                       eps[e].residual, flags[e], got);
            snprintf(what, sizeof what, "winograd forward ep%d %s [%s]", e,
                     shape_str(&s), ctx_str(ctxs[c]));
            n_checks++;
            if (!ok) {
                printf("FAIL %s: returned 0\n", what);
                n_failures++;
            }
            expect_close(what, got, want, ny, 9 * s.ci);
            free(want);
            free(got);
        }
        for (int acc = 0; acc < 2; acc++) {
            float *want = copy_array(dx0, nx), *got = copy_array(dx0, nx);
            unr_conv_backward_data(ref_ctx, &s, dy, w, want, acc);
            unr_winograd_conv(ctxs[c], ctx_wino[c], &t, dy, &bw, NULL, NULL, acc ? 2 : 0, got);
            snprintf(what, sizeof what, "winograd backward_data acc%d %s [%s]",
                     acc, shape_str(&s), ctx_str(ctxs[c]));
            expect_close(what, got, want, nx, 9 * s.co);
            free(want);
            free(got);
        }
        /* Backward-weights accumulates into dw, as the direct kernel does. */
        float *want = copy_array(dw0, nw), *got = copy_array(dw0, nw);
        unr_conv_backward_weights(ref_ctx, &s, x, dy, want);
        int ok = unr_winograd_backward_weights(ctxs[c], ctx_wino[c], &s, x, dy, got);
        snprintf(what, sizeof what, "winograd backward_weights %s [%s]", shape_str(&s),
                 ctx_str(ctxs[c]));
        n_checks++;
        if (!ok) {
            printf("FAIL %s: returned 0\n", what);
            n_failures++;
        }
        expect_close(what, got, want, nw, (double)s.n * s.h * s.w);
        free(want);
        free(got);
    }
    free(x); free(w); free(bias); free(res); free(y0); free(dy); free(dx0); free(dw0);
}

/* The dispatch takes Winograd exactly where its rule says: its sums round
 * differently from the direct GEMM's, so some output bits differ. expect -1:
 * where the ISA's table entry takes this many channels (8: WASM only). */
static void check_winograd_taken(unr_conv_shape s, int expect_in)
{
    const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
    const size_t ny = (size_t)s.n * s.h * s.w * s.co;
    float *x = rand_array(nx), *w = rand_array((size_t)9 * s.ci * s.co);
    for (int c = 0; c < n_ctx; c++) {
        int d = c + 1;          /* the direct context of the same ISA/threads */
        while (d < n_ctx && ctx_wino[d])
            d++;
        if (!ctx_wino[c] || d == n_ctx)
            continue;
        const int min_ch = unr_isa_find(unr_ctx_isa(ctxs[c]))->winograd_min_channels;
        const int expect = expect_in >= 0 ? expect_in : s.ci >= min_ch && s.co >= min_ch;
        float *a = rand_array(ny), *b = copy_array(a, ny);
        unr_conv_forward(ctxs[c], &s, x, w, NULL, a);
        unr_conv_forward(ctxs[d], &s, x, w, NULL, b);
        n_checks++;
        const int differs = memcmp(a, b, ny * sizeof *a) != 0;
        if (differs != expect) {
            printf("FAIL winograd %s for %s [%s]\n", expect ? "not taken" : "taken",
                   shape_str(&s), ctx_str(ctxs[c]));
            n_failures++;
        }
        free(a);
        free(b);
    }
    free(x);
    free(w);
}

/* An independent forward conv in double: copy the input into an explicitly
 * zero-padded buffer, then slide the window with no bounds checks. */
static void direct_conv_double(const unr_conv_shape *s, const double *x,
                               const double *w, double *y)
{
    const int pad = (s->k - 1) / 2, hp = s->h + 2 * pad, wp = s->w + 2 * pad;
    const int ho = unr_conv_out_h(s), wo = unr_conv_out_w(s);
    double *xp = calloc((size_t)s->n * hp * wp * s->ci, sizeof *xp);
    for (int b = 0; b < s->n; b++)
        for (int i = 0; i < s->h; i++)
            for (int j = 0; j < s->w; j++)
                for (int c = 0; c < s->ci; c++)
                    xp[(((size_t)b * hp + i + pad) * wp + j + pad) * s->ci + c] =
                        x[(((size_t)b * s->h + i) * s->w + j) * s->ci + c];
    for (int b = 0; b < s->n; b++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                for (int o = 0; o < s->co; o++) {
                    double acc = 0;
                    for (int u = 0; u < s->k; u++)
                        for (int v = 0; v < s->k; v++)
                            for (int c = 0; c < s->ci; c++)
                                acc += xp[(((size_t)b * hp + i * s->stride + u) * wp +
                                           j * s->stride + v) * s->ci + c] *
                                       w[((size_t)(u * s->k + v) * s->ci + c) * s->co + o];
                    y[(((size_t)b * ho + i) * wo + j) * s->co + o] = acc;
                }
    free(xp);
}

static double *to_double(const float *p, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

/* The reference forward against the direct conv. */
static void check_reference_forward(unr_conv_shape s)
{
    const int ho = unr_conv_out_h(&s), wo = unr_conv_out_w(&s);
    const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
    const size_t ny = (size_t)s.n * ho * wo * s.co;
    const size_t nw = (size_t)s.k * s.k * s.ci * s.co;
    float *x = rand_array(nx), *w = rand_array(nw), *y = rand_array(ny);
    double *xd = to_double(x, nx), *wd = to_double(w, nw);
    double *yd = malloc(ny * sizeof *yd);
    float *want = malloc(ny * sizeof *want);
    direct_conv_double(&s, xd, wd, yd);
    for (size_t i = 0; i < ny; i++)
        want[i] = (float)yd[i];
    unr_conv_forward(ref_ctx, &s, x, w, NULL, y);
    char what[160];
    snprintf(what, sizeof what, "reference forward vs direct %s", shape_str(&s));
    expect_close(what, y, want, ny, s.k * s.k * s.ci);
    free(x); free(w); free(y); free(xd); free(wd); free(yd); free(want);
}

/* L = sum(g * conv(x, w)); the reference backward passes against central
 * differences of L in double. L is linear in x and in w, so the differences
 * are exact up to rounding. */
static double loss(const unr_conv_shape *s, const double *x, const double *w,
                   const double *g, size_t ny)
{
    double *y = malloc(ny * sizeof *y), l = 0;
    direct_conv_double(s, x, w, y);
    for (size_t i = 0; i < ny; i++)
        l += g[i] * y[i];
    free(y);
    return l;
}

static void check_reference_gradients(unr_conv_shape s)
{
    const int ho = unr_conv_out_h(&s), wo = unr_conv_out_w(&s);
    const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
    const size_t ny = (size_t)s.n * ho * wo * s.co;
    const size_t nw = (size_t)s.k * s.k * s.ci * s.co;
    float *x = rand_array(nx), *w = rand_array(nw), *g = rand_array(ny);
    float *dx = rand_array(nx), *dw = calloc(nw, sizeof *dw);
    double *xd = to_double(x, nx), *wd = to_double(w, nw), *gd = to_double(g, ny);
    float *num_dx = malloc(nx * sizeof *num_dx), *num_dw = malloc(nw * sizeof *num_dw);
    const double h = 1e-3;
    for (size_t i = 0; i < nx; i++) {
        const double x0 = xd[i];
        xd[i] = x0 + h;
        const double lp = loss(&s, xd, wd, gd, ny);
        xd[i] = x0 - h;
        const double lm = loss(&s, xd, wd, gd, ny);
        xd[i] = x0;
        num_dx[i] = (float)((lp - lm) / (2 * h));
    }
    for (size_t i = 0; i < nw; i++) {
        const double w0 = wd[i];
        wd[i] = w0 + h;
        const double lp = loss(&s, xd, wd, gd, ny);
        wd[i] = w0 - h;
        const double lm = loss(&s, xd, wd, gd, ny);
        wd[i] = w0;
        num_dw[i] = (float)((lp - lm) / (2 * h));
    }
    unr_conv_backward_data(ref_ctx, &s, g, w, dx, 0);
    unr_conv_backward_weights(ref_ctx, &s, x, g, dw);
    char what[160];
    snprintf(what, sizeof what, "reference backward_data vs finite diff %s",
             shape_str(&s));
    expect_close(what, dx, num_dx, nx, s.k * s.k * s.co);
    snprintf(what, sizeof what, "reference backward_weights vs finite diff %s",
             shape_str(&s));
    expect_close(what, dw, num_dw, nw, (double)s.n * ho * wo);
    free(x); free(w); free(g); free(dx); free(dw); free(xd); free(wd);
    free(gd); free(num_dx); free(num_dw);
}

/* ---------------------------------------------------------------- gemm */

static void check_gemm(int m, int n, int k, int ta, int tb, int ldc_pad)
{
    const ptrdiff_t rsa = ta ? 1 : k, csa = ta ? m : 1;
    const ptrdiff_t rsb = tb ? 1 : n, csb = tb ? k : 1;
    const ptrdiff_t ldc = n + ldc_pad;
    const size_t nc = (size_t)m * ldc;
    float *a = rand_array((size_t)m * k), *b = rand_array((size_t)k * n);
    float *bias = rand_array(n), *res = rand_array(nc), *c0 = rand_array(nc);
    const unr_epilogue eps[] = {
        {NULL, NULL, 0, 0}, {bias, res, 1, 0}, {NULL, NULL, 0, 1},
    };
    char what[160];
    for (int e = 0; e < 3; e++) {
        float *want = copy_array(c0, nc);
        unr_gemm(ref_ctx, m, n, k, a, rsa, csa, b, rsb, csb, want, ldc, &eps[e]);
        for (int c = 0; c < n_ctx; c++) {
            float *got = copy_array(c0, nc);
            unr_gemm(ctxs[c], m, n, k, a, rsa, csa, b, rsb, csb, got, ldc,
                     &eps[e]);
            snprintf(what, sizeof what, "gemm ep%d m%d n%d k%d ta%d tb%d ldc%td [%s]",
                     e, m, n, k, ta, tb, ldc, ctx_str(ctxs[c]));
            /* The padding columns past n must be left alone too. */
            expect_close(what, got, want, nc, k);
            free(got);
        }
        free(want);
    }
    free(a); free(b); free(bias); free(res); free(c0);
}

/* ---------------------------------------------------------------- ISA table */

/* One entry per ISA with a distinct name; auto picks an available one; an
 * available entry has micro-kernels within the driver's limits (the
 * reference aside), and each spaced kernel stands in for one of them. */
static void check_isa_table(void)
{
    int n;
    const unr_isa_info *table = unr_isa_table(&n);
    n_checks++;
    if (n != UNR_ISA_COUNT - 1 || !unr_isa_available(unr_isa_best()) ||
        strcmp(unr_isa_name(UNR_ISA_AUTO), "auto") ||
        strcmp(unr_isa_name(UNR_ISA_COUNT), "unknown") ||
        unr_isa_available(UNR_ISA_COUNT)) {
        printf("FAIL isa table: %d entries, best %s\n", n, unr_isa_name(unr_isa_best()));
        n_failures++;
    }
    for (int i = 0; i < n; i++) {
        const unr_isa_info *e = &table[i];
        int ok = unr_isa_find(e->isa) == e && !strcmp(unr_isa_name(e->isa), e->name);
        for (int j = 0; j < i; j++)
            ok = ok && table[j].isa != e->isa && strcmp(table[j].name, e->name);
        if (e->available && e->available() && e->isa != UNR_ISA_SCALAR) {
            const unr_ukernel *uks[2] = {&e->wide, &e->narrow};
            for (int k = 0; k < 2; k++)
                ok = ok && uks[k]->fn && uks[k]->mr >= 1 && uks[k]->mr <= UNR_MAX_MR &&
                     uks[k]->nr >= 1 && uks[k]->nr <= UNR_MAX_NR;
            for (const unr_spaced_ukernel *sp = e->spaced; sp->spacing; sp++)
                ok = ok && sp->fn && sp - e->spaced < UNR_MAX_SPACED &&
                     ((sp->mr == e->wide.mr && sp->nr == e->wide.nr) ||
                      (sp->mr == e->narrow.mr && sp->nr == e->narrow.nr));
        }
        n_checks++;
        if (!ok) {
            printf("FAIL isa table entry %d (%s)\n", i, e->name);
            n_failures++;
        }
    }
}

/* ---------------------------------------------------------------- cases */

static unr_conv_shape shape(int n, int h, int w, int ci, int co, int k, int st)
{
    return (unr_conv_shape){n, h, w, ci, co, k, st};
}

int main(void)
{
    make_contexts();
    if (!ref_ctx) {
        printf("FAIL create scalar context\n");
        return 1;
    }
    printf("variants:");
    for (int c = 0; c < n_ctx; c++)
        printf(" %s", ctx_str(ctxs[c]));
    printf("\n");
    check_isa_table();

    /* The reference itself. */
    check_reference_forward(shape(2, 7, 5, 5, 7, 3, 1));
    check_reference_forward(shape(2, 7, 5, 5, 7, 3, 2));
    check_reference_forward(shape(1, 8, 8, 16, 8, 1, 2));
    check_reference_forward(shape(3, 6, 6, 4, 9, 1, 1));
    check_reference_gradients(shape(2, 5, 4, 3, 2, 3, 1));
    check_reference_gradients(shape(2, 5, 4, 3, 2, 3, 2));
    check_reference_gradients(shape(1, 4, 5, 2, 3, 1, 2));
    check_reference_gradients(shape(1, 3, 3, 2, 2, 1, 1));

    /* Network shapes: stem, residual stages at two widths, downsampling. */
    for (int w0 = 8; w0 <= 16; w0 *= 2) {
        check_conv(shape(2, 32, 32, 3, w0, 3, 1), 1);
        for (int st = 0, c = w0, h = 32; st < 3; st++, c *= 2, h /= 2) {
            check_conv(shape(3, h, h, c, c, 3, 1), 1);
            if (st < 2) {
                check_conv(shape(3, h, h, c, 2 * c, 3, 2), 1);
                check_conv(shape(3, h, h, c, 2 * c, 1, 2), 1);
            }
        }
    }
    /* Every channel pair the networks use, at 8x8. */
    static const int chans[] = {8, 16, 32, 64};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 1; k <= 3; k += 2)
                for (int st = 1; st <= 2; st++)
                    check_conv(shape(1, 8, 8, chans[i], chans[j], k, st), 0);
    /* Batch 1, odd batches, a large batch. */
    check_conv(shape(1, 16, 16, 32, 32, 3, 1), 1);
    check_conv(shape(7, 8, 8, 64, 64, 3, 1), 0);
    check_conv(shape(7, 16, 16, 32, 64, 1, 2), 0);
    check_conv(shape(128, 8, 8, 64, 64, 3, 1), 0);
    /* Odd sizes below, at and above the tiles (6 rows, 8/16 columns). */
    check_conv(shape(1, 7, 5, 5, 7, 3, 1), 1);
    check_conv(shape(3, 7, 5, 5, 7, 3, 2), 1);
    check_conv(shape(2, 7, 5, 5, 7, 1, 2), 1);
    check_conv(shape(1, 1, 1, 1, 1, 3, 1), 1);
    check_conv(shape(1, 1, 1, 1, 1, 1, 2), 1);
    check_conv(shape(1, 2, 3, 1, 1, 3, 2), 1);
    /* Channel counts that take the padded, spaced path (WASM) on odd sizes,
     * where tiles cross image rows; stride 2; Co not a multiple of 8. */
    check_conv(shape(2, 7, 5, 16, 16, 3, 1), 1);
    check_conv(shape(3, 9, 7, 16, 24, 3, 2), 1);
    check_conv(shape(1, 5, 3, 32, 8, 3, 2), 1);
    check_conv(shape(2, 3, 6, 64, 8, 3, 1), 1);
    check_conv(shape(2, 7, 5, 16, 12, 3, 1), 1);
    /* 8 channels in and out: the AVX2 spaced 8x8 kernel, forward and
     * backward-data, with tiles that cross image rows (w = 11) and not. */
    check_conv(shape(2, 7, 11, 8, 8, 3, 1), 1);
    check_conv(shape(3, 16, 16, 8, 8, 3, 1), 1);
    static const int cos[] = {1, 5, 6, 7, 8, 9, 15, 16, 17, 24, 33};
    for (int i = 0; i < (int)(sizeof cos / sizeof cos[0]); i++) {
        check_conv(shape(1, 3, 2, 3, cos[i], 3, 1), 1);      /* 6 rows */
        check_conv(shape(1, 5, 3, cos[i], 6, 3, 2), 1);
        check_conv(shape(2, 7, 3, 17, cos[i], 1, 1), 0);
        check_conv(shape(1, 13, 1, cos[i], cos[i], 3, 2), 0);
    }

    /* Winograd: tiny, odd (edge tiles clipped), narrow, and many blocks. */
    static const int wshapes[][5] = {
        {1, 1, 1, 4, 4}, {1, 2, 2, 4, 8}, {1, 3, 5, 8, 4}, {2, 7, 5, 16, 12},
        {3, 17, 9, 16, 24}, {1, 8, 8, 64, 64}, {2, 32, 32, 8, 8},
        {5, 16, 16, 16, 32}, {128, 8, 8, 64, 64}, {1, 1, 7, 12, 20},
        /* WASM's grouped GEMMs: K fixed at 8/16/32/64 or not, last groups
         * of 1-3 tiles, Co not a multiple of 8 */
        {3, 9, 11, 32, 32}, {2, 6, 6, 32, 8}, {1, 5, 7, 8, 16}, {1, 9, 5, 8, 12},
        {2, 10, 10, 20, 8},
        /* and over a padded copy (sides multiples of 4) */
        {3, 12, 8, 8, 8}, {2, 4, 8, 32, 16}, {1, 8, 4, 12, 20}, {2, 16, 12, 16, 12},
    };
    for (int i = 0; i < (int)(sizeof wshapes / sizeof wshapes[0]); i++)
        check_winograd(shape(wshapes[i][0], wshapes[i][1], wshapes[i][2],
                             wshapes[i][3], wshapes[i][4], 3, 1));
    check_winograd_taken(shape(4, 16, 16, 16, 16, 3, 1), 1);
    /* 8 channels: too narrow natively, taken in WASM */
    check_winograd_taken(shape(2, 32, 32, 8, 8, 3, 1), -1);
    check_winograd_taken(shape(2, 32, 32, 4, 4, 3, 1), 0);    /* too narrow */
    check_winograd_taken(shape(1, 8, 8, 64, 64, 3, 1), 0);    /* too few pixels */
    check_winograd_taken(shape(2, 16, 16, 16, 32, 3, 2), 0);  /* stride 2 */

    /* GEMM with every transpose, odd and tile-sized shapes. */
    static const int dims[][3] = {
        {1, 1, 1}, {6, 16, 8}, {7, 17, 9}, {5, 7, 3}, {13, 33, 64},
        {100, 10, 64}, {64, 10, 100}, {12, 8, 0}, {3, 40, 257},
    };
    for (int d = 0; d < (int)(sizeof dims / sizeof dims[0]); d++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                check_gemm(dims[d][0], dims[d][1], dims[d][2], ta, tb,
                           (ta + tb) * 3);

    for (int c = 0; c < n_ctx; c++)
        unr_ctx_destroy(ctxs[c]);
    unr_ctx_destroy(ref_ctx);
    printf("%d checks, %d failed\n", n_checks, n_failures);
    return n_failures ? 1 : 0;
}
