/* Small shared helpers: strings, files, atomic writes, process identity, sizes and signals.
 * No helper here logs; all report -errno and let the caller add context. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

char *xstrdup(const char *s)
{
        char *r = s ? strdup(s) : NULL;
        if (s && !r)
                abort();
        return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *r;
        if (vasprintf(&r, fmt, ap) < 0)
                abort();
        return r;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *r = xvasprintf(fmt, ap);
        va_end(ap);
        return r;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_copy(char *const *v)
{
        size_t n = strv_len(v);
        char **r = calloc(n + 1, sizeof(char *));
        if (!r)
                abort();
        for (size_t i = 0; i < n; i++)
                r[i] = xstrdup(v[i]);
        return r;
}

ssize_t ctr_self_exe(char *buf, size_t len)
{
        /* Under the sealed re-exec /proc/self/exe is a memfd; the original path rode along. */
        const char *e = getenv("CTR_SELF_EXE");
        if (e && *e == '/' && strlen(e) < len) {
                strcpy(buf, e);
                return (ssize_t)strlen(e);
        }
        ssize_t n = readlink("/proc/self/exe", buf, len - 1);
        if (n > 0)
                buf[n] = 0;
        return n;
}

void strv_push(char ***v, const char *s)
{
        size_t n = strv_len(*v);
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = xstrdup(s);
        (*v)[n + 1] = NULL;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, n = strv_len(v);
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + strlen(sep);
        char *r = malloc(len), *p = r;
        if (!r)
                abort();
        *p = 0;
        for (size_t i = 0; i < n; i++)
                p = stpcpy(stpcpy(p, i ? sep : ""), v[i]);
        return r;
}

void *xrealloc(void *p, size_t n)
{
        void *r = realloc(p, n);
        if (!r && n)
                abort();
        return r;
}

/* One open-and-read for every caller. O_NONBLOCK so a FIFO put where a file belongs opens at
 * once (and is refused) instead of waiting for a writer; only regular files are read, since a
 * device or FIFO has no end to read to. *ret_mode gets the file type for messages. */
static int read_file(int dirfd, const char *path, int extra, size_t max, char **ret, size_t *ret_len,
                     mode_t *ret_mode)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ret_mode)
                *ret_mode = st.st_mode;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        /* procfs and sysfs files say 0 here: the read loop bounds those. */
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        return ctr_read_fd(fd, max, ret, ret_len);
}

int ctr_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len + 1 >= cap) {
                        cap = cap ? cap * 2 : 4096;
                        char *n = realloc(buf, cap);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                ssize_t r = read(fd, buf + len, cap - len - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += r;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int ctr_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        return read_file(dirfd, path, 0, max, ret, ret_len, NULL);
}

int ctr_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        return read_file(AT_FDCWD, path, 0, max, ret, ret_len, NULL);
}

static const char *file_type_name(mode_t m)
{
        if (S_ISDIR(m))
                return "a directory";
        if (S_ISFIFO(m))
                return "a FIFO";
        if (S_ISSOCK(m))
                return "a socket";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        return "not a plain file";
}

int ctr_read_record(const char *path, size_t max, const char *op, char **ret, size_t *ret_len, struct ctr_error *err)
{
        mode_t mode = 0;
        int r = read_file(AT_FDCWD, path, O_NOFOLLOW, max, ret, ret_len, &mode);
        if (r >= 0)
                return 0;
        /* A refused file is a malformed one, as a parse error is (-EINVAL): callers that let
         * destroy --force through a bad config treat all of them alike. */
        if (r == -ELOOP)
                return ctr_err(err, EINVAL, op, "read %s: a symlink, refused (it must be a regular file)", path);
        if ((r == -EINVAL || r == -EISDIR) && mode && !S_ISREG(mode))
                return ctr_err(err, EINVAL, op, "read %s: %s, refused (it must be a regular file)", path,
                               file_type_name(mode));
        if (r == -EFBIG)
                return ctr_err(err, EINVAL, op, "read %s: larger than %zu bytes, refused", path, max);
        return ctr_err_sys(err, -r, op, "read %s", path);
}

ssize_t ctr_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        size_t done = 0;
        while (done < len) {
                ssize_t r = write(fd, p + done, len - done);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += r;
        }
        return done;
}

int ctr_write_file_at(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* cgroupfs and procfs take one write per value: a short write is an error there. */
        ssize_t r = write(fd, s, strlen(s));
        if (r < 0)
                return -errno;
        if ((size_t)r != strlen(s))
                return -EIO;
        return 0;
}

int ctr_write_file(const char *path, const char *s)
{
        return ctr_write_file_at(AT_FDCWD, path, s);
}

static int write_atomic(const char *path, const char *data, size_t len, mode_t mode, bool sync)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        ssize_t w = ctr_write_all(fd, data, len);
        if (w < 0 || (sync && fsync(fd) < 0)) {
                int e = w < 0 ? (int)-w : errno;
                close(fd);
                unlink(tmp);
                return -e;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return -e;
        }
        return 0;
}

int ctr_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
        return write_atomic(path, data, len, mode, true);
}

int ctr_write_atomic_volatile(const char *path, const char *data, size_t len, mode_t mode)
{
        return write_atomic(path, data, len, mode, false);
}

int ctr_mkdir_p(const char *path, mode_t mode)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        /* Never descend into another filesystem: a leaked mount must fail loudly, not be emptied. */
        if (st.st_dev != dev)
                return -EBUSY;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(fd, de->d_name, dev);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int ctr_rm_rf(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

uint64_t ctr_proc_starttime(pid_t pid)
{
        char path[64];
        _cleanup_free_ char *buf = NULL;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (ctr_read_file(path, 4096, &buf, NULL) < 0)
                return 0;
        /* comm may contain spaces and parens: fields start after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        p += 2;
        char state = *p;
        if (state == 'Z' || state == 'X')
                return 0;
        /* p is field 3 (state); starttime is field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return 0;
                p++;
        }
        return strtoull(p, NULL, 10);
}

bool ctr_proc_alive(pid_t pid, uint64_t starttime)
{
        uint64_t st = ctr_proc_starttime(pid);
        return st != 0 && st == starttime;
}

int ctr_pidfd_open(pid_t pid, unsigned flags)
{
        int fd = syscall(SYS_pidfd_open, pid, flags);
        return fd < 0 ? -errno : fd;
}

int ctr_parse_size(const char *s, uint64_t *ret)
{
        char *end;
        if (!s || !*s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        uint64_t mul = 1;
        switch (toupper((unsigned char)*end)) {
        case 0: break;
        case 'K': mul = 1ULL << 10; end++; break;
        case 'M': mul = 1ULL << 20; end++; break;
        case 'G': mul = 1ULL << 30; end++; break;
        case 'T': mul = 1ULL << 40; end++; break;
        case 'B': break;
        default: return -EINVAL;
        }
        if (mul > 1 && (*end == 'i' || *end == 'I'))
                end++;
        if (*end == 'B' || *end == 'b')
                end++;
        if (*end)
                return -EINVAL;
        if (v > UINT64_MAX / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

void ctr_format_size(uint64_t v, char *buf, size_t len)
{
        static const char units[] = "KMGT";
        int u = -1;
        while (v && v % 1024 == 0 && u < 3) {
                v /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, len, "%" PRIu64, v);
        else
                snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

bool ctr_name_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 64 || !isalnum((unsigned char)name[0]))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = name[i];
                if (!isalnum(c) && c != '_' && c != '.' && c != '-')
                        return false;
        }
        return true;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
        {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
        {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
        {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
        {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
        {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

int ctr_signal_from_name(const char *name)
{
        if (!name || !*name)
                return -1;
        if (isdigit((unsigned char)*name)) {
                char *end;
                long v = strtol(name, &end, 10);
                return *end || v <= 0 || v > SIGRTMAX ? -1 : (int)v;
        }
        if (!strncasecmp(name, "SIG", 3))
                name += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (!strcasecmp(name, signals[i].name))
                        return signals[i].sig;
        if (!strncasecmp(name, "RTMIN", 5)) {
                const char *p = name + 5;
                long off = 0;
                if (*p == '+') {
                        char *end;
                        if (!isdigit((unsigned char)p[1]))
                                return -1;
                        off = strtol(p + 1, &end, 10);
                        if (*end)
                                return -1;
                } else if (*p)
                        return -1;
                return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + (int)off : -1;
        }
        return -1;
}

void ctr_signal_name(int sig, char *buf, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (signals[i].sig == sig) {
                        snprintf(buf, len, "SIG%s", signals[i].name);
                        return;
                }
        if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                snprintf(buf, len, sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d", sig - SIGRTMIN);
        else
                snprintf(buf, len, "%d", sig);
}

uint64_t ctr_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t ctr_now_ms(void)
{
        return ctr_now_us() / 1000;
}

int ctr_fd_set_cloexec(int fd)
{
        int f = fcntl(fd, F_GETFD);
        if (f < 0 || fcntl(fd, F_SETFD, f | FD_CLOEXEC) < 0)
                return -errno;
        return 0;
}

int ctr_fd_set_nonblock(int fd, bool on)
{
        int f = fcntl(fd, F_GETFL);
        if (f < 0)
                return -errno;
        f = on ? f | O_NONBLOCK : f & ~O_NONBLOCK;
        return fcntl(fd, F_SETFL, f) < 0 ? -errno : 0;
}

bool ctr_uuid_valid(const char *s)
{
        for (int i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return s[36] == 0;
}

char *ctr_uuid_new(void)
{
        uint8_t b[16];
        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                abort();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int ctr_file_clone(int src, int dst)
{
        if (ioctl(dst, FICLONE, src) == 0)
                return 0;
        struct stat st;
        if (fstat(src, &st) < 0 || ftruncate(dst, st.st_size) < 0)
                return -errno;
        off_t pos = 0;
        while (pos < st.st_size) {
                off_t data = lseek(src, pos, SEEK_DATA);
                if (data < 0)
                        break; /* a hole to the end */
                off_t hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        hole = st.st_size;
                off_t in = data, out = data;
                while (in < hole) {
                        ssize_t k = copy_file_range(src, &in, dst, &out, (size_t)(hole - in), 0);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return k < 0 ? -errno : -EIO;
                }
                pos = hole;
        }
        return 0;
}

int ctr_file_clone_path(const char *src, const char *dst)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", dst, (int)getpid());
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        int r = ctr_file_clone(in, out);
        if (r == 0 && fsync(out) < 0)
                r = -errno;
        close(out);
        if (r == 0 && rename(tmp, dst) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}
