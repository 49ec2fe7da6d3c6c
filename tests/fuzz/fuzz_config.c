/* runtime/config.c: a container's config.json. Whatever parses and validates is written back
 * and read again to the same text (the key table's promise: what is accepted is read back). */
#include "fuzz.h"

#include "../../base/util.h"
#include "../../runtime/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        struct ctr_config c = {0};
        int r = ctr_config_parse(text, &c, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        r = ctr_config_validate(&c, &err);
        fuzz_check_error(r, &err);
        _cleanup_free_ char *out = ctr_config_to_json(&c);
        struct ctr_config back = {0};
        r = ctr_config_parse(out, &back, &err);
        FUZZ_ASSERT(r == 0, "written config does not parse: %s\n%s", err.msg, out);
        _cleanup_free_ char *again = ctr_config_to_json(&back);
        FUZZ_ASSERT(!strcmp(out, again), "config changed on a second round:\n%s\n---\n%s", out, again);
        ctr_config_free(&back);
        ctr_config_free(&c);
        return 0;
}
