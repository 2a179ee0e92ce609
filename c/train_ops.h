/* train_ops.h: the layers' training-mode forward and backward passes that the
 * convolution kernels do not cover. Activations are NHWC, flattened to
 * rows = n*h*w of c channels. Each backward is checked against finite
 * differences in tests/c/test_backward.c. */
#ifndef UNR_TRAIN_OPS_H
#define UNR_TRAIN_OPS_H

#include "internal.h"

/* Batch norm with batch statistics: v = bn(u) (+ residual if not NULL,
 * then max(., 0) if relu; fused, as the three are applied in one pass).
 * Saves mean and inverse std per channel (for the backward pass) and
 * updates the running averages as PyTorch does (momentum 0.1, unbiased
 * variance) when running_mean is not NULL. */
void unr_bn_train_forward(unr_ctx *ctx, const float *u, long rows, int c, const float *gamma,
                          const float *beta, float eps, float momentum, float *running_mean,
                          float *running_var, float *mean, float *invstd,
                          const float *residual, int relu, float *v);
/* du = gradient w.r.t. u of a loss whose gradient w.r.t. v is dv where
 * mask > 0 and 0 elsewhere (mask NULL: dv everywhere; mask = the output of
 * a following ReLU fuses that ReLU's backward). dgamma, dbeta accumulate
 * (+=). du may alias dv. */
void unr_bn_train_backward(unr_ctx *ctx, const float *u, const float *dv, const float *mask,
                           long rows, int c, const float *gamma, const float *mean,
                           const float *invstd, float *du, float *dgamma, float *dbeta);

/* Elementwise, split over the context's threads: dx *= (y > 0);
 * dst = src; dst += src. */
void unr_relu_mask(unr_ctx *ctx, float *dx, const float *y, size_t count);
void unr_copy(unr_ctx *ctx, float *dst, const float *src, size_t count);
void unr_add(unr_ctx *ctx, float *dst, const float *src, size_t count);
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
