/* internal.h: structures shared inside the core, not part of the API. */
#ifndef UNR_INTERNAL_H
#define UNR_INTERNAL_H

#include <stdarg.h>
#include "unravel.h"

/* ---- errors ---- */
/* Fill err (if not NULL) and return status. printf-style message. */
unr_status unr_fail(unr_error *err, unr_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void unr_error_clear(unr_error *err);
/* The index of the largest of v[0..n), the first on ties: the predicted class. */
int unr_argmax(const float *v, int n);

/* ---- parameters ---- */

/* How a stored tensor maps onto our parameters. File layouts follow
 * PyTorch (conv OIHW, linear [out][in]) so such checkpoints import; in
 * memory convs are HWIO to suit NHWC kernels. */
typedef enum { UNR_T_CONV, UNR_T_BN_WEIGHT, UNR_T_BN_BIAS, UNR_T_BN_MEAN,
               UNR_T_BN_VAR, UNR_T_FC_WEIGHT, UNR_T_FC_BIAS } unr_tensor_kind;

typedef struct {
    char name[48];
    unr_tensor_kind kind;
    int ndim;
    int shape[4];      /* file (PyTorch) shape */
    size_t count;
    float *data;       /* inside model->params, internal layout */
} unr_tensor;

typedef struct { float *w; int k, ci, co, stride; } unr_conv;   /* w: (k,k,ci,co) */
typedef struct { float *gamma, *beta, *mean, *var; int c; } unr_bn;
typedef struct {
    unr_conv conv1, conv2, proj;   /* proj only for shortcut B downsampling */
    unr_bn bn1, bn2, proj_bn;
    int has_proj;
} unr_block_params;

/* A conv with batch norm folded in: y = conv(x, w) + b. */
typedef struct { float *w; float *b; int k, ci, co, stride; } unr_fconv;
/* A batch norm before a ReLU (pre-activation): y = x * scale + shift. */
typedef struct { float *scale, *shift; } unr_affine;
typedef struct { unr_fconv c1, c2, proj; unr_affine pre; } unr_fblock;

struct unr_model {
    char name[64];
    unr_arch arch;
    float mean[3], std[3];        /* per channel, 0..1 pixel units */
    int num_blocks;
    unr_block_info *blocks;       /* [num_blocks] */

    float *params;                /* every raw tensor, one allocation */
    size_t num_params;
    unr_tensor *tensors;
    int num_tensors;
    unr_conv stem;
    unr_bn stem_bn;               /* post-activation only */
    unr_bn head_bn;               /* pre-activation with arch.head_bn only */
    unr_block_params *bp;         /* [num_blocks] */
    float *fc_w;                  /* (classes, width[2]) */
    float *fc_b;                  /* (classes) */

    float *folded;                /* folded inference weights, one allocation */
    unr_fconv fstem;
    unr_affine fhead;             /* folded head_bn (pre-activation) */
    unr_fblock *fb;               /* [num_blocks] */

    char *metrics_json, *training_json;   /* NULL if absent */
    char *license;                        /* the weights' terms, NULL if unstated */
};

/* A generator seeded by a seed and up to three small integers, so a draw
 * depends only on what it is for, not on the order of draws. */
void unr_rng_seed_for(unr_rng *r, uint64_t seed, uint64_t tag, uint64_t a, uint64_t b);

/* Allocate the model's block table and parameter layout for arch (zeroed
 * parameters). Validates arch first. */
/* A tensor between its file layout (little-endian float32; convs PyTorch's
 * OIHW) and memory (convs HWIO, the kernels' layout). */
void unr_tensor_from_file(unr_tensor *t, const unsigned char *bytes);
void unr_tensor_to_file(const unr_tensor *t, unsigned char *bytes);

unr_status unr_model_alloc(const unr_arch *arch, const char *source,
                           unr_model **out, unr_error *err);
/* Number of raw parameters the arch needs (saturating, before allocation). */
uint64_t unr_arch_param_count(const unr_arch *arch);

/* Final width of the network (input to the linear layer). */
/* depth, blocks_per_stage (one number, or one per stage where they differ)
 * and widths into a cJSON object: the manifest's spelling. */
struct cJSON;
void unr_arch_add_json(struct cJSON *obj, const unr_arch *a);
/* a: resolved (a model's arch). */
static inline int unr_final_width(const unr_arch *a) { return a->widths[a->num_stages - 1]; }

/* ---- platform helpers ---- */
double unr_now_seconds(void);
/* Native only (model_io.c). Read a whole file (limit bytes at most); the
 * caller frees *data. Write one atomically: temporary file, fsync, rename. */
unr_status unr_read_file(const char *path, size_t limit, void **data,
                         size_t *len, unr_error *err);
unr_status unr_write_file_atomic(const char *path, const void *data, size_t len,
                                 unr_error *err);


/* ---- the runner (net.c) ---- */

struct unr_runner {
    const unr_model *m;
    unr_ctx *ctx;
    int max_batch;
    int chunk;               /* images per pass through the network (cache-sized) */
    size_t act_floats;       /* floats in one activation buffer: max over stages */
    float *input;            /* [max_batch, 32, 32, 3] */
    float *act[4];           /* activation buffers, act_floats each */
    float *pooled;           /* [max_batch, width[2]] */
    float *logits;           /* [max_batch, classes] */
    float **saved;           /* num_blocks+1 activations kept by the experiments, lazily */
    float *saved_mem;
    float *grad[3];          /* gradient buffers for path statistics, lazily */
    int linear_branches;     /* tests only: no ReLU in blocks (the exact unraveled view) */
};

/* Allocate r->saved (and r->grad) on first use. */
unr_status unr_runner_reserve_saved(unr_runner *r, unr_error *err);

/* Images per pass of unr_forward: the batch is cut into chunks whose
 * activations fit in cache. */
int unr_runner_chunk(const unr_model *m, int max_batch);
/* Floats in the largest activation of the network, per image. */
size_t unr_max_activation(const unr_model *m);
/* One piece of the forward pass at a time, for the experiments that reuse
 * activations. x and y must not alias; t and s are scratch of one
 * activation each. */
void unr_net_stem(unr_runner *r, const float *input, int n, float *y);
void unr_net_block(unr_runner *r, int block, int deleted, const float *x, int n, float *y,
                   float *t, float *s);
void unr_net_head(unr_runner *r, const float *x, int n, float *logits);
/* Tests: the gradient of one path set (as unr_paths_gradient) as a vector
 * w.r.t. the normalised input (NHWC, n x 32 x 32 x 3 floats). Summed over
 * all 2^n sets it is the network's whole input gradient. */
unr_status unr_paths_gradient_vector(unr_runner *r, const uint8_t *pixels, const uint8_t *labels,
                                     int n, const unsigned char *active, float *grad, unr_error *err);
/* y = relu?(x * scale + shift) per channel over pixels x c floats (may alias). */
void unr_affine_relu(const unr_affine *f, const float *x, size_t pixels, int c, int relu, float *y);
/* Shortcut A: take every second pixel (if stride 2) and zero-pad channels
 * symmetrically. */
void unr_shortcut_a(const float *x, int n, int h, int cin, int stride, int cout, float *y);

#endif
