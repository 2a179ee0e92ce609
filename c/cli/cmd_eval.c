/* cmd_eval.c: `unravel eval`: test error of a model under a plan. */
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "cli.h"

static const char *const class_names[UNR_NUM_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/* Logits of the first n images under plan, written raw for parity tests
 * (the WASM module must produce the same numbers). */
static unr_status dump_logits(unr_runner *run, const unr_plan *plan, const unr_cifar *data,
                              int n, const char *path, unr_error *err)
{
    int batch = unr_runner_max_batch(run);
    float *lg = malloc((size_t)batch * UNR_NUM_CLASSES * sizeof *lg);
    FILE *f = fopen(path, "wb");
    unr_status st = UNR_OK;
    if (!lg || !f) {
        st = UNR_ERR_IO;
        snprintf(err->message, sizeof err->message, "--dump-logits: cannot write %s", path);
    }
    for (int at = 0; at < n && !st; at += batch) {
        int k = n - at < batch ? n - at : batch;
        st = unr_forward_pixels(run, plan, data->pixels + (size_t)at * UNR_IMAGE_BYTES, k, lg, err);
        if (!st && fwrite(lg, sizeof *lg * UNR_NUM_CLASSES, (size_t)k, f) != (size_t)k) {
            st = UNR_ERR_IO;
            snprintf(err->message, sizeof err->message, "--dump-logits: write to %s failed", path);
        }
    }
    if (f && fclose(f) && !st) {
        st = UNR_ERR_IO;
        snprintf(err->message, sizeof err->message, "--dump-logits: write to %s failed", path);
    }
    free(lg);
    err->status = st;
    return st;
}

/* The full network of model m (the run's) on the first n images, set against
 * the plan's predictions pred image by image; base gets its predictions. */
static unr_status versus_full_network(unr_runner *run, const unr_model *m, const unr_cifar *data,
                                      int n, const uint8_t *pred, uint8_t *base,
                                      unr_eval_result *res, unr_paired_change *out, unr_error *err)
{
    unr_plan *identity = unr_plan_create(m);
    if (!identity) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return err->status = UNR_ERR_NOMEM;
    }
    unr_status st = unr_evaluate_predict(run, identity, data, n, NULL, NULL, base, res, err);
    unr_plan_free(identity);
    if (!st)
        unr_paired_compare(base, pred, data->labels, n, out);
    return st;
}

/* The comparison as JSON, with the numbers of the images whose answers
 * turned wrong and right (base: the other side's answers, pred: ours). */
static void add_versus(cJSON *o, const char *key, const char *model, double error,
                       const unr_paired_change *c, const uint8_t *base, const uint8_t *pred,
                       const uint8_t *labels)
{
    cJSON *v = cJSON_AddObjectToObject(o, key);
    if (model)
        cJSON_AddStringToObject(v, "model", model);
    cJSON_AddNumberToObject(v, "error", error);
    cJSON_AddNumberToObject(v, "change", c->change);
    cJSON_AddNumberToObject(v, "ci95", c->ci95);
    cJSON_AddNumberToObject(v, "turned_wrong", c->turned_wrong);
    cJSON_AddNumberToObject(v, "turned_right", c->turned_right);
    cJSON *wrong = cJSON_AddArrayToObject(v, "turned_wrong_images");
    cJSON *right = cJSON_AddArrayToObject(v, "turned_right_images");
    for (int i = 0; i < c->n; i++) {
        int was = base[i] == labels[i], is = pred[i] == labels[i];
        if (was != is)
            cJSON_AddItemToArray(was ? wrong : right, cJSON_CreateNumber(i));
    }
}

static void print_versus(const char *label, const char *model, double error,
                         const unr_paired_change *c)
{
    printf("%-11s %.2f%%%s%s%s: change %+.2f points +- %.2f (95%%, paired), %d answers turned "
           "wrong, %d right\n", label, 100 * error, model ? " (" : "", model ? model : "",
           model ? ")" : "", 100 * c->change, 100 * c->ci95, c->turned_wrong, c->turned_right);
}

int cmd_eval(int argc, char **argv)
{
    cli_option opts[] = {
        {"--model", 1, "model manifest (MODEL.json)", NULL},
        {"--data", 1, "CIFAR-10 binary directory (default $CIFAR10_DIR or data/cifar10)", NULL},
        {"--split", 1, "test (default) or train", NULL},
        {"--limit", 1, "evaluate the first N images only", NULL},
        {"--delete", 1, "blocks to delete, e.g. 3,7", NULL},
        {"--order", 1, "block order, a permutation of all block numbers", NULL},
        {"--batch", 1, "images per forward pass (default 100)", NULL},
        {"--threads", 1, "threads (default: one per CPU)", NULL},
        {"--isa", 1, "kernels: auto (default), scalar or avx2", NULL},
        {"--json", 0, "print one JSON object", NULL},
        {"--dump-logits", 1, "also write the logits of the evaluated images to PATH (raw "
                             "little-endian float32, [n][10])", NULL},
        {"--versus", 1, "another model (OTHER.json): set this one against it on the same images, "
                        "paired (e.g. a short-path-trained net against its normally trained twin)", NULL},
        {"--help", 0, "show this help", NULL},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    if (cli_parse_options("eval", argc, argv, opts, nopts))
        return 2;
    if (cli_get(opts, nopts, "--help")) {
        cli_usage("eval", "--model MODEL.json [--data DIR] [--limit N] [--delete 3,7] [--order ...] "
                  "[--versus OTHER.json] [--json]",
                  opts, nopts);
        return 0;
    }
    long limit, batch, threads;
    if (cli_get_int("eval", opts, nopts, "--limit", 1, 1000000, 0, &limit) ||
        cli_get_int("eval", opts, nopts, "--batch", 1, UNR_MAX_BATCH, 100, &batch) ||
        cli_get_int("eval", opts, nopts, "--threads", 0, 256, 0, &threads))
        return 2;
    const char *model_path = cli_get(opts, nopts, "--model");
    if (!model_path)
        return cli_failf("eval", "--model: missing (a model manifest, e.g. models/resnet20.json)");
    unr_isa isa = UNR_ISA_AUTO;
    const char *isa_name = cli_get(opts, nopts, "--isa");
    if (isa_name) {
        int found = 0;
        for (int i = 0; i < UNR_ISA_COUNT; i++)
            if (strcmp(isa_name, unr_isa_name((unr_isa)i)) == 0)
                isa = (unr_isa)i, found = 1;
        if (!found)
            return cli_failf("eval", "--isa: '%s' is not auto, scalar, avx2 or wasmsimd", isa_name);
    }
    const char *split = cli_get(opts, nopts, "--split");
    const char *dir = cli_data_dir(cli_get(opts, nopts, "--data"));

    unr_error err;
    unr_model *m = NULL;
    unr_plan *plan = NULL;
    unr_runner *run = NULL;
    unr_cifar data = {0};
    uint8_t *pred = NULL;   /* the plan's predictions, the full network's, the other model's */
    unr_model *other = NULL;
    unr_runner *other_run = NULL;
    int rc = 0;
    if (unr_model_load_file(model_path, &m, &err)) {
        rc = cli_fail("eval", &err);
        goto done;
    }
    plan = unr_plan_create(m);
    if (!plan) {
        rc = cli_failf("eval", "out of memory");
        goto done;
    }
    if (unr_plan_parse(plan, cli_get(opts, nopts, "--delete"), cli_get(opts, nopts, "--order"), &err) ||
        unr_plan_validate(m, plan, &err) ||
        cli_load_cifar(dir, split ? split : "test", &data, &err) ||
        unr_runner_create(m, (int)batch, (int)threads, isa, &run, &err)) {
        rc = cli_fail("eval", &err);
        goto done;
    }
    /* A plan that changes the network is also set against the full network,
     * image by image: the change, its paired interval, the answers flipped.
     * --versus sets it against another model the same way. */
    int changed = 0;
    for (int b = 0; b < plan->num_blocks; b++)
        changed |= plan->deleted[b] || plan->order[b] != b;
    const char *versus_path = cli_get(opts, nopts, "--versus");
    int total = limit > 0 && limit < data.n ? (int)limit : data.n;
    if (!(pred = malloc(3 * (size_t)total))) {
        rc = cli_failf("eval", "out of memory");
        goto done;
    }
    cli_progress bar;
    cli_progress_start(&bar, "eval");
    unr_eval_result res, full;
    unr_status st = unr_evaluate_predict(run, plan, &data, total, cli_progress_cb, &bar, pred, &res, &err);
    cli_progress_end(&bar);
    unr_paired_change paired = {0}, versus = {0};
    unr_eval_result other_res;
    if (!st && changed)
        st = versus_full_network(run, m, &data, total, pred, pred + total, &full, &paired, &err);
    if (!st && versus_path) {
        st = unr_model_load_file(versus_path, &other, &err);
        if (!st)
            st = unr_runner_create(other, (int)batch, (int)threads, isa, &other_run, &err);
        if (!st)
            st = versus_full_network(other_run, other, &data, total, pred, pred + 2 * (size_t)total,
                                     &other_res, &versus, &err);
    }
    if (st) {
        rc = cli_fail("eval", &err);
        goto done;
    }
    const char *dump = cli_get(opts, nopts, "--dump-logits");
    if (dump && dump_logits(run, plan, &data, res.n, dump, &err)) {
        rc = cli_fail("eval", &err);
        goto done;
    }
    double ips = res.seconds > 0 ? res.n / res.seconds : 0;
    if (cli_get(opts, nopts, "--json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model_path);
        cJSON_AddNumberToObject(o, "n", res.n);
        cJSON_AddNumberToObject(o, "correct", res.correct);
        cJSON_AddNumberToObject(o, "error", res.error);
        cJSON *pc = cJSON_AddArrayToObject(o, "per_class");
        for (int c = 0; c < UNR_NUM_CLASSES; c++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "class", class_names[c]);
            cJSON_AddNumberToObject(e, "n", res.per_class_total[c]);
            cJSON_AddNumberToObject(e, "error", res.per_class_total[c] ?
                1.0 - (double)res.per_class_correct[c] / res.per_class_total[c] : 0.0);
            cJSON_AddItemToArray(pc, e);
        }
        cJSON *conf = cJSON_AddArrayToObject(o, "confusion");
        for (int c = 0; c < UNR_NUM_CLASSES; c++)
            cJSON_AddItemToArray(conf, cJSON_CreateIntArray(res.confusion[c], UNR_NUM_CLASSES));
        cJSON_AddItemToObject(o, "order", cJSON_CreateIntArray(plan->order, plan->num_blocks));
        cJSON *del = cJSON_AddArrayToObject(o, "deleted");
        for (int b = 0; b < plan->num_blocks; b++)
            if (plan->deleted[b])
                cJSON_AddItemToArray(del, cJSON_CreateNumber(b));
        if (changed)
            add_versus(o, "versus_full", NULL, full.error, &paired, pred + total, pred, data.labels);
        if (versus_path)
            add_versus(o, "versus_model", versus_path, other_res.error, &versus,
                       pred + 2 * (size_t)total, pred, data.labels);
        cJSON_AddNumberToObject(o, "seconds", res.seconds);
        cJSON_AddNumberToObject(o, "images_per_second", ips);
        cJSON_AddStringToObject(o, "isa", unr_isa_name(unr_runner_isa(run)));
        cJSON_AddStringToObject(o, "data", dir);
        char *text = cJSON_PrintUnformatted(o);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        printf("test error  %.2f%%  (%d of %d wrong)\n", 100 * res.error, res.n - res.correct, res.n);
        if (changed)
            print_versus("full net", NULL, full.error, &paired);
        if (versus_path)
            print_versus("versus", versus_path, other_res.error, &versus);
        printf("speed       %.0f images/s (%s kernels, batch %ld)\n\n", ips,
               unr_isa_name(unr_runner_isa(run)), batch);
        printf("%-11s %6s %7s\n", "class", "images", "error");
        for (int c = 0; c < UNR_NUM_CLASSES; c++)
            printf("%-11s %6d %6.2f%%\n", class_names[c], res.per_class_total[c],
                   res.per_class_total[c] ? 100.0 * (1.0 - (double)res.per_class_correct[c] /
                                                      res.per_class_total[c]) : 0.0);
        printf("\nconfusion (rows: true class, columns: predicted)\n           ");
        for (int c = 0; c < UNR_NUM_CLASSES; c++)
            printf(" %5.5s", class_names[c]);
        printf("\n");
        for (int t = 0; t < UNR_NUM_CLASSES; t++) {
            printf("%-11s", class_names[t]);
            for (int p = 0; p < UNR_NUM_CLASSES; p++)
                printf(" %5d", res.confusion[t][p]);
            printf("\n");
        }
    }
done:
    free(pred);
    unr_runner_free(other_run);
    unr_model_free(other);
    unr_runner_free(run);
    unr_cifar_free(&data);
    unr_plan_free(plan);
    unr_model_free(m);
    return rc;
}
