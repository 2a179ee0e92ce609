/* train.c: the epoch loop around the trainer. Everything random comes from
 * one generator reseeded per epoch, so a resumed run repeats the same steps
 * as an uninterrupted one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "internal.h"
#include "train.h"
#include "trainer.h"

#define CKPT_MAGIC "UNRCKPT1"

void unr_train_defaults(unr_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 30;
    o->batch = 128;
    o->lr = 0.1f;
    o->warmup_epochs = 1.0f;
    o->momentum = 0.9f;
    o->weight_decay = 5e-4f;
    o->seed = 1;
    o->isa = UNR_ISA_AUTO;
}

/* ---- data ---- */

void unr_augment(const unr_model *m, const uint8_t *pixels, const int *index, int n, unr_rng *rng,
                 float *out)
{
    float scale[3], shift[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = 1.0f / (255.0f * m->std[c]);
        shift[c] = -m->mean[c] / m->std[c];
    }
    const int S = UNR_IMAGE_SIDE, plane = S * S;
    for (int i = 0; i < n; i++) {
        const uint8_t *img = pixels + (size_t)index[i] * UNR_IMAGE_BYTES;
        /* Crop offset in the 40x40 padded image, minus the padding. */
        int oy = (int)unr_rng_below(rng, 9) - 4, ox = (int)unr_rng_below(rng, 9) - 4;
        int flip = (int)unr_rng_below(rng, 2);
        float *o = out + (size_t)i * UNR_IMAGE_BYTES;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int sy = y + oy, sx = (flip ? S - 1 - x : x) + ox;
                int inside = sy >= 0 && sy < S && sx >= 0 && sx < S;
                for (int c = 0; c < 3; c++) {
                    float p = inside ? (float)img[c * plane + sy * S + sx] : 0.0f;
                    o[(y * S + x) * 3 + c] = p * scale[c] + shift[c];
                }
            }
    }
}

static void epoch_rng(unr_rng *r, uint64_t seed, int epoch)
{
    unr_rng_seed(r, seed * 0x9e3779b97f4a7c15ull + (uint64_t)epoch * 0xbf58476d1ce4e5b9ull + 1);
}

static double schedule(const unr_train_options *o, double epoch_pos)
{
    if (epoch_pos < o->warmup_epochs)
        return o->lr * (0.1 + 0.9 * epoch_pos / o->warmup_epochs);
    double span = o->epochs - o->warmup_epochs;
    double t = span > 0 ? (epoch_pos - o->warmup_epochs) / span : 1.0;
    return o->lr * 0.5 * (1.0 + cos(3.141592653589793 * (t < 1 ? t : 1)));
}

static double round_sig(double x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", x);
    return strtod(buf, NULL);
}

/* ---- checkpoints: header JSON + params + momentum + sha256 ---- */

static char *options_json(const unr_model *m, const unr_train_options *o)
{
    cJSON *j = cJSON_CreateObject();
    if (m->arch.blocks_per_stage)   /* the spelling of checkpoints before per-stage counts */
        cJSON_AddNumberToObject(j, "blocks_per_stage", m->arch.blocks_per_stage);
    else
        cJSON_AddItemToObject(j, "blocks_per_stage",
                              cJSON_CreateIntArray(m->arch.stage_blocks, m->arch.num_stages));
    cJSON_AddItemToObject(j, "widths", cJSON_CreateIntArray(m->arch.widths, m->arch.num_stages));
    cJSON_AddStringToObject(j, "shortcut", unr_shortcut_name(m->arch.shortcut));
    /* only where not the default, so older checkpoints still match */
    if (m->arch.stem_width != m->arch.widths[0])
        cJSON_AddNumberToObject(j, "stem_width", m->arch.stem_width);
    if (m->arch.preactivation) {
        cJSON_AddBoolToObject(j, "preactivation", 1);
        cJSON_AddBoolToObject(j, "head_bn", m->arch.head_bn);
    }
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "batch", o->batch);
    cJSON_AddNumberToObject(j, "lr", o->lr);
    cJSON_AddNumberToObject(j, "warmup_epochs", o->warmup_epochs);
    cJSON_AddNumberToObject(j, "momentum", o->momentum);
    cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
    cJSON_AddNumberToObject(j, "label_smoothing", o->label_smoothing);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "active_blocks", o->active_blocks);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static unr_status save_checkpoint(const char *path, const unr_model *m, unr_trainer *t,
                                  const char *opts, int epochs_done, double elapsed,
                                  unr_error *err)
{
    char header[2048];
    int hl = snprintf(header, sizeof header, "{\"options\":%s,\"epochs_done\":%d,\"elapsed\":%.3f}",
                      opts, epochs_done, elapsed);
    if (hl < 0 || hl >= (int)sizeof header)
        return unr_fail(err, UNR_ERR_RANGE, "%s: checkpoint header too long", path);
    size_t pbytes = m->num_params * sizeof(float);
    size_t total = 8 + 4 + (size_t)hl + 2 * pbytes + 32;
    unsigned char *buf = malloc(total), *p = buf;
    if (!buf)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", path);
    uint32_t hl32 = (uint32_t)hl;
    memcpy(p, CKPT_MAGIC, 8), p += 8;
    memcpy(p, &hl32, 4), p += 4;
    memcpy(p, header, (size_t)hl), p += hl;
    memcpy(p, m->params, pbytes), p += pbytes;
    memcpy(p, unr_trainer_momentum(t), pbytes), p += pbytes;
    unr_sha256(buf, (size_t)(p - buf), p);
    unr_status st = unr_write_file_atomic(path, buf, total, err);
    free(buf);
    return st;
}

/* Returns epochs done (>= 0), or -1 with err set. A missing file is 0. */
static int load_checkpoint(const char *path, unr_model *m, unr_trainer *t, const char *opts,
                           double *elapsed, unr_error *err)
{
    void *data;
    size_t len;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return 0;
    fclose(probe);
    if (unr_read_file(path, (size_t)1 << 34, &data, &len, err))
        return -1;
    unsigned char *b = data, digest[32];
    size_t pbytes = m->num_params * sizeof(float);
    uint32_t hl = 0;
    int done = -1;
    if (len < 8 + 4 + 32 || memcmp(b, CKPT_MAGIC, 8) != 0) {
        unr_fail(err, UNR_ERR_PARSE, "%s: not an unravel checkpoint", path);
        goto out;
    }
    memcpy(&hl, b + 8, 4);
    if ((size_t)hl > len || len != 12 + (size_t)hl + 2 * pbytes + 32) {
        unr_fail(err, UNR_ERR_SHAPE, "%s: size does not fit this model (%zu bytes)", path, len);
        goto out;
    }
    unr_sha256(b, len - 32, digest);
    if (memcmp(digest, b + len - 32, 32) != 0) {
        unr_fail(err, UNR_ERR_CHECKSUM, "%s: checksum mismatch (a damaged checkpoint)", path);
        goto out;
    }
    cJSON *h = cJSON_ParseWithLength((const char *)b + 12, hl);
    cJSON *o = cJSON_GetObjectItemCaseSensitive(h, "options");
    char *stored = o ? cJSON_PrintUnformatted(o) : NULL;
    if (!stored || strcmp(stored, opts) != 0) {
        unr_fail(err, UNR_ERR_FIELD, "%s: options differ from this run's (checkpoint: %s)", path,
                 stored ? stored : "none");
    } else {
        done = cJSON_GetObjectItemCaseSensitive(h, "epochs_done")->valueint;
        *elapsed = cJSON_GetObjectItemCaseSensitive(h, "elapsed")->valuedouble;
        memcpy(m->params, b + 12 + hl, pbytes);
        memcpy(unr_trainer_momentum(t), b + 12 + hl + pbytes, pbytes);
    }
    cJSON_free(stored);
    cJSON_Delete(h);
out:
    free(data);
    return done;
}

/* Appends one line to the log (NULL: none; truncate: empty it first),
 * opening and closing it each time: a log replaced while training runs (an
 * editor, a git checkout) gets the next lines instead of an unlinked file
 * keeping them. */
static unr_status append_log(const char *path, const char *line, int truncate, unr_error *err)
{
    FILE *f = fopen(path, truncate ? "w" : "a");
    if (!f)
        return unr_fail(err, UNR_ERR_IO, "%s: cannot write the log", path);
    int bad = line && fprintf(f, "%s\n", line) < 0;
    bad |= fclose(f) != 0;
    return bad ? unr_fail(err, UNR_ERR_IO, "%s: cannot write the log", path) : UNR_OK;
}

/* ---- the loop ---- */

/* The test-time rule of --active-blocks training (as stochastic depth, Huang
 * et al. 2016): a block that trained in a share p = K/n of the batches adds
 * p times its branch when every block runs, so the residual stream keeps
 * the scale it had in training. Folded into the branch's last batch norm
 * (gamma and beta times p), the saved model is an ordinary ResNet. Measured
 * on ResNet-110-half trained 23 of 54 for two epochs: all blocks on, 90.2%
 * test error (chance) unscaled against 71.2% scaled, training error 68%.
 * A plain network has no skip to stand in for the missing share: p = 1. */
static double branch_scale(const unr_model *m, const unr_train_options *o)
{
    if (!o->active_blocks || m->arch.shortcut == UNR_SHORTCUT_NONE)
        return 1.0;
    return (double)o->active_blocks / m->num_blocks;
}

/* The parameters that end block b's residual branch, linearly: scaling them
 * by p scales the branch by p. Post-activation: bn2's gamma and beta (the
 * branch is bn2(conv2(...)), added before the ReLU); pre-activation:
 * conv2's weights (the branch is conv2(...)). Up to two spans. */
static int branch_tail(const unr_model *m, int b, float *span[2], size_t count[2])
{
    const unr_block_params *p = &m->bp[b];
    if (m->arch.preactivation) {
        span[0] = p->conv2.w;
        count[0] = (size_t)p->conv2.k * p->conv2.k * p->conv2.ci * p->conv2.co;
        return 1;
    }
    span[0] = p->bn2.gamma, span[1] = p->bn2.beta;
    count[0] = count[1] = (size_t)p->bn2.c;
    return 2;
}

static size_t branch_scale_floats(const unr_model *m)
{
    size_t n = 0, count[2];
    float *span[2];
    for (int b = 0; b < m->num_blocks; b++)
        for (int i = branch_tail(m, b, span, count) - 1; i >= 0; i--)
            n += count[i];
    return n;
}

/* Multiplies the tail of every deletable block's branch by p, first copying
 * every tail to keep (when not NULL) for unscale_branches. */
static void scale_branches(unr_model *m, double p, float *keep)
{
    size_t count[2];
    float *span[2];
    for (int b = 0; b < m->num_blocks; b++) {
        int spans = branch_tail(m, b, span, count);
        for (int i = 0; i < spans; i++) {
            if (keep) {
                memcpy(keep, span[i], count[i] * sizeof *keep);
                keep += count[i];
            }
            if (!unr_block_deletable(m, b))
                continue;
            for (size_t j = 0; j < count[i]; j++)
                span[i][j] = (float)(span[i][j] * p);
        }
    }
}

static void unscale_branches(unr_model *m, const float *keep)
{
    size_t count[2];
    float *span[2];
    for (int b = 0; b < m->num_blocks; b++) {
        int spans = branch_tail(m, b, span, count);
        for (int i = 0; i < spans; i++) {
            memcpy(span[i], keep, count[i] * sizeof *keep);
            keep += count[i];
        }
    }
}

/* Test error of the model as it will be saved: with the branch scale p
 * folded in (keep: room for branch_scale_floats), the trained weights
 * restored afterwards. */
static unr_status evaluate_epoch(unr_model *m, unr_runner *run, unr_plan *plan,
                                 const unr_cifar *test, int limit, double p, float *keep,
                                 double *full, double *exact, unr_error *err)
{
    unr_eval_result r;
    if (p != 1.0)
        scale_branches(m, p, keep);
    unr_model_refold(m);
    unr_status st = unr_evaluate(run, plan, test, limit, NULL, NULL, &r, err);
    *full = r.error;
    /* Test records 0-999 of the rebuilt set are pixel-exact copies. */
    if (!st)
        st = unr_evaluate(run, plan, test, 1000, NULL, NULL, &r, err);
    *exact = r.error;
    if (p != 1.0)
        unscale_branches(m, keep);
    return st;
}

unr_status unr_train(unr_model *m, const unr_cifar *train, const unr_cifar *test,
                     const unr_train_options *o, unr_train_step_fn on_step,
                     unr_train_epoch_fn on_epoch, void *user, unr_error *err)
{
    if (o->epochs < 1 || o->batch < 1 || o->batch > train->n)
        return unr_fail(err, UNR_ERR_RANGE, "train: need epochs >= 1 and 1 <= batch <= %d", train->n);
    if (o->active_blocks < 0 || o->active_blocks > m->num_blocks)
        return unr_fail(err, UNR_ERR_RANGE, "train: --active-blocks %d is outside 0..%d",
                        o->active_blocks, m->num_blocks);
    char ckpt[4200], logp[4200];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", o->out);
    snprintf(logp, sizeof logp, "%s.log.jsonl", o->out);
    unr_trainer *t = NULL;
    unr_runner *run = NULL;
    unr_plan *plan = unr_plan_create(m);
    int steps = train->n / o->batch;   /* drop the last partial batch */
    int *perm = malloc((size_t)train->n * sizeof *perm);
    int *chosen = malloc((size_t)m->num_blocks * sizeof *chosen);
    unsigned char *active = malloc((size_t)m->num_blocks);
    float *input = malloc((size_t)o->batch * UNR_IMAGE_BYTES * sizeof *input);
    uint8_t *labels = malloc((size_t)o->batch);
    char *opts = options_json(m, o);
    const double scale = branch_scale(m, o);
    float *scale_keep = malloc(branch_scale_floats(m) * sizeof *scale_keep + 1);
    unr_status st = UNR_OK;
    if (!plan || !perm || !chosen || !active || !input || !labels || !opts || !scale_keep)
        st = unr_fail(err, UNR_ERR_NOMEM, "train: out of memory");
    if (!st)
        st = unr_trainer_create(m, o->batch, o->threads, o->isa, &t, err);
    if (!st)
        st = unr_runner_create(m, 200, o->threads, o->isa, &run, err);
    double elapsed = 0;
    int start = 0;
    if (!st && o->resume) {
        start = load_checkpoint(ckpt, m, t, opts, &elapsed, err);
        if (start < 0)
            st = err ? err->status : UNR_ERR_PARSE;
    }
    /* A fresh run starts a fresh log; a resumed one appends to it. */
    if (!st)
        st = append_log(logp, NULL, start == 0, err);
    double full = 1, exact = 1;
    int total_steps = 0;
    for (int epoch = start; !st && epoch < o->epochs; epoch++) {
        unr_rng rng;
        epoch_rng(&rng, o->seed, epoch);
        for (int i = 0; i < train->n; i++)
            perm[i] = i;
        for (int i = train->n - 1; i > 0; i--) {
            int j = (int)unr_rng_below(&rng, (uint32_t)i + 1), tmp = perm[i];
            perm[i] = perm[j], perm[j] = tmp;
        }
        double t0 = unr_now_seconds(), loss_sum = 0;
        long right = 0, seen = 0;
        unr_sgd sgd = {0, o->momentum, o->weight_decay, 1};
        for (int s = 0; s < steps && !st; s++) {
            const int *idx = perm + (size_t)s * o->batch;
            unr_augment(m, train->pixels, idx, o->batch, &rng, input);
            for (int i = 0; i < o->batch; i++)
                labels[i] = train->labels[idx[i]];
            const unsigned char *act = NULL;
            if (o->active_blocks) {
                memset(active, 0, (size_t)m->num_blocks);
                unr_rng_choose(&rng, m->num_blocks, o->active_blocks, chosen);
                for (int i = 0; i < o->active_blocks; i++)
                    active[chosen[i]] = 1;
                /* A plain network has no skip around its downsampling blocks. */
                for (int b = 0; b < m->num_blocks; b++)
                    if (!unr_block_deletable(m, b))
                        active[b] = 1;
                act = active;
            }
            int correct;
            double loss = unr_trainer_backprop(t, input, labels, o->batch, act,
                                               o->label_smoothing, 1, &correct);
            sgd.lr = (float)schedule(o, epoch + (double)s / steps);
            unr_trainer_sgd_step(t, &sgd, act);
            loss_sum += loss * o->batch;
            right += correct;
            seen += o->batch;
            total_steps++;
            if (!isfinite(loss))
                st = unr_fail(err, UNR_ERR_NONFINITE, "train: the loss became %g at epoch %d step %d "
                              "(learning rate too high?)", loss, epoch + 1, s + 1);
            double now = unr_now_seconds() - t0;
            unr_train_status ts = {epoch + 1, o->epochs, s + 1, steps, loss_sum / seen,
                                   1.0 - (double)right / seen, sgd.lr, seen / now, elapsed + now,
                                   now / (s + 1) * ((double)(o->epochs - epoch) * steps - s - 1)};
            if (!st && on_step && on_step(user, &ts))
                st = unr_fail(err, UNR_ERR_CANCELLED, "train: stopped");
            if (!st && o->max_steps && total_steps >= o->max_steps)
                break;
        }
        if (st)
            break;
        double train_seconds = unr_now_seconds() - t0;
        st = evaluate_epoch(m, run, plan, test, o->eval_limit, scale, scale_keep, &full, &exact,
                            err);
        elapsed += unr_now_seconds() - t0;
        if (st)
            break;
        char line[1024];
        snprintf(line, sizeof line, "{\"epoch\":%d%s,\"lr\":%.6g,\"train_loss\":%.6f,\"train_error\":%.6f,"
                 "\"test_error\":%.6f,\"test_error_exact_0_999\":%.6f,\"epoch_seconds\":%.2f,"
                 "\"train_images_per_second\":%.1f,\"elapsed_seconds\":%.1f}",
                 epoch + 1, seen < (long)steps * o->batch ? ",\"partial\":true" : "", sgd.lr, loss_sum / seen, 1.0 - (double)right / seen, full, exact,
                 unr_now_seconds() - t0, seen / train_seconds, elapsed);
        st = append_log(logp, line, 0, err);
        if (st)
            break;
        if (on_epoch)
            on_epoch(user, line);
        /* A checkpoint stands for whole epochs only: a --max-steps stop
         * inside an epoch is logged but not checkpointed. */
        int partial = seen < (long)steps * o->batch;
        if (!partial)
            st = save_checkpoint(ckpt, m, t, opts, epoch + 1, elapsed, err);
        if (o->max_steps && total_steps >= o->max_steps)
            break;
    }
    if (!st) {
        char metrics[512], *training;
        snprintf(metrics, sizeof metrics,
                 "{\"test_error\":%.6f,\"test_images\":%d,\"test_error_exact_0_999\":%.6f,"
                 "\"how\":\"unravel eval on $CIFAR10_DIR/test_batch.bin as rebuilt offline: labels "
                 "exact, records 0-999 pixel-exact, the rest decoded from JPEG copies; not an "
                 "official CIFAR-10 figure\"}",
                 full, o->eval_limit && o->eval_limit < test->n ? o->eval_limit : test->n, exact);
        cJSON *tj = cJSON_Parse(opts);
        /* Options hold floats: print 0.1, not 0.10000000149011612. */
        for (cJSON *e = tj->child; e; e = e->next)
            if (cJSON_IsNumber(e))
                cJSON_SetNumberValue(e, round_sig(e->valuedouble));
        cJSON_AddStringToObject(tj, "recipe", "SGD, Nesterov momentum, weight decay on conv and "
                                "linear weights only, linear warm-up then cosine learning rate, "
                                "random crop (4-pixel zero padding) + horizontal flip");
        if (scale != 1.0) {
            cJSON_AddNumberToObject(tj, "test_time_branch_scale", round_sig(scale));
            cJSON_AddStringToObject(tj, "test_time_rule", m->arch.preactivation
                ? "every block runs; each residual branch is scaled by active_blocks / blocks "
                  "(folded into its conv2 weights), as stochastic depth does at test time"
                : "every block runs; each residual branch is scaled by active_blocks / blocks "
                  "(folded into its bn2 weight and bias), as stochastic depth does at test time");
        }
        cJSON_AddNumberToObject(tj, "wall_seconds", elapsed);
        cJSON_AddStringToObject(tj, "machine", o->machine ? o->machine : "unknown");
        cJSON_AddStringToObject(tj, "trainer", "unravel train " UNR_VERSION_STRING);
        training = cJSON_PrintUnformatted(tj);
        cJSON_Delete(tj);
        st = unr_model_set_metadata(m, metrics, training, err);
        if (!st)
            st = unr_model_set_license(m, UNR_WEIGHTS_LICENSE, err);
        cJSON_free(training);
        if (scale != 1.0) {     /* the saved model carries the test-time rule */
            scale_branches(m, scale, NULL);
            unr_model_refold(m);
        }
        if (!st)
            st = unr_model_save(m, o->out, err);
    }
    cJSON_free(opts);
    free(labels);
    free(input);
    free(active);
    free(scale_keep);
    free(chosen);
    free(perm);
    unr_runner_free(run);
    unr_trainer_free(t);
    unr_plan_free(plan);
    return st;
}
