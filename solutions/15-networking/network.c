/*
 * network.c - minictr stage 15: a network for containers.
 *
 * Lab 09 gave each container a network namespace of its own with only a
 * loopback device: it can talk to itself and to nothing else. This lab
 * connects containers the way Docker's default "bridge" network and the
 * CNI "bridge" plugin (Podman, Kubernetes) do:
 *
 *     host's (here: the test's) network namespace      container A's netns
 *   +---------------------------------------------+   +----------------+
 *   |  minictr0 (bridge, 10.89.0.1/24) --- vethA ==|===| eth0 10.89.0.2 |
 *   |                 |                           |   | default route  |
 *   |                 +---------------- vethB ====|=  |  via 10.89.0.1 |
 *   +---------------------------------------------+ \ +----------------+
 *                                                    `= eth0 of B ...
 *
 * A bridge is a virtual Ethernet switch in the kernel; a veth pair is a
 * virtual cable, two Ethernet devices where what one sends the other
 * receives. One end of each pair is a port of the bridge, the other end is
 * moved into the container's network namespace and renamed eth0.
 *
 * Every change goes through rtnetlink: minictr sends the kernel messages -
 * a struct nlmsghdr, a family header (struct ifinfomsg for a link,
 * ifaddrmsg for an address, rtmsg for a route) and attributes - and the
 * kernel acknowledges each. You build them by hand with libmnl; the
 * driver (labs/minictr/netlink.c) sends them and prints each one under -v.
 * This is exactly what `ip link add`, `ip addr add` and `ip route add` of
 * iproute2 send.
 *
 * References: veth(4), rtnetlink(7), netlink(7), network_namespaces(7),
 * ip-link(8) ("type bridge", "type veth", "netns"), the kernel's
 * Documentation/networking/bridge.rst, include/uapi/linux/if_link.h,
 * rtnetlink.h, if_addr.h and veth.h; libmnl's examples/rtnl/.
 * labs/15-networking/README.md walks through the steps.
 */
#define MCT_LAB        "15-networking"
#define MCT_STAGE_FILE "network.c"
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "minictr.h"
#include "netlink.h"
#include "virtlab/cleanup.h"

/* ---- TODO 1: an address for the container -------------------------------- */

/*
 * Choose the container's address and reserve it: --ip, or the first free
 * one of MCT_NET_FIRST..MCT_NET_LAST. A lease is a file named after the
 * address ("10.89.0.2") in the bridge's lease directory `dir` (an fd,
 * locked by the caller), created with O_CREAT | O_EXCL, so that two
 * minictrs can never both get it (open(2): "O_EXCL ... if pathname already
 * exists, then open() fails with the error EEXIST"). Write minictr's pid
 * into it. Sets ct->net.addr, .gateway, .prefix and .lease_held.
 */
static int net_lease(struct minictr *ct, int dir)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: (void)dir; */
    /* stub: return MCT_TODO(1, "lease an address for the container"); */
    const char *bridge = mct_net_bridge_name(ct);
    uint32_t first = MCT_NET_FIRST, last = MCT_NET_LAST;

    if (ct->opt.ip) {
        struct in_addr a;

        if (inet_pton(AF_INET, ct->opt.ip, &a) != 1)
            return vl_err_plain(EINVAL,
                                "--ip %s: not an IPv4 address (give "
                                "A.B.C.D)",
                                ct->opt.ip);
        first = last = ntohl(a.s_addr);
        if (first < MCT_NET_FIRST || first > MCT_NET_LAST)
            return vl_err_plain(EINVAL,
                                "--ip %s: not a container's address in "
                                "%s/%u: choose one from %s to %s (%s is the "
                                "bridge)",
                                ct->opt.ip, mct_ip_str(MCT_NET_SUBNET, 0),
                                MCT_NET_PREFIX, mct_ip_str(MCT_NET_FIRST, 1),
                                mct_ip_str(MCT_NET_LAST, 2),
                                mct_ip_str(MCT_NET_GATEWAY, 3));
    }
    for (uint32_t a = first; a <= last; a++) {
        int fd = openat(dir, mct_ip_str(a, 0),
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        if (fd < 0 && errno == EEXIST)
            continue; /* another container has it */
        if (fd < 0)
            return vl_err(errno, "creating the lease %s/%s/%s", MCT_NET_DIR,
                          bridge, mct_ip_str(a, 0));
        dprintf(fd, "%d\n", (int)getpid());
        close(fd);
        ct->net.addr = a;
        ct->net.gateway = MCT_NET_GATEWAY;
        ct->net.prefix = MCT_NET_PREFIX;
        ct->net.lease_held = true;
        return 0;
    }
    if (ct->opt.ip)
        return vl_err_plain(EADDRINUSE,
                            "--ip %s: taken by another container on bridge "
                            "%s (its lease is %s/%s/%s)",
                            ct->opt.ip, bridge, MCT_NET_DIR, bridge,
                            ct->opt.ip);
    return vl_err_plain(EADDRNOTAVAIL,
                        "no free address left on bridge %s: every one of "
                        "%s/%u is leased (%s/%s)",
                        bridge, mct_ip_str(MCT_NET_SUBNET, 0), MCT_NET_PREFIX,
                        MCT_NET_DIR, bridge);
    /* SOLUTION END */
}

/* ---- TODO 2: the two messages used everywhere -----------------------------
 */

/*
 * Bring link `index` up: RTM_NEWLINK on an existing link changes it
 * (rtnetlink(7): "RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK: create, remove,
 * or get information about a specific network interface"). In struct
 * ifinfomsg, ifi_flags holds the new flags and ifi_change says which of
 * them to change ("ifi_change is reserved for future use and should be
 * always set to 0xFFFFFFFF" is out of date: the kernel changes only the
 * bits in ifi_change, see rtnl_dev_combine_flags() in
 * net/core/rtnetlink.c).
 */
__attribute__((unused)) /* in the skeleton, until TODO 3 uses it */
static int
link_set_up(struct mct_nl *nl, int index)
{
    /* SOLUTION BEGIN */
    /* stub: (void)nl; */
    /* stub: (void)index; */
    /* stub: return MCT_TODO(2, "RTM_NEWLINK: a link up"); */
    struct nlmsghdr *h = mct_nl_msg(nl, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return mct_nl_send(nl, h);
    /* SOLUTION END */
}

/*
 * Give link `index` the IPv4 address addr/prefix (host byte order):
 * RTM_NEWADDR with NLM_F_CREATE | NLM_F_EXCL, a struct ifaddrmsg (family
 * AF_INET, the prefix length, the link) and the attributes IFA_LOCAL (the
 * address of this end), IFA_ADDRESS (the same on a broadcast link such as
 * Ethernet; the peer's on a point-to-point link) and IFA_BROADCAST (the
 * subnet's last address), all in network byte order (if_addr.h). The
 * kernel then adds the route to the subnet through that link by itself.
 */
__attribute__((unused)) /* in the skeleton, until TODO 3 uses it */
static int
address_add(struct mct_nl *nl, int index, uint32_t addr, unsigned prefix)
{
    /* SOLUTION BEGIN */
    /* stub: (void)nl; */
    /* stub: (void)index; */
    /* stub: (void)addr; */
    /* stub: (void)prefix; */
    /* stub: return MCT_TODO(2, "RTM_NEWADDR: an address"); */
    struct nlmsghdr *h = mct_nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
    uint32_t hostmask = prefix >= 32 ? 0 : 0xffffffffu >> prefix;

    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)index;
    mnl_attr_put_u32(h, IFA_LOCAL, htonl(addr));
    mnl_attr_put_u32(h, IFA_ADDRESS, htonl(addr));
    mnl_attr_put_u32(h, IFA_BROADCAST, htonl(addr | hostmask));
    return mct_nl_send(nl, h);
    /* SOLUTION END */
}

/* ---- TODO 3: the bridge ----------------------------------------------------
 */

/*
 * Find the bridge `name`, or create it: RTM_NEWLINK with NLM_F_CREATE |
 * NLM_F_EXCL, IFLA_IFNAME and the nested IFLA_LINKINFO { IFLA_INFO_KIND
 * "bridge" } (`ip link add NAME type bridge`). A link of that name that is
 * not a bridge is an error that names it. A bridge made here gets the
 * alias MCT_NET_BRIDGE_ALIAS (IFLA_IFALIAS, a second RTM_NEWLINK: the
 * kernel ignores an alias in the creating message) and sets
 * ct->net.bridge_created, so that the last container removes it. Then
 * the gateway's address (EEXIST: it has it already) and up. Sets *index.
 */
static int net_bridge(struct minictr *ct, struct mct_nl *nl, const char *name,
                      int *index)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: (void)nl; */
    /* stub: (void)name; */
    /* stub: (void)index; */
    /* stub: return MCT_TODO(3, "find or create the bridge"); */
    struct mct_nl_link link;
    int r = mct_nl_link_get(nl, name, &link);

    if (r == 0 && strcmp(link.kind, "bridge"))
        return vl_err_plain(EEXIST,
                            "--bridge %s: a link of that name exists and is "
                            "not a bridge (its kind: %s): choose another "
                            "name",
                            name, link.kind[0] ? link.kind : "a device");
    if (r == -ENODEV) {
        struct nlmsghdr *h =
            mct_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
        struct nlattr *info;

        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        info = mnl_attr_nest_start(h, IFLA_LINKINFO);
        mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(h, info);
        if ((r = mct_nl_send(nl, h)) < 0)
            return vl_err_ctx(r, "creating bridge %s", name);
        ct->net.bridge_created = true;
        mct_say(ct, "created bridge %s", name);

        h = mct_nl_msg(nl, RTM_NEWLINK, 0);
        ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        mnl_attr_put_strz(h, IFLA_IFALIAS, MCT_NET_BRIDGE_ALIAS);
        if ((r = mct_nl_send(nl, h)) < 0)
            return vl_err_ctx(r, "marking bridge %s as minictr's", name);
        r = mct_nl_link_get(nl, name, &link);
    }
    if (r < 0)
        return vl_err_ctx(r, "bridge %s", name);
    r = address_add(nl, link.index, ct->net.gateway, ct->net.prefix);
    if (r < 0 && r != -EEXIST)
        return vl_err_ctx(r, "giving bridge %s its address", name);
    vl_err_clear();
    if ((r = link_set_up(nl, link.index)) < 0)
        return vl_err_ctx(r, "bringing bridge %s up", name);
    *index = link.index;
    return 0;
    /* SOLUTION END */
}

/* ---- TODO 4: the veth pair -------------------------------------------------
 */

/*
 * The cable: a veth pair named after the container's pid, ct->net.veth_host
 * "veth<pid>" and ct->net.veth_ctr "veth<pid>c" (veth(4): `ip link add
 * veth1 type veth peer name veth1c`), in three messages:
 *  1. create it: RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, IFLA_IFNAME, and
 *     IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA {
 *     VETH_INFO_PEER { a struct ifinfomsg, then IFLA_IFNAME of the peer }}}
 *     - the peer's attribute starts with a whole ifinfomsg (veth.h);
 *  2. the container's end: its alias says its network
 *     (mct_net_alias_format(), see netlink.h), and IFLA_NET_NS_FD, an fd of
 *     /proc/<pid>/ns/net, moves it into the container's namespace;
 *  3. the host's end: IFLA_MASTER = the bridge's index makes it a port of
 *     the bridge (`ip link set veth1 master minictr0`), and up.
 */
static int net_veth(struct minictr *ct, struct mct_nl *nl, int bridge_index)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: (void)nl; */
    /* stub: (void)bridge_index; */
    /* stub: return MCT_TODO(4, "the veth pair"); */
    _vl_cleanup_close_ int netns = -1;
    struct nlmsghdr *h;
    struct ifinfomsg *ifi, *peer;
    struct nlattr *info, *data, *pnest;
    char path[64], alias[128];
    int r;

    snprintf(ct->net.veth_host, sizeof(ct->net.veth_host), "veth%d",
             (int)ct->pid);
    snprintf(ct->net.veth_ctr, sizeof(ct->net.veth_ctr), "veth%dc",
             (int)ct->pid);

    /* 1: the pair */
    h = mct_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, ct->net.veth_host);
    info = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
    data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
    pnest = mnl_attr_nest_start(h, VETH_INFO_PEER);
    peer = mnl_nlmsg_put_extra_header(h, sizeof(*peer));
    peer->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, ct->net.veth_ctr);
    mnl_attr_nest_end(h, pnest);
    mnl_attr_nest_end(h, data);
    mnl_attr_nest_end(h, info);
    if ((r = mct_nl_send(nl, h)) < 0) {
        ct->net.veth_host[0] = '\0'; /* not ours: do not delete it */
        return vl_err_ctx(r, "creating the veth pair %s/%s", ct->net.veth_host,
                          ct->net.veth_ctr);
    }

    /* 2: the container's end goes into its namespace */
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ct->pid);
    if ((netns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return vl_err(errno, "open %s", path);
    mct_net_alias_format(&ct->net, alias, sizeof(alias));
    h = mct_nl_msg(nl, RTM_NEWLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, ct->net.veth_ctr);
    mnl_attr_put_strz(h, IFLA_IFALIAS, alias);
    mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netns);
    if ((r = mct_nl_send(nl, h)) < 0)
        return vl_err_ctx(r, "moving %s into the container", ct->net.veth_ctr);

    /* 3: the host's end becomes a port of the bridge, up */
    h = mct_nl_msg(nl, RTM_NEWLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(h, IFLA_IFNAME, ct->net.veth_host);
    mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)bridge_index);
    if ((r = mct_nl_send(nl, h)) < 0)
        return vl_err_ctx(r, "attaching %s to the bridge", ct->net.veth_host);
    return 0;
    /* SOLUTION END */
}

/* A bridge name becomes a link name and a directory: at most 15 bytes
 * (IFNAMSIZ, netdevice(7)), none of the characters the kernel refuses in
 * one (dev_valid_name(): '/', ':', white space), not "." or "..". */
static int check_bridge_name(const char *name)
{
    if (strlen(name) >= IFNAMSIZ)
        return vl_err_plain(ENAMETOOLONG,
                            "--bridge %s: too long: a link's name has at "
                            "most %d characters (IFNAMSIZ)",
                            name, IFNAMSIZ - 1);
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
        strpbrk(name, "/: \t\n"))
        return vl_err_plain(EINVAL,
                            "--bridge \"%s\": not a valid link name (no "
                            "'/', ':' or spaces)",
                            name);
    return 0;
}

/*
 * Parent, after the clone, before "go": an address, the bridge, the veth
 * pair. Under the lock of the bridge's lease directory, so that another
 * minictr's clean-up cannot remove the bridge between our finding it and
 * our attaching the veth to it. On an error the driver calls
 * mct_net_cleanup(), which undoes what was done.
 */
int mct_net_setup(struct minictr *ct)
{
    const char *bridge = mct_net_bridge_name(ct);
    _vl_cleanup_close_ int lock = -1;
    struct mct_nl nl;
    int r, bridge_index = 0;

    if ((r = check_bridge_name(bridge)) < 0)
        return r;
    if ((lock = mct_net_lock(bridge)) < 0)
        return vl_err_ctx(lock, "the leases of bridge %s", bridge);
    if ((r = mct_nl_open(&nl, ct->opt.verbose ? ct->log : NULL)) < 0)
        return r;
    r = net_lease(ct, lock);
    if (r == 0) {
        mct_say(ct, "address %s/%u on bridge %s", mct_ip_str(ct->net.addr, 0),
                ct->net.prefix, bridge);
        r = net_bridge(ct, &nl, bridge, &bridge_index);
    }
    if (r == 0)
        r = net_veth(ct, &nl, bridge_index);
    mct_nl_close(&nl);
    return r;
}

/* ---- TODO 5: eth0, in the container ----------------------------------------
 */

/* The container's end of the pair: the one veth of its namespace. */
static int find_veth(struct mct_nl *nl, struct mct_nl_link *veth)
{
    struct mct_nl_link links[8];
    int n = mct_nl_link_list(nl, links, 8);

    if (n < 0)
        return n;
    for (int i = 0; i < n && i < 8; i++)
        if (!strcmp(links[i].kind, "veth")) {
            *veth = links[i];
            return 0;
        }
    return vl_err_plain(ENODEV,
                        "no veth in the container's network namespace: "
                        "mct_net_setup() did not move the container's end "
                        "of the pair into it (IFLA_NET_NS_FD, TODO 4)");
}

/*
 * Child, in the container's network namespace, after lo is up: rename its
 * end of the pair to eth0 (RTM_NEWLINK with the link's index and a new
 * IFLA_IFNAME: a link must be down to be renamed, and it still is), give
 * it ct->net's address, bring it up, and add the default route via the
 * bridge: RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, a struct rtmsg (AF_INET,
 * rtm_dst_len 0 - "0.0.0.0/0", every destination -, RT_TABLE_MAIN,
 * RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST) with RTA_GATEWAY and
 * RTA_OIF (`ip route add default via 10.89.0.1 dev eth0`).
 */
int mct_net_configure(struct minictr *ct)
{
    struct mct_nl nl;
    struct mct_nl_link veth;
    int r;

    if ((r = mct_nl_open(&nl, ct->opt.verbose ? ct->log : NULL)) < 0)
        return r;
    /* This process was cloned before the parent chose the address: its
     * ct->net is empty. The parent wrote it into the veth's alias. */
    r = find_veth(&nl, &veth);
    if (r == 0)
        r = mct_net_alias_parse(veth.alias, &ct->net);
    if (r < 0) {
        mct_nl_close(&nl);
        return r;
    }
    /* SOLUTION BEGIN */
    /* stub: mct_nl_close(&nl); */
    /* stub: return MCT_TODO(5, "eth0: name, address, up, default route"); */
    struct nlmsghdr *h;
    struct ifinfomsg *ifi;
    struct rtmsg *rt;

    h = mct_nl_msg(&nl, RTM_NEWLINK, 0);
    ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = veth.index;
    mnl_attr_put_strz(h, IFLA_IFNAME, MCT_NET_IFNAME);
    if ((r = mct_nl_send(&nl, h)) < 0) {
        r = vl_err_ctx(r, "renaming %s to %s", veth.name, MCT_NET_IFNAME);
        goto out;
    }
    r = address_add(&nl, veth.index, ct->net.addr, ct->net.prefix);
    if (r < 0) {
        r = vl_err_ctx(r, "giving %s its address", MCT_NET_IFNAME);
        goto out;
    }
    if ((r = link_set_up(&nl, veth.index)) < 0) {
        r = vl_err_ctx(r, "bringing %s up", MCT_NET_IFNAME);
        goto out;
    }
    h = mct_nl_msg(&nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = 0;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(h, RTA_GATEWAY, htonl(ct->net.gateway));
    mnl_attr_put_u32(h, RTA_OIF, (uint32_t)veth.index);
    if ((r = mct_nl_send(&nl, h)) < 0)
        r = vl_err_ctx(r, "the default route via %s",
                       mct_ip_str(ct->net.gateway, 0));
out:
    mct_nl_close(&nl);
    return r;
    /* SOLUTION END */
}

/* ---- TODO 6: clean up ------------------------------------------------------
 */

/*
 * Parent, always (after the end, and after a failure at any step): delete
 * the host's end of the pair (RTM_DELLINK: the other end goes with it; if
 * the container's namespace died first, both are gone already and the
 * kernel says ENODEV - not an error), remove the lease, and delete the
 * bridge when it is minictr's (ct->net.bridge_created, or another
 * minictr's: its alias is MCT_NET_BRIDGE_ALIAS) and no port is left on it
 * (mct_nl_bridge_ports()). Clear each field once done: idempotent.
 * Problems are warnings on ct->log; nothing here may stop the clean-up.
 */
void mct_net_cleanup(struct minictr *ct)
{
    const char *bridge = mct_net_bridge_name(ct);
    _vl_cleanup_close_ int lock = -1;
    struct mct_nl nl = {0};

    if (!ct->net.veth_host[0] && !ct->net.lease_held && !ct->net.bridge_created)
        return; /* nothing made, or all undone already */
    if (check_bridge_name(bridge) < 0)
        return;
    /* The same lock as mct_net_setup(): a container starting on this
     * bridge finds it either before we look at its ports or not at all. */
    if ((lock = mct_net_lock(bridge)) < 0)
        fprintf(ct->log, "minictr: warning: %s\n", vl_errmsg());
    if (mct_nl_open(&nl, ct->opt.verbose ? ct->log : NULL) < 0)
        fprintf(ct->log, "minictr: warning: %s\n", vl_errmsg());
    /* TODO 6: the veth (if nl.sock), the lease (if lock >= 0), the bridge. */
    /* SOLUTION BEGIN */
    if (nl.sock && ct->net.veth_host[0]) {
        struct nlmsghdr *h = mct_nl_msg(&nl, RTM_DELLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
        int r;

        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(h, IFLA_IFNAME, ct->net.veth_host);
        r = mct_nl_send(&nl, h);
        if (r < 0 && r != -ENODEV)
            fprintf(ct->log, "minictr: warning: deleting %s: %s\n",
                    ct->net.veth_host, vl_errmsg());
        ct->net.veth_host[0] = ct->net.veth_ctr[0] = '\0';
    }
    if (ct->net.lease_held && lock >= 0) {
        if (unlinkat(lock, mct_ip_str(ct->net.addr, 0), 0) < 0 &&
            errno != ENOENT)
            fprintf(ct->log,
                    "minictr: warning: removing the lease %s/%s/%s: %s\n",
                    MCT_NET_DIR, bridge, mct_ip_str(ct->net.addr, 0),
                    strerror(errno));
        ct->net.lease_held = false;
    }
    if (nl.sock) {
        struct mct_nl_link link;

        if (mct_nl_link_get(&nl, bridge, &link) == 0 &&
            !strcmp(link.kind, "bridge") &&
            (ct->net.bridge_created ||
             !strcmp(link.alias, MCT_NET_BRIDGE_ALIAS)) &&
            mct_nl_bridge_ports(&nl, link.index) == 0) {
            struct nlmsghdr *h = mct_nl_msg(&nl, RTM_DELLINK, 0);
            struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

            ifi->ifi_family = AF_UNSPEC;
            ifi->ifi_index = link.index;
            if (mct_nl_send(&nl, h) < 0)
                fprintf(ct->log, "minictr: warning: deleting bridge %s: %s\n",
                        bridge, vl_errmsg());
            else
                mct_say(ct, "deleted bridge %s: no port left", bridge);
        }
        ct->net.bridge_created = false;
    }
    /* SOLUTION END */
    mct_nl_close(&nl);
    vl_err_clear();
}
