/* Control socket framing: one header plus payload per SEQPACKET message, and a socket path
 * through /proc/self/fd so deep --root directories never overflow sun_path. */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../base/util.h"

static void sock_addr(struct sockaddr_un *sa, int dirfd)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/monitor.sock", dirfd);
}

int ctr_ctl_listen(int rundir_fd, struct ctr_error *err)
{
        struct sockaddr_un sa;
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return ctr_err_sys(err, errno, "control socket", "socket");
        sock_addr(&sa, rundir_fd);
        unlinkat(rundir_fd, "monitor.sock", 0);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || fchmodat(rundir_fd, "monitor.sock", 0600, 0) < 0 ||
            listen(fd, 16) < 0) {
                int e = errno;
                close(fd);
                return ctr_err_sys(err, e, "control socket", "bind");
        }
        return fd;
}

int ctr_ctl_connect(const struct ctr_paths *p, const char *name, int *ret_fd, struct ctr_error *err)
{
        _cleanup_free_ char *dir = ctr_path_rundir(p, name);
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct sockaddr_un sa;
        if (dfd < 0)
                return ctr_err_sys(err, errno, "control socket", "open %s", dir);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return ctr_err_sys(err, errno, "control socket", "socket");
        sock_addr(&sa, dfd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                close(fd);
                return ctr_err_sys(err, e, "control socket", "connect to the monitor");
        }
        *ret_fd = fd;
        return 0;
}

int ctr_ctl_send(int fd, uint32_t type, uint32_t a1, uint32_t a2, const void *data, size_t len)
{
        struct ctr_ctl_hdr h = {type, a1, a2, (uint32_t)len};
        struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, len}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
        if (len > CTR_CTL_MAX_DATA)
                return -EMSGSIZE;
        ssize_t n;
        while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        return n < 0 ? -errno : 0;
}

int ctr_ctl_request(int fd, uint32_t type, uint32_t a1, uint32_t a2, const char *op, struct ctr_error *err)
{
        return ctr_ctl_request_data(fd, type, a1, a2, NULL, 0, NULL, 0, op, err);
}

int ctr_ctl_request_data(int fd, uint32_t type, uint32_t a1, uint32_t a2, const void *data, size_t len, char *ret,
                         size_t cap, const char *op, struct ctr_error *err)
{
        struct ctr_ctl_hdr h;
        char msg[CTR_CTL_MAX_DATA + 1];
        int r = ctr_ctl_send(fd, type, a1, a2, data, len);
        if (r < 0)
                return ctr_err_sys(err, -r, op, "talk to the monitor");
        for (;;) {
                ssize_t n = ctr_ctl_recv(fd, &h, msg, sizeof(msg) - 1);
                if (n < 0)
                        return ctr_err_sys(err, n == -ECONNRESET ? EPIPE : (int)-n, op, "no answer from the monitor");
                if (h.type != CTR_CTL_REPLY)
                        continue; /* console data for an attached client is not ours */
                msg[n] = 0;
                if (h.arg1)
                        return ctr_err(err, (int)h.arg1, op, "%s", msg);
                if (ret && cap)
                        snprintf(ret, cap, "%s", msg);
                return 0;
        }
}

ssize_t ctr_ctl_recv(int fd, struct ctr_ctl_hdr *h, void *buf, size_t cap)
{
        char tmp[sizeof(*h) + CTR_CTL_MAX_DATA];
        ssize_t n;
        while ((n = recv(fd, tmp, sizeof(tmp), 0)) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        if ((size_t)n < sizeof(*h))
                return -EPROTO;
        memcpy(h, tmp, sizeof(*h));
        size_t len = n - sizeof(*h);
        if (len != h->len || len > cap)
                return -EPROTO;
        memcpy(buf, tmp + sizeof(*h), len);
        return len;
}
