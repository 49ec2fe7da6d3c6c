/* Subnets, the lease file and port specs: pure data handling, no netlink. The lease file is
 * tiny (one line per container) and rewritten whole under the network lock, atomically. */
#define _GNU_SOURCE
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

/* --- subnets -------------------------------------------------------------------------------- */

int ctr_subnet_parse(const char *s, struct ctr_subnet *ret, struct ctr_error *err)
{
        char addr[64];
        const char *slash = strchr(s, '/');
        char *end;
        memset(ret, 0, sizeof(*ret));
        if (!slash || (size_t)(slash - s) >= sizeof(addr))
                return ctr_err(err, EINVAL, "subnet", "'%s' is not ADDRESS/PREFIX", s);
        memcpy(addr, s, slash - s);
        addr[slash - s] = 0;
        long prefix = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1)
                return ctr_err(err, EINVAL, "subnet", "'%s' is not ADDRESS/PREFIX", s);
        if (inet_pton(AF_INET, addr, &ret->net.v4) == 1) {
                if (prefix < 8 || prefix > 30)
                        return ctr_err(err, EINVAL, "subnet", "'%s': an IPv4 prefix must be 8-30", s);
                uint32_t mask = htonl(~0u << (32 - prefix));
                if (ret->net.v4.s_addr & ~mask)
                        return ctr_err(err, EINVAL, "subnet", "'%s' has host bits set", s);
                ret->family = AF_INET;
        } else if (inet_pton(AF_INET6, addr, &ret->net.v6) == 1) {
                if (prefix < 64 || prefix > 120)
                        return ctr_err(err, EINVAL, "subnet", "'%s': an IPv6 prefix must be 64-120", s);
                for (int bit = prefix; bit < 128; bit++)
                        if (ret->net.v6.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
                                return ctr_err(err, EINVAL, "subnet", "'%s' has host bits set", s);
                ret->family = AF_INET6;
        } else
                return ctr_err(err, EINVAL, "subnet", "'%s' is not an IPv4 or IPv6 address", addr);
        ret->prefix = prefix;
        return 0;
}

void ctr_subnet_format(const struct ctr_subnet *sn, char *buf, size_t len)
{
        char a[INET6_ADDRSTRLEN] = "";
        if (!sn->family) {
                snprintf(buf, len, "none");
                return;
        }
        inet_ntop(sn->family, &sn->net, a, sizeof(a));
        snprintf(buf, len, "%s/%u", a, sn->prefix);
}

uint32_t ctr_subnet_hosts(const struct ctr_subnet *sn)
{
        unsigned bits = (sn->family == AF_INET ? 32 : 128) - sn->prefix;
        uint64_t n = bits >= 17 ? 65536 : (1ull << bits);
        if (sn->family == AF_INET)
                n -= 2; /* network and broadcast */
        else
                n -= 1; /* the subnet-router anycast address */
        return n > 65534 ? 65534 : (uint32_t)n;
}

bool ctr_subnet_host(const struct ctr_subnet *sn, uint32_t n, void *ret_addr)
{
        if (n == 0 || n > ctr_subnet_hosts(sn))
                return false;
        if (sn->family == AF_INET) {
                struct in_addr a = {htonl(ntohl(sn->net.v4.s_addr) + n)};
                memcpy(ret_addr, &a, sizeof(a));
        } else {
                struct in6_addr a = sn->net.v6;
                a.s6_addr[14] = (n >> 8) & 0xff;
                a.s6_addr[15] = n & 0xff;
                memcpy(ret_addr, &a, sizeof(a));
        }
        return true;
}

uint32_t ctr_subnet_index(const struct ctr_subnet *sn, const void *addr)
{
        uint32_t n;
        if (sn->family == AF_INET) {
                uint32_t a = ntohl(((const struct in_addr *)addr)->s_addr), net = ntohl(sn->net.v4.s_addr);
                uint32_t mask = ~0u << (32 - sn->prefix);
                if ((a & mask) != net)
                        return 0;
                n = a - net;
        } else if (sn->family == AF_INET6) {
                const struct in6_addr *a = addr;
                for (unsigned bit = 0; bit < sn->prefix; bit++)
                        if ((a->s6_addr[bit / 8] ^ sn->net.v6.s6_addr[bit / 8]) & (0x80 >> (bit % 8)))
                                return 0;
                for (int i = sn->prefix / 8; i < 14; i++)
                        if (a->s6_addr[i] & (i == (int)sn->prefix / 8 ? (0xff >> (sn->prefix % 8)) : 0xff))
                                return 0; /* beyond the host numbers ctr hands out */
                n = (a->s6_addr[14] << 8) | a->s6_addr[15];
        } else
                return 0;
        return n >= 1 && n <= ctr_subnet_hosts(sn) ? n : 0;
}

/* --- leases --------------------------------------------------------------------------------- */

void ctr_leases_free(struct ctr_leases *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].name);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static void leases_add(struct ctr_leases *l, const char *name, uint32_t n)
{
        struct ctr_lease *v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                abort();
        l->v = v;
        l->v[l->n++] = (struct ctr_lease){xstrdup(name), n};
}

int ctr_leases_load(const char *path, struct ctr_leases *ret, struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL;
        memset(ret, 0, sizeof(*ret));
        int r = ctr_read_record(path, 4 << 20, "ipam", &text, NULL, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return ctr_leases_parse(text, path, ret, err);
}

int ctr_leases_parse(char *text, const char *path, struct ctr_leases *ret, struct ctr_error *err)
{
        memset(ret, 0, sizeof(*ret));
        char *save = NULL;
        unsigned line = 0;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char name[128];
                unsigned n;
                line++;
                if (l[0] == '#')
                        continue;
                if (sscanf(l, "%127s %u", name, &n) != 2 || !n || !ctr_name_valid(name)) {
                        ctr_leases_free(ret);
                        return ctr_err(err, EINVAL, "ipam", "%s:%u: not 'NAME HOSTNUMBER'", path, line);
                }
                leases_add(ret, name, n);
        }
        return 0;
}

int ctr_leases_save(const char *path, const struct ctr_leases *l, struct ctr_error *err)
{
        size_t cap = 64 + l->n * 96, len = 0;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                abort();
        len += snprintf(buf, cap, "# ctr address leases: NAME HOSTNUMBER\n");
        for (size_t i = 0; i < l->n; i++)
                len += snprintf(buf + len, cap - len, "%s %u\n", l->v[i].name, l->v[i].n);
        int r = ctr_write_atomic(path, buf, len, 0644);
        if (r < 0)
                return ctr_err_sys(err, -r, "ipam", "write %s", path);
        return 0;
}

uint32_t ctr_leases_find(const struct ctr_leases *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i].name, name))
                        return l->v[i].n;
        return 0;
}

static const char *leases_owner(const struct ctr_leases *l, uint32_t n)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].n == n)
                        return l->v[i].name;
        return NULL;
}

int ctr_leases_take(struct ctr_leases *l, const char *name, uint32_t want, uint32_t max, uint32_t *ret,
                    struct ctr_error *err)
{
        uint32_t have = ctr_leases_find(l, name);
        if (have && (!want || want == have)) {
                *ret = have;
                return 0;
        }
        if (want) {
                const char *owner = leases_owner(l, want);
                if (want < 2 || want > max)
                        return ctr_err(err, EINVAL, "ipam", "host number %u is outside 2-%u", want, max);
                if (owner)
                        return ctr_err(err, EADDRINUSE, "ipam", "the address is leased to container %s", owner);
                ctr_leases_release(l, name);
                leases_add(l, name, want);
                *ret = want;
                return 0;
        }
        /* Lowest free number: a bitmap keeps this linear for the 65534 hosts of a /16. */
        _cleanup_free_ uint8_t *used = calloc(max / 8 + 1, 1);
        if (!used)
                abort();
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].n <= max)
                        used[l->v[i].n / 8] |= 1 << (l->v[i].n % 8);
        for (uint32_t n = 2; n <= max; n++)
                if (!(used[n / 8] & (1 << (n % 8)))) {
                        leases_add(l, name, n);
                        *ret = n;
                        return 0;
                }
        return ctr_err(err, ENOSPC, "ipam", "every address of the subnet is leased (%zu leases)", l->n);
}

bool ctr_leases_release(struct ctr_leases *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i].name, name)) {
                        free(l->v[i].name);
                        l->v[i] = l->v[--l->n];
                        return true;
                }
        return false;
}

int ctr_net_lock(const char *dir, struct ctr_error *err)
{
        int r = ctr_mkdir_p(dir, 0755);
        if (r < 0)
                return ctr_err_sys(err, -r, "network", "create %s", dir);
        _cleanup_free_ char *path = xasprintf("%s/lock", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return ctr_err_sys(err, errno, "network", "open %s", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = ctr_err_sys(err, errno, "network", "lock %s", path);
                        close(fd);
                        return r;
                }
        return fd;
}

/* --- port specs ------------------------------------------------------------------------------ */

static int parse_port(const char *s, size_t len, const char *spec, const char *what, uint16_t *ret,
                      struct ctr_error *err)
{
        unsigned long v = 0;
        if (len == 0 || len > 5)
                return ctr_err(err, EINVAL, "port", "'%s': the %s port must be a number 1-65535", spec, what);
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return ctr_err(err, EINVAL, "port", "'%s': the %s port must be a number 1-65535", spec,
                                       what);
                v = v * 10 + (s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return ctr_err(err, ERANGE, "port", "'%s': the %s port %lu is outside 1-65535", spec, what, v);
        *ret = v;
        return 0;
}

int ctr_port_parse(const char *spec, struct ctr_port *ret, struct ctr_error *err)
{
        char buf[128];
        memset(ret, 0, sizeof(*ret));
        if (strlen(spec) >= sizeof(buf))
                return ctr_err(err, EINVAL, "port", "'%.32s...' is too long", spec);
        strcpy(buf, spec);
        ret->proto = IPPROTO_TCP;
        char *slash = strrchr(buf, '/');
        if (slash) {
                *slash = 0;
                if (!strcmp(slash + 1, "tcp"))
                        ret->proto = IPPROTO_TCP;
                else if (!strcmp(slash + 1, "udp"))
                        ret->proto = IPPROTO_UDP;
                else
                        return ctr_err(err, EINVAL, "port", "'%s': protocol '%s' is not tcp or udp", spec, slash + 1);
        }
        char *ports = buf;
        if (buf[0] == '[') {
                char *close = strchr(buf, ']');
                if (!close || close[1] != ':')
                        return ctr_err(err, EINVAL, "port", "'%s': an IPv6 host address is written [ADDRESS]:", spec);
                *close = 0;
                struct in6_addr a6;
                if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
                        return ctr_err(err, EINVAL, "port", "'%s': '%s' is not an IPv6 address", spec, buf + 1);
                if (IN6_IS_ADDR_LOOPBACK(&a6))
                        return ctr_err(err, EINVAL, "port",
                                       "'%s': the kernel cannot forward [::1] into a container; use 127.0.0.1 or "
                                       "the bridge's IPv6 address",
                                       spec);
                inet_ntop(AF_INET6, &a6, ret->host_ip, sizeof(ret->host_ip));
                ret->family = AF_INET6;
                ports = close + 2;
        } else {
                char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2) {
                        *c1 = 0;
                        struct in_addr a4;
                        if (inet_pton(AF_INET, buf, &a4) != 1)
                                return ctr_err(err, EINVAL, "port", "'%s': '%s' is not an IPv4 address", spec, buf);
                        inet_ntop(AF_INET, &a4, ret->host_ip, sizeof(ret->host_ip));
                        ret->family = AF_INET;
                        ports = c1 + 1;
                }
        }
        char *colon = strchr(ports, ':');
        if (!colon || strchr(colon + 1, ':'))
                return ctr_err(err, EINVAL, "port", "'%s' is not [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]", spec);
        int r = parse_port(ports, colon - ports, spec, "host", &ret->host, err);
        if (r < 0)
                return r;
        return parse_port(colon + 1, strlen(colon + 1), spec, "container", &ret->container, err);
}

void ctr_port_format(const struct ctr_port *p, char *buf, size_t len)
{
        const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
        if (p->family == AF_INET6)
                snprintf(buf, len, "[%s]:%u:%u/%s", p->host_ip, p->host, p->container, proto);
        else if (p->family == AF_INET)
                snprintf(buf, len, "%s:%u:%u/%s", p->host_ip, p->host, p->container, proto);
        else
                snprintf(buf, len, "%u:%u/%s", p->host, p->container, proto);
}

bool ctr_port_any_address(const struct ctr_port *p)
{
        return !p->family || !strcmp(p->host_ip, "0.0.0.0") || !strcmp(p->host_ip, "::");
}

bool ctr_port_conflict(const struct ctr_port *a, const struct ctr_port *b)
{
        if (a->proto != b->proto || a->host != b->host)
                return false;
        /* "every address" overlaps each specific one of its family; two specific ones only when equal. */
        if (!a->family || !b->family)
                return true;
        if (a->family != b->family)
                return false;
        return ctr_port_any_address(a) || ctr_port_any_address(b) || !strcmp(a->host_ip, b->host_ip);
}
