/* Memo files: a text header (magic, kind, key, payload length, payload SHA-256) and the payload,
 * written temp-then-rename and believed only when every part of the header agrees. */
#define _GNU_SOURCE
#include "memo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAGIC "ctr-memo 1\n"

char *ctr_memo_path(const char *dir, const char *kind, const char key[65])
{
        return xasprintf("%s/%s-%.64s", dir, kind, key);
}

static bool key_valid(const char *kind, const char *key)
{
        if (!*kind || strlen(kind) > 32 || strchr(kind, '/') || strchr(kind, '\n') || strlen(key) != 64)
                return false;
        return strspn(key, "0123456789abcdef") == 64;
}

static char *header(const char *kind, const char key[65], const void *data, size_t len)
{
        char sum[65];
        ctr_sha256_hex(data, len, sum);
        return xasprintf(MAGIC "%s\n%.64s\n%zu\n%s\n", kind, key, len, sum);
}

int ctr_memo_get(const char *dir, const char *kind, const char key[65], size_t max, void **ret, size_t *ret_len)
{
        *ret = NULL;
        if (!key_valid(kind, key))
                return -EINVAL;
        _cleanup_free_ char *path = ctr_memo_path(dir, kind, key);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Ours alone: a file another user could have written is not believed. */
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) || (size_t)st.st_size > max + 256)
                return -EBADMSG;
        size_t n = (size_t)st.st_size;
        _cleanup_free_ char *text = malloc(n + 1);
        if (!text)
                return -ENOMEM;
        for (size_t got = 0; got < n;) {
                ssize_t k = pread(fd, text + got, n - got, (off_t)got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EBADMSG;
                got += (size_t)k;
        }
        text[n] = 0;
        /* The header: magic, kind, key, length, checksum, each on its line. */
        const char *p = text, *end = text + n;
        if (n < strlen(MAGIC) || memcmp(p, MAGIC, strlen(MAGIC)))
                return -EBADMSG;
        p += strlen(MAGIC);
        char *lines[4];
        for (int i = 0; i < 4; i++) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        return -EBADMSG;
                *nl = 0;
                lines[i] = (char *)p;
                p = nl + 1;
        }
        char *e;
        errno = 0;
        unsigned long long len = strtoull(lines[2], &e, 10);
        if (strcmp(lines[0], kind) || strcmp(lines[1], key) || !*lines[2] || *e || errno || len > max ||
            len != (unsigned long long)(end - p))
                return -EBADMSG;
        char sum[65];
        ctr_sha256_hex(p, (size_t)len, sum);
        if (strcmp(sum, lines[3]))
                return -EBADMSG;
        char *out = malloc((size_t)len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, p, (size_t)len);
        out[len] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = (size_t)len;
        return 0;
}

/* Keys change with their inputs (a new ctr binary makes every filter's key new): the oldest
 * entries of a kind beyond CTR_MEMO_MAX go, so the directory does not grow without end. */
static void prune(const char *dir, const char *kind)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        size_t kl = strlen(kind), n = 0;
        char oldest[128] = "";
        struct timespec t_old = {0};
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (strncmp(de->d_name, kind, kl) || de->d_name[kl] != '-' || strlen(de->d_name) != kl + 65 ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                n++;
                if (!*oldest || st.st_mtim.tv_sec < t_old.tv_sec ||
                    (st.st_mtim.tv_sec == t_old.tv_sec && st.st_mtim.tv_nsec < t_old.tv_nsec)) {
                        snprintf(oldest, sizeof(oldest), "%s", de->d_name);
                        t_old = st.st_mtim;
                }
        }
        if (n > CTR_MEMO_MAX && *oldest)
                unlinkat(dirfd(d), oldest, 0);
        closedir(d);
}

int ctr_memo_put(const char *dir, const char *kind, const char key[65], const void *data, size_t len)
{
        if (!key_valid(kind, key))
                return -EINVAL;
        int r = ctr_mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        _cleanup_free_ char *head = header(kind, key, data, len);
        size_t hl = strlen(head);
        _cleanup_free_ char *buf = malloc(hl + len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, head, hl);
        if (len)
                memcpy(buf + hl, data, len);
        _cleanup_free_ char *path = ctr_memo_path(dir, kind, key);
        r = ctr_write_atomic_volatile(path, buf, hl + len, 0600);
        if (r == 0)
                prune(dir, kind);
        return r;
}
