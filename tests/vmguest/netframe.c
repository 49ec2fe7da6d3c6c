/* Guest payload (freestanding C, no libc): a virtio-net driver as small as it can be, for the
 * VMM's virtio-pci transport and net device. It finds the card on PCI bus 0 (vendor 0x1af4,
 * device 0x1041), moves its BAR0 inside the identity-mapped first GiB, walks the vendor
 * capabilities to the common, notify and device regions, negotiates VERSION_1 and MAC, sets up
 * the receive and transmit queues and sends an Ethernet frame (ethertype 0x88b5, payload
 * "ctr netframe from guest") until the host answers with one ("ctr netframe from host"). COM1
 * tells the steps; the debug-exit port ends the VM: code 1 when the answer came, else the
 * number of the step that failed. Entered in long mode at 1 MiB with a stack (vm_load_raw). */
#include <stddef.h>
#include <stdint.h>

#define BAR0 0x30000000ull /* above the guest's RAM, below 1 GiB */
#define QSIZE 8
#define RXQ_MEM 0x200000ull /* one page each: descriptors, avail ring, used ring */
#define TXQ_MEM 0x210000ull
#define RX_BUF 0x220000ull
#define TX_BUF 0x230000ull
#define HDR_LEN 12 /* virtio 1.x net header: flags, gso, hdr_len, gso_size, csum x2, num_buffers */
#define ETHERTYPE 0x88b5

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

static void putc_com1(char c)
{
        while (!(inb(0x3fd) & 0x20))
                ;
        outb(0x3f8, (uint8_t)c);
}
static void say(const char *s)
{
        while (*s)
                putc_com1(*s++);
        putc_com1('\n');
}
static void __attribute__((noreturn)) finish(uint8_t code)
{
        outb(0xf4, code);
        for (;;)
                __asm__ volatile("hlt");
}

static uint32_t pci_read(unsigned dev, unsigned off)
{
        outl(0xcf8, 0x80000000u | dev << 11 | (off & 0xfc));
        return inl(0xcfc);
}
static void pci_write(unsigned dev, unsigned off, uint32_t v)
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
        uint16_t used_seen;
};

static uint64_t common, notify_base, devcfg;
static uint32_t notify_mult;

static void queue_setup(struct queue *q, uint16_t index, uint64_t mem)
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
        q->used_seen = 0;
}

/* One buffer in descriptor 0, offered once more. */
static void queue_offer(struct queue *q, uint16_t qi, uint64_t buf, uint32_t len, uint16_t flags)
{
        q->desc[0].addr = buf;
        q->desc[0].len = len;
        q->desc[0].flags = flags;
        q->desc[0].next = 0;
        uint16_t idx = q->avail[1];
        q->avail[2 + idx % QSIZE] = 0;
        BARRIER();
        q->avail[1] = (uint16_t)(idx + 1);
        BARRIER();
        MMIO(uint16_t, q->notify) = qi;
}

static int queue_used(struct queue *q, uint32_t *ret_len)
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

static int same(const volatile uint8_t *a, const char *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (a[i] != (uint8_t)b[i])
                        return 0;
        return 1;
}

void guest_main(void)
{
        unsigned dev = 0;
        for (unsigned d = 1; d < 32 && !dev; d++)
                if (pci_read(d, 0) == 0x10411af4u)
                        dev = d;
        if (!dev) {
                say("netframe: no virtio-net on PCI bus 0");
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
                say("netframe: a virtio capability is missing");
                finish(3);
        }
        say("netframe: virtio-net found");

        MMIO(uint8_t, common + 0x14) = 0;     /* reset */
        MMIO(uint8_t, common + 0x14) = 1 | 2; /* ACKNOWLEDGE | DRIVER */
        MMIO(uint32_t, common + 0x00) = 1;    /* device_feature_select: bits 32..63 */
        if (!(MMIO(uint32_t, common + 0x04) & 1)) {
                say("netframe: no VIRTIO_F_VERSION_1");
                finish(4);
        }
        MMIO(uint32_t, common + 0x00) = 0;
        if (!(MMIO(uint32_t, common + 0x04) & (1u << 5))) {
                say("netframe: no VIRTIO_NET_F_MAC");
                finish(4);
        }
        MMIO(uint32_t, common + 0x08) = 0;
        MMIO(uint32_t, common + 0x0c) = 1u << 5;
        MMIO(uint32_t, common + 0x08) = 1;
        MMIO(uint32_t, common + 0x0c) = 1;
        MMIO(uint8_t, common + 0x14) = 1 | 2 | 8; /* FEATURES_OK */
        if (!(MMIO(uint8_t, common + 0x14) & 8)) {
                say("netframe: features refused");
                finish(5);
        }
        struct queue rx, tx;
        queue_setup(&rx, 0, RXQ_MEM);
        queue_setup(&tx, 1, TXQ_MEM);
        MMIO(uint8_t, common + 0x14) = 1 | 2 | 8 | 4; /* DRIVER_OK */

        volatile uint8_t *f = (volatile uint8_t *)(uintptr_t)TX_BUF;
        for (unsigned i = 0; i < HDR_LEN + 64; i++)
                f[i] = 0;
        volatile uint8_t *eth = f + HDR_LEN;
        for (unsigned i = 0; i < 6; i++) {
                eth[i] = 0xff;
                eth[6 + i] = MMIO(uint8_t, devcfg + i); /* our MAC, from the device config */
        }
        eth[12] = ETHERTYPE >> 8;
        eth[13] = ETHERTYPE & 0xff;
        static const char out[] = "ctr netframe from guest", in[] = "ctr netframe from host";
        for (unsigned i = 0; i < sizeof(out) - 1; i++)
                eth[14 + i] = (uint8_t)out[i];

        queue_offer(&rx, 0, RX_BUF, 2048, 2 /* VIRTQ_DESC_F_WRITE */);
        volatile uint8_t *r = (volatile uint8_t *)(uintptr_t)RX_BUF;
        /* Until the host answers: a frame, then a while for the answer (the host may not listen yet). */
        for (unsigned round = 0; round < 2000; round++) {
                queue_offer(&tx, 1, TX_BUF, HDR_LEN + 64, 0);
                unsigned long spin = 0;
                while (!queue_used(&tx, NULL))
                        if (++spin > 100000000ul) {
                                say("netframe: the transmit queue never returned the frame");
                                finish(6);
                        }
                if (round == 0)
                        say("netframe: sent");
                for (unsigned long w = 0; w < 2000000ul; w++) {
                        uint32_t len;
                        if (!queue_used(&rx, &len))
                                continue;
                        if (len >= HDR_LEN + 14 + sizeof(in) - 1 && r[HDR_LEN + 12] == (ETHERTYPE >> 8) &&
                            r[HDR_LEN + 13] == (ETHERTYPE & 0xff) && same(r + HDR_LEN + 14, in, sizeof(in) - 1)) {
                                say("netframe: got ctr netframe from host");
                                finish(1);
                        }
                        queue_offer(&rx, 0, RX_BUF, 2048, 2); /* someone else's frame: listen on */
                }
        }
        say("netframe: no answer from the host");
        finish(7);
}

__asm__(".section .text.entry, \"ax\"\n"
        ".globl _start\n"
        "_start:\n"
        "        call guest_main\n"
        "1:      hlt\n"
        "        jmp 1b\n");
