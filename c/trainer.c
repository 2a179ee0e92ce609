/* trainer.c: forward in training mode, backward, and SGD for CIFAR ResNets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train_ops.h"
#include "trainer.h"

/* What the backward pass needs from the forward pass of one block.
 * Post-activation: u1 = conv1(x), t1 = relu(bn1(u1)), u2 = conv2(t1), up =
 * proj(x), y = relu(bn2(u2) + shortcut). Pre-activation: v = relu(bn1(x))
 * (the input's shape), u1 = conv1(v), t1 = relu(bn2(u1)), y = conv2(t1) +
 * shortcut (u2 and up unused). */
typedef struct {
    float *u1, *t1, *u2, *up, *y;          /* (n, h_out, h_out, cout) each */
    float *v;                              /* (n, h_in, h_in, cin), pre-activation */
    float *mean1, *istd1, *mean2, *istd2, *meanp, *istdp;
} block_state;

struct unr_trainer {
    unr_model *m;
    unr_ctx *ctx;
    int max_batch;
    float *grads, *momentum;               /* like m->params */
    int *tensor_block;                     /* residual-branch block of each tensor, or -1 */
    float *stem_u, *stem_y, *stem_mean, *stem_istd;
    float *head_y, *head_mean, *head_istd;  /* pre-activation: relu(bn(top)) before the pool */
    block_state *bs;
    float *pooled, *logits, *dlogits, *dpooled;
    float *g[4];                           /* gradient buffers, one activation each */
    float *stats;                          /* all per-channel mean/istd, one allocation */
    float *blocks_mem;                     /* all block activations, one allocation */
};

static float *grad_of(unr_trainer *t, const float *param)
{
    return t->grads + (param - t->m->params);
}

/* ---- setup and teardown ---- */

unr_status unr_trainer_create(unr_model *m, int max_batch, int threads, unr_isa isa,
                              unr_trainer **out, unr_error *err)
{
    *out = NULL;
    if (max_batch < 1 || max_batch > UNR_MAX_BATCH)
        return unr_fail(err, UNR_ERR_RANGE, "train: batch %d is outside 1..%d", max_batch,
                        UNR_MAX_BATCH);
    unr_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return unr_fail(err, UNR_ERR_NOMEM, "train: out of memory");
    t->m = m;
    t->max_batch = max_batch;
    t->ctx = unr_ctx_create(threads, isa);
    size_t nb = (size_t)m->num_blocks, B = (size_t)max_batch;
    int pre = m->arch.preactivation, final_w = 0;
    size_t stem_floats = B * UNR_IMAGE_SIDE * UNR_IMAGE_SIDE * m->arch.stem_width;
    size_t act = unr_max_activation(m) * B, block_floats = 0, stat_floats = 2 * (size_t)m->arch.stem_width;
    for (size_t b = 0; b < nb; b++) {
        const unr_block_info *bi = &m->blocks[b];
        size_t o = B * bi->h_out * bi->h_out * bi->cout;
        block_floats += (m->bp[b].has_proj ? 5 : 4) * o + (pre ? B * bi->h_in * bi->h_in * bi->cin : 0);
        stat_floats += 6 * (size_t)(bi->cin > bi->cout ? bi->cin : bi->cout);
        final_w = bi->cout;
    }
    size_t last_h = (size_t)m->blocks[nb - 1].h_out;
    size_t head_floats = m->arch.head_bn ? B * last_h * last_h * final_w : 1;
    stat_floats += 2 * (size_t)final_w;
    t->grads = calloc(m->num_params, sizeof(float));
    t->momentum = calloc(m->num_params, sizeof(float));
    t->tensor_block = malloc((size_t)m->num_tensors * sizeof(int));
    t->stem_u = malloc(stem_floats * sizeof(float));
    t->stem_y = malloc(stem_floats * sizeof(float));
    t->head_y = malloc(head_floats * sizeof(float));
    t->bs = calloc(nb, sizeof *t->bs);
    t->blocks_mem = malloc(block_floats * sizeof(float));
    t->stats = malloc(stat_floats * sizeof(float));
    t->pooled = malloc(B * unr_final_width(&m->arch) * sizeof(float));
    t->dpooled = malloc(B * unr_final_width(&m->arch) * sizeof(float));
    t->logits = malloc(B * UNR_NUM_CLASSES * sizeof(float));
    t->dlogits = malloc(B * UNR_NUM_CLASSES * sizeof(float));
    int ok = t->ctx && t->grads && t->momentum && t->tensor_block && t->stem_u && t->stem_y && t->head_y &&
             t->bs && t->blocks_mem && t->stats && t->pooled && t->dpooled && t->logits && t->dlogits;
    for (int i = 0; i < 4; i++)
        ok &= (t->g[i] = malloc(act * sizeof(float))) != NULL;
    if (!ok) {
        unr_trainer_free(t);
        return unr_fail(err, t->ctx ? UNR_ERR_NOMEM : UNR_ERR_UNSUPPORTED,
                        "train: out of memory for batch %d (or kernels unavailable)", max_batch);
    }
    float *mem = t->blocks_mem, *st = t->stats;
    t->stem_mean = st, st += m->arch.stem_width;
    t->stem_istd = st, st += m->arch.stem_width;
    t->head_mean = st, st += final_w;
    t->head_istd = st, st += final_w;
    for (size_t b = 0; b < nb; b++) {
        const unr_block_info *bi = &m->blocks[b];
        size_t o = B * bi->h_out * bi->h_out * bi->cout;
        block_state *s = &t->bs[b];
        s->u1 = mem, mem += o;
        s->t1 = mem, mem += o;
        s->u2 = mem, mem += o;
        s->y = mem, mem += o;
        if (m->bp[b].has_proj)
            s->up = mem, mem += o;
        if (pre)
            s->v = mem, mem += B * bi->h_in * bi->h_in * bi->cin;
        int c = bi->cin > bi->cout ? bi->cin : bi->cout;
        float **stats[6] = {&s->mean1, &s->istd1, &s->mean2, &s->istd2, &s->meanp, &s->istdp};
        for (int i = 0; i < 6; i++)
            *stats[i] = st, st += c;
    }
    /* Which block's residual branch each tensor belongs to: those are the
     * tensors an inactive block must leave alone. A pre-activation bn1 also
     * feeds the projection where there is one, so it belongs to the
     * shortcut there. */
    for (int i = 0; i < m->num_tensors; i++) {
        int b;
        const char *name = m->tensors[i].name;
        t->tensor_block[i] = -1;
        if (sscanf(name, "blocks.%d.", &b) == 1 && !strstr(name, "shortcut") &&
            !(pre && m->bp[b].has_proj && strstr(name, ".bn1.")))
            t->tensor_block[i] = b;
    }
    *out = t;
    return UNR_OK;
}

void unr_trainer_free(unr_trainer *t)
{
    if (!t)
        return;
    for (int i = 3; i >= 0; i--)
        free(t->g[i]);
    free(t->dlogits);
    free(t->logits);
    free(t->dpooled);
    free(t->pooled);
    free(t->stats);
    free(t->blocks_mem);
    free(t->bs);
    free(t->stem_y);
    free(t->stem_u);
    free(t->head_y);
    free(t->tensor_block);
    free(t->momentum);
    free(t->grads);
    unr_ctx_destroy(t->ctx);
    free(t);
}

float *unr_trainer_grads(unr_trainer *t) { return t->grads; }
const float *unr_trainer_logits(const unr_trainer *t) { return t->logits; }

static void stats_to_running(const unr_bn *bn, const float *mean, const float *istd, float eps)
{
    for (int c = 0; c < bn->c; c++) {
        bn->mean[c] = mean[c];
        bn->var[c] = (float)(1.0 / ((double)istd[c] * istd[c]) - eps);
    }
}

void unr_trainer_batch_stats_to_running(unr_trainer *t)
{
    unr_model *m = t->m;
    float eps = m->arch.bn_eps;
    if (!m->arch.preactivation)
        stats_to_running(&m->stem_bn, t->stem_mean, t->stem_istd, eps);
    if (m->arch.head_bn)
        stats_to_running(&m->head_bn, t->head_mean, t->head_istd, eps);
    for (int b = 0; b < m->num_blocks; b++) {
        const block_state *s = &t->bs[b];
        stats_to_running(&m->bp[b].bn1, s->mean1, s->istd1, eps);
        stats_to_running(&m->bp[b].bn2, s->mean2, s->istd2, eps);
        if (m->bp[b].has_proj && !m->arch.preactivation)
            stats_to_running(&m->bp[b].proj_bn, s->meanp, s->istdp, eps);
    }
}
float *unr_trainer_momentum(unr_trainer *t) { return t->momentum; }

/* ---- forward ---- */

static void conv_raw(unr_trainer *t, const unr_conv *c, int n, int h, const float *x, float *y)
{
    unr_conv_shape s = {n, h, h, c->ci, c->co, c->k, c->stride};
    unr_epilogue ep = {NULL, NULL, 0, 0};
    unr_conv_forward(t->ctx, &s, x, c->w, &ep, y);
}

/* v = bn(u) [+ residual] [then relu], with batch statistics. */
static void bn_forward(unr_trainer *t, const unr_bn *bn, const float *u, long rows, float *mean,
                       float *istd, const float *residual, int relu, float *v, int update_running)
{
    unr_bn_train_forward(t->ctx, u, rows, bn->c, bn->gamma, bn->beta, t->m->arch.bn_eps, 0.1f,
                         update_running ? bn->mean : NULL, update_running ? bn->var : NULL,
                         mean, istd, residual, relu, v);
}

/* The shortcut of block b applied to x. Returns x itself (identity), or
 * writes tmp (A: subsample + pad; B: projection + bn, with relu if asked),
 * or NULL for a plain network, which has none. */
static const float *shortcut_forward(unr_trainer *t, int b, const float *x, int n, float *tmp,
                                     int relu, int update_running)
{
    const unr_model *m = t->m;
    const unr_block_info *bi = &m->blocks[b];
    if (m->arch.shortcut == UNR_SHORTCUT_NONE)
        return NULL;
    if (!bi->downsample)
        return x;
    if (m->arch.shortcut == UNR_SHORTCUT_A) {
        unr_shortcut_a(x, n, bi->h_in, bi->cin, bi->stride, bi->cout, tmp);
        return tmp;
    }
    block_state *st = &t->bs[b];
    long rows = (long)n * bi->h_out * bi->h_out;
    conv_raw(t, &m->bp[b].proj, n, bi->h_in, x, st->up);
    bn_forward(t, &m->bp[b].proj_bn, st->up, rows, st->meanp, st->istdp, NULL, relu, tmp,
               update_running);
    return tmp;
}

/* A pre-activation block (see block_state); inactive: y = shortcut(x). */
static void preact_block_forward(unr_trainer *t, int b, const float *x, int n, int active,
                                 int update_running)
{
    const unr_model *m = t->m;
    const unr_block_info *bi = &m->blocks[b];
    const unr_block_params *p = &m->bp[b];
    block_state *s = &t->bs[b];
    long rows_in = (long)n * bi->h_in * bi->h_in, rows = (long)n * bi->h_out * bi->h_out;
    size_t out_count = (size_t)rows * bi->cout;
    int plain = m->arch.shortcut == UNR_SHORTCUT_NONE;
    if (active || p->has_proj)
        bn_forward(t, &p->bn1, x, rows_in, s->mean1, s->istd1, NULL, 1, s->v, update_running);
    if (active) {
        conv_raw(t, &p->conv1, n, bi->h_in, s->v, s->u1);
        bn_forward(t, &p->bn2, s->u1, rows, s->mean2, s->istd2, NULL, 1, s->t1, update_running);
        conv_raw(t, &p->conv2, n, bi->h_out, s->t1, s->y);
    } else {
        memset(s->y, 0, out_count * sizeof *s->y);
    }
    if (plain) {
        if (!active)
            unr_copy(t->ctx, s->y, x, out_count);   /* an inactive plain block passes x */
    } else if (p->has_proj) {
        conv_raw(t, &p->proj, n, bi->h_in, s->v, t->g[0]);
        unr_add(t->ctx, s->y, t->g[0], out_count);
    } else if (bi->downsample) {
        unr_shortcut_a(x, n, bi->h_in, bi->cin, bi->stride, bi->cout, t->g[0]);
        unr_add(t->ctx, s->y, t->g[0], out_count);
    } else {
        unr_add(t->ctx, s->y, x, out_count);
    }
}

static const float *forward(unr_trainer *t, const float *input, int n, const unsigned char *active,
                            int update_running)
{
    const unr_model *m = t->m;
    long rows0 = (long)n * UNR_IMAGE_SIDE * UNR_IMAGE_SIDE;
    if (m->arch.preactivation) {
        conv_raw(t, &m->stem, n, UNR_IMAGE_SIDE, input, t->stem_y);   /* a bare conv */
        const float *x = t->stem_y;
        for (int b = 0; b < m->num_blocks; b++) {
            preact_block_forward(t, b, x, n, !active || active[b], update_running);
            x = t->bs[b].y;
        }
        if (!m->arch.head_bn)
            return x;
        const unr_block_info *last = &m->blocks[m->num_blocks - 1];
        bn_forward(t, &m->head_bn, x, (long)n * last->h_out * last->h_out, t->head_mean,
                   t->head_istd, NULL, 1, t->head_y, update_running);
        return t->head_y;
    }
    conv_raw(t, &m->stem, n, UNR_IMAGE_SIDE, input, t->stem_u);
    bn_forward(t, &m->stem_bn, t->stem_u, rows0, t->stem_mean, t->stem_istd, NULL, 1, t->stem_y,
               update_running);
    const float *x = t->stem_y;
    for (int b = 0; b < m->num_blocks; b++) {
        const unr_block_info *bi = &m->blocks[b];
        const unr_block_params *p = &m->bp[b];
        block_state *s = &t->bs[b];
        long rows = (long)n * bi->h_out * bi->h_out;
        if (active && !active[b]) {
            /* y = relu(shortcut(x)); x >= 0 already, so only B needs the relu.
             * An inactive plain block (never a downsampling one) passes x. */
            const float *sc = m->arch.shortcut == UNR_SHORTCUT_NONE
                                  ? x : shortcut_forward(t, b, x, n, s->y, 1, update_running);
            if (sc != s->y)
                unr_copy(t->ctx, s->y, sc, (size_t)rows * bi->cout);
        } else {
            conv_raw(t, &p->conv1, n, bi->h_in, x, s->u1);
            bn_forward(t, &p->bn1, s->u1, rows, s->mean1, s->istd1, NULL, 1, s->t1, update_running);
            conv_raw(t, &p->conv2, n, bi->h_out, s->t1, s->u2);
            const float *sc = shortcut_forward(t, b, x, n, t->g[0], 0, update_running);
            bn_forward(t, &p->bn2, s->u2, rows, s->mean2, s->istd2, sc, 1, s->y, update_running);
        }
        x = s->y;
    }
    return x;
}

/* ---- backward ---- */

static void conv_backward(unr_trainer *t, const unr_conv *c, int n, int h, const float *x,
                          const float *dy, float *dx, int accumulate)
{
    unr_conv_shape s = {n, h, h, c->ci, c->co, c->k, c->stride};
    unr_conv_backward_weights(t->ctx, &s, x, dy, grad_of(t, c->w));
    if (dx)
        unr_conv_backward_data(t->ctx, &s, dy, c->w, dx, accumulate);
}

/* du from dv, where dv counts only where mask > 0 (mask NULL: everywhere). */
static void bn_backward(unr_trainer *t, const unr_bn *bn, const float *u, const float *dv,
                        const float *mask, long rows, const float *mean, const float *istd,
                        float *du)
{
    unr_bn_train_backward(t->ctx, u, dv, mask, rows, bn->c, bn->gamma, mean, istd, du,
                          grad_of(t, bn->gamma), grad_of(t, bn->beta));
}

/* dz: gradient at the block's pre-ReLU sum (already masked); adds the
 * shortcut's gradient into dx (which holds the branch's, or zeros). */
static void shortcut_backward(unr_trainer *t, int b, const float *x, int n, float *dz, float *dx,
                              float *tmp)
{
    const unr_model *m = t->m;
    const unr_block_info *bi = &m->blocks[b];
    size_t in_count = (size_t)n * bi->h_in * bi->h_in * bi->cin;
    if (m->arch.shortcut == UNR_SHORTCUT_NONE)
        return;
    if (!bi->downsample) {
        unr_add(t->ctx, dx, dz, in_count);
    } else if (m->arch.shortcut == UNR_SHORTCUT_A) {
        unr_shortcut_a_backward(dz, n, bi->h_in, bi->cin, bi->stride, bi->cout, dx);
    } else {
        const block_state *s = &t->bs[b];
        long rows = (long)n * bi->h_out * bi->h_out;
        bn_backward(t, &m->bp[b].proj_bn, s->up, dz, NULL, rows, s->meanp, s->istdp, tmp);
        conv_backward(t, &m->bp[b].proj, n, bi->h_in, x, tmp, dx, 1);
    }
}

/* Gradient of block b: dy (its output's gradient, clobbered) -> dx. */
static void block_backward(unr_trainer *t, int b, const float *x, int n, int active, float *dy,
                           float *dx)
{
    const unr_model *m = t->m;
    const unr_block_info *bi = &m->blocks[b];
    const unr_block_params *p = &m->bp[b];
    block_state *s = &t->bs[b];
    long rows = (long)n * bi->h_out * bi->h_out;
    size_t out_count = (size_t)rows * bi->cout, in_count = (size_t)n * bi->h_in * bi->h_in * bi->cin;
    int plain = m->arch.shortcut == UNR_SHORTCUT_NONE;
    if (!active && plain) {
        unr_copy(t->ctx, dx, dy, in_count);  /* passed through */
        return;
    }
    unr_relu_mask(t->ctx, dy, s->y, out_count);  /* dy is now dz */
    float *du = t->g[2], *dt = t->g[3];
    if (!active) {
        memset(dx, 0, in_count * sizeof *dx);
        shortcut_backward(t, b, x, n, dy, dx, du);
        return;
    }
    bn_backward(t, &p->bn2, s->u2, dy, NULL, rows, s->mean2, s->istd2, du);
    conv_backward(t, &p->conv2, n, bi->h_out, s->t1, du, dt, 0);
    bn_backward(t, &p->bn1, s->u1, dt, s->t1, rows, s->mean1, s->istd1, dt);
    conv_backward(t, &p->conv1, n, bi->h_in, x, dt, dx, 0);
    shortcut_backward(t, b, x, n, dy, dx, du);
}

/* Gradient of pre-activation block b: dy (its output's gradient) -> dx. */
static void preact_block_backward(unr_trainer *t, int b, const float *x, int n, int active,
                                  const float *dy, float *dx)
{
    const unr_model *m = t->m;
    const unr_block_info *bi = &m->blocks[b];
    const unr_block_params *p = &m->bp[b];
    block_state *s = &t->bs[b];
    long rows_in = (long)n * bi->h_in * bi->h_in, rows = (long)n * bi->h_out * bi->h_out;
    size_t in_count = (size_t)rows_in * bi->cin;
    float *dv = t->g[2], *du = t->g[3];
    int plain = m->arch.shortcut == UNR_SHORTCUT_NONE;
    if (!active && (plain || !bi->downsample)) {
        unr_copy(t->ctx, dx, dy, in_count);       /* passed through */
        return;
    }
    if (!active && !p->has_proj) {
        memset(dx, 0, in_count * sizeof *dx);
        unr_shortcut_a_backward(dy, n, bi->h_in, bi->cin, bi->stride, bi->cout, dx);
        return;
    }
    if (active) {
        conv_backward(t, &p->conv2, n, bi->h_out, s->t1, dy, du, 0);
        bn_backward(t, &p->bn2, s->u1, du, s->t1, rows, s->mean2, s->istd2, du);
        conv_backward(t, &p->conv1, n, bi->h_in, s->v, du, dv, 0);
    }
    if (p->has_proj)   /* the projection reads v: its gradient joins the branch's there */
        conv_backward(t, &p->proj, n, bi->h_in, s->v, dy, dv, active);
    bn_backward(t, &p->bn1, x, dv, s->v, rows_in, s->mean1, s->istd1, dx);
    if (plain || p->has_proj)
        return;
    if (bi->downsample)
        unr_shortcut_a_backward(dy, n, bi->h_in, bi->cin, bi->stride, bi->cout, dx);
    else
        unr_add(t->ctx, dx, dy, in_count);
}

double unr_trainer_backprop(unr_trainer *t, const float *input, const uint8_t *labels, int n,
                            const unsigned char *active, float label_smoothing,
                            int update_running, int *correct)
{
    unr_model *m = t->m;
    int c = unr_final_width(&m->arch), k = m->arch.num_classes;
    int hw = m->blocks[m->num_blocks - 1].h_out;
    hw *= hw;
    memset(t->grads, 0, m->num_params * sizeof *t->grads);

    const float *top = forward(t, input, n, active, update_running);
    unr_avgpool_forward(top, n, hw, c, t->pooled);
    unr_epilogue ep = {m->fc_b, NULL, 0, 0};
    unr_gemm(t->ctx, n, k, c, t->pooled, c, 1, m->fc_w, 1, c, t->logits, k, &ep);
    double loss = unr_softmax_xent(t->logits, labels, n, k, label_smoothing, t->dlogits, correct);

    /* Linear layer: dW = dlogits^T pooled, db = sum dlogits, dpooled = dlogits W. */
    float *dfw = grad_of(t, m->fc_w), *dfb = grad_of(t, m->fc_b);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            float d = t->dlogits[i * k + j];
            dfb[j] += d;
            for (int q = 0; q < c; q++)
                dfw[j * c + q] += d * t->pooled[(size_t)i * c + q];
        }
    unr_epilogue none = {NULL, NULL, 0, 0};
    unr_gemm(t->ctx, n, c, k, t->dlogits, k, 1, m->fc_w, c, 1, t->dpooled, c, &none);

    float *dy = t->g[0], *dx = t->g[1];
    unr_avgpool_backward(t->dpooled, n, hw, c, dy);
    if (m->arch.preactivation) {
        if (m->arch.head_bn)
            bn_backward(t, &m->head_bn, t->bs[m->num_blocks - 1].y, dy, t->head_y, (long)n * hw,
                        t->head_mean, t->head_istd, dy);
        for (int b = m->num_blocks - 1; b >= 0; b--) {
            const float *x = b > 0 ? t->bs[b - 1].y : t->stem_y;
            preact_block_backward(t, b, x, n, !active || active[b], dy, dx);
            float *tmp = dy;
            dy = dx, dx = tmp;
        }
        conv_backward(t, &m->stem, n, UNR_IMAGE_SIDE, input, dy, NULL, 0);
        return loss;
    }
    for (int b = m->num_blocks - 1; b >= 0; b--) {
        const float *x = b > 0 ? t->bs[b - 1].y : t->stem_y;
        block_backward(t, b, x, n, !active || active[b], dy, dx);
        float *tmp = dy;
        dy = dx, dx = tmp;
    }
    /* Stem: no gradient w.r.t. the image is needed. */
    long rows0 = (long)n * UNR_IMAGE_SIDE * UNR_IMAGE_SIDE;
    bn_backward(t, &m->stem_bn, t->stem_u, dy, t->stem_y, rows0, t->stem_mean, t->stem_istd, dx);
    conv_backward(t, &m->stem, n, UNR_IMAGE_SIDE, input, dx, NULL, 0);
    return loss;
}

/* ---- optimiser ---- */

void unr_trainer_sgd_step(unr_trainer *t, const unr_sgd *o, const unsigned char *active)
{
    unr_model *m = t->m;
    for (int i = 0; i < m->num_tensors; i++) {
        unr_tensor *tn = &m->tensors[i];
        if (tn->kind == UNR_T_BN_MEAN || tn->kind == UNR_T_BN_VAR)
            continue;  /* running statistics are not trained */
        if (active && t->tensor_block[i] >= 0 && !active[t->tensor_block[i]])
            continue;
        float decay = (tn->kind == UNR_T_CONV || tn->kind == UNR_T_FC_WEIGHT) ? o->weight_decay : 0;
        float *w = tn->data, *g = grad_of(t, w), *v = t->momentum + (w - m->params);
        for (size_t j = 0; j < tn->count; j++) {
            /* PyTorch's SGD: g += wd*w; v = mu*v + g; step = nesterov ? g + mu*v : v */
            float gj = g[j] + decay * w[j];
            v[j] = o->momentum * v[j] + gj;
            w[j] -= o->lr * (o->nesterov ? gj + o->momentum * v[j] : v[j]);
        }
    }
}
