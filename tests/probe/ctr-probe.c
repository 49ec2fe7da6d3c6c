/* ctr-probe: a tiny static program placed inside test containers. It prints one key=value line
 * per fact asked on its command line, so integration tests assert facts instead of scraping a shell. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/reboot.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC_ 0x01021994
#define ST_RDONLY_   1

static const char usage[] =
        "usage: ctr-probe FACT...\n"
        "facts: pid ppid hostname uid gid cwd cgroup mounts mountpoints root-mount nproc procs netdevs\n"
        "       capeff nonewprivs seccomp pidns mntns netns utsns ipcns cgroupns userns console dev tty\n"
        "       fds env:NAME readable:PATH writable:PATH masked:PATH sleep:SECONDS\n"
        "       uidmap gidmap owner:PATH append:PATH\n"
        "       alloc:MB escape:WHAT (module kexec handle mknod sysrq sys-write sys-rw proc1 newproc-sys\n"
        "       reboot ptrace=PID devmem kcore bpf keyctl perf; ok means the attempt succeeded)\n"
        "Each fact prints one line KEY=VALUE (KEY is the fact as given); a value that could not be\n"
        "read prints as error:ERRNO. root-mount is FSTYPE:OPTIONS; console is chr:MAJ:MIN,stdin=LINK.\n"
        "Exit status 0, or 2 when a fact is unknown or malformed.\n";

static void put(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *key, const char *fmt, ...)
{
        va_list ap;
        printf("%s=", key);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static void put_err(const char *key, int e)
{
        const char *name = strerrorname_np(e);
        put(key, "error:%s", name ? name : "unknown");
}

/* A growable list of strings, for facts that print sorted, comma-separated names. */
struct list {
        char **v;
        size_t n, cap;
};

static void list_add(struct list *l, const char *s)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 32;
                l->v = realloc(l->v, l->cap * sizeof(char *));
                if (!l->v)
                        abort();
        }
        if (!(l->v[l->n++] = strdup(s)))
                abort();
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_num(const void *a, const void *b)
{
        long x = atol(*(char *const *)a), y = atol(*(char *const *)b);
        return (x > y) - (x < y);
}

/* Print key=a,b,c (sorted with cmp unless NULL) and free the list. */
static void list_put(const char *key, struct list *l, int (*cmp)(const void *, const void *))
{
        if (cmp && l->n)
                qsort(l->v, l->n, sizeof(char *), cmp);
        printf("%s=", key);
        for (size_t i = 0; i < l->n; i++) {
                printf("%s%s", i ? "," : "", l->v[i]);
                free(l->v[i]);
        }
        putchar('\n');
        free(l->v);
        memset(l, 0, sizeof(*l));
}

static bool is_number(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Read a small file into buf, without its trailing newline. Returns 0 or an errno. */
static int read_small(const char *path, char *buf, size_t len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno;
        ssize_t n = read(fd, buf, len - 1);
        int e = errno;
        close(fd);
        if (n < 0)
                return e;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

/* The value of "Key:" in /proc/self/status. */
static void status_field(const char *key, const char *field)
{
        FILE *f = fopen("/proc/self/status", "re");
        char *line = NULL;
        size_t cap = 0, n = strlen(field);
        if (!f) {
                put_err(key, errno);
                return;
        }
        bool found = false;
        while (!found && getline(&line, &cap, f) > 0)
                if (!strncmp(line, field, n) && line[n] == ':') {
                        char *v = line + n + 1;
                        v += strspn(v, " \t");
                        v[strcspn(v, "\n")] = 0;
                        put(key, "%s", v);
                        found = true;
                }
        if (!found)
                put(key, "missing");
        free(line);
        fclose(f);
}

/* Walk /proc/self/mountinfo: what = 0 counts lines, 1 lists mount points, 2 describes "/". */
static void mountinfo(const char *key, int what)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char *line = NULL, root[1024] = "";
        size_t cap = 0, count = 0;
        struct list l = {0};
        if (!f) {
                put_err(key, errno);
                return;
        }
        while (getline(&line, &cap, f) > 0) {
                /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
                char *fields[6] = {0}, *save = NULL, *tok = strtok_r(line, " \n", &save);
                int nf = 0;
                for (; tok && nf < 6; tok = strtok_r(NULL, " \n", &save))
                        fields[nf++] = tok;
                count++;
                if (nf < 6)
                        continue;
                if (what == 1)
                        list_add(&l, fields[4]);
                if (what == 2 && !strcmp(fields[4], "/")) {
                        /* The last mount on / is the one on top, the one the process sees. */
                        while (tok && strcmp(tok, "-"))
                                tok = strtok_r(NULL, " \n", &save);
                        tok = tok ? strtok_r(NULL, " \n", &save) : NULL;
                        snprintf(root, sizeof(root), "%s:%s", tok ? tok : "unknown", fields[5]);
                }
        }
        free(line);
        fclose(f);
        if (what == 0)
                put(key, "%zu", count);
        else if (what == 1)
                list_put(key, &l, NULL);
        else
                put(key, "%s", *root ? root : "none");
}

/* Names in a directory, sorted; filter (may be NULL) keeps an entry when it returns true. */
static int dir_names(const char *path, struct list *l, bool (*filter)(const char *))
{
        DIR *d = opendir(path);
        if (!d)
                return errno;
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && (!filter || filter(de->d_name)))
                        list_add(l, de->d_name);
        closedir(d);
        return 0;
}

static void procs(const char *key, bool names)
{
        struct list l = {0};
        int e = dir_names("/proc", &l, is_number);
        if (e) {
                put_err(key, e);
                return;
        }
        if (!names) {
                put(key, "%zu", l.n);
                for (size_t i = 0; i < l.n; i++)
                        free(l.v[i]);
                free(l.v);
                return;
        }
        qsort(l.v, l.n, sizeof(char *), cmp_num);
        struct list out = {0};
        for (size_t i = 0; i < l.n; i++) {
                char path[64], comm[64], item[96];
                snprintf(path, sizeof(path), "/proc/%s/comm", l.v[i]);
                /* A process may exit while we look: skip it. */
                if (read_small(path, comm, sizeof(comm)) == 0) {
                        snprintf(item, sizeof(item), "%s:%s", l.v[i], comm);
                        list_add(&out, item);
                }
                free(l.v[i]);
        }
        free(l.v);
        list_put(key, &out, NULL);
}

static void netdevs(const char *key)
{
        struct list l = {0};
        if (dir_names("/sys/class/net", &l, NULL) == 0 && l.n) {
                list_put(key, &l, cmp_str);
                return;
        }
        /* No sysfs: /proc/net/dev has two header lines, then "  name: counters...". */
        FILE *f = fopen("/proc/net/dev", "re");
        char line[512];
        if (!f) {
                put_err(key, errno);
                return;
        }
        for (int n = 0; fgets(line, sizeof(line), f); n++) {
                char *colon = strchr(line, ':');
                if (n < 2 || !colon)
                        continue;
                *colon = 0;
                list_add(&l, line + strspn(line, " "));
        }
        fclose(f);
        list_put(key, &l, cmp_str);
}

static void fds(const char *key)
{
        DIR *d = opendir("/proc/self/fd");
        struct list l = {0};
        if (!d) {
                put_err(key, errno);
                return;
        }
        char self[16];
        snprintf(self, sizeof(self), "%d", dirfd(d));
        for (struct dirent *de; (de = readdir(d));)
                if (is_number(de->d_name) && strcmp(de->d_name, self))
                        list_add(&l, de->d_name);
        closedir(d);
        list_put(key, &l, cmp_num);
}

static void console(const char *key)
{
        struct stat st;
        char dev[64], link[PATH_MAX];
        if (stat("/dev/console", &st) < 0)
                snprintf(dev, sizeof(dev), "missing");
        else if (S_ISCHR(st.st_mode))
                snprintf(dev, sizeof(dev), "chr:%u:%u", major(st.st_rdev), minor(st.st_rdev));
        else
                snprintf(dev, sizeof(dev), "notchr");
        ssize_t n = readlink("/proc/self/fd/0", link, sizeof(link) - 1);
        if (n < 0)
                snprintf(link, sizeof(link), "none");
        else
                link[n] = 0;
        put(key, "%s,stdin=%s", dev, link);
}

/* Masked: a bind of /dev/null over a file, or an empty read-only tmpfs over a directory. */
static bool is_masked(const char *path)
{
        struct stat st;
        struct statfs sf;
        if (stat(path, &st) < 0)
                return false;
        if (S_ISCHR(st.st_mode))
                return major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
        if (!S_ISDIR(st.st_mode) || statfs(path, &sf) < 0)
                return false;
        if (sf.f_type != TMPFS_MAGIC_ || !(sf.f_flags & ST_RDONLY_))
                return false;
        struct list l = {0};
        if (dir_names(path, &l, NULL))
                return false;
        bool empty = l.n == 0;
        for (size_t i = 0; i < l.n; i++)
                free(l.v[i]);
        free(l.v);
        return empty;
}

/* Touch MB megabytes one page at a time, so a memory limit bites (the OOM killer ends us). */
static int do_alloc(const char *key, const char *arg)
{
        char *end;
        long mb = strtol(arg, &end, 10);
        if (*end || end == arg || mb <= 0 || mb > 1 << 20) {
                fprintf(stderr, "ctr-probe: bad size in '%s'\n", key);
                return 2;
        }
        size_t len = (size_t)mb << 20;
        char *p = malloc(len);
        if (!p) {
                put_err(key, errno);
                return 0;
        }
        for (size_t i = 0; i < len; i += 4096)
                p[i] = 1;
        put(key, "done");
        free(p);
        return 0;
}

static int do_sleep(const char *key, const char *arg)
{
        char *end;
        errno = 0;
        double s = strtod(arg, &end);
        if (errno || end == arg || *end || s < 0) {
                fprintf(stderr, "ctr-probe: bad duration in '%s'\n", key);
                return 2;
        }
        struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
        fflush(stdout);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        put(key, "done");
        return 0;
}

/* --- escape probes: each attempt is harmless even when it succeeds (it is undone at once, or
 * is a no-op by construction); the fact prints ok (an escape!) or the errno that stopped it. */

static void put_try(const char *key, int r)
{
        if (r < 0)
                put_err(key, errno);
        else
                put(key, "ok");
}

/* Open for writing and close again, never writing. */
static int open_wo(const char *path)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0)
                close(fd);
        return fd;
}

static int try_mknod_open(const char *key)
{
        const char *node = "/tmp/.ctr-probe-blk";
        unlink(node);
        /* loop0's numbers: a block device every kernel has, opened read-only if at all. */
        int m = mknod(node, S_IFBLK | 0600, makedev(7, 0));
        int me = errno;
        int fd = m == 0 ? open(node, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
        int oe = errno;
        if (fd >= 0)
                close(fd);
        unlink(node);
        const char *mn = m == 0 ? "ok" : strerrorname_np(me), *on = m < 0 ? "skipped" : fd >= 0 ? "ok" : strerrorname_np(oe);
        put(key, "mknod:%s,open:%s", mn, on);
        return 0;
}

static int try_handle(const char *key)
{
        /* The "shocker" escape: a handle for inode 2 (an ext4 root) opened through a mount fd. */
        struct {
                struct file_handle fh;
                unsigned char bytes[8];
        } h;
        memset(&h, 0, sizeof(h));
        h.fh.handle_bytes = 8;
        h.fh.handle_type = 1; /* FILEID_INO32_GEN */
        uint32_t ino = 2;
        memcpy(h.fh.f_handle, &ino, sizeof(ino));
        int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = (int)syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY | O_CLOEXEC);
        int e = errno;
        if (fd >= 0)
                close(fd);
        close(mfd);
        errno = e;
        put_try(key, fd);
        return 0;
}

static int try_mount(const char *key, const char *what)
{
        int r;
        if (!strcmp(what, "sys-rw")) {
                /* A superblock remount read-write; put back read-only if it went through. */
                r = mount(NULL, "/sys", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                int e = errno;
                if (r == 0)
                        mount(NULL, "/sys", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                errno = e;
        } else if (!strcmp(what, "proc1")) {
                /* Mounted over the container's init, and taken off again at once: a failed
                 * unmount is reported, so a test cannot miss a mount left behind. */
                r = mount("proc", "/proc/1", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                if (r == 0) {
                        if (umount2("/proc/1", MNT_DETACH) < 0) {
                                put(key, "ok,umount:%s", strerrorname_np(errno));
                                return 0;
                        }
                        errno = 0;
                }
        } else {
                /* newproc-sys: a fresh procfs, whose /proc/sys would be writable: the core_pattern
                 * escape. Opened for writing, never written. */
                const char *dir = "/tmp/.ctr-probe-proc";
                mkdir(dir, 0700);
                r = mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                int e = errno;
                if (r == 0) {
                        r = open_wo("/tmp/.ctr-probe-proc/sys/kernel/core_pattern");
                        e = errno;
                        umount2(dir, MNT_DETACH);
                }
                rmdir(dir);
                errno = e;
        }
        put_try(key, r);
        return 0;
}

static int try_escape(const char *key, const char *what)
{
        long r;
        if (!strcmp(what, "module"))
                r = syscall(SYS_init_module, NULL, 0, "");
        else if (!strcmp(what, "kexec"))
                r = syscall(SYS_kexec_load, 0, 0, NULL, 0); /* no segments: loads nothing */
        else if (!strcmp(what, "handle"))
                return try_handle(key);
        else if (!strcmp(what, "mknod"))
                return try_mknod_open(key);
        else if (!strcmp(what, "sysrq"))
                r = open_wo("/proc/sysrq-trigger");
        else if (!strcmp(what, "sys-write")) {
                const char *cands[] = {"/sys/kernel/mm/ksm/run", "/sys/kernel/uevent_helper", "/sys/power/state"};
                r = -1, errno = ENOENT;
                for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && r < 0 && errno == ENOENT; i++)
                        r = open_wo(cands[i]);
        } else if (!strcmp(what, "sys-rw") || !strcmp(what, "proc1") || !strcmp(what, "newproc-sys"))
                return try_mount(key, what);
        else if (!strcmp(what, "reboot"))
                r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL);
        else if (!strncmp(what, "ptrace=", 7)) {
                pid_t pid = (pid_t)atoi(what + 7);
                r = syscall(SYS_ptrace, PTRACE_ATTACH, pid, NULL, NULL);
                if (r == 0)
                        syscall(SYS_ptrace, PTRACE_DETACH, pid, NULL, NULL);
        } else if (!strcmp(what, "devmem"))
                r = open("/dev/mem", O_RDONLY | O_CLOEXEC), r >= 0 ? close((int)r) : 0;
        else if (!strcmp(what, "kcore")) {
                char b;
                int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? -1 : read(fd, &b, 1);
                if (r == 0) /* masked: an empty file */
                        r = -1, errno = ENODATA;
                if (fd >= 0) {
                        int e = errno;
                        close(fd);
                        errno = e;
                }
        } else if (!strcmp(what, "bpf"))
                r = syscall(SYS_bpf, 9999, NULL, 0);
        else if (!strcmp(what, "keyctl"))
                r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0, 0, 0);
        else if (!strcmp(what, "perf"))
                r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
        else
                return -1;
        put_try(key, (int)r);
        return 0;
}

static int probe(const char *fact)
{
        static const char *const ns[] = {"pidns", "mntns", "netns", "utsns", "ipcns", "cgroupns", "userns"};
        char buf[PATH_MAX];
        const char *arg = strchr(fact, ':');
        arg = arg ? arg + 1 : NULL;

        if (!strcmp(fact, "pid"))
                put(fact, "%d", (int)getpid());
        else if (!strcmp(fact, "ppid"))
                put(fact, "%d", (int)getppid());
        else if (!strcmp(fact, "uid"))
                put(fact, "%u", (unsigned)getuid());
        else if (!strcmp(fact, "gid"))
                put(fact, "%u", (unsigned)getgid());
        else if (!strcmp(fact, "hostname")) {
                if (gethostname(buf, sizeof(buf)) < 0)
                        put_err(fact, errno);
                else
                        put(fact, "%s", buf);
        } else if (!strcmp(fact, "cwd")) {
                if (!getcwd(buf, sizeof(buf)))
                        put_err(fact, errno);
                else
                        put(fact, "%s", buf);
        } else if (!strcmp(fact, "cgroup")) {
                FILE *f = fopen("/proc/self/cgroup", "re");
                const char *v = "none";
                if (!f) {
                        put_err(fact, errno);
                        return 0;
                }
                while (fgets(buf, sizeof(buf), f))
                        if (!strncmp(buf, "0::", 3)) {
                                buf[strcspn(buf, "\n")] = 0;
                                v = buf + 3;
                                break;
                        }
                fclose(f);
                put(fact, "%s", v);
        } else if (!strcmp(fact, "mounts"))
                mountinfo(fact, 0);
        else if (!strcmp(fact, "mountpoints"))
                mountinfo(fact, 1);
        else if (!strcmp(fact, "root-mount"))
                mountinfo(fact, 2);
        else if (!strcmp(fact, "nproc"))
                procs(fact, false);
        else if (!strcmp(fact, "procs"))
                procs(fact, true);
        else if (!strcmp(fact, "netdevs"))
                netdevs(fact);
        else if (!strcmp(fact, "capeff"))
                status_field(fact, "CapEff");
        else if (!strcmp(fact, "nonewprivs"))
                status_field(fact, "NoNewPrivs");
        else if (!strcmp(fact, "seccomp"))
                status_field(fact, "Seccomp");
        else if (!strcmp(fact, "settime")) {
                /* Harmless escape probe: set the clock to what it already says. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                if (clock_settime(CLOCK_REALTIME, &ts) < 0)
                        put_err(fact, errno);
                else
                        put(fact, "ok");
        }
        else if (!strcmp(fact, "uidmap") || !strcmp(fact, "gidmap")) {
                /* The first line of the map, fields joined by single spaces: "0 1000000 65536". */
                FILE *f = fopen(fact[0] == 'u' ? "/proc/self/uid_map" : "/proc/self/gid_map", "re");
                unsigned long a, b, c;
                if (!f)
                        put_err(fact, errno);
                else if (fscanf(f, "%lu %lu %lu", &a, &b, &c) != 3)
                        put(fact, "unreadable");
                else
                        put(fact, "%lu %lu %lu", a, b, c);
                if (f)
                        fclose(f);
        } else if (!strncmp(fact, "owner:", 6) && *arg) {
                struct stat st;
                if (lstat(arg, &st) < 0)
                        put_err(fact, errno);
                else
                        put(fact, "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
        } else if (!strncmp(fact, "append:", 7) && *arg) {
                /* Try to write to an existing file: 1, or the errno of the open or write. */
                int fd = open(arg, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 || write(fd, "x", 1) != 1)
                        put_err(fact, errno);
                else
                        put(fact, "1");
                if (fd >= 0)
                        close(fd);
        } else if (!strcmp(fact, "console"))
                console(fact);
        else if (!strcmp(fact, "dev")) {
                struct list l = {0};
                int e = dir_names("/dev", &l, NULL);
                if (e)
                        put_err(fact, e);
                else
                        list_put(fact, &l, cmp_str);
        } else if (!strcmp(fact, "tty")) {
                const char *t = ttyname(STDIN_FILENO);
                put(fact, "%s", t ? t : "none");
        } else if (!strcmp(fact, "fds"))
                fds(fact);
        else if (!strncmp(fact, "env:", 4) && *arg) {
                const char *v = getenv(arg);
                put(fact, "%s", v ? v : "unset");
        } else if (!strncmp(fact, "readable:", 9) && *arg) {
                int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                put(fact, "%d", fd >= 0);
                if (fd >= 0)
                        close(fd);
        } else if (!strncmp(fact, "writable:", 9) && *arg) {
                /* Opened, never written to: O_APPEND and no O_TRUNC/O_CREAT keep the file as it is. */
                int fd = open(arg, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                put(fact, "%d", fd >= 0);
                if (fd >= 0)
                        close(fd);
        } else if (!strncmp(fact, "masked:", 7) && *arg)
                put(fact, "%d", is_masked(arg));
        else if (!strncmp(fact, "sleep:", 6) && *arg)
                return do_sleep(fact, arg);
        else if (!strncmp(fact, "alloc:", 6) && *arg)
                return do_alloc(fact, arg);
        else if (!strncmp(fact, "escape:", 7) && *arg && try_escape(fact, arg) == 0)
                return 0;
        else {
                for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
                        if (!strcmp(fact, ns[i])) {
                                char path[64];
                                snprintf(path, sizeof(path), "/proc/self/ns/%.*s", (int)(strlen(fact) - 2), fact);
                                ssize_t n = readlink(path, buf, sizeof(buf) - 1);
                                if (n < 0)
                                        put_err(fact, errno);
                                else
                                        put(fact, "%.*s", (int)n, buf);
                                return 0;
                        }
                fprintf(stderr, "ctr-probe: unknown fact '%s'\n", fact);
                return 2;
        }
        return 0;
}

int main(int argc, char **argv)
{
        int rc = 0;
        if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
                fputs(usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        for (int i = 1; i < argc; i++)
                if (probe(argv[i]))
                        rc = 2;
        return fflush(stdout) == 0 ? rc : 1;
}
