/* test_cifar.c: the CIFAR-10 binary reader: refusals name the problem (and
 * the record), valid records round-trip, and the real test batch, when
 * present, has 10,000 images, 1,000 of each class. */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#include "internal.h"
#include "testing.h"

#define REC UNR_CIFAR_RECORD_BYTES

/* n records: label (i*3) % 10, pixel j of record i = (i*7 + j) % 251. */
static uint8_t *make_records(int n)
{
    uint8_t *b = malloc((size_t)n * REC);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * REC] = (uint8_t)((i * 3) % 10);
        for (int j = 0; j < UNR_IMAGE_BYTES; j++)
            b[(size_t)i * REC + 1 + j] = (uint8_t)((i * 7 + j) % 251);
    }
    return b;
}

static void cifar_rejects_empty_input(void)
{
    unr_cifar c;
    unr_error err;
    uint8_t one = 0;
    CHECK(unr_cifar_parse(&one, 0, "empty.bin", &c, &err) == UNR_ERR_PARSE);
    CHECK(strstr(err.message, "empty.bin") && strstr(err.message, "empty"));
    CHECK(c.n == 0 && c.labels == NULL && c.pixels == NULL);
    /* No source name: still a message. */
    CHECK(unr_cifar_parse(&one, 0, NULL, &c, &err) == UNR_ERR_PARSE);
    CHECK(err.message[0]);
}

static void cifar_rejects_a_partial_record(void)
{
    uint8_t *b = make_records(3);
    unr_cifar c;
    unr_error err;
    const size_t lens[] = {1, REC - 1, REC + 1, 2 * REC + 100, 3 * REC - 1};
    for (int i = 0; i < 5; i++) {
        unr_status st = unr_cifar_parse(b, lens[i], "part.bin", &c, &err);
        CHECK(st == UNR_ERR_PARSE);
        CHECK(strstr(err.message, "part.bin") && strstr(err.message, "3073"));
        CHECK(c.n == 0 && c.labels == NULL);
    }
    free(b);
}

static void cifar_rejects_label_over_9_naming_the_record(void)
{
    uint8_t *b = make_records(5);
    unr_cifar c;
    unr_error err;
    const int bad[] = {10, 11, 255};
    for (int i = 0; i < 3; i++) {
        b[3 * REC] = (uint8_t)bad[i];
        CHECK(unr_cifar_parse(b, 5 * REC, "labels.bin", &c, &err) == UNR_ERR_FIELD);
        char want[64];
        snprintf(want, sizeof want, "record 3: label %d", bad[i]);
        CHECK(strstr(err.message, want) && strstr(err.message, "labels.bin"));
        CHECK(c.n == 0 && c.labels == NULL && c.pixels == NULL);
    }
    /* The first record and the last are checked too. */
    b[3 * REC] = 9;
    b[0] = 10;
    CHECK(unr_cifar_parse(b, 5 * REC, "x", &c, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "record 0"));
    b[0] = 0;
    b[4 * REC] = 200;
    CHECK(unr_cifar_parse(b, 5 * REC, "x", &c, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "record 4"));
    free(b);
}

static void cifar_round_trips_labels_and_pixels(void)
{
    uint8_t *b = make_records(3);
    unr_cifar c;
    unr_error err;
    CHECK_OK(unr_cifar_parse(b, 3 * REC, "three.bin", &c, &err), err);
    CHECK(c.n == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(c.labels[i] == (i * 3) % 10);
        CHECK(memcmp(c.pixels + (size_t)i * UNR_IMAGE_BYTES, b + (size_t)i * REC + 1,
                     UNR_IMAGE_BYTES) == 0);
    }
    /* The result is a copy: changing the input changes nothing. */
    memset(b, 9, 3 * REC);
    CHECK(c.labels[1] == 3 && c.pixels[UNR_IMAGE_BYTES] == 7);
    unr_cifar_free(&c);
    CHECK(c.n == 0 && c.labels == NULL && c.pixels == NULL);
    unr_cifar_free(&c);  /* twice is harmless */
    free(b);
}

static void cifar_accepts_every_label_0_to_9(void)
{
    uint8_t *b = make_records(10);
    for (int i = 0; i < 10; i++)
        b[(size_t)i * REC] = (uint8_t)(9 - i);
    unr_cifar c;
    unr_error err;
    CHECK_OK(unr_cifar_parse(b, 10 * REC, "x", &c, &err), err);
    for (int i = 0; i < 10; i++)
        CHECK(c.labels[i] == 9 - i);
    unr_cifar_free(&c);
    free(b);
}

static void cifar_load_file_reports_a_missing_file(void)
{
    unr_cifar c;
    unr_error err;
    CHECK(unr_cifar_load_file("/nonexistent/test_batch.bin", &c, &err) == UNR_ERR_IO);
    CHECK(strstr(err.message, "/nonexistent/test_batch.bin"));
    CHECK(unr_cifar_load_split("/nonexistent", "test", &c, &err) == UNR_ERR_IO);
    CHECK(unr_cifar_load_split("/nonexistent", "valid", &c, &err) == UNR_ERR_FIELD);
    CHECK(strstr(err.message, "valid"));
    CHECK(unr_cifar_load_split("/nonexistent", "train", &c, &err) == UNR_ERR_IO);
    CHECK(c.n == 0 && c.labels == NULL);
}

static const char *cifar_dir(void)
{
    const char *d = getenv("CIFAR10_DIR");
    return d && *d ? d : "data/cifar10";
}

static void cifar_test_batch_has_1000_images_of_each_class(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/test_batch.bin", cifar_dir());
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("skip %s: no %s (set CIFAR10_DIR)\n", testing_current, path);
        return;
    }
    unr_cifar c;
    unr_error err;
    CHECK_OK(unr_cifar_load_split(cifar_dir(), "test", &c, &err), err);
    CHECK(c.n == 10000);
    int counts[10] = {0};
    for (int i = 0; i < c.n; i++)
        counts[c.labels[i]]++;
    for (int k = 0; k < 10; k++)
        CHECK(counts[k] == 1000);
    /* The first test image is a cat (label 3) in the official batch. */
    CHECK(c.labels[0] == 3);
    /* Images are not blank. */
    long sum = 0;
    for (int j = 0; j < UNR_IMAGE_BYTES; j++)
        sum += c.pixels[j];
    CHECK(sum > 0 && sum < 255L * UNR_IMAGE_BYTES);
    unr_cifar_free(&c);
}

TEST_MAIN(
    TEST_CASE(cifar_rejects_empty_input),
    TEST_CASE(cifar_rejects_a_partial_record),
    TEST_CASE(cifar_rejects_label_over_9_naming_the_record),
    TEST_CASE(cifar_round_trips_labels_and_pixels),
    TEST_CASE(cifar_accepts_every_label_0_to_9),
    TEST_CASE(cifar_load_file_reports_a_missing_file),
    TEST_CASE(cifar_test_batch_has_1000_images_of_each_class))
