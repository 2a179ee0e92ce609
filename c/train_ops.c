/* train_ops.c: training-mode layers (batch norm, ReLU, shortcut A, pooling,
 * loss) and their backward passes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train_ops.h"
#include "vec4.h"

/* ---- batch norm ---- */

/* Per-channel sums are split over threads by rows and reduced in a fixed
 * order, so results do not depend on timing. */
#define BN_MAX_THREADS 64
#define BN_MAX_C UNR_MAX_WIDTH

typedef struct {
    const float *a, *b;      /* sum a, and sum a*b if b (else sum a*a) */
    const float *mask;       /* with b: a counts only where mask > 0 */
    long rows;
    int c, chunks;
    double *partial;         /* [chunks][2][c] */
    const float *mean;       /* without b: subtract before summing, if set */
} bn_sum_args;

/* Channel loops below run four channels at a time in GCC/Clang vector
 * types, then a scalar tail: they are memory-bound and were a third of a
 * training step as scalar code, which -O2 does not vectorize here. Each
 * channel sees the same operations in the same order as the scalar tail
 * (no FMA contraction under -std=c11), so results do not depend on c. */
#define BN_VEC 4
/* Rows summed in float before the partial sums go into doubles: fast inner
 * loops without losing precision over 10^5 rows. */
#define BN_BLOCK_ROWS 64

/* x where keep holds (all ones), else +0; what `cond ? x : 0.0f` gives. */
static inline unr_v4 select0(unr_v4i keep, unr_v4 x) { return (unr_v4)(keep & (unr_v4i)x); }

enum { SUM_CENTRED, SUM_DOT, SUM_DOT_MASKED };

/* Row r's terms for four channels: (x - mean, (x - mean)^2) or
 * (x masked, x * y). */
static inline __attribute__((always_inline)) void sum_terms(
    int kind, const float *x, const float *y, const float *mk, unr_v4 m,
    size_t o, unr_v4 *p, unr_v4 *q)
{
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    if (kind == SUM_CENTRED) {
        *p = unr_ld4(x + o) - m;
        *q = *p * *p;
        return;
    }
    *p = unr_ld4(x + o);
    if (kind == SUM_DOT_MASKED)
        *p = select0(unr_ld4(mk + o) > zero, *p);
    *q = *p * unr_ld4(y + o);
}

/* Four channels of n rows, c floats apart: even and odd rows in separate
 * chains, all in registers. Summing a row at a time into arrays made every
 * row wait for the previous row's store (8-channel layers ran at a third
 * of memory speed). */
static inline __attribute__((always_inline)) void sum_channels4(
    int kind, const float *x, const float *y, const float *mk, unr_v4 m,
    long n, int c, unr_v4 *s1, unr_v4 *s2)
{
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    unr_v4 e1 = zero, e2 = zero, o1 = zero, o2 = zero, p, q;
    long r = 0;
    for (; r + 1 < n; r += 2) {
        sum_terms(kind, x, y, mk, m, (size_t)r * c, &p, &q);
        e1 += p, e2 += q;
        sum_terms(kind, x, y, mk, m, (size_t)(r + 1) * c, &p, &q);
        o1 += p, o2 += q;
    }
    if (r < n) {
        sum_terms(kind, x, y, mk, m, (size_t)r * c, &p, &q);
        e1 += p, e2 += q;
    }
    *s1 = e1 + o1;
    *s2 = e2 + o2;
}

/* Rows [r0, r1) into s1, s2 (doubles, per channel). */
static void sum_block(double *s1, double *s2, const bn_sum_args *a, long r0, long r1)
{
    const int c = a->c;
    const float *x = a->a + (size_t)r0 * c;
    const float *y = a->b ? a->b + (size_t)r0 * c : NULL;
    const float *mk = a->mask && a->b ? a->mask + (size_t)r0 * c : NULL;
    const int kind = !y ? SUM_CENTRED : mk ? SUM_DOT_MASKED : SUM_DOT;
    const long n = r1 - r0;
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    int k = 0;
    for (; k + BN_VEC <= c; k += BN_VEC) {
        const unr_v4 m = a->mean && !y ? unr_ld4(a->mean + k) : zero;
        unr_v4 v1, v2;
        if (kind == SUM_CENTRED)
            sum_channels4(SUM_CENTRED, x + k, NULL, NULL, m, n, c, &v1, &v2);
        else if (kind == SUM_DOT)
            sum_channels4(SUM_DOT, x + k, y + k, NULL, m, n, c, &v1, &v2);
        else
            sum_channels4(SUM_DOT_MASKED, x + k, y + k, mk + k, m, n, c, &v1, &v2);
        for (int j = 0; j < BN_VEC; j++)
            s1[k + j] += v1[j], s2[k + j] += v2[j];
    }
    for (; k < c; k++) {        /* the same sums, one channel at a time */
        float e1 = 0, e2 = 0, o1 = 0, o2 = 0;
        const float m = a->mean && !y ? a->mean[k] : 0.0f;
        for (long r = 0; r < n; r++) {
            const size_t o = (size_t)r * c + k;
            float p = !y ? x[o] - m : !mk || mk[o] > 0 ? x[o] : 0.0f;
            float q = !y ? p * p : p * y[o];
            if (r & 1)
                o1 += p, o2 += q;
            else
                e1 += p, e2 += q;
        }
        s1[k] += e1 + o1;
        s2[k] += e2 + o2;
    }
}

static void bn_sum_chunk(void *vargs, int begin, int end, int thread)
{
    (void)thread;
    bn_sum_args *a = vargs;
    int c = a->c;
    for (int ch = begin; ch < end; ch++) {
        long r0 = a->rows * ch / a->chunks, r1 = a->rows * (ch + 1) / a->chunks;
        double *s1 = a->partial + (size_t)ch * 2 * c, *s2 = s1 + c;
        memset(s1, 0, 2 * (size_t)c * sizeof *s1);
        for (long r = r0; r < r1; r += BN_BLOCK_ROWS)
            sum_block(s1, s2, a, r, r + BN_BLOCK_ROWS < r1 ? r + BN_BLOCK_ROWS : r1);
    }
}

/* Sums over rows: s1 = sum(a - mean), s2 = sum((a - mean)^2) (mean NULL: 0), or with b:
 * s1 = sum a, s2 = sum a*b. */
static void bn_sums(unr_ctx *ctx, const float *a, const float *b, const float *mask,
                    const float *mean, long rows, int c, double *s1, double *s2)
{
    int chunks = unr_ctx_threads(ctx) * 4;
    if (chunks > BN_MAX_THREADS)
        chunks = BN_MAX_THREADS;
    if (chunks > rows)
        chunks = (int)rows;
    double *partial = malloc((size_t)chunks * 2 * c * sizeof *partial);
    bn_sum_args args = {a, b, mask, rows, c, chunks, partial, mean};
    unr_parallel_for(ctx, chunks, bn_sum_chunk, &args);
    memset(s1, 0, (size_t)c * sizeof *s1);
    memset(s2, 0, (size_t)c * sizeof *s2);
    for (int ch = 0; ch < chunks; ch++)
        for (int k = 0; k < c; k++) {
            s1[k] += partial[(size_t)ch * 2 * c + k];
            s2[k] += partial[(size_t)ch * 2 * c + c + k];
        }
    free(partial);
}

typedef struct {
    const float *u, *dv;
    const float *residual, *mask;  /* forward: added before relu; backward: dv gate */
    int relu;
    float *out;
    long rows;
    int c;
    const float *k1, *k2, *k3;   /* per channel: out = k1*(u - k2) + k3 (forward) */
    const float *mean, *invstd;  /* backward: out = k1*(dv - k3 - xhat*k2) */
} bn_apply_args;

/* v may be u or s (in place): every value is read before it is written. */
static void apply_row_forward(float *v, const float *u, const float *s, int relu,
                              const float *k1, const float *k2, const float *k3, int c)
{
    int k = 0;
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    for (; k + BN_VEC <= c; k += BN_VEC) {
        unr_v4 x = unr_ld4(k1 + k) * (unr_ld4(u + k) - unr_ld4(k2 + k)) + unr_ld4(k3 + k);
        if (s)
            x += unr_ld4(s + k);
        if (relu)
            x = select0(x > zero, x);
        unr_st4(v + k, x);
    }
    for (; k < c; k++) {
        float x = k1[k] * (u[k] - k2[k]) + k3[k];
        if (s)
            x += s[k];
        v[k] = relu ? (x > 0 ? x : 0.0f) : x;
    }
}

static void bn_apply_forward(void *vargs, int begin, int end, int thread)
{
    (void)thread;
    bn_apply_args *a = vargs;
    for (long r = begin; r < end; r++) {
        const size_t o = (size_t)r * a->c;
        /* Split by case so each vectorized loop has no branch inside. */
        const float *s = a->residual ? a->residual + o : NULL;
        if (s && a->relu)
            apply_row_forward(a->out + o, a->u + o, s, 1, a->k1, a->k2, a->k3, a->c);
        else if (s)
            apply_row_forward(a->out + o, a->u + o, s, 0, a->k1, a->k2, a->k3, a->c);
        else if (a->relu)
            apply_row_forward(a->out + o, a->u + o, NULL, 1, a->k1, a->k2, a->k3, a->c);
        else
            apply_row_forward(a->out + o, a->u + o, NULL, 0, a->k1, a->k2, a->k3, a->c);
    }
}

/* du may be dv (in place): every value is read before it is written. */
static void apply_row_backward(float *du, const float *u, const float *dv, const float *mk,
                               const float *k1, const float *k2, const float *k3,
                               const float *mean, const float *invstd, int c)
{
    int k = 0;
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    for (; k + BN_VEC <= c; k += BN_VEC) {
        unr_v4 xhat = (unr_ld4(u + k) - unr_ld4(mean + k)) * unr_ld4(invstd + k);
        unr_v4 d = unr_ld4(dv + k);
        if (mk)
            d = select0(unr_ld4(mk + k) > zero, d);
        unr_st4(du + k, unr_ld4(k1 + k) * (d - unr_ld4(k3 + k) - xhat * unr_ld4(k2 + k)));
    }
    for (; k < c; k++) {
        float xhat = (u[k] - mean[k]) * invstd[k];
        float d = mk && !(mk[k] > 0) ? 0.0f : dv[k];
        du[k] = k1[k] * (d - k3[k] - xhat * k2[k]);
    }
}

static void bn_apply_backward(void *vargs, int begin, int end, int thread)
{
    (void)thread;
    bn_apply_args *a = vargs;
    for (long r = begin; r < end; r++) {
        const size_t o = (size_t)r * a->c;
        if (a->mask)
            apply_row_backward(a->out + o, a->u + o, a->dv + o, a->mask + o, a->k1, a->k2,
                               a->k3, a->mean, a->invstd, a->c);
        else
            apply_row_backward(a->out + o, a->u + o, a->dv + o, NULL, a->k1, a->k2, a->k3,
                               a->mean, a->invstd, a->c);
    }
}

void unr_bn_train_forward(unr_ctx *ctx, const float *u, long rows, int c, const float *gamma,
                          const float *beta, float eps, float momentum, float *running_mean,
                          float *running_var, float *mean, float *invstd,
                          const float *residual, int relu, float *v)
{
    double s1[BN_MAX_C], s2[BN_MAX_C];
    float scale[BN_MAX_C];
    /* Two passes (mean, then centred squares): stable where E[x^2]-E[x]^2
     * would cancel. */
    bn_sums(ctx, u, NULL, NULL, NULL, rows, c, s1, s2);
    for (int k = 0; k < c; k++)
        mean[k] = (float)(s1[k] / rows);
    bn_sums(ctx, u, NULL, NULL, mean, rows, c, s1, s2);
    for (int k = 0; k < c; k++) {
        double var = s2[k] / rows;
        invstd[k] = (float)(1.0 / sqrt(var + eps));
        scale[k] = gamma[k] * invstd[k];
        if (running_mean) {
            double unbiased = rows > 1 ? s2[k] / (rows - 1) : var;
            running_mean[k] = (1 - momentum) * running_mean[k] + momentum * mean[k];
            running_var[k] = (float)((1 - momentum) * running_var[k] + momentum * unbiased);
        }
    }
    bn_apply_args a = {u, NULL, residual, NULL, relu, v, rows, c, scale, mean, beta, NULL, NULL};
    unr_parallel_for(ctx, (int)rows, bn_apply_forward, &a);
}

void unr_bn_train_backward(unr_ctx *ctx, const float *u, const float *dv, const float *mask,
                           long rows, int c, const float *gamma, const float *mean,
                           const float *invstd, float *du, float *dgamma, float *dbeta)
{
    /* dbeta = sum dv, dgamma = sum dv * xhat = invstd * sum dv * (u - mean) */
    double s1[BN_MAX_C], s2[BN_MAX_C], dot[BN_MAX_C];
    bn_sums(ctx, dv, u, mask, NULL, rows, c, s1, s2);
    float k1[BN_MAX_C], k2[BN_MAX_C], k3[BN_MAX_C];
    for (int k = 0; k < c; k++) {
        dot[k] = s2[k] - mean[k] * s1[k];      /* sum dv * (u - mean) */
        double dg = dot[k] * invstd[k];
        dgamma[k] += (float)dg;
        dbeta[k] += (float)s1[k];
        /* du = gamma*invstd * (dv - mean(dv) - xhat * mean(dv*xhat)) */
        k1[k] = gamma[k] * invstd[k];
        k3[k] = (float)(s1[k] / rows);
        k2[k] = (float)(dg / rows);
    }
    bn_apply_args a = {u, dv, NULL, mask, 0, du, rows, c, k1, k2, k3, mean, invstd};
    unr_parallel_for(ctx, (int)rows, bn_apply_backward, &a);
}

/* ---- small layers ---- */

/* Elementwise work in blocks of ELEMENTWISE_BLOCK values across threads. */
#define ELEMENTWISE_BLOCK 16384

typedef struct {
    float *dst;
    const float *src;
    size_t count;
    int op;  /* 0: relu mask, 1: copy, 2: add */
} elementwise_args;

static void elementwise_chunk(void *vargs, int begin, int end, int thread)
{
    (void)thread;
    const elementwise_args *a = vargs;
    size_t i0 = (size_t)begin * ELEMENTWISE_BLOCK, i1 = (size_t)end * ELEMENTWISE_BLOCK;
    i1 = i1 < a->count ? i1 : a->count;
    float *d = a->dst;
    const float *s = a->src;
    const unr_v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    size_t i = i0;
    if (a->op == 0) {
        for (; i + BN_VEC <= i1; i += BN_VEC)
            unr_st4(d + i, select0(unr_ld4(s + i) > zero, unr_ld4(d + i)));
        for (; i < i1; i++)
            d[i] = s[i] > 0 ? d[i] : 0.0f;
    } else if (a->op == 1) {
        memcpy(d + i0, s + i0, (i1 - i0) * sizeof *d);
    } else {
        for (; i + BN_VEC <= i1; i += BN_VEC)
            unr_st4(d + i, unr_ld4(d + i) + unr_ld4(s + i));
        for (; i < i1; i++)
            d[i] += s[i];
    }
}

static void elementwise(unr_ctx *ctx, float *dst, const float *src, size_t count, int op)
{
    elementwise_args a = {dst, src, count, op};
    unr_parallel_for(ctx, (int)((count + ELEMENTWISE_BLOCK - 1) / ELEMENTWISE_BLOCK),
                     elementwise_chunk, &a);
}

void unr_relu_mask(unr_ctx *ctx, float *dx, const float *y, size_t count) { elementwise(ctx, dx, y, count, 0); }
void unr_copy(unr_ctx *ctx, float *dst, const float *src, size_t count) { elementwise(ctx, dst, src, count, 1); }
void unr_add(unr_ctx *ctx, float *dst, const float *src, size_t count) { elementwise(ctx, dst, src, count, 2); }

void unr_shortcut_a_backward(const float *dy, int n, int h, int cin, int stride, int cout,
                             float *dx)
{
    int ho = stride == 2 ? (h + 1) / 2 : h, pad = (cout - cin) / 2;
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < ho; ox++) {
                const float *src = dy + (((size_t)i * ho + oy) * ho + ox) * cout + pad;
                float *dst = dx + (((size_t)i * h + oy * stride) * h + ox * stride) * cin;
                for (int k = 0; k < cin; k++)
                    dst[k] += src[k];
            }
}

void unr_avgpool_forward(const float *x, int n, int hw, int c, float *y)
{
    for (int i = 0; i < n; i++) {
        float *o = y + (size_t)i * c;
        memset(o, 0, (size_t)c * sizeof *o);
        for (int q = 0; q < hw; q++)
            for (int k = 0; k < c; k++)
                o[k] += x[((size_t)i * hw + q) * c + k];
        for (int k = 0; k < c; k++)
            o[k] /= (float)hw;
    }
}

void unr_avgpool_backward(const float *dy, int n, int hw, int c, float *dx)
{
    for (int i = 0; i < n; i++)
        for (int q = 0; q < hw; q++)
            for (int k = 0; k < c; k++)
                dx[((size_t)i * hw + q) * c + k] = dy[(size_t)i * c + k] / (float)hw;
}

double unr_softmax_xent(const float *logits, const uint8_t *labels, int n, int k, float eps,
                        float *dlogits, int *correct)
{
    double loss = 0;
    int right = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        float *dz = dlogits ? dlogits + (size_t)i * k : NULL;
        int best = unr_argmax(z, k);
        right += best == labels[i];
        double zmax = z[best], sum = 0;
        for (int j = 0; j < k; j++)
            sum += exp((double)z[j] - zmax);
        double logsum = log(sum) + zmax;
        for (int j = 0; j < k; j++) {
            double target = (j == labels[i] ? 1.0 - eps : 0.0) + eps / k;
            loss -= target * ((double)z[j] - logsum);
            if (dz)
                dz[j] = (float)((exp((double)z[j] - logsum) - target) / n);
        }
    }
    if (correct)
        *correct = right;
    return loss / n;
}
