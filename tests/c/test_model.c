/* test_model.c: the model loader refuses every kind of broken model file
 * with the right status and a message naming the field or tensor; a saved
 * model loads back bit for bit; parameter and multiply-add counts match
 * independent counts; fuzz regression inputs replay without crashing. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "cJSON.h"
#include "internal.h"
#include "testing.h"
#define FIXTURES_TEMP_NAME "unr_test_model"
#include "fixtures.h"
#include "../fuzz/fuzz_inputs.h"

/* ---- fixtures: a tiny saved model as bytes ---- */

/* The tiny model every loader test mutates: A, n = 1, widths 4, 8, 16. */
static int tiny_bytes(model_bytes *out)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_A, 1, 4, 8, 16);
    unr_model *m;
    unr_error err;
    if (unr_model_init_random(&a, 7, &m, &err))
        return 0;
    int ok = save_bytes(m, "tiny", out);
    unr_model_free(m);
    return ok;
}

/* ---- expecting a refusal ---- */

/* Load (json, bin); 1 if it fails with `want` and a message containing
 * every one of up to two fragments. Prints what happened otherwise. */
static int refuses(const char *json, size_t json_len, const void *bin, size_t bin_len,
                   unr_status want, const char *frag1, const char *frag2)
{
    unr_model *m = (unr_model *)0x1;
    unr_error err = {UNR_OK, ""};
    unr_status st = unr_model_load(json, json_len, bin, bin_len, "tiny.json", &m, &err);
    int ok = st == want && m == NULL && err.status == want && strstr(err.message, "tiny.json") &&
             (!frag1 || strstr(err.message, frag1)) && (!frag2 || strstr(err.message, frag2));
    if (!ok)
        fprintf(stderr, "  expected %s with \"%s\" \"%s\", got %s: %s\n", unr_status_name(want),
                frag1 ? frag1 : "", frag2 ? frag2 : "", unr_status_name(st), err.message);
    if (st == UNR_OK && m != (unr_model *)0x1)
        unr_model_free(m);
    return ok;
}

/* Print a mutated manifest and expect it refused with the original weights. */
static int refuses_json(cJSON *root, const model_bytes *b, unr_status want, const char *frag1,
                        const char *frag2)
{
    char *text = cJSON_PrintUnformatted(root);
    int ok = text && refuses(text, strlen(text), b->bin, b->bin_len, want, frag1, frag2);
    cJSON_free(text);
    return ok;
}

static cJSON *tensor_entry(cJSON *root, const char *name)
{
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "tensors"))
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0)
            return e;
    return NULL;
}

static long tensor_offset(cJSON *root, const char *name)
{
    cJSON *e = tensor_entry(root, name);
    return e ? (long)cJSON_GetObjectItem(e, "offset")->valuedouble : -1;
}

/* Make the manifest's weights.bytes and sha256 describe bin. */
static void restamp(cJSON *root, const unsigned char *bin, size_t len)
{
    char hex[65];
    unr_sha256_hex(bin, len, hex);
    cJSON *w = cJSON_GetObjectItem(root, "weights");
    cJSON_ReplaceItemInObject(w, "sha256", cJSON_CreateString(hex));
    cJSON_ReplaceItemInObject(w, "bytes", cJSON_CreateNumber((double)len));
}

/* Runs body with root = a fresh parse of the tiny manifest and b its bytes. */
#define WITH_TINY(b, root)                                                             \
    model_bytes b;                                                                     \
    CHECK(tiny_bytes(&b));                                                             \
    cJSON *root = cJSON_Parse(b.json);                                                 \
    CHECK(root != NULL)

#define END_TINY(b, root)                                                              \
    cJSON_Delete(root);                                                                \
    free_bytes(&b)

/* ---- the valid fixture loads ---- */

static void tiny_fixture_loads(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_load(b.json, b.json_len, b.bin, b.bin_len, "tiny.json", &m, &err), err);
    CHECK(unr_model_num_blocks(m) == 3);
    CHECK(strcmp(unr_model_name(m), "tiny") == 0);
    unr_model_free(m);
    free_bytes(&b);
}

/* ---- malformed and missing ---- */

static void loader_rejects_malformed_json(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    const char *bad[] = {"", "{", "{\"format\": }", "not json", "{\"a\":1,}", "[1, 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(refuses(bad[i], strlen(bad[i]), b.bin, b.bin_len, UNR_ERR_PARSE, "malformed JSON",
                      NULL));
    /* Valid JSON, but not an object. */
    CHECK(refuses("[1,2,3]", 7, b.bin, b.bin_len, UNR_ERR_PARSE, "object", NULL));
    CHECK(refuses("\"x\"", 3, b.bin, b.bin_len, UNR_ERR_PARSE, "object", NULL));
    free_bytes(&b);
}

static void loader_rejects_truncated_json(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    /* Every cut of the manifest, a few bytes apart, is malformed. */
    for (size_t cut = 0; cut + 2 < b.json_len; cut += 97)
        CHECK(refuses(b.json, cut, b.bin, b.bin_len, UNR_ERR_PARSE, "malformed JSON", NULL));
    /* The length is honoured even when the text goes on. */
    CHECK(refuses(b.json, b.json_len / 2, b.bin, b.bin_len, UNR_ERR_PARSE, NULL, NULL));
    free_bytes(&b);
}

static void loader_rejects_trailing_garbage(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    char *text = malloc(b.json_len + 8);
    memcpy(text, b.json, b.json_len);
    memcpy(text + b.json_len, "}}garb", 6);
    int ok = refuses(text, b.json_len + 6, b.bin, b.bin_len, UNR_ERR_PARSE, NULL, NULL);
    free(text);
    CHECK(ok);
    free_bytes(&b);
}

static void loader_names_each_missing_field(void)
{
    static const struct { const char *object, *key, *frag; } cases[] = {
        {NULL, "format", "format"},
        {NULL, "version", "version"},
        {NULL, "arch", "arch"},
        {"arch", "widths", "arch.widths"},
        {"arch", "blocks_per_stage", "arch.blocks_per_stage"},
        {"arch", "shortcut", "arch.shortcut"},
        {"arch", "num_classes", "arch.num_classes"},
        {"arch", "family", "arch.family"},
        {NULL, "input", "input"},
        {"input", "mean", "input.mean"},
        {"input", "std", "input.std"},
        {NULL, "weights", "weights"},
        {"weights", "sha256", "weights.sha256"},
        {"weights", "bytes", "weights.bytes"},
        {NULL, "tensors", "tensors"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WITH_TINY(b, root);
        cJSON *obj = cases[i].object ? cJSON_GetObjectItem(root, cases[i].object) : root;
        CHECK(obj != NULL);
        cJSON_DeleteItemFromObject(obj, cases[i].key);
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, cases[i].frag, "missing");
        if (!ok)
            fprintf(stderr, "  (removed %s)\n", cases[i].frag);
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_names_a_tensor_missing_its_offset(void)
{
    static const char *const keys[] = {"offset", "length", "name", "shape"};
    for (int k = 0; k < 4; k++) {
        WITH_TINY(b, root);
        cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "tensors"), 3);
        cJSON_DeleteItemFromObject(e, keys[k]);
        char frag[64];
        snprintf(frag, sizeof frag, "tensors[3]%s%s", k == 3 ? "" : ".", k == 3 ? "" : keys[k]);
        unr_status want = k == 3 ? UNR_ERR_SHAPE : UNR_ERR_FIELD;
        int ok = refuses_json(root, &b, want, frag, k == 3 ? "missing" : NULL);
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_fields_of_the_wrong_type(void)
{
    static const struct { const char *object, *key, *json, *frag; unr_status want; } cases[] = {
        {NULL, "format", "7", "format", UNR_ERR_FIELD},
        {NULL, "version", "\"1\"", "version", UNR_ERR_FIELD},
        {NULL, "version", "1.5", "version", UNR_ERR_FIELD},
        {NULL, "arch", "[]", "arch", UNR_ERR_FIELD},
        {"arch", "widths", "[]", "arch.widths", UNR_ERR_FIELD},
        {"arch", "widths", "{}", "arch.widths", UNR_ERR_FIELD},
        {"arch", "widths", "[4, 8, 16, 32, 64]", "arch.widths", UNR_ERR_FIELD},
        {"arch", "widths", "[4, 8.5, 16]", "arch.widths[1]", UNR_ERR_FIELD},
        {"arch", "widths", "[4, \"8\", 16]", "arch.widths[1]", UNR_ERR_FIELD},
        {"arch", "widths", "[0, 8, 16]", "arch.widths[0]", UNR_ERR_RANGE},
        {"arch", "blocks_per_stage", "0", "arch.blocks_per_stage", UNR_ERR_RANGE},
        {"arch", "blocks_per_stage", "-3", "arch.blocks_per_stage", UNR_ERR_RANGE},
        {"arch", "blocks_per_stage", "true", "arch.blocks_per_stage", UNR_ERR_FIELD},
        {"arch", "blocks_per_stage", "[1, 1]", "arch.blocks_per_stage", UNR_ERR_FIELD},
        {"arch", "blocks_per_stage", "[1, 0, 1]", "arch.blocks_per_stage[1]", UNR_ERR_RANGE},
        {"arch", "blocks_per_stage", "[1, 1.5, 1]", "arch.blocks_per_stage[1]", UNR_ERR_FIELD},
        {"arch", "blocks_per_stage", "[1, 1, 401]", "arch.blocks_per_stage[2]", UNR_ERR_RANGE},
        {"arch", "shortcut", "\"C\"", "arch.shortcut", UNR_ERR_FIELD},
        {"arch", "preactivation", "1", "arch.preactivation", UNR_ERR_FIELD},
        {"arch", "head_bn", "\"yes\"", "arch.head_bn", UNR_ERR_FIELD},
        {"arch", "head_bn", "true", "arch.head_bn", UNR_ERR_FIELD},    /* on a post-activation net */
        {"arch", "stem_width", "0", "arch.stem_width", UNR_ERR_RANGE},
        {"arch", "stem_width", "2.5", "arch.stem_width", UNR_ERR_FIELD},
        {"arch", "family", "\"vgg\"", "arch.family", UNR_ERR_FIELD},
        {"arch", "bn_eps", "-1", "arch.bn_eps", UNR_ERR_FIELD},
        {"arch", "bn_eps", "\"small\"", "arch.bn_eps", UNR_ERR_FIELD},
        {"input", "mean", "[0.5, 0.5]", "input.mean", UNR_ERR_FIELD},
        {"input", "mean", "[0.5, \"x\", 0.5]", "input.mean[1]", UNR_ERR_FIELD},
        {"input", "std", "[0.5, 0, 0.5]", "input.std[1]", UNR_ERR_FIELD},
        {"input", "std", "[0.5, -1, 0.5]", "input.std[1]", UNR_ERR_FIELD},
        {NULL, "weights", "\"w.bin\"", "weights", UNR_ERR_FIELD},
        {"weights", "sha256", "\"abc\"", "weights.sha256", UNR_ERR_FIELD},
        {"weights", "bytes", "-1", "weights.bytes", UNR_ERR_RANGE},
        {NULL, "tensors", "{}", "tensors", UNR_ERR_FIELD},
        {NULL, "metrics", "[]", "metrics", UNR_ERR_FIELD},
        {NULL, "training", "3", "training", UNR_ERR_FIELD},
        {NULL, "license", "[\"MIT\"]", "license", UNR_ERR_FIELD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WITH_TINY(b, root);
        cJSON *obj = cases[i].object ? cJSON_GetObjectItem(root, cases[i].object) : root;
        CHECK(obj != NULL);
        cJSON *v = cJSON_Parse(cases[i].json);
        CHECK(v != NULL);
        cJSON_DeleteItemFromObject(obj, cases[i].key);
        cJSON_AddItemToObject(obj, cases[i].key, v);
        int ok = refuses_json(root, &b, cases[i].want, cases[i].frag, NULL);
        if (!ok)
            fprintf(stderr, "  (set %s to %s)\n", cases[i].frag, cases[i].json);
        END_TINY(b, root);
        CHECK(ok);
    }
}

/* A tensor list entry that is not an object is named, not dereferenced. */
static void loader_rejects_a_tensor_entry_that_is_not_an_object(void)
{
    WITH_TINY(b, root);
    /* Appended, not inserted: this cJSON's InsertItemInArray refuses fresh
     * items. Every real tensor comes first, so the entry is reached. */
    cJSON *list = cJSON_GetObjectItem(root, "tensors");
    char frag[32];
    snprintf(frag, sizeof frag, "tensors[%d]", cJSON_GetArraySize(list));
    cJSON_AddItemToArray(list, cJSON_CreateNumber(1));
    int ok = refuses_json(root, &b, UNR_ERR_FIELD, frag, "object");
    END_TINY(b, root);
    CHECK(ok);
}

/* ---- format and version ---- */

static void loader_rejects_unknown_format_version(void)
{
    static const double versions[] = {0, 2, 99, 1e12};
    for (int i = 0; i < 4; i++) {
        WITH_TINY(b, root);
        cJSON_ReplaceItemInObject(root, "version", cJSON_CreateNumber(versions[i]));
        int ok = refuses_json(root, &b, versions[i] > 1e9 ? UNR_ERR_RANGE : UNR_ERR_FIELD,
                              "version", NULL);
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_wrong_format_string(void)
{
    static const char *const formats[] = {"unravel-modle", "", "UNRAVEL-MODEL", "unravel-model "};
    for (int i = 0; i < 4; i++) {
        WITH_TINY(b, root);
        cJSON_ReplaceItemInObject(root, "format", cJSON_CreateString(formats[i]));
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, "format", "unravel-model");
        END_TINY(b, root);
        CHECK(ok);
    }
}

/* ---- tensors against the architecture ---- */

static void loader_rejects_shape_that_does_not_match_the_architecture(void)
{
    static const char *const shapes[] = {"[4, 4, 3, 3]", "[4, 4, 3]", "[4, 4, 3, 3, 1]",
                                         "[8, 4, 3, 3]", "[4, 4, 1, 1]", "\"4x4x3x3\"",
                                         "[4, 4, 3, 3.5]"};
    for (int i = 0; i < 7; i++) {
        WITH_TINY(b, root);
        cJSON *e = tensor_entry(root, "blocks.0.conv1.weight");
        CHECK(e != NULL);
        /* [4,4,3,3] is right for conv1; make the change land on conv2 of
         * block 1 (8 -> 8 channels, needs [8,8,3,3]). */
        e = tensor_entry(root, "blocks.1.conv2.weight");
        CHECK(e != NULL);
        cJSON_ReplaceItemInObject(e, "shape", cJSON_Parse(shapes[i]));
        int ok = refuses_json(root, &b, UNR_ERR_SHAPE, "blocks.1.conv2.weight", "[8,8,3,3]");
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_shape_changed_consistently_with_length(void)
{
    /* Shape and length both say 16 channels for a 4-channel stem bn. */
    WITH_TINY(b, root);
    cJSON *e = tensor_entry(root, "stem.bn.weight");
    cJSON_ReplaceItemInObject(e, "shape", cJSON_Parse("[16]"));
    cJSON_ReplaceItemInObject(e, "length", cJSON_CreateNumber(64));
    int ok = refuses_json(root, &b, UNR_ERR_SHAPE, "stem.bn.weight", NULL);
    END_TINY(b, root);
    CHECK(ok);
}

static void loader_rejects_length_that_disagrees_with_shape(void)
{
    WITH_TINY(b, root);
    cJSON *e = tensor_entry(root, "fc.weight");
    cJSON_ReplaceItemInObject(e, "length", cJSON_CreateNumber(640 - 4));
    int ok = refuses_json(root, &b, UNR_ERR_SHAPE, "fc.weight", "length");
    END_TINY(b, root);
    CHECK(ok);
}

static void loader_rejects_tensor_past_the_end_of_the_weights(void)
{
    /* offset, then the expected status: past the end by any amount. */
    model_bytes probe;
    CHECK(tiny_bytes(&probe));
    double len = (double)probe.bin_len;
    free_bytes(&probe);
    const double offsets[] = {len, len - 4, len - 36, len + 64, 1e15, 4.0 * ((1LL << 48) - 1)};
    for (int i = 0; i < 6; i++) {
        WITH_TINY(b, root);
        cJSON *e = tensor_entry(root, "fc.bias");   /* 40 bytes */
        cJSON_ReplaceItemInObject(e, "offset", cJSON_CreateNumber(offsets[i]));
        int ok = refuses_json(root, &b, UNR_ERR_RANGE, "fc.bias", "past the end");
        if (!ok)
            fprintf(stderr, "  (offset %.17g of %zu)\n", offsets[i], b.bin_len);
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_bad_offsets(void)
{
    static const struct { double offset; unr_status want; const char *frag; } cases[] = {
        {-64, UNR_ERR_RANGE, "tensors[0].offset"},
        {2, UNR_ERR_RANGE, "multiple of 4"},
        {1.5, UNR_ERR_FIELD, "integer"},
        {1e300, UNR_ERR_RANGE, "tensors[0].offset"},
    };
    for (int i = 0; i < 4; i++) {
        WITH_TINY(b, root);
        cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "tensors"), 0);
        cJSON_ReplaceItemInObject(e, "offset", cJSON_CreateNumber(cases[i].offset));
        int ok = refuses_json(root, &b, cases[i].want, cases[i].frag, NULL);
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_truncated_weights(void)
{
    WITH_TINY(b, root);
    /* Manifest unchanged: the size check names weights.bytes. */
    CHECK(refuses(b.json, b.json_len, b.bin, b.bin_len - 64, UNR_ERR_RANGE, "weights.bytes", NULL));
    CHECK(refuses(b.json, b.json_len, b.bin, 0, UNR_ERR_RANGE, "weights.bytes", NULL));
    CHECK(refuses(b.json, b.json_len, b.bin, b.bin_len - 1, UNR_ERR_RANGE, "weights.bytes", NULL));
    /* Manifest restamped for the shorter file: now the last tensor is past
     * the end, and is named. */
    restamp(root, b.bin, b.bin_len - 8);
    char *text = cJSON_PrintUnformatted(root);
    int ok = refuses(text, strlen(text), b.bin, b.bin_len - 8, UNR_ERR_RANGE, "fc.bias",
                     "past the end");
    cJSON_free(text);
    END_TINY(b, root);
    CHECK(ok);
}

static void loader_rejects_weights_with_extra_bytes(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    unsigned char *longer = calloc(b.bin_len + 64, 1);
    memcpy(longer, b.bin, b.bin_len);
    int ok = refuses(b.json, b.json_len, longer, b.bin_len + 64, UNR_ERR_RANGE, "weights.bytes",
                     NULL);
    free(longer);
    free_bytes(&b);
    CHECK(ok);
}

static void loader_rejects_sha256_mismatch(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    /* Flip one bit anywhere, including padding between tensors and the
     * last byte: the size stays right, the hash does not. */
    const size_t at[] = {0, 1, 63, b.bin_len / 2, b.bin_len - 1};
    for (int i = 0; i < 5; i++) {
        b.bin[at[i]] ^= 0x10;
        int ok = refuses(b.json, b.json_len, b.bin, b.bin_len, UNR_ERR_CHECKSUM, "weights.sha256",
                         NULL);
        b.bin[at[i]] ^= 0x10;
        CHECK(ok);
    }
    free_bytes(&b);
}

static void loader_accepts_an_upper_case_sha256(void)
{
    WITH_TINY(b, root);
    cJSON *w = cJSON_GetObjectItem(root, "weights");
    char hex[65];
    snprintf(hex, sizeof hex, "%s", cJSON_GetObjectItem(w, "sha256")->valuestring);
    for (int i = 0; hex[i]; i++)
        if (hex[i] >= 'a' && hex[i] <= 'f')
            hex[i] = (char)(hex[i] - 'a' + 'A');
    cJSON_ReplaceItemInObject(w, "sha256", cJSON_CreateString(hex));
    char *text = cJSON_PrintUnformatted(root);
    unr_model *m = NULL;
    unr_error err;
    unr_status st = unr_model_load(text, strlen(text), b.bin, b.bin_len, "t", &m, &err);
    cJSON_free(text);
    unr_model_free(m);
    END_TINY(b, root);
    CHECK(st == UNR_OK);
}

/* Write value into element j of the named tensor (file layout), restamp
 * the hash, and expect `want` naming the tensor. */
static int refuses_value(const char *tensor, size_t j, float value, unr_status want,
                         const char *frag)
{
    model_bytes b;
    if (!tiny_bytes(&b))
        return 0;
    cJSON *root = cJSON_Parse(b.json);
    long off = tensor_offset(root, tensor);
    int ok = 0;
    if (off >= 0) {
        memcpy(b.bin + off + 4 * j, &value, 4);
        restamp(root, b.bin, b.bin_len);
        char *text = cJSON_PrintUnformatted(root);
        ok = refuses(text, strlen(text), b.bin, b.bin_len, want, tensor, frag);
        cJSON_free(text);
    }
    cJSON_Delete(root);
    free_bytes(&b);
    return ok;
}

static void loader_rejects_nan_weights(void)
{
    CHECK(refuses_value("stem.conv.weight", 0, NAN, UNR_ERR_NONFINITE, "non-finite"));
    CHECK(refuses_value("blocks.1.conv2.weight", 17, NAN, UNR_ERR_NONFINITE, "element 17"));
    CHECK(refuses_value("blocks.2.bn1.running_mean", 3, -NAN, UNR_ERR_NONFINITE, "non-finite"));
    CHECK(refuses_value("fc.bias", 9, NAN, UNR_ERR_NONFINITE, "element 9"));
    /* A NaN in running_var is non-finite, not merely "negative". */
    CHECK(refuses_value("blocks.0.bn2.running_var", 1, NAN, UNR_ERR_NONFINITE, "non-finite"));
}

static void loader_rejects_inf_weights(void)
{
    CHECK(refuses_value("stem.bn.weight", 2, INFINITY, UNR_ERR_NONFINITE, "non-finite"));
    CHECK(refuses_value("fc.weight", 159, -INFINITY, UNR_ERR_NONFINITE, "element 159"));
    CHECK(refuses_value("blocks.0.bn2.running_var", 0, INFINITY, UNR_ERR_NONFINITE, NULL));
}

static void loader_rejects_negative_running_var(void)
{
    CHECK(refuses_value("blocks.1.bn1.running_var", 5, -0.25f, UNR_ERR_FIELD, "negative variance"));
    CHECK(refuses_value("stem.bn.running_var", 0, -1e-30f, UNR_ERR_FIELD, "running_var"));
}

static void loader_accepts_zero_running_var_and_negative_gamma(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    cJSON *root = cJSON_Parse(b.json);
    float zero = 0.0f, neg = -2.0f;
    memcpy(b.bin + tensor_offset(root, "blocks.1.bn1.running_var") + 4, &zero, 4);
    memcpy(b.bin + tensor_offset(root, "blocks.1.bn1.weight") + 4, &neg, 4);
    restamp(root, b.bin, b.bin_len);
    char *text = cJSON_PrintUnformatted(root);
    unr_model *m = NULL;
    unr_error err;
    unr_status st = unr_model_load(text, strlen(text), b.bin, b.bin_len, "t", &m, &err);
    cJSON_free(text);
    cJSON_Delete(root);
    free_bytes(&b);
    CHECK(st == UNR_OK);
    /* Folding divided by sqrt(0 + eps), not by zero. */
    const unr_fconv *c1 = &m->fb[1].c1;
    size_t taps = (size_t)c1->k * c1->k * c1->ci;
    for (size_t i = 0; i < taps * c1->co; i++)
        CHECK(isfinite(c1->w[i]));
    unr_model_free(m);
}

/* ---- sizes refused before allocation ---- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void loader_refuses_absurd_sizes_before_allocating(void)
{
    static const struct { const char *key, *json, *frag; } cases[] = {
        {"blocks_per_stage", "1e9", "arch.blocks_per_stage"},
        {"blocks_per_stage", "401", "arch.blocks_per_stage"},
        {"blocks_per_stage", "1e300", "arch.blocks_per_stage"},
        {"widths", "[1e9, 1e9, 1e9]", "arch.widths[0]"},
        {"widths", "[4, 8, 1025]", "arch.widths[2]"},
        {"widths", "[4, 8, 2147483648]", "arch.widths[2]"},
    };
    for (int i = 0; i < 6; i++) {
        WITH_TINY(b, root);
        cJSON *arch = cJSON_GetObjectItem(root, "arch");
        cJSON_ReplaceItemInObject(arch, cases[i].key, cJSON_Parse(cases[i].json));
        double t0 = seconds();
        int ok = refuses_json(root, &b, UNR_ERR_RANGE, cases[i].frag, NULL);
        double dt = seconds() - t0;
        END_TINY(b, root);
        CHECK(ok);
        CHECK(dt < 0.5);
    }
    /* Each limit alone is allowed, together they are far too many
     * parameters: refused by the count, quickly. */
    WITH_TINY(b, root);
    cJSON *arch = cJSON_GetObjectItem(root, "arch");
    cJSON_ReplaceItemInObject(arch, "blocks_per_stage", cJSON_CreateNumber(400));
    cJSON_ReplaceItemInObject(arch, "widths", cJSON_Parse("[1024, 1024, 1024]"));
    double t0 = seconds();
    int ok = refuses_json(root, &b, UNR_ERR_RANGE, "parameters", NULL);
    double dt = seconds() - t0;
    END_TINY(b, root);
    CHECK(ok);
    CHECK(dt < 0.5);
}

static void arch_validate_refuses_absurd_sizes(void)
{
    unr_error err;
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 1000000000, 16, 32, 64);
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "blocks_per_stage"));
    a = tiny_arch(UNR_SHORTCUT_B, 1, 1000000000, 32, 64);
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "widths[0]"));
    a = tiny_arch(UNR_SHORTCUT_B, 400, 1024, 1024, 1024);
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_RANGE);
    a = tiny_arch(UNR_SHORTCUT_B, 1, -4, 32, 64);
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_RANGE);
    a = tiny_arch((unr_shortcut)7, 1, 4, 8, 16);
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_FIELD);
    unr_model *m = (unr_model *)0x1;
    a = tiny_arch(UNR_SHORTCUT_A, 1000000000, 16, 32, 64);
    CHECK(unr_model_init_random(&a, 1, &m, &err) == UNR_ERR_RANGE);
    CHECK(m == NULL);
}

/* ---- tensor list ---- */

static void loader_rejects_duplicate_tensor(void)
{
    WITH_TINY(b, root);
    cJSON *list = cJSON_GetObjectItem(root, "tensors");
    cJSON_AddItemToArray(list, cJSON_Duplicate(cJSON_GetArrayItem(list, 4), 1));
    int ok = refuses_json(root, &b, UNR_ERR_FIELD, "stem.bn.running_var", "twice");
    END_TINY(b, root);
    CHECK(ok);
}

static void loader_rejects_unknown_tensor_name(void)
{
    static const char *const names[] = {"blocks.3.conv1.weight", "stem.conv.bias",
                                        "blocks.0.shortcut.conv.weight", "fc.weight ", ""};
    for (int i = 0; i < 5; i++) {
        WITH_TINY(b, root);
        cJSON *e = tensor_entry(root, "blocks.1.conv1.weight");
        cJSON_ReplaceItemInObject(e, "name", cJSON_CreateString(names[i]));
        char frag[64];
        snprintf(frag, sizeof frag, "\"%s\"", names[i]);
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, frag, "not a tensor");
        END_TINY(b, root);
        CHECK(ok);
    }
}

static void loader_rejects_missing_tensor(void)
{
    static const char *const names[] = {"stem.conv.weight", "blocks.2.bn2.running_mean",
                                        "fc.bias"};
    for (int i = 0; i < 3; i++) {
        WITH_TINY(b, root);
        cJSON *list = cJSON_GetObjectItem(root, "tensors");
        int at = 0;
        cJSON *e;
        cJSON_ArrayForEach(e, list) {
            if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, names[i]) == 0)
                break;
            at++;
        }
        cJSON_DeleteItemFromArray(list, at);
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, names[i], "missing");
        END_TINY(b, root);
        CHECK(ok);
    }
    WITH_TINY(b, root);
    cJSON_ReplaceItemInObject(root, "tensors", cJSON_CreateArray());
    int ok = refuses_json(root, &b, UNR_ERR_FIELD, "stem.conv.weight", "missing");
    END_TINY(b, root);
    CHECK(ok);
}

static void loader_accepts_tensors_in_any_order(void)
{
    WITH_TINY(b, root);
    cJSON *list = cJSON_DetachItemFromObject(root, "tensors");
    cJSON *rev = cJSON_CreateArray();
    while (cJSON_GetArraySize(list) > 0)
        cJSON_AddItemToArray(rev, cJSON_DetachItemFromArray(list, cJSON_GetArraySize(list) - 1));
    cJSON_Delete(list);
    cJSON_AddItemToObject(root, "tensors", rev);
    char *text = cJSON_PrintUnformatted(root);
    unr_model *m = NULL, *ref = NULL;
    unr_error err;
    unr_status st = unr_model_load(text, strlen(text), b.bin, b.bin_len, "t", &m, &err);
    unr_status st2 = unr_model_load(b.json, b.json_len, b.bin, b.bin_len, "t", &ref, &err);
    cJSON_free(text);
    END_TINY(b, root);
    CHECK(st == UNR_OK && st2 == UNR_OK);
    CHECK(m->num_params == ref->num_params);
    CHECK(memcmp(m->params, ref->params, m->num_params * 4) == 0);
    unr_model_free(m);
    unr_model_free(ref);
}

/* ---- architecture rules ---- */

static void loader_rejects_shortcut_a_with_odd_width_difference(void)
{
    static const char *const widths[] = {"[4, 7, 16]", "[4, 8, 15]", "[8, 4, 16]", "[4, 8, 6]"};
    static const char *const frags[] = {"arch.widths[1]", "arch.widths[2]", "arch.widths[1]",
                                        "arch.widths[2]"};
    for (int i = 0; i < 4; i++) {
        WITH_TINY(b, root);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "arch"), "widths",
                                  cJSON_Parse(widths[i]));
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, frags[i], "shortcut A");
        END_TINY(b, root);
        CHECK(ok);
    }
    /* The same widths are fine for B: the shapes are then what fails. */
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 1, 4, 7, 16);
    unr_error err;
    CHECK_OK(unr_arch_validate(&a, "x", &err), err);
    a.shortcut = UNR_SHORTCUT_A;
    CHECK(unr_arch_validate(&a, "x", &err) == UNR_ERR_FIELD);
}

static void loader_rejects_num_classes_other_than_10(void)
{
    static const double classes[] = {100, 9, 11, 1};
    for (int i = 0; i < 4; i++) {
        WITH_TINY(b, root);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "arch"), "num_classes",
                                  cJSON_CreateNumber(classes[i]));
        int ok = refuses_json(root, &b, UNR_ERR_FIELD, "arch.num_classes", "10");
        END_TINY(b, root);
        CHECK(ok);
    }
}

/* ---- round trips ---- */

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void round_trip_one(unr_shortcut sc, int w0, int w1, int w2, int *ok)
{
    *ok = 0;
    unr_arch a = tiny_arch(sc, 2, w0, w1, w2);
    unr_model *m, *back;
    unr_error err;
    if (unr_model_init_random(&a, 99, &m, &err))
        return;
    /* Give every tensor distinct, non-trivial values (BN too). */
    unr_rng rng;
    unr_rng_seed(&rng, 5);
    for (size_t i = 0; i < m->num_params; i++)
        m->params[i] = (float)unr_rng_uniform(&rng) + 0.01f;
    unr_model_refold(m);
    CHECK_OK(unr_model_set_metadata(m, "{\"test_error\": 0.5}", "{\"epochs\": 3}", &err), err);
    char base[256];
    snprintf(base, sizeof base, "%s/rt_%s_%d", temp_dir(), unr_shortcut_name(sc), w1);
    CHECK_OK(unr_model_save(m, base, &err), err);
    char json[300];
    snprintf(json, sizeof json, "%s.json", base);
    if (unr_model_load_file(json, &back, &err)) {
        fprintf(stderr, "  %s\n", err.message);
        unr_model_free(m);
        return;
    }
    int good = back->num_tensors == m->num_tensors && back->num_params == m->num_params &&
               memcmp(&back->arch, &m->arch, sizeof m->arch) == 0 &&
               memcmp(back->mean, m->mean, sizeof m->mean) == 0 &&
               memcmp(back->std, m->std, sizeof m->std) == 0;
    for (int t = 0; good && t < m->num_tensors; t++) {
        good = strcmp(back->tensors[t].name, m->tensors[t].name) == 0 &&
               back->tensors[t].count == m->tensors[t].count &&
               same_bits(back->tensors[t].data, m->tensors[t].data, m->tensors[t].count);
        if (!good)
            fprintf(stderr, "  tensor %s differs after a round trip\n", m->tensors[t].name);
    }
    good = good && back->metrics_json && strstr(back->metrics_json, "test_error") &&
           back->training_json && strstr(back->training_json, "epochs");

    /* Identical logits from the same kernels. */
    unr_runner *r1 = NULL, *r2 = NULL;
    unr_plan *p = unr_plan_create(m);
    uint8_t px[3 * UNR_IMAGE_BYTES];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)unr_rng_below(&rng, 256);
    float l1[30], l2[30];
    good = good && !unr_runner_create(m, 3, 1, UNR_ISA_AUTO, &r1, &err) &&
           !unr_runner_create(back, 3, 1, UNR_ISA_AUTO, &r2, &err) &&
           !unr_forward_pixels(r1, p, px, 3, l1, &err) &&
           !unr_forward_pixels(r2, p, px, 3, l2, &err) && same_bits(l1, l2, 30);
    unr_runner_free(r1);
    unr_runner_free(r2);
    unr_plan_free(p);
    unr_model_free(back);
    unr_model_free(m);
    *ok = good;
}

/* The weights' licence travels with the model: read, kept by save, bounded. */
static void licence_is_read_saved_and_bounded(void)
{
    unr_error err;
    unr_model *m = NULL, *back = NULL;
    unr_arch a = tiny_arch(UNR_SHORTCUT_A, 1, 4, 8, 16);
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK(unr_model_license(m) == NULL);
    CHECK_OK(unr_model_set_license(m, UNR_WEIGHTS_LICENSE, &err), err);
    char too_long[UNR_MAX_LICENSE + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = 0;
    CHECK(unr_model_set_license(m, too_long, &err) == UNR_ERR_FIELD && strstr(err.message, "license"));
    CHECK(strcmp(unr_model_license(m), UNR_WEIGHTS_LICENSE) == 0);
    char base[256], json[300];
    snprintf(base, sizeof base, "%s/licensed", temp_dir());
    CHECK_OK(unr_model_save(m, base, &err), err);
    snprintf(json, sizeof json, "%s.json", base);
    CHECK_OK(unr_model_load_file(json, &back, &err), err);
    CHECK(back && unr_model_license(back) && strcmp(unr_model_license(back), UNR_WEIGHTS_LICENSE) == 0);
    unr_model_free(back);
    unr_model_free(m);
}

/* unr_model_serialize is what unr_model_save writes, byte for byte, and
 * loads back from memory; name and weights_file are the manifest's. */
static void serialized_model_is_the_saved_files_and_loads_back(void)
{
    unr_error err;
    unr_model *m = NULL, *back = NULL;
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 1, 4, 8, 16);
    CHECK_OK(unr_model_init_random(&a, 7, &m, &err), err);
    CHECK_OK(unr_model_set_metadata(m, "{\"test_error\": 0.25}", NULL, &err), err);
    char base[256], path[300];
    snprintf(base, sizeof base, "%s/serial", temp_dir());
    CHECK_OK(unr_model_save(m, base, &err), err);
    char *text = NULL;
    void *bytes = NULL;
    size_t tl, bl, fl;
    CHECK_OK(unr_model_serialize(m, "serial", NULL, &text, &tl, &bytes, &bl, &err), err);
    snprintf(path, sizeof path, "%s.json", base);
    void *file = read_all(path, &fl);
    int same = file && fl == tl && memcmp(file, text, tl) == 0 && text[tl] == '\0' && text[tl - 1] == '\n';
    free(file);
    snprintf(path, sizeof path, "%s.bin", base);
    file = read_all(path, &fl);
    same = same && file && fl == bl && memcmp(file, bytes, bl) == 0;
    free(file);
    CHECK(same);
    CHECK_OK(unr_model_load(text, tl, bytes, bl, "memory", &back, &err), err);
    CHECK(back->num_params == m->num_params && memcmp(back->params, m->params, m->num_params * 4) == 0);
    CHECK(strcmp(unr_model_name(back), "serial") == 0);
    unr_model_free(back);
    free(text);
    free(bytes);
    /* another name and weights file; NULL name: the model's own */
    CHECK_OK(unr_model_serialize(m, "my net", "my-net.bin", &text, &tl, &bytes, &bl, &err), err);
    int named = strstr(text, "\"name\":\t\"my net\"") && strstr(text, "\"file\":\t\"my-net.bin\"");
    free(text);
    free(bytes);
    CHECK(named);
    CHECK_OK(unr_model_serialize(m, NULL, NULL, &text, &tl, &bytes, &bl, &err), err);
    char want[160];
    snprintf(want, sizeof want, "\"file\":\t\"%s.bin\"", unr_model_name(m));
    named = strstr(text, want) != NULL;
    free(text);
    free(bytes);
    CHECK(named);
    unr_model_free(m);
}

static void saved_model_loads_back_bit_exactly(void)
{
    int ok;
    round_trip_one(UNR_SHORTCUT_A, 4, 8, 16, &ok);
    CHECK(ok);
    round_trip_one(UNR_SHORTCUT_B, 3, 5, 7, &ok);
    CHECK(ok);
    round_trip_one(UNR_SHORTCUT_NONE, 5, 3, 6, &ok);
    CHECK(ok);
}

/* The file layout is PyTorch's (conv OIHW): element (o, i, y, x) of a conv
 * lands at ((o*ci + i)*k + y)*k + x in the file, whatever the memory layout. */
static void saved_convs_use_the_pytorch_layout(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 1, 3, 5, 7);
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 3, &m, &err), err);
    /* Internal HWIO: w[((y*k + x)*ci + i)*co + o]. Set stem (o=2,i=1,y=0,x=2). */
    unr_conv *c = &m->stem;
    c->w[((0 * 3 + 2) * c->ci + 1) * c->co + 2] = 123.0f;
    unr_conv *pj = &m->bp[1].proj;   /* 1x1, 3 -> 5 */
    CHECK(m->bp[1].has_proj && pj->k == 1 && pj->ci == 3 && pj->co == 5);
    pj->w[2 * pj->co + 4] = -77.0f;  /* (o=4, i=2) */
    model_bytes b;
    CHECK(save_bytes(m, "layout", &b));
    cJSON *root = cJSON_Parse(b.json);
    float v;
    memcpy(&v, b.bin + tensor_offset(root, "stem.conv.weight") + 4 * (((2 * 3 + 1) * 3 + 0) * 3 + 2), 4);
    CHECK(v == 123.0f);
    memcpy(&v, b.bin + tensor_offset(root, "blocks.1.shortcut.conv.weight") + 4 * (4 * 3 + 2), 4);
    CHECK(v == -77.0f);
    cJSON_Delete(root);
    free_bytes(&b);
    unr_model_free(m);
}

static void saved_tensors_are_64_byte_aligned_and_inside_the_file(void)
{
    model_bytes b;
    CHECK(tiny_bytes(&b));
    cJSON *root = cJSON_Parse(b.json);
    cJSON *w = cJSON_GetObjectItem(root, "weights");
    CHECK((size_t)cJSON_GetObjectItem(w, "bytes")->valuedouble == b.bin_len);
    CHECK(strcmp(cJSON_GetObjectItem(w, "file")->valuestring, "tiny.bin") == 0);
    char hex[65];
    unr_sha256_hex(b.bin, b.bin_len, hex);
    CHECK(strcmp(cJSON_GetObjectItem(w, "sha256")->valuestring, hex) == 0);
    cJSON *e;
    long prev_end = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "tensors")) {
        long off = (long)cJSON_GetObjectItem(e, "offset")->valuedouble;
        long len = (long)cJSON_GetObjectItem(e, "length")->valuedouble;
        CHECK(off % 64 == 0);
        CHECK(off >= prev_end);
        CHECK((size_t)(off + len) <= b.bin_len);
        prev_end = off + len;
    }
    CHECK((size_t)prev_end == b.bin_len);
    cJSON_Delete(root);
    free_bytes(&b);
}

/* ---- shortcut B ---- */

static void shortcut_b_models_have_projection_tensors(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 2, 4, 8, 16);
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    /* Blocks 2 and 4 downsample (stride 2); 0, 1, 3, 5 do not. */
    for (int blk = 0; blk < 6; blk++) {
        int want = blk == 2 || blk == 4;
        char name[64];
        snprintf(name, sizeof name, "blocks.%d.shortcut.conv.weight", blk);
        int found_conv = 0, found_bn = 0;
        for (int t = 0; t < m->num_tensors; t++) {
            if (strcmp(m->tensors[t].name, name) == 0) {
                found_conv = 1;
                CHECK(m->tensors[t].ndim == 4 && m->tensors[t].shape[0] == a.widths[blk / 2] &&
                      m->tensors[t].shape[1] == a.widths[blk / 2 - 1] &&
                      m->tensors[t].shape[2] == 1 && m->tensors[t].shape[3] == 1);
            }
            char bn[64];
            snprintf(bn, sizeof bn, "blocks.%d.shortcut.bn.running_var", blk);
            found_bn |= strcmp(m->tensors[t].name, bn) == 0;
        }
        CHECK(found_conv == want && found_bn == want);
        CHECK(m->bp[blk].has_proj == want);
    }
    /* A has none, and B widths that grow inside stage 1 need none either:
     * the stem already outputs widths[0]. */
    unr_model_free(m);
    a.shortcut = UNR_SHORTCUT_A;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    for (int t = 0; t < m->num_tensors; t++)
        CHECK(!strstr(m->tensors[t].name, "shortcut"));
    /* 2 + 6 blocks x 10 + fc 2 = 68 tensors for A; B adds 2 x 5. */
    CHECK(m->num_tensors == 5 + 6 * 10 + 2);
    unr_model_free(m);
    a.shortcut = UNR_SHORTCUT_B;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK(m->num_tensors == 5 + 6 * 10 + 2 * 5 + 2);
    unr_model_free(m);
}

/* ---- counts, computed independently ---- */

/* Trainable parameters of a CIFAR ResNet: convs, BN gamma+beta, fc. */
static long independent_trainable(int n, const int w[3], unr_shortcut sc)
{
    long p = 3L * 9 * w[0] + 2L * w[0];
    int cin = w[0];
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < n; i++) {
            p += 9L * cin * w[s] + 9L * w[s] * w[s] + 4L * w[s];
            if (sc == UNR_SHORTCUT_B && (s > 0 && i == 0))
                p += (long)cin * w[s] + 2L * w[s];
            cin = w[s];
        }
    return p + 10L * w[2] + 10;
}

/* Batch-norm channels (each has running mean and var). */
static long independent_bn_channels(int n, const int w[3], unr_shortcut sc)
{
    long c = w[0];
    for (int s = 0; s < 3; s++)
        c += 2L * n * w[s] + (sc == UNR_SHORTCUT_B && s > 0 ? w[s] : 0);
    return c;
}

static void resnet20_has_269722_trainable_parameters(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_A, 3, 16, 32, 64);
    CHECK(independent_trainable(3, a.widths, UNR_SHORTCUT_A) == 269722);  /* He et al.: 0.27M */
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    long stats = 2 * independent_bn_channels(3, a.widths, UNR_SHORTCUT_A);
    CHECK(stats == 1376);
    CHECK(unr_model_num_params(m) == (size_t)(269722 + 1376));
    CHECK(unr_arch_param_count(&a) == 269722 + 1376);
    unr_model_free(m);
    /* ResNet-56 (0.85M) and a few B and plain variants. */
    static const struct { int n, w0, w1, w2; unr_shortcut sc; } cases[] = {
        {9, 16, 32, 64, UNR_SHORTCUT_A}, {3, 16, 32, 64, UNR_SHORTCUT_B},
        {2, 3, 5, 7, UNR_SHORTCUT_B}, {1, 5, 3, 6, UNR_SHORTCUT_NONE},
    };
    for (int i = 0; i < 4; i++) {
        a = tiny_arch(cases[i].sc, cases[i].n, cases[i].w0, cases[i].w1, cases[i].w2);
        CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
        long want = independent_trainable(a.blocks_per_stage, a.widths, a.shortcut) +
                    2 * independent_bn_channels(a.blocks_per_stage, a.widths, a.shortcut);
        CHECK(unr_model_num_params(m) == (size_t)want);
        unr_model_free(m);
    }
    CHECK(independent_trainable(9, (int[]){16, 32, 64}, UNR_SHORTCUT_A) == 853018);
}

/* Multiply-adds per image, by direct count of output pixels x taps. */
static double independent_macs(int n, const int w[3], unr_shortcut sc)
{
    double macs = 32.0 * 32 * w[0] * 27;
    int cin = w[0], h = 32;
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < n; i++) {
            int down = s > 0 && i == 0;
            int ho = down ? h / 2 : h;
            macs += (double)ho * ho * w[s] * (9.0 * cin + 9.0 * w[s]);
            if (sc == UNR_SHORTCUT_B && down)
                macs += (double)ho * ho * w[s] * cin;
            h = ho;
            cin = w[s];
        }
    return macs + 10.0 * w[2];
}

static void resnet20_needs_40_55_million_multiply_adds(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_A, 3, 16, 32, 64);
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK_NEAR(independent_macs(3, a.widths, UNR_SHORTCUT_A), 40551040.0, 0.5);
    CHECK_NEAR(unr_model_macs(m), 40551040.0, 0.5);
    unr_model_free(m);
    a.blocks_per_stage = 9;   /* ResNet-56: 125.5M (DESIGN.md) */
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK_NEAR(unr_model_macs(m) / 1e6, 125.5, 0.05);
    CHECK_NEAR(unr_model_macs(m), independent_macs(9, a.widths, UNR_SHORTCUT_A), 0.5);
    unr_model_free(m);
    a = tiny_arch(UNR_SHORTCUT_B, 2, 3, 5, 7);
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK_NEAR(unr_model_macs(m), independent_macs(2, a.widths, UNR_SHORTCUT_B), 0.5);
    unr_model_free(m);
}

/* ---- blocks ---- */

static void block_table_describes_the_network(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_B, 2, 4, 8, 16);
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    static const int h_in[6] = {32, 32, 32, 16, 16, 8}, h_out[6] = {32, 32, 16, 16, 8, 8};
    static const int cin[6] = {4, 4, 4, 8, 8, 16}, cout[6] = {4, 4, 8, 8, 16, 16};
    for (int i = 0; i < 6; i++) {
        const unr_block_info *bi = unr_model_block(m, i);
        CHECK(bi && bi->stage == i / 2 && bi->index_in_stage == i % 2);
        CHECK(bi->h_in == h_in[i] && bi->h_out == h_out[i]);
        CHECK(bi->cin == cin[i] && bi->cout == cout[i]);
        CHECK(bi->downsample == (i == 2 || i == 4));
        CHECK(bi->stride == (bi->downsample ? 2 : 1));
    }
    CHECK(unr_model_block(m, -1) == NULL && unr_model_block(m, 6) == NULL);
    unr_model_free(m);
}

static void model_metadata_must_be_json_objects(void)
{
    unr_arch a = tiny_arch(UNR_SHORTCUT_A, 1, 4, 8, 16);
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    CHECK(unr_model_metrics_json(m) == NULL);
    CHECK(unr_model_set_metadata(m, "[1]", NULL, &err) == UNR_ERR_PARSE);
    CHECK(unr_model_set_metadata(m, NULL, "{", &err) == UNR_ERR_PARSE);
    CHECK_OK(unr_model_set_metadata(m, "{\"a\": 1}", NULL, &err), err);
    CHECK(strcmp(unr_model_metrics_json(m), "{\"a\":1}") == 0);
    unr_model_free(m);
}

static void load_file_reports_missing_files_and_unsafe_names(void)
{
    unr_model *m;
    unr_error err;
    CHECK(unr_model_load_file("/nonexistent/x.json", &m, &err) == UNR_ERR_IO);
    CHECK(strstr(err.message, "/nonexistent/x.json"));
    /* The weights file must sit beside the manifest. */
    char path[300];
    snprintf(path, sizeof path, "%s/evil.json", temp_dir());
    const char *texts[] = {"{\"weights\": {\"file\": \"../etc/passwd\"}}",
                           "{\"weights\": {\"file\": \"..\"}}", "{\"weights\": {}}"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(path, "w");
        CHECK(f);
        fputs(texts[i], f);
        fclose(f);
        CHECK(unr_model_load_file(path, &m, &err) == UNR_ERR_FIELD);
        CHECK(strstr(err.message, "weights.file"));
    }
    /* A manifest whose weights file is gone. */
    model_bytes b;
    CHECK(tiny_bytes(&b));
    free_bytes(&b);
    char bin[300];
    snprintf(bin, sizeof bin, "%s/tiny.bin", temp_dir());
    remove(bin);
    snprintf(path, sizeof path, "%s/tiny.json", temp_dir());
    CHECK(unr_model_load_file(path, &m, &err) == UNR_ERR_IO);
    CHECK(strstr(err.message, "tiny.bin"));
}

/* ---- fuzz regressions ---- */

/* Inputs the fuzzers once failed on (tests/fuzz/regressions/, named
 * model-*, cifar-*, plan-* or checkpoint-*), run through the same code as the fuzz
 * targets. Each must simply finish (under ASan/UBSan in make test-asan). */
static void fuzz_regressions_replay_without_crashing(void)
{
    const char *dir = "tests/fuzz/regressions";
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip %s: no %s\n", testing_current, dir);
        return;
    }
    struct dirent *de;
    int count = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        unsigned char *bytes = read_all(path, &len);
        if (!bytes)
            continue;
        if (strncmp(de->d_name, "model-", 6) == 0)
            fuzz_model_input(bytes, len), count++;
        else if (strncmp(de->d_name, "cifar-", 6) == 0)
            fuzz_cifar_input(bytes, len), count++;
        else if (strncmp(de->d_name, "plan-", 5) == 0)
            fuzz_plan_input(bytes, len), count++;
        else if (strncmp(de->d_name, "checkpoint-", 11) == 0)
            fuzz_checkpoint_input(bytes, len), count++;
        free(bytes);
    }
    closedir(d);
    printf("     replayed %d fuzz regression inputs\n", count);
}

TEST_MAIN(
    TEST_CASE(tiny_fixture_loads),
    TEST_CASE(loader_rejects_malformed_json),
    TEST_CASE(loader_rejects_truncated_json),
    TEST_CASE(loader_rejects_trailing_garbage),
    TEST_CASE(loader_names_each_missing_field),
    TEST_CASE(loader_names_a_tensor_missing_its_offset),
    TEST_CASE(loader_rejects_fields_of_the_wrong_type),
    TEST_CASE(loader_rejects_a_tensor_entry_that_is_not_an_object),
    TEST_CASE(loader_rejects_unknown_format_version),
    TEST_CASE(loader_rejects_wrong_format_string),
    TEST_CASE(loader_rejects_shape_that_does_not_match_the_architecture),
    TEST_CASE(loader_rejects_shape_changed_consistently_with_length),
    TEST_CASE(loader_rejects_length_that_disagrees_with_shape),
    TEST_CASE(loader_rejects_tensor_past_the_end_of_the_weights),
    TEST_CASE(loader_rejects_bad_offsets),
    TEST_CASE(loader_rejects_truncated_weights),
    TEST_CASE(loader_rejects_weights_with_extra_bytes),
    TEST_CASE(loader_rejects_sha256_mismatch),
    TEST_CASE(loader_accepts_an_upper_case_sha256),
    TEST_CASE(loader_rejects_nan_weights),
    TEST_CASE(loader_rejects_inf_weights),
    TEST_CASE(loader_rejects_negative_running_var),
    TEST_CASE(loader_accepts_zero_running_var_and_negative_gamma),
    TEST_CASE(loader_refuses_absurd_sizes_before_allocating),
    TEST_CASE(arch_validate_refuses_absurd_sizes),
    TEST_CASE(loader_rejects_duplicate_tensor),
    TEST_CASE(loader_rejects_unknown_tensor_name),
    TEST_CASE(loader_rejects_missing_tensor),
    TEST_CASE(loader_accepts_tensors_in_any_order),
    TEST_CASE(loader_rejects_shortcut_a_with_odd_width_difference),
    TEST_CASE(loader_rejects_num_classes_other_than_10),
    TEST_CASE(licence_is_read_saved_and_bounded),
    TEST_CASE(serialized_model_is_the_saved_files_and_loads_back),
    TEST_CASE(saved_model_loads_back_bit_exactly),
    TEST_CASE(saved_convs_use_the_pytorch_layout),
    TEST_CASE(saved_tensors_are_64_byte_aligned_and_inside_the_file),
    TEST_CASE(shortcut_b_models_have_projection_tensors),
    TEST_CASE(resnet20_has_269722_trainable_parameters),
    TEST_CASE(resnet20_needs_40_55_million_multiply_adds),
    TEST_CASE(block_table_describes_the_network),
    TEST_CASE(model_metadata_must_be_json_objects),
    TEST_CASE(load_file_reports_missing_files_and_unsafe_names),
    TEST_CASE(fuzz_regressions_replay_without_crashing))
