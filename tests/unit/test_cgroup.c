/* Unit tests for cgroups/cgroups.c that need no cgroupfs: the "is this path ours" guard, the
 * controller check, and limit/event files exercised on a plain directory standing in for a cgroup. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../cgroups/cgroups.h"
#include "../../base/util.h"

static struct ctr_cg_host host(const char *mount, const char *controllers)
{
        struct ctr_cg_host h = {.layout = CTR_CG_UNIFIED};
        snprintf(h.mount, sizeof(h.mount), "%s", mount);
        snprintf(h.controllers, sizeof(h.controllers), "%s", controllers);
        return h;
}

Test(cgroup_path, ours)
{
        struct ctr_cg_host h = host("/sys/fs/cgroup", "");
        cr_assert(ctr_cgroup_path_ours(&h, "/sys/fs/cgroup/ctr.slice/web.scope"));
        cr_assert(ctr_cgroup_path_ours(&h, "/sys/fs/cgroup/ctr.slice/web-0123abcd.scope"));

        struct ctr_cg_host hy = host("/sys/fs/cgroup/unified", "");
        hy.layout = CTR_CG_HYBRID;
        cr_assert(ctr_cgroup_path_ours(&hy, "/sys/fs/cgroup/unified/ctr.slice/web.scope"));
        cr_assert_not(ctr_cgroup_path_ours(&hy, "/sys/fs/cgroup/ctr.slice/web.scope"));
}

Test(cgroup_path, not_ours)
{
        struct ctr_cg_host h = host("/sys/fs/cgroup", "");
        static const char *const bad[] = {
                "/sys/fs/cgroup",
                "/sys/fs/cgroup/",
                "/sys/fs/cgroup/ctr.slice",
                "/sys/fs/cgroup/ctr.slice/",
                "/sys/fs/cgroup/ctr.slice/..",
                "/sys/fs/cgroup/ctr.slice/../system.slice",
                "/sys/fs/cgroup/ctr.slice/../../..",
                "/sys/fs/cgroup/ctr.slice/web.scope/..",
                "/sys/fs/cgroup/ctr.slice/web.scope/",
                "/sys/fs/cgroup/ctr.slice/web.scope/sub",
                "/sys/fs/cgroup/ctr.slice/a/b/c",
                "/sys/fs/cgroup/system.slice/web.scope",
                "/sys/fs/cgroup/ctr.slicex/web.scope",
                "/sys/fs/cgroup/user.slice/ctr.slice/web.scope",
                "/sys/fs/cgroupx/ctr.slice/web.scope",
                "/sys/fs/cgroup/../cgroup/ctr.slice/web.scope",
                "sys/fs/cgroup/ctr.slice/web.scope",
                "ctr.slice/web.scope",
                "/tmp/ctr.slice/web.scope",
                "",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                cr_assert_not(ctr_cgroup_path_ours(&h, bad[i]), "'%s' taken as ours", bad[i]);
        cr_assert_not(ctr_cgroup_path_ours(&h, NULL));
}

/* "." names ctr.slice itself: treating it as a container's cgroup would let a corrupt state.json
 * make the stale-state cleanup kill every container (cgroup.kill on ctr.slice). */
Test(cgroup_path, dot_is_not_a_leaf)
{
        struct ctr_cg_host h = host("/sys/fs/cgroup", "");
        cr_assert_not(ctr_cgroup_path_ours(&h, "/sys/fs/cgroup/ctr.slice/."), "ctr.slice/. taken as a leaf");
}

/* Container names may contain ".." (ctr_name_valid("a..b") is true), and their leaves must still
 * be recognised, or a stale container's cgroup is never cleaned up. */
Test(cgroup_path, dots_inside_a_leaf_name)
{
        struct ctr_cg_host h = host("/sys/fs/cgroup", "");
        cr_assert(ctr_name_valid("a..b"));
        cr_assert(ctr_cgroup_path_ours(&h, "/sys/fs/cgroup/ctr.slice/a..b.scope"),
                  "leaf of container 'a..b' not recognised");
}

Test(cgroup_path, layout_names)
{
        cr_assert_not_null(strstr(ctr_cgroup_layout_name(CTR_CG_UNIFIED), "v2"));
        cr_assert_not_null(strstr(ctr_cgroup_layout_name(CTR_CG_HYBRID), "hybrid"));
        cr_assert_not_null(strstr(ctr_cgroup_layout_name(CTR_CG_LEGACY), "v1"));
}

Test(cgroup_limits, check_controllers)
{
        struct ctr_cg_host h = host("/nonexistent-ctr-test/cgroup", "cpuset cpu io memory hugetlb pids rdma");
        struct ctr_error err = {0};
        struct ctr_cg_limits none = {0}, mem = {.memory = 1 << 30}, high = {.memory_high = 1 << 30},
                             cpu = {.cpus = 0.5}, weight = {.cpu_weight = 100}, pids = {.pids = 10};
        cr_assert_eq(ctr_cgroup_check_limits(&h, &none, &err), 0);
        cr_assert_eq(ctr_cgroup_check_limits(&h, &mem, &err), 0);
        cr_assert_eq(ctr_cgroup_check_limits(&h, &cpu, &err), 0);
        cr_assert_eq(ctr_cgroup_check_limits(&h, &pids, &err), 0);

        /* Controller names are whole words: "cpuset" does not provide "cpu", "hugetlb" no "memory". */
        struct ctr_cg_host bare = host("/nonexistent-ctr-test/cgroup", "cpuset io hugetlb rdma");
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &none, &err), 0, "no limits need no controllers");
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &mem, &err), -ENOTSUP);
        cr_assert_not_null(strstr(err.msg, "memory controller not available"), "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "/nonexistent-ctr-test/cgroup"), "%s", err.msg);
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &high, &err), -ENOTSUP);
        cr_assert_not_null(strstr(err.msg, "memory"));
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &cpu, &err), -ENOTSUP);
        cr_assert_not_null(strstr(err.msg, "cpu controller"), "%s", err.msg);
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &weight, &err), -ENOTSUP);
        cr_assert_eq(ctr_cgroup_check_limits(&bare, &pids, &err), -ENOTSUP);
        cr_assert_not_null(strstr(err.msg, "pids controller"), "%s", err.msg);

        struct ctr_cg_host suffix = host("/x", "xmemory pidsx cpu_x");
        cr_assert_eq(ctr_cgroup_check_limits(&suffix, &mem, &err), -ENOTSUP);
        cr_assert_eq(ctr_cgroup_check_limits(&suffix, &pids, &err), -ENOTSUP);
        cr_assert_eq(ctr_cgroup_check_limits(&suffix, &cpu, &err), -ENOTSUP);
}

/* --- a plain directory standing in for a cgroup ---------------------------------------------- */

static char tmpdir[64];

static void put(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        cr_assert_geq(fputs(text, f), 0);
        cr_assert_eq(fclose(f), 0);
}

static char *get(const char *name)
{
        char path[256];
        char *buf = NULL;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        cr_assert_eq(ctr_read_file(path, 4096, &buf, NULL), 0, "read %s", path);
        return buf;
}

static void fake_setup(void)
{
        unit_tmpdir_make(tmpdir, sizeof(tmpdir), "cgroup");
        static const char *const files[] = {"memory.max", "memory.high", "cpu.max", "cpu.weight", "pids.max"};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                put(files[i], "");
}

static void fake_teardown(void)
{
        unit_tmpdir_remove(tmpdir);
}

TestSuite(cgroup_fake, .init = fake_setup, .fini = fake_teardown);

Test(cgroup_fake, apply_limits_writes_files)
{
        struct ctr_error err = {0};
        struct ctr_cg_limits l = {
                .memory = 512ULL << 20, .memory_high = 256ULL << 20, .cpus = 1.5, .cpu_weight = 200, .pids = 64};
        cr_assert_eq(ctr_cgroup_apply_limits(tmpdir, &l, &err), 0, "%s", err.msg);
        _cleanup_free_ char *mem = get("memory.max");
        _cleanup_free_ char *high = get("memory.high");
        _cleanup_free_ char *cpu = get("cpu.max");
        _cleanup_free_ char *weight = get("cpu.weight");
        _cleanup_free_ char *pids = get("pids.max");
        cr_assert_str_eq(mem, "536870912");
        cr_assert_str_eq(high, "268435456");
        cr_assert_str_eq(cpu, "150000 100000");
        cr_assert_str_eq(weight, "200");
        cr_assert_str_eq(pids, "64");
}

Test(cgroup_fake, apply_limits_skips_unset)
{
        struct ctr_error err = {0};
        struct ctr_cg_limits l = {.cpus = 0.01};
        cr_assert_eq(ctr_cgroup_apply_limits(tmpdir, &l, &err), 0, "%s", err.msg);
        _cleanup_free_ char *cpu = get("cpu.max");
        _cleanup_free_ char *mem = get("memory.max");
        cr_assert_str_eq(cpu, "1000 100000");
        cr_assert_str_eq(mem, "", "unset memory limit written");
}

Test(cgroup_fake, apply_limits_reports_missing_file)
{
        struct ctr_error err = {0};
        char path[256];
        snprintf(path, sizeof(path), "%s/pids.max", tmpdir);
        cr_assert_eq(unlink(path), 0);
        struct ctr_cg_limits l = {.pids = 5};
        cr_assert_eq(ctr_cgroup_apply_limits(tmpdir, &l, &err), -ENOENT);
        cr_assert_not_null(strstr(err.msg, "pids.max=5"), "%s", err.msg);
}

Test(cgroup_fake, populated_and_procs)
{
        cr_assert_not(ctr_cgroup_populated(tmpdir), "no cgroup.events means not populated");
        put("cgroup.events", "populated 1\nfrozen 0\n");
        cr_assert(ctr_cgroup_populated(tmpdir));
        put("cgroup.events", "populated 0\nfrozen 1\n");
        cr_assert_not(ctr_cgroup_populated(tmpdir));
        /* A key that only starts like another one does not count. */
        put("cgroup.events", "populatedx 1\npopulated 0\n");
        cr_assert_not(ctr_cgroup_populated(tmpdir));

        pid_t *pids = NULL;
        size_t n = 99;
        cr_assert_eq(ctr_cgroup_procs(tmpdir, &pids, &n), -ENOENT);
        put("cgroup.procs", "");
        cr_assert_eq(ctr_cgroup_procs(tmpdir, &pids, &n), 0);
        cr_assert_eq(n, 0);
        free(pids);
        char many[4096] = "";
        for (int i = 1; i <= 40; i++)
                snprintf(many + strlen(many), sizeof(many) - strlen(many), "%d\n", 1000 + i);
        put("cgroup.procs", many);
        cr_assert_eq(ctr_cgroup_procs(tmpdir, &pids, &n), 0);
        cr_assert_eq(n, 40);
        cr_assert_eq(pids[0], 1001);
        cr_assert_eq(pids[39], 1040);
        free(pids);
}

Test(cgroup_io, parse_format_and_io_max)
{
        struct ctr_cg_io io;
        struct ctr_error err = {0};
        char buf[160];
        cr_assert_eq(ctr_cgroup_io_parse("8:16:rbps=50M,wiops=100,weight=300", &io, &err), 0, "%s", err.msg);
        cr_assert_eq(io.major, 8);
        cr_assert_eq(io.minor, 16);
        cr_assert_eq(io.rbps, 50ull << 20);
        cr_assert_eq(io.wiops, 100);
        cr_assert_eq(io.weight, 300);
        cr_assert_eq(io.wbps, 0);
        ctr_cgroup_io_format(&io, buf, sizeof(buf));
        cr_assert_str_eq(buf, "8:16:rbps=50M,wiops=100,weight=300");
        ctr_cgroup_io_max_line(&io, buf, sizeof(buf));
        cr_assert_str_eq(buf, "8:16 rbps=52428800 wbps=max riops=max wiops=100");
}

Test(cgroup_io, bad_specs)
{
        struct ctr_cg_io io;
        struct ctr_error err = {0};
        const char *bad[] = {"8:0", "8:0:", "8:0:rbps", "8:0:rbps=12Q", "8:0:riops=-1", "8:0:riops=0", "8:0:speed=1",
                             "8:0:weight=10001", "sda:rbps=1M", "/dev/null:rbps=1M", "/no/such/dev:rbps=1M", "/dev/sda"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&err, 0, sizeof(err));
                cr_assert_lt(ctr_cgroup_io_parse(bad[i], &io, &err), 0, "'%s' accepted", bad[i]);
                cr_assert_str_eq(err.op, "io", "'%s': %s", bad[i], err.msg);
        }
        ctr_cgroup_io_parse("/dev/null:rbps=1M", &io, &err);
        cr_assert(strstr(err.msg, "not a block device"), "%s", err.msg);
}
