/* Shared by the freestanding virtio guest programs (blkio.c, console.c, netframe.c): port I/O,
 * COM1, the debug-exit port, PCI config space, and a modern virtio-pci device found on bus 0 with
 * its queues polled (no interrupts). Everything here is
 * static inline so a guest that leaves a piece unused still builds with -Werror. */
#ifndef CTR_VIRTIO_GUEST_H
#define CTR_VIRTIO_GUEST_H
#include <stddef.h>
#include <stdint.h>

#define BAR0 0x30000000ull /* above the guest's RAM, below 1 GiB */
#define QSIZE 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

/* outb/inb and outl/inl. */
#define PORT_IO(sfx, type)                                                                         \
        static inline void out##sfx(uint16_t port, type v)                                         \
        {                                                                                          \
                __asm__ volatile("out" #sfx " %0, %1" ::"a"(v), "Nd"(port));                       \
        }                                                                                          \
        static inline type in##sfx(uint16_t port)                                                  \
        {                                                                                          \
                type v;                                                                            \
                __asm__ volatile("in" #sfx " %1, %0" : "=a"(v) : "Nd"(port));                      \
                return v;                                                                          \
        }
PORT_IO(b, uint8_t)
PORT_IO(l, uint32_t)
#define MMIO(type, addr) (*(volatile type *)(uintptr_t)(addr))
#define BARRIER() __asm__ volatile("mfence" ::: "memory")

static inline void putc_com1(char c)
{
        while (!(inb(0x3fd) & 0x20))
                ;
        outb(0x3f8, (uint8_t)c);
}
static inline void say(const char *s)
{
        while (*s)
                putc_com1(*s++);
        putc_com1('\n');
}
static inline void __attribute__((noreturn)) finish(uint8_t code)
{
        outb(0xf4, code);
        for (;;)
                __asm__ volatile("hlt");
}

static inline uint32_t pci_read(unsigned dev, unsigned off)
{
        outl(0xcf8, 0x80000000u | dev << 11 | (off & 0xfc));
        return inl(0xcfc);
}
static inline void pci_write(unsigned dev, unsigned off, uint32_t v)
{
        outl(0xcf8, 0x80000000u | dev << 11 | (off & 0xfc));
        outl(0xcfc, v);
}

struct desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};

struct queue {
        volatile struct desc *desc;
        volatile uint16_t *avail; /* flags, idx, ring[QSIZE] */
        volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[QSIZE] */
        uint64_t notify;
        uint16_t index, used_seen;
};

static uint64_t common, notify_base, devcfg;
static uint32_t notify_mult;

/* Find virtio device `id` (0x1040 + type) on bus 0, put its BAR0 at BAR0, find the common,
 * notify and device regions, reset it, say ACKNOWLEDGE | DRIVER and check VERSION_1. Returns the
 * device's feature bits 0..31; ends the VM with 2 (no device: says `not_found`), 3 (a capability
 * missing) or 4 (no VERSION_1). */
static inline uint32_t virtio_probe(uint16_t id, const char *not_found)
{
        unsigned dev = 0;
        for (unsigned d = 1; d < 32 && !dev; d++)
                if (pci_read(d, 0) == ((uint32_t)id << 16 | 0x1af4u))
                        dev = d;
        if (!dev) {
                say(not_found);
                finish(2);
        }
        pci_write(dev, 0x10, (uint32_t)BAR0);
        pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x6); /* memory space, bus master */
        /* Vendor capabilities: cfg_type 1 common, 2 notify (multiplier after it), 4 device. */
        for (unsigned at = pci_read(dev, 0x34) & 0xfc; at; at = (pci_read(dev, at) >> 8) & 0xfc) {
                uint32_t w0 = pci_read(dev, at);
                if ((w0 & 0xff) != 0x09)
                        continue;
                uint8_t type = (uint8_t)(w0 >> 24);
                uint64_t where = BAR0 + pci_read(dev, at + 8);
                if (type == 1)
                        common = where;
                else if (type == 2) {
                        notify_base = where;
                        notify_mult = pci_read(dev, at + 16);
                } else if (type == 4)
                        devcfg = where;
        }
        if (!common || !notify_base || !devcfg) {
                say("virtio: a capability is missing");
                finish(3);
        }
        MMIO(uint8_t, common + 0x14) = 0;     /* reset */
        MMIO(uint8_t, common + 0x14) = 1 | 2; /* ACKNOWLEDGE | DRIVER */
        MMIO(uint32_t, common + 0x00) = 1;    /* device_feature_select: bits 32..63 */
        if (!(MMIO(uint32_t, common + 0x04) & 1)) {
                say("virtio: no VIRTIO_F_VERSION_1");
                finish(4);
        }
        MMIO(uint32_t, common + 0x00) = 0;
        return MMIO(uint32_t, common + 0x04);
}

/* Accept `low` (bits 0..31) and VERSION_1; 0 when the device refused FEATURES_OK. */
static inline int virtio_accept(uint32_t low)
{
        MMIO(uint32_t, common + 0x08) = 0;
        MMIO(uint32_t, common + 0x0c) = low;
        MMIO(uint32_t, common + 0x08) = 1;
        MMIO(uint32_t, common + 0x0c) = 1;
        MMIO(uint8_t, common + 0x14) = 1 | 2 | 8; /* FEATURES_OK */
        return (MMIO(uint8_t, common + 0x14) & 8) != 0;
}

static inline void virtio_driver_ok(void)
{
        MMIO(uint8_t, common + 0x14) = 1 | 2 | 8 | 4;
}

/* Queue `index` in three pages at `mem`: descriptors, avail ring, used ring. */
static inline void queue_setup(struct queue *q, uint16_t index, uint64_t mem)
{
        MMIO(uint16_t, common + 0x16) = index;            /* queue_select */
        MMIO(uint16_t, common + 0x18) = QSIZE;            /* queue_size */
        /* 64-bit fields as two 32-bit halves, as Linux writes them. */
        MMIO(uint32_t, common + 0x20) = (uint32_t)mem; /* queue_desc */
        MMIO(uint32_t, common + 0x24) = (uint32_t)(mem >> 32);
        MMIO(uint32_t, common + 0x28) = (uint32_t)(mem + 0x1000); /* queue_driver (avail) */
        MMIO(uint32_t, common + 0x2c) = (uint32_t)((mem + 0x1000) >> 32);
        MMIO(uint32_t, common + 0x30) = (uint32_t)(mem + 0x2000); /* queue_device (used) */
        MMIO(uint32_t, common + 0x34) = (uint32_t)((mem + 0x2000) >> 32);
        uint16_t off = MMIO(uint16_t, common + 0x1e);     /* queue_notify_off */
        MMIO(uint16_t, common + 0x1c) = 1;                /* queue_enable */
        q->desc = (volatile struct desc *)(uintptr_t)mem;
        q->avail = (volatile uint16_t *)(uintptr_t)(mem + 0x1000);
        q->used = (volatile uint16_t *)(uintptr_t)(mem + 0x2000);
        q->notify = notify_base + (uint64_t)off * notify_mult;
        q->index = index;
        q->used_seen = 0;
}

/* Descriptor i: one buffer, chained to i + 1 when flags has DESC_F_NEXT. */
static inline void queue_desc(struct queue *q, uint16_t i, uint64_t buf, uint32_t len, uint16_t flags)
{
        q->desc[i].addr = buf;
        q->desc[i].len = len;
        q->desc[i].flags = flags;
        q->desc[i].next = (uint16_t)(i + 1);
}

/* Offer the chain that starts at descriptor `head` and tell the device. */
static inline void queue_kick(struct queue *q, uint16_t head)
{
        uint16_t idx = q->avail[1];
        q->avail[2 + idx % QSIZE] = head;
        BARRIER();
        q->avail[1] = (uint16_t)(idx + 1);
        BARRIER();
        MMIO(uint16_t, q->notify) = q->index;
}

static inline int queue_used(struct queue *q, uint32_t *ret_len)
{
        BARRIER();
        if (q->used[1] == q->used_seen)
                return 0;
        volatile uint32_t *elem = (volatile uint32_t *)(q->used + 2) + 2 * (q->used_seen % QSIZE);
        if (ret_len)
                *ret_len = elem[1];
        q->used_seen++;
        return 1;
}

/* Wait for the next used chain, a while; 0 when none came. */
static inline int queue_wait(struct queue *q, uint32_t *ret_len)
{
        for (unsigned long spin = 0; spin < 100000000ul; spin++)
                if (queue_used(q, ret_len))
                        return 1;
        return 0;
}

static inline int same(const volatile uint8_t *a, const char *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (a[i] != (uint8_t)b[i])
                        return 0;
        return 1;
}

/* Entered in long mode at 1 MiB with a stack (vm_load_raw): call guest_main, then halt. */
#define GUEST_ENTRY                                                                                \
        __asm__(".section .text.entry, \"ax\"\n"                                                   \
                ".globl _start\n"                                                                  \
                "_start:\n"                                                                        \
                "        call guest_main\n"                                                        \
                "1:      hlt\n"                                                                    \
                "        jmp 1b\n")
#endif
