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
    (void)ct;
    (void)dir;
    return MCT_TODO(1, "lease an address for the container");
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
    (void)nl;
    (void)index;
    return MCT_TODO(2, "RTM_NEWLINK: a link up");
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
    (void)nl;
    (void)index;
    (void)addr;
    (void)prefix;
    return MCT_TODO(2, "RTM_NEWADDR: an address");
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
    (void)ct;
    (void)nl;
    (void)name;
    (void)index;
    return MCT_TODO(3, "find or create the bridge");
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
    (void)ct;
    (void)nl;
    (void)bridge_index;
    return MCT_TODO(4, "the veth pair");
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
    mct_nl_close(&nl);
    return MCT_TODO(5, "eth0: name, address, up, default route");
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
    mct_nl_close(&nl);
    vl_err_clear();
}
