/* Post-create configuration of a guest tree, the same for every template: what names the
 * container (hostname, hosts), what makes its first boot a first boot (empty machine-id), and
 * how `ctr attach` gets a shell (console autologin; root's password stays locked). Every path is
 * resolved inside the tree, so a symlink in a downloaded image cannot point a write at the host. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

struct view {
        int dir, lower; /* lower: -1 without overlay */
};

/* Read path from the upper tree, else the lower one (with its owner and mode in ret_st). NULL
 * when neither has it. */
static char *view_read(const struct view *v, const char *path, struct stat *ret_st)
{
        int fds[2] = {v->dir, v->lower};
        for (int i = 0; i < 2; i++) {
                if (fds[i] < 0)
                        continue;
                _cleanup_close_ int fd = ctr_rootfs_open_in_root(fds[i], path, O_RDONLY | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                _cleanup_free_ char *text = NULL;
                char p[64];
                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                if (ret_st && fstat(fd, ret_st) < 0)
                        continue;
                if (ctr_read_file(p, 1 << 20, &text, NULL) >= 0)
                        return TAKE_PTR(text);
        }
        return NULL;
}

static bool view_exists(const struct view *v, const char *path)
{
        int fds[2] = {v->dir, v->lower};
        for (int i = 0; i < 2; i++) {
                _cleanup_close_ int fd = fds[i] < 0 ? -EBADF : ctr_rootfs_open_in_root(fds[i], path, O_PATH);
                if (fd >= 0)
                        return true;
        }
        return false;
}

/* Open (creating) the directory path inside the upper tree. */
static int open_dir_p(int root, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        _cleanup_close_ int cur = ctr_rootfs_open_in_root(root, "/", O_PATH | O_DIRECTORY);
        char *save = NULL;
        if (cur < 0)
                return cur;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
                        return -errno;
                int next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                close(cur);
                cur = next;
        }
        return TAKE_FD(cur);
}

/* like: keep an existing file's owner and mode (NULL: root, mode). */
static int view_write(const struct view *v, const char *path, const char *text, mode_t mode, const struct stat *like,
                      struct ctr_error *err)
{
        _cleanup_free_ char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        const char *base = slash + 1;
        *slash = 0;
        _cleanup_close_ int pfd = open_dir_p(v->dir, parent);
        if (pfd < 0)
                return ctr_err_sys(err, -pfd, "configure", "create %s", *parent ? parent : "/");
        _cleanup_free_ char *tmp = xasprintf(".%s.ctr-tmp", base);
        unlinkat(pfd, tmp, 0);
        _cleanup_close_ int fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return ctr_err_sys(err, errno, "configure", "write %s", path);
        size_t len = strlen(text);
        if (like)
                mode = like->st_mode & 07777;
        errno = 0;
        if ((len && ctr_write_all(fd, text, len) != (ssize_t)len) || (like && fchown(fd, like->st_uid, like->st_gid) < 0) ||
            fchmod(fd, mode) < 0 ||
            renameat(pfd, tmp, pfd, base) < 0) {
                int e = errno ? errno : EIO;
                unlinkat(pfd, tmp, 0);
                return ctr_err_sys(err, e, "configure", "write %s", path);
        }
        return 0;
}

static int view_symlink(const struct view *v, const char *path, const char *target, struct ctr_error *err)
{
        _cleanup_free_ char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        const char *base = slash + 1;
        *slash = 0;
        _cleanup_close_ int pfd = open_dir_p(v->dir, parent);
        if (pfd < 0)
                return ctr_err_sys(err, -pfd, "configure", "create %s", parent);
        _cleanup_free_ char *tmp = xasprintf(".%s.ctr-tmp", base);
        unlinkat(pfd, tmp, 0);
        if (symlinkat(target, pfd, tmp) < 0 || renameat(pfd, tmp, pfd, base) < 0) {
                int e = errno;
                unlinkat(pfd, tmp, 0);
                return ctr_err_sys(err, e, "configure", "link %s", path);
        }
        return 0;
}

static char *hosts_text(const char *old, const char *hostname)
{
        /* Keep what the image had, minus lines that name the loopback host. */
        size_t cap = (old ? strlen(old) : 0) + 512;
        char *out = malloc(cap);
        if (!out)
                abort();
        int n = snprintf(out, cap, "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                         hostname);
        if (old) {
                _cleanup_free_ char *copy = xstrdup(old);
                char *save = NULL;
                for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        const char *s = l + strspn(l, " \t");
                        if (!strncmp(s, "127.", 4) || !strncmp(s, "::1", 3))
                                continue;
                        n += snprintf(out + n, cap - n, "%s\n", l);
                }
        }
        return out;
}

/* root's password field becomes "*" unless it is already locked ("!..." or "*"). */
static char *shadow_locked(const char *old, bool *ret_changed)
{
        size_t cap = strlen(old) + 8;
        char *out = malloc(cap);
        if (!out)
                abort();
        *ret_changed = false;
        const char *p = old;
        size_t n = 0;
        while (*p) {
                const char *eol = strchrnul(p, '\n');
                size_t len = eol - p;
                if (!strncmp(p, "root:", 5)) {
                        const char *pw = p + 5, *end = memchr(pw, ':', len - 5);
                        if (end && !(end > pw && (*pw == '!' || *pw == '*'))) {
                                n += sprintf(out + n, "root:*");
                                memcpy(out + n, end, eol - end);
                                n += eol - end;
                                *ret_changed = true;
                                goto next;
                        }
                }
                memcpy(out + n, p, len);
                n += len;
        next:
                if (*eol)
                        out[n++] = '\n';
                p = *eol ? eol + 1 : eol;
        }
        out[n] = 0;
        return out;
}

int ctr_rootfs_configure(const struct ctr_guest_setup *g, struct ctr_error *err)
{
        _cleanup_close_ int dir = open(g->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int lower = g->lower ? open(g->lower, O_PATH | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        if (dir < 0)
                return ctr_err_sys(err, errno, "configure", "open %s", g->dir);
        if (g->lower && lower < 0)
                return ctr_err_sys(err, errno, "configure", "open %s", g->lower);
        struct view v = {.dir = dir, .lower = lower};
        int r;

        _cleanup_free_ char *hn = xasprintf("%s\n", g->hostname);
        if ((r = view_write(&v, "/etc/hostname", hn, 0644, NULL, err)) < 0)
                return r;
        _cleanup_free_ char *old_hosts = view_read(&v, "/etc/hosts", NULL);
        _cleanup_free_ char *hosts = hosts_text(old_hosts, g->hostname);
        if ((r = view_write(&v, "/etc/hosts", hosts, 0644, NULL, err)) < 0)
                return r;
        /* Empty, not missing: systemd then treats the boot as the first and fills it from the
         * container_uuid ctr passes, so the machine id is stable across restarts. */
        if ((r = view_write(&v, "/etc/machine-id", "", 0444, NULL, err)) < 0)
                return r;
        struct stat sst;
        /* dbus keeps its own copy, which systemd prefers over container_uuid for an empty
         * machine-id: as debootstrap leaves it, every container of a cached tree would share
         * one id. Debian's own answer is a link to /etc/machine-id. */
        struct stat dst;
        _cleanup_free_ char *dbus_id = view_read(&v, "/var/lib/dbus/machine-id", &dst);
        if (dbus_id && *dbus_id && (r = view_symlink(&v, "/var/lib/dbus/machine-id", "/etc/machine-id", err)) < 0)
                return r;
        _cleanup_free_ char *shadow = view_read(&v, "/etc/shadow", &sst);
        if (shadow) {
                bool changed;
                _cleanup_free_ char *locked = shadow_locked(shadow, &changed);
                if (changed && (r = view_write(&v, "/etc/shadow", locked, 0640, &sst, err)) < 0)
                        return r;
        }
        /* The password stays locked, so the console logs root in by itself: attaching to the
         * console already takes root on the host. systemd's getty generator starts
         * console-getty.service in a container; this drop-in adds the autologin. */
        if (view_exists(&v, "/lib/systemd/systemd") || view_exists(&v, "/usr/lib/systemd/systemd")) {
                static const char dropin[] =
                        "# Written by ctr: `ctr attach` gets a root shell; root's password is locked.\n"
                        "[Service]\n"
                        "ExecStart=\n"
                        "ExecStart=-/sbin/agetty --noclear --autologin root --keep-baud - 115200,38400,9600 $TERM\n";
                r = view_write(&v, "/etc/systemd/system/console-getty.service.d/ctr-autologin.conf", dropin, 0644,
                               NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
