/* unravel.h: the public API of the unravel core.
 *
 * unravel runs CIFAR-10 residual networks (He et al. 2016, depth 6n+2) and
 * the experiments of Veit, Wilber & Belongie, "Residual Networks Behave Like
 * Ensembles of Relatively Shallow Networks" (NeurIPS 2016): deleting and
 * reordering blocks at test time, and gradient statistics per path length.
 *
 * A worked example (error handling elided):
 *
 *     unr_error err;
 *     unr_model *model;  unr_model_load_file("models/resnet20.json", &model, &err);
 *     unr_cifar test;    unr_cifar_load_file("cifar10/test_batch.bin", &test, &err);
 *     unr_plan *plan = unr_plan_create(model);     // every block, network order
 *     unr_plan_delete(plan, 3);                    // lesion block 3
 *     unr_runner *run;   unr_runner_create(model, 100, 0, UNR_ISA_AUTO, &run, &err);
 *     unr_eval_result res;
 *     unr_evaluate(run, plan, &test, 0, NULL, NULL, &res, &err);
 *     printf("error %.2f%%\n", 100.0 * res.error);
 *     unr_runner_free(run); unr_plan_free(plan); unr_cifar_free(&test);
 *     unr_model_free(model);
 *
 * Conventions:
 * - Every fallible function returns unr_status and, when err is not NULL,
 *   fills err->message with one line naming the file and field at fault.
 *   Nothing here prints or exits.
 * - Objects returned through an out-pointer belong to the caller, who frees
 *   them with the matching _free function. Borrowed pointers (e.g. from
 *   unr_model_block) live as long as the object they came from.
 * - Blocks are numbered 0..num_blocks-1 in network order.
 */
#ifndef UNRAVEL_H
#define UNRAVEL_H

#include <stddef.h>
#include <stdint.h>
#include "kernels/kernels.h"

#define UNR_VERSION_STRING "0.1.0"
#define UNR_MODEL_FORMAT "unravel-model"
#define UNR_MODEL_VERSION 1
/* The terms of weights trained by this project (see LICENSE and NOTICE). */
#define UNR_WEIGHTS_LICENSE "MIT (the unravel project's licence: LICENSE). Trained on CIFAR-10 " \
    "(Krizhevsky, 2009); cite the dataset as its authors ask (NOTICE)."

/* Limits that protect against absurd inputs before anything is allocated. */
#define UNR_MAX_BLOCKS_PER_STAGE 400   /* ResNet-1202 has 200 */
#define UNR_MAX_WIDTH 1024             /* channels per stage */
#define UNR_MAX_STAGES 4               /* 32x32 -> 16 -> 8 -> 4 */
#define UNR_MAX_BLOCKS 1200            /* over all stages */
#define UNR_MAX_MANIFEST_BYTES (16u << 20)
#define UNR_MAX_BATCH 4096
#define UNR_NUM_CLASSES 10             /* CIFAR-10 */
/* Cache budget for the activations of one chunk of a batch (net.c). */
#ifndef UNR_CHUNK_BYTES
#define UNR_CHUNK_BYTES ((size_t)16 << 20)
#endif
#define UNR_IMAGE_SIDE 32
#define UNR_IMAGE_BYTES (3 * 32 * 32)
#define UNR_CIFAR_RECORD_BYTES (1 + UNR_IMAGE_BYTES)

/* ---- errors ------------------------------------------------------------ */

typedef enum {
    UNR_OK = 0,
    UNR_ERR_IO,          /* a file could not be read or written */
    UNR_ERR_PARSE,       /* malformed JSON or binary layout */
    UNR_ERR_FIELD,       /* a field is missing, of the wrong type or value */
    UNR_ERR_SHAPE,       /* a tensor shape does not match the architecture */
    UNR_ERR_RANGE,       /* an offset, index or size out of range */
    UNR_ERR_CHECKSUM,    /* sha256 mismatch */
    UNR_ERR_NONFINITE,   /* NaN or Inf in the weights */
    UNR_ERR_PLAN,        /* an invalid block order or deletion */
    UNR_ERR_NOMEM,
    UNR_ERR_CANCELLED,   /* a progress callback asked to stop */
    UNR_ERR_UNSUPPORTED, /* not available in this build */
    UNR_STATUS_COUNT
} unr_status;

typedef struct {
    unr_status status;
    char message[320];
} unr_error;

const char *unr_status_name(unr_status s);

/* Progress: called with done out of total work units; return nonzero to
 * cancel (the call then returns UNR_ERR_CANCELLED). */
typedef int (*unr_progress_fn)(void *user, double done, double total);

/* ---- architecture ------------------------------------------------------ */

typedef enum { UNR_SHORTCUT_A = 0, UNR_SHORTCUT_B, UNR_SHORTCUT_NONE } unr_shortcut;

/* The CIFAR ResNets of He et al. have three stages of n blocks each
 * (depth 6n+2): {n, {16, 32, 64}, shortcut, 10, 1e-5f} describes one. Other
 * shapes (ResNet-18/34-style nets with four stages and per-stage block
 * counts) set num_stages and stage_blocks. Every stage after the first
 * starts with a stride-2 block. A loaded or created model holds the
 * resolved form (unr_arch_resolve): num_stages and stage_blocks filled in,
 * blocks_per_stage the common count or 0 where stages differ. */
typedef struct {
    int blocks_per_stage;   /* n, the same in every stage (ignored where stage_blocks is set) */
    int widths[UNR_MAX_STAGES]; /* channels per stage, e.g. 16 32 64 */
    unr_shortcut shortcut;
    int num_classes;        /* must be 10 */
    float bn_eps;           /* batch-norm epsilon, e.g. 1e-5 */
    int num_stages;         /* 1..4; 0 means 3 */
    int stage_blocks[UNR_MAX_STAGES]; /* blocks per stage; all 0 means blocks_per_stage each */
    /* Pre-activation blocks (He et al., "Identity mappings", 2016; the
     * PreActResNet and Wide ResNet of CIFAR repositories): the block is
     * y = shortcut + conv2(relu(bn2(conv1(relu(bn1(x)))))), no ReLU after the
     * sum, a projection shortcut reads relu(bn1(x)) and has no batch norm,
     * and the stem is a bare conv. head_bn: a final batch norm + ReLU before
     * the pool (Wide ResNet, fb.resnet.torch), absent in some PreActResNets. */
    int preactivation;
    int head_bn;            /* pre-activation only */
    int stem_width;         /* channels out of the stem; 0 means widths[0] (Wide ResNets: 16) */
} unr_arch;

typedef struct {
    int stage;              /* 0 .. num_stages-1 */
    int index_in_stage;
    int cin, cout;
    int h_in, h_out;        /* square feature maps */
    int stride;             /* 2 for the first block of every stage but the first */
    int downsample;         /* stride 2 or cin != cout */
} unr_block_info;

const char *unr_shortcut_name(unr_shortcut s);
int unr_shortcut_parse(const char *name, unr_shortcut *out); /* 0 on success */
/* Checks every architecture field; names the bad one in err. */
unr_status unr_arch_validate(const unr_arch *arch, const char *source, unr_error *err);
/* The explicit form: num_stages and stage_blocks filled in, blocks_per_stage
 * the common count (0 if the stages differ). Call on a validated arch. */
unr_arch unr_arch_resolve(const unr_arch *arch);
int unr_arch_num_blocks(const unr_arch *arch);  /* over all stages */
int unr_arch_depth(const unr_arch *arch);       /* weighted layers: 2 per block + stem + fc */
/* "blocks 3/3/3, widths 16/32/64" into buf (cap bytes); returns buf. */
const char *unr_arch_format(const unr_arch *arch, char *buf, size_t cap);

/* ---- models ------------------------------------------------------------ */

typedef struct unr_model unr_model;

/* Parse and validate a manifest and its weights (both borrowed, copied as
 * needed). source names the manifest in messages. Folds batch norm for
 * inference. */
unr_status unr_model_load(const char *manifest, size_t manifest_len,
                          const void *weights, size_t weights_len,
                          const char *source, unr_model **out, unr_error *err);
/* Reads MANIFEST.json and the weights file it names (relative to it). */
unr_status unr_model_load_file(const char *manifest_path, unr_model **out,
                               unr_error *err);
/* A model with He-initialised weights and unit batch norm, for tests. */
unr_status unr_model_init_random(const unr_arch *arch, uint64_t seed,
                                 unr_model **out, unr_error *err);
/* Writes PATH.json + PATH.bin (path given without extension, or ending in
 * .json). Refolds nothing; writes the raw (unfolded) parameters. */
unr_status unr_model_save(const unr_model *m, const char *path, unr_error *err);
/* The same two files in memory, with no file I/O (unr_model_save writes
 * these bytes; the WASM build hands them to JavaScript): *manifest, JSON
 * text ending in a newline, *manifest_len bytes (NUL-terminated besides),
 * and *weights, the weights file's *weights_len bytes; both malloc'd, the
 * caller frees them. name: the manifest's "name" (NULL: the model's own);
 * weights_file: the weights.file it names (NULL: NAME.bin). */
unr_status unr_model_serialize(const unr_model *m, const char *name, const char *weights_file,
                               char **manifest, size_t *manifest_len, void **weights,
                               size_t *weights_len, unr_error *err);
void unr_model_free(unr_model *m);

const unr_arch *unr_model_arch(const unr_model *m);
int unr_model_num_blocks(const unr_model *m);
const unr_block_info *unr_model_block(const unr_model *m, int i);
size_t unr_model_num_params(const unr_model *m);
const char *unr_model_name(const unr_model *m);
/* Raw JSON text of the manifest's "metrics" / "training" objects, or NULL. */
const char *unr_model_metrics_json(const unr_model *m);
const char *unr_model_training_json(const unr_model *m);
/* Replace them (JSON object text, validated); used by the trainer. */
unr_status unr_model_set_metadata(unr_model *m, const char *metrics_json,
                                  const char *training_json, unr_error *err);
/* Under what terms the weights may be used (the manifest's "license"), or
 * NULL where the manifest does not say. The trainer writes UNR_WEIGHTS_LICENSE. */
const char *unr_model_license(const unr_model *m);
unr_status unr_model_set_license(unr_model *m, const char *license, unr_error *err);
#define UNR_MAX_LICENSE 400
/* Multiply-adds of one forward pass of one image (full plan). */
double unr_model_macs(const unr_model *m);
/* Recompute the folded inference weights after the raw ones changed. */
void unr_model_refold(unr_model *m);

/* ---- importing PyTorch checkpoints ----------------------------------- */

/* A CIFAR ResNet trained elsewhere, read straight from its checkpoint, with
 * no PyTorch: the zip of torch.save (PyTorch >= 1.6), the legacy torch.save
 * stream (raw pickles and storages, as many published .th files are), or a
 * safetensors file. The state dict may be bare or under "state_dict",
 * "model" or "net", with or without DataParallel's "module." prefix;
 * tensors must be float32. Pickles are read by a strict reader that runs
 * nothing: any global but OrderedDict, torch's tensor-rebuild functions and
 * storage classes is refused. The architecture (stages, blocks per stage,
 * widths, stem, post- or pre-activation, head batch norm, shortcut A or B)
 * is read off the names and shapes exactly as scripts/import-pytorch.py
 * does: unravel's own names (stem.conv, blocks.I...), the layerS.J names
 * of the usual PyTorch CIFAR ResNets (shortcut.0/.1 or downsample.0/.1,
 * linear or fc), and Wide ResNets' blockS.layer.J / convShortcut. Zeroed
 * options mean: infer everything, CIFAR-10's mean and std. */
typedef enum { UNR_BLOCK_AUTO = 0, UNR_BLOCK_POST, UNR_BLOCK_PRE } unr_block_kind;

typedef struct {
    int has_mean_std;       /* 0: CIFAR-10's, with a warning (a state dict does not hold them) */
    float mean[3], std[3];  /* per channel, 0..1 pixel units */
    int has_shortcut;       /* 0: B where the checkpoint has projections, else A */
    unr_shortcut shortcut;  /* UNR_SHORTCUT_NONE: a plain network (it has no tensors to tell) */
    unr_block_kind block;   /* AUTO: told apart by the batch-norm shapes */
    int num_stages;         /* 0: read off the names; needed for unravel's blocks.I names */
    int stage_blocks[UNR_MAX_STAGES];   /*    when the stages differ */
    float bn_eps;           /* 0: 1e-5, PyTorch's default */
    const char *name;       /* the model's name; NULL: source's file name without extension */
} unr_import_options;

#define UNR_MAX_CHECKPOINT_TENSORS 100000   /* tensors in one state dict */

/* Reads the n checkpoint bytes (borrowed) into a new model. source names the
 * file in messages, and errors name the zip entry, pickle offset or tensor
 * at fault. opt may be NULL. warnings (if not NULL) receives what the caller
 * should tell the user (e.g. that the mean and std were assumed), one per
 * line, "" if none. */
unr_status unr_model_import_checkpoint(const void *bytes, size_t n, const char *source,
                                       const unr_import_options *opt, unr_model **out,
                                       char *warnings, size_t warnings_cap, unr_error *err);

/* ---- plans: which blocks run, in which order -------------------------- */

typedef struct {
    int num_blocks;
    int *order;             /* order[pos] = block id at position pos */
    unsigned char *deleted; /* deleted[block id] = 1: residual branch removed */
} unr_plan;

unr_plan *unr_plan_create(const unr_model *m);  /* identity order, none deleted */
void unr_plan_free(unr_plan *p);
void unr_plan_reset(unr_plan *p);
unr_status unr_plan_copy(unr_plan *dst, const unr_plan *src);
/* Mark block b deleted; range-checked. Validity is checked by validate. */
unr_status unr_plan_delete(unr_plan *p, int block, unr_error *err);
/* Parse "3,7" into deletions and "0,1,2,4,3,..." into the order. Either may
 * be NULL or empty. */
unr_status unr_plan_parse(unr_plan *p, const char *deleted_csv,
                          const char *order_csv, unr_error *err);
/* Rules: order is a permutation; a block stays in its stage; downsampling
 * blocks stay at their position; a plain network's downsampling block can't
 * be deleted. */
unr_status unr_plan_validate(const unr_model *m, const unr_plan *p, unr_error *err);
/* Kendall's tau between the identity order and p->order. */
double unr_plan_kendall_tau(const unr_plan *p);
/* Which blocks may be swapped: not downsampling (same-stage only). */
int unr_block_swappable(const unr_model *m, int block);
/* Which blocks may be deleted. */
int unr_block_deletable(const unr_model *m, int block);

/* ---- CIFAR-10 ---------------------------------------------------------- */

typedef struct {
    int n;
    uint8_t *labels;   /* [n] */
    uint8_t *pixels;   /* [n][3][32][32], the record layout */
} unr_cifar;

/* Parse official binary records (copied). source names it in messages. */
unr_status unr_cifar_parse(const void *bytes, size_t len, const char *source,
                           unr_cifar *out, unr_error *err);
unr_status unr_cifar_load_file(const char *path, unr_cifar *out, unr_error *err);
/* "test" reads DIR/test_batch.bin; "train" reads data_batch_1..5.bin. */
unr_status unr_cifar_load_split(const char *dir, const char *split,
                                unr_cifar *out, unr_error *err);
void unr_cifar_free(unr_cifar *c);

/* ---- running the network ---------------------------------------------- */

typedef struct unr_runner unr_runner;

/* A runner owns the kernel context (threads, SIMD variant) and the
 * activation arena for batches of up to max_batch images. threads <= 0: one
 * per CPU. The model must outlive the runner. */
unr_status unr_runner_create(const unr_model *m, int max_batch, int threads,
                             unr_isa isa, unr_runner **out, unr_error *err);
void unr_runner_free(unr_runner *r);
unr_isa unr_runner_isa(const unr_runner *r);
int unr_runner_max_batch(const unr_runner *r);
/* Images per pass through the network: a batch is cut into chunks whose
 * activations fit in cache. images <= 0 restores the default. */
void unr_runner_set_chunk(unr_runner *r, int images);
int unr_runner_get_chunk(const unr_runner *r);

/* Normalise uint8 record-layout images into the network's NHWC input. */
void unr_images_to_input(const unr_model *m, const uint8_t *pixels, int n, float *out);

/* logits[n][10] for n images given as NHWC normalised floats. */
unr_status unr_forward(unr_runner *r, const unr_plan *p, const float *input,
                       int n, float *logits, unr_error *err);
unr_status unr_forward_pixels(unr_runner *r, const unr_plan *p, const uint8_t *pixels,
                              int n, float *logits, unr_error *err);

typedef struct {
    int n, correct;
    double error;                   /* 1 - correct/n */
    int per_class_total[UNR_NUM_CLASSES];
    int per_class_correct[UNR_NUM_CLASSES];
    int confusion[UNR_NUM_CLASSES][UNR_NUM_CLASSES]; /* [true][predicted] */
    double seconds;
} unr_eval_result;

/* Evaluate the first `limit` images (0: all). */
unr_status unr_evaluate(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                        int limit, unr_progress_fn progress, void *user,
                        unr_eval_result *out, unr_error *err);

/* The same, also writing each image's predicted class to pred[i] (room for
 * the images evaluated): two plans' predictions, paired image by image, tell
 * a real change of error from sampling noise. */
unr_status unr_evaluate_predict(unr_runner *r, const unr_plan *p, const unr_cifar *data,
                                int limit, unr_progress_fn progress, void *user,
                                uint8_t *pred, unr_eval_result *out, unr_error *err);

/* The change of error from a base plan to another on the same n images,
 * paired image by image from their predictions: answers turned wrong (right
 * under base, wrong under the plan) and turned right; change = (turned_wrong
 * - turned_right) / n, ci95 the half-width of a normal 95% interval from the
 * paired differences (each -1, 0 or 1). web/math.mjs pairedChange is the
 * same for the page. */
typedef struct {
    int n, turned_wrong, turned_right;
    double change, ci95;
} unr_paired_change;

void unr_paired_compare(const uint8_t *base_pred, const uint8_t *plan_pred,
                        const uint8_t *labels, int n, unr_paired_change *out);
/* ci95 from the counts alone: n images, answers turned wrong and right. */
double unr_paired_ci95(int n, int turned_wrong, int turned_right);

/* ---- experiments (PAPER.md) ------------------------------------------- */

/* Single-block lesions on one batch of images. correct[b] (b < num_blocks)
 * counts right predictions with block b deleted on top of `base`;
 * correct[num_blocks] those of `base` itself. flips (if not NULL) gets, per
 * block, flips[2b] answers the deletion turned wrong and flips[2b + 1] turned
 * right, against `base` image by image. Activations before each deleted
 * position are computed once and reused; *blocks_run (if not NULL) adds the
 * number of block evaluations, to report the cost in forward-pass
 * equivalents. Blocks that cannot be deleted (a plain network's downsampling
 * blocks) get correct[b] = -1 (and no flips). */
unr_status unr_lesion_batch(unr_runner *r, const unr_plan *base, const uint8_t *pixels,
                            const uint8_t *labels, int n, int *correct, int *flips,
                            long *blocks_run, unr_error *err);

typedef struct {
    int n;                     /* images */
    double full_error;         /* the base plan */
    double *error;             /* [num_blocks], -1 where not deletable */
    int *turned_wrong;         /* [num_blocks]: answers the deletion turned wrong */
    int *turned_right;         /* [num_blocks]: and turned right */
    double forward_equivalents;
} unr_lesion_result;

void unr_lesion_result_free(unr_lesion_result *res);

/* The whole sweep over the first `limit` images (0: all). */
unr_status unr_lesion_single(unr_runner *r, const unr_plan *base, const unr_cifar *data,
                             int limit, unr_progress_fn progress, void *user,
                             unr_lesion_result *out, unr_error *err);

/* Random plans, drawn from a stream that depends only on (seed, k, sample),
 * so every front end draws the same plans in any order.
 * Deletion: k distinct deletable blocks. Swap: k distinct pairs of
 * same-stage non-downsampling blocks, exchanged one after another. */
int unr_max_deletions(const unr_model *m);
int unr_max_swaps(const unr_model *m);
unr_status unr_draw_deletion(const unr_model *m, int k, uint64_t seed, int sample,
                             unr_plan *out, unr_error *err);
unr_status unr_draw_swaps(const unr_model *m, int k, uint64_t seed, int sample,
                          unr_plan *out, unr_error *err);

typedef enum { UNR_RANDOM_DELETE = 0, UNR_RANDOM_SWAP } unr_random_kind;

typedef struct {
    int k;
    double mean, sd, min, max; /* test error over the samples (sd: n-1) */
    double tau;                /* mean Kendall's tau of the orders */
    double *errors;            /* [samples] */
    double *taus;              /* [samples], Kendall's tau of each draw */
} unr_curve_point;

/* For each k in ks: `samples` random plans, each evaluated on the first
 * `limit` images. points[i] is filled for ks[i]; free with
 * unr_curve_free. At most UNR_MAX_RANDOM_DRAWS draws (nks x samples). */
#define UNR_MAX_RANDOM_DRAWS 1000000
unr_status unr_random_curve(unr_runner *r, unr_random_kind kind, const unr_cifar *data,
                            int limit, const int *ks, int nks, int samples, uint64_t seed,
                            unr_progress_fn progress, void *user, unr_curve_point *points,
                            unr_error *err);
void unr_curve_free(unr_curve_point *points, int nks);
/* One step of such a curve, for callers that split the work (the page's
 * workers take image ranges): plan j is draw samples[j] of ks[j]; correct[j]
 * receives its right answers on images start..start+n-1 and taus[j] (if
 * not NULL) its Kendall's tau. The plans share each batch's unmodified
 * forward pass, so summing correct over ranges gives unr_random_curve's
 * errors exactly. At most 256 plans at once. */
unr_status unr_random_plans_batch(unr_runner *r, unr_random_kind kind, const unr_cifar *data,
                                  int start, int n, const int *ks, const int *samples,
                                  int nplans, uint64_t seed, long *correct, double *taus,
                                  unr_error *err);
/* mean, sd (n-1), min, max of v[0..n) */
void unr_summarize(const double *v, int n, double *mean, double *sd, double *min, double *max);

/* Path lengths: p[k] = C(n,k) / 2^n for k = 0..n, computed in log space
 * (no overflow for n up to 10^6). */
void unr_path_distribution(int n, double *p);

typedef struct { int a, b; double q, mass, share; } unr_window;
/* The shortest interval [a, b] of path lengths holding at least q of the
 * total gradient sum_k C(n,k) g[k]; share = fraction of all 2^n paths in it;
 * mass = the fraction of gradient it holds. share_of_total (if not NULL,
 * n+1 values) receives C(n,k) g[k] / sum. A NaN, infinite or negative g[k]
 * is refused (a broken measurement), zeros are allowed. */
unr_status unr_effective_window(int n, const double *grad_mean, double q, unr_window *out,
                                double *share_of_total, unr_error *err);

/* How far the window moves with the draws behind the means: `resamples`
 * bootstrap resamples of the samples (sample s keeps its norms at every
 * length, since they share one batch), each giving a window of the
 * resampled means. a and b: the central 95% of the resampled windows' ends;
 * share: of their share of all paths; same: the fraction of resamples whose
 * window is [a, b] of the means of all samples. Deterministic in seed. */
typedef struct {
    int resamples;
    int a_lo, a_hi, b_lo, b_hi;
    double share_lo, share_hi, same;
} unr_window_spread;
unr_status unr_window_bootstrap(int n, const double *norms, int samples, double q, int resamples,
                                uint64_t seed, unr_window_spread *out, unr_error *err);

/* Gradient norm per path length (claim 5). Sample s: one batch of `batch`
 * images drawn by (seed, s), one forward pass of the full network, then for
 * every k = 0..n a backward pass through the residual branches of k random
 * blocks (drawn by (seed, k, s)) and the shortcuts of the others; norms[k]
 * = L2 norm of the gradient of the mean cross-entropy w.r.t. the input
 * image. Needs a network with shortcuts. */
unr_status unr_paths_sample(unr_runner *r, const unr_cifar *data, int batch, uint64_t seed,
                            int sample, double *norms, unr_error *err);
/* The gradient norm for one batch and one explicit set of active blocks
 * (active[b] = 1: residual branch; 0: shortcut). For tests. */
unr_status unr_paths_gradient(unr_runner *r, const uint8_t *pixels, const uint8_t *labels,
                              int n, const unsigned char *active, double *norm,
                              unr_error *err);

typedef struct {
    int n;                        /* blocks */
    int samples, batch;
    double *distribution;         /* [n+1] */
    double *grad_mean, *grad_sd;  /* [n+1] */
    double *total_share;          /* [n+1] C(n,k) g_k / sum */
    double *norms;                /* [n+1][samples]: every draw, in sample order (its spread
                                     spans decades, which mean and sd alone hide) */
    unr_window window;
} unr_paths_result;

unr_status unr_path_stats(unr_runner *r, const unr_cifar *data, int samples, int batch,
                          uint64_t seed, double q, unr_progress_fn progress, void *user,
                          unr_paths_result *out, unr_error *err);
void unr_paths_result_free(unr_paths_result *res);

/* ---- randomness -------------------------------------------------------- */

/* One seeded generator (xoshiro256**) so native and WASM draw the same. */
typedef struct { uint64_t s[4]; } unr_rng;
void unr_rng_seed(unr_rng *r, uint64_t seed);
uint64_t unr_rng_next(unr_rng *r);
uint32_t unr_rng_below(unr_rng *r, uint32_t bound);  /* uniform in [0, bound) */
double unr_rng_uniform(unr_rng *r);                   /* [0, 1) */
double unr_rng_normal(unr_rng *r);
/* k distinct values from [0, n) in random order. */
void unr_rng_choose(unr_rng *r, int n, int k, int *out);

/* ---- the experiments, one table (experiments.c) ---------------------------
 * Every experiment the CLI, the JS API and the page run, with the parameters
 * it takes, their defaults and limits: the CLI builds its option tables from
 * it and the binding its argument checks (unr_wasm_experiments_json), so
 * adding an experiment is one entry here plus its code. */

typedef enum {
    UNR_PARAM_LIMIT,      /* images (0: all) */
    UNR_PARAM_BATCH,      /* images per forward batch */
    UNR_PARAM_SAMPLES,    /* random draws per k, or gradient measurements per length */
    UNR_PARAM_SEED,
    UNR_PARAM_KS,         /* values of k (a list; default 0..most) */
    UNR_PARAM_Q,          /* share of the gradient the effective window holds */
    UNR_PARAM_BOOTSTRAP,  /* resamples of the draws for the window's spread */
    UNR_PARAM_BASE_PLAN,  /* blocks deleted / reordered before the experiment */
    UNR_PARAM_COUNT
} unr_param_id;

typedef struct {
    const char *name;     /* "samples": --samples in the CLI, samples in JS */
    double min, max;      /* accepted range (integers unless real) */
    int real;
    const char *help;
} unr_param;

typedef struct {
    const char *name;       /* "delete-random" (CLI), deleteRandom in JS */
    const char *js_name;
    const char *summary;
    const char *claim;      /* which of PAPER.md's claims it tests */
    const char *split;      /* "test" or "train" */
    unsigned params;        /* 1u << unr_param_id for each it takes */
    double defaults[UNR_PARAM_COUNT];
    const char *result;     /* what it returns, in words */
} unr_experiment;

/* The parameters (UNR_PARAM_COUNT of them) and the experiments. */
const unr_param *unr_params(void);
const unr_experiment *unr_experiments(int *count);
/* By CLI or JS name; NULL if none. */
const unr_experiment *unr_experiment_find(const char *name);
static inline int unr_experiment_takes(const unr_experiment *e, unr_param_id p)
{
    return (e->params >> p) & 1u;
}

/* ---- sha256 ------------------------------------------------------------ */

void unr_sha256(const void *data, size_t len, uint8_t digest[32]);
void unr_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
