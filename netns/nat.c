/* nf_tables rules for NAT and port forwards, in ctr's own table "inet ctr" (libnftnl over
 * libmnl). Every change is one atomic batch. Shared rules (masquerade, the jumps into "ports")
 * are rewritten whole on each setup; a container's port forwards carry its tag as the rule's
 * comment, so teardown removes exactly those. */
#define _GNU_SOURCE
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/util.h"

#define BATCH_SIZE (256 * 1024)
#define NL_BUF 32768 /* answers are read in pieces of at most this */

/* --- expressions ---------------------------------------------------------------------------- */

static struct nftnl_expr *expr(const char *name)
{
        struct nftnl_expr *e = nftnl_expr_alloc(name);
        if (!e)
                abort();
        return e;
}

static void add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
        struct nftnl_expr *e = expr("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
        nftnl_rule_add_expr(r, e);
}

static void add_cmp(struct nftnl_rule *r, uint32_t op, const void *data, size_t len)
{
        struct nftnl_expr *e = expr("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
        nftnl_rule_add_expr(r, e);
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
        struct nftnl_expr *e = expr("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_rule_add_expr(r, e);
}

static void add_bitwise(struct nftnl_rule *r, const void *mask, size_t len)
{
        static const uint8_t zero[16];
        struct nftnl_expr *e = expr("bitwise");
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
        nftnl_rule_add_expr(r, e);
}

static void add_immediate(struct nftnl_rule *r, uint32_t dreg, const void *data, size_t len)
{
        struct nftnl_expr *e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
        nftnl_rule_add_expr(r, e);
}

static void match_u8(struct nftnl_rule *r, uint32_t meta_key, uint8_t v)
{
        add_meta(r, meta_key, NFT_REG_1);
        add_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void match_ifname(struct nftnl_rule *r, uint32_t meta_key, const char *name)
{
        char buf[IFNAMSIZ] = {0};
        strncpy(buf, name, sizeof(buf) - 1);
        add_meta(r, meta_key, NFT_REG_1);
        add_cmp(r, NFT_CMP_EQ, buf, sizeof(buf));
}

/* Addresses live at these offsets of the IPv4 and IPv6 headers. */
static uint32_t addr_offset(int family, bool dst)
{
        return family == AF_INET ? (dst ? 16 : 12) : (dst ? 24 : 8);
}

/* ip saddr/daddr (==|!=) subnet */
static void match_subnet(struct nftnl_rule *r, const struct ctr_subnet *sn, bool dst, uint32_t op)
{
        size_t len = sn->family == AF_INET ? 4 : 16;
        uint8_t mask[16] = {0};
        for (unsigned bit = 0; bit < sn->prefix; bit++)
                mask[bit / 8] |= 0x80 >> (bit % 8);
        add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(sn->family, dst), len);
        add_bitwise(r, mask, len);
        add_cmp(r, op, &sn->net, len);
}

static void add_verdict_jump(struct nftnl_rule *r, const char *chain)
{
        struct nftnl_expr *e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
        nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
        nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_new(const char *chain, const char *tag)
{
        struct nftnl_rule *r = nftnl_rule_alloc();
        if (!r)
                abort();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, CTR_NFT_TABLE);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
        if (tag) {
                struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
                if (!ud)
                        abort();
                nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, tag);
                nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
                nftnl_udata_buf_free(ud);
        }
        return r;
}

static void add_masq(struct nftnl_rule *r)
{
        nftnl_rule_add_expr(r, expr("masq"));
}

/* --- rules ---------------------------------------------------------------------------------- */

/* fib daddr type local jump ports */
static struct nftnl_rule *rule_jump_ports(const char *chain, const char *tag)
{
        struct nftnl_rule *r = rule_new(chain, tag);
        struct nftnl_expr *e = expr("fib");
        uint32_t local = RTN_LOCAL;
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
        nftnl_rule_add_expr(r, e);
        add_cmp(r, NFT_CMP_EQ, &local, sizeof(local));
        add_verdict_jump(r, "ports");
        return r;
}

/* Traffic from the subnet to anywhere else leaves with the host's address. */
static struct nftnl_rule *rule_masq_out(const struct ctr_subnet *sn, const char *tag)
{
        struct nftnl_rule *r = rule_new("postrouting", tag);
        match_u8(r, NFT_META_NFPROTO, sn->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
        match_subnet(r, sn, false, NFT_CMP_EQ);
        match_subnet(r, sn, true, NFT_CMP_NEQ);
        add_masq(r);
        return r;
}

/* A forward reached from the host itself through 127.0.0.1: the container cannot answer
 * 127.0.0.1, so the bridge's address stands in (needs route_localnet on the bridge). */
static struct nftnl_rule *rule_masq_loopback(const char *bridge, const char *tag)
{
        struct nftnl_rule *r = rule_new("postrouting", tag);
        struct ctr_subnet lo = {.family = AF_INET, .prefix = 8, .net.v4 = {htonl(0x7f000000)}};
        match_ifname(r, NFT_META_OIFNAME, bridge);
        match_u8(r, NFT_META_NFPROTO, NFPROTO_IPV4);
        match_subnet(r, &lo, false, NFT_CMP_EQ);
        add_masq(r);
        return r;
}

/* route_localnet (needed above) would also let a container address the host's 127.0.0.1
 * through the bridge (CVE-2020-8558): such packets are dropped before routing. Replies of
 * forwarded loopback connections are unaffected: before de-NAT they are addressed to the bridge. */
static struct nftnl_rule *rule_guard_localnet(const char *bridge, const char *tag)
{
        struct nftnl_rule *r = rule_new("guard", tag);
        struct ctr_subnet lo = {.family = AF_INET, .prefix = 8, .net.v4 = {htonl(0x7f000000)}};
        match_ifname(r, NFT_META_IIFNAME, bridge);
        match_u8(r, NFT_META_NFPROTO, NFPROTO_IPV4);
        match_subnet(r, &lo, true, NFT_CMP_EQ);
        struct nftnl_expr *e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
        nftnl_rule_add_expr(r, e);
        return r;
}

/* Hairpin: a container reaching a forward of the host back into the bridge. */
static struct nftnl_rule *rule_masq_hairpin(const char *bridge, const struct ctr_subnet *sn, const char *tag)
{
        struct nftnl_rule *r = rule_new("postrouting", tag);
        uint32_t dnat = IPS_DST_NAT, zero = 0;
        match_ifname(r, NFT_META_OIFNAME, bridge);
        match_u8(r, NFT_META_NFPROTO, sn->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
        match_subnet(r, sn, false, NFT_CMP_EQ);
        struct nftnl_expr *e = expr("ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        nftnl_rule_add_expr(r, e);
        add_bitwise(r, &dnat, sizeof(dnat));
        add_cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
        add_masq(r);
        return r;
}

/* [ip daddr HOST_IP] tcp|udp dport HOST dnat to ADDR:CONTAINER */
static struct nftnl_rule *rule_port(const char *tag, const struct ctr_port *p, int family, const void *addr)
{
        struct nftnl_rule *r = rule_new("ports", tag);
        size_t alen = family == AF_INET ? 4 : 16;
        match_u8(r, NFT_META_NFPROTO, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
        if (!ctr_port_any_address(p)) {
                uint8_t host[16];
                inet_pton(family, p->host_ip, host);
                add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, true), alen);
                add_cmp(r, NFT_CMP_EQ, host, alen);
        }
        match_u8(r, NFT_META_L4PROTO, p->proto);
        uint16_t hport = htons(p->host), cport = htons(p->container);
        add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        add_cmp(r, NFT_CMP_EQ, &hport, sizeof(hport));
        add_immediate(r, NFT_REG_1, addr, alen);
        add_immediate(r, NFT_REG_2, &cport, sizeof(cport));
        struct nftnl_expr *e = expr("nat");
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
        nftnl_rule_add_expr(r, e);
        return r;
}

/* --- batches -------------------------------------------------------------------------------- */

struct batch {
        char *buf;
        struct mnl_nlmsg_batch *b;
        uint32_t seq;
};

static void batch_init(struct batch *b)
{
        b->buf = malloc(BATCH_SIZE);
        if (!b->buf)
                abort();
        b->b = mnl_nlmsg_batch_start(b->buf, BATCH_SIZE);
        b->seq = time(NULL);
        nftnl_batch_begin(mnl_nlmsg_batch_current(b->b), b->seq++);
        mnl_nlmsg_batch_next(b->b);
}

static void batch_free(struct batch *b)
{
        mnl_nlmsg_batch_stop(b->b);
        free(b->buf);
}

static struct nlmsghdr *batch_msg(struct batch *b, uint16_t type, uint16_t flags)
{
        return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b->b), type, NFPROTO_INET, flags | NLM_F_ACK, b->seq++);
}

static void batch_table(struct batch *b)
{
        struct nftnl_table *t = nftnl_table_alloc();
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, CTR_NFT_TABLE);
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
        nftnl_table_nlmsg_build_payload(batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
        mnl_nlmsg_batch_next(b->b);
        nftnl_table_free(t);
}

/* A chain; a base chain of type type when hook >= 0. flush empties it in the same batch. */
static void batch_chain(struct batch *b, const char *name, const char *type, int hook, int prio, bool flush)
{
        struct nftnl_chain *c = nftnl_chain_alloc();
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, CTR_NFT_TABLE);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
        if (hook >= 0) {
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        }
        nftnl_chain_nlmsg_build_payload(batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
        mnl_nlmsg_batch_next(b->b);
        nftnl_chain_free(c);
        if (flush) {
                struct nftnl_rule *r = rule_new(name, NULL);
                nftnl_rule_nlmsg_build_payload(batch_msg(b, NFT_MSG_DELRULE, 0), r);
                mnl_nlmsg_batch_next(b->b);
                nftnl_rule_free(r);
        }
}

static void batch_rule(struct batch *b, struct nftnl_rule *r)
{
        nftnl_rule_nlmsg_build_payload(batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
        mnl_nlmsg_batch_next(b->b);
        nftnl_rule_free(r);
}

/* Send the batch; the kernel handles it inside sendmsg(), so its answers are queued when that
 * returns: read them without blocking and report the first error. */
static int batch_send(struct batch *b, const char *what, struct ctr_error *err)
{
        nftnl_batch_end(mnl_nlmsg_batch_current(b->b), b->seq++);
        mnl_nlmsg_batch_next(b->b);
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        int r = 0, first = 0;
        if (!nl)
                return ctr_err_sys(err, errno, "nftables", "open netlink socket");
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = ctr_err_sys(err, errno, "nftables", "bind");
                goto out;
        }
        if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b->b), mnl_nlmsg_batch_size(b->b)) < 0) {
                r = ctr_err_sys(err, errno, "nftables", "%s", what);
                goto out;
        }
        char buf[NL_BUF];
        for (;;) {
                ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* EAGAIN: every answer read */
                }
                if (mnl_cb_run(buf, n, 0, mnl_socket_get_portid(nl), NULL, NULL) < 0 && !first)
                        first = errno;
        }
        if (first)
                r = ctr_err_sys(err, first, "nftables", "%s", what);
out:
        mnl_socket_close(nl);
        return r;
}

/* The shared rules carry a comment naming the settings they were made from, so a setup that
 * finds exactly them in place has nothing to do (a commit costs milliseconds; a dump does not). */
static char *shared_tag(const struct ctr_nat_conf *c)
{
        char v4[64] = "", v6[64] = "";
        ctr_subnet_format(c->v4, v4, sizeof(v4));
        if (c->v6 && c->v6->family)
                ctr_subnet_format(c->v6, v6, sizeof(v6));
        return xasprintf("ctr shared %s %s %s", c->bridge, v4, v6);
}

static void shared_rules(const struct ctr_nat_conf *c, const char *tag, void (*fn)(struct nftnl_rule *, void *),
                         void *data)
{
        fn(rule_jump_ports("prerouting", tag), data);
        fn(rule_jump_ports("output", tag), data);
        const struct ctr_subnet *nets[] = {c->v4, c->v6};
        for (size_t i = 0; i < ARRAY_SIZE(nets); i++) {
                if (!nets[i] || !nets[i]->family)
                        continue;
                fn(rule_masq_out(nets[i], tag), data);
                fn(rule_masq_hairpin(c->bridge, nets[i], tag), data);
        }
        fn(rule_masq_loopback(c->bridge, tag), data);
        fn(rule_guard_localnet(c->bridge, tag), data);
}

static void add_to_batch(struct nftnl_rule *r, void *data);

static void count_rule(struct nftnl_rule *r, void *data)
{
        (*(size_t *)data)++;
        nftnl_rule_free(r);
}

struct shared_check {
        const char *tag;
        size_t ours, other; /* rules in the shared chains with and without the expected tag */
};

static void check_rule(struct nftnl_rule *r, const char *comment, void *data)
{
        struct shared_check *sc = data;
        const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
        if (!chain || !strcmp(chain, "ports"))
                return;
        if (comment && !strcmp(comment, sc->tag))
                sc->ours++;
        else
                sc->other++;
}

static int dump_rules(const char *chain, void (*fn)(struct nftnl_rule *, const char *, void *), void *data,
                      struct ctr_error *err);

int ctr_nat_setup(const struct ctr_nat_conf *c, struct ctr_error *err)
{
        _cleanup_free_ char *tag = shared_tag(c);
        struct shared_check sc = {.tag = tag};
        size_t want = 0;
        shared_rules(c, tag, count_rule, &want);
        if (dump_rules(NULL, check_rule, &sc, NULL) == 0 && sc.ours == want && sc.other == 0)
                return 0;
        struct batch b;
        batch_init(&b);
        batch_table(&b);
        batch_chain(&b, "ports", NULL, -1, 0, false);
        batch_chain(&b, "guard", "filter", NF_INET_PRE_ROUTING, -300, true);
        batch_chain(&b, "prerouting", "nat", NF_INET_PRE_ROUTING, -100, true);
        batch_chain(&b, "output", "nat", NF_INET_LOCAL_OUT, -100, true);
        batch_chain(&b, "postrouting", "nat", NF_INET_POST_ROUTING, 100, true);
        shared_rules(c, tag, add_to_batch, &b);
        int r = batch_send(&b, "set up table inet " CTR_NFT_TABLE, err);
        batch_free(&b);
        return r;
}

static void port_rules(const char *tag, const struct ctr_port *p, const struct in_addr *v4, const struct in6_addr *v6,
                       void (*fn)(struct nftnl_rule *, void *), void *data)
{
        if (v4 && p->family != AF_INET6)
                fn(rule_port(tag, p, AF_INET, v4), data);
        if (v6 && p->family != AF_INET)
                fn(rule_port(tag, p, AF_INET6, v6), data);
}

static void add_to_batch(struct nftnl_rule *r, void *data)
{
        batch_rule(data, r);
}

int ctr_nat_ports_add(const char *tag, const struct ctr_port *ports, size_t n, const struct in_addr *v4,
                      const struct in6_addr *v6, struct ctr_error *err)
{
        if (!n)
                return 0;
        struct batch b;
        batch_init(&b);
        for (size_t i = 0; i < n; i++)
                port_rules(tag, &ports[i], v4, v6, add_to_batch, &b);
        int r = batch_send(&b, "add port forwards", err);
        batch_free(&b);
        return r;
}

/* --- deletion by tag ------------------------------------------------------------------------ */

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
        const char **comment = data;
        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && nftnl_udata_len(attr) > 0) {
                const char *v = nftnl_udata_get(attr);
                if (v[nftnl_udata_len(attr) - 1] == 0)
                        *comment = v;
        }
        return 0;
}

struct dump {
        void (*fn)(struct nftnl_rule *, const char *, void *);
        void *data;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
        struct dump *d = data;
        struct nftnl_rule *r = nftnl_rule_alloc();
        uint32_t len = 0;
        const char *comment = NULL;
        if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
                const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
                if (ud && len)
                        nftnl_udata_parse(ud, len, udata_cb, &comment);
                d->fn(r, comment, d->data);
        }
        nftnl_rule_free(r);
        return MNL_CB_OK;
}

/* Every rule of table inet ctr (of one chain, unless chain is NULL) goes to fn with its comment.
 * -ENOENT (err untouched) when there is no such table or chain. */
static int dump_rules(const char *chain, void (*fn)(struct nftnl_rule *, const char *, void *), void *data,
                      struct ctr_error *err)
{
        char buf[NL_BUF];
        struct dump d = {fn, data};
        int r = 0;
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!nl)
                return ctr_err_sys(err, errno, "nftables", "open netlink socket");
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = ctr_err_sys(err, errno, "nftables", "bind");
                goto out;
        }
        uint32_t seq = time(NULL);
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
        struct nftnl_rule *q = nftnl_rule_alloc();
        nftnl_rule_set_str(q, NFTNL_RULE_TABLE, CTR_NFT_TABLE);
        if (chain)
                nftnl_rule_set_str(q, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_nlmsg_build_payload(nlh, q);
        nftnl_rule_free(q);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                r = ctr_err_sys(err, errno, "nftables", "list rules");
                goto out;
        }
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = ctr_err_sys(err, errno, "nftables", "list rules");
                        goto out;
                }
                int c = mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), dump_cb, &d);
                if (c < 0) {
                        r = errno == ENOENT ? -ENOENT : ctr_err_sys(err, errno, "nftables", "list rules");
                        goto out;
                }
                if (c == MNL_CB_STOP)
                        break;
        }
out:
        mnl_socket_close(nl);
        return r;
}

struct tagged {
        const char *tag;
        uint64_t *handles;
        size_t n;
};

static void collect_tagged(struct nftnl_rule *r, const char *comment, void *data)
{
        struct tagged *t = data;
        if (!comment || strcmp(comment, t->tag))
                return;
        uint64_t *v = realloc(t->handles, (t->n + 1) * sizeof(*v));
        if (!v)
                abort();
        t->handles = v;
        t->handles[t->n++] = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
}

int ctr_nat_rules_del(const char *tag, struct ctr_error *err)
{
        struct tagged t = {.tag = tag};
        int r = dump_rules("ports", collect_tagged, &t, err);
        if (r == -ENOENT)
                return 0; /* no table or chain yet: nothing of ours to remove */
        if (r == 0 && t.n) {
                struct batch b;
                batch_init(&b);
                for (size_t i = 0; i < t.n; i++) {
                        struct nftnl_rule *d = rule_new("ports", NULL);
                        nftnl_rule_set_u64(d, NFTNL_RULE_HANDLE, t.handles[i]);
                        nftnl_rule_nlmsg_build_payload(batch_msg(&b, NFT_MSG_DELRULE, 0), d);
                        mnl_nlmsg_batch_next(b.b);
                        nftnl_rule_free(d);
                }
                r = batch_send(&b, "delete port forwards", err);
                batch_free(&b);
        }
        free(t.handles);
        return r < 0 ? r : (int)t.n;
}

/* --- text forms for tests ------------------------------------------------------------------- */

struct text {
        char *buf;
        size_t len, cap;
};

static void append_rule(struct nftnl_rule *r, void *data)
{
        struct text *t = data;
        char line[4096];
        nftnl_rule_snprintf(line, sizeof(line), r, NFTNL_OUTPUT_DEFAULT, 0);
        size_t n = strlen(line);
        if (t->len + n + 2 > t->cap) {
                t->cap = (t->len + n + 2) * 2;
                t->buf = realloc(t->buf, t->cap);
                if (!t->buf)
                        abort();
        }
        memcpy(t->buf + t->len, line, n);
        t->len += n;
        t->buf[t->len++] = '\n';
        t->buf[t->len] = 0;
        nftnl_rule_free(r);
}

char *ctr_nat_port_rule_text(const char *tag, const struct ctr_port *p, const struct in_addr *v4,
                             const struct in6_addr *v6)
{
        struct text t = {0};
        port_rules(tag, p, v4, v6, append_rule, &t);
        return t.buf ? t.buf : xstrdup("");
}

char *ctr_nat_setup_text(const struct ctr_nat_conf *c)
{
        struct text t = {0};
        _cleanup_free_ char *tag = shared_tag(c);
        shared_rules(c, tag, append_rule, &t);
        return t.buf;
}
