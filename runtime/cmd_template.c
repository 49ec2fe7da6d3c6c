/* ctr template list: the templates found on the search path, with their one-line description
 * (a "# description: ..." line near the top of the script). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../rootfs/rootfs.h"
#include "cli.h"
#include "json.h"
#include "util.h"

static void description(const char *path, char *buf, size_t len)
{
        FILE *f = fopen(path, "re");
        char line[512];
        *buf = 0;
        if (!f)
                return;
        for (int i = 0; i < 10 && fgets(line, sizeof(line), f); i++)
                if (!strncmp(line, "# description: ", 15)) {
                        line[strcspn(line, "\n")] = 0;
                        snprintf(buf, len, "%s", line + 15);
                        break;
                }
        fclose(f);
}

int cmd_template(int argc, char **argv)
{
        struct ctr_cli_parse cp = {.verb = "template", .min_pos = 1, .max_pos = 1, .pos_name = "'list'"};
        int r = ctr_cli_parse(argc, argv, &cp);
        if (r)
                return CTR_CLI_RETURN(r);
        if (strcmp(cp.pos[0], "list"))
                return ctr_cli_usage_error("template", "unknown action '%s' (list)", cp.pos[0]);

        _cleanup_json_gen_ struct ctr_json_gen *g = ctr_json_gen_new(true);
        char seen[64][65];
        size_t nseen = 0;
        if (arg_format == CTR_FORMAT_JSON)
                ctr_json_arr_open(g);
        for (const char *const *d = ctr_template_dirs(); *d; d++) {
                struct dirent **ents;
                int n = scandir(*d, &ents, NULL, alphasort);
                for (int i = 0; i < n; i++) {
                        const char *name = ents[i]->d_name;
                        _cleanup_free_ char *path = xasprintf("%s/%s", *d, name);
                        bool dup = false;
                        for (size_t s = 0; s < nseen; s++)
                                dup |= !strcmp(seen[s], name);
                        /* The first directory on the search path wins, as in ctr_template_find(). */
                        if (!dup && ctr_name_valid(name) && access(path, X_OK) == 0 && nseen < 64) {
                                char desc[256];
                                snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
                                description(path, desc, sizeof(desc));
                                if (arg_format == CTR_FORMAT_JSON) {
                                        ctr_json_obj_open(g);
                                        ctr_json_key_(g, "name");
                                        ctr_json_str(g, name);
                                        ctr_json_key_(g, "description");
                                        ctr_json_str(g, desc);
                                        ctr_json_key_(g, "path");
                                        ctr_json_str(g, path);
                                        ctr_json_obj_close(g);
                                } else if (arg_quiet)
                                        puts(name);
                                else
                                        printf("%-12s %s\n", name, desc);
                        }
                        free(ents[i]);
                }
                if (n >= 0)
                        free(ents);
        }
        if (arg_format == CTR_FORMAT_JSON) {
                ctr_json_arr_close(g);
                fputs(ctr_json_gen_text(g, NULL), stdout);
        }
        return 0;
}
