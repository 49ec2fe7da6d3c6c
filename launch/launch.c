/* The one launcher: the sync protocol between parent and child and the one clone helper every
 * entry point uses (start, exec, OCI create and exec, the VMM). */
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/util.h"
#include "../cgroups/cgroups.h"

int ctr_sync_send(int fd, int step, const struct ctr_error *e, int exit_code, int pass_fd)
{
        struct ctr_sync_msg m = {.step = step, .exit_code = exit_code};
        if (e) {
                m.errnum = e->errnum;
                memcpy(m.op, e->op, sizeof(m.op));
                memcpy(m.msg, e->msg, sizeof(m.msg));
        }
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pass_fd >= 0) {
                memset(&u, 0, sizeof(u));
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n;
        while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        return n == sizeof(m) ? 0 : -EIO;
}

int ctr_sync_recv(int fd, struct ctr_sync_msg *m, int *ret_fd)
{
        struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        ssize_t n;
        if (ret_fd)
                *ret_fd = -1;
        while ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return errno == ECONNRESET ? 0 : -errno;
        if (n == 0)
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int got;
                        memcpy(&got, CMSG_DATA(c), sizeof(int));
                        if (ret_fd)
                                *ret_fd = got;
                        else
                                close(got);
                }
        if (n != sizeof(*m))
                return -EPROTO;
        m->op[sizeof(m->op) - 1] = 0;
        m->msg[sizeof(m->msg) - 1] = 0;
        return 1;
}

void ctr_sync_die(int fd, const struct ctr_error *e, int exit_code)
{
        ctr_sync_send(fd, CTR_SYNC_ERROR, e, exit_code, -1);
        _exit(exit_code ? exit_code : 1);
}

void ctr_sync_wait_go(int fd, struct ctr_sync_msg *ret, int *fds, size_t cap)
{
        size_t n = 0;
        for (size_t i = 0; i < cap; i++)
                fds[i] = -1;
        for (;;) {
                int passed = -1;
                int r = ctr_sync_recv(fd, ret, &passed);
                if (r <= 0)
                        _exit(1);
                if (ret->step == CTR_SYNC_GO)
                        return;
                if (ret->step != CTR_SYNC_FD || n == cap) {
                        struct ctr_error e = {0};
                        ctr_err(&e, EPROTO, "sync", "unexpected step %d before GO", (int)ret->step);
                        ctr_sync_die(fd, &e, 1);
                }
                fds[n++] = passed;
        }
}

void ctr_sync_exec(int fd)
{
        if (ctr_sync_send(fd, CTR_SYNC_EXEC, NULL, 0, -1) < 0)
                _exit(1); /* the parent is gone: nobody to tell, nothing to run for */
}

int ctr_sync_error(const struct ctr_sync_msg *m, struct ctr_error *err)
{
        err->errnum = m->errnum > 0 ? m->errnum : EIO;
        memcpy(err->op, m->op, sizeof(err->op));
        memcpy(err->msg, m->msg, sizeof(err->msg));
        if (!*err->op)
                snprintf(err->op, sizeof(err->op), "%s", "sync");
        if (!*err->msg)
                snprintf(err->msg, sizeof(err->msg), "%s", strerror(err->errnum));
        return -err->errnum;
}

static pid_t clone_into_cgroup(uint64_t flags, int cgroup_fd, int *ret_pidfd, bool *ret_need_move)
{
        struct clone_args args;
        int pidfd = -1;
        pid_t pid;

        memset(&args, 0, sizeof(args));
        args.flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
        *ret_need_move = false;
        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0 && cgroup_fd >= 0 && errno != ENOSYS && errno != E2BIG && errno != ENOMEM && errno != EAGAIN) {
                /* Kernels before 5.7, or cgroup setups that refuse it: place the child by hand. */
                args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
                args.cgroup = 0;
                pid = syscall(SYS_clone3, &args, sizeof(args));
                *ret_need_move = pid >= 0;
        }
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
                pid = syscall(SYS_clone, (unsigned long)(flags | CLONE_PIDFD | SIGCHLD), NULL, &pidfd, NULL, 0);
                *ret_need_move = pid > 0 && cgroup_fd >= 0;
        }
        if (pid < 0)
                return -errno;
        if (pid > 0)
                *ret_pidfd = pidfd;
        return pid;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int cmp_int(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

int ctr_launch_close_fds(int from, const int *keep, size_t n, bool cloexec, struct ctr_error *err)
{
        int k[32];
        size_t nk = 0;
        for (size_t i = 0; i < n && nk < ARRAY_SIZE(k); i++)
                if (keep[i] >= from)
                        k[nk++] = keep[i];
        if (nk < n && n > ARRAY_SIZE(k))
                return ctr_err(err, E2BIG, "close", "too many descriptors to keep");
        qsort(k, nk, sizeof(int), cmp_int);
        unsigned flags = cloexec ? CLOSE_RANGE_CLOEXEC : 0;
        unsigned lo = (unsigned)from;
        for (size_t i = 0; i <= nk; i++) {
                unsigned hi = i < nk ? (unsigned)k[i] : ~0U;
                if (hi > lo && syscall(SYS_close_range, lo, hi == ~0U ? ~0U : hi - 1, flags) < 0)
                        return ctr_err_sys(err, errno, "close", "close descriptors %u and up", lo);
                if (i < nk)
                        lo = hi + 1 > lo ? hi + 1 : lo;
        }
        return 0;
}

void ctr_reset_signals(void)
{
        sigset_t all;
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}


static void kill_and_reap(pid_t pid, int pidfd)
{
        if (pidfd >= 0)
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        else
                kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* The socket closed before the child said it was done: how it ended, from its exit status
 * (left for the reaping). */
static int died(const struct ctr_launch *l, int pidfd, struct ctr_error *err)
{
        siginfo_t si = {0};
        if (pidfd >= 0 && waitid(P_PIDFD, pidfd, &si, WEXITED | WNOWAIT) == 0 && si.si_pid) {
                if (si.si_code == CLD_EXITED)
                        return ctr_err(err, EIO, "sync", "%s died during setup (exit status %d, no reason given)",
                                       l->what, si.si_status);
                return ctr_err(err, EIO, "sync", "%s died during setup (killed by signal %d, %s)", l->what,
                               si.si_status, strsignal(si.si_status));
        }
        return ctr_err(err, EIO, "sync", "%s died during setup", l->what);
}

int ctr_launch(const struct ctr_launch *l, struct ctr_launched *ret, struct ctr_error *err)
{
        int sv[2], r;
        bool need_move = false;
        int pidfd = -1;
        _cleanup_close_ int ownpidns = -EBADF;

        *ret = (struct ctr_launched){.pid = -1, .pidfd = -1, .sock = -1};
        if (l->flags & CLONE_NEWCGROUP)
                return ctr_err(err, EINVAL, "clone", "%s: a cgroup namespace is unshared by the child", l->what);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return ctr_err_sys(err, errno, "sync", "socketpair");
        if (l->pidns_fd >= 0) {
                /* Our next child is born there; we go back to our own at once, for any later
                 * child of ours (sanitizer threads, for one). */
                ownpidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (ownpidns < 0 || setns(l->pidns_fd, CLONE_NEWPID) < 0) {
                        r = ctr_err_sys(err, errno, "setns", "%s: join the pid namespace", l->what);
                        close(sv[0]), close(sv[1]);
                        return r;
                }
        }
        pid_t pid = clone_into_cgroup(l->flags, l->cgroup_fd, &pidfd, &need_move);
        if (pid == 0) {
                close(sv[0]);
                l->child(l->child_data, sv[1]);
        }
        int back = ownpidns >= 0 ? setns(ownpidns, CLONE_NEWPID) : 0;
        close(sv[1]);
        _cleanup_close_ int sock = sv[0];
        if (pid < 0)
                return ctr_err_sys(err, -pid, "clone", "create %s", l->what);
        if (back < 0) {
                r = ctr_err_sys(err, errno, "setns", "return to our own pid namespace");
                goto fail;
        }
        if (need_move && l->cgroup_path && (r = ctr_cgroup_enter(l->cgroup_path, pid, err)) < 0)
                goto fail;
        if (l->v1_rel && (r = ctr_cgroup_v1_join(l->v1_rel, pid, err)) < 0)
                goto fail;
        if (l->before_go && (r = l->before_go(l->data, pid, pidfd, sock, err)) < 0)
                goto fail;
        if (ctr_sync_send(sock, CTR_SYNC_GO, NULL, 0, -1) < 0) {
                r = died(l, pidfd, err);
                goto fail;
        }
        for (bool exec_next = false;;) {
                struct ctr_sync_msg m;
                int fd = -1;
                int q = ctr_sync_recv(sock, &m, &fd);
                if (q == 0 && exec_next)
                        break; /* closed on exec; if the program exits at once, the caller reaps it */
                if (q <= 0) {
                        r = q == 0 ? died(l, pidfd, err) : ctr_err(err, EPROTO, "sync", "%s: %s", l->what, strerror(-q));
                        goto fail;
                }
                if (m.step == CTR_SYNC_EXEC && l->until == CTR_LAUNCH_UNTIL_EXEC) {
                        if (fd >= 0)
                                close(fd);
                        exec_next = true;
                        continue;
                }
                if (m.step == CTR_SYNC_ERROR) {
                        if (l->ret_child_status)
                                *l->ret_child_status = m.exit_code;
                        r = ctr_sync_error(&m, err);
                        goto fail;
                }
                if (m.step == CTR_SYNC_READY && l->until == CTR_LAUNCH_UNTIL_READY && !l->on_step)
                        break;
                q = l->on_step ? l->on_step(l->data, pid, pidfd, sock, &m, &fd, err)
                               : ctr_err(err, EPROTO, "sync", "unexpected step %d from %s", (int)m.step, l->what);
                if (fd >= 0)
                        close(fd);
                if (q < 0) {
                        r = q;
                        goto fail;
                }
                if (q > 0)
                        break;
        }
        ret->pid = pid;
        ret->pidfd = pidfd;
        if (l->keep_sock)
                ret->sock = TAKE_FD(sock);
        return 0;
fail:
        kill_and_reap(pid, pidfd);
        if (pidfd >= 0)
                close(pidfd);
        return r;
}
