/* train.h: the training loop: data order and augmentation, learning-rate
 * schedule, per-epoch evaluation, logs and crash-safe checkpoints. */
#ifndef UNR_TRAIN_H
#define UNR_TRAIN_H

#include "unravel.h"

typedef struct {
    int epochs, batch;
    float lr;               /* peak learning rate */
    float warmup_epochs;    /* linear warm-up from lr/10, then cosine to 0 */
    float momentum, weight_decay, label_smoothing;
    uint64_t seed;
    int active_blocks;      /* 0: all; K: each batch trains K random blocks */
    int threads;
    unr_isa isa;
    const char *out;        /* model path (without .json); checkpoint is OUT.ckpt, log OUT.log.jsonl */
    int resume;
    int eval_limit;         /* test images evaluated per epoch, 0: all */
    int max_steps;          /* stop after this many steps in total (tests), 0: no limit */
    const char *machine;    /* recorded in the manifest */
} unr_train_options;

void unr_train_defaults(unr_train_options *o);

typedef struct {
    int epoch, epochs, step, steps_per_epoch;
    double loss, error, lr, images_per_second, elapsed, eta;
} unr_train_status;

/* Called after every step (return nonzero to stop) and after every epoch
 * with the JSON line that was logged. */
typedef int (*unr_train_step_fn)(void *user, const unr_train_status *s);
typedef void (*unr_train_epoch_fn)(void *user, const char *json_line);

/* Trains m in place on train, evaluates on test each epoch, and writes
 * OUT.json/.bin at the end with metrics and training metadata. */
unr_status unr_train(unr_model *m, const unr_cifar *train, const unr_cifar *test,
                     const unr_train_options *o, unr_train_step_fn on_step,
                     unr_train_epoch_fn on_epoch, void *user, unr_error *err);

/* Random crop (4-pixel zero padding) and horizontal flip of uint8 record
 * images into normalised NHWC input. */
void unr_augment(const unr_model *m, const uint8_t *pixels, const int *index, int n,
                 unr_rng *rng, float *out);

#endif
