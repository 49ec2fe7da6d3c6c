/* Bridge networking policy: ctr.conf, leases, the shared bridge and NAT table, one veth pair and
 * a set of port forwards per running container, and their removal. Everything host-wide is done
 * under one lock file in ROOT/network, so concurrent starts never hand out one address twice
 * or claim one host port twice. */
#define _GNU_SOURCE
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/json.h"
#include "../base/util.h"

/* --- ctr.conf ------------------------------------------------------------------------------- */

static bool default_root(const struct ctr_paths *p)
{
        return !strcmp(p->root, "/var/lib/ctr");
}

char *ctr_netconf_path(const struct ctr_paths *p)
{
        return default_root(p) ? xstrdup("/etc/ctr/ctr.conf") : xasprintf("%s/ctr.conf", p->root);
}

static char *net_dir(const struct ctr_paths *p)
{
        return xasprintf("%s/network", p->root);
}

void ctr_netconf_free(struct ctr_netconf *c)
{
        free(c->bridge);
        strv_free(c->dns);
        memset(c, 0, sizeof(*c));
}

static int __attribute__((format(printf, 3, 4))) conf_error(struct ctr_error *err, const char *path,
                                                             const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ctr_err(err, EINVAL, "ctr.conf", "%s", msg);
        ctr_err_prefix(err, "%s", path);
        return -EINVAL;
}

static int parse_netconf(const ctr_json *o, const char *path, struct ctr_netconf *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return conf_error(err, path, "key 'network' must be an object");
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                int r = 0;
                if (!strcmp(k, "bridge")) {
                        const char *b = ctr_json_string(v);
                        if (ctr_json_type(v) != CTR_JSON_STRING || !*b || strlen(b) >= IFNAMSIZ || strchr(b, '/'))
                                return conf_error(err, path, "key 'network.bridge' must be an interface name");
                        free(c->bridge);
                        c->bridge = xstrdup(b);
                } else if (!strcmp(k, "ipv4") || !strcmp(k, "ipv6")) {
                        struct ctr_subnet *sn = k[3] == '4' ? &c->v4 : &c->v6;
                        if (ctr_json_type(v) == CTR_JSON_NULL && k[3] == '6') {
                                memset(sn, 0, sizeof(*sn));
                                continue;
                        }
                        if (ctr_json_type(v) != CTR_JSON_STRING)
                                return conf_error(err, path, "key 'network.%s' must be a subnet string", k);
                        r = ctr_subnet_parse(ctr_json_string(v), sn, err);
                        if (r == 0 && sn->family != (k[3] == '4' ? AF_INET : AF_INET6))
                                return conf_error(err, path, "key 'network.%s' has the wrong address family", k);
                } else if (!strcmp(k, "dns")) {
                        if (ctr_json_type(v) != CTR_JSON_ARRAY)
                                return conf_error(err, path, "key 'network.dns' must be an array of addresses");
                        strv_free(c->dns);
                        c->dns = calloc(ctr_json_len(v) + 1, sizeof(char *));
                        if (!c->dns)
                                abort();
                        for (size_t j = 0; j < ctr_json_len(v); j++) {
                                ctr_json *d = ctr_json_at(v, j);
                                uint8_t a[16];
                                if (ctr_json_type(d) != CTR_JSON_STRING ||
                                    (inet_pton(AF_INET, ctr_json_string(d), a) != 1 &&
                                     inet_pton(AF_INET6, ctr_json_string(d), a) != 1))
                                        return conf_error(err, path, "key 'network.dns' must hold IP addresses");
                                c->dns[j] = xstrdup(ctr_json_string(d));
                        }
                } else
                        return conf_error(err, path, "unknown key 'network.%s'", k);
                if (r < 0) {
                        ctr_err_prefix(err, "%s: key 'network.%s'", path, k);
                        return r;
                }
        }
        return 0;
}

static struct ctr_netconf netconf_defaults(void)
{
        struct ctr_netconf c = {.bridge = xstrdup(CTR_DEFAULT_BRIDGE)};
        ctr_subnet_parse(CTR_DEFAULT_SUBNET4, &c.v4, NULL);
        ctr_subnet_parse(CTR_DEFAULT_SUBNET6, &c.v6, NULL);
        return c;
}

int ctr_netconf_load(const struct ctr_paths *p, struct ctr_netconf *ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = ctr_netconf_path(p), *text = NULL;
        int r = ctr_read_record(path, 1 << 20, "ctr.conf", &text, NULL, err);
        if (r == -ENOENT) {
                *ret = netconf_defaults();
                return 0;
        }
        if (r < 0)
                return r;
        return ctr_netconf_parse(text, path, ret, err);
}

int ctr_netconf_parse(const char *text, const char *path, struct ctr_netconf *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *root = NULL;
        struct ctr_netconf c = netconf_defaults();
        int r = ctr_json_parse(text, &root, err);
        if (r < 0) {
                ctr_err_prefix(err, "%s", path);
                ctr_netconf_free(&c);
                return r;
        }
        if (ctr_json_type(root) != CTR_JSON_OBJECT)
                r = conf_error(err, path, "the document must be an object");
        for (size_t i = 0; r >= 0 && i < ctr_json_len(root); i++) {
                if (!strcmp(ctr_json_key(root, i), "network"))
                        r = parse_netconf(ctr_json_at(root, i), path, &c, err);
                else
                        r = conf_error(err, path, "unknown key '%s'", ctr_json_key(root, i));
        }
        if (r < 0) {
                ctr_netconf_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* --- names ---------------------------------------------------------------------------------- */

static uint32_t fnv32(const char *a, const char *b)
{
        uint32_t h = 2166136261u;
        for (const char *s = a; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *s = b; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

void ctr_network_veth_name(const struct ctr_paths *p, const char *name, char ret[IFNAMSIZ])
{
        snprintf(ret, IFNAMSIZ, "ctr%08x", fnv32(p->root, name));
}

char *ctr_network_tag(const struct ctr_paths *p, const char *name)
{
        return xasprintf("ctr %08x %s", fnv32(p->root, ""), name);
}

void ctr_net_run_free(struct ctr_net_run *n)
{
        ctr_netconf_free(&n->conf);
        free(n->tag);
        free(n->resolv_conf);
        free(n->net_unit);
        memset(n, 0, sizeof(*n));
}

/* --- host settings -------------------------------------------------------------------------- */

/* Set a sysctl; when ctr changes it, say so in ROOT/network/host-changes (once per key). */
static int set_sysctl(const struct ctr_paths *p, const char *key, const char *value, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key), *old = NULL;
        for (char *s = path + 10; *s; s++)
                if (*s == '.')
                        *s = '/';
        int r = ctr_read_file(path, 64, &old, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "sysctl", "read %s", key);
        old[strcspn(old, "\n")] = 0;
        if (!strcmp(old, value))
                return 0;
        r = ctr_write_file(path, value);
        if (r < 0)
                return ctr_err_sys(err, -r, "sysctl", "set %s=%s", key, value);
        _cleanup_free_ char *dir = net_dir(p), *log = xasprintf("%s/host-changes", dir), *text = NULL;
        ctr_read_file(log, 1 << 16, &text, NULL);
        _cleanup_free_ char *needle = xasprintf("%s=", key);
        if (text && strstr(text, needle))
                return 0;
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        _cleanup_free_ char *line = xasprintf("%s%s=%s (was %s) since %s\n", text ? text : "", key, value, old, ts);
        ctr_write_atomic(log, line, strlen(line), 0644);
        return 0;
}

char *ctr_network_host_changes(const struct ctr_paths *p)
{
        _cleanup_free_ char *dir = net_dir(p), *log = xasprintf("%s/host-changes", dir);
        char *text = NULL;
        if (ctr_read_file(log, 1 << 16, &text, NULL) < 0 || !*text) {
                free(text);
                return NULL;
        }
        return text;
}

static bool ipv6_available(void)
{
        return access("/proc/sys/net/ipv6", F_OK) == 0;
}

/* The bridge with the gateway addresses, forwarding, and the NAT table. Under the lock. */
static int ensure_host_side(const struct ctr_paths *p, const struct ctr_netconf *c, bool v6, struct ctr_error *err)
{
        _cleanup_nl_ struct ctr_nl *nl = ctr_nl_open(err);
        uint8_t gw[16];
        int r;
        if (!nl)
                return -err->errnum;
        r = ctr_nl_bridge_ensure(nl, c->bridge, err);
        if (r < 0)
                return r;
        int br = ctr_nl_link_index(nl, c->bridge, err);
        if (br < 0)
                return br == -ENODEV ? ctr_err(err, ENODEV, "bridge", "%s vanished after creation", c->bridge) : br;
        ctr_subnet_host(&c->v4, 1, gw);
        if ((r = ctr_nl_addr_add(nl, br, AF_INET, gw, c->v4.prefix, err)) < 0)
                return r;
        if (v6) {
                ctr_subnet_host(&c->v6, 1, gw);
                if ((r = ctr_nl_addr_add(nl, br, AF_INET6, gw, c->v6.prefix, err)) < 0)
                        return r;
        }
        if ((r = ctr_nl_link_up(nl, br, err)) < 0)
                return r;
        _cleanup_free_ char *localnet = xasprintf("net.ipv4.conf.%s.route_localnet", c->bridge);
        if ((r = set_sysctl(p, "net.ipv4.ip_forward", "1", err)) < 0 || (r = set_sysctl(p, localnet, "1", err)) < 0)
                return r;
        if (v6 && (r = set_sysctl(p, "net.ipv6.conf.all.forwarding", "1", err)) < 0)
                return r;
        struct ctr_nat_conf nc = {.bridge = c->bridge, .v4 = &c->v4, .v6 = v6 ? &c->v6 : NULL};
        return ctr_nat_setup(&nc, err);
}

/* --- port claims ---------------------------------------------------------------------------- *
 * ROOT/network/ports: "NAME SPEC" per forward of a running container. A claim whose container
 * is no longer running is dropped the next time anyone looks. */

struct claims {
        char **names;
        struct ctr_port *ports;
        size_t n;
};

static void claims_free(struct claims *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->names[i]);
        free(c->names);
        free(c->ports);
        memset(c, 0, sizeof(*c));
}

static void claims_add(struct claims *c, const char *name, const struct ctr_port *pt)
{
        c->names = realloc(c->names, (c->n + 1) * sizeof(char *));
        c->ports = realloc(c->ports, (c->n + 1) * sizeof(*pt));
        if (!c->names || !c->ports)
                abort();
        c->names[c->n] = xstrdup(name);
        c->ports[c->n++] = *pt;
}

static void claims_load(const char *path, struct claims *c)
{
        _cleanup_free_ char *text = NULL;
        memset(c, 0, sizeof(*c));
        if (ctr_read_file(path, 1 << 20, &text, NULL) < 0)
                return;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char name[128], spec[128];
                struct ctr_port pt;
                if (sscanf(l, "%127s %127s", name, spec) == 2 && ctr_port_parse(spec, &pt, NULL) == 0)
                        claims_add(c, name, &pt);
        }
}

static int claims_save(const char *path, const struct claims *c, struct ctr_error *err)
{
        size_t cap = 64 + c->n * 256, len = 0;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                abort();
        buf[0] = 0;
        for (size_t i = 0; i < c->n; i++) {
                char spec[96];
                ctr_port_format(&c->ports[i], spec, sizeof(spec));
                len += snprintf(buf + len, cap - len, "%s %s\n", c->names[i], spec);
        }
        int r = ctr_write_atomic(path, buf, len, 0644);
        return r < 0 ? ctr_err_sys(err, -r, "ports", "write %s", path) : 0;
}

static void claims_drop(struct claims *c, size_t i)
{
        free(c->names[i]);
        c->names[i] = c->names[c->n - 1];
        c->ports[i] = c->ports[c->n - 1];
        c->n--;
}

static bool container_running(const struct ctr_paths *p, const char *name)
{
        struct ctr_state st = {0};
        bool stale;
        struct ctr_error e = {0};
        bool up = ctr_state_probe(p, name, &st, &stale, &e) == 0 && st.status != CTR_STOPPED;
        ctr_state_free(&st);
        return up;
}

/* Replace name's claims with its config's forwards; refuse a forward another running
 * container holds. */
static int claim_ports(const struct ctr_paths *p, const struct ctr_config *cfg, struct ctr_error *err)
{
        _cleanup_free_ char *dir = net_dir(p), *path = xasprintf("%s/ports", dir);
        struct claims c;
        int r = 0;
        claims_load(path, &c);
        for (size_t i = 0; i < c.n;) {
                if (!strcmp(c.names[i], cfg->name) || !container_running(p, c.names[i]))
                        claims_drop(&c, i);
                else
                        i++;
        }
        for (size_t i = 0; i < cfg->net.n_ports && r == 0; i++)
                for (size_t j = 0; j < c.n; j++)
                        if (ctr_port_conflict(&cfg->net.ports[i], &c.ports[j])) {
                                char spec[96];
                                ctr_port_format(&cfg->net.ports[i], spec, sizeof(spec));
                                r = ctr_err(err, EADDRINUSE, "ports", "%s is already forwarded to container %s", spec,
                                            c.names[j]);
                                break;
                        }
        if (r == 0) {
                for (size_t i = 0; i < cfg->net.n_ports; i++)
                        claims_add(&c, cfg->name, &cfg->net.ports[i]);
                r = claims_save(path, &c, err);
        }
        claims_free(&c);
        return r;
}

static int unclaim_ports(const struct ctr_paths *p, const char *name, struct ctr_error *err)
{
        _cleanup_free_ char *dir = net_dir(p), *path = xasprintf("%s/ports", dir);
        struct claims c;
        bool changed = false;
        claims_load(path, &c);
        for (size_t i = 0; i < c.n;)
                if (!strcmp(c.names[i], name)) {
                        claims_drop(&c, i);
                        changed = true;
                } else
                        i++;
        int r = changed ? claims_save(path, &c, err) : 0;
        claims_free(&c);
        return r;
}

/* --- leases --------------------------------------------------------------------------------- */

/* The host number cfg asks for (0: any); an error when its fixed address is unusable. */
static int wanted_host(const struct ctr_netconf *c, const struct ctr_config *cfg, uint32_t *ret, struct ctr_error *err)
{
        struct in_addr a;
        char sn[64];
        *ret = 0;
        if (!cfg->net.ipv4)
                return 0;
        inet_pton(AF_INET, cfg->net.ipv4, &a);
        uint32_t n = ctr_subnet_index(&c->v4, &a);
        ctr_subnet_format(&c->v4, sn, sizeof(sn));
        if (!n)
                return ctr_err(err, EINVAL, "ipam", "%s is not a host address of the subnet %s", cfg->net.ipv4, sn);
        if (n == 1)
                return ctr_err(err, EADDRINUSE, "ipam", "%s is the bridge's own address", cfg->net.ipv4);
        *ret = n;
        return 0;
}

static int take_lease(const struct ctr_paths *p, const struct ctr_netconf *c, const struct ctr_config *cfg,
                      uint32_t *ret, struct ctr_error *err)
{
        _cleanup_free_ char *dir = net_dir(p), *path = xasprintf("%s/leases", dir);
        struct ctr_leases l;
        uint32_t want;
        int r = wanted_host(c, cfg, &want, err);
        if (r < 0)
                return r;
        r = ctr_leases_load(path, &l, err);
        if (r < 0)
                return r;
        uint32_t had = ctr_leases_find(&l, cfg->name);
        r = ctr_leases_take(&l, cfg->name, want, ctr_subnet_hosts(&c->v4), ret, err);
        if (r < 0 && want)
                ctr_err_prefix(err, "%s", cfg->net.ipv4);
        if (r == 0 && had != *ret)
                r = ctr_leases_save(path, &l, err);
        ctr_leases_free(&l);
        return r;
}

static void check_bridge(const struct ctr_netconf *c, const struct ctr_config *cfg, struct ctr_error *err, int *r)
{
        if (*r == 0 && cfg->net.bridge && strcmp(cfg->net.bridge, c->bridge))
                *r = ctr_err(err, EINVAL, "network",
                             "bridge %s is not the one ctr manages (%s, set in ctr.conf)", cfg->net.bridge, c->bridge);
}

int ctr_network_reserve(const struct ctr_paths *p, const struct ctr_config *cfg, struct ctr_error *err)
{
        struct ctr_netconf c;
        uint32_t n;
        if (cfg->net_mode != CTR_NET_BRIDGE)
                return 0;
        int r = ctr_netconf_load(p, &c, err);
        if (r < 0)
                return r;
        check_bridge(&c, cfg, err, &r);
        if (r == 0)
                r = wanted_host(&c, cfg, &n, err); /* checked before anything is written */
        if (r == 0 && cfg->net.ipv4) {
                _cleanup_free_ char *dir = net_dir(p);
                _cleanup_close_ int lock = ctr_net_lock(dir, err);
                r = lock < 0 ? lock : take_lease(p, &c, cfg, &n, err);
        }
        ctr_netconf_free(&c);
        return r;
}

int ctr_network_release(const struct ctr_paths *p, const char *name, struct ctr_error *err)
{
        _cleanup_free_ char *dir = net_dir(p), *path = xasprintf("%s/leases", dir);
        struct ctr_leases l;
        if (access(path, F_OK) < 0)
                return 0;
        _cleanup_close_ int lock = ctr_net_lock(dir, err);
        if (lock < 0)
                return lock;
        int r = ctr_leases_load(path, &l, err);
        if (r < 0)
                return r;
        if (ctr_leases_release(&l, name))
                r = ctr_leases_save(path, &l, err);
        ctr_leases_free(&l);
        return r;
}

static void addresses_of(const struct ctr_netconf *c, const struct ctr_config *cfg, uint32_t n, struct ctr_net_run *out)
{
        ctr_subnet_host(&c->v4, n, &out->v4);
        inet_ntop(AF_INET, &out->v4, out->addr4, sizeof(out->addr4));
        out->has_v6 = c->v6.family && ipv6_available() && !(cfg->net.ipv6 && !strcmp(cfg->net.ipv6, "none"));
        if (!out->has_v6)
                return;
        if (cfg->net.ipv6)
                inet_pton(AF_INET6, cfg->net.ipv6, &out->v6);
        else
                ctr_subnet_host(&c->v6, n, &out->v6);
        inet_ntop(AF_INET6, &out->v6, out->addr6, sizeof(out->addr6));
}

void ctr_network_lease_addresses(const struct ctr_paths *p, const struct ctr_config *cfg, char v4[INET_ADDRSTRLEN],
                                 char v6[INET6_ADDRSTRLEN])
{
        _cleanup_free_ char *dir = net_dir(p), *path = xasprintf("%s/leases", dir);
        struct ctr_leases l;
        struct ctr_netconf c;
        struct ctr_net_run n = {0};
        v4[0] = v6[0] = 0;
        if (cfg->net_mode != CTR_NET_BRIDGE || ctr_leases_load(path, &l, NULL) < 0)
                return;
        uint32_t num = ctr_leases_find(&l, cfg->name);
        ctr_leases_free(&l);
        if (!num || ctr_netconf_load(p, &c, NULL) < 0)
                return;
        addresses_of(&c, cfg, num, &n);
        strcpy(v4, n.addr4);
        strcpy(v6, n.addr6);
        ctr_netconf_free(&c);
}

/* --- files for inside ----------------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3))) append(char **buf, const char *fmt, ...)
{
        char *more = NULL, *old = *buf;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&more, fmt, ap) < 0)
                abort();
        va_end(ap);
        *buf = xasprintf("%s%s", old ? old : "", more);
        free(old);
        free(more);
}

static bool loopback_address(const char *a)
{
        return !strncmp(a, "127.", 4) || !strcmp(a, "::1");
}

/* Name servers: ctr.conf's, else the host's non-loopback ones (a loopback resolver of the host
 * is unreachable from inside); systemd-resolved's upstream list stands in for its stub. */
static char *resolv_conf(const struct ctr_netconf *c)
{
        char *out = xstrdup("# Written by ctr at container start (see ctr.conf(5)).\n");
        size_t n = 0;
        if (c->dns) {
                for (char **d = c->dns; *d; d++, n++)
                        append(&out, "nameserver %s\n", *d);
                return out;
        }
        const char *files[] = {"/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"};
        for (size_t f = 0; f < ARRAY_SIZE(files) && n == 0; f++) {
                _cleanup_free_ char *text = NULL;
                if (ctr_read_file(files[f], 1 << 16, &text, NULL) < 0)
                        continue;
                char *save = NULL;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char key[32], val[256];
                        if (sscanf(l, "%31s %255s", key, val) != 2)
                                continue;
                        if (!strcmp(key, "nameserver") && !loopback_address(val)) {
                                append(&out, "nameserver %s\n", val);
                                n++;
                        } else if ((!strcmp(key, "search") || !strcmp(key, "domain")) && f == 0)
                                append(&out, "%s\n", l);
                }
        }
        if (!n)
                append(&out, "# The host has no name server reachable from containers; set network.dns in ctr.conf.\n");
        return out;
}

static char *net_unit(const struct ctr_netconf *c, const struct ctr_net_run *n)
{
        char gw4[INET_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN], a[128];
        uint8_t g[16];
        char *out = xstrdup("# Written by ctr at each start: the addresses ctr gave this container.\n"
                            "[Match]\nName=eth0\n\n[Network]\nIPv6AcceptRA=no\nLinkLocalAddressing=ipv6\n"
                            "KeepConfiguration=static\n");
        ctr_subnet_host(&c->v4, 1, g);
        inet_ntop(AF_INET, g, gw4, sizeof(gw4));
        snprintf(a, sizeof(a), "%s/%u", n->addr4, c->v4.prefix);
        append(&out, "Address=%s\n", a);
        append(&out, "Gateway=%s\n", gw4);
        if (n->has_v6) {
                ctr_subnet_host(&c->v6, 1, g);
                inet_ntop(AF_INET6, g, gw6, sizeof(gw6));
                snprintf(a, sizeof(a), "%s/%u", n->addr6, c->v6.prefix);
                append(&out, "Address=%s\n", a);
                append(&out, "Gateway=%s\n", gw6);
        }
        for (char **d = c->dns; d && *d; d++)
                append(&out, "DNS=%s\n", *d);
        return out;
}

/* --- a run ---------------------------------------------------------------------------------- */

int ctr_network_prepare(const struct ctr_paths *p, const struct ctr_config *cfg, struct ctr_net_run *n,
                        struct ctr_error *err)
{
        uint32_t num;
        memset(n, 0, sizeof(*n));
        if (cfg->net_mode != CTR_NET_BRIDGE)
                return 0;
        int r = ctr_netconf_load(p, &n->conf, err);
        if (r < 0)
                return r;
        check_bridge(&n->conf, cfg, err, &r);
        if (r < 0)
                return r;
        if (cfg->net.ipv6 && strcmp(cfg->net.ipv6, "none")) {
                struct in6_addr a6;
                inet_pton(AF_INET6, cfg->net.ipv6, &a6);
                if (!n->conf.v6.family || ctr_subnet_index(&n->conf.v6, &a6) <= 1)
                        return ctr_err(err, EINVAL, "ipam", "%s is not a host address of the IPv6 subnet",
                                       cfg->net.ipv6);
        }
        ctr_network_veth_name(p, cfg->name, n->veth);
        n->tag = ctr_network_tag(p, cfg->name);
        _cleanup_free_ char *dir = net_dir(p);
        _cleanup_close_ int lock = ctr_net_lock(dir, err);
        if (lock < 0)
                return lock;
        if ((r = take_lease(p, &n->conf, cfg, &num, err)) < 0)
                return r;
        addresses_of(&n->conf, cfg, num, n);
        if ((r = ensure_host_side(p, &n->conf, n->has_v6, err)) < 0)
                return r;
        if ((r = claim_ports(p, cfg, err)) < 0)
                return r;
        n->active = true;
        n->resolv_conf = resolv_conf(&n->conf);
        n->net_unit = net_unit(&n->conf, n);
        return 0;
}

/* A reboot attaches again: the forwards of the previous boot go first. */
static int attach_ports(struct ctr_net_run *n, const struct ctr_config *cfg, struct ctr_error *err)
{
        int r;
        if (cfg->net.n_ports && (r = ctr_nat_rules_del(n->tag, err)) < 0)
                return r;
        return ctr_nat_ports_add(n->tag, cfg->net.ports, cfg->net.n_ports, &n->v4, n->has_v6 ? &n->v6 : NULL, err);
}

/* A netlink socket, with the name cleared (a leftover of a crashed run would block it: it
 * belongs to this container) and the bridge's index in *ret_br; NULL with err set. */
static struct ctr_nl *attach_begin(const struct ctr_net_run *n, int *ret_br, struct ctr_error *err)
{
        struct ctr_nl *nl = ctr_nl_open(err);
        if (!nl)
                return NULL;
        ctr_nl_link_del(nl, n->veth, NULL);
        int br = ctr_nl_link_index(nl, n->conf.bridge, err);
        if (br < 0) {
                if (br == -ENODEV)
                        ctr_err(err, ENODEV, "bridge", "%s does not exist", n->conf.bridge);
                ctr_nl_close(nl);
                return NULL;
        }
        *ret_br = br;
        return nl;
}

int ctr_network_attach(struct ctr_net_run *n, const struct ctr_config *cfg, pid_t pid, int pidfd,
                       struct ctr_error *err)
{
        uint8_t gw[16];
        int r;
        if (!n->active)
                return 0;
        int br;
        _cleanup_nl_ struct ctr_nl *nl = attach_begin(n, &br, err);
        if (!nl)
                return -err->errnum;
        if ((r = ctr_nl_veth_create(nl, n->veth, br, "eth0", pid, err)) < 0)
                return r;
        int host = ctr_nl_link_index(nl, n->veth, err);
        if (host < 0)
                return host == -ENODEV ? ctr_err(err, ENODEV, "veth", "%s vanished", n->veth) : host;
        if ((r = ctr_nl_link_up(nl, host, err)) < 0)
                return r;

        _cleanup_nl_ struct ctr_nl *in = ctr_nl_open_in(pidfd, err);
        if (!in)
                return -err->errnum;
        int eth0 = ctr_nl_link_index(in, "eth0", err);
        if (eth0 < 0)
                return eth0 == -ENODEV ? ctr_err(err, ENODEV, "veth", "eth0 is missing inside") : eth0;
        if ((r = ctr_nl_addr_add(in, eth0, AF_INET, &n->v4, n->conf.v4.prefix, err)) < 0)
                return r;
        if (n->has_v6 && (r = ctr_nl_addr_add(in, eth0, AF_INET6, &n->v6, n->conf.v6.prefix, err)) < 0)
                return r;
        if ((r = ctr_nl_link_up(in, 1, err)) < 0 || (r = ctr_nl_link_up(in, eth0, err)) < 0)
                return r;
        ctr_subnet_host(&n->conf.v4, 1, gw);
        if ((r = ctr_nl_route_default(in, eth0, AF_INET, gw, err)) < 0)
                return r;
        if (n->has_v6) {
                ctr_subnet_host(&n->conf.v6, 1, gw);
                if ((r = ctr_nl_route_default(in, eth0, AF_INET6, gw, err)) < 0)
                        return r;
        }
        return attach_ports(n, cfg, err);
}

int ctr_network_attach_tap(struct ctr_net_run *n, const struct ctr_config *cfg, int *ret_fd, struct ctr_error *err)
{
        *ret_fd = -1;
        if (!n->active)
                return 0;
        /* The guest configures IPv4 only (ctr-vminit): no IPv6 address is claimed for it. */
        n->has_v6 = false;
        int br;
        _cleanup_nl_ struct ctr_nl *nl = attach_begin(n, &br, err);
        if (!nl)
                return -err->errnum;
        _cleanup_close_ int fd = -1;
        int r = ctr_tap_open(n->veth, &fd, err);
        if (r < 0)
                return r;
        int tap = ctr_nl_link_index(nl, n->veth, err);
        if (tap < 0)
                return tap == -ENODEV ? ctr_err(err, ENODEV, "tap", "%s vanished", n->veth) : tap;
        if ((r = ctr_nl_link_set_master_up(nl, tap, br, err)) < 0 || (r = attach_ports(n, cfg, err)) < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void ctr_network_vm_mac(const struct ctr_net_run *n, uint8_t mac[6])
{
        /* Locally administered, unicast, stable for the container (from its rule tag). */
        uint32_t h = fnv32(n->tag ? n->tag : "", "");
        mac[0] = 0x02, mac[1] = 0x63;
        for (int i = 0; i < 4; i++)
                mac[2 + i] = (uint8_t)(h >> (8 * i));
}

int ctr_network_teardown(const struct ctr_paths *p, const char *name, struct ctr_error *err)
{
        char veth[IFNAMSIZ];
        _cleanup_free_ char *tag = ctr_network_tag(p, name), *dir = net_dir(p);
        int r = 0, q;
        /* Nothing was ever set up here: do not load nf_tables just to find nothing. */
        if (access(dir, F_OK) < 0)
                return 0;
        ctr_network_veth_name(p, name, veth);
        struct ctr_nl *nl = ctr_nl_open(err);
        if (!nl)
                r = -err->errnum;
        else {
                q = ctr_nl_link_del(nl, veth, err);
                if (q < 0 && q != -ENODEV)
                        r = q;
                ctr_nl_close(nl);
        }
        q = ctr_nat_rules_del(tag, r < 0 ? NULL : err);
        if (q < 0 && r == 0)
                r = q;
        _cleanup_close_ int lock = ctr_net_lock(dir, r < 0 ? NULL : err);
        if (lock < 0)
                return r < 0 ? r : lock;
        q = unclaim_ports(p, name, r < 0 ? NULL : err);
        return r < 0 ? r : q;
}
