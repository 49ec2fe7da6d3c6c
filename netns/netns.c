/* Netlink link control with libmnl: one request, one ACK, no shelling out to ip(8).
 * Runs inside the container's network namespace (called by the child before exec). */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int netlink_request(struct nlmsghdr *nlh, struct ctr_error *err, const char *what)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        int r;

        if (!nl)
                return ctr_err_sys(err, errno, "netlink", "open socket");
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = ctr_err_sys(err, errno, "netlink", "bind");
                goto out;
        }
        unsigned portid = mnl_socket_get_portid(nl);
        nlh->nlmsg_seq = time(NULL);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                r = ctr_err_sys(err, errno, "netlink", "%s", what);
                goto out;
        }
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
        if (n < 0) {
                r = ctr_err_sys(err, errno, "netlink", "%s", what);
                goto out;
        }
        r = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, NULL, NULL);
        r = r < 0 ? ctr_err_sys(err, errno, "netlink", "%s", what) : 0;
out:
        mnl_socket_close(nl);
        return r;
}

int ctr_net_loopback_up(struct ctr_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm;
        unsigned idx = if_nametoindex("lo");

        if (!idx)
                return ctr_err_sys(err, errno, "netlink", "find loopback");
        nlh->nlmsg_type = RTM_NEWLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        memset(ifm, 0, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = idx;
        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        return netlink_request(nlh, err, "set lo up");
}
