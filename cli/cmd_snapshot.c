/* snapshot, restore and clone verbs: snapshots of a container's tree and config, restoring one
 * (with an automatic backup), and clones with a new identity. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../base/json.h"
#include "../runtime/snapshot.h"
#include "../base/util.h"

enum { OPT_FREEZE = OPT_VERB_BASE + 300, OPT_NO_BACKUP, OPT_SNAPSHOT, OPT_LIVE };

struct snap_args {
        bool freeze, no_backup, live;
        const char *snapshot;
};

static int on_opt(int c, const char *arg, void *ud)
{
        struct snap_args *a = ud;
        switch (c) {
        case OPT_FREEZE: a->freeze = true; return 0;
        case OPT_NO_BACKUP: a->no_backup = true; return 0;
        case OPT_LIVE: a->live = true; return 0;
        case OPT_SNAPSHOT: a->snapshot = arg; return 0;
        }
        return EXIT_CTR_FAILURE;
}

static void human(uint64_t b, char *buf, size_t len)
{
        const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)b;
        size_t i = 0;
        while (v >= 1024 && i < 4)
                v /= 1024, i++;
        snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static int list(struct ctr_paths *p, const char *name)
{
        struct ctr_error err = {0};
        _cleanup_free_ struct ctr_snapshot_info *v = NULL;
        size_t n;
        if (ctr_snapshot_list(p, name, &v, &n, &err) < 0)
                return ctr_cli_fail("snapshot list", name, &err);
        if (arg_format == CTR_FORMAT_JSON) {
                _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
                ctr_json_arr_open(g);
                for (size_t i = 0; i < n; i++) {
                        ctr_json_obj_open(g);
                        ctr_json_key_(g, "name");
                        ctr_json_str(g, v[i].name);
                        ctr_json_key_(g, "created");
                        ctr_json_str(g, v[i].created);
                        ctr_json_key_(g, "kind");
                        ctr_json_str(g, v[i].kind);
                        ctr_json_key_(g, "bytes");
                        ctr_json_int_(g, (int64_t)v[i].bytes);
                        ctr_json_obj_close(g);
                }
                ctr_json_arr_close(g);
                fputs(ctr_json_gen_text(g, NULL), stdout);
                return 0;
        }
        if (arg_quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", v[i].name);
                return 0;
        }
        printf("%-32s %-21s %-14s %s\n", "SNAPSHOT", "CREATED", "KIND", "SIZE");
        for (size_t i = 0; i < n; i++) {
                char h[32];
                human(v[i].bytes, h, sizeof(h));
                printf("%-32s %-21s %-14s %s\n", v[i].name, v[i].created, v[i].kind, h);
        }
        return 0;
}

int cmd_snapshot(int argc, char **argv)
{
        static const struct option opts[] = {
                {"freeze", no_argument, NULL, OPT_FREEZE}, {"live", no_argument, NULL, OPT_LIVE}, {}};
        struct snap_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "snapshot", .longopts = opts, .on_opt = on_opt, .userdata = &a,
                                   .min_pos = 1, .max_pos = 3, .pos_name = "NAME"};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        struct ctr_error err = {0};
        const char *first = cp.pos[0];
        bool verb = !strcmp(first, "list") || !strcmp(first, "delete");
        if (a.live && (a.freeze || verb)) {
                r = ctr_cli_usage_error("snapshot", "--live goes alone: snapshot --live NAME [SNAP]");
        } else if (a.live) {
                struct ctr_snapshot_info i;
                unsigned paused_ms = 0;
                if (cp.npos > 2)
                        r = ctr_cli_usage_error("snapshot", "usage: snapshot --live NAME [SNAP]");
                else if (ctr_snapshot_create_live(&p, first, cp.npos == 2 ? cp.pos[1] : NULL, &i, &paused_ms, &err) < 0)
                        r = ctr_cli_fail("snapshot", first, &err);
                else if (!arg_quiet) {
                        char h[32];
                        human(i.bytes, h, sizeof(h));
                        printf("%s: %s (live: memory, device state and disk; the VM paused %u ms, %s)\n", first, i.name,
                               paused_ms, h);
                }
        } else if (!strcmp(first, "list")) {
                r = cp.npos == 2 ? list(&p, cp.pos[1]) : ctr_cli_usage_error("snapshot", "usage: snapshot list NAME");
        } else if (!strcmp(first, "delete")) {
                if (cp.npos != 3)
                        r = ctr_cli_usage_error("snapshot", "usage: snapshot delete NAME SNAP");
                else if (ctr_snapshot_delete(&p, cp.pos[1], cp.pos[2], &err) < 0)
                        r = ctr_cli_fail("snapshot delete", cp.pos[1], &err);
        } else if (cp.npos > 2) {
                r = ctr_cli_usage_error("snapshot", "usage: snapshot NAME [SNAP] [--freeze | --live]");
        } else {
                struct ctr_snapshot_info i;
                if (ctr_snapshot_create(&p, first, cp.npos == 2 ? cp.pos[1] : NULL, a.freeze, &i, &err) < 0)
                        r = ctr_cli_fail("snapshot", first, &err);
                else if (!arg_quiet) {
                        char h[32];
                        human(i.bytes, h, sizeof(h));
                        printf("%s: %s (%s, %s)\n", first, i.name,
                               !strcmp(i.kind, "overlay-upper") ? "the overlay's upper layer; the lower is shared"
                                                                : "a full copy of the tree",
                               h);
                }
        }
        ctr_paths_free(&p);
        return r;
}

int cmd_restore(int argc, char **argv)
{
        static const struct option opts[] = {
                {"no-backup", no_argument, NULL, OPT_NO_BACKUP}, {"live", no_argument, NULL, OPT_LIVE}, {}};
        struct snap_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "restore", .longopts = opts, .on_opt = on_opt, .userdata = &a,
                                   .min_pos = 2, .max_pos = 2, .pos_name = "NAME and SNAP"};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        struct ctr_error err = {0};
        char backup[128];
        if ((a.live ? ctr_snapshot_restore_live : ctr_snapshot_restore)(&p, cp.pos[0], cp.pos[1], a.no_backup, backup,
                                                                        &err) < 0)
                r = ctr_cli_fail("restore", cp.pos[0], &err);
        else if (!arg_quiet)
                printf("%s: %s %s%s%s\n", cp.pos[0], a.live ? "resumed from" : "restored", cp.pos[1],
                       *backup ? "; the state before is snapshot " : "", backup);
        ctr_paths_free(&p);
        return r;
}

int cmd_clone(int argc, char **argv)
{
        static const struct option opts[] = {{"snapshot", required_argument, NULL, OPT_SNAPSHOT}, {}};
        struct snap_args a = {0};
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "clone", .longopts = opts, .on_opt = on_opt, .userdata = &a,
                                   .min_pos = 2, .max_pos = 2, .pos_name = "SRC and DST"};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        struct ctr_error err = {0};
        if (ctr_container_clone(&p, cp.pos[0], cp.pos[1], a.snapshot, &err) < 0)
                r = ctr_cli_fail("clone", cp.pos[1], &err);
        ctr_paths_free(&p);
        return r;
}
