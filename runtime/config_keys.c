/* config.json's keys as one table, and the walkers over it: parse (strict), serialise, get and
 * set by dotted name, each key's check, and the CLI flags that map to keys. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../cgroups/cgroups.h"
#include "../security/caps.h"
#include "../security/seccomp.h"

/* A structured key's handlers. who names the key in messages ("key 'mounts'" or "--volume"). */
struct ctr_key_custom {
        int (*parse)(const ctr_json *v, struct ctr_config *c, struct ctr_error *err);
        void (*gen)(const struct ctr_config *c, struct ctr_json_gen *g);
        /* `ctr config set`; NULL: the key is not set from text. */
        int (*set)(struct ctr_config *c, const char *who, const char *text, struct ctr_error *err);
        /* The flag, where it differs from set (adds to a list). */
        int (*flag)(struct ctr_config *c, const char *who, const char *text, struct ctr_error *err);
        /* `ctr config get`; NULL: the value as compact JSON. */
        char *(*get)(const struct ctr_config *c);
        int (*check)(const struct ctr_config *c, struct ctr_error *err);
};

union kval {
        char *s;
        bool b;
        int64_t i;
        uint64_t u;
        double d;
};

/* --- field access ------------------------------------------------------------------------- */

static void *field(const struct ctr_config_key *k, const struct ctr_config *c)
{
        return (char *)c + k->off;
}

static int64_t int_of(const struct ctr_config_key *k, const struct ctr_config *c)
{
        /* Every integer key is non-negative: a 4-byte field is read signed so that a negative
         * int fails the range check instead of passing as a large unsigned. */
        switch (k->size) {
        case sizeof(bool): return *(bool *)field(k, c);
        case sizeof(int32_t): return *(int32_t *)field(k, c);
        default: return *(int64_t *)field(k, c);
        }
}

static void int_put(const struct ctr_config_key *k, struct ctr_config *c, int64_t v)
{
        switch (k->size) {
        case sizeof(bool): *(bool *)field(k, c) = v; break;
        case sizeof(int32_t): *(int32_t *)field(k, c) = (int32_t)v; break;
        default: *(int64_t *)field(k, c) = v; break;
        }
}

static bool is_unset(const struct ctr_config_key *k, const struct ctr_config *c)
{
        switch (k->type) {
        case CTR_KEY_STRING: return !*(char **)field(k, c);
        case CTR_KEY_INT: return (k->flags & CTR_KEY_NULLABLE) && !int_of(k, c);
        case CTR_KEY_SIZE: return (k->flags & CTR_KEY_NULLABLE) && !*(uint64_t *)field(k, c);
        case CTR_KEY_DOUBLE: return (k->flags & CTR_KEY_NULLABLE) && *(double *)field(k, c) == 0;
        default: return false;
        }
}

/* --- checks: each range and rule once, for every way a value comes in ----------------------- */

static int check_val(const struct ctr_config_key *k, const char *who, const union kval *v, struct ctr_error *err)
{
        char a[32], b[32], x[32];
        switch (k->type) {
        case CTR_KEY_STRING:
                if (v->s && k->check && !k->check(v->s))
                        return ctr_err(err, EINVAL, "config", "%s: '%s' is not %s", who, v->s, k->want);
                return 0;
        case CTR_KEY_INT:
                if (v->i < k->min || v->i > k->max)
                        return ctr_err(err, ERANGE, "config", "%s: %lld is out of range %lld..%lld", who,
                                       (long long)v->i, (long long)k->min, (long long)k->max);
                return 0;
        case CTR_KEY_SIZE:
                if (v->u < k->smin || v->u > k->smax) {
                        ctr_format_size(v->u, x, sizeof(x));
                        ctr_format_size(k->smin, a, sizeof(a));
                        ctr_format_size(k->smax, b, sizeof(b));
                        return ctr_err(err, ERANGE, "config", "%s: %s is out of range %s..%s", who, x, a, b);
                }
                return 0;
        case CTR_KEY_DOUBLE:
                if (isnan(v->d) || v->d < k->dmin || v->d > k->dmax)
                        return ctr_err(err, ERANGE, "config", "%s: %g is out of range %g..%g", who, v->d, k->dmin, k->dmax);
                return 0;
        default: return 0;
        }
}

static int check_item(const struct ctr_config_key *k, const char *who, const char *s, struct ctr_error *err)
{
        if (k->check && !k->check(s))
                return ctr_err(err, EINVAL, "config", "%s: '%s' is not %s", who, s, k->want);
        if (k->item && k->item(s, err) < 0) {
                ctr_err_prefix(err, "%s", who);
                return -EINVAL;
        }
        return 0;
}

static char *key_who(const struct ctr_config_key *k)
{
        return xasprintf("key '%s'", k->name);
}

static const char *enum_names(const struct ctr_config_key *k, char *buf, size_t len)
{
        size_t n = 0;
        buf[0] = 0;
        for (size_t i = 0; k->names[i]; i++)
                n += snprintf(buf + n, n < len ? len - n : 0, "%s\"%s\"", !i ? "" : k->names[i + 1] ? ", " : " or ",
                              k->names[i]);
        return buf;
}

/* --- text in (set, flags, defaults) -------------------------------------------------------- */

static bool null_word(const struct ctr_config_key *k, const char *s)
{
        return (k->flags & CTR_KEY_NULLABLE) &&
               (!strcmp(s, "null") || (!strcmp(s, "none") && !(k->flags & CTR_KEY_NONE_VALUE)));
}

/* 0: *v holds the value; 1: the text unsets the key; < 0: not a value of the key's type. */
static int text_val(const struct ctr_config_key *k, const char *who, const char *s, union kval *v,
                    struct ctr_error *err)
{
        char *end, names[128];
        *v = (union kval){0};
        if (null_word(k, s) || (k->type == CTR_KEY_STRING && k->unset && !strcmp(s, k->unset)))
                return 1; /* unset */
        switch (k->type) {
        case CTR_KEY_STRING: v->s = (char *)s; break;
        case CTR_KEY_BOOL:
                if (strcmp(s, "true") && strcmp(s, "false"))
                        return ctr_err(err, EINVAL, "config", "%s: '%s' is not true or false", who, s);
                v->b = !strcmp(s, "true");
                break;
        case CTR_KEY_INT:
                errno = 0;
                v->i = strtoll(s, &end, 10);
                if (end == s || *end)
                        return ctr_err(err, EINVAL, "config", "%s: '%s' is not an integer", who, s);
                if (errno == ERANGE)
                        return ctr_err(err, ERANGE, "config", "%s: %s is out of range %lld..%lld", who, s,
                                       (long long)k->min, (long long)k->max);
                break;
        case CTR_KEY_SIZE: {
                int r = ctr_parse_size(s, &v->u);
                if (r == -ERANGE)
                        return ctr_err(err, ERANGE, "config", "%s: '%s' is too large", who, s);
                if (r < 0)
                        return ctr_err(err, EINVAL, "config", "%s: '%s' is not a size (like 512M or 2G)", who, s);
                break;
        }
        case CTR_KEY_DOUBLE:
                v->d = strtod(s, &end);
                if (end == s || *end || !isfinite(v->d))
                        return ctr_err(err, EINVAL, "config", "%s: '%s' is not a number", who, s);
                break;
        case CTR_KEY_ENUM:
                for (v->i = 0; k->names[v->i]; v->i++)
                        if (!strcmp(k->names[v->i], s))
                                return 0;
                return ctr_err(err, EINVAL, "config", "%s must be %s, not '%s'", who, enum_names(k, names, sizeof(names)), s);
        default: return ctr_err(err, EINVAL, "config", "%s is not set from text", who);
        }
        return 0;
}

static void store(const struct ctr_config_key *k, struct ctr_config *c, const union kval *v)
{
        switch (k->type) {
        case CTR_KEY_STRING: {
                char **f = field(k, c);
                char *n = v->s ? xstrdup(v->s) : NULL;
                free(*f);
                *f = n;
                break;
        }
        case CTR_KEY_BOOL: *(bool *)field(k, c) = v->b; break;
        case CTR_KEY_INT:
        case CTR_KEY_ENUM: int_put(k, c, v->i); break;
        case CTR_KEY_SIZE: *(uint64_t *)field(k, c) = v->u; break;
        case CTR_KEY_DOUBLE: *(double *)field(k, c) = v->d; break;
        default: break;
        }
}

static int strv_add(const struct ctr_config_key *k, struct ctr_config *c, const char *who, const char *s,
                    struct ctr_error *err)
{
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL, **items = NULL;
        int r = 0;
        if (k->flags & CTR_KEY_COMMA) {
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        strv_push(&items, t);
        } else
                strv_push(&items, s);
        for (char **p = items; p && *p && r == 0; p++)
                r = check_item(k, who, *p, err);
        if (r == 0 && !items)
                r = ctr_err(err, EINVAL, "config", "%s: '%s' names nothing", who, s);
        for (char **p = items; r == 0 && p && *p; p++)
                strv_push(field(k, c), *p);
        strv_free(items);
        return r;
}

static int from_text(const struct ctr_config_key *k, struct ctr_config *c, const char *who, const char *s,
                     struct ctr_error *err)
{
        union kval v;
        if (k->type == CTR_KEY_CUSTOM)
                return k->custom->set ? k->custom->set(c, who, s, err)
                                      : ctr_err(err, EPERM, "config", "%s is not set from text", who);
        if (k->type == CTR_KEY_STRV)
                return ctr_err(err, EPERM, "config", "%s is not set from text", who);
        int r = text_val(k, who, s, &v, err);
        if (r == 0)
                r = check_val(k, who, &v, err);
        if (r < 0)
                return r;
        store(k, c, &v);
        return 0;
}

/* --- JSON in --------------------------------------------------------------------------------- */

static int type_error(struct ctr_error *err, const char *key, const char *want, const ctr_json *v)
{
        return ctr_err(err, EINVAL, "config", "key '%s' must be %s, not %s", key, want, ctr_json_type_name(v));
}

static int json_strv(const ctr_json *a, const char *key, char ***ret, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, key, "an array of strings", a);
        char **v = calloc(ctr_json_len(a) + 1, sizeof(char *));
        if (!v)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *e = ctr_json_at(a, i);
                if (ctr_json_type(e) != CTR_JSON_STRING) {
                        strv_free(v);
                        return type_error(err, key, "an array of strings", a);
                }
                v[i] = xstrdup(ctr_json_string(e));
        }
        strv_free(*ret);
        *ret = v;
        return 0;
}

static int json_val(const struct ctr_config_key *k, const ctr_json *j, union kval *v, struct ctr_error *err)
{
        bool nullable = k->flags & CTR_KEY_NULLABLE;
        enum ctr_json_type t = ctr_json_type(j);
        char names[128];
        *v = (union kval){0};
        if (nullable && t == CTR_JSON_NULL)
                return 0;
        switch (k->type) {
        case CTR_KEY_STRING:
                if (t != CTR_JSON_STRING)
                        return type_error(err, k->name, nullable ? "a string or null" : "a string", j);
                if (!k->unset || strcmp(ctr_json_string(j), k->unset))
                        v->s = (char *)ctr_json_string(j);
                return 0;
        case CTR_KEY_BOOL:
                if (t != CTR_JSON_BOOL)
                        return type_error(err, k->name, "true or false", j);
                v->b = ctr_json_bool(j);
                return 0;
        case CTR_KEY_INT:
                if (t == CTR_JSON_NUMBER && !ctr_json_number_ok(j))
                        return ctr_err(err, ERANGE, "config", "key '%s' is out of range %lld..%lld", k->name,
                                       (long long)k->min, (long long)k->max);
                if (!ctr_json_is_integer(j))
                        return type_error(err, k->name, nullable ? "an integer or null" : "an integer", j);
                v->i = ctr_json_int(j);
                return 0;
        case CTR_KEY_SIZE:
                if (t != CTR_JSON_STRING)
                        return type_error(err, k->name, nullable ? "a size string like \"512M\" or null"
                                                                 : "a size string like \"512M\"", j);
                break;
        case CTR_KEY_DOUBLE:
                if (t != CTR_JSON_NUMBER)
                        return type_error(err, k->name, nullable ? "a number or null" : "a number", j);
                if (!ctr_json_number_ok(j))
                        return ctr_err(err, ERANGE, "config", "key '%s' is out of range %g..%g", k->name, k->dmin,
                                       k->dmax);
                v->d = ctr_json_double(j);
                return 0;
        case CTR_KEY_ENUM:
                if (t != CTR_JSON_STRING)
                        return ctr_err(err, EINVAL, "config", "key '%s' must be %s", k->name,
                                       enum_names(k, names, sizeof(names)));
                break;
        default: return 0;
        }
        /* Sizes and enums are read as their text is. */
        _cleanup_free_ char *who = key_who(k);
        int r = text_val(k, who, ctr_json_string(j), v, err);
        if (r == 1) /* "null" as a string is not null */
                r = ctr_err(err, EINVAL, "config", "%s: '%s' is not a size (like 512M or 2G)", who, ctr_json_string(j));
        if (r < 0 && k->type == CTR_KEY_ENUM)
                ctr_err(err, EINVAL, "config", "key '%s' must be %s", k->name, enum_names(k, names, sizeof(names)));
        return r;
}

static int from_json(const struct ctr_config_key *k, const ctr_json *j, struct ctr_config *c, struct ctr_error *err)
{
        union kval v;
        if (k->type == CTR_KEY_CUSTOM)
                return k->custom->parse(j, c, err);
        if (k->type == CTR_KEY_STRV)
                return json_strv(j, k->name, field(k, c), err);
        int r = json_val(k, j, &v, err);
        /* Checked here too: a nullable number read as 0 would otherwise pass as unset. */
        if (r >= 0 && ctr_json_type(j) != CTR_JSON_NULL) {
                _cleanup_free_ char *who = key_who(k);
                r = check_val(k, who, &v, err);
        }
        if (r >= 0)
                store(k, c, &v);
        return r;
}

/* --- JSON and text out ----------------------------------------------------------------------- */

static void gen_strv(struct ctr_json_gen *g, char **v)
{
        ctr_json_arr_open(g);
        for (char **p = v; p && *p; p++)
                ctr_json_str(g, *p);
        ctr_json_arr_close(g);
}

static void gen_size(struct ctr_json_gen *g, uint64_t v)
{
        char buf[32];
        ctr_format_size(v, buf, sizeof(buf));
        ctr_json_str(g, buf);
}

static void gen_value(const struct ctr_config_key *k, const struct ctr_config *c, struct ctr_json_gen *g)
{
        if (is_unset(k, c) && !(k->type == CTR_KEY_STRING && k->unset)) {
                ctr_json_null(g);
                return;
        }
        switch (k->type) {
        case CTR_KEY_STRING: {
                const char *s = *(char **)field(k, c);
                ctr_json_str(g, s ? s : k->unset);
                break;
        }
        case CTR_KEY_BOOL: ctr_json_boolean(g, *(bool *)field(k, c)); break;
        case CTR_KEY_INT: ctr_json_int_(g, int_of(k, c)); break;
        case CTR_KEY_SIZE: gen_size(g, *(uint64_t *)field(k, c)); break;
        case CTR_KEY_DOUBLE: ctr_json_dbl(g, *(double *)field(k, c)); break;
        case CTR_KEY_ENUM: ctr_json_str(g, k->names[int_of(k, c)]); break;
        case CTR_KEY_STRV: gen_strv(g, *(char ***)field(k, c)); break;
        case CTR_KEY_CUSTOM: k->custom->gen(c, g); break;
        }
}

/* The shortest text that reads back as the same double. */
static char *double_text(double d)
{
        char buf[64];
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        return xstrdup(buf);
}

static char *text_of(const struct ctr_config_key *k, const struct ctr_config *c)
{
        char buf[32];
        if (is_unset(k, c))
                return xstrdup(k->type == CTR_KEY_STRING && k->unset ? k->unset : "null");
        switch (k->type) {
        case CTR_KEY_STRING: return xstrdup(*(char **)field(k, c));
        case CTR_KEY_BOOL: return xstrdup(*(bool *)field(k, c) ? "true" : "false");
        case CTR_KEY_INT: return xasprintf("%lld", (long long)int_of(k, c));
        case CTR_KEY_SIZE: ctr_format_size(*(uint64_t *)field(k, c), buf, sizeof(buf)); return xstrdup(buf);
        case CTR_KEY_DOUBLE: return double_text(*(double *)field(k, c));
        case CTR_KEY_ENUM: return xstrdup(k->names[int_of(k, c)]);
        default:
                if (k->type == CTR_KEY_CUSTOM && k->custom->get)
                        return k->custom->get(c);
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
                gen_value(k, c, g);
                char *t = xstrdup(ctr_json_gen_text(g, NULL));
                t[strcspn(t, "\n")] = 0;
                return t;
        }
}

/* --- structured keys --------------------------------------------------------------------------- */

static bool init_ok(const char *s)
{
        return s && *s && (s[0] == '/' || !strchr(s, '/'));
}

static int init_parse(const ctr_json *v, struct ctr_config *c, struct ctr_error *err)
{
        return json_strv(v, "init", &c->init, err);
}

static void init_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        gen_strv(g, c->init);
}

static int init_bad(const char *who, struct ctr_error *err)
{
        return ctr_err(err, EINVAL, "config", "%s must start with an absolute path or a command name found in PATH", who);
}

/* `config set init PATH` changes the program and keeps its arguments; --init PATH is all of it. */
static int init_set(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        if (!init_ok(s))
                return init_bad(who, err);
        if (!c->init || !c->init[0]) {
                strv_free(c->init);
                c->init = NULL;
                strv_push(&c->init, s);
                return 0;
        }
        free(c->init[0]);
        c->init[0] = xstrdup(s);
        return 0;
}

static int init_flag(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        if (!init_ok(s))
                return init_bad(who, err);
        strv_free(c->init);
        c->init = NULL;
        strv_push(&c->init, s);
        return 0;
}

static char *init_get(const struct ctr_config *c)
{
        return xstrdup(c->init && c->init[0] ? c->init[0] : "null");
}

static int init_check(const struct ctr_config *c, struct ctr_error *err)
{
        return c->init && init_ok(c->init[0]) ? 0 : init_bad("key 'init'", err);
}

static int netmode_parse(const ctr_json *v, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(v) != CTR_JSON_STRING)
                return type_error(err, "network.mode", "a string", v);
        int r = ctr_config_set_net_mode(c, ctr_json_string(v), err);
        if (r < 0)
                ctr_err_prefix(err, "config: key 'network.mode'");
        return r;
}

static void netmode_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        _cleanup_free_ char *m = ctr_config_net_mode_text(c);
        ctr_json_str(g, m);
}

static int netmode_set(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        if (ctr_config_set_net_mode(c, s, NULL) < 0)
                return ctr_err(err, EINVAL, "config", "%s: '%s' is not bridge, none, host or netns:PATH", who, s);
        return 0;
}

static int netmode_check(const struct ctr_config *c, struct ctr_error *err)
{
        if (c->net_mode == CTR_NET_NETNS && (!c->net.netns || c->net.netns[0] != '/'))
                return ctr_err(err, EINVAL, "config", "key 'network.mode': netns: needs an absolute path");
        return 0;
}

/* "io": [{"device": "8:0", "rbps": "50M", "wbps": null, "riops": 100, "wiops": null, "weight": 200}] */
static int io_parse(const ctr_json *a, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "limits.io", "an array of objects", a);
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                char key[64], spec[256] = "";
                const char *dev = NULL;
                size_t n = 0;
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "limits.io[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        snprintf(key, sizeof(key), "limits.io[%zu].%s", i, k);
                        if (!strcmp(k, "device")) {
                                if (ctr_json_type(v) != CTR_JSON_STRING)
                                        return type_error(err, key, "\"MAJOR:MINOR\"", v);
                                dev = ctr_json_string(v);
                                continue;
                        }
                        bool size = !strcmp(k, "rbps") || !strcmp(k, "wbps");
                        if (!size && strcmp(k, "riops") && strcmp(k, "wiops") && strcmp(k, "weight"))
                                return ctr_err(err, EINVAL, "config", "unknown key 'limits.io[].%s'", k);
                        if (ctr_json_type(v) == CTR_JSON_NULL)
                                continue;
                        if (size && ctr_json_type(v) == CTR_JSON_STRING)
                                n += snprintf(spec + n, sizeof(spec) - n, "%s%s=%s", n ? "," : "", k, ctr_json_string(v));
                        else if (!size && ctr_json_is_integer(v))
                                n += snprintf(spec + n, sizeof(spec) - n, "%s%s=%lld", n ? "," : "", k,
                                              (long long)ctr_json_int(v));
                        else
                                return type_error(err, key, size ? "a size string or null" : "an integer or null", v);
                }
                if (!dev || strchr(dev, '/'))
                        return ctr_err(err, EINVAL, "config", "limits.io[%zu] needs 'device' as \"MAJOR:MINOR\"", i);
                char full[300];
                snprintf(full, sizeof(full), "%s:%s", dev, spec);
                struct ctr_cg_io io;
                if (ctr_cgroup_io_parse(full, &io, err) < 0) {
                        ctr_err_prefix(err, "config: limits.io[%zu]", i);
                        return -EINVAL;
                }
                ctr_config_put_io(&c->limits, &io);
        }
        return 0;
}

static void io_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->limits.n_io; i++) {
                const struct ctr_cg_io *io = &c->limits.io[i];
                char dev[32];
                snprintf(dev, sizeof(dev), "%u:%u", io->major, io->minor);
                ctr_json_obj_open(g);
                ctr_json_key_(g, "device");
                ctr_json_str(g, dev);
                const char *sizes[] = {"rbps", "wbps"};
                uint64_t sv[] = {io->rbps, io->wbps};
                for (size_t j = 0; j < ARRAY_SIZE(sv); j++) {
                        ctr_json_key_(g, sizes[j]);
                        if (sv[j])
                                gen_size(g, sv[j]);
                        else
                                ctr_json_null(g);
                }
                const char *names[] = {"riops", "wiops", "weight"};
                uint64_t vals[] = {io->riops, io->wiops, io->weight};
                for (size_t j = 0; j < ARRAY_SIZE(vals); j++) {
                        ctr_json_key_(g, names[j]);
                        if (vals[j])
                                ctr_json_int_(g, (int64_t)vals[j]);
                        else
                                ctr_json_null(g);
                }
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
}

/* The whole list: space-separated --io specs, or null. */
static int io_set(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        struct ctr_limits l = {0};
        if (strcmp(s, "null") && strcmp(s, "none")) {
                _cleanup_free_ char *copy = xstrdup(s);
                char *save = NULL;
                for (char *spec = strtok_r(copy, " ", &save); spec; spec = strtok_r(NULL, " ", &save)) {
                        struct ctr_cg_io io;
                        if (ctr_cgroup_io_parse(spec, &io, err) < 0 ||
                            (l.n_io >= CTR_CG_IO_MAX &&
                             ctr_err(err, E2BIG, "io", "at most %d devices can have I/O limits", CTR_CG_IO_MAX))) {
                                ctr_err_prefix(err, "%s", who);
                                free(l.io);
                                return -EINVAL;
                        }
                        ctr_config_put_io(&l, &io);
                }
        }
        free(c->limits.io);
        c->limits.io = l.io;
        c->limits.n_io = l.n_io;
        return 0;
}

static int io_flag(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        return ctr_config_add_io(c, s, err);
}

static char *io_get(const struct ctr_config *c)
{
        char out[CTR_CG_IO_MAX * 96] = "";
        for (size_t i = 0; i < c->limits.n_io; i++) {
                char one[96];
                ctr_cgroup_io_format(&c->limits.io[i], one, sizeof(one));
                snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", one);
        }
        return xstrdup(c->limits.n_io ? out : "null");
}

static int io_check(const struct ctr_config *c, struct ctr_error *err)
{
        if (c->limits.n_io > CTR_CG_IO_MAX)
                return ctr_err(err, E2BIG, "config", "key 'limits.io': at most %d devices", CTR_CG_IO_MAX);
        return 0;
}

static int ports_parse(const ctr_json *a, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "network.ports", "an array of objects", a);
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                char key[64], spec[128];
                const char *host_ip = NULL, *proto = "tcp";
                int64_t pn[2] = {0, 0}; /* host, container */
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "network.ports[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        snprintf(key, sizeof(key), "network.ports[%zu].%s", i, k);
                        if (!strcmp(k, "host_ip")) {
                                if (ctr_json_type(v) == CTR_JSON_STRING)
                                        host_ip = ctr_json_string(v);
                                else if (ctr_json_type(v) != CTR_JSON_NULL)
                                        return type_error(err, key, "an address or null", v);
                        } else if (!strcmp(k, "host") || !strcmp(k, "container")) {
                                if (!ctr_json_is_integer(v))
                                        return type_error(err, key, "an integer", v);
                                int64_t x = ctr_json_int(v);
                                if (x < 1 || x > 65535)
                                        return ctr_err(err, ERANGE, "config", "key '%s': %lld is out of range 1..65535",
                                                       key, (long long)x);
                                pn[!strcmp(k, "container")] = x;
                        } else if (!strcmp(k, "proto")) {
                                if (ctr_json_type(v) != CTR_JSON_STRING)
                                        return type_error(err, key, "\"tcp\" or \"udp\"", v);
                                proto = ctr_json_string(v);
                        } else
                                return ctr_err(err, EINVAL, "config", "unknown key 'network.ports[].%s'", k);
                }
                if (!pn[0] || !pn[1])
                        return ctr_err(err, EINVAL, "config", "network.ports[%zu] needs 'host' and 'container'", i);
                bool v6 = host_ip && strchr(host_ip, ':');
                snprintf(spec, sizeof(spec), "%s%s%s%s%lld:%lld/%s", v6 ? "[" : "", host_ip ? host_ip : "",
                         v6 ? "]" : "", host_ip ? ":" : "", (long long)pn[0], (long long)pn[1], proto);
                int r = ctr_config_add_port(c, spec, err);
                if (r < 0) {
                        ctr_err_prefix(err, "config: network.ports[%zu]", i);
                        return r;
                }
        }
        return 0;
}

static void ports_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->net.n_ports; i++) {
                const struct ctr_port *pt = &c->net.ports[i];
                ctr_json_obj_open(g);
                ctr_json_key_(g, "host_ip");
                ctr_json_str(g, pt->family ? pt->host_ip : NULL);
                ctr_json_key_(g, "host");
                ctr_json_int_(g, pt->host);
                ctr_json_key_(g, "container");
                ctr_json_int_(g, pt->container);
                ctr_json_key_(g, "proto");
                ctr_json_str(g, pt->proto == IPPROTO_UDP ? "udp" : "tcp");
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
}

static int ports_flag(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        return ctr_config_add_port(c, s, err);
}

static int mounts_parse(const ctr_json *a, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(a) != CTR_JSON_ARRAY)
                return type_error(err, "mounts", "an array of objects", a);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].source);
                free(c->mounts[i].target);
        }
        free(c->mounts);
        c->n_mounts = 0;
        c->mounts = calloc(ctr_json_len(a) + 1, sizeof(*c->mounts));
        if (!c->mounts)
                abort();
        for (size_t i = 0; i < ctr_json_len(a); i++) {
                ctr_json *o = ctr_json_at(a, i);
                struct ctr_mount *m = &c->mounts[c->n_mounts++];
                if (ctr_json_type(o) != CTR_JSON_OBJECT)
                        return type_error(err, "mounts[]", "an object", o);
                for (size_t j = 0; j < ctr_json_len(o); j++) {
                        const char *k = ctr_json_key(o, j);
                        ctr_json *v = ctr_json_at(o, j);
                        char **f = !strcmp(k, "source") ? &m->source : !strcmp(k, "target") ? &m->target : NULL;
                        if (f) {
                                if (ctr_json_type(v) != CTR_JSON_STRING)
                                        return ctr_err(err, EINVAL, "config", "key 'mounts[].%s' must be a string, not %s",
                                                       k, ctr_json_type_name(v));
                                free(*f);
                                *f = xstrdup(ctr_json_string(v));
                        } else if (!strcmp(k, "readonly")) {
                                if (ctr_json_type(v) != CTR_JSON_BOOL)
                                        return type_error(err, "mounts[].readonly", "a boolean", v);
                                m->readonly = ctr_json_bool(v);
                        } else
                                return ctr_err(err, EINVAL, "config", "unknown key 'mounts[].%s'", k);
                }
        }
        return 0;
}

static void mounts_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        ctr_json_arr_open(g);
        for (size_t i = 0; i < c->n_mounts; i++) {
                ctr_json_obj_open(g);
                ctr_json_key_(g, "source");
                ctr_json_str(g, c->mounts[i].source);
                ctr_json_key_(g, "target");
                ctr_json_str(g, c->mounts[i].target);
                ctr_json_key_(g, "readonly");
                ctr_json_boolean(g, c->mounts[i].readonly);
                ctr_json_obj_close(g);
        }
        ctr_json_arr_close(g);
}

static int mounts_flag(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        struct ctr_mount m;
        int r = ctr_config_parse_volume(s, &m, err);
        if (r < 0)
                return r;
        c->mounts = xrealloc(c->mounts, (c->n_mounts + 1) * sizeof(m));
        c->mounts[c->n_mounts++] = m;
        return 0;
}

static int mounts_check(const struct ctr_config *c, struct ctr_error *err)
{
        for (size_t i = 0; i < c->n_mounts; i++)
                if (!ctr_config_path_ok(c->mounts[i].source) || !ctr_config_path_ok(c->mounts[i].target))
                        return ctr_err(err, EINVAL, "config",
                                       "mounts[%zu]: source and target must be absolute paths without '..'", i);
        return 0;
}

static int env_parse(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "environment", "an object of strings", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                ctr_json *v = ctr_json_at(o, i);
                if (ctr_json_type(v) != CTR_JSON_STRING)
                        return type_error(err, "environment", "an object of strings", o);
                _cleanup_free_ char *kv = xasprintf("%s=%s", ctr_json_key(o, i), ctr_json_string(v));
                int r = ctr_config_env_set(&c->env, kv, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void env_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        ctr_json_obj_open(g);
        for (char **p = c->env; p && *p; p++) {
                const char *eq = strchr(*p, '=');
                _cleanup_free_ char *k = strndup(*p, eq - *p);
                ctr_json_key_(g, k);
                ctr_json_str(g, eq + 1);
        }
        ctr_json_obj_close(g);
}

static int env_flag(struct ctr_config *c, const char *who, const char *s, struct ctr_error *err)
{
        return ctr_config_env_set(&c->env, s, err);
}

static int env_check(const struct ctr_config *c, struct ctr_error *err)
{
        for (char **p = c->env; p && *p; p++) {
                char **copy = NULL;
                int r = ctr_config_env_set(&copy, *p, err);
                strv_free(copy);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "security.idmap": null or {"uid": HOST, "gid": HOST, "count": N, "shift": "mount"|"chown"}. */
static int idmap_parse(const ctr_json *o, struct ctr_config *c, struct ctr_error *err)
{
        struct ctr_idmap *m = &c->idmap;
        *m = (struct ctr_idmap){0};
        if (ctr_json_type(o) == CTR_JSON_NULL)
                return 0;
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, "security.idmap", "an object or null", o);
        static const char *const nums[] = {"uid", "gid", "count"};
        uint32_t *dst[] = {&m->uid, &m->gid, &m->count};
        bool have[3] = {false};
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                size_t j = 0;
                while (j < ARRAY_SIZE(nums) && strcmp(k, nums[j]))
                        j++;
                if (j < ARRAY_SIZE(nums)) {
                        int64_t lo = j == 2 ? 1 : 0;
                        if (!ctr_json_is_integer(v))
                                return ctr_err(err, EINVAL, "config", "key 'security.idmap.%s' must be an integer", k);
                        if (ctr_json_int(v) < lo || ctr_json_int(v) > UINT32_MAX)
                                return ctr_err(err, ERANGE, "config", "key 'security.idmap.%s': %lld is out of range %lld..%lld",
                                               k, (long long)ctr_json_int(v), (long long)lo, (long long)UINT32_MAX);
                        *dst[j] = (uint32_t)ctr_json_int(v);
                        have[j] = true;
                } else if (!strcmp(k, "shift")) {
                        const char *t = ctr_json_type(v) == CTR_JSON_STRING ? ctr_json_string(v) : NULL;
                        if (!t || (strcmp(t, "mount") && strcmp(t, "chown")))
                                return ctr_err(err, EINVAL, "config", "key 'security.idmap.shift' must be \"mount\" or \"chown\"");
                        m->chowned = !strcmp(t, "chown");
                } else
                        return ctr_err(err, EINVAL, "config", "unknown key 'security.idmap.%s'", k);
        }
        if (!have[0] || !have[1] || !have[2])
                return ctr_err(err, EINVAL, "config", "key 'security.idmap' needs uid, gid and count");
        return 0;
}

static void idmap_gen(const struct ctr_config *c, struct ctr_json_gen *g)
{
        if (!c->idmap.count) {
                ctr_json_null(g);
                return;
        }
        ctr_json_obj_open(g);
        ctr_json_key_(g, "uid");
        ctr_json_int_(g, c->idmap.uid);
        ctr_json_key_(g, "gid");
        ctr_json_int_(g, c->idmap.gid);
        ctr_json_key_(g, "count");
        ctr_json_int_(g, c->idmap.count);
        ctr_json_key_(g, "shift");
        ctr_json_str(g, c->idmap.chowned ? "chown" : "mount");
        ctr_json_obj_close(g);
}

static const struct ctr_key_custom custom_init = {init_parse, init_gen, init_set, init_flag, init_get, init_check};
static const struct ctr_key_custom custom_netmode = {netmode_parse, netmode_gen, netmode_set, NULL, ctr_config_net_mode_text,
                                                     netmode_check};
static const struct ctr_key_custom custom_io = {io_parse, io_gen, io_set, io_flag, io_get, io_check};
static const struct ctr_key_custom custom_ports = {ports_parse, ports_gen, NULL, ports_flag, NULL, NULL};
static const struct ctr_key_custom custom_mounts = {mounts_parse, mounts_gen, NULL, mounts_flag, NULL, mounts_check};
static const struct ctr_key_custom custom_env = {env_parse, env_gen, NULL, env_flag, NULL, env_check};
static const struct ctr_key_custom custom_idmap = {idmap_parse, idmap_gen, NULL, NULL, NULL, NULL};

/* --- value checks of string keys -------------------------------------------------------------- */

static bool driver_ok(const char *s) { return !strcmp(s, "dir") || !strcmp(s, "overlay"); }
static bool abs_ok(const char *s) { return s[0] == '/'; }
static bool ifname_ok(const char *s) { return *s && strlen(s) < IFNAMSIZ && !strchr(s, '/'); }
static bool signal_ok(const char *s) { return ctr_signal_from_name(s) >= 0; }
static bool device_ok(const char *s)
{
        struct ctr_cg_device d;
        return ctr_cgroup_device_parse(s, &d) == 0;
}
static bool ipv4_ok(const char *s)
{
        struct in_addr a;
        return inet_pton(AF_INET, s, &a) == 1;
}
static bool ipv6_ok(const char *s)
{
        struct in6_addr a;
        return !strcmp(s, "none") || inet_pton(AF_INET6, s, &a) == 1;
}
static int cap_item(const char *s, struct ctr_error *err)
{
        ctr_capmask m;
        return ctr_caps_parse(s, &m, err);
}
static int seccomp_item(const char *s, struct ctr_error *err)
{
        return ctr_seccomp_check_name(s, err);
}

/* --- the table --------------------------------------------------------------------------------- */

#define FLD(f) .off = offsetof(struct ctr_config, f), .size = sizeof(((struct ctr_config *)0)->f)
#define N CTR_KEY_NULLABLE
#define SET CTR_KEY_SET
#define LIVE (CTR_KEY_SET | CTR_KEY_LIVE)
#define MiB (1ull << 20)

static const char *const mode_names[] = {"container", "vm", NULL};

static const struct ctr_config_key keys[] = {
        {"version", CTR_KEY_INT, 0, FLD(version), .min = 1, .max = CTR_CONFIG_VERSION, .def = "1"},
        {"name", CTR_KEY_STRING, 0, FLD(name)},
        {"template.name", CTR_KEY_STRING, N, FLD(template_name), .flag = "template", .short_flag = 't',
         .sample = "busybox"},
        {"template.release", CTR_KEY_STRING, N, FLD(template_release)},
        {"template.arch", CTR_KEY_STRING, N, FLD(template_arch)},
        {"template.dist", CTR_KEY_STRING, N | CTR_KEY_OMIT, FLD(template_dist)},
        {"storage.driver", CTR_KEY_STRING, 0, FLD(storage_driver), .def = "dir", .check = driver_ok,
         .want = "a known driver (dir, overlay)"},
        {"storage.lower", CTR_KEY_STRING, N | CTR_KEY_OMIT, FLD(storage_lower)},
        {"uuid", CTR_KEY_STRING, N | CTR_KEY_OMIT, FLD(uuid), .check = ctr_uuid_valid, .want = "a UUID"},
        {"autostart", CTR_KEY_BOOL, SET, FLD(autostart), .def = "false", .sample = "false", .bad = "yes"},
        {"security.capabilities.add", CTR_KEY_STRV, 0, FLD(cap_add), .flag = "cap-add", .item = cap_item,
         .sample = "CAP_SYS_TIME", .bad = "CAP_BOGUS"},
        {"security.capabilities.drop", CTR_KEY_STRV, 0, FLD(cap_drop), .flag = "cap-drop", .item = cap_item,
         .sample = "CAP_NET_RAW", .bad = "CAP_BOGUS"},
        {"security.seccomp.profile", CTR_KEY_STRING, N | SET, FLD(seccomp_profile), .unset = "default",
         .def = "default", .flag = "seccomp", .sample = "unconfined"},
        {"security.seccomp.allow", CTR_KEY_STRV, CTR_KEY_COMMA, FLD(seccomp_allow), .flag = "seccomp-allow",
         .item = seccomp_item, .sample = "@mount,ptrace", .bad = "nosuchcall"},
        {"security.seccomp.deny", CTR_KEY_STRV, CTR_KEY_COMMA, FLD(seccomp_deny), .flag = "seccomp-deny",
         .item = seccomp_item, .sample = "@swap", .bad = "@nosuchgroup"},
        {"security.no_new_privs", CTR_KEY_BOOL, SET, FLD(no_new_privs), .def = "false", .flag = "no-new-privs",
         .flag_value = "true", .sample = "true", .bad = "1"},
        {"security.userns", CTR_KEY_BOOL, SET | CTR_KEY_FIXED, FLD(userns), .def = "false", .sample = "false",
         .bad = "maybe"},
        {"security.idmap", CTR_KEY_CUSTOM, N, .custom = &custom_idmap},
        {"init", CTR_KEY_CUSTOM, SET, .def = "/sbin/init", .flag = "init", .custom = &custom_init,
         .sample = "/bin/sh", .bad = "bin/sh"},
        {"hostname", CTR_KEY_STRING, SET, FLD(hostname), .flag = "hostname", .check = ctr_hostname_valid,
         .want = "a valid host name", .sample = "www.example", .bad = "no spaces"},
        {"mode", CTR_KEY_ENUM, 0, FLD(vm), .names = mode_names, .def = "container", .flag = "vm", .flag_value = "vm"},
        {"vm.vcpus", CTR_KEY_INT, SET, FLD(vm_vcpus), .min = 1, .max = 32, .def = "1", .flag = "vcpus"},
        {"vm.memory", CTR_KEY_SIZE, SET, FLD(vm_memory), .smin = 64 * MiB, .smax = 3072 * MiB, .def = "512M",
         .flag = "vm-memory"},
        {"vm.disk", CTR_KEY_SIZE, N, FLD(vm_disk), .smin = 16 * MiB, .smax = 1ull << 40, .flag = "vm-disk"},
        {"vm.kernel", CTR_KEY_STRING, N | SET | CTR_KEY_REALPATH, FLD(vm_kernel), .flag = "kernel", .check = abs_ok,
         .want = "an absolute path or null", .sample = "/boot/vmlinuz", .bad = "vmlinuz"},
        {"vm.initrd", CTR_KEY_STRING, N | SET | CTR_KEY_REALPATH, FLD(vm_initrd), .flag = "initrd", .check = abs_ok,
         .want = "an absolute path or null", .sample = "/boot/initrd.img", .bad = "initrd.img"},
        {"limits.memory", CTR_KEY_SIZE, N | LIVE, FLD(limits.memory), .smin = MiB, .smax = 1ull << 50,
         .flag = "memory"},
        {"limits.memory_high", CTR_KEY_SIZE, N | LIVE, FLD(limits.memory_high), .smin = MiB, .smax = 1ull << 50},
        {"limits.cpus", CTR_KEY_DOUBLE, N | LIVE, FLD(limits.cpus), .dmin = 0.01, .dmax = 4096, .flag = "cpus"},
        {"limits.cpu_weight", CTR_KEY_INT, N | LIVE, FLD(limits.cpu_weight), .min = 1, .max = 10000},
        /* PID_MAX_LIMIT: pids.max refuses more. */
        {"limits.pids", CTR_KEY_INT, N | LIVE, FLD(limits.pids), .min = 1, .max = 4194304, .flag = "pids"},
        {"limits.memory_swap", CTR_KEY_SIZE, N | LIVE, FLD(limits.memory_swap), .smin = MiB, .smax = 1ull << 50},
        {"limits.cpuset", CTR_KEY_STRING, N | LIVE, FLD(limits.cpuset), .flag = "cpuset",
         .check = ctr_cgroup_cpuset_valid, .want = "a CPU list (like 0-1,4)", .sample = "0", .bad = "1-"},
        {"limits.cpuset_mems", CTR_KEY_STRING, N | LIVE, FLD(limits.cpuset_mems), .flag = "cpuset-mems",
         .check = ctr_cgroup_cpuset_valid, .want = "a node list (like 0-1)", .sample = "0", .bad = "0,,1"},
        {"limits.io", CTR_KEY_CUSTOM, N | LIVE, .flag = "io", .custom = &custom_io, .sample = "8:0:rbps=50M",
         .bad = "8:0:rbps=fast"},
        {"network.mode", CTR_KEY_CUSTOM, SET, .def = "bridge", .flag = "net", .custom = &custom_netmode,
         .sample = "none", .bad = "bridged"},
        {"network.bridge", CTR_KEY_STRING, N | SET, FLD(net.bridge), .check = ifname_ok, .want = "an interface name",
         .sample = "ctrbr0", .bad = "a/b"},
        {"network.ipv4", CTR_KEY_STRING, N | SET, FLD(net.ipv4), .unset = "auto", .def = "auto", .flag = "ip",
         .check = ipv4_ok, .want = "auto or an IPv4 address", .sample = "10.57.0.77", .bad = "10.1"},
        {"network.ipv6", CTR_KEY_STRING, N | SET | CTR_KEY_NONE_VALUE, FLD(net.ipv6), .unset = "auto", .def = "auto",
         .flag = "ip6", .check = ipv6_ok, .want = "auto, none or an IPv6 address", .sample = "none", .bad = "fd57::x"},
        {"network.ports", CTR_KEY_CUSTOM, 0, .flag = "publish", .short_flag = 'p', .custom = &custom_ports,
         .sample = "127.0.0.1:18080:80", .bad = "80"},
        {"mounts", CTR_KEY_CUSTOM, 0, .flag = "volume", .short_flag = 'v', .custom = &custom_mounts,
         .sample = "/tmp:/mnt:ro", .bad = "/tmp:mnt"},
        {"environment", CTR_KEY_CUSTOM, 0, .flag = "env", .short_flag = 'e', .custom = &custom_env,
         .sample = "LANG=C.UTF-8", .bad = "1A=x"},
        {"devices", CTR_KEY_STRV, 0, FLD(devices), .flag = "device", .check = device_ok,
         .want = "TYPE MAJOR:MINOR ACCESS (like \"c 10:200 rwm\")", .sample = "c 10:200 rwm", .bad = "c 10:200 x"},
        {"stop.signal", CTR_KEY_STRING, N | SET, FLD(stop_signal), .check = signal_ok, .want = "a signal",
         .sample = "SIGTERM", .bad = "SIGNOPE"},
        {"stop.timeout", CTR_KEY_INT, SET, FLD(stop_timeout), .min = 0, .max = 86400, .def = "30"},
};

const struct ctr_config_key *ctr_config_key_table(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(keys);
        return keys;
}

const struct ctr_config_key *ctr_config_key_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (!strcmp(keys[i].name, name))
                        return &keys[i];
        return NULL;
}

const struct ctr_config_key *ctr_config_key_for_flag(const char *name, int short_flag)
{
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (keys[i].flag && (name ? !strcmp(keys[i].flag, name) : keys[i].short_flag == short_flag))
                        return &keys[i];
        return NULL;
}

/* --- the walkers ------------------------------------------------------------------------------- */

void ctr_config_init(struct ctr_config *c, const char *name)
{
        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (keys[i].def && from_text(&keys[i], c, keys[i].name, keys[i].def, NULL) < 0)
                        abort(); /* a default the table itself refuses */
        if (name)
                ctr_config_set_name(c, name);
}

int ctr_config_flag(struct ctr_config *c, const struct ctr_config_key *k, const char *arg, struct ctr_error *err)
{
        _cleanup_free_ char *who = xasprintf("--%s", k->flag), *real = NULL;
        int r;
        if (k->flag_value)
                arg = k->flag_value;
        if (k->flags & CTR_KEY_REALPATH) {
                real = realpath(arg, NULL);
                if (!real)
                        return ctr_err_sys(err, errno, "usage", "%s '%s'", who, arg);
                arg = real;
        }
        if (k->type == CTR_KEY_STRV)
                r = strv_add(k, c, who, arg, err);
        else if (k->type == CTR_KEY_CUSTOM && k->custom->flag)
                r = k->custom->flag(c, who, arg, err);
        else
                r = from_text(k, c, who, arg, err);
        if (r < 0 && err && !strstr(err->msg, who))
                ctr_err_prefix(err, "%s", who); /* the helpers of structured keys name the value only */
        if (r < 0 && err && !strcmp(err->op, "config"))
                snprintf(err->op, sizeof(err->op), "usage"); /* a flag's problem, reported as usage */
        return r;
}

int ctr_config_get(const struct ctr_config *c, const char *key, char **ret, struct ctr_error *err)
{
        const struct ctr_config_key *k = ctr_config_key_find(key);
        if (!k)
                return ctr_err(err, ENOENT, "config", "unknown key '%s' (see ctr-config(5))", key);
        *ret = text_of(k, c);
        return 0;
}

int ctr_config_set(struct ctr_config *c, const char *key, const char *value, struct ctr_error *err)
{
        const struct ctr_config_key *k = ctr_config_key_find(key);
        if (!k)
                return ctr_err(err, ENOENT, "config", "unknown key '%s' (see ctr-config(5))", key);
        if (!(k->flags & CTR_KEY_SET))
                return ctr_err(err, EPERM, "config", "key '%s' is chosen at create and is not settable (see ctr-config(5))",
                               key);
        _cleanup_free_ char *who = key_who(k);
        if (k->flags & CTR_KEY_FIXED) {
                struct ctr_config probe = {0};
                int r = from_text(k, &probe, who, value, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *now = text_of(k, c), *asked = text_of(k, &probe);
                if (strcmp(now, asked))
                        return ctr_err(err, EINVAL, "config",
                                       "key '%s' is chosen at create and cannot change (create a new container)", key);
                return 0;
        }
        return from_text(k, c, who, value, err);
}

int ctr_config_validate_keys(const struct ctr_config *c, struct ctr_error *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const struct ctr_config_key *k = &keys[i];
                _cleanup_free_ char *who = key_who(k);
                union kval v = {0};
                int r = 0;
                switch (k->type) {
                case CTR_KEY_STRING: v.s = *(char **)field(k, c); break;
                case CTR_KEY_INT: v.i = int_of(k, c); break;
                case CTR_KEY_SIZE: v.u = *(uint64_t *)field(k, c); break;
                case CTR_KEY_DOUBLE: v.d = *(double *)field(k, c); break;
                case CTR_KEY_STRV:
                        for (char **p = *(char ***)field(k, c); p && *p && r == 0; p++)
                                r = check_item(k, who, *p, err);
                        break;
                case CTR_KEY_CUSTOM:
                        if (k->custom->check)
                                r = k->custom->check(c, err);
                        break;
                default: break;
                }
                if (r == 0 && !is_unset(k, c))
                        r = check_val(k, who, &v, err);
                if (r == 0 && k->type == CTR_KEY_STRING && !v.s && !(k->flags & CTR_KEY_NULLABLE))
                        r = ctr_err(err, EINVAL, "config", "%s must be set", who);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_group(const char *path)
{
        size_t n = strlen(path);
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (!strncmp(keys[i].name, path, n) && keys[i].name[n] == '.')
                        return true;
        return false;
}

static int parse_object(const ctr_json *o, const char *prefix, struct ctr_config *c, struct ctr_error *err)
{
        if (ctr_json_type(o) != CTR_JSON_OBJECT)
                return type_error(err, prefix, "an object", o);
        for (size_t i = 0; i < ctr_json_len(o); i++) {
                const char *k = ctr_json_key(o, i);
                ctr_json *v = ctr_json_at(o, i);
                _cleanup_free_ char *path = *prefix ? xasprintf("%s.%s", prefix, k) : xstrdup(k);
                const struct ctr_config_key *row = ctr_config_key_find(path);
                int r;
                if (!*prefix && (!strcmp(k, "version") || !strcmp(k, "name")))
                        continue; /* read first, by ctr_config_parse */
                if (row)
                        r = from_json(row, v, c, err);
                else if (is_group(path))
                        r = parse_object(v, path, c, err);
                else
                        r = ctr_err(err, EINVAL, "config", "unknown key '%s'", path);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* yajl keeps repeated keys; a config where one says two things is refused, not guessed at. */
static int check_duplicates(const ctr_json *v, const char *path, struct ctr_error *err)
{
        if (ctr_json_type(v) == CTR_JSON_ARRAY) {
                _cleanup_free_ char *sub = xasprintf("%s[]", path);
                for (size_t i = 0; i < ctr_json_len(v); i++) {
                        int r = check_duplicates(ctr_json_at(v, i), sub, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (ctr_json_type(v) != CTR_JSON_OBJECT)
                return 0;
        for (size_t i = 0; i < ctr_json_len(v); i++) {
                const char *k = ctr_json_key(v, i);
                _cleanup_free_ char *sub = *path ? xasprintf("%s.%s", path, k) : xstrdup(k);
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(k, ctr_json_key(v, j)))
                                return ctr_err(err, EINVAL, "config", "key '%s' appears twice", sub);
                int r = check_duplicates(ctr_json_at(v, i), sub, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ctr_config_parse(const char *text, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_json_ ctr_json *root = NULL;
        struct ctr_config c;
        int r = ctr_json_parse(text, &root, err);
        if (r < 0)
                return r;
        if (ctr_json_type(root) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "config", "the document must be an object, not %s",
                               ctr_json_type_name(root));
        r = check_duplicates(root, "", err);
        if (r < 0)
                return r;

        ctr_json *ver = ctr_json_get(root, "version");
        if (!ver)
                return ctr_err(err, EINVAL, "config", "missing key 'version'");
        if (!ctr_json_is_integer(ver) || ctr_json_int(ver) < 1)
                return ctr_err(err, EINVAL, "config", "key 'version' must be a positive integer");
        if (ctr_json_int(ver) > CTR_CONFIG_VERSION)
                return ctr_err(err, EPROTONOSUPPORT, "config",
                               "format version %lld is newer than this ctr understands (%d)",
                               (long long)ctr_json_int(ver), CTR_CONFIG_VERSION);
        ctr_json *name = ctr_json_get(root, "name");
        if (ctr_json_type(name) != CTR_JSON_STRING)
                return ctr_err(err, EINVAL, "config", "key 'name' must be a string");
        /* Keys left out take their defaults (hostname: derived from the name). */
        ctr_config_init(&c, ctr_json_string(name));
        r = parse_object(root, "", &c, err);
        if (r >= 0)
                r = ctr_config_validate(&c, err);
        if (r < 0) {
                ctr_config_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* Nested objects open and close as the dotted names' prefixes change, in table order. */
static void gen_move(struct ctr_json_gen *g, char *open, const char *name)
{
        const char *dot = strrchr(name, '.');
        size_t want = dot ? (size_t)(dot - name) : 0, n = strlen(open);
        /* Close until what is open is a prefix (at a dot) of the row's parent. */
        while (n && !(n <= want && !strncmp(open, name, n) && (n == want || name[n] == '.'))) {
                ctr_json_obj_close(g);
                char *d = strrchr(open, '.');
                n = d ? (size_t)(d - open) : 0;
                open[n] = 0;
        }
        while (n < want) {
                const char *next = memchr(name + n + 1, '.', want - n - 1);
                size_t end = next ? (size_t)(next - name) : want;
                size_t from = n ? n + 1 : 0;
                char part[64];
                snprintf(part, sizeof(part), "%.*s", (int)(end - from), name + from);
                ctr_json_key_(g, part);
                ctr_json_obj_open(g);
                memcpy(open, name, end);
                open[end] = 0;
                n = end;
        }
}

char *ctr_config_to_json(const struct ctr_config *c)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        char open[128] = "";
        ctr_json_obj_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const struct ctr_config_key *k = &keys[i];
                if ((k->flags & CTR_KEY_OMIT) && is_unset(k, c))
                        continue;
                gen_move(g, open, k->name);
                const char *dot = strrchr(k->name, '.');
                ctr_json_key_(g, dot ? dot + 1 : k->name);
                gen_value(k, c, g);
        }
        gen_move(g, open, "");
        ctr_json_obj_close(g);
        return xstrdup(ctr_json_gen_text(g, NULL));
}
