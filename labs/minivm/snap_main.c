/*
 * snap_main.c - minivm's commands for lab 08: `run` with --smp,
 * --snapshot/--save-after and --migrate-to, and the commands `restore`,
 * `receive` and `inspect`. The migration's transport (a Unix or TCP
 * socket) lives here too. None of this is a lab; the concepts are in
 * labs/08-snapshots/{snapshot,migrate,smp}.c.
 *
 *   minivm run GUEST.bin ... --snapshot FILE --save-after N
 *       run until N exits, then save the whole VM to FILE and stop
 *   minivm restore FILE [--timeout SEC] [--max-exits N] [--trace]
 *                       [--mem SIZE] [--snapshot FILE2 --save-after N]
 *       a new minivm process continues the saved VM
 *   minivm receive --listen ADDR [--timeout SEC] [--max-exits N] ...
 *       wait for a migration on ADDR (unix:PATH or HOST:PORT), then run
 *       the guest that arrives
 *   minivm run GUEST.bin ... --migrate-to ADDR [--migrate-after N]
 *                            [--max-rounds K] [--bandwidth MIB/S]
 *       run, and after N exits migrate the running guest to ADDR
 *   minivm inspect FILE
 *       list a snapshot's sections
 */
#define _GNU_SOURCE
#include "minivm.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "virtlab/cleanup.h"

enum { EXIT_GUEST = 1, EXIT_USAGE = 2, EXIT_TODO = 3 };

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int mvm_snap_option(struct mvm_options *opt, int which, const char *arg)
{
    struct mvm_snap_options *o = &opt->snap;
    uint64_t n;
    int r = 0;

    switch (which) {
    case MVM_OPT_SMP:
        if ((r = mvm_parse_count("--smp", arg, &n)) < 0)
            return r;
        if (n < 1 || n > MVM_MAX_VCPUS)
            return vl_err_plain(EINVAL, "--smp %s: 1 to %d vCPUs", arg,
                                MVM_MAX_VCPUS);
        o->smp = (unsigned)n;
        /* The APs wait for INIT and SIPI in their local APICs: SMP needs
         * the in-kernel irqchip (lab 06), made before the first vCPU. */
        if (n > 1)
            opt->irqchip = true;
        return 0;
    case MVM_OPT_SNAPSHOT:
        o->snapshot = arg;
        return 0;
    case MVM_OPT_SAVE_AFTER:
        return mvm_parse_count("--save-after", arg, &o->save_after);
    case MVM_OPT_MIGRATE_TO:
        o->migrate_to = arg;
        return 0;
    case MVM_OPT_MIGRATE_AFTER:
        return mvm_parse_count("--migrate-after", arg, &o->migrate_after);
    case MVM_OPT_MAX_ROUNDS:
        if ((r = mvm_parse_count("--max-rounds", arg, &n)) < 0)
            return r;
        if (n > MVM_MIG_ROUNDS_KEPT - 1)
            return vl_err_plain(EINVAL, "--max-rounds %s: %d at most", arg,
                                MVM_MIG_ROUNDS_KEPT - 1);
        o->max_rounds = (unsigned)n;
        o->max_rounds_set = true;
        return 0;
    case MVM_OPT_BANDWIDTH:
        return mvm_parse_count("--bandwidth", arg, &o->bandwidth);
    default:
        return vl_err_plain(EINVAL, "unknown lab 08 option %d", which);
    }
}

/* ---- the transport ---------------------------------------------------- */

/* "unix:PATH" (or a PATH with a '/'), or "HOST:PORT". */
static int make_addr(const char *addr, struct sockaddr_storage *ss,
                     socklen_t *len, char *desc, size_t desclen)
{
    const char *path = NULL;

    if (!strncmp(addr, "unix:", 5))
        path = addr + 5;
    else if (strchr(addr, '/'))
        path = addr;
    if (path) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;

        if (strlen(path) >= sizeof(un->sun_path) || !*path)
            return vl_err_plain(EINVAL,
                                "unix socket path \"%s\": empty or "
                                "too long",
                                path);
        memset(un, 0, sizeof(*un));
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        *len = sizeof(*un);
        snprintf(desc, desclen, "unix:%s", path);
        return 0;
    } else {
        const char *colon = strrchr(addr, ':');
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
        char host[256];
        int e;

        if (!colon || (size_t)(colon - addr) >= sizeof(host))
            return vl_err_plain(EINVAL,
                                "\"%s\" is not an address: use unix:PATH or "
                                "HOST:PORT",
                                addr);
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        e = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
        if (e)
            return vl_err_plain(EINVAL, "%s: %s", addr, gai_strerror(e));
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *len = ai->ai_addrlen;
        freeaddrinfo(ai);
        snprintf(desc, desclen, "%s", addr);
        return 0;
    }
}

/* Connect, retrying while the destination is not listening yet. */
static int mig_connect(const char *addr, unsigned timeout_s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char desc[300];
    uint64_t give_up =
        now_ns() + (uint64_t)(timeout_s ? timeout_s : 10) * 1000000000ULL;
    int r;

    if ((r = make_addr(addr, &ss, &len, desc, sizeof(desc))) < 0)
        return r;
    for (;;) {
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
            return vl_err(errno, "socket");
        if (connect(fd, (struct sockaddr *)&ss, len) == 0)
            return fd;
        r = errno;
        close(fd);
        if ((r != ENOENT && r != ECONNREFUSED) || now_ns() > give_up)
            return vl_err(r,
                          "connecting to %s (is `minivm receive --listen "
                          "%s` running?)",
                          desc, addr);
        usleep(10000);
    }
}

static int mig_listen(const char *addr, unsigned timeout_s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char desc[300];
    struct pollfd p;
    int one = 1, fd, conn, r;

    if ((r = make_addr(addr, &ss, &len, desc, sizeof(desc))) < 0)
        return r;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vl_err(errno, "socket");
    if (ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&ss)->sun_path);
    else
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
        r = vl_err(errno, "listening on %s", desc);
        close(fd);
        return r;
    }
    fprintf(stderr, "minivm: waiting for a migration on %s\n", desc);
    p = (struct pollfd){.fd = fd, .events = POLLIN};
    r = poll(&p, 1, timeout_s ? (int)timeout_s * 1000 : -1);
    if (r <= 0) {
        r = r == 0 ? vl_err_plain(ETIMEDOUT,
                                  "no migration arrived on %s within %u s "
                                  "(--timeout)",
                                  desc, timeout_s)
                   : vl_err(errno, "waiting on %s", desc);
        close(fd);
        return r;
    }
    conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    r = conn < 0 ? vl_err(errno, "accepting on %s", desc) : conn;
    close(fd);
    if (ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&ss)->sun_path);
    return r;
}

/* ---- running --------------------------------------------------------- */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void mig_report(const struct mvm_migration *m, FILE *out)
{
    uint64_t resent = 0;

    fprintf(out,
            "minivm: migration: %u round%s of pre-copy, then "
            "stop-and-copy\n",
            m->nrounds, m->nrounds == 1 ? "" : "s");
    for (unsigned i = 0; i < m->nrounds && i < MVM_MIG_ROUNDS_KEPT; i++) {
        const struct mvm_round *r = &m->round[i];

        fprintf(out,
                "minivm:   round %u: %llu pages (%llu zero), %llu KiB in "
                "%.1f ms%s\n",
                i, (unsigned long long)r->pages,
                (unsigned long long)r->zero_pages,
                (unsigned long long)(r->bytes >> 10), ms(r->ns),
                i == 0 ? " (all memory)" : " (dirtied meanwhile)");
        if (i)
            resent += r->pages;
    }
    fprintf(out,
            "minivm:   stop-and-copy: %llu pages (%llu zero), %llu KiB of "
            "vCPU and device state\n",
            (unsigned long long)m->final.pages,
            (unsigned long long)m->final.zero_pages,
            (unsigned long long)(m->state_bytes >> 10));
    fprintf(out,
            "minivm: migration: %llu pages resent after round 0, %llu KiB "
            "in all, %.1f ms in all, downtime %.2f ms\n",
            (unsigned long long)(resent + m->final.pages),
            (unsigned long long)(m->total_bytes >> 10),
            ms(m->end_ns - m->start_ns), ms(m->end_ns - m->stop_ns));
}

/* The destination says "resumed" with one byte. */
#define MIG_ACK 'R'

/* Migrate the running VM to addr: the vCPU threads run meanwhile. On
 * failure before the destination took over, the guest goes on here. */
static int migrate(struct minivm *vm)
{
    struct mvm_snap_options *o = &vm->opt.snap;
    struct mvm_migration mig = {
        .max_rounds = o->max_rounds_set ? o->max_rounds : MVM_MIG_MAX_ROUNDS,
        .stop_pages = MVM_MIG_STOP_PAGES,
    };
    struct mvm_snap_out out = {.fd = -1};
    struct pollfd p;
    char ack = 0;
    int fd, r;

    fd = mig_connect(o->migrate_to, vm->opt.timeout_s);
    if (fd < 0)
        return fd;
    r = mvm_snap_out_init(&out, fd);
    out.bw_bytes_per_s = o->bandwidth << 20;
    mig.start_ns = now_ns();
    if (r == 0)
        r = mvm_snap_put_info(vm, &out);
    if (r == 0)
        r = mvm_precopy(vm, &out, &mig);
    mig.total_bytes = out.bytes;
    mvm_snap_out_free(&out);
    if (r == 0) {
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 30000) != 1 || read(fd, &ack, 1) != 1 || ack != MIG_ACK)
            r = vl_err_plain(EPROTO, "the destination never said it resumed "
                                     "the guest");
    }
    mig.end_ns = now_ns();
    close(fd);
    if (r < 0)
        return vl_err_ctx(r, "migrating to %s", o->migrate_to);
    mig_report(&mig, stderr);
    return 0;
}

int mvm_snap_check(const struct mvm_options *opt)
{
    const struct mvm_snap_options *o = &opt->snap;

    if (!o->snapshot != !o->save_after)
        return vl_err_plain(EINVAL, "--snapshot FILE and --save-after N go "
                                    "together: save the VM after N exits");
    if (o->snapshot && o->migrate_to)
        return vl_err_plain(EINVAL, "--snapshot or --migrate-to: one at a "
                                    "time");
    if ((o->smp > 1 || o->migrate_to) && opt->timer)
        return vl_err_plain(EINVAL,
                            "--timer runs one vCPU in lab 06's own loop: "
                            "with --smp or --migrate-to use --irqchip, "
                            "whose 8254 is KVM's");
    return 0;
}

/* The run of lab 08: vCPU threads (SMP, migration), or the lab 01 loop
 * stopped at --save-after. */
int mvm_snap_run(struct minivm *vm)
{
    struct mvm_snap_options *o = &vm->opt.snap;
    int n = o->smp > 1 ? (int)o->smp : 1;
    bool threads = n > 1 || o->migrate_to;
    uint64_t bytes = 0;
    int r, st;

    if (!threads && !o->snapshot && !o->save_after)
        return mvm_run_guarded(vm);
    if ((r = mvm_snap_check(&vm->opt)) < 0)
        return r;
    if ((r = mvm_smp_setup(vm, n)) < 0)
        return r;

    if (!threads) {
        /* One vCPU: lab 01's run loop (or lab 06's) stops at the exit
         * limit, then everything is saved. */
        uint64_t limit = vm->opt.max_exits;

        if (!limit || limit > o->save_after)
            vm->opt.max_exits = o->save_after;
        r = mvm_run_guarded(vm);
        vm->opt.max_exits = limit;
        if (r != -ELOOP || vm->exits != o->save_after || limit == o->save_after)
            return r; /* done before N exits, or a real error */
        vl_err_clear();
    } else {
        uint64_t at = o->snapshot ? o->save_after : o->migrate_after;

        vm->smp.pause_at = o->snapshot ? o->save_after : 0;
        if ((r = mvm_smp_start(vm)) < 0)
            return r;
        /* Until the exit that starts the save or the migration; with
         * neither, until the guest stops. */
        st = (at || !(o->snapshot || o->migrate_to))
                 ? mvm_smp_wait(vm, at, vm->opt.timeout_s)
                 : 0;
        if (st != 0) /* the guest stopped first, or the timeout */
            return st < 0 ? (mvm_smp_join(vm), st) : mvm_smp_join(vm);
        if (o->migrate_to) {
            r = migrate(vm);
            if (r < 0) {
                fprintf(stderr, "minivm: %s; the guest goes on here\n",
                        vl_errmsg());
                mvm_smp_resume(vm);
                st = mvm_smp_wait(vm, 0, vm->opt.timeout_s);
                r = mvm_smp_join(vm);
                return st < 0 ? st : r;
            }
            mvm_smp_join(vm);
            vm->smp.moved = true;
            return 0;
        }
        if ((r = mvm_smp_pause(vm)) < 0) {
            st = mvm_smp_join(vm);
            return st < 0 ? st : r;
        }
    }
    /* Every vCPU is out of KVM_RUN: save. */
    r = mvm_snap_save(vm, o->snapshot, &bytes);
    if (threads)
        mvm_smp_join(vm);
    if (r < 0)
        return r;
    fprintf(stderr,
            "minivm: saved the VM after %llu exits to %s: %llu KiB for %zu "
            "KiB of RAM\n",
            (unsigned long long)vm->exits, o->snapshot,
            (unsigned long long)(bytes >> 10), vm->mem_size >> 10);
    vm->smp.moved = true;
    return 0;
}

/* ---- restore, receive, inspect ---------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: minivm restore FILE [options]\n"
          "       minivm receive --listen ADDR [options]\n"
          "       minivm inspect FILE\n"
          "\n"
          "Lab 08. restore: a new minivm continues the VM that\n"
          "`minivm run ... --snapshot FILE --save-after N` saved; its\n"
          "output goes on where the first one stopped. receive: wait on\n"
          "ADDR (unix:PATH or HOST:PORT) for a VM that `minivm run ...\n"
          "--migrate-to ADDR` migrates while it runs, then run it.\n"
          "inspect: list the sections of a snapshot.\n"
          "\n"
          "options of restore and receive:\n"
          "  --timeout SEC    stop the guest after SEC seconds (default 10;\n"
          "                   receive also waits that long for a sender)\n"
          "  --max-exits N    stop after N exits in all (counting those\n"
          "                   before the snapshot)\n"
          "  --mem SIZE       refuse a VM whose RAM is not SIZE\n"
          "  --trace          print every exit, decoded, on stderr\n"
          "  --snapshot FILE --save-after N\n"
          "                   save again, after N exits in all\n"
          "  -h, --help       this text\n",
          out);
}

static int fail(int status, const char *what)
{
    return mvm_fail("minivm", status, what);
}

int mvm_snap_finish(struct minivm *vm, int r)
{
    if (r == -ENOSYS) {
        mvm_destroy(vm);
        return fail(EXIT_TODO, "stopped");
    }
    if (r < 0) {
        fail(EXIT_GUEST, "guest stopped");
        mvm_destroy(vm);
        return EXIT_GUEST;
    }
    if (vm->smp.moved) {
        mvm_destroy(vm);
        return 0;
    }
    if (vm->exited)
        fprintf(stderr,
                "minivm: guest exited with status %d after %llu exit%s\n",
                vm->exit_status, (unsigned long long)vm->exits,
                vm->exits == 1 ? "" : "s");
    else
        fprintf(stderr, "minivm: guest halted after %llu exit%s\n",
                (unsigned long long)vm->exits, vm->exits == 1 ? "" : "s");
    mvm_destroy(vm);
    return vm->exited ? vm->exit_status : 0;
}

bool mvm_snap_command(const char *name)
{
    return !strcmp(name, "restore") || !strcmp(name, "receive") ||
           !strcmp(name, "inspect");
}

int mvm_main_snap(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"timeout", required_argument, NULL, 't'},
        {"max-exits", required_argument, NULL, 'x'},
        {"mem", required_argument, NULL, 'm'},
        {"trace", no_argument, NULL, 'T'},
        {"snapshot", required_argument, NULL, MVM_OPT_SNAPSHOT},
        {"save-after", required_argument, NULL, MVM_OPT_SAVE_AFTER},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *cmd = argv[0], *listen_on = NULL, *file = NULL;
    struct mvm_options opt;
    struct minivm vm;
    uint64_t n;
    int ch, r = 0, fd;

    mvm_options_default(&opt);
    opt.timeout_s = 10;
    opt.mem_size = 0; /* the snapshot says */
    opt.input_fd = STDIN_FILENO;
    setvbuf(stdout, NULL, _IONBF, 0);
    optind = 1;
    while (r == 0 &&
           (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            listen_on = optarg;
            break;
        case 't':
            if ((r = mvm_parse_count("--timeout", optarg, &n)) == 0)
                opt.timeout_s = (unsigned)n;
            break;
        case 'x':
            r = mvm_parse_count("--max-exits", optarg, &opt.max_exits);
            break;
        case 'm':
            if ((r = mvm_parse_size(optarg, &opt.mem_size)) < 0)
                r = vl_err_ctx(r, "--mem");
            break;
        case 'T':
            opt.trace = true;
            break;
        case MVM_OPT_SNAPSHOT:
        case MVM_OPT_SAVE_AFTER:
            r = mvm_snap_option(&opt, ch, optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            r = vl_err_plain(EINVAL, "see minivm %s --help", cmd);
        }
    }
    if (r == 0 && strcmp(cmd, "receive")) {
        if (optind + 1 != argc)
            r = vl_err_plain(EINVAL, "minivm %s takes one snapshot file", cmd);
        else
            file = argv[optind];
    }
    if (r == 0 && !strcmp(cmd, "receive") && (!listen_on || optind != argc))
        r = vl_err_plain(EINVAL, "minivm receive takes --listen ADDR");
    if (r < 0) {
        usage(stderr);
        return fail(EXIT_USAGE, "bad command line");
    }
    if (!strcmp(cmd, "inspect"))
        return mvm_snap_inspect(file, stdout) < 0
                   ? fail(EXIT_USAGE, "cannot read the snapshot")
                   : 0;

    mvm_init(&vm, &opt);
    if (listen_on) {
        fd = mig_listen(listen_on, opt.timeout_s);
        if (fd < 0)
            return fail(EXIT_USAGE, "no migration");
        r = mvm_snap_load(&vm, fd, "the migration stream");
        if (r == 0 && write(fd, &(char){MIG_ACK}, 1) != 1)
            r = vl_err(errno, "telling the source the guest resumed");
        close(fd);
    } else {
        r = mvm_snap_load_file(&vm, file);
    }
    if (r == -ENOSYS) {
        mvm_destroy(&vm);
        return fail(EXIT_TODO, "stopped");
    }
    if (r < 0) {
        mvm_destroy(&vm);
        return fail(EXIT_USAGE, listen_on ? "cannot take the migrated VM"
                                          : "cannot restore the snapshot");
    }
    if (listen_on)
        fprintf(stderr,
                "minivm: the migrated guest resumes here after %llu "
                "exits\n",
                (unsigned long long)vm.exits);
    vm.opt.snap.smp = (unsigned)vm.smp.ncpus;
    return mvm_snap_finish(&vm, mvm_snap_run(&vm));
}
