/*
 * netlink.c - minictr's rtnetlink plumbing (lab 15's driver side): the
 * socket, send-and-wait-for-the-ACK, the -v decoder, the queries, the
 * lease directory's lock. See netlink.h; the messages that change the
 * network are built in the stage file (network.c).
 *
 * A netlink request is a struct nlmsghdr (length, type, flags, sequence
 * number, port id), a family header (struct ifinfomsg for links, ifaddrmsg
 * for addresses, rtmsg for routes) and attributes: type-length-value
 * records aligned to 4 bytes, which may nest (rtnetlink(7), netlink(7)).
 * The kernel answers a request that carries NLM_F_ACK with an NLMSG_ERROR
 * message whose error is 0 (done) or -errno; with NETLINK_EXT_ACK it adds
 * its reason as a text attribute (NLMSGERR_ATTR_MSG).
 */
#define _GNU_SOURCE
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/veth.h>

#include "virtlab/cleanup.h"

/* Big enough for a dump's batch of messages (the kernel fills at most
 * what the reader asked for last, and at least a page). */
#define MCT_NL_RECVSIZE 32768

int mct_nl_open(struct mct_nl *nl, FILE *log)
{
    int one = 1;

    *nl = (struct mct_nl){.log = log};
    nl->buf = calloc(1, MCT_NL_BUFSIZE);
    if (!nl->buf)
        return vl_err(ENOMEM, "netlink buffer");
    nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl->sock) {
        int r = vl_err(errno, "opening a NETLINK_ROUTE socket");

        mct_nl_close(nl);
        return r;
    }
    /* Errors: only the header of our request back (NETLINK_CAP_ACK), and
     * the kernel's explanation (NETLINK_EXT_ACK); both best effort. */
    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
    if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int r = vl_err(errno, "binding the NETLINK_ROUTE socket");

        mct_nl_close(nl);
        return r;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = (uint32_t)time(NULL);
    return 0;
}

void mct_nl_close(struct mct_nl *nl)
{
    if (nl->sock)
        mnl_socket_close(nl->sock);
    nl->sock = NULL;
    free(nl->buf);
    nl->buf = NULL;
}

struct nlmsghdr *mct_nl_msg(struct mct_nl *nl, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *h;

    memset(nl->buf, 0, MCT_NL_BUFSIZE);
    h = mnl_nlmsg_put_header(nl->buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = ++nl->seq;
    return h;
}

/* ---- the -v decoder -------------------------------------------------------
 */

static const char *type_name(uint16_t type)
{
    switch (type) {
    case RTM_NEWLINK:
        return "RTM_NEWLINK";
    case RTM_DELLINK:
        return "RTM_DELLINK";
    case RTM_GETLINK:
        return "RTM_GETLINK";
    case RTM_NEWADDR:
        return "RTM_NEWADDR";
    case RTM_DELADDR:
        return "RTM_DELADDR";
    case RTM_GETADDR:
        return "RTM_GETADDR";
    case RTM_NEWROUTE:
        return "RTM_NEWROUTE";
    case RTM_DELROUTE:
        return "RTM_DELROUTE";
    case RTM_GETROUTE:
        return "RTM_GETROUTE";
    default:
        return "RTM_?";
    }
}

enum attr_kind { A_STR, A_U32, A_S32, A_IP4, A_NEST, A_PEER, A_RAW };

struct attr_desc {
    const char *name;
    enum attr_kind kind;
    const struct attr_desc *nested; /* A_NEST, A_PEER: the inner table */
    size_t nnested;
};

#define DESC(table) table, sizeof(table) / sizeof(table[0])

static const struct attr_desc link_attrs[];
static const size_t nlink_attrs;

/* IFLA_INFO_DATA of a veth: VETH_INFO_PEER is a whole ifinfomsg followed
 * by the peer's link attributes (include/uapi/linux/veth.h). */
static const struct attr_desc veth_data[] = {
    [VETH_INFO_PEER] = {"VETH_INFO_PEER", A_PEER, NULL, 0},
};
static const struct attr_desc linkinfo_attrs[] = {
    [IFLA_INFO_KIND] = {"IFLA_INFO_KIND", A_STR, NULL, 0},
    [IFLA_INFO_DATA] = {"IFLA_INFO_DATA", A_NEST, DESC(veth_data)},
};
static const struct attr_desc link_attrs[] = {
    [IFLA_ADDRESS] = {"IFLA_ADDRESS", A_RAW, NULL, 0},
    [IFLA_IFNAME] = {"IFLA_IFNAME", A_STR, NULL, 0},
    [IFLA_MTU] = {"IFLA_MTU", A_U32, NULL, 0},
    [IFLA_LINK] = {"IFLA_LINK", A_U32, NULL, 0},
    [IFLA_MASTER] = {"IFLA_MASTER", A_U32, NULL, 0},
    [IFLA_LINKINFO] = {"IFLA_LINKINFO", A_NEST, DESC(linkinfo_attrs)},
    [IFLA_NET_NS_PID] = {"IFLA_NET_NS_PID", A_U32, NULL, 0},
    [IFLA_IFALIAS] = {"IFLA_IFALIAS", A_STR, NULL, 0},
    [IFLA_NET_NS_FD] = {"IFLA_NET_NS_FD", A_U32, NULL, 0},
};
static const size_t nlink_attrs = sizeof(link_attrs) / sizeof(link_attrs[0]);
static const struct attr_desc addr_attrs[] = {
    [IFA_ADDRESS] = {"IFA_ADDRESS", A_IP4, NULL, 0},
    [IFA_LOCAL] = {"IFA_LOCAL", A_IP4, NULL, 0},
    [IFA_LABEL] = {"IFA_LABEL", A_STR, NULL, 0},
    [IFA_BROADCAST] = {"IFA_BROADCAST", A_IP4, NULL, 0},
};
static const struct attr_desc route_attrs[] = {
    [RTA_DST] = {"RTA_DST", A_IP4, NULL, 0},
    [RTA_OIF] = {"RTA_OIF", A_U32, NULL, 0},
    [RTA_GATEWAY] = {"RTA_GATEWAY", A_IP4, NULL, 0},
    [RTA_PRIORITY] = {"RTA_PRIORITY", A_U32, NULL, 0},
    [RTA_PREFSRC] = {"RTA_PREFSRC", A_IP4, NULL, 0},
    [RTA_TABLE] = {"RTA_TABLE", A_U32, NULL, 0},
};

static void print_flags(FILE *out, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {IFF_UP, "UP"},
        {IFF_LOOPBACK, "LOOPBACK"},
        {IFF_RUNNING, "RUNNING"},
    };
    const char *sep = "";

    if (!flags) {
        fputc('0', out);
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit) {
            fprintf(out, "%s%s", sep, names[i].name);
            sep = "|";
            flags &= ~names[i].bit;
        }
    if (flags)
        fprintf(out, "%s0x%x", sep, flags);
}

static void print_ifinfomsg(FILE *out, const struct ifinfomsg *ifi)
{
    fprintf(out, "ifinfomsg{family=%u index=%d flags=", ifi->ifi_family,
            ifi->ifi_index);
    print_flags(out, ifi->ifi_flags);
    fputs(" change=", out);
    print_flags(out, ifi->ifi_change);
    fputc('}', out);
}

static void print_attrs(FILE *out, const void *start, size_t len,
                        const struct attr_desc *table, size_t ntable);

static void print_attr(FILE *out, const struct nlattr *a,
                       const struct attr_desc *table, size_t ntable)
{
    uint16_t type = mnl_attr_get_type(a);
    const struct attr_desc *d =
        type < ntable && table[type].name ? &table[type] : NULL;
    const void *p = mnl_attr_get_payload(a);
    uint16_t plen = mnl_attr_get_payload_len(a);
    char ip[INET_ADDRSTRLEN];

    if (!d) {
        fprintf(out, " attr%u(%u bytes)", type, plen);
        return;
    }
    fprintf(out, " %s", d->name);
    switch (d->kind) {
    case A_STR:
        fprintf(out, "=\"%.*s\"", (int)strnlen(p, plen), (const char *)p);
        break;
    case A_U32:
    case A_S32:
        if (plen >= 4)
            fprintf(out, d->kind == A_U32 ? "=%u" : "=%d", mnl_attr_get_u32(a));
        break;
    case A_IP4:
        if (plen == 4 && inet_ntop(AF_INET, p, ip, sizeof(ip)))
            fprintf(out, "=%s", ip);
        break;
    case A_NEST:
        fputs("={", out);
        print_attrs(out, p, plen, d->nested, d->nnested);
        fputs(" }", out);
        break;
    case A_PEER:
        fputs("={", out);
        if (plen >= sizeof(struct ifinfomsg)) {
            fputc(' ', out);
            print_ifinfomsg(out, p);
            print_attrs(out, (const char *)p + sizeof(struct ifinfomsg),
                        plen - sizeof(struct ifinfomsg), link_attrs,
                        nlink_attrs);
        }
        fputs(" }", out);
        break;
    case A_RAW:
        fprintf(out, "(%u bytes)", plen);
        break;
    }
}

static void print_attrs(FILE *out, const void *start, size_t len,
                        const struct attr_desc *table, size_t ntable)
{
    const struct nlattr *a = start;
    int left = (int)len;

    while (mnl_attr_ok(a, left)) {
        print_attr(out, a, table, ntable);
        left -= (int)MNL_ALIGN(a->nla_len);
        a = mnl_attr_next(a);
    }
}

/* The flags after REQUEST and ACK mean one thing in a GET (NLM_F_DUMP =
 * ROOT | MATCH) and another in a NEW (CREATE, EXCL, REPLACE, APPEND):
 * netlink(7). */
static void print_nlflags(FILE *out, uint16_t type, uint16_t f)
{
    static const struct {
        uint16_t bit;
        const char *name;
        bool get;
    } names[] = {
        {NLM_F_REQUEST, "REQUEST", false}, {NLM_F_ACK, "ACK", false},
        {NLM_F_DUMP, "DUMP", true},        {NLM_F_CREATE, "CREATE", false},
        {NLM_F_EXCL, "EXCL", false},       {NLM_F_REPLACE, "REPLACE", false},
        {NLM_F_APPEND, "APPEND", false},
    };
    bool get = (type & 3) == 2; /* RTM_GETLINK, RTM_GETADDR ... */
    const char *sep = "";

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        bool header =
            names[i].bit == NLM_F_REQUEST || names[i].bit == NLM_F_ACK;

        if (!header && names[i].get != get)
            continue;
        if ((f & names[i].bit) == names[i].bit) {
            fprintf(out, "%s%s", sep, names[i].name);
            sep = "|";
            f &= (uint16_t)~names[i].bit;
        }
    }
    if (f)
        fprintf(out, "%s0x%x", sep, f);
}

void mct_nl_print(FILE *out, const struct nlmsghdr *h)
{
    const char *payload = mnl_nlmsg_get_payload(h);
    size_t plen = mnl_nlmsg_get_payload_len(h);

    fprintf(out, "minictr: netlink: %s len=%u flags=", type_name(h->nlmsg_type),
            h->nlmsg_len);
    print_nlflags(out, h->nlmsg_type, h->nlmsg_flags);
    fprintf(out, " seq=%u ", h->nlmsg_seq);
    switch (h->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
    case RTM_GETLINK:
        if (plen < sizeof(struct ifinfomsg))
            break;
        print_ifinfomsg(out, (const void *)payload);
        print_attrs(out, payload + sizeof(struct ifinfomsg),
                    plen - sizeof(struct ifinfomsg), link_attrs, nlink_attrs);
        break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
    case RTM_GETADDR: {
        const struct ifaddrmsg *ifa = (const void *)payload;

        if (plen < sizeof(*ifa))
            break;
        fprintf(out, "ifaddrmsg{family=%u prefixlen=%u index=%u}",
                ifa->ifa_family, ifa->ifa_prefixlen, ifa->ifa_index);
        print_attrs(out, payload + sizeof(*ifa), plen - sizeof(*ifa),
                    addr_attrs, sizeof(addr_attrs) / sizeof(addr_attrs[0]));
        break;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
    case RTM_GETROUTE: {
        const struct rtmsg *rt = (const void *)payload;

        if (plen < sizeof(*rt))
            break;
        fprintf(out,
                "rtmsg{family=%u dst_len=%u table=%u protocol=%u "
                "scope=%u type=%u}",
                rt->rtm_family, rt->rtm_dst_len, rt->rtm_table,
                rt->rtm_protocol, rt->rtm_scope, rt->rtm_type);
        print_attrs(out, payload + sizeof(*rt), plen - sizeof(*rt), route_attrs,
                    sizeof(route_attrs) / sizeof(route_attrs[0]));
        break;
    }
    default:
        break;
    }
    fputc('\n', out);
    if (getenv("MINICTR_NETLINK_HEXDUMP")) {
        size_t extra = h->nlmsg_type >= RTM_NEWROUTE ? sizeof(struct rtmsg)
                       : h->nlmsg_type >= RTM_NEWADDR
                           ? sizeof(struct ifaddrmsg)
                           : sizeof(struct ifinfomsg);

        mnl_nlmsg_fprintf(out, h, h->nlmsg_len, extra);
    }
    fflush(out);
}

/* ---- requests ---------------------------------------------------------------
 */

/* "RTM_NEWLINK \"minictr0\"", "RTM_NEWADDR 10.89.0.1/24 on link 5" ...:
 * which request failed, for the error message. */
static void describe(const struct nlmsghdr *h, char *buf, size_t len)
{
    const char *payload = mnl_nlmsg_get_payload(h);
    const struct nlattr *a;
    size_t n = (size_t)snprintf(buf, len, "%s", type_name(h->nlmsg_type));

    if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
        const struct ifinfomsg *ifi = (const void *)payload;
        const char *name = NULL;

        mnl_attr_for_each(a, h,
                          sizeof(*ifi)) if (mnl_attr_get_type(a) == IFLA_IFNAME)
            name = mnl_attr_get_str(a);
        if (name && ifi->ifi_index)
            snprintf(buf + n, len - n, " (link %d, name \"%s\")",
                     ifi->ifi_index, name);
        else if (name)
            snprintf(buf + n, len - n, " \"%s\"", name);
        else
            snprintf(buf + n, len - n, " (link %d)", ifi->ifi_index);
    } else if (h->nlmsg_type == RTM_NEWADDR) {
        const struct ifaddrmsg *ifa = (const void *)payload;
        char ip[INET_ADDRSTRLEN] = "?";

        mnl_attr_for_each(a, h,
                          sizeof(*ifa)) if (mnl_attr_get_type(a) == IFA_LOCAL &&
                                            mnl_attr_get_payload_len(a) == 4)
            inet_ntop(AF_INET, mnl_attr_get_payload(a), ip, sizeof(ip));
        snprintf(buf + n, len - n, " %s/%u on link %u", ip, ifa->ifa_prefixlen,
                 ifa->ifa_index);
    } else if (h->nlmsg_type == RTM_NEWROUTE) {
        const struct rtmsg *rt = (const void *)payload;
        char gw[INET_ADDRSTRLEN] = "?";

        mnl_attr_for_each(
            a, h, sizeof(*rt)) if (mnl_attr_get_type(a) == RTA_GATEWAY &&
                                   mnl_attr_get_payload_len(a) == 4)
            inet_ntop(AF_INET, mnl_attr_get_payload(a), gw, sizeof(gw));
        snprintf(buf + n, len - n, " /%u via %s", rt->rtm_dst_len, gw);
    }
}

/* The kernel's reason in an NLMSG_ERROR (extended ACK), or NULL. */
static const char *ext_ack_msg(const struct nlmsghdr *eh)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(eh);
    size_t off = sizeof(*e);
    const struct nlattr *a;

    if (!(eh->nlmsg_flags & NLM_F_ACK_TLVS))
        return NULL;
    /* Without NLM_F_CAPPED the whole request follows the header. */
    if (!(eh->nlmsg_flags & NLM_F_CAPPED))
        off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
    if (off >= mnl_nlmsg_get_payload_len(eh))
        return NULL;
    mnl_attr_for_each(a, eh,
                      off) if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
                               mnl_attr_validate(a, MNL_TYPE_NUL_STRING) ==
                                   0) return mnl_attr_get_str(a);
    return NULL;
}

int mct_nl_send(struct mct_nl *nl, struct nlmsghdr *h)
{
    _vl_cleanup_free_ char *rbuf = malloc(MCT_NL_RECVSIZE);
    char what[160];
    uint32_t seq = h->nlmsg_seq;

    if (!rbuf)
        return vl_err(ENOMEM, "netlink buffer");
    describe(h, what, sizeof(what));
    if (nl->log)
        mct_nl_print(nl->log, h);
    if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
        return vl_err(errno, "sending %s", what);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, MCT_NL_RECVSIZE);
        const struct nlmsghdr *r = (const void *)rbuf;
        int left = (int)n;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vl_err(errno, "waiting for the answer to %s", what);
        for (; mnl_nlmsg_ok(r, left); r = mnl_nlmsg_next(r, &left)) {
            const struct nlmsgerr *e;
            const char *why;

            if (r->nlmsg_seq != seq || r->nlmsg_type != NLMSG_ERROR)
                continue;
            e = mnl_nlmsg_get_payload(r);
            if (e->error == 0)
                return 0;
            why = ext_ack_msg(r);
            return vl_err_plain(e->error, "%s: %s%s%s", what,
                                strerror(-e->error), why ? " - " : "",
                                why ? why : "");
        }
    }
}

/* ---- queries
 * -----------------------------------------------------------------
 */

/* Send h and hand every answer to cb until the kernel says done. */
static int query(struct mct_nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
    _vl_cleanup_free_ char *rbuf = malloc(MCT_NL_RECVSIZE);
    uint32_t seq = h->nlmsg_seq;
    int r = 0;

    if (!rbuf)
        return vl_err(ENOMEM, "netlink buffer");
    if (nl->log)
        mct_nl_print(nl->log, h);
    if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
        return vl_err(errno, "sending %s", type_name(h->nlmsg_type));
    do {
        ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, MCT_NL_RECVSIZE);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vl_err(errno, "reading the answer to %s",
                          type_name(h->nlmsg_type));
        r = mnl_cb_run(rbuf, (size_t)n, seq, nl->portid, cb, data);
    } while (r > 0);
    return r < 0 ? -errno : 0;
}

static void parse_link(const struct nlmsghdr *h, struct mct_nl_link *l)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
    const struct nlattr *a, *b;

    *l = (struct mct_nl_link){.index = ifi->ifi_index, .flags = ifi->ifi_flags};
    mnl_attr_for_each(a, h, sizeof(*ifi))
    {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
            snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
            break;
        case IFLA_IFALIAS:
            snprintf(l->alias, sizeof(l->alias), "%.*s",
                     (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
            break;
        case IFLA_MASTER:
            l->master = (int)mnl_attr_get_u32(a);
            break;
        case IFLA_LINKINFO:
            mnl_attr_for_each_nested(b, a) if (mnl_attr_get_type(b) ==
                                               IFLA_INFO_KIND)
                snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(b));
            break;
        default:
            break;
        }
    }
}

static int link_one_cb(const struct nlmsghdr *h, void *data)
{
    if (h->nlmsg_type == RTM_NEWLINK)
        parse_link(h, data);
    return MNL_CB_OK;
}

int mct_nl_link_get(struct mct_nl *nl, const char *name,
                    struct mct_nl_link *link)
{
    struct nlmsghdr *h = mct_nl_msg(nl, RTM_GETLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    int r;

    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    *link = (struct mct_nl_link){0};
    r = query(nl, h, link_one_cb, link);
    if (r == -ENODEV)
        return r;
    if (r < 0)
        return vl_err(-r, "looking up link \"%s\"", name);
    return link->index ? 0 : -ENODEV;
}

struct link_list {
    struct mct_nl_link *links;
    size_t max, n;
};

static int link_list_cb(const struct nlmsghdr *h, void *data)
{
    struct link_list *ll = data;

    if (h->nlmsg_type != RTM_NEWLINK)
        return MNL_CB_OK;
    if (ll->n < ll->max)
        parse_link(h, &ll->links[ll->n]);
    ll->n++;
    return MNL_CB_OK;
}

int mct_nl_link_list(struct mct_nl *nl, struct mct_nl_link *links, size_t max)
{
    struct nlmsghdr *h = mct_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    struct link_list ll = {links, max, 0};
    int r;

    ifi->ifi_family = AF_UNSPEC;
    if ((r = query(nl, h, link_list_cb, &ll)) < 0)
        return vl_err(-r, "listing the links");
    return (int)ll.n;
}

int mct_nl_bridge_ports(struct mct_nl *nl, int master)
{
    struct mct_nl_link links[64];
    int n = mct_nl_link_list(nl, links, 64), ports = 0;

    if (n < 0)
        return n;
    if (n > 64)
        return vl_err_plain(E2BIG, "more than 64 links: cannot count the "
                                   "ports of the bridge");
    for (int i = 0; i < n; i++)
        if (links[i].master == master)
            ports++;
    return ports;
}

struct addr_list {
    int ifindex;
    uint32_t *addrs;
    unsigned *prefixes;
    size_t max, n;
};

static int addr_list_cb(const struct nlmsghdr *h, void *data)
{
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
    struct addr_list *al = data;
    const struct nlattr *a;

    if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
        (int)ifa->ifa_index != al->ifindex)
        return MNL_CB_OK;
    mnl_attr_for_each(a, h, sizeof(*ifa))
    {
        if (mnl_attr_get_type(a) != IFA_LOCAL ||
            mnl_attr_get_payload_len(a) != 4)
            continue;
        if (al->n < al->max) {
            al->addrs[al->n] = ntohl(mnl_attr_get_u32(a));
            al->prefixes[al->n] = ifa->ifa_prefixlen;
        }
        al->n++;
    }
    return MNL_CB_OK;
}

int mct_nl_addr_list(struct mct_nl *nl, int ifindex, uint32_t *addrs,
                     unsigned *prefixes, size_t max)
{
    struct nlmsghdr *h = mct_nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
    struct addr_list al = {ifindex, addrs, prefixes, max, 0};
    int r;

    ifa->ifa_family = AF_INET;
    if ((r = query(nl, h, addr_list_cb, &al)) < 0)
        return vl_err(-r, "listing the addresses of link %d", ifindex);
    return (int)al.n;
}

/* ---- the leases' directory, names, the alias ------------------------------
 */

const char *mct_net_bridge_name(const struct minictr *ct)
{
    return ct->opt.bridge && *ct->opt.bridge ? ct->opt.bridge : MCT_BRIDGE;
}

int mct_net_lock(const char *bridge)
{
    char path[PATH_MAX];
    struct timespec wait = {0, 20 * 1000 * 1000};
    int fd;

    /* /run/minictr/net/<bridge>: made step by step, 0700 (root's). */
    snprintf(path, sizeof(path), "%s", MCT_NET_DIR);
    for (char *p = path + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", path);
    if (snprintf(path, sizeof(path), "%s/%s", MCT_NET_DIR, bridge) >=
        (int)sizeof(path))
        return vl_err_plain(ENAMETOOLONG, "bridge name too long");
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", path);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vl_err(errno, "open %s", path);
    /* Another minictr setting up or removing a container on this bridge:
     * wait for it (10 s at most). */
    for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
        if (errno != EWOULDBLOCK || i >= 500) {
            int r = vl_err(errno, "locking %s", path);

            close(fd);
            return r;
        }
        nanosleep(&wait, NULL);
    }
    return fd;
}

const char *mct_ip_str(uint32_t addr, int slot)
{
    static char bufs[4][INET_ADDRSTRLEN];
    char *b = bufs[slot & 3];

    snprintf(b, INET_ADDRSTRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
             (addr >> 8) & 0xff, addr & 0xff);
    return b;
}

void mct_net_alias_format(const struct mct_net *net, char *buf, size_t len)
{
    snprintf(buf, len, "minictr %s/%u via %s", mct_ip_str(net->addr, 0),
             net->prefix, mct_ip_str(net->gateway, 1));
}

int mct_net_alias_parse(const char *alias, struct mct_net *net)
{
    char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
    struct in_addr a, g;
    unsigned prefix;

    if (sscanf(alias, "minictr %15[0-9.]/%u via %15[0-9.]", addr, &prefix,
               gw) != 3 ||
        inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, gw, &g) != 1 ||
        prefix < 1 || prefix > 30)
        return vl_err_plain(EINVAL,
                            "the veth's alias \"%s\" is not minictr's "
                            "\"minictr A.B.C.D/N via GATEWAY\"",
                            alias);
    net->addr = ntohl(a.s_addr);
    net->gateway = ntohl(g.s_addr);
    net->prefix = prefix;
    return 0;
}
