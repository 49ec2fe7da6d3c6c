/* Unit tests for runtime/config.c: strict parsing with key-naming errors, validation, the
 * JSON round trip, environment and volume helpers, and atomic load/save through a temp dir. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include "../../cgroups/cgroups.h"
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../runtime/config.h"
#include "../../base/util.h"

static const char full_doc[] =
        "{\n"
        "  \"version\": 1,\n"
        "  \"name\": \"web-1\",\n"
        "  \"template\": {\"name\": \"debian\", \"release\": \"bookworm\", \"arch\": \"amd64\"},\n"
        "  \"storage\": {\"driver\": \"overlay\", \"lower\": \"/var/cache/ctr/templates/debian-bookworm-amd64/1/rootfs\"},\n"
        "  \"uuid\": \"0f1e2d3c-4b5a-4697-8877-665544332211\",\n"
        "  \"autostart\": true,\n"
        "  \"init\": [\"/sbin/init\", \"--log-level=info\", \"a b\"],\n"
        "  \"hostname\": \"web1.example\",\n"
        "  \"mode\": \"container\",\n"
        "  \"limits\": {\"memory\": \"512M\", \"memory_high\": \"256M\", \"cpus\": 1.5,\n"
        "             \"cpu_weight\": 200, \"pids\": 500},\n"
        "  \"network\": {\"mode\": \"host\"},\n"
        "  \"mounts\": [{\"source\": \"/srv/data\", \"target\": \"/data\", \"readonly\": true},\n"
        "             {\"source\": \"/srv/logs\", \"target\": \"/var/log/app\", \"readonly\": false}],\n"
        "  \"environment\": {\"FOO\": \"bar\", \"EMPTY\": \"\", \"ODD\": \"a\\\"b\\nc=d\"},\n"
        "  \"stop\": {\"signal\": \"SIGTERM\", \"timeout\": 10}\n"
        "}\n";

static void assert_str_or_null_eq(const char *a, const char *b, const char *what)
{
        if (!a || !b)
                cr_assert(a == b, "%s: %s vs %s", what, a ? a : "(null)", b ? b : "(null)");
        else
                cr_assert_str_eq(a, b, "%s", what);
}

static void assert_strv_eq(char **a, char **b, const char *what)
{
        cr_assert_eq(strv_len(a), strv_len(b), "%s: lengths %zu vs %zu", what, strv_len(a), strv_len(b));
        for (size_t i = 0; i < strv_len(a); i++)
                cr_assert_str_eq(a[i], b[i], "%s[%zu]", what, i);
}

static void assert_config_eq(const struct ctr_config *a, const struct ctr_config *b)
{
        cr_assert_eq(a->version, b->version);
        assert_str_or_null_eq(a->name, b->name, "name");
        assert_str_or_null_eq(a->template_name, b->template_name, "template.name");
        assert_str_or_null_eq(a->template_release, b->template_release, "template.release");
        assert_str_or_null_eq(a->template_arch, b->template_arch, "template.arch");
        assert_str_or_null_eq(a->storage_driver, b->storage_driver, "storage.driver");
        assert_str_or_null_eq(a->storage_lower, b->storage_lower, "storage.lower");
        assert_str_or_null_eq(a->template_dist, b->template_dist, "template.dist");
        assert_str_or_null_eq(a->uuid, b->uuid, "uuid");
        cr_assert_eq(a->autostart, b->autostart, "autostart");
        assert_strv_eq(a->init, b->init, "init");
        assert_str_or_null_eq(a->hostname, b->hostname, "hostname");
        cr_assert_eq(a->limits.memory, b->limits.memory);
        cr_assert_eq(a->limits.memory_high, b->limits.memory_high);
        cr_assert_float_eq(a->limits.cpus, b->limits.cpus, 1e-9);
        cr_assert_eq(a->limits.cpu_weight, b->limits.cpu_weight);
        cr_assert_eq(a->limits.pids, b->limits.pids);
        cr_assert_eq(a->net_mode, b->net_mode);
        cr_assert_eq(a->n_mounts, b->n_mounts);
        for (size_t i = 0; i < a->n_mounts; i++) {
                cr_assert_str_eq(a->mounts[i].source, b->mounts[i].source);
                cr_assert_str_eq(a->mounts[i].target, b->mounts[i].target);
                cr_assert_eq(a->mounts[i].readonly, b->mounts[i].readonly);
        }
        assert_strv_eq(a->env, b->env, "env");
        assert_str_or_null_eq(a->stop_signal, b->stop_signal, "stop.signal");
        cr_assert_eq(a->stop_timeout, b->stop_timeout);
}

Test(config, full_document_fields)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        int r = ctr_config_parse(full_doc, &c, &err);
        cr_assert_eq(r, 0, "parse failed: %s", err.msg);

        cr_assert_eq(c.version, 1);
        cr_assert_str_eq(c.name, "web-1");
        cr_assert_str_eq(c.template_name, "debian");
        cr_assert_str_eq(c.template_release, "bookworm");
        cr_assert_str_eq(c.template_arch, "amd64");
        cr_assert_str_eq(c.storage_driver, "overlay");
        cr_assert(c.autostart);
        cr_assert_str_eq(c.uuid, "0f1e2d3c-4b5a-4697-8877-665544332211");
        cr_assert_eq(strv_len(c.init), 3);
        cr_assert_str_eq(c.init[0], "/sbin/init");
        cr_assert_str_eq(c.init[1], "--log-level=info");
        cr_assert_str_eq(c.init[2], "a b");
        cr_assert_str_eq(c.hostname, "web1.example");
        cr_assert_eq(c.limits.memory, 512ULL << 20);
        cr_assert_eq(c.limits.memory_high, 256ULL << 20);
        cr_assert_float_eq(c.limits.cpus, 1.5, 1e-9);
        cr_assert_eq(c.limits.cpu_weight, 200);
        cr_assert_eq(c.limits.pids, 500);
        cr_assert_eq(c.net_mode, CTR_NET_HOST);
        cr_assert_eq(c.n_mounts, 2);
        cr_assert_str_eq(c.mounts[0].source, "/srv/data");
        cr_assert_str_eq(c.mounts[0].target, "/data");
        cr_assert(c.mounts[0].readonly);
        cr_assert_str_eq(c.mounts[1].source, "/srv/logs");
        cr_assert_str_eq(c.mounts[1].target, "/var/log/app");
        cr_assert_not(c.mounts[1].readonly);
        cr_assert_eq(strv_len(c.env), 3);
        cr_assert_str_eq(c.env[0], "FOO=bar");
        cr_assert_str_eq(c.env[1], "EMPTY=");
        cr_assert_str_eq(c.env[2], "ODD=a\"b\nc=d");
        cr_assert_str_eq(c.stop_signal, "SIGTERM");
        cr_assert_eq(c.stop_timeout, 10);
        ctr_config_free(&c);
}

Test(config, full_document_round_trip)
{
        struct ctr_config a, b;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_config_parse(full_doc, &a, &err), 0, "%s", err.msg);
        _cleanup_free_ char *text = ctr_config_to_json(&a);
        cr_assert_not_null(text);
        cr_assert_eq(ctr_config_parse(text, &b, &err), 0, "reparse failed: %s\n%s", err.msg, text);
        assert_config_eq(&a, &b);
        /* Serialising again gives the same text: the form is canonical. */
        _cleanup_free_ char *text2 = ctr_config_to_json(&b);
        cr_assert_str_eq(text, text2);
        ctr_config_free(&a);
        ctr_config_free(&b);
}

Test(config, defaults_round_trip)
{
        struct ctr_config a, b;
        struct ctr_error err = {0};
        ctr_config_init(&a, "box");
        cr_assert_eq(a.version, CTR_CONFIG_VERSION);
        cr_assert_str_eq(a.hostname, "box");
        cr_assert_str_eq(a.storage_driver, "dir");
        cr_assert_str_eq(a.init[0], "/sbin/init");
        cr_assert_null(a.init[1]);
        cr_assert_eq(a.net_mode, CTR_NET_BRIDGE);
        cr_assert_null(a.stop_signal);
        cr_assert_eq(a.stop_timeout, 30);
        cr_assert_eq(ctr_config_validate(&a, &err), 0, "%s", err.msg);
        _cleanup_free_ char *text = ctr_config_to_json(&a);
        cr_assert_eq(ctr_config_parse(text, &b, &err), 0, "%s\n%s", err.msg, text);
        assert_config_eq(&a, &b);
        ctr_config_free(&a);
        ctr_config_free(&b);
}

Test(config, edited_config_round_trip)
{
        /* A config built in memory (as `ctr create` does) survives to_json -> parse. */
        struct ctr_config a, b;
        struct ctr_error err = {0};
        ctr_config_init(&a, "db");
        a.limits.memory = 3ULL << 30;
        a.limits.cpus = 0.25;
        a.limits.pids = 64;
        a.net_mode = CTR_NET_HOST;
        a.stop_signal = xstrdup("SIGRTMIN+3");
        a.stop_timeout = 0;
        cr_assert_eq(ctr_config_env_set(&a.env, "LANG=C.UTF-8", &err), 0);
        a.mounts = calloc(1, sizeof(*a.mounts));
        cr_assert_eq(ctr_config_parse_volume("/srv/db:/var/lib/db:ro", &a.mounts[0], &err), 0);
        a.n_mounts = 1;
        _cleanup_free_ char *text = ctr_config_to_json(&a);
        cr_assert_eq(ctr_config_parse(text, &b, &err), 0, "%s\n%s", err.msg, text);
        assert_config_eq(&a, &b);
        ctr_config_free(&a);
        ctr_config_free(&b);
}

Test(config, minimal_document)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_config_parse("{\"version\": 1, \"name\": \"tiny\"}", &c, &err), 0, "%s", err.msg);
        cr_assert_str_eq(c.name, "tiny");
        cr_assert_str_eq(c.init[0], "/sbin/init");
        cr_assert_str_eq(c.hostname, "tiny");
        cr_assert_eq(c.n_mounts, 0);
        cr_assert_null(c.env);
        ctr_config_free(&c);
}

Test(config, nulls_mean_unset)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        const char *doc = "{\"version\":1,\"name\":\"n\",\"template\":{\"name\":null,\"release\":null},"
                          "\"limits\":{\"memory\":null,\"memory_high\":null,\"cpus\":null,\"cpu_weight\":null,"
                          "\"pids\":null},\"stop\":{\"signal\":null}}";
        cr_assert_eq(ctr_config_parse(doc, &c, &err), 0, "%s", err.msg);
        cr_assert_null(c.template_name);
        cr_assert_eq(c.limits.memory, 0);
        cr_assert_eq(c.limits.cpus, 0);
        cr_assert_eq(c.limits.pids, 0);
        cr_assert_null(c.stop_signal);
        ctr_config_free(&c);
}

/* A hand-written config may leave out the hostname; the name is a valid container name but not
 * a valid host name ('_'). Parsing must not fail on a key the document does not contain. */
Test(config, missing_hostname_with_underscore_name)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        int r = ctr_config_parse("{\"version\": 1, \"name\": \"web_1\"}", &c, &err);
        cr_assert_eq(r, 0, "config without 'hostname' refused: %s", err.msg);
        cr_assert(c.hostname == NULL || ctr_hostname_valid(c.hostname));
        ctr_config_free(&c);
}

struct bad_case {
        const char *doc;
        int errnum;
        const char *substr;
};

static void check_bad(const struct bad_case *t)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        memset(&c, 0x5a, sizeof(c));
        int r = ctr_config_parse(t->doc, &c, &err);
        if (r == 0)
                ctr_config_free(&c);
        cr_assert_eq(r, -t->errnum, "doc %s: got %d (%s), want %d", t->doc, r, err.msg, -t->errnum);
        cr_assert_eq(err.errnum, t->errnum, "doc %s: errnum %d", t->doc, err.errnum);
        cr_assert_not_null(strstr(err.msg, t->substr), "doc %s: message '%s' lacks '%s'", t->doc, err.msg, t->substr);
        cr_assert_null(strchr(err.msg, '\n'), "doc %s: message spans lines: '%s'", t->doc, err.msg);
        cr_assert_str_not_empty(err.op);
}

#define DOC(rest) "{\"version\": 1, \"name\": \"x\"" rest "}"

Test(config, unknown_keys_are_named)
{
        static const struct bad_case cases[] = {
                {DOC(", \"foo\": 1"), EINVAL, "unknown key 'foo'"},
                {DOC(", \"limits\": {\"foo\": 1}"), EINVAL, "unknown key 'limits.foo'"},
                {DOC(", \"template\": {\"flavour\": \"x\"}"), EINVAL, "unknown key 'template.flavour'"},
                {DOC(", \"storage\": {\"size\": \"1G\"}"), EINVAL, "unknown key 'storage.size'"},
                {DOC(", \"network\": {\"bridges\": \"br0\"}"), EINVAL, "unknown key 'network.bridges'"},
                {DOC(", \"stop\": {\"grace\": 3}"), EINVAL, "unknown key 'stop.grace'"},
                {DOC(", \"mounts\": [{\"source\": \"/a\", \"target\": \"/b\", \"opts\": \"x\"}]"), EINVAL,
                 "unknown key 'mounts[].opts'"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_bad(&cases[i]);
}

Test(config, wrong_types_are_named)
{
        static const struct bad_case cases[] = {
                {"{\"version\": 1, \"name\": 3}", EINVAL, "key 'name' must be a string"},
                {DOC(", \"init\": \"/sbin/init\""), EINVAL, "key 'init' must be an array of strings, not string"},
                {DOC(", \"init\": [\"/sbin/init\", 1]"), EINVAL, "key 'init' must be an array of strings"},
                {DOC(", \"hostname\": 5"), EINVAL, "key 'hostname' must be a string, not number"},
                {DOC(", \"template\": \"debian\""), EINVAL, "key 'template' must be an object, not string"},
                {DOC(", \"template\": {\"name\": 3}"), EINVAL, "key 'template.name' must be a string or null"},
                {DOC(", \"storage\": {\"driver\": null}"), EINVAL, "key 'storage.driver' must be a string, not null"},
                {DOC(", \"limits\": []"), EINVAL, "key 'limits' must be an object, not array"},
                {DOC(", \"limits\": {\"memory\": 512}"), EINVAL, "key 'limits.memory' must be a size string"},
                {DOC(", \"limits\": {\"memory_high\": true}"), EINVAL, "key 'limits.memory_high' must be"},
                {DOC(", \"limits\": {\"cpus\": \"2\"}"), EINVAL,
                 "key 'limits.cpus' must be a number or null, not string"},
                {DOC(", \"limits\": {\"cpu_weight\": \"100\"}"), EINVAL, "key 'limits.cpu_weight' must be an integer"},
                {DOC(", \"limits\": {\"pids\": 1.5}"), EINVAL, "key 'limits.pids' must be an integer or null"},
                {DOC(", \"network\": \"host\""), EINVAL, "key 'network' must be an object"},
                {DOC(", \"network\": {\"mode\": 1}"), EINVAL, "key 'network.mode' must be a string"},
                {DOC(", \"mounts\": {}"), EINVAL, "key 'mounts' must be an array"},
                {DOC(", \"mounts\": [\"/a:/b\"]"), EINVAL, "key 'mounts[]' must be an object, not string"},
                {DOC(", \"mounts\": [{\"source\": \"/a\", \"target\": \"/b\", \"readonly\": \"yes\"}]"), EINVAL,
                 "key 'mounts[].readonly' must be a boolean"},
                {DOC(", \"mounts\": [{\"source\": 1, \"target\": \"/b\"}]"), EINVAL,
                 "key 'mounts[].source' must be a string"},
                {DOC(", \"environment\": [\"A=1\"]"), EINVAL, "key 'environment' must be an object of strings"},
                {DOC(", \"environment\": {\"A\": 1}"), EINVAL, "key 'environment' must be an object of strings"},
                {DOC(", \"stop\": {\"timeout\": \"5\"}"), EINVAL, "key 'stop.timeout' must be an integer"},
                {DOC(", \"stop\": {\"signal\": 15}"), EINVAL, "key 'stop.signal' must be a string or null"},
                {DOC(", \"mode\": \"kvm\""), EINVAL, "key 'mode' must be \"container\" or \"vm\""},
                {DOC(", \"vm\": {\"vcpus\": 0}"), ERANGE, "vm.vcpus"},
                {DOC(", \"vm\": {\"disk\": 1}"), EINVAL, "vm.disk"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_bad(&cases[i]);
}

Test(config, version_checks)
{
        static const struct bad_case cases[] = {
                {"{\"name\": \"x\"}", EINVAL, "missing key 'version'"},
                {"{\"version\": \"1\", \"name\": \"x\"}", EINVAL, "key 'version' must be a positive integer"},
                {"{\"version\": 0, \"name\": \"x\"}", EINVAL, "key 'version' must be a positive integer"},
                {"{\"version\": 1.0, \"name\": \"x\"}", EINVAL, "key 'version' must be a positive integer"},
                {"{\"version\": 2, \"name\": \"x\"}", EPROTONOSUPPORT, "version 2 is newer"},
                {"{\"version\": 99, \"name\": \"x\", \"futurekey\": {}}", EPROTONOSUPPORT, "version 99"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_bad(&cases[i]);
}

Test(config, invalid_values_are_named)
{
        static const struct bad_case cases[] = {
                {"{\"version\": 1}", EINVAL, "key 'name' must be a string"},
                {"{\"version\": 1, \"name\": \"../x\"}", EINVAL, "name '../x' is invalid"},
                {"{\"version\": 1, \"name\": \"\"}", EINVAL, "name '' is invalid"},
                {"{\"version\": 1, \"name\": \"a/b\", \"hostname\": \"ab\"}", EINVAL, "name 'a/b' is invalid"},
                {DOC(", \"init\": [\"sbin/init\"]"), EINVAL, "key 'init' must start with an absolute path"},
                {DOC(", \"init\": []"), EINVAL, "key 'init' must start with an absolute path"},
                {DOC(", \"hostname\": \"bad_host\""), EINVAL, "key 'hostname': 'bad_host' is not a valid host name"},
                {DOC(", \"hostname\": \"-lead\""), EINVAL, "key 'hostname'"},
                {DOC(", \"hostname\": \"\""), EINVAL, "key 'hostname'"},
                {DOC(", \"limits\": {\"memory\": \"12X\"}"), EINVAL, "key 'limits.memory': '12X' is not a size"},
                {DOC(", \"limits\": {\"memory\": \"1.5G\"}"), EINVAL, "key 'limits.memory': '1.5G' is not a size"},
                {DOC(", \"limits\": {\"memory_high\": \"\"}"), EINVAL, "key 'limits.memory_high': '' is not a size"},
                {DOC(", \"limits\": {\"memory\": \"512K\"}"), ERANGE, "key 'limits.memory': 512K is out of range 1M.."},
                {DOC(", \"limits\": {\"cpus\": 5000}"), ERANGE, "key 'limits.cpus': 5000 is out of range 0.01..4096"},
                {DOC(", \"limits\": {\"cpus\": -1}"), ERANGE, "key 'limits.cpus'"},
                {DOC(", \"limits\": {\"cpus\": 0.001}"), ERANGE, "key 'limits.cpus'"},
                {DOC(", \"limits\": {\"cpu_weight\": 0}"), ERANGE,
                 "key 'limits.cpu_weight': 0 is out of range 1..10000"},
                {DOC(", \"limits\": {\"cpu_weight\": 10001}"), ERANGE, "key 'limits.cpu_weight'"},
                {DOC(", \"limits\": {\"pids\": 0}"), ERANGE, "key 'limits.pids'"},
                {DOC(", \"limits\": {\"pids\": -5}"), ERANGE, "key 'limits.pids'"},
                {DOC(", \"mounts\": [{\"source\": \"srv\", \"target\": \"/b\"}]"), EINVAL,
                 "mounts[0]: source and target must be absolute"},
                {DOC(", \"mounts\": [{\"source\": \"/a\", \"target\": \"/b\"}, {\"source\": \"/a\", \"target\": "
                     "\"/x/../../etc\"}]"),
                 EINVAL, "mounts[1]"},
                {DOC(", \"mounts\": [{\"source\": \"/a/..\", \"target\": \"/b\"}]"), EINVAL, "mounts[0]"},
                {DOC(", \"mounts\": [{\"target\": \"/b\"}]"), EINVAL, "mounts[0]"},
                {DOC(", \"network\": {\"mode\": \"bridged\"}"), EINVAL, "key 'network.mode': mode 'bridged'"},
                {DOC(", \"network\": {\"ipv4\": \"10.1\"}"), EINVAL, "key 'network.ipv4': '10.1'"},
                {DOC(", \"storage\": {\"driver\": \"zfs\"}"), EINVAL, "key 'storage.driver': 'zfs'"},
                {DOC(", \"storage\": {\"driver\": \"overlay\"}"), EINVAL, "key 'storage.lower' must be absolute paths"},
                {DOC(", \"storage\": {\"driver\": \"overlay\", \"lower\": \"/a,upperdir=/etc\"}"), EINVAL,
                 "key 'storage.lower'"},
                {DOC(", \"uuid\": \"not-a-uuid\""), EINVAL, "key 'uuid'"},
                {DOC(", \"autostart\": \"yes\""), EINVAL, "key 'autostart'"},
                {DOC(", \"stop\": {\"signal\": \"SIGBOGUS\"}"), EINVAL,
                 "key 'stop.signal': 'SIGBOGUS' is not a signal"},
                {DOC(", \"stop\": {\"signal\": \"0\"}"), EINVAL, "key 'stop.signal'"},
                {DOC(", \"stop\": {\"timeout\": 100000}"), ERANGE, "key 'stop.timeout'"},
                {DOC(", \"stop\": {\"timeout\": -1}"), ERANGE, "key 'stop.timeout'"},
                {DOC(", \"environment\": {\"1BAD\": \"x\"}"), EINVAL, "'1BAD=x' is not KEY=VALUE"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_bad(&cases[i]);
}

/* A number too large for a double must not silently become 0, which means "no CPU limit". */
Test(config, cpus_overflow_refused)
{
        static const struct bad_case c = {DOC(", \"limits\": {\"cpus\": 1e999}"), ERANGE, "key 'limits.cpus'"};
        check_bad(&c);
}

Test(config, malformed_documents)
{
        static const struct bad_case cases[] = {
                {"{\"version\": 1, \"name\": ", EINVAL, ""},
                {"{\"version\": 1, \"name\": \"x\"", EINVAL, ""},
                {"hello world", EINVAL, ""},
                {"", EINVAL, ""},
                {"{\"version\": 1,, \"name\": \"x\"}", EINVAL, ""},
                {"[1, 2]", EINVAL, "must be an object, not array"},
                {"\"text\"", EINVAL, "must be an object, not string"},
                {"42", EINVAL, "must be an object, not number"},
                {"null", EINVAL, "must be an object"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                check_bad(&cases[i]);
        /* Syntax errors are reported by the JSON layer, on one line, with some text. */
        struct ctr_config c;
        struct ctr_error err = {0};
        cr_assert_lt(ctr_config_parse("{\"version\": 1, \"na", &c, &err), 0);
        cr_assert_str_eq(err.op, "json");
        cr_assert_str_not_empty(err.msg);
}

/* yajl accepts repeated keys; a repeated "mounts" must not leave n_mounts pointing past the
 * array allocated for the second occurrence. Either refusing the document or keeping the last
 * value is fine; reading or freeing out of bounds is not. */
Test(config, repeated_mounts_key)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        const char *doc = DOC(", \"mounts\": [{\"source\": \"/a\", \"target\": \"/a\"}, {\"source\": \"/b\", "
                              "\"target\": \"/b\"}], \"mounts\": [{\"source\": \"/c\", \"target\": \"/c\"}]");
        int r = ctr_config_parse(doc, &c, &err);
        if (r == 0) {
                cr_assert_eq(c.n_mounts, 1, "n_mounts %zu after a repeated 'mounts' key", c.n_mounts);
                cr_assert_str_eq(c.mounts[0].source, "/c");
                ctr_config_free(&c);
        } else
                cr_assert_eq(err.errnum, EINVAL);
}

Test(config, validate_direct)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "ok");
        cr_assert_eq(ctr_config_validate(&c, &err), 0);
        c.limits.cpus = NAN;
        cr_assert_eq(ctr_config_validate(&c, &err), -ERANGE);
        c.limits.cpus = 4096;
        cr_assert_eq(ctr_config_validate(&c, &err), 0);
        c.limits.cpus = 0.01;
        cr_assert_eq(ctr_config_validate(&c, &err), 0);
        c.limits.memory = 1 << 20;
        cr_assert_eq(ctr_config_validate(&c, &err), 0);
        free(c.init[0]);
        c.init[0] = xstrdup("sbin/init");
        cr_assert_eq(ctr_config_validate(&c, &err), -EINVAL);
        cr_assert_not_null(strstr(err.msg, "'init'"));
        /* A bare command name is looked up in PATH (ctr run's commands). */
        free(c.init[0]);
        c.init[0] = xstrdup("make");
        cr_assert_eq(ctr_config_validate(&c, &err), 0);
        ctr_config_free(&c);
}

Test(config, net_mode_names)
{
        enum ctr_net_mode m = CTR_NET_HOST;
        cr_assert_str_eq(ctr_net_mode_name(CTR_NET_NONE), "none");
        cr_assert_str_eq(ctr_net_mode_name(CTR_NET_HOST), "host");
        cr_assert_eq(ctr_net_mode_from_name("none", &m), 0);
        cr_assert_eq(m, CTR_NET_NONE);
        cr_assert_eq(ctr_net_mode_from_name("host", &m), 0);
        cr_assert_eq(m, CTR_NET_HOST);
        cr_assert_eq(ctr_net_mode_from_name("bridge", &m), 0);
        cr_assert_eq(m, CTR_NET_BRIDGE);
        cr_assert_eq(ctr_net_mode_from_name("netns", &m), -EINVAL, "netns takes a path");
        cr_assert_eq(ctr_net_mode_from_name("", &m), -EINVAL);
}

Test(config, hostname_valid)
{
        cr_assert(ctr_hostname_valid("a"));
        cr_assert(ctr_hostname_valid("web-1.example.com"));
        cr_assert(ctr_hostname_valid("1abc"));
        cr_assert_not(ctr_hostname_valid(NULL));
        cr_assert_not(ctr_hostname_valid(""));
        cr_assert_not(ctr_hostname_valid("-a"));
        cr_assert_not(ctr_hostname_valid(".a"));
        cr_assert_not(ctr_hostname_valid("a_b"));
        cr_assert_not(ctr_hostname_valid("a b"));
        char h[80];
        memset(h, 'h', sizeof(h));
        h[64] = 0;
        cr_assert(ctr_hostname_valid(h));
        h[64] = 'h';
        h[65] = 0;
        cr_assert_not(ctr_hostname_valid(h));
}

Test(config, env_set_and_replace)
{
        _cleanup_strv_ char **env = NULL;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_config_env_set(&env, "A=1", &err), 0);
        cr_assert_eq(ctr_config_env_set(&env, "AB=2", &err), 0);
        cr_assert_eq(ctr_config_env_set(&env, "B=", &err), 0);
        cr_assert_eq(strv_len(env), 3);
        /* Replacing A must not touch AB, whose name starts with A. */
        cr_assert_eq(ctr_config_env_set(&env, "A=x=y", &err), 0);
        cr_assert_eq(strv_len(env), 3);
        cr_assert_str_eq(env[0], "A=x=y");
        cr_assert_str_eq(env[1], "AB=2");
        cr_assert_str_eq(env[2], "B=");
        cr_assert_eq(ctr_config_env_set(&env, "B=later", &err), 0);
        cr_assert_str_eq(env[2], "B=later");
        cr_assert_eq(ctr_config_env_set(&env, "_under_9=ok", &err), 0);
        cr_assert_eq(strv_len(env), 4);
        cr_assert_null(env[4]);
}

Test(config, env_set_refuses_bad_keys)
{
        static const char *const bad[] = {"NOEQUALS", "=value", "1A=x", "A-B=x", "A B=x", "A.B=x", ""};
        _cleanup_strv_ char **env = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_error err = {0};
                cr_assert_eq(ctr_config_env_set(&env, bad[i], &err), -EINVAL, "'%s' accepted", bad[i]);
                cr_assert_not_null(strstr(err.msg, "KEY=VALUE"), "%s", err.msg);
        }
        cr_assert_eq(strv_len(env), 0);
}

Test(config, volume_good)
{
        struct ctr_error err = {0};
        struct ctr_mount m = {0};
        cr_assert_eq(ctr_config_parse_volume("/srv/a:/data", &m, &err), 0, "%s", err.msg);
        cr_assert_str_eq(m.source, "/srv/a");
        cr_assert_str_eq(m.target, "/data");
        cr_assert_not(m.readonly);
        free(m.source);
        free(m.target);

        cr_assert_eq(ctr_config_parse_volume("/srv/a:/data:ro", &m, &err), 0, "%s", err.msg);
        cr_assert_str_eq(m.target, "/data");
        cr_assert(m.readonly);
        free(m.source);
        free(m.target);

        cr_assert_eq(ctr_config_parse_volume("/srv/a:/data:rw", &m, &err), 0, "%s", err.msg);
        cr_assert_not(m.readonly);
        free(m.source);
        free(m.target);

        /* ".." inside a name is not a parent reference. */
        cr_assert_eq(ctr_config_parse_volume("/srv/a..b:/x..", &m, &err), 0, "%s", err.msg);
        free(m.source);
        free(m.target);
}

Test(config, volume_bad)
{
        static const char *const bad[] = {
                "/srv/a",          "a:b",   "srv:/data", "/srv:data",      "/srv:/data:rx",
                "/srv:/data:ro:x", "/srv:", ":/data",    "/srv/../etc:/x", "/srv:/data/..",
                "/srv:/../x",      "",      "/srv:/d:",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_error err = {0};
                struct ctr_mount m = {0};
                int r = ctr_config_parse_volume(bad[i], &m, &err);
                cr_assert_eq(r, -EINVAL, "'%s' accepted", bad[i]);
                cr_assert_str_eq(err.op, "volume");
                cr_assert_null(m.source, "'%s': source set on failure", bad[i]);
        }
}

/* The files suite works in a fresh directory, removed afterwards even when a test fails. */
static char tmpdir[64];

static void tmp_setup(void)
{
        unit_tmpdir_make(tmpdir, sizeof(tmpdir), "config");
}

static void tmp_teardown(void)
{
        unit_tmpdir_remove(tmpdir);
}

TestSuite(config_files, .init = tmp_setup, .fini = tmp_teardown);

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

Test(config_files, save_and_load)
{
        const char *dir = tmpdir;
        _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
        struct ctr_config a, b;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_config_parse(full_doc, &a, &err), 0, "%s", err.msg);

        /* An older file is replaced whole. */
        cr_assert_eq(ctr_write_atomic(path, "old", 3, 0600), 0);
        cr_assert_eq(ctr_config_save(path, &a, &err), 0, "%s", err.msg);
        cr_assert_eq(count_entries(dir), 1, "temp file left behind in %s", dir);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);

        cr_assert_eq(ctr_config_load(path, &b, &err), 0, "%s", err.msg);
        assert_config_eq(&a, &b);
        ctr_config_free(&a);
        ctr_config_free(&b);
}

Test(config_files, load_errors_name_the_file)
{
        const char *dir = tmpdir;
        _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
        struct ctr_config c;
        struct ctr_error err = {0};

        cr_assert_eq(ctr_config_load(path, &c, &err), -ENOENT);
        cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);

        const char *bad = "{\"version\": 1, \"name\": \"x\", \"limits\": {\"foo\": 1}}";
        cr_assert_eq(ctr_write_atomic(path, bad, strlen(bad), 0644), 0);
        cr_assert_eq(ctr_config_load(path, &c, &err), -EINVAL);
        cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "unknown key 'limits.foo'"), "%s", err.msg);
}

Test(config_files, save_into_missing_dir_fails)
{
        const char *dir = tmpdir;
        _cleanup_free_ char *path = xasprintf("%s/nope/config.json", dir);
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "x");
        cr_assert_eq(ctr_config_save(path, &c, &err), -ENOENT);
        cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
        cr_assert_eq(count_entries(dir), 0);
        ctr_config_free(&c);
}

/* ctr config NAME get|set KEY: every settable key round-trips through set and get. */
Test(config_keys, set_get_round_trip)
{
        static const struct {
                const char *key, *in, *out;
        } cases[] = {
                {"hostname", "www", "www"},
                {"init", "/lib/systemd/systemd", "/lib/systemd/systemd"},
                {"network.mode", "host", "host"},
                {"stop.signal", "SIGTERM", "SIGTERM"},
                {"stop.signal", "null", "null"},
                {"stop.timeout", "7", "7"},
                {"limits.memory", "1G", "1G"},
                {"limits.memory", "1536M", "1536M"},
                {"limits.memory", "null", "null"},
                {"limits.memory_high", "512M", "512M"},
                {"limits.cpus", "1.5", "1.5"},
                {"limits.cpus", "none", "null"},
                {"limits.cpu_weight", "250", "250"},
                {"limits.pids", "64", "64"},
                {"limits.pids", "null", "null"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct ctr_config c;
                struct ctr_error err = {0};
                char *v = NULL;
                ctr_config_init(&c, "web");
                cr_assert_eq(ctr_config_set(&c, cases[i].key, cases[i].in, &err), 0, "%s=%s: %s", cases[i].key,
                             cases[i].in, err.msg);
                cr_assert_eq(ctr_config_validate(&c, &err), 0, "%s=%s: %s", cases[i].key, cases[i].in, err.msg);
                cr_assert_eq(ctr_config_get(&c, cases[i].key, &v, &err), 0);
                cr_assert_str_eq(v, cases[i].out, "%s", cases[i].key);
                free(v);
                ctr_config_free(&c);
        }
        size_t nk;
        const struct ctr_config_key *keys = ctr_config_key_table(&nk);
        for (size_t i = 0; i < nk; i++) {
                struct ctr_config c;
                char *v = NULL;
                ctr_config_init(&c, "web");
                cr_assert_eq(ctr_config_get(&c, keys[i].name, &v, NULL), 0, "key %s cannot be read", keys[i].name);
                free(v);
                ctr_config_free(&c);
        }
}

Test(config_keys, bad_values_and_keys)
{
        static const struct {
                const char *key, *in;
                int want;
        } bad[] = {
                {"limits.memory", "12Q", -EINVAL}, {"limits.cpus", "0", -ERANGE},   {"limits.cpus", "-1", -ERANGE},
                {"limits.cpus", "x", -EINVAL},     {"limits.pids", "0", -ERANGE},   {"limits.pids", "1.5", -EINVAL},
                {"limits.cpu_weight", "10001", -ERANGE}, {"stop.timeout", "-1", -ERANGE},
                {"network.mode", "bridgey", -EINVAL}, {"bogus", "1", -ENOENT},       {"limits", "1", -ENOENT},
                {"name", "other", -EPERM},          {"limits.pids", "3000000000", -ERANGE},
                {"limits.memory", "0", -ERANGE},    {"hostname", "no spaces", -EINVAL},
                {"stop.signal", "SIGNOPE", -EINVAL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct ctr_config c;
                struct ctr_error err = {0};
                ctr_config_init(&c, "web");
                cr_assert_eq(ctr_config_set(&c, bad[i].key, bad[i].in, &err), bad[i].want, "%s=%s", bad[i].key,
                             bad[i].in);
                cr_assert(strstr(err.msg, bad[i].key), "message does not name the key: %s", err.msg);
                ctr_config_free(&c);
        }
        /* A value that is fine alone but not with the rest is the whole-config check's. */
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "web");
        c.userns = true;
        cr_assert_eq(ctr_config_set(&c, "network.mode", "host", &err), 0);
        cr_assert_lt(ctr_config_validate(&c, &err), 0);
        cr_assert(strstr(err.msg, "security.userns"), "%s", err.msg);
        ctr_config_free(&c);
}

Test(config_keys, cpuset_lists)
{
        static const char *const ok[] = {"0", "0-1", "0-3,6", "1,3,5", "10-12,14-15"};
        static const char *const bad[] = {"", "-", "1-", "-1", "0,,1", "0-1-2", "a", "0 1", "1,", ",1"};
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
                cr_assert(ctr_cgroup_cpuset_valid(ok[i]), "'%s' refused", ok[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                cr_assert_not(ctr_cgroup_cpuset_valid(bad[i]), "'%s' accepted", bad[i]);
        struct ctr_config c;
        struct ctr_error err = {0};
        ctr_config_init(&c, "web");
        cr_assert_eq(ctr_config_set(&c, "limits.cpuset", "0-1", &err), 0);
        cr_assert_eq(ctr_config_set(&c, "limits.memory_swap", "1G", &err), 0);
        cr_assert_eq(ctr_config_validate(&c, &err), 0, "%s", err.msg);
        char *text = ctr_config_to_json(&c);
        struct ctr_config back;
        cr_assert_eq(ctr_config_parse(text, &back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back.limits.cpuset, "0-1");
        cr_assert_eq(back.limits.memory_swap, 1ULL << 30);
        free(text);
        ctr_config_free(&back);
        cr_assert_eq(ctr_config_set(&c, "limits.cpuset", "1-", &err), -EINVAL);
        cr_assert(strstr(err.msg, "limits.cpuset"), "%s", err.msg);
        cr_assert_str_eq(c.limits.cpuset, "0-1", "a refused value changes nothing");
        free(c.limits.cpuset);
        c.limits.cpuset = xstrdup("1-");
        cr_assert_lt(ctr_config_validate(&c, &err), 0);
        cr_assert(strstr(err.msg, "limits.cpuset"), "%s", err.msg);
        ctr_config_free(&c);
}

Test(config, io_limits)
{
        struct ctr_config c, back;
        struct ctr_error err = {0};
        const char *doc = "{\"version\":1,\"name\":\"x\",\"limits\":{\"io\":[{\"device\":\"8:0\",\"rbps\":\"50M\","
                          "\"wbps\":null,\"riops\":100}],\"cpuset_mems\":\"0\"}}";
        cr_assert_eq(ctr_config_parse(doc, &c, &err), 0, "%s", err.msg);
        cr_assert_eq(c.limits.n_io, 1);
        cr_assert_eq(c.limits.io[0].rbps, 50ull << 20);
        cr_assert_eq(c.limits.io[0].riops, 100);
        char *json = ctr_config_to_json(&c);
        cr_assert_eq(ctr_config_parse(json, &back, &err), 0, "%s", err.msg);
        cr_assert_eq(back.limits.n_io, 1);
        cr_assert_str_eq(back.limits.cpuset_mems, "0");
        free(json);
        char *v = NULL;
        cr_assert_eq(ctr_config_get(&back, "limits.io", &v, &err), 0);
        cr_assert_str_eq(v, "8:0:rbps=50M,riops=100");
        free(v);
        cr_assert_eq(ctr_config_set(&back, "limits.io", "8:0:wbps=1M 8:16:weight=50", &err), 0, "%s", err.msg);
        cr_assert_eq(back.limits.n_io, 2);
        cr_assert_eq(back.limits.io[0].rbps, 0, "set replaces the whole list");
        cr_assert_eq(ctr_config_set(&back, "limits.io", "8:0:wbps=fast", &err), -EINVAL);
        cr_assert_eq(back.limits.n_io, 2, "a bad value changes nothing");
        cr_assert_eq(ctr_config_set(&back, "limits.io", "null", &err), 0);
        cr_assert_eq(back.limits.n_io, 0);
        ctr_config_free(&back);
        ctr_config_free(&c);
        const char *bad = "{\"version\":1,\"name\":\"x\",\"limits\":{\"io\":[{\"device\":\"8:0\",\"rbps\":5}]}}";
        cr_assert_lt(ctr_config_parse(bad, &c, &err), 0);
        cr_assert(strstr(err.msg, "limits.io[0].rbps"), "%s", err.msg);
}
