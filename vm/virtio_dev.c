/* The devices behind the virtio transport: a block device over a file (the container's ext4
 * image), a console port carrying the agent's byte stream, and a network card over a TAP. Block
 * and transmit requests run in the vCPU thread that notified; receive runs in the I/O thread. */
#define _GNU_SOURCE
#include "vm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../base/util.h"

static struct ctr_virtio *dev_new(uint16_t type, uint16_t nq, uint64_t features, const struct ctr_virtio_ops *ops,
                                  void *priv)
{
        struct ctr_virtio *d = calloc(1, sizeof(*d));
        if (!d)
                abort();
        ctr_virtio_init(d, type, nq, features, ops, priv);
        return d;
}

static void wake(struct ctr_virtio *d)
{
        uint64_t one = 1;
        if (d->wake_fd >= 0 && write(d->wake_fd, &one, sizeof(one)) < 0) {
                /* The counter is saturated: the I/O thread is awake already. */
        }
}

/* ---- block ---- */

#define BLK_F_RO (1ull << 5)
#define BLK_F_FLUSH (1ull << 9)
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

struct blk {
        int fd;
        bool ro;
        uint64_t sectors;
        char serial[20];
};

/* Trim an iovec list to its first `len` bytes (the status byte follows the data). */
static unsigned iov_trim(struct iovec *iov, unsigned n, size_t len)
{
        unsigned i = 0;
        for (; i < n && len; i++) {
                if (iov[i].iov_len > len)
                        iov[i].iov_len = len;
                len -= iov[i].iov_len;
        }
        return i;
}

/* Drop the first `skip` bytes of an iovec list (the request header). */
static unsigned iov_skip(struct iovec *iov, unsigned n, size_t skip, struct iovec *out)
{
        unsigned k = 0;
        for (unsigned i = 0; i < n; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                out[k++] = (struct iovec){(uint8_t *)iov[i].iov_base + skip, iov[i].iov_len - skip};
                skip = 0;
        }
        return k;
}

static uint8_t blk_request(struct blk *b, struct ctr_vq_chain *c, uint32_t *written)
{
        struct {
                uint32_t type, reserved;
                uint64_t sector;
        } h;
        *written = 0;
        if (c->wlen < 1 || ctr_iov_to_buf(c->r, c->nr, 0, &h, sizeof(h)) != sizeof(h))
                return BLK_S_IOERR;
        struct iovec io[CTR_VQ_MAX_SEGS];
        size_t dlen;
        unsigned n;
        switch (h.type) {
        case BLK_T_IN:
                dlen = c->wlen - 1;
                memcpy(io, c->w, c->nw * sizeof(io[0]));
                n = iov_trim(io, c->nw, dlen);
                if (dlen % 512 || h.sector > b->sectors || dlen / 512 > b->sectors - h.sector)
                        return BLK_S_IOERR;
                if (preadv(b->fd, io, n, h.sector * 512) != (ssize_t)dlen)
                        return BLK_S_IOERR;
                *written = dlen;
                return BLK_S_OK;
        case BLK_T_OUT:
                if (b->ro)
                        return BLK_S_IOERR;
                dlen = c->rlen - sizeof(h);
                n = iov_skip(c->r, c->nr, sizeof(h), io);
                if (dlen % 512 || h.sector > b->sectors || dlen / 512 > b->sectors - h.sector)
                        return BLK_S_IOERR;
                if (pwritev(b->fd, io, n, h.sector * 512) != (ssize_t)dlen)
                        return BLK_S_IOERR;
                return BLK_S_OK;
        case BLK_T_FLUSH:
                return fdatasync(b->fd) == 0 ? BLK_S_OK : BLK_S_IOERR;
        case BLK_T_GET_ID:
                *written = ctr_iov_from_buf(c->w, c->nw, 0, b->serial, c->wlen - 1 < 20 ? c->wlen - 1 : 20);
                return BLK_S_OK;
        default:
                return BLK_S_UNSUPP;
        }
}

static void blk_notify(struct ctr_virtio *d, unsigned qi)
{
        struct blk *b = d->priv;
        struct ctr_vq_chain c;
        bool any = false;
        int r;
        while ((r = ctr_vq_pop(d->mem, &d->q[qi], &c)) > 0) {
                uint32_t written;
                uint8_t status = blk_request(b, &c, &written);
                if (c.wlen)
                        ctr_iov_from_buf(c.w, c.nw, c.wlen - 1, &status, 1);
                ctr_vq_push(d->mem, &d->q[qi], c.head, written + 1);
                any = true;
        }
        if (r < 0)
                d->status |= 0x40; /* DEVICE_NEEDS_RESET: the driver broke the ring */
        if (any)
                ctr_virtio_interrupt(d);
}

static void blk_config(struct ctr_virtio *d, uint8_t *cfg, size_t cap)
{
        struct blk *b = d->priv;
        memcpy(cfg, &b->sectors, 8); /* capacity in 512-byte sectors */
}

static const struct ctr_virtio_ops blk_ops = {.notify = blk_notify, .config = blk_config};

int ctr_virtio_blk_fd(const struct ctr_virtio *d)
{
        return d->type == 2 ? ((const struct blk *)d->priv)->fd : -1;
}

struct ctr_virtio *ctr_virtio_blk_new(int fd, bool readonly, const char *serial, struct ctr_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return ctr_err_sys(err, errno, "disk", "stat the image"), NULL;
        if (!S_ISREG(st.st_mode) || st.st_size < 512)
                return ctr_err(err, EINVAL, "disk", "the image is not a regular file of at least 512 bytes"), NULL;
        struct blk *b = calloc(1, sizeof(*b));
        if (!b)
                abort();
        b->fd = fd;
        b->ro = readonly;
        b->sectors = st.st_size / 512;
        strncpy(b->serial, serial ? serial : "ctr", sizeof(b->serial));
        return dev_new(2, 1, BLK_F_FLUSH | (readonly ? BLK_F_RO : 0), &blk_ops, b);
}

/* ---- console (one port, no multiport: the guest's /dev/hvc0) ---- */

struct console {
        int fd;
};

static void console_notify(struct ctr_virtio *d, unsigned qi)
{
        struct console *con = d->priv;
        if (qi == 0) {
                wake(d); /* receive buffers posted */
                return;
        }
        struct ctr_vq_chain c;
        bool any = false;
        while (ctr_vq_pop(d->mem, &d->q[1], &c) > 0) {
                struct iovec io[CTR_VQ_MAX_SEGS];
                memcpy(io, c.r, c.nr * sizeof(io[0]));
                unsigned n = c.nr, i = 0;
                /* Blocking writes: the agent's reader on the host is the monitor, which drains. */
                while (i < n) {
                        ssize_t k = writev(con->fd, io + i, n - i);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0 && errno == EAGAIN) {
                                struct pollfd pfd = {.fd = con->fd, .events = POLLOUT};
                                if (poll(&pfd, 1, 5000) > 0)
                                        continue;
                        }
                        if (k <= 0)
                                break; /* the host end is gone: the bytes are dropped */
                        while (i < n && (size_t)k >= io[i].iov_len)
                                k -= io[i++].iov_len;
                        if (i < n) {
                                io[i].iov_base = (uint8_t *)io[i].iov_base + k;
                                io[i].iov_len -= k;
                        }
                }
                ctr_vq_push(d->mem, &d->q[1], c.head, 0);
                any = true;
        }
        if (any)
                ctr_virtio_interrupt(d);
}

static void console_config(struct ctr_virtio *d, uint8_t *cfg, size_t cap)
{
        uint16_t cols = 80, rows = 25;
        memcpy(cfg, &cols, 2);
        memcpy(cfg + 2, &rows, 2);
}

static const struct ctr_virtio_ops console_ops = {.notify = console_notify, .config = console_config};

struct ctr_virtio *ctr_virtio_console_new(int fd, struct ctr_error *err)
{
        struct console *con = calloc(1, sizeof(*con));
        if (!con)
                abort();
        con->fd = fd;
        return dev_new(3, 2, 0, &console_ops, con);
}

/* Fill receive buffers from a backend fd with one read per chain (readv for the net device,
 * whose TAP hands one frame per read). */
static int rx_fill(struct ctr_virtio *d, int fd, unsigned qi)
{
        int moved = 0;
        pthread_mutex_lock(&d->lock);
        for (;;) {
                if (!ctr_virtio_driver_ok(d) || !ctr_vq_has_avail(d->mem, &d->q[qi]))
                        break;
                struct ctr_vq_chain c;
                if (ctr_vq_pop(d->mem, &d->q[qi], &c) <= 0)
                        break;
                ssize_t k = readv(fd, c.w, c.nw);
                if (k < 0) {
                        int e = errno;
                        /* Nothing to read after all: give the buffer back unused. */
                        d->q[qi].last_avail--;
                        pthread_mutex_unlock(&d->lock);
                        if (moved)
                                return 1;
                        return e == EAGAIN || e == EINTR ? 1 : -e;
                }
                if (k == 0) {
                        d->q[qi].last_avail--;
                        pthread_mutex_unlock(&d->lock);
                        return -EPIPE;
                }
                ctr_vq_push(d->mem, &d->q[qi], c.head, k);
                ctr_virtio_interrupt(d);
                moved = 1;
        }
        pthread_mutex_unlock(&d->lock);
        return moved;
}

int ctr_virtio_console_rx(struct ctr_virtio *d)
{
        struct console *con = d->priv;
        return rx_fill(d, con->fd, 0);
}

/* ---- network ---- */

#define NET_F_MAC (1ull << 5)
#define NET_F_STATUS (1ull << 16)

struct net {
        int fd;
        uint8_t mac[6];
};

static void net_notify(struct ctr_virtio *d, unsigned qi)
{
        struct net *n = d->priv;
        if (qi == 0) {
                wake(d);
                return;
        }
        struct ctr_vq_chain c;
        bool any = false;
        while (ctr_vq_pop(d->mem, &d->q[1], &c) > 0) {
                /* The TAP takes the virtio-net header as it is (IFF_VNET_HDR, 12 bytes). */
                if (writev(n->fd, c.r, c.nr) < 0) {
                        /* A full TAP queue drops the frame, as a wire would. */
                }
                ctr_vq_push(d->mem, &d->q[1], c.head, 0);
                any = true;
        }
        if (any)
                ctr_virtio_interrupt(d);
}

static void net_config(struct ctr_virtio *d, uint8_t *cfg, size_t cap)
{
        struct net *n = d->priv;
        memcpy(cfg, n->mac, 6);
        uint16_t status = 1; /* link up */
        memcpy(cfg + 6, &status, 2);
}

static const struct ctr_virtio_ops net_ops = {.notify = net_notify, .config = net_config};

struct ctr_virtio *ctr_virtio_net_new(int tap_fd, const uint8_t mac[6], struct ctr_error *err)
{
        struct net *n = calloc(1, sizeof(*n));
        if (!n)
                abort();
        n->fd = tap_fd;
        memcpy(n->mac, mac, 6);
        return dev_new(1, 2, NET_F_MAC | NET_F_STATUS, &net_ops, n);
}

int ctr_virtio_net_rx(struct ctr_virtio *d)
{
        struct net *n = d->priv;
        return rx_fill(d, n->fd, 0);
}
