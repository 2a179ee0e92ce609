/* paths.c: the unraveled view in numbers (claims 4-6 of PAPER.md): the
 * path-length distribution, gradient norm per path length, and the window of
 * effective paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

enum { TAG_PATH_BLOCKS = 3, TAG_PATH_BATCH = 4, TAG_WINDOW_BOOTSTRAP = 5 };

/* ---- distribution and window ---- */

/* log C(n,k) for k = 0..n by the ratio recurrence: exact to rounding, no
 * overflow, and the same on every libm. */
static void log_binomials(int n, double *lc)
{
    lc[0] = 0;
    for (int k = 0; k < n; k++)
        lc[k + 1] = lc[k] + log((double)(n - k)) - log((double)(k + 1));
}

void unr_path_distribution(int n, double *p)
{
    log_binomials(n, p);
    double ln2n = n * log(2.0);
    for (int k = 0; k <= n; k++)
        p[k] = exp(p[k] - ln2n);
}

unr_status unr_effective_window(int n, const double *g, double q, unr_window *out,
                                double *share_of_total, unr_error *err)
{
    if (n < 1)
        return unr_fail(err, UNR_ERR_RANGE, "window: n = %d must be positive", n);
    if (!(q > 0 && q <= 1))
        return unr_fail(err, UNR_ERR_RANGE, "window: q = %g is outside (0, 1]", q);
    for (int k = 0; k <= n; k++)
        if (!(g[k] >= 0 && isfinite(g[k])))
            return unr_fail(err, UNR_ERR_RANGE, "window: the gradient norm of length %d is %g, not a "
                            "finite non-negative number", k, g[k]);
    double *lt = malloc((size_t)(n + 1) * sizeof *lt), *w = malloc((size_t)(n + 1) * sizeof *w);
    double *dist = malloc((size_t)(n + 1) * sizeof *dist);
    if (!lt || !w || !dist) {
        free(lt), free(w), free(dist);
        return unr_fail(err, UNR_ERR_NOMEM, "window: out of memory");
    }
    /* total_k = C(n,k) g_k, in log space, normalised by the largest term. */
    log_binomials(n, lt);
    double top = -INFINITY, sum = 0;
    for (int k = 0; k <= n; k++) {
        lt[k] = g[k] > 0 ? lt[k] + log(g[k]) : -INFINITY;
        top = lt[k] > top ? lt[k] : top;
    }
    unr_status st = UNR_OK;
    if (top == -INFINITY) {
        st = unr_fail(err, UNR_ERR_RANGE, "window: every gradient norm is zero");
        goto done;
    }
    for (int k = 0; k <= n; k++)
        sum += (w[k] = exp(lt[k] - top));
    for (int k = 0; k <= n; k++)
        w[k] /= sum;
    if (share_of_total)
        memcpy(share_of_total, w, (size_t)(n + 1) * sizeof *w);
    /* Shortest [a, b] with mass >= q; among equal lengths, the most mass. */
    int best_a = 0, best_b = n;
    double best_mass = 1.0;
    for (int a = 0; a <= n; a++) {
        double mass = 0;
        for (int b = a; b <= n && b - a <= best_b - best_a; b++) {
            mass += w[b];
            if (mass >= q * (1 - 1e-12)) {
                if (b - a < best_b - best_a || (b - a == best_b - best_a && mass > best_mass))
                    best_a = a, best_b = b, best_mass = mass;
                break;
            }
        }
    }
    unr_path_distribution(n, dist);
    double share = 0;
    for (int k = best_a; k <= best_b; k++)
        share += dist[k];
    *out = (unr_window){best_a, best_b, q, best_mass, share};
done:
    free(lt), free(w), free(dist);
    return st;
}

static int compare_ints(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Window of the means of norms[k][pick[i]], i < samples. */
static unr_status window_of(int n, const double *norms, int samples, const int *pick, double q,
                            double *mean, unr_window *w, unr_error *err)
{
    for (int k = 0; k <= n; k++) {
        const double *row = norms + (size_t)k * samples;
        double s = 0;
        for (int i = 0; i < samples; i++)
            s += row[pick[i]];
        mean[k] = s / samples;
    }
    return unr_effective_window(n, mean, q, w, NULL, err);
}

unr_status unr_window_bootstrap(int n, const double *norms, int samples, double q, int resamples,
                                uint64_t seed, unr_window_spread *out, unr_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || n > UNR_MAX_BLOCKS)
        return unr_fail(err, UNR_ERR_RANGE, "window bootstrap: n = %d is outside 1..%d", n, UNR_MAX_BLOCKS);
    if (samples < 1 || samples > 1000000)
        return unr_fail(err, UNR_ERR_RANGE, "window bootstrap: samples %d is outside 1..1000000", samples);
    if (resamples < 1 || resamples > 100000)
        return unr_fail(err, UNR_ERR_RANGE, "window bootstrap: resamples %d is outside 1..100000", resamples);
    for (size_t i = 0; i < (size_t)(n + 1) * samples; i++)
        if (!(norms[i] >= 0 && isfinite(norms[i])))
            return unr_fail(err, UNR_ERR_RANGE, "window bootstrap: gradient norm %zu (length %zu, "
                            "sample %zu) is %g, not a finite non-negative number",
                            i, i / samples, i % samples, norms[i]);
    int *pick = malloc((size_t)samples * sizeof *pick);
    double *mean = malloc((size_t)(n + 1) * sizeof *mean);
    int *as = malloc((size_t)resamples * sizeof *as), *bs = malloc((size_t)resamples * sizeof *bs);
    double *shares = malloc((size_t)resamples * sizeof *shares);
    unr_status st = UNR_OK;
    if (!pick || !mean || !as || !bs || !shares)
        st = unr_fail(err, UNR_ERR_NOMEM, "window bootstrap: out of memory");
    unr_window all;
    for (int i = 0; i < samples && !st; i++)
        pick[i] = i;
    if (!st)
        st = window_of(n, norms, samples, pick, q, mean, &all, err);
    int same = 0;
    for (int r = 0; r < resamples && !st; r++) {
        unr_rng rng;
        unr_rng_seed_for(&rng, seed, TAG_WINDOW_BOOTSTRAP, (uint64_t)r, 0);
        for (int i = 0; i < samples; i++)
            pick[i] = (int)unr_rng_below(&rng, (uint32_t)samples);
        unr_window w;
        st = window_of(n, norms, samples, pick, q, mean, &w, err);
        if (!st) {
            as[r] = w.a, bs[r] = w.b, shares[r] = w.share;
            same += w.a == all.a && w.b == all.b;
        }
    }
    if (!st) {
        /* nearest-rank ends of the central 95% */
        int lo = (int)floor(0.025 * resamples), hi = resamples - 1 - lo;
        qsort(as, (size_t)resamples, sizeof *as, compare_ints);
        qsort(bs, (size_t)resamples, sizeof *bs, compare_ints);
        qsort(shares, (size_t)resamples, sizeof *shares, compare_doubles);
        *out = (unr_window_spread){resamples, as[lo], as[hi], bs[lo], bs[hi], shares[lo], shares[hi],
                                   (double)same / resamples};
    }
    free(pick), free(mean), free(as), free(bs), free(shares);
    return st;
}

/* ---- gradient per path length ---- */

/* What a forward pass keeps for the path backward: the input of every
 * block (saved[b]), its output (saved[b+1]), and the inner activation t of
 * its residual branch, recomputed per block as needed. */
static unr_status forward_saving(unr_runner *r, const uint8_t *pixels, int n, unr_error *err)
{
    const unr_model *m = r->m;
    unr_status st = unr_runner_reserve_saved(r, err);
    if (st)
        return st;
    unr_images_to_input(m, pixels, n, r->input);
    unr_net_stem(r, r->input, n, r->saved[0]);
    for (int b = 0; b < m->num_blocks; b++)
        unr_net_block(r, b, 0, r->saved[b], n, r->saved[b + 1], r->act[2], r->act[3]);
    unr_net_head(r, r->saved[m->num_blocks], n, r->logits);
    return UNR_OK;
}

static void relu_mask(float *d, const float *y, size_t count)
{
    for (size_t i = 0; i < count; i++)
        d[i] = y[i] > 0 ? d[i] : 0.0f;
}

/* d(mean cross-entropy)/d(top activation), into dy. */
static void head_backward(unr_runner *r, const uint8_t *labels, int n, float *dy)
{
    const unr_model *m = r->m;
    int c = unr_final_width(&m->arch), k = m->arch.num_classes;
    int hw = m->blocks[m->num_blocks - 1].h_out;
    hw *= hw;
    for (int i = 0; i < n; i++) {
        float *z = r->logits + (size_t)i * k;
        double zmax = z[0], sum = 0;
        for (int j = 1; j < k; j++)
            zmax = z[j] > zmax ? z[j] : zmax;
        for (int j = 0; j < k; j++)
            sum += exp((double)z[j] - zmax);
        float *dp = r->pooled + (size_t)i * c;  /* pooled is free scratch now */
        memset(dp, 0, (size_t)c * sizeof *dp);
        for (int j = 0; j < k; j++) {
            double dz = (exp((double)z[j] - zmax) / sum - (j == labels[i])) / n;
            for (int q = 0; q < c; q++)
                dp[q] += (float)dz * m->fc_w[j * c + q];
        }
        for (int p = 0; p < hw; p++)
            for (int q = 0; q < c; q++)
                dy[((size_t)i * hw + p) * c + q] = dp[q] / (float)hw;
    }
}

static void conv_data(unr_runner *r, const unr_fconv *f, int n, int h, const float *dy, float *dx,
                      int accumulate)
{
    unr_conv_shape s = {n, h, h, f->ci, f->co, f->k, f->stride};
    unr_conv_backward_data(r->ctx, &s, dy, f->w, dx, accumulate);
}

/* Long paths carry gradients far below float's range (a trained 54-block
 * net loses ~5x per residual branch: 1e-17 after 20, under 1e-38 before
 * 54), which would read as 0. Backprop is linear in the gradient, so when
 * its largest entry leaves [2^-30, 2^30] the gradient is scaled by a power
 * of two (exact in floating point) and the exponent kept in *e2. */
static void keep_in_range(float *d, size_t count, int *e2)
{
    float top = 0;
    for (size_t i = 0; i < count; i++)
        top = fabsf(d[i]) > top ? fabsf(d[i]) : top;
    int e;
    if (!(top > 0) || !isfinite(top) || (frexpf(top, &e), e > -30 && e < 30))
        return;
    const float scale = ldexpf(1.0f, -e);
    for (size_t i = 0; i < count; i++)
        d[i] *= scale;
    *e2 += e;
}

/* dx = d(relu(x * scale + shift))/dx applied to dy, where u is that
 * activation (its sign gives the ReLU's mask). */
static void affine_relu_backward(const unr_affine *f, const float *u, const float *dy, size_t pixels,
                                 int c, float *dx)
{
    for (size_t p = 0; p < pixels; p++)
        for (int k = 0; k < c; k++) {
            size_t i = p * c + k;
            dx[i] = u[i] > 0 ? dy[i] * f->scale[k] : 0.0f;
        }
}

/* The transpose of shortcut A (subsample + zero-pad): dy -> dx. */
static void shortcut_a_backward(const unr_block_info *bi, int n, const float *dy, float *dx)
{
    size_t in_count = (size_t)n * bi->h_in * bi->h_in * bi->cin;
    memset(dx, 0, in_count * sizeof *dx);
    int pad = (bi->cout - bi->cin) / 2, s = bi->stride;
    for (int i = 0; i < n; i++)
        for (int y = 0; y < bi->h_out; y++)
            for (int x = 0; x < bi->h_out; x++) {
                const float *src = dy + (((size_t)i * bi->h_out + y) * bi->h_out + x) * bi->cout + pad;
                float *dst = dx + (((size_t)i * bi->h_in + y * s) * bi->h_in + x * s) * bi->cin;
                memcpy(dst, src, (size_t)bi->cin * sizeof *dst);
            }
}

/* One pre-activation block backward, dy (its output) -> dx (its input): the
 * residual branch if active, else the shortcut. u = relu(bn1(x)) and the
 * branch's inner activation are recomputed from the saved input. */
static void preact_block_backward(unr_runner *r, int b, int n, int active, const float *dy,
                                  float *dx, float *dt)
{
    const unr_model *m = r->m;
    const unr_block_info *bi = &m->blocks[b];
    const unr_fblock *f = &m->fb[b];
    size_t in_px = (size_t)n * bi->h_in * bi->h_in;
    size_t out_count = (size_t)n * bi->h_out * bi->h_out * bi->cout;
    int proj = bi->downsample && m->bp[b].has_proj;
    if (!active && !bi->downsample) {
        memcpy(dx, dy, in_px * bi->cin * sizeof *dx);
        return;
    }
    if (!active && !proj) {
        shortcut_a_backward(bi, n, dy, dx);
        return;
    }
    float *u = r->act[3], *t = r->act[2];
    unr_affine_relu(&f->pre, r->saved[b], in_px, bi->cin, 1, u);
    if (active) {
        unr_conv_shape s1 = {n, bi->h_in, bi->h_in, bi->cin, bi->cout, 3, bi->stride};
        unr_epilogue ep = {f->c1.b, NULL, 1, 0};
        unr_conv_forward(r->ctx, &s1, u, f->c1.w, &ep, t);
        conv_data(r, &f->c2, n, bi->h_out, dy, dt, 0);
        relu_mask(dt, t, out_count);
        conv_data(r, &f->c1, n, bi->h_in, dt, dx, 0);
    } else {
        conv_data(r, &f->proj, n, bi->h_in, dy, dx, 0);
    }
    affine_relu_backward(&f->pre, u, dx, in_px, bi->cin, dx);
}

/* One post-activation block backward, dy (its output; masked here by the
 * ReLU after the sum) -> dx: the residual branch if active, else the
 * shortcut. The branch's inner activation is recomputed from the saved input. */
static void postact_block_backward(unr_runner *r, int b, int n, int active, float *dy, float *dx,
                                   float *dt)
{
    const unr_model *m = r->m;
    const unr_block_info *bi = &m->blocks[b];
    size_t out_count = (size_t)n * bi->h_out * bi->h_out * bi->cout;
    size_t in_count = (size_t)n * bi->h_in * bi->h_in * bi->cin;
    relu_mask(dy, r->saved[b + 1], out_count);
    if (active) {
        /* t = relu(bn1(conv1(x))) */
        unr_conv_shape s1 = {n, bi->h_in, bi->h_in, bi->cin, bi->cout, 3, bi->stride};
        unr_epilogue ep = {m->fb[b].c1.b, NULL, 1, 0};
        unr_conv_forward(r->ctx, &s1, r->saved[b], m->fb[b].c1.w, &ep, r->act[2]);
        conv_data(r, &m->fb[b].c2, n, bi->h_out, dy, dt, 0);
        relu_mask(dt, r->act[2], out_count);
        conv_data(r, &m->fb[b].c1, n, bi->h_in, dt, dx, 0);
    } else if (!bi->downsample) {
        memcpy(dx, dy, in_count * sizeof *dx);
    } else if (m->arch.shortcut == UNR_SHORTCUT_A) {
        shortcut_a_backward(bi, n, dy, dx);
    } else {
        conv_data(r, &m->fb[b].proj, n, bi->h_in, dy, dx, 0);
    }
}

/* Given the saved forward pass, the input-gradient norm with the residual
 * branch taken at blocks where active[b] and the shortcut elsewhere; the
 * gradient itself into grad (NHWC, the normalised input) unless NULL. */
static double path_backward(unr_runner *r, const uint8_t *labels, int n,
                            const unsigned char *active, float *grad)
{
    const unr_model *m = r->m;
    float *dy = r->grad[0], *dx = r->grad[1], *dt = r->grad[2];
    int e2 = 0;     /* the true gradient is the computed one times 2^e2 */
    head_backward(r, labels, n, dy);
    if (m->arch.head_bn) {
        /* through relu(bn(x)) before the pool; x is the last block's output */
        const unr_block_info *last = &m->blocks[m->num_blocks - 1];
        size_t px = (size_t)n * last->h_out * last->h_out;
        unr_affine_relu(&m->fhead, r->saved[m->num_blocks], px, last->cout, 1, r->act[3]);
        affine_relu_backward(&m->fhead, r->act[3], dy, px, last->cout, dy);
    }
    for (int b = m->num_blocks - 1; b >= 0; b--) {
        const unr_block_info *bi = &m->blocks[b];
        size_t in_count = (size_t)n * bi->h_in * bi->h_in * bi->cin;
        if (m->arch.preactivation)
            preact_block_backward(r, b, n, active[b], dy, dx, dt);
        else
            postact_block_backward(r, b, n, active[b], dy, dx, dt);
        if (active[b])
            keep_in_range(dx, in_count, &e2);
        float *tmp = dy;
        dy = dx, dx = tmp;
    }
    if (!m->arch.preactivation)   /* a pre-activation stem is a bare conv */
        relu_mask(dy, r->saved[0], (size_t)n * UNR_IMAGE_SIDE * UNR_IMAGE_SIDE * m->arch.stem_width);
    conv_data(r, &m->fstem, n, UNR_IMAGE_SIDE, dy, dx, 0);
    double ss = 0;
    for (size_t i = 0; i < (size_t)n * UNR_IMAGE_BYTES; i++) {
        ss += (double)dx[i] * dx[i];
        if (grad)
            grad[i] = (float)ldexp(dx[i], e2);
    }
    return ldexp(sqrt(ss), e2);
}

static unr_status check_paths(unr_runner *r, int n, unr_error *err)
{
    if (r->m->arch.shortcut == UNR_SHORTCUT_NONE)
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "paths: a plain network has a single path; "
                        "path statistics need shortcuts");
    if (n < 1 || n > r->max_batch)
        return unr_fail(err, UNR_ERR_RANGE, "paths: batch of %d is outside 1..%d", n, r->max_batch);
    return UNR_OK;
}

/* One forward of the batch, then one backward through the given path set:
 * the norm into *norm and the gradient into grad, each unless NULL. */
static unr_status one_path_set(unr_runner *r, const uint8_t *pixels, const uint8_t *labels, int n,
                               const unsigned char *active, double *norm, float *grad,
                               unr_error *err)
{
    unr_status st = check_paths(r, n, err);
    if (!st)
        st = forward_saving(r, pixels, n, err);
    if (!st) {
        double v = path_backward(r, labels, n, active, grad);
        if (norm)
            *norm = v;
    }
    return st;
}

unr_status unr_paths_gradient(unr_runner *r, const uint8_t *pixels, const uint8_t *labels,
                              int n, const unsigned char *active, double *norm, unr_error *err)
{
    return one_path_set(r, pixels, labels, n, active, norm, NULL, err);
}

unr_status unr_paths_gradient_vector(unr_runner *r, const uint8_t *pixels, const uint8_t *labels,
                                     int n, const unsigned char *active, float *grad, unr_error *err)
{
    return one_path_set(r, pixels, labels, n, active, NULL, grad, err);
}

unr_status unr_paths_sample(unr_runner *r, const unr_cifar *data, int batch, uint64_t seed,
                            int sample, double *norms, unr_error *err)
{
    const unr_model *m = r->m;
    int nb = m->num_blocks;
    unr_status st = check_paths(r, batch, err);
    if (st)
        return st;
    if (batch > data->n)
        return unr_fail(err, UNR_ERR_RANGE, "paths: batch %d is larger than the %d images", batch,
                        data->n);
    int *idx = malloc((size_t)(batch > nb ? batch : nb) * sizeof *idx);
    uint8_t *pixels = malloc((size_t)batch * UNR_IMAGE_BYTES), *labels = malloc((size_t)batch);
    unsigned char *active = malloc((size_t)nb);
    if (!idx || !pixels || !labels || !active) {
        st = unr_fail(err, UNR_ERR_NOMEM, "paths: out of memory");
        goto done;
    }
    unr_rng rng;
    unr_rng_seed_for(&rng, seed, TAG_PATH_BATCH, 0, (uint64_t)sample);
    unr_rng_choose(&rng, data->n, batch, idx);
    for (int i = 0; i < batch; i++) {
        memcpy(pixels + (size_t)i * UNR_IMAGE_BYTES, data->pixels + (size_t)idx[i] * UNR_IMAGE_BYTES,
               UNR_IMAGE_BYTES);
        labels[i] = data->labels[idx[i]];
    }
    st = forward_saving(r, pixels, batch, err);
    for (int k = 0; k <= nb && !st; k++) {
        unr_rng_seed_for(&rng, seed, TAG_PATH_BLOCKS, (uint64_t)k, (uint64_t)sample);
        unr_rng_choose(&rng, nb, k, idx);
        memset(active, 0, (size_t)nb);
        for (int i = 0; i < k; i++)
            active[idx[i]] = 1;
        norms[k] = path_backward(r, labels, batch, active, NULL);
    }
done:
    free(active);
    free(labels);
    free(pixels);
    free(idx);
    return st;
}

void unr_paths_result_free(unr_paths_result *res)
{
    free(res->distribution);
    free(res->grad_mean);
    free(res->grad_sd);
    free(res->total_share);
    free(res->norms);
    memset(res, 0, sizeof *res);
}

unr_status unr_path_stats(unr_runner *r, const unr_cifar *data, int samples, int batch,
                          uint64_t seed, double q, unr_progress_fn progress, void *user,
                          unr_paths_result *out, unr_error *err)
{
    int nb = r->m->num_blocks;
    memset(out, 0, sizeof *out);
    if (samples < 1 || samples > 1000000)
        return unr_fail(err, UNR_ERR_RANGE, "paths: samples %d is outside 1..1000000", samples);
    out->n = nb, out->samples = samples, out->batch = batch;
    out->distribution = malloc((size_t)(nb + 1) * sizeof(double));
    out->grad_mean = malloc((size_t)(nb + 1) * sizeof(double));
    out->grad_sd = malloc((size_t)(nb + 1) * sizeof(double));
    out->total_share = malloc((size_t)(nb + 1) * sizeof(double));
    double *norms = out->norms = malloc((size_t)(nb + 1) * samples * sizeof *norms);  /* [k][s] */
    double *one = malloc((size_t)(nb + 1) * sizeof *one);
    unr_status st = UNR_OK;
    if (!out->distribution || !out->grad_mean || !out->grad_sd || !out->total_share || !norms || !one)
        st = unr_fail(err, UNR_ERR_NOMEM, "paths: out of memory");
    for (int s = 0; s < samples && !st; s++) {
        st = unr_paths_sample(r, data, batch, seed, s, one, err);
        for (int k = 0; k <= nb && !st; k++)
            norms[(size_t)k * samples + s] = one[k];
        if (!st && progress && progress(user, s + 1, samples))
            st = unr_fail(err, UNR_ERR_CANCELLED, "paths: cancelled");
    }
    if (!st) {
        unr_path_distribution(nb, out->distribution);
        for (int k = 0; k <= nb; k++) {
            double lo, hi;
            unr_summarize(norms + (size_t)k * samples, samples, &out->grad_mean[k], &out->grad_sd[k],
                          &lo, &hi);
        }
        st = unr_effective_window(nb, out->grad_mean, q, &out->window, out->total_share, err);
    }
    free(one);
    if (st)
        unr_paths_result_free(out);
    return st;
}
