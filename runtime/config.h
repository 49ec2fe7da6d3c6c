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

/* Fill defaults (the key table's) for a new container called name. name NULL: a config that
 * command-line flags fill before the name is known; ctr_config_set_name names it later. */
void ctr_config_init(struct ctr_config *c, const char *name);
/* Name the container; a hostname not chosen yet becomes the one derived from the name. */
void ctr_config_set_name(struct ctr_config *c, const char *name);
void ctr_config_free(struct ctr_config *c);
int ctr_config_parse(const char *text, struct ctr_config *ret, struct ctr_error *err);
/* The whole config: every key's own check (the table's), then the rules between keys. */
int ctr_config_validate(const struct ctr_config *c, struct ctr_error *err);
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

/* --- the key table (config_keys.c) ----------------------------------------------------------
 * One row per key of config.json: its dotted name, type, range, default, whether it may be
 * null, set by `ctr config set`, applied live, and the CLI flag that sets it. One walker each
 * parses, serialises, gets, sets, validates and takes flags, so whatever one entry point
 * accepts, the loader reads back. */
enum ctr_key_type {
        CTR_KEY_STRING, /* char *, NULL = unset */
        CTR_KEY_BOOL,   /* bool */
        CTR_KEY_INT,    /* a 4- or 8-byte integer in min..max; 0 = unset when nullable */
        CTR_KEY_SIZE,   /* uint64_t bytes in smin..smax, written "512M"; 0 = unset when nullable */
        CTR_KEY_DOUBLE, /* double in dmin..dmax; 0 = unset when nullable */
        CTR_KEY_ENUM,   /* bool or int: the index of one of names */
        CTR_KEY_STRV,   /* char **, NULL-terminated; a flag adds items */
        CTR_KEY_CUSTOM, /* structured values (mounts, ports, ...): handlers of their own */
};

#define CTR_KEY_NULLABLE (1u << 0)   /* JSON null / "null" unsets it */
#define CTR_KEY_SET (1u << 1)        /* `ctr config NAME set` changes it */
#define CTR_KEY_LIVE (1u << 2)       /* a set on a running container is applied to it at once */
#define CTR_KEY_OMIT (1u << 3)       /* left out of config.json while unset */
#define CTR_KEY_FIXED (1u << 4)      /* chosen at create: a set may only repeat the value */
#define CTR_KEY_NONE_VALUE (1u << 5) /* "none" is a value of its own, not a spelling of null */
#define CTR_KEY_REALPATH (1u << 6)   /* the flag names an existing file, stored as its real path */
#define CTR_KEY_COMMA (1u << 7)      /* the flag takes comma-separated items */

struct ctr_key_custom;
struct ctr_config_key {
        const char *name; /* dotted path in config.json: "limits.pids" */
        enum ctr_key_type type;
        unsigned flags;
        size_t off, size;       /* the field in struct ctr_config */
        int64_t min, max;       /* CTR_KEY_INT */
        uint64_t smin, smax;    /* CTR_KEY_SIZE */
        double dmin, dmax;      /* CTR_KEY_DOUBLE */
        const char *const *names; /* CTR_KEY_ENUM, NULL-terminated */
        const char *unset;      /* CTR_KEY_STRING: the word an unset value is written as ("auto") */
        const char *def;        /* the default, as `get` prints it; NULL: unset (or false, or derived) */
        const char *flag;       /* long CLI flag of create and run, without "--" */
        char short_flag;        /* and its short form, or 0 */
        const char *flag_value; /* a flag without argument sets this value */
        const char *want;       /* what a value must be, for messages ("a valid host name") */
        bool (*check)(const char *s);                 /* CTR_KEY_STRING, CTR_KEY_STRV items */
        int (*item)(const char *s, struct ctr_error *err); /* CTR_KEY_STRV: an item's own check */
        const struct ctr_key_custom *custom;
        const char *sample, *bad; /* a value set accepts and one it refuses (tests, docs) */
};

/* The rows, in config.json's order. */
const struct ctr_config_key *ctr_config_key_table(size_t *ret_n);
const struct ctr_config_key *ctr_config_key_find(const char *name);
/* The row a CLI flag sets: by long name (without "--") or, with name NULL, by short letter. */
const struct ctr_config_key *ctr_config_key_for_flag(const char *name, int short_flag);
/* The flag's argument (NULL for a flag without one) into its key, checked as the key is. */
int ctr_config_flag(struct ctr_config *c, const struct ctr_config_key *k, const char *arg, struct ctr_error *err);
/* The value as text ("512M", "1.5", "null"; structured keys as JSON); caller frees. -ENOENT for
 * an unknown key. */
int ctr_config_get(const struct ctr_config *c, const char *key, char **ret, struct ctr_error *err);
/* Parse value into key ("null" or "none" clears a nullable key), checked as the loader checks
 * it; on error c is unchanged. -ENOENT for an unknown key, -EPERM for a key set only at create,
 * -EINVAL/-ERANGE for a bad value. The rules between keys are ctr_config_validate's. */
int ctr_config_set(struct ctr_config *c, const char *key, const char *value, struct ctr_error *err);
/* Each key's own check over c (part of ctr_config_validate). */
int ctr_config_validate_keys(const struct ctr_config *c, struct ctr_error *err);

const char *ctr_net_mode_name(enum ctr_net_mode m);
int ctr_net_mode_from_name(const char *s, enum ctr_net_mode *ret);
/* "bridge", "none", "host" or "netns:PATH" into c's net_mode and net.netns. */
int ctr_config_set_net_mode(struct ctr_config *c, const char *s, struct ctr_error *err);
/* The mode as written in the config ("netns:/run/netns/x"); caller frees. */
char *ctr_config_net_mode_text(const struct ctr_config *c);
/* Add io to l, replacing a limit of the same device. */
void ctr_config_put_io(struct ctr_limits *l, const struct ctr_cg_io *io);
/* Add or replace (same device) a block I/O limit from an "--io" spec. */
int ctr_config_add_io(struct ctr_config *c, const char *spec, struct ctr_error *err);
/* Add a forward from a "-p" spec, refusing one that overlaps a forward already there. */
int ctr_config_add_port(struct ctr_config *c, const char *spec, struct ctr_error *err);
/* Add or replace "K=V" in the environment list. */
int ctr_config_env_set(char ***env, const char *kv, struct ctr_error *err);
/* "HOST:CT[:ro]" -> mount. */
int ctr_config_parse_volume(const char *spec, struct ctr_mount *ret, struct ctr_error *err);
bool ctr_hostname_valid(const char *h);
/* Absolute, without ".." components (mount sources and targets). */
bool ctr_config_path_ok(const char *p);
/* The host name a container gets by default: its name, with '_' turned into '-'. */
char *ctr_config_default_hostname(const char *name);
