/* The OCI runtime: containers described by a bundle's config.json, driven by an engine
 * (containerd, CRI-O, podman through conmon) with runc's command line. No monitor: `create`
 * leaves the container's init waiting on an exec fifo, `start` opens it, the engine's
 * subreaper reaps. State lives in ROOT/ID/ (default /run/ctr-oci). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "../base/error.h"
#include "oci_spec.h"

struct ctr_oci {
        const char *root;    /* state directory */
        bool systemd_cgroup; /* cgroupsPath is "slice:prefix:name" */
};

#define CTR_OCI_DEFAULT_ROOT "/run/ctr-oci"

struct ctr_oci_create_opts {
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        int preserve_fds; /* fds 3..3+N-1 pass to the container */
        char ***warnings; /* where the library appends what the caller should print, or NULL */
};

struct ctr_spec;
/* What create would start for the bundle, compiled (no fifo, no console socket). */
int ctr_oci_compile(const char *bundle, const struct ctr_oci_create_opts *opts, struct ctr_spec *ret,
                    struct ctr_error *err);

/* Create: the container's process waits for start. */
int ctr_oci_create(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *c, struct ctr_error *err);
/* Let a created container's process exec its program; poststart hooks follow. */
int ctr_oci_start(const struct ctr_oci *o, const char *id, struct ctr_error *err);
/* create + start; unless detach, wait, delete, and return the process's status in *ret_status
 * (128+N for a signal). */
int ctr_oci_run(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *c, bool detach,
                int *ret_status, struct ctr_error *err);
/* The state document of the runtime-spec ("ociVersion", "id", "status", "pid", "bundle",
 * "annotations"). Caller frees. */
int ctr_oci_state(const struct ctr_oci *o, const char *id, char **ret_json, struct ctr_error *err);
int ctr_oci_kill(const struct ctr_oci *o, const char *id, int sig, bool all, struct ctr_error *err);
int ctr_oci_delete(const struct ctr_oci *o, const char *id, bool force, struct ctr_error *err);
int ctr_oci_pause(const struct ctr_oci *o, const char *id, bool pause, struct ctr_error *err);
/* Change a live container's limits in place (update --resources): the values set in v (the
 * runtime-spec's units, 0 = unchanged, -1 = unlimited) go where create put the limits. */
int ctr_oci_update(const struct ctr_oci *o, const char *id, const struct ctr_cg_v1 *v, struct ctr_error *err);
int ctr_oci_pids(const struct ctr_oci *o, const char *id, pid_t **ret, size_t *ret_n, struct ctr_error *err);

struct ctr_oci_exec_opts {
        const char *process_file; /* a process object, or NULL: args and the flags below */
        char **args;
        char **env;
        const char *cwd;
        const char *user; /* "UID[:GID]" */
        bool tty;
        bool detach;
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        bool no_new_privs;
        char **cap_add;
};
int ctr_oci_exec(const struct ctr_oci *o, const char *id, const struct ctr_oci_exec_opts *e, int *ret_status,
                 struct ctr_error *err);

/* Every container's state document, for list. ret_json is a JSON array. */
int ctr_oci_list(const struct ctr_oci *o, char **ret_json, struct ctr_error *err);
/* `features`: what this runtime implements (runtime-spec features.md). Caller frees. */
char *ctr_oci_features(void);
/* The cgroup path (below the cgroup2 root) for a cgroupsPath; exposed for tests. Caller frees. */
char *ctr_oci_cgroup_rel(const char *cgroups_path, const char *id, bool systemd);
bool ctr_oci_id_valid(const char *id);
