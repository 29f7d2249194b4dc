/*
 * snap_test.h - what lab 08's tests share: minivm in a process of its own
 * (a snapshot restored by a NEW process, a migration between two),
 * reading a snapshot stream back, and booting guests with the in-kernel
 * irqchip.
 */
#ifndef LAB08_SNAP_TEST_H
#define LAB08_SNAP_TEST_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mvm_test.h"

static inline char *test_dir_name(void)
{
    static char dir[64];

    return dir;
}

/* A folder of this test's own, which snap_teardown() removes. */
static inline const char *test_dir(void)
{
    char *dir = test_dir_name();

    if (!dir[0]) {
        snprintf(dir, 64, "/tmp/vlab08-XXXXXX");
        cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    }
    return dir;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag,
                           struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The suites' .fini: mvm_test.h's teardown(), then test_dir() goes. */
static inline void snap_teardown(void)
{
    teardown();
    if (test_dir_name()[0])
        nftw(test_dir_name(), rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static inline char *test_path(const char *name)
{
    char *p = NULL;

    cr_assert(asprintf(&p, "%s/%s", test_dir(), name) > 0);
    return p;
}

static inline char *guest_path(const char *name)
{
    char *p = NULL;

    cr_assert(asprintf(&p, "%s/%s", VL_GUEST_DIR, name) > 0);
    return p;
}

/* A whole file, NUL-terminated ("" when it does not exist). */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f) {
        if (len)
            *len = 0;
        return strdup("");
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static inline void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/*
 * A minivm process: a child of the test, forked, that runs minivm's
 * driver as `minivm run ...`, `minivm restore ...` or `minivm receive
 * ...` would, with its stdin, stdout and stderr on files of test_dir().
 * It creates its own VM: a snapshot saved by one such process and
 * restored by another crosses a process boundary, as between two minivm
 * processes, without the cost of building the minivm binary for each
 * graded run.
 */
struct proc {
    pid_t pid;
    char *out_path, *err_path;
    char *out, *err; /* after proc_wait() */
    int status;      /* exit status, or 128 + signal */
};

/* What `minivm run GUEST.bin --mode long ...` is given. */
struct run_args {
    const char *guest;      /* a guest of VL_GUEST_DIR */
    unsigned smp;           /* --smp */
    const char *snapshot;   /* --snapshot */
    uint64_t save_after;    /* --save-after */
    const char *migrate_to; /* --migrate-to */
    uint64_t migrate_after; /* --migrate-after */
    int max_rounds;         /* --max-rounds (-1: not given) */
    uint64_t bandwidth;     /* --bandwidth */
    bool trace;             /* --trace */
};

/* `minivm run`, in the child: main.c's steps, with lab 08's run. */
static inline int child_run(const void *p)
{
    const struct run_args *a = p;
    struct mvm_options opt;
    struct minivm v;
    char path[512];
    void *image;
    size_t len;
    int r;

    mvm_options_default(&opt);
    opt.mode = MVM_MODE_LONG;
    opt.timeout_s = 20;
    opt.input_fd = STDIN_FILENO;
    opt.trace = a->trace;
    opt.snap = (struct mvm_snap_options){
        .smp = a->smp,
        .snapshot = a->snapshot,
        .save_after = a->save_after,
        .migrate_to = a->migrate_to,
        .migrate_after = a->migrate_after,
        .max_rounds = a->max_rounds > 0 ? (unsigned)a->max_rounds : 0,
        .max_rounds_set = a->max_rounds >= 0,
        .bandwidth = a->bandwidth,
    };
    opt.irqchip = a->smp > 1; /* as --smp does */
    snprintf(path, sizeof(path), "%s/%s", VL_GUEST_DIR, a->guest);
    if (mvm_read_file(path, &image, &len) < 0) {
        fprintf(stderr, "minivm: %s\n", vl_errmsg());
        return 2;
    }
    mvm_init(&v, &opt);
    r = mvm_boot_flat(&v, image, len);
    if (r == 0)
        r = mvm_snap_check(&v.opt);
    if (r == 0)
        r = mvm_snap_run(&v);
    return mvm_snap_finish(&v, r);
}

/* `minivm restore|receive ARGS`, in the child. */
static inline int child_cli(const void *p)
{
    const char *const *args = p;
    char *argv[32];
    int n = 0;

    while (args[n] && n < 31) {
        argv[n] = (char *)args[n];
        n++;
    }
    argv[n] = NULL;
    return mvm_main_snap(n, argv);
}

/* Start fn(arg) in a child with stdin from in_path (NULL: /dev/null);
 * `tag` names its output files. */
static inline void proc_start(struct proc *p, const char *tag,
                              const char *in_path, int (*fn)(const void *),
                              const void *arg)
{
    *p = (struct proc){0};
    p->out_path = test_path(tag);
    cr_assert(asprintf(&p->err_path, "%s.err", p->out_path) > 0);
    fflush(NULL);
    p->pid = fork();
    cr_assert(p->pid >= 0, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int status;

        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        setvbuf(stdout, NULL, _IONBF, 0);
        setvbuf(stderr, NULL, _IONBF, 0);
        vl_err_clear();
        status = fn(arg);
        _exit(status); /* not the test's atexit handlers */
    }
}

/* Wait up to limit_s seconds (then kill it), read its output. */
static inline int proc_wait(struct proc *p, int limit_s)
{
    struct timespec t0, t;
    int st = 0;
    pid_t r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= limit_s) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            break;
        }
        usleep(2000);
    }
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    p->out = slurp(p->out_path, NULL);
    p->err = slurp(p->err_path, NULL);
    return p->status;
}

/* `minivm run` to the end (at most limit_s seconds). */
static inline int run_guest(struct proc *p, const char *tag,
                            const char *in_path, int limit_s,
                            const struct run_args *a)
{
    proc_start(p, tag, in_path, child_run, a);
    return proc_wait(p, limit_s);
}

/* `minivm restore ...` and friends to the end. */
static inline int run_cli(struct proc *p, const char *tag, const char *in_path,
                          int limit_s, const char *const *args)
{
    proc_start(p, tag, in_path, child_cli, args);
    return proc_wait(p, limit_s);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* `minivm inspect FILE`: its text. */
static inline char *inspect(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    vl_assert_ok(mvm_snap_inspect(path, f));
    fclose(f);
    return text;
}

/* The last line of a text (minivm's "guest exited ... after N exits"). */
static inline const char *last_line(const char *text, char *buf, size_t size)
{
    size_t n = strlen(text);
    const char *start;

    while (n && text[n - 1] == '\n')
        n--;
    start = text + n;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(buf, size, "%.*s", (int)(text + n - start), start);
    return buf;
}

/* ---- reading a stream back: the page records of its MEM sections ------ */

struct page_rec {
    uint64_t gpa;
    bool zero;
    uint8_t first, last; /* the page's first and last byte */
};

/* The page records of the snapshot stream in `data` (header, then
 * sections); at most max. */
static inline int parse_pages(const uint8_t *data, size_t len,
                              struct page_rec *recs, int max)
{
    size_t off = MVM_SNAP_HEADER_SIZE;
    int n = 0;

    cr_assert(len >= off && !memcmp(data, MVM_SNAP_MAGIC, 8),
              "not a snapshot stream (%zu bytes)", len);
    while (off + 16 <= len) {
        uint32_t h[4];

        memcpy(h, data + off, 16);
        off += 16;
        cr_assert(off + h[2] <= len, "a section runs past the end");
        if (h[0] == MVM_SEC_MEM) {
            const uint8_t *p = data + off;
            uint32_t count;

            memcpy(&count, p, 4);
            p += 4;
            for (uint32_t i = 0; i < count; i++) {
                uint64_t rec;

                memcpy(&rec, p, 8);
                p += 8;
                cr_assert(n < max, "more than %d page records", max);
                recs[n] = (struct page_rec){
                    .gpa = rec & ~(uint64_t)(MVM_PAGE_SIZE - 1),
                    .zero = rec & MVM_PAGE_ZERO,
                };
                if (!recs[n].zero) {
                    recs[n].first = p[0];
                    recs[n].last = p[MVM_PAGE_SIZE - 1];
                    p += MVM_PAGE_SIZE;
                }
                n++;
            }
        }
        off += h[2];
    }
    return n;
}

static inline const struct page_rec *find_rec(const struct page_rec *recs,
                                              int n, uint64_t gpa)
{
    for (int i = 0; i < n; i++)
        if (recs[i].gpa == gpa)
            return &recs[i];
    return NULL;
}

/* A writer into a file of test_dir(); out_close() gives its bytes. */
static inline void out_open(struct mvm_snap_out *out, const char *name)
{
    char *path = test_path(name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    free(path);
    vl_assert_ok(mvm_snap_out_init(out, fd));
}

static inline uint8_t *out_close(struct mvm_snap_out *out, size_t *len)
{
    uint8_t *buf;
    off_t size;

    vl_assert_ok(mvm_snap_flush(out));
    size = lseek(out->fd, 0, SEEK_END);
    buf = malloc((size_t)size + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(pread(out->fd, buf, (size_t)size, 0), size);
    close(out->fd);
    mvm_snap_out_free(out);
    *len = (size_t)size;
    return buf;
}

/* ---- booting ---------------------------------------------------------- */

/*
 * A long-mode C guest with the in-kernel irqchip (lab 06) created before
 * vCPU 0, as `minivm run --mode long --irqchip` boots it: the driver's
 * mvm_boot_flat() with the reference stages of labs 01-06.
 */
static inline void boot_irqchip_guest_file(const char *name)
{
    void *image;
    size_t len;

    load_guest_file(name, &image, &len);
    vm.opt.mode = MVM_MODE_LONG;
    vm.opt.irqchip = true;
    vm.opt.input_fd = -1;
    vl_assert_ok(mvm_boot_flat(&vm, image, len));
    free(image);
}

#endif
