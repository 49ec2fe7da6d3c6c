/* The CLI's shared face: global options (arg_*), the verb table, and the one place that prints
 * errors. Each verb lives in its own cmd_*.c file. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "../base/error.h"
#include "../runtime/state.h"

#define CTR_VERSION "0.1.0"
#define EXIT_CTR_FAILURE 125

enum ctr_format { CTR_FORMAT_TABLE, CTR_FORMAT_JSON };

extern const char *arg_root;
extern enum ctr_format arg_format;
extern bool arg_quiet;
extern bool arg_debug;

/* Global options are accepted before and after the verb. Long-only values start at 1000. */
enum { OPT_ROOT = 1000, OPT_FORMAT, OPT_DEBUG, OPT_VERB_BASE = 1100 };
#define CTR_GLOBAL_LONG_OPTS                                                                             \
        {"root", required_argument, NULL, OPT_ROOT}, {"format", required_argument, NULL, OPT_FORMAT},   \
                {"quiet", no_argument, NULL, 'q'}, {"debug", no_argument, NULL, OPT_DEBUG},             \
                {"help", no_argument, NULL, 'h'}

/* Handle a global option returned by getopt_long. 1 = handled, 0 = not global, <0 = bad value. */
int ctr_cli_global_opt(int c, const char *optarg, const char *verb);
/* Report a usage problem: one line, exit status 125. */
int ctr_cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print err as "ctr: VERB NAME: STEP: REASON" (or JSON with --format json); returns 125. */
int ctr_cli_fail(const char *verb, const char *name, const struct ctr_error *err);
void ctr_cli_help(const char *verb);
int ctr_cli_paths(struct ctr_paths *p, const char *verb);

/* One verb's command line: its options (plus the global ones), up to max_pos positionals, and
 * for exec the command after them ("--" or the first argument past NAME starts it). */
struct ctr_cli_parse {
        const char *verb;
        const char *shortopts;
        const struct option *longopts;
        int (*on_opt)(int c, const char *arg, void *userdata); /* 0 = ok, else exit status */
        void *userdata;
        int min_pos, max_pos;
        const char *pos_name;
        bool takes_rest;
        char *pos[4];
        int npos;
        char **rest;
        int nrest;
};
/* 0: parsed; -1: help was printed (exit 0); > 0: exit with this status (message printed). */
int ctr_cli_parse(int argc, char **argv, struct ctr_cli_parse *cp);
#define CTR_CLI_RETURN(r) ((r) < 0 ? 0 : (r))
/* ctr_cli_parse, then the state root's paths into p: what every verb starts with. */
struct ctr_paths;
int ctr_cli_begin(int argc, char **argv, struct ctr_cli_parse *cp, struct ctr_paths *p);

int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_template(int argc, char **argv);
/* create's flags, shared with run (which adds its own): a config filled from the command line. */
#include "../runtime/config.h"
struct ctr_create_args {
        struct ctr_config cfg;
        const char *release, *dist, *mirror, *storage;
        struct ctr_error err;
        int bad; /* exit status of a bad flag */
        bool userns, no_userns; /* --userns, --no-userns */
};
/* After parsing: a user namespace unless --no-userns, --vm or a host/foreign network. 0, or the
 * exit status of a usage error. */
int ctr_create_userns_default(struct ctr_create_args *a, const char *verb);
const struct option *ctr_create_longopts(void);
int ctr_create_on_opt(int c, const char *arg, void *ud);
int cmd_run(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_clone(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* The OCI runtime's command line (cmd_oci.c): `ctr oci ...`, or argv[0] ending in ctr-oci. */
int ctr_oci_main(int argc, char **argv);
int cmd_freeze(int argc, char **argv);
int cmd_unfreeze(int argc, char **argv);
int cmd_config(int argc, char **argv);
