/* The x86 boot protocol (Documentation/arch/x86/boot.rst) as far as a 64-bit entry needs it:
 * parsing a bzImage's setup header, and the zero page (struct boot_params) with the copied
 * header, loader fields, e820 memory map, command line and initrd. Plain memory only. */
#include "vm.h"

#include <errno.h>
#include <string.h>

#define HDR_MAGIC 0x53726448 /* "HdrS" */
#define XLF_KERNEL_64 0x1
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80

static uint16_t get16(const uint8_t *p, size_t off)
{
        return p[off] | p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
        return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
        p[off] = v;
        p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
        put16(p, off, v);
        put16(p, off + 2, v >> 16);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
        put32(p, off, v);
        put32(p, off + 4, v >> 32);
}

int ctr_bzimage_parse(const void *image, size_t len, struct ctr_bzimage *ret, struct ctr_error *err)
{
        const uint8_t *p = image;
        memset(ret, 0, sizeof(*ret));
        if (len < 0x268 || get16(p, 0x1fe) != 0xaa55 || get32(p, 0x202) != HDR_MAGIC)
                return ctr_err(err, ENOEXEC, "kernel", "not a bzImage (no boot sector signature and HdrS header)");
        ret->version = get16(p, 0x206);
        ret->setup_sects = p[0x1f1] ? p[0x1f1] : 4;
        ret->xloadflags = get16(p, 0x236);
        ret->init_size = get32(p, 0x260);
        ret->initrd_addr_max = get32(p, 0x22c);
        ret->cmdline_size = get32(p, 0x238);
        ret->kernel_offset = (size_t)(ret->setup_sects + 1) * 512;
        if (ret->version < 0x20c)
                return ctr_err(err, ENOEXEC, "kernel", "boot protocol %u.%02u is too old (2.12 has the 64-bit entry)",
                               ret->version >> 8, ret->version & 0xff);
        if (!(ret->xloadflags & XLF_KERNEL_64))
                return ctr_err(err, ENOEXEC, "kernel", "the bzImage has no 64-bit entry point");
        if (ret->kernel_offset >= len)
                return ctr_err(err, ENOEXEC, "kernel", "the bzImage is truncated (setup is %u sectors)", ret->setup_sects);
        return 0;
}

void ctr_vm_zero_page(uint8_t *zp, const void *image, uint64_t mem_size, uint32_t cmdline_gpa, uint32_t initrd_gpa,
                      uint32_t initrd_len)
{
        memset(zp, 0, 4096);
        if (image) {
                /* The setup header runs from 0x1f1 to 0x202 plus the jump offset at 0x201. */
                const uint8_t *p = image;
                size_t end = 0x202 + p[0x201];
                memcpy(zp + 0x1f1, p + 0x1f1, end - 0x1f1);
        } else {
                put16(zp, 0x1fe, 0xaa55);
                put32(zp, 0x202, HDR_MAGIC);
                put16(zp, 0x206, 0x20c);
        }
        put16(zp, 0x1fa, 0xffff); /* vid_mode: normal */
        zp[0x210] = 0xff;         /* type_of_loader: undefined */
        zp[0x211] |= LOADED_HIGH | CAN_USE_HEAP;
        put16(zp, 0x224, 0xfe00); /* heap_end_ptr */
        put32(zp, 0x228, cmdline_gpa);
        put32(zp, 0x218, initrd_gpa);
        put32(zp, 0x21c, initrd_len);
        /* e820: low RAM, the EBDA/BIOS hole, RAM from 1 MiB up. */
        struct {
                uint64_t addr, size;
                uint32_t type;
        } map[] = {{0, 0x9fc00, 1}, {0x9fc00, 0x100000 - 0x9fc00, 2}, {0x100000, mem_size - 0x100000, 1}};
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
                put64(zp, 0x2d0 + i * 20, map[i].addr);
                put64(zp, 0x2d0 + i * 20 + 8, map[i].size);
                put32(zp, 0x2d0 + i * 20 + 16, map[i].type);
        }
        zp[0x1e8] = sizeof(map) / sizeof(map[0]);
}
