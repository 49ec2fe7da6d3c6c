/* Unit tests for security/subid.c: parsing /etc/subuid text (malformed lines named),
 * ctr's own entry placed clear of other users, first-fit allocation around used ranges and its
 * exhaustion, the file-level load that appends ctr's entry, and security.idmap in config.json. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/config.h"
#include "../../security/subid.h"
#include "../../runtime/userns.h"
#include "../../base/util.h"
#include "unit.h"

Test(subid, parse_owner_entries)
{
        struct ctr_idrange *v = NULL;
        size_t n = 0;
        struct ctr_error err = {0};
        const char *text = "# comment\n\nalice:100000:65536\nroot:1000000:131072\n  0:5000000:65536\nroot:9000000:1";
        cr_assert_eq(ctr_subid_parse(text, "subuid", &v, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 3, "root by name and by number, without alice; got %zu", n);
        cr_assert_eq(v[0].base, 1000000);
        cr_assert_eq(v[0].count, 131072);
        cr_assert_eq(v[1].base, 5000000);
        cr_assert_eq(v[2].count, 1, "a last line without newline");
        free(v);
}

Test(subid, parse_malformed)
{
        const char *bad[] = {"root:1000000\n", "root:1000000:65536:9\n", "root:abc:65536\n", "root:-1:65536\n",
                             "root:1000000:0\n", "root:4294967295:2\n", ":1:2\n", "root:99999999999:1\n",
                             "alice:1:x\n"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ctr_idrange *v = NULL;
                size_t n = 0;
                struct ctr_error err = {0};
                _cleanup_free_ char *text = xasprintf("# first\n%s", bad[i]);
                cr_assert_eq(ctr_subid_parse(text, "/etc/subuid", &v, &n, &err), -EINVAL, "'%s' accepted", bad[i]);
                cr_assert(strstr(err.msg, "/etc/subuid line 2"), "message names the line: %s", err.msg);
        }
}

Test(subid, own_range_avoids_others)
{
        struct ctr_idrange r;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_subid_own_range("", "f", &r, &err), 0);
        cr_assert_eq(r.base, CTR_SUBID_BASE);
        cr_assert_eq(r.count, CTR_SUBID_COUNT);
        /* Users below it do not move it. */
        cr_assert_eq(ctr_subid_own_range("alice:100000:65536\nbob:165536:65536\n", "f", &r, &err), 0);
        cr_assert_eq(r.base, CTR_SUBID_BASE);
        /* One inside it moves it past, aligned to 65536. */
        cr_assert_eq(ctr_subid_own_range("alice:1000000:65536\nbob:1100000:10\n", "f", &r, &err), 0);
        cr_assert_eq(r.base, 1114112, "got %u", r.base);
        cr_assert_eq(r.base % 65536, 0);
        cr_assert(r.base + (uint64_t)r.count <= (uint64_t)1 << 31, "stays below 2^31");
        /* No room below 2^31. */
        cr_assert_eq(ctr_subid_own_range("x:1000000:2147000000\n", "f", &r, &err), -ENOSPC);
        /* A malformed file is not appended to. */
        cr_assert_eq(ctr_subid_own_range("garbage\n", "f", &r, &err), -EINVAL);
}

Test(subid, alloc_first_fit)
{
        struct ctr_idrange deleg[] = {{1000000, 65536 * 3}};
        uint32_t b;
        cr_assert_eq(ctr_subid_alloc(deleg, 1, NULL, 0, 65536, &b), 0);
        cr_assert_eq(b, 1000000);
        struct ctr_idrange used[] = {{1000000, 65536}, {1131072, 65536}};
        cr_assert_eq(ctr_subid_alloc(deleg, 1, used, 2, 65536, &b), 0);
        cr_assert_eq(b, 1065536, "the hole between two used ranges");
        /* A used range that only partly overlaps (hand-edited config) pushes past its end. */
        struct ctr_idrange odd[] = {{1000100, 10}};
        cr_assert_eq(ctr_subid_alloc(deleg, 1, odd, 1, 65536, &b), 0);
        cr_assert_eq(b, 1000110);
        /* Exhausted: every slot taken. */
        struct ctr_idrange full[] = {{1000000, 65536}, {1065536, 65536}, {1131072, 65536}};
        cr_assert_eq(ctr_subid_alloc(deleg, 1, full, 3, 65536, &b), -ENOSPC);
        /* A range too small for one container, and none at all. */
        struct ctr_idrange small[] = {{5000000, 65535}};
        cr_assert_eq(ctr_subid_alloc(small, 1, NULL, 0, 65536, &b), -ENOSPC);
        cr_assert_eq(ctr_subid_alloc(NULL, 0, NULL, 0, 65536, &b), -ENOSPC);
        /* Several delegated ranges: the lowest free base wins, whatever the file order. */
        struct ctr_idrange two[] = {{3000000, 65536}, {2000000, 65536}};
        cr_assert_eq(ctr_subid_alloc(two, 2, NULL, 0, 65536, &b), 0);
        cr_assert_eq(b, 2000000);
        struct ctr_idrange taken[] = {{2000000, 65536}};
        cr_assert_eq(ctr_subid_alloc(two, 2, taken, 1, 65536, &b), 0);
        cr_assert_eq(b, 3000000);
        /* The top of the 32-bit space. */
        struct ctr_idrange top[] = {{4294901760u, 65536}};
        cr_assert_eq(ctr_subid_alloc(top, 1, NULL, 0, 65536, &b), 0);
        cr_assert_eq(b, 4294901760u);
}

Test(subid, contains)
{
        struct ctr_idrange r[] = {{1000000, 131072}};
        cr_assert(ctr_subid_contains(r, 1, 1065536, 65536));
        cr_assert(!ctr_subid_contains(r, 1, 1065537, 65536));
        cr_assert(!ctr_subid_contains(r, 1, 999999, 65536));
}

Test(subid, load_appends_own_entry)
{
        char dir[64];
        unit_tmpdir_make(dir, sizeof(dir), "subid");
        _cleanup_free_ char *path = xasprintf("%s/subuid", dir);
        cr_assert_eq(ctr_write_atomic(path, "alice:100000:65536", 18, 0644), 0);
        struct ctr_idrange *v = NULL;
        size_t n = 0;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_subid_load(path, &v, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 1);
        cr_assert_eq(v[0].base, CTR_SUBID_BASE);
        free(v);
        _cleanup_free_ char *text = NULL;
        cr_assert_eq(ctr_read_file(path, 4096, &text, NULL), 0);
        cr_assert_str_eq(text, "alice:100000:65536\nroot:1000000:1000000000\n");
        /* A second load reads the entry and writes nothing. */
        cr_assert_eq(ctr_subid_load(path, &v, &n, &err), 0);
        cr_assert_eq(n, 1);
        free(v);
        _cleanup_free_ char *again = NULL;
        cr_assert_eq(ctr_read_file(path, 4096, &again, NULL), 0);
        cr_assert_str_eq(again, text);
        /* A malformed file is left alone, and so is its lock. */
        _cleanup_free_ char *bad = xasprintf("%s/subgid", dir), *lock = xasprintf("%s/subgid.lock", dir);
        cr_assert_eq(ctr_write_atomic(bad, "root:1\n", 7, 0644), 0);
        cr_assert_eq(ctr_subid_load(bad, &v, &n, &err), -EINVAL);
        cr_assert_neq(access(lock, F_OK), 0);
        /* A stale lock (its pid gone) is taken over. */
        _cleanup_free_ char *empty = xasprintf("%s/empty", dir), *elock = xasprintf("%s/empty.lock", dir);
        cr_assert_eq(ctr_write_atomic(empty, "", 0, 0644), 0);
        cr_assert_eq(ctr_write_atomic(elock, "999999999", 9, 0644), 0);
        cr_assert_eq(ctr_subid_load(empty, &v, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 1);
        free(v);
        cr_assert_neq(access(elock, F_OK), 0, "lock released");
        unit_tmpdir_remove(dir);
}

static int parse(const char *security, struct ctr_config *c, struct ctr_error *err)
{
        _cleanup_free_ char *text = xasprintf("{\"version\": 1, \"name\": \"x\", \"security\": %s}", security);
        return ctr_config_parse(text, c, err);
}

Test(subid, config_idmap)
{
        struct ctr_config c;
        struct ctr_error err = {0};
        cr_assert_eq(parse("{\"userns\": true, \"idmap\": {\"uid\": 1000000, \"gid\": 2000000, \"count\": 65536, "
                           "\"shift\": \"chown\"}}",
                           &c, &err),
                     0, "%s", err.msg);
        cr_assert(c.userns);
        cr_assert_eq(c.idmap.uid, 1000000);
        cr_assert_eq(c.idmap.gid, 2000000);
        cr_assert(c.idmap.chowned);
        _cleanup_free_ char *json = ctr_config_to_json(&c);
        cr_assert(strstr(json, "\"shift\": \"chown\""), "%s", json);
        struct ctr_config back;
        cr_assert_eq(ctr_config_parse(json, &back, &err), 0, "%s", err.msg);
        cr_assert_eq(back.idmap.gid, 2000000);
        ctr_config_free(&back);
        /* Fixed at create: config set refuses a change, accepts the same value. */
        cr_assert_eq(ctr_config_set(&c, "security.userns", "false", &err), -EINVAL);
        cr_assert(strstr(err.msg, "chosen at create"), "%s", err.msg);
        cr_assert_eq(ctr_config_set(&c, "security.userns", "true", &err), 0);
        ctr_config_free(&c);

        cr_assert_eq(parse("{\"userns\": true, \"idmap\": null}", &c, &err), 0, "%s", err.msg);
        cr_assert_eq(c.idmap.count, 0);
        ctr_config_free(&c);

        const char *bad[] = {
                "{\"idmap\": {\"uid\": 1000000, \"gid\": 1000000, \"count\": 65536}}",                  /* no userns */
                "{\"userns\": true, \"idmap\": {\"uid\": 0, \"gid\": 1000000, \"count\": 65536}}",      /* host root */
                "{\"userns\": true, \"idmap\": {\"uid\": 4294967295, \"gid\": 1, \"count\": 65536}}",  /* past 2^32 */
                "{\"userns\": true, \"idmap\": {\"uid\": 1000000, \"count\": 65536}}",                  /* no gid */
                "{\"userns\": true, \"idmap\": {\"uid\": 1, \"gid\": 1, \"count\": 1, \"size\": 2}}",   /* unknown */
                "{\"userns\": true, \"idmap\": {\"uid\": 1, \"gid\": 1, \"count\": 1, \"shift\": \"x\"}}",
                "{\"userns\": \"yes\"}",
                "{\"userns\": true, \"idmap\": [1]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert_lt(parse(bad[i], &c, &err), 0, "accepted: %s", bad[i]);
        }
        /* The host's network namespace is not the container's user namespace's. */
        _cleanup_free_ char *host = xstrdup("{\"version\": 1, \"name\": \"x\", \"network\": {\"mode\": \"host\"}, "
                                            "\"security\": {\"userns\": true}}");
        cr_assert_eq(ctr_config_parse(host, &c, &err), -EINVAL);
        cr_assert(strstr(err.msg, "security.userns"), "%s", err.msg);
}

/* A read-write volume's idmap (runtime/userns.c): the source's owner is root inside, every other
 * id of the container stays itself, and a map never has two lines claiming one id. */
Test(subid, volume_map)
{
        char b[256];
        cr_assert_eq(ctr_userns_volume_map(4242, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "4242 1000000 1\n1000001 1000001 65535\n");
        cr_assert_eq(ctr_userns_volume_map(0, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "0 1000000 1\n1000001 1000001 65535\n", "host root's source");
        cr_assert_eq(ctr_userns_volume_map(1000000, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "1000000 1000000 1\n1000001 1000001 65535\n", "owned by root inside already: identity");
        cr_assert_eq(ctr_userns_volume_map(1001000, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "1001000 1000000 1\n1000001 1000001 999\n1001001 1001001 64535\n",
                         "owned by the container's uid 1000: the rest goes around it");
        cr_assert_eq(ctr_userns_volume_map(1065535, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "1065535 1000000 1\n1000001 1000001 65534\n", "the range's last id");
        cr_assert_eq(ctr_userns_volume_map(1000001, 1000000, 65536, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "1000001 1000000 1\n1000002 1000002 65534\n", "the range's second id");
        cr_assert_eq(ctr_userns_volume_map(7, 1000000, 1, b, sizeof(b)), 0);
        cr_assert_str_eq(b, "7 1000000 1\n", "a range of one");
        cr_assert_eq(ctr_userns_volume_map(7, 1000000, 0, b, sizeof(b)), -EINVAL, "an empty range");
        cr_assert_eq(ctr_userns_volume_map(7, 4294967295u, 65536, b, sizeof(b)), -EINVAL, "past 2^32");
        cr_assert_eq(ctr_userns_volume_map(4242, 1000000, 65536, b, 20), -ENAMETOOLONG, "a short buffer");
}
