/* Checking tar archives before anything is extracted (ctr import): a walk over the headers
 * (ustar, pax and GNU long names) that refuses what a container tree must not bring, and
 * the export's file checksums (SHA-256, base/hash.c). The extraction itself is GNU tar's, on checked input. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/hash.h"
#include "../base/util.h"

/* --- checksums ------------------------------------------------------------------------------ */

int ctr_sha256_file(const char *path, char hex[65], struct ctr_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "checksum", "open %s", path);
        struct ctr_sha256 s;
        ctr_sha256_init(&s);
        char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                ctr_sha256_update(&s, buf, (size_t)n);
        if (n < 0)
                return ctr_err_sys(err, errno, "checksum", "read %s", path);
        ctr_sha256_final_hex(&s, hex);
        return 0;
}

/* --- the header walk ----------------------------------------------------------------------- */

#define MAX_MEMBER (16ULL << 30)

static uint64_t octal(const char *f, size_t len, bool *bad)
{
        /* Base-256 (GNU) when the high bit of the first byte is set. */
        if ((unsigned char)f[0] & 0x80) {
                uint64_t v = (unsigned char)f[0] & 0x7f;
                for (size_t i = 1; i < len; i++)
                        v = v << 8 | (unsigned char)f[i];
                return v;
        }
        uint64_t v = 0;
        size_t i = 0;
        while (i < len && (f[i] == ' ' || f[i] == 0))
                i++;
        for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
                v = v * 8 + (uint64_t)(f[i] - '0');
        if (i < len && f[i] != ' ' && f[i] != 0)
                *bad = true;
        return v;
}

/* "./a/b" -> "a/b"; NULL when absolute, empty, or with a ".." component. */
static char *clean(const char *p)
{
        if (p[0] == '/' || !*p)
                return NULL;
        while (p[0] == '.' && p[1] == '/')
                p += 2;
        if (!*p || !strcmp(p, "."))
                return xstrdup("."); /* the tree's own root */
        _cleanup_free_ char *copy = xstrdup(p);
        size_t n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/')
                copy[--n] = 0;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (!strcmp(c, ".."))
                        return NULL;
        char *r = xstrdup(p);
        n = strlen(r);
        while (n > 1 && r[n - 1] == '/')
                r[--n] = 0;
        return r;
}

static bool std_chardev(unsigned maj, unsigned min)
{
        return (maj == 1 && (min == 3 || min == 5 || min == 7 || min == 8 || min == 9)) || (maj == 5 && min <= 2);
}

/* pax records "LEN key=value\n": path, linkpath and size override the header; sparse is refused. */
static int pax(const char *data, size_t len, char **path, char **link, uint64_t *size, bool *has_size, const char *what,
               struct ctr_error *err)
{
        size_t off = 0;
        while (off < len) {
                char *end;
                unsigned long rl = strtoul(data + off, &end, 10);
                if (end == data + off || *end != ' ' || rl == 0 || off + rl > len || data[off + rl - 1] != '\n')
                        return ctr_err(err, EINVAL, "archive", "%s: a malformed pax record", what);
                const char *kv = end + 1;
                size_t kvlen = (size_t)(data + off + rl - 1 - kv);
                const char *eq = memchr(kv, '=', kvlen);
                if (!eq)
                        return ctr_err(err, EINVAL, "archive", "%s: a malformed pax record", what);
                size_t klen = (size_t)(eq - kv);
                _cleanup_free_ char *val = strndup(eq + 1, kvlen - klen - 1);
                if (klen == 4 && !memcmp(kv, "path", 4)) {
                        free(*path);
                        *path = TAKE_PTR(val);
                } else if (klen == 8 && !memcmp(kv, "linkpath", 8)) {
                        free(*link);
                        *link = TAKE_PTR(val);
                } else if (klen == 4 && !memcmp(kv, "size", 4)) {
                        *size = strtoull(val, NULL, 10);
                        *has_size = true;
                } else if (klen > 10 && !memcmp(kv, "GNU.sparse", 10))
                        return ctr_err(err, EINVAL, "archive", "%s: sparse members are refused", what);
                off += rl;
        }
        return 0;
}

static bool through_symlink(char **links, const char *path)
{
        for (char **l = links; l && *l; l++) {
                size_t n = strlen(*l);
                if (!strncmp(path, *l, n) && path[n] == '/')
                        return true;
        }
        return false;
}

int ctr_archive_check(const char *file, char ***ret_names, struct ctr_error *err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctr_err_sys(err, errno, "archive", "open %s", file);
        _cleanup_strv_ char **links = NULL, **names = NULL;
        _cleanup_free_ char *next_path = NULL, *next_link = NULL;
        uint64_t next_size = 0;
        bool has_next_size = false;
        unsigned char h[512];
        int zeros = 0;
        for (uint64_t member = 0;; member++) {
                ssize_t n = pread(fd, h, 512, lseek(fd, 0, SEEK_CUR));
                if (n == 0)
                        return ctr_err(err, EINVAL, "archive", "%s is truncated (no end-of-archive blocks)", file);
                if (n != 512)
                        return ctr_err(err, EINVAL, "archive", "%s is truncated (a short header)", file);
                lseek(fd, 512, SEEK_CUR);
                bool all_zero = true;
                for (int i = 0; i < 512 && all_zero; i++)
                        all_zero = !h[i];
                if (all_zero) {
                        if (++zeros == 2)
                                break;
                        continue;
                }
                zeros = 0;
                bool bad = false;
                unsigned long sum = 0;
                for (int i = 0; i < 512; i++)
                        sum += i >= 148 && i < 156 ? ' ' : h[i];
                if (octal((char *)h + 148, 8, &bad) != sum || bad)
                        return ctr_err(err, EINVAL, "archive", "%s: member %llu has a bad header checksum (corrupt)", file,
                                       (unsigned long long)member);
                char type = (char)h[156];
                uint64_t size = octal((char *)h + 124, 12, &bad);
                if (has_next_size)
                        size = next_size;
                if (bad || size > MAX_MEMBER)
                        return ctr_err(err, EFBIG, "archive", "%s: member %llu is larger than %llu GiB", file,
                                       (unsigned long long)member, MAX_MEMBER >> 30);
                off_t here = lseek(fd, 0, SEEK_CUR), end = lseek(fd, 0, SEEK_END);
                uint64_t padded = (size + 511) & ~511ULL;
                if ((uint64_t)(end - here) < padded)
                        return ctr_err(err, EINVAL, "archive", "%s is truncated (member %llu's data)", file,
                                       (unsigned long long)member);
                if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
                        if (size > (1 << 20))
                                return ctr_err(err, EINVAL, "archive", "%s: an oversized extended header", file);
                        _cleanup_free_ char *data = malloc(size + 1);
                        if (!data || pread(fd, data, size, here) != (ssize_t)size)
                                return ctr_err(err, EIO, "archive", "%s: read an extended header", file);
                        data[size] = 0;
                        lseek(fd, here + (off_t)padded, SEEK_SET);
                        if (type == 'x' && pax(data, size, &next_path, &next_link, &next_size, &has_next_size, file, err) < 0)
                                return -EINVAL;
                        if (type == 'L') {
                                free(next_path);
                                next_path = strndup(data, size);
                        }
                        if (type == 'K') {
                                free(next_link);
                                next_link = strndup(data, size);
                        }
                        continue;
                }
                lseek(fd, here + (off_t)padded, SEEK_SET);
                char name[257];
                if (!memcmp(h + 257, "ustar", 5) && h[345])
                        snprintf(name, sizeof(name), "%.155s/%.100s", (char *)h + 345, (char *)h);
                else
                        snprintf(name, sizeof(name), "%.100s", (char *)h);
                char linkname[101];
                snprintf(linkname, sizeof(linkname), "%.100s", (char *)h + 157);
                _cleanup_free_ char *raw = next_path ? TAKE_PTR(next_path) : xstrdup(name);
                _cleanup_free_ char *rawlink = next_link ? TAKE_PTR(next_link) : xstrdup(linkname);
                has_next_size = false;
                _cleanup_free_ char *path = clean(raw);
                if (!path)
                        return ctr_err(err, EPERM, "archive", "%s: member '%s' is absolute or climbs out with '..'", file, raw);
                if (through_symlink(links, path))
                        return ctr_err(err, EPERM, "archive", "%s: member '%s' would be written through a symlink", file, path);
                switch (type) {
                case '0': case 0: case '7': case '5': case '6': break;
                case '2':
                        strv_push(&links, path);
                        break;
                case '1': {
                        _cleanup_free_ char *target = clean(rawlink);
                        if (!target || through_symlink(links, target))
                                return ctr_err(err, EPERM, "archive", "%s: hard link '%s' points outside the tree (%s)", file,
                                               path, rawlink);
                        break;
                }
                case '3': {
                        unsigned maj = (unsigned)octal((char *)h + 329, 8, &bad), min = (unsigned)octal((char *)h + 337, 8, &bad);
                        if (!std_chardev(maj, min))
                                return ctr_err(err, EPERM, "archive", "%s: device node '%s' (%u:%u) is refused", file, path, maj,
                                               min);
                        break;
                }
                case '4':
                        return ctr_err(err, EPERM, "archive", "%s: block device '%s' is refused", file, path);
                case 'S':
                        return ctr_err(err, EINVAL, "archive", "%s: sparse member '%s' is refused", file, path);
                default:
                        return ctr_err(err, EINVAL, "archive", "%s: member '%s' has an unknown type '%c'", file, path, type);
                }
                if (ret_names)
                        strv_push(&names, path);
        }
        if (ret_names)
                *ret_names = TAKE_PTR(names);
        return 0;
}
