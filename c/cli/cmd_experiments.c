/* cmd_experiments.c: `unravel lesion`, `delete-random`, `swap-random` and
 * `paths`: the experiments of PAPER.md from the command line. JSON (--json)
 * or CSV (--csv) on stdout, a table otherwise, progress on stderr. */
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "cli.h"

/* ---- what every experiment shares ---- */

typedef struct {
    const char *split;
    unr_model *m;
    unr_cifar data;
    unr_runner *run;
    unr_plan *plan;
    long limit, samples, seed, batch;
    int json, csv;
    const char *model_path;
} session;

enum { OPT_MODEL, OPT_DATA, OPT_SPLIT, OPT_LIMIT, OPT_SAMPLES, OPT_SEED, OPT_BATCH, OPT_THREADS,
       OPT_JSON, OPT_CSV, OPT_DELETE, OPT_ORDER, OPT_KS, OPT_Q, OPT_BOOTSTRAP, OPT_HELP, OPT_COUNT };

/* The CLI option of each of the registry's parameters (unravel.h); the base
 * plan is two options. The others are the CLI's own. */
static const int param_option[UNR_PARAM_COUNT] = {
    [UNR_PARAM_LIMIT] = OPT_LIMIT, [UNR_PARAM_BATCH] = OPT_BATCH, [UNR_PARAM_SAMPLES] = OPT_SAMPLES,
    [UNR_PARAM_SEED] = OPT_SEED, [UNR_PARAM_KS] = OPT_KS, [UNR_PARAM_Q] = OPT_Q,
    [UNR_PARAM_BOOTSTRAP] = OPT_BOOTSTRAP, [UNR_PARAM_BASE_PLAN] = OPT_DELETE,
};

/* The options of experiment e: what every command takes, plus the registry's
 * parameters of e, with their defaults in the help; an option e would ignore
 * is left out, so it is refused rather than dropped. */
static void experiment_options(cli_option *o, const unr_experiment *e)
{
    static char help[UNR_PARAM_COUNT][160], split_help[64];
    const unr_param *p = unr_params();
    snprintf(split_help, sizeof split_help, "test or train (default %s)", e->split);
    cli_option all[OPT_COUNT] = {
        [OPT_MODEL] = {"--model", 1, "model manifest (MODEL.json)", NULL},
        [OPT_DATA] = {"--data", 1, "CIFAR-10 directory (default $CIFAR10_DIR or data/cifar10)", NULL},
        [OPT_SPLIT] = {"--split", 1, split_help, NULL},
        [OPT_THREADS] = {"--threads", 1, "threads (default: one per CPU)", NULL},
        [OPT_JSON] = {"--json", 0, "print one JSON object", NULL},
        [OPT_CSV] = {"--csv", 0, "print CSV", NULL},
        [OPT_ORDER] = {NULL, 1, "base plan: block order", NULL},
        [OPT_HELP] = {"--help", 0, "show this help", NULL},
    };
    for (int i = 0; i < UNR_PARAM_COUNT; i++) {
        cli_option *c = &all[param_option[i]];
        *c = (cli_option){NULL, 1, help[i], NULL};
        if (!unr_experiment_takes(e, (unr_param_id)i))
            continue;
        static char names[UNR_PARAM_COUNT][24];
        snprintf(names[i], sizeof names[i], "--%s", p[i].name);
        c->name = names[i];
        /* defaults that are not "all" or a list are said in the help */
        if (i == UNR_PARAM_LIMIT || i == UNR_PARAM_KS || i == UNR_PARAM_BASE_PLAN)
            snprintf(help[i], sizeof help[i], "%s", p[i].help);
        else
            snprintf(help[i], sizeof help[i], "%s (default %g)", p[i].help, e->defaults[i]);
    }
    if (unr_experiment_takes(e, UNR_PARAM_BASE_PLAN))
        all[OPT_ORDER].name = "--order";
    memcpy(o, all, sizeof all);
}

/* An integer parameter of e: its option, within the registry's range, else its default. */
static int get_param(const char *cmd, const cli_option *o, const unr_experiment *e, unr_param_id id,
                     long *out)
{
    const unr_param *p = &unr_params()[id];
    char name[24];
    snprintf(name, sizeof name, "--%s", p->name);
    long lo = (long)p->min;
    if (id == UNR_PARAM_LIMIT)
        lo = 1;   /* --limit 0 says nothing: leave it out for all */
    return cli_get_int(cmd, o, OPT_COUNT, name, lo, (long)p->max, (long)e->defaults[id], out);
}

static int open_session(const char *cmd, cli_option *o, const unr_experiment *e, session *s)
{
    memset(s, 0, sizeof *s);
    long threads;
    if (get_param(cmd, o, e, UNR_PARAM_LIMIT, &s->limit) ||
        get_param(cmd, o, e, UNR_PARAM_SAMPLES, &s->samples) ||
        get_param(cmd, o, e, UNR_PARAM_SEED, &s->seed) ||
        get_param(cmd, o, e, UNR_PARAM_BATCH, &s->batch) ||
        cli_get_int(cmd, o, OPT_COUNT, "--threads", 0, 256, 0, &threads))
        return 2;
    s->json = o[OPT_JSON].value != NULL;
    s->csv = o[OPT_CSV].value != NULL;
    s->model_path = o[OPT_MODEL].value;
    if (!s->model_path)
        return cli_failf(cmd, "--model: missing (a model manifest, e.g. models/resnet20.json)");
    const char *split = o[OPT_SPLIT].value ? o[OPT_SPLIT].value : e->split;
    s->split = split;
    unr_error err;
    if (unr_model_load_file(s->model_path, &s->m, &err) ||
        cli_load_cifar(o[OPT_DATA].value, split, &s->data, &err) ||
        unr_runner_create(s->m, (int)s->batch, (int)threads, UNR_ISA_AUTO, &s->run, &err))
        return cli_fail(cmd, &err);
    s->plan = unr_plan_create(s->m);
    if (!s->plan)
        return cli_failf(cmd, "out of memory");
    if (unr_plan_parse(s->plan, o[OPT_DELETE].value, o[OPT_ORDER].value, &err) ||
        unr_plan_validate(s->m, s->plan, &err))
        return cli_fail(cmd, &err);
    return 0;
}

static void close_session(session *s)
{
    unr_plan_free(s->plan);
    unr_runner_free(s->run);
    unr_cifar_free(&s->data);
    unr_model_free(s->m);
}

static void print_json(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static cJSON *json_header(const session *s, const char *experiment, const char *split)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "experiment", experiment);
    cJSON_AddStringToObject(o, "model", s->model_path);
    cJSON_AddNumberToObject(o, "num_blocks", unr_model_num_blocks(s->m));   // lesion adds "blocks", the table
    cJSON_AddStringToObject(o, "shortcut", unr_shortcut_name(unr_model_arch(s->m)->shortcut));
    cJSON_AddNumberToObject(o, "images", s->limit > 0 && s->limit < s->data.n ? s->limit : s->data.n);
    cJSON_AddStringToObject(o, "split", split);
    cJSON_AddStringToObject(o, "data_note", strcmp(split, "test") == 0 ?
                            "CIFAR-10 test set rebuilt offline: labels exact, records 0-999 "
                            "pixel-exact, the rest decoded from JPEG copies" :
                            "CIFAR-10 training set rebuilt offline: labels exact, data_batch_1 "
                            "records 0-3999 pixel-exact, the rest decoded from JPEG copies");
    return o;
}

/* "0,1,5" or "0-10" or a mix; default 0..most. Returns the count or -1. */
static int parse_ks(const char *cmd, const char *text, int most, int **out)
{
    int *ks = malloc((size_t)(most + 1) * sizeof *ks), n = 0;
    if (!ks)
        return -1;
    if (!text) {
        for (int k = 0; k <= most; k++)
            ks[n++] = k;
        *out = ks;
        return n;
    }
    const char *p = text;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            goto bad;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p)
                goto bad;
        }
        if (a < 0 || b > most || a > b) {
            free(ks);
            cli_failf(cmd, "--k: %ld-%ld is outside 0..%d", a, b, most);
            return -1;
        }
        for (long k = a; k <= b && n <= most; k++)
            ks[n++] = (int)k;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            goto bad;
    }
    *out = ks;
    return n;
bad:
    free(ks);
    cli_failf(cmd, "--k: '%s' is not a list like 0,1,5 or 0-10", text);
    return -1;
}

/* ---- lesion ---- */

int cmd_lesion(int argc, char **argv)
{
    const unr_experiment *e = unr_experiment_find("lesion");
    cli_option o[OPT_COUNT];
    experiment_options(o, e);
    if (cli_parse_options("lesion", argc, argv, o, OPT_COUNT))
        return 2;
    if (o[OPT_HELP].value) {
        cli_usage("lesion", "--model MODEL.json [--limit N] [--json|--csv]: test error with each "
                  "block deleted alone", o, OPT_COUNT);
        return 0;
    }
    session s;
    int rc = open_session("lesion", o, e, &s);
    if (rc) {
        close_session(&s);
        return rc;
    }
    unr_error err;
    unr_lesion_result res;
    cli_progress bar;
    cli_progress_start(&bar, "lesion");
    unr_status st = unr_lesion_single(s.run, s.plan, &s.data, (int)s.limit, cli_progress_cb, &bar,
                                      &res, &err);
    cli_progress_end(&bar);
    if (st) {
        close_session(&s);
        return cli_fail("lesion", &err);
    }
    int nb = unr_model_num_blocks(s.m);
    if (s.json) {
        cJSON *j = json_header(&s, "lesion", s.split);
        cJSON_AddNumberToObject(j, "full_error", res.full_error);
        cJSON_AddNumberToObject(j, "forward_equivalents", res.forward_equivalents);
        cJSON *arr = cJSON_AddArrayToObject(j, "blocks");
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = unr_model_block(s.m, b);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "block", b);
            cJSON_AddNumberToObject(e, "stage", bi->stage + 1);
            cJSON_AddBoolToObject(e, "downsample", bi->downsample);
            if (res.error[b] < 0) {
                cJSON_AddNullToObject(e, "error");
            } else {
                cJSON_AddNumberToObject(e, "error", res.error[b]);
                cJSON_AddNumberToObject(e, "turned_wrong", res.turned_wrong[b]);
                cJSON_AddNumberToObject(e, "turned_right", res.turned_right[b]);
                cJSON_AddNumberToObject(e, "ci95", unr_paired_ci95(res.n, res.turned_wrong[b],
                                                                   res.turned_right[b]));
            }
            cJSON_AddItemToArray(arr, e);
        }
        print_json(j);
    } else if (s.csv) {
        printf("block,stage,downsample,error,turned_wrong,turned_right,ci95\n");
        printf("none,,,%.6f,,,\n", res.full_error);
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = unr_model_block(s.m, b);
            if (res.error[b] < 0)
                printf("%d,%d,%d,,,,\n", b, bi->stage + 1, bi->downsample);
            else
                printf("%d,%d,%d,%.6f,%d,%d,%.6f\n", b, bi->stage + 1, bi->downsample, res.error[b],
                       res.turned_wrong[b], res.turned_right[b],
                       unr_paired_ci95(res.n, res.turned_wrong[b], res.turned_right[b]));
        }
    } else {
        printf("full network: %.2f%% error on %d images\n\n", 100 * res.full_error, res.n);
        printf("deleted  stage  error    change  +-95%%  turned wrong / right\n");
        for (int b = 0; b < nb; b++) {
            const unr_block_info *bi = unr_model_block(s.m, b);
            if (res.error[b] < 0)
                printf("%7d  %5d  (cannot be deleted: plain downsampling block)\n", b, bi->stage + 1);
            else
                printf("%7d  %5d  %6.2f%%  %+6.2f  %5.2f  %6d / %d%s\n", b, bi->stage + 1,
                       100 * res.error[b], 100 * (res.error[b] - res.full_error),
                       100 * unr_paired_ci95(res.n, res.turned_wrong[b], res.turned_right[b]),
                       res.turned_wrong[b], res.turned_right[b], bi->downsample ? "  downsampling" : "");
        }
        printf("(change: points of error; +-95%%: its 95%% interval, paired image by image)\n");
        printf("\ncost: %.2f forward-pass equivalents (activations before each deleted block reused)\n",
               res.forward_equivalents);
    }
    unr_lesion_result_free(&res);
    close_session(&s);
    return 0;
}

/* ---- delete-random and swap-random ---- */

static int random_curve(const char *cmd, unr_random_kind kind, int argc, char **argv)
{
    const unr_experiment *e = unr_experiment_find(cmd);
    cli_option o[OPT_COUNT];
    experiment_options(o, e);
    if (cli_parse_options(cmd, argc, argv, o, OPT_COUNT))
        return 2;
    if (o[OPT_HELP].value) {
        cli_usage(cmd, kind == UNR_RANDOM_DELETE ?
                  "--model MODEL.json [--k 0-20] [--samples S] [--seed N]: error after deleting k random blocks" :
                  "--model MODEL.json [--k 0-20] [--samples S] [--seed N]: error after k random swaps",
                  o, OPT_COUNT);
        return 0;
    }
    session s;
    int rc = open_session(cmd, o, e, &s);
    if (rc) {
        close_session(&s);
        return rc;
    }
    int most = kind == UNR_RANDOM_DELETE ? unr_max_deletions(s.m) : unr_max_swaps(s.m);
    int *ks = NULL, nks = parse_ks(cmd, o[OPT_KS].value, most, &ks);
    if (nks < 0) {
        close_session(&s);
        return 2;
    }
    unr_curve_point *pts = calloc((size_t)nks, sizeof *pts);
    unr_error err;
    cli_progress bar;
    cli_progress_start(&bar, cmd);
    unr_status st = unr_random_curve(s.run, kind, &s.data, (int)s.limit, ks, nks, (int)s.samples,
                                     (uint64_t)s.seed, cli_progress_cb, &bar, pts, &err);
    cli_progress_end(&bar);
    if (st) {
        free(pts), free(ks);
        close_session(&s);
        return cli_fail(cmd, &err);
    }
    if (s.json) {
        cJSON *j = json_header(&s, cmd, s.split);
        cJSON_AddNumberToObject(j, "samples", s.samples);
        cJSON_AddNumberToObject(j, "seed", s.seed);
        cJSON *arr = cJSON_AddArrayToObject(j, "points");
        for (int i = 0; i < nks; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "k", pts[i].k);
            cJSON_AddNumberToObject(e, "mean", pts[i].mean);
            cJSON_AddNumberToObject(e, "sd", pts[i].sd);
            cJSON_AddNumberToObject(e, "min", pts[i].min);
            cJSON_AddNumberToObject(e, "max", pts[i].max);
            if (kind == UNR_RANDOM_SWAP) {
                cJSON_AddNumberToObject(e, "tau", pts[i].tau);
                cJSON_AddItemToObject(e, "taus", cJSON_CreateDoubleArray(pts[i].taus, (int)s.samples));
            }
            cJSON_AddItemToObject(e, "errors", cJSON_CreateDoubleArray(pts[i].errors, (int)s.samples));
            cJSON_AddItemToArray(arr, e);
        }
        print_json(j);
    } else {
        if (s.csv)
            printf("k,mean,sd,min,max%s\n", kind == UNR_RANDOM_SWAP ? ",tau" : "");
        else
            printf("%5s  %8s  %7s  %7s  %7s%s\n", "k", "mean", "sd", "min", "max",
                   kind == UNR_RANDOM_SWAP ? "  Kendall tau" : "");
        for (int i = 0; i < nks; i++) {
            const unr_curve_point *p = &pts[i];
            if (s.csv)
                printf("%d,%.6f,%.6f,%.6f,%.6f", p->k, p->mean, p->sd, p->min, p->max);
            else
                printf("%5d  %7.2f%%  %6.2f%%  %6.2f%%  %6.2f%%", p->k, 100 * p->mean, 100 * p->sd,
                       100 * p->min, 100 * p->max);
            if (kind == UNR_RANDOM_SWAP)
                printf(s.csv ? ",%.4f" : "  %11.3f", p->tau);
            printf("\n");
        }
    }
    unr_curve_free(pts, nks);
    free(pts);
    free(ks);
    close_session(&s);
    return 0;
}

int cmd_delete_random(int argc, char **argv)
{
    return random_curve("delete-random", UNR_RANDOM_DELETE, argc, argv);
}

int cmd_swap_random(int argc, char **argv)
{
    return random_curve("swap-random", UNR_RANDOM_SWAP, argc, argv);
}

/* ---- paths ---- */

int cmd_paths(int argc, char **argv)
{
    const unr_experiment *e = unr_experiment_find("paths");
    cli_option o[OPT_COUNT];
    experiment_options(o, e);
    if (cli_parse_options("paths", argc, argv, o, OPT_COUNT))
        return 2;
    if (o[OPT_HELP].value) {
        cli_usage("paths", "--model MODEL.json [--samples S] [--batch B] [--q 0.9]: path lengths, "
                  "gradient per path length, effective paths", o, OPT_COUNT);
        return 0;
    }
    double q;
    long resamples;
    const unr_param *p = unr_params();
    if (cli_get_double("paths", o, OPT_COUNT, "--q", p[UNR_PARAM_Q].min, p[UNR_PARAM_Q].max,
                       e->defaults[UNR_PARAM_Q], &q) ||
        get_param("paths", o, e, UNR_PARAM_BOOTSTRAP, &resamples))
        return 2;
    session s;
    int rc = open_session("paths", o, e, &s);
    if (rc) {
        close_session(&s);
        return rc;
    }
    unr_error err;
    unr_paths_result res;
    cli_progress bar;
    cli_progress_start(&bar, "paths");
    /* Batches are drawn from the first --limit images (default all). */
    unr_cifar view = s.data;
    if (s.limit > 0 && s.limit < view.n)
        view.n = (int)s.limit;
    unr_status st = unr_path_stats(s.run, &view, (int)s.samples, (int)s.batch, (uint64_t)s.seed, q,
                                   cli_progress_cb, &bar, &res, &err);
    cli_progress_end(&bar);
    unr_window_spread spread = {0};
    if (!st && resamples > 0)
        st = unr_window_bootstrap(res.n, res.norms, res.samples, q, (int)resamples, (uint64_t)s.seed,
                                  &spread, &err);
    if (st) {
        unr_paths_result_free(&res);
        close_session(&s);
        return cli_fail("paths", &err);
    }
    int n = res.n;
    if (s.json) {
        cJSON *j = json_header(&s, "paths", s.split);
        cJSON_AddNumberToObject(j, "samples", res.samples);
        cJSON_AddNumberToObject(j, "batch", res.batch);
        cJSON_AddNumberToObject(j, "seed", s.seed);
        cJSON_AddItemToObject(j, "distribution", cJSON_CreateDoubleArray(res.distribution, n + 1));
        cJSON_AddItemToObject(j, "grad_mean", cJSON_CreateDoubleArray(res.grad_mean, n + 1));
        cJSON_AddItemToObject(j, "grad_sd", cJSON_CreateDoubleArray(res.grad_sd, n + 1));
        cJSON_AddItemToObject(j, "total_share", cJSON_CreateDoubleArray(res.total_share, n + 1));
        cJSON *norms = cJSON_AddArrayToObject(j, "norms");   /* [length][sample], as the JS API's */
        for (int k = 0; k <= n; k++)
            cJSON_AddItemToArray(norms, cJSON_CreateDoubleArray(res.norms + (size_t)k * res.samples,
                                                                res.samples));
        cJSON *w = cJSON_AddObjectToObject(j, "window");
        cJSON_AddNumberToObject(w, "a", res.window.a);
        cJSON_AddNumberToObject(w, "b", res.window.b);
        cJSON_AddNumberToObject(w, "q", res.window.q);
        cJSON_AddNumberToObject(w, "mass", res.window.mass);
        cJSON_AddNumberToObject(w, "share_of_paths", res.window.share);
        if (resamples > 0) {
            cJSON *b = cJSON_AddObjectToObject(w, "bootstrap");
            int a_range[2] = {spread.a_lo, spread.a_hi}, b_range[2] = {spread.b_lo, spread.b_hi};
            double share_range[2] = {spread.share_lo, spread.share_hi};
            cJSON_AddNumberToObject(b, "resamples", spread.resamples);
            cJSON_AddNumberToObject(b, "level", 0.95);
            cJSON_AddItemToObject(b, "a", cJSON_CreateIntArray(a_range, 2));
            cJSON_AddItemToObject(b, "b", cJSON_CreateIntArray(b_range, 2));
            cJSON_AddItemToObject(b, "share_of_paths", cJSON_CreateDoubleArray(share_range, 2));
            cJSON_AddNumberToObject(b, "same_window", spread.same);
        }
        print_json(j);
    } else {
        if (s.csv)
            printf("length,paths_fraction,grad_mean,grad_sd,total_share\n");
        else
            printf("%6s  %12s  %12s  %12s  %12s\n", "length", "of paths", "grad norm", "sd", "of gradient");
        for (int k = 0; k <= n; k++)
            printf(s.csv ? "%d,%.6g,%.6g,%.6g,%.6g\n" : "%6d  %12.4g  %12.4g  %12.4g  %12.4g\n", k,
                   res.distribution[k], res.grad_mean[k], res.grad_sd[k], res.total_share[k]);
        if (!s.csv)
            printf("\neffective paths: lengths %d-%d carry %.1f%% of the gradient (q = %.2f) and are "
                   "%.4f%% of all 2^%d paths\n(%ld samples per length, batches of %ld images)\n",
                   res.window.a, res.window.b, 100 * res.window.mass, q, 100 * res.window.share, n,
                   s.samples, s.batch);
        if (!s.csv && resamples > 0)
            printf("bootstrap (%d resamples of the samples): the same window in %.0f%% of them; 95%% of "
                   "windows start at %d-%d and end at %d-%d\n", spread.resamples, 100 * spread.same,
                   spread.a_lo, spread.a_hi, spread.b_lo, spread.b_hi);
    }
    unr_paths_result_free(&res);
    close_session(&s);
    return 0;
}
