/* rng.c: one seeded generator, xoshiro256** seeded by splitmix64, so the
 * native build and the WASM build draw exactly the same samples. Only integer
 * arithmetic and correctly rounded double operations are used. */
#include <math.h>
#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void unr_rng_seed(unr_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void unr_rng_seed_for(unr_rng *r, uint64_t seed, uint64_t tag, uint64_t a, uint64_t b)
{
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (tag * 0xd1b54a32d192ed03ull);
    h = splitmix64(&x);
    x = h ^ (a * 0x8cb92ba72f3d8dd7ull);
    h = splitmix64(&x);
    x = h ^ (b * 0x9e3779b97f4a7c15ull);
    unr_rng_seed(r, splitmix64(&x));
}

uint64_t unr_rng_next(unr_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t unr_rng_below(unr_rng *r, uint32_t bound)
{
    if (bound <= 1)
        return 0;
    /* Rejection sampling: no modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
        x = unr_rng_next(r);
    while (x >= limit);
    return (uint32_t)(x % bound);
}

double unr_rng_uniform(unr_rng *r)
{
    return (double)(unr_rng_next(r) >> 11) * 0x1.0p-53;
}

double unr_rng_normal(unr_rng *r)
{
    /* Box-Muller; log/sqrt/cos agree across libms to well below float
     * precision, which is all initial weights need. */
    double u1 = 1.0 - unr_rng_uniform(r), u2 = unr_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void unr_rng_choose(unr_rng *r, int n, int k, int *out)
{
    /* Partial Fisher-Yates over the implicit array 0..n-1: only the slots
     * that were swapped away are remembered (at most k of them), so no
     * n-sized scratch is needed. k is a block count, so O(k^2) is cheap. */
    enum { MAX_K = UNR_MAX_BLOCKS };
    int moved_pos[MAX_K], moved_val[MAX_K], moved = 0;
    if (k > n)
        k = n;
    if (k > MAX_K)
        k = MAX_K;
    for (int i = 0; i < k; i++) {
        int j = i + (int)unr_rng_below(r, (uint32_t)(n - i));
        int vi = i, vj = j, jslot = -1;
        for (int t = 0; t < moved; t++) {
            if (moved_pos[t] == i)
                vi = moved_val[t];
            if (moved_pos[t] == j)
                vj = moved_val[t], jslot = t;
        }
        out[i] = vj;
        if (j != i) {  /* slot j now holds what slot i held */
            if (jslot < 0)
                jslot = moved++;
            moved_pos[jslot] = j;
            moved_val[jslot] = vi;
        }
    }
}
