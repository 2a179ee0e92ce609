/* testing.h: a tiny test harness. Each test is a function registered in a
 * table; main runs them all, reports failures and returns nonzero if any. */
#ifndef UNR_TESTING_H
#define UNR_TESTING_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int testing_failures;
static const char *testing_current;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", testing_current, __FILE__,       \
                    __LINE__, #cond);                                                 \
            testing_failures++;                                                       \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Check that a library call succeeded; on failure print the status and the
 * library's own message from `err`, the unr_error the call filled:
 *     CHECK_OK(unr_model_load_file(path, &m, &err), err);                       */
#define CHECK_OK(expr, err)                                                           \
    do {                                                                              \
        (err).message[0] = 0;                                                         \
        unr_status s_ = (expr);                                                       \
        if (s_ != UNR_OK) {                                                           \
            fprintf(stderr, "FAIL %s (%s:%d): %s returned %s: %s\n", testing_current, \
                    __FILE__, __LINE__, #expr, unr_status_name(s_),                   \
                    (err).message[0] ? (err).message : "(no message)");               \
            testing_failures++;                                                       \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* The same for a call that has no unr_error to report through. */
#define CHECK_STATUS(expr)                                                            \
    do {                                                                              \
        unr_status s_ = (expr);                                                       \
        if (s_ != UNR_OK) {                                                           \
            fprintf(stderr, "FAIL %s (%s:%d): %s returned %s\n", testing_current,     \
                    __FILE__, __LINE__, #expr, unr_status_name(s_));                  \
            testing_failures++;                                                       \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double a_ = (a), b_ = (b);                                                    \
        if (!(fabs(a_ - b_) <= (tol))) {                                              \
            fprintf(stderr, "FAIL %s (%s:%d): %s = %.9g, %s = %.9g (tol %g)\n",        \
                    testing_current, __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol)); \
            testing_failures++;                                                       \
            return;                                                                   \
        }                                                                             \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} testing_case;

#define TEST_CASE(fn) {#fn, fn}

static int testing_run(const testing_case *cases, int n)
{
    int before;
    for (int i = 0; i < n; i++) {
        testing_current = cases[i].name;
        before = testing_failures;
        cases[i].fn();
        printf("%s %s\n", testing_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    printf("%d of %d tests passed\n", n - testing_failures, n);
    return testing_failures ? 1 : 0;
}

#define TEST_MAIN(...)                                                                \
    int main(void)                                                                    \
    {                                                                                 \
        static const testing_case cases_[] = {__VA_ARGS__};                           \
        return testing_run(cases_, (int)(sizeof cases_ / sizeof cases_[0]));           \
    }

#endif
