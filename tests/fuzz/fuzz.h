/* Shared by the libFuzzer targets: the input as a NUL-terminated string (every parser here takes
 * text), and the contract every failure keeps: one non-empty line naming a step. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* An error must reach the user as one line, so a message with a newline (or none at all) is a
 * bug the fuzzer should report like a crash. */
static inline void fuzz_check_error(int r, const struct ctr_error *err)
{
        if (r >= 0)
                return;
        if (!err->errnum || !err->msg[0] || strchr(err->msg, '\n') || !err->op[0]) {
                fprintf(stderr, "bad error object: r=%d errnum=%d op='%s' msg='%s'\n", r, err->errnum, err->op,
                        err->msg);
                abort();
        }
}

#define FUZZ_ASSERT(cond, ...)                                                                                         \
        do {                                                                                                           \
                if (!(cond)) {                                                                                         \
                        fprintf(stderr, "fuzz: %s: ", #cond);                                                          \
                        fprintf(stderr, __VA_ARGS__);                                                                  \
                        fputc('\n', stderr);                                                                           \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)
