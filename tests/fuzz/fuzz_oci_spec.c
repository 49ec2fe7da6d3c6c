/* runtime/oci_spec.c: a bundle's config.json (from containerd, CRI-O, podman or a user), and
 * the process object of `ctr oci exec --process FILE`. */
#include "fuzz.h"

#include "../../base/util.h"
#include "../../runtime/oci_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        struct ctr_oci_spec s = {0};
        int r = ctr_oci_spec_parse(text, "/fuzz/bundle", &s, &err);
        fuzz_check_error(r, &err);
        if (r == 0)
                ctr_oci_spec_free(&s);
        struct ctr_oci_process p = {0};
        err = (struct ctr_error){0};
        r = ctr_oci_process_parse(text, &p, &err);
        fuzz_check_error(r, &err);
        if (r == 0)
                ctr_oci_process_free(&p);
        return 0;
}
