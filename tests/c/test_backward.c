

/* test_backward.c: every backward pass against central finite differences.
 * Losses are sums of fixed random weights times the outputs (so every output
 * element matters), accumulated in double. */
#include "testing.h"
#include "train_ops.h"
#include "trainer.h"

static unr_ctx *ctx;

/* Step for the whole-network checks. ReLU kinks make the loss only piecewise
 * smooth, and larger steps cross many of them (measured: the directional
 * error falls from 12% at 1e-2 to under 1% at 1e-4), while float noise in
 * the loss (~1e-7 relative) stays well below 1e-3 of the signal. */
#define DIR_H 1e-4f

static float frand(unr_rng *r) { return (float)(2.0 * unr_rng_uniform(r) - 1.0); }

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* |analytic - numeric| <= rel * max(|analytic|, |numeric|) + abs */
static int close_enough(double g, double fd, double rel, double abs_tol)
{
    double scale = fabs(g) > fabs(fd) ? fabs(g) : fabs(fd);
    return fabs(g - fd) <= rel * scale + abs_tol;
}

/* ---- batch norm ---- */

static double bn_loss(const float *u, long rows, int c, const float *gamma, const float *beta,
                      const float *w)
{
    float mean[8], istd[8], *v = malloc((size_t)rows * c * sizeof *v);
    unr_bn_train_forward(ctx, u, rows, c, gamma, beta, 1e-5f, 0.1f, NULL, NULL, mean, istd, NULL, 0, v);
    double l = dot(v, w, (size_t)rows * c);
    free(v);
    return l;
}

static void bn_backward_matches_finite_differences(void)
{
    enum { ROWS = 37, C = 5 };
    unr_rng r;
    unr_rng_seed(&r, 1);
    float u[ROWS * C], w[ROWS * C], gamma[C], beta[C], v[ROWS * C], mean[C], istd[C];
    float du[ROWS * C], dg[C] = {0}, db[C] = {0};
    for (int i = 0; i < ROWS * C; i++)
        u[i] = 3 * frand(&r) + 1, w[i] = frand(&r);
    for (int k = 0; k < C; k++)
        gamma[k] = 1 + frand(&r) / 2, beta[k] = frand(&r);
    unr_bn_train_forward(ctx, u, ROWS, C, gamma, beta, 1e-5f, 0.1f, NULL, NULL, mean, istd, NULL, 0, v);
    unr_bn_train_backward(ctx, u, w, NULL, ROWS, C, gamma, mean, istd, du, dg, db);
    const float h = 1e-2f;
    for (int i = 0; i < ROWS * C; i += 7) {
        float keep = u[i];
        u[i] = keep + h;
        double lp = bn_loss(u, ROWS, C, gamma, beta, w);
        u[i] = keep - h;
        double lm = bn_loss(u, ROWS, C, gamma, beta, w);
        u[i] = keep;
        CHECK(close_enough(du[i], (lp - lm) / (2 * h), 2e-2, 2e-3));
    }
    for (int k = 0; k < C; k++) {
        float keep = gamma[k];
        gamma[k] = keep + h;
        double lp = bn_loss(u, ROWS, C, gamma, beta, w);
        gamma[k] = keep - h;
        double lm = bn_loss(u, ROWS, C, gamma, beta, w);
        gamma[k] = keep;
        CHECK(close_enough(dg[k], (lp - lm) / (2 * h), 1e-2, 2e-3));
        keep = beta[k];
        beta[k] = keep + h;
        lp = bn_loss(u, ROWS, C, gamma, beta, w);
        beta[k] = keep - h;
        lm = bn_loss(u, ROWS, C, gamma, beta, w);
        beta[k] = keep;
        CHECK(close_enough(db[k], (lp - lm) / (2 * h), 1e-2, 2e-3));
    }
}

static void bn_running_statistics_follow_pytorch(void)
{
    /* rows 0..3 of one channel: mean 1.5, biased var 1.25, unbiased 5/3 */
    float u[4] = {0, 1, 2, 3}, gamma = 1, beta = 0, rm = 0, rv = 1, mean, istd, v[4];
    unr_bn_train_forward(ctx, u, 4, 1, &gamma, &beta, 1e-5f, 0.1f, &rm, &rv, &mean, &istd, NULL, 0, v);
    CHECK_NEAR(mean, 1.5, 1e-6);
    CHECK_NEAR(istd, 1 / sqrt(1.25 + 1e-5), 1e-6);
    CHECK_NEAR(rm, 0.15, 1e-6);
    CHECK_NEAR(rv, 0.9 + 0.1 * 5.0 / 3.0, 1e-6);
}

/* The per-channel sums run in blocks of rows, four channels at a time, over
 * threads: on a shape with many blocks, odd row counts, a channel tail and a
 * ReLU mask, forward and backward must match the textbook formulas in double. */
static void bn_sums_match_a_double_reference_on_a_large_shape(void)
{
    enum { ROWS = 4099, C = 13 };
    unr_rng r;
    unr_rng_seed(&r, 7);
    float *u = malloc(sizeof(float) * ROWS * C), *dv = malloc(sizeof(float) * ROWS * C);
    float *mk = malloc(sizeof(float) * ROWS * C), *v = malloc(sizeof(float) * ROWS * C);
    float *du = malloc(sizeof(float) * ROWS * C);
    float gamma[C], beta[C], mean[C], istd[C], dg[C] = {0}, db[C] = {0};
    for (int i = 0; i < ROWS * C; i++) {
        u[i] = 5 * frand(&r) + 20;      /* an offset mean tests the centring */
        dv[i] = frand(&r);
        mk[i] = frand(&r);              /* the gate: dv counts where mk > 0 */
    }
    for (int k = 0; k < C; k++)
        gamma[k] = 1 + frand(&r) / 2, beta[k] = frand(&r);
    unr_bn_train_forward(ctx, u, ROWS, C, gamma, beta, 1e-5f, 0.1f, NULL, NULL, mean, istd, NULL, 0, v);
    unr_bn_train_backward(ctx, u, dv, mk, ROWS, C, gamma, mean, istd, du, dg, db);
    for (int k = 0; k < C; k++) {
        double m = 0, var = 0, sd = 0, sdx = 0;
        for (long i = 0; i < ROWS; i++)
            m += u[i * C + k];
        m /= ROWS;
        for (long i = 0; i < ROWS; i++)
            var += (u[i * C + k] - m) * (u[i * C + k] - m);
        var /= ROWS;
        const double is = 1 / sqrt(var + 1e-5);
        for (long i = 0; i < ROWS; i++) {
            const double d = mk[i * C + k] > 0 ? dv[i * C + k] : 0;
            sd += d;
            sdx += d * (u[i * C + k] - m) * is;
        }
        CHECK_NEAR(mean[k], m, 1e-5 * fabs(m));
        CHECK_NEAR(istd[k], is, 1e-5 * is);
        CHECK_NEAR(db[k], sd, 1e-4);
        CHECK_NEAR(dg[k], sdx, 1e-4);
        for (long i = 0; i < ROWS; i += 97) {
            const double xh = (u[i * C + k] - m) * is;
            const double d = mk[i * C + k] > 0 ? dv[i * C + k] : 0;
            CHECK_NEAR(v[i * C + k], gamma[k] * xh + beta[k], 1e-4);
            CHECK_NEAR(du[i * C + k], gamma[k] * is * (d - sd / ROWS - xh * sdx / ROWS), 1e-5);
        }
    }
    free(u); free(dv); free(mk); free(v); free(du);
}

/* ---- loss, pooling, shortcut A ---- */

static void softmax_xent_gradient_matches_finite_differences(void)
{
    enum { N = 4, K = 10 };
    unr_rng r;
    unr_rng_seed(&r, 2);
    float z[N * K], dz[N * K];
    uint8_t labels[N] = {0, 3, 9, 3};
    for (int i = 0; i < N * K; i++)
        z[i] = 2 * frand(&r);
    for (int ls = 0; ls < 2; ls++) {
        float eps = ls ? 0.1f : 0.0f;
        unr_softmax_xent(z, labels, N, K, eps, dz, NULL);
        for (int i = 0; i < N * K; i++) {
            const float h = 1e-3f;
            float keep = z[i];
            z[i] = keep + h;
            double lp = unr_softmax_xent(z, labels, N, K, eps, NULL, NULL);
            z[i] = keep - h;
            double lm = unr_softmax_xent(z, labels, N, K, eps, NULL, NULL);
            z[i] = keep;
            CHECK(close_enough(dz[i], (lp - lm) / (2 * h), 1e-2, 1e-5));
        }
    }
}

static void avgpool_and_shortcut_a_backward_are_adjoints(void)
{
    /* For linear maps, backward must be the transpose: <A x, y> = <x, A^T y>. */
    enum { N = 2, H = 6, CIN = 4, COUT = 8 };
    unr_rng r;
    unr_rng_seed(&r, 3);
    static float x[N * H * H * CIN], dx[N * H * H * CIN], y[N * H * H * COUT], dy[N * H * H * COUT];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x[i] = frand(&r);
    for (size_t i = 0; i < sizeof dy / sizeof *dy; i++)
        dy[i] = frand(&r);
    for (int stride = 1; stride <= 2; stride++) {
        int ho = stride == 2 ? 3 : H, cout = stride == 2 ? COUT : CIN;
        size_t ny = (size_t)N * ho * ho * cout;
        unr_shortcut_a(x, N, H, CIN, stride, cout, y);
        memset(dx, 0, sizeof dx);
        unr_shortcut_a_backward(dy, N, H, CIN, stride, cout, dx);
        CHECK_NEAR(dot(y, dy, ny), dot(x, dx, sizeof x / sizeof *x), 1e-4);
    }
    float pooled[N * CIN], dpooled[N * CIN];
    for (int i = 0; i < N * CIN; i++)
        dpooled[i] = frand(&r);
    unr_avgpool_forward(x, N, H * H, CIN, pooled);
    unr_avgpool_backward(dpooled, N, H * H, CIN, dx);
    CHECK_NEAR(dot(pooled, dpooled, N * CIN), dot(x, dx, sizeof x / sizeof *x), 1e-4);
}

/* ---- a whole tiny network ---- */

/* arch: six blocks in all (the active set below has six entries). */
static void whole_network_gradient(unr_arch arch, int use_active)
{
    unr_model *m;
    unr_trainer *t;
    unr_error err;
    CHECK_OK(unr_model_init_random(&arch, 11, &m, &err), err);
    /* Non-trivial batch-norm parameters, so their gradients are tested too. */
    unr_rng r;
    unr_rng_seed(&r, 5);
    for (int i = 0; i < m->num_tensors; i++)
        if (m->tensors[i].kind == UNR_T_BN_WEIGHT || m->tensors[i].kind == UNR_T_BN_BIAS)
            for (size_t j = 0; j < m->tensors[i].count; j++)
                m->tensors[i].data[j] += 0.3f * frand(&r);
    CHECK_OK(unr_trainer_create(m, 4, 1, UNR_ISA_SCALAR, &t, &err), err);
    enum { N = 4 };
    float *input = malloc((size_t)N * UNR_IMAGE_BYTES * sizeof *input);
    uint8_t labels[N] = {1, 7, 3, 3};
    for (int i = 0; i < N * UNR_IMAGE_BYTES; i++)
        input[i] = frand(&r);
    unsigned char active[6] = {1, 0, 1, 1, 0, 1};
    const unsigned char *act = use_active ? active : NULL;
    unr_trainer_backprop(t, input, labels, N, act, 0.1f, 0, NULL);
    float *g = malloc(m->num_params * sizeof *g);
    memcpy(g, unr_trainer_grads(t), m->num_params * sizeof *g);
    int checked = 0, bad = 0;
    for (int ti = 0; ti < m->num_tensors; ti++) {
        unr_tensor *tn = &m->tensors[ti];
        if (tn->kind == UNR_T_BN_MEAN || tn->kind == UNR_T_BN_VAR)
            continue;
        /* three elements of every trainable tensor */
        for (int s = 0; s < 3; s++) {
            size_t j = (size_t)unr_rng_below(&r, (uint32_t)tn->count);
            float *p = &tn->data[j];
            float keep = *p, h = DIR_H;
            *p = keep + h;
            double lp = unr_trainer_backprop(t, input, labels, N, act, 0.1f, 0, NULL);
            *p = keep - h;
            double lm = unr_trainer_backprop(t, input, labels, N, act, 0.1f, 0, NULL);
            *p = keep;
            double fd = (lp - lm) / (2 * h), an = g[p - m->params];
            checked++;
            if (!close_enough(an, fd, 5e-2, 1e-3)) {
                bad++;
                fprintf(stderr, "  %s[%zu]: backprop %.6g, finite difference %.6g\n", tn->name, j,
                        an, fd);
            }
        }
    }
    /* A ReLU kink crossed by +-h can spoil an odd element; allow at most 5%. */
    CHECK(bad * 20 <= checked);
    /* The directional derivative along a random direction of all trainable
     * parameters: kinks average out, so this check is tight. */
    float *dir = calloc(m->num_params, sizeof *dir), *base = malloc(m->num_params * sizeof *base);
    double gd = 0;
    memcpy(base, m->params, m->num_params * sizeof *base);
    for (int ti = 0; ti < m->num_tensors; ti++) {
        unr_tensor *tn = &m->tensors[ti];
        if (tn->kind == UNR_T_BN_MEAN || tn->kind == UNR_T_BN_VAR)
            continue;
        for (size_t j = 0; j < tn->count; j++) {
            size_t at = (size_t)(tn->data - m->params) + j;
            dir[at] = frand(&r);
            gd += (double)dir[at] * g[at];
        }
    }
    double lpm[2];
    for (int sgn = 0; sgn < 2; sgn++) {
        for (size_t i = 0; i < m->num_params; i++)
            m->params[i] = base[i] + (sgn ? -DIR_H : DIR_H) * dir[i];
        lpm[sgn] = unr_trainer_backprop(t, input, labels, N, act, 0.1f, 0, NULL);
    }
    memcpy(m->params, base, m->num_params * sizeof *base);
    double fd_dir = (lpm[0] - lpm[1]) / (2 * DIR_H);
    free(dir);
    free(base);
    if (!close_enough(gd, fd_dir, 3e-2, 1e-4))
        fprintf(stderr, "  directional: backprop %.6g, finite difference %.6g\n", gd, fd_dir);
    CHECK(close_enough(gd, fd_dir, 3e-2, 1e-4));
    if (use_active) {
        /* Inactive blocks' residual branches get no gradient at all. */
        for (int ti = 0; ti < m->num_tensors; ti++) {
            int b;
            if (sscanf(m->tensors[ti].name, "blocks.%d.", &b) == 1 && !active[b] &&
                !strstr(m->tensors[ti].name, "shortcut") &&
                /* a pre-activation bn1 also feeds the projection */
                !(m->arch.preactivation && m->bp[b].has_proj && strstr(m->tensors[ti].name, ".bn1.")))
                for (size_t j = 0; j < m->tensors[ti].count; j++)
                    CHECK(g[m->tensors[ti].data + j - m->params] == 0.0f);
        }
    }
    free(g);
    free(input);
    unr_trainer_free(t);
    unr_model_free(m);
}

static unr_arch two_per_stage(unr_shortcut sc, int w0, int w1, int w2)
{
    return (unr_arch){.blocks_per_stage = 2, .widths = {w0, w1, w2}, .shortcut = sc,
                      .num_classes = 10, .bn_eps = 1e-5f};
}

static void network_gradient_shortcut_a(void)
{
    whole_network_gradient(two_per_stage(UNR_SHORTCUT_A, 4, 6, 8), 0);
}

static void network_gradient_shortcut_b(void)
{
    whole_network_gradient(two_per_stage(UNR_SHORTCUT_B, 3, 5, 7), 0);
}

static void network_gradient_plain(void)
{
    whole_network_gradient(two_per_stage(UNR_SHORTCUT_NONE, 3, 5, 7), 0);
}

static void network_gradient_with_inactive_blocks(void)
{
    whole_network_gradient(two_per_stage(UNR_SHORTCUT_A, 4, 6, 8), 1);
}

/* Pre-activation blocks: a projection reading relu(bn1(x)), a stem narrower
 * than the first stage, a batch norm before the pool; option A with
 * inactive blocks; a plain net. Six blocks each. */
static void network_gradient_preactivation(void)
{
    unr_arch a = {.blocks_per_stage = 2, .widths = {4, 6, 8}, .shortcut = UNR_SHORTCUT_B,
                  .num_classes = 10, .bn_eps = 1e-5f, .preactivation = 1, .head_bn = 1,
                  .stem_width = 3};
    whole_network_gradient(a, 0);
    whole_network_gradient(a, 1);
    a.shortcut = UNR_SHORTCUT_A, a.stem_width = 0, a.head_bn = 0;
    whole_network_gradient(a, 0);
    a.widths[0] = 3, a.widths[1] = 5, a.widths[2] = 7;
    whole_network_gradient(a, 1);
    a.shortcut = UNR_SHORTCUT_NONE, a.head_bn = 1;
    whole_network_gradient(a, 0);
}

/* Four stages down to 4x4 maps, 2/1/1/2 blocks (ResNet-18's layout, narrow). */
static void network_gradient_four_stages(void)
{
    unr_arch a = {.shortcut = UNR_SHORTCUT_B, .num_classes = 10, .bn_eps = 1e-5f, .num_stages = 4,
                  .stage_blocks = {2, 1, 1, 2}, .widths = {4, 6, 8, 10}};
    whole_network_gradient(a, 0);
    a.shortcut = UNR_SHORTCUT_A;
    whole_network_gradient(a, 1);
}

static void setup(void) { ctx = unr_ctx_create(2, UNR_ISA_SCALAR); }
static void teardown(void) { unr_ctx_destroy(ctx); }

TEST_MAIN(TEST_CASE(setup),
          TEST_CASE(bn_backward_matches_finite_differences),
          TEST_CASE(bn_running_statistics_follow_pytorch),
          TEST_CASE(bn_sums_match_a_double_reference_on_a_large_shape),
          TEST_CASE(softmax_xent_gradient_matches_finite_differences),
          TEST_CASE(avgpool_and_shortcut_a_backward_are_adjoints),
          TEST_CASE(network_gradient_shortcut_a),
          TEST_CASE(network_gradient_shortcut_b),
          TEST_CASE(network_gradient_plain),
          TEST_CASE(network_gradient_with_inactive_blocks),
          TEST_CASE(network_gradient_four_stages),
          TEST_CASE(network_gradient_preactivation),
          TEST_CASE(teardown))
