/* A container booted as a VM: the guest kernel found on the host, an initramfs generated around
 * ctr-vminit (the virtio and ext4 modules of that kernel, and the container's init, environment
 * and host name in /ctr/config), the container's disk image as virtio-blk, the agent's stream as
 * a virtio console, and the console as the 8250 on ttyS0. */
#define _GNU_SOURCE
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/util.h"
#include "agent.h"
#include "image.h"

/* What the generated initramfs loads: PCI transport, disk, agent console, the root filesystem
 * (with the crc32c its metadata checksums need: nothing in the guest would load it on demand). */
static const char *const guest_modules[] = {"virtio_pci", "virtio_blk", "virtio_console", "virtio_net",
                                            "crc32c_generic", "ext4", NULL};

#define CMDLINE_BASE "console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nokbd i8042.nomux i8042.nopnp i8042.dumbkbd quiet"

int ctr_vm_kernel_check(const char *kernel_opt, const char *initrd, struct ctr_error *err)
{
        _cleanup_free_ char *kernel = NULL, *image = NULL;
        size_t len = 0;
        int r = ctr_vm_kernel_find(kernel_opt, &kernel, NULL, err);
        if (r == -ENOENT && !(kernel_opt && *kernel_opt)) {
                /* No kernel on the host: Debian's, downloaded once into the cache and found there
                 * by every later create and start. */
                const char *dir = ctr_vm_cache_root();
                fprintf(stderr, "ctr: no guest kernel on this host: fetching linux-image-amd64 into %s/kernels\n", dir);
                *err = (struct ctr_error){0};
                r = ctr_vm_kernel_fetch(dir, &kernel, err);
                if (r < 0) {
                        struct ctr_error why = *err;
                        return ctr_err(err, why.errnum, "kernel",
                                       "no guest kernel in /boot or the caches, and fetching one failed: %s", why.msg);
                }
        }
        if (r < 0)
                return r;
        r = ctr_read_file(kernel, 256 << 20, &image, &len);
        if (r < 0)
                return ctr_err_sys(err, -r, "kernel", "read %s", kernel);
        if (ctr_elf_is(image, len)) {
                struct ctr_elf elf;
                r = ctr_elf_parse(image, len, &elf, err);
        } else {
                struct ctr_bzimage bz;
                r = ctr_bzimage_parse(image, len, &bz, err);
        }
        if (r < 0) {
                ctr_err_prefix(err, "%s", kernel);
                return r;
        }
        if (initrd && access(initrd, R_OK) < 0)
                return ctr_err_sys(err, errno, "initrd", "%s", initrd);
        return 0;
}

static int initramfs_for(const char *moddir, const char *config_text, char **ret, size_t *ret_len,
                         struct ctr_error *err)
{
        _cleanup_strv_ char **mods = NULL;
        if (moddir && ctr_vm_modules_resolve(moddir, guest_modules, &mods, err) < 0)
                return -err->errnum;
        return ctr_vm_initramfs_build((const char *const *)mods, ctr_vminit_start,
                                      (size_t)(ctr_vminit_end - ctr_vminit_start), config_text, ret, ret_len, err);
}

int ctr_vm_initramfs(const char *kernel_opt, const char *config_text, char **ret, size_t *ret_len,
                     struct ctr_error *err)
{
        _cleanup_free_ char *kernel = NULL, *moddir = NULL;
        int r = ctr_vm_kernel_find(kernel_opt, &kernel, &moddir, err);
        if (r < 0)
                return r;
        return initramfs_for(moddir, config_text, ret, ret_len, err);
}

/* The VM's disk, agent and console, as both a boot and a restore have them. */
static int add_devices(struct ctr_vm *vm, const struct ctr_vm_boot_opts *o, struct ctr_error *err)
{
        /* The VM keeps the disk's fd (ctr_vm_free closes it): nothing else holds it open. */
        int r = 0, disk = open(o->disk, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (disk < 0)
                r = ctr_err_sys(err, errno, "disk", "open %s", o->disk);
        else if ((r = ctr_vm_adopt_fd(vm, disk)) < 0)
                ctr_err_sys(err, -r, "disk", "keep %s open", o->disk);
        if (r >= 0)
                r = ctr_vm_add_disk(vm, disk, o->readonly, err);
        if (r >= 0 && o->agent_fd >= 0)
                r = ctr_vm_add_agent(vm, o->agent_fd, err);
        if (r >= 0 && o->mac)
                r = ctr_vm_add_net(vm, o->tap_fd, o->mac, err);
        if (r >= 0 && o->console_fd >= 0)
                ctr_vm_set_console_input(vm, o->console_fd);
        if (r >= 0 && o->control_fd >= 0)
                ctr_vm_set_control(vm, o->control_fd);
        return r;
}

/* A VM resumed from a live snapshot: the sizes its state names, the same devices, its state. */
static struct ctr_vm *restore_prepare(const struct ctr_vm_boot_opts *o, struct ctr_error *err)
{
        struct ctr_vmstate s;
        _cleanup_free_ char *text = NULL;
        if (ctr_vmstate_load(o->restore, &s, &text, err) < 0)
                return NULL;
        unsigned mem_mb = (unsigned)(s.h.mem_size >> 20), vcpus = s.h.ncpus;
        ctr_vmstate_free(&s);
        struct ctr_vm *vm = ctr_vm_new(mem_mb, vcpus, o->console_fd, err);
        if (!vm)
                return NULL;
        if (add_devices(vm, o, err) < 0 || ctr_vm_restore(vm, o->restore, err) < 0) {
                ctr_vm_free(vm);
                return NULL;
        }
        return vm;
}

struct ctr_vm *ctr_vm_boot_prepare(const struct ctr_vm_boot_opts *o, struct ctr_error *err)
{
        if (o->restore)
                return restore_prepare(o, err);
        _cleanup_free_ char *kernel = NULL, *moddir = NULL, *image = NULL, *initrd = NULL;
        size_t image_len = 0, initrd_len = 0;
        int r = ctr_vm_kernel_find(o->kernel, &kernel, &moddir, err);
        if (r < 0)
                return NULL;
        r = ctr_read_file(kernel, 256 << 20, &image, &image_len);
        if (r < 0)
                return ctr_err_sys(err, -r, "kernel", "read %s", kernel), NULL;
        if (o->initrd) {
                r = ctr_read_file(o->initrd, 1024 << 20, &initrd, &initrd_len);
                if (r < 0)
                        return ctr_err_sys(err, -r, "initrd", "read %s", o->initrd), NULL;
        } else if (initramfs_for(moddir, o->config_text, &initrd, &initrd_len, err) < 0)
                return NULL;
        unsigned mem_mb = (unsigned)(o->memory >> 20);
        struct ctr_vm *vm = ctr_vm_new(mem_mb, o->vcpus, o->console_fd, err);
        if (!vm)
                return NULL;
        r = add_devices(vm, o, err);
        if (r >= 0) {
                _cleanup_free_ char *cmdline = xasprintf("%s%s%s", CMDLINE_BASE, o->cmdline_extra ? " " : "",
                                                         o->cmdline_extra ? o->cmdline_extra : "");
                r = ctr_vm_load_kernel(vm, image, image_len, cmdline, initrd, initrd_len, err);
        }
        if (r < 0) {
                ctr_vm_free(vm);
                return NULL;
        }
        return vm;
}

int ctr_vm_boot(const struct ctr_vm_boot_opts *o, struct ctr_vm_result *res, struct ctr_error *err)
{
        struct ctr_vm *vm = ctr_vm_boot_prepare(o, err);
        if (!vm)
                return -err->errnum;
        int r = ctr_vm_run(vm, res, err);
        ctr_vm_free(vm);
        return r;
}
