/* exec: a child born in the container's cgroup (CLONE_INTO_CGROUP) and pid namespace, which
 * joins the other namespaces through a pidfd of init and execs the command; with -t the pty is
 * allocated from the container's own devpts and its master relayed here. */
#define _GNU_SOURCE
#include "exec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../rootfs/rootfs.h"
#include "../vm/agent.h"
#include "config.h"
#include "container.h"
#include "control.h"
#include "monitor.h"
#include "spawn.h"
#include "../security/caps.h"
#include "../base/util.h"

extern char **environ;


/* The command's environment: PATH, HOME, USER, container=ctr, TERM with a tty, then the
 * container's env, then exec's -e. */
/* The environment of an exec: the config's over ctr's defaults, the command line's over both;
 * HOME and USER come from the user's passwd entry inside, where these set none. */
static char **exec_env(const struct ctr_config *cfg, const struct ctr_exec_opts *o)
{
        char **env = NULL;
        ctr_config_env_set(&env, "PATH=" CTR_DEFAULT_PATH, NULL);
        ctr_config_env_set(&env, "container=ctr", NULL);
        if (o->tty) {
                const char *term = getenv("TERM");
                _cleanup_free_ char *t = xasprintf("TERM=%s", term && *term ? term : "xterm");
                ctr_config_env_set(&env, t, NULL);
        }
        for (char **e = cfg->env; e && *e; e++)
                ctr_config_env_set(&env, *e, NULL);
        for (char **e = o->env; e && *e; e++)
                ctr_config_env_set(&env, *e, NULL);
        return env;
}

int ctr_exec_compile(const struct ctr_config *cfg, const struct ctr_exec_opts *o, int init_pidfd, struct ctr_spec *spec,
                     struct ctr_error *err)
{
        struct ctr_spec_process *p = &spec->process;
        ctr_spec_init(spec);
        spec->what = xstrdup("the exec process");
        /* Born in the container's pid namespace, then into the rest of init's. A user-namespaced
         * container's other namespaces belong to its user namespace: that one is joined too. */
        spec->pidns_fd = init_pidfd;
        spec->join_pidfd = init_pidfd;
        spec->join_pidfd_types = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNET |
                                 (cfg->userns ? CLONE_NEWUSER : 0);
        /* Not ptrace-able by the container's processes while it still holds host state. */
        spec->dumpable = false;
        spec->die_with_parent = true;
        spec->root = CTR_ROOT_NONE;
        /* The pty comes from the container's devpts, so the command sees /dev/pts/N there. */
        spec->console = o->tty ? CTR_CONSOLE_PASS : CTR_CONSOLE_INHERIT;
        p->argv = strv_copy(o->argv);
        p->env = exec_env(cfg, o);
        p->user = xstrdup(o->user ? o->user : "0");
        p->user_env = true;
        p->cwd = o->cwd ? xstrdup(o->cwd) : NULL;
        p->cwd_home = true;
        p->umask = 022;
        p->shell_status = true;
        p->fail_status = 125;
        return ctr_spawn_compile_confinement(cfg, p, err);
}

/* With -t the child passes the master of the pty it opened in the container's devpts. */
static int exec_on_step(void *data, pid_t pid, int pidfd, int sock, const struct ctr_sync_msg *m, int *fd,
                        struct ctr_error *err)
{
        int *master = data;
        if (m->step != CTR_SYNC_FD || *fd < 0 || *master >= 0)
                return ctr_err(err, EPROTO, "sync", "unexpected step %d from the exec process", (int)m->step);
        *master = *fd;
        *fd = -1;
        return 0;
}

static struct termios saved_tio;
static bool tio_saved;

void ctr_tty_restore(void)
{
        if (tio_saved)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = false;
}

void ctr_tty_raw(void)
{
        struct termios t;
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
                return;
        tio_saved = true;
        t = saved_tio;
        cfmakeraw(&t);
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* Copy stdin -> master and master -> stdout until the master closes. */
static void relay_pty(int master, int sfd, pid_t child)
{
        bool in_open = true;
        char buf[8192];
        for (;;) {
                struct pollfd pf[3] = {{.fd = master, .events = POLLIN},
                                       {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
                                       {.fd = sfd, .events = POLLIN}};
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (pf[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH) {
                                        struct winsize ws;
                                        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                                ioctl(master, TIOCSWINSZ, &ws);
                                } else if (si.ssi_signo != SIGCHLD)
                                        kill(child, si.ssi_signo);
                        }
                }
                if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n <= 0)
                                return; /* EIO: every slave closed, the command is done */
                        ctr_write_all(STDOUT_FILENO, buf, n);
                }
                if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0) {
                                in_open = false;
                                /* End of input: send the terminal's EOF character. */
                                ctr_write_all(master, "\x04", 1);
                        } else
                                ctr_write_all(master, buf, n);
                }
        }
}

/* The cgroup an exec'd process joins: the container's own, unless a manager inside (systemd)
 * has enabled controllers below it - then no process may live there (cgroup v2's "no internal
 * processes"), and it joins its init's cgroup instead, as LXC's attach does. */
static char *exec_cgroup(const struct ctr_state *st)
{
        _cleanup_free_ char *sub = NULL, *own = NULL, *scpath = xasprintf("%s/cgroup.subtree_control", st->cgroup);
        struct ctr_cg_host h;
        if (ctr_read_file(scpath, 4096, &sub, NULL) < 0 || !sub[strspn(sub, " \n")] || ctr_cgroup_detect(&h, NULL) < 0)
                return xstrdup(st->cgroup);
        char procp[64];
        snprintf(procp, sizeof(procp), "/proc/%d/cgroup", (int)st->init_pid);
        if (ctr_read_file(procp, 4096, &own, NULL) < 0)
                return xstrdup(st->cgroup);
        char *line = strstr(own, "0::");
        if (!line || (line != own && line[-1] != '\n'))
                return xstrdup(st->cgroup);
        line += 3;
        line[strcspn(line, "\n")] = 0;
        char *path = xasprintf("%s%s", h.mount, line);
        size_t n = strlen(st->cgroup);
        /* Only ever a cgroup inside the container's own. */
        if (strncmp(path, st->cgroup, n) || (path[n] != '/' && path[n] != 0) || strstr(path + n, "/..")) {
                free(path);
                return xstrdup(st->cgroup);
        }
        return path;
}

/* --- exec into a VM --------------------------------------------------------------------- */

static int vm_send(int sock, uint32_t type, const void *p, size_t len)
{
        return ctr_ctl_send(sock, CTR_CTL_AGENT, type, 0, p, len);
}

static int vm_send_u32(int sock, uint32_t type, uint32_t v)
{
        uint8_t b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
        return vm_send(sock, type, b, sizeof(b));
}

static uint32_t get_le32(const char *p, size_t len)
{
        const uint8_t *b = (const uint8_t *)p;
        return len < 4 ? 0 : (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A VM's command runs in the guest, started by its agent through the monitor (runtime/relay.h).
 * The user is looked up in the container's tree, which the VM's disk is built from; stdio,
 * signals and the window size are relayed, the exit status comes back as for a namespace exec.
 * Input is read only once the command runs, and only while the socket takes it, so the relay's
 * queues stay bounded and output always flows. */
static int exec_vm(const struct ctr_paths *p, const char *name, const struct ctr_config *cfg,
                   const struct ctr_exec_opts *o, int *ret_status, struct ctr_error *err)
{
        struct ctr_user u = {.uid = 0, .gid = 0, .home = "/root"};
        _cleanup_free_ char *rootfs = ctr_path_rootfs(p, name), *passwd = NULL;
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int pwfd = rootfd < 0 ? -EBADF : ctr_rootfs_open_in_root(rootfd, "/etc/passwd", O_PATH);
        if (pwfd >= 0) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", pwfd);
                ctr_read_file(path, 1 << 20, &passwd, NULL);
        }
        if (o->user && ctr_user_lookup(passwd ? passwd : "", o->user, &u, err) < 0)
                return -err->errnum;
        if (!o->user && passwd)
                ctr_user_lookup(passwd, "0", &u, NULL);
        char **env = exec_env(cfg, o);
        ctr_user_env(&env, &u);
        const char *cwd = o->cwd ? o->cwd : (*u.home ? u.home : "/");
        struct winsize ws = {0};
        if (o->tty)
                ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
        _cleanup_free_ uint8_t *payload = malloc(CTR_AGENT_MAX_PAYLOAD);
        if (!payload)
                abort();
        int len = ctr_agent_exec_payload(payload, CTR_AGENT_MAX_PAYLOAD, o->tty ? 1 : 0, ws.ws_row, ws.ws_col, u.uid,
                                         u.gid, cwd, o->argv, env);
        strv_free(env);
        if (len == -E2BIG)
                return ctr_err(err, E2BIG, "exec", "the command and its environment exceed %d bytes",
                               CTR_AGENT_MAX_PAYLOAD);
        if (len < 0)
                return ctr_err(err, EINVAL, "exec", "an empty string in the command or its environment cannot be "
                                                    "passed to a VM");

        _cleanup_close_ int sock = -1, sfd = -1;
        int r = ctr_ctl_connect(p, name, &sock, err);
        if (r < 0)
                return r;
        if ((r = vm_send(sock, CTR_AGENT_EXEC, payload, (size_t)len)) < 0)
                return ctr_err_sys(err, -r, "exec", "talk to the monitor");
        ctr_fd_set_nonblock(sock, true);

        sigset_t mask;
        sigemptyset(&mask);
        int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&mask, fwd[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

        bool started = false, in_open = true, raw = false;
        char errmsg[sizeof(err->msg)] = "";
        /* One message read from stdin but not yet taken by the socket. */
        _cleanup_free_ char *inbuf = malloc(CTR_CTL_MAX_DATA), *buf = malloc(CTR_CTL_MAX_DATA);
        if (!inbuf || !buf)
                abort();
        ssize_t in_len = -1; /* -1: nothing held; 0: a held STDIN_EOF */
        for (;;) {
                struct pollfd pf[3] = {
                        {.fd = sock, .events = POLLIN | (in_len >= 0 ? POLLOUT : 0)},
                        {.fd = started && in_open && in_len < 0 ? STDIN_FILENO : -1, .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                };
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = ctr_err_sys(err, errno, "exec", "poll");
                        break;
                }
                if (pf[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (o->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                                                uint8_t b[4] = {ws.ws_row & 0xff, ws.ws_row >> 8, ws.ws_col & 0xff,
                                                                ws.ws_col >> 8};
                                                vm_send(sock, CTR_AGENT_RESIZE, b, sizeof(b));
                                        }
                                } else
                                        vm_send_u32(sock, CTR_AGENT_SIGNAL, si.ssi_signo);
                        }
                }
                if (pf[0].revents & POLLOUT && in_len >= 0) {
                        int q = in_len ? vm_send(sock, CTR_AGENT_STDIN, inbuf, (size_t)in_len)
                                       : vm_send(sock, CTR_AGENT_STDIN_EOF, NULL, 0);
                        if (q == 0 || q != -EAGAIN)
                                in_len = -1;
                }
                if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        struct ctr_ctl_hdr h;
                        ssize_t n = ctr_ctl_recv(sock, &h, buf, CTR_CTL_MAX_DATA);
                        if (n == -EAGAIN)
                                continue;
                        if (n < 0) {
                                r = ctr_err(err, EPIPE, "exec", "%s",
                                            *errmsg ? errmsg : "the monitor closed the session before the command ended");
                                break;
                        }
                        if (h.type == CTR_CTL_REPLY) {
                                r = ctr_err(err, h.arg1 ? (int)h.arg1 : EPROTO, "exec", "%.*s", (int)n, buf);
                                break;
                        }
                        if (h.type != CTR_CTL_AGENT)
                                continue;
                        if (h.arg1 == CTR_AGENT_STARTED) {
                                started = true;
                                if (o->tty && !raw) {
                                        ctr_tty_raw();
                                        raw = true;
                                }
                        } else if (h.arg1 == CTR_AGENT_STDOUT)
                                ctr_write_all(STDOUT_FILENO, buf, (size_t)n);
                        else if (h.arg1 == CTR_AGENT_STDERR)
                                ctr_write_all(STDERR_FILENO, buf, (size_t)n);
                        else if (h.arg1 == CTR_AGENT_ERROR)
                                snprintf(errmsg, sizeof(errmsg), "%.*s", (int)n, buf);
                        else if (h.arg1 == CTR_AGENT_EXIT) {
                                int status = (int)get_le32(buf, (size_t)n);
                                if (status == 125 || *errmsg) {
                                        /* The agent could not start it, or the VM went away under it. */
                                        r = ctr_err(err, EIO, "exec", "%s", *errmsg ? errmsg : "the guest failed to start it");
                                        *ret_status = status == 255 ? 255 : 125;
                                } else {
                                        *ret_status = status;
                                        r = 0;
                                }
                                break;
                        }
                }
                if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(STDIN_FILENO, inbuf, CTR_CTL_MAX_DATA);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                in_open = false;
                        int q = n > 0 ? vm_send(sock, CTR_AGENT_STDIN, inbuf, (size_t)n)
                                      : vm_send(sock, CTR_AGENT_STDIN_EOF, NULL, 0);
                        if (q == -EAGAIN)
                                in_len = n > 0 ? n : 0;
                }
        }
        if (raw)
                ctr_tty_restore();
        return r;
}

int ctr_exec(const struct ctr_paths *p, const char *name, const struct ctr_exec_opts *o, int *ret_status,
             struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        __attribute__((cleanup(ctr_spec_free))) struct ctr_spec spec;
        ctr_spec_init(&spec);
        bool stale;
        int r, status = 0;
        _cleanup_close_ int pidfd = -1, cgfd = -1, cpidfd = -1, master = -1, sfd = -1;
        _cleanup_free_ char *cgpath = NULL, *leaf = NULL, *v1 = NULL;

        *ret_status = 125;

        r = ctr_container_load(p, name, &cfg, err);
        if (r < 0)
                return r;
        r = ctr_state_probe(p, name, &st, &stale, err);
        if (r < 0)
                goto out;
        if (st.status != CTR_RUNNING) {
                r = ctr_err(err, ESRCH, "exec", "the container is %s, not running", ctr_status_name(st.status));
                goto out;
        }
        if (cfg.vm) {
                r = exec_vm(p, name, &cfg, o, ret_status, err);
                goto out;
        }
        pidfd = ctr_pidfd_open(st.init_pid, 0);
        /* Checked after opening: the pidfd pins the process, so a recycled pid cannot slip in. */
        if (pidfd < 0 || !ctr_proc_alive(st.init_pid, st.init_start)) {
                r = ctr_err(err, ESRCH, "exec", "the container's init (pid %d) is gone", (int)st.init_pid);
                goto out;
        }
        cgpath = exec_cgroup(&st);
        cgfd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0) {
                r = ctr_err_sys(err, errno, "exec", "open cgroup %s", cgpath);
                goto out;
        }
        sigset_t mask;
        sigemptyset(&mask);
        int fwd[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&mask, fwd[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

        if ((r = ctr_exec_compile(&cfg, o, pidfd, &spec, err)) < 0)
                goto out;
        if (p->debug_fd >= 0)
                ctr_spec_write(&spec, p->debug_fd);
        int child_status = 0;
        /* The v1 cgroups too, on a hybrid host: derived from the name, the record only says
         * whether they were made. */
        leaf = ctr_monitor_cgroup_leaf(p, name);
        v1 = st.cgroup_v1 ? xasprintf(CTR_CGROUP_PARENT "/%s", leaf) : NULL;
        struct ctr_launch l = {
                .cgroup_fd = cgfd,
                .cgroup_path = cgpath,
                .v1_rel = v1,
                .on_step = exec_on_step,
                .data = &master,
                .ret_child_status = &child_status,
        };
        ctr_launch_spec(&l, &spec);
        struct ctr_launched out;
        if ((r = ctr_launch(&l, &out, err)) < 0) {
                /* Command not found / not executable keep the shell's 127 / 126. */
                *ret_status = child_status == 127 || child_status == 126 ? child_status : 125;
                goto out;
        }
        pid_t pid = out.pid;
        cpidfd = out.pidfd;

        if (master >= 0) {
                ctr_tty_raw();
                relay_pty(master, sfd, pid);
                ctr_tty_restore();
        }
        for (;;) {
                struct pollfd pf = {.fd = sfd, .events = POLLIN};
                siginfo_t si = {0};
                if (waitid(P_PIDFD, cpidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
                        status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                        break;
                }
                if (poll(&pf, 1, -1) > 0) {
                        struct signalfd_siginfo ssi;
                        while (read(sfd, &ssi, sizeof(ssi)) == sizeof(ssi))
                                if (ssi.ssi_signo != SIGCHLD && ssi.ssi_signo != SIGWINCH)
                                        kill(pid, ssi.ssi_signo);
                }
        }
        *ret_status = status;
        r = 0;
out:
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

/* --- attach ----------------------------------------------------------------------------- */

#define DETACH_KEY 0x1d /* Ctrl-] */
#define QUIET_AFTER_EOF_MS 500

int ctr_attach(const struct ctr_paths *p, const char *name, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        bool stale;
        _cleanup_close_ int sock = -1, sfd = -1;
        int r = ctr_container_load(p, name, &cfg, err);
        if (r < 0)
                return r;
        ctr_config_free(&cfg);
        r = ctr_state_probe(p, name, &st, &stale, err);
        if (r < 0)
                return r;
        enum ctr_status s = st.status;
        ctr_state_free(&st);
        if (s != CTR_RUNNING && s != CTR_FROZEN)
                return ctr_err(err, ESRCH, "attach", "the container is %s, not running", ctr_status_name(s));
        r = ctr_ctl_connect(p, name, &sock, err);
        if (r < 0)
                return r;
        struct winsize ws = {0};
        bool tty = isatty(STDIN_FILENO);
        if (tty)
                ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
        r = ctr_ctl_send(sock, CTR_CTL_ATTACH, ws.ws_row, ws.ws_col, NULL, 0);
        if (r < 0)
                return ctr_err_sys(err, -r, "attach", "talk to the monitor");

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (tty) {
                fprintf(stderr, "Connected to %s's console; detach with Ctrl-]\r\n", name);
                ctr_tty_raw();
        }
        bool in_open = true;
        uint64_t eof_at = 0, last_out = 0;
        char buf[CTR_CTL_MAX_DATA];
        r = 0;
        for (;;) {
                int timeout = -1;
                if (!in_open) {
                        uint64_t now = ctr_now_ms(), ref = last_out > eof_at ? last_out : eof_at;
                        if (now >= ref + QUIET_AFTER_EOF_MS)
                                break;
                        timeout = (int)(ref + QUIET_AFTER_EOF_MS - now);
                }
                struct pollfd pf[3] = {{.fd = sock, .events = POLLIN},
                                       {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
                                       {.fd = sfd, .events = POLLIN}};
                int n = poll(pf, 3, timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                        ctr_ctl_send(sock, CTR_CTL_RESIZE, ws.ws_row, ws.ws_col, NULL, 0);
                }
                if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        struct ctr_ctl_hdr h;
                        ssize_t len = ctr_ctl_recv(sock, &h, buf, sizeof(buf));
                        if (len < 0)
                                break; /* the container stopped */
                        if (h.type == CTR_CTL_DATA) {
                                ctr_write_all(STDOUT_FILENO, buf, len);
                                last_out = ctr_now_ms();
                        }
                }
                if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t len = read(STDIN_FILENO, buf, sizeof(buf));
                        if (len <= 0) {
                                in_open = false;
                                eof_at = ctr_now_ms();
                                continue;
                        }
                        char *k = tty ? memchr(buf, DETACH_KEY, len) : NULL;
                        if (k)
                                len = k - buf;
                        if (len > 0)
                                ctr_ctl_send(sock, CTR_CTL_DATA, 0, 0, buf, len);
                        if (k)
                                break;
                }
        }
        if (tty) {
                ctr_tty_restore();
                fprintf(stderr, "\nDetached from %s.\n", name);
        }
        return r;
}
