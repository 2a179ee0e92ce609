/* experiments.c: the one list of experiments and their parameters
 * (unravel.h). The CLI's options, its help and the JS binding's checks and
 * defaults are all read from here. */
#include <string.h>
#include "unravel.h"

#define TAKES(p) (1u << (p))

static const unr_param params[UNR_PARAM_COUNT] = {
    [UNR_PARAM_LIMIT] = {"limit", 0, 1000000, 0, "use the first N images (default all)"},
    [UNR_PARAM_BATCH] = {"batch", 1, UNR_MAX_BATCH, 0, "images per batch"},
    [UNR_PARAM_SAMPLES] = {"samples", 1, UNR_MAX_RANDOM_DRAWS, 0, "random draws per k"},
    [UNR_PARAM_SEED] = {"seed", 0, 9007199254740991.0, 0, "random seed"},   /* 2^53 - 1: exact in JS */
    [UNR_PARAM_KS] = {"k", 0, UNR_MAX_BLOCKS, 0, "values of k, e.g. 0,1,2,5 or 0-10 (default all)"},
    [UNR_PARAM_Q] = {"q", 1e-6, 1, 1, "fraction of the gradient in the effective window"},
    [UNR_PARAM_BOOTSTRAP] = {"bootstrap", 0, 100000, 0,
                             "bootstrap resamples of the samples for the window's spread (0: none)"},
    [UNR_PARAM_BASE_PLAN] = {"delete", 0, 0, 0, "base plan: blocks deleted first, e.g. 3,7 (and --order)"},
};

#define COMMON (TAKES(UNR_PARAM_LIMIT) | TAKES(UNR_PARAM_BATCH))

static const unr_experiment experiments[] = {
    {"lesion", "lesionSingle", "test error with each block deleted alone", "2", "test",
     COMMON | TAKES(UNR_PARAM_BASE_PLAN),
     {[UNR_PARAM_BATCH] = 100},
     "the full network's error and, per block, the error with it deleted, the answers it turned "
     "wrong and right and the paired 95% interval of the change"},
    {"delete-random", "deleteRandom", "error after deleting k random blocks", "3", "test",
     COMMON | TAKES(UNR_PARAM_SAMPLES) | TAKES(UNR_PARAM_SEED) | TAKES(UNR_PARAM_KS),
     {[UNR_PARAM_BATCH] = 100, [UNR_PARAM_SAMPLES] = 10, [UNR_PARAM_SEED] = 1},
     "per k, the error of every draw and their mean, sd, min and max"},
    {"swap-random", "swapRandom", "error after k random same-stage swaps", "3", "test",
     COMMON | TAKES(UNR_PARAM_SAMPLES) | TAKES(UNR_PARAM_SEED) | TAKES(UNR_PARAM_KS),
     {[UNR_PARAM_BATCH] = 100, [UNR_PARAM_SAMPLES] = 10, [UNR_PARAM_SEED] = 1},
     "per k, the error and Kendall's tau of every draw and their mean, sd, min and max"},
    {"paths", "pathStats", "path lengths, gradient per path length, effective paths", "4-6", "train",
     COMMON | TAKES(UNR_PARAM_SAMPLES) | TAKES(UNR_PARAM_SEED) | TAKES(UNR_PARAM_Q) |
         TAKES(UNR_PARAM_BOOTSTRAP),
     {[UNR_PARAM_BATCH] = 32, [UNR_PARAM_SAMPLES] = 100, [UNR_PARAM_SEED] = 1, [UNR_PARAM_Q] = 0.9,
      [UNR_PARAM_BOOTSTRAP] = 1000},
     "the path-length distribution, the gradient norm per path length (every draw), its total "
     "per length and the effective window with its bootstrap spread"},
};

const unr_param *unr_params(void) { return params; }

const unr_experiment *unr_experiments(int *count)
{
    if (count)
        *count = (int)(sizeof experiments / sizeof experiments[0]);
    return experiments;
}

const unr_experiment *unr_experiment_find(const char *name)
{
    int n;
    const unr_experiment *e = unr_experiments(&n);
    for (int i = 0; name && i < n; i++)
        if (strcmp(e[i].name, name) == 0 || strcmp(e[i].js_name, name) == 0)
            return &e[i];
    return NULL;
}
