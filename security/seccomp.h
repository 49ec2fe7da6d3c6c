/* seccomp filters for a container's processes (libseccomp): ctr's default deny-list, named
 * syscall groups that the CLI and config allow or deny on top of it, and OCI/Docker-format
 * profile files. Built and loaded by init's child and by every exec, last before execve. */
#pragma once

#include <seccomp.h>
#include <linux/filter.h>
#include <stdbool.h>

#include "../base/error.h"
#include "caps.h"

/* What the config asks for. profile: NULL or "default" (ctr's deny-list), "unconfined" (no
 * filter), or an absolute path to a JSON profile in the runtime-spec's LinuxSeccomp format
 * (Docker's "archMap" and per-rule "includes"/"excludes" are understood too). allow/deny: group
 * names ("@mount") or syscall names; they win over what the profile says for those syscalls. */
struct ctr_seccomp_spec {
        const char *profile;
        char *const *allow;
        char *const *deny;
        ctr_capmask caps; /* the container's capability set, for "includes": {"caps": [...]} */
        const void *object; /* a parsed profile (ctr_json, config.json's linux.seccomp) instead */
};

/* The errno a denied syscall returns under the default profile. */
#define CTR_SECCOMP_ERRNO 1 /* EPERM, as the capability checks the filter stands in for */

/* Names of every group, NULL-terminated (for help, docs and tests). */
const char *const *ctr_seccomp_groups(void);
/* The syscalls of one group ("@mount"), NULL-terminated; NULL when there is no such group. */
const char *const *ctr_seccomp_group(const char *name);
/* Check a group or syscall name; -EINVAL naming it and what would be valid. */
int ctr_seccomp_check_name(const char *name, struct ctr_error *err);
/* Check the whole spec as create/config validation does: names, the profile (a file must exist
 * and parse). */
int ctr_seccomp_check(const struct ctr_seccomp_spec *s, struct ctr_error *err);
/* Build the filter; *ret is NULL for "unconfined". The caller releases it with seccomp_release. */
int ctr_seccomp_build(const struct ctr_seccomp_spec *s, scmp_filter_ctx *ret, struct ctr_error *err);
/* A compiled filter: built by the parent before clone (profile files are host paths, and the
 * child should not spend its time in libseccomp), loaded by the child. Empty for unconfined. */
struct ctr_seccomp_prog {
        struct sock_filter *insns;
        unsigned short len;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* */
};
/* With a memo directory set, a filter compiled once is read back from there by its key (a
 * damaged entry is compiled again and replaced); without one, every call compiles. */
int ctr_seccomp_compile(const struct ctr_seccomp_spec *s, struct ctr_seccomp_prog *ret, struct ctr_error *err);
/* Where compiled filters are kept (the state root's run directory), or NULL for none. */
void ctr_seccomp_memo_at(const char *dir);
/* The memo key of s: SHA-256 over everything the compiled filter depends on (the policy, the
 * profile file's bytes, the capability mask, arch, the kernel's seccomp API level, libseccomp's
 * version, the ctr binary). -errno when it cannot be known (an unreadable profile file). */
int ctr_seccomp_key(const struct ctr_seccomp_spec *s, char key[65]);
void ctr_seccomp_prog_free(struct ctr_seccomp_prog *p);
/* Load into the calling thread (needs no_new_privs or CAP_SYS_ADMIN); no-op when empty. */
int ctr_seccomp_load(const struct ctr_seccomp_prog *p, struct ctr_error *err);
/* Compile and load in one go. */
int ctr_seccomp_apply(const struct ctr_seccomp_spec *s, struct ctr_error *err);
/* "default", "unconfined" or the file, plus allow/deny, as one line for info. Caller frees. */
char *ctr_seccomp_describe(const struct ctr_seccomp_spec *s);
