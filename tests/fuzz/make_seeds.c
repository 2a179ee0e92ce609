/* make_seeds.c: writes the seed corpus for the fuzz targets into
 * DIR/model, DIR/cifar, DIR/plan and DIR/checkpoint, from tiny valid models made on the spot
 * (nothing large is committed). Built and run by scripts/fuzz.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cJSON.h"
#include "unravel.h"
#include "../c/fixtures.h"
#include "../c/checkpoint_files.h"

static int write_seed(const char *dir, const char *name, const void *a, size_t alen,
                      const void *b, size_t blen, int sep)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(a, 1, alen, f);
    if (sep)
        fputc(0, f);
    if (blen)
        fwrite(b, 1, blen, f);
    return fclose(f) == 0;
}

/* One model seed: MANIFEST NUL WEIGHTS, the manifest compact or as saved. */
static int model_seed(const char *dir, const char *tmp, const char *name, unr_arch a,
                      int compact, int metadata)
{
    unr_model *m;
    unr_error err;
    if (unr_model_init_random(&a, 1, &m, &err)) {
        fprintf(stderr, "make_seeds: %s\n", err.message);
        return 0;
    }
    if (metadata)
        unr_model_set_metadata(m, "{\"test_error\": 0.08}", "{\"epochs\": 1}", &err);
    char base[512], path[600];
    snprintf(base, sizeof base, "%s/%s", tmp, name);
    int ok = unr_model_save(m, base, &err) == UNR_OK;
    unr_model_free(m);
    size_t jlen = 0, blen = 0;
    snprintf(path, sizeof path, "%s.json", base);
    char *json = ok ? read_all(path, &jlen) : NULL;
    remove(path);
    snprintf(path, sizeof path, "%s.bin", base);
    void *bin = ok ? read_all(path, &blen) : NULL;
    remove(path);
    if (json && bin && compact) {
        cJSON *root = cJSON_Parse(json);
        char *text = root ? cJSON_PrintUnformatted(root) : NULL;
        cJSON_Delete(root);
        free(json);
        json = text ? strdup(text) : NULL;
        cJSON_free(text);
        jlen = json ? strlen(json) : 0;
    }
    /* A seed that does not load would only teach the fuzzer refusals. */
    unr_model *back = NULL;
    if (json && bin && unr_model_load(json, jlen, bin, blen, name, &back, &err) != UNR_OK) {
        fprintf(stderr, "make_seeds: %s\n", err.message);
        json = (free(json), NULL);
    }
    unr_model_free(back);
    ok = json && bin && write_seed(dir, name, json, jlen, bin, blen, 1);
    free(json);
    free(bin);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    char dir[900], tmp[900];
    const char *sub[] = {"model", "cifar", "plan", "checkpoint"};
    mkdir(argv[1], 0755);
    for (int i = 0; i < 4; i++) {
        snprintf(dir, sizeof dir, "%s/%s", argv[1], sub[i]);
        mkdir(dir, 0755);
    }
    snprintf(tmp, sizeof tmp, "%s/tmp", argv[1]);
    mkdir(tmp, 0755);

    snprintf(dir, sizeof dir, "%s/model", argv[1]);
    /* n, widths, shortcut; the last has four stages of 1/2/1/1 blocks. */
    const unr_arch a1 = {.blocks_per_stage = 1, .widths = {2, 2, 2}, .shortcut = UNR_SHORTCUT_A,
                         .num_classes = 10, .bn_eps = 1e-5f};
    const unr_arch a2 = {.blocks_per_stage = 1, .widths = {1, 3, 5}, .shortcut = UNR_SHORTCUT_A,
                         .num_classes = 10, .bn_eps = 1e-5f};
    const unr_arch b1 = {.blocks_per_stage = 1, .widths = {1, 3, 2}, .shortcut = UNR_SHORTCUT_B,
                         .num_classes = 10, .bn_eps = 1e-5f};
    const unr_arch plain = {.blocks_per_stage = 2, .widths = {2, 1, 3}, .shortcut = UNR_SHORTCUT_NONE,
                            .num_classes = 10, .bn_eps = 1e-3f};
    const unr_arch four = {.num_stages = 4, .stage_blocks = {1, 2, 1, 1}, .widths = {2, 2, 4, 4},
                           .shortcut = UNR_SHORTCUT_B, .num_classes = 10, .bn_eps = 1e-5f};
    int ok = model_seed(dir, tmp, "a-n1-2-2-2", a1, 0, 0) &&
             model_seed(dir, tmp, "a-n1-1-3-5", a2, 1, 1) &&
             model_seed(dir, tmp, "b-n1-1-3-2", b1, 1, 0) &&
             model_seed(dir, tmp, "none-n2-2-1-3", plain, 1, 0) &&
             model_seed(dir, tmp, "b-4stages-1-2-1-1", four, 1, 0);
    rmdir(tmp);

    /* CIFAR: one record, three records, and one with a bad label. */
    snprintf(dir, sizeof dir, "%s/cifar", argv[1]);
    enum { R = UNR_CIFAR_RECORD_BYTES };
    uint8_t *rec = malloc(3 * R);
    for (int i = 0; i < 3 * R; i++)
        rec[i] = (uint8_t)(i * 131 + 7);
    rec[0] = 3, rec[R] = 9, rec[2 * R] = 0;
    ok = ok && write_seed(dir, "one", rec, R, NULL, 0, 0) &&
         write_seed(dir, "three", rec, 3 * R, NULL, 0, 0);
    rec[R] = 10;
    ok = ok && write_seed(dir, "bad-label", rec, 2 * R, NULL, 0, 0);
    free(rec);

    /* Plans for a 9-block plain model (3 and 6 downsample). */
    snprintf(dir, sizeof dir, "%s/plan", argv[1]);
    static const char *const plans[][2] = {
        {"3,7", "0,2,1,3,5,4,6,8,7"}, {" 1 , 2", ""}, {"", "0,1,2,3,4,5,6,7,8"},
        {"3", "8,7,6,5,4,3,2,1,0"}, {"-1,99999999999", "0,,1"},
    };
    for (int i = 0; ok && i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "plan%d", i);
        ok = write_seed(dir, name, plans[i][0], strlen(plans[i][0]), plans[i][1],
                        strlen(plans[i][1]), 1);
    }
    /* Checkpoints of tiny models in every format, nesting and layout
     * (tests/c/checkpoint_files.h writes them as PyTorch does). */
    snprintf(dir, sizeof dir, "%s/checkpoint", argv[1]);
    const unr_arch pre = {.blocks_per_stage = 1, .widths = {2, 2, 4}, .stem_width = 2,
                          .shortcut = UNR_SHORTCUT_B, .num_classes = 10, .bn_eps = 1e-5f,
                          .preactivation = 1, .head_bn = 1};
    const unr_arch *archs[3] = {&a1, &b1, &pre};
    static const char *const formats[3] = {"zip", "legacy", "safetensors"};
    for (int i = 0; ok && i < 3; i++) {
        unr_model *m;
        unr_error err;
        if (unr_model_init_random(archs[i], 1, &m, &err)) {
            ok = 0;
            break;
        }
        tdict *d = calloc(1, sizeof *d);
        tdict_from_model(d, m);
        unr_model_free(m);
        for (int f = 0; ok && f < 3; f++) {
            buf b = {0};
            write_checkpoint(&b, d, (file_format)f, f == 1 ? "state_dict" : NULL, i == 1 ? "module." : NULL);
            char name[64];
            snprintf(name, sizeof name, "%s-%d", formats[f], i);
            ok = write_seed(dir, name, b.b, b.n, NULL, 0, 0);
            free(b.b);
        }
        tdict_free(d);
        free(d);
    }
    if (!ok)
        fprintf(stderr, "make_seeds: failed to write the seeds under %s\n", argv[1]);
    return ok ? 0 : 1;
}
