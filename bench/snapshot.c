/*
 * snapshot.c - what lab 08's snapshots and migrations cost, for a 64 MiB
 * guest.
 *
 *  - size: the guest (mig_dirty, stopped after a few exits) has 16 MiB
 *    of data written into its RAM besides its own few pages; the rest is
 *    zero. The snapshot file should hold the data and little more: its
 *    size as a fraction of RAM, and against the bytes that are not zero.
 *  - save: mvm_snap_save() (vCPU state, zero pages skipped, CRC-32 of
 *    every section) against a plain write() of as many bytes as the file
 *    has, to a file in the same folder.
 *  - restore: mvm_snap_load_file() into a new VM (KVM, RAM, vCPU, CRCs
 *    checked, pages copied in) against a plain read() of the file.
 *  - migration: mig_dirty in 64 MiB of RAM migrated from one process to
 *    another over a Unix socket while it writes 1 MiB again and again;
 *    the downtime (vCPUs stopped on the source until the destination
 *    runs them) as a fraction of the whole migration.
 *
 * Save and restore alternate with their baselines, ROUNDS times, and
 * each compares medians; the migration runs ROUNDS times too. Goals:
 * file <= 1.02 x the guest's pages that are not zero + 64 KiB; save
 * within 4 x a plain write() of the file's bytes (the zero-page scan of
 * all 64 MiB, the CRC-32C of every section and the vCPU state are the
 * difference); restore within 4 x a plain read() of the file into memory
 * not touched yet, as the new guest's RAM is (KVM's set-up, the CRCs and
 * a copy per page are the difference); downtime <= 0.5 of the migration
 * (pre-copy does most of the copying while the guest runs).
 *
 * Exit status: 0 within the goals, 1 over one, 2 on an error, 77 when
 * /dev/kvm cannot be used here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minivm.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"

#include "common/ratio.h"

#ifndef BENCH_GUEST_DIR
#define BENCH_GUEST_DIR "build/bench/guest"
#endif

#define RAM       (64u << 20)
#define DATA      (16u << 20) /* written by the benchmark into the RAM */
#define DATA_AT   (32u << 20) /* ... here */
#define ROUNDS    5
#define GOAL_SAVE 4.0
#define GOAL_LOAD 4.0
#define GOAL_DOWN 0.5

static char dir[] = "/tmp/bench-snapshot-XXXXXX";

static int fail(const char *what)
{
    fprintf(stderr, "snapshot: %s: %s\n", what, vl_errmsg());
    return RATIO_EXIT_ERROR;
}

static int boot(struct minivm *vm, const char *guest, FILE *console)
{
    struct mvm_options opt;
    char path[512];
    void *image;
    size_t len;
    int r;

    mvm_options_default(&opt);
    opt.mode = MVM_MODE_LONG;
    opt.mem_size = RAM;
    opt.console = console;
    opt.timeout_s = 30;
    mvm_init(vm, &opt);
    snprintf(path, sizeof(path), "%s/%s", BENCH_GUEST_DIR, guest);
    if ((r = mvm_read_file(path, &image, &len)) < 0)
        return r;
    r = mvm_boot_flat(vm, image, len);
    free(image);
    return r;
}

/* write() or read() `len` bytes to or from path, in 1 MiB calls. */
static int plain_io(const char *path, void *buf, size_t len, bool writing)
{
    int fd = writing ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                     : open(path, O_RDONLY);
    size_t done = 0;

    if (fd < 0)
        return vl_err(errno, "open %s", path);
    while (done < len) {
        size_t n = len - done < (1u << 20) ? len - done : (1u << 20);
        ssize_t r = writing ? write(fd, (char *)buf + done, n)
                            : read(fd, (char *)buf + done, n);

        if (r <= 0) {
            close(fd);
            return vl_err(r < 0 ? errno : EIO, "plain I/O on %s", path);
        }
        done += (size_t)r;
    }
    close(fd);
    return 0;
}

/* The source or the destination of a migration, in a child process. */
static int child(const char *addr, bool source, const char *err_path)
{
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int devnull = open("/dev/null", O_RDWR);
    struct minivm vm;
    int r;

    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(err, 2);
    if (!source) {
        char *argv[] = {"receive",   "--listen", (char *)addr,
                        "--timeout", "30",       NULL};

        return mvm_main_snap(5, argv);
    }
    if ((r = boot(&vm, "mig_dirty.bin", stdout)) < 0) {
        fprintf(stderr, "boot: %s\n", vl_errmsg());
        return 2;
    }
    vm.opt.snap.migrate_to = addr;
    vm.opt.snap.migrate_after = 5;
    return mvm_snap_finish(&vm, mvm_snap_run(&vm));
}

/* One migration: its downtime and total time, from the source's report. */
static int migrate_once(double *down_ms, double *total_ms)
{
    char addr[128], err_path[128], *text = NULL, *line;
    pid_t src, dst;
    int st_src, st_dst;
    size_t len = 0;
    FILE *f;

    snprintf(addr, sizeof(addr), "unix:%s/mig.sock", dir);
    snprintf(err_path, sizeof(err_path), "%s/src.err", dir);
    fflush(NULL);
    if ((dst = fork()) == 0) {
        char p[128];

        snprintf(p, sizeof(p), "%s/dst.err", dir);
        _exit(child(addr, false, p));
    }
    if ((src = fork()) == 0)
        _exit(child(addr, true, err_path));
    waitpid(src, &st_src, 0);
    waitpid(dst, &st_dst, 0);
    if (!(f = fopen(err_path, "r")))
        return vl_err(errno, "%s", err_path);
    while (getline(&text, &len, f) > 0)
        if ((line = strstr(text, "KiB in all, ")) &&
            sscanf(line, "KiB in all, %lf ms in all, downtime %lf ms", total_ms,
                   down_ms) == 2)
            break;
    fclose(f);
    free(text);
    if (!WIFEXITED(st_src) || WEXITSTATUS(st_src) || !WIFEXITED(st_dst) ||
        WEXITSTATUS(st_dst) || *total_ms <= 0)
        return vl_err_plain(EIO,
                            "a migration failed: see %s/src.err and "
                            "dst.err",
                            dir);
    return 0;
}

int main(void)
{
    double save[ROUNDS], write_ns[ROUNDS], load[ROUNDS], read_ns[ROUNDS];
    double down[ROUNDS], total[ROUNDS], ratio_down[ROUNDS];
    double r_save, r_load, r_down, t0;
    char snap[128], plain[128];
    struct stat sb;
    struct minivm vm;
    FILE *quiet = fopen("/dev/null", "w");
    uint64_t bytes = 0, nonzero = 0, x = 88172645463325252ULL;
    void *buf, *fresh;
    bool ok;
    int r;

    if (vl_kvm_open(&(struct vl_kvm){0}) < 0) {
        ratio_skip_no_kvm();
        return RATIO_EXIT_SKIP;
    }
    if (!mkdtemp(dir))
        return fail("mkdtemp");
    snprintf(snap, sizeof(snap), "%s/vm.snap", dir);
    snprintf(plain, sizeof(plain), "%s/plain", dir);

    /* The guest: a few exits in, then 16 MiB of data in its RAM. */
    if (boot(&vm, "mig_dirty.bin", quiet) < 0)
        return fail("booting mig_dirty");
    vm.opt.max_exits = 3;
    if (mvm_run(&vm) != -ELOOP)
        return fail("running mig_dirty");
    for (uint32_t i = 0; i < DATA / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(vm.mem + DATA_AT + 8 * i, &x, 8);
    }
    mvm_smp_adopt_bsp(&vm);
    for (size_t off = 0; off < RAM; off += MVM_PAGE_SIZE) {
        const uint8_t *p = vm.mem + off;

        nonzero += (p[0] || memcmp(p, p + 1, MVM_PAGE_SIZE - 1)) ? 1 : 0;
    }

    for (int i = 0; i < ROUNDS; i++) {
        struct minivm b;

        t0 = ratio_now_ns();
        if ((r = mvm_snap_save(&vm, snap, &bytes)) < 0)
            return fail("saving");
        save[i] = ratio_now_ns() - t0;
        if (!(buf = malloc(bytes)))
            return fail("malloc");
        memset(buf, 0x5a, bytes);
        t0 = ratio_now_ns();
        if (plain_io(plain, buf, bytes, true) < 0)
            return fail("write()");
        write_ns[i] = ratio_now_ns() - t0;

        mvm_init(&b, &vm.opt);
        b.opt.mem_size = 0;
        t0 = ratio_now_ns();
        if (mvm_snap_load_file(&b, snap) < 0)
            return fail("restoring");
        load[i] = ratio_now_ns() - t0;
        mvm_destroy(&b);
        /* Into memory not touched yet, as the restored guest's RAM is. */
        fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED)
            return fail("mmap");
        t0 = ratio_now_ns();
        if (plain_io(snap, fresh, bytes, false) < 0)
            return fail("read()");
        read_ns[i] = ratio_now_ns() - t0;
        munmap(fresh, bytes);
        free(buf);
    }
    mvm_destroy(&vm);
    stat(snap, &sb);
    r_save = ratio_median(save, ROUNDS) / ratio_median(write_ns, ROUNDS);
    r_load = ratio_median(load, ROUNDS) / ratio_median(read_ns, ROUNDS);

    for (int i = 0; i < ROUNDS; i++) {
        if (migrate_once(&down[i], &total[i]) < 0)
            return fail("migrating");
        ratio_down[i] = down[i] / total[i];
    }
    r_down = ratio_median(ratio_down, ROUNDS);

    printf("snapshot size: %.1f MiB for %u MiB of RAM (%.3f of it), whose "
           "pages that are not zero hold %.1f MiB: %.3f x those (goal <= "
           "1.02 x + 64 KiB): %s\n",
           (double)sb.st_size / (1 << 20), RAM >> 20, (double)sb.st_size / RAM,
           nonzero * 4096.0 / (1 << 20),
           (double)sb.st_size / (nonzero * 4096.0),
           (double)sb.st_size <= nonzero * 4096 * 1.02 + (64u << 10)
               ? "OK"
               : "OVER GOAL");
    ok = (double)sb.st_size <= nonzero * 4096 * 1.02 + (64u << 10);
    printf("save: %.1f ms, write() of the same bytes %.1f ms: ratio %.2f "
           "(goal <= %.1f): %s\n",
           ratio_median(save, ROUNDS) / 1e6,
           ratio_median(write_ns, ROUNDS) / 1e6, r_save, GOAL_SAVE,
           r_save <= GOAL_SAVE ? "OK" : "OVER GOAL");
    printf("restore: %.1f ms, read() of the file %.1f ms: ratio %.2f "
           "(goal <= %.1f): %s\n",
           ratio_median(load, ROUNDS) / 1e6,
           ratio_median(read_ns, ROUNDS) / 1e6, r_load, GOAL_LOAD,
           r_load <= GOAL_LOAD ? "OK" : "OVER GOAL");
    printf("migration: downtime %.2f ms of %.1f ms in all (medians of %d): "
           "ratio %.3f (goal <= %.1f): %s\n",
           ratio_median(down, ROUNDS), ratio_median(total, ROUNDS), ROUNDS,
           r_down, GOAL_DOWN, r_down <= GOAL_DOWN ? "OK" : "OVER GOAL");
    ok =
        ok && r_save <= GOAL_SAVE && r_load <= GOAL_LOAD && r_down <= GOAL_DOWN;
    for (const char *const *f =
             (const char *const[]){"vm.snap", "plain", "src.err", "dst.err",
                                   NULL};
         *f; f++) {
        char p[160];

        snprintf(p, sizeof(p), "%s/%s", dir, *f);
        unlink(p);
    }
    rmdir(dir);
    return ok ? 0 : RATIO_EXIT_OVER;
}
