/* ctr create: turn flags into a config, run the template, claim the name atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../rootfs/rootfs.h"
#include "cli.h"
#include "../base/json.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../security/caps.h"
#include "../base/util.h"

enum { OPT_DIST = OPT_VERB_BASE, OPT_MIRROR, OPT_STORAGE, OPT_USERNS, OPT_NO_USERNS,
       OPT_KEY = OPT_VERB_BASE + 100 /* + the row of the key table: a flag that sets a key */ };

static int key_flag(struct ctr_create_args *a, const struct ctr_config_key *k, const char *arg)
{
        if (ctr_config_flag(&a->cfg, k, arg, &a->err) < 0)
                return a->bad = EXIT_CTR_FAILURE;
        return 0;
}

int ctr_create_on_opt(int c, const char *arg, void *ud)
{
        struct ctr_create_args *a = ud;
        size_t n;
        const struct ctr_config_key *keys = ctr_config_key_table(&n), *k;
        if (c >= OPT_KEY && c < OPT_KEY + (int)n)
                return key_flag(a, &keys[c - OPT_KEY], arg);
        if (c < 128 && (k = ctr_config_key_for_flag(NULL, c)))
                return key_flag(a, k, arg);
        switch (c) {
        case 'r': a->release = arg; return 0;
        case OPT_DIST: a->dist = arg; return 0;
        case OPT_MIRROR: a->mirror = arg; return 0;
        case OPT_STORAGE:
                if (strcmp(arg, "overlay") && strcmp(arg, "dir")) {
                        ctr_err(&a->err, EINVAL, "usage", "--storage: '%s' is not overlay or dir", arg);
                        return a->bad = EXIT_CTR_FAILURE;
                }
                a->storage = arg;
                return 0;
        case OPT_USERNS: a->userns = true; return 0;
        case OPT_NO_USERNS: a->no_userns = true; return 0;
        }
        return EXIT_CTR_FAILURE;
}

/* Template progress: a bar on a terminal, plain lines otherwise, JSON events with --format json. */
struct progress {
        bool tty;
        int step, total;
        int cols;
};

static void progress_json(const char *event, const struct ctr_template_event *ev, const char *name)
{
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(false);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "event");
        ctr_json_str(g, event);
        if (ev && ev->kind == CTR_TPL_STEP) {
                ctr_json_key_(g, "step");
                ctr_json_int_(g, ev->step);
                ctr_json_key_(g, "total");
                ctr_json_int_(g, ev->total);
        }
        ctr_json_key_(g, ev ? "message" : "name");
        ctr_json_str(g, ev ? ev->text : name);
        ctr_json_obj_close(g);
        fputs(ctr_json_gen_text(g, NULL), stdout);
        fflush(stdout);
}

static void on_progress(void *ud, const struct ctr_template_event *ev)
{
        struct progress *pr = ud;
        if (arg_format == CTR_FORMAT_JSON) {
                if (ev->kind != CTR_TPL_ERR)
                        progress_json(ev->kind == CTR_TPL_STEP ? "step" : "log", ev, NULL);
                return;
        }
        if (!pr->tty) {
                /* Plain lines for logs, on stdout: stderr keeps the one error line of a failure;
                 * the template's own stderr only feeds that line. */
                if (ev->kind == CTR_TPL_STEP)
                        printf("[%d/%d] %s\n", ev->step, ev->total, ev->text);
                else if (ev->kind == CTR_TPL_LOG)
                        printf("%s\n", ev->text);
                fflush(stdout);
                return;
        }
        /* On a terminal: one line, redrawn; the template's chatter only updates its tail. */
        if (ev->kind == CTR_TPL_ERR)
                return;
        if (ev->kind == CTR_TPL_STEP) {
                pr->step = ev->step;
                pr->total = ev->total;
        }
        char bar[21];
        int fill = pr->total ? pr->step * 20 / pr->total : 0;
        for (int i = 0; i < 20; i++)
                bar[i] = i < fill ? '#' : '.';
        bar[20] = 0;
        int room = pr->cols - 32;
        fprintf(stderr, "\r\033[K[%s] %d/%d %.*s", bar, pr->step, pr->total, room > 0 ? room : 0, ev->text);
        fflush(stderr);
}

int ctr_create_userns_default(struct ctr_create_args *a, const char *verb)
{
        if (a->userns && a->no_userns)
                return ctr_cli_usage_error(verb, "--userns and --no-userns exclude each other");
        /* A user namespace by default: root inside is an unprivileged host uid, so what the
         * kernel keeps from the container's own root holds even where no seccomp rule can tell
         * (a fresh procfs, say). Not where one cannot apply: the host's network (or another's
         * namespace) belongs to the host's user namespace, and a VM is its own. An explicit
         * --userns there is refused with the reason. */
        a->cfg.userns = a->userns || (!a->no_userns && !a->cfg.vm &&
                                      (a->cfg.net_mode == CTR_NET_NONE || a->cfg.net_mode == CTR_NET_BRIDGE));
        return 0;
}

const struct option *ctr_create_longopts(void)
{
        /* create's own options, then one per key of the table that has a flag. */
        static const struct option own[] = {
                {"release", required_argument, NULL, 'r'},     {"dist", required_argument, NULL, OPT_DIST},
                {"mirror", required_argument, NULL, OPT_MIRROR}, {"server", required_argument, NULL, OPT_MIRROR},
                {"storage", required_argument, NULL, OPT_STORAGE}, {"userns", no_argument, NULL, OPT_USERNS},
                {"no-userns", no_argument, NULL, OPT_NO_USERNS},
        };
        static struct option all[ARRAY_SIZE(own) + 64];
        if (all[0].name)
                return all;
        size_t n = 0, nk;
        const struct ctr_config_key *keys = ctr_config_key_table(&nk);
        for (size_t i = 0; i < ARRAY_SIZE(own); i++)
                all[n++] = own[i];
        for (size_t i = 0; i < nk && n < ARRAY_SIZE(all) - 1; i++)
                if (keys[i].flag)
                        all[n++] = (struct option){keys[i].flag, keys[i].flag_value ? no_argument : required_argument,
                                                   NULL, keys[i].short_flag ? keys[i].short_flag : OPT_KEY + (int)i};
        return all;
}

int cmd_create(int argc, char **argv)
{

        struct ctr_create_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "create", .shortopts = "t:r:e:v:p:", .longopts = ctr_create_longopts(), .on_opt = ctr_create_on_opt,
                                   .userdata = &a, .min_pos = 1, .max_pos = 1, .pos_name = "NAME"};
        int r;

        /* Flags fill the config; its name (and the hostname derived from it) comes after. */
        ctr_config_init(&a.cfg, NULL);
        r = ctr_cli_parse(argc, argv, &cp);
        if (a.bad) {
                r = ctr_cli_fail("create", cp.npos ? cp.pos[0] : NULL, &a.err);
                goto out;
        }
        if (r)
                goto out;
        if ((r = ctr_create_userns_default(&a, "create")))
                goto out;
        const char *name = cp.pos[0];
        if (!ctr_name_valid(name)) {
                ctr_err(&a.err, EINVAL, "name",
                        "'%s' is not a valid container name (1-64 characters of A-Z a-z 0-9 _ . -, starting "
                        "with a letter or digit)",
                        name);
                r = ctr_cli_fail("create", name, &a.err);
                goto out;
        }
        ctr_config_set_name(&a.cfg, name);
        if ((r = ctr_cli_paths(&p, "create")))
                goto out;
        struct winsize ws = {0};
        struct progress pr = {.tty = isatty(STDERR_FILENO) && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0, .cols = 80};
        if (ws.ws_col)
                pr.cols = ws.ws_col;
        struct ctr_create_opts o = {.release = a.release,
                                    .dist = a.dist,
                                    .mirror = a.mirror,
                                    .storage = a.storage,
                                    .progress = arg_quiet && arg_format != CTR_FORMAT_JSON ? NULL : on_progress,
                                    .userdata = &pr};
        int cr = ctr_container_create(&p, &a.cfg, &o, &a.err);
        if (pr.tty && pr.total && !arg_quiet && arg_format != CTR_FORMAT_JSON)
                fputs("\r\033[K", stderr);
        if (cr < 0)
                r = ctr_cli_fail("create", name, &a.err);
        else if (arg_format == CTR_FORMAT_JSON)
                progress_json("created", NULL, name);
        else if (!arg_quiet)
                printf("Created %s (template %s%s%s, storage %s)\n", name, a.cfg.template_name,
                       a.cfg.template_release ? " " : "", a.cfg.template_release ? a.cfg.template_release : "",
                       a.cfg.storage_driver);
out:
        ctr_paths_free(&p);
        ctr_config_free(&a.cfg);
        return CTR_CLI_RETURN(r);
}
