/* model_io.c: model files on disk (native builds only; the WASM build takes
 * bytes from JavaScript instead). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cJSON.h"
#include "internal.h"

unr_status unr_read_file(const char *path, size_t limit, void **data,
                         size_t *len, unr_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return unr_fail(err, UNR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= limit) {
                free(buf);
                fclose(f);
                return unr_fail(err, UNR_ERR_RANGE, "%s: larger than the %zu-byte limit", path, limit);
            }
            cap = cap * 2 < limit ? cap * 2 : limit;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return unr_fail(err, UNR_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *len = n;
    return UNR_OK;
}

/* The weights file named in the manifest, resolved beside the manifest. */
static unr_status weights_path(const char *manifest_path, const char *manifest, size_t len,
                               char *out, size_t cap, unr_error *err)
{
    cJSON *root = cJSON_ParseWithLength(manifest, len);
    if (!root)
        return unr_fail(err, UNR_ERR_PARSE, "%s: malformed JSON", manifest_path);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "weights");
    const cJSON *file = w ? cJSON_GetObjectItemCaseSensitive(w, "file") : NULL;
    unr_status st = UNR_OK;
    if (!cJSON_IsString(file) || !file->valuestring[0])
        st = unr_fail(err, UNR_ERR_FIELD, "%s: weights.file: missing or not a string",
                      manifest_path);
    else if (strchr(file->valuestring, '/') || strcmp(file->valuestring, "..") == 0)
        st = unr_fail(err, UNR_ERR_FIELD, "%s: weights.file: \"%s\" must be a plain file name "
                      "beside the manifest", manifest_path, file->valuestring);
    else {
        const char *slash = strrchr(manifest_path, '/');
        int dirlen = slash ? (int)(slash - manifest_path + 1) : 0;
        if ((size_t)snprintf(out, cap, "%.*s%s", dirlen, manifest_path, file->valuestring) >= cap)
            st = unr_fail(err, UNR_ERR_RANGE, "%s: weights.file: path too long", manifest_path);
    }
    cJSON_Delete(root);
    return st;
}

unr_status unr_model_load_file(const char *path, unr_model **out, unr_error *err)
{
    *out = NULL;
    void *manifest = NULL, *weights = NULL;
    size_t mlen, wlen;
    char wpath[4096];
    unr_status st = unr_read_file(path, UNR_MAX_MANIFEST_BYTES, &manifest, &mlen, err);
    if (!st)
        st = weights_path(path, manifest, mlen, wpath, sizeof wpath, err);
    if (!st)
        st = unr_read_file(wpath, (size_t)1 << 32, &weights, &wlen, err);
    if (!st)
        st = unr_model_load(manifest, mlen, weights, wlen, path, out, err);
    free(manifest);
    free(weights);
    return st;
}

/* ---- saving ---- */

static unr_status write_atomic(const char *path, const void *data, size_t len, unr_error *err)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return unr_fail(err, UNR_ERR_RANGE, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return unr_fail(err, UNR_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return unr_fail(err, UNR_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return UNR_OK;
}

unr_status unr_write_file_atomic(const char *path, const void *data, size_t len, unr_error *err)
{
    return write_atomic(path, data, len, err);
}

unr_status unr_model_save(const unr_model *m, const char *path, unr_error *err)
{
    char base[4096], json_path[4200], bin_path[4200];
    size_t plen = strlen(path);
    if (plen >= 5 && strcmp(path + plen - 5, ".json") == 0)
        plen -= 5;
    if (plen >= sizeof base)
        return unr_fail(err, UNR_ERR_RANGE, "%s: path too long", path);
    memcpy(base, path, plen);
    base[plen] = '\0';
    snprintf(json_path, sizeof json_path, "%s.json", base);
    snprintf(bin_path, sizeof bin_path, "%s.bin", base);
    const char *slash = strrchr(base, '/');
    const char *stem = slash ? slash + 1 : base;

    /* The model is named after its file, and so are its weights. */
    char *text;
    void *bytes;
    size_t tl, total;
    unr_status st = unr_model_serialize(m, stem, NULL, &text, &tl, &bytes, &total, err);
    if (!st)
        st = write_atomic(bin_path, bytes, total, err);
    if (!st)
        st = write_atomic(json_path, text, tl, err);
    free(text);
    free(bytes);
    return st;
}


/* ---- CIFAR-10 files ---- */

unr_status unr_cifar_load_file(const char *path, unr_cifar *out, unr_error *err)
{
    void *bytes;
    size_t len;
    memset(out, 0, sizeof *out);
    unr_status st = unr_read_file(path, (size_t)1 << 32, &bytes, &len, err);
    if (st)
        return st;
    st = unr_cifar_parse(bytes, len, path, out, err);
    free(bytes);
    return st;
}

unr_status unr_cifar_load_split(const char *dir, const char *split, unr_cifar *out,
                                unr_error *err)
{
    char path[4096];
    memset(out, 0, sizeof *out);
    if (strcmp(split, "test") == 0) {
        snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        return unr_cifar_load_file(path, out, err);
    }
    if (strcmp(split, "train") != 0)
        return unr_fail(err, UNR_ERR_FIELD, "split: \"%s\" is not train or test", split);
    unr_cifar parts[5] = {{0}};
    unr_status st = UNR_OK;
    size_t n = 0;
    for (int i = 0; i < 5 && !st; i++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, i + 1);
        st = unr_cifar_load_file(path, &parts[i], err);
        n += (size_t)parts[i].n;
    }
    if (!st) {
        out->labels = malloc(n);
        out->pixels = malloc(n * UNR_IMAGE_BYTES);
        if (!out->labels || !out->pixels)
            st = unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (int i = 0, at = 0; i < 5 && !st; at += parts[i].n, i++) {
        memcpy(out->labels + at, parts[i].labels, (size_t)parts[i].n);
        memcpy(out->pixels + (size_t)at * UNR_IMAGE_BYTES, parts[i].pixels,
               (size_t)parts[i].n * UNR_IMAGE_BYTES);
    }
    if (!st)
        out->n = (int)n;
    else
        unr_cifar_free(out);
    for (int i = 0; i < 5; i++)
        unr_cifar_free(&parts[i]);
    return st;
}
