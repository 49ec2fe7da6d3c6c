/* Unit tests for netns/ and the network part of the config: subnets, IPAM (allocation, fixed
 * addresses, release, exhaustion, the lease file), port specs with bad input, rtnetlink message
 * building (read back attribute by attribute) and the nf_tables rules as libnftnl prints them. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdlib.h>

#include "../../netns/netns.h"
#include "../../runtime/config.h"
#include "../../runtime/network.h"
#include "../../base/util.h"

Test(subnet, parse_and_hosts)
{
        struct ctr_subnet sn;
        struct ctr_error err = {0};
        uint8_t a[16];
        char buf[64];
        cr_assert_eq(ctr_subnet_parse("10.57.0.0/16", &sn, &err), 0, "%s", err.msg);
        cr_assert_eq(sn.family, AF_INET);
        cr_assert_eq(ctr_subnet_hosts(&sn), 65534);
        cr_assert(ctr_subnet_host(&sn, 1, a));
        cr_assert_str_eq(inet_ntop(AF_INET, a, buf, sizeof(buf)), "10.57.0.1");
        cr_assert(ctr_subnet_host(&sn, 258, a));
        cr_assert_str_eq(inet_ntop(AF_INET, a, buf, sizeof(buf)), "10.57.1.2");
        cr_assert_eq(ctr_subnet_index(&sn, a), 258);
        cr_assert_not(ctr_subnet_host(&sn, 65535, a), "the broadcast address is no host");
        inet_pton(AF_INET, "10.58.0.1", a);
        cr_assert_eq(ctr_subnet_index(&sn, a), 0);
        ctr_subnet_format(&sn, buf, sizeof(buf));
        cr_assert_str_eq(buf, "10.57.0.0/16");

        cr_assert_eq(ctr_subnet_parse("fd57:6374:7200::/64", &sn, &err), 0, "%s", err.msg);
        cr_assert(ctr_subnet_host(&sn, 0x309, a));
        cr_assert_str_eq(inet_ntop(AF_INET6, a, buf, sizeof(buf)), "fd57:6374:7200::309");
        cr_assert_eq(ctr_subnet_index(&sn, a), 0x309);
        inet_pton(AF_INET6, "fd57:6374:7200::1:2", a);
        cr_assert_eq(ctr_subnet_index(&sn, a), 0, "beyond the host numbers ctr hands out");

        struct ctr_subnet s24;
        cr_assert_eq(ctr_subnet_parse("192.168.7.0/24", &s24, NULL), 0);
        cr_assert_eq(ctr_subnet_hosts(&s24), 254);
}

Test(subnet, bad)
{
        struct ctr_subnet sn;
        struct ctr_error err = {0};
        const char *bad[] = {"10.57.0.0", "10.57.0.1/16", "10.57.0.0/31", "10.57.0.0/x", "fd00::/48", "nonsense/8", ""};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cr_assert_lt(ctr_subnet_parse(bad[i], &sn, &err), 0, "%s accepted", bad[i]);
                cr_assert_eq(err.errnum, EINVAL);
        }
        ctr_subnet_parse("10.57.0.1/16", &sn, &err);
        cr_assert(strstr(err.msg, "host bits"), "%s", err.msg);
}

Test(ipam, allocate_release_fixed)
{
        struct ctr_leases l = {0};
        struct ctr_error err = {0};
        uint32_t n;
        cr_assert_eq(ctr_leases_take(&l, "a", 0, 10, &n, &err), 0);
        cr_assert_eq(n, 2, "the first host after the gateway");
        cr_assert_eq(ctr_leases_take(&l, "b", 0, 10, &n, &err), 0);
        cr_assert_eq(n, 3);
        cr_assert_eq(ctr_leases_take(&l, "a", 0, 10, &n, &err), 0);
        cr_assert_eq(n, 2, "a keeps its lease");
        cr_assert_eq(ctr_leases_take(&l, "c", 3, 10, &n, &err), -EADDRINUSE);
        cr_assert(strstr(err.msg, "leased to container b"), "%s", err.msg);
        cr_assert_eq(ctr_leases_take(&l, "c", 1, 10, &n, &err), -EINVAL, "the gateway");
        cr_assert_eq(ctr_leases_take(&l, "c", 11, 10, &n, &err), -EINVAL, "beyond the subnet");
        cr_assert_eq(ctr_leases_take(&l, "c", 7, 10, &n, &err), 0);
        cr_assert_eq(n, 7);
        cr_assert(ctr_leases_release(&l, "a"));
        cr_assert_not(ctr_leases_release(&l, "a"));
        cr_assert_eq(ctr_leases_take(&l, "d", 0, 10, &n, &err), 0);
        cr_assert_eq(n, 2, "a released number is reused, lowest first");
        cr_assert_eq(ctr_leases_find(&l, "c"), 7);
        cr_assert_eq(ctr_leases_find(&l, "zz"), 0);
        ctr_leases_free(&l);
}

Test(ipam, exhaustion)
{
        struct ctr_leases l = {0};
        struct ctr_error err = {0};
        uint32_t n;
        char name[16];
        for (int i = 0; i < 5; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                cr_assert_eq(ctr_leases_take(&l, name, 0, 6, &n, &err), 0);
        }
        cr_assert_eq(ctr_leases_take(&l, "late", 0, 6, &n, &err), -ENOSPC);
        cr_assert(strstr(err.msg, "every address"), "%s", err.msg);
        ctr_leases_free(&l);
}

Test(ipam, lease_file)
{
        char dir[64], path[128];
        struct ctr_leases l = {0}, back;
        struct ctr_error err = {0};
        uint32_t n;
        unit_tmpdir_make(dir, sizeof(dir), "net");
        snprintf(path, sizeof(path), "%s/leases", dir);
        cr_assert_eq(ctr_leases_load(path, &back, &err), 0, "a missing file is no leases");
        cr_assert_eq(back.n, 0);
        ctr_leases_take(&l, "web", 0, 100, &n, &err);
        ctr_leases_take(&l, "db_1", 42, 100, &n, &err);
        cr_assert_eq(ctr_leases_save(path, &l, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_leases_load(path, &back, &err), 0, "%s", err.msg);
        cr_assert_eq(back.n, 2);
        cr_assert_eq(ctr_leases_find(&back, "db_1"), 42);
        cr_assert_eq(ctr_leases_find(&back, "web"), 2);
        ctr_leases_free(&back);
        ctr_leases_free(&l);
        FILE *f = fopen(path, "w");
        fputs("web two\n", f);
        fclose(f);
        cr_assert_eq(ctr_leases_load(path, &back, &err), -EINVAL);
        cr_assert(strstr(err.msg, ":1:"), "the line is named: %s", err.msg);
        int fd = ctr_net_lock(dir, &err);
        cr_assert_geq(fd, 0, "%s", err.msg);
        close(fd);
        unit_tmpdir_remove(dir);
}

Test(port, parse_good)
{
        struct ctr_port p;
        struct ctr_error err = {0};
        char buf[96];
        cr_assert_eq(ctr_port_parse("8080:80", &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.family, 0);
        cr_assert_eq(p.host, 8080);
        cr_assert_eq(p.container, 80);
        cr_assert_eq(p.proto, IPPROTO_TCP);
        cr_assert_eq(ctr_port_parse("127.0.0.1:8080:80/udp", &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.family, AF_INET);
        cr_assert_str_eq(p.host_ip, "127.0.0.1");
        cr_assert_eq(p.proto, IPPROTO_UDP);
        ctr_port_format(&p, buf, sizeof(buf));
        cr_assert_str_eq(buf, "127.0.0.1:8080:80/udp");
        cr_assert_eq(ctr_port_parse("[fd57:6374:7200:0::1]:443:8443/tcp", &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.family, AF_INET6);
        ctr_port_format(&p, buf, sizeof(buf));
        cr_assert_str_eq(buf, "[fd57:6374:7200::1]:443:8443/tcp", "canonical form");
}

Test(port, parse_bad)
{
        struct ctr_port p;
        struct ctr_error err = {0};
        const char *bad[] = {"70000:80", "80:0", "abc", "80", ":80", "80:", "80:80/sctp", "1.2.3:80:80",
                             "[::1]:80:80", "[fd00::1:80:80", "80:80:80", "-1:80", "8080:80/", "999999:1"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                memset(&err, 0, sizeof(err));
                cr_assert_lt(ctr_port_parse(bad[i], &p, &err), 0, "'%s' accepted", bad[i]);
                cr_assert(strstr(err.msg, bad[i]) || strstr(err.msg, "port"), "'%s': %s", bad[i], err.msg);
        }
        ctr_port_parse("70000:80", &p, &err);
        cr_assert(strstr(err.msg, "70000 is outside 1-65535"), "%s", err.msg);
}

Test(port, conflicts)
{
        struct ctr_port a, b;
        ctr_port_parse("8080:80", &a, NULL);
        ctr_port_parse("127.0.0.1:8080:81", &b, NULL);
        cr_assert(ctr_port_conflict(&a, &b), "every address overlaps 127.0.0.1");
        ctr_port_parse("127.0.0.1:8080:81/udp", &b, NULL);
        cr_assert_not(ctr_port_conflict(&a, &b), "another protocol");
        ctr_port_parse("127.0.0.2:8080:81", &a, NULL);
        ctr_port_parse("127.0.0.1:8080:81", &b, NULL);
        cr_assert_not(ctr_port_conflict(&a, &b), "two different addresses");
        ctr_port_parse("0.0.0.0:8080:81", &a, NULL);
        cr_assert(ctr_port_conflict(&a, &b), "0.0.0.0 is every IPv4 address");
        ctr_port_parse("[fd00::2]:8080:81", &a, NULL);
        cr_assert_not(ctr_port_conflict(&a, &b), "other families");
}

Test(config, network_keys)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "web");
        cr_assert_eq(c.net_mode, CTR_NET_BRIDGE, "bridge is the default");
        cr_assert_eq(ctr_config_add_port(&c, "8080:80", &err), 0);
        cr_assert_eq(ctr_config_add_port(&c, "127.0.0.1:8080:81", &err), -EEXIST, "overlap refused");
        cr_assert_eq(ctr_config_set_net_mode(&c, "netns:/run/netns/x", &err), 0);
        cr_assert_eq(ctr_config_validate(&c, &err), -EINVAL, "forwards need bridge mode");
        cr_assert_eq(ctr_config_set_net_mode(&c, "netns:relative", &err), -EINVAL);
        cr_assert_eq(ctr_config_set_net_mode(&c, "bridge", &err), 0);
        c.net.ipv4 = xstrdup("10.57.0.9");
        cr_assert_eq(ctr_config_validate(&c, &err), 0, "%s", err.msg);
        char *json = ctr_config_to_json(&c);
        struct ctr_config back;
        cr_assert_eq(ctr_config_parse(json, &back, &err), 0, "%s", err.msg);
        cr_assert_eq(back.net.n_ports, 1);
        cr_assert_eq(back.net.ports[0].host, 8080);
        cr_assert_str_eq(back.net.ipv4, "10.57.0.9");
        cr_assert_null(back.net.ipv6, "auto reads back as unset");
        free(json);
        ctr_config_free(&back);
        free(c.net.ipv4);
        c.net.ipv4 = xstrdup("10.57.0");
        cr_assert_eq(ctr_config_validate(&c, &err), -EINVAL);
        cr_assert(strstr(err.msg, "network.ipv4"), "%s", err.msg);
        ctr_config_free(&c);
        const char *doc = "{\"version\":1,\"name\":\"x\",\"network\":{\"mode\":\"bridge\",\"ports\":"
                          "[{\"host\":70000,\"container\":80}]}}";
        cr_assert_lt(ctr_config_parse(doc, &back, &err), 0);
        cr_assert(strstr(err.msg, "network.ports[0].host"), "%s", err.msg);
}

/* Read back one attribute of a nest by type. */
static const struct nlattr *find_attr(const struct nlattr *nest, uint16_t type)
{
        const struct nlattr *a;
        mnl_attr_for_each_nested(a, nest) if (mnl_attr_get_type(a) == type) return a;
        return NULL;
}

Test(netlink, veth_message)
{
        static char buf[16384];
        struct nlmsghdr *nlh = ctr_nlmsg_veth(buf, "ctr0badc0de", 7, "eth0", 4242);
        cr_assert_eq(nlh->nlmsg_type, RTM_NEWLINK);
        cr_assert(nlh->nlmsg_flags & NLM_F_CREATE && nlh->nlmsg_flags & NLM_F_EXCL);
        const struct nlattr *a, *linkinfo = NULL;
        const char *name = NULL;
        uint32_t master = 0;
        mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
        {
                if (mnl_attr_get_type(a) == IFLA_IFNAME)
                        name = mnl_attr_get_str(a);
                else if (mnl_attr_get_type(a) == IFLA_MASTER)
                        master = mnl_attr_get_u32(a);
                else if (mnl_attr_get_type(a) == IFLA_LINKINFO)
                        linkinfo = a;
        }
        cr_assert_str_eq(name, "ctr0badc0de");
        cr_assert_eq(master, 7);
        cr_assert_not_null(linkinfo);
        cr_assert_str_eq(mnl_attr_get_str(find_attr(linkinfo, IFLA_INFO_KIND)), "veth");
        const struct nlattr *data = find_attr(linkinfo, IFLA_INFO_DATA);
        const struct nlattr *peer = find_attr(data, VETH_INFO_PEER);
        cr_assert_not_null(peer);
        /* The peer's attributes follow its own ifinfomsg. */
        const char *p = (const char *)mnl_attr_get_payload(peer) + MNL_ALIGN(sizeof(struct ifinfomsg));
        const char *end = (const char *)peer + peer->nla_len;
        const char *pname = NULL;
        uint32_t pid = 0;
        while (p < end) {
                const struct nlattr *pa = (const void *)p;
                if (mnl_attr_get_type(pa) == IFLA_IFNAME)
                        pname = mnl_attr_get_str(pa);
                else if (mnl_attr_get_type(pa) == IFLA_NET_NS_PID)
                        pid = mnl_attr_get_u32(pa);
                p += MNL_ALIGN(pa->nla_len);
        }
        cr_assert_str_eq(pname, "eth0");
        cr_assert_eq(pid, 4242);
}

Test(netlink, address_and_route_messages)
{
        static char buf[16384];
        struct in6_addr a6;
        inet_pton(AF_INET6, "fd57:6374:7200::2", &a6);
        struct nlmsghdr *nlh = ctr_nlmsg_addr(buf, 3, AF_INET6, &a6, 64);
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        cr_assert_eq(nlh->nlmsg_type, RTM_NEWADDR);
        cr_assert_eq(ifa->ifa_prefixlen, 64);
        cr_assert_eq(ifa->ifa_index, 3);
        cr_assert(ifa->ifa_flags & IFA_F_NODAD, "no duplicate detection delay");
        const struct nlattr *a;
        bool have_addr = false;
        mnl_attr_for_each(a, nlh, sizeof(*ifa)) if (mnl_attr_get_type(a) == IFA_ADDRESS) have_addr =
                !memcmp(mnl_attr_get_payload(a), &a6, 16);
        cr_assert(have_addr);

        struct in_addr gw;
        inet_pton(AF_INET, "10.57.0.1", &gw);
        nlh = ctr_nlmsg_route_default(buf, 3, AF_INET, &gw);
        struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        cr_assert_eq(rtm->rtm_dst_len, 0, "a default route");
        uint32_t oif = 0, g = 0;
        mnl_attr_for_each(a, nlh, sizeof(*rtm))
        {
                if (mnl_attr_get_type(a) == RTA_OIF)
                        oif = mnl_attr_get_u32(a);
                if (mnl_attr_get_type(a) == RTA_GATEWAY)
                        g = mnl_attr_get_u32(a);
        }
        cr_assert_eq(oif, 3);
        cr_assert_eq(g, gw.s_addr);
}

Test(nftables, port_rules)
{
        struct ctr_port p;
        struct in_addr v4;
        struct in6_addr v6;
        inet_pton(AF_INET, "10.57.0.3", &v4);
        inet_pton(AF_INET6, "fd57:6374:7200::3", &v6);
        ctr_port_parse("127.0.0.1:8080:80", &p, NULL);
        char *t = ctr_nat_port_rule_text("ctr 1 web", &p, &v4, &v6);
        /* IPv4 only: the host address is IPv4. Daddr 127.0.0.1, dport 8080, dnat to 10.57.0.3:80. */
        cr_assert_not_null(strstr(t, "inet ctr ports"), "%s", t);
        cr_assert_null(strstr(strstr(t, "inet ctr ports") + 1, "inet ctr ports"), "one rule: %s", t);
        cr_assert(strstr(t, "[ payload load 4b @ network header + 16 => reg 1 ]"), "%s", t);
        cr_assert(strstr(t, "[ cmp eq reg 1 0x0100007f ]"), "%s", t);
        cr_assert(strstr(t, "[ cmp eq reg 1 0x0000901f ]"), "dport 8080: %s", t);
        cr_assert(strstr(t, "[ immediate reg 1 0x0300390a ]"), "%s", t);
        cr_assert(strstr(t, "[ nat dnat ip addr_min reg 1 proto_min reg 2 ]"), "%s", t);
        free(t);
        ctr_port_parse("9090:90/udp", &p, NULL);
        t = ctr_nat_port_rule_text("ctr 1 web", &p, &v4, &v6);
        cr_assert(strstr(t, "nat dnat ip addr_min") && strstr(t, "nat dnat ip6 addr_min"), "both families: %s", t);
        cr_assert(strstr(t, "[ cmp eq reg 1 0x00000011 ]"), "udp: %s", t);
        cr_assert_null(strstr(t, "network header + 16"), "no address match for every address: %s", t);
        free(t);
        t = ctr_nat_port_rule_text("ctr 1 web", &p, &v4, NULL);
        cr_assert_null(strstr(t, "ip6"), "no IPv6 rule without an IPv6 address: %s", t);
        free(t);
}

Test(nftables, shared_rules)
{
        struct ctr_subnet v4, v6;
        ctr_subnet_parse("10.57.0.0/16", &v4, NULL);
        ctr_subnet_parse("fd57:6374:7200::/64", &v6, NULL);
        struct ctr_nat_conf c = {.bridge = "ctrbr0", .v4 = &v4, .v6 = &v6};
        char *t = ctr_nat_setup_text(&c);
        cr_assert(strstr(t, "[ fib daddr type => reg 1 ]"), "%s", t);
        cr_assert(strstr(t, "jump -> ports"), "%s", t);
        cr_assert(strstr(t, "[ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ]"), "/16 mask: %s", t);
        cr_assert(strstr(t, "[ cmp neq reg 1 0x0000390a ]"), "daddr outside the subnet: %s", t);
        cr_assert(strstr(t, "[ masq ]"), "%s", t);
        cr_assert(strstr(t, "[ ct load status => reg 1 ]"), "hairpin: %s", t);
        cr_assert(strstr(t, "inet ctr guard"), "the localnet guard: %s", t);
        cr_assert(strstr(t, "[ meta load iifname => reg 1 ]") && strstr(t, "[ immediate reg 0 drop ]"), "%s", t);
        free(t);
        c.v6 = NULL;
        t = ctr_nat_setup_text(&c);
        cr_assert_null(strstr(t, "0x0000fd57") , "no IPv6 masquerade: %s", t);
        free(t);
}

/* A VM's MAC: locally administered unicast, stable for a container, different between two. */
Test(network, vm_mac)
{
        struct ctr_net_run a = {.tag = "ctr /var/lib/ctr web"}, b = {.tag = "ctr /var/lib/ctr db"};
        uint8_t m1[6], m2[6], m3[6];
        ctr_network_vm_mac(&a, m1);
        ctr_network_vm_mac(&a, m2);
        ctr_network_vm_mac(&b, m3);
        cr_assert_eq(memcmp(m1, m2, 6), 0, "the same container gets the same MAC");
        cr_assert_neq(memcmp(m1, m3, 6), 0, "two containers get different MACs");
        cr_assert_eq(m1[0] & 0x03, 0x02, "locally administered and unicast: %02x", m1[0]);
}
