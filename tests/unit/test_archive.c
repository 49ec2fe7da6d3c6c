/* Unit tests for rootfs/archive.c: SHA-256 against the FIPS 180-4 vectors, and the header walk
 * on small archives written here (a clean one, a '..' member, a truncated one). */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../rootfs/rootfs.h"
#include "../../base/util.h"
#include "unit.h"

Test(archive, sha256_vectors)
{
        char hex[65];
        ctr_sha256_hex("abc", 3, hex);
        cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ctr_sha256_hex("", 0, hex);
        cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        ctr_sha256_hex(two, strlen(two), hex);
        cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One ustar header for a regular file of size 0 named name. */
static void header(FILE *f, const char *name, char type, const char *link)
{
        char h[512] = {0};
        snprintf(h, 100, "%s", name);
        memcpy(h + 100, "0000644", 8);
        memcpy(h + 108, "0000000", 8);
        memcpy(h + 116, "0000000", 8);
        memcpy(h + 124, "00000000000", 12);
        memcpy(h + 136, "00000000000", 12);
        h[156] = type;
        if (link)
                snprintf(h + 157, 100, "%s", link);
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        fwrite(h, 1, 512, f);
}

static char *archive(const char *dir, const char *file, const char *const *names, const char *types, bool end)
{
        char *path;
        cr_assert_neq(asprintf(&path, "%s/%s", dir, file), -1);
        FILE *f = fopen(path, "w");
        for (size_t i = 0; names[i]; i++)
                header(f, names[i], types[i], types[i] == '2' ? "/" : NULL);
        if (end) {
                char z[1024] = {0};
                fwrite(z, 1, sizeof(z), f);
        }
        fclose(f);
        return path;
}

Test(archive, header_walk)
{
        char dir[64];
        struct ctr_error err = {0};
        unit_tmpdir_make(dir, sizeof(dir), "archive");
        const char *good[] = {"./", "./a", "./d/", "./d/b", NULL};
        char *p = archive(dir, "good.tar", good, "5050", true);
        char **names = NULL;
        cr_assert_eq(ctr_archive_check(p, &names, &err), 0, "%s", err.msg);
        cr_assert_str_eq(names[0], ".");
        cr_assert_str_eq(names[3], "d/b");
        strv_free(names);
        free(p);
        const char *bad[] = {"./a/../../x", NULL};
        p = archive(dir, "bad.tar", bad, "0", true);
        cr_assert_lt(ctr_archive_check(p, NULL, &err), 0);
        cr_assert(strstr(err.msg, "climbs out"), "%s", err.msg);
        free(p);
        const char *sym[] = {"./l", "./l/x", NULL};
        p = archive(dir, "sym.tar", sym, "20", true);
        cr_assert_lt(ctr_archive_check(p, NULL, &err), 0);
        cr_assert(strstr(err.msg, "through a symlink"), "%s", err.msg);
        free(p);
        const char *trunc[] = {"./a", NULL};
        p = archive(dir, "trunc.tar", trunc, "0", false);
        cr_assert_lt(ctr_archive_check(p, NULL, &err), 0);
        cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
        free(p);
        unit_tmpdir_remove(dir);
}
