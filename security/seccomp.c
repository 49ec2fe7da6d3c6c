/* seccomp policy: the syscall groups, ctr's default deny-list, JSON profile files, and building
 * the libseccomp filter for x86_64 with the i386 ABI under the same rules and x32 refused. */
#define _GNU_SOURCE
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/memo.h"
#include "../base/util.h"

struct group {
        const char *name;
        const char *const *calls;
};

#define G(n, ...) {n, (const char *const[]){__VA_ARGS__, NULL}}
/* Named as systemd's SystemCallFilter= sets where one exists, so the names mean the same. */
static const struct group groups[] = {
        G("@clock", "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64", "settimeofday",
          "stime"),
        G("@cpu-emulation", "modify_ldt", "vm86", "vm86old"),
        G("@debug", "lookup_dcookie", "perf_event_open", "pidfd_getfd", "process_vm_readv", "process_vm_writev",
          "ptrace"),
        G("@keyring", "add_key", "keyctl", "request_key"),
        G("@module", "delete_module", "finit_module", "init_module"),
        G("@mount", "chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr", "move_mount",
          "open_tree", "pivot_root", "umount", "umount2"),
        G("@obsolete", "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime", "get_kernel_syms",
          "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil", "putpmsg", "query_module", "security",
          "sgetmask", "ssetmask", "stty", "sysfs", "tuxcall", "ulimit", "uselib", "ustat", "vserver"),
        G("@raw-io", "ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write"),
        G("@reboot", "kexec_file_load", "kexec_load", "reboot"),
        G("@swap", "swapoff", "swapon"),
        /* Calls that only a privileged process may make, as systemd's set (less @chown/@setuid,
         * which every distribution's login path needs and capabilities already govern). bpf is in
         * systemd's set too, and needs CAP_BPF or CAP_SYS_ADMIN. */
        G("@privileged", "_sysctl", "acct", "bpf", "capset", "chroot", "fanotify_init", "open_by_handle_at",
          "quotactl", "quotactl_fd", "setdomainname", "sethostname", "vhangup", "@clock", "@module", "@raw-io",
          "@reboot", "@swap"),
};
#undef G

/* ctr's default profile: what nothing in a system container needs and the kernel does not
 * confine to the container on its own. Capabilities already refuse most of it; the filter is the
 * second wall, and it also closes what capabilities kept (CAP_DAC_READ_SEARCH makes
 * open_by_handle_at a way out of the rootfs; CAP_SYS_ADMIN allows bpf and keyrings). */
static const char *const default_deny[] = {
        "@module", "@raw-io", "@swap", "@keyring", "@obsolete", "kexec_load", "kexec_file_load", "settimeofday",
        "clock_settime", "clock_settime64", "stime", "acct", "bpf", "userfaultfd", "perf_event_open",
        "open_by_handle_at", "lookup_dcookie", "syslog", "vm86", "vm86old", "fspick", NULL,
};

const char *const *ctr_seccomp_groups(void)
{
        static const char *names[ARRAY_SIZE(groups) + 1];
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
                names[i] = groups[i].name;
        return names;
}

const char *const *ctr_seccomp_group(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
                if (!strcmp(groups[i].name, name))
                        return groups[i].calls;
        return NULL;
}

/* A set of syscall names (groups expanded), small and linear: profiles have a few hundred. */
struct nameset {
        char **v;
        size_t n, cap;
};

static void nameset_free(struct nameset *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (struct nameset){0};
}

static bool nameset_has(const struct nameset *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->v[i], name))
                        return true;
        return false;
}

static void nameset_add(struct nameset *s, const char *name)
{
        if (nameset_has(s, name))
                return;
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 64;
                s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
        }
        s->v[s->n++] = xstrdup(name);
}

static void nameset_del(struct nameset *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->v[i], name)) {
                        free(s->v[i]);
                        s->v[i] = s->v[--s->n];
                        return;
                }
}

/* Expand a group (recursively) or take a syscall name as is; add or remove it. */
static void nameset_apply(struct nameset *s, const char *name, bool add)
{
        const char *const *g = name[0] == '@' ? ctr_seccomp_group(name) : NULL;
        if (g) {
                for (; *g; g++)
                        nameset_apply(s, *g, add);
                return;
        }
        if (add)
                nameset_add(s, name);
        else
                nameset_del(s, name);
}

/* libseccomp knows a name if any architecture has it (pseudo-numbers stand for the others). */
static bool syscall_known(const char *name)
{
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

int ctr_seccomp_check_name(const char *name, struct ctr_error *err)
{
        if (name[0] == '@') {
                if (ctr_seccomp_group(name))
                        return 0;
                _cleanup_free_ char *all = NULL;
                for (const char *const *g = ctr_seccomp_groups(); *g; g++) {
                        char *n = xasprintf("%s%s%s", all ? all : "", all ? " " : "", *g);
                        free(all);
                        all = n;
                }
                return ctr_err(err, EINVAL, "seccomp", "'%s' is not a syscall group (groups: %s)", name, all);
        }
        if (!syscall_known(name))
                return ctr_err(err, EINVAL, "seccomp", "'%s' is neither a syscall nor a group like @mount", name);
        return 0;
}

/* --- profile files (runtime-spec LinuxSeccomp, with Docker's extensions) ------------------- */

struct profile {
        const ctr_json *root;
        ctr_json *owned; /* root, when parsed from a file here */
        uint32_t default_action;
        uint32_t bad_arch_action;
        bool log, ssb;
        uint32_t arches[8];
        size_t n_arches;
};

static int parse_action(const ctr_json *name, const ctr_json *errno_ret, uint32_t dflt_errno, uint32_t *ret,
                        const char *where, struct ctr_error *err)
{
        const char *a = ctr_json_type(name) == CTR_JSON_STRING ? ctr_json_string(name) : NULL;
        uint32_t e = dflt_errno;
        if (errno_ret) {
                if (!ctr_json_is_integer(errno_ret) || ctr_json_int(errno_ret) < 0 || ctr_json_int(errno_ret) > 4095)
                        return ctr_err(err, EINVAL, "seccomp profile", "%s: errnoRet must be a number 0..4095", where);
                e = (uint32_t)ctr_json_int(errno_ret);
        }
        if (!a)
                return ctr_err(err, EINVAL, "seccomp profile", "%s: the action must be a string", where);
        if (!strcmp(a, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (!strcmp(a, "SCMP_ACT_ERRNO"))
                *ret = SCMP_ACT_ERRNO(e);
        else if (!strcmp(a, "SCMP_ACT_KILL") || !strcmp(a, "SCMP_ACT_KILL_THREAD"))
                *ret = SCMP_ACT_KILL_THREAD;
        else if (!strcmp(a, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (!strcmp(a, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (!strcmp(a, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE(e);
        else if (!strcmp(a, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else if (!strcmp(a, "SCMP_ACT_NOTIFY"))
                return ctr_err(err, EINVAL, "seccomp profile", "%s: SCMP_ACT_NOTIFY needs a listener, which ctr does not run",
                               where);
        else
                return ctr_err(err, EINVAL, "seccomp profile", "%s: unknown action '%s'", where, a);
        return 0;
}

static int parse_arch(const char *name, uint32_t *ret)
{
        static const struct {
                const char *name;
                uint32_t token;
        } arches[] = {{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64}, {"SCMP_ARCH_X86", SCMP_ARCH_X86},
                      {"SCMP_ARCH_X32", SCMP_ARCH_X32},       {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
                      {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},       {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
                      {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},   {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64}};
        for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
                if (!strcmp(arches[i].name, name)) {
                        *ret = arches[i].token;
                        return 0;
                }
        return -EINVAL;
}

/* Only the arches this machine can run matter: x86_64 and its i386/x32 ABIs. Others in a
 * profile written for many machines are skipped. */
static void profile_add_arch(struct profile *p, uint32_t a)
{
        if (a != SCMP_ARCH_X86_64 && a != SCMP_ARCH_X86 && a != SCMP_ARCH_X32)
                return;
        for (size_t i = 0; i < p->n_arches; i++)
                if (p->arches[i] == a)
                        return;
        if (p->n_arches < ARRAY_SIZE(p->arches))
                p->arches[p->n_arches++] = a;
}

static int read_profile(const struct profile *p, const char *path, struct ctr_error *err);

static int load_profile(const char *path, struct profile *p, struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r = ctr_read_file(path, 4 << 20, &text, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "seccomp profile", "read %s", path);
        if (ctr_json_parse(text, &p->owned, err) < 0) {
                ctr_err_prefix(err, "seccomp profile %s", path);
                return -EINVAL;
        }
        p->root = p->owned;
        return read_profile(p, path, err);
}

/* The profile's own fields, from an object parsed already (a file, or config.json's
 * linux.seccomp); path names it in messages. */
static int read_profile(const struct profile *cp, const char *path, struct ctr_error *err)
{
        struct profile *p = (struct profile *)cp;
        if (ctr_json_type(p->root) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "seccomp profile", "%s: not a JSON object", path);
        const ctr_json *da = ctr_json_get(p->root, "defaultAction");
        if (!da)
                return ctr_err(err, EINVAL, "seccomp profile", "%s: defaultAction is missing", path);
        if (parse_action(da, ctr_json_get(p->root, "defaultErrnoRet"), EPERM, &p->default_action, "defaultAction",
                         err) < 0)
                return -EINVAL;
        if (ctr_json_get(p->root, "listenerPath"))
                return ctr_err(err, EINVAL, "seccomp profile", "%s: listenerPath (seccomp notify) is not supported", path);
        const ctr_json *arches = ctr_json_get(p->root, "architectures");
        for (size_t i = 0; arches && i < ctr_json_len(arches); i++) {
                uint32_t a;
                const ctr_json *v = ctr_json_at(arches, i);
                if (ctr_json_type(v) != CTR_JSON_STRING || parse_arch(ctr_json_string(v), &a) < 0)
                        return ctr_err(err, EINVAL, "seccomp profile", "%s: architectures[%zu] is not a known SCMP_ARCH_ name",
                                       path, i);
                profile_add_arch(p, a);
        }
        /* Docker's archMap: the native arch brings its sub-architectures. */
        const ctr_json *map = ctr_json_get(p->root, "archMap");
        for (size_t i = 0; map && i < ctr_json_len(map); i++) {
                const ctr_json *e = ctr_json_at(map, i);
                const ctr_json *a = ctr_json_get(e, "architecture");
                uint32_t t;
                if (!a || ctr_json_type(a) != CTR_JSON_STRING || parse_arch(ctr_json_string(a), &t) < 0 ||
                    t != SCMP_ARCH_X86_64)
                        continue;
                profile_add_arch(p, t);
                const ctr_json *subs = ctr_json_get(e, "subArchitectures");
                for (size_t j = 0; subs && j < ctr_json_len(subs); j++)
                        if (ctr_json_type(ctr_json_at(subs, j)) == CTR_JSON_STRING &&
                            parse_arch(ctr_json_string(ctr_json_at(subs, j)), &t) == 0)
                                profile_add_arch(p, t);
        }
        const ctr_json *flags = ctr_json_get(p->root, "flags");
        for (size_t i = 0; flags && i < ctr_json_len(flags); i++) {
                const char *f = ctr_json_type(ctr_json_at(flags, i)) == CTR_JSON_STRING
                                        ? ctr_json_string(ctr_json_at(flags, i))
                                        : "";
                if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
                        p->log = true;
                else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        p->ssb = true;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
                        return ctr_err(err, EINVAL, "seccomp profile", "%s: unknown flag '%s'", path, f);
        }
        const ctr_json *sc = ctr_json_get(p->root, "syscalls");
        if (sc && ctr_json_type(sc) != CTR_JSON_ARRAY)
                return ctr_err(err, EINVAL, "seccomp profile", "%s: syscalls must be an array", path);
        return 0;
}

static void profile_free(struct profile *p)
{
        ctr_json_free(p->owned);
        p->owned = NULL;
        p->root = NULL;
}

/* Docker's per-rule conditions on capabilities, architectures and kernel version. */
static bool cond_met(const ctr_json *c, ctr_capmask caps, bool include)
{
        if (!c)
                return true;
        const ctr_json *cl = ctr_json_get(c, "caps");
        for (size_t i = 0; cl && i < ctr_json_len(cl); i++) {
                ctr_capmask m = 0;
                struct ctr_error e;
                const ctr_json *v = ctr_json_at(cl, i);
                bool has = ctr_json_type(v) == CTR_JSON_STRING && ctr_caps_parse(ctr_json_string(v), &m, &e) == 0 &&
                           (caps & m) == m;
                if (include ? !has : has)
                        return false;
        }
        const ctr_json *al = ctr_json_get(c, "arches");
        if (al && ctr_json_len(al)) {
                bool listed = false;
                for (size_t i = 0; i < ctr_json_len(al); i++) {
                        const ctr_json *v = ctr_json_at(al, i);
                        const char *a = ctr_json_type(v) == CTR_JSON_STRING ? ctr_json_string(v) : "";
                        listed |= !strcmp(a, "amd64") || !strcmp(a, "x86_64") || !strcmp(a, "x86") ||
                                  !strcmp(a, "x32") || !strcmp(a, "SCMP_ARCH_X86_64");
                }
                if (include ? !listed : listed)
                        return false;
        }
        const ctr_json *mk = ctr_json_get(c, "minKernel");
        if (mk && ctr_json_type(mk) == CTR_JSON_STRING) {
                struct utsname u;
                unsigned want_maj = 0, want_min = 0, maj = 0, min = 0;
                if (uname(&u) == 0 && sscanf(ctr_json_string(mk), "%u.%u", &want_maj, &want_min) >= 1 &&
                    sscanf(u.release, "%u.%u", &maj, &min) == 2) {
                        bool newer = maj > want_maj || (maj == want_maj && min >= want_min);
                        if (include ? !newer : newer)
                                return false;
                }
        }
        return true;
}

static int parse_cmp(const ctr_json *a, size_t i, const char *where, struct scmp_arg_cmp *ret, struct ctr_error *err)
{
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
                   {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
                   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
        const ctr_json *idx = ctr_json_get(a, "index"), *val = ctr_json_get(a, "value"),
                       *val2 = ctr_json_get(a, "valueTwo"), *op = ctr_json_get(a, "op");
        if (!idx || !ctr_json_is_integer(idx) || ctr_json_int(idx) < 0 || ctr_json_int(idx) > 5)
                return ctr_err(err, EINVAL, "seccomp profile", "%s: args[%zu].index must be 0..5", where, i);
        if (!val || !ctr_json_is_integer(val) || (val2 && !ctr_json_is_integer(val2)))
                return ctr_err(err, EINVAL, "seccomp profile", "%s: args[%zu].value must be a number", where, i);
        *ret = (struct scmp_arg_cmp){.arg = (unsigned)ctr_json_int(idx),
                                     .datum_a = (scmp_datum_t)ctr_json_int(val),
                                     .datum_b = val2 ? (scmp_datum_t)ctr_json_int(val2) : 0};
        const char *o = op && ctr_json_type(op) == CTR_JSON_STRING ? ctr_json_string(op) : "";
        for (size_t k = 0; k < ARRAY_SIZE(ops); k++)
                if (!strcmp(ops[k].name, o)) {
                        ret->op = ops[k].op;
                        return 0;
                }
        return ctr_err(err, EINVAL, "seccomp profile", "%s: args[%zu].op '%s' is not an SCMP_CMP_ operator", where, i, o);
}

/* Add one rule, tolerating what a portable profile legitimately contains: names this libseccomp
 * or this architecture lacks, and rules that restate the default action. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n, const struct scmp_arg_cmp *cmp,
                    struct ctr_error *err)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0;
        int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
        if (r == -EACCES || r == -EDOM || r == -EOPNOTSUPP)
                return 0;
        if (r < 0)
                return ctr_err_sys(err, -r, "seccomp", "add the rule for %s", name);
        return 0;
}

static int add_profile_rules(scmp_filter_ctx ctx, const struct profile *p, const struct ctr_seccomp_spec *s,
                             const struct nameset *overridden, struct ctr_error *err)
{
        const ctr_json *sc = ctr_json_get(p->root, "syscalls");
        for (size_t i = 0; sc && i < ctr_json_len(sc); i++) {
                const ctr_json *rule = ctr_json_at(sc, i);
                char where[48];
                snprintf(where, sizeof(where), "syscalls[%zu]", i);
                if (ctr_json_type(rule) != CTR_JSON_OBJECT)
                        return ctr_err(err, EINVAL, "seccomp profile", "%s must be an object", where);
                if (!cond_met(ctr_json_get(rule, "includes"), s->caps, true) ||
                    !cond_met(ctr_json_get(rule, "excludes"), s->caps, false))
                        continue;
                uint32_t action;
                if (parse_action(ctr_json_get(rule, "action"), ctr_json_get(rule, "errnoRet"), EPERM, &action, where,
                                 err) < 0)
                        return -EINVAL;
                const ctr_json *args = ctr_json_get(rule, "args");
                struct scmp_arg_cmp cmp[6];
                size_t n = args ? ctr_json_len(args) : 0;
                if (n > ARRAY_SIZE(cmp))
                        return ctr_err(err, EINVAL, "seccomp profile", "%s: more than 6 args", where);
                for (size_t k = 0; k < n; k++)
                        if (parse_cmp(ctr_json_at(args, k), k, where, &cmp[k], err) < 0)
                                return -EINVAL;
                const ctr_json *names = ctr_json_get(rule, "names");
                if (!names) /* runtime-spec 1.0.0-rc's single "name" */
                        names = ctr_json_get(rule, "name");
                size_t nn = !names ? 0 : ctr_json_type(names) == CTR_JSON_ARRAY ? ctr_json_len(names) : 1;
                for (size_t k = 0; k < nn; k++) {
                        const ctr_json *v = ctr_json_type(names) == CTR_JSON_ARRAY ? ctr_json_at(names, k) : names;
                        if (ctr_json_type(v) != CTR_JSON_STRING)
                                return ctr_err(err, EINVAL, "seccomp profile", "%s: names must be strings", where);
                        if (nameset_has(overridden, ctr_json_string(v)))
                                continue;
                        /* libseccomp ANDs a rule's comparisons and takes one per argument;
                         * profiles that list several for one argument mean any of them (as
                         * runc reads them): one rule each. */
                        bool same_arg = false;
                        for (size_t x = 0; x < n; x++)
                                for (size_t y = x + 1; y < n; y++)
                                        same_arg |= cmp[x].arg == cmp[y].arg;
                        if (same_arg) {
                                for (size_t x = 0; x < n; x++)
                                        if (add_rule(ctx, action, ctr_json_string(v), 1, &cmp[x], err) < 0)
                                                return -EINVAL;
                        } else if (add_rule(ctx, action, ctr_json_string(v), (unsigned)n, cmp, err) < 0)
                                return -EINVAL;
                }
        }
        return 0;
}

/* --- building ------------------------------------------------------------------------------- */

static bool is_unconfined(const char *profile)
{
        return profile && !strcmp(profile, "unconfined");
}

static bool is_default(const char *profile)
{
        return !profile || !*profile || !strcmp(profile, "default");
}

int ctr_seccomp_check(const struct ctr_seccomp_spec *s, struct ctr_error *err)
{
        for (char *const *p = s->allow; p && *p; p++)
                if (ctr_seccomp_check_name(*p, err) < 0)
                        return -EINVAL;
        for (char *const *p = s->deny; p && *p; p++)
                if (ctr_seccomp_check_name(*p, err) < 0)
                        return -EINVAL;
        if (is_default(s->profile))
                return 0;
        /* Under "unconfined" the lists are kept, unused, for when a profile comes back. */
        if (is_unconfined(s->profile))
                return 0;
        if (s->profile[0] != '/')
                return ctr_err(err, EINVAL, "seccomp", "profile '%s' is not default, unconfined or an absolute path to a file",
                               s->profile);
        struct profile p = {0};
        int r = load_profile(s->profile, &p, err);
        if (r == 0) {
                /* Build once to catch bad rules now rather than at start. */
                scmp_filter_ctx ctx = NULL;
                r = ctr_seccomp_build(s, &ctx, err);
                seccomp_release(ctx);
        }
        profile_free(&p);
        return r;
}

static int set_arches(scmp_filter_ctx ctx, const uint32_t *arches, size_t n, struct ctr_error *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = seccomp_arch_add(ctx, arches[i]);
                if (r < 0 && r != -EEXIST)
                        return ctr_err_sys(err, -r, "seccomp", "add an architecture");
        }
        return 0;
}

static int build_default(scmp_filter_ctx *ret, const struct ctr_seccomp_spec *s, struct ctr_error *err)
{
        struct nameset deny = {0};
        for (const char *const *p = default_deny; *p; p++)
                nameset_apply(&deny, *p, true);
        for (char *const *p = s->allow; p && *p; p++)
                nameset_apply(&deny, *p, false);
        for (char *const *p = s->deny; p && *p; p++)
                nameset_apply(&deny, *p, true);

        /* i386 programs get the same rules (libseccomp maps each name per ABI); x32 calls, which a
         * filter written for x86_64 numbers would misread, fail as if the kernel lacked x32. */
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = -ENOMEM;
        if (!ctx) {
                r = ctr_err(err, ENOMEM, "seccomp", "initialise the filter");
                goto out;
        }
        static const uint32_t arches[] = {SCMP_ARCH_X86};
        if ((r = set_arches(ctx, arches, ARRAY_SIZE(arches), err)) < 0)
                goto out;
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS))) < 0) {
                r = ctr_err_sys(err, -r, "seccomp", "set the action for foreign ABIs");
                goto out;
        }
        for (size_t i = 0; i < deny.n; i++)
                if ((r = add_rule(ctx, SCMP_ACT_ERRNO(CTR_SECCOMP_ERRNO), deny.v[i], 0, NULL, err)) < 0)
                        goto out;
        /* A superblock remount (MS_REMOUNT without MS_BIND) would turn the read-only /sys and
         * /proc/sys the container was given into writable ones; per-mount bind remounts, which
         * systemd's sandboxing uses, stay allowed, and cannot lift the superblock's read-only flag. */
        if (!nameset_has(&deny, "mount")) {
                struct scmp_arg_cmp c = SCMP_A3(SCMP_CMP_MASKED_EQ, MS_REMOUNT | MS_BIND, MS_REMOUNT);
                bool allowed = false;
                for (char *const *p = s->allow; p && *p; p++)
                        allowed |= !strcmp(*p, "@mount") || !strcmp(*p, "mount");
                if (!allowed && (r = add_rule(ctx, SCMP_ACT_ERRNO(CTR_SECCOMP_ERRNO), "mount", 1, &c, err)) < 0)
                        goto out;
        }
        *ret = TAKE_PTR(ctx);
        r = 0;
out:
        seccomp_release(ctx);
        nameset_free(&deny);
        return r;
}

static int build_file(scmp_filter_ctx *ret, const struct ctr_seccomp_spec *s, struct ctr_error *err)
{
        struct profile p = {0};
        struct nameset overridden = {0};
        scmp_filter_ctx ctx = NULL;
        int r;
        if (s->object) {
                p.root = s->object;
                r = read_profile(&p, "linux.seccomp", err);
        } else
                r = load_profile(s->profile, &p, err);
        if (r < 0)
                goto out;
        for (char *const *a = s->allow; a && *a; a++)
                nameset_apply(&overridden, *a, true);
        for (char *const *a = s->deny; a && *a; a++)
                nameset_apply(&overridden, *a, true);
        if (!(ctx = seccomp_init(p.default_action))) {
                r = ctr_err(err, ENOMEM, "seccomp", "initialise the filter");
                goto out;
        }
        if (p.n_arches) {
                /* The profile names its ABIs: the native one is implied; any other is refused. */
                if ((r = set_arches(ctx, p.arches, p.n_arches, err)) < 0)
                        goto out;
        }
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS))) < 0 ||
            (p.log && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0) ||
            (p.ssb && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0)) {
                r = ctr_err_sys(err, -r, "seccomp", "set filter attributes");
                goto out;
        }
        if ((r = add_profile_rules(ctx, &p, s, &overridden, err)) < 0)
                goto out;
        struct nameset list = {0};
        for (char *const *a = s->allow; a && *a; a++)
                nameset_apply(&list, *a, true);
        for (size_t i = 0; i < list.n && r == 0; i++)
                r = add_rule(ctx, SCMP_ACT_ALLOW, list.v[i], 0, NULL, err);
        nameset_free(&list);
        for (char *const *a = s->deny; a && *a; a++)
                nameset_apply(&list, *a, true);
        for (size_t i = 0; i < list.n && r == 0; i++)
                r = add_rule(ctx, SCMP_ACT_ERRNO(CTR_SECCOMP_ERRNO), list.v[i], 0, NULL, err);
        nameset_free(&list);
        if (r < 0)
                goto out;
        *ret = TAKE_PTR(ctx);
out:
        seccomp_release(ctx);
        nameset_free(&overridden);
        profile_free(&p);
        return r;
}

int ctr_seccomp_build(const struct ctr_seccomp_spec *s, scmp_filter_ctx *ret, struct ctr_error *err)
{
        *ret = NULL;
        if (s->object)
                return build_file(ret, s, err);
        if (is_unconfined(s->profile))
                return 0;
        if (is_default(s->profile))
                return build_default(ret, s, err);
        return build_file(ret, s, err);
}

static int compile_now(const struct ctr_seccomp_spec *s, struct ctr_seccomp_prog *ret, struct ctr_error *err)
{
        scmp_filter_ctx ctx = NULL;
        *ret = (struct ctr_seccomp_prog){0};
        int r = ctr_seccomp_build(s, &ctx, err);
        if (r < 0 || !ctx)
                return r;
        uint32_t log = 0, ssb = 0;
        seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &log);
        seccomp_attr_get(ctx, SCMP_FLTATR_CTL_SSB, &ssb);
        /* libseccomp 2.5 exports only to an fd. */
        _cleanup_close_ int fd = memfd_create("ctr-seccomp", MFD_CLOEXEC);
        if (fd < 0) {
                seccomp_release(ctx);
                return ctr_err_sys(err, errno, "seccomp", "memfd_create");
        }
        r = seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        if (r < 0)
                return ctr_err_sys(err, -r, "seccomp", "compile the filter");
        off_t size = lseek(fd, 0, SEEK_CUR);
        if (size <= 0 || size % sizeof(struct sock_filter) || size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return ctr_err(err, E2BIG, "seccomp", "the compiled filter has %lld bytes", (long long)size);
        ret->insns = xrealloc(NULL, (size_t)size);
        if (pread(fd, ret->insns, (size_t)size, 0) != size) {
                ctr_seccomp_prog_free(ret);
                return ctr_err_sys(err, EIO, "seccomp", "read the compiled filter");
        }
        ret->len = (unsigned short)(size / sizeof(struct sock_filter));
        ret->flags = (log ? SECCOMP_FILTER_FLAG_LOG : 0) | (ssb ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
        return 0;
}

/* --- the memo of compiled filters --------------------------------------------------------- */

static char *memo_dir;

void ctr_seccomp_memo_at(const char *dir)
{
        free(memo_dir);
        memo_dir = dir ? xstrdup(dir) : NULL;
}

static void hash_json(struct ctr_sha256 *h, const ctr_json *v)
{
        unsigned char t = (unsigned char)ctr_json_type(v);
        ctr_sha256_update(h, &t, 1);
        switch (ctr_json_type(v)) {
        case CTR_JSON_OBJECT:
        case CTR_JSON_ARRAY: {
                uint64_t n = ctr_json_len(v);
                ctr_sha256_update(h, &n, sizeof(n));
                for (size_t i = 0; i < n; i++) {
                        if (ctr_json_type(v) == CTR_JSON_OBJECT)
                                ctr_sha256_str(h, ctr_json_key(v, i));
                        hash_json(h, ctr_json_at(v, i));
                }
                break;
        }
        case CTR_JSON_STRING: ctr_sha256_str(h, ctr_json_string(v)); break;
        case CTR_JSON_NUMBER: {
                int64_t i = ctr_json_is_integer(v) ? ctr_json_int(v) : 0;
                double d = ctr_json_is_integer(v) ? 0 : ctr_json_double(v);
                ctr_sha256_update(h, &i, sizeof(i));
                ctr_sha256_update(h, &d, sizeof(d));
                break;
        }
        case CTR_JSON_BOOL: {
                unsigned char b = ctr_json_bool(v);
                ctr_sha256_update(h, &b, 1);
                break;
        }
        case CTR_JSON_NULL: break;
        }
}

static void hash_list(struct ctr_sha256 *h, char *const *v)
{
        uint64_t n = strv_len(v);
        ctr_sha256_update(h, &n, sizeof(n));
        for (size_t i = 0; i < n; i++)
                ctr_sha256_str(h, v[i]);
}

/* Everything the compiled filter depends on: the policy (profile name, the file's bytes or the
 * parsed object, allow and deny, the capability mask), this machine (arch, the kernel's seccomp
 * API level as libseccomp sees it) and the code that compiles it (libseccomp's version and this
 * very ctr binary, by size and mtime). -errno when the file cannot be read: then no memo. */
int ctr_seccomp_key(const struct ctr_seccomp_spec *s, char key[65])
{
        struct ctr_sha256 h;
        ctr_sha256_init(&h);
        ctr_sha256_str(&h, "ctr seccomp memo 1");
        const struct scmp_version *lv = seccomp_version();
        uint32_t facts[4] = {lv ? lv->major : 0, lv ? lv->minor : 0, lv ? lv->micro : 0, seccomp_api_get()};
        ctr_sha256_update(&h, facts, sizeof(facts));
        struct utsname u;
        ctr_sha256_str(&h, uname(&u) == 0 ? u.machine : "?");
        char exe[4096];
        struct stat st = {0};
        if (ctr_self_exe(exe, sizeof(exe)) <= 0 || stat(exe, &st) < 0)
                return -ENOENT;
        int64_t id[4] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (int64_t)st.st_ino};
        ctr_sha256_update(&h, id, sizeof(id));
        ctr_sha256_str(&h, s->profile);
        hash_list(&h, s->allow);
        hash_list(&h, s->deny);
        uint64_t caps = s->caps;
        ctr_sha256_update(&h, &caps, sizeof(caps));
        unsigned char has_object = s->object != NULL;
        ctr_sha256_update(&h, &has_object, 1);
        if (s->object)
                hash_json(&h, s->object);
        else if (!is_default(s->profile) && !is_unconfined(s->profile)) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = ctr_read_file(s->profile, 4 << 20, &text, &len);
                if (r < 0)
                        return r;
                ctr_sha256_update(&h, text, len);
        }
        ctr_sha256_final_hex(&h, key);
        return 0;
}

/* The memo's payload: flags and length as two 32-bit words, then the instructions. */
struct memo_head {
        uint32_t flags, len;
};

static int memo_read(const char *key, struct ctr_seccomp_prog *ret)
{
        _cleanup_free_ void *data = NULL;
        size_t len = 0;
        size_t max = sizeof(struct memo_head) + BPF_MAXINSNS * sizeof(struct sock_filter);
        int r = ctr_memo_get(memo_dir, "seccomp", key, max, &data, &len);
        if (r < 0)
                return r;
        struct memo_head mh;
        if (len < sizeof(mh))
                return -EBADMSG;
        memcpy(&mh, data, sizeof(mh));
        /* The shape, checked as if the bytes came from anywhere. */
        if (!mh.len || mh.len > BPF_MAXINSNS || len != sizeof(mh) + mh.len * sizeof(struct sock_filter) ||
            (mh.flags & ~(unsigned)(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)))
                return -EBADMSG;
        struct sock_filter *insns = xrealloc(NULL, mh.len * sizeof(*insns));
        memcpy(insns, (char *)data + sizeof(mh), mh.len * sizeof(*insns));
        /* A classic BPF program ends in a return; a jump past the end would be refused by the
         * kernel anyway, but a memo that is not a whole program is not one of ours. */
        if (BPF_CLASS(insns[mh.len - 1].code) != BPF_RET) {
                free(insns);
                return -EBADMSG;
        }
        *ret = (struct ctr_seccomp_prog){.insns = insns, .len = (unsigned short)mh.len, .flags = mh.flags};
        return 0;
}

static void memo_write(const char *key, const struct ctr_seccomp_prog *p)
{
        size_t n = sizeof(struct memo_head) + p->len * sizeof(struct sock_filter);
        _cleanup_free_ char *buf = xrealloc(NULL, n);
        struct memo_head mh = {p->flags, p->len};
        memcpy(buf, &mh, sizeof(mh));
        memcpy(buf + sizeof(mh), p->insns, p->len * sizeof(struct sock_filter));
        /* A memo that cannot be written costs the next start a compile, nothing else. */
        (void)ctr_memo_put(memo_dir, "seccomp", key, buf, n);
}

int ctr_seccomp_compile(const struct ctr_seccomp_spec *s, struct ctr_seccomp_prog *ret, struct ctr_error *err)
{
        *ret = (struct ctr_seccomp_prog){0};
        char key[65];
        if (!memo_dir || (!s->object && is_unconfined(s->profile)) || ctr_seccomp_key(s, key) < 0)
                return compile_now(s, ret, err);
        if (memo_read(key, ret) == 0)
                return 0;
        int r = compile_now(s, ret, err);
        if (r == 0 && ret->len)
                memo_write(key, ret);
        return r;
}

void ctr_seccomp_prog_free(struct ctr_seccomp_prog *p)
{
        free(p->insns);
        *p = (struct ctr_seccomp_prog){0};
}

int ctr_seccomp_load(const struct ctr_seccomp_prog *p, struct ctr_error *err)
{
        if (!p->len)
                return 0;
        struct sock_fprog fp = {.len = p->len, .filter = p->insns};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &fp) < 0)
                return ctr_err_sys(err, errno, "seccomp", "load the filter");
        return 0;
}

int ctr_seccomp_apply(const struct ctr_seccomp_spec *s, struct ctr_error *err)
{
        struct ctr_seccomp_prog p;
        int r = ctr_seccomp_compile(s, &p, err);
        if (r < 0)
                return r;
        r = ctr_seccomp_load(&p, err);
        ctr_seccomp_prog_free(&p);
        return r;
}

char *ctr_seccomp_describe(const struct ctr_seccomp_spec *s)
{
        _cleanup_free_ char *allow = strv_join(s->allow, ","), *deny = strv_join(s->deny, ",");
        return xasprintf("%s%s%s%s%s", is_default(s->profile) ? "default" : s->profile, allow && *allow ? " allow=" : "",
                         allow && *allow ? allow : "", deny && *deny ? " deny=" : "", deny && *deny ? deny : "");
}
