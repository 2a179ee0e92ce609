/* fixtures.h: helpers the C tests and the fuzz seed builder share: a scratch
 * directory, whole-file reads, and a tiny model saved and read back as bytes.
 * The functions are static inline so that a file using only some of them
 * still compiles cleanly under -Wall -Werror. */
#ifndef UNR_FIXTURES_H
#define UNR_FIXTURES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unravel.h"

/* The scratch directory is /tmp/NAME_XXXXXX; a test defines this before the
 * include so that leftovers say which test made them. */
#ifndef FIXTURES_TEMP_NAME
#define FIXTURES_TEMP_NAME "unr_test"
#endif

static char fixtures_tmp_dir[64];

static inline void fixtures_remove_temp_dir(void)
{
    DIR *d = opendir(fixtures_tmp_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char path[400];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", fixtures_tmp_dir, de->d_name);
        remove(path);
    }
    if (d)
        closedir(d);
    rmdir(fixtures_tmp_dir);
}

/* One scratch directory per run, removed at exit ("" if none could be made). */
static inline const char *temp_dir(void)
{
    if (!fixtures_tmp_dir[0]) {
        snprintf(fixtures_tmp_dir, sizeof fixtures_tmp_dir, "/tmp/" FIXTURES_TEMP_NAME "_XXXXXX");
        if (mkdtemp(fixtures_tmp_dir))
            atexit(fixtures_remove_temp_dir);
        else
            fixtures_tmp_dir[0] = 0;
    }
    return fixtures_tmp_dir;
}

/* The whole file, NUL-terminated so a manifest can be parsed as text; NULL
 * if it cannot be read. */
static inline void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

/* A saved model as the loader sees it. */
typedef struct {
    char *json;            /* manifest text, NUL-terminated */
    size_t json_len;
    unsigned char *bin;    /* weights */
    size_t bin_len;
} model_bytes;

/* Save m under the temp dir as NAME.json/.bin and read both back; 1 if both
 * were read. out is all NULL if the save itself failed. */
static inline int save_bytes(const unr_model *m, const char *name, model_bytes *out)
{
    char base[256], path[300];
    unr_error err;
    memset(out, 0, sizeof *out);
    snprintf(base, sizeof base, "%s/%s", temp_dir(), name);
    if (unr_model_save(m, base, &err)) {
        fprintf(stderr, "save: %s\n", err.message);
        return 0;
    }
    snprintf(path, sizeof path, "%s.json", base);
    out->json = read_all(path, &out->json_len);
    snprintf(path, sizeof path, "%s.bin", base);
    out->bin = read_all(path, &out->bin_len);
    return out->json && out->bin;
}

static inline void free_bytes(model_bytes *b)
{
    free(b->json);
    free(b->bin);
    memset(b, 0, sizeof *b);
}

/* A 10-class architecture with the usual batch-norm epsilon. */
static inline unr_arch tiny_arch(unr_shortcut sc, int n, int w0, int w1, int w2)
{
    return (unr_arch){.blocks_per_stage = n, .widths = {w0, w1, w2}, .shortcut = sc,
                      .num_classes = 10, .bn_eps = 1e-5f};
}

/* A model of that architecture with He-initialised weights from seed; NULL
 * (and the library's message on stderr) if it cannot be made. */
static inline unr_model *init_model(const unr_arch *arch, uint64_t seed)
{
    unr_model *m = NULL;
    unr_error err;
    if (unr_model_init_random(arch, seed, &m, &err)) {
        fprintf(stderr, "init: %s\n", err.message);
        return NULL;
    }
    return m;
}

/* n random 32x32 RGB images (and, if labels is not NULL, random labels drawn
 * after them), the same for the same seed. */
static inline void random_pixels(uint8_t *p, uint8_t *labels, int n, uint64_t seed)
{
    unr_rng r;
    unr_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)n * UNR_IMAGE_BYTES; i++)
        p[i] = (uint8_t)unr_rng_below(&r, 256);
    for (int i = 0; labels && i < n; i++)
        labels[i] = (uint8_t)unr_rng_below(&r, 10);
}

#endif
