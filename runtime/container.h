/* Container lifecycle as the CLI sees it: create (template, atomic), start (forks the monitor),
 * stop (through the monitor's socket), destroy, and repair of what a dead monitor left. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "../base/error.h"
#include "state.h"

struct ctr_template_event;
struct ctr_create_opts {
        const char *release;
        const char *dist;    /* multi-distribution templates (download) */
        const char *mirror;  /* --mirror; NULL: CTR_MIRROR, then the host's apt sources */
        const char *storage; /* "overlay", "dir", or NULL: overlay for cached templates where the kernel has it */
        void (*progress)(void *userdata, const struct ctr_template_event *ev); /* may be NULL */
        void *userdata;
        /* ctr run --from: an overlay on this (stopped) container's tree instead of a template */
        const char *from;
        bool cache; /* cache the template's tree even when it does not ask for it (ctr run) */
        bool ephemeral; /* ctr run --rm: gone when the command ends, so nothing is fsynced */
};

/* Template, release (the template's default when NULL) and the mirror that applies. */
struct ctr_template_choice {
        char *exe;
        char *release;
        char *dist;
        char *mirror;
        bool cache;
};
int ctr_template_choose(const char *tpl, const char *dist, const char *release, const char *mirror,
                        struct ctr_template_choice *ret, struct ctr_error *err);
void ctr_template_choice_free(struct ctr_template_choice *c);
const char *ctr_host_arch(void);

int ctr_container_create(const struct ctr_paths *p, struct ctr_config *cfg, const struct ctr_create_opts *o,
                         struct ctr_error *err);
/* foreground: run the monitor in this process; *ret_code gets its exit status. */
int ctr_container_start(const struct ctr_paths *p, const char *name, bool foreground, int *ret_code,
                        struct ctr_error *err);
/* to_vm (ctr start --vm): a container created without --vm becomes a VM container first (its tree
 * built into its root disk, its mode vm, for good); undone when this start then fails. */
int ctr_container_start_as(const struct ctr_paths *p, const char *name, bool foreground, bool to_vm, int *ret_code,
                           struct ctr_error *err);
/* ctr run: the monitor in this process with run's settings (run->paths, cfg, foreground,
 * report_fd and lock_fd are filled here); *ret_code gets the command's status. */
struct ctr_monitor_args;
int ctr_container_run(const struct ctr_paths *p, const char *name, const struct ctr_monitor_args *run, int *ret_code,
                      struct ctr_error *err);
/* timeout < 0: the config's stop.timeout. Stopping a stopped container is not an error. */
int ctr_container_stop(const struct ctr_paths *p, const char *name, int timeout, bool force_kill,
                       struct ctr_error *err);
int ctr_container_destroy(const struct ctr_paths *p, const char *name, bool force, struct ctr_error *err);

/* Change one config key (ctr config NAME set). A limit changed on a running container is written
 * to its live cgroup first; when that fails nothing is saved. */
int ctr_container_config_set(const struct ctr_paths *p, const char *name, const char *key, const char *value,
                             bool *ret_live, struct ctr_error *err);

/* Freeze (or thaw) every process of a running container through its monitor. */
int ctr_container_freeze(const struct ctr_paths *p, const char *name, bool freeze, struct ctr_error *err);

/* Load config.json of an existing container (ENOENT with "no such container" otherwise). */
int ctr_container_load(const struct ctr_paths *p, const char *name, struct ctr_config *ret, struct ctr_error *err);
/* What `ctr list` shows, cheaply: name, template.name, mode, vm.vcpus, vm.memory, the network
 * mode and network.ipv6, from NAME/.summary while it matches config.json, else from the config
 * (which refreshes the summary). The rest of ret is zero. Errors are ctr_container_load's. */
int ctr_container_load_brief(const struct ctr_paths *p, const char *name, struct ctr_config *ret,
                             struct ctr_error *err);
/* Remove what a dead monitor left behind: its cgroup (killing stragglers) and run directory. */
int ctr_container_cleanup_stale(const struct ctr_paths *p, const char *name, const struct ctr_state *st,
                                struct ctr_error *err);
/* Names of all containers, sorted. */
int ctr_container_names(const struct ctr_paths *p, char ***ret, struct ctr_error *err);
