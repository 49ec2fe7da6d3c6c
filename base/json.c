/* yajl behind ctr's json.h: tree parsing with a one-line error, and a generator that aborts on
 * misuse (generation errors are bugs, not runtime conditions). */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Checked before yajl sees the text: its tree is freed (and walked by ctr) recursively, so a
 * few hundred kilobytes of '[' would exhaust the stack or take minutes. Strings and the comments
 * yajl_tree_parse allows are skipped, so a bracket in either does not count, and a quote in a
 * comment cannot hide the nesting after it. */
static int check_depth(const char *text, struct ctr_error *err)
{
        unsigned depth = 0;
        for (const char *p = text; *p; p++) {
                switch (*p) {
                case '"':
                        for (p++; *p && *p != '"'; p++)
                                if (*p == '\\' && !*++p)
                                        return 0;
                        if (!*p)
                                return 0; /* unterminated: yajl says so */
                        break;
                case '/':
                        if (p[1] == '/') {
                                while (p[1] && p[1] != '\n')
                                        p++;
                        } else if (p[1] == '*') {
                                const char *e = strstr(p + 2, "*/");
                                if (!e)
                                        return 0;
                                p = e + 1;
                        }
                        break;
                case '[':
                case '{':
                        if (++depth > CTR_JSON_MAX_DEPTH)
                                return ctr_err(err, EINVAL, "json", "nested deeper than %d levels (at byte %zu)",
                                               CTR_JSON_MAX_DEPTH, (size_t)(p - text));
                        break;
                case ']':
                case '}':
                        if (depth)
                                depth--;
                        break;
                }
        }
        return 0;
}

int ctr_json_parse(const char *text, ctr_json **ret, struct ctr_error *err)
{
        char ebuf[256] = "";
        if (check_depth(text, err) < 0)
                return -EINVAL;
        yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
        if (!v) {
                /* yajl's message spans lines (it quotes the input); keep the first. */
                char *nl = strchr(ebuf, '\n');
                if (nl)
                        *nl = 0;
                return ctr_err(err, EINVAL, "json", "%s", *ebuf ? ebuf : "invalid JSON");
        }
        *ret = v;
        return 0;
}

void ctr_json_free(ctr_json *v)
{
        if (v)
                yajl_tree_free(v);
}

enum ctr_json_type ctr_json_type(const ctr_json *v)
{
        if (!v)
                return CTR_JSON_NULL;
        switch (v->type) {
        case yajl_t_string: return CTR_JSON_STRING;
        case yajl_t_number: return CTR_JSON_NUMBER;
        case yajl_t_object: return CTR_JSON_OBJECT;
        case yajl_t_array: return CTR_JSON_ARRAY;
        case yajl_t_true:
        case yajl_t_false: return CTR_JSON_BOOL;
        default: return CTR_JSON_NULL;
        }
}

const char *ctr_json_type_name(const ctr_json *v)
{
        static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
        return names[ctr_json_type(v)];
}

size_t ctr_json_len(const ctr_json *v)
{
        if (YAJL_IS_OBJECT(v))
                return v->u.object.len;
        if (YAJL_IS_ARRAY(v))
                return v->u.array.len;
        return 0;
}

const char *ctr_json_key(const ctr_json *obj, size_t i)
{
        return YAJL_IS_OBJECT(obj) && i < obj->u.object.len ? obj->u.object.keys[i] : NULL;
}

ctr_json *ctr_json_at(const ctr_json *v, size_t i)
{
        if (YAJL_IS_OBJECT(v))
                return i < v->u.object.len ? v->u.object.values[i] : NULL;
        if (YAJL_IS_ARRAY(v))
                return i < v->u.array.len ? v->u.array.values[i] : NULL;
        return NULL;
}

ctr_json *ctr_json_get(const ctr_json *obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (!strcmp(obj->u.object.keys[i], key))
                        return obj->u.object.values[i];
        return NULL;
}

const char *ctr_json_string(const ctr_json *v)
{
        return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool ctr_json_bool(const ctr_json *v)
{
        return YAJL_IS_TRUE(v);
}

bool ctr_json_is_integer(const ctr_json *v)
{
        return YAJL_IS_INTEGER(v);
}

bool ctr_json_number_ok(const ctr_json *v)
{
        return YAJL_IS_INTEGER(v) || (YAJL_IS_DOUBLE(v) && isfinite(YAJL_GET_DOUBLE(v)));
}

int64_t ctr_json_int(const ctr_json *v)
{
        if (YAJL_IS_INTEGER(v))
                return YAJL_GET_INTEGER(v);
        if (YAJL_IS_DOUBLE(v)) {
                /* Outside int64_t the cast is undefined: saturate (yajl gives integers past
                 * INT64_MAX to us as doubles). NaN is 0. */
                double d = YAJL_GET_DOUBLE(v);
                if (d >= 0x1p63)
                        return INT64_MAX;
                if (d <= -0x1p63)
                        return INT64_MIN;
                return d == d ? (int64_t)d : 0;
        }
        return 0;
}

double ctr_json_double(const ctr_json *v)
{
        if (YAJL_IS_DOUBLE(v))
                return YAJL_GET_DOUBLE(v);
        if (YAJL_IS_INTEGER(v))
                return (double)YAJL_GET_INTEGER(v);
        return 0;
}

struct ctr_json_gen {
        yajl_gen g;
        char *text;
        size_t text_src_len; /* length of yajl's buffer when text was made */
};

static void check(yajl_gen_status s)
{
        if (s != yajl_gen_status_ok)
                abort();
}

struct ctr_json_gen *ctr_json_gen_new(bool pretty)
{
        struct ctr_json_gen *g = calloc(1, sizeof(*g));
        if (!g || !(g->g = yajl_gen_alloc(NULL)))
                abort();
        yajl_gen_config(g->g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g->g, yajl_gen_indent_string, "  ");
        return g;
}

void ctr_json_gen_free(struct ctr_json_gen *g)
{
        if (!g)
                return;
        yajl_gen_free(g->g);
        free(g->text);
        free(g);
}

void ctr_json_obj_open(struct ctr_json_gen *g) { check(yajl_gen_map_open(g->g)); }
void ctr_json_obj_close(struct ctr_json_gen *g) { check(yajl_gen_map_close(g->g)); }
void ctr_json_arr_open(struct ctr_json_gen *g) { check(yajl_gen_array_open(g->g)); }
void ctr_json_arr_close(struct ctr_json_gen *g) { check(yajl_gen_array_close(g->g)); }

void ctr_json_key_(struct ctr_json_gen *g, const char *k)
{
        check(yajl_gen_string(g->g, (const unsigned char *)k, strlen(k)));
}

void ctr_json_str(struct ctr_json_gen *g, const char *s)
{
        if (!s)
                check(yajl_gen_null(g->g));
        else
                check(yajl_gen_string(g->g, (const unsigned char *)s, strlen(s)));
}

void ctr_json_int_(struct ctr_json_gen *g, int64_t v) { check(yajl_gen_integer(g->g, v)); }

void ctr_json_dbl(struct ctr_json_gen *g, double v)
{
        /* yajl prints 1.5 as 1.5 but 2.0 as 2: fine for readers, and it keeps the type a number. */
        check(yajl_gen_double(g->g, v));
}

void ctr_json_boolean(struct ctr_json_gen *g, bool v) { check(yajl_gen_bool(g->g, v)); }
void ctr_json_null(struct ctr_json_gen *g) { check(yajl_gen_null(g->g)); }

const char *ctr_json_gen_text(struct ctr_json_gen *g, size_t *ret_len)
{
        const unsigned char *buf;
        size_t len;
        check(yajl_gen_get_buf(g->g, &buf, &len));
        if (g->text && g->text_src_len == len) {
                if (ret_len)
                        *ret_len = strlen(g->text);
                return g->text;
        }
        g->text_src_len = len;
        free(g->text);
        g->text = malloc(len + 2);
        if (!g->text)
                abort();
        memcpy(g->text, buf, len);
        if (len == 0 || g->text[len - 1] != '\n')
                g->text[len++] = '\n';
        g->text[len] = 0;
        if (ret_len)
                *ret_len = len;
        return g->text;
}
