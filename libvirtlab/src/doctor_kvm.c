/*
 * doctor_kvm.c - the kvm.* checks: the device opens, speaks the stable API,
 * and runs a guest at hardware speed or emulated.
 * Reference: the kernel's Documentation/virt/kvm/api.rst.
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"
#include "virtlab/kvm.h"
#include "virtlab/kvm_exit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

const char *vl_kvm_speed_name(enum vl_kvm_speed speed)
{
    switch (speed) {
    case VL_KVM_SPEED_HARDWARE:
        return "hardware";
    case VL_KVM_SPEED_EMULATED:
        return "emulated";
    case VL_KVM_SPEED_UNKNOWN:
        break;
    }
    return "unknown";
}

/* "vmx" (Intel VT-x) or "svm" (AMD-V) when /proc/cpuinfo lists the flag. */
static const char *cpu_virt_flag(void)
{
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;

    if (!f)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        if (strstr(line, " vmx"))
            return "vmx";
        if (strstr(line, " svm"))
            return "svm";
        return NULL;
    }
    return NULL;
}

/* ==== the speed guest =================================================== */

/*
 * The speed guest: 16-bit real mode code at 0000:1000, hand-assembled
 * (opcodes from the Intel SDM Vol. 2). It loops as many times as the
 * 32-bit count at 0x0f00 says, then tells the host with an OUT, which ends
 * KVM_RUN with KVM_EXIT_IO (api.rst 5, "KVM_EXIT_IO"); the next KVM_RUN
 * starts over and reads the count again, so the host picks each run's
 * length by writing guest memory.
 */
#define SPEED_ENTRY     0x1000
#define SPEED_COUNT_GPA 0x0f00
#define SPEED_PORT      0x10
#define SPEED_MEM_SIZE  0x10000 /* the 64 KiB a real-mode segment reaches */
#define SPEED_STACK     0x8000

/* clang-format off */
static const uint8_t speed_guest[] = {
    /* 1000: mov ecx, [0x0f00]
     *   66 = operand-size prefix: a 32-bit operand in 16-bit code;
     *   8b /r = MOV r32, r/m32; ModRM 0e = mod 00, reg 001 (ECX),
     *   r/m 110 (a bare 16-bit displacement); disp16 = 0x0f00. */
    0x66, 0x8b, 0x0e, 0x00, 0x0f,
    /* 1005: dec ecx       (66 prefix; 48+r = DEC r32, r = 1 = ECX) */
    0x66, 0x49,
    /* 1007: jnz 1005      (75 = JNZ rel8; 0x1005 - 0x1009 = -4) */
    0x75, 0xfc,
    /* 1009: out 0x10, al  (e6 = OUT imm8, AL: one exit to the host) */
    0xe6, SPEED_PORT,
    /* 100b: jmp 1000      (eb = JMP rel8; 0x1000 - 0x100d = -13) */
    0xeb, 0xf3,
};
/* clang-format on */
/* Instructions per run with count c: jmp, mov, c x (dec + jnz), out. */
#define SPEED_INSNS(c) (2 * (uint64_t)(c) + 3)

#define SPEED_EXITS      1000     /* ~10 ms emulated, ~1 ms on hardware */
#define SPEED_LOOP       20000    /* ~40 ms emulated, ~10 us on hardware */
#define SPEED_LOOP_HW    10000000 /* ~5 ms on hardware: a finer figure */
#define SPEED_TIMEOUT_MS 10000

struct speed_vm {
    struct vl_kvm kvm;
    struct vl_vm vm;
    struct vl_vcpu vcpu;
    uint32_t *count; /* the guest's loop count, in guest memory */
};

static void speed_vm_destroy(struct speed_vm *s)
{
    vl_vcpu_destroy(&s->vcpu);
    vl_vm_destroy(&s->vm);
    vl_kvm_close(&s->kvm);
}

static int speed_vm_create(struct speed_vm *s, const char *dev)
{
    void *mem;
    int r;

    if ((r = vl_kvm_open_path(&s->kvm, dev)) < 0 ||
        (r = vl_vm_create(&s->vm, &s->kvm)) < 0 ||
        (r = vl_vm_add_memory(&s->vm, 0, 0, SPEED_MEM_SIZE, 0, &mem)) < 0)
        return r;
    memcpy((uint8_t *)mem + SPEED_ENTRY, speed_guest, sizeof(speed_guest));
    s->count = (uint32_t *)((uint8_t *)mem + SPEED_COUNT_GPA);
    if ((r = vl_vcpu_create(&s->vcpu, &s->vm, 0)) < 0 ||
        (r = vl_vcpu_reset_real(&s->vcpu, SPEED_ENTRY, SPEED_STACK)) < 0)
        return r;
    return 0;
}

/* One KVM_RUN of `count` iterations; returns its duration in ns. */
static int64_t speed_run(struct speed_vm *s, uint32_t count)
{
    struct kvm_run *run = s->vcpu.run;
    struct kvm_regs regs = {0};
    char what[160];
    int64_t t0, t1;
    int reason;

    *s->count = count;
    t0 = doctor_now_ns();
    reason = vl_vcpu_run(&s->vcpu);
    t1 = doctor_now_ns();
    if (reason == -EINTR)
        return vl_err(EINTR, "KVM_RUN of the speed guest");
    if (reason < 0)
        return reason;
    if (reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
        run->io.port == SPEED_PORT)
        return t1 - t0;
    vl_vcpu_get_regs(&s->vcpu, &regs);
    vl_exit_describe(run, regs.rip, what, sizeof(what));
    return vl_err_plain(EPROTO,
                        "the speed guest stopped with %s, expected "
                        "an OUT to port 0x%x",
                        what, SPEED_PORT);
}

static int speed_measure(struct speed_vm *s, struct vl_kvm_speed_sample *out)
{
    int64_t warm, exits = 0, loop;
    uint32_t iters = SPEED_LOOP;
    double per_run;

    /* The first run pays for faulting in guest memory and loading the
     * vCPU state; leave it out. */
    if ((warm = speed_run(s, 1)) < 0)
        return (int)warm;

    /* Exits: runs of one iteration are almost nothing but the round trip
     * guest -> KVM -> this process -> KVM -> guest. */
    for (int i = 0; i < SPEED_EXITS; i++) {
        int64_t t = speed_run(s, 1);

        if (t < 0)
            return (int)t;
        exits += t;
    }
    per_run = (double)exits / SPEED_EXITS;

    /* Instructions: a long run minus a one-iteration run leaves the cost
     * of the extra instructions alone. On hardware the default loop is
     * over in microseconds, so time a longer one there. */
    if ((loop = speed_run(s, iters)) < 0)
        return (int)loop;
    if ((double)(loop - per_run) / (double)(2 * (uint64_t)iters - 2) <
            VL_KVM_HW_NS_PER_INSN &&
        loop < 1000000) {
        iters = SPEED_LOOP_HW;
        if ((loop = speed_run(s, iters)) < 0)
            return (int)loop;
    }

    out->loop_iters = iters;
    out->loop_ns = (uint64_t)loop;
    out->exits = SPEED_EXITS;
    out->exits_ns = (uint64_t)exits;
    out->ns_per_insn = ((double)loop - per_run) /
                       (double)(SPEED_INSNS(iters) - SPEED_INSNS(1));
    if (out->ns_per_insn <= 0)
        out->ns_per_insn = 0.01; /* below the clock's resolution */
    out->us_per_exit =
        (per_run - (double)SPEED_INSNS(1) * out->ns_per_insn) / 1000.0;
    if (out->us_per_exit < 0)
        out->us_per_exit = 0;
    out->speed = out->ns_per_insn < VL_KVM_HW_NS_PER_INSN
                     ? VL_KVM_SPEED_HARDWARE
                     : VL_KVM_SPEED_EMULATED;
    return 0;
}

static int speed_child(void *arg, void *out)
{
    struct speed_vm s = {
        .kvm = {.fd = -1},
        .vm = {.fd = -1},
        .vcpu = {.fd = -1},
    };
    struct vl_kvm_speed_sample sample = {0};
    int r;

    r = speed_vm_create(&s, arg);
    if (r == 0)
        r = speed_measure(&s, &sample);
    speed_vm_destroy(&s);
    memcpy(out, &sample, sizeof(sample));
    return r;
}

int vl_doctor_measure_speed(const char *dev, struct vl_kvm_speed_sample *s)
{
    int r;

    memset(s, 0, sizeof(*s));
    r = doctor_child_run("timing a guest", speed_child,
                         (void *)(dev ? dev : VL_KVM_DEVICE), s, sizeof(*s),
                         SPEED_TIMEOUT_MS);
    if (r < 0)
        memset(s, 0, sizeof(*s));
    return r;
}

/* ==== the checks ======================================================== */

/* "0.35 ns" or "1.02 us" */
static void fmt_ns(char *buf, size_t len, double ns)
{
    if (ns >= 1000)
        snprintf(buf, len, "%.2f \u00b5s", ns / 1000);
    else
        snprintf(buf, len, "%.2f ns", ns);
}

static void check_speed(struct vl_doctor_report *r, const char *dev)
{
    struct vl_kvm_speed_sample *s = &r->speed;
    const char *flag = cpu_virt_flag();
    struct vl_check *c;
    char insn[32];

    if (!r->kvm_usable) {
        doctor_check_add(r, "kvm.speed", VL_CHECK_SKIP,
                         "needs a usable /dev/kvm");
        return;
    }
    vl_err_clear();
    if (vl_doctor_measure_speed(dev, s) < 0) {
        c = doctor_check_add(r, "kvm.speed", VL_CHECK_FAIL, "%s", "");
        doctor_check_from_errmsg(c, vl_errmsg());
        doctor_check_hint(c, "/dev/kvm opens but a 13-byte real-mode guest "
                             "does not run: look at `dmesg | grep -i kvm`.");
        return;
    }
    fmt_ns(insn, sizeof(insn), s->ns_per_insn);
    if (s->speed == VL_KVM_SPEED_HARDWARE) {
        doctor_check_add(r, "kvm.speed", VL_CHECK_OK,
                         "hardware speed: %s per guest instruction, %.1f "
                         "\u00b5s per exit",
                         insn, s->us_per_exit);
        return;
    }
    c = doctor_check_add(r, "kvm.speed", VL_CHECK_WARN,
                         "emulated: %s per guest instruction, %.1f \u00b5s "
                         "per exit",
                         insn, s->us_per_exit);
    doctor_check_hint(c,
                      "nested KVM without hardware acceleration%s: guests "
                      "run ~1000x slower than on VT-x/AMD-V; tests bound "
                      "guests by exit count, so they pass, slowly. Booting "
                      "Linux (lab 07) needs hardware virtualization.",
                      flag ? "" : " (no vmx/svm flag in /proc/cpuinfo)");
}

int vl_doctor_check_kvm(struct vl_doctor_report *r, const char *kvm_dev)
{
    const char *dev = kvm_dev ? kvm_dev : VL_KVM_DEVICE;
    struct vl_kvm kvm = {.fd = -1};
    const char *flag = cpu_virt_flag();
    struct vl_check *c;
    bool listed;
    int ret;

    vl_err_clear();
    ret = vl_kvm_open_path(&kvm, dev);
    if (ret == 0) {
        r->kvm_usable = true;
        r->kvm_api = kvm.api_version;
        vl_kvm_close(&kvm);
        doctor_check_add(r, "kvm.device", VL_CHECK_OK, "%s opened (API %d)",
                         dev, r->kvm_api);
        doctor_check_add(r, "kvm.api", VL_CHECK_OK,
                         "KVM_GET_API_VERSION = %d, the stable API",
                         r->kvm_api);
    } else if (ret == -EPROTO) {
        /* api.rst 4.1: "Applications should refuse to run if
         * KVM_GET_API_VERSION returns a value other than 12." */
        _vl_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);

        r->kvm_api = fd >= 0 ? ioctl(fd, KVM_GET_API_VERSION, 0) : 0;
        doctor_check_add(r, "kvm.device", VL_CHECK_OK, "%s opened", dev);
        c = doctor_check_add(r, "kvm.api", VL_CHECK_FAIL,
                             "KVM_GET_API_VERSION = %d, expected %d",
                             r->kvm_api, KVM_API_VERSION);
        doctor_check_hint(c, "this kernel's KVM speaks another API: use a "
                             "mainstream Linux kernel.");
    } else {
        c = doctor_check_add(r, "kvm.device", VL_CHECK_FAIL, "%s", "");
        doctor_check_from_errmsg(c, vl_errmsg());
        if (ret == -ENOENT && !flag)
            doctor_check_hint(c, "(This CPU shows no vmx/svm flag in "
                                 "/proc/cpuinfo.)");
        if ((ret == -EACCES || ret == -EPERM) &&
            doctor_in_kvm_group(NULL, &listed))
            doctor_check_hint(c,
                              "(You are in group kvm: check the mode of %s, "
                              "usually 0660 root:kvm.)",
                              dev);
        doctor_check_add(r, "kvm.api", VL_CHECK_SKIP, "needs %s", dev);
    }
    check_speed(r, dev);
    return 0;
}
