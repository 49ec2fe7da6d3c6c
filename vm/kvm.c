/* The VM itself: /dev/kvm ioctls for a VM with one RAM slot and N vCPUs (the first started
 * directly in long mode: GDT, identity page tables for the first GiB; the others wait for the
 * guest's INIT/SIPI in the in-kernel LAPIC), one thread per vCPU running KVM_RUN, port I/O (UART,
 * PCI configuration, i8042 reset, debug exit) and MMIO (virtio BARs), and the I/O loop in the
 * caller's thread that feeds receive queues and notices a guest that halted for good. */
#define _GNU_SOURCE
#include "vm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/util.h"


const char *ctr_vm_end_name(enum ctr_vm_end e)
{
        static const char *const names[] = {"debug-exit", "reset", "shutdown", "halt"};
        if ((unsigned)e >= ARRAY_SIZE(names))
                return "?";
        return names[e];
}

int ctr_vm_probe(bool *ret_pvm, struct ctr_error *err)
{
        *ret_pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return ctr_err(err, ENOENT, "kvm",
                               "no /dev/kvm: this host offers no KVM (hardware virtualisation off, or no kvm_intel "
                               "or kvm_amd module loaded)");
        if (fd < 0 && (errno == EACCES || errno == EPERM))
                return ctr_err(err, errno, "kvm", "/dev/kvm: permission denied (root or the device's group may open it)");
        if (fd < 0)
                return ctr_err_sys(err, errno, "kvm", "open /dev/kvm");
        int v = ioctl(fd, KVM_GET_API_VERSION, 0);
        int e = errno;
        close(fd);
        if (v < 0)
                return ctr_err(err, ENOTSUP, "kvm", "/dev/kvm is not a KVM device (KVM_GET_API_VERSION: %s)",
                               strerror(e));
        if (v != KVM_API_VERSION)
                return ctr_err(err, ENOTSUP, "kvm", "/dev/kvm speaks API %d, not %d", v, KVM_API_VERSION);
        return 0;
}

int ctr_vm_pvm_check(bool pvm, const char *allow, struct ctr_error *err)
{
        /* kvm_pvm runs the guest's ring 0 through an interpreter: tiny guests get through, a
         * distribution kernel's boot does not finish. Refused unless the user asked for it. */
        if (!pvm || (allow && !strcmp(allow, "1")))
                return 0;
        return ctr_err(err, ENOTSUP, "kvm",
                       "/dev/kvm is kvm_pvm (software nested virtualisation), under which a distribution kernel "
                       "cannot boot; set CTR_VM_ALLOW_PVM=1 to boot anyway");
}

int ctr_vm_host_check(struct ctr_error *err)
{
        bool pvm = false;
        if (ctr_vm_probe(&pvm, err) < 0) {
                if (pvm)
                        ctr_err_prefix(err, "this host's KVM is kvm_pvm, which cannot boot a stock kernel");
                return -err->errnum;
        }
        return ctr_vm_pvm_check(pvm, getenv("CTR_VM_ALLOW_PVM"), err);
}


static void stop_vcpus(struct ctr_vm *vm);

void ctr_vm_free(struct ctr_vm *vm)
{
        if (!vm)
                return;
        if (vm->vcpus_started)
                stop_vcpus(vm); /* started, never run */
        for (unsigned i = 0; i < vm->ncpus; i++) {
                if (vm->cpu[i].run)
                        munmap(vm->cpu[i].run, vm->run_size);
                if (vm->cpu[i].fd >= 0)
                        close(vm->cpu[i].fd);
        }
        for (unsigned i = 0; i < vm->ndev; i++)
                ctr_virtio_free(vm->dev[i]);
        if (vm->mem.base)
                munmap(vm->mem.base, vm->mem.size);
        if (vm->wake_fd >= 0)
                close(vm->wake_fd);
        for (unsigned i = 0; i < vm->nowned; i++)
                close(vm->owned[i]);
        if (vm->vm >= 0)
                close(vm->vm);
        if (vm->kvm >= 0)
                close(vm->kvm);
        pthread_mutex_destroy(&vm->lock);
        pthread_mutex_destroy(&vm->pause_lock);
        pthread_cond_destroy(&vm->pause_cond);
        free(vm);
}

void *ctr_vm_mem(struct ctr_vm *vm, uint64_t gpa, uint64_t len)
{
        return ctr_vm_gpa(&vm->mem, gpa, len);
}

size_t ctr_vm_mem_size(const struct ctr_vm *vm)
{
        return vm->mem.size;
}

unsigned ctr_vm_vcpus(const struct ctr_vm *vm)
{
        return vm->ncpus;
}

/* Long mode from the first instruction: flat 64-bit code and data segments, paging with 2 MiB
 * pages identity-mapping the first GiB, PAE, EFER.LME|LMA. Selectors 0x10/0x18 as the boot
 * protocol asks (__BOOT_CS, __BOOT_DS). */
static int setup_long_mode(struct ctr_vm *vm, struct ctr_error *err)
{
        uint8_t *mem = vm->mem.base;
        uint64_t *gdt = (uint64_t *)(mem + CTR_VM_GDT);
        gdt[0] = 0;
        gdt[1] = 0;
        gdt[2] = 0x00af9b000000ffffull; /* code: present, DPL 0, executable, L */
        gdt[3] = 0x00cf93000000ffffull; /* data: present, DPL 0, writable, 4 GiB */
        uint64_t *pml4 = (uint64_t *)(mem + CTR_VM_PML4);
        uint64_t *pdpt = (uint64_t *)(mem + CTR_VM_PML4 + 0x1000);
        uint64_t *pd = (uint64_t *)(mem + CTR_VM_PML4 + 0x2000);
        memset(pml4, 0, 3 * 4096);
        pml4[0] = (CTR_VM_PML4 + 0x1000) | 0x3; /* present, writable */
        pdpt[0] = (CTR_VM_PML4 + 0x2000) | 0x3;
        for (uint64_t i = 0; i < 512; i++)
                pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */

        int fd = vm->cpu[0].fd;
        struct kvm_sregs s;
        if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
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
        if (ioctl(fd, KVM_SET_SREGS, &s) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_SREGS (long mode)");
        return 0;
}

/* CPUID: what KVM can virtualise, as it reports it, with each vCPU's own APIC id. */
static int setup_cpuid(struct ctr_vm *vm, struct ctr_error *err)
{
        size_t n = 256;
        _cleanup_free_ struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
                abort();
        c->nent = n;
        if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_SUPPORTED_CPUID");
        /* The in-kernel LAPIC has the TSC-deadline timer, which KVM announces as a capability
         * rather than in the CPUID it reports: without it the guest programs its timer through
         * the LAPIC's MMIO page, an instruction KVM must decode on every exit. */
        bool deadline = vm->irqchip && ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
        for (unsigned id = 0; id < vm->ncpus; id++) {
                for (unsigned i = 0; i < c->nent; i++) {
                        struct kvm_cpuid_entry2 *e = &c->entries[i];
                        if (e->function == 1) {
                                e->ecx |= 1u << 31; /* the hypervisor bit */
                                if (deadline)
                                        e->ecx |= 1u << 24;
                                e->ebx = (e->ebx & 0x0000ffffu) | (vm->ncpus << 16) | (id << 24);
                                if (vm->ncpus > 1)
                                        e->edx |= 1u << 28; /* HTT: the count above is valid */
                                vm->cpu_signature = e->eax;
                                vm->cpu_features = e->edx;
                        } else if (e->function == 0xb || e->function == 0x1f) {
                                e->edx = id;
                        }
                }
                if (ioctl(vm->cpu[id].fd, KVM_SET_CPUID2, c) < 0)
                        return ctr_err_sys(err, errno, "kvm", "KVM_SET_CPUID2");
        }
        return 0;
}

/* The LAPIC's LINT0 takes the PIC's output (ExtINT) and LINT1 is NMI, as firmware leaves them
 * (the MP table says the same). */
static int setup_lapic(struct ctr_vm *vm, unsigned id, struct ctr_error *err)
{
        struct kvm_lapic_state l;
        if (ioctl(vm->cpu[id].fd, KVM_GET_LAPIC, &l) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_LAPIC");
        uint32_t *lint0 = (uint32_t *)(l.regs + 0x350), *lint1 = (uint32_t *)(l.regs + 0x360);
        *lint0 = (*lint0 & ~0x700u & ~0x10000u) | (7u << 8); /* ExtINT, unmasked */
        *lint1 = (*lint1 & ~0x700u & ~0x10000u) | (4u << 8); /* NMI, unmasked */
        if (ioctl(vm->cpu[id].fd, KVM_SET_LAPIC, &l) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_LAPIC");
        return 0;
}

static void set_irq_line(void *data, unsigned gsi, bool level)
{
        struct ctr_vm *vm = data;
        if (!vm->irqchip)
                return;
        struct kvm_irq_level il = {.irq = gsi, .level = level};
        ioctl(vm->vm, KVM_IRQ_LINE, &il);
}

/* Put the UART's interrupt line at the level its registers ask for. Lock held. */
static void uart_update_irq(struct ctr_vm *vm)
{
        bool level = ctr_uart_irq(&vm->uart);
        if (!vm->irqchip || level == vm->uart_irq)
                return;
        set_irq_line(vm, UART_IRQ, level);
        vm->uart_irq = level;
}

/* Guest RAM: anonymous, aligned to 2 MiB and asked for transparent huge pages, so the host (and
 * a nested hypervisor's EPT) maps it in 2 MiB pages where it can: far fewer faults while the
 * guest first touches its memory, as QEMU does for its RAM. NULL with errno on failure. */
static void *guest_ram(size_t size)
{
        const size_t huge = 2u << 20;
        uint8_t *p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        uint8_t *base = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
        if (base > p)
                munmap(p, (size_t)(base - p));
        if (base + size < p + size + huge)
                munmap(base + size, (size_t)(p + size + huge - (base + size)));
        madvise(base, size, MADV_HUGEPAGE); /* advice: a host without THP maps 4 KiB pages */
        return base;
}

struct ctr_vm *ctr_vm_new(unsigned mem_mb, unsigned vcpus, int out_fd, struct ctr_error *err)
{
        struct ctr_vm *vm = calloc(1, sizeof(*vm));
        if (!vm)
                abort();
        vm->kvm = vm->vm = vm->wake_fd = vm->console_in = vm->control_fd = -1;
        for (unsigned i = 0; i < CTR_VM_MAX_VCPUS; i++)
                vm->cpu[i].fd = -1;
        pthread_mutex_init(&vm->lock, NULL);
        pthread_mutex_init(&vm->pause_lock, NULL);
        pthread_cond_init(&vm->pause_cond, NULL);
        ctr_uart_init(&vm->uart, out_fd);
        ctr_rtc_init(&vm->rtc);
        ctr_i8042_init(&vm->i8042);
        if (mem_mb < 2 || mem_mb > 3072) {
                ctr_err(err, EINVAL, "vm", "memory %u MiB is outside 2-3072 MiB", mem_mb);
                goto fail;
        }
        if (vcpus < 1 || vcpus > CTR_VM_MAX_VCPUS) {
                ctr_err(err, EINVAL, "vm", "%u vCPUs is outside 1-%d", vcpus, CTR_VM_MAX_VCPUS);
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
        vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vm->wake_fd < 0) {
                ctr_err_sys(err, errno, "vm", "eventfd");
                goto fail;
        }
        /* Intel needs these below 4 GiB outside RAM; elsewhere they are harmless. */
        ioctl(vm->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
        uint64_t idmap = 0xfffbc000;
        ioctl(vm->vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
        vm->mem.size = (size_t)mem_mb << 20;
        vm->mem.base = guest_ram(vm->mem.size);
        if (!vm->mem.base) {
                ctr_err_sys(err, errno, "vm", "allocate %u MiB of guest memory", mem_mb);
                goto fail;
        }
        struct kvm_userspace_memory_region region = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem.size, .userspace_addr = (uintptr_t)vm->mem.base};
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
        } else if (vcpus > 1) {
                ctr_err(err, ENOTSUP, "kvm", "this KVM has no in-kernel irqchip, which more than one vCPU needs");
                goto fail;
        }
        int sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (sz <= 0) {
                ctr_err_sys(err, errno, "kvm", "KVM_GET_VCPU_MMAP_SIZE");
                goto fail;
        }
        vm->run_size = sz;
        for (unsigned i = 0; i < vcpus; i++) {
                struct vcpu *c = &vm->cpu[i];
                c->vm = vm;
                c->id = i;
                vm->ncpus = i + 1;
                c->fd = ioctl(vm->vm, KVM_CREATE_VCPU, i);
                if (c->fd < 0) {
                        ctr_err_sys(err, errno, "kvm", "KVM_CREATE_VCPU %u", i);
                        goto fail;
                }
                c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
                if (c->run == MAP_FAILED) {
                        c->run = NULL;
                        ctr_err_sys(err, errno, "kvm", "map the run area of vCPU %u", i);
                        goto fail;
                }
        }
        if (setup_cpuid(vm, err) < 0 || setup_long_mode(vm, err) < 0 || (vm->irqchip && setup_lapic(vm, 0, err) < 0))
                goto fail;
        return vm;
fail:
        ctr_vm_free(vm);
        return NULL;
}

static int set_entry(struct ctr_vm *vm, uint64_t rip, struct ctr_error *err)
{
        struct kvm_regs r = {.rip = rip, .rsp = CTR_VM_STACK, .rsi = CTR_VM_ZERO_PAGE, .rflags = 0x2};
        if (ioctl(vm->cpu[0].fd, KVM_SET_REGS, &r) < 0)
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
        ctr_vm_zero_page(vm->mem.base + CTR_VM_ZERO_PAGE, NULL, vm->mem.size, 0, 0, 0);
        return set_entry(vm, CTR_VM_KERNEL, err);
}

/* The command line at its fixed address and the initrd as high as the kernel allows, above
 * kernel_end: what both loaders share. */
static int place_cmdline_initrd(struct ctr_vm *vm, uint64_t kernel_end, const char *cmdline, uint32_t cmdline_max,
                                const void *initrd, size_t initrd_len, uint32_t initrd_addr_max, uint32_t *ret_gpa,
                                struct ctr_error *err)
{
        uint8_t *mem = vm->mem.base;
        size_t clen = cmdline ? strlen(cmdline) : 0;
        if (clen >= CTR_VM_CMDLINE_MAX || (cmdline_max && clen > cmdline_max))
                return ctr_err(err, E2BIG, "vm", "the kernel command line is %zu bytes, too long", clen);
        memcpy(mem + CTR_VM_CMDLINE, cmdline ? cmdline : "", clen + 1);
        *ret_gpa = 0;
        if (initrd && initrd_len) {
                uint64_t top = vm->mem.size;
                if (initrd_addr_max && top > (uint64_t)initrd_addr_max + 1)
                        top = (uint64_t)initrd_addr_max + 1;
                if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < kernel_end)
                        return ctr_err(err, E2BIG, "vm", "the initrd (%zu KiB) does not fit above the kernel",
                                       initrd_len >> 10);
                *ret_gpa = (top - initrd_len) & ~0xfffull;
                memcpy(mem + *ret_gpa, initrd, initrd_len);
        }
        return 0;
}

int ctr_vm_load_bzimage(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                        size_t initrd_len, struct ctr_error *err)
{
        struct ctr_bzimage bz;
        int r = ctr_bzimage_parse(image, len, &bz, err);
        if (r < 0)
                return r;
        uint8_t *mem = vm->mem.base;
        size_t klen = len - bz.kernel_offset;
        uint64_t kernel_end = CTR_VM_KERNEL + (bz.init_size > klen ? bz.init_size : klen);
        if (kernel_end > vm->mem.size)
                return ctr_err(err, E2BIG, "vm", "the kernel needs %llu MiB of memory to unpack, the VM has %zu",
                               (unsigned long long)(kernel_end >> 20) + 1, (size_t)(vm->mem.size >> 20));
        memcpy(mem + CTR_VM_KERNEL, (const uint8_t *)image + bz.kernel_offset, klen);
        uint32_t initrd_gpa;
        r = place_cmdline_initrd(vm, kernel_end, cmdline, bz.cmdline_size, initrd, initrd_len, bz.initrd_addr_max,
                                 &initrd_gpa, err);
        if (r < 0)
                return r;
        ctr_vm_zero_page(mem + CTR_VM_ZERO_PAGE, image, vm->mem.size, CTR_VM_CMDLINE, initrd_gpa, initrd_len);
        return set_entry(vm, CTR_VM_KERNEL + 0x200, err);
}

/* The initrd stays below 2 GiB for a vmlinux: without a setup header there is no
 * initrd_addr_max, and 0x7fffffff is what the boot protocol promises every 2.03+ kernel. */
#define ELF_INITRD_MAX 0x7fffffffu

int ctr_vm_load_elf(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                    size_t initrd_len, struct ctr_error *err)
{
        struct ctr_elf elf;
        int r = ctr_elf_parse(image, len, &elf, err);
        if (r < 0)
                return r;
        /* The boot CPU starts with the first GiB identity-mapped (setup_long_mode). */
        if (elf.end > vm->mem.size || elf.end > (1ull << 30))
                return ctr_err(err, E2BIG, "vm", "the kernel loads up to %llu MiB, the VM has %zu MiB",
                               (unsigned long long)(elf.end >> 20) + 1, (size_t)(vm->mem.size >> 20));
        for (unsigned i = 0; i < elf.nseg; i++) {
                const struct ctr_elf_seg *sg = &elf.seg[i];
                memcpy(vm->mem.base + sg->paddr, (const uint8_t *)image + sg->offset, sg->filesz);
                memset(vm->mem.base + sg->paddr + sg->filesz, 0, sg->memsz - sg->filesz);
        }
        uint32_t initrd_gpa;
        r = place_cmdline_initrd(vm, elf.end, cmdline, 0, initrd, initrd_len, ELF_INITRD_MAX, &initrd_gpa, err);
        if (r < 0)
                return r;
        ctr_vm_zero_page(vm->mem.base + CTR_VM_ZERO_PAGE, NULL, vm->mem.size, CTR_VM_CMDLINE, initrd_gpa, initrd_len);
        return set_entry(vm, elf.entry, err);
}

int ctr_vm_load_kernel(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                       size_t initrd_len, struct ctr_error *err)
{
        if (ctr_elf_is(image, len))
                return ctr_vm_load_elf(vm, image, len, cmdline, initrd, initrd_len, err);
        const uint8_t *p = image;
        /* The boot sector signature and "HdrS": a bzImage, whose own checks say what is wrong. */
        if (len < 0x206 || p[0x1fe] != 0x55 || p[0x1ff] != 0xaa || memcmp(p + 0x202, "HdrS", 4) != 0)
                return ctr_err(err, ENOEXEC, "kernel", "neither a bzImage nor an ELF vmlinux");
        return ctr_vm_load_bzimage(vm, image, len, cmdline, initrd, initrd_len, err);
}

static int add_device(struct ctr_vm *vm, struct ctr_virtio *d, int rx_fd, struct ctr_error *err)
{
        if (!d)
                return -err->errnum;
        if (vm->ndev + 1 >= CTR_VM_MAX_PCI) {
                ctr_virtio_free(d);
                return ctr_err(err, ENOSPC, "vm", "no free PCI slot");
        }
        unsigned i = vm->ndev++;
        d->mem = &vm->mem;
        d->slot = i + 1;
        d->bar0 = CTR_VM_PCI_MMIO + d->slot * 0x10000u;
        d->gsi = CTR_VM_PCI_IRQ_BASE + i;
        d->pci[0x3c] = d->gsi;
        d->set_irq = set_irq_line;
        d->vm = vm;
        d->wake_fd = vm->wake_fd;
        vm->dev[i] = d;
        vm->dev_rx_fd[i] = rx_fd;
        if (rx_fd >= 0 && ctr_fd_set_nonblock(rx_fd, true) < 0)
                return ctr_err_sys(err, errno, "vm", "make a device backend non-blocking");
        return 0;
}

int ctr_vm_add_disk(struct ctr_vm *vm, int fd, bool readonly, struct ctr_error *err)
{
        return add_device(vm, ctr_virtio_blk_new(fd, readonly, "ctr-root", err), -1, err);
}

int ctr_vm_add_agent(struct ctr_vm *vm, int fd, struct ctr_error *err)
{
        return add_device(vm, ctr_virtio_console_new(fd, err), fd, err);
}

int ctr_vm_add_net(struct ctr_vm *vm, int tap_fd, const uint8_t mac[6], struct ctr_error *err)
{
        return add_device(vm, ctr_virtio_net_new(tap_fd, mac, err), tap_fd, err);
}

int ctr_vm_adopt_fd(struct ctr_vm *vm, int fd)
{
        if (vm->nowned == ARRAY_SIZE(vm->owned)) {
                close(fd);
                return -EMFILE;
        }
        vm->owned[vm->nowned++] = fd;
        return 0;
}

void ctr_vm_set_console_input(struct ctr_vm *vm, int fd)
{
        vm->console_in = fd;
}

/* End the VM (first reason wins) and wake the I/O loop. */
static void end_vm(struct ctr_vm *vm, enum ctr_vm_end e, int code, const struct ctr_error *err)
{
        pthread_mutex_lock(&vm->lock);
        if (!vm->ended) {
                vm->ended = true;
                vm->res.end = e;
                vm->res.code = code;
                if (err) {
                        vm->err = *err;
                        vm->rc = -err->errnum;
                }
        }
        pthread_mutex_unlock(&vm->lock);
        uint64_t one = 1;
        if (write(vm->wake_fd, &one, sizeof(one)) < 0) {
                /* saturated: the loop is awake */
        }
}

/* PCI configuration mechanism #1: the address latch at 0xcf8, data at 0xcfc-0xcff. Bus 0 only;
 * slot 0 is the host bridge (Linux's probe wants one), slots 1.. the virtio functions. */
static uint32_t pci_read(struct ctr_vm *vm, unsigned off, unsigned len)
{
        uint32_t a = vm->pci_addr;
        unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7, reg = (a & 0xfc) + off;
        if (!(a & 0x80000000u) || bus || fn)
                return 0xffffffffu;
        if (slot == 0) {
                static const uint8_t host[64] = {0x36, 0x1b, 0x08, 0x00, [0x0a] = 0x00, [0x0b] = 0x06};
                uint32_t v = 0;
                if (reg + len <= sizeof(host))
                        memcpy(&v, host + reg, len);
                return v;
        }
        for (unsigned i = 0; i < vm->ndev; i++)
                if (vm->dev[i]->slot == slot) {
                        pthread_mutex_lock(&vm->dev[i]->lock);
                        uint32_t v = ctr_virtio_pci_read(vm->dev[i], reg, len);
                        pthread_mutex_unlock(&vm->dev[i]->lock);
                        return v;
                }
        return 0xffffffffu;
}

static void pci_write(struct ctr_vm *vm, unsigned off, unsigned len, uint32_t v)
{
        uint32_t a = vm->pci_addr;
        unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7, reg = (a & 0xfc) + off;
        if (!(a & 0x80000000u) || bus || fn || slot == 0)
                return;
        for (unsigned i = 0; i < vm->ndev; i++)
                if (vm->dev[i]->slot == slot) {
                        pthread_mutex_lock(&vm->dev[i]->lock);
                        ctr_virtio_pci_write(vm->dev[i], reg, len, v);
                        pthread_mutex_unlock(&vm->dev[i]->lock);
                }
}

/* One port access of the guest. */
static void port_io(struct ctr_vm *vm, struct kvm_run *run)
{
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        unsigned size = run->io.size;
        for (unsigned i = 0; i < run->io.count; i++, data += size) {
                uint16_t port = run->io.port;
                bool out = run->io.direction == KVM_EXIT_IO_OUT;
                uint32_t v = 0;
                memcpy(&v, data, size);
                if (port >= CTR_VM_COM1 && port < CTR_VM_COM1 + 8) {
                        pthread_mutex_lock(&vm->lock);
                        if (out)
                                ctr_uart_write(&vm->uart, port - CTR_VM_COM1, data[0]);
                        else
                                data[0] = ctr_uart_read(&vm->uart, port - CTR_VM_COM1);
                        uart_update_irq(vm);
                        pthread_mutex_unlock(&vm->lock);
                } else if (port >= 0xcf8 && port < 0xcfc) {
                        pthread_mutex_lock(&vm->lock);
                        if (port == 0xcf8 && size == 4) {
                                if (out)
                                        vm->pci_addr = v;
                                else
                                        memcpy(data, &vm->pci_addr, 4);
                        } else if (!out)
                                memset(data, 0xff, size);
                        pthread_mutex_unlock(&vm->lock);
                } else if (port >= 0xcfc && port < 0xd00) {
                        pthread_mutex_lock(&vm->lock);
                        if (out)
                                pci_write(vm, port - 0xcfc, size, v);
                        else {
                                v = pci_read(vm, port - 0xcfc, size);
                                memcpy(data, &v, size);
                        }
                        pthread_mutex_unlock(&vm->lock);
                } else if (port == CTR_VM_RTC || port == CTR_VM_RTC + 1) {
                        pthread_mutex_lock(&vm->lock);
                        if (out)
                                ctr_rtc_write(&vm->rtc, port - CTR_VM_RTC, data[0]);
                        else
                                data[0] = ctr_rtc_read(&vm->rtc, port - CTR_VM_RTC, time(NULL));
                        pthread_mutex_unlock(&vm->lock);
                } else if (port == CTR_VM_I8042_DATA || port == CTR_VM_I8042_CMD) {
                        pthread_mutex_lock(&vm->lock);
                        bool reset = false;
                        if (out)
                                reset = ctr_i8042_write(&vm->i8042, port, data[0]);
                        else
                                data[0] = ctr_i8042_read(&vm->i8042, port);
                        pthread_mutex_unlock(&vm->lock);
                        if (reset)
                                end_vm(vm, CTR_VM_END_RESET, 0, NULL);
                } else if (port == CTR_VM_DEBUG_EXIT && out) {
                        end_vm(vm, CTR_VM_END_DEBUG_EXIT, data[0], NULL);
                } else if (!out)
                        memset(data, 0xff, size);
                /* Other writes go nowhere, as on a bus with nothing behind the port. */
        }
}

static void mmio(struct ctr_vm *vm, struct kvm_run *run)
{
        uint64_t a = run->mmio.phys_addr;
        unsigned len = run->mmio.len;
        for (unsigned i = 0; i < vm->ndev; i++) {
                struct ctr_virtio *d = vm->dev[i];
                if (d->bar0 && a >= d->bar0 && a + len <= (uint64_t)d->bar0 + CTR_VM_PCI_BAR_SIZE) {
                        if (run->mmio.is_write)
                                ctr_virtio_bar_write(d, a - d->bar0, run->mmio.data, len);
                        else
                                ctr_virtio_bar_read(d, a - d->bar0, run->mmio.data, len);
                        return;
                }
        }
        if (!run->mmio.is_write)
                memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

/* A kick interrupted KVM_RUN: look whether this vCPU sits in hlt with interrupts off, the state
 * Linux's halt and power-off paths leave every CPU in when there is no ACPI to power off with. */
static void halt_check(struct vcpu *c)
{
        struct kvm_mp_state mp;
        struct kvm_regs r;
        bool dead = false;
        if (ioctl(c->fd, KVM_GET_MP_STATE, &mp) == 0) {
                if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
                        dead = true; /* never brought up, or parked by the guest */
                else if (mp.mp_state == KVM_MP_STATE_HALTED && ioctl(c->fd, KVM_GET_REGS, &r) == 0)
                        dead = !(r.rflags & 0x200);
        }
        __atomic_store_n(&c->dead_halt, dead, __ATOMIC_RELEASE);
        __atomic_store_n(&c->check, false, __ATOMIC_RELEASE);
}

/* Wait out a pause, counted among the parked. */
static void park(struct vcpu *c)
{
        struct ctr_vm *vm = c->vm;
        pthread_mutex_lock(&vm->pause_lock);
        vm->parked++;
        pthread_cond_broadcast(&vm->pause_cond);
        while (vm->pause && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE))
                pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
        vm->parked--;
        pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
        struct vcpu *c = arg;
        struct ctr_vm *vm = c->vm;
        struct ctr_error err = {0};
        /* Created by ctr_vm_start_vcpus: no guest code before ctr_vm_run. */
        pthread_mutex_lock(&vm->pause_lock);
        while (vm->held && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE))
                pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
        pthread_mutex_unlock(&vm->pause_lock);
        for (;;) {
                if (__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE))
                        return NULL;
                if (c->settled && __atomic_load_n(&vm->pause, __ATOMIC_ACQUIRE)) {
                        park(c);
                        continue;
                }
                c->settled = false;
                if (ioctl(c->fd, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN) {
                                c->run->immediate_exit = 0;
                                c->settled = true;
                                if (__atomic_load_n(&c->check, __ATOMIC_ACQUIRE))
                                        halt_check(c);
                                continue;
                        }
                        ctr_err_sys(&err, errno, "kvm", "KVM_RUN on vCPU %u", c->id);
                        end_vm(vm, CTR_VM_END_SHUTDOWN, 0, &err);
                        return NULL;
                }
                struct kvm_run *run = c->run;
                switch (run->exit_reason) {
                case KVM_EXIT_IO:
                        port_io(vm, run);
                        break;
                case KVM_EXIT_MMIO:
                        mmio(vm, run);
                        break;
                case KVM_EXIT_HLT:
                        /* Only without an in-kernel LAPIC: nothing can wake this vCPU. */
                        end_vm(vm, CTR_VM_END_HALT, 0, NULL);
                        return NULL;
                case KVM_EXIT_SHUTDOWN:
                        end_vm(vm, CTR_VM_END_SHUTDOWN, 0, NULL);
                        return NULL;
                case KVM_EXIT_INTR:
                        break;
                case KVM_EXIT_FAIL_ENTRY:
                        ctr_err(&err, EIO, "kvm", "vCPU %u could not enter the guest (reason 0x%llx)", c->id,
                                (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
                        end_vm(vm, CTR_VM_END_SHUTDOWN, 0, &err);
                        return NULL;
                case KVM_EXIT_INTERNAL_ERROR:
                        ctr_err(&err, EIO, "kvm", "KVM internal error %u on vCPU %u (the host could not emulate an instruction)",
                                run->internal.suberror, c->id);
                        end_vm(vm, CTR_VM_END_SHUTDOWN, 0, &err);
                        return NULL;
                default:
                        ctr_err(&err, EIO, "kvm", "unexpected exit reason %u on vCPU %u", run->exit_reason, c->id);
                        end_vm(vm, CTR_VM_END_SHUTDOWN, 0, &err);
                        return NULL;
                }
        }
}

static void kick_handler(int sig)
{
}

static void kick(struct vcpu *c)
{
        c->run->immediate_exit = 1;
        pthread_kill(c->thread, KICK_SIGNAL);
}

/* A kick makes KVM_RUN return at once (immediate_exit), after completing an I/O exit the
 * thread was handling: once back with EINTR the vCPU's state is whole, and it parks. */
int ctr_vm_pause(struct ctr_vm *vm, struct ctr_error *err)
{
        unsigned want = 0;
        pthread_mutex_lock(&vm->pause_lock);
        __atomic_store_n(&vm->pause, true, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&vm->pause_lock);
        for (unsigned i = 0; i < vm->ncpus; i++)
                if (vm->cpu[i].started) {
                        kick(&vm->cpu[i]);
                        want++;
                }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        int r = 0;
        pthread_mutex_lock(&vm->pause_lock);
        while (vm->parked < want && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE) && r == 0)
                r = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &until);
        bool ok = vm->parked >= want && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE);
        unsigned parked = vm->parked;
        pthread_mutex_unlock(&vm->pause_lock);
        if (!ok) {
                ctr_vm_resume(vm);
                return ctr_err(err, ETIMEDOUT, "pause", "%u of %u vCPUs stopped within 5 s", parked, want);
        }
        return 0;
}

void ctr_vm_resume(struct ctr_vm *vm)
{
        pthread_mutex_lock(&vm->pause_lock);
        __atomic_store_n(&vm->pause, false, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&vm->pause_cond);
        pthread_mutex_unlock(&vm->pause_lock);
}

void ctr_vm_sync_irqs(struct ctr_vm *vm)
{
        pthread_mutex_lock(&vm->lock);
        if (vm->uart_irq)
                set_irq_line(vm, UART_IRQ, true);
        pthread_mutex_unlock(&vm->lock);
        for (unsigned i = 0; i < vm->ndev; i++)
                if (vm->dev[i]->isr & 1)
                        set_irq_line(vm, vm->dev[i]->gsi, true);
}

void ctr_vm_set_control(struct ctr_vm *vm, int fd)
{
        vm->control_fd = fd;
}

/* Feed the UART's receiver from console_in, as much as it has room for. */
static void console_input(struct ctr_vm *vm)
{
        uint8_t buf[256];
        pthread_mutex_lock(&vm->lock);
        size_t room = sizeof(vm->uart.rx) - vm->uart.rx_len;
        pthread_mutex_unlock(&vm->lock);
        if (!room)
                return;
        ssize_t n = read(vm->console_in, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        vm->console_in = -1; /* the terminal went away: no more input */
                return;
        }
        pthread_mutex_lock(&vm->lock);
        for (ssize_t i = 0; i < n; i++)
                ctr_uart_receive(&vm->uart, buf[i]);
        uart_update_irq(vm);
        pthread_mutex_unlock(&vm->lock);
}

/* End the vCPU threads: the ended flag, then a kick out of KVM_RUN (or out of a pause or the
 * start gate), and join them; the caller's signal mask comes back. */
static void stop_vcpus(struct ctr_vm *vm)
{
        __atomic_store_n(&vm->ended, true, __ATOMIC_RELEASE);
        pthread_mutex_lock(&vm->pause_lock);
        pthread_cond_broadcast(&vm->pause_cond);
        pthread_mutex_unlock(&vm->pause_lock);
        for (unsigned i = 0; i < vm->ncpus; i++)
                if (vm->cpu[i].started)
                        kick(&vm->cpu[i]);
        for (unsigned i = 0; i < vm->ncpus; i++)
                if (vm->cpu[i].started) {
                        pthread_join(vm->cpu[i].thread, NULL);
                        vm->cpu[i].started = false;
                }
        if (vm->vcpus_started)
                pthread_sigmask(SIG_SETMASK, &vm->old_mask, NULL);
        vm->vcpus_started = false;
}

int ctr_vm_start_vcpus(struct ctr_vm *vm, struct ctr_error *err)
{
        if (vm->vcpus_started)
                return 0;
        /* The MP table: CPUs, the IOAPIC, and where each PCI slot's interrupt goes. */
        uint8_t slots[CTR_VM_MAX_PCI];
        for (unsigned i = 0; i < vm->ndev; i++)
                slots[i] = vm->dev[i]->slot;
        if (vm->irqchip && !vm->restored && !ctr_vm_mptable(vm->mem.base + CTR_VM_MPTABLE, CTR_VM_MPTABLE, 0x400, vm->ncpus, slots,
                                           vm->ndev, vm->cpu_signature, vm->cpu_features))
                return ctr_err(err, E2BIG, "vm", "the MP table for %u vCPUs does not fit", vm->ncpus);

        struct sigaction sa = {.sa_handler = kick_handler};
        sigemptyset(&sa.sa_mask);
        if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
                return ctr_err_sys(err, errno, "vm", "install the vCPU kick handler");
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, KICK_SIGNAL);
        /* The kick signal goes only to vCPU threads; they unblock it themselves. */
        pthread_sigmask(SIG_BLOCK, &block, &vm->old_mask);
        vm->vcpus_started = true;
        vm->held = true;
        for (unsigned i = 0; i < vm->ncpus; i++) {
                sigset_t allow = vm->old_mask;
                sigdelset(&allow, KICK_SIGNAL);
                pthread_sigmask(SIG_SETMASK, &allow, NULL);
                int e = pthread_create(&vm->cpu[i].thread, NULL, vcpu_thread, &vm->cpu[i]);
                pthread_sigmask(SIG_BLOCK, &block, NULL);
                if (e) {
                        /* EAGAIN under a pids limit: the container's cgroup binds the VMM. */
                        stop_vcpus(vm);
                        return ctr_err_sys(err, e, "vm", "start the thread of vCPU %u of %u", i, vm->ncpus);
                }
                vm->cpu[i].started = true;
        }
        return 0;
}

int ctr_vm_run(struct ctr_vm *vm, struct ctr_vm_result *res, struct ctr_error *err)
{
        memset(res, 0, sizeof(*res));
        if (__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE))
                return ctr_err(err, EINVAL, "vm", "this VM has already run");
        int r = ctr_vm_start_vcpus(vm, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&vm->pause_lock);
        vm->held = false;
        pthread_cond_broadcast(&vm->pause_cond);
        pthread_mutex_unlock(&vm->pause_lock);

        unsigned dead_rounds = 0;
        while (!r && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE)) {
                struct pollfd p[3 + CTR_VM_MAX_PCI];
                int map[3 + CTR_VM_MAX_PCI];
                unsigned n = 0;
                p[n] = (struct pollfd){.fd = vm->wake_fd, .events = POLLIN};
                map[n++] = -1;
                if (vm->control_fd >= 0) {
                        p[n] = (struct pollfd){.fd = vm->control_fd, .events = POLLIN};
                        map[n++] = -3;
                }
                if (vm->console_in >= 0) {
                        p[n] = (struct pollfd){.fd = vm->console_in, .events = POLLIN};
                        map[n++] = -2;
                }
                for (unsigned i = 0; i < vm->ndev; i++)
                        if (vm->dev_rx_fd[i] >= 0 && ctr_virtio_rx_room(vm->dev[i], 0)) {
                                p[n] = (struct pollfd){.fd = vm->dev_rx_fd[i], .events = POLLIN};
                                map[n++] = i;
                        }
                int k = poll(p, n, 200);
                if (k < 0 && errno != EINTR) {
                        r = ctr_err_sys(err, errno, "vm", "poll");
                        break;
                }
                for (unsigned j = 0; k > 0 && j < n; j++) {
                        if (!p[j].revents)
                                continue;
                        if (map[j] == -1) {
                                uint64_t v;
                                if (read(vm->wake_fd, &v, sizeof(v)) < 0) {
                                        /* nothing pending */
                                }
                        } else if (map[j] == -2) {
                                console_input(vm);
                        } else if (map[j] == -3) {
                                if (!ctr_vm_control(vm))
                                        vm->control_fd = -1; /* the monitor went away */
                        } else {
                                struct ctr_virtio *d = vm->dev[map[j]];
                                int x = d->type == 1 ? ctr_virtio_net_rx(d) : ctr_virtio_console_rx(d);
                                if (x < 0)
                                        vm->dev_rx_fd[map[j]] = -1; /* the backend ended */
                        }
                }
                if (k == 0 && vm->irqchip) {
                        /* Quiet for 200 ms: is every vCPU halted with interrupts off? Twice in a
                         * row, so a CPU caught between cli and sti does not count. */
                        bool all = true;
                        for (unsigned i = 0; i < vm->ncpus; i++)
                                all = all && __atomic_load_n(&vm->cpu[i].dead_halt, __ATOMIC_ACQUIRE);
                        dead_rounds = all ? dead_rounds + 1 : 0;
                        if (dead_rounds >= 2) {
                                end_vm(vm, CTR_VM_END_HALT, 0, NULL);
                                break;
                        }
                        for (unsigned i = 0; i < vm->ncpus; i++) {
                                __atomic_store_n(&vm->cpu[i].check, true, __ATOMIC_RELEASE);
                                kick(&vm->cpu[i]);
                        }
                }
        }
        stop_vcpus(vm);
        if (r < 0)
                return r;
        if (vm->rc < 0) {
                *err = vm->err;
                return vm->rc;
        }
        *res = vm->res;
        return 0;
}
