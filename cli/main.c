/* ctr's entry point: global options, dispatch to the verb, and the error/usage printing that
 * every verb shares. The library code below never prints; this file and cmd_*.c do. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../base/json.h"
#include "../security/exe.h"
#include "../security/seccomp.h"
#include "../base/util.h"

const char *arg_root;
enum ctr_format arg_format = CTR_FORMAT_TABLE;
bool arg_quiet;
bool arg_debug;

static const struct verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *usage;
        const char *summary;
        bool sealed; /* runs from a sealed copy of the binary: it creates or enters containers */
} verbs[] = {
        {"create", cmd_create,
         "create NAME [-t TEMPLATE] [-r RELEASE] [--memory SIZE] [--cpus N] [--pids N] [--net none|host]\n"
         "          [--hostname NAME] [-e KEY=VALUE]... [-v HOST:CT[:ro]]... [--init PATH] [--device RULE]...",
         "build a container from a template", false},
        {"run", cmd_run,
         "run [-t TEMPLATE | --from NAME] [--keep NAME] [--tty] [-v HOST:CT[:ro]]... [--tmpfs PATH]... [-e K=V]...\n"
         "          [-u USER] [-w DIR] [--read-only] [--net none|bridge] [--memory SIZE] [--cpus N] [--pids N]\n"
         "          [--allow-missing-limits] [--timeout S] [--json-status-fd N] -- CMD [ARG]...",
         "run one command in a throwaway container and pass its exit status through", true},
        {"start", cmd_start, "start NAME [--foreground] [--ready-timeout SECONDS] [--vm]", "start a container under its own monitor", true},
        {"stop", cmd_stop, "stop NAME [-t SECONDS] [--kill]", "stop gracefully, SIGKILL after the timeout", false},
        {"restart", cmd_restart, "restart NAME [-t SECONDS]", "stop (if running), then start", true},
        {"destroy", cmd_destroy, "destroy NAME [--force]", "remove a container and its files", false},
        {"list", cmd_list, "list [--format table|json] [-q]", "list containers and their state", false},
        {"info", cmd_info, "info NAME [--format table|json]", "show a container's state and settings", false},
        {"exec", cmd_exec, "exec NAME [-t] [-u USER] [-e KEY=VALUE]... [-w DIR] -- CMD [ARG]...",
         "run a command inside a running container", true},
        {"attach", cmd_attach, "attach NAME", "connect to the container's console (detach: Ctrl-])", false},
        {"freeze", cmd_freeze, "freeze NAME", "stop every process of the container in place", false},
        {"unfreeze", cmd_unfreeze, "unfreeze NAME", "let a frozen container continue", false},
        {"snapshot", cmd_snapshot,
         "snapshot NAME [SNAP] [--freeze] | snapshot --live NAME [SNAP] | snapshot list NAME | snapshot delete NAME SNAP",
         "snapshot a container's files and settings (--live: a running VM's whole state); list and delete snapshots",
         false},
        {"restore", cmd_restore, "restore NAME SNAP [--no-backup] [--live]",
         "put a stopped container back to a snapshot (the current state is kept as a snapshot first; --live resumes a VM)",
         false},
        {"clone", cmd_clone, "clone SRC DST [--snapshot SNAP]",
         "copy a stopped container (or one of its snapshots) into a new one with its own identity", false},
        {"export", cmd_export, "export NAME FILE.tar[.zst]",
         "write a stopped container (tree, config, checksums) into one archive", false},
        {"import", cmd_import, "import FILE [NAME]", "make a container from an export, checked before anything is written",
         false},
        {"config", cmd_config, "config NAME get KEY | config NAME set KEY VALUE",
         "read or change one configuration key (limits apply live)", false},
        {"oci", ctr_oci_main, "oci [--root DIR] [--log FILE] [--log-format text|json] VERB ... (see ctr-oci(1))",
         "the OCI runtime command line (runc's), for containerd, CRI-O and podman", true},
        {"template", cmd_template, "template list [-q] | template refresh NAME [-r RELEASE] [--dist D] [--mirror URL]",
         "list templates and cached trees; rebuild a cached tree", false},
};

static void print_main_help(FILE *f)
{
        fprintf(f, "Usage: ctr [--root DIR] [--format table|json] [-q] [--debug] VERB [ARGS]\n\n"
                   "A daemonless system container runtime.\n\nVerbs:\n");
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nRun 'ctr VERB --help' for a verb's options; man ctr(1) for the whole story.\n");
}

void ctr_cli_help(const char *verb)
{
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (!strcmp(verbs[i].name, verb)) {
                        printf("Usage: ctr %s\n\n%s.\nSee ctr-%s(1).\n", verbs[i].usage, verbs[i].summary, verb);
                        return;
                }
        print_main_help(stdout);
}

int ctr_cli_usage_error(const char *verb, const char *fmt, ...)
{
        char msg[300];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (arg_format == CTR_FORMAT_JSON) {
                struct ctr_error e = {.errnum = EINVAL};
                snprintf(e.op, sizeof(e.op), "usage");
                snprintf(e.msg, sizeof(e.msg), "%s (see ctr %s --help)", msg, verb ? verb : "");
                return ctr_cli_fail(verb, NULL, &e);
        }
        fprintf(stderr, "ctr%s%s: %s (see 'ctr %s%s--help')\n", verb ? " " : "", verb ? verb : "", msg,
                verb ? verb : "", verb ? " " : "");
        return EXIT_CTR_FAILURE;
}

int ctr_cli_fail(const char *verb, const char *name, const struct ctr_error *err)
{
        if (arg_format == CTR_FORMAT_JSON) {
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
                ctr_json_obj_open(g);
                ctr_json_key_(g, "error");
                ctr_json_obj_open(g);
                ctr_json_key_(g, "errno");
                ctr_json_int_(g, err->errnum);
                ctr_json_key_(g, "op");
                ctr_json_str(g, err->op);
                ctr_json_key_(g, "message");
                ctr_json_str(g, err->msg);
                if (verb) {
                        ctr_json_key_(g, "verb");
                        ctr_json_str(g, verb);
                }
                if (name) {
                        ctr_json_key_(g, "name");
                        ctr_json_str(g, name);
                }
                ctr_json_obj_close(g);
                ctr_json_obj_close(g);
                fputs(ctr_json_gen_text(g, NULL), stderr);
                return EXIT_CTR_FAILURE;
        }
        fprintf(stderr, "ctr:%s%s%s%s: %s%s%s\n", verb ? " " : "", verb ? verb : "", name ? " " : "", name ? name : "",
                err->op, *err->op ? ": " : "", *err->msg ? err->msg : strerror(err->errnum));
        return EXIT_CTR_FAILURE;
}

int ctr_cli_global_opt(int c, const char *optarg, const char *verb)
{
        switch (c) {
        case OPT_ROOT:
                if (!*optarg)
                        return ctr_cli_usage_error(verb, "--root needs a directory"), -1;
                arg_root = optarg;
                return 1;
        case OPT_FORMAT:
                if (!strcmp(optarg, "json"))
                        arg_format = CTR_FORMAT_JSON;
                else if (!strcmp(optarg, "table"))
                        arg_format = CTR_FORMAT_TABLE;
                else
                        return ctr_cli_usage_error(verb, "--format must be table or json, not '%s'", optarg), -1;
                return 1;
        case 'q': arg_quiet = true; return 1;
        case OPT_DEBUG: arg_debug = true; return 1;
        default: return 0;
        }
}

int ctr_cli_parse(int argc, char **argv, struct ctr_cli_parse *cp)
{
        struct option all[64];
        char shortopts[64];
        size_t n = 0;
        int c;

        for (const struct option *o = cp->longopts; o && o->name; o++)
                all[n++] = *o;
        static const struct option globals[] = {CTR_GLOBAL_LONG_OPTS, {}};
        for (const struct option *o = globals; o->name; o++)
                all[n++] = *o;
        memset(&all[n], 0, sizeof(all[n]));
        snprintf(shortopts, sizeof(shortopts), "+:qh%s", cp->shortopts ? cp->shortopts : "");
        cp->npos = 0;
        cp->rest = NULL;
        cp->nrest = 0;
        optind = 1;
        for (;;) {
                c = getopt_long(argc, argv, shortopts, all, NULL);
                if (c == -1) {
                        /* A positional: keep it and scan on, unless what follows is the command. */
                        if (optind >= argc)
                                break;
                        if (!strcmp(argv[optind - 1], "--") || cp->npos >= cp->max_pos) {
                                if (!cp->takes_rest)
                                        return ctr_cli_usage_error(cp->verb, "unexpected argument '%s'", argv[optind]);
                                cp->rest = argv + optind;
                                cp->nrest = argc - optind;
                                break;
                        }
                        cp->pos[cp->npos++] = argv[optind++];
                        continue;
                }
                if (c == 'h') {
                        ctr_cli_help(cp->verb);
                        return -1;
                }
                if (c == '?')
                        return ctr_cli_usage_error(cp->verb, "unknown option '%s'", argv[optind - 1]);
                if (c == ':')
                        return ctr_cli_usage_error(cp->verb, "option '%s' needs a value", argv[optind - 1]);
                int r = ctr_cli_global_opt(c, optarg, cp->verb);
                if (r < 0)
                        return EXIT_CTR_FAILURE;
                if (r > 0)
                        continue;
                r = cp->on_opt ? cp->on_opt(c, optarg, cp->userdata) : EXIT_CTR_FAILURE;
                if (r)
                        return r;
        }
        if (cp->npos < cp->min_pos)
                return ctr_cli_usage_error(cp->verb, "missing %s", cp->pos_name ? cp->pos_name : "argument");
        return 0;
}

int ctr_cli_paths(struct ctr_paths *p, const char *verb)
{
        struct ctr_error err = {0};
        if (ctr_paths_init(p, arg_root, &err) < 0)
                return ctr_cli_fail(verb, NULL, &err);
        if (arg_debug)
                p->debug_fd = STDERR_FILENO;
        /* Compiled filters are kept beside the run state, by what they were compiled from. */
        _cleanup_free_ char *memo = xasprintf("%s/" CTR_MEMO_DIR, p->run);
        ctr_seccomp_memo_at(memo);
        return 0;
}

/* The names that answer with the OCI runtime's command line: ctr-oci and anything it is
 * installed as for an engine (ctr-oci-test, ctr-oci.v2, runc). */
static bool oci_name(const char *base)
{
        return !strncmp(base, "ctr-oci", 7) || !strncmp(base, "runc", 4);
}

/* An engine pointed at a copy of ctr under another name speaks runc's command line to ctr's
 * own: say what happened instead of "unknown option '--log'". */
static bool oci_word(const char *w)
{
        static const char *const words[] = {"--log", "--log-format", "--systemd-cgroup", "--criu", "--rootless",
                                            "state", "kill", "delete", "update", "features", "spec", "ps",
                                            "pause", "resume", "events", "checkpoint", "restore"};
        for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
                size_t n = strlen(words[i]);
                if (!strncmp(w, words[i], n) && (w[n] == 0 || w[n] == '='))
                        return true;
        }
        return false;
}

static int not_oci(const char *base, const char *what, const char *word)
{
        fprintf(stderr,
                "ctr: unknown %s '%s': this is the OCI runtime's command line, which ctr speaks as 'ctr oci ...' "
                "or when called by a name starting with ctr-oci (it was called '%s')\n",
                what, word, base);
        return EXIT_CTR_FAILURE;
}

int ctr_cli_begin(int argc, char **argv, struct ctr_cli_parse *cp, struct ctr_paths *p)
{
        int r = ctr_cli_parse(argc, argv, cp);
        return r ? r : ctr_cli_paths(p, cp->verb);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {CTR_GLOBAL_LONG_OPTS, {"version", no_argument, NULL, 'V'}, {}};
        int c;

        /* Called as ctr-oci (a link engines are pointed at): the OCI runtime's command line. */
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        if (oci_name(base)) {
                struct ctr_error err = {0};
                if (ctr_exe_reexec_sealed(argv, &err) < 0)
                        return ctr_cli_fail("oci", NULL, &err);
                return ctr_oci_main(argc, argv);
        }

        /* Global options end at the verb: '+' stops at the first non-option. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
                if (c == 'h') {
                        print_main_help(stdout);
                        return 0;
                }
                if (c == 'V') {
                        printf("ctr %s\n", CTR_VERSION);
                        return 0;
                }
                int r = ctr_cli_global_opt(c, optarg, NULL);
                if (r < 0)
                        return EXIT_CTR_FAILURE;
                if (r == 0)
                        return oci_word(argv[optind - 1]) ? not_oci(base, "option", argv[optind - 1])
                                                          : ctr_cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc) {
                print_main_help(stderr);
                return EXIT_CTR_FAILURE;
        }
        const char *verb = argv[optind];
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (!strcmp(verbs[i].name, verb)) {
                        /* The verb sees argv starting at itself, with getopt reset. */
                        if (verbs[i].sealed) {
                                struct ctr_error err = {0};
                                if (ctr_exe_reexec_sealed(argv, &err) < 0)
                                        return ctr_cli_fail(verb, NULL, &err);
                        }
                        int vargc = argc - optind;
                        char **vargv = argv + optind;
                        optind = 0;
                        opterr = 0;
                        return verbs[i].run(vargc, vargv);
                }
        return oci_word(verb) ? not_oci(base, "verb", verb) : ctr_cli_usage_error(NULL, "unknown verb '%s'", verb);
}
