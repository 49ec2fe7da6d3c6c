/* export and import: a stopped container as one tar archive (ctr-export.json, config.json,
 * rootfs.tar with the whole tree, merged for overlay storage), optionally zstd-compressed; an
 * import checks everything (format version, checksums, every member of both tars) before it
 * extracts, into a temporary directory renamed into place. GNU tar writes and extracts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../rootfs/rootfs.h"
#include "../vm/image.h"
#include "cli.h"
#include "../runtime/config.h"
#include "../runtime/container.h"
#include "../base/json.h"
#include "../runtime/userns.h"
#include "../base/util.h"

#define EXPORT_VERSION 1

static bool zst(const char *file)
{
        size_t n = strlen(file);
        return n > 4 && !strcmp(file + n - 4, ".zst");
}

/* Mount the ext4 image read-only on target through a free loop device that goes away with the
 * mount (autoclear); the journal is not replayed, so nothing is written to the image. */
static int mount_image_ro(const char *image, const char *target)
{
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int img = open(image, O_RDONLY | O_CLOEXEC);
        if (ctl < 0 || img < 0)
                return -errno;
        for (int tries = 0; tries < 16; tries++) {
                int n = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (n < 0)
                        return -errno;
                char dev[32];
                snprintf(dev, sizeof(dev), "/dev/loop%d", n);
                _cleanup_close_ int lfd = open(dev, O_RDONLY | O_CLOEXEC);
                if (lfd < 0)
                        return -errno;
                struct loop_config lc = {.fd = (unsigned)img,
                                         .info = {.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR}};
                if (ioctl(lfd, LOOP_CONFIGURE, &lc) < 0) {
                        if (errno == EBUSY) /* taken by another user between the two calls */
                                continue;
                        return -errno;
                }
                return mount(dev, target, "ext4", MS_RDONLY | MS_NODEV | MS_NOSUID, "noload") < 0 ? -errno : 0;
        }
        return -EBUSY;
}

/* Run argv; in a private mount namespace with the overlay (or a VM's disk image) mounted on
 * target first when overlay (or image) is set. */
static int run_tool_in(char *const argv[], const char *overlay, const char *image, const char *target,
                       struct ctr_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return ctr_err_sys(err, errno, "export", "fork");
        if (pid == 0) {
                if (overlay || image) {
                        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                            (overlay && mount("overlay", target, "overlay", MS_RDONLY, overlay) < 0)) {
                                fprintf(stderr, "ctr: mount the overlay on %s: %m\n", target);
                                _exit(126);
                        }
                        int r = image ? mount_image_ro(image, target) : 0;
                        if (r < 0) {
                                fprintf(stderr, "ctr: mount the VM's disk %s on %s: %s\n", image, target, strerror(-r));
                                _exit(126);
                        }
                }
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (devnull >= 0)
                        dup2(devnull, STDOUT_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st))
                return ctr_err(err, EIO, argv[0], "%s failed (status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
}

static int run_tool(char *const argv[], const char *overlay, const char *target, struct ctr_error *err)
{
        return run_tool_in(argv, overlay, NULL, target, err);
}

static int do_export(struct ctr_paths *p, const char *name, const char *file, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        bool stale;
        _cleanup_close_ int lock = -1;
        int r = ctr_container_load(p, name, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = ctr_path_container(p, name), *rootfs = ctr_path_rootfs(p, name);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.export-%d", p->containers, name, (int)getpid());
        _cleanup_free_ char *tree = xasprintf("%s/rootfs.tar", tmp), *cfgcopy = xasprintf("%s/config.json", tmp);
        _cleanup_free_ char *manifest = xasprintf("%s/ctr-export.json", tmp), *out = xasprintf("%s.tmp-%d", file, (int)getpid());
        _cleanup_free_ char *overlay = NULL, *cfgpath = ctr_path_config(p, name), *text = NULL;
        _cleanup_free_ char *disk = xasprintf("%s/disk.img", dir);
        const char *image = NULL;
        _cleanup_json_gen_ struct ctr_json_gen *g = NULL;
        if ((r = ctr_lock_container(p, name, &lock, err)) < 0 || (r = ctr_state_probe(p, name, &st, &stale, err)) < 0)
                goto out;
        if (st.status != CTR_STOPPED) {
                r = ctr_err(err, EBUSY, "export", "the container is %s; stop it first", ctr_status_name(st.status));
                goto out;
        }
        if (cfg.userns && cfg.idmap.chowned) {
                r = ctr_err(err, EOPNOTSUPP, "export", "the tree was chowned to this container's id range and would not "
                                                       "fit another");
                goto out;
        }
        ctr_rm_rf(tmp);
        if (mkdir(tmp, 0700) < 0) {
                r = ctr_err_sys(err, errno, "export", "create %s", tmp);
                goto out;
        }
        if (!strcmp(cfg.storage_driver, "overlay"))
                overlay = xasprintf("lowerdir=%s/upper:%s", dir, cfg.storage_lower); /* leftmost is the top layer */
        /* A VM's tree is its root disk (the guest wrote there), read through a loop mount; an
         * import builds a new disk from it. */
        if (cfg.vm && access(disk, F_OK) == 0)
                image = disk;
        /* rootfs.tar: the whole tree as the container sees it, owners as numbers. */
        char *tar1[12] = {"tar", "--numeric-owner", "--xattrs", "--acls"};
        size_t n = 4;
        if (image) /* the image's own lost+found is not the container's */
                tar1[n++] = "--exclude=./lost+found";
        tar1[n++] = "-C", tar1[n++] = rootfs, tar1[n++] = "-cf", tar1[n++] = tree, tar1[n++] = ".", tar1[n] = NULL;
        if ((r = run_tool_in(tar1, overlay, image, rootfs, err)) < 0)
                goto fail;
        size_t len;
        if ((r = ctr_read_record(cfgpath, 1 << 20, "export", &text, &len, err)) < 0)
                goto fail;
        if ((r = ctr_write_atomic(cfgcopy, text, len, 0600)) < 0) {
                r = ctr_err_sys(err, -r, "export", "copy %s", cfgpath);
                goto fail;
        }
        char tsum[65], csum[65], when[32];
        if ((r = ctr_sha256_file(tree, tsum, err)) < 0 || (r = ctr_sha256_file(cfgcopy, csum, err)) < 0)
                goto fail;
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        g = ctr_json_gen_new(true);
        ctr_json_obj_open(g);
        ctr_json_key_(g, "version");
        ctr_json_int_(g, EXPORT_VERSION);
        ctr_json_key_(g, "name");
        ctr_json_str(g, name);
        ctr_json_key_(g, "created");
        ctr_json_str(g, when);
        ctr_json_key_(g, "rootfs_sha256");
        ctr_json_str(g, tsum);
        ctr_json_key_(g, "config_sha256");
        ctr_json_str(g, csum);
        ctr_json_obj_close(g);
        const char *mtext = ctr_json_gen_text(g, &len);
        if ((r = ctr_write_atomic(manifest, mtext, len, 0600)) < 0) {
                r = ctr_err_sys(err, -r, "export", "write %s", manifest);
                goto fail;
        }
        char *tar2[] = {"tar", zst(file) ? "--zstd" : "--no-auto-compress", "-C", tmp, "-cf", out, "ctr-export.json",
                        "config.json", "rootfs.tar", NULL};
        if ((r = run_tool(tar2, NULL, NULL, err)) < 0)
                goto fail;
        if (rename(out, file) < 0) {
                r = ctr_err_sys(err, errno, "export", "rename to %s", file);
                goto fail;
        }
        ctr_rm_rf(tmp);
        goto out;
fail:
        unlink(out);
        ctr_rm_rf(tmp);
out:
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

static int read_manifest(const char *path, int *version, char **name, char tsum[65], char csum[65], struct ctr_error *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ ctr_json *doc = NULL;
        int r = ctr_read_file(path, 1 << 16, &text, NULL);
        if (r < 0)
                return ctr_err_sys(err, -r, "import", "read the manifest");
        if (ctr_json_parse(text, &doc, err) < 0 || ctr_json_type(doc) != CTR_JSON_OBJECT)
                return ctr_err(err, EINVAL, "import", "the manifest ctr-export.json is not a JSON object");
        const ctr_json *v = ctr_json_get(doc, "version"), *n = ctr_json_get(doc, "name"),
                       *t = ctr_json_get(doc, "rootfs_sha256"), *c = ctr_json_get(doc, "config_sha256");
        if (!v || !ctr_json_is_integer(v))
                return ctr_err(err, EINVAL, "import", "the manifest has no format version");
        *version = (int)ctr_json_int(v);
        if (*version > EXPORT_VERSION)
                return 0; /* the caller says so, naming both */
        if (!n || ctr_json_type(n) != CTR_JSON_STRING || !t || ctr_json_type(t) != CTR_JSON_STRING ||
            strlen(ctr_json_string(t)) != 64 || !c || ctr_json_type(c) != CTR_JSON_STRING || strlen(ctr_json_string(c)) != 64)
                return ctr_err(err, EINVAL, "import", "the manifest lacks the name or the checksums");
        *name = xstrdup(ctr_json_string(n));
        memcpy(tsum, ctr_json_string(t), 65);
        memcpy(csum, ctr_json_string(c), 65);
        return 0;
}

static int import_into(struct ctr_paths *p, const char *file, const char *want, const char *tmp, char **ret_name,
                       struct ctr_error *err)
{
        _cleanup_free_ char *outer = xasprintf("%s/archive.tar", tmp), *tree = xasprintf("%s/rootfs.tar", tmp);
        _cleanup_free_ char *cfgpath = xasprintf("%s/config.json", tmp), *manifest = xasprintf("%s/ctr-export.json", tmp);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", tmp), *aname = NULL;
        _cleanup_strv_ char **names = NULL;
        int r;
        /* The outer archive: decompressed to a file first, then only three known members. */
        char *unz[] = {"zstd", "-q", "-d", "-f", "-o", outer, (char *)file, NULL};
        char *cp[] = {"cp", "--", (char *)file, outer, NULL};
        if ((r = run_tool(zst(file) ? unz : cp, NULL, NULL, err)) < 0) {
                ctr_err_prefix(err, "import: %s is not a readable %s archive", file, zst(file) ? "zstd" : "tar");
                return r;
        }
        if ((r = ctr_archive_check(outer, &names, err)) < 0)
                return r;
        static const char *const want_names[] = {"ctr-export.json", "config.json", "rootfs.tar"};
        if (strv_len(names) != 3)
                return ctr_err(err, EINVAL, "import", "%s is not a ctr export (it holds %zu members, not 3)", file, strv_len(names));
        for (size_t i = 0; i < 3; i++)
                if (strcmp(names[i], want_names[i]))
                        return ctr_err(err, EINVAL, "import", "%s is not a ctr export (member '%s' where %s belongs)", file,
                                       names[i], want_names[i]);
        char *x1[] = {"tar", "--no-same-owner", "--no-same-permissions", "-C", (char *)tmp, "-xf", outer, NULL};
        if ((r = run_tool(x1, NULL, NULL, err)) < 0)
                return r;
        unlink(outer);
        int version = 0;
        char tsum[65], csum[65], got[65];
        if ((r = read_manifest(manifest, &version, &aname, tsum, csum, err)) < 0)
                return r;
        if (version > EXPORT_VERSION)
                return ctr_err(err, EPROTO, "import", "%s has export format version %d; this ctr reads version %d (upgrade ctr)",
                               file, version, EXPORT_VERSION);
        if ((r = ctr_sha256_file(tree, got, err)) < 0)
                return r;
        if (strcmp(got, tsum))
                return ctr_err(err, EBADMSG, "import", "%s: the tree's checksum does not match (corrupted archive)", file);
        if ((r = ctr_sha256_file(cfgpath, got, err)) < 0)
                return r;
        if (strcmp(got, csum))
                return ctr_err(err, EBADMSG, "import", "%s: the config's checksum does not match (corrupted archive)", file);
        strv_free(names);
        names = NULL;
        if ((r = ctr_archive_check(tree, NULL, err)) < 0)
                return r;
        if (mkdir(rootfs, 0755) < 0)
                return ctr_err_sys(err, errno, "import", "create %s", rootfs);
        char *x2[] = {"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "-p", "-C", rootfs, "-xf", tree, NULL};
        if ((r = run_tool(x2, NULL, NULL, err)) < 0)
                return r;
        unlink(tree);
        unlink(manifest);
        /* The config: the new name, a new uuid and address, dir storage. */
        struct ctr_config cfg = {0};
        if ((r = ctr_config_load(cfgpath, &cfg, err)) < 0) {
                ctr_err_prefix(err, "import: the archive's config");
                return r;
        }
        const char *name = want ? want : aname;
        if (!ctr_name_valid(name)) {
                ctr_config_free(&cfg);
                return ctr_err(err, EINVAL, "import", "'%s' is not a valid container name", name);
        }
        free(cfg.name);
        cfg.name = xstrdup(name);
        free(cfg.uuid);
        cfg.uuid = ctr_uuid_new();
        free(cfg.storage_driver);
        cfg.storage_driver = xstrdup("dir");
        free(cfg.storage_lower);
        cfg.storage_lower = NULL;
        free(cfg.net.ipv4);
        cfg.net.ipv4 = NULL;
        cfg.autostart = false;
        if (cfg.userns)
                r = ctr_userns_allocate(p, &cfg, tmp, err);
        if (r == 0 && cfg.vm) { /* the root disk, built for this machine from the imported tree */
                _cleanup_free_ char *disk = xasprintf("%s/disk.img", tmp);
                r = ctr_vm_disk_build(rootfs, disk, cfg.vm_disk, err);
        }
        if (r == 0 && (r = ctr_config_validate(&cfg, err)) == 0)
                r = ctr_config_save(cfgpath, &cfg, err);
        ctr_config_free(&cfg);
        if (r == 0)
                *ret_name = xstrdup(name);
        return r;
}

static int do_import(struct ctr_paths *p, const char *file, const char *want, char **ret_name, struct ctr_error *err)
{
        if (access(file, R_OK) < 0)
                return ctr_err_sys(err, errno, "import", "%s", file);
        if (want && !ctr_name_valid(want))
                return ctr_err(err, EINVAL, "import", "'%s' is not a valid container name", want);
        int r = ctr_mkdir_p(p->containers, 0700);
        if (r < 0)
                return ctr_err_sys(err, -r, "import", "create %s", p->containers);
        /* A .create- name: an interrupted import is swept like an interrupted create. */
        _cleanup_free_ char *tmp = xasprintf("%s/.import.create-%d", p->containers, (int)getpid());
        ctr_rm_rf(tmp);
        if (mkdir(tmp, 0700) < 0)
                return ctr_err_sys(err, errno, "import", "create %s", tmp);
        r = import_into(p, file, want, tmp, ret_name, err);
        if (r == 0) {
                _cleanup_free_ char *final = ctr_path_container(p, *ret_name);
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0)
                        r = errno == EEXIST || errno == ENOTEMPTY
                                    ? ctr_err(err, EEXIST, "import", "a container named %s already exists", *ret_name)
                                    : ctr_err_sys(err, errno, "import", "rename %s", tmp);
        }
        if (r < 0)
                ctr_rm_rf(tmp);
        return r;
}

int cmd_export(int argc, char **argv)
{
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "export", .min_pos = 2, .max_pos = 2, .pos_name = "NAME and FILE"};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        struct ctr_error err = {0};
        if (do_export(&p, cp.pos[0], cp.pos[1], &err) < 0)
                r = ctr_cli_fail("export", cp.pos[0], &err);
        ctr_paths_free(&p);
        return r;
}

int cmd_import(int argc, char **argv)
{
        struct ctr_paths p = {0};
        struct ctr_cli_parse cp = {.verb = "import", .min_pos = 1, .max_pos = 2, .pos_name = "FILE"};
        int r = ctr_cli_begin(argc, argv, &cp, &p);
        if (r)
                return CTR_CLI_RETURN(r);
        struct ctr_error err = {0};
        _cleanup_free_ char *name = NULL;
        if (do_import(&p, cp.pos[0], cp.npos == 2 ? cp.pos[1] : NULL, &name, &err) < 0)
                r = ctr_cli_fail("import", cp.npos == 2 ? cp.pos[1] : NULL, &err);
        else if (!arg_quiet)
                printf("%s\n", name);
        ctr_paths_free(&p);
        return r;
}
