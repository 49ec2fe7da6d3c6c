/* State root layout, state.json (what is true now), liveness checks and per-container locks.
 * state.json is written temp-then-rename; a missing file means "stopped" by design. */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "../base/json.h"
#include "../base/util.h"

int ctr_paths_init(struct ctr_paths *p, const char *root, struct ctr_error *err)
{
        char abs[PATH_MAX];
        const char *cache_env = getenv("CTR_CACHE");

        memset(p, 0, sizeof(*p));
        p->debug_fd = -1;
        if (!root || !*root)
                root = getenv("CTR_ROOT");
        if (root && *root) {
                /* Relative roots are resolved once, so a forked monitor sees the same paths. */
                if (root[0] != '/') {
                        if (!getcwd(abs, sizeof(abs)))
                                return ctr_err_sys(err, errno, "root", "getcwd");
                        p->root = xasprintf("%s/%s", abs, root);
                } else
                        p->root = xstrdup(root);
                p->containers = xasprintf("%s/containers", p->root);
                p->run = xasprintf("%s/run", p->root);
                p->log = xasprintf("%s/log", p->root);
                p->cache = xasprintf("%s/cache", p->root);
        } else {
                p->root = xstrdup("/var/lib/ctr");
                p->containers = xstrdup("/var/lib/ctr/containers");
                p->run = xstrdup("/run/ctr");
                p->log = xstrdup("/var/log/ctr");
                p->cache = xstrdup("/var/cache/ctr");
        }
        if (cache_env && *cache_env) {
                free(p->cache);
                p->cache = xstrdup(cache_env);
        }
        return 0;
}

void ctr_paths_free(struct ctr_paths *p)
{
        free(p->root);
        free(p->containers);
        free(p->run);
        free(p->log);
        free(p->cache);
        memset(p, 0, sizeof(*p));
}

char *ctr_path_container(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s", p->containers, name); }
char *ctr_path_config(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s/config.json", p->containers, name); }
char *ctr_path_rootfs(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s/rootfs", p->containers, name); }
char *ctr_path_rundir(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s", p->run, name); }
char *ctr_path_state(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s/state.json", p->run, name); }
char *ctr_path_console_log(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s.log", p->log, name); }
char *ctr_path_monitor_log(const struct ctr_paths *p, const char *name) { return xasprintf("%s/%s.monitor.log", p->log, name); }

static const char *const status_names[] = {"stopped", "starting", "running", "frozen", "stopping"};

const char *ctr_status_name(enum ctr_status s)
{
        return s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

void ctr_state_free(struct ctr_state *s)
{
        if (!s)
                return;
        free(s->cgroup);
        free(s->cgroup_v1);
        free(s->net_mode);
        free(s->ipv4);
        free(s->ipv6);
        free(s->veth);
        memset(s, 0, sizeof(*s));
}

char *ctr_state_to_json(const struct ctr_state *s)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "status");
        ctr_json_str(g, ctr_status_name(s->status));
        ctr_json_key_(g, "monitor_pid");
        ctr_json_int_(g, s->monitor_pid);
        ctr_json_key_(g, "monitor_start");
        ctr_json_int_(g, (int64_t)s->monitor_start);
        ctr_json_key_(g, "init_pid");
        ctr_json_int_(g, s->init_pid);
        ctr_json_key_(g, "init_start");
        ctr_json_int_(g, (int64_t)s->init_start);
        ctr_json_key_(g, "cgroup");
        ctr_json_str(g, s->cgroup);
        ctr_json_key_(g, "started_at");
        ctr_json_int_(g, s->started_at);
        ctr_json_key_(g, "transition_at");
        ctr_json_int_(g, s->transition_at);
        ctr_json_key_(g, "network_mode");
        ctr_json_str(g, s->net_mode);
        ctr_json_key_(g, "ipv4");
        ctr_json_str(g, s->ipv4);
        ctr_json_key_(g, "ipv6");
        ctr_json_str(g, s->ipv6);
        ctr_json_key_(g, "veth");
        ctr_json_str(g, s->veth);
        ctr_json_key_(g, "cgroup_v1");
        ctr_json_str(g, s->cgroup_v1);
        ctr_json_key_(g, "foreground");
        ctr_json_boolean(g, s->foreground);
        ctr_json_obj_close(g);
        return xstrdup(ctr_json_gen_text(g, NULL));
}

int ctr_state_parse(const char *text, struct ctr_state *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *root = NULL;
        struct ctr_state s = {0};
        int r = ctr_json_parse(text, &root, err);
        if (r < 0)
                return r;
        if (ctr_json_type(root) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "state", "state file is not a JSON object");
        const char *st = ctr_json_string(ctr_json_get(root, "status"));
        s.status = CTR_STOPPED;
        for (size_t i = 0; st && i < ARRAY_SIZE(status_names); i++)
                if (!strcmp(st, status_names[i]))
                        s.status = i;
        s.monitor_pid = ctr_json_int(ctr_json_get(root, "monitor_pid"));
        s.monitor_start = ctr_json_int(ctr_json_get(root, "monitor_start"));
        s.init_pid = ctr_json_int(ctr_json_get(root, "init_pid"));
        s.init_start = ctr_json_int(ctr_json_get(root, "init_start"));
        s.started_at = ctr_json_int(ctr_json_get(root, "started_at"));
        s.transition_at = ctr_json_int(ctr_json_get(root, "transition_at"));
        s.foreground = ctr_json_bool(ctr_json_get(root, "foreground"));
        const char *cg = ctr_json_string(ctr_json_get(root, "cgroup"));
        const char *nm = ctr_json_string(ctr_json_get(root, "network_mode"));
        s.cgroup = cg ? xstrdup(cg) : NULL;
        s.net_mode = nm ? xstrdup(nm) : NULL;
        const char *keys[] = {"ipv4", "ipv6", "veth", "cgroup_v1"};
        char **fields[] = {&s.ipv4, &s.ipv6, &s.veth, &s.cgroup_v1};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *v = ctr_json_string(ctr_json_get(root, keys[i]));
                *fields[i] = v ? xstrdup(v) : NULL;
        }
        if (!st || s.monitor_pid <= 0)
                return ctr_state_free(&s), ctr_err(err, EINVAL, "state", "state file lacks status or monitor_pid");
        *ret = s;
        return 0;
}

int ctr_state_load(const struct ctr_paths *p, const char *name, struct ctr_state *ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = ctr_path_state(p, name);
        _cleanup_free_ char *text = NULL;
        int r = ctr_read_record(path, 1 << 16, "state", &text, NULL, err);
        if (r < 0)
                return r;
        r = ctr_state_parse(text, ret, err);
        if (r < 0)
                ctr_err_prefix(err, "%s", path);
        return r;
}

int ctr_state_save(const struct ctr_paths *p, const char *name, const struct ctr_state *s, struct ctr_error *err)
{
        _cleanup_free_ char *path = ctr_path_state(p, name);
        _cleanup_free_ char *text = ctr_state_to_json(s);
        int r = ctr_write_atomic_volatile(path, text, strlen(text), 0644);
        if (r < 0)
                return ctr_err_sys(err, -r, "state", "write %s", path);
        return 0;
}

int ctr_state_probe(const struct ctr_paths *p, const char *name, struct ctr_state *ret, bool *ret_stale,
                    struct ctr_error *err)
{
        struct ctr_state s = {0};
        int r = ctr_state_load(p, name, &s, err);

        *ret_stale = false;
        if (r == -ENOENT) {
                memset(ret, 0, sizeof(*ret));
                ret->status = CTR_STOPPED;
                return 0;
        }
        if (r < 0) {
                /* An unreadable state file is stale by definition: the monitor writes whole files. */
                memset(ret, 0, sizeof(*ret));
                ret->status = CTR_STOPPED;
                *ret_stale = true;
                return 0;
        }
        if (!ctr_proc_alive(s.monitor_pid, s.monitor_start)) {
                s.status = CTR_STOPPED;
                *ret_stale = true;
        } else if (s.status == CTR_RUNNING || s.status == CTR_FROZEN) {
                /* The monitor may not have reaped a dead init yet: do not call that running. */
                if (!ctr_proc_alive(s.init_pid, s.init_start))
                        s.status = CTR_STOPPING;
        }
        *ret = s;
        return 0;
}

int ctr_lock_container(const struct ctr_paths *p, const char *name, int *ret_fd, struct ctr_error *err)
{
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct stat a, b;

        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                        return ctr_err(err, ENOENT, "lookup", "no such container");
                return ctr_err_sys(err, errno, "lookup", "open %s", dir);
        }
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return ctr_err_sys(err, errno, "lock", "flock %s", dir);
        /* destroy renames the directory away before removing it: make sure we locked the live one. */
        if (fstat(fd, &a) < 0 || stat(dir, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return ctr_err(err, ENOENT, "lookup", "no such container");
        *ret_fd = TAKE_FD(fd);
        return 0;
}
