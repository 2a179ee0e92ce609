/* trainer.h: the network in training mode (batch statistics), its backward
 * pass and the SGD step. The epoch loop, data and checkpoints are in train.c. */
#ifndef UNR_TRAINER_H
#define UNR_TRAINER_H

#include "internal.h"

typedef struct unr_trainer unr_trainer;

unr_status unr_trainer_create(unr_model *m, int max_batch, int threads, unr_isa isa,
                              unr_trainer **out, unr_error *err);
void unr_trainer_free(unr_trainer *t);

/* Forward and backward on one batch (input NHWC normalised). active[b] = 0
 * makes block b use only its shortcut (NULL: all active). Zeroes, then fills
 * the gradients (see unr_trainer_grads). Updates the batch-norm running
 * averages if update_running. Returns the mean loss; *correct counts right
 * argmax predictions. */
double unr_trainer_backprop(unr_trainer *t, const float *input, const uint8_t *labels, int n,
                            const unsigned char *active, float label_smoothing,
                            int update_running, int *correct);
/* Gradient of every raw parameter, laid out like model->params. */
float *unr_trainer_grads(unr_trainer *t);

typedef struct {
    float lr, momentum, weight_decay;
    int nesterov;
} unr_sgd;
/* One SGD step on the gradients of the last backprop. Tensors of the
 * residual branches of inactive blocks are left untouched, momentum too. */
void unr_trainer_sgd_step(unr_trainer *t, const unr_sgd *opt, const unsigned char *active);
/* Momentum buffer (for checkpoints), laid out like model->params. */
float *unr_trainer_momentum(unr_trainer *t);

/* Tests: the logits of the last backprop ([n][classes]), and the batch
 * statistics of its forward copied into every batch norm's running mean and
 * (biased) variance, so the inference network computes what training did:
 * one network, two implementations, checked against each other. Needs a
 * last backprop with every block active. */
const float *unr_trainer_logits(const unr_trainer *t);
void unr_trainer_batch_stats_to_running(unr_trainer *t);

#endif
