/* The one child: whatever entry point compiled the spec (start, run, exec, OCI create and exec),
 * this is the code between clone and exec, in one order: joins, root of a new user namespace,
 * the cgroup namespace, names, the mount plan, the root switch, files, console, descriptors,
 * user, confinement, working directory, the OCI gate, exec. Every failure before the exec goes
 * back to the parent as errno + message; after an OCI gate the parent is gone and stderr says it. */
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../base/util.h"
#include "../netns/netns.h"
#include "../spec/spec.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct child {
        struct ctr_spec *s;
        int sock;
        int fail; /* the status a setup failure exits with */
};

#define DIE(c, e) ctr_sync_die((c)->sock, (e), (c)->fail)

static int send_fd(int sock, int fd)
{
        char b = 0;
        struct iovec iov = {.iov_base = &b, .iov_len = 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int controlling_tty(int slave, struct ctr_error *err)
{
        if (setsid() < 0 && errno != EPERM)
                return ctr_err_sys(err, errno, "console", "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return ctr_err_sys(err, errno, "console", "make the console the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return ctr_err_sys(err, errno, "console", "dup2");
        return 0;
}

/* A pty of the container's own devpts (after the root switch): its master goes to the engine's
 * console socket or back to the parent, its slave becomes stdio (and /dev/console if asked). */
static int new_pty(const struct child *c, struct ctr_error *err)
{
        const struct ctr_spec *s = c->s;
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return ctr_err_sys(err, errno, "console", "open the container's /dev/ptmx");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return ctr_err_sys(err, errno, "console", "unlock the pty");
        _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return ctr_err_sys(err, errno, "console", "open the pty's slave");
        int r;
        if (s->console == CTR_CONSOLE_PASS) {
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        ioctl(slave, TIOCSWINSZ, &ws);
                r = ctr_sync_send(c->sock, CTR_SYNC_FD, NULL, 0, master);
        } else
                r = send_fd(s->console_fd, master);
        if (r < 0)
                return ctr_err_sys(err, r == -EIO ? EPIPE : -r, "console", "hand over the pty's master");
        if (s->console_bind) {
                int n = 0;
                if (ioctl(master, TIOCGPTN, &n) == 0) {
                        char p[64];
                        snprintf(p, sizeof(p), "/dev/pts/%d", n);
                        int f = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
                        if (f >= 0)
                                close(f);
                        if (mount(p, "/dev/console", NULL, MS_BIND, NULL) < 0)
                                return ctr_err_sys(err, errno, "console", "bind %s on /dev/console", p);
                }
        }
        return controlling_tty(slave, err);
}

static int write_guest_file(const struct ctr_spec_file *gf, struct ctr_error *err)
{
        struct stat st;
        if (gf->need_dir && (stat(gf->need_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
                return 0;
        if (lstat(gf->path, &st) == 0 && !S_ISREG(st.st_mode))
                return 0;
        _cleanup_close_ int fd = open(gf->path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EROFS || errno == ELOOP || errno == ENOENT)
                        return 0;
                return ctr_err_sys(err, errno, "mount", "write %s", gf->path);
        }
        if (ctr_write_all(fd, gf->text, strlen(gf->text)) < 0)
                return ctr_err_sys(err, errno, "mount", "write %s", gf->path);
        return 0;
}

static int switch_root(const struct ctr_spec *s, struct ctr_error *err)
{
        const char *root = s->root_path;
        char viafd[64];
        if (s->plan.attach_root) {
                /* The detached root the parent made: reached through its fd, not through the
                 * host's 0700 directories. */
                snprintf(viafd, sizeof(viafd), "/proc/self/fd/%d", s->plan.root_mount_fd);
                root = viafd;
        }
        switch (s->root) {
        case CTR_ROOT_NONE: return 0;
        case CTR_ROOT_PIVOT: return ctr_rootfs_pivot(root, err);
        case CTR_ROOT_MOVE:
                if (chdir(root) < 0)
                        return ctr_err_sys(err, errno, "mount", "chdir %s", root);
                if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
                        return ctr_err_sys(err, errno, "mount", "move %s to /", root);
                if (chroot(".") < 0 || chdir("/") < 0)
                        return ctr_err_sys(err, errno, "mount", "chroot %s", root);
                return 0;
        case CTR_ROOT_CHROOT:
                /* Sharing the caller's mount namespace: pivot_root or a move would change the root
                 * of every process in it; a plain chroot changes only ours. */
                if (chroot(root) < 0 || chdir("/") < 0)
                        return ctr_err_sys(err, errno, "mount", "chroot %s", root);
                return 0;
        }
        return 0;
}

/* The user, looked up inside when the spec names one; HOME and USER into the environment. */
static int resolve_user(struct ctr_spec_process *p, struct ctr_user *u, struct ctr_error *err)
{
        *u = (struct ctr_user){.uid = p->uid, .gid = p->gid};
        if (!p->user && !p->user_env && !p->cwd_home)
                return 0;
        _cleanup_free_ char *passwd = NULL;
        ctr_read_file("/etc/passwd", 1 << 20, &passwd, NULL);
        if (p->user && ctr_user_lookup(passwd ? passwd : "", p->user, u, err) < 0)
                return -err->errnum;
        if (!p->user) {
                char id[16];
                snprintf(id, sizeof(id), "%u", (unsigned)p->uid);
                if (!passwd || ctr_user_lookup(passwd, id, u, NULL) < 0)
                        *u = (struct ctr_user){.uid = p->uid, .gid = p->gid};
                u->gid = p->gid;
        }
        if (p->user_env)
                ctr_user_env(&p->env, u);
        return 0;
}

static int set_rlimits(const struct ctr_spec_process *p, struct ctr_error *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return ctr_err_sys(err, errno, "rlimits", "set limit %d to %llu/%llu", p->rlimits[i].resource,
                                           (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        }
        return 0;
}

/* The one confinement order, for every process ctr puts into a container: rlimits, the bounding
 * set, the user, the capability sets, no_new_privs, seccomp. Loading a filter takes no_new_privs
 * or an effective CAP_SYS_ADMIN: without no_new_privs, when the sets will not keep SYS_ADMIN or
 * the user is not root, the filter goes in right after the bounding set, while it still can. */
static int confine(const struct ctr_spec_process *p, const struct ctr_user *u, struct ctr_error *err)
{
        bool root = u->uid == 0;
        ctr_capmask eff = p->effective, perm = p->permitted, inh = p->inheritable, amb = p->ambient;
        if (p->caps_if_root && !root)
                eff = perm = inh = amb = 0;
        bool seccomp_first = !p->no_new_privs && (!root || !(eff & ((ctr_capmask)1 << CAP_SYS_ADMIN)));
        if (set_rlimits(p, err) < 0)
                return -err->errnum;
        if (ctr_caps_bound(p->bounding, err) < 0 || (seccomp_first && ctr_seccomp_load(&p->seccomp, err) < 0))
                return -EPERM;
        /* Sets for a non-root user survive the switch only with KEEPCAPS; they are set again
         * right after it, to exactly what the spec says. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return ctr_err_sys(err, errno, "user", "keep capabilities");
        /* EPERM: a user namespace whose setgroups(2) is denied keeps the groups it maps. */
        if (setgroups(p->n_groups, p->groups) < 0 && errno != EPERM)
                return ctr_err_sys(err, errno, "user", "set the supplementary groups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return ctr_err_sys(err, errno, "user", "switch to gid %u", (unsigned)u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return ctr_err_sys(err, errno, "user", "switch to uid %u", (unsigned)u->uid);
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        if (ctr_caps_set_sets(eff, perm, inh, amb, err) < 0)
                return -EPERM;
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return ctr_err_sys(err, errno, "no_new_privs", "prctl");
        return seccomp_first ? 0 : ctr_seccomp_load(&p->seccomp, err) < 0 ? -EPERM : 0;
}

static int enter_cwd(const struct ctr_spec_process *p, const struct ctr_user *u, struct ctr_error *err)
{
        if (p->cwd) {
                if (chdir(p->cwd) < 0)
                        return ctr_err_sys(err, errno, "workdir", "chdir %s", p->cwd);
                return 0;
        }
        if (p->cwd_home && *u->home && chdir(u->home) == 0)
                return 0;
        if (chdir("/") < 0)
                return ctr_err_sys(err, errno, "workdir", "chdir /");
        return 0;
}

/* argv[0] through PATH from the environment the command gets. */
static void exec_argv(char **argv, char **env)
{
        char *none[] = {NULL};
        if (!env)
                env = none;
        if (strchr(argv[0], '/')) {
                execve(argv[0], argv, env);
                return;
        }
        const char *path = DEFAULT_PATH;
        for (char **e = env; *e; e++)
                if (!strncmp(*e, "PATH=", 5))
                        path = *e + 5;
        _cleanup_free_ char *copy = xstrdup(path);
        int first = ENOENT;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *f = xasprintf("%s/%s", d, argv[0]);
                execve(f, argv, env);
                if (errno != ENOENT && first == ENOENT)
                        first = errno;
        }
        errno = first;
}

/* OCI create: READY, then wait until `start` opens the other end of the fifo; the write end
 * stays open until exec closes it, and its EOF tells start the program runs. */
static void oci_gate(const struct child *c, const char *state)
{
        const struct ctr_spec *s = c->s;
        char fifo[64];
        snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", s->fifo_fd);
        ctr_sync_send(c->sock, CTR_SYNC_READY, NULL, 0, -1);
        close(c->sock);
        int w = open(fifo, O_WRONLY | O_CLOEXEC);
        if (w < 0 || write(w, "0", 1) != 1) {
                fprintf(stderr, "ctr: %s: open the exec fifo: %m\n", s->what);
                _exit(1);
        }
        close(s->fifo_fd);
        if (s->n_start_hooks) {
                struct ctr_error e = {0};
                if (ctr_launch_hooks(s->start_hooks, s->n_start_hooks, state ? state : "", -1, "startContainer hook", &e) < 0) {
                        fprintf(stderr, "ctr: %s: %s: %s\n", s->what, e.op, e.msg);
                        _exit(1);
                }
        }
}

void ctr_launch_child(void *data, int sock)
{
        struct child c = {.s = data, .sock = sock};
        struct ctr_spec *s = c.s;
        struct ctr_spec_process *p = &s->process;
        struct ctr_error err = {0};
        struct ctr_sync_msg m;
        c.fail = p->fail_status;

        /* If the parent dies, so does the child: nothing runs unmanaged. */
        if (s->die_with_parent)
                prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!s->dumpable)
                prctl(PR_SET_DUMPABLE, 0);
        int passed[1];
        ctr_sync_wait_go(sock, &m, passed, 1);
        if (s->root_target_fd) {
                if (passed[0] < 0)
                        ctr_err(&err, EPROTO, "sync", "no rootfs directory before GO"), DIE(&c, &err);
                s->plan.root_target_fd = passed[0];
        } else if (passed[0] >= 0)
                close(passed[0]);

        for (size_t i = 0; i < s->n_joins; i++)
                if (setns(s->join_fds[i], s->join_types[i]) < 0)
                        ctr_err_sys(&err, errno, "setns", "join a namespace (type %#x)", s->join_types[i]), DIE(&c, &err);
        if (s->join_pidfd >= 0 && setns(s->join_pidfd, s->join_pidfd_types) < 0)
                ctr_err_sys(&err, errno, "setns", "join the container's namespaces"), DIE(&c, &err);
        if (s->userns_root) {
                if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
                        ctr_err_sys(&err, errno, "userns", "become root of the user namespace (is 0 mapped?)"),
                                DIE(&c, &err);
                /* A change of credentials clears the parent-death signal. */
                if (s->die_with_parent)
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
        }
        /* Now that the launcher placed us in every cgroup, v1 ones included. */
        if (s->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
                ctr_err_sys(&err, errno, "cgroup", "unshare the cgroup namespace"), DIE(&c, &err);
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                ctr_err_sys(&err, errno, "hostname", "set '%s'", s->hostname), DIE(&c, &err);
        if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                ctr_err_sys(&err, errno, "hostname", "set the domain name '%s'", s->domainname), DIE(&c, &err);
        if (s->loopback_up && ctr_net_loopback_up(&err) < 0)
                DIE(&c, &err);
        if (s->has_plan && ctr_rootfs_plan_execute(&s->plan, &err) < 0)
                DIE(&c, &err);

        _cleanup_free_ char *state = NULL;
        if (s->hooks_step) {
                /* prestart, createRuntime and createContainer hooks run now, in the parent; the
                 * state startContainer hooks get comes back with GO. */
                if (ctr_sync_send(sock, CTR_SYNC_HOOKS, NULL, 0, -1) < 0)
                        _exit(1); /* the parent is gone: nobody to tell */
                ctr_sync_wait_go(sock, &m, passed, 1);
                if (passed[0] >= 0) {
                        if (lseek(passed[0], 0, SEEK_SET) < 0 || ctr_read_fd(passed[0], 1 << 20, &state, NULL) < 0)
                                state = xstrdup("");
                        close(passed[0]);
                }
        }
        if (switch_root(s, &err) < 0)
                DIE(&c, &err);
        if (s->root_propagation && mount(NULL, "/", NULL, s->root_propagation, NULL) < 0)
                ctr_err_sys(&err, errno, "mount", "set the propagation of /"), DIE(&c, &err);
        for (size_t i = 0; i < s->n_files; i++)
                if (write_guest_file(&s->files[i], &err) < 0)
                        DIE(&c, &err);

        if (s->console == CTR_CONSOLE_FD && controlling_tty(s->console_fd, &err) < 0)
                DIE(&c, &err);
        if ((s->console == CTR_CONSOLE_SOCKET || s->console == CTR_CONSOLE_PASS) && new_pty(&c, &err) < 0)
                DIE(&c, &err);
        if (s->console_fd >= 0)
                close(s->console_fd);

        /* Nothing of the parent's leaks in: every fd but stdio and the preserved ones closes at
         * exec (the sync socket among them: its EOF is the parent's news of the exec). */
        if (ctr_launch_close_fds(3 + p->preserve_fds, NULL, 0, true, &err) < 0)
                DIE(&c, &err);
        for (int fd = 3; fd < 3 + p->preserve_fds; fd++)
                if (fd != sock && fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF)
                        ctr_err_sys(&err, errno, "exec", "keep fd %d open", fd), DIE(&c, &err);

        if (!p->argv) {
                /* An OCI bundle without a process: created, and ended once started. */
                if (s->fifo_fd >= 0)
                        oci_gate(&c, state);
                _exit(1);
        }
        struct ctr_user u;
        if (resolve_user(p, &u, &err) < 0 || confine(p, &u, &err) < 0 || enter_cwd(p, &u, &err) < 0)
                DIE(&c, &err);
        umask(p->umask);

        if (s->fifo_fd >= 0)
                oci_gate(&c, state);
        ctr_reset_signals();
        if (s->fifo_fd < 0)
                ctr_sync_exec(sock);
        exec_argv(p->argv, p->env);
        int e = errno;
        int status = p->shell_status ? (e == ENOENT ? 127 : 126) : c.fail;
        if (s->fifo_fd >= 0) {
                fprintf(stderr, "ctr: exec %s: %s\n", p->argv[0], strerror(e));
                _exit(status);
        }
        ctr_err_sys(&err, e, "exec", "%s%s", p->is_init ? "init " : "", p->argv[0]);
        ctr_sync_die(sock, &err, status);
}

void ctr_launch_spec(struct ctr_launch *l, struct ctr_spec *s)
{
        l->what = s->what;
        l->flags = s->clone_flags;
        l->pidns_fd = s->pidns_fd;
        l->until = s->fifo_fd >= 0 ? CTR_LAUNCH_UNTIL_READY : CTR_LAUNCH_UNTIL_EXEC;
        l->child = ctr_launch_child;
        l->child_data = s;
}
