/* User-namespaced containers: allocation of a container's id range at create, the namespace's
 * maps at start, and the detached mounts (idmapped rootfs, bind sources) the parent makes for a
 * child that is no longer host root and cannot walk the host's private directories. */
#define _GNU_SOURCE
#include "userns.h"

#include "../launch/launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../security/subid.h"
#include "../base/util.h"

struct used {
        struct ctr_idrange *uid, *gid;
        size_t n;
};

static void used_add(struct used *u, const struct ctr_idmap *m)
{
        u->uid = realloc(u->uid, (u->n + 1) * sizeof(*u->uid));
        u->gid = realloc(u->gid, (u->n + 1) * sizeof(*u->gid));
        if (!u->uid || !u->gid)
                abort();
        u->uid[u->n] = (struct ctr_idrange){m->uid, m->count};
        u->gid[u->n++] = (struct ctr_idrange){m->gid, m->count};
}

/* Ranges held by every container of this root, including creates and destroys in progress. */
static int scan_used(const char *containers, struct used *u, struct ctr_error *err)
{
        DIR *d = opendir(containers);
        if (!d)
                return errno == ENOENT ? 0 : ctr_err_sys(err, errno, "userns", "read %s", containers);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s/config.json", containers, de->d_name);
                struct ctr_config c;
                struct ctr_error e = {0};
                if (access(path, F_OK) < 0 || ctr_config_load(path, &c, &e) < 0)
                        continue; /* not a container (yet), or one whose config ctr cannot start anyway */
                if (c.userns && c.idmap.count)
                        used_add(u, &c.idmap);
                ctr_config_free(&c);
        }
        closedir(d);
        return 0;
}

int ctr_userns_allocate(const struct ctr_paths *p, struct ctr_config *cfg, const char *dir, struct ctr_error *err)
{
        _cleanup_free_ struct ctr_idrange *du = NULL, *dg = NULL;
        size_t ndu = 0, ndg = 0;
        const char *fu = ctr_subid_path(0), *fg = ctr_subid_path(1);
        int r = ctr_subid_load(fu, &du, &ndu, err);
        if (r < 0 || (r = ctr_subid_load(fg, &dg, &ndg, err)) < 0)
                return r;

        /* The containers directory itself is the lock: allocation leaves no file behind. */
        _cleanup_close_ int lock = open(p->containers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return ctr_err_sys(err, errno, "userns", "lock %s", p->containers);
        struct used u = {0};
        r = scan_used(p->containers, &u, err);
        uint32_t ub = 0, gb = 0;
        if (r == 0 && ctr_subid_alloc(du, ndu, u.uid, u.n, CTR_IDMAP_COUNT, &ub) < 0)
                r = ctr_err(err, ENOSPC, "userns",
                            "no free range of %u subordinate uids for %s in %s (%zu containers hold one)",
                            CTR_IDMAP_COUNT, CTR_SUBID_OWNER, fu, u.n);
        if (r == 0 && ctr_subid_alloc(dg, ndg, u.gid, u.n, CTR_IDMAP_COUNT, &gb) < 0)
                r = ctr_err(err, ENOSPC, "userns",
                            "no free range of %u subordinate gids for %s in %s (%zu containers hold one)",
                            CTR_IDMAP_COUNT, CTR_SUBID_OWNER, fg, u.n);
        free(u.uid);
        free(u.gid);
        if (r < 0)
                return r;
        cfg->idmap = (struct ctr_idmap){.uid = ub, .gid = gb, .count = CTR_IDMAP_COUNT};
        /* Written before the lock goes: the next create's scan sees this range. */
        _cleanup_free_ char *cfgpath = xasprintf("%s/config.json", dir);
        return ctr_config_save(cfgpath, cfg, err);
}

/* Both maps of pid's user namespace, each written in one go as the kernel wants. */
static int write_map_text(pid_t pid, const char *uid_map, const char *gid_map, struct ctr_error *err)
{
        char path[64];
        const char *files[] = {"uid_map", "gid_map"}, *text[] = {uid_map, gid_map};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
                int r = ctr_write_file(path, text[i]);
                if (r < 0)
                        return ctr_err_sys(err, -r, "userns", "write %s (%.*s)", path, (int)strcspn(text[i], "\n"),
                                           text[i]);
        }
        return 0;
}

int ctr_userns_write_maps(pid_t pid, const struct ctr_idmap *m, struct ctr_error *err)
{
        char u[64], g[64];
        snprintf(u, sizeof(u), "0 %u %u\n", m->uid, m->count);
        snprintf(g, sizeof(g), "0 %u %u\n", m->gid, m->count);
        return write_map_text(pid, u, g, err);
}

int ctr_userns_volume_map(uint32_t owner, uint32_t base, uint32_t count, char *buf, size_t len)
{
        if (!count || (uint64_t)base + count > UINT32_MAX)
                return -EINVAL;
        uint64_t end = (uint64_t)base + count; /* the container's ids are base+1 .. end-1 besides root */
        int n;
        if (owner > base && owner < end) {
                /* The owner is one of the container's own ids: it is root's now, so the rest goes
                 * around it (that id inside has no files through this mount). */
                n = snprintf(buf, len, "%u %u 1\n", owner, base);
                if (owner - base > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", base + 1, base + 1, owner - base - 1);
                if (end - owner > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", owner + 1, owner + 1, (uint32_t)(end - owner - 1));
        } else {
                n = snprintf(buf, len, "%u %u 1\n", owner, base);
                if (count > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", base + 1, base + 1, count - 1);
        }
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A user namespace with these maps, held by a child that ends once it is open here. */
struct maps_launch {
        const char *uid_map, *gid_map;
        int fd;
};

static void __attribute__((noreturn)) hold_userns(void *data, int sock)
{
        struct ctr_sync_msg m;
        ctr_sync_wait_go(sock, &m, NULL, 0);
        ctr_sync_send(sock, CTR_SYNC_READY, NULL, 0, -1);
        _exit(0);
}

static int maps_before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        struct maps_launch *ml = data;
        int r = write_map_text(pid, ml->uid_map, ml->gid_map, err);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        if ((ml->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return ctr_err_sys(err, errno, "userns", "open %s", path);
        return 0;
}

static int open_maps(const char *uid_map, const char *gid_map, int *ret_fd, struct ctr_error *err)
{
        struct maps_launch ml = {.uid_map = uid_map, .gid_map = gid_map, .fd = -1};
        struct ctr_launch l = {.what = "the user namespace's holder", .flags = CLONE_NEWUSER, .cgroup_fd = -1,
                               .pidns_fd = -1, .until = CTR_LAUNCH_UNTIL_READY, .child = hold_userns,
                               .before_go = maps_before_go, .data = &ml};
        struct ctr_launched out;
        int r = ctr_launch(&l, &out, err);
        if (r < 0) {
                if (ml.fd >= 0)
                        close(ml.fd);
                return r;
        }
        while (waitpid(out.pid, NULL, 0) < 0 && errno == EINTR)
                ;
        close(out.pidfd);
        *ret_fd = ml.fd;
        return 0;
}

int ctr_userns_open(const struct ctr_idmap *m, int *ret_fd, struct ctr_error *err)
{
        char u[64], g[64];
        snprintf(u, sizeof(u), "0 %u %u\n", m->uid, m->count);
        snprintf(g, sizeof(g), "0 %u %u\n", m->gid, m->count);
        return open_maps(u, g, ret_fd, err);
}

int ctr_userns_need_chown(const struct ctr_idmap *m, const char *path, bool *ret, struct ctr_error *err)
{
        const char *knob = getenv("CTR_IDMAP");
        if (knob && !strcmp(knob, "chown")) {
                *ret = true;
                return 0;
        }
        if (knob && *knob && strcmp(knob, "mount"))
                return ctr_err(err, EINVAL, "userns", "CTR_IDMAP='%s' is not chown or mount", knob);
        _cleanup_close_ int ufd = -EBADF;
        int r = ctr_userns_open(m, &ufd, err);
        if (r < 0)
                return r;
        r = ctr_rootfs_idmap_supported(path, ufd, err);
        if (r < 0)
                return r;
        if (r == 0 && knob && !strcmp(knob, "mount"))
                return ctr_err(err, EOPNOTSUPP, "userns", "CTR_IDMAP=mount, but the filesystem of %s refuses idmapped mounts",
                               path);
        *ret = r == 0;
        return 0;
}

/* The config's range must still be delegated to ctr's owner (an admin may have taken it back). */
static int check_delegated(const struct ctr_idmap *m, struct ctr_error *err)
{
        for (int gid = 0; gid < 2; gid++) {
                const char *path = ctr_subid_path(gid);
                _cleanup_free_ char *text = NULL;
                _cleanup_free_ struct ctr_idrange *v = NULL;
                size_t n = 0;
                int r = ctr_read_file(path, 1 << 22, &text, NULL);
                if (r < 0)
                        return ctr_err_sys(err, -r, "userns", "read %s", path);
                r = ctr_subid_parse(text, path, &v, &n, err);
                if (r < 0)
                        return r;
                uint32_t base = gid ? m->gid : m->uid;
                if (!ctr_subid_contains(v, n, base, m->count))
                        return ctr_err(err, EPERM, "userns", "%ss %u-%u of security.idmap are not delegated to %s in %s",
                                       gid ? "gid" : "uid", base, base + m->count - 1, CTR_SUBID_OWNER, path);
        }
        return 0;
}

void ctr_userns_start_free(struct ctr_userns_start *u)
{
        if (!u->planned)
                return;
        for (size_t i = 0; i < u->plan.n; i++)
                if (u->plan.ops[i].has_fd)
                        close(u->plan.ops[i].fd);
        if (u->plan.attach_root)
                close(u->plan.root_mount_fd);
        ctr_rootfs_plan_free(&u->plan);
        u->planned = false;
}

/* A read-write volume seen through an idmap that makes its source's owner root inside: what
 * root writes there belongs to that owner on the host. The rest of the container's ids stay
 * themselves (ctr_userns_volume_map). A read-only volume is never idmapped: root inside may
 * remount its own binds read-write (the kernel locks only inherited mounts), and through an
 * idmap that would write as the owner, host root included. */
static int volume_idmap(struct ctr_mnt_op *op, const struct ctr_idmap *m, struct ctr_error *err)
{
        struct stat st;
        if (fstat(op->fd, &st) < 0)
                return ctr_err_sys(err, errno, "volume", "%s:%s: stat the source", op->source, op->target);
        char u[128], g[128];
        if (ctr_userns_volume_map(st.st_uid, m->uid, m->count, u, sizeof(u)) < 0 ||
            ctr_userns_volume_map(st.st_gid, m->gid, m->count, g, sizeof(g)) < 0)
                return ctr_err(err, EINVAL, "volume", "%s:%s: no idmap from owner %u:%u to range %u/%u",
                               op->source, op->target, (unsigned)st.st_uid, (unsigned)st.st_gid, m->uid, m->gid);
        _cleanup_close_ int ufd = -EBADF;
        int r = open_maps(u, g, &ufd, err);
        if (r < 0)
                return r;
        struct ctr_error e = {0};
        r = ctr_rootfs_idmap_detached(op->fd, op->source, ufd, op->flags & MS_REC, &e);
        if (r == -EINVAL || r == -EOPNOTSUPP || r == -ENOSYS || r == -EPERM)
                return ctr_err(err, -r, "volume",
                               "%s:%s: the filesystem of %s (or one mounted below it) refuses idmapped mounts (%s), "
                               "which a user namespace needs for a writable volume; without one (--no-userns) it "
                               "is bound as it is",
                               op->source, op->target, op->source, strerror(-r));
        if (r < 0) {
                *err = e;
                ctr_err_prefix(err, "volume %s:%s", op->source, op->target);
        }
        return r;
}

int ctr_userns_prepare(const struct ctr_config *cfg, const char *rootfs, int console_fd, const char *cgroup_path,
                       bool volatile_upper, struct ctr_userns_start *ret, struct ctr_error *err)
{
        const struct ctr_idmap *m = &cfg->idmap;
        bool overlay = !strcmp(cfg->storage_driver, "overlay");
        if (!m->count)
                return ctr_err(err, EINVAL, "userns",
                               "security.userns is on but security.idmap is null (the range is taken at create)");
        if (overlay && m->chowned)
                return ctr_err(err, EINVAL, "userns", "overlay storage cannot be chowned (security.idmap.shift chown)");
        int r = check_delegated(m, err);
        if (r < 0)
                return r;
        /* Root inside opens /dev/console itself (systemd, getty): the pty becomes root's:tty's. */
        if (console_fd >= 0 && fchown(console_fd, m->uid, m->gid + 5) < 0)
                return ctr_err_sys(err, errno, "console", "give the console to %u:%u", m->uid, m->gid + 5);
        if (cgroup_path && (r = ctr_cgroup_chown(cgroup_path, m->uid, m->gid, err)) < 0)
                return r;

        _cleanup_close_ int ufd = -EBADF, rfd = -EBADF;
        if (!m->chowned && (r = ctr_userns_open(m, &ufd, err)) < 0)
                return r;
        if (overlay) {
                _cleanup_free_ char *dir = xstrdup(rootfs);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                r = ctr_rootfs_idmapped_overlay(cfg->storage_lower, dir, ufd, m->uid, m->gid, volatile_upper, &rfd, err);
        } else
                r = ctr_rootfs_idmapped_tree(rootfs, ufd, false, &rfd, err);
        if (r < 0)
                return r;

        free(ret->plan.overlay);
        ret->plan.overlay = NULL;
        ret->plan.attach_root = true;
        ret->plan.root_mount_fd = TAKE_FD(rfd);
        ret->plan.root_target_fd = -1;
        /* Bind sources as detached clones: the child attaches them without walking host paths.
         * The user's read-write volumes are idmapped to their owners (volume_idmap); ctr's own
         * binds and read-only volumes keep host owners (nobody when outside the range). */
        for (size_t i = 0; i < ret->plan.n; i++) {
                struct ctr_mnt_op *op = &ret->plan.ops[i];
                if (op->kind != CTR_MNT_BIND)
                        continue;
                r = ctr_rootfs_idmapped_tree(op->source, -1, op->flags & MS_REC, &op->fd, err);
                if (r == 0) {
                        op->has_fd = true;
                        if (op->volume && !(op->flags & MS_RDONLY))
                                r = volume_idmap(op, m, err);
                }
                if (r < 0) {
                        ctr_userns_start_free(ret);
                        return r;
                }
        }
        return 0;
}

int ctr_userns_after_clone(const struct ctr_idmap *m, const char *rootfs, pid_t pid, int *ret_target_fd,
                           struct ctr_error *err)
{
        int r = ctr_userns_write_maps(pid, m, err);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        _cleanup_close_ int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return ctr_err_sys(err, errno, "userns", "open %s", path);
        int fd = ctr_rootfs_open_in_root(rootfd, rootfs, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return ctr_err_sys(err, -fd, "userns", "open %s in the container's mount namespace", rootfs);
        *ret_target_fd = fd;
        return 0;
}

int ctr_userns_become_root(struct ctr_error *err)
{
        if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
                return ctr_err_sys(err, errno, "userns", "become root of the user namespace");
        /* A change of credentials clears the parent-death signal. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        return 0;
}
