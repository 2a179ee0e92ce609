/* plan.c: which blocks run and in which order. Invalid plans are rejected
 * with a reason, never repaired. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

unr_plan *unr_plan_create(const unr_model *m)
{
    unr_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->num_blocks = m->num_blocks;
    p->order = malloc((size_t)m->num_blocks * sizeof *p->order);
    p->deleted = calloc((size_t)m->num_blocks, 1);
    if (!p->order || !p->deleted) {
        unr_plan_free(p);
        return NULL;
    }
    unr_plan_reset(p);
    return p;
}

void unr_plan_free(unr_plan *p)
{
    if (!p)
        return;
    free(p->order);
    free(p->deleted);
    free(p);
}

void unr_plan_reset(unr_plan *p)
{
    for (int i = 0; i < p->num_blocks; i++)
        p->order[i] = i;
    memset(p->deleted, 0, (size_t)p->num_blocks);
}

unr_status unr_plan_copy(unr_plan *dst, const unr_plan *src)
{
    if (dst->num_blocks != src->num_blocks)
        return UNR_ERR_PLAN;
    memcpy(dst->order, src->order, (size_t)src->num_blocks * sizeof *src->order);
    memcpy(dst->deleted, src->deleted, (size_t)src->num_blocks);
    return UNR_OK;
}

unr_status unr_plan_delete(unr_plan *p, int block, unr_error *err)
{
    if (block < 0 || block >= p->num_blocks)
        return unr_fail(err, UNR_ERR_RANGE, "plan: block %d is out of range (the model has "
                        "blocks 0..%d)", block, p->num_blocks - 1);
    p->deleted[block] = 1;
    return UNR_OK;
}

/* Parse a comma-separated list of block ids into out (up to cap). */
static unr_status parse_ids(const char *csv, const char *what, int num_blocks, int *out,
                            int cap, int *count, unr_error *err)
{
    *count = 0;
    const char *s = csv;
    while (*s) {
        while (*s == ' ')
            s++;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            return unr_fail(err, UNR_ERR_PLAN, "%s: \"%s\" is not a comma-separated list of block "
                            "numbers", what, csv);
        if (v < 0 || v >= num_blocks)
            return unr_fail(err, UNR_ERR_RANGE, "%s: block %ld is out of range (the model has "
                            "blocks 0..%d)", what, v, num_blocks - 1);
        if (*count >= cap)
            return unr_fail(err, UNR_ERR_PLAN, "%s: more than %d entries", what, cap);
        out[(*count)++] = (int)v;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',') {
            s++;
            if (!*s)
                return unr_fail(err, UNR_ERR_PLAN, "%s: \"%s\" ends with a comma", what, csv);
        } else if (*s)
            return unr_fail(err, UNR_ERR_PLAN, "%s: unexpected '%c' in \"%s\"", what, *s, csv);
    }
    return UNR_OK;
}

unr_status unr_plan_parse(unr_plan *p, const char *deleted_csv, const char *order_csv,
                          unr_error *err)
{
    int n = p->num_blocks, count;
    int *ids = malloc((size_t)(n + 1) * sizeof *ids);
    if (!ids)
        return unr_fail(err, UNR_ERR_NOMEM, "plan: out of memory");
    /* Parse both before touching the plan: a failure leaves it unchanged. */
    int *del = malloc((size_t)(n + 1) * sizeof *del), ndel = 0;
    unr_status st = del ? UNR_OK : unr_fail(err, UNR_ERR_NOMEM, "plan: out of memory");
    if (!st && deleted_csv && *deleted_csv)
        st = parse_ids(deleted_csv, "--delete", n, del, n + 1, &ndel, err);
    count = 0;
    if (!st && order_csv && *order_csv) {
        st = parse_ids(order_csv, "--order", n, ids, n + 1, &count, err);
        if (!st && count != n)
            st = unr_fail(err, UNR_ERR_PLAN, "--order: %d entries, the model has %d blocks", count, n);
    }
    if (!st) {
        for (int i = 0; i < ndel; i++)
            p->deleted[del[i]] = 1;
        if (count)
            memcpy(p->order, ids, (size_t)n * sizeof *ids);
    }
    free(del);
    free(ids);
    return st;
}

int unr_block_swappable(const unr_model *m, int block)
{
    return block >= 0 && block < m->num_blocks && !m->blocks[block].downsample;
}

int unr_block_deletable(const unr_model *m, int block)
{
    return block >= 0 && block < m->num_blocks &&
           !(m->arch.shortcut == UNR_SHORTCUT_NONE && m->blocks[block].downsample);
}

unr_status unr_plan_validate(const unr_model *m, const unr_plan *p, unr_error *err)
{
    int n = m->num_blocks;
    if (p->num_blocks != n)
        return unr_fail(err, UNR_ERR_PLAN, "plan: %d blocks, the model has %d", p->num_blocks, n);
    unsigned char *seen = calloc((size_t)n, 1);
    if (!seen)
        return unr_fail(err, UNR_ERR_NOMEM, "plan: out of memory");
    unr_status st = UNR_OK;
    for (int pos = 0; pos < n && !st; pos++) {
        int b = p->order[pos];
        if (b < 0 || b >= n)
            st = unr_fail(err, UNR_ERR_RANGE, "plan: order[%d] = %d is out of range (blocks "
                          "0..%d)", pos, b, n - 1);
        else if (seen[b])
            st = unr_fail(err, UNR_ERR_PLAN, "plan: block %d appears twice in the order", b);
        else if (m->blocks[b].stage != m->blocks[pos].stage)
            st = unr_fail(err, UNR_ERR_PLAN, "plan: block %d (stage %d) cannot move to position "
                          "%d in stage %d: blocks only trade places within a stage", b,
                          m->blocks[b].stage + 1, pos, m->blocks[pos].stage + 1);
        else if (b != pos && (m->blocks[b].downsample || m->blocks[pos].downsample))
            st = unr_fail(err, UNR_ERR_PLAN, "plan: block %d cannot move to position %d: "
                          "downsampling blocks keep their place (their input and output shapes "
                          "differ)", b, pos);
        else
            seen[b] = 1;
    }
    for (int b = 0; b < n && !st; b++)
        if (p->deleted[b] && !unr_block_deletable(m, b))
            st = unr_fail(err, UNR_ERR_PLAN, "plan: block %d of a plain network downsamples "
                          "(%dx%dx%d -> %dx%dx%d) and has no shortcut, so it cannot be deleted", b,
                          m->blocks[b].h_in, m->blocks[b].h_in, m->blocks[b].cin,
                          m->blocks[b].h_out, m->blocks[b].h_out, m->blocks[b].cout);
    free(seen);
    return st;
}

double unr_plan_kendall_tau(const unr_plan *p)
{
    int n = p->num_blocks;
    if (n < 2)
        return 1.0;
    long long concordant = 0, discordant = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (p->order[i] < p->order[j])
                concordant++;
            else
                discordant++;
        }
    return (double)(concordant - discordant) / (double)(concordant + discordant);
}
