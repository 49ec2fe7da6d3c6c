/* ctr error object: every fallible function returns a negative errno and fills one of these.
 * The CLI prints it once, with the verb and object as context; library code never prints. */
#pragma once

#include <stdarg.h>

struct ctr_error {
        int errnum;      /* positive errno, 0 when no error */
        char op[64];     /* the step that failed: "pivot_root", "cgroup", "config" ... */
        char msg[448];   /* the reason, human readable, already includes strerror when relevant */
};

/* Set err and return -errnum. errnum must be > 0. fmt describes the reason without errno text. */
int ctr_err(struct ctr_error *err, int errnum, const char *op, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Like ctr_err, but appends ": strerror(errnum)" to the formatted reason. */
int ctr_err_sys(struct ctr_error *err, int errnum, const char *op, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Prefix the existing message with more context: "ctx: old message". */
void ctr_err_prefix(struct ctr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
