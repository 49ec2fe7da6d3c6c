/* /etc/subuid and /etc/subgid: parsing, ctr's own entry, and first-fit allocation of container
 * ranges. The parser and allocator are pure (unit-tested); ctr_subid_load does the file I/O. */
#define _GNU_SOURCE
#include "subid.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/util.h"

static int parse_u32(const char *s, uint32_t *ret)
{
        if (!*s || strlen(s) > 10)
                return -EINVAL;
        for (const char *c = s; *c; c++)
                if (!isdigit((unsigned char)*c))
                        return -EINVAL;
        unsigned long long v = strtoull(s, NULL, 10);
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

static bool is_owner(const char *user)
{
        return !strcmp(user, CTR_SUBID_OWNER) || !strcmp(user, "0");
}

/* Calls fn for every entry; a malformed line fails the whole file. */
static int each_entry(const char *text, const char *name,
                      void (*fn)(void *ud, const char *user, struct ctr_idrange r), void *ud, struct ctr_error *err)
{
        int lineno = 0;
        for (const char *line = text; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                lineno++;
                _cleanup_free_ char *l = strndup(line, len);
                line = end ? end + 1 : NULL;
                if (!l)
                        return ctr_err(err, ENOMEM, "userns", "read %s", name);
                char *s = l + strspn(l, " \t");
                if (!*s || *s == '#')
                        continue;
                char *f1 = strchr(s, ':'), *f2 = f1 ? strchr(f1 + 1, ':') : NULL;
                if (!f1 || !f2 || strchr(f2 + 1, ':') || f1 == s)
                        return ctr_err(err, EINVAL, "userns", "%s line %d: '%s' is not NAME:START:COUNT", name, lineno,
                                       s);
                *f1 = *f2 = 0;
                struct ctr_idrange r;
                if (parse_u32(f1 + 1, &r.base) < 0 || parse_u32(f2 + 1, &r.count) < 0 || !r.count ||
                    (uint64_t)r.base + r.count > (uint64_t)UINT32_MAX + 1)
                        return ctr_err(err, EINVAL, "userns",
                                       "%s line %d: start '%s' and count '%s' must be numbers giving a nonempty "
                                       "range below 2^32",
                                       name, lineno, f1 + 1, f2 + 1);
                fn(ud, s, r);
        }
        return 0;
}

struct collect {
        struct ctr_idrange *v;
        size_t n;
        bool all; /* every user's entries, not only the owner's */
};

static void collect_one(void *ud, const char *user, struct ctr_idrange r)
{
        struct collect *c = ud;
        if (!c->all && !is_owner(user))
                return;
        c->v = realloc(c->v, (c->n + 1) * sizeof(*c->v));
        if (!c->v)
                abort();
        c->v[c->n++] = r;
}

int ctr_subid_parse(const char *text, const char *name, struct ctr_idrange **ret, size_t *ret_n,
                    struct ctr_error *err)
{
        struct collect c = {0};
        int r = each_entry(text, name, collect_one, &c, err);
        if (r < 0) {
                free(c.v);
                return r;
        }
        *ret = c.v;
        *ret_n = c.n;
        return 0;
}

static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
        return a < b + bn && b < a + an;
}

int ctr_subid_own_range(const char *text, const char *name, struct ctr_idrange *ret, struct ctr_error *err)
{
        struct collect c = {.all = true};
        int r = each_entry(text, name, collect_one, &c, err);
        if (r < 0) {
                free(c.v);
                return r;
        }
        uint64_t base = CTR_SUBID_BASE, count = CTR_SUBID_COUNT;
        /* Move past whatever overlaps until nothing does (each move is upwards, so this ends). */
        for (bool moved = true; moved;) {
                moved = false;
                for (size_t i = 0; i < c.n; i++)
                        if (overlaps(base, count, c.v[i].base, c.v[i].count)) {
                                uint64_t end = (uint64_t)c.v[i].base + c.v[i].count;
                                base = (end + CTR_IDMAP_COUNT - 1) / CTR_IDMAP_COUNT * CTR_IDMAP_COUNT;
                                moved = true;
                        }
        }
        free(c.v);
        /* Stay below 2^31: ids above it confuse too many programs that store them signed. */
        const uint64_t limit = (uint64_t)1 << 31;
        if (base + count > limit)
                count = base < limit ? limit - base : 0;
        if (count < CTR_IDMAP_COUNT)
                return ctr_err(err, ENOSPC, "userns", "%s: no room left for ctr's range of subordinate ids", name);
        *ret = (struct ctr_idrange){(uint32_t)base, (uint32_t)count};
        return 0;
}

int ctr_subid_alloc(const struct ctr_idrange *deleg, size_t n_deleg, const struct ctr_idrange *used, size_t n_used,
                    uint32_t count, uint32_t *ret_base)
{
        bool found = false;
        uint64_t best = 0;
        for (size_t d = 0; d < n_deleg; d++) {
                uint64_t start = deleg[d].base, end = (uint64_t)deleg[d].base + deleg[d].count;
                uint64_t cand = start;
                /* Bump the candidate past each used range it hits until it is free or too high. */
                for (bool moved = true; moved && cand + count <= end;) {
                        moved = false;
                        for (size_t u = 0; u < n_used; u++)
                                if (overlaps(cand, count, used[u].base, used[u].count)) {
                                        cand = (uint64_t)used[u].base + used[u].count;
                                        moved = true;
                                }
                }
                if (cand + count <= end && (!found || cand < best)) {
                        best = cand;
                        found = true;
                }
        }
        if (!found)
                return -ENOSPC;
        *ret_base = (uint32_t)best;
        return 0;
}

int ctr_subid_contains(const struct ctr_idrange *r, size_t n, uint32_t base, uint32_t count)
{
        for (size_t i = 0; i < n; i++)
                if (base >= r[i].base && (uint64_t)base + count <= (uint64_t)r[i].base + r[i].count)
                        return 1;
        return 0;
}

const char *ctr_subid_path(int gid)
{
        const char *e = getenv(gid ? "CTR_SUBGID" : "CTR_SUBUID");
        return e && *e ? e : gid ? "/etc/subgid" : "/etc/subuid";
}

/* shadow-utils' protocol for its files (commonio): PATH.lock is a hard link to a file holding
 * the locker's pid; a lock whose pid is gone is stale and removed. */
static int lock_file(const char *path, char **ret_lock, struct ctr_error *err)
{
        _cleanup_free_ char *lock = xasprintf("%s.lock", path), *tmp = xasprintf("%s.%d", path, (int)getpid());
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return ctr_err_sys(err, errno, "userns", "lock %s: create %s", path, tmp);
        bool ok = ctr_write_all(fd, pid, n) == n;
        close(fd);
        if (!ok) {
                unlink(tmp);
                return ctr_err(err, EIO, "userns", "lock %s: write %s", path, tmp);
        }
        for (int i = 0; i < 200; i++) {
                if (link(tmp, lock) == 0) {
                        unlink(tmp);
                        *ret_lock = TAKE_PTR(lock);
                        return 0;
                }
                if (errno != EEXIST)
                        break;
                _cleanup_free_ char *held = NULL;
                if (ctr_read_file(lock, 64, &held, NULL) == 0) {
                        int other = atoi(held);
                        if (other > 0 && kill(other, 0) < 0 && errno == ESRCH) {
                                unlink(lock);
                                continue;
                        }
                }
                struct timespec ts = {0, 25 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        int e = errno == EEXIST ? EBUSY : errno;
        unlink(tmp);
        return ctr_err_sys(err, e, "userns", "lock %s (held in %s)", path, lock);
}

int ctr_subid_load(const char *path, struct ctr_idrange **ret, size_t *ret_n, struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL, *lock = NULL;
        int r = ctr_read_file(path, 1 << 22, &text, NULL);
        if (r == -ENOENT)
                text = xstrdup("");
        else if (r < 0)
                return ctr_err_sys(err, -r, "userns", "read %s", path);
        r = ctr_subid_parse(text, path, ret, ret_n, err);
        if (r < 0 || *ret_n)
                return r;
        free(*ret);
        *ret = NULL;

        /* No entry for the owner: add ctr's, re-reading under the lock in case someone else
         * (another ctr, usermod) changed the file meanwhile. */
        r = lock_file(path, &lock, err);
        if (r < 0)
                return r;
        free(text);
        text = NULL;
        r = ctr_read_file(path, 1 << 22, &text, NULL);
        if (r == -ENOENT) {
                text = xstrdup("");
                r = 0;
        }
        if (r < 0)
                r = ctr_err_sys(err, -r, "userns", "read %s", path);
        if (r == 0)
                r = ctr_subid_parse(text, path, ret, ret_n, err);
        struct ctr_idrange own;
        if (r == 0 && !*ret_n) {
                free(*ret);
                *ret = NULL;
                r = ctr_subid_own_range(text, path, &own, err);
                if (r == 0) {
                        size_t len = strlen(text);
                        _cleanup_free_ char *out = xasprintf("%s%s%s:%u:%u\n", text, len && text[len - 1] != '\n' ? "\n" : "",
                                                             CTR_SUBID_OWNER, own.base, own.count);
                        struct stat st;
                        mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
                        r = ctr_write_atomic(path, out, strlen(out), mode);
                        if (r < 0)
                                r = ctr_err_sys(err, -r, "userns", "add %s:%u:%u to %s", CTR_SUBID_OWNER, own.base,
                                                own.count, path);
                }
                if (r == 0) {
                        *ret = malloc(sizeof(**ret));
                        if (!*ret)
                                abort();
                        **ret = own;
                        *ret_n = 1;
                }
        }
        unlink(lock);
        return r;
}
