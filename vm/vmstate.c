/* The live snapshot's state file: a versioned header and tagged sections, built in memory and
 * checked whole before anything is restored from it (magic, version, sizes, checksum). Plain
 * bytes: unit-tested without /dev/kvm. */
#define _GNU_SOURCE
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/util.h"

struct sec_hdr {
        uint32_t tag, index;
        uint64_t len;
};

#define PAD8(n) (((n) + 7) & ~(uint64_t)7)

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ull;
        return h;
}

/* The whole file's, with the checksum field taken as zero. */
static uint64_t checksum(const struct ctr_vmstate_header *h, const uint8_t *p, size_t len)
{
        struct ctr_vmstate_header z = *h;
        z.checksum = 0;
        return fnv1a(fnv1a(0xcbf29ce484222325ull, (const uint8_t *)&z, sizeof(z)), p + sizeof(z), len - sizeof(z));
}

static void grow(struct ctr_vmstate_buf *b, size_t more)
{
        if (b->len + more <= b->cap)
                return;
        while (b->len + more > b->cap)
                b->cap = b->cap ? b->cap * 2 : 65536;
        b->data = xrealloc(b->data, b->cap);
}

void ctr_vmstate_begin(struct ctr_vmstate_buf *b, uint64_t mem_size, uint32_t ncpus)
{
        memset(b, 0, sizeof(*b));
        grow(b, sizeof(struct ctr_vmstate_header));
        struct ctr_vmstate_header h = {.version = CTR_VMSTATE_VERSION,
                                       .header_size = sizeof(h),
                                       .mem_size = mem_size,
                                       .ncpus = ncpus};
        memcpy(h.magic, CTR_VMSTATE_MAGIC, 8);
        memcpy(b->data, &h, sizeof(h));
        b->len = sizeof(h);
}

void ctr_vmstate_add(struct ctr_vmstate_buf *b, uint32_t tag, uint32_t index, const void *data, uint64_t len)
{
        struct sec_hdr s = {tag, index, len};
        grow(b, sizeof(s) + PAD8(len));
        memcpy(b->data + b->len, &s, sizeof(s));
        if (len) /* an empty section may come with no data pointer */
                memcpy(b->data + b->len + sizeof(s), data, len);
        memset(b->data + b->len + sizeof(s) + len, 0, PAD8(len) - len);
        b->len += sizeof(s) + PAD8(len);
        b->nsections++;
}

void ctr_vmstate_finish(struct ctr_vmstate_buf *b)
{
        struct ctr_vmstate_header h;
        memcpy(&h, b->data, sizeof(h));
        h.file_size = b->len;
        h.nsections = b->nsections;
        h.checksum = checksum(&h, b->data, b->len);
        memcpy(b->data, &h, sizeof(h));
}

void ctr_vmstate_buf_free(struct ctr_vmstate_buf *b)
{
        free(b->data);
        memset(b, 0, sizeof(*b));
}

int ctr_vmstate_parse(const void *data, size_t len, const char *name, struct ctr_vmstate *ret, struct ctr_error *err)
{
        const uint8_t *p = data;
        struct ctr_vmstate_header h;
        memset(ret, 0, sizeof(*ret));
        if (len < 8 || memcmp(p, CTR_VMSTATE_MAGIC, 8) != 0)
                return ctr_err(err, EINVAL, "vmstate", "%s is not a ctr VM state file", name);
        if (len < sizeof(h))
                return ctr_err(err, EINVAL, "vmstate", "%s is truncated (%zu bytes, less than its header)", name, len);
        memcpy(&h, p, sizeof(h));
        if (h.version != CTR_VMSTATE_VERSION)
                return ctr_err(err, ENOTSUP, "vmstate", "%s is version %u of the format; this ctr reads version %u", name,
                               h.version, CTR_VMSTATE_VERSION);
        if (h.header_size != sizeof(h))
                return ctr_err(err, EINVAL, "vmstate", "%s has a %u byte header, not %zu", name, h.header_size, sizeof(h));
        if (h.file_size != len)
                return ctr_err(err, EINVAL, "vmstate", "%s is %s: its header says %llu bytes, it has %zu", name,
                               h.file_size > len ? "truncated" : "corrupt", (unsigned long long)h.file_size, len);
        if (h.checksum != checksum(&h, p, len))
                return ctr_err(err, EINVAL, "vmstate", "%s is corrupt (checksum mismatch)", name);
        if (!h.ncpus || h.ncpus > 64 || !h.mem_size || h.nsections > 4096)
                return ctr_err(err, EINVAL, "vmstate", "%s names %u vCPUs, %llu bytes of memory and %u sections", name,
                               h.ncpus, (unsigned long long)h.mem_size, h.nsections);
        ret->sec = calloc(h.nsections ? h.nsections : 1, sizeof(*ret->sec));
        if (!ret->sec)
                abort();
        size_t off = sizeof(h);
        for (uint32_t i = 0; i < h.nsections; i++) {
                struct sec_hdr s;
                if (len - off < sizeof(s)) {
                        ctr_vmstate_free(ret);
                        return ctr_err(err, EINVAL, "vmstate", "%s is corrupt: section %u starts past the end", name, i);
                }
                memcpy(&s, p + off, sizeof(s));
                off += sizeof(s);
                if (s.len > len - off || PAD8(s.len) > len - off) {
                        ctr_vmstate_free(ret);
                        return ctr_err(err, EINVAL, "vmstate", "%s is corrupt: section %u runs past the end", name, i);
                }
                ret->sec[i] = (struct ctr_vmstate_section){s.tag, s.index, s.len, p + off};
                off += PAD8(s.len);
        }
        if (off != len) {
                ctr_vmstate_free(ret);
                return ctr_err(err, EINVAL, "vmstate", "%s is corrupt: %zu bytes after its last section", name, len - off);
        }
        ret->nsec = h.nsections;
        ret->h = h;
        return 0;
}

void ctr_vmstate_free(struct ctr_vmstate *s)
{
        free(s->sec);
        s->sec = NULL;
        s->nsec = 0;
}

const struct ctr_vmstate_section *ctr_vmstate_find(const struct ctr_vmstate *s, uint32_t tag, uint32_t index)
{
        for (size_t i = 0; i < s->nsec; i++)
                if (s->sec[i].tag == tag && s->sec[i].index == index)
                        return &s->sec[i];
        return NULL;
}

int ctr_vmstate_load(const char *dir, struct ctr_vmstate *ret, char **ret_text, struct ctr_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/" CTR_VMSTATE_FILE, dir);
        _cleanup_free_ char *mpath = xasprintf("%s/" CTR_VMSTATE_MEMORY, dir);
        char *text = NULL;
        size_t len = 0;
        int r = ctr_read_file(path, 64 << 20, &text, &len);
        if (r < 0)
                return ctr_err_sys(err, -r, "vmstate", "read %s", path);
        if ((r = ctr_vmstate_parse(text, len, path, ret, err)) < 0) {
                free(text);
                return r;
        }
        struct stat st;
        if (stat(mpath, &st) < 0)
                r = ctr_err_sys(err, errno, "vmstate", "the memory file %s", mpath);
        else if ((uint64_t)st.st_size != ret->h.mem_size)
                r = ctr_err(err, EINVAL, "vmstate", "the memory file %s is %lld bytes, the state names %llu", mpath,
                            (long long)st.st_size, (unsigned long long)ret->h.mem_size);
        if (r < 0) {
                ctr_vmstate_free(ret);
                free(text);
                return r;
        }
        *ret_text = text;
        return 0;
}
