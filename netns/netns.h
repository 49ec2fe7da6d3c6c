/* netns/: network namespaces and links over netlink (libmnl). For now the loopback of a fresh
 * namespace; bridge, veth, addresses, NAT and port forwards extend this header. */
#pragma once

#include "../runtime/error.h"

/* Bring "lo" up in the calling process's network namespace. */
int ctr_net_loopback_up(struct ctr_error *err);
