/* ctr exec and ctr attach: run a command inside, or join the console. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/exec.h"
#include "../base/util.h"

struct exec_args {
        struct ctr_exec_opts o;
        struct ctr_error err;
        bool bad;
};

static int on_opt(int c, const char *arg, void *ud)
{
        struct exec_args *a = ud;
        switch (c) {
        case 't': a->o.tty = true; return 0;
        case 'u': a->o.user = arg; return 0;
        case 'w':
                if (arg[0] != '/')
                        return ctr_cli_usage_error("exec", "-w needs an absolute path, not '%s'", arg);
                a->o.cwd = arg;
                return 0;
        case 'e':
                if (ctr_config_env_set(&a->o.env, arg, &a->err) < 0) {
                        a->bad = true;
                        return EXIT_CTR_FAILURE;
                }
                return 0;
        }
        return EXIT_CTR_FAILURE;
}

int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {{"tty", no_argument, NULL, 't'}, {"user", required_argument, NULL, 'u'},
                                             {"workdir", required_argument, NULL, 'w'},
                                             {"env", required_argument, NULL, 'e'}, {}};
        struct exec_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "exec", .shortopts = "tu:w:e:", .longopts = opts, .on_opt = on_opt,
                                   .userdata = &a, .min_pos = 1, .max_pos = 1, .pos_name = "NAME",
                                   .takes_rest = true};
        int r = ctr_cli_parse(argc, argv, &cp), status = 125;
        if (a.bad)
                r = ctr_cli_fail("exec", cp.npos ? cp.pos[0] : NULL, &a.err);
        else if (r == 0 && cp.nrest == 0)
                r = ctr_cli_usage_error("exec", "missing the command to run (ctr exec NAME -- CMD...)");
        if (r)
                goto out;
        if ((r = ctr_cli_paths(&p, "exec")))
                goto out;
        a.o.argv = cp.rest;
        if (ctr_exec(&p, cp.pos[0], &a.o, &status, &a.err) < 0) {
                ctr_cli_fail("exec", cp.pos[0], &a.err);
        }
        r = status;
out:
        strv_free(a.o.env);
        ctr_paths_free(&p);
        return CTR_CLI_RETURN(r);
}

int cmd_attach(int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = "attach", .min_pos = 1, .max_pos = 1, .pos_name = "NAME"};
        struct ctr_paths p = {0};
        struct ctr_error err = {0};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        if (ctr_attach(&p, cp.pos[0], &err) < 0)
                r = ctr_cli_fail("attach", cp.pos[0], &err);
        ctr_paths_free(&p);
        return r;
}
