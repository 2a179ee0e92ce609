/* pickle.h: a small, strict pickle reader for PyTorch checkpoints. Internal
 * to the core.
 *
 * It runs the opcodes of protocols 2 to 5 that torch.save writes for state
 * dicts (containers, numbers, strings, memo, persistent ids), and builds
 * plain values. Nothing is ever executed: the only globals it knows are
 * collections.OrderedDict, torch's tensor-rebuild functions and storage
 * classes; any other global is refused by name and offset. Objects,
 * container items, the stack, the memo and tensor ranks are bounded
 * (UNR_PK_MAX_*), so a hostile pickle costs at most a few tens of MB. */
#ifndef UNR_PICKLE_H
#define UNR_PICKLE_H

#include <stddef.h>
#include <stdint.h>
#include "unravel.h"

#define UNR_PK_MAX_OBJECTS (1 << 21)   /* values built; a ResNet-1202 state dict makes ~110,000 */
#define UNR_PK_MAX_ITEMS (1 << 22)     /* items in all containers together */
#define UNR_PK_MAX_STACK (1 << 20)
#define UNR_PK_MAX_MARKS (1 << 12)     /* nesting of MARK ... TUPLE/SETITEMS */
#define UNR_PK_MAX_DIMS 8              /* tensor rank */
#define UNR_PK_MAX_NUMEL ((int64_t)1 << 31)  /* elements of one tensor or storage */

typedef enum {
    UNR_DT_FLOAT32 = 0, UNR_DT_FLOAT64, UNR_DT_FLOAT16, UNR_DT_BFLOAT16, UNR_DT_INT64,
    UNR_DT_INT32, UNR_DT_INT16, UNR_DT_INT8, UNR_DT_UINT8, UNR_DT_BOOL, UNR_DT_COMPLEX64,
    UNR_DT_COMPLEX128, UNR_DT_COUNT
} unr_dtype;

const char *unr_dtype_name(unr_dtype t);   /* "float32", ... */
int unr_dtype_size(unr_dtype t);           /* bytes per element */

typedef enum {
    UNR_PK_NONE = 0, UNR_PK_BOOL, UNR_PK_INT, UNR_PK_BIGINT, UNR_PK_FLOAT, UNR_PK_STR,
    UNR_PK_BYTES, UNR_PK_TUPLE, UNR_PK_LIST, UNR_PK_DICT, UNR_PK_GLOBAL, UNR_PK_STORAGE,
    UNR_PK_TENSOR, UNR_PK_KIND_COUNT
} unr_pk_kind;

const char *unr_pk_kind_name(unr_pk_kind k);  /* Python's spelling: "dict", "Tensor", ... */

typedef struct {
    unr_pk_kind kind;
    int32_t n;               /* str/bytes: length; tuple/list: items; dict: key-value pairs */
    int32_t cap;             /* containers: items allocated */
    union {
        int64_t i;           /* bool, int */
        double f;
        const uint8_t *s;    /* str, bytes, bigint: inside the pickle's bytes */
        int32_t *items;      /* tuple/list: [n]; dict: [2n] key, value, key, value ... */
        int index;           /* global: its table index; storage, tensor: theirs */
    } u;
} unr_pk_obj;

/* A storage named by a persistent id: ('storage', type, key, location, numel
 * [, view]). checkpoint.c fills data and count from the archive. */
typedef struct {
    const uint8_t *key;      /* inside the pickle's bytes */
    int32_t key_len;
    unr_dtype dtype;
    int64_t numel;           /* as the pickle says */
    int view_of;             /* legacy storage views: the root storage, else -1 */
    int64_t view_offset;     /* elements into the root */
    const uint8_t *data;     /* little-endian elements, count of them (checkpoint.c) */
    int64_t count;
} unr_pk_storage;

typedef struct {
    int storage;
    int64_t offset;          /* elements */
    int ndim;
    int64_t shape[UNR_PK_MAX_DIMS], stride[UNR_PK_MAX_DIMS];
    int64_t numel;
} unr_pk_tensor;

typedef struct {
    const char *source;      /* names the file in messages */
    const char *entry;       /* and the pickle: "archive/data.pkl" */
    unr_pk_obj *objs;
    int nobjs, cap_objs;
    int64_t items;
    unr_pk_storage *storages;
    int nstorages, cap_storages;
    unr_pk_tensor *tensors;
    int ntensors, cap_tensors;
} unr_pickle;

/* Runs one pickle (up to its STOP) from data[0..n); *root receives the
 * object it builds and *used the bytes it took (several pickles may follow
 * one another, as in the legacy format). base is added to offsets in
 * messages. The bytes must outlive vm: strings point into them. Objects,
 * storages and tensors accumulate over runs of the same vm. */
unr_status unr_pickle_run(unr_pickle *vm, const uint8_t *data, size_t n, size_t base,
                          int *root, size_t *used, unr_error *err);
void unr_pickle_free(unr_pickle *vm);

/* The value under the string key in dict object d (the last one set), or -1. */
int unr_pk_dict_get(const unr_pickle *vm, int d, const char *key);
/* Does object o hold the string s? */
int unr_pk_is_str(const unr_pickle *vm, int o, const char *s);

#endif
