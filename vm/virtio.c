/* The virtio-pci transport (virtio 1.x "modern" only: the common, ISR, device and notify regions
 * in BAR0, announced by vendor capabilities) and split virtqueues over guest memory. Devices plug
 * in with three callbacks; interrupts are INTx, level-triggered through the VM's IOAPIC. */
#include "vm-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* BAR0 layout */
#define R_COMMON 0x0000
#define R_ISR 0x1000
#define R_DEVICE 0x2000
#define R_NOTIFY 0x3000
#define NOTIFY_MULT 4

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

void *ctr_vm_gpa(const struct ctr_vm_memory *m, uint64_t gpa, uint64_t len)
{
        if (gpa > m->size || len > m->size - gpa)
                return NULL;
        return m->base + gpa;
}

static uint16_t ld16(const void *p)
{
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
}

bool ctr_vq_has_avail(const struct ctr_vm_memory *m, const struct ctr_vq *q)
{
        if (!q->ready)
                return false;
        const uint8_t *avail = ctr_vm_gpa(m, q->avail, 4 + 2 * q->size);
        if (!avail)
                return false;
        uint16_t idx = __atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
        return idx != q->last_avail;
}

int ctr_vq_pop(const struct ctr_vm_memory *m, struct ctr_vq *q, struct ctr_vq_chain *c)
{
        if (!q->ready)
                return 0;
        const uint8_t *avail = ctr_vm_gpa(m, q->avail, 4 + 2 * q->size);
        const uint8_t *desc = ctr_vm_gpa(m, q->desc, 16 * q->size);
        if (!avail || !desc)
                return -EIO;
        uint16_t idx = __atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
        if (idx == q->last_avail)
                return 0;
        uint16_t head = ld16(avail + 4 + 2 * (q->last_avail % q->size));
        q->last_avail++;
        c->nr = c->nw = 0;
        c->rlen = c->wlen = 0;
        c->head = head;
        uint16_t i = head;
        for (unsigned n = 0;; n++) {
                if (i >= q->size || n >= q->size || c->nr + c->nw >= CTR_VQ_MAX_SEGS)
                        return -EIO;
                const uint8_t *d = desc + 16 * i;
                uint64_t addr;
                uint32_t len;
                memcpy(&addr, d, 8);
                memcpy(&len, d + 8, 4);
                uint16_t flags = ld16(d + 12), next = ld16(d + 14);
                if (flags & VIRTQ_DESC_F_INDIRECT)
                        return -EIO; /* not offered */
                void *p = ctr_vm_gpa(m, addr, len);
                if (!p)
                        return -EIO;
                if (flags & VIRTQ_DESC_F_WRITE) {
                        c->w[c->nw++] = (struct iovec){p, len};
                        c->wlen += len;
                } else {
                        if (c->nw)
                                return -EIO; /* readable after writable */
                        c->r[c->nr++] = (struct iovec){p, len};
                        c->rlen += len;
                }
                if (!(flags & VIRTQ_DESC_F_NEXT))
                        return 1;
                i = next;
        }
}

void ctr_vq_push(const struct ctr_vm_memory *m, struct ctr_vq *q, uint16_t head, uint32_t written)
{
        uint8_t *used = ctr_vm_gpa(m, q->used, 4 + 8 * q->size);
        if (!used)
                return;
        uint16_t idx = ld16(used + 2);
        uint8_t *e = used + 4 + 8 * (idx % q->size);
        uint32_t id = head;
        memcpy(e, &id, 4);
        memcpy(e + 4, &written, 4);
        __atomic_store_n((uint16_t *)(used + 2), (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

size_t ctr_iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
        size_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (off >= iov[i].iov_len) {
                        off -= iov[i].iov_len;
                        continue;
                }
                size_t k = iov[i].iov_len - off;
                if (k > len - done)
                        k = len - done;
                memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, k);
                done += k;
                off = 0;
        }
        return done;
}

size_t ctr_iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
        size_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (off >= iov[i].iov_len) {
                        off -= iov[i].iov_len;
                        continue;
                }
                size_t k = iov[i].iov_len - off;
                if (k > len - done)
                        k = len - done;
                memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, k);
                done += k;
                off = 0;
        }
        return done;
}

static void cap(uint8_t *pci, unsigned at, unsigned next, uint8_t type, uint32_t off, uint32_t len, unsigned caplen)
{
        pci[at] = 0x09; /* vendor specific */
        pci[at + 1] = next;
        pci[at + 2] = caplen;
        pci[at + 3] = type;
        pci[at + 4] = 0; /* BAR0 */
        memcpy(pci + at + 8, &off, 4);
        memcpy(pci + at + 12, &len, 4);
}

void ctr_virtio_init(struct ctr_virtio *d, uint16_t type, uint16_t nq, uint64_t features,
                     const struct ctr_virtio_ops *ops, void *priv)
{
        memset(d, 0, sizeof(*d));
        pthread_mutex_init(&d->lock, NULL);
        d->type = type;
        d->nq = nq;
        d->qmax = CTR_VQ_MAX;
        d->features = features | CTR_VIRTIO_F_VERSION_1;
        d->ops = ops;
        d->priv = priv;
        d->wake_fd = -1;
        static const uint32_t class[] = {[1] = 0x020000, [2] = 0x010000, [3] = 0x078000};
        uint8_t *p = d->pci;
        uint16_t vendor = 0x1af4, device = 0x1040 + type, sub = 0x40;
        memcpy(p + 0x00, &vendor, 2);
        memcpy(p + 0x02, &device, 2);
        p[0x06] = 0x10; /* status: capability list */
        p[0x08] = 1;    /* revision 1: modern */
        uint32_t cls = type < 4 ? class[type] : 0xff0000;
        p[0x09] = cls;
        p[0x0a] = cls >> 8;
        p[0x0b] = cls >> 16;
        memcpy(p + 0x2c, &vendor, 2);
        memcpy(p + 0x2e, &sub, 2);
        p[0x34] = 0x40;
        p[0x3d] = 1; /* INTA# */
        cap(p, 0x40, 0x50, 1, R_COMMON, 0x38, 16);
        cap(p, 0x50, 0x60, 3, R_ISR, 4, 16);
        cap(p, 0x60, 0x70, 4, R_DEVICE, 0x100, 16);
        cap(p, 0x70, 0x00, 2, R_NOTIFY, NOTIFY_MULT * CTR_VIRTIO_MAX_QUEUES, 20);
        uint32_t mult = NOTIFY_MULT;
        memcpy(p + 0x70 + 16, &mult, 4);
}

void ctr_virtio_free(struct ctr_virtio *d)
{
        if (!d)
                return;
        pthread_mutex_destroy(&d->lock);
        free(d->priv);
        free(d);
}

bool ctr_virtio_driver_ok(const struct ctr_virtio *d)
{
        return d->status & 4;
}

bool ctr_virtio_rx_room(struct ctr_virtio *d, unsigned queue)
{
        pthread_mutex_lock(&d->lock);
        bool r = ctr_virtio_driver_ok(d) && queue < d->nq && ctr_vq_has_avail(d->mem, &d->q[queue]);
        pthread_mutex_unlock(&d->lock);
        return r;
}

static void set_line(struct ctr_virtio *d, bool level)
{
        if (d->set_irq)
                d->set_irq(d->vm, d->gsi, level);
}

void ctr_virtio_interrupt(struct ctr_virtio *d)
{
        d->isr |= 1;
        set_line(d, true);
}

static void reset(struct ctr_virtio *d)
{
        d->status = 0;
        d->driver_features = 0;
        d->dfsel = d->gfsel = 0;
        d->qsel = 0;
        d->isr = 0;
        memset(d->q, 0, sizeof(d->q));
        set_line(d, false);
        if (d->ops->reset)
                d->ops->reset(d);
}

uint32_t ctr_virtio_pci_read(struct ctr_virtio *d, unsigned off, unsigned len)
{
        if (off >= 256 || len > 4 || off + len > 256)
                return 0xffffffffu;
        if (off >= 0x10 && off < 0x14) {
                uint32_t bar = d->bar0_sizing ? ~(CTR_VM_PCI_BAR_SIZE - 1) : d->bar0;
                return (bar >> 8 * (off - 0x10)) & (len == 4 ? 0xffffffffu : (1u << 8 * len) - 1);
        }
        uint32_t v = 0;
        memcpy(&v, d->pci + off, len);
        return v;
}

void ctr_virtio_pci_write(struct ctr_virtio *d, unsigned off, unsigned len, uint32_t v)
{
        if (off == 0x10 && len == 4) {
                d->bar0_sizing = (v & ~0xfu) == ~0xfu;
                if (!d->bar0_sizing)
                        d->bar0 = v & ~(CTR_VM_PCI_BAR_SIZE - 1);
        } else if (off == 0x04 && len >= 2) {
                memcpy(d->pci + 0x04, &v, 2);
        } else if (off == 0x3c && len == 1) {
                d->pci[0x3c] = v;
        }
        /* Everything else is read-only. */
}

static void common_read(struct ctr_virtio *d, unsigned off, uint8_t *data, unsigned len)
{
        uint64_t v = 0;
        struct ctr_vq *q = d->qsel < d->nq ? &d->q[d->qsel] : NULL;
        switch (off) {
        case 0x00: v = d->dfsel; break;
        case 0x04: v = d->dfsel < 2 ? (uint32_t)(d->features >> 32 * d->dfsel) : 0; break;
        case 0x08: v = d->gfsel; break;
        case 0x0c: v = d->gfsel < 2 ? (uint32_t)(d->driver_features >> 32 * d->gfsel) : 0; break;
        case 0x10: v = 0xffff; break; /* msix_config: no MSI-X */
        case 0x12: v = d->nq; break;
        case 0x14: v = d->status; break;
        case 0x15: v = d->generation; break;
        case 0x16: v = d->qsel; break;
        case 0x18: v = q ? (q->size ? q->size : d->qmax) : 0; break;
        case 0x1a: v = 0xffff; break;
        case 0x1c: v = q && q->ready; break;
        case 0x1e: v = d->qsel; break;
        case 0x20: v = q ? q->desc : 0; break;
        case 0x24: v = q ? q->desc >> 32 : 0; break;
        case 0x28: v = q ? q->avail : 0; break;
        case 0x2c: v = q ? q->avail >> 32 : 0; break;
        case 0x30: v = q ? q->used : 0; break;
        case 0x34: v = q ? q->used >> 32 : 0; break;
        }
        memcpy(data, &v, len > 8 ? 8 : len);
}

static void set_lo(uint64_t *f, uint32_t v)
{
        *f = (*f & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *f, uint32_t v)
{
        *f = (*f & 0xffffffffull) | (uint64_t)v << 32;
}

static void common_write(struct ctr_virtio *d, unsigned off, const uint8_t *data, unsigned len)
{
        uint64_t v = 0;
        memcpy(&v, data, len > 8 ? 8 : len);
        struct ctr_vq *q = d->qsel < d->nq ? &d->q[d->qsel] : NULL;
        switch (off) {
        case 0x00: d->dfsel = v; break;
        case 0x08: d->gfsel = v; break;
        case 0x0c:
                if (d->gfsel < 2) {
                        /* The driver may only accept what the device offers. */
                        uint32_t offered = d->features >> 32 * d->gfsel;
                        (d->gfsel ? set_hi : set_lo)(&d->driver_features, v & offered);
                }
                break;
        case 0x14:
                if (v == 0)
                        reset(d);
                else {
                        /* FEATURES_OK only holds when VERSION_1 was accepted. */
                        if ((v & 8) && !(d->driver_features & CTR_VIRTIO_F_VERSION_1))
                                v &= ~8ull;
                        d->status = v;
                }
                break;
        case 0x16: d->qsel = v; break;
        case 0x18:
                if (q && v && v <= d->qmax && !(v & (v - 1)))
                        q->size = v;
                break;
        case 0x1c:
                if (q && v == 1) {
                        if (!q->size)
                                q->size = d->qmax;
                        q->ready = true;
                }
                break;
        case 0x20: if (q) { len == 8 ? (void)(q->desc = v) : set_lo(&q->desc, v); } break;
        case 0x24: if (q) set_hi(&q->desc, v); break;
        case 0x28: if (q) { len == 8 ? (void)(q->avail = v) : set_lo(&q->avail, v); } break;
        case 0x2c: if (q) set_hi(&q->avail, v); break;
        case 0x30: if (q) { len == 8 ? (void)(q->used = v) : set_lo(&q->used, v); } break;
        case 0x34: if (q) set_hi(&q->used, v); break;
        }
}

void ctr_virtio_bar_read(struct ctr_virtio *d, uint64_t off, uint8_t *data, unsigned len)
{
        memset(data, 0, len);
        pthread_mutex_lock(&d->lock);
        if (off < R_COMMON + 0x38) {
                common_read(d, off - R_COMMON, data, len);
        } else if (off == R_ISR) {
                /* Reading the ISR acknowledges the interrupt. */
                data[0] = d->isr;
                d->isr = 0;
                set_line(d, false);
        } else if (off >= R_DEVICE && off < R_DEVICE + 0x100) {
                uint8_t cfg[0x100] = {0};
                if (d->ops->config)
                        d->ops->config(d, cfg, sizeof(cfg));
                unsigned o = off - R_DEVICE;
                memcpy(data, cfg + o, o + len > sizeof(cfg) ? sizeof(cfg) - o : len);
        }
        pthread_mutex_unlock(&d->lock);
}

void ctr_virtio_bar_write(struct ctr_virtio *d, uint64_t off, const uint8_t *data, unsigned len)
{
        pthread_mutex_lock(&d->lock);
        if (off < R_COMMON + 0x38) {
                common_write(d, off - R_COMMON, data, len);
        } else if (off >= R_NOTIFY && off < R_NOTIFY + NOTIFY_MULT * CTR_VIRTIO_MAX_QUEUES) {
                unsigned qi = (off - R_NOTIFY) / NOTIFY_MULT;
                if (qi < d->nq && ctr_virtio_driver_ok(d) && d->ops->notify)
                        d->ops->notify(d, qi);
        }
        pthread_mutex_unlock(&d->lock);
}
