/* cmd_import.c: `unravel import`: a PyTorch checkpoint (torch.save zip or
 * legacy, or safetensors) into an unravel model, with no PyTorch. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "cli.h"
#include "../internal.h"

/* "r,g,b": three finite numbers. */
static int parse_triple(const char *text, float out[3])
{
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || fabs(v) >= 1e3 || *end != (i < 2 ? ',' : '\0'))
            return -1;
        out[i] = (float)v;
        p = end + 1;
    }
    return 0;
}

/* "3,3,3": one block count per stage, 1 to UNR_MAX_STAGES of them. */
static int parse_stages(const char *text, int out[UNR_MAX_STAGES])
{
    const char *p = text;
    for (int n = 0; n < UNR_MAX_STAGES; n++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > UNR_MAX_BLOCKS_PER_STAGE || (*end && *end != ','))
            return 0;
        out[n] = (int)v;
        if (!*end)
            return n + 1;
        p = end + 1;
    }
    return 0;
}

/* unr_model_save names the model after its file; --name rewrites that field. */
static unr_status rename_manifest(const char *out, const char *name, unr_error *err)
{
    char path[4200];
    size_t len = strlen(out);
    snprintf(path, sizeof path, "%.*s.json", (int)(len >= 5 && !strcmp(out + len - 5, ".json") ? len - 5 : len), out);
    void *text;
    size_t n;
    unr_status st = unr_read_file(path, UNR_MAX_MANIFEST_BYTES, &text, &n, err);
    if (st)
        return st;
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    if (!root)
        return unr_fail(err, UNR_ERR_PARSE, "%s: cannot read back the manifest just written", path);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "name", cJSON_CreateString(name));
    char *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!json)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", path);
    size_t jl = strlen(json);
    json[jl] = '\n';   /* over the terminator: files end with a newline */
    st = unr_write_file_atomic(path, json, jl + 1, err);
    cJSON_free(json);
    return st;
}

int cmd_import(int argc, char **argv)
{
    cli_option opts[] = {
        {"--out", 1, "output path, e.g. models/mynet (writes mynet.json + mynet.bin)", NULL},
        {"--mean", 1, "per-channel mean the network was trained with, 0..1 units (default "
                      "CIFAR-10's: 0.4914,0.4822,0.4465)", NULL},
        {"--std", 1, "per-channel std, 0..1 units (default CIFAR-10's: 0.2470,0.2435,0.2616)", NULL},
        {"--shortcut", 1, "A, B or none (default: B if the checkpoint has projections, else A; "
                          "a plain network has nothing to tell it by)", NULL},
        {"--block", 1, "auto (default: read off the batch-norm shapes), post or pre (activation)", NULL},
        {"--blocks-per-stage", 1, "blocks in each stage, e.g. 2,2,2,2 (read from layerS names; "
                                  "needed for unravel's blocks.I names when the stages differ)", NULL},
        {"--bn-eps", 1, "batch-norm epsilon (default 1e-5, PyTorch's)", NULL},
        {"--name", 1, "model name in the manifest (default: the output's file name)", NULL},
        {"--help", 0, "show this help", NULL},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    const char *path = cli_take_operand(&argc, &argv);
    if (cli_parse_options("import", argc, argv, opts, nopts))
        return 2;
    const char *synopsis = "CHECKPOINT --out PATH [--mean R,G,B --std R,G,B] [--shortcut A|B|none] "
                           "[--name NAME]";
    if (cli_get(opts, nopts, "--help")) {
        cli_usage("import", synopsis, opts, nopts);
        printf("\nReads torch.save checkpoints (zip, PyTorch >= 1.6, or the legacy format) and "
               "safetensors files\nof CIFAR ResNets, float32, without PyTorch; see docs/MODELS.md "
               "\"Your own model\".\n");
        return 0;
    }
    if (!path) {
        cli_usage("import", synopsis, opts, nopts);
        return 2;
    }
    unr_import_options opt = {0};
    const char *out = cli_get(opts, nopts, "--out"), *v;
    if (!out)
        return cli_failf("import", "--out: missing (where to write the model)");
    const char *mean = cli_get(opts, nopts, "--mean"), *std = cli_get(opts, nopts, "--std");
    if (mean && parse_triple(mean, opt.mean))
        return cli_failf("import", "--mean: '%s' is not three numbers like 0.49,0.48,0.45", mean);
    if (std && parse_triple(std, opt.std))
        return cli_failf("import", "--std: '%s' is not three numbers like 0.25,0.24,0.26", std);
    for (int c = 0; std && c < 3; c++)
        if (!(opt.std[c] > 0))
            return cli_failf("import", "--std: '%s': every value must be positive", std);
    if ((mean == NULL) != (std == NULL))
        return cli_failf("import", "--mean and --std go together (the normalisation the network "
                         "was trained with)");
    opt.has_mean_std = mean != NULL;
    if ((v = cli_get(opts, nopts, "--shortcut"))) {
        if (unr_shortcut_parse(v, &opt.shortcut))
            return cli_failf("import", "--shortcut: '%s' is not A, B or none", v);
        opt.has_shortcut = 1;
    }
    if ((v = cli_get(opts, nopts, "--block"))) {
        if (!strcmp(v, "auto") || !strcmp(v, "post") || !strcmp(v, "pre"))
            opt.block = !strcmp(v, "auto") ? UNR_BLOCK_AUTO : !strcmp(v, "post") ? UNR_BLOCK_POST : UNR_BLOCK_PRE;
        else
            return cli_failf("import", "--block: '%s' is not auto, post or pre", v);
    }
    if ((v = cli_get(opts, nopts, "--blocks-per-stage")) && !(opt.num_stages = parse_stages(v, opt.stage_blocks)))
        return cli_failf("import", "--blocks-per-stage: '%s' is not 1 to %d block counts like 3,3,3",
                         v, UNR_MAX_STAGES);
    double eps;
    if (cli_get_double("import", opts, nopts, "--bn-eps", 1e-12, 0.5, 1e-5, &eps))
        return 2;
    opt.bn_eps = (float)eps;
    const char *name = cli_get(opts, nopts, "--name");
    opt.name = name;

    unr_error err;
    void *bytes;
    size_t n;
    if (unr_read_file(path, (size_t)1 << 33, &bytes, &n, &err))
        return cli_fail("import", &err);
    unr_model *m = NULL;
    char warnings[512];
    unr_status st = unr_model_import_checkpoint(bytes, n, path, &opt, &m, warnings,
                                                sizeof warnings, &err);
    free(bytes);
    if (st)
        return cli_fail("import", &err);
    for (char *line = warnings; *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        fprintf(stderr, "unravel import: warning: %s\n", line);
        line = end ? end + 1 : line + strlen(line);
    }
    if (unr_model_save(m, out, &err) || (name && rename_manifest(out, name, &err))) {
        unr_model_free(m);
        return cli_fail("import", &err);
    }
    const unr_arch *a = unr_model_arch(m);
    char shape[160];
    fprintf(stderr, "unravel import: wrote %s: ResNet-%d (%s, shortcut %s, %zu parameters)\n", out,
            unr_arch_depth(a), unr_arch_format(a, shape, sizeof shape),
            unr_shortcut_name(a->shortcut), unr_model_num_params(m));
    unr_model_free(m);
    return 0;
}
