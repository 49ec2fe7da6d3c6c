/* ctr list and ctr info: what exists and what is true now, as a table or JSON. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cgroups/cgroups.h"
#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../base/json.h"
#include "../runtime/monitor.h"
#include "../runtime/network.h"
#include "../base/util.h"

struct view {
        const char *name;
        struct ctr_config cfg;
        bool cfg_ok;
        struct ctr_state st;
        struct ctr_error err;
        char addr4[INET_ADDRSTRLEN], addr6[INET6_ADDRSTRLEN];
};

/* brief: only what the list shows (ctr_container_load_brief); info needs the whole config. */
static void view_load(const struct ctr_paths *p, const char *name, bool brief, struct view *v)
{
        bool stale;
        memset(v, 0, sizeof(*v));
        v->name = name;
        v->cfg_ok = (brief ? ctr_container_load_brief : ctr_container_load)(p, name, &v->cfg, &v->err) == 0;
        ctr_state_probe(p, name, &v->st, &stale, NULL);
        /* Running: what eth0 got; stopped: the lease it keeps for its next start. */
        if (v->st.status != CTR_STOPPED && v->st.ipv4) {
                snprintf(v->addr4, sizeof(v->addr4), "%s", v->st.ipv4);
                snprintf(v->addr6, sizeof(v->addr6), "%s", v->st.ipv6 ? v->st.ipv6 : "");
        } else if (v->cfg_ok)
                ctr_network_lease_addresses(p, &v->cfg, v->addr4, v->addr6);
}

static void view_free(struct view *v)
{
        if (v->cfg_ok)
                ctr_config_free(&v->cfg);
        ctr_state_free(&v->st);
}

static const char *address(const struct view *v)
{
        if (!v->cfg_ok)
                return "-";
        if (v->cfg.net_mode == CTR_NET_HOST)
                return "host";
        return v->addr4[0] ? v->addr4 : "-";
}

/* The MODE column in one word, so the table stays split by blanks: "container", or a VM's shape,
 * "vm/2cpu/512M". */
static const char *mode_text(const struct view *v, char *buf, size_t len)
{
        char mem[32];
        if (!v->cfg_ok)
                return "-";
        if (!v->cfg.vm)
                return "container";
        ctr_format_size(v->cfg.vm_memory, mem, sizeof(mem));
        snprintf(buf, len, "vm/%ucpu/%s", v->cfg.vm_vcpus, mem);
        return buf;
}

static bool live(const struct view *v)
{
        return v->st.status != CTR_STOPPED && v->st.init_pid > 0;
}

static void gen_u64(struct ctr_json_gen *g, const char *key, bool have, uint64_t v)
{
        ctr_json_key_(g, key);
        if (have && v != UINT64_MAX)
                ctr_json_int_(g, (int64_t)v);
        else
                ctr_json_null(g);
}

struct stat_field {
        const char *key;
        bool have;
        uint64_t v;
};

/* One group of counters as an object, or null where the host lacks its controller. */
static void gen_group(struct ctr_json_gen *g, const char *name, bool has, const struct stat_field *f, size_t n)
{
        ctr_json_key_(g, name);
        if (!has) {
                ctr_json_null(g);
                return;
        }
        ctr_json_obj_open(g);
        for (size_t i = 0; i < n; i++)
                gen_u64(g, f[i].key, f[i].have, f[i].v);
        ctr_json_obj_close(g);
}

/* Live counters of a running container; null groups where the host lacks the controller. */
static void gen_stats(struct ctr_json_gen *g, const struct view *v)
{
        struct ctr_cg_stats s;
        ctr_json_key_(g, "stats");
        if (!live(v) || !v->st.cgroup || ctr_cgroup_stats_all(v->st.cgroup, v->st.cgroup_v1, &s) < 0) {
                ctr_json_null(g);
                return;
        }
        ctr_json_obj_open(g);
        const struct stat_field mem[] = {{"current", true, s.memory_current}, {"peak", s.memory_peak > 0, s.memory_peak},
                                         {"max", true, s.memory_max},         {"oom", true, s.oom},
                                         {"oom_kill", true, s.oom_kill}};
        gen_group(g, "memory", s.has_memory, mem, ARRAY_SIZE(mem));
        const struct stat_field cpu[] = {{"usage_usec", true, s.usage_usec},   {"user_usec", true, s.user_usec},
                                         {"system_usec", true, s.system_usec}, {"nr_periods", true, s.nr_periods},
                                         {"nr_throttled", true, s.nr_throttled},
                                         {"throttled_usec", true, s.throttled_usec}};
        gen_group(g, "cpu", s.has_cpu, cpu, ARRAY_SIZE(cpu));
        const struct stat_field pids[] = {{"current", true, s.pids_current}, {"max", true, s.pids_max}};
        gen_group(g, "pids", s.has_pids, pids, ARRAY_SIZE(pids));
        const struct stat_field io[] = {{"rbytes", true, s.io_rbytes}, {"wbytes", true, s.io_wbytes}};
        gen_group(g, "io", s.has_io, io, ARRAY_SIZE(io));
        ctr_json_obj_close(g);
}

static void print_stats(const struct view *v)
{
        struct ctr_cg_stats s;
        char a[32], b[32];
        if (!live(v) || !v->st.cgroup || ctr_cgroup_stats_all(v->st.cgroup, v->st.cgroup_v1, &s) < 0)
                return;
        if (s.has_memory) {
                ctr_format_size(s.memory_current, a, sizeof(a));
                if (s.memory_max == UINT64_MAX)
                        snprintf(b, sizeof(b), "no limit");
                else
                        ctr_format_size(s.memory_max, b, sizeof(b));
                printf("Memory:      %s of %s, %llu OOM kill(s)\n", a, b, (unsigned long long)s.oom_kill);
        }
        if (s.has_cpu)
                printf("CPU time:    %.3f s (user %.3f s, system %.3f s), throttled %llu time(s)\n",
                       s.usage_usec / 1e6, s.user_usec / 1e6, s.system_usec / 1e6, (unsigned long long)s.nr_throttled);
        if (s.has_pids) {
                if (s.pids_max == UINT64_MAX)
                        snprintf(b, sizeof(b), "no limit");
                else
                        snprintf(b, sizeof(b), "%llu", (unsigned long long)s.pids_max);
                printf("Processes:   %llu of %s\n", (unsigned long long)s.pids_current, b);
        }
        if (s.has_io) {
                ctr_format_size(s.io_rbytes, a, sizeof(a));
                ctr_format_size(s.io_wbytes, b, sizeof(b));
                printf("I/O:         read %s, written %s\n", a, b);
        }
}

static void gen_view(struct ctr_json_gen *g, const struct ctr_paths *p, const struct view *v, bool full)
{
        char buf[64];
        ctr_json_obj_open(g);
        ctr_json_key_(g, "name");
        ctr_json_str(g, v->name);
        ctr_json_key_(g, "state");
        ctr_json_str(g, v->cfg_ok ? ctr_status_name(v->st.status) : "broken");
        ctr_json_key_(g, "pid");
        if (live(v))
                ctr_json_int_(g, v->st.init_pid);
        else
                ctr_json_null(g);
        ctr_json_key_(g, "addresses");
        ctr_json_arr_open(g);
        if (v->addr4[0])
                ctr_json_str(g, v->addr4);
        if (v->addr6[0])
                ctr_json_str(g, v->addr6);
        ctr_json_arr_close(g);
        ctr_json_key_(g, "ipv4");
        ctr_json_str(g, v->addr4[0] ? v->addr4 : NULL);
        ctr_json_key_(g, "ipv6");
        ctr_json_str(g, v->addr6[0] ? v->addr6 : NULL);
        ctr_json_key_(g, "template");
        ctr_json_str(g, v->cfg_ok ? v->cfg.template_name : NULL);
        ctr_json_key_(g, "mode");
        ctr_json_str(g, v->cfg_ok ? (v->cfg.vm ? "vm" : "container") : NULL);
        if (v->cfg_ok && v->cfg.vm) {
                ctr_json_key_(g, "vcpus");
                ctr_json_int_(g, v->cfg.vm_vcpus);
                ctr_json_key_(g, "vm_memory");
                ctr_json_int_(g, (int64_t)v->cfg.vm_memory);
        }
        if (!v->cfg_ok) {
                ctr_json_key_(g, "error");
                ctr_json_str(g, v->err.msg);
        }
        if (full && v->cfg_ok) {
                _cleanup_free_ char *rootfs = ctr_path_rootfs(p, v->name);
                _cleanup_free_ char *log = ctr_path_console_log(p, v->name);
                ctr_json_key_(g, "monitor_pid");
                if (live(v))
                        ctr_json_int_(g, v->st.monitor_pid);
                else
                        ctr_json_null(g);
                ctr_json_key_(g, "started_at");
                if (live(v))
                        ctr_json_int_(g, v->st.started_at);
                else
                        ctr_json_null(g);
                ctr_json_key_(g, "cgroup");
                ctr_json_str(g, live(v) ? v->st.cgroup : NULL);
                ctr_json_key_(g, "idmap");
                if (v->cfg.userns && v->cfg.idmap.count) {
                        ctr_json_obj_open(g);
                        ctr_json_key_(g, "uid");
                        ctr_json_int_(g, v->cfg.idmap.uid);
                        ctr_json_key_(g, "gid");
                        ctr_json_int_(g, v->cfg.idmap.gid);
                        ctr_json_key_(g, "count");
                        ctr_json_int_(g, v->cfg.idmap.count);
                        ctr_json_key_(g, "shift");
                        ctr_json_str(g, v->cfg.idmap.chowned ? "chown" : "mount");
                        ctr_json_obj_close(g);
                } else
                        ctr_json_null(g);
                ctr_json_key_(g, "release");
                ctr_json_str(g, v->cfg.template_release);
                ctr_json_key_(g, "arch");
                ctr_json_str(g, v->cfg.template_arch);
                ctr_json_key_(g, "hostname");
                ctr_json_str(g, v->cfg.hostname);
                ctr_json_key_(g, "init");
                ctr_json_arr_open(g);
                for (char **a = v->cfg.init; *a; a++)
                        ctr_json_str(g, *a);
                ctr_json_arr_close(g);
                ctr_json_key_(g, "rootfs");
                ctr_json_str(g, rootfs);
                ctr_json_key_(g, "network");
                _cleanup_free_ char *mode = ctr_config_net_mode_text(&v->cfg);
                ctr_json_str(g, mode);
                ctr_json_key_(g, "veth");
                ctr_json_str(g, live(v) ? v->st.veth : NULL);
                ctr_json_key_(g, "ports");
                ctr_json_arr_open(g);
                for (size_t i = 0; i < v->cfg.net.n_ports; i++) {
                        ctr_port_format(&v->cfg.net.ports[i], buf, sizeof(buf));
                        ctr_json_str(g, buf);
                }
                ctr_json_arr_close(g);
                ctr_json_key_(g, "limits");
                ctr_json_obj_open(g);
                ctr_json_key_(g, "memory");
                if (v->cfg.limits.memory) {
                        ctr_format_size(v->cfg.limits.memory, buf, sizeof(buf));
                        ctr_json_str(g, buf);
                } else
                        ctr_json_null(g);
                ctr_json_key_(g, "cpus");
                if (v->cfg.limits.cpus > 0)
                        ctr_json_dbl(g, v->cfg.limits.cpus);
                else
                        ctr_json_null(g);
                ctr_json_key_(g, "pids");
                if (v->cfg.limits.pids)
                        ctr_json_int_(g, v->cfg.limits.pids);
                else
                        ctr_json_null(g);
                ctr_json_key_(g, "memory_swap");
                if (v->cfg.limits.memory_swap) {
                        ctr_format_size(v->cfg.limits.memory_swap, buf, sizeof(buf));
                        ctr_json_str(g, buf);
                } else
                        ctr_json_null(g);
                ctr_json_key_(g, "cpuset");
                ctr_json_str(g, v->cfg.limits.cpuset);
                ctr_json_obj_close(g);
                ctr_json_key_(g, "devices");
                ctr_json_arr_open(g);
                for (char **d = v->cfg.devices; d && *d; d++)
                        ctr_json_str(g, *d);
                ctr_json_arr_close(g);
                ctr_json_key_(g, "console_log");
                ctr_json_str(g, log);
                gen_stats(g, v);
        }
        ctr_json_obj_close(g);
}

int cmd_list(int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = "list"};
        struct ctr_paths p = {0};
        struct ctr_error err = {0};
        char **names = NULL;
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        if (ctr_container_names(&p, &names, &err) < 0) {
                ctr_paths_free(&p);
                return ctr_cli_fail("list", NULL, &err);
        }
        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_open(g);
        else if (!arg_quiet)
                printf("%-24s %-9s %-8s %-18s %-12s %s\n", "NAME", "STATE", "PID", "ADDRESS", "TEMPLATE", "MODE");
        for (char **n = names; *n; n++) {
                struct view v;
                if (arg_quiet && arg_format != CTR_FORMAT_JSON) {
                        puts(*n);
                        continue;
                }
                view_load(&p, *n, true, &v);
                if (arg_format == CTR_FORMAT_JSON)
                        gen_view(g, &p, &v, false);
                else {
                        char pid[16] = "-", mode[48];
                        if (live(&v))
                                snprintf(pid, sizeof(pid), "%d", (int)v.st.init_pid);
                        /* MODE last: scripts that cut the first five columns keep working. */
                        printf("%-24s %-9s %-8s %-18s %-12s %s\n", *n,
                               v.cfg_ok ? ctr_status_name(v.st.status) : "broken", pid, address(&v),
                               v.cfg_ok && v.cfg.template_name ? v.cfg.template_name : "-",
                               mode_text(&v, mode, sizeof(mode)));
                }
                view_free(&v);
        }
        if (arg_format == CTR_FORMAT_JSON) {
                ctr_json_arr_close(g);
                fputs(ctr_json_gen_text(g, NULL), stdout);
        }
        strv_free(names);
        ctr_paths_free(&p);
        return 0;
}

static void print_security(const struct view *v)
{
        _cleanup_free_ char *add = strv_join(v->cfg.cap_add, ","), *drop = strv_join(v->cfg.cap_drop, ",");
        struct ctr_seccomp_spec sc = ctr_config_seccomp(&v->cfg, 0);
        _cleanup_free_ char *sec = ctr_seccomp_describe(&sc);
        printf("Security:    capabilities default%s%s%s%s, seccomp %s, no_new_privs %s\n", *add ? " +" : "", add,
               *drop ? " -" : "", drop, sec, v->cfg.no_new_privs ? "on" : "off");
        if (v->cfg.userns && v->cfg.idmap.count) {
                const struct ctr_idmap *m = &v->cfg.idmap;
                printf("User ns:     uid 0-%u -> host %u-%u, gid 0-%u -> host %u-%u (%s)\n", m->count - 1, m->uid,
                       m->uid + m->count - 1, m->count - 1, m->gid, m->gid + m->count - 1,
                       m->chowned ? "tree chowned at create" : "idmapped mounts");
        } else
                printf("User ns:     none (root inside is the host's root)\n");
}

static void print_network(const struct ctr_paths *p, const struct view *v)
{
        _cleanup_free_ char *mode = ctr_config_net_mode_text(&v->cfg);
        switch (v->cfg.net_mode) {
        case CTR_NET_HOST:
                printf("Network:     host (WARNING: shares the host's network namespace; the container can "
                       "change the host's interfaces, addresses and firewall)\n");
                return;
        case CTR_NET_NONE: printf("Network:     none (loopback only)\n"); return;
        case CTR_NET_NETNS: printf("Network:     %s (joins an existing namespace)\n", mode); return;
        case CTR_NET_BRIDGE: break;
        }
        struct ctr_netconf nc;
        bool have_conf = ctr_netconf_load(p, &nc, NULL) == 0;
        printf("Network:     bridge %s%s%s%s\n", v->cfg.net.bridge ? v->cfg.net.bridge : have_conf ? nc.bridge : "?",
               live(v) && v->st.veth ? " (veth " : "", live(v) && v->st.veth ? v->st.veth : "",
               live(v) && v->st.veth ? ")" : "");
        if (have_conf)
                ctr_netconf_free(&nc);
        printf("Addresses:   %s%s%s%s\n", v->addr4[0] ? v->addr4 : "none yet (leased at first start)",
               v->addr6[0] ? ", " : "", v->addr6, live(v) || !v->addr4[0] ? "" : " (leased, kept across restarts)");
        if (v->cfg.net.n_ports) {
                printf("Ports:      ");
                for (size_t i = 0; i < v->cfg.net.n_ports; i++) {
                        char spec[96];
                        ctr_port_format(&v->cfg.net.ports[i], spec, sizeof(spec));
                        printf(" %s", spec);
                }
                printf("\n");
        }
        _cleanup_free_ char *changes = ctr_network_host_changes(p);
        if (changes) {
                /* One line per change, indented under the heading. */
                printf("Host:        ctr changed these settings of the host's network namespace:\n");
                for (char *l = strtok(changes, "\n"); l; l = strtok(NULL, "\n"))
                        printf("             %s\n", l);
        }
}

int cmd_info(int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = "info", .min_pos = 1, .max_pos = 1, .pos_name = "NAME"};
        struct ctr_paths p = {0};
        struct view v;
        _cleanup_free_ char *rootfs = NULL, *log = NULL;
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        view_load(&p, cp.pos[0], false, &v);
        if (!v.cfg_ok) {
                r = ctr_cli_fail("info", cp.pos[0], &v.err);
                goto out;
        }
        if (arg_format == CTR_FORMAT_JSON) {
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
                gen_view(g, &p, &v, true);
                fputs(ctr_json_gen_text(g, NULL), stdout);
                goto out;
        }
        rootfs = ctr_path_rootfs(&p, v.name);
        log = ctr_path_console_log(&p, v.name);
        char started[64] = "-", lim[256] = "";
        if (live(&v)) {
                time_t t = v.st.started_at;
                struct tm tm;
                strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
        }
        /* Every limit that is set, by its config key, as `ctr config get` renders it. */
        size_t nk;
        const struct ctr_config_key *keys = ctr_config_key_table(&nk);
        for (size_t i = 0; i < nk; i++) {
                _cleanup_free_ char *val = NULL;
                const char *k = keys[i].name;
                if (strncmp(k, "limits.", 7) || ctr_config_get(&v.cfg, k, &val, NULL) < 0 || !strcmp(val, "null"))
                        continue;
                snprintf(lim + strlen(lim), sizeof(lim) - strlen(lim), "%s=%s ", k + 7, val);
        }
        printf("Name:        %s\n", v.name);
        printf("State:       %s\n", ctr_status_name(v.st.status));
        if (live(&v)) {
                printf("PID:         %d\n", (int)v.st.init_pid);
                printf("Monitor:     %d\n", (int)v.st.monitor_pid);
                printf("Started:     %s\n", started);
                printf("Cgroup:      %s\n", v.st.cgroup ? v.st.cgroup : "-");
        }
        printf("Template:    %s%s%s (%s)\n", v.cfg.template_name ? v.cfg.template_name : "-",
               v.cfg.template_release ? " " : "", v.cfg.template_release ? v.cfg.template_release : "",
               v.cfg.template_arch ? v.cfg.template_arch : "-");
        printf("Hostname:    %s\n", v.cfg.hostname);
        printf("Rootfs:      %s\n", rootfs);
        if (v.cfg.vm) {
                char mem[32];
                ctr_format_size(v.cfg.vm_memory, mem, sizeof(mem));
                printf("Mode:        vm (%u vCPU%s, %s of memory)\n", v.cfg.vm_vcpus, v.cfg.vm_vcpus == 1 ? "" : "s", mem);
        } else
                printf("Mode:        container\n");
        print_network(&p, &v);
        printf("Limits:      %s\n", *lim ? lim : "none");
        print_security(&v);
        print_stats(&v);
        printf("Console log: %s\n", log);
out:
        view_free(&v);
        ctr_paths_free(&p);
        return r;
}
