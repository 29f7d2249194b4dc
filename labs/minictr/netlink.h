/*
 * netlink.h - minictr's rtnetlink plumbing for lab 15 (driver code, not a
 * lab): a NETLINK_ROUTE socket through libmnl, sending a request and
 * waiting for the kernel's acknowledgement, printing each message under
 * -v, and the read-only queries (which links exist, their kind, master
 * and addresses). The messages that CHANGE something - a bridge, a veth
 * pair, an address, a route - are built by hand in the stage file,
 * solutions/15-networking/network.c.
 *
 * References: netlink(7), rtnetlink(7), the kernel's
 * Documentation/userspace-api/netlink/intro.rst, libmnl's
 * <libmnl/libmnl.h> and its examples/rtnl/.
 */
#ifndef MCT_NETLINK_H
#define MCT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "minictr.h"

/* The network of --net bridge: 10.89.0.0/24, the bridge is .1 (the
 * containers' gateway), containers get .2 to .254. Docker's default
 * bridge uses 172.17.0.0/16, Podman's 10.88.0.0/16: this one is next to
 * Podman's, and small, so that `ip route` on a student's machine shows at
 * once which route is minictr's. */
#define MCT_NET_SUBNET  0x0a590000u /* 10.89.0.0, host byte order */
#define MCT_NET_PREFIX  24u
#define MCT_NET_GATEWAY (MCT_NET_SUBNET | 1u) /* 10.89.0.1 */
#define MCT_NET_FIRST   (MCT_NET_SUBNET | 2u) /* the first container */
#define MCT_NET_LAST    (MCT_NET_SUBNET | 254u)

/* Where the address leases live: MCT_NET_DIR/<bridge>/<a.b.c.d>, one file
 * per address in use, created with O_EXCL (the lease) and holding the pid
 * of the minictr that holds it; the directory is also the lock that
 * serialises the containers of one bridge (flock(2)). */
#define MCT_NET_DIR "/run/minictr/net"

/* The alias (IFLA_IFALIAS, `ip link set dev X alias ...`) minictr gives
 * the bridges it creates: "remove me when my last port is gone". */
#define MCT_NET_BRIDGE_ALIAS "minictr: removed with its last container"

/* The name the container's end of the pair gets (lab 15 TODO 5). */
#define MCT_NET_IFNAME "eth0"

#define MCT_NL_BUFSIZE 8192

/* A NETLINK_ROUTE socket and the buffer its next request is built in. */
struct mct_nl {
    struct mnl_socket *sock; /* NULL until mct_nl_open() */
    uint32_t portid;         /* our netlink address (the kernel's is 0) */
    uint32_t seq;            /* the last sequence number used */
    FILE *log;               /* -v: each request is printed here, or NULL */
    char *buf;               /* MCT_NL_BUFSIZE bytes: the request */
};

/* Open a NETLINK_ROUTE socket in the caller's network namespace (a netlink
 * socket talks to the namespace it was created in, for good). log: where
 * to print the requests (NULL: nowhere). */
int mct_nl_open(struct mct_nl *nl, FILE *log);
/* Close it (idempotent; a zeroed struct is closed). */
void mct_nl_close(struct mct_nl *nl);

/*
 * Start a new request in nl->buf: a struct nlmsghdr of `type` (RTM_NEWLINK
 * ...) with flags NLM_F_REQUEST | NLM_F_ACK | `flags` and the next
 * sequence number. Put the family header next with mnl_nlmsg_put_extra_
 * header(), then the attributes with mnl_attr_put*().
 */
struct nlmsghdr *mct_nl_msg(struct mct_nl *nl, uint16_t type, uint16_t flags);

/*
 * Send the request h (built in nl->buf) and wait for the kernel's answer:
 * 0 when it acknowledged it, -errno when it refused, with a message that
 * names the request and adds the kernel's own explanation when it gives
 * one (extended ACK: "RTM_NEWLINK \"minictr0\": File exists").
 */
int mct_nl_send(struct mct_nl *nl, struct nlmsghdr *h);

/* Print one rtnetlink message readably, on one line: its type, flags,
 * family header and attributes, nested ones in braces. With
 * $MINICTR_NETLINK_HEXDUMP set, also libmnl's annotated hex dump. */
void mct_nl_print(FILE *out, const struct nlmsghdr *h);

/* What rtnetlink says of a link (RTM_GETLINK). */
struct mct_nl_link {
    int index;       /* ifindex */
    char name[16];   /* IFLA_IFNAME (IFNAMSIZ) */
    char kind[32];   /* IFLA_LINKINFO/IFLA_INFO_KIND: "bridge", "veth"; ""
                      * for lo and real hardware */
    char alias[128]; /* IFLA_IFALIAS, or "" */
    int master;      /* IFLA_MASTER: the ifindex of its bridge, or 0 */
    unsigned flags;  /* ifi_flags: IFF_UP, IFF_LOOPBACK ... */
};

/* The link called name: 0, or -ENODEV when there is none (no message is
 * recorded for -ENODEV: not finding one is an answer), -errno else. */
int mct_nl_link_get(struct mct_nl *nl, const char *name,
                    struct mct_nl_link *link);
/* Every link of the namespace (RTM_GETLINK with NLM_F_DUMP): up to max
 * into links; returns how many there are (may be > max), or -errno. */
int mct_nl_link_list(struct mct_nl *nl, struct mct_nl_link *links, size_t max);
/* How many links have IFLA_MASTER == master (the ports of a bridge). */
int mct_nl_bridge_ports(struct mct_nl *nl, int master);
/* The IPv4 addresses of link ifindex (RTM_GETADDR dump), host byte order,
 * up to max; returns how many there are, or -errno. */
int mct_nl_addr_list(struct mct_nl *nl, int ifindex, uint32_t *addrs,
                     unsigned *prefixes, size_t max);

/*
 * The leases' directory of bridge, MCT_NET_DIR/<bridge> (made if needed),
 * opened and locked (flock LOCK_EX, waiting up to 10 s for another
 * minictr): returns its fd (close it to unlock), or -errno.
 */
int mct_net_lock(const char *bridge);

/* The bridge of ct: --bridge NAME, or MCT_BRIDGE. */
const char *mct_net_bridge_name(const struct minictr *ct);

/* "a.b.c.d" of a host-order address, in a static buffer per call slot
 * (slot 0..3, for up to four in one printf). */
const char *mct_ip_str(uint32_t addr, int slot);

/*
 * The child learns its network from its end of the veth: the parent
 * writes "minictr 10.89.0.2/24 via 10.89.0.1" into that link's alias
 * (IFLA_IFALIAS) before moving it into the container's namespace, where
 * the alias goes with the device. The child was cloned before the parent
 * chose the address, so its copy of ct->net is empty: this is how it
 * crosses over. Format and parse it (parse: -EINVAL if it is not one).
 */
void mct_net_alias_format(const struct mct_net *net, char *buf, size_t len);
int mct_net_alias_parse(const char *alias, struct mct_net *net);

#endif
