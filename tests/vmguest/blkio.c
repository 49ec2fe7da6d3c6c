/* Guest payload (freestanding C, no libc): a virtio-blk driver as small as it can be, for the
 * VMM's virtio-pci transport and block device. It finds the disk on PCI bus 0 (vendor 0x1af4,
 * device 0x1042), negotiates VERSION_1 (and FLUSH when offered), sets up queue 0, READs sector 0
 * and checks it starts with "ctr blkio sector 0" followed by zeros (the host wrote that), WRITEs
 * sector 1 with "ctr blkio from guest" and zeros, and FLUSHes. Each request is one chain: a
 * 16-byte header, the 512-byte sector, a status byte. COM1 tells the steps; the debug-exit port
 * ends the VM: code 1 when all went through, else the number of the step that failed. */
#include "virtio-guest.h"

#define REQQ_MEM 0x200000ull /* one page each: descriptors, avail ring, used ring */
#define REQ_HDR 0x220000ull
#define REQ_DATA 0x221000ull
#define REQ_STATUS 0x222000ull
#define BLK_F_FLUSH (1u << 9)
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4

struct blk_hdr {
        uint32_t type, reserved;
        uint64_t sector;
};

/* One request; the device's status byte (0 OK), 0xff when the chain never came back. */
static uint8_t blk_request(struct queue *q, uint32_t type, uint64_t sector, int with_data)
{
        volatile struct blk_hdr *h = (volatile struct blk_hdr *)(uintptr_t)REQ_HDR;
        volatile uint8_t *status = (volatile uint8_t *)(uintptr_t)REQ_STATUS;
        h->type = type;
        h->reserved = 0;
        h->sector = sector;
        *status = 0xee;
        uint16_t n = 0;
        queue_desc(q, n++, REQ_HDR, sizeof(struct blk_hdr), DESC_F_NEXT);
        if (with_data)
                queue_desc(q, n++, REQ_DATA, 512, DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0));
        queue_desc(q, n, REQ_STATUS, 1, DESC_F_WRITE);
        queue_kick(q, 0);
        uint32_t len;
        if (!queue_wait(q, &len))
                return 0xff;
        /* The device wrote the data (IN) and the status byte. */
        if (len != (type == BLK_T_IN ? 513u : 1u))
                return 0xfe;
        return *status;
}

void guest_main(void)
{
        uint32_t features = virtio_probe(0x1042, "blkio: no virtio-blk on PCI bus 0");
        say("blkio: virtio-blk found");
        int flush = (features & BLK_F_FLUSH) != 0;
        if (!virtio_accept(flush ? BLK_F_FLUSH : 0)) {
                say("blkio: features refused");
                finish(5);
        }
        uint64_t sectors = MMIO(uint32_t, devcfg) | (uint64_t)MMIO(uint32_t, devcfg + 4) << 32;
        if (sectors < 2) {
                say("blkio: the disk is smaller than two sectors");
                finish(6);
        }
        struct queue q;
        queue_setup(&q, 0, REQQ_MEM);
        virtio_driver_ok();

        volatile uint8_t *data = (volatile uint8_t *)(uintptr_t)REQ_DATA;
        for (unsigned i = 0; i < 512; i++)
                data[i] = 0xaa;
        if (blk_request(&q, BLK_T_IN, 0, 1) != 0) {
                say("blkio: reading sector 0 failed");
                finish(7);
        }
        static const char pattern[] = "ctr blkio sector 0", mine[] = "ctr blkio from guest";
        int ok = same(data, pattern, sizeof(pattern) - 1);
        for (unsigned i = sizeof(pattern) - 1; i < 512; i++)
                ok = ok && data[i] == 0;
        if (!ok) {
                say("blkio: sector 0 does not hold the host's pattern");
                finish(8);
        }
        say("blkio: read ctr blkio sector 0");

        for (unsigned i = 0; i < 512; i++)
                data[i] = i < sizeof(mine) - 1 ? (uint8_t)mine[i] : 0;
        if (blk_request(&q, BLK_T_OUT, 1, 1) != 0) {
                say("blkio: writing sector 1 failed");
                finish(9);
        }
        say("blkio: wrote sector 1");

        if (flush) {
                if (blk_request(&q, BLK_T_FLUSH, 0, 0) != 0) {
                        say("blkio: flush failed");
                        finish(10);
                }
                say("blkio: flushed");
        } else
                say("blkio: no VIRTIO_BLK_F_FLUSH offered");
        finish(1);
}

GUEST_ENTRY;
