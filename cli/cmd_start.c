/* ctr start / stop / restart: thin wrappers around the lifecycle calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rootfs/rootfs.h"
#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../runtime/spawn.h"
#include "../base/util.h"

enum { OPT_FOREGROUND = OPT_VERB_BASE, OPT_KILL, OPT_FORCE, OPT_READY_TIMEOUT, OPT_VM };

struct stop_args {
        int timeout;
        bool kill;
        bool foreground;
        bool force;
        bool vm;
};

static int on_opt(int c, const char *arg, void *ud)
{
        struct stop_args *a = ud;
        char *end;
        switch (c) {
        case 't':
                a->timeout = strtol(arg, &end, 10);
                if (*end || end == arg || a->timeout < 0)
                        return ctr_cli_usage_error(NULL, "-t: '%s' is not a number of seconds", arg);
                return 0;
        case OPT_KILL: a->kill = true; return 0;
        case OPT_FOREGROUND: a->foreground = true; return 0;
        case OPT_FORCE: a->force = true; return 0;
        case OPT_VM: a->vm = true; return 0;
        case OPT_READY_TIMEOUT: {
                long t = strtol(arg, &end, 10);
                if (*end || end == arg || t < 0 || t > 86400)
                        return ctr_cli_usage_error(NULL, "--ready-timeout: '%s' is not a number of seconds", arg);
                /* The monitor reads it; init's environment is built afresh and never sees it. */
                setenv("CTR_READY_TIMEOUT", arg, 1);
                return 0;
        }
        }
        return EXIT_CTR_FAILURE;
}

static int run(const char *verb, int argc, char **argv)
{
        static const struct option start_opts[] = {{"foreground", no_argument, NULL, OPT_FOREGROUND},
                                                   {"ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT},
                                                   {"vm", no_argument, NULL, OPT_VM},
                                                   {}};
        static const struct option stop_opts[] = {
                {"timeout", required_argument, NULL, 't'}, {"kill", no_argument, NULL, OPT_KILL}, {}};
        static const struct option destroy_opts[] = {{"force", no_argument, NULL, OPT_FORCE}, {}};
        struct stop_args a = {.timeout = -1};
        struct ctr_paths p = {0};
        struct ctr_error err = {0};
        bool start = !strcmp(verb, "start"), stop = !strcmp(verb, "stop"), destroy = !strcmp(verb, "destroy");
        struct ctr_cli_parse cp = {
                .verb = verb,
                .shortopts = start || destroy ? "" : "t:",
                .longopts = start ? start_opts : destroy ? destroy_opts : stop_opts,
                .on_opt = on_opt,
                .userdata = &a,
                .min_pos = 1,
                .max_pos = 1,
                .pos_name = "NAME",
        };
        int r = ctr_cli_parse(argc, argv, &cp), code = 0;
        if (r)
                return CTR_CLI_RETURN(r);
        if (!stop && a.kill)
                return ctr_cli_usage_error(verb, "--kill belongs to stop");
        const char *name = cp.pos[0];
        if ((r = ctr_cli_paths(&p, verb)))
                return r;
        if (destroy)
                r = ctr_container_destroy(&p, name, a.force, &err);
        else {
                r = start ? 0 : ctr_container_stop(&p, name, a.timeout, a.kill, &err);
                if (r >= 0 && !stop)
                        r = ctr_container_start_as(&p, name, a.foreground, a.vm, &code, &err);
        }
        ctr_paths_free(&p);
        if (r < 0)
                return ctr_cli_fail(verb, name, &err);
        return code;
}

int cmd_start(int argc, char **argv) { return run("start", argc, argv); }
int cmd_stop(int argc, char **argv) { return run("stop", argc, argv); }
int cmd_restart(int argc, char **argv) { return run("restart", argc, argv); }
int cmd_destroy(int argc, char **argv) { return run("destroy", argc, argv); }
