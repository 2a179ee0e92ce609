/* isa.c: the table of kernel ISAs (isa.h), best first. An entry names its
 * micro-kernels and the choices the dispatch makes for it; its code sits
 * behind the same #if as its micro-kernels, so an ISA a build lacks keeps
 * only its name (for messages) and is never available. */
#include "isa.h"

#if defined(UNR_HAVE_AVX2_BUILD)
static int avx2_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

static int always_available(void) { return 1; }

static const unr_isa_info isa_table[] = {
    {
        .isa = UNR_ISA_AVX2, .name = "avx2",    /* x86-64 native builds */
#if defined(UNR_HAVE_AVX2_BUILD)
        .available = avx2_available,
        .wide = {6, 16, unr_f32_gemm_6x16__avx2, "6x16__avx2"},
        .narrow = {8, 8, unr_f32_gemm_8x8__avx2, "8x8__avx2"},
        .spaced = {{8, 8, 8, unr_f32_gemm_8x8__avx2_s8}},
        .pad_3x3 = 1,
        .winograd = UNR_WINOGRAD_DEFAULT_M,
        /* 8-channel layers stay direct: their 8-deep GEMMs are too short
         * to beat the AVX2 8x8 kernel (measured: ResNet-110-half training
         * 219 vs 234 img/s with F(2x2), 271 vs 314 with F(4x4); inference
         * 1125 vs 1410). */
        .winograd_min_channels = 16,
#endif
    },
    {
        .isa = UNR_ISA_WASMSIMD, .name = "wasmsimd",    /* wasm builds */
#if defined(__wasm_simd128__)
        .available = always_available,
        /* 4x8, not 6x8: V8 spills 6x8's registers (gemm_wasmsimd.c). */
        .wide = {4, 8, unr_f32_gemm_4x8__wasmsimd, "4x8__wasmsimd"},
        .narrow = {4, 8, unr_f32_gemm_4x8__wasmsimd, "4x8__wasmsimd"},
        .spaced = {
            {8, 4, 8, unr_f32_gemm_4x8__wasmsimd_s8},
            {16, 4, 8, unr_f32_gemm_4x8__wasmsimd_s16},
            {32, 4, 8, unr_f32_gemm_4x8__wasmsimd_s32},
            {64, 4, 8, unr_f32_gemm_4x8__wasmsimd_s64},
            {128, 4, 8, unr_f32_gemm_4x8__wasmsimd_s128},
        },
        /* F(4x4) here too. It lost while its transforms held the patch in
         * registers (V8 spilled it) and it ran one GEMM call per position;
         * through an L1 buffer and with grouped GEMMs it wins at every
         * channel count (winograd.c). */
        .winograd = UNR_WINOGRAD_DEFAULT_M,
        /* The direct kernel is slower here and the grouped GEMM (all 36
         * positions per call) keeps K = 8 busy: 32x32 8->8 52 vs 31
         * GFLOP/s-equivalent. */
        .winograd_min_channels = 8,
#endif
    },
    {
        .isa = UNR_ISA_SCALAR, .name = "scalar",    /* the reference */
        .available = always_available,
    },
};
_Static_assert(sizeof isa_table / sizeof isa_table[0] == UNR_ISA_COUNT - 1,
               "one table entry per ISA (auto aside)");

const unr_isa_info *unr_isa_table(int *count)
{
    *count = (int)(sizeof isa_table / sizeof isa_table[0]);
    return isa_table;
}

const unr_isa_info *unr_isa_find(unr_isa isa)
{
    for (size_t i = 0; i < sizeof isa_table / sizeof isa_table[0]; i++)
        if (isa_table[i].isa == isa)
            return &isa_table[i];
    return NULL;
}

const char *unr_isa_name(unr_isa isa)
{
    if (isa == UNR_ISA_AUTO)
        return "auto";
    const unr_isa_info *e = unr_isa_find(isa);
    return e ? e->name : "unknown";
}

int unr_isa_available(unr_isa isa)
{
    if (isa == UNR_ISA_AUTO)
        return 1;
    const unr_isa_info *e = unr_isa_find(isa);
    return e && e->available && e->available();
}

unr_isa unr_isa_best(void)
{
    for (size_t i = 0; i < sizeof isa_table / sizeof isa_table[0]; i++)
        if (isa_table[i].available && isa_table[i].available())
            return isa_table[i].isa;
    return UNR_ISA_SCALAR;
}
