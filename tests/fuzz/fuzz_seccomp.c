/* security/seccomp.c: an OCI/Docker seccomp profile (a file, or config.json's
 * linux.seccomp), parsed and compiled to BPF as create does; nothing is loaded. */
#include "fuzz.h"

#include "../../base/json.h"
#include "../../base/util.h"
#include "../../security/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        _cleanup_json_ ctr_json *doc = NULL;
        if (ctr_json_parse(text, &doc, &err) < 0)
                return 0;
        struct ctr_seccomp_spec s = {.profile = "/fuzz/profile.json", .object = doc, .caps = size & 1 ? ~0ULL : 0};
        struct ctr_seccomp_prog p = {0};
        int r = ctr_seccomp_compile(&s, &p, &err);
        fuzz_check_error(r, &err);
        if (r == 0)
                ctr_seccomp_prog_free(&p);
        return 0;
}
