/* The per-container monitor: owns the cgroup, console, control socket and init for the
 * container's whole run, then tears everything down. One per running container, no daemon. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "spawn.h"
#include "state.h"

struct ctr_monitor_args {
        const struct ctr_paths *paths;
        const struct ctr_config *cfg;
        bool foreground;
        int report_fd; /* sync socket to `ctr start` (detached), or -1 */
        int lock_fd;   /* the container's lock, released once the state file says "running"
                        * (or the start failed); -1 when the caller keeps it */
        /* ctr run: the caller's stdio (or the console relayed with run->tty), no console log, no
         * readiness, no reboot; a signal to ctr is passed to the command, a second one kills;
         * run->timeout kills the cgroup. The result is the command's status (124 on timeout). */
        const struct ctr_run_opts *run;
        /* ns: the inode numbers of CTR_RUN_NAMESPACES, read while the command was starting (0
         * where unknown). */
        void (*on_started)(void *data, const struct ctr_state *st, const uint64_t *ns);
        /* Before the cgroup goes: status as the shell reports it (128+N for a signal). */
        void (*on_exited)(void *data, const struct ctr_state *st, int status, bool timed_out);
        void *data;
};

/* Run the container to its end. Returns the monitor's exit status: 0 after a requested stop or a
 * clean init exit, the init's status otherwise, 125 when the start itself failed (the error
 * was reported on report_fd, or printed in foreground mode). */
int ctr_monitor_run(const struct ctr_monitor_args *a);

#define CTR_RUN_NAMESPACES {"pid", "mnt", "net", "uts", "ipc", "user"}
#define CTR_RUN_N_NAMESPACES 6

/* The cgroup leaf used for a container; unique per state root. */
char *ctr_monitor_cgroup_leaf(const struct ctr_paths *p, const char *name);
/* The signal that asks the container's init to shut down. */
int ctr_monitor_stop_signal(const struct ctr_config *cfg, const char *rootfs);
