/* isa.h: the kernel ISAs as one table (isa.c), read by context creation,
 * the kernel tests and bench/kernels.c.
 *
 * Adding an ISA: a value in unr_isa (kernels.h), one entry in isa.c's table
 * and its micro-kernels (a gemm_<isa>.c, declared in ukernel.h). The GEMM
 * driver, Winograd, the tests and the bench need no other change.
 */
#ifndef UNR_ISA_H
#define UNR_ISA_H

#include "ukernel.h"

/* Winograd output tile where it is on: F(4x4, 3x3), measured faster than
 * F(2x2, 3x3) (see unr_ctx_set_winograd). */
#define UNR_WINOGRAD_DEFAULT_M 4

typedef struct {
    unr_isa isa;
    const char *name;           /* unr_isa_name: the CLI's --isa, the JS API */
    /* Whether this build has it and this CPU runs it; NULL: not built in,
     * and every field below is zero. */
    int (*available)(void);
    /* Micro-kernels; wide.fn NULL: no micro-kernel, every call runs the
     * reference loops (ref.c). */
    unr_ukernel wide;           /* main micro-kernel */
    unr_ukernel narrow;         /* for N <= its nr (e.g. 8 channels) */
    /* micro-kernels for rows a fixed distance apart; spacing 0 ends the list */
    unr_spaced_ukernel spaced[UNR_MAX_SPACED + 1];
    /* 3x3 convs without a spaced kernel still read a zero-padded copy of
     * their source, as 3 K segments of 3*C per row (gemm.c, conv_job.rows3). */
    int pad_3x3;
    /* Winograd F(m x m, 3x3) for 3x3 stride-1 convs: the default m, or 0,
     * and the fewest channels (in and out) it takes (unr_winograd_fits). */
    int winograd;
    int winograd_min_channels;
} unr_isa_info;

/* The table, best ISA first; *count entries, one per unr_isa but auto. */
const unr_isa_info *unr_isa_table(int *count);
/* The entry of isa, or NULL (auto, out of range). */
const unr_isa_info *unr_isa_find(unr_isa isa);
/* What auto means here: the first available entry (at worst scalar). */
unr_isa unr_isa_best(void);

#endif
