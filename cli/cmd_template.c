/* ctr template list|refresh: the templates found on the search path with their one-line
 * description (a "# description: ..." line near the top of the script) and the cached trees;
 * refresh rebuilds a cached tree and removes older builds no container uses. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rootfs/rootfs.h"
#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../base/json.h"
#include "../base/util.h"

static int list_templates(struct ctr_json_gen *g)
{
        char seen[64][65];
        size_t nseen = 0;
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_open(g);
        for (const char *const *d = ctr_template_dirs(); *d; d++) {
                struct dirent **ents;
                int n = scandir(*d, &ents, NULL, alphasort);
                for (int i = 0; i < n; i++) {
                        const char *name = ents[i]->d_name;
                        _cleanup_free_ char *path = xasprintf("%s/%s", *d, name);
                        bool dup = false;
                        for (size_t s = 0; s < nseen; s++)
                                dup |= !strcmp(seen[s], name);
                        /* The first directory on the search path wins, as in ctr_template_find(). */
                        struct stat st;
                        if (!dup && ctr_name_valid(name) && access(path, X_OK) == 0 && stat(path, &st) == 0 &&
                            S_ISREG(st.st_mode) && nseen < 64) {
                                struct ctr_template_meta meta;
                                snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
                                ctr_template_meta(path, &meta);
                                const char *desc = meta.description;
                                if (arg_format == CTR_FORMAT_JSON) {
                                        ctr_json_obj_open(g);
                                        ctr_json_key_(g, "name");
                                        ctr_json_str(g, name);
                                        ctr_json_key_(g, "description");
                                        ctr_json_str(g, desc);
                                        ctr_json_key_(g, "path");
                                        ctr_json_str(g, path);
                                        ctr_json_obj_close(g);
                                } else if (arg_quiet)
                                        puts(name);
                                else
                                        printf("%-12s %s\n", name, desc);
                        }
                        free(ents[i]);
                }
                if (n >= 0)
                        free(ents);
        }
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_close(g);
        return 0;
}

/* Builds of one cache key, oldest first; "current" is the link's target. */
static int list_builds(const char *keydir, struct dirent ***ret)
{
        int n = scandir(keydir, ret, NULL, alphasort);
        return n < 0 ? 0 : n;
}

static void list_cache(struct ctr_json_gen *g, const char *cache)
{
        _cleanup_free_ char *tdir = xasprintf("%s/templates", cache);
        struct dirent **keys;
        int n = scandir(tdir, &keys, NULL, alphasort);
        bool header = false;
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_open(g);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *rootfs = NULL;
                const char *key = keys[i]->d_name;
                if (key[0] != '.' && ctr_cache_lookup(cache, key, &rootfs) == 0) {
                        _cleanup_free_ char *metap = xasprintf("%s/../meta.json", rootfs);
                        _cleanup_free_ char *meta = NULL;
                        char created[32] = "?";
                        if (ctr_read_file(metap, 1 << 16, &meta, NULL) >= 0) {
                                const char *c = strstr(meta, "\"created\": \"");
                                if (c)
                                        snprintf(created, sizeof(created), "%.20s", c + 12);
                                created[strcspn(created, "\"")] = 0;
                        }
                        if (arg_format == CTR_FORMAT_JSON) {
                                ctr_json_obj_open(g);
                                ctr_json_key_(g, "key");
                                ctr_json_str(g, key);
                                ctr_json_key_(g, "created");
                                ctr_json_str(g, created);
                                ctr_json_key_(g, "rootfs");
                                ctr_json_str(g, rootfs);
                                ctr_json_obj_close(g);
                        } else if (!arg_quiet) {
                                if (!header)
                                        printf("\nCached (%s):\n", tdir);
                                header = true;
                                printf("  %-32s %s\n", key, created);
                        }
                }
                free(keys[i]);
        }
        if (n >= 0)
                free(keys);
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_close(g);
}

/* Remove builds of key other than the current one that no container of this state root uses. */
static void prune(const struct ctr_paths *p, const char *key)
{
        _cleanup_free_ char *keydir = xasprintf("%s/templates/%s", p->cache, key);
        _cleanup_free_ char *cur = NULL;
        _cleanup_strv_ char **names = NULL;
        struct ctr_error e;
        if (ctr_cache_lookup(p->cache, key, &cur) < 0 || ctr_container_names(p, &names, &e) < 0)
                return;
        struct dirent **b;
        int n = list_builds(keydir, &b);
        for (int i = 0; i < n; i++) {
                const char *id = b[i]->d_name;
                _cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", keydir, id);
                bool used = id[0] == '.' || !strcmp(id, "current") || !strcmp(rootfs, cur);
                for (char **nm = names; !used && *nm; nm++) {
                        struct ctr_config c;
                        if (ctr_container_load(p, *nm, &c, &e) < 0) {
                                used = true; /* unreadable config: keep what it might use */
                                continue;
                        }
                        used = c.storage_lower && !strcmp(c.storage_lower, rootfs);
                        ctr_config_free(&c);
                }
                if (!used) {
                        _cleanup_free_ char *d = xasprintf("%s/%s", keydir, id);
                        ctr_rm_rf(d);
                }
                free(b[i]);
        }
        if (n > 0)
                free(b);
}

struct refresh_args {
        const char *release, *dist, *mirror;
};

static int on_refresh_opt(int c, const char *arg, void *ud)
{
        struct refresh_args *a = ud;
        if (c == 'r')
                a->release = arg;
        else if (c == 1)
                a->dist = arg;
        else if (c == 2)
                a->mirror = arg;
        return 0;
}

static void refresh_progress(void *ud, const struct ctr_template_event *ev)
{
        if (arg_quiet || ev->kind == CTR_TPL_ERR)
                return;
        if (ev->kind == CTR_TPL_STEP)
                printf("[%d/%d] %s\n", ev->step, ev->total, ev->text);
        else
                printf("%s\n", ev->text);
        fflush(stdout);
}

static int refresh(int argc, char **argv)
{
        static const struct option opts[] = {{"release", required_argument, NULL, 'r'},
                                             {"dist", required_argument, NULL, 1},
                                             {"mirror", required_argument, NULL, 2},
                                             {"server", required_argument, NULL, 2},
                                             {}};
        struct refresh_args a = {0};
        struct ctr_cli_parse cp = {.verb = "template", .shortopts = "r:", .longopts = opts, .on_opt = on_refresh_opt,
                                   .userdata = &a, .min_pos = 2, .max_pos = 2, .pos_name = "refresh NAME"};
        struct ctr_paths p = {0};
        struct ctr_template_choice tc = {0};
        struct ctr_error err = {0};
        _cleanup_free_ char *key = NULL, *rootfs = NULL;
        int r = ctr_cli_parse(argc, argv, &cp);
        if (r)
                return CTR_CLI_RETURN(r);
        const char *name = cp.pos[1];
        if ((r = ctr_cli_paths(&p, "template")))
                return r;
        if (ctr_template_choose(name, a.dist, a.release, a.mirror, &tc, &err) < 0)
                goto fail;
        if (!tc.cache) {
                ctr_err(&err, EINVAL, "refresh", "template %s is not cached (it builds each container afresh)", name);
                goto fail;
        }
        key = ctr_cache_key(name, tc.dist, tc.release, ctr_host_arch());
        struct ctr_template_args ta = {.template = name, .name = key, .dist = tc.dist, .release = tc.release,
                                       .arch = ctr_host_arch(), .mirror = tc.mirror, .cache = p.cache,
                                       .progress = refresh_progress};
        if (ctr_cache_build(&ta, p.cache, key, true, &rootfs, &err) < 0)
                goto fail;
        prune(&p, key);
        if (!arg_quiet)
                printf("Refreshed %s (%s)\n", key, rootfs);
        ctr_template_choice_free(&tc);
        ctr_paths_free(&p);
        return 0;
fail:
        r = ctr_cli_fail("template refresh", name, &err);
        ctr_template_choice_free(&tc);
        ctr_paths_free(&p);
        return r;
}

int cmd_template(int argc, char **argv)
{
        /* The action picks the options: peek at the first word that is not an option. */
        const char *action = NULL;
        for (int i = 1; i < argc && !action; i++)
                if (argv[i][0] != '-')
                        action = argv[i];
                else if (!strcmp(argv[i], "--root") || !strcmp(argv[i], "--format"))
                        i++;
        if (action && !strcmp(action, "refresh"))
                return refresh(argc, argv);
        struct ctr_cli_parse cp = {.verb = "template", .min_pos = 1, .max_pos = 1, .pos_name = "'list' or 'refresh NAME'"};
        int r = ctr_cli_parse(argc, argv, &cp);
        if (r)
                return CTR_CLI_RETURN(r);
        if (strcmp(cp.pos[0], "list"))
                return ctr_cli_usage_error("template", "unknown action '%s' (list, refresh)", cp.pos[0]);
        struct ctr_paths p = {0};
        if ((r = ctr_cli_paths(&p, "template")))
                return r;
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        if (arg_format == CTR_FORMAT_JSON) {
                ctr_json_obj_open(g);
                ctr_json_key_(g, "templates");
        }
        list_templates(g);
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_key_(g, "cached");
        list_cache(g, p.cache);
        if (arg_format == CTR_FORMAT_JSON) {
                ctr_json_obj_close(g);
                fputs(ctr_json_gen_text(g, NULL), stdout);
        }
        ctr_paths_free(&p);
        return 0;
}
