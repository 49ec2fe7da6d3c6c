/* Capabilities of a container's processes (libcap): a default set for system containers, the
 * config's add/drop lists on top, applied to init and to every exec in two steps around the
 * switch of user (the bounding set needs CAP_SETPCAP, which a non-root user no longer has). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"

/* One bit per capability number. */
typedef uint64_t ctr_capmask;

/* What a system container keeps (systemd-nspawn's set plus NET_ADMIN and IPC_LOCK, as LXC):
 * everything else — SYS_MODULE, SYS_RAWIO, SYS_TIME, MAC_ADMIN, MAC_OVERRIDE, SYSLOG, WAKE_ALARM,
 * BLOCK_SUSPEND, SYS_PACCT, AUDIT_READ, BPF, PERFMON, CHECKPOINT_RESTORE — is dropped. */
ctr_capmask ctr_caps_default(void);
/* "SYS_ADMIN", "CAP_SYS_ADMIN", "sys_admin" or "ALL" into a mask; -EINVAL naming the bad one. */
int ctr_caps_parse(const char *name, ctr_capmask *ret, struct ctr_error *err);
/* The default set with adds, then drops, applied (names already checked). */
int ctr_caps_compute(char *const *add, char *const *drop, ctr_capmask *ret, struct ctr_error *err);
/* "chown,dac_override,..." (for info and tests); caller frees. */
char *ctr_caps_format(ctr_capmask m);
/* Drop everything outside m from the bounding set and clear the ambient set (as root). */
/* This process's effective set has cap. */
bool ctr_caps_effective(int cap);
int ctr_caps_bound(ctr_capmask m, struct ctr_error *err);
/* Effective, permitted and inheritable = m for root; for other users the kernel already
 * cleared them at setuid. */
int ctr_caps_set(ctr_capmask m, struct ctr_error *err);
/* The OCI runtime's separate sets: effective, permitted, inheritable as given, then each
 * ambient capability raised (it must be permitted and inheritable). */
int ctr_caps_set_sets(ctr_capmask eff, ctr_capmask perm, ctr_capmask inh, ctr_capmask amb, struct ctr_error *err);
