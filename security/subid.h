/* Subordinate id ranges for user-namespaced containers: /etc/subuid and /etc/subgid parsing, the
 * range ctr adds for its owner when the files have none, and first-fit allocation of a container's
 * 65536 ids among the owner's ranges without overlapping the ranges other containers hold. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"

/* The user whose subordinate ranges ctr draws from (also matched as the number 0). */
#define CTR_SUBID_OWNER "root"
/* What ctr writes for its owner when a file has no entry for it: above the ranges useradd hands
 * out to people (100000 + 65536 per user) and far below 2^31, as LXD does. */
#define CTR_SUBID_BASE 1000000u
#define CTR_SUBID_COUNT 1000000000u
/* Ids per container: a whole 16-bit uid space, as distributions expect. */
#define CTR_IDMAP_COUNT 65536u

struct ctr_idrange {
        uint32_t base;
        uint32_t count;
};

/* The owner's ranges in the text of a subuid/subgid file (name is the file, for messages). Blank
 * lines and # comments are skipped; any other line must be NAME:START:COUNT with decimal
 * numbers, a nonzero count and START+COUNT within 32 bits, or the parse fails naming the line. */
int ctr_subid_parse(const char *text, const char *name, struct ctr_idrange **ret, size_t *ret_n,
                    struct ctr_error *err);

/* The range ctr adds for its owner to a file whose text has none: CTR_SUBID_BASE/COUNT, moved
 * above every existing entry (of any user) it would overlap. -ENOSPC when no room is left. */
int ctr_subid_own_range(const char *text, const char *name, struct ctr_idrange *ret, struct ctr_error *err);

/* Lowest base of count ids inside one of the delegated ranges that overlaps none of used.
 * -ENOSPC when there is none. */
int ctr_subid_alloc(const struct ctr_idrange *deleg, size_t n_deleg, const struct ctr_idrange *used, size_t n_used,
                    uint32_t count, uint32_t *ret_base);

/* [base, base+count) lies inside one of the ranges. */
int ctr_subid_contains(const struct ctr_idrange *r, size_t n, uint32_t base, uint32_t count);

/* The owner's ranges of the file at path; when it has none, ctr's own range is appended to it
 * first (write-temp-then-rename, under the shadow-utils lock file path.lock). */
int ctr_subid_load(const char *path, struct ctr_idrange **ret, size_t *ret_n, struct ctr_error *err);

/* The files used: CTR_SUBUID and CTR_SUBGID when set (a test and debugging knob), else
 * /etc/subuid and /etc/subgid. */
const char *ctr_subid_path(int gid);
