/* ctr error object helpers: formatting of the one-line reason carried back to the CLI.
 * Kept free of any I/O so that every module (and the forked child) can use it. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int err_fill(struct ctr_error *err, int errnum, const char *op, int with_errno, const char *fmt,
                    va_list ap)
{
        if (errnum <= 0)
                errnum = EIO;
        if (!err)
                return -errnum;
        err->errnum = errnum;
        snprintf(err->op, sizeof(err->op), "%s", op ? op : "");
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (with_errno) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof(err->msg) - n, "%s%s", n ? ": " : "", strerror(errnum));
        }
        return -errnum;
}

int ctr_err(struct ctr_error *err, int errnum, const char *op, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = err_fill(err, errnum, op, 0, fmt, ap);
        va_end(ap);
        return r;
}

int ctr_err_sys(struct ctr_error *err, int errnum, const char *op, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = err_fill(err, errnum, op, 1, fmt, ap);
        va_end(ap);
        return r;
}

void ctr_err_prefix(struct ctr_error *err, const char *fmt, ...)
{
        char ctx[256], old[sizeof(err->msg)];
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(ctx, sizeof(ctx), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        /* Truncation keeps the start: the context and the beginning of the reason. */
        size_t n = strlen(ctx);
        if (n > sizeof(err->msg) - 3)
                n = sizeof(err->msg) - 3;
        memcpy(err->msg, ctx, n);
        memcpy(err->msg + n, ": ", 2);
        size_t rest = sizeof(err->msg) - n - 3, ol = strlen(old);
        if (ol > rest)
                ol = rest;
        memcpy(err->msg + n + 2, old, ol);
        err->msg[n + 2 + ol] = 0;
}
