/* base/json.c: any text either parses or fails with one line; what parses can be walked with
 * the typed accessors and written back by the generator into text that parses the same. */
#include "fuzz.h"

#include "../../base/json.h"
#include "../../base/util.h"

static void emit(struct ctr_json_gen *g, const ctr_json *v)
{
        switch (ctr_json_type(v)) {
        case CTR_JSON_NULL: ctr_json_null(g); break;
        case CTR_JSON_BOOL: ctr_json_boolean(g, ctr_json_bool(v)); break;
        case CTR_JSON_STRING: ctr_json_str(g, ctr_json_string(v)); break;
        case CTR_JSON_NUMBER:
                if (ctr_json_is_integer(v))
                        ctr_json_int_(g, ctr_json_int(v));
                else if (ctr_json_number_ok(v))
                        ctr_json_dbl(g, ctr_json_double(v));
                else
                        ctr_json_null(g);
                break;
        case CTR_JSON_ARRAY:
                ctr_json_arr_open(g);
                for (size_t i = 0; i < ctr_json_len(v); i++)
                        emit(g, ctr_json_at(v, i));
                ctr_json_arr_close(g);
                break;
        case CTR_JSON_OBJECT:
                ctr_json_obj_open(g);
                for (size_t i = 0; i < ctr_json_len(v); i++) {
                        ctr_json_key_(g, ctr_json_key(v, i));
                        emit(g, ctr_json_at(v, i));
                }
                ctr_json_obj_close(g);
                break;
        }
}

/* The same shape: types and lengths (strings may lose what follows an embedded \u0000). */
static void same(const ctr_json *a, const ctr_json *b)
{
        enum ctr_json_type ta = ctr_json_type(a), tb = ctr_json_type(b);
        if (ta == CTR_JSON_NUMBER && !ctr_json_number_ok(a))
                ta = CTR_JSON_NULL;
        FUZZ_ASSERT(ta == tb, "%s became %s", ctr_json_type_name(a), ctr_json_type_name(b));
        FUZZ_ASSERT(ctr_json_len(a) == ctr_json_len(b), "length %zu became %zu", ctr_json_len(a), ctr_json_len(b));
        if (ta == CTR_JSON_ARRAY || ta == CTR_JSON_OBJECT)
                for (size_t i = 0; i < ctr_json_len(a); i++)
                        same(ctr_json_at(a, i), ctr_json_at(b, i));
        if (ta == CTR_JSON_NUMBER && ctr_json_is_integer(a))
                FUZZ_ASSERT(ctr_json_int(a) == ctr_json_int(b), "integer changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = fuzz_text(data, size);
        struct ctr_error err = {0};
        _cleanup_json_ ctr_json *v = NULL;
        int r = ctr_json_parse(text, &v, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(size & 1);
        emit(g, v);
        const char *out = ctr_json_gen_text(g, NULL);
        _cleanup_json_ ctr_json *back = NULL;
        r = ctr_json_parse(out, &back, &err);
        FUZZ_ASSERT(r == 0, "generated text does not parse: %s\n%s", err.msg, out);
        same(v, back);
        return 0;
}
