/* Memos: derived data kept so that work giving the same answer every time is done once (a
 * compiled seccomp filter, a filesystem's answer to an idmap probe). One file per key under a
 * directory; the key is the SHA-256 of everything the answer depends on, so a changed input is
 * a different key, never a stale hit. */
#pragma once

#include <stddef.h>

#include "hash.h"

/* kind: a short word naming what is kept ("seccomp"); key: 64 hex digits. */
/* The payload kept under kind and key, malloc'd in *ret (NUL-terminated for convenience).
 * -ENOENT when there is none; -EBADMSG when the file is not a whole, intact entry of ours (wrong
 * owner or mode, another kind or key, a length or checksum that disagree: truncated, damaged or
 * planted), which the caller treats as a miss and puts again. The payload is still outside
 * input: its reader checks its shape. */
int ctr_memo_get(const char *dir, const char *kind, const char key[65], size_t max, void **ret, size_t *ret_len);
/* Keep data under kind and key (dir made 0700 when missing), temp-then-rename without fsync: a
 * torn entry after a crash fails its checksum and is rebuilt. Each put removes the oldest entry
 * of its kind when there are more than CTR_MEMO_MAX. */
#define CTR_MEMO_MAX 32
int ctr_memo_put(const char *dir, const char *kind, const char key[65], const void *data, size_t len);
/* Where a memo of kind and key lives (for tests and for removing one). Caller frees. */
char *ctr_memo_path(const char *dir, const char *kind, const char key[65]);
