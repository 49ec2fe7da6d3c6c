/* Test driver for vm/: boots a raw 64-bit payload in a fresh VM, streams its COM1 output to
 * stdout, and prints how it ended on stderr ("end=debug-exit code=42"). Exit status 0 when the
 * VM ran to an end, 125 on a VMM error (message on stderr).
 *   vm-smoke PAYLOAD [MEM_MB]        vm-smoke --bzimage-info BZIMAGE
 *   vm-smoke --kernel BZIMAGE INITRD CMDLINE [MEM_MB]   (boots a Linux kernel) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/util.h"
#include "../../vm/vm.h"

int main(int argc, char **argv)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *image = NULL;
        size_t len = 0;
        if (argc < 2) {
                fprintf(stderr, "usage: vm-smoke PAYLOAD [MEM_MB] | --bzimage-info BZIMAGE\n");
                return 2;
        }
        bool kernel = !strcmp(argv[1], "--kernel");
        if (kernel && argc < 5) {
                fprintf(stderr, "usage: vm-smoke --kernel BZIMAGE INITRD CMDLINE [MEM_MB]\n");
                return 2;
        }
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
        struct ctr_vm *vm = ctr_vm_new(argc > mem_arg ? atoi(argv[mem_arg]) : (kernel ? 512 : 64), 1, &err);
        struct ctr_vm_result res;
        int r = !vm ? -1
                : kernel ? ctr_vm_load_bzimage(vm, image, len, argv[4], initrd, initrd_len, &err)
                         : ctr_vm_load_raw(vm, image, len, &err);
        if (r < 0 || ctr_vm_run(vm, &res, &err) < 0) {
                fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                ctr_vm_free(vm);
                return 125;
        }
        fflush(stdout);
        fprintf(stderr, "end=%s code=%d\n", ctr_vm_end_name(res.end), res.code);
        ctr_vm_free(vm);
        return 0;
}
