/* Unit tests for runtime/util.c: sizes, signals, names, file helpers (atomic write, rm -rf that
 * never follows symlinks out of the tree) and process identity by start time. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../base/util.h"

/* Each test in the files suite gets a fresh directory, removed afterwards even when it fails. */
static char tmpdir[64];

static void tmp_setup(void)
{
        unit_tmpdir_make(tmpdir, sizeof(tmpdir), "util");
}

static void tmp_teardown(void)
{
        unit_tmpdir_remove(tmpdir);
}

TestSuite(files, .init = tmp_setup, .fini = tmp_teardown);

/* Paths for the test at hand: a ring of static buffers (64 live at once), so nothing leaks under LSan. */
static const char *tp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *tp(const char *fmt, ...)
{
        static char ring[64][4096];
        static unsigned next;
        char *b = ring[next++ % 64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b, sizeof(ring[0]), fmt, ap);
        va_end(ap);
        return b;
}

static void put_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
        cr_assert_geq(fputs(text, f), 0);
        cr_assert_eq(fclose(f), 0);
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* --- sizes ---------------------------------------------------------------------------------- */

Test(size, parse_good)
{
        static const struct {
                const char *s;
                uint64_t v;
        } cases[] = {
                {"0", 0},
                {"1024", 1024},
                {"512M", 512ULL << 20},
                {"512m", 512ULL << 20},
                {"1G", 1ULL << 30},
                {"2K", 2048},
                {"2KiB", 2048},
                {"2kib", 2048},
                {"3MB", 3ULL << 20},
                {"4GiB", 4ULL << 30},
                {"5T", 5ULL << 40},
                {"100B", 100},
                {"16777215T", 16777215ULL << 40},
                {"18446744073709551615", UINT64_MAX},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint64_t v = 12345;
                cr_assert_eq(ctr_parse_size(cases[i].s, &v), 0, "'%s' refused", cases[i].s);
                cr_assert_eq(v, cases[i].v, "'%s' -> %llu, want %llu", cases[i].s, (unsigned long long)v,
                             (unsigned long long)cases[i].v);
        }
}

Test(size, parse_bad)
{
        static const char *const bad[] = {"1.5G", "",    "M",   "10X",   "-1",  "+1M", " 1M",  "1 M",
                                          "1M ",  "1MM", "1iB", "1KiBB", "1Mx", "G1",  "0x10", "1BB"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                uint64_t v = 777;
                cr_assert_eq(ctr_parse_size(bad[i], &v), -EINVAL, "'%s' accepted", bad[i]);
                cr_assert_eq(v, 777, "'%s': output written on failure", bad[i]);
        }
        uint64_t v = 0;
        cr_assert_eq(ctr_parse_size(NULL, &v), -EINVAL);
}

Test(size, parse_overflow)
{
        static const char *const big[] = {"18446744073709551616", "99999999999999999999999", "17179869184G",
                                          "16777216T", "18014398509481984K"};
        for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
                uint64_t v = 777;
                cr_assert_eq(ctr_parse_size(big[i], &v), -ERANGE, "'%s' not refused as out of range", big[i]);
                cr_assert_eq(v, 777);
        }
}

Test(size, format)
{
        static const struct {
                uint64_t v;
                const char *s;
        } cases[] = {
                {0, "0"},
                {1, "1"},
                {1000, "1000"},
                {1024, "1K"},
                {1536, "1536"},
                {512ULL << 20, "512M"},
                {1ULL << 30, "1G"},
                {3ULL << 40, "3T"},
                {1ULL << 50, "1024T"},
                {(1ULL << 30) + 1024, "1048577K"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char buf[32];
                ctr_format_size(cases[i].v, buf, sizeof(buf));
                cr_assert_str_eq(buf, cases[i].s);
        }
}

Test(size, format_parse_round_trip)
{
        static const uint64_t vals[] = {
                0,          1,          4095,       4096,       1ULL << 20,       (1ULL << 20) + 1,
                3ULL << 29, 7ULL << 40, 1ULL << 62, UINT64_MAX, UINT64_MAX - 1023};
        for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
                char buf[32];
                uint64_t back = 0;
                ctr_format_size(vals[i], buf, sizeof(buf));
                cr_assert_eq(ctr_parse_size(buf, &back), 0, "'%s' does not parse", buf);
                cr_assert_eq(back, vals[i], "%llu -> '%s' -> %llu", (unsigned long long)vals[i], buf,
                             (unsigned long long)back);
        }
}

/* --- names ---------------------------------------------------------------------------------- */

Test(name, valid_and_invalid)
{
        char n64[65], n65[66];
        memset(n64, 'a', 64);
        n64[64] = 0;
        memset(n65, 'b', 65);
        n65[65] = 0;

        cr_assert(ctr_name_valid("a"));
        cr_assert(ctr_name_valid("web-1.prod_2"));
        cr_assert(ctr_name_valid("0day"));
        cr_assert(ctr_name_valid("A.B"));
        cr_assert(ctr_name_valid(n64), "64 characters refused");

        cr_assert_not(ctr_name_valid(NULL));
        cr_assert_not(ctr_name_valid(""));
        cr_assert_not(ctr_name_valid(n65), "65 characters accepted");
        cr_assert_not(ctr_name_valid("../x"));
        cr_assert_not(ctr_name_valid(".."));
        cr_assert_not(ctr_name_valid("."));
        cr_assert_not(ctr_name_valid("a/b"));
        cr_assert_not(ctr_name_valid("a b"));
        cr_assert_not(ctr_name_valid(".hidden"));
        cr_assert_not(ctr_name_valid("-x"));
        cr_assert_not(ctr_name_valid("_x"));
        cr_assert_not(ctr_name_valid("a:b"));
        cr_assert_not(ctr_name_valid("a\nb"));
        cr_assert_not(ctr_name_valid("caf\xc3\xa9"));
}

/* --- signals -------------------------------------------------------------------------------- */

Test(signal, from_name)
{
        cr_assert_eq(ctr_signal_from_name("SIGTERM"), SIGTERM);
        cr_assert_eq(ctr_signal_from_name("TERM"), SIGTERM);
        cr_assert_eq(ctr_signal_from_name("term"), SIGTERM);
        cr_assert_eq(ctr_signal_from_name("sigterm"), SIGTERM);
        cr_assert_eq(ctr_signal_from_name("15"), 15);
        cr_assert_eq(ctr_signal_from_name("9"), SIGKILL);
        cr_assert_eq(ctr_signal_from_name("SIGKILL"), SIGKILL);
        cr_assert_eq(ctr_signal_from_name("PWR"), SIGPWR);
        cr_assert_eq(ctr_signal_from_name("SIGUSR2"), SIGUSR2);
        cr_assert_eq(ctr_signal_from_name("WINCH"), SIGWINCH);
        cr_assert_eq(ctr_signal_from_name("SIGRTMIN+3"), SIGRTMIN + 3);
        cr_assert_eq(ctr_signal_from_name("RTMIN+3"), SIGRTMIN + 3);
        cr_assert_eq(ctr_signal_from_name("sigrtmin+3"), SIGRTMIN + 3);
        cr_assert_eq(ctr_signal_from_name("RTMIN"), SIGRTMIN);
        cr_assert_eq(ctr_signal_from_name("SIGRTMIN+0"), SIGRTMIN);
        char top[32];
        snprintf(top, sizeof(top), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
        cr_assert_eq(ctr_signal_from_name(top), SIGRTMAX);
        snprintf(top, sizeof(top), "%d", SIGRTMAX);
        cr_assert_eq(ctr_signal_from_name(top), SIGRTMAX);
}

Test(signal, from_name_refuses)
{
        char past[32], pastnum[32];
        snprintf(past, sizeof(past), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
        snprintf(pastnum, sizeof(pastnum), "%d", SIGRTMAX + 1);
        const char *const bad[] = {
                "bogus",     "SIGBOGUS", "0",      "-1",       "",   "SIG",   "15x",      "1.5",
                "SIGRTMIN+", "RTMIN+x",  "RTMIN3", "RTMIN+3x", past, pastnum, "SIGTERM ", "99999999999999999999"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                cr_assert_eq(ctr_signal_from_name(bad[i]), -1, "'%s' accepted", bad[i]);
        cr_assert_eq(ctr_signal_from_name(NULL), -1);
}

/* An offset must not reach below SIGRTMIN: the signals just under it are the C library's own. */
Test(signal, rtmin_negative_offset_refused)
{
        cr_assert_eq(ctr_signal_from_name("SIGRTMIN+-1"), -1, "SIGRTMIN+-1 -> %d", ctr_signal_from_name("SIGRTMIN+-1"));
        cr_assert_eq(ctr_signal_from_name("RTMIN+-2"), -1);
}

Test(signal, name)
{
        char buf[32];
        ctr_signal_name(SIGTERM, buf, sizeof(buf));
        cr_assert_str_eq(buf, "SIGTERM");
        ctr_signal_name(SIGKILL, buf, sizeof(buf));
        cr_assert_str_eq(buf, "SIGKILL");
        ctr_signal_name(SIGPWR, buf, sizeof(buf));
        cr_assert_str_eq(buf, "SIGPWR");
        ctr_signal_name(SIGRTMIN, buf, sizeof(buf));
        cr_assert_str_eq(buf, "SIGRTMIN");
        ctr_signal_name(SIGRTMIN + 3, buf, sizeof(buf));
        cr_assert_str_eq(buf, "SIGRTMIN+3");
        ctr_signal_name(0, buf, sizeof(buf));
        cr_assert_str_eq(buf, "0");
}

Test(signal, name_round_trip)
{
        for (int sig = 1; sig <= SIGRTMAX; sig++) {
                char buf[32];
                ctr_signal_name(sig, buf, sizeof(buf));
                cr_assert_eq(ctr_signal_from_name(buf), sig, "%d -> '%s' -> %d", sig, buf, ctr_signal_from_name(buf));
        }
}

/* --- files ---------------------------------------------------------------------------------- */

Test(files, write_atomic)
{
        const char *dir = tmpdir;
        const char *path = tp("%s/f", dir);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st;

        cr_assert_eq(ctr_write_atomic(path, "first", 5, 0600), 0);
        cr_assert_eq(ctr_read_file(path, 1024, &buf, &len), 0);
        cr_assert_eq(len, 5);
        cr_assert_str_eq(buf, "first");
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600);
        free(TAKE_PTR(buf));

        /* Replaced whole, shorter, with embedded NUL bytes kept. */
        cr_assert_eq(ctr_write_atomic(path, "a\0b", 3, 0644), 0);
        cr_assert_eq(ctr_read_file(path, 1024, &buf, &len), 0);
        cr_assert_eq(len, 3);
        cr_assert_eq(memcmp(buf, "a\0b", 3), 0);
        cr_assert_eq(count_entries(dir), 1, "temp file left behind");

        cr_assert_eq(ctr_write_atomic(path, "", 0, 0644), 0);
        free(TAKE_PTR(buf));
        cr_assert_eq(ctr_read_file(path, 1024, &buf, &len), 0);
        cr_assert_eq(len, 0);
        cr_assert_eq(count_entries(dir), 1);
}

Test(files, write_atomic_errors)
{
        const char *dir = tmpdir;
        const char *missing = tp("%s/no/such/f", dir);
        cr_assert_eq(ctr_write_atomic(missing, "x", 1, 0644), -ENOENT);
        /* Renaming over a directory fails, and the temp file is removed. */
        const char *sub = tp("%s/sub", dir);
        cr_assert_eq(mkdir(sub, 0755), 0);
        cr_assert_eq(mkdir(tp("%s/sub/keep", dir), 0755), 0);
        cr_assert_lt(ctr_write_atomic(sub, "x", 1, 0644), 0);
        cr_assert_eq(count_entries(dir), 1, "temp file left behind after a failed rename");
}

Test(files, read_file_limits)
{
        const char *dir = tmpdir;
        const char *path = tp("%s/f", dir);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        char big[10000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        put_file(path, big);
        cr_assert_eq(ctr_read_file(path, sizeof(big), &buf, &len), 0);
        cr_assert_eq(len, sizeof(big) - 1);
        cr_assert_eq(strlen(buf), sizeof(big) - 1);
        cr_assert_eq(ctr_read_file(path, 100, &buf, &len), -EFBIG);
        const char *missing = tp("%s/none", dir);
        char *untouched = NULL;
        cr_assert_eq(ctr_read_file(missing, 100, &untouched, NULL), -ENOENT);
        cr_assert_null(untouched);
}

/* Files ctr reads back are outside input: a FIFO must not hang the reader, a symlink must not
 * lead it elsewhere, and each refusal is one line naming the file. */
Test(files, read_record_refuses_what_is_not_a_regular_file)
{
        const char *dir = tmpdir;
        const char *file = tp("%s/config.json", dir), *fifo = tp("%s/fifo", dir), *link = tp("%s/link", dir);
        char *buf = NULL;
        size_t len = 0;
        struct ctr_error err = {0};
        put_file(file, "{}");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(symlink(file, link), 0);

        cr_assert_eq(ctr_read_record(file, 100, "config", &buf, &len, &err), 0, "%s", err.msg);
        cr_assert_str_eq(buf, "{}");
        cr_assert_eq(len, 2);
        free(TAKE_PTR(buf));

        uint64_t t0 = ctr_now_ms();
        cr_assert_eq(ctr_read_file(fifo, 100, &buf, NULL), -EINVAL, "a FIFO read as a file");
        cr_assert_eq(ctr_read_record(fifo, 100, "config", &buf, NULL, &err), -EINVAL);
        cr_assert_lt(ctr_now_ms() - t0, 1000, "the FIFO blocked the reader");
        cr_assert_str_eq(err.op, "config");
        cr_assert_eq(strcmp(err.msg, tp("read %s: a FIFO, refused (it must be a regular file)", fifo)), 0, "%s", err.msg);

        cr_assert_eq(ctr_read_record(link, 100, "state", &buf, NULL, &err), -EINVAL);
        cr_assert_eq(strcmp(err.msg, tp("read %s: a symlink, refused (it must be a regular file)", link)), 0, "%s", err.msg);
        /* The plain reader still follows symlinks (kernel images, /etc files). */
        cr_assert_eq(ctr_read_file(link, 100, &buf, NULL), 0);
        free(TAKE_PTR(buf));

        cr_assert_eq(ctr_read_record(dir, 100, "config", &buf, NULL, &err), -EINVAL);
        cr_assert_not_null(strstr(err.msg, "a directory, refused"), "%s", err.msg);
        cr_assert_eq(ctr_read_record("/dev/null", 100, "config", &buf, NULL, &err), -EINVAL);
        cr_assert_not_null(strstr(err.msg, "a character device, refused"), "%s", err.msg);

        cr_assert_eq(ctr_read_record(file, 1, "config", &buf, NULL, &err), -EINVAL);
        cr_assert_eq(strcmp(err.msg, tp("read %s: larger than 1 bytes, refused", file)), 0, "%s", err.msg);
        const char *missing = tp("%s/none", dir);
        cr_assert_eq(ctr_read_record(missing, 100, "config", &buf, NULL, &err), -ENOENT);
        cr_assert_eq(strcmp(err.msg, tp("read %s: No such file or directory", missing)), 0, "%s", err.msg);
        cr_assert_null(buf);
}

Test(files, write_file_needs_existing)
{
        const char *dir = tmpdir;
        const char *path = tp("%s/f", dir);
        _cleanup_free_ char *buf = NULL;
        cr_assert_eq(ctr_write_file(path, "x"), -ENOENT);
        put_file(path, "old content");
        cr_assert_eq(ctr_write_file(path, "new"), 0);
        cr_assert_eq(ctr_read_file(path, 100, &buf, NULL), 0);
        /* No O_TRUNC: sysfs-style writes overwrite in place. */
        cr_assert_eq(strncmp(buf, "new", 3), 0);
}

Test(files, mkdir_p)
{
        const char *dir = tmpdir;
        const char *deep = tp("%s/a/b/c", dir);
        struct stat st;
        cr_assert_eq(ctr_mkdir_p(deep, 0755), 0);
        cr_assert_eq(stat(deep, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(ctr_mkdir_p(deep, 0755), 0, "existing path refused");
        const char *file = tp("%s/a/file", dir);
        put_file(file, "x");
        const char *under_file = tp("%s/a/file/sub", dir);
        cr_assert_eq(ctr_mkdir_p(under_file, 0755), -ENOTDIR);
}

Test(files, rm_rf_does_not_follow_symlinks)
{
        const char *dir = tmpdir;
        const char *outside = tp("%s/outside", dir);
        const char *outside_file = tp("%s/outside/precious", dir);
        const char *tree = tp("%s/tree", dir);
        struct stat st;

        cr_assert_eq(mkdir(outside, 0755), 0);
        put_file(outside_file, "keep me");
        cr_assert_eq(ctr_mkdir_p(tp("%s/tree/a/b/c", dir), 0755), 0);
        put_file(tp("%s/tree/a/file", dir), "x");
        put_file(tp("%s/tree/a/b/c/deep", dir), "y");
        cr_assert_eq(symlink(outside, tp("%s/tree/a/link-to-dir", dir)), 0);
        cr_assert_eq(symlink(outside_file, tp("%s/tree/a/b/link-to-file", dir)), 0);
        cr_assert_eq(symlink("../../../outside", tp("%s/tree/a/b/rel-link", dir)), 0);
        cr_assert_eq(symlink("/nonexistent/dangling", tp("%s/tree/dangling", dir)), 0);
        cr_assert_eq(mkfifo(tp("%s/tree/fifo", dir), 0600), 0);

        int r = ctr_rm_rf(tree);
        cr_assert_eq(r, 0, "rm_rf: %s", strerror(-r));
        cr_assert_eq(lstat(tree, &st), -1);
        cr_assert_eq(errno, ENOENT);
        cr_assert_eq(stat(outside, &st), 0, "the directory a symlink pointed to was removed");
        _cleanup_free_ char *buf = NULL;
        cr_assert_eq(ctr_read_file(outside_file, 100, &buf, NULL), 0, "a file behind a symlink was removed");
        cr_assert_str_eq(buf, "keep me");
}

Test(files, rm_rf_edge_cases)
{
        const char *dir = tmpdir;
        const char *target = tp("%s/target", dir);
        const char *link = tp("%s/link", dir);
        struct stat st;
        cr_assert_eq(ctr_rm_rf(tp("%s/missing", dir)), 0, "a missing path is already removed");
        cr_assert_eq(mkdir(target, 0755), 0);
        put_file(tp("%s/target/f", dir), "x");
        cr_assert_eq(symlink(target, link), 0);
        /* Removing the link itself leaves what it points to. */
        cr_assert_eq(ctr_rm_rf(link), 0);
        cr_assert_eq(lstat(link, &st), -1);
        cr_assert_eq(stat(tp("%s/target/f", dir), &st), 0);
        /* A plain file is removed too. */
        cr_assert_eq(ctr_rm_rf(tp("%s/target/f", dir)), 0);
        cr_assert_eq(count_entries(target), 0);
        cr_assert_eq(ctr_rm_rf(dir), 0);
        cr_assert_eq(lstat(dir, &st), -1);
}

/* --- strings --------------------------------------------------------------------------------- */

Test(strings, strv_helpers)
{
        char *src[] = {"a", "bb", "", NULL};
        _cleanup_strv_ char **copy = strv_copy(src);
        cr_assert_eq(strv_len(NULL), 0);
        cr_assert_eq(strv_len(src), 3);
        cr_assert_eq(strv_len(copy), 3);
        cr_assert_neq(copy[0], src[0]);
        cr_assert_str_eq(copy[1], "bb");
        cr_assert_str_eq(copy[2], "");
        cr_assert_null(copy[3]);
        _cleanup_strv_ char **empty = strv_copy(NULL);
        cr_assert_not_null(empty);
        cr_assert_null(empty[0]);
        strv_free(NULL);
        cr_assert_null(xstrdup(NULL));
        _cleanup_free_ char *s = xasprintf("%s-%d", "x", 42);
        cr_assert_str_eq(s, "x-42");
}

Test(strings, take_macros)
{
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        _cleanup_close_ int owned = fd;
        int taken = TAKE_FD(owned);
        cr_assert_eq(taken, fd);
        cr_assert_eq(owned, -EBADF);
        cr_assert_eq(close(taken), 0);
        _cleanup_free_ char *p = xstrdup("x");
        char *q = TAKE_PTR(p);
        cr_assert_null(p);
        free(q);
}

/* --- fds ------------------------------------------------------------------------------------ */

Test(fds, flags)
{
        int p[2];
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(fcntl(p[0], F_GETFD) & FD_CLOEXEC, 0);
        cr_assert_eq(ctr_fd_set_cloexec(p[0]), 0);
        cr_assert_neq(fcntl(p[0], F_GETFD) & FD_CLOEXEC, 0);
        cr_assert_eq(ctr_fd_set_nonblock(p[0], true), 0);
        cr_assert_neq(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
        char c;
        cr_assert_eq(read(p[0], &c, 1), -1);
        cr_assert_eq(errno, EAGAIN);
        cr_assert_eq(ctr_fd_set_nonblock(p[0], false), 0);
        cr_assert_eq(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
        cr_assert_eq(ctr_write_all(p[1], "hello", 5), 5);
        char buf[8] = {0};
        cr_assert_eq(read(p[0], buf, sizeof(buf)), 5);
        cr_assert_str_eq(buf, "hello");
        close(p[0]);
        close(p[1]);
        cr_assert_eq(ctr_fd_set_cloexec(p[0]), -EBADF);
        cr_assert_lt(ctr_write_all(p[1], "x", 1), 0);
}

/* --- processes ------------------------------------------------------------------------------ */

Test(proc, starttime_of_self)
{
        uint64_t a = ctr_proc_starttime(getpid());
        cr_assert_neq(a, 0);
        cr_assert_eq(ctr_proc_starttime(getpid()), a, "start time changed between calls");
        cr_assert(ctr_proc_alive(getpid(), a));
        cr_assert_not(ctr_proc_alive(getpid(), a + 1), "wrong start time taken as alive");
        cr_assert_not(ctr_proc_alive(getpid(), 0));
        cr_assert_eq(ctr_proc_starttime(0), 0);
        cr_assert_eq(ctr_proc_starttime(-1), 0);
        cr_assert_not(ctr_proc_alive(0, 0));
        /* Our parent started no later than we did. */
        uint64_t parent = ctr_proc_starttime(getppid());
        cr_assert_neq(parent, 0);
        cr_assert_leq(parent, a);
}

Test(proc, starttime_of_child)
{
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char c;
                close(p[1]);
                /* Wait until the parent closes its end, then exit. */
                while (read(p[0], &c, 1) > 0)
                        ;
                _exit(0);
        }
        close(p[0]);
        uint64_t st = ctr_proc_starttime(pid);
        cr_assert_neq(st, 0);
        cr_assert_geq(st, ctr_proc_starttime(getpid()));
        cr_assert(ctr_proc_alive(pid, st));

        close(p[1]);
        /* A zombie is not alive: wait for the exit without reaping. */
        siginfo_t si;
        cr_assert_eq(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
        cr_assert_eq(ctr_proc_starttime(pid), 0, "zombie has a start time");
        cr_assert_not(ctr_proc_alive(pid, st));

        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert_eq(ctr_proc_starttime(pid), 0, "reaped child has a start time");
        cr_assert_not(ctr_proc_alive(pid, st));
}

Test(proc, pidfd_open)
{
        int fd = ctr_pidfd_open(getpid(), 0);
        if (fd == -ENOSYS)
                cr_skip_test("skipped: pidfd_open not supported by this kernel");
        cr_assert_geq(fd, 0, "pidfd_open: %s", strerror(-fd));
        close(fd);
        cr_assert_lt(ctr_pidfd_open(-5, 0), 0);
}

Test(time, now_ms_monotonic)
{
        uint64_t a = ctr_now_ms();
        usleep(20000);
        uint64_t b = ctr_now_ms();
        cr_assert_geq(b, a + 15);
        cr_assert_lt(b, a + 5000);
}
