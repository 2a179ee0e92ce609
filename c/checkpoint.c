/* checkpoint.c: PyTorch checkpoints (torch.save zip, legacy torch.save,
 * safetensors) into unravel models, with no PyTorch (unravel.h,
 * unr_model_import_checkpoint). The steps, each a section below:
 *
 *   1. the file's format, and its state dict as named float32 tensors
 *      (strides, offsets and storage sizes checked against the bytes);
 *   2. the names mapped onto unravel's, the architecture read off them,
 *      as scripts/import-pytorch.py does (it stays the reference; a test
 *      imports the same checkpoints both ways);
 *   3. the model built and filled, tensor by tensor.
 *
 * No file I/O: the caller reads the file (the CLI, or JavaScript). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "internal.h"
#include "pickle.h"
#include "zip.h"

#define CIFAR_MEAN {0.4914f, 0.4822f, 0.4465f}
#define CIFAR_STD {0.2470f, 0.2435f, 0.2616f}
#define SHOWN 120   /* characters of a name quoted in a message */

/* ---- named tensors ---- */

/* One tensor of the state dict: a strided view into little-endian
 * elements, bounds-checked when it is added. */
typedef struct {
    char *name;                /* the unravel name, once mapped; first the checkpoint's */
    char *key;                 /* as the checkpoint spells it */
    int ndim;
    int64_t shape[UNR_PK_MAX_DIMS], stride[UNR_PK_MAX_DIMS];
    int64_t offset, numel;
    const uint8_t *base;       /* float32 elements */
} ck_tensor;

/* Tensors in insertion order, with a hash of names: setting a name twice
 * keeps its first place and its last value, as a Python dict does. */
typedef struct {
    ck_tensor *t;
    int n, cap;
    int *slots;                /* [nslots], -1 where empty */
    int nslots;
} ck_dict;

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int dict_find(const ck_dict *d, const char *name)
{
    if (!d->nslots)
        return -1;
    for (uint32_t i = hash_name(name) & (uint32_t)(d->nslots - 1);; i = (i + 1) & (uint32_t)(d->nslots - 1)) {
        int at = d->slots[i];
        if (at < 0 || strcmp(d->t[at].name, name) == 0)
            return at;
    }
}

static const ck_tensor *dict_get(const ck_dict *d, const char *name)
{
    int at = dict_find(d, name);
    return at < 0 ? NULL : &d->t[at];
}

static void dict_free(ck_dict *d)
{
    for (int i = 0; i < d->n; i++) {
        free(d->t[i].name);
        free(d->t[i].key);
    }
    free(d->t);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static char *copy_text(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* Adds t (taking its name and key), or replaces the tensor of that name.
 * Returns 0 when out of memory or over UNR_MAX_CHECKPOINT_TENSORS. */
static int dict_set(ck_dict *d, ck_tensor t)
{
    int at = dict_find(d, t.name);
    if (at >= 0) {
        free(d->t[at].name);
        free(d->t[at].key);
        d->t[at] = t;
        return 1;
    }
    if (d->n >= UNR_MAX_CHECKPOINT_TENSORS)
        goto fail;
    if (2 * (d->n + 1) > d->nslots) {   /* rehash at half full */
        int ns = d->nslots ? 2 * d->nslots : 64;
        int *slots = malloc((size_t)ns * sizeof *slots);
        if (!slots)
            goto fail;
        for (int i = 0; i < ns; i++)
            slots[i] = -1;
        for (int k = 0; k < d->n; k++) {
            uint32_t i = hash_name(d->t[k].name) & (uint32_t)(ns - 1);
            while (slots[i] >= 0)
                i = (i + 1) & (uint32_t)(ns - 1);
            slots[i] = k;
        }
        free(d->slots);
        d->slots = slots;
        d->nslots = ns;
    }
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        ck_tensor *g = realloc(d->t, (size_t)cap * sizeof *g);
        if (!g)
            goto fail;
        d->t = g;
        d->cap = cap;
    }
    uint32_t i = hash_name(t.name) & (uint32_t)(d->nslots - 1);
    while (d->slots[i] >= 0)
        i = (i + 1) & (uint32_t)(d->nslots - 1);
    d->slots[i] = d->n;
    d->t[d->n++] = t;
    return 1;
fail:
    free(t.name);
    free(t.key);
    return 0;
}

static void shape_text(char *buf, size_t cap, const int64_t *shape, int ndim)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* ---- 1. the state dict ---- */

typedef struct {
    const char *src;
    const char *format;        /* for the manifest's training.format */
    ck_dict sd;
    unr_pickle vm;
    unr_zip zip;
    char prefix[UNR_ZIP_MAX_NAME + 1];   /* the zip's top folder: "archive" */
    char pickle_name[UNR_ZIP_MAX_NAME + 64];
    int legacy;
} reader;

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* Adds one tensor of the state dict under its key: "module." dropped,
 * num_batches_tracked skipped (as the Python importer does), float32 only,
 * every element it spans inside its storage. */
static unr_status add_tensor(reader *r, const char *key, size_t key_len, unr_dtype dtype, int ndim,
                             const int64_t *shape, const int64_t *stride, int64_t offset,
                             const uint8_t *base, int64_t count, const char *storage_name,
                             unr_error *err)
{
    char *k = copy_text(key, key_len);
    if (!k)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", r->src);
    if (memchr(key, 0, key_len)) {
        free(k);
        return unr_fail(err, UNR_ERR_FIELD, "%s: a tensor name holds a NUL byte", r->src);
    }
    const char *name = strncmp(k, "module.", 7) == 0 ? k + 7 : k;
    if (ends_with(name, "num_batches_tracked")) {
        free(k);
        return UNR_OK;
    }
    unr_status st = UNR_OK;
    int64_t numel = 1, last = offset;
    for (int d = 0; d < ndim; d++) {
        numel *= shape[d];
        if (numel > UNR_PK_MAX_NUMEL)
            break;
        /* each term is below 2^62; the sum saturates */
        int64_t term = shape[d] > 0 ? (shape[d] - 1) * stride[d] : 0;
        last = last > INT64_MAX - term ? INT64_MAX : last + term;
    }
    if (dtype != UNR_DT_FLOAT32)
        st = unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: tensor '%.*s' is %s: only float32 tensors are "
                      "read (convert with model.float() before saving)", r->src, SHOWN, k,
                      unr_dtype_name(dtype));
    else if (numel > UNR_PK_MAX_NUMEL)
        st = unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s' has an absurd shape (over 2^31 "
                      "elements)", r->src, SHOWN, k);
    else if (numel > 0 && last >= count)
        st = unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s' needs %lld elements of storage '%s', "
                      "which holds %lld: truncated or corrupt", r->src, SHOWN, k,
                      (long long)last + 1, storage_name, (long long)count);
    if (st) {
        free(k);
        return st;
    }
    ck_tensor t = {.key = k, .name = copy_text(name, strlen(name)), .ndim = ndim,
                   .offset = offset, .numel = numel, .base = base};
    memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    memcpy(t.stride, stride, (size_t)ndim * sizeof *stride);
    if (!t.name || !dict_set(&r->sd, t)) {
        if (!t.name)
            free(k);
        return r->sd.n >= UNR_MAX_CHECKPOINT_TENSORS
                   ? unr_fail(err, UNR_ERR_RANGE, "%s: more than %d tensors", r->src,
                              UNR_MAX_CHECKPOINT_TENSORS)
                   : unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", r->src);
    }
    return UNR_OK;
}

/* A storage's bytes: a zip entry archive/data/KEY, found on first use (the
 * legacy format fills them all up front). */
static unr_status resolve_storage(reader *r, int s, char *name, size_t cap, unr_error *err)
{
    unr_pk_storage *sg = &r->vm.storages[s];
    int klen = sg->key_len > SHOWN ? SHOWN : sg->key_len;
    if (sg->view_of >= 0) {
        unr_status st = resolve_storage(r, sg->view_of, name, cap, err);
        if (st)
            return st;
        const unr_pk_storage *root = &r->vm.storages[sg->view_of];
        if (sg->view_offset > root->count)
            return unr_fail(err, UNR_ERR_RANGE, "%s: storage view '%.*s' starts at element %lld "
                            "of a %lld-element storage", r->src, klen, (const char *)sg->key,
                            (long long)sg->view_offset, (long long)root->count);
        sg->data = root->data + sg->view_offset * unr_dtype_size(sg->dtype);
        sg->count = root->count - sg->view_offset < sg->numel ? root->count - sg->view_offset
                                                              : sg->numel;
        return UNR_OK;
    }
    if (r->legacy) {
        snprintf(name, cap, "%.*s", klen, (const char *)sg->key);
        if (!sg->data)
            return unr_fail(err, UNR_ERR_PARSE, "%s: storage '%s' is used but its data is not in "
                            "the file", r->src, name);
        return UNR_OK;
    }
    snprintf(name, cap, "%s/data/%.*s", r->prefix, klen, (const char *)sg->key);
    if (sg->data)
        return UNR_OK;
    const unr_zip_entry *e = unr_zip_find(&r->zip, name);
    if (!e)
        return unr_fail(err, UNR_ERR_FIELD, "%s: storage '%s' is missing from the archive",
                        r->src, name);
    const uint8_t *data;
    size_t size;
    unr_status st = unr_zip_data(&r->zip, e, &data, &size, err);
    if (st)
        return st;
    sg->data = data;
    sg->count = (int64_t)(size / (size_t)unr_dtype_size(sg->dtype));
    return UNR_OK;
}

/* The state dict inside the root object: bare, or under state_dict, model
 * or net (the first of them that is a dict). */
static unr_status collect_pickled(reader *r, int root, unr_error *err)
{
    const unr_pickle *vm = &r->vm;
    if (vm->objs[root].kind != UNR_PK_DICT)
        return unr_fail(err, UNR_ERR_FIELD, "%s: no state dict inside (found a %s)", r->src,
                        unr_pk_kind_name(vm->objs[root].kind));
    static const char *const nests[] = {"state_dict", "model", "net"};
    for (int i = 0; i < 3; i++) {
        int v = unr_pk_dict_get(vm, root, nests[i]);
        if (v >= 0 && vm->objs[v].kind == UNR_PK_DICT) {
            root = v;
            break;
        }
    }
    const unr_pk_obj *d = &vm->objs[root];
    for (int i = 0; i < d->n; i++) {
        const unr_pk_obj *k = &vm->objs[d->u.items[2 * i]], *v = &vm->objs[d->u.items[2 * i + 1]];
        if (v->kind != UNR_PK_TENSOR)
            continue;     /* not a tensor: epochs, accuracies, ... */
        if (k->kind != UNR_PK_STR)
            return unr_fail(err, UNR_ERR_FIELD, "%s: a tensor under a %s key, not a name", r->src,
                            unr_pk_kind_name(k->kind));
        const unr_pk_tensor *t = &vm->tensors[v->u.index];
        char storage[UNR_ZIP_MAX_NAME + SHOWN + 16];
        unr_status st = resolve_storage(r, t->storage, storage, sizeof storage, err);
        if (!st) {
            const unr_pk_storage *sg = &vm->storages[t->storage];
            st = add_tensor(r, (const char *)k->u.s, (size_t)k->n, sg->dtype, t->ndim, t->shape,
                            t->stride, t->offset, sg->data, sg->count, storage, err);
        }
        if (st)
            return st;
    }
    return UNR_OK;
}

static unr_status read_zip(reader *r, const uint8_t *b, size_t n, unr_error *err)
{
    r->format = "torch.save zip";
    unr_status st = unr_zip_open(b, n, r->src, &r->zip, err);
    if (st)
        return st;
    /* PREFIX/data.pkl: one folder (torch names it "archive", or after the file) */
    const unr_zip_entry *pkl = NULL;
    for (int i = 0; i < r->zip.count && !pkl; i++) {
        const unr_zip_entry *e = &r->zip.entries[i];
        const char *slash = memchr(e->name, '/', e->name_len);
        size_t at = slash ? (size_t)(slash - e->name) : 0;
        if (slash && at > 0 && e->name_len - at - 1 == 8 && !memcmp(slash + 1, "data.pkl", 8)) {
            pkl = e;
            memcpy(r->prefix, e->name, at);
            r->prefix[at] = '\0';
        }
    }
    if (!pkl)
        return unr_fail(err, UNR_ERR_FIELD, "%s: a zip archive without a FOLDER/data.pkl entry: not "
                        "a torch.save checkpoint", r->src);
    snprintf(r->pickle_name, sizeof r->pickle_name, "%s/byteorder", r->prefix);
    const unr_zip_entry *order = unr_zip_find(&r->zip, r->pickle_name);
    const uint8_t *data;
    size_t size;
    if (order) {
        if ((st = unr_zip_data(&r->zip, order, &data, &size, err)))
            return st;
        if (!(size == 6 && !memcmp(data, "little", 6)))
            return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: %s is not \"little\": big-endian "
                            "checkpoints are not supported", r->src, r->pickle_name);
    }
    snprintf(r->pickle_name, sizeof r->pickle_name, "%s/data.pkl", r->prefix);
    r->vm.source = r->src;
    r->vm.entry = r->pickle_name;
    if ((st = unr_zip_data(&r->zip, pkl, &data, &size, err)))
        return st;
    int root;
    if ((st = unr_pickle_run(&r->vm, data, size, 0, &root, NULL, err)))
        return st;
    return collect_pickled(r, root, err);
}

/* The legacy stream: pickles of the magic number, the protocol version and
 * sys_info, then the objects (storages as persistent ids), then the list of
 * storage keys, then each storage: an 8-byte element count and its data. */
static const uint8_t legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static unr_status read_legacy(reader *r, const uint8_t *b, size_t n, unr_error *err)
{
    r->format = "legacy torch.save";
    r->legacy = 1;
    r->vm.source = r->src;
    r->vm.entry = "the file";
    int obj[5];
    size_t at = 0, used;
    for (int i = 0; i < 5; i++) {
        unr_status st = unr_pickle_run(&r->vm, b + at, n - at, at, &obj[i], &used, err);
        if (st)
            return st;
        const unr_pk_obj *o = &r->vm.objs[obj[i]];
        if (i == 0 && !(o->kind == UNR_PK_BIGINT && o->n == 10 && !memcmp(o->u.s, legacy_magic, 10)))
            return unr_fail(err, UNR_ERR_PARSE, "%s: a pickle without torch.save's magic number: "
                            "not a PyTorch checkpoint", r->src);
        if (i == 1 && !(o->kind == UNR_PK_INT && o->u.i == 1001))
            return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: legacy torch.save protocol %lld (this "
                            "reads 1001)", r->src, o->kind == UNR_PK_INT ? (long long)o->u.i : -1LL);
        if (i == 2) {
            int le = unr_pk_dict_get(&r->vm, obj[i], "little_endian");
            if (le >= 0 && r->vm.objs[le].kind == UNR_PK_BOOL && !r->vm.objs[le].u.i)
                return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: a big-endian checkpoint is not "
                                "supported", r->src);
        }
        at += used;
    }
    const unr_pk_obj *keys = &r->vm.objs[obj[4]];
    if (keys->kind != UNR_PK_LIST)
        return unr_fail(err, UNR_ERR_PARSE, "%s: the storage keys at offset %zu are a %s, not a list",
                        r->src, at - used, unr_pk_kind_name(keys->kind));
    for (int i = 0; i < keys->n; i++) {
        const unr_pk_obj *k = &r->vm.objs[keys->u.items[i]];
        if (k->kind != UNR_PK_STR)
            return unr_fail(err, UNR_ERR_PARSE, "%s: storage key %d is a %s, not a string", r->src, i,
                            unr_pk_kind_name(k->kind));
        int s = -1;
        for (int j = 0; j < r->vm.nstorages && s < 0; j++)
            if (r->vm.storages[j].view_of < 0 && r->vm.storages[j].key_len == k->n &&
                !memcmp(r->vm.storages[j].key, k->u.s, (size_t)k->n))
                s = j;
        int klen = k->n > SHOWN ? SHOWN : k->n;
        if (s < 0)
            return unr_fail(err, UNR_ERR_PARSE, "%s: storage '%.*s' is listed but no tensor uses it",
                            r->src, klen, (const char *)k->u.s);
        unr_pk_storage *sg = &r->vm.storages[s];
        if (n - at < 8)
            return unr_fail(err, UNR_ERR_RANGE, "%s: storage '%.*s' at offset %zu: the file ends "
                            "before its size (truncated)", r->src, klen, (const char *)k->u.s, at);
        uint64_t count = 0;
        for (int j = 8; j-- > 0;)
            count = count << 8 | b[at + j];
        uint64_t size = unr_dtype_size(sg->dtype);
        if (count > (uint64_t)UNR_PK_MAX_NUMEL || count * size > n - at - 8)
            return unr_fail(err, UNR_ERR_RANGE, "%s: storage '%.*s' at offset %zu says %llu "
                            "elements, past the end of the %zu-byte file (truncated)", r->src, klen,
                            (const char *)k->u.s, at, (unsigned long long)count, n);
        sg->data = b + at + 8;
        sg->count = (int64_t)count;
        at += 8 + count * size;
    }
    return collect_pickled(r, obj[3], err);
}

static int dtype_of_safetensors(const char *s, unr_dtype *out)
{
    static const char *const names[UNR_DT_COUNT] = {"F32", "F64", "F16", "BF16", "I64", "I32", "I16",
                                                    "I8", "U8", "BOOL", "C64", "C128"};
    for (int i = 0; i < UNR_DT_COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (unr_dtype)i;
            return 1;
        }
    return 0;
}

/* A non-negative integer that a double holds exactly. */
static int json_count(const cJSON *v, double max, int64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
        v->valuedouble != floor(v->valuedouble))
        return 0;
    *out = (int64_t)v->valuedouble;
    return 1;
}

/* 8-byte little-endian header length, a JSON header {name: {dtype, shape,
 * data_offsets: [begin, end]}, "__metadata__": {...}}, the data. */
static unr_status read_safetensors(reader *r, const uint8_t *b, size_t n, uint64_t hlen,
                                   unr_error *err)
{
    r->format = "safetensors";
    if (hlen > UNR_MAX_MANIFEST_BYTES)
        return unr_fail(err, UNR_ERR_RANGE, "%s: a safetensors header of %llu bytes is over the "
                        "%u-byte limit", r->src, (unsigned long long)hlen, UNR_MAX_MANIFEST_BYTES);
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, (size_t)hlen);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return unr_fail(err, UNR_ERR_PARSE, "%s: the safetensors header is not a JSON object", r->src);
    }
    const uint8_t *data = b + 8 + hlen;
    size_t data_len = n - 8 - (size_t)hlen;
    unr_status st = UNR_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, h) {
        if (strcmp(e->string, "__metadata__") == 0)
            continue;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        unr_dtype dtype;
        int64_t dims[UNR_PK_MAX_DIMS], stride[UNR_PK_MAX_DIMS], begin, end;
        int ndim = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
        if (!cJSON_IsString(dt) || !dtype_of_safetensors(dt->valuestring, &dtype)) {
            st = unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%.*s': dtype missing or unknown", r->src,
                          SHOWN, e->string);
            break;
        }
        if (ndim < 0 || ndim > UNR_PK_MAX_DIMS) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s': shape is not an array of at most "
                          "%d integers", r->src, SHOWN, e->string, UNR_PK_MAX_DIMS);
            break;
        }
        int64_t numel = 1;
        for (int d = 0; d < ndim && !st; d++)
            if (!json_count(cJSON_GetArrayItem(shape, d), (double)UNR_PK_MAX_NUMEL, &dims[d]) ||
                (numel *= dims[d]) > UNR_PK_MAX_NUMEL)
                st = unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s' has an absurd shape", r->src,
                              SHOWN, e->string);
        if (st)
            break;
        int64_t step = 1;
        for (int d = ndim; d-- > 0;)   /* row-major: safetensors are contiguous */
            stride[d] = step, step *= dims[d];
        if (cJSON_GetArraySize(offs) != 2 ||
            !json_count(cJSON_GetArrayItem(offs, 0), 9e15, &begin) ||
            !json_count(cJSON_GetArrayItem(offs, 1), 9e15, &end) || end < begin ||
            (uint64_t)end > data_len) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s': data_offsets are not [begin, end] "
                          "inside the %zu bytes of data", r->src, SHOWN, e->string, data_len);
            break;
        }
        if (end - begin != numel * unr_dtype_size(dtype)) {
            st = unr_fail(err, UNR_ERR_SHAPE, "%s: tensor '%.*s' spans %lld bytes, its shape and "
                          "dtype need %lld", r->src, SHOWN, e->string, (long long)(end - begin),
                          (long long)(numel * unr_dtype_size(dtype)));
            break;
        }
        if ((st = add_tensor(r, e->string, strlen(e->string), dtype, ndim, dims, stride, 0,
                             data + begin, numel, "the data", err)))
            break;
    }
    cJSON_Delete(h);
    return st;
}

static unr_status read_state_dict(reader *r, const uint8_t *b, size_t n, unr_error *err)
{
    if (n >= 4 && b[0] == 'P' && b[1] == 'K' && (b[2] == 3 || b[2] == 5))
        return read_zip(r, b, n, err);
    /* safetensors first: its header length may start with 0x80, as a pickle does */
    uint64_t hlen = 0;
    for (int j = 8; n >= 10 && j-- > 0;)
        hlen = hlen << 8 | b[j];
    if (n >= 10 && hlen >= 2 && hlen <= n - 8 && b[8] == '{')
        return read_safetensors(r, b, n, hlen, err);
    if (n >= 2 && b[0] == 0x80)
        return read_legacy(r, b, n, err);
    return unr_fail(err, UNR_ERR_PARSE, "%s: not a PyTorch checkpoint (neither a torch.save zip "
                    "archive, a legacy torch.save file nor safetensors)", r->src);
}

/* ---- 2. names and architecture, as scripts/import-pytorch.py ---- */

/* Digits at *p (Python's \d+, ASCII), their value saturated at 10^9. */
static int digits(const char **p, long *v)
{
    const char *s = *p;
    long x = 0;
    while (*s >= '0' && *s <= '9') {
        x = x < 100000000L ? x * 10 + (*s - '0') : 1000000000L;
        s++;
    }
    if (s == *p)
        return 0;
    *p = s;
    *v = x;
    return 1;
}

/* "layer" S "." J "." rest */
static int match_layer(const char *k, long *s, long *j, const char **rest)
{
    const char *p = k;
    if (strncmp(p, "layer", 5))
        return 0;
    p += 5;
    if (!digits(&p, s) || *p++ != '.' || !digits(&p, j) || *p++ != '.')
        return 0;
    *rest = p;
    return 1;
}

/* a followed by b, in a new string. */
static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s)
        memcpy(s, a, la), memcpy(s + la, b, lb + 1);
    return s;
}

/* Wide ResNet names (blockS.layer.J.*, convShortcut) as layerS.J.* / shortcut.0. */
static char *wrn_name(const char *k)
{
    const char *p = k, *d1 = k;
    long v;
    char *head = NULL;
    if (!strncmp(k, "block", 5) && (p = d1 = k + 5, digits(&p, &v)) && !strncmp(p, ".layer.", 7)) {
        const char *s_end = p, *d2 = p + 7;
        p = d2;
        if (digits(&p, &v) && *p == '.') {
            size_t len = (size_t)(s_end - d1) + (size_t)(p - d2) + 7 + strlen(p + 1) + 1;
            head = malloc(len);
            if (head)
                snprintf(head, len, "layer%.*s.%.*s.%s", (int)(s_end - d1), d1, (int)(p - d2), d2, p + 1);
        }
    }
    const char *src = head ? head : k;
    static const char from[] = ".convShortcut.", to[] = ".shortcut.0.";
    size_t count = 0;
    for (const char *q = strstr(src, from); q; q = strstr(q + sizeof from - 1, from))
        count++;
    char *out = malloc(strlen(src) + 1);   /* the replacement is shorter */
    if (out) {
        char *o = out;
        for (const char *q = src; *q;) {
            if (count && !strncmp(q, from, sizeof from - 1)) {
                memcpy(o, to, sizeof to - 1), o += sizeof to - 1, q += sizeof from - 1;
            } else {
                *o++ = *q++;
            }
        }
        *o = '\0';
    }
    free(head);
    return out;
}

static int has_prefix_key(const ck_dict *d, const char *prefix)
{
    for (int i = 0; i < d->n; i++)
        if (!strncmp(d->t[i].name, prefix, strlen(prefix)))
            return 1;
    return 0;
}

/* Pre-activation blocks put bn1 before conv1, so at a block whose conv1
 * changes the channel count bn1 has conv1's input width. */
static int is_preactivation(const ck_dict *sd)
{
    if (has_prefix_key(sd, "blocks."))
        return dict_get(sd, "stem.bn.weight") == NULL;
    for (int i = 0; i < sd->n; i++) {
        const ck_tensor *w = &sd->t[i];
        long s, j;
        const char *rest;
        if (!match_layer(w->name, &s, &j, &rest) || strcmp(rest, "conv1.weight") || w->ndim < 2)
            continue;
        char bn1[512];
        snprintf(bn1, sizeof bn1, "%.*sbn1.weight", (int)(rest - w->name), w->name);
        const ck_tensor *bn = dict_get(sd, bn1);
        if (bn && bn->ndim >= 1 && w->shape[0] != w->shape[1])
            return bn->shape[0] == w->shape[1];
    }
    const ck_tensor *stem = dict_get(sd, "conv1.weight"), *top = dict_get(sd, "bn1.weight");
    return !top || !stem || top->ndim < 1 || stem->ndim < 1 || top->shape[0] != stem->shape[0];
}

/* Moves t into out under a new name (freed on failure). */
static unr_status rename_into(ck_dict *out, ck_tensor *t, char *name, const char *src, unr_error *err)
{
    if (!name)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    ck_tensor moved = *t;
    free(moved.name);
    moved.name = name;
    t->name = t->key = NULL;
    if (!dict_set(out, moved))
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    return UNR_OK;
}

/* The layerS.J layout in unravel's names; stage_blocks filled (or checked
 * against the caller's). */
static unr_status layer_names(ck_dict *sd, const char *src, int pre, int *num_stages,
                              int stage_blocks[UNR_MAX_STAGES], ck_dict *out, unr_error *err)
{
    /* Which stages and which blocks in each: bit sets over block indices
     * below UNR_MAX_BLOCKS_PER_STAGE, the rest counted as out of order. */
    enum { MAXS = 8 };
    long stage_ids[MAXS];
    int nst = 0, many = 0;
    unsigned char (*blocks)[UNR_MAX_BLOCKS_PER_STAGE] = calloc(MAXS, sizeof *blocks);
    long *top = calloc(MAXS, sizeof *top);
    if (!blocks || !top) {
        free(blocks), free(top);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    }
    unr_status st = UNR_OK;
    for (int i = 0; i < sd->n; i++) {
        long s, j;
        const char *rest;
        if (!match_layer(sd->t[i].name, &s, &j, &rest))
            continue;
        int at = -1;
        for (int q = 0; q < nst; q++)
            if (stage_ids[q] == s)
                at = q;
        if (at < 0 && nst == MAXS) {
            many = 1;
            continue;
        }
        if (at < 0)
            at = nst, stage_ids[nst++] = s;
        if (j < UNR_MAX_BLOCKS_PER_STAGE)
            blocks[at][j] = 1;
        else
            top[at] = j > top[at] ? j : top[at];
    }
    /* sorted stage numbers: layer1..layer3 or layer1..layer4 */
    for (int a = 0; a < nst; a++)
        for (int b = a + 1; b < nst; b++)
            if (stage_ids[b] < stage_ids[a]) {
                long t = stage_ids[a];
                stage_ids[a] = stage_ids[b], stage_ids[b] = t;
                unsigned char tmp[UNR_MAX_BLOCKS_PER_STAGE];
                memcpy(tmp, blocks[a], sizeof tmp), memcpy(blocks[a], blocks[b], sizeof tmp);
                memcpy(blocks[b], tmp, sizeof tmp);
                t = top[a], top[a] = top[b], top[b] = t;
            }
    int ok = !many && (nst == 3 || nst == 4);
    for (int a = 0; ok && a < nst; a++)
        ok = stage_ids[a] == a + 1;
    if (!ok) {
        char found[160] = "";
        for (int a = 0; a < nst; a++) {
            size_t u = strlen(found);
            snprintf(found + u, sizeof found - u, "%slayer%ld", a ? ", " : "", stage_ids[a]);
        }
        st = unr_fail(err, UNR_ERR_FIELD, "%s: expected layer1 to layer3 or layer4 (or unravel's "
                      "blocks.I); found %s%s", src, nst ? found : "none", many ? ", ..." : "");
    }
    int found_blocks[UNR_MAX_STAGES] = {0};
    for (int a = 0; !st && a < nst; a++) {
        int count = 0;
        while (count < UNR_MAX_BLOCKS_PER_STAGE && blocks[a][count])
            count++;
        int rest = 0;
        for (int j = count; j < UNR_MAX_BLOCKS_PER_STAGE; j++)
            rest |= blocks[a][j];
        if (rest || top[a])
            st = unr_fail(err, UNR_ERR_FIELD, "%s: layer%d has blocks that are not 0..N-1 (block "
                          "%d is missing, or over %d blocks)", src, a + 1, count,
                          UNR_MAX_BLOCKS_PER_STAGE);
        found_blocks[a] = count;
    }
    free(blocks), free(top);
    if (st)
        return st;
    if (*num_stages) {
        int same = *num_stages == nst;
        for (int a = 0; same && a < nst; a++)
            same = stage_blocks[a] == found_blocks[a];
        if (!same) {
            char says[64] = "", has[64] = "";
            for (int a = 0; a < *num_stages; a++)
                snprintf(says + strlen(says), sizeof says - strlen(says), "%s%d", a ? "," : "", stage_blocks[a]);
            for (int a = 0; a < nst; a++)
                snprintf(has + strlen(has), sizeof has - strlen(has), "%s%d", a ? "," : "", found_blocks[a]);
            return unr_fail(err, UNR_ERR_FIELD, "%s: the blocks per stage given are %s, the "
                            "checkpoint has %s", src, says, has);
        }
    }
    *num_stages = nst;
    memcpy(stage_blocks, found_blocks, sizeof found_blocks);
    int first[UNR_MAX_STAGES] = {0};
    for (int a = 1; a < nst; a++)
        first[a] = first[a - 1] + stage_blocks[a - 1];
    for (int i = 0; i < sd->n && !st; i++) {
        ck_tensor *t = &sd->t[i];
        const char *k = t->name, *rest;
        long s, j;
        char *name = NULL;
        if (match_layer(k, &s, &j, &rest)) {
            char block[32];
            snprintf(block, sizeof block, "blocks.%ld.", first[s - 1] + j);
            const char *tail = rest;
            const char *kind = "";
            if (!strncmp(rest, "shortcut.0.", 11) || !strncmp(rest, "downsample.0.", 13))
                kind = "shortcut.conv.", tail = strchr(rest, '.') + 3;
            else if (!strncmp(rest, "shortcut.1.", 11) || !strncmp(rest, "downsample.1.", 13))
                kind = "shortcut.bn.", tail = strchr(rest, '.') + 3;
            name = malloc(strlen(block) + strlen(kind) + strlen(tail) + 1);
            if (name)
                sprintf(name, "%s%s%s", block, kind, tail);
        } else if (!strncmp(k, "conv1.", 6)) {
            name = concat("stem.conv.", k + 6);
        } else if (!strncmp(k, "bn1.", 4) || (pre && !strncmp(k, "bn.", 3))) {
            /* post-activation: the stem's batch norm; pre-activation: the one before the pool */
            name = concat(pre ? "head.bn." : "stem.bn.", strchr(k, '.') + 1);
        } else if (!strncmp(k, "linear.", 7) || !strncmp(k, "fc.", 3)) {
            name = concat("fc.", strchr(k, '.') + 1);
        } else {
            return unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%.*s' has no place in a CIFAR ResNet",
                            src, SHOWN, t->key);
        }
        st = rename_into(out, t, name, src, err);
    }
    return st;
}

/* Everything the architecture needs, read off the mapped names. */
typedef struct {
    unr_arch arch;
    ck_dict t;                 /* unravel name -> tensor */
} inferred;

static unr_status infer(reader *r, const unr_import_options *opt, inferred *inf, unr_error *err)
{
    const char *src = r->src;
    unr_status st = UNR_OK;
    /* Wide ResNet spellings first, as the Python importer does */
    ck_dict sd = {0};
    for (int i = 0; i < r->sd.n && !st; i++)
        st = rename_into(&sd, &r->sd.t[i], wrn_name(r->sd.t[i].name), src, err);
    dict_free(&r->sd);
    int pre = opt->block == UNR_BLOCK_AUTO ? is_preactivation(&sd) : opt->block == UNR_BLOCK_PRE;
    int num_stages = opt->num_stages, stage_blocks[UNR_MAX_STAGES] = {0};
    memcpy(stage_blocks, opt->stage_blocks, sizeof stage_blocks);
    ck_dict *t = &inf->t;
    int ours = has_prefix_key(&sd, "blocks.");
    if (!st && ours) {
        for (int i = 0; i < sd.n && !st; i++)
            st = rename_into(t, &sd.t[i], copy_text(sd.t[i].name, strlen(sd.t[i].name)), src, err);
    } else if (!st) {
        st = layer_names(&sd, src, pre, &num_stages, stage_blocks, t, err);
    }
    dict_free(&sd);
    if (st)
        return st;
    long nblocks = 0;
    for (int i = 0; i < t->n; i++) {
        const char *p = t->t[i].name + 7;
        long b;
        if (strncmp(t->t[i].name, "blocks.", 7))
            continue;
        if (!digits(&p, &b) || (*p && *p != '.'))
            return unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%.*s': not blocks.NUMBER...", src,
                            SHOWN, t->t[i].key);
        if (b >= UNR_MAX_BLOCKS)
            return unr_fail(err, UNR_ERR_RANGE, "%s: tensor '%.*s': over %d blocks", src, SHOWN,
                            t->t[i].key, UNR_MAX_BLOCKS);
        nblocks = b + 1 > nblocks ? b + 1 : nblocks;
    }
    if (!num_stages) {
        if (nblocks == 0 || nblocks % 3)
            return unr_fail(err, UNR_ERR_FIELD, "%s: %ld blocks in unravel's names, not 3 equal "
                            "stages: give the blocks per stage (--blocks-per-stage)", src, nblocks);
        num_stages = 3;
        for (int s = 0; s < 3; s++)
            stage_blocks[s] = (int)(nblocks / 3);
    }
    long sum = 0;
    for (int s = 0; s < num_stages; s++)
        sum += stage_blocks[s];
    if (sum != nblocks)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %ld blocks, but the blocks per stage add up to %ld",
                        src, nblocks, sum);
    static const char *const required[] = {"stem.conv.weight", "fc.weight", "fc.bias",
                                           "stem.bn.weight", "stem.bn.bias",
                                           "stem.bn.running_mean", "stem.bn.running_var"};
    for (int i = 0; i < (pre ? 3 : 7); i++)
        if (!dict_get(t, required[i]))
            return unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%s' (or its PyTorch-layout name) is "
                            "missing", src, required[i]);
    unr_arch *a = &inf->arch;
    *a = (unr_arch){.num_stages = num_stages, .preactivation = pre, .num_classes = 0,
                    .bn_eps = opt->bn_eps > 0 ? opt->bn_eps : 1e-5f};
    for (int s = 0, first = 0; s < num_stages; first += stage_blocks[s], s++) {
        char name[48];
        snprintf(name, sizeof name, "blocks.%d.conv1.weight", first);
        const ck_tensor *c = dict_get(t, name);
        if (!c)
            return unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%s' (or its PyTorch-layout name) is "
                            "missing", src, name);
        if (c->ndim < 1 || c->shape[0] < 1 || c->shape[0] > UNR_MAX_WIDTH)
            return unr_fail(err, UNR_ERR_SHAPE, "%s: tensor '%.*s': its first dimension is not a "
                            "width in 1..%d", src, SHOWN, c->key, UNR_MAX_WIDTH);
        a->widths[s] = (int)c->shape[0];
        a->stage_blocks[s] = stage_blocks[s];
    }
    const ck_tensor *stem = dict_get(t, "stem.conv.weight"), *fc = dict_get(t, "fc.weight");
    if (stem->ndim < 1 || stem->shape[0] < 1 || stem->shape[0] > UNR_MAX_WIDTH)
        return unr_fail(err, UNR_ERR_SHAPE, "%s: tensor '%.*s': its first dimension is not a width "
                        "in 1..%d", src, SHOWN, stem->key, UNR_MAX_WIDTH);
    if (fc->ndim < 1 || fc->shape[0] > 1000000)
        return unr_fail(err, UNR_ERR_SHAPE, "%s: tensor '%.*s' is not a linear layer's weight",
                        src, SHOWN, fc->key);
    a->stem_width = (int)stem->shape[0];
    a->num_classes = (int)fc->shape[0];
    a->head_bn = pre && dict_get(t, "head.bn.weight");
    int has_proj = 0;
    for (int i = 0; i < t->n && !has_proj; i++)
        has_proj = strstr(t->t[i].name, ".shortcut.conv.") != NULL;
    a->shortcut = opt->has_shortcut ? opt->shortcut : has_proj ? UNR_SHORTCUT_B : UNR_SHORTCUT_A;
    if (has_proj && a->shortcut != UNR_SHORTCUT_B)
        return unr_fail(err, UNR_ERR_FIELD, "%s: has projection shortcuts, so it is shortcut B, "
                        "not %s", src, unr_shortcut_name(a->shortcut));
    if (a->shortcut == UNR_SHORTCUT_B && !has_proj)
        return unr_fail(err, UNR_ERR_FIELD, "%s: shortcut B needs projection tensors (shortcut.0 / "
                        "downsample.0); none found", src);
    return UNR_OK;
}

/* ---- 3. the model ---- */

/* The tensor's elements in row-major order, as float32 file bytes. */
static void gather(const ck_tensor *t, unsigned char *out)
{
    int64_t idx[UNR_PK_MAX_DIMS] = {0};
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t e = t->offset;
        for (int d = 0; d < t->ndim; d++)
            e += idx[d] * t->stride[d];
        memcpy(out + 4 * i, t->base + 4 * e, 4);
        for (int d = t->ndim; d-- > 0;) {
            if (++idx[d] < t->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

static unr_status fill(unr_model *m, const ck_dict *t, const char *src, unr_error *err)
{
    /* first the tensors missing, then those left over, as the Python importer */
    int missing = 0, first = -1;
    for (int i = 0; i < m->num_tensors; i++)
        if (!dict_get(t, m->tensors[i].name))
            missing++, first = first < 0 ? i : first;
    if (missing)
        return unr_fail(err, UNR_ERR_FIELD, "%s: missing %d tensor(s), first '%s'", src, missing,
                        m->tensors[first].name);
    unsigned char *known = calloc((size_t)t->n, 1);
    if (!known)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    for (int i = 0; i < m->num_tensors; i++)
        known[dict_find(t, m->tensors[i].name)] = 1;
    const ck_tensor *extra = NULL;
    for (int i = 0; i < t->n; i++)
        if (!known[i] && (!extra || strcmp(t->t[i].name, extra->name) < 0))
            extra = &t->t[i];
    free(known);
    if (extra)
        return unr_fail(err, UNR_ERR_FIELD, "%s: tensor '%.*s' does not belong to a %s network of "
                        "this shape", src, SHOWN, extra->key, unr_shortcut_name(m->arch.shortcut));
    unsigned char *bytes = NULL;
    size_t cap = 0;
    for (int i = 0; i < m->num_tensors; i++) {
        unr_tensor *mt = &m->tensors[i];
        const ck_tensor *c = dict_get(t, mt->name);
        int same = c->ndim == mt->ndim;
        for (int d = 0; same && d < c->ndim; d++)
            same = c->shape[d] == mt->shape[d];
        if (!same) {
            char got[96], want[96];
            int64_t w[4];
            for (int d = 0; d < mt->ndim; d++)
                w[d] = mt->shape[d];
            shape_text(got, sizeof got, c->shape, c->ndim);
            shape_text(want, sizeof want, w, mt->ndim);
            free(bytes);
            return unr_fail(err, UNR_ERR_SHAPE, "%s: tensor '%.*s' (%s) has shape %s, the "
                            "architecture needs %s", src, SHOWN, c->key, mt->name, got, want);
        }
        if (mt->count * 4 > cap) {
            free(bytes);
            cap = mt->count * 4;
            if (!(bytes = malloc(cap)))
                return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
        }
        gather(c, bytes);
        for (size_t j = 0; j < mt->count; j++) {
            float v;
            memcpy(&v, bytes + 4 * j, 4);
            if (!isfinite(v) || (mt->kind == UNR_T_BN_VAR && v < 0)) {
                free(bytes);
                return unr_fail(err, isfinite(v) ? UNR_ERR_FIELD : UNR_ERR_NONFINITE,
                                "%s: tensor '%.*s' holds %s at element %zu", src, SHOWN, c->key,
                                isfinite(v) ? "a negative variance" : "a non-finite value", j);
            }
        }
        unr_tensor_from_file(mt, bytes);
    }
    free(bytes);
    return UNR_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static unr_status describe(unr_model *m, const reader *r, const unr_import_options *opt,
                           unr_error *err)
{
    const char *base = base_name(r->src);
    if (opt->name) {
        snprintf(m->name, sizeof m->name, "%s", opt->name);
    } else {
        const char *dot = strrchr(base, '.');
        int len = dot && dot > base ? (int)(dot - base) : (int)strlen(base);
        snprintf(m->name, sizeof m->name, "%.*s", len, base);
    }
    cJSON *training = cJSON_CreateObject();
    cJSON_AddStringToObject(training, "imported_from", base);
    cJSON_AddStringToObject(training, "checkpoint_format", r->format);
    cJSON_AddStringToObject(training, "importer", "unravel import (c/checkpoint.c)");
    char *text = cJSON_PrintUnformatted(training);
    cJSON_Delete(training);
    if (!text)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", r->src);
    unr_status st = unr_model_set_metadata(m, "{}", text, err);
    cJSON_free(text);
    return st;
}

unr_status unr_model_import_checkpoint(const void *bytes, size_t n, const char *source,
                                       const unr_import_options *opt_in, unr_model **out,
                                       char *warnings, size_t warnings_cap, unr_error *err)
{
    *out = NULL;
    if (warnings && warnings_cap)
        warnings[0] = '\0';
    const unr_import_options zero = {0};
    const unr_import_options *opt = opt_in ? opt_in : &zero;
    reader r = {.src = source ? source : "checkpoint"};
    inferred inf = {0};
    unr_model *m = NULL;
    unr_status st = UNR_OK;
    if (opt->has_mean_std)
        for (int c = 0; c < 3 && !st; c++)
            if (!(opt->std[c] > 1e-6f) || !isfinite(opt->mean[c]) || !isfinite(opt->std[c]))
                st = unr_fail(err, UNR_ERR_FIELD, "%s: std[%d] must be positive and mean and std "
                              "finite", r.src, c);
    if (!st && (opt->num_stages < 0 || opt->num_stages > UNR_MAX_STAGES))
        st = unr_fail(err, UNR_ERR_RANGE, "%s: %d stages is outside 1..%d", r.src, opt->num_stages,
                      UNR_MAX_STAGES);
    if (!st)
        st = read_state_dict(&r, bytes, n, err);
    if (!st && r.sd.n == 0)
        st = unr_fail(err, UNR_ERR_FIELD, "%s: the state dict holds no tensors", r.src);
    if (!st)
        st = infer(&r, opt, &inf, err);
    if (!st)
        st = unr_model_alloc(&inf.arch, r.src, &m, err);
    if (!st)
        st = fill(m, &inf.t, r.src, err);
    if (!st)
        st = describe(m, &r, opt, err);
    if (!st) {
        static const float mean[3] = CIFAR_MEAN, std[3] = CIFAR_STD;
        memcpy(m->mean, opt->has_mean_std ? opt->mean : mean, sizeof m->mean);
        memcpy(m->std, opt->has_mean_std ? opt->std : std, sizeof m->std);
        if (!opt->has_mean_std && warnings && warnings_cap)
            snprintf(warnings, warnings_cap, "%s: no mean and std given: using CIFAR-10's (mean "
                     "0.4914,0.4822,0.4465, std 0.2470,0.2435,0.2616); give the normalisation the "
                     "network was trained with if it differs\n", r.src);
        unr_model_refold(m);
    }
    dict_free(&r.sd);
    dict_free(&inf.t);
    unr_pickle_free(&r.vm);
    unr_zip_close(&r.zip);
    if (st) {
        unr_model_free(m);
        return st;
    }
    *out = m;
    return UNR_OK;
}
