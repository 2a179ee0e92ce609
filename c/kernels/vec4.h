/* vec4.h: four floats as one GCC/Clang vector value, for the loops that run
 * over channels four at a time (batch norm, Winograd transforms). Compiles
 * to SSE on x86-64 and to SIMD128 on WASM; loads and stores go through
 * memcpy, so pointers need no alignment. */
#ifndef UNR_VEC4_H
#define UNR_VEC4_H

#include <string.h>

typedef float unr_v4 __attribute__((vector_size(16)));
typedef int unr_v4i __attribute__((vector_size(16)));

static inline unr_v4 unr_ld4(const float *p)
{
    unr_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void unr_st4(float *p, unr_v4 v) { memcpy(p, &v, sizeof v); }

#endif
