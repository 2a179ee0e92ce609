/* context.c: the context: its ISA (one entry of isa.c's table), the thread
 * pool that unr_parallel_for runs on, and the scratch memory the kernels
 * need, so no kernel allocates in a hot loop. */
#define _POSIX_C_SOURCE 200809L
#include "context.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__EMSCRIPTEN__)
#define UNR_THREADS 1
#include <pthread.h>
#include <unistd.h>
#endif

/* ---------------------------------------------------------------- scratch */

typedef struct {
    float *p;
    size_t cap;     /* floats */
} unr_scratch;

/* Returns at least n floats, 64-byte aligned; old contents are lost. */
static float *scratch_get(unr_scratch *s, size_t n)
{
    if (n == 0)
        n = 1;
    if (s->cap >= n)
        return s->p;
    free(s->p);
    size_t cap = n + n / 2;
    cap = (cap + 15) & ~(size_t)15;     /* bytes a multiple of 64 */
    s->p = aligned_alloc(64, cap * sizeof(float));
    s->cap = s->p ? cap : 0;
    return s->p;
}

/* ---------------------------------------------------------------- context */

struct unr_ctx;

typedef struct {
    struct unr_ctx *ctx;
    int index;
} unr_worker;

struct unr_ctx {
    const unr_isa_info *info;   /* the ISA's micro-kernels and choices */
    int threads;
    int winograd;            /* 3x3 stride-1 convs as Winograd F(m x m, 3x3): m, or 0 */
    unr_scratch packed;      /* packed B panels, shared read-only by threads */
    unr_scratch zeros;       /* a row of zeros for padding taps */
    unr_scratch padded;      /* a conv input with its zero border */
    unr_scratch *local;      /* [threads] per-thread scratch */
#if defined(UNR_THREADS)
    pthread_t *tids;         /* [threads - 1] */
    unr_worker *workers;     /* [threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    int pending, quit, nworkers_started;
    unr_parallel_fn fn;
    void *arg;
    int count;
#endif
};

#if defined(UNR_THREADS)
static void run_chunk(unr_ctx *ctx, int t, unr_parallel_fn fn, void *arg,
                      int count)
{
    const int begin = (int)((long long)count * t / ctx->threads);
    const int end = (int)((long long)count * (t + 1) / ctx->threads);
    if (begin < end)
        fn(arg, begin, end, t);
}

static void *worker_main(void *p)
{
    unr_worker *w = p;
    unr_ctx *ctx = w->ctx;
    unsigned long seen = 0;
    pthread_mutex_lock(&ctx->mu);
    for (;;) {
        while (ctx->generation == seen && !ctx->quit)
            pthread_cond_wait(&ctx->wake, &ctx->mu);
        if (ctx->quit)
            break;
        seen = ctx->generation;
        unr_parallel_fn fn = ctx->fn;
        void *arg = ctx->arg;
        int count = ctx->count;
        pthread_mutex_unlock(&ctx->mu);
        run_chunk(ctx, w->index, fn, arg, count);
        pthread_mutex_lock(&ctx->mu);
        if (--ctx->pending == 0)
            pthread_cond_signal(&ctx->done);
    }
    pthread_mutex_unlock(&ctx->mu);
    return NULL;
}
#endif

unr_ctx *unr_ctx_create(int threads, unr_isa isa)
{
    if (isa == UNR_ISA_AUTO)
        isa = unr_isa_best();
    if (!unr_isa_available(isa))
        return NULL;
#if defined(UNR_THREADS)
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
#else
    threads = 1;    /* WASM: one thread per module; the page adds workers */
#endif
    unr_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->info = unr_isa_find(isa);
    ctx->threads = threads;
    ctx->winograd = ctx->info->winograd;
    ctx->local = calloc((size_t)threads, sizeof *ctx->local);
    if (!ctx->local) {
        free(ctx);
        return NULL;
    }
#if defined(UNR_THREADS)
    pthread_mutex_init(&ctx->mu, NULL);
    pthread_cond_init(&ctx->wake, NULL);
    pthread_cond_init(&ctx->done, NULL);
    if (threads > 1) {
        ctx->tids = calloc((size_t)threads - 1, sizeof *ctx->tids);
        ctx->workers = calloc((size_t)threads - 1, sizeof *ctx->workers);
        if (!ctx->tids || !ctx->workers) {
            unr_ctx_destroy(ctx);
            return NULL;
        }
        for (int i = 0; i < threads - 1; i++) {
            ctx->workers[i] = (unr_worker){ctx, i + 1};
            if (pthread_create(&ctx->tids[i], NULL, worker_main,
                               &ctx->workers[i]) != 0) {
                unr_ctx_destroy(ctx);
                return NULL;
            }
            ctx->nworkers_started++;
        }
    }
#endif
    return ctx;
}

void unr_ctx_destroy(unr_ctx *ctx)
{
    if (!ctx)
        return;
#if defined(UNR_THREADS)
    pthread_mutex_lock(&ctx->mu);
    ctx->quit = 1;
    pthread_cond_broadcast(&ctx->wake);
    pthread_mutex_unlock(&ctx->mu);
    for (int i = 0; i < ctx->nworkers_started; i++)
        pthread_join(ctx->tids[i], NULL);
    pthread_cond_destroy(&ctx->done);
    pthread_cond_destroy(&ctx->wake);
    pthread_mutex_destroy(&ctx->mu);
    free(ctx->workers);
    free(ctx->tids);
#endif
    for (int i = 0; i < ctx->threads; i++)
        free(ctx->local[i].p);
    free(ctx->local);
    free(ctx->padded.p);
    free(ctx->zeros.p);
    free(ctx->packed.p);
    free(ctx);
}

unr_isa unr_ctx_isa(const unr_ctx *ctx) { return ctx->info->isa; }
int unr_ctx_threads(const unr_ctx *ctx) { return ctx->threads; }
const unr_isa_info *unr_ctx_info(const unr_ctx *ctx) { return ctx->info; }
int unr_ctx_winograd(const unr_ctx *ctx) { return ctx->winograd; }

void unr_ctx_set_winograd(unr_ctx *ctx, int m)
{
    if (m != 0 && m != 2 && m != 4)
        m = UNR_WINOGRAD_DEFAULT_M;
    ctx->winograd = ctx->info->isa != UNR_ISA_SCALAR ? m : 0;
}

const unr_ukernel *unr_ctx_pick_ukernel(const unr_ctx *ctx, int n)
{
    return n <= ctx->info->narrow.nr ? &ctx->info->narrow : &ctx->info->wide;
}

float *unr_ctx_shared_scratch(unr_ctx *ctx, size_t n)
{
    return scratch_get(&ctx->packed, n);
}

float *unr_ctx_zeros(unr_ctx *ctx, size_t n)
{
    float *p = scratch_get(&ctx->zeros, n);
    if (p)
        memset(p, 0, n * sizeof(float));
    return p;
}

float *unr_ctx_padded_scratch(unr_ctx *ctx, size_t n)
{
    return scratch_get(&ctx->padded, n);
}

float *unr_ctx_thread_scratch(unr_ctx *ctx, int thread, size_t n)
{
    return thread >= 0 && thread < ctx->threads ? scratch_get(&ctx->local[thread], n)
                                                : NULL;
}

/* ---------------------------------------------------------------- threads */

void unr_parallel_for(unr_ctx *ctx, int count, unr_parallel_fn fn, void *arg)
{
    if (count <= 0)
        return;
#if defined(UNR_THREADS)
    if (ctx->threads > 1 && count > 1) {
        pthread_mutex_lock(&ctx->mu);
        ctx->fn = fn;
        ctx->arg = arg;
        ctx->count = count;
        ctx->pending = ctx->threads - 1;
        ctx->generation++;
        pthread_cond_broadcast(&ctx->wake);
        pthread_mutex_unlock(&ctx->mu);
        run_chunk(ctx, 0, fn, arg, count);
        pthread_mutex_lock(&ctx->mu);
        while (ctx->pending > 0)
            pthread_cond_wait(&ctx->done, &ctx->mu);
        pthread_mutex_unlock(&ctx->mu);
        return;
    }
#else
    (void)ctx;
#endif
    fn(arg, 0, count, 0);
}

void unr_parallel_for_work(unr_ctx *ctx, int count, double macs,
                           unr_parallel_fn fn, void *arg)
{
    if (macs < (double)UNR_MIN_MACS_PER_THREAD * 2) {
        if (count > 0)
            fn(arg, 0, count, 0);
        return;
    }
    unr_parallel_for(ctx, count, fn, arg);
}
