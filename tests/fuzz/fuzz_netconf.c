/* runtime/network.c: ctr.conf, the host's network settings (bridge, subnets, DNS). */
#include "fuzz.h"

#include "../../base/util.h"
#include "../../runtime/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        struct ctr_netconf c = {0};
        int r = ctr_netconf_parse(text, "/etc/ctr/ctr.conf", &c, &err);
        fuzz_check_error(r, &err);
        if (r == 0) {
                FUZZ_ASSERT(c.bridge && *c.bridge, "no bridge name after a successful parse");
                ctr_netconf_free(&c);
        }
        return 0;
}
