/* The container's init: clone3 into the cgroup with new namespaces, a socketpair for numbered
 * sync steps, and the child's setup (hostname, loopback, mount plan, pivot_root, console, exec).
 * Any failure before exec travels back as errno + message, so the user reads the real reason. */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../netns/netns.h"
#include "../rootfs/rootfs.h"
#include "../security/caps.h"
#include "userns.h"
#include "../base/util.h"

static char **init_environment(const struct ctr_config *cfg, bool notify)
{
        char **env = NULL;
        /* container= tells systemd and others they run in a container (CONTAINER_INTERFACE). */
        ctr_config_env_set(&env, "PATH=" CTR_DEFAULT_PATH, NULL);
        ctr_config_env_set(&env, "container=ctr", NULL);
        if (cfg->uuid) {
                /* systemd fills an empty /etc/machine-id from it: one identity across boots. */
                _cleanup_free_ char *u = xasprintf("container_uuid=%s", cfg->uuid);
                ctr_config_env_set(&env, u, NULL);
        }
        ctr_config_env_set(&env, "TERM=linux", NULL);
        ctr_config_env_set(&env, "HOME=/root", NULL);
        if (notify)
                ctr_config_env_set(&env, "NOTIFY_SOCKET=" CTR_NOTIFY_SOCKET, NULL);
        for (char **p = cfg->env; p && *p; p++)
                ctr_config_env_set(&env, *p, NULL);
        return env;
}

int ctr_spawn_mount_plan(const struct ctr_config *cfg, const char *rootfs, const char *console,
                         const char *notify_dir, const struct ctr_run_opts *run, struct ctr_mount_plan *ret,
                         struct ctr_error *err)
{
        _cleanup_free_ struct ctr_bind *binds = calloc(cfg->n_mounts + 1, sizeof(*binds));
        size_t n_binds = cfg->n_mounts;
        if (!binds)
                return ctr_err(err, ENOMEM, "mount plan", "allocate");
        for (size_t i = 0; i < cfg->n_mounts; i++)
                binds[i] = (struct ctr_bind){cfg->mounts[i].source, cfg->mounts[i].target, cfg->mounts[i].readonly, true};
        if (notify_dir)
                binds[n_binds++] = (struct ctr_bind){notify_dir, CTR_NOTIFY_DIR, false, false};
        struct ctr_rootfs_spec spec = {
                .rootfs = rootfs,
                .new_netns = cfg->net_mode != CTR_NET_HOST,
                .console_path = console,
                .binds = binds,
                .n_binds = n_binds,
        };
        /* Overlay storage keeps upper/ and work/ beside the rootfs mount point. */
        _cleanup_free_ char *dir = xstrdup(rootfs);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir);
        if (!strcmp(cfg->storage_driver, "overlay")) {
                spec.overlay_lower = cfg->storage_lower;
                spec.overlay_upper = upper;
                spec.overlay_work = work;
        }
        spec.readonly_root = run && run->readonly_root;
        int r = ctr_rootfs_plan_build(&spec, ret, err);
        if (r < 0 || !run)
                return r;
        /* --tmpfs goes before a read-only root's final remount (the last op), so it stays
         * writable inside a read-only tree. */
        size_t at = ret->n && spec.readonly_root ? ret->n - 1 : ret->n;
        for (char **t = run->tmpfs; t && *t; t++) {
                struct ctr_mnt_op *op = ctr_rootfs_plan_add(ret, CTR_MNT_MOUNT, "tmpfs", *t);
                op->fstype = xstrdup("tmpfs");
                op->flags = MS_NOSUID | MS_NODEV;
                op->data = xstrdup("mode=1777");
                if (at < ret->n - 1) {
                        struct ctr_mnt_op tmp = *op;
                        memmove(&ret->ops[at + 1], &ret->ops[at], (ret->n - 1 - at) * sizeof(*op));
                        ret->ops[at] = tmp;
                }
                at++;
        }
        return 0;
}

static int join_netns(const char *path, struct ctr_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "network", "open namespace %s", path);
        if (setns(fd, CLONE_NEWNET) < 0)
                return ctr_err_sys(err, errno, "network", "join namespace %s", path);
        return 0;
}

/* A file ctr keeps in step with the host's view (after pivot_root, so paths resolve inside).
 * A symlink in its place, a missing parent dir, or a read-only root mean "not ours to write". */
static int write_guest_file(const char *path, const char *need_dir, const char *text, struct ctr_error *err)
{
        struct stat st;
        if (need_dir && (stat(need_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
                return 0;
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
                return 0;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EROFS || errno == ELOOP || errno == ENOENT)
                        return 0;
                return ctr_err_sys(err, errno, "network", "write %s", path);
        }
        if (ctr_write_all(fd, text, strlen(text)) < 0)
                return ctr_err_sys(err, errno, "network", "write %s", path);
        return 0;
}

int ctr_confine(const struct ctr_config *cfg, ctr_capmask caps, const struct ctr_seccomp_prog *prog,
                const struct ctr_user *user, struct ctr_error *err)
{
        /* Loading a filter takes no_new_privs or an effective CAP_SYS_ADMIN. Without
         * no_new_privs, when the capability sets will not keep it or the switch to a non-root
         * user clears them all, the filter goes in first, while the capability is still there. */
        bool root = !user || user->uid == 0;
        bool seccomp_first = !cfg->no_new_privs && (!root || !(caps & ((ctr_capmask)1 << CAP_SYS_ADMIN)));
        if (ctr_caps_bound(caps, err) < 0 || (seccomp_first && ctr_seccomp_load(prog, err) < 0))
                return -EPERM;
        /* Before the capability sets: they are for root only, and a switch from root to another
         * uid clears them (no PR_SET_KEEPCAPS), so such a user keeps none. */
        if (user && (setgroups(0, NULL) < 0 || setgid(user->gid) < 0 || setuid(user->uid) < 0))
                return ctr_err_sys(err, errno, "user", "switch to %u:%u", (unsigned)user->uid, (unsigned)user->gid);
        if (ctr_caps_set(caps, err) < 0)
                return -EPERM;
        if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return ctr_err_sys(err, errno, "no_new_privs", "prctl");
        return seccomp_first ? 0 : ctr_seccomp_load(prog, err);
}

int ctr_confine_prepare(const struct ctr_config *cfg, ctr_capmask *ret_caps, struct ctr_seccomp_prog *ret_prog,
                        struct ctr_error *err)
{
        *ret_prog = (struct ctr_seccomp_prog){0};
        if (ctr_caps_compute(cfg->cap_add, cfg->cap_drop, ret_caps, err) < 0)
                return -EINVAL;
        struct ctr_seccomp_spec sc = ctr_config_seccomp(cfg, *ret_caps);
        return ctr_seccomp_compile(&sc, ret_prog, err);
}

/* -u USER for ctr run: looked up in the rootfs's /etc/passwd (after pivot_root); ctr_confine
 * switches to it. */
static int run_user(const struct ctr_run_opts *run, struct ctr_user *ret, char ***env, struct ctr_error *err)
{
        _cleanup_free_ char *passwd = NULL;
        ctr_read_file("/etc/passwd", 1 << 20, &passwd, NULL);
        if (ctr_user_lookup(passwd ? passwd : "", run->user, ret, err) < 0)
                return -EINVAL;
        _cleanup_free_ char *home = xasprintf("HOME=%s", *ret->home ? ret->home : "/");
        ctr_config_env_set(env, home, NULL);
        return 0;
}

/* argv[0] through PATH from the environment the command gets. */
static void exec_path(char **argv, char **env)
{
        const char *path = CTR_DEFAULT_PATH;
        for (char **e = env; e && *e; e++)
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

static void __attribute__((noreturn)) child_main(const struct ctr_spawn *s, int sock, struct ctr_userns_start *u,
                                                 ctr_capmask caps, const struct ctr_seccomp_prog *prog)
{
        struct ctr_error err = {0};
        struct ctr_sync_msg m;

        /* If the monitor dies, so does the container: nothing runs unmanaged. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* A user namespace's child first gets its rootfs directory (see ctr_userns_after_clone). */
        int passed[1];
        ctr_sync_wait_go(sock, &m, passed, 1);
        if (u) {
                u->plan.root_target_fd = passed[0];
                if (passed[0] < 0)
                        ctr_err(&err, EPROTO, "sync", "no rootfs directory before GO"), ctr_sync_die(sock, &err, 1);
        } else if (passed[0] >= 0)
                close(passed[0]);
        if (u && ctr_userns_become_root(&err) < 0)
                ctr_sync_die(sock, &err, 1);

        if (unshare(CLONE_NEWCGROUP) < 0)
                ctr_err_sys(&err, errno, "cgroup namespace", "unshare"), ctr_sync_die(sock, &err, 1);
        if (sethostname(s->cfg->hostname, strlen(s->cfg->hostname)) < 0)
                ctr_err_sys(&err, errno, "hostname", "set '%s'", s->cfg->hostname), ctr_sync_die(sock, &err, 1);
        if (s->cfg->net_mode == CTR_NET_NETNS && join_netns(s->cfg->net.netns, &err) < 0)
                ctr_sync_die(sock, &err, 1);
        if (s->cfg->net_mode == CTR_NET_NONE && ctr_net_loopback_up(&err) < 0)
                ctr_sync_die(sock, &err, 1);

        struct ctr_mount_plan own, *plan = &own;
        const char *root = s->rootfs;
        char rootpath[64];
        if (u) {
                /* The plan the parent made, with the rootfs as a detached mount: after attaching,
                 * that mount is reached through its fd, not through the host's 0700 directories. */
                plan = &u->plan;
                snprintf(rootpath, sizeof(rootpath), "/proc/self/fd/%d", plan->root_mount_fd);
                root = rootpath;
        } else if (ctr_spawn_mount_plan(s->cfg, s->rootfs, s->console_path, s->notify_dir, s->run, &own, &err) < 0)
                ctr_sync_die(sock, &err, 1);
        if (ctr_rootfs_plan_execute(plan, &err) < 0 || ctr_rootfs_pivot(root, &err) < 0)
                ctr_sync_die(sock, &err, 1);
        if ((s->resolv_conf && write_guest_file("/etc/resolv.conf", NULL, s->resolv_conf, &err) < 0) ||
            (s->net_unit && write_guest_file("/etc/systemd/network/10-ctr-eth0.network", "/etc/systemd/network",
                                             s->net_unit, &err) < 0))
                ctr_sync_die(sock, &err, 1);

        /* ctr run without a tty: the caller's stdio stays, pipes as pipes. */
        if (s->console_fd >= 0) {
                if (setsid() < 0)
                        ctr_err_sys(&err, errno, "console", "setsid"), ctr_sync_die(sock, &err, 1);
                if (ioctl(s->console_fd, TIOCSCTTY, 0) < 0)
                        ctr_err_sys(&err, errno, "console", "make the console the controlling terminal"),
                                ctr_sync_die(sock, &err, 1);
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(s->console_fd, fd) < 0)
                                ctr_err_sys(&err, errno, "console", "dup2"), ctr_sync_die(sock, &err, 1);
        }
        /* Nothing of the monitor's leaks into the container: every other fd closes at exec. */
        if (ctr_launch_close_fds(3, NULL, 0, true, &err) < 0)
                ctr_sync_die(sock, &err, 1);

        /* Last: capabilities, no_new_privs, seccomp, then exec (ctr_confine, as for exec). */
        char **env = init_environment(s->cfg, s->notify_dir != NULL);
        struct ctr_user user = {0};
        bool switch_user = s->run && s->run->user;
        if ((switch_user && run_user(s->run, &user, &env, &err) < 0) ||
            ctr_confine(s->cfg, caps, prog, switch_user ? &user : NULL, &err) < 0)
                ctr_sync_die(sock, &err, 1);
        if (s->run && s->run->cwd && chdir(s->run->cwd) < 0)
                ctr_err_sys(&err, errno, "workdir", "chdir %s", s->run->cwd), ctr_sync_die(sock, &err, 1);
        ctr_reset_signals();
        umask(022);
        ctr_sync_exec(sock);
        if (!strchr(s->cfg->init[0], '/'))
                exec_path(s->cfg->init, env);
        else
                execve(s->cfg->init[0], s->cfg->init, env);
        if (s->run) {
                /* The shell's conventions: 127 not found, 126 not executable. */
                ctr_err_sys(&err, errno, "exec", "%s", s->cfg->init[0]);
                ctr_sync_die(sock, &err, errno == ENOENT ? 127 : 126);
        }
        ctr_err_sys(&err, errno, "exec", "init %s", s->cfg->init[0]);
        ctr_sync_die(sock, &err, 1);
}

struct spawn_launch {
        const struct ctr_spawn *s;
        struct ctr_userns_start *us;
        ctr_capmask caps;
        const struct ctr_seccomp_prog *prog;
};

static void __attribute__((noreturn)) spawn_child(void *data, int sock)
{
        struct spawn_launch *sl = data;
        child_main(sl->s, sock, sl->us, sl->caps, sl->prog);
}

static int spawn_before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        struct spawn_launch *sl = data;
        if (sl->us) {
                _cleanup_close_ int target = -EBADF;
                int r = ctr_userns_after_clone(&sl->s->cfg->idmap, sl->s->rootfs, pid, &target, err);
                if (r < 0)
                        return r;
                if (ctr_sync_send(sock, CTR_SYNC_FD, NULL, 0, target) < 0)
                        return ctr_err(err, EIO, "sync", "the container's init died before setup");
        }
        return sl->s->before_go ? sl->s->before_go(sl->s->before_go_data, pid, pidfd, err) : 0;
}

int ctr_spawn_init(const struct ctr_spawn *s, pid_t *ret_pid, int *ret_pidfd, struct ctr_error *err)
{
        uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;

        if (s->cfg->net_mode == CTR_NET_NONE || s->cfg->net_mode == CTR_NET_BRIDGE)
                flags |= CLONE_NEWNET;
        struct spawn_launch sl = {.s = s};
        __attribute__((cleanup(ctr_seccomp_prog_free))) struct ctr_seccomp_prog prog = {0};
        if (ctr_confine_prepare(s->cfg, &sl.caps, &prog, err) < 0)
                return -err->errnum;
        sl.prog = &prog;
        /* With a user namespace, every other namespace is born owned by it. */
        __attribute__((cleanup(ctr_userns_start_free))) struct ctr_userns_start us = {0};
        if (s->cfg->userns) {
                flags |= CLONE_NEWUSER;
                int q = ctr_spawn_mount_plan(s->cfg, s->rootfs, s->console_path, s->notify_dir, s->run, &us.plan, err);
                if (q < 0)
                        return q;
                us.planned = true;
                if ((q = ctr_userns_prepare(s->cfg, s->rootfs, s->console_fd, s->cgroup_path, &us, err)) < 0)
                        return q;
                sl.us = &us;
        }
        struct ctr_launch l = {
                .what = "the container's init",
                .flags = flags,
                .cgroup_fd = s->cgroup_fd,
                .cgroup_path = s->cgroup_path,
                .pidns_fd = -1,
                .until = CTR_LAUNCH_UNTIL_EXEC,
                .child = spawn_child,
                .child_data = &sl,
                .before_go = spawn_before_go,
                .data = &sl,
                .ret_child_status = s->ret_child_status,
        };
        struct ctr_launched out;
        int r = ctr_launch(&l, &out, err);
        if (r < 0)
                return r;
        *ret_pid = out.pid;
        *ret_pidfd = out.pidfd;
        return 0;
}
