/* ctr config NAME get KEY / set KEY VALUE: read or change one key of a container's config.json;
 * a limit changed on a running container is applied to its live cgroup. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../base/util.h"

int cmd_config(int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = "config", .min_pos = 3, .max_pos = 4, .pos_name = "NAME get|set KEY [VALUE]"};
        struct ctr_paths p = {0};
        struct ctr_error err = {0};
        int r = ctr_cli_parse(argc, argv, &cp);
        if (r)
                return CTR_CLI_RETURN(r);
        const char *name = cp.pos[0], *action = cp.pos[1], *key = cp.pos[2];
        bool get = !strcmp(action, "get"), set = !strcmp(action, "set");
        if (!get && !set)
                return ctr_cli_usage_error("config", "unknown action '%s' (get or set)", action);
        if (get && cp.npos != 3)
                return ctr_cli_usage_error("config", "get takes a KEY only");
        if (set && cp.npos != 4)
                return ctr_cli_usage_error("config", "set needs a KEY and a VALUE");
        if ((r = ctr_cli_paths(&p, "config")))
                return r;
        if (get) {
                struct ctr_config cfg;
                _cleanup_free_ char *v = NULL;
                if (ctr_container_load(&p, name, &cfg, &err) < 0)
                        r = ctr_cli_fail("config", name, &err);
                else {
                        if (ctr_config_get(&cfg, key, &v, &err) < 0)
                                r = ctr_cli_fail("config", name, &err);
                        else
                                puts(v);
                        ctr_config_free(&cfg);
                }
        } else {
                bool live;
                if (ctr_container_config_set(&p, name, key, cp.pos[3], &live, &err) < 0)
                        r = ctr_cli_fail("config", name, &err);
                else if (!arg_quiet && live)
                        printf("%s: %s = %s (applied to the running container)\n", name, key, cp.pos[3]);
        }
        ctr_paths_free(&p);
        return r;
}
