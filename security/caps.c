/* Capability sets: parsing names with libcap, the default set, applying it. */
#define _GNU_SOURCE
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../base/util.h"

#define BIT(c) ((ctr_capmask)1 << (c))

ctr_capmask ctr_caps_default(void)
{
        static const int keep[] = {
                CAP_CHOWN,       CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,         CAP_FSETID,
                CAP_KILL,        CAP_SETGID,       CAP_SETUID,          CAP_SETPCAP,        CAP_LINUX_IMMUTABLE,
                CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN, CAP_NET_RAW,        CAP_IPC_LOCK,
                CAP_IPC_OWNER,   CAP_SYS_CHROOT,   CAP_SYS_PTRACE,      CAP_SYS_ADMIN,      CAP_SYS_BOOT,
                CAP_SYS_NICE,    CAP_SYS_RESOURCE, CAP_SYS_TTY_CONFIG,  CAP_MKNOD,          CAP_LEASE,
                CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL, CAP_SETFCAP,
        };
        ctr_capmask m = 0;
        for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
                m |= BIT(keep[i]);
        return m;
}

static int last_cap(void)
{
        static int last = -1;
        if (last < 0) {
                last = cap_max_bits() - 1;
                if (last < 0 || last > 63)
                        last = CAP_LAST_CAP;
        }
        return last;
}

int ctr_caps_parse(const char *name, ctr_capmask *ret, struct ctr_error *err)
{
        char buf[64];
        const char *n = name;
        if (!strncasecmp(n, "CAP_", 4))
                n += 4;
        if (!strcasecmp(n, "ALL")) {
                *ret = last_cap() >= 63 ? ~(ctr_capmask)0 : BIT(last_cap() + 1) - 1;
                return 0;
        }
        if (!*n || strlen(n) + 5 > sizeof(buf))
                return ctr_err(err, EINVAL, "capabilities", "'%s' is not a capability (like SYS_ADMIN or ALL)", name);
        snprintf(buf, sizeof(buf), "cap_%s", n);
        for (char *p = buf; *p; p++)
                *p = tolower((unsigned char)*p);
        cap_value_t v;
        if (cap_from_name(buf, &v) < 0 || v < 0 || v > 63 || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_") != strlen(n))
                return ctr_err(err, EINVAL, "capabilities", "'%s' is not a capability (like SYS_ADMIN or ALL)", name);
        *ret = BIT(v);
        return 0;
}

int ctr_caps_compute(char *const *add, char *const *drop, ctr_capmask *ret, struct ctr_error *err)
{
        ctr_capmask m = ctr_caps_default(), x;
        for (char *const *a = add; a && *a; a++) {
                if (ctr_caps_parse(*a, &x, err) < 0)
                        return -EINVAL;
                m |= x;
        }
        for (char *const *d = drop; d && *d; d++) {
                if (ctr_caps_parse(*d, &x, err) < 0)
                        return -EINVAL;
                m &= ~x;
        }
        *ret = m;
        return 0;
}

char *ctr_caps_format(ctr_capmask m)
{
        size_t cap = 1024, len = 0;
        char *out = calloc(1, cap);
        if (!out)
                abort();
        for (int c = 0; c <= last_cap(); c++) {
                if (!(m & BIT(c)))
                        continue;
                char *n = cap_to_name(c);
                len += snprintf(out + len, cap - len, "%s%s", len ? "," : "", n && !strncmp(n, "cap_", 4) ? n + 4 : n);
                cap_free(n);
        }
        return out;
}

bool ctr_caps_effective(int cap)
{
        cap_t cur = cap_get_proc();
        cap_flag_value_t v = CAP_CLEAR;
        if (cur) {
                cap_get_flag(cur, cap, CAP_EFFECTIVE, &v);
                cap_free(cur);
        }
        return v == CAP_SET;
}

int ctr_caps_bound(ctr_capmask m, struct ctr_error *err)
{
        for (int c = 0; c <= last_cap(); c++)
                if (!(m & BIT(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return ctr_err_sys(err, errno, "capabilities", "drop capability %d from the bounding set", c);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return ctr_err_sys(err, errno, "capabilities", "clear the ambient set");
        return 0;
}

int ctr_caps_set(ctr_capmask m, struct ctr_error *err)
{
        if (getuid() != 0)
                return 0;
        cap_t caps = cap_init(), cur = cap_get_proc();
        if (!caps || !cur) {
                cap_free(caps);
                cap_free(cur);
                return ctr_err_sys(err, errno, "capabilities", "cap_init");
        }
        for (int c = 0; c <= last_cap(); c++) {
                cap_flag_value_t have = CAP_CLEAR;
                /* What ctr itself lacks (a host that runs it without SYS_RESOURCE, say) it cannot give. */
                if (!(m & BIT(c)) || cap_get_flag(cur, c, CAP_PERMITTED, &have) < 0 || have != CAP_SET)
                        continue;
                cap_value_t v = c;
                cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
        }
        int r = cap_set_proc(caps) < 0 ? ctr_err_sys(err, errno, "capabilities", "set the process's capabilities") : 0;
        cap_free(caps);
        cap_free(cur);
        return r;
}

int ctr_caps_set_sets(ctr_capmask eff, ctr_capmask perm, ctr_capmask inh, ctr_capmask amb, struct ctr_error *err)
{
        cap_t caps = cap_init(), cur = cap_get_proc();
        if (!caps || !cur) {
                cap_free(caps);
                cap_free(cur);
                return ctr_err_sys(err, errno, "capabilities", "cap_init");
        }
        /* What this process does not hold (a host without CAP_SYS_RESOURCE) it cannot give. */
        ctr_capmask have = 0;
        for (int c = 0; c <= last_cap(); c++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(cur, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
                        have |= BIT(c);
        }
        cap_free(cur);
        eff &= have, perm &= have, inh &= have, amb &= have;
        const struct {
                ctr_capmask m;
                cap_flag_t f;
        } sets[] = {{eff, CAP_EFFECTIVE}, {perm, CAP_PERMITTED}, {inh, CAP_INHERITABLE}};
        for (int c = 0; c <= last_cap(); c++)
                for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
                        if (sets[i].m & BIT(c)) {
                                cap_value_t v = c;
                                cap_set_flag(caps, sets[i].f, 1, &v, CAP_SET);
                        }
        int r = cap_set_proc(caps) < 0 ? ctr_err_sys(err, errno, "capabilities", "set the process's capabilities") : 0;
        cap_free(caps);
        for (int c = 0; r == 0 && c <= last_cap(); c++)
                if ((amb & BIT(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        r = ctr_err_sys(err, errno, "capabilities", "raise ambient capability %d", c);
        return r;
}
