/* model.c: architecture, parameter layout, He initialisation and batch-norm
 * folding. Reading and writing model files lives in manifest.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- architecture ---- */

static const char *const shortcut_names[] = {"A", "B", "none"};

const char *unr_shortcut_name(unr_shortcut s)
{
    return (unsigned)s <= UNR_SHORTCUT_NONE ? shortcut_names[s] : "?";
}

int unr_shortcut_parse(const char *name, unr_shortcut *out)
{
    for (int i = 0; i <= UNR_SHORTCUT_NONE; i++)
        if (name && strcmp(name, shortcut_names[i]) == 0) {
            *out = (unr_shortcut)i;
            return 0;
        }
    return -1;
}

unr_arch unr_arch_resolve(const unr_arch *in)
{
    unr_arch a = *in;
    if (a.num_stages == 0)
        a.num_stages = 3;
    int given = 0;
    for (int s = 0; s < UNR_MAX_STAGES; s++)
        given |= a.stage_blocks[s] != 0;
    for (int s = 0; s < UNR_MAX_STAGES; s++) {
        if (s >= a.num_stages)
            a.stage_blocks[s] = a.widths[s] = 0;
        else if (!given)
            a.stage_blocks[s] = a.blocks_per_stage;
    }
    if (a.stem_width == 0)
        a.stem_width = a.widths[0];
    if (!a.preactivation)
        a.head_bn = 0;
    a.preactivation = !!a.preactivation, a.head_bn = !!a.head_bn;
    a.blocks_per_stage = a.stage_blocks[0];
    for (int s = 1; s < a.num_stages; s++)
        if (a.stage_blocks[s] != a.stage_blocks[0])
            a.blocks_per_stage = 0;
    return a;
}

int unr_arch_num_blocks(const unr_arch *in)
{
    unr_arch a = unr_arch_resolve(in);
    int n = 0;
    for (int s = 0; s < a.num_stages; s++)
        n += a.stage_blocks[s];
    return n;
}

int unr_arch_depth(const unr_arch *a) { return 2 * unr_arch_num_blocks(a) + 2; }

const char *unr_arch_format(const unr_arch *in, char *buf, size_t cap)
{
    unr_arch a = unr_arch_resolve(in);
    char blocks[64] = "", widths[64] = "";
    for (int s = 0; s < a.num_stages; s++) {
        size_t nb = strlen(blocks), nw = strlen(widths);
        snprintf(blocks + nb, sizeof blocks - nb, "%s%d", s ? "/" : "", a.stage_blocks[s]);
        snprintf(widths + nw, sizeof widths - nw, "%s%d", s ? "/" : "", a.widths[s]);
    }
    char stem[32] = "";
    if (a.stem_width != a.widths[0])
        snprintf(stem, sizeof stem, ", stem %d", a.stem_width);
    snprintf(buf, cap, "blocks %s, widths %s%s%s", blocks, widths, stem,
             !a.preactivation ? "" : a.head_bn ? ", pre-activation (batch norm before the pool)"
                                               : ", pre-activation");
    return buf;
}

unr_status unr_arch_validate(const unr_arch *in, const char *src, unr_error *err)
{
    if (in->num_stages < 0 || in->num_stages > UNR_MAX_STAGES)
        return unr_fail(err, UNR_ERR_RANGE, "%s: arch.widths: %d stages is outside 1..%d", src,
                        in->num_stages, UNR_MAX_STAGES);
    int per_stage = 0;
    for (int s = 0; s < UNR_MAX_STAGES; s++)
        per_stage |= in->stage_blocks[s] != 0;
    unr_arch resolved = unr_arch_resolve(in);
    const unr_arch *a = &resolved;
    for (int s = 0; s < a->num_stages; s++) {
        int n = a->stage_blocks[s];
        if (n >= 1 && n <= UNR_MAX_BLOCKS_PER_STAGE)
            continue;
        if (per_stage)
            return unr_fail(err, UNR_ERR_RANGE, "%s: arch.blocks_per_stage[%d]: %d is outside 1..%d",
                            src, s, n, UNR_MAX_BLOCKS_PER_STAGE);
        return unr_fail(err, UNR_ERR_RANGE, "%s: arch.blocks_per_stage: %d is outside 1..%d",
                        src, n, UNR_MAX_BLOCKS_PER_STAGE);
    }
    if (unr_arch_num_blocks(a) > UNR_MAX_BLOCKS)
        return unr_fail(err, UNR_ERR_RANGE, "%s: arch.blocks_per_stage: %d blocks in all is over %d",
                        src, unr_arch_num_blocks(a), UNR_MAX_BLOCKS);
    for (int s = 0; s < a->num_stages; s++) {
        if (a->widths[s] < 1 || a->widths[s] > UNR_MAX_WIDTH)
            return unr_fail(err, UNR_ERR_RANGE, "%s: arch.widths[%d]: %d is outside 1..%d",
                            src, s, a->widths[s], UNR_MAX_WIDTH);
    }
    if (a->stem_width < 1 || a->stem_width > UNR_MAX_WIDTH)
        return unr_fail(err, UNR_ERR_RANGE, "%s: arch.stem_width: %d is outside 1..%d", src,
                        a->stem_width, UNR_MAX_WIDTH);
    if ((unsigned)a->shortcut > UNR_SHORTCUT_NONE)
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.shortcut: unknown kind", src);
    if (a->shortcut == UNR_SHORTCUT_A) {
        /* Option A pads channels with zeros: widths may only grow, by an even
         * amount so the padding is symmetric. */
        int prev = a->stem_width;
        for (int s = 0; s < a->num_stages; s++) {
            int d = a->widths[s] - prev;
            if (d < 0 || d % 2)
                return unr_fail(err, UNR_ERR_FIELD,
                                "%s: arch.widths[%d]: shortcut A needs each width >= the previous "
                                "and an even difference (%d -> %d)", src, s, prev, a->widths[s]);
            prev = a->widths[s];
        }
    }
    if (a->num_classes != UNR_NUM_CLASSES)
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.num_classes: %d, but CIFAR-10 has %d",
                        src, a->num_classes, UNR_NUM_CLASSES);
    if (!(a->bn_eps > 0.0f && a->bn_eps < 1.0f))
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.bn_eps: %g is not in (0, 1)", src,
                        (double)a->bn_eps);
    if (unr_arch_param_count(a) > ((uint64_t)1 << 28))
        return unr_fail(err, UNR_ERR_RANGE, "%s: arch: %llu parameters is over the 2^28 limit",
                        src, (unsigned long long)unr_arch_param_count(a));
    return UNR_OK;
}

/* ---- parameter layout ---- */

/* Calls visit for every tensor of the architecture, in file order. */
typedef void (*tensor_visit)(void *ctx, const char *name, unr_tensor_kind kind,
                             int ndim, const int shape[4]);

static void visit_bn(tensor_visit visit, void *ctx, const char *prefix, int c)
{
    static const unr_tensor_kind kinds[4] = {UNR_T_BN_WEIGHT, UNR_T_BN_BIAS, UNR_T_BN_MEAN,
                                             UNR_T_BN_VAR};
    static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.%s", prefix, suffix[i]);
        visit(ctx, name, kinds[i], 1, (int[4]){c, 0, 0, 0});
    }
}

static void visit_conv(tensor_visit visit, void *ctx, const char *name, int co, int ci, int k)
{
    visit(ctx, name, UNR_T_CONV, 4, (int[4]){co, ci, k, k});
}

/* a: resolved (unr_arch_resolve). */
static void visit_tensors(const unr_arch *a, tensor_visit visit, void *ctx)
{
    char name[48];
    visit_conv(visit, ctx, "stem.conv.weight", a->stem_width, 3, 3);
    if (!a->preactivation)
        visit_bn(visit, ctx, "stem.bn", a->stem_width);
    int cin = a->stem_width, b = 0;
    for (int s = 0; s < a->num_stages; s++) {
        for (int i = 0; i < a->stage_blocks[s]; i++, b++) {
            int cout = a->widths[s];
            int down = (s > 0 && i == 0) || cin != cout;
            if (a->preactivation) {
                /* bn1 reads the block's input; the projection has no batch norm */
                snprintf(name, sizeof name, "blocks.%d.bn1", b);
                visit_bn(visit, ctx, name, cin);
                snprintf(name, sizeof name, "blocks.%d.conv1.weight", b);
                visit_conv(visit, ctx, name, cout, cin, 3);
                snprintf(name, sizeof name, "blocks.%d.bn2", b);
                visit_bn(visit, ctx, name, cout);
                snprintf(name, sizeof name, "blocks.%d.conv2.weight", b);
                visit_conv(visit, ctx, name, cout, cout, 3);
                if (a->shortcut == UNR_SHORTCUT_B && down) {
                    snprintf(name, sizeof name, "blocks.%d.shortcut.conv.weight", b);
                    visit_conv(visit, ctx, name, cout, cin, 1);
                }
                cin = cout;
                continue;
            }
            snprintf(name, sizeof name, "blocks.%d.conv1.weight", b);
            visit_conv(visit, ctx, name, cout, cin, 3);
            snprintf(name, sizeof name, "blocks.%d.bn1", b);
            visit_bn(visit, ctx, name, cout);
            snprintf(name, sizeof name, "blocks.%d.conv2.weight", b);
            visit_conv(visit, ctx, name, cout, cout, 3);
            snprintf(name, sizeof name, "blocks.%d.bn2", b);
            visit_bn(visit, ctx, name, cout);
            if (a->shortcut == UNR_SHORTCUT_B && down) {
                snprintf(name, sizeof name, "blocks.%d.shortcut.conv.weight", b);
                visit_conv(visit, ctx, name, cout, cin, 1);
                snprintf(name, sizeof name, "blocks.%d.shortcut.bn", b);
                visit_bn(visit, ctx, name, cout);
            }
            cin = cout;
        }
    }
    if (a->head_bn)
        visit_bn(visit, ctx, "head.bn", a->widths[a->num_stages - 1]);
    visit(ctx, "fc.weight", UNR_T_FC_WEIGHT, 2, (int[4]){a->num_classes, a->widths[a->num_stages - 1], 0, 0});
    visit(ctx, "fc.bias", UNR_T_FC_BIAS, 1, (int[4]){a->num_classes, 0, 0, 0});
}

typedef struct { uint64_t params; int tensors; } count_ctx;

static void count_visit(void *vctx, const char *name, unr_tensor_kind kind, int ndim,
                        const int shape[4])
{
    (void)name, (void)kind;
    count_ctx *c = vctx;
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= (uint64_t)shape[d];
    c->params += n;
    c->tensors++;
}

uint64_t unr_arch_param_count(const unr_arch *in)
{
    /* Guard the visitor against absurd sizes: the count is bounded by this
     * closed form, computed in 64 bits. */
    if (in->num_stages < 0 || in->num_stages > UNR_MAX_STAGES)
        return 0;
    unr_arch a = unr_arch_resolve(in);
    uint64_t w = 0, blocks = 0;
    for (int s = 0; s < a.num_stages; s++) {
        if (a.widths[s] <= 0 || a.stage_blocks[s] <= 0)
            return 0;
        if ((uint64_t)a.widths[s] > w)
            w = (uint64_t)a.widths[s];
        blocks += (uint64_t)a.stage_blocks[s];
    }
    if (a.stem_width < 1)
        return 0;
    if ((uint64_t)a.stem_width > w)
        w = (uint64_t)a.stem_width;
    uint64_t bound = (blocks + 1) * (2 * 9 * w * w + w * w + 12 * w);
    if (bound > ((uint64_t)1 << 40))
        return bound;
    count_ctx c = {0, 0};
    visit_tensors(&a, count_visit, &c);
    return c.params;
}

typedef struct { unr_model *m; size_t offset; } layout_ctx;

static void layout_visit(void *vctx, const char *name, unr_tensor_kind kind, int ndim,
                         const int shape[4])
{
    layout_ctx *c = vctx;
    unr_tensor *t = &c->m->tensors[c->m->num_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->ndim = ndim;
    t->count = 1;
    for (int d = 0; d < 4; d++) {
        t->shape[d] = d < ndim ? shape[d] : 0;
        if (d < ndim)
            t->count *= (size_t)shape[d];
    }
    t->data = c->m->params + c->offset;
    c->offset += t->count;
}

/* Point the named views (stem, blocks, fc) into the tensors, in the order
 * visit_tensors produced them. */
static void bind_views(unr_model *m)
{
    const unr_tensor *t = m->tensors;
    const unr_arch *a = &m->arch;
    m->stem = (unr_conv){t[0].data, 3, 3, a->stem_width, 1};
    int ti = 1;
    if (!a->preactivation) {
        m->stem_bn = (unr_bn){t[1].data, t[2].data, t[3].data, t[4].data, a->stem_width};
        ti = 5;
    }
    for (int b = 0; b < m->num_blocks; b++) {
        const unr_block_info *bi = &m->blocks[b];
        unr_block_params *p = &m->bp[b];
        p->has_proj = a->shortcut == UNR_SHORTCUT_B && bi->downsample;
        if (a->preactivation) {
            p->bn1 = (unr_bn){t[ti].data, t[ti + 1].data, t[ti + 2].data, t[ti + 3].data, bi->cin};
            p->conv1 = (unr_conv){t[ti + 4].data, 3, bi->cin, bi->cout, bi->stride};
            p->bn2 = (unr_bn){t[ti + 5].data, t[ti + 6].data, t[ti + 7].data, t[ti + 8].data, bi->cout};
            p->conv2 = (unr_conv){t[ti + 9].data, 3, bi->cout, bi->cout, 1};
            ti += 10;
            if (p->has_proj)
                p->proj = (unr_conv){t[ti++].data, 1, bi->cin, bi->cout, bi->stride};
            continue;
        }
        p->conv1 = (unr_conv){t[ti].data, 3, bi->cin, bi->cout, bi->stride};
        p->bn1 = (unr_bn){t[ti + 1].data, t[ti + 2].data, t[ti + 3].data, t[ti + 4].data, bi->cout};
        p->conv2 = (unr_conv){t[ti + 5].data, 3, bi->cout, bi->cout, 1};
        p->bn2 = (unr_bn){t[ti + 6].data, t[ti + 7].data, t[ti + 8].data, t[ti + 9].data, bi->cout};
        ti += 10;
        if (p->has_proj) {
            p->proj = (unr_conv){t[ti].data, 1, bi->cin, bi->cout, bi->stride};
            p->proj_bn = (unr_bn){t[ti + 1].data, t[ti + 2].data, t[ti + 3].data, t[ti + 4].data,
                                  bi->cout};
            ti += 5;
        }
    }
    if (a->head_bn) {
        int c = unr_final_width(a);
        m->head_bn = (unr_bn){t[ti].data, t[ti + 1].data, t[ti + 2].data, t[ti + 3].data, c};
        ti += 4;
    }
    m->fc_w = t[ti].data;
    m->fc_b = t[ti + 1].data;
}

static void fill_blocks(unr_model *m)
{
    const unr_arch *a = &m->arch;
    int cin = a->stem_width, h = UNR_IMAGE_SIDE, b = 0;
    for (int s = 0; s < a->num_stages; s++)
        for (int i = 0; i < a->stage_blocks[s]; i++, b++) {
            unr_block_info *bi = &m->blocks[b];
            bi->stage = s;
            bi->index_in_stage = i;
            bi->cin = cin;
            bi->cout = a->widths[s];
            bi->stride = (s > 0 && i == 0) ? 2 : 1;
            bi->h_in = h;
            bi->h_out = bi->stride == 2 ? (h + 1) / 2 : h;
            bi->downsample = bi->stride == 2 || bi->cin != bi->cout;
            h = bi->h_out;
            cin = bi->cout;
        }
}

/* Folded weights: same count as the convs plus one bias per output channel. */
static size_t folded_count(const unr_model *m)
{
    size_t n = m->stem.k * m->stem.k * (size_t)m->stem.ci * m->stem.co + m->stem.co;
    for (int b = 0; b < m->num_blocks; b++) {
        const unr_block_params *p = &m->bp[b];
        n += 9 * (size_t)p->conv1.ci * p->conv1.co + p->conv1.co;
        n += 9 * (size_t)p->conv2.ci * p->conv2.co + p->conv2.co;
        if (p->has_proj)
            n += (size_t)p->proj.ci * p->proj.co + p->proj.co;
        if (m->arch.preactivation)
            n += 2 * (size_t)p->conv1.ci;     /* bn1 as a scale and shift */
    }
    return n + 2 * (size_t)unr_final_width(&m->arch);   /* the head's batch norm */
}

static float *bind_fconv(unr_fconv *f, const unr_conv *c, float *at)
{
    f->k = c->k, f->ci = c->ci, f->co = c->co, f->stride = c->stride;
    f->w = at;
    at += (size_t)c->k * c->k * c->ci * c->co;
    f->b = at;
    return at + c->co;
}

unr_status unr_model_alloc(const unr_arch *arch, const char *source, unr_model **out,
                           unr_error *err)
{
    *out = NULL;
    unr_status st = unr_arch_validate(arch, source, err);
    if (st)
        return st;
    unr_arch resolved = unr_arch_resolve(arch);
    count_ctx c = {0, 0};
    visit_tensors(&resolved, count_visit, &c);
    unr_model *m = calloc(1, sizeof *m);
    if (!m)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", source);
    m->arch = resolved;
    m->num_blocks = unr_arch_num_blocks(&resolved);
    m->num_params = (size_t)c.params;
    m->blocks = calloc((size_t)m->num_blocks, sizeof *m->blocks);
    m->bp = calloc((size_t)m->num_blocks, sizeof *m->bp);
    m->fb = calloc((size_t)m->num_blocks, sizeof *m->fb);
    m->tensors = calloc((size_t)c.tensors, sizeof *m->tensors);
    m->params = calloc(m->num_params, sizeof *m->params);
    for (int i = 0; i < 3; i++)
        m->std[i] = 1.0f;
    snprintf(m->name, sizeof m->name, "unnamed");
    if (!m->blocks || !m->bp || !m->fb || !m->tensors || !m->params) {
        unr_model_free(m);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory for %zu parameters", source,
                        (size_t)c.params);
    }
    fill_blocks(m);
    layout_ctx lc = {m, 0};
    visit_tensors(&m->arch, layout_visit, &lc);
    bind_views(m);

    size_t nf = folded_count(m);
    m->folded = calloc(nf, sizeof *m->folded);
    if (!m->folded) {
        unr_model_free(m);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", source);
    }
    float *at = bind_fconv(&m->fstem, &m->stem, m->folded);
    for (int b = 0; b < m->num_blocks; b++) {
        at = bind_fconv(&m->fb[b].c1, &m->bp[b].conv1, at);
        at = bind_fconv(&m->fb[b].c2, &m->bp[b].conv2, at);
        if (m->bp[b].has_proj)
            at = bind_fconv(&m->fb[b].proj, &m->bp[b].proj, at);
        if (m->arch.preactivation) {
            m->fb[b].pre.scale = at, at += m->bp[b].conv1.ci;
            m->fb[b].pre.shift = at, at += m->bp[b].conv1.ci;
        }
    }
    m->fhead.scale = at, at += unr_final_width(&m->arch);
    m->fhead.shift = at;
    *out = m;
    return UNR_OK;
}

void unr_model_free(unr_model *m)
{
    if (!m)
        return;
    free(m->metrics_json);
    free(m->training_json);
    free(m->license);
    free(m->folded);
    free(m->params);
    free(m->tensors);
    free(m->fb);
    free(m->bp);
    free(m->blocks);
    free(m);
}

/* ---- batch-norm folding ---- */

static void fold_conv(unr_fconv *f, const unr_conv *c, const unr_bn *bn, float eps)
{
    size_t taps = (size_t)c->k * c->k * c->ci;
    for (int o = 0; o < c->co; o++) {
        /* Computed in double: the folded net should match the unfolded one to
         * float rounding, whatever the variance. No bn: a plain copy. */
        double scale = bn ? bn->gamma[o] / sqrt((double)bn->var[o] + eps) : 1.0;
        for (size_t t = 0; t < taps; t++)
            f->w[t * c->co + o] = (float)(c->w[t * c->co + o] * scale);
        f->b[o] = bn ? (float)(bn->beta[o] - bn->mean[o] * scale) : 0.0f;
    }
}

/* A batch norm at inference as y = x * scale + shift per channel. */
static void fold_affine(unr_affine *f, const unr_bn *bn, float eps)
{
    for (int c = 0; c < bn->c; c++) {
        double scale = bn->gamma[c] / sqrt((double)bn->var[c] + eps);
        f->scale[c] = (float)scale;
        f->shift[c] = (float)(bn->beta[c] - bn->mean[c] * scale);
    }
}

/* Pre-activation: bn2 follows conv1 (folded in); conv2, the projection and
 * the stem have no batch norm after them; bn1 and the head's batch norm
 * precede a ReLU and stay as scale and shift. */
static void refold_preactivation(unr_model *m)
{
    float eps = m->arch.bn_eps;
    fold_conv(&m->fstem, &m->stem, NULL, eps);
    for (int b = 0; b < m->num_blocks; b++) {
        fold_affine(&m->fb[b].pre, &m->bp[b].bn1, eps);
        fold_conv(&m->fb[b].c1, &m->bp[b].conv1, &m->bp[b].bn2, eps);
        fold_conv(&m->fb[b].c2, &m->bp[b].conv2, NULL, eps);
        if (m->bp[b].has_proj)
            fold_conv(&m->fb[b].proj, &m->bp[b].proj, NULL, eps);
    }
    if (m->arch.head_bn)
        fold_affine(&m->fhead, &m->head_bn, eps);
}

void unr_model_refold(unr_model *m)
{
    float eps = m->arch.bn_eps;
    if (m->arch.preactivation) {
        refold_preactivation(m);
        return;
    }
    fold_conv(&m->fstem, &m->stem, &m->stem_bn, eps);
    for (int b = 0; b < m->num_blocks; b++) {
        fold_conv(&m->fb[b].c1, &m->bp[b].conv1, &m->bp[b].bn1, eps);
        fold_conv(&m->fb[b].c2, &m->bp[b].conv2, &m->bp[b].bn2, eps);
        if (m->bp[b].has_proj)
            fold_conv(&m->fb[b].proj, &m->bp[b].proj, &m->bp[b].proj_bn, eps);
    }
}

/* ---- random initialisation ---- */

unr_status unr_model_init_random(const unr_arch *arch, uint64_t seed, unr_model **out,
                                 unr_error *err)
{
    unr_status st = unr_model_alloc(arch, "init", out, err);
    if (st)
        return st;
    unr_model *m = *out;
    unr_rng rng;
    unr_rng_seed(&rng, seed);
    /* CIFAR-10 channel statistics, in 0..1 units. */
    static const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2470f, 0.2435f, 0.2616f};
    memcpy(m->mean, mean, sizeof mean);
    memcpy(m->std, std, sizeof std);
    for (int i = 0; i < m->num_tensors; i++) {
        unr_tensor *t = &m->tensors[i];
        switch (t->kind) {
        case UNR_T_CONV: {
            /* He (Kaiming) normal, fan_out mode as in torchvision ResNets. */
            double sd = sqrt(2.0 / ((double)t->shape[0] * t->shape[2] * t->shape[3]));
            for (size_t j = 0; j < t->count; j++)
                t->data[j] = (float)(sd * unr_rng_normal(&rng));
            break;
        }
        case UNR_T_FC_WEIGHT: {
            double bound = 1.0 / sqrt((double)t->shape[1]);
            for (size_t j = 0; j < t->count; j++)
                t->data[j] = (float)(bound * (2.0 * unr_rng_uniform(&rng) - 1.0));
            break;
        }
        case UNR_T_BN_WEIGHT:
        case UNR_T_BN_VAR:
            for (size_t j = 0; j < t->count; j++)
                t->data[j] = 1.0f;
            break;
        default:
            break; /* biases and means start at zero */
        }
    }
    snprintf(m->name, sizeof m->name, "random-resnet%d%s", unr_arch_depth(arch),
             arch->shortcut == UNR_SHORTCUT_NONE ? "-plain" : "");
    unr_model_refold(m);
    return UNR_OK;
}

/* ---- accessors ---- */

const unr_arch *unr_model_arch(const unr_model *m) { return &m->arch; }
int unr_model_num_blocks(const unr_model *m) { return m->num_blocks; }
size_t unr_model_num_params(const unr_model *m) { return m->num_params; }
const char *unr_model_name(const unr_model *m) { return m->name; }
const char *unr_model_metrics_json(const unr_model *m) { return m->metrics_json; }
const char *unr_model_training_json(const unr_model *m) { return m->training_json; }
const char *unr_model_license(const unr_model *m) { return m->license; }

const unr_block_info *unr_model_block(const unr_model *m, int i)
{
    return i >= 0 && i < m->num_blocks ? &m->blocks[i] : NULL;
}

double unr_model_macs(const unr_model *m)
{
    double macs = 9.0 * 3 * m->arch.widths[0] * UNR_IMAGE_SIDE * UNR_IMAGE_SIDE;
    for (int b = 0; b < m->num_blocks; b++) {
        const unr_block_info *bi = &m->blocks[b];
        double px = (double)bi->h_out * bi->h_out;
        macs += px * 9.0 * bi->cin * bi->cout + px * 9.0 * bi->cout * bi->cout;
        if (m->bp[b].has_proj)
            macs += px * bi->cin * bi->cout;
    }
    return macs + (double)unr_final_width(&m->arch) * m->arch.num_classes;
}

/* ---- file layout ---- */

/* One loop for both directions: from `in` into memory, or from memory to
 * `out`. Each float goes through memcpy (file bytes need not be aligned). */
static void transfer(const unr_tensor *t, const unsigned char *in, unsigned char *out)
{
    if (t->kind != UNR_T_CONV) {
        if (in)
            memcpy(t->data, in, t->count * 4);
        else
            memcpy(out, t->data, t->count * 4);
        return;
    }
    int co = t->shape[0], ci = t->shape[1], k = t->shape[2];
    for (int o = 0; o < co; o++)
        for (int i = 0; i < ci; i++)
            for (int y = 0; y < k; y++)
                for (int x = 0; x < k; x++) {
                    size_t file = 4 * (size_t)(((o * ci + i) * k + y) * k + x);
                    float *mem = t->data + ((size_t)(y * k + x) * ci + i) * co + o;
                    if (in)
                        memcpy(mem, in + file, 4);
                    else
                        memcpy(out + file, mem, 4);
                }
}

void unr_tensor_from_file(unr_tensor *t, const unsigned char *bytes) { transfer(t, bytes, NULL); }
void unr_tensor_to_file(const unr_tensor *t, unsigned char *bytes) { transfer(t, NULL, bytes); }
