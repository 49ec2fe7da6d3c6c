/* Unit tests walking runtime/config_keys.c's table: every value a key accepts (by `config set`
 * or its CLI flag) is read back unchanged after to_json -> parse; every value it refuses is an
 * error naming the key and changes nothing; defaults are the table's; hostname defaults. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../base/util.h"
#include "../../runtime/config.h"

#define MAXV 8

struct values {
        char *v[MAXV];
        size_t n;
};

static void add(struct values *vs, char *s)
{
        cr_assert_lt(vs->n, MAXV);
        vs->v[vs->n++] = s;
}

static char *size_text(uint64_t v)
{
        char buf[32];
        ctr_format_size(v, buf, sizeof(buf));
        return xstrdup(buf);
}

/* Values the row must accept: its bounds, a middle, each name, its sample, and null. */
static void accepted(const struct ctr_config_key *k, struct values *vs)
{
        switch (k->type) {
        case CTR_KEY_INT:
                add(vs, xasprintf("%lld", (long long)k->min));
                add(vs, xasprintf("%lld", (long long)k->max));
                add(vs, xasprintf("%lld", (long long)(k->min + (k->max - k->min) / 2)));
                break;
        case CTR_KEY_SIZE:
                add(vs, size_text(k->smin));
                add(vs, size_text(k->smax));
                break;
        case CTR_KEY_DOUBLE:
                add(vs, xasprintf("%g", k->dmin));
                add(vs, xasprintf("%g", k->dmax));
                add(vs, xstrdup("1.5"));
                add(vs, xstrdup("0.1"));
                break;
        case CTR_KEY_BOOL:
                if (!(k->flags & CTR_KEY_FIXED))
                        add(vs, xstrdup("true"));
                add(vs, xstrdup("false"));
                break;
        case CTR_KEY_ENUM:
                for (size_t i = 0; k->names[i]; i++)
                        add(vs, xstrdup(k->names[i]));
                break;
        default:
                cr_assert_not_null(k->sample, "key %s has a flag or is settable but no sample value", k->name);
                add(vs, xstrdup(k->sample));
        }
        if ((k->flags & CTR_KEY_NULLABLE) && (k->flags & CTR_KEY_SET))
                add(vs, xstrdup("null"));
}

/* Values the row must refuse: just past each bound, text of the wrong kind, its bad sample. */
static void refused(const struct ctr_config_key *k, struct values *vs)
{
        switch (k->type) {
        case CTR_KEY_INT:
                add(vs, xasprintf("%lld", (long long)k->min - 1));
                add(vs, xasprintf("%lld", (long long)k->max + 1));
                add(vs, xstrdup("12x"));
                add(vs, xstrdup("1.5"));
                add(vs, xstrdup("99999999999999999999"));
                break;
        case CTR_KEY_SIZE:
                add(vs, size_text(k->smin - 1));
                add(vs, size_text(k->smax + 1));
                add(vs, xstrdup("0"));
                add(vs, xstrdup("12Q"));
                break;
        case CTR_KEY_DOUBLE:
                add(vs, xasprintf("%g", k->dmin / 2));
                add(vs, xasprintf("%g", k->dmax * 2));
                add(vs, xstrdup("0"));
                add(vs, xstrdup("nan"));
                add(vs, xstrdup("inf"));
                break;
        case CTR_KEY_BOOL: add(vs, xstrdup("yes")); break;
        case CTR_KEY_ENUM: add(vs, xstrdup("bogus")); break;
        default: break;
        }
        if (k->bad)
                add(vs, xstrdup(k->bad));
        else
                cr_assert(k->type != CTR_KEY_CUSTOM && k->type != CTR_KEY_STRV && !k->check && !k->item,
                          "key %s checks its values but has no bad sample", k->name);
}

static void values_free(struct values *vs)
{
        for (size_t i = 0; i < vs->n; i++)
                free(vs->v[i]);
}

static char *get(const struct ctr_config *c, const char *key)
{
        char *v = NULL;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_config_get(c, key, &v, &err), 0, "get %s: %s", key, err.msg);
        return v;
}

/* How a value comes in: `config set` (by_flag false) or the key's CLI flag. */
static int put(struct ctr_config *c, const struct ctr_config_key *k, bool by_flag, const char *v, struct ctr_error *err)
{
        return by_flag ? ctr_config_flag(c, k, k->flag_value ? NULL : v, err) : ctr_config_set(c, k->name, v, err);
}

static void round_trip(const struct ctr_config_key *k, bool by_flag, const char *v)
{
        struct ctr_config c, back;
        struct ctr_error err = {0};
        ctr_config_init(&c, "web");
        _cleanup_free_ char *before = get(&c, k->name);
        cr_assert_eq(put(&c, k, by_flag, v, &err), 0, "%s %s '%s' refused: %s", by_flag ? "flag of" : "set", k->name,
                     v, err.msg);
        cr_assert_eq(ctr_config_validate(&c, &err), 0, "%s '%s' accepted, then invalid: %s", k->name, v, err.msg);
        _cleanup_free_ char *now = get(&c, k->name), *text = ctr_config_to_json(&c);
        bool scalar = k->type != CTR_KEY_CUSTOM && k->type != CTR_KEY_STRV;
        if (scalar && !k->flag_value && strcmp(v, "null") && !(k->unset && !strcmp(v, k->unset)))
                cr_assert_str_eq(now, v, "%s: set '%s', got '%s'", k->name, v, now);
        if (!scalar && by_flag)
                cr_assert_str_neq(now, before, "flag of %s '%s' changed nothing", k->name, v);
        cr_assert_eq(ctr_config_parse(text, &back, &err), 0, "%s '%s': the loader refuses what was saved: %s\n%s",
                     k->name, v, err.msg, text);
        _cleanup_free_ char *again = get(&back, k->name), *text2 = ctr_config_to_json(&back);
        cr_assert_str_eq(again, now, "%s '%s': read back as '%s', not '%s'", k->name, v, again, now);
        cr_assert_str_eq(text2, text, "%s '%s': the document changed in a round trip", k->name, v);
        ctr_config_free(&back);
        ctr_config_free(&c);
}

static void refusal(const struct ctr_config_key *k, bool by_flag, const char *v)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "web");
        _cleanup_free_ char *before = ctr_config_to_json(&c);
        int r = put(&c, k, by_flag, v, &err);
        cr_assert_lt(r, 0, "%s %s '%s' accepted", by_flag ? "flag of" : "set", k->name, v);
        cr_assert_eq(err.errnum, -r);
        cr_assert_str_not_empty(err.msg);
        cr_assert_null(strchr(err.msg, '\n'), "message spans lines: %s", err.msg);
        _cleanup_free_ char *who = by_flag ? xasprintf("--%s", k->flag) : xstrdup(k->name);
        cr_assert(strstr(err.msg, who), "%s '%s': the message does not name %s: %s", k->name, v, who, err.msg);
        _cleanup_free_ char *after = ctr_config_to_json(&c);
        cr_assert_str_eq(after, before, "%s '%s' refused, but the config changed", k->name, v);
        ctr_config_free(&c);
}

Test(config_table, accepted_values_round_trip)
{
        size_t n, walked = 0;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        for (size_t i = 0; i < n; i++) {
                const struct ctr_config_key *k = &keys[i];
                for (int by_flag = 0; by_flag < 2; by_flag++) {
                        if (by_flag ? !k->flag : !(k->flags & CTR_KEY_SET))
                                continue;
                        /* A flag naming a file takes it as it exists on this machine. */
                        if (by_flag && (k->flags & CTR_KEY_REALPATH))
                                continue;
                        struct values vs = {0};
                        accepted(k, &vs);
                        for (size_t j = 0; j < vs.n; j++)
                                if (!(by_flag && !strcmp(vs.v[j], "null")))
                                        round_trip(k, by_flag, vs.v[j]);
                        values_free(&vs);
                        walked++;
                }
        }
        cr_assert_gt(walked, 30, "only %zu ways into keys walked", walked);
}

Test(config_table, refused_values_change_nothing)
{
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        for (size_t i = 0; i < n; i++) {
                const struct ctr_config_key *k = &keys[i];
                for (int by_flag = 0; by_flag < 2; by_flag++) {
                        if (by_flag ? !k->flag || k->flag_value : !(k->flags & CTR_KEY_SET))
                                continue;
                        struct values vs = {0};
                        refused(k, &vs);
                        for (size_t j = 0; j < vs.n; j++)
                                refusal(k, by_flag, vs.v[j]);
                        values_free(&vs);
                }
        }
}

/* The reported bugs, by name: each was accepted by one entry point and refused by the loader. */
Test(config_table, pids_and_memory_bounds)
{
        static const struct {
                const char *flag, *key, *value;
        } bad[] = {
                {"pids", "limits.pids", "3000000000"}, {"pids", "limits.pids", "0"},
                {"memory", "limits.memory", "0"},      {"cpus", "limits.cpus", "0"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const struct ctr_config_key *k = ctr_config_key_for_flag(bad[i].flag, 0);
                cr_assert_not_null(k);
                cr_assert_str_eq(k->name, bad[i].key);
                refusal(k, true, bad[i].value);
                refusal(k, false, bad[i].value);
        }
}

/* 0 means unset for a nullable number, so no nullable number may have 0 in its range. */
Test(config_table, unset_is_not_a_value)
{
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        for (size_t i = 0; i < n; i++) {
                const struct ctr_config_key *k = &keys[i];
                if (!(k->flags & CTR_KEY_NULLABLE))
                        continue;
                if (k->type == CTR_KEY_INT)
                        cr_assert_gt(k->min, 0, "%s", k->name);
                if (k->type == CTR_KEY_SIZE)
                        cr_assert_gt(k->smin, 0, "%s", k->name);
                if (k->type == CTR_KEY_DOUBLE)
                        cr_assert_gt(k->dmin, 0, "%s", k->name);
        }
}

Test(config_table, defaults_are_the_tables)
{
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        struct ctr_config c;
        ctr_config_init(&c, "web");
        for (size_t i = 0; i < n; i++) {
                const struct ctr_config_key *k = &keys[i];
                if (!strcmp(k->name, "name") || !strcmp(k->name, "hostname"))
                        continue; /* the name's, below */
                _cleanup_free_ char *v = get(&c, k->name);
                const char *want = k->def ? k->def
                                   : k->type == CTR_KEY_BOOL ? "false"
                                   : k->type == CTR_KEY_STRV || k->type == CTR_KEY_CUSTOM ? NULL
                                   : "null";
                if (want)
                        cr_assert_str_eq(v, want, "default of %s", k->name);
        }
        ctr_config_free(&c);
}

Test(config_table, flags_name_one_key_each)
{
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        for (size_t i = 0; i < n; i++) {
                if (!keys[i].flag)
                        continue;
                cr_assert_eq(ctr_config_key_for_flag(keys[i].flag, 0), &keys[i], "--%s", keys[i].flag);
                if (keys[i].short_flag)
                        cr_assert_eq(ctr_config_key_for_flag(NULL, keys[i].short_flag), &keys[i]);
                cr_assert_eq(ctr_config_key_find(keys[i].name), &keys[i]);
        }
        cr_assert_null(ctr_config_key_find("limits"));
        cr_assert_null(ctr_config_key_for_flag("bogus", 0));
}

/* A config filled from flags before its name is known gets the hostname of the name it is
 * given (ctr run's generated one), unless a hostname was chosen. */
Test(config_table, hostname_defaults_to_the_name)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, NULL);
        cr_assert_null(c.hostname);
        ctr_config_set_name(&c, "run-0a1b2c3d4e5f");
        cr_assert_str_eq(c.name, "run-0a1b2c3d4e5f");
        cr_assert_str_eq(c.hostname, "run-0a1b2c3d4e5f");
        cr_assert_eq(ctr_config_validate(&c, &err), 0, "%s", err.msg);
        ctr_config_free(&c);

        ctr_config_init(&c, NULL);
        cr_assert_eq(ctr_config_flag(&c, ctr_config_key_for_flag("hostname", 0), "given", &err), 0, "%s", err.msg);
        ctr_config_set_name(&c, "run-1");
        cr_assert_str_eq(c.hostname, "given");
        ctr_config_free(&c);

        ctr_config_init(&c, NULL);
        ctr_config_set_name(&c, "web_1");
        cr_assert_str_eq(c.hostname, "web-1");
        ctr_config_free(&c);

        ctr_config_init(&c, "named");
        cr_assert_str_eq(c.hostname, "named");
        ctr_config_free(&c);
}

/* The manual stays true to the table: every settable key is in ctr-config(1) and every flag
 * that sets a key in ctr-create(1) (groff spells '-' as "\-"). Run from the source tree. */
static char *man_text(const char *path)
{
        char *text = NULL;
        cr_assert_eq(ctr_read_file(path, 1 << 20, &text, NULL), 0, "read %s (run from the source tree)", path);
        return text;
}

Test(config_table, manual_lists_the_keys)
{
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n);
        _cleanup_free_ char *cfg1 = man_text("man/ctr-config.1"), *create = man_text("man/ctr-create.1");
        for (size_t i = 0; i < n; i++) {
                const struct ctr_config_key *k = &keys[i];
                if ((k->flags & CTR_KEY_SET) && !strstr(cfg1, k->name))
                        cr_assert_fail("settable key %s is not in man/ctr-config.1", k->name);
                if (!k->flag)
                        continue;
                char opt[96] = "\\-\\-", *o = opt + 4;
                for (const char *p = k->flag; *p && o < opt + sizeof(opt) - 3; p++) {
                        if (*p == '-')
                                *o++ = '\\';
                        *o++ = *p;
                }
                cr_assert(strstr(create, opt), "--%s (key %s) is not in man/ctr-create.1", k->flag, k->name);
        }
}
