/* netns/: the network side of a container, talking to the kernel only. Links, veth pairs,
 * bridges, addresses and routes over rtnetlink (libmnl); nf_tables NAT and port forwards over
 * libnftnl; IPAM with a lease file; port-spec parsing. Policy (which bridge, which subnet, when
 * to do what) lives in runtime/network.c; nothing here knows about containers' configs. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"

/* --- addresses ---------------------------------------------------------------------------- */

struct ctr_subnet {
        int family;           /* AF_INET or AF_INET6; 0 = none */
        unsigned prefix;      /* 8..30 for IPv4, 64..120 for IPv6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } net; /* host bits zero */
};

/* "10.57.0.0/16" or "fd57:6374:7200::/64". Host bits must be zero. */
int ctr_subnet_parse(const char *s, struct ctr_subnet *ret, struct ctr_error *err);
void ctr_subnet_format(const struct ctr_subnet *sn, char *buf, size_t len);
/* Host number n (1 = first host) of a subnet as an address; false when n is outside it (or is
 * the IPv4 broadcast). */
bool ctr_subnet_host(const struct ctr_subnet *sn, uint32_t n, void *ret_addr);
/* Host number of addr in sn, 0 when addr is not a usable host of sn. */
uint32_t ctr_subnet_index(const struct ctr_subnet *sn, const void *addr);
/* Number of usable host numbers (IPv4: without network and broadcast), capped at 65534. */
uint32_t ctr_subnet_hosts(const struct ctr_subnet *sn);

/* --- IPAM ------------------------------------------------------------------------------------
 * A lease file of lines "NAME HOSTNUMBER": the host number n gives n in the IPv4 subnet and
 * n in the IPv6 one, so a container's two addresses always pair up. Host number 1 is the
 * bridge (the gateway). The caller holds the network lock around every call. */

struct ctr_lease {
        char *name;
        uint32_t n;
};

struct ctr_leases {
        struct ctr_lease *v;
        size_t n;
};

int ctr_leases_load(const char *path, struct ctr_leases *ret, struct ctr_error *err);
/* The lease file's text (consumed: split in place); path names it in messages. */
int ctr_leases_parse(char *text, const char *path, struct ctr_leases *ret, struct ctr_error *err);
int ctr_leases_save(const char *path, const struct ctr_leases *l, struct ctr_error *err);
void ctr_leases_free(struct ctr_leases *l);
/* The host number leased to name, 0 if none. */
uint32_t ctr_leases_find(const struct ctr_leases *l, const char *name);
/* Lease for name: its existing lease, else want (0 = the lowest free number above the gateway)
 * among 2..max. -EADDRINUSE when want is taken by another, -ENOSPC when all are taken. */
int ctr_leases_take(struct ctr_leases *l, const char *name, uint32_t want, uint32_t max, uint32_t *ret,
                    struct ctr_error *err);
/* Drop name's lease; true if it had one. */
bool ctr_leases_release(struct ctr_leases *l, const char *name);

/* flock()ed lock file in dir (created as needed); returns the fd to close for unlock. */
int ctr_net_lock(const char *dir, struct ctr_error *err);

/* --- port forwards --------------------------------------------------------------------------- */

struct ctr_port {
        int family;       /* 0: every host address (IPv4 and IPv6); else the family of host_ip */
        char host_ip[46]; /* "" for every address */
        uint16_t host;
        uint16_t container;
        int proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* "[HOST_IP:]HOST:CONTAINER[/tcp|/udp]", IPv6 host addresses in brackets. */
int ctr_port_parse(const char *spec, struct ctr_port *ret, struct ctr_error *err);
/* Back to the canonical spec ("127.0.0.1:8080:80/tcp"). */
void ctr_port_format(const struct ctr_port *p, char *buf, size_t len);
/* No family, 0.0.0.0 or [::]: every host address (of the family). */
bool ctr_port_any_address(const struct ctr_port *p);
/* Two forwards that would catch the same packets. */
bool ctr_port_conflict(const struct ctr_port *a, const struct ctr_port *b);

/* --- rtnetlink --------------------------------------------------------------------------------
 * A socket is bound to the network namespace it was opened in; ctr_nl_open_in opens one inside
 * another process's namespace (through its pidfd) and returns to ours. */

struct ctr_nl;
struct ctr_nl *ctr_nl_open(struct ctr_error *err);
struct ctr_nl *ctr_nl_open_in(int pidfd, struct ctr_error *err);
void ctr_nl_close(struct ctr_nl *nl);
static inline void ctr_nl_closep(struct ctr_nl **nl)
{
        ctr_nl_close(*nl);
}
#define _cleanup_nl_ __attribute__((cleanup(ctr_nl_closep)))

/* Interface index of name, -ENODEV when there is none. */
int ctr_nl_link_index(struct ctr_nl *nl, const char *name, struct ctr_error *err);
/* Create a bridge (with a fixed locally administered MAC so it does not change as ports come
 * and go); EEXIST is success. */
int ctr_nl_bridge_ensure(struct ctr_nl *nl, const char *name, struct ctr_error *err);
/* A veth pair: host_name stays here attached to master (an index), peer_name is created
 * directly in the network namespace of peer_pid. */
int ctr_nl_veth_create(struct ctr_nl *nl, const char *host_name, int master, const char *peer_name, pid_t peer_pid,
                       struct ctr_error *err);
int ctr_nl_link_up(struct ctr_nl *nl, int index, struct ctr_error *err);
/* Enslave index to the bridge master and bring it up. */
int ctr_nl_link_set_master_up(struct ctr_nl *nl, int index, int master, struct ctr_error *err);
/* A TAP device for a VM's virtio-net (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with the 12-byte header
 * of virtio 1.x, no offloads): the fd is the device, which goes away with its last fd. */
int ctr_tap_open(const char *name, int *ret_fd, struct ctr_error *err);
/* Delete a link by name; -ENODEV (err untouched) when it does not exist. */
int ctr_nl_link_del(struct ctr_nl *nl, const char *name, struct ctr_error *err);
/* Add addr/prefix on index (IPv6 without duplicate address detection); EEXIST is success. */
int ctr_nl_addr_add(struct ctr_nl *nl, int index, int family, const void *addr, unsigned prefix,
                    struct ctr_error *err);
int ctr_nl_route_default(struct ctr_nl *nl, int index, int family, const void *gateway, struct ctr_error *err);

/* Message builders behind the calls above, for the unit tests. buf holds MNL_SOCKET_BUFFER_SIZE. */
struct nlmsghdr *ctr_nlmsg_veth(char *buf, const char *host_name, int master, const char *peer_name, pid_t peer_pid);
struct nlmsghdr *ctr_nlmsg_addr(char *buf, int index, int family, const void *addr, unsigned prefix);
struct nlmsghdr *ctr_nlmsg_route_default(char *buf, int index, int family, const void *gateway);

/* Bring "lo" up in the calling process's network namespace. */
int ctr_net_loopback_up(struct ctr_error *err);

/* --- nf_tables (table "inet ctr") ----------------------------------------------------------- */

#define CTR_NFT_TABLE "ctr"

struct ctr_nat_conf {
        const char *bridge;
        const struct ctr_subnet *v4;
        const struct ctr_subnet *v6; /* NULL or family 0: no IPv6 */
};

/* Create the table and its chains (idempotent) and rewrite the shared rules, atomically:
 * masquerade of traffic leaving the subnets, of loopback-sourced traffic forwarded into the
 * bridge and of hairpin traffic; "fib daddr type local" jumps into the "ports" chain. */
int ctr_nat_setup(const struct ctr_nat_conf *c, struct ctr_error *err);
/* Add DNAT rules for ports (each tagged with tag) to the container's addresses (v6 may be NULL). */
int ctr_nat_ports_add(const char *tag, const struct ctr_port *ports, size_t n, const struct in_addr *v4,
                      const struct in6_addr *v6, struct ctr_error *err);
/* Delete every rule tagged tag from the table; nothing to do is success. Returns the count. */
int ctr_nat_rules_del(const char *tag, struct ctr_error *err);
/* Text of the rules built for a port forward, one per family (libnftnl's debug form), for the
 * unit tests. Caller frees. */
char *ctr_nat_port_rule_text(const char *tag, const struct ctr_port *p, const struct in_addr *v4,
                             const struct in6_addr *v6);
char *ctr_nat_setup_text(const struct ctr_nat_conf *c);
