/* The CVE-2019-5736 defence: re-exec from an image no process can write. First choice, cheap: the
 * binary itself through a detached read-only bind mount of it (open_tree + mount_setattr), so a
 * write through /proc/PID/exe meets a read-only mount; where that cannot be had (no
 * CAP_SYS_ADMIN, an old kernel), a memfd copy sealed against every change. The original path
 * travels in the environment for the few places that locate files beside it. */
#define _GNU_SOURCE
#include "exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int ctr_exe_is_sealed(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int s = fcntl(fd, F_GET_SEALS);
        if (s >= 0 && (s & SEALS) == SEALS)
                return 1;
        /* A read-only mount (ours, or the host's /usr) lets nobody open it for writing. */
        struct statvfs sv;
        return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* The binary through a detached read-only bind mount of itself: exec'ing it costs no copy. */
static int reexec_ro_bind(char **argv)
{
        _cleanup_close_ int fd = syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                return -errno;
        extern char **environ;
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        return -errno;
}

int ctr_exe_reexec_sealed(char **argv, struct ctr_error *err)
{
        if (ctr_exe_is_sealed() > 0)
                return 0;
        char path[4096];
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        if (n <= 0)
                return ctr_err_sys(err, errno, "re-exec", "read /proc/self/exe");
        path[n] = 0;
        if (!getenv("CTR_SELF_EXE") && setenv("CTR_SELF_EXE", path, 1) < 0)
                return ctr_err_sys(err, errno, "re-exec", "setenv");
        const char *copy = getenv("CTR_EXE_COPY");
        if (!copy || !*copy)
                reexec_ro_bind(argv); /* returns only when it could not */
        _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return ctr_err_sys(err, errno, "re-exec", "open /proc/self/exe");
        struct stat st;
        if (fstat(src, &st) < 0)
                return ctr_err_sys(err, errno, "re-exec", "stat /proc/self/exe");
        /* MFD_EXEC states the intent on kernels with vm.memfd_noexec; older ones refuse the flag. */
        _cleanup_close_ int mfd = memfd_create("ctr", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create("ctr", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return ctr_err_sys(err, errno, "re-exec", "memfd_create");
        for (off_t off = 0; off < st.st_size;) {
                ssize_t w = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return ctr_err_sys(err, w < 0 ? errno : EIO, "re-exec", "copy %s", path);
        }
        /* Sealing waits out pages still pinned by the copy (EBUSY under load): retry briefly. */
        int q;
        for (int t = 0; (q = fcntl(mfd, F_ADD_SEALS, SEALS)) < 0 && errno == EBUSY && t < 100; t++)
                usleep(1000);
        if (q < 0)
                return ctr_err_sys(err, errno, "re-exec", "seal the copy of %s", path);
        extern char **environ;
        syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
        return ctr_err_sys(err, errno, "re-exec", "execute the sealed copy of %s", path);
}
