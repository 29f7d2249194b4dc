/*
 * probe_net.c - vlab-probe commands of lab 15 (networking): what the
 * container's network looks like from inside, and a tiny TCP server and
 * client for two containers to talk to each other over the bridge.
 *
 *   netinfo            ifaces= (the links, comma-separated), for each one
 *                      if_NAME=up|down and addr_NAME=A.B.C.D/N (its first
 *                      IPv4 address); gateway= and gateway_dev= (the
 *                      default route, from /proc/net/route; "none")
 *   tcp-serve PORT     listen on 0.0.0.0:PORT, print listening=PORT, take
 *                      one connection (at most 20 s), read a line, print
 *                      got= and peer=, answer "pong LINE" and exit
 *   tcp-connect ADDR PORT TEXT
 *                      connect (retrying up to 5 s while nobody listens),
 *                      send TEXT, print reply= (the answer) and local=
 *                      (our address)
 *
 * Only addresses the test gives are contacted: the tests run every
 * container in a network namespace of their own.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PROBE_NET_TIMEOUT_SEC 20

static int prefix_len(const struct sockaddr *mask)
{
    uint32_t m = ntohl(((const struct sockaddr_in *)mask)->sin_addr.s_addr);
    int n = 0;

    while (m & 0x80000000u) {
        n++;
        m <<= 1;
    }
    return n;
}

/* The default route of /proc/net/route (the reading process's namespace):
 * "Iface Destination Gateway Flags ..." in hex, network byte order. */
static void print_default_route(void)
{
    char line[256], dev[IFNAMSIZ + 1];
    unsigned dst, gw, flags;
    FILE *f = fopen("/proc/net/route", "re");
    bool found = false;

    if (f) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "%16s %x %x %x", dev, &dst, &gw, &flags) == 4 &&
                dst == 0 && (flags & 0x2 /* RTF_GATEWAY */)) {
                struct in_addr a = {.s_addr = gw};

                probe_kv("gateway", "%s", inet_ntoa(a));
                probe_kv("gateway_dev", "%s", dev);
                found = true;
                break;
            }
        fclose(f);
    }
    if (!found) {
        probe_kv("gateway", "none");
        probe_kv("gateway_dev", "none");
    }
}

static int cmd_netinfo(int argc, char **argv)
{
    struct ifaddrs *all, *i;
    char names[512] = "", key[64];

    (void)argc;
    (void)argv;
    if (getifaddrs(&all) < 0) {
        perror("vlab-probe netinfo: getifaddrs");
        return 1;
    }
    /* AF_PACKET entries: one per link, with its flags. */
    for (i = all; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET)
            continue;
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                 names[0] ? "," : "", i->ifa_name);
        snprintf(key, sizeof(key), "if_%s", i->ifa_name);
        probe_kv(key, "%s", i->ifa_flags & IFF_UP ? "up" : "down");
    }
    probe_kv("ifaces", "%s", names);
    for (i = all; i; i = i->ifa_next) {
        char ip[INET_ADDRSTRLEN];

        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
            !i->ifa_netmask)
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
                  sizeof(ip));
        snprintf(key, sizeof(key), "addr_%s", i->ifa_name);
        probe_kv(key, "%s/%d", ip, prefix_len(i->ifa_netmask));
    }
    freeifaddrs(all);
    print_default_route();
    return 0;
}

static int parse_port(const char *s)
{
    char *end;
    long p = strtol(s, &end, 10);

    if (!*s || *end || p < 1 || p > 65535) {
        fprintf(stderr, "vlab-probe: bad port \"%s\"\n", s);
        exit(2);
    }
    return (int)p;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = PROBE_NET_TIMEOUT_SEC};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Read up to a newline (or EOF) into buf, without the newline. */
static ssize_t read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;

    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

static int cmd_tcp_serve(int argc, char **argv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET}, peer;
    socklen_t plen = sizeof(peer);
    char line[256], reply[300];
    int one = 1, s, c;

    if (argc != 2) {
        fprintf(stderr, "usage: vlab-probe tcp-serve PORT\n");
        return 2;
    }
    addr.sin_port = htons((uint16_t)parse_port(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 1)) {
        perror("vlab-probe tcp-serve");
        return 1;
    }
    set_timeouts(s); /* accept() too: SO_RCVTIMEO bounds it (socket(7)) */
    probe_kv("listening", "%s", argv[1]);
    c = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    if (c < 0) {
        perror("vlab-probe tcp-serve: accept");
        return 1;
    }
    set_timeouts(c);
    if (read_line(c, line, sizeof(line)) < 0) {
        perror("vlab-probe tcp-serve: read");
        return 1;
    }
    probe_kv("got", "%s", line);
    probe_kv("peer", "%s", inet_ntoa(peer.sin_addr));
    snprintf(reply, sizeof(reply), "pong %s\n", line);
    if (write(c, reply, strlen(reply)) < 0)
        perror("vlab-probe tcp-serve: write");
    close(c);
    close(s);
    return 0;
}

static int cmd_tcp_connect(int argc, char **argv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET}, local;
    socklen_t llen = sizeof(local);
    struct timespec pause = {0, 100 * 1000 * 1000};
    char line[300];
    int s = -1;

    if (argc != 4 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "usage: vlab-probe tcp-connect A.B.C.D PORT TEXT\n");
        return 2;
    }
    addr.sin_port = htons((uint16_t)parse_port(argv[2]));
    for (int tries = 0;; tries++) {
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            perror("vlab-probe tcp-connect: socket");
            return 1;
        }
        set_timeouts(s);
        if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            break;
        if (tries >= 50 || (errno != ECONNREFUSED && errno != EHOSTUNREACH &&
                            errno != ENETUNREACH)) {
            probe_kv("connect_error", "%s", strerrorname_np(errno));
            perror("vlab-probe tcp-connect: connect");
            return 1;
        }
        close(s);
        nanosleep(&pause, NULL);
    }
    getsockname(s, (struct sockaddr *)&local, &llen);
    probe_kv("local", "%s", inet_ntoa(local.sin_addr));
    snprintf(line, sizeof(line), "%s\n", argv[3]);
    if (write(s, line, strlen(line)) < 0 ||
        read_line(s, line, sizeof(line)) < 0) {
        perror("vlab-probe tcp-connect");
        return 1;
    }
    probe_kv("reply", "%s", line);
    close(s);
    return 0;
}

const struct probe_cmd probe_cmds_net[] = {
    {"netinfo",
     "netinfo: ifaces=, if_NAME=up|down, addr_NAME=A.B.C.D/N, gateway=, "
     "gateway_dev= (the default route)",
     cmd_netinfo},
    {"tcp-serve",
     "tcp-serve PORT: print listening=PORT, answer one TCP client's line "
     "with \"pong LINE\"; print got=, peer=",
     cmd_tcp_serve},
    {"tcp-connect",
     "tcp-connect ADDR PORT TEXT: send TEXT, print local= and reply=",
     cmd_tcp_connect},
    {NULL, NULL, NULL},
};
