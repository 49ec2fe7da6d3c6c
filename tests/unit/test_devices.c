/* Unit tests for cgroups/devices.c and the stats parsers: device rule syntax, the shape of the
 * assembled BPF program, and keyed cgroup files. No root, no kernel: the program is checked as data. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "../../cgroups/cgroups.h"
#include "../../base/util.h"

Test(device_rule, parse_and_format)
{
        static const struct {
                const char *in, *out;
                char type;
                long long major, minor;
                unsigned access;
        } ok[] = {
                {"c 10:200 rwm", "c 10:200 rwm", 'c', 10, 200, CTR_DEV_RWM},
                {"b 8:* r", "b 8:* r", 'b', 8, -1, CTR_DEV_READ},
                {"c *:* m", "c *:* m", 'c', -1, -1, CTR_DEV_MKNOD},
                {"a *:* rw", "a *:* rw", 'a', -1, -1, CTR_DEV_READ | CTR_DEV_WRITE},
                {"c 1:3 mwr", "c 1:3 rwm", 'c', 1, 3, CTR_DEV_RWM},
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                struct ctr_cg_device d;
                char buf[64];
                cr_assert_eq(ctr_cgroup_device_parse(ok[i].in, &d), 0, "%s", ok[i].in);
                cr_assert_eq(d.type, ok[i].type, "%s", ok[i].in);
                cr_assert_eq(d.major, ok[i].major, "%s", ok[i].in);
                cr_assert_eq(d.minor, ok[i].minor, "%s", ok[i].in);
                cr_assert_eq(d.access, ok[i].access, "%s", ok[i].in);
                ctr_cgroup_device_format(&d, buf, sizeof(buf));
                cr_assert_str_eq(buf, ok[i].out);
        }
        static const char *const bad[] = {"", "c", "c 1:3", "c 1:3 ", "x 1:3 r", "c 1 r", "c 1:3 rr", "c 1:3 rx",
                                          "c a:3 r", "c 1:3r", "a 1:3 r", "c 99999999999:1 r", "c 1:3  r",
                                          "c -1:3 r"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_cg_device d;
                cr_assert_lt(ctr_cgroup_device_parse(bad[i], &d), 0, "'%s' was accepted", bad[i]);
        }
}

Test(device_rule, defaults_cover_the_standard_nodes_only)
{
        size_t n;
        const struct ctr_cg_device *d = ctr_cgroup_default_devices(&n);
        bool null_ok = false, pts_ok = false;
        for (size_t i = 0; i < n; i++) {
                cr_assert_eq(d[i].type, 'c', "a default rule is not for a character device");
                cr_assert_neq(d[i].major, -1, "a default rule allows any major");
                null_ok |= d[i].major == 1 && d[i].minor == 3 && d[i].access == CTR_DEV_RWM;
                pts_ok |= d[i].major == 136 && d[i].minor == -1;
                cr_assert(!(d[i].major == 1 && (d[i].minor == 1 || d[i].minor == 2 || d[i].minor == 4)),
                          "mem, kmem or port allowed");
        }
        cr_assert(null_ok && pts_ok);
}

/* Walk the program like the kernel would, for one device access: returns r0. */
static int run_program(const struct bpf_insn *p, size_t n, unsigned type, unsigned access, unsigned major,
                       unsigned minor)
{
        uint64_t r[11] = {0};
        uint32_t ctx[3] = {access << 16 | type, major, minor};
        size_t pc = 0, steps = 0;
        while (pc < n && steps++ < 100000) {
                const struct bpf_insn *i = &p[pc];
                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W: r[i->dst_reg] = ctx[i->off / 4]; break;
                case BPF_ALU | BPF_MOV | BPF_X: r[i->dst_reg] = (uint32_t)r[i->src_reg]; break;
                case BPF_ALU | BPF_AND | BPF_K: r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm); break;
                case BPF_ALU | BPF_RSH | BPF_K: r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm; break;
                case BPF_ALU64 | BPF_MOV | BPF_K: r[i->dst_reg] = (uint64_t)(int64_t)i->imm; break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_EXIT: return (int)r[0];
                default: cr_assert_fail("unexpected opcode 0x%x at %zu", i->code, pc);
                }
                pc++;
        }
        cr_assert_fail("program ran off its end");
        return -1;
}

Test(device_program, decisions)
{
        size_t n_def;
        const struct ctr_cg_device *def = ctr_cgroup_default_devices(&n_def);
        struct ctr_cg_device rules[32];
        memcpy(rules, def, n_def * sizeof(*rules));
        cr_assert_eq(ctr_cgroup_device_parse("b 7:* r", &rules[n_def]), 0);
        size_t n = n_def + 1;
        size_t len = ctr_cgroup_device_program(rules, n, NULL, 0);
        struct bpf_insn prog[512];
        cr_assert_lt(len, ARRAY_SIZE(prog));
        cr_assert_eq(ctr_cgroup_device_program(rules, n, prog, ARRAY_SIZE(prog)), len);
        const unsigned C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
        const unsigned R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
        cr_assert_eq(run_program(prog, len, C, R | W, 1, 3), 1, "/dev/null rw");
        cr_assert_eq(run_program(prog, len, C, M, 1, 9), 1, "mknod urandom");
        cr_assert_eq(run_program(prog, len, C, R | W, 136, 42), 1, "a pty");
        cr_assert_eq(run_program(prog, len, C, R, 1, 1), 0, "/dev/mem");
        cr_assert_eq(run_program(prog, len, B, M, 8, 0), 0, "mknod of a disk");
        cr_assert_eq(run_program(prog, len, B, R, 8, 0), 0, "read a disk");
        cr_assert_eq(run_program(prog, len, B, R, 7, 3), 1, "read a loop device (extra rule)");
        cr_assert_eq(run_program(prog, len, B, R | W, 7, 3), 0, "write a loop device (rule is r only)");
        cr_assert_eq(run_program(prog, len, B, M, 7, 3), 0, "mknod a loop device (rule is r only)");
        cr_assert_eq(run_program(prog, len, C, R, 7, 3), 0, "char 7:3 does not match a block rule");
}

Test(device_program, any_type_rule_and_empty_list)
{
        struct ctr_cg_device any;
        cr_assert_eq(ctr_cgroup_device_parse("a *:* m", &any), 0);
        struct bpf_insn prog[64];
        size_t len = ctr_cgroup_device_program(&any, 1, prog, ARRAY_SIZE(prog));
        cr_assert_eq(run_program(prog, len, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_MKNOD, 8, 0), 1);
        cr_assert_eq(run_program(prog, len, BPF_DEVCG_DEV_CHAR, BPF_DEVCG_ACC_READ, 1, 3), 0);
        len = ctr_cgroup_device_program(NULL, 0, prog, ARRAY_SIZE(prog));
        cr_assert_eq(len, 9, "preamble + deny");
        cr_assert_eq(run_program(prog, len, BPF_DEVCG_DEV_CHAR, BPF_DEVCG_ACC_READ, 1, 3), 0);
}

Test(cgroup_files, keyed_values)
{
        const char *text = "usage_usec 1234\nuser_usec 1000\nnr_throttled 7\nthrottled_usec 99\n";
        uint64_t v = 0;
        cr_assert_eq(ctr_cgroup_keyed(text, "usage_usec", &v), 0);
        cr_assert_eq(v, 1234);
        cr_assert_eq(ctr_cgroup_keyed(text, "nr_throttled", &v), 0);
        cr_assert_eq(v, 7);
        cr_assert_eq(ctr_cgroup_keyed(text, "throttled", &v), -ENOENT, "a prefix of a key is not the key");
        cr_assert_eq(ctr_cgroup_keyed(text, "usec", &v), -ENOENT);
        cr_assert_eq(ctr_cgroup_keyed("", "x", &v), -ENOENT);
        cr_assert_eq(ctr_cgroup_keyed("oom 0\noom_kill 3", "oom_kill", &v), 0);
        cr_assert_eq(v, 3, "last line without newline");
}

Test(cgroup_files, stats_of_a_directory)
{
        char dir[64];
        unit_tmpdir_make(dir, sizeof(dir), "stats");
        static const struct {
                const char *file, *text;
        } files[] = {
                {"memory.current", "4096\n"},
                {"memory.peak", "8192\n"},
                {"memory.max", "max\n"},
                {"memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n"},
                {"cpu.stat", "usage_usec 500\nuser_usec 300\nsystem_usec 200\nnr_periods 10\nnr_throttled 4\n"
                             "throttled_usec 77\n"},
                {"pids.current", "3\n"},
                {"pids.max", "64\n"},
                {"io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2 rios=1 wios=1\n"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                char p[128];
                snprintf(p, sizeof(p), "%s/%s", dir, files[i].file);
                FILE *f = fopen(p, "w");
                cr_assert_not_null(f);
                fputs(files[i].text, f);
                fclose(f);
        }
        struct ctr_cg_stats s;
        cr_assert_eq(ctr_cgroup_stats(dir, &s), 0);
        cr_assert(s.has_memory && s.has_cpu && s.has_pids && s.has_io);
        cr_assert_eq(s.memory_current, 4096);
        cr_assert_eq(s.memory_peak, 8192);
        cr_assert_eq(s.memory_max, UINT64_MAX);
        cr_assert_eq(s.oom_kill, 1);
        cr_assert_eq(s.usage_usec, 500);
        cr_assert_eq(s.nr_throttled, 4);
        cr_assert_eq(s.pids_current, 3);
        cr_assert_eq(s.pids_max, 64);
        cr_assert_eq(s.io_rbytes, 101);
        cr_assert_eq(s.io_wbytes, 202);
        unit_tmpdir_remove(dir);

        unit_tmpdir_make(dir, sizeof(dir), "stats");
        cr_assert_eq(ctr_cgroup_stats(dir, &s), 0);
        cr_assert(!s.has_memory && !s.has_cpu && !s.has_pids && !s.has_io, "an empty directory has no stats");
        unit_tmpdir_remove(dir);
        cr_assert_lt(ctr_cgroup_stats("/nonexistent/cgroup", &s), 0);
}
