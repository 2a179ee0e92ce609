/* lesion.c: deleting and reordering blocks at test time (claims 2 and 3 of
 * PAPER.md): single-block sweeps that reuse activations, and curves over k
 * random deletions or swaps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* ---- single-block lesions ---- */

/* Right answers among n logits; ok[i] (if not NULL) records each. */
static int count_correct(const float *logits, const uint8_t *labels, int n, int k, uint8_t *ok)
{
    int right = 0;
    for (int i = 0; i < n; i++) {
        int is = unr_argmax(logits + (size_t)i * k, k) == labels[i];
        if (ok)
            ok[i] = (uint8_t)is;
        right += is;
    }
    return right;
}

/* Right answers, and (into flips[0], flips[1]) how many turned wrong and
 * right against base_ok. */
static int count_flips(const float *logits, const uint8_t *labels, int n, int k,
                       const uint8_t *base_ok, int *flips)
{
    int right = 0, wrong_now = 0, right_now = 0;
    for (int i = 0; i < n; i++) {
        int is = unr_argmax(logits + (size_t)i * k, k) == labels[i];
        right += is;
        wrong_now += base_ok[i] && !is;
        right_now += !base_ok[i] && is;
    }
    flips[0] = wrong_now;
    flips[1] = right_now;
    return right;
}

/* Run positions [from, nb) of the plan starting from x, then the head. */
static void run_suffix(unr_runner *r, const unr_plan *p, int from, const float *x, int n,
                       float *logits)
{
    const float *in = x;
    float *bufs[2] = {r->act[0], r->act[1]};
    int which = 0;
    for (int pos = from; pos < p->num_blocks; pos++) {
        int b = p->order[pos];
        float *y = bufs[which];
        unr_net_block(r, b, p->deleted[b], in, n, y, r->act[2], r->act[3]);
        in = y;
        which ^= 1;
    }
    unr_net_head(r, in, n, logits);
}

unr_status unr_lesion_batch(unr_runner *r, const unr_plan *base, const uint8_t *pixels,
                            const uint8_t *labels, int n, int *correct, int *flips,
                            long *blocks_run, unr_error *err)
{
    const unr_model *m = r->m;
    int nb = m->num_blocks, k = m->arch.num_classes;
    if (n < 1 || n > r->max_batch)
        return unr_fail(err, UNR_ERR_RANGE, "lesion: batch of %d is outside 1..%d", n, r->max_batch);
    unr_status st = unr_plan_validate(m, base, err);
    if (!st)
        st = unr_runner_reserve_saved(r, err);
    if (st)
        return st;
    uint8_t *base_ok = flips ? malloc((size_t)n) : NULL;
    if (flips && !base_ok)
        return unr_fail(err, UNR_ERR_NOMEM, "lesion: out of memory");
    /* The base plan once, keeping the input of every position. */
    unr_images_to_input(m, pixels, n, r->input);
    unr_net_stem(r, r->input, n, r->saved[0]);
    for (int pos = 0; pos < nb; pos++) {
        int b = base->order[pos];
        unr_net_block(r, b, base->deleted[b], r->saved[pos], n, r->saved[pos + 1], r->act[2],
                      r->act[3]);
    }
    unr_net_head(r, r->saved[nb], n, r->logits);
    correct[nb] = count_correct(r->logits, labels, n, k, base_ok);
    long run = nb;
    /* Deleting the block at position pos changes nothing before it: start
     * from the saved input there and run only the suffix. */
    for (int pos = 0; pos < nb; pos++) {
        int b = base->order[pos];
        if (flips)
            flips[2 * b] = flips[2 * b + 1] = 0;
        if (!unr_block_deletable(m, b)) {
            correct[b] = -1;
            continue;
        }
        if (base->deleted[b]) {
            correct[b] = correct[nb];
            continue;
        }
        /* grad[0] is free scratch here, out of the way of run_suffix's buffers. */
        unr_net_block(r, b, 1, r->saved[pos], n, r->grad[0], r->act[2], r->act[3]);
        run_suffix(r, base, pos + 1, r->grad[0], n, r->logits);
        correct[b] = flips ? count_flips(r->logits, labels, n, k, base_ok, flips + 2 * b)
                           : count_correct(r->logits, labels, n, k, NULL);
        run += nb - pos;
    }
    if (blocks_run)
        *blocks_run += run;
    free(base_ok);
    return UNR_OK;
}

unr_status unr_lesion_single(unr_runner *r, const unr_plan *base, const unr_cifar *data,
                             int limit, unr_progress_fn progress, void *user,
                             unr_lesion_result *out, unr_error *err)
{
    const unr_model *m = r->m;
    int nb = m->num_blocks;
    int total = limit > 0 && limit < data->n ? limit : data->n;
    memset(out, 0, sizeof *out);
    int *correct = malloc((size_t)(nb + 1) * sizeof *correct);
    int *flips = malloc((size_t)(2 * nb) * sizeof *flips);
    long *sum = calloc((size_t)nb + 1, sizeof *sum);
    out->error = malloc((size_t)nb * sizeof *out->error);
    out->turned_wrong = calloc((size_t)nb, sizeof *out->turned_wrong);
    out->turned_right = calloc((size_t)nb, sizeof *out->turned_right);
    unr_status st = UNR_OK;
    if (!correct || !flips || !sum || !out->error || !out->turned_wrong || !out->turned_right)
        st = unr_fail(err, UNR_ERR_NOMEM, "lesion: out of memory");
    long blocks_run = 0;
    for (int at = 0; at < total && !st; at += r->max_batch) {
        int n = total - at < r->max_batch ? total - at : r->max_batch;
        st = unr_lesion_batch(r, base, data->pixels + (size_t)at * UNR_IMAGE_BYTES,
                              data->labels + at, n, correct, flips, &blocks_run, err);
        for (int b = 0; b <= nb && !st; b++)
            sum[b] += correct[b];
        for (int b = 0; b < nb && !st; b++) {
            out->turned_wrong[b] += flips[2 * b];
            out->turned_right[b] += flips[2 * b + 1];
        }
        if (!st && progress && progress(user, at + n, total))
            st = unr_fail(err, UNR_ERR_CANCELLED, "lesion: cancelled");
    }
    if (!st) {
        out->n = total;
        out->full_error = 1.0 - (double)sum[nb] / total;
        for (int b = 0; b < nb; b++)
            out->error[b] = correct[b] < 0 ? -1.0 : 1.0 - (double)sum[b] / total;
        /* blocks run per image batch, over the blocks of one forward pass */
        int batches = (total + r->max_batch - 1) / r->max_batch;
        out->forward_equivalents = (double)blocks_run / batches / nb;
    }
    free(correct);
    free(flips);
    free(sum);
    if (st)
        unr_lesion_result_free(out);
    return st;
}

void unr_lesion_result_free(unr_lesion_result *res)
{
    free(res->error);
    free(res->turned_wrong);
    free(res->turned_right);
    res->error = NULL;
    res->turned_wrong = res->turned_right = NULL;
}

/* ---- random plans ---- */

enum { TAG_DELETE = 1, TAG_SWAP = 2 };

int unr_max_deletions(const unr_model *m)
{
    int k = 0;
    for (int b = 0; b < m->num_blocks; b++)
        k += unr_block_deletable(m, b);
    return k;
}

/* Same-stage pairs of swappable blocks, enumerated stage by stage. */
static long count_pairs(const unr_model *m, int stage)
{
    long s = 0;
    for (int b = 0; b < m->num_blocks; b++)
        s += m->blocks[b].stage == stage && unr_block_swappable(m, b);
    return s * (s - 1) / 2;
}

static long count_all_pairs(const unr_model *m)
{
    long total = 0;
    for (int s = 0; s < m->arch.num_stages; s++)
        total += count_pairs(m, s);
    return total;
}

int unr_max_swaps(const unr_model *m)
{
    long total = count_all_pairs(m);
    long cap = UNR_MAX_BLOCKS;  /* what unr_rng_choose draws at most */
    return (int)(total < cap ? total : cap);
}

unr_status unr_draw_deletion(const unr_model *m, int k, uint64_t seed, int sample,
                             unr_plan *out, unr_error *err)
{
    int most = unr_max_deletions(m);
    if (k < 0 || k > most)
        return unr_fail(err, UNR_ERR_RANGE, "delete-random: k = %d is outside 0..%d", k, most);
    int *cand = malloc((size_t)m->num_blocks * sizeof *cand), *pick = malloc((size_t)(k + 1) * sizeof *pick);
    if (!cand || !pick) {
        free(cand), free(pick);
        return unr_fail(err, UNR_ERR_NOMEM, "delete-random: out of memory");
    }
    int nc = 0;
    for (int b = 0; b < m->num_blocks; b++)
        if (unr_block_deletable(m, b))
            cand[nc++] = b;
    unr_rng rng;
    unr_rng_seed_for(&rng, seed, TAG_DELETE, (uint64_t)k, (uint64_t)sample);
    unr_rng_choose(&rng, nc, k, pick);
    unr_plan_reset(out);
    for (int i = 0; i < k; i++)
        out->deleted[cand[pick[i]]] = 1;
    free(cand);
    free(pick);
    return UNR_OK;
}

unr_status unr_draw_swaps(const unr_model *m, int k, uint64_t seed, int sample, unr_plan *out,
                          unr_error *err)
{
    int most = unr_max_swaps(m);
    if (k < 0 || k > most)
        return unr_fail(err, UNR_ERR_RANGE, "swap-random: k = %d is outside 0..%d", k, most);
    int *pick = malloc((size_t)(k + 1) * sizeof *pick);
    int *pos = malloc((size_t)m->num_blocks * sizeof *pos);
    int *members = malloc((size_t)m->num_blocks * sizeof *members);
    if (!pick || !pos || !members) {
        free(pick), free(pos), free(members);
        return unr_fail(err, UNR_ERR_NOMEM, "swap-random: out of memory");
    }
    long total = count_all_pairs(m);
    unr_rng rng;
    unr_rng_seed_for(&rng, seed, TAG_SWAP, (uint64_t)k, (uint64_t)sample);
    /* Pair indices: draws of distinct integers in [0, total). */
    unr_rng_choose(&rng, (int)total, k, pick);
    unr_plan_reset(out);
    for (int b = 0; b < m->num_blocks; b++)
        pos[b] = b;  /* position of block b */
    for (int i = 0; i < k; i++) {
        long idx = pick[i];
        int stage = 0;
        while (idx >= count_pairs(m, stage))
            idx -= count_pairs(m, stage), stage++;
        int nm = 0;
        for (int b = 0; b < m->num_blocks; b++)
            if (m->blocks[b].stage == stage && unr_block_swappable(m, b))
                members[nm++] = b;
        /* idx -> (u, v), u < v, in row-major order of the upper triangle */
        int u = 0;
        while (idx >= nm - 1 - u)
            idx -= nm - 1 - u, u++;
        int v = u + 1 + (int)idx;
        int bu = members[u], bv = members[v];
        int pu = pos[bu], pv = pos[bv];
        out->order[pu] = bv, out->order[pv] = bu;
        pos[bu] = pv, pos[bv] = pu;
    }
    free(pick);
    free(pos);
    free(members);
    return UNR_OK;
}

/* ---- curves over k ---- */

void unr_summarize(const double *v, int n, double *mean, double *sd, double *min, double *max)
{
    double s = 0, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        s += v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    double mu = n ? s / n : 0, ss = 0;
    for (int i = 0; i < n; i++)
        ss += (v[i] - mu) * (v[i] - mu);
    *mean = mu;
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    *min = n ? lo : 0;
    *max = n ? hi : 0;
}

void unr_curve_free(unr_curve_point *points, int nks)
{
    for (int i = 0; points && i < nks; i++) {
        free(points[i].errors);
        free(points[i].taus);
        points[i].errors = points[i].taus = NULL;
    }
}

/* First position where p departs from the unmodified network (identity
 * order, nothing deleted); num_blocks if it does not. */
static int first_change(const unr_plan *p)
{
    for (int pos = 0; pos < p->num_blocks; pos++)
        if (p->order[pos] != pos || p->deleted[pos])
            return pos;
    return p->num_blocks;
}

/* Adds each plan's right answers on images [0, n) to correct[]. Chunk by
 * chunk (as unr_forward cuts the batch, so the numbers are the same), the
 * unmodified network runs as far as the latest first change, keeping the
 * input of every position, and each plan runs only from its own first
 * change: nothing before it differs. So no plan costs more than alone. */
static void plans_on_batch(unr_runner *r, unr_plan *const *plans, const int *from, int nplans,
                           const uint8_t *pixels, const uint8_t *labels, int n, long *correct)
{
    const unr_model *m = r->m;
    int k = m->arch.num_classes, deepest = 0;
    for (int i = 0; i < nplans; i++)
        deepest = from[i] > deepest ? from[i] : deepest;
    unr_images_to_input(m, pixels, n, r->input);
    for (int at = 0; at < n; at += r->chunk) {
        int c = n - at < r->chunk ? n - at : r->chunk;
        unr_net_stem(r, r->input + (size_t)at * UNR_IMAGE_BYTES, c, r->saved[0]);
        for (int pos = 0; pos < deepest; pos++)
            unr_net_block(r, pos, 0, r->saved[pos], c, r->saved[pos + 1], r->act[2], r->act[3]);
        for (int i = 0; i < nplans; i++) {
            run_suffix(r, plans[i], from[i], r->saved[from[i]], c, r->logits);
            correct[i] += count_correct(r->logits, labels + at, c, k, NULL);
        }
    }
}

enum { CURVE_GROUP = 256 };   /* plans that share each batch's unmodified forward pass */

/* Draw `sample` of k into plan, checked, with its first change and tau. */
static unr_status draw_random(const unr_model *m, unr_random_kind kind, int k, uint64_t seed,
                              int sample, unr_plan *plan, int *from, double *tau, unr_error *err)
{
    unr_status st = kind == UNR_RANDOM_DELETE ? unr_draw_deletion(m, k, seed, sample, plan, err)
                                              : unr_draw_swaps(m, k, seed, sample, plan, err);
    if (!st)
        st = unr_plan_validate(m, plan, err);
    if (!st) {
        *from = first_change(plan);
        *tau = unr_plan_kendall_tau(plan);
    }
    return st;
}

unr_status unr_random_plans_batch(unr_runner *r, unr_random_kind kind, const unr_cifar *data,
                                  int start, int n, const int *ks, const int *samples,
                                  int nplans, uint64_t seed, long *correct, double *taus,
                                  unr_error *err)
{
    const unr_model *m = r->m;
    if (start < 0 || n < 1 || start > data->n || n > data->n - start)
        return unr_fail(err, UNR_ERR_RANGE, "random plans: images %d..%d are outside the data "
                        "set's 0..%d", start, start + n - 1, data->n - 1);
    if (nplans < 1 || nplans > CURVE_GROUP)
        return unr_fail(err, UNR_ERR_RANGE, "random plans: %d plans at once is outside 1..%d",
                        nplans, CURVE_GROUP);
    for (int j = 0; j < nplans; j++)
        if (samples[j] < 0)
            return unr_fail(err, UNR_ERR_RANGE, "random plans: plan %d: sample %d is negative",
                            j, samples[j]);
    unr_plan **plans = calloc((size_t)nplans, sizeof *plans);
    int *from = malloc((size_t)nplans * sizeof *from);
    unr_status st = plans && from ? UNR_OK : unr_fail(err, UNR_ERR_NOMEM, "out of memory");
    for (int j = 0; j < nplans && !st; j++) {
        double tau;
        if (!(plans[j] = unr_plan_create(m)))
            st = unr_fail(err, UNR_ERR_NOMEM, "out of memory");
        else
            st = draw_random(m, kind, ks[j], seed, samples[j], plans[j], &from[j], &tau, err);
        if (!st && taus)
            taus[j] = tau;
        if (!st)
            correct[j] = 0;
    }
    if (!st)
        st = unr_runner_reserve_saved(r, err);
    for (int at = 0; at < n && !st; at += r->max_batch) {
        int c = n - at < r->max_batch ? n - at : r->max_batch;
        plans_on_batch(r, plans, from, nplans, data->pixels + (size_t)(start + at) * UNR_IMAGE_BYTES,
                       data->labels + start + at, c, correct);
    }
    for (int j = 0; plans && j < nplans; j++)
        unr_plan_free(plans[j]);
    free(plans), free(from);
    return st;
}

unr_status unr_random_curve(unr_runner *r, unr_random_kind kind, const unr_cifar *data,
                            int limit, const int *ks, int nks, int samples, uint64_t seed,
                            unr_progress_fn progress, void *user, unr_curve_point *points,
                            unr_error *err)
{
    const unr_model *m = r->m;
    if (samples < 1 || samples > 1000000)
        return unr_fail(err, UNR_ERR_RANGE, "samples: %d is outside 1..1000000", samples);
    /* Beyond this a request is a mistake (a day per 10,000 draws of 10,000
     * images here), and its per-draw results alone would take gigabytes. */
    if ((long long)nks * samples > UNR_MAX_RANDOM_DRAWS)
        return unr_fail(err, UNR_ERR_RANGE, "%d ks x %d samples = %lld draws is over the limit of %d",
                        nks, samples, (long long)nks * samples, UNR_MAX_RANDOM_DRAWS);
    memset(points, 0, (size_t)nks * sizeof *points);
    int total = limit > 0 && limit < data->n ? limit : data->n;
    long nplans = (long)nks * samples;
    int group = nplans < CURVE_GROUP ? (int)nplans : CURVE_GROUP;
    unr_plan **plans = calloc((size_t)group + 1, sizeof *plans);
    int *from = malloc(((size_t)group + 1) * sizeof *from);
    long *correct = malloc(((size_t)group + 1) * sizeof *correct);
    unr_status st = plans && from && correct ? UNR_OK : unr_fail(err, UNR_ERR_NOMEM, "out of memory");
    for (int j = 0; j < group && !st; j++)
        if (!(plans[j] = unr_plan_create(m)))
            st = unr_fail(err, UNR_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nks && !st; i++) {
        points[i].k = ks[i];
        points[i].errors = malloc((size_t)samples * sizeof *points[i].errors);
        points[i].taus = malloc((size_t)samples * sizeof *points[i].taus);
        if (!points[i].errors || !points[i].taus)
            st = unr_fail(err, UNR_ERR_NOMEM, "out of memory");
    }
    if (!st)
        st = unr_runner_reserve_saved(r, err);
    /* Plans in groups (draw p is sample p % samples of ks[p / samples]); the
     * batches run inside, so each batch's unmodified pass serves the group. */
    for (long p0 = 0; p0 < nplans && !st; p0 += group) {
        int g = nplans - p0 < group ? (int)(nplans - p0) : group;
        for (int j = 0; j < g && !st; j++) {
            int i = (int)((p0 + j) / samples), s = (int)((p0 + j) % samples);
            st = draw_random(m, kind, ks[i], seed, s, plans[j], &from[j], &points[i].taus[s], err);
            correct[j] = 0;
        }
        for (int at = 0; at < total && !st; at += r->max_batch) {
            int n = total - at < r->max_batch ? total - at : r->max_batch;
            plans_on_batch(r, plans, from, g, data->pixels + (size_t)at * UNR_IMAGE_BYTES,
                           data->labels + at, n, correct);
            if (progress && progress(user, p0 + (double)g * (at + n) / total, (double)nplans))
                st = unr_fail(err, UNR_ERR_CANCELLED, "cancelled");
        }
        for (int j = 0; j < g && !st; j++) {
            int i = (int)((p0 + j) / samples), s = (int)((p0 + j) % samples);
            points[i].errors[s] = total ? 1.0 - (double)correct[j] / total : 0.0;
        }
    }
    for (int i = 0; i < nks && !st; i++) {
        unr_curve_point *pt = &points[i];
        unr_summarize(pt->errors, samples, &pt->mean, &pt->sd, &pt->min, &pt->max);
        double tau_sd, tau_min, tau_max;
        unr_summarize(pt->taus, samples, &pt->tau, &tau_sd, &tau_min, &tau_max);
    }
    for (int j = 0; plans && j < group; j++)
        unr_plan_free(plans[j]);
    free(plans), free(from), free(correct);
    if (st)
        unr_curve_free(points, nks);
    return st;
}
