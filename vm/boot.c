/* The x86 boot protocol (Documentation/arch/x86/boot.rst) as far as a 64-bit entry needs it:
 * parsing a bzImage's setup header or an uncompressed ELF vmlinux's load segments, and the zero
 * page (struct boot_params) with loader fields, e820 map, command line and initrd. Plain memory. */
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
                return ctr_err(err, ENOEXEC, "kernel", "neither a bzImage nor an ELF vmlinux (no boot sector signature and HdrS header)");
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

static uint64_t get64(const uint8_t *p, size_t off)
{
        return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

bool ctr_elf_is(const void *image, size_t len)
{
        return len >= 4 && !memcmp(image, "\177ELF", 4);
}

/* An ELF64 executable for x86-64 as the kernel's linker script makes it: PT_LOAD segments at
 * their physical addresses (p_paddr), the entry point (phys_startup_64) physical too. Every
 * offset and size is checked against the file before anything is copied. */
int ctr_elf_parse(const void *image, size_t len, struct ctr_elf *ret, struct ctr_error *err)
{
        const uint8_t *p = image;
        memset(ret, 0, sizeof(*ret));
        if (!ctr_elf_is(image, len) || len < 64)
                return ctr_err(err, ENOEXEC, "kernel", "not an ELF file");
        if (p[4] != 2 || p[5] != 1)
                return ctr_err(err, ENOEXEC, "kernel", "the ELF kernel is not 64-bit little endian");
        if (get16(p, 16) != 2 || get16(p, 18) != 62)
                return ctr_err(err, ENOEXEC, "kernel", "the ELF file is not an x86-64 executable (type %u, machine %u)",
                               get16(p, 16), get16(p, 18));
        uint64_t phoff = get64(p, 32);
        unsigned phentsize = get16(p, 54), phnum = get16(p, 56);
        if (phentsize != 56 || phnum == 0 || phoff > len || (uint64_t)phnum * 56 > len - phoff)
                return ctr_err(err, ENOEXEC, "kernel", "the ELF kernel's program headers are missing or truncated");
        ret->entry = get64(p, 24);
        bool entry_ok = false;
        for (unsigned i = 0; i < phnum; i++) {
                const uint8_t *ph = p + phoff + (size_t)i * 56;
                if (get32(ph, 0) != 1) /* PT_LOAD */
                        continue;
                if (ret->nseg == CTR_ELF_MAX_SEGS)
                        return ctr_err(err, E2BIG, "kernel", "the ELF kernel has more than %d load segments",
                                       CTR_ELF_MAX_SEGS);
                struct ctr_elf_seg sg = {.offset = get64(ph, 8), .paddr = get64(ph, 24), .filesz = get64(ph, 32),
                                         .memsz = get64(ph, 40)};
                if (sg.offset > len || sg.filesz > len - sg.offset)
                        return ctr_err(err, ENOEXEC, "kernel", "ELF segment %u lies outside the file (truncated?)", i);
                if (sg.filesz > sg.memsz || sg.paddr + sg.memsz < sg.paddr)
                        return ctr_err(err, ENOEXEC, "kernel", "ELF segment %u has inconsistent sizes", i);
                /* Below 1 MiB are the zero page, page tables and MP table the VMM writes. */
                if (sg.paddr < CTR_VM_KERNEL)
                        return ctr_err(err, ENOEXEC, "kernel",
                                       "ELF segment %u loads at physical 0x%llx, below 1 MiB (not a vmlinux?)", i,
                                       (unsigned long long)sg.paddr);
                if (ret->entry >= sg.paddr && ret->entry < sg.paddr + sg.memsz)
                        entry_ok = true;
                if (sg.paddr + sg.memsz > ret->end)
                        ret->end = sg.paddr + sg.memsz;
                ret->seg[ret->nseg++] = sg;
        }
        if (ret->nseg == 0)
                return ctr_err(err, ENOEXEC, "kernel", "the ELF kernel has no load segments");
        if (!entry_ok)
                return ctr_err(err, ENOEXEC, "kernel",
                               "the ELF entry point 0x%llx is not a physical address inside a load segment",
                               (unsigned long long)ret->entry);
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
