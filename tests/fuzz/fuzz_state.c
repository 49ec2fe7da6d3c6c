/* runtime/state.c: /run/ctr/NAME/state.json, read back by every verb. What parses is written
 * and read again unchanged. */
#include "fuzz.h"

#include "../../base/util.h"
#include "../../runtime/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        struct ctr_state s = {0};
        int r = ctr_state_parse(text, &s, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        _cleanup_free_ char *out = ctr_state_to_json(&s);
        struct ctr_state back = {0};
        r = ctr_state_parse(out, &back, &err);
        FUZZ_ASSERT(r == 0, "written state does not parse: %s\n%s", err.msg, out);
        _cleanup_free_ char *again = ctr_state_to_json(&back);
        FUZZ_ASSERT(!strcmp(out, again), "state changed on a second round:\n%s\n---\n%s", out, again);
        ctr_state_free(&back);
        ctr_state_free(&s);
        return 0;
}
