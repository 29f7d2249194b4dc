/*
 * migrate_test.c - the tests of lab 08's second part (migrate.c, TODOs 5
 * and 6): the dirty log as a migration reads it, then pre-copy live
 * migration end to end between two minivm processes over a Unix socket.
 *
 * The unit tests drive a tiny real-mode guest that writes known pages
 * between its exits; the end-to-end tests migrate mig_dirty, which
 * writes 1 MiB over and over and checks every page it wrote.
 */
#define _GNU_SOURCE
#include "../guest/snap08.h"
#include "snap_test.h"

TestSuite(migrate, .init = setup, .fini = snap_teardown, .timeout = 30);

_Static_assert(DATA_BASE + MIG_PAGES * 4096ULL <= MVM_DEFAULT_MEM,
               "mig_dirty's pages must fit in minivm's default RAM");

/* ---- TODO 5: the dirty log -------------------------------------------- */

#define SLOT_GPA 0x800000ULL
#define ROM_GPA  0x900000ULL

/* KVM_GET_DIRTY_LOG on one slot: 0, or -errno (no log on that slot). */
static int get_log(uint32_t slot, uint64_t *bitmap)
{
    struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = bitmap};

    return ioctl(vm.vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

Test(migrate, dirty_log_start_logs_the_memory_the_guest_can_write)
{
    static const uint8_t hlt[] = {0xf4};
    static uint64_t bitmap[1024 / 64];

    boot_with_libvirtlab(hlt, sizeof(hlt));
    vl_assert_ok(mvm_add_slot(&vm, SLOT_GPA, 0x10000, 0));
    vl_assert_ok(mvm_add_slot(&vm, ROM_GPA, 0x10000, KVM_MEM_READONLY));
    cr_assert_neq(get_log(0, bitmap), 0, "RAM has no dirty log yet");

    vl_assert_ok(mvm_dirty_log_start(&vm));
    cr_assert_eq(get_log(0, bitmap), 0, "KVM_GET_DIRTY_LOG on RAM (slot 0): %s",
                 strerror(-get_log(0, bitmap)));
    cr_assert_eq(get_log(vm.slots[0].slot, bitmap), 0,
                 "KVM_GET_DIRTY_LOG on the RAM slot of lab 03");
    cr_assert(vm.slots[0].flags & KVM_MEM_LOG_DIRTY_PAGES,
              "vm.slots[0].flags should say the slot is logged now");
    cr_assert_neq(get_log(vm.slots[1].slot, bitmap), 0,
                  "the read-only slot gets no dirty log: the guest cannot "
                  "write it");
}

/*
 * A real-mode guest at MVM_LOAD_ADDR, three phases, each ended by an OUT:
 *   1. writes the first byte of page 0x5000 and the last byte of 0x7000;
 *   2. zeroes that byte of page 0x5000 again, writes page 0x9000;
 *   3. writes nothing.
 */
static const uint8_t phases_guest[] = {
    0xc6, 0x06, 0x00, 0x50, 0x11, /* movb $0x11, 0x5000 */
    0xc6, 0x06, 0xff, 0x7f, 0x22, /* movb $0x22, 0x7fff */
    0xe6, 0x10,                   /* out %al, $0x10 */
    0xc6, 0x06, 0x00, 0x50, 0x00, /* movb $0, 0x5000: page 0x5000 is zero */
    0xc6, 0x06, 0x00, 0x90, 0x33, /* movb $0x33, 0x9000 */
    0xe6, 0x10,                   /* out %al, $0x10 */
    0xe6, 0x10,                   /* out %al, $0x10 */
    0xf4,                         /* hlt */
};

/* Run to the next OUT, then one round: its page records. */
static int phase_round(const char *name, struct mvm_round *round,
                       struct page_rec *recs)
{
    struct mvm_snap_out out;
    uint8_t *data;
    size_t len;
    int n, parsed;

    cr_assert_eq(run_once(), KVM_EXIT_IO, "the guest should stop at its OUT");
    *round = (struct mvm_round){0};
    out_open(&out, name);
    n = mvm_dirty_round(&vm, &out, round);
    cr_assert_geq(n, 0, "mvm_dirty_round: %s", vl_errmsg());
    data = out_close(&out, &len);
    parsed = parse_pages(data, len, recs, 64);
    free(data);
    cr_assert_eq(n, parsed,
                 "mvm_dirty_round() says %d pages, the stream has %d", n,
                 parsed);
    cr_assert_eq(round->pages, (uint64_t)n, "round->pages counts them");
    return n;
}

Test(migrate, dirty_round_sends_each_dirty_page_once)
{
    struct page_rec recs[64];
    struct mvm_round round;
    const struct page_rec *p;
    int n;

    boot_with_libvirtlab(phases_guest, sizeof(phases_guest));
    vl_assert_ok(mvm_dirty_log_start(&vm));

    n = phase_round("round1", &round, recs);
    cr_assert_eq(n, 2,
                 "phase 1 wrote pages 0x5000 and 0x7000, the round "
                 "sent %d pages",
                 n);
    cr_assert((p = find_rec(recs, n, 0x5000)) && !p->zero && p->first == 0x11,
              "page 0x5000 with its data");
    cr_assert((p = find_rec(recs, n, 0x7000)) && !p->zero && p->last == 0x22,
              "page 0x7000 with its data (the page index is the bit index)");
    cr_assert_eq(round.zero_pages, 0);

    n = phase_round("round2", &round, recs);
    cr_assert_eq(n, 2,
                 "phase 2 wrote pages 0x5000 and 0x9000, the round "
                 "sent %d pages: a page sent in round 1 and not "
                 "written since is not dirty any more (was the log "
                 "cleared?)",
                 n);
    cr_assert((p = find_rec(recs, n, 0x5000)) && p->zero,
              "page 0x5000 is dirty and all zero now: it must be sent (as a "
              "zero page), the destination still has its old data");
    cr_assert((p = find_rec(recs, n, 0x9000)) && !p->zero && p->first == 0x33);
    cr_assert_eq(round.zero_pages, 1, "round->zero_pages");

    n = phase_round("round3", &round, recs);
    cr_assert_eq(n, 0, "phase 3 wrote nothing, the round sent %d pages", n);
}

/* ---- end to end: pre-copy between two processes ------------------------ */

static char *mig_expected(void)
{
    char *text = NULL, *next;

    cr_assert(asprintf(&text, "mig_dirty: %d pages, %d generations\n",
                       MIG_PAGES, MIG_GENERATIONS) > 0);
    for (int g = 1; g <= MIG_GENERATIONS; g++) {
        cr_assert(
            asprintf(&next, "%sgeneration %d: all pages right\n", text, g) > 0);
        free(text);
        text = next;
    }
    cr_assert(asprintf(&next, "%smig_dirty: done\n", text) > 0);
    free(text);
    return next;
}

/* Migrate mig_dirty: *src runs it with these settings, *dst receives it;
 * both checked for the output. */
static void migrate_mig_dirty(struct proc *src, struct proc *dst,
                              struct run_args *a)
{
    char *sock = test_path("mig.sock"), *addr = NULL, *joined;

    cr_assert(asprintf(&addr, "unix:%s", sock) > 0);
    a->guest = "mig_dirty.bin";
    a->migrate_to = addr;
    a->migrate_after = 5;
    proc_start(dst, "dst", NULL, child_cli,
               ARGS("receive", "--listen", addr, "--timeout", "10"));
    run_guest(src, "src", NULL, 30, a);
    if (src->status != 0) /* no migration is coming: do not wait for one */
        kill(dst->pid, SIGKILL);
    proc_wait(dst, 30);
    cr_assert_eq(src->status, 0, "the source failed (status %d): %s",
                 src->status, src->err);
    cr_assert_eq(dst->status, 0,
                 "the destination failed (status %d): %s\n(the source "
                 "said: %s)",
                 dst->status, dst->err, src->err);
    cr_assert(strstr(dst->err, "resumes here"), "%s", dst->err);
    cr_assert(asprintf(&joined, "%s%s", src->out, dst->out) > 0);
    cr_assert_str_eq(joined, mig_expected(),
                     "the guest's output, on the source then the "
                     "destination, should be its uninterrupted output\n"
                     "(source: %s)",
                     src->err);
    free(joined);
}

/* "... round N: P pages ..." and "stop-and-copy: P pages" of the report. */
static long report_pages(const char *report, const char *what)
{
    const char *p = strstr(report, what);
    long pages = -1;

    if (p)
        sscanf(p + strlen(what), " %ld pages", &pages);
    return pages;
}

Test(migrate, a_running_guest_goes_on_in_another_process)
{
    struct run_args a = {.max_rounds = 3, .bandwidth = 100};
    struct proc src, dst;

    migrate_mig_dirty(&src, &dst, &a);
    cr_assert_gt(report_pages(src.err, "round 0:"), 100,
                 "round 0 sends all of memory:\n%s", src.err);
    cr_assert_geq(report_pages(src.err, "round 1:"), 0,
                  "after round 0, at least one round of dirty pages while "
                  "the guest runs:\n%s",
                  src.err);
    cr_assert(strstr(src.err, "downtime"), "%s", src.err);
}

Test(migrate, stop_and_copy_sends_what_the_rounds_missed)
{
    /* Round 0 only, slowly (it takes about 40 ms): the guest keeps
     * writing meanwhile, and all of that must go in the stop-and-copy. */
    struct run_args a = {.max_rounds = 0, .bandwidth = 20};
    struct proc src, dst;

    migrate_mig_dirty(&src, &dst, &a);
    cr_assert(strstr(src.err, "1 round of pre-copy"),
              "--max-rounds 0: round 0, then stop-and-copy:\n%s", src.err);
    cr_assert_gt(report_pages(src.err, "stop-and-copy:"), 0,
                 "the guest wrote during round 0: the stop-and-copy must "
                 "send those pages:\n%s",
                 src.err);
}
