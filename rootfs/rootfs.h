/* rootfs/: the mount plan inside the container's new mount namespace, built as data first
 * (printable, unit-testable), then executed by the child; pivot_root; the template runner. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../base/hash.h"

enum ctr_mnt_kind {
        CTR_MNT_MOUNT,    /* mount(source, target, fstype, flags, data) */
        CTR_MNT_BIND,     /* bind source (host path) onto target; flags may add MS_RDONLY */
        CTR_MNT_MKNOD,    /* character device target (mode, dev); falls back to a bind of source */
        CTR_MNT_SYMLINK,  /* symlink target -> source */
        CTR_MNT_MASK,     /* hide target: /dev/null over a file, an empty read-only tmpfs over a dir */
        CTR_MNT_READONLY, /* bind target onto itself read-only */
        CTR_MNT_RW,       /* bind target onto itself read-write (an exception inside a read-only tree) */
        CTR_MNT_WRITE,    /* write data into the existing file target (sysctls under /proc/sys) */
};

struct ctr_mnt_op {
        enum ctr_mnt_kind kind;
        char *source;
        char *target; /* path inside the container, absolute */
        char *fstype;
        char *data;
        unsigned long flags;
        mode_t mode;
        dev_t dev;
        bool optional; /* a missing target is not an error */
        unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) after mounting */
        bool chown;                /* mknod: give the node to uid:gid */
        uid_t uid;
        gid_t gid;
        bool has_fd;   /* bind: attach the detached mount fd (open_tree) instead of binding source */
        int fd;
        bool volume; /* bind: the user's (-v, config mounts); in a user namespace, idmapped when rw */
};

struct ctr_mount_plan {
        char *rootfs;
        char *overlay; /* overlayfs options mounted on rootfs first, or NULL to bind rootfs */
        struct ctr_mnt_op *ops;
        size_t n, cap;
        unsigned long root_propagation; /* of "/" before anything is mounted; 0 = MS_REC|MS_PRIVATE */
        bool shared_ns; /* no private mount namespace: leave the propagation of "/" alone */
        /* User namespaces: the root is a detached mount made by the parent (idmapped), attached
         * on root_target_fd (the rootfs directory, opened for the child in its mount namespace). */
        bool attach_root;
        int root_mount_fd, root_target_fd;
};

struct ctr_bind {
        const char *source;
        const char *target;
        bool readonly;
        bool volume; /* the user's, not one ctr adds (the notify socket's directory) */
};

struct ctr_rootfs_spec {
        const char *rootfs;       /* host path of the root directory */
        bool new_netns;           /* sysfs and /proc/sys/net reflect a private network */
        bool readonly_root;
        const char *console_path; /* host pty slave to bind on /dev/console, or NULL */
        const struct ctr_bind *binds;
        size_t n_binds;
        /* Overlay storage: rootfs is an empty mount point; the overlay is mounted there inside
         * the container's mount namespace, so the host's mount table never sees it. */
        const char *overlay_lower, *overlay_upper, *overlay_work;
        /* The upper layer is thrown away after use: mounted "volatile", so neither its writes
         * nor its unmount sync the host's filesystem (someone else's dirty pages included). */
        bool volatile_upper;
};

int ctr_rootfs_plan_build(const struct ctr_rootfs_spec *spec, struct ctr_mount_plan *ret, struct ctr_error *err);
void ctr_rootfs_plan_free(struct ctr_mount_plan *p);
/* Append an op (strings copied) for plans built elsewhere (the OCI runtime's from config.json).
 * CTR_MNT_BIND honours MS_REC, MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime flags in
 * flags; CTR_MNT_MKNOD takes the file type in mode's S_IFMT bits (S_IFCHR when none). */
struct ctr_mnt_op *ctr_rootfs_plan_add(struct ctr_mount_plan *p, enum ctr_mnt_kind kind, const char *source,
                                       const char *target);
void ctr_rootfs_plan_print(const struct ctr_mount_plan *p, FILE *f);
/* Executed by the child in its own mount namespace, before pivot_root. */
int ctr_rootfs_plan_execute(const struct ctr_mount_plan *p, struct ctr_error *err);
/* openat2(RESOLVE_IN_ROOT) relative to rootfd: symlinks resolve as they would inside. */
int ctr_rootfs_open_in_root(int rootfd, const char *path, int flags);
/* Final name of path after following its symlinks inside rootfs ("systemd" for /sbin/init on a
 * systemd distribution); the path's own last component when it does not resolve. Caller frees. */
char *ctr_rootfs_resolve_name(const char *rootfs, const char *path);

/* Idmapped mounts (user namespaces). Each returns a detached mount (open_tree/fsmount) in
 * *ret_fd for the child to attach with move_mount. userns_fd < 0 means no idmap: a plain clone. */
int ctr_rootfs_idmapped_tree(const char *path, int userns_fd, bool recursive, int *ret_fd, struct ctr_error *err);
/* Idmap the detached mount fd (from ctr_rootfs_idmapped_tree with no idmap) with userns_fd's
 * mapping; -EINVAL or -EOPNOTSUPP when its filesystem (or one below it) refuses. */
int ctr_rootfs_idmap_detached(int fd, const char *path, int userns_fd, bool recursive, struct ctr_error *err);
/* overlayfs over an idmapped lower (layers joined with ':', each idmapped) and an idmapped dir
 * holding upper/ and work/. uid and gid are the host ids of root inside: overlay's own work files
 * are made as them, through the layers. */
int ctr_rootfs_idmapped_overlay(const char *lower, const char *dir, int userns_fd, uid_t uid, gid_t gid,
                                bool volatile_upper, int *ret_fd,
                                struct ctr_error *err);
/* 1 when path's filesystem takes an idmapped mount, 0 when it refuses (EINVAL, EOPNOTSUPP). */
int ctr_rootfs_idmap_supported(const char *path, int userns_fd, struct ctr_error *err);
/* The fallback without idmapped mounts: add uid/gid to every owner below count in the tree at
 * dir (not crossing mounts), keeping setuid/setgid bits and file capabilities (rewritten for
 * root uid). Ids already count or above are left alone, so hard links and reruns shift once. */
int ctr_rootfs_shift_tree(const char *dir, uint32_t uid, uint32_t gid, uint32_t count, struct ctr_error *err);

/* pivot_root into the plan's rootfs and detach the old root. */
int ctr_rootfs_pivot(const char *rootfs, struct ctr_error *err);

/* Templates (ctr-templates(7)). */
enum ctr_template_event_kind {
        CTR_TPL_STEP, /* "step N/M: text" on the template's stdout */
        CTR_TPL_LOG,  /* any other stdout line */
        CTR_TPL_ERR,  /* a stderr line */
};
struct ctr_template_event {
        enum ctr_template_event_kind kind;
        int step, total; /* CTR_TPL_STEP only */
        const char *text;
};
typedef void (*ctr_template_progress_fn)(void *userdata, const struct ctr_template_event *ev);

struct ctr_template_args {
        const char *template; /* name */
        const char *rootfs;
        const char *name;
        const char *dist;    /* may be NULL: the template's own distribution */
        const char *release; /* may be NULL: the template's default */
        const char *arch;
        const char *mirror; /* may be NULL */
        const char *cache;
        ctr_template_progress_fn progress; /* may be NULL */
        void *userdata;
};

/* What a template says about itself in "# key: value" lines near its top. */
struct ctr_template_meta {
        char description[256];
        char distribution[64];    /* "debian"; empty when the template fills from elsewhere */
        char default_release[64]; /* empty: the template takes none */
        bool cache;               /* "cache: yes": its tree is cached and shared (overlay lower) */
};
int ctr_template_meta(const char *exe, struct ctr_template_meta *ret);
/* Parse one stdout line of a template into an event (text points into line). */
void ctr_template_parse_line(const char *line, struct ctr_template_event *ret);
/* Find the template's executable; NULL with err set when there is none. */
char *ctr_template_find(const char *name, struct ctr_error *err);
/* Directories searched, in order (NULL terminated, static). */
const char *const *ctr_template_dirs(void);
/* Run the template in a private mount namespace (whatever it mounts dies with it). Lines are
 * passed to a->progress; the last stderr line is carried in err on failure. SIGINT, SIGTERM and
 * SIGHUP stop the template's whole process group and fail with EINTR. */
int ctr_template_run(const struct ctr_template_args *a, struct ctr_error *err);

/* Mirror for a distribution from apt sources under etc (normally "/etc"): the first "deb" entry
 * whose URI's last path component is the distribution's name (".../debian"), from sources.list,
 * sources.list.d/ *.list and deb822 *.sources. -ENOENT when there is none. Caller frees. */
int ctr_template_apt_mirror(const char *etc, const char *dist, char **ret);

/* The template cache (CACHE/templates/KEY/current -> BUILD/rootfs). */
/* "debian-bookworm-amd64", "download-alpine-3.19-amd64". Caller frees. */
char *ctr_cache_key(const char *tpl, const char *dist, const char *release, const char *arch);
/* The current build's rootfs of key; -ENOENT when none. */
int ctr_cache_lookup(const char *cache, const char *key, char **ret_rootfs);
/* Run the template into a new build of key and make it current (under a per-key lock; without
 * refresh, a build another process finished meanwhile is taken instead). */
int ctr_cache_build(const struct ctr_template_args *a, const char *cache, const char *key, bool refresh,
                    char **ret_rootfs, struct ctr_error *err);
/* Copy a cached tree into an empty directory (cp -a). */
int ctr_cache_copy(const char *from, const char *to, struct ctr_error *err);
/* overlayfs is available to mount. */
bool ctr_overlay_supported(void);

/* Post-create configuration done by ctr for every template: host name, /etc/hosts, an empty
 * machine-id for first boot, a locked root password, and a console autologin for systemd. */
struct ctr_guest_setup {
        const char *dir;   /* the tree written to: the rootfs, or the overlay's upper */
        const char *lower; /* overlay: the read-only tree under dir, read when dir lacks a file */
        const char *hostname;
};
int ctr_rootfs_configure(const struct ctr_guest_setup *g, struct ctr_error *err);

/* Archives (rootfs/archive.c): a walk over a tar file's headers that refuses absolute and '..'
 * names, members written through a symlink of the archive, hard links out of the tree, block
 * devices and all but the standard character devices, sparse and huge members, bad header
 * checksums and truncation. *ret_names (may be NULL) gets the members' cleaned names. */
int ctr_archive_check(const char *file, char ***ret_names, struct ctr_error *err);
int ctr_sha256_file(const char *path, char hex[65], struct ctr_error *err);
