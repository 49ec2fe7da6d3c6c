/* Unit tests of the work done once: memo files (base/memo.c), the seccomp filter memo, the host's
 * id range record (runtime/userns.c) and the list's per-container summary (runtime/container.c):
 * a hit, a miss, a changed input that invalidates, a damaged entry that is rebuilt. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../base/memo.h"
#include "../../base/util.h"
#include "../../runtime/container.h"
#include "../../runtime/userns.h"
#include "../../security/seccomp.h"
#include "unit.h"

static char dir[128];

static void setup(void)
{
        unit_tmpdir_make(dir, sizeof(dir), "memo");
}

static void teardown(void)
{
        ctr_seccomp_memo_at(NULL);
        unsetenv("CTR_IDMAP_RECORD");
        unsetenv("CTR_SUBUID");
        unsetenv("CTR_SUBGID");
        unit_tmpdir_remove(dir);
}

TestSuite(memo, .init = setup, .fini = teardown);

static const char K1[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char K2[65] = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Test(memo, sha1_matches_the_standard_vectors)
{
        unsigned char d[20];
        char hex[41];
        const char *in[] = {"abc", "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
        const char *want[] = {"a9993e364706816aba3e25717850c26c9cd0d89d", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                              "84983e441c3bd26ebaae4aa1f95129e5e54670f1"};
        for (size_t i = 0; i < 3; i++) {
                ctr_sha1(in[i], strlen(in[i]), d);
                for (int k = 0; k < 20; k++)
                        snprintf(hex + 2 * k, 3, "%02x", d[k]);
                cr_assert_str_eq(hex, want[i], "sha1(\"%s\")", in[i]);
        }
}

Test(memo, put_then_get_hits_and_other_keys_miss)
{
        char *got = NULL;
        size_t len = 0;
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, &len), -ENOENT);
        cr_assert_eq(ctr_memo_put(dir, "t", K1, "hello", 5), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, &len), 0);
        cr_assert_eq(len, 5);
        cr_assert_str_eq(got, "hello");
        free(got);
        cr_assert_eq(ctr_memo_get(dir, "t", K2, 64, (void **)&got, &len), -ENOENT, "another key");
        cr_assert_eq(ctr_memo_get(dir, "u", K1, 64, (void **)&got, &len), -ENOENT, "another kind");
        char bad[65];
        memcpy(bad, K1, sizeof(bad));
        bad[3] = 'X';
        cr_assert_eq(ctr_memo_get(dir, "t", bad, 64, (void **)&got, &len), -EINVAL, "not a key");
}

Test(memo, damaged_truncated_foreign_or_oversized_entries_are_refused)
{
        char *got = NULL;
        _cleanup_free_ char *path = ctr_memo_path(dir, "t", K1);
        cr_assert_eq(ctr_memo_put(dir, "t", K1, "hello world", 11), 0);
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        cr_assert_eq(ctr_read_file(path, 4096, &text, &n), 0);

        /* One byte of the payload changed: the checksum disagrees. */
        text[n - 1] ^= 1;
        cr_assert_eq(ctr_write_atomic(path, text, n, 0600), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, NULL), -EBADMSG);
        text[n - 1] ^= 1;
        /* Truncated: the length disagrees. */
        cr_assert_eq(ctr_write_atomic(path, text, n - 3, 0600), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, NULL), -EBADMSG);
        /* The entry of another key copied under this name. */
        cr_assert_eq(ctr_memo_put(dir, "t", K2, "hello world", 11), 0);
        _cleanup_free_ char *other = ctr_memo_path(dir, "t", K2);
        cr_assert_eq(rename(other, path), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, NULL), -EBADMSG);
        /* Whole again, but writable by others: not believed. */
        cr_assert_eq(ctr_memo_put(dir, "t", K1, "hello world", 11), 0);
        cr_assert_eq(chmod(path, 0666), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, NULL), -EBADMSG);
        /* Larger than the reader allows. */
        cr_assert_eq(ctr_memo_put(dir, "t", K1, "hello world", 11), 0);
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 4, (void **)&got, NULL), -EBADMSG);
        /* And put again, it reads back. */
        cr_assert_eq(ctr_memo_get(dir, "t", K1, 64, (void **)&got, NULL), 0);
        free(got);
}

Test(memo, entries_of_a_kind_are_bounded)
{
        char key[65];
        for (int i = 0; i < CTR_MEMO_MAX + 10; i++) {
                snprintf(key, sizeof(key), "%064x", i);
                cr_assert_eq(ctr_memo_put(dir, "t", key, "x", 1), 0);
        }
        cr_assert_eq(ctr_memo_put(dir, "other", K1, "x", 1), 0);
        size_t n = 0;
        for (int i = 0; i < CTR_MEMO_MAX + 10; i++) {
                snprintf(key, sizeof(key), "%064x", i);
                _cleanup_free_ char *path = ctr_memo_path(dir, "t", key);
                n += access(path, F_OK) == 0;
        }
        cr_assert_eq(n, CTR_MEMO_MAX);
        _cleanup_free_ char *other = ctr_memo_path(dir, "other", K1);
        cr_assert_eq(access(other, F_OK), 0, "another kind is not counted");
}

/* --- seccomp ------------------------------------------------------------------------------- */

static bool same_prog(const struct ctr_seccomp_prog *a, const struct ctr_seccomp_prog *b)
{
        return a->len == b->len && a->flags == b->flags && !memcmp(a->insns, b->insns, a->len * sizeof(*a->insns));
}

Test(memo, seccomp_compiles_once_and_reads_back_the_same_filter)
{
        struct ctr_seccomp_spec s = {.profile = "default"};
        struct ctr_seccomp_prog fresh, first, again;
        struct ctr_error e = {0};
        cr_assert_eq(ctr_seccomp_compile(&s, &fresh, &e), 0, "%s", e.msg);
        ctr_seccomp_memo_at(dir);
        char key[65];
        cr_assert_eq(ctr_seccomp_key(&s, key), 0);
        _cleanup_free_ char *path = ctr_memo_path(dir, "seccomp", key);
        cr_assert_eq(access(path, F_OK), -1, "no memo yet");
        cr_assert_eq(ctr_seccomp_compile(&s, &first, &e), 0, "%s", e.msg);
        cr_assert_eq(access(path, F_OK), 0, "the miss wrote the memo");
        cr_assert_eq(ctr_seccomp_compile(&s, &again, &e), 0, "%s", e.msg);
        cr_assert(same_prog(&fresh, &first) && same_prog(&fresh, &again));
        ctr_seccomp_prog_free(&fresh);
        ctr_seccomp_prog_free(&first);
        ctr_seccomp_prog_free(&again);
}

Test(memo, seccomp_hit_comes_from_the_memo)
{
        /* Plant the filter of another policy under the default's key: the compile returns it,
         * which shows it read the memo rather than compiling. */
        char *deny[] = {"@swap", "ptrace", NULL};
        struct ctr_seccomp_spec def = {.profile = "default"}, other = {.profile = "default", .deny = deny};
        struct ctr_seccomp_prog p_other, got;
        struct ctr_error e = {0};
        ctr_seccomp_memo_at(dir);
        cr_assert_eq(ctr_seccomp_compile(&other, &p_other, &e), 0, "%s", e.msg);
        char kd[65], ko[65];
        cr_assert_eq(ctr_seccomp_key(&def, kd), 0);
        cr_assert_eq(ctr_seccomp_key(&other, ko), 0);
        cr_assert_str_neq(kd, ko, "the deny list is part of the key");
        void *payload = NULL;
        size_t len = 0;
        cr_assert_eq(ctr_memo_get(dir, "seccomp", ko, 1 << 20, &payload, &len), 0);
        cr_assert_eq(ctr_memo_put(dir, "seccomp", kd, payload, len), 0);
        free(payload);
        cr_assert_eq(ctr_seccomp_compile(&def, &got, &e), 0, "%s", e.msg);
        cr_assert(same_prog(&got, &p_other));
        ctr_seccomp_prog_free(&got);
        ctr_seccomp_prog_free(&p_other);
}

Test(memo, seccomp_key_follows_every_input)
{
        char *allow[] = {"@mount", NULL}, *deny[] = {"@swap", NULL};
        struct ctr_seccomp_spec v[] = {
                {.profile = "default"},
                {.profile = "default", .allow = allow},
                {.profile = "default", .deny = deny},
                {.profile = "default", .caps = 1},
                {.profile = "default", .allow = deny},
        };
        char keys[ARRAY_SIZE(v)][65];
        for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
                cr_assert_eq(ctr_seccomp_key(&v[i], keys[i]), 0);
                for (size_t k = 0; k < i; k++)
                        cr_assert_str_neq(keys[i], keys[k], "specs %zu and %zu", i, k);
        }
        /* A profile file: its bytes are in the key, so an edit is a miss. */
        _cleanup_free_ char *prof = xasprintf("%s/p.json", dir);
        const char *a = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", *b = "{\"defaultAction\": \"SCMP_ACT_LOG\"}";
        struct ctr_seccomp_spec f = {.profile = prof};
        char ka[65], kb[65];
        cr_assert_eq(ctr_write_atomic(prof, a, strlen(a), 0644), 0);
        cr_assert_eq(ctr_seccomp_key(&f, ka), 0);
        cr_assert_eq(ctr_write_atomic(prof, b, strlen(b), 0644), 0);
        cr_assert_eq(ctr_seccomp_key(&f, kb), 0);
        cr_assert_str_neq(ka, kb);
        unlink(prof);
        cr_assert_lt(ctr_seccomp_key(&f, ka), 0, "an unreadable profile has no key");
}

Test(memo, seccomp_damaged_memo_is_compiled_again_and_replaced)
{
        struct ctr_seccomp_spec s = {.profile = "default"};
        struct ctr_seccomp_prog fresh, got;
        struct ctr_error e = {0};
        cr_assert_eq(ctr_seccomp_compile(&s, &fresh, &e), 0);
        ctr_seccomp_memo_at(dir);
        char key[65];
        cr_assert_eq(ctr_seccomp_key(&s, key), 0);
        _cleanup_free_ char *path = ctr_memo_path(dir, "seccomp", key);
        /* A payload of the right checksum but no program's shape (not a whole number of
         * instructions), then a truncated file: both are rebuilt. */
        cr_assert_eq(ctr_memo_put(dir, "seccomp", key, "\0\0\0\0\3\0\0\0abc", 11), 0);
        cr_assert_eq(ctr_seccomp_compile(&s, &got, &e), 0, "%s", e.msg);
        cr_assert(same_prog(&fresh, &got));
        ctr_seccomp_prog_free(&got);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(truncate(path, st.st_size / 2), 0);
        cr_assert_eq(ctr_seccomp_compile(&s, &got, &e), 0, "%s", e.msg);
        cr_assert(same_prog(&fresh, &got));
        ctr_seccomp_prog_free(&got);
        void *payload = NULL;
        cr_assert_eq(ctr_memo_get(dir, "seccomp", key, 1 << 20, &payload, NULL), 0, "replaced by a whole one");
        free(payload);
        ctr_seccomp_prog_free(&fresh);
}

/* --- the id range record ------------------------------------------------------------------ */

static void root_paths(struct ctr_paths *p, const char *name)
{
        _cleanup_free_ char *root = xasprintf("%s/%s", dir, name);
        struct ctr_error e = {0};
        cr_assert_eq(ctr_paths_init(p, root, &e), 0);
        cr_assert_eq(ctr_mkdir_p(p->containers, 0700), 0);
}

/* A container dir with a config, its range taken as create takes it. */
static struct ctr_idmap take(const struct ctr_paths *p, const char *name)
{
        struct ctr_config c;
        struct ctr_error e = {0};
        ctr_config_init(&c, name);
        c.userns = true;
        _cleanup_free_ char *d = ctr_path_container(p, name);
        cr_assert_eq(ctr_mkdir_p(d, 0700), 0);
        cr_assert_eq(ctr_userns_allocate(p, &c, d, &e), 0, "%s", e.msg);
        struct ctr_idmap m = c.idmap;
        ctr_config_free(&c);
        return m;
}

static void private_ids(void)
{
        _cleanup_free_ char *u = xasprintf("%s/subuid", dir), *g = xasprintf("%s/subgid", dir);
        _cleanup_free_ char *rec = xasprintf("%s/record", dir);
        const char *text = "root:100000:655360\n"; /* ten ranges */
        cr_assert_eq(ctr_write_atomic(u, text, strlen(text), 0644), 0);
        cr_assert_eq(ctr_write_atomic(g, text, strlen(text), 0644), 0);
        setenv("CTR_SUBUID", u, 1);
        setenv("CTR_SUBGID", g, 1);
        setenv("CTR_IDMAP_RECORD", rec, 1);
}

Test(memo, two_roots_get_disjoint_ranges_and_a_release_frees_one)
{
        private_ids();
        struct ctr_paths a, b;
        root_paths(&a, "a");
        root_paths(&b, "b");
        struct ctr_idmap m1 = take(&a, "one"), m2 = take(&b, "one"), m3 = take(&a, "two");
        cr_assert_neq(m1.uid, m2.uid, "two roots, two ranges");
        cr_assert_neq(m1.uid, m3.uid);
        cr_assert_neq(m2.uid, m3.uid);
        ctr_userns_release(&b, "one", &m2);
        struct ctr_idmap m4 = take(&b, "three");
        cr_assert_eq(m4.uid, m2.uid, "the range given back is taken again");
        ctr_paths_free(&a);
        ctr_paths_free(&b);
}

Test(memo, a_damaged_or_missing_record_is_rebuilt_from_the_configs)
{
        private_ids();
        struct ctr_paths a;
        root_paths(&a, "a");
        struct ctr_idmap m1 = take(&a, "one"), m2 = take(&a, "two");
        const char *rec = getenv("CTR_IDMAP_RECORD");
        cr_assert_eq(ctr_write_atomic(rec, "garbage\n", 8, 0600), 0);
        struct ctr_idmap m3 = take(&a, "three");
        cr_assert(m3.uid != m1.uid && m3.uid != m2.uid, "the configs' ranges are still held");
        cr_assert_eq(unlink(rec), 0);
        struct ctr_idmap m4 = take(&a, "four");
        cr_assert(m4.uid != m1.uid && m4.uid != m2.uid && m4.uid != m3.uid);
        _cleanup_free_ char *text = NULL;
        cr_assert_eq(ctr_read_file(rec, 1 << 16, &text, NULL), 0);
        cr_assert(strstr(text, "ctr-idmap-ranges 1\n") == text);
        ctr_paths_free(&a);
}

Test(memo, leftover_claims_are_collected_when_the_ranges_run_out)
{
        private_ids();
        struct ctr_paths a;
        root_paths(&a, "a");
        /* Ten ranges, all claimed by containers that no longer exist (long ago). */
        const char *rec = getenv("CTR_IDMAP_RECORD");
        _cleanup_free_ char *text = xasprintf("ctr-idmap-ranges 1\nroot %s\n", a.containers);
        for (int i = 0; i < 10; i++) {
                char *n = xasprintf("%srange %u %u 65536 1 %s/gone%d\n", text, 100000 + 65536 * i, 100000 + 65536 * i,
                                    a.containers, i);
                free(text);
                text = n;
        }
        cr_assert_eq(ctr_write_atomic(rec, text, strlen(text), 0600), 0);
        struct ctr_idmap m = take(&a, "one");
        cr_assert_eq(m.uid, 100000);
        ctr_paths_free(&a);
}

/* --- the list's summary ------------------------------------------------------------------- */

Test(memo, list_summary_is_written_read_and_dropped_when_the_config_changes)
{
        struct ctr_paths p;
        root_paths(&p, "r");
        struct ctr_config c, got;
        struct ctr_error e = {0};
        ctr_config_init(&c, "web");
        c.template_name = xstrdup("busybox");
        _cleanup_free_ char *d = ctr_path_container(&p, "web"), *cfgpath = ctr_path_config(&p, "web");
        _cleanup_free_ char *sum = xasprintf("%s/.summary", d);
        cr_assert_eq(ctr_mkdir_p(d, 0700), 0);
        cr_assert_eq(ctr_config_save(cfgpath, &c, &e), 0);
        cr_assert_eq(ctr_container_load_brief(&p, "web", &got, &e), 0, "%s", e.msg);
        cr_assert_str_eq(got.template_name, "busybox");
        ctr_config_free(&got);
        cr_assert_eq(access(sum, F_OK), 0, "the miss wrote the summary");

        /* A hit: the summary is what is read (its template changed by hand here). */
        _cleanup_free_ char *text = NULL;
        cr_assert_eq(ctr_read_file(sum, 4096, &text, NULL), 0);
        char *t = strstr(text, "template=busybox");
        cr_assert_not_null(t);
        memcpy(t + 9, "BUSYBOX", 7);
        cr_assert_eq(ctr_write_atomic(sum, text, strlen(text), 0600), 0);
        cr_assert_eq(ctr_container_load_brief(&p, "web", &got, &e), 0);
        cr_assert_str_eq(got.template_name, "BUSYBOX");
        ctr_config_free(&got);

        /* The config written again: the summary is stale, the config is read. */
        free(c.template_name);
        c.template_name = xstrdup("debian");
        c.vm = true;
        cr_assert_eq(ctr_config_save(cfgpath, &c, &e), 0);
        cr_assert_eq(ctr_container_load_brief(&p, "web", &got, &e), 0);
        cr_assert_str_eq(got.template_name, "debian");
        cr_assert(got.vm);
        ctr_config_free(&got);

        /* Damaged: ignored, and rewritten whole. */
        cr_assert_eq(ctr_write_atomic(sum, "ctr-summary 1\nconfig=1 2 3\n", 27, 0600), 0);
        cr_assert_eq(ctr_container_load_brief(&p, "web", &got, &e), 0);
        cr_assert_str_eq(got.template_name, "debian");
        ctr_config_free(&got);
        free(text);
        text = NULL;
        cr_assert_eq(ctr_read_file(sum, 4096, &text, NULL), 0);
        cr_assert_not_null(strstr(text, "template=debian"));

        /* A broken config stays broken whatever the summary says. */
        cr_assert_eq(ctr_write_atomic(cfgpath, "{", 1, 0644), 0);
        cr_assert_lt(ctr_container_load_brief(&p, "web", &got, &e), 0);
        ctr_config_free(&c);
        ctr_paths_free(&p);
}
