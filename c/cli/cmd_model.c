/* cmd_model.c: `unravel info` and `unravel init`. */
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "cli.h"
#include "../internal.h"

int cmd_info(int argc, char **argv)
{
    cli_option opts[] = {
        {"--json", 0, "print one JSON object", NULL},
        {"--help", 0, "show this help", NULL},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    const char *path = cli_take_operand(&argc, &argv);
    if (cli_parse_options("info", argc, argv, opts, nopts))
        return 2;
    if (cli_get(opts, nopts, "--help") || !path) {
        cli_usage("info", "MODEL.json [--json]", opts, nopts);
        return cli_get(opts, nopts, "--help") ? 0 : 2;
    }
    unr_error err;
    unr_model *m;
    if (unr_model_load_file(path, &m, &err))
        return cli_fail("info", &err);
    const unr_arch *a = unr_model_arch(m);
    int nb = unr_model_num_blocks(m);
    if (cli_get(opts, nopts, "--json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", unr_model_name(m));
        if (unr_model_license(m))
            cJSON_AddStringToObject(o, "license", unr_model_license(m));
        unr_arch_add_json(o, a);
        cJSON_AddStringToObject(o, "shortcut", unr_shortcut_name(a->shortcut));
        cJSON_AddNumberToObject(o, "parameters", (double)unr_model_num_params(m));
        cJSON_AddNumberToObject(o, "macs_per_image", unr_model_macs(m));
        cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = unr_model_block(m, b);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "block", b);
            cJSON_AddNumberToObject(e, "stage", bi->stage + 1);
            cJSON_AddItemToObject(e, "in", cJSON_CreateIntArray((int[]){bi->h_in, bi->h_in, bi->cin}, 3));
            cJSON_AddItemToObject(e, "out", cJSON_CreateIntArray((int[]){bi->h_out, bi->h_out, bi->cout}, 3));
            cJSON_AddBoolToObject(e, "downsample", bi->downsample);
            cJSON_AddBoolToObject(e, "deletable", unr_block_deletable(m, b));
            cJSON_AddItemToArray(blocks, e);
        }
        if (unr_model_metrics_json(m))
            cJSON_AddItemToObject(o, "metrics", cJSON_Parse(unr_model_metrics_json(m)));
        if (unr_model_training_json(m))
            cJSON_AddItemToObject(o, "training", cJSON_Parse(unr_model_training_json(m)));
        char *text = cJSON_Print(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        printf("model       %s (%s)\n", unr_model_name(m), path);
        char shape[160];
        printf("network     ResNet-%d for CIFAR-10: %s, shortcut %s%s\n", unr_arch_depth(a),
               unr_arch_format(a, shape, sizeof shape), unr_shortcut_name(a->shortcut),
               a->shortcut == UNR_SHORTCUT_NONE ? " (plain network, one path)" : "");
        printf("parameters  %zu trainable and batch-norm statistics\n", unr_model_num_params(m));
        printf("compute     %.1f M multiply-adds per image\n", unr_model_macs(m) / 1e6);
        printf("licence     %s\n", unr_model_license(m) ? unr_model_license(m) : "not stated in the manifest");
        if (a->shortcut != UNR_SHORTCUT_NONE)
            printf("paths       2^%d through the residual blocks\n", nb);
        printf("\nblock  stage  input        output       kind\n");
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = unr_model_block(m, b);
            char in[32], out[32];
            snprintf(in, sizeof in, "%dx%dx%d", bi->h_in, bi->h_in, bi->cin);
            snprintf(out, sizeof out, "%dx%dx%d", bi->h_out, bi->h_out, bi->cout);
            printf("%5d  %5d  %-11s  %-11s  %s\n", b, bi->stage + 1, in, out,
                   bi->downsample ? (unr_block_deletable(m, b) ? "downsampling" :
                                     "downsampling, cannot be deleted") : "");
        }
        if (unr_model_metrics_json(m))
            printf("\nmetrics     %s\n", unr_model_metrics_json(m));
        if (unr_model_training_json(m))
            printf("training    %s\n", unr_model_training_json(m));
    }
    unr_model_free(m);
    return 0;
}

int cmd_init(int argc, char **argv)
{
    cli_option opts[] = {
        CLI_ARCH_OPTIONS,
        {"--shortcut", 1, "A (identity + zero-pad), B (1x1 projection) or none (plain)", NULL},
        {"--seed", 1, "random seed (default 1)", NULL},
        {"--out", 1, "output path, e.g. models/tiny (writes tiny.json + tiny.bin)", NULL},
        {"--help", 0, "show this help", NULL},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    if (cli_parse_options("init", argc, argv, opts, nopts))
        return 2;
    if (cli_get(opts, nopts, "--help")) {
        cli_usage("init", "--blocks-per-stage N --shortcut A|B|none --out PATH [options]", opts, nopts);
        return 0;
    }
    long seed;
    unr_arch arch;
    int rc = cli_get_arch("init", opts, nopts, &arch);
    if (rc)
        return rc;
    if (cli_get_int("init", opts, nopts, "--seed", 0, 0x7fffffffL, 1, &seed))
        return 2;
    const char *out = cli_get(opts, nopts, "--out");
    if (!out)
        return cli_failf("init", "--out: missing (where to write the model)");
    unr_error err;
    unr_model *m;
    if (unr_model_init_random(&arch, (uint64_t)seed, &m, &err) || unr_model_save(m, out, &err)) {
        unr_model_free(m);
        return cli_fail("init", &err);
    }
    fprintf(stderr, "unravel init: wrote %s (ResNet-%d, %zu parameters, random weights)\n", out,
            unr_arch_depth(&arch), unr_model_num_params(m));
    unr_model_free(m);
    return 0;
}
