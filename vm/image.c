/* What a VM-mode container boots from, built on the host: the guest kernel and its modules, the
 * initramfs around ctr-vminit (newc cpio written here) and the ext4 root disk (mkfs.ext4 -d). */
#define _GNU_SOURCE
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "../base/util.h"

#define MIB (UINT64_C(1) << 20)
/* A module bigger than this is not a module. */
#define MODULE_MAX (256 << 20)
/* modules.dep of a distribution kernel is about 500 KiB. */
#define MODDEP_MAX (64 << 20)
/* Only the tail of a tool's stderr makes it into a message. */
#define STDERR_KEEP (64 << 10)

/* ---- subprocesses ---- */

/* The bytes written to a memfd by a child; with tail, only the last max bytes when it wrote more. */
static int memfd_take(int fd, size_t max, bool tail, char **ret, size_t *ret_len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        size_t size = st.st_size, off = 0;
        if (size > max) {
                if (!tail)
                        return -EFBIG;
                off = size - max;
                size = max;
        }
        _cleanup_free_ char *buf = malloc(size + 1);
        if (!buf)
                return -ENOMEM;
        size_t n = 0;
        while (n < size) {
                ssize_t r = pread(fd, buf + n, size - n, off + n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                n += r;
        }
        buf[n] = 0;
        if (ret_len)
                *ret_len = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The last non-empty line of a tool's stderr: where mkfs, apt and xz say what went wrong. */
static const char *last_line(char *text)
{
        size_t n = text ? strlen(text) : 0;
        while (n && isspace((unsigned char)text[n - 1]))
                text[--n] = 0;
        if (!n)
                return "no message";
        char *nl = strrchr(text, '\n');
        return nl ? nl + 1 : text;
}

/* Run argv in cwd (NULL: ours) with stdin from /dev/null. stdout goes to *ret_out when asked
 * (a memfd, so a big output cannot deadlock us against a pipe), stderr is kept for the error
 * message and handed out in *ret_stderr when asked. A tool that exits non-zero is -EIO naming the
 * command line. Root's PATH may lack the sbin directories where mkfs.ext4 lives: tried last. */
static int run_tool(char *const argv[], const char *cwd, char **ret_out, size_t *ret_out_len, char **ret_stderr,
                    struct ctr_error *err)
{
        static const char *const sbin[] = {"/usr/sbin", "/sbin"};
        _cleanup_free_ char *cmdline = strv_join(argv, " ");
        _cleanup_close_ int out_fd = -EBADF, err_fd = -EBADF;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        pid_t pid;
        int r, status;

        err_fd = memfd_create("ctr-tool-stderr", MFD_CLOEXEC);
        if (err_fd < 0)
                return ctr_err_sys(err, errno, "spawn", "memfd_create");
        if (ret_out) {
                out_fd = memfd_create("ctr-tool-stdout", MFD_CLOEXEC);
                if (out_fd < 0)
                        return ctr_err_sys(err, errno, "spawn", "memfd_create");
        }

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
        if (cwd)
                posix_spawn_file_actions_addchdir_np(&fa, cwd);
        /* The runtime blocks and handles signals of its own; the tool starts with a clean slate. */
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

        r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
        for (size_t i = 0; r == ENOENT && !strchr(argv[0], '/') && i < ARRAY_SIZE(sbin); i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", sbin[i], argv[0]);
                r = posix_spawn(&pid, path, &fa, &attr, argv, environ);
        }
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return ctr_err_sys(err, r, "spawn", "cannot run %s (%s)", argv[0], cmdline);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return ctr_err_sys(err, errno, "spawn", "waitpid for %s", argv[0]);

        _cleanup_free_ char *etext = NULL;
        if (memfd_take(err_fd, STDERR_KEEP, true, &etext, NULL) < 0)
                etext = xstrdup("");
        if (ret_stderr)
                *ret_stderr = xstrdup(etext);
        if (WIFSIGNALED(status))
                return ctr_err(err, EIO, "spawn", "%s: killed by signal %d", cmdline, WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return ctr_err(err, EIO, "spawn", "%s failed (exit %d): %s", cmdline, WEXITSTATUS(status),
                               last_line(etext));
        if (ret_out) {
                r = memfd_take(out_fd, MODULE_MAX, false, ret_out, ret_out_len);
                if (r < 0)
                        return ctr_err_sys(err, -r, "spawn", "output of %s", cmdline);
        }
        return 0;
}

/* ---- the kernel ---- */

static uint16_t get16(const uint8_t *p, size_t off)
{
        return p[off] | p[off + 1] << 8;
}

/* A release names a directory under lib/modules: never a path of its own. */
static int release_copy(const uint8_t *s, size_t n, const char *what, char *buf, size_t cap, struct ctr_error *err)
{
        if (memchr(s, '/', n) || (n <= 2 && !strncmp((const char *)s, "..", n)))
                return ctr_err(err, ENOEXEC, "kernel", "the %s's kernel release '%.*s' is not a name", what, (int)n,
                               (const char *)s);
        if (n >= cap)
                return ctr_err(err, ENAMETOOLONG, "kernel", "kernel release of %zu characters", n);
        memcpy(buf, s, n);
        buf[n] = 0;
        return 0;
}

/* An ELF vmlinux has no setup header: its release is in linux_banner, "Linux version REL (...". */
static int elf_release(const uint8_t *p, size_t len, char *buf, size_t cap, struct ctr_error *err)
{
        static const char tag[] = "Linux version ";
        const size_t tl = sizeof(tag) - 1;
        for (const uint8_t *at = p; (at = memmem(at, len - (size_t)(at - p), tag, tl)) != NULL; at++) {
                size_t off = (size_t)(at - p) + tl, n = 0;
                /* linux_proc_banner is a format ("%s version %s"); the banner proper has text. */
                while (off + n < len && p[off + n] > ' ' && p[off + n] < 0x7f && p[off + n] != '%')
                        n++;
                if (n && off + n < len && p[off + n] == ' ')
                        return release_copy(p + off, n, "vmlinux", buf, cap, err);
        }
        return ctr_err(err, ENOEXEC, "kernel", "the ELF kernel carries no \"Linux version\" banner");
}

int ctr_vm_kernel_version(const void *image, size_t len, char *buf, size_t cap, struct ctr_error *err)
{
        const uint8_t *p = image;
        if (p && len >= 4 && !memcmp(p, "\177ELF", 4))
                return elf_release(p, len, buf, cap, err);
        if (!p || len < 0x210 || get16(p, 0x1fe) != 0xaa55 || memcmp(p + 0x202, "HdrS", 4) != 0)
                return ctr_err(err, ENOEXEC, "kernel", "neither a bzImage nor an ELF vmlinux (no boot sector signature and HdrS header)");
        /* kernel_version points into the setup code, which starts one sector into the file. */
        uint16_t ptr = get16(p, 0x20e);
        size_t off = (size_t)ptr + 0x200, n = 0;
        if (ptr == 0 || off >= len)
                return ctr_err(err, ENOEXEC, "kernel", "the bzImage carries no kernel version string");
        while (off + n < len && p[off + n] > ' ' && p[off + n] < 0x7f)
                n++;
        if (n == 0 || off + n == len || (p[off + n] != ' ' && p[off + n] != 0))
                return ctr_err(err, ENOEXEC, "kernel", "the bzImage's kernel version string is malformed");
        return release_copy(p + off, n, "bzImage", buf, cap, err);
}

/* Enough of the file for the version string: its pointer is 16 bits from sector 1. */
#define KERNEL_HEAD (0x10200 + CTR_VM_RELEASE_MAX + 1)

static int kernel_release(const char *path, char *rel, size_t cap, struct ctr_error *err)
{
        _cleanup_free_ uint8_t *head = malloc(KERNEL_HEAD);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t n = 0;

        if (!head)
                return ctr_err(err, ENOMEM, "kernel", "out of memory");
        if (fd < 0)
                return ctr_err_sys(err, errno, "kernel", "%s", path);
        while (n < KERNEL_HEAD) {
                ssize_t r = read(fd, head + n, KERNEL_HEAD - n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return ctr_err_sys(err, errno, "kernel", "read %s", path);
                }
                if (r == 0)
                        break;
                n += r;
        }
        int r;
        if (n >= 4 && !memcmp(head, "\177ELF", 4)) {
                /* The banner sits in .rodata, megabytes in: the whole file is needed. */
                _cleanup_free_ char *all = NULL;
                size_t alen = 0;
                r = ctr_read_file(path, 1024 << 20, &all, &alen);
                if (r < 0)
                        return ctr_err_sys(err, -r, "kernel", "read %s", path);
                r = ctr_vm_kernel_version(all, alen, rel, cap, err);
        } else
                r = ctr_vm_kernel_version(head, n, rel, cap, err);
        if (r < 0)
                ctr_err_prefix(err, "%s", path);
        return r;
}

static bool is_file(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Version order on the file name (vmlinuz-6.1.0-10 before vmlinuz-6.1.0-9 would be wrong), then
 * on the whole path, so the choice never depends on readdir order. */
static bool newer(const char *a, const char *b)
{
        int c = strverscmp(base_name(a), base_name(b));
        return c > 0 || (c == 0 && strverscmp(a, b) > 0);
}

static char *newest(const char *pattern)
{
        glob_t g;
        const char *best = NULL;

        if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
                return NULL;
        for (size_t i = 0; i < g.gl_pathc; i++)
                if (is_file(g.gl_pathv[i]) && (!best || newer(g.gl_pathv[i], best)))
                        best = g.gl_pathv[i];
        char *r = best ? xstrdup(best) : NULL;
        globfree(&g);
        return r;
}

const char *ctr_vm_cache_root(void)
{
        const char *c = getenv("CTR_CACHE");
        return c && *c ? c : "/var/cache/ctr";
}

static char *kernel_search(void)
{
        struct utsname u;
        if (uname(&u) == 0) {
                _cleanup_free_ char *own = xasprintf("/boot/vmlinuz-%s", u.release);
                if (is_file(own))
                        return TAKE_PTR(own);
        }
        char *k = newest("/boot/vmlinuz-*");
        if (!k)
                k = newest("/var/cache/ctr-vmlane/linux-image-*/boot/vmlinuz-*");
        if (!k) {
                _cleanup_free_ char *pattern = xasprintf("%s/kernels/*/boot/vmlinuz-*", ctr_vm_cache_root());
                k = newest(pattern);
        }
        return k;
}

/* A kernel unpacked from a package sits in PREFIX/boot with its modules in PREFIX/lib/modules
 * (PREFIX/usr/lib/modules after the /usr merge); the host's own tree is the fallback. */
static char *moddir_for(const char *kernel, const char *release)
{
        _cleanup_free_ char *prefix = xstrdup(kernel);
        char *slash = strrchr(prefix, '/');
        size_t n;

        if (slash)
                *slash = 0;
        n = strlen(prefix);
        if (slash && n >= 5 && !strcmp(prefix + n - 5, "/boot")) {
                prefix[n - 5] = 0;
                _cleanup_free_ char *a = xasprintf("%s/lib/modules/%s", prefix, release);
                if (is_dir(a))
                        return TAKE_PTR(a);
                _cleanup_free_ char *b = xasprintf("%s/usr/lib/modules/%s", prefix, release);
                if (is_dir(b))
                        return TAKE_PTR(b);
        }
        _cleanup_free_ char *c = xasprintf("/lib/modules/%s", release);
        return is_dir(c) ? TAKE_PTR(c) : NULL;
}

int ctr_vm_kernel_find(const char *kernel_opt, char **ret_kernel, char **ret_moddir, struct ctr_error *err)
{
        _cleanup_free_ char *kernel = NULL;
        char release[CTR_VM_RELEASE_MAX];

        if (!ret_kernel)
                return ctr_err(err, EINVAL, "kernel", "no place for the result");
        if (kernel_opt && *kernel_opt) {
                /* Canonical, so that /vmlinuz -> boot/vmlinuz-X still finds its package's modules. */
                kernel = realpath(kernel_opt, NULL);
                if (!kernel)
                        return ctr_err_sys(err, errno, "kernel", "%s", kernel_opt);
                if (!is_file(kernel))
                        return ctr_err(err, EINVAL, "kernel", "%s is not a regular file", kernel_opt);
        } else {
                kernel = kernel_search();
                if (!kernel)
                        return ctr_err(err, ENOENT, "kernel",
                                       "no guest kernel in /boot, /var/cache/ctr-vmlane or %s/kernels: pass "
                                       "--kernel PATH or install linux-image-amd64",
                                       ctr_vm_cache_root());
        }
        int r = kernel_release(kernel, release, sizeof(release), err);
        if (r < 0)
                return r;
        if (ret_moddir)
                *ret_moddir = moddir_for(kernel, release);
        *ret_kernel = TAKE_PTR(kernel);
        return 0;
}

/* "linux-image-amd64" is a metapackage: the kernel is the package it depends on. */
static int kernel_package(char **ret, struct ctr_error *err)
{
        char *argv[] = {"apt-cache", "depends", "linux-image-amd64", NULL};
        _cleanup_free_ char *out = NULL;
        int r = run_tool(argv, NULL, &out, NULL, NULL, err);
        if (r < 0)
                return r;
        for (char *line = out, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                while (*line == ' ' || *line == '|')
                        line++;
                if (strncmp(line, "Depends: ", 9) != 0)
                        continue;
                const char *pkg = line + 9;
                if (strncmp(pkg, "linux-image-", 12) != 0)
                        continue;
                /* The name becomes a directory name and an apt argument: package name syntax only. */
                size_t n = strlen(pkg);
                if (strspn(pkg, "abcdefghijklmnopqrstuvwxyz0123456789+.-") != n)
                        return ctr_err(err, EINVAL, "kernel", "apt-cache depends linux-image-amd64: odd package '%s'",
                                       pkg);
                *ret = xstrdup(pkg);
                return 0;
        }
        return ctr_err(err, ENOENT, "kernel", "apt-cache depends linux-image-amd64 names no linux-image package");
}

int ctr_vm_kernel_fetch(const char *cache_dir, char **ret_kernel, struct ctr_error *err)
{
        _cleanup_free_ char *pkg = NULL, *kernels = NULL, *dest = NULL, *pattern = NULL, *tmp = NULL;
        _cleanup_free_ char *debs = NULL, *deb = NULL, *root = NULL, *found = NULL;
        glob_t g;
        int r;

        if (!cache_dir || cache_dir[0] != '/')
                return ctr_err(err, EINVAL, "kernel", "the kernel cache must be an absolute path, not '%s'",
                               cache_dir ? cache_dir : "");
        if (!ret_kernel)
                return ctr_err(err, EINVAL, "kernel", "no place for the result");
        r = kernel_package(&pkg, err);
        if (r < 0)
                return r;
        kernels = xasprintf("%s/kernels", cache_dir);
        dest = xasprintf("%s/%s", kernels, pkg);
        pattern = xasprintf("%s/boot/vmlinuz-*", dest);
        found = newest(pattern);
        if (found) {
                *ret_kernel = TAKE_PTR(found);
                return 0;
        }
        r = ctr_mkdir_p(kernels, 0755);
        if (r < 0)
                return ctr_err_sys(err, -r, "kernel", "mkdir %s", kernels);

        /* Download and unpack beside the destination, so the rename publishes a whole tree or nothing. */
        tmp = xasprintf("%s/.fetch-%s-XXXXXX", kernels, pkg);
        if (!mkdtemp(tmp))
                return ctr_err_sys(err, errno, "kernel", "mkdtemp in %s", kernels);
        char *dl[] = {"apt-get", "download", pkg, NULL};
        r = run_tool(dl, tmp, NULL, NULL, NULL, err);
        if (r < 0)
                goto out;
        debs = xasprintf("%s/*.deb", tmp);
        if (glob(debs, 0, NULL, &g) == 0) {
                if (g.gl_pathc == 1)
                        deb = xstrdup(g.gl_pathv[0]);
                globfree(&g);
        }
        if (!deb) {
                r = ctr_err(err, ENOENT, "kernel", "apt-get download %s left no single .deb in %s", pkg, tmp);
                goto out;
        }
        root = xasprintf("%s/root", tmp);
        char *x[] = {"dpkg-deb", "-x", deb, root, NULL};
        r = run_tool(x, NULL, NULL, NULL, NULL, err);
        if (r < 0)
                goto out;
        free(pattern);
        pattern = xasprintf("%s/boot/vmlinuz-*", root);
        free(found);
        found = newest(pattern);
        if (!found) {
                r = ctr_err(err, ENOENT, "kernel", "package %s has no boot/vmlinuz-*", pkg);
                goto out;
        }
        /* A concurrent fetch that got there first is as good as ours. */
        if (rename(root, dest) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
                r = ctr_err_sys(err, errno, "kernel", "rename %s to %s", root, dest);
                goto out;
        }
        free(pattern);
        pattern = xasprintf("%s/boot/vmlinuz-*", dest);
        free(found);
        found = newest(pattern);
        if (!found) {
                r = ctr_err(err, ENOENT, "kernel", "%s has no boot/vmlinuz-*", dest);
                goto out;
        }
        *ret_kernel = TAKE_PTR(found);
        r = 0;
out:
        ctr_rm_rf(tmp);
        return r;
}

/* ---- modules ---- */

/* "kernel/drivers/block/virtio_blk.ko.xz" -> "virtio_blk"; '-' becomes '_' as in the kernel. */
static char *module_name(const char *path)
{
        char *name = xstrdup(base_name(path));
        for (char *p = name; (p = strstr(p, ".ko")); p++)
                if (!p[3] || !strcmp(p + 3, ".xz") || !strcmp(p + 3, ".zst") || !strcmp(p + 3, ".gz")) {
                        *p = 0;
                        break;
                }
        for (char *p = name; *p; p++)
                if (*p == '-')
                        *p = '_';
        return name;
}

enum { MOD_NEW, MOD_VISITING, MOD_DONE };

struct module {
        char *name;       /* normalised, owned */
        const char *path; /* as modules.dep writes it, into moddb.text */
        const char *deps; /* the rest of its line, into moddb.text */
        int state;
};

struct moddb {
        const char *dir;
        char *text;
        struct module *mods;
        size_t n;
        char **builtin; /* normalised names */
};

static void moddb_done(struct moddb *db)
{
        for (size_t i = 0; i < db->n; i++)
                free(db->mods[i].name);
        free(db->mods);
        free(db->text);
        strv_free(db->builtin);
}

static int moddb_load(struct moddb *db, struct ctr_error *err)
{
        _cleanup_free_ char *dep = xasprintf("%s/modules.dep", db->dir);
        _cleanup_free_ char *bpath = xasprintf("%s/modules.builtin", db->dir);
        _cleanup_free_ char *btext = NULL;
        size_t lineno = 0;

        int r = ctr_read_file(dep, MODDEP_MAX, &db->text, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "modules", "%s", dep);
        for (char *line = db->text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                if (!*line)
                        continue;
                char *colon = strchr(line, ':');
                if (!colon || colon == line)
                        return ctr_err(err, EINVAL, "modules", "%s:%zu: no 'module: deps' line", dep, lineno);
                *colon = 0;
                db->mods = xrealloc(db->mods, (db->n + 1) * sizeof(*db->mods));
                db->mods[db->n++] = (struct module){
                        .name = module_name(line),
                        .path = line,
                        .deps = colon + 1,
                        .state = MOD_NEW,
                };
        }
        /* Without modules.builtin every built-in module would look missing: tolerate its absence
         * only as "nothing is built in". */
        r = ctr_read_file(bpath, MODDEP_MAX, &btext, NULL);
        if (r < 0 && r != -ENOENT)
                return ctr_err_sys(err, -r, "modules", "%s", bpath);
        db->builtin = calloc(1, sizeof(char *));
        if (!db->builtin)
                return ctr_err(err, ENOMEM, "modules", "out of memory");
        for (char *line = btext, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (*line) {
                        _cleanup_free_ char *name = module_name(line);
                        strv_push(&db->builtin, name);
                }
        }
        return 0;
}

static struct module *moddb_by_name(struct moddb *db, const char *name)
{
        for (size_t i = 0; i < db->n; i++)
                if (!strcmp(db->mods[i].name, name))
                        return &db->mods[i];
        return NULL;
}

static struct module *moddb_by_path(struct moddb *db, const char *path)
{
        for (size_t i = 0; i < db->n; i++)
                if (!strcmp(db->mods[i].path, path))
                        return &db->mods[i];
        return NULL;
}

static bool moddb_builtin(struct moddb *db, const char *name)
{
        for (char **b = db->builtin; *b; b++)
                if (!strcmp(*b, name))
                        return true;
        return false;
}

/* Depth first, the module after everything it needs. modules.dep lists a module's dependencies
 * so that modprobe loads them from the last to the first: walking them in that order keeps our
 * order modprobe's. */
static int module_visit(struct moddb *db, struct module *m, char ***paths, struct ctr_error *err)
{
        if (m->state == MOD_DONE)
                return 0;
        if (m->state == MOD_VISITING)
                return ctr_err(err, ELOOP, "modules", "%s/modules.dep: %s depends on itself", db->dir, m->name);
        m->state = MOD_VISITING;

        _cleanup_free_ char *deps = xstrdup(m->deps);
        _cleanup_free_ char **tok = NULL;
        size_t ntok = 0;
        char *save = NULL;
        for (char *t = strtok_r(deps, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                tok = xrealloc(tok, (ntok + 1) * sizeof(*tok));
                tok[ntok++] = t;
        }
        for (size_t i = ntok; i-- > 0;) {
                struct module *d = moddb_by_path(db, tok[i]);
                if (!d)
                        return ctr_err(err, ENOENT, "modules", "%s/modules.dep: %s needs %s, which has no entry",
                                       db->dir, m->name, tok[i]);
                int r = module_visit(db, d, paths, err);
                if (r < 0)
                        return r;
        }

        _cleanup_free_ char *abs = m->path[0] == '/' ? xstrdup(m->path) : xasprintf("%s/%s", db->dir, m->path);
        if (access(abs, F_OK) < 0)
                return ctr_err_sys(err, errno, "modules", "module %s: %s", m->name, abs);
        strv_push(paths, abs);
        m->state = MOD_DONE;
        return 0;
}

int ctr_vm_modules_resolve(const char *moddir, const char *const *names, char ***ret_paths, struct ctr_error *err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_ char **paths = NULL;
        struct moddb db = {0};
        int r;

        if (!moddir || !*moddir || !ret_paths)
                return ctr_err(err, EINVAL, "modules", "no module directory");
        dir = xstrdup(moddir);
        for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
                dir[n - 1] = 0;
        db.dir = dir;
        paths = calloc(1, sizeof(char *));
        if (!paths)
                return ctr_err(err, ENOMEM, "modules", "out of memory");

        r = moddb_load(&db, err);
        for (size_t i = 0; r >= 0 && names && names[i]; i++) {
                _cleanup_free_ char *name = module_name(names[i]);
                if (!*name || strchr(names[i], '/')) {
                        r = ctr_err(err, EINVAL, "modules", "'%s' is not a module name", names[i]);
                        break;
                }
                struct module *m = moddb_by_name(&db, name);
                if (m)
                        r = module_visit(&db, m, &paths, err);
                else if (!moddb_builtin(&db, name))
                        r = ctr_err(err, ENOENT, "modules", "module %s is neither in %s/modules.dep nor built in",
                                    names[i], dir);
        }
        moddb_done(&db);
        if (r < 0)
                return r;
        *ret_paths = TAKE_PTR(paths);
        return 0;
}

/* ---- initramfs ---- */

struct cpio {
        char *buf;
        size_t len, cap;
        uint32_t ino;
};

static void cpio_put(struct cpio *c, const void *data, size_t len)
{
        if (c->len + len > c->cap) {
                while (c->len + len > c->cap)
                        c->cap = c->cap ? c->cap * 2 : 64 << 10;
                c->buf = xrealloc(c->buf, c->cap);
        }
        if (len)
                memcpy(c->buf + c->len, data, len);
        c->len += len;
}

static void cpio_align(struct cpio *c)
{
        static const char zero[4];
        cpio_put(c, zero, (4 - c->len % 4) % 4);
}

/* One newc member; mode 0 is the trailer. */
static int cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t rmajor, uint32_t rminor, const void *data,
                    size_t len, struct ctr_error *err)
{
        char hdr[111];
        size_t namesize = strlen(name) + 1;

        if (len > UINT32_MAX)
                return ctr_err(err, EFBIG, "initramfs", "%s is larger than a cpio member can be", name);
        snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", mode ? ++c->ino : 0,
                 mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0, (uint32_t)len, 0, 0, rmajor, rminor, (uint32_t)namesize, 0);
        cpio_put(c, hdr, 110);
        cpio_put(c, name, namesize);
        cpio_align(c);
        cpio_put(c, data, len);
        cpio_align(c);
        return 0;
}

static const struct {
        const char *suffix;
        const char *tool;
} decompressors[] = {
        {".ko.xz", "xz"},
        {".ko.zst", "zstd"},
        {".ko.gz", "gzip"},
};

/* The module as the guest's loader wants it: ctr-vminit calls finit_module on plain ELF and the
 * distribution kernel may lack in-kernel decompression. */
static int module_read(const char *path, char **ret, size_t *ret_len, struct ctr_error *err)
{
        int r;

        for (size_t i = 0; i < ARRAY_SIZE(decompressors); i++) {
                size_t n = strlen(path), s = strlen(decompressors[i].suffix);
                if (n <= s || strcmp(path + n - s, decompressors[i].suffix) != 0)
                        continue;
                char *argv[] = {(char *)decompressors[i].tool, "-dc", "--", (char *)path, NULL};
                r = run_tool(argv, NULL, ret, ret_len, NULL, err);
                if (r < 0)
                        ctr_err_prefix(err, "module %s", path);
                goto check;
        }
        r = ctr_read_file(path, MODULE_MAX, ret, ret_len);
        if (r < 0)
                return ctr_err_sys(err, -r, "initramfs", "module %s", path);
check:
        if (r < 0)
                return r;
        if (*ret_len < 4 || memcmp(*ret, "\177ELF", 4) != 0) {
                free(TAKE_PTR(*ret));
                return ctr_err(err, ENOEXEC, "initramfs", "module %s is not an ELF object", path);
        }
        return 0;
}

/* "lib/modules/virtio_blk.ko" for ".../virtio_blk.ko.xz": the name in the archive, without '/'. */
static char *module_member(const char *path)
{
        char *m = xasprintf("lib/modules/%s", base_name(path));
        size_t n = strlen(m);
        for (size_t i = 0; i < ARRAY_SIZE(decompressors); i++) {
                size_t s = strlen(decompressors[i].suffix);
                if (n > s && !strcmp(m + n - s, decompressors[i].suffix)) {
                        m[n - s + 3] = 0; /* keep ".ko" */
                        break;
                }
        }
        return m;
}

int ctr_vm_initramfs_build(const char *const *module_paths, const void *init, size_t init_len, const char *config_text,
                           char **ret_buf, size_t *ret_len, struct ctr_error *err)
{
        static const char *const dirs[] = {"dev", "proc", "sys", "newroot", "ctr", "lib", "lib/modules"};
        _cleanup_strv_ char **members = NULL;
        _cleanup_free_ char *list = NULL;
        struct cpio c = {0};
        size_t nmod = 0;
        int r;

        if (!init || init_len == 0)
                return ctr_err(err, EINVAL, "initramfs", "no init program");
        if (!ret_buf || !ret_len)
                return ctr_err(err, EINVAL, "initramfs", "no place for the result");

        /* Names first: /ctr/modules lists them all before any module is read. */
        members = calloc(1, sizeof(char *));
        if (!members)
                return ctr_err(err, ENOMEM, "initramfs", "out of memory");
        list = xstrdup("");
        for (; module_paths && module_paths[nmod]; nmod++) {
                const char *p = module_paths[nmod];
                _cleanup_free_ char *m = module_member(p);
                size_t n = strlen(m);
                if (strchr(m, '\n') || n < 16 || strcmp(m + n - 3, ".ko") != 0)
                        return ctr_err(err, EINVAL, "initramfs", "%s is not a kernel module file (.ko[.xz|.zst|.gz])",
                                       p);
                for (char **o = members; *o; o++)
                        if (!strcmp(*o, m))
                                return ctr_err(err, EINVAL, "initramfs", "two modules would be /%s (%s)", m, p);
                strv_push(&members, m);
                char *l = xasprintf("%s/%s\n", list, m);
                free(list);
                list = l;
        }

        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                cpio_add(&c, dirs[i], S_IFDIR | 0755, 0, 0, NULL, 0, err);
        cpio_add(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0, err);
        r = cpio_add(&c, "init", S_IFREG | 0755, 0, 0, init, init_len, err);
        if (r >= 0)
                r = cpio_add(&c, "ctr/config", S_IFREG | 0644, 0, 0, config_text ? config_text : "",
                             config_text ? strlen(config_text) : 0, err);
        if (r >= 0)
                r = cpio_add(&c, "ctr/modules", S_IFREG | 0644, 0, 0, list, strlen(list), err);
        for (size_t i = 0; r >= 0 && i < nmod; i++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                r = module_read(module_paths[i], &data, &len, err);
                if (r >= 0)
                        r = cpio_add(&c, members[i], S_IFREG | 0644, 0, 0, data, len, err);
        }
        if (r >= 0)
                r = cpio_add(&c, "TRAILER!!!", 0, 0, 0, NULL, 0, err);
        if (r < 0) {
                free(c.buf);
                return r;
        }
        *ret_buf = c.buf;
        *ret_len = c.len;
        return 0;
}

/* ---- the root disk ---- */

struct hardlink {
        dev_t dev;
        ino_t ino;
        uint64_t bytes;
};

struct usage {
        uint64_t bytes, inodes;
        struct hardlink *links;
        size_t nlinks;
        int error;
        char *error_path;
};

/* nftw has no user pointer. */
static __thread struct usage *walk_usage;

static int usage_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        struct usage *u = walk_usage;
        if (type == FTW_NS || type == FTW_DNR) {
                u->error = errno ? errno : EACCES;
                u->error_path = xstrdup(path);
                return FTW_STOP;
        }
        uint64_t bytes = (uint64_t)st->st_blocks * 512;
        if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
                u->links = xrealloc(u->links, (u->nlinks + 1) * sizeof(*u->links));
                u->links[u->nlinks++] = (struct hardlink){st->st_dev, st->st_ino, bytes};
                return 0;
        }
        u->bytes += bytes;
        u->inodes++;
        return 0;
}

static int hardlink_cmp(const void *a, const void *b)
{
        const struct hardlink *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* What the tree occupies, each hard-linked file once (a tree of links must not look huge). */
static int tree_usage(const char *root, uint64_t *ret_bytes, uint64_t *ret_inodes, struct ctr_error *err)
{
        struct usage u = {0};
        int r = 0;

        walk_usage = &u;
        errno = 0;
        if (nftw(root, usage_entry, 64, FTW_PHYS) != 0) {
                if (u.error)
                        r = ctr_err_sys(err, u.error, "disk", "%s", u.error_path);
                else
                        r = ctr_err_sys(err, errno ? errno : EIO, "disk", "walk %s", root);
        }
        walk_usage = NULL;
        if (r == 0) {
                if (u.nlinks)
                        qsort(u.links, u.nlinks, sizeof(*u.links), hardlink_cmp);
                for (size_t i = 0; i < u.nlinks; i++)
                        if (i == 0 || hardlink_cmp(&u.links[i - 1], &u.links[i]) != 0) {
                                u.bytes += u.links[i].bytes;
                                u.inodes++;
                        }
                *ret_bytes = u.bytes;
                *ret_inodes = u.inodes;
        }
        free(u.links);
        free(u.error_path);
        return r;
}

/* "12 MiB"; tenths below 100 MiB so that a small tree or image never reads as 0 or as its neighbour.
 * A usage rounds up, a size down: the message never makes the tree look smaller than it is. */
static void format_mib(uint64_t bytes, bool round_up, char *buf, size_t len)
{
        if (bytes % MIB == 0)
                snprintf(buf, len, "%" PRIu64 " MiB", bytes / MIB);
        else if (bytes < 100 * MIB) {
                uint64_t tenths = round_up ? (bytes * 10 + MIB - 1) / MIB : bytes * 10 / MIB;
                snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " MiB", tenths / 10, tenths % 10);
        } else
                snprintf(buf, len, "%" PRIu64 " MiB", round_up ? (bytes + MIB - 1) / MIB : bytes / MIB);
}

static int does_not_fit(uint64_t usage, uint64_t size, struct ctr_error *err, const char *detail)
{
        char a[32], b[32];
        format_mib(usage, true, a, sizeof(a));
        format_mib(size, false, b, sizeof(b));
        return ctr_err(err, ENOSPC, "disk", "rootfs (%s) does not fit an image of %s%s%s", a, b, detail ? ": " : "",
                       detail ? detail : "");
}

/* The messages mke2fs gives when the tree or the inode table outgrows the filesystem. */
static bool mkfs_out_of_space(const char *text)
{
        static const char *const marks[] = {"Could not allocate", "No space left", "too small", "too big"};
        for (size_t i = 0; text && i < ARRAY_SIZE(marks); i++)
                if (strstr(text, marks[i]))
                        return true;
        return false;
}

/* Is path (canonical) inside dir (canonical)? */
static bool path_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        if (n == 1)
                return true;
        return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

int ctr_vm_disk_build(const char *rootfs, const char *image, uint64_t size, struct ctr_error *err)
{
        _cleanup_free_ char *root = NULL, *imgdir = NULL, *imgdir_real = NULL, *tmp = NULL, *etext = NULL;
        uint64_t usage = 0, inodes = 0;
        int r;

        if (!rootfs || !*rootfs || !image || !*image)
                return ctr_err(err, EINVAL, "disk", "no rootfs or image path");
        root = realpath(rootfs, NULL);
        if (!root)
                return ctr_err_sys(err, errno, "disk", "rootfs %s", rootfs);
        if (!is_dir(root))
                return ctr_err(err, ENOTDIR, "disk", "rootfs %s is not a directory", rootfs);
        imgdir = xstrdup(image);
        char *slash = strrchr(imgdir, '/');
        if (!slash)
                strcpy(imgdir, ".");
        else if (slash == imgdir)
                slash[1] = 0;
        else
                *slash = 0;
        imgdir_real = realpath(imgdir, NULL);
        if (!imgdir_real)
                return ctr_err_sys(err, errno, "disk", "image directory %s", imgdir);
        /* mkfs would copy the half-written image into itself. */
        if (path_under(imgdir_real, root))
                return ctr_err(err, EINVAL, "disk", "the image %s would be inside the rootfs %s", image, rootfs);

        r = tree_usage(root, &usage, &inodes, err);
        if (r < 0)
                return r;
        /* Room to grow: a quarter more inodes than the tree has, 256 bytes of inode table each. */
        uint64_t want_inodes = inodes + inodes / 4 + 1024;
        if (size == 0) {
                size = usage + usage / 4 + 64 * MIB + want_inodes * 256;
                size = (size + MIB - 1) / MIB * MIB;
        } else if (size < usage)
                return does_not_fit(usage, size, err, NULL);

        tmp = xasprintf("%s.tmp-XXXXXX", image);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "disk", "create a temporary image beside %s", image);
        close(fd);

        char kib[32], ninodes[32];
        snprintf(kib, sizeof(kib), "%" PRIu64 "k", size / 1024);
        snprintf(ninodes, sizeof(ninodes), "%" PRIu64, want_inodes);
        char *argv[16] = {"mkfs.ext4", "-q", "-F", "-L", "ctr-root", "-d", root, "-E", "root_owner=0:0"};
        size_t argc = 9;
        /* mke2fs gives at least one inode per 16 KiB below 4 TiB: a tree of many small files can
         * need more, and only then is the count ours to set. */
        if (want_inodes > size / 16384) {
                argv[argc++] = "-N";
                argv[argc++] = ninodes;
        }
        argv[argc++] = tmp;
        argv[argc++] = kib;
        argv[argc] = NULL;
        r = run_tool(argv, NULL, NULL, NULL, &etext, err);
        if (r < 0) {
                if (mkfs_out_of_space(etext))
                        r = does_not_fit(usage, size, err, last_line(etext));
                goto fail;
        }

        fd = open(tmp, O_RDWR | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0) {
                r = ctr_err_sys(err, errno, "disk", "fsync %s", tmp);
                if (fd >= 0)
                        close(fd);
                goto fail;
        }
        close(fd);
        if (rename(tmp, image) < 0) {
                r = ctr_err_sys(err, errno, "disk", "rename %s to %s", tmp, image);
                goto fail;
        }
        return 0;
fail:
        unlink(tmp);
        return r;
}

int ctr_vm_disk_size_parse(const char *s, uint64_t *ret, struct ctr_error *err)
{
        uint64_t v;
        int r = ctr_parse_size(s, &v);
        if (r == -ERANGE)
                return ctr_err(err, ERANGE, "disk-size", "%s is too large", s);
        if (r < 0)
                return ctr_err(err, EINVAL, "disk-size", "'%s' is not a size (bytes, or a number with K, M, G or T)",
                               s ? s : "");
        if (v == 0)
                return ctr_err(err, EINVAL, "disk-size", "a disk of size %s", s);
        *ret = v;
        return 0;
}

int ctr_vm_disk_set_identity(const char *image, const char *hostname, struct ctr_error *err)
{
        _cleanup_free_ char *dir = xasprintf("%s.identity-XXXXXX", image), *etext = NULL;
        if (!mkdtemp(dir))
                return ctr_err_sys(err, errno, "disk", "create a temporary directory beside %s", image);
        _cleanup_free_ char *empty = xasprintf("%s/empty", dir), *hn = xasprintf("%s/hostname", dir),
                            *cmds = xasprintf("%s/commands", dir), *line = xasprintf("%s\n", hostname);
        _cleanup_free_ char *script =
                xasprintf("rm /etc/machine-id\nwrite %s /etc/machine-id\nsif /etc/machine-id mode 0100444\n"
                          "rm /etc/hostname\nwrite %s /etc/hostname\nsif /etc/hostname mode 0100644\n",
                          empty, hn);
        int r = ctr_write_atomic(empty, "", 0, 0644);
        if (r >= 0)
                r = ctr_write_atomic(hn, line, strlen(line), 0644);
        if (r >= 0)
                r = ctr_write_atomic(cmds, script, strlen(script), 0600);
        if (r < 0) {
                r = ctr_err_sys(err, -r, "disk", "write debugfs input in %s", dir);
                goto out;
        }
        /* debugfs reports a missing file on stderr and goes on: a tree without /etc gets none. */
        char *argv[] = {"debugfs", "-w", "-f", cmds, (char *)image, NULL};
        r = run_tool(argv, NULL, NULL, NULL, &etext, err);
        if (r < 0)
                ctr_err_prefix(err, "disk: set the clone's identity in %s", image);
out:
        unlink(empty);
        unlink(hn);
        unlink(cmds);
        rmdir(dir);
        return r;
}
