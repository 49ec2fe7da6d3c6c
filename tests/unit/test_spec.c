/* Golden tests of the compile step (spec/): a native config, an exec request and an OCI bundle
 * compiled into the ctr_spec the one launcher runs, compared with the expected text line by
 * line; and a native config and its OCI equivalent compiling to the same process, namespaces,
 * names, root switch and console. Pure: nothing is started. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../base/util.h"
#include "../../runtime/config.h"
#include "../../runtime/exec.h"
#include "../../runtime/oci.h"
#include "../../runtime/spawn.h"
#include "../../spec/spec.h"
#include "unit.h"

static void native_config(struct ctr_config *c)
{
        ctr_config_init(c, "web");
        free(c->uuid);
        c->uuid = xstrdup("00000000-0000-4000-8000-000000000001");
        c->net_mode = CTR_NET_NONE;
        c->userns = false;
        strv_free(c->init);
        c->init = NULL;
        strv_push(&c->init, "/bin/sh");
        strv_push(&c->init, "-c");
        strv_push(&c->init, "exec sleep 1");
        strv_push(&c->env, "FOO=bar");
        c->no_new_privs = true;
}

static char *compile_native(const struct ctr_config *c, const struct ctr_run_opts *run)
{
        struct ctr_spawn s = {.cfg = c, .rootfs = "/r/rootfs", .console_fd = -1, .cgroup_fd = -1, .run = run};
        struct ctr_spec spec;
        struct ctr_error e = {0};
        ctr_spec_init(&spec);
        cr_assert_eq(ctr_spawn_compile(&s, &spec, &e), 0, "%s: %s", e.op, e.msg);
        char *t = ctr_spec_text(&spec);
        ctr_spec_free(&spec);
        return t;
}

/* The lines of text that start with one of the keys, in order. */
static char *lines_with(const char *text, const char *const *keys)
{
        char *out = xstrdup("");
        _cleanup_free_ char *copy = xstrdup(text);
        for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                for (const char *const *k = keys; *k; k++)
                        if (!strncmp(l, *k, strlen(*k))) {
                                char *n = xasprintf("%s%s\n", out, l);
                                free(out);
                                out = n;
                                break;
                        }
        return out;
}

static bool has_line(const char *text, const char *line)
{
        _cleanup_free_ char *copy = xstrdup(text);
        for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (!strcmp(l, line))
                        return true;
        return false;
}

#define ASSERT_LINE(text, line) cr_assert(has_line(text, line), "no line '%s' in:\n%s", line, text)

Test(spec, native_start_golden)
{
        struct ctr_config c;
        native_config(&c);
        _cleanup_free_ char *t = compile_native(&c, NULL);
        static const char *const keys[] = {"what", "namespaces", "dies_with", "network", "hostname", "domainname",
                                           "hooks_step", "root", "console", "gate", "process.", NULL};
        _cleanup_free_ char *got = lines_with(t, keys);
        _cleanup_free_ char *caps = ctr_caps_format(ctr_caps_default());
        _cleanup_free_ char *want = xasprintf(
                "what the container's init\n"
                "namespaces.new mnt pid net uts ipc cgroup\n"
                "namespaces.join -\n"
                "namespaces.userns_root no\n"
                "dies_with_parent yes\n"
                "network.loopback_up yes\n"
                "hostname web\n"
                "domainname -\n"
                "rootfs /r/rootfs\n"
                "hooks_step no\n"
                "root pivot_root /r/rootfs\n"
                "root.propagation -\n"
                "console inherit\n"
                "gate -\n"
                "process.args /bin/sh -c exec sleep 1\n"
                "process.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                "process.env container=ctr\n"
                "process.env container_uuid=00000000-0000-4000-8000-000000000001\n"
                "process.env TERM=linux\n"
                "process.env HOME=/root\n"
                "process.env FOO=bar\n"
                "process.cwd /\n"
                "process.user 0:0\n"
                "process.umask 0022\n"
                "process.caps.bounding %s\n"
                "process.caps.effective %s\n"
                "process.caps.permitted %s\n"
                "process.caps.inheritable %s\n"
                "process.caps.ambient -\n"
                "process.no_new_privs yes\n"
                "process.seccomp default\n"
                "process.preserve_fds 0\n",
                caps, caps, caps, caps);
        cr_assert_str_eq(got, want);
        /* The mount plan is the one init runs: ctr's defaults, masks last. */
        ASSERT_LINE(t, "mount    /proc <- proc");
        ASSERT_LINE(t, "mask     /proc/kcore optional");
        ctr_config_free(&c);
}

Test(spec, run_options_compile_in)
{
        struct ctr_config c;
        native_config(&c);
        char *tmpfs[] = {"/scratch", NULL};
        struct ctr_run_opts run = {.user = "1000", .cwd = "/src", .tmpfs = tmpfs};
        _cleanup_free_ char *t = compile_native(&c, &run);
        ASSERT_LINE(t, "process.user 1000 (from /etc/passwd) with HOME, USER");
        ASSERT_LINE(t, "process.cwd /src");
        ASSERT_LINE(t, "mount    /scratch <- tmpfs (mode=1777)");
        /* The user's home, not root's, once the user is known. */
        cr_assert(!has_line(t, "process.env HOME=/root"), "%s", t);
        ctr_config_free(&c);
}

Test(spec, exec_golden)
{
        struct ctr_config c;
        native_config(&c);
        char *argv[] = {"id", "-u", NULL};
        char *env[] = {"X=1", NULL};
        struct ctr_exec_opts o = {.argv = argv, .user = "nobody", .env = env};
        struct ctr_spec spec;
        struct ctr_error e = {0};
        cr_assert_eq(ctr_exec_compile(&c, &o, 7, &spec, &e), 0, "%s", e.msg);
        _cleanup_free_ char *t = ctr_spec_text(&spec);
        ASSERT_LINE(t, "what the exec process");
        ASSERT_LINE(t, "namespaces.new -");
        ASSERT_LINE(t, "namespaces.join mnt net uts ipc cgroup");
        ASSERT_LINE(t, "mounts -");
        ASSERT_LINE(t, "root none -");
        ASSERT_LINE(t, "process.args id -u");
        ASSERT_LINE(t, "process.env X=1");
        ASSERT_LINE(t, "process.env FOO=bar");
        ASSERT_LINE(t, "process.user nobody (from /etc/passwd) with HOME, USER");
        ASSERT_LINE(t, "process.cwd (the user's home)");
        ASSERT_LINE(t, "process.no_new_privs yes");
        cr_assert_eq(spec.pidns_fd, 7);
        cr_assert_eq(spec.process.fail_status, 125);
        cr_assert(spec.process.shell_status && spec.process.caps_if_root);
        ctr_spec_free(&spec);
        ctr_config_free(&c);
}

/* An OCI bundle saying what the native config says: the same namespaces, names, root switch,
 * console and process. What stays different is the description's own: the bundle's mounts and
 * filter, the hooks step and the fifo gate. */
Test(spec, native_and_oci_compile_alike)
{
        char dir[64];
        unit_tmpdir_make(dir, sizeof(dir), "spec");
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir), *cfgp = xasprintf("%s/config.json", dir);
        cr_assert_eq(mkdir(rootfs, 0755), 0);
        _cleanup_free_ char *caps = ctr_caps_format(ctr_caps_default());
        /* ctr_caps_format gives "chown,dac_override,..."; the bundle spells CAP_CHOWN, ... */
        _cleanup_free_ char *capjson = xstrdup("");
        _cleanup_free_ char *copy = xstrdup(caps);
        for (char *save = NULL, *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                char up[64];
                size_t i = 0;
                for (; n[i] && i < sizeof(up) - 1; i++)
                        up[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
                up[i] = 0;
                char *j = xasprintf("%s%s\"CAP_%s\"", capjson, *capjson ? "," : "", up);
                free(capjson);
                capjson = j;
        }
        FILE *f = fopen(cfgp, "w");
        cr_assert_not_null(f);
        fprintf(f,
                "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"hostname\": \"web\","
                " \"process\": {\"args\": [\"/bin/sh\", \"-c\", \"exec sleep 1\"], \"cwd\": \"/\","
                "  \"user\": {\"uid\": 0, \"gid\": 0}, \"noNewPrivileges\": true,"
                "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"container=ctr\","
                "           \"container_uuid=00000000-0000-4000-8000-000000000001\", \"TERM=linux\", \"HOME=/root\","
                "           \"FOO=bar\"],"
                "  \"capabilities\": {\"bounding\": [%s], \"effective\": [%s], \"permitted\": [%s],"
                "                    \"inheritable\": [%s]}},"
                " \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"}, {\"type\": \"network\"},"
                "  {\"type\": \"uts\"}, {\"type\": \"ipc\"}, {\"type\": \"cgroup\"}]}}",
                capjson, capjson, capjson, capjson);
        fclose(f);

        struct ctr_spec oci;
        struct ctr_error e = {0};
        struct ctr_oci_create_opts opts = {0};
        int r = ctr_oci_compile(dir, &opts, &oci, &e);
        cr_assert_eq(r, 0, "%s: %s", e.op, e.msg);
        _cleanup_free_ char *ot = ctr_spec_text(&oci);
        ctr_spec_free(&oci);

        struct ctr_config c;
        native_config(&c);
        struct ctr_spawn s = {.cfg = &c, .rootfs = rootfs, .console_fd = -1, .cgroup_fd = -1};
        struct ctr_spec nat;
        ctr_spec_init(&nat);
        cr_assert_eq(ctr_spawn_compile(&s, &nat, &e), 0, "%s", e.msg);
        _cleanup_free_ char *nt = ctr_spec_text(&nat);
        ctr_spec_free(&nat);
        ctr_config_free(&c);

        static const char *const same[] = {"namespaces.new", "namespaces.join", "namespaces.userns_root", "hostname",
                                           "domainname", "root ", "console", "process.args", "process.env",
                                           "process.cwd", "process.user", "process.umask", "process.caps",
                                           "process.no_new_privs", "process.preserve_fds", NULL};
        _cleanup_free_ char *a = lines_with(nt, same), *b = lines_with(ot, same);
        cr_assert_str_eq(b, a, "OCI:\n%s\nnative:\n%s", ot, nt);
        ASSERT_LINE(ot, "hooks_step yes");
        unit_tmpdir_remove(dir);
}
