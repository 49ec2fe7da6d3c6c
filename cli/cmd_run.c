/* ctr run: a throwaway container for one command — an overlay on the template cache (or on a
 * stopped container with --from), the caller's stdio, the command's exit status, everything
 * gone afterwards unless --keep NAME. Built from create, the monitor in this process, destroy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../runtime/container.h"
#include "../runtime/exec.h"
#include "../base/json.h"
#include "../runtime/monitor.h"
#include "../cgroups/cgroups.h"
#include "../base/util.h"

enum { OPT_RM = OPT_VERB_BASE + 200, OPT_KEEP, OPT_FROM, OPT_TTY, OPT_TMPFS, OPT_READONLY, OPT_ALLOW_MISSING,
       OPT_TIMEOUT, OPT_JSON_FD, OPT_NET_RUN };

struct run_args {
        struct ctr_create_args c; /* first: create's option handler works on it */
        struct ctr_run_opts run;
        const char *keep, *from;
        bool allow_missing;
        int json_fd;
        char **tmpfs;
        struct timespec t0;
};

static int run_on_opt(int c, const char *arg, void *ud)
{
        struct run_args *a = ud;
        char *end;
        long v;
        switch (c) {
        case OPT_RM: return 0; /* the default; --keep NAME keeps it */
        case OPT_KEEP: a->keep = arg; return 0;
        case OPT_FROM: a->from = arg; return 0;
        case OPT_TTY: a->run.tty = true; return 0;
        case OPT_READONLY: a->run.readonly_root = true; return 0;
        case OPT_ALLOW_MISSING: a->allow_missing = true; return 0;
        case 'u': a->run.user = arg; return 0;
        case 'w':
                if (arg[0] != '/') {
                        ctr_err(&a->c.err, EINVAL, "usage", "-w '%s' is not an absolute path", arg);
                        return a->c.bad = EXIT_CTR_FAILURE;
                }
                a->run.cwd = arg;
                return 0;
        case OPT_TMPFS:
                if (arg[0] != '/' || strstr(arg, "..")) {
                        ctr_err(&a->c.err, EINVAL, "usage", "--tmpfs '%s' is not an absolute path", arg);
                        return a->c.bad = EXIT_CTR_FAILURE;
                }
                strv_push(&a->tmpfs, arg);
                return 0;
        case OPT_TIMEOUT:
                v = strtol(arg, &end, 10);
                if (*end || end == arg || v <= 0 || v > 7 * 86400) {
                        ctr_err(&a->c.err, EINVAL, "usage", "--timeout: '%s' is not a number of seconds", arg);
                        return a->c.bad = EXIT_CTR_FAILURE;
                }
                a->run.timeout = (int)v;
                return 0;
        case OPT_JSON_FD:
                v = strtol(arg, &end, 10);
                if (*end || end == arg || v < 0 || v > 65535 || fcntl((int)v, F_GETFD) < 0) {
                        ctr_err(&a->c.err, EBADF, "usage", "--json-status-fd: '%s' is not an open file descriptor", arg);
                        return a->c.bad = EXIT_CTR_FAILURE;
                }
                a->json_fd = (int)v;
                return 0;
        }
        return ctr_create_on_opt(c, arg, &a->c);
}

/* --- JSON status events (bubblewrap's --json-status-fd idea) --------------------------------- */

static void emit(int fd, struct ctr_json_gen *g)
{
        size_t len;
        const char *text = ctr_json_gen_text(g, &len);
        ctr_write_all(fd, text, len);
}

static void kv_int(struct ctr_json_gen *g, const char *k, int64_t v)
{
        ctr_json_key_(g, k);
        ctr_json_int_(g, v);
}

static void on_started(void *data, const struct ctr_state *st, const uint64_t *ns_ino)
{
        struct run_args *a = data;
        if (a->json_fd < 0)
                return;
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "started");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "name");
        ctr_json_str(g, a->c.cfg.name);
        kv_int(g, "pid", st->init_pid);
        ctr_json_key_(g, "cgroup");
        ctr_json_str(g, st->cgroup);
        ctr_json_key_(g, "namespaces");
        ctr_json_obj_open(g);
        static const char *const ns[] = CTR_RUN_NAMESPACES;
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
                if (ns_ino[i])
                        kv_int(g, ns[i], (int64_t)ns_ino[i]);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        emit(a->json_fd, g);
}

static void on_exited(void *data, const struct ctr_state *st, int status, bool timed_out)
{
        struct run_args *a = data;
        if (a->json_fd < 0)
                return;
        struct ctr_cg_stats s = {0};
        ctr_cgroup_stats_all(st->cgroup, st->cgroup_v1, &s);
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "exited");
        ctr_json_obj_open(g);
        ctr_json_key_(g, "name");
        ctr_json_str(g, a->c.cfg.name);
        bool sig = status > 128 && status < 128 + 65;
        kv_int(g, "status", timed_out ? 124 : status);
        ctr_json_key_(g, "exit_code");
        if (sig)
                ctr_json_null(g);
        else
                ctr_json_int_(g, status);
        ctr_json_key_(g, "signal");
        if (sig)
                ctr_json_int_(g, status - 128);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "timed_out");
        ctr_json_boolean(g, timed_out);
        /* What the host can count; null where its cgroup v2 lacks the controller. */
        ctr_json_key_(g, "oom_killed");
        if (s.has_memory)
                ctr_json_boolean(g, s.oom_kill > 0);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "memory_peak");
        if (s.has_memory && s.memory_peak)
                ctr_json_int_(g, (int64_t)s.memory_peak);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "cpu_usec");
        if (s.has_cpu)
                ctr_json_int_(g, (int64_t)s.usage_usec);
        else
                ctr_json_null(g);
        kv_int(g, "wall_usec", (int64_t)(t1.tv_sec - a->t0.tv_sec) * 1000000 + (t1.tv_nsec - a->t0.tv_nsec) / 1000);
        ctr_json_obj_close(g);
        ctr_json_obj_close(g);
        emit(a->json_fd, g);
}

static char *random_name(void)
{
        unsigned char b[6];
        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                for (size_t i = 0; i < sizeof(b); i++)
                        b[i] = (unsigned char)(rand() ^ getpid());
        return xasprintf("run-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

int cmd_run(int argc, char **argv)
{
        static const struct option extra[] = {
                {"rm", no_argument, NULL, OPT_RM},
                {"keep", required_argument, NULL, OPT_KEEP},
                {"from", required_argument, NULL, OPT_FROM},
                {"tty", no_argument, NULL, OPT_TTY},
                {"tmpfs", required_argument, NULL, OPT_TMPFS},
                {"read-only", no_argument, NULL, OPT_READONLY},
                {"allow-missing-limits", no_argument, NULL, OPT_ALLOW_MISSING},
                {"timeout", required_argument, NULL, OPT_TIMEOUT},
                {"json-status-fd", required_argument, NULL, OPT_JSON_FD},
                {"user", required_argument, NULL, 'u'},
                {"workdir", required_argument, NULL, 'w'},
        };
        struct option opts[96];
        size_t n = 0;
        for (const struct option *o = ctr_create_longopts(); o->name; o++)
                if (strcmp(o->name, "init") && strcmp(o->name, "storage"))
                        opts[n++] = *o;
        for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
                opts[n++] = extra[i];
        memset(&opts[n], 0, sizeof(opts[n]));

        struct run_args a = {.json_fd = -1};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "run", .shortopts = "t:r:e:v:p:u:w:", .longopts = opts, .on_opt = run_on_opt,
                                   .userdata = &a, .min_pos = 0, .max_pos = 0, .takes_rest = true};
        int r, code = EXIT_CTR_FAILURE;
        bool created = false;
        _cleanup_free_ char *name = NULL;

        clock_gettime(CLOCK_MONOTONIC, &a.t0);
        /* Named once the flags are read: the hostname is the run's name unless --hostname. */
        ctr_config_init(&a.c.cfg, NULL);
        /* A sandbox: no network unless asked, and no privilege gained through setuid files. */
        ctr_config_set_net_mode(&a.c.cfg, "none", NULL);
        a.c.cfg.no_new_privs = true;
        r = ctr_cli_parse(argc, argv, &cp);
        if (a.c.bad) {
                r = ctr_cli_fail("run", NULL, &a.c.err);
                goto out;
        }
        if (r)
                goto out;
        if (!cp.nrest) {
                r = ctr_cli_usage_error("run", "missing the command (ctr run [OPTIONS] -- CMD [ARG]...)");
                goto out;
        }
        if (!a.c.cfg.template_name && !a.from) {
                r = ctr_cli_usage_error("run", "needs a template (-t TEMPLATE) or a container to start from (--from NAME)");
                goto out;
        }
        if (a.from && a.c.cfg.template_name) {
                r = ctr_cli_usage_error("run", "-t and --from exclude each other");
                goto out;
        }
        /* Read-write volumes are idmapped to their owners in the user namespace. */
        if ((r = ctr_create_userns_default(&a.c, "run")))
                goto out;
        name = a.keep ? xstrdup(a.keep) : random_name();
        a.run.ephemeral = !a.keep;
        if (!ctr_name_valid(name)) {
                ctr_err(&a.c.err, EINVAL, "name", "'%s' is not a valid container name", name);
                r = ctr_cli_fail("run", NULL, &a.c.err);
                goto out;
        }
        ctr_config_set_name(&a.c.cfg, name);
        strv_free(a.c.cfg.init);
        a.c.cfg.init = strv_copy(cp.rest);
        /* The command is PID 1 of its namespace: asked to stop, it gets SIGTERM. */
        free(a.c.cfg.stop_signal);
        a.c.cfg.stop_signal = xstrdup("SIGTERM");
        a.run.tmpfs = a.tmpfs;

        if ((r = ctr_cli_paths(&p, "run")))
                goto out;
        /* A limit the host cannot enforce fails now, before anything exists, unless allowed. */
        struct ctr_cg_host host;
        struct ctr_cg_limits lim = ctr_config_cg_limits(&a.c.cfg);
        if (ctr_cgroup_detect(&host, &a.c.err) < 0) {
                r = ctr_cli_fail("run", name, &a.c.err);
                goto out;
        }
        struct ctr_cg_v1 v1;
        bool in_v1;
        if (ctr_cgroup_split_v1(&host, &lim, &v1, &in_v1, &a.c.err) < 0) {
                if (!a.allow_missing) {
                        ctr_err_prefix(&a.c.err, "%s (--allow-missing-limits runs without it)", "limits");
                        r = ctr_cli_fail("run", name, &a.c.err);
                        goto out;
                }
                fprintf(stderr, "ctr: run %s: warning: %s; running without the limits\n", name, a.c.err.msg);
                a.c.cfg.limits = (struct ctr_limits){0};
                a.c.err = (struct ctr_error){0};
        }
        struct ctr_create_opts co = {.release = a.c.release, .dist = a.c.dist, .mirror = a.c.mirror, .from = a.from,
                                   .cache = true, .ephemeral = !a.keep};
        if (ctr_container_create(&p, &a.c.cfg, &co, &a.c.err) < 0) {
                r = ctr_cli_fail("run", name, &a.c.err);
                goto out;
        }
        created = true;
        struct ctr_monitor_args ma = {.run = &a.run, .on_started = on_started, .on_exited = on_exited, .data = &a};
        if (a.run.tty)
                ctr_tty_raw();
        r = ctr_container_run(&p, name, &ma, &code, &a.c.err);
        ctr_tty_restore();
        if (r < 0) {
                r = ctr_cli_fail("run", name, &a.c.err);
                goto out;
        }
        if (code == 124 && a.run.timeout)
                fprintf(stderr, "ctr: run %s: timeout: killed after %d s\n", name, a.run.timeout);
        r = code;
out:
        if (created && !a.keep) {
                struct ctr_error e2 = {0};
                if (ctr_container_destroy(&p, name, true, &e2) < 0) {
                        ctr_cli_fail("run", name, &e2);
                        r = r ? r : EXIT_CTR_FAILURE;
                }
        }
        strv_free(a.tmpfs);
        ctr_config_free(&a.c.cfg);
        ctr_paths_free(&p);
        return CTR_CLI_RETURN(r);
}
