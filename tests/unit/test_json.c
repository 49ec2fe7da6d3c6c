/* Unit tests for runtime/json.c and runtime/error.c: one-line parse errors, typed accessors, the
 * generator's output parsing back, and the error object's formatting and truncation rules. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "../../base/error.h"
#include "../../base/json.h"
#include "../../base/util.h"

Test(json, parse_errors_are_one_line)
{
        static const char *const bad[] = {
                "",
                "{",
                "{\"a\":",
                "{\"a\": 1,}",
                "[1 2]",
                "nul",
                "{\"a\": tru}",
                "\"unterminated",
                "{\"a\": 1}}",
                "{'a': 1}",
                "{\"a\":\n\n\n 1,,\n}",
                "\x01\x02",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_error err = {0};
                ctr_json *v = (ctr_json *)0x1;
                int r = ctr_json_parse(bad[i], &v, &err);
                cr_assert_eq(r, -EINVAL, "case %zu accepted", i);
                cr_assert_eq(err.errnum, EINVAL);
                cr_assert_str_eq(err.op, "json");
                cr_assert_str_not_empty(err.msg, "case %zu: empty message", i);
                cr_assert_null(strchr(err.msg, '\n'), "case %zu: message spans lines: '%s'", i, err.msg);
                cr_assert_eq(v, (ctr_json *)0x1, "case %zu: output written on failure", i);
        }
}

Test(json, accessors)
{
        _cleanup_json_ ctr_json *v = NULL;
        struct ctr_error err = {0};
        const char *doc = "{\"s\": \"str\", \"i\": -42, \"big\": 9007199254740993, \"d\": 2.5, \"t\": true,"
                          " \"f\": false, \"n\": null, \"a\": [1, \"two\", {}], \"o\": {\"k\": \"v\"}}";
        cr_assert_eq(ctr_json_parse(doc, &v, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_json_type(v), CTR_JSON_OBJECT);
        cr_assert_eq(ctr_json_len(v), 9);
        cr_assert_str_eq(ctr_json_key(v, 0), "s");
        cr_assert_str_eq(ctr_json_key(v, 8), "o");
        cr_assert_null(ctr_json_key(v, 9));
        cr_assert_null(ctr_json_at(v, 9));

        cr_assert_str_eq(ctr_json_string(ctr_json_get(v, "s")), "str");
        cr_assert(ctr_json_is_integer(ctr_json_get(v, "i")));
        cr_assert_eq(ctr_json_int(ctr_json_get(v, "i")), -42);
        cr_assert_eq(ctr_json_int(ctr_json_get(v, "big")), 9007199254740993LL, "integers keep 64-bit precision");
        cr_assert_not(ctr_json_is_integer(ctr_json_get(v, "d")));
        cr_assert_float_eq(ctr_json_double(ctr_json_get(v, "d")), 2.5, 1e-12);
        cr_assert_eq(ctr_json_int(ctr_json_get(v, "d")), 2);
        cr_assert_float_eq(ctr_json_double(ctr_json_get(v, "i")), -42.0, 1e-12);
        cr_assert(ctr_json_bool(ctr_json_get(v, "t")));
        cr_assert_not(ctr_json_bool(ctr_json_get(v, "f")));
        cr_assert_eq(ctr_json_type(ctr_json_get(v, "t")), CTR_JSON_BOOL);
        cr_assert_eq(ctr_json_type(ctr_json_get(v, "n")), CTR_JSON_NULL);
        cr_assert_not_null(ctr_json_get(v, "n"), "a present null differs from a missing key");
        cr_assert_null(ctr_json_get(v, "missing"));

        ctr_json *a = ctr_json_get(v, "a");
        cr_assert_eq(ctr_json_type(a), CTR_JSON_ARRAY);
        cr_assert_eq(ctr_json_len(a), 3);
        cr_assert_eq(ctr_json_int(ctr_json_at(a, 0)), 1);
        cr_assert_str_eq(ctr_json_string(ctr_json_at(a, 1)), "two");
        cr_assert_eq(ctr_json_type(ctr_json_at(a, 2)), CTR_JSON_OBJECT);
        cr_assert_null(ctr_json_at(a, 3));
        cr_assert_null(ctr_json_key(a, 0), "arrays have no keys");
        cr_assert_null(ctr_json_get(a, "x"), "arrays have no members by name");
        cr_assert_str_eq(ctr_json_string(ctr_json_get(ctr_json_get(v, "o"), "k")), "v");

        /* Accessors are total: the wrong type gives a neutral value, not a crash. */
        cr_assert_null(ctr_json_string(ctr_json_get(v, "i")));
        cr_assert_eq(ctr_json_int(ctr_json_get(v, "s")), 0);
        cr_assert_not(ctr_json_bool(ctr_json_get(v, "s")));
        cr_assert_eq(ctr_json_len(ctr_json_get(v, "s")), 0);
        cr_assert_null(ctr_json_string(NULL));
        cr_assert_eq(ctr_json_int(NULL), 0);
        cr_assert_eq(ctr_json_len(NULL), 0);
        cr_assert_eq(ctr_json_type(NULL), CTR_JSON_NULL);
        cr_assert_null(ctr_json_get(NULL, "x"));
}

Test(json, type_names)
{
        _cleanup_json_ ctr_json *v = NULL;
        cr_assert_eq(ctr_json_parse("[null, true, 1, \"s\", [], {}]", &v, NULL), 0);
        static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                cr_assert_str_eq(ctr_json_type_name(ctr_json_at(v, i)), names[i]);
        cr_assert_str_eq(ctr_json_type_name(NULL), "null");
}

Test(json, generator_output_parses_back)
{
        static const char tricky[] = "quote\" backslash\\ newline\n tab\t ctl\x01 utf8 \xc3\xa9 slash/";
        for (int pretty = 0; pretty <= 1; pretty++) {
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(pretty);
                ctr_json_obj_open(g);
                ctr_json_key_(g, "str");
                ctr_json_str(g, tricky);
                ctr_json_key_(g, "nullstr");
                ctr_json_str(g, NULL);
                ctr_json_key_(g, "int");
                ctr_json_int_(g, INT64_MIN);
                ctr_json_key_(g, "max");
                ctr_json_int_(g, INT64_MAX);
                ctr_json_key_(g, "dbl");
                ctr_json_dbl(g, 0.25);
                ctr_json_key_(g, "yes");
                ctr_json_boolean(g, true);
                ctr_json_key_(g, "no");
                ctr_json_boolean(g, false);
                ctr_json_key_(g, "nil");
                ctr_json_null(g);
                ctr_json_key_(g, "key with \"quotes\"");
                ctr_json_arr_open(g);
                ctr_json_int_(g, 1);
                ctr_json_obj_open(g);
                ctr_json_obj_close(g);
                ctr_json_arr_open(g);
                ctr_json_arr_close(g);
                ctr_json_arr_close(g);
                ctr_json_obj_close(g);

                size_t len = 0;
                const char *text = ctr_json_gen_text(g, &len);
                cr_assert_eq(strlen(text), len);
                cr_assert_gt(len, 0);
                cr_assert_eq(text[len - 1], '\n', "no trailing newline");
                if (!pretty)
                        cr_assert_eq(strchr(text, '\n'), text + len - 1, "compact output has inner newlines: %s", text);

                _cleanup_json_ ctr_json *v = NULL;
                struct ctr_error err = {0};
                cr_assert_eq(ctr_json_parse(text, &v, &err), 0, "%s\n%s", err.msg, text);
                cr_assert_str_eq(ctr_json_string(ctr_json_get(v, "str")), tricky);
                cr_assert_eq(ctr_json_type(ctr_json_get(v, "nullstr")), CTR_JSON_NULL);
                cr_assert_not_null(ctr_json_get(v, "nullstr"));
                cr_assert_eq(ctr_json_int(ctr_json_get(v, "int")), INT64_MIN);
                cr_assert_eq(ctr_json_int(ctr_json_get(v, "max")), INT64_MAX);
                cr_assert_float_eq(ctr_json_double(ctr_json_get(v, "dbl")), 0.25, 1e-12);
                cr_assert(ctr_json_bool(ctr_json_get(v, "yes")));
                cr_assert_eq(ctr_json_type(ctr_json_get(v, "no")), CTR_JSON_BOOL);
                cr_assert_not(ctr_json_bool(ctr_json_get(v, "no")));
                ctr_json *arr = ctr_json_get(v, "key with \"quotes\"");
                cr_assert_eq(ctr_json_type(arr), CTR_JSON_ARRAY);
                cr_assert_eq(ctr_json_len(arr), 3);
                cr_assert_eq(ctr_json_type(ctr_json_at(arr, 1)), CTR_JSON_OBJECT);
                cr_assert_eq(ctr_json_type(ctr_json_at(arr, 2)), CTR_JSON_ARRAY);
        }
}

/* json.h: asking twice for the same document must not invalidate the first answer
 * (AddressSanitizer sees a use after free; plain builds may not). */
Test(json, generator_text_stays_valid)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        ctr_json_arr_open(g);
        ctr_json_str(g, "some text long enough to matter");
        ctr_json_arr_close(g);
        const char *first = ctr_json_gen_text(g, NULL);
        _cleanup_free_ char *copy = xstrdup(first);
        const char *second = ctr_json_gen_text(g, NULL);
        cr_assert_str_eq(second, copy);
        cr_assert_str_eq(first, copy, "the first text changed after a second call");
}

Test(json, generator_whole_doubles_stay_numbers)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        ctr_json_arr_open(g);
        ctr_json_dbl(g, 2.0);
        ctr_json_dbl(g, 1.5);
        ctr_json_arr_close(g);
        _cleanup_json_ ctr_json *v = NULL;
        cr_assert_eq(ctr_json_parse(ctr_json_gen_text(g, NULL), &v, NULL), 0);
        cr_assert_eq(ctr_json_type(ctr_json_at(v, 0)), CTR_JSON_NUMBER);
        cr_assert_float_eq(ctr_json_double(ctr_json_at(v, 0)), 2.0, 1e-12);
        cr_assert_float_eq(ctr_json_double(ctr_json_at(v, 1)), 1.5, 1e-12);
}

Test(json, generator_misuse_aborts, .signal = SIGABRT)
{
        struct ctr_json_gen *g = ctr_json_gen_new(false);
        /* Object keys must be strings: a number in key position is a programming error. */
        ctr_json_obj_open(g);
        ctr_json_int_(g, 1);
}

Test(json, free_null_is_fine)
{
        ctr_json_free(NULL);
        ctr_json_gen_free(NULL);
}

/* --- error object ------------------------------------------------------------------------- */

Test(error, err_fills_and_returns)
{
        struct ctr_error err = {0};
        cr_assert_eq(ctr_err(&err, ENOENT, "lookup", "no such %s", "container"), -ENOENT);
        cr_assert_eq(err.errnum, ENOENT);
        cr_assert_str_eq(err.op, "lookup");
        cr_assert_str_eq(err.msg, "no such container");
        cr_assert_eq(ctr_err(NULL, EPERM, "x", "y"), -EPERM, "NULL err still returns -errnum");
        cr_assert_eq(ctr_err(&err, 0, NULL, "zero"), -EIO, "errnum 0 becomes EIO");
        cr_assert_eq(err.errnum, EIO);
        cr_assert_str_eq(err.op, "");
}

Test(error, err_sys_appends_strerror)
{
        struct ctr_error err = {0};
        cr_assert_eq(ctr_err_sys(&err, EACCES, "mount", "bind %s", "/a"), -EACCES);
        char want[256];
        snprintf(want, sizeof(want), "bind /a: %s", strerror(EACCES));
        cr_assert_str_eq(err.msg, want);
        cr_assert_eq(ctr_err_sys(&err, EACCES, "mount", "%s", ""), -EACCES);
        cr_assert_str_eq(err.msg, strerror(EACCES), "an empty reason gets no leading ': '");
}

Test(error, prefix)
{
        struct ctr_error err = {0};
        ctr_err(&err, EINVAL, "config", "unknown key 'x'");
        ctr_err_prefix(&err, "%s", "/etc/ctr/config.json");
        cr_assert_str_eq(err.msg, "/etc/ctr/config.json: unknown key 'x'");
        cr_assert_eq(err.errnum, EINVAL);
        cr_assert_str_eq(err.op, "config");
        ctr_err_prefix(NULL, "ignored");
}

Test(error, long_messages_truncate_keeping_the_start)
{
        struct ctr_error err = {0};
        char longs[1000];
        memset(longs, 'r', sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = 0;
        ctr_err(&err, EINVAL, "a-very-long-operation-name-that-goes-on-and-on-well-past-sixty-four-chars", "%s", longs);
        cr_assert_eq(strlen(err.op), sizeof(err.op) - 1);
        cr_assert_eq(strlen(err.msg), sizeof(err.msg) - 1);

        ctr_err(&err, EINVAL, "x", "REASON");
        char ctx[600];
        memset(ctx, 'c', sizeof(ctx) - 1);
        ctx[sizeof(ctx) - 1] = 0;
        ctr_err_prefix(&err, "%s", ctx);
        cr_assert_lt(strlen(err.msg), sizeof(err.msg));
        cr_assert_eq(err.msg[0], 'c');

        ctr_err(&err, EINVAL, "x", "%s", longs);
        ctr_err_prefix(&err, "ctx");
        cr_assert_eq(strncmp(err.msg, "ctx: rrr", 8), 0);
        cr_assert_lt(strlen(err.msg), sizeof(err.msg));
}

static char *nested(size_t depth, const char *open, const char *close, const char *prefix)
{
        size_t pl = strlen(prefix), ol = strlen(open), cl = strlen(close);
        char *s = malloc(pl + depth * (ol + cl) + 1), *p = s;
        cr_assert_not_null(s);
        p = stpcpy(p, prefix);
        for (size_t i = 0; i < depth; i++)
                p = stpcpy(p, open);
        for (size_t i = 0; i < depth; i++)
                p = stpcpy(p, close);
        return s;
}

Test(json, depth_limit)
{
        struct ctr_error err = {0};
        ctr_json *v = NULL;
        /* At the limit parses; one more is one line, before yajl sees it. */
        _cleanup_free_ char *ok = nested(CTR_JSON_MAX_DEPTH, "[", "]", "");
        cr_assert_eq(ctr_json_parse(ok, &v, &err), 0, "%s", err.msg);
        ctr_json_free(TAKE_PTR(v));
        /* {"a":{"a":...1...}} one level too deep. */
        _cleanup_free_ char *opens = nested(CTR_JSON_MAX_DEPTH + 1, "{\"a\":", "", "");
        _cleanup_free_ char *closes = nested(CTR_JSON_MAX_DEPTH + 1, "", "}", "");
        _cleanup_free_ char *deep1 = xasprintf("%s1%s", opens, closes);
        cr_assert_eq(ctr_json_parse(deep1, &v, &err), -EINVAL);
        cr_assert_str_eq(err.op, "json");
        cr_assert_not_null(strstr(err.msg, "nested deeper than 64 levels"), "%s", err.msg);
        cr_assert_null(v);

        /* 200,000 deep (the crash-safety report's config.json) fails fast, not after minutes. */
        _cleanup_free_ char *huge = nested(200000, "[", "]", "");
        uint64_t t0 = ctr_now_ms();
        cr_assert_eq(ctr_json_parse(huge, &v, &err), -EINVAL);
        cr_assert_lt(ctr_now_ms() - t0, 1000);

        /* Brackets in strings do not count; a quote in a comment does not hide the nesting. */
        _cleanup_free_ char *instr = xasprintf("[\"%s\\\"[\"]", huge);
        cr_assert_eq(ctr_json_parse(instr, &v, &err), 0, "%s", err.msg);
        ctr_json_free(TAKE_PTR(v));
        _cleanup_free_ char *comment = nested(CTR_JSON_MAX_DEPTH + 1, "[", "]", "/* \" */ ");
        cr_assert_eq(ctr_json_parse(comment, &v, &err), -EINVAL);
        _cleanup_free_ char *line = nested(CTR_JSON_MAX_DEPTH + 1, "[", "]", "// \"\n");
        cr_assert_eq(ctr_json_parse(line, &v, &err), -EINVAL);
        _cleanup_free_ char *cstr = nested(CTR_JSON_MAX_DEPTH, "[", "]", "/* [[[[ */ ");
        cr_assert_eq(ctr_json_parse(cstr, &v, &err), 0, "%s", err.msg);
        ctr_json_free(TAKE_PTR(v));
}

/* Found by fuzz_config and fuzz_netconf: a key or value quoted from a file could carry a newline
 * (or a terminal escape) into the one-line error. */
Test(error, quoted_control_bytes_stay_on_one_line)
{
        struct ctr_error err = {0};
        ctr_err(&err, EINVAL, "config", "key 'limits.memory': '%s' is not a size", "\nc=d\t\x1b[2J\x7f");
        cr_assert_str_eq(err.msg, "key 'limits.memory': '\\nc=d\\t\\x1b[2J\\x7f' is not a size");
        ctr_err_sys(&err, ENOENT, "config", "read %s", "/a\nb");
        cr_assert_str_eq(err.msg, "read /a\\nb: No such file or directory");
        ctr_err(&err, EINVAL, "ctr.conf", "unknown key 'x'");
        ctr_err_prefix(&err, "%s", "/etc/ctr\r/ctr.conf");
        cr_assert_str_eq(err.msg, "/etc/ctr\\x0d/ctr.conf: unknown key 'x'");
        /* A message of nothing but control bytes still fits, cut short. */
        char ctl[400];
        memset(ctl, '\n', sizeof(ctl) - 1);
        ctl[sizeof(ctl) - 1] = 0;
        ctr_err(&err, EINVAL, "x", "%s", ctl);
        cr_assert_lt(strlen(err.msg), sizeof(err.msg));
        cr_assert_null(strchr(err.msg, '\n'));
        cr_assert_eq(strncmp(err.msg, "\\n\\n", 4), 0);
}

/* Found by fuzz_state: 18446744073709551615 is a double to yajl, and casting it was undefined. */
Test(json, int_of_a_huge_number_saturates)
{
        struct ctr_error err = {0};
        _cleanup_json_ ctr_json *v = NULL;
        cr_assert_eq(ctr_json_parse("[18446744073709551615, -1e300, 1e999, 2.9, -2.9, 9223372036854775807]", &v, &err), 0,
                     "%s", err.msg);
        cr_assert_eq(ctr_json_int(ctr_json_at(v, 0)), INT64_MAX);
        cr_assert_eq(ctr_json_int(ctr_json_at(v, 1)), INT64_MIN);
        cr_assert_eq(ctr_json_int(ctr_json_at(v, 3)), 2);
        cr_assert_eq(ctr_json_int(ctr_json_at(v, 4)), -2);
        cr_assert_eq(ctr_json_int(ctr_json_at(v, 5)), INT64_MAX);
        (void)ctr_json_int(ctr_json_at(v, 2)); /* whatever yajl made of it, no undefined cast */
}
