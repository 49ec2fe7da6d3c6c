/* Test driver for vm/: boots a raw 64-bit payload or a Linux kernel in a fresh VM, streams its
 * COM1 output to stdout, and prints how it ended on stderr ("end=debug-exit code=42"). Exit
 * status 0 when the VM ran to an end, 125 on a VMM error (message on stderr).
 *   vm-smoke [OPTIONS] PAYLOAD [MEM_MB]        vm-smoke --bzimage-info BZIMAGE
 *   vm-smoke [OPTIONS] --kernel BZIMAGE INITRD CMDLINE [MEM_MB]
 *   vm-smoke --write-initramfs KERNEL CONFIG OUT   (the initramfs ctr start builds, for benchmarks)
 * OPTIONS: --vcpus N; --disk IMAGE (virtio-blk, read-write); --agent-log FILE (virtio-console:
 * the driver answers the guest's first bytes with "PING\n" and writes everything the guest sends to FILE);
 * --tap NAME (virtio-net over a new TAP device NAME, up, MAC 02:63:00:00:00:01; gone with vm-smoke);
 * --live DIR with --live-at MS: a live snapshot into DIR (empty) MS milliseconds into the run; after
 * the VM ends, a second VM resumed from DIR runs to its own end: its output follows a line
 * "--- resumed ---", its end on stderr as "resumed end=... code=...". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../netns/netns.h"
#include "../../base/util.h"
#include "../../vm/vm.h"

struct live {
        int fd;
        unsigned at_ms;
        struct ctr_vm_ctl_req req;
        struct ctr_vm_ctl_reply rep;
        bool answered;
};

static void *live_thread(void *arg)
{
        struct live *l = arg;
        usleep(l->at_ms * 1000u);
        if (send(l->fd, &l->req, sizeof(l->req), MSG_NOSIGNAL) == sizeof(l->req))
                l->answered = recv(l->fd, &l->rep, sizeof(l->rep), 0) == sizeof(l->rep);
        return NULL;
}

/* The second run: a VM of the same size resumed from the snapshot the first one took. */
static int resume(const struct live *l, unsigned mem_mb, unsigned vcpus)
{
        struct ctr_error err = {0};
        struct ctr_vm_result res;
        if (!l->answered || l->rep.errnum) {
                fprintf(stderr, "vm-smoke: live snapshot: %s\n", l->answered ? l->rep.msg : "the VM ended before it");
                return 125;
        }
        printf("\n--- resumed ---\n");
        fflush(stdout);
        struct ctr_vm *vm = ctr_vm_new(mem_mb, vcpus, 1, &err);
        if (!vm || ctr_vm_restore(vm, l->req.dir, &err) < 0 || ctr_vm_run(vm, &res, &err) < 0) {
                fprintf(stderr, "vm-smoke: resume: %s: %s\n", err.op, err.msg);
                ctr_vm_free(vm);
                return 125;
        }
        fflush(stdout);
        fprintf(stderr, "resumed end=%s code=%d paused_us=%u\n", ctr_vm_end_name(res.end), res.code, l->rep.paused_us);
        ctr_vm_free(vm);
        return 0;
}

struct agent_log {
        int fd, out;
};

static void *agent_thread(void *arg)
{
        struct agent_log *a = arg;
        char buf[4096];
        ssize_t n;
        bool pinged = false;
        /* The guest speaks first (its port is open then), as the agent does with READY. */
        while ((n = read(a->fd, buf, sizeof(buf))) > 0) {
                ctr_write_all(a->out, buf, n);
                if (!pinged)
                        ctr_write_all(a->fd, "PING\n", 5);
                pinged = true;
        }
        return NULL;
}

static int usage(void)
{
        fprintf(stderr, "usage: vm-smoke [--vcpus N] [--disk IMG] [--agent-log FILE] [--tap NAME] PAYLOAD [MEM_MB]\n"
                        "       vm-smoke [OPTIONS] --kernel BZIMAGE INITRD CMDLINE [MEM_MB]\n"
                        "       vm-smoke --bzimage-info BZIMAGE\n"
                        "       vm-smoke --write-initramfs KERNEL CONFIG OUT\n");
        return 2;
}

int main(int argc, char **argv)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *image = NULL;
        size_t len = 0;
        unsigned vcpus = 1;
        const char *disk = NULL, *agent_log = NULL, *tap = NULL, *live_dir = NULL;
        struct live live = {.fd = -1, .req = {.op = CTR_VM_CTL_SNAPSHOT}};
        int i = 1;
        for (; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "--vcpus"))
                        vcpus = atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--disk"))
                        disk = argv[i + 1];
                else if (!strcmp(argv[i], "--agent-log"))
                        agent_log = argv[i + 1];
                else if (!strcmp(argv[i], "--tap"))
                        tap = argv[i + 1];
                else if (!strcmp(argv[i], "--live"))
                        live_dir = argv[i + 1];
                else if (!strcmp(argv[i], "--live-at"))
                        live.at_ms = (unsigned)atoi(argv[i + 1]);
                else
                        break;
        }
        argc -= i - 1;
        argv += i - 1;
        if (argc < 2)
                return usage();
        if (!strcmp(argv[1], "--write-initramfs")) {
                /* vm-smoke --write-initramfs KERNEL CONFIG OUT: the initramfs ctr start would boot. */
                _cleanup_free_ char *cfgtext = NULL, *out = NULL;
                size_t outlen = 0;
                if (argc < 5 || ctr_read_file(argv[3], 1 << 20, &cfgtext, NULL) < 0)
                        return usage();
                if (ctr_vm_initramfs(argv[2], cfgtext, &out, &outlen, &err) < 0) {
                        fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                        return 125;
                }
                int w = ctr_write_atomic(argv[4], out, outlen, 0644);
                if (w < 0) {
                        fprintf(stderr, "vm-smoke: write %s: %s\n", argv[4], strerror(-w));
                        return 125;
                }
                return 0;
        }
        bool kernel = !strcmp(argv[1], "--kernel");
        if (kernel && argc < 5)
                return usage();
        const char *file = strcmp(argv[1], "--bzimage-info") && !kernel ? argv[1] : argv[2];
        if (!file || ctr_read_file(file, 256 << 20, &image, &len) < 0) {
                fprintf(stderr, "vm-smoke: cannot read %s\n", file ? file : "(none)");
                return 125;
        }
        if (!strcmp(argv[1], "--bzimage-info")) {
                struct ctr_bzimage bz;
                if (ctr_bzimage_parse(image, len, &bz, &err) < 0) {
                        fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                        return 125;
                }
                printf("version=%x setup_sects=%u init_size=%u kernel_offset=%zu\n", bz.version, bz.setup_sects,
                       bz.init_size, bz.kernel_offset);
                return 0;
        }
        bool pvm;
        if (ctr_vm_probe(&pvm, &err) < 0) {
                fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                return 125;
        }
        _cleanup_free_ char *initrd = NULL;
        size_t initrd_len = 0;
        if (kernel && ctr_read_file(argv[3], 512 << 20, &initrd, &initrd_len) < 0) {
                fprintf(stderr, "vm-smoke: cannot read %s\n", argv[3]);
                return 125;
        }
        int mem_arg = kernel ? 5 : 2;
        unsigned mem_mb = argc > mem_arg ? (unsigned)atoi(argv[mem_arg]) : (kernel ? 512 : 64);
        struct ctr_vm *vm = ctr_vm_new(mem_mb, vcpus, 1, &err);
        int r = vm ? 0 : -1;
        int disk_fd = -1, sp[2] = {-1, -1};
        struct agent_log al = {-1, -1};
        pthread_t agent;
        bool agent_started = false;
        if (!r && disk) {
                disk_fd = open(disk, O_RDWR | O_CLOEXEC);
                r = disk_fd < 0 ? ctr_err_sys(&err, 2, "disk", "open %s", disk) : ctr_vm_add_disk(vm, disk_fd, false, &err);
        }
        if (!r && agent_log) {
                al.out = open(agent_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (al.out < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        r = ctr_err(&err, 5, "agent", "cannot set up %s", agent_log);
                else {
                        al.fd = sp[1];
                        r = ctr_vm_add_agent(vm, sp[0], &err);
                        if (!r && pthread_create(&agent, NULL, agent_thread, &al) == 0)
                                agent_started = true;
                }
        }
        int tap_fd = -1;
        if (!r && tap) {
                static const uint8_t mac[6] = {0x02, 0x63, 0, 0, 0, 1};
                struct ctr_nl *nl = NULL;
                int idx = -1;
                r = ctr_tap_open(tap, &tap_fd, &err);
                if (!r && !(nl = ctr_nl_open(&err)))
                        r = -1;
                if (!r && (idx = ctr_nl_link_index(nl, tap, &err)) < 0)
                        r = idx;
                if (!r)
                        r = ctr_nl_link_up(nl, idx, &err);
                if (nl)
                        ctr_nl_close(nl);
                if (!r)
                        r = ctr_vm_add_net(vm, tap_fd, mac, &err);
        }
        int lsp[2];
        pthread_t live_th;
        bool live_started = false;
        if (!r && live_dir) {
                snprintf(live.req.dir, sizeof(live.req.dir), "%s", live_dir);
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lsp) < 0)
                        r = ctr_err(&err, 5, "live", "socketpair");
                else {
                        ctr_vm_set_control(vm, lsp[0]);
                        live.fd = lsp[1];
                        live_started = pthread_create(&live_th, NULL, live_thread, &live) == 0;
                }
        }
        struct ctr_vm_result res;
        if (!r)
                r = kernel ? ctr_vm_load_kernel(vm, image, len, argv[4], initrd, initrd_len, &err)
                           : ctr_vm_load_raw(vm, image, len, &err);
        if (r < 0 || ctr_vm_run(vm, &res, &err) < 0) {
                fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                ctr_vm_free(vm);
                return 125;
        }
        fflush(stdout);
        fprintf(stderr, "end=%s code=%d\n", ctr_vm_end_name(res.end), res.code);
        ctr_vm_free(vm);
        if (tap_fd >= 0)
                close(tap_fd);
        if (agent_started) {
                shutdown(sp[0], SHUT_RDWR);
                pthread_join(agent, NULL);
        }
        if (live_started) {
                shutdown(lsp[1], SHUT_RDWR); /* a request the VM never read ends unanswered */
                pthread_join(live_th, NULL);
                return resume(&live, mem_mb, vcpus);
        }
        return 0;
}
