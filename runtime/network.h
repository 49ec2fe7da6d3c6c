/* A container's network, as policy: the host-wide settings of ctr.conf (bridge, subnets, DNS),
 * address leases under the state root, the bridge and NAT set up on first use, the veth pair
 * and port forwards of each run, and their teardown (also after a monitor crash). The kernel
 * work itself is netns/'s. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "../netns/netns.h"
#include "config.h"
#include "state.h"

#define CTR_DEFAULT_BRIDGE "ctrbr0"
#define CTR_DEFAULT_SUBNET4 "10.57.0.0/16"
#define CTR_DEFAULT_SUBNET6 "fd57:6374:7200::/64"

/* ctr.conf's "network" object: /etc/ctr/ctr.conf, or ROOT/ctr.conf with --root. */
struct ctr_netconf {
        char *bridge;
        struct ctr_subnet v4;
        struct ctr_subnet v6; /* family 0: IPv6 disabled */
        char **dns;           /* NULL: taken from the host's resolv.conf */
};

char *ctr_netconf_path(const struct ctr_paths *p);
int ctr_netconf_load(const struct ctr_paths *p, struct ctr_netconf *ret, struct ctr_error *err);
/* The text of a ctr.conf (path names it in messages), over the defaults. */
int ctr_netconf_parse(const char *text, const char *path, struct ctr_netconf *ret, struct ctr_error *err);
void ctr_netconf_free(struct ctr_netconf *c);

/* What one run of a container got (bridge mode). */
struct ctr_net_run {
        bool active;
        struct ctr_netconf conf;
        char veth[IFNAMSIZ];
        char *tag; /* comment on its nf_tables rules */
        struct in_addr v4;
        struct in6_addr v6;
        bool has_v6;
        char addr4[INET_ADDRSTRLEN];
        char addr6[INET6_ADDRSTRLEN];
        char *resolv_conf; /* text for the container's /etc/resolv.conf */
        char *net_unit;    /* systemd-networkd .network text matching the assigned addresses */
};

void ctr_net_run_free(struct ctr_net_run *n);
/* Names derived from the state root and container name, stable across runs (crash repair). */
void ctr_network_veth_name(const struct ctr_paths *p, const char *name, char ret[IFNAMSIZ]);
char *ctr_network_tag(const struct ctr_paths *p, const char *name);

/* In the monitor, before init exists: lease addresses, make sure the bridge, its addresses, IP
 * forwarding and the NAT table exist, and claim the host ports. No-op unless mode is bridge. */
int ctr_network_prepare(const struct ctr_paths *p, const struct ctr_config *cfg, struct ctr_net_run *n,
                        struct ctr_error *err);
/* After clone, before init runs: the veth pair (eth0 inside), addresses, routes, forwards. */
int ctr_network_attach(struct ctr_net_run *n, const struct ctr_config *cfg, pid_t pid, int pidfd,
                       struct ctr_error *err);
/* VM mode, in the monitor: a TAP named as the veth would be, on the bridge, and the port
 * forwards to the leased IPv4 address (the guest configures that one only). *ret_fd is the TAP
 * (-1 unless bridge mode), kept by the monitor for the whole run so reboots reuse it. */
int ctr_network_attach_tap(struct ctr_net_run *n, const struct ctr_config *cfg, int *ret_fd, struct ctr_error *err);
/* The guest's MAC address: locally administered, the same on every run of the container. */
void ctr_network_vm_mac(const struct ctr_net_run *n, uint8_t mac[6]);
/* Remove what a run of name left: veth, its rules, its port claims. Leases stay. Safe to call
 * when nothing is there (crash repair). Returns 0 or -errno with err set. */
int ctr_network_teardown(const struct ctr_paths *p, const char *name, struct ctr_error *err);
/* At create: reserve a fixed address (--ip) so no other container takes it; checks it is in
 * the subnet and free. No-op unless cfg asks for one. */
int ctr_network_reserve(const struct ctr_paths *p, const struct ctr_config *cfg, struct ctr_error *err);
/* At destroy: release the container's lease. */
int ctr_network_release(const struct ctr_paths *p, const char *name, struct ctr_error *err);
/* The addresses leased to name ("" when none). */
void ctr_network_lease_addresses(const struct ctr_paths *p, const struct ctr_config *cfg, char v4[INET_ADDRSTRLEN],
                                 char v6[INET6_ADDRSTRLEN]);
/* Lines describing what ctr changed on the host (sysctls), or NULL; caller frees. */
char *ctr_network_host_changes(const struct ctr_paths *p);
