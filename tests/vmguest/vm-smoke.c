/* Test driver for vm/: boots a raw 64-bit payload in a fresh VM, streams its COM1 output to
 * stdout, and prints how it ended on stderr ("end=debug-exit code=42"). Exit status 0 when the
 * VM ran to an end, 125 on a VMM error (message on stderr).
 *   vm-smoke PAYLOAD [MEM_MB]        vm-smoke --bzimage-info BZIMAGE */
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
        const char *file = strcmp(argv[1], "--bzimage-info") ? argv[1] : argv[2];
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
        struct ctr_vm *vm = ctr_vm_new(argc > 2 ? atoi(argv[2]) : 64, 1, &err);
        struct ctr_vm_result res;
        if (!vm || ctr_vm_load_raw(vm, image, len, &err) < 0 || ctr_vm_run(vm, &res, &err) < 0) {
                fprintf(stderr, "vm-smoke: %s: %s\n", err.op, err.msg);
                ctr_vm_free(vm);
                return 125;
        }
        fflush(stdout);
        fprintf(stderr, "end=%s code=%d\n", ctr_vm_end_name(res.end), res.code);
        ctr_vm_free(vm);
        return 0;
}
