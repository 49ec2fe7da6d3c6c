/* Unit tests for ctr_user_lookup (runtime/exec.c): resolving `exec --user` against the text of a
 * container's /etc/passwd, by name, by number and with an explicit group. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../launch/launch.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "# a comment line\n"
                             "short:x:5:5\n"
                             "alice:x:1000:1001:Alice A.,,,:/home/alice:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                             "noshell:x:1002:1002::/home/noshell:\n"
                             "last:x:2000:2000:no newline:/home/last:/bin/zsh";

Test(user, by_name)
{
        struct ctr_user u;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_user_lookup(passwd, "alice", &u, &err), 0, "%s", err.msg);
        cr_assert_eq(u.uid, 1000);
        cr_assert_eq(u.gid, 1001);
        cr_assert_str_eq(u.name, "alice");
        cr_assert_str_eq(u.home, "/home/alice");
        cr_assert_str_eq(u.shell, "/bin/sh");

        cr_assert_eq(ctr_user_lookup(passwd, "root", &u, &err), 0);
        cr_assert_eq(u.uid, 0);
        cr_assert_eq(u.gid, 0);
        cr_assert_str_eq(u.home, "/root");

        cr_assert_eq(ctr_user_lookup(passwd, "noshell", &u, &err), 0);
        cr_assert_str_eq(u.shell, "");
        cr_assert_str_eq(u.home, "/home/noshell");

        cr_assert_eq(ctr_user_lookup(passwd, "last", &u, &err), 0, "a last line without newline is missed");
        cr_assert_eq(u.uid, 2000);
        cr_assert_str_eq(u.shell, "/bin/zsh");
}

Test(user, by_uid)
{
        struct ctr_user u;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_user_lookup(passwd, "1000", &u, &err), 0, "%s", err.msg);
        cr_assert_eq(u.uid, 1000);
        cr_assert_eq(u.gid, 1001, "the passwd entry's group is used");
        cr_assert_str_eq(u.name, "alice");
        cr_assert_str_eq(u.home, "/home/alice");

        cr_assert_eq(ctr_user_lookup(passwd, "0", &u, &err), 0);
        cr_assert_str_eq(u.name, "root");
        cr_assert_eq(ctr_user_lookup(passwd, "65534", &u, &err), 0);
        cr_assert_str_eq(u.name, "nobody");
}

Test(user, uid_and_gid)
{
        struct ctr_user u;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_user_lookup(passwd, "1000:50", &u, &err), 0, "%s", err.msg);
        cr_assert_eq(u.uid, 1000);
        cr_assert_eq(u.gid, 50);
        cr_assert_str_eq(u.home, "/home/alice");
        cr_assert_eq(ctr_user_lookup(passwd, "alice:0", &u, &err), 0);
        cr_assert_eq(u.uid, 1000);
        cr_assert_eq(u.gid, 0);
        cr_assert_eq(ctr_user_lookup(passwd, "4321:99", &u, &err), 0);
        cr_assert_eq(u.uid, 4321);
        cr_assert_eq(u.gid, 99);
}

Test(user, unknown_name)
{
        struct ctr_user u;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_user_lookup(passwd, "bob", &u, &err), -ENOENT);
        cr_assert_eq(err.errnum, ENOENT);
        cr_assert_str_eq(err.op, "user");
        cr_assert_not_null(strstr(err.msg, "'bob'"), "%s", err.msg);
        /* Partial and case-different names do not match. */
        cr_assert_eq(ctr_user_lookup(passwd, "ali", &u, &err), -ENOENT);
        cr_assert_eq(ctr_user_lookup(passwd, "Alice", &u, &err), -ENOENT);
        cr_assert_eq(ctr_user_lookup(passwd, "short", &u, &err), -ENOENT, "a line with too few fields matched");
        cr_assert_eq(ctr_user_lookup("", "root", &u, &err), -ENOENT);
        cr_assert_eq(ctr_user_lookup(passwd, "1000x", &u, &err), -ENOENT);
}

Test(user, unknown_uid_accepted)
{
        struct ctr_user u;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_user_lookup(passwd, "4242", &u, &err), 0, "%s", err.msg);
        cr_assert_eq(u.uid, 4242);
        cr_assert_eq(u.gid, 4242);
        cr_assert_str_eq(u.name, "");
        cr_assert_str_eq(u.home, "/");
        cr_assert_eq(ctr_user_lookup("", "7", &u, &err), 0);
        cr_assert_eq(u.uid, 7);
        cr_assert_eq(u.gid, 7);
}

Test(user, bad_specs)
{
        static const char *const bad[] = {"alice:abc", "alice:", "1000:5x", ":5", "", ":"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ctr_user u;
                struct ctr_error err = {0};
                int r = ctr_user_lookup(passwd, bad[i], &u, &err);
                cr_assert_eq(r, -EINVAL, "'%s' -> %d (%s)", bad[i], r, err.msg);
                cr_assert_str_eq(err.op, "user");
        }
}

/* Ids are plain decimal numbers that fit uid_t/gid_t. Anything else must be refused, not wrapped:
 * 4294967296 would become uid 0 (root), 4294967295 and -1 the "no change" value (uid_t)-1. */
Test(user, numeric_ids_strict)
{
        static const char *const bad[] = {"4294967296",      "4294967295",      "99999999999999999999",
                                          "1000:4294967296", "1000:4294967295", "1000:-1",
                                          "1000: 5"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ctr_user u;
                struct ctr_error err = {0};
                int r = ctr_user_lookup(passwd, bad[i], &u, &err);
                cr_assert_lt(r, 0, "'%s' accepted as uid %u gid %u", bad[i], (unsigned)u.uid, (unsigned)u.gid);
        }
}
