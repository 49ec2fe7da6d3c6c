/* Unit tests for the monitor's pure helpers (runtime/monitor.c): the cgroup leaf name per state
 * root, and the stop signal chosen by following init's symlinks inside a temp rootfs. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../runtime/config.h"
#include "../../runtime/monitor.h"
#include "../../runtime/state.h"
#include "../../base/util.h"

Test(monitor, cgroup_leaf)
{
        struct ctr_paths def = {.root = "/var/lib/ctr"}, a = {.root = "/tmp/root-a"}, b = {.root = "/tmp/root-b"};
        _cleanup_free_ char *l0 = ctr_monitor_cgroup_leaf(&def, "web");
        _cleanup_free_ char *la = ctr_monitor_cgroup_leaf(&a, "web");
        _cleanup_free_ char *la2 = ctr_monitor_cgroup_leaf(&a, "web");
        _cleanup_free_ char *lb = ctr_monitor_cgroup_leaf(&b, "web");
        _cleanup_free_ char *la_db = ctr_monitor_cgroup_leaf(&a, "db");

        cr_assert_str_eq(l0, "web.scope");
        cr_assert_str_neq(la, lb, "two roots share a cgroup leaf");
        cr_assert_str_eq(la, la2, "leaf not stable");
        cr_assert_str_neq(la, la_db);
        cr_assert_eq(strncmp(la, "web-", 4), 0, "%s", la);
        cr_assert_eq(strlen(la), strlen("web-") + 8 + strlen(".scope"), "%s", la);
        cr_assert_str_eq(la + strlen(la) - 6, ".scope");
        for (const char *c = la + 4; c < la + 12; c++)
                cr_assert(strchr("0123456789abcdef", *c), "%s is not hex", la);
        cr_assert_null(strchr(la, '/'));
        cr_assert_eq(strncmp(la_db + 3, la + 4, 8), 0, "the hash depends on the root only");
}

/* --- stop signal ---------------------------------------------------------------------------- */

static char rootfs[64];

static void file_in_root(const char *rel);

static void rootfs_setup(void)
{
        unit_tmpdir_make(rootfs, sizeof(rootfs), "monitor");
        static const char *const dirs[] = {"sbin", "bin", "lib", "lib/systemd", "usr", "usr/sbin"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/%s", rootfs, dirs[i]);
                cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
        }
        /* A real rootfs holds its init's target: links resolve to an existing file. */
        file_in_root("lib/systemd/systemd");
        file_in_root("bin/busybox");
}

static void rootfs_teardown(void)
{
        unit_tmpdir_remove(rootfs);
}

TestSuite(stop_signal, .init = rootfs_setup, .fini = rootfs_teardown);

static void link_in_root(const char *target, const char *rel)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", rootfs, rel);
        cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

static void file_in_root(const char *rel)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", rootfs, rel);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f, "%s: %s", p, strerror(errno));
        cr_assert_geq(fputs("#!/bin/sh\n", f), 0);
        cr_assert_eq(fclose(f), 0);
}

static int signal_for(const char *init, const char *stop_signal)
{
        struct ctr_config c;
        ctr_config_init(&c, "t");
        free(c.init[0]);
        c.init[0] = xstrdup(init);
        c.stop_signal = stop_signal ? xstrdup(stop_signal) : NULL;
        int sig = ctr_monitor_stop_signal(&c, rootfs);
        ctr_config_free(&c);
        return sig;
}

Test(stop_signal, systemd_absolute_link)
{
        link_in_root("/lib/systemd/systemd", "sbin/init");
        cr_assert_eq(signal_for("/sbin/init", NULL), SIGRTMIN + 3);
}

Test(stop_signal, busybox_absolute_link)
{
        link_in_root("/bin/busybox", "sbin/init");
        cr_assert_eq(signal_for("/sbin/init", NULL), SIGUSR2);
}

Test(stop_signal, plain_file_gets_sigpwr)
{
        file_in_root("sbin/init");
        cr_assert_eq(signal_for("/sbin/init", NULL), SIGPWR);
}

Test(stop_signal, missing_init_gets_sigpwr)
{
        cr_assert_eq(signal_for("/sbin/init", NULL), SIGPWR);
}

Test(stop_signal, direct_paths)
{
        cr_assert_eq(signal_for("/lib/systemd/systemd", NULL), SIGRTMIN + 3);
        /* A path that does not resolve is judged by its own name. */
        cr_assert_eq(signal_for("/usr/lib/systemd/systemd", NULL), SIGRTMIN + 3);
        cr_assert_eq(signal_for("/bin/busybox", NULL), SIGUSR2);
        /* A name that merely contains the word is not it. */
        file_in_root("sbin/systemd-like");
        cr_assert_eq(signal_for("/sbin/systemd-like", NULL), SIGPWR);
}

Test(stop_signal, relative_links_and_chains)
{
        /* sbin/init -> ../lib/systemd/systemd */
        link_in_root("../lib/systemd/systemd", "sbin/init");
        cr_assert_eq(signal_for("/sbin/init", NULL), SIGRTMIN + 3);
        /* usr/sbin/init -> init2 -> /bin/busybox: two hops, the first relative in the same dir. */
        link_in_root("init2", "usr/sbin/init");
        link_in_root("/bin/busybox", "usr/sbin/init2");
        cr_assert_eq(signal_for("/usr/sbin/init", NULL), SIGUSR2);
        /* bin/sh -> dash, a plain file: not a known init. */
        file_in_root("bin/dash");
        link_in_root("dash", "bin/sh");
        cr_assert_eq(signal_for("/bin/sh", NULL), SIGPWR);
}

Test(stop_signal, link_loop_terminates)
{
        link_in_root("/sbin/b", "sbin/a");
        link_in_root("/sbin/a", "sbin/b");
        cr_assert_eq(signal_for("/sbin/a", NULL), SIGPWR);
}

Test(stop_signal, configured_signal_wins)
{
        link_in_root("/lib/systemd/systemd", "sbin/init");
        cr_assert_eq(signal_for("/sbin/init", "SIGTERM"), SIGTERM);
        cr_assert_eq(signal_for("/sbin/init", "RTMIN+4"), SIGRTMIN + 4);
        cr_assert_eq(signal_for("/sbin/init", "9"), SIGKILL);
}

/* Links are followed inside the rootfs only: an absolute directory link in the container's tree
 * (/alt -> /ctr-test-absent-dir) must resolve against the rootfs, never against the host. */
Test(stop_signal, absolute_dir_link_resolved_in_rootfs)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/ctr-test-absent-dir", rootfs);
        cr_assert_eq(mkdir(p, 0755), 0);
        struct stat st;
        cr_assert_eq(stat("/ctr-test-absent-dir", &st), -1, "the host has /ctr-test-absent-dir");
        link_in_root("/ctr-test-absent-dir", "alt");
        link_in_root("/bin/busybox", "ctr-test-absent-dir/init");
        cr_assert_eq(signal_for("/alt/init", NULL), SIGUSR2, "link resolved on the host instead of the rootfs");
}
