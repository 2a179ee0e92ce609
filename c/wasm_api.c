/* wasm_api.c: the C surface that unravel.wasm exports to wasm/unravel.mjs.
 *
 * Everything here is a thin, explicit wrapper over unravel.h, shaped for a
 * caller that can only pass numbers: objects travel as opaque pointers,
 * failures return 0 (or a nonzero unr_status) and fill an unr_error that the
 * caller allocated once with unr_wasm_error_new, and no function relies on a
 * struct layout being known in JS (results come back as flat arrays).
 *
 * Ownership: every pointer returned by a *_new / *_create / *_load function
 * belongs to the caller and is released by the matching *_free. Text
 * returned by unr_wasm_model_info is malloc'd; the caller frees it with free.
 *
 * Progress: long calls take a progress id; when it is nonzero they call the
 * imported JS function unr_js_progress(id, done, total), which returns
 * nonzero to cancel. The id is the caller's own handle for the callback.
 *
 * Compiled only into the WASM build (the native Makefile filters it out).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "internal.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#define UNR_EXPORT EMSCRIPTEN_KEEPALIVE
/* Imported from JS (module "env"): a progress report; nonzero cancels. */
__attribute__((import_module("env"), import_name("unr_js_progress")))
extern int unr_js_progress(int id, double done, double total);
#else
#define UNR_EXPORT
static int unr_js_progress(int id, double done, double total)
{
    (void)id, (void)done, (void)total;
    return 0;
}
#endif

/* ---- version, kernels, errors ---- */

UNR_EXPORT const char *unr_wasm_version(void) { return UNR_VERSION_STRING; }

/* The ISA a runner created with UNR_ISA_AUTO would use in this build. */
UNR_EXPORT int unr_wasm_best_isa(void)
{
    unr_ctx *ctx = unr_ctx_create(1, UNR_ISA_AUTO);
    if (!ctx)
        return UNR_ISA_SCALAR;
    int isa = (int)unr_ctx_isa(ctx);
    unr_ctx_destroy(ctx);
    return isa;
}

UNR_EXPORT const char *unr_wasm_isa_name(int isa) { return unr_isa_name((unr_isa)isa); }
UNR_EXPORT int unr_wasm_isa_available(int isa) { return unr_isa_available((unr_isa)isa); }

UNR_EXPORT unr_error *unr_wasm_error_new(void) { return calloc(1, sizeof(unr_error)); }
UNR_EXPORT void unr_wasm_error_free(unr_error *err) { free(err); }
UNR_EXPORT int unr_wasm_error_status(const unr_error *err) { return (int)err->status; }
UNR_EXPORT const char *unr_wasm_error_message(const unr_error *err) { return err->message; }
UNR_EXPORT const char *unr_wasm_status_name(int status)
{
    return unr_status_name((unr_status)status);
}

/* ---- models ---- */

UNR_EXPORT unr_model *unr_wasm_model_load(const char *manifest, size_t manifest_len,
                                          const void *weights, size_t weights_len,
                                          const char *source, unr_error *err)
{
    unr_error_clear(err);
    unr_model *m = NULL;
    if (unr_model_load(manifest, manifest_len, weights, weights_len, source, &m, err))
        return NULL;
    return m;
}

/* A PyTorch checkpoint read into a model (unr_model_import_checkpoint),
 * its options as plain values: norm, mean[3] then std[3], or NULL for
 * CIFAR-10's (with a warning); shortcut -1 to read it off the tensors, else
 * an unr_shortcut; block an unr_block_kind; stage_blocks[num_stages] (0
 * stages: read off the names); bn_eps 0 for PyTorch's 1e-5; name NULL for
 * the source's file name without its extension. warnings[warnings_cap]
 * receives what to tell the user, one per line ("" if nothing). */
UNR_EXPORT unr_model *unr_wasm_model_import_checkpoint(const void *bytes, size_t n,
                                                       const char *source, const float *norm,
                                                       int shortcut, int block,
                                                       const int32_t *stage_blocks, int num_stages,
                                                       double bn_eps, const char *name,
                                                       char *warnings, int warnings_cap,
                                                       unr_error *err)
{
    unr_error_clear(err);
    const char *src = source ? source : "checkpoint";
    if (shortcut < -1 || shortcut > UNR_SHORTCUT_NONE)
        return unr_fail(err, UNR_ERR_FIELD, "%s: shortcut %d is not A, B or none", src, shortcut),
               NULL;
    if (block < UNR_BLOCK_AUTO || block > UNR_BLOCK_PRE)
        return unr_fail(err, UNR_ERR_FIELD, "%s: block kind %d is not auto, post or pre", src, block),
               NULL;
    if (num_stages < 0 || num_stages > UNR_MAX_STAGES)
        return unr_fail(err, UNR_ERR_RANGE, "%s: %d stages is outside 1..%d", src, num_stages,
                        UNR_MAX_STAGES), NULL;
    if (!(bn_eps >= 0 && bn_eps <= 0.5))
        return unr_fail(err, UNR_ERR_RANGE, "%s: bn_eps %g is outside 0..0.5", src, bn_eps), NULL;
    unr_import_options opt = {0};
    if (norm) {
        opt.has_mean_std = 1;
        memcpy(opt.mean, norm, sizeof opt.mean);
        memcpy(opt.std, norm + 3, sizeof opt.std);
    }
    opt.has_shortcut = shortcut >= 0;
    opt.shortcut = shortcut >= 0 ? (unr_shortcut)shortcut : UNR_SHORTCUT_A;
    opt.block = (unr_block_kind)block;
    opt.num_stages = num_stages;
    for (int s = 0; s < num_stages; s++)
        opt.stage_blocks[s] = stage_blocks[s];
    opt.bn_eps = (float)bn_eps;
    opt.name = name;
    unr_model *m = NULL;
    if (unr_model_import_checkpoint(bytes, n, src, &opt, &m, warnings,
                                    warnings_cap > 0 ? (size_t)warnings_cap : 0, err))
        return NULL;
    return m;
}

/* The model as unravel's own files (unr_model_serialize): returns the
 * manifest text (malloc'd, NUL-terminated) and writes the weights file's
 * bytes (malloc'd) to *weights and their count to *weights_len. The caller
 * frees both with free. name, weights_file: as unr_model_serialize. */
UNR_EXPORT char *unr_wasm_model_serialize(const unr_model *m, const char *name,
                                          const char *weights_file, void **weights,
                                          size_t *weights_len, unr_error *err)
{
    unr_error_clear(err);
    char *text = NULL;
    size_t text_len;
    if (unr_model_serialize(m, name, weights_file, &text, &text_len, weights, weights_len, err))
        return NULL;
    return text;
}

UNR_EXPORT void unr_wasm_model_free(unr_model *m) { unr_model_free(m); }
UNR_EXPORT int unr_wasm_model_num_blocks(const unr_model *m) { return unr_model_num_blocks(m); }

/* Add a raw JSON object text as key, or nothing if text is NULL. */
static void add_raw_json(cJSON *o, const char *key, const char *text)
{
    cJSON *v = text ? cJSON_Parse(text) : NULL;
    if (v)
        cJSON_AddItemToObject(o, key, v);
}

/* Everything the JS side shows about a model, as one JSON object (the same
 * keys as `unravel info --json`, plus the arch and per-block detail). */
UNR_EXPORT char *unr_wasm_model_info(const unr_model *m, unr_error *err)
{
    unr_error_clear(err);
    const unr_arch *a = unr_model_arch(m);
    int nb = unr_model_num_blocks(m);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        goto nomem;
    cJSON_AddStringToObject(o, "name", unr_model_name(m));
    cJSON_AddNumberToObject(o, "depth", unr_arch_depth(a));
    cJSON *arch = cJSON_AddObjectToObject(o, "arch");
    if (arch) {
        cJSON_AddStringToObject(arch, "family", "cifar-resnet");
        unr_arch_add_json(arch, a);
        cJSON_AddStringToObject(arch, "shortcut", unr_shortcut_name(a->shortcut));
        cJSON_AddNumberToObject(arch, "num_classes", a->num_classes);
        cJSON_AddNumberToObject(arch, "bn_eps", a->bn_eps);
    }
    cJSON_AddNumberToObject(o, "parameters", (double)unr_model_num_params(m));
    cJSON_AddNumberToObject(o, "macs_per_image", unr_model_macs(m));
    cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
    for (int b = 0; b < nb && blocks; b++) {
        const unr_block_info *bi = unr_model_block(m, b);
        cJSON *e = cJSON_CreateObject();
        if (!e)
            goto nomem;
        cJSON_AddNumberToObject(e, "block", b);
        cJSON_AddNumberToObject(e, "stage", bi->stage + 1);
        cJSON_AddNumberToObject(e, "index_in_stage", bi->index_in_stage);
        cJSON_AddItemToObject(e, "in", cJSON_CreateIntArray((int[]){bi->h_in, bi->h_in, bi->cin}, 3));
        cJSON_AddItemToObject(e, "out", cJSON_CreateIntArray((int[]){bi->h_out, bi->h_out, bi->cout}, 3));
        cJSON_AddNumberToObject(e, "stride", bi->stride);
        cJSON_AddBoolToObject(e, "downsample", bi->downsample);
        cJSON_AddBoolToObject(e, "deletable", unr_block_deletable(m, b));
        cJSON_AddBoolToObject(e, "swappable", unr_block_swappable(m, b));
        /* blocks that may trade places share a group (unr_plan_validate's
         * rule: not downsampling, the same stage): its stage; -1: it keeps its place */
        cJSON_AddNumberToObject(e, "swap_group", unr_block_swappable(m, b) ? bi->stage + 1 : -1);
        cJSON_AddItemToArray(blocks, e);
    }
    if (unr_model_license(m))
        cJSON_AddStringToObject(o, "license", unr_model_license(m));
    add_raw_json(o, "metrics", unr_model_metrics_json(m));
    add_raw_json(o, "training", unr_model_training_json(m));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        goto nomem;
    return text;
nomem:
    cJSON_Delete(o);
    unr_fail(err, UNR_ERR_NOMEM, "model info: out of memory");
    return NULL;
}

/* ---- plans: JS writes order[] and deleted[] in place, then validates ---- */

UNR_EXPORT unr_plan *unr_wasm_plan_create(const unr_model *m) { return unr_plan_create(m); }
UNR_EXPORT void unr_wasm_plan_free(unr_plan *p) { unr_plan_free(p); }
UNR_EXPORT int *unr_wasm_plan_order(unr_plan *p) { return p->order; }            /* [num_blocks] int32 */
UNR_EXPORT unsigned char *unr_wasm_plan_deleted(unr_plan *p) { return p->deleted; } /* [num_blocks] u8 */
UNR_EXPORT void unr_wasm_plan_reset(unr_plan *p) { unr_plan_reset(p); }
UNR_EXPORT int unr_wasm_plan_validate(const unr_model *m, const unr_plan *p, unr_error *err)
{
    unr_error_clear(err);
    return (int)unr_plan_validate(m, p, err);
}

/* Kendall's tau between network order and order[0..n) (unr_plan_kendall_tau). */
UNR_EXPORT double unr_wasm_kendall_tau(const int32_t *order, int n)
{
    unr_plan p = {.num_blocks = n, .order = (int *)order, .deleted = NULL};
    return unr_plan_kendall_tau(&p);
}

/* ---- runners ---- */

UNR_EXPORT unr_runner *unr_wasm_runner_create(const unr_model *m, int max_batch, int isa,
                                              unr_error *err)
{
    unr_error_clear(err);
    unr_runner *r = NULL;
    if (unr_runner_create(m, max_batch, 1, (unr_isa)isa, &r, err))
        return NULL;
    return r;
}

UNR_EXPORT void unr_wasm_runner_free(unr_runner *r) { unr_runner_free(r); }
UNR_EXPORT int unr_wasm_runner_isa(const unr_runner *r) { return (int)unr_runner_isa(r); }
UNR_EXPORT void unr_wasm_runner_set_chunk(unr_runner *r, int images) { unr_runner_set_chunk(r, images); }
UNR_EXPORT int unr_wasm_runner_get_chunk(const unr_runner *r) { return unr_runner_get_chunk(r); }

/* ---- CIFAR-10 ---- */

UNR_EXPORT unr_cifar *unr_wasm_cifar_load(const void *bytes, size_t len, const char *source,
                                          unr_error *err)
{
    unr_error_clear(err);
    unr_cifar *c = calloc(1, sizeof *c);
    if (!c) {
        unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", source ? source : "cifar");
        return NULL;
    }
    if (unr_cifar_parse(bytes, len, source, c, err)) {
        free(c);
        return NULL;
    }
    return c;
}

UNR_EXPORT void unr_wasm_cifar_free(unr_cifar *c)
{
    if (c)
        unr_cifar_free(c);
    free(c);
}

UNR_EXPORT int unr_wasm_cifar_n(const unr_cifar *c) { return c->n; }
UNR_EXPORT uint8_t *unr_wasm_cifar_labels(const unr_cifar *c) { return c->labels; }  /* [n] */
UNR_EXPORT uint8_t *unr_wasm_cifar_pixels(const unr_cifar *c) { return c->pixels; }  /* [n][3][32][32] */

/* ---- running ---- */

static int progress_to_js(void *user, double done, double total)
{
    return unr_js_progress((int)(intptr_t)user, done, total);
}

/* Evaluate the first `limit` images (0: all). Writes confusion[10][10]
 * (int32, [true][predicted]), the seconds taken and, where pred is not
 * NULL, each image's predicted class; everything else (n, correct,
 * per-class error) follows from the confusion matrix. */
UNR_EXPORT int unr_wasm_evaluate(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                                 int limit, int progress_id, uint8_t *pred, int32_t *confusion,
                                 double *seconds, unr_error *err)
{
    unr_error_clear(err);
    unr_eval_result res;
    unr_status st = unr_evaluate_predict(r, p, data, limit, progress_id ? progress_to_js : NULL,
                                         (void *)(intptr_t)progress_id, pred, &res, err);
    if (st)
        return (int)st;
    for (int t = 0; t < UNR_NUM_CLASSES; t++)
        for (int g = 0; g < UNR_NUM_CLASSES; g++)
            confusion[t * UNR_NUM_CLASSES + g] = res.confusion[t][g];
    *seconds = res.seconds;
    return UNR_OK;
}

/* logits[count][10] for images start..start+count-1 of data, in batches of
 * the runner's max_batch. */
UNR_EXPORT int unr_wasm_forward(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                                int start, int count, float *logits, unr_error *err)
{
    unr_error_clear(err);
    if (start < 0 || count < 1 || start > data->n || count > data->n - start)
        return (int)unr_fail(err, UNR_ERR_RANGE, "forward: images %d..%d are outside the data "
                             "set's 0..%d", start, start + count - 1, data->n - 1);
    int batch = unr_runner_max_batch(r);
    for (int at = 0; at < count; at += batch) {
        int n = count - at < batch ? count - at : batch;
        unr_status st = unr_forward_pixels(r, p, data->pixels + (size_t)(start + at) * UNR_IMAGE_BYTES,
                                           n, logits + (size_t)at * UNR_NUM_CLASSES, err);
        if (st)
            return (int)st;
    }
    return UNR_OK;
}

/* ---- experiments (PAPER.md) ----
 * Each export does one step (a batch, a draw, a sample) so that the JS side
 * can report progress and honour cancellation between steps. The random
 * draws depend only on (seed, k, sample): any split of the work across
 * workers draws the same plans as the CLI. Seeds travel as doubles (exact up
 * to 2^53). */

/* Single-block lesions on images start..start+n-1: correct[b] with block b
 * deleted on top of plan p (-1 if not deletable), correct[num_blocks] for p
 * itself; flips[2b], flips[2b + 1]: answers block b's deletion turned wrong
 * and right; *blocks_run += block evaluations. */
UNR_EXPORT int unr_wasm_lesion_batch(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                                     int start, int n, int32_t *correct, int32_t *flips,
                                     double *blocks_run, unr_error *err)
{
    unr_error_clear(err);
    if (start < 0 || n < 1 || start > data->n || n > data->n - start)
        return (int)unr_fail(err, UNR_ERR_RANGE, "lesion: images %d..%d are outside the data "
                             "set's 0..%d", start, start + n - 1, data->n - 1);
    long run = 0;
    unr_status st = unr_lesion_batch(r, p, data->pixels + (size_t)start * UNR_IMAGE_BYTES,
                                     data->labels + start, n, (int *)correct, (int *)flips, &run,
                                     err);
    *blocks_run += (double)run;
    return (int)st;
}

UNR_EXPORT int unr_wasm_max_deletions(const unr_model *m) { return unr_max_deletions(m); }
UNR_EXPORT int unr_wasm_max_swaps(const unr_model *m) { return unr_max_swaps(m); }

/* kind 0: k random deletions; 1: k random swaps. Writes the plan and its
 * Kendall's tau. */
UNR_EXPORT int unr_wasm_draw_plan(const unr_model *m, int kind, int k, double seed, int sample,
                                  unr_plan *out, double *tau, unr_error *err)
{
    unr_error_clear(err);
    if (!(seed >= 0 && seed <= 9007199254740992.0))
        return (int)unr_fail(err, UNR_ERR_RANGE, "seed: %g is not a whole number in 0..2^53", seed);
    unr_status st = kind == UNR_RANDOM_SWAP
        ? unr_draw_swaps(m, k, (uint64_t)seed, sample, out, err)
        : unr_draw_deletion(m, k, (uint64_t)seed, sample, out, err);
    if (!st)
        *tau = unr_plan_kendall_tau(out);
    return (int)st;
}

/* Right answers of plans j = 0..nplans-1 (draw samples[j] of ks[j]) on
 * images start..start+n-1, sharing the unmodified pass (see
 * unr_random_plans_batch); taus[j]: each plan's Kendall's tau. */
UNR_EXPORT int unr_wasm_random_batch(unr_runner *r, int kind, const unr_cifar *data, int start,
                                     int n, const int32_t *ks, const int32_t *samples, int nplans,
                                     double seed, int32_t *correct, double *taus, unr_error *err)
{
    unr_error_clear(err);
    if (!(seed >= 0 && seed <= 9007199254740992.0))
        return (int)unr_fail(err, UNR_ERR_RANGE, "seed: %g is not a whole number in 0..2^53", seed);
    if (nplans < 1 || nplans > 256)
        return (int)unr_fail(err, UNR_ERR_RANGE, "random plans: %d plans at once is outside 1..256",
                             nplans);
    long right[256];
    unr_status st = unr_random_plans_batch(r, kind ? UNR_RANDOM_SWAP : UNR_RANDOM_DELETE, data,
                                           start, n, (const int *)ks, (const int *)samples, nplans,
                                           (uint64_t)seed, right, taus, err);
    for (int j = 0; !st && j < nplans; j++)
        correct[j] = (int32_t)right[j];
    return (int)st;
}

/* One sample of the gradient per path length: norms[0..num_blocks]. The
 * batch is drawn from the first `limit` images (0: all). */
UNR_EXPORT int unr_wasm_paths_sample(unr_runner *r, const unr_cifar *data, int limit, int batch,
                                     double seed, int sample, double *norms, unr_error *err)
{
    unr_error_clear(err);
    if (!(seed >= 0 && seed <= 9007199254740992.0))
        return (int)unr_fail(err, UNR_ERR_RANGE, "seed: %g is not a whole number in 0..2^53", seed);
    unr_cifar view = *data;
    if (limit > 0 && limit < view.n)
        view.n = limit;
    return (int)unr_paths_sample(r, &view, batch, (uint64_t)seed, sample, norms, err);
}

UNR_EXPORT void unr_wasm_path_distribution(int n, double *p) { unr_path_distribution(n, p); }

/* ---- statistics: the binding's and the page's numbers, computed once ---- */

/* out[4] = {mean, sd (n-1), min, max} of v[0..n) (unr_summarize). */
UNR_EXPORT void unr_wasm_summarize(const double *v, int n, double *out)
{
    unr_summarize(v, n, &out[0], &out[1], &out[2], &out[3]);
}

/* Half-width of the paired 95% interval of a change of error (unr_paired_ci95). */
UNR_EXPORT double unr_wasm_paired_ci95(int n, int turned_wrong, int turned_right)
{
    return unr_paired_ci95(n, turned_wrong, turned_right);
}

/* window[5] = {a, b, q, mass, share of paths}; share_of_total[n+1]. */
UNR_EXPORT int unr_wasm_effective_window(int n, const double *grad_mean, double q,
                                         double *window, double *share_of_total, unr_error *err)
{
    unr_error_clear(err);
    unr_window w;
    unr_status st = unr_effective_window(n, grad_mean, q, &w, share_of_total, err);
    if (!st) {
        window[0] = w.a, window[1] = w.b, window[2] = w.q, window[3] = w.mass;
        window[4] = w.share;
    }
    return (int)st;
}

/* spread[8] = {resamples, a_lo, a_hi, b_lo, b_hi, share_lo, share_hi, same};
 * norms[(n+1) * samples] as [length][sample]. */
UNR_EXPORT int unr_wasm_window_bootstrap(int n, const double *norms, int samples, double q,
                                         int resamples, double seed, double *spread, unr_error *err)
{
    unr_error_clear(err);
    if (!(seed >= 0 && seed <= 9007199254740992.0 && seed == floor(seed)))
        return (int)unr_fail(err, UNR_ERR_RANGE, "seed: %g is not a whole number in 0..2^53", seed);
    unr_window_spread w;
    unr_status st = unr_window_bootstrap(n, norms, samples, q, resamples, (uint64_t)seed, &w, err);
    if (!st) {
        double v[8] = {w.resamples, w.a_lo, w.a_hi, w.b_lo, w.b_hi, w.share_lo, w.share_hi, w.same};
        memcpy(spread, v, sizeof v);
    }
    return (int)st;
}

/* The experiments and their parameters (unr_experiments) as JSON, for the
 * binding's argument checks and defaults: {"params": [{name, min, max, real,
 * help}], "experiments": [{name, js_name, summary, claim, split, result,
 * params: {NAME: default}}]}. malloc'd; NULL on out of memory. */
UNR_EXPORT char *unr_wasm_experiments_json(void)
{
    const unr_param *p = unr_params();
    int n;
    const unr_experiment *e = unr_experiments(&n);
    cJSON *o = cJSON_CreateObject();
    cJSON *ps = cJSON_AddArrayToObject(o, "params");
    for (int i = 0; ps && i < UNR_PARAM_COUNT; i++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "name", p[i].name);
        cJSON_AddNumberToObject(q, "min", p[i].min);
        cJSON_AddNumberToObject(q, "max", p[i].max);
        cJSON_AddBoolToObject(q, "real", p[i].real);
        cJSON_AddStringToObject(q, "help", p[i].help);
        cJSON_AddItemToArray(ps, q);
    }
    cJSON *es = cJSON_AddArrayToObject(o, "experiments");
    for (int i = 0; es && i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", e[i].name);
        cJSON_AddStringToObject(x, "js_name", e[i].js_name);
        cJSON_AddStringToObject(x, "summary", e[i].summary);
        cJSON_AddStringToObject(x, "claim", e[i].claim);
        cJSON_AddStringToObject(x, "split", e[i].split);
        cJSON_AddStringToObject(x, "result", e[i].result);
        cJSON *d = cJSON_AddObjectToObject(x, "params");
        for (int j = 0; d && j < UNR_PARAM_COUNT; j++)
            if (unr_experiment_takes(&e[i], (unr_param_id)j))
                cJSON_AddNumberToObject(d, p[j].name, e[i].defaults[j]);
        cJSON_AddItemToArray(es, x);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}
