/* cgroup v1 hierarchies of a hybrid or legacy host, for the OCI runtime: engines on such hosts
 * (podman with cgroupfs) expect a container's limits in the v1 controllers. Only directories
 * below the hierarchies' roots are made and removed; the mounts are never touched. */
#define _GNU_SOURCE
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

/* The v1 hierarchies: mount point and the controllers it carries ("cpu,cpuacct"). Named
 * hierarchies (name=systemd) are left alone. */
struct hier {
        char mount[256];
        char opts[256];
};

static size_t hierarchies(struct hier *out, size_t cap)
{
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        if (ctr_read_file("/proc/self/mountinfo", 4 << 20, &text, NULL) < 0)
                return 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < cap; line = strtok_r(NULL, "\n", &save)) {
                char mp[256], fstype[32], super[256];
                char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mp) != 1 ||
                    sscanf(sep + 3, "%31s %*s %255s", fstype, super) != 2 || strcmp(fstype, "cgroup"))
                        continue;
                if (strstr(super, "name="))
                        continue;
                snprintf(out[n].mount, sizeof(out[n].mount), "%s", mp);
                snprintf(out[n].opts, sizeof(out[n].opts), ",%s,", super);
                n++;
        }
        return n;
}

static bool has(const struct hier *h, const char *ctrl)
{
        char k[40];
        snprintf(k, sizeof(k), ",%s,", ctrl);
        return strstr(h->opts, k) != NULL;
}

bool ctr_cgroup_v1_available(void)
{
        struct hier h[16];
        return hierarchies(h, 16) > 0;
}

static int check_rel(const char *rel, struct ctr_error *err)
{
        while (*rel == '/')
                rel++;
        if (!*rel || strstr(rel, "..") || strstr(rel, "//"))
                return ctr_err(err, EINVAL, "cgroup", "'%s' is not a cgroup path below the root", rel);
        /* Never ours to touch on these machines, nor anyone's to place containers in. */
        if (!strncmp(rel, "process_api", 11) && (rel[11] == '/' || !rel[11]))
                return ctr_err(err, EPERM, "cgroup", "'%s' is reserved on this host", rel);
        return 0;
}

static int put(const char *dir, const char *file, const char *val, bool optional, struct ctr_error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        int r = ctr_write_file(p, val);
        if (r == -ENOENT && optional)
                return 0;
        return r < 0 ? ctr_err_sys(err, -r, "cgroup", "write %s = %s", p, val) : 0;
}

static int put_num(const char *dir, const char *file, int64_t v, bool optional, struct ctr_error *err)
{
        char b[32];
        snprintf(b, sizeof(b), "%lld", (long long)v);
        return put(dir, file, b, optional, err);
}

/* mkdir -p below the hierarchy; cpuset directories start empty, so each new one takes its
 * parent's cpus and mems before anything can join it. */
static int make_dirs(const struct hier *h, const char *rel, char **ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", h->mount, rel);
        bool cpuset = has(h, "cpuset");
        for (char *c = path + strlen(h->mount) + 1;; c++) {
                if (*c != '/' && *c)
                        continue;
                char save = *c;
                *c = 0;
                if (mkdir(path, 0755) == 0 && cpuset) {
                        _cleanup_free_ char *parent = xstrdup(path);
                        *strrchr(parent, '/') = 0;
                        const char *files[] = {"cpuset.cpus", "cpuset.mems"};
                        for (size_t i = 0; i < 2; i++) {
                                _cleanup_free_ char *pf = xasprintf("%s/%s", parent, files[i]), *v = NULL;
                                if (ctr_read_file(pf, 4096, &v, NULL) == 0) {
                                        v[strcspn(v, "\n")] = 0;
                                        if (*v && put(path, files[i], v, false, err) < 0)
                                                return -err->errnum;
                                }
                        }
                } else if (errno != EEXIST && access(path, F_OK) < 0)
                        return ctr_err_sys(err, errno, "cgroup", "create %s", path);
                *c = save;
                if (!save)
                        break;
        }
        *ret = TAKE_PTR(path);
        return 0;
}

static int apply(const struct hier *h, const char *dir, const struct ctr_cg_v1 *v, struct ctr_error *err)
{
        if (has(h, "cpu")) {
                if ((v->cpu_shares && put_num(dir, "cpu.shares", (int64_t)v->cpu_shares, false, err) < 0) ||
                    (v->cpu_period && put_num(dir, "cpu.cfs_period_us", (int64_t)v->cpu_period, false, err) < 0) ||
                    (v->cpu_quota && put_num(dir, "cpu.cfs_quota_us", v->cpu_quota, false, err) < 0) ||
                    (v->rt_period && put_num(dir, "cpu.rt_period_us", (int64_t)v->rt_period, true, err) < 0) ||
                    (v->rt_runtime && put_num(dir, "cpu.rt_runtime_us", v->rt_runtime, true, err) < 0))
                        return -err->errnum;
        }
        if (has(h, "cpuset") && ((*v->cpus && put(dir, "cpuset.cpus", v->cpus, false, err) < 0) ||
                                 (*v->mems && put(dir, "cpuset.mems", v->mems, false, err) < 0)))
                return -err->errnum;
        if (has(h, "memory")) {
                /* memory.memsw (memory+swap) may never be below memory.limit: on the way up it
                 * goes first, on the way down last (a live update goes either way). */
                bool swap_first = false;
                if (v->memory_swap) {
                        _cleanup_free_ char *p = xasprintf("%s/memory.memsw.limit_in_bytes", dir), *cur = NULL;
                        long long now = 0;
                        if (ctr_read_file(p, 64, &cur, NULL) == 0)
                                now = strtoll(cur, NULL, 10);
                        swap_first = v->memory_swap < 0 || v->memory_swap > now;
                }
                if ((swap_first && put_num(dir, "memory.memsw.limit_in_bytes", v->memory_swap, true, err) < 0) ||
                    (v->memory_limit && put_num(dir, "memory.limit_in_bytes", v->memory_limit, false, err) < 0) ||
                    (v->memory_reservation &&
                     put_num(dir, "memory.soft_limit_in_bytes", v->memory_reservation, false, err) < 0) ||
                    (v->memory_swap && !swap_first &&
                     put_num(dir, "memory.memsw.limit_in_bytes", v->memory_swap, true, err) < 0))
                        return -err->errnum;
        }
        /* pids.max takes "max", not -1. */
        if (has(h, "pids") && v->pids_limit &&
            (v->pids_limit < 0 ? put(dir, "pids.max", "max", false, err) : put_num(dir, "pids.max", v->pids_limit, false, err)) < 0)
                return -err->errnum;
        if (has(h, "blkio") && v->blkio_weight && put_num(dir, "blkio.weight", v->blkio_weight, true, err) < 0)
                return -err->errnum;
        if (has(h, "devices") && !v->no_devices) {
                if (put(dir, "devices.deny", "a", false, err) < 0)
                        return -err->errnum;
                size_t nd;
                const struct ctr_cg_device *d = ctr_cgroup_default_devices(&nd);
                /* The config's rules first, in its order (devices.list shows them so), then
                 * the standard nodes. */
                for (int pass = 0; pass < 2; pass++) {
                        const struct ctr_cg_device *list = pass ? d : v->devices;
                        size_t n = pass ? nd : v->n_devices;
                        for (size_t i = 0; i < n; i++) {
                                char rule[64];
                                ctr_cgroup_device_format(&list[i], rule, sizeof(rule));
                                if (put(dir, "devices.allow", rule, false, err) < 0)
                                        return -err->errnum;
                        }
                }
        }
        return 0;
}

/* Every walk over the hierarchies starts so: REL checked, leading slashes gone. */
static const char *walk_start(const char *rel, struct hier *h, size_t *ret_n, struct ctr_error *err)
{
        *ret_n = hierarchies(h, 16);
        if (check_rel(rel, err) < 0)
                return NULL;
        while (*rel == '/')
                rel++;
        return rel;
}

int ctr_cgroup_v1_enter(const char *rel, const struct ctr_cg_v1 *v, pid_t pid, struct ctr_error *err)
{
        struct hier h[16];
        size_t n;
        if (!(rel = walk_start(rel, h, &n, err)))
                return -err->errnum;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *dir = NULL;
                if (make_dirs(&h[i], rel, &dir, err) < 0 || apply(&h[i], dir, v, err) < 0)
                        return -err->errnum;
        }
        return pid > 0 ? ctr_cgroup_v1_join(rel, pid, err) : 0;
}

int ctr_cgroup_v1_join(const char *rel, pid_t pid, struct ctr_error *err)
{
        struct hier h[16];
        size_t n;
        if (!(rel = walk_start(rel, h, &n, err)))
                return -err->errnum;
        char p[16];
        snprintf(p, sizeof(p), "%d", (int)pid);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", h[i].mount, rel);
                if (put(dir, "cgroup.procs", p, false, err) < 0)
                        return -err->errnum;
        }
        return 0;
}

void ctr_cgroup_v1_remove(const char *rel)
{
        struct hier h[16];
        size_t n;
        struct ctr_error e;
        if (!(rel = walk_start(rel, h, &n, &e)))
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", h[i].mount, rel);
                /* A process that just died may still be leaving: retry briefly. */
                for (int t = 0; t < 50 && rmdir(dir) < 0 && errno == EBUSY; t++)
                        usleep(20000);
                /* Empty parents ctr made under its own ctr.slice go too, ctr.slice itself
                 * included: in the v1 hierarchies only the OCI runtime uses it. */
                for (char *slash; (slash = strrchr(dir, '/'));) {
                        *slash = 0;
                        if (strlen(dir) <= strlen(h[i].mount) || !strstr(dir + strlen(h[i].mount), "/" CTR_CGROUP_PARENT) ||
                            rmdir(dir) < 0)
                                break;
                }
        }
}

int ctr_cgroup_v1_update(const char *rel, const struct ctr_cg_v1 *v, struct ctr_error *err)
{
        struct hier h[16];
        size_t n;
        if (!(rel = walk_start(rel, h, &n, err)))
                return -err->errnum;
        /* The device rules stay as create made them (runc's update does not take them either). */
        struct ctr_cg_v1 u = *v;
        u.no_devices = true;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", h[i].mount, rel);
                struct stat sb;
                if (stat(dir, &sb) < 0) /* a hierarchy mounted after create: nothing of ours there */
                        continue;
                if (apply(&h[i], dir, &u, err) < 0)
                        return -err->errnum;
        }
        return 0;
}

bool ctr_cgroup_v1_has(const char *controller)
{
        struct hier h[16];
        size_t n = hierarchies(h, 16);
        for (size_t i = 0; i < n; i++)
                if (has(&h[i], controller))
                        return true;
        return false;
}

/* REL's directory in the hierarchy carrying controller, or NULL. */
static char *dir_of(const char *rel, const char *controller)
{
        struct hier h[16];
        size_t n = hierarchies(h, 16);
        while (*rel == '/')
                rel++;
        for (size_t i = 0; i < n; i++)
                if (has(&h[i], controller))
                        return xasprintf("%s/%s", h[i].mount, rel);
        return NULL;
}

static int read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *t = NULL;
        if (ctr_read_file(p, 4096, &t, NULL) < 0)
                return -ENOENT;
        if (!strncmp(t, "max", 3)) {
                *ret = UINT64_MAX;
                return 0;
        }
        *ret = strtoull(t, NULL, 10);
        return 0;
}

void ctr_cgroup_v1_stats(const char *rel, struct ctr_cg_stats *s)
{
        struct ctr_error e;
        if (!rel || check_rel(rel, &e) < 0)
                return;
        _cleanup_free_ char *mem = dir_of(rel, "memory"), *pids = dir_of(rel, "pids"), *cpu = dir_of(rel, "cpu");
        if (!s->has_memory && mem && read_u64(mem, "memory.usage_in_bytes", &s->memory_current) == 0) {
                s->has_memory = true;
                read_u64(mem, "memory.max_usage_in_bytes", &s->memory_peak);
                /* v1 says "no limit" with the largest page-aligned value. */
                if (read_u64(mem, "memory.limit_in_bytes", &s->memory_max) == 0 && s->memory_max >= (UINT64_MAX >> 2))
                        s->memory_max = UINT64_MAX;
                _cleanup_free_ char *p = xasprintf("%s/memory.oom_control", mem), *t = NULL;
                if (ctr_read_file(p, 4096, &t, NULL) == 0)
                        ctr_cgroup_keyed(t, "oom_kill", &s->oom_kill);
                read_u64(mem, "memory.failcnt", &s->oom);
        }
        if (!s->has_pids && pids && read_u64(pids, "pids.current", &s->pids_current) == 0) {
                s->has_pids = true;
                read_u64(pids, "pids.max", &s->pids_max);
        }
        _cleanup_free_ char *cpath = cpu ? xasprintf("%s/cpu.stat", cpu) : NULL, *ct = NULL;
        if (cpath && !s->nr_periods && ctr_read_file(cpath, 4096, &ct, NULL) == 0) {
                uint64_t ns = 0;
                ctr_cgroup_keyed(ct, "nr_periods", &s->nr_periods);
                ctr_cgroup_keyed(ct, "nr_throttled", &s->nr_throttled);
                if (ctr_cgroup_keyed(ct, "throttled_time", &ns) == 0)
                        s->throttled_usec = ns / 1000;
        }
}
