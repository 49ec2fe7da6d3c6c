/* cgroup v2 placement for containers: detection of pure/hybrid/legacy layouts, the ctr.slice
 * parent, limits, kill/freeze through the core files that work even without controllers. */
#define _GNU_SOURCE
#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../base/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static bool is_cgroup2(const char *path)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

const char *ctr_cgroup_layout_name(enum ctr_cg_layout l)
{
        return l == CTR_CG_UNIFIED ? "unified (cgroup v2)" : l == CTR_CG_HYBRID ? "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)" : "legacy (cgroup v1 only)";
}

int ctr_cgroup_detect(struct ctr_cg_host *ret, struct ctr_error *err)
{
        _cleanup_free_ char *ctl = NULL;
        char path[300];

        memset(ret, 0, sizeof(*ret));
        if (is_cgroup2("/sys/fs/cgroup")) {
                ret->layout = CTR_CG_UNIFIED;
                snprintf(ret->mount, sizeof(ret->mount), "/sys/fs/cgroup");
        } else if (is_cgroup2("/sys/fs/cgroup/unified")) {
                ret->layout = CTR_CG_HYBRID;
                snprintf(ret->mount, sizeof(ret->mount), "/sys/fs/cgroup/unified");
        } else {
                ret->layout = CTR_CG_LEGACY;
                return ctr_err(err, ENOTSUP, "cgroup",
                               "this host has no cgroup2 hierarchy (cgroup v1 only); ctr needs cgroup v2 at "
                               "/sys/fs/cgroup or /sys/fs/cgroup/unified");
        }
        snprintf(path, sizeof(path), "%s/cgroup.controllers", ret->mount);
        if (ctr_read_file(path, 4096, &ctl, NULL) == 0) {
                ctl[strcspn(ctl, "\n")] = 0;
                snprintf(ret->controllers, sizeof(ret->controllers), "%s", ctl);
        }
        return 0;
}

static bool has_controller(const char *list, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = list; (p = strstr(p, name)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
                        return true;
        return false;
}

/* Is the controller bound to a v1 hierarchy on this host? Used only to explain a refusal. */
static bool bound_to_v1(const char *name)
{
        char path[300];
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", name);
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type != CGROUP2_SUPER_MAGIC && access(path, F_OK) == 0;
}

bool ctr_cgroup_cpuset_valid(const char *s)
{
        /* Ranges and single CPUs separated by commas: 0, 0-3, 0-1,4. */
        if (!*s || strlen(s) >= 64)
                return false;
        bool digit = false, dash = false;
        for (const char *c = s; *c; c++) {
                if (*c >= '0' && *c <= '9')
                        digit = true;
                else if (*c == '-' && digit && !dash)
                        dash = true, digit = false;
                else if (*c == ',' && digit)
                        digit = dash = false;
                else
                        return false;
        }
        return digit;
}

static const char *missing_controller(const struct ctr_cg_host *h, const struct ctr_cg_limits *l)
{
        if ((l->cpuset[0] || l->cpuset_mems[0]) && !has_controller(h->controllers, "cpuset"))
                return "cpuset";
        if (l->n_io && !has_controller(h->controllers, "io"))
                return "io";
        if ((l->memory || l->memory_high || l->memory_swap) && !has_controller(h->controllers, "memory"))
                return "memory";
        if ((l->cpus > 0 || l->cpu_weight) && !has_controller(h->controllers, "cpu"))
                return "cpu";
        if (l->pids && !has_controller(h->controllers, "pids"))
                return "pids";
        return NULL;
}

static int not_available(const struct ctr_cg_host *h, const char *c, struct ctr_error *err)
{
        if (bound_to_v1(c))
                return ctr_err(err, ENOTSUP, "cgroup",
                               "cgroup %s controller not available (cgroup2 at %s lacks it; this %s host binds it "
                               "to cgroup v1)",
                               c, h->mount, h->layout == CTR_CG_HYBRID ? "hybrid" : "");
        return ctr_err(err, ENOTSUP, "cgroup", "cgroup %s controller not available (cgroup2 at %s lacks it)", c,
                       h->mount);
}

int ctr_cgroup_check_limits(const struct ctr_cg_host *h, const struct ctr_cg_limits *l, struct ctr_error *err)
{
        const char *c = missing_controller(h, l);
        return c ? not_available(h, c, err) : 0;
}

/* v2's cpu.weight (1..10000, 100 the default) in v1's shares (2..262144, 1024 the default). */
static uint64_t weight_to_shares(uint64_t w)
{
        uint64_t s = w * 1024 / 100;
        return s < 2 ? 2 : s > 262144 ? 262144 : s;
}

int ctr_cgroup_split_v1(const struct ctr_cg_host *h, struct ctr_cg_limits *l, struct ctr_cg_v1 *ret_v1, bool *ret_any,
                        struct ctr_error *err)
{
        *ret_v1 = (struct ctr_cg_v1){0};
        *ret_any = false;
        for (const char *c; (c = missing_controller(h, l));) {
                /* io.max has no v1 counterpart here (blkio throttles take device rules of their own). */
                if (!strcmp(c, "io") || !ctr_cgroup_v1_has(c))
                        return not_available(h, c, err);
                *ret_any = true;
                if (!strcmp(c, "memory")) {
                        ret_v1->memory_limit = (int64_t)l->memory;
                        ret_v1->memory_reservation = (int64_t)l->memory_high;
                        /* v1 counts memory and swap together. */
                        if (l->memory_swap && l->memory)
                                ret_v1->memory_swap = (int64_t)(l->memory + l->memory_swap);
                        l->memory = l->memory_high = l->memory_swap = 0;
                } else if (!strcmp(c, "cpu")) {
                        if (l->cpus > 0) {
                                ret_v1->cpu_period = 100000;
                                ret_v1->cpu_quota = (int64_t)(l->cpus * 100000 + 0.5);
                        }
                        if (l->cpu_weight)
                                ret_v1->cpu_shares = weight_to_shares(l->cpu_weight);
                        l->cpus = 0;
                        l->cpu_weight = 0;
                } else if (!strcmp(c, "pids")) {
                        ret_v1->pids_limit = l->pids;
                        l->pids = 0;
                } else if (!strcmp(c, "cpuset")) {
                        snprintf(ret_v1->cpus, sizeof(ret_v1->cpus), "%s", l->cpuset);
                        snprintf(ret_v1->mems, sizeof(ret_v1->mems), "%s", l->cpuset_mems);
                        l->cpuset[0] = l->cpuset_mems[0] = 0;
                }
        }
        return 0;
}

/* Enable in dir's subtree the controllers the limits need (an error when that fails), and the
 * other counting ones the host offers, best effort, so every container has its stats and can
 * take a live limit later. */
static int enable_controllers(const struct ctr_cg_host *h, const char *dir, const struct ctr_cg_limits *l,
                              struct ctr_error *err)
{
        static const char *const useful[] = {"memory", "cpu", "pids", "io", "cpuset"};
        _cleanup_free_ char *p = xasprintf("%s/cgroup.subtree_control", dir);
        _cleanup_free_ char *cur = NULL;
        ctr_read_file(p, 4096, &cur, NULL);
        for (size_t i = 0; i < ARRAY_SIZE(useful); i++) {
                const char *c = useful[i];
                bool needed = (!strcmp(c, "memory") && (l->memory || l->memory_high || l->memory_swap)) ||
                              (!strcmp(c, "cpuset") && (l->cpuset[0] || l->cpuset_mems[0])) ||
                              (!strcmp(c, "io") && l->n_io) ||
                              (!strcmp(c, "cpu") && (l->cpus > 0 || l->cpu_weight)) || (!strcmp(c, "pids") && l->pids);
                if (!has_controller(h->controllers, c) || (cur && has_controller(cur, c)))
                        continue;
                char want[16];
                snprintf(want, sizeof(want), "+%s", c);
                int r = ctr_write_file(p, want);
                if (r < 0 && needed)
                        return ctr_err_sys(err, -r, "cgroup", "enable %s controller in %s", c, dir);
        }
        return 0;
}

static int write_limit(const char *dir, const char *file, const char *val, struct ctr_error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        int r = ctr_write_file(p, val);
        if (r < 0)
                return ctr_err_sys(err, -r, "cgroup", "write %s=%s", file, val);
        return 0;
}

/* --- block I/O -------------------------------------------------------------------------- */

static int io_number(const char *v, bool size, uint64_t *ret)
{
        char *end;
        if (size)
                return ctr_parse_size(v, ret) < 0 || *ret == 0 ? -EINVAL : 0;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end || end == v || x == 0 || v[0] == '-')
                return -EINVAL;
        *ret = x;
        return 0;
}

int ctr_cgroup_io_parse(const char *spec, struct ctr_cg_io *ret, struct ctr_error *err)
{
        memset(ret, 0, sizeof(*ret));
        const char *colon = spec[0] == '/' ? strchr(spec, ':') : NULL;
        const char *opts;
        if (spec[0] == '/') {
                if (!colon)
                        return ctr_err(err, EINVAL, "io", "'%s' is not DEVICE:KEY=VALUE,...", spec);
                _cleanup_free_ char *dev = strndup(spec, colon - spec);
                struct stat st;
                if (stat(dev, &st) < 0)
                        return ctr_err_sys(err, errno, "io", "'%s'", dev);
                if (!S_ISBLK(st.st_mode))
                        return ctr_err(err, EINVAL, "io", "'%s' is not a block device", dev);
                ret->major = major(st.st_rdev);
                ret->minor = minor(st.st_rdev);
                opts = colon + 1;
        } else {
                int n = 0;
                if (sscanf(spec, "%u:%u:%n", &ret->major, &ret->minor, &n) != 2 || n == 0)
                        return ctr_err(err, EINVAL, "io", "'%s' is not MAJOR:MINOR:KEY=VALUE,... or /dev/PATH:KEY=VALUE,...",
                                       spec);
                opts = spec + n;
        }
        if (!*opts)
                return ctr_err(err, EINVAL, "io", "'%s' sets no limit (rbps, wbps, riops, wiops, weight)", spec);
        _cleanup_free_ char *copy = xstrdup(opts);
        char *save = NULL;
        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                uint64_t v;
                if (!eq)
                        return ctr_err(err, EINVAL, "io", "'%s': '%s' is not KEY=VALUE", spec, kv);
                *eq = 0;
                const char *val = eq + 1;
                bool size = !strcmp(kv, "rbps") || !strcmp(kv, "wbps");
                if (!size && strcmp(kv, "riops") && strcmp(kv, "wiops") && strcmp(kv, "weight"))
                        return ctr_err(err, EINVAL, "io", "'%s': unknown key '%s' (rbps, wbps, riops, wiops, weight)",
                                       spec, kv);
                if (io_number(val, size, &v) < 0)
                        return ctr_err(err, EINVAL, "io", "'%s': %s=%s is not %s", spec, kv, val,
                                       size ? "a size (like 50M)" : "a positive number");
                if (!strcmp(kv, "rbps"))
                        ret->rbps = v;
                else if (!strcmp(kv, "wbps"))
                        ret->wbps = v;
                else if (!strcmp(kv, "riops"))
                        ret->riops = v;
                else if (!strcmp(kv, "wiops"))
                        ret->wiops = v;
                else if (v > 10000)
                        return ctr_err(err, ERANGE, "io", "'%s': weight %llu is outside 1-10000", spec,
                                       (unsigned long long)v);
                else
                        ret->weight = v;
        }
        return 0;
}

void ctr_cgroup_io_format(const struct ctr_cg_io *io, char *buf, size_t len)
{
        size_t n = snprintf(buf, len, "%u:%u:", io->major, io->minor);
        const char *names[] = {"rbps", "wbps", "riops", "wiops", "weight"};
        uint64_t vals[] = {io->rbps, io->wbps, io->riops, io->wiops, io->weight};
        const char *sep = "";
        for (size_t i = 0; i < ARRAY_SIZE(vals) && n < len; i++) {
                if (!vals[i])
                        continue;
                char v[32];
                if (i < 2)
                        ctr_format_size(vals[i], v, sizeof(v));
                else
                        snprintf(v, sizeof(v), "%llu", (unsigned long long)vals[i]);
                n += snprintf(buf + n, len - n, "%s%s=%s", sep, names[i], v);
                sep = ",";
        }
}

void ctr_cgroup_io_max_line(const struct ctr_cg_io *io, char *buf, size_t len)
{
        char v[4][24];
        uint64_t vals[] = {io->rbps, io->wbps, io->riops, io->wiops};
        for (size_t i = 0; i < 4; i++) {
                if (vals[i])
                        snprintf(v[i], sizeof(v[i]), "%llu", (unsigned long long)vals[i]);
                else
                        strcpy(v[i], "max");
        }
        snprintf(buf, len, "%u:%u rbps=%s wbps=%s riops=%s wiops=%s", io->major, io->minor, v[0], v[1], v[2], v[3]);
}

static int write_limit(const char *dir, const char *file, const char *val, struct ctr_error *err);

/* io.max always; io.weight only when asked (weight_changed), since per-device weights need a
 * weight-based policy on the device and are refused without one. */
static int write_io(const char *path, const struct ctr_cg_io *io, bool weight_changed, struct ctr_error *err)
{
        char line[160];
        ctr_cgroup_io_max_line(io, line, sizeof(line));
        int r = write_limit(path, "io.max", line, err);
        if (r >= 0 && weight_changed) {
                snprintf(line, sizeof(line), "%u:%u %u", io->major, io->minor, io->weight ? io->weight : 100);
                r = write_limit(path, "io.weight", line, err);
        }
        return r;
}

static const struct ctr_cg_io *find_io(const struct ctr_cg_limits *l, unsigned major, unsigned minor)
{
        for (size_t i = 0; i < l->n_io; i++)
                if (l->io[i].major == major && l->io[i].minor == minor)
                        return &l->io[i];
        return NULL;
}

int ctr_cgroup_apply_limits(const char *path, const struct ctr_cg_limits *l, struct ctr_error *err)
{
        char buf[64];
        int r = 0;
        if (l->memory) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)l->memory);
                r = write_limit(path, "memory.max", buf, err);
        }
        if (r >= 0 && l->memory_high) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)l->memory_high);
                r = write_limit(path, "memory.high", buf, err);
        }
        if (r >= 0 && l->cpus > 0) {
                snprintf(buf, sizeof(buf), "%llu 100000", (unsigned long long)(l->cpus * 100000.0 + 0.5));
                r = write_limit(path, "cpu.max", buf, err);
        }
        if (r >= 0 && l->cpu_weight) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)l->cpu_weight);
                r = write_limit(path, "cpu.weight", buf, err);
        }
        if (r >= 0 && l->pids) {
                snprintf(buf, sizeof(buf), "%lld", (long long)l->pids);
                r = write_limit(path, "pids.max", buf, err);
        }
        if (r >= 0 && l->memory_swap) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)l->memory_swap);
                r = write_limit(path, "memory.swap.max", buf, err);
        }
        if (r >= 0 && l->cpuset[0])
                r = write_limit(path, "cpuset.cpus", l->cpuset, err);
        if (r >= 0 && l->cpuset_mems[0])
                r = write_limit(path, "cpuset.mems", l->cpuset_mems, err);
        for (size_t i = 0; r >= 0 && i < l->n_io; i++)
                r = write_io(path, &l->io[i], l->io[i].weight != 0, err);
        return r;
}

int ctr_cgroup_update_limits(const struct ctr_cg_host *h, const char *path, const struct ctr_cg_limits *old,
                             const struct ctr_cg_limits *new, struct ctr_error *err)
{
        char buf[64];
        int r = ctr_cgroup_check_limits(h, new, err);
        if (r < 0)
                return r;
        /* A controller first asked for now must be enabled on the way down to the container:
         * from the root through ctr.slice, or in the delegated cgroup only. */
        _cleanup_free_ char *parent = xstrdup(path);
        *strrchr(parent, '/') = 0;
        _cleanup_free_ char *slice = xasprintf("%s/" CTR_CGROUP_PARENT, h->mount);
        if (!strcmp(parent, slice))
                r = enable_controllers(h, h->mount, new, err);
        if (r >= 0)
                r = enable_controllers(h, parent, new, err);
        if (r < 0)
                return r;
        if (new->memory != old->memory) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)new->memory);
                r = write_limit(path, "memory.max", new->memory ? buf : "max", err);
        }
        if (r >= 0 && new->memory_high != old->memory_high) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)new->memory_high);
                r = write_limit(path, "memory.high", new->memory_high ? buf : "max", err);
        }
        if (r >= 0 && new->cpus != old->cpus) {
                snprintf(buf, sizeof(buf), "%llu 100000", (unsigned long long)(new->cpus * 100000.0 + 0.5));
                r = write_limit(path, "cpu.max", new->cpus > 0 ? buf : "max 100000", err);
        }
        if (r >= 0 && new->cpu_weight != old->cpu_weight) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(new->cpu_weight ? new->cpu_weight : 100));
                r = write_limit(path, "cpu.weight", buf, err);
        }
        if (r >= 0 && new->pids != old->pids) {
                snprintf(buf, sizeof(buf), "%lld", (long long)new->pids);
                r = write_limit(path, "pids.max", new->pids ? buf : "max", err);
        }
        if (r >= 0 && new->memory_swap != old->memory_swap) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)new->memory_swap);
                r = write_limit(path, "memory.swap.max", new->memory_swap ? buf : "max", err);
        }
        if (r >= 0 && strcmp(new->cpuset, old->cpuset)) {
                if (new->cpuset[0])
                        r = write_limit(path, "cpuset.cpus", new->cpuset, err);
                else {
                        /* Cleared: every CPU the parent has. (An empty list would mean the same,
                         * but kernels refuse it, ENOSPC, while the cgroup holds tasks.) */
                        _cleanup_free_ char *eff = xasprintf("%s/cpuset.cpus.effective", parent);
                        _cleanup_free_ char *cpus = NULL;
                        r = ctr_read_file(eff, 4096, &cpus, NULL);
                        if (r < 0)
                                return ctr_err_sys(err, -r, "cgroup", "read %s", eff);
                        cpus[strcspn(cpus, "\n")] = 0;
                        r = write_limit(path, "cpuset.cpus", cpus, err);
                }
        }
        if (r >= 0 && strcmp(new->cpuset_mems, old->cpuset_mems)) {
                _cleanup_free_ char *eff = xasprintf("%s/cpuset.mems.effective", parent);
                _cleanup_free_ char *mems = NULL;
                if (!new->cpuset_mems[0]) {
                        r = ctr_read_file(eff, 4096, &mems, NULL);
                        if (r < 0)
                                return ctr_err_sys(err, -r, "cgroup", "read %s", eff);
                        mems[strcspn(mems, "\n")] = 0;
                }
                r = write_limit(path, "cpuset.mems", new->cpuset_mems[0] ? new->cpuset_mems : mems, err);
        }
        for (size_t i = 0; r >= 0 && i < new->n_io; i++) {
                const struct ctr_cg_io *o = find_io(old, new->io[i].major, new->io[i].minor);
                if (!o || memcmp(o, &new->io[i], sizeof(*o)))
                        r = write_io(path, &new->io[i], (o ? o->weight : 0) != new->io[i].weight, err);
        }
        for (size_t i = 0; r >= 0 && i < old->n_io; i++)
                if (!find_io(new, old->io[i].major, old->io[i].minor)) {
                        /* Dropped: back to no limit and the default weight. */
                        struct ctr_cg_io none = {.major = old->io[i].major, .minor = old->io[i].minor};
                        r = write_io(path, &none, old->io[i].weight != 0, err);
                }
        return r;
}

/* mkdir parent/leaf, enable the controllers on the way down (ups: the directories whose
 * subtree_control must offer them), apply the limits, open it for CLONE_INTO_CGROUP. */
static int create_leaf(const struct ctr_cg_host *h, const char *parent, const char *leaf, const char *const *ups,
                       bool rmdir_parent, const struct ctr_cg_limits *l, char **ret_path, int *ret_fd,
                       struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", parent, leaf);
        int r = ctr_cgroup_check_limits(h, l, err);
        if (r < 0)
                return r;
        /* Another container's teardown may rmdir the shared parent between our two mkdirs. */
        for (int attempt = 0;; attempt++) {
                if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                        return ctr_err_sys(err, errno, "cgroup", "create %s", parent);
                if (mkdir(path, 0755) == 0)
                        break;
                if (errno == EEXIST) {
                        if (ctr_cgroup_populated(path))
                                return ctr_err(err, EBUSY, "cgroup", "%s already exists and holds processes", path);
                        break;
                }
                if (errno != ENOENT || attempt > 20)
                        return ctr_err_sys(err, errno, "cgroup", "create %s", path);
        }
        for (size_t i = 0; r >= 0 && ups[i]; i++)
                r = enable_controllers(h, ups[i], l, err);
        if (r >= 0)
                r = ctr_cgroup_apply_limits(path, l, err);
        if (r < 0) {
                rmdir(path);
                if (rmdir_parent)
                        rmdir(parent);
                return r;
        }
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = ctr_err_sys(err, errno, "cgroup", "open %s", path);
                rmdir(path);
                return r;
        }
        *ret_fd = fd;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int ctr_cgroup_create(const struct ctr_cg_host *h, const char *leaf, const struct ctr_cg_limits *l,
                      char **ret_path, int *ret_fd, struct ctr_error *err)
{
        _cleanup_free_ char *parent = xasprintf("%s/" CTR_CGROUP_PARENT, h->mount);
        const char *ups[] = {h->mount, parent, NULL};
        return create_leaf(h, parent, leaf, ups, true, l, ret_path, ret_fd, err);
}

int ctr_cgroup_create_path(const struct ctr_cg_host *h, const char *rel, const struct ctr_cg_limits *l,
                           char **ret_path, int *ret_fd, struct ctr_error *err)
{
        while (*rel == '/')
                rel++;
        if (!*rel || strstr(rel, "..") || strstr(rel, "//"))
                return ctr_err(err, EINVAL, "cgroup", "'%s' is not a cgroup path below the root", rel);
        _cleanup_free_ char *parent = xasprintf("%s/%s", h->mount, rel);
        char *leaf = strrchr(parent, '/');
        *leaf++ = 0;
        /* Every ancestor, from the root down, enables what the limits need for its child. */
        size_t n = 1;
        for (const char *c = rel; *c; c++)
                n += *c == '/';
        _cleanup_free_ char **ups = calloc(n + 1, sizeof(char *));
        if (!ups)
                abort();
        ups[0] = xstrdup(h->mount);
        size_t k = 1;
        for (char *c = parent + strlen(h->mount) + 1; k < n; c++)
                if (*c == '/' || !*c) {
                        ups[k++] = strndup(parent, (size_t)(c - parent));
                        if (!*c)
                                break;
                }
        int r = 0;
        for (size_t i = 1; i < k && r == 0; i++)
                if (mkdir(ups[i], 0755) < 0 && errno != EEXIST)
                        r = ctr_err_sys(err, errno, "cgroup", "create %s", ups[i]);
        leaf = xstrdup(leaf);
        if (r == 0)
                r = create_leaf(h, parent, leaf, (const char *const *)ups, false, l, ret_path, ret_fd, err);
        free(leaf);
        for (size_t i = 0; i < k; i++)
                free(ups[i]);
        return r;
}

static bool has_delegate_xattr(const char *path)
{
        char v[8];
        const char *names[] = {"trusted.delegate", "user.delegate"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                ssize_t n = getxattr(path, names[i], v, sizeof(v) - 1);
                if (n > 0) {
                        v[n] = 0;
                        if (!strcmp(v, "1"))
                                return true;
                }
        }
        return false;
}

char *ctr_cgroup_delegated(const struct ctr_cg_host *h)
{
        _cleanup_free_ char *text = NULL;
        if (ctr_read_file("/proc/self/cgroup", 1 << 16, &text, NULL) < 0)
                return NULL;
        char *line = strstr(text, "0::/");
        if (!line || (line != text && line[-1] != '\n'))
                return NULL;
        line += 3;
        line[strcspn(line, "\n")] = 0;
        /* Already moved aside by an earlier start in this unit: the delegation is one up. */
        char *tail = strrchr(line, '/');
        if (tail && !strcmp(tail + 1, CTR_CGROUP_DELEGATED_MONITOR))
                *tail = 0;
        if (!strcmp(line, "/") || !*line)
                return NULL;
        char *path = xasprintf("%s%s", h->mount, line);
        if (!has_delegate_xattr(path)) {
                free(path);
                return NULL;
        }
        return path;
}

int ctr_cgroup_create_delegated(const struct ctr_cg_host *h, const char *delegated, const struct ctr_cg_limits *l,
                                char **ret_path, int *ret_fd, struct ctr_error *err)
{
        _cleanup_free_ char *mon = xasprintf("%s/" CTR_CGROUP_DELEGATED_MONITOR, delegated);
        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", mon);
        _cleanup_free_ char *avail = NULL, *cf = xasprintf("%s/cgroup.controllers", delegated);
        char pid[16];
        if (mkdir(mon, 0755) < 0 && errno != EEXIST)
                return ctr_err_sys(err, errno, "cgroup", "create %s", mon);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        int r = ctr_write_file(procs, pid);
        if (r < 0)
                return ctr_err_sys(err, -r, "cgroup", "move the monitor into %s", mon);
        /* What may be limited is what the delegation offers, not what the root has. */
        struct ctr_cg_host d = *h;
        if (ctr_read_file(cf, 4096, &avail, NULL) == 0) {
                avail[strcspn(avail, "\n")] = 0;
                snprintf(d.controllers, sizeof(d.controllers), "%s", avail);
        } else
                d.controllers[0] = 0;
        const char *ups[] = {delegated, NULL};
        return create_leaf(&d, delegated, CTR_CGROUP_DELEGATED_PAYLOAD, ups, false, l, ret_path, ret_fd, err);
}

/* One value of an OCI update: a file the cgroup lacks is skipped unless strict. */
static int update_put(const char *dir, const char *file, const char *val, bool strict, struct ctr_error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        if (access(p, F_OK) < 0) {
                if (!strict)
                        return 0;
                char ctl[32];
                snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(file, "."), file);
                return ctr_err(err, EOPNOTSUPP, "cgroup", "the %s controller is not enabled for %s", ctl, dir);
        }
        return write_limit(dir, file, val, err);
}

static void num_or_max(int64_t v, char *buf, size_t len)
{
        if (v < 0)
                snprintf(buf, len, "max");
        else
                snprintf(buf, len, "%lld", (long long)v);
}

/* The first or second word of a file ("max 100000" in cpu.max), or def. */
static void word_of(const char *dir, const char *file, int n, const char *def, char *buf, size_t len)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *t = NULL;
        char w[2][32] = {"", ""};
        snprintf(buf, len, "%s", def);
        if (ctr_read_file(p, 256, &t, NULL) == 0 && sscanf(t, "%31s %31s", w[0], w[1]) >= n + 1)
                snprintf(buf, len, "%s", w[n]);
}

int ctr_cgroup_update_oci(const char *path, const struct ctr_cg_v1 *v, bool strict, struct ctr_error *err)
{
        char b[64];
        int r = 0;
        if (v->memory_swap > 0) {
                /* v2's swap limit is swap alone: memory+swap less the memory limit. */
                int64_t mem = v->memory_limit;
                if (!mem) {
                        word_of(path, "memory.max", 0, "max", b, sizeof(b));
                        mem = strcmp(b, "max") ? strtoll(b, NULL, 10) : -1;
                }
                if (mem <= 0)
                        return ctr_err(err, EINVAL, "cgroup", "a memory+swap limit needs a memory limit");
                if (v->memory_swap < mem)
                        return ctr_err(err, EINVAL, "cgroup", "memory+swap limit %lld is below the memory limit %lld",
                                       (long long)v->memory_swap, (long long)mem);
        }
        if (v->memory_limit) {
                num_or_max(v->memory_limit, b, sizeof(b));
                r = update_put(path, "memory.max", b, strict, err);
        }
        if (r >= 0 && v->memory_reservation) {
                num_or_max(v->memory_reservation, b, sizeof(b));
                r = update_put(path, "memory.low", b, strict, err);
        }
        if (r >= 0 && v->memory_swap) {
                int64_t mem = v->memory_limit;
                if (v->memory_swap > 0 && !mem) {
                        word_of(path, "memory.max", 0, "max", b, sizeof(b));
                        mem = strtoll(b, NULL, 10);
                }
                num_or_max(v->memory_swap < 0 ? -1 : v->memory_swap - mem, b, sizeof(b));
                r = update_put(path, "memory.swap.max", b, strict, err);
        }
        if (r >= 0 && v->cpu_shares) {
                uint64_t sh = v->cpu_shares < 2 ? 2 : v->cpu_shares > 262144 ? 262144 : v->cpu_shares;
                snprintf(b, sizeof(b), "%llu", (unsigned long long)(1 + (sh - 2) * 9999 / 262142));
                r = update_put(path, "cpu.weight", b, strict, err);
        }
        if (r >= 0 && (v->cpu_quota || v->cpu_period)) {
                char q[32], per[32];
                if (v->cpu_quota)
                        num_or_max(v->cpu_quota, q, sizeof(q));
                else
                        word_of(path, "cpu.max", 0, "max", q, sizeof(q));
                if (v->cpu_period)
                        snprintf(per, sizeof(per), "%llu", (unsigned long long)v->cpu_period);
                else
                        word_of(path, "cpu.max", 1, "100000", per, sizeof(per));
                snprintf(b, sizeof(b), "%s %s", q, per);
                r = update_put(path, "cpu.max", b, strict, err);
        }
        if (r >= 0 && *v->cpus)
                r = update_put(path, "cpuset.cpus", v->cpus, strict, err);
        if (r >= 0 && *v->mems)
                r = update_put(path, "cpuset.mems", v->mems, strict, err);
        if (r >= 0 && v->pids_limit) {
                num_or_max(v->pids_limit, b, sizeof(b));
                r = update_put(path, "pids.max", b, strict, err);
        }
        if (r >= 0 && v->blkio_weight) {
                /* BFQ takes blkio's 10..1000 as is; io.weight is 1..10000. */
                _cleanup_free_ char *bfq = xasprintf("%s/io.bfq.weight", path);
                if (access(bfq, F_OK) == 0) {
                        snprintf(b, sizeof(b), "%u", (unsigned)v->blkio_weight);
                        r = update_put(path, "io.bfq.weight", b, strict, err);
                } else {
                        unsigned w = v->blkio_weight < 10 ? 10 : v->blkio_weight;
                        snprintf(b, sizeof(b), "%u", 1 + (w - 10) * 9999 / 990);
                        r = update_put(path, "io.weight", b, strict, err);
                }
        }
        return r < 0 ? r : 0;
}

bool ctr_cgroup_path_ours(const struct ctr_cg_host *h, const char *path)
{
        /* A container under a delegation: DELEGATED/ctr-payload, DELEGATED marked delegated. */
        size_t mlen = strlen(h->mount), plen = path ? strlen(path) : 0, tlen = strlen("/" CTR_CGROUP_DELEGATED_PAYLOAD);
        if (path && plen > mlen + tlen && !strncmp(path, h->mount, mlen) && path[mlen] == '/' &&
            !strcmp(path + plen - tlen, "/" CTR_CGROUP_DELEGATED_PAYLOAD) && !strstr(path, "/../") &&
            !strstr(path, "/./")) {
                _cleanup_free_ char *parent = strndup(path, plen - tlen);
                return has_delegate_xattr(parent);
        }
        _cleanup_free_ char *prefix = xasprintf("%s/" CTR_CGROUP_PARENT "/", h->mount);
        size_t n = strlen(prefix);
        if (!path || strncmp(path, prefix, n))
                return false;
        const char *leaf = path + n;
        return *leaf && strcmp(leaf, ".") && strcmp(leaf, "..") && !strchr(leaf, '/');
}

int ctr_cgroup_enter(const char *path, pid_t pid, struct ctr_error *err)
{
        char buf[32];
        _cleanup_free_ char *p = xasprintf("%s/cgroup.procs", path);
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        int r = ctr_write_file(p, buf);
        if (r < 0)
                return ctr_err_sys(err, -r, "cgroup", "move pid %d into %s", (int)pid, path);
        return 0;
}

int ctr_cgroup_chown(const char *path, uid_t uid, gid_t gid, struct ctr_error *err)
{
        /* The kernel names the files a delegatee may write (cgroup.procs, cgroup.threads,
         * cgroup.subtree_control, memory.oom.group, ...); older kernels lack the list. */
        _cleanup_free_ char *list = NULL;
        if (ctr_read_file("/sys/kernel/cgroup/delegate", 4096, &list, NULL) < 0)
                list = xstrdup("cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
        if (chown(path, uid, gid) < 0)
                return ctr_err_sys(err, errno, "cgroup", "give %s to %u:%u", path, (unsigned)uid, (unsigned)gid);
        for (char *save = NULL, *f = strtok_r(list, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *fp = xasprintf("%s/%s", path, f);
                if (chown(fp, uid, gid) < 0 && errno != ENOENT)
                        return ctr_err_sys(err, errno, "cgroup", "give %s to %u:%u", fp, (unsigned)uid, (unsigned)gid);
        }
        return 0;
}

/* Read "key value" from cgroup.events. -1 when unreadable. */
static int events_value(const char *path, const char *key)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.events", path);
        _cleanup_free_ char *buf = NULL;
        size_t n = strlen(key);
        if (ctr_read_file(p, 4096, &buf, NULL) < 0)
                return -1;
        for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (!strncmp(line, key, n) && line[n] == ' ')
                        return atoi(line + n + 1);
        return -1;
}

bool ctr_cgroup_populated(const char *path)
{
        return events_value(path, "populated") == 1;
}

int ctr_cgroup_procs(const char *path, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.procs", path);
        _cleanup_free_ char *buf = NULL;
        int r = ctr_read_file(p, 1 << 22, &buf, NULL);
        if (r < 0)
                return r;
        size_t n = 0, cap = 16;
        pid_t *v = malloc(cap * sizeof(pid_t));
        if (!v)
                return -ENOMEM;
        for (char *s = strtok(buf, "\n"); s; s = strtok(NULL, "\n")) {
                if (n == cap) {
                        cap *= 2;
                        pid_t *nv = realloc(v, cap * sizeof(pid_t));
                        if (!nv) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = nv;
                }
                v[n++] = atoi(s);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int ctr_cgroup_kill(const char *path, struct ctr_error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.kill", path);
        int r = ctr_write_file(p, "1");
        if (r == 0 || access(path, F_OK) < 0)
                return 0;
        /* No cgroup.kill (kernel < 5.14): freeze so nothing forks, kill each, thaw. */
        ctr_cgroup_freeze(path, true, 1000, NULL);
        pid_t *pids = NULL;
        size_t n = 0;
        r = ctr_cgroup_procs(path, &pids, &n);
        if (r < 0) {
                ctr_cgroup_freeze(path, false, 1000, NULL);
                return r == -ENOENT ? 0 : ctr_err_sys(err, -r, "cgroup", "read %s/cgroup.procs", path);
        }
        for (size_t i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        free(pids);
        ctr_cgroup_freeze(path, false, 1000, NULL);
        return 0;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Wait until cgroup.events shows key == want, polling the file (it signals POLLPRI on change). */
static int wait_events(const char *path, const char *key, int want, int timeout_ms)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.events", path);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        uint64_t deadline = ctr_now_ms() + timeout_ms;
        for (;;) {
                int v = events_value(path, key);
                if (v == want)
                        return 0;
                if (v < 0)
                        return -ENOENT;
                uint64_t now = ctr_now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                if (fd >= 0) {
                        struct pollfd pfd = {.fd = fd, .events = POLLPRI};
                        int left = deadline - now;
                        poll(&pfd, 1, left < 50 ? left : 50);
                } else
                        sleep_ms(10);
        }
}

int ctr_cgroup_freeze(const char *path, bool freeze, int timeout_ms, struct ctr_error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.freeze", path);
        int r = ctr_write_file(p, freeze ? "1" : "0");
        if (r < 0)
                return ctr_err_sys(err, -r, "cgroup", "write %s", p);
        r = wait_events(path, "frozen", freeze ? 1 : 0, timeout_ms);
        if (r < 0)
                return ctr_err_sys(err, -r, "cgroup", "%s did not %s", path, freeze ? "freeze" : "thaw");
        return 0;
}

/* Remove the cgroups a manager inside created (systemd's init.scope and slices), deepest first.
 * Only directories: cgroupfs has no other removable entries. */
static int remove_children(int dirfd, int depth)
{
        if (depth > 64)
                return -ELOOP;
        DIR *d = fdopendir(dirfd);
        if (!d) {
                close(dirfd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                int q = remove_children(fd, depth + 1);
                if (q >= 0 && unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        q = -errno;
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

int ctr_cgroup_remove(const char *path, int timeout_ms, struct ctr_error *err)
{
        if (access(path, F_OK) < 0)
                return 0;
        int r = wait_events(path, "populated", 0, timeout_ms);
        if (r == -ETIMEDOUT)
                return ctr_err(err, EBUSY, "cgroup", "%s still holds processes after %d ms", path, timeout_ms);
        /* Exiting tasks can keep the directory busy for a moment after populated drops. */
        uint64_t deadline = ctr_now_ms() + timeout_ms;
        for (;;) {
                int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        remove_children(fd, 0);
                if (rmdir(path) == 0)
                        break;
                if (errno == ENOENT)
                        break;
                if (errno != EBUSY || ctr_now_ms() >= deadline)
                        return ctr_err_sys(err, errno, "cgroup", "remove %s", path);
                sleep_ms(5);
        }
        _cleanup_free_ char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        if (slash) {
                *slash = 0;
                const char *base = strrchr(parent, '/');
                if (base && !strcmp(base + 1, CTR_CGROUP_PARENT))
                        rmdir(parent); /* fails harmlessly while other containers use it */
        }
        return 0;
}

int ctr_cgroup_keyed(const char *text, const char *key, uint64_t *ret)
{
        size_t n = strlen(key);
        for (const char *line = text; line && *line;) {
                if (!strncmp(line, key, n) && line[n] == ' ') {
                        *ret = strtoull(line + n + 1, NULL, 10);
                        return 0;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return -ENOENT;
}

/* A single-value file: a number, or "max". */
static int read_value(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        _cleanup_free_ char *buf = NULL;
        int r = ctr_read_file(p, 4096, &buf, NULL);
        if (r < 0)
                return r;
        *ret = !strncmp(buf, "max", 3) ? UINT64_MAX : strtoull(buf, NULL, 10);
        return 0;
}

static char *read_text(const char *dir, const char *file)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        char *buf = NULL;
        return ctr_read_file(p, 1 << 16, &buf, NULL) < 0 ? NULL : buf;
}

int ctr_cgroup_stats(const char *path, struct ctr_cg_stats *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (access(path, F_OK) < 0)
                return -errno;
        if (read_value(path, "memory.current", &ret->memory_current) == 0) {
                ret->has_memory = true;
                read_value(path, "memory.peak", &ret->memory_peak);
                read_value(path, "memory.max", &ret->memory_max);
                _cleanup_free_ char *ev = read_text(path, "memory.events");
                if (ev) {
                        ctr_cgroup_keyed(ev, "oom", &ret->oom);
                        ctr_cgroup_keyed(ev, "oom_kill", &ret->oom_kill);
                }
        }
        _cleanup_free_ char *cpu = read_text(path, "cpu.stat");
        if (cpu && ctr_cgroup_keyed(cpu, "usage_usec", &ret->usage_usec) == 0) {
                ret->has_cpu = true;
                ctr_cgroup_keyed(cpu, "user_usec", &ret->user_usec);
                ctr_cgroup_keyed(cpu, "system_usec", &ret->system_usec);
                ctr_cgroup_keyed(cpu, "nr_periods", &ret->nr_periods);
                ctr_cgroup_keyed(cpu, "nr_throttled", &ret->nr_throttled);
                ctr_cgroup_keyed(cpu, "throttled_usec", &ret->throttled_usec);
        }
        if (read_value(path, "pids.current", &ret->pids_current) == 0) {
                ret->has_pids = true;
                read_value(path, "pids.max", &ret->pids_max);
        }
        _cleanup_free_ char *io = read_text(path, "io.stat");
        if (io) {
                ret->has_io = true;
                /* "MAJ:MIN rbytes=N wbytes=N rios=N ...", one line per device. */
                for (char *t = strtok(io, " \n"); t; t = strtok(NULL, " \n")) {
                        if (!strncmp(t, "rbytes=", 7))
                                ret->io_rbytes += strtoull(t + 7, NULL, 10);
                        else if (!strncmp(t, "wbytes=", 7))
                                ret->io_wbytes += strtoull(t + 7, NULL, 10);
                }
        }
        return 0;
}

int ctr_cgroup_stats_all(const char *path, const char *v1_rel, struct ctr_cg_stats *ret)
{
        int r = ctr_cgroup_stats(path, ret);
        if (r == 0)
                ctr_cgroup_v1_stats(v1_rel, ret);
        return r;
}
