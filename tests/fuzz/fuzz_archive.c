/* rootfs/archive.c: the tar header walk `ctr import` runs before GNU tar sees the archive. The
 * input is the archive, in a memfd named by its /proc path as a file would be. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../base/util.h"
#include "../../rootfs/rootfs.h"

static bool climbs(const char *name)
{
        if (*name == '/')
                return true;
        for (const char *c = name; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
                if (c[0] == '.' && c[1] == '.' && (!c[2] || c[2] == '/'))
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int fd = -1;
        if (fd < 0 && (fd = memfd_create("fuzz-archive", MFD_CLOEXEC)) < 0)
                abort();
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct ctr_error err = {0};
        _cleanup_strv_ char **names = NULL;
        int r = ctr_archive_check(path, &names, &err);
        fuzz_check_error(r, &err);
        for (char **n = names; n && *n; n++)
                FUZZ_ASSERT(!climbs(*n), "member '%s' passed the check", *n);
        return 0;
}
