/* ctr-vminit: PID 1 of a VM's initramfs (kernel filesystems, modules, the root disk, network, then
 * exec of the container's init) and, forked off before that exec, the guest agent serving
 * vm/agent.h frames on the virtio console. `ctr-vminit --agent` runs the agent alone on fds 0/1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif

#include "../agent.h"
/* Only the header-inline parts (cleanup attributes, TAKE_FD): this binary links nothing of ctr
 * but vm/agent.c. */
#include "../../base/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The VMM ends the VM with the value written to this port (ctr's exit code for a guest failure). */
#define VMM_EXIT_PORT 0xf4
#define VMM_EXIT_CODE 125
/* A session whose command does not read its stdin keeps its queue; past this much queued input the
 * agent stops reading frames until queues drain, so a stuck command costs bounded memory. */
#define STDIN_QUEUE_MAX (1u << 20)

/* True when running as the VM's PID 1 (or its agent child): a fatal error ends the VM. */
static bool vm_mode;
static int console_fd = -EBADF;

static void vsay(const char *fmt, va_list ap)
{
        char line[512];
        int n = snprintf(line, sizeof(line), "ctr-vminit: ");
        int k = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        n = k < 0 ? n : n + k;
        if (n > (int)sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        ssize_t w = write(console_fd >= 0 ? console_fd : STDERR_FILENO, line, (size_t)n);
        (void)w;
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsay(fmt, ap);
        va_end(ap);
}

/* Nothing can be reported to the host past this point but an exit code, so the console line is the
 * whole diagnosis: one line, the step and the reason. */
static void __attribute__((noreturn, format(printf, 2, 3))) fatal(const char *step, const char *fmt, ...)
{
        char reason[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        say("%s: %s", step, reason);
        if (!vm_mode)
                exit(1);
        /* The console's driver sends from a buffer: ending the VM now would lose the line. */
        tcdrain(console_fd >= 0 ? console_fd : STDERR_FILENO);
#if defined(__x86_64__) || defined(__i386__)
        if (ioperm(VMM_EXIT_PORT, 1, 1) == 0)
                outb(VMM_EXIT_CODE, VMM_EXIT_PORT);
#endif
        /* A VMM without the exit port (or another architecture) still sees the VM power off. */
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}

static void *xalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (!p)
                fatal("memory", "%s", strerror(ENOMEM));
        return p;
}

/* Append to a NULL-terminated list. */
static void list_push(char ***v, size_t *n, char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                fatal("memory", "%s", strerror(ENOMEM));
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Devices appear asynchronously (driver probing, devtmpfs); poll rather than fail on the first look. */
static bool wait_path(const char *path, long timeout_ms)
{
        struct stat st;
        for (long t = 0;; t += 20) {
                if (stat(path, &st) == 0)
                        return true;
                if (t >= timeout_ms)
                        return false;
                sleep_ms(20);
        }
}

static void make_raw(int fd)
{
        struct termios t;
        if (!isatty(fd) || tcgetattr(fd, &t) < 0)
                return;
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
}

/* Children dup2 onto 0..2, so those must never be handed out by pipe() or open(). */
static void ensure_std_fds(const char *path)
{
        for (int fd = 0; fd < 3; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int n = open(path, O_RDWR | O_NOCTTY);
                if (n < 0)
                        n = open("/dev/null", O_RDWR | O_NOCTTY);
                if (n >= 0 && n != fd) {
                        dup2(n, fd);
                        close(n);
                }
        }
}

/* --- the agent ------------------------------------------------------------------------------ */

struct session {
        bool used;
        bool tty;
        bool exited;
        bool eof_pending; /* STDIN_EOF seen: close the stdin pipe once the queue is written */
        pid_t pid;
        int status;
        int in;  /* stdin pipe (write end); unused for a tty */
        int out; /* stdout pipe (read end), or the pty master, which also takes stdin */
        int err; /* stderr pipe (read end); unused for a tty */
        uint8_t *q;
        size_t qoff, qlen, qcap;
};

static struct agent {
        int in, out, sigfd;
        bool resyncing;
        struct ctr_agent_reader rd;
        struct session s[CTR_AGENT_MAX_CHAN + 1];
        /* Outgoing frames are assembled here; output is read straight into frame + 8. */
        uint8_t frame[8 + CTR_AGENT_MAX_PAYLOAD];
        uint8_t inbuf[CTR_AGENT_MAX_PAYLOAD];
} A;

static int write_all(int fd, const uint8_t *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = {fd, POLLOUT, 0};
                                poll(&pfd, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* A failed write means the host is gone; the read side sees that too and ends (or waits for) the
 * link, so the frame is dropped here. */
static void send_frame(uint8_t type, uint8_t chan, const void *payload, size_t len)
{
        if (len > CTR_AGENT_MAX_PAYLOAD)
                len = CTR_AGENT_MAX_PAYLOAD;
        if (len && payload != A.frame + 8)
                memcpy(A.frame + 8, payload, len);
        ctr_agent_hdr_put(A.frame, type, chan, (uint32_t)len);
        write_all(A.out, A.frame, 8 + len);
}

static void send_u32(uint8_t type, uint8_t chan, uint32_t v)
{
        uint8_t b[4];
        put_u32(b, v);
        send_frame(type, chan, b, sizeof(b));
}

static void __attribute__((format(printf, 2, 3))) send_error(uint8_t chan, const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        send_frame(CTR_AGENT_ERROR, chan, msg, n < 0 ? 0 : strnlen(msg, sizeof(msg)));
}

static struct session *session_get(uint8_t chan)
{
        if (chan == 0 || chan > CTR_AGENT_MAX_CHAN || !A.s[chan].used)
                return NULL;
        return &A.s[chan];
}

static void fd_close(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -EBADF;
}

static int stdin_fd(const struct session *s)
{
        return s->tty ? s->out : s->in;
}

static void session_free(struct session *s)
{
        fd_close(&s->in);
        fd_close(&s->out);
        fd_close(&s->err);
        free(s->q);
        *s = (struct session){.in = -EBADF, .out = -EBADF, .err = -EBADF};
}

static void __attribute__((noreturn, format(printf, 1, 2))) child_die(const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        n = n < 0 ? 0 : (int)strnlen(msg, sizeof(msg) - 1);
        msg[n++] = '\n';
        ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
        (void)w;
        _exit(125);
}

/* The session's process, between fork and exec. Single-threaded parent, so malloc is safe here. */
static void __attribute__((noreturn)) session_child(const struct ctr_agent_exec *e, int in, int out, int err)
{
        /* A failure here is the command's, never a reason to end the VM. */
        vm_mode = false;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);

        /* Its own session and process group: SIGNAL reaches the whole job, and a tty needs one. */
        if (setsid() < 0)
                child_die("ctr-vminit: setsid: %s", strerror(errno));
        if (e->flags & 1 && ioctl(in, TIOCSCTTY, 0) < 0)
                child_die("ctr-vminit: TIOCSCTTY: %s", strerror(errno));
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                child_die("ctr-vminit: dup2: %s", strerror(errno));
        /* Also closes the start pipe: the agent waits for that before reporting STARTED. */
        if (close_range(3, ~0U, 0) < 0)
                for (int fd = 3; fd < 65536; fd++)
                        close(fd);

        if (setgroups(0, NULL) < 0 && !(errno == EPERM && geteuid() != 0))
                child_die("ctr-vminit: setgroups: %s", strerror(errno));
        if (setgid(e->gid) < 0)
                child_die("ctr-vminit: setgid %u: %s", e->gid, strerror(errno));
        if (setuid(e->uid) < 0)
                child_die("ctr-vminit: setuid %u: %s", e->uid, strerror(errno));
        const char *cwd = e->cwd[0] ? e->cwd : "/";
        if (chdir(cwd) < 0)
                child_die("ctr-vminit: chdir %s: %s", cwd, strerror(errno));

        size_t n = 0;
        const char *path = NULL;
        for (; e->env[n]; n++)
                if (strncmp(e->env[n], "PATH=", 5) == 0)
                        path = e->env[n] + 5;
        char **env = e->env;
        if (!path) {
                env = xalloc((n + 2) * sizeof(char *));
                memcpy(env, e->env, n * sizeof(char *));
                env[n] = "PATH=" DEFAULT_PATH;
                path = DEFAULT_PATH;
        }
        /* execvpe searches the caller's PATH, not the one in env. */
        setenv("PATH", path, 1);
        execvpe(e->argv[0], e->argv, env);
        int errnum = errno;
        char msg[512];
        int k = snprintf(msg, sizeof(msg), "ctr-vminit: exec %s: %s\n", e->argv[0], strerror(errnum));
        ssize_t w = write(STDERR_FILENO, msg, k < 0 ? 0 : strnlen(msg, sizeof(msg)));
        (void)w;
        _exit(errnum == ENOENT ? 127 : 126);
}

static int set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

static int pipe_pair(int *ret_r, int *ret_w)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        *ret_r = p[0];
        *ret_w = p[1];
        return 0;
}

/* Starts e on s; on failure fills msg and returns -errno. */
static int session_spawn(struct session *s, const struct ctr_agent_exec *e, char *msg, size_t msglen)
{
        _cleanup_close_ int in_r = -EBADF, in_w = -EBADF, out_r = -EBADF, out_w = -EBADF, err_r = -EBADF,
                            err_w = -EBADF, master = -EBADF, slave = -EBADF, start_r = -EBADF, start_w = -EBADF;
        bool tty = e->flags & 1;
        int r;

        if (tty) {
                char name[64];
                master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
                    ptsname_r(master, name, sizeof(name)) != 0) {
                        r = errno;
                        snprintf(msg, msglen, "pty: %s", strerror(r));
                        return -r;
                }
                /* Opened here, not in the child, so the master never sees the slave unopened: that
                 * reads as EIO, which the agent takes for the end of the output. */
                slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0) {
                        r = errno;
                        snprintf(msg, msglen, "open %s: %s", name, strerror(r));
                        return -r;
                }
                if (e->rows || e->cols) {
                        struct winsize ws = {.ws_row = e->rows, .ws_col = e->cols};
                        ioctl(master, TIOCSWINSZ, &ws);
                }
        } else if ((r = pipe_pair(&in_r, &in_w)) < 0 || (r = pipe_pair(&out_r, &out_w)) < 0 ||
                   (r = pipe_pair(&err_r, &err_w)) < 0) {
                snprintf(msg, msglen, "pipe: %s", strerror(-r));
                return r;
        }
        if ((r = pipe_pair(&start_r, &start_w)) < 0) {
                snprintf(msg, msglen, "pipe: %s", strerror(-r));
                return r;
        }

        pid_t pid = fork();
        if (pid < 0) {
                r = errno;
                snprintf(msg, msglen, "fork: %s", strerror(r));
                return -r;
        }
        if (pid == 0) {
                if (tty)
                        session_child(e, slave, slave, slave);
                session_child(e, in_r, out_w, err_w);
        }

        /* Once the child has its own process group, a SIGNAL right after STARTED reaches it. */
        fd_close(&start_w);
        uint8_t b;
        while (read(start_r, &b, 1) < 0 && errno == EINTR)
                ;

        *s = (struct session){
                .used = true,
                .tty = tty,
                .pid = pid,
                .in = tty ? -EBADF : TAKE_FD(in_w),
                .out = tty ? TAKE_FD(master) : TAKE_FD(out_r),
                .err = tty ? -EBADF : TAKE_FD(err_r),
        };
        if (s->in >= 0)
                set_nonblock(s->in);
        set_nonblock(s->out);
        if (s->err >= 0)
                set_nonblock(s->err);
        return 0;
}

static void session_status(struct session *s, int st)
{
        s->exited = true;
        s->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

static void reap(void)
{
        struct signalfd_siginfo si;
        while (read(A.sigfd, &si, sizeof(si)) > 0)
                ;
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);
                if (pid <= 0)
                        break;
                for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++)
                        if (A.s[c].used && !A.s[c].exited && A.s[c].pid == pid)
                                session_status(&A.s[c], st);
        }
}

/* Writes what the command takes now; keeps the rest for POLLOUT. */
static void stdin_flush(struct session *s)
{
        int fd = stdin_fd(s);
        while (fd >= 0 && s->qoff < s->qlen) {
                ssize_t w = write(fd, s->q + s->qoff, s->qlen - s->qoff);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return;
                if (w < 0) {
                        /* The reader is gone (EPIPE) or the pty hung up: nobody will take this input. */
                        s->qoff = s->qlen = 0;
                        if (!s->tty)
                                fd_close(&s->in);
                        return;
                }
                s->qoff += (size_t)w;
        }
        s->qoff = s->qlen = 0;
        if (s->eof_pending && !s->tty)
                fd_close(&s->in);
}

static void stdin_queue(struct session *s, const uint8_t *p, size_t n)
{
        if (stdin_fd(s) < 0 || (s->eof_pending && !s->tty) || n == 0)
                return;
        if (s->qoff > 0) {
                memmove(s->q, s->q + s->qoff, s->qlen - s->qoff);
                s->qlen -= s->qoff;
                s->qoff = 0;
        }
        if (s->qlen + n > s->qcap) {
                size_t cap = s->qcap ? s->qcap : 4096;
                while (cap < s->qlen + n)
                        cap *= 2;
                uint8_t *q = realloc(s->q, cap);
                if (!q)
                        fatal("memory", "%s", strerror(ENOMEM));
                s->q = q;
                s->qcap = cap;
        }
        memcpy(s->q + s->qlen, p, n);
        s->qlen += n;
        stdin_flush(s);
}

/* A failed EXEC still ends its session for the host: ERROR, then EXIT 125. */
static void __attribute__((format(printf, 2, 3))) exec_fail(uint8_t chan, const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        send_error(chan, "exec: %s", msg);
        if (chan != 0)
                send_u32(CTR_AGENT_EXIT, chan, 125);
}

static void on_exec(uint8_t chan, const uint8_t *p, size_t len)
{
        if (chan == 0 || chan > CTR_AGENT_MAX_CHAN)
                return exec_fail(chan, "channel %u out of range 1..%d", chan, CTR_AGENT_MAX_CHAN);
        if (A.s[chan].used)
                return exec_fail(chan, "channel %u is busy", chan);
        struct ctr_agent_exec e;
        int r = ctr_agent_exec_parse(p, len, &e);
        if (r < 0)
                return exec_fail(chan, "malformed payload: %s", strerror(-r));
        char msg[256];
        r = session_spawn(&A.s[chan], &e, msg, sizeof(msg));
        ctr_agent_exec_free(&e);
        if (r < 0)
                return exec_fail(chan, "%s", msg);
        send_u32(CTR_AGENT_STARTED, chan, (uint32_t)A.s[chan].pid);
}

static void dispatch(const struct ctr_agent_hdr *h, const uint8_t *p)
{
        /* Frames for a chan without a session are late (the host wrote them before reading EXIT):
         * dropped without an error. */
        struct session *s = session_get(h->chan);
        switch (h->type) {
        case CTR_AGENT_EXEC: on_exec(h->chan, p, h->len); break;
        case CTR_AGENT_STDIN:
                if (s)
                        stdin_queue(s, p, h->len);
                break;
        case CTR_AGENT_STDIN_EOF:
                if (!s)
                        break;
                if (s->tty) {
                        /* A pty has no half-close: ^D is the line discipline's end of input. */
                        stdin_queue(s, (const uint8_t *)"\x04", 1);
                } else {
                        s->eof_pending = true;
                        stdin_flush(s);
                }
                break;
        case CTR_AGENT_SIGNAL:
                if (h->len < 4) {
                        send_error(0, "SIGNAL on channel %u: payload of %u bytes", h->chan, h->len);
                        break;
                }
                if (s && !s->exited && kill(-s->pid, (int)get_u32(p)) < 0 && errno == ESRCH)
                        kill(s->pid, (int)get_u32(p));
                break;
        case CTR_AGENT_RESIZE:
                if (h->len < 4) {
                        send_error(0, "RESIZE on channel %u: payload of %u bytes", h->chan, h->len);
                        break;
                }
                if (s && s->tty && s->out >= 0) {
                        struct winsize ws = {.ws_row = (uint16_t)(p[0] | p[1] << 8),
                                             .ws_col = (uint16_t)(p[2] | p[3] << 8)};
                        ioctl(s->out, TIOCSWINSZ, &ws);
                }
                break;
        case CTR_AGENT_SHUTDOWN:
                if (h->len < 4) {
                        send_error(0, "SHUTDOWN: payload of %u bytes", h->len);
                        break;
                }
                /* Outside a VM, PID 1 is the host's init: never signal it. */
                if (!vm_mode)
                        send_error(0, "SHUTDOWN: not the VM's agent (--agent test mode)");
                else if (kill(1, (int)get_u32(p)) < 0)
                        send_error(0, "SHUTDOWN: kill 1: %s", strerror(errno));
                break;
        default: send_error(0, "unknown frame type %u on channel %u", h->type, h->chan);
        }
}

/* false when the host end is gone. */
static bool read_frames(void)
{
        ssize_t n = read(A.in, A.inbuf, sizeof(A.inbuf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        size_t off = 0;
        while (off < (size_t)n) {
                off += ctr_agent_reader_feed(&A.rd, A.inbuf + off, (size_t)n - off);
                for (;;) {
                        struct ctr_agent_hdr h;
                        const uint8_t *p;
                        int r = ctr_agent_reader_next(&A.rd, &h, &p);
                        if (r == 0)
                                break;
                        if (r < 0) {
                                if (!A.resyncing)
                                        send_error(0, "bad frame header, resynchronising");
                                A.resyncing = true;
                                ctr_agent_reader_skip(&A.rd);
                                continue;
                        }
                        A.resyncing = false;
                        dispatch(&h, p);
                }
        }
        return true;
}

/* One read per wakeup keeps one chatty session from starving the others. */
static void read_output(struct session *s, uint8_t chan, bool is_err)
{
        int *fd = is_err ? &s->err : &s->out;
        ssize_t n = read(*fd, A.frame + 8, CTR_AGENT_MAX_PAYLOAD);
        if (n > 0) {
                send_frame(is_err ? CTR_AGENT_STDERR : CTR_AGENT_STDOUT, chan, A.frame + 8, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        /* EOF; for a pty master, EIO once every slave fd is closed. */
        fd_close(fd);
        if (s->tty)
                s->qoff = s->qlen = 0;
}

static void kill_sessions(void)
{
        for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++)
                if (A.s[c].used && !A.s[c].exited)
                        kill(-A.s[c].pid, SIGKILL);
}

enum { P_AGENT, P_SIG, P_OUT, P_ERR, P_IN };

static void __attribute__((noreturn)) agent_main(int in, int out)
{
        A.in = in;
        A.out = out;
        for (int c = 0; c <= CTR_AGENT_MAX_CHAN; c++)
                A.s[c] = (struct session){.in = -EBADF, .out = -EBADF, .err = -EBADF};
        ensure_std_fds("/dev/null");
        signal(SIGPIPE, SIG_IGN);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                fatal("agent", "sigprocmask: %s", strerror(errno));
        A.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (A.sigfd < 0)
                fatal("agent", "signalfd: %s", strerror(errno));

        struct utsname u;
        const char *release = uname(&u) == 0 ? u.release : "";
        send_frame(CTR_AGENT_READY, 0, release, strlen(release));

        bool host_gone = false;
        for (;;) {
                struct pollfd pfd[2 + 3 * CTR_AGENT_MAX_CHAN];
                uint8_t kind[ARRAY_SIZE(pfd)], chan[ARRAY_SIZE(pfd)];
                size_t n = 0, queued = 0;
                for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++)
                        queued += A.s[c].qlen - A.s[c].qoff;
                if (!host_gone && queued < STDIN_QUEUE_MAX) {
                        pfd[n] = (struct pollfd){A.in, POLLIN, 0};
                        kind[n++] = P_AGENT;
                }
                pfd[n] = (struct pollfd){A.sigfd, POLLIN, 0};
                kind[n++] = P_SIG;
                for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++) {
                        struct session *s = &A.s[c];
                        if (!s->used)
                                continue;
                        bool pending = s->qlen > s->qoff;
                        if (s->out >= 0) {
                                pfd[n] = (struct pollfd){s->out, POLLIN | (s->tty && pending ? POLLOUT : 0), 0};
                                kind[n] = P_OUT, chan[n++] = (uint8_t)c;
                        }
                        if (s->err >= 0) {
                                pfd[n] = (struct pollfd){s->err, POLLIN, 0};
                                kind[n] = P_ERR, chan[n++] = (uint8_t)c;
                        }
                        if (!s->tty && s->in >= 0 && pending) {
                                pfd[n] = (struct pollfd){s->in, POLLOUT, 0};
                                kind[n] = P_IN, chan[n++] = (uint8_t)c;
                        }
                }
                /* In a VM the console may read EOF while nobody is attached: look again later. */
                if (poll(pfd, n, host_gone ? 200 : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fatal("agent", "poll: %s", strerror(errno));
                }
                host_gone = false;
                for (size_t i = 0; i < n; i++) {
                        short re = pfd[i].revents;
                        if (!re)
                                continue;
                        struct session *s = &A.s[chan[i]];
                        switch (kind[i]) {
                        case P_AGENT:
                                if (!read_frames()) {
                                        if (!vm_mode) {
                                                kill_sessions();
                                                exit(0);
                                        }
                                        host_gone = true;
                                }
                                break;
                        case P_SIG: reap(); break;
                        case P_OUT:
                                if (re & POLLOUT)
                                        stdin_flush(s);
                                if (re & (POLLIN | POLLHUP | POLLERR) && s->out >= 0)
                                        read_output(s, chan[i], false);
                                break;
                        case P_ERR: read_output(s, chan[i], true); break;
                        case P_IN: stdin_flush(s); break;
                        }
                }
                /* EXIT only after the output's EOF, so it is the session's last frame. */
                for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++) {
                        struct session *s = &A.s[c];
                        if (s->used && s->exited && s->out < 0 && s->err < 0) {
                                send_u32(CTR_AGENT_EXIT, (uint8_t)c, (uint32_t)s->status);
                                session_free(s);
                        }
                }
        }
}

/* --- PID 1 ------------------------------------------------------------------------------------ */

struct config {
        const char *root, *fstype, *init, *hostname, *agent, *ip, *gw, *iface;
        char **resolv; /* lines of the guest's /etc/resolv.conf, from the host's network setup */
        size_t nresolv;
        bool ro;
        char **argv; /* argv[0] is init */
        size_t argc;
        char **env;
        size_t envc;
};

/* NULL when the file does not exist; fatal on any other failure. */
static char *read_text(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return NULL;
                fatal("read", "%s: %s", path, strerror(errno));
        }
        size_t len = 0, cap = 4096;
        char *buf = xalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                fatal("memory", "%s", strerror(ENOMEM));
                        buf = nb;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        fatal("read", "%s: %s", path, strerror(errno));
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = 0;
        return buf;
}

static void config_read(struct config *c)
{
        *c = (struct config){
                .root = "/dev/vda",
                .fstype = "ext4",
                .init = "/sbin/init",
                .agent = "/dev/hvc0",
                .iface = "eth0",
        };
        char **args = NULL;
        size_t nargs = 0;
        char *text = read_text("/ctr/config");
        if (!text)
                say("config: /ctr/config is missing, using the defaults");
        char *save = NULL;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, "\r")] = 0;
                if (!line[0] || line[0] == '#')
                        continue;
                char *v = strchr(line, '=');
                if (!v) {
                        say("config: '%s' is not key=value, ignored", line);
                        continue;
                }
                *v++ = 0;
                if (!strcmp(line, "root"))
                        c->root = v;
                else if (!strcmp(line, "fstype"))
                        c->fstype = v;
                else if (!strcmp(line, "ro"))
                        c->ro = !strcmp(v, "1");
                else if (!strcmp(line, "init"))
                        c->init = v;
                else if (!strcmp(line, "arg"))
                        list_push(&args, &nargs, v);
                else if (!strcmp(line, "env"))
                        list_push(&c->env, &c->envc, v);
                else if (!strcmp(line, "hostname"))
                        c->hostname = v;
                else if (!strcmp(line, "agent"))
                        c->agent = v;
                else if (!strcmp(line, "ip"))
                        c->ip = v;
                else if (!strcmp(line, "gw"))
                        c->gw = v;
                else if (!strcmp(line, "iface"))
                        c->iface = v;
                else if (!strcmp(line, "resolv"))
                        list_push(&c->resolv, &c->nresolv, v);
                else
                        say("config: unknown key '%s', ignored", line);
        }
        if (c->init[0] != '/')
                fatal("config", "init=%s is not an absolute path", c->init);
        list_push(&c->argv, &c->argc, (char *)c->init);
        for (size_t i = 0; i < nargs; i++)
                list_push(&c->argv, &c->argc, args[i]);
        free(args);
        bool has_path = false;
        for (size_t i = 0; i < c->envc; i++)
                has_path |= !strncmp(c->env[i], "PATH=", 5);
        if (!has_path)
                list_push(&c->env, &c->envc, "PATH=" DEFAULT_PATH);
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
                fatal("mount", "mkdir %s: %s", dst, strerror(errno));
        /* EBUSY: the kernel mounted it already (CONFIG_DEVTMPFS_MOUNT). */
        if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
                fatal("mount", "%s on %s: %s", type, dst, strerror(errno));
}

static void kernel_mounts(void)
{
        mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
        console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        ensure_std_fds("/dev/console");
        mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mount_or_die("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
}

static void load_modules(void)
{
        char *text = read_text("/ctr/modules");
        char *save = NULL;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, "\r")] = 0;
                if (!line[0] || line[0] == '#')
                        continue;
                _cleanup_close_ int fd = open(line, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        fatal("modules", "open %s: %s", line, strerror(errno));
                /* ENOENT from here is an unknown symbol: a module listed before its dependency. */
                if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
                        fatal("modules", "load %s: %s", line, strerror(errno));
        }
        free(text);
}

static void if_up(int sock, const char *name)
{
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
                fatal("network", "%s: SIOCGIFFLAGS: %s", name, strerror(errno));
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
                fatal("network", "%s: up: %s", name, strerror(errno));
}

static void set_inaddr(struct sockaddr *sa, struct in_addr a)
{
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
        memcpy(sa, &sin, sizeof(sin));
}

static void network_setup(const struct config *c)
{
        _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                fatal("network", "socket: %s", strerror(errno));
        /* The kernel gives lo 127.0.0.1/8 itself when it comes up. */
        if_up(sock, "lo");

        char addr[64];
        snprintf(addr, sizeof(addr), "%s", c->ip);
        char *slash = strchr(addr, '/'), *end = NULL;
        struct in_addr ip, mask, gw;
        unsigned long prefix = slash ? strtoul(slash + 1, &end, 10) : 0;
        if (!slash || end == slash + 1 || *end || prefix > 32 || (*slash = 0, inet_pton(AF_INET, addr, &ip) != 1))
                fatal("config", "ip=%s is not an IPv4 ADDR/PREFIX", c->ip);
        mask.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
        if (c->gw && inet_pton(AF_INET, c->gw, &gw) != 1)
                fatal("config", "gw=%s is not an IPv4 address", c->gw);

        for (long t = 0; !if_nametoindex(c->iface); t += 20) {
                if (t >= 5000)
                        fatal("network", "%s did not appear within 5 s", c->iface);
                sleep_ms(20);
        }
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->iface);
        set_inaddr(&ifr.ifr_addr, ip);
        if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
                fatal("network", "%s: address %s: %s", c->iface, c->ip, strerror(errno));
        set_inaddr(&ifr.ifr_netmask, mask);
        if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
                fatal("network", "%s: netmask /%lu: %s", c->iface, prefix, strerror(errno));
        if_up(sock, c->iface);
        if (!c->gw)
                return;
        struct rtentry rt = {0};
        set_inaddr(&rt.rt_dst, (struct in_addr){0});
        set_inaddr(&rt.rt_genmask, (struct in_addr){0});
        set_inaddr(&rt.rt_gateway, gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = (char *)c->iface;
        if (ioctl(sock, SIOCADDRT, &rt) < 0)
                fatal("network", "default route via %s: %s", c->gw, strerror(errno));
}

/* As a namespace container's: the file the host wrote, bound over the tree's /etc/resolv.conf
 * (a regular file there; a symlink, say to a resolver's stub, is left alone), so the disk is not
 * changed. The file lives in the initramfs, which stays in memory under the new root. */
static void resolv_setup(const struct config *c)
{
        struct stat st;
        if (lstat("/newroot/etc/resolv.conf", &st) < 0 || !S_ISREG(st.st_mode)) {
                say("network: /etc/resolv.conf is not a regular file in the root: left as it is");
                return;
        }
        int fd = open("/ctr/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                fatal("network", "write /ctr/resolv.conf: %s", strerror(errno));
        for (size_t i = 0; i < c->nresolv; i++)
                if (write_all(fd, (const uint8_t *)c->resolv[i], strlen(c->resolv[i])) < 0 ||
                    write_all(fd, (const uint8_t *)"\n", 1) < 0)
                        fatal("network", "write /ctr/resolv.conf: %s", strerror(errno));
        close(fd);
        if (mount("/ctr/resolv.conf", "/newroot/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
                fatal("network", "bind /etc/resolv.conf: %s", strerror(errno));
}

/* The container keeps the kernel filesystems mounted here; a root without the directory gets none. */
static void move_kernel_mount(const char *path)
{
        char dst[64];
        struct stat st;
        snprintf(dst, sizeof(dst), "/newroot%s", path);
        if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (mount(path, dst, NULL, MS_MOVE, NULL) < 0)
                        fatal("mount", "move %s to %s: %s", path, dst, strerror(errno));
        } else if (umount2(path, MNT_DETACH) < 0) {
                say("mount: unmount %s: %s", path, strerror(errno));
        }
}

static void __attribute__((noreturn)) pid1_main(void)
{
        vm_mode = true;
        kernel_mounts();
        struct config c;
        config_read(&c);
        load_modules();

        if (!wait_path(c.root, 10000))
                fatal("root", "%s did not appear within 10 s", c.root);
        if (mkdir("/newroot", 0755) < 0 && errno != EEXIST)
                fatal("root", "mkdir /newroot: %s", strerror(errno));
        if (mount(c.root, "/newroot", c.fstype, c.ro ? MS_RDONLY : 0, NULL) < 0)
                fatal("root", "mount %s (%s) on /newroot: %s", c.root, c.fstype, strerror(errno));

        if (c.ip)
                network_setup(&c);
        if (c.nresolv)
                resolv_setup(&c);
        if (c.hostname && sethostname(c.hostname, strlen(c.hostname)) < 0)
                fatal("hostname", "%s: %s", c.hostname, strerror(errno));

        /* Opened before /dev moves into the new root: the path is the initramfs's view. */
        if (!wait_path(c.agent, 5000))
                fatal("agent", "%s did not appear within 5 s", c.agent);
        int agent_fd = open(c.agent, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (agent_fd < 0)
                fatal("agent", "open %s: %s", c.agent, strerror(errno));
        make_raw(agent_fd);

        move_kernel_mount("/dev");
        move_kernel_mount("/proc");
        move_kernel_mount("/sys");

        /* The child inherits this cwd, the new root's mount, and keeps it when the parent moves that
         * mount onto /: chroot(".") there cannot race with the move. */
        if (chdir("/newroot") < 0)
                fatal("root", "chdir /newroot: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
                fatal("agent", "fork: %s", strerror(errno));
        if (pid == 0) {
                if (chroot(".") < 0 || chdir("/") < 0)
                        fatal("agent", "chroot: %s", strerror(errno));
                agent_main(agent_fd, agent_fd);
        }
        close(agent_fd);

        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                fatal("root", "move /newroot to /: %s", strerror(errno));
        if (chroot(".") < 0 || chdir("/") < 0)
                fatal("root", "chroot: %s", strerror(errno));
        execve(c.init, c.argv, c.env);
        fatal("exec", "%s: %s", c.init, strerror(errno));
}

int main(int argc, char **argv)
{
        if (argc == 2 && !strcmp(argv[1], "--agent")) {
                make_raw(STDIN_FILENO);
                agent_main(STDIN_FILENO, STDOUT_FILENO);
        }
        if (getpid() != 1) {
                fprintf(stderr, "usage: ctr-vminit (as a VM's PID 1) | ctr-vminit --agent\n");
                return 2;
        }
        pid1_main();
}
