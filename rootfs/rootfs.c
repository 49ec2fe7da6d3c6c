/* The mount plan: a list of operations built from the container's spec, then executed by the
 * child. Every target is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT) so a symlink
 * planted in the container's tree cannot redirect a mount onto the host. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../base/util.h"

static struct ctr_mnt_op *plan_add(struct ctr_mount_plan *p, enum ctr_mnt_kind kind, const char *source,
                                   const char *target)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 32;
                p->ops = realloc(p->ops, p->cap * sizeof(*p->ops));
                if (!p->ops)
                        abort();
        }
        struct ctr_mnt_op *op = &p->ops[p->n++];
        memset(op, 0, sizeof(*op));
        op->kind = kind;
        op->source = source ? xstrdup(source) : NULL;
        op->target = xstrdup(target);
        return op;
}

struct ctr_mnt_op *ctr_rootfs_plan_add(struct ctr_mount_plan *p, enum ctr_mnt_kind kind, const char *source,
                                       const char *target)
{
        return plan_add(p, kind, source, target);
}

static void plan_mount(struct ctr_mount_plan *p, const char *fstype, const char *target, unsigned long flags,
                       const char *data)
{
        struct ctr_mnt_op *op = plan_add(p, CTR_MNT_MOUNT, fstype, target);
        op->fstype = xstrdup(fstype);
        op->flags = flags;
        op->data = data ? xstrdup(data) : NULL;
}

static const struct {
        const char *name;
        unsigned maj, min;
} std_devices[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* What Docker, LXC and crun hide by default: kernel memory, keys, timers, and trigger files. */
static const char *const masked_paths[] = {
        "/proc/kcore",       "/proc/keys",  "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
        "/proc/timer_stats", "/proc/acpi",  "/proc/scsi",       "/proc/asound",
        "/sys/firmware",     "/sys/devices/virtual/powercap",
};
/* /proc/sysrq-trigger is read-only rather than masked: a write to a /dev/null mask would
 * succeed (a device node ignores its mount's read-only flag) and hide that it did nothing. */
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

/* "/a:/b": every ':'-separated layer absolute and not empty. */
static bool layers_absolute(const char *l)
{
        for (const char *part = l; part; part = strchr(part, ':') ? strchr(part, ':') + 1 : NULL)
                if (*part != '/')
                        return false;
        return true;
}

int ctr_rootfs_plan_build(const struct ctr_rootfs_spec *spec, struct ctr_mount_plan *ret, struct ctr_error *err)
{
        struct ctr_mount_plan p = {0};
        const unsigned long nsd = MS_NOSUID | MS_NODEV, nsde = MS_NOSUID | MS_NODEV | MS_NOEXEC;

        if (!spec->rootfs || spec->rootfs[0] != '/')
                return ctr_err(err, EINVAL, "mount plan", "rootfs must be an absolute path");
        p.rootfs = xstrdup(spec->rootfs);
        if (spec->overlay_lower) {
                const char *parts[] = {spec->overlay_lower, spec->overlay_upper, spec->overlay_work};
                for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                        /* The lower may stack layers with ':' (each absolute). */
                        if (!parts[i] || parts[i][0] != '/' || strpbrk(parts[i], i ? ",:\\" : ",\\") ||
                            (i == 0 && !layers_absolute(parts[i]))) {
                                ctr_rootfs_plan_free(&p);
                                return ctr_err(err, EINVAL, "mount plan",
                                               "overlay directories need absolute paths without ',' ':' or '\\'");
                        }
                p.overlay = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", spec->overlay_lower, spec->overlay_upper,
                                      spec->overlay_work, spec->volatile_upper ? ",volatile" : "");
        }

        plan_mount(&p, "proc", "/proc", nsde, NULL);
        plan_mount(&p, "sysfs", "/sys", nsde | MS_RDONLY, NULL);
        plan_mount(&p, "cgroup2", "/sys/fs/cgroup", nsde, NULL);
        plan_mount(&p, "tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
        for (size_t i = 0; i < ARRAY_SIZE(std_devices); i++) {
                char tgt[32], src[32];
                snprintf(tgt, sizeof(tgt), "/dev/%s", std_devices[i].name);
                snprintf(src, sizeof(src), "/dev/%s", std_devices[i].name);
                struct ctr_mnt_op *op = plan_add(&p, CTR_MNT_MKNOD, src, tgt);
                op->mode = 0666;
                op->dev = makedev(std_devices[i].maj, std_devices[i].min);
        }
        plan_add(&p, CTR_MNT_SYMLINK, "/proc/self/fd", "/dev/fd");
        plan_add(&p, CTR_MNT_SYMLINK, "/proc/self/fd/0", "/dev/stdin");
        plan_add(&p, CTR_MNT_SYMLINK, "/proc/self/fd/1", "/dev/stdout");
        plan_add(&p, CTR_MNT_SYMLINK, "/proc/self/fd/2", "/dev/stderr");
        plan_mount(&p, "devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
        plan_add(&p, CTR_MNT_SYMLINK, "pts/ptmx", "/dev/ptmx");
        plan_mount(&p, "tmpfs", "/dev/shm", nsde, "mode=1777");
        plan_mount(&p, "mqueue", "/dev/mqueue", nsde, NULL);
        if (spec->console_path)
                plan_add(&p, CTR_MNT_BIND, spec->console_path, "/dev/console");
        plan_mount(&p, "tmpfs", "/run", nsd, "mode=755,size=20%");
        /* systemd's CONTAINER_INTERFACE: /run and /run/lock are tmpfs prepared by the manager. */
        plan_mount(&p, "tmpfs", "/run/lock", nsde, "mode=1777,size=5120k");

        for (size_t i = 0; i < spec->n_binds; i++) {
                const struct ctr_bind *b = &spec->binds[i];
                if (!b->source || b->source[0] != '/' || !b->target || b->target[0] != '/') {
                        ctr_rootfs_plan_free(&p);
                        return ctr_err(err, EINVAL, "mount plan", "bind mounts need absolute paths");
                }
                struct ctr_mnt_op *op = plan_add(&p, CTR_MNT_BIND, b->source, b->target);
                op->flags = MS_REC | (b->readonly ? MS_RDONLY : 0);
                op->volume = b->volume;
        }

        for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++)
                plan_add(&p, CTR_MNT_READONLY, NULL, readonly_paths[i])->optional = true;
        /* A private network namespace may be tuned from inside (systemd-networkd, sysctl.d). */
        if (spec->new_netns)
                plan_add(&p, CTR_MNT_RW, NULL, "/proc/sys/net")->optional = true;
        for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++)
                plan_add(&p, CTR_MNT_MASK, NULL, masked_paths[i])->optional = true;
        if (spec->readonly_root)
                plan_add(&p, CTR_MNT_READONLY, NULL, "/");
        *ret = p;
        return 0;
}

void ctr_rootfs_plan_free(struct ctr_mount_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->ops[i].source);
                free(p->ops[i].target);
                free(p->ops[i].fstype);
                free(p->ops[i].data);
        }
        free(p->ops);
        free(p->rootfs);
        free(p->overlay);
        memset(p, 0, sizeof(*p));
}

void ctr_rootfs_plan_print(const struct ctr_mount_plan *p, FILE *f)
{
        static const char *const kinds[] = {"mount", "bind", "mknod", "symlink", "mask", "readonly", "rw", "write"};
        fprintf(f, "rootfs %s%s\n", p->rootfs, p->attach_root ? " (a detached idmapped mount, attached)" : "");
        if (p->overlay)
                fprintf(f, "overlay %s (%s)\n", p->rootfs, p->overlay);
        for (size_t i = 0; i < p->n; i++) {
                const struct ctr_mnt_op *op = &p->ops[i];
                fprintf(f, "%-8s %s", kinds[op->kind], op->target);
                if (op->source)
                        fprintf(f, " <- %s", op->source);
                if (op->data)
                        fprintf(f, " (%s)", op->data);
                if (op->flags & MS_RDONLY)
                        fprintf(f, " ro");
                if (op->optional)
                        fprintf(f, " optional");
                if (op->has_fd)
                        fprintf(f, " (detached%s)", op->volume && !(op->flags & MS_RDONLY) ? ", idmapped to the owner" : "");
                fputc('\n', f);
        }
}

/* --- execution --------------------------------------------------------------------------- */

static int fdpath(int fd, char *buf, size_t len)
{
        return snprintf(buf, len, "/proc/self/fd/%d", fd) < (int)len ? 0 : -ENAMETOOLONG;
}

int ctr_rootfs_open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = flags | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        int fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

char *ctr_rootfs_resolve_name(const char *rootfs, const char *path)
{
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = rootfd < 0 ? -EBADF : ctr_rootfs_open_in_root(rootfd, path, O_PATH);
        if (fd < 0) {
                /* Not resolvable (yet): judge the path by its own name. */
                const char *b = strrchr(path, '/');
                return xstrdup(b ? b + 1 : path);
        }
        char link[64], target[4096];
        fdpath(fd, link, sizeof(link));
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return NULL;
        target[n] = 0;
        const char *base = strrchr(target, '/');
        return xstrdup(base ? base + 1 : target);
}

/* Make sure target exists inside the root, creating parents as directories. */
static int ensure_path(int rootfd, const char *target, bool dir, mode_t mode)
{
        int fd = ctr_rootfs_open_in_root(rootfd, target, O_PATH);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (fd != -ENOENT)
                return fd;
        _cleanup_free_ char *parent = xstrdup(target);
        char *slash = strrchr(parent, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        *slash = 0;
        const char *base = slash + 1;
        if (*parent) {
                int r = ensure_path(rootfd, parent, true, 0755);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int pfd = ctr_rootfs_open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return pfd;
        if (dir) {
                if (mkdirat(pfd, base, mode) < 0 && errno != EEXIST)
                        return -errno;
        } else {
                int f = openat(pfd, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
                if (f < 0 && errno != EEXIST)
                        return -errno;
                if (f >= 0)
                        close(f);
        }
        return 0;
}

static int mount_setattr_fd(int fd, bool recursive, uint64_t set, uint64_t clr)
{
        struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
        int r = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                        sizeof(attr));
        return r < 0 ? -errno : 0;
}


/* mount_setattr attributes for the MS_* flags a bind mount can carry; *clr gets
 * MOUNT_ATTR__ATIME when an atime mode is chosen (the kernel wants the old one cleared). */
static uint64_t bind_attrs(unsigned long flags, uint64_t *clr)
{
        uint64_t a = 0;
        *clr = flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME) ? MOUNT_ATTR__ATIME : 0;
        if (flags & MS_RDONLY)
                a |= MOUNT_ATTR_RDONLY;
        if (flags & MS_NOSUID)
                a |= MOUNT_ATTR_NOSUID;
        if (flags & MS_NODEV)
                a |= MOUNT_ATTR_NODEV;
        if (flags & MS_NOEXEC)
                a |= MOUNT_ATTR_NOEXEC;
        if (flags & MS_NOATIME)
                a |= MOUNT_ATTR_NOATIME;
        else if (flags & MS_STRICTATIME)
                a |= MOUNT_ATTR_STRICTATIME;
        if (flags & MS_NODIRATIME)
                a |= MOUNT_ATTR_NODIRATIME;
        return a;
}

/* Propagation of the mount now on top of target (reopened: an fd taken before mounting names
 * the mount underneath). */
static int set_propagation(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        char p[64];
        if (!op->propagation)
                return 0;
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0)
                return ctr_err_sys(err, -fd, "mount", "reopen %s", op->target);
        fdpath(fd, p, sizeof(p));
        if (mount(NULL, p, NULL, op->propagation, NULL) < 0)
                return ctr_err_sys(err, errno, "mount", "set the propagation of %s", op->target);
        return 0;
}

static int do_bind(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        struct stat st;
        char p[64];
        if ((op->has_fd ? fstat(op->fd, &st) : stat(op->source, &st)) < 0)
                return ctr_err_sys(err, errno, "mount", "bind source %s", op->source);
        int r = ensure_path(rootfd, op->target, S_ISDIR(st.st_mode), S_ISDIR(st.st_mode) ? 0755 : 0644);
        if (r < 0)
                return ctr_err_sys(err, -r, "mount", "create bind target %s", op->target);
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0)
                return ctr_err_sys(err, -fd, "mount", "open %s", op->target);
        fdpath(fd, p, sizeof(p));
        if (op->has_fd) {
                if (syscall(SYS_move_mount, op->fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return ctr_err_sys(err, errno, "mount", "attach %s on %s", op->source, op->target);
        } else if (mount(op->source, p, NULL, MS_BIND | (op->flags & MS_REC), NULL) < 0)
                return ctr_err_sys(err, errno, "mount", "bind %s on %s", op->source, op->target);
        uint64_t clr, attrs = bind_attrs(op->flags, &clr);
        if (attrs || clr) {
                _cleanup_close_ int mfd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
                if (mfd < 0 || mount_setattr_fd(mfd, op->flags & MS_REC, attrs, clr) < 0)
                        return ctr_err_sys(err, mfd < 0 ? -mfd : errno, "mount", "make %s %s", op->target,
                                           attrs == MOUNT_ATTR_RDONLY ? "read-only" : "read-only/nosuid/nodev/noexec as asked");
        }
        return set_propagation(rootfd, op, err);
}

static int do_write(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_WRONLY | O_NOFOLLOW);
        if (fd < 0)
                return op->optional && fd == -ENOENT ? 0 : ctr_err_sys(err, -fd, "write", "open %s", op->target);
        size_t len = op->data ? strlen(op->data) : 0;
        if (write(fd, op->data ? op->data : "", len) != (ssize_t)len)
                return ctr_err_sys(err, errno, "write", "%s = %s", op->target, op->data ? op->data : "");
        return 0;
}

static int do_self_bind(int rootfd, const struct ctr_mnt_op *op, bool ro, struct ctr_error *err)
{
        char p[64];
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0)
                return fd == -ENOENT && op->optional ? 0 : ctr_err_sys(err, -fd, "mount", "open %s", op->target);
        fdpath(fd, p, sizeof(p));
        /* The root itself is already a mount of its own; anything else is bound onto itself
         * first so the attribute change stays local to that subtree. */
        if (strcmp(op->target, "/") && mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return ctr_err_sys(err, errno, "mount", "bind %s onto itself", op->target);
        _cleanup_close_ int mfd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
        if (mfd < 0)
                return ctr_err_sys(err, -mfd, "mount", "reopen %s", op->target);
        int r = ro ? mount_setattr_fd(mfd, false, MOUNT_ATTR_RDONLY, 0)
                   : mount_setattr_fd(mfd, false, 0, MOUNT_ATTR_RDONLY);
        if (r < 0)
                return ctr_err_sys(err, -r, "mount", "make %s %s", op->target, ro ? "read-only" : "writable");
        return 0;
}

static int do_mask(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        struct stat st;
        char p[64];
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0)
                return fd == -ENOENT && op->optional ? 0 : ctr_err_sys(err, -fd, "mount", "open %s", op->target);
        if (fstat(fd, &st) < 0)
                return ctr_err_sys(err, errno, "mount", "stat %s", op->target);
        fdpath(fd, p, sizeof(p));
        int r = S_ISDIR(st.st_mode)
                        ? mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555")
                        : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (r < 0)
                return ctr_err_sys(err, errno, "mount", "mask %s", op->target);
        return 0;
}

static int do_mknod(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        _cleanup_free_ char *parent = xstrdup(op->target);
        char *slash = strrchr(parent, '/');
        *slash = 0;
        _cleanup_close_ int pfd = ctr_rootfs_open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return ctr_err_sys(err, -pfd, "mount", "open %s", parent);
        mode_t type = op->mode & S_IFMT ? op->mode & S_IFMT : S_IFCHR;
        if (mknodat(pfd, slash + 1, type | (op->mode & 07777), op->dev) == 0 || (errno == EEXIST && op->chown)) {
                _cleanup_close_ int fd = openat(pfd, slash + 1, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                char p[64];
                fdpath(fd, p, sizeof(p));
                if (fd < 0 || chmod(p, op->mode & 07777) < 0)
                        return ctr_err_sys(err, errno, "mount", "chmod %s", op->target);
                if (op->chown && fchownat(fd, "", op->uid, op->gid, AT_EMPTY_PATH) < 0)
                        return ctr_err_sys(err, errno, "mount", "chown %s", op->target);
                return 0;
        }
        if (errno != EPERM)
                return ctr_err_sys(err, errno, "mount", "mknod %s", op->target);
        /* Without CAP_MKNOD (user namespaces) the host's node is bound instead. */
        struct ctr_mnt_op b = *op;
        b.kind = CTR_MNT_BIND;
        b.flags = 0;
        return do_bind(rootfd, &b, err);
}

static int do_symlink(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        _cleanup_free_ char *parent = xstrdup(op->target);
        char *slash = strrchr(parent, '/');
        *slash = 0;
        _cleanup_close_ int pfd = ctr_rootfs_open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return ctr_err_sys(err, -pfd, "mount", "open %s", parent);
        if (symlinkat(op->source, pfd, slash + 1) < 0 && errno != EEXIST)
                return ctr_err_sys(err, errno, "mount", "symlink %s", op->target);
        return 0;
}

static int do_mount(int rootfd, const struct ctr_mnt_op *op, struct ctr_error *err)
{
        char p[64];
        int r = ensure_path(rootfd, op->target, true, 0755);
        if (r < 0)
                return op->optional && r == -ENOENT ? 0 : ctr_err_sys(err, -r, "mount", "create %s", op->target);
        _cleanup_close_ int fd = ctr_rootfs_open_in_root(rootfd, op->target, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return ctr_err_sys(err, -fd, "mount", "open %s", op->target);
        fdpath(fd, p, sizeof(p));
        if (mount(op->source, p, op->fstype, op->flags, op->data) < 0)
                return ctr_err_sys(err, errno, "mount", "mount %s on %s", op->fstype, op->target);
        return set_propagation(rootfd, op, err);
}

int ctr_rootfs_plan_execute(const struct ctr_mount_plan *p, struct ctr_error *err)
{
        /* Nothing we do below may propagate back to the host's mount table. */
        if (p->shared_ns) {
                /* No mount namespace of our own (an OCI config without one): the mounts are
                 * made where the caller lives, and its propagation stays as it is. */
        } else if (mount(NULL, "/", NULL, p->root_propagation ? p->root_propagation : MS_REC | MS_PRIVATE, NULL) < 0)
                return ctr_err_sys(err, errno, "mount", "set the propagation of /");
        if (p->attach_root) {
                if (syscall(SYS_move_mount, p->root_mount_fd, "", p->root_target_fd, "",
                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return ctr_err_sys(err, errno, "mount", "attach the idmapped rootfs on %s", p->rootfs);
        } else if (p->overlay) {
                if (mount("overlay", p->rootfs, "overlay", 0, p->overlay) < 0)
                        return ctr_err_sys(err, errno, "mount", "overlay on %s (%s)", p->rootfs, p->overlay);
        } else if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return ctr_err_sys(err, errno, "mount", "bind rootfs %s", p->rootfs);
        /* Opened after the self-bind, so it refers to the mount that pivot_root will use. */
        _cleanup_close_ int rootfd = p->attach_root ? openat(p->root_mount_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)
                                                    : open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return ctr_err_sys(err, errno, "mount", "open rootfs %s", p->rootfs);

        for (size_t i = 0; i < p->n; i++) {
                const struct ctr_mnt_op *op = &p->ops[i];
                int r = 0;
                switch (op->kind) {
                case CTR_MNT_MOUNT: r = do_mount(rootfd, op, err); break;
                case CTR_MNT_BIND: r = do_bind(rootfd, op, err); break;
                case CTR_MNT_MKNOD: r = do_mknod(rootfd, op, err); break;
                case CTR_MNT_SYMLINK: r = do_symlink(rootfd, op, err); break;
                case CTR_MNT_MASK: r = do_mask(rootfd, op, err); break;
                case CTR_MNT_READONLY: r = do_self_bind(rootfd, op, true, err); break;
                case CTR_MNT_RW: r = do_self_bind(rootfd, op, false, err); break;
                case CTR_MNT_WRITE: r = do_write(rootfd, op, err); break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int ctr_rootfs_pivot(const char *rootfs, struct ctr_error *err)
{
        _cleanup_close_ int newroot = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (newroot < 0)
                return ctr_err_sys(err, errno, "pivot_root", "open %s", rootfs);
        if (fchdir(newroot) < 0)
                return ctr_err_sys(err, errno, "pivot_root", "chdir %s", rootfs);
        /* pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then
         * leaves only the new root, with no temporary directory needed inside the container. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return ctr_err_sys(err, errno, "pivot_root", "%s", rootfs);
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return ctr_err_sys(err, errno, "pivot_root", "make old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return ctr_err_sys(err, errno, "pivot_root", "detach old root");
        if (chdir("/") < 0)
                return ctr_err_sys(err, errno, "pivot_root", "chdir /");
        return 0;
}
