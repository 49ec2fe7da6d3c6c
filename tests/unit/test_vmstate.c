/* Unit tests for the live snapshot's state file (vm/vmstate.c): a round trip of sections, and
 * the checks that refuse a file before anything is restored from it: truncated, bad magic, a
 * newer version, a flipped byte, a memory file of the wrong size. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/vm.h"
#include "unit.h"

static void sample(struct ctr_vmstate_buf *b)
{
        struct ctr_vms_platform p = {.uart_lcr = 3, .rtc_index = 0x0b, .pci_addr = 0x80000800u, .ndev = 2};
        uint8_t regs[144];
        for (unsigned i = 0; i < sizeof(regs); i++)
                regs[i] = (uint8_t)i;
        ctr_vmstate_begin(b, 256u << 20, 2);
        ctr_vmstate_add(b, CTR_VMS_PLATFORM, 0, &p, sizeof(p));
        ctr_vmstate_add(b, CTR_VMS_REGS, 0, regs, sizeof(regs));
        ctr_vmstate_add(b, CTR_VMS_REGS, 1, regs, 5); /* odd length: padded */
        ctr_vmstate_add(b, CTR_VMS_MSRS, 1, NULL, 0);  /* empty */
        ctr_vmstate_finish(b);
}

Test(vmstate, round_trip)
{
        struct ctr_vmstate_buf b;
        sample(&b);
        cr_assert_eq(b.len % 8, 0, "sections are padded to 8 bytes");
        struct ctr_vmstate s;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_vmstate_parse(b.data, b.len, "t", &s, &err), 0, "%s", err.msg);
        cr_assert_eq(s.h.version, CTR_VMSTATE_VERSION);
        cr_assert_eq(s.h.mem_size, 256u << 20);
        cr_assert_eq(s.h.ncpus, 2);
        cr_assert_eq(s.nsec, 4);
        const struct ctr_vmstate_section *x = ctr_vmstate_find(&s, CTR_VMS_PLATFORM, 0);
        cr_assert_not_null(x);
        cr_assert_eq(x->len, sizeof(struct ctr_vms_platform));
        const struct ctr_vms_platform *p = (const void *)x->data;
        cr_assert_eq(p->pci_addr, 0x80000800u);
        cr_assert_eq(p->ndev, 2);
        x = ctr_vmstate_find(&s, CTR_VMS_REGS, 1);
        cr_assert_not_null(x);
        cr_assert_eq(x->len, 5);
        cr_assert_eq(memcmp(x->data, "\x00\x01\x02\x03\x04", 5), 0);
        cr_assert_eq(ctr_vmstate_find(&s, CTR_VMS_REGS, 0)->data[143], 143);
        cr_assert_eq(ctr_vmstate_find(&s, CTR_VMS_MSRS, 1)->len, 0);
        cr_assert_null(ctr_vmstate_find(&s, CTR_VMS_REGS, 2), "no third vCPU");
        ctr_vmstate_free(&s);
        ctr_vmstate_buf_free(&b);
}

Test(vmstate, rejects_truncated)
{
        struct ctr_vmstate_buf b;
        sample(&b);
        struct ctr_vmstate s;
        struct ctr_error err = {0};
        size_t cuts[] = {0, 4, 20, sizeof(struct ctr_vmstate_header), b.len - 8, b.len - 1};
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
                memset(&err, 0, sizeof(err));
                cr_assert_lt(ctr_vmstate_parse(b.data, cuts[i], "t", &s, &err), 0, "cut at %zu", cuts[i]);
                cr_assert_neq(err.errnum, 0);
                cr_assert(cuts[i] < 8 || strstr(err.msg, "truncated"), "cut at %zu: %s", cuts[i], err.msg);
        }
        ctr_vmstate_buf_free(&b);
}

Test(vmstate, rejects_bad_magic_and_newer_version)
{
        struct ctr_vmstate_buf b;
        sample(&b);
        struct ctr_vmstate s;
        struct ctr_error err = {0};
        b.data[0] ^= 0xff;
        cr_assert_lt(ctr_vmstate_parse(b.data, b.len, "t", &s, &err), 0);
        cr_assert(strstr(err.msg, "not a ctr VM state file"), "%s", err.msg);
        b.data[0] ^= 0xff;
        struct ctr_vmstate_header h;
        memcpy(&h, b.data, sizeof(h));
        h.version = CTR_VMSTATE_VERSION + 1;
        memcpy(b.data, &h, sizeof(h));
        memset(&err, 0, sizeof(err));
        cr_assert_lt(ctr_vmstate_parse(b.data, b.len, "t", &s, &err), 0);
        cr_assert_eq(err.errnum, ENOTSUP);
        cr_assert(strstr(err.msg, "version 2"), "%s", err.msg);
        ctr_vmstate_buf_free(&b);
}

Test(vmstate, rejects_corrupt)
{
        struct ctr_vmstate_buf b;
        sample(&b);
        struct ctr_vmstate s;
        struct ctr_error err = {0};
        b.data[b.len - 20] ^= 0x01;
        cr_assert_lt(ctr_vmstate_parse(b.data, b.len, "t", &s, &err), 0);
        cr_assert(strstr(err.msg, "checksum"), "%s", err.msg);
        b.data[b.len - 20] ^= 0x01;
        /* The header is covered too: another vCPU count. */
        struct ctr_vmstate_header h;
        memcpy(&h, b.data, sizeof(h));
        h.ncpus = 3;
        memcpy(b.data, &h, sizeof(h));
        memset(&err, 0, sizeof(err));
        cr_assert_lt(ctr_vmstate_parse(b.data, b.len, "t", &s, &err), 0);
        cr_assert(strstr(err.msg, "checksum"), "%s", err.msg);
        h.ncpus = 2;
        memcpy(b.data, &h, sizeof(h));
        /* A section length that runs past the end, with the checksum made right again. */
        struct ctr_vmstate_buf c;
        ctr_vmstate_begin(&c, 1u << 20, 1);
        ctr_vmstate_add(&c, CTR_VMS_REGS, 0, "abcdefgh", 8);
        uint64_t big = 1u << 20;
        memcpy(c.data + sizeof(struct ctr_vmstate_header) + 8, &big, 8);
        ctr_vmstate_finish(&c);
        memset(&err, 0, sizeof(err));
        cr_assert_lt(ctr_vmstate_parse(c.data, c.len, "t", &s, &err), 0);
        cr_assert(strstr(err.msg, "past the end"), "%s", err.msg);
        ctr_vmstate_buf_free(&c);
        /* Trailing bytes: the header's size no longer matches. */
        uint8_t *longer = calloc(1, b.len + 8);
        memcpy(longer, b.data, b.len);
        memset(&err, 0, sizeof(err));
        cr_assert_lt(ctr_vmstate_parse(longer, b.len + 8, "t", &s, &err), 0);
        cr_assert(strstr(err.msg, "corrupt"), "%s", err.msg);
        free(longer);
        ctr_vmstate_buf_free(&b);
}

Test(vmstate, load_checks_the_memory_file)
{
        char dir[64], path[128];
        unit_tmpdir_make(dir, sizeof(dir), "vmstate");
        struct ctr_vmstate_buf b;
        ctr_vmstate_begin(&b, 1u << 20, 1);
        ctr_vmstate_add(&b, CTR_VMS_REGS, 0, "x", 1);
        ctr_vmstate_finish(&b);
        snprintf(path, sizeof(path), "%s/" CTR_VMSTATE_FILE, dir);
        int fd = open(path, O_WRONLY | O_CREAT, 0600);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
        close(fd);
        struct ctr_vmstate s;
        char *text = NULL;
        struct ctr_error err = {0};
        cr_assert_lt(ctr_vmstate_load(dir, &s, &text, &err), 0, "no memory file");
        snprintf(path, sizeof(path), "%s/" CTR_VMSTATE_MEMORY, dir);
        fd = open(path, O_WRONLY | O_CREAT, 0600);
        cr_assert_eq(ftruncate(fd, 4096), 0);
        memset(&err, 0, sizeof(err));
        cr_assert_lt(ctr_vmstate_load(dir, &s, &text, &err), 0, "memory file too small");
        cr_assert(strstr(err.msg, "4096 bytes"), "%s", err.msg);
        cr_assert_eq(ftruncate(fd, 1u << 20), 0);
        close(fd);
        memset(&err, 0, sizeof(err));
        cr_assert_eq(ctr_vmstate_load(dir, &s, &text, &err), 0, "%s", err.msg);
        cr_assert_eq(s.nsec, 1);
        ctr_vmstate_free(&s);
        free(text);
        ctr_vmstate_buf_free(&b);
        unit_tmpdir_remove(dir);
}
