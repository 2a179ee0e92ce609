/* cmd_train.c: `unravel train`: train a CIFAR ResNet from scratch. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "../train.h"

static void machine_name(char *out, size_t cap)
{
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                snprintf(model, sizeof model, "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
            }
            break;
        }
    if (f)
        fclose(f);
    snprintf(out, cap, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

typedef struct {
    cli_progress bar;
} train_ui;

static int on_step(void *user, const unr_train_status *s)
{
    train_ui *ui = user;
    if (!ui->bar.tty)
        return 0;
    double frac = (double)s->step / s->steps_per_epoch;
    int width = 24, fill = (int)(frac * width + 0.5);
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\repoch %d/%d [%s] %4d/%d  loss %.3f  train err %5.2f%%  lr %.4f  %4.0f img/s  eta %.0fm ",
            s->epoch, s->epochs, bar, s->step, s->steps_per_epoch, s->loss, 100 * s->error, s->lr,
            s->images_per_second, s->eta / 60);
    fflush(stderr);
    return 0;
}

static void on_epoch(void *user, const char *line)
{
    train_ui *ui = user;
    if (ui->bar.tty)
        fprintf(stderr, "\r%*s\r", 120, "");
    fprintf(stderr, "%s\n", line);
}

int cmd_train(int argc, char **argv)
{
    cli_option opts[] = {
        CLI_ARCH_OPTIONS,
        {"--shortcut", 1, "A, B or none", NULL},
        {"--epochs", 1, "epochs (default 30)", NULL},
        {"--batch", 1, "batch size (default 128)", NULL},
        {"--lr", 1, "peak learning rate (default 0.1)", NULL},
        {"--warmup", 1, "warm-up epochs (default 1)", NULL},
        {"--weight-decay", 1, "weight decay (default 5e-4)", NULL},
        {"--label-smoothing", 1, "label smoothing (default 0)", NULL},
        {"--seed", 1, "random seed (default 1)", NULL},
        {"--active-blocks", 1, "train only K random blocks per batch (the paper's short paths)", NULL},
        {"--threads", 1, "threads (default: one per CPU)", NULL},
        {"--data", 1, "CIFAR-10 directory (default $CIFAR10_DIR or data/cifar10)", NULL},
        {"--eval-limit", 1, "test images evaluated per epoch (default all)", NULL},
        {"--max-steps", 1, "stop after N steps in all (tests, benchmarks); a stop inside an epoch is logged, not checkpointed", NULL},
        {"--out", 1, "output model path, e.g. models/resnet20", NULL},
        {"--resume", 0, "continue from OUT.ckpt if it exists", NULL},
        {"--help", 0, "show this help", NULL},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    if (cli_parse_options("train", argc, argv, opts, nopts))
        return 2;
    if (cli_get(opts, nopts, "--help")) {
        cli_usage("train", "--blocks-per-stage N --shortcut A|B|none --epochs E --out PATH [options]",
                  opts, nopts);
        return 0;
    }
    unr_train_options o;
    unr_train_defaults(&o);
    long epochs, batch, seed, active, threads, eval_limit, max_steps;
    double lr, warmup, wd, ls;
    unr_arch arch;
    int rc = cli_get_arch("train", opts, nopts, &arch);
    if (rc)
        return rc;
    if (cli_get_int("train", opts, nopts, "--epochs", 1, 10000, o.epochs, &epochs) ||
        cli_get_int("train", opts, nopts, "--batch", 1, UNR_MAX_BATCH, o.batch, &batch) ||
        cli_get_int("train", opts, nopts, "--seed", 0, 0x7fffffffL, 1, &seed) ||
        cli_get_int("train", opts, nopts, "--active-blocks", 0, UNR_MAX_BLOCKS, 0, &active) ||
        cli_get_int("train", opts, nopts, "--threads", 0, 256, 0, &threads) ||
        cli_get_int("train", opts, nopts, "--eval-limit", 0, 1000000, 0, &eval_limit) ||
        cli_get_int("train", opts, nopts, "--max-steps", 0, 100000000, 0, &max_steps) ||
        cli_get_double("train", opts, nopts, "--lr", 1e-6, 10, o.lr, &lr) ||
        cli_get_double("train", opts, nopts, "--warmup", 0, 1000, o.warmup_epochs, &warmup) ||
        cli_get_double("train", opts, nopts, "--weight-decay", 0, 1, o.weight_decay, &wd) ||
        cli_get_double("train", opts, nopts, "--label-smoothing", 0, 0.99, 0, &ls))
        return 2;
    o.out = cli_get(opts, nopts, "--out");
    if (!o.out)
        return cli_failf("train", "--out: missing (where to write the model)");
    o.epochs = (int)epochs, o.batch = (int)batch, o.seed = (uint64_t)seed;
    o.active_blocks = (int)active, o.threads = (int)threads, o.eval_limit = (int)eval_limit;
    o.max_steps = (int)max_steps, o.lr = (float)lr, o.warmup_epochs = (float)warmup;
    o.weight_decay = (float)wd, o.label_smoothing = (float)ls;
    o.resume = cli_get(opts, nopts, "--resume") != NULL;
    char machine[400];
    machine_name(machine, sizeof machine);
    o.machine = machine;

    const char *data = cli_get(opts, nopts, "--data");
    unr_error err;
    unr_model *m = NULL;
    unr_cifar train = {0}, test = {0};
    rc = 0;
    if (unr_model_init_random(&arch, (uint64_t)seed, &m, &err) ||
        cli_load_cifar(data, "train", &train, &err) ||
        cli_load_cifar(data, "test", &test, &err)) {
        rc = cli_fail("train", &err);
    } else {
        train_ui ui;
        cli_progress_start(&ui.bar, "train");
        char shape[160];
        fprintf(stderr, "unravel train: ResNet-%d (%s, %s, %zu parameters) on %d images, "
                "%d epochs, batch %d\n", unr_arch_depth(&arch), unr_shortcut_name(arch.shortcut),
                unr_arch_format(&arch, shape, sizeof shape), unr_model_num_params(m), train.n,
                o.epochs, o.batch);
        if (unr_train(m, &train, &test, &o, on_step, on_epoch, &ui, &err))
            rc = cli_fail("train", &err);
        else
            fprintf(stderr, "unravel train: wrote %s.json\n", o.out);
    }
    unr_cifar_free(&test);
    unr_cifar_free(&train);
    unr_model_free(m);
    return rc;
}
