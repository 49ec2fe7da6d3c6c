/* The OCI runtime's lifecycle: create (namespaces, cgroup, mounts from config.json, hooks, the
 * process waiting on ROOT/ID/exec.fifo), start, state, kill, delete, exec, pause, ps, list. */
#define _GNU_SOURCE
#include "oci.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../rootfs/rootfs.h"
#include "../base/json.h"
#include "../security/seccomp.h"
#include "spawn.h"
#include "../base/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define OCI_VERSION "1.2.0"

bool ctr_oci_id_valid(const char *id)
{
        size_t n = strlen(id);
        if (!n || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
                return false;
        for (const char *c = id; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr("_+-.", *c)))
                        return false;
        return true;
}

static void kv_str(struct ctr_json_gen *g, const char *k, const char *v)
{
        ctr_json_key_(g, k);
        ctr_json_str(g, v);
}

static void kv_int(struct ctr_json_gen *g, const char *k, int64_t v)
{
        ctr_json_key_(g, k);
        ctr_json_int_(g, v);
}

static void kv_bool(struct ctr_json_gen *g, const char *k, bool v)
{
        ctr_json_key_(g, k);
        ctr_json_boolean(g, v);
}

static void kv_strs(struct ctr_json_gen *g, const char *k, const char *const *v, size_t n)
{
        ctr_json_key_(g, k);
        ctr_json_arr_open(g);
        for (size_t i = 0; i < n; i++)
                ctr_json_str(g, v[i]);
        ctr_json_arr_close(g);
}

/* --- on-disk state ------------------------------------------------------------------------- */

struct oci_state {
        char *id, *bundle, *rootfs, *created, *cgroup, *cgroup_v1; /* cgroup_v1: REL in the v1 hierarchies */
        pid_t pid;
        uint64_t start;
        bool shared_mntns; /* no mount namespace of its own: its mounts are in ours */
};

static void oci_state_free(struct oci_state *s)
{
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->cgroup);
        free(s->cgroup_v1);
        *s = (struct oci_state){0};
}

static char *dir_of(const struct ctr_oci *o, const char *id)
{
        return xasprintf("%s/%s", o->root, id);
}

static int save_state(const struct ctr_oci *o, const struct oci_state *s, struct ctr_error *err)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        kv_str(g, "id", s->id);
        kv_int(g, "pid", s->pid);
        kv_int(g, "start_time", (int64_t)s->start);
        kv_str(g, "bundle", s->bundle);
        kv_str(g, "rootfs", s->rootfs);
        kv_str(g, "created", s->created);
        kv_str(g, "cgroup", s->cgroup);
        kv_str(g, "cgroup_v1", s->cgroup_v1);
        ctr_json_key_(g, "shared_mntns");
        ctr_json_boolean(g, s->shared_mntns);
        ctr_json_obj_close(g);
        size_t len;
        const char *text = ctr_json_gen_text(g, &len);
        _cleanup_free_ char *path = xasprintf("%s/%s/state.json", o->root, s->id);
        int r = ctr_write_atomic(path, text, len, 0600);
        return r < 0 ? ctr_err_sys(err, -r, "state", "write %s", path) : 0;
}

static int load_state(const struct ctr_oci *o, const char *id, struct oci_state *s, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s/state.json", o->root, id), *text = NULL;
        _cleanup_json_ ctr_json *doc = NULL;
        *s = (struct oci_state){0};
        if (!ctr_oci_id_valid(id))
                return ctr_err(err, EINVAL, "container", "'%s' is not a valid container ID", id);
        int r = ctr_read_file(path, 1 << 20, &text, NULL);
        if (r == -ENOENT)
                return ctr_err(err, ENOENT, "container", "container does not exist"); /* runc's words: engines match them */
        if (r < 0)
                return ctr_err_sys(err, -r, "state", "read %s", path);
        if (ctr_json_parse(text, &doc, err) < 0)
                return -EINVAL;
        const ctr_json *v;
        s->id = xstrdup(id);
        char **strs[] = {&s->bundle, &s->rootfs, &s->created, &s->cgroup, &s->cgroup_v1};
        const char *keys[] = {"bundle", "rootfs", "created", "cgroup", "cgroup_v1"};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if ((v = ctr_json_get(doc, keys[i])) && ctr_json_type(v) == CTR_JSON_STRING)
                        *strs[i] = xstrdup(ctr_json_string(v));
        if ((v = ctr_json_get(doc, "pid")) && ctr_json_is_integer(v))
                s->pid = (pid_t)ctr_json_int(v);
        if ((v = ctr_json_get(doc, "start_time")) && ctr_json_is_integer(v))
                s->start = (uint64_t)ctr_json_int(v);
        if ((v = ctr_json_get(doc, "shared_mntns")) && ctr_json_type(v) == CTR_JSON_BOOL)
                s->shared_mntns = ctr_json_bool(v);
        if (!s->bundle || !s->pid) {
                oci_state_free(s);
                return ctr_err(err, EIO, "state", "%s is incomplete", path);
        }
        return 0;
}

/* The config as it was at create (ROOT/ID/config.json): later edits of the bundle's file must
 * not change a container that exists. */
static int load_spec(const struct ctr_oci *o, const struct oci_state *st, struct ctr_oci_spec *s, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s/config.json", o->root, st->id), *text = NULL;
        int r = ctr_read_file(path, 16 << 20, &text, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "state", "read %s", path);
        return ctr_oci_spec_parse(text, st->bundle, s, err);
}

static bool fifo_exists(const struct ctr_oci *o, const char *id)
{
        _cleanup_free_ char *f = xasprintf("%s/%s/exec.fifo", o->root, id);
        return access(f, F_OK) == 0;
}

static bool cgroup_frozen(const char *cg)
{
        _cleanup_free_ char *p = xasprintf("%s/cgroup.freeze", cg), *t = NULL;
        return cg && ctr_read_file(p, 64, &t, NULL) == 0 && t[0] == '1';
}

/* Exited but not yet reaped by the engine (its subreaper): stopped, as runc says. */
static bool proc_zombie(pid_t pid)
{
        char p[64];
        _cleanup_free_ char *t = NULL;
        snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        if (ctr_read_file(p, 4096, &t, NULL) < 0)
                return false;
        const char *close_paren = strrchr(t, ')');
        return close_paren && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

static const char *status_of(const struct ctr_oci *o, const struct oci_state *s)
{
        if (!ctr_proc_alive(s->pid, s->start) || proc_zombie(s->pid))
                return "stopped";
        if (fifo_exists(o, s->id))
                return "created";
        if (s->cgroup && cgroup_frozen(s->cgroup))
                return "paused";
        return "running";
}

static void gen_state(struct ctr_json_gen *g, const struct oci_state *s, const char *status, const ctr_json *ann)
{
        ctr_json_obj_open(g);
        kv_str(g, "ociVersion", OCI_VERSION);
        kv_str(g, "id", s->id);
        kv_str(g, "status", status);
        kv_int(g, "pid", strcmp(status, "stopped") ? s->pid : 0);
        kv_str(g, "bundle", s->bundle);
        kv_str(g, "rootfs", s->rootfs);
        kv_str(g, "created", s->created);
        ctr_json_key_(g, "annotations");
        ctr_json_obj_open(g);
        for (size_t i = 0; ann && i < ctr_json_len(ann); i++)
                if (ctr_json_type(ctr_json_at(ann, i)) == CTR_JSON_STRING) {
                        ctr_json_key_(g, ctr_json_key(ann, i));
                        ctr_json_str(g, ctr_json_string(ctr_json_at(ann, i)));
                }
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
}

static char *state_json(const struct oci_state *s, const char *status, const ctr_json *ann)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        gen_state(g, s, status, ann);
        return xstrdup(ctr_json_gen_text(g, NULL));
}

static int destroy(const struct ctr_oci *o, struct oci_state *st, struct ctr_error *err);
static void unmount_under(const char *rootfs);

/* --- hooks -------------------------------------------------------------------------------------- */

/* poststart and poststop: a failing hook is a warning, and the rest still run. */
static void run_hooks_warn(const struct ctr_spec_hook *hooks, size_t n, const char *state, const char *id,
                           const char *what)
{
        for (size_t i = 0; i < n; i++) {
                struct ctr_error e = {0};
                if (ctr_launch_hooks(&hooks[i], 1, state, -1, what, &e) < 0)
                        fprintf(stderr, "ctr: warning: %s: %s: %s\n", id, e.op, e.msg);
        }
}

/* --- the container's process -------------------------------------------------------------- */

static int connect_console(const char *path, struct ctr_error *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return ctr_err(err, ENAMETOOLONG, "console", "socket path %s is too long", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return ctr_err_sys(err, errno, "console", "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                close(fd);
                return ctr_err_sys(err, e, "console", "connect to %s", path);
        }
        return fd;
}

static char *resolve_source(const char *bundle, const char *src)
{
        return src[0] == '/' ? xstrdup(src) : xasprintf("%s/%s", bundle, src);
}

static bool has_mount(const struct ctr_oci_spec *s, const char *dst)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (!strcmp(s->mounts[i].destination, dst))
                        return true;
        return false;
}

/* config.json's mounts, devices, masked and read-only paths as a rootfs/ mount plan. */
static int build_plan(const struct ctr_oci_spec *s, const char *bundle, struct ctr_mount_plan *p, struct ctr_error *err)
{
        *p = (struct ctr_mount_plan){0};
        p->rootfs = xstrdup(s->root_path);
        /* Host mounts may still reach the container (rslave, runc's default); nothing made
         * inside goes back. A shared rootfs gets its propagation on the root mount below. */
        p->root_propagation = s->rootfs_propagation & MS_PRIVATE ? s->rootfs_propagation : MS_REC | MS_SLAVE;
        bool dev_tmpfs = false;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct ctr_oci_mount *m = &s->mounts[i];
                struct ctr_mnt_op *op;
                if (m->bind) {
                        _cleanup_free_ char *src = resolve_source(bundle, m->source);
                        op = ctr_rootfs_plan_add(p, CTR_MNT_BIND, src, m->destination);
                        op->flags = m->flags | (m->recursive ? MS_REC : 0);
                } else {
                        /* On a cgroup2 host a "cgroup" mount is the container's cgroup2 view. */
                        const char *type = !strcmp(m->type, "cgroup") ? "cgroup2" : m->type;
                        op = ctr_rootfs_plan_add(p, CTR_MNT_MOUNT, m->source ? m->source : type, m->destination);
                        op->fstype = xstrdup(type);
                        op->flags = m->flags;
                        op->data = m->data ? xstrdup(m->data) : NULL;
                        if (!strcmp(m->destination, "/dev") && !strcmp(type, "tmpfs"))
                                dev_tmpfs = true;
                }
                op->propagation = m->propagation;
        }
        /* runc's defaults on a fresh /dev: the standard nodes, the fd links, ptmx. */
        if (dev_tmpfs) {
                static const struct {
                        const char *name;
                        unsigned maj, min;
                } std[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
                for (size_t i = 0; i < ARRAY_SIZE(std); i++) {
                        char path[32];
                        snprintf(path, sizeof(path), "/dev/%s", std[i].name);
                        bool given = false;
                        for (size_t k = 0; k < s->n_devices; k++)
                                given |= !strcmp(s->devices[k].path, path);
                        if (given)
                                continue;
                        struct ctr_mnt_op *op = ctr_rootfs_plan_add(p, CTR_MNT_MKNOD, path, path);
                        op->mode = S_IFCHR | 0666;
                        op->dev = makedev(std[i].maj, std[i].min);
                }
                ctr_rootfs_plan_add(p, CTR_MNT_SYMLINK, "/proc/self/fd", "/dev/fd");
                ctr_rootfs_plan_add(p, CTR_MNT_SYMLINK, "/proc/self/fd/0", "/dev/stdin");
                ctr_rootfs_plan_add(p, CTR_MNT_SYMLINK, "/proc/self/fd/1", "/dev/stdout");
                ctr_rootfs_plan_add(p, CTR_MNT_SYMLINK, "/proc/self/fd/2", "/dev/stderr");
                if (!has_mount(s, "/dev/ptmx"))
                        ctr_rootfs_plan_add(p, CTR_MNT_SYMLINK, "pts/ptmx", "/dev/ptmx");
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct ctr_oci_device *d = &s->devices[i];
                struct ctr_mnt_op *op = ctr_rootfs_plan_add(p, CTR_MNT_MKNOD, d->path, d->path);
                op->mode = (d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR) | (d->mode & 07777);
                op->dev = makedev((unsigned)d->major, (unsigned)d->minor);
                op->chown = true;
                op->uid = d->uid;
                op->gid = d->gid;
        }
        for (char **k = s->sysctl; k && *k; k++) {
                char *eq = strchr(*k, '=');
                _cleanup_free_ char *path = strndup(*k, (size_t)(eq - *k));
                for (char *c = path; *c; c++)
                        if (*c == '.')
                                *c = '/';
                _cleanup_free_ char *target = xasprintf("/proc/sys/%s", path);
                struct ctr_mnt_op *op = ctr_rootfs_plan_add(p, CTR_MNT_WRITE, NULL, target);
                op->data = xstrdup(eq + 1);
        }
        for (char **m = s->masked_paths; m && *m; m++)
                ctr_rootfs_plan_add(p, CTR_MNT_MASK, NULL, *m)->optional = true;
        for (char **m = s->readonly_paths; m && *m; m++)
                ctr_rootfs_plan_add(p, CTR_MNT_READONLY, NULL, *m)->optional = true;
        if (s->root_readonly)
                ctr_rootfs_plan_add(p, CTR_MNT_READONLY, NULL, "/");
        return 0;
}

/* --- compiling the bundle --------------------------------------------------------------------- */

static int copy_hooks(const struct ctr_spec_hook *h, size_t n, struct ctr_spec_hook **ret, size_t *ret_n)
{
        *ret = n ? calloc(n, sizeof(**ret)) : NULL;
        if (n && !*ret)
                abort();
        for (size_t i = 0; i < n; i++)
                (*ret)[i] = (struct ctr_spec_hook){.path = xstrdup(h[i].path), .args = strv_copy(h[i].args),
                                                   .env = strv_copy(h[i].env), .timeout = h[i].timeout};
        *ret_n = n;
        return 0;
}

/* The process of a bundle (create) or of an exec request, compiled. Hard rlimits above what
 * this host lets us raise (engines ask for 1048576 open files) are capped here, with a warning
 * the caller prints: raising one takes CAP_SYS_RESOURCE in the host's user namespace. */
static int compile_process(const struct ctr_oci_spec *s, const struct ctr_oci_process *pr, bool userns, int fail_status,
                           struct ctr_spec *spec, struct ctr_error *err)
{
        struct ctr_spec_process *p = &spec->process;
        p->argv = strv_copy(pr->args);
        p->env = strv_copy(pr->env);
        p->cwd = xstrdup(pr->cwd && *pr->cwd ? pr->cwd : "/");
        p->uid = pr->uid;
        p->gid = pr->gid;
        if (pr->n_additional_gids) {
                p->groups = calloc(pr->n_additional_gids, sizeof(gid_t));
                if (!p->groups)
                        abort();
                memcpy(p->groups, pr->additional_gids, pr->n_additional_gids * sizeof(gid_t));
                p->n_groups = pr->n_additional_gids;
        }
        bool can_raise = !userns && ctr_caps_effective(CAP_SYS_RESOURCE);
        if (pr->n_rlimits && !(p->rlimits = calloc(pr->n_rlimits, sizeof(*p->rlimits))))
                abort();
        for (size_t i = 0; i < pr->n_rlimits; i++) {
                struct ctr_spec_rlimit *rl = &p->rlimits[p->n_rlimits++];
                *rl = (struct ctr_spec_rlimit){pr->rlimits[i].resource, pr->rlimits[i].soft, pr->rlimits[i].hard};
                struct rlimit cur;
                if (can_raise || getrlimit(rl->resource, &cur) < 0 || rl->hard <= cur.rlim_max)
                        continue;
                ctr_spec_warn(spec, "rlimit %d: hard limit %llu above this host's %llu, capped", rl->resource,
                              (unsigned long long)rl->hard, (unsigned long long)cur.rlim_max);
                rl->hard = cur.rlim_max;
                if (rl->soft > rl->hard)
                        rl->soft = rl->hard;
        }
        p->umask = pr->has_umask ? pr->umask : 022;
        if (pr->has_caps) {
                /* An ambient capability (runc's default config asks for some) can only be
                 * raised while permitted and inheritable: it is made both, within the bounding
                 * set. */
                ctr_capmask amb = pr->ambient & pr->bounding;
                p->bounding = pr->bounding;
                p->effective = pr->effective;
                p->permitted = pr->permitted | amb;
                p->inheritable = pr->inheritable | amb;
                p->ambient = amb;
        }
        p->no_new_privs = pr->no_new_privileges;
        p->shell_status = true;
        p->fail_status = fail_status;
        if (!s->seccomp)
                return 0;
        /* Compiled here, against the bounding set (Docker profiles condition rules on it). */
        struct ctr_seccomp_spec sc = {.profile = "unconfined", .object = s->seccomp, .caps = p->bounding};
        p->seccomp_desc = xstrdup("linux.seccomp of config.json");
        return ctr_seccomp_compile(&sc, &p->seccomp, err);
}

/* The bundle's container as a spec: its namespaces (made, or joined by path with a user
 * namespace first), its mounts, the hooks step, the root switch, the console socket, the
 * exec.fifo gate and the process. */
static int compile_create(const struct ctr_oci_spec *s, const struct ctr_oci_create_opts *opts, int fifofd, int console,
                          struct ctr_spec *spec, struct ctr_error *err)
{
        int r;
        ctr_spec_init(spec);
        spec->what = xstrdup("the container's process");
        spec->dumpable = true;
        uint64_t flags = 0;
        for (size_t i = 0; i < s->n_namespaces; i++) {
                const struct ctr_oci_namespace *ns = &s->namespaces[i];
                if (ns->type == 0x80)
                        return ctr_err(err, EOPNOTSUPP, "namespaces", "time namespaces are not supported");
                if (!ns->path) {
                        flags |= (uint64_t)ns->type;
                        continue;
                }
                int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return ctr_err_sys(err, errno, "namespaces", "open %s", ns->path);
                if (ns->type == CLONE_NEWPID) {
                        if (spec->pidns_fd >= 0)
                                close(spec->pidns_fd);
                        spec->pidns_fd = fd;
                        continue;
                }
                if (spec->n_joins == CTR_SPEC_MAX_JOINS) {
                        close(fd);
                        return ctr_err(err, EINVAL, "namespaces", "too many namespaces to join");
                }
                /* A user namespace is joined first: the others are owned by it. */
                size_t at = ns->type == CLONE_NEWUSER ? 0 : spec->n_joins;
                if (at == 0 && spec->n_joins) {
                        memmove(&spec->join_fds[1], &spec->join_fds[0], spec->n_joins * sizeof(int));
                        memmove(&spec->join_types[1], &spec->join_types[0], spec->n_joins * sizeof(int));
                }
                spec->join_fds[at] = fd;
                spec->join_types[at] = ns->type;
                spec->n_joins++;
        }
        /* Unshared by the child once it is in every cgroup, so that its root is its own there. */
        spec->new_cgroupns = flags & CLONE_NEWCGROUP;
        spec->clone_flags = flags & ~(uint64_t)CLONE_NEWCGROUP;
        spec->userns_root = flags & CLONE_NEWUSER;
        spec->hostname = s->hostname ? xstrdup(s->hostname) : NULL;
        spec->domainname = s->domainname ? xstrdup(s->domainname) : NULL;
        if ((r = build_plan(s, opts->bundle, &spec->plan, err)) < 0)
                return r;
        spec->has_plan = true;
        bool own_mntns = ctr_oci_spec_ns(s, CLONE_NEWNS) != NULL;
        spec->plan.shared_ns = !own_mntns;
        spec->hooks_step = true;
        spec->root = !own_mntns ? CTR_ROOT_CHROOT : opts->no_pivot ? CTR_ROOT_MOVE : CTR_ROOT_PIVOT;
        spec->root_path = xstrdup(s->root_path);
        if (s->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE))
                spec->root_propagation = s->rootfs_propagation;
        if (s->process.terminal && console >= 0) {
                spec->console = CTR_CONSOLE_SOCKET;
                spec->console_fd = console;
                spec->console_bind = true;
        }
        spec->fifo_fd = fifofd;
        copy_hooks(s->hooks[CTR_OCI_START_CONTAINER], s->n_hooks[CTR_OCI_START_CONTAINER], &spec->start_hooks,
                   &spec->n_start_hooks);
        spec->has_oom_score_adj = s->process.has_oom_score_adj;
        spec->oom_score_adj = s->process.oom_score_adj;
        spec->process.preserve_fds = opts->preserve_fds;
        spec->process.fail_status = 1;
        if (!s->has_process)
                return 0; /* nothing to run: the process ends once start opens the fifo */
        bool userns = ctr_oci_spec_ns(s, CLONE_NEWUSER) != NULL;
        return compile_process(s, &s->process, userns, 1, spec, err);
}

int ctr_oci_compile(const char *bundle, const struct ctr_oci_create_opts *opts, struct ctr_spec *ret,
                    struct ctr_error *err)
{
        struct ctr_oci_spec s = {0};
        ctr_spec_init(ret);
        int r = ctr_oci_spec_load(bundle, &s, err);
        if (r == 0) {
                struct ctr_oci_create_opts o = *opts;
                o.bundle = bundle;
                r = compile_create(&s, &o, -1, -1, ret, err);
        }
        ctr_oci_spec_free(&s);
        return r;
}

/* --- create ------------------------------------------------------------------------------------ */

char *ctr_oci_cgroup_rel(const char *cgroups_path, const char *id, bool systemd)
{
        if (!cgroups_path || !*cgroups_path)
                return xasprintf(CTR_CGROUP_PARENT "/oci-%s", id);
        if (systemd) {
                /* "slice:prefix:name" as runc maps it without a systemd to ask. */
                _cleanup_free_ char *c = xstrdup(cgroups_path);
                char *prefix = strchr(c, ':'), *name = prefix ? strchr(prefix + 1, ':') : NULL;
                if (name) {
                        *prefix++ = 0;
                        *name++ = 0;
                        return xasprintf("%s/%s%s%s.scope", *c ? c : "system.slice", prefix, *prefix ? "-" : "", name);
                }
        }
        if (cgroups_path[0] == '/')
                return xstrdup(cgroups_path + 1);
        return xasprintf(CTR_CGROUP_PARENT "/%s", cgroups_path);
}

static void now_rfc3339(char *buf, size_t len)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static int write_idmap(pid_t pid, const char *file, const struct ctr_oci_idmap *m, size_t n, struct ctr_error *err)
{
        char buf[4096] = "", path[64];
        for (size_t i = 0; i < n; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%u %u %u\n", m[i].container_id, m[i].host_id,
                         m[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        int r = ctr_write_file(path, buf);
        return r < 0 ? ctr_err_sys(err, -r, "user namespace", "write %s", file) : 0;
}

struct created {
        pid_t pid;
        int pidfd;
        char *cgroup;
};

struct create_launch {
        const struct ctr_oci_spec *spec;
        const struct ctr_spec *compiled;
        struct oci_state *st;
};

static void close_joins(struct ctr_spec *spec)
{
        for (size_t i = 0; i < spec->n_joins; i++)
                if (spec->join_fds[i] >= 0)
                        close(spec->join_fds[i]);
        spec->n_joins = 0;
        if (spec->pidns_fd >= 0)
                close(spec->pidns_fd);
        spec->pidns_fd = -1;
}

/* Warnings go to the caller, which prints them once (the library never prints). */
static void __attribute__((format(printf, 3, 4))) create_warn(const struct ctr_oci_create_opts *opts, const char *id,
                                                              const char *fmt, ...)
{
        if (!opts->warnings)
                return;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *w = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *line = xasprintf("%s: %s", id, w);
        strv_push(opts->warnings, line);
}

/* The child waits for GO: its id maps and OOM score are set from here. */
static int create_before_go(void *data, pid_t pid, int pidfd, int sock, struct ctr_error *err)
{
        struct create_launch *cl = data;
        const struct ctr_oci_spec *s = cl->spec;
        int r;
        cl->st->pid = pid;
        if (ctr_oci_spec_ns(s, CLONE_NEWUSER) && !ctr_oci_spec_ns(s, CLONE_NEWUSER)->path &&
            ((r = write_idmap(pid, "uid_map", s->uid_mappings, s->n_uid_mappings, err)) < 0 ||
             (r = write_idmap(pid, "gid_map", s->gid_mappings, s->n_gid_mappings, err)) < 0))
                return r;
        if (cl->compiled->has_oom_score_adj) {
                char p[64], v[16];
                snprintf(p, sizeof(p), "/proc/%d/oom_score_adj", (int)pid);
                snprintf(v, sizeof(v), "%d", cl->compiled->oom_score_adj);
                if ((r = ctr_write_file(p, v)) < 0)
                        return ctr_err_sys(err, -r, "oomScoreAdj", "write %s", p);
        }
        return 0;
}

/* HOOKS: the mounts are done, the create hooks run, and GO carries the child's host pid; READY:
 * it waits on the fifo. */
static int create_on_step(void *data, pid_t pid, int pidfd, int sock, const struct ctr_sync_msg *m, int *fd,
                          struct ctr_error *err)
{
        struct create_launch *cl = data;
        const struct ctr_oci_spec *s = cl->spec;
        if (m->step == CTR_SYNC_READY)
                return 1;
        if (m->step != CTR_SYNC_HOOKS)
                return ctr_err(err, EPROTO, "sync", "unexpected step %d from the container's process", (int)m->step);
        cl->st->start = ctr_proc_starttime(pid);
        _cleanup_free_ char *sj = state_json(cl->st, "creating", s->annotations);
        int r;
        if ((r = ctr_launch_hooks(s->hooks[CTR_OCI_CREATE_RUNTIME], s->n_hooks[CTR_OCI_CREATE_RUNTIME], sj, -1,
                           "createRuntime hook", err)) < 0 ||
            (r = ctr_launch_hooks(s->hooks[CTR_OCI_CREATE_CONTAINER], s->n_hooks[CTR_OCI_CREATE_CONTAINER], sj, pidfd,
                           "createContainer hook", err)) < 0)
                return r;
        /* startContainer hooks run inside, later: the state they get rides along with GO. */
        if (cl->compiled->n_start_hooks) {
                _cleanup_free_ char *run = state_json(cl->st, "running", s->annotations);
                _cleanup_close_ int mfd = memfd_create("ctr-oci-state", MFD_CLOEXEC);
                if (mfd < 0 || ctr_write_all(mfd, run, strlen(run)) < 0)
                        return ctr_err_sys(err, errno, "createContainer hook", "pass the state to the process");
                if (ctr_sync_send(sock, CTR_SYNC_FD, NULL, 0, mfd) < 0)
                        return ctr_err(err, EIO, "sync", "the container's process died during setup");
        }
        if (ctr_sync_send(sock, CTR_SYNC_GO, NULL, (int)pid, -1) < 0)
                return ctr_err(err, EIO, "sync", "the container's process died during setup");
        return 0;
}

/* Everything of create up to the process waiting on the fifo; the state is saved. */
static int do_create(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *opts,
                     struct ctr_oci_spec *s, struct created *ret, struct ctr_error *err)
{
        _cleanup_free_ char *dir = dir_of(o, id), *fifo = xasprintf("%s/exec.fifo", dir), *rel = NULL, *cgpath = NULL;
        _cleanup_close_ int cgfd = -1, fifofd = -1, console = -1;
        __attribute__((cleanup(ctr_spec_free))) struct ctr_spec spec;
        ctr_spec_init(&spec);
        struct ctr_cg_v1 v1 = {0};
        bool entered_v1 = false;
        int r;
        pid_t pid = -1;
        int pidfd = -1;

        if (s->process.terminal && !opts->console_socket)
                return ctr_err(err, EINVAL, "console", "process.terminal is true but no --console-socket was given");
        struct ctr_cg_host host;
        if ((r = ctr_cgroup_detect(&host, err)) < 0)
                return r;
        rel = ctr_oci_cgroup_rel(s->cgroups_path, id, o->systemd_cgroup);
        /* A limit whose controller this host lacks is dropped with a warning (the engine asked
         * for it by default more often than the user did). */
        struct ctr_cg_limits limits = s->resources.limits;
        struct ctr_error lerr = {0};
        bool have_v1 = ctr_cgroup_v1_available();
        if (s->resources.any && ctr_cgroup_check_limits(&host, &limits, &lerr) < 0) {
                if (!have_v1)
                        create_warn(opts, id, "%s; running without the resource limits", lerr.msg);
                limits = (struct ctr_cg_limits){0};
        }
        if ((r = ctr_cgroup_create_path(&host, rel, &limits, &cgpath, &cgfd, err)) < 0)
                return r;
        struct ctr_cg_device *devs = calloc(s->resources.n_devices + s->n_devices + 1, sizeof(*devs));
        size_t nd = 0;
        if (!devs)
                abort();
        for (size_t i = 0; i < s->resources.n_devices; i++)
                devs[nd++] = s->resources.devices[i];
        for (size_t i = 0; i < s->n_devices; i++)
                if (s->devices[i].type != 'p')
                        devs[nd++] = (struct ctr_cg_device){.type = s->devices[i].type == 'b' ? 'b' : 'c',
                                                            .major = s->devices[i].major,
                                                            .minor = s->devices[i].minor,
                                                            .access = CTR_DEV_RWM};
        r = ctr_cgroup_device_filter(cgfd, devs, nd, err);
        if (r < 0) {
                free(devs);
                goto fail;
        }
        v1 = s->resources.v1;
        v1.devices = devs;
        v1.n_devices = nd;

        /* Writable by the container's root even when a user namespace leaves it unmapped
         * (chmod: the umask would take the bits away). */
        if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
                r = ctr_err_sys(err, errno, "create", "mkfifo %s", fifo);
                goto fail;
        }
        fifofd = open(fifo, O_PATH | O_CLOEXEC);
        if (fifofd < 0) {
                r = ctr_err_sys(err, errno, "create", "open %s", fifo);
                goto fail;
        }
        if (opts->console_socket && (console = connect_console(opts->console_socket, err)) < 0) {
                r = console;
                goto fail;
        }
        if ((r = compile_create(s, opts, fifofd, console, &spec, err)) < 0)
                goto fail;
        /* On a hybrid host the limits live in the v1 controllers, where engines look. */
        if (have_v1) {
                if ((r = ctr_cgroup_v1_enter(rel, &v1, 0, err)) < 0)
                        goto fail;
                entered_v1 = true;
        }
        for (char **w = spec.warnings; w && *w; w++)
                create_warn(opts, id, "%s", *w);
        char created[64];
        now_rfc3339(created, sizeof(created));
        struct oci_state st = {.id = xstrdup(id), .bundle = xstrdup(opts->bundle), .rootfs = xstrdup(s->root_path),
                               .cgroup = xstrdup(cgpath), .created = xstrdup(created),
                               .cgroup_v1 = entered_v1 ? xstrdup(rel) : NULL,
                               .shared_mntns = !ctr_oci_spec_ns(s, CLONE_NEWNS)};
        struct create_launch cl = {.spec = s, .compiled = &spec, .st = &st};
        struct ctr_launch l = {
                .cgroup_fd = cgfd,
                .cgroup_path = cgpath,
                .v1_rel = st.cgroup_v1,
                .before_go = create_before_go,
                .on_step = create_on_step,
                .data = &cl,
        };
        ctr_launch_spec(&l, &spec);
        struct ctr_launched out;
        r = ctr_launch(&l, &out, err);
        if (r == 0) {
                pid = out.pid;
                pidfd = out.pidfd;
                st.start = ctr_proc_starttime(pid);
                if ((r = save_state(o, &st, err)) == 0 && opts->pid_file) {
                        char v[16];
                        snprintf(v, sizeof(v), "%d", (int)pid);
                        int w = ctr_write_atomic(opts->pid_file, v, strlen(v), 0644);
                        if (w < 0)
                                r = ctr_err_sys(err, -w, "create", "write the pid file %s", opts->pid_file);
                }
        }
        oci_state_free(&st);
        if (r < 0)
                goto fail;
        close_joins(&spec);
        ret->pid = pid;
        ret->pidfd = pidfd;
        ret->cgroup = TAKE_PTR(cgpath);
        free((void *)v1.devices);
        return 0;
fail:
        free((void *)v1.devices);
        if (pid > 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (pidfd >= 0)
                close(pidfd);
        close_joins(&spec);
        if (cgpath) {
                struct ctr_error e2;
                ctr_cgroup_kill(cgpath, &e2);
                ctr_cgroup_remove(cgpath, 2000, &e2);
        }
        if (entered_v1)
                ctr_cgroup_v1_remove(rel);
        unlink(fifo);
        if (!ctr_oci_spec_ns(s, CLONE_NEWNS))
                unmount_under(s->root_path);
        return r;
}

static int create_common(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *opts,
                         struct created *ret, struct ctr_oci_spec *s, struct ctr_error *err)
{
        if (!ctr_oci_id_valid(id))
                return ctr_err(err, EINVAL, "container", "'%s' is not a valid container ID", id);
        _cleanup_free_ char *bundle = realpath(opts->bundle ? opts->bundle : ".", NULL);
        if (!bundle)
                return ctr_err_sys(err, errno, "bundle", "%s", opts->bundle ? opts->bundle : ".");
        int r = ctr_oci_spec_load(bundle, s, err);
        if (r < 0)
                return r;
        for (char **w = s->warnings; w && *w; w++)
                create_warn(opts, id, "%s", *w);
        /* mkdir is the uniqueness check; no lock is held (the waiting process would inherit it). */
        if (ctr_mkdir_p(o->root, 0711) < 0)
                return ctr_err_sys(err, errno, "state", "create %s", o->root);
        _cleanup_free_ char *dir = dir_of(o, id);
        if (mkdir(dir, 0711) < 0)
                return errno == EEXIST ? ctr_err(err, EEXIST, "container", "container '%s' already exists", id)
                                       : ctr_err_sys(err, errno, "state", "create %s", dir);
        struct ctr_oci_create_opts o2 = *opts;
        o2.bundle = bundle;
        _cleanup_free_ char *src = xasprintf("%s/config.json", bundle), *copy = xasprintf("%s/config.json", dir),
                            *text = NULL;
        size_t len;
        if ((r = ctr_read_file(src, 16 << 20, &text, &len)) < 0 || (r = ctr_write_atomic(copy, text, len, 0600)) < 0)
                r = ctr_err_sys(err, -r, "state", "keep a copy of %s", src);
        else
                r = do_create(o, id, &o2, s, ret, err);
        if (r < 0)
                ctr_rm_rf(dir);
        return r;
}

int ctr_oci_create(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *c, struct ctr_error *err)
{
        struct ctr_oci_spec s = {0};
        struct created cr = {0};
        int r = create_common(o, id, c, &cr, &s, err);
        if (r < 0) {
                ctr_oci_spec_free(&s); /* loaded, then a later step failed */
                return r;
        }
        close(cr.pidfd);
        free(cr.cgroup);
        ctr_oci_spec_free(&s);
        return 0;
}

/* --- start, state, kill, delete ---------------------------------------------------------------- */


static int release(const struct ctr_oci *o, const char *id, struct ctr_error *err)
{
        _cleanup_free_ char *fifo = xasprintf("%s/%s/exec.fifo", o->root, id);
        int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? ctr_err(err, EINVAL, "start", "container '%s' is not in the created state", id)
                                       : ctr_err_sys(err, errno, "start", "open %s", fifo);
        /* The writer opens when it sees us, writes one byte and execs. */
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        char b;
        int n = -1;
        for (int tries = 0; tries < 100; tries++) {
                if (poll(&pf, 1, 100) > 0 && (n = (int)read(fd, &b, 1)) == 1)
                        break;
                if (n == 0 && tries > 10)
                        break;
        }
        unlink(fifo);
        if (n != 1) {
                close(fd);
                return ctr_err(err, EIO, "start", "container '%s' did not start (its process is gone)", id);
        }
        /* Then EOF: the write end closes when the program is executed (or the process dies). */
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        while (read(fd, &b, 1) > 0)
                ;
        close(fd);
        return 0;
}

int ctr_oci_start(const struct ctr_oci *o, const char *id, struct ctr_error *err)
{
        struct oci_state st;
        struct ctr_oci_spec s;
        _cleanup_free_ char *pre = NULL;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        const char *status = status_of(o, &st);
        if (strcmp(status, "created")) {
                r = ctr_err(err, EINVAL, "start", "container '%s' is %s, not created", id, status);
                goto out;
        }
        if ((r = load_spec(o, &st, &s, err)) < 0)
                goto out;
        if (!s.has_process) {
                /* Nothing to run: the waiting process goes, the container is stopped. */
                kill(st.pid, SIGKILL);
                r = ctr_err(err, EINVAL, "start", "config.json of '%s' has no process to run", id);
                ctr_oci_spec_free(&s);
                goto out;
        }
        pre = state_json(&st, "created", s.annotations);
        if ((r = ctr_launch_hooks(s.hooks[CTR_OCI_PRESTART], s.n_hooks[CTR_OCI_PRESTART], pre, -1, "prestart hook", err)) < 0) {
                /* A failed prestart hook stops the container and the lifecycle goes on to
                 * delete (runtime-spec lifecycle, step 9). */
                struct ctr_error e2 = {0};
                ctr_oci_spec_free(&s);
                destroy(o, &st, &e2);
                goto out;
        }
        if ((r = release(o, id, err)) == 0) {
                _cleanup_free_ char *sj = state_json(&st, "running", s.annotations);
                /* A failing poststart hook is logged; the container runs on (runtime-spec). */
                run_hooks_warn(s.hooks[CTR_OCI_POSTSTART], s.n_hooks[CTR_OCI_POSTSTART], sj, id, "poststart hook");
        }
        ctr_oci_spec_free(&s);
out:
        oci_state_free(&st);
        return r;
}

int ctr_oci_state(const struct ctr_oci *o, const char *id, char **ret_json, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        struct ctr_oci_spec s = {0};
        struct ctr_error e2;
        bool have = load_spec(o, &st, &s, &e2) == 0;
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        gen_state(g, &st, status_of(o, &st), have ? s.annotations : NULL);
        *ret_json = xstrdup(ctr_json_gen_text(g, NULL));
        if (have)
                ctr_oci_spec_free(&s);
        oci_state_free(&st);
        return 0;
}

int ctr_oci_kill(const struct ctr_oci *o, const char *id, int sig, bool all, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        const char *status = status_of(o, &st);
        /* As runc: --all on a stopped container signals whatever is left in its cgroup
         * (processes of a container without its own pid namespace outlive init) and succeeds;
         * a plain kill says "container not running", which the shims take for "already gone". */
        if (!strcmp(status, "stopped") && !all) {
                r = ctr_err(err, ESRCH, "kill", "container not running");
                goto out;
        }
        if (all && st.cgroup) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if (sig == SIGKILL)
                        r = ctr_cgroup_kill(st.cgroup, err);
                else if (ctr_cgroup_procs(st.cgroup, &pids, &n) == 0)
                        for (size_t i = 0; i < n; i++)
                                kill(pids[i], sig);
                goto out;
        }
        if (all && !strcmp(status, "stopped"))
                goto out; /* no cgroup to look in: nothing is left */
        int pidfd = ctr_pidfd_open(st.pid, 0);
        if (pidfd < 0 || !ctr_proc_alive(st.pid, st.start)) {
                r = ctr_err(err, ESRCH, "kill", "container not running");
        } else if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                r = errno == ESRCH ? ctr_err(err, ESRCH, "kill", "container not running")
                                   : ctr_err_sys(err, errno, "kill", "signal %d to %d", sig, (int)st.pid);
        if (pidfd >= 0)
                close(pidfd);
out:
        oci_state_free(&st);
        return r;
}

/* A container without a mount namespace of its own mounted into ours, below its rootfs: those
 * mounts go with it, deepest first. In a private namespace this finds nothing. */
static void unmount_under(const char *rootfs)
{
        _cleanup_free_ char *text = NULL;
        if (ctr_read_file("/proc/self/mountinfo", 4 << 20, &text, NULL) < 0)
                return;
        size_t len = strlen(rootfs);
        char **found = NULL;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strncmp(mp, rootfs, len) &&
                    (mp[len] == '/' || mp[len] == 0))
                        strv_push(&found, mp);
        }
        for (size_t n = strv_len(found); n > 0; n--)
                umount2(found[n - 1], MNT_DETACH);
        strv_free(found);
}

static int destroy(const struct ctr_oci *o, struct oci_state *st, struct ctr_error *err)
{
        struct ctr_oci_spec s = {0};
        struct ctr_error e2 = {0};
        bool have = load_spec(o, st, &s, &e2) == 0;
        if (st->cgroup) {
                ctr_cgroup_freeze(st->cgroup, false, 1000, &e2);
                ctr_cgroup_kill(st->cgroup, &e2);
                if (ctr_cgroup_remove(st->cgroup, 5000, err) < 0) {
                        if (have)
                                ctr_oci_spec_free(&s);
                        return -err->errnum;
                }
                if (st->cgroup_v1)
                        ctr_cgroup_v1_remove(st->cgroup_v1);
                /* Empty parents ctr made under its own ctr.slice (a relative cgroupsPath
                 * "a/b") go too; elsewhere the engine owns the hierarchy. */
                _cleanup_free_ char *up = xstrdup(st->cgroup);
                for (char *slash; (slash = strrchr(up, '/'));) {
                        *slash = 0;
                        const char *base = strrchr(up, '/');
                        if (!strstr(up, "/" CTR_CGROUP_PARENT "/") || (base && !strcmp(base + 1, CTR_CGROUP_PARENT)) ||
                            rmdir(up) < 0)
                                break;
                }
        }
        if (have) {
                _cleanup_free_ char *sj = state_json(st, "stopped", s.annotations);
                run_hooks_warn(s.hooks[CTR_OCI_POSTSTOP], s.n_hooks[CTR_OCI_POSTSTOP], sj, st->id, "poststop hook");
                ctr_oci_spec_free(&s);
        }
        if (st->shared_mntns && st->rootfs)
                unmount_under(st->rootfs);
        _cleanup_free_ char *dir = dir_of(o, st->id);
        int r = ctr_rm_rf(dir);
        return r < 0 ? ctr_err_sys(err, -r, "delete", "remove %s", dir) : 0;
}

int ctr_oci_delete(const struct ctr_oci *o, const char *id, bool force, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0) {
                /* A half-created container (no state yet) is cleaned up by a forced delete. */
                _cleanup_free_ char *dir = dir_of(o, id);
                if (r == -ENOENT && ctr_oci_id_valid(id) && access(dir, F_OK) == 0) {
                        /* No state: a create that died half way. Gone now, with or without --force. */
                        int q = ctr_rm_rf(dir);
                        if (q < 0)
                                return ctr_err_sys(err, -q, "delete", "remove %s", dir);
                }
                /* runc: --force on what does not exist succeeds. */
                return force && r == -ENOENT ? 0 : r;
        }
        const char *status = status_of(o, &st);
        /* A created container goes without --force (runc kills its waiting process; the runc
         * shim deletes a task that never started this way). */
        if (strcmp(status, "stopped") && strcmp(status, "created") && !force) {
                r = ctr_err(err, EBUSY, "delete", "container is %s, not stopped; stop it first or use --force", status);
                goto out;
        }
        r = destroy(o, &st, err);
out:
        oci_state_free(&st);
        return r;
}

int ctr_oci_pause(const struct ctr_oci *o, const char *id, bool pause, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        const char *status = status_of(o, &st);
        if (!strcmp(status, "stopped"))
                r = ctr_err(err, ESRCH, pause ? "pause" : "resume", "container not running");
        else if (strcmp(status, pause ? "running" : "paused"))
                r = ctr_err(err, EINVAL, pause ? "pause" : "resume", "container is %s, not %s", status,
                            pause ? "running" : "paused");
        else
                r = ctr_cgroup_freeze(st.cgroup, pause, 5000, err);
        oci_state_free(&st);
        return r;
}

int ctr_oci_update(const struct ctr_oci *o, const char *id, const struct ctr_cg_v1 *v, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        if (!strcmp(status_of(o, &st), "stopped"))
                r = ctr_err(err, ESRCH, "update", "container not running");
        /* Where create put the limits: the v1 hierarchies on a hybrid or legacy host, cgroup2
         * otherwise (and there too on a hybrid host, for whatever controller it offers). */
        else if (st.cgroup_v1 && (r = ctr_cgroup_v1_update(st.cgroup_v1, v, err)) < 0)
                ;
        else if (st.cgroup)
                r = ctr_cgroup_update_oci(st.cgroup, v, !st.cgroup_v1, err);
        else if (!st.cgroup_v1)
                r = ctr_err(err, ENOENT, "update", "the container has no cgroup");
        oci_state_free(&st);
        return r;
}

int ctr_oci_pids(const struct ctr_oci *o, const char *id, pid_t **ret, size_t *ret_n, struct ctr_error *err)
{
        struct oci_state st;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        *ret = NULL;
        *ret_n = 0;
        if (strcmp(status_of(o, &st), "stopped") && (r = ctr_cgroup_procs(st.cgroup, ret, ret_n)) < 0)
                r = ctr_err_sys(err, -r, "ps", "read the processes of %s", st.cgroup);
        oci_state_free(&st);
        return r < 0 ? r : 0;
}

int ctr_oci_list(const struct ctr_oci *o, char **ret_json, struct ctr_error *err)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_arr_open(g);
        DIR *d = opendir(o->root);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        struct oci_state st;
                        struct ctr_error e2;
                        if (de->d_name[0] == '.' || load_state(o, de->d_name, &st, &e2) < 0)
                                continue;
                        gen_state(g, &st, status_of(o, &st), NULL);
                        oci_state_free(&st);
                }
                closedir(d);
        } else if (errno != ENOENT)
                return ctr_err_sys(err, errno, "list", "open %s", o->root);
        ctr_json_arr_close(g);
        *ret_json = xstrdup(ctr_json_gen_text(g, NULL));
        return 0;
}

/* --- run --------------------------------------------------------------------------------------- */

int ctr_oci_run(const struct ctr_oci *o, const char *id, const struct ctr_oci_create_opts *c, bool detach,
                int *ret_status, struct ctr_error *err)
{
        struct ctr_oci_spec s = {0};
        struct created cr = {0};
        *ret_status = 125;
        int r = create_common(o, id, c, &cr, &s, err);
        ctr_oci_spec_free(&s);
        if (r < 0)
                return r;
        r = ctr_oci_start(o, id, err);
        if (r < 0 || detach) {
                if (r < 0) {
                        struct ctr_error e2;
                        ctr_oci_delete(o, id, true, &e2);
                } else
                        *ret_status = 0;
                close(cr.pidfd);
                free(cr.cgroup);
                return r;
        }
        /* Signals for the container go to it while we wait. */
        sigset_t fwd, old;
        sigemptyset(&fwd);
        int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigaddset(&fwd, sigs[i]);
        sigprocmask(SIG_BLOCK, &fwd, &old);
        for (;;) {
                siginfo_t si = {0};
                if (waitid(P_PIDFD, cr.pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
                        *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                        break;
                }
                struct timespec ts = {0, 50 * 1000 * 1000};
                int sig = sigtimedwait(&fwd, NULL, &ts);
                if (sig > 0)
                        syscall(SYS_pidfd_send_signal, cr.pidfd, sig, NULL, 0);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(cr.pidfd);
        free(cr.cgroup);
        return ctr_oci_delete(o, id, true, err);
}

/* --- exec -------------------------------------------------------------------------------------- */

static int exec_process_spec(const struct ctr_oci_spec *s, const struct ctr_oci_exec_opts *e,
                             struct ctr_oci_process *ret, struct ctr_error *err)
{
        if (e->process_file) {
                _cleanup_free_ char *text = NULL;
                int r = ctr_read_file(e->process_file, 1 << 20, &text, NULL);
                if (r < 0)
                        return ctr_err_sys(err, -r, "exec", "read %s", e->process_file);
                if (ctr_oci_process_parse(text, ret, err) < 0) {
                        ctr_err_prefix(err, "%s", e->process_file);
                        return -EINVAL;
                }
                return 0;
        }
        if (!e->args || !e->args[0])
                return ctr_err(err, EINVAL, "exec", "no command given (and no --process)");
        /* The container's process, with what the command line changes. */
        const struct ctr_oci_process *p = &s->process;
        *ret = *p;
        ret->args = strv_copy(e->args);
        ret->env = strv_copy(p->env);
        for (char **v = e->env; v && *v; v++)
                strv_push(&ret->env, *v);
        ret->cwd = xstrdup(e->cwd ? e->cwd : p->cwd ? p->cwd : "/");
        ret->additional_gids = NULL;
        ret->n_additional_gids = 0;
        ret->rlimits = NULL;
        ret->n_rlimits = 0;
        ret->terminal = e->tty;
        ret->no_new_privileges = p->no_new_privileges || e->no_new_privs;
        for (char **c = e->cap_add; c && *c; c++) {
                ctr_capmask m;
                if (ctr_caps_parse(*c, &m, err) < 0)
                        return -EINVAL;
                ret->bounding |= m, ret->effective |= m, ret->permitted |= m;
        }
        if (e->user) {
                unsigned u, g = 0;
                int n = sscanf(e->user, "%u:%u", &u, &g);
                if (n < 1)
                        return ctr_err(err, EINVAL, "exec", "--user '%s' is not UID[:GID]", e->user);
                ret->uid = u;
                ret->gid = n == 2 ? g : 0;
        }
        return 0;
}

/* An exec into the container: born in its pid namespace, joining the rest of its process's (its
 * user namespace too, when it has its own), with the process the request describes. */
static int compile_exec(const struct ctr_oci_spec *s, const struct oci_state *st, const struct ctr_oci_process *pr,
                        int pidfd, int console, int preserve_fds, struct ctr_spec *spec, struct ctr_error *err)
{
        ctr_spec_init(spec);
        spec->what = xstrdup("the exec process");
        char init[64];
        snprintf(init, sizeof(init), "/proc/%d/ns/user", (int)st->pid);
        struct stat a, b;
        bool userns = stat("/proc/self/ns/user", &a) == 0 && stat(init, &b) == 0 && a.st_ino != b.st_ino;
        spec->pidns_fd = pidfd;
        spec->join_pidfd = pidfd;
        spec->join_pidfd_types = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP |
                                 (userns ? CLONE_NEWUSER : 0);
        spec->dumpable = false;
        spec->root = CTR_ROOT_NONE;
        if (pr->terminal && console >= 0) {
                spec->console = CTR_CONSOLE_SOCKET;
                spec->console_fd = console;
        }
        spec->process.preserve_fds = preserve_fds;
        return compile_process(s, pr, userns, 125, spec, err);
}

int ctr_oci_exec(const struct ctr_oci *o, const char *id, const struct ctr_oci_exec_opts *e, int *ret_status,
                 struct ctr_error *err)
{
        struct oci_state st;
        struct ctr_oci_spec s = {0};
        struct ctr_oci_process pr = {0};
        __attribute__((cleanup(ctr_spec_free))) struct ctr_spec spec;
        ctr_spec_init(&spec);
        _cleanup_close_ int pidfd = -1, cgfd = -1, console = -1, cpidfd = -1;
        *ret_status = 125;
        int r = load_state(o, id, &st, err);
        if (r < 0)
                return r;
        const char *status = status_of(o, &st);
        if (strcmp(status, "running") && strcmp(status, "created")) {
                r = ctr_err(err, EINVAL, "exec", "container '%s' is %s", id, status);
                goto out;
        }
        if ((r = load_spec(o, &st, &s, err)) < 0 || (r = exec_process_spec(&s, e, &pr, err)) < 0)
                goto out;
        if (pr.terminal && !e->console_socket) {
                r = ctr_err(err, EINVAL, "exec", "--tty needs --console-socket");
                goto out;
        }
        pidfd = ctr_pidfd_open(st.pid, 0);
        if (pidfd < 0 || !ctr_proc_alive(st.pid, st.start)) {
                r = ctr_err(err, ESRCH, "exec", "container '%s' has no process", id);
                goto out;
        }
        /* The exec'd process is born in every cgroup of its container, or not at all. */
        if (st.cgroup && (cgfd = open(st.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                r = ctr_err_sys(err, errno, "cgroup", "open %s", st.cgroup);
                goto out;
        }
        if (e->console_socket && (console = connect_console(e->console_socket, err)) < 0) {
                r = console;
                goto out;
        }
        if ((r = compile_exec(&s, &st, &pr, pidfd, console, e->preserve_fds, &spec, err)) < 0)
                goto out;
        int child_status = 125;
        struct ctr_launch l = {
                .cgroup_fd = cgfd, .cgroup_path = st.cgroup, .v1_rel = st.cgroup_v1, .ret_child_status = &child_status};
        ctr_launch_spec(&l, &spec);
        struct ctr_launched out;
        if ((r = ctr_launch(&l, &out, err)) < 0) {
                *ret_status = child_status;
                goto out;
        }
        pid_t pid = out.pid;
        cpidfd = out.pidfd;
        if (e->pid_file) {
                char v[16];
                snprintf(v, sizeof(v), "%d", (int)pid);
                int w = ctr_write_atomic(e->pid_file, v, strlen(v), 0644);
                if (w < 0) {
                        r = ctr_err_sys(err, -w, "exec", "write the pid file %s", e->pid_file);
                        goto out;
                }
        }
        if (e->detach) {
                *ret_status = 0;
                r = 0;
                goto out;
        }
        siginfo_t si = {0};
        while (waitid(P_PIDFD, cpidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
        *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        r = 0;
out:
        if (e->process_file)
                ctr_oci_process_free(&pr);
        else if (pr.args) {
                strv_free(pr.args);
                strv_free(pr.env);
                free(pr.cwd);
        }
        ctr_oci_spec_free(&s);
        oci_state_free(&st);
        return r;
}

/* --- features ---------------------------------------------------------------------------------- */

char *ctr_oci_features(void)
{
        static const char *const hooks[] = {"prestart", "createRuntime", "createContainer", "startContainer",
                                            "poststart", "poststop"};
        static const char *const mo[] = {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
                                         "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nomand",
                                         "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime",
                                         "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
                                         "shared", "silent", "slave", "strictatime", "suid", "sync", "unbindable"};
        static const char *const ns[] = {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"};
        static const char *const acts[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                           "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
        static const char *const archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
        static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                          "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
        static const char *const flags[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                            "SECCOMP_FILTER_FLAG_TSYNC"};
        /* Every capability this build knows, by its runtime-spec name. */
        char **caps = NULL;
        {
                _cleanup_free_ char *names = ctr_caps_format(~(ctr_capmask)0);
                char *save = NULL;
                for (char *c = strtok_r(names, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                        _cleanup_free_ char *up = xasprintf("CAP_%s", c);
                        for (char *u = up; *u; u++)
                                *u = (char)toupper((unsigned char)*u);
                        strv_push(&caps, up);
                }
        }
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        kv_str(g, "ociVersionMin", "1.0.0");
        kv_str(g, "ociVersionMax", OCI_VERSION);
        kv_strs(g, "hooks", hooks, ARRAY_SIZE(hooks));
        kv_strs(g, "mountOptions", mo, ARRAY_SIZE(mo));
        ctr_json_key_(g, "linux");
        ctr_json_obj_open(g);
        kv_strs(g, "namespaces", ns, ARRAY_SIZE(ns));
        kv_strs(g, "capabilities", (const char *const *)caps, strv_len(caps));
        strv_free(caps);
        ctr_json_key_(g, "cgroup");
        ctr_json_obj_open(g);
        kv_bool(g, "v1", true); /* the v1 hierarchies of a hybrid or legacy host */
        kv_bool(g, "v2", true);
        kv_bool(g, "systemd", false); /* --systemd-cgroup maps the path; no unit is asked for */
        kv_bool(g, "systemdUser", false);
        kv_bool(g, "rdma", false);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "seccomp");
        ctr_json_obj_open(g);
        kv_bool(g, "enabled", true);
        kv_strs(g, "actions", acts, ARRAY_SIZE(acts));
        kv_strs(g, "operators", ops, ARRAY_SIZE(ops));
        kv_strs(g, "archs", archs, ARRAY_SIZE(archs));
        kv_strs(g, "knownFlags", flags, ARRAY_SIZE(flags));
        kv_strs(g, "supportedFlags", flags, ARRAY_SIZE(flags));
        ctr_json_obj_close(g);
        ctr_json_key_(g, "mountExtensions");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "idmap");
        ctr_json_obj_open(g);
        kv_bool(g, "enabled", false);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        const char *lsm[] = {"apparmor", "selinux", "intelRdt"};
        for (size_t i = 0; i < ARRAY_SIZE(lsm); i++) {
                ctr_json_key_(g, lsm[i]);
                ctr_json_obj_open(g);
                kv_bool(g, "enabled", false);
                ctr_json_obj_close(g);
        }
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        return xstrdup(ctr_json_gen_text(g, NULL));
}
