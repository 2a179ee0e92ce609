/* manifest.c: reading and writing model files (JSON manifest + float32
 * weights). Every check names the file and the field that failed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model files are little-endian float32; this build assumes a little-endian host"
#endif



/* ---- small JSON helpers: each names src and the field path ---- */

static unr_status get_int(const cJSON *obj, const char *key, const char *path, const char *src,
                          long long lo, long long hi, long long *out, unr_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: missing", src, path, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: expected an integer", src, path, key);
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return unr_fail(err, UNR_ERR_RANGE, "%s: %s%s: %.17g is outside %lld..%lld", src, path,
                        key, v->valuedouble, lo, hi);
    *out = (long long)v->valuedouble;
    return UNR_OK;
}

static unr_status get_string(const cJSON *obj, const char *key, const char *path,
                             const char *src, const char **out, unr_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: missing", src, path, key);
    if (!cJSON_IsString(v))
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: expected a string", src, path, key);
    *out = v->valuestring;
    return UNR_OK;
}

static unr_status get_object(const cJSON *obj, const char *key, const char *src,
                             const cJSON **out, unr_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s: missing", src, key);
    if (!cJSON_IsObject(v))
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s: expected an object", src, key);
    *out = v;
    return UNR_OK;
}

/* A JSON array of exactly n finite numbers. */
static unr_status get_floats(const cJSON *obj, const char *key, const char *path,
                             const char *src, int n, float *out, unr_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: missing", src, path, key);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n)
        return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s: expected an array of %d numbers", src,
                        path, key, n);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return unr_fail(err, UNR_ERR_FIELD, "%s: %s%s[%d]: expected a finite number", src,
                            path, key, i);
        out[i++] = (float)e->valuedouble;
    }
    return UNR_OK;
}

/* ---- the architecture ---- */

void unr_arch_add_json(cJSON *obj, const unr_arch *in)
{
    unr_arch a = unr_arch_resolve(in);
    cJSON_AddNumberToObject(obj, "depth", unr_arch_depth(&a));
    if (a.blocks_per_stage)
        cJSON_AddNumberToObject(obj, "blocks_per_stage", a.blocks_per_stage);
    else
        cJSON_AddItemToObject(obj, "blocks_per_stage", cJSON_CreateIntArray(a.stage_blocks, a.num_stages));
    cJSON_AddItemToObject(obj, "widths", cJSON_CreateIntArray(a.widths, a.num_stages));
    /* written only where they differ from the default, so older readers
     * still read every post-activation model */
    if (a.stem_width != a.widths[0])
        cJSON_AddNumberToObject(obj, "stem_width", a.stem_width);
    if (a.preactivation) {
        cJSON_AddBoolToObject(obj, "preactivation", 1);
        cJSON_AddBoolToObject(obj, "head_bn", a.head_bn);
    }
}

/* arch.KEY: a boolean, or fallback where absent. */
static unr_status get_bool(const cJSON *arch, const char *key, const char *src, int fallback,
                           int *out, unr_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(arch, key);
    if (v && !cJSON_IsBool(v))
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.%s: expected true or false", src, key);
    *out = v ? cJSON_IsTrue(v) : fallback;
    return UNR_OK;
}

/* arch.KEY: exactly n integers in lo..hi. */
static unr_status get_int_array(const cJSON *arch, const char *key, const char *src, int n, int lo,
                                int hi, int *out, unr_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(arch, key);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble))
            return unr_fail(err, UNR_ERR_FIELD, "%s: arch.%s[%d]: expected an integer", src, key, i);
        if (e->valuedouble < lo || e->valuedouble > hi)
            return unr_fail(err, UNR_ERR_RANGE, "%s: arch.%s[%d]: %.17g is outside %d..%d", src,
                            key, i, e->valuedouble, lo, hi);
        out[i] = (int)e->valuedouble;
    }
    return UNR_OK;
}

static unr_status parse_arch(const cJSON *root, const char *src, unr_arch *a, unr_error *err)
{
    const cJSON *arch;
    unr_status st = get_object(root, "arch", src, &arch, err);
    if (st)
        return st;
    const char *family, *shortcut;
    if ((st = get_string(arch, "family", "arch.", src, &family, err)))
        return st;
    if (strcmp(family, "cifar-resnet") != 0)
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.family: \"%s\" is not \"cifar-resnet\"",
                        src, family);
    /* widths: one per stage (1..4); blocks_per_stage: one count for every
     * stage, or one per stage. */
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(arch, "widths");
    if (!w)
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.widths: missing", src);
    int stages = cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0;
    if (stages < 1 || stages > UNR_MAX_STAGES)
        return unr_fail(err, UNR_ERR_FIELD,
                        "%s: arch.widths: expected an array of 1 to %d integers (one per stage)",
                        src, UNR_MAX_STAGES);
    memset(a, 0, sizeof *a);
    a->num_stages = stages;
    if ((st = get_int_array(arch, "widths", src, stages, 1, UNR_MAX_WIDTH, a->widths, err)))
        return st;
    long long v;
    const cJSON *bps = cJSON_GetObjectItemCaseSensitive(arch, "blocks_per_stage");
    if (cJSON_IsArray(bps)) {
        if (cJSON_GetArraySize(bps) != stages)
            return unr_fail(err, UNR_ERR_FIELD,
                            "%s: arch.blocks_per_stage: %d counts for %d stages (arch.widths)", src,
                            cJSON_GetArraySize(bps), stages);
        if ((st = get_int_array(arch, "blocks_per_stage", src, stages, 1, UNR_MAX_BLOCKS_PER_STAGE,
                                a->stage_blocks, err)))
            return st;
    } else {
        if ((st = get_int(arch, "blocks_per_stage", "arch.", src, 1, UNR_MAX_BLOCKS_PER_STAGE, &v, err)))
            return st;
        a->blocks_per_stage = (int)v;
    }
    if ((st = get_string(arch, "shortcut", "arch.", src, &shortcut, err)))
        return st;
    if (unr_shortcut_parse(shortcut, &a->shortcut))
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.shortcut: \"%s\" is not A, B or none", src,
                        shortcut);
    if ((st = get_int(arch, "num_classes", "arch.", src, 1, 1000000, &v, err)))
        return st;
    a->num_classes = (int)v;
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(arch, "bn_eps");
    if (eps && !cJSON_IsNumber(eps))
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.bn_eps: expected a number", src);
    a->bn_eps = eps ? (float)eps->valuedouble : 1e-5f;
    if (cJSON_GetObjectItemCaseSensitive(arch, "stem_width")) {
        if ((st = get_int(arch, "stem_width", "arch.", src, 1, UNR_MAX_WIDTH, &v, err)))
            return st;
        a->stem_width = (int)v;
    }
    if ((st = get_bool(arch, "preactivation", src, 0, &a->preactivation, err)) ||
        (st = get_bool(arch, "head_bn", src, 0, &a->head_bn, err)))
        return st;
    if (a->head_bn && !a->preactivation)
        return unr_fail(err, UNR_ERR_FIELD, "%s: arch.head_bn: only pre-activation networks have "
                        "a batch norm before the pool", src);
    return unr_arch_validate(a, src, err);
}

/* ---- tensors ---- */

static void shape_text(char *buf, size_t cap, const int *shape, int ndim)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%d", d ? "," : "", shape[d]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* Copy one tensor from file bytes (PyTorch layout) into internal layout. */
static unr_status parse_tensors(const cJSON *root, const char *src, unr_model *m,
                                const unsigned char *weights, size_t weights_len, unr_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "tensors");
    if (!list)
        return unr_fail(err, UNR_ERR_FIELD, "%s: tensors: missing", src);
    if (!cJSON_IsArray(list))
        return unr_fail(err, UNR_ERR_FIELD, "%s: tensors: expected an array", src);
    unsigned char *seen = calloc((size_t)m->num_tensors, 1);
    if (!seen)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    unr_status st = UNR_OK;
    int idx = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        char path[32];
        snprintf(path, sizeof path, "tensors[%d].", idx);
        const char *name;
        if (!cJSON_IsObject(e)) {
            st = unr_fail(err, UNR_ERR_FIELD, "%s: tensors[%d]: expected an object", src, idx);
            break;
        }
        if ((st = get_string(e, "name", path, src, &name, err)))
            break;
        int ti = -1;
        for (int i = 0; i < m->num_tensors; i++)
            if (strcmp(m->tensors[i].name, name) == 0) {
                ti = i;
                break;
            }
        if (ti < 0) {
            st = unr_fail(err, UNR_ERR_FIELD, "%s: tensors[%d].name: \"%s\" is not a tensor of "
                          "this architecture", src, idx, name);
            break;
        }
        if (seen[ti]) {
            st = unr_fail(err, UNR_ERR_FIELD, "%s: tensors[%d].name: \"%s\" appears twice", src,
                          idx, name);
            break;
        }
        seen[ti] = 1;
        unr_tensor *t = &m->tensors[ti];
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        int ok = shape && cJSON_IsArray(shape) && cJSON_GetArraySize(shape) == t->ndim;
        for (int d = 0; ok && d < t->ndim; d++) {
            const cJSON *s = cJSON_GetArrayItem(shape, d);
            ok = cJSON_IsNumber(s) && s->valuedouble == (double)t->shape[d];
        }
        if (!ok) {
            char want[64];
            shape_text(want, sizeof want, t->shape, t->ndim);
            char *got = shape ? cJSON_PrintUnformatted(shape) : NULL;
            st = unr_fail(err, UNR_ERR_SHAPE, "%s: tensors[%d].shape: %s is %s, the architecture "
                          "needs %s", src, idx, name, got ? got : "missing", want);
            cJSON_free(got);
            break;
        }
        long long off, len;
        if ((st = get_int(e, "offset", path, src, 0, (long long)1 << 50, &off, err)) ||
            (st = get_int(e, "length", path, src, 0, (long long)1 << 50, &len, err)))
            break;
        if ((unsigned long long)len != t->count * 4) {
            st = unr_fail(err, UNR_ERR_SHAPE, "%s: tensors[%d].length: %s has %lld bytes, its "
                          "shape needs %zu", src, idx, name, len, t->count * 4);
            break;
        }
        if (off % 4) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: tensors[%d].offset: %lld is not a multiple of 4",
                          src, idx, off);
            break;
        }
        if ((unsigned long long)off > weights_len ||
            (unsigned long long)len > (unsigned long long)weights_len - (unsigned long long)off) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: tensors[%d]: %s spans bytes %lld..%lld, past "
                          "the end of the %zu-byte weights", src, idx, name, off, off + len,
                          weights_len);
            break;
        }
        /* Checked on the file bytes so that element numbers are those of the
         * file's (PyTorch) layout, not of the internal one. */
        for (size_t j = 0; j < t->count; j++) {
            float v;
            memcpy(&v, weights + off + 4 * j, 4);
            if (!isfinite(v)) {
                st = unr_fail(err, UNR_ERR_NONFINITE, "%s: tensors[%d]: %s holds a non-finite "
                              "value (%g) at element %zu", src, idx, name, (double)v, j);
                break;
            } else if (t->kind == UNR_T_BN_VAR && v < 0) {
                st = unr_fail(err, UNR_ERR_FIELD, "%s: tensors[%d]: %s holds a negative "
                              "variance at element %zu", src, idx, name, j);
                break;
            }
        }
        if (st)
            break;
        unr_tensor_from_file(t, weights + off);
        idx++;
    }
    for (int i = 0; !st && i < m->num_tensors; i++)
        if (!seen[i])
            st = unr_fail(err, UNR_ERR_FIELD, "%s: tensors: \"%s\" is missing", src,
                          m->tensors[i].name);
    free(seen);
    return st;
}

/* ---- loading ---- */

static char *dup_json(const cJSON *obj)
{
    return obj ? cJSON_PrintUnformatted(obj) : NULL;
}

/* Everything that can be checked without the weights: format, version,
 * arch, input. Fills m on success. */
static unr_status parse_header(const cJSON *root, const char *src, unr_model **out, unr_error *err)
{
    const char *format;
    unr_status st;
    if (!cJSON_IsObject(root))
        return unr_fail(err, UNR_ERR_PARSE, "%s: expected a JSON object at the top level", src);
    if ((st = get_string(root, "format", "", src, &format, err)))
        return st;
    if (strcmp(format, UNR_MODEL_FORMAT) != 0)
        return unr_fail(err, UNR_ERR_FIELD, "%s: format: \"%s\" is not \"%s\"", src, format,
                        UNR_MODEL_FORMAT);
    long long version;
    if ((st = get_int(root, "version", "", src, 0, 1 << 30, &version, err)))
        return st;
    if (version != UNR_MODEL_VERSION)
        return unr_fail(err, UNR_ERR_FIELD, "%s: version: %lld is not supported (this build "
                        "reads version %d)", src, version, UNR_MODEL_VERSION);
    unr_arch arch;
    if ((st = parse_arch(root, src, &arch, err)))
        return st;
    const cJSON *input;
    float mean[3], std[3];
    if ((st = get_object(root, "input", src, &input, err)) ||
        (st = get_floats(input, "mean", "input.", src, 3, mean, err)) ||
        (st = get_floats(input, "std", "input.", src, 3, std, err)))
        return st;
    for (int c = 0; c < 3; c++)
        if (!(std[c] > 1e-6f))
            return unr_fail(err, UNR_ERR_FIELD, "%s: input.std[%d]: %g must be positive", src, c,
                            (double)std[c]);
    if ((st = unr_model_alloc(&arch, src, out, err)))
        return st;
    memcpy((*out)->mean, mean, sizeof mean);
    memcpy((*out)->std, std, sizeof std);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (cJSON_IsString(name))
        snprintf((*out)->name, sizeof (*out)->name, "%s", name->valuestring);
    return UNR_OK;
}

/* strdup is POSIX, not C11 (the WASM build is strict C11). */
static char *copy_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static unr_status check_weights_header(const cJSON *root, const char *src, const void *weights,
                                       size_t weights_len, unr_error *err)
{
    const cJSON *w;
    const char *sha;
    long long bytes;
    unr_status st;
    if ((st = get_object(root, "weights", src, &w, err)) ||
        (st = get_int(w, "bytes", "weights.", src, 0, (long long)1 << 50, &bytes, err)) ||
        (st = get_string(w, "sha256", "weights.", src, &sha, err)))
        return st;
    if ((unsigned long long)bytes != weights_len)
        return unr_fail(err, UNR_ERR_RANGE, "%s: weights.bytes: the manifest says %lld bytes, the "
                        "weights file has %zu", src, bytes, weights_len);
    char hex[65];
    unr_sha256_hex(weights, weights_len, hex);
    if (strlen(sha) != 64)
        return unr_fail(err, UNR_ERR_FIELD, "%s: weights.sha256: expected 64 hex digits", src);
    for (int i = 0; i < 64; i++) {
        char c = sha[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (c != hex[i])
            return unr_fail(err, UNR_ERR_CHECKSUM, "%s: weights.sha256: the weights hash to %s, "
                            "the manifest says %.64s", src, hex, sha);
    }
    return UNR_OK;
}

unr_status unr_model_load(const char *manifest, size_t manifest_len, const void *weights,
                          size_t weights_len, const char *src, unr_model **out, unr_error *err)
{
    *out = NULL;
    if (!src)
        src = "model";
    if (manifest_len > UNR_MAX_MANIFEST_BYTES)
        return unr_fail(err, UNR_ERR_RANGE, "%s: manifest of %zu bytes is over the %u-byte limit",
                        src, manifest_len, UNR_MAX_MANIFEST_BYTES);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(manifest, manifest_len, &end, 0);
    if (!root) {
        size_t at = end && end >= manifest ? (size_t)(end - manifest) : 0;
        return unr_fail(err, UNR_ERR_PARSE, "%s: malformed JSON near byte %zu", src, at);
    }
    /* cJSON stops right after the first value; anything but whitespace left is
     * a corrupt or concatenated file, not a manifest. */
    while (end && end < manifest + manifest_len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end && end < manifest + manifest_len) {
        cJSON_Delete(root);
        return unr_fail(err, UNR_ERR_PARSE, "%s: malformed JSON: unexpected data after the "
                        "top-level object at byte %zu", src, (size_t)(end - manifest));
    }
    unr_model *m = NULL;
    unr_status st = parse_header(root, src, &m, err);
    if (!st)
        st = check_weights_header(root, src, weights, weights_len, err);
    if (!st)
        st = parse_tensors(root, src, m, weights, weights_len, err);
    if (!st) {
        const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(root, "metrics");
        const cJSON *training = cJSON_GetObjectItemCaseSensitive(root, "training");
        if (metrics && !cJSON_IsObject(metrics))
            st = unr_fail(err, UNR_ERR_FIELD, "%s: metrics: expected an object", src);
        else if (training && !cJSON_IsObject(training))
            st = unr_fail(err, UNR_ERR_FIELD, "%s: training: expected an object", src);
        else {
            m->metrics_json = dup_json(metrics);
            m->training_json = dup_json(training);
            const cJSON *license = cJSON_GetObjectItemCaseSensitive(root, "license");
            if (license && !cJSON_IsString(license))
                st = unr_fail(err, UNR_ERR_FIELD, "%s: license: expected a string", src);
            else if (license && strlen(license->valuestring) > UNR_MAX_LICENSE)
                st = unr_fail(err, UNR_ERR_FIELD, "%s: license: %zu characters, at most %d", src,
                              strlen(license->valuestring), UNR_MAX_LICENSE);
            else if (license && !(m->license = copy_text(license->valuestring)))
                st = unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
        }
    }
    cJSON_Delete(root);
    if (st) {
        unr_model_free(m);
        return st;
    }
    unr_model_refold(m);
    *out = m;
    return UNR_OK;
}

unr_status unr_model_set_license(unr_model *m, const char *license, unr_error *err)
{
    if (license && strlen(license) > UNR_MAX_LICENSE)
        return unr_fail(err, UNR_ERR_FIELD, "license: %zu characters, at most %d",
                        strlen(license), UNR_MAX_LICENSE);
    char *copy = license ? copy_text(license) : NULL;
    if (license && !copy)
        return unr_fail(err, UNR_ERR_NOMEM, "license: out of memory");
    free(m->license);
    m->license = copy;
    return UNR_OK;
}

unr_status unr_model_set_metadata(unr_model *m, const char *metrics_json,
                                  const char *training_json, unr_error *err)
{
    const char *texts[2] = {metrics_json, training_json};
    char **slots[2] = {&m->metrics_json, &m->training_json};
    for (int i = 0; i < 2; i++) {
        if (!texts[i])
            continue;
        cJSON *obj = cJSON_Parse(texts[i]);
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return unr_fail(err, UNR_ERR_PARSE, "%s: expected a JSON object",
                            i ? "training" : "metrics");
        }
        free(*slots[i]);
        *slots[i] = cJSON_PrintUnformatted(obj);
        cJSON_Delete(obj);
    }
    return UNR_OK;
}

/* ---- writing ---- */

#define ALIGN 64  /* tensor offsets are 64-byte aligned in files we write */

static cJSON *float_array(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

unr_status unr_model_serialize(const unr_model *m, const char *name, const char *weights_file,
                               char **manifest, size_t *manifest_len, void **weights,
                               size_t *weights_len, unr_error *err)
{
    *manifest = NULL, *weights = NULL;
    *manifest_len = 0, *weights_len = 0;
    if (!name)
        name = m->name;
    size_t total = 0;
    for (int i = 0; i < m->num_tensors; i++)
        total = (total + ALIGN - 1) / ALIGN * ALIGN + m->tensors[i].count * 4;
    size_t name_len = strlen(name);
    char *bin_name = weights_file ? NULL : malloc(name_len + 5);   /* NAME.bin */
    unsigned char *bytes = calloc(total ? total : 1, 1);
    cJSON *root = cJSON_CreateObject();
    if (!bytes || !root || (!weights_file && !bin_name)) {
        free(bin_name);
        free(bytes);
        cJSON_Delete(root);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", name);
    }
    if (!weights_file) {
        memcpy(bin_name, name, name_len);
        memcpy(bin_name + name_len, ".bin", 5);
        weights_file = bin_name;
    }
    cJSON_AddStringToObject(root, "format", UNR_MODEL_FORMAT);
    cJSON_AddNumberToObject(root, "version", UNR_MODEL_VERSION);
    cJSON_AddStringToObject(root, "name", name);
    if (m->license)
        cJSON_AddStringToObject(root, "license", m->license);
    cJSON *arch = cJSON_AddObjectToObject(root, "arch");
    cJSON_AddStringToObject(arch, "family", "cifar-resnet");
    unr_arch_add_json(arch, &m->arch);
    cJSON_AddStringToObject(arch, "shortcut", unr_shortcut_name(m->arch.shortcut));
    cJSON_AddNumberToObject(arch, "num_classes", m->arch.num_classes);
    cJSON_AddNumberToObject(arch, "bn_eps", (double)m->arch.bn_eps);
    cJSON_AddStringToObject(arch, "block", m->arch.preactivation
        ? "pre-activation basic block: shortcut(x) + conv2(relu(bn2(conv1(relu(bn1(x)))))); "
          "a projection reads relu(bn1(x))"
        : "post-activation basic block: relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x))))))");
    cJSON *input = cJSON_AddObjectToObject(root, "input");
    cJSON_AddStringToObject(input, "layout", "CIFAR-10 record: uint8 R, G, B planes of 32x32; "
                            "x = (pixel/255 - mean) / std");
    cJSON_AddItemToObject(input, "mean", float_array(m->mean, 3));
    cJSON_AddItemToObject(input, "std", float_array(m->std, 3));

    cJSON *tensors = cJSON_CreateArray();
    size_t off = 0;
    for (int i = 0; i < m->num_tensors; i++) {
        const unr_tensor *t = &m->tensors[i];
        off = (off + ALIGN - 1) / ALIGN * ALIGN;
        unr_tensor_to_file(t, bytes + off);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", t->name);
        cJSON_AddItemToObject(e, "shape", cJSON_CreateIntArray(t->shape, t->ndim));
        cJSON_AddNumberToObject(e, "offset", (double)off);
        cJSON_AddNumberToObject(e, "length", (double)(t->count * 4));
        cJSON_AddItemToArray(tensors, e);
        off += t->count * 4;
    }
    char hex[65];
    unr_sha256_hex(bytes, total, hex);
    cJSON *w = cJSON_AddObjectToObject(root, "weights");
    cJSON_AddStringToObject(w, "file", weights_file);
    cJSON_AddNumberToObject(w, "bytes", (double)total);
    cJSON_AddStringToObject(w, "sha256", hex);
    cJSON_AddStringToObject(w, "dtype", "float32 little-endian");
    cJSON_AddStringToObject(w, "layout", "PyTorch: conv (out, in, kh, kw), linear (out, in); "
                            "batch norm unfolded");
    cJSON_AddNumberToObject(w, "parameters", (double)m->num_params);
    if (m->metrics_json)
        cJSON_AddItemToObject(root, "metrics", cJSON_Parse(m->metrics_json));
    if (m->training_json)
        cJSON_AddItemToObject(root, "training", cJSON_Parse(m->training_json));
    cJSON_AddItemToObject(root, "tensors", tensors);

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    free(bin_name);
    size_t tl = text ? strlen(text) : 0;
    char *out = text ? malloc(tl + 2) : NULL;
    if (!out) {
        cJSON_free(text);
        free(bytes);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(out, text, tl);
    out[tl] = '\n';   /* files end with a newline */
    out[tl + 1] = '\0';
    cJSON_free(text);
    *manifest = out, *manifest_len = tl + 1;
    *weights = bytes, *weights_len = total;
    return UNR_OK;
}
