/* launch/: the one way a process is put into a container. Numbered sync steps between parent
 * and child, and one clone helper: clone3 into the cgroup (with a fallback move), v1 placement,
 * the parent's preparations, the GO barrier, the wait that rebuilds the child's error, and a kill
 * on any failure. Start, exec, OCI create and exec, and the VMM all go through ctr_launch. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"

/* Sync steps. The child's socket end is CLOEXEC: in CTR_LAUNCH_UNTIL_EXEC mode its EOF after EXEC
 * means the exec succeeded, and an EOF before EXEC that the child died in its setup. */
enum ctr_sync_step {
        CTR_SYNC_GO = 1,    /* parent -> child: placed and prepared, continue */
        CTR_SYNC_ERROR = 2, /* child -> parent: setup failed, errno + message follow */
        CTR_SYNC_FD = 3,    /* either way: a file descriptor rides along */
        CTR_SYNC_READY = 4, /* child -> parent: set up and waiting (OCI create, the VMM) */
        CTR_SYNC_HOOKS = 5, /* child -> parent: mounts done, run the create hooks, then GO */
        CTR_SYNC_EXEC = 6,  /* child -> parent: set up, exec next (an ERROR may still follow) */
};

struct ctr_sync_msg {
        int32_t step;
        int32_t errnum;
        int32_t exit_code; /* ERROR: the status ctr should exit with; GO: a value for the child */
        char op[64];
        char msg[448];
};

int ctr_sync_send(int fd, int step, const struct ctr_error *e, int exit_code, int pass_fd);
/* Returns 0 on EOF, 1 on a message, -errno; *ret_fd receives a passed fd or -1. */
int ctr_sync_recv(int fd, struct ctr_sync_msg *m, int *ret_fd);
/* Child side: report err over the socket and _exit (exit_code, or 1). */
void ctr_sync_die(int fd, const struct ctr_error *e, int exit_code) __attribute__((noreturn));
/* Child side: wait for GO, taking the fds passed before it into fds[0..cap) (-1 where none). A
 * parent that died or sent something else ends the child: there is nobody to tell. */
void ctr_sync_wait_go(int fd, struct ctr_sync_msg *ret, int *fds, size_t cap);
/* Child side: tell the parent the exec comes next (CTR_LAUNCH_UNTIL_EXEC). */
void ctr_sync_exec(int fd);
/* Parent side: the child's ERROR message as err; returns -errnum. */
int ctr_sync_error(const struct ctr_sync_msg *m, struct ctr_error *err);

/* Child side: close every fd from `from` up but those in keep (negative entries ignored), or with
 * cloexec mark them close-on-exec. Checked: a failure is an error, never a silent leak. */
int ctr_launch_close_fds(int from, const int *keep, size_t n, bool cloexec, struct ctr_error *err);

/* Reset every signal disposition and unblock all, as a fresh process expects. */
void ctr_reset_signals(void);

enum ctr_launch_until {
        CTR_LAUNCH_UNTIL_EXEC,  /* done when the child's socket closes on exec, after EXEC */
        CTR_LAUNCH_UNTIL_READY, /* done when the child sends READY; EOF before it is a death */
};

struct ctr_launch {
        const char *what;     /* "the container's init": named in errors */
        uint64_t flags;       /* CLONE_NEW*; CLONE_NEWCGROUP is not allowed here: the child unshares
                               * it after GO, once it sits in every cgroup (v1 ones included) */
        int cgroup_fd;        /* the cgroup2 leaf the child is born in, or -1 */
        const char *cgroup_path; /* the same, for the move when the kernel refuses CLONE_INTO_CGROUP */
        const char *v1_rel;   /* the child joins this cgroup in every v1 hierarchy before GO, or NULL */
        int pidns_fd;         /* a pid namespace the child is born in (exec), or -1 */
        enum ctr_launch_until until;
        /* The child: runs right after clone, with its socket end; must not return. */
        void (*child)(void *data, int sock) __attribute__((noreturn));
        void *child_data;
        /* Parent, with the child placed and waiting for GO: maps, veth, fds to pass. */
        int (*before_go)(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err);
        /* Parent, for a step other than ERROR: 0 to wait on, 1 when launched, -errno to fail.
         * fd is a passed descriptor the callback may keep (set *fd = -1 then). */
        int (*on_step)(void *data, pid_t pid, int pidfd, int sock, const struct ctr_sync_msg *m, int *fd,
                       struct ctr_error *err);
        void *data;
        bool keep_sock;          /* hand the parent's socket end back in ret->sock */
        int *ret_child_status;   /* the exit status a failed child asked for */
};

struct ctr_launched {
        pid_t pid;
        int pidfd;
        int sock; /* keep_sock only, else -1 */
};

/* Start the child and walk the sync steps to the end. On failure the child is killed and
 * reaped, and err says why (the child's own errno + message when it got that far). */
int ctr_launch(const struct ctr_launch *l, struct ctr_launched *ret, struct ctr_error *err);

/* A process's user: uid and gid, and from passwd the home, shell and name. */
struct ctr_user {
        uid_t uid;
        gid_t gid;
        char home[256];
        char shell[256];
        char name[64];
};
/* "name" or "uid[:gid]" against passwd_text (a uid need not be listed). */
int ctr_user_lookup(const char *passwd_text, const char *spec, struct ctr_user *ret, struct ctr_error *err);
/* HOME (the user's home, or /) and USER (when passwd named it) into env, where it sets none. */
void ctr_user_env(char ***env, const struct ctr_user *u);

struct ctr_spec;
struct ctr_spec_hook;
/* The one child: sets up and execs what the spec says. ctr_launch_spec fills l's child and the
 * spec's part of it (what, namespaces, the pid namespace to be born in); the caller adds the
 * cgroups and its callbacks. */
void ctr_launch_child(void *spec, int sock) __attribute__((noreturn));
void ctr_launch_spec(struct ctr_launch *l, struct ctr_spec *s);

/* Run hooks in order with state on stdin; join_pidfd >= 0 runs them in that process's
 * namespaces. A hook that fails or outlives its timeout fails the step (op: what). */
int ctr_launch_hooks(const struct ctr_spec_hook *hooks, size_t n, const char *state, int join_pidfd, const char *what,
                     struct ctr_error *err);
