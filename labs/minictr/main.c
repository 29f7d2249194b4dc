/*
 * main.c - the minictr command line.
 *
 *   minictr run --rootfs DIR [--hostname NAME] [--read-only] [--userns]
 *               [--net none|host|bridge] [--bridge NAME] [--ip ADDR]
 *               [--memory SIZE] [--pids N] [--cpus N]
 *               [--cap-add CAPS] [--cap-drop CAPS] [--seccomp FILE]
 *               [--timeout SEC] [-v] [--] CMD [ARGS...]
 *   minictr run [options] [--store DIR] IMAGE [--] CMD [ARGS...]
 *   minictr image import|ls|rm ...           (lab 14, image_main.c)
 *   minictr create|start|state|kill|delete|exec|ps|list ..., and
 *   minictr run --bundle DIR ID              (lab 16, the OCI runtime CLI)
 *   minictr check
 *   minictr --help
 *
 * Exit status (minictr.h): the container's (its command's exit code, or
 * 128 + the signal that killed it); 125 minictr failed (bad command line,
 * a set-up step, a lab TODO not done yet); 126 the command cannot be
 * executed; 127 it is not in the rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cgroup.h"
#include "virtlab/ns.h"

static void usage(FILE *out)
{
    fputs("usage: minictr run --rootfs DIR [options] [--] CMD [ARGS...]\n"
          "       minictr run [options] IMAGE [--] CMD [ARGS...]\n"
          "       minictr image import|ls|rm ...   (minictr image --help)\n"
          "       minictr create|start|state|kill|delete|run|exec|ps|list "
          "...\n"
          "                                        (the OCI runtime: "
          "minictr create --help)\n"
          "       minictr check\n"
          "\n"
          "Run CMD in a container whose / is DIR: its own hostname, PID 1,\n"
          "IPC, mounts and network (loopback only), optionally its own\n"
          "user ids and resource limits. minictr exits with the container's\n"
          "status: CMD's exit code, or 128 + the signal that killed it;\n"
          "125 when minictr failed, 126 when CMD cannot be executed, 127\n"
          "when CMD is not in the rootfs.\n"
          "\n"
          "options of run:\n"
          "  --rootfs DIR     the container's root filesystem (required)\n"
          "  --hostname NAME  its hostname (default " MCT_DEFAULT_HOSTNAME ")\n"
          "  --read-only      mount its root read-only (lab 10)\n"
          "  --userns         a user namespace even as root: root inside is\n"
          "                   uid 100000 outside (lab 11; always one when\n"
          "                   not run as root)\n"
          "  --net MODE       none: a network namespace with only lo\n"
          "                   (default); host: share the host's network;\n"
          "                   bridge: also an eth0 on a bridge (lab 15)\n"
          "  --bridge NAME    the bridge of --net bridge (default " MCT_BRIDGE
          ")\n"
          "  --ip ADDR        eth0's address (default: the first free one)\n"
          "  --memory SIZE    memory limit: 64M, 1G ... (lab 12)\n"
          "  --pids N         at most N processes (lab 12)\n"
          "  --cpus N         CPU time, in CPUs: 0.5, 2 ... (lab 12)\n"
          "  --cap-add CAPS   capabilities to keep beyond the default set:\n"
          "                   NET_ADMIN,SYS_TIME ... or ALL (lab 13)\n"
          "  --cap-drop CAPS  capabilities to drop from it (or ALL)\n"
          "  --seccomp FILE   a seccomp profile in Docker's JSON schema, or\n"
          "                   unconfined (default: minictr's default)\n"
          "  --store DIR      the image store of IMAGE (lab 14)\n"
          "  --timeout SEC    kill the container after SEC seconds\n"
          "  -v, --verbose    say each step on stderr\n"
          "  -h, --help       this text\n"
          "\n"
          "minictr check: can this user run containers (rootless?), and\n"
          "which cgroups does the machine have.\n",
          out);
}

static int bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("minictr: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n  hint: see minictr --help\n", stderr);
    va_end(ap);
    return MCT_EXIT_FAILED;
}

static int parse_seconds(const char *arg, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (errno || end == arg || *end || n < 0 || n > INT_MAX)
        return -EINVAL;
    *out = (int)n;
    return 0;
}

/* The checks the command line allows before anything runs. */
static int check_rootfs(const char *rootfs)
{
    struct stat st;

    if (stat(rootfs, &st) < 0) {
        fprintf(stderr, "minictr: --rootfs %s: %s\n", rootfs, strerror(errno));
        if (errno == ENOENT)
            fputs("  hint: `make rootfs` builds a test rootfs in "
                  "build/rootfs\n",
                  stderr);
        return MCT_EXIT_FAILED;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "minictr: --rootfs %s: not a directory\n", rootfs);
        return MCT_EXIT_FAILED;
    }
    return 0;
}

/* Parse `run`'s options (argv[0] is "run"). 0, or an exit status. */
static int parse_run(int argc, char **argv, struct mct_options *opt)
{
    static const struct option longopts[] = {
        {"rootfs", required_argument, NULL, 'r'},
        {"hostname", required_argument, NULL, 'H'},
        {"read-only", no_argument, NULL, 'R'},
        {"userns", no_argument, NULL, 'U'},
        {"net", required_argument, NULL, 'n'},
        {"memory", required_argument, NULL, 'm'},
        {"pids", required_argument, NULL, 'p'},
        {"cpus", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"cap-add", required_argument, NULL, 'A'},
        {"cap-drop", required_argument, NULL, 'D'},
        {"seccomp", required_argument, NULL, 'S'},
        {"store", required_argument, NULL, 's'},
        {"bridge", required_argument, NULL, 'B'},
        {"ip", required_argument, NULL, 'I'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int ch;

    opterr = 0;
    optind = 1;
    /* "+": the first word that is not an option is the command. */
    while ((ch = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            opt->rootfs = optarg;
            break;
        case 'H':
            if (!*optarg || strlen(optarg) > HOST_NAME_MAX)
                return bad_usage("--hostname \"%s\": a hostname has 1 to 64 "
                                 "characters",
                                 optarg);
            opt->hostname = optarg;
            break;
        case 'R':
            opt->readonly = true;
            break;
        case 'U':
            opt->userns = true;
            break;
        case 'n':
            opt->host_net = !strcmp(optarg, "host");
            opt->bridge_net = !strcmp(optarg, "bridge");
            if (!opt->host_net && !opt->bridge_net && strcmp(optarg, "none"))
                return bad_usage("--net %s: choose none (a network "
                                 "namespace with only lo, the default), "
                                 "host or bridge",
                                 optarg);
            break;
        case 'A':
            opt->cap_add = optarg;
            break;
        case 'D':
            opt->cap_drop = optarg;
            break;
        case 'S':
            opt->seccomp = optarg;
            break;
        case 's':
            opt->store = optarg;
            break;
        case 'B':
            opt->bridge = optarg;
            break;
        case 'I':
            opt->ip = optarg;
            break;
        case 'm':
            opt->memory = optarg;
            break;
        case 'p':
            opt->pids = optarg;
            break;
        case 'c':
            opt->cpus = optarg;
            break;
        case 't':
            if (parse_seconds(optarg, &opt->timeout_sec) < 0)
                return bad_usage("--timeout takes whole seconds (0: none), "
                                 "not \"%s\"",
                                 optarg);
            break;
        case 'v':
            opt->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            return bad_usage("%s needs a value", argv[optind - 1]);
        default:
            return bad_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if ((opt->bridge || opt->ip) && !opt->bridge_net)
        return bad_usage("--bridge and --ip go with --net bridge");
    if (!opt->rootfs) {
        /* No --rootfs: the first word is an image (lab 14). */
        if (optind >= argc)
            return bad_usage("what should the container's / be? minictr "
                             "run --rootfs DIR -- CMD, or minictr run "
                             "IMAGE -- CMD (see minictr image ls)");
        opt->image = argv[optind++];
        if (opt->image[0] == '/' || opt->image[0] == '.')
            return bad_usage("--rootfs DIR is missing (\"%s\" is a path, "
                             "not an image name): minictr run --rootfs DIR "
                             "-- CMD, or minictr run IMAGE -- CMD",
                             opt->image);
        if (optind < argc && !strcmp(argv[optind], "--"))
            optind++;
    } else if (opt->store) {
        return bad_usage("--store goes with an IMAGE, not with --rootfs");
    }
    if (optind >= argc)
        return bad_usage("no command to run: minictr run --rootfs DIR -- "
                         "CMD [ARGS...]");
    opt->argv = argv + optind;
    return opt->rootfs ? check_rootfs(opt->rootfs) : 0;
}

/* `run --bundle DIR ID` (or -b) is the OCI runtime's run (lab 16). */
static bool oci_run(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-b") || !strcmp(argv[i], "--bundle") ||
            !strncmp(argv[i], "--bundle=", 9))
            return true;
    return false;
}

static int cmd_run(int argc, char **argv)
{
    struct mct_options opt = {0};
    struct minictr ct;
    int r;

    if (oci_run(argc, argv))
        return mct_oci_cmd(argc, argv);
    if ((r = parse_run(argc, argv, &opt)) != 0)
        return r;
    mct_init_struct(&ct, &opt);
    r = mct_run(&ct);
    mct_destroy(&ct);
    if (r < 0) {
        fprintf(stderr, "minictr: %s\n", vl_errmsg());
        return MCT_EXIT_FAILED;
    }
    return r;
}

/* minictr check: what this user and machine allow. */
static int cmd_check(void)
{
    struct vl_cgroup_info cg;
    bool root = geteuid() == 0;
    int userns = vl_userns_check();
    int ok = 1;

    printf("user: uid %u%s\n", getuid(), root ? " (root)" : "");
    if (userns == 0) {
        printf("user namespaces: yes, this user can create them%s\n",
               root ? "" : ": rootless containers work");
    } else {
        printf("user namespaces: no: %s\n", vl_errmsg());
        if (!root)
            ok = 0;
    }
    if (root)
        printf("containers: yes, as root (--userns for a user namespace)\n");
    else
        printf("containers: %s\n",
               ok ? "yes, rootless (a user namespace maps you to root)"
                  : "no: minictr needs root or user namespaces");

    vl_err_clear();
    if (vl_cgroup_detect(&cg) < 0) {
        printf("cgroups: not found: %s\n", vl_errmsg());
        printf("limits: --memory, --pids and --cpus will not work\n");
    } else {
        printf("cgroups: v%d%s\n", cg.version,
               cg.hybrid ? " (hybrid: v1 controllers, and a cgroup2 tree)"
               : cg.version == 2 ? " (unified)"
                                 : "");
        if (cg.v2_mount[0])
            printf("cgroup2: mounted at %s, our cgroup %s%s%s\n", cg.v2_mount,
                   cg.v2_path, cg.hybrid ? ", its controllers: " : "",
                   cg.hybrid
                       ? (cg.v2_controllers[0] ? cg.v2_controllers : "none")
                       : "");
        printf("controllers: %s\n",
               cg.controllers[0] ? cg.controllers : "none");
        if (cg.writable)
            printf("limits: yes, this user may create cgroups\n");
        else
            printf("limits: no, this user may not create cgroups: "
                   "--memory, --pids and --cpus will fail\n"
                   "  hint: run as root, or in a delegated cgroup: "
                   "systemd-run --user --scope -p Delegate=yes minictr ...\n");
    }
    return ok ? 0 : 1;
}

/* The OCI runtime's commands besides run (lab 16, oci.c). */
static const char *const oci_commands[] = {"create", "start", "state", "kill",
                                           "delete", "exec",  "ps",    "list"};

int main(int argc, char **argv)
{
    /* Keep our messages and the container's output in order. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* `minictr run -v ... 2>&1 | head` must not kill minictr before it
     * removes the container's cgroup: a write to a closed pipe fails with
     * EPIPE instead (the command gets the default back: mct_exec_command). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return MCT_EXIT_FAILED;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    /* Lab 16: runc's global options (--root DIR ...) come before the
     * command: `minictr --root DIR create ...` is the OCI runtime's. */
    if (argv[1][0] == '-')
        return mct_oci_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return cmd_check();
    if (!strcmp(argv[1], "image"))
        return mct_image_cmd(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(oci_commands) / sizeof(oci_commands[0]); i++)
        if (!strcmp(argv[1], oci_commands[i]))
            return mct_oci_cmd(argc - 1, argv + 1);
    return bad_usage("unknown command \"%s\": minictr run, image, check, "
                     "or one of the OCI runtime's (create, start, state, "
                     "kill, delete, exec, ps, list)",
                     argv[1]);
}
