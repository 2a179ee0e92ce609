/* cifar.c: CIFAR-10 in the official binary format: records of 3073 bytes,
 * one label byte (0..9), then 1024 R, 1024 G, 1024 B bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

unr_status unr_cifar_parse(const void *bytes, size_t len, const char *src, unr_cifar *out,
                           unr_error *err)
{
    memset(out, 0, sizeof *out);
    if (!src)
        src = "cifar";
    if (len == 0)
        return unr_fail(err, UNR_ERR_PARSE, "%s: empty file, expected 3073-byte CIFAR-10 records",
                        src);
    if (len % UNR_CIFAR_RECORD_BYTES)
        return unr_fail(err, UNR_ERR_PARSE, "%s: %zu bytes is not a whole number of 3073-byte "
                        "CIFAR-10 records (%zu left over)", src, len, len % UNR_CIFAR_RECORD_BYTES);
    size_t n = len / UNR_CIFAR_RECORD_BYTES;
    if (n > 1000000)
        return unr_fail(err, UNR_ERR_RANGE, "%s: %zu records is over the 1,000,000 limit", src, n);
    const uint8_t *p = bytes;
    for (size_t i = 0; i < n; i++)
        if (p[i * UNR_CIFAR_RECORD_BYTES] > 9)
            return unr_fail(err, UNR_ERR_FIELD, "%s: record %zu: label %d is not 0..9", src, i,
                            p[i * UNR_CIFAR_RECORD_BYTES]);
    out->labels = malloc(n);
    out->pixels = malloc(n * UNR_IMAGE_BYTES);
    if (!out->labels || !out->pixels) {
        unr_cifar_free(out);
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory for %zu images", src, n);
    }
    for (size_t i = 0; i < n; i++) {
        out->labels[i] = p[i * UNR_CIFAR_RECORD_BYTES];
        memcpy(out->pixels + i * UNR_IMAGE_BYTES, p + i * UNR_CIFAR_RECORD_BYTES + 1,
               UNR_IMAGE_BYTES);
    }
    out->n = (int)n;
    return UNR_OK;
}

void unr_cifar_free(unr_cifar *c)
{
    free(c->labels);
    free(c->pixels);
    memset(c, 0, sizeof *c);
}
