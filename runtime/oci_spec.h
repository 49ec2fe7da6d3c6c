/* The OCI runtime-spec bundle config (config.json, versions 1.0-1.2) as ctr reads it: a strict
 * parser for what ctr acts on (invalid values are errors naming the field), unknown fields
 * ignored as the spec asks. Pure: no kernel calls, so the unit tests cover all of it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../cgroups/cgroups.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../security/caps.h"
#include "../spec/spec.h"

struct ctr_oci_mount {
        char *destination, *type, *source;
        unsigned long flags;     /* MS_* from the options */
        unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC), or 0 */
        char *data;              /* options the kernel takes as data ("mode=755,size=65536k") */
        bool bind, recursive;
};

struct ctr_oci_namespace {
        int type; /* CLONE_NEW* */
        char *path; /* join this one instead of creating */
};

struct ctr_oci_idmap {
        uint32_t container_id, host_id, size;
};

struct ctr_oci_device {
        char type; /* 'c', 'b', 'u' (= c), 'p' */
        char *path;
        int64_t major, minor;
        mode_t mode;
        uid_t uid;
        gid_t gid;
};

struct ctr_oci_rlimit {
        int resource;
        uint64_t soft, hard;
};


enum ctr_oci_hook_kind {
        CTR_OCI_PRESTART,
        CTR_OCI_CREATE_RUNTIME,
        CTR_OCI_CREATE_CONTAINER,
        CTR_OCI_START_CONTAINER,
        CTR_OCI_POSTSTART,
        CTR_OCI_POSTSTOP,
        CTR_OCI_N_HOOKS,
};

struct ctr_oci_process {
        bool terminal;
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        bool has_umask;
        mode_t umask;
        char **args, **env;
        char *cwd;
        bool has_caps;
        ctr_capmask bounding, effective, inheritable, permitted, ambient;
        struct ctr_oci_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
};

struct ctr_oci_resources {
        struct ctr_cg_limits limits; /* for cgroup v2 */
        struct ctr_cg_v1 v1;         /* the same in v1's terms, for hybrid hosts */
        bool any; /* something was asked for */
        struct ctr_cg_device *devices; /* allow rules; deny rules are the default */
        size_t n_devices;
};

struct ctr_oci_spec {
        ctr_json *doc; /* the parsed file: linux.seccomp and annotations are read from it */
        char *oci_version;
        char *root_path; /* absolute (resolved against the bundle) */
        bool root_readonly;
        struct ctr_oci_mount *mounts;
        size_t n_mounts;
        char *hostname, *domainname;
        bool has_process;
        struct ctr_oci_process process;
        struct ctr_spec_hook *hooks[CTR_OCI_N_HOOKS];
        size_t n_hooks[CTR_OCI_N_HOOKS];
        struct ctr_oci_namespace *namespaces;
        size_t n_namespaces;
        struct ctr_oci_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct ctr_oci_device *devices;
        size_t n_devices;
        char *cgroups_path;
        struct ctr_oci_resources resources;
        char **sysctl; /* "key=value" */
        const ctr_json *seccomp; /* into doc, or NULL */
        char **masked_paths, **readonly_paths;
        unsigned long rootfs_propagation; /* 0 = default (rslave... as runc: private) */
        const ctr_json *annotations; /* into doc, or NULL */
        char **warnings; /* what was ignored with a reason (intelRdt ...) */
};

/* Parse the config text of a bundle (bundle: its absolute directory, for a relative root). */
int ctr_oci_spec_parse(const char *text, const char *bundle, struct ctr_oci_spec *ret, struct ctr_error *err);
/* Only a LinuxResources object (update --resources FILE); the v1 values say what changes
 * (0 or "" = unchanged, -1 = unlimited). */
int ctr_oci_resources_parse(const char *text, struct ctr_oci_resources *ret, struct ctr_error *err);
void ctr_oci_resources_free(struct ctr_oci_resources *r);
/* Only a "process" object (exec --process FILE). */
int ctr_oci_process_parse(const char *text, struct ctr_oci_process *ret, struct ctr_error *err);
int ctr_oci_spec_load(const char *bundle, struct ctr_oci_spec *ret, struct ctr_error *err);
void ctr_oci_spec_free(struct ctr_oci_spec *s);
void ctr_oci_process_free(struct ctr_oci_process *p);
/* Is this namespace type in the spec (created or joined)? Returns the entry or NULL. */
const struct ctr_oci_namespace *ctr_oci_spec_ns(const struct ctr_oci_spec *s, int type);
/* Mount options as mount(2) wants them; unknown options are passed as data. Exposed for tests. */
int ctr_oci_mount_options(char *const *opts, struct ctr_oci_mount *m, struct ctr_error *err);
/* The default config.json of `ctr spec` (runc's, with sh as the process). Caller frees. */
char *ctr_oci_spec_default(bool rootless);
