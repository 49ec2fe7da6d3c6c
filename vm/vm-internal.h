/* What vm/'s files share among themselves and nothing else includes: the guest's fixed addresses,
 * the PCI bus, the virtio-pci transport with split virtqueues, and the devices behind it. */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm.h"

#define CTR_VM_MPTABLE 0x9fc00 /* the EBDA's first KiB, where Linux scans for "_MP_" */
#define CTR_VM_LAPIC_ADDR 0xfee00000u
#define CTR_VM_IOAPIC_ADDR 0xfec00000u
#define CTR_VM_PCI_MMIO 0xd0000000u /* BARs, above the highest RAM (3 GiB) */
#define CTR_VM_PCI_BAR_SIZE 0x4000u
#define CTR_VM_PCI_IRQ_BASE 16 /* IOAPIC pins for the PCI slots, one each */
#define CTR_VM_MAX_PCI 8       /* slot 0 is the host bridge */
#define CTR_VM_MAX_VCPUS 32

/* Writes the MP floating pointer and table at base (guest address gpa); returns the bytes used or 0
 * when cap is too small. pci_slots: the slot number of each PCI device, whose INTA# is routed to
 * IOAPIC pin CTR_VM_PCI_IRQ_BASE + its index. */
size_t ctr_vm_mptable(uint8_t *base, uint32_t gpa, size_t cap, unsigned ncpus, const uint8_t *pci_slots,
                      unsigned nslots, uint32_t cpu_signature, uint32_t cpu_features);

/* Guest memory as seen by devices: a host pointer for [gpa, gpa+len), NULL outside RAM. */
struct ctr_vm_memory {
        uint8_t *base;
        uint64_t size;
};
void *ctr_vm_gpa(const struct ctr_vm_memory *m, uint64_t gpa, uint64_t len);

/* A split virtqueue (virtio 1.x, section 2.7). */
#define CTR_VQ_MAX 256
#define CTR_VQ_MAX_SEGS 64
struct ctr_vq {
        uint16_t size; /* negotiated; a power of two */
        bool ready;
        uint64_t desc, avail, used;
        uint16_t last_avail;
};
/* One popped descriptor chain: device-readable segments first, then device-writable ones. */
struct ctr_vq_chain {
        uint16_t head;
        unsigned nr, nw;
        struct iovec r[CTR_VQ_MAX_SEGS], w[CTR_VQ_MAX_SEGS];
        size_t rlen, wlen;
};
/* 1 with a chain, 0 when the driver offered nothing, -EIO on a malformed chain (loops, buffers
 * outside RAM, too many segments). */
int ctr_vq_pop(const struct ctr_vm_memory *m, struct ctr_vq *q, struct ctr_vq_chain *c);
/* Hand a chain back with `written` bytes filled. */
void ctr_vq_push(const struct ctr_vm_memory *m, struct ctr_vq *q, uint16_t head, uint32_t written);
bool ctr_vq_has_avail(const struct ctr_vm_memory *m, const struct ctr_vq *q);
/* Copy between a flat buffer and a segment list, from byte offset off; returns the bytes copied. */
size_t ctr_iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t ctr_iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

struct ctr_virtio;
struct ctr_virtio_ops {
        /* Called with the device's lock held, from a vCPU thread. */
        void (*notify)(struct ctr_virtio *d, unsigned queue);
        /* The device-specific configuration space (read only for our devices). */
        void (*config)(struct ctr_virtio *d, uint8_t *cfg, size_t cap);
        void (*reset)(struct ctr_virtio *d);
};

#define CTR_VIRTIO_MAX_QUEUES 4
#define CTR_VIRTIO_F_VERSION_1 (1ull << 32)

/* A virtio-pci (modern) device: PCI function 0 of a slot, BAR0 holding the common, ISR, device
 * and notify regions. */
struct ctr_virtio {
        const struct ctr_virtio_ops *ops;
        const struct ctr_vm_memory *mem;
        pthread_mutex_t lock;
        uint16_t type;   /* virtio device id: 1 net, 2 block, 3 console */
        uint16_t nq, qmax;
        uint64_t features, driver_features;
        uint32_t dfsel, gfsel;
        uint8_t status, isr, generation;
        uint16_t qsel;
        struct ctr_vq q[CTR_VIRTIO_MAX_QUEUES];
        /* PCI */
        uint8_t slot;
        uint8_t pci[256];
        uint32_t bar0;
        bool bar0_sizing;
        /* The interrupt line: raise/lower through the VM. */
        void (*set_irq)(void *vm, unsigned gsi, bool level);
        void *vm;
        unsigned gsi;
        void *priv;
        int wake_fd; /* eventfd written when the driver posts receive buffers, or -1 */
};

void ctr_virtio_init(struct ctr_virtio *d, uint16_t type, uint16_t nq, uint64_t features,
                     const struct ctr_virtio_ops *ops, void *priv);
/* Signal used buffers to the driver (ISR bit 0 and the INTx line). Lock held. */
void ctr_virtio_interrupt(struct ctr_virtio *d);
/* Configuration-space and BAR0 accesses of the guest. */
uint32_t ctr_virtio_pci_read(struct ctr_virtio *d, unsigned off, unsigned len);
void ctr_virtio_pci_write(struct ctr_virtio *d, unsigned off, unsigned len, uint32_t v);
void ctr_virtio_bar_read(struct ctr_virtio *d, uint64_t off, uint8_t *data, unsigned len);
void ctr_virtio_bar_write(struct ctr_virtio *d, uint64_t off, const uint8_t *data, unsigned len);
bool ctr_virtio_driver_ok(const struct ctr_virtio *d);

/* Devices. Each returns NULL with err set. */
struct ctr_virtio *ctr_virtio_blk_new(int fd, bool readonly, const char *serial, struct ctr_error *err);
/* The image a block device reads and writes, or -1 for another type. */
int ctr_virtio_blk_fd(const struct ctr_virtio *d);
/* A byte stream to and from the guest's /dev/hvc0: guest output is written to fd; input read
 * from fd by ctr_virtio_console_rx when the guest has buffers posted. */
struct ctr_virtio *ctr_virtio_console_new(int fd, struct ctr_error *err);
/* Move what fd has into the guest's receive buffers; 0 when there is no room (poll fd only
 * after the next notify), 1 when data moved, -errno when fd ended. Takes the lock. */
int ctr_virtio_console_rx(struct ctr_virtio *d);
struct ctr_virtio *ctr_virtio_net_new(int tap_fd, const uint8_t mac[6], struct ctr_error *err);
int ctr_virtio_net_rx(struct ctr_virtio *d);
/* Room in the guest's receive queue (the I/O thread polls the backend only then). */
bool ctr_virtio_rx_room(struct ctr_virtio *d, unsigned queue);
void ctr_virtio_free(struct ctr_virtio *d);

struct kvm_run;

/* The VM itself (vm/kvm.c), shared with the live snapshot code (vm/live.c). */
struct vcpu {
        struct ctr_vm *vm;
        unsigned id;
        int fd;
        struct kvm_run *run;
        pthread_t thread;
        bool started;
        bool check;     /* the I/O thread asks for a halt check */
        bool dead_halt; /* last check: halted with interrupts off (or never started) */
        bool settled;   /* back from KVM_RUN by a kick: no exit half handled (safe to pause) */
};

struct ctr_vm {
        int kvm, vm;
        size_t run_size;
        struct ctr_vm_memory mem;
        unsigned ncpus;
        struct vcpu cpu[CTR_VM_MAX_VCPUS];
        uint32_t cpu_signature, cpu_features;
        bool irqchip;   /* in-kernel PIC, IOAPIC, LAPIC and PIT */
        pthread_mutex_t lock; /* the UART, the PCI address latch, the end */
        struct ctr_uart uart;
        struct ctr_rtc rtc;
        struct ctr_i8042 i8042;
        bool uart_irq;  /* the level last put on the UART's line */
        int console_in; /* bytes for the UART's receiver, or -1 */
        uint32_t pci_addr;
        struct ctr_virtio *dev[CTR_VM_MAX_PCI];
        int dev_rx_fd[CTR_VM_MAX_PCI]; /* the backend the I/O thread reads for the device, or -1 */
        unsigned ndev;
        int wake_fd; /* eventfd: receive buffers posted, or the VM ended */
        bool ended;
        struct ctr_vm_result res;
        struct ctr_error err;
        int rc;
        uint64_t entry;
        int owned[4]; /* fds handed to the VM with ctr_vm_adopt_fd, closed by ctr_vm_free */
        unsigned nowned;
        int control_fd; /* requests (ctr_vm_set_control), or -1 */
        bool restored;  /* state came from a snapshot: the guest's memory is not ours to lay out */
        /* Pausing: vCPU threads park on pause_cond while pause is set; parked counts them. */
        pthread_mutex_t pause_lock;
        pthread_cond_t pause_cond;
        bool pause;
        unsigned parked;
        /* ctr_vm_start_vcpus: the threads exist and wait on pause_cond while held is set, until
         * ctr_vm_run lets them go; the caller's signal mask from before the kick signal was blocked. */
        bool vcpus_started, held;
        sigset_t old_mask;
};

#define UART_IRQ 4
#define KICK_SIGNAL SIGUSR1

/* Stop every started vCPU outside KVM_RUN, with no exit half handled (an I/O exit completes
 * first), and wait until all are parked; resume lets them go. From the I/O thread only. */
int ctr_vm_pause(struct ctr_vm *vm, struct ctr_error *err);
void ctr_vm_resume(struct ctr_vm *vm);
/* Put the interrupt lines at the levels the devices' state asks for (after a restore). */
void ctr_vm_sync_irqs(struct ctr_vm *vm);
/* Handle one request on the control channel (vm/live.c); false when the channel ended. */
bool ctr_vm_control(struct ctr_vm *vm);
