/* Unit tests for rootfs/rootfs.c's planner: the mount plan as data — order and content of the
 * operations for each spec, refusals, and the printed form. Nothing here mounts anything. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "../../rootfs/rootfs.h"
#include "../../base/util.h"

/* Index of the first op of this kind on this target, or -1. */
static ssize_t find(const struct ctr_mount_plan *p, enum ctr_mnt_kind kind, const char *target)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->ops[i].kind == kind && !strcmp(p->ops[i].target, target))
                        return (ssize_t)i;
        return -1;
}

static size_t count_target(const struct ctr_mount_plan *p, const char *target)
{
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                n += !strcmp(p->ops[i].target, target);
        return n;
}

static ssize_t must_find(const struct ctr_mount_plan *p, enum ctr_mnt_kind kind, const char *target)
{
        ssize_t i = find(p, kind, target);
        cr_assert_geq(i, 0, "no op of kind %d on %s", (int)kind, target);
        return i;
}

static void build(const struct ctr_rootfs_spec *spec, struct ctr_mount_plan *p)
{
        struct ctr_error err = {0};
        int r = ctr_rootfs_plan_build(spec, p, &err);
        cr_assert_eq(r, 0, "plan_build: %s", err.msg);
}

Test(mountplan, basic_order_and_content)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/var/lib/ctr/containers/web/rootfs"};
        struct ctr_mount_plan p;
        build(&spec, &p);
        cr_assert_str_eq(p.rootfs, spec.rootfs);
        cr_assert_gt(p.n, 20);
        for (size_t i = 0; i < p.n; i++)
                cr_assert_eq(p.ops[i].target[0], '/', "op %zu target '%s' is relative", i, p.ops[i].target);

        ssize_t proc = must_find(&p, CTR_MNT_MOUNT, "/proc");
        ssize_t sys = must_find(&p, CTR_MNT_MOUNT, "/sys");
        ssize_t cg = must_find(&p, CTR_MNT_MOUNT, "/sys/fs/cgroup");
        ssize_t dev = must_find(&p, CTR_MNT_MOUNT, "/dev");
        ssize_t pts = must_find(&p, CTR_MNT_MOUNT, "/dev/pts");
        ssize_t shm = must_find(&p, CTR_MNT_MOUNT, "/dev/shm");
        ssize_t run = must_find(&p, CTR_MNT_MOUNT, "/run");
        cr_assert_eq(proc, 0, "proc is not mounted first");
        cr_assert_lt(proc, sys);
        cr_assert_lt(sys, cg, "cgroup2 mounted before the sysfs it lives in");
        cr_assert_lt(dev, pts);
        cr_assert_lt(dev, shm);
        cr_assert_lt(pts, run);

        cr_assert_str_eq(p.ops[proc].fstype, "proc");
        cr_assert_eq(p.ops[proc].flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), MS_NOSUID | MS_NODEV | MS_NOEXEC);
        cr_assert_str_eq(p.ops[sys].fstype, "sysfs");
        cr_assert_neq(p.ops[sys].flags & MS_RDONLY, 0, "sysfs is writable");
        cr_assert_str_eq(p.ops[cg].fstype, "cgroup2");
        cr_assert_str_eq(p.ops[dev].fstype, "tmpfs");
        cr_assert_eq(p.ops[dev].flags & MS_NODEV, 0, "/dev must allow device nodes");
        cr_assert_neq(p.ops[dev].flags & MS_NOSUID, 0);
        cr_assert_str_eq(p.ops[pts].fstype, "devpts");
        cr_assert_not_null(p.ops[pts].data);
        cr_assert_not_null(strstr(p.ops[pts].data, "newinstance"), "devpts options: %s", p.ops[pts].data);
        cr_assert_not_null(strstr(p.ops[pts].data, "ptmxmode=0666"));
        cr_assert_str_eq(p.ops[shm].fstype, "tmpfs");
        cr_assert_str_eq(p.ops[run].fstype, "tmpfs");
        must_find(&p, CTR_MNT_MOUNT, "/dev/mqueue");

        /* Device nodes come after /dev's tmpfs, with the right numbers. */
        static const struct {
                const char *path;
                unsigned maj, min;
        } devs[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
        for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
                ssize_t d = must_find(&p, CTR_MNT_MKNOD, devs[i].path);
                cr_assert_gt(d, dev, "%s created before /dev is mounted", devs[i].path);
                cr_assert_eq(major(p.ops[d].dev), devs[i].maj, "%s", devs[i].path);
                cr_assert_eq(minor(p.ops[d].dev), devs[i].min, "%s", devs[i].path);
                cr_assert_eq(p.ops[d].mode & 0777, 0666);
                cr_assert_str_eq(p.ops[d].source, devs[i].path, "fallback bind source");
        }
        ssize_t ptmx = must_find(&p, CTR_MNT_SYMLINK, "/dev/ptmx");
        cr_assert_str_eq(p.ops[ptmx].source, "pts/ptmx");
        cr_assert_gt(ptmx, dev);
        ssize_t fd = must_find(&p, CTR_MNT_SYMLINK, "/dev/fd");
        cr_assert_str_eq(p.ops[fd].source, "/proc/self/fd");
        must_find(&p, CTR_MNT_SYMLINK, "/dev/stdin");
        must_find(&p, CTR_MNT_SYMLINK, "/dev/stdout");
        must_find(&p, CTR_MNT_SYMLINK, "/dev/stderr");

        /* No console without a console path, no /proc/sys/net exception without a netns, and a
         * writable root unless asked. */
        cr_assert_eq(count_target(&p, "/dev/console"), 0);
        cr_assert_eq(find(&p, CTR_MNT_RW, "/proc/sys/net"), -1);
        cr_assert_eq(find(&p, CTR_MNT_READONLY, "/"), -1);

        /* Read-only kernel trees, then the masks. */
        ssize_t psys = must_find(&p, CTR_MNT_READONLY, "/proc/sys");
        cr_assert_gt(psys, proc);
        must_find(&p, CTR_MNT_READONLY, "/proc/bus");
        must_find(&p, CTR_MNT_READONLY, "/proc/irq");
        ssize_t kcore = must_find(&p, CTR_MNT_MASK, "/proc/kcore");
        ssize_t sysrq = must_find(&p, CTR_MNT_READONLY, "/proc/sysrq-trigger");
        cr_assert_eq(find(&p, CTR_MNT_MASK, "/proc/sysrq-trigger"), -1);
        must_find(&p, CTR_MNT_MASK, "/proc/keys");
        must_find(&p, CTR_MNT_MASK, "/sys/firmware");
        cr_assert_gt(kcore, proc);
        cr_assert_gt(sysrq, proc);
        cr_assert(p.ops[kcore].optional, "a kernel without /proc/kcore must not fail the start");
        cr_assert(p.ops[psys].optional);
        ctr_rootfs_plan_free(&p);
        cr_assert_eq(p.n, 0);
        cr_assert_null(p.ops);
}

Test(mountplan, console_only_with_path)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/r", .console_path = "/dev/pts/7"};
        struct ctr_mount_plan p;
        build(&spec, &p);
        ssize_t con = must_find(&p, CTR_MNT_BIND, "/dev/console");
        cr_assert_eq(count_target(&p, "/dev/console"), 1);
        cr_assert_str_eq(p.ops[con].source, "/dev/pts/7");
        cr_assert_gt(con, find(&p, CTR_MNT_MOUNT, "/dev"), "console bound before /dev is mounted");
        cr_assert_gt(con, find(&p, CTR_MNT_MOUNT, "/dev/pts"));
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, user_binds_between_run_and_masks)
{
        const struct ctr_bind binds[] = {
                {.source = "/srv/data", .target = "/data", .readonly = true},
                {.source = "/srv/logs", .target = "/var/log/app", .readonly = false},
                {.source = "/srv/run", .target = "/run/shared"},
        };
        struct ctr_rootfs_spec spec = {.rootfs = "/r", .binds = binds, .n_binds = ARRAY_SIZE(binds)};
        struct ctr_mount_plan p;
        build(&spec, &p);
        ssize_t run = must_find(&p, CTR_MNT_MOUNT, "/run");
        ssize_t first_mask = -1, first_ro = -1;
        for (size_t i = 0; i < p.n; i++) {
                if (p.ops[i].kind == CTR_MNT_MASK && first_mask < 0)
                        first_mask = i;
                if (p.ops[i].kind == CTR_MNT_READONLY && first_ro < 0)
                        first_ro = i;
        }
        cr_assert_geq(first_mask, 0);
        ssize_t prev = run;
        for (size_t i = 0; i < ARRAY_SIZE(binds); i++) {
                ssize_t b = must_find(&p, CTR_MNT_BIND, binds[i].target);
                cr_assert_gt(b, run, "bind %s before /run's tmpfs would be hidden by it", binds[i].target);
                cr_assert_lt(b, first_mask, "bind %s after the masks could uncover a masked path", binds[i].target);
                cr_assert_lt(b, first_ro, "bind %s after the read-only kernel trees", binds[i].target);
                cr_assert_gt(b, prev, "binds out of the order given");
                prev = b;
                cr_assert_str_eq(p.ops[b].source, binds[i].source);
                cr_assert_eq(!!(p.ops[b].flags & MS_RDONLY), binds[i].readonly, "%s", binds[i].target);
                cr_assert_neq(p.ops[b].flags & MS_REC, 0, "binds are recursive");
                cr_assert_not(p.ops[b].optional);
        }
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, readonly_root_last_only_when_asked)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/r", .readonly_root = true};
        struct ctr_mount_plan p;
        build(&spec, &p);
        cr_assert_eq(p.ops[p.n - 1].kind, CTR_MNT_READONLY);
        cr_assert_str_eq(p.ops[p.n - 1].target, "/");
        cr_assert_not(p.ops[p.n - 1].optional);
        cr_assert_eq(count_target(&p, "/"), 1);
        ctr_rootfs_plan_free(&p);

        spec.readonly_root = false;
        build(&spec, &p);
        cr_assert_eq(count_target(&p, "/"), 0);
        cr_assert_neq(p.ops[p.n - 1].kind, CTR_MNT_READONLY);
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, proc_sys_net_writable_only_with_netns)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/r", .new_netns = true};
        struct ctr_mount_plan p;
        build(&spec, &p);
        ssize_t rw = must_find(&p, CTR_MNT_RW, "/proc/sys/net");
        ssize_t ro = must_find(&p, CTR_MNT_READONLY, "/proc/sys");
        cr_assert_gt(rw, ro, "the rw exception must come after /proc/sys is made read-only");
        cr_assert(p.ops[rw].optional);
        size_t n_rw = 0;
        for (size_t i = 0; i < p.n; i++)
                n_rw += p.ops[i].kind == CTR_MNT_RW;
        cr_assert_eq(n_rw, 1);
        ctr_rootfs_plan_free(&p);

        spec.new_netns = false;
        build(&spec, &p);
        for (size_t i = 0; i < p.n; i++)
                cr_assert_neq(p.ops[i].kind, CTR_MNT_RW, "rw op on %s without a netns", p.ops[i].target);
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, everything_at_once)
{
        const struct ctr_bind binds[] = {{.source = "/a", .target = "/b", .readonly = true}};
        struct ctr_rootfs_spec spec = {.rootfs = "/r",
                                       .new_netns = true,
                                       .readonly_root = true,
                                       .console_path = "/dev/pts/0",
                                       .binds = binds,
                                       .n_binds = 1};
        struct ctr_mount_plan p;
        build(&spec, &p);
        cr_assert_str_eq(p.ops[p.n - 1].target, "/");
        cr_assert_eq(p.ops[p.n - 1].kind, CTR_MNT_READONLY);
        ssize_t con = must_find(&p, CTR_MNT_BIND, "/dev/console");
        ssize_t run = must_find(&p, CTR_MNT_MOUNT, "/run");
        ssize_t b = must_find(&p, CTR_MNT_BIND, "/b");
        ssize_t rw = must_find(&p, CTR_MNT_RW, "/proc/sys/net");
        ssize_t kcore = must_find(&p, CTR_MNT_MASK, "/proc/kcore");
        cr_assert_lt(con, run);
        cr_assert_lt(run, b);
        cr_assert_lt(b, rw);
        cr_assert_lt(b, kcore);
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, refusals)
{
        struct ctr_mount_plan p = {0};
        struct ctr_error err = {0};
        struct ctr_rootfs_spec spec = {.rootfs = "relative/rootfs"};
        cr_assert_eq(ctr_rootfs_plan_build(&spec, &p, &err), -EINVAL);
        cr_assert_not_null(strstr(err.msg, "absolute"), "%s", err.msg);
        cr_assert_null(p.ops);

        spec.rootfs = NULL;
        cr_assert_eq(ctr_rootfs_plan_build(&spec, &p, &err), -EINVAL);
        spec.rootfs = "";
        cr_assert_eq(ctr_rootfs_plan_build(&spec, &p, &err), -EINVAL);

        static const struct ctr_bind bad[][1] = {
                {{.source = "srv", .target = "/data"}},
                {{.source = "/srv", .target = "data"}},
                {{.source = NULL, .target = "/data"}},
                {{.source = "/srv", .target = NULL}},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_rootfs_spec s = {.rootfs = "/r", .binds = bad[i], .n_binds = 1};
                memset(&p, 0, sizeof(p));
                cr_assert_eq(ctr_rootfs_plan_build(&s, &p, &err), -EINVAL, "bad bind %zu accepted", i);
                cr_assert_null(p.ops, "plan returned on failure");
        }
}

Test(mountplan, print)
{
        const struct ctr_bind binds[] = {{.source = "/srv/data", .target = "/data", .readonly = true}};
        struct ctr_rootfs_spec spec = {.rootfs = "/var/lib/ctr/containers/web/rootfs",
                                       .new_netns = true,
                                       .readonly_root = true,
                                       .console_path = "/dev/pts/3",
                                       .binds = binds,
                                       .n_binds = 1};
        struct ctr_mount_plan p;
        build(&spec, &p);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_not_null(f);
        ctr_rootfs_plan_print(&p, f);
        cr_assert_eq(fclose(f), 0);

        static const char *const lines[] = {
                "rootfs /var/lib/ctr/containers/web/rootfs\n",
                "\nmount    /proc <- proc\n",
                "\nmount    /sys <- sysfs ro\n",
                "\nmount    /dev <- tmpfs (mode=755,size=65536k)\n",
                "\nmknod    /dev/null <- /dev/null\n",
                "\nsymlink  /dev/ptmx <- pts/ptmx\n",
                "\nmount    /dev/pts <- devpts (newinstance,ptmxmode=0666,mode=0620)\n",
                "\nbind     /dev/console <- /dev/pts/3\n",
                "\nbind     /data <- /srv/data ro\n",
                "\nreadonly /proc/sys optional\n",
                "\nrw       /proc/sys/net optional\n",
                "\nmask     /proc/kcore optional\n",
                "\nreadonly /proc/sysrq-trigger optional\n",
                "\nreadonly /\n",
        };
        cr_assert_eq(strncmp(buf, lines[0], strlen(lines[0])), 0, "first line: %.60s", buf);
        for (size_t i = 1; i < ARRAY_SIZE(lines); i++)
                cr_assert_not_null(strstr(buf, lines[i]), "missing line '%s' in:\n%s", lines[i] + 1, buf);
        /* One line per op, plus the rootfs line. */
        size_t nl = 0;
        for (char *c = buf; *c; c++)
                nl += *c == '\n';
        cr_assert_eq(nl, p.n + 1);
        /* The last line is the read-only root. */
        cr_assert_eq(strcmp(buf + len - strlen("readonly /\n"), "readonly /\n"), 0);
        free(buf);
        ctr_rootfs_plan_free(&p);
}

Test(mountplan, print_to_fmemopen)
{
        struct ctr_rootfs_spec spec = {.rootfs = "/r"};
        struct ctr_mount_plan p;
        char out[8192] = {0};
        build(&spec, &p);
        FILE *f = fmemopen(out, sizeof(out) - 1, "w");
        cr_assert_not_null(f);
        ctr_rootfs_plan_print(&p, f);
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(strncmp(out, "rootfs /r\n", 10), 0);
        cr_assert_null(strstr(out, "/dev/console"));
        cr_assert_null(strstr(out, "rw "));
        ctr_rootfs_plan_free(&p);
}
