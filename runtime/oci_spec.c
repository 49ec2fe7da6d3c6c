/* config.json of an OCI bundle into struct ctr_oci_spec: types checked field by field, errors
 * name the field ("config.json: process.args[0] must be a string"), unknown fields ignored. */
#define _GNU_SOURCE
#include "oci_spec.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../base/util.h"

#define BAD(err, ...) ctr_err(err, EINVAL, "config.json", __VA_ARGS__)

static const ctr_json *get_typed(const ctr_json *o, const char *key, enum ctr_json_type t)
{
        const ctr_json *v = o ? ctr_json_get(o, key) : NULL;
        return v && ctr_json_type(v) == t ? v : NULL;
}

static int want(const ctr_json *o, const char *key, enum ctr_json_type t, const char *where, const char *what,
                const ctr_json **ret, struct ctr_error *err)
{
        const ctr_json *v = o ? ctr_json_get(o, key) : NULL;
        *ret = NULL;
        if (!v || ctr_json_type(v) == CTR_JSON_NULL)
                return 0;
        if (ctr_json_type(v) != t)
                return BAD(err, "%s%s%s must be %s", where, *where ? "." : "", key, what);
        *ret = v;
        return 0;
}

static int get_str(const ctr_json *o, const char *key, const char *where, char **ret, struct ctr_error *err)
{
        const ctr_json *v;
        if (want(o, key, CTR_JSON_STRING, where, "a string", &v, err) < 0)
                return -EINVAL;
        if (v) {
                free(*ret);
                *ret = xstrdup(ctr_json_string(v));
        }
        return 0;
}

static int get_bool(const ctr_json *o, const char *key, const char *where, bool *ret, struct ctr_error *err)
{
        const ctr_json *v;
        if (want(o, key, CTR_JSON_BOOL, where, "true or false", &v, err) < 0)
                return -EINVAL;
        if (v)
                *ret = ctr_json_bool(v);
        return 0;
}

static int num(const ctr_json *v, const char *where, const char *key, int64_t min, int64_t max, int64_t *ret,
               struct ctr_error *err)
{
        if (ctr_json_type(v) != CTR_JSON_NUMBER || !ctr_json_is_integer(v) || ctr_json_int(v) < min ||
            ctr_json_int(v) > max)
                return BAD(err, "%s%s%s must be an integer from %lld to %lld", where, *where ? "." : "", key,
                           (long long)min, (long long)max);
        *ret = ctr_json_int(v);
        return 0;
}

/* Present: 1 with *ret set; absent or null: 0; wrong: -EINVAL. */
static int get_int(const ctr_json *o, const char *key, const char *where, int64_t min, int64_t max, int64_t *ret,
                   struct ctr_error *err)
{
        const ctr_json *v = o ? ctr_json_get(o, key) : NULL;
        if (!v || ctr_json_type(v) == CTR_JSON_NULL)
                return 0;
        return num(v, where, key, min, max, ret, err) < 0 ? -EINVAL : 1;
}

static int get_strv(const ctr_json *o, const char *key, const char *where, char ***ret, struct ctr_error *err)
{
        const ctr_json *a;
        if (want(o, key, CTR_JSON_ARRAY, where, "an array of strings", &a, err) < 0)
                return -EINVAL;
        if (!a)
                return 0;
        size_t n = ctr_json_len(a);
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                abort();
        for (size_t i = 0; i < n; i++) {
                const ctr_json *s = ctr_json_at(a, i);
                if (ctr_json_type(s) != CTR_JSON_STRING) {
                        strv_free(v);
                        return BAD(err, "%s.%s[%zu] must be a string", where, key, i);
                }
                v[i] = xstrdup(ctr_json_string(s));
        }
        strv_free(*ret);
        *ret = v;
        return 0;
}

/* --- mounts ----------------------------------------------------------------------------------- */

int ctr_oci_mount_options(char *const *opts, struct ctr_oci_mount *m, struct ctr_error *err)
{
        static const struct {
                const char *name;
                unsigned long set, clear;
        } flags[] = {
                {"ro", MS_RDONLY, 0},          {"rw", 0, MS_RDONLY},           {"nosuid", MS_NOSUID, 0},
                {"suid", 0, MS_NOSUID},        {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},
                {"noexec", MS_NOEXEC, 0},      {"exec", 0, MS_NOEXEC},         {"sync", MS_SYNCHRONOUS, 0},
                {"async", 0, MS_SYNCHRONOUS},  {"dirsync", MS_DIRSYNC, 0},     {"remount", MS_REMOUNT, 0},
                {"mand", MS_MANDLOCK, 0},      {"nomand", 0, MS_MANDLOCK},     {"atime", 0, MS_NOATIME},
                {"noatime", MS_NOATIME, 0},    {"diratime", 0, MS_NODIRATIME}, {"nodiratime", MS_NODIRATIME, 0},
                {"relatime", MS_RELATIME, 0},  {"norelatime", 0, MS_RELATIME}, {"strictatime", MS_STRICTATIME, 0},
                {"nostrictatime", 0, MS_STRICTATIME}, {"silent", MS_SILENT, 0}, {"loud", 0, MS_SILENT},
                {"defaults", 0, 0},
        };
        static const struct {
                const char *name;
                unsigned long flags;
        } prop[] = {{"private", MS_PRIVATE},           {"rprivate", MS_PRIVATE | MS_REC},
                    {"shared", MS_SHARED},             {"rshared", MS_SHARED | MS_REC},
                    {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
                    {"unbindable", MS_UNBINDABLE},     {"runbindable", MS_UNBINDABLE | MS_REC}};
        size_t dlen = 0;
        for (char *const *o = opts; o && *o; o++) {
                bool done = false;
                if (!strcmp(*o, "bind") || !strcmp(*o, "rbind")) {
                        m->bind = true;
                        m->recursive |= (*o)[0] == 'r';
                        continue;
                }
                for (size_t i = 0; i < ARRAY_SIZE(flags) && !done; i++)
                        if (!strcmp(*o, flags[i].name)) {
                                m->flags = (m->flags | flags[i].set) & ~flags[i].clear;
                                done = true;
                        }
                for (size_t i = 0; i < ARRAY_SIZE(prop) && !done; i++)
                        if (!strcmp(*o, prop[i].name)) {
                                m->propagation = prop[i].flags;
                                done = true;
                        }
                /* Recursive attributes (runtime-spec 1.1: rro, rnosuid ...) and idmap options
                 * are handled as their plain forms, recursively for binds. */
                if (!done && (*o)[0] == 'r' && strcmp(*o, "rw")) {
                        for (size_t i = 0; i < ARRAY_SIZE(flags) && !done; i++)
                                if (!strcmp(*o + 1, flags[i].name) && flags[i].set) {
                                        m->flags |= flags[i].set;
                                        done = true;
                                }
                }
                if (!done && (!strcmp(*o, "tmpcopyup") || !strncmp(*o, "x-", 2)))
                        done = true; /* userspace hints */
                if (done)
                        continue;
                if (strchr(*o, ',') || !**o)
                        return BAD(err, "mounts: option '%s' is not a single option", *o);
                size_t l = strlen(*o);
                m->data = xrealloc(m->data, dlen + l + 2);
                if (dlen)
                        m->data[dlen++] = ',';
                memcpy(m->data + dlen, *o, l + 1);
                dlen += l;
        }
        return 0;
}

static int parse_mounts(const ctr_json *root, struct ctr_oci_spec *s, struct ctr_error *err)
{
        const ctr_json *a;
        if (want(root, "mounts", CTR_JSON_ARRAY, "", "an array", &a, err) < 0)
                return -EINVAL;
        size_t n = a ? ctr_json_len(a) : 0;
        s->mounts = calloc(n + 1, sizeof(*s->mounts));
        if (!s->mounts)
                abort();
        for (size_t i = 0; i < n; i++) {
                const ctr_json *o = ctr_json_at(a, i);
                struct ctr_oci_mount *m = &s->mounts[s->n_mounts++];
                char where[32];
                _cleanup_strv_ char **opts = NULL;
                snprintf(where, sizeof(where), "mounts[%zu]", i);
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return BAD(err, "%s must be an object", where);
                if (get_str(o, "destination", where, &m->destination, err) < 0 ||
                    get_str(o, "type", where, &m->type, err) < 0 || get_str(o, "source", where, &m->source, err) < 0 ||
                    get_strv(o, "options", where, &opts, err) < 0)
                        return -EINVAL;
                if (!m->destination || m->destination[0] != '/')
                        return BAD(err, "%s.destination must be an absolute path", where);
                if (ctr_oci_mount_options(opts, m, err) < 0)
                        return -EINVAL;
                if (m->type && (!strcmp(m->type, "bind") || !strcmp(m->type, "rbind")))
                        m->bind = true;
                if (m->bind && !m->source)
                        return BAD(err, "%s: a bind mount needs a source", where);
                if (!m->bind && !m->type)
                        return BAD(err, "%s.type is missing (and it is not a bind mount)", where);
        }
        return 0;
}

/* --- process ------------------------------------------------------------------------------- */

static int parse_capset(const ctr_json *caps, const char *key, ctr_capmask *ret, struct ctr_error *err)
{
        _cleanup_strv_ char **names = NULL;
        *ret = 0;
        if (get_strv(caps, key, "process.capabilities", &names, err) < 0)
                return -EINVAL;
        for (char **n = names; n && *n; n++) {
                ctr_capmask m;
                if (ctr_caps_parse(*n, &m, err) < 0) {
                        ctr_err_prefix(err, "config.json: process.capabilities.%s", key);
                        return -EINVAL;
                }
                *ret |= m;
        }
        return 0;
}

static int rlimit_of(const char *name)
{
        static const struct {
                const char *name;
                int r;
        } r[] = {{"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
                 {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
                 {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
                 {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
                 {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                 {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
                 {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
                 {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK}};
        for (size_t i = 0; i < ARRAY_SIZE(r); i++)
                if (!strcmp(r[i].name, name))
                        return r[i].r;
        return -1;
}

/* yajl holds integers as int64: 2^64-1 (RLIM_INFINITY, as Go writes it) arrives as a double. */
static int rlim_value(const ctr_json *v, uint64_t *ret)
{
        if (ctr_json_is_integer(v)) {
                if (ctr_json_int(v) < 0)
                        return -EINVAL;
                *ret = (uint64_t)ctr_json_int(v);
                return 0;
        }
        if (ctr_json_double(v) >= 9.2e18) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        return -EINVAL;
}

static int parse_process(const ctr_json *p, struct ctr_oci_process *r, bool need_args, struct ctr_error *err)
{
        const ctr_json *user, *caps, *rl;
        int64_t x;
        if (ctr_json_type(p) != CTR_JSON_OBJECT)
                return BAD(err, "process must be an object");
        if (get_bool(p, "terminal", "process", &r->terminal, err) < 0 ||
            get_strv(p, "args", "process", &r->args, err) < 0 || get_strv(p, "env", "process", &r->env, err) < 0 ||
            get_str(p, "cwd", "process", &r->cwd, err) < 0 ||
            get_bool(p, "noNewPrivileges", "process", &r->no_new_privileges, err) < 0)
                return -EINVAL;
        if (need_args && (!r->args || !r->args[0]))
                return BAD(err, "process.args must name at least the program to run");
        if (!r->cwd)
                r->cwd = xstrdup("/");
        else if (r->cwd[0] != '/')
                return BAD(err, "process.cwd must be an absolute path, not '%s'", r->cwd);
        for (char **e = r->env; e && *e; e++)
                if (!strchr(*e, '=') || **e == '=')
                        return BAD(err, "process.env entry '%s' is not KEY=VALUE", *e);
        if (want(p, "user", CTR_JSON_OBJECT, "process", "an object", &user, err) < 0)
                return -EINVAL;
        int got;
        if ((got = get_int(user, "uid", "process.user", 0, UINT32_MAX - 1, &x, err)) < 0)
                return -EINVAL;
        r->uid = got ? (uid_t)x : 0;
        if ((got = get_int(user, "gid", "process.user", 0, UINT32_MAX - 1, &x, err)) < 0)
                return -EINVAL;
        r->gid = got ? (gid_t)x : 0;
        if ((got = get_int(user, "umask", "process.user", 0, 0777, &x, err)) < 0)
                return -EINVAL;
        r->has_umask = got;
        r->umask = got ? (mode_t)x : 022;
        const ctr_json *ag;
        if (want(user, "additionalGids", CTR_JSON_ARRAY, "process.user", "an array", &ag, err) < 0)
                return -EINVAL;
        if (ag) {
                r->n_additional_gids = ctr_json_len(ag);
                r->additional_gids = calloc(r->n_additional_gids + 1, sizeof(gid_t));
                if (!r->additional_gids)
                        abort();
                for (size_t i = 0; i < r->n_additional_gids; i++) {
                        if (num(ctr_json_at(ag, i), "process.user", "additionalGids[]", 0, UINT32_MAX - 1, &x, err) < 0)
                                return -EINVAL;
                        r->additional_gids[i] = (gid_t)x;
                }
        }
        if (want(p, "capabilities", CTR_JSON_OBJECT, "process", "an object", &caps, err) < 0)
                return -EINVAL;
        if (caps) {
                r->has_caps = true;
                if (parse_capset(caps, "bounding", &r->bounding, err) < 0 ||
                    parse_capset(caps, "effective", &r->effective, err) < 0 ||
                    parse_capset(caps, "inheritable", &r->inheritable, err) < 0 ||
                    parse_capset(caps, "permitted", &r->permitted, err) < 0 ||
                    parse_capset(caps, "ambient", &r->ambient, err) < 0)
                        return -EINVAL;
        }
        if (want(p, "rlimits", CTR_JSON_ARRAY, "process", "an array", &rl, err) < 0)
                return -EINVAL;
        if (rl) {
                r->rlimits = calloc(ctr_json_len(rl) + 1, sizeof(*r->rlimits));
                if (!r->rlimits)
                        abort();
                for (size_t i = 0; i < ctr_json_len(rl); i++) {
                        const ctr_json *o = ctr_json_at(rl, i);
                        const ctr_json *t = get_typed(o, "type", CTR_JSON_STRING);
                        const ctr_json *soft = o ? ctr_json_get(o, "soft") : NULL, *hard = o ? ctr_json_get(o, "hard") : NULL;
                        int res = t ? rlimit_of(ctr_json_string(t)) : -1;
                        if (res < 0)
                                return BAD(err, "process.rlimits[%zu].type '%s' is not an RLIMIT_ name", i,
                                           t ? ctr_json_string(t) : "");
                        for (size_t k = 0; k < r->n_rlimits; k++)
                                if (r->rlimits[k].resource == res)
                                        return BAD(err, "process.rlimits: %s given twice", ctr_json_string(t));
                        if (!soft || !hard || ctr_json_type(soft) != CTR_JSON_NUMBER || ctr_json_type(hard) != CTR_JSON_NUMBER)
                                return BAD(err, "process.rlimits[%zu] needs numeric soft and hard", i);
                        struct ctr_oci_rlimit *l = &r->rlimits[r->n_rlimits++];
                        l->resource = res;
                        if (rlim_value(soft, &l->soft) < 0 || rlim_value(hard, &l->hard) < 0)
                                return BAD(err, "process.rlimits[%zu]: soft and hard must be non-negative integers", i);
                        if (l->soft > l->hard)
                                return BAD(err, "process.rlimits[%zu]: soft above hard", i);
                }
        }
        if ((got = get_int(p, "oomScoreAdj", "process", -1000, 1000, &x, err)) < 0)
                return -EINVAL;
        r->has_oom_score_adj = got;
        r->oom_score_adj = (int)x;
        return 0;
}

int ctr_oci_process_parse(const char *text, struct ctr_oci_process *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *doc = NULL;
        *ret = (struct ctr_oci_process){0};
        if (ctr_json_parse(text, &doc, err) < 0)
                return -EINVAL;
        int r = parse_process(doc, ret, true, err);
        if (r < 0)
                ctr_oci_process_free(ret);
        return r;
}

/* --- hooks, linux ------------------------------------------------------------------------------ */

static int parse_hooks(const ctr_json *root, struct ctr_oci_spec *s, struct ctr_error *err)
{
        static const char *const names[CTR_OCI_N_HOOKS] = {"prestart",        "createRuntime", "createContainer",
                                                           "startContainer", "poststart",     "poststop"};
        const ctr_json *h;
        if (want(root, "hooks", CTR_JSON_OBJECT, "", "an object", &h, err) < 0)
                return -EINVAL;
        if (!h)
                return 0;
        for (int k = 0; k < CTR_OCI_N_HOOKS; k++) {
                const ctr_json *a;
                char where[48];
                snprintf(where, sizeof(where), "hooks.%s", names[k]);
                if (want(h, names[k], CTR_JSON_ARRAY, "hooks", "an array", &a, err) < 0)
                        return -EINVAL;
                if (!a)
                        continue;
                s->hooks[k] = calloc(ctr_json_len(a) + 1, sizeof(struct ctr_spec_hook));
                if (!s->hooks[k])
                        abort();
                for (size_t i = 0; i < ctr_json_len(a); i++) {
                        const ctr_json *o = ctr_json_at(a, i);
                        struct ctr_spec_hook *hk = &s->hooks[k][s->n_hooks[k]++];
                        int64_t t = 0;
                        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                                return BAD(err, "%s[%zu] must be an object", where, i);
                        if (get_str(o, "path", where, &hk->path, err) < 0 || get_strv(o, "args", where, &hk->args, err) < 0 ||
                            get_strv(o, "env", where, &hk->env, err) < 0 ||
                            get_int(o, "timeout", where, 1, 86400, &t, err) < 0)
                                return -EINVAL;
                        if (!hk->path || hk->path[0] != '/')
                                return BAD(err, "%s[%zu].path must be an absolute path", where, i);
                        hk->timeout = (int)t;
                }
        }
        return 0;
}

static int ns_type(const char *name)
{
        static const struct {
                const char *name;
                int flag;
        } t[] = {{"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
                 {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
                 {"cgroup", CLONE_NEWCGROUP}, {"time", 0x00000080 /* CLONE_NEWTIME */}};
        for (size_t i = 0; i < ARRAY_SIZE(t); i++)
                if (!strcmp(t[i].name, name))
                        return t[i].flag;
        return -1;
}

static int parse_idmaps(const ctr_json *lx, const char *key, struct ctr_oci_idmap **ret, size_t *ret_n,
                        struct ctr_error *err)
{
        const ctr_json *a;
        if (want(lx, key, CTR_JSON_ARRAY, "linux", "an array", &a, err) < 0)
                return -EINVAL;
        if (!a)
                return 0;
        *ret = calloc(ctr_json_len(a) + 1, sizeof(**ret));
        if (!*ret)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                const ctr_json *o = ctr_json_at(a, i);
                int64_t c, h, sz;
                char where[48];
                snprintf(where, sizeof(where), "linux.%s[%zu]", key, i);
                if (get_int(o, "containerID", where, 0, UINT32_MAX - 1, &c, err) != 1 ||
                    get_int(o, "hostID", where, 0, UINT32_MAX - 1, &h, err) != 1 ||
                    get_int(o, "size", where, 1, UINT32_MAX, &sz, err) != 1)
                        return err->errnum ? -EINVAL : BAD(err, "%s needs containerID, hostID and size", where);
                (*ret)[(*ret_n)++] = (struct ctr_oci_idmap){(uint32_t)c, (uint32_t)h, (uint32_t)sz};
        }
        return 0;
}

static int parse_devices(const ctr_json *lx, struct ctr_oci_spec *s, struct ctr_error *err)
{
        const ctr_json *a;
        if (want(lx, "devices", CTR_JSON_ARRAY, "linux", "an array", &a, err) < 0)
                return -EINVAL;
        if (!a)
                return 0;
        s->devices = calloc(ctr_json_len(a) + 1, sizeof(*s->devices));
        if (!s->devices)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                const ctr_json *o = ctr_json_at(a, i);
                struct ctr_oci_device *d = &s->devices[s->n_devices++];
                _cleanup_free_ char *type = NULL;
                char where[32];
                int64_t x;
                snprintf(where, sizeof(where), "linux.devices[%zu]", i);
                if (get_str(o, "type", where, &type, err) < 0 || get_str(o, "path", where, &d->path, err) < 0)
                        return -EINVAL;
                if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
                        return BAD(err, "%s.type must be c, b, u or p", where);
                if (!d->path || d->path[0] != '/')
                        return BAD(err, "%s.path must be an absolute path", where);
                d->type = type[0];
                int gm = get_int(o, "major", where, 0, 4095, &d->major, err);
                int gn = gm < 0 ? -1 : get_int(o, "minor", where, 0, 1048575, &d->minor, err);
                if (gm < 0 || gn < 0)
                        return -EINVAL;
                if (d->type != 'p' && (!gm || !gn))
                        return BAD(err, "%s: a %c device needs major and minor", where, d->type);
                int r = get_int(o, "fileMode", where, 0, 07777, &x, err);
                if (r < 0)
                        return -EINVAL;
                d->mode = r ? (mode_t)x : 0666;
                if ((r = get_int(o, "uid", where, 0, UINT32_MAX - 1, &x, err)) < 0)
                        return -EINVAL;
                d->uid = r ? (uid_t)x : 0;
                if ((r = get_int(o, "gid", where, 0, UINT32_MAX - 1, &x, err)) < 0)
                        return -EINVAL;
                d->gid = r ? (gid_t)x : 0;
        }
        return 0;
}

/* A LinuxResources object, for create (linux.resources) and update (--resources). */
static int resources_obj(const ctr_json *res, struct ctr_oci_resources *R, struct ctr_error *err)
{
        const ctr_json *o, *a;
        struct ctr_cg_limits *l = &R->limits;
        int64_t x;
        int r;
        if (want(res, "memory", CTR_JSON_OBJECT, "linux.resources", "an object", &o, err) < 0)
                return -EINVAL;
        struct ctr_cg_v1 *v1 = &R->v1;
        if ((r = get_int(o, "limit", "linux.resources.memory", -1, INT64_MAX, &x, err)) < 0)
                return -EINVAL;
        if (r && x > 0)
                l->memory = (uint64_t)x, R->any = true;
        if (r)
                v1->memory_limit = x;
        if ((r = get_int(o, "reservation", "linux.resources.memory", -1, INT64_MAX, &x, err)) < 0)
                return -EINVAL;
        if (r)
                v1->memory_reservation = x;
        if ((r = get_int(o, "swap", "linux.resources.memory", -1, INT64_MAX, &x, err)) < 0)
                return -EINVAL;
        if (r)
                v1->memory_swap = x;
        /* v1's swap is memory+swap; v2's memory.swap.max is swap alone. */
        if (r && x > 0 && l->memory && (uint64_t)x >= l->memory)
                l->memory_swap = (uint64_t)x - l->memory ? (uint64_t)x - l->memory : 1, R->any = true;
        if (want(res, "cpu", CTR_JSON_OBJECT, "linux.resources", "an object", &o, err) < 0)
                return -EINVAL;
        int64_t quota = 0, period = 100000, shares = 0;
        if (get_int(o, "quota", "linux.resources.cpu", -1, INT64_MAX, &quota, err) < 0 ||
            get_int(o, "period", "linux.resources.cpu", 1000, 1000000, &period, err) < 0 ||
            get_int(o, "shares", "linux.resources.cpu", 0, 262144, &shares, err) < 0)
                return -EINVAL;
        int64_t rt_runtime = 0, rt_period = 0;
        if (get_int(o, "realtimeRuntime", "linux.resources.cpu", -1, INT64_MAX, &rt_runtime, err) < 0 ||
            get_int(o, "realtimePeriod", "linux.resources.cpu", 0, INT64_MAX, &rt_period, err) < 0)
                return -EINVAL;
        v1->cpu_shares = (uint64_t)shares;
        v1->cpu_quota = quota;
        v1->cpu_period = o && ctr_json_get(o, "period") ? (uint64_t)period : 0;
        v1->rt_runtime = rt_runtime;
        v1->rt_period = (uint64_t)rt_period;
        if (quota > 0)
                l->cpus = (double)quota / (double)period, R->any = true;
        if (shares > 0) /* v1 shares 2..262144 onto v2 weight 1..10000, as crun and systemd map it */
                l->cpu_weight = 1 + ((uint64_t)(shares < 2 ? 2 : shares) - 2) * 9999 / 262142, R->any = true;
        const ctr_json *cs;
        if (want(o, "cpus", CTR_JSON_STRING, "linux.resources.cpu", "a string", &cs, err) < 0)
                return -EINVAL;
        if (cs && *ctr_json_string(cs)) {
                if (!ctr_cgroup_cpuset_valid(ctr_json_string(cs)))
                        return BAD(err, "linux.resources.cpu.cpus '%s' is not a CPU list", ctr_json_string(cs));
                snprintf(l->cpuset, sizeof(l->cpuset), "%s", ctr_json_string(cs)), R->any = true;
                snprintf(v1->cpus, sizeof(v1->cpus), "%s", ctr_json_string(cs));
        }
        if (want(o, "mems", CTR_JSON_STRING, "linux.resources.cpu", "a string", &cs, err) < 0)
                return -EINVAL;
        if (cs && *ctr_json_string(cs)) {
                if (!ctr_cgroup_cpuset_valid(ctr_json_string(cs)))
                        return BAD(err, "linux.resources.cpu.mems '%s' is not a node list", ctr_json_string(cs));
                snprintf(l->cpuset_mems, sizeof(l->cpuset_mems), "%s", ctr_json_string(cs)), R->any = true;
                snprintf(v1->mems, sizeof(v1->mems), "%s", ctr_json_string(cs));
        }
        if (want(res, "pids", CTR_JSON_OBJECT, "linux.resources", "an object", &o, err) < 0)
                return -EINVAL;
        if ((r = get_int(o, "limit", "linux.resources.pids", -1, INT64_MAX, &x, err)) < 0)
                return -EINVAL;
        if (r && x > 0)
                l->pids = x, R->any = true;
        if (r)
                v1->pids_limit = x;
        if (want(res, "blockIO", CTR_JSON_OBJECT, "linux.resources", "an object", &o, err) < 0)
                return -EINVAL;
        if ((r = get_int(o, "weight", "linux.resources.blockIO", 0, 1000, &x, err)) < 0)
                return -EINVAL;
        if (r)
                v1->blkio_weight = (uint16_t)x;
        /* blkio.weight 10..1000 has no per-cgroup v2 counterpart in ctr's limits (io.weight is
         * per device there); device rules below are what ctr applies. */
        const char *throttle[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                  "throttleWriteIOPSDevice"};
        for (size_t t = 0; t < ARRAY_SIZE(throttle); t++) {
                if (want(o, throttle[t], CTR_JSON_ARRAY, "linux.resources.blockIO", "an array", &a, err) < 0)
                        return -EINVAL;
                for (size_t i = 0; a && i < ctr_json_len(a); i++) {
                        const ctr_json *d = ctr_json_at(a, i);
                        int64_t maj, min, rate;
                        if (get_int(d, "major", "linux.resources.blockIO", 0, 4095, &maj, err) != 1 ||
                            get_int(d, "minor", "linux.resources.blockIO", 0, 1048575, &min, err) != 1 ||
                            get_int(d, "rate", "linux.resources.blockIO", 0, INT64_MAX, &rate, err) != 1)
                                return err->errnum ? -EINVAL
                                                   : BAD(err, "linux.resources.blockIO.%s[%zu] needs major, minor, rate",
                                                         throttle[t], i);
                        struct ctr_cg_io *io = NULL;
                        for (size_t k = 0; k < l->n_io; k++)
                                if (l->io[k].major == maj && l->io[k].minor == min)
                                        io = &l->io[k];
                        if (!io) {
                                if (l->n_io == CTR_CG_IO_MAX)
                                        return BAD(err, "linux.resources.blockIO: more than %d devices", CTR_CG_IO_MAX);
                                io = &l->io[l->n_io++];
                                *io = (struct ctr_cg_io){.major = (unsigned)maj, .minor = (unsigned)min};
                        }
                        uint64_t *f[] = {&io->rbps, &io->wbps, &io->riops, &io->wiops};
                        *f[t] = (uint64_t)rate;
                        R->any = true;
                }
        }
        if (want(res, "devices", CTR_JSON_ARRAY, "linux.resources", "an array", &a, err) < 0)
                return -EINVAL;
        if (a) {
                R->devices = calloc(ctr_json_len(a) + 1, sizeof(struct ctr_cg_device));
                if (!R->devices)
                        abort();
                for (size_t i = 0; i < ctr_json_len(a); i++) {
                        const ctr_json *d = ctr_json_at(a, i);
                        bool allow = false;
                        _cleanup_free_ char *type = NULL, *access = NULL;
                        char where[48];
                        int64_t maj = -1, min = -1;
                        snprintf(where, sizeof(where), "linux.resources.devices[%zu]", i);
                        if (get_bool(d, "allow", where, &allow, err) < 0 || get_str(d, "type", where, &type, err) < 0 ||
                            get_str(d, "access", where, &access, err) < 0 ||
                            get_int(d, "major", where, -1, 4095, &maj, err) < 0 ||
                            get_int(d, "minor", where, -1, 1048575, &min, err) < 0)
                                return -EINVAL;
                        if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
                                return BAD(err, "%s.type must be a, b or c", where);
                        unsigned acc = 0;
                        for (const char *c = access ? access : "rwm"; *c; c++)
                                acc |= *c == 'r' ? CTR_DEV_READ : *c == 'w' ? CTR_DEV_WRITE : *c == 'm' ? CTR_DEV_MKNOD : 0x100;
                        if (acc & 0x100)
                                return BAD(err, "%s.access '%s' is not made of r, w, m", where, access);
                        /* The device program is an allow-list over a deny-all default: deny
                         * rules restate it; allow rules widen it. */
                        if (allow)
                                R->devices[R->n_devices++] = (struct ctr_cg_device){
                                        .type = type ? type[0] : 'a', .major = maj, .minor = min, .access = acc};
                }
        }
        if (get_typed(res, "hugepageLimits", CTR_JSON_ARRAY) && ctr_json_len(get_typed(res, "hugepageLimits", CTR_JSON_ARRAY)))
                return BAD(err, "linux.resources.hugepageLimits: the hugetlb controller is not supported by ctr");
        return 0;
}

static int parse_resources(const ctr_json *lx, struct ctr_oci_spec *s, struct ctr_error *err)
{
        const ctr_json *res;
        if (want(lx, "resources", CTR_JSON_OBJECT, "linux", "an object", &res, err) < 0)
                return -EINVAL;
        return res ? resources_obj(res, &s->resources, err) : 0;
}

int ctr_oci_resources_parse(const char *text, struct ctr_oci_resources *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *doc = NULL;
        *ret = (struct ctr_oci_resources){0};
        if (ctr_json_parse(text, &doc, err) < 0) {
                ctr_err_prefix(err, "resources");
                return -EINVAL;
        }
        if (ctr_json_type(doc) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "resources", "the resources must be a JSON object (runtime-spec LinuxResources)");
        int r = resources_obj(doc, ret, err);
        if (r < 0) {
                snprintf(err->op, sizeof(err->op), "resources"); /* not a config.json here */
                ctr_oci_resources_free(ret);
        }
        return r;
}

void ctr_oci_resources_free(struct ctr_oci_resources *r)
{
        free(r->devices);
        *r = (struct ctr_oci_resources){0};
}

static unsigned long propagation_of(const char *p)
{
        struct ctr_oci_mount m = {0};
        char *opts[] = {(char *)p, NULL};
        struct ctr_error e;
        if (ctr_oci_mount_options(opts, &m, &e) < 0 || !m.propagation) {
                free(m.data);
                return 0;
        }
        free(m.data);
        return m.propagation;
}

static int parse_linux(const ctr_json *root, struct ctr_oci_spec *s, struct ctr_error *err)
{
        const ctr_json *lx, *a;
        if (want(root, "linux", CTR_JSON_OBJECT, "", "an object", &lx, err) < 0)
                return -EINVAL;
        if (!lx)
                return 0;
        if (want(lx, "namespaces", CTR_JSON_ARRAY, "linux", "an array", &a, err) < 0)
                return -EINVAL;
        if (a) {
                s->namespaces = calloc(ctr_json_len(a) + 1, sizeof(*s->namespaces));
                if (!s->namespaces)
                        abort();
                for (size_t i = 0; i < ctr_json_len(a); i++) {
                        const ctr_json *o = ctr_json_at(a, i);
                        _cleanup_free_ char *type = NULL;
                        char where[32];
                        snprintf(where, sizeof(where), "linux.namespaces[%zu]", i);
                        struct ctr_oci_namespace *ns = &s->namespaces[s->n_namespaces];
                        if (get_str(o, "type", where, &type, err) < 0 || get_str(o, "path", where, &ns->path, err) < 0)
                                return -EINVAL;
                        ns->type = type ? ns_type(type) : -1;
                        if (ns->type <= 0) {
                                free(ns->path);
                                ns->path = NULL;
                                return BAD(err, "%s.type '%s' is not a namespace type", where, type ? type : "");
                        }
                        if (ns->path && ns->path[0] != '/') {
                                /* Not counted yet, so ctr_oci_spec_free would not see it. */
                                free(ns->path);
                                ns->path = NULL;
                                return BAD(err, "%s.path must be an absolute path", where);
                        }
                        for (size_t k = 0; k < s->n_namespaces; k++)
                                if (s->namespaces[k].type == ns->type) {
                                        free(ns->path);
                                        ns->path = NULL;
                                        return BAD(err, "%s: namespace '%s' given twice", where, type);
                                }
                        s->n_namespaces++;
                }
        }
        if (parse_idmaps(lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0 ||
            parse_idmaps(lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0 ||
            parse_devices(lx, s, err) < 0 || get_str(lx, "cgroupsPath", "linux", &s->cgroups_path, err) < 0 ||
            parse_resources(lx, s, err) < 0 || get_strv(lx, "maskedPaths", "linux", &s->masked_paths, err) < 0 ||
            get_strv(lx, "readonlyPaths", "linux", &s->readonly_paths, err) < 0)
                return -EINVAL;
        if ((s->n_uid_mappings || s->n_gid_mappings) && !ctr_oci_spec_ns(s, CLONE_NEWUSER))
                return BAD(err, "linux.uidMappings/gidMappings need a user namespace in linux.namespaces");
        const ctr_json *sc;
        if (want(lx, "sysctl", CTR_JSON_OBJECT, "linux", "an object", &sc, err) < 0)
                return -EINVAL;
        if (sc) {
                s->sysctl = calloc(ctr_json_len(sc) + 1, sizeof(char *));
                if (!s->sysctl)
                        abort();
                for (size_t i = 0; i < ctr_json_len(sc); i++) {
                        const ctr_json *v = ctr_json_at(sc, i);
                        const char *k = ctr_json_key(sc, i);
                        if (ctr_json_type(v) != CTR_JSON_STRING)
                                return BAD(err, "linux.sysctl.%s must be a string", k);
                        if (!*k || strstr(k, "..") || k[0] == '/' || k[0] == '.')
                                return BAD(err, "linux.sysctl: '%s' is not a sysctl name", k);
                        s->sysctl[i] = xasprintf("%s=%s", k, ctr_json_string(v));
                }
        }
        const ctr_json *seccomp = ctr_json_get(lx, "seccomp");
        if (seccomp && ctr_json_type(seccomp) != CTR_JSON_NULL) {
                if (ctr_json_type(seccomp) != CTR_JSON_OBJECT)
                        return BAD(err, "linux.seccomp must be an object");
                s->seccomp = seccomp;
        }
        _cleanup_free_ char *prop = NULL;
        if (get_str(lx, "rootfsPropagation", "linux", &prop, err) < 0)
                return -EINVAL;
        if (prop && !(s->rootfs_propagation = propagation_of(prop)))
                return BAD(err, "linux.rootfsPropagation '%s' is not a propagation type", prop);
        if (ctr_json_get(lx, "intelRdt"))
                strv_push(&s->warnings, "linux.intelRdt is ignored: ctr does not manage resctrl");
        if (ctr_json_get(lx, "mountLabel") || ctr_json_get(lx, "selinuxLabel"))
                strv_push(&s->warnings, "SELinux labels are ignored: ctr does not manage an LSM");
        return 0;
}

/* --- the whole document ------------------------------------------------------------------------ */

const struct ctr_oci_namespace *ctr_oci_spec_ns(const struct ctr_oci_spec *s, int type)
{
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == type)
                        return &s->namespaces[i];
        return NULL;
}

int ctr_oci_spec_parse(const char *text, const char *bundle, struct ctr_oci_spec *s, struct ctr_error *err)
{
        *s = (struct ctr_oci_spec){0};
        int r = -EINVAL;
        _cleanup_free_ char *rp = NULL;
        if (ctr_json_parse(text, &s->doc, err) < 0) {
                ctr_err_prefix(err, "config.json");
                goto fail;
        }
        const ctr_json *root = s->doc, *rt, *p;
        if (ctr_json_type(root) != CTR_JSON_OBJECT) {
                BAD(err, "the document must be an object");
                goto fail;
        }
        if (get_str(root, "ociVersion", "", &s->oci_version, err) < 0)
                goto fail;
        if (!s->oci_version) {
                BAD(err, "ociVersion is missing");
                goto fail;
        }
        if (strncmp(s->oci_version, "1.", 2)) {
                BAD(err, "ociVersion '%s' is not a 1.x runtime-spec version", s->oci_version);
                goto fail;
        }
        if (want(root, "root", CTR_JSON_OBJECT, "", "an object", &rt, err) < 0)
                goto fail;
        if (!rt) {
                BAD(err, "root is missing");
                goto fail;
        }
        if (get_str(rt, "path", "root", &rp, err) < 0 || get_bool(rt, "readonly", "root", &s->root_readonly, err) < 0)
                goto fail;
        if (!rp || !*rp) {
                BAD(err, "root.path is missing");
                goto fail;
        }
        s->root_path = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);
        if (get_str(root, "hostname", "", &s->hostname, err) < 0 || get_str(root, "domainname", "", &s->domainname, err) < 0 ||
            parse_mounts(root, s, err) < 0 || parse_hooks(root, s, err) < 0 || parse_linux(root, s, err) < 0)
                goto fail;
        if ((p = ctr_json_get(root, "process")) && ctr_json_type(p) != CTR_JSON_NULL) {
                s->has_process = true;
                if (parse_process(p, &s->process, true, err) < 0)
                        goto fail;
        }
        if (s->hostname && !ctr_oci_spec_ns(s, CLONE_NEWUTS)) {
                BAD(err, "hostname needs a uts namespace in linux.namespaces");
                goto fail;
        }
        const ctr_json *ann = ctr_json_get(root, "annotations");
        if (ann && ctr_json_type(ann) == CTR_JSON_OBJECT)
                s->annotations = ann;
        return 0;
fail:
        r = -(err->errnum ? err->errnum : EINVAL);
        ctr_oci_spec_free(s);
        return r;
}

int ctr_oci_spec_load(const char *bundle, struct ctr_oci_spec *ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle), *text = NULL;
        int r = ctr_read_record(path, 16 << 20, "bundle", &text, NULL, err);
        if (r < 0)
                return r;
        return ctr_oci_spec_parse(text, bundle, ret, err);
}

void ctr_oci_process_free(struct ctr_oci_process *p)
{
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->additional_gids);
        free(p->rlimits);
        *p = (struct ctr_oci_process){0};
}

void ctr_oci_spec_free(struct ctr_oci_spec *s)
{
        ctr_json_free(s->doc);
        free(s->oci_version);
        free(s->root_path);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        free(s->hostname);
        free(s->domainname);
        ctr_oci_process_free(&s->process);
        for (int k = 0; k < CTR_OCI_N_HOOKS; k++) {
                for (size_t i = 0; i < s->n_hooks[k]; i++) {
                        free(s->hooks[k][i].path);
                        strv_free(s->hooks[k][i].args);
                        strv_free(s->hooks[k][i].env);
                }
                free(s->hooks[k]);
        }
        for (size_t i = 0; i < s->n_namespaces; i++)
                free(s->namespaces[i].path);
        free(s->namespaces);
        free(s->uid_mappings);
        free(s->gid_mappings);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s->cgroups_path);
        free(s->resources.devices);
        strv_free(s->sysctl);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        strv_free(s->warnings);
        *s = (struct ctr_oci_spec){0};
}

char *ctr_oci_spec_default(bool rootless)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        /* The oldest version that has everything below: runtimes of 1.0's era take it too. */
        ctr_json_key_(g, "ociVersion");
        ctr_json_str(g, "1.0.2");
        ctr_json_key_(g, "process");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "terminal");
        ctr_json_boolean(g, true);
        ctr_json_key_(g, "user");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "uid");
        ctr_json_int_(g, 0);
        ctr_json_key_(g, "gid");
        ctr_json_int_(g, 0);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "args");
        ctr_json_arr_open(g);
        ctr_json_str(g, "sh");
        ctr_json_arr_close(g);
        ctr_json_key_(g, "env");
        ctr_json_arr_open(g);
        ctr_json_str(g, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        ctr_json_str(g, "TERM=xterm");
        ctr_json_arr_close(g);
        ctr_json_key_(g, "cwd");
        ctr_json_str(g, "/");
        static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
        ctr_json_key_(g, "capabilities");
        ctr_json_obj_open(g);
        static const char *const sets[] = {"bounding", "effective", "permitted"};
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                ctr_json_key_(g, sets[i]);
                ctr_json_arr_open(g);
                for (size_t k = 0; k < ARRAY_SIZE(caps); k++)
                        ctr_json_str(g, caps[k]);
                ctr_json_arr_close(g);
        }
        ctr_json_obj_close(g);
        ctr_json_key_(g, "rlimits");
        ctr_json_arr_open(g);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "type");
        ctr_json_str(g, "RLIMIT_NOFILE");
        ctr_json_key_(g, "hard");
        ctr_json_int_(g, 1024);
        ctr_json_key_(g, "soft");
        ctr_json_int_(g, 1024);
        ctr_json_obj_close(g);
        ctr_json_arr_close(g);
        ctr_json_key_(g, "noNewPrivileges");
        ctr_json_boolean(g, true);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "root");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "path");
        ctr_json_str(g, "rootfs");
        ctr_json_key_(g, "readonly");
        ctr_json_boolean(g, true);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "hostname");
        ctr_json_str(g, "ctr");
        static const struct {
                const char *dst, *type, *src, *opts[6];
        } mounts[] = {
                {"/proc", "proc", "proc", {NULL}},
                {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
                {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL}},
                {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
                {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
                {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
                {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
        };
        ctr_json_key_(g, "mounts");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
                if (rootless && (!strcmp(mounts[i].dst, "/sys/fs/cgroup") || !strcmp(mounts[i].dst, "/dev/mqueue")))
                        continue;
                ctr_json_obj_open(g);
                ctr_json_key_(g, "destination");
                ctr_json_str(g, mounts[i].dst);
                ctr_json_key_(g, "type");
                ctr_json_str(g, mounts[i].type);
                ctr_json_key_(g, "source");
                ctr_json_str(g, mounts[i].src);
                if (mounts[i].opts[0]) {
                        ctr_json_key_(g, "options");
                        ctr_json_arr_open(g);
                        for (size_t k = 0; mounts[i].opts[k]; k++)
                                ctr_json_str(g, mounts[i].opts[k]);
                        ctr_json_arr_close(g);
                }
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
        ctr_json_key_(g, "linux");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "namespaces");
        ctr_json_arr_open(g);
        static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
                ctr_json_obj_open(g);
                ctr_json_key_(g, "type");
                ctr_json_str(g, ns[i]);
                ctr_json_obj_close(g);
        }
        if (rootless) {
                ctr_json_obj_open(g);
                ctr_json_key_(g, "type");
                ctr_json_str(g, "user");
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
        static const char *const masked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                             "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                             "/proc/sched_debug", "/sys/firmware", "/proc/scsi"};
        static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
        ctr_json_key_(g, "maskedPaths");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
                ctr_json_str(g, masked[i]);
        ctr_json_arr_close(g);
        ctr_json_key_(g, "readonlyPaths");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
                ctr_json_str(g, ro[i]);
        ctr_json_arr_close(g);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        return xstrdup(ctr_json_gen_text(g, NULL));
}
