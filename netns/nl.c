/* rtnetlink over libmnl: one request, one answer, no shelling out to ip(8). Messages are built
 * by small functions the unit tests read back; the calls send them and wait for the kernel's ACK. */
#define _GNU_SOURCE
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../base/util.h"

struct ctr_nl {
        struct mnl_socket *s;
        unsigned portid;
        unsigned seq;
};

struct ctr_nl *ctr_nl_open(struct ctr_error *err)
{
        struct ctr_nl *nl = calloc(1, sizeof(*nl));
        if (!nl)
                abort();
        nl->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->s) {
                ctr_err_sys(err, errno, "netlink", "open socket");
                free(nl);
                return NULL;
        }
        if (mnl_socket_bind(nl->s, 0, MNL_SOCKET_AUTOPID) < 0) {
                ctr_err_sys(err, errno, "netlink", "bind");
                ctr_nl_close(nl);
                return NULL;
        }
        nl->portid = mnl_socket_get_portid(nl->s);
        nl->seq = getpid() ^ (unsigned)ctr_now_ms();
        return nl;
}

struct ctr_nl *ctr_nl_open_in(int pidfd, struct ctr_error *err)
{
        _cleanup_close_ int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (own < 0) {
                ctr_err_sys(err, errno, "netlink", "open own network namespace");
                return NULL;
        }
        if (setns(pidfd, CLONE_NEWNET) < 0) {
                ctr_err_sys(err, errno, "netlink", "enter the container's network namespace");
                return NULL;
        }
        struct ctr_nl *nl = ctr_nl_open(err);
        if (setns(own, CLONE_NEWNET) < 0) {
                /* Carrying on in the wrong namespace would configure the wrong links. */
                perror("ctr: return to own network namespace");
                abort();
        }
        return nl;
}

void ctr_nl_close(struct ctr_nl *nl)
{
        if (!nl)
                return;
        if (nl->s)
                mnl_socket_close(nl->s);
        free(nl);
}

/* Send one request and wait for its answer; cb (may be NULL) sees data messages. Returns 0 or
 * -errno of the kernel's answer. */
static int nl_talk(struct ctr_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        nlh->nlmsg_seq = ++nl->seq;
        if (mnl_socket_sendto(nl->s, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->s, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                int r = mnl_cb_run(buf, n, nlh->nlmsg_seq, nl->portid, cb, data);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP || !(nlh->nlmsg_flags & NLM_F_ACK))
                        return 0;
        }
}

static struct nlmsghdr *put_link_header(char *buf, int type, unsigned flags, int index)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = index;
        return nlh;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type == RTM_NEWLINK)
                *(int *)data = ifm->ifi_index;
        return MNL_CB_OK;
}

int ctr_nl_link_index(struct ctr_nl *nl, const char *name, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_GETLINK, 0, 0);
        int index = 0;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        int r = nl_talk(nl, nlh, link_cb, &index);
        if (r == -ENODEV || (r == 0 && index <= 0))
                return -ENODEV;
        if (r < 0)
                return ctr_err_sys(err, -r, "netlink", "look up link %s", name);
        return index;
}

int ctr_nl_bridge_ensure(struct ctr_nl *nl, const char *name, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
        uint8_t mac[6];
        if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
                return ctr_err_sys(err, errno, "bridge", "random MAC address");
        mac[0] = (mac[0] & 0xfe) | 0x02; /* unicast, locally administered */
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, li);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0 && r != -EEXIST)
                return ctr_err_sys(err, -r, "bridge", "create %s", name);
        return 0;
}

struct nlmsghdr *ctr_nlmsg_veth(char *buf, const char *host_name, int master, const char *peer_name, pid_t peer_pid)
{
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
        if (master > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, master);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of its own, as in a RTM_NEWLINK. */
        struct ifinfomsg *pifm = (struct ifinfomsg *)((char *)nlh + nlh->nlmsg_len);
        memset(pifm, 0, sizeof(*pifm));
        pifm->ifi_family = AF_UNSPEC;
        nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
        if (peer_pid > 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, peer_pid);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, li);
        return nlh;
}

int ctr_nl_veth_create(struct ctr_nl *nl, const char *host_name, int master, const char *peer_name, pid_t peer_pid,
                       struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int r = nl_talk(nl, ctr_nlmsg_veth(buf, host_name, master, peer_name, peer_pid), NULL, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "veth", "create %s", host_name);
        return 0;
}

int ctr_nl_link_up(struct ctr_nl *nl, int index, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_ACK, index);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "netlink", "set link %d up", index);
        return 0;
}

int ctr_nl_link_set_master_up(struct ctr_nl *nl, int index, int master, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_ACK, index);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "netlink", "attach link %d to bridge %d", index, master);
        return 0;
}

int ctr_nl_link_del(struct ctr_nl *nl, const char *name, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_DELLINK, NLM_F_ACK, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r == -ENODEV)
                return r;
        if (r < 0)
                return ctr_err_sys(err, -r, "netlink", "delete link %s", name);
        return 0;
}

struct nlmsghdr *ctr_nlmsg_addr(char *buf, int index, int family, const void *addr, unsigned prefix)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = family;
        ifa->ifa_prefixlen = prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = index;
        size_t len = family == AF_INET ? 4 : 16;
        if (family == AF_INET) {
                mnl_attr_put(nlh, IFA_LOCAL, len, addr);
                mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
        } else {
                /* A private subnet ctr hands out itself: duplicate detection would only delay. */
                ifa->ifa_flags = IFA_F_NODAD;
                mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
                mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
        }
        return nlh;
}

int ctr_nl_addr_add(struct ctr_nl *nl, int index, int family, const void *addr, unsigned prefix,
                    struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE], a[INET6_ADDRSTRLEN] = "";
        int r = nl_talk(nl, ctr_nlmsg_addr(buf, index, family, addr, prefix), NULL, NULL);
        if (r < 0 && r != -EEXIST) {
                inet_ntop(family, addr, a, sizeof(a));
                return ctr_err_sys(err, -r, "address", "add %s/%u", a, prefix);
        }
        return 0;
}

struct nlmsghdr *ctr_nlmsg_route_default(char *buf, int index, int family, const void *gateway)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = family;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gateway);
        mnl_attr_put_u32(nlh, RTA_OIF, index);
        return nlh;
}

int ctr_nl_route_default(struct ctr_nl *nl, int index, int family, const void *gateway, struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int r = nl_talk(nl, ctr_nlmsg_route_default(buf, index, family, gateway), NULL, NULL);
        if (r < 0 && r != -EEXIST)
                return ctr_err_sys(err, -r, "route", "add the default %s route",
                                   family == AF_INET ? "IPv4" : "IPv6");
        return 0;
}

int ctr_net_loopback_up(struct ctr_error *err)
{
        struct ctr_nl *nl = ctr_nl_open(err);
        if (!nl)
                return -err->errnum;
        int r = ctr_nl_link_up(nl, 1, err); /* lo is always index 1 in a namespace */
        ctr_nl_close(nl);
        return r;
}
