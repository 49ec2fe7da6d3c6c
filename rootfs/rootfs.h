/* rootfs/: the mount plan inside the container's new mount namespace, built as data first
 * (printable, unit-testable), then executed by the child; pivot_root; the template runner. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "../runtime/error.h"

enum ctr_mnt_kind {
        CTR_MNT_MOUNT,    /* mount(source, target, fstype, flags, data) */
        CTR_MNT_BIND,     /* bind source (host path) onto target; flags may add MS_RDONLY */
        CTR_MNT_MKNOD,    /* character device target (mode, dev); falls back to a bind of source */
        CTR_MNT_SYMLINK,  /* symlink target -> source */
        CTR_MNT_MASK,     /* hide target: /dev/null over a file, an empty read-only tmpfs over a dir */
        CTR_MNT_READONLY, /* bind target onto itself read-only */
        CTR_MNT_RW,       /* bind target onto itself read-write (an exception inside a read-only tree) */
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
};

struct ctr_mount_plan {
        char *rootfs;
        struct ctr_mnt_op *ops;
        size_t n, cap;
};

struct ctr_bind {
        const char *source;
        const char *target;
        bool readonly;
};

struct ctr_rootfs_spec {
        const char *rootfs;       /* host path of the root directory */
        bool new_netns;           /* sysfs and /proc/sys/net reflect a private network */
        bool readonly_root;
        const char *console_path; /* host pty slave to bind on /dev/console, or NULL */
        const struct ctr_bind *binds;
        size_t n_binds;
};

int ctr_rootfs_plan_build(const struct ctr_rootfs_spec *spec, struct ctr_mount_plan *ret, struct ctr_error *err);
void ctr_rootfs_plan_free(struct ctr_mount_plan *p);
void ctr_rootfs_plan_print(const struct ctr_mount_plan *p, FILE *f);
/* Executed by the child in its own mount namespace, before pivot_root. */
int ctr_rootfs_plan_execute(const struct ctr_mount_plan *p, struct ctr_error *err);
/* openat2(RESOLVE_IN_ROOT) relative to rootfd: symlinks resolve as they would inside. */
int ctr_rootfs_open_in_root(int rootfd, const char *path, int flags);
/* Final name of path after following its symlinks inside rootfs ("systemd" for /sbin/init on a
 * systemd distribution); the path's own last component when it does not resolve. Caller frees. */
char *ctr_rootfs_resolve_name(const char *rootfs, const char *path);

/* pivot_root into the plan's rootfs and detach the old root. */
int ctr_rootfs_pivot(const char *rootfs, struct ctr_error *err);

/* Templates. */
struct ctr_template_args {
        const char *template; /* name */
        const char *rootfs;
        const char *name;
        const char *release; /* may be NULL */
        const char *arch;
        const char *cache;
        bool quiet;
};
/* Find the template's executable; NULL with err set when there is none. */
char *ctr_template_find(const char *name, struct ctr_error *err);
/* Directories searched, in order (NULL terminated, static). */
const char *const *ctr_template_dirs(void);
/* Run the template; progress lines go to stderr unless quiet; the last lines of its stderr are
 * carried in err on failure. */
int ctr_template_run(const struct ctr_template_args *a, struct ctr_error *err);
