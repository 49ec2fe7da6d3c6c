/* The monitor: creates the cgroup and console, spawns init, records state, then serves the
 * control socket and console until init exits; stop policy (signal, timeout, cgroup kill) and
 * teardown live here, so nothing (cgroup, socket, state) outlives the container's run. */
#define _GNU_SOURCE
#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../rootfs/rootfs.h"
#include "control.h"
#include "network.h"
#include "relay.h"
#include "spawn.h"
#include "../base/util.h"
#include "../vm/agent.h"
#include "../vm/vm.h"

#define CONSOLE_LOG_MAX (1 << 20)
#define MAX_CLIENTS 64

struct client {
        int fd;
        bool attached;
        uint32_t events; /* what epoll watches for it */
};

struct monitor {
        const struct ctr_monitor_args *a;
        const struct ctr_config *cfg;
        struct ctr_state st;
        struct ctr_cg_host cg;
        char *rundir;
        int rundir_fd;
        int epfd, sfd, lfd, tfd;
        int master, slave;
        int logfd;
        uint64_t log_size;
        char *log_path;
        int cgfd;
        pid_t init;
        int init_pidfd;
        int stop_signal;
        bool stop_requested;
        bool init_exited;
        bool init_reboot; /* how it ended asks for a new init (reboot(2) inside, a VM's reset) */
        int init_status; /* wait status */
        bool timed_out;  /* ctr run --timeout fired */
        int run_signals; /* signals passed to a ctr run command so far */
        int spawn_status; /* what a failed ctr run child asked to exit with (126, 127) */
        uint64_t ns_ino[CTR_RUN_N_NAMESPACES]; /* ctr run: the command's namespaces */
        struct ctr_net_run net;
        char *console_path;
        int nfd;         /* notify socket the container's init reports readiness on */
        char *notify_dir; /* its directory, bound on CTR_NOTIFY_DIR inside at every (re)start */
        int rtfd;        /* readiness fallback timer */
        bool ready_sent; /* READY=1 went to the host's $NOTIFY_SOCKET (foreground mode) */
        int quick_reboots; /* reboots less than 10 s after the previous start */
        struct client clients[MAX_CLIENTS];
        size_t n_clients;
        /* VM mode: the VMM process stands where init does; the agent's stream comes here. */
        int agent_fd;
        struct ctr_agent_reader *agent;
        bool agent_ready;
        uint32_t agent_events;
        struct ctr_relay *relay; /* exec sessions on the agent's stream */
        int tap_fd;              /* bridge mode: the VM's NIC, kept across its reboots */
        int vmm_ctl;         /* the VMM's control channel (vm.h ctr_vm_ctl_req), or -1 */
        int snap_client;     /* the client a live snapshot answers, or -1 */
        char *vm_restore;    /* the first start resumes this live snapshot (CTR_VM_RESTORE) */
};

/* ctr run keeps the command's stderr byte-exact: the monitor says nothing there. */
static bool mlog_quiet;

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mlog(const char *fmt, ...)
{
        if (mlog_quiet)
                return;
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        va_list ap;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
        fprintf(stderr, "%s monitor[%d]: ", ts, (int)getpid());
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        fflush(stderr);
}

char *ctr_monitor_cgroup_leaf(const struct ctr_paths *p, const char *name)
{
        if (!strcmp(p->root, "/var/lib/ctr"))
                return xasprintf("%s.scope", name);
        /* Private roots (tests) may reuse names: a hash of the root keeps their cgroups apart. */
        uint32_t h = 2166136261u;
        for (const char *s = p->root; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return xasprintf("%s-%08x.scope", name, h);
}

int ctr_monitor_stop_signal(const struct ctr_config *cfg, const char *rootfs)
{
        if (cfg->stop_signal)
                return ctr_signal_from_name(cfg->stop_signal);
        /* Resolve init inside the rootfs: systemd wants SIGRTMIN+3, busybox init powers off on
         * SIGUSR2 (it ignores SIGPWR), other inits get SIGPWR as in LXC. An overlay's mount point
         * is empty outside the container: look in its upper layer, then the lower. */
        _cleanup_free_ char *upper = NULL;
        if (!strcmp(cfg->storage_driver, "overlay") && cfg->storage_lower) {
                _cleanup_free_ char *dir = xstrdup(rootfs);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                upper = xasprintf("%s/upper", dir);
                _cleanup_free_ char *probe = xasprintf("%s%s", upper, cfg->init[0]);
                struct stat st;
                if (lstat(probe, &st) < 0)
                        rootfs = cfg->storage_lower;
                else
                        rootfs = upper;
        }
        _cleanup_free_ char *base = ctr_rootfs_resolve_name(rootfs, cfg->init[0]);
        if (base && !strcmp(base, "systemd"))
                return SIGRTMIN + 3;
        if (base && !strcmp(base, "busybox"))
                return SIGUSR2;
        return SIGPWR;
}

static int save_state(struct monitor *m, enum ctr_status s)
{
        struct ctr_error err = {0};
        m->st.status = s;
        m->st.transition_at = time(NULL);
        int r = ctr_state_save(m->a->paths, m->cfg->name, &m->st, &err);
        if (r < 0)
                mlog("%s", err.msg);
        return r;
}

/* --- console ---------------------------------------------------------------------------- */

static int open_console(struct monitor *m, char **ret_path, struct ctr_error *err)
{
        m->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m->master < 0)
                return ctr_err_sys(err, errno, "console", "open /dev/ptmx");
        if (grantpt(m->master) < 0 || unlockpt(m->master) < 0)
                return ctr_err_sys(err, errno, "console", "unlock pty");
        char name[64];
        if (ptsname_r(m->master, name, sizeof(name)) != 0)
                return ctr_err_sys(err, errno, "console", "ptsname");
        /* The monitor keeps a slave open so the master never reports a hang-up while init has
         * no console open (e.g. between a getty's exit and its respawn). */
        m->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m->slave < 0)
                return ctr_err_sys(err, errno, "console", "open %s", name);
        struct winsize ws = {.ws_row = 24, .ws_col = 80};
        ioctl(m->master, TIOCSWINSZ, &ws);
        ctr_fd_set_nonblock(m->master, true);
        *ret_path = xstrdup(name);
        return 0;
}

static void log_open(struct monitor *m)
{
        m->logfd = open(m->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        struct stat st;
        m->log_size = m->logfd >= 0 && fstat(m->logfd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void log_console(struct monitor *m, const char *buf, size_t n)
{
        if (m->logfd < 0)
                return;
        /* Bounded: one rotation keeps at most 2 MiB per container. */
        if (m->log_size + n > CONSOLE_LOG_MAX) {
                _cleanup_free_ char *old = xasprintf("%s.1", m->log_path);
                close(m->logfd);
                rename(m->log_path, old);
                log_open(m);
                if (m->logfd < 0)
                        return;
        }
        if (ctr_write_all(m->logfd, buf, n) > 0)
                m->log_size += n;
}

static void drop_client(struct monitor *m, size_t i)
{
        if (m->clients[i].fd == m->snap_client)
                m->snap_client = -1; /* the answer goes nowhere */
        if (m->relay)
                ctr_relay_client_gone(m->relay, m->clients[i].fd);
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->clients[i].fd, NULL);
        close(m->clients[i].fd);
        m->clients[i] = m->clients[--m->n_clients];
}

static void console_readable(struct monitor *m)
{
        char buf[CTR_CTL_MAX_DATA];
        for (;;) {
                ssize_t n = read(m->master, buf, sizeof(buf));
                if (n <= 0)
                        return;
                log_console(m, buf, n);
                if (m->a->foreground || m->a->run)
                        ctr_write_all(STDOUT_FILENO, buf, n);
                for (size_t i = 0; i < m->n_clients;) {
                        if (m->clients[i].attached &&
                            ctr_ctl_send(m->clients[i].fd, CTR_CTL_DATA, 0, 0, buf, n) < 0 && errno != EAGAIN) {
                                drop_client(m, i);
                                continue;
                        }
                        i++;
                }
        }
}

/* --- stop policy ------------------------------------------------------------------------- */

static void kill_now(struct monitor *m)
{
        struct ctr_error err = {0};
        if (m->init_exited)
                return;
        mlog("killing the container (SIGKILL to every process of its cgroup)");
        if (ctr_cgroup_kill(m->st.cgroup, &err) < 0)
                mlog("%s", err.msg);
        syscall(SYS_pidfd_send_signal, m->init_pidfd, SIGKILL, NULL, 0);
}

static int set_frozen(struct monitor *m, bool freeze, struct ctr_error *err)
{
        if (m->st.status == CTR_STOPPING)
                return ctr_err(err, EBUSY, freeze ? "freeze" : "unfreeze", "the container is stopping");
        int r = ctr_cgroup_freeze(m->st.cgroup, freeze, 10000, err);
        if (r < 0)
                return r;
        mlog("%s", freeze ? "frozen" : "thawed");
        return save_state(m, freeze ? CTR_FROZEN : CTR_RUNNING) < 0
                       ? ctr_err(err, EIO, "state", "cannot write state under %s", m->rundir)
                       : 0;
}

static void begin_stop(struct monitor *m, int timeout, bool kill)
{
        char sname[32];
        if (m->init_exited)
                return;
        /* A frozen init cannot act on its stop signal: thaw it first (a kill works either way,
         * but a thawed cgroup empties at once). */
        if (m->st.status == CTR_FROZEN) {
                struct ctr_error e = {0};
                if (ctr_cgroup_freeze(m->st.cgroup, false, 5000, &e) < 0)
                        mlog("%s", e.msg);
                m->st.status = CTR_RUNNING;
        }
        if (kill || timeout == 0) {
                kill_now(m);
                return;
        }
        if (m->stop_requested)
                return; /* the first request's timer runs; only --kill escalates */
        m->stop_requested = true;
        save_state(m, CTR_STOPPING);
        ctr_signal_name(m->stop_signal, sname, sizeof(sname));
        mlog("stopping: %s to init, SIGKILL after %d s", sname, timeout);
        if (m->cfg->vm) {
                /* The guest's init gets the signal from the agent, inside the guest. */
                uint32_t sig = m->stop_signal;
                if (!m->agent_ready || ctr_relay_agent_send(m->relay, CTR_AGENT_SHUTDOWN, 0, &sig, 4) < 0)
                        mlog("the guest agent is not up: the VM is killed after %d s", timeout);
        } else if (syscall(SYS_pidfd_send_signal, m->init_pidfd, m->stop_signal, NULL, 0) < 0)
                mlog("signal init: %s", strerror(errno));
        struct itimerspec its = {.it_value = {.tv_sec = timeout}};
        timerfd_settime(m->tfd, 0, &its, NULL);
}

static void client_readable(struct monitor *m, size_t i)
{
        struct ctr_ctl_hdr h;
        char buf[CTR_CTL_MAX_DATA];
        ssize_t n = ctr_ctl_recv(m->clients[i].fd, &h, buf, sizeof(buf));
        if (n < 0) {
                if (n != -EAGAIN)
                        drop_client(m, i);
                return;
        }
        switch (h.type) {
        case CTR_CTL_STOP:
                /* The client keeps its connection: EOF tells it the container is gone. */
                begin_stop(m, (int)h.arg1, h.arg2 != 0);
                break;
        case CTR_CTL_ATTACH:
                m->clients[i].attached = true;
                /* the attach request carries the client's window size */
                __attribute__((fallthrough));
        case CTR_CTL_RESIZE:
                if (h.arg1 && h.arg2) {
                        struct winsize ws = {.ws_row = h.arg1, .ws_col = h.arg2};
                        ioctl(m->master, TIOCSWINSZ, &ws);
                }
                break;
        case CTR_CTL_FREEZE: {
                struct ctr_error e = {0};
                set_frozen(m, h.arg1 != 0, &e);
                ctr_ctl_send(m->clients[i].fd, CTR_CTL_REPLY, e.errnum, 0, e.msg, strlen(e.msg));
                break;
        }
        case CTR_CTL_VM_SNAPSHOT: {
                const char *why = NULL;
                struct ctr_vm_ctl_req req = {.op = CTR_VM_CTL_SNAPSHOT};
                if (!m->cfg->vm)
                        why = "not a VM: --live snapshots need a --vm container";
                else if (m->st.status == CTR_FROZEN)
                        why = "the container is frozen; thaw it first";
                else if (m->vmm_ctl < 0 || m->init_exited)
                        why = "the VMM is not running";
                else if (m->snap_client >= 0)
                        why = "another live snapshot is being taken";
                else if (n <= 0 || (size_t)n >= sizeof(req.dir) || buf[0] != '/')
                        why = "the snapshot directory is not an absolute path";
                if (why) {
                        ctr_ctl_send(m->clients[i].fd, CTR_CTL_REPLY, m->cfg->vm ? EBUSY : ENOTSUP, 0, why, strlen(why));
                        break;
                }
                memcpy(req.dir, buf, n);
                if (send(m->vmm_ctl, &req, sizeof(req), MSG_NOSIGNAL) < 0) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "ask the VMM: %s", strerror(errno));
                        ctr_ctl_send(m->clients[i].fd, CTR_CTL_REPLY, EIO, 0, msg, strlen(msg));
                        break;
                }
                m->snap_client = m->clients[i].fd;
                mlog("live snapshot to %s", req.dir);
                break;
        }
        case CTR_CTL_AGENT:
                if (!m->relay) {
                        static const char no[] = "not a VM: exec joins its namespaces instead";
                        ctr_ctl_send(m->clients[i].fd, CTR_CTL_REPLY, ENOTSUP, 0, no, sizeof(no) - 1);
                        drop_client(m, i);
                } else if (ctr_relay_client_msg(m->relay, m->clients[i].fd, h.arg1, (const uint8_t *)buf, n) < 0)
                        drop_client(m, i);
                break;
        case CTR_CTL_DATA:
                if (m->clients[i].attached)
                        if (write(m->master, buf, n) < 0 && errno != EAGAIN) /* full queue drops keys */
                                mlog("console input: %s", strerror(errno));
                break;
        default: drop_client(m, i); break;
        }
}

static void host_ready(struct monitor *m, const char *why);

/* The VMM answered a live snapshot, or its channel ended (the VMM exited). */
static void vmm_ctl_readable(struct monitor *m)
{
        struct ctr_vm_ctl_reply rep = {0};
        ssize_t n = recv(m->vmm_ctl, &rep, sizeof(rep), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n != (ssize_t)sizeof(rep)) {
                epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->vmm_ctl, NULL);
                close(m->vmm_ctl);
                m->vmm_ctl = -1;
                rep = (struct ctr_vm_ctl_reply){.errnum = EPIPE};
                snprintf(rep.msg, sizeof(rep.msg), "the VMM ended before the snapshot was taken");
        }
        rep.op[sizeof(rep.op) - 1] = rep.msg[sizeof(rep.msg) - 1] = 0;
        if (m->snap_client < 0)
                return;
        char text[600];
        if (rep.errnum)
                snprintf(text, sizeof(text), "%s%s%s", rep.op, *rep.op ? ": " : "", rep.msg);
        else
                snprintf(text, sizeof(text), "%u", rep.paused_us);
        if (rep.errnum)
                mlog("live snapshot failed: %s", text);
        else
                mlog("live snapshot taken: the vCPUs paused %u us", rep.paused_us);
        ctr_ctl_send(m->snap_client, CTR_CTL_REPLY, rep.errnum > 0 ? rep.errnum : 0, 0, text, strlen(text));
        m->snap_client = -1;
}

static void agent_close(struct monitor *m, const char *why)
{
        if (m->agent_fd < 0)
                return;
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->agent_fd, NULL);
        close(m->agent_fd);
        m->agent_fd = -1;
        m->agent_ready = false;
        m->agent_events = 0;
        ctr_relay_link_down(m->relay, why);
        ctr_relay_set_agent(m->relay, -1);
}

/* Frames from the guest agent. READY: the guest's userspace runs (the readiness a VM reports);
 * frames of a session go to its exec client. */
static void agent_readable(struct monitor *m)
{
        uint8_t buf[16384];
        ssize_t n = read(m->agent_fd, buf, sizeof(buf));
        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        agent_close(m, "the VM stopped before the command ended");
                return;
        }
        size_t off = 0;
        while (off < (size_t)n) {
                off += ctr_agent_reader_feed(m->agent, buf + off, n - off);
                struct ctr_agent_hdr h;
                const uint8_t *payload;
                int k;
                while ((k = ctr_agent_reader_next(m->agent, &h, &payload)) > 0) {
                        if (h.type == CTR_AGENT_READY) {
                                m->agent_ready = true;
                                mlog("guest agent ready (kernel %.*s)", (int)h.len, (const char *)payload);
                                host_ready(m, "VM started (its agent is up)");
                                ctr_relay_agent_ready(m->relay);
                        } else if (h.chan != 0)
                                ctr_relay_agent_frame(m->relay, &h, payload);
                        else if (h.type == CTR_AGENT_ERROR)
                                mlog("guest agent: %.*s", (int)h.len, (const char *)payload);
                }
                if (k < 0) {
                        mlog("guest agent: malformed frame, resynchronising");
                        ctr_agent_reader_skip(m->agent);
                }
        }
}

static void accept_client(struct monitor *m)
{
        int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        if (m->n_clients == MAX_CLIENTS) {
                close(fd);
                return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                close(fd);
                return;
        }
        m->clients[m->n_clients++] = (struct client){.fd = fd, .events = EPOLLIN};
}

static void reap_init(struct monitor *m)
{
        siginfo_t si = {0};
        if (m->init_exited || waitid(P_PIDFD, m->init_pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return;
        m->init_exited = true;
        /* reboot(2) in a pid namespace kills its init with SIGHUP; the VMM exits 128 + SIGHUP
         * for a guest's reset. An init that exits 129 by itself has just stopped. */
        m->init_reboot = m->cfg->vm ? si.si_code == CLD_EXITED && si.si_status == 128 + SIGHUP
                                    : si.si_code != CLD_EXITED && si.si_status == SIGHUP;
        if (si.si_code == CLD_EXITED) {
                m->init_status = si.si_status;
                mlog("init exited with status %d", si.si_status);
        } else {
                m->init_status = 128 + si.si_status;
                mlog("init killed by signal %d", si.si_status);
        }
}

/* --- setup and teardown ------------------------------------------------------------------ */

static void teardown(struct monitor *m)
{
        struct ctr_error err = {0};
        /* The veth and forwards go first: nothing may reach a container that is going away. */
        if (m->cfg->net_mode == CTR_NET_BRIDGE && ctr_network_teardown(m->a->paths, m->cfg->name, &err) < 0)
                mlog("network: %s: %s", err.op, err.msg);
        ctr_net_run_free(&m->net);
        if (m->st.cgroup) {
                /* Anything left (processes that joined through exec) goes with the container. */
                if (ctr_cgroup_populated(m->st.cgroup))
                        ctr_cgroup_kill(m->st.cgroup, NULL);
                if (ctr_cgroup_remove(m->st.cgroup, 5000, &err) < 0)
                        mlog("%s", err.msg);
        }
        if (m->st.cgroup_v1)
                ctr_cgroup_v1_remove(m->st.cgroup_v1);
        if (m->rundir_fd >= 0) {
                unlinkat(m->rundir_fd, "monitor.sock", 0);
                unlinkat(m->rundir_fd, "notify/notify", 0);
                unlinkat(m->rundir_fd, "notify", AT_REMOVEDIR);
                unlinkat(m->rundir_fd, "state.json", 0);
                close(m->rundir_fd);
                m->rundir_fd = -1;
                if (rmdir(m->rundir) < 0 && errno != ENOENT)
                        mlog("remove %s: %s", m->rundir, strerror(errno));
        }
        /* Clients see EOF only now, when the container is really gone. */
        while (m->n_clients)
                drop_client(m, m->n_clients - 1);
}

/* --- readiness (sd_notify relay) --------------------------------------------------------- */

/* A datagram socket in RUNDIR/notify/, bound on /run/host/notify inside: the container's
 * systemd sends READY=1 there (NOTIFY_SOCKET), and the monitor passes it on to the host's. */
static int open_notify(struct monitor *m, char **ret_dir, struct ctr_error *err)
{
        _cleanup_free_ char *dir = xasprintf("%s/notify", m->rundir);
        _cleanup_free_ char *path = xasprintf("%s/notify", dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return ctr_err(err, ENAMETOOLONG, "notify", "socket path %s is too long", path);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return ctr_err_sys(err, errno, "notify", "create %s", dir);
        unlink(path);
        m->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m->nfd < 0)
                return ctr_err_sys(err, errno, "notify", "socket");
        strcpy(sa.sun_path, path);
        if (bind(m->nfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return ctr_err_sys(err, errno, "notify", "bind %s", path);
        /* Anyone in the container may write to it, as to systemd's own notify socket. */
        chmod(path, 0777);
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

static void send_host_notify(const char *msg)
{
        const char *sock = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!sock || (sock[0] != '/' && sock[0] != '@') || strlen(sock) >= sizeof(sa.sun_path))
                return;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        strncpy(sa.sun_path, sock, sizeof(sa.sun_path) - 1);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0;
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(sock);
        if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
                mlog("notify the host: %s", strerror(errno));
}

static void host_ready(struct monitor *m, const char *why)
{
        if (m->ready_sent || !m->a->foreground)
                return;
        m->ready_sent = true;
        char msg[256];
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s\nMAINPID=%d\n", why, (int)getpid());
        send_host_notify(msg);
        mlog("ready: %s", why);
        struct itimerspec off = {0};
        timerfd_settime(m->rtfd, 0, &off, NULL);
}

/* Seconds to wait for the container's own READY=1: CTR_READY_TIMEOUT (ctr start
 * --ready-timeout), else 90 for systemd (it reports) and 0 for inits that do not. */
static int ready_timeout(const struct monitor *m)
{
        const char *e = getenv("CTR_READY_TIMEOUT");
        if (e && *e)
                return atoi(e);
        return m->stop_signal == SIGRTMIN + 3 ? 90 : 0;
}

static void notify_readable(struct monitor *m)
{
        char buf[4096];
        ssize_t n;
        while ((n = recv(m->nfd, buf, sizeof(buf) - 1, 0)) > 0) {
                buf[n] = 0;
                bool ready = false;
                char status[200] = "";
                for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        if (!strcmp(l, "READY=1"))
                                ready = true;
                        else if (!strncmp(l, "STATUS=", 7))
                                snprintf(status, sizeof(status), "%s", l + 7);
                }
                if (ready) {
                        mlog("init reported READY=1");
                        char why[256];
                        snprintf(why, sizeof(why), "container %s is up%s%s", m->cfg->name, *status ? ": " : "",
                                 status);
                        host_ready(m, why);
                } else if (*status && m->ready_sent) {
                        char msg[256];
                        snprintf(msg, sizeof(msg), "STATUS=%s\n", status);
                        send_host_notify(msg);
                }
        }
}

static void start_readiness(struct monitor *m)
{
        int t = ready_timeout(m);
        if (t <= 0) {
                host_ready(m, "container started");
                return;
        }
        if (!m->a->foreground)
                return;
        mlog("waiting up to %d s for init's READY=1", t);
        struct itimerspec its = {.it_value = {.tv_sec = t}};
        timerfd_settime(m->rtfd, 0, &its, NULL);
}

static int attach_network(void *data, pid_t pid, int pidfd, struct ctr_error *err)
{
        struct monitor *m = data;
        if (m->a->run) {
                /* Read now, while the child waits: a short command is gone by the time it ran. */
                static const char *const ns[] = CTR_RUN_NAMESPACES;
                for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
                        char path[64];
                        struct stat sb;
                        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i]);
                        m->ns_ino[i] = stat(path, &sb) == 0 ? (uint64_t)sb.st_ino : 0;
                }
        }
        return ctr_network_attach(&m->net, m->cfg, pid, pidfd, err);
}

/* Clone the container's init into the cgroup open as cgfd, on the console; the network is
 * attached between clone and the child's first step. */
static int spawn_init(struct monitor *m, const char *rootfs, int cgfd, const char *console, struct ctr_error *err)
{
        struct ctr_spawn sp = {
                .before_go = attach_network,
                .before_go_data = m,
                .resolv_conf = m->net.resolv_conf,
                .net_unit = m->net.net_unit,
                .cfg = m->cfg,
                .rootfs = rootfs,
                .cgroup_path = m->st.cgroup,
                .cgroup_fd = cgfd,
                .console_fd = m->slave,
                .console_path = console,
                .notify_dir = m->notify_dir,
                .run = m->a->run,
                .ret_child_status = &m->spawn_status,
                .debug_fd = m->a->paths->debug_fd,
                .cgroup_v1 = m->st.cgroup_v1,
        };
        int r = ctr_spawn_init(&sp, &m->init, &m->init_pidfd, err);
        /* --debug shows the first start only: the caller's stderr is not kept open for a reboot. */
        struct ctr_paths *p = (struct ctr_paths *)m->a->paths;
        if (p->debug_fd > 2)
                close(p->debug_fd);
        p->debug_fd = -1;
        return r;
}

/* ctr-vminit's /ctr/config: the container's init, environment, host name and network. */
static char *vm_guest_config(const struct monitor *m)
{
        const struct ctr_config *cfg = m->cfg;
        size_t cap = 4096, len = 0;
        char *t = malloc(cap);
        if (!t)
                abort();
        t[0] = 0;
#define ADD(...)                                                                                   \
        do {                                                                                       \
                int k_ = snprintf(NULL, 0, __VA_ARGS__);                                           \
                while (len + k_ + 1 > cap && (t = realloc(t, cap *= 2)) == NULL)                   \
                        abort();                                                                   \
                len += sprintf(t + len, __VA_ARGS__);                                              \
        } while (0)
        ADD("root=/dev/vda\nfstype=ext4\nagent=/dev/hvc0\ninit=%s\n", cfg->init[0]);
        for (char **a = cfg->init + 1; *a; a++)
                ADD("arg=%s\n", *a);
        for (char **e = cfg->env; e && *e; e++)
                ADD("env=%s\n", *e);
        if (cfg->hostname)
                ADD("hostname=%s\n", cfg->hostname);
        if (m->net.active) {
                uint8_t gw[16];
                char gws[INET6_ADDRSTRLEN];
                ctr_subnet_host(&m->net.conf.v4, 1, gw);
                inet_ntop(AF_INET, gw, gws, sizeof(gws));
                ADD("ip=%s/%u\ngw=%s\n", m->net.addr4, m->net.conf.v4.prefix, gws);
                _cleanup_free_ char *resolv = xstrdup(m->net.resolv_conf ? m->net.resolv_conf : "");
                for (char *save = NULL, *l = strtok_r(resolv, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        ADD("resolv=%s\n", l);
        }
#undef ADD
        return t;
}

/* The VMM's process, in the container's cgroup (so its limits bind the guest's memory and vCPU
 * threads): it boots the container's disk and exits with what ended the guest, as an init
 * would: 0 for a power-off, 128+SIGHUP for a reboot (the monitor starts it again), 125 when the
 * VM could not start (the reason is reported on the sync socket before the guest runs). */
struct vmm_child {
        struct monitor *m;
        int agent_fd, control_fd;
        const char *disk, *guest_config, *restore;
        const uint8_t *mac;
};

static void __attribute__((noreturn)) vmm_child(void *data, int sock)
{
        struct vmm_child *c = data;
        struct monitor *m = c->m;
        struct ctr_error e = {0};
        struct ctr_sync_msg go;

        ctr_reset_signals();
        /* Placed in the cgroup first. */
        ctr_sync_wait_go(sock, &go, NULL, 0);
        /* The VMM does not exec: nothing of the monitor's (control socket, epoll, clients, the
         * parent's ends) may stay open in it but what it runs the guest with. */
        int keep[] = {0, 1, 2, sock, m->slave, c->agent_fd, c->control_fd, m->tap_fd};
        if (ctr_launch_close_fds(3, keep, ARRAY_SIZE(keep), false, &e) < 0)
                ctr_sync_die(sock, &e, 125);
        if (m->slave >= 0) {
                struct termios t;
                if (tcgetattr(m->slave, &t) == 0) {
                        cfmakeraw(&t);
                        tcsetattr(m->slave, TCSANOW, &t);
                }
        }
        /* Again here, not only in ctr start: a reboot boots afresh. */
        if (ctr_vm_host_check(&e) < 0)
                ctr_sync_die(sock, &e, 125);
        struct ctr_vm_boot_opts o = {
                .vcpus = m->cfg->vm_vcpus,
                .memory = m->cfg->vm_memory,
                .kernel = m->cfg->vm_kernel,
                .initrd = m->cfg->vm_initrd,
                .disk = c->disk,
                .config_text = c->guest_config,
                .console_fd = m->slave,
                .agent_fd = c->agent_fd,
                .mac = m->tap_fd >= 0 ? c->mac : NULL,
                .tap_fd = m->tap_fd,
                .control_fd = c->control_fd,
                .restore = c->restore,
        };
        /* Kernel, initramfs, disk, memory and the vCPU threads are ready before the start is
         * reported as done: their failures reach ctr start, not just the monitor's log. */
        struct ctr_vm *vm = ctr_vm_boot_prepare(&o, &e);
        if (!vm || ctr_vm_start_vcpus(vm, &e) < 0)
                ctr_sync_die(sock, &e, 125);
        ctr_sync_send(sock, CTR_SYNC_READY, NULL, 0, -1);
        close(sock);
        struct ctr_vm_result res;
        if (ctr_vm_run(vm, &res, &e) < 0) {
                fprintf(stderr, "vm: %s: %s\n", e.op, e.msg);
                _exit(125);
        }
        switch (res.end) {
        case CTR_VM_END_HALT: _exit(0);
        case CTR_VM_END_RESET:
        case CTR_VM_END_SHUTDOWN: _exit(128 + SIGHUP);
        case CTR_VM_END_DEBUG_EXIT:
        default: _exit(res.code);
        }
}

/* The VMM's process, in the container's cgroup (so its limits bind the guest's memory and vCPU
 * threads): it boots the container's disk and exits with what ended the guest, as an init
 * would: 0 for a power-off, 128+SIGHUP for a reboot (the monitor starts it again), 125 when the
 * VM could not start (the reason is reported on the sync socket before the guest runs). */
static int spawn_vmm(struct monitor *m, int cgfd, struct ctr_error *err)
{
        const struct ctr_paths *p = m->a->paths;
        int sp[2], ctl[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return ctr_err_sys(err, errno, "vm", "socketpair for the agent");
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
                close(sp[0]), close(sp[1]);
                return ctr_err_sys(err, errno, "vm", "socketpair for the VMM's control");
        }
        /* A restore is the first start's only: a reboot after it boots afresh. */
        _cleanup_free_ char *restore = m->vm_restore;
        m->vm_restore = NULL;
        _cleanup_free_ char *dir = ctr_path_container(p, m->cfg->name);
        _cleanup_free_ char *disk = xasprintf("%s/disk.img", dir);
        _cleanup_free_ char *gcfg = vm_guest_config(m);
        uint8_t mac[6];
        ctr_network_vm_mac(&m->net, mac);
        struct vmm_child c = {.m = m, .agent_fd = sp[1], .control_fd = ctl[1], .disk = disk, .guest_config = gcfg,
                              .restore = restore, .mac = mac};
        struct ctr_launch l = {
                .what = "the VMM process",
                .cgroup_fd = cgfd,
                .cgroup_path = m->st.cgroup,
                .v1_rel = m->st.cgroup_v1,
                .pidns_fd = -1,
                .until = CTR_LAUNCH_UNTIL_READY,
                .child = vmm_child,
                .child_data = &c,
        };
        struct ctr_launched out;
        int r = ctr_launch(&l, &out, err);
        close(sp[1]);
        close(ctl[1]);
        if (r < 0) {
                close(sp[0]);
                close(ctl[0]);
                m->init_exited = true;
                return r;
        }
        m->init = out.pid;
        m->init_pidfd = out.pidfd;
        m->agent_fd = sp[0];
        m->agent_ready = false;
        struct epoll_event aev = {.events = EPOLLIN, .data.fd = m->agent_fd};
        epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->agent_fd, &aev);
        m->agent_events = EPOLLIN;
        if (m->vmm_ctl >= 0) {
                epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->vmm_ctl, NULL);
                close(m->vmm_ctl);
        }
        m->vmm_ctl = ctl[0];
        struct epoll_event cev = {.events = EPOLLIN, .data.fd = m->vmm_ctl};
        epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->vmm_ctl, &cev);
        if (!m->relay)
                m->relay = ctr_relay_new();
        ctr_relay_set_agent(m->relay, m->agent_fd);
        free(m->agent);
        m->agent = calloc(1, sizeof(*m->agent));
        if (!m->agent)
                abort();
        if (restore) {
                /* The guest's agent runs on from the snapshot and said READY long ago: it is up. */
                mlog("VM resumed from the live snapshot %s", restore);
                m->agent_ready = true;
                host_ready(m, "VM resumed from a live snapshot");
                ctr_relay_agent_ready(m->relay);
        }
        return 0;
}

static int setup(struct monitor *m, struct ctr_error *err)
{
        const struct ctr_paths *p = m->a->paths;
        _cleanup_free_ char *rootfs = ctr_path_rootfs(p, m->cfg->name);
        _cleanup_free_ char *leaf = ctr_monitor_cgroup_leaf(p, m->cfg->name);
        _cleanup_free_ char *console = NULL;
        sigset_t mask;
        int r;

        if (m->cfg->vm && m->a->run)
                return ctr_err(err, ENOTSUP, "vm", "ctr run does not boot VMs; create the container with --vm and start it");
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        m->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        m->epfd = epoll_create1(EPOLL_CLOEXEC);
        m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        m->rtfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (m->sfd < 0 || m->epfd < 0 || m->tfd < 0 || m->rtfd < 0)
                return ctr_err_sys(err, errno, "monitor", "event setup");

        r = ctr_mkdir_p(p->run, 0711);
        if (r < 0)
                return ctr_err_sys(err, -r, "state", "create %s", p->run);
        m->rundir = ctr_path_rundir(p, m->cfg->name);
        if (mkdir(m->rundir, 0700) < 0 && errno != EEXIST)
                return ctr_err_sys(err, errno, "state", "create %s", m->rundir);
        m->rundir_fd = open(m->rundir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->rundir_fd < 0)
                return ctr_err_sys(err, errno, "state", "open %s", m->rundir);

        m->st.monitor_pid = getpid();
        m->st.monitor_start = ctr_proc_starttime(getpid());
        m->st.net_mode = ctr_config_net_mode_text(m->cfg);
        m->st.foreground = m->a->foreground;
        if (save_state(m, CTR_STARTING) < 0)
                return ctr_err(err, EIO, "state", "cannot write state under %s", m->rundir);

        struct ctr_cg_limits lim = ctr_config_cg_limits(m->cfg);
        r = ctr_cgroup_detect(&m->cg, err);
        if (r < 0)
                return r;
        /* On a hybrid host what cgroup2 lacks the controller for goes to the v1 hierarchies. */
        /* Devices: the BPF program on the cgroup2 directory filters (a VM's VMM needs /dev/kvm
         * and its TAP): v1's devices controller is left open. */
        struct ctr_cg_v1 v1 = {0};
        bool v1_limits;
        if ((r = ctr_cgroup_split_v1(&m->cg, &lim, &v1, &v1_limits, err)) < 0)
                return r;
        v1.no_devices = true;
        /* Started by a unit with Delegate=yes: the container goes below the unit's cgroup, so
         * the service manager accounts for it and stops it with the unit. */
        _cleanup_free_ char *delegated = m->a->foreground ? ctr_cgroup_delegated(&m->cg) : NULL;
        if (delegated) {
                mlog("cgroup %s is delegated to us: the container goes below it", delegated);
                r = ctr_cgroup_create_delegated(&m->cg, delegated, &lim, &m->st.cgroup, &m->cgfd, err);
        } else
                r = ctr_cgroup_create(&m->cg, leaf, &lim, &m->st.cgroup, &m->cgfd, err);
        if (r < 0)
                return r;
        /* Every mounted v1 hierarchy gets the container's own cgroup too, which init is born into
         * before its cgroup namespace: a v1 hierarchy mounted inside shows the container's
         * subtree only, and limits cgroup2 cannot take bind there. */
        if (ctr_cgroup_v1_available()) {
                m->st.cgroup_v1 = xasprintf(CTR_CGROUP_PARENT "/%s", leaf);
                if ((r = ctr_cgroup_v1_enter(m->st.cgroup_v1, &v1, 0, err)) < 0) {
                        ctr_cgroup_v1_remove(m->st.cgroup_v1);
                        return r;
                }
                if (v1_limits)
                        mlog("limits cgroup2 lacks the controller for are in the v1 hierarchies (%s)", m->st.cgroup_v1);
        }
        /* The device filter is in place before init exists: its first mknod is already checked. */
        size_t n_dev = strv_len(m->cfg->devices);
        _cleanup_free_ struct ctr_cg_device *devs = calloc(n_dev + 1, sizeof(*devs));
        if (!devs)
                return ctr_err(err, ENOMEM, "devices", "allocate");
        for (size_t i = 0; i < n_dev; i++)
                if (ctr_cgroup_device_parse(m->cfg->devices[i], &devs[i]) < 0)
                        return ctr_err(err, EINVAL, "devices", "'%s' is not a device rule", m->cfg->devices[i]);
        /* A VM's devices are the VMM's: it needs /dev/kvm, and the guest sees none of the host's. */
        r = m->cfg->vm ? 0 : ctr_cgroup_device_filter(m->cgfd, devs, n_dev, err);
        if (r < 0)
                return r;

        const struct ctr_run_opts *run = m->a->run;
        if (!run || run->tty) {
                r = open_console(m, &console, err);
                if (r < 0)
                        return r;
                m->console_path = xstrdup(console);
        }
        if (!run) {
                r = ctr_mkdir_p(p->log, 0750);
                if (r < 0)
                        return ctr_err_sys(err, -r, "console", "create %s", p->log);
                m->log_path = ctr_path_console_log(p, m->cfg->name);
                log_open(m);
        }

        m->lfd = ctr_ctl_listen(m->rundir_fd, err);
        if (m->lfd < 0)
                return m->lfd;

        r = ctr_network_prepare(p, m->cfg, &m->net, err);
        if (r < 0)
                return r;
        if (m->cfg->vm && (r = ctr_network_attach_tap(&m->net, m->cfg, &m->tap_fd, err)) < 0)
                return r;
        m->stop_signal = ctr_monitor_stop_signal(m->cfg, rootfs);
        if (!run && (r = open_notify(m, &m->notify_dir, err)) < 0)
                return r;
        r = m->cfg->vm ? spawn_vmm(m, m->cgfd, err) : spawn_init(m, rootfs, m->cgfd, console, err);
        if (r < 0)
                return r;
        close(m->cgfd);
        m->cgfd = -1;
        if (m->net.active) {
                m->st.ipv4 = xstrdup(m->net.addr4);
                m->st.ipv6 = m->net.has_v6 ? xstrdup(m->net.addr6) : NULL;
                m->st.veth = xstrdup(m->net.veth);
        }
        m->st.init_pid = m->init;
        m->st.init_start = ctr_proc_starttime(m->init);
        m->st.started_at = time(NULL);

        struct epoll_event ev = {.events = EPOLLIN};
        int fds[] = {m->sfd, m->tfd, m->lfd, m->master, m->nfd, m->rtfd, run && run->tty ? STDIN_FILENO : -1};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
                if (fds[i] < 0)
                        continue;
                ev.data.fd = fds[i];
                if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
                        return ctr_err_sys(err, errno, "monitor", "epoll");
        }
        if (save_state(m, CTR_RUNNING) < 0)
                return ctr_err(err, EIO, "state", "cannot write state under %s", m->rundir);
        /* From here on the state file speaks for the container: other verbs may take the lock. */
        if (m->a->lock_fd >= 0)
                close(m->a->lock_fd);
        mlog("started init pid %d (cgroup %s, console %s)", (int)m->init, m->st.cgroup, console ? console : "-");
        if (run && run->timeout > 0) {
                /* The readiness timer is free in run mode: it counts the timeout. */
                struct itimerspec its = {.it_value = {.tv_sec = run->timeout}};
                timerfd_settime(m->rtfd, 0, &its, NULL);
        }
        if (m->a->on_started)
                m->a->on_started(m->a->data, &m->st, m->ns_ino);
        return 0;
}

/* reboot(2) in a pid namespace ends its init with SIGHUP (poweroff and halt: SIGINT): the
 * container asked to restart, and gets a new init in the same cgroup, console and state. */
static bool wants_reboot(const struct monitor *m)
{
        return !m->a->run && !m->stop_requested && m->init_reboot;
}

static int respawn(struct monitor *m, struct ctr_error *err)
{
        _cleanup_free_ char *rootfs = ctr_path_rootfs(m->a->paths, m->cfg->name);
        /* The old pid namespace dies with its init; wait for the kernel to empty the cgroup. */
        for (int i = 0; i < 300 && ctr_cgroup_populated(m->st.cgroup); i++) {
                if (i == 100)
                        ctr_cgroup_kill(m->st.cgroup, NULL);
                usleep(10000);
        }
        if (ctr_cgroup_populated(m->st.cgroup))
                return ctr_err(err, EBUSY, "reboot", "processes of the old boot are still in %s", m->st.cgroup);
        if ((int64_t)time(NULL) - m->st.started_at < 10 && ++m->quick_reboots > 5)
                return ctr_err(err, ELOOP, "reboot", "init rebooted 5 times within seconds of starting; giving up");
        _cleanup_close_ int cgfd = open(m->st.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return ctr_err_sys(err, errno, "reboot", "open %s", m->st.cgroup);
        /* The old init's exit hung up the console's slave side: open it anew. */
        int slave = open(m->console_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return ctr_err_sys(err, errno, "reboot", "open %s", m->console_path);
        close(m->slave);
        m->slave = slave;
        close(m->init_pidfd);
        m->init_pidfd = -1;
        /* The old network namespace went with the old init: the new one gets eth0 again. */
        if (m->cfg->vm)
                agent_close(m, "the VM rebooted before the command ended");
        int r = m->cfg->vm ? spawn_vmm(m, cgfd, err) : spawn_init(m, rootfs, cgfd, m->console_path, err);
        if (r < 0)
                return r;
        m->init_exited = false;
        m->init_reboot = false;
        m->init_status = 0;
        m->st.init_pid = m->init;
        m->st.init_start = ctr_proc_starttime(m->init);
        m->st.started_at = time(NULL);
        save_state(m, CTR_RUNNING);
        mlog("rebooted: init pid %d", (int)m->init);
        return 0;
}

/* The relay's queues decide what the agent's stream and exec clients are watched for; clients
 * whose socket failed go. */
static void relay_sync(struct monitor *m)
{
        if (!m->relay)
                return;
        for (int fd; (fd = ctr_relay_take_dead(m->relay)) >= 0;) {
                size_t c = 0;
                while (c < m->n_clients && m->clients[c].fd != fd)
                        c++;
                if (c == m->n_clients) {
                        ctr_relay_client_gone(m->relay, fd);
                        continue;
                }
                drop_client(m, c);
        }
        if (m->agent_fd >= 0) {
                uint32_t want = ctr_relay_agent_events(m->relay);
                struct epoll_event ev = {.events = want, .data.fd = m->agent_fd};
                if (want != m->agent_events && epoll_ctl(m->epfd, EPOLL_CTL_MOD, m->agent_fd, &ev) == 0)
                        m->agent_events = want;
        }
        for (size_t c = 0; c < m->n_clients; c++) {
                uint32_t want = ctr_relay_client_events(m->relay, m->clients[c].fd);
                struct epoll_event ev = {.events = want, .data.fd = m->clients[c].fd};
                if (want != m->clients[c].events && epoll_ctl(m->epfd, EPOLL_CTL_MOD, m->clients[c].fd, &ev) == 0)
                        m->clients[c].events = want;
        }
}

static void loop(struct monitor *m)
{
        while (!m->init_exited) {
                struct epoll_event evs[16];
                int n = epoll_wait(m->epfd, evs, ARRAY_SIZE(evs), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        mlog("epoll: %s", strerror(errno));
                        kill_now(m);
                        break;
                }
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == m->sfd) {
                                struct signalfd_siginfo si;
                                while (read(m->sfd, &si, sizeof(si)) == sizeof(si)) {
                                        if (si.ssi_signo == SIGCHLD)
                                                reap_init(m);
                                        else if (m->a->run) {
                                                /* The command gets the signal; a second one kills it all. */
                                                if (m->run_signals++)
                                                        kill_now(m);
                                                else
                                                        syscall(SYS_pidfd_send_signal, m->init_pidfd, si.ssi_signo, NULL, 0);
                                        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                                                begin_stop(m, m->cfg->stop_timeout, false);
                                }
                        } else if (fd == m->tfd) {
                                uint64_t ticks;
                                if (read(m->tfd, &ticks, sizeof(ticks)) > 0)
                                        kill_now(m);
                        } else if (fd == m->rtfd) {
                                uint64_t ticks;
                                if (read(m->rtfd, &ticks, sizeof(ticks)) <= 0)
                                        continue;
                                if (m->a->run) {
                                        m->timed_out = true;
                                        kill_now(m);
                                } else
                                        host_ready(m, "container started (its init did not report readiness in time)");
                        } else if (fd == STDIN_FILENO && m->a->run) {
                                char b[4096];
                                ssize_t k = read(STDIN_FILENO, b, sizeof(b));
                                if (k > 0)
                                        ctr_write_all(m->master, b, (size_t)k);
                                else
                                        epoll_ctl(m->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
                        } else if (fd == m->nfd)
                                notify_readable(m);
                        else if (fd == m->lfd)
                                accept_client(m);
                        else if (fd == m->master)
                                console_readable(m);
                        else if (fd == m->vmm_ctl && m->vmm_ctl >= 0)
                                vmm_ctl_readable(m);
                        else if (fd == m->agent_fd && m->agent_fd >= 0) {
                                if (evs[i].events & EPOLLOUT)
                                        ctr_relay_agent_writable(m->relay);
                                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                                        agent_readable(m);
                        } else
                                for (size_t c = 0; c < m->n_clients; c++)
                                        if (m->clients[c].fd == fd) {
                                                if (m->relay && evs[i].events & EPOLLOUT)
                                                        ctr_relay_client_writable(m->relay, fd);
                                                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                                                        client_readable(m, c);
                                                break;
                                        }
                }
                relay_sync(m);
        }
        /* Last words of the console before it closes. */
        if (m->master >= 0)
                console_readable(m);
}

int ctr_monitor_run(const struct ctr_monitor_args *a)
{
        struct monitor m = {.a = a, .cfg = a->cfg, .rundir_fd = -1, .epfd = -1, .sfd = -1, .lfd = -1, .tfd = -1,
                            .master = -1, .slave = -1, .logfd = -1, .cgfd = -1, .init_pidfd = -1, .nfd = -1,
                            .rtfd = -1, .agent_fd = -1, .tap_fd = -1, .vmm_ctl = -1, .snap_client = -1};
        struct ctr_error err = {0};
        int code;

        /* ctr restore --live names one of this container's snapshots; nothing else is resumed. */
        const char *restore = getenv("CTR_VM_RESTORE");
        if (restore && *restore && a->cfg->vm) {
                _cleanup_free_ char *dir = ctr_path_container(a->paths, a->cfg->name);
                _cleanup_free_ char *snaps = xasprintf("%s/snapshots", dir), *real = realpath(snaps, NULL);
                size_t k = real ? strlen(real) : 0;
                if (real && !strncmp(restore, real, k) && restore[k] == '/' && !strstr(restore, "/../"))
                        m.vm_restore = xstrdup(restore);
        }
        unsetenv("CTR_VM_RESTORE");
        mlog_quiet = a->run != NULL;
        if (setup(&m, &err) < 0) {
                mlog("start failed: %s: %s", err.op, err.msg);
                teardown(&m);
                if (a->lock_fd >= 0)
                        close(a->lock_fd);
                if (a->report_fd >= 0)
                        ctr_sync_send(a->report_fd, CTR_SYNC_ERROR, &err, 125, -1);
                else
                        fprintf(stderr, "ctr: %s %s: %s: %s\n", a->run ? "run" : "start", a->cfg->name, err.op, err.msg);
                code = a->run && (m.spawn_status == 126 || m.spawn_status == 127) ? m.spawn_status : 125;
                goto out;
        }
        if (a->report_fd >= 0) {
                ctr_sync_send(a->report_fd, CTR_SYNC_GO, NULL, 0, -1);
                close(a->report_fd);
        }
        start_readiness(&m);

        for (;;) {
                loop(&m);
                if (!wants_reboot(&m))
                        break;
                mlog("init asked for a reboot");
                if (respawn(&m, &err) < 0) {
                        mlog("reboot failed: %s: %s", err.op, err.msg);
                        break;
                }
        }
        /* A requested stop is a success; an init that ended on its own reports its status. A
         * ctr run reports its command's, or 124 for a timeout. */
        code = a->run ? (m.timed_out ? 124 : m.init_status) : m.stop_requested ? 0 : m.init_status;
        if (a->on_exited)
                a->on_exited(a->data, &m.st, m.init_status, m.timed_out);
        teardown(&m);
        mlog("stopped");
out:
        ctr_state_free(&m.st);
        free(m.rundir);
        free(m.log_path);
        free(m.console_path);
        free(m.notify_dir);
        free(m.agent);
        free(m.vm_restore);
        ctr_relay_free(m.relay);
        int fds[] = {m.epfd, m.sfd, m.lfd, m.tfd, m.master, m.slave, m.logfd, m.cgfd, m.init_pidfd, m.nfd, m.rtfd,
                     m.agent_fd, m.tap_fd, m.vmm_ctl};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return code;
}
