/*
 * network_test.c - the tests of lab 15, one group per TODO.
 *
 * Every test first moves itself into a NEW network namespace and a new
 * mount namespace with its own /run (a tmpfs): the bridge, the veths and
 * the leases minictr makes live there and vanish with the test. The
 * machine's real network is never touched - each test checks that its
 * namespace is not the host's before it runs anything - and no packet
 * goes to any address outside these namespaces.
 *
 * The tests run minictr (built from your network.c and the reference of
 * every other lab) with --net bridge and look at the result from both
 * sides: from the test's namespace through rtnetlink (the driver's
 * queries in labs/minictr/netlink.c), from inside with vlab-probe netinfo,
 * tcp-serve and tcp-connect (labs/minictr/probe/probe_net.c).
 */
#include "mct_test.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "netlink.h"

static void setup(void);

TestSuite(network, .init = setup, .timeout = 60);

#define LEASES MCT_NET_DIR "/" MCT_BRIDGE

/* ---- the test's own namespaces ------------------------------------------- */

static ino_t netns_ino(const char *path)
{
    struct stat st;

    cr_assert(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
    return st.st_ino;
}

static void setup(void)
{
    struct stat init;
    ino_t before;

    mct_require_root();
    mct_require_built();
    before = netns_ino("/proc/self/ns/net");
    cr_assert(unshare(CLONE_NEWNET | CLONE_NEWNS) == 0,
              "unshare(CLONE_NEWNET | CLONE_NEWNS): %s", strerror(errno));
    /* Never run minictr --net bridge in the host's network namespace. */
    cr_assert_neq(netns_ino("/proc/self/ns/net"), before,
                  "the test is still in its old network namespace");
    /* ... nor in init's, when we may look at it (ptrace access mode). */
    if (stat("/proc/1/ns/net", &init) == 0)
        cr_assert_neq(netns_ino("/proc/self/ns/net"), init.st_ino,
                      "the test is in the host's network namespace");
    cr_assert(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
              "making the mounts private: %s", strerror(errno));
    cr_assert(
        mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0,
        "a tmpfs on /run: %s", strerror(errno));
}

/* ---- looking at the test's namespace --------------------------------------
 */

/* The links of our namespace, "lo,minictr0,veth123" into buf; count. */
static int links_now(struct mct_nl_link *links, size_t max, char *buf,
                     size_t len)
{
    struct mct_nl nl;
    int n;

    vl_assert_ok(mct_nl_open(&nl, NULL));
    n = mct_nl_link_list(&nl, links, max);
    mct_nl_close(&nl);
    cr_assert(n >= 0 && (size_t)n <= max, "listing links: %s", vl_errmsg());
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
                 links[i].name);
    return n;
}

/* The link called name in our namespace; false when there is none. */
static bool link_get(const char *name, struct mct_nl_link *link)
{
    struct mct_nl nl;
    int r;

    vl_assert_ok(mct_nl_open(&nl, NULL));
    r = mct_nl_link_get(&nl, name, link);
    mct_nl_close(&nl);
    cr_assert(r == 0 || r == -ENODEV, "looking up %s: %s", name, vl_errmsg());
    return r == 0;
}

/* Has link ifindex the IPv4 address addr/prefix? */
static bool has_addr(int ifindex, uint32_t addr, unsigned prefix)
{
    uint32_t addrs[8];
    unsigned prefixes[8];
    struct mct_nl nl;
    int n;

    vl_assert_ok(mct_nl_open(&nl, NULL));
    n = mct_nl_addr_list(&nl, ifindex, addrs, prefixes, 8);
    mct_nl_close(&nl);
    cr_assert(n >= 0, "listing addresses: %s", vl_errmsg());
    for (int i = 0; i < n && i < 8; i++)
        if (addrs[i] == addr && prefixes[i] == prefix)
            return true;
    return false;
}

/* The leases in dir, "10.89.0.2,10.89.0.3" into buf; how many. */
static int leases_now(const char *dir, char *buf, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    buf[0] = '\0';
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", n ? "," : "",
                     e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* A lease made by hand, as if another container held the address. */
static void fake_lease(const char *addr)
{
    char path[PATH_MAX];
    int fd;

    mkdir("/run/minictr", 0755);
    mkdir(MCT_NET_DIR, 0700);
    mkdir(LEASES, 0700);
    snprintf(path, sizeof(path), LEASES "/%s", addr);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "creating %s: %s", path, strerror(errno));
    close(fd);
}

/* Nothing of minictr's left in our namespace: only these links (a comma
 * list) and only these leases. */
static void assert_left(const char *links_expected, const char *leases_expected,
                        const char *when)
{
    struct mct_nl_link links[16];
    char names[256], leases[256];

    links_now(links, 16, names, sizeof(names));
    cr_assert_str_eq(names, links_expected,
                     "%s: the links of the namespace are %s, expected %s "
                     "(mct_net_cleanup(), TODO 6)",
                     when, names, links_expected);
    leases_now(LEASES, leases, sizeof(leases));
    cr_assert_str_eq(leases, leases_expected,
                     "%s: the leases in " LEASES " are \"%s\", expected "
                     "\"%s\" (mct_net_cleanup(), TODO 6)",
                     when, leases, leases_expected);
}

/* Start a container that prints ready=1 and waits for SIGTERM. */
static void start_waiting(struct mct_proc *p, const char *ip)
{
    if (ip)
        mct_start_cli(p, NULL, "--net", "bridge", "--ip", ip, "--",
                      "/bin/vlab-probe", "sigwait", NULL);
    else
        mct_start_cli(p, NULL, "--net", "bridge", "--", "/bin/vlab-probe",
                      "sigwait", NULL);
    if (!mct_proc_wait_for(p, "ready=1", 20)) {
        struct mct_result r;

        mct_proc_finish(p, &r, 5);
        cr_assert_fail(
            "the container on the bridge did not start (status %d):\n%s",
            r.status, r.err);
    }
}

/* SIGTERM it (minictr forwards it) and expect a clean end. */
static void stop_waiting(struct mct_proc *p)
{
    struct mct_result r;

    mct_proc_signal(p, SIGTERM);
    mct_proc_finish(p, &r, 20);
    cr_assert_eq(r.status, 0, "the waiting container ended with %d:\n%s",
                 r.status, r.err);
    mct_result_free(&r);
}

/* vlab-probe netinfo in a container on the bridge (ip may be NULL). */
static void netinfo(struct mct_result *r, const char *ip)
{
    if (ip)
        mct_run_cli(r, 20, "--net", "bridge", "--ip", ip, "--",
                    "/bin/vlab-probe", "netinfo", NULL);
    else
        mct_run_cli(r, 20, "--net", "bridge", "--", "/bin/vlab-probe",
                    "netinfo", NULL);
    cr_assert_eq(r->status, 0, "minictr --net bridge failed (%d):\n%s",
                 r->status, r->err);
}

static void assert_kv(const char *out, const char *key, const char *want,
                      const char *why)
{
    char *v = mct_kv(out, key);

    cr_assert_not_null(v, "vlab-probe printed no %s= in:\n%s", key, out);
    cr_assert_str_eq(v, want, "%s is %s, expected %s: %s", key, v, want, why);
    free(v);
}

/* ---- TODO 1: the address ---------------------------------------------------
 */

Test(network, leases_the_first_free_address)
{
    struct mct_result r;
    struct mct_proc p;
    char path[PATH_MAX], buf[64] = "";
    FILE *f;

    /* 10.89.0.2 is another container's: this one gets 10.89.0.3. */
    fake_lease("10.89.0.2");
    start_waiting(&p, NULL);
    snprintf(path, sizeof(path), LEASES "/10.89.0.3");
    f = fopen(path, "re");
    cr_assert_not_null(f,
                       "no lease %s while the container runs (10.89.0.2 "
                       "is taken, so 10.89.0.3 is the first free one): %s",
                       path, strerror(errno));
    cr_assert_not_null(fgets(buf, sizeof(buf), f), "the lease is empty");
    fclose(f);
    cr_assert_eq(atoi(buf), p.pid,
                 "the lease holds \"%s\", not minictr's pid %d", buf,
                 (int)p.pid);
    stop_waiting(&p);

    netinfo(&r, "10.89.0.77");
    assert_kv(r.out, "addr_eth0", "10.89.0.77/24", "--ip 10.89.0.77");
    mct_result_free(&r);
}

/* minictr --net bridge --ip ip must fail with 125 and name the value. */
static void assert_ip_refused(const char *ip, const char *needle)
{
    struct mct_result r;

    mct_run_cli(&r, 20, "--net", "bridge", "--ip", ip, "--", "/bin/true", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "--ip %s: minictr exited with %d, expected 125:\n%s", ip,
                 r.status, r.err);
    cr_assert(strstr(r.err, ip) && strstr(r.err, needle),
              "--ip %s: the message must name the address and say \"%s\":\n%s",
              ip, needle, r.err);
    mct_result_free(&r);
    assert_left("lo", "10.89.0.5", "after a refused --ip");
}

Test(network, refuses_a_bad_or_taken_ip)
{
    fake_lease("10.89.0.5");
    assert_ip_refused("10.89.0.5", "taken");
    assert_ip_refused("10.1.2.3", "10.89.0.0/24");
    assert_ip_refused("10.89.0.1", "10.89.0.0/24"); /* the bridge's */
    assert_ip_refused("10.89.0.255", "10.89.0.0/24");
    assert_ip_refused("10.89.0.300", "IPv4");
}

/* ---- TODOs 2 and 3: the bridge
 * ------------------------------------------------ */

Test(network, creates_the_bridge_up_with_its_address)
{
    struct mct_nl_link br;
    struct mct_proc p;

    start_waiting(&p, NULL);
    cr_assert(link_get(MCT_BRIDGE, &br),
              "no link " MCT_BRIDGE " while the container runs");
    cr_assert_str_eq(br.kind, "bridge", MCT_BRIDGE " is a \"%s\", not a bridge",
                     br.kind);
    cr_assert(br.flags & IFF_UP, MCT_BRIDGE " is not up (TODO 2, TODO 3)");
    cr_assert(has_addr(br.index, MCT_NET_GATEWAY, MCT_NET_PREFIX),
              MCT_BRIDGE " does not have the address 10.89.0.1/24");
    cr_assert_str_eq(br.alias, MCT_NET_BRIDGE_ALIAS,
                     "the bridge minictr made has the alias \"%s\"", br.alias);
    stop_waiting(&p);
}

Test(network, refuses_bad_bridge_names)
{
    struct mct_result r;

    mct_run_cli(&r, 20, "--net", "bridge", "--bridge", "lo", "--", "/bin/true",
                NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "--bridge lo: minictr exited with %d:\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "lo") && strstr(r.err, "not a bridge"),
              "--bridge lo: the message must say that lo is not a "
              "bridge:\n%s",
              r.err);
    mct_result_free(&r);
    assert_left("lo", "", "after --bridge lo");
    {
        char leases[64];

        cr_assert_eq(leases_now(MCT_NET_DIR "/lo", leases, sizeof(leases)), 0,
                     "a lease is left after --bridge lo: %s", leases);
    }

    mct_run_cli(&r, 20, "--net", "bridge", "--bridge", "a-very-long-bridge",
                "--", "/bin/true", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "a 18-character bridge name:\n%s",
                 r.err);
    cr_assert(strstr(r.err, "too long"),
              "the message must say \"too long\":\n%s", r.err);
    mct_result_free(&r);
    assert_left("lo", "", "after a bridge name too long");
}

/* A bridge minictr did not make: minictr uses it and leaves it. */
Test(network, keeps_a_bridge_it_did_not_create)
{
    struct mct_nl_link br;
    struct mct_result r;
    struct mct_nl nl;
    struct nlmsghdr *h;
    struct ifinfomsg *ifi;
    struct nlattr *info;
    char leases[64];

    vl_assert_ok(mct_nl_open(&nl, NULL));
    h = mct_nl_msg(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, "testbr0");
    info = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(h, info);
    vl_assert_ok(mct_nl_send(&nl, h));
    mct_nl_close(&nl);

    mct_run_cli(&r, 20, "--net", "bridge", "--bridge", "testbr0", "--",
                "/bin/vlab-probe", "netinfo", NULL);
    cr_assert_eq(r.status, 0, "--bridge testbr0 failed (%d):\n%s", r.status,
                 r.err);
    assert_kv(r.out, "addr_eth0", "10.89.0.2/24", "on the test's bridge");
    mct_result_free(&r);
    cr_assert(link_get("testbr0", &br),
              "minictr deleted the bridge testbr0, which it did not create");
    cr_assert(has_addr(br.index, MCT_NET_GATEWAY, MCT_NET_PREFIX),
              "testbr0 did not get the address 10.89.0.1/24");
    assert_left("lo,testbr0", "", "after a container on testbr0");
    cr_assert_eq(leases_now(MCT_NET_DIR "/testbr0", leases, sizeof(leases)), 0,
                 "the lease is left: %s", leases);
}

/* ---- TODO 4: the veth pair
 * ---------------------------------------------------- */

Test(network, attaches_the_host_end_to_the_bridge)
{
    struct mct_nl_link br, veth, peer;
    struct mct_proc p;
    char name[32];
    pid_t c;

    start_waiting(&p, NULL);
    c = mct_proc_container_pid(&p, 5);
    cr_assert(c > 0, "no container PID 1 under minictr %d", (int)p.pid);
    cr_assert(link_get(MCT_BRIDGE, &br), "no bridge " MCT_BRIDGE);
    snprintf(name, sizeof(name), "veth%d", (int)c);
    cr_assert(link_get(name, &veth),
              "no link %s (veth<the container's pid>) on the host's side",
              name);
    cr_assert_str_eq(veth.kind, "veth", "%s is a \"%s\", not a veth", name,
                     veth.kind);
    cr_assert_eq(veth.master, br.index,
                 "%s is not a port of " MCT_BRIDGE " (IFLA_MASTER is %d, the "
                 "bridge is %d)",
                 name, veth.master, br.index);
    cr_assert(veth.flags & IFF_UP, "%s is not up", name);
    snprintf(name, sizeof(name), "veth%dc", (int)c);
    cr_assert(!link_get(name, &peer),
              "the container's end %s is still in the host's namespace "
              "(IFLA_NET_NS_FD)",
              name);
    stop_waiting(&p);
}

/* ---- TODO 5: eth0
 * ---------------------------------------------------------------- */

Test(network, eth0_has_the_address_the_route_and_lo)
{
    struct mct_result r;

    netinfo(&r, NULL);
    assert_kv(r.out, "ifaces", "lo,eth0",
              "the container has lo and eth0 (the veth renamed), nothing "
              "else");
    assert_kv(r.out, "if_lo", "up", "lo is up (lab 09)");
    assert_kv(r.out, "if_eth0", "up", "eth0 is up");
    assert_kv(r.out, "addr_eth0", "10.89.0.2/24",
              "the first free address, in the bridge's /24");
    assert_kv(r.out, "gateway", "10.89.0.1",
              "the default route goes via the bridge");
    assert_kv(r.out, "gateway_dev", "eth0", "the default route uses eth0");
    mct_result_free(&r);
}

/* ---- TODOs 1-5 together
 * ------------------------------------------------------ */

Test(network, two_containers_talk_over_the_bridge)
{
    struct mct_result r, s;
    struct mct_proc server;

    mct_start_cli(&server, NULL, "--net", "bridge", "--ip", "10.89.0.10", "--",
                  "/bin/vlab-probe", "tcp-serve", "7000", NULL);
    if (!mct_proc_wait_for(&server, "listening=7000", 20)) {
        mct_proc_finish(&server, &s, 5);
        cr_assert_fail("the server container did not start (%d):\n%s", s.status,
                       s.err);
    }
    mct_run_cli(&r, 30, "--net", "bridge", "--ip", "10.89.0.11", "--",
                "/bin/vlab-probe", "tcp-connect", "10.89.0.10", "7000", "hello",
                NULL);
    mct_proc_finish(&server, &s, 20);
    cr_assert_eq(r.status, 0,
                 "the client in 10.89.0.11 could not talk to the server in "
                 "10.89.0.10 (%d):\n%s%s",
                 r.status, r.out, r.err);
    assert_kv(r.out, "local", "10.89.0.11", "the client's address");
    assert_kv(r.out, "reply", "pong hello", "the server's answer");
    cr_assert_eq(s.status, 0, "the server ended with %d:\n%s", s.status, s.err);
    assert_kv(s.out, "got", "hello", "what the server received");
    assert_kv(s.out, "peer", "10.89.0.11", "the client, as the server saw it");
    mct_result_free(&r);
    mct_result_free(&s);
    assert_left("lo", "", "after two containers");
}

/* ---- TODO 6: clean up ------------------------------------------------------
 */

Test(network, removes_everything_after_the_end)
{
    struct mct_snapshot before;
    struct mct_result r;

    mct_snapshot(&before);
    netinfo(&r, NULL);
    assert_left("lo", "", "after a container ended");
    mct_assert_no_leftovers(&before, &r, mct_rootfs());
    mct_result_free(&r);
}

Test(network, removes_everything_after_a_failure)
{
    char broken[] = "/tmp/mct-broken-XXXXXX", proc[64];
    struct mct_result r;

    /* The command is not there: exit 127, after the whole set-up. */
    mct_run_cli(&r, 20, "--net", "bridge", "--", "/no/such/command", NULL);
    cr_assert_eq(r.status, MCT_EXIT_NOTFOUND, "a missing command: %d:\n%s",
                 r.status, r.err);
    mct_result_free(&r);
    assert_left("lo", "", "after a missing command");

    /* The container's set-up fails after the network's: a rootfs whose
     * /proc is a file, not a directory to mount proc on. */
    cr_assert_not_null(mkdtemp(broken), "mkdtemp: %s", strerror(errno));
    snprintf(proc, sizeof(proc), "%s/proc", broken);
    cr_assert(mknod(proc, S_IFREG | 0644, 0) == 0, "mknod %s: %s", proc,
              strerror(errno));
    mct_run_cli_rootfs(&r, 20, broken, "--net", "bridge", "--", "/bin/true",
                       NULL);
    unlink(proc);
    /* Lab 10 makes the mount points it needs (sys/) before it fails. */
    snprintf(proc, sizeof(proc), "%s/sys", broken);
    rmdir(proc);
    rmdir(broken);
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "a rootfs whose /proc is a file: %d:\n%s", r.status, r.err);
    mct_result_free(&r);
    assert_left("lo", "", "after a failed set-up");
}

Test(network, keeps_the_bridge_while_another_container_uses_it)
{
    struct mct_nl_link br;
    struct mct_result r;
    struct mct_proc a;
    struct mct_nl nl;
    int ports;

    start_waiting(&a, "10.89.0.20");
    netinfo(&r, "10.89.0.21");
    mct_result_free(&r);
    cr_assert(link_get(MCT_BRIDGE, &br),
              "the bridge was deleted while a container still uses it");
    vl_assert_ok(mct_nl_open(&nl, NULL));
    ports = mct_nl_bridge_ports(&nl, br.index);
    mct_nl_close(&nl);
    cr_assert_eq(ports, 1,
                 "the bridge has %d ports, expected 1 (the running "
                 "container's)",
                 ports);
    {
        char leases[64];

        leases_now(LEASES, leases, sizeof(leases));
        cr_assert_str_eq(leases, "10.89.0.20",
                         "leases while one container runs: \"%s\"", leases);
    }
    stop_waiting(&a);
    assert_left("lo", "", "after the last container");
}

/* ---- -v
 * ------------------------------------------------------------------------ */

Test(network, verbose_prints_each_netlink_message)
{
    struct mct_result r;

    mct_run_cli(&r, 20, "-v", "--net", "bridge", "--", "/bin/true", NULL);
    cr_assert_eq(r.status, 0, "minictr -v --net bridge: %d:\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, "RTM_NEWLINK") &&
                  strstr(r.err, "IFLA_INFO_KIND=\"bridge\"") &&
                  strstr(r.err, "VETH_INFO_PEER") &&
                  strstr(r.err, "IFLA_NET_NS_FD") &&
                  strstr(r.err, "IFLA_MASTER") &&
                  strstr(r.err, "RTM_NEWADDR") &&
                  strstr(r.err, "RTM_NEWROUTE") && strstr(r.err, "RTM_DELLINK"),
              "-v must show each rtnetlink message:\n%s", r.err);
    mct_result_free(&r);
}
