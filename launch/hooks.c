/* Hooks: each a program run to its end with a state on stdin, on the host or in a process's
 * namespaces, bounded by its timeout (OCI prestart ... poststop, run from the parent or, for
 * startContainer, from the one child). */
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/util.h"
#include "../spec/spec.h"

struct hook_child {
        const struct ctr_spec_hook *h;
        int in;         /* the state, on stdin */
        int join_pidfd; /* >= 0: run in that process's namespaces */
};

static void __attribute__((noreturn)) hook_child(void *data, int sock)
{
        struct hook_child *c = data;
        struct ctr_error e = {0};
        struct ctr_sync_msg m;
        ctr_sync_wait_go(sock, &m, NULL, 0);
        if (c->join_pidfd >= 0 &&
            setns(c->join_pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
                ctr_err_sys(&e, errno, "setns", "join the container's namespaces"), ctr_sync_die(sock, &e, 126);
        if (dup2(c->in, 0) < 0)
                ctr_err_sys(&e, errno, "hook", "stdin"), ctr_sync_die(sock, &e, 126);
        ctr_reset_signals();
        char *argv0[] = {c->h->path, NULL};
        char *envp0[] = {NULL};
        ctr_sync_exec(sock);
        execve(c->h->path, c->h->args && c->h->args[0] ? c->h->args : argv0, c->h->env ? c->h->env : envp0);
        ctr_err_sys(&e, errno, "exec", "%s", c->h->path);
        ctr_sync_die(sock, &e, 127);
}

/* Run hooks in order with the state on stdin; join_pidfd >= 0 runs them in that process's
 * namespaces (createContainer). A hook that fails or outlives its timeout fails the step. */
int ctr_launch_hooks(const struct ctr_spec_hook *hooks, size_t n, const char *state, int join_pidfd, const char *what,
                     struct ctr_error *err)
{
        for (size_t i = 0; i < n; i++) {
                const struct ctr_spec_hook *h = &hooks[i];
                int in[2];
                if (pipe2(in, O_CLOEXEC) < 0)
                        return ctr_err_sys(err, errno, what, "pipe");
                struct hook_child c = {.h = h, .in = in[0], .join_pidfd = join_pidfd};
                struct ctr_launch l = {.what = "the hook", .cgroup_fd = -1, .pidns_fd = -1,
                                       .until = CTR_LAUNCH_UNTIL_EXEC, .child = hook_child, .child_data = &c};
                struct ctr_launched out;
                struct ctr_error e = {0};
                int r = ctr_launch(&l, &out, &e);
                close(in[0]);
                if (r < 0) {
                        close(in[1]);
                        return ctr_err(err, -r, what, "hook %s: %s: %s", h->path, e.op, e.msg);
                }
                ctr_write_all(in[1], state, strlen(state));
                close(in[1]);
                struct pollfd pf = {.fd = out.pidfd, .events = POLLIN};
                int pr;
                while ((pr = poll(&pf, 1, h->timeout ? h->timeout * 1000 : -1)) < 0 && errno == EINTR)
                        ;
                if (pr == 0)
                        kill(out.pid, SIGKILL);
                int st;
                while (waitpid(out.pid, &st, 0) < 0 && errno == EINTR)
                        ;
                close(out.pidfd);
                if (pr == 0)
                        return ctr_err(err, ETIMEDOUT, what, "hook %s ran longer than its %d s timeout", h->path, h->timeout);
                if (!WIFEXITED(st) || WEXITSTATUS(st))
                        return ctr_err(err, EIO, what, "hook %s failed (%s %d)", h->path,
                                       WIFEXITED(st) ? "exit status" : "signal",
                                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
        return 0;
}

