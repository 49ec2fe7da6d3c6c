/* cgroups/: the container's cgroup v2 directory — layout detection, creation under ctr's own
 * parent, limits, kill, freeze and removal. Talks to the kernel only; runtime/ sequences it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

enum ctr_cg_layout { CTR_CG_UNIFIED, CTR_CG_HYBRID, CTR_CG_LEGACY };

struct ctr_cg_host {
        enum ctr_cg_layout layout;
        char mount[256];       /* where cgroup2 is mounted: /sys/fs/cgroup or /sys/fs/cgroup/unified */
        char controllers[256]; /* cgroup.controllers of that root, space separated */
};

/* Block I/O limits of one device (io.max, io.weight). 0 = unlimited / default. */
struct ctr_cg_io {
        unsigned major, minor;
        uint64_t rbps, wbps, riops, wiops;
        uint32_t weight; /* 1..10000 */
};

#define CTR_CG_IO_MAX 16

struct ctr_cg_limits {
        uint64_t memory;      /* memory.max, bytes; 0 = unset */
        uint64_t memory_high; /* memory.high */
        double cpus;          /* cpu.max quota in CPUs */
        uint64_t cpu_weight;  /* cpu.weight */
        int64_t pids;         /* pids.max */
        uint64_t memory_swap; /* memory.swap.max, bytes; 0 = unset */
        char cpuset[64];      /* cpuset.cpus, "" = unset */
        char cpuset_mems[64]; /* cpuset.mems, "" = unset */
        struct ctr_cg_io io[CTR_CG_IO_MAX];
        size_t n_io;
};

/* "MAJ:MIN:KEY=VALUE[,KEY=VALUE]..." or "/dev/PATH:KEY=VALUE..." (a block device, resolved to
 * its numbers); keys rbps and wbps take sizes (50M), riops, wiops and weight numbers. */
int ctr_cgroup_io_parse(const char *spec, struct ctr_cg_io *ret, struct ctr_error *err);
/* Back to "MAJ:MIN:KEY=VALUE,..." (set keys only). */
void ctr_cgroup_io_format(const struct ctr_cg_io *io, char *buf, size_t len);
/* The io.max line of a device ("8:0 rbps=52428800 wbps=max riops=max wiops=max"). */
void ctr_cgroup_io_max_line(const struct ctr_cg_io *io, char *buf, size_t len);

/* "0-3,6": CPU list syntax of cpuset.cpus. */
bool ctr_cgroup_cpuset_valid(const char *s);

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
/* The same at any path below the cgroup2 root ("a/b/leaf"; the OCI runtime's cgroupsPath),
 * creating missing ancestors; only the leaf is removed again by ctr_cgroup_remove. */
int ctr_cgroup_create_path(const struct ctr_cg_host *h, const char *rel, const struct ctr_cg_limits *l,
                           char **ret_path, int *ret_fd, struct ctr_error *err);
/* Under a service manager that delegated its cgroup to us (a unit with Delegate=yes: the cgroup
 * this process is in carries the trusted.delegate or user.delegate xattr), that cgroup's path;
 * NULL otherwise. */
char *ctr_cgroup_delegated(const struct ctr_cg_host *h);
#define CTR_CGROUP_DELEGATED_PAYLOAD "ctr-payload"
#define CTR_CGROUP_DELEGATED_MONITOR "ctr-monitor"
/* The delegated counterpart of ctr_cgroup_create: this process moves to DELEGATED/ctr-monitor
 * (a cgroup with children may hold no processes) and the container gets DELEGATED/ctr-payload,
 * with the controllers the delegation offers. */
int ctr_cgroup_create_delegated(const struct ctr_cg_host *h, const char *delegated, const struct ctr_cg_limits *l,
                                char **ret_path, int *ret_fd, struct ctr_error *err);
int ctr_cgroup_apply_limits(const char *path, const struct ctr_cg_limits *l, struct ctr_error *err);
/* Change a live cgroup from one set of limits to another: changed values are written, cleared
 * ones go back to the kernel's default ("max", weight 100). Fails before writing anything when
 * a controller the new limits need is missing. */
int ctr_cgroup_update_limits(const struct ctr_cg_host *h, const char *path, const struct ctr_cg_limits *old,
                             const struct ctr_cg_limits *new, struct ctr_error *err);

/* True when path is a container cgroup created by ctr under this host's cgroup2 mount. */
bool ctr_cgroup_path_ours(const struct ctr_cg_host *h, const char *path);

/* Delegate the cgroup at path to uid:gid (root of a user-namespaced container), as systemd's
 * cgroup delegation asks: the directory and the files /sys/kernel/cgroup/delegate lists. */
int ctr_cgroup_chown(const char *path, uid_t uid, gid_t gid, struct ctr_error *err);

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

/* What the kernel counts for the cgroup. A group is present only when its files exist (the
 * cpu.stat usage counters always do; memory/pids/io need their controllers). */
struct ctr_cg_stats {
        bool has_memory;
        uint64_t memory_current, memory_peak, memory_max; /* memory_max: UINT64_MAX = "max" */
        uint64_t oom, oom_kill;
        bool has_cpu;
        uint64_t usage_usec, user_usec, system_usec, nr_periods, nr_throttled, throttled_usec;
        bool has_pids;
        uint64_t pids_current, pids_max; /* pids_max: UINT64_MAX = "max" */
        bool has_io;
        uint64_t io_rbytes, io_wbytes;
};
int ctr_cgroup_stats(const char *path, struct ctr_cg_stats *ret);
/* The same, the groups cgroup2 lacked filled from REL in the v1 hierarchies (NULL: none). */
int ctr_cgroup_stats_all(const char *path, const char *v1_rel, struct ctr_cg_stats *ret);
/* "KEY VALUE" lines (cpu.stat, memory.events): the value of key, or -ENOENT. */
int ctr_cgroup_keyed(const char *text, const char *key, uint64_t *ret);

/* --- cgroup v1 hierarchies (cgroups/v1.c), for the OCI runtime on hybrid and legacy hosts ---- */

/* Values as the runtime-spec gives them (v1's own units); 0 or "" = unset. */
struct ctr_cg_v1 {
        uint64_t cpu_shares, cpu_period, rt_period;
        int64_t cpu_quota, rt_runtime;
        char cpus[64], mems[64];
        int64_t memory_limit, memory_reservation, memory_swap; /* -1 = unlimited */
        int64_t pids_limit;                                    /* -1 = unlimited */
        uint16_t blkio_weight;
        const struct ctr_cg_device *devices; /* allowed besides the standard ones */
        size_t n_devices;
        bool no_devices; /* leave devices.* alone (an update; a native container, whose cgroup2 BPF program filters) */
};

/* Any v1 controller hierarchy mounted (named ones like name=systemd do not count). */
bool ctr_cgroup_v1_available(void);
/* REL (a path below each hierarchy's root) in every v1 hierarchy: made, limited, and pid moved
 * in (pid 0: none; ctr_launch places the child). REL under memory's process_api (reserved on
 * these machines) is refused. */
int ctr_cgroup_v1_enter(const char *rel, const struct ctr_cg_v1 *v, pid_t pid, struct ctr_error *err);
/* Move pid into REL of every v1 hierarchy; a hierarchy where REL is missing is an error. */
int ctr_cgroup_v1_join(const char *rel, pid_t pid, struct ctr_error *err);
/* A v1 hierarchy carrying this controller is mounted. */
bool ctr_cgroup_v1_has(const char *controller);
/* The limits cgroup2 lacks the controller for (a hybrid or legacy host), moved out of l into
 * v1's terms in *ret_v1 when a v1 hierarchy has the controller; *ret_any tells whether any
 * moved. Fails naming the controller when neither has it. */
int ctr_cgroup_split_v1(const struct ctr_cg_host *h, struct ctr_cg_limits *l, struct ctr_cg_v1 *ret_v1, bool *ret_any,
                        struct ctr_error *err);
/* Fill the groups of s that cgroup2 lacked (memory, pids, cpu throttling) from REL in the v1
 * hierarchies (ctr_cgroup_stats_all). */
void ctr_cgroup_v1_stats(const char *rel, struct ctr_cg_stats *s);
/* Change the limits of REL in place (the OCI runtime's update): the values set in v are written
 * to every hierarchy that has REL; 0 and "" leave a value as it is, -1 lifts it. */
int ctr_cgroup_v1_update(const char *rel, const struct ctr_cg_v1 *v, struct ctr_error *err);
/* The same values, in the runtime-spec's (v1) units, written to a cgroup2 directory with the
 * conversions runc and crun use (shares -> cpu.weight, memory+swap -> swap alone, blkio weight
 * -> io.weight). strict: a file the cgroup lacks (its controller is not enabled) is an error;
 * otherwise that value is skipped (a hybrid host, where v1 holds the limits). */
int ctr_cgroup_update_oci(const char *path, const struct ctr_cg_v1 *v, bool strict, struct ctr_error *err);
/* Remove REL from every hierarchy (it must be empty), and empty parents under ctr.slice. */
void ctr_cgroup_v1_remove(const char *rel);

/* --- device control (BPF_CGROUP_DEVICE, cgroups/devices.c) -------------------------------- */

enum { CTR_DEV_READ = 1, CTR_DEV_WRITE = 2, CTR_DEV_MKNOD = 4, CTR_DEV_RWM = 7 };

struct ctr_cg_device {
        char type;     /* 'c', 'b', or 'a' (any) */
        int64_t major; /* -1: any */
        int64_t minor; /* -1: any */
        unsigned access; /* CTR_DEV_* */
};

/* The standard allow list: null zero full random urandom tty console ptmx and ptys. */
const struct ctr_cg_device *ctr_cgroup_default_devices(size_t *ret_n);
/* "c 10:200 rwm" (cgroup v1 devices.allow syntax; '*' for any number). -EINVAL when malformed. */
int ctr_cgroup_device_parse(const char *spec, struct ctr_cg_device *ret);
void ctr_cgroup_device_format(const struct ctr_cg_device *d, char *buf, size_t len);
struct bpf_insn;
/* Assemble the allow-list program; returns its length (call with out = NULL to size it). */
size_t ctr_cgroup_device_program(const struct ctr_cg_device *rules, size_t n, struct bpf_insn *out, size_t cap);
/* Attach the default list plus extra to the cgroup: everything else is denied, mknod included. */
int ctr_cgroup_device_filter(int cgroup_fd, const struct ctr_cg_device *extra, size_t n_extra,
                             struct ctr_error *err);
