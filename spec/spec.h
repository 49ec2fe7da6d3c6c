/* spec/: the compiled container — what to start, whatever described it (a ctr config, `ctr run`
 * options, an OCI config.json, an exec request). Every entry point compiles its input into a
 * ctr_spec, and the one launcher (launch/) runs it; nothing downstream knows where it came from.
 * Compiling is pure, so a spec can be printed (--debug, golden tests) exactly as the child gets it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../rootfs/rootfs.h"
#include "../security/caps.h"
#include "../security/seccomp.h"

/* How the child gets to its root. */
enum ctr_spec_root {
        CTR_ROOT_NONE,   /* already there: an exec joins a running container's mount namespace */
        CTR_ROOT_PIVOT,  /* pivot_root into the planned root, the old root detached */
        CTR_ROOT_MOVE,   /* move the root onto / and chroot (OCI --no-pivot) */
        CTR_ROOT_CHROOT, /* chroot only: the caller's mount namespace is shared */
};

/* Where the process's stdio and controlling terminal come from. */
enum ctr_spec_console {
        CTR_CONSOLE_INHERIT, /* the launcher's own stdio (ctr run without --tty, OCI without terminal) */
        CTR_CONSOLE_FD,      /* a pty slave the parent opened (the monitor's console) */
        CTR_CONSOLE_SOCKET,  /* a new pty of the container's devpts, its master sent to console_fd (a socket) */
        CTR_CONSOLE_PASS,    /* a new pty of the container's devpts, its master passed to the parent */
};

struct ctr_spec_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct ctr_spec_hook {
        char *path;
        char **args, **env;
        int timeout; /* seconds, 0 = none */
};

/* A file ctr writes into the guest after the root switch: skipped when need_dir is not a
 * directory, when a non-regular file is in its place, or when the tree is read-only. */
struct ctr_spec_file {
        char *path, *need_dir, *text;
};

struct ctr_spec_process {
        char **argv;
        char **env;
        char *cwd;     /* NULL: the user's home when cwd_home, else / */
        bool cwd_home; /* no cwd asked for: the home of the user, or / when it cannot be entered */
        /* The user: looked up in the container's /etc/passwd after the root switch ("name" or
         * "uid[:gid]"), or, when NULL, uid/gid/groups as they are. */
        char *user;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        bool user_env; /* HOME and USER from the lookup, where env has none */
        struct ctr_spec_rlimit *rlimits;
        size_t n_rlimits;
        mode_t umask;
        ctr_capmask bounding, effective, permitted, inheritable, ambient;
        bool caps_if_root; /* the sets are root's: a non-root user keeps none (ctr's own configs) */
        bool no_new_privs;
        struct ctr_seccomp_prog seccomp; /* compiled; empty = none */
        char *seccomp_desc;              /* what it is, for printing */
        bool shell_status; /* an exec failure exits 127 (not found) / 126, else fail_status */
        bool is_init;      /* name it "init" in an exec failure */
        int fail_status;   /* the status a setup failure asks ctr to exit with */
        int preserve_fds;  /* fds 3 .. 3+N-1 stay open across the exec */
};

#define CTR_SPEC_MAX_JOINS 8

struct ctr_spec {
        char *what; /* "the container's init", "the exec process": named in errors */
        /* Namespaces: made by clone (never CLONE_NEWCGROUP), joined by fd (a user namespace
         * first), or all of a running process's joined through its pidfd (exec). */
        uint64_t clone_flags;
        bool new_cgroupns; /* unshared after GO, once in every cgroup */
        int join_fds[CTR_SPEC_MAX_JOINS], join_types[CTR_SPEC_MAX_JOINS];
        size_t n_joins;
        int join_pidfd, join_pidfd_types;
        int pidns_fd; /* a pid namespace the child is born in, or -1 */
        bool userns_root;    /* become root of a new user namespace after GO */
        bool root_target_fd; /* the parent passes the rootfs directory before GO (detached root) */
        bool dumpable;       /* false: not ptrace-able from inside while it holds host state */
        bool die_with_parent; /* the parent's death kills it (monitor, exec); an OCI container outlives ctr */
        bool loopback_up;
        char *hostname, *domainname;
        /* Mounts, then the root. */
        bool has_plan;
        struct ctr_mount_plan plan;
        bool hooks_step; /* after the mounts: HOOKS to the parent, which answers GO (OCI create) */
        enum ctr_spec_root root;
        char *root_path;
        unsigned long root_propagation; /* of the new / afterwards (MS_SHARED, ...), 0 = as it is */
        struct ctr_spec_file *files;
        size_t n_files;
        enum ctr_spec_console console;
        int console_fd;    /* CTR_CONSOLE_FD: the slave; CTR_CONSOLE_SOCKET: the socket */
        bool console_bind; /* CTR_CONSOLE_SOCKET: the new pty is also /dev/console */
        /* OCI create: READY, then the process waits until `start` opens the fifo, then the
         * startContainer hooks run inside, with the state the parent passed at the hooks step. */
        int fifo_fd;
        struct ctr_spec_hook *start_hooks;
        size_t n_start_hooks;
        struct ctr_spec_process process;
        /* Parent side, before GO. */
        int oom_score_adj;
        bool has_oom_score_adj;
        char **warnings; /* what the compile had to change, for the caller to print */
};

void ctr_spec_init(struct ctr_spec *s);
/* Frees what the spec owns; the fds it names are the caller's. */
void ctr_spec_free(struct ctr_spec *s);
/* One line a field, in a fixed order: what --debug shows and golden tests compare. */
void ctr_spec_print(const struct ctr_spec *s, FILE *f);
char *ctr_spec_text(const struct ctr_spec *s);
/* The same, written to fd (--debug), a header line first. */
void ctr_spec_write(const struct ctr_spec *s, int fd);
void ctr_spec_warn(struct ctr_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
