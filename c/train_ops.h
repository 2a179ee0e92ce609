/* train_ops.h: the layers' training-mode forward and backward passes that the
 * convolution kernels do not cover. Activations are NHWC, flattened to
 * rows = n*h*w of c channels. Each backward is checked against finite
 * differences in tests/c/test_backward.c. */
#ifndef UNR_TRAIN_OPS_H
#define UNR_TRAIN_OPS_H

#include "internal.h"

/* Batch norm with batch statistics. Saves mean and inverse std per channel
 * (for the backward pass) and updates the running averages as PyTorch does
 * (momentum 0.1, unbiased variance) when running_mean is not NULL. */
void unr_bn_train_forward(unr_ctx *ctx, const float *u, long rows, int c, const float *gamma,
                          const float *beta, float eps, float momentum, float *running_mean,
                          float *running_var, float *mean, float *invstd, float *v);
/* du = gradient w.r.t. u; dgamma, dbeta accumulate (+=). du may alias dv. */
void unr_bn_train_backward(unr_ctx *ctx, const float *u, const float *dv, long rows, int c,
                           const float *gamma, const float *mean, const float *invstd,
                           float *du, float *dgamma, float *dbeta);

/* v = max(u, 0) elementwise; dx *= (y > 0) elementwise (y is the output). */
void unr_relu_mask(float *dx, const float *y, size_t count);
/* dx[n,h,w,c] += gradient of shortcut A (stride, symmetric pad) for dy. */
void unr_shortcut_a_backward(const float *dy, int n, int h, int cin, int stride, int cout,
                             float *dx);
/* Global average pool and its backward. */
void unr_avgpool_forward(const float *x, int n, int hw, int c, float *y);
void unr_avgpool_backward(const float *dy, int n, int hw, int c, float *dx);
/* Softmax cross-entropy with label smoothing eps, mean over the batch.
 * Returns the loss; writes dlogits (already divided by n) and counts
 * correct argmax predictions. */
double unr_softmax_xent(const float *logits, const uint8_t *labels, int n, int k, float eps,
                        float *dlogits, int *correct);

#endif
