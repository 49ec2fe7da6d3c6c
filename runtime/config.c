/* config.json parsing, validation and serialisation. Parsing is strict: every key is known,
 * every value has the right type, and the first problem is reported with its key path. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../cgroups/cgroups.h"
#include "../base/json.h"
#include "../security/caps.h"
#include "../security/seccomp.h"
#include "../base/util.h"

#define CONFIG_MAX_BYTES (1 << 20)

char *ctr_config_default_hostname(const char *name)
{
        /* Container names may hold '_', host names may not; otherwise the two coincide. */
        char *h = xstrdup(name);
        for (char *p = h; *p; p++)
                if (*p == '_')
                        *p = '-';
        if (!ctr_hostname_valid(h)) {
                free(h);
                h = xstrdup("container");
        }
        return h;
}

void ctr_config_init(struct ctr_config *c, const char *name)
{
        memset(c, 0, sizeof(*c));
        c->version = CTR_CONFIG_VERSION;
        c->name = xstrdup(name);
        c->hostname = ctr_config_default_hostname(name);
        c->storage_driver = xstrdup("dir");
        c->init = calloc(2, sizeof(char *));
        if (!c->init)
                abort();
        c->init[0] = xstrdup("/sbin/init");
        c->net_mode = CTR_NET_BRIDGE;
        c->stop_timeout = 30;
        c->vm_vcpus = 1;
        c->vm_memory = 512ull << 20;
}

void ctr_config_free(struct ctr_config *c)
{
        if (!c)
                return;
        free(c->name);
        free(c->template_name);
        free(c->template_release);
        free(c->template_arch);
        free(c->template_dist);
        free(c->storage_driver);
        free(c->storage_lower);
        free(c->uuid);
        strv_free(c->init);
        free(c->hostname);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].source);
                free(c->mounts[i].target);
        }
        free(c->mounts);
        strv_free(c->env);
        strv_free(c->devices);
        free(c->limits.cpuset);
        free(c->limits.cpuset_mems);
        free(c->limits.io);
        free(c->stop_signal);
        free(c->vm_kernel);
        free(c->vm_initrd);
        strv_free(c->cap_add);
        strv_free(c->cap_drop);
        free(c->seccomp_profile);
        strv_free(c->seccomp_allow);
        strv_free(c->seccomp_deny);
        free(c->net.netns);
        free(c->net.bridge);
        free(c->net.ipv4);
        free(c->net.ipv6);
        free(c->net.ports);
        memset(c, 0, sizeof(*c));
}

const char *ctr_net_mode_name(enum ctr_net_mode m)
{
        static const char *const names[] = {
                [CTR_NET_NONE] = "none", [CTR_NET_HOST] = "host", [CTR_NET_BRIDGE] = "bridge", [CTR_NET_NETNS] = "netns"};
        return names[m];
}

int ctr_net_mode_from_name(const char *s, enum ctr_net_mode *ret)
{
        for (enum ctr_net_mode m = CTR_NET_NONE; m <= CTR_NET_NETNS; m++)
                if (!strcmp(s, ctr_net_mode_name(m)) && m != CTR_NET_NETNS) {
                        *ret = m;
                        return 0;
                }
        return -EINVAL;
}

int ctr_config_set_net_mode(struct ctr_config *c, const char *s, struct ctr_error *err)
{
        enum ctr_net_mode m;
        if (!strncmp(s, "netns:", 6)) {
                if (s[6] != '/')
                        return ctr_err(err, EINVAL, "network", "'%s': netns: takes an absolute path", s);
                free(c->net.netns);
                c->net.netns = xstrdup(s + 6);
                c->net_mode = CTR_NET_NETNS;
                return 0;
        }
        if (ctr_net_mode_from_name(s, &m) < 0)
                return ctr_err(err, EINVAL, "network", "mode '%s' is not bridge, none, host or netns:PATH", s);
        c->net_mode = m;
        free(c->net.netns);
        c->net.netns = NULL;
        return 0;
}

char *ctr_config_net_mode_text(const struct ctr_config *c)
{
        if (c->net_mode == CTR_NET_NETNS)
                return xasprintf("netns:%s", c->net.netns ? c->net.netns : "");
        return xstrdup(ctr_net_mode_name(c->net_mode));
}

static void put_io(struct ctr_limits *l, const struct ctr_cg_io *io)
{
        for (size_t i = 0; i < l->n_io; i++)
                if (l->io[i].major == io->major && l->io[i].minor == io->minor) {
                        l->io[i] = *io;
                        return;
                }
        struct ctr_cg_io *v = realloc(l->io, (l->n_io + 1) * sizeof(*v));
        if (!v)
                abort();
        l->io = v;
        l->io[l->n_io++] = *io;
}

int ctr_config_add_io(struct ctr_config *c, const char *spec, struct ctr_error *err)
{
        struct ctr_cg_io io;
        int r = ctr_cgroup_io_parse(spec, &io, err);
        if (r < 0)
                return r;
        if (c->limits.n_io >= CTR_CG_IO_MAX)
                return ctr_err(err, E2BIG, "io", "at most %d devices can have I/O limits", CTR_CG_IO_MAX);
        put_io(&c->limits, &io);
        return 0;
}

int ctr_config_add_port(struct ctr_config *c, const char *spec, struct ctr_error *err)
{
        struct ctr_port p;
        int r = ctr_port_parse(spec, &p, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->net.n_ports; i++)
                if (ctr_port_conflict(&c->net.ports[i], &p)) {
                        char a[96], b[96];
                        ctr_port_format(&c->net.ports[i], a, sizeof(a));
                        ctr_port_format(&p, b, sizeof(b));
                        return ctr_err(err, EEXIST, "port", "'%s' overlaps the forward '%s'", b, a);
                }
        struct ctr_port *v = realloc(c->net.ports, (c->net.n_ports + 1) * sizeof(*v));
        if (!v)
                abort();
        c->net.ports = v;
        c->net.ports[c->net.n_ports++] = p;
        return 0;
}

bool ctr_hostname_valid(const char *h)
{
        size_t n = h ? strlen(h) : 0;
        if (n == 0 || n > 64 || h[0] == '-' || h[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
                        return false;
        return true;
}

static bool env_key_valid(const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return false;
        for (const char *p = kv; p < eq; p++)
                if (!isalnum((unsigned char)*p) && *p != '_')
                        return false;
        return !isdigit((unsigned char)kv[0]);
}

int ctr_config_env_set(char ***env, const char *kv, struct ctr_error *err)
{
        if (!env_key_valid(kv))
                return ctr_err(err, EINVAL, "environment", "'%s' is not KEY=VALUE with a valid KEY", kv);
        size_t klen = strchr(kv, '=') - kv + 1, n = strv_len(*env);
        for (size_t i = 0; i < n; i++)
                if (!strncmp((*env)[i], kv, klen)) {
                        free((*env)[i]);
                        (*env)[i] = xstrdup(kv);
                        return 0;
                }
        char **v = realloc(*env, (n + 2) * sizeof(char *));
        if (!v)
                abort();
        v[n] = xstrdup(kv);
        v[n + 1] = NULL;
        *env = v;
        return 0;
}

static bool path_clean_absolute(const char *p)
{
        if (!p || p[0] != '/')
                return false;
        /* No ".." components: targets are resolved inside the rootfs and must not climb out. */
        for (const char *s = p; (s = strstr(s, "..")); s += 2)
                if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
                        return false;
        return true;
}

int ctr_config_parse_volume(const char *spec, struct ctr_mount *ret, struct ctr_error *err)
{
        _cleanup_free_ char *s = xstrdup(spec);
        char *ct = strchr(s, ':'), *opt;
        if (!ct)
                return ctr_err(err, EINVAL, "volume", "'%s' is not HOST:CONTAINER[:ro]", spec);
        *ct++ = 0;
        opt = strchr(ct, ':');
        if (opt)
                *opt++ = 0;
        if (opt && strcmp(opt, "ro") && strcmp(opt, "rw"))
                return ctr_err(err, EINVAL, "volume", "'%s': unknown option '%s' (ro or rw)", spec, opt);
        if (!path_clean_absolute(s) || !path_clean_absolute(ct))
                return ctr_err(err, EINVAL, "volume", "'%s': both paths must be absolute, without '..'", spec);
        ret->source = xstrdup(s);
        ret->target = xstrdup(ct);
        ret->readonly = opt && !strcmp(opt, "ro");
        return 0;
}

/* --- parsing ------------------------------------------------------------------------------ */

static int type_error(struct ctr_error *err, const char *key, const char *want, const ctr_json *v)
{
        return ctr_err(err, EINVAL, "config", "key '%s' must be %s, not %s", key, want, ctr_json_type_name(v));
}

static int get_string(const ctr_json *v, const char *key, bool nullable, char **ret, struct ctr_error *err)
{
        if (nullable && ctr_json_type(v) == CTR_JSON_NULL) {
                free(*ret);
                *ret = NULL;
                return 0;
        }
        if (ctr_json_type(v) != CTR_JSON_STRING)
                return type_error(err, key, nullable ? "a string or null" : "a string", v);
        free(*ret);
        *ret = xstrdup(ctr_json_string(v));
        return 0;
}

static int get_size(const ctr_json *v, const char *key, uint64_t *ret, struct ctr_error *err)
{
        if (ctr_json_type(v) == CTR_JSON_NULL) {
                *ret = 0;
                return 0;
        }
        if (ctr_json_type(v) != CTR_JSON_STRING)
                return type_error(err, key, "a size string like \"512M\" or null", v);
        if (ctr_parse_size(ctr_json_string(v), ret) < 0)
                return ctr_err(err, EINVAL, "config", "key '%s': '%s' is not a size (like 512M or 2G)", key,
                               ctr_json_string(v));
        return 0;
}

static int get_int(const ctr_json *v, const char *key, int64_t min, int64_t max, int64_t *ret,
                   struct ctr_error *err)
{
        if (ctr_json_type(v) == CTR_JSON_NULL) {
                *ret = 0;
                return 0;
        }
        if (ctr_json_type(v) == CTR_JSON_NUMBER && !ctr_json_number_ok(v))
                return ctr_err(err, ERANGE, "config", "key '%s' is out of range", key);
        if (!ctr_json_is_integer(v))
                return type_error(err, key, "an integer or null", v);
        int64_t x = ctr_json_int(v);
        if (x < min || x > max)
                return ctr_err(err, ERANGE, "config", "key '%s': %lld is out of range %lld..%lld", key,
                               (long long)x, (long long)min, (long long)max);
        *ret = x;
        return 0;
}

static int unknown_key(struct ctr_error *err, const char *prefix, const char *key)
{
        return ctr_err(err, EINVAL, "config", "unknown key '%s%s%s'", prefix ? prefix : "", prefix ? "." : "",
                       key);
}

static int parse_template(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "template", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int r;
                if (!strcmp(k, "name"))
                        r = get_string(v, "template.name", true, &c->template_name, err);
                else if (!strcmp(k, "release"))
                        r = get_string(v, "template.release", true, &c->template_release, err);
                else if (!strcmp(k, "arch"))
                        r = get_string(v, "template.arch", true, &c->template_arch, err);
                else if (!strcmp(k, "dist"))
                        r = get_string(v, "template.dist", true, &c->template_dist, err);
                else
                        r = unknown_key(err, "template", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_storage(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "storage", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                int r = !strcmp(k, "driver") ? get_string(ctr_json_at(o, i), "storage.driver", false,
                                                          &c->storage_driver, err)
                        : !strcmp(k, "lower")
                                ? get_string(ctr_json_at(o, i), "storage.lower", true, &c->storage_lower, err)
                                : unknown_key(err, "storage", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_strv(const ctr_json *a, const char *key, char ***ret, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, key, "an array of strings", a);
        char **v = calloc(ctr_json_len(a) + 1, sizeof(char *));
        if (!v)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *e = ctr_json_at(a, i);
                if (ctr_json_type(e) != CTR_JSON_STRING) {
                        strv_free(v);
                        return type_error(err, key, "an array of strings", a);
                }
                v[i] = xstrdup(ctr_json_string(e));
        }
        strv_free(*ret);
        *ret = v;
        return 0;
}

/* "io": [{"device": "8:0", "rbps": "50M", "wbps": null, "riops": 100, "wiops": null, "weight": 200}] */
static int parse_io(const ctr_json *a, struct ctr_limits *l, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "limits.io", "an array of objects", a);
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                char key[64], spec[256] = "";
                const char *dev = NULL;
                size_t n = 0;
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "limits.io[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        snprintf(key, sizeof(key), "limits.io[%zu].%s", i, k);
                        if (!strcmp(k, "device")) {
                                if (ctr_json_type(v) != CTR_JSON_STRING)
                                        return type_error(err, key, "\"MAJOR:MINOR\"", v);
                                dev = ctr_json_string(v);
                                continue;
                        }
                        bool size = !strcmp(k, "rbps") || !strcmp(k, "wbps");
                        if (!size && strcmp(k, "riops") && strcmp(k, "wiops") && strcmp(k, "weight"))
                                return unknown_key(err, "limits.io[]", k);
                        if (ctr_json_type(v) == CTR_JSON_NULL)
                                continue;
                        if (size && ctr_json_type(v) == CTR_JSON_STRING)
                                n += snprintf(spec + n, sizeof(spec) - n, "%s%s=%s", n ? "," : "", k, ctr_json_string(v));
                        else if (!size && ctr_json_is_integer(v))
                                n += snprintf(spec + n, sizeof(spec) - n, "%s%s=%lld", n ? "," : "", k,
                                              (long long)ctr_json_int(v));
                        else
                                return type_error(err, key, size ? "a size string or null" : "an integer or null", v);
                }
                if (!dev || strchr(dev, '/'))
                        return ctr_err(err, EINVAL, "config", "limits.io[%zu] needs 'device' as \"MAJOR:MINOR\"", i);
                char full[300];
                snprintf(full, sizeof(full), "%s:%s", dev, spec);
                struct ctr_cg_io io;
                if (ctr_cgroup_io_parse(full, &io, err) < 0) {
                        ctr_err_prefix(err, "config: limits.io[%zu]", i);
                        return -EINVAL;
                }
                put_io(l, &io);
        }
        return 0;
}

static int parse_limits(const ctr_json *o, struct ctr_limits *l, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "limits", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int64_t x = 0;
                int r;
                if (!strcmp(k, "memory"))
                        r = get_size(v, "limits.memory", &l->memory, err);
                else if (!strcmp(k, "memory_high"))
                        r = get_size(v, "limits.memory_high", &l->memory_high, err);
                else if (!strcmp(k, "memory_swap"))
                        r = get_size(v, "limits.memory_swap", &l->memory_swap, err);
                else if (!strcmp(k, "cpuset"))
                        r = get_string(v, "limits.cpuset", true, &l->cpuset, err);
                else if (!strcmp(k, "cpuset_mems"))
                        r = get_string(v, "limits.cpuset_mems", true, &l->cpuset_mems, err);
                else if (!strcmp(k, "io"))
                        r = parse_io(v, l, err);
                else if (!strcmp(k, "cpus")) {
                        if (ctr_json_type(v) == CTR_JSON_NULL) {
                                l->cpus = 0;
                                r = 0;
                        } else if (ctr_json_type(v) != CTR_JSON_NUMBER)
                                r = type_error(err, "limits.cpus", "a number or null", v);
                        else if (!ctr_json_number_ok(v))
                                r = ctr_err(err, ERANGE, "config", "key 'limits.cpus' must be between 0.01 and 4096");
                        else {
                                l->cpus = ctr_json_double(v);
                                r = 0;
                        }
                } else if (!strcmp(k, "cpu_weight")) {
                        r = get_int(v, "limits.cpu_weight", 1, 10000, &x, err);
                        l->cpu_weight = x;
                } else if (!strcmp(k, "pids")) {
                        r = get_int(v, "limits.pids", 1, INT32_MAX, &x, err);
                        l->pids = x;
                } else
                        r = unknown_key(err, "limits", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "seccomp": {"profile": "default"|"unconfined"|"/path.json", "allow": [...], "deny": [...]} */
static int parse_seccomp(const ctr_json *v, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(v) != CTR_JSON_OBJECT)
                return type_error(err, "security.seccomp", "an object", v);
        for (size_t j = 0; j < ctr_json_len(v); j++) {
                const char *k = ctr_json_key(v, j);
                const ctr_json *x = ctr_json_at(v, j);
                int r;
                if (!strcmp(k, "profile")) {
                        if (ctr_json_type(x) == CTR_JSON_NULL)
                                continue;
                        if (ctr_json_type(x) != CTR_JSON_STRING)
                                return type_error(err, "security.seccomp.profile", "a string", x);
                        free(c->seccomp_profile);
                        c->seccomp_profile = xstrdup(ctr_json_string(x));
                        r = 0;
                } else if (!strcmp(k, "allow"))
                        r = parse_strv(x, "security.seccomp.allow", &c->seccomp_allow, err);
                else if (!strcmp(k, "deny"))
                        r = parse_strv(x, "security.seccomp.deny", &c->seccomp_deny, err);
                else
                        r = unknown_key(err, "security.seccomp", k);
                if (r < 0)
                        return r;
        }
        return 0;
}


/* "security.idmap": null or {"uid": HOST, "gid": HOST, "count": N, "shift": "mount"|"chown"}. */
static int parse_idmap(const ctr_json *o, struct ctr_idmap *m, struct ctr_error *err)
{
        *m = (struct ctr_idmap){0};
        if (ctr_json_type(o) == CTR_JSON_NULL)
                return 0;
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "security.idmap", "an object or null", o);
        bool have[3] = {false};
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                static const char *const nums[] = {"uid", "gid", "count"};
                uint32_t *dst[] = {&m->uid, &m->gid, &m->count};
                bool done = false;
                for (size_t j = 0; j < ARRAY_SIZE(nums) && !done; j++)
                        if (!strcmp(k, nums[j])) {
                                _cleanup_free_ char *key = xasprintf("security.idmap.%s", k);
                                int64_t x;
                                int r = get_int(v, key, j == 2 ? 1 : 0, UINT32_MAX, &x, err);
                                if (r < 0)
                                        return r;
                                *dst[j] = (uint32_t)x;
                                have[j] = done = true;
                        }
                if (done)
                        continue;
                if (!strcmp(k, "shift")) {
                        const char *t = ctr_json_type(v) == CTR_JSON_STRING ? ctr_json_string(v) : NULL;
                        if (!t || (strcmp(t, "mount") && strcmp(t, "chown")))
                                return ctr_err(err, EINVAL, "config", "key 'security.idmap.shift' must be \"mount\" or \"chown\"");
                        m->chowned = !strcmp(t, "chown");
                } else
                        return unknown_key(err, "security.idmap", k);
        }
        if (!have[0] || !have[1] || !have[2])
                return ctr_err(err, EINVAL, "config", "key 'security.idmap' needs uid, gid and count");
        return 0;
}

/* "security": {"capabilities": {"add": [...], "drop": [...]}, "seccomp": {...}, "no_new_privs": false,
 * "userns": false, "idmap": null}. */
static int parse_security(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "security", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int r = 0;
                if (!strcmp(k, "no_new_privs")) {
                        if (ctr_json_type(v) != CTR_JSON_BOOL)
                                return type_error(err, "security.no_new_privs", "true or false", v);
                        c->no_new_privs = ctr_json_bool(v);
                } else if (!strcmp(k, "capabilities")) {
                        if (ctr_json_type(v) != CTR_JSON_OBJECT)
                                return type_error(err, "security.capabilities", "an object", v);
                        for (size_t j = 0; j < ctr_json_len(v) && r == 0; j++) {
                                const char *ck = ctr_json_key(v, j);
                                if (!strcmp(ck, "add"))
                                        r = parse_strv(ctr_json_at(v, j), "security.capabilities.add", &c->cap_add, err);
                                else if (!strcmp(ck, "drop"))
                                        r = parse_strv(ctr_json_at(v, j), "security.capabilities.drop", &c->cap_drop, err);
                                else
                                        r = unknown_key(err, "security.capabilities", ck);
                        }
                } else if (!strcmp(k, "seccomp"))
                        r = parse_seccomp(v, c, err);
                else if (!strcmp(k, "userns")) {
                        if (ctr_json_type(v) != CTR_JSON_BOOL)
                                return type_error(err, "security.userns", "true or false", v);
                        c->userns = ctr_json_bool(v);
                } else if (!strcmp(k, "idmap"))
                        r = parse_idmap(v, &c->idmap, err);
                else
                        return unknown_key(err, "security", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_ports(const ctr_json *a, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "network.ports", "an array of objects", a);
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                char key[64], spec[128];
                const char *host_ip = NULL, *proto = "tcp";
                int64_t host = 0, ct = 0;
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "network.ports[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        int r = 0;
                        snprintf(key, sizeof(key), "network.ports[%zu].%s", i, k);
                        if (!strcmp(k, "host_ip")) {
                                if (ctr_json_type(v) == CTR_JSON_STRING)
                                        host_ip = ctr_json_string(v);
                                else if (ctr_json_type(v) != CTR_JSON_NULL)
                                        r = type_error(err, key, "an address or null", v);
                        } else if (!strcmp(k, "host") || !strcmp(k, "container")) {
                                r = get_int(v, key, 1, 65535, !strcmp(k, "host") ? &host : &ct, err);
                        } else if (!strcmp(k, "proto")) {
                                if (ctr_json_type(v) != CTR_JSON_STRING)
                                        r = type_error(err, key, "\"tcp\" or \"udp\"", v);
                                else
                                        proto = ctr_json_string(v);
                        } else
                                r = unknown_key(err, "network.ports[]", k);
                        if (r < 0)
                                return r;
                }
                if (!host || !ct)
                        return ctr_err(err, EINVAL, "config", "network.ports[%zu] needs 'host' and 'container'", i);
                if (host_ip && strchr(host_ip, ':'))
                        snprintf(spec, sizeof(spec), "[%s]:%lld:%lld/%s", host_ip, (long long)host, (long long)ct, proto);
                else if (host_ip)
                        snprintf(spec, sizeof(spec), "%s:%lld:%lld/%s", host_ip, (long long)host, (long long)ct, proto);
                else
                        snprintf(spec, sizeof(spec), "%lld:%lld/%s", (long long)host, (long long)ct, proto);
                int r = ctr_config_add_port(c, spec, err);
                if (r < 0) {
                        ctr_err_prefix(err, "config: network.ports[%zu]", i);
                        return r;
                }
        }
        return 0;
}

static int parse_network(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "network", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int r;
                if (!strcmp(k, "mode")) {
                        if (ctr_json_type(v) != CTR_JSON_STRING)
                                return type_error(err, "network.mode", "a string", v);
                        r = ctr_config_set_net_mode(c, ctr_json_string(v), err);
                        if (r < 0)
                                ctr_err_prefix(err, "config: key 'network.mode'");
                } else if (!strcmp(k, "bridge"))
                        r = get_string(v, "network.bridge", true, &c->net.bridge, err);
                else if (!strcmp(k, "ipv4"))
                        r = get_string(v, "network.ipv4", true, &c->net.ipv4, err);
                else if (!strcmp(k, "ipv6"))
                        r = get_string(v, "network.ipv6", true, &c->net.ipv6, err);
                else if (!strcmp(k, "ports"))
                        r = parse_ports(v, c, err);
                else
                        return unknown_key(err, "network", k);
                if (r < 0)
                        return r;
        }
        /* "auto" is the same as leaving the key out. */
        if (c->net.ipv4 && !strcmp(c->net.ipv4, "auto"))
                free(c->net.ipv4), c->net.ipv4 = NULL;
        if (c->net.ipv6 && !strcmp(c->net.ipv6, "auto"))
                free(c->net.ipv6), c->net.ipv6 = NULL;
        return 0;
}

static int parse_mounts(const ctr_json *a, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "mounts", "an array of objects", a);
        c->mounts = calloc(ctr_json_len(a) + 1, sizeof(*c->mounts));
        if (!c->mounts)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                struct ctr_mount *m = &c->mounts[c->n_mounts++];
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "mounts[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        int r;
                        if (!strcmp(k, "source"))
                                r = get_string(v, "mounts[].source", false, &m->source, err);
                        else if (!strcmp(k, "target"))
                                r = get_string(v, "mounts[].target", false, &m->target, err);
                        else if (!strcmp(k, "readonly")) {
                                if (ctr_json_type(v) != CTR_JSON_BOOL)
                                        return type_error(err, "mounts[].readonly", "a boolean", v);
                                m->readonly = ctr_json_bool(v);
                                r = 0;
                        } else
                                r = unknown_key(err, "mounts[]", k);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_environment(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "environment", "an object of strings", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                ctr_json *v = ctr_json_at(o, i);
                if (ctr_json_type(v) != CTR_JSON_STRING)
                        return type_error(err, "environment", "an object of strings", o);
                _cleanup_free_ char *kv = xasprintf("%s=%s", ctr_json_key(o, i), ctr_json_string(v));
                int r = ctr_config_env_set(&c->env, kv, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_vm(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "vm", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int64_t x = 0;
                int r;
                if (!strcmp(k, "vcpus")) {
                        r = get_int(v, "vm.vcpus", 1, 32, &x, err);
                        c->vm_vcpus = x;
                } else if (!strcmp(k, "memory"))
                        r = get_size(v, "vm.memory", &c->vm_memory, err);
                else if (!strcmp(k, "disk"))
                        r = get_size(v, "vm.disk", &c->vm_disk, err);
                else if (!strcmp(k, "kernel"))
                        r = get_string(v, "vm.kernel", true, &c->vm_kernel, err);
                else if (!strcmp(k, "initrd"))
                        r = get_string(v, "vm.initrd", true, &c->vm_initrd, err);
                else
                        r = unknown_key(err, "vm", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_stop(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "stop", "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int64_t x = 0;
                int r;
                if (!strcmp(k, "signal"))
                        r = get_string(v, "stop.signal", true, &c->stop_signal, err);
                else if (!strcmp(k, "timeout")) {
                        r = get_int(v, "stop.timeout", 0, 86400, &x, err);
                        c->stop_timeout = x;
                } else
                        r = unknown_key(err, "stop", k);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* yajl keeps repeated keys; a config where one says two things is refused, not guessed at. */
static int check_duplicates(const ctr_json *v, const char *path, struct ctr_error *err)
{
        if (ctr_json_type(v) == CTR_JSON_ARRAY) {
                for (size_t i = 0; i < ctr_json_len(v); i++) {
                        _cleanup_free_ char *sub = xasprintf("%s[]", path);
                        int r = check_duplicates(ctr_json_at(v, i), sub, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (ctr_json_type(v) != CTR_JSON_OBJECT)
                return 0;
        for (size_t i = 0; i < ctr_json_len(v); i++) {
                const char *k = ctr_json_key(v, i);
                _cleanup_free_ char *sub = *path ? xasprintf("%s.%s", path, k) : xstrdup(k);
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(k, ctr_json_key(v, j)))
                                return ctr_err(err, EINVAL, "config", "key '%s' appears twice", sub);
                int r = check_duplicates(ctr_json_at(v, i), sub, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ctr_config_parse(const char *text, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *root = NULL;
        struct ctr_config c;
        int r;

        r = ctr_json_parse(text, &root, err);
        if (r < 0)
                return r;
        if (ctr_json_type(root) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "config", "the document must be an object, not %s",
                               ctr_json_type_name(root));
        r = check_duplicates(root, "", err);
        if (r < 0)
                return r;

        ctr_json *ver = ctr_json_get(root, "version");
        if (!ver)
                return ctr_err(err, EINVAL, "config", "missing key 'version'");
        if (!ctr_json_is_integer(ver) || ctr_json_int(ver) < 1)
                return ctr_err(err, EINVAL, "config", "key 'version' must be a positive integer");
        if (ctr_json_int(ver) > CTR_CONFIG_VERSION)
                return ctr_err(err, EPROTONOSUPPORT, "config",
                               "format version %lld is newer than this ctr understands (%d)",
                               (long long)ctr_json_int(ver), CTR_CONFIG_VERSION);

        ctr_json *name = ctr_json_get(root, "name");
        if (ctr_json_type(name) != CTR_JSON_STRING)
                return ctr_err(err, EINVAL, "config", "key 'name' must be a string");
        /* Keys left out take their defaults (hostname: derived from the name). */
        ctr_config_init(&c, ctr_json_string(name));

        for (size_t i = 0; i < ctr_json_len(root) && r >= 0; i++) {
                const char *k = ctr_json_key(root, i);
                ctr_json *v = ctr_json_at(root, i);
                if (!strcmp(k, "version") || !strcmp(k, "name"))
                        continue;
                if (!strcmp(k, "template"))
                        r = parse_template(v, &c, err);
                else if (!strcmp(k, "storage"))
                        r = parse_storage(v, &c, err);
                else if (!strcmp(k, "init"))
                        r = parse_strv(v, "init", &c.init, err);
                else if (!strcmp(k, "hostname"))
                        r = get_string(v, "hostname", false, &c.hostname, err);
                else if (!strcmp(k, "mode")) {
                        if (ctr_json_type(v) != CTR_JSON_STRING ||
                            (strcmp(ctr_json_string(v), "container") && strcmp(ctr_json_string(v), "vm")))
                                r = ctr_err(err, EINVAL, "config", "key 'mode' must be \"container\" or \"vm\"");
                        else
                                c.vm = !strcmp(ctr_json_string(v), "vm");
                } else if (!strcmp(k, "vm"))
                        r = parse_vm(v, &c, err); else if (!strcmp(k, "limits"))
                        r = parse_limits(v, &c.limits, err);
                else if (!strcmp(k, "network"))
                        r = parse_network(v, &c, err);
                else if (!strcmp(k, "mounts"))
                        r = parse_mounts(v, &c, err);
                else if (!strcmp(k, "environment"))
                        r = parse_environment(v, &c, err);
                else if (!strcmp(k, "stop"))
                        r = parse_stop(v, &c, err);
                else if (!strcmp(k, "devices"))
                        r = parse_strv(v, "devices", &c.devices, err);
                else if (!strcmp(k, "uuid"))
                        r = get_string(v, "uuid", true, &c.uuid, err);
                else if (!strcmp(k, "security"))
                        r = parse_security(v, &c, err);
                else if (!strcmp(k, "autostart")) {
                        if (ctr_json_type(v) != CTR_JSON_BOOL)
                                r = type_error(err, "autostart", "true or false", v);
                        else
                                c.autostart = ctr_json_bool(v);
                }
                else
                        r = unknown_key(err, NULL, k);
        }
        if (r >= 0)
                r = ctr_config_validate(&c, err);
        if (r < 0) {
                ctr_config_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static int validate_network(const struct ctr_config *c, struct ctr_error *err)
{
        struct in_addr a4;
        struct in6_addr a6;
        if (c->net_mode == CTR_NET_NETNS && (!c->net.netns || c->net.netns[0] != '/'))
                return ctr_err(err, EINVAL, "config", "key 'network.mode': netns: needs an absolute path");
        if (c->net.bridge && (!*c->net.bridge || strlen(c->net.bridge) >= IFNAMSIZ || strchr(c->net.bridge, '/')))
                return ctr_err(err, EINVAL, "config", "key 'network.bridge': '%s' is not an interface name",
                               c->net.bridge);
        if (c->net.ipv4 && inet_pton(AF_INET, c->net.ipv4, &a4) != 1)
                return ctr_err(err, EINVAL, "config", "key 'network.ipv4': '%s' is not auto or an IPv4 address",
                               c->net.ipv4);
        if (c->net.ipv6 && strcmp(c->net.ipv6, "none") && inet_pton(AF_INET6, c->net.ipv6, &a6) != 1)
                return ctr_err(err, EINVAL, "config", "key 'network.ipv6': '%s' is not auto, none or an IPv6 address",
                               c->net.ipv6);
        if (c->net.n_ports && c->net_mode != CTR_NET_BRIDGE)
                return ctr_err(err, EINVAL, "config", "port forwards need network mode bridge, not %s",
                               ctr_net_mode_name(c->net_mode));
        return 0;
}

static bool lower_valid(const char *l)
{
        if (!l || !*l || strpbrk(l, ",\\"))
                return false;
        for (const char *part = l; part; part = strchr(part, ':') ? strchr(part, ':') + 1 : NULL)
                if (*part != '/')
                        return false;
        return true;
}

int ctr_config_validate(const struct ctr_config *c, struct ctr_error *err)
{
        if (!ctr_name_valid(c->name))
                return ctr_err(err, EINVAL, "config",
                               "name '%s' is invalid (1-64 characters of A-Z a-z 0-9 _ . -, starting with a "
                               "letter or digit)",
                               c->name);
        if (strcmp(c->storage_driver, "dir") && strcmp(c->storage_driver, "overlay"))
                return ctr_err(err, EINVAL, "config",
                               "key 'storage.driver': '%s' is not a known driver (dir, overlay)", c->storage_driver);
        if (c->vm_vcpus < 1 || c->vm_vcpus > 32)
                return ctr_err(err, EINVAL, "config", "key 'vm.vcpus': %u is outside 1-32", c->vm_vcpus);
        if (c->vm_memory < (64ull << 20) || c->vm_memory > (3072ull << 20))
                return ctr_err(err, EINVAL, "config", "key 'vm.memory': must be from 64M to 3G");
        if (c->vm_disk && (c->vm_disk < (16ull << 20) || c->vm_disk > (1ull << 40)))
                return ctr_err(err, EINVAL, "config", "key 'vm.disk': must be from 16M to 1T, or null");
        if (c->vm && (c->net_mode == CTR_NET_HOST || c->net_mode == CTR_NET_NETNS))
                return ctr_err(err, EINVAL, "config", "a VM cannot share a network namespace (network mode %s)",
                               ctr_net_mode_name(c->net_mode));
        /* The lower goes into overlayfs' option string, where ',' separates options and ':'
         * layers: absolute paths, ':' between layers (ctr run --from stacks two). */
        if (!strcmp(c->storage_driver, "overlay") && !lower_valid(c->storage_lower))
                return ctr_err(err, EINVAL, "config",
                               "key 'storage.lower' must be absolute paths (':' between layers) without ',' or '\\' "
                               "for the overlay driver");
        if (c->uuid && !ctr_uuid_valid(c->uuid))
                return ctr_err(err, EINVAL, "config", "key 'uuid': '%s' is not a UUID", c->uuid);
        if (!c->init || !c->init[0] || !*c->init[0] || (c->init[0][0] != '/' && strchr(c->init[0], '/')))
                return ctr_err(err, EINVAL, "config",
                               "key 'init' must start with an absolute path or a command name found in PATH");
        if (!ctr_hostname_valid(c->hostname))
                return ctr_err(err, EINVAL, "config", "key 'hostname': '%s' is not a valid host name",
                               c->hostname);
        if (c->limits.cpus < 0 || (c->limits.cpus > 0 && c->limits.cpus < 0.01) || c->limits.cpus > 4096 ||
            isnan(c->limits.cpus))
                return ctr_err(err, ERANGE, "config", "key 'limits.cpus' must be between 0.01 and 4096");
        if (c->limits.cpuset && !ctr_cgroup_cpuset_valid(c->limits.cpuset))
                return ctr_err(err, EINVAL, "config", "key 'limits.cpuset': '%s' is not a CPU list (like 0-1,4)",
                               c->limits.cpuset);
        if (c->limits.cpuset_mems && !ctr_cgroup_cpuset_valid(c->limits.cpuset_mems))
                return ctr_err(err, EINVAL, "config", "key 'limits.cpuset_mems': '%s' is not a node list (like 0-1)",
                               c->limits.cpuset_mems);
        if (c->limits.n_io > CTR_CG_IO_MAX)
                return ctr_err(err, E2BIG, "config", "key 'limits.io': at most %d devices", CTR_CG_IO_MAX);
        if (c->limits.memory && c->limits.memory < (1 << 20))
                return ctr_err(err, ERANGE, "config", "key 'limits.memory' must be at least 1M");
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct ctr_mount *m = &c->mounts[i];
                if (!path_clean_absolute(m->source) || !path_clean_absolute(m->target))
                        return ctr_err(err, EINVAL, "config",
                                       "mounts[%zu]: source and target must be absolute paths without '..'", i);
        }
        for (char **d = c->devices; d && *d; d++) {
                struct ctr_cg_device dev;
                if (ctr_cgroup_device_parse(*d, &dev) < 0)
                        return ctr_err(err, EINVAL, "config",
                                       "key 'devices': '%s' is not TYPE MAJOR:MINOR ACCESS (like \"c 10:200 rwm\")", *d);
        }
        if (c->stop_signal && ctr_signal_from_name(c->stop_signal) < 0)
                return ctr_err(err, EINVAL, "config", "key 'stop.signal': '%s' is not a signal", c->stop_signal);
        if (c->idmap.count) {
                const struct ctr_idmap *m = &c->idmap;
                if (!c->userns)
                        return ctr_err(err, EINVAL, "config", "key 'security.idmap' needs security.userns true");
                if (!m->uid || !m->gid)
                        return ctr_err(err, EINVAL, "config",
                                       "key 'security.idmap': root inside must not be the host's root (uid and gid 0)");
                if ((uint64_t)m->uid + m->count > (uint64_t)UINT32_MAX + 1 ||
                    (uint64_t)m->gid + m->count > (uint64_t)UINT32_MAX + 1)
                        return ctr_err(err, ERANGE, "config", "key 'security.idmap': the range passes 2^32");
        }
        if (c->userns && c->net_mode != CTR_NET_BRIDGE && c->net_mode != CTR_NET_NONE)
                return ctr_err(err, EINVAL, "config",
                               "key 'security.userns' needs network mode bridge or none, not %s (the host's network "
                               "namespace belongs to the host's user namespace)",
                               ctr_net_mode_name(c->net_mode));
        ctr_capmask caps;
        if (ctr_caps_compute(c->cap_add, c->cap_drop, &caps, err) < 0) {
                ctr_err_prefix(err, "config: key 'security.capabilities'");
                return -EINVAL;
        }
        struct ctr_seccomp_spec sc = ctr_config_seccomp(c, caps);
        if (ctr_seccomp_check(&sc, err) < 0) {
                ctr_err_prefix(err, "config: key 'security.seccomp'");
                return -EINVAL;
        }
        return validate_network(c, err);
}

static void gen_str_or_null(struct ctr_json_gen *g, const char *key, const char *v)
{
        ctr_json_key_(g, key);
        ctr_json_str(g, v);
}

static void gen_size(struct ctr_json_gen *g, const char *key, uint64_t v)
{
        char buf[32];
        ctr_json_key_(g, key);
        if (!v) {
                ctr_json_null(g);
                return;
        }
        ctr_format_size(v, buf, sizeof(buf));
        ctr_json_str(g, buf);
}

char *ctr_config_to_json(const struct ctr_config *c)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);

        ctr_json_obj_open(g);
        ctr_json_key_(g, "version");
        ctr_json_int_(g, c->version);
        gen_str_or_null(g, "name", c->name);
        ctr_json_key_(g, "template");
        ctr_json_obj_open(g);
        gen_str_or_null(g, "name", c->template_name);
        gen_str_or_null(g, "release", c->template_release);
        gen_str_or_null(g, "arch", c->template_arch);
        if (c->template_dist)
                gen_str_or_null(g, "dist", c->template_dist);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "storage");
        ctr_json_obj_open(g);
        gen_str_or_null(g, "driver", c->storage_driver);
        if (c->storage_lower)
                gen_str_or_null(g, "lower", c->storage_lower);
        ctr_json_obj_close(g);
        if (c->uuid)
                gen_str_or_null(g, "uuid", c->uuid);
        ctr_json_key_(g, "autostart");
        ctr_json_boolean(g, c->autostart);
        ctr_json_key_(g, "security");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "capabilities");
        ctr_json_obj_open(g);
        const char *ck[] = {"add", "drop"};
        char **const cv[] = {c->cap_add, c->cap_drop};
        for (size_t i = 0; i < 2; i++) {
                ctr_json_key_(g, ck[i]);
                ctr_json_arr_open(g);
                for (char **p = cv[i]; p && *p; p++)
                        ctr_json_str(g, *p);
                ctr_json_arr_close(g);
        }
        ctr_json_obj_close(g);
        ctr_json_key_(g, "seccomp");
        ctr_json_obj_open(g);
        gen_str_or_null(g, "profile", c->seccomp_profile ? c->seccomp_profile : "default");
        const char *sk[] = {"allow", "deny"};
        char **const sv[] = {c->seccomp_allow, c->seccomp_deny};
        for (size_t i = 0; i < 2; i++) {
                ctr_json_key_(g, sk[i]);
                ctr_json_arr_open(g);
                for (char **p = sv[i]; p && *p; p++)
                        ctr_json_str(g, *p);
                ctr_json_arr_close(g);
        }
        ctr_json_obj_close(g);
        ctr_json_key_(g, "no_new_privs");
        ctr_json_boolean(g, c->no_new_privs);
        ctr_json_key_(g, "userns");
        ctr_json_boolean(g, c->userns);
        ctr_json_key_(g, "idmap");
        if (c->idmap.count) {
                ctr_json_obj_open(g);
                ctr_json_key_(g, "uid");
                ctr_json_int_(g, c->idmap.uid);
                ctr_json_key_(g, "gid");
                ctr_json_int_(g, c->idmap.gid);
                ctr_json_key_(g, "count");
                ctr_json_int_(g, c->idmap.count);
                gen_str_or_null(g, "shift", c->idmap.chowned ? "chown" : "mount");
                ctr_json_obj_close(g);
        } else
                ctr_json_null(g);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "init");
        ctr_json_arr_open(g);
        for (char **p = c->init; p && *p; p++)
                ctr_json_str(g, *p);
        ctr_json_arr_close(g);
        gen_str_or_null(g, "hostname", c->hostname);
        gen_str_or_null(g, "mode", c->vm ? "vm" : "container");
        ctr_json_key_(g, "vm");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "vcpus");
        ctr_json_int_(g, c->vm_vcpus);
        gen_size(g, "memory", c->vm_memory);
        gen_size(g, "disk", c->vm_disk);
        gen_str_or_null(g, "kernel", c->vm_kernel);
        gen_str_or_null(g, "initrd", c->vm_initrd);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "limits");
        ctr_json_obj_open(g);
        gen_size(g, "memory", c->limits.memory);
        gen_size(g, "memory_high", c->limits.memory_high);
        ctr_json_key_(g, "cpus");
        if (c->limits.cpus > 0)
                ctr_json_dbl(g, c->limits.cpus);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "cpu_weight");
        if (c->limits.cpu_weight)
                ctr_json_int_(g, c->limits.cpu_weight);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "pids");
        if (c->limits.pids)
                ctr_json_int_(g, c->limits.pids);
        else
                ctr_json_null(g);
        gen_size(g, "memory_swap", c->limits.memory_swap);
        gen_str_or_null(g, "cpuset", c->limits.cpuset);
        gen_str_or_null(g, "cpuset_mems", c->limits.cpuset_mems);
        ctr_json_key_(g, "io");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->limits.n_io; i++) {
                const struct ctr_cg_io *io = &c->limits.io[i];
                char dev[32];
                snprintf(dev, sizeof(dev), "%u:%u", io->major, io->minor);
                ctr_json_obj_open(g);
                gen_str_or_null(g, "device", dev);
                gen_size(g, "rbps", io->rbps);
                gen_size(g, "wbps", io->wbps);
                const char *names[] = {"riops", "wiops", "weight"};
                uint64_t vals[] = {io->riops, io->wiops, io->weight};
                for (size_t j = 0; j < ARRAY_SIZE(vals); j++) {
                        ctr_json_key_(g, names[j]);
                        if (vals[j])
                                ctr_json_int_(g, (int64_t)vals[j]);
                        else
                                ctr_json_null(g);
                }
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "network");
        ctr_json_obj_open(g);
        _cleanup_free_ char *mode = ctr_config_net_mode_text(c);
        gen_str_or_null(g, "mode", mode);
        gen_str_or_null(g, "bridge", c->net.bridge);
        gen_str_or_null(g, "ipv4", c->net.ipv4 ? c->net.ipv4 : "auto");
        gen_str_or_null(g, "ipv6", c->net.ipv6 ? c->net.ipv6 : "auto");
        ctr_json_key_(g, "ports");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->net.n_ports; i++) {
                const struct ctr_port *pt = &c->net.ports[i];
                ctr_json_obj_open(g);
                gen_str_or_null(g, "host_ip", pt->family ? pt->host_ip : NULL);
                ctr_json_key_(g, "host");
                ctr_json_int_(g, pt->host);
                ctr_json_key_(g, "container");
                ctr_json_int_(g, pt->container);
                gen_str_or_null(g, "proto", pt->proto == IPPROTO_UDP ? "udp" : "tcp");
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
        ctr_json_obj_close(g);
        ctr_json_key_(g, "mounts");
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->n_mounts; i++) {
                ctr_json_obj_open(g);
                gen_str_or_null(g, "source", c->mounts[i].source);
                gen_str_or_null(g, "target", c->mounts[i].target);
                ctr_json_key_(g, "readonly");
                ctr_json_boolean(g, c->mounts[i].readonly);
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
        ctr_json_key_(g, "environment");
        ctr_json_obj_open(g);
        for (char **p = c->env; p && *p; p++) {
                const char *eq = strchr(*p, '=');
                _cleanup_free_ char *k = strndup(*p, eq - *p);
                ctr_json_key_(g, k);
                ctr_json_str(g, eq + 1);
        }
        ctr_json_obj_close(g);
        ctr_json_key_(g, "devices");
        ctr_json_arr_open(g);
        for (char **d = c->devices; d && *d; d++)
                ctr_json_str(g, *d);
        ctr_json_arr_close(g);
        ctr_json_key_(g, "stop");
        ctr_json_obj_open(g);
        gen_str_or_null(g, "signal", c->stop_signal);
        ctr_json_key_(g, "timeout");
        ctr_json_int_(g, c->stop_timeout);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        return xstrdup(ctr_json_gen_text(g, NULL));
}

int ctr_config_load(const char *path, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r = ctr_read_file(path, CONFIG_MAX_BYTES, &text, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "config", "read %s", path);
        r = ctr_config_parse(text, ret, err);
        if (r < 0)
                ctr_err_prefix(err, "%s", path);
        return r;
}

int ctr_config_save(const char *path, const struct ctr_config *c, struct ctr_error *err)
{
        return ctr_config_save_sync(path, c, true, err);
}

int ctr_config_save_sync(const char *path, const struct ctr_config *c, bool sync, struct ctr_error *err)
{
        _cleanup_free_ char *text = ctr_config_to_json(c);
        int r = sync ? ctr_write_atomic(path, text, strlen(text), 0644)
                     : ctr_write_atomic_volatile(path, text, strlen(text), 0644);
        if (r < 0)
                return ctr_err_sys(err, -r, "config", "write %s", path);
        return 0;
}

int ctr_config_add_seccomp(struct ctr_config *c, bool allow, const char *list, struct ctr_error *err)
{
        _cleanup_free_ char *copy = xstrdup(list);
        char ***dst = allow ? &c->seccomp_allow : &c->seccomp_deny;
        char *save = NULL;
        for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                if (ctr_seccomp_check_name(n, err) < 0)
                        return -EINVAL;
                size_t len = strv_len(*dst);
                *dst = xrealloc(*dst, (len + 2) * sizeof(char *));
                (*dst)[len] = xstrdup(n);
                (*dst)[len + 1] = NULL;
        }
        return 0;
}

struct ctr_seccomp_spec ctr_config_seccomp(const struct ctr_config *c, ctr_capmask caps)
{
        return (struct ctr_seccomp_spec){
                .profile = c->seccomp_profile, .allow = c->seccomp_allow, .deny = c->seccomp_deny, .caps = caps};
}

/* --- get/set by key ------------------------------------------------------------------------ */

static const char *const settable_keys[] = {
        "hostname",   "init",          "network.mode", "network.bridge", "network.ipv4", "network.ipv6",      "stop.signal", "stop.timeout", "limits.memory",
        "limits.memory_high", "limits.memory_swap", "limits.cpus", "limits.cpu_weight", "limits.pids",
        "limits.cpuset", "limits.cpuset_mems", "limits.io", "autostart", "security.no_new_privs",
        "security.seccomp.profile", "security.userns", "vm.vcpus", "vm.memory", "vm.kernel", "vm.initrd", NULL,
};

const char *const *ctr_config_keys(void)
{
        return settable_keys;
}

static bool is_null(const char *v)
{
        return !strcmp(v, "null") || !strcmp(v, "none");
}

int ctr_config_get(const struct ctr_config *c, const char *key, char **ret, struct ctr_error *err)
{
        char buf[64];
        const char *v = NULL;
        if (!strcmp(key, "hostname"))
                v = c->hostname;
        else if (!strcmp(key, "init"))
                v = c->init[0];
        else if (!strcmp(key, "network.mode")) {
                *ret = ctr_config_net_mode_text(c);
                return 0;
        } else if (!strcmp(key, "network.bridge"))
                v = c->net.bridge;
        else if (!strcmp(key, "network.ipv4"))
                v = c->net.ipv4 ? c->net.ipv4 : "auto";
        else if (!strcmp(key, "network.ipv6"))
                v = c->net.ipv6 ? c->net.ipv6 : "auto";
        else if (!strcmp(key, "stop.signal"))
                v = c->stop_signal;
        else if (!strcmp(key, "stop.timeout"))
                snprintf(buf, sizeof(buf), "%d", c->stop_timeout), v = buf;
        else if (!strcmp(key, "limits.cpuset"))
                v = c->limits.cpuset;
        else if (!strcmp(key, "limits.cpuset_mems"))
                v = c->limits.cpuset_mems;
        else if (!strcmp(key, "limits.io")) {
                /* Space separated specs, as "ctr config set" takes them. */
                char out[CTR_CG_IO_MAX * 96] = "";
                for (size_t i = 0; i < c->limits.n_io; i++) {
                        char one[96];
                        ctr_cgroup_io_format(&c->limits.io[i], one, sizeof(one));
                        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", one);
                }
                *ret = xstrdup(c->limits.n_io ? out : "null");
                return 0;
        }
        else if (!strcmp(key, "autostart"))
                v = c->autostart ? "true" : "false";
        else if (!strcmp(key, "security.no_new_privs"))
                v = c->no_new_privs ? "true" : "false";
        else if (!strcmp(key, "security.seccomp.profile"))
                v = c->seccomp_profile ? c->seccomp_profile : "default";
        else if (!strcmp(key, "security.userns"))
                v = c->userns ? "true" : "false";
        else if (!strcmp(key, "vm.vcpus"))
                snprintf(buf, sizeof(buf), "%u", c->vm_vcpus), v = buf;
        else if (!strcmp(key, "vm.memory")) {
                ctr_format_size(c->vm_memory, buf, sizeof(buf));
                v = buf;
        } else if (!strcmp(key, "vm.kernel"))
                v = c->vm_kernel;
        else if (!strcmp(key, "vm.initrd"))
                v = c->vm_initrd;
        else if (!strcmp(key, "limits.memory") || !strcmp(key, "limits.memory_high") ||
                 !strcmp(key, "limits.memory_swap")) {
                uint64_t x = !strcmp(key, "limits.memory")        ? c->limits.memory
                             : !strcmp(key, "limits.memory_high") ? c->limits.memory_high
                                                                  : c->limits.memory_swap;
                if (x)
                        ctr_format_size(x, buf, sizeof(buf)), v = buf;
        } else if (!strcmp(key, "limits.cpus")) {
                if (c->limits.cpus > 0)
                        snprintf(buf, sizeof(buf), "%g", c->limits.cpus), v = buf;
        } else if (!strcmp(key, "limits.cpu_weight")) {
                if (c->limits.cpu_weight)
                        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->limits.cpu_weight), v = buf;
        } else if (!strcmp(key, "limits.pids")) {
                if (c->limits.pids)
                        snprintf(buf, sizeof(buf), "%lld", (long long)c->limits.pids), v = buf;
        } else
                return ctr_err(err, ENOENT, "config", "unknown key '%s' (see ctr-config(5))", key);
        *ret = xstrdup(v ? v : "null");
        return 0;
}

static int bad_value(struct ctr_error *err, const char *key, const char *value, const char *want)
{
        return ctr_err(err, EINVAL, "config", "key '%s': '%s' is not %s", key, value, want);
}

int ctr_config_set(struct ctr_config *c, const char *key, const char *value, struct ctr_error *err)
{
        char *end;
        uint64_t sz;
        if (!strcmp(key, "hostname")) {
                free(c->hostname);
                c->hostname = xstrdup(value);
        } else if (!strcmp(key, "init")) {
                free(c->init[0]);
                c->init[0] = xstrdup(value);
        } else if (!strcmp(key, "network.mode")) {
                if (ctr_config_set_net_mode(c, value, NULL) < 0)
                        return bad_value(err, key, value, "bridge, none, host or netns:PATH");
        } else if (!strcmp(key, "network.bridge")) {
                free(c->net.bridge);
                c->net.bridge = is_null(value) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "network.ipv4") || !strcmp(key, "network.ipv6")) {
                char **f = !strcmp(key, "network.ipv4") ? &c->net.ipv4 : &c->net.ipv6;
                free(*f);
                *f = !strcmp(value, "auto") || (is_null(value) && f == &c->net.ipv4) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "stop.signal")) {
                free(c->stop_signal);
                c->stop_signal = is_null(value) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "stop.timeout")) {
                long t = strtol(value, &end, 10);
                if (*end || end == value || t < 0 || t > 86400)
                        return bad_value(err, key, value, "a number of seconds (0-86400)");
                c->stop_timeout = (int)t;
        } else if (!strcmp(key, "security.userns")) {
                /* The tree's ownership was fixed for one mapping at create (chowned, or read
                 * through idmapped mounts with files written inside stored unshifted). */
                if (strcmp(value, "true") && strcmp(value, "false"))
                        return bad_value(err, key, value, "true or false");
                if (c->userns != !strcmp(value, "true"))
                        return ctr_err(err, EINVAL, "config",
                                       "key 'security.userns' is chosen at create and cannot change (create a new "
                                       "container with or without --userns)");
        } else if (!strcmp(key, "autostart")) {
                if (strcmp(value, "true") && strcmp(value, "false"))
                        return bad_value(err, key, value, "true or false");
                c->autostart = !strcmp(value, "true");
        } else if (!strcmp(key, "vm.vcpus")) {
                long t = strtol(value, &end, 10);
                if (*end || end == value || t < 1 || t > 32)
                        return bad_value(err, key, value, "a number of vCPUs (1-32)");
                c->vm_vcpus = (unsigned)t;
        } else if (!strcmp(key, "vm.memory")) {
                uint64_t m;
                if (ctr_parse_size(value, &m) < 0 || m < (64ull << 20) || m > (3072ull << 20))
                        return bad_value(err, key, value, "a size from 64M to 3G");
                c->vm_memory = m;
        } else if (!strcmp(key, "vm.kernel") || !strcmp(key, "vm.initrd")) {
                char **f = !strcmp(key, "vm.kernel") ? &c->vm_kernel : &c->vm_initrd;
                if (!is_null(value) && value[0] != '/')
                        return bad_value(err, key, value, "an absolute path or null");
                free(*f);
                *f = is_null(value) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "security.no_new_privs")) {
                if (strcmp(value, "true") && strcmp(value, "false"))
                        return bad_value(err, key, value, "true or false");
                c->no_new_privs = !strcmp(value, "true");
        } else if (!strcmp(key, "security.seccomp.profile")) {
                free(c->seccomp_profile);
                c->seccomp_profile = is_null(value) || !strcmp(value, "default") ? NULL : xstrdup(value);
        } else if (!strcmp(key, "limits.cpuset")) {
                free(c->limits.cpuset);
                c->limits.cpuset = is_null(value) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "limits.cpuset_mems")) {
                free(c->limits.cpuset_mems);
                c->limits.cpuset_mems = is_null(value) ? NULL : xstrdup(value);
        } else if (!strcmp(key, "limits.io")) {
                struct ctr_limits l = {0};
                if (!is_null(value)) {
                        _cleanup_free_ char *copy = xstrdup(value);
                        char *save = NULL;
                        for (char *spec = strtok_r(copy, " ", &save); spec; spec = strtok_r(NULL, " ", &save)) {
                                struct ctr_cg_io io;
                                if (ctr_cgroup_io_parse(spec, &io, err) < 0) {
                                        free(l.io);
                                        return -EINVAL;
                                }
                                put_io(&l, &io);
                        }
                }
                free(c->limits.io);
                c->limits.io = l.io;
                c->limits.n_io = l.n_io;
        } else if (!strcmp(key, "limits.memory") || !strcmp(key, "limits.memory_high") ||
                   !strcmp(key, "limits.memory_swap")) {
                if (is_null(value))
                        sz = 0;
                else if (ctr_parse_size(value, &sz) < 0)
                        return bad_value(err, key, value, "a size (like 512M) or null");
                if (!strcmp(key, "limits.memory"))
                        c->limits.memory = sz;
                else if (!strcmp(key, "limits.memory_high"))
                        c->limits.memory_high = sz;
                else
                        c->limits.memory_swap = sz;
        } else if (!strcmp(key, "limits.cpus")) {
                double d = is_null(value) ? 0 : strtod(value, &end);
                if (!is_null(value) && (*end || end == value || !(d > 0)))
                        return bad_value(err, key, value, "a positive number of CPUs or null");
                c->limits.cpus = d;
        } else if (!strcmp(key, "limits.cpu_weight") || !strcmp(key, "limits.pids")) {
                long long x = is_null(value) ? 0 : strtoll(value, &end, 10);
                bool weight = !strcmp(key, "limits.cpu_weight");
                if (!is_null(value) && (*end || end == value || x < 1 || x > (weight ? 10000 : INT32_MAX)))
                        return bad_value(err, key, value, weight ? "1-10000 or null" : "a positive integer or null");
                if (weight)
                        c->limits.cpu_weight = (uint64_t)x;
                else
                        c->limits.pids = x;
        } else
                return ctr_err(err, ENOENT, "config", "unknown key '%s' (see ctr-config(5))", key);
        return 0;
}

struct ctr_cg_limits ctr_config_cg_limits(const struct ctr_config *c)
{
        struct ctr_cg_limits l = {
                .memory = c->limits.memory,
                .memory_high = c->limits.memory_high,
                .cpus = c->limits.cpus,
                .cpu_weight = c->limits.cpu_weight,
                .pids = c->limits.pids,
                .memory_swap = c->limits.memory_swap,
        };
        if (c->limits.cpuset)
                snprintf(l.cpuset, sizeof(l.cpuset), "%s", c->limits.cpuset);
        if (c->limits.cpuset_mems)
                snprintf(l.cpuset_mems, sizeof(l.cpuset_mems), "%s", c->limits.cpuset_mems);
        for (size_t i = 0; i < c->limits.n_io && i < CTR_CG_IO_MAX; i++)
                l.io[l.n_io++] = c->limits.io[i];
        return l;
}
