/* pickle.c: a strict pickle reader for PyTorch checkpoints (pickle.h).
 *
 * The machine keeps Python's model (a stack split by marks, a memo) but
 * builds only plain values: None, bools, ints, floats, strings, bytes,
 * tuples, lists, dicts, and torch's storages and tensors. Calls (REDUCE)
 * are allowed on a fixed table of globals and are interpreted here, never
 * run; every other global, and the opcodes that build arbitrary objects
 * (NEWOBJ, INST, OBJ, EXT*), are refused with the offset of the opcode. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "pickle.h"

/* ---- dtypes ---- */

static const struct { const char *name, *storage; int size; } dtypes[] = {
    {"float32", "FloatStorage", 4},         {"float64", "DoubleStorage", 8},
    {"float16", "HalfStorage", 2},          {"bfloat16", "BFloat16Storage", 2},
    {"int64", "LongStorage", 8},            {"int32", "IntStorage", 4},
    {"int16", "ShortStorage", 2},           {"int8", "CharStorage", 1},
    {"uint8", "ByteStorage", 1},            {"bool", "BoolStorage", 1},
    {"complex64", "ComplexFloatStorage", 8}, {"complex128", "ComplexDoubleStorage", 16},
};
_Static_assert(sizeof dtypes / sizeof dtypes[0] == UNR_DT_COUNT, "one entry per dtype");

const char *unr_dtype_name(unr_dtype t) { return (unsigned)t < UNR_DT_COUNT ? dtypes[t].name : "?"; }
int unr_dtype_size(unr_dtype t) { return (unsigned)t < UNR_DT_COUNT ? dtypes[t].size : 1; }

static const char *const kind_names[] = {
    "None", "bool", "int", "int", "float", "str", "bytes", "tuple", "list", "dict",
    "global", "Storage", "Tensor",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == UNR_PK_KIND_COUNT, "one name per kind");

const char *unr_pk_kind_name(unr_pk_kind k)
{
    return (unsigned)k < UNR_PK_KIND_COUNT ? kind_names[k] : "?";
}

/* ---- the globals a state dict may name ---- */

enum {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_TENSOR, G_REBUILD_PARAMETER,
    G_REBUILD_PARAMETER_STATE, G_STORAGE   /* G_STORAGE + dtype: torch.FloatStorage, ... */
};

static int find_global(const uint8_t *mod, size_t ml, const uint8_t *name, size_t nl)
{
    static const char *const fixed[][2] = {
        {"collections", "OrderedDict"},
        {"torch._utils", "_rebuild_tensor_v2"},
        {"torch._utils", "_rebuild_tensor"},
        {"torch._utils", "_rebuild_parameter"},
        {"torch._utils", "_rebuild_parameter_with_state"},
    };
    for (int i = 0; i < (int)(sizeof fixed / sizeof fixed[0]); i++)
        if (strlen(fixed[i][0]) == ml && !memcmp(fixed[i][0], mod, ml) &&
            strlen(fixed[i][1]) == nl && !memcmp(fixed[i][1], name, nl))
            return i;
    if (ml == 5 && !memcmp(mod, "torch", 5))
        for (int t = 0; t < UNR_DT_COUNT; t++)
            if (strlen(dtypes[t].storage) == nl && !memcmp(dtypes[t].storage, name, nl))
                return G_STORAGE + t;
    return -1;
}

/* ---- the machine ---- */

typedef struct {
    unr_pickle *vm;
    const uint8_t *p;
    size_t n, pos, base, op_at;   /* op_at: the opcode being run */
    int32_t *stack;
    int sp, cap_stack;
    int32_t marks[UNR_PK_MAX_MARKS];
    int nmarks;
    int32_t *memo;                /* [cap_memo], -1 where unset */
    int cap_memo, memo_count;
    unr_error *err;
} machine;

static unr_status fail_at(machine *m, unr_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static unr_status fail_at(machine *m, unr_status st, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return unr_fail(m->err, st, "%s: %s at offset %zu of %s", m->vm->source, msg,
                    m->base + m->op_at, m->vm->entry);
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 1;
    int c = *cap ? *cap : 16;
    while (c < need)
        c = c > (1 << 29) ? need : 2 * c;
    void *g = realloc(*arr, (size_t)c * elem);
    if (!g)
        return 0;
    *arr = g;
    *cap = c;
    return 1;
}

/* A new object of kind k, or -1 with err set. */
static int new_obj(machine *m, unr_pk_kind k)
{
    unr_pickle *vm = m->vm;
    if (vm->nobjs >= UNR_PK_MAX_OBJECTS) {
        fail_at(m, UNR_ERR_RANGE, "more than %d objects", UNR_PK_MAX_OBJECTS);
        return -1;
    }
    if (!grow((void **)&vm->objs, &vm->cap_objs, vm->nobjs + 1, sizeof *vm->objs)) {
        fail_at(m, UNR_ERR_NOMEM, "out of memory");
        return -1;
    }
    unr_pk_obj *o = &vm->objs[vm->nobjs];
    memset(o, 0, sizeof *o);
    o->kind = k;
    return vm->nobjs++;
}

static unr_status push(machine *m, int o)
{
    if (o < 0)
        return m->err ? m->err->status : UNR_ERR_PARSE;
    if (m->sp >= UNR_PK_MAX_STACK)
        return fail_at(m, UNR_ERR_RANGE, "stack deeper than %d", UNR_PK_MAX_STACK);
    if (!grow((void **)&m->stack, &m->cap_stack, m->sp + 1, sizeof *m->stack))
        return fail_at(m, UNR_ERR_NOMEM, "out of memory");
    m->stack[m->sp++] = o;
    return UNR_OK;
}

static int floor_sp(const machine *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static unr_status pop(machine *m, int *o)
{
    if (m->sp <= floor_sp(m))
        return fail_at(m, UNR_ERR_PARSE, "stack underflow");
    *o = m->stack[--m->sp];
    return UNR_OK;
}

static unr_status top(machine *m, int *o)
{
    if (m->sp <= floor_sp(m))
        return fail_at(m, UNR_ERR_PARSE, "stack underflow");
    *o = m->stack[m->sp - 1];
    return UNR_OK;
}

static unr_status pop_mark(machine *m, int *at)
{
    if (!m->nmarks)
        return fail_at(m, UNR_ERR_PARSE, "no MARK to close");
    *at = m->marks[--m->nmarks];
    return UNR_OK;
}

/* n bytes of argument after the opcode. */
static unr_status take(machine *m, size_t len, const uint8_t **out)
{
    if (len > m->n - m->pos)
        return fail_at(m, UNR_ERR_PARSE, "truncated pickle (%zu bytes of argument, %zu left)",
                       len, m->n - m->pos);
    *out = m->p + m->pos;
    m->pos += len;
    return UNR_OK;
}

static uint64_t le(const uint8_t *b, int len)
{
    uint64_t v = 0;
    for (int i = len; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

/* Append k items to container c (tuple, list, or dict: pairs flattened). */
static unr_status add_items(machine *m, int c, const int32_t *items, int k)
{
    unr_pickle *vm = m->vm;
    if (k == 0)
        return UNR_OK;
    if (vm->items + k > UNR_PK_MAX_ITEMS)
        return fail_at(m, UNR_ERR_RANGE, "more than %d container items", UNR_PK_MAX_ITEMS);
    unr_pk_obj *o = &vm->objs[c];
    int have = o->kind == UNR_PK_DICT ? 2 * o->n : o->n;
    if (!grow((void **)&o->u.items, &o->cap, have + k, sizeof *o->u.items))
        return fail_at(m, UNR_ERR_NOMEM, "out of memory");
    memcpy(o->u.items + have, items, (size_t)k * sizeof *items);
    o->n += o->kind == UNR_PK_DICT ? k / 2 : k;
    vm->items += k;
    return UNR_OK;
}

/* A new container of kind k holding the stack's items from `from` up. */
static unr_status collect(machine *m, unr_pk_kind k, int from)
{
    int c = new_obj(m, k);
    if (c < 0)
        return m->err ? m->err->status : UNR_ERR_PARSE;
    /* no items: the stack may not exist yet, and NULL + 0 is undefined */
    unr_status st = m->sp > from ? add_items(m, c, m->stack + from, m->sp - from) : UNR_OK;
    if (st)
        return st;
    m->sp = from;
    return push(m, c);
}

static unr_status new_scalar(machine *m, unr_pk_kind k, int64_t i)
{
    int o = new_obj(m, k);
    if (o >= 0)
        m->vm->objs[o].u.i = i;
    return push(m, o);
}

static unr_status new_text(machine *m, unr_pk_kind k, size_t len)
{
    const uint8_t *s = NULL;
    if (len > 0x7fffffff)
        return fail_at(m, UNR_ERR_RANGE, "a string of %zu bytes", len);
    unr_status st = take(m, len, &s);
    if (st)
        return st;
    int o = new_obj(m, k);
    if (o >= 0) {
        m->vm->objs[o].u.s = s;
        m->vm->objs[o].n = (int32_t)len;
    }
    return push(m, o);
}

static unr_status memo_put(machine *m, uint64_t idx)
{
    int o = 0;
    unr_status st = top(m, &o);
    if (st)
        return st;
    if (idx >= UNR_PK_MAX_OBJECTS)
        return fail_at(m, UNR_ERR_RANGE, "memo index %llu is over %d", (unsigned long long)idx,
                       UNR_PK_MAX_OBJECTS);
    int old = m->cap_memo;
    if (!grow((void **)&m->memo, &m->cap_memo, (int)idx + 1, sizeof *m->memo))
        return fail_at(m, UNR_ERR_NOMEM, "out of memory");
    for (int i = old; i < m->cap_memo; i++)
        m->memo[i] = -1;
    m->memo_count += m->memo[idx] < 0;
    m->memo[idx] = o;
    return UNR_OK;
}

static unr_status memo_get(machine *m, uint64_t idx)
{
    if (idx >= (uint64_t)m->cap_memo || m->memo[idx] < 0)
        return fail_at(m, UNR_ERR_PARSE, "memo entry %llu was never stored",
                       (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

static unr_status global(machine *m, const uint8_t *mod, size_t ml, const uint8_t *name, size_t nl)
{
    int g = find_global(mod, ml, name, nl);
    if (g < 0) {
        int a = ml > 80 ? 80 : (int)ml, b = nl > 80 ? 80 : (int)nl;
        return unr_fail(m->err, UNR_ERR_UNSUPPORTED, "%s: unknown global '%.*s %.*s' at offset "
                        "%zu of %s (only tensors, storages and OrderedDict are read: other objects "
                        "would run code to load)", m->vm->source, a, (const char *)mod, b,
                        (const char *)name, m->base + m->op_at, m->vm->entry);
    }
    int o = new_obj(m, UNR_PK_GLOBAL);
    if (o >= 0)
        m->vm->objs[o].u.index = g;
    return push(m, o);
}

/* GLOBAL's argument: "module\nname\n". */
static unr_status read_line(machine *m, const uint8_t **s, size_t *len)
{
    const uint8_t *start = m->p + m->pos;
    size_t left = m->n - m->pos, max = left < 256 ? left : 256;
    const uint8_t *nl = memchr(start, '\n', max);
    if (!nl)
        return fail_at(m, UNR_ERR_PARSE, "GLOBAL name without an end of line");
    *s = start;
    *len = (size_t)(nl - start);
    m->pos += *len + 1;
    return UNR_OK;
}

static const unr_pk_obj *obj(const machine *m, int o) { return &m->vm->objs[o]; }

static int int_of(const machine *m, int o, int64_t *v)
{
    if (obj(m, o)->kind != UNR_PK_INT)
        return 0;
    *v = obj(m, o)->u.i;
    return 1;
}

/* A tuple of at most UNR_PK_MAX_DIMS ints in lo..hi. */
static int dims_of(const machine *m, int o, int64_t lo, int64_t hi, int64_t *out, int *n)
{
    const unr_pk_obj *t = obj(m, o);
    if (t->kind != UNR_PK_TUPLE || t->n > UNR_PK_MAX_DIMS)
        return 0;
    for (int i = 0; i < t->n; i++)
        if (!int_of(m, t->u.items[i], &out[i]) || out[i] < lo || out[i] > hi)
            return 0;
    *n = t->n;
    return 1;
}

static unr_status rebuild_tensor(machine *m, const unr_pk_obj *args, const char *fn, int v2)
{
    int n = args->n;
    if (v2 ? n != 6 && n != 7 : n != 4)
        return fail_at(m, UNR_ERR_PARSE, "%s called with %d arguments", fn, n);
    const int32_t *a = args->u.items;
    unr_pk_tensor t = {0};
    int nstride = 0;
    if (obj(m, a[0])->kind != UNR_PK_STORAGE)
        return fail_at(m, UNR_ERR_PARSE, "%s: its first argument is a %s, not a storage", fn,
                       unr_pk_kind_name(obj(m, a[0])->kind));
    t.storage = obj(m, a[0])->u.index;
    if (!int_of(m, a[1], &t.offset) || t.offset < 0 || t.offset > UNR_PK_MAX_NUMEL)
        return fail_at(m, UNR_ERR_RANGE, "%s: the storage offset is not an integer in 0..2^31", fn);
    if (obj(m, a[2])->kind == UNR_PK_TUPLE && obj(m, a[2])->n > UNR_PK_MAX_DIMS)
        return fail_at(m, UNR_ERR_RANGE, "%s: a tensor of rank %d (at most %d)", fn,
                       obj(m, a[2])->n, UNR_PK_MAX_DIMS);
    if (!dims_of(m, a[2], 0, UNR_PK_MAX_NUMEL, t.shape, &t.ndim))
        return fail_at(m, UNR_ERR_RANGE, "%s: the shape is not a tuple of integers in 0..2^31", fn);
    if (!dims_of(m, a[3], 0, UNR_PK_MAX_NUMEL, t.stride, &nstride) || nstride != t.ndim)
        return fail_at(m, UNR_ERR_RANGE, "%s: the strides are not %d integers in 0..2^31", fn,
                       t.ndim);
    t.numel = 1;
    for (int d = 0; d < t.ndim; d++) {
        t.numel *= t.shape[d];   /* each factor <= 2^31 and the product stays <= 2^31 */
        if (t.numel > UNR_PK_MAX_NUMEL)
            return fail_at(m, UNR_ERR_RANGE, "%s: an absurd shape (over 2^31 elements)", fn);
    }
    unr_pickle *vm = m->vm;
    if (!grow((void **)&vm->tensors, &vm->cap_tensors, vm->ntensors + 1, sizeof *vm->tensors))
        return fail_at(m, UNR_ERR_NOMEM, "out of memory");
    int o = new_obj(m, UNR_PK_TENSOR);
    if (o >= 0) {
        vm->tensors[vm->ntensors] = t;
        vm->objs[o].u.index = vm->ntensors++;
    }
    return push(m, o);
}

static unr_status reduce(machine *m)
{
    int args = 0, fn = 0;
    unr_status st;
    if ((st = pop(m, &args)) || (st = pop(m, &fn)))
        return st;
    if (obj(m, fn)->kind != UNR_PK_GLOBAL)
        return fail_at(m, UNR_ERR_UNSUPPORTED, "REDUCE calls a %s, not a known function",
                       unr_pk_kind_name(obj(m, fn)->kind));
    const unr_pk_obj *a = obj(m, args);
    if (a->kind != UNR_PK_TUPLE)
        return fail_at(m, UNR_ERR_PARSE, "REDUCE arguments are a %s, not a tuple",
                       unr_pk_kind_name(a->kind));
    switch (obj(m, fn)->u.index) {
    case G_ORDERED_DICT:
        if (a->n != 0)
            return fail_at(m, UNR_ERR_UNSUPPORTED, "OrderedDict called with %d arguments", a->n);
        return push(m, new_obj(m, UNR_PK_DICT));
    case G_REBUILD_TENSOR_V2:
        return rebuild_tensor(m, a, "_rebuild_tensor_v2", 1);
    case G_REBUILD_TENSOR:
        return rebuild_tensor(m, a, "_rebuild_tensor", 0);
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_STATE:
        /* (tensor, requires_grad, hooks[, state]): the parameter is its tensor */
        if (a->n < 3 || obj(m, a->u.items[0])->kind != UNR_PK_TENSOR)
            return fail_at(m, UNR_ERR_PARSE, "_rebuild_parameter without a tensor");
        return push(m, a->u.items[0]);
    default:
        return fail_at(m, UNR_ERR_UNSUPPORTED, "a storage class called as a function");
    }
}

/* The storage with this key (and view), created on first sight. */
static int storage_for(machine *m, const unr_pk_obj *key, unr_dtype dt, int64_t numel, int view_of,
                       int64_t view_offset)
{
    unr_pickle *vm = m->vm;
    for (int i = 0; i < vm->nstorages; i++)
        if (vm->storages[i].key_len == key->n && !memcmp(vm->storages[i].key, key->u.s, (size_t)key->n))
            return i;
    if (!grow((void **)&vm->storages, &vm->cap_storages, vm->nstorages + 1, sizeof *vm->storages)) {
        fail_at(m, UNR_ERR_NOMEM, "out of memory");
        return -1;
    }
    vm->storages[vm->nstorages] = (unr_pk_storage){key->u.s, key->n, dt, numel, view_of,
                                                   view_offset, NULL, 0};
    return vm->nstorages++;
}

/* ('storage', StorageClass, key, location, numel[, (view_key, offset, size)]) */
static unr_status persistent_id(machine *m)
{
    int pid = 0;
    unr_status st = pop(m, &pid);
    if (st)
        return st;
    const unr_pk_obj *t = obj(m, pid);
    if (t->kind != UNR_PK_TUPLE || (t->n != 5 && t->n != 6) || !unr_pk_is_str(m->vm, t->u.items[0], "storage"))
        return fail_at(m, UNR_ERR_UNSUPPORTED, "a persistent id that is not a torch storage");
    const int32_t *a = t->u.items;
    const unr_pk_obj *cls = obj(m, a[1]), *key = obj(m, a[2]);
    int64_t numel;
    if (cls->kind != UNR_PK_GLOBAL || cls->u.index < G_STORAGE)
        return fail_at(m, UNR_ERR_UNSUPPORTED, "a persistent id whose storage type is not a torch "
                       "storage class");
    if (key->kind != UNR_PK_STR || !int_of(m, a[4], &numel) || numel < 0 || numel > UNR_PK_MAX_NUMEL)
        return fail_at(m, UNR_ERR_RANGE, "a storage persistent id without a key or a size in "
                       "0..2^31");
    unr_dtype dt = (unr_dtype)(cls->u.index - G_STORAGE);
    int s;
    if (t->n == 6 && obj(m, a[5])->kind != UNR_PK_NONE) {
        /* a legacy storage view: (view_key, offset, size) into the root */
        const unr_pk_obj *v = obj(m, a[5]);
        int64_t off, size;
        if (v->kind != UNR_PK_TUPLE || v->n != 3 || obj(m, v->u.items[0])->kind != UNR_PK_STR ||
            !int_of(m, v->u.items[1], &off) || !int_of(m, v->u.items[2], &size) || off < 0 ||
            size < 0 || off > UNR_PK_MAX_NUMEL || size > UNR_PK_MAX_NUMEL)
            return fail_at(m, UNR_ERR_RANGE, "a storage view that is not (key, offset, size)");
        int root = storage_for(m, key, dt, numel, -1, 0);
        if (root < 0)
            return m->err ? m->err->status : UNR_ERR_NOMEM;
        s = storage_for(m, obj(m, v->u.items[0]), dt, size, root, off);
    } else {
        s = storage_for(m, key, dt, numel, -1, 0);
    }
    if (s < 0)
        return m->err ? m->err->status : UNR_ERR_NOMEM;
    if (m->vm->storages[s].dtype != dt)
        return fail_at(m, UNR_ERR_PARSE, "storage '%.*s' is given two types", key->n > 80 ? 80 : key->n,
                       (const char *)key->u.s);
    int o = new_obj(m, UNR_PK_STORAGE);
    if (o >= 0)
        m->vm->objs[o].u.index = s;
    return push(m, o);
}

static const char *refused_name(int op)
{
    switch (op) {
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 0x82: case 0x83: case 0x84: return "EXT";
    case 'P': return "PERSID";
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'g': case 'p':
        return "a protocol-0 text opcode";
    case 0x8f: case 0x90: case 0x91: return "a set opcode";
    default: return NULL;
    }
}

/* One opcode at m->pos. *done is set by STOP. */
static unr_status step(machine *m, int *root, int *done)
{
    const uint8_t *b = NULL;
    unr_status st = UNR_OK;
    int o = 0, o2 = 0, at = 0;
    m->op_at = m->pos;
    if (m->pos >= m->n)
        return fail_at(m, UNR_ERR_PARSE, "truncated pickle (no STOP)");
    int op = m->p[m->pos++];
    switch (op) {
    case 0x80: /* PROTO */
        if ((st = take(m, 1, &b)))
            return st;
        if (b[0] > 5)
            return fail_at(m, UNR_ERR_UNSUPPORTED, "pickle protocol %d (at most 5)", b[0]);
        return UNR_OK;
    case 0x95: /* FRAME: a length hint only */
        return take(m, 8, &b);
    case '.': /* STOP */
        if ((st = pop(m, root)))
            return st;
        *done = 1;
        return UNR_OK;
    case '(': /* MARK */
        if (m->nmarks >= UNR_PK_MAX_MARKS)
            return fail_at(m, UNR_ERR_RANGE, "MARKs nested deeper than %d", UNR_PK_MAX_MARKS);
        m->marks[m->nmarks++] = m->sp;
        return UNR_OK;
    case '0': /* POP */
        if (m->sp > floor_sp(m)) {
            m->sp--;
            return UNR_OK;
        }
        return pop_mark(m, &at);
    case '1': /* POP_MARK */
        if ((st = pop_mark(m, &at)))
            return st;
        m->sp = at;
        return UNR_OK;
    case '2': /* DUP */
        return (st = top(m, &o)) ? st : push(m, o);
    case 'N':
        return push(m, new_obj(m, UNR_PK_NONE));
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
        return new_scalar(m, UNR_PK_BOOL, op == 0x88);
    case 'J': /* BININT */
        return (st = take(m, 4, &b)) ? st : new_scalar(m, UNR_PK_INT, (int32_t)(uint32_t)le(b, 4));
    case 'K': /* BININT1 */
        return (st = take(m, 1, &b)) ? st : new_scalar(m, UNR_PK_INT, b[0]);
    case 'M': /* BININT2 */
        return (st = take(m, 2, &b)) ? st : new_scalar(m, UNR_PK_INT, (int64_t)le(b, 2));
    case 0x8a: case 0x8b: { /* LONG1, LONG4: little-endian two's complement */
        if ((st = take(m, op == 0x8a ? 1 : 4, &b)))
            return st;
        uint64_t len = le(b, op == 0x8a ? 1 : 4);
        if (len > 8)
            return new_text(m, UNR_PK_BIGINT, (size_t)len);   /* kept as bytes: not an index */
        if ((st = take(m, (size_t)len, &b)))
            return st;
        uint64_t v = le(b, (int)len);
        if (len > 0 && len < 8 && (b[len - 1] & 0x80))
            v |= ~(uint64_t)0 << (8 * len);
        return new_scalar(m, UNR_PK_INT, (int64_t)v);
    }
    case 'G': { /* BINFLOAT: big-endian double */
        if ((st = take(m, 8, &b)))
            return st;
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++)
            bits = bits << 8 | b[i];
        double d;
        memcpy(&d, &bits, 8);
        int f = new_obj(m, UNR_PK_FLOAT);
        if (f >= 0)
            m->vm->objs[f].u.f = d;
        return push(m, f);
    }
    case 'X': case 'T': case 'B': /* BINUNICODE, BINSTRING, BINBYTES: 4-byte length */
        if ((st = take(m, 4, &b)))
            return st;
        if (op == 'T' && (b[3] & 0x80))
            return fail_at(m, UNR_ERR_PARSE, "a negative string length");
        return new_text(m, op == 'B' ? UNR_PK_BYTES : UNR_PK_STR, (size_t)le(b, 4));
    case 0x8c: case 'U': case 'C': /* SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES */
        if ((st = take(m, 1, &b)))
            return st;
        return new_text(m, op == 'C' ? UNR_PK_BYTES : UNR_PK_STR, b[0]);
    case 0x8d: case 0x8e: case 0x96: { /* BINUNICODE8, BINBYTES8, BYTEARRAY8 */
        if ((st = take(m, 8, &b)))
            return st;
        uint64_t len = le(b, 8);
        if (len > m->n - m->pos)
            return fail_at(m, UNR_ERR_PARSE, "truncated pickle (a string of %llu bytes)",
                           (unsigned long long)len);
        return new_text(m, op == 0x8d ? UNR_PK_STR : UNR_PK_BYTES, (size_t)len);
    }
    case ')':
        return push(m, new_obj(m, UNR_PK_TUPLE));
    case ']':
        return push(m, new_obj(m, UNR_PK_LIST));
    case '}':
        return push(m, new_obj(m, UNR_PK_DICT));
    case 't': /* TUPLE */
        return (st = pop_mark(m, &at)) ? st : collect(m, UNR_PK_TUPLE, at);
    case 'l': /* LIST */
        return (st = pop_mark(m, &at)) ? st : collect(m, UNR_PK_LIST, at);
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        int k = op - 0x84;
        if (m->sp - floor_sp(m) < k)
            return fail_at(m, UNR_ERR_PARSE, "stack underflow");
        return collect(m, UNR_PK_TUPLE, m->sp - k);
    }
    case 'd': /* DICT */
        if ((st = pop_mark(m, &at)))
            return st;
        if ((m->sp - at) % 2)
            return fail_at(m, UNR_ERR_PARSE, "DICT with an odd number of items");
        return collect(m, UNR_PK_DICT, at);
    case 'a': /* APPEND */
        if ((st = pop(m, &o)) || (st = top(m, &o2)))
            return st;
        if (obj(m, o2)->kind != UNR_PK_LIST)
            return fail_at(m, UNR_ERR_PARSE, "APPEND to a %s", unr_pk_kind_name(obj(m, o2)->kind));
        return add_items(m, o2, (int32_t[]){o}, 1);
    case 's': /* SETITEM */
        if ((st = pop(m, &o)) || (st = pop(m, &o2)) || (st = top(m, &at)))
            return st;
        if (obj(m, at)->kind != UNR_PK_DICT)
            return fail_at(m, UNR_ERR_PARSE, "SETITEM on a %s", unr_pk_kind_name(obj(m, at)->kind));
        return add_items(m, at, (int32_t[]){o2, o}, 2);
    case 'e': case 'u': { /* APPENDS, SETITEMS */
        if ((st = pop_mark(m, &at)))
            return st;
        if (m->sp - at < 0 || at <= floor_sp(m))
            return fail_at(m, UNR_ERR_PARSE, "%s with nothing to add to", op == 'e' ? "APPENDS" : "SETITEMS");
        int c = m->stack[at - 1];
        unr_pk_kind want = op == 'e' ? UNR_PK_LIST : UNR_PK_DICT;
        if (obj(m, c)->kind != want)
            return fail_at(m, UNR_ERR_PARSE, "%s on a %s", op == 'e' ? "APPENDS" : "SETITEMS",
                           unr_pk_kind_name(obj(m, c)->kind));
        if (op == 'u' && (m->sp - at) % 2)
            return fail_at(m, UNR_ERR_PARSE, "SETITEMS with an odd number of items");
        if ((st = add_items(m, c, m->stack + at, m->sp - at)))
            return st;
        m->sp = at;
        return UNR_OK;
    }
    case 'q': /* BINPUT */
        return (st = take(m, 1, &b)) ? st : memo_put(m, b[0]);
    case 'r': /* LONG_BINPUT */
        return (st = take(m, 4, &b)) ? st : memo_put(m, le(b, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(m, (uint64_t)m->memo_count);
    case 'h': /* BINGET */
        return (st = take(m, 1, &b)) ? st : memo_get(m, b[0]);
    case 'j': /* LONG_BINGET */
        return (st = take(m, 4, &b)) ? st : memo_get(m, le(b, 4));
    case 'c': { /* GLOBAL */
        const uint8_t *mod, *name;
        size_t ml, nl;
        if ((st = read_line(m, &mod, &ml)) || (st = read_line(m, &name, &nl)))
            return st;
        return global(m, mod, ml, name, nl);
    }
    case 0x93: { /* STACK_GLOBAL */
        if ((st = pop(m, &o)) || (st = pop(m, &o2)))
            return st;
        const unr_pk_obj *name = obj(m, o), *mod = obj(m, o2);
        if (name->kind != UNR_PK_STR || mod->kind != UNR_PK_STR)
            return fail_at(m, UNR_ERR_PARSE, "STACK_GLOBAL without two strings");
        return global(m, mod->u.s, (size_t)mod->n, name->u.s, (size_t)name->n);
    }
    case 'R':
        return reduce(m);
    case 'b': /* BUILD: an OrderedDict's _metadata or a tensor's state, not needed */
        if ((st = pop(m, &o)) || (st = top(m, &o2)))
            return st;
        if (obj(m, o2)->kind != UNR_PK_DICT && obj(m, o2)->kind != UNR_PK_TENSOR)
            return fail_at(m, UNR_ERR_UNSUPPORTED, "BUILD on a %s", unr_pk_kind_name(obj(m, o2)->kind));
        return UNR_OK;
    case 'Q':
        return persistent_id(m);
    default: {
        const char *name = refused_name(op);
        if (name)
            return fail_at(m, UNR_ERR_UNSUPPORTED, "opcode 0x%02x (%s) is not used by state dicts",
                           op, name);
        return fail_at(m, UNR_ERR_PARSE, "unknown pickle opcode 0x%02x", op);
    }
    }
}

unr_status unr_pickle_run(unr_pickle *vm, const uint8_t *data, size_t n, size_t base, int *root,
                          size_t *used, unr_error *err)
{
    machine m = {.vm = vm, .p = data, .n = n, .base = base, .err = err};
    int done = 0;
    unr_status st = UNR_OK;
    *root = -1;
    while (!st && !done)
        st = step(&m, root, &done);
    if (!st && m.nmarks) {
        m.op_at = m.pos - 1;
        st = fail_at(&m, UNR_ERR_PARSE, "STOP inside an open MARK");
    }
    if (used)
        *used = m.pos;
    free(m.stack);
    free(m.memo);
    return st;
}

void unr_pickle_free(unr_pickle *vm)
{
    if (!vm)
        return;
    for (int i = 0; i < vm->nobjs; i++) {
        unr_pk_kind k = vm->objs[i].kind;
        if (k == UNR_PK_TUPLE || k == UNR_PK_LIST || k == UNR_PK_DICT)
            free(vm->objs[i].u.items);
    }
    free(vm->objs);
    free(vm->storages);
    free(vm->tensors);
    const char *src = vm->source, *entry = vm->entry;
    memset(vm, 0, sizeof *vm);
    vm->source = src, vm->entry = entry;
}

int unr_pk_is_str(const unr_pickle *vm, int o, const char *s)
{
    if (o < 0 || o >= vm->nobjs || vm->objs[o].kind != UNR_PK_STR)
        return 0;
    size_t len = strlen(s);
    return (size_t)vm->objs[o].n == len && memcmp(vm->objs[o].u.s, s, len) == 0;
}

int unr_pk_dict_get(const unr_pickle *vm, int d, const char *key)
{
    if (d < 0 || d >= vm->nobjs || vm->objs[d].kind != UNR_PK_DICT)
        return -1;
    const unr_pk_obj *o = &vm->objs[d];
    for (int i = o->n; i-- > 0;)
        if (unr_pk_is_str(vm, o->u.items[2 * i], key))
            return o->u.items[2 * i + 1];
    return -1;
}
