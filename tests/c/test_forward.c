/* test_forward.c: the forward pass against an independent reference.
 *
 * The reference below shares nothing with net.c or the kernels: it reads the
 * saved model file (PyTorch layout: conv OIHW, linear [out][in], batch norm
 * unfolded) and runs the network per image in NCHW, in double precision,
 * with direct convolution loops and batch norm applied from the raw running
 * statistics. Batch-norm parameters are randomised first, so folding is
 * really exercised. */
#define _POSIX_C_SOURCE 200809L
#include "cJSON.h"
#include "internal.h"
#include "testing.h"
#define FIXTURES_TEMP_NAME "unr_test_forward"
#include "fixtures.h"

/* ---- the reference network, from the file ---- */

typedef struct {
    cJSON *root;
    unsigned char *bin;
    size_t bin_len;
    int stages, nb, blocks[UNR_MAX_STAGES], w[UNR_MAX_STAGES];  /* nb: blocks in all */
    int stem_w, pre, head_bn;   /* pre-activation blocks; batch norm + ReLU before the pool */
    unr_shortcut sc;
    double eps, mean[3], std[3];
} ref_net;

/* Tensor `name` from the file, as float32 (PyTorch layout). */
static const float *ref_t(const ref_net *r, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r->root, "tensors"))
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
            return (const float *)(r->bin + (size_t)cJSON_GetObjectItem(e, "offset")->valuedouble);
    fprintf(stderr, "reference: no tensor %s\n", name);
    abort();
}

/* Save m and read the files back as a reference network. */
static int ref_open(const unr_model *m, const char *name, ref_net *r)
{
    memset(r, 0, sizeof *r);
    model_bytes b;
    save_bytes(m, name, &b); /* what it could not read stays NULL, checked below */
    r->root = b.json ? cJSON_Parse(b.json) : NULL;
    free(b.json);
    r->bin = b.bin;
    r->bin_len = b.bin_len;
    if (!r->root || !r->bin)
        return 0;
    const cJSON *a = cJSON_GetObjectItem(r->root, "arch");
    /* widths: one per stage; blocks_per_stage: one count, or one per stage */
    const cJSON *widths = cJSON_GetObjectItem(a, "widths"), *bps = cJSON_GetObjectItem(a, "blocks_per_stage");
    r->stages = cJSON_GetArraySize(widths);
    r->nb = 0;
    for (int s = 0; s < r->stages; s++) {
        r->w[s] = cJSON_GetArrayItem(widths, s)->valueint;
        r->blocks[s] = cJSON_IsArray(bps) ? cJSON_GetArrayItem(bps, s)->valueint : bps->valueint;
        r->nb += r->blocks[s];
    }
    const cJSON *sw = cJSON_GetObjectItem(a, "stem_width");
    r->stem_w = sw ? sw->valueint : r->w[0];
    r->pre = cJSON_IsTrue(cJSON_GetObjectItem(a, "preactivation"));
    r->head_bn = cJSON_IsTrue(cJSON_GetObjectItem(a, "head_bn"));
    unr_shortcut_parse(cJSON_GetObjectItem(a, "shortcut")->valuestring, &r->sc);
    r->eps = cJSON_GetObjectItem(a, "bn_eps")->valuedouble;
    const cJSON *in = cJSON_GetObjectItem(r->root, "input");
    for (int c = 0; c < 3; c++) {
        r->mean[c] = cJSON_GetArrayItem(cJSON_GetObjectItem(in, "mean"), c)->valuedouble;
        r->std[c] = cJSON_GetArrayItem(cJSON_GetObjectItem(in, "std"), c)->valuedouble;
    }
    return 1;
}

static void ref_close(ref_net *r)
{
    cJSON_Delete(r->root);
    free(r->bin);
    memset(r, 0, sizeof *r);
}

/* y[co][ho][ho] = sum over ci, ky, kx of w[co][ci][ky][kx] * x[ci][iy][ix],
 * zero padding (k-1)/2. Returns ho. */
static int ref_conv(const double *x, int ci, int h, const float *w, int co, int k, int stride,
                    double *y)
{
    int pad = (k - 1) / 2, ho = (h + 2 * pad - k) / stride + 1;
    for (int o = 0; o < co; o++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < ho; ox++) {
                double acc = 0;
                for (int i = 0; i < ci; i++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= h)
                                continue;
                            acc += (double)w[((o * ci + i) * k + ky) * k + kx] *
                                   x[((size_t)i * h + iy) * h + ix];
                        }
                y[((size_t)o * ho + oy) * ho + ox] = acc;
            }
    return ho;
}

/* Batch norm with running statistics, from the raw tensors PREFIX.*. */
static void ref_bn(const ref_net *r, const char *prefix, double *x, int c, int hw)
{
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const float *g = ref_t(r, name);
    snprintf(name, sizeof name, "%s.bias", prefix);
    const float *b = ref_t(r, name);
    snprintf(name, sizeof name, "%s.running_mean", prefix);
    const float *mu = ref_t(r, name);
    snprintf(name, sizeof name, "%s.running_var", prefix);
    const float *var = ref_t(r, name);
    for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < hw; p++) {
            double *v = &x[(size_t)ch * hw + p];
            *v = (*v - mu[ch]) / sqrt((double)var[ch] + r->eps) * g[ch] + b[ch];
        }
}

static void ref_relu(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
}

#define REF_MAX (64 * 32 * 32)

/* One block, x[cin][h][h] -> y[cout][ho][ho]; returns ho. */
static int ref_block(const ref_net *r, int b, int deleted, const double *x, int h, double *y)
{
    int s = 0, idx = b;
    while (idx >= r->blocks[s])
        idx -= r->blocks[s++];
    int cout = r->w[s], cin = idx ? r->w[s] : s ? r->w[s - 1] : r->stem_w;
    int stride = s > 0 && idx == 0 ? 2 : 1;
    int down = stride == 2 || cin != cout;
    int ho = (h - 1) / stride + 1;
    size_t out = (size_t)cout * ho * ho;
    char name[96];
    /* The shortcut, into sc (or none). */
    static double sc[REF_MAX], t[REF_MAX];
    int have_sc = 1;
    if (r->sc == UNR_SHORTCUT_NONE) {
        /* No skip; deleting (allowed where shapes match) passes x through. */
        have_sc = 0;
        if (deleted && !down)
            memcpy(sc, x, out * sizeof *sc);
    } else if (!down) {
        memcpy(sc, x, out * sizeof *sc);
    } else if (r->sc == UNR_SHORTCUT_A) {
        /* x[:, ::2, ::2], then (cout - cin)/2 zero channels before and after. */
        int pad = (cout - cin) / 2;
        for (size_t i = 0; i < out; i++)
            sc[i] = 0;
        for (int c = 0; c < cin; c++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < ho; ox++)
                    sc[((size_t)(c + pad) * ho + oy) * ho + ox] =
                        x[((size_t)c * h + oy * stride) * h + ox * stride];
    } else if (r->sc == UNR_SHORTCUT_B) {
        snprintf(name, sizeof name, "blocks.%d.shortcut.conv.weight", b);
        ref_conv(x, cin, h, ref_t(r, name), cout, 1, stride, sc);
        snprintf(name, sizeof name, "blocks.%d.shortcut.bn", b);
        ref_bn(r, name, sc, cout, ho * ho);
    }
    if (deleted) {
        /* The residual branch is gone: relu(shortcut(x)); plain: x itself. */
        if (!have_sc && (r->sc != UNR_SHORTCUT_NONE || down))
            abort();   /* the plan forbids it */
        memcpy(y, sc, out * sizeof *y);
        ref_relu(y, out);
        return ho;
    }
    snprintf(name, sizeof name, "blocks.%d.conv1.weight", b);
    ref_conv(x, cin, h, ref_t(r, name), cout, 3, stride, t);
    snprintf(name, sizeof name, "blocks.%d.bn1", b);
    ref_bn(r, name, t, cout, ho * ho);
    ref_relu(t, out);
    snprintf(name, sizeof name, "blocks.%d.conv2.weight", b);
    ref_conv(t, cout, ho, ref_t(r, name), cout, 3, 1, y);
    snprintf(name, sizeof name, "blocks.%d.bn2", b);
    ref_bn(r, name, y, cout, ho * ho);
    for (size_t i = 0; have_sc && i < out; i++)
        y[i] += sc[i];
    ref_relu(y, out);
    return ho;
}

/* One pre-activation block: u = relu(bn1(x)); y = shortcut + conv2(relu(bn2(conv1(u)))),
 * the projection reading u, identity and option A reading x; no ReLU after
 * the sum. Deleted: y = shortcut (x for a plain block). */
static int ref_block_pre(const ref_net *r, int b, int deleted, const double *x, int h, double *y)
{
    int s = 0, idx = b;
    while (idx >= r->blocks[s])
        idx -= r->blocks[s++];
    int cout = r->w[s], cin = idx ? r->w[s] : s ? r->w[s - 1] : r->stem_w;
    int stride = s > 0 && idx == 0 ? 2 : 1;
    int down = stride == 2 || cin != cout;
    int ho = (h - 1) / stride + 1;
    size_t out = (size_t)cout * ho * ho, in = (size_t)cin * h * h;
    static double u[REF_MAX], sc[REF_MAX], t[REF_MAX];
    char name[96];
    memcpy(u, x, in * sizeof *u);
    snprintf(name, sizeof name, "blocks.%d.bn1", b);
    ref_bn(r, name, u, cin, h * h);
    ref_relu(u, in);
    int have_sc = r->sc != UNR_SHORTCUT_NONE || deleted;
    if (!down) {
        memcpy(sc, x, out * sizeof *sc);
    } else if (r->sc == UNR_SHORTCUT_A) {
        int pad = (cout - cin) / 2;
        for (size_t i = 0; i < out; i++)
            sc[i] = 0;
        for (int c = 0; c < cin; c++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < ho; ox++)
                    sc[((size_t)(c + pad) * ho + oy) * ho + ox] =
                        x[((size_t)c * h + oy * stride) * h + ox * stride];
    } else if (r->sc == UNR_SHORTCUT_B) {
        snprintf(name, sizeof name, "blocks.%d.shortcut.conv.weight", b);
        ref_conv(u, cin, h, ref_t(r, name), cout, 1, stride, sc);
    } else if (deleted) {
        abort();   /* a plain downsampling block cannot be deleted */
    }
    if (deleted) {
        memcpy(y, sc, out * sizeof *y);
        return ho;
    }
    snprintf(name, sizeof name, "blocks.%d.conv1.weight", b);
    ref_conv(u, cin, h, ref_t(r, name), cout, 3, stride, t);
    snprintf(name, sizeof name, "blocks.%d.bn2", b);
    ref_bn(r, name, t, cout, ho * ho);
    ref_relu(t, out);
    snprintf(name, sizeof name, "blocks.%d.conv2.weight", b);
    ref_conv(t, cout, ho, ref_t(r, name), cout, 3, 1, y);
    for (size_t i = 0; have_sc && i < out; i++)
        y[i] += sc[i];
    return ho;
}

/* Logits of one record-layout image under (order, deleted); NULL = identity. */
static void ref_forward_input(const ref_net *r, const double *x, const int *order,
                              const unsigned char *deleted, double logits[10]);

static void ref_forward(const ref_net *r, const uint8_t *img, const int *order,
                        const unsigned char *deleted, double logits[10])
{
    double x[3 * 32 * 32];
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 1024; p++)
            x[c * 1024 + p] = (img[c * 1024 + p] / 255.0 - r->mean[c]) / r->std[c];
    ref_forward_input(r, x, order, deleted, logits);
}

/* The same from the normalised input x[3][32][32]. */
static void ref_forward_input(const ref_net *r, const double *x, const int *order,
                              const unsigned char *deleted, double logits[10])
{
    static double a[REF_MAX], b[REF_MAX];
    int h = ref_conv(x, 3, 32, ref_t(r, "stem.conv.weight"), r->stem_w, 3, 1, a);
    if (!r->pre) {   /* a pre-activation stem is a bare conv */
        ref_bn(r, "stem.bn", a, r->stem_w, h * h);
        ref_relu(a, (size_t)r->stem_w * h * h);
    }
    double *cur = a, *nxt = b;
    for (int pos = 0; pos < r->nb; pos++) {
        int blk = order ? order[pos] : pos;
        int del = deleted ? deleted[blk] : 0;
        h = r->pre ? ref_block_pre(r, blk, del, cur, h, nxt) : ref_block(r, blk, del, cur, h, nxt);
        double *tmp = cur;
        cur = nxt, nxt = tmp;
    }
    int c = r->w[r->stages - 1];
    if (r->head_bn) {
        ref_bn(r, "head.bn", cur, c, h * h);
        ref_relu(cur, (size_t)c * h * h);
    }
    const float *fw = ref_t(r, "fc.weight"), *fb = ref_t(r, "fc.bias");
    for (int j = 0; j < 10; j++) {
        double acc = fb[j];
        for (int k = 0; k < c; k++) {
            double pooled = 0;
            for (int p = 0; p < h * h; p++)
                pooled += cur[(size_t)k * h * h + p];
            acc += fw[j * c + k] * pooled / (h * h);
        }
        logits[j] = acc;
    }
}

/* ---- fixtures ---- */

/* A random model whose batch norms are far from the identity. */
static unr_model *random_model_arch(const unr_arch *a, uint64_t seed)
{
    unr_model *m = init_model(a, seed);
    if (!m)
        return NULL;
    unr_rng rng;
    unr_rng_seed(&rng, seed * 31 + 7);
    for (int i = 0; i < m->num_tensors; i++) {
        unr_tensor *t = &m->tensors[i];
        for (size_t j = 0; j < t->count; j++) {
            double u = unr_rng_uniform(&rng);
            switch (t->kind) {
            case UNR_T_BN_WEIGHT: t->data[j] = (float)(u < 0.1 ? -0.5 - u : 0.5 + u); break;
            case UNR_T_BN_BIAS: t->data[j] = (float)(u - 0.5); break;
            case UNR_T_BN_MEAN: t->data[j] = (float)(u - 0.5); break;
            case UNR_T_BN_VAR: t->data[j] = (float)(0.2 + 2 * u); break;
            case UNR_T_FC_BIAS: t->data[j] = (float)(u - 0.5); break;
            default: break;
            }
        }
    }
    unr_model_refold(m);
    return m;
}

static unr_model *random_model(unr_shortcut sc, int n, int w0, int w1, int w2, uint64_t seed)
{
    unr_arch a = tiny_arch(sc, n, w0, w1, w2);
    return random_model_arch(&a, seed);
}

static uint8_t *random_images(int n, uint64_t seed)
{
    uint8_t *px = malloc((size_t)n * UNR_IMAGE_BYTES);
    random_pixels(px, NULL, n, seed);
    /* Image 1 is smooth, closer to a photograph than noise. */
    if (n > 1)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    px[UNR_IMAGE_BYTES + c * 1024 + y * 32 + x] = (uint8_t)(4 * x + 3 * y + 20 * c);
    return px;
}

/* Logits agree to 1e-4 relative to the image's largest logit. */
static int logits_match(const float *got, const double *want, const char *what, int image)
{
    double scale = 1;
    for (int j = 0; j < 10; j++)
        scale = fabs(want[j]) > scale ? fabs(want[j]) : scale;
    for (int j = 0; j < 10; j++)
        if (!(fabs(got[j] - want[j]) <= 1e-4 * scale)) {
            fprintf(stderr, "  %s, image %d, logit %d: got %.9g, reference %.9g\n", what, image, j,
                    (double)got[j], want[j]);
            return 0;
        }
    return 1;
}

/* Compare unr_forward_pixels on m (with every ISA and 1 or 2 threads)
 * against the reference from its saved file, under a plan. */
static int matches_reference(unr_model *m, const char *name, const int *order,
                             const unsigned char *deleted)
{
    ref_net r;
    if (!ref_open(m, name, &r))
        return 0;
    enum { N = 3 };
    uint8_t *px = random_images(N, 11);
    double want[N][10];
    for (int i = 0; i < N; i++)
        ref_forward(&r, px + (size_t)i * UNR_IMAGE_BYTES, order, deleted, want[i]);
    unr_plan *p = unr_plan_create(m);
    if (order)
        memcpy(p->order, order, (size_t)p->num_blocks * sizeof *order);
    if (deleted)
        memcpy(p->deleted, deleted, (size_t)p->num_blocks);
    int ok = 1;
    const unr_isa isas[] = {UNR_ISA_SCALAR, UNR_ISA_AUTO};
    for (int ii = 0; ii < 2 && ok; ii++)
        for (int threads = 1; threads <= 2 && ok; threads++) {
            unr_runner *run;
            unr_error err;
            float got[N][10];
            if (unr_runner_create(m, N, threads, isas[ii], &run, &err) ||
                unr_forward_pixels(run, p, px, N, &got[0][0], &err)) {
                fprintf(stderr, "  %s: %s\n", name, err.message);
                ok = 0;
                break;
            }
            char what[128];
            snprintf(what, sizeof what, "%s (%s, %d threads)", name,
                     unr_isa_name(unr_runner_isa(run)), threads);
            for (int i = 0; i < N && ok; i++)
                ok = logits_match(got[i], want[i], what, i);
            unr_runner_free(run);
        }
    /* The same model, loaded back from its files, agrees too. */
    char path[300];
    snprintf(path, sizeof path, "%s/%s.json", temp_dir(), name);
    unr_model *back = NULL;
    unr_runner *run = NULL;
    unr_error err;
    float got[N][10];
    if (ok && (unr_model_load_file(path, &back, &err) ||
               unr_runner_create(back, N, 1, UNR_ISA_AUTO, &run, &err) ||
               unr_forward_pixels(run, p, px, N, &got[0][0], &err))) {
        fprintf(stderr, "  %s loaded back: %s\n", name, err.message);
        ok = 0;
    }
    for (int i = 0; i < N && ok; i++)
        ok = logits_match(got[i], want[i], "loaded back", i);
    unr_runner_free(run);
    unr_model_free(back);
    unr_plan_free(p);
    free(px);
    ref_close(&r);
    return ok;
}

/* The model under a plan that deletes every deletable block of the given
 * parity (and block 0 too if asked) and swaps the first swappable adjacent
 * pair of one stage, against the reference under the same plan. */
static int lesioned_matches_reference(unr_model *m, const char *name, int parity, int delete_first)
{
    unr_plan *p = unr_plan_create(m);
    for (int b = parity; b < m->num_blocks; b += 2)
        p->deleted[b] = (unsigned char)unr_block_deletable(m, b);
    if (delete_first)
        p->deleted[0] = (unsigned char)unr_block_deletable(m, 0);
    for (int b = 0; b + 1 < m->num_blocks; b++)
        if (unr_block_swappable(m, b) && unr_block_swappable(m, b + 1) &&
            m->blocks[b].stage == m->blocks[b + 1].stage) {
            p->order[b] = b + 1, p->order[b + 1] = b;
            break;
        }
    unr_error err;
    int ok = unr_plan_validate(m, p, &err) == UNR_OK && matches_reference(m, name, p->order, p->deleted);
    unr_plan_free(p);
    return ok;
}

/* ---- the whole network against the reference ---- */

static const struct {
    unr_shortcut sc;
    int w0, w1, w2;
} nets[] = {
    {UNR_SHORTCUT_A, 4, 8, 16},
    {UNR_SHORTCUT_A, 3, 5, 7},      /* one zero channel each side */
    {UNR_SHORTCUT_A, 4, 4, 6},      /* stride 2 with no padding, then padding */
    {UNR_SHORTCUT_B, 4, 8, 16},
    {UNR_SHORTCUT_B, 3, 5, 7},
    {UNR_SHORTCUT_B, 8, 4, 2},      /* shrinking */
    {UNR_SHORTCUT_NONE, 4, 8, 16},
    {UNR_SHORTCUT_NONE, 3, 5, 7},
};

static void forward_matches_reference_for_every_shortcut(void)
{
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        unr_model *m = random_model(nets[i].sc, 2, nets[i].w0, nets[i].w1, nets[i].w2, 100 + i);
        CHECK(m);
        char name[64];
        snprintf(name, sizeof name, "ref_%s_%d_%d_%d", unr_shortcut_name(nets[i].sc), nets[i].w0,
                 nets[i].w1, nets[i].w2);
        int ok = matches_reference(m, name, NULL, NULL);
        unr_model_free(m);
        CHECK(ok);
    }
}

static void forward_matches_reference_for_single_block_stages(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_B, 1, 2, 6, 4, 9);
    CHECK(m);
    int ok = matches_reference(m, "ref_n1", NULL, NULL);
    unr_model_free(m);
    CHECK(ok);
}

/* Four stages (down to 4x4 maps), different block counts per stage, and
 * fewer stages, for every shortcut; with blocks deleted and swapped too. */
static void forward_matches_reference_for_other_stage_layouts(void)
{
    static const struct {
        unr_shortcut sc;
        int stages, blocks[4], widths[4];
    } layouts[] = {
        {UNR_SHORTCUT_B, 4, {2, 1, 1, 2}, {4, 8, 12, 16}},   /* ResNet-18's shape, narrow */
        {UNR_SHORTCUT_A, 4, {1, 2, 3, 1}, {4, 6, 8, 10}},
        {UNR_SHORTCUT_NONE, 4, {2, 2, 1, 2}, {4, 8, 8, 16}},
        {UNR_SHORTCUT_A, 2, {3, 1}, {4, 8}},
        {UNR_SHORTCUT_B, 1, {3}, {5}},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        unr_arch a = {.shortcut = layouts[i].sc, .num_classes = 10, .bn_eps = 1e-5f,
                      .num_stages = layouts[i].stages};
        memcpy(a.stage_blocks, layouts[i].blocks, sizeof a.stage_blocks);
        memcpy(a.widths, layouts[i].widths, sizeof a.widths);
        unr_model *m = random_model_arch(&a, 300 + i);
        CHECK(m);
        char name[64];
        snprintf(name, sizeof name, "ref_layout_%zu", i);
        CHECK(matches_reference(m, name, NULL, NULL));
        CHECK(lesioned_matches_reference(m, name, 0, 0));
        unr_model_free(m);
    }
}

/* Pre-activation networks (PreActResNet, Wide ResNet shapes) for every
 * shortcut, with and without the head's batch norm and a stem narrower than
 * the first stage; then with blocks deleted and swapped. */
static void preactivation_forward_matches_reference(void)
{
    static const struct {
        unr_shortcut sc;
        int stages, blocks[4], widths[4], stem, head_bn;
    } nets[] = {
        {UNR_SHORTCUT_B, 4, {2, 1, 1, 2}, {4, 8, 12, 16}, 0, 0},   /* PreActResNet-18, narrow */
        {UNR_SHORTCUT_B, 3, {2, 2, 2}, {12, 16, 24}, 4, 1},         /* Wide ResNet, narrow */
        {UNR_SHORTCUT_A, 3, {2, 1, 2}, {4, 8, 12}, 0, 1},
        {UNR_SHORTCUT_NONE, 3, {2, 2, 1}, {4, 6, 8}, 0, 1},
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        unr_arch a = {.shortcut = nets[i].sc, .num_classes = 10, .bn_eps = 1e-5f,
                      .num_stages = nets[i].stages, .stem_width = nets[i].stem,
                      .preactivation = 1, .head_bn = nets[i].head_bn};
        memcpy(a.stage_blocks, nets[i].blocks, sizeof a.stage_blocks);
        memcpy(a.widths, nets[i].widths, sizeof a.widths);
        unr_model *m = random_model_arch(&a, 500 + i);
        CHECK(m);
        char name[64];
        snprintf(name, sizeof name, "ref_pre_%zu", i);
        CHECK(matches_reference(m, name, NULL, NULL));
        CHECK(lesioned_matches_reference(m, name, 1, 1));
        unr_model_free(m);
    }
}

/* The path gradients are pieces of the real gradient: summed over all 2^n
 * sets of active blocks (branch or shortcut at each block) they give the
 * network's input gradient. Checked along a random direction against a
 * central difference of the double-precision reference's mean
 * cross-entropy, for post- and pre-activation blocks, shortcuts A and B, a
 * head batch norm and four stages. */
static void path_gradients_sum_to_the_reference_input_gradient(void)
{
    static const struct { unr_shortcut sc; int pre, head_bn, stages, blocks[4], widths[4]; } nets[] = {
        {UNR_SHORTCUT_A, 0, 0, 3, {2, 1, 2}, {4, 6, 8}},
        {UNR_SHORTCUT_B, 0, 0, 3, {1, 2, 1}, {3, 5, 7}},
        {UNR_SHORTCUT_B, 1, 1, 3, {2, 1, 2}, {4, 6, 8}},
        {UNR_SHORTCUT_B, 1, 0, 4, {1, 1, 2, 1}, {4, 6, 8, 10}},
        {UNR_SHORTCUT_A, 1, 1, 3, {1, 2, 1}, {4, 6, 8}},
    };
    enum { N = 2, PIX = 32 * 32 * 3 };
    uint8_t *px = random_images(N, 12), labels[N] = {3, 8};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        unr_arch a = {.shortcut = nets[i].sc, .num_classes = 10, .bn_eps = 1e-5f,
                      .num_stages = nets[i].stages, .preactivation = nets[i].pre,
                      .head_bn = nets[i].head_bn};
        memcpy(a.stage_blocks, nets[i].blocks, sizeof a.stage_blocks);
        memcpy(a.widths, nets[i].widths, sizeof a.widths);
        unr_model *m = random_model_arch(&a, 700 + i);
        CHECK(m);
        char name[64];
        snprintf(name, sizeof name, "ref_grad_%zu", i);
        ref_net r;
        CHECK(ref_open(m, name, &r));
        unr_runner *run;
        unr_error err;
        CHECK_OK(unr_runner_create(m, N, 1, UNR_ISA_SCALAR, &run, &err), err);
        static float g[N * PIX], sum[N * PIX];
        memset(sum, 0, sizeof sum);
        unsigned char active[8];
        for (int mask = 0; mask < 1 << m->num_blocks; mask++) {
            for (int b = 0; b < m->num_blocks; b++)
                active[b] = (unsigned char)(mask >> b & 1);
            CHECK_OK(unr_paths_gradient_vector(run, px, labels, N, active, g, &err), err);
            for (int j = 0; j < N * PIX; j++)
                sum[j] += g[j];
        }
        /* d: random; the reference works in CHW, the gradient is NHWC */
        unr_rng rng;
        unr_rng_seed(&rng, 40 + i);
        static double x[N][PIX], dir[N][PIX], xp[PIX];
        double gd = 0;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++) {
                    const uint8_t *img = px + (size_t)n * UNR_IMAGE_BYTES;
                    x[n][c * 1024 + p] = (img[c * 1024 + p] / 255.0 - r.mean[c]) / r.std[c];
                    dir[n][c * 1024 + p] = 2 * unr_rng_uniform(&rng) - 1;
                    gd += dir[n][c * 1024 + p] * sum[((size_t)n * 1024 + p) * 3 + c];
                }
        const double h = 1e-6;
        double loss[2] = {0, 0};
        for (int sgn = 0; sgn < 2; sgn++)
            for (int n = 0; n < N; n++) {
                for (int j = 0; j < PIX; j++)
                    xp[j] = x[n][j] + (sgn ? -h : h) * dir[n][j];
                double z[10], top = -INFINITY, se = 0;
                ref_forward_input(&r, xp, NULL, NULL, z);
                for (int j = 0; j < 10; j++)
                    top = z[j] > top ? z[j] : top;
                for (int j = 0; j < 10; j++)
                    se += exp(z[j] - top);
                loss[sgn] += (log(se) + top - z[labels[n]]) / N;
            }
        double fd = (loss[0] - loss[1]) / (2 * h);
        int ok = fabs(gd - fd) <= 1e-3 * fabs(fd) + 1e-6;
        if (!ok)
            fprintf(stderr, "  net %zu: sum of path gradients . d = %.8g, reference %.8g\n", i, gd, fd);
        CHECK(ok);
        unr_runner_free(run);
        ref_close(&r);
        unr_model_free(m);
    }
    free(px);
}

/* Editing the raw parameters and refolding changes the output to match. */
static void refold_follows_edited_batch_norm(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_A, 2, 4, 8, 16, 5);
    CHECK(m);
    m->bp[3].bn1.gamma[2] = -3.0f;
    m->bp[3].bn1.var[1] = 7.0f;
    m->bp[2].bn2.var[3] = 2e-5f;     /* comparable to eps: eps must be added */
    m->bp[1].bn1.var[0] = 0.0f;      /* allowed: folding divides by sqrt(eps) */
    m->bp[5].bn2.mean[0] = 1.5f;
    m->stem_bn.beta[3] = 2.0f;
    unr_model_refold(m);
    int ok = matches_reference(m, "ref_refold", NULL, NULL);
    unr_model_free(m);
    CHECK(ok);
}

/* ---- deletion ---- */

static int forward_plan(unr_model *m, const unr_plan *p, const uint8_t *px, int n, float *logits)
{
    unr_runner *run;
    unr_error err;
    int ok = !unr_runner_create(m, n, 1, UNR_ISA_AUTO, &run, &err) &&
             !unr_forward_pixels(run, p, px, n, logits, &err);
    if (!ok)
        fprintf(stderr, "  forward: %s\n", err.message);
    unr_runner_free(run);
    return ok;
}

/* Deleting block i = the same network with bn2 of block i zeroed (its
 * residual branch then adds exactly 0). */
static void deleting_a_block_equals_zeroing_its_bn2(void)
{
    const unr_shortcut kinds[2] = {UNR_SHORTCUT_A, UNR_SHORTCUT_B};
    enum { N = 3 };
    uint8_t *px = random_images(N, 21);
    for (int k = 0; k < 2; k++) {
        unr_model *m = random_model(kinds[k], 2, 4, 8, 16, 40 + k);
        CHECK(m);
        unr_plan *full = unr_plan_create(m), *del = unr_plan_create(m);
        for (int b = 0; b < m->num_blocks; b++) {
            float want[N * 10], got[N * 10], whole[N * 10];
            unr_plan_reset(del);
            del->deleted[b] = 1;
            CHECK(forward_plan(m, del, px, N, got));
            CHECK(forward_plan(m, full, px, N, whole));
            unr_bn *bn = &m->bp[b].bn2;
            float *saved = malloc(2 * bn->c * sizeof *saved);
            memcpy(saved, bn->gamma, bn->c * sizeof *saved);
            memcpy(saved + bn->c, bn->beta, bn->c * sizeof *saved);
            memset(bn->gamma, 0, bn->c * sizeof *saved);
            memset(bn->beta, 0, bn->c * sizeof *saved);
            unr_model_refold(m);
            int ok = forward_plan(m, full, px, N, want);
            memcpy(bn->gamma, saved, bn->c * sizeof *saved);
            memcpy(bn->beta, saved + bn->c, bn->c * sizeof *saved);
            free(saved);
            unr_model_refold(m);
            CHECK(ok);
            int differs = 0;
            for (int j = 0; j < N * 10; j++) {
                if (!(fabs(got[j] - want[j]) <= 1e-6 * (1 + fabs(want[j]))))
                    fprintf(stderr, "  %s block %d logit %d: deleted %.9g, zeroed %.9g\n",
                            unr_shortcut_name(kinds[k]), b, j, (double)got[j], (double)want[j]);
                CHECK(fabs(got[j] - want[j]) <= 1e-6 * (1 + fabs(want[j])));
                differs |= got[j] != whole[j];
            }
            CHECK(differs);   /* deletion did something */
        }
        /* And against the reference, with two blocks deleted at once. */
        unr_plan_reset(del);
        del->deleted[1] = del->deleted[2] = 1;
        int ok = matches_reference(m, "ref_deleted", NULL, del->deleted);
        unr_plan_free(full);
        unr_plan_free(del);
        unr_model_free(m);
        CHECK(ok);
    }
    free(px);
}

static void deleting_a_plain_block_passes_its_input_through(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_NONE, 2, 4, 8, 16, 77);
    CHECK(m);
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, 2, 1, UNR_ISA_AUTO, &run, &err), err);
    size_t floats = unr_max_activation(m) * 2;
    float *x = malloc(floats * sizeof *x), *y = malloc(floats * sizeof *y);
    float *t = malloc(floats * sizeof *t), *s = malloc(floats * sizeof *s);
    unr_rng rng;
    unr_rng_seed(&rng, 3);
    for (size_t i = 0; i < floats; i++)
        x[i] = (float)unr_rng_uniform(&rng);
    const int blocks[] = {0, 1, 3, 5};
    for (int i = 0; i < 4; i++) {
        const unr_block_info *bi = unr_model_block(m, blocks[i]);
        CHECK(!bi->downsample);
        size_t n = 2 * (size_t)bi->h_in * bi->h_in * bi->cin;
        memset(y, 0xff, floats * sizeof *y);
        unr_net_block(run, blocks[i], 1, x, 2, y, t, s);
        CHECK(memcmp(x, y, n * sizeof *x) == 0);
    }
    free(x), free(y), free(t), free(s);
    unr_runner_free(run);
    /* Whole network: deleting blocks 1 and 5 skips them. */
    unsigned char deleted[6] = {0, 1, 0, 0, 0, 1};
    int ok = matches_reference(m, "ref_plain_deleted", NULL, deleted);
    unr_model_free(m);
    CHECK(ok);
}

static void deleting_a_plain_downsampling_block_is_refused_by_forward(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_NONE, 2, 4, 8, 16, 78);
    CHECK(m);
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, 1, 1, UNR_ISA_AUTO, &run, &err), err);
    unr_plan *p = unr_plan_create(m);
    p->deleted[2] = 1;
    uint8_t *px = random_images(1, 1);
    float logits[10];
    CHECK(unr_forward_pixels(run, p, px, 1, logits, &err) == UNR_ERR_PLAN);
    CHECK(strstr(err.message, "block 2"));
    free(px);
    unr_plan_free(p);
    unr_runner_free(run);
    unr_model_free(m);
}

/* ---- reordering ---- */

static void reordered_blocks_match_the_reference_in_that_order(void)
{
    const unr_shortcut kinds[3] = {UNR_SHORTCUT_A, UNR_SHORTCUT_B, UNR_SHORTCUT_NONE};
    /* n = 3: blocks 0-2, 3-5, 6-8; 3 and 6 downsample. */
    const int order[9] = {2, 0, 1, 3, 5, 4, 6, 8, 7};
    for (int k = 0; k < 3; k++) {
        unr_model *m = random_model(kinds[k], 3, 4, 8, 16, 60 + k);
        CHECK(m);
        int ok = matches_reference(m, "ref_order", order, NULL);
        /* The order matters: the identity order gives other logits. */
        unr_plan *p = unr_plan_create(m);
        uint8_t *px = random_images(2, 11);
        float a[20], b[20];
        ok = ok && forward_plan(m, p, px, 2, a);
        memcpy(p->order, order, sizeof order);
        ok = ok && forward_plan(m, p, px, 2, b);
        ok = ok && memcmp(a, b, sizeof a) != 0;
        /* Reordered and deleted together. */
        unsigned char deleted[9] = {0, 0, 1, 0, 0, 1, 0, 0, 0};
        ok = ok && matches_reference(m, "ref_order_del", order, deleted);
        free(px);
        unr_plan_free(p);
        unr_model_free(m);
        CHECK(ok);
    }
}

/* ---- batches ---- */

static void batch_sizes_1_3_and_max_agree_per_image(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_B, 2, 4, 8, 16, 3);
    CHECK(m);
    enum { MAX = 16 };
    uint8_t *px = random_images(MAX, 5);
    unr_plan *p = unr_plan_create(m);
    const unr_isa isas[] = {UNR_ISA_SCALAR, UNR_ISA_AUTO};
    for (int ii = 0; ii < 2; ii++) {
        unr_runner *run;
        unr_error err;
        CHECK_OK(unr_runner_create(m, MAX, 2, isas[ii], &run, &err), err);
        CHECK(unr_runner_max_batch(run) == MAX);
        float all[MAX * 10], three[3 * 10], one[10];
        CHECK_OK(unr_forward_pixels(run, p, px, MAX, all, &err), err);
        for (int i = 0; i < MAX; i++) {
            CHECK_OK(unr_forward_pixels(run, p, px + (size_t)i * UNR_IMAGE_BYTES, 1, one, &err), err);
            for (int j = 0; j < 10; j++)
                CHECK_NEAR(one[j], all[i * 10 + j], 1e-5 * (1 + fabs(all[i * 10 + j])));
        }
        for (int at = 0; at + 3 <= MAX; at += 5) {
            CHECK_OK(unr_forward_pixels(run, p, px + (size_t)at * UNR_IMAGE_BYTES, 3, three, &err), err);
            for (int j = 0; j < 30; j++)
                CHECK_NEAR(three[j], all[at * 10 + j], 1e-5 * (1 + fabs(all[at * 10 + j])));
        }
        /* Out of range batches are refused, not run. */
        CHECK(unr_forward_pixels(run, p, px, 0, all, &err) == UNR_ERR_RANGE);
        CHECK(unr_forward_pixels(run, p, px, MAX + 1, all, &err) == UNR_ERR_RANGE);
        CHECK(unr_forward_pixels(run, p, px, -1, all, &err) == UNR_ERR_RANGE);
        unr_runner_free(run);
    }
    unr_runner *run;
    unr_error err;
    CHECK(unr_runner_create(m, 0, 1, UNR_ISA_AUTO, &run, &err) == UNR_ERR_RANGE);
    CHECK(unr_runner_create(m, UNR_MAX_BATCH + 1, 1, UNR_ISA_AUTO, &run, &err) == UNR_ERR_RANGE);
    unr_plan_free(p);
    free(px);
    unr_model_free(m);
}

static void images_are_normalised_per_channel_into_nhwc(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_A, 1, 4, 8, 16, 1);
    CHECK(m);
    uint8_t *px = random_images(2, 8);
    float *x = malloc(2 * UNR_IMAGE_BYTES * sizeof *x);
    unr_images_to_input(m, px, 2, x);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 1024; p++)
            for (int c = 0; c < 3; c++) {
                double want = (px[i * UNR_IMAGE_BYTES + c * 1024 + p] / 255.0 - m->mean[c]) /
                              m->std[c];
                CHECK_NEAR(x[(size_t)i * UNR_IMAGE_BYTES + 3 * p + c], want, 1e-5);
            }
    free(x);
    free(px);
    unr_model_free(m);
}

/* ---- evaluation ---- */

static int cancel_after_first(void *user, double done, double total)
{
    (void)total;
    *(double *)user = done;
    return 1;
}

static void evaluate_counts_agree_with_forward(void)
{
    unr_model *m = random_model(UNR_SHORTCUT_A, 1, 4, 8, 16, 12);
    CHECK(m);
    enum { N = 37 };
    unr_cifar data = {N, malloc(N), random_images(N, 13)};
    for (int i = 0; i < N; i++)
        data.labels[i] = (uint8_t)((i * 7) % 10);
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, 8, 1, UNR_ISA_AUTO, &run, &err), err);
    unr_plan *p = unr_plan_create(m);
    unr_eval_result res;
    CHECK_OK(unr_evaluate(run, p, &data, 0, NULL, NULL, &res, &err), err);
    /* The same with each image's prediction (a sentinel past the end). */
    uint8_t pred[N + 1];
    memset(pred, 0xEE, sizeof pred);
    unr_eval_result res2;
    CHECK_OK(unr_evaluate_predict(run, p, &data, 0, NULL, NULL, pred, &res2, &err), err);
    CHECK(res2.correct == res.correct && pred[N] == 0xEE);
    /* Expected: argmax of each image's logits, one at a time. */
    int correct = 0, confusion[10][10] = {{0}};
    for (int i = 0; i < N; i++) {
        float lg[10];
        CHECK_OK(unr_forward_pixels(run, p, data.pixels + (size_t)i * UNR_IMAGE_BYTES, 1, lg, &err), err);
        int best = 0;
        for (int j = 1; j < 10; j++)
            best = lg[j] > lg[best] ? j : best;
        confusion[data.labels[i]][best]++;
        correct += best == data.labels[i];
        CHECK(pred[i] == best);
    }
    CHECK(res.n == N && res.correct == correct);
    CHECK_NEAR(res.error, 1.0 - (double)correct / N, 1e-12);
    int total = 0, diag = 0;
    for (int t = 0; t < 10; t++) {
        int row = 0;
        for (int g = 0; g < 10; g++) {
            CHECK(res.confusion[t][g] == confusion[t][g]);
            row += res.confusion[t][g];
        }
        CHECK(res.per_class_total[t] == row);
        CHECK(res.per_class_correct[t] == res.confusion[t][t]);
        total += row;
        diag += res.confusion[t][t];
    }
    CHECK(total == N && diag == res.correct);
    CHECK(res.per_class_total[0] == 4 && res.per_class_total[9] == 3);  /* i = 0,10,20,30 / 7,17,27 */

    /* limit evaluates a prefix. */
    CHECK_OK(unr_evaluate(run, p, &data, 10, NULL, NULL, &res, &err), err);
    CHECK(res.n == 10);
    int first10 = 0;
    for (int t = 0; t < 10; t++)
        first10 += res.per_class_total[t];
    CHECK(first10 == 10);
    /* A progress callback that asks to stop cancels after one batch. */
    double done = -1;
    CHECK(unr_evaluate(run, p, &data, 0, cancel_after_first, &done, &res, &err) ==
          UNR_ERR_CANCELLED);
    CHECK(done == 8);
    /* An invalid plan is refused before anything runs. */
    p->order[0] = 1;
    CHECK(unr_evaluate(run, p, &data, 0, NULL, NULL, &res, &err) == UNR_ERR_PLAN);
    unr_plan_free(p);
    unr_runner_free(run);
    unr_cifar_free(&data);
    unr_model_free(m);
}

static void paired_compare_counts_flips_and_their_interval(void)
{
    const uint8_t labels[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t base[10] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 0};   /* 8 right */
    const uint8_t plan[10] = {0, 1, 2, 3, 4, 5, 0, 0, 8, 0};   /* 6, 7 turned wrong; 8 right */
    unr_paired_change c;
    unr_paired_compare(base, plan, labels, 10, &c);
    CHECK(c.n == 10 && c.turned_wrong == 2 && c.turned_right == 1);
    CHECK_NEAR(c.change, 0.1, 1e-15);
    /* differences: two +1, one -1, seven 0: sample variance (3 - 1/10) / 9 */
    CHECK_NEAR(c.ci95, 1.96 * sqrt((3 - 0.1) / 9 / 10), 1e-15);
    unr_paired_compare(base, base, labels, 10, &c);
    CHECK(c.turned_wrong == 0 && c.turned_right == 0 && c.change == 0 && c.ci95 == 0);
    unr_paired_compare(base, plan, labels, 0, &c);
    CHECK(c.n == 0 && c.change == 0 && c.ci95 == 0);
}

TEST_MAIN(
    TEST_CASE(forward_matches_reference_for_every_shortcut),
    TEST_CASE(paired_compare_counts_flips_and_their_interval),
    TEST_CASE(forward_matches_reference_for_single_block_stages),
    TEST_CASE(forward_matches_reference_for_other_stage_layouts),
    TEST_CASE(preactivation_forward_matches_reference),
    TEST_CASE(path_gradients_sum_to_the_reference_input_gradient),
    TEST_CASE(refold_follows_edited_batch_norm),
    TEST_CASE(deleting_a_block_equals_zeroing_its_bn2),
    TEST_CASE(deleting_a_plain_block_passes_its_input_through),
    TEST_CASE(deleting_a_plain_downsampling_block_is_refused_by_forward),
    TEST_CASE(reordered_blocks_match_the_reference_in_that_order),
    TEST_CASE(batch_sizes_1_3_and_max_agree_per_image),
    TEST_CASE(images_are_normalised_per_channel_into_nhwc),
    TEST_CASE(evaluate_counts_agree_with_forward))
