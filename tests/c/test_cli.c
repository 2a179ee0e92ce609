/* test_cli.c: the `unravel` command line end to end, on a tiny model it
 * makes itself: init writes a model, info describes it (text and JSON),
 * eval runs it, and bad input gives a nonzero exit with a message. The CLI
 * is $UNRAVEL_CLI (set by make test-c / test-asan), else build/unravel. */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cJSON.h"
#include "unravel.h"
#include "testing.h"
#define FIXTURES_TEMP_NAME "unr_test_cli"
#include "fixtures.h"

static const char *cli(void)
{
    const char *c = getenv("UNRAVEL_CLI");
    return c && *c ? c : "build/unravel";
}

/* Run `CLI args`, capture stdout (and stderr into a file); returns the exit
 * status, or -1 if it could not run. *out is malloc'd. */
static int run(const char *args, char **out, char **errtext)
{
    char cmd[1024], errpath[128];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", temp_dir());
    snprintf(cmd, sizeof cmd, "%s %s 2>%s", cli(), args, errpath);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    if (errtext) {
        FILE *f = fopen(errpath, "r");
        *errtext = calloc(1, 4096);
        if (f) {
            size_t k = fread(*errtext, 1, 4095, f);
            (*errtext)[k] = 0;
            fclose(f);
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int have_cli(void)
{
    struct stat sb;
    if (stat(cli(), &sb) != 0) {
        printf("skip %s: no %s\n", testing_current, cli());
        return 0;
    }
    return 1;
}

static void init_then_info_describes_the_model(void)
{
    if (!have_cli())
        return;
    char args[512], *out, *err;
    snprintf(args, sizeof args, "init --blocks-per-stage 2 --widths 4,8,16 --shortcut B --seed 3 "
             "--out %s/tiny", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    free(out), free(err);
    snprintf(args, sizeof args, "info %s/tiny.json --json", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    cJSON *o = cJSON_Parse(out);
    free(out), free(err);
    CHECK(o);
    CHECK(cJSON_GetObjectItem(o, "blocks_per_stage")->valueint == 2);
    CHECK(strcmp(cJSON_GetObjectItem(o, "shortcut")->valuestring, "B") == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "blocks")) == 6);
    /* The same numbers as the library gives for that model. */
    unr_model *m;
    unr_error e;
    snprintf(args, sizeof args, "%s/tiny.json", temp_dir());
    CHECK_OK(unr_model_load_file(args, &m, &e), e);
    CHECK(cJSON_GetObjectItem(o, "parameters")->valuedouble == (double)unr_model_num_params(m));
    CHECK_NEAR(cJSON_GetObjectItem(o, "macs_per_image")->valuedouble, unr_model_macs(m), 0.5);
    unr_model_free(m);
    cJSON_Delete(o);
    /* Text form names the network. */
    snprintf(args, sizeof args, "info %s/tiny.json", temp_dir());
    CHECK(run(args, &out, NULL) == 0);
    int ok = strstr(out, "ResNet-14") != NULL;
    free(out);
    CHECK(ok);
}

/* Per-stage block counts and four stages, from the flags to the manifest;
 * inconsistent flags are refused naming the flag. */
static void init_takes_per_stage_blocks_and_four_stages(void)
{
    if (!have_cli())
        return;
    char args[512], *out, *err;
    snprintf(args, sizeof args, "init --blocks-per-stage 2,1,1,2 --widths 4,8,12,16 --shortcut B "
             "--out %s/r18", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    free(out), free(err);
    snprintf(args, sizeof args, "info %s/r18.json --json", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    cJSON *o = cJSON_Parse(out);
    free(out), free(err);
    CHECK(o);
    CHECK(cJSON_GetObjectItem(o, "depth")->valueint == 14);
    const cJSON *bps = cJSON_GetObjectItem(o, "blocks_per_stage");
    CHECK(cJSON_IsArray(bps) && cJSON_GetArraySize(bps) == 4);
    CHECK(cJSON_GetArrayItem(bps, 3)->valueint == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "widths")) == 4);
    const cJSON *last = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "blocks"), 5);
    CHECK(cJSON_GetArrayItem(cJSON_GetObjectItem(last, "out"), 0)->valueint == 4);  /* 4x4 maps */
    cJSON_Delete(o);
    snprintf(args, sizeof args, "info %s/r18.json", temp_dir());
    CHECK(run(args, &out, NULL) == 0);
    int ok = strstr(out, "ResNet-14 for CIFAR-10: blocks 2/1/1/2, widths 4/8/12/16") != NULL;
    free(out);
    CHECK(ok);
    snprintf(args, sizeof args, "init --blocks-per-stage 1 --widths 8,8,16 --stem-width 4 --preactivation "
             "--head-bn --shortcut B --out %s/pre", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    free(out), free(err);
    snprintf(args, sizeof args, "info %s/pre.json", temp_dir());
    CHECK(run(args, &out, NULL) == 0);
    ok = strstr(out, "stem 4, pre-activation (batch norm before the pool)") != NULL;
    free(out);
    CHECK(ok);
    static const struct { const char *flags, *frag; } bad[] = {
        {"--blocks-per-stage 2,1 --widths 4,8,16", "--blocks-per-stage gives 2 stages but --widths 3"},
        {"--widths 4,8,16,32,64", "--widths"},
        {"--blocks-per-stage 2,,1", "--blocks-per-stage"},
        {"--blocks-per-stage 2,0,1", "--blocks-per-stage"},
        {"--blocks-per-stage 3,3,3,3 --width 300", "--width"},
        {"--head-bn", "--head-bn: only with --preactivation"},
        {"--stem-width 0", "--stem-width"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "init %s --out %s/never", bad[i].flags, temp_dir());
        int rc = run(args, &out, &err);
        ok = rc == 2 && strstr(err, bad[i].frag);
        if (!ok)
            fprintf(stderr, "  %s: rc %d, stderr: %s\n", bad[i].flags, rc, err);
        free(out), free(err);
        CHECK(ok);
    }
}

static void info_on_a_broken_model_fails_naming_the_field(void)
{
    if (!have_cli())
        return;
    char path[128], args[256], *out, *err;
    snprintf(path, sizeof path, "%s/bad.json", temp_dir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("{\"weights\": {\"file\": \"../x.bin\"}}", f);
    fclose(f);
    snprintf(args, sizeof args, "info %s", path);
    int rc = run(args, &out, &err);
    int ok = rc != 0 && rc != -1 && strstr(err, "weights.file");
    if (!ok)
        fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    free(out), free(err);
    CHECK(ok);
    CHECK(run("info /nonexistent/model.json", &out, &err) != 0);
    ok = strstr(err, "/nonexistent/model.json") != NULL;
    free(out), free(err);
    CHECK(ok);
    CHECK(run("frobnicate", &out, &err) == 2);
    free(out), free(err);
}

/* An option an experiment would ignore is refused, not silently dropped:
 * a base plan means nothing to the random curves (they draw their own). */
static void experiments_refuse_options_they_would_ignore(void)
{
    if (!have_cli())
        return;
    static const struct { const char *args, *says; } cases[] = {
        {"lesion --model m.json --q 0.5", "unknown option '--q'"},
        {"delete-random --model m.json --delete 3", "unknown option '--delete'"},
        {"swap-random --model m.json --order 0,2,1", "unknown option '--order'"},
        {"paths --model m.json --k 1-3", "unknown option '--k'"},
        {"lesion --model m.json --bootstrap 10", "unknown option '--bootstrap'"},
        {"paths --model m.json --bootstrap -1", "--bootstrap: '-1' is not an integer in 0..100000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *err;
        int rc = run(cases[i].args, &out, &err);
        int ok = rc == 2 && strstr(err, cases[i].says);
        if (!ok)
            fprintf(stderr, "  %s: rc %d, stderr: %s\n", cases[i].args, rc, err);
        free(out), free(err);
        CHECK(ok);
    }
    /* and the help lists only what the command takes */
    char *out;
    CHECK(run("lesion --help", &out, NULL) == 0);
    int ok = strstr(out, "--delete") && !strstr(out, "--q ") && !strstr(out, "--samples");
    free(out);
    CHECK(ok);
    /* -h is --help in every subcommand */
    const char *commands[] = {"info", "eval", "init", "lesion", "delete-random", "swap-random", "paths", "train"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char args[64], *help;
        snprintf(args, sizeof args, "%s -h", commands[i]);
        int rc = run(args, &help, NULL);
        int shows_usage = rc == 0 && strstr(help, "usage: unravel ") && strstr(help, commands[i]);
        if (!shows_usage)
            fprintf(stderr, "  %s: rc %d, stdout: %s\n", args, rc, help);
        free(help);
        CHECK(shows_usage);
    }
}

static void eval_runs_a_plan_on_cifar(void)
{
    if (!have_cli())
        return;
    const char *dir = getenv("CIFAR10_DIR");
    char path[600];
    snprintf(path, sizeof path, "%s/test_batch.bin", dir && *dir ? dir : "data/cifar10");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("skip %s: no %s\n", testing_current, path);
        return;
    }
    char args[512], *out, *err;
    snprintf(args, sizeof args, "init --blocks-per-stage 2 --widths 4,8,16 --shortcut B --seed 3 "
             "--out %s/tiny", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    free(out), free(err);
    snprintf(args, sizeof args, "eval --model %s/tiny.json --limit 50 --batch 16 --delete 1,3 "
             "--order 0,1,2,3,4,5 --json", temp_dir());
    int rc = run(args, &out, &err);
    cJSON *o = cJSON_Parse(out);
    if (rc != 0 || !o)
        fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    free(out), free(err);
    CHECK(rc == 0 && o);
    CHECK(cJSON_GetObjectItem(o, "n")->valueint == 50);
    int correct = cJSON_GetObjectItem(o, "correct")->valueint;
    CHECK(correct >= 0 && correct <= 50);
    CHECK_NEAR(cJSON_GetObjectItem(o, "error")->valuedouble, 1.0 - correct / 50.0, 1e-9);
    /* A plan that changes the network is set against the full one: the
     * change is what the answers turned wrong and right make it. */
    cJSON *v = cJSON_GetObjectItem(o, "versus_full");
    CHECK(v != NULL);
    if (v) {
        int wrong = cJSON_GetObjectItem(v, "turned_wrong")->valueint;
        int right = cJSON_GetObjectItem(v, "turned_right")->valueint;
        double full = cJSON_GetObjectItem(v, "error")->valuedouble;
        CHECK_NEAR(cJSON_GetObjectItem(v, "change")->valuedouble, (wrong - right) / 50.0, 1e-12);
        CHECK_NEAR(cJSON_GetObjectItem(o, "error")->valuedouble - full, (wrong - right) / 50.0, 1e-9);
        CHECK(cJSON_GetObjectItem(v, "ci95")->valuedouble >= 0);
        /* the images themselves, as many as counted, in order */
        cJSON *wi = cJSON_GetObjectItem(v, "turned_wrong_images"), *ri = cJSON_GetObjectItem(v, "turned_right_images");
        CHECK(cJSON_GetArraySize(wi) == wrong && cJSON_GetArraySize(ri) == right);
        for (int i = 1; i < cJSON_GetArraySize(wi); i++)
            CHECK(cJSON_GetArrayItem(wi, i)->valueint > cJSON_GetArrayItem(wi, i - 1)->valueint);
    }
    cJSON_Delete(o);
    /* --versus: against another model on the same images, paired. */
    snprintf(args, sizeof args, "init --blocks-per-stage 1 --widths 4,8,16 --shortcut A --seed 4 "
             "--out %s/other", temp_dir());
    CHECK(run(args, &out, &err) == 0);
    free(out), free(err);
    snprintf(args, sizeof args, "eval --model %s/tiny.json --limit 50 --versus %s/other.json --json",
             temp_dir(), temp_dir());
    rc = run(args, &out, &err);
    o = cJSON_Parse(out);
    free(out), free(err);
    CHECK(rc == 0 && o);
    cJSON *vm = o ? cJSON_GetObjectItem(o, "versus_model") : NULL;
    CHECK(vm != NULL && !cJSON_GetObjectItem(o, "versus_full"));
    if (vm) {
        int wrong = cJSON_GetObjectItem(vm, "turned_wrong")->valueint;
        int right = cJSON_GetObjectItem(vm, "turned_right")->valueint;
        CHECK_NEAR(cJSON_GetObjectItem(o, "error")->valuedouble - cJSON_GetObjectItem(vm, "error")->valuedouble,
                   (wrong - right) / 50.0, 1e-9);
        CHECK(strstr(cJSON_GetObjectItem(vm, "model")->valuestring, "other.json") != NULL);
    }
    cJSON_Delete(o);
    snprintf(args, sizeof args, "eval --model %s/tiny.json --limit 5 --versus %s/missing.json",
             temp_dir(), temp_dir());
    rc = run(args, &out, &err);
    int named = rc != 0 && strstr(err, "missing.json");
    if (!named)
        fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    free(out), free(err);
    CHECK(named);
    /* The full network alone has nothing to be set against. */
    snprintf(args, sizeof args, "eval --model %s/tiny.json --limit 20 --json", temp_dir());
    rc = run(args, &out, &err);
    o = cJSON_Parse(out);
    free(out), free(err);
    CHECK(rc == 0 && o && !cJSON_GetObjectItem(o, "versus_full"));
    cJSON_Delete(o);
    /* An invalid plan is an error with a reason. */
    snprintf(args, sizeof args, "eval --model %s/tiny.json --limit 5 --order 0,1,3,2,4,5",
             temp_dir());
    rc = run(args, &out, &err);
    int ok = rc != 0 && strstr(err, "downsampling");
    if (!ok)
        fprintf(stderr, "  rc %d, stderr: %s\n", rc, err);
    free(out), free(err);
    CHECK(ok);
}

/* With no --data and no $CIFAR10_DIR, the CLI reads data/cifar10 under the
 * working directory; where that is missing, its error says how to fill it. */
static void missing_default_data_says_how_to_get_it(void)
{
    if (!have_cli())
        return;
    char abs_cli[1024], cwd[512], cmd[4096], *out = NULL, *err = NULL;
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(abs_cli, sizeof abs_cli, "%s%s%s", cli()[0] == '/' ? "" : cwd, cli()[0] == '/' ? "" : "/", cli());
    snprintf(cmd, sizeof cmd, "init --blocks-per-stage 1 --widths 4,8,16 --out %s/nodata", temp_dir());
    CHECK(run(cmd, &out, &err) == 0);
    free(out), free(err);
    char errpath[600];
    snprintf(errpath, sizeof errpath, "%s/nodata-stderr.txt", temp_dir());
    snprintf(cmd, sizeof cmd, "cd %s && env -u CIFAR10_DIR %s eval --model nodata.json --limit 5 2>%s >/dev/null",
             temp_dir(), abs_cli, errpath);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    FILE *f = fopen(errpath, "r");
    char text[1024] = {0};
    if (f) {
        size_t k = fread(text, 1, sizeof text - 1, f);
        text[k] = 0;
        fclose(f);
    }
    int ok = strstr(text, "data/cifar10/test_batch.bin: cannot open") && strstr(text, "run `make data`");
    if (!ok)
        fprintf(stderr, "  stderr: %s\n", text);
    CHECK(ok);
}

/* Each experiment's --help offers exactly the registry's parameters of it
 * (unr_experiments), with the registry's defaults. */
static void experiment_options_come_from_the_registry(void)
{
    if (!have_cli())
        return;
    int n;
    const unr_experiment *e = unr_experiments(&n);
    const unr_param *p = unr_params();
    CHECK(n >= 4);
    for (int i = 0; i < n; i++) {
        CHECK(unr_experiment_find(e[i].name) == &e[i] && unr_experiment_find(e[i].js_name) == &e[i]);
        char args[64], *out = NULL, *err = NULL;
        snprintf(args, sizeof args, "%s --help", e[i].name);
        CHECK(run(args, &out, &err) == 0);
        for (int j = 0; j < UNR_PARAM_COUNT; j++) {
            char opt[40];
            snprintf(opt, sizeof opt, "\n  --%s ", p[j].name);
            int offered = strstr(out, opt) != NULL;
            if (offered != unr_experiment_takes(&e[i], (unr_param_id)j))
                fprintf(stderr, "  %s: --%s %s\n", e[i].name, p[j].name, offered ? "offered, not taken" : "taken, not offered");
            CHECK(offered == unr_experiment_takes(&e[i], (unr_param_id)j));
            if (offered && e[i].defaults[j] != 0 && j != UNR_PARAM_KS) {
                char def[48];
                snprintf(def, sizeof def, "(default %g)", e[i].defaults[j]);
                const char *line = strstr(out, opt);
                const char *eol = strchr(line + 1, '\n');
                CHECK(strstr(line, def) && (!eol || strstr(line, def) < eol));
            }
            /* and every default is within its range */
            if (unr_experiment_takes(&e[i], (unr_param_id)j) && j != UNR_PARAM_LIMIT && j != UNR_PARAM_BASE_PLAN && j != UNR_PARAM_KS)
                CHECK(e[i].defaults[j] >= p[j].min && e[i].defaults[j] <= p[j].max);
        }
        free(out), free(err);
    }
}

TEST_MAIN(
    TEST_CASE(init_then_info_describes_the_model),
    TEST_CASE(init_takes_per_stage_blocks_and_four_stages),
    TEST_CASE(info_on_a_broken_model_fails_naming_the_field),
    TEST_CASE(experiments_refuse_options_they_would_ignore),
    TEST_CASE(eval_runs_a_plan_on_cifar),
    TEST_CASE(missing_default_data_says_how_to_get_it),
    TEST_CASE(experiment_options_come_from_the_registry))
