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

static char **init_environment(const struct ctr_config *cfg, bool notify, bool root_home)
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
        if (root_home)
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
        spec.volatile_upper = run && run->ephemeral;
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

int ctr_confine_prepare(const struct ctr_config *cfg, ctr_capmask *ret_caps, struct ctr_seccomp_prog *ret_prog,
                        struct ctr_error *err)
{
        *ret_prog = (struct ctr_seccomp_prog){0};
        if (ctr_caps_compute(cfg->cap_add, cfg->cap_drop, ret_caps, err) < 0)
                return -EINVAL;
        struct ctr_seccomp_spec sc = ctr_config_seccomp(cfg, *ret_caps);
        return ctr_seccomp_compile(&sc, ret_prog, err);
}

/* The confinement every process of this container gets: the capability set as the bounding,
 * effective, permitted and inheritable sets of root (a non-root user keeps none), the config's
 * no_new_privs and its compiled seccomp filter. */
int ctr_spawn_compile_confinement(const struct ctr_config *cfg, struct ctr_spec_process *p, struct ctr_error *err)
{
        ctr_capmask caps;
        int r = ctr_confine_prepare(cfg, &caps, &p->seccomp, err);
        if (r < 0)
                return r;
        p->bounding = p->effective = p->permitted = p->inheritable = caps;
        p->ambient = 0;
        p->caps_if_root = true;
        p->no_new_privs = cfg->no_new_privs;
        struct ctr_seccomp_spec sc = ctr_config_seccomp(cfg, caps);
        p->seccomp_desc = ctr_seccomp_describe(&sc);
        return 0;
}

static void add_file(struct ctr_spec *spec, const char *path, const char *need_dir, const char *text)
{
        spec->files = realloc(spec->files, (spec->n_files + 1) * sizeof(*spec->files));
        if (!spec->files)
                abort();
        spec->files[spec->n_files++] = (struct ctr_spec_file){
                .path = xstrdup(path), .need_dir = need_dir ? xstrdup(need_dir) : NULL, .text = xstrdup(text)};
}

int ctr_spawn_compile(const struct ctr_spawn *s, struct ctr_spec *spec, struct ctr_error *err)
{
        const struct ctr_config *cfg = s->cfg;
        const struct ctr_run_opts *run = s->run;
        struct ctr_spec_process *p = &spec->process;
        int r;

        ctr_spec_init(spec);
        spec->what = xstrdup("the container's init");
        spec->clone_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
        if (cfg->net_mode == CTR_NET_NONE || cfg->net_mode == CTR_NET_BRIDGE)
                spec->clone_flags |= CLONE_NEWNET;
        /* With a user namespace, every other namespace is born owned by it. */
        if (cfg->userns)
                spec->clone_flags |= CLONE_NEWUSER;
        spec->new_cgroupns = true;
        spec->userns_root = spec->root_target_fd = cfg->userns;
        spec->dumpable = true;
        spec->die_with_parent = true;
        if (cfg->net_mode == CTR_NET_NETNS) {
                int fd = open(cfg->net.netns, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return ctr_err_sys(err, errno, "network", "open namespace %s", cfg->net.netns);
                spec->join_fds[0] = fd;
                spec->join_types[0] = CLONE_NEWNET;
                spec->n_joins = 1;
        }
        spec->loopback_up = cfg->net_mode == CTR_NET_NONE;
        spec->hostname = xstrdup(cfg->hostname);
        if ((r = ctr_spawn_mount_plan(cfg, s->rootfs, s->console_path, s->notify_dir, run, &spec->plan, err)) < 0)
                return r;
        spec->has_plan = true;
        spec->root = CTR_ROOT_PIVOT;
        spec->root_path = xstrdup(s->rootfs);
        if (s->resolv_conf)
                add_file(spec, "/etc/resolv.conf", NULL, s->resolv_conf);
        if (s->net_unit)
                add_file(spec, "/etc/systemd/network/10-ctr-eth0.network", "/etc/systemd/network", s->net_unit);
        /* ctr run without a tty: the caller's stdio stays, pipes as pipes. */
        spec->console = s->console_fd >= 0 ? CTR_CONSOLE_FD : CTR_CONSOLE_INHERIT;
        spec->console_fd = s->console_fd;

        p->argv = strv_copy(cfg->init);
        p->env = init_environment(cfg, s->notify_dir != NULL, !(run && run->user));
        /* -u USER for ctr run: looked up in the rootfs's /etc/passwd, after the root switch. */
        if (run && run->user) {
                p->user = xstrdup(run->user);
                p->user_env = true;
        }
        p->cwd = run && run->cwd ? xstrdup(run->cwd) : NULL;
        p->umask = 022;
        /* The shell's conventions for ctr run: 127 not found, 126 not executable. */
        p->shell_status = run != NULL;
        p->is_init = run == NULL;
        p->fail_status = 1;
        return ctr_spawn_compile_confinement(cfg, p, err);
}

static int spawn_before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        const struct ctr_spawn *s = data;
        if (s->cfg->userns) {
                _cleanup_close_ int target = -EBADF;
                int r = ctr_userns_after_clone(&s->cfg->idmap, s->rootfs, pid, &target, err);
                if (r < 0)
                        return r;
                if (ctr_sync_send(sock, CTR_SYNC_FD, NULL, 0, target) < 0)
                        return ctr_err(err, EIO, "sync", "the container's init died before setup");
        }
        return s->before_go ? s->before_go(s->before_go_data, pid, pidfd, err) : 0;
}

int ctr_spawn_init(const struct ctr_spawn *s, pid_t *ret_pid, int *ret_pidfd, struct ctr_error *err)
{
        __attribute__((cleanup(ctr_spec_free))) struct ctr_spec spec;
        ctr_spec_init(&spec);
        int r = ctr_spawn_compile(s, &spec, err);
        if (r < 0)
                goto out;
        /* The rootfs as a detached idmapped mount, the binds as detached clones. */
        if (s->cfg->userns) {
                struct ctr_userns_start us = {.plan = spec.plan, .planned = true};
                r = ctr_userns_prepare(s->cfg, s->rootfs, s->console_fd, s->cgroup_path, s->run && s->run->ephemeral, &us,
                                       err);
                spec.plan = us.plan;
                spec.has_plan = us.planned; /* a failed prepare freed it */
                if (r < 0)
                        goto out;
        }
        if (s->debug_fd >= 0)
                ctr_spec_write(&spec, s->debug_fd);
        struct ctr_launch l = {
                .cgroup_fd = s->cgroup_fd,
                .cgroup_path = s->cgroup_path,
                .v1_rel = s->cgroup_v1,
                .before_go = spawn_before_go,
                .data = (void *)s,
                .ret_child_status = s->ret_child_status,
        };
        ctr_launch_spec(&l, &spec);
        struct ctr_launched out;
        if ((r = ctr_launch(&l, &out, err)) < 0)
                goto out;
        *ret_pid = out.pid;
        *ret_pidfd = out.pidfd;
out:
        for (size_t i = 0; i < spec.n_joins; i++)
                close(spec.join_fds[i]);
        return r;
}
