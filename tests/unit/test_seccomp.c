/* Unit tests for security/seccomp.c: names and groups, profile files, and the filters'
 * behaviour — each filter is loaded in a forked child that reports the errno of probe calls,
 * compared with an unfiltered child making the same calls. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../security/seccomp.h"
#include "unit.h"

/* The probes: each returns 0 on success or the errno. Arguments are invalid on purpose, so the
 * kernel answers with EFAULT/EINVAL/ENOENT and only the filter answers EPERM. */
enum { P_GETPID, P_KEXEC, P_PERF, P_KEYCTL, P_BPF, P_REMOUNT, P_BIND_REMOUNT, P_GETPPID, P_I386_GETPID, P_I386_PERF,
       P_X32_GETPID, P_X32_PERF, P_HANDLE, N_PROBES };

static long i386_call(long nr, long a1)
{
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a1), "c"(0), "d"(0), "S"(0), "D"(0) : "memory");
        return ret;
}

/* Kernels booted with ia32_emulation=0 (or without it) answer int 0x80 with SIGSEGV: ask in a
 * child once, and leave the i386 probes out there. */
static bool i386_works(void)
{
        static int known = -1;
        if (known < 0) {
                pid_t pid = fork();
                if (pid < 0)
                        return (known = 0);
                if (pid == 0) {
                        i386_call(20, 0);
                        _exit(0);
                }
                int st = 0;
                waitpid(pid, &st, 0);
                known = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        return known;
}

static int err_of(long r)
{
        return r < 0 ? errno : 0;
}

static void run_probes(int *res)
{
        res[P_GETPID] = err_of(syscall(SYS_getpid));
        res[P_KEXEC] = err_of(syscall(SYS_kexec_load, 0, 0, NULL, 0x12345678 /* invalid flags: EINVAL */));
        res[P_PERF] = err_of(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        res[P_KEYCTL] = err_of(syscall(SYS_keyctl, 9999, 0, 0, 0, 0));
        res[P_BPF] = err_of(syscall(SYS_bpf, 9999, NULL, 0));
        res[P_REMOUNT] = err_of(mount(NULL, "/nonexistent-ctr-unit", NULL, MS_REMOUNT, NULL));
        res[P_BIND_REMOUNT] = err_of(mount(NULL, "/nonexistent-ctr-unit", NULL, MS_REMOUNT | MS_BIND, NULL));
        res[P_GETPPID] = err_of(syscall(SYS_getppid));
        if (i386_works()) {
                long r = i386_call(20 /* i386 getpid */, 0);
                res[P_I386_GETPID] = r < 0 ? (int)-r : 0;
                r = i386_call(336 /* i386 perf_event_open */, 0);
                res[P_I386_PERF] = r < 0 ? (int)-r : 0;
        } else
                res[P_I386_GETPID] = res[P_I386_PERF] = ENOSYS;
        /* x32 numbers are the x86_64 ones with bit 30 set (__X32_SYSCALL_BIT). */
        res[P_X32_GETPID] = err_of(syscall(0x40000000 | 39));
        res[P_X32_PERF] = err_of(syscall(0x40000000 | 298, NULL, 0, -1, -1, 0));
        res[P_HANDLE] = err_of(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
}

/* Run the probes in a child, under spec when given; returns -1 in res[0] if loading failed. */
static void probe(const struct ctr_seccomp_spec *spec, int *res)
{
        int p[2];
        cr_assert_eq(pipe(p), 0);
        i386_works(); /* asked before the filter, which may forbid fork */
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int out[N_PROBES] = {0};
                struct ctr_error err = {0};
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if (spec && ctr_seccomp_apply(spec, &err) < 0) {
                        out[0] = -1;
                        fprintf(stderr, "apply: %s: %s\n", err.op, err.msg);
                } else
                        run_probes(out);
                if (write(p[1], out, sizeof(out)) != sizeof(out))
                        _exit(1);
                _exit(0);
        }
        close(p[1]);
        cr_assert_eq(read(p[0], res, sizeof(int) * N_PROBES), (ssize_t)(sizeof(int) * N_PROBES));
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe child died (status %#x)", st);
        cr_assert_neq(res[0], -1, "loading the filter failed");
}

static int control[N_PROBES];

static void need_control(void)
{
        if (geteuid() != 0)
                cr_skip_test("needs root: unprivileged calls fail with EPERM without any filter");
        probe(NULL, control);
}

Test(seccomp, default_profile_behaviour)
{
        need_control();
        int res[N_PROBES];
        probe(&(struct ctr_seccomp_spec){0}, res);
        cr_assert_eq(res[P_GETPID], 0);
        cr_assert_eq(res[P_GETPPID], 0);
        int denied[] = {P_KEXEC, P_PERF, P_KEYCTL, P_BPF, P_REMOUNT, P_HANDLE};
        for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
                cr_assert_neq(control[denied[i]], EPERM, "probe %d is EPERM without a filter", denied[i]);
                cr_assert_eq(res[denied[i]], EPERM, "probe %d: errno %d under the default profile", denied[i],
                             res[denied[i]]);
        }
        /* A bind remount reaches the kernel (systemd's sandboxing needs it). */
        cr_assert_eq(res[P_BIND_REMOUNT], control[P_BIND_REMOUNT]);
        cr_assert_neq(res[P_BIND_REMOUNT], EPERM);
        /* The i386 ABI gets the same rules, numbered its own way (x32: the test below). */
        if (control[P_I386_GETPID] == 0) {
                cr_assert_eq(res[P_I386_GETPID], 0);
                cr_assert_neq(control[P_I386_PERF], EPERM);
                cr_assert_eq(res[P_I386_PERF], EPERM);
        }
}

Test(seccomp, x32_refused)
{
        need_control();
        /* A kernel without CONFIG_X86_X32_ABI (or booted with x32 off) answers ENOSYS with no
         * filter at all: there, ENOSYS under the filter would prove nothing. */
        if (control[P_X32_GETPID] != 0)
                cr_skip_test("this kernel has no x32 ABI (an unfiltered x32 getpid fails with errno %d)",
                             control[P_X32_GETPID]);
        int res[N_PROBES];
        probe(&(struct ctr_seccomp_spec){0}, res);
        cr_assert_eq(res[P_GETPID], 0);
        /* Refused outright, even a call the x86_64 rules allow, as on a kernel without x32. */
        cr_assert_eq(res[P_X32_GETPID], ENOSYS, "x32 getpid: errno %d under the default profile", res[P_X32_GETPID]);
        cr_assert_eq(res[P_X32_PERF], ENOSYS, "x32 perf_event_open: errno %d", res[P_X32_PERF]);
        /* Allowing a call back is for the native ABIs: x32 stays refused. */
        char *allow[] = {"perf_event_open", "@privileged", NULL};
        probe(&(struct ctr_seccomp_spec){.allow = allow}, res);
        cr_assert_eq(res[P_X32_GETPID], ENOSYS);
        cr_assert_eq(res[P_X32_PERF], ENOSYS);
}

Test(seccomp, privileged_group_has_bpf)
{
        /* ctr-security(7) and systemd's @privileged both include bpf. */
        bool bpf = false;
        for (const char *const *c = ctr_seccomp_group("@privileged"); *c; c++)
                bpf = bpf || !strcmp(*c, "bpf");
        cr_assert(bpf, "@privileged lacks bpf");
        need_control();
        int res[N_PROBES];
        char *allow[] = {"@privileged", NULL};
        probe(&(struct ctr_seccomp_spec){.allow = allow}, res);
        cr_assert_eq(res[P_BPF], control[P_BPF], "--seccomp-allow @privileged: bpf errno %d", res[P_BPF]);
        cr_assert_neq(res[P_BPF], EPERM);
        cr_assert_eq(res[P_HANDLE], control[P_HANDLE]);
        cr_assert_eq(res[P_PERF], EPERM, "perf_event_open is @debug, not @privileged");
}

Test(seccomp, allow_and_deny_change_the_default)
{
        need_control();
        int res[N_PROBES];
        char *allow[] = {"@keyring", "mount", NULL}, *deny[] = {"getppid", "@debug", NULL};
        probe(&(struct ctr_seccomp_spec){.allow = allow, .deny = deny}, res);
        cr_assert_eq(res[P_KEYCTL], control[P_KEYCTL]);
        cr_assert_eq(res[P_REMOUNT], control[P_REMOUNT]);
        cr_assert_eq(res[P_GETPPID], EPERM);
        cr_assert_eq(res[P_PERF], EPERM);
        cr_assert_eq(res[P_BPF], EPERM);
}

Test(seccomp, unconfined_builds_nothing)
{
        scmp_filter_ctx ctx = (void *)1;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_seccomp_build(&(struct ctr_seccomp_spec){.profile = "unconfined"}, &ctx, &err), 0);
        cr_assert_null(ctx);
        char *allow[] = {"@mount", NULL};
        cr_assert_eq(ctr_seccomp_check(&(struct ctr_seccomp_spec){.profile = "unconfined", .allow = allow}, &err), 0);
        cr_assert_eq(ctr_seccomp_build(&(struct ctr_seccomp_spec){.profile = "unconfined", .allow = allow}, &ctx, &err), 0);
        cr_assert_null(ctx);
}

Test(seccomp, names_and_groups)
{
        struct ctr_error err = {0};
        for (const char *const *g = ctr_seccomp_groups(); *g; g++) {
                cr_assert_eq(ctr_seccomp_check_name(*g, &err), 0, "%s: %s", *g, err.msg);
                cr_assert_not_null(ctr_seccomp_group(*g));
        }
        const char *need[] = {"@mount", "@module", "@raw-io", "@debug", "@privileged", "@reboot", "@clock", NULL};
        for (const char *const *n = need; *n; n++)
                cr_assert_not_null(ctr_seccomp_group(*n), "no group %s", *n);
        cr_assert_eq(ctr_seccomp_check_name("kexec_load", &err), 0);
        cr_assert_lt(ctr_seccomp_check_name("@nonsense", &err), 0);
        cr_assert(strstr(err.msg, "'@nonsense' is not a syscall group") && strstr(err.msg, "@mount"), "%s", err.msg);
        cr_assert_lt(ctr_seccomp_check_name("no_such_call", &err), 0);
        cr_assert(strstr(err.msg, "'no_such_call'"), "%s", err.msg);
        char *bad[] = {"@mount", "@nonsense", NULL};
        cr_assert_lt(ctr_seccomp_check(&(struct ctr_seccomp_spec){.deny = bad}, &err), 0);
        cr_assert_lt(ctr_seccomp_check(&(struct ctr_seccomp_spec){.profile = "relative.json"}, &err), 0);
        cr_assert(strstr(err.msg, "absolute path"), "%s", err.msg);
        cr_assert_lt(ctr_seccomp_check(&(struct ctr_seccomp_spec){.profile = "/nonexistent/p.json"}, &err), 0);
        cr_assert(strstr(err.msg, "/nonexistent/p.json"), "%s", err.msg);
}

static char *write_profile(const char *dir, const char *name, const char *text)
{
        char *path;
        cr_assert_neq(asprintf(&path, "%s/%s", dir, name), -1);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
        return path;
}

Test(seccomp, profile_file_behaviour)
{
        need_control();
        char dir[64];
        unit_tmpdir_make(dir, sizeof(dir), "seccomp");
        /* Docker's shape: an allow-list with a default errno, archMap, and a rule that only
         * applies with a capability the container lacks. */
        char *path = write_profile(dir, "p.json",
                                   "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
                                   " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
                                   "  \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}],"
                                   " \"syscalls\": ["
                                   "  {\"names\": [\"getpid\", \"write\", \"exit_group\", \"exit\", \"mount\","
                                   "    \"no_such_call_in_libseccomp\", \"prctl\", \"seccomp\", \"brk\", \"mmap\"],"
                                   "   \"action\": \"SCMP_ACT_ALLOW\"},"
                                   "  {\"names\": [\"perf_event_open\"], \"action\": \"SCMP_ACT_ALLOW\","
                                   "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
                                   "  {\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ALLOW\","
                                   "   \"args\": [{\"index\": 0, \"value\": 9999, \"op\": \"SCMP_CMP_EQ\"}]}"
                                   " ], \"comment\": \"ignored\"}");
        int res[N_PROBES];
        probe(&(struct ctr_seccomp_spec){.profile = path, .caps = 0}, res);
        cr_assert_eq(res[P_GETPID], 0);
        cr_assert_eq(res[P_GETPPID], ENOSYS, "getppid: %d", res[P_GETPPID]);
        cr_assert_eq(res[P_PERF], ENOSYS, "the includes.caps rule applied without the capability");
        cr_assert_eq(res[P_KEYCTL], control[P_KEYCTL], "an argument-matched allow did not apply");
        cr_assert_eq(res[P_REMOUNT], control[P_REMOUNT]);
        probe(&(struct ctr_seccomp_spec){.profile = path, .caps = (ctr_capmask)1 << 21 /* CAP_SYS_ADMIN */}, res);
        cr_assert_eq(res[P_PERF], control[P_PERF]);
        /* The command line wins over the file for the syscalls it names. */
        char *deny[] = {"getpid", NULL}, *allow[] = {"getppid", NULL};
        probe(&(struct ctr_seccomp_spec){.profile = path, .allow = allow, .deny = deny}, res);
        cr_assert_eq(res[P_GETPID], EPERM);
        cr_assert_eq(res[P_GETPPID], 0);
        free(path);
        unit_tmpdir_remove(dir);
}

Test(seccomp, bad_profiles)
{
        char dir[64];
        unit_tmpdir_make(dir, sizeof(dir), "seccomp");
        const struct {
                const char *text, *msg;
        } cases[] = {
                {"{", "seccomp profile"},
                {"[]", "not a JSON object"},
                {"{\"syscalls\": []}", "defaultAction is missing"},
                {"{\"defaultAction\": \"SCMP_ACT_MAYBE\"}", "unknown action 'SCMP_ACT_MAYBE'"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/x\"}", "listenerPath"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_PDP11\"]}", "architectures[0]"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "syscalls must be an array"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\": "
                 "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 9, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                 "index must be 0..5"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\": "
                 "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}]}]}",
                 "SCMP_CMP_ABOUT"},
                {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\": "
                 "\"SCMP_ACT_NOTIFY\"}]}",
                 "SCMP_ACT_NOTIFY"},
                {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 99999}", "errnoRet"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *path = write_profile(dir, "bad.json", cases[i].text);
                struct ctr_error err = {0};
                cr_assert_lt(ctr_seccomp_check(&(struct ctr_seccomp_spec){.profile = path}, &err), 0, "accepted: %s",
                             cases[i].text);
                cr_assert(strstr(err.msg, cases[i].msg), "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
                free(path);
        }
        unit_tmpdir_remove(dir);
}
