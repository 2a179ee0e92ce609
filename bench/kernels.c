/* bench/kernels.c: GFLOP/s of the conv kernels on the ResNet shapes
 * (1 multiply-add = 2 FLOP), plus the bare micro-kernels on L1-resident
 * data as a ceiling: the context's ISA entry's (c/kernels/isa.c), then the
 * comparisons below.
 *
 *   usage: kernels [batch=100] [threads=0 (all)] [isa=auto|scalar|avx2|wasmsimd]
 *                  [winograd m: 0|2|4|cmp, default the context's] [ops=3: 1 forward only]
 *
 * cmp: forward only, direct / F(2x2) / F(4x4) timed in turns on each shape
 * (best of 7 turns), for picking the tile per shape on a noisy machine.
 *
 * WASM: emcc -O3 -msimd128 -sSTANDALONE_WASM -Ic -Ic/kernels bench/kernels.c
 * c/kernels/{context,dispatch,gemm,gemm_wasmsimd,isa,ref,winograd}.c, run by
 * tests/wasi/run.mjs.
 */
#define _POSIX_C_SOURCE 200809L
#include "isa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *rand_array(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / (float)(1 << 24) - 0.5f;
    }
    return p;
}

typedef enum { FWD, BWD_DATA, BWD_WEIGHTS } which;

typedef struct {
    unr_ctx *ctx;
    const unr_conv_shape *s;
    const float *x, *w, *bias, *dy;
    float *y, *dx, *dw;
} bench_args;

static void run_once(const bench_args *b, which op)
{
    const unr_epilogue ep = {b->bias, NULL, 1, 0};
    switch (op) {
    case FWD: unr_conv_forward(b->ctx, b->s, b->x, b->w, &ep, b->y); break;
    case BWD_DATA: unr_conv_backward_data(b->ctx, b->s, b->dy, b->w, b->dx, 0); break;
    case BWD_WEIGHTS: unr_conv_backward_weights(b->ctx, b->s, b->x, b->dy, b->dw); break;
    }
}

/* Best time of several runs of at least ~50 ms each. */
static double best_seconds(const bench_args *b, which op)
{
    run_once(b, op);    /* warm up: scratch, pool, caches */
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        int iters = 0;
        const double t0 = now();
        double t;
        do {
            run_once(b, op);
            iters++;
            t = now() - t0;
        } while (t < 0.05);
        if (t / iters < best)
            best = t / iters;
    }
    return best;
}

/* The micro-kernel alone: one MRxNR tile, K = 9*64, all in L1. */
static double ukernel_gflops(const unr_ukernel *uk)
{
    enum { KS = 9, KC = 64 };
    float *a = rand_array((size_t)KS * KC * uk->mr);
    float *b = rand_array((size_t)KS * KC * uk->nr);
    float *c = rand_array((size_t)uk->mr * uk->nr);
    const float *ap[KS * UNR_MAX_MR];
    float *cp[UNR_MAX_MR];
    for (int s = 0; s < KS; s++)
        for (int i = 0; i < uk->mr; i++)
            ap[s * uk->mr + i] = a + (s * uk->mr + i) * KC;
    for (int i = 0; i < uk->mr; i++)
        cp[i] = c + i * uk->nr;
    const int iters = 20000;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        const double t0 = now();
        for (int it = 0; it < iters; it++)
            uk->fn(KS, KC, ap, 1, b, cp, NULL, NULL, UNR_UK_ACCUMULATE);
        const double t = now() - t0;
        if (t < best)
            best = t;
    }
    free(a); free(b); free(c);
    return 2.0 * KS * KC * uk->mr * uk->nr * iters / best * 1e-9;
}

/* Micro-kernels no ISA entry uses, kept as measured comparisons for the
 * tile choice (docs/ARCHITECTURE.md): 6x8 against the AVX2 8x8 (fewer FMA
 * chains than the latency needs) and against the WASM 4x8 (V8 spills it). */
static const struct {
    unr_isa isa;
    unr_ukernel uk;
} comparisons[] = {
#if defined(UNR_HAVE_AVX2_BUILD)
    {UNR_ISA_AVX2, {6, 8, unr_f32_gemm_6x8__avx2, "6x8__avx2"}},
#endif
#if defined(__wasm_simd128__)
    {UNR_ISA_WASMSIMD, {6, 8, unr_f32_gemm_6x8__wasmsimd, "6x8__wasmsimd"}},
#endif
    {UNR_ISA_AUTO, {0, 0, NULL, NULL}},     /* ends the list */
};

int main(int argc, char **argv)
{
    const int batch = argc > 1 ? atoi(argv[1]) : 100;
    const int threads = argc > 2 ? atoi(argv[2]) : 0;
    unr_isa isa = UNR_ISA_AUTO;
    int n_isa;
    const unr_isa_info *table = unr_isa_table(&n_isa);
    if (argc > 3)
        for (int i = 0; i < n_isa; i++)
            if (!strcmp(argv[3], table[i].name))
                isa = table[i].isa;
    unr_ctx *ctx = unr_ctx_create(threads, isa);
    if (!ctx) {
        fprintf(stderr, "ISA %s not available\n", unr_isa_name(isa));
        return 1;
    }
    const int cmp = argc > 4 && !strcmp(argv[4], "cmp");
    if (argc > 4 && !cmp)
        unr_ctx_set_winograd(ctx, atoi(argv[4]));
    const int nops = argc > 5 ? atoi(argv[5]) : 3;

    const unr_isa_info *info = unr_isa_find(unr_ctx_isa(ctx));
    printf("isa %s, %d thread(s), batch %d\n", info->name, unr_ctx_threads(ctx), batch);
    if (info->wide.fn)
        printf("micro-kernel %-14s (1 thread, L1): %6.1f GFLOP/s\n",
               info->wide.name, ukernel_gflops(&info->wide));
    if (info->narrow.fn && info->narrow.fn != info->wide.fn)
        printf("micro-kernel %-14s (1 thread, L1): %6.1f GFLOP/s\n",
               info->narrow.name, ukernel_gflops(&info->narrow));
    for (int i = 0; comparisons[i].uk.fn; i++)
        if (comparisons[i].isa == info->isa)
            printf("micro-kernel %-14s (1 thread, L1): %6.1f GFLOP/s   (comparison, unused)\n",
                   comparisons[i].uk.name, ukernel_gflops(&comparisons[i].uk));

    static const unr_conv_shape shapes[] = {
        /* n filled in below */
        {0, 32, 32, 3, 16, 3, 1},
        {0, 32, 32, 16, 16, 3, 1},
        {0, 16, 16, 32, 32, 3, 1},
        {0, 8, 8, 64, 64, 3, 1},
        {0, 32, 32, 16, 32, 3, 2},
        {0, 16, 16, 32, 64, 3, 2},
        {0, 32, 32, 16, 32, 1, 2},
        {0, 16, 16, 32, 64, 1, 2},
        {0, 32, 32, 8, 8, 3, 1},
        {0, 32, 32, 8, 16, 3, 2},
        {0, 16, 16, 16, 16, 3, 1},  /* ResNet-110-half's later stages */
        {0, 8, 8, 32, 32, 3, 1},
    };
    if (cmp)
        printf("%-26s %10s %10s %10s   (forward GFLOP/s, best of 7 turns)\n",
               "shape (H W Ci Co k s)", "direct", "F(2x2)", "F(4x4)");
    else
        printf("%-26s %10s %10s %10s   (GFLOP/s)\n", "shape (H W Ci Co k s)",
               "forward", "bwd-data", "bwd-wts");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        unr_conv_shape s = shapes[i];
        s.n = batch;
        if (cmp && (s.k != 3 || s.stride != 1 || s.ci % 4))
            continue;       /* Winograd takes 3x3 stride-1 convs only */
        const int ho = unr_conv_out_h(&s), wo = unr_conv_out_w(&s);
        const size_t nx = (size_t)s.n * s.h * s.w * s.ci;
        const size_t ny = (size_t)s.n * ho * wo * s.co;
        const size_t nw = (size_t)s.k * s.k * s.ci * s.co;
        bench_args b = {ctx, &s, rand_array(nx), rand_array(nw),
                        rand_array(s.co), rand_array(ny), rand_array(ny),
                        rand_array(nx), rand_array(nw)};
        const double flop = 2.0 * s.n * ho * wo * nw;
        char name[64];
        snprintf(name, sizeof name, "%dx%d %2d->%2d k%d s%d", s.h, s.w, s.ci,
                 s.co, s.k, s.stride);
        printf("%-26s", name);
        if (cmp) {
            static const int ms[3] = {0, 2, 4};
            double best[3] = {1e30, 1e30, 1e30};
            for (int turn = 0; turn < 7; turn++)
                for (int v = 0; v < 3; v++) {
                    unr_ctx_set_winograd(ctx, ms[v]);
                    const double t = best_seconds(&b, FWD);
                    best[v] = t < best[v] ? t : best[v];
                }
            for (int v = 0; v < 3; v++)
                printf(" %10.1f", flop / best[v] * 1e-9);
        }
        for (int op = 0; op < (cmp ? 0 : nops); op++)
            printf(" %10.1f", flop / best_seconds(&b, (which)op) * 1e-9);
        printf("\n");
        fflush(stdout);
        free((void *)b.x); free((void *)b.w); free((void *)b.bias);
        free((void *)b.dy); free(b.y); free(b.dx); free(b.dw);
    }
    unr_ctx_destroy(ctx);
    return 0;
}
