/* fuzz_inputs.h: what each fuzz target does with one input. Shared by the
 * libFuzzer targets (fuzz_*.c) and by the replay test in
 * tests/c/test_model.c, so a saved regression input runs exactly the code
 * that once failed on it.
 *
 * Input formats:
 *   model: manifest bytes, one NUL byte, weights bytes (no NUL: all
 *          manifest, empty weights). If the load fails only on the sha256,
 *          the manifest's hash is patched to match and the load retried, so
 *          fuzzed weights reach the NaN/Inf, variance and tensor checks.
 *          A model that loads is run once on a fixed image.
 *   cifar: the raw file.
 *   plan:  deletions text, NUL, order text, against a fixed 9-block model.
 *   checkpoint: the raw file (torch.save zip, legacy torch.save or
 *          safetensors); a model that imports is run once on a fixed image.
 */
#ifndef UNR_FUZZ_INPUTS_H
#define UNR_FUZZ_INPUTS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unravel.h"

/* Overwrite the 64 characters after `"sha256"`, `:` and `"` with the hash
 * of the weights. Returns 0 if there is no such place. */
static int fuzz_patch_sha256(char *manifest, size_t len, const void *weights, size_t wlen)
{
    static const char key[] = "\"sha256\"";
    for (size_t i = 0; i + sizeof key - 1 <= len; i++) {
        if (memcmp(manifest + i, key, sizeof key - 1) != 0)
            continue;
        size_t j = i + sizeof key - 1;
        while (j < len && (manifest[j] == ' ' || manifest[j] == '\t' || manifest[j] == '\n' ||
                           manifest[j] == '\r' || manifest[j] == ':'))
            j++;
        if (j >= len || manifest[j] != '"' || len - (j + 1) < 64)
            continue;
        char hex[65];
        unr_sha256_hex(weights, wlen, hex);
        memcpy(manifest + j + 1, hex, 64);
        return 1;
    }
    return 0;
}

static void fuzz_run_model(const unr_model *m)
{
    if (unr_model_num_params(m) > 200000)
        return;
    (void)unr_model_macs(m);
    unr_runner *run;
    unr_error err;
    if (unr_runner_create(m, 1, 1, UNR_ISA_SCALAR, &run, &err))
        return;
    unr_plan *p = unr_plan_create(m);
    static uint8_t image[UNR_IMAGE_BYTES];
    for (int i = 0; i < UNR_IMAGE_BYTES; i++)
        image[i] = (uint8_t)(i * 37);
    float logits[UNR_NUM_CLASSES];
    if (p) {
        (void)unr_forward_pixels(run, p, image, 1, logits, &err);
        /* Delete every deletable block: the shortest network. */
        for (int b = 0; b < unr_model_num_blocks(m); b++)
            if (unr_block_deletable(m, b))
                unr_plan_delete(p, b, &err);
        (void)unr_forward_pixels(run, p, image, 1, logits, &err);
    }
    unr_plan_free(p);
    unr_runner_free(run);
}

static void fuzz_model_input(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t mlen = nul ? (size_t)(nul - data) : size;
    const uint8_t *weights = nul ? nul + 1 : data + size;
    size_t wlen = size - mlen - (nul ? 1 : 0);
    /* Copies of exactly the right size, so ASan sees any over-read. */
    char *manifest = malloc(mlen ? mlen : 1);
    uint8_t *w = malloc(wlen ? wlen : 1);
    if (!manifest || !w) {
        free(manifest);
        free(w);
        return;
    }
    memcpy(manifest, data, mlen);
    memcpy(w, weights, wlen);
    unr_model *m = NULL;
    unr_error err;
    unr_status st = unr_model_load(manifest, mlen, w, wlen, "fuzz", &m, &err);
    if (st == UNR_ERR_CHECKSUM && fuzz_patch_sha256(manifest, mlen, w, wlen))
        st = unr_model_load(manifest, mlen, w, wlen, "fuzz", &m, &err);
    if (st == UNR_OK) {
        fuzz_run_model(m);
        unr_model_free(m);
    } else if (!err.message[0]) {
        abort();   /* every refusal says why */
    }
    free(manifest);
    free(w);
}

static void fuzz_cifar_input(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    unr_cifar c;
    unr_error err;
    unr_status st = unr_cifar_parse(copy, size, "fuzz", &c, &err);
    if (st == UNR_OK) {
        if (c.n < 1 || (size_t)c.n * UNR_CIFAR_RECORD_BYTES != size)
            abort();
        for (int i = 0; i < c.n; i++)
            if (c.labels[i] > 9 || c.labels[i] != copy[(size_t)i * UNR_CIFAR_RECORD_BYTES])
                abort();
        unr_cifar_free(&c);
    } else if (c.labels || c.pixels || c.n) {
        abort();   /* a refusal leaves nothing behind */
    }
    free(copy);
}

static void fuzz_plan_input(const uint8_t *data, size_t size)
{
    static unr_model *m;
    if (!m) {
        unr_arch a = {.blocks_per_stage = 3, .widths = {4, 8, 16}, .shortcut = UNR_SHORTCUT_NONE,
                      .num_classes = 10, .bn_eps = 1e-5f};
        unr_error err;
        if (unr_model_init_random(&a, 1, &m, &err))
            abort();
    }
    /* Two NUL-terminated strings. */
    char *text = malloc(size + 2);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = text[size + 1] = 0;
    const char *del = text, *order = text + strlen(text) + 1;
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    if (p && unr_plan_parse(p, del, order, &err) == UNR_OK) {
        double tau = unr_plan_kendall_tau(p);
        if (unr_plan_validate(m, p, &err) == UNR_OK && !(tau >= -1.0 && tau <= 1.0))
            abort();
    }
    unr_plan_free(p);
    free(text);
}

static void fuzz_checkpoint_input(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    unr_model *m = NULL;
    unr_error err;
    char warnings[512];
    err.message[0] = '\0';
    unr_status st = unr_model_import_checkpoint(copy, size, "fuzz", NULL, &m, warnings,
                                                sizeof warnings, &err);
    if (st == UNR_OK) {
        fuzz_run_model(m);
        unr_model_free(m);
    } else if (!err.message[0] || m) {
        abort();   /* every refusal says why, and leaves nothing behind */
    }
    free(copy);
}

#endif
