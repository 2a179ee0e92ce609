/* context.h: what the context (context.c) lends the other kernel files:
 * its ISA entry and micro-kernels, its Winograd setting, scratch memory and
 * the thread pool. The struct itself stays in context.c. */
#ifndef UNR_CONTEXT_H
#define UNR_CONTEXT_H

#include "isa.h"

#include <stddef.h>

/* Below this many multiply-adds per thread, waking the pool costs more than
 * it saves. */
#define UNR_MIN_MACS_PER_THREAD (1 << 18)

/* The table entry the context runs (isa.c). */
const unr_isa_info *unr_ctx_info(const unr_ctx *ctx);
/* The micro-kernel for an N-column GEMM. */
const unr_ukernel *unr_ctx_pick_ukernel(const unr_ctx *ctx, int n);
/* The Winograd tile m for 3x3 stride-1 convs, or 0 (unr_ctx_set_winograd). */
int unr_ctx_winograd(const unr_ctx *ctx);

/* Scratch: each call returns at least n floats, 64-byte aligned, or NULL
 * when memory runs out; contents do not survive the next call for the same
 * buffer. The buffers are distinct, so one conv may hold all of them.
 *   shared   packed B panels (or Winograd's U), read-only by the threads
 *            once a parallel region starts
 *   zeros    n zero floats: a row of zeros for padding taps
 *   padded   a conv input with its zero border
 *   thread   one per thread, thread in [0, unr_ctx_threads) */
float *unr_ctx_shared_scratch(unr_ctx *ctx, size_t n);
float *unr_ctx_zeros(unr_ctx *ctx, size_t n);
float *unr_ctx_padded_scratch(unr_ctx *ctx, size_t n);
float *unr_ctx_thread_scratch(unr_ctx *ctx, int thread, size_t n);

/* unr_parallel_for, on the pool only when there is enough work (macs
 * multiply-adds) to pay for waking it; else fn(arg, 0, count, 0) here. */
void unr_parallel_for_work(unr_ctx *ctx, int count, double macs,
                           unr_parallel_fn fn, void *arg);

#endif
