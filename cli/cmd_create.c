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

enum { OPT_MEMORY = OPT_VERB_BASE, OPT_CPUS, OPT_PIDS, OPT_NET, OPT_HOSTNAME, OPT_INIT, OPT_DEVICE, OPT_IP, OPT_IP6, OPT_IO,
       OPT_CPUSET, OPT_CPUSET_MEMS, OPT_DIST, OPT_MIRROR, OPT_STORAGE, OPT_CAP_ADD, OPT_CAP_DROP, OPT_NNP,
       OPT_SECCOMP, OPT_SECCOMP_ALLOW, OPT_SECCOMP_DENY, OPT_USERNS, OPT_NO_USERNS, OPT_VM, OPT_VCPUS, OPT_VM_MEMORY,
       OPT_VM_DISK, OPT_KERNEL, OPT_INITRD };


static int bad_flag(struct ctr_create_args *a, const char *flag, const char *v, const char *want)
{
        ctr_err(&a->err, EINVAL, "usage", "%s: '%s' is not %s", flag, v, want);
        return a->bad = EXIT_CTR_FAILURE;
}

int ctr_create_on_opt(int c, const char *arg, void *ud)
{
        struct ctr_create_args *a = ud;
        uint64_t sz;
        char *end;
        switch (c) {
        case 't':
                free(a->cfg.template_name);
                a->cfg.template_name = xstrdup(arg);
                return 0;
        case 'r': a->release = arg; return 0;
        case OPT_DIST: a->dist = arg; return 0;
        case OPT_MIRROR: a->mirror = arg; return 0;
        case OPT_STORAGE:
                if (strcmp(arg, "overlay") && strcmp(arg, "dir"))
                        return bad_flag(a, "--storage", arg, "overlay or dir");
                a->storage = arg;
                return 0;
        case OPT_MEMORY:
                if (ctr_parse_size(arg, &sz) < 0)
                        return bad_flag(a, "--memory", arg, "a size (like 512M)");
                a->cfg.limits.memory = sz;
                return 0;
        case OPT_CPUS:
                a->cfg.limits.cpus = strtod(arg, &end);
                if (*end || end == arg || a->cfg.limits.cpus <= 0)
                        return bad_flag(a, "--cpus", arg, "a positive number");
                return 0;
        case OPT_PIDS:
                a->cfg.limits.pids = strtoll(arg, &end, 10);
                if (*end || end == arg || a->cfg.limits.pids <= 0)
                        return bad_flag(a, "--pids", arg, "a positive integer");
                return 0;
        case OPT_NET:
                if (ctr_config_set_net_mode(&a->cfg, arg, NULL) < 0)
                        return bad_flag(a, "--net", arg, "bridge, none, host or netns:PATH");
                return 0;
        case OPT_CAP_ADD:
        case OPT_CAP_DROP: {
                ctr_capmask m;
                if (ctr_caps_parse(arg, &m, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                char ***v = c == OPT_CAP_ADD ? &a->cfg.cap_add : &a->cfg.cap_drop;
                size_t n = strv_len(*v);
                *v = realloc(*v, (n + 2) * sizeof(char *));
                if (!*v)
                        abort();
                (*v)[n] = xstrdup(arg);
                (*v)[n + 1] = NULL;
                return 0;
        }
        case OPT_NNP: a->cfg.no_new_privs = true; return 0;
        case OPT_SECCOMP:
                free(a->cfg.seccomp_profile);
                a->cfg.seccomp_profile = strcmp(arg, "default") ? xstrdup(arg) : NULL;
                return 0; /* checked with the whole config */
        case OPT_SECCOMP_ALLOW:
        case OPT_SECCOMP_DENY:
                if (ctr_config_add_seccomp(&a->cfg, c == OPT_SECCOMP_ALLOW, arg, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                return 0;
        case OPT_USERNS: a->userns = true; return 0;
        case OPT_NO_USERNS: a->no_userns = true; return 0;
        case OPT_VM: a->cfg.vm = true; return 0;
        case OPT_VCPUS: {
                long n = strtol(arg, &end, 10);
                if (*end || end == arg || n < 1 || n > 32)
                        return bad_flag(a, "--vcpus", arg, "a number of vCPUs from 1 to 32");
                a->cfg.vm_vcpus = (unsigned)n;
                return 0;
        }
        case OPT_VM_MEMORY:
                if (ctr_parse_size(arg, &sz) < 0 || sz < (64ull << 20) || sz > (3072ull << 20))
                        return bad_flag(a, "--vm-memory", arg, "a size from 64M to 3G");
                a->cfg.vm_memory = sz;
                return 0;
        case OPT_VM_DISK:
                if (ctr_parse_size(arg, &sz) < 0 || sz < (16ull << 20) || sz > (1ull << 40))
                        return bad_flag(a, "--vm-disk", arg, "a size from 16M to 1T");
                a->cfg.vm_disk = sz;
                return 0;
        case OPT_KERNEL:
        case OPT_INITRD: {
                char **f = c == OPT_KERNEL ? &a->cfg.vm_kernel : &a->cfg.vm_initrd;
                char *abs = realpath(arg, NULL);
                if (!abs)
                        return bad_flag(a, c == OPT_KERNEL ? "--kernel" : "--initrd", arg, "an existing file");
                free(*f);
                *f = abs;
                return 0;
        }
        case OPT_IO:
                if (ctr_config_add_io(&a->cfg, arg, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                return 0;
        case OPT_CPUSET:
        case OPT_CPUSET_MEMS: {
                char **f = c == OPT_CPUSET ? &a->cfg.limits.cpuset : &a->cfg.limits.cpuset_mems;
                free(*f);
                *f = xstrdup(arg);
                return 0; /* checked with the whole config */
        }
        case 'p':
                if (ctr_config_add_port(&a->cfg, arg, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                return 0;
        case OPT_IP:
        case OPT_IP6: {
                char **f = c == OPT_IP ? &a->cfg.net.ipv4 : &a->cfg.net.ipv6;
                free(*f);
                *f = xstrdup(arg);
                return 0; /* checked with the whole config */
        }
        case OPT_HOSTNAME:
                free(a->cfg.hostname);
                a->cfg.hostname = xstrdup(arg);
                return 0;
        case OPT_INIT:
                strv_free(a->cfg.init);
                a->cfg.init = calloc(2, sizeof(char *));
                if (!a->cfg.init)
                        abort();
                a->cfg.init[0] = xstrdup(arg);
                return 0;
        case OPT_DEVICE: {
                size_t n = strv_len(a->cfg.devices);
                a->cfg.devices = realloc(a->cfg.devices, (n + 2) * sizeof(char *));
                if (!a->cfg.devices)
                        abort();
                a->cfg.devices[n] = xstrdup(arg);
                a->cfg.devices[n + 1] = NULL;
                return 0; /* checked with the whole config */
        }
        case 'e':
                if (ctr_config_env_set(&a->cfg.env, arg, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                return 0;
        case 'v': {
                struct ctr_mount m;
                if (ctr_config_parse_volume(arg, &m, &a->err) < 0)
                        return a->bad = EXIT_CTR_FAILURE;
                a->cfg.mounts = realloc(a->cfg.mounts, (a->cfg.n_mounts + 1) * sizeof(m));
                if (!a->cfg.mounts)
                        abort();
                a->cfg.mounts[a->cfg.n_mounts++] = m;
                return 0;
        }
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

const struct option ctr_create_longopts[] = {
        {"template", required_argument, NULL, 't'}, {"release", required_argument, NULL, 'r'},
        {"memory", required_argument, NULL, OPT_MEMORY}, {"cpus", required_argument, NULL, OPT_CPUS},
        {"pids", required_argument, NULL, OPT_PIDS}, {"net", required_argument, NULL, OPT_NET},
        {"hostname", required_argument, NULL, OPT_HOSTNAME}, {"init", required_argument, NULL, OPT_INIT},
        {"device", required_argument, NULL, OPT_DEVICE}, {"publish", required_argument, NULL, 'p'},
        {"ip", required_argument, NULL, OPT_IP}, {"ip6", required_argument, NULL, OPT_IP6},
        {"io", required_argument, NULL, OPT_IO}, {"cpuset", required_argument, NULL, OPT_CPUSET},
        {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
        {"dist", required_argument, NULL, OPT_DIST},
        {"mirror", required_argument, NULL, OPT_MIRROR}, {"server", required_argument, NULL, OPT_MIRROR},
        {"storage", required_argument, NULL, OPT_STORAGE},
        {"cap-add", required_argument, NULL, OPT_CAP_ADD}, {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
        {"no-new-privs", no_argument, NULL, OPT_NNP}, {"seccomp", required_argument, NULL, OPT_SECCOMP},
        {"seccomp-allow", required_argument, NULL, OPT_SECCOMP_ALLOW},
        {"seccomp-deny", required_argument, NULL, OPT_SECCOMP_DENY}, {"userns", no_argument, NULL, OPT_USERNS},
        {"no-userns", no_argument, NULL, OPT_NO_USERNS},
        {"vm", no_argument, NULL, OPT_VM}, {"vcpus", required_argument, NULL, OPT_VCPUS},
        {"vm-memory", required_argument, NULL, OPT_VM_MEMORY}, {"vm-disk", required_argument, NULL, OPT_VM_DISK},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"env", required_argument, NULL, 'e'}, {"volume", required_argument, NULL, 'v'}, {}};

int cmd_create(int argc, char **argv)
{

        struct ctr_create_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "create", .shortopts = "t:r:e:v:p:", .longopts = ctr_create_longopts, .on_opt = ctr_create_on_opt,
                                   .userdata = &a, .min_pos = 1, .max_pos = 1, .pos_name = "NAME"};
        int r;

        /* Flags fill a config with placeholder name; the real name is known after parsing. */
        ctr_config_init(&a.cfg, "placeholder");
        free(a.cfg.hostname);
        a.cfg.hostname = NULL;
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
        free(a.cfg.name);
        a.cfg.name = xstrdup(name);
        if (!a.cfg.hostname)
                a.cfg.hostname = ctr_config_default_hostname(name);
        if (!ctr_name_valid(name)) {
                ctr_err(&a.err, EINVAL, "name",
                        "'%s' is not a valid container name (1-64 characters of A-Z a-z 0-9 _ . -, starting "
                        "with a letter or digit)",
                        name);
                r = ctr_cli_fail("create", name, &a.err);
                goto out;
        }
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
