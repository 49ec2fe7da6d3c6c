/* vm/image: what a VM-mode container boots from, built on the host before the VMM starts: the
 * guest kernel and its modules, the generated initramfs around ctr-vminit, and the ext4 root disk. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"

/* utsname's release field holds at most 64 characters. */
#define CTR_VM_RELEASE_MAX 65

/* The kernel release ("6.1.0-28-amd64"): for a bzImage the first word of the setup header's
 * kernel_version string, for an ELF vmlinux (the whole file) the word after "Linux version " in
 * its banner. -ENOEXEC when image is neither or carries no version, -ENAMETOOLONG when cap is
 * too small. */
int ctr_vm_kernel_version(const void *image, size_t len, char *buf, size_t cap, struct ctr_error *err);

/* The guest kernel: kernel_opt when given (it must exist), else /boot/vmlinuz-$(uname -r), else
 * the newest (version order) vmlinuz-* in /boot, then in /var/cache/ctr-vmlane/linux-image-X/boot
 * (the VM test lane's kernel package), then in $CTR_CACHE/kernels/X/boot (ctr_vm_kernel_fetch's,
 * CTR_CACHE defaults to /var/cache/ctr). *ret_moddir is the module directory of that kernel's
 * release (in the kernel's own package tree first, then /lib/modules), or NULL when there is
 * none; ret_moddir may be NULL. -ENOEXEC when the kernel is not a bzImage. The caller frees both. */
int ctr_vm_kernel_find(const char *kernel_opt, char **ret_kernel, char **ret_moddir, struct ctr_error *err);

/* $CTR_CACHE, else /var/cache/ctr: where ctr_vm_kernel_fetch puts kernels and kernel_find looks. */
const char *ctr_vm_cache_root(void);

/* Download Debian's current linux-image-amd64 dependency with apt-get and extract it into
 * cache_dir/kernels/<package>/ (reused when already there); *ret_kernel is its boot/vmlinuz-*. */
int ctr_vm_kernel_fetch(const char *cache_dir, char **ret_kernel, struct ctr_error *err);

/* The module files for names ('-' and '_' alike) and everything they depend on, per
 * moddir/modules.dep: absolute paths, dependencies first, each once, NULL-terminated; free with
 * strv_free() (runtime/util.h). Modules built into the kernel (modules.builtin) are skipped. */
int ctr_vm_modules_resolve(const char *moddir, const char *const *names, char ***ret_paths, struct ctr_error *err);

/* An uncompressed newc cpio archive: the directories ctr-vminit expects, /dev/console, /init,
 * /ctr/config (config_text), /ctr/modules and each module of module_paths (NULL-terminated, may
 * be NULL) as /lib/modules/<name>.ko, decompressed when it is .ko.xz, .ko.zst or .ko.gz.
 * Owners are 0 and times 0: the same inputs give the same bytes. *ret_buf is malloc'ed. */
int ctr_vm_initramfs_build(const char *const *module_paths, const void *init, size_t init_len, const char *config_text,
                           char **ret_buf, size_t *ret_len, struct ctr_error *err);

/* An ext4 image (label ctr-root) of the tree rootfs at image, owners and modes as they are in the
 * tree. size 0 sizes it from the tree's usage; a size the tree does not fit is -ENOSPC. The image
 * is replaced only when the new one is complete. */
int ctr_vm_disk_build(const char *rootfs, const char *image, uint64_t size, struct ctr_error *err);
/* A clone's new identity inside its copy of the root disk: an empty /etc/machine-id (systemd
 * makes a new one at first boot) and /etc/hostname set to hostname. debugfs edits the stopped
 * image; its paths resolve inside the image's filesystem only. */
int ctr_vm_disk_set_identity(const char *image, const char *hostname, struct ctr_error *err);

/* "512M", "2G", "1048576" (bytes) for a disk size; zero, junk and overflow are -EINVAL/-ERANGE. */
int ctr_vm_disk_size_parse(const char *s, uint64_t *ret, struct ctr_error *err);
