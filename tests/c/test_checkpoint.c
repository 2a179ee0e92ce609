/* test_checkpoint.c: the zip reader, the pickle reader and PyTorch
 * checkpoints imported without PyTorch (c/zip.c, c/pickle.c,
 * c/checkpoint.c), on small inputs written here byte by byte: valid
 * checkpoints in every format round-trip a model exactly, and each kind of
 * bad file gets its own clear error. tests/import-checkpoint.test.mjs does
 * the same with checkpoints written by PyTorch itself. */
#include <stdint.h>
#include "testing.h"
#include "unravel.h"
#include "internal.h"
#include "pickle.h"
#include "zip.h"
#include "checkpoint_files.h"

static unr_status import(const buf *b, const unr_import_options *opt, unr_model **m, unr_error *err)
{
    /* a copy of exactly the size, so ASan sees any over-read */
    unsigned char *copy = malloc(b->n ? b->n : 1);
    if (b->n)
        memcpy(copy, b->b, b->n);
    unr_status st = unr_model_import_checkpoint(copy, b->n, "test.th", opt, m, NULL, 0, err);
    free(copy);
    return st;
}

static const unr_arch arch_a = {.blocks_per_stage = 1, .widths = {4, 6, 8}, .shortcut = UNR_SHORTCUT_A,
                                .num_classes = 10, .bn_eps = 1e-5f};
static const unr_arch arch_b = {.num_stages = 4, .stage_blocks = {1, 2, 1, 1}, .widths = {2, 4, 4, 6},
                                .shortcut = UNR_SHORTCUT_B, .num_classes = 10, .bn_eps = 1e-5f};
static const unr_arch arch_pre = {.blocks_per_stage = 2, .widths = {4, 6, 8}, .stem_width = 2,
                                  .shortcut = UNR_SHORTCUT_B, .num_classes = 10, .bn_eps = 1e-5f,
                                  .preactivation = 1, .head_bn = 1};

/* m's parameters, written in format f and imported back, exactly. */
static int round_trips(const unr_arch *a, file_format f, const char *nest, const char *prefix,
                       const unr_import_options *opt)
{
    unr_model *m = NULL, *back = NULL;
    unr_error err;
    if (unr_model_init_random(a, 5, &m, &err))
        return 0;
    /* batch-norm statistics that are not the defaults, so nothing passes by chance */
    for (size_t i = 0; i < m->num_params; i++)
        if (m->params[i] == 1.0f || m->params[i] == 0.0f)
            m->params[i] = 0.5f + (float)(i % 7) * 0.1f;
    tdict d;
    tdict_from_model(&d, m);
    buf b = {0};
    write_checkpoint(&b, &d, f, nest, prefix);
    /* unravel's blocks.I names carry no stages: say them where not 3 equal ones */
    unr_import_options o = opt ? *opt : (unr_import_options){0};
    if (m->arch.num_stages != 3 || !m->arch.blocks_per_stage) {
        o.num_stages = m->arch.num_stages;
        memcpy(o.stage_blocks, m->arch.stage_blocks, sizeof o.stage_blocks);
    }
    int ok = import(&b, &o, &back, &err) == UNR_OK;
    if (!ok)
        fprintf(stderr, "     %s\n", err.message);
    ok = ok && back->num_params == m->num_params &&
         !memcmp(back->params, m->params, m->num_params * sizeof *m->params) &&
         back->arch.num_stages == m->arch.num_stages && back->arch.shortcut == m->arch.shortcut &&
         back->arch.preactivation == m->arch.preactivation && back->arch.head_bn == m->arch.head_bn &&
         back->arch.stem_width == m->arch.stem_width;
    for (int s = 0; ok && s < m->arch.num_stages; s++)
        ok = back->arch.stage_blocks[s] == m->arch.stage_blocks[s] &&
             back->arch.widths[s] == m->arch.widths[s];
    unr_model_free(back);
    unr_model_free(m);
    tdict_free(&d);
    free(b.b);
    return ok;
}

/* ---- the zip reader ---- */

static void zip_reader_finds_stored_entries(void)
{
    buf z = {0};
    zentry e[2] = {{"a/data.pkl", (const unsigned char *)"xyz", 3}, {"a/data/0", (const unsigned char *)"", 0}};
    zip_write(&z, e, 2);
    unr_zip zip;
    unr_error err;
    CHECK_OK(unr_zip_open(z.b, z.n, "t.zip", &zip, &err), err);
    CHECK(zip.count == 2);
    const unr_zip_entry *f = unr_zip_find(&zip, "a/data.pkl");
    const uint8_t *data;
    size_t n;
    CHECK(f && unr_zip_data(&zip, f, &data, &n, &err) == UNR_OK && n == 3 && !memcmp(data, "xyz", 3));
    CHECK(unr_zip_find(&zip, "a/data") == NULL);
    unr_zip_close(&zip);
    free(z.b);
}

static void zip_reader_rejects_a_truncated_archive(void)
{
    buf z = {0};
    zentry e[1] = {{"a/data.pkl", (const unsigned char *)"0123456789", 10}};
    zip_write(&z, e, 1);
    unr_zip zip;
    unr_error err;
    for (size_t cut = 0; cut < z.n; cut++) {
        unsigned char *copy = malloc(cut + 1);
        memcpy(copy, z.b, cut);
        unr_status st = unr_zip_open(copy, cut, "t.zip", &zip, &err);
        free(copy);
        CHECK(st != UNR_OK && strstr(err.message, "t.zip"));
    }
    CHECK(unr_zip_open(z.b, z.n, "t.zip", &zip, &err) == UNR_OK);
    unr_zip_close(&zip);
    free(z.b);
}

static void zip_reader_rejects_entry_sizes_far_beyond_the_file(void)
{
    /* a zip bomb's announced sizes: 4 GB - 1 in a 100-byte file */
    buf z = {0};
    zentry e[1] = {{"a/data/0", (const unsigned char *)"0123456789", 10}};
    zip_write(&z, e, 1);
    size_t cd = z.n - 22 - 46 - strlen(e[0].name);
    memcpy(z.b + cd + 20, "\xfe\xff\xff\xff", 4);
    memcpy(z.b + cd + 24, "\xfe\xff\xff\xff", 4);
    unr_zip zip;
    unr_error err;
    CHECK(unr_zip_open(z.b, z.n, "bomb.zip", &zip, &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "'a/data/0' claims 4294967294 bytes"));
    /* and an entry count the directory cannot hold */
    memcpy(z.b + cd + 20, "\x0a\0\0\0\x0a\0\0\0", 8);
    memcpy(z.b + z.n - 22 + 8, "\xff\xfe\xff\xfe", 4);
    CHECK(unr_zip_open(z.b, z.n, "bomb.zip", &zip, &err) != UNR_OK);
    CHECK(strstr(err.message, "65279 entries"));
    free(z.b);
}

static void zip_reader_refuses_compressed_entries_by_name(void)
{
    buf z = {0};
    zentry e[1] = {{"a/data.pkl", (const unsigned char *)"0123456789", 10}};
    zip_write(&z, e, 1);
    size_t cd = z.n - 22 - 46 - strlen(e[0].name);
    z.b[cd + 10] = 8;   /* deflate */
    unr_zip zip;
    unr_error err;
    CHECK_OK(unr_zip_open(z.b, z.n, "t.zip", &zip, &err), err);
    const uint8_t *data;
    size_t n;
    CHECK(unr_zip_data(&zip, &zip.entries[0], &data, &n, &err) == UNR_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "'a/data.pkl' is compressed (method 8)"));
    unr_zip_close(&zip);
    free(z.b);
}

/* ---- the pickle reader ---- */

static unr_status run_pickle(const buf *p, unr_pickle *vm, int *root, unr_error *err)
{
    memset(vm, 0, sizeof *vm);
    vm->source = "t.th";
    vm->entry = "archive/data.pkl";
    unsigned char *copy = malloc(p->n ? p->n : 1);
    memcpy(copy, p->b, p->n);
    size_t used;
    unr_status st = unr_pickle_run(vm, copy, p->n, 0, root, &used, err);
    /* strings point into the bytes: keep them for the checks, freed with p */
    free(p->b);
    ((buf *)p)->b = copy;
    ((buf *)p)->cap = p->n;
    return st;
}

static void pickle_builds_containers_numbers_and_strings(void)
{
    /* protocol 4 spellings too: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL */
    buf p = {0};
    put1(&p, 0x80), put1(&p, 4), put1(&p, 0x95), put_le(&p, 40, 8);
    put1(&p, '}'), put1(&p, 0x94), put1(&p, '(');
    put1(&p, 0x8c), put1(&p, 1), puts_(&p, "a"), put1(&p, 0x94);
    pk_int(&p, -5 & 0xffffffffL);                                   /* BININT -5 */
    put1(&p, 0x8c), put1(&p, 1), puts_(&p, "b");
    put1(&p, ']'), put1(&p, 'M'), put_le(&p, 1001, 2), put1(&p, 'a');   /* [1001] */
    put1(&p, 0x8c), put1(&p, 1), puts_(&p, "c");
    put1(&p, 0x8a), put1(&p, 2), put_le(&p, 0xff00, 2);               /* LONG1 -256 */
    put1(&p, 0x8c), put1(&p, 1), puts_(&p, "d");
    put1(&p, 'G'), put(&p, "\x3f\xf8\0\0\0\0\0\0", 8);                 /* 1.5 */
    put1(&p, 0x8c), put1(&p, 1), puts_(&p, "a"), put1(&p, 'h'), put1(&p, 1);  /* "a" again: "a" */
    put1(&p, 'u'), put1(&p, '.');
    unr_pickle vm;
    int root;
    unr_error err;
    CHECK_OK(run_pickle(&p, &vm, &root, &err), err);
    CHECK(vm.objs[root].kind == UNR_PK_DICT && vm.objs[root].n == 5);
    int a = unr_pk_dict_get(&vm, root, "a"), b = unr_pk_dict_get(&vm, root, "b");
    int c = unr_pk_dict_get(&vm, root, "c"), d = unr_pk_dict_get(&vm, root, "d");
    CHECK(unr_pk_is_str(&vm, a, "a"));    /* the last value set wins */
    CHECK(vm.objs[b].kind == UNR_PK_LIST && vm.objs[b].n == 1 && vm.objs[vm.objs[b].u.items[0]].u.i == 1001);
    CHECK(vm.objs[c].kind == UNR_PK_INT && vm.objs[c].u.i == -256);
    CHECK(vm.objs[d].kind == UNR_PK_FLOAT && vm.objs[d].u.f == 1.5);
    unr_pickle_free(&vm);
    free(p.b);
}

static void pickle_refuses_an_unknown_global_naming_it_and_its_offset(void)
{
    buf p = {0};
    put1(&p, 0x80), put1(&p, 2);
    pk_global(&p, "numpy.core.multiarray", "scalar");
    put1(&p, '.');
    unr_pickle vm;
    int root;
    unr_error err;
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "t.th: unknown global 'numpy.core.multiarray scalar' at offset 2 of "
                              "archive/data.pkl"));
    unr_pickle_free(&vm);
    free(p.b);
}

static void pickle_refuses_a_reduce_payload_before_anything_runs(void)
{
    /* what pickling an object whose __reduce__ returns (os.system, ('touch x',)) writes */
    buf p = {0};
    put1(&p, 0x80), put1(&p, 2), put1(&p, '}'), put1(&p, '(');
    pk_str(&p, "extra");
    pk_global(&p, "posix", "system");
    pk_str(&p, "touch x"), put1(&p, 0x85), put1(&p, 'R');
    put1(&p, 'u'), put1(&p, '.');
    unr_pickle vm;
    int root;
    unr_error err;
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "unknown global 'posix system' at offset 14"));
    unr_pickle_free(&vm);
    /* the opcodes that build arbitrary objects are refused too, by name */
    buf q = {0};
    put1(&q, 0x80), put1(&q, 2), put1(&q, ')'), put1(&q, 0x81), put1(&q, '.');
    CHECK(run_pickle(&q, &vm, &root, &err) == UNR_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "opcode 0x81 (NEWOBJ)"));
    unr_pickle_free(&vm);
    free(p.b);
    free(q.b);
}

static void pickle_refuses_calls_of_known_globals_with_wrong_arguments(void)
{
    /* _rebuild_tensor_v2("not a storage", 0, (), (), False, None) */
    buf p = {0};
    put1(&p, 0x80), put1(&p, 2);
    pk_global(&p, "torch._utils", "_rebuild_tensor_v2");
    put1(&p, '(');
    pk_str(&p, "not a storage"), pk_int(&p, 0), put1(&p, ')'), put1(&p, ')'), put1(&p, 0x89), put1(&p, 'N');
    put1(&p, 't'), put1(&p, 'R'), put1(&p, '.');
    unr_pickle vm;
    int root;
    unr_error err;
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_PARSE);
    CHECK(strstr(err.message, "_rebuild_tensor_v2: its first argument is a str, not a storage at "
                              "offset 61 of archive/data.pkl"));
    unr_pickle_free(&vm);
    /* OrderedDict with items: not what a state dict pickles */
    p.n = 0;
    pk_global(&p, "collections", "OrderedDict");
    put1(&p, 'N'), put1(&p, 0x85), put1(&p, 'R'), put1(&p, '.');
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "OrderedDict called with 1 arguments"));
    unr_pickle_free(&vm);
    free(p.b);
}

static void pickle_rejects_every_truncation_of_a_state_dict(void)
{
    unr_model *m;
    unr_error err;
    CHECK_OK(unr_model_init_random(&arch_a, 1, &m, &err), err);
    tdict d;
    tdict_from_model(&d, m);
    unr_model_free(m);
    buf p = {0};
    pk_state_dict(&p, &d, "state_dict", NULL, 0);
    tdict_free(&d);
    for (size_t cut = 0; cut < p.n; cut++) {
        unsigned char *copy = malloc(cut + 1);
        memcpy(copy, p.b, cut);
        unr_pickle vm = {.source = "t.th", .entry = "data.pkl"};
        int root;
        unr_status st = unr_pickle_run(&vm, copy, cut, 0, &root, NULL, &err);
        unr_pickle_free(&vm);
        free(copy);
        CHECK(st != UNR_OK && strstr(err.message, "at offset"));
    }
    free(p.b);
}

static void pickle_bounds_marks_memo_and_stack(void)
{
    unr_pickle vm;
    int root;
    unr_error err;
    buf p = {0};
    put1(&p, 0x80), put1(&p, 2);
    for (int i = 0; i < UNR_PK_MAX_MARKS + 1; i++)
        put1(&p, '(');
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_RANGE && strstr(err.message, "MARKs nested"));
    unr_pickle_free(&vm);
    p.n = 0;
    put1(&p, 'N'), put1(&p, 'r'), put_le(&p, 0xfffffff0u, 4), put1(&p, '.');
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_RANGE && strstr(err.message, "memo index"));
    unr_pickle_free(&vm);
    p.n = 0;
    put1(&p, 'h'), put1(&p, 3);
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_PARSE && strstr(err.message, "never stored"));
    unr_pickle_free(&vm);
    p.n = 0;
    put1(&p, 'N');
    for (int i = 0; i < UNR_PK_MAX_STACK; i++)
        put1(&p, '2');   /* DUP: no new objects, only stack */
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_RANGE && strstr(err.message, "stack deeper"));
    unr_pickle_free(&vm);
    p.n = 0;
    put1(&p, 't');
    CHECK(run_pickle(&p, &vm, &root, &err) == UNR_ERR_PARSE && strstr(err.message, "no MARK"));
    unr_pickle_free(&vm);
    free(p.b);
}

/* ---- whole checkpoints: every format imports exactly ---- */

static void zip_checkpoints_round_trip_exactly(void)
{
    CHECK(round_trips(&arch_a, F_ZIP, NULL, NULL, NULL));
    CHECK(round_trips(&arch_b, F_ZIP, "state_dict", NULL, NULL));
    CHECK(round_trips(&arch_pre, F_ZIP, "model", "module.", NULL));
}

static void legacy_checkpoints_round_trip_exactly(void)
{
    CHECK(round_trips(&arch_a, F_LEGACY, "net", NULL, NULL));
    CHECK(round_trips(&arch_b, F_LEGACY, NULL, "module.", NULL));
    CHECK(round_trips(&arch_pre, F_LEGACY, "state_dict", NULL, NULL));
}

static void safetensors_round_trip_exactly(void)
{
    CHECK(round_trips(&arch_a, F_SAFETENSORS, NULL, NULL, NULL));
    CHECK(round_trips(&arch_b, F_SAFETENSORS, NULL, "module.", NULL));
}

static void a_plain_network_needs_the_shortcut_option(void)
{
    unr_arch plain = arch_a;
    plain.shortcut = UNR_SHORTCUT_NONE;
    CHECK(!round_trips(&plain, F_ZIP, NULL, NULL, NULL));   /* taken as A */
    unr_import_options opt = {.has_shortcut = 1, .shortcut = UNR_SHORTCUT_NONE};
    CHECK(round_trips(&plain, F_ZIP, NULL, NULL, &opt));
}

/* unravel's names as the layerS.J / conv1 / bn1 / shortcut.0 / linear names
 * of the usual PyTorch CIFAR ResNets */
static void to_layer_names(tdict *d, const unr_model *m, int torchvision)
{
    for (int i = 0; i < d->n; i++) {
        char *n = d->t[i].name, out[64];
        int b;
        if (sscanf(n, "blocks.%d.", &b) == 1) {
            const unr_block_info *bi = &m->blocks[b];
            const char *rest = strchr(n + 7, '.') + 1;
            const char *sc = torchvision ? "downsample" : "shortcut";
            if (!strncmp(rest, "shortcut.conv.", 14))
                snprintf(out, sizeof out, "layer%d.%d.%s.0.%s", bi->stage + 1, bi->index_in_stage, sc, rest + 14);
            else if (!strncmp(rest, "shortcut.bn.", 12))
                snprintf(out, sizeof out, "layer%d.%d.%s.1.%s", bi->stage + 1, bi->index_in_stage, sc, rest + 12);
            else
                snprintf(out, sizeof out, "layer%d.%d.%s", bi->stage + 1, bi->index_in_stage, rest);
        } else if (!strncmp(n, "stem.conv.", 10)) {
            snprintf(out, sizeof out, "conv1.%s", n + 10);
        } else if (!strncmp(n, "stem.bn.", 8)) {
            snprintf(out, sizeof out, "bn1.%s", n + 8);
        } else if (!strncmp(n, "head.bn.", 8)) {
            snprintf(out, sizeof out, "bn.%s", n + 8);
        } else {
            snprintf(out, sizeof out, "%s.%s", torchvision ? "fc" : "linear", n + 3);
        }
        snprintf(d->t[i].name, sizeof d->t[i].name, "%s", out);
    }
}

static void pytorch_layer_names_import_with_the_same_weights(void)
{
    const unr_arch *archs[3] = {&arch_a, &arch_b, &arch_pre};
    for (int k = 0; k < 3; k++) {
        unr_model *m, *back = NULL;
        unr_error err;
        CHECK_OK(unr_model_init_random(archs[k], 3, &m, &err), err);
        tdict d;
        tdict_from_model(&d, m);
        to_layer_names(&d, m, k == 1);
        /* a num_batches_tracked (int64) per batch norm, skipped as PyTorch's importer does */
        tt *nb = &d.t[d.n++];
        *nb = (tt){.name = "layer1.0.bn1.num_batches_tracked", .storage = "LongStorage", .elem = 8,
                   .ndim = 0, .storage_numel = 1, .data = calloc(8, 1)};
        buf b = {0};
        write_checkpoint(&b, &d, k == 2 ? F_LEGACY : F_ZIP, "state_dict", "module.");
        unr_status st = import(&b, NULL, &back, &err);
        if (st)
            fprintf(stderr, "     %s\n", err.message);
        int same = !st && back->num_params == m->num_params &&
                   !memcmp(back->params, m->params, m->num_params * 4) &&
                   back->arch.preactivation == m->arch.preactivation &&
                   back->arch.head_bn == m->arch.head_bn && back->arch.num_stages == m->arch.num_stages;
        unr_model_free(back);
        unr_model_free(m);
        tdict_free(&d);
        free(b.b);
        CHECK(same);
    }
}

static void mean_and_std_default_to_cifar_with_a_warning(void)
{
    unr_model *m, *back;
    unr_error err;
    CHECK_OK(unr_model_init_random(&arch_a, 3, &m, &err), err);
    tdict d;
    tdict_from_model(&d, m);
    unr_model_free(m);
    buf b = {0};
    write_checkpoint(&b, &d, F_ZIP, NULL, NULL);
    tdict_free(&d);
    char warn[400];
    CHECK_OK(unr_model_import_checkpoint(b.b, b.n, "dir/net.pt", NULL, &back, warn, sizeof warn, &err), err);
    CHECK(strstr(warn, "dir/net.pt: no mean and std given: using CIFAR-10's"));
    CHECK(back->mean[0] == 0.4914f && back->std[2] == 0.2616f);
    CHECK(!strcmp(unr_model_name(back), "net"));
    unr_model_free(back);
    unr_import_options opt = {.has_mean_std = 1, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.25f, 0.25f, 0.25f}};
    CHECK_OK(unr_model_import_checkpoint(b.b, b.n, "net.pt", &opt, &back, warn, sizeof warn, &err), err);
    CHECK(warn[0] == '\0' && back->mean[1] == 0.5f && back->std[1] == 0.25f);
    unr_model_free(back);
    opt.std[1] = 0;
    CHECK(unr_model_import_checkpoint(b.b, b.n, "net.pt", &opt, &back, NULL, 0, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "std[1] must be positive"));
    free(b.b);
}

/* ---- bad checkpoints: one clear error each ---- */

/* The error importing tensors d (arch_a's, changed by the caller) in format f. */
static unr_status import_error(tdict *d, file_format f, unr_error *err)
{
    buf b = {0};
    write_checkpoint(&b, d, f, "state_dict", NULL);
    unr_model *m = NULL;
    unr_status st = import(&b, NULL, &m, err);
    unr_model_free(m);
    free(b.b);
    tdict_free(d);
    return st;
}

static void model_tensors(tdict *d)
{
    unr_model *m;
    unr_error err;
    unr_model_init_random(&arch_a, 1, &m, &err);
    tdict_from_model(d, m);
    unr_model_free(m);
}

static void a_storage_shorter_than_its_shape_is_refused(void)
{
    file_format fs[3] = {F_ZIP, F_LEGACY, F_SAFETENSORS};
    for (int k = 0; k < 2; k++) {
        tdict d;
        unr_error err;
        model_tensors(&d);
        d.t[3].storage_numel -= 1;   /* stem.bn.running_mean: one element short */
        CHECK(import_error(&d, fs[k], &err) == UNR_ERR_RANGE);
        CHECK(strstr(err.message, "tensor 'stem.bn.running_mean' needs 4 elements of storage"));
        CHECK(strstr(err.message, "which holds 3"));
    }
    /* safetensors: a file that ends before its last tensor's data */
    tdict d;
    unr_error err;
    model_tensors(&d);
    buf b = {0};
    write_checkpoint(&b, &d, F_SAFETENSORS, NULL, NULL);
    tdict_free(&d);
    b.n -= 4;
    unr_model *m = NULL;
    CHECK(import(&b, NULL, &m, &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "tensor 'fc.bias': data_offsets are not [begin, end] inside"));
    free(b.b);
}

static void float16_and_float64_tensors_are_refused_by_name(void)
{
    const char *kinds[2] = {"HalfStorage", "DoubleStorage"};
    int elems[2] = {2, 8};
    for (int k = 0; k < 2; k++) {
        for (int f = 0; f < 3; f++) {
            tdict d;
            unr_error err;
            model_tensors(&d);
            tt *t = &d.t[6];
            t->storage = kinds[k], t->elem = elems[k];
            free(t->data);
            t->data = calloc((size_t)t->storage_numel, 8);
            CHECK(import_error(&d, (file_format)f, &err) == UNR_ERR_UNSUPPORTED);
            CHECK(strstr(err.message, k ? "tensor 'blocks.0.bn1.weight' is float64: only float32 "
                                          "tensors are read"
                                        : "tensor 'blocks.0.bn1.weight' is float16: only float32 "
                                          "tensors are read"));
        }
    }
}

static void a_missing_tensor_is_named(void)
{
    tdict d;
    unr_error err;
    model_tensors(&d);
    free(d.t[8].data);
    memmove(&d.t[8], &d.t[9], (size_t)(d.n - 9) * sizeof d.t[0]);   /* blocks.0.bn1.running_mean */
    d.n--;
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "missing 1 tensor(s), first 'blocks.0.bn1.running_mean'"));
    model_tensors(&d);
    snprintf(d.t[0].name, sizeof d.t[0].name, "stem.convolution.weight");
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "tensor 'stem.conv.weight' (or its PyTorch-layout name) is missing"));
    model_tensors(&d);
    snprintf(d.t[d.n - 1].name, sizeof d.t[0].name, "blocks.0.extra.weight");
    CHECK(import_error(&d, F_LEGACY, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "tensor 'fc.bias' (or its PyTorch-layout name) is missing"));
}

static void an_extra_or_misshapen_tensor_is_named(void)
{
    tdict d;
    unr_error err;
    model_tensors(&d);
    tt *t = &d.t[d.n++];
    *t = d.t[1];
    snprintf(t->name, sizeof t->name, "blocks.1.shortcut.bn.weight");
    t->data = malloc((size_t)t->storage_numel * 4);
    memcpy(t->data, d.t[1].data, (size_t)t->storage_numel * 4);
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "tensor 'blocks.1.shortcut.bn.weight' does not belong to a A network"));
    model_tensors(&d);
    d.t[5].shape[1] = 2, d.t[5].shape[2] = 6;   /* blocks.0.conv1.weight: [4,2,6,3], same count */
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_SHAPE);
    CHECK(strstr(err.message, "tensor 'blocks.0.conv1.weight' (blocks.0.conv1.weight) has shape "
                              "[4, 2, 6, 3], the architecture needs [4, 4, 3, 3]"));
}

static void absurd_shapes_are_refused_before_anything_is_allocated(void)
{
    tdict d;
    unr_error err;
    model_tensors(&d);
    d.t[0].ndim = 4;
    d.t[0].shape[0] = 65536, d.t[0].shape[1] = 65536;   /* 2^32 x 9 elements */
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_RANGE);
    CHECK(strstr(err.message, "absurd shape"));
    model_tensors(&d);
    d.t[0].ndim = 4, d.t[0].shape[3] = 1 << 30;
    CHECK(import_error(&d, F_SAFETENSORS, &err) != UNR_OK);
    CHECK(strstr(err.message, "stem.conv.weight"));
    /* a width past UNR_MAX_WIDTH, consistently: refused as an architecture */
    model_tensors(&d);
    d.t[0].shape[0] = 5000;
    CHECK(import_error(&d, F_ZIP, &err) != UNR_OK);
}

static void nan_weights_and_negative_variances_are_refused(void)
{
    tdict d;
    unr_error err;
    model_tensors(&d);
    memcpy(d.t[0].data + 8, "\0\0\xc0\x7f", 4);   /* a NaN at element 2 */
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_NONFINITE);
    CHECK(strstr(err.message, "tensor 'stem.conv.weight' holds a non-finite value at element 2"));
    model_tensors(&d);
    memcpy(d.t[4].data, "\0\0\x80\xbf", 4);   /* stem.bn.running_var[0] = -1 */
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "'stem.bn.running_var' holds a negative variance"));
}

static void a_file_that_is_not_a_checkpoint_says_so(void)
{
    const char *texts[4] = {"", "{\"format\": \"unravel-model\"}", "\x80\x02}q\x00.", "PK\x03\x04junk"};
    const char *want[4] = {"not a PyTorch checkpoint", "not a PyTorch checkpoint",
                           "without torch.save's magic number", "not a complete zip archive"};
    for (int i = 0; i < 4; i++) {
        buf b = {0};
        put(&b, texts[i], i == 2 ? 7 : strlen(texts[i]));
        unr_model *m = NULL;
        unr_error err;
        CHECK(import(&b, NULL, &m, &err) != UNR_OK && m == NULL);
        CHECK(strstr(err.message, "test.th: "));
        CHECK(strstr(err.message, want[i]));
        free(b.b);
    }
    /* a zip, but not torch's */
    buf z = {0};
    zentry e[1] = {{"readme.txt", (const unsigned char *)"hello", 5}};
    zip_write(&z, e, 1);
    unr_model *m = NULL;
    unr_error err;
    CHECK(import(&z, NULL, &m, &err) == UNR_ERR_FIELD && strstr(err.message, "without a FOLDER/data.pkl"));
    free(z.b);
}

static void a_dict_without_tensors_or_a_list_is_not_a_state_dict(void)
{
    tdict d = {0};
    unr_error err;
    CHECK(import_error(&d, F_ZIP, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "the state dict holds no tensors"));
    buf p = {0};
    put1(&p, 0x80), put1(&p, 2), put1(&p, ']'), put1(&p, '.');
    zentry e[1] = {{"archive/data.pkl", p.b, p.n}};
    buf z = {0};
    zip_write(&z, e, 1);
    unr_model *m = NULL;
    CHECK(import(&z, NULL, &m, &err) == UNR_ERR_FIELD && strstr(err.message, "no state dict inside (found a list)"));
    free(p.b);
    free(z.b);
}

static void a_legacy_storage_cut_short_is_refused(void)
{
    tdict d;
    model_tensors(&d);
    buf b = {0};
    write_checkpoint(&b, &d, F_LEGACY, NULL, NULL);
    tdict_free(&d);
    unr_error err;
    for (size_t cut = b.n - 300; cut < b.n; cut += 7) {
        buf c = {b.b, cut, cut};
        unr_model *m = NULL;
        CHECK(import(&c, NULL, &m, &err) == UNR_ERR_RANGE);
        CHECK(strstr(err.message, "truncated"));
    }
    free(b.b);
}

TEST_MAIN(
    TEST_CASE(zip_reader_finds_stored_entries),
    TEST_CASE(zip_reader_rejects_a_truncated_archive),
    TEST_CASE(zip_reader_rejects_entry_sizes_far_beyond_the_file),
    TEST_CASE(zip_reader_refuses_compressed_entries_by_name),
    TEST_CASE(pickle_builds_containers_numbers_and_strings),
    TEST_CASE(pickle_refuses_an_unknown_global_naming_it_and_its_offset),
    TEST_CASE(pickle_refuses_a_reduce_payload_before_anything_runs),
    TEST_CASE(pickle_refuses_calls_of_known_globals_with_wrong_arguments),
    TEST_CASE(pickle_rejects_every_truncation_of_a_state_dict),
    TEST_CASE(pickle_bounds_marks_memo_and_stack),
    TEST_CASE(zip_checkpoints_round_trip_exactly),
    TEST_CASE(legacy_checkpoints_round_trip_exactly),
    TEST_CASE(safetensors_round_trip_exactly),
    TEST_CASE(a_plain_network_needs_the_shortcut_option),
    TEST_CASE(pytorch_layer_names_import_with_the_same_weights),
    TEST_CASE(mean_and_std_default_to_cifar_with_a_warning),
    TEST_CASE(a_storage_shorter_than_its_shape_is_refused),
    TEST_CASE(float16_and_float64_tensors_are_refused_by_name),
    TEST_CASE(a_missing_tensor_is_named),
    TEST_CASE(an_extra_or_misshapen_tensor_is_named),
    TEST_CASE(absurd_shapes_are_refused_before_anything_is_allocated),
    TEST_CASE(nan_weights_and_negative_variances_are_refused),
    TEST_CASE(a_file_that_is_not_a_checkpoint_says_so),
    TEST_CASE(a_dict_without_tensors_or_a_list_is_not_a_state_dict),
    TEST_CASE(a_legacy_storage_cut_short_is_refused))
