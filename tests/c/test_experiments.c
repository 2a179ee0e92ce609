/* test_experiments.c: the experiments of PAPER.md against exact answers:
 * the unraveled view on a linear network, gradient per length against
 * exhaustive enumeration, the reusing lesion sweep against plain
 * evaluation, the path-length distribution against known values, and the
 * draws of random plans. */
#include "testing.h"
#define FIXTURES_TEMP_NAME "unr_test_experiments"
#include "fixtures.h"
#include "internal.h"

static unr_model *tiny(unr_shortcut sc, int bps, uint64_t seed)
{
    unr_arch arch = sc == UNR_SHORTCUT_A ? tiny_arch(sc, bps, 4, 6, 8) : tiny_arch(sc, bps, 3, 5, 7);
    return init_model(&arch, seed);
}

/* ---- claim 1: the unraveled view, exactly ---- */

static void linear_network_equals_sum_over_all_paths(void)
{
    /* With linear residual branches (no ReLU, batch norm an affine map with
     * zero offset), y_n = sum over all 2^n paths of the composed branches. */
    unr_model *m = tiny(UNR_SHORTCUT_A, 2, 3);
    CHECK(m);
    unr_rng r;
    unr_rng_seed(&r, 9);
    for (int b = 0; b < m->num_blocks; b++) {
        unr_bn *bns[2] = {&m->bp[b].bn1, &m->bp[b].bn2};
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < bns[j]->c; c++) {
                bns[j]->gamma[c] = (float)(0.5 + unr_rng_uniform(&r));
                bns[j]->var[c] = (float)(0.5 + unr_rng_uniform(&r));
                bns[j]->mean[c] = (float)(unr_rng_uniform(&r) - 0.5);
                /* beta = gamma*mean/sqrt(var+eps): folded shift exactly 0 */
                bns[j]->beta[c] = (float)(bns[j]->gamma[c] * bns[j]->mean[c] /
                                          sqrt((double)bns[j]->var[c] + m->arch.bn_eps));
            }
    }
    unr_model_refold(m);
    for (int b = 0; b < m->num_blocks; b++)
        for (int c = 0; c < m->fb[b].c1.co; c++)
            m->fb[b].c1.b[c] = 0, m->fb[b].c2.b[c] = 0;
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, 2, 1, UNR_ISA_SCALAR, &run, &err), err);
    run->linear_branches = 1;
    enum { N = 2 };
    uint8_t pix[N * UNR_IMAGE_BYTES], labels[N];
    random_pixels(pix, labels, N, 4);
    size_t act = unr_max_activation(m) * N;
    float *x0 = malloc(act * 4), *y = malloc(act * 4), *t = malloc(act * 4), *s = malloc(act * 4);
    float *cur = malloc(act * 4), *nxt = malloc(act * 4), *sum = calloc(act, 4), *full = malloc(act * 4);
    unr_images_to_input(m, pix, N, run->input);
    unr_net_stem(run, run->input, N, x0);
    /* the network: every block active */
    memcpy(cur, x0, act * 4);
    for (int b = 0; b < m->num_blocks; b++) {
        unr_net_block(run, b, 0, cur, N, nxt, t, s);
        memcpy(cur, nxt, act * 4);
    }
    const unr_block_info *last = &m->blocks[m->num_blocks - 1];
    size_t out = (size_t)N * last->h_out * last->h_out * last->cout;
    memcpy(full, cur, out * 4);
    /* the paths: at each block either the branch alone or the shortcut alone */
    int nb = m->num_blocks;
    for (int mask = 0; mask < (1 << nb); mask++) {
        memcpy(cur, x0, act * 4);
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = &m->blocks[b];
            if (mask >> b & 1) {
                unr_conv_shape s1 = {N, bi->h_in, bi->h_in, bi->cin, bi->cout, 3, bi->stride};
                unr_conv_shape s2 = {N, bi->h_out, bi->h_out, bi->cout, bi->cout, 3, 1};
                unr_epilogue none = {NULL, NULL, 0, 0};
                unr_conv_forward(run->ctx, &s1, cur, m->fb[b].c1.w, &none, t);
                unr_conv_forward(run->ctx, &s2, t, m->fb[b].c2.w, &none, nxt);
            } else if (bi->downsample) {
                unr_shortcut_a(cur, N, bi->h_in, bi->cin, bi->stride, bi->cout, nxt);
            } else {
                memcpy(nxt, cur, act * 4);
            }
            memcpy(cur, nxt, act * 4);
        }
        for (size_t i = 0; i < out; i++)
            sum[i] += cur[i];
    }
    double worst = 0, scale = 0;
    for (size_t i = 0; i < out; i++) {
        worst = fmax(worst, fabs((double)full[i] - sum[i]));
        scale = fmax(scale, fabs((double)full[i]));
    }
    CHECK(scale > 0);
    CHECK(worst <= 1e-4 * scale);
    free(x0), free(y), free(t), free(s), free(cur), free(nxt), free(sum), free(full);
    unr_runner_free(run);
    unr_model_free(m);
}

/* ---- claim 2: the reusing sweep ---- */

static void lesion_sweep_equals_evaluating_each_plan(void)
{
    unr_shortcut kinds[3] = {UNR_SHORTCUT_A, UNR_SHORTCUT_B, UNR_SHORTCUT_NONE};
    for (int kind = 0; kind < 3; kind++) {
        unr_model *m = tiny(kinds[kind], 3, 5 + kind);
        CHECK(m);
        enum { N = 37 };
        static uint8_t pix[N * UNR_IMAGE_BYTES], labels[N];
        random_pixels(pix, labels, N, 6);
        unr_cifar data = {N, labels, pix};
        unr_runner *run;
        unr_error err;
        CHECK_OK(unr_runner_create(m, 10, 2, UNR_ISA_AUTO, &run, &err), err);
        unr_plan *base = unr_plan_create(m), *plan = unr_plan_create(m);
        /* a base plan with one swap and one deletion already applied */
        if (kinds[kind] != UNR_SHORTCUT_NONE) {
            base->order[4] = 5, base->order[5] = 4;
            base->deleted[1] = 1;
        }
        unr_lesion_result res;
        CHECK_OK(unr_lesion_single(run, base, &data, 0, NULL, NULL, &res, &err), err);
        unr_eval_result ev;
        uint8_t base_pred[N], pred[N];
        CHECK_OK(unr_evaluate_predict(run, base, &data, 0, NULL, NULL, base_pred, &ev, &err), err);
        CHECK(res.full_error == ev.error);
        int flipped = 0;
        for (int b = 0; b < m->num_blocks; b++) {
            unr_plan_copy(plan, base);
            plan->deleted[b] = 1;
            if (!unr_block_deletable(m, b)) {
                CHECK(res.error[b] == -1.0);
                CHECK(res.turned_wrong[b] == 0 && res.turned_right[b] == 0);
                continue;
            }
            CHECK_OK(unr_evaluate_predict(run, plan, &data, 0, NULL, NULL, pred, &ev, &err), err);
            CHECK(res.error[b] == ev.error);
            /* the answers turned wrong and right, as two evaluations pair them */
            unr_paired_change c;
            unr_paired_compare(base_pred, pred, labels, N, &c);
            CHECK(res.turned_wrong[b] == c.turned_wrong && res.turned_right[b] == c.turned_right);
            flipped += c.turned_wrong + c.turned_right;
        }
        CHECK(flipped > 0);   /* else the flip counts were not tested */
        /* at most n/2 + 2 forward passes for n blocks */
        CHECK(res.forward_equivalents <= m->num_blocks / 2.0 + 2);
        unr_lesion_result_free(&res);
        unr_plan_free(plan);
        unr_plan_free(base);
        unr_runner_free(run);
        unr_model_free(m);
    }
}

/* ---- claim 3: random plans ---- */
/* The curves run each plan only from its first change, on activations of
 * the unmodified network: their errors must be exactly those of evaluating
 * each drawn plan from scratch, with batches cut into chunks, and across
 * the groups of plans that share a batch. */
static void random_curves_equal_evaluating_each_plan(void)
{
    unr_shortcut kinds[3] = {UNR_SHORTCUT_A, UNR_SHORTCUT_B, UNR_SHORTCUT_NONE};
    enum { N = 45 };
    static uint8_t pix[N * UNR_IMAGE_BYTES], labels[N];
    random_pixels(pix, labels, N, 11);
    unr_cifar data = {N, labels, pix};
    for (int kind = 0; kind < 3; kind++) {
        unr_model *m = tiny(kinds[kind], 3, 20 + kind);
        CHECK(m);
        unr_runner *run;
        unr_error err;
        CHECK_OK(unr_runner_create(m, 16, 2, UNR_ISA_AUTO, &run, &err), err);
        unr_runner_set_chunk(run, 5);   /* 45 images: batches of 16, 16, 13 in chunks of 5 */
        unr_plan *plan = unr_plan_create(m);
        int ks[4] = {0, 1, 2, 5};
        for (int swap = 0; swap < 2; swap++) {
            unr_curve_point pts[4];
            CHECK_OK(unr_random_curve(run, swap ? UNR_RANDOM_SWAP : UNR_RANDOM_DELETE, &data, 0, ks, 4,
                                      4, 9, NULL, NULL, pts, &err), err);
            for (int i = 0; i < 4; i++)
                for (int s = 0; s < 4; s++) {
                    CHECK_OK(swap ? unr_draw_swaps(m, ks[i], 9, s, plan, &err)
                                  : unr_draw_deletion(m, ks[i], 9, s, plan, &err), err);
                    unr_eval_result ev;
                    CHECK_OK(unr_evaluate(run, plan, &data, 0, NULL, NULL, &ev, &err), err);
                    CHECK(pts[i].errors[s] == ev.error);
                    CHECK(pts[i].taus[s] == unr_plan_kendall_tau(plan));
                }
            unr_curve_free(pts, 4);
        }
        /* more plans than one group: draws on both sides of the boundary */
        int k2 = 2;
        unr_curve_point pt;
        CHECK_OK(unr_random_curve(run, UNR_RANDOM_DELETE, &data, 20, &k2, 1, 300, 4, NULL, NULL, &pt, &err), err);
        int probe[4] = {0, 255, 256, 299};
        for (int j = 0; j < 4; j++) {
            CHECK_OK(unr_draw_deletion(m, 2, 4, probe[j], plan, &err), err);
            unr_eval_result ev;
            CHECK_OK(unr_evaluate(run, plan, &data, 20, NULL, NULL, &ev, &err), err);
            CHECK(pt.errors[probe[j]] == ev.error);
        }
        unr_curve_free(&pt, 1);
        unr_plan_free(plan);
        unr_runner_free(run);
        unr_model_free(m);
    }
}

/* The page's workers take image ranges: plans evaluated range by range
 * (any cut, across batches and chunks) must sum to the curve's errors. */
static void random_plans_by_image_range_sum_to_the_curve(void)
{
    enum { N = 45, S = 3 };
    static uint8_t pix[N * UNR_IMAGE_BYTES], labels[N];
    random_pixels(pix, labels, N, 13);
    unr_cifar data = {N, labels, pix};
    unr_model *m = tiny(UNR_SHORTCUT_A, 3, 31);
    CHECK(m);
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, 16, 2, UNR_ISA_AUTO, &run, &err), err);
    unr_runner_set_chunk(run, 5);
    int ks[4] = {0, 1, 3, 6};
    for (int swap = 0; swap < 2; swap++) {
        unr_random_kind kind = swap ? UNR_RANDOM_SWAP : UNR_RANDOM_DELETE;
        int nks = swap ? 3 : 4;   /* a 9-block tiny net has fewer swappable pairs */
        unr_curve_point pts[4];
        CHECK_OK(unr_random_curve(run, kind, &data, 0, ks, nks, S, 7, NULL, NULL, pts, &err), err);
        int pk[12], ps[12], np = 0;
        for (int i = 0; i < nks; i++)
            for (int s = S - 1; s >= 0; s--)   /* any order of plans */
                pk[np] = ks[i], ps[np++] = s;
        long sum[12] = {0}, part[12];
        double taus[12];
        int cuts[5] = {0, 7, 23, 40, N};    /* ranges of 7, 16 and 17 (over a batch) and 5 */
        for (int c = 0; c < 4; c++) {
            CHECK_OK(unr_random_plans_batch(run, kind, &data, cuts[c], cuts[c + 1] - cuts[c], pk, ps,
                                            np, 7, part, taus, &err), err);
            for (int j = 0; j < np; j++)
                sum[j] += part[j];
        }
        for (int j = 0; j < np; j++) {
            int i = j / S, s = ps[j];
            CHECK(pts[i].errors[s] == 1.0 - (double)sum[j] / N);
            CHECK(pts[i].taus[s] == taus[j]);
        }
        unr_curve_free(pts, nks);
    }
    /* bad requests are refused by name, nothing written past them */
    int k1 = 1, s0 = 0, sneg = -1, kbig = 99;
    long one;
    CHECK(unr_random_plans_batch(run, UNR_RANDOM_DELETE, &data, 40, 6, &k1, &s0, 1, 7, &one, NULL,
                                 &err) == UNR_ERR_RANGE && strstr(err.message, "images 40..45"));
    CHECK(unr_random_plans_batch(run, UNR_RANDOM_DELETE, &data, 0, 5, &k1, &s0, 0, 7, &one, NULL,
                                 &err) == UNR_ERR_RANGE && strstr(err.message, "0 plans"));
    CHECK(unr_random_plans_batch(run, UNR_RANDOM_DELETE, &data, 0, 5, &k1, &sneg, 1, 7, &one, NULL,
                                 &err) == UNR_ERR_RANGE && strstr(err.message, "sample -1"));
    CHECK(unr_random_plans_batch(run, UNR_RANDOM_DELETE, &data, 0, 5, &kbig, &s0, 1, 7, &one, NULL,
                                 &err) == UNR_ERR_RANGE && strstr(err.message, "k = 99"));
    /* a curve of more than UNR_MAX_RANDOM_DRAWS draws is refused before any work */
    int two[2] = {0, 1};
    unr_curve_point big[2];
    CHECK(unr_random_curve(run, UNR_RANDOM_DELETE, &data, 0, two, 2, 600000, 7, NULL, NULL, big,
                           &err) == UNR_ERR_RANGE &&
          strstr(err.message, "2 ks x 600000 samples = 1200000 draws is over the limit of 1000000"));
    unr_runner_free(run);
    unr_model_free(m);
}


static void random_deletions_are_distinct_seeded_and_deletable(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_NONE, 3, 1);
    CHECK(m);
    unr_plan *p = unr_plan_create(m), *q = unr_plan_create(m);
    unr_error err;
    CHECK(unr_max_deletions(m) == m->num_blocks - 2);
    for (int k = 0; k <= unr_max_deletions(m); k++)
        for (int s = 0; s < 20; s++) {
            CHECK_OK(unr_draw_deletion(m, k, 42, s, p, &err), err);
            CHECK_OK(unr_draw_deletion(m, k, 42, s, q, &err), err);
            int count = 0;
            for (int b = 0; b < m->num_blocks; b++) {
                count += p->deleted[b];
                CHECK(p->deleted[b] == q->deleted[b]);
            }
            CHECK(count == k);
            CHECK_OK(unr_plan_validate(m, p, &err), err);
        }
    CHECK(unr_draw_deletion(m, unr_max_deletions(m) + 1, 42, 0, p, &err) == UNR_ERR_RANGE);
    unr_plan_free(p), unr_plan_free(q);
    unr_model_free(m);
}

static void random_swaps_stay_in_stage_and_tau_falls(void)
{
    /* 5 swappable blocks in stage 1 (10 pairs), 4 in stages 2 and 3 (6 each) */
    unr_model *m = tiny(UNR_SHORTCUT_A, 5, 1);
    CHECK(m);
    CHECK(unr_max_swaps(m) == 22);
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    double tau_sum[23] = {0};
    for (int k = 0; k <= 22; k++)
        for (int s = 0; s < 50; s++) {
            CHECK_OK(unr_draw_swaps(m, k, 7, s, p, &err), err);
            CHECK_OK(unr_plan_validate(m, p, &err), err);
            tau_sum[k] += unr_plan_kendall_tau(p);
            if (k == 1) {
                int moved = 0;
                for (int i = 0; i < m->num_blocks; i++)
                    moved += p->order[i] != i;
                CHECK(moved == 2);
            }
        }
    CHECK(tau_sum[0] == 50);
    CHECK(tau_sum[6] < tau_sum[1]);
    unr_plan_free(p);
    unr_model_free(m);
}

/* Four stages of 3/2/4/3 blocks: swap pairs are counted in every stage
 * (stage 1: 3 pairs, stage 2: none, stage 3: 3, stage 4: 1), draws stay in
 * their stage, and the reusing sweep still equals plain evaluation. */
static void four_stage_networks_draw_and_sweep_correctly(void)
{
    unr_arch a = {.shortcut = UNR_SHORTCUT_A, .num_classes = 10, .bn_eps = 1e-5f, .num_stages = 4,
                  .stage_blocks = {3, 2, 4, 3}, .widths = {4, 6, 8, 10}};
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 3, &m, &err), err);
    CHECK(unr_max_swaps(m) == 7);
    CHECK(unr_max_deletions(m) == 12);
    unr_plan *p = unr_plan_create(m);
    for (int s = 0; s < 20; s++) {
        CHECK_OK(unr_draw_swaps(m, 7, 9, s, p, &err), err);
        CHECK_OK(unr_plan_validate(m, p, &err), err);
        for (int pos = 0; pos < m->num_blocks; pos++)
            CHECK(m->blocks[p->order[pos]].stage == m->blocks[pos].stage);
    }
    CHECK(unr_draw_swaps(m, 8, 9, 0, p, &err) == UNR_ERR_RANGE);
    enum { N = 23 };
    static uint8_t pix[N * UNR_IMAGE_BYTES], labels[N];
    random_pixels(pix, labels, N, 8);
    unr_cifar data = {N, labels, pix};
    unr_runner *run;
    CHECK_OK(unr_runner_create(m, 10, 2, UNR_ISA_AUTO, &run, &err), err);
    unr_lesion_result res;
    unr_plan_reset(p);
    CHECK_OK(unr_lesion_single(run, p, &data, 0, NULL, NULL, &res, &err), err);
    for (int b = 0; b < m->num_blocks; b++) {
        unr_plan_reset(p);
        p->deleted[b] = 1;
        unr_eval_result ev;
        CHECK_OK(unr_evaluate(run, p, &data, 0, NULL, NULL, &ev, &err), err);
        CHECK(res.error[b] == ev.error);
    }
    unr_lesion_result_free(&res);
    unr_runner_free(run);
    unr_plan_free(p);
    unr_model_free(m);
}

/* ---- claims 4-6: paths ---- */

static void path_distribution_matches_known_values(void)
{
    double p[1001], s = 0;
    unr_path_distribution(3, p);
    CHECK_NEAR(p[0], 1.0 / 8, 1e-15);
    CHECK_NEAR(p[1], 3.0 / 8, 1e-15);
    unr_path_distribution(54, p);
    for (int k = 0; k <= 54; k++)
        s += p[k];
    CHECK_NEAR(s, 1.0, 1e-12);
    double share = 0;
    for (int k = 5; k <= 17; k++)
        share += p[k];
    CHECK_NEAR(100 * share, 0.4537, 5e-5);   /* PAPER.md, claim 6 */
    unr_path_distribution(1000, p);
    s = 0;
    for (int k = 0; k <= 1000; k++) {
        CHECK(isfinite(p[k]) && p[k] >= 0);
        s += p[k];
    }
    CHECK_NEAR(s, 1.0, 1e-9);
    CHECK_NEAR(p[500], 0.025225, 1e-6);
}

static void effective_window_is_the_shortest_interval(void)
{
    /* g_k = 2^-k over n = 10: total_k = C(10,k) 2^-k, peaked at k = 3 */
    double g[11], share[11];
    for (int k = 0; k <= 10; k++)
        g[k] = pow(2, -k);
    unr_window w;
    unr_error err;
    CHECK_OK(unr_effective_window(10, g, 0.9, &w, share, &err), err);
    double total = 0, best = 0;
    for (int k = 0; k <= 10; k++)
        total += share[k];
    CHECK_NEAR(total, 1.0, 1e-12);
    CHECK(w.mass >= 0.9);
    /* no shorter interval reaches 0.9 */
    for (int a = 0; a + (w.b - w.a) - 1 <= 10; a++) {
        double m = 0;
        for (int k = a; k <= a + (w.b - w.a) - 1; k++)
            m += share[k];
        best = fmax(best, m);
    }
    CHECK(best < 0.9);
    CHECK(w.a <= 3 && w.b >= 3);
    CHECK(unr_effective_window(10, g, 1.5, &w, NULL, &err) == UNR_ERR_RANGE);
    g[4] = NAN;   /* a broken measurement is refused, not skipped */
    CHECK(unr_effective_window(10, g, 0.9, &w, NULL, &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "length 4") != NULL);
    g[4] = INFINITY;
    CHECK(unr_effective_window(10, g, 0.9, &w, NULL, &err) == UNR_ERR_RANGE);
}

static void window_bootstrap_spans_the_resampled_windows(void)
{
    /* Two samples with windows far apart: sample 0 has g_k = 4^-k (short
     * paths), sample 1 has g_k = 4^(k-10) (long ones, the same total
     * gradient: sum C(10,k) 4^-k = 1.25^10). A resample is {0,0},
     * {1,1} or {0,1}, whose means give the three windows below; with 39
     * resamples the central 95% is the full range. */
    enum { N = 10, S = 2 };
    double norms[(N + 1) * S], g0[N + 1], g1[N + 1], gm[N + 1];
    for (int k = 0; k <= N; k++) {
        g0[k] = norms[k * S] = pow(4, -k);
        g1[k] = norms[k * S + 1] = pow(4, k - N);
        gm[k] = (g0[k] + g1[k]) / 2;
    }
    unr_window w0, w1, wm;
    unr_error err;
    CHECK_OK(unr_effective_window(N, g0, 0.9, &w0, NULL, &err), err);
    CHECK_OK(unr_effective_window(N, g1, 0.9, &w1, NULL, &err), err);
    CHECK_OK(unr_effective_window(N, gm, 0.9, &wm, NULL, &err), err);
    /* the fixture separates them, and the mixture needs a wider window */
    CHECK(w0.b < w1.a && wm.b - wm.a > w0.b - w0.a && wm.b - wm.a > w1.b - w1.a);
    unr_window_spread sp, again;
    CHECK_OK(unr_window_bootstrap(N, norms, S, 0.9, 39, 7, &sp, &err), err);
    CHECK(sp.resamples == 39);
    CHECK(sp.a_lo == fmin(w0.a, fmin(w1.a, wm.a)) && sp.a_hi == fmax(w0.a, fmax(w1.a, wm.a)));
    CHECK(sp.b_lo == fmin(w0.b, fmin(w1.b, wm.b)) && sp.b_hi == fmax(w0.b, fmax(w1.b, wm.b)));
    CHECK(sp.share_lo <= fmin(w0.share, w1.share) && sp.share_hi >= fmax(w0.share, w1.share));
    CHECK(sp.same > 0.25 && sp.same < 0.75);   /* {0,1} comes up about half the time */
    CHECK_OK(unr_window_bootstrap(N, norms, S, 0.9, 39, 7, &again, &err), err);
    CHECK(memcmp(&sp, &again, sizeof sp) == 0);

    /* Identical samples: every resample gives the one window. */
    double same[(N + 1) * 5];
    for (int k = 0; k <= N; k++)
        for (int s = 0; s < 5; s++)
            same[k * 5 + s] = g0[k];
    CHECK_OK(unr_window_bootstrap(N, same, 5, 0.9, 200, 1, &sp, &err), err);
    CHECK(sp.same == 1.0 && sp.a_lo == w0.a && sp.a_hi == w0.a && sp.b_lo == w0.b && sp.b_hi == w0.b);
    CHECK(sp.share_lo == w0.share && sp.share_hi == w0.share);

    /* Bad input is refused with the place named. */
    norms[3 * S + 1] = NAN;
    CHECK(unr_window_bootstrap(N, norms, S, 0.9, 39, 7, &sp, &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "length 3, sample 1") != NULL);
    norms[3 * S + 1] = -1;
    CHECK(unr_window_bootstrap(N, norms, S, 0.9, 39, 7, &sp, &err) == UNR_ERR_RANGE);
    norms[3 * S + 1] = 1;
    CHECK(unr_window_bootstrap(N, norms, S, 0.9, 0, 7, &sp, &err) == UNR_ERR_RANGE);
    CHECK(unr_window_bootstrap(N, norms, 0, 0.9, 39, 7, &sp, &err) == UNR_ERR_RANGE);
    CHECK(unr_window_bootstrap(N, norms, S, 1.5, 39, 7, &sp, &err) == UNR_ERR_RANGE);
}

static void gradient_per_length_matches_exhaustive_average(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A, 2, 8);
    CHECK(m);
    int nb = m->num_blocks;   /* 6 blocks, 64 subsets */
    enum { B = 3 };
    static uint8_t pix[B * UNR_IMAGE_BYTES], labels[B];
    random_pixels(pix, labels, B, 10);
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, B, 1, UNR_ISA_AUTO, &run, &err), err);
    double exact[7] = {0}, count[7] = {0};
    unsigned char active[6];
    for (int mask = 0; mask < 64; mask++) {
        int k = 0;
        for (int b = 0; b < nb; b++)
            k += active[b] = (unsigned char)(mask >> b & 1);
        double norm;
        CHECK_OK(unr_paths_gradient(run, pix, labels, B, active, &norm, &err), err);
        exact[k] += norm, count[k]++;
    }
    /* A data set of exactly B images: every sample uses the same batch (in
     * some order, which the norm does not see), so the sampled mean per k
     * estimates the exhaustive one. */
    unr_cifar data = {B, labels, pix};
    unr_paths_result res;
    CHECK_OK(unr_path_stats(run, &data, 300, B, 1, 0.9, NULL, NULL, &res, &err), err);
    for (int k = 0; k <= nb; k++) {
        double mean = exact[k] / count[k];
        /* within 4 standard errors, and k = 0 and k = n exactly */
        double tol = 4 * res.grad_sd[k] / sqrt(300.0) + 1e-6 * mean;
        CHECK_NEAR(res.grad_mean[k], mean, tol);
        /* the kept draws are the ones summarised, and sample s is unr_paths_sample's */
        double sum = 0;
        for (int s = 0; s < 300; s++)
            sum += res.norms[(size_t)k * 300 + s];
        CHECK_NEAR(sum / 300, res.grad_mean[k], 1e-12 * res.grad_mean[k]);
    }
    double one[UNR_MAX_BLOCKS + 1];
    CHECK_OK(unr_paths_sample(run, &data, B, 1, 7, one, &err), err);
    for (int k = 0; k <= nb; k++)
        CHECK(one[k] == res.norms[(size_t)k * 300 + 7]);
    unr_paths_result_free(&res);
    unr_runner_free(run);
    unr_model_free(m);
}

static void path_gradient_at_k_0_and_n_does_not_depend_on_the_draw(void)
{
    /* k = 0 (all shortcuts) and k = n (all branches) have one subset each,
     * so any seed and sample on the same batch gives the same norm. */
    unr_model *m = tiny(UNR_SHORTCUT_B, 2, 9);
    CHECK(m);
    enum { B = 4 };
    static uint8_t pix[B * UNR_IMAGE_BYTES], labels[B];
    random_pixels(pix, labels, B, 11);
    unr_cifar data = {B, labels, pix};
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, B, 1, UNR_ISA_AUTO, &run, &err), err);
    double a[7], b[7];
    CHECK_OK(unr_paths_sample(run, &data, B, 1, 0, a, &err), err);
    CHECK_OK(unr_paths_sample(run, &data, B, 2, 5, b, &err), err);
    CHECK_NEAR(a[6], b[6], 1e-6 * a[6]);
    CHECK_NEAR(a[0], b[0], 1e-6 * a[0]);
    unr_runner_free(run);
    unr_model_free(m);
    /* a plain network has one path */
    m = tiny(UNR_SHORTCUT_NONE, 1, 1);
    CHECK_OK(unr_runner_create(m, B, 1, UNR_ISA_AUTO, &run, &err), err);
    CHECK(unr_paths_sample(run, &data, B, 1, 0, a, &err) == UNR_ERR_UNSUPPORTED);
    unr_runner_free(run);
    unr_model_free(m);
}

/* Residual branches scaled by 2^-12 each (exact), so a path through all 24
 * carries ~2^-288 of the gradient: far below float's range, yet it must be
 * measured (not read as 0), and fall with every branch added. */
static void path_gradient_far_below_float_range_is_measured(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A, 8, 4);
    CHECK(m);
    for (int b = 0; b < m->num_blocks; b++) {
        unr_fconv *c2 = &m->fb[b].c2;
        for (size_t i = 0; i < (size_t)c2->k * c2->k * c2->ci * c2->co; i++)
            c2->w[i] = ldexpf(c2->w[i], -12);
        for (int o = 0; o < c2->co; o++)
            c2->b[o] = ldexpf(c2->b[o], -12);
    }
    enum { B = 4, N = 24 };
    static uint8_t pix[B * UNR_IMAGE_BYTES], labels[B];
    random_pixels(pix, labels, B, 12);
    unr_cifar data = {B, labels, pix};
    unr_runner *run;
    unr_error err;
    CHECK_OK(unr_runner_create(m, B, 1, UNR_ISA_AUTO, &run, &err), err);
    double g[N + 1];
    CHECK_OK(unr_paths_sample(run, &data, B, 1, 0, g, &err), err);
    int positive = 0, falling = 0;
    for (int k = 0; k <= N; k++) {
        positive += g[k] > 0 && isfinite(g[k]);
        falling += k > 0 && g[k] < g[k - 1] * 0x1p-6;
    }
    CHECK(positive == N + 1);
    CHECK(falling == N);              /* each branch costs about 2^-12 */
    CHECK(log2(g[N]) < -200);         /* a float could not hold it */
    unr_runner_free(run);
    unr_model_free(m);
}

TEST_MAIN(TEST_CASE(linear_network_equals_sum_over_all_paths),
          TEST_CASE(lesion_sweep_equals_evaluating_each_plan),
          TEST_CASE(random_curves_equal_evaluating_each_plan),
          TEST_CASE(random_plans_by_image_range_sum_to_the_curve),
          TEST_CASE(random_deletions_are_distinct_seeded_and_deletable),
          TEST_CASE(random_swaps_stay_in_stage_and_tau_falls),
          TEST_CASE(four_stage_networks_draw_and_sweep_correctly),
          TEST_CASE(path_distribution_matches_known_values),
          TEST_CASE(effective_window_is_the_shortest_interval),
          TEST_CASE(window_bootstrap_spans_the_resampled_windows),
          TEST_CASE(gradient_per_length_matches_exhaustive_average),
          TEST_CASE(path_gradient_at_k_0_and_n_does_not_depend_on_the_draw),
          TEST_CASE(path_gradient_far_below_float_range_is_measured))
