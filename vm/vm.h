/* vm/: ctr's own VMM against /dev/kvm. A VM with one memory slot and up to 32 vCPUs (the boot
 * CPU entered directly in 64-bit long mode), the in-kernel irqchip and PIT, an MP table, the
 * 8250 UART on 0x3f8, the CMOS clock, the i8042 controller and its reset line, a debug-exit
 * port, the x86 boot protocol for bzImage, ELF vmlinux and raw payloads, and virtio-pci devices
 * (block, console for the guest agent, net). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../base/error.h"

/* Guest physical layout (Firecracker-compatible). */
#define CTR_VM_GDT 0x500
#define CTR_VM_ZERO_PAGE 0x7000
#define CTR_VM_STACK 0x8ff0
#define CTR_VM_PML4 0x9000
#define CTR_VM_CMDLINE 0x20000
#define CTR_VM_CMDLINE_MAX 2048
#define CTR_VM_KERNEL 0x100000

/* Ports of the devices the VMM answers. */
#define CTR_VM_COM1 0x3f8
#define CTR_VM_I8042_DATA 0x60
#define CTR_VM_I8042_CMD 0x64
#define CTR_VM_RTC 0x70
#define CTR_VM_DEBUG_EXIT 0xf4 /* a write of v ends the VM with exit code v (tests) */

enum ctr_vm_end {
        CTR_VM_END_DEBUG_EXIT, /* the guest wrote the debug-exit port */
        CTR_VM_END_RESET,      /* i8042 reset (Linux reboot=k) */
        CTR_VM_END_SHUTDOWN,   /* triple fault */
        CTR_VM_END_HALT,       /* every vCPU in hlt with interrupts off: the guest halted or powered off */
};

struct ctr_vm_result {
        enum ctr_vm_end end;
        int code; /* debug-exit value */
};

/* The 8250 UART: the register model Linux's driver probes (DLAB, IER, IIR with FIFO bits, LCR,
 * MCR with loopback, LSR, MSR, scratch); transmitted bytes go to out_fd. */
struct ctr_uart {
        uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
        bool thre_pending; /* THR-empty interrupt latched, cleared by reading IIR */
        uint8_t rx[256];
        unsigned rx_head, rx_len;
        int out_fd;
};

void ctr_uart_init(struct ctr_uart *u, int out_fd);
uint8_t ctr_uart_read(struct ctr_uart *u, unsigned offset);
void ctr_uart_write(struct ctr_uart *u, unsigned offset, uint8_t v);
/* Queue a received byte (console input). */
void ctr_uart_receive(struct ctr_uart *u, uint8_t c);
/* The interrupt line level the UART asks for. */
bool ctr_uart_irq(const struct ctr_uart *u);

/* The CMOS clock: reads give the host's time (UTC, in the encoding register B asks for); the
 * alarm and periodic interrupts are not wired, setting the time is ignored. */
struct ctr_rtc {
        uint8_t index;
        uint8_t ram[128];
};
void ctr_rtc_init(struct ctr_rtc *r);
/* port: 0 for 0x70 (index), 1 for 0x71 (data). */
uint8_t ctr_rtc_read(struct ctr_rtc *r, unsigned port, time_t now);
void ctr_rtc_write(struct ctr_rtc *r, unsigned port, uint8_t v);

/* The i8042 controller without devices behind it: self tests pass, the command byte reads back,
 * 0xfe pulses the reset line (ctr_i8042_write returns true). port: 0x60 or 0x64. */
struct ctr_i8042 {
        uint8_t ctr, out, pending;
        bool out_full, last_cmd;
};
void ctr_i8042_init(struct ctr_i8042 *k);
uint8_t ctr_i8042_read(struct ctr_i8042 *k, unsigned port);
bool ctr_i8042_write(struct ctr_i8042 *k, unsigned port, uint8_t v);

struct ctr_vm;

/* /dev/kvm usable? ENOENT/EACCES with a message; notes a PVM host in *ret_pvm. */
int ctr_vm_probe(bool *ret_pvm, struct ctr_error *err);
/* What a booted kernel may run on: 0 unless pvm, then -ENOTSUP with the reason unless allow is
 * "1" (CTR_VM_ALLOW_PVM, for the project's own tiny guests). Pure, for the tests. */
int ctr_vm_pvm_check(bool pvm, const char *allow, struct ctr_error *err);
/* ctr_vm_probe, then ctr_vm_pvm_check with CTR_VM_ALLOW_PVM: the check before a VM start. */
int ctr_vm_host_check(struct ctr_error *err);
/* A VM with mem_mb of RAM at guest physical 0 and vcpus vCPUs; console (UART) output to out_fd. */
struct ctr_vm *ctr_vm_new(unsigned mem_mb, unsigned vcpus, int out_fd, struct ctr_error *err);
unsigned ctr_vm_vcpus(const struct ctr_vm *vm);
/* Devices, before ctr_vm_run; the VM does not own the fds. A disk over an image file
 * (virtio-blk, the guest's /dev/vda for the first); the agent's byte stream (virtio-console, the
 * guest's /dev/hvc0); a TAP opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (virtio-net). */
int ctr_vm_add_disk(struct ctr_vm *vm, int fd, bool readonly, struct ctr_error *err);
int ctr_vm_add_agent(struct ctr_vm *vm, int fd, struct ctr_error *err);
int ctr_vm_add_net(struct ctr_vm *vm, int tap_fd, const uint8_t mac[6], struct ctr_error *err);
/* The VM owns fd from now on (closed by ctr_vm_free, or at once when it cannot keep it: -EMFILE). */
int ctr_vm_adopt_fd(struct ctr_vm *vm, int fd);
/* Bytes read from fd go to the UART's receiver (the console's input). */
void ctr_vm_set_console_input(struct ctr_vm *vm, int fd);
void ctr_vm_free(struct ctr_vm *vm);
/* Guest memory as a host pointer; NULL when [gpa, gpa+len) is outside RAM. */
void *ctr_vm_mem(struct ctr_vm *vm, uint64_t gpa, uint64_t len);
size_t ctr_vm_mem_size(const struct ctr_vm *vm);
/* Copy a raw 64-bit payload to 1 MiB and make it the entry point (long mode, rsi = zero page). */
int ctr_vm_load_raw(struct ctr_vm *vm, const void *code, size_t len, struct ctr_error *err);
/* Load a bzImage through the 64-bit boot protocol (protected-mode kernel at 1 MiB, zero page
 * from its setup header, command line, e820 map, optional initrd at the top of RAM). */
int ctr_vm_load_bzimage(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                        size_t initrd_len, struct ctr_error *err);
/* Load an uncompressed ELF vmlinux: segments at their physical addresses, entered at its 64-bit
 * entry with a zero page of our own (no setup header in the file). */
int ctr_vm_load_elf(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                    size_t initrd_len, struct ctr_error *err);
/* Either of the two, by the file's format; anything else is a clear ENOEXEC. */
int ctr_vm_load_kernel(struct ctr_vm *vm, const void *image, size_t len, const char *cmdline, const void *initrd,
                       size_t initrd_len, struct ctr_error *err);
/* The vCPU threads, created and held before any guest code runs, so that a failure to create
 * one (a pids limit) is known before the start is reported done. ctr_vm_run does it when the
 * caller did not; from the thread that then calls ctr_vm_run. */
int ctr_vm_start_vcpus(struct ctr_vm *vm, struct ctr_error *err);
/* Run until the guest ends (vCPU threads; the I/O loop in the caller's thread); guest errors
 * (internal emulation errors, failed entry) are errors. */
int ctr_vm_run(struct ctr_vm *vm, struct ctr_vm_result *ret, struct ctr_error *err);
const char *ctr_vm_end_name(enum ctr_vm_end e);

/* A container as a VM (vm/machine.c): kernel and modules found on the host (vm/image.h),
 * initramfs generated around ctr-vminit unless initrd is given. */
struct ctr_vm_boot_opts {
        unsigned vcpus;
        uint64_t memory;           /* bytes */
        const char *kernel;        /* NULL: found on the host */
        const char *initrd;        /* NULL: generated */
        const char *disk;          /* the root disk image */
        bool readonly;
        const char *config_text;   /* ctr-vminit's /ctr/config */
        const char *cmdline_extra; /* appended to the kernel command line, or NULL */
        int console_fd;            /* the UART, both ways (a pty slave), or -1 */
        int agent_fd;              /* the agent's stream, or -1 */
        const uint8_t *mac;        /* a virtio-net card with this MAC over tap_fd, or NULL: none */
        int tap_fd;
        int control_fd;            /* the VM's control channel (ctr_vm_set_control), or -1 */
        const char *restore;       /* a live snapshot's directory to resume instead of booting */
};
int ctr_vm_boot(const struct ctr_vm_boot_opts *o, struct ctr_vm_result *res, struct ctr_error *err);
/* ctr_vm_boot in two steps, so that everything that can fail before the guest runs (kernel,
 * initramfs, disk, memory, devices) is reported by the one who starts it: a VM ready for
 * ctr_vm_run, or NULL with err set. */
struct ctr_vm *ctr_vm_boot_prepare(const struct ctr_vm_boot_opts *o, struct ctr_error *err);
/* The initramfs a VM boots with (ctr-vminit, the kernel's modules, config_text as /ctr/config):
 * what ctr_vm_boot_prepare builds, for tools that boot the same guest elsewhere (make bench). */
int ctr_vm_initramfs(const char *kernel_opt, const char *config_text, char **ret, size_t *ret_len,
                     struct ctr_error *err);
/* At create: the kernel found (or kernel_opt) is a bzImage or an ELF vmlinux this VMM can
 * load, and an initrd given is readable. */
int ctr_vm_kernel_check(const char *kernel_opt, const char *initrd, struct ctr_error *err);

/* The boot protocol, on plain memory (unit-tested without /dev/kvm). */
struct ctr_bzimage {
        unsigned setup_sects;
        uint16_t version;
        uint16_t xloadflags;
        uint32_t init_size;
        uint32_t initrd_addr_max;
        uint32_t cmdline_size;
        size_t kernel_offset; /* file offset of the protected-mode kernel */
};
int ctr_bzimage_parse(const void *image, size_t len, struct ctr_bzimage *ret, struct ctr_error *err);
/* An uncompressed ELF vmlinux: its PT_LOAD segments, copied to their physical addresses, and the
 * 64-bit entry point. */
#define CTR_ELF_MAX_SEGS 16
struct ctr_elf_seg {
        uint64_t offset, paddr, filesz, memsz;
};
struct ctr_elf {
        uint64_t entry;
        uint64_t end; /* highest physical address a segment reaches */
        unsigned nseg;
        struct ctr_elf_seg seg[CTR_ELF_MAX_SEGS];
};
bool ctr_elf_is(const void *image, size_t len);
int ctr_elf_parse(const void *image, size_t len, struct ctr_elf *ret, struct ctr_error *err);
/* Fill the zero page (4 KiB at zp) for a kernel: setup header copied from image (NULL for a raw
 * payload), e820 map of mem_size bytes of RAM, command line and initrd placement. */
void ctr_vm_zero_page(uint8_t *zp, const void *image, uint64_t mem_size, uint32_t cmdline_gpa, uint32_t initrd_gpa,
                      uint32_t initrd_len);

/* Live snapshots (vm/vmstate.c, vm/live.c). A snapshot directory holds three files: "vmstate"
 * (the VM's and devices' state, versioned and checksummed), "memory" (guest RAM, sparse, exactly
 * mem_size bytes) and "disk.img" (the root disk, copied while the vCPUs were paused). */
#define CTR_VMSTATE_FILE "vmstate"
#define CTR_VMSTATE_MEMORY "memory"
#define CTR_VMSTATE_DISK "disk.img"
#define CTR_VMSTATE_MAGIC "CTRVMSNP"
#define CTR_VMSTATE_VERSION 1u

/* The file: a header, then sections (tag, index, length, payload padded to 8 bytes); the
 * checksum (FNV-1a 64) covers the whole file, its own field counted as zero. Little-endian, this host's layout of
 * the KVM structures (a snapshot restores on the machine type it was taken on). */
struct ctr_vmstate_header {
        char magic[8];
        uint32_t version;
        uint32_t header_size;
        uint64_t file_size;
        uint64_t mem_size;
        uint32_t ncpus;
        uint32_t nsections;
        uint64_t checksum;
};

enum ctr_vmstate_tag {
        CTR_VMS_CLOCK = 1,   /* struct kvm_clock_data */
        CTR_VMS_IRQCHIP,     /* index: chip id (PIC master, slave, IOAPIC); struct kvm_irqchip */
        CTR_VMS_PIT,         /* struct kvm_pit_state2 */
        CTR_VMS_PLATFORM,    /* struct ctr_vms_platform */
        CTR_VMS_VIRTIO,      /* index: device; struct ctr_vms_virtio */
        CTR_VMS_REGS = 16,   /* per vCPU (index): struct kvm_regs */
        CTR_VMS_SREGS,       /* struct kvm_sregs */
        CTR_VMS_FPU,         /* struct kvm_fpu (hosts without XSAVE) */
        CTR_VMS_XSAVE,       /* struct kvm_xsave, or the larger KVM_GET_XSAVE2 area */
        CTR_VMS_XCRS,        /* struct kvm_xcrs */
        CTR_VMS_MSRS,        /* struct kvm_msr_entry[] */
        CTR_VMS_LAPIC,       /* struct kvm_lapic_state */
        CTR_VMS_EVENTS,      /* struct kvm_vcpu_events */
        CTR_VMS_MPSTATE,     /* struct kvm_mp_state */
        CTR_VMS_DEBUGREGS,   /* struct kvm_debugregs */
};

/* The VMM's own devices, in a fixed layout of their own. */
struct ctr_vms_platform {
        uint8_t uart_ier, uart_lcr, uart_mcr, uart_scr, uart_dll, uart_dlm, uart_fcr, uart_thre_pending;
        uint32_t uart_rx_head, uart_rx_len;
        uint8_t uart_rx[256];
        uint8_t uart_irq;
        uint8_t rtc_index;
        uint8_t rtc_ram[128];
        uint8_t kbd_ctr, kbd_out, kbd_pending, kbd_out_full, kbd_last_cmd;
        uint8_t pad[3];
        uint32_t pci_addr;
        uint32_t ndev;
};

struct ctr_vms_queue {
        uint64_t desc, avail, used;
        uint16_t size, last_avail;
        uint8_t ready;
        uint8_t pad[3];
};

struct ctr_vms_virtio {
        uint16_t type, nq;
        uint32_t dfsel, gfsel;
        uint16_t qsel;
        uint8_t status, isr, generation, bar0_sizing, slot;
        uint8_t pad;
        uint32_t bar0;
        uint64_t features, driver_features;
        uint8_t pci[256];
        struct ctr_vms_queue q[4];
};

/* Building a state file in memory. */
struct ctr_vmstate_buf {
        uint8_t *data;
        size_t len, cap;
        uint32_t nsections;
};
void ctr_vmstate_begin(struct ctr_vmstate_buf *b, uint64_t mem_size, uint32_t ncpus);
void ctr_vmstate_add(struct ctr_vmstate_buf *b, uint32_t tag, uint32_t index, const void *data, uint64_t len);
/* Header filled in (sizes, checksum): b->data[0..b->len) is the file. */
void ctr_vmstate_finish(struct ctr_vmstate_buf *b);
void ctr_vmstate_buf_free(struct ctr_vmstate_buf *b);

/* A checked state file: every section within the file, the checksum right, magic and version
 * ours. name is what errors call the file. */
struct ctr_vmstate_section {
        uint32_t tag, index;
        uint64_t len;
        const uint8_t *data;
};
struct ctr_vmstate {
        struct ctr_vmstate_header h;
        struct ctr_vmstate_section *sec;
        size_t nsec;
};
int ctr_vmstate_parse(const void *data, size_t len, const char *name, struct ctr_vmstate *ret, struct ctr_error *err);
void ctr_vmstate_free(struct ctr_vmstate *s);
/* The section (tag, index), or NULL. */
const struct ctr_vmstate_section *ctr_vmstate_find(const struct ctr_vmstate *s, uint32_t tag, uint32_t index);
/* Read and check DIR/vmstate and that DIR/memory has the size it names; *ret_text keeps the
 * bytes the parsed sections point into (free both). */
int ctr_vmstate_load(const char *dir, struct ctr_vmstate *ret, char **ret_text, struct ctr_error *err);

/* The control channel of a running VM (a SOCK_SEQPACKET fd the I/O loop polls): requests are
 * struct ctr_vm_ctl_req, each answered with one struct ctr_vm_ctl_reply. */
enum { CTR_VM_CTL_SNAPSHOT = 1 };
struct ctr_vm_ctl_req {
        uint32_t op;
        char dir[4092]; /* SNAPSHOT: the (existing, empty) directory the three files go to */
};
struct ctr_vm_ctl_reply {
        int32_t errnum;
        uint32_t paused_us; /* how long the vCPUs stood still */
        char op[64];
        char msg[448];
};
void ctr_vm_set_control(struct ctr_vm *vm, int fd);
/* Pause every vCPU, write DIR/vmstate, DIR/memory and a copy of the VM's first disk (when it
 * has one), resume. */
int ctr_vm_snapshot(struct ctr_vm *vm, const char *dir, uint32_t *ret_paused_us, struct ctr_error *err);
/* Before ctr_vm_run, instead of loading a kernel: guest memory, KVM and device state from a
 * snapshot directory (its disk is the caller's to put in place); the VM must have the devices
 * the snapshot was taken with, in the same order. */
int ctr_vm_restore(struct ctr_vm *vm, const char *dir, struct ctr_error *err);
