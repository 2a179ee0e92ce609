/* checkpoint_files.h: PyTorch checkpoints written byte by byte, for
 * tests/c/test_checkpoint.c and the fuzz seeds (tests/fuzz/make_seeds.c):
 * a state dict of test tensors as a torch.save zip, a legacy torch.save
 * stream or safetensors, optionally nested and with DataParallel's prefix,
 * as PyTorch writes them (protocol 2, the opcodes pickletools shows). */
#ifndef UNR_CHECKPOINT_FILES_H
#define UNR_CHECKPOINT_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unravel.h"
#include "internal.h"

/* ---- a growing byte buffer ---- */

typedef struct { unsigned char *b; size_t n, cap; } buf;

static void put(buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->b = realloc(b->b, b->cap);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void put1(buf *b, int v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put_le(buf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        put1(b, (int)(v >> (8 * i)) & 0xff);
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

/* ---- pickles, opcode by opcode ---- */

static void pk_str(buf *p, const char *s)
{
    put1(p, 'X');
    put_le(p, strlen(s), 4);
    puts_(p, s);
}
static void pk_int(buf *p, long v)
{
    if (v >= 0 && v < 256) {
        put1(p, 'K');
        put1(p, (int)v);
    } else {
        put1(p, 'J');
        put_le(p, (uint64_t)v, 4);
    }
}
static void pk_global(buf *p, const char *mod, const char *name)
{
    put1(p, 'c');
    puts_(p, mod);
    put1(p, '\n');
    puts_(p, name);
    put1(p, '\n');
}
static void pk_ints(buf *p, const int *v, int n)
{
    put1(p, '(');
    for (int i = 0; i < n; i++)
        pk_int(p, v[i]);
    put1(p, 't');
}

/* ---- a state dict of test tensors, in each file format ---- */

typedef struct {
    char name[64];
    const char *storage;    /* "FloatStorage", "HalfStorage", ... */
    int elem;               /* bytes per element */
    int ndim, shape[4];
    int storage_numel;      /* elements the storage holds (>= the shape's) */
    unsigned char *data;    /* storage_numel * elem bytes */
} tt;

typedef struct {
    tt t[160];
    int n;
} tdict;

static int64_t numel(const tt *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

static void tdict_free(tdict *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->t[i].data);
    d->n = 0;
}

/* Every tensor of m under its unravel name, as float32 in PyTorch's layout. */
static void tdict_from_model(tdict *d, const unr_model *m)
{
    d->n = 0;
    for (int i = 0; i < m->num_tensors; i++) {
        tt *t = &d->t[d->n++];
        const unr_tensor *mt = &m->tensors[i];
        snprintf(t->name, sizeof t->name, "%s", mt->name);
        t->storage = "FloatStorage", t->elem = 4;
        t->ndim = mt->ndim;
        memcpy(t->shape, mt->shape, sizeof t->shape);
        t->storage_numel = (int)mt->count;
        t->data = malloc(mt->count * 4);
        unr_tensor_to_file(mt, t->data);
    }
}

typedef enum { F_ZIP, F_LEGACY, F_SAFETENSORS } file_format;

/* The dict pickle: ('storage', Class, key, 'cpu', numel[, None]) ids. */
static void pk_state_dict(buf *p, const tdict *d, const char *nest, const char *prefix, int legacy)
{
    put1(p, 0x80), put1(p, 2);
    if (nest) {
        put1(p, '}');
        put1(p, '(');
        pk_str(p, "epoch"), pk_int(p, 160);
        pk_str(p, nest);
    }
    pk_global(p, "collections", "OrderedDict");
    put1(p, ')'), put1(p, 'R');
    put1(p, '(');
    for (int i = 0; i < d->n; i++) {
        const tt *t = &d->t[i];
        char name[128], key[16];
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", t->name);
        snprintf(key, sizeof key, "%d", i);
        pk_str(p, name);
        pk_global(p, "torch._utils", "_rebuild_tensor_v2");
        put1(p, '(');
        put1(p, '(');
        pk_str(p, "storage"), pk_global(p, "torch", t->storage), pk_str(p, key), pk_str(p, "cpu");
        pk_int(p, t->storage_numel);
        if (legacy)
            put1(p, 'N');
        put1(p, 't');
        put1(p, 'Q');
        pk_int(p, 0);
        int stride[4];
        int64_t s = 1;
        for (int k = t->ndim; k-- > 0;)
            stride[k] = (int)s, s *= t->shape[k];
        pk_ints(p, t->shape, t->ndim);
        pk_ints(p, stride, t->ndim);
        put1(p, 0x89);
        pk_global(p, "collections", "OrderedDict");
        put1(p, ')'), put1(p, 'R');
        put1(p, 't');
        put1(p, 'R');
    }
    put1(p, 'u');
    if (nest)
        put1(p, 'u');
    put1(p, '.');
}

/* A zip of stored entries: local headers, data, central directory, end. */
typedef struct { char name[64]; const unsigned char *data; size_t n; } zentry;

static void zip_write(buf *z, const zentry *e, int n)
{
    size_t *at = malloc(sizeof *at * (size_t)n);
    for (int i = 0; i < n; i++) {
        at[i] = z->n;
        put_le(z, 0x04034b50, 4), put_le(z, 20, 2), put_le(z, 0, 2), put_le(z, 0, 2);
        put_le(z, 0, 4), put_le(z, 0, 4);                      /* time, date; crc */
        put_le(z, e[i].n, 4), put_le(z, e[i].n, 4);
        put_le(z, strlen(e[i].name), 2), put_le(z, 0, 2);
        puts_(z, e[i].name);
        put(z, e[i].data, e[i].n);
    }
    size_t cd = z->n;
    for (int i = 0; i < n; i++) {
        put_le(z, 0x02014b50, 4), put_le(z, 20, 2), put_le(z, 20, 2), put_le(z, 0, 2);
        put_le(z, 0, 2), put_le(z, 0, 4), put_le(z, 0, 4);   /* method; time, date; crc */
        put_le(z, e[i].n, 4), put_le(z, e[i].n, 4);
        put_le(z, strlen(e[i].name), 2), put_le(z, 0, 2), put_le(z, 0, 2);
        put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, 0, 4), put_le(z, at[i], 4);
        puts_(z, e[i].name);
    }
    size_t cd_size = z->n - cd;
    put_le(z, 0x06054b50, 4), put_le(z, 0, 2), put_le(z, 0, 2), put_le(z, (uint64_t)n, 2);
    put_le(z, (uint64_t)n, 2), put_le(z, cd_size, 4), put_le(z, cd, 4), put_le(z, 0, 2);
    free(at);
}

static const unsigned char legacy_head[] = {
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, /* magic */
    0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e,                                                   /* 1001 */
};

static void write_checkpoint(buf *out, const tdict *d, file_format f, const char *nest,
                             const char *prefix)
{
    out->n = 0;
    if (f == F_SAFETENSORS) {
        buf h = {0};
        puts_(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
        size_t at = 0;
        for (int i = 0; i < d->n; i++) {
            const tt *t = &d->t[i];
            char e[256];
            size_t bytes = (size_t)numel(t) * (size_t)t->elem;
            int u = snprintf(e, sizeof e, ",\"%s%s\":{\"dtype\":\"%s\",\"shape\":[", prefix ? prefix : "",
                             t->name, t->elem == 2 ? "F16" : t->elem == 8 ? "F64" : "F32");
            for (int k = 0; k < t->ndim; k++)
                u += snprintf(e + u, sizeof e - (size_t)u, "%s%d", k ? "," : "", t->shape[k]);
            snprintf(e + u, sizeof e - (size_t)u, "],\"data_offsets\":[%zu,%zu]}", at, at + bytes);
            puts_(&h, e);
            at += bytes;
        }
        put1(&h, '}');
        put_le(out, h.n, 8);
        put(out, h.b, h.n);
        for (int i = 0; i < d->n; i++) {   /* no more than the test's data, whatever the shape */
            int64_t k = numel(&d->t[i]) < d->t[i].storage_numel ? numel(&d->t[i]) : d->t[i].storage_numel;
            put(out, d->t[i].data, (size_t)k * (size_t)d->t[i].elem);
        }
        free(h.b);
        return;
    }
    buf p = {0};
    pk_state_dict(&p, d, nest, prefix, f == F_LEGACY);
    if (f == F_LEGACY) {
        put(out, legacy_head, sizeof legacy_head);
        /* sys_info: {'little_endian': True} */
        put1(out, 0x80), put1(out, 2), put1(out, '}'), put1(out, '(');
        pk_str(out, "little_endian"), put1(out, 0x88), put1(out, 'u'), put1(out, '.');
        put(out, p.b, p.n);
        put1(out, 0x80), put1(out, 2), put1(out, ']'), put1(out, '(');
        for (int i = 0; i < d->n; i++) {
            char key[16];
            snprintf(key, sizeof key, "%d", i);
            pk_str(out, key);
        }
        put1(out, 'e'), put1(out, '.');
        for (int i = 0; i < d->n; i++) {
            put_le(out, (uint64_t)d->t[i].storage_numel, 8);
            put(out, d->t[i].data, (size_t)d->t[i].storage_numel * (size_t)d->t[i].elem);
        }
    } else {
        zentry *e = calloc((size_t)d->n + 2, sizeof *e);
        snprintf(e[0].name, sizeof e[0].name, "archive/data.pkl");
        e[0].data = p.b, e[0].n = p.n;
        for (int i = 0; i < d->n; i++) {
            snprintf(e[i + 1].name, sizeof e[i + 1].name, "archive/data/%d", i);
            e[i + 1].data = d->t[i].data;
            e[i + 1].n = (size_t)d->t[i].storage_numel * (size_t)d->t[i].elem;
        }
        snprintf(e[d->n + 1].name, sizeof e[0].name, "archive/version");
        e[d->n + 1].data = (const unsigned char *)"3\n", e[d->n + 1].n = 2;
        zip_write(out, e, d->n + 2);
        free(e);
    }
    free(p.b);
}

#endif
