/* cli.h: what the subcommands of the `unravel` tool share. */
#ifndef UNR_CLI_H
#define UNR_CLI_H

#include <stdio.h>
#include "../unravel.h"

/* Options: each subcommand lists the flags it takes; parse_options rejects
 * anything else with a one-line error. */
typedef struct {
    const char *name;     /* "--model"; NULL: not taken by this subcommand (skipped) */
    int takes_value;      /* 0 for a switch like --json */
    const char *help;
    const char *value;    /* filled by parse_options (or "1" for a switch) */
} cli_option;

int cli_parse_options(const char *cmd, int argc, char **argv, cli_option *opts, int nopts);
const char *cli_get(const cli_option *opts, int nopts, const char *name);
/* Integer option with range check; returns 0 or prints an error and returns -1. */
int cli_get_int(const char *cmd, const cli_option *opts, int nopts, const char *name,
                long lo, long hi, long fallback, long *out);
int cli_get_double(const char *cmd, const cli_option *opts, int nopts, const char *name,
                   double lo, double hi, double fallback, double *out);
/* The options cli_get_arch reads (but --shortcut), for init's and train's tables. */
#define CLI_ARCH_OPTIONS                                                                                  \
    {"--blocks-per-stage", 1, "n for every stage (depth 6n+2 with 3 stages; 3 = ResNet-20), or one "      \
                              "count per stage, e.g. 2,2,2,2 (4 stages at most)", NULL},                  \
    {"--width", 1, "width of the first stage (default 16; stages are W, 2W, 4W, ...)", NULL},             \
    {"--widths", 1, "one width per stage, e.g. 8,16,32 or 64,128,256,512 (overrides --width)", NULL},     \
    {"--stem-width", 1, "channels out of the stem (default: the first stage's; 16 in Wide ResNets)", NULL}, \
    {"--preactivation", 0, "pre-activation blocks (He et al. 2016b: PreActResNet, Wide ResNet)", NULL},   \
    {"--head-bn", 0, "with --preactivation: batch norm + ReLU before the pool", NULL}

/* The architecture from --blocks-per-stage, --width/--widths, --shortcut;
 * returns 0 or prints an error and returns an exit code. */
int cli_get_arch(const char *cmd, const cli_option *opts, int nopts, unr_arch *out);
void cli_usage(const char *cmd, const char *synopsis, const cli_option *opts, int nopts);

/* One-line error to stderr, "unravel CMD: message", and the exit code 1. */
/* The command's leading operand (a file), if the first argument is not an
 * option: taken off argc/argv; NULL if none. */
const char *cli_take_operand(int *argc, char ***argv);
int cli_fail(const char *cmd, const unr_error *err);
int cli_failf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct {
    const char *label;
    double t0, last_draw;
    int tty;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label);
int cli_progress_cb(void *user, double done, double total);  /* unr_progress_fn */
void cli_progress_end(cli_progress *p);

/* One CIFAR-10 split from the data directory: --data (flag_value), else
 * $CIFAR10_DIR, else data/cifar10 (filled by `make data`), relative to the
 * working directory; a missing default directory's error says how to fill it. */
#define CLI_DEFAULT_DATA_DIR "data/cifar10"
const char *cli_data_dir(const char *flag_value);
unr_status cli_load_cifar(const char *flag_value, const char *split, unr_cifar *out, unr_error *err);
/* Threads: --threads or 0 (all CPUs). */

int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_lesion(int argc, char **argv);
int cmd_delete_random(int argc, char **argv);
int cmd_swap_random(int argc, char **argv);
int cmd_paths(int argc, char **argv);

#endif
