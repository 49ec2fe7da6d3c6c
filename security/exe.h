/* The CVE-2019-5736 defence: verbs that create or enter containers run from a sealed memfd copy
 * of the ctr binary, so no process inside can reach a writable ctr through /proc/PID/exe. */
#pragma once

#include "../base/error.h"

/* Re-execute argv from a sealed copy of /proc/self/exe unless already running from one. Returns
 * only on failure (-errno, err filled); on success the process image is replaced. */
int ctr_exe_reexec_sealed(char **argv, struct ctr_error *err);
/* True when the running image is such a sealed copy. */
int ctr_exe_is_sealed(void);
