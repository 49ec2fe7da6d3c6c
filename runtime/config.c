/* A container's config: defaults derived from the name, the rules between keys, load and save,
 * and the helpers of structured keys (ports, I/O limits, environment, volumes, network mode). */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
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

void ctr_config_set_name(struct ctr_config *c, const char *name)
{
        free(c->name);
        c->name = xstrdup(name);
        if (!c->hostname)
                c->hostname = ctr_config_default_hostname(name);
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

void ctr_config_put_io(struct ctr_limits *l, const struct ctr_cg_io *io)
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
        ctr_config_put_io(&c->limits, &io);
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

bool ctr_config_path_ok(const char *p)
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
        if (!ctr_config_path_ok(s) || !ctr_config_path_ok(ct))
                return ctr_err(err, EINVAL, "volume", "'%s': both paths must be absolute, without '..'", spec);
        ret->source = xstrdup(s);
        ret->target = xstrdup(ct);
        ret->readonly = opt && !strcmp(opt, "ro");
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

/* The rules between keys; each key's own range and syntax is the key table's. */
int ctr_config_validate(const struct ctr_config *c, struct ctr_error *err)
{
        if (!ctr_name_valid(c->name))
                return ctr_err(err, EINVAL, "config",
                               "name '%s' is invalid (1-64 characters of A-Z a-z 0-9 _ . -, starting with a "
                               "letter or digit)",
                               c->name ? c->name : "");
        int r = ctr_config_validate_keys(c, err);
        if (r < 0)
                return r;
        if (c->vm && (c->net_mode == CTR_NET_HOST || c->net_mode == CTR_NET_NETNS))
                return ctr_err(err, EINVAL, "config", "a VM cannot share a network namespace (network mode %s)",
                               ctr_net_mode_name(c->net_mode));
        /* The lower goes into overlayfs' option string, where ',' separates options and ':'
         * layers: absolute paths, ':' between layers (ctr run --from stacks two). */
        if (!strcmp(c->storage_driver, "overlay") && !lower_valid(c->storage_lower))
                return ctr_err(err, EINVAL, "config",
                               "key 'storage.lower' must be absolute paths (':' between layers) without ',' or '\\' "
                               "for the overlay driver");
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
        if (c->net.n_ports && c->net_mode != CTR_NET_BRIDGE)
                return ctr_err(err, EINVAL, "config", "port forwards need network mode bridge, not %s",
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
        return 0;
}

int ctr_config_load(const char *path, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r = ctr_read_record(path, CONFIG_MAX_BYTES, "config", &text, NULL, err);
        if (r < 0)
                return r;
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

struct ctr_seccomp_spec ctr_config_seccomp(const struct ctr_config *c, ctr_capmask caps)
{
        return (struct ctr_seccomp_spec){
                .profile = c->seccomp_profile, .allow = c->seccomp_allow, .deny = c->seccomp_deny, .caps = caps};
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
