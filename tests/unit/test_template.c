/* Unit tests for rootfs/ template support: the progress line protocol, template metadata, the
 * host apt sources as mirror (one-line and deb822), cache keys, and post-create configuration. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../rootfs/rootfs.h"
#include "../../base/util.h"

static char tmpdir[64];

static void tmp_setup(void)
{
        unit_tmpdir_make(tmpdir, sizeof(tmpdir), "tpl");
}

static void tmp_teardown(void)
{
        unit_tmpdir_remove(tmpdir);
}

static void put(const char *rel, const char *text)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
        char *slash = strrchr(path, '/');
        *slash = 0;
        cr_assert_eq(ctr_mkdir_p(path, 0755), 0);
        *slash = '/';
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
}

static const char *tp_dir(const char *rel)
{
        static char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
        return path;
}

static char *get(const char *rel)
{
        char path[512];
        char *text = NULL;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
        if (ctr_read_file(path, 1 << 20, &text, NULL) < 0)
                return NULL;
        return text;
}

Test(progress, step_lines)
{
        struct ctr_template_event ev;
        ctr_template_parse_line("step 2/6: resolving packages", &ev);
        cr_assert_eq(ev.kind, CTR_TPL_STEP);
        cr_assert_eq(ev.step, 2);
        cr_assert_eq(ev.total, 6);
        cr_assert_str_eq(ev.text, "resolving packages");
}

Test(progress, other_lines_are_log)
{
        const char *lines[] = {"step 7/6: past the end", "step x/2: no number", "stepping 1/2: no", "done", "step 1/0: zero"};
        for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
                struct ctr_template_event ev;
                ctr_template_parse_line(lines[i], &ev);
                cr_assert_eq(ev.kind, CTR_TPL_LOG, "%s", lines[i]);
                cr_assert_str_eq(ev.text, lines[i]);
        }
}

Test(meta, header_lines, .init = tmp_setup, .fini = tmp_teardown)
{
        put("t", "#!/bin/sh\n# description: a test\n# distribution: debian\n# default-release: bookworm\n# cache: yes\n"
                 "echo hi\n# cache: no\n");
        char p[128];
        snprintf(p, sizeof(p), "%s/t", tmpdir);
        struct ctr_template_meta m;
        cr_assert_eq(ctr_template_meta(p, &m), 0);
        cr_assert_str_eq(m.description, "a test");
        cr_assert_str_eq(m.distribution, "debian");
        cr_assert_str_eq(m.default_release, "bookworm");
        /* Only the header counts... but the whole first 15 lines are the header: the later line wins. */
        cr_assert_not(m.cache);
        put("u", "#!/bin/sh\n# cache: yes\n");
        snprintf(p, sizeof(p), "%s/u", tmpdir);
        cr_assert_eq(ctr_template_meta(p, &m), 0);
        cr_assert(m.cache);
        cr_assert_str_eq(m.default_release, "");
}

Test(mirror, one_line_format, .init = tmp_setup, .fini = tmp_teardown)
{
        char *m = NULL;
        put("etc/apt/sources.list", "# comment\ndeb-src http://a.example/debian bookworm main\n"
                                    "deb http://sec.example/debian-security bookworm-security main\n"
                                    "deb [signed-by=/k.gpg arch=amd64] http://mirror.example/debian/ bookworm main\n");
        char etc[128];
        snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
        cr_assert_eq(ctr_template_apt_mirror(etc, "debian", &m), 0);
        cr_assert_str_eq(m, "http://mirror.example/debian");
        free(m);
        cr_assert_eq(ctr_template_apt_mirror(etc, "ubuntu", &m), -ENOENT);
        cr_assert_null(m);
}

Test(mirror, deb822_and_order, .init = tmp_setup, .fini = tmp_teardown)
{
        char *m = NULL;
        put("etc/apt/sources.list.d/a.sources", "Types: deb-src\nURIs: http://src.example/debian\nSuites: x\n\n"
                                                "Types: deb\nURIs: http://off.example/debian\nEnabled: no\n");
        put("etc/apt/sources.list.d/b.sources", "Types: deb deb-src\nURIs: http://one.example/ubuntu "
                                                "http://two.example/debian\nSuites: bookworm\n"
                                                "Signed-By: /usr/share/keyrings/x.gpg\n");
        put("etc/apt/sources.list.d/c.list", "deb http://late.example/debian bookworm main\n");
        char etc[128];
        snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
        cr_assert_eq(ctr_template_apt_mirror(etc, "debian", &m), 0);
        cr_assert_str_eq(m, "http://two.example/debian");
        free(m);
        cr_assert_eq(ctr_template_apt_mirror(etc, "ubuntu", &m), 0);
        cr_assert_str_eq(m, "http://one.example/ubuntu");
        free(m);
        cr_assert_eq(ctr_template_apt_mirror(etc, "alpine", &m), -ENOENT);
}

Test(cache, keys)
{
        char *k = ctr_cache_key("debian", NULL, "bookworm", "amd64");
        cr_assert_str_eq(k, "debian-bookworm-amd64");
        free(k);
        k = ctr_cache_key("download", "alpine", "3.19", "arm64");
        cr_assert_str_eq(k, "download-alpine-3.19-arm64");
        free(k);
}

Test(configure, plain_tree, .init = tmp_setup, .fini = tmp_teardown)
{
        put("root/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 oldname\n10.0.0.5 db\n");
        put("root/etc/shadow", "root::19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        put("root/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        put("root/usr/lib/systemd/systemd", "");
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/root", tmpdir);
        struct ctr_error err = {0};
        struct ctr_guest_setup g = {.dir = dir, .hostname = "web"};
        cr_assert_eq(ctr_rootfs_configure(&g, &err), 0, "%s", err.msg);
        _cleanup_free_ char *hn = get("root/etc/hostname"), *hosts = get("root/etc/hosts"),
                            *shadow = get("root/etc/shadow"), *mid = get("root/etc/machine-id"),
                            *dropin = get("root/etc/systemd/system/console-getty.service.d/ctr-autologin.conf");
        cr_assert_str_eq(hn, "web\n");
        cr_assert_not_null(strstr(hosts, "127.0.1.1\tweb\n"));
        cr_assert_not_null(strstr(hosts, "10.0.0.5 db\n"));
        cr_assert_null(strstr(hosts, "oldname"));
        cr_assert_str_eq(shadow, "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        cr_assert_str_eq(mid, "");
        cr_assert_not_null(dropin);
        cr_assert_not_null(strstr(dropin, "--autologin root"));
}

Test(configure, overlay_reads_lower_writes_upper, .init = tmp_setup, .fini = tmp_teardown)
{
        put("lower/etc/shadow", "root:!:1:0:99999:7:::\n");
        put("lower/etc/hosts", "192.0.2.1 gw\n");
        cr_assert_eq(ctr_mkdir_p(tp_dir("upper"), 0755), 0);
        char lower[128], upper[128];
        snprintf(lower, sizeof(lower), "%s/lower", tmpdir);
        snprintf(upper, sizeof(upper), "%s/upper", tmpdir);
        struct ctr_error err = {0};
        struct ctr_guest_setup g = {.dir = upper, .lower = lower, .hostname = "box"};
        cr_assert_eq(ctr_rootfs_configure(&g, &err), 0, "%s", err.msg);
        _cleanup_free_ char *hosts = get("upper/etc/hosts"), *lower_hosts = get("lower/etc/hosts"),
                            *shadow = get("upper/etc/shadow"), *dropin = get("upper/etc/systemd");
        cr_assert_not_null(strstr(hosts, "192.0.2.1 gw"));
        cr_assert_str_eq(lower_hosts, "192.0.2.1 gw\n", "the lower tree is never written");
        cr_assert_null(shadow, "an already locked root needs no copy in the upper layer");
        cr_assert_null(dropin, "no systemd in the tree, no getty drop-in");
}

Test(configure, symlink_cannot_escape, .init = tmp_setup, .fini = tmp_teardown)
{
        put("outside/target", "keep\n");
        cr_assert_eq(ctr_mkdir_p(tp_dir("root/etc"), 0755), 0);
        char link[256], target[256], dir[128];
        snprintf(link, sizeof(link), "%s/root/etc/hostname", tmpdir);
        snprintf(target, sizeof(target), "%s/outside/target", tmpdir);
        cr_assert_eq(symlink(target, link), 0);
        snprintf(dir, sizeof(dir), "%s/root", tmpdir);
        struct ctr_error err = {0};
        struct ctr_guest_setup g = {.dir = dir, .hostname = "web"};
        cr_assert_eq(ctr_rootfs_configure(&g, &err), 0, "%s", err.msg);
        _cleanup_free_ char *out = get("outside/target"), *hn = get("root/etc/hostname");
        cr_assert_str_eq(out, "keep\n");
        cr_assert_str_eq(hn, "web\n");
}

Test(overlay, plan_mounts_overlay_on_rootfs)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/c/rootfs",
                                       .overlay_lower = "/cache/t/1/rootfs",
                                       .overlay_upper = "/c/upper",
                                       .overlay_work = "/c/work"};
        struct ctr_mount_plan p;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_rootfs_plan_build(&spec, &p, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.overlay, "lowerdir=/cache/t/1/rootfs,upperdir=/c/upper,workdir=/c/work");
        bool run = false, lock = false;
        for (size_t i = 0; i < p.n; i++) {
                run |= !strcmp(p.ops[i].target, "/run") && p.ops[i].kind == CTR_MNT_MOUNT;
                lock |= !strcmp(p.ops[i].target, "/run/lock") && p.ops[i].kind == CTR_MNT_MOUNT && run;
        }
        cr_assert(lock, "/run/lock is a tmpfs mounted after /run");
        ctr_rootfs_plan_free(&p);
}

Test(overlay, option_separators_refused)
{
        /* Layers stack with ':' (ctr run --from), each one absolute. */
        const char *bad[] = {"/a,upperdir=/etc", "/a:b", "/a:", "/a:/b:c", "relative", "/a\\b"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_rootfs_spec spec = {.rootfs = "/c/rootfs", .overlay_lower = bad[i],
                                               .overlay_upper = "/c/upper", .overlay_work = "/c/work"};
                struct ctr_mount_plan p;
                struct ctr_error err = {0};
                cr_assert_eq(ctr_rootfs_plan_build(&spec, &p, &err), -EINVAL, "%s", bad[i]);
        }
}
