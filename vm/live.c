/* Live snapshots: with every vCPU parked (ctr_vm_pause), the VM's whole state goes to a
 * directory (vmstate: KVM's VM-wide and per-vCPU state and our devices'; memory: guest RAM;
 * disk.img: the root disk as the guest last wrote it, reflinked when the filesystem can), then
 * the vCPUs resume. Restoring is the same in reverse on a VM made with the same devices, before
 * its first KVM_RUN. Block and transmit requests run in vCPU threads and receive in the I/O
 * thread that takes the snapshot: with the vCPUs parked no device request is in flight. */
#define _GNU_SOURCE
#include "vm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"

#define MSR_IA32_TSC_DEADLINE 0x6e0

/* The size of the XSAVE area KVM hands out: KVM_CAP_XSAVE2's (dynamic features such as AMX), the
 * classic 4 KiB, or 0 without XSAVE (the legacy FPU state then). */
static size_t xsave_size(struct ctr_vm *vm, bool *ret_v2)
{
        int n = ioctl(vm->vm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
        *ret_v2 = n > (int)sizeof(struct kvm_xsave);
        if (n >= (int)sizeof(struct kvm_xsave))
                return (size_t)n;
        return ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 ? sizeof(struct kvm_xsave) : 0;
}

/* Every MSR KVM lists, as far as KVM_GET_MSRS reads them (an index it cannot read is skipped). */
static int save_msrs(struct ctr_vm *vm, struct vcpu *c, struct ctr_vmstate_buf *b, struct ctr_error *err)
{
        struct kvm_msr_list probe = {.nmsrs = 0};
        if (ioctl(vm->kvm, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_MSR_INDEX_LIST");
        _cleanup_free_ struct kvm_msr_list *list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
        _cleanup_free_ struct kvm_msrs *m = calloc(1, sizeof(*m) + probe.nmsrs * sizeof(struct kvm_msr_entry));
        _cleanup_free_ struct kvm_msr_entry *out = calloc(probe.nmsrs + 1, sizeof(*out));
        if (!list || !m || !out)
                abort();
        list->nmsrs = probe.nmsrs;
        if (ioctl(vm->kvm, KVM_GET_MSR_INDEX_LIST, list) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_GET_MSR_INDEX_LIST");
        size_t nout = 0;
        for (uint32_t i = 0; i < list->nmsrs;) {
                m->nmsrs = list->nmsrs - i;
                for (uint32_t k = 0; k < m->nmsrs; k++)
                        m->entries[k] = (struct kvm_msr_entry){.index = list->indices[i + k]};
                int got = ioctl(c->fd, KVM_GET_MSRS, m);
                if (got < 0)
                        return ctr_err_sys(err, errno, "kvm", "KVM_GET_MSRS on vCPU %u", c->id);
                memcpy(out + nout, m->entries, (size_t)got * sizeof(*out));
                nout += got;
                i += got + 1; /* the one after the last read failed */
        }
        ctr_vmstate_add(b, CTR_VMS_MSRS, c->id, out, nout * sizeof(*out));
        return 0;
}

#define GET(fd, req, tag, idx, type, what)                                                         \
        do {                                                                                       \
                type v_;                                                                           \
                memset(&v_, 0, sizeof(v_));                                                        \
                if (ioctl(fd, req, &v_) < 0)                                                       \
                        return ctr_err_sys(err, errno, "kvm", "%s", what);                        \
                ctr_vmstate_add(b, tag, idx, &v_, sizeof(v_));                                     \
        } while (0)

static int save_vcpu(struct ctr_vm *vm, struct vcpu *c, struct ctr_vmstate_buf *b, struct ctr_error *err)
{
        GET(c->fd, KVM_GET_REGS, CTR_VMS_REGS, c->id, struct kvm_regs, "KVM_GET_REGS");
        GET(c->fd, KVM_GET_SREGS, CTR_VMS_SREGS, c->id, struct kvm_sregs, "KVM_GET_SREGS");
        bool v2;
        size_t xs = xsave_size(vm, &v2);
        if (xs) {
                _cleanup_free_ void *x = calloc(1, xs);
                if (!x)
                        abort();
                if (ioctl(c->fd, v2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, x) < 0)
                        return ctr_err_sys(err, errno, "kvm", "KVM_GET_XSAVE");
                ctr_vmstate_add(b, CTR_VMS_XSAVE, c->id, x, xs);
        } else
                GET(c->fd, KVM_GET_FPU, CTR_VMS_FPU, c->id, struct kvm_fpu, "KVM_GET_FPU");
        if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
                GET(c->fd, KVM_GET_XCRS, CTR_VMS_XCRS, c->id, struct kvm_xcrs, "KVM_GET_XCRS");
        int r = save_msrs(vm, c, b, err);
        if (r < 0)
                return r;
        if (vm->irqchip)
                GET(c->fd, KVM_GET_LAPIC, CTR_VMS_LAPIC, c->id, struct kvm_lapic_state, "KVM_GET_LAPIC");
        GET(c->fd, KVM_GET_VCPU_EVENTS, CTR_VMS_EVENTS, c->id, struct kvm_vcpu_events, "KVM_GET_VCPU_EVENTS");
        GET(c->fd, KVM_GET_MP_STATE, CTR_VMS_MPSTATE, c->id, struct kvm_mp_state, "KVM_GET_MP_STATE");
        if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0)
                GET(c->fd, KVM_GET_DEBUGREGS, CTR_VMS_DEBUGREGS, c->id, struct kvm_debugregs, "KVM_GET_DEBUGREGS");
        return 0;
}

static void save_platform(struct ctr_vm *vm, struct ctr_vmstate_buf *b)
{
        struct ctr_vms_platform p = {0};
        pthread_mutex_lock(&vm->lock);
        const struct ctr_uart *u = &vm->uart;
        p.uart_ier = u->ier, p.uart_lcr = u->lcr, p.uart_mcr = u->mcr, p.uart_scr = u->scr;
        p.uart_dll = u->dll, p.uart_dlm = u->dlm, p.uart_fcr = u->fcr, p.uart_thre_pending = u->thre_pending;
        p.uart_rx_head = u->rx_head, p.uart_rx_len = u->rx_len;
        memcpy(p.uart_rx, u->rx, sizeof(p.uart_rx));
        p.uart_irq = vm->uart_irq;
        p.rtc_index = vm->rtc.index;
        memcpy(p.rtc_ram, vm->rtc.ram, sizeof(p.rtc_ram));
        p.kbd_ctr = vm->i8042.ctr, p.kbd_out = vm->i8042.out, p.kbd_pending = vm->i8042.pending;
        p.kbd_out_full = vm->i8042.out_full, p.kbd_last_cmd = vm->i8042.last_cmd;
        p.pci_addr = vm->pci_addr;
        p.ndev = vm->ndev;
        pthread_mutex_unlock(&vm->lock);
        ctr_vmstate_add(b, CTR_VMS_PLATFORM, 0, &p, sizeof(p));
        for (unsigned i = 0; i < vm->ndev; i++) {
                struct ctr_virtio *d = vm->dev[i];
                struct ctr_vms_virtio v = {0};
                pthread_mutex_lock(&d->lock);
                v.type = d->type, v.nq = d->nq, v.dfsel = d->dfsel, v.gfsel = d->gfsel, v.qsel = d->qsel;
                v.status = d->status, v.isr = d->isr, v.generation = d->generation, v.bar0_sizing = d->bar0_sizing;
                v.slot = d->slot, v.bar0 = d->bar0, v.features = d->features, v.driver_features = d->driver_features;
                memcpy(v.pci, d->pci, sizeof(v.pci));
                for (unsigned q = 0; q < CTR_VIRTIO_MAX_QUEUES; q++)
                        v.q[q] = (struct ctr_vms_queue){.desc = d->q[q].desc, .avail = d->q[q].avail,
                                                        .used = d->q[q].used, .size = d->q[q].size,
                                                        .last_avail = d->q[q].last_avail, .ready = d->q[q].ready};
                pthread_mutex_unlock(&d->lock);
                ctr_vmstate_add(b, CTR_VMS_VIRTIO, i, &v, sizeof(v));
        }
}

static int save_state(struct ctr_vm *vm, struct ctr_vmstate_buf *b, struct ctr_error *err)
{
        ctr_vmstate_begin(b, vm->mem.size, vm->ncpus);
        save_platform(vm, b);
        GET(vm->vm, KVM_GET_CLOCK, CTR_VMS_CLOCK, 0, struct kvm_clock_data, "KVM_GET_CLOCK");
        if (vm->irqchip) {
                for (uint32_t chip = 0; chip < 3; chip++) {
                        struct kvm_irqchip ic = {.chip_id = chip};
                        if (ioctl(vm->vm, KVM_GET_IRQCHIP, &ic) < 0)
                                return ctr_err_sys(err, errno, "kvm", "KVM_GET_IRQCHIP %u", chip);
                        ctr_vmstate_add(b, CTR_VMS_IRQCHIP, chip, &ic, sizeof(ic));
                }
                GET(vm->vm, KVM_GET_PIT2, CTR_VMS_PIT, 0, struct kvm_pit_state2, "KVM_GET_PIT2");
        }
        for (unsigned i = 0; i < vm->ncpus; i++) {
                int r = save_vcpu(vm, &vm->cpu[i], b, err);
                if (r < 0)
                        return r;
        }
        ctr_vmstate_finish(b);
        return 0;
}

static bool page_zero(const uint8_t *p)
{
        const uint64_t *w = (const uint64_t *)p;
        for (unsigned i = 0; i < 4096 / 8; i++)
                if (w[i])
                        return false;
        return true;
}

/* Guest RAM into a sparse file: runs of non-zero pages written, zero pages left as holes. */
static int save_memory(struct ctr_vm *vm, int fd, struct ctr_error *err)
{
        if (ftruncate(fd, (off_t)vm->mem.size) < 0)
                return ctr_err_sys(err, errno, "snapshot", "size the memory file");
        size_t pages = vm->mem.size / 4096;
        for (size_t i = 0; i < pages;) {
                if (page_zero(vm->mem.base + i * 4096)) {
                        i++;
                        continue;
                }
                size_t j = i + 1;
                while (j < pages && j - i < 4096 && !page_zero(vm->mem.base + j * 4096))
                        j++;
                size_t len = (j - i) * 4096;
                for (size_t done = 0; done < len;) {
                        ssize_t k = pwrite(fd, vm->mem.base + i * 4096 + done, len - done, (off_t)(i * 4096 + done));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return ctr_err_sys(err, k < 0 ? errno : EIO, "snapshot", "write guest memory");
                        done += k;
                }
                i = j;
        }
        return 0;
}

static int blk_fd(struct ctr_vm *vm)
{
        for (unsigned i = 0; i < vm->ndev; i++)
                if (vm->dev[i]->type == 2)
                        return ctr_virtio_blk_fd(vm->dev[i]);
        return -1;
}

static int write_file(const char *dir, const char *name, int *ret_fd, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return ctr_err_sys(err, errno, "snapshot", "create %s", path);
        *ret_fd = fd;
        return 0;
}

int ctr_vm_snapshot(struct ctr_vm *vm, const char *dir, uint32_t *ret_paused_us, struct ctr_error *err)
{
        struct ctr_vmstate_buf b = {0};
        _cleanup_close_ int memfd = -1, diskfd = -1, statefd = -1;
        int r;
        *ret_paused_us = 0;
        int disk = blk_fd(vm);
        if ((r = write_file(dir, CTR_VMSTATE_MEMORY, &memfd, err)) < 0 ||
            (disk >= 0 && (r = write_file(dir, CTR_VMSTATE_DISK, &diskfd, err)) < 0) ||
            (r = write_file(dir, CTR_VMSTATE_FILE, &statefd, err)) < 0)
                return r;
        uint64_t t0 = ctr_now_us();
        if ((r = ctr_vm_pause(vm, err)) < 0)
                return r;
        r = save_state(vm, &b, err);
        if (r >= 0)
                r = save_memory(vm, memfd, err);
        if (r >= 0 && disk >= 0 && (r = ctr_file_clone(disk, diskfd)) < 0)
                ctr_err_sys(err, -r, "snapshot", "copy the disk");
        ctr_vm_resume(vm);
        *ret_paused_us = (uint32_t)(ctr_now_us() - t0);
        if (r >= 0 && ctr_write_all(statefd, b.data, b.len) < 0)
                r = ctr_err_sys(err, errno, "snapshot", "write the state file");
        if (r >= 0 && (fsync(statefd) < 0 || fsync(memfd) < 0 || (diskfd >= 0 && fsync(diskfd) < 0)))
                r = ctr_err_sys(err, errno, "snapshot", "sync the snapshot's files");
        ctr_vmstate_buf_free(&b);
        return r;
}

/* ---- restore ---- */

/* The section (tag, index) of exactly len bytes (at least len when min). */
static const void *need(const struct ctr_vmstate *s, uint32_t tag, uint32_t index, size_t len, bool min,
                        struct ctr_error *err)
{
        const struct ctr_vmstate_section *x = ctr_vmstate_find(s, tag, index);
        if (!x)
                return ctr_err(err, EINVAL, "vmstate", "the state has no section %u/%u", tag, index), NULL;
        if (min ? x->len < len : x->len != len)
                return ctr_err(err, EINVAL, "vmstate", "section %u/%u is %llu bytes, this VMM's is %zu", tag, index,
                               (unsigned long long)x->len, len),
                       NULL;
        return x->data;
}

#define SET(fd, req, tag, idx, type, what)                                                         \
        do {                                                                                       \
                type v_;                                                                           \
                const void *p_ = need(s, tag, idx, sizeof(v_), false, err);                        \
                if (!p_)                                                                           \
                        return -err->errnum;                                                       \
                memcpy(&v_, p_, sizeof(v_));                                                       \
                if (ioctl(fd, req, &v_) < 0)                                                       \
                        return ctr_err_sys(err, errno, "kvm", "%s", what);                        \
        } while (0)

static int set_msrs(struct vcpu *c, const struct kvm_msr_entry *e, size_t n, struct ctr_error *err)
{
        _cleanup_free_ struct kvm_msrs *m = calloc(1, sizeof(*m) + (n + 1) * sizeof(*e));
        if (!m)
                abort();
        for (size_t i = 0; i < n;) {
                m->nmsrs = n - i;
                memcpy(m->entries, e + i, (n - i) * sizeof(*e));
                int k = ioctl(c->fd, KVM_SET_MSRS, m);
                if (k < 0)
                        return ctr_err_sys(err, errno, "kvm", "KVM_SET_MSRS on vCPU %u", c->id);
                i += k + 1; /* one KVM refuses (read-only here) is passed over */
        }
        return 0;
}

static int restore_vcpu(struct ctr_vm *vm, struct vcpu *c, const struct ctr_vmstate *s, struct ctr_error *err)
{
        SET(c->fd, KVM_SET_SREGS, CTR_VMS_SREGS, c->id, struct kvm_sregs, "KVM_SET_SREGS");
        SET(c->fd, KVM_SET_REGS, CTR_VMS_REGS, c->id, struct kvm_regs, "KVM_SET_REGS");
        const struct ctr_vmstate_section *x = ctr_vmstate_find(s, CTR_VMS_XSAVE, c->id);
        if (x) {
                bool v2;
                size_t xs = xsave_size(vm, &v2);
                if (!xs || x->len < sizeof(struct kvm_xsave))
                        return ctr_err(err, ENOTSUP, "vmstate", "the state's XSAVE area does not fit this host's KVM");
                _cleanup_free_ uint8_t *buf = calloc(1, xs > x->len ? xs : x->len);
                if (!buf)
                        abort();
                memcpy(buf, x->data, x->len);
                if (ioctl(c->fd, KVM_SET_XSAVE, buf) < 0)
                        return ctr_err_sys(err, errno, "kvm", "KVM_SET_XSAVE");
        } else
                SET(c->fd, KVM_SET_FPU, CTR_VMS_FPU, c->id, struct kvm_fpu, "KVM_SET_FPU");
        if (ctr_vmstate_find(s, CTR_VMS_XCRS, c->id))
                SET(c->fd, KVM_SET_XCRS, CTR_VMS_XCRS, c->id, struct kvm_xcrs, "KVM_SET_XCRS");
        x = ctr_vmstate_find(s, CTR_VMS_MSRS, c->id);
        if (!x || x->len % sizeof(struct kvm_msr_entry))
                return ctr_err(err, EINVAL, "vmstate", "no MSRs for vCPU %u", c->id);
        const struct kvm_msr_entry *msrs = (const struct kvm_msr_entry *)x->data;
        size_t nmsrs = x->len / sizeof(*msrs);
        int r = set_msrs(c, msrs, nmsrs, err);
        if (r < 0)
                return r;
        if (vm->irqchip) {
                SET(c->fd, KVM_SET_LAPIC, CTR_VMS_LAPIC, c->id, struct kvm_lapic_state, "KVM_SET_LAPIC");
                /* The TSC deadline counts only once the LAPIC's timer is in that mode. */
                for (size_t i = 0; i < nmsrs; i++)
                        if (msrs[i].index == MSR_IA32_TSC_DEADLINE && (r = set_msrs(c, msrs + i, 1, err)) < 0)
                                return r;
        }
        struct kvm_vcpu_events ev;
        const void *p = need(s, CTR_VMS_EVENTS, c->id, sizeof(ev), false, err);
        if (!p)
                return -err->errnum;
        memcpy(&ev, p, sizeof(ev));
        ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
        if (ioctl(c->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
                return ctr_err_sys(err, errno, "kvm", "KVM_SET_VCPU_EVENTS");
        SET(c->fd, KVM_SET_MP_STATE, CTR_VMS_MPSTATE, c->id, struct kvm_mp_state, "KVM_SET_MP_STATE");
        if (ctr_vmstate_find(s, CTR_VMS_DEBUGREGS, c->id))
                SET(c->fd, KVM_SET_DEBUGREGS, CTR_VMS_DEBUGREGS, c->id, struct kvm_debugregs, "KVM_SET_DEBUGREGS");
        return 0;
}

static int restore_platform(struct ctr_vm *vm, const struct ctr_vmstate *s, struct ctr_error *err)
{
        const struct ctr_vms_platform *p = need(s, CTR_VMS_PLATFORM, 0, sizeof(*p), false, err);
        if (!p)
                return -err->errnum;
        if (p->ndev != vm->ndev)
                return ctr_err(err, EINVAL, "vmstate", "the snapshot's VM had %u devices, this one has %u", p->ndev,
                               vm->ndev);
        if (p->uart_rx_head >= sizeof(p->uart_rx) || p->uart_rx_len > sizeof(p->uart_rx))
                return ctr_err(err, EINVAL, "vmstate", "the UART's receive queue is out of range");
        struct ctr_uart *u = &vm->uart;
        u->ier = p->uart_ier, u->lcr = p->uart_lcr, u->mcr = p->uart_mcr, u->scr = p->uart_scr;
        u->dll = p->uart_dll, u->dlm = p->uart_dlm, u->fcr = p->uart_fcr, u->thre_pending = p->uart_thre_pending;
        u->rx_head = p->uart_rx_head, u->rx_len = p->uart_rx_len;
        memcpy(u->rx, p->uart_rx, sizeof(u->rx));
        vm->uart_irq = p->uart_irq;
        vm->rtc.index = p->rtc_index & 0x7f;
        memcpy(vm->rtc.ram, p->rtc_ram, sizeof(vm->rtc.ram));
        vm->i8042 = (struct ctr_i8042){.ctr = p->kbd_ctr, .out = p->kbd_out, .pending = p->kbd_pending,
                                       .out_full = p->kbd_out_full, .last_cmd = p->kbd_last_cmd};
        vm->pci_addr = p->pci_addr;
        for (unsigned i = 0; i < vm->ndev; i++) {
                struct ctr_virtio *d = vm->dev[i];
                const struct ctr_vms_virtio *v = need(s, CTR_VMS_VIRTIO, i, sizeof(*v), false, err);
                if (!v)
                        return -err->errnum;
                if (v->type != d->type || v->nq != d->nq || v->slot != d->slot || v->features != d->features)
                        return ctr_err(err, EINVAL, "vmstate", "device %u was virtio type %u in the snapshot, it is %u now",
                                       i, v->type, d->type);
                d->dfsel = v->dfsel, d->gfsel = v->gfsel, d->qsel = v->qsel, d->status = v->status, d->isr = v->isr;
                d->generation = v->generation, d->bar0_sizing = v->bar0_sizing, d->bar0 = v->bar0;
                d->driver_features = v->driver_features;
                memcpy(d->pci, v->pci, sizeof(d->pci));
                for (unsigned q = 0; q < CTR_VIRTIO_MAX_QUEUES; q++) {
                        if (v->q[q].size > CTR_VQ_MAX || (v->q[q].size & (v->q[q].size - 1)))
                                return ctr_err(err, EINVAL, "vmstate", "queue %u of device %u has size %u", q, i,
                                               v->q[q].size);
                        d->q[q] = (struct ctr_vq){.size = v->q[q].size, .ready = v->q[q].ready, .desc = v->q[q].desc,
                                                  .avail = v->q[q].avail, .used = v->q[q].used,
                                                  .last_avail = v->q[q].last_avail};
                }
        }
        return 0;
}

/* Guest RAM from the memory file: mapped copy-on-write over the VM's (pages come in as the guest
 * touches them), or read when the file cannot be mapped. */
static int restore_memory(struct ctr_vm *vm, const char *dir, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/" CTR_VMSTATE_MEMORY, dir);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "restore", "open %s", path);
        void *p = mmap(vm->mem.base, vm->mem.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
        if (p != MAP_FAILED)
                return 0;
        for (size_t done = 0; done < vm->mem.size;) {
                ssize_t k = pread(fd, vm->mem.base + done, vm->mem.size - done, (off_t)done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return ctr_err_sys(err, k < 0 ? errno : EIO, "restore", "read %s", path);
                done += k;
        }
        return 0;
}

int ctr_vm_restore(struct ctr_vm *vm, const char *dir, struct ctr_error *err)
{
        struct ctr_vmstate s;
        _cleanup_free_ char *text = NULL;
        int r = ctr_vmstate_load(dir, &s, &text, err);
        if (r < 0)
                return r;
        if (s.h.mem_size != vm->mem.size || s.h.ncpus != vm->ncpus) {
                r = ctr_err(err, EINVAL, "restore", "the snapshot is of a VM with %u vCPUs and %llu MiB, this one has %u and %zu",
                            s.h.ncpus, (unsigned long long)(s.h.mem_size >> 20), vm->ncpus, vm->mem.size >> 20);
                goto out;
        }
        if ((r = restore_platform(vm, &s, err)) < 0 || (r = restore_memory(vm, dir, err)) < 0)
                goto out;
        struct kvm_clock_data clk;
        const void *p = need(&s, CTR_VMS_CLOCK, 0, sizeof(clk), false, err);
        if (!p) {
                r = -err->errnum;
                goto out;
        }
        memcpy(&clk, p, sizeof(clk));
        clk.flags = 0; /* the clock as it was, not a host realtime pairing */
        if (ioctl(vm->vm, KVM_SET_CLOCK, &clk) < 0) {
                r = ctr_err_sys(err, errno, "kvm", "KVM_SET_CLOCK");
                goto out;
        }
        if (vm->irqchip) {
                for (uint32_t chip = 0; chip < 3; chip++) {
                        struct kvm_irqchip ic;
                        if (!(p = need(&s, CTR_VMS_IRQCHIP, chip, sizeof(ic), false, err))) {
                                r = -err->errnum;
                                goto out;
                        }
                        memcpy(&ic, p, sizeof(ic));
                        if (ic.chip_id != chip || ioctl(vm->vm, KVM_SET_IRQCHIP, &ic) < 0) {
                                r = ctr_err_sys(err, errno ? errno : EINVAL, "kvm", "KVM_SET_IRQCHIP %u", chip);
                                goto out;
                        }
                }
                struct kvm_pit_state2 pit;
                if (!(p = need(&s, CTR_VMS_PIT, 0, sizeof(pit), false, err))) {
                        r = -err->errnum;
                        goto out;
                }
                memcpy(&pit, p, sizeof(pit));
                if (ioctl(vm->vm, KVM_SET_PIT2, &pit) < 0) {
                        r = ctr_err_sys(err, errno, "kvm", "KVM_SET_PIT2");
                        goto out;
                }
        }
        for (unsigned i = 0; i < vm->ncpus; i++)
                if ((r = restore_vcpu(vm, &vm->cpu[i], &s, err)) < 0) {
                        ctr_err_prefix(err, "vCPU %u", i);
                        goto out;
                }
        ctr_vm_sync_irqs(vm);
        vm->restored = true;
out:
        ctr_vmstate_free(&s);
        return r;
}

bool ctr_vm_control(struct ctr_vm *vm)
{
        struct ctr_vm_ctl_req req;
        ssize_t n = recv(vm->control_fd, &req, sizeof(req), MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR;
        if (n == 0)
                return false;
        struct ctr_vm_ctl_reply rep = {0};
        struct ctr_error e = {0};
        if ((size_t)n < sizeof(req.op) + 1 || req.op != CTR_VM_CTL_SNAPSHOT)
                ctr_err(&e, EINVAL, "vm", "unknown control request");
        else {
                req.dir[sizeof(req.dir) - 1] = 0;
                ctr_vm_snapshot(vm, req.dir, &rep.paused_us, &e);
        }
        rep.errnum = e.errnum;
        memcpy(rep.op, e.op, sizeof(rep.op));
        memcpy(rep.msg, e.msg, sizeof(rep.msg));
        if (send(vm->control_fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
                return false;
        return true;
}
