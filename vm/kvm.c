/* The VM itself: /dev/kvm ioctls for a VM with one RAM slot and one vCPU started directly in
 * long mode (GDT, identity page tables for the first GiB, CPUID from what KVM supports), and the
 * run loop that answers port I/O: the UART, the i8042 reset line, the debug-exit port. */
#define _GNU_SOURCE
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../runtime/util.h"

struct ctr_vm {
        int kvm, vm, vcpu;
        struct kvm_run *run;
        size_t run_size;
        uint8_t *mem;
        size_t mem_size;
        struct ctr_uart uart;
        bool irqchip;   /* in-kernel PIC, IOAPIC, LAPIC and PIT */
        bool uart_irq;  /* the level last put on the UART's line */
        uint64_t entry;
};

#define UART_IRQ 4

const char *ctr_vm_end_name(enum ctr_vm_end e)
{
        static const char *const names[] = {"debug-exit", "reset", "shutdown", "halt"};
        return names[e];
}

int ctr_vm_probe(bool *ret_pvm, struct ctr_error *err)
{
        *ret_pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "kvm", "open /dev/kvm");
        int v = ioctl(fd, KVM_GET_API_VERSION, 0);
        close(fd);
        if (v != KVM_API_VERSION)
                return ctr_err(err, ENOTSUP, "kvm", "/dev/kvm speaks API %d, not %d", v, KVM_API_VERSION);
        return 0;
}

void ctr_vm_free(struct ctr_vm *vm)
{
        if (!vm)
                return;
        if (vm->run)
                munmap(vm->run, vm->run_size);
        if (vm->mem)
                munmap(vm->mem, vm->mem_size);
        int fds[] = {vm->vcpu, vm->vm, vm->kvm};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(vm);
}

void *ctr_vm_mem(struct ctr_vm *vm, uint64_t gpa, uint64_t len)
{
        if (gpa > vm->mem_size || len > vm->mem_size - gpa)
                return NULL;
        return vm->mem + gpa;
}

size_t ctr_vm_mem_size(const struct ctr_vm *vm)
{
        return vm->mem_size;
}

/* Long mode from the first instruction: flat 64-bit code and data segments, paging with 2 MiB
 * pages identity-mapping the first GiB, PAE, EFER.LME|LMA. Selectors 0x10/0x18 as the boot
 * protocol asks (__BOOT_CS, __BOOT_DS). */
static int setup_long_mode(struct ctr_vm *vm, struct ctr_error *err)
{
        uint64_t *gdt = (uint64_t *)(vm->mem + CTR_VM_GDT);
        gdt[0] = 0;
        gdt[1] = 0;
        gdt[2] = 0x00af9b000000ffffull; /* code: present, DPL 0, executable, L */
        gdt[3] = 0x00cf93000000ffffull; /* data: present, DPL 0, writable, 4 GiB */
        uint64_t *pml4 = (uint64_t *)(vm->mem + CTR_VM_PML4);
        uint64_t *pdpt = (uint64_t *)(vm->mem + CTR_VM_PML4 + 0x1000);
        uint64_t *pd = (uint64_t *)(vm->mem + CTR_VM_PML4 + 0x2000);
        memset(pml4, 0, 3 * 4096);
        pml4[0] = (CTR_VM_PML4 + 0x1000) | 0x3; /* present, writable */
        pdpt[0] = (CTR_VM_PML4 + 0x2000) | 0x3;
        for (uint64_t i = 0; i < 512; i++)
                pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */

        struct kvm_sregs s;
        if (ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_SREGS");
        struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1,
                                   .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
        struct kvm_segment data = code;
        data.selector = 0x18;
        data.type = 3;
        data.l = 0;
        data.db = 1;
        s.cs = code;
        s.ds = s.es = s.fs = s.gs = s.ss = data;
        s.tr = (struct kvm_segment){.base = 0, .limit = 0x67, .selector = 0, .type = 11, .present = 1, .s = 0};
        s.gdt.base = CTR_VM_GDT;
        s.gdt.limit = 4 * 8 - 1;
        s.idt.base = 0;
        s.idt.limit = 0;
        s.cr3 = CTR_VM_PML4;
        s.cr4 = 0x20;                              /* PAE */
        s.cr0 = 0x80000000 | 0x10 | 0x1 | 0x20;    /* PG, ET, PE, NE */
        s.efer = 0x500;                            /* LME | LMA */
        if (ioctl(vm->vcpu, KVM_SET_SREGS, &s) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_SREGS (long mode)");
        return 0;
}

/* CPUID: what KVM can virtualise, as it reports it. Long mode needs at least the LM bit. */
static int setup_cpuid(struct ctr_vm *vm, struct ctr_error *err)
{
        size_t n = 256;
        _cleanup_free_ struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
                abort();
        c->nent = n;
        if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_SUPPORTED_CPUID");
        for (unsigned i = 0; i < c->nent; i++)
                if (c->entries[i].function == 1)
                        c->entries[i].ecx |= 1u << 31; /* the hypervisor bit */
        if (ioctl(vm->vcpu, KVM_SET_CPUID2, c) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_CPUID2");
        return 0;
}

/* The LAPIC's LINT0 takes the PIC's output (ExtINT) and LINT1 is NMI, as firmware leaves them:
 * without an MP table or ACPI, Linux runs the PIC in virtual-wire mode through LINT0. */
static int setup_lapic(struct ctr_vm *vm, struct ctr_error *err)
{
        struct kvm_lapic_state l;
        if (ioctl(vm->vcpu, KVM_GET_LAPIC, &l) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_LAPIC");
        uint32_t *lint0 = (uint32_t *)(l.regs + 0x350), *lint1 = (uint32_t *)(l.regs + 0x360);
        *lint0 = (*lint0 & ~0x700u & ~0x10000u) | (7u << 8); /* ExtINT, unmasked */
        *lint1 = (*lint1 & ~0x700u & ~0x10000u) | (4u << 8); /* NMI, unmasked */
        if (ioctl(vm->vcpu, KVM_SET_LAPIC, &l) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_LAPIC");
        return 0;
}

/* Put the UART's interrupt line at the level its registers ask for. */
static void uart_update_irq(struct ctr_vm *vm)
{
        bool level = ctr_uart_irq(&vm->uart);
        if (!vm->irqchip || level == vm->uart_irq)
                return;
        struct kvm_irq_level il = {.irq = UART_IRQ, .level = level};
        if (ioctl(vm->vm, KVM_IRQ_LINE, &il) == 0)
                vm->uart_irq = level;
}

struct ctr_vm *ctr_vm_new(unsigned mem_mb, int out_fd, struct ctr_error *err)
{
        struct ctr_vm *vm = calloc(1, sizeof(*vm));
        if (!vm)
                abort();
        vm->kvm = vm->vm = vm->vcpu = -1;
        ctr_uart_init(&vm->uart, out_fd);
        if (mem_mb < 2 || mem_mb > 3072) {
                ctr_err(err, EINVAL, "vm", "memory %u MiB is outside 2-3072 MiB", mem_mb);
                goto fail;
        }
        vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (vm->kvm < 0) {
                ctr_err_sys(err, errno, "kvm", "open /dev/kvm");
                goto fail;
        }
        vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
        if (vm->vm < 0) {
                ctr_err_sys(err, errno, "kvm", "KVM_CREATE_VM");
                goto fail;
        }
        /* Intel needs these below 4 GiB outside RAM; elsewhere they are harmless. */
        ioctl(vm->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
        uint64_t idmap = 0xfffbc000;
        ioctl(vm->vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
        vm->mem_size = (size_t)mem_mb << 20;
        vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (vm->mem == MAP_FAILED) {
                vm->mem = NULL;
                ctr_err_sys(err, errno, "vm", "allocate %u MiB of guest memory", mem_mb);
                goto fail;
        }
        struct kvm_userspace_memory_region region = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem_size, .userspace_addr = (uintptr_t)vm->mem};
        if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
                ctr_err_sys(err, errno, "kvm", "KVM_SET_USER_MEMORY_REGION");
                goto fail;
        }
        /* Interrupt controllers and the timer live in the kernel, created before any vCPU. */
        if (ioctl(vm->vm, KVM_CREATE_IRQCHIP, 0) == 0) {
                struct kvm_pit_config pit = {.flags = 0};
                if (ioctl(vm->vm, KVM_CREATE_PIT2, &pit) < 0) {
                        ctr_err_sys(err, errno, "kvm", "KVM_CREATE_PIT2");
                        goto fail;
                }
                vm->irqchip = true;
        }
        vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
        if (vm->vcpu < 0) {
                ctr_err_sys(err, errno, "kvm", "KVM_CREATE_VCPU");
                goto fail;
        }
        int sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (sz <= 0) {
                ctr_err_sys(err, errno, "kvm", "KVM_GET_VCPU_MMAP_SIZE");
                goto fail;
        }
        vm->run_size = sz;
        vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
        if (vm->run == MAP_FAILED) {
                vm->run = NULL;
                ctr_err_sys(err, errno, "kvm", "map the vCPU's run area");
                goto fail;
        }
        if (setup_cpuid(vm, err) < 0 || setup_long_mode(vm, err) < 0 || (vm->irqchip && setup_lapic(vm, err) < 0))
                goto fail;
        return vm;
fail:
        ctr_vm_free(vm);
        return NULL;
}

static int set_entry(struct ctr_vm *vm, uint64_t rip, struct ctr_error *err)
{
        struct kvm_regs r = {.rip = rip, .rsp = CTR_VM_STACK, .rsi = CTR_VM_ZERO_PAGE, .rflags = 0x2};
        if (ioctl(vm->vcpu, KVM_SET_REGS, &r) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_REGS");
        vm->entry = rip;
        return 0;
}

int ctr_vm_load_raw(struct ctr_vm *vm, const void *code, size_t len, struct ctr_error *err)
{
        void *dst = ctr_vm_mem(vm, CTR_VM_KERNEL, len);
        if (!dst)
                return ctr_err(err, E2BIG, "vm", "a %zu byte payload does not fit in guest memory", len);
        memcpy(dst, code, len);
        ctr_vm_zero_page(vm->mem + CTR_VM_ZERO_PAGE, NULL, vm->mem_size, 0, 0, 0);
        return set_entry(vm, CTR_VM_KERNEL, err);
}

int ctr_vm_load_bzimage(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                        size_t initrd_len, struct ctr_error *err)
{
        struct ctr_bzimage bz;
        int r = ctr_bzimage_parse(image, len, &bz, err);
        if (r < 0)
                return r;
        size_t klen = len - bz.kernel_offset;
        uint64_t kernel_end = CTR_VM_KERNEL + (bz.init_size > klen ? bz.init_size : klen);
        if (kernel_end > vm->mem_size)
                return ctr_err(err, E2BIG, "vm", "the kernel needs %llu MiB of memory to unpack, the VM has %zu",
                               (unsigned long long)(kernel_end >> 20) + 1, vm->mem_size >> 20);
        memcpy(vm->mem + CTR_VM_KERNEL, (const uint8_t *)image + bz.kernel_offset, klen);
        size_t clen = cmdline ? strlen(cmdline) : 0;
        if (clen >= CTR_VM_CMDLINE_MAX || (bz.cmdline_size && clen > bz.cmdline_size))
                return ctr_err(err, E2BIG, "vm", "the kernel command line is %zu bytes, too long", clen);
        memcpy(vm->mem + CTR_VM_CMDLINE, cmdline ? cmdline : "", clen + 1);
        uint32_t initrd_gpa = 0;
        if (initrd && initrd_len) {
                uint64_t top = vm->mem_size;
                if (bz.initrd_addr_max && top > (uint64_t)bz.initrd_addr_max + 1)
                        top = (uint64_t)bz.initrd_addr_max + 1;
                if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < kernel_end)
                        return ctr_err(err, E2BIG, "vm", "the initrd (%zu KiB) does not fit above the kernel",
                                       initrd_len >> 10);
                initrd_gpa = (top - initrd_len) & ~0xfffull;
                memcpy(vm->mem + initrd_gpa, initrd, initrd_len);
        }
        ctr_vm_zero_page(vm->mem + CTR_VM_ZERO_PAGE, image, vm->mem_size, CTR_VM_CMDLINE, initrd_gpa, initrd_len);
        return set_entry(vm, CTR_VM_KERNEL + 0x200, err);
}

/* One port access of the guest; returns 1 when it ends the VM. */
static int port_io(struct ctr_vm *vm, struct ctr_vm_result *res)
{
        struct kvm_run *run = vm->run;
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        for (unsigned i = 0; i < run->io.count; i++, data += run->io.size) {
                uint16_t port = run->io.port;
                bool out = run->io.direction == KVM_EXIT_IO_OUT;
                if (port >= CTR_VM_COM1 && port < CTR_VM_COM1 + 8) {
                        if (out)
                                ctr_uart_write(&vm->uart, port - CTR_VM_COM1, data[0]);
                        else
                                data[0] = ctr_uart_read(&vm->uart, port - CTR_VM_COM1);
                        uart_update_irq(vm);
                } else if (port == CTR_VM_I8042_CMD && out && data[0] == 0xfe) {
                        res->end = CTR_VM_END_RESET;
                        return 1;
                } else if (port == CTR_VM_DEBUG_EXIT && out) {
                        res->end = CTR_VM_END_DEBUG_EXIT;
                        res->code = data[0];
                        return 1;
                } else if (!out)
                        memset(data, port == CTR_VM_I8042_CMD || port == 0x60 ? 0 : 0xff, run->io.size);
                /* Other writes go nowhere, as on a bus with nothing behind the port. */
        }
        return 0;
}

int ctr_vm_run(struct ctr_vm *vm, struct ctr_vm_result *res, struct ctr_error *err)
{
        memset(res, 0, sizeof(*res));
        for (;;) {
                if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return ctr_err_sys(err, errno, "kvm", "KVM_RUN");
                }
                switch (vm->run->exit_reason) {
                case KVM_EXIT_IO:
                        if (port_io(vm, res))
                                return 0;
                        break;
                case KVM_EXIT_MMIO:
                        if (!vm->run->mmio.is_write)
                                memset(vm->run->mmio.data, 0xff, sizeof(vm->run->mmio.data));
                        break;
                case KVM_EXIT_HLT:
                        res->end = CTR_VM_END_HALT;
                        return 0;
                case KVM_EXIT_SHUTDOWN:
                        res->end = CTR_VM_END_SHUTDOWN;
                        return 0;
                case KVM_EXIT_FAIL_ENTRY:
                        return ctr_err(err, EIO, "kvm", "the vCPU could not enter the guest (reason 0x%llx)",
                                       (unsigned long long)vm->run->fail_entry.hardware_entry_failure_reason);
                case KVM_EXIT_INTERNAL_ERROR:
                        return ctr_err(err, EIO, "kvm", "KVM internal error %u (the host could not emulate an instruction)",
                                       vm->run->internal.suberror);
                default:
                        return ctr_err(err, EIO, "kvm", "unexpected exit reason %u", vm->run->exit_reason);
                }
        }
}
