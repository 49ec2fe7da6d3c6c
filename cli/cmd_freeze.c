/* ctr freeze / unfreeze: stop every process of a running container in place (cgroup.freeze),
 * and let it continue. Freezing a frozen container, or thawing a running one, is not an error. */
#define _GNU_SOURCE
#include "cli.h"
#include "../runtime/container.h"

static int run(const char *verb, bool freeze, int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = verb, .min_pos = 1, .max_pos = 1, .pos_name = "NAME"};
        struct ctr_paths p = {0};
        struct ctr_error err = {0};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        if (ctr_container_freeze(&p, cp.pos[0], freeze, &err) < 0)
                r = ctr_cli_fail(verb, cp.pos[0], &err);
        ctr_paths_free(&p);
        return r;
}

int cmd_freeze(int argc, char **argv) { return run("freeze", true, argc, argv); }
int cmd_unfreeze(int argc, char **argv) { return run("unfreeze", false, argc, argv); }
