/* Shifting a container's tree for a user namespace: idmapped mounts (open_tree + mount_setattr
 * MOUNT_ATTR_IDMAP, overlayfs over idmapped layers) made by the parent as detached mounts, and the
 * one-time chown of the tree where a filesystem refuses idmapping. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../base/util.h"

int ctr_rootfs_idmap_detached(int fd, const char *path, int userns_fd, bool recursive, struct ctr_error *err)
{
        struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
                return ctr_err_sys(err, errno, "userns", "idmap the mount of %s", path);
        return 0;
}

int ctr_rootfs_idmapped_tree(const char *path, int userns_fd, bool recursive, int *ret_fd, struct ctr_error *err)
{
        _cleanup_close_ int fd = syscall(SYS_open_tree, AT_FDCWD, path,
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        if (fd < 0)
                return ctr_err_sys(err, errno, "userns", "clone the mount of %s", path);
        /* A clone of a shared mount joins its peer group: what the container mounts below it
         * would appear on the host, and pivot_root refuses a shared root. Private, first. */
        struct mount_attr priv = {.propagation = MS_PRIVATE};
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &priv, sizeof(priv)) < 0)
                return ctr_err_sys(err, errno, "userns", "make the clone of %s private", path);
        int r;
        if (userns_fd >= 0 && (r = ctr_rootfs_idmap_detached(fd, path, userns_fd, recursive, err)) < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int ctr_rootfs_idmap_supported(const char *path, int userns_fd, struct ctr_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct ctr_error e = {0};
        int r = ctr_rootfs_idmapped_tree(path, userns_fd, false, &fd, &e);
        if (r == -EINVAL || r == -EOPNOTSUPP || r == -ENOSYS || r == -EPERM)
                return 0;
        if (r < 0) {
                *err = e;
                return r;
        }
        return 1;
}

/* Effective capabilities back to the permitted set (a change of fsuid away from 0 drops the
 * file-system ones). */
static int raise_effective(void)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        for (size_t i = 0; i < 2; i++)
                d[i].effective = d[i].permitted;
        return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int fsconf_string(int fsfd, const char *key, const char *value)
{
        return syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

/* Set key to the path sub under the detached mount fd. */
static int fsconf(int fsfd, const char *key, int fd, const char *sub)
{
        char v[128];
        snprintf(v, sizeof(v), "/proc/self/fd/%d%s", fd, sub);
        return fsconf_string(fsfd, key, v);
}

#define MAX_LAYERS 32

struct layers {
        int fd[MAX_LAYERS];
        size_t n;
};

static void layers_close(struct layers *l)
{
        for (size_t i = 0; i < l->n; i++)
                close(l->fd[i]);
}

/* Each ':'-separated layer of lower as an idmapped detached mount, and overlay's lowerdir value
 * naming them through /proc/self/fd. */
static int idmap_layers(const char *lower, int userns_fd, struct layers *l, char *ret_value, size_t len,
                        struct ctr_error *err)
{
        _cleanup_free_ char *copy = xstrdup(lower);
        char *save = NULL;
        size_t used = 0;
        ret_value[0] = 0;
        for (char *layer = strtok_r(copy, ":", &save); layer; layer = strtok_r(NULL, ":", &save)) {
                if (l->n == MAX_LAYERS)
                        return ctr_err(err, E2BIG, "userns", "more than %d layers below %s", MAX_LAYERS, lower);
                int r = ctr_rootfs_idmapped_tree(layer, userns_fd, false, &l->fd[l->n], err);
                if (r < 0)
                        return r;
                int n = snprintf(ret_value + used, len - used, "%s/proc/self/fd/%d", l->n ? ":" : "", l->fd[l->n]);
                l->n++;
                if (n < 0 || (size_t)n >= len - used)
                        return ctr_err(err, ENAMETOOLONG, "userns", "the layers of %s", lower);
                used += (size_t)n;
        }
        return 0;
}

int ctr_rootfs_idmapped_overlay(const char *lower, const char *dir, int userns_fd, uid_t uid, gid_t gid,
                                bool volatile_upper, int *ret_fd,
                                struct ctr_error *err)
{
        _cleanup_close_ int dfd = -EBADF, fsfd = -EBADF;
        __attribute__((cleanup(layers_close))) struct layers l = {.n = 0};
        char lowerdir[MAX_LAYERS * 24];
        int r = idmap_layers(lower, userns_fd, &l, lowerdir, sizeof(lowerdir), err);
        if (r < 0)
                return r;
        /* upper/ and work/ must sit on one mount: the container's directory, idmapped once. */
        r = ctr_rootfs_idmapped_tree(dir, userns_fd, false, &dfd, err);
        if (r < 0)
                return r;
        fsfd = syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return ctr_err_sys(err, errno, "userns", "open an overlay filesystem");
        if ((r = fsconf_string(fsfd, "lowerdir", lowerdir)) < 0 || (r = fsconf(fsfd, "upperdir", dfd, "/upper")) < 0 ||
            (r = fsconf(fsfd, "workdir", dfd, "/work")) < 0 ||
            (volatile_upper && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0 && (r = -errno)))
                return ctr_err_sys(err, -r, "userns", "configure the overlay on %s (upper in %s)", lower, dir);
        /* overlayfs works on its layers with its mounter's credentials; host root's ids are not
         * in the layers' idmap (EOVERFLOW), so the mounter takes root-inside's ids for a moment. */
        setfsuid(uid);
        setfsgid(gid);
        r = raise_effective();
        if (r == 0 && syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = -errno;
        setfsuid(0);
        setfsgid(0);
        if (r < 0)
                return ctr_err_sys(err, -r, "userns", "mount the overlay on idmapped %s and %s/upper", lower, dir);
        int mfd = syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return ctr_err_sys(err, errno, "userns", "mount the overlay of %s", dir);
        *ret_fd = mfd;
        return 0;
}

/* --- chown fallback ---------------------------------------------------------------------- */

struct shift {
        uint32_t uid, gid, count;
        dev_t dev;
        struct ctr_error *err;
};

/* VFS_CAP_REVISION_3: file capabilities that name the uid they count as root for, so a
 * container's root (not the host's) gets them. */
struct vfs_cap_v3 {
        uint32_t magic_etc;
        struct {
                uint32_t permitted, inheritable;
        } data[2];
        uint32_t rootid;
};

static int shift_one(int dirfd, const char *name, const struct stat *st, struct shift *s)
{
        uid_t u = st->st_uid < s->count ? st->st_uid + s->uid : st->st_uid;
        gid_t g = st->st_gid < s->count ? st->st_gid + s->gid : st->st_gid;
        if (u == st->st_uid && g == st->st_gid)
                return 0;
        bool link = S_ISLNK(st->st_mode);
        struct vfs_cap_v3 cap = {0};
        ssize_t caplen = -1;
        char p[64];
        int fd = -1;
        if (!link) {
                fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return ctr_err_sys(s->err, errno, "userns", "open %s to chown it", name);
                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                if (S_ISREG(st->st_mode))
                        caplen = getxattr(p, "security.capability", &cap, sizeof(cap));
        }
        int r = fchownat(dirfd, name, u, g, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                r = ctr_err_sys(s->err, errno, "userns", "chown %s to %u:%u", name, (unsigned)u, (unsigned)g);
        /* chown cleared setuid/setgid and the file capabilities: put them back. */
        if (r == 0 && !link && (st->st_mode & (S_ISUID | S_ISGID)) && chmod(p, st->st_mode & 07777) < 0)
                r = ctr_err_sys(s->err, errno, "userns", "restore the mode of %s", name);
        if (r == 0 && caplen >= (ssize_t)(sizeof(cap) - sizeof(cap.data[1]) - sizeof(cap.rootid))) {
                uint32_t rev = cap.magic_etc & 0xff000000u;
                if (rev == 0x02000000u || rev == 0x03000000u) {
                        if (rev == 0x02000000u)
                                cap.rootid = 0;
                        if (cap.rootid < s->count)
                                cap.rootid += s->uid;
                        cap.magic_etc = 0x03000000u | (cap.magic_etc & 1);
                        if (setxattr(p, "security.capability", &cap, sizeof(cap), 0) < 0)
                                r = ctr_err_sys(s->err, errno, "userns", "restore the capabilities of %s", name);
                }
        }
        if (fd >= 0)
                close(fd);
        return r;
}

static int shift_dir(int dfd, struct shift *s, int depth)
{
        if (depth > 256)
                return ctr_err(s->err, ELOOP, "userns", "the tree is nested too deep to chown");
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return ctr_err_sys(s->err, errno, "userns", "read a directory to chown it");
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = ctr_err_sys(s->err, errno, "userns", "stat %s", de->d_name);
                        break;
                }
                if (S_ISDIR(st.st_mode) && st.st_dev == s->dev) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                r = ctr_err_sys(s->err, errno, "userns", "open %s", de->d_name);
                        else
                                r = shift_dir(sub, s, depth + 1);
                        if (r < 0)
                                ctr_err_prefix(s->err, "%s", de->d_name);
                }
                /* A directory's own owner is shifted after its contents, like any other entry. */
                if (r == 0 && st.st_dev == s->dev)
                        r = shift_one(dirfd(d), de->d_name, &st, s);
        }
        closedir(d);
        return r;
}

int ctr_rootfs_shift_tree(const char *dir, uint32_t uid, uint32_t gid, uint32_t count, struct ctr_error *err)
{
        struct stat st;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return ctr_err_sys(err, e, "userns", "open %s", dir);
        }
        struct shift s = {.uid = uid, .gid = gid, .count = count, .dev = st.st_dev, .err = err};
        int r = shift_dir(fd, &s, 0);
        if (r < 0)
                return r;
        return shift_one(AT_FDCWD, dir, &st, &s);
}
