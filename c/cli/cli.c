/* cli.c: option parsing, errors and progress bars for the `unravel` tool. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_parse_options(const char *cmd, int argc, char **argv, cli_option *opts, int nopts)
{
    for (int i = 0; i < nopts; i++)
        opts[i].value = NULL;
    for (int i = 0; i < argc; i++) {
        /* -h is --help in every subcommand, as in most tools. */
        const char *a = strcmp(argv[i], "-h") == 0 ? "--help" : argv[i];
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        int found = -1;
        for (int j = 0; j < nopts; j++)
            if (opts[j].name && strlen(opts[j].name) == len && strncmp(opts[j].name, a, len) == 0)
                found = j;
        if (found < 0) {
            fprintf(stderr, "unravel %s: unknown option '%s' (see unravel %s --help)\n", cmd, a, cmd);
            return -1;
        }
        cli_option *o = &opts[found];
        if (!o->takes_value) {
            if (eq) {
                fprintf(stderr, "unravel %s: %s takes no value\n", cmd, o->name);
                return -1;
            }
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "unravel %s: %s needs a value\n", cmd, o->name);
            return -1;
        }
    }
    return 0;
}

const char *cli_get(const cli_option *opts, int nopts, const char *name)
{
    for (int i = 0; i < nopts; i++)
        if (opts[i].name && strcmp(opts[i].name, name) == 0)
            return opts[i].value;
    return NULL;
}

int cli_get_int(const char *cmd, const cli_option *opts, int nopts, const char *name, long lo,
                long hi, long fallback, long *out)
{
    const char *v = cli_get(opts, nopts, name);
    if (!v) {
        *out = fallback;
        return 0;
    }
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "unravel %s: %s: '%s' is not an integer in %ld..%ld\n", cmd, name, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_get_double(const char *cmd, const cli_option *opts, int nopts, const char *name,
                   double lo, double hi, double fallback, double *out)
{
    const char *v = cli_get(opts, nopts, name);
    if (!v) {
        *out = fallback;
        return 0;
    }
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "unravel %s: %s: '%s' is not a number in %g..%g\n", cmd, name, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

void cli_usage(const char *cmd, const char *synopsis, const cli_option *opts, int nopts)
{
    printf("usage: unravel %s %s\n\n", cmd, synopsis);
    for (int i = 0; i < nopts; i++)
        if (opts[i].name)
            printf("  %-22s %s\n", opts[i].name, opts[i].help);
}

const char *cli_take_operand(int *argc, char ***argv)
{
    if (*argc <= 0 || (*argv)[0][0] == '-')
        return NULL;
    const char *operand = (*argv)[0];
    (*argc)--, (*argv)++;
    return operand;
}

int cli_fail(const char *cmd, const unr_error *err)
{
    fprintf(stderr, "unravel %s: %s\n", cmd, err->message[0] ? err->message :
            unr_status_name(err->status));
    return 1;
}

int cli_failf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "unravel %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void cli_progress_start(cli_progress *p, const char *label)
{
    p->label = label;
    p->t0 = now();
    p->last_draw = 0;
    p->tty = isatty(fileno(stderr));
}

int cli_progress_cb(void *user, double done, double total)
{
    cli_progress *p = user;
    if (!p || !p->tty)
        return 0;
    double t = now();
    if (t - p->last_draw < 0.1 && done < total)
        return 0;
    p->last_draw = t;
    double frac = total > 0 ? done / total : 1.0;
    int width = 30, fill = (int)(frac * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    double el = t - p->t0, eta = frac > 0 ? el * (1 - frac) / frac : 0;
    fprintf(stderr, "\r%s [%s] %5.1f%% %.0f/%.0f  %.1fs, eta %.1fs ", p->label, bar, 100 * frac,
            done, total, el, eta);
    fflush(stderr);
    return 0;
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty) {
        fprintf(stderr, "\r%*s\r", 100, "");
        fflush(stderr);
    }
}

const char *cli_data_dir(const char *flag_value)
{
    if (flag_value)
        return flag_value;
    const char *env = getenv("CIFAR10_DIR");
    return env && *env ? env : CLI_DEFAULT_DATA_DIR;
}

unr_status cli_load_cifar(const char *flag_value, const char *split, unr_cifar *out, unr_error *err)
{
    const char *dir = cli_data_dir(flag_value);
    unr_status st = unr_cifar_load_split(dir, split, out, err);
    /* The default place, empty: say how to fill it rather than only "cannot open". */
    if (st == UNR_ERR_IO && strcmp(dir, CLI_DEFAULT_DATA_DIR) == 0) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used,
                 " (run `make data` in the repository, or give --data DIR or set CIFAR10_DIR)");
    }
    return st;
}

/* "a,b,c": 1..UNR_MAX_STAGES integers in lo..hi; returns the count, or 0
 * with a message naming the flag. */
static int parse_stage_list(const char *cmd, const char *flag, const char *text, long lo, long hi,
                            int *out)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < lo || v > hi || n == UNR_MAX_STAGES || (*end && *end != ',')) {
            cli_failf(cmd, "%s: '%s' is not 1 to %d comma-separated integers in %ld..%ld", flag,
                      text, UNR_MAX_STAGES, lo, hi);
            return 0;
        }
        out[n++] = (int)v;
        if (!*end)
            return n;
        p = end + 1;
    }
}

int cli_get_arch(const char *cmd, const cli_option *opts, int nopts, unr_arch *out)
{
    /* --blocks-per-stage N (every stage) or a,b,c,d (one per stage);
     * --widths a,b,c,d or --width W (W, 2W, 4W, ... per stage). The stage
     * count comes from whichever list is given, else 3. */
    *out = (unr_arch){.shortcut = UNR_SHORTCUT_A, .num_classes = UNR_NUM_CLASSES, .bn_eps = 1e-5f};
    int blocks[UNR_MAX_STAGES], widths[UNR_MAX_STAGES], nb = 0, nw = 0;
    const char *bt = cli_get(opts, nopts, "--blocks-per-stage"), *wt = cli_get(opts, nopts, "--widths");
    if (bt && !(nb = parse_stage_list(cmd, "--blocks-per-stage", bt, 1, UNR_MAX_BLOCKS_PER_STAGE, blocks)))
        return 2;
    if (wt && !(nw = parse_stage_list(cmd, "--widths", wt, 1, UNR_MAX_WIDTH, widths)))
        return 2;
    if (nb > 1 && nw && nb != nw) {
        cli_failf(cmd, "--blocks-per-stage gives %d stages but --widths %d", nb, nw);
        return 2;
    }
    int stages = nb > 1 ? nb : nw ? nw : 3;
    long w;
    if (cli_get_int(cmd, opts, nopts, "--width", 1, UNR_MAX_WIDTH >> (stages - 1), 16, &w))
        return 2;
    out->num_stages = stages;
    for (int s = 0; s < stages; s++) {
        out->stage_blocks[s] = nb == 0 ? 3 : nb == 1 ? blocks[0] : blocks[s];
        out->widths[s] = nw ? widths[s] : (int)w << s;
    }
    long stem = 0;
    if (cli_get(opts, nopts, "--stem-width") &&
        cli_get_int(cmd, opts, nopts, "--stem-width", 1, UNR_MAX_WIDTH, 0, &stem))
        return 2;
    out->stem_width = (int)stem;
    out->preactivation = cli_get(opts, nopts, "--preactivation") != NULL;
    out->head_bn = cli_get(opts, nopts, "--head-bn") != NULL;
    if (out->head_bn && !out->preactivation) {
        cli_failf(cmd, "--head-bn: only with --preactivation");
        return 2;
    }
    const char *sc = cli_get(opts, nopts, "--shortcut");
    if (sc && unr_shortcut_parse(sc, &out->shortcut)) {
        cli_failf(cmd, "--shortcut: '%s' is not A, B or none", sc);
        return 2;
    }
    *out = unr_arch_resolve(out);
    return 0;
}
