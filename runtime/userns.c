/* User-namespaced containers: allocation of a container's id range at create, the namespace's
 * maps at start, and the detached mounts (idmapped rootfs, bind sources) the parent makes for a
 * child that is no longer host root and cannot walk the host's private directories. */
#define _GNU_SOURCE
#include "userns.h"

#include "../launch/launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../security/subid.h"
#include "../base/memo.h"
#include "../base/util.h"

/* --- the range record ------------------------------------------------------------------------
 * One file for every state root on the host lists the ranges taken, so an allocation reads one
 * small file instead of every container's config, and two roots never hand out the same ids.
 * It is an index of what the configs say: a root it has not seen is scanned once and added, a
 * missing or damaged record is rebuilt the same way, and entries whose container is gone are
 * dropped when the free ranges run out. */

struct claim {
        uint32_t uid, gid, count;
        int64_t at;  /* unix seconds of the allocation */
        char *path;  /* the container's directory (its final name) */
};

struct record {
        struct claim *v;
        size_t n;
        char **roots; /* containers directories already indexed */
};

static void record_free(struct record *rec)
{
        for (size_t i = 0; i < rec->n; i++)
                free(rec->v[i].path);
        free(rec->v);
        strv_free(rec->roots);
        *rec = (struct record){0};
}

static void record_add(struct record *rec, uint32_t uid, uint32_t gid, uint32_t count, int64_t at, const char *path)
{
        rec->v = xrealloc(rec->v, (rec->n + 1) * sizeof(*rec->v));
        rec->v[rec->n++] = (struct claim){uid, gid, count, at, xstrdup(path)};
}

static void record_drop(struct record *rec, size_t i)
{
        free(rec->v[i].path);
        rec->v[i] = rec->v[--rec->n];
}

const char *ctr_userns_record_path(const struct ctr_paths *p, char *buf, size_t len)
{
        const char *e = getenv("CTR_IDMAP_RECORD");
        if (e && *e == '/')
                snprintf(buf, len, "%s", e);
        else if (geteuid() == 0)
                snprintf(buf, len, "%s", CTR_IDMAP_RECORD);
        else
                snprintf(buf, len, "%s/idmap-ranges", p->root);
        return buf;
}

#define RECORD_MAGIC "ctr-idmap-ranges 1"

/* -EBADMSG when the text is not a record: the caller rebuilds. */
static int record_parse(const char *text, struct record *rec)
{
        *rec = (struct record){0};
        size_t ml = strlen(RECORD_MAGIC);
        if (strncmp(text, RECORD_MAGIC, ml) || text[ml] != '\n')
                return -EBADMSG;
        _cleanup_free_ char *copy = xstrdup(text + ml + 1);
        char *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned long long uid, gid, count;
                long long at;
                int off = -1;
                if (!strncmp(l, "root /", 6))
                        strv_push(&rec->roots, l + 5);
                else if (sscanf(l, "range %llu %llu %llu %lld %n", &uid, &gid, &count, &at, &off) == 4 && off > 0 &&
                         l[off] == '/' && uid <= UINT32_MAX && gid <= UINT32_MAX && count && count <= UINT32_MAX &&
                         uid + count <= UINT32_MAX + 1ULL && gid + count <= UINT32_MAX + 1ULL)
                        record_add(rec, (uint32_t)uid, (uint32_t)gid, (uint32_t)count, at, l + off);
                else {
                        record_free(rec);
                        return -EBADMSG;
                }
        }
        return 0;
}

static char *record_text(const struct record *rec)
{
        size_t cap = 64, len = 0;
        for (char **r = rec->roots; r && *r; r++)
                cap += strlen(*r) + 8;
        for (size_t i = 0; i < rec->n; i++)
                cap += strlen(rec->v[i].path) + 80;
        char *t = xrealloc(NULL, cap);
        len += (size_t)snprintf(t + len, cap - len, "%s\n", RECORD_MAGIC);
        for (char **r = rec->roots; r && *r; r++)
                len += (size_t)snprintf(t + len, cap - len, "root %s\n", *r);
        for (size_t i = 0; i < rec->n; i++)
                len += (size_t)snprintf(t + len, cap - len, "range %u %u %u %lld %s\n", rec->v[i].uid, rec->v[i].gid,
                                        rec->v[i].count, (long long)rec->v[i].at, rec->v[i].path);
        return t;
}

/* The record, locked: *ret_lock holds RECORD.lock until the caller is done. A missing or damaged
 * record reads as empty, which makes every root be scanned again. */
static int record_open(const char *path, struct record *rec, int *ret_lock, struct ctr_error *err)
{
        _cleanup_free_ char *dir = xstrdup(path), *lockpath = xasprintf("%s.lock", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = 0;
        int r = ctr_mkdir_p(dir, 0700);
        if (r < 0)
                return ctr_err_sys(err, -r, "userns", "create %s", dir);
        int fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return ctr_err_sys(err, e, "userns", "lock %s", lockpath);
        }
        _cleanup_free_ char *text = NULL;
        struct stat st;
        *rec = (struct record){0};
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            ctr_read_file(path, 4 << 20, &text, NULL) == 0)
                (void)record_parse(text, rec);
        *ret_lock = fd;
        return 0;
}

static int record_save(const char *path, const struct record *rec, struct ctr_error *err)
{
        _cleanup_free_ char *t = record_text(rec);
        int r = ctr_write_atomic(path, t, strlen(t), 0600);
        if (r < 0)
                return ctr_err_sys(err, -r, "userns", "write %s", path);
        return 0;
}

/* What every container of a root holds, into the record: the one scan of its configs. */
static int record_index_root(struct record *rec, const char *containers, struct ctr_error *err)
{
        for (char **r = rec->roots; r && *r; r++)
                if (!strcmp(*r, containers))
                        return 0;
        if (strchr(containers, '\n'))
                return ctr_err(err, EINVAL, "userns", "the state root's path has a newline");
        DIR *d = opendir(containers);
        if (!d && errno != ENOENT)
                return ctr_err_sys(err, errno, "userns", "read %s", containers);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s/config.json", containers, de->d_name);
                _cleanup_free_ char *cdir = xasprintf("%s/%s", containers, de->d_name);
                struct ctr_config c;
                struct ctr_error e = {0};
                if (access(path, F_OK) < 0 || ctr_config_load(path, &c, &e) < 0)
                        continue; /* not a container (yet), or one whose config ctr cannot start anyway */
                /* A create in progress (a dot name) is in the record by its final name. */
                if (c.userns && c.idmap.count && de->d_name[0] != '.')
                        record_add(rec, c.idmap.uid, c.idmap.gid, c.idmap.count, (int64_t)time(NULL), cdir);
                ctr_config_free(&c);
        }
        if (d)
                closedir(d);
        strv_push(&rec->roots, containers);
        return 0;
}

/* An entry whose container's config no longer holds its range is a leftover (a root removed by
 * hand, a crash between allocation and rename); recent ones may be creates still under way. */
static void record_collect(struct record *rec)
{
        int64_t now = (int64_t)time(NULL);
        for (size_t i = rec->n; i-- > 0;) {
                const struct claim *c = &rec->v[i];
                if (now - c->at < 600)
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/config.json", c->path);
                struct ctr_config cfg;
                struct ctr_error e = {0};
                bool held = ctr_config_load(path, &cfg, &e) == 0;
                if (held) {
                        held = cfg.userns && cfg.idmap.uid == c->uid && cfg.idmap.gid == c->gid;
                        ctr_config_free(&cfg);
                }
                if (!held)
                        record_drop(rec, i);
        }
        char **keep = NULL;
        for (char **r = rec->roots; r && *r; r++)
                if (access(*r, F_OK) == 0)
                        strv_push(&keep, *r);
        strv_free(rec->roots);
        rec->roots = keep;
}

static int pick(const struct record *rec, const struct ctr_idrange *deleg, size_t n_deleg, bool gid, uint32_t *ret)
{
        _cleanup_free_ struct ctr_idrange *used = xrealloc(NULL, (rec->n + 1) * sizeof(*used));
        for (size_t i = 0; i < rec->n; i++)
                used[i] = (struct ctr_idrange){gid ? rec->v[i].gid : rec->v[i].uid, rec->v[i].count};
        return ctr_subid_alloc(deleg, n_deleg, used, rec->n, CTR_IDMAP_COUNT, ret);
}

int ctr_userns_allocate(const struct ctr_paths *p, struct ctr_config *cfg, const char *dir, struct ctr_error *err)
{
        _cleanup_free_ struct ctr_idrange *du = NULL, *dg = NULL;
        size_t ndu = 0, ndg = 0;
        const char *fu = ctr_subid_path(0), *fg = ctr_subid_path(1);
        int r = ctr_subid_load(fu, &du, &ndu, err);
        if (r < 0 || (r = ctr_subid_load(fg, &dg, &ndg, err)) < 0)
                return r;
        _cleanup_free_ char *final = ctr_path_container(p, cfg->name);
        if (strchr(final, '\n'))
                return ctr_err(err, EINVAL, "userns", "the container's path has a newline");

        char rpath[4096];
        ctr_userns_record_path(p, rpath, sizeof(rpath));
        _cleanup_close_ int lock = -EBADF;
        struct record rec;
        if ((r = record_open(rpath, &rec, &lock, err)) < 0)
                return r;
        uint32_t ub = 0, gb = 0;
        /* Roots removed by hand (test roots) leave their line; many of them are swept. */
        if (strv_len(rec.roots) > 64)
                record_collect(&rec);
        r = record_index_root(&rec, p->containers, err);
        int fu_ok = -1, fg_ok = -1;
        for (int round = 0; r == 0 && round < 2 && (fu_ok < 0 || fg_ok < 0); round++) {
                if (round)
                        record_collect(&rec);
                fu_ok = pick(&rec, du, ndu, false, &ub);
                fg_ok = fu_ok < 0 ? fu_ok : pick(&rec, dg, ndg, true, &gb);
        }
        if (r == 0 && (fu_ok < 0 || fg_ok < 0))
                r = ctr_err(err, ENOSPC, "userns",
                            "no free range of %u subordinate %s for %s in %s (%zu containers hold one)", CTR_IDMAP_COUNT,
                            fu_ok < 0 ? "uids" : "gids", CTR_SUBID_OWNER, fu_ok < 0 ? fu : fg, rec.n);
        if (r == 0) {
                cfg->idmap = (struct ctr_idmap){.uid = ub, .gid = gb, .count = CTR_IDMAP_COUNT};
                record_add(&rec, ub, gb, CTR_IDMAP_COUNT, (int64_t)time(NULL), final);
                /* Both written before the lock goes: the next allocation sees this range. */
                _cleanup_free_ char *cfgpath = xasprintf("%s/config.json", dir);
                r = ctr_config_save(cfgpath, cfg, err);
                if (r == 0)
                        r = record_save(rpath, &rec, err);
        }
        record_free(&rec);
        return r;
}

void ctr_userns_release(const struct ctr_paths *p, const char *name, const struct ctr_idmap *m)
{
        char rpath[4096];
        _cleanup_close_ int lock = -EBADF;
        struct record rec;
        struct ctr_error e = {0};
        if (record_open(ctr_userns_record_path(p, rpath, sizeof(rpath)), &rec, &lock, &e) < 0)
                return;
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        size_t before = rec.n;
        for (size_t i = rec.n; i-- > 0;)
                if (!strcmp(rec.v[i].path, dir) && (!m || (rec.v[i].uid == m->uid && rec.v[i].gid == m->gid)))
                        record_drop(&rec, i);
        /* A record that does not know this root yet gets it indexed at its next allocation. */
        if (rec.n != before)
                (void)record_save(rpath, &rec, &e);
        record_free(&rec);
}

/* Both maps of pid's user namespace, each written in one go as the kernel wants. */
static int write_map_text(pid_t pid, const char *uid_map, const char *gid_map, struct ctr_error *err)
{
        char path[64];
        const char *files[] = {"uid_map", "gid_map"}, *text[] = {uid_map, gid_map};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
                int r = ctr_write_file(path, text[i]);
                if (r < 0)
                        return ctr_err_sys(err, -r, "userns", "write %s (%.*s)", path, (int)strcspn(text[i], "\n"),
                                           text[i]);
        }
        return 0;
}

int ctr_userns_write_maps(pid_t pid, const struct ctr_idmap *m, struct ctr_error *err)
{
        char u[64], g[64];
        snprintf(u, sizeof(u), "0 %u %u\n", m->uid, m->count);
        snprintf(g, sizeof(g), "0 %u %u\n", m->gid, m->count);
        return write_map_text(pid, u, g, err);
}

int ctr_userns_volume_map(uint32_t owner, uint32_t base, uint32_t count, char *buf, size_t len)
{
        if (!count || (uint64_t)base + count > UINT32_MAX)
                return -EINVAL;
        uint64_t end = (uint64_t)base + count; /* the container's ids are base+1 .. end-1 besides root */
        int n;
        if (owner > base && owner < end) {
                /* The owner is one of the container's own ids: it is root's now, so the rest goes
                 * around it (that id inside has no files through this mount). */
                n = snprintf(buf, len, "%u %u 1\n", owner, base);
                if (owner - base > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", base + 1, base + 1, owner - base - 1);
                if (end - owner > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", owner + 1, owner + 1, (uint32_t)(end - owner - 1));
        } else {
                n = snprintf(buf, len, "%u %u 1\n", owner, base);
                if (count > 1 && n >= 0 && (size_t)n < len)
                        n += snprintf(buf + n, len - n, "%u %u %u\n", base + 1, base + 1, count - 1);
        }
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A user namespace with these maps, held by a child that ends once it is open here. */
struct maps_launch {
        const char *uid_map, *gid_map;
        int fd;
};

static void __attribute__((noreturn)) hold_userns(void *data, int sock)
{
        struct ctr_sync_msg m;
        ctr_sync_wait_go(sock, &m, NULL, 0);
        ctr_sync_send(sock, CTR_SYNC_READY, NULL, 0, -1);
        _exit(0);
}

static int maps_before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        struct maps_launch *ml = data;
        int r = write_map_text(pid, ml->uid_map, ml->gid_map, err);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        if ((ml->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return ctr_err_sys(err, errno, "userns", "open %s", path);
        return 0;
}

static int open_maps(const char *uid_map, const char *gid_map, int *ret_fd, struct ctr_error *err)
{
        struct maps_launch ml = {.uid_map = uid_map, .gid_map = gid_map, .fd = -1};
        struct ctr_launch l = {.what = "the user namespace's holder", .flags = CLONE_NEWUSER, .cgroup_fd = -1,
                               .pidns_fd = -1, .until = CTR_LAUNCH_UNTIL_READY, .child = hold_userns,
                               .before_go = maps_before_go, .data = &ml};
        struct ctr_launched out;
        int r = ctr_launch(&l, &out, err);
        if (r < 0) {
                if (ml.fd >= 0)
                        close(ml.fd);
                return r;
        }
        while (waitpid(out.pid, NULL, 0) < 0 && errno == EINTR)
                ;
        close(out.pidfd);
        *ret_fd = ml.fd;
        return 0;
}

int ctr_userns_open(const struct ctr_idmap *m, int *ret_fd, struct ctr_error *err)
{
        char u[64], g[64];
        snprintf(u, sizeof(u), "0 %u %u\n", m->uid, m->count);
        snprintf(g, sizeof(g), "0 %u %u\n", m->gid, m->count);
        return open_maps(u, g, ret_fd, err);
}

/* The key of path's filesystem for the idmap probe's memo: this boot, the superblock (st_dev and
 * the filesystem's magic) and the mount (its id), since whether an idmapped mount is allowed is a
 * fact of the filesystem and the mount, and st_dev and mount ids are reused after a reboot. */
static int idmap_probe_key(const char *path, char key[65])
{
        struct statx stx;
        struct statfs sfs;
        _cleanup_free_ char *boot = NULL;
        if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 || statfs(path, &sfs) < 0 ||
            ctr_read_file("/proc/sys/kernel/random/boot_id", 64, &boot, NULL) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        struct ctr_sha256 h;
        ctr_sha256_init(&h);
        ctr_sha256_str(&h, "ctr idmap probe 1");
        ctr_sha256_str(&h, boot);
        uint64_t facts[5] = {stx.stx_dev_major, stx.stx_dev_minor, (uint64_t)sfs.f_type, stx.stx_mnt_id, 0};
        ctr_sha256_update(&h, facts, sizeof(facts));
        ctr_sha256_final_hex(&h, key);
        return 0;
}

int ctr_userns_idmap_supported(const struct ctr_paths *p, const struct ctr_idmap *m, const char *path,
                               struct ctr_error *err)
{
        char key[65];
        _cleanup_free_ char *memo = p ? xasprintf("%s/" CTR_MEMO_DIR, p->run) : NULL;
        _cleanup_free_ char *known = NULL;
        bool keyed = memo && idmap_probe_key(path, key) == 0;
        if (keyed && ctr_memo_get(memo, "idmap", key, 1, (void **)&known, NULL) == 0 &&
            (!strcmp(known, "0") || !strcmp(known, "1")))
                return known[0] == '1';
        _cleanup_close_ int ufd = -EBADF;
        int r = ctr_userns_open(m, &ufd, err);
        if (r < 0)
                return r;
        r = ctr_rootfs_idmap_supported(path, ufd, err);
        if (r >= 0 && keyed)
                (void)ctr_memo_put(memo, "idmap", key, r ? "1" : "0", 1);
        return r;
}

int ctr_userns_need_chown(const struct ctr_paths *p, const struct ctr_idmap *m, const char *path, bool *ret,
                          struct ctr_error *err)
{
        const char *knob = getenv("CTR_IDMAP");
        if (knob && !strcmp(knob, "chown")) {
                *ret = true;
                return 0;
        }
        if (knob && *knob && strcmp(knob, "mount"))
                return ctr_err(err, EINVAL, "userns", "CTR_IDMAP='%s' is not chown or mount", knob);
        int r = ctr_userns_idmap_supported(p, m, path, err);
        if (r < 0)
                return r;
        if (r == 0 && knob && !strcmp(knob, "mount"))
                return ctr_err(err, EOPNOTSUPP, "userns", "CTR_IDMAP=mount, but the filesystem of %s refuses idmapped mounts",
                               path);
        *ret = r == 0;
        return 0;
}

/* The config's range must still be delegated to ctr's owner (an admin may have taken it back). */
static int check_delegated(const struct ctr_idmap *m, struct ctr_error *err)
{
        for (int gid = 0; gid < 2; gid++) {
                const char *path = ctr_subid_path(gid);
                _cleanup_free_ char *text = NULL;
                _cleanup_free_ struct ctr_idrange *v = NULL;
                size_t n = 0;
                int r = ctr_read_file(path, 1 << 22, &text, NULL);
                if (r < 0)
                        return ctr_err_sys(err, -r, "userns", "read %s", path);
                r = ctr_subid_parse(text, path, &v, &n, err);
                if (r < 0)
                        return r;
                uint32_t base = gid ? m->gid : m->uid;
                if (!ctr_subid_contains(v, n, base, m->count))
                        return ctr_err(err, EPERM, "userns", "%ss %u-%u of security.idmap are not delegated to %s in %s",
                                       gid ? "gid" : "uid", base, base + m->count - 1, CTR_SUBID_OWNER, path);
        }
        return 0;
}

void ctr_userns_start_free(struct ctr_userns_start *u)
{
        if (!u->planned)
                return;
        for (size_t i = 0; i < u->plan.n; i++)
                if (u->plan.ops[i].has_fd)
                        close(u->plan.ops[i].fd);
        if (u->plan.attach_root)
                close(u->plan.root_mount_fd);
        ctr_rootfs_plan_free(&u->plan);
        u->planned = false;
}

/* A read-write volume seen through an idmap that makes its source's owner root inside: what
 * root writes there belongs to that owner on the host. The rest of the container's ids stay
 * themselves (ctr_userns_volume_map). A read-only volume is never idmapped: root inside may
 * remount its own binds read-write (the kernel locks only inherited mounts), and through an
 * idmap that would write as the owner, host root included. */
static int volume_idmap(struct ctr_mnt_op *op, const struct ctr_idmap *m, struct ctr_error *err)
{
        struct stat st;
        if (fstat(op->fd, &st) < 0)
                return ctr_err_sys(err, errno, "volume", "%s:%s: stat the source", op->source, op->target);
        char u[128], g[128];
        if (ctr_userns_volume_map(st.st_uid, m->uid, m->count, u, sizeof(u)) < 0 ||
            ctr_userns_volume_map(st.st_gid, m->gid, m->count, g, sizeof(g)) < 0)
                return ctr_err(err, EINVAL, "volume", "%s:%s: no idmap from owner %u:%u to range %u/%u",
                               op->source, op->target, (unsigned)st.st_uid, (unsigned)st.st_gid, m->uid, m->gid);
        _cleanup_close_ int ufd = -EBADF;
        int r = open_maps(u, g, &ufd, err);
        if (r < 0)
                return r;
        struct ctr_error e = {0};
        r = ctr_rootfs_idmap_detached(op->fd, op->source, ufd, op->flags & MS_REC, &e);
        if (r == -EINVAL || r == -EOPNOTSUPP || r == -ENOSYS || r == -EPERM)
                return ctr_err(err, -r, "volume",
                               "%s:%s: the filesystem of %s (or one mounted below it) refuses idmapped mounts (%s), "
                               "which a user namespace needs for a writable volume; without one (--no-userns) it "
                               "is bound as it is",
                               op->source, op->target, op->source, strerror(-r));
        if (r < 0) {
                *err = e;
                ctr_err_prefix(err, "volume %s:%s", op->source, op->target);
        }
        return r;
}

int ctr_userns_prepare(const struct ctr_config *cfg, const char *rootfs, int console_fd, const char *cgroup_path,
                       bool volatile_upper, struct ctr_userns_start *ret, struct ctr_error *err)
{
        const struct ctr_idmap *m = &cfg->idmap;
        bool overlay = !strcmp(cfg->storage_driver, "overlay");
        if (!m->count)
                return ctr_err(err, EINVAL, "userns",
                               "security.userns is on but security.idmap is null (the range is taken at create)");
        if (overlay && m->chowned)
                return ctr_err(err, EINVAL, "userns", "overlay storage cannot be chowned (security.idmap.shift chown)");
        int r = check_delegated(m, err);
        if (r < 0)
                return r;
        /* Root inside opens /dev/console itself (systemd, getty): the pty becomes root's:tty's. */
        if (console_fd >= 0 && fchown(console_fd, m->uid, m->gid + 5) < 0)
                return ctr_err_sys(err, errno, "console", "give the console to %u:%u", m->uid, m->gid + 5);
        if (cgroup_path && (r = ctr_cgroup_chown(cgroup_path, m->uid, m->gid, err)) < 0)
                return r;

        _cleanup_close_ int ufd = -EBADF, rfd = -EBADF;
        if (!m->chowned && (r = ctr_userns_open(m, &ufd, err)) < 0)
                return r;
        if (overlay) {
                _cleanup_free_ char *dir = xstrdup(rootfs);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                r = ctr_rootfs_idmapped_overlay(cfg->storage_lower, dir, ufd, m->uid, m->gid, volatile_upper, &rfd, err);
        } else
                r = ctr_rootfs_idmapped_tree(rootfs, ufd, false, &rfd, err);
        if (r < 0)
                return r;

        free(ret->plan.overlay);
        ret->plan.overlay = NULL;
        ret->plan.attach_root = true;
        ret->plan.root_mount_fd = TAKE_FD(rfd);
        ret->plan.root_target_fd = -1;
        /* Bind sources as detached clones: the child attaches them without walking host paths.
         * The user's read-write volumes are idmapped to their owners (volume_idmap); ctr's own
         * binds and read-only volumes keep host owners (nobody when outside the range). */
        for (size_t i = 0; i < ret->plan.n; i++) {
                struct ctr_mnt_op *op = &ret->plan.ops[i];
                if (op->kind != CTR_MNT_BIND)
                        continue;
                r = ctr_rootfs_idmapped_tree(op->source, -1, op->flags & MS_REC, &op->fd, err);
                if (r == 0) {
                        op->has_fd = true;
                        if (op->volume && !(op->flags & MS_RDONLY))
                                r = volume_idmap(op, m, err);
                }
                if (r < 0) {
                        ctr_userns_start_free(ret);
                        return r;
                }
        }
        return 0;
}

int ctr_userns_after_clone(const struct ctr_idmap *m, const char *rootfs, pid_t pid, int *ret_target_fd,
                           struct ctr_error *err)
{
        int r = ctr_userns_write_maps(pid, m, err);
        if (r < 0)
                return r;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        _cleanup_close_ int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return ctr_err_sys(err, errno, "userns", "open %s", path);
        int fd = ctr_rootfs_open_in_root(rootfd, rootfs, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return ctr_err_sys(err, -fd, "userns", "open %s in the container's mount namespace", rootfs);
        *ret_target_fd = fd;
        return 0;
}
