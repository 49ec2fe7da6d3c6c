/* cgroups/: the container's cgroup v2 directory — layout detection, creation under ctr's own
 * parent, limits, kill, freeze and removal. Talks to the kernel only; runtime/ sequences it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../runtime/error.h"

enum ctr_cg_layout { CTR_CG_UNIFIED, CTR_CG_HYBRID, CTR_CG_LEGACY };

struct ctr_cg_host {
        enum ctr_cg_layout layout;
        char mount[256];       /* where cgroup2 is mounted: /sys/fs/cgroup or /sys/fs/cgroup/unified */
        char controllers[256]; /* cgroup.controllers of that root, space separated */
};

struct ctr_cg_limits {
        uint64_t memory;      /* memory.max, bytes; 0 = unset */
        uint64_t memory_high; /* memory.high */
        double cpus;          /* cpu.max quota in CPUs */
        uint64_t cpu_weight;  /* cpu.weight */
        int64_t pids;         /* pids.max */
};

#define CTR_CGROUP_PARENT "ctr.slice"

int ctr_cgroup_detect(struct ctr_cg_host *ret, struct ctr_error *err);
const char *ctr_cgroup_layout_name(enum ctr_cg_layout l);

/* Fail with a clear message when a requested limit's controller is missing on this host. */
int ctr_cgroup_check_limits(const struct ctr_cg_host *h, const struct ctr_cg_limits *l, struct ctr_error *err);

/* Create MOUNT/ctr.slice/LEAF (enabling the controllers the limits need), apply the limits, and
 * return its path and an O_DIRECTORY fd for CLONE_INTO_CGROUP. A leftover empty directory of
 * the same name is reused; a populated one is an error. */
int ctr_cgroup_create(const struct ctr_cg_host *h, const char *leaf, const struct ctr_cg_limits *l,
                      char **ret_path, int *ret_fd, struct ctr_error *err);
int ctr_cgroup_apply_limits(const char *path, const struct ctr_cg_limits *l, struct ctr_error *err);

/* True when path is a container cgroup created by ctr under this host's cgroup2 mount. */
bool ctr_cgroup_path_ours(const struct ctr_cg_host *h, const char *path);

int ctr_cgroup_enter(const char *path, pid_t pid, struct ctr_error *err);
bool ctr_cgroup_populated(const char *path);
/* SIGKILL every process in the cgroup (cgroup.kill, or one by one on old kernels). */
int ctr_cgroup_kill(const char *path, struct ctr_error *err);
/* Freeze or thaw, waiting (up to timeout_ms) for cgroup.events to confirm. */
int ctr_cgroup_freeze(const char *path, bool freeze, int timeout_ms, struct ctr_error *err);
/* Wait for the cgroup to empty (up to timeout_ms), rmdir it, and rmdir ctr's parent if empty.
 * Missing is success. */
int ctr_cgroup_remove(const char *path, int timeout_ms, struct ctr_error *err);
/* pids in cgroup.procs; caller frees. */
int ctr_cgroup_procs(const char *path, pid_t **ret, size_t *ret_n);
