/* The per-container monitor: owns the cgroup, console, control socket and init for the
 * container's whole run, then tears everything down. One per running container, no daemon. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "state.h"

struct ctr_monitor_args {
        const struct ctr_paths *paths;
        const struct ctr_config *cfg;
        bool foreground;
        int report_fd; /* sync socket to `ctr start` (detached), or -1 */
        int lock_fd;   /* the container's lock, released once the state file says "running"
                        * (or the start failed); -1 when the caller keeps it */
};

/* Run the container to its end. Returns the monitor's exit status: 0 after a requested stop or a
 * clean init exit, the init's status otherwise, 125 when the start itself failed (the error
 * was reported on report_fd, or printed in foreground mode). */
int ctr_monitor_run(const struct ctr_monitor_args *a);

/* The cgroup leaf used for a container; unique per state root. */
char *ctr_monitor_cgroup_leaf(const struct ctr_paths *p, const char *name);
/* The signal that asks the container's init to shut down. */
int ctr_monitor_stop_signal(const struct ctr_config *cfg, const char *rootfs);
