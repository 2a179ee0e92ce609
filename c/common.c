/* common.c: errors, status names, clocks and small helpers shared by the core. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

static const char *const status_names[] = {
    "ok", "io", "parse", "field", "shape", "range", "checksum", "nonfinite",
    "plan", "nomem", "cancelled", "unsupported",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == UNR_STATUS_COUNT,
               "one name per status");

int unr_argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

const char *unr_status_name(unr_status s)
{
    return (unsigned)s < UNR_STATUS_COUNT ? status_names[s] : "unknown";
}

unr_status unr_fail(unr_error *err, unr_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void unr_error_clear(unr_error *err)
{
    if (err) {
        err->status = UNR_OK;
        err->message[0] = '\0';
    }
}

double unr_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
