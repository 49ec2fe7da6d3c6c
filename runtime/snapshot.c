/* Snapshots (CONTAINER/snapshots/SNAP/{tree,config.json,snapshot.json}), restore with an
 * automatic backup, and clones with a new identity. Trees are copied with cp -a --reflink=auto
 * (rootfs/cache.c): an overlay container's snapshot is its upper layer only. */
#define _GNU_SOURCE
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../rootfs/rootfs.h"
#include "../vm/image.h"
#include "../vm/vm.h"
#include "config.h"
#include "control.h"
#include "container.h"
#include "../base/json.h"
#include "userns.h"
#include "../base/util.h"

bool ctr_snapshot_name_valid(const char *s)
{
        size_t n = strlen(s);
        if (!n || n > 100 || s[0] == '.')
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_.-", *c)))
                        return false;
        return true;
}

static bool is_overlay(const struct ctr_config *c)
{
        return !strcmp(c->storage_driver, "overlay");
}

/* The part of the container's storage a snapshot holds. */
static char *tree_of(const struct ctr_paths *p, const char *name, const struct ctr_config *c)
{
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        return xasprintf("%s/%s", dir, is_overlay(c) ? "upper" : "rootfs");
}

static char *snap_dir(const struct ctr_paths *p, const char *name, const char *snap)
{
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        return snap ? xasprintf("%s/snapshots/%s", dir, snap) : xasprintf("%s/snapshots", dir);
}

/* The time now as prefix-YYYYmmdd-HHMMSS, or RFC 3339 when prefix is NULL (UTC). */
static void now(char *buf, size_t len, const char *prefix)
{
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        if (prefix)
                snprintf(buf, len, "%s-%04d%02d%02d-%02d%02d%02d", prefix, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
        else
                strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t du(const char *path)
{
        /* Blocks in use, not following links: what the snapshot costs on disk. */
        uint64_t total = 0;
        DIR *d = opendir(path);
        if (!d)
                return 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                total += (uint64_t)st.st_blocks * 512;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *sub = xasprintf("%s/%s", path, de->d_name);
                        total += du(sub);
                }
        }
        closedir(d);
        return total;
}

static int write_meta(const char *dir, const struct ctr_snapshot_info *i, struct ctr_error *err)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "version");
        ctr_json_int_(g, 1);
        ctr_json_key_(g, "name");
        ctr_json_str(g, i->name);
        ctr_json_key_(g, "created");
        ctr_json_str(g, i->created);
        ctr_json_key_(g, "kind");
        ctr_json_str(g, i->kind);
        ctr_json_key_(g, "bytes");
        ctr_json_int_(g, (int64_t)i->bytes);
        ctr_json_obj_close(g);
        size_t len;
        const char *text = ctr_json_gen_text(g, &len);
        _cleanup_free_ char *path = xasprintf("%s/snapshot.json", dir);
        int r = ctr_write_atomic(path, text, len, 0644);
        return r < 0 ? ctr_err_sys(err, -r, "snapshot", "write %s", path) : 0;
}

static int read_meta(const char *dir, struct ctr_snapshot_info *i)
{
        _cleanup_free_ char *path = xasprintf("%s/snapshot.json", dir), *text = NULL;
        _cleanup_json_ ctr_json *doc = NULL;
        struct ctr_error e;
        if (ctr_read_file(path, 1 << 16, &text, NULL) < 0 || ctr_json_parse(text, &doc, &e) < 0)
                return -EINVAL;
        const ctr_json *v;
        if ((v = ctr_json_get(doc, "name")) && ctr_json_type(v) == CTR_JSON_STRING)
                snprintf(i->name, sizeof(i->name), "%s", ctr_json_string(v));
        if ((v = ctr_json_get(doc, "created")) && ctr_json_type(v) == CTR_JSON_STRING)
                snprintf(i->created, sizeof(i->created), "%s", ctr_json_string(v));
        if ((v = ctr_json_get(doc, "kind")) && ctr_json_type(v) == CTR_JSON_STRING)
                snprintf(i->kind, sizeof(i->kind), "%s", ctr_json_string(v));
        if ((v = ctr_json_get(doc, "bytes")) && ctr_json_is_integer(v))
                i->bytes = (uint64_t)ctr_json_int(v);
        return 0;
}

/* A snapshot is built in snapshots/.SNAP.tmp-PID and renamed into place: it exists whole or
 * not at all. */
static int snap_begin(const struct ctr_paths *p, const char *name, const char *snap, char **ret_tmp,
                      char **ret_final, struct ctr_error *err)
{
        _cleanup_free_ char *base = snap_dir(p, name, NULL), *final = snap_dir(p, name, snap);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp-%d", base, snap, (int)getpid());
        int r;
        if (access(final, F_OK) == 0)
                return ctr_err(err, EEXIST, "snapshot", "snapshot %s of %s already exists", snap, name);
        if ((r = ctr_mkdir_p(base, 0700)) < 0)
                return ctr_err_sys(err, -r, "snapshot", "create %s", base);
        ctr_rm_rf(tmp);
        if (mkdir(tmp, 0700) < 0)
                return ctr_err_sys(err, errno, "snapshot", "create %s", tmp);
        _cleanup_free_ char *cfgsrc = ctr_path_config(p, name), *cfgdst = xasprintf("%s/config.json", tmp);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = ctr_read_record(cfgsrc, 1 << 20, "snapshot", &text, &len, err)) < 0) {
                ctr_rm_rf(tmp);
                return r;
        }
        if ((r = ctr_write_atomic(cfgdst, text, len, 0600)) < 0) {
                ctr_rm_rf(tmp);
                return ctr_err_sys(err, -r, "snapshot", "copy %s", cfgsrc);
        }
        *ret_tmp = TAKE_PTR(tmp);
        *ret_final = TAKE_PTR(final);
        return 0;
}

/* snapshot.json (bytes: what what_dir holds) and the rename; tmp is gone on failure. */
static int snap_finish(const char *tmp, const char *final, const char *snap, const char *kind, const char *what_dir,
                       struct ctr_snapshot_info *ret, struct ctr_error *err)
{
        struct ctr_snapshot_info i = {0};
        snprintf(i.name, sizeof(i.name), "%s", snap);
        now(i.created, sizeof(i.created), NULL);
        snprintf(i.kind, sizeof(i.kind), "%s", kind);
        i.bytes = du(what_dir);
        int r = write_meta(tmp, &i, err);
        if (r == 0 && rename(tmp, final) < 0)
                r = ctr_err_sys(err, errno, "snapshot", "rename to %s", final);
        if (r < 0) {
                ctr_rm_rf(tmp);
                return r;
        }
        if (ret)
                *ret = i;
        return 0;
}

static char *disk_of(const struct ctr_paths *p, const char *name)
{
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        return xasprintf("%s/disk.img", dir);
}

/* Copy the tree and the config (and a VM's disk) into snapshots/SNAP. Called with the
 * container's lock held. */
static int take(const struct ctr_paths *p, const char *name, const struct ctr_config *cfg, const char *snap,
                struct ctr_snapshot_info *ret, struct ctr_error *err)
{
        _cleanup_free_ char *tmp = NULL, *final = NULL, *src = tree_of(p, name, cfg);
        int r = snap_begin(p, name, snap, &tmp, &final, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *tree = xasprintf("%s/tree", tmp);
        if (mkdir(tree, 0755) < 0)
                r = ctr_err_sys(err, errno, "snapshot", "create %s", tree);
        else
                r = ctr_cache_copy(src, tree, err);
        _cleanup_free_ char *disk = disk_of(p, name), *ddst = xasprintf("%s/" CTR_VMSTATE_DISK, tmp);
        if (r == 0 && cfg->vm && access(disk, F_OK) == 0 && (r = ctr_file_clone_path(disk, ddst)) < 0)
                r = ctr_err_sys(err, -r, "snapshot", "copy %s", disk);
        if (r < 0) {
                ctr_rm_rf(tmp);
                return r;
        }
        return snap_finish(tmp, final, snap, is_overlay(cfg) ? "overlay-upper" : "full-copy", cfg->vm ? tmp : tree, ret,
                           err);
}

/* The container's config, its lock, and whether it runs. */
static int open_container(const struct ctr_paths *p, const char *name, struct ctr_config *cfg, int *ret_lock,
                          enum ctr_status *ret_status, struct ctr_error *err)
{
        struct ctr_state st = {0};
        bool stale;
        int r = ctr_container_load(p, name, cfg, err);
        if (r < 0)
                return r;
        if ((r = ctr_lock_container(p, name, ret_lock, err)) < 0)
                return r;
        if ((r = ctr_state_probe(p, name, &st, &stale, err)) < 0)
                return r;
        *ret_status = st.status;
        ctr_state_free(&st);
        return 0;
}

/* SNAP as given, or one from the time. */
static int pick_name(const char **snap, char gen[64], struct ctr_error *err)
{
        if (!*snap) {
                now(gen, 64, "snap");
                *snap = gen;
        }
        if (!ctr_snapshot_name_valid(*snap))
                return ctr_err(err, EINVAL, "snapshot", "'%s' is not a valid snapshot name (1-100 of A-Z a-z 0-9 _ . -)", *snap);
        return 0;
}

int ctr_snapshot_create(const struct ctr_paths *p, const char *name, const char *snap, bool freeze,
                        struct ctr_snapshot_info *ret, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        _cleanup_close_ int lock = -1;
        enum ctr_status status;
        char gen[64];
        if (pick_name(&snap, gen, err) < 0)
                return -err->errnum;
        int r = open_container(p, name, &cfg, &lock, &status, err);
        if (r < 0)
                goto out;
        bool thaw = false;
        if (status != CTR_STOPPED) {
                if (!freeze) {
                        r = ctr_err(err, EBUSY, "snapshot", "the container is %s; stop it, or use --freeze to copy it frozen",
                                    ctr_status_name(status));
                        goto out;
                }
                if (status == CTR_RUNNING) {
                        /* freeze takes the lock itself: let go while it works. */
                        close(lock);
                        lock = -1;
                        if ((r = ctr_container_freeze(p, name, true, err)) < 0)
                                goto out;
                        thaw = true;
                        if ((r = ctr_lock_container(p, name, &lock, err)) < 0)
                                goto thaw;
                }
        }
        r = take(p, name, &cfg, snap, ret, err);
thaw:
        if (thaw) {
                close(lock);
                lock = -1;
                struct ctr_error e2 = {0};
                if (ctr_container_freeze(p, name, false, &e2) < 0 && r == 0)
                        r = ctr_err(err, e2.errnum, "snapshot", "taken, but thawing failed: %s", e2.msg);
        }
out:
        ctr_config_free(&cfg);
        return r;
}

static int cmp_info(const void *a, const void *b)
{
        const struct ctr_snapshot_info *x = a, *y = b;
        int c = strcmp(x->created, y->created);
        return c ? c : strcmp(x->name, y->name);
}

int ctr_snapshot_list(const struct ctr_paths *p, const char *name, struct ctr_snapshot_info **ret, size_t *ret_n,
                      struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        int r = ctr_container_load(p, name, &cfg, err);
        ctr_config_free(&cfg);
        if (r < 0)
                return r;
        _cleanup_free_ char *base = snap_dir(p, name, NULL);
        *ret = NULL;
        *ret_n = 0;
        DIR *d = opendir(base);
        if (!d)
                return errno == ENOENT ? 0 : ctr_err_sys(err, errno, "snapshot", "open %s", base);
        struct dirent *de;
        size_t cap = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", base, de->d_name);
                struct ctr_snapshot_info i = {0};
                if (read_meta(dir, &i) < 0)
                        continue;
                if (*ret_n == cap) {
                        cap = cap ? cap * 2 : 8;
                        *ret = xrealloc(*ret, cap * sizeof(**ret));
                }
                (*ret)[(*ret_n)++] = i;
        }
        closedir(d);
        if (*ret_n)
                qsort(*ret, *ret_n, sizeof(**ret), cmp_info);
        return 0;
}

int ctr_snapshot_delete(const struct ctr_paths *p, const char *name, const char *snap, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        _cleanup_close_ int lock = -1;
        enum ctr_status status;
        if (!ctr_snapshot_name_valid(snap))
                return ctr_err(err, EINVAL, "snapshot", "'%s' is not a valid snapshot name", snap);
        int r = open_container(p, name, &cfg, &lock, &status, err);
        ctr_config_free(&cfg);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = snap_dir(p, name, snap), *gone = xasprintf("%s.delete-%d", dir, (int)getpid());
        if (access(dir, F_OK) < 0)
                return ctr_err(err, ENOENT, "snapshot", "%s has no snapshot %s", name, snap);
        /* Renamed first: an interrupted delete leaves no half snapshot under the real name. */
        if (rename(dir, gone) < 0)
                return ctr_err_sys(err, errno, "snapshot", "remove %s", dir);
        r = ctr_rm_rf(gone);
        return r < 0 ? ctr_err_sys(err, -r, "snapshot", "remove %s", gone) : 0;
}

/* Replace dst with a copy of src, through a temporary name; the old tree goes last. */
static int swap_tree(const char *src, const char *dst, struct ctr_error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.restore-%d", dst, (int)getpid());
        _cleanup_free_ char *old = xasprintf("%s.old-%d", dst, (int)getpid());
        ctr_rm_rf(tmp);
        if (mkdir(tmp, 0755) < 0)
                return ctr_err_sys(err, errno, "restore", "create %s", tmp);
        int r = ctr_cache_copy(src, tmp, err);
        if (r < 0) {
                ctr_rm_rf(tmp);
                return r;
        }
        /* The root directory's own owner and mode come from the snapshot too. */
        struct stat st;
        if (stat(src, &st) == 0) {
                chmod(tmp, st.st_mode & 07777);
                if (lchown(tmp, st.st_uid, st.st_gid) < 0 && errno != EPERM) {
                        r = ctr_err_sys(err, errno, "restore", "chown %s", tmp);
                        ctr_rm_rf(tmp);
                        return r;
                }
        }
        if (rename(dst, old) < 0 || rename(tmp, dst) < 0) {
                r = ctr_err_sys(err, errno, "restore", "put %s in place", dst);
                if (access(dst, F_OK) < 0)
                        rename(old, dst);
                ctr_rm_rf(tmp);
                return r;
        }
        ctr_rm_rf(old);
        return 0;
}

/* A live snapshot: VM state and disk, no tree. */
static bool live_only(const char *dir)
{
        _cleanup_free_ char *tree = xasprintf("%s/tree", dir), *state = xasprintf("%s/" CTR_VMSTATE_FILE, dir);
        return access(tree, F_OK) < 0 && access(state, F_OK) == 0;
}

/* pre-restore-TIME: the container's state before a restore, as a snapshot. */
static int backup(const struct ctr_paths *p, const char *name, const struct ctr_config *cfg, char ret_backup[128],
                  struct ctr_error *err)
{
        char b[80];
        now(b, sizeof(b), "pre-restore");
        for (int i = 2; i < 100; i++) {
                _cleanup_free_ char *bdir = snap_dir(p, name, b);
                if (access(bdir, F_OK) < 0)
                        break;
                char nb[80];
                snprintf(nb, sizeof(nb), "%.60s-%d", b, i);
                snprintf(b, sizeof(b), "%s", nb);
        }
        int r = take(p, name, cfg, b, NULL, err);
        if (r < 0) {
                ctr_err_prefix(err, "restore: the backup of the current state failed, nothing changed");
                return r;
        }
        snprintf(ret_backup, 128, "%s", b);
        return 0;
}

/* A snapshot's settings, with the name and the identity the container has now. */
static void identity_now(struct ctr_config *scfg, const struct ctr_config *cfg)
{
        free(scfg->name);
        scfg->name = xstrdup(cfg->name);
        free(scfg->uuid);
        scfg->uuid = cfg->uuid ? xstrdup(cfg->uuid) : NULL;
        scfg->idmap = cfg->idmap;
}

static int restore_locked(const struct ctr_paths *p, const char *name, const char *snap, bool no_backup,
                          char ret_backup[128], struct ctr_config *cfg, struct ctr_config *scfg, struct ctr_error *err)
{
        _cleanup_free_ char *dir = snap_dir(p, name, snap), *stree = xasprintf("%s/tree", dir);
        _cleanup_free_ char *scfgpath = xasprintf("%s/config.json", dir), *tree = tree_of(p, name, cfg);
        _cleanup_free_ char *cfgpath = ctr_path_config(p, name);
        if (access(dir, F_OK) < 0)
                return ctr_err(err, ENOENT, "restore", "%s has no snapshot %s", name, snap);
        if (live_only(dir))
                return ctr_err(err, EINVAL, "restore", "snapshot %s is a live VM snapshot: restore it with --live", snap);
        int r = ctr_config_load(scfgpath, scfg, err);
        if (r < 0)
                return r;
        if (strcmp(scfg->storage_driver, cfg->storage_driver) ||
            (is_overlay(cfg) && (!scfg->storage_lower || strcmp(scfg->storage_lower, cfg->storage_lower))))
                return ctr_err(err, EINVAL, "restore", "snapshot %s was taken on other storage (%s) than the container has now",
                               snap, scfg->storage_driver);
        if (!no_backup && (r = backup(p, name, cfg, ret_backup, err)) < 0)
                return r;
        _cleanup_free_ char *sdisk = xasprintf("%s/" CTR_VMSTATE_DISK, dir), *disk = disk_of(p, name);
        if ((r = swap_tree(stree, tree, err)) < 0)
                return r;
        if (cfg->vm && access(sdisk, F_OK) == 0 && (r = ctr_file_clone_path(sdisk, disk)) < 0)
                return ctr_err_sys(err, -r, "restore", "put the snapshot's disk in place as %s", disk);
        if (is_overlay(cfg)) {
                /* overlayfs wants its work directory empty of the old upper's leftovers. */
                _cleanup_free_ char *cdir = ctr_path_container(p, name), *work = xasprintf("%s/work", cdir);
                ctr_rm_rf(work);
                mkdir(work, 0700);
        }
        /* The settings go back too, with the name and the identity of now. */
        identity_now(scfg, cfg);
        return ctr_config_save(cfgpath, scfg, err);
}

int ctr_snapshot_restore(const struct ctr_paths *p, const char *name, const char *snap, bool no_backup,
                         char ret_backup[128], struct ctr_error *err)
{
        struct ctr_config cfg = {0}, scfg = {0};
        _cleanup_close_ int lock = -1;
        enum ctr_status status;
        ret_backup[0] = 0;
        if (!ctr_snapshot_name_valid(snap))
                return ctr_err(err, EINVAL, "restore", "'%s' is not a valid snapshot name", snap);
        int r = open_container(p, name, &cfg, &lock, &status, err);
        if (r == 0 && status != CTR_STOPPED)
                r = ctr_err(err, EBUSY, "restore", "the container is %s; stop it first (a restore replaces its files)",
                            ctr_status_name(status));
        if (r == 0)
                r = restore_locked(p, name, snap, no_backup, ret_backup, &cfg, &scfg, err);
        ctr_config_free(&cfg);
        ctr_config_free(&scfg);
        return r;
}

/* A --vm container, locked, running for a live snapshot or stopped for its restore. */
static int open_vm(const struct ctr_paths *p, const char *name, struct ctr_config *cfg, int *ret_lock,
                   enum ctr_status want, const char *op, struct ctr_error *err)
{
        enum ctr_status status;
        int r = open_container(p, name, cfg, ret_lock, &status, err);
        if (r < 0)
                return r;
        if (!cfg->vm)
                return ctr_err(err, EINVAL, op, "--live is for VMs; %s is not a --vm container", name);
        if (status != want && want == CTR_RUNNING)
                return ctr_err(err, EBUSY, op, "the container is %s; --live snapshots a running VM (stopped: leave out --live)",
                               ctr_status_name(status));
        if (status != want)
                return ctr_err(err, EBUSY, op, "the container is %s; stop it first (a restore replaces its VM)",
                               ctr_status_name(status));
        return 0;
}

int ctr_snapshot_create_live(const struct ctr_paths *p, const char *name, const char *snap,
                             struct ctr_snapshot_info *ret, unsigned *ret_paused_ms, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        _cleanup_close_ int lock = -1, fd = -1;
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        char gen[64], reply[600] = "";
        if (pick_name(&snap, gen, err) < 0)
                return -err->errnum;
        int r = open_vm(p, name, &cfg, &lock, CTR_RUNNING, "snapshot", err);
        if (r < 0 || (r = snap_begin(p, name, snap, &tmp, &final, err)) < 0)
                goto out;
        char abs[PATH_MAX];
        if (!realpath(tmp, abs))
                r = ctr_err_sys(err, errno, "snapshot", "resolve %s", tmp);
        else if ((r = ctr_ctl_connect(p, name, &fd, err)) == 0)
                r = ctr_ctl_request_data(fd, CTR_CTL_VM_SNAPSHOT, 0, 0, abs, strlen(abs), reply, sizeof(reply),
                                         "snapshot", err);
        if (r < 0) {
                ctr_rm_rf(tmp);
                goto out;
        }
        if (ret_paused_ms)
                *ret_paused_ms = (unsigned)((strtoul(reply, NULL, 10) + 500) / 1000);
        r = snap_finish(tmp, final, snap, "vm-live", tmp, ret, err);
out:
        ctr_config_free(&cfg);
        return r;
}

/* Put the live snapshot at dir in place (disk, settings) and start the VM from it; anything
 * that fails puts the container back as it was. */
static int restore_live_locked(const struct ctr_paths *p, const char *name, const char *snap, const char *dir,
                               struct ctr_config *cfg, int *lock, struct ctr_error *err)
{
        _cleanup_free_ char *scfgpath = xasprintf("%s/config.json", dir), *cfgpath = ctr_path_config(p, name);
        _cleanup_free_ char *sdisk = xasprintf("%s/" CTR_VMSTATE_DISK, dir), *disk = disk_of(p, name);
        _cleanup_free_ char *fresh = xasprintf("%s.restore-%d", disk, (int)getpid());
        _cleanup_free_ char *old = xasprintf("%s.old-%d", disk, (int)getpid()), *oldcfg = NULL;
        struct ctr_config scfg = {0};
        size_t oldcfg_len = 0;
        int r = ctr_config_load(scfgpath, &scfg, err);
        if (r < 0)
                return r;
        if (!scfg.vm) {
                ctr_config_free(&scfg);
                return ctr_err(err, EINVAL, "restore", "snapshot %s holds the settings of a container that is not a VM", snap);
        }
        identity_now(&scfg, cfg);
        if ((r = ctr_read_record(cfgpath, 1 << 20, "restore", &oldcfg, &oldcfg_len, err)) < 0) {
                ctr_config_free(&scfg);
                return r;
        }
        if ((r = ctr_file_clone_path(sdisk, fresh)) < 0) {
                ctr_config_free(&scfg);
                return ctr_err_sys(err, -r, "restore", "copy the snapshot's disk %s", sdisk);
        }
        if (rename(disk, old) < 0 || rename(fresh, disk) < 0) {
                r = ctr_err_sys(err, errno, "restore", "put the snapshot's disk in place as %s", disk);
                rename(old, disk);
                unlink(fresh);
                ctr_config_free(&scfg);
                return r;
        }
        r = ctr_config_save(cfgpath, &scfg, err);
        ctr_config_free(&scfg);
        if (r == 0) {
                /* The start takes the lock itself. */
                close(*lock);
                *lock = -1;
                char abs[PATH_MAX];
                int code = 0;
                if (!realpath(dir, abs))
                        r = ctr_err_sys(err, errno, "restore", "resolve %s", dir);
                else {
                        setenv("CTR_VM_RESTORE", abs, 1);
                        r = ctr_container_start(p, name, false, &code, err);
                        unsetenv("CTR_VM_RESTORE");
                }
                struct ctr_error e2 = {0};
                if (r < 0 && ctr_lock_container(p, name, lock, &e2) < 0)
                        return r; /* the files stay as the failed start left them */
        }
        if (r < 0) {
                rename(old, disk);
                ctr_write_atomic(cfgpath, oldcfg, oldcfg_len, 0600);
                return r;
        }
        unlink(old);
        return 0;
}

int ctr_snapshot_restore_live(const struct ctr_paths *p, const char *name, const char *snap, bool no_backup,
                              char ret_backup[128], struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        _cleanup_close_ int lock = -1;
        /* Declared before the first goto: a jump past it would free an uninitialised pointer. */
        _cleanup_free_ char *text = NULL;
        ret_backup[0] = 0;
        if (!ctr_snapshot_name_valid(snap))
                return ctr_err(err, EINVAL, "restore", "'%s' is not a valid snapshot name", snap);
        int r = open_vm(p, name, &cfg, &lock, CTR_STOPPED, "restore", err);
        _cleanup_free_ char *dir = snap_dir(p, name, snap), *state = xasprintf("%s/" CTR_VMSTATE_FILE, dir);
        if (r < 0)
                goto out;
        if (access(dir, F_OK) < 0)
                r = ctr_err(err, ENOENT, "restore", "%s has no snapshot %s", name, snap);
        else if (access(state, F_OK) < 0)
                r = ctr_err(err, EINVAL, "restore", "snapshot %s is not a live snapshot (leave out --live)", snap);
        if (r < 0)
                goto out;
        /* The whole state file is checked before anything changes. */
        struct ctr_vmstate vs;
        if ((r = ctr_vmstate_load(dir, &vs, &text, err)) < 0)
                goto out;
        ctr_vmstate_free(&vs);
        if (!no_backup && (r = backup(p, name, &cfg, ret_backup, err)) < 0)
                goto out;
        if ((r = restore_live_locked(p, name, snap, dir, &cfg, &lock, err)) < 0 && *ret_backup) {
                /* Nothing changed: the backup goes too. */
                _cleanup_free_ char *bdir = snap_dir(p, name, ret_backup);
                ctr_rm_rf(bdir);
                ret_backup[0] = 0;
        }
out:
        ctr_config_free(&cfg);
        return r;
}

/* Fill the new container's directory tmp from the tree at from. */
static int clone_fill(const struct ctr_paths *p, struct ctr_config *cfg, const char *tmp, const char *from,
                      const char *disk_from, struct ctr_error *err)
{
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", tmp), *upper = xasprintf("%s/upper", tmp),
                            *work = xasprintf("%s/work", tmp), *cfgpath = xasprintf("%s/config.json", tmp);
        if (mkdir(tmp, 0700) < 0 || mkdir(rootfs, 0755) < 0 ||
            (is_overlay(cfg) && (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)))
                return ctr_err_sys(err, errno, "clone", "create %s", tmp);
        int r;
        if (cfg->userns && (r = ctr_userns_allocate(p, cfg, tmp, err)) < 0)
                return r;
        const char *into = is_overlay(cfg) ? upper : rootfs;
        if ((r = ctr_cache_copy(from, into, err)) < 0)
                return r;
        /* An empty machine-id: systemd makes a new one at first boot (from container_uuid). */
        _cleanup_free_ char *etc = xasprintf("%s/etc", into), *mid = xasprintf("%s/etc/machine-id", into);
        struct stat st;
        bool has_etc = stat(etc, &st) == 0;
        if (!has_etc && is_overlay(cfg) && cfg->storage_lower) {
                /* the lower's last layer is the template tree */
                const char *last = strrchr(cfg->storage_lower, ':');
                _cleanup_free_ char *le = xasprintf("%s/etc", last ? last + 1 : cfg->storage_lower);
                has_etc = stat(le, &st) == 0;
        }
        if (has_etc) {
                /* The tree is the container's: its etc (or a symlink there) resolves inside it, never
                 * on the host; machine-id and hostname are replaced by rename, not written through. */
                _cleanup_close_ int rootfd = open(into, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd >= 0 && mkdirat(rootfd, "etc", 0755) < 0 && errno != EEXIST)
                        return ctr_err_sys(err, errno, "clone", "create %s", etc);
                _cleanup_close_ int etcfd = rootfd < 0 ? -errno : ctr_rootfs_open_in_root(rootfd, "etc", O_PATH | O_DIRECTORY);
                if (etcfd < 0)
                        return ctr_err_sys(err, -etcfd, "clone", "open %s inside the tree", etc);
                free(mid);
                mid = xasprintf("/proc/self/fd/%d/machine-id", etcfd);
                if ((r = ctr_write_atomic(mid, "", 0, 0444)) < 0)
                        return ctr_err_sys(err, -r, "clone", "reset %s/machine-id", etc);
                _cleanup_free_ char *hn = xasprintf("/proc/self/fd/%d/hostname", etcfd),
                                    *line = xasprintf("%s\n", cfg->hostname);
                if ((r = ctr_write_atomic(hn, line, strlen(line), 0644)) < 0)
                        return ctr_err_sys(err, -r, "clone", "write %s/hostname", etc);
        }
        /* A VM's state is its root disk: the clone gets a copy (a reflink where the filesystem
         * has them) with its own identity inside, or one built from the tree if there is none. */
        if (cfg->vm) {
                _cleanup_free_ char *disk = xasprintf("%s/disk.img", tmp);
                if (disk_from && access(disk_from, F_OK) == 0) {
                        if ((r = ctr_file_clone_path(disk_from, disk)) < 0)
                                return ctr_err_sys(err, -r, "clone", "copy %s", disk_from);
                        if ((r = ctr_vm_disk_set_identity(disk, cfg->hostname, err)) < 0)
                                return r;
                } else if ((r = ctr_vm_disk_build(rootfs, disk, cfg->vm_disk, err)) < 0)
                        return r;
        }
        if ((r = ctr_config_validate(cfg, err)) < 0)
                return r;
        return ctr_config_save(cfgpath, cfg, err);
}

static int clone_locked(const struct ctr_paths *p, const char *src, const char *dst, const char *snap,
                        enum ctr_status status, struct ctr_config *cfg, struct ctr_error *err)
{
        _cleanup_free_ char *final = ctr_path_container(p, dst);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.create-%d", p->containers, dst, (int)getpid());
        _cleanup_free_ char *from = NULL, *disk_from = NULL, *old_default = ctr_config_default_hostname(src);
        int r;
        if (access(final, F_OK) == 0)
                return ctr_err(err, EEXIST, "clone", "a container named %s already exists", dst);
        if (snap) {
                _cleanup_free_ char *sd = snap_dir(p, src, snap), *scfg = xasprintf("%s/config.json", sd);
                if (access(sd, F_OK) < 0)
                        return ctr_err(err, ENOENT, "clone", "%s has no snapshot %s", src, snap);
                if (live_only(sd))
                        return ctr_err(err, EINVAL, "clone", "snapshot %s is a live VM snapshot, without a tree to clone", snap);
                ctr_config_free(cfg);
                if ((r = ctr_config_load(scfg, cfg, err)) < 0)
                        return r;
                from = xasprintf("%s/tree", sd);
                disk_from = xasprintf("%s/disk.img", sd);
        } else {
                if (status != CTR_STOPPED)
                        return ctr_err(err, EBUSY, "clone", "%s is %s; stop it, or clone one of its snapshots (--snapshot)",
                                       src, ctr_status_name(status));
                from = tree_of(p, src, cfg);
                disk_from = disk_of(p, src);
        }
        if (cfg->userns && cfg->idmap.chowned)
                return ctr_err(err, EOPNOTSUPP, "clone",
                               "%s's tree was chowned to its own id range, which a copy cannot keep; create the new "
                               "container from the template",
                               src);
        /* The new identity: name, hostname (when it was the old default), uuid, an address of its
         * own (a fixed one would clash), a new id range. */
        free(cfg->name);
        cfg->name = xstrdup(dst);
        if (!cfg->hostname || !strcmp(cfg->hostname, old_default) || !strcmp(cfg->hostname, src)) {
                free(cfg->hostname);
                cfg->hostname = ctr_config_default_hostname(dst);
        }
        free(cfg->uuid);
        cfg->uuid = ctr_uuid_new();
        free(cfg->net.ipv4);
        cfg->net.ipv4 = NULL;
        if (cfg->net.ipv6 && strcmp(cfg->net.ipv6, "none")) {
                free(cfg->net.ipv6);
                cfg->net.ipv6 = NULL;
        }
        cfg->autostart = false;
        if ((r = ctr_mkdir_p(p->containers, 0700)) < 0)
                return ctr_err_sys(err, -r, "clone", "create %s", p->containers);
        ctr_rm_rf(tmp);
        if ((r = clone_fill(p, cfg, tmp, from, disk_from, err)) < 0) {
                ctr_rm_rf(tmp);
                return r;
        }
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                r = errno == EEXIST || errno == ENOTEMPTY ? ctr_err(err, EEXIST, "clone", "a container named %s already exists", dst)
                                                          : ctr_err_sys(err, errno, "clone", "rename %s", tmp);
                ctr_rm_rf(tmp);
                return r;
        }
        return 0;
}

int ctr_container_clone(const struct ctr_paths *p, const char *src, const char *dst, const char *snap,
                        struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        _cleanup_close_ int lock = -1;
        enum ctr_status status;
        if (!ctr_name_valid(dst))
                return ctr_err(err, EINVAL, "name", "'%s' is not a valid container name", dst);
        if (snap && !ctr_snapshot_name_valid(snap))
                return ctr_err(err, EINVAL, "clone", "'%s' is not a valid snapshot name", snap);
        int r = open_container(p, src, &cfg, &lock, &status, err);
        if (r == 0)
                r = clone_locked(p, src, dst, snap, status, &cfg, err);
        ctr_config_free(&cfg);
        return r;
}
