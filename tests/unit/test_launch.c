/* Unit tests for the one launcher (launch/launch.c): how a child's setup ends reaches the
 * parent — an exec, a reported error, a silent death, a READY — and the checked fd closing every
 * child uses before it runs what it was made for. No root needed: no namespaces, no cgroup. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../launch/launch.h"

enum how { EXEC_TRUE, EXEC_MISSING, SILENT_EXIT, SIGNALLED, REPORT, READY_THEN_WAIT, EOF_BEFORE_READY, PASS_FD };

static void __attribute__((noreturn)) child(void *data, int sock)
{
        enum how how = *(enum how *)data;
        struct ctr_sync_msg m;
        struct ctr_error e = {0};
        ctr_sync_wait_go(sock, &m, NULL, 0);
        switch (how) {
        case EXEC_TRUE:
                ctr_sync_exec(sock);
                execl("/bin/true", "true", (char *)NULL);
                ctr_err_sys(&e, errno, "exec", "/bin/true"), ctr_sync_die(sock, &e, 126);
        case EXEC_MISSING:
                ctr_sync_exec(sock);
                execl("/nonexistent/program", "program", (char *)NULL);
                ctr_err_sys(&e, errno, "exec", "/nonexistent/program"), ctr_sync_die(sock, &e, 127);
        case SILENT_EXIT: _exit(3);
        case SIGNALLED: raise(SIGKILL); _exit(1);
        case REPORT: ctr_err(&e, EACCES, "mount", "bind /x on /y"), ctr_sync_die(sock, &e, 42);
        case READY_THEN_WAIT:
                ctr_sync_send(sock, CTR_SYNC_READY, NULL, 0, -1);
                pause();
                _exit(0);
        case EOF_BEFORE_READY: _exit(0);
        case PASS_FD: {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        _exit(1);
                ctr_sync_send(sock, CTR_SYNC_FD, NULL, 0, p[0]);
                ctr_sync_exec(sock);
                execl("/bin/true", "true", (char *)NULL);
                _exit(126);
        }
        }
        _exit(1);
}

struct steps {
        int fds_seen, go_calls;
};

static int on_step(void *data, pid_t pid, int pidfd, int sock, const struct ctr_sync_msg *m, int *fd,
                   struct ctr_error *err)
{
        struct steps *s = data;
        if (m->step != CTR_SYNC_FD || *fd < 0)
                return ctr_err(err, EPROTO, "sync", "unexpected step %d", (int)m->step);
        s->fds_seen++;
        return 0; /* the launcher closes it */
}

static int before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        ((struct steps *)data)->go_calls++;
        return pid > 0 && pidfd >= 0 ? 0 : ctr_err(err, EINVAL, "test", "no pid");
}

static int run(enum how how, enum ctr_launch_until until, struct ctr_launched *out, int *status,
               struct steps *steps, struct ctr_error *err)
{
        struct ctr_launch l = {
                .what = "the test child",
                .cgroup_fd = -1,
                .pidns_fd = -1,
                .until = until,
                .child = child,
                .child_data = &how,
                .before_go = before_go,
                .on_step = how == PASS_FD ? on_step : NULL,
                .data = steps,
                .ret_child_status = status,
        };
        return ctr_launch(&l, out, err);
}

/* After a failed launch the child is already reaped: no zombie, no process left. */
static void assert_reaped(void)
{
        errno = 0;
        cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left unreaped");
        cr_assert_eq(errno, ECHILD);
}

Test(launch, exec_succeeds)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        int st = -1;
        cr_assert_eq(run(EXEC_TRUE, CTR_LAUNCH_UNTIL_EXEC, &out, &st, &s, &e), 0, "%s: %s", e.op, e.msg);
        cr_assert_eq(s.go_calls, 1);
        cr_assert_eq(out.sock, -1);
        siginfo_t si = {0};
        cr_assert_eq(waitid(P_PIDFD, out.pidfd, &si, WEXITED), 0);
        cr_assert_eq(si.si_code, CLD_EXITED);
        cr_assert_eq(si.si_status, 0);
        close(out.pidfd);
}

Test(launch, exec_failure_reported_with_status)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        int st = -1;
        cr_assert_eq(run(EXEC_MISSING, CTR_LAUNCH_UNTIL_EXEC, &out, &st, &s, &e), -ENOENT);
        cr_assert_str_eq(e.op, "exec");
        cr_assert(strstr(e.msg, "/nonexistent/program"), "%s", e.msg);
        cr_assert_eq(st, 127);
        assert_reaped();
}

/* A child that ends before it said "exec next" did not exec: that is never a success. */
Test(launch, silent_death_is_an_error)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        cr_assert_eq(run(SILENT_EXIT, CTR_LAUNCH_UNTIL_EXEC, &out, NULL, &s, &e), -EIO);
        cr_assert(strstr(e.msg, "the test child died during setup"), "%s", e.msg);
        cr_assert(strstr(e.msg, "exit status 3"), "%s", e.msg);
        assert_reaped();
}

Test(launch, killed_child_names_the_signal)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        cr_assert_eq(run(SIGNALLED, CTR_LAUNCH_UNTIL_EXEC, &out, NULL, &s, &e), -EIO);
        cr_assert(strstr(e.msg, "signal 9"), "%s", e.msg);
        assert_reaped();
}

Test(launch, reported_error_rebuilt)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        int st = -1;
        cr_assert_eq(run(REPORT, CTR_LAUNCH_UNTIL_EXEC, &out, &st, &s, &e), -EACCES);
        cr_assert_str_eq(e.op, "mount");
        cr_assert_str_eq(e.msg, "bind /x on /y");
        cr_assert_eq(st, 42);
        assert_reaped();
}

Test(launch, ready_leaves_the_child_running)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        cr_assert_eq(run(READY_THEN_WAIT, CTR_LAUNCH_UNTIL_READY, &out, NULL, &s, &e), 0, "%s", e.msg);
        siginfo_t si = {0};
        cr_assert_eq(waitid(P_PIDFD, out.pidfd, &si, WEXITED | WNOHANG), 0);
        cr_assert_eq(si.si_pid, 0, "the child is gone after READY");
        kill(out.pid, SIGKILL);
        cr_assert_eq(waitid(P_PIDFD, out.pidfd, &si, WEXITED), 0);
        close(out.pidfd);
}

Test(launch, eof_before_ready_is_an_error)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        cr_assert_eq(run(EOF_BEFORE_READY, CTR_LAUNCH_UNTIL_READY, &out, NULL, &s, &e), -EIO);
        cr_assert(strstr(e.msg, "died during setup"), "%s", e.msg);
        assert_reaped();
}

Test(launch, fd_steps_reach_the_callback)
{
        struct ctr_launched out;
        struct ctr_error e = {0};
        struct steps s = {0};
        cr_assert_eq(run(PASS_FD, CTR_LAUNCH_UNTIL_EXEC, &out, NULL, &s, &e), 0, "%s", e.msg);
        cr_assert_eq(s.fds_seen, 1);
        siginfo_t si = {0};
        waitid(P_PIDFD, out.pidfd, &si, WEXITED);
        close(out.pidfd);
}

Test(launch, cgroup_namespace_is_the_childs_to_unshare)
{
        struct ctr_launch l = {.what = "x", .flags = CLONE_NEWCGROUP, .cgroup_fd = -1, .pidns_fd = -1, .child = child};
        struct ctr_launched out;
        struct ctr_error e = {0};
        cr_assert_eq(ctr_launch(&l, &out, &e), -EINVAL);
        assert_reaped();
}

/* --- ctr_launch_close_fds -------------------------------------------------------------------- */

/* The checks run in a child of their own: closing fds would take criterion's from under it. */
static void in_child(int (*check)(void))
{
        pid_t p = fork();
        cr_assert_geq(p, 0);
        if (p == 0)
                _exit(check());
        int st;
        cr_assert_eq(waitpid(p, &st, 0), p);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "check %d failed", WEXITSTATUS(st));
}

static bool is_open(int fd)
{
        return fcntl(fd, F_GETFD) >= 0;
}

static int keeps_only_named(void)
{
        int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY), c = open("/dev/null", O_RDONLY);
        int d = open("/dev/null", O_RDONLY);
        int keep[] = {c, -1, a};
        struct ctr_error e = {0};
        if (ctr_launch_close_fds(3, keep, 3, false, &e) < 0)
                return 1;
        if (!is_open(0) || !is_open(1) || !is_open(2))
                return 2;
        if (!is_open(a) || !is_open(c))
                return 3;
        return is_open(b) || is_open(d) ? 4 : 0;
}

Test(launch, close_fds_keeps_only_what_is_named)
{
        in_child(keeps_only_named);
}

static int cloexec_marks(void)
{
        int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
        struct ctr_error e = {0};
        if (ctr_launch_close_fds(b, NULL, 0, true, &e) < 0)
                return 1;
        if (fcntl(a, F_GETFD) & FD_CLOEXEC)
                return 2; /* below `from`: untouched */
        return fcntl(b, F_GETFD) & FD_CLOEXEC ? 0 : 3;
}

Test(launch, close_fds_cloexec_marks_and_keeps_open)
{
        in_child(cloexec_marks);
}
