/* The OCI runtime command line (runc's, as engines call it): `ctr oci VERB ...`, or the same
 * verbs with the binary called as ctr-oci. Global options before the verb: --root, --log,
 * --log-format text|json, --systemd-cgroup, --debug (and --rootless, accepted). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "../base/json.h"
#include "../runtime/oci.h"
#include "../runtime/oci_spec.h"
#include "../runtime/state.h"
#include "../security/seccomp.h"
#include "../base/util.h"

static struct ctr_oci oci = {.root = CTR_OCI_DEFAULT_ROOT};
static const char *log_path;
static bool log_json;

/* A line in the --log file, as runc writes it (conmon shows the log's last error to the user). */
static void log_line(const char *level, const char *line)
{
        if (!log_path)
                return;
        FILE *f = fopen(log_path, "ae");
        if (!f)
                return;
        char ts[64];
        time_t t = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        if (log_json) {
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
                ctr_json_obj_open(g);
                ctr_json_key_(g, "level");
                ctr_json_str(g, level);
                ctr_json_key_(g, "msg");
                ctr_json_str(g, line);
                ctr_json_key_(g, "time");
                ctr_json_str(g, ts);
                ctr_json_obj_close(g);
                fputs(ctr_json_gen_text(g, NULL), f);
        } else
                fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, line);
        fclose(f);
}

/* One line on stderr and, when --log was given, one in the log. */
static int fail(const char *verb, const char *id, const struct ctr_error *e)
{
        char line[700];
        const char *msg = *e->msg ? e->msg : strerror(e->errnum);
        /* The step is left out when the line says it already ("kill web: container not
         * running", not "kill web: kill: ..."): the shims match runc's texts, keep them plain. */
        size_t ol = strlen(e->op);
        bool op = ol && !(verb && !strcmp(e->op, verb)) && !(!strncmp(msg, e->op, ol) && msg[ol] == ' ');
        snprintf(line, sizeof(line), "%s%s%s%s%s%s", verb ? verb : "oci", id ? " " : "", id ? id : "", ": ",
                 op ? e->op : "", op ? ": " : "");
        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s", msg);
        fprintf(stderr, "ctr: %s\n", line);
        log_line("error", line);
        return EXIT_CTR_FAILURE;
}

/* What the library had to change (a capped rlimit, limits without a controller), printed here,
 * before the container's own output can mix with it. */
static void warn_all(char **warnings)
{
        for (char **w = warnings; w && *w; w++) {
                fprintf(stderr, "ctr: warning: %s\n", *w);
                log_line("warning", *w);
        }
        strv_free(warnings);
}

static int usage(const char *verb, const char *fmt, ...)
{
        struct ctr_error e = {.errnum = EINVAL};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
        va_end(ap);
        snprintf(e.op, sizeof(e.op), "usage");
        return fail(verb, NULL, &e);
}

static const char oci_help[] =
        "Usage: ctr oci [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup] VERB [ARGS]\n"
        "       ctr-oci ... (the same, for engines: podman --runtime /usr/local/bin/ctr-oci)\n\n"
        "The OCI runtime command line (runc's), for containerd, CRI-O and podman.\n\nVerbs:\n"
        "  create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds N] ID\n"
        "  start ID            run [--bundle DIR] [--detach] [--pid-file F] [--console-socket S] ID\n"
        "  state ID            kill [--all] ID [SIGNAL]          delete [--force] ID\n"
        "  exec [--process F] [--detach] [--tty] [--pid-file F] [--console-socket S] [--cwd D]\n"
        "       [--env K=V]... [--user UID[:GID]] [--cap CAP]... [--no-new-privs] ID [CMD...]\n"
        "  pause ID            resume ID           ps [--format table|json] ID [PS-ARGS...]\n"
        "  update [--resources FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N]\n"
        "         [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpu-rt-runtime N] [--cpu-rt-period N]\n"
        "         [--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] [--blkio-weight N] ID\n"
        "  list [--format table|json] [-q]         features           spec [--bundle DIR] [--rootless]\n"
        "See ctr-oci(1).\n";

/* getopt_long_only: engines spell long options with one dash or two. */
static int parse(int argc, char **argv, const char *verb, const struct option *opts,
                 int (*on)(int c, const char *arg, void *u), void *u)
{
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(oci_help, stdout);
                        return -1;
                }
                if (c == '?')
                        return usage(verb, "unknown option '%s'", argv[optind - 1]);
                if (c == ':')
                        return usage(verb, "option '%s' needs a value", argv[optind - 1]);
                int r = on(c, optarg, u);
                if (r)
                        return r;
        }
        return 0;
}

static int int_arg(const char *verb, const char *flag, const char *arg, int *ret)
{
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || end == arg || v < 0 || v > 1 << 20)
                return usage(verb, "%s needs a number, not '%s'", flag, arg);
        *ret = (int)v;
        return 0;
}

struct create_args {
        struct ctr_oci_create_opts o;
        bool detach;
        const char *verb;
};

static int on_create(int c, const char *arg, void *u)
{
        struct create_args *a = u;
        switch (c) {
        case 'b': a->o.bundle = arg; return 0;
        case 'p': a->o.pid_file = arg; return 0;
        case 'c': a->o.console_socket = arg; return 0;
        case 'n': a->o.no_pivot = true; return 0;
        case 'd': a->detach = true; return 0;
        case 'f': return int_arg(a->verb, "--preserve-fds", arg, &a->o.preserve_fds);
        case 'k': return 0; /* --no-new-keyring: ctr never creates a session keyring */
        }
        return EXIT_CTR_FAILURE;
}

static int cmd_create_run(int argc, char **argv, bool run)
{
        static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"pid-file", required_argument, NULL, 'p'},
                                             {"console-socket", required_argument, NULL, 'c'},
                                             {"no-pivot", no_argument, NULL, 'n'},
                                             {"no-new-keyring", no_argument, NULL, 'k'},
                                             {"preserve-fds", required_argument, NULL, 'f'},
                                             {"detach", no_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *verb = run ? "run" : "create";
        struct create_args a = {.verb = verb};
        int r = parse(argc, argv, verb, opts, on_create, &a);
        if (r)
                return r < 0 ? 0 : r;
        if (optind + 1 != argc)
                return usage(verb, "needs exactly one container ID");
        const char *id = argv[optind];
        struct ctr_error err = {0};
        char **warnings = NULL;
        a.o.warnings = &warnings;
        if (!run) {
                r = ctr_oci_create(&oci, id, &a.o, &err);
                warn_all(warnings);
                return r < 0 ? fail(verb, id, &err) : 0;
        }
        int status;
        r = ctr_oci_run(&oci, id, &a.o, a.detach, &status, &err);
        warn_all(warnings);
        return r < 0 ? fail(verb, id, &err) : status;
}

static int one_id(int argc, char **argv, const char *verb, const char **ret)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(oci_help, stdout);
                        return -1;
                }
                return usage(verb, "unknown option '%s'", argv[optind - 1]);
        }
        if (optind + 1 != argc)
                return usage(verb, "needs exactly one container ID");
        *ret = argv[optind];
        return 0;
}

static int cmd_simple(int argc, char **argv)
{
        const char *verb = argv[0], *id = NULL;
        int r = one_id(argc, argv, verb, &id);
        if (r)
                return r < 0 ? 0 : r;
        struct ctr_error err = {0};
        if (!strcmp(verb, "start"))
                r = ctr_oci_start(&oci, id, &err);
        else if (!strcmp(verb, "pause") || !strcmp(verb, "resume"))
                r = ctr_oci_pause(&oci, id, verb[0] == 'p', &err);
        else {
                _cleanup_free_ char *json = NULL;
                if ((r = ctr_oci_state(&oci, id, &json, &err)) == 0)
                        fputs(json, stdout);
        }
        return r < 0 ? fail(verb, id, &err) : 0;
}

static int on_flag(int c, const char *arg, void *u)
{
        bool *b = u;
        if (c == 'a' || c == 'f') {
                *b = true;
                return 0;
        }
        return EXIT_CTR_FAILURE;
}

static int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {}};
        bool all = false;
        int r = parse(argc, argv, "kill", opts, on_flag, &all);
        if (r)
                return r < 0 ? 0 : r;
        if (optind >= argc || argc - optind > 2)
                return usage("kill", "needs a container ID and optionally a signal");
        const char *id = argv[optind], *sn = optind + 1 < argc ? argv[optind + 1] : "SIGTERM";
        /* 0 asks whether the process is there, as kill(1)'s does. */
        int sig = strcmp(sn, "0") ? ctr_signal_from_name(sn) : 0;
        if (sig < 0 || (sig == 0 && strcmp(sn, "0")))
                return usage("kill", "'%s' is not a signal", sn);
        struct ctr_error err = {0};
        return ctr_oci_kill(&oci, id, sig, all, &err) < 0 ? fail("kill", id, &err) : 0;
}

static int cmd_delete(int argc, char **argv)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        bool force = false;
        int r = parse(argc, argv, "delete", opts, on_flag, &force);
        if (r)
                return r < 0 ? 0 : r;
        if (optind + 1 != argc)
                return usage("delete", "needs exactly one container ID");
        struct ctr_error err = {0};
        return ctr_oci_delete(&oci, argv[optind], force, &err) < 0 ? fail("delete", argv[optind], &err) : 0;
}

struct exec_args {
        struct ctr_oci_exec_opts e;
        char **env, **caps;
};

static int on_exec(int c, const char *arg, void *u)
{
        struct exec_args *a = u;
        switch (c) {
        case 'p': a->e.process_file = arg; return 0;
        case 'd': a->e.detach = true; return 0;
        case 't': a->e.tty = true; return 0;
        case 'P': a->e.pid_file = arg; return 0;
        case 'c': a->e.console_socket = arg; return 0;
        case 'w': a->e.cwd = arg; return 0;
        case 'e':
                if (!strchr(arg, '=') || *arg == '=')
                        return usage("exec", "--env '%s' is not KEY=VALUE", arg);
                strv_push(&a->env, arg);
                return 0;
        case 'u': a->e.user = arg; return 0;
        case 'C': strv_push(&a->caps, arg); return 0;
        case 'n': a->e.no_new_privs = true; return 0;
        case 'f': return int_arg("exec", "--preserve-fds", arg, &a->e.preserve_fds);
        }
        return EXIT_CTR_FAILURE;
}

static int cmd_oci_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                {"process", required_argument, NULL, 'p'}, {"detach", no_argument, NULL, 'd'},
                {"tty", no_argument, NULL, 't'},           {"pid-file", required_argument, NULL, 'P'},
                {"console-socket", required_argument, NULL, 'c'}, {"cwd", required_argument, NULL, 'w'},
                {"env", required_argument, NULL, 'e'},     {"user", required_argument, NULL, 'u'},
                {"cap", required_argument, NULL, 'C'},     {"no-new-privs", no_argument, NULL, 'n'},
                {"preserve-fds", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
                {}};
        struct exec_args a = {0};
        int r = parse(argc, argv, "exec", opts, on_exec, &a);
        if (r) {
                strv_free(a.env);
                strv_free(a.caps);
                return r < 0 ? 0 : r;
        }
        if (optind >= argc) {
                strv_free(a.env);
                strv_free(a.caps);
                return usage("exec", "needs a container ID");
        }
        const char *id = argv[optind];
        a.e.args = argv + optind + 1;
        a.e.env = a.env;
        a.e.cap_add = a.caps;
        struct ctr_error err = {0};
        int status;
        r = ctr_oci_exec(&oci, id, &a.e, &status, &err);
        strv_free(a.env);
        strv_free(a.caps);
        if (r < 0) {
                fail("exec", id, &err);
                return status == 126 || status == 127 ? status : EXIT_CTR_FAILURE;
        }
        return status;
}

struct fmt_args {
        bool json, quiet;
        const char *verb;
};

static int on_fmt(int c, const char *arg, void *u)
{
        struct fmt_args *a = u;
        if (c == 'F') {
                if (strcmp(arg, "json") && strcmp(arg, "table"))
                        return usage(a->verb, "--format must be table or json, not '%s'", arg);
                a->json = !strcmp(arg, "json");
                return 0;
        }
        if (c == 'q') {
                a->quiet = true;
                return 0;
        }
        return EXIT_CTR_FAILURE;
}

/* As runc: ps(1) with the given arguments (-ef by default), its header and the lines of the
 * container's processes (containerd's Top parses this). */
static int ps_table(const pid_t *pids, size_t n, char **args, int nargs)
{
        char **argv = NULL;
        strv_push(&argv, "ps");
        for (int i = 0; i < nargs; i++)
                if (*args[i])
                        strv_push(&argv, args[i]);
        if (strv_len(argv) == 1)
                strv_push(&argv, "-ef");
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                strv_free(argv);
                struct ctr_error e = {0};
                ctr_err_sys(&e, errno, "ps", "pipe");
                return fail("ps", NULL, &e);
        }
        pid_t child = fork();
        if (child == 0) {
                dup2(fds[1], STDOUT_FILENO);
                execvp("ps", argv);
                _exit(127);
        }
        close(fds[1]);
        strv_free(argv);
        FILE *f = fdopen(fds[0], "r");
        char *line = NULL;
        size_t cap = 0;
        int col = -1, st = 0;
        for (bool first = true; f && getline(&line, &cap, f) > 0; first = false) {
                if (first) {
                        /* Which column is PID. */
                        char *save = NULL, *copy = xstrdup(line);
                        int k = 0;
                        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), k++)
                                if (!strcmp(w, "PID"))
                                        col = k;
                        free(copy);
                        fputs(line, stdout);
                        continue;
                }
                char *save = NULL, *copy = xstrdup(line), *w = strtok_r(copy, " \t\n", &save);
                for (int k = 0; w && k < col; k++)
                        w = strtok_r(NULL, " \t\n", &save);
                long pid = w ? strtol(w, NULL, 10) : 0;
                free(copy);
                for (size_t i = 0; i < n; i++)
                        if (pids[i] == pid) {
                                fputs(line, stdout);
                                break;
                        }
        }
        free(line);
        if (f)
                fclose(f);
        while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        if (child < 0 || col < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
                struct ctr_error e = {0};
                ctr_err(&e, EIO, "ps", col < 0 ? "ps(1) printed no PID column" : "ps(1) failed");
                return fail("ps", NULL, &e);
        }
        return 0;
}

static int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'}, {}};
        struct fmt_args a = {.verb = "ps"};
        int r = parse(argc, argv, "ps", opts, on_fmt, &a);
        if (r)
                return r < 0 ? 0 : r;
        if (optind >= argc)
                return usage("ps", "needs a container ID");
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct ctr_error err = {0};
        if (ctr_oci_pids(&oci, argv[optind], &pids, &n, &err) < 0)
                return fail("ps", argv[optind], &err);
        if (a.json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                printf("]\n");
                return 0;
        }
        return ps_table(pids, n, argv + optind + 1, argc - optind - 1);
}

static int cmd_oci_list(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'F'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        struct fmt_args a = {.verb = "list"};
        int r = parse(argc, argv, "list", opts, on_fmt, &a);
        if (r)
                return r < 0 ? 0 : r;
        _cleanup_free_ char *json = NULL;
        _cleanup_json_ ctr_json *doc = NULL;
        struct ctr_error err = {0};
        if (ctr_oci_list(&oci, &json, &err) < 0)
                return fail("list", NULL, &err);
        if (a.json) {
                fputs(json, stdout);
                return 0;
        }
        if (ctr_json_parse(json, &doc, &err) < 0)
                return fail("list", NULL, &err);
        if (!a.quiet)
                printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
        for (size_t i = 0; i < ctr_json_len(doc); i++) {
                const ctr_json *c = ctr_json_at(doc, i);
                if (a.quiet) {
                        printf("%s\n", ctr_json_string(ctr_json_get(c, "id")));
                        continue;
                }
                printf("%-24s %-8lld %-10s %-40s %s\n", ctr_json_string(ctr_json_get(c, "id")),
                       (long long)ctr_json_int(ctr_json_get(c, "pid")), ctr_json_string(ctr_json_get(c, "status")),
                       ctr_json_string(ctr_json_get(c, "bundle")), ctr_json_string(ctr_json_get(c, "created")));
        }
        return 0;
}

/* --- update ------------------------------------------------------------------------------- */

struct update_args {
        const char *resources;
        struct ctr_cg_v1 v; /* the flags, over the file */
        bool set[16];
};

enum { U_RES = 1, U_MEM, U_MEMRES, U_SWAP, U_SHARES, U_QUOTA, U_PERIOD, U_RTRUN, U_RTPER, U_CPUS, U_MEMS, U_PIDS,
       U_BLKIO, U_UNSUPPORTED };

/* A size ("512M", "1g", bytes) or -1 for unlimited. */
static int size_arg(const char *flag, const char *arg, int64_t *ret)
{
        uint64_t v;
        if (!strcmp(arg, "-1")) {
                *ret = -1;
                return 0;
        }
        if (ctr_parse_size(arg, &v) < 0 || v > INT64_MAX)
                return usage("update", "%s needs a size (512M) or -1, not '%s'", flag, arg);
        *ret = (int64_t)v;
        return 0;
}

static int num_arg(const char *flag, const char *arg, int64_t lo, int64_t hi, int64_t *ret)
{
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (errno || *end || end == arg || v < lo || v > hi)
                return usage("update", "%s needs a number from %lld to %lld, not '%s'", flag, (long long)lo,
                             (long long)hi, arg);
        *ret = v;
        return 0;
}

static int on_update(int c, const char *arg, void *u)
{
        struct update_args *a = u;
        struct ctr_cg_v1 *v = &a->v;
        int64_t x = 0;
        int r = 0;
        switch (c) {
        case U_RES: a->resources = arg; return 0;
        case U_MEM: r = size_arg("--memory", arg, &v->memory_limit); break;
        case U_MEMRES: r = size_arg("--memory-reservation", arg, &v->memory_reservation); break;
        case U_SWAP: r = size_arg("--memory-swap", arg, &v->memory_swap); break;
        case U_SHARES:
                if (!(r = num_arg("--cpu-shares", arg, 2, 262144, &x)))
                        v->cpu_shares = (uint64_t)x;
                break;
        case U_QUOTA: r = num_arg("--cpu-quota", arg, -1, INT64_MAX, &v->cpu_quota); break;
        case U_PERIOD:
                if (!(r = num_arg("--cpu-period", arg, 1000, 1000000, &x)))
                        v->cpu_period = (uint64_t)x;
                break;
        case U_RTRUN: r = num_arg("--cpu-rt-runtime", arg, -1, INT64_MAX, &v->rt_runtime); break;
        case U_RTPER:
                if (!(r = num_arg("--cpu-rt-period", arg, 1, INT64_MAX, &x)))
                        v->rt_period = (uint64_t)x;
                break;
        case U_CPUS:
        case U_MEMS:
                if (!ctr_cgroup_cpuset_valid(arg) || strlen(arg) >= sizeof(v->cpus))
                        return usage("update", "%s needs a list like 0-3,6, not '%s'",
                                     c == U_CPUS ? "--cpuset-cpus" : "--cpuset-mems", arg);
                snprintf(c == U_CPUS ? v->cpus : v->mems, sizeof(v->cpus), "%s", arg);
                break;
        case U_PIDS:
                if (!(r = num_arg("--pids-limit", arg, -1, INT64_MAX, &x)))
                        v->pids_limit = x ? x : -1; /* runc: 0 lifts the limit as -1 does */
                break;
        case U_BLKIO:
                if (!(r = num_arg("--blkio-weight", arg, 10, 1000, &x)))
                        v->blkio_weight = (uint16_t)x;
                break;
        case U_UNSUPPORTED:
                return usage("update", "'%s' is not supported by ctr (kernel memory and Intel RDT are not managed)",
                             arg);
        default: return EXIT_CTR_FAILURE;
        }
        if (!r && c < (int)ARRAY_SIZE(a->set))
                a->set[c] = true;
        return r;
}

static int cmd_update(int argc, char **argv)
{
        static const struct option opts[] = {{"resources", required_argument, NULL, U_RES},
                                             {"r", required_argument, NULL, U_RES},
                                             {"memory", required_argument, NULL, U_MEM},
                                             {"memory-reservation", required_argument, NULL, U_MEMRES},
                                             {"memory-swap", required_argument, NULL, U_SWAP},
                                             {"cpu-share", required_argument, NULL, U_SHARES},
                                             {"cpu-shares", required_argument, NULL, U_SHARES},
                                             {"cpu-quota", required_argument, NULL, U_QUOTA},
                                             {"cpu-period", required_argument, NULL, U_PERIOD},
                                             {"cpu-rt-runtime", required_argument, NULL, U_RTRUN},
                                             {"cpu-rt-period", required_argument, NULL, U_RTPER},
                                             {"cpuset-cpus", required_argument, NULL, U_CPUS},
                                             {"cpuset-mems", required_argument, NULL, U_MEMS},
                                             {"pids-limit", required_argument, NULL, U_PIDS},
                                             {"blkio-weight", required_argument, NULL, U_BLKIO},
                                             {"kernel-memory", required_argument, NULL, U_UNSUPPORTED},
                                             {"kernel-memory-tcp", required_argument, NULL, U_UNSUPPORTED},
                                             {"l3-cache-schema", required_argument, NULL, U_UNSUPPORTED},
                                             {"mem-bw-schema", required_argument, NULL, U_UNSUPPORTED},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        struct update_args a = {0};
        int r = parse(argc, argv, "update", opts, on_update, &a);
        if (r)
                return r < 0 ? 0 : r;
        if (optind + 1 != argc)
                return usage("update", "needs exactly one container ID");
        const char *id = argv[optind];
        struct ctr_error err = {0};
        struct ctr_oci_resources res = {0};
        if (a.resources) {
                _cleanup_free_ char *text = NULL;
                bool in = !strcmp(a.resources, "-");
                /* "-": the engine's pipe (runc's shims write the document there). */
                r = in ? ctr_read_fd(STDIN_FILENO, 1 << 20, &text, NULL) : ctr_read_file(a.resources, 1 << 20, &text, NULL);
                if (r < 0) {
                        ctr_err_sys(&err, -r, "resources", "read %s", in ? "standard input" : a.resources);
                        return fail("update", id, &err);
                }
                if (ctr_oci_resources_parse(text, &res, &err) < 0)
                        return fail("update", id, &err);
        }
        /* Flags win over the file, as in runc. */
        struct ctr_cg_v1 v = res.v1, *f = &a.v;
        if (a.set[U_MEM]) v.memory_limit = f->memory_limit;
        if (a.set[U_MEMRES]) v.memory_reservation = f->memory_reservation;
        if (a.set[U_SWAP]) v.memory_swap = f->memory_swap;
        if (a.set[U_SHARES]) v.cpu_shares = f->cpu_shares;
        if (a.set[U_QUOTA]) v.cpu_quota = f->cpu_quota;
        if (a.set[U_PERIOD]) v.cpu_period = f->cpu_period;
        if (a.set[U_RTRUN]) v.rt_runtime = f->rt_runtime;
        if (a.set[U_RTPER]) v.rt_period = f->rt_period;
        if (a.set[U_CPUS]) memcpy(v.cpus, f->cpus, sizeof(v.cpus));
        if (a.set[U_MEMS]) memcpy(v.mems, f->mems, sizeof(v.mems));
        if (a.set[U_PIDS]) v.pids_limit = f->pids_limit;
        if (a.set[U_BLKIO]) v.blkio_weight = f->blkio_weight;
        v.devices = NULL;
        v.n_devices = 0;
        r = ctr_oci_update(&oci, id, &v, &err);
        ctr_oci_resources_free(&res);
        return r < 0 ? fail("update", id, &err) : 0;
}

struct spec_args {
        const char *bundle;
        bool rootless;
};

static int on_spec(int c, const char *arg, void *u)
{
        struct spec_args *a = u;
        if (c == 'b')
                a->bundle = arg;
        else if (c == 'r')
                a->rootless = true;
        else
                return EXIT_CTR_FAILURE;
        return 0;
}

static int cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"rootless", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        struct spec_args a = {.bundle = "."};
        int r = parse(argc, argv, "spec", opts, on_spec, &a);
        if (r)
                return r < 0 ? 0 : r;
        _cleanup_free_ char *path = xasprintf("%s/config.json", a.bundle), *text = ctr_oci_spec_default(a.rootless);
        struct ctr_error err = {0};
        if (access(path, F_OK) == 0) {
                ctr_err(&err, EEXIST, "spec", "%s exists already", path);
                return fail("spec", NULL, &err);
        }
        int w = ctr_write_atomic(path, text, strlen(text), 0644);
        if (w < 0) {
                ctr_err_sys(&err, -w, "spec", "write %s", path);
                return fail("spec", NULL, &err);
        }
        return 0;
}

/* runc's three lines: go-runc's Version() wants exactly "X version V", "commit: C", "spec: S". */
static void print_version(void)
{
        printf("ctr version %s\ncommit: %s\nspec: 1.2.0\n", CTR_VERSION, CTR_VERSION);
}

int ctr_oci_main(int argc, char **argv)
{
        enum { G_ROOT = 1, G_LOG, G_LOGFMT, G_SYSTEMD, G_DEBUG, G_ROOTLESS, G_VERSION, G_CRIU };
        static const struct option opts[] = {{"root", required_argument, NULL, G_ROOT},
                                             {"log", required_argument, NULL, G_LOG},
                                             {"log-format", required_argument, NULL, G_LOGFMT},
                                             {"systemd-cgroup", no_argument, NULL, G_SYSTEMD},
                                             {"debug", no_argument, NULL, G_DEBUG},
                                             {"rootless", required_argument, NULL, G_ROOTLESS},
                                             {"criu", required_argument, NULL, G_CRIU},
                                             {"version", no_argument, NULL, G_VERSION},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case G_ROOT:
                        if (optarg[0] != '/')
                                return usage(NULL, "--root needs an absolute path");
                        oci.root = optarg;
                        break;
                case G_LOG: log_path = optarg; break;
                case G_LOGFMT:
                        if (strcmp(optarg, "json") && strcmp(optarg, "text"))
                                return usage(NULL, "--log-format must be text or json");
                        log_json = !strcmp(optarg, "json");
                        break;
                case G_SYSTEMD: oci.systemd_cgroup = true; break;
                case G_DEBUG: case G_ROOTLESS: case G_CRIU: break;
                case 'v':
                case G_VERSION: print_version(); return 0;
                case 'h': fputs(oci_help, stdout); return 0;
                default: return usage(NULL, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc) {
                fputs(oci_help, stderr);
                return EXIT_CTR_FAILURE;
        }
        _cleanup_free_ char *memo = xasprintf("%s/" CTR_MEMO_DIR, oci.root);
        ctr_seccomp_memo_at(memo);
        char **v = argv + optind;
        int n = argc - optind;
        /* "ctr-oci oci VERB" is "ctr oci VERB" under the other name: the same. */
        if (!strcmp(v[0], "oci") && n > 1)
                v++, n--;
        const char *verb = v[0];
        if (!strcmp(verb, "create"))
                return cmd_create_run(n, v, false);
        if (!strcmp(verb, "run"))
                return cmd_create_run(n, v, true);
        if (!strcmp(verb, "start") || !strcmp(verb, "state") || !strcmp(verb, "pause") || !strcmp(verb, "resume"))
                return cmd_simple(n, v);
        if (!strcmp(verb, "kill"))
                return cmd_kill(n, v);
        if (!strcmp(verb, "delete"))
                return cmd_delete(n, v);
        if (!strcmp(verb, "exec"))
                return cmd_oci_exec(n, v);
        if (!strcmp(verb, "ps"))
                return cmd_ps(n, v);
        if (!strcmp(verb, "list"))
                return cmd_oci_list(n, v);
        if (!strcmp(verb, "spec"))
                return cmd_spec(n, v);
        if (!strcmp(verb, "update"))
                return cmd_update(n, v);
        if (!strcmp(verb, "features")) {
                _cleanup_free_ char *f = ctr_oci_features();
                fputs(f, stdout);
                return 0;
        }
        if (!strcmp(verb, "version")) {
                print_version();
                return 0;
        }
        return usage(NULL, "unknown verb '%s' (see ctr oci --help)", verb);
}
