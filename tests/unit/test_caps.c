/* Unit tests for security/caps.c: names, the default set, add/drop, formatting. */
#include <criterion/criterion.h>

#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "../../security/caps.h"

#define BIT(c) ((ctr_capmask)1 << (c))

Test(caps, names)
{
        ctr_capmask m;
        struct ctr_error err = {0};
        const char *good[] = {"SYS_ADMIN", "CAP_SYS_ADMIN", "sys_admin", "cap_sys_admin"};
        for (size_t i = 0; i < 4; i++) {
                cr_assert_eq(ctr_caps_parse(good[i], &m, &err), 0, "%s: %s", good[i], err.msg);
                cr_assert_eq(m, BIT(CAP_SYS_ADMIN), "%s", good[i]);
        }
        cr_assert_eq(ctr_caps_parse("ALL", &m, &err), 0);
        cr_assert(m & BIT(CAP_SYS_MODULE) && m & BIT(CAP_CHOWN));
        const char *bad[] = {"FOO", "", "CAP_", "SYS ADMIN", "sys_admin2", "42", "NET_RAWW"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert_lt(ctr_caps_parse(bad[i], &m, &err), 0, "'%s' accepted", bad[i]);
                cr_assert(strstr(err.msg, "is not a capability"), "%s", err.msg);
        }
}

Test(caps, default_set_and_changes)
{
        ctr_capmask d = ctr_caps_default(), m;
        int dropped[] = {CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_SYSLOG,
                         CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_SYS_PACCT, CAP_AUDIT_READ, CAP_BPF, CAP_PERFMON};
        for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
                cr_assert_not(d & BIT(dropped[i]), "capability %d is in the default set", dropped[i]);
        int kept[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_BOOT, CAP_SETUID, CAP_MKNOD, CAP_NET_RAW};
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
                cr_assert(d & BIT(kept[i]), "capability %d is not in the default set", kept[i]);
        char *add[] = {"SYS_TIME", NULL}, *drop[] = {"NET_RAW", "sys_admin", NULL};
        struct ctr_error err = {0};
        cr_assert_eq(ctr_caps_compute(add, drop, &m, &err), 0);
        cr_assert(m & BIT(CAP_SYS_TIME));
        cr_assert_not(m & (BIT(CAP_NET_RAW) | BIT(CAP_SYS_ADMIN)));
        char *all[] = {"ALL", NULL};
        cr_assert_eq(ctr_caps_compute(NULL, all, &m, &err), 0);
        cr_assert_eq(m, 0, "drop ALL leaves nothing");
        char *bad[] = {"BOGUS", NULL};
        cr_assert_lt(ctr_caps_compute(bad, NULL, &m, &err), 0);
        char *s = ctr_caps_format(BIT(CAP_CHOWN) | BIT(CAP_SYS_ADMIN));
        cr_assert_str_eq(s, "chown,sys_admin");
        free(s);
}
