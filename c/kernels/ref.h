/* ref.h: the scalar reference kernels (ref.c): plain loops, single thread,
 * no scratch memory, the truth every other variant is tested against. */
#ifndef UNR_REF_H
#define UNR_REF_H

#include "kernels.h"

#include <stddef.h>

void unr_conv_forward__scalar(const unr_conv_shape *s, const float *x,
                              const float *w, const unr_epilogue *ep, float *y);
void unr_conv_backward_data__scalar(const unr_conv_shape *s, const float *dy,
                                    const float *w, float *dx, int accumulate);
void unr_conv_backward_weights__scalar(const unr_conv_shape *s,
                                       const float *x, const float *dy,
                                       float *dw);
void unr_gemm__scalar(int m, int n, int k,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      float *c, ptrdiff_t ldc, const unr_epilogue *ep);

#endif
