/* Unit tests for vm/image.c: the kernel release of a synthetic bzImage, kernel and module lookup
 * in fake trees, the initramfs read back by cpio, and ext4 images read back by debugfs. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../../base/util.h"
#include "../../vm/image.h"
#include "unit.h"

static char tmp[64];

static void setup(void)
{
        unit_tmpdir_make(tmp, sizeof(tmp), "vmimage");
}

static void teardown(void)
{
        unit_tmpdir_remove(tmp);
}

TestSuite(vmimage, .init = setup, .fini = teardown);

static char *path_in(const char *rel)
{
        return xasprintf("%s/%s", tmp, rel);
}

static void put_file(const char *rel, const void *data, size_t len, mode_t mode)
{
        _cleanup_free_ char *p = path_in(rel);
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = 0;
        cr_assert_eq(ctr_mkdir_p(dir, 0755), 0, "mkdir %s", dir);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        cr_assert_geq(fd, 0, "create %s: %s", p, strerror(errno));
        cr_assert_eq(ctr_write_all(fd, data, len), (ssize_t)len);
        close(fd);
        cr_assert_eq(chmod(p, mode), 0);
}

static void put_text(const char *rel, const char *text)
{
        put_file(rel, text, strlen(text), 0644);
}

/* stdout of a shell command (stderr dropped); NULL when it exits non-zero. */
static char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh(const char *fmt, ...)
{
        va_list ap;
        char *cmd, *out = NULL;
        size_t len = 0;
        va_start(ap, fmt);
        char *body;
        cr_assert_geq(vasprintf(&body, fmt, ap), 0);
        va_end(ap);
        /* debugfs and dumpe2fs live in sbin, which a test runner's PATH may lack. */
        cmd = xasprintf("PATH=\"$PATH:/usr/sbin:/sbin\"; %s", body);
        free(body);
        FILE *f = popen(cmd, "r");
        cr_assert_not_null(f, "popen %s", cmd);
        FILE *m = open_memstream(&out, &len);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        int st = pclose(f);
        free(cmd);
        if (st != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/* ---- kernel ---- */

/* Boot sector signature, HdrS and a kernel_version pointer to text (0 for none). */
static void fake_bzimage(uint8_t *img, size_t len, uint16_t ptr, const char *text)
{
        memset(img, 0, len);
        img[0x1fe] = 0x55;
        img[0x1ff] = 0xaa;
        memcpy(img + 0x202, "HdrS", 4);
        img[0x206] = 0x0f;
        img[0x207] = 0x02;
        img[0x20e] = ptr & 0xff;
        img[0x20f] = ptr >> 8;
        if (text)
                memcpy(img + ptr + 0x200, text, strlen(text) + 1);
}

static const char debian_version[] = "6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC "
                                     "Debian 6.1.119-1 (2024-11-22)";

Test(vmimage, kernel_version)
{
        static uint8_t img[0x4000];
        struct ctr_error err = {0};
        char rel[CTR_VM_RELEASE_MAX];

        fake_bzimage(img, sizeof(img), 0x3000, debian_version);
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), 0, "%s", err.msg);
        cr_assert_str_eq(rel, "6.1.0-28-amd64");

        /* A string that is the release alone, NUL-terminated. */
        fake_bzimage(img, sizeof(img), 0x100, "6.12.9+bpo-cloud-amd64");
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), 0, "%s", err.msg);
        cr_assert_str_eq(rel, "6.12.9+bpo-cloud-amd64");

        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, 8, &err), -ENAMETOOLONG);
}

/* An ELF vmlinux carries its release only in linux_banner; linux_proc_banner, a format string,
 * comes first in .rodata on some builds and must be passed over. */
Test(vmimage, kernel_version_elf)
{
        static uint8_t img[0x4000];
        struct ctr_error err = {0};
        char rel[CTR_VM_RELEASE_MAX];

        memset(img, 0, sizeof(img));
        memcpy(img, "\177ELF", 4);
        static const char proc_banner[] = "%s version %s (debian-kernel@lists.debian.org) Linux version %s";
        memcpy(img + 0x800, proc_banner, sizeof(proc_banner));
        static const char banner[] = "Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP";
        memcpy(img + 0x2000, banner, sizeof(banner));
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), 0, "%s", err.msg);
        cr_assert_str_eq(rel, "6.1.0-57-amd64");

        memset(img + 0x2000, 0, sizeof(banner));
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "no banner");
        cr_assert(strstr(err.msg, "Linux version"), "%s", err.msg);
        static const char evil[] = "Linux version ../../etc (x)";
        memcpy(img + 0x2000, evil, sizeof(evil));
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "a path as release");
}

Test(vmimage, kernel_version_rejects)
{
        static uint8_t img[0x4000];
        struct ctr_error err = {0};
        char rel[CTR_VM_RELEASE_MAX];

        for (size_t i = 0; i < sizeof(img); i++)
                img[i] = (uint8_t)(i * 7 + 3);
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC);
        cr_assert(strstr(err.msg, "neither a bzImage"), "%s", err.msg);
        cr_assert_eq(ctr_vm_kernel_version(img, 100, rel, sizeof(rel), &err), -ENOEXEC, "short");

        fake_bzimage(img, sizeof(img), 0x3000, debian_version);
        img[0x1fe] = 0;
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "no 0xaa55");
        fake_bzimage(img, sizeof(img), 0, NULL);
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "no pointer");
        fake_bzimage(img, sizeof(img), 0x3000, debian_version);
        cr_assert_eq(ctr_vm_kernel_version(img, 0x3100, rel, sizeof(rel), &err), -ENOEXEC, "pointer past the end");
        cr_assert_eq(ctr_vm_kernel_version(img, 0x3205, rel, sizeof(rel), &err), -ENOEXEC, "unterminated");
        fake_bzimage(img, sizeof(img), 0x3000, "../../etc #1");
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "a path");
        fake_bzimage(img, sizeof(img), 0x3000, "");
        cr_assert_eq(ctr_vm_kernel_version(img, sizeof(img), rel, sizeof(rel), &err), -ENOEXEC, "empty");
}

static void put_kernel(const char *rel, const char *release)
{
        static uint8_t img[0x3000];
        fake_bzimage(img, sizeof(img), 0x1000, release);
        put_file(rel, img, sizeof(img), 0644);
}

Test(vmimage, kernel_find_option)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *kernel = NULL, *moddir = NULL, *opt = path_in("pkg/boot/vmlinuz-6.1.0-77-test");
        _cleanup_free_ char *libmods = path_in("pkg/lib/modules/6.1.0-77-test");
        _cleanup_free_ char *usrmods = path_in("pkg/usr/lib/modules/6.1.0-77-test");

        put_kernel("pkg/boot/vmlinuz-6.1.0-77-test", "6.1.0-77-test #1 SMP");
        cr_assert_eq(ctr_mkdir_p(libmods, 0755), 0);
        cr_assert_eq(ctr_mkdir_p(usrmods, 0755), 0);
        cr_assert_eq(ctr_vm_kernel_find(opt, &kernel, &moddir, &err), 0, "%s", err.msg);
        cr_assert_str_eq(kernel, opt);
        cr_assert_str_eq(moddir, libmods, "the package's lib/modules first");
        free(TAKE_PTR(kernel));
        free(TAKE_PTR(moddir));

        cr_assert_eq(rmdir(libmods), 0);
        cr_assert_eq(ctr_vm_kernel_find(opt, &kernel, &moddir, &err), 0, "%s", err.msg);
        cr_assert_str_eq(moddir, usrmods, "then its usr/lib/modules");
        free(TAKE_PTR(kernel));
        free(TAKE_PTR(moddir));

        /* Through a symlink: the canonical path leads to the package's modules. */
        _cleanup_free_ char *link = path_in("vmlinuz");
        cr_assert_eq(symlink("pkg/boot/vmlinuz-6.1.0-77-test", link), 0);
        cr_assert_eq(ctr_vm_kernel_find(link, &kernel, &moddir, &err), 0, "%s", err.msg);
        cr_assert_str_eq(kernel, opt);
        cr_assert_str_eq(moddir, usrmods);
        free(TAKE_PTR(kernel));
        free(TAKE_PTR(moddir));

        cr_assert_eq(rmdir(usrmods), 0);
        cr_assert_eq(ctr_vm_kernel_find(opt, &kernel, &moddir, &err), 0, "%s", err.msg);
        cr_assert_null(moddir, "no modules anywhere: %s", moddir);
}

Test(vmimage, kernel_find_errors)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *kernel = NULL, *moddir = NULL;
        _cleanup_free_ char *missing = path_in("nope/vmlinuz"), *junk = path_in("vmlinuz-junk");

        cr_assert_eq(ctr_vm_kernel_find(missing, &kernel, &moddir, &err), -ENOENT);
        cr_assert(strstr(err.msg, "nope/vmlinuz"), "%s", err.msg);
        put_text("vmlinuz-junk", "not a kernel\n");
        cr_assert_eq(ctr_vm_kernel_find(junk, &kernel, &moddir, &err), -ENOEXEC);
        cr_assert(strstr(err.msg, "vmlinuz-junk"), "names the file: %s", err.msg);
        cr_assert_eq(ctr_vm_kernel_find(tmp, &kernel, &moddir, &err), -EINVAL, "a directory");
        cr_assert_null(kernel);
}

/* The search without --kernel depends on the machine: whatever it finds must be a readable
 * bzImage, and finding nothing must tell the user what to do. */
Test(vmimage, kernel_find_default)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *kernel = NULL, *moddir = NULL;
        char empty[128];

        snprintf(empty, sizeof(empty), "%s/cache", tmp);
        setenv("CTR_CACHE", empty, 1);
        int r = ctr_vm_kernel_find(NULL, &kernel, &moddir, &err);
        if (r == -ENOENT) {
                cr_assert(strstr(err.msg, "--kernel") && strstr(err.msg, "linux-image-amd64"), "%s", err.msg);
                cr_assert(strstr(err.msg, empty), "names the cache: %s", err.msg);
                return;
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        struct stat st;
        cr_assert_eq(stat(kernel, &st), 0, "%s", kernel);
        cr_assert(strstr(kernel, "/vmlinuz-"), "%s", kernel);
        if (moddir)
                cr_assert_eq(stat(moddir, &st), 0, "%s", moddir);
}

Test(vmimage, kernel_find_cache)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *kernel = NULL, *moddir = NULL, *cache = path_in("cache");

        /* Only reachable when the machine has no kernel of its own in /boot or the VM lane. */
        _cleanup_free_ char *has = sh("for f in /boot/vmlinuz-* /var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-*; do "
                                      "[ -f \"$f\" ] && echo yes && break; done");
        if (has && *has) {
                unit_tmpdir_remove(tmp); /* a skipped test does not reach .fini */
                cr_skip_test("skipped: this machine has a kernel in /boot or /var/cache/ctr-vmlane");
        }
        put_kernel("cache/kernels/linux-image-6.1.0-9-amd64/boot/vmlinuz-6.1.0-9-amd64", "6.1.0-9-amd64");
        put_kernel("cache/kernels/linux-image-6.1.0-10-amd64/boot/vmlinuz-6.1.0-10-amd64", "6.1.0-10-amd64");
        setenv("CTR_CACHE", cache, 1);
        cr_assert_eq(ctr_vm_kernel_find(NULL, &kernel, &moddir, &err), 0, "%s", err.msg);
        cr_assert(strstr(kernel, "vmlinuz-6.1.0-10-amd64"), "version order, not byte order: %s", kernel);
}

Test(vmimage, kernel_fetch_arguments)
{
        struct ctr_error err = {0};
        char *kernel = NULL;
        cr_assert_eq(ctr_vm_kernel_fetch(NULL, &kernel, &err), -EINVAL);
        cr_assert_eq(ctr_vm_kernel_fetch("relative/cache", &kernel, &err), -EINVAL);
        cr_assert(strstr(err.msg, "absolute"), "%s", err.msg);
        cr_assert_eq(ctr_vm_kernel_fetch(tmp, NULL, &err), -EINVAL);
        cr_assert_null(kernel);
}

/* ---- modules ---- */

static void fake_moddir(void)
{
        put_text("mods/modules.dep", "kernel/fs/a.ko: kernel/lib/b.ko kernel/lib/shared.ko kernel/lib/c.ko\n"
                                     "kernel/lib/b.ko: kernel/lib/c.ko\n"
                                     "kernel/lib/c.ko:\n"
                                     "kernel/lib/shared.ko:\n"
                                     "kernel/drivers/virtio-blk.ko.xz: kernel/lib/shared.ko\n"
                                     "kernel/drivers/d.ko: kernel/lib/shared.ko\n"
                                     "kernel/drivers/dangling.ko: kernel/lib/gone.ko\n"
                                     "kernel/drivers/absent.ko:\n");
        put_text("mods/modules.builtin", "kernel/fs/ext4/ext4.ko\nkernel/drivers/block/loop.ko\n");
        const char *files[] = {"a.ko", "b.ko", "c.ko", "shared.ko", "virtio-blk.ko.xz", "d.ko", "dangling.ko"};
        const char *dirs[] = {"fs", "lib", "lib", "lib", "drivers", "drivers", "drivers"};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *rel = xasprintf("mods/kernel/%s/%s", dirs[i], files[i]);
                put_text(rel, "");
        }
}

static void assert_paths(char **got, const char *const *want)
{
        size_t n = 0;
        for (; want[n]; n++) {
                cr_assert_not_null(got[n], "only %zu paths, want %s next", n, want[n]);
                _cleanup_free_ char *abs = xasprintf("%s/mods/%s", tmp, want[n]);
                cr_assert_str_eq(got[n], abs, "path %zu", n);
        }
        cr_assert_null(got[n], "extra path %s", got[n]);
}

Test(vmimage, modules_resolve)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *moddir = path_in("mods/");
        _cleanup_strv_ char **paths = NULL;
        fake_moddir();

        const char *names[] = {"a", "virtio_blk", "ext4", "d", "a", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, names, &paths, &err), 0, "%s", err.msg);
        const char *want[] = {"kernel/lib/c.ko",
                              "kernel/lib/shared.ko",
                              "kernel/lib/b.ko",
                              "kernel/fs/a.ko",
                              "kernel/drivers/virtio-blk.ko.xz",
                              "kernel/drivers/d.ko",
                              NULL};
        assert_paths(paths, want);
        strv_free(TAKE_PTR(paths));

        /* '-' and '_' are one character to the kernel, in either direction. */
        const char *dashed[] = {"virtio-blk", "loop", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, dashed, &paths, &err), 0, "%s", err.msg);
        const char *want2[] = {"kernel/lib/shared.ko", "kernel/drivers/virtio-blk.ko.xz", NULL};
        assert_paths(paths, want2);
        strv_free(TAKE_PTR(paths));

        const char *builtin_only[] = {"ext4", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, builtin_only, &paths, &err), 0, "%s", err.msg);
        cr_assert_null(paths[0], "built-in modules need no file");
}

Test(vmimage, modules_resolve_errors)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *moddir = path_in("mods");
        _cleanup_free_ char *nowhere = path_in("nowhere");
        char **paths = NULL;
        fake_moddir();

        const char *missing[] = {"a", "nosuch_mod", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, missing, &paths, &err), -ENOENT);
        cr_assert(strstr(err.msg, "nosuch_mod") && strstr(err.msg, moddir), "%s", err.msg);
        const char *dangling[] = {"dangling", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, dangling, &paths, &err), -ENOENT);
        cr_assert(strstr(err.msg, "gone.ko"), "%s", err.msg);
        const char *absent[] = {"absent", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, absent, &paths, &err), -ENOENT);
        cr_assert(strstr(err.msg, "absent.ko"), "%s", err.msg);
        const char *slash[] = {"../a", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(moddir, slash, &paths, &err), -EINVAL);
        const char *a[] = {"a", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(nowhere, a, &paths, &err), -ENOENT);
        cr_assert(strstr(err.msg, "modules.dep"), "%s", err.msg);
        cr_assert_null(paths);

        put_text("loop/modules.dep", "x.ko: y.ko\ny.ko: x.ko\n");
        put_text("loop/x.ko", "");
        put_text("loop/y.ko", "");
        _cleanup_free_ char *loopdir = path_in("loop");
        const char *x[] = {"x", NULL};
        cr_assert_eq(ctr_vm_modules_resolve(loopdir, x, &paths, &err), -ELOOP);
}

/* ---- initramfs ---- */

struct member {
        char name[64];
        unsigned ino, mode, uid, gid, nlink, mtime, size, rmajor, rminor;
};

static unsigned hex8(const char *p)
{
        char b[9];
        memcpy(b, p, 8);
        b[8] = 0;
        return (unsigned)strtoul(b, NULL, 16);
}

/* Our own walk of the newc stream: alignment, magic and the fields cpio -t does not show. */
static size_t parse_newc(const char *buf, size_t len, struct member *m, size_t max)
{
        size_t off = 0, n = 0;
        for (;;) {
                cr_assert_leq(off + 110, len, "header past the end at %zu", off);
                cr_assert_eq(off % 4, 0);
                cr_assert_eq(memcmp(buf + off, "070701", 6), 0, "magic at %zu", off);
                cr_assert_lt(n, max);
                const char *h = buf + off + 6;
                struct member *e = &m[n];
                e->ino = hex8(h);
                e->mode = hex8(h + 8);
                e->uid = hex8(h + 16);
                e->gid = hex8(h + 24);
                e->nlink = hex8(h + 32);
                e->mtime = hex8(h + 40);
                e->size = hex8(h + 48);
                e->rmajor = hex8(h + 72);
                e->rminor = hex8(h + 80);
                unsigned namesize = hex8(h + 88);
                cr_assert_lt(namesize, sizeof(e->name));
                memcpy(e->name, buf + off + 110, namesize);
                cr_assert_eq(e->name[namesize - 1], 0, "name NUL-terminated");
                off = (off + 110 + namesize + 3) & ~(size_t)3;
                off = (off + e->size + 3) & ~(size_t)3;
                cr_assert_leq(off, len);
                n++;
                if (!strcmp(e->name, "TRAILER!!!"))
                        break;
        }
        cr_assert_eq(off, len, "nothing after the trailer");
        return n;
}

static const char elf_a[] = "\177ELF plain module";
static const char elf_b[] = "\177ELF compressed module, longer so that it is not a multiple of four.";

static void make_modules(void)
{
        put_file("m/plain.ko", elf_a, sizeof(elf_a), 0644);
        put_file("m/virtio_blk.ko", elf_b, sizeof(elf_b), 0644);
        _cleanup_free_ char *out = sh("xz -f %s/m/virtio_blk.ko && echo ok", tmp);
        cr_assert_not_null(out, "xz");
}

Test(vmimage, initramfs_build)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *buf = NULL, *again = NULL, *plain = path_in("m/plain.ko");
        _cleanup_free_ char *xz = path_in("m/virtio_blk.ko.xz");
        static const char init[] = "\177ELF static init";
        static const char config[] = "root=/dev/vda\nnet=1\n";
        size_t len = 0, len2 = 0;

        make_modules();
        const char *mods[] = {plain, xz, NULL};
        cr_assert_eq(ctr_vm_initramfs_build(mods, init, sizeof(init), config, &buf, &len, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_vm_initramfs_build(mods, init, sizeof(init), config, &again, &len2, &err), 0, "%s", err.msg);
        cr_assert(len == len2 && !memcmp(buf, again, len), "the same inputs give the same bytes");

        struct member m[32];
        size_t n = parse_newc(buf, len, m, ARRAY_SIZE(m));
        const char *order[] = {"dev",
                               "proc",
                               "sys",
                               "newroot",
                               "ctr",
                               "lib",
                               "lib/modules",
                               "dev/console",
                               "init",
                               "ctr/config",
                               "ctr/modules",
                               "lib/modules/plain.ko",
                               "lib/modules/virtio_blk.ko",
                               "TRAILER!!!"};
        cr_assert_eq(n, ARRAY_SIZE(order));
        for (size_t i = 0; i < n; i++) {
                cr_assert_str_eq(m[i].name, order[i]);
                cr_assert_eq(m[i].uid, 0);
                cr_assert_eq(m[i].gid, 0);
                cr_assert_eq(m[i].mtime, 0, "%s: mtime", m[i].name);
                cr_assert_eq(m[i].nlink, S_ISDIR(m[i].mode) ? 2u : 1u, "%s: nlink", m[i].name);
                for (size_t j = 0; j < i && i + 1 < n; j++)
                        cr_assert_neq(m[i].ino, m[j].ino, "%s and %s share an inode", m[i].name, m[j].name);
        }
        cr_assert_eq(m[0].mode, S_IFDIR | 0755u);
        cr_assert_eq(m[7].mode, S_IFCHR | 0600u);
        cr_assert(m[7].rmajor == 5 && m[7].rminor == 1, "console is 5,1");
        cr_assert_eq(m[8].mode, S_IFREG | 0755u);
        cr_assert_eq(m[9].mode, S_IFREG | 0644u);

        /* GNU cpio reads it back with the same names, modes and contents. */
        _cleanup_free_ char *arc = path_in("initramfs.cpio"), *dest = path_in("x");
        put_file("initramfs.cpio", buf, len, 0644);
        _cleanup_free_ char *listing = sh("cpio -t -v --quiet < %s", arc);
        cr_assert_not_null(listing, "cpio -t");
        cr_assert(strstr(listing, "crw-------"), "%s", listing);
        cr_assert(strstr(listing, "-rwxr-xr-x"), "%s", listing);
        cr_assert(strstr(listing, " init\n"), "%s", listing);
        cr_assert_eq(mkdir(dest, 0755), 0);
        _cleanup_free_ char *ok = sh("cd %s && cpio -i -d --quiet --no-absolute-filenames %s < %s && echo ok", dest,
                                     geteuid() == 0 ? "" : "--nonmatching dev/console", arc);
        cr_assert_not_null(ok, "cpio -i");

        const char *modlist = "/lib/modules/plain.ko\n/lib/modules/virtio_blk.ko\n";
        struct {
                const char *name;
                const void *data;
                size_t len;
                mode_t mode;
        } want[] = {
                {"init", init, sizeof(init), 0755},
                {"ctr/config", config, strlen(config), 0644},
                {"ctr/modules", modlist, strlen(modlist), 0644},
                {"lib/modules/plain.ko", elf_a, sizeof(elf_a), 0644},
                {"lib/modules/virtio_blk.ko", elf_b, sizeof(elf_b), 0644},
        };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dest, want[i].name), *data = NULL;
                size_t dlen = 0;
                struct stat st;
                cr_assert_eq(ctr_read_file(p, 1 << 20, &data, &dlen), 0, "%s", p);
                cr_assert(dlen == want[i].len && !memcmp(data, want[i].data, dlen), "%s: contents", want[i].name);
                cr_assert_eq(stat(p, &st), 0);
                cr_assert_eq(st.st_mode & 07777, want[i].mode, "%s: mode %o", want[i].name, st.st_mode);
        }
        const char *dirs[] = {"dev", "proc", "sys", "newroot", "ctr", "lib", "lib/modules"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dest, dirs[i]);
                struct stat st;
                cr_assert_eq(stat(p, &st), 0, "%s", p);
                cr_assert_eq(st.st_mode, S_IFDIR | 0755u, "%s: mode %o", dirs[i], st.st_mode);
        }
        if (geteuid() == 0) {
                _cleanup_free_ char *p = xasprintf("%s/dev/console", dest);
                struct stat st;
                cr_assert_eq(stat(p, &st), 0);
                cr_assert(S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 1);
                cr_assert_eq(st.st_mode & 07777, 0600);
        }
}

Test(vmimage, initramfs_no_modules)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct member m[32];

        cr_assert_eq(ctr_vm_initramfs_build(NULL, "x", 1, NULL, &buf, &len, &err), 0, "%s", err.msg);
        size_t n = parse_newc(buf, len, m, ARRAY_SIZE(m));
        cr_assert_eq(n, 12);
        cr_assert_str_eq(m[9].name, "ctr/config");
        cr_assert_eq(m[9].size, 0);
        cr_assert_str_eq(m[10].name, "ctr/modules");
        cr_assert_eq(m[10].size, 0);
}

Test(vmimage, initramfs_errors)
{
        struct ctr_error err = {0};
        char *buf = NULL;
        size_t len = 0;
        _cleanup_free_ char *plain = path_in("m/plain.ko"), *xz = path_in("m/virtio_blk.ko.xz");
        _cleanup_free_ char *bad = path_in("m/broken.ko.xz"), *text = path_in("m/text.ko");
        _cleanup_free_ char *twin = path_in("m/other/plain.ko.xz"), *notko = path_in("m/plain.o");
        _cleanup_free_ char *gone = path_in("m/gone.ko");

        make_modules();
        put_text("m/broken.ko.xz", "this is not xz data\n");
        put_text("m/text.ko", "not an ELF object\n");
        put_text("m/plain.o", "\177ELF");
        _cleanup_free_ char *ok =
                sh("cp %s %s.tmp && mkdir -p %s/m/other && mv %s.tmp %s && echo ok", xz, xz, tmp, xz, twin);
        cr_assert_not_null(ok);

        cr_assert_eq(ctr_vm_initramfs_build(NULL, NULL, 0, "", &buf, &len, &err), -EINVAL, "no init");
        const char *m1[] = {plain, bad, NULL};
        cr_assert_lt(ctr_vm_initramfs_build(m1, "x", 1, "", &buf, &len, &err), 0);
        cr_assert(strstr(err.msg, "broken.ko.xz") && strstr(err.msg, "xz"), "%s", err.msg);
        const char *m2[] = {text, NULL};
        cr_assert_eq(ctr_vm_initramfs_build(m2, "x", 1, "", &buf, &len, &err), -ENOEXEC);
        cr_assert(strstr(err.msg, "text.ko"), "%s", err.msg);
        const char *m3[] = {plain, twin, NULL};
        cr_assert_eq(ctr_vm_initramfs_build(m3, "x", 1, "", &buf, &len, &err), -EINVAL, "two plain.ko");
        const char *m4[] = {notko, NULL};
        cr_assert_eq(ctr_vm_initramfs_build(m4, "x", 1, "", &buf, &len, &err), -EINVAL, "not .ko");
        const char *m5[] = {gone, NULL};
        cr_assert_eq(ctr_vm_initramfs_build(m5, "x", 1, "", &buf, &len, &err), -ENOENT);
        cr_assert(strstr(err.msg, "gone.ko"), "%s", err.msg);
        cr_assert_null(buf);
}

/* ---- disk ---- */

/* "Field:  value" from debugfs -R 'stat PATH' IMAGE. */
static char *debugfs(const char *image, const char *request)
{
        return sh("debugfs -R '%s' %s 2>/dev/null", request, image);
}

static void assert_stat(const char *image, const char *path, const char *mode, unsigned uid, unsigned gid)
{
        _cleanup_free_ char *req = xasprintf("stat %s", path);
        _cleanup_free_ char *out = debugfs(image, req);
        cr_assert_not_null(out, "debugfs stat %s", path);
        char want_mode[32], want_owner[64];
        snprintf(want_mode, sizeof(want_mode), "Mode:  %s ", mode);
        cr_assert(strstr(out, want_mode), "%s: want %s in\n%s", path, want_mode, out);
        char *user = strstr(out, "User:");
        unsigned u = 99999, g = 99999;
        cr_assert_not_null(user, "%s", out);
        cr_assert_eq(sscanf(user, "User: %u Group: %u", &u, &g), 2, "%s", user);
        snprintf(want_owner, sizeof(want_owner), "%u:%u", uid, gid);
        cr_assert(u == uid && g == gid, "%s: owner %u:%u, want %s", path, u, g, want_owner);
}

static void make_tree(void)
{
        put_text("root/etc/hostname", "vm-guest\n");
        put_file("root/usr/bin/su", "\177ELF setuid", 11, 04755);
        put_file("root/home/user/notes", "mine\n", 5, 0640);
        _cleanup_free_ char *notes = path_in("root/home/user/notes"), *home = path_in("root/home/user");
        _cleanup_free_ char *sym = path_in("root/hostname");
        cr_assert_eq(chown(notes, 1000, 1000), 0, "%s", strerror(errno));
        cr_assert_eq(chown(home, 1000, 1000), 0);
        cr_assert_eq(symlink("etc/hostname", sym), 0);
        _cleanup_free_ char *su = path_in("root/usr/bin/su"), *su2 = path_in("root/usr/bin/su-again");
        cr_assert_eq(link(su, su2), 0);
}

Test(vmimage, disk_build)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *root = path_in("root"), *img = path_in("out/root.img");

        if (geteuid() != 0) {
                unit_tmpdir_remove(tmp);
                cr_skip_test("skipped: needs root to give files away to uid 1000");
        }
        make_tree();
        _cleanup_free_ char *out = path_in("out");
        cr_assert_eq(mkdir(out, 0755), 0);
        put_text("out/root.img", "previous image");
        cr_assert_eq(ctr_vm_disk_build(root, img, 0, &err), 0, "%s", err.msg);

        struct stat st;
        cr_assert_eq(stat(img, &st), 0);
        cr_assert_geq(st.st_size, 64 << 20, "automatic size has 64 MiB of room");
        cr_assert_eq(st.st_size % (1 << 20), 0, "whole MiB");
        cr_assert_lt(st.st_size, 128 << 20, "but not much more for a tiny tree");

        assert_stat(img, "/usr/bin/su", "04755", 0, 0);
        assert_stat(img, "/home/user/notes", "0640", 1000, 1000);
        assert_stat(img, "/home/user", "0755", 1000, 1000);
        assert_stat(img, "/", "0755", 0, 0);
        _cleanup_free_ char *ln = debugfs(img, "stat /hostname");
        cr_assert(ln && strstr(ln, "Type: symlink") && strstr(ln, "\"etc/hostname\""), "%s", ln);
        _cleanup_free_ char *hl = debugfs(img, "stat /usr/bin/su-again");
        cr_assert(hl && strstr(hl, "Links: 2") && strstr(hl, "Mode:  04755"), "a hard link stays one: %s", hl);
        _cleanup_free_ char *cat = debugfs(img, "cat /etc/hostname");
        cr_assert_str_eq(cat, "vm-guest\n");
        _cleanup_free_ char *ls = debugfs(img, "ls -l /");
        cr_assert(ls && strstr(ls, "hostname") && strstr(ls, "usr") && strstr(ls, "home"), "%s", ls);
        _cleanup_free_ char *label = sh("dumpe2fs -h %s 2>/dev/null | grep '^Filesystem volume name:'", img);
        cr_assert(label && strstr(label, "ctr-root"), "%s", label);
        _cleanup_free_ char *left = sh("ls -A %s", out);
        cr_assert_str_eq(left, "root.img\n", "no temporary file left");

        /* An explicit size is taken as given. */
        cr_assert_eq(ctr_vm_disk_build(root, img, 48 << 20, &err), 0, "%s", err.msg);
        cr_assert_eq(stat(img, &st), 0);
        cr_assert_eq(st.st_size, 48 << 20);
}

static void put_data(const char *rel, size_t len)
{
        /* Not zeros: mkfs.ext4 -d turns blocks of zeros into holes. */
        _cleanup_free_ char *data = malloc(len);
        for (size_t i = 0; i < len; i++)
                data[i] = (char)(i * 131 + 17);
        put_file(rel, data, len, 0644);
}

Test(vmimage, disk_too_small)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *root = path_in("root"), *img = path_in("old.img"), *data = NULL;

        put_data("root/blob", 3 << 20);
        put_text("old.img", "previous image");

        /* Below the tree's usage: refused before mkfs runs. */
        cr_assert_eq(ctr_vm_disk_build(root, img, 2 << 20, &err), -ENOSPC);
        cr_assert(strstr(err.msg, "rootfs (3.1 MiB) does not fit an image of 2 MiB"), "%s", err.msg);
        cr_assert_eq(ctr_read_file(img, 1 << 20, &data, NULL), 0);
        cr_assert_str_eq(data, "previous image");
        free(TAKE_PTR(data));

        /* Above the usage, but not with the journal and inode table: mkfs fails, same error. */
        cr_assert_eq(ctr_vm_disk_build(root, img, 4 << 20, &err), -ENOSPC, "%s", err.msg);
        cr_assert(strstr(err.msg, "does not fit an image of 4 MiB"), "%s", err.msg);
        cr_assert_eq(ctr_read_file(img, 1 << 20, &data, NULL), 0);
        cr_assert_str_eq(data, "previous image");
        _cleanup_free_ char *left = sh("ls -A %s", tmp);
        cr_assert_str_eq(left, "old.img\nroot\n", "no temporary file left");
}

Test(vmimage, disk_build_errors)
{
        struct ctr_error err = {0};
        _cleanup_free_ char *root = path_in("root"), *inside = path_in("root/sub/x.img");
        _cleanup_free_ char *file = path_in("root/etc/hostname"), *img = path_in("x.img");
        _cleanup_free_ char *nodir = path_in("nodir/x.img");

        put_text("root/etc/hostname", "x\n");
        put_text("root/sub/keep", "");
        cr_assert_eq(ctr_vm_disk_build(root, inside, 0, &err), -EINVAL, "image inside the tree");
        cr_assert_eq(ctr_vm_disk_build(file, img, 0, &err), -ENOTDIR);
        cr_assert_eq(ctr_vm_disk_build(root, nodir, 0, &err), -ENOENT);
        struct stat st;
        cr_assert_eq(stat(img, &st), -1, "nothing written");
}

Test(vmimage, disk_size_parse)
{
        struct ctr_error err = {0};
        uint64_t v = 0;

        cr_assert_eq(ctr_vm_disk_size_parse("512M", &v, &err), 0, "%s", err.msg);
        cr_assert_eq(v, UINT64_C(512) << 20);
        cr_assert_eq(ctr_vm_disk_size_parse("2G", &v, &err), 0);
        cr_assert_eq(v, UINT64_C(2) << 30);
        cr_assert_eq(ctr_vm_disk_size_parse("1048576", &v, &err), 0);
        cr_assert_eq(v, UINT64_C(1048576));
        cr_assert_eq(ctr_vm_disk_size_parse("4GiB", &v, &err), 0);
        cr_assert_eq(v, UINT64_C(4) << 30);

        const char *junk[] = {"", "abc", "12X", "-5", "1.5G", " 5M", "5M ", "M", "0", "0G"};
        for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
                v = 42;
                cr_assert_eq(ctr_vm_disk_size_parse(junk[i], &v, &err), -EINVAL, "'%s'", junk[i]);
                cr_assert_eq(v, 42, "'%s' left the result alone", junk[i]);
        }
        cr_assert_eq(ctr_vm_disk_size_parse(NULL, &v, &err), -EINVAL);
        cr_assert_eq(ctr_vm_disk_size_parse("99999999999999999999", &v, &err), -ERANGE);
        cr_assert_eq(ctr_vm_disk_size_parse("17179869184G", &v, &err), -ERANGE, "2^64 bytes");
        cr_assert(strstr(err.msg, "too large"), "%s", err.msg);
}
