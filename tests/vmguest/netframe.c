/* Guest payload (freestanding C, no libc): a virtio-net driver as small as it can be, for the
 * VMM's virtio-pci transport and net device. It finds the card on PCI bus 0 (vendor 0x1af4,
 * device 0x1041), moves its BAR0 inside the identity-mapped first GiB, walks the vendor
 * capabilities to the common, notify and device regions, negotiates VERSION_1 and MAC, sets up
 * the receive and transmit queues and sends an Ethernet frame (ethertype 0x88b5, payload
 * "ctr netframe from guest") until the host answers with one ("ctr netframe from host"). COM1
 * tells the steps; the debug-exit port ends the VM: code 1 when the answer came, else the
 * number of the step that failed. Entered in long mode at 1 MiB with a stack (vm_load_raw). */
#include "virtio-guest.h"

#define RXQ_MEM 0x200000ull /* one page each: descriptors, avail ring, used ring */
#define TXQ_MEM 0x210000ull
#define RX_BUF 0x220000ull
#define TX_BUF 0x230000ull
#define HDR_LEN 12 /* virtio 1.x net header: flags, gso, hdr_len, gso_size, csum x2, num_buffers */
#define ETHERTYPE 0x88b5

/* One buffer in descriptor 0, offered once more. */
static void queue_offer(struct queue *q, uint64_t buf, uint32_t len, uint16_t flags)
{
        queue_desc(q, 0, buf, len, flags);
        queue_kick(q, 0);
}

void guest_main(void)
{
        uint32_t features = virtio_probe(0x1041, "netframe: no virtio-net on PCI bus 0");
        say("netframe: virtio-net found");
        if (!(features & (1u << 5))) {
                say("netframe: no VIRTIO_NET_F_MAC");
                finish(4);
        }
        if (!virtio_accept(1u << 5)) {
                say("netframe: features refused");
                finish(5);
        }
        struct queue rx, tx;
        queue_setup(&rx, 0, RXQ_MEM);
        queue_setup(&tx, 1, TXQ_MEM);
        virtio_driver_ok();

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

        queue_offer(&rx, RX_BUF, 2048, DESC_F_WRITE);
        volatile uint8_t *r = (volatile uint8_t *)(uintptr_t)RX_BUF;
        /* Until the host answers: a frame, then a while for the answer (the host may not listen yet). */
        for (unsigned round = 0; round < 2000; round++) {
                queue_offer(&tx, TX_BUF, HDR_LEN + 64, 0);
                if (!queue_wait(&tx, NULL)) {
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
                        queue_offer(&rx, RX_BUF, 2048, DESC_F_WRITE); /* someone else's frame: listen on */
                }
        }
        say("netframe: no answer from the host");
        finish(7);
}

GUEST_ENTRY;
