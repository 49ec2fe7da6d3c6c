/* Unit tests for runtime/oci_spec.c and the pure parts of runtime/oci.c: config.json fields,
 * errors that name the field, mount options, cgroup paths, IDs, and ctr oci spec's default. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "../../runtime/oci.h"
#include "../../runtime/oci_spec.h"

static const char full[] =
        "{\"ociVersion\": \"1.0.2-dev\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
        " \"hostname\": \"box\", \"domainname\": \"example\","
        " \"process\": {\"terminal\": true, \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 63,"
        "   \"additionalGids\": [5, 6]}, \"args\": [\"sh\", \"-c\", \"true\"], \"env\": [\"PATH=/bin\", \"A=b=c\"],"
        "   \"cwd\": \"/work\", \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_NET_RAW\"],"
        "   \"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]},"
        "   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512},"
        "                {\"type\": \"RLIMIT_CORE\", \"hard\": 18446744073709551615, \"soft\": 18446744073709551615}],"
        "   \"noNewPrivileges\": true, \"oomScoreAdj\": -500, \"apparmorProfile\": \"ignored\", \"newField\": 1},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
        "   {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"data\", \"options\": [\"rbind\", \"ro\", \"rslave\"]},"
        "   {\"destination\": \"/etc/hosts\", \"source\": \"/etc/hosts\", \"options\": [\"bind\"]}],"
        " \"hooks\": {\"prestart\": [{\"path\": \"/bin/true\", \"args\": [\"true\"], \"timeout\": 5}],"
        "   \"poststop\": [{\"path\": \"/bin/false\"}]},"
        " \"annotations\": {\"org.example\": \"yes\"},"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"},"
        "   {\"type\": \"network\", \"path\": \"/var/run/netns/x\"}, {\"type\": \"user\"}],"
        "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
        "  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
        "  \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438,"
        "    \"uid\": 0, \"gid\": 0}, {\"path\": \"/dev/fifo\", \"type\": \"p\"}],"
        "  \"cgroupsPath\": \"/oci/box\","
        "  \"resources\": {\"memory\": {\"limit\": 536870912, \"swap\": 1073741824},"
        "    \"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 1024, \"cpus\": \"0-1\"},"
        "    \"pids\": {\"limit\": 100},"
        "    \"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}]},"
        "    \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 10,"
        "     \"minor\": 229, \"access\": \"rw\"}]},"
        "  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
        "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"},"
        "  \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
        "  \"rootfsPropagation\": \"rslave\", \"intelRdt\": {\"closID\": \"x\"}}}";

Test(oci, parses_every_field)
{
        struct ctr_oci_spec s;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_oci_spec_parse(full, "/b", &s, &err), 0, "%s: %s", err.op, err.msg);
        cr_assert_str_eq(s.root_path, "/b/rootfs");
        cr_assert(s.root_readonly);
        cr_assert_str_eq(s.hostname, "box");
        cr_assert_str_eq(s.domainname, "example");
        const struct ctr_oci_process *p = &s.process;
        cr_assert(p->terminal && p->no_new_privileges);
        cr_assert_eq(p->uid, 1000);
        cr_assert_eq(p->gid, 100);
        cr_assert_eq(p->umask, 63);
        cr_assert_eq(p->n_additional_gids, 2);
        cr_assert_eq(p->additional_gids[1], 6);
        cr_assert_str_eq(p->args[2], "true");
        cr_assert_str_eq(p->env[1], "A=b=c");
        cr_assert_str_eq(p->cwd, "/work");
        cr_assert_eq(p->bounding, (1ULL << CAP_KILL) | (1ULL << CAP_NET_RAW));
        cr_assert_eq(p->ambient, 1ULL << CAP_KILL);
        cr_assert_eq(p->inheritable, 0);
        cr_assert_eq(p->n_rlimits, 2);
        cr_assert_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
        cr_assert_eq(p->rlimits[0].soft, 512);
        cr_assert_eq(p->rlimits[1].hard, RLIM_INFINITY, "2^64-1 is infinity");
        cr_assert(p->has_oom_score_adj && p->oom_score_adj == -500);

        cr_assert_eq(s.n_mounts, 4);
        cr_assert_str_eq(s.mounts[1].data, "mode=755,size=65536k");
        cr_assert_eq(s.mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        cr_assert(s.mounts[2].bind && s.mounts[2].recursive);
        cr_assert_eq(s.mounts[2].flags, MS_RDONLY);
        cr_assert_eq(s.mounts[2].propagation, MS_SLAVE | MS_REC);
        cr_assert(s.mounts[3].bind && !s.mounts[3].recursive, "no type and a bind option is a bind");

        cr_assert_eq(s.n_hooks[CTR_OCI_PRESTART], 1);
        cr_assert_eq(s.hooks[CTR_OCI_PRESTART][0].timeout, 5);
        cr_assert_eq(s.n_hooks[CTR_OCI_POSTSTOP], 1);
        cr_assert_eq(s.n_hooks[CTR_OCI_POSTSTART], 0);

        cr_assert_eq(s.n_namespaces, 5);
        cr_assert_not_null(ctr_oci_spec_ns(&s, CLONE_NEWUSER));
        cr_assert_str_eq(ctr_oci_spec_ns(&s, CLONE_NEWNET)->path, "/var/run/netns/x");
        cr_assert_null(ctr_oci_spec_ns(&s, CLONE_NEWIPC));
        cr_assert_eq(s.n_uid_mappings, 1);
        cr_assert_eq(s.uid_mappings[0].host_id, 100000);
        cr_assert_eq(s.n_devices, 2);
        cr_assert_eq(s.devices[0].mode, 0666);
        cr_assert_eq(s.devices[1].type, 'p');
        cr_assert_str_eq(s.cgroups_path, "/oci/box");
        const struct ctr_cg_limits *l = &s.resources.limits;
        cr_assert_eq(l->memory, 512ULL << 20);
        cr_assert_eq(l->memory_swap, 512ULL << 20, "v1's memory+swap becomes v2's swap alone");
        cr_assert_float_eq(l->cpus, 0.5, 1e-9);
        cr_assert_eq(l->cpu_weight, 1 + (1024 - 2) * 9999 / 262142);
        cr_assert_str_eq(l->cpuset, "0-1");
        cr_assert_eq(l->pids, 100);
        cr_assert_eq(l->n_io, 1);
        cr_assert_eq(l->io[0].rbps, 1048576);
        cr_assert_eq(s.resources.n_devices, 1, "only allow rules widen the deny-all default");
        cr_assert_eq(s.resources.devices[0].major, 10);
        cr_assert_eq(s.resources.devices[0].access, CTR_DEV_READ | CTR_DEV_WRITE);
        cr_assert_str_eq(s.sysctl[0], "net.ipv4.ip_forward=1");
        cr_assert_not_null(s.seccomp);
        cr_assert_str_eq(s.masked_paths[0], "/proc/kcore");
        cr_assert_eq(s.rootfs_propagation, MS_SLAVE | MS_REC);
        cr_assert_not_null(s.annotations);
        cr_assert_not_null(s.warnings, "intelRdt is ignored with a warning");
        cr_assert(strstr(s.warnings[0], "intelRdt"));
        ctr_oci_spec_free(&s);
}

Test(oci, errors_name_the_field)
{
        const struct {
                const char *doc, *msg;
        } cases[] = {
                {"{", "config.json"},
                {"{\"root\": {\"path\": \"r\"}}", "ociVersion is missing"},
                {"{\"ociVersion\": \"2.0.0\", \"root\": {\"path\": \"r\"}}", "not a 1.x"},
                {"{\"ociVersion\": \"1.0.0\"}", "root is missing"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": 5}}", "root.path must be a string"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": []}}", "process.args"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\", 1]}}",
                 "process.args[1] must be a string"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"rel\"}}",
                 "process.cwd must be an absolute path"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"env\": [\"NOEQ\"]}}",
                 "'NOEQ' is not KEY=VALUE"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"],"
                 " \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]}}",
                 "RLIMIT_BOGUS"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"],"
                 " \"user\": {\"uid\": -1}}}",
                 "process.user.uid"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"mounts\": [{\"destination\": \"rel\", \"type\": \"tmpfs\"}]}",
                 "mounts[0].destination must be an absolute path"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"mounts\": [{\"destination\": \"/x\"}]}",
                 "mounts[0].type is missing"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"namespaces\": [{\"type\": \"bogus\"}]}}",
                 "'bogus' is not a namespace type"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"namespaces\": [{\"type\": \"pid\"},"
                 " {\"type\": \"pid\"}]}}",
                 "given twice"},
                /* fuzz_oci_spec: the path was leaked (make asan-check's unit run sees it). */
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"namespaces\": [{\"type\": \"network\","
                 " \"path\": \"proc/1/ns/net\"}]}}",
                 "linux.namespaces[0].path must be an absolute path"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"uidMappings\": [{\"containerID\": 0,"
                 " \"hostID\": 1, \"size\": 1}]}}",
                 "need a user namespace"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"hostname\": \"h\"}", "uts namespace"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"],"
                 " \"capabilities\": {\"bounding\": [\"CAP_TEST\"]}}}",
                 "'CAP_TEST' is not a capability"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"devices\": [{\"path\": \"/dev/x\","
                 " \"type\": \"c\"}]}}",
                 "needs major and minor"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"resources\": {\"devices\":"
                 " [{\"allow\": true, \"access\": \"rwx\"}]}}}",
                 "'rwx'"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"rootfsPropagation\": \"sideways\"}}",
                 "'sideways'"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"hooks\": {\"prestart\": [{\"path\": \"rel\"}]}}",
                 "hooks.prestart[0].path"},
                {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"sysctl\": {\"../x\": \"1\"}}}",
                 "not a sysctl name"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ctr_oci_spec s;
                struct ctr_error err = {0};
                cr_assert_lt(ctr_oci_spec_parse(cases[i].doc, "/b", &s, &err), 0, "accepted: %s", cases[i].doc);
                cr_assert(strstr(err.msg, cases[i].msg) || strstr(err.op, cases[i].msg), "case %zu: '%s: %s' lacks '%s'", i,
                          err.op, err.msg, cases[i].msg);
        }
}

Test(oci, mount_options)
{
        char *opts[] = {"rw", "nosuid", "nodev", "noexec", "relatime", "rprivate", "size=1m", "x-systemd.hint", "rro", NULL};
        struct ctr_oci_mount m = {0};
        struct ctr_error err = {0};
        cr_assert_eq(ctr_oci_mount_options(opts, &m, &err), 0);
        cr_assert_eq(m.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_RDONLY);
        cr_assert_eq(m.propagation, MS_PRIVATE | MS_REC);
        cr_assert_str_eq(m.data, "size=1m");
        free(m.data);
        char *bad[] = {"a,b", NULL};
        m = (struct ctr_oci_mount){0};
        cr_assert_lt(ctr_oci_mount_options(bad, &m, &err), 0);
        free(m.data);
}

Test(oci, cgroup_paths_and_ids)
{
        char *p = ctr_oci_cgroup_rel(NULL, "abc", false);
        cr_assert_str_eq(p, "ctr.slice/oci-abc");
        free(p);
        p = ctr_oci_cgroup_rel("/kubepods/pod1/c1", "c1", false);
        cr_assert_str_eq(p, "kubepods/pod1/c1");
        free(p);
        p = ctr_oci_cgroup_rel("rel/x", "x", false);
        cr_assert_str_eq(p, "ctr.slice/rel/x");
        free(p);
        p = ctr_oci_cgroup_rel("machine.slice:libpod:abc", "abc", true);
        cr_assert_str_eq(p, "machine.slice/libpod-abc.scope");
        free(p);
        cr_assert(ctr_oci_id_valid("abc-1.2_3+x"));
        cr_assert_not(ctr_oci_id_valid(""));
        cr_assert_not(ctr_oci_id_valid(".."));
        cr_assert_not(ctr_oci_id_valid("a/b"));
        cr_assert_not(ctr_oci_id_valid("a b"));
}

Test(oci, default_spec_parses_back)
{
        for (int rootless = 0; rootless < 2; rootless++) {
                char *text = ctr_oci_spec_default(rootless);
                struct ctr_oci_spec s;
                struct ctr_error err = {0};
                cr_assert_eq(ctr_oci_spec_parse(text, "/b", &s, &err), 0, "%s", err.msg);
                cr_assert_str_eq(s.process.args[0], "sh");
                cr_assert_not_null(ctr_oci_spec_ns(&s, CLONE_NEWNS));
                cr_assert_eq(ctr_oci_spec_ns(&s, CLONE_NEWUSER) != NULL, rootless);
                ctr_oci_spec_free(&s);
                free(text);
        }
}

Test(oci, process_file)
{
        struct ctr_oci_process p;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_oci_process_parse("{\"args\": [\"ls\"], \"user\": {\"uid\": 7}}", &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.uid, 7);
        cr_assert_str_eq(p.cwd, "/");
        ctr_oci_process_free(&p);
        cr_assert_lt(ctr_oci_process_parse("{\"terminal\": true}", &p, &err), 0);
}

/* update --resources: a LinuxResources document alone, as containerd's shim sends it (Go's
 * encoding: zero fields omitted or 0, -1 for unlimited). */
Test(oci, update_resources_document)
{
        struct ctr_oci_resources r;
        struct ctr_error err = {0};
        const char *doc = "{\"memory\": {\"limit\": 268435456, \"swap\": -1, \"reservation\": 0},"
                          " \"cpu\": {\"shares\": 256, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\", \"mems\": \"\"},"
                          " \"pids\": {\"limit\": -1}, \"blockIO\": {\"weight\": 300},"
                          " \"devices\": [{\"allow\": false, \"access\": \"rwm\"}], \"hugepageLimits\": []}";
        cr_assert_eq(ctr_oci_resources_parse(doc, &r, &err), 0, "%s", err.msg);
        cr_assert_eq(r.v1.memory_limit, 268435456);
        cr_assert_eq(r.v1.memory_swap, -1);
        cr_assert_eq(r.v1.memory_reservation, 0, "0 leaves the reservation as it is");
        cr_assert_eq(r.v1.cpu_shares, 256);
        cr_assert_eq(r.v1.cpu_quota, 50000);
        cr_assert_eq(r.v1.cpu_period, 100000);
        cr_assert_str_eq(r.v1.cpus, "0-1");
        cr_assert_str_eq(r.v1.mems, "");
        cr_assert_eq(r.v1.pids_limit, -1);
        cr_assert_eq(r.v1.blkio_weight, 300);
        ctr_oci_resources_free(&r);

        cr_assert_eq(ctr_oci_resources_parse("{}", &r, &err), 0, "an empty document changes nothing");
        cr_assert_eq(r.v1.memory_limit, 0);
        cr_assert_eq(r.v1.pids_limit, 0);
        ctr_oci_resources_free(&r);

        cr_assert_lt(ctr_oci_resources_parse("{\"pids\": {\"limit\": \"x\"}}", &r, &err), 0);
        cr_assert(strstr(err.msg, "pids.limit"), "the message names the field: %s", err.msg);
        cr_assert_str_eq(err.op, "resources", "not a config.json here");
        cr_assert_lt(ctr_oci_resources_parse("[1]", &r, &err), 0);
        cr_assert_lt(ctr_oci_resources_parse("{\"cpu\": {\"cpus\": \"x-\"}}", &r, &err), 0);
}

/* features: the runtime-spec document, with what engines look for. */
Test(oci, features_document)
{
        char *f = ctr_oci_features();
        ctr_json *doc = NULL;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_json_parse(f, &doc, &err), 0, "%s", err.msg);
        const ctr_json *lx = ctr_json_get(doc, "linux");
        cr_assert(lx);
        cr_assert(ctr_json_bool(ctr_json_get(ctr_json_get(lx, "cgroup"), "v1")), "v1 hierarchies are supported");
        const ctr_json *caps = ctr_json_get(lx, "capabilities");
        bool sys_admin = false;
        for (size_t i = 0; caps && i < ctr_json_len(caps); i++)
                sys_admin |= !strcmp(ctr_json_string(ctr_json_at(caps, i)), "CAP_SYS_ADMIN");
        cr_assert(sys_admin, "capabilities lists CAP_SYS_ADMIN: %s", f);
        cr_assert(ctr_json_get(ctr_json_get(lx, "seccomp"), "operators"));
        ctr_json_free(doc);
        free(f);
}
