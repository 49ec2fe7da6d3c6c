/* The guest agent's frame codec (vm/agent.h): headers, the incremental reader and the EXEC payload.
 * libc only: the static guest program (vm/guest/ctr-vminit.c) links this file as it is. */
#include "agent.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void put_u16(uint8_t *p, uint16_t v)
{
        p[0] = v & 0xff;
        p[1] = v >> 8;
}

static void put_u32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t get_u16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ctr_agent_hdr_put(uint8_t out[8], uint8_t type, uint8_t chan, uint32_t len)
{
        out[0] = type;
        out[1] = chan;
        put_u16(out + 2, CTR_AGENT_MAGIC);
        put_u32(out + 4, len);
}

int ctr_agent_hdr_get(const uint8_t in[8], struct ctr_agent_hdr *ret)
{
        struct ctr_agent_hdr h = {
                .type = in[0],
                .chan = in[1],
                .magic = get_u16(in + 2),
                .len = get_u32(in + 4),
        };
        if (h.magic != CTR_AGENT_MAGIC || h.len > CTR_AGENT_MAX_PAYLOAD)
                return -EPROTO;
        *ret = h;
        return 0;
}

size_t ctr_agent_reader_feed(struct ctr_agent_reader *r, const void *data, size_t n)
{
        const uint8_t *p = data;
        size_t taken = 0;

        if (r->have < 8) {
                size_t k = 8 - r->have < n ? 8 - r->have : n;
                memcpy(r->buf + r->have, p, k);
                r->have += k;
                taken += k;
                if (r->have < 8)
                        return taken;
        }
        struct ctr_agent_hdr h;
        /* A bad header takes nothing more: its length cannot be trusted, next() reports it. */
        if (ctr_agent_hdr_get(r->buf, &h) < 0)
                return taken;
        size_t want = 8 + (size_t)h.len - r->have;
        size_t k = want < n - taken ? want : n - taken;
        memcpy(r->buf + r->have, p + taken, k);
        r->have += k;
        return taken + k;
}

int ctr_agent_reader_next(struct ctr_agent_reader *r, struct ctr_agent_hdr *hdr, const uint8_t **payload)
{
        if (r->have < 8)
                return 0;
        struct ctr_agent_hdr h;
        if (ctr_agent_hdr_get(r->buf, &h) < 0)
                return -EPROTO;
        if (r->have < 8 + (size_t)h.len)
                return 0;
        /* Emptying the buffer consumes the frame while its bytes stay in place: the payload pointer
         * stays valid until the next feed() writes over it, which is the documented lifetime. */
        r->have = 0;
        *hdr = h;
        *payload = r->buf + 8;
        return 1;
}

void ctr_agent_reader_skip(struct ctr_agent_reader *r)
{
        if (r->have == 0)
                return;
        memmove(r->buf, r->buf + 1, r->have - 1);
        r->have--;
}

/* Appends s and its NUL; false when it does not fit. */
static bool put_str(uint8_t *buf, size_t cap, size_t *off, const char *s)
{
        size_t n = strlen(s) + 1;
        if (n > cap - *off)
                return false;
        memcpy(buf + *off, s, n);
        *off += n;
        return true;
}

int ctr_agent_exec_payload(uint8_t *buf, size_t cap, uint32_t flags, uint16_t rows, uint16_t cols, uint32_t uid,
                           uint32_t gid, const char *cwd, char *const *argv, char *const *env)
{
        /* An empty string terminates a list on the wire, so it cannot be an element. */
        if (!argv || !argv[0])
                return -EINVAL;
        for (size_t i = 0; argv[i]; i++)
                if (!argv[i][0])
                        return -EINVAL;
        for (size_t i = 0; env && env[i]; i++)
                if (!env[i][0])
                        return -EINVAL;

        if (cap > INT_MAX)
                cap = INT_MAX;
        if (cap < 16)
                return -E2BIG;
        put_u32(buf, flags);
        put_u16(buf + 4, rows);
        put_u16(buf + 6, cols);
        put_u32(buf + 8, uid);
        put_u32(buf + 12, gid);
        size_t off = 16;
        if (!put_str(buf, cap, &off, cwd ? cwd : ""))
                return -E2BIG;
        for (size_t i = 0; argv[i]; i++)
                if (!put_str(buf, cap, &off, argv[i]))
                        return -E2BIG;
        if (!put_str(buf, cap, &off, ""))
                return -E2BIG;
        for (size_t i = 0; env && env[i]; i++)
                if (!put_str(buf, cap, &off, env[i]))
                        return -E2BIG;
        if (!put_str(buf, cap, &off, ""))
                return -E2BIG;
        return (int)off;
}

/* Counts the strings of a ""-terminated list starting at *off and moves *off past its terminator;
 * -EPROTO when the payload ends first. */
static int count_list(const uint8_t *p, size_t len, size_t *off, size_t *ret)
{
        size_t n = 0;
        for (;;) {
                const uint8_t *nul = *off < len ? memchr(p + *off, 0, len - *off) : NULL;
                if (!nul)
                        return -EPROTO;
                size_t slen = (size_t)(nul - (p + *off));
                *off += slen + 1;
                if (slen == 0)
                        break;
                n++;
        }
        *ret = n;
        return 0;
}

int ctr_agent_exec_parse(const uint8_t *p, size_t len, struct ctr_agent_exec *ret)
{
        if (len < 16)
                return -EPROTO;
        size_t off = 16;
        const uint8_t *nul = memchr(p + off, 0, len - off);
        if (!nul)
                return -EPROTO;
        off = (size_t)(nul - p) + 1;
        size_t argc, envc;
        int r = count_list(p, len, &off, &argc);
        if (r < 0)
                return r;
        r = count_list(p, len, &off, &envc);
        if (r < 0)
                return r;
        if (argc == 0 || off != len)
                return -EPROTO;

        /* One block: the pointer arrays, then a copy of the strings they point into. */
        size_t ptrs = (argc + 1 + envc + 1) * sizeof(char *);
        char **mem = malloc(ptrs + (len - 16));
        if (!mem)
                return -ENOMEM;
        char *s = (char *)mem + ptrs;
        memcpy(s, p + 16, len - 16);

        *ret = (struct ctr_agent_exec){
                .flags = get_u32(p),
                .rows = get_u16(p + 4),
                .cols = get_u16(p + 6),
                .uid = get_u32(p + 8),
                .gid = get_u32(p + 12),
                .argv = mem,
                .env = mem + argc + 1,
                .mem = mem,
        };
        ret->cwd = s;
        s += strlen(s) + 1;
        for (size_t i = 0; i < argc; i++, s += strlen(s) + 1)
                ret->argv[i] = s;
        ret->argv[argc] = NULL;
        s++;
        for (size_t i = 0; i < envc; i++, s += strlen(s) + 1)
                ret->env[i] = s;
        ret->env[envc] = NULL;
        return 0;
}

void ctr_agent_exec_free(struct ctr_agent_exec *e)
{
        free(e->mem);
        e->mem = NULL;
        e->argv = e->env = NULL;
        e->cwd = NULL;
}
