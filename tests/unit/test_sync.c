/* Unit tests for the wire formats between ctr's processes: the start sequence's sync messages
 * (runtime/spawn.c, with fd passing) and the monitor's control frames (runtime/control.c). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/control.h"
#include "../../runtime/spawn.h"
#include "../../base/util.h"

static void seqpacket_pair(int sv[2])
{
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0, "socketpair: %s", strerror(errno));
}

static size_t count_open_fds(void)
{
        size_t n = 0;
        for (int fd = 0; fd < 1024; fd++)
                n += fcntl(fd, F_GETFD) >= 0;
        return n;
}

/* --- sync ----------------------------------------------------------------------------------- */

Test(sync, go_without_error)
{
        int sv[2];
        seqpacket_pair(sv);
        struct ctr_sync_msg m;
        int fd = 1234;
        cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_GO, NULL, 0, -1), 0);
        cr_assert_eq(ctr_sync_recv(sv[1], &m, &fd), 1);
        cr_assert_eq(m.step, CTR_SYNC_GO);
        cr_assert_eq(m.errnum, 0);
        cr_assert_eq(m.exit_code, 0);
        cr_assert_str_eq(m.op, "");
        cr_assert_str_eq(m.msg, "");
        cr_assert_eq(fd, -1, "no fd was passed");
        close(sv[0]);
        close(sv[1]);
}

Test(sync, error_carries_errno_and_message)
{
        int sv[2];
        seqpacket_pair(sv);
        struct ctr_error e = {0};
        ctr_err_sys(&e, EINVAL, "pivot_root", "rootfs is not a mount point");
        cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_ERROR, &e, 127, -1), 0);
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, NULL), 1);
        cr_assert_eq(m.step, CTR_SYNC_ERROR);
        cr_assert_eq(m.errnum, EINVAL);
        cr_assert_eq(m.exit_code, 127);
        cr_assert_str_eq(m.op, "pivot_root");
        cr_assert_str_eq(m.msg, e.msg);
        close(sv[0]);
        close(sv[1]);
}

Test(sync, long_message_stays_terminated)
{
        int sv[2];
        seqpacket_pair(sv);
        struct ctr_error e;
        memset(&e, 'A', sizeof(e)); /* no terminators anywhere */
        e.errnum = EIO;
        cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_ERROR, &e, 1, -1), 0);
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, NULL), 1);
        cr_assert_eq(strlen(m.op), sizeof(m.op) - 1);
        cr_assert_eq(strlen(m.msg), sizeof(m.msg) - 1);
        close(sv[0]);
        close(sv[1]);
}

Test(sync, eof_is_zero)
{
        int sv[2];
        seqpacket_pair(sv);
        close(sv[0]);
        struct ctr_sync_msg m;
        int fd = 5;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, &fd), 0);
        cr_assert_eq(fd, -1);
        close(sv[1]);
}

Test(sync, eof_after_exec_of_cloexec_peer)
{
        /* The child's end is CLOEXEC: a successful exec closes it and the parent reads EOF. */
        int sv[2];
        seqpacket_pair(sv);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(sv[0]);
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
        }
        close(sv[1]);
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[0], &m, NULL), 0);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(sv[0]);
}

Test(sync, die_reports_and_exits)
{
        int sv[2];
        seqpacket_pair(sv);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                struct ctr_error e = {0};
                close(sv[0]);
                ctr_err(&e, ENOENT, "exec", "/sbin/init not found");
                ctr_sync_die(sv[1], &e, 127);
        }
        close(sv[1]);
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[0], &m, NULL), 1);
        cr_assert_eq(m.step, CTR_SYNC_ERROR);
        cr_assert_eq(m.errnum, ENOENT);
        cr_assert_eq(m.exit_code, 127);
        cr_assert_str_eq(m.op, "exec");
        cr_assert_str_eq(m.msg, "/sbin/init not found");
        cr_assert_eq(ctr_sync_recv(sv[0], &m, NULL), 0, "more after the error");
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        cr_assert_eq(WEXITSTATUS(status), 127);
        close(sv[0]);
}

Test(sync, passes_a_pipe_end)
{
        int sv[2], p[2];
        seqpacket_pair(sv);
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_FD, NULL, 0, p[1]), 0);
        close(p[1]); /* the only write end left is the one in flight */

        struct ctr_sync_msg m;
        int got = -1;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, &got), 1);
        cr_assert_eq(m.step, CTR_SYNC_FD);
        cr_assert_geq(got, 0, "no fd received");
        cr_assert_neq(fcntl(got, F_GETFD) & FD_CLOEXEC, 0, "received fd is not CLOEXEC");
        struct stat a, b;
        cr_assert_eq(fstat(got, &a), 0);
        cr_assert_eq(fstat(p[0], &b), 0);
        cr_assert_eq(a.st_ino, b.st_ino, "received fd is not the pipe");

        cr_assert_eq(write(got, "through", 7), 7);
        close(got);
        char buf[16] = {0};
        cr_assert_eq(read(p[0], buf, sizeof(buf)), 7);
        cr_assert_str_eq(buf, "through");
        /* With the passed end closed, the pipe reads EOF: no stray copy was kept. */
        cr_assert_eq(read(p[0], buf, sizeof(buf)), 0);
        close(p[0]);
        close(sv[0]);
        close(sv[1]);
}

Test(sync, passed_fd_closed_when_unwanted)
{
        int sv[2], p[2];
        seqpacket_pair(sv);
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        size_t before = count_open_fds();
        cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_FD, NULL, 0, p[1]), 0);
        close(p[1]);
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, NULL), 1);
        cr_assert_eq(count_open_fds(), before - 1, "received fd leaked");
        char c;
        cr_assert_eq(read(p[0], &c, 1), 0, "write end still open somewhere");
        close(p[0]);
        close(sv[0]);
        close(sv[1]);
}

Test(sync, short_message_is_a_protocol_error)
{
        int sv[2];
        seqpacket_pair(sv);
        int32_t junk[2] = {CTR_SYNC_GO, 0};
        cr_assert_eq(send(sv[0], junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
        struct ctr_sync_msg m;
        cr_assert_eq(ctr_sync_recv(sv[1], &m, NULL), -EPROTO);
        close(sv[0]);
        close(sv[1]);
}

Test(sync, send_to_closed_peer_fails)
{
        int sv[2];
        seqpacket_pair(sv);
        close(sv[1]);
        /* MSG_NOSIGNAL: an error, not SIGPIPE. */
        cr_assert_lt(ctr_sync_send(sv[0], CTR_SYNC_GO, NULL, 0, -1), 0);
        close(sv[0]);
}

Test(sync, messages_keep_their_boundaries)
{
        int sv[2];
        seqpacket_pair(sv);
        for (int i = 0; i < 3; i++) {
                struct ctr_error e = {0};
                ctr_err(&e, 100 + i, "step", "message %d", i);
                cr_assert_eq(ctr_sync_send(sv[0], CTR_SYNC_ERROR, &e, i, -1), 0);
        }
        for (int i = 0; i < 3; i++) {
                struct ctr_sync_msg m;
                char want[32];
                cr_assert_eq(ctr_sync_recv(sv[1], &m, NULL), 1);
                cr_assert_eq(m.errnum, 100 + i);
                cr_assert_eq(m.exit_code, i);
                snprintf(want, sizeof(want), "message %d", i);
                cr_assert_str_eq(m.msg, want);
        }
        close(sv[0]);
        close(sv[1]);
}

/* --- control -------------------------------------------------------------------------------- */

Test(control, header_only)
{
        int sv[2];
        seqpacket_pair(sv);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_STOP, 30, 1, NULL, 0), 0);
        struct ctr_ctl_hdr h;
        char buf[16];
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), 0);
        cr_assert_eq(h.type, CTR_CTL_STOP);
        cr_assert_eq(h.arg1, 30);
        cr_assert_eq(h.arg2, 1);
        cr_assert_eq(h.len, 0);
        close(sv[0]);
        close(sv[1]);
}

Test(control, payload_round_trip)
{
        int sv[2];
        seqpacket_pair(sv);
        static char big[CTR_CTL_MAX_DATA];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)(i * 7);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_ATTACH, 24, 80, NULL, 0), 0);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_DATA, 0, 0, "hello\0world", 11), 0);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_DATA, 0, 0, big, sizeof(big)), 0);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_RESIZE, 50, 132, NULL, 0), 0);

        struct ctr_ctl_hdr h;
        static char buf[CTR_CTL_MAX_DATA];
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), 0);
        cr_assert_eq(h.type, CTR_CTL_ATTACH);
        cr_assert_eq(h.arg1, 24);
        cr_assert_eq(h.arg2, 80);
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), 11);
        cr_assert_eq(h.type, CTR_CTL_DATA);
        cr_assert_eq(h.len, 11);
        cr_assert_eq(memcmp(buf, "hello\0world", 11), 0);
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), (ssize_t)sizeof(big));
        cr_assert_eq(memcmp(buf, big, sizeof(big)), 0);
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), 0);
        cr_assert_eq(h.type, CTR_CTL_RESIZE);
        cr_assert_eq(h.arg1, 50);
        cr_assert_eq(h.arg2, 132);
        close(sv[0]);
        close(sv[1]);
}

Test(control, too_big_refused)
{
        int sv[2];
        seqpacket_pair(sv);
        static char big[CTR_CTL_MAX_DATA + 1];
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_DATA, 0, 0, big, sizeof(big)), -EMSGSIZE);
        /* Nothing was sent. */
        cr_assert_eq(ctr_fd_set_nonblock(sv[1], true), 0);
        struct ctr_ctl_hdr h;
        char buf[8];
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -EAGAIN);
        close(sv[0]);
        close(sv[1]);
}

Test(control, eof_is_connreset)
{
        int sv[2];
        seqpacket_pair(sv);
        close(sv[0]);
        struct ctr_ctl_hdr h;
        char buf[8];
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -ECONNRESET);
        close(sv[1]);
}

Test(control, payload_larger_than_buffer)
{
        int sv[2];
        seqpacket_pair(sv);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_DATA, 0, 0, "0123456789", 10), 0);
        struct ctr_ctl_hdr h;
        char buf[4] = "xyz";
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -EPROTO);
        cr_assert_str_eq(buf, "xyz", "buffer overrun");
        close(sv[0]);
        close(sv[1]);
}

Test(control, malformed_frames)
{
        int sv[2];
        seqpacket_pair(sv);
        struct ctr_ctl_hdr h;
        char buf[64];

        /* Shorter than a header. */
        cr_assert_eq(send(sv[0], "abc", 3, 0), 3);
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -EPROTO);

        /* A header whose length does not match the payload. */
        struct {
                struct ctr_ctl_hdr h;
                char data[5];
        } lie = {{CTR_CTL_DATA, 0, 0, 100}, "abcd"};
        cr_assert_eq(send(sv[0], &lie, sizeof(lie), 0), (ssize_t)sizeof(lie));
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -EPROTO);

        lie.h.len = 3;
        cr_assert_eq(send(sv[0], &lie, sizeof(lie), 0), (ssize_t)sizeof(lie));
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), -EPROTO);

        /* A good frame after bad ones still reads fine: boundaries are kept. */
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_RESIZE, 1, 2, NULL, 0), 0);
        cr_assert_eq(ctr_ctl_recv(sv[1], &h, buf, sizeof(buf)), 0);
        cr_assert_eq(h.type, CTR_CTL_RESIZE);
        close(sv[0]);
        close(sv[1]);
}

Test(control, send_to_closed_peer_fails)
{
        int sv[2];
        seqpacket_pair(sv);
        close(sv[1]);
        cr_assert_eq(ctr_ctl_send(sv[0], CTR_CTL_STOP, 0, 0, NULL, 0), -EPIPE);
        close(sv[0]);
}
