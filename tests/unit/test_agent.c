/* Unit tests for the guest agent: the frame codec (vm/agent.c) and, end to end, ctr-vminit --agent
 * driven over a socketpair as the VMM would drive it over the virtio console. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../base/util.h"
#include "../../vm/agent.h"
#include "agent_peer.h"

/* --- codec ---------------------------------------------------------------------------------- */

Test(agent, hdr_round_trip)
{
        uint8_t b[8];
        ctr_agent_hdr_put(b, CTR_AGENT_STDOUT, 5, 1234);
        const uint8_t want[8] = {66, 5, 0xa6, 0xc7, 0xd2, 0x04, 0, 0};
        cr_assert_arr_eq(b, want, 8, "little-endian layout");
        struct ctr_agent_hdr h;
        cr_assert_eq(ctr_agent_hdr_get(b, &h), 0);
        cr_assert_eq(h.type, CTR_AGENT_STDOUT);
        cr_assert_eq(h.chan, 5);
        cr_assert_eq(h.magic, CTR_AGENT_MAGIC);
        cr_assert_eq(h.len, 1234);

        ctr_agent_hdr_put(b, CTR_AGENT_STDIN, 1, CTR_AGENT_MAX_PAYLOAD);
        cr_assert_eq(ctr_agent_hdr_get(b, &h), 0, "the maximum payload is allowed");
}

Test(agent, hdr_rejects_bad_magic_and_length)
{
        uint8_t b[8];
        struct ctr_agent_hdr h = {.type = 99};
        ctr_agent_hdr_put(b, CTR_AGENT_STDIN, 1, 10);
        b[2] ^= 1;
        cr_assert_eq(ctr_agent_hdr_get(b, &h), -EPROTO);
        cr_assert_eq(h.type, 99, "output untouched on error");
        ctr_agent_hdr_put(b, CTR_AGENT_STDIN, 1, CTR_AGENT_MAX_PAYLOAD + 1);
        cr_assert_eq(ctr_agent_hdr_get(b, &h), -EPROTO);
        ctr_agent_hdr_put(b, CTR_AGENT_STDIN, 1, UINT32_MAX);
        cr_assert_eq(ctr_agent_hdr_get(b, &h), -EPROTO);
}

/* Three frames back to back: empty, small, maximum size. */
static const uint32_t stream_lens[] = {0, 1000, CTR_AGENT_MAX_PAYLOAD};

static uint8_t *make_stream(size_t *ret_len)
{
        size_t len = 0;
        for (size_t i = 0; i < ARRAY_SIZE(stream_lens); i++)
                len += 8 + stream_lens[i];
        uint8_t *s = malloc(len), *p = s;
        for (size_t i = 0; i < ARRAY_SIZE(stream_lens); i++) {
                ctr_agent_hdr_put(p, CTR_AGENT_STDIN, (uint8_t)(i + 1), stream_lens[i]);
                for (uint32_t k = 0; k < stream_lens[i]; k++)
                        p[8 + k] = (uint8_t)(k * 7 + i);
                p += 8 + stream_lens[i];
        }
        *ret_len = len;
        return s;
}

static void check_frame(size_t i, const struct ctr_agent_hdr *h, const uint8_t *payload)
{
        cr_assert_lt(i, ARRAY_SIZE(stream_lens), "more frames than were sent");
        cr_assert_eq(h->type, CTR_AGENT_STDIN);
        cr_assert_eq(h->chan, i + 1);
        cr_assert_eq(h->len, stream_lens[i]);
        for (uint32_t k = 0; k < h->len; k++)
                cr_assert_eq(payload[k], (uint8_t)(k * 7 + i), "frame %zu byte %u", i, k);
}

Test(agent, reader_byte_by_byte)
{
        size_t len;
        _cleanup_free_ uint8_t *s = make_stream(&len);
        _cleanup_free_ struct ctr_agent_reader *r = calloc(1, sizeof(*r));
        size_t frames = 0;
        for (size_t off = 0; off < len;) {
                size_t took = ctr_agent_reader_feed(r, s + off, 1);
                off += took;
                struct ctr_agent_hdr h;
                const uint8_t *p;
                int rc = ctr_agent_reader_next(r, &h, &p);
                cr_assert_geq(rc, 0);
                if (took == 0)
                        cr_assert_eq(rc, 1, "feed refused a byte without a frame waiting");
                if (rc == 1)
                        check_frame(frames++, &h, p);
        }
        cr_assert_eq(frames, ARRAY_SIZE(stream_lens));
        struct ctr_agent_hdr h;
        const uint8_t *p;
        cr_assert_eq(ctr_agent_reader_next(r, &h, &p), 0, "nothing left");
}

Test(agent, reader_big_chunks)
{
        size_t len;
        _cleanup_free_ uint8_t *s = make_stream(&len);
        /* The stream twice in one buffer, fed in chunks that straddle frame boundaries. */
        _cleanup_free_ uint8_t *two = malloc(2 * len);
        memcpy(two, s, len);
        memcpy(two + len, s, len);
        const size_t chunks[] = {2 * len, 5000, 3};
        for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
                _cleanup_free_ struct ctr_agent_reader *r = calloc(1, sizeof(*r));
                size_t frames = 0;
                for (size_t off = 0; off < 2 * len;) {
                        size_t n = chunks[c] < 2 * len - off ? chunks[c] : 2 * len - off;
                        size_t end = off + n;
                        while (off < end) {
                                size_t took = ctr_agent_reader_feed(r, two + off, end - off);
                                off += took;
                                struct ctr_agent_hdr h;
                                const uint8_t *p;
                                int rc;
                                size_t got = 0;
                                while ((rc = ctr_agent_reader_next(r, &h, &p)) == 1) {
                                        check_frame(frames++ % ARRAY_SIZE(stream_lens), &h, p);
                                        got++;
                                }
                                cr_assert_eq(rc, 0);
                                cr_assert(took > 0 || got > 0, "no progress");
                                cr_assert_leq(got, 1, "the reader holds one frame at a time");
                        }
                }
                cr_assert_eq(frames, 2 * ARRAY_SIZE(stream_lens), "chunk %zu", chunks[c]);
        }
}

Test(agent, reader_bad_header_and_resync)
{
        _cleanup_free_ struct ctr_agent_reader *r = calloc(1, sizeof(*r));
        uint8_t buf[3 + 8 + 2];
        memcpy(buf, "xyz", 3);
        ctr_agent_hdr_put(buf + 3, CTR_AGENT_STDIN, 9, 2);
        memcpy(buf + 11, "ok", 2);
        size_t off = 0;
        int errors = 0, frames = 0;
        while (off < sizeof(buf) || r->have) {
                off += ctr_agent_reader_feed(r, buf + off, sizeof(buf) - off);
                struct ctr_agent_hdr h;
                const uint8_t *p;
                int rc = ctr_agent_reader_next(r, &h, &p);
                if (rc < 0) {
                        cr_assert_eq(rc, -EPROTO);
                        errors++;
                        ctr_agent_reader_skip(r);
                } else if (rc == 1) {
                        cr_assert_eq(h.chan, 9);
                        cr_assert_eq(memcmp(p, "ok", 2), 0);
                        frames++;
                } else if (off == sizeof(buf)) {
                        break;
                }
        }
        cr_assert_eq(errors, 3, "one error per garbage byte");
        cr_assert_eq(frames, 1, "the frame after the garbage is found");

        /* A length over the maximum is as fatal as a bad magic: the reader takes nothing more. */
        _cleanup_free_ struct ctr_agent_reader *r2 = calloc(1, sizeof(*r2));
        uint8_t big[16] = {0};
        ctr_agent_hdr_put(big, CTR_AGENT_STDIN, 1, CTR_AGENT_MAX_PAYLOAD + 1);
        cr_assert_eq(ctr_agent_reader_feed(r2, big, sizeof(big)), 8);
        struct ctr_agent_hdr h;
        const uint8_t *p;
        cr_assert_eq(ctr_agent_reader_next(r2, &h, &p), -EPROTO);
}

Test(agent, exec_payload_round_trip)
{
        char *argv[] = {"sh", "-c", "echo hi", NULL};
        char *env[] = {"A=1", "PATH=/bin", NULL};
        uint8_t buf[256];
        int n = ctr_agent_exec_payload(buf, sizeof(buf), 1, 24, 80, 1000, 100, "/tmp", argv, env);
        cr_assert_gt(n, 16);
        struct ctr_agent_exec e;
        cr_assert_eq(ctr_agent_exec_parse(buf, (size_t)n, &e), 0);
        cr_assert_eq(e.flags, 1);
        cr_assert_eq(e.rows, 24);
        cr_assert_eq(e.cols, 80);
        cr_assert_eq(e.uid, 1000);
        cr_assert_eq(e.gid, 100);
        cr_assert_str_eq(e.cwd, "/tmp");
        for (int i = 0; i < 3; i++)
                cr_assert_str_eq(e.argv[i], argv[i]);
        cr_assert_null(e.argv[3]);
        cr_assert_str_eq(e.env[0], "A=1");
        cr_assert_str_eq(e.env[1], "PATH=/bin");
        cr_assert_null(e.env[2]);
        ctr_agent_exec_free(&e);

        /* No cwd and no env: both come back empty. */
        n = ctr_agent_exec_payload(buf, sizeof(buf), 0, 0, 0, 0, 0, NULL, argv, NULL);
        cr_assert_eq(n, 16 + 1 + 3 + 3 + 8 + 1 + 1);
        cr_assert_eq(ctr_agent_exec_parse(buf, (size_t)n, &e), 0);
        cr_assert_str_eq(e.cwd, "");
        cr_assert_null(e.env[0]);
        cr_assert_str_eq(e.argv[2], "echo hi");
        ctr_agent_exec_free(&e);
}

Test(agent, exec_payload_limits)
{
        char *argv[] = {"true", NULL};
        uint8_t buf[64];
        int n = ctr_agent_exec_payload(buf, sizeof(buf), 0, 0, 0, 0, 0, "/", argv, NULL);
        cr_assert_gt(n, 0);
        cr_assert_eq(ctr_agent_exec_payload(buf, (size_t)n, 0, 0, 0, 0, 0, "/", argv, NULL), n, "exact fit");
        cr_assert_eq(ctr_agent_exec_payload(buf, (size_t)n - 1, 0, 0, 0, 0, 0, "/", argv, NULL), -E2BIG);
        cr_assert_eq(ctr_agent_exec_payload(buf, 10, 0, 0, 0, 0, 0, "/", argv, NULL), -E2BIG);
        char *empty[] = {NULL};
        cr_assert_eq(ctr_agent_exec_payload(buf, sizeof(buf), 0, 0, 0, 0, 0, "/", empty, NULL), -EINVAL);
        char *hole[] = {"sh", "", NULL};
        cr_assert_eq(ctr_agent_exec_payload(buf, sizeof(buf), 0, 0, 0, 0, 0, "/", hole, NULL), -EINVAL);
}

Test(agent, exec_parse_rejects_malformed)
{
        char *argv[] = {"true", NULL};
        char *env[] = {"A=1", NULL};
        uint8_t buf[64], bad[80];
        int n = ctr_agent_exec_payload(buf, sizeof(buf), 0, 0, 0, 0, 0, "/", argv, env);
        struct ctr_agent_exec e;
        for (int k = 0; k < n; k++)
                cr_assert_eq(ctr_agent_exec_parse(buf, (size_t)k, &e), -EPROTO, "truncated to %d bytes", k);
        memcpy(bad, buf, (size_t)n);
        bad[n] = 'x';
        cr_assert_eq(ctr_agent_exec_parse(bad, (size_t)n + 1, &e), -EPROTO, "trailing bytes");
        /* cwd "/" then an immediately empty argv list. */
        memcpy(bad, buf, 16);
        memcpy(bad + 16, "/\0\0\0", 4);
        cr_assert_eq(ctr_agent_exec_parse(bad, 20, &e), -EPROTO, "empty argv");
}

Test(agent, guest_program_is_embedded)
{
        size_t len = (size_t)(ctr_vminit_end - ctr_vminit_start);
        cr_assert_gt(len, 4096);
        cr_assert_eq(memcmp(ctr_vminit_start, "\177ELF", 4), 0, "not an ELF file");
        const char *path = getenv("CTR_VMINIT");
        if (!path || !*path)
                return;
        struct stat st;
        cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
        cr_assert_eq((size_t)st.st_size, len, "the embedded copy differs from %s", path);
}

/* --- end to end: ctr-vminit --agent ---------------------------------------------------------- */

struct peer {
        int fd;
        pid_t pid;
        struct ctr_agent_reader rd;
        uint8_t in[65536];
        size_t inoff, inlen;
};

struct result {
        bool started, exited;
        int status;
        /* NUL-terminated, grown as frames arrive; "" until then. */
        char *out, *err, *error;
        size_t outlen, errlen, errorlen;
};

static struct result *results_new(void)
{
        struct result *res = calloc(CTR_AGENT_MAX_CHAN + 1, sizeof(*res));
        for (int c = 0; c <= CTR_AGENT_MAX_CHAN; c++)
                res[c].out = calloc(1, 1), res[c].err = calloc(1, 1), res[c].error = calloc(1, 1);
        return res;
}

static void result_reset(struct result *r)
{
        free(r->out), free(r->err), free(r->error);
        *r = (struct result){.out = calloc(1, 1), .err = calloc(1, 1), .error = calloc(1, 1)};
}

static void results_free(struct result *res)
{
        for (int c = 0; c <= CTR_AGENT_MAX_CHAN; c++)
                free(res[c].out), free(res[c].err), free(res[c].error);
        free(res);
}

int test_agent_spawn(pid_t *ret_pid)
{
        int sv[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        /* Without the Makefile's CTR_VMINIT, run the copy embedded in this binary. */
        const char *path = getenv("CTR_VMINIT");
        int memfd = -1;
        if (!path || !*path) {
                memfd = memfd_create("ctr-vminit", MFD_CLOEXEC);
                cr_assert_geq(memfd, 0);
                size_t len = (size_t)(ctr_vminit_end - ctr_vminit_start);
                cr_assert_eq(ctr_write_all(memfd, ctr_vminit_start, len), (ssize_t)len);
        }
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                dup2(sv[1], 0);
                dup2(sv[1], 1);
                char *argv[] = {"ctr-vminit", "--agent", NULL};
                if (memfd >= 0)
                        fexecve(memfd, argv, environ);
                else
                        execv(path, argv);
                _exit(99);
        }
        close(sv[1]);
        if (memfd >= 0)
                close(memfd);
        *ret_pid = pid;
        return sv[0];
}

static struct peer *peer_start(void)
{
        struct peer *p = calloc(1, sizeof(*p));
        p->fd = test_agent_spawn(&p->pid);
        return p;
}

/* Closing the link ends the agent; it must exit cleanly. */
static void peer_stop(struct peer *p)
{
        close(p->fd);
        int st;
        cr_assert_eq(waitpid(p->pid, &st, 0), p->pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent ended with status 0x%x", st);
        free(p);
}

static void peer_send(struct peer *p, uint8_t type, uint8_t chan, const void *payload, size_t len)
{
        uint8_t h[8];
        ctr_agent_hdr_put(h, type, chan, (uint32_t)len);
        cr_assert_eq(ctr_write_all(p->fd, h, 8), 8);
        if (len)
                cr_assert_eq(ctr_write_all(p->fd, payload, len), (ssize_t)len);
}

static void peer_send_u32(struct peer *p, uint8_t type, uint8_t chan, uint32_t v)
{
        uint8_t b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
        peer_send(p, type, chan, b, 4);
}

static void peer_exec(struct peer *p, uint8_t chan, uint32_t flags, uint16_t rows, uint16_t cols, char **argv)
{
        uint8_t buf[1024];
        int n = ctr_agent_exec_payload(buf, sizeof(buf), flags, rows, cols, getuid(), getgid(), "/", argv, NULL);
        cr_assert_gt(n, 0);
        peer_send(p, CTR_AGENT_EXEC, chan, buf, (size_t)n);
}

/* The next frame; its payload stays valid until the next call. A silent agent fails the test. */
static void peer_recv(struct peer *p, struct ctr_agent_hdr *h, const uint8_t **payload)
{
        for (;;) {
                int r = ctr_agent_reader_next(&p->rd, h, payload);
                cr_assert_geq(r, 0, "agent sent a malformed frame");
                if (r == 1)
                        return;
                if (p->inoff < p->inlen) {
                        p->inoff += ctr_agent_reader_feed(&p->rd, p->in + p->inoff, p->inlen - p->inoff);
                        continue;
                }
                struct pollfd pfd = {p->fd, POLLIN, 0};
                cr_assert_eq(poll(&pfd, 1, 15000), 1, "no frame from the agent within 15 s");
                ssize_t n = read(p->fd, p->in, sizeof(p->in));
                cr_assert_gt(n, 0, "agent closed the link");
                p->inoff = 0;
                p->inlen = (size_t)n;
        }
}

static void append(char **dst, size_t *len, const uint8_t *src, size_t n)
{
        *dst = realloc(*dst, *len + n + 1);
        memcpy(*dst + *len, src, n);
        *len += n;
        (*dst)[*len] = 0;
}

static uint32_t u32_at(const uint8_t *b)
{
        return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Takes one frame into res (indexed by chan); returns its header. */
static struct ctr_agent_hdr peer_step(struct peer *p, struct result *res)
{
        struct ctr_agent_hdr h;
        const uint8_t *b;
        peer_recv(p, &h, &b);
        struct result *r = &res[h.chan];
        cr_assert(h.chan == 0 || !r->exited, "frame %u on chan %u after its EXIT", h.type, h.chan);
        switch (h.type) {
        case CTR_AGENT_STARTED:
                cr_assert_eq(h.len, 4);
                cr_assert_not(r->started, "STARTED twice");
                cr_assert_gt(u32_at(b), 0);
                r->started = true;
                break;
        case CTR_AGENT_STDOUT: append(&r->out, &r->outlen, b, h.len); break;
        case CTR_AGENT_STDERR: append(&r->err, &r->errlen, b, h.len); break;
        case CTR_AGENT_ERROR: append(&r->error, &r->errorlen, b, h.len); break;
        case CTR_AGENT_EXIT:
                cr_assert_eq(h.len, 4);
                r->exited = true;
                r->status = (int32_t)u32_at(b);
                break;
        default: cr_assert_fail("unexpected frame type %u", h.type);
        }
        return h;
}

static void peer_wait_exit(struct peer *p, struct result *res, uint8_t chan)
{
        while (!res[chan].exited)
                peer_step(p, res);
}

static struct peer *peer_start_ready(void)
{
        struct peer *p = peer_start();
        struct ctr_agent_hdr h;
        const uint8_t *b;
        peer_recv(p, &h, &b);
        cr_assert_eq(h.type, CTR_AGENT_READY, "first frame is type %u", h.type);
        return p;
}

Test(agent, ready_carries_kernel_release, .timeout = 30)
{
        struct peer *p = peer_start();
        struct ctr_agent_hdr h;
        const uint8_t *b;
        peer_recv(p, &h, &b);
        cr_assert_eq(h.type, CTR_AGENT_READY);
        cr_assert_eq(h.chan, 0);
        struct utsname u;
        uname(&u);
        cr_assert_eq(h.len, strlen(u.release));
        cr_assert_eq(memcmp(b, u.release, h.len), 0);
        peer_stop(p);
}

Test(agent, exec_stdio_and_status, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *argv[] = {"sh", "-c", "echo out; echo err >&2; read x; echo got:$x; exit 3", NULL};
        peer_exec(p, 1, 0, 0, 0, argv);
        peer_send(p, CTR_AGENT_STDIN, 1, "hi\n", 3);
        peer_send(p, CTR_AGENT_STDIN_EOF, 1, NULL, 0);
        peer_wait_exit(p, res, 1);
        cr_assert(res[1].started, "no STARTED before EXIT");
        cr_assert_str_eq(res[1].out, "out\ngot:hi\n");
        cr_assert_str_eq(res[1].err, "err\n");
        cr_assert_eq(res[1].status, 3);
        cr_assert_eq(res[0].errorlen, 0, "agent error: %s", res[0].error);
        peer_stop(p);
        results_free(res);
}

Test(agent, exit_comes_after_all_output, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        /* More than a pipe holds, so some is still unread when the shell exits. */
        char *big[] = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x", NULL};
        peer_exec(p, 1, 0, 0, 0, big);
        peer_wait_exit(p, res, 1);
        cr_assert_eq(res[1].outlen, 300000);
        cr_assert_eq(strspn(res[1].out, "x"), 300000);

        /* A background job keeps stdout open after the shell is gone: EXIT waits for it. */
        char *bg[] = {"sh", "-c", "(sleep 0.3; echo late) & echo early", NULL};
        peer_exec(p, 2, 0, 0, 0, bg);
        peer_wait_exit(p, res, 2);
        cr_assert_str_eq(res[2].out, "early\nlate\n");
        peer_stop(p);
        results_free(res);
}

Test(agent, stdin_eof_closes_the_pipe, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *argv[] = {"cat", NULL};
        peer_exec(p, 7, 0, 0, 0, argv);
        peer_send(p, CTR_AGENT_STDIN, 7, "abc", 3);
        peer_send(p, CTR_AGENT_STDIN, 7, "def", 3);
        peer_send(p, CTR_AGENT_STDIN_EOF, 7, NULL, 0);
        peer_wait_exit(p, res, 7);
        cr_assert_str_eq(res[7].out, "abcdef");
        cr_assert_eq(res[7].status, 0);
        peer_stop(p);
        results_free(res);
}

Test(agent, command_not_found, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *argv[] = {"ctr-no-such-command", NULL};
        peer_exec(p, 2, 0, 0, 0, argv);
        peer_wait_exit(p, res, 2);
        cr_assert_eq(res[2].status, 127);
        cr_assert(strstr(res[2].err, "ctr-vminit: exec ctr-no-such-command: "), "stderr: %s", res[2].err);

        char *argv2[] = {"/etc/passwd", NULL};
        peer_exec(p, 2, 0, 0, 0, argv2);
        result_reset(&res[2]);
        peer_wait_exit(p, res, 2);
        cr_assert_eq(res[2].status, 126, "not executable");
        peer_stop(p);
        results_free(res);
}

Test(agent, concurrent_sessions, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *a[] = {"sh", "-c", "read x; echo A$x", NULL};
        char *b[] = {"sh", "-c", "read x; echo B$x; exit 4", NULL};
        peer_exec(p, 1, 0, 0, 0, a);
        peer_exec(p, CTR_AGENT_MAX_CHAN, 0, 0, 0, b);
        /* The second finishes while the first still waits for its input. */
        peer_send(p, CTR_AGENT_STDIN, CTR_AGENT_MAX_CHAN, "2\n", 2);
        peer_wait_exit(p, res, CTR_AGENT_MAX_CHAN);
        cr_assert(res[1].started);
        cr_assert_not(res[1].exited);
        peer_send(p, CTR_AGENT_STDIN, 1, "1\n", 2);
        peer_wait_exit(p, res, 1);
        cr_assert_str_eq(res[1].out, "A1\n");
        cr_assert_str_eq(res[CTR_AGENT_MAX_CHAN].out, "B2\n");
        cr_assert_eq(res[1].status, 0);
        cr_assert_eq(res[CTR_AGENT_MAX_CHAN].status, 4);
        peer_stop(p);
        results_free(res);
}

Test(agent, signal_ends_the_process_group, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *argv[] = {"sleep", "100", NULL};
        peer_exec(p, 3, 0, 0, 0, argv);
        while (!res[3].started)
                peer_step(p, res);
        peer_send_u32(p, CTR_AGENT_SIGNAL, 3, SIGTERM);
        peer_wait_exit(p, res, 3);
        cr_assert_eq(res[3].status, 128 + SIGTERM);
        peer_stop(p);
        results_free(res);
}

Test(agent, tty_session, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        char *argv[] = {"tty", NULL};
        peer_exec(p, 4, 1, 24, 80, argv);
        peer_wait_exit(p, res, 4);
        cr_assert_eq(strncmp(res[4].out, "/dev/pts/", 9), 0, "output: %s", res[4].out);
        cr_assert_eq(res[4].errlen, 0, "a tty session has no separate stderr");
        cr_assert_eq(res[4].status, 0);

        /* The size from EXEC, then from RESIZE; ^D (STDIN_EOF) ends cat's input. */
        char *argv2[] = {"sh", "-c", "stty size; read x; stty size; cat; echo done", NULL};
        result_reset(&res[4]);
        peer_exec(p, 4, 1, 33, 77, argv2);
        while (!strstr(res[4].out, "33 77"))
                peer_step(p, res);
        uint8_t rs[4] = {40, 0, 100, 0};
        peer_send(p, CTR_AGENT_RESIZE, 4, rs, 4);
        peer_send(p, CTR_AGENT_STDIN, 4, "\n", 1);
        peer_send(p, CTR_AGENT_STDIN_EOF, 4, NULL, 0);
        peer_wait_exit(p, res, 4);
        cr_assert(strstr(res[4].out, "40 100"), "output: %s", res[4].out);
        cr_assert(strstr(res[4].out, "done"), "output: %s", res[4].out);
        cr_assert_eq(res[4].status, 0);
        peer_stop(p);
        results_free(res);
}

Test(agent, protocol_errors, .timeout = 30)
{
        struct peer *p = peer_start_ready();
        struct result *res = results_new();
        struct ctr_agent_hdr h;

        peer_send(p, 99, 0, "x", 1);
        h = peer_step(p, res);
        cr_assert_eq(h.type, CTR_AGENT_ERROR);
        cr_assert_eq(h.chan, 0);

        /* EXEC on a busy chan: ERROR and EXIT 125 for it; the running session is unharmed. */
        char *cat[] = {"cat", NULL};
        peer_exec(p, 5, 0, 0, 0, cat);
        while (!res[5].started)
                peer_step(p, res);
        peer_exec(p, 5, 0, 0, 0, cat);
        peer_wait_exit(p, res, 5);
        cr_assert_eq(res[5].status, 125);
        cr_assert(strstr(res[5].error, "busy"), "error: %s", res[5].error);
        result_reset(&res[5]);
        res[5].started = true;
        peer_send(p, CTR_AGENT_STDIN, 5, "still\n", 6);
        peer_send(p, CTR_AGENT_STDIN_EOF, 5, NULL, 0);
        peer_wait_exit(p, res, 5);
        cr_assert_str_eq(res[5].out, "still\n");
        cr_assert_eq(res[5].status, 0);

        /* Garbage on the link: one ERROR, then the next valid frame is served. */
        result_reset(&res[0]);
        cr_assert_eq(ctr_write_all(p->fd, "garbage!", 8), 8);
        char *echo[] = {"echo", "after", NULL};
        peer_exec(p, 6, 0, 0, 0, echo);
        peer_wait_exit(p, res, 6);
        cr_assert(strstr(res[0].error, "bad frame"), "error: %s", res[0].error);
        cr_assert_str_eq(res[6].out, "after\n");

        /* Outside a VM, SHUTDOWN must not signal the host's PID 1. */
        result_reset(&res[0]);
        peer_send_u32(p, CTR_AGENT_SHUTDOWN, 0, SIGTERM);
        h = peer_step(p, res);
        cr_assert_eq(h.type, CTR_AGENT_ERROR);
        peer_stop(p);
        results_free(res);
}
