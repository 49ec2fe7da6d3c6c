/* The host's own apt sources as the default mirror for a distribution's template: one-line
 * sources.list format and deb822 .sources, read-only, nothing fetched. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"

/* ".../debian" or ".../debian/" serves the distribution "debian"; ".../debian-security" does not. */
static bool uri_serves(const char *uri, const char *dist)
{
        size_t n = strlen(uri);
        if (strncmp(uri, "http://", 7) && strncmp(uri, "https://", 8) && strncmp(uri, "file:/", 6))
                return false;
        while (n && uri[n - 1] == '/')
                n--;
        size_t d = strlen(dist);
        return n > d && uri[n - d - 1] == '/' && !strncmp(uri + n - d, dist, d);
}

static char *trimmed(const char *uri)
{
        char *s = xstrdup(uri);
        size_t n = strlen(s);
        while (n > 1 && s[n - 1] == '/')
                s[--n] = 0;
        return s;
}

/* "deb [opts] URI suite comp..." */
static char *scan_list(const char *text, const char *dist)
{
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *s = line + strspn(line, " \t");
                if (strncmp(s, "deb", 3) || (s[3] != ' ' && s[3] != '\t'))
                        continue;
                s += 3;
                s += strspn(s, " \t");
                if (*s == '[') {
                        char *end = strchr(s, ']');
                        if (!end)
                                continue;
                        s = end + 1;
                        s += strspn(s, " \t");
                }
                size_t len = strcspn(s, " \t#");
                s[len] = 0;
                if (uri_serves(s, dist))
                        return trimmed(s);
        }
        return NULL;
}

/* deb822: paragraphs separated by blank lines; Types must include "deb". */
static char *scan_deb822(const char *text, const char *dist)
{
        _cleanup_free_ char *copy = xstrdup(text);
        char *p = copy;
        while (p && *p) {
                char *end = strstr(p, "\n\n");
                if (end)
                        *end = 0;
                bool is_deb = false, enabled = true;
                char *uris = NULL;
                char *save = NULL;
                for (char *line = strtok_r(p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        if (*line == '#')
                                continue;
                        char *colon = strchr(line, ':');
                        if (!colon || *line == ' ' || *line == '\t')
                                continue;
                        *colon = 0;
                        char *v = colon + 1 + strspn(colon + 1, " \t");
                        if (!strcasecmp(line, "Types")) {
                                for (char *t = v; (t = strstr(t, "deb")); t += 3)
                                        if ((t == v || t[-1] == ' ' || t[-1] == '\t') &&
                                            (t[3] == 0 || t[3] == ' ' || t[3] == '\t'))
                                                is_deb = true;
                        } else if (!strcasecmp(line, "URIs"))
                                uris = v;
                        else if (!strcasecmp(line, "Enabled"))
                                enabled = strcasecmp(v, "no") != 0;
                }
                if (is_deb && enabled && uris) {
                        char *s2 = NULL;
                        for (char *u = strtok_r(uris, " \t", &s2); u; u = strtok_r(NULL, " \t", &s2))
                                if (uri_serves(u, dist))
                                        return trimmed(u);
                }
                p = end ? end + 2 : NULL;
        }
        return NULL;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctr_template_apt_mirror(const char *etc, const char *dist, char **ret)
{
        _cleanup_free_ char *main_list = xasprintf("%s/apt/sources.list", etc);
        _cleanup_free_ char *dir = xasprintf("%s/apt/sources.list.d", etc);
        _cleanup_free_ char *text = NULL;
        *ret = NULL;
        if (!dist || !*dist)
                return -ENOENT;
        if (ctr_read_file(main_list, 1 << 20, &text, NULL) >= 0 && (*ret = scan_list(text, dist)))
                return 0;
        DIR *d = opendir(dir);
        if (!d)
                return -ENOENT;
        char *names[256];
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < ARRAY_SIZE(names)) {
                size_t l = strlen(de->d_name);
                if ((l > 5 && !strcmp(de->d_name + l - 5, ".list")) || (l > 8 && !strcmp(de->d_name + l - 8, ".sources")))
                        names[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        /* apt reads the directory in name order; so do we, for a stable answer. */
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
                _cleanup_free_ char *t = NULL;
                if (!*ret && ctr_read_file(path, 1 << 20, &t, NULL) >= 0)
                        *ret = strstr(names[i], ".sources") ? scan_deb822(t, dist) : scan_list(t, dist);
                free(names[i]);
        }
        return *ret ? 0 : -ENOENT;
}
