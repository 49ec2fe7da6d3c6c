/* Where things live (the state root) and what is true now (/run state.json), plus the per-container
 * lock. The monitor is the only writer of state.json while it lives; CLI verbs take the lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

struct ctr_paths {
        char *root;       /* --root, or /var/lib/ctr */
        char *containers; /* ROOT/containers */
        char *run;        /* /run/ctr or ROOT/run */
        char *log;        /* /var/log/ctr or ROOT/log */
        char *cache;      /* /var/cache/ctr or ROOT/cache (CTR_CACHE overrides) */
        int debug_fd;     /* --debug: where the compiled spec of what starts is written, or -1 */
};

/* The directory of memos under a run directory (RUN/.memo: compiled seccomp filters, idmap
 * probe answers); no container name starts with a dot. */
#define CTR_MEMO_DIR ".memo"

int ctr_paths_init(struct ctr_paths *p, const char *root, struct ctr_error *err);
void ctr_paths_free(struct ctr_paths *p);
/* Each returns a malloc'd path. */
char *ctr_path_container(const struct ctr_paths *p, const char *name);
char *ctr_path_config(const struct ctr_paths *p, const char *name);
char *ctr_path_rootfs(const struct ctr_paths *p, const char *name);
char *ctr_path_rundir(const struct ctr_paths *p, const char *name);
char *ctr_path_state(const struct ctr_paths *p, const char *name);
char *ctr_path_console_log(const struct ctr_paths *p, const char *name);
char *ctr_path_monitor_log(const struct ctr_paths *p, const char *name);

enum ctr_status { CTR_STOPPED, CTR_STARTING, CTR_RUNNING, CTR_FROZEN, CTR_STOPPING };
const char *ctr_status_name(enum ctr_status s);

struct ctr_state {
        enum ctr_status status;
        pid_t monitor_pid;
        uint64_t monitor_start; /* /proc starttime, guards against pid reuse */
        pid_t init_pid;
        uint64_t init_start;
        char *cgroup; /* absolute path of the container's cgroup directory */
        int64_t started_at;    /* unix seconds */
        int64_t transition_at; /* unix seconds of the last status change */
        char *net_mode;
        char *ipv4, *ipv6; /* bridge mode: the addresses of eth0 */
        char *veth;        /* bridge mode: the host side of the pair */
        char *cgroup_v1;   /* hybrid/legacy hosts: the container's cgroup below each v1 hierarchy's root */
        bool foreground;
};

void ctr_state_free(struct ctr_state *s);
char *ctr_state_to_json(const struct ctr_state *s);
int ctr_state_parse(const char *text, struct ctr_state *ret, struct ctr_error *err);
/* -ENOENT (without touching err) when there is no state file: the container is stopped. */
int ctr_state_load(const struct ctr_paths *p, const char *name, struct ctr_state *ret, struct ctr_error *err);
int ctr_state_save(const struct ctr_paths *p, const char *name, const struct ctr_state *s,
                   struct ctr_error *err);

/* The truth about a container, from state.json checked against the live processes:
 * ret->status is CTR_STOPPED when there is no state or its monitor is gone. *ret_stale is set
 * when a state file exists but its monitor died (leftovers to clean up). */
int ctr_state_probe(const struct ctr_paths *p, const char *name, struct ctr_state *ret, bool *ret_stale,
                    struct ctr_error *err);

/* flock the container's directory. Fails with ENOENT (and a message) when the container does
 * not exist, including when it was destroyed while we waited for the lock. */
int ctr_lock_container(const struct ctr_paths *p, const char *name, int *ret_fd, struct ctr_error *err);
