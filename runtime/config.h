/* A container's config.json: the in-memory form, strict parsing (unknown keys are errors naming
 * the key), validation, and serialisation. Later features extend it under their own keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"

#define CTR_CONFIG_VERSION 1

enum ctr_net_mode { CTR_NET_NONE, CTR_NET_HOST, CTR_NET_BRIDGE, CTR_NET_NETNS };

#include "../cgroups/cgroups.h"
#include "../netns/netns.h"
#include "../security/seccomp.h"

struct ctr_net_config {
        char *netns;  /* mode netns: the namespace file to join */
        char *bridge; /* mode bridge: NULL = the bridge of ctr.conf */
        char *ipv4;   /* NULL = "auto" (leased), else a fixed address in the subnet */
        char *ipv6;   /* NULL = "auto", "none" = no IPv6, else a fixed address */
        struct ctr_port *ports;
        size_t n_ports;
};

struct ctr_mount {
        char *source;
        char *target;
        bool readonly;
};

/* "security.idmap": the host ids root inside maps to, allocated at create (ctr-config(5)). */
struct ctr_idmap {
        uint32_t uid, gid;
        uint32_t count; /* 0: none allocated */
        bool chowned;   /* "shift": "chown": the tree was chowned at create instead of idmapped mounts */
};

struct ctr_limits {
        uint64_t memory;      /* bytes, 0 = unset */
        uint64_t memory_high; /* bytes, 0 = unset */
        double cpus;          /* 0 = unset */
        uint64_t cpu_weight;  /* 1..10000, 0 = unset */
        int64_t pids;         /* 0 = unset */
        uint64_t memory_swap; /* bytes, 0 = unset */
        char *cpuset;         /* "0-1", NULL = unset */
        char *cpuset_mems;    /* "0", NULL = unset */
        struct ctr_cg_io *io; /* per-device block I/O limits */
        size_t n_io;
};

struct ctr_config {
        int version;
        char *name;
        char *template_name;
        char *template_release;
        char *template_arch;
        char *template_dist;  /* a multi-distribution template's choice ("download"), or NULL */
        char *storage_driver; /* "dir" or "overlay" */
        char *storage_lower;  /* overlay: the cached read-only tree under the template cache */
        char *uuid;           /* stable identity: container_uuid for init, the first machine-id */
        bool autostart;       /* started at host boot by ctr@NAME.service (where systemd runs) */
        char **cap_add;       /* "security.capabilities": on top of the default set */
        char **cap_drop;
        bool no_new_privs;    /* "security.no_new_privs" for init and every exec */
        char *seccomp_profile; /* "security.seccomp": NULL (default), "unconfined" or a file */
        char **seccomp_allow;  /* groups ("@mount") or syscalls, over the profile */
        char **seccomp_deny;
        bool userns;          /* "security.userns": root inside is an unprivileged host id */
        struct ctr_idmap idmap;
        char **init;          /* argv of the container's init */
        char *hostname;
        struct ctr_limits limits;
        enum ctr_net_mode net_mode;
        struct ctr_net_config net; /* mode, as net_mode, and the rest of "network" */
        struct ctr_mount *mounts;
        size_t n_mounts;
        char **env;        /* "K=V" strings */
        char **devices;    /* extra allowed devices, "c 10:200 rwm" */
        char *stop_signal; /* NULL: automatic (SIGRTMIN+3 for systemd, SIGPWR otherwise) */
        int stop_timeout;  /* seconds */
        bool vm;             /* "mode": "vm": a KVM virtual machine (vm/) instead of namespaces */
        unsigned vm_vcpus;   /* "vm.vcpus" */
        uint64_t vm_memory;  /* "vm.memory", bytes */
        uint64_t vm_disk;    /* "vm.disk", bytes of the root disk; 0: sized from the tree */
        char *vm_kernel;     /* "vm.kernel": NULL = found on the host (ctr-vm(7)) */
        char *vm_initrd;     /* "vm.initrd": NULL = generated at each start */
};

/* Fill defaults for a new container called name. */
void ctr_config_init(struct ctr_config *c, const char *name);
void ctr_config_free(struct ctr_config *c);
int ctr_config_parse(const char *text, struct ctr_config *ret, struct ctr_error *err);
int ctr_config_validate(const struct ctr_config *c, struct ctr_error *err);
/* --seccomp-allow/--seccomp-deny: comma-separated groups or syscalls, each checked. */
int ctr_config_add_seccomp(struct ctr_config *c, bool allow, const char *list, struct ctr_error *err);
/* The seccomp spec of this config, for a container whose capability set is caps. */
struct ctr_seccomp_spec ctr_config_seccomp(const struct ctr_config *c, ctr_capmask caps);
/* Returns malloc'd JSON text. */
char *ctr_config_to_json(const struct ctr_config *c);
int ctr_config_load(const char *path, struct ctr_config *ret, struct ctr_error *err);
int ctr_config_save(const char *path, const struct ctr_config *c, struct ctr_error *err);
/* sync false: no fsync, for a container that lives as long as one ctr run. */
int ctr_config_save_sync(const char *path, const struct ctr_config *c, bool sync, struct ctr_error *err);

struct ctr_cg_limits;
/* The limits as the cgroups module takes them. */
struct ctr_cg_limits ctr_config_cg_limits(const struct ctr_config *c);

/* `ctr config NAME get|set KEY`: the scalar keys a user may read and change by dotted name. */
const char *const *ctr_config_keys(void);
/* The value as text ("512M", "1.5", "null"); caller frees. -ENOENT for an unknown key. */
int ctr_config_get(const struct ctr_config *c, const char *key, char **ret, struct ctr_error *err);
/* Parse value into key ("null" or "none" clears an optional key); the config is then validated
 * by the caller. -ENOENT for an unknown key, -EINVAL for a bad value. */
int ctr_config_set(struct ctr_config *c, const char *key, const char *value, struct ctr_error *err);

const char *ctr_net_mode_name(enum ctr_net_mode m);
int ctr_net_mode_from_name(const char *s, enum ctr_net_mode *ret);
/* "bridge", "none", "host" or "netns:PATH" into c's net_mode and net.netns. */
int ctr_config_set_net_mode(struct ctr_config *c, const char *s, struct ctr_error *err);
/* The mode as written in the config ("netns:/run/netns/x"); caller frees. */
char *ctr_config_net_mode_text(const struct ctr_config *c);
/* Add or replace (same device) a block I/O limit from an "--io" spec. */
int ctr_config_add_io(struct ctr_config *c, const char *spec, struct ctr_error *err);
/* Add a forward from a "-p" spec, refusing one that overlaps a forward already there. */
int ctr_config_add_port(struct ctr_config *c, const char *spec, struct ctr_error *err);
/* Add or replace "K=V" in the environment list. */
int ctr_config_env_set(char ***env, const char *kv, struct ctr_error *err);
/* "HOST:CT[:ro]" -> mount. */
int ctr_config_parse_volume(const char *spec, struct ctr_mount *ret, struct ctr_error *err);
bool ctr_hostname_valid(const char *h);
/* The host name a container gets by default: its name, with '_' turned into '-'. */
char *ctr_config_default_hostname(const char *name);
