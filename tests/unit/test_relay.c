/* Unit tests for the monitor's VM exec relay (runtime/relay.c): the session rules against a
 * scripted agent, and bulk stdio both ways through the real guest agent (ctr-vminit --agent)
 * with a client that reads late, so the bounded queues and their pauses are exercised. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/control.h"
#include "../../runtime/relay.h"
#include "../../base/util.h"
#include "../../vm/agent.h"
#include "agent_peer.h"

static uint32_t le32(const uint8_t *b)
{
        return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The next frame the relay wrote to the scripted agent's end. */
static void agent_expect(int fd, struct ctr_agent_reader *rd, uint8_t type, uint8_t chan, uint8_t *payload,
                         size_t *ret_len)
{
        struct ctr_agent_hdr h;
        const uint8_t *p;
        int k;
        while ((k = ctr_agent_reader_next(rd, &h, &p)) == 0) {
                uint8_t b[4096];
                struct pollfd pf = {fd, POLLIN, 0};
                cr_assert_eq(poll(&pf, 1, 5000), 1, "no frame for the agent");
                ssize_t n = read(fd, b, sizeof(b));
                cr_assert_gt(n, 0);
                cr_assert_eq(ctr_agent_reader_feed(rd, b, (size_t)n), (size_t)n);
        }
        cr_assert_eq(k, 1);
        cr_assert_eq(h.type, type, "frame type %u, wanted %u", h.type, type);
        cr_assert_eq(h.chan, chan, "frame on chan %u, wanted %u", h.chan, chan);
        if (payload)
                memcpy(payload, p, h.len);
        if (ret_len)
                *ret_len = h.len;
}

/* The next message the relay sent to a client. */
static ssize_t client_expect(int fd, uint32_t agent_type, char *buf)
{
        struct ctr_ctl_hdr h;
        struct pollfd pf = {fd, POLLIN, 0};
        cr_assert_eq(poll(&pf, 1, 5000), 1, "no message for the client");
        ssize_t n = ctr_ctl_recv(fd, &h, buf, CTR_CTL_MAX_DATA);
        cr_assert_geq(n, 0);
        cr_assert_eq(h.type, CTR_CTL_AGENT);
        cr_assert_eq(h.arg1, agent_type, "agent type %u, wanted %u", h.arg1, agent_type);
        return n;
}

static void frame_to_relay(struct ctr_relay *r, uint8_t type, uint8_t chan, const void *p, uint32_t len)
{
        struct ctr_agent_hdr h = {.type = type, .chan = chan, .magic = CTR_AGENT_MAGIC, .len = len};
        ctr_relay_agent_frame(r, &h, p);
}

Test(relay, sessions_against_a_scripted_agent)
{
        int ag[2], cl[2], cl2[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ag), 0);
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, cl), 0);
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, cl2), 0);
        struct ctr_relay *r = ctr_relay_new();
        struct ctr_agent_reader *rd = calloc(1, sizeof(*rd));
        char *buf = malloc(CTR_CTL_MAX_DATA);
        uint8_t *pl = malloc(CTR_AGENT_MAX_PAYLOAD);
        ctr_relay_set_agent(r, ag[0]);

        /* Before READY the session waits; input before STARTED breaks the protocol. */
        const uint8_t exec[] = "exec-payload";
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_STDIN, exec, 4), -EPROTO, "input without a session");
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_EXEC, exec, sizeof(exec)), 0);
        cr_assert(ctr_relay_has_client(r, cl[0]));
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_EXEC, exec, sizeof(exec)), -EPROTO, "a second EXEC");
        struct pollfd pf = {ag[1], POLLIN, 0};
        cr_assert_eq(poll(&pf, 1, 50), 0, "EXEC went out before the agent was up");
        ctr_relay_agent_ready(r);
        size_t len;
        agent_expect(ag[1], rd, CTR_AGENT_EXEC, 1, pl, &len);
        cr_assert_eq(len, sizeof(exec));
        cr_assert_eq(memcmp(pl, exec, len), 0, "the payload is passed as it is");

        /* A second client gets the next chan; its frames stay its own. */
        cr_assert_eq(ctr_relay_client_msg(r, cl2[0], CTR_AGENT_EXEC, exec, sizeof(exec)), 0);
        agent_expect(ag[1], rd, CTR_AGENT_EXEC, 2, NULL, NULL);
        frame_to_relay(r, CTR_AGENT_STARTED, 1, "\x07\0\0\0", 4);
        frame_to_relay(r, CTR_AGENT_STDOUT, 2, "two", 3);
        frame_to_relay(r, CTR_AGENT_STDOUT, 1, "one", 3);
        frame_to_relay(r, CTR_AGENT_STDOUT, 9, "nobody's", 8);
        cr_assert_eq(client_expect(cl[1], CTR_AGENT_STARTED, buf), 4);
        cr_assert_eq(client_expect(cl[1], CTR_AGENT_STDOUT, buf), 3);
        cr_assert_eq(memcmp(buf, "one", 3), 0);
        cr_assert_eq(client_expect(cl2[1], CTR_AGENT_STDOUT, buf), 3);
        cr_assert_eq(memcmp(buf, "two", 3), 0);

        /* Client input goes to its chan; SHUTDOWN or unknown types from a client are refused. */
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_STDIN, (const uint8_t *)"in", 2), 0);
        agent_expect(ag[1], rd, CTR_AGENT_STDIN, 1, pl, &len);
        cr_assert(len == 2 && !memcmp(pl, "in", 2));
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_RESIZE, (const uint8_t *)"\x18\0\x50\0", 4), 0);
        agent_expect(ag[1], rd, CTR_AGENT_RESIZE, 1, NULL, NULL);
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_SIGNAL, (const uint8_t *)"\x0f", 1), -EPROTO);
        cr_assert_eq(ctr_relay_client_msg(r, cl[0], CTR_AGENT_SHUTDOWN, (const uint8_t *)"\x0f\0\0\0", 4), -EPROTO);

        /* EXIT ends the session: the chan is free for the next EXEC. */
        frame_to_relay(r, CTR_AGENT_EXIT, 1, "\x03\0\0\0", 4);
        cr_assert_eq(client_expect(cl[1], CTR_AGENT_EXIT, buf), 4);
        cr_assert_eq(le32((uint8_t *)buf), 3);
        ctr_relay_client_gone(r, cl[0]);
        cr_assert_not(ctr_relay_has_client(r, cl[0]));
        int cl3[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, cl3), 0);
        cr_assert_eq(ctr_relay_client_msg(r, cl3[0], CTR_AGENT_EXEC, exec, sizeof(exec)), 0);
        agent_expect(ag[1], rd, CTR_AGENT_EXEC, 1, NULL, NULL);

        /* A client that goes while its command runs: the guest kills the job; later frames vanish. */
        ctr_relay_client_gone(r, cl2[0]);
        agent_expect(ag[1], rd, CTR_AGENT_SIGNAL, 2, pl, &len);
        cr_assert(len == 4 && le32(pl) == SIGKILL);
        frame_to_relay(r, CTR_AGENT_STDOUT, 2, "late", 4);
        frame_to_relay(r, CTR_AGENT_EXIT, 2, "\x89\0\0\0", 4);
        pf.fd = cl2[1];
        cr_assert_eq(poll(&pf, 1, 50), 0, "a gone client's session still sent");

        /* The link goes down (reboot): running sessions end with the reason and 255. */
        ctr_relay_link_down(r, "the VM rebooted");
        ssize_t n = client_expect(cl3[1], CTR_AGENT_ERROR, buf);
        cr_assert(n == 15 && !memcmp(buf, "the VM rebooted", 15));
        client_expect(cl3[1], CTR_AGENT_EXIT, buf);
        cr_assert_eq(le32((uint8_t *)buf), 255);

        /* A session that waits for the agent ends as killed when the client signals it. */
        ctr_relay_set_agent(r, ag[0]);
        int cl4[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, cl4), 0);
        cr_assert_eq(ctr_relay_client_msg(r, cl4[0], CTR_AGENT_EXEC, exec, sizeof(exec)), 0);
        cr_assert_eq(ctr_relay_client_msg(r, cl4[0], CTR_AGENT_SIGNAL, (const uint8_t *)"\x02\0\0\0", 4), 0);
        client_expect(cl4[1], CTR_AGENT_EXIT, buf);
        cr_assert_eq(le32((uint8_t *)buf), 130);
        ctr_relay_agent_ready(r);
        pf.fd = ag[1];
        cr_assert_eq(poll(&pf, 1, 50), 0, "a signalled pending session was still started");
        cr_assert_eq(ctr_relay_agent_send(r, CTR_AGENT_SHUTDOWN, 0, "\x0f\0\0\0", 4), 0);
        agent_expect(ag[1], rd, CTR_AGENT_SHUTDOWN, 0, NULL, NULL);
        ctr_relay_set_agent(r, -1);
        cr_assert_eq(ctr_relay_agent_send(r, CTR_AGENT_SHUTDOWN, 0, "\x0f\0\0\0", 4), -ENOTCONN);

        ctr_relay_free(r);
        free(rd), free(buf), free(pl);
        int fds[] = {ag[0], ag[1], cl[0], cl[1], cl2[0], cl2[1], cl3[0], cl3[1], cl4[0], cl4[1]};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                close(fds[i]);
}

/* --- bulk through the real agent ----------------------------------------------------------- */

#define BULK (4u << 20)

struct bulk_client {
        int fd;
        size_t got;
        bool mismatch;
        int status;
        atomic_bool done;
};

static uint8_t pattern(size_t i)
{
        return (uint8_t)(i * 131 + (i >> 12));
}

static int send_blocking(int fd, uint32_t type, const void *p, size_t len)
{
        for (;;) {
                int r = ctr_ctl_send(fd, CTR_CTL_AGENT, type, 0, p, len);
                if (r != -EAGAIN)
                        return r;
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 1000);
        }
}

/* As ctr exec does: input only after STARTED, and only while output is read too. */
static void *bulk_client_main(void *data)
{
        struct bulk_client *c = data;
        char *argv[] = {"cat", NULL}, *env[] = {"PATH=/usr/bin:/bin", NULL};
        uint8_t *payload = malloc(1024), *in = malloc(16384);
        char *buf = malloc(CTR_CTL_MAX_DATA);
        int len = ctr_agent_exec_payload(payload, 1024, 0, 0, 0, getuid(), getgid(), "/", argv, env);
        c->status = -1;
        if (len <= 0 || send_blocking(c->fd, CTR_AGENT_EXEC, payload, (size_t)len) < 0)
                goto out;
        bool started = false, eof_sent = false;
        size_t sent = 0;
        struct ctr_ctl_hdr h;
        struct pollfd pf0 = {c->fd, POLLIN, 0};
        if (poll(&pf0, 1, 10000) != 1 || ctr_ctl_recv(c->fd, &h, buf, CTR_CTL_MAX_DATA) < 0 ||
            h.arg1 != CTR_AGENT_STARTED)
                goto out;
        started = true;
        /* First only writes, reading nothing, until the whole chain backs up to this socket
         * (200 ms without progress): every queue on the way fills and must pause, not grow. */
        while (sent < BULK) {
                struct pollfd pf = {c->fd, POLLOUT, 0};
                if (poll(&pf, 1, 200) == 0)
                        break;
                size_t n = BULK - sent < 16384 ? BULK - sent : 16384;
                for (size_t i = 0; i < n; i++)
                        in[i] = pattern(sent + i);
                if (ctr_ctl_send(c->fd, CTR_CTL_AGENT, CTR_AGENT_STDIN, 0, in, n) == 0)
                        sent += n;
        }
        for (;;) {
                struct pollfd pf = {c->fd, POLLIN | (started && !eof_sent ? POLLOUT : 0), 0};
                if (poll(&pf, 1, 10000) <= 0)
                        goto out;
                if (pf.revents & POLLOUT) {
                        if (sent < BULK) {
                                size_t n = BULK - sent < 16384 ? BULK - sent : 16384;
                                for (size_t i = 0; i < n; i++)
                                        in[i] = pattern(sent + i);
                                int r = ctr_ctl_send(c->fd, CTR_CTL_AGENT, CTR_AGENT_STDIN, 0, in, n);
                                if (r == 0)
                                        sent += n;
                                else if (r != -EAGAIN)
                                        goto out;
                        } else if (ctr_ctl_send(c->fd, CTR_CTL_AGENT, CTR_AGENT_STDIN_EOF, 0, NULL, 0) == 0)
                                eof_sent = true;
                }
                if (pf.revents & (POLLIN | POLLHUP)) {
                        ssize_t n = ctr_ctl_recv(c->fd, &h, buf, CTR_CTL_MAX_DATA);
                        if (n == -EAGAIN)
                                continue;
                        if (n < 0)
                                goto out;
                        if (h.arg1 == CTR_AGENT_STARTED)
                                started = true;
                        else if (h.arg1 == CTR_AGENT_STDOUT) {
                                for (ssize_t i = 0; i < n; i++)
                                        if ((uint8_t)buf[i] != pattern(c->got + (size_t)i))
                                                c->mismatch = true;
                                c->got += (size_t)n;
                        } else if (h.arg1 == CTR_AGENT_EXIT) {
                                c->status = (int)le32((uint8_t *)buf);
                                goto out;
                        }
                }
        }
out:
        free(payload), free(in), free(buf);
        atomic_store(&c->done, true);
        return NULL;
}

Test(relay, bulk_stdio_through_the_agent_with_a_slow_client, .timeout = 60)
{
        pid_t agent_pid;
        int afd = test_agent_spawn(&agent_pid);
        int cl[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, cl), 0);
        /* A small socket buffer on the client's side, as the relay must not rely on a big one. */
        int sz = 65536;
        setsockopt(cl[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        struct ctr_relay *r = ctr_relay_new();
        ctr_relay_set_agent(r, afd);
        struct ctr_agent_reader *rd = calloc(1, sizeof(*rd));
        struct bulk_client c = {.fd = cl[1]};
        ctr_fd_set_nonblock(cl[1], true);
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, bulk_client_main, &c), 0);
        char *buf = malloc(CTR_CTL_MAX_DATA);
        bool paused_agent = false, client_open = true;
        while (!atomic_load(&c.done)) {
                uint32_t aev = ctr_relay_agent_events(r), cev = ctr_relay_client_events(r, cl[0]);
                if (!(aev & EPOLLIN))
                        paused_agent = true;
                struct pollfd pf[2] = {{afd, (short)aev, 0}, {client_open ? cl[0] : -1, (short)cev, 0}};
                cr_assert_geq(poll(pf, 2, 200), 0);
                if (pf[0].revents & POLLOUT)
                        ctr_relay_agent_writable(r);
                if (pf[0].revents & (POLLIN | POLLHUP)) {
                        uint8_t b[16384];
                        ssize_t n = read(afd, b, sizeof(b));
                        cr_assert_gt(n, 0, "the agent closed its link");
                        size_t off = 0;
                        while (off < (size_t)n) {
                                off += ctr_agent_reader_feed(rd, b + off, (size_t)n - off);
                                struct ctr_agent_hdr h;
                                const uint8_t *p;
                                int k;
                                while ((k = ctr_agent_reader_next(rd, &h, &p)) > 0) {
                                        if (h.type == CTR_AGENT_READY)
                                                ctr_relay_agent_ready(r);
                                        else
                                                ctr_relay_agent_frame(r, &h, p);
                                }
                                cr_assert_geq(k, 0);
                        }
                }
                if (pf[1].revents & POLLOUT)
                        ctr_relay_client_writable(r, cl[0]);
                if (pf[1].revents & (POLLIN | POLLHUP)) {
                        struct ctr_ctl_hdr h;
                        ssize_t n = ctr_ctl_recv(cl[0], &h, buf, CTR_CTL_MAX_DATA);
                        if (n >= 0)
                                cr_assert_eq(ctr_relay_client_msg(r, cl[0], h.arg1, (uint8_t *)buf, (size_t)n), 0);
                        else if (n != -EAGAIN) {
                                ctr_relay_client_gone(r, cl[0]);
                                client_open = false;
                        }
                }
                cr_assert_eq(ctr_relay_take_dead(r), -1);
        }
        pthread_join(t, NULL);
        cr_assert_eq(c.status, 0, "cat ended with %d", c.status);
        cr_assert_eq(c.got, BULK, "%zu of %u bytes came back", c.got, BULK);
        cr_assert_not(c.mismatch, "output differs from input");
        cr_assert(paused_agent, "the relay never stopped reading the agent for a client that did not read");
        ctr_relay_free(r);
        close(cl[0]), close(cl[1]);
        close(afd);
        int st;
        cr_assert_eq(waitpid(agent_pid, &st, 0), agent_pid);
        free(rd), free(buf);
}
