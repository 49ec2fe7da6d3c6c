/* User-namespaced containers (security.userns): the id range taken at create, the maps written
 * at start, and what the parent prepares for the child, which cannot reach the host's paths
 * itself: detached mounts of the rootfs (idmapped) and of every bind source. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "../rootfs/rootfs.h"
#include "config.h"
#include "../base/error.h"
#include "state.h"

/* Take cfg->idmap for a new container whose directory (being created) is dir and whose final
 * name is cfg->name: CTR_IDMAP_COUNT uids and gids from ctr's owner's subordinate ranges,
 * overlapping no other container of any state root. The ranges taken are in one record for the
 * host (ctr_userns_record_path), read and written under RECORD.lock with dir/config.json, so
 * concurrent creates, in one root or in two, see each other's ranges. A root the record has not
 * seen (or a missing or damaged record) is indexed once from its configs. */
int ctr_userns_allocate(const struct ctr_paths *p, struct ctr_config *cfg, const char *dir, struct ctr_error *err);
/* Give the range of container name back (m NULL: whatever the record holds for it). */
void ctr_userns_release(const struct ctr_paths *p, const char *name, const struct ctr_idmap *m);
/* The host's range record: CTR_IDMAP_RECORD (absolute; a test knob), else /var/lib/ctr/
 * idmap-ranges for root and ROOT/idmap-ranges otherwise. */
#define CTR_IDMAP_RECORD "/var/lib/ctr/idmap-ranges"
const char *ctr_userns_record_path(const struct ctr_paths *p, char *buf, size_t len);
/* Its text: "ctr-idmap-ranges 1", then "root DIR" lines (the roots indexed) and
 * "range UID GID COUNT TIME DIR" lines; anything else makes it a damaged record. */

/* Whether create must chown the tree instead of using idmapped mounts: CTR_IDMAP=chown (a test
 * and debugging knob), or the filesystem at path refuses idmapped mounts. */
int ctr_userns_need_chown(const struct ctr_paths *p, const struct ctr_idmap *m, const char *path, bool *ret,
                          struct ctr_error *err);
/* 1 when path's filesystem takes idmapped mounts, 0 when it refuses: probed once per boot,
 * filesystem and mount, the answer kept under p's run directory (p NULL: probe every time). */
int ctr_userns_idmap_supported(const struct ctr_paths *p, const struct ctr_idmap *m, const char *path,
                               struct ctr_error *err);

/* The uid_map (or gid_map) text of a read-write volume's idmap in a container whose ids are
 * base..base+count-1 on the host: the source's owner on disk is root inside (host base); every
 * other id of the container stays itself (on disk base+N is uid N inside, as without an idmap).
 * -EINVAL for an empty or overflowing range, -ENAMETOOLONG when len is short. */
int ctr_userns_volume_map(uint32_t owner, uint32_t base, uint32_t count, char *buf, size_t len);

/* A user namespace with m's mapping, for idmapped mounts (held by a child that exits at once). */
int ctr_userns_open(const struct ctr_idmap *m, int *ret_fd, struct ctr_error *err);
/* "0 BASE COUNT" into /proc/PID/uid_map and gid_map. setgroups stays allowed: root inside a
 * system container needs setgroups(2) (login, su, systemd's services). */
int ctr_userns_write_maps(pid_t pid, const struct ctr_idmap *m, struct ctr_error *err);

/* Parent side of a start, before clone: the range checked against subuid/subgid, the console
 * and cgroup handed to root inside, and the mount plan with detached mounts. */
struct ctr_userns_start {
        struct ctr_mount_plan plan;
        bool planned;
};
/* ret->plan is the mount plan init will run (ctr_spawn_mount_plan), planned set: it gets the
 * rootfs as a detached idmapped mount and its binds as detached clones. */
int ctr_userns_prepare(const struct ctr_config *cfg, const char *rootfs, int console_fd, const char *cgroup_path,
                       bool volatile_upper, struct ctr_userns_start *ret, struct ctr_error *err);
void ctr_userns_start_free(struct ctr_userns_start *u);
/* After clone: the maps, and the rootfs directory opened in the child's mount namespace (the
 * child, no longer host root, cannot walk the 0700 directories above it). */
int ctr_userns_after_clone(const struct ctr_idmap *m, const char *rootfs, pid_t pid, int *ret_target_fd,
                           struct ctr_error *err);
