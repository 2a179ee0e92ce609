/* test_train.c: the training loop: the loss falls, resuming repeats an
 * uninterrupted run exactly, inactive blocks stay untouched, and a kill -9 at
 * any moment leaves a checkpoint that loads. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testing.h"
#include "train.h"
#include "trainer.h"

/* A synthetic set a tiny network can learn: each class has its own colour,
 * plus noise. */
static unr_cifar synthetic(int n, uint64_t seed)
{
    unr_cifar c = {n, malloc((size_t)n), malloc((size_t)n * UNR_IMAGE_BYTES)};
    unr_rng r;
    unr_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int label = (int)unr_rng_below(&r, 10);
        c.labels[i] = (uint8_t)label;
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p++) {
                int base = 40 + 20 * ((label * (ch + 3)) % 10);
                int v = base + (int)unr_rng_below(&r, 40) - 20;
                c.pixels[(size_t)i * UNR_IMAGE_BYTES + ch * 1024 + p] = (uint8_t)v;
            }
    }
    return c;
}

static unr_model *tiny(uint64_t seed)
{
    unr_arch arch = {.blocks_per_stage = 1, .widths = {4, 8, 16}, .shortcut = UNR_SHORTCUT_A,
                     .num_classes = 10, .bn_eps = 1e-5f};
    unr_model *m = NULL;
    unr_error err;
    unr_model_init_random(&arch, seed, &m, &err);
    return m;
}

/* Thirty SGD steps on 64 synthetic images halve the loss. */
static void steps_lower_the_loss(unr_model *m)
{
    unr_cifar data = synthetic(64, 2);
    unr_trainer *t;
    unr_error err;
    CHECK_OK(unr_trainer_create(m, 64, 2, UNR_ISA_AUTO, &t, &err), err);
    float *input = malloc((size_t)64 * UNR_IMAGE_BYTES * sizeof *input);
    unr_images_to_input(m, data.pixels, 64, input);
    unr_sgd sgd = {0.05f, 0.9f, 5e-4f, 1};
    double first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
        double loss = unr_trainer_backprop(t, input, data.labels, 64, NULL, 0, 1, NULL);
        unr_trainer_sgd_step(t, &sgd, NULL);
        if (step == 0)
            first = loss;
        last = loss;
    }
    CHECK(last < 0.5 * first);
    free(input);
    unr_trainer_free(t);
    unr_cifar_free(&data);
}

/* The trainer and the inference network are two implementations of one
 * network: with the batch statistics of a training forward copied into the
 * running ones, inference gives the training forward's logits. Post- and
 * pre-activation, every shortcut, a stem and a head batch norm. */
static void training_forward_equals_inference_with_its_batch_statistics(void)
{
    static const struct { unr_shortcut sc; int pre, head_bn, stem; } nets[] = {
        {UNR_SHORTCUT_A, 0, 0, 0}, {UNR_SHORTCUT_B, 0, 0, 0}, {UNR_SHORTCUT_NONE, 0, 0, 0},
        {UNR_SHORTCUT_B, 1, 1, 3}, {UNR_SHORTCUT_A, 1, 0, 0}, {UNR_SHORTCUT_NONE, 1, 1, 0},
    };
    enum { N = 6 };
    unr_cifar data = synthetic(N, 4);
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        unr_arch a = {.blocks_per_stage = 2, .widths = {4, 6, 8}, .shortcut = nets[i].sc,
                      .num_classes = 10, .bn_eps = 1e-5f, .preactivation = nets[i].pre,
                      .head_bn = nets[i].head_bn, .stem_width = nets[i].stem};
        unr_model *m;
        unr_trainer *t;
        unr_runner *run;
        unr_error err;
        CHECK_OK(unr_model_init_random(&a, 9 + i, &m, &err), err);
        CHECK_OK(unr_trainer_create(m, N, 1, UNR_ISA_AUTO, &t, &err), err);
        float *input = malloc((size_t)N * UNR_IMAGE_BYTES * sizeof *input);
        unr_images_to_input(m, data.pixels, N, input);
        unr_trainer_backprop(t, input, data.labels, N, NULL, 0, 0, NULL);
        unr_trainer_batch_stats_to_running(t);
        unr_model_refold(m);
        float got[N * 10];
        unr_plan *p = unr_plan_create(m);
        CHECK_OK(unr_runner_create(m, N, 1, UNR_ISA_AUTO, &run, &err), err);
        CHECK_OK(unr_forward_pixels(run, p, data.pixels, N, got, &err), err);
        const float *want = unr_trainer_logits(t);
        double worst = 0, scale = 1e-3;
        for (int j = 0; j < N * 10; j++) {
            worst = fmax(worst, fabs((double)got[j] - want[j]));
            scale = fmax(scale, fabs((double)want[j]));
        }
        if (!(worst <= 1e-4 * scale))
            fprintf(stderr, "  net %zu: logits differ by %.3g (scale %.3g)\n", i, worst, scale);
        CHECK(worst <= 1e-4 * scale);
        unr_plan_free(p);
        unr_runner_free(run);
        free(input);
        unr_trainer_free(t);
        unr_model_free(m);
    }
    unr_cifar_free(&data);
}

static void a_few_steps_lower_the_loss(void)
{
    unr_model *m = tiny(1);
    steps_lower_the_loss(m);
    /* the same shape with pre-activation blocks and a batch norm before the pool */
    unr_arch a = m->arch;
    a.preactivation = 1, a.head_bn = 1;
    unr_model_free(m);
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &m, &err), err);
    steps_lower_the_loss(m);
    unr_model_free(m);
}

static void inactive_blocks_are_left_untouched(void)
{
    unr_model *m = tiny(3);
    unr_cifar data = synthetic(16, 4);
    unr_trainer *t;
    unr_error err;
    CHECK_OK(unr_trainer_create(m, 16, 1, UNR_ISA_AUTO, &t, &err), err);
    float *input = malloc((size_t)16 * UNR_IMAGE_BYTES * sizeof *input);
    unr_images_to_input(m, data.pixels, 16, input);
    unr_sgd sgd = {0.05f, 0.9f, 5e-4f, 1};
    /* one step with every block, so momentum is non-zero everywhere */
    unr_trainer_backprop(t, input, data.labels, 16, NULL, 0, 1, NULL);
    unr_trainer_sgd_step(t, &sgd, NULL);
    float *before = malloc(m->num_params * sizeof *before);
    memcpy(before, m->params, m->num_params * sizeof *before);
    unsigned char active[3] = {1, 0, 1};
    unr_trainer_backprop(t, input, data.labels, 16, active, 0, 1, NULL);
    unr_trainer_sgd_step(t, &sgd, active);
    int changed_inactive = 0, changed_active = 0;
    for (int i = 0; i < m->num_tensors; i++) {
        const unr_tensor *tn = &m->tensors[i];
        int diff = memcmp(tn->data, before + (tn->data - m->params), tn->count * sizeof(float)) != 0;
        if (strncmp(tn->name, "blocks.1.", 9) == 0)
            changed_inactive += diff;
        else if (strncmp(tn->name, "blocks.0.conv", 13) == 0)
            changed_active += diff;
    }
    CHECK(changed_inactive == 0);   /* weights, batch norm and its running statistics */
    CHECK(changed_active > 0);
    free(before);
    free(input);
    unr_trainer_free(t);
    unr_cifar_free(&data);
    unr_model_free(m);
}

static void train_options(unr_train_options *o, const char *out)
{
    unr_train_defaults(o);
    o->epochs = 3;
    o->batch = 32;
    o->lr = 0.05f;
    o->threads = 2;
    o->out = out;
    o->seed = 5;
}

/* --active-blocks K saves the test-time rule: every block's branch scaled by
 * K/n in its bn2 (pre-activation: its conv2, the branch's last op; lr 0, so
 * the trained weights are the initial ones), and nothing else touched; a
 * plain network keeps its weights. */
static void active_block_training_saves_branches_scaled_by_k_over_n(void)
{
    unr_cifar train = synthetic(64, 8), test = synthetic(20, 9);
    unr_error err;
    for (int kind = 0; kind < 3; kind++) {
        int plain = kind == 1, pre = kind == 2;
        unr_arch arch = {.blocks_per_stage = 1, .widths = {4, 8, 16},
                         .shortcut = plain ? UNR_SHORTCUT_NONE : UNR_SHORTCUT_A, .num_classes = 10,
                         .bn_eps = 1e-5f, .preactivation = pre};
        unr_model *m = NULL;
        CHECK_OK(unr_model_init_random(&arch, 3, &m, &err), err);
        float *before = malloc(m->num_params * sizeof *before);
        memcpy(before, m->params, m->num_params * sizeof *before);
        unr_train_options o;
        train_options(&o, "/tmp/unravel-test-train-k");
        remove("/tmp/unravel-test-train-k.ckpt");
        o.epochs = 1;
        o.lr = 0;
        o.active_blocks = 1;
        CHECK_OK(unr_train(m, &train, &test, &o, NULL, NULL, NULL, &err), err);
        const double p = plain ? 1.0 : 1.0 / m->num_blocks;
        int scaled = 0, kept = 0, wrong = 0;
        for (int i = 0; i < m->num_tensors; i++) {
            const unr_tensor *tn = &m->tensors[i];
            const float *was = before + (tn->data - m->params);
            const int bn2 = pre ? strstr(tn->name, ".conv2.weight") != NULL
                                : strstr(tn->name, ".bn2.weight") || strstr(tn->name, ".bn2.bias");
            if (strstr(tn->name, "running_"))
                continue;   /* batch statistics move even at lr 0 */
            for (size_t j = 0; j < tn->count; j++) {
                const float want = bn2 ? (float)(was[j] * p) : was[j];
                wrong += tn->data[j] != want;
            }
            scaled += bn2;
            kept += !bn2;
        }
        CHECK(wrong == 0);
        CHECK(scaled == (pre ? 1 : 2) * m->num_blocks && kept > 0);
        free(before);
        unr_model_free(m);
    }
    unr_cifar_free(&train);
    unr_cifar_free(&test);
}

/* After each epoch's line, replace the log by a copy (what `git stash`, a
 * checkout or an editor does): the next line must reach the new file. */
static void replace_log(void *user, const char *line)
{
    (void)line;
    const char *path = user;
    char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    remove(path);
    f = fopen(path, "w");
    fwrite(buf, 1, n, f);
    fclose(f);
}

static void a_log_replaced_while_training_still_gets_every_line(void)
{
    unr_cifar train = synthetic(64, 6), test = synthetic(20, 7);
    unr_error err;
    unr_train_options o;
    unr_model *m = tiny(4);
    train_options(&o, "/tmp/unravel-test-train-log");
    remove("/tmp/unravel-test-train-log.ckpt");
    CHECK_OK(unr_train(m, &train, &test, &o, NULL, replace_log,
                       (void *)"/tmp/unravel-test-train-log.log.jsonl", &err), err);
    FILE *f = fopen("/tmp/unravel-test-train-log.log.jsonl", "r");
    int lines = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        lines += c == '\n';
    if (f)
        fclose(f);
    CHECK(lines == o.epochs);
    unr_model_free(m);
    unr_cifar_free(&train);
    unr_cifar_free(&test);
}

static void resuming_gives_the_weights_of_an_uninterrupted_run(void)
{
    unr_cifar train = synthetic(96, 6), test = synthetic(40, 7);
    unr_error err;
    unr_train_options o;
    /* uninterrupted: 3 epochs */
    unr_model *a = tiny(8);
    train_options(&o, "/tmp/unravel-test-train-a");
    CHECK_OK(unr_train(a, &train, &test, &o, NULL, NULL, NULL, &err), err);
    /* interrupted after epoch 1 (max_steps), then resumed in a fresh model */
    unr_model *b = tiny(8);
    train_options(&o, "/tmp/unravel-test-train-b");
    o.max_steps = 3;  /* 96 / 32 steps per epoch */
    remove("/tmp/unravel-test-train-b.ckpt");
    CHECK_OK(unr_train(b, &train, &test, &o, NULL, NULL, NULL, &err), err);
    unr_model_free(b);
    b = tiny(999);  /* different initial weights: everything must come from the checkpoint */
    o.max_steps = 0;
    o.resume = 1;
    CHECK_OK(unr_train(b, &train, &test, &o, NULL, NULL, NULL, &err), err);
    CHECK(a->num_params == b->num_params);
    CHECK(memcmp(a->params, b->params, a->num_params * sizeof(float)) == 0);
    /* a resume with other options is refused */
    o.lr = 0.1f;
    CHECK(unr_train(b, &train, &test, &o, NULL, NULL, NULL, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "options differ"));
    unr_model_free(a);
    unr_model_free(b);
    unr_cifar_free(&train);
    unr_cifar_free(&test);
}

static void damaged_checkpoint_is_refused(void)
{
    const char *path = "/tmp/unravel-test-train-b.ckpt";
    FILE *f = fopen(path, "r+b");
    CHECK(f);
    fseek(f, 100, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    unr_cifar train = synthetic(96, 6), test = synthetic(40, 7);
    unr_model *m = tiny(8);
    unr_train_options o;
    unr_error err;
    train_options(&o, "/tmp/unravel-test-train-b");
    o.resume = 1;
    CHECK(unr_train(m, &train, &test, &o, NULL, NULL, NULL, &err) == UNR_ERR_CHECKSUM);
    CHECK(strstr(err.message, "unravel-test-train-b.ckpt"));
    unr_model_free(m);
    unr_cifar_free(&train);
    unr_cifar_free(&test);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* The kill test's run: resumable, long enough never to end by itself. */
static void kill_test_options(unr_train_options *o, const char *out)
{
    train_options(o, out);
    o->epochs = 1000;
    o->batch = 16;
    o->resume = 1;
}

static pid_t start_training_child(const unr_cifar *train, const unr_cifar *test, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        unr_model *m = tiny(12);
        unr_train_options o;
        unr_error err;
        kill_test_options(&o, out);
        unr_train(m, train, test, &o, NULL, NULL, NULL, &err);
        _exit(0);
    }
    return pid;
}

static void kill_9_at_any_moment_leaves_a_loadable_checkpoint(void)
{
    /* Kill a training child at a spread of moments; every time, the
     * checkpoint loads and resumes. The moments are fractions of one
     * epoch as measured on this machine (the first child runs until its
     * first checkpoint appears), so the kills land before, during and
     * after checkpoint writes however slow the machine is (sanitizers,
     * a loaded CI runner). */
    unr_cifar train = synthetic(64, 10), test = synthetic(20, 11);
    const char *out = "/tmp/unravel-test-train-kill";
    char ckpt[128];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", out);
    remove(ckpt);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = start_training_child(&train, &test, out);
    double epoch = -1;
    while (seconds_since(&t0) < 300) {
        if (access(ckpt, F_OK) == 0) {
            epoch = seconds_since(&t0);
            break;
        }
        nanosleep(&(struct timespec){0, 2000000L}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (epoch < 0) {
        unr_cifar_free(&train);
        unr_cifar_free(&test);
    }
    CHECK(epoch >= 0);   /* one epoch finished within 5 minutes */
    for (int trial = 0; trial < 8; trial++) {
        if (trial) {   /* 0.45, 0.7, ... 1.95 epochs into a resumed run */
            pid = start_training_child(&train, &test, out);
            double wait = epoch * (0.2 + 0.25 * trial);
            nanosleep(&(struct timespec){(time_t)wait, (long)(1e9 * (wait - (double)(time_t)wait))}, NULL);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        /* resume for one step from whatever is there */
        unr_model *m = tiny(12);
        unr_train_options o;
        unr_error err;
        kill_test_options(&o, out);
        o.max_steps = 1;
        unr_status st = unr_train(m, &train, &test, &o, NULL, NULL, NULL, &err);
        if (st)
            fprintf(stderr, "  resume after kill (trial %d): %s\n", trial, err.message);
        unr_model_free(m);
        if (st) {
            unr_cifar_free(&train);
            unr_cifar_free(&test);
        }
        CHECK(st == UNR_OK);
    }
    unr_cifar_free(&train);
    unr_cifar_free(&test);
}

TEST_MAIN(TEST_CASE(training_forward_equals_inference_with_its_batch_statistics),
          TEST_CASE(a_few_steps_lower_the_loss),
          TEST_CASE(inactive_blocks_are_left_untouched),
          TEST_CASE(active_block_training_saves_branches_scaled_by_k_over_n),
          TEST_CASE(resuming_gives_the_weights_of_an_uninterrupted_run),
          TEST_CASE(a_log_replaced_while_training_still_gets_every_line),
          TEST_CASE(damaged_checkpoint_is_refused),
          TEST_CASE(kill_9_at_any_moment_leaves_a_loadable_checkpoint))
