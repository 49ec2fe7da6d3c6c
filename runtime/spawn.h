/* The start sequence's process side: clone3 into the container's cgroup (with fallback), the
 * numbered sync between parent and child, and the child's setup up to execve of init. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../launch/launch.h"
#include "../spec/spec.h"
#include "config.h"
#include "../base/error.h"

/* What `ctr run` changes about a container's first process (NULL for system containers). */
struct ctr_run_opts {
        bool tty;           /* the console pty, relayed to the caller; else the caller's own stdio */
        bool readonly_root; /* --read-only */
        char **tmpfs;       /* a fresh tmpfs on each of these paths */
        const char *user;   /* name or uid[:gid] from the rootfs's /etc/passwd; NULL = root */
        const char *cwd;    /* NULL = / */
        int timeout;        /* seconds; 0 = none */
        bool ephemeral;     /* removed after the run (no --keep): its overlay upper is never synced */
};

struct ctr_spawn {
        const struct ctr_config *cfg;
        const char *rootfs;
        const char *cgroup_path;
        int cgroup_fd;
        int console_fd; /* pty slave: init's stdio and controlling terminal */
        const char *console_path;
        /* Called between clone and GO, with init waiting (veth, addresses, routes). */
        int (*before_go)(void *data, pid_t pid, int pidfd, struct ctr_error *err);
        void *before_go_data;
        /* Written inside after pivot_root when not NULL: /etc/resolv.conf (unless a symlink, which
         * means the guest manages it) and /etc/systemd/network/10-ctr-eth0.network (when that
         * directory exists). */
        const char *resolv_conf;
        const char *net_unit;
        const char *notify_dir; /* host directory bound on CTR_NOTIFY_DIR, or NULL */
        const struct ctr_run_opts *run; /* ctr run: stdio, user, cwd, tmpfs, read-only root */
        int *ret_child_status;          /* set when the child failed: the status it asked for */
        const char *cgroup_v1;          /* the container's cgroup in every v1 hierarchy, or NULL */
        int debug_fd;                   /* gets the compiled spec, as the launcher receives it, or -1 */
};

/* Where the monitor's notify socket appears inside (NOTIFY_SOCKET for init; systemd's
 * CONTAINER_INTERFACE names /run/host/ as the place for what the host provides). */
#define CTR_NOTIFY_DIR "/run/host/notify"
#define CTR_NOTIFY_SOCKET CTR_NOTIFY_DIR "/notify"

struct ctr_mount_plan;
/* The mount plan init will run for this config (console: the pty to bind on /dev/console;
 * notify_dir: the monitor's notify socket directory, or NULL). */
int ctr_spawn_mount_plan(const struct ctr_config *cfg, const char *rootfs, const char *console,
                         const char *notify_dir, const struct ctr_run_opts *run, struct ctr_mount_plan *ret,
                         struct ctr_error *err);

/* The confinement of init and of every exec, prepared by the parent before clone: the
 * capability set and the compiled seccomp filter. */
int ctr_confine_prepare(const struct ctr_config *cfg, ctr_capmask *ret_caps, struct ctr_seccomp_prog *ret_prog,
                        struct ctr_error *err);
struct ctr_spec;
struct ctr_spec_process;
/* What init is, compiled (ctr_spawn_init launches it): pure but for the netns file it opens. */
int ctr_spawn_compile(const struct ctr_spawn *s, struct ctr_spec *ret, struct ctr_error *err);
/* The confinement of every process of a container with this config, into p. */
int ctr_spawn_compile_confinement(const struct ctr_config *cfg, struct ctr_spec_process *p, struct ctr_error *err);

/* Create the container's init. On success the child has exec'd init. */
int ctr_spawn_init(const struct ctr_spawn *s, pid_t *ret_pid, int *ret_pidfd, struct ctr_error *err);

/* Default PATH inside containers. */
#define CTR_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
