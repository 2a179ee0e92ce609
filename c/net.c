/* net.c: the forward pass of a CIFAR ResNet under a plan, on folded weights;
 * evaluation, and changes of error between two plans paired image by image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- setup and teardown ---- */

size_t unr_max_activation(const unr_model *m)
{
    size_t most = (size_t)UNR_IMAGE_SIDE * UNR_IMAGE_SIDE * 3;
    for (int b = 0; b < m->num_blocks; b++) {
        const unr_block_info *bi = &m->blocks[b];
        size_t in = (size_t)bi->h_in * bi->h_in * bi->cin;
        size_t out = (size_t)bi->h_out * bi->h_out * bi->cout;
        most = in > most ? in : most;
        most = out > most ? out : most;
    }
    return most;
}

int unr_runner_chunk(const unr_model *m, int max_batch)
{
    /* Four activation buffers are live in a block; keep them within
     * UNR_CHUNK_BYTES (measured: see bench/results.md). */
    size_t budget = UNR_CHUNK_BYTES;
    size_t per_image = 4 * unr_max_activation(m) * sizeof(float);
    int chunk = (int)(budget / per_image);
    chunk = chunk < 1 ? 1 : chunk;
    return chunk < max_batch ? chunk : max_batch;
}

unr_status unr_runner_create(const unr_model *m, int max_batch, int threads, unr_isa isa,
                             unr_runner **out, unr_error *err)
{
    *out = NULL;
    if (max_batch < 1 || max_batch > UNR_MAX_BATCH)
        return unr_fail(err, UNR_ERR_RANGE, "batch: %d is outside 1..%d", max_batch, UNR_MAX_BATCH);
    unr_runner *r = calloc(1, sizeof *r);
    if (!r)
        return unr_fail(err, UNR_ERR_NOMEM, "runner: out of memory");
    r->m = m;
    r->max_batch = max_batch;
    r->act_floats = unr_max_activation(m) * (size_t)max_batch;
    r->chunk = unr_runner_chunk(m, max_batch);
    r->ctx = unr_ctx_create(threads, isa);
    if (!r->ctx) {
        free(r);
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "runner: the %s kernels are not available in "
                        "this build or on this CPU", unr_isa_name(isa));
    }
    r->input = malloc((size_t)max_batch * UNR_IMAGE_BYTES * sizeof(float));
    r->pooled = malloc((size_t)max_batch * unr_final_width(&m->arch) * sizeof(float));
    r->logits = malloc((size_t)max_batch * m->arch.num_classes * sizeof(float));
    int ok = r->input && r->pooled && r->logits;
    for (int i = 0; i < 4; i++)
        ok &= (r->act[i] = malloc(r->act_floats * sizeof(float))) != NULL;
    if (!ok) {
        unr_runner_free(r);
        return unr_fail(err, UNR_ERR_NOMEM, "runner: out of memory for batch %d", max_batch);
    }
    *out = r;
    return UNR_OK;
}

void unr_runner_free(unr_runner *r)
{
    if (!r)
        return;
    for (int i = 2; i >= 0; i--)
        free(r->grad[i]);
    free(r->saved_mem);
    free(r->saved);
    for (int i = 3; i >= 0; i--)
        free(r->act[i]);
    free(r->logits);
    free(r->pooled);
    free(r->input);
    unr_ctx_destroy(r->ctx);
    free(r);
}

unr_status unr_runner_reserve_saved(unr_runner *r, unr_error *err)
{
    if (r->saved)
        return UNR_OK;
    /* Activation i is the input of position i (i = num_blocks: the output);
     * sized for the widest block so any plan fits. */
    int nb = r->m->num_blocks;
    r->saved = malloc((size_t)(nb + 1) * sizeof *r->saved);
    r->saved_mem = malloc((size_t)(nb + 1) * r->act_floats * sizeof(float));
    int ok = r->saved && r->saved_mem;
    for (int i = 0; i < 3; i++)
        ok &= (r->grad[i] = malloc(r->act_floats * sizeof(float))) != NULL;
    if (!ok) {
        for (int i = 0; i < 3; i++)
            free(r->grad[i]), r->grad[i] = NULL;
        free(r->saved_mem), r->saved_mem = NULL;
        free(r->saved), r->saved = NULL;
        return unr_fail(err, UNR_ERR_NOMEM, "runner: out of memory for %d saved activations of "
                        "batch %d (use a smaller batch)", nb + 1, r->max_batch);
    }
    for (int i = 0; i <= nb; i++)
        r->saved[i] = r->saved_mem + (size_t)i * r->act_floats;
    return UNR_OK;
}

void unr_runner_set_chunk(unr_runner *r, int images)
{
    r->chunk = images < 1 ? unr_runner_chunk(r->m, r->max_batch)
                          : images < r->max_batch ? images : r->max_batch;
}

int unr_runner_get_chunk(const unr_runner *r) { return r->chunk; }

unr_isa unr_runner_isa(const unr_runner *r) { return unr_ctx_isa(r->ctx); }
int unr_runner_max_batch(const unr_runner *r) { return r->max_batch; }

/* ---- input ---- */

void unr_images_to_input(const unr_model *m, const uint8_t *pixels, int n, float *out)
{
    /* Record planes (C, H, W) -> NHWC, (p/255 - mean) / std as one multiply-add. */
    float scale[3], shift[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = 1.0f / (255.0f * m->std[c]);
        shift[c] = -m->mean[c] / m->std[c];
    }
    const int plane = UNR_IMAGE_SIDE * UNR_IMAGE_SIDE;
    for (int i = 0; i < n; i++) {
        const uint8_t *img = pixels + (size_t)i * UNR_IMAGE_BYTES;
        float *o = out + (size_t)i * UNR_IMAGE_BYTES;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
                o[3 * p + c] = (float)img[c * plane + p] * scale[c] + shift[c];
    }
}

/* ---- pieces of the network ---- */

static void conv(unr_runner *r, const unr_fconv *f, int n, int h, const float *x,
                 const float *residual, int relu, float *y)
{
    unr_conv_shape s = {n, h, h, f->ci, f->co, f->k, f->stride};
    unr_epilogue ep = {f->b, residual, relu, 0};
    unr_conv_forward(r->ctx, &s, x, f->w, &ep, y);
}

void unr_shortcut_a(const float *x, int n, int h, int cin, int stride, int cout, float *y)
{
    int ho = stride == 2 ? (h + 1) / 2 : h, pad = (cout - cin) / 2;
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < ho; ox++) {
                const float *src = x + (((size_t)i * h + oy * stride) * h + ox * stride) * cin;
                float *dst = y + (((size_t)i * ho + oy) * ho + ox) * cout;
                memset(dst, 0, (size_t)pad * sizeof *dst);
                memcpy(dst + pad, src, (size_t)cin * sizeof *dst);
                memset(dst + pad + cin, 0, (size_t)(cout - cin - pad) * sizeof *dst);
            }
}

void unr_net_stem(unr_runner *r, const float *input, int n, float *y)
{
    /* post-activation: relu(bn(conv)); pre-activation: the bare conv */
    conv(r, &r->m->fstem, n, UNR_IMAGE_SIDE, input, NULL, !r->m->arch.preactivation, y);
}

void unr_affine_relu(const unr_affine *f, const float *x, size_t pixels, int c, int relu, float *y)
{
    for (size_t p = 0; p < pixels; p++) {
        const float *xp = x + p * c;
        float *yp = y + p * c;
        for (int k = 0; k < c; k++) {
            float v = xp[k] * f->scale[k] + f->shift[k];
            yp[k] = relu && v < 0 ? 0.0f : v;
        }
    }
}

/* A pre-activation block: u = relu(bn1(x)); y = shortcut + conv2(relu(c1(u)))
 * with bn2 folded into c1; the projection (B) reads u, identity and A read x.
 * u lives in y until conv2 overwrites it. */
static void preact_block(unr_runner *r, int b, int deleted, const float *x, int n, float *y,
                         float *t, float *s)
{
    const unr_model *m = r->m;
    const unr_block_info *bi = &m->blocks[b];
    const unr_fblock *f = &m->fb[b];
    size_t in_px = (size_t)n * bi->h_in * bi->h_in, out_floats = (size_t)n * bi->h_out * bi->h_out * bi->cout;
    int relu = !r->linear_branches;
    const float *sc = x;    /* identity, and a deleted plain block */
    if (m->arch.shortcut == UNR_SHORTCUT_NONE) {
        sc = NULL;
    } else if (bi->downsample && m->arch.shortcut == UNR_SHORTCUT_A) {
        unr_shortcut_a(x, n, bi->h_in, bi->cin, bi->stride, bi->cout, s);
        sc = s;
    }
    int proj = bi->downsample && m->bp[b].has_proj;
    if (deleted && !proj) {
        memcpy(y, sc ? sc : x, out_floats * sizeof *y);
        return;
    }
    float *u = deleted ? t : y;
    unr_affine_relu(&f->pre, x, in_px, bi->cin, relu, u);
    if (proj) {
        conv(r, &f->proj, n, bi->h_in, u, NULL, 0, deleted ? y : s);
        sc = s;
        if (deleted)
            return;
    }
    conv(r, &f->c1, n, bi->h_in, u, NULL, relu, t);
    conv(r, &f->c2, n, bi->h_out, t, sc, 0, y);
}

/* The shortcut of block b applied to x: returns x itself for identity, or
 * fills s. NULL for a plain network, which has no skip to add. relu applies
 * only where the shortcut is the block's whole output (a deleted B block). */
static const float *shortcut(unr_runner *r, int b, const float *x, int n, float *s, int relu)
{
    const unr_model *m = r->m;
    const unr_block_info *bi = &m->blocks[b];
    if (m->arch.shortcut == UNR_SHORTCUT_NONE)
        return NULL;
    if (!bi->downsample)
        return x;
    if (m->arch.shortcut == UNR_SHORTCUT_A) {
        unr_shortcut_a(x, n, bi->h_in, bi->cin, bi->stride, bi->cout, s);
        return s;
    }
    conv(r, &m->fb[b].proj, n, bi->h_in, x, NULL, relu, s);
    return s;
}

void unr_net_block(unr_runner *r, int b, int deleted, const float *x, int n, float *y,
                   float *t, float *s)
{
    const unr_model *m = r->m;
    if (m->arch.preactivation) {
        preact_block(r, b, deleted, x, n, y, t, s);
        return;
    }
    const unr_block_info *bi = &m->blocks[b];
    size_t out_floats = (size_t)n * bi->h_out * bi->h_out * bi->cout;
    int relu = !r->linear_branches;
    if (deleted) {
        /* y = relu(shortcut(x)): the block with its residual branch zeroed.
         * For A and identity the input is already >= 0, so relu is a no-op.
         * A deleted plain block passes x through (the plan only allows it
         * where shapes match). */
        const float *sc = m->arch.shortcut == UNR_SHORTCUT_NONE
                              ? x : shortcut(r, b, x, n, y, relu);
        if (sc != y)
            memcpy(y, sc, out_floats * sizeof *y);
        return;
    }
    conv(r, &m->fb[b].c1, n, bi->h_in, x, NULL, relu, t);
    const float *sc = shortcut(r, b, x, n, s, 0);
    conv(r, &m->fb[b].c2, n, bi->h_out, t, sc, relu, y);
}

void unr_net_head(unr_runner *r, const float *x, int n, float *logits)
{
    const unr_model *m = r->m;
    int c = unr_final_width(&m->arch), hw = m->blocks[m->num_blocks - 1].h_out;
    hw *= hw;
    const unr_affine *bn = m->arch.head_bn ? &m->fhead : NULL;  /* relu(bn(x)) before the pool */
    for (int i = 0; i < n; i++) {
        float *p = r->pooled + (size_t)i * c;
        memset(p, 0, (size_t)c * sizeof *p);
        for (int q = 0; q < hw; q++) {
            const float *v = x + ((size_t)i * hw + q) * c;
            if (bn)
                for (int k = 0; k < c; k++) {
                    float a = v[k] * bn->scale[k] + bn->shift[k];
                    p[k] += a > 0 ? a : 0.0f;
                }
            else
                for (int k = 0; k < c; k++)
                    p[k] += v[k];
        }
        for (int k = 0; k < c; k++)
            p[k] *= 1.0f / (float)hw;
    }
    /* logits[i][j] = pooled[i] . fc_w[j] + fc_b[j] */
    unr_epilogue ep = {m->fc_b, NULL, 0, 0};
    unr_gemm(r->ctx, n, m->arch.num_classes, c, r->pooled, c, 1, m->fc_w, 1, c, logits,
             m->arch.num_classes, &ep);
}

/* ---- the whole pass ---- */

unr_status unr_forward(unr_runner *r, const unr_plan *p, const float *input, int n,
                       float *logits, unr_error *err)
{
    if (n < 1 || n > r->max_batch)
        return unr_fail(err, UNR_ERR_RANGE, "forward: batch of %d is outside 1..%d", n,
                        r->max_batch);
    unr_status st = unr_plan_validate(r->m, p, err);
    if (st)
        return st;
    /* The batch goes through in chunks small enough that a block's working
     * set stays in cache (see unr_runner_chunk). */
    const int k = r->m->arch.num_classes;
    for (int at = 0; at < n; at += r->chunk) {
        int c = n - at < r->chunk ? n - at : r->chunk;
        float *x = r->act[0], *y = r->act[1];
        unr_net_stem(r, input + (size_t)at * UNR_IMAGE_BYTES, c, x);
        for (int pos = 0; pos < p->num_blocks; pos++) {
            int b = p->order[pos];
            unr_net_block(r, b, p->deleted[b], x, c, y, r->act[2], r->act[3]);
            float *tmp = x;
            x = y, y = tmp;
        }
        unr_net_head(r, x, c, logits + (size_t)at * k);
    }
    return UNR_OK;
}

unr_status unr_forward_pixels(unr_runner *r, const unr_plan *p, const uint8_t *pixels, int n,
                              float *logits, unr_error *err)
{
    if (n < 1 || n > r->max_batch)
        return unr_fail(err, UNR_ERR_RANGE, "forward: batch of %d is outside 1..%d", n,
                        r->max_batch);
    unr_images_to_input(r->m, pixels, n, r->input);
    return unr_forward(r, p, r->input, n, logits, err);
}

/* ---- evaluation ---- */

unr_status unr_evaluate(unr_runner *r, const unr_plan *p, const unr_cifar *data, int limit,
                        unr_progress_fn progress, void *user, unr_eval_result *out,
                        unr_error *err)
{
    return unr_evaluate_predict(r, p, data, limit, progress, user, NULL, out, err);
}

unr_status unr_evaluate_predict(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                                int limit, unr_progress_fn progress, void *user,
                                uint8_t *pred, unr_eval_result *out, unr_error *err)
{
    memset(out, 0, sizeof *out);
    int total = limit > 0 && limit < data->n ? limit : data->n;
    unr_status st = unr_plan_validate(r->m, p, err);
    if (st)
        return st;
    float *lg = r->logits;
    double t0 = unr_now_seconds();
    for (int at = 0; at < total && !st; at += r->max_batch) {
        int n = total - at < r->max_batch ? total - at : r->max_batch;
        st = unr_forward_pixels(r, p, data->pixels + (size_t)at * UNR_IMAGE_BYTES, n, lg, err);
        for (int i = 0; i < n && !st; i++) {
            int truth = data->labels[at + i], guess = unr_argmax(lg + i * UNR_NUM_CLASSES, UNR_NUM_CLASSES);
            if (pred)
                pred[at + i] = (uint8_t)guess;
            out->per_class_total[truth]++;
            out->per_class_correct[truth] += guess == truth;
            out->confusion[truth][guess]++;
            out->correct += guess == truth;
        }
        if (!st && progress && progress(user, at + n, total))
            st = unr_fail(err, UNR_ERR_CANCELLED, "evaluate: cancelled");
    }
    out->n = total;
    out->error = total ? 1.0 - (double)out->correct / total : 0.0;
    out->seconds = unr_now_seconds() - t0;
    return st;
}

void unr_paired_compare(const uint8_t *base_pred, const uint8_t *plan_pred,
                        const uint8_t *labels, int n, unr_paired_change *out)
{
    int wrong = 0, right = 0;
    for (int i = 0; i < n; i++) {
        int was = base_pred[i] == labels[i], is = plan_pred[i] == labels[i];
        wrong += was && !is;
        right += !was && is;
    }
    out->n = n;
    out->turned_wrong = wrong;
    out->turned_right = right;
    out->change = n ? (double)(wrong - right) / n : 0.0;
    out->ci95 = unr_paired_ci95(n, wrong, right);
}

double unr_paired_ci95(int n, int turned_wrong, int turned_right)
{
    double d = turned_wrong - turned_right;
    double variance = n > 1 ? (turned_wrong + turned_right - d * d / n) / (n - 1) : 0.0;
    return 1.96 * sqrt(variance / (n > 1 ? n : 1));
}
