/* Guest payload (freestanding C, no libc): a virtio-console driver as small as it can be, for
 * the VMM's one-port console (the agent's byte stream). It finds the device on PCI bus 0 (vendor
 * 0x1af4, device 0x1043), negotiates VERSION_1, sets up receiveq and transmitq of port 0 (queues
 * 0 and 1), offers a receive buffer, sends "ctr console from guest\n" and waits for what the
 * host answers to the guest's first bytes (vm-smoke --agent-log: "PING\n"). COM1 tells the
 * steps; the debug-exit port ends the VM: code 1 when the answer came, else the number of the
 * step that failed. */
#include "virtio-guest.h"

#define RXQ_MEM 0x200000ull /* one page each: descriptors, avail ring, used ring */
#define TXQ_MEM 0x210000ull
#define RX_BUF 0x220000ull
#define TX_BUF 0x230000ull

void guest_main(void)
{
        virtio_probe(0x1043, "console: no virtio-console on PCI bus 0");
        say("console: virtio-console found");
        if (!virtio_accept(0)) {
                say("console: features refused");
                finish(5);
        }
        struct queue rx, tx;
        queue_setup(&rx, 0, RXQ_MEM);
        queue_setup(&tx, 1, TXQ_MEM);
        virtio_driver_ok();

        volatile uint8_t *r = (volatile uint8_t *)(uintptr_t)RX_BUF;
        for (unsigned i = 0; i < 64; i++)
                r[i] = 0;
        queue_desc(&rx, 0, RX_BUF, 64, DESC_F_WRITE);
        queue_kick(&rx, 0);

        static const char out[] = "ctr console from guest\n", in[] = "PING\n";
        volatile uint8_t *t = (volatile uint8_t *)(uintptr_t)TX_BUF;
        for (unsigned i = 0; i < sizeof(out) - 1; i++)
                t[i] = (uint8_t)out[i];
        queue_desc(&tx, 0, TX_BUF, sizeof(out) - 1, 0);
        queue_kick(&tx, 0);
        if (!queue_wait(&tx, NULL)) {
                say("console: the transmit queue never returned the buffer");
                finish(6);
        }
        say("console: sent");

        /* The answer may come in pieces: one buffer each time, at where the last piece ended. */
        uint32_t got = 0, len;
        while (got < sizeof(in) - 1) {
                if (!queue_wait(&rx, &len) || len == 0 || got + len > 64) {
                        say("console: no answer from the host");
                        finish(7);
                }
                got += len;
                if (got < sizeof(in) - 1) {
                        queue_desc(&rx, 0, RX_BUF + got, 64 - got, DESC_F_WRITE);
                        queue_kick(&rx, 0);
                }
        }
        if (got != sizeof(in) - 1 || !same(r, in, got)) {
                say("console: the answer is not PING");
                finish(8);
        }
        say("console: got PING");
        finish(1);
}

GUEST_ENTRY;
