/* main.c: the `unravel` command line: one subcommand per task. */
#include <string.h>
#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "describe a model: architecture, blocks, parameters, metrics"},
    {"eval", cmd_eval, "test error of a model under a plan (deleted / reordered blocks)"},
    {"init", cmd_init, "write a model with random He-initialised weights"},
    {"import", cmd_import, "a PyTorch checkpoint (torch.save, legacy .th, safetensors) as a model"},
    {"lesion", cmd_lesion, "test error with each block deleted alone (claim 2)"},
    {"delete-random", cmd_delete_random, "error after deleting k random blocks, k = 0..n (claim 3)"},
    {"swap-random", cmd_swap_random, "error after k random same-stage swaps, with Kendall's tau (claim 3)"},
    {"paths", cmd_paths, "path lengths, gradient per path length, effective paths (claims 4-6)"},
    {"train", cmd_train, "train a CIFAR ResNet on CIFAR-10 (checkpoints, resume, short-path training)"},
};

static void usage(FILE *f)
{
    fprintf(f, "unravel %s: residual networks as ensembles of shallow paths\n\n"
               "usage: unravel COMMAND [options]   (unravel COMMAND --help for its options)\n\n",
            UNR_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("unravel %s\n", UNR_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "unravel: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
