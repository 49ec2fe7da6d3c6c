/* Shared helpers of the unit tests: a fresh temp directory per test, removed afterwards even
 * when the test fails. Header-only so each test file stays self-contained. */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

static inline int unit_rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
        (void)sb, (void)type, (void)ftw;
        return remove(p) < 0 ? FTW_STOP : 0;
}

/* dir must hold at least 64 bytes; tag names the suite in the directory name. */
static inline void unit_tmpdir_make(char *dir, size_t len, const char *tag)
{
        snprintf(dir, len, "/tmp/ctr-unit-%s-XXXXXX", tag);
        cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static inline void unit_tmpdir_remove(const char *dir)
{
        nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
