/* Unit tests for vm/ without /dev/kvm: the 8250 model through the register sequences Linux's
 * serial driver uses, the boot protocol's bzImage and ELF vmlinux parsing and zero page, and the CMOS
 * clock and i8042 models. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/vm.h"

Test(uart, autoconfig_and_loopback)
{
        struct ctr_uart u;
        ctr_uart_init(&u, -1);
        ctr_uart_write(&u, 7, 0xa5);
        cr_assert_eq(ctr_uart_read(&u, 7), 0xa5, "scratch register");
        ctr_uart_write(&u, 4, 0x1a); /* LOOP | OUT2 | RTS */
        cr_assert_eq(ctr_uart_read(&u, 6) & 0xf0, 0x90, "MSR in loopback");
        ctr_uart_write(&u, 4, 0x00);
        cr_assert_eq(ctr_uart_read(&u, 6) & 0xf0, 0xb0, "MSR with a terminal attached");
        ctr_uart_write(&u, 2, 0x01); /* FIFO on */
        cr_assert_eq(ctr_uart_read(&u, 2) & 0xc0, 0xc0, "IIR shows the FIFO");
        ctr_uart_write(&u, 3, 0x80); /* DLAB */
        ctr_uart_write(&u, 0, 0x01);
        ctr_uart_write(&u, 1, 0x00);
        cr_assert_eq(ctr_uart_read(&u, 0), 0x01, "divisor latch low");
        ctr_uart_write(&u, 3, 0x03);
        cr_assert_eq(ctr_uart_read(&u, 5) & 0x60, 0x60, "transmitter empty");
}

Test(uart, thre_latch_and_irq)
{
        struct ctr_uart u;
        ctr_uart_init(&u, -1);
        ctr_uart_write(&u, 4, 0x08); /* OUT2: the line reaches the PIC */
        cr_assert_not(ctr_uart_irq(&u));
        ctr_uart_write(&u, 1, 0x02); /* enable THRI while THR is empty: raised */
        cr_assert(ctr_uart_irq(&u));
        cr_assert_eq(ctr_uart_read(&u, 2) & 0x0f, 0x02, "IIR: THR empty");
        cr_assert_not(ctr_uart_irq(&u), "reading IIR acknowledges it");
        cr_assert_eq(ctr_uart_read(&u, 2) & 0x0f, 0x01, "no interrupt pending");
        ctr_uart_write(&u, 0, 'x'); /* a byte sent: THR empty again */
        cr_assert(ctr_uart_irq(&u));
        ctr_uart_write(&u, 4, 0x00);
        cr_assert_not(ctr_uart_irq(&u), "OUT2 gates the line");
}

Test(uart, receive_and_output)
{
        struct ctr_uart u;
        int p[2];
        cr_assert_eq(pipe(p), 0);
        ctr_uart_init(&u, p[1]);
        ctr_uart_write(&u, 0, 'o');
        ctr_uart_write(&u, 0, 'k');
        char buf[4] = {0};
        cr_assert_eq(read(p[0], buf, 2), 2);
        cr_assert_str_eq(buf, "ok");
        ctr_uart_receive(&u, 'a');
        ctr_uart_receive(&u, 'b');
        cr_assert_eq(ctr_uart_read(&u, 5) & 1, 1, "data ready");
        ctr_uart_write(&u, 4, 0x08);
        ctr_uart_write(&u, 1, 0x01);
        cr_assert_eq(ctr_uart_read(&u, 2) & 0x0f, 0x04, "IIR: received data");
        cr_assert_eq(ctr_uart_read(&u, 0), 'a');
        cr_assert_eq(ctr_uart_read(&u, 0), 'b');
        cr_assert_eq(ctr_uart_read(&u, 5) & 1, 0, "drained");
        close(p[0]);
        close(p[1]);
}

/* A minimal image with a setup header: version, 64-bit entry, setup_sects. */
static void fake_bzimage(uint8_t *img, size_t len, uint16_t version, uint16_t xload)
{
        memset(img, 0, len);
        img[0x1f1] = 3;
        img[0x1fe] = 0x55;
        img[0x1ff] = 0xaa;
        memcpy(img + 0x202, "HdrS", 4);
        img[0x201] = 0x66; /* header ends at 0x268 */
        img[0x206] = version & 0xff;
        img[0x207] = version >> 8;
        img[0x236] = xload & 0xff;
        img[0x260] = 0x00;
        img[0x261] = 0x00;
        img[0x262] = 0x40; /* init_size 4 MiB */
        img[0x22c] = 0xff;
        img[0x22d] = 0xff;
        img[0x22e] = 0xff;
        img[0x22f] = 0x7f;
}

Test(boot, bzimage_parse)
{
        static uint8_t img[8192];
        struct ctr_bzimage bz;
        struct ctr_error err = {0};
        fake_bzimage(img, sizeof(img), 0x20f, 1);
        cr_assert_eq(ctr_bzimage_parse(img, sizeof(img), &bz, &err), 0, "%s", err.msg);
        cr_assert_eq(bz.setup_sects, 3);
        cr_assert_eq(bz.kernel_offset, 4 * 512);
        cr_assert_eq(bz.init_size, 4 << 20);
        fake_bzimage(img, sizeof(img), 0x20b, 1);
        cr_assert_lt(ctr_bzimage_parse(img, sizeof(img), &bz, &err), 0);
        cr_assert(strstr(err.msg, "too old"), "%s", err.msg);
        fake_bzimage(img, sizeof(img), 0x20f, 0);
        cr_assert_lt(ctr_bzimage_parse(img, sizeof(img), &bz, &err), 0);
        cr_assert(strstr(err.msg, "64-bit"), "%s", err.msg);
        fake_bzimage(img, sizeof(img), 0x20f, 1);
        cr_assert_lt(ctr_bzimage_parse(img, 1000, &bz, &err), 0, "truncated");
        memset(img + 0x202, 0, 4);
        cr_assert_lt(ctr_bzimage_parse(img, sizeof(img), &bz, &err), 0);
        cr_assert(strstr(err.msg, "neither a bzImage"), "%s", err.msg);
}

/* An ELF64 x86-64 executable shaped like vmlinux: nseg PT_LOAD headers (plus a PT_NOTE) at
 * physical 16 MiB and up, entry at the first. */
static void fake_vmlinux(uint8_t *img, size_t len, unsigned nseg)
{
        memset(img, 0, len);
        memcpy(img, "\177ELF", 4);
        img[4] = 2; /* ELFCLASS64 */
        img[5] = 1; /* little endian */
        img[6] = 1;
        uint16_t type = 2, machine = 62, phentsize = 56, phnum = (uint16_t)(nseg + 1);
        uint64_t entry = 0x1000000, phoff = 64;
        memcpy(img + 16, &type, 2);
        memcpy(img + 18, &machine, 2);
        memcpy(img + 24, &entry, 8);
        memcpy(img + 32, &phoff, 8);
        memcpy(img + 54, &phentsize, 2);
        memcpy(img + 56, &phnum, 2);
        for (unsigned i = 0; i <= nseg; i++) {
                uint8_t *ph = img + 64 + i * 56;
                uint32_t ptype = i < nseg ? 1 : 4;
                uint64_t off = 0x1000 + i * 0x800, paddr = 0x1000000 + i * 0x200000, filesz = 0x800,
                         memsz = 0x1000;
                memcpy(ph, &ptype, 4);
                memcpy(ph + 8, &off, 8);
                memcpy(ph + 16, &paddr, 8); /* vaddr: unused */
                memcpy(ph + 24, &paddr, 8);
                memcpy(ph + 32, &filesz, 8);
                memcpy(ph + 40, &memsz, 8);
        }
}

Test(boot, elf_parse)
{
        static uint8_t img[0x4000];
        struct ctr_elf elf;
        struct ctr_error err = {0};
        fake_vmlinux(img, sizeof(img), 3);
        cr_assert(ctr_elf_is(img, sizeof(img)));
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), 0, "%s", err.msg);
        cr_assert_eq(elf.nseg, 3, "the PT_NOTE is not loaded");
        cr_assert_eq(elf.entry, 0x1000000);
        cr_assert_eq(elf.seg[2].paddr, 0x1400000);
        cr_assert_eq(elf.seg[2].offset, 0x2000);
        cr_assert_eq(elf.end, 0x1400000 + 0x1000, "end: the last segment's memsz (its bss)");
        cr_assert_eq(elf.seg[0].filesz, 0x800);
        cr_assert_eq(elf.seg[0].memsz, 0x1000);
}

Test(boot, elf_rejects)
{
        static uint8_t img[0x4000];
        struct ctr_elf elf;
        struct ctr_error err = {0};
        uint64_t v;

        fake_vmlinux(img, sizeof(img), 2);
        cr_assert_eq(ctr_elf_parse(img, 0x1800, &elf, &err), -ENOEXEC, "a segment past the end of a truncated file");
        cr_assert(strstr(err.msg, "outside the file"), "%s", err.msg);
        cr_assert_eq(ctr_elf_parse(img, 100, &elf, &err), -ENOEXEC, "program headers cut off");

        img[4] = 1;
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "32-bit");
        fake_vmlinux(img, sizeof(img), 2);
        img[18] = 3; /* EM_386 */
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "not x86-64");
        cr_assert(strstr(err.msg, "x86-64"), "%s", err.msg);

        fake_vmlinux(img, sizeof(img), 2);
        v = 0x5000000;
        memcpy(img + 24, &v, 8);
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "entry outside every segment");
        cr_assert(strstr(err.msg, "entry point"), "%s", err.msg);

        fake_vmlinux(img, sizeof(img), 2);
        v = 0x8000;
        memcpy(img + 64 + 24, &v, 8);
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "a segment over the zero page");
        cr_assert(strstr(err.msg, "below 1 MiB"), "%s", err.msg);

        fake_vmlinux(img, sizeof(img), 2);
        v = 0x100; /* memsz below filesz */
        memcpy(img + 64 + 40, &v, 8);
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "inconsistent sizes");

        fake_vmlinux(img, sizeof(img), 2);
        v = ~0ull - 0x10; /* offset + filesz wraps */
        memcpy(img + 64 + 8, &v, 8);
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "offset overflow");

        fake_vmlinux(img, sizeof(img), 0);
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC, "no PT_LOAD");
        cr_assert(strstr(err.msg, "no load segments"), "%s", err.msg);

        memset(img, 0, sizeof(img));
        cr_assert(!ctr_elf_is(img, sizeof(img)));
        cr_assert_eq(ctr_elf_parse(img, sizeof(img), &elf, &err), -ENOEXEC);
}

Test(boot, zero_page)
{
        static uint8_t img[8192], zp[4096];
        fake_bzimage(img, sizeof(img), 0x20f, 1);
        ctr_vm_zero_page(zp, img, 64 << 20, 0x20000, 0x3f00000, 0x80000);
        cr_assert_eq(memcmp(zp + 0x202, "HdrS", 4), 0, "setup header copied");
        cr_assert_eq(zp[0x1f1], 3);
        cr_assert_eq(zp[0x210], 0xff, "type_of_loader");
        cr_assert(zp[0x211] & 0x81, "LOADED_HIGH | CAN_USE_HEAP");
        uint32_t cmd, rd, rdlen;
        memcpy(&cmd, zp + 0x228, 4);
        memcpy(&rd, zp + 0x218, 4);
        memcpy(&rdlen, zp + 0x21c, 4);
        cr_assert_eq(cmd, 0x20000);
        cr_assert_eq(rd, 0x3f00000);
        cr_assert_eq(rdlen, 0x80000);
        cr_assert_eq(zp[0x1e8], 3, "three e820 entries");
        uint64_t addr, size;
        uint32_t type;
        memcpy(&addr, zp + 0x2d0 + 2 * 20, 8);
        memcpy(&size, zp + 0x2d0 + 2 * 20 + 8, 8);
        memcpy(&type, zp + 0x2d0 + 2 * 20 + 16, 4);
        cr_assert_eq(addr, 0x100000);
        cr_assert_eq(size, (64 << 20) - 0x100000, "RAM from 1 MiB to the top");
        cr_assert_eq(type, 1);
        memcpy(&type, zp + 0x2d0 + 20 + 16, 4);
        cr_assert_eq(type, 2, "the BIOS hole is reserved");
        ctr_vm_zero_page(zp, NULL, 64 << 20, 0, 0, 0);
        cr_assert_eq(zp[0x1fe], 0x55, "a raw payload gets a boot flag too");
}

/* The CMOS clock as Linux's mc146818 code reads it: index on 0x70 (bit 7 the NMI mask), data
 * on 0x71, register A never "update in progress", D "valid", the encoding register B asks for. */
Test(legacy, rtc_time)
{
        struct ctr_rtc r;
        ctr_rtc_init(&r);
        time_t t = 1796320000; /* 2026-12-03 17:46:40 UTC, a Thursday */
        struct {
                uint8_t reg, bin, bcd;
        } want[] = {{0x00, 40, 0x40}, {0x02, 46, 0x46}, {0x04, 17, 0x17}, {0x06, 5, 0x05},
                    {0x07, 3, 0x03},  {0x08, 12, 0x12}, {0x09, 26, 0x26}, {0x32, 20, 0x20}};
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                ctr_rtc_write(&r, 0, want[i].reg | 0x80);
                cr_assert_eq(ctr_rtc_read(&r, 1, t), want[i].bcd, "BCD by default: reg %#x", want[i].reg);
        }
        ctr_rtc_write(&r, 0, 0x0a);
        cr_assert_eq(ctr_rtc_read(&r, 1, t) & 0x80, 0, "no update in progress");
        ctr_rtc_write(&r, 0, 0x0d);
        cr_assert_eq(ctr_rtc_read(&r, 1, t), 0x80, "valid RAM and time");
        /* Binary, then 12-hour BCD: what a guest asking for another encoding gets. */
        ctr_rtc_write(&r, 0, 0x0b);
        ctr_rtc_write(&r, 1, 0x06);
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                ctr_rtc_write(&r, 0, want[i].reg);
                cr_assert_eq(ctr_rtc_read(&r, 1, t), want[i].bin, "binary reg %#x", want[i].reg);
        }
        ctr_rtc_write(&r, 0, 0x0b);
        ctr_rtc_write(&r, 1, 0x00);
        ctr_rtc_write(&r, 0, 0x04);
        cr_assert_eq(ctr_rtc_read(&r, 1, t), 0x80 | 0x05, "5 pm in 12-hour BCD");
        /* Setting the time is ignored; CMOS RAM keeps what is written. */
        ctr_rtc_write(&r, 0, 0x00);
        ctr_rtc_write(&r, 1, 0x11);
        cr_assert_eq(ctr_rtc_read(&r, 1, t), 0x40);
        ctr_rtc_write(&r, 0, 0x40);
        ctr_rtc_write(&r, 1, 0x5a);
        cr_assert_eq(ctr_rtc_read(&r, 1, t), 0x5a);
        ctr_rtc_write(&r, 0, 0x0a);
        ctr_rtc_write(&r, 1, 0xa6);
        cr_assert_eq(ctr_rtc_read(&r, 1, t) & 0x80, 0, "UIP cannot be set");
}

/* The i8042 sequence of Linux's driver: flush, read the command byte (0x20), write it (0x60 +
 * data), self test (0xaa -> 0x55); 0xfe is the reset line. */
Test(legacy, i8042_protocol)
{
        struct ctr_i8042 k;
        ctr_i8042_init(&k);
        cr_assert_eq(ctr_i8042_read(&k, 0x64) & 0x03, 0, "nothing to read, ready for input");
        cr_assert(!ctr_i8042_write(&k, 0x64, 0x20));
        cr_assert_eq(ctr_i8042_read(&k, 0x64) & 0x01, 1, "output full");
        cr_assert_eq(ctr_i8042_read(&k, 0x60), 0x30);
        cr_assert_eq(ctr_i8042_read(&k, 0x64) & 0x01, 0, "read empties it");
        cr_assert(!ctr_i8042_write(&k, 0x64, 0x60));
        cr_assert(!ctr_i8042_write(&k, 0x60, 0x45));
        ctr_i8042_write(&k, 0x64, 0x20);
        cr_assert_eq(ctr_i8042_read(&k, 0x60), 0x45, "the command byte written reads back");
        ctr_i8042_write(&k, 0x64, 0xaa);
        cr_assert_eq(ctr_i8042_read(&k, 0x60), 0x55, "self test passed");
        cr_assert(!ctr_i8042_write(&k, 0x60, 0xff), "a keyboard command goes nowhere");
        cr_assert_eq(ctr_i8042_read(&k, 0x64) & 0x01, 0, "and nothing answers it");
        cr_assert(ctr_i8042_write(&k, 0x64, 0xfe), "reset pulse");
}

/* kvm_pvm interprets ring 0: ctr start refuses it unless CTR_VM_ALLOW_PVM=1 says the guest is one
 * of ours. */
Test(kvm, pvm_policy)
{
        struct ctr_error err = {0};
        cr_assert_eq(ctr_vm_pvm_check(false, NULL, &err), 0, "hardware KVM");
        cr_assert_eq(ctr_vm_pvm_check(false, "0", &err), 0, "hardware KVM, whatever the variable says");
        cr_assert_eq(ctr_vm_pvm_check(true, "1", &err), 0, "kvm_pvm allowed");
        static const char *const refused[] = {NULL, "", "0", "yes", "1 "};
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                memset(&err, 0, sizeof(err));
                cr_assert_eq(ctr_vm_pvm_check(true, refused[i], &err), -ENOTSUP, "kvm_pvm with '%s'",
                             refused[i] ? refused[i] : "(unset)");
                cr_assert_str_eq(err.op, "kvm");
                cr_assert(strstr(err.msg, "/dev/kvm is kvm_pvm (software nested virtualisation)"), "%s", err.msg);
                cr_assert(strstr(err.msg, "CTR_VM_ALLOW_PVM=1"), "names the override: %s", err.msg);
                cr_assert_null(strchr(err.msg, '\n'), "one line");
        }
}
