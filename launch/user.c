/* The user a container's process runs as, resolved against the text of the container's own
 * /etc/passwd. Pure: the child reads the file inside, after the root switch, and hands the text
 * here. */
#include "launch.h"

#include <stdbool.h>
#include <stdint.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"

/* A uid or gid: digits only, below (id_t)-1, which means "no change" to the kernel. */
static bool parse_id(const char *s, uint32_t *ret)
{
        if (!*s || strlen(s) > 10)
                return false;
        for (const char *c = s; *c; c++)
                if (!isdigit((unsigned char)*c))
                        return false;
        unsigned long long v = strtoull(s, NULL, 10);
        if (v >= UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

int ctr_user_lookup(const char *text, const char *spec, struct ctr_user *ret, struct ctr_error *err)
{
        char sbuf[128];
        const char *gidpart = NULL;
        bool numeric = true;

        snprintf(sbuf, sizeof(sbuf), "%s", spec);
        char *colon = strchr(sbuf, ':');
        if (colon) {
                *colon = 0;
                gidpart = colon + 1;
        }
        if (!*sbuf)
                return ctr_err(err, EINVAL, "user", "empty user in '%s'", spec);
        for (const char *c = sbuf; *c; c++)
                numeric &= isdigit((unsigned char)*c) != 0;
        uint32_t want = 0;
        if (numeric && !parse_id(sbuf, &want))
                return ctr_err(err, ERANGE, "user", "'%s' is not a valid uid", sbuf);
        memset(ret, 0, sizeof(*ret));
        bool found = false;
        for (const char *line = text; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                char l[1024];
                if (len < sizeof(l)) {
                        memcpy(l, line, len);
                        l[len] = 0;
                        char *f[7] = {0};
                        char *s = l;
                        int nf = 0;
                        for (; nf < 7; nf++) {
                                f[nf] = s;
                                s = strchr(s, ':');
                                if (!s)
                                        break;
                                *s++ = 0;
                        }
                        uint32_t id;
                        if (nf >= 6 && (numeric ? parse_id(f[2], &id) && id == want : !strcmp(f[0], sbuf))) {
                                ret->uid = strtoul(f[2], NULL, 10);
                                ret->gid = strtoul(f[3], NULL, 10);
                                snprintf(ret->name, sizeof(ret->name), "%s", f[0]);
                                snprintf(ret->home, sizeof(ret->home), "%s", f[5]);
                                snprintf(ret->shell, sizeof(ret->shell), "%s", f[6] ? f[6] : "");
                                found = true;
                                break;
                        }
                }
                line = end ? end + 1 : NULL;
        }
        if (!found) {
                if (!numeric)
                        return ctr_err(err, ENOENT, "user", "no user '%s' in the container's /etc/passwd", sbuf);
                ret->uid = ret->gid = want;
                snprintf(ret->home, sizeof(ret->home), "/");
        }
        if (gidpart) {
                uint32_t g;
                if (!parse_id(gidpart, &g))
                        return ctr_err(err, EINVAL, "user", "group '%s' is not a valid numeric gid", gidpart);
                ret->gid = g;
        }
        return 0;
}

void ctr_user_env(char ***env, const struct ctr_user *u)
{
        bool home = false, user = false;
        for (char **e = *env; e && *e; e++)
                home |= !strncmp(*e, "HOME=", 5), user |= !strncmp(*e, "USER=", 5);
        if (!home) {
                _cleanup_free_ char *h = xasprintf("HOME=%s", *u->home ? u->home : "/");
                strv_push(env, h);
        }
        if (!user && *u->name) {
                _cleanup_free_ char *n = xasprintf("USER=%s", u->name);
                strv_push(env, n);
        }
}
