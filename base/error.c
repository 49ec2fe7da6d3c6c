/* ctr error object helpers: formatting of the one-line reason carried back to the CLI.
 * Kept free of any I/O so that every module (and the forked child) can use it. */
#include "error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A message is one line on a terminal whatever it quotes (a key, a path, a value from a file):
 * control bytes become C escapes, the end of the message is cut rather than overflowed. */
static void one_line(char *msg, size_t size)
{
        char out[sizeof(((struct ctr_error *)0)->msg)];
        size_t o = 0;
        bool clean = true;
        for (const char *p = msg; *p && clean; p++)
                clean = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (clean)
                return;
        for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof(out) && o + 5 < size; p++) {
                if (*p == '\n')
                        o += (size_t)snprintf(out + o, sizeof(out) - o, "\\n");
                else if (*p == '\t')
                        o += (size_t)snprintf(out + o, sizeof(out) - o, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
                else
                        out[o++] = (char)*p;
        }
        out[o] = 0;
        memcpy(msg, out, o + 1);
}

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
        one_line(err->msg, sizeof(err->msg));
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
        one_line(err->msg, sizeof(err->msg));
}
