/* Filesystem snapshots and clones of containers: CONTAINER/snapshots/SNAP/ holds the tree (the
 * overlay's upper layer, which is all that differs from the shared lower, or the whole dir
 * tree), the config at that moment, and snapshot.json. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"
#include "state.h"

struct ctr_snapshot_info {
        char name[128];
        char created[32];  /* RFC 3339, UTC */
        char kind[32];     /* "overlay-upper" (cheap: the lower is shared), "full-copy" or "vm-live" */
        uint64_t bytes;    /* what the snapshot holds on disk */
};

/* SNAP NULL: a name from the time ("snap-20261124-030512"). A running container needs freeze
 * (frozen for the copy, thawed after). *ret gets what was made. */
int ctr_snapshot_create(const struct ctr_paths *p, const char *name, const char *snap, bool freeze,
                        struct ctr_snapshot_info *ret, struct ctr_error *err);
/* A live snapshot of a running --vm container (kind "vm-live": vmstate, memory, disk.img and the
 * config), taken by its VMM with the vCPUs paused (for *ret_paused_ms). */
int ctr_snapshot_create_live(const struct ctr_paths *p, const char *name, const char *snap,
                             struct ctr_snapshot_info *ret, unsigned *ret_paused_ms, struct ctr_error *err);
/* Start the stopped VM container from its live snapshot SNAP: the snapshot's disk and settings
 * put in place (the state before backed up unless no_backup, as for a restore), the VM resumed
 * where it was. Any failure leaves the container as it was. */
int ctr_snapshot_restore_live(const struct ctr_paths *p, const char *name, const char *snap, bool no_backup,
                              char ret_backup[128], struct ctr_error *err);
int ctr_snapshot_list(const struct ctr_paths *p, const char *name, struct ctr_snapshot_info **ret, size_t *ret_n,
                      struct ctr_error *err);
int ctr_snapshot_delete(const struct ctr_paths *p, const char *name, const char *snap, struct ctr_error *err);
/* Refused on a running container. Unless no_backup, the current state is snapshotted first as
 * pre-restore-TIME (its name in *ret_backup, else ""). */
int ctr_snapshot_restore(const struct ctr_paths *p, const char *name, const char *snap, bool no_backup,
                         char ret_backup[128], struct ctr_error *err);
/* A new container DST from SRC (stopped) or from SRC's snapshot SNAP: copy-on-write where the
 * storage allows (overlay: a copy of the upper on the same lower), a new identity (name,
 * hostname, uuid, machine-id emptied for first boot, its own address at first start, a new
 * id range for a user namespace). */
int ctr_container_clone(const struct ctr_paths *p, const char *src, const char *dst, const char *snap,
                        struct ctr_error *err);
/* "snap-..." names: 1-100 of [A-Za-z0-9_.-], not starting with '.'. */
bool ctr_snapshot_name_valid(const char *snap);
