/*
 * devices_test.c - the tests of lab 04, one group per TODO.
 *
 * The VM comes from libvirtlab, long mode from the reference of lab 02,
 * the run loop from lab 01's; the bus, the UART and the test device come
 * from your devices.c. The UART and the test device are also tested
 * directly, register by register, without a guest.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "../guest/guest.h"
#include "mvm_test.h"

TestSuite(devices, .init = setup, .fini = teardown, .timeout = 60);

/* The guests' copy of the test device's layout must match minivm's. */
_Static_assert(TESTDEV_BASE == MVM_TESTDEV_ADDR, "testdev address");
_Static_assert(TESTDEV_STATUS == MVM_TESTDEV_STATUS &&
                   TESTDEV_DATA == MVM_TESTDEV_DATA &&
                   TESTDEV_DOORBELL == MVM_TESTDEV_DOORBELL &&
                   TESTDEV_MAGIC_VALUE == MVM_TESTDEV_MAGIC_VALUE,
               "testdev registers");

#define MAX_EXITS 20000 /* the guests need a few hundred */

static void boot_empty(void)
{
    static const uint8_t hlt[] = {0xf4};

    boot_with_libvirtlab(hlt, sizeof(hlt));
}

/* Does the error message contain `needle`? */
static void assert_msg_has(const char *needle)
{
    cr_assert(strstr(vl_errmsg(), needle) != NULL,
              "the message should mention \"%s\": \"%s\"", needle, vl_errmsg());
}

/* ---- a fake device that records what the bus hands it --------------- */

struct fake {
    int calls;
    uint64_t offset; /* of the last call */
    unsigned len;
    bool wrote;
    uint8_t data[8]; /* what the last write carried */
    int result;      /* what read/write return */
    int fail_on;     /* this call fails with -EIO (0: none) */
};

static int fake_access(struct fake *f, uint64_t offset, unsigned len,
                       bool wrote)
{
    f->calls++;
    f->offset = offset;
    f->len = len;
    f->wrote = wrote;
    if (f->calls == f->fail_on)
        return vl_err_plain(EIO, "the fake device broke");
    return f->result;
}

/* A read answers 0x10 + the call number in every byte. */
static int fake_read(struct minivm *v, void *opaque, uint64_t offset,
                     void *data, unsigned len)
{
    struct fake *f = opaque;

    (void)v;
    memset(data, 0x11 + f->calls, len);
    return fake_access(f, offset, len, false);
}

static int fake_write(struct minivm *v, void *opaque, uint64_t offset,
                      const void *data, unsigned len)
{
    struct fake *f = opaque;

    (void)v;
    memcpy(f->data, data, len < 8 ? len : 8);
    return fake_access(f, offset, len, true);
}

static struct mvm_device fake_dev(const char *name, enum mvm_space space,
                                  uint64_t base, uint64_t len, struct fake *f)
{
    return (struct mvm_device){name,      space,      base, len,
                               fake_read, fake_write, f};
}

/* ---- TODO 1: registering devices --------------------------------------- */

Test(devices, bus_keeps_ports_and_mmio_apart)
{
    struct fake f = {0};
    struct mvm_device d = fake_dev("a", MVM_SPACE_PORT, 0x1000, 8, &f);

    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    d.base = 0x5000; /* the bus keeps its own copy */
    cr_assert_eq(vm.bus.ndev, 1);
    cr_assert_eq(vm.bus.dev[0].base, 0x1000, "copy the device into the bus");
    cr_assert_eq(vm.bus.dev[0].opaque, &f);
    d = fake_dev("b", MVM_SPACE_MMIO, 0x1000, 8, &f);
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    d = fake_dev("c", MVM_SPACE_PORT, 0x1008, 8, &f); /* touches "a" */
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    d = fake_dev("d", MVM_SPACE_PORT, 0xfff8, 8, &f); /* the last ports */
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    d = fake_dev("e", MVM_SPACE_MMIO, 0xfffffffffffff000ULL, 0xfff, &f);
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    cr_assert_eq(vm.bus.ndev, 5);
    cr_assert_str_eq(vm.bus.dev[1].name, "b");
    cr_assert_eq(vm.bus.dev[1].space, MVM_SPACE_MMIO);
}

Test(devices, bus_refuses_overlaps_naming_both)
{
    struct fake f = {0};
    struct mvm_device com1 = fake_dev("com1", MVM_SPACE_PORT, 0x3f8, 8, &f);
    struct mvm_device mmio =
        fake_dev("disk", MVM_SPACE_MMIO, 0xd0000000, 0x1000, &f);
    struct mvm_device d;

    vl_assert_ok(mvm_bus_register(&vm.bus, &com1));
    vl_assert_ok(mvm_bus_register(&vm.bus, &mmio));
    d = fake_dev("modem", MVM_SPACE_PORT, 0x3fc, 8, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EEXIST, "modem");
    assert_msg_has("com1");
    assert_msg_has("0x3fc");
    assert_msg_has("0x3f8");
    d = fake_dev("inner", MVM_SPACE_PORT, 0x3fa, 1, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EEXIST, "com1");
    d = fake_dev("outer", MVM_SPACE_PORT, 0x300, 0x200, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EEXIST, "com1");
    d = fake_dev("net", MVM_SPACE_MMIO, 0xd0000fff, 0x1000, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EEXIST, "disk");
    cr_assert_eq(vm.bus.ndev, 2, "refused devices must not be added");
}

Test(devices, bus_refuses_bad_devices)
{
    struct fake f = {0};
    struct mvm_device d;

    d = fake_dev("empty", MVM_SPACE_PORT, 0x100, 0, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EINVAL, "empty");
    d = fake_dev("wraps", MVM_SPACE_MMIO, 0xfffffffffffff000ULL, 0x2000, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EINVAL, "wraps");
    d = fake_dev("past", MVM_SPACE_PORT, 0xfffc, 8, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EINVAL, "past");
    d = fake_dev("mute", MVM_SPACE_PORT, 0x100, 4, &f);
    d.read = NULL;
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EINVAL, "mute");
    d = fake_dev("deaf", MVM_SPACE_PORT, 0x100, 4, &f);
    d.write = NULL;
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), EINVAL, "deaf");
    cr_assert_eq(vm.bus.ndev, 0);
    for (int i = 0; i < MVM_MAX_DEVICES; i++) {
        d = fake_dev("many", MVM_SPACE_PORT, 0x100 + 4 * (uint64_t)i, 4, &f);
        vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    }
    d = fake_dev("one too many", MVM_SPACE_MMIO, 0xd0000000, 4, &f);
    vl_assert_fails(mvm_bus_register(&vm.bus, &d), ENOSPC, "");
    cr_assert_eq(vm.bus.ndev, MVM_MAX_DEVICES);
}

/* ---- TODO 2: finding the device ------------------------------------- */

Test(devices, bus_find_needs_the_whole_access)
{
    struct fake f = {0};
    struct mvm_device uart = fake_dev("uart", MVM_SPACE_PORT, 0x3f8, 8, &f);
    struct mvm_device td =
        fake_dev("td", MVM_SPACE_MMIO, 0xd0000000, 0x1000, &f);
    const struct mvm_bus *bus = &vm.bus;

    vl_assert_ok(mvm_bus_register(&vm.bus, &uart));
    vl_assert_ok(mvm_bus_register(&vm.bus, &td));
    cr_assert_eq(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3f8, 1), &bus->dev[0],
                 "return the bus's own entry");
    cr_assert_eq(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3ff, 1), &bus->dev[0]);
    cr_assert_eq(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3fc, 4), &bus->dev[0]);
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3ff, 2),
                   "a 2-byte access at 0x3ff runs past the device");
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3f7, 1));
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_PORT, 0x3f7, 4),
                   "an access starting before the device is not its");
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_PORT, 0x400, 1));
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_MMIO, 0x3f8, 1),
                   "MMIO 0x3f8 is not port 0x3f8");
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_PORT, 0xd0000000, 4));
    cr_assert_eq(mvm_bus_find(bus, MVM_SPACE_MMIO, 0xd0000ffc, 4),
                 &bus->dev[1]);
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_MMIO, 0xd0000ffe, 4));
    cr_assert_null(mvm_bus_find(bus, MVM_SPACE_MMIO, UINT64_MAX, 2));
}

/* ---- TODO 3: dispatching accesses ------------------------------------ */

Test(devices, bus_access_hands_offsets_to_the_device)
{
    struct fake pf = {0}, mf = {0};
    struct mvm_device pd = fake_dev("fake-port", MVM_SPACE_PORT, 0x100, 4, &pf);
    struct mvm_device md =
        fake_dev("fake-mmio", MVM_SPACE_MMIO, 0xd0001000, 0x100, &mf);
    uint8_t byte = 'w';
    uint32_t word = 0;

    boot_empty();
    vl_assert_ok(mvm_bus_register(&vm.bus, &pd));
    vl_assert_ok(mvm_bus_register(&vm.bus, &md));
    cr_assert_eq(mvm_bus_access(&vm, MVM_SPACE_PORT, 0x102, &byte, 1, true),
                 MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_eq(pf.calls, 1);
    cr_assert(pf.wrote, "a write goes to write()");
    cr_assert_eq(pf.offset, 2, "the device gets the offset from its base");
    cr_assert_eq(pf.len, 1);
    cr_assert_eq(pf.data[0], 'w');
    cr_assert_eq(
        mvm_bus_access(&vm, MVM_SPACE_MMIO, 0xd0001010, &word, 4, false),
        MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert(!mf.wrote && mf.calls == 1, "a read goes to read()");
    cr_assert_eq(mf.offset, 0x10);
    cr_assert_eq(word, 0x11111111, "the device's answer lands in data");
    cr_assert_eq(pf.calls, 1, "one access, one device");

    mf.result = MVM_STOP;
    cr_assert_eq(
        mvm_bus_access(&vm, MVM_SPACE_MMIO, 0xd0001000, &word, 4, true),
        MVM_STOP, "pass the device's MVM_STOP on");
    mf.fail_on = mf.calls + 1;
    vl_assert_fails(
        mvm_bus_access(&vm, MVM_SPACE_MMIO, 0xd0001000, &word, 4, true), EIO,
        "the fake device broke");
    assert_msg_has("fake-mmio");
}

Test(devices, unclaimed_accesses_stop_with_address_and_rip)
{
    struct kvm_regs regs;
    char rip[64];
    uint32_t word = 0;
    int r;

    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_unclaimed.bin");
    vl_err_clear();
    r = mvm_run(&vm);
    cr_assert_str_eq(capture_text(&console),
                     "unclaimed: writing 'A' to COM2 (port 0x2f8), where "
                     "minivm has no device\n");
    cr_assert_eq(r, -ENODEV, "nothing at port 0x2f8: -ENODEV, got %d: %s", r,
                 vl_errmsg());
    assert_msg_has("port 0x2f8");
    cr_assert_eq(ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs), 0);
    snprintf(rip, sizeof(rip), "rip 0x%llx", (unsigned long long)regs.rip);
    assert_msg_has(rip);

    vl_assert_fails(
        mvm_bus_access(&vm, MVM_SPACE_MMIO, 0xd0100000, &word, 4, false),
        ENODEV, "0xd0100000");
    assert_msg_has("read");
    vl_assert_fails(mvm_bus_access(&vm, MVM_SPACE_PORT, 0x3fe, &word, 4, true),
                    ENODEV, "0x3fe");
    cr_assert_eq(vm.uart.tx_bytes, strlen(capture_text(&console)),
                 "an access running past the UART must not reach it");
}

/* ---- TODO 4: KVM_EXIT_IO and string I/O ------------------------------ */

/* Make vm.run look like KVM_EXIT_IO, as KVM would: the data one page
 * into the kvm_run mapping (KVM_PIO_PAGE_OFFSET). */
static uint8_t *fake_io_exit(uint8_t direction, uint8_t size, uint16_t port,
                             uint32_t count)
{
    cr_assert_geq(vm.run_size, 2 * PAGE);
    vm.run->exit_reason = KVM_EXIT_IO;
    vm.run->io.direction = direction;
    vm.run->io.size = size;
    vm.run->io.port = port;
    vm.run->io.count = count;
    vm.run->io.data_offset = PAGE;
    return (uint8_t *)vm.run + PAGE;
}

Test(devices, string_io_moves_every_item)
{
    struct fake f = {0};
    struct mvm_device d = fake_dev("fake", MVM_SPACE_PORT, 0x100, 4, &f);
    uint8_t *data;

    boot_empty();
    vl_assert_ok(mvm_setup_devices(&vm));
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));

    data = fake_io_exit(KVM_EXIT_IO_OUT, 1, 0x3f8, 5); /* rep outsb */
    memcpy(data, "hello", 5);
    cr_assert_eq(mvm_handle_io(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_str_eq(capture_text(&console), "hello",
                     "all 5 bytes of the string go to the UART");

    data = fake_io_exit(KVM_EXIT_IO_OUT, 2, 0x102, 3); /* rep outsw */
    memcpy(data, "aabbcc", 6);
    cr_assert_eq(mvm_handle_io(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_eq(f.calls, 3, "3 items, 3 accesses, got %d", f.calls);
    cr_assert_eq(f.offset, 2);
    cr_assert_eq(f.len, 2, "each item is io.size bytes");
    cr_assert(f.wrote && !memcmp(f.data, "cc", 2),
              "the items lie one after another");

    data = fake_io_exit(KVM_EXIT_IO_IN, 1, 0x101, 4); /* rep insb */
    memset(data, 0, 8);
    cr_assert_eq(mvm_handle_io(&vm), MVM_CONTINUE, "%s", vl_errmsg());
    cr_assert_eq(f.calls, 7);
    cr_assert(!f.wrote);
    cr_assert(!memcmp(data, "\x14\x15\x16\x17\0", 5),
              "leave each answer in its place in the buffer: "
              "%02x %02x %02x %02x",
              data[0], data[1], data[2], data[3]);
}

Test(devices, string_io_stops_at_the_first_error)
{
    struct fake f = {0};
    struct mvm_device d = fake_dev("fake", MVM_SPACE_PORT, 0x100, 4, &f);

    boot_empty();
    vl_assert_ok(mvm_bus_register(&vm.bus, &d));
    fake_io_exit(KVM_EXIT_IO_OUT, 1, 0x100, 4);
    f.fail_on = 2;
    vl_assert_fails(mvm_handle_io(&vm), EIO, "the fake device broke");
    cr_assert_eq(f.calls, 2, "stop at the failing item, got %d calls", f.calls);

    f = (struct fake){.result = MVM_STOP};
    fake_io_exit(KVM_EXIT_IO_OUT, 1, 0x100, 3);
    cr_assert_eq(mvm_handle_io(&vm), MVM_STOP);
    cr_assert_eq(f.calls, 1, "MVM_STOP ends the string too");

    /* KVM's word for where the data is, checked before it is used. */
    f = (struct fake){0};
    fake_io_exit(KVM_EXIT_IO_IN, 1, 0x100, 4);
    vm.run->io.data_offset = vm.run_size - 2;
    cr_assert_lt(mvm_handle_io(&vm), 0, "4 bytes at run_size - 2 do not fit");
    vm.run->io.data_offset = UINT64_MAX - 1;
    cr_assert_lt(mvm_handle_io(&vm), 0, "data_offset + size wraps around");
    vm.run->io.data_offset = vm.run_size;
    vm.run->io.count = 0x40000000;
    vm.run->io.size = 4;
    cr_assert_lt(mvm_handle_io(&vm), 0, "size * count is far too big");
    cr_assert_eq(f.calls, 0, "nothing may reach the device");
}

Test(devices, rep_insb_empties_the_fifo_in_one_exit)
{
    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_loopback.bin");
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console),
                     "DR set, no overrun, read back: loopback works!\n");
}

/* ---- TODO 5-7: the UART, register by register ------------------------ */

static struct mvm_uart u;

/* The UART as mvm_setup_devices() powers it on. */
static void uart_power_on(void)
{
    u = (struct mvm_uart){
        .lsr = UART_LSR_TEMT | UART_LSR_THRE,
        .msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS,
        .out = console.f,
    };
}

static uint8_t rd(unsigned reg)
{
    return mvm_uart_read(&u, reg);
}

static void wr(unsigned reg, uint8_t v)
{
    mvm_uart_write(&u, reg, v);
}

Test(devices, uart_registers_and_divisor_latch)
{
    uart_power_on();
    wr(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
    wr(UART_DLL, 0x0c);
    wr(UART_DLM, 0x01);
    cr_assert_eq(rd(UART_DLL), 0x0c, "DLAB = 1: offset 0 is DLL");
    cr_assert_eq(rd(UART_DLM), 0x01, "DLAB = 1: offset 1 is DLM");
    cr_assert_eq(u.dll, 0x0c);
    cr_assert_eq(u.dlm, 0x01);
    cr_assert_eq(u.tx_bytes, 0, "writing DLL is not transmitting");
    cr_assert_eq(u.ier, 0, "writing DLM is not writing IER");
    cr_assert_eq(rd(UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN8);

    wr(UART_LCR, UART_LCR_WLEN8);
    wr(UART_IER, 0xff);
    cr_assert_eq(rd(UART_IER), 0x0f, "IER keeps its low 4 bits");
    cr_assert_eq(u.dlm, 0x01);
    wr(UART_TX, 'h');
    wr(UART_TX, 'i');
    cr_assert_str_eq(capture_text(&console), "hi", "THR goes to the console");
    cr_assert_eq(u.tx_bytes, 2);
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
                 UART_LSR_THRE | UART_LSR_TEMT,
                 "minivm's transmitter is empty again at once");
    wr(UART_SCR, 0x42);
    cr_assert_eq(rd(UART_SCR), 0x42);
    wr(UART_LSR, 0);
    wr(UART_MSR, 0);
    cr_assert_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT,
                 "LSR is read-only");
    cr_assert_eq(rd(UART_MSR), 0xb0, "MSR is read-only");
    wr(UART_LCR, UART_LCR_DLAB);
    cr_assert_eq(rd(UART_DLL), 0x0c, "the divisor stays behind DLAB");
    cr_assert_eq(rd(UART_IER), 0x01);
}

Test(devices, uart_fifo_holds_16_bytes_then_overruns)
{
    uart_power_on();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    for (int i = 0; i < 20; i++)
        mvm_uart_receive(&u, (uint8_t)('a' + i));
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE),
                 UART_LSR_DR | UART_LSR_OE,
                 "20 bytes into a 16-byte FIFO: data ready and an overrun");
    cr_assert_eq(rd(UART_LSR) & UART_LSR_OE, 0, "reading LSR clears OE");
    for (int i = 0; i < 16; i++) {
        cr_assert(rd(UART_LSR) & UART_LSR_DR, "byte %d is still there", i);
        cr_assert_eq(rd(UART_RX), 'a' + i,
                     "the FIFO keeps the first 16, oldest first (byte %d)", i);
    }
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "empty: DR clears");
    cr_assert_eq(rd(UART_RX), 0, "an empty receiver reads 0");

    /* Around the ring: 10 in, 5 out, 10 in, 15 out. */
    for (int i = 0; i < 10; i++)
        mvm_uart_receive(&u, (uint8_t)i);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(rd(UART_RX), i);
    for (int i = 10; i < 20; i++)
        mvm_uart_receive(&u, (uint8_t)i);
    for (int i = 5; i < 20; i++)
        cr_assert_eq(rd(UART_RX), i, "byte %d", i);
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
}

Test(devices, uart_without_fifo_holds_one_byte)
{
    uart_power_on();
    mvm_uart_receive(&u, 'x');
    mvm_uart_receive(&u, 'y');
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE),
                 UART_LSR_DR | UART_LSR_OE,
                 "no FIFO: the second byte overruns the first");
    cr_assert_eq(rd(UART_RX), 'y', "the new byte overwrites RBR");
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT, "no FIFO: IIR bits 7:6 = 00");

    /* FCR: turning the FIFO on or off, or CLEAR_RCVR, empties it. */
    mvm_uart_receive(&u, 'z');
    wr(UART_FCR,
       UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_14 | UART_FCR_CLEAR_XMIT);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "enabling the FIFO clears it");
    cr_assert_eq(u.fcr, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_14,
                 "keep the enable and trigger bits, not the one-shot clears: "
                 "0x%02x",
                 u.fcr);
    cr_assert_eq(rd(UART_IIR), 0xc1, "FIFOs on: IIR bits 7:6 = 11");
    mvm_uart_receive(&u, '1');
    mvm_uart_receive(&u, '2');
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_14);
    cr_assert_eq(rd(UART_RX), '1', "rewriting the same FCR keeps the data");
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "CLEAR_RCVR empties it");
    mvm_uart_receive(&u, '3');
    wr(UART_FCR, 0);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "disabling the FIFO clears it");
    cr_assert_eq(rd(UART_RX), 0);
}

Test(devices, uart_loopback_wires_mcr_to_msr)
{
    uart_power_on();
    cr_assert_eq(rd(UART_MSR), 0xb0, "power-on: CTS, DSR and DCD up");
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    cr_assert_eq(rd(UART_MSR), UART_MSR_DCD | UART_MSR_CTS | UART_MSR_DDSR,
                 "loopback: RTS -> CTS, OUT2 -> DCD; DSR fell: DDSR");
    cr_assert_eq(rd(UART_MSR), 0x90, "reading MSR clears its delta bits");
    wr(UART_MCR, UART_MCR_LOOP | 0x0f);
    cr_assert_eq(rd(UART_MSR), 0xf0 | UART_MSR_DDSR,
                 "DTR -> DSR, OUT1 -> RI (rising RI: no TERI)");
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR);
    cr_assert_eq(rd(UART_MSR),
                 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_TERI | UART_MSR_DCTS,
                 "RI fell: TERI; CTS fell: DCTS");

    wr(UART_TX, 'x');
    cr_assert_str_eq(capture_text(&console), "",
                     "in loopback nothing leaves the UART");
    cr_assert_eq(u.tx_bytes, 0);
    cr_assert(rd(UART_LSR) & UART_LSR_DR, "the byte came back to RBR");
    cr_assert_eq(rd(UART_RX), 'x');

    wr(UART_MCR, 0xff);
    cr_assert_eq(rd(UART_MCR), 0x1f, "MCR has 5 bits");
    wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    cr_assert_eq(rd(UART_MSR) & 0xf0, 0xb0,
                 "out of loopback the cable's lines are back");
    wr(UART_TX, 'y');
    cr_assert_str_eq(capture_text(&console), "y");
}

Test(devices, uart_iir_reports_by_priority)
{
    uart_power_on();
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_MCR, UART_MCR_LOOP); /* all lines drop: modem status deltas */
    wr(UART_MCR, 0);
    for (int i = 0; i < 17; i++) /* data ready, and an overrun */
        mvm_uart_receive(&u, (uint8_t)i);
    cr_assert_eq(rd(UART_IIR), 0xc1, "IER = 0: nothing to report");
    wr(UART_IER, 0x0f); /* THRI on while THR is empty: pending */

    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_RLSI, "first: line status");
    rd(UART_LSR);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_RDI, "then: data ready");
    for (int i = 0; i < 16; i++)
        rd(UART_RX);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_THRI, "then: THR empty");
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_MSI,
                 "reading IIR took the THR-empty interrupt; then: modem "
                 "status");
    rd(UART_MSR);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_NO_INT);
    wr(UART_TX, '!');
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_THRI,
                 "sending a byte empties THR again");
    wr(UART_TX, '!');
    wr(UART_IER, UART_IER_RDI);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_NO_INT,
                 "THRI off: THR empty is not reported");
    wr(UART_IER, UART_IER_THRI);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_THRI);
}

/*
 * Linux's autoconfig() (drivers/tty/serial/8250/8250_port.c), step by
 * step on your UART, with autoconfig_16550a() and size_fifo(): the name
 * of the chip Linux would decide it is.
 */
static unsigned size_fifo(void)
{
    uint8_t old_lcr = rd(UART_LCR), old_fcr, old_mcr, dll, dlm;
    unsigned count;

    wr(UART_LCR, 0);
    old_fcr = rd(UART_FCR); /* Linux does read IIR here */
    old_mcr = rd(UART_MCR);
    wr(UART_FCR,
       UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_LCR, UART_LCR_CONF_MODE_A);
    dll = rd(UART_DLL);
    dlm = rd(UART_DLM);
    wr(UART_DLL, 1);
    wr(UART_DLM, 0);
    wr(UART_LCR, UART_LCR_WLEN8);
    for (count = 0; count < 256; count++)
        wr(UART_TX, (uint8_t)count);
    for (count = 0; (rd(UART_LSR) & UART_LSR_DR) && count < 256; count++)
        rd(UART_RX);
    wr(UART_FCR, old_fcr);
    wr(UART_MCR, old_mcr);
    wr(UART_LCR, UART_LCR_CONF_MODE_A);
    wr(UART_DLL, dll);
    wr(UART_DLM, dlm);
    wr(UART_LCR, old_lcr);
    return count;
}

static const char *autoconfig_16550a(void);

static const char *linux_autoconfig(void)
{
    uint8_t scratch, scratch2, scratch3, status1, status2, save_mcr, save_lcr;
    const char *chip;

    scratch = rd(UART_IER);
    wr(UART_IER, 0);
    scratch2 = rd(UART_IER) & 0x0f;
    wr(UART_IER, 0x0f);
    scratch3 = rd(UART_IER) & 0x0f;
    wr(UART_IER, scratch);
    if (scratch2 != 0 || scratch3 != 0x0f)
        return "nothing (IER test failed)";
    save_mcr = rd(UART_MCR);
    save_lcr = rd(UART_LCR);
    wr(UART_MCR, UART_MCR_LOOP | 0x0a);
    status1 = rd(UART_MSR) & 0xf0;
    wr(UART_MCR, save_mcr);
    if (status1 != 0x90)
        return "nothing (loopback test failed)";
    wr(UART_LCR, UART_LCR_CONF_MODE_B);
    wr(UART_EFR, 0);
    wr(UART_LCR, 0);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    switch (rd(UART_IIR) >> 6) {
    case 0: /* autoconfig_8250() */
        wr(UART_SCR, 0xa5);
        status1 = rd(UART_SCR);
        wr(UART_SCR, 0x5a);
        status2 = rd(UART_SCR);
        chip = status1 == 0xa5 && status2 == 0x5a ? "16450" : "8250";
        break;
    case 1:
        chip = "unknown";
        break;
    case 2:
        chip = "16550";
        break;
    default:
        chip = autoconfig_16550a();
        break;
    }
    /* Put the UART back as it was, FIFOs cleared, interrupts off. */
    wr(UART_LCR, save_lcr);
    wr(UART_MCR, save_mcr);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_FCR,
       UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    wr(UART_FCR, 0);
    rd(UART_RX);
    wr(UART_IER, 0);
    return chip;
}

/* Rule out the chips that extend the 16550A. */
static const char *autoconfig_16550a(void)
{
    uint8_t status1, status2, iersave;

    wr(UART_LCR, UART_LCR_CONF_MODE_A);
    if (rd(UART_EFR) == 0)
        return "16650 (EFR with DLAB)";
    wr(UART_LCR, UART_LCR_CONF_MODE_B);
    if (rd(UART_EFR) == 0)
        return "16650V2 (EFR with LCR = 0xbf)";
    wr(UART_LCR, 0);
    status1 = rd(UART_MCR);
    wr(UART_LCR, 0xe0);
    status2 = rd(2);
    if (!((status2 ^ status1) & UART_MCR_LOOP)) {
        wr(UART_LCR, 0);
        wr(UART_MCR, status1 ^ UART_MCR_LOOP);
        wr(UART_LCR, 0xe0);
        status2 = rd(2);
        wr(UART_LCR, 0);
        wr(UART_MCR, status1);
        if ((status2 ^ status1) & UART_MCR_LOOP)
            return "NS16550A";
    }
    wr(UART_LCR, 0);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    status1 = rd(UART_IIR) >> 5;
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_LCR, UART_LCR_CONF_MODE_A);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    status2 = rd(UART_IIR) >> 5;
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_LCR, 0);
    if (status1 == 6 && status2 == 7)
        return "16750";
    iersave = rd(UART_IER);
    wr(UART_IER, iersave & ~UART_IER_UUE);
    if (!(rd(UART_IER) & UART_IER_UUE)) {
        wr(UART_IER, iersave | UART_IER_UUE);
        if (rd(UART_IER) & UART_IER_UUE)
            return "XScale";
    }
    wr(UART_IER, iersave);
    return size_fifo() == 64 ? "U6_16550A" : "16550A";
}

Test(devices, uart_passes_linux_autoconfig)
{
    const char *chip;

    uart_power_on();
    wr(UART_LCR, UART_LCR_WLEN8);
    wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    chip = linux_autoconfig();
    cr_assert_str_eq(chip, "16550A", "Linux would call your UART a %s", chip);
    cr_assert_eq(size_fifo(), MVM_UART_FIFO, "size_fifo() counts the FIFO");
    cr_assert_eq(rd(UART_LCR), UART_LCR_WLEN8, "autoconfig restores LCR");
    cr_assert_eq(rd(UART_MCR), UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    cr_assert_eq(u.tx_bytes, 0, "the probe happens in loopback: no output");
}

Test(devices, probe_guest_finds_a_16550a)
{
    const char *out;

    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_probe.bin");
    vl_assert_ok(mvm_run(&vm));
    out = capture_text(&console);
    cr_assert(strstr(out, "FAILED") == NULL, "the probe failed:\n%s", out);
    cr_assert(strstr(out, "serial8250: ttyS0 at I/O 0x3f8 (irq = 4) is a "
                          "16550A\n") != NULL,
              "the probe did not find a 16550A:\n%s", out);
}

Test(devices, echo_guest_reads_host_input)
{
    static const char input[] = "hello, world\r\nQuit?\nquit\n";
    int fds[2];

    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], input, sizeof(input) - 1),
                 (ssize_t)sizeof(input) - 1);
    close(fds[1]);
    vm.opt.input_fd = fds[0];
    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_echo.bin");
    vl_assert_ok(mvm_run(&vm));
    close(fds[0]);
    cr_assert_str_eq(capture_text(&console), "echo: type lines; \"quit\" ends\n"
                                             "HELLO, WORLD\n"
                                             "QUIT?\n"
                                             "echo: bye\n");
}

Test(devices, hello_guest_prints_through_the_uart)
{
    const char *out;

    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_hello.bin");
    vl_assert_ok(mvm_run(&vm));
    out = capture_text(&console);
    cr_assert_str_eq(out,
                     "Hello from a C guest, through the 16550A UART at "
                     "0x3f8!\n20! = 2432902008176640000 (needs 62 bits)\n");
    cr_assert_eq(vm.uart.tx_bytes, strlen(out), "count the bytes sent");
}

/* ---- TODO 8: the test device ------------------------------------------- */

static struct mvm_testdev td;

static uint32_t td_read(uint64_t offset)
{
    uint32_t v = 0xdeadbeef;

    vl_assert_ok(mvm_testdev_read(&td, offset, 4, &v));
    return v;
}

static void td_write(uint64_t offset, uint32_t v)
{
    vl_assert_ok(mvm_testdev_write(&td, offset, 4, v));
}

Test(devices, testdev_sums_what_was_queued)
{
    cr_assert_eq(td_read(MVM_TESTDEV_MAGIC), MVM_TESTDEV_MAGIC_VALUE);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), 0);
    for (uint32_t i = 1; i <= 10; i++)
        td_write(MVM_TESTDEV_DATA, i);
    cr_assert_eq(td.ndata, 10);
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_SUM);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), MVM_TESTDEV_DONE);
    cr_assert_eq(td_read(MVM_TESTDEV_DATA), 55);
    cr_assert_eq(td.ndata, 0, "SUM empties the queue");
    cr_assert_eq(td.doorbells, 1);
    cr_assert_eq(td_read(MVM_TESTDEV_DOORBELL), 0, "DOORBELL reads 0");

    td_write(MVM_TESTDEV_DATA, 0xffffffff);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), 0, "a new word clears DONE");
    td_write(MVM_TESTDEV_DATA, 2);
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_SUM);
    cr_assert_eq(td_read(MVM_TESTDEV_DATA), 1, "the sum wraps at 2^32");
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_SUM);
    cr_assert_eq(td_read(MVM_TESTDEV_DATA), 0, "nothing queued: 0");

    td_write(MVM_TESTDEV_MAGIC, 0);
    td_write(MVM_TESTDEV_STATUS, 0);
    cr_assert_eq(td_read(MVM_TESTDEV_MAGIC), MVM_TESTDEV_MAGIC_VALUE,
                 "MAGIC is read-only");
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), MVM_TESTDEV_DONE,
                 "STATUS is read-only");
    cr_assert_eq(td.doorbells, 3);
}

Test(devices, testdev_reports_errors_and_resets)
{
    td_write(MVM_TESTDEV_DOORBELL, 0x99);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), MVM_TESTDEV_ERROR,
                 "an unknown command is an error");
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_RESET);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), 0);
    for (uint32_t i = 0; i < MVM_TESTDEV_DEPTH; i++)
        td_write(MVM_TESTDEV_DATA, 1);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), 0, "64 words fit");
    td_write(MVM_TESTDEV_DATA, 1000);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), MVM_TESTDEV_ERROR,
                 "the 65th word does not fit: ERROR");
    cr_assert_eq(td.ndata, MVM_TESTDEV_DEPTH);
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_SUM);
    cr_assert_eq(td_read(MVM_TESTDEV_DATA), MVM_TESTDEV_DEPTH,
                 "the word that did not fit is dropped");
    td_write(MVM_TESTDEV_DATA, 7);
    td_write(MVM_TESTDEV_DOORBELL, MVM_TESTDEV_CMD_RESET);
    cr_assert_eq(td.ndata, 0);
    cr_assert_eq(td_read(MVM_TESTDEV_STATUS), 0);
    cr_assert_eq(td_read(MVM_TESTDEV_DATA), 0, "RESET forgets the answer");
    cr_assert_eq(td.doorbells, 4, "RESET still counts the doorbells");
}

Test(devices, testdev_refuses_bad_accesses)
{
    uint32_t v;

    vl_assert_fails(mvm_testdev_read(&td, MVM_TESTDEV_STATUS, 2, &v), EINVAL,
                    "2-byte");
    assert_msg_has("0x4");
    vl_assert_fails(mvm_testdev_write(&td, MVM_TESTDEV_DATA, 1, 5), EINVAL,
                    "1-byte");
    cr_assert_eq(td.ndata, 0, "a refused write changes nothing");
    vl_assert_fails(mvm_testdev_read(&td, 0x6, 4, &v), EINVAL, "0x6");
    vl_assert_fails(mvm_testdev_write(&td, 0x8, 8, 5), EINVAL, "8-byte");
    vl_assert_fails(mvm_testdev_read(&td, 0x10, 4, &v), EINVAL, "0x10");
    vl_assert_fails(mvm_testdev_write(&td, 0xffc, 4, 5), EINVAL, "0xffc");
    cr_assert_eq(td.doorbells, 0);
}

Test(devices, sum_guest_drives_the_test_device)
{
    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_sum.bin");
    vl_assert_ok(mvm_run(&vm));
    cr_assert_str_eq(capture_text(&console),
                     "testdev: magic \"MVTD\" at 0xd0000000\n"
                     "testdev: queued 1..10, rang SUM: STATUS = DONE, "
                     "DATA = 55\n"
                     "testdev: rang command 0x99: STATUS = ERROR\n");
    cr_assert_eq(vm.testdev.doorbells, 3, "RESET, SUM and the bad command");
}

Test(devices, badwidth_guest_is_stopped)
{
    int r;

    vm.opt.max_exits = MAX_EXITS;
    boot_long_guest_file("dev_badwidth.bin");
    vl_err_clear();
    r = mvm_run(&vm);
    cr_assert_eq(r, -EINVAL, "a 16-bit read of STATUS: -EINVAL, got %d: %s", r,
                 vl_errmsg());
    assert_msg_has("2-byte");
    assert_msg_has("testdev");
    assert_msg_has("rip 0x");
    cr_assert(strstr(capture_text(&console), "wrong") == NULL,
              "the guest must not go on");
}
