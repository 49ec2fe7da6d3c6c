/* cgroup v2 device control: v2 has no devices controller, so a BPF_PROG_TYPE_CGROUP_DEVICE
 * program built from an allow list is attached to the container's cgroup before init is born.
 * Everything not listed is denied, mknod included. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/util.h"
#include "cgroups.h"

/* What every container needs: the standard character nodes, the tty, ptys and ptmx. */
static const struct ctr_cg_device default_devices[] = {
        {'c', 1, 3, CTR_DEV_RWM},   /* null */
        {'c', 1, 5, CTR_DEV_RWM},   /* zero */
        {'c', 1, 7, CTR_DEV_RWM},   /* full */
        {'c', 1, 8, CTR_DEV_RWM},   /* random */
        {'c', 1, 9, CTR_DEV_RWM},   /* urandom */
        {'c', 5, 0, CTR_DEV_RWM},   /* tty */
        {'c', 5, 1, CTR_DEV_RWM},   /* console */
        {'c', 5, 2, CTR_DEV_RWM},   /* ptmx */
        {'c', 136, -1, CTR_DEV_RWM}, /* pts/N: the console and exec -t ptys */
};

const struct ctr_cg_device *ctr_cgroup_default_devices(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(default_devices);
        return default_devices;
}

static int parse_num(const char *s, size_t len, int64_t *ret)
{
        if (len == 1 && *s == '*') {
                *ret = -1;
                return 0;
        }
        if (len == 0 || len > 10)
                return -EINVAL;
        int64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        if (v > 0xfffff)
                return -ERANGE;
        *ret = v;
        return 0;
}

int ctr_cgroup_device_parse(const char *spec, struct ctr_cg_device *ret)
{
        /* "c 10:200 rwm", as cgroup v1's devices.allow and LXC write it. */
        const char *p = spec;
        struct ctr_cg_device d = {0};
        if (*p != 'c' && *p != 'b' && *p != 'a')
                return -EINVAL;
        d.type = *p++;
        if (*p++ != ' ')
                return -EINVAL;
        const char *colon = strchr(p, ':'), *space = colon ? strchr(colon, ' ') : NULL;
        if (!colon || !space || parse_num(p, colon - p, &d.major) < 0 ||
            parse_num(colon + 1, space - colon - 1, &d.minor) < 0)
                return -EINVAL;
        p = space + 1;
        if (!*p)
                return -EINVAL;
        for (; *p; p++) {
                unsigned bit = *p == 'r' ? CTR_DEV_READ : *p == 'w' ? CTR_DEV_WRITE : *p == 'm' ? CTR_DEV_MKNOD : 0;
                if (!bit || (d.access & bit))
                        return -EINVAL;
                d.access |= bit;
        }
        if (d.type == 'a' && (d.major != -1 || d.minor != -1))
                return -EINVAL;
        *ret = d;
        return 0;
}

void ctr_cgroup_device_format(const struct ctr_cg_device *d, char *buf, size_t len)
{
        char maj[16] = "*", min[16] = "*";
        if (d->major >= 0)
                snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
        if (d->minor >= 0)
                snprintf(min, sizeof(min), "%lld", (long long)d->minor);
        snprintf(buf, len, "%c %s:%s %s%s%s", d->type, maj, min, d->access & CTR_DEV_READ ? "r" : "",
                 d->access & CTR_DEV_WRITE ? "w" : "", d->access & CTR_DEV_MKNOD ? "m" : "");
}

/* --- the program ---------------------------------------------------------------------------- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static unsigned bpf_access(unsigned a)
{
        return (a & CTR_DEV_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0) | (a & CTR_DEV_READ ? BPF_DEVCG_ACC_READ : 0) |
               (a & CTR_DEV_WRITE ? BPF_DEVCG_ACC_WRITE : 0);
}

size_t ctr_cgroup_device_program(const struct ctr_cg_device *rules, size_t n, struct bpf_insn *out, size_t cap)
{
        size_t k = 0;
#define EMIT(i)                                                                                      \
        do {                                                                                         \
                if (k < cap)                                                                         \
                        out[k] = (i);                                                                \
                k++;                                                                                 \
        } while (0)
        /* r1 = struct bpf_cgroup_dev_ctx {access_type = access << 16 | type; major; minor}. */
        EMIT(LDX_W(BPF_REG_2, BPF_REG_1, 0));
        EMIT(MOV32_REG(BPF_REG_3, BPF_REG_2));
        EMIT(ALU32_IMM(BPF_AND, BPF_REG_3, 0xffff)); /* r3 = type */
        EMIT(MOV32_REG(BPF_REG_4, BPF_REG_2));
        EMIT(ALU32_IMM(BPF_RSH, BPF_REG_4, 16)); /* r4 = access */
        EMIT(LDX_W(BPF_REG_5, BPF_REG_1, 4));    /* r5 = major */
        EMIT(LDX_W(BPF_REG_6, BPF_REG_1, 8));    /* r6 = minor */
        for (size_t r = 0; r < n; r++) {
                const struct ctr_cg_device *d = &rules[r];
                /* Each rule is a block; every mismatch jumps past its end to the next rule. */
                size_t len = (d->type != 'a') + (d->major >= 0) + (d->minor >= 0) + 5;
                size_t end = k + len;
                if (d->type != 'a')
                        EMIT(JNE_IMM(BPF_REG_3, d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK,
                                     (int16_t)(end - k - 1)));
                if (d->major >= 0)
                        EMIT(JNE_IMM(BPF_REG_5, (int32_t)d->major, (int16_t)(end - k - 1)));
                if (d->minor >= 0)
                        EMIT(JNE_IMM(BPF_REG_6, (int32_t)d->minor, (int16_t)(end - k - 1)));
                /* Every access asked for must be allowed by this rule. */
                EMIT(MOV32_REG(BPF_REG_7, BPF_REG_4));
                EMIT(ALU32_IMM(BPF_AND, BPF_REG_7, (int32_t)~bpf_access(d->access)));
                EMIT(JNE_IMM(BPF_REG_7, 0, (int16_t)(end - k - 1)));
                EMIT(MOV64_IMM(BPF_REG_0, 1));
                EMIT(EXIT_INSN());
        }
        EMIT(MOV64_IMM(BPF_REG_0, 0));
        EMIT(EXIT_INSN());
#undef EMIT
        return k;
}

int ctr_cgroup_device_filter(int cgroup_fd, const struct ctr_cg_device *extra, size_t n_extra,
                             struct ctr_error *err)
{
        size_t n_def, n;
        const struct ctr_cg_device *def = ctr_cgroup_default_devices(&n_def);
        _cleanup_free_ struct ctr_cg_device *rules = calloc(n_def + n_extra, sizeof(*rules));
        if (!rules)
                return ctr_err(err, ENOMEM, "devices", "allocate rules");
        memcpy(rules, def, n_def * sizeof(*rules));
        if (n_extra)
                memcpy(rules + n_def, extra, n_extra * sizeof(*rules));
        n = n_def + n_extra;

        size_t count = ctr_cgroup_device_program(rules, n, NULL, 0);
        _cleanup_free_ struct bpf_insn *insns = calloc(count, sizeof(*insns));
        if (!insns)
                return ctr_err(err, ENOMEM, "devices", "allocate program");
        ctr_cgroup_device_program(rules, n, insns, count);

        union bpf_attr attr;
        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)count;
        attr.license = (uint64_t)(uintptr_t) "GPL";
        int prog = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
        if (prog < 0) {
                /* Load again with the verifier's log, only to say why. */
                int e = errno;
                _cleanup_free_ char *log = calloc(1, 1 << 16);
                if (log) {
                        attr.log_buf = (uint64_t)(uintptr_t)log;
                        attr.log_size = 1 << 16;
                        attr.log_level = 1;
                        if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) >= 0)
                                log[0] = 0;
                }
                const char *why = "";
                if (log && *log) {
                        char *end = log + strlen(log);
                        while (end > log && end[-1] == '\n')
                                *--end = 0;
                        char *nl = strrchr(log, '\n');
                        why = nl ? nl + 1 : log;
                }
                return ctr_err_sys(err, e, "devices", "load the device filter%s%s", *why ? ": " : "", why);
        }
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = cgroup_fd;
        attr.attach_bpf_fd = prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        /* ALLOW_MULTI: a manager inside (systemd) may add its own filters, which can only narrow. */
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        int r = syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
        int e = errno;
        close(prog); /* the attachment holds the program from here on */
        if (r < 0)
                return ctr_err_sys(err, e, "devices", "attach the device filter");
        return 0;
}
