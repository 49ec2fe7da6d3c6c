/* Lifecycle verbs over the state root. Every change takes the container's flock; create and
 * destroy use renames so a crash leaves either the old or the new tree, never half of one. */
#define _GNU_SOURCE
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../rootfs/rootfs.h"
#include "control.h"
#include "monitor.h"
#include "network.h"
#include "spawn.h"
#include "userns.h"
#include "../base/util.h"
#include "../vm/image.h"
#include "../vm/vm.h"

const char *ctr_host_arch(void)
{
        static struct utsname u;
        uname(&u);
        if (!strcmp(u.machine, "x86_64"))
                return "amd64";
        if (!strcmp(u.machine, "aarch64"))
                return "arm64";
        return u.machine;
}

int ctr_container_load(const struct ctr_paths *p, const char *name, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = ctr_path_config(p, name);
        if (!ctr_name_valid(name))
                return ctr_err(err, EINVAL, "name",
                               "'%s' is not a valid container name (1-64 characters of A-Z a-z 0-9 _ . -, "
                               "starting with a letter or digit)",
                               name);
        if (access(path, F_OK) < 0)
                return ctr_err(err, ENOENT, "lookup", "no such container");
        int r = ctr_config_load(path, ret, err);
        if (r < 0)
                return r;
        if (strcmp(ret->name, name)) {
                ctr_config_free(ret);
                return ctr_err(err, EINVAL, "config", "%s names container '%s', not '%s'", path, ret->name, name);
        }
        return 0;
}

/* --- the list's summary -----------------------------------------------------------------------
 * What `ctr list` shows of a container, kept beside its config as NAME/.summary and believed
 * only while config.json is the very file it was taken from (device, inode, size, mtime): any
 * write of the config (always a new inode, by rename) or a hand edit makes it stale, and the
 * next list reads the config once and writes it again. */

#define SUMMARY_MAGIC "ctr-summary 1"

static void config_identity(const struct stat *st, char *buf, size_t len)
{
        snprintf(buf, len, "config=%llu %llu %lld %lld %ld", (unsigned long long)st->st_dev,
                 (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                 st->st_mtim.tv_nsec);
}

static char *summary_text(const struct ctr_config *c, const char *identity)
{
        const char *vals[] = {c->template_name, c->net.ipv6};
        for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
                if (vals[i] && strchr(vals[i], '\n'))
                        return NULL;
        return xasprintf(SUMMARY_MAGIC "\n%s\n%s%s\nvm=%d\nvcpus=%u\nmemory=%llu\nnet=%s\n%s%s\n", identity,
                         c->template_name ? "template=" : "template", c->template_name ? c->template_name : "",
                         c->vm ? 1 : 0, c->vm_vcpus, (unsigned long long)c->vm_memory, ctr_net_mode_name(c->net_mode),
                         c->net.ipv6 ? "ipv6=" : "ipv6", c->net.ipv6 ? c->net.ipv6 : "");
}

/* The summary's fields into a zeroed config; -EBADMSG when it is not one of ours for identity. */
static int summary_parse(char *text, const char *identity, const char *name, struct ctr_config *ret)
{
        char *save = NULL, *l = strtok_r(text, "\n", &save);
        if (!l || strcmp(l, SUMMARY_MAGIC) || !(l = strtok_r(NULL, "\n", &save)) || strcmp(l, identity))
                return -EBADMSG;
        struct ctr_config c = {0};
        unsigned seen = 0;
        while ((l = strtok_r(NULL, "\n", &save))) {
                char *eq = strchr(l, '='), *v = eq ? eq + 1 : NULL, *end = NULL;
                size_t k = eq ? (size_t)(eq - l) : strlen(l);
                errno = 0;
                if (k == 8 && !strncmp(l, "template", k))
                        c.template_name = v ? xstrdup(v) : NULL, seen |= 1;
                else if (k == 4 && !strncmp(l, "ipv6", k))
                        c.net.ipv6 = v ? xstrdup(v) : NULL, seen |= 2;
                else if (v && k == 2 && !strncmp(l, "vm", k) && (!strcmp(v, "0") || !strcmp(v, "1")))
                        c.vm = *v == '1', seen |= 4;
                else if (v && k == 5 && !strncmp(l, "vcpus", k) && (c.vm_vcpus = (unsigned)strtoul(v, &end, 10), !*end))
                        seen |= 8;
                else if (v && k == 6 && !strncmp(l, "memory", k) && (c.vm_memory = strtoull(v, &end, 10), !*end))
                        seen |= 16;
                else if (v && k == 3 && !strncmp(l, "net", k) && ctr_net_mode_from_name(v, &c.net_mode) == 0)
                        seen |= 32;
                else
                        break;
        }
        if (seen != 63 || l || errno) {
                ctr_config_free(&c);
                return -EBADMSG;
        }
        c.name = xstrdup(name);
        *ret = c;
        return 0;
}

int ctr_container_load_brief(const struct ctr_paths *p, const char *name, struct ctr_config *ret, struct ctr_error *err)
{
        _cleanup_free_ char *path = ctr_path_config(p, name);
        _cleanup_free_ char *spath = xasprintf("%s/%s/.summary", p->containers, name);
        struct stat before, after;
        char identity[160];
        if (ctr_name_valid(name) && stat(path, &before) == 0) {
                config_identity(&before, identity, sizeof(identity));
                _cleanup_free_ char *text = NULL;
                if (ctr_read_file(spath, 4096, &text, NULL) == 0 && summary_parse(text, identity, name, ret) == 0)
                        return 0;
        }
        int r = ctr_container_load(p, name, ret, err);
        if (r < 0)
                return r;
        /* Written only when the config did not change under the read. */
        if (stat(path, &after) == 0 && before.st_ino == after.st_ino && before.st_dev == after.st_dev &&
            before.st_size == after.st_size && before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
            before.st_mtim.tv_nsec == after.st_mtim.tv_nsec) {
                _cleanup_free_ char *t = summary_text(ret, identity);
                if (t)
                        (void)ctr_write_atomic_volatile(spath, t, strlen(t), 0600);
        }
        return 0;
}

/* The container's directory, whether or not its config.json is there or readable. */
static bool container_dir_exists(const struct ctr_paths *p, const char *name)
{
        struct stat sb;
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        return ctr_name_valid(name) && lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Temp directories of creates and destroys are dot-names that are never valid container names. */
static void sweep_leftovers(const struct ctr_paths *p)
{
        DIR *d = opendir(p->containers);
        struct dirent *de;
        if (!d)
                return;
        while ((de = readdir(d))) {
                const char *tag = strstr(de->d_name, ".create-");
                if (!tag)
                        tag = strstr(de->d_name, ".destroy-");
                if (de->d_name[0] != '.' || !tag)
                        continue;
                pid_t pid = atoi(strchr(tag + 1, '-') + 1);
                if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
                        continue; /* its owner is still at work */
                _cleanup_free_ char *path = xasprintf("%s/%s", p->containers, de->d_name);
                ctr_rm_rf(path);
        }
        closedir(d);
}

void ctr_template_choice_free(struct ctr_template_choice *c)
{
        free(c->exe);
        free(c->release);
        free(c->dist);
        free(c->mirror);
        memset(c, 0, sizeof(*c));
}

int ctr_template_choose(const char *tpl, const char *dist, const char *release, const char *mirror,
                        struct ctr_template_choice *ret, struct ctr_error *err)
{
        struct ctr_template_meta meta;
        memset(ret, 0, sizeof(*ret));
        ret->exe = ctr_template_find(tpl, err);
        if (!ret->exe)
                return -err->errnum;
        ctr_template_meta(ret->exe, &meta);
        ret->cache = meta.cache;
        /* Release and dist become path components of the cache: names only. */
        if (release && !ctr_name_valid(release))
                return ctr_err(err, EINVAL, "release", "'%s' is not a valid release name", release);
        if (dist && !ctr_name_valid(dist))
                return ctr_err(err, EINVAL, "dist", "'%s' is not a valid distribution name", dist);
        ret->release = release ? xstrdup(release) : *meta.default_release ? xstrdup(meta.default_release) : NULL;
        ret->dist = dist ? xstrdup(dist) : NULL;
        const char *env = getenv("CTR_MIRROR");
        if (mirror)
                ret->mirror = xstrdup(mirror);
        else if (env && *env)
                ret->mirror = xstrdup(env);
        else
                ctr_template_apt_mirror("/etc", dist ? dist : meta.distribution, &ret->mirror);
        return 0;
}

static int create(const struct ctr_paths *p, struct ctr_config *cfg, const struct ctr_create_opts *o,
                  struct ctr_error *err);

/* An interrupt anywhere in a create (not only while the template runs) must leave nothing: the
 * signals stay blocked until the name is claimed or everything is removed; one that arrived
 * meanwhile fails the create, and after a success it takes effect as usual. */
int ctr_container_create(const struct ctr_paths *p, struct ctr_config *cfg, const struct ctr_create_opts *o,
                         struct ctr_error *err)
{
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        int r = create(p, cfg, o, err);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

static bool interrupted(void)
{
        sigset_t pending;
        sigpending(&pending);
        return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) || sigismember(&pending, SIGHUP);
}

/* Without idmapped mounts a user namespace's tree is chowned, so it cannot be the shared lower. */
static int userns_no_overlay(const struct ctr_create_opts *o, const char *upper, const char *work, const char *where,
                             struct ctr_error *err)
{
        if (o->storage && !strcmp(o->storage, "overlay"))
                return ctr_err(err, EOPNOTSUPP, "storage",
                               "--userns with overlay storage needs idmapped mounts, which %s refuses (use --storage dir)",
                               where);
        if (rmdir(upper) < 0 || rmdir(work) < 0)
                return ctr_err_sys(err, errno, "create", "remove %s", upper);
        return 0;
}

/* --from NAME: the overlay's lower is NAME's tree (its upper over its own lower when it is an
 * overlay itself), which must stay still: a running container is refused. */
static int from_source(const struct ctr_paths *p, const char *name, struct ctr_config *cfg, char **ret_lower,
                       struct ctr_error *err)
{
        struct ctr_config src = {0};
        struct ctr_state st = {0};
        bool stale;
        int r = ctr_container_load(p, name, &src, err);
        if (r < 0)
                return r;
        if ((r = ctr_state_probe(p, name, &st, &stale, err)) == 0 && st.status != CTR_STOPPED)
                r = ctr_err(err, EBUSY, "from", "container %s is %s; its tree must not change under a copy", name,
                            ctr_status_name(st.status));
        if (r == 0 && !ctr_overlay_supported())
                r = ctr_err(err, EOPNOTSUPP, "from", "the kernel has no overlayfs");
        /* An idmapped tree is stored unshifted, like any other; a chowned one is its range's. */
        if (r == 0 && src.userns && src.idmap.chowned)
                r = ctr_err(err, EINVAL, "from", "container %s's tree was chowned to its user namespace's range; it is not shared",
                            name);
        if (r == 0) {
                _cleanup_free_ char *dir = ctr_path_container(p, name);
                *ret_lower = !strcmp(src.storage_driver, "overlay")
                                     ? xasprintf("%s/upper:%s", dir, src.storage_lower)
                                     : xasprintf("%s/rootfs", dir);
                free(cfg->template_name);
                cfg->template_name = xstrdup(src.template_name ? src.template_name : name);
                free(cfg->template_release);
                cfg->template_release = src.template_release ? xstrdup(src.template_release) : NULL;
        }
        ctr_state_free(&st);
        ctr_config_free(&src);
        return r;
}

static int create(const struct ctr_paths *p, struct ctr_config *cfg, const struct ctr_create_opts *o,
                  struct ctr_error *err)
{
        _cleanup_free_ char *final = ctr_path_container(p, cfg->name);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.create-%d", p->containers, cfg->name, (int)getpid());
        bool ranged = false; /* a range is in the host's record for this create */
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", tmp);
        _cleanup_free_ char *upper = xasprintf("%s/upper", tmp);
        _cleanup_free_ char *work = xasprintf("%s/work", tmp);
        _cleanup_free_ char *cfgpath = xasprintf("%s/config.json", tmp);
        _cleanup_free_ char *key = NULL, *lower = NULL;
        struct ctr_template_choice tc = {0};
        int r;

        r = ctr_config_validate(cfg, err);
        if (r < 0)
                return r;
        if (access(final, F_OK) == 0)
                return ctr_err(err, EEXIST, "create", "a container with this name already exists");
        _cleanup_free_ char *from_lower = NULL;
        if (o->from && (r = from_source(p, o->from, cfg, &from_lower, err)) < 0)
                return r;
        bool named_after = !cfg->template_name;
        if (!cfg->template_name)
                cfg->template_name = xstrdup(cfg->name);
        if (!cfg->template_arch)
                cfg->template_arch = xstrdup(ctr_host_arch());
        r = ctr_template_choose(cfg->template_name, o->dist, o->release ? o->release : cfg->template_release,
                                o->mirror, &tc, err);
        if (r < 0) {
                if (named_after && r == -ENOENT)
                        ctr_err(err, ENOENT, "template",
                                "no template named '%s' (name one with -t; see ctr template list)", cfg->name);
                goto out;
        }
        free(cfg->template_release);
        cfg->template_release = tc.release ? xstrdup(tc.release) : NULL;
        free(cfg->template_dist);
        cfg->template_dist = tc.dist ? xstrdup(tc.dist) : NULL;

        /* ctr run caches every template: the second run of a sandbox is an overlay in milliseconds. */
        if (o->cache)
                tc.cache = true;
        bool overlay;
        if (cfg->vm && ((o->storage && !strcmp(o->storage, "overlay")) || from_lower || cfg->userns)) {
                /* The VM boots an ext4 image of its own tree: no shared lower, no id shifting. */
                r = ctr_err(err, EINVAL, "vm", "a VM's disk is built from a tree of its own: --storage overlay, "
                                               "--from and --userns do not apply with --vm");
                goto out;
        }
        /* The kernel is checked now, not at the first start: a bad --kernel creates nothing. */
        if (cfg->vm && (r = ctr_vm_kernel_check(cfg->vm_kernel, cfg->vm_initrd, err)) < 0)
                goto out;
        if (cfg->vm)
                overlay = false;
        else if (from_lower)
                overlay = true; /* checked by from_source */
        else if (!o->storage)
                overlay = tc.cache && ctr_overlay_supported();
        else if (!strcmp(o->storage, "overlay")) {
                if (!tc.cache) {
                        r = ctr_err(err, EINVAL, "storage",
                                    "template %s builds each container afresh, so it has no cached tree to lay an "
                                    "overlay on (use --storage dir)",
                                    cfg->template_name);
                        goto out;
                }
                if (!ctr_overlay_supported()) {
                        r = ctr_err(err, EOPNOTSUPP, "storage", "the kernel has no overlayfs (use --storage dir)");
                        goto out;
                }
                overlay = true;
        } else if (!strcmp(o->storage, "dir"))
                overlay = false;
        else {
                r = ctr_err(err, EINVAL, "storage", "'%s' is not a storage driver (overlay, dir)", o->storage);
                goto out;
        }

        /* A fixed address (--ip) is taken now, so the name and the address are claimed together. */
        r = ctr_network_reserve(p, cfg, err);
        if (r < 0)
                goto out;
        r = ctr_mkdir_p(p->containers, 0700);
        if (r < 0) {
                r = ctr_err_sys(err, -r, "create", "create %s", p->containers);
                goto release;
        }
        sweep_leftovers(p);
        if (mkdir(tmp, 0700) < 0) {
                r = ctr_err_sys(err, errno, "create", "create %s", tmp);
                goto release;
        }
        if (mkdir(rootfs, 0755) < 0 || (overlay && (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0))) {
                r = ctr_err_sys(err, errno, "create", "create %s", rootfs);
                goto fail;
        }
        /* A user namespace's range is taken first (a full range fails before any template work);
         * a filesystem without idmapped mounts means a chowned private copy, never the shared lower. */
        bool chown_tree = false;
        if (cfg->userns && ((r = ctr_userns_allocate(p, cfg, tmp, err)) < 0 || !(ranged = true) ||
                            (r = ctr_userns_need_chown(p, &cfg->idmap, tmp, &chown_tree, err)) < 0))
                goto fail;
        if (chown_tree && overlay && (r = userns_no_overlay(o, upper, work, tmp, err)) < 0)
                goto fail;
        if (chown_tree)
                overlay = false;
        struct ctr_template_args ta = {
                .template = cfg->template_name,
                .rootfs = rootfs,
                .name = cfg->name,
                .dist = tc.dist,
                .release = tc.release,
                .arch = cfg->template_arch,
                .mirror = tc.mirror,
                .cache = p->cache,
                .progress = o->progress,
                .userdata = o->userdata,
        };
        if (from_lower) {
                free(cfg->storage_driver);
                cfg->storage_driver = xstrdup("overlay");
                free(cfg->storage_lower);
                cfg->storage_lower = xstrdup(from_lower);
        } else if (tc.cache) {
                key = ctr_cache_key(cfg->template_name, tc.dist, tc.release, cfg->template_arch);
                if (ctr_cache_lookup(p->cache, key, &lower) < 0) {
                        ta.name = key;
                        r = ctr_cache_build(&ta, p->cache, key, false, &lower, err);
                        if (r < 0)
                                goto fail;
                }
                if (overlay && cfg->userns && (r = ctr_userns_need_chown(p, &cfg->idmap, lower, &chown_tree, err)) < 0)
                        goto fail;
                if (chown_tree && overlay) {
                        if ((r = userns_no_overlay(o, upper, work, lower, err)) < 0)
                                goto fail;
                        overlay = false;
                }
                if (overlay) {
                        free(cfg->storage_driver);
                        cfg->storage_driver = xstrdup("overlay");
                        free(cfg->storage_lower);
                        cfg->storage_lower = xstrdup(lower);
                } else if ((r = ctr_cache_copy(lower, rootfs, err)) < 0)
                        goto fail;
        } else if ((r = ctr_template_run(&ta, err)) < 0)
                goto fail;

        /* A tree taken --from another container keeps that one's files as they are. */
        struct ctr_guest_setup gs = {.dir = overlay ? upper : rootfs, .lower = overlay ? lower : NULL,
                                     .hostname = cfg->hostname};
        if (!from_lower && (r = ctr_rootfs_configure(&gs, err)) < 0)
                goto fail;
        if (chown_tree) {
                cfg->idmap.chowned = true;
                r = ctr_rootfs_shift_tree(rootfs, cfg->idmap.uid, cfg->idmap.gid, cfg->idmap.count, err);
                if (r < 0)
                        goto fail;
        }
        if (cfg->vm) {
                _cleanup_free_ char *disk = xasprintf("%s/disk.img", tmp);
                r = ctr_vm_disk_build(rootfs, disk, cfg->vm_disk, err);
                if (r < 0)
                        goto fail;
        }
        if (!cfg->uuid)
                cfg->uuid = ctr_uuid_new();
        r = ctr_config_validate(cfg, err);
        if (r < 0)
                goto fail;
        r = ctr_config_save_sync(cfgpath, cfg, !o->ephemeral, err);
        if (r < 0)
                goto fail;
        if (interrupted()) {
                r = ctr_err(err, EINTR, "create", "interrupted");
                goto fail;
        }
        /* The name is claimed atomically: of concurrent creates exactly one rename wins. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY) {
                        /* The winner of the race owns the name, and with it the lease. */
                        ctr_rm_rf(tmp);
                        if (ranged)
                                ctr_userns_release(p, cfg->name, &cfg->idmap);
                        r = ctr_err(err, EEXIST, "create", "a container with this name already exists");
                        goto out;
                }
                r = ctr_err_sys(err, errno, "create", "rename %s", tmp);
                goto fail;
        }
        r = 0;
        goto out;
fail:
        ctr_rm_rf(tmp);
        if (ranged)
                ctr_userns_release(p, cfg->name, &cfg->idmap);
release:
        if (access(final, F_OK) < 0)
                ctr_network_release(p, cfg->name, NULL);
out:
        ctr_template_choice_free(&tc);
        return r;
}

int ctr_container_cleanup_stale(const struct ctr_paths *p, const char *name, const struct ctr_state *st,
                                struct ctr_error *err)
{
        struct ctr_cg_host cg;
        int r = 0;
        if (st && st->cgroup && ctr_cgroup_detect(&cg, NULL) == 0 && ctr_cgroup_path_ours(&cg, st->cgroup)) {
                if (ctr_cgroup_populated(st->cgroup))
                        ctr_cgroup_kill(st->cgroup, NULL);
                r = ctr_cgroup_remove(st->cgroup, 5000, err);
        }
        /* v1: the path is derived from the name, whatever the state file says. */
        if (ctr_cgroup_v1_available()) {
                _cleanup_free_ char *leaf = ctr_monitor_cgroup_leaf(p, name);
                _cleanup_free_ char *rel = xasprintf(CTR_CGROUP_PARENT "/%s", leaf);
                ctr_cgroup_v1_remove(rel);
        }
        if (st && st->net_mode && !strcmp(st->net_mode, "bridge")) {
                int n = ctr_network_teardown(p, name, err);
                if (n < 0 && r >= 0)
                        r = n;
        }
        _cleanup_free_ char *rundir = ctr_path_rundir(p, name);
        int q = ctr_rm_rf(rundir);
        if (q < 0 && r >= 0)
                r = ctr_err_sys(err, -q, "cleanup", "remove %s", rundir);
        return r;
}

/* Wait for a monitor that is tearing down (init already gone) to finish. */
static int wait_monitor_gone(const struct ctr_state *st, int timeout_ms)
{
        _cleanup_close_ int pfd = ctr_pidfd_open(st->monitor_pid, 0);
        if (pfd < 0 || !ctr_proc_alive(st->monitor_pid, st->monitor_start))
                return 0;
        struct pollfd pf = {.fd = pfd, .events = POLLIN};
        int r = poll(&pf, 1, timeout_ms);
        return r > 0 ? 0 : -ETIMEDOUT;
}

static int settle_state(const struct ctr_paths *p, const char *name, struct ctr_state *st, struct ctr_error *err)
{
        bool stale;
        int r = ctr_state_probe(p, name, st, &stale, err);
        if (r < 0)
                return r;
        if (st->status == CTR_STOPPING && !stale) {
                if (wait_monitor_gone(st, 10000) < 0)
                        return ctr_err(err, EBUSY, "state", "the container is still stopping");
                ctr_state_free(st);
                r = ctr_state_probe(p, name, st, &stale, err);
                if (r < 0)
                        return r;
        }
        if (stale) {
                r = ctr_container_cleanup_stale(p, name, st, err);
                ctr_state_free(st);
                st->status = CTR_STOPPED;
                if (r < 0)
                        return r;
        }
        return 0;
}

static void __attribute__((noreturn)) monitor_process(const struct ctr_paths *p, const struct ctr_config *cfg,
                                                      int report_fd)
{
        /* Detach: new session, reparented away from the caller, stdio to the monitor log. */
        setsid();
        pid_t pid = fork();
        if (pid < 0) {
                struct ctr_error e;
                ctr_err_sys(&e, errno, "monitor", "fork");
                ctr_sync_die(report_fd, &e, 125);
        }
        if (pid > 0)
                _exit(0);
        if (report_fd != 3) {
                dup3(report_fd, 3, O_CLOEXEC);
                report_fd = 3;
        }
        /* --debug: the caller's stderr, for the first start's compiled spec only. */
        struct ctr_paths *mp = (struct ctr_paths *)p;
        if (mp->debug_fd >= 0) {
                mp->debug_fd = dup3(mp->debug_fd, 4, O_CLOEXEC) == 4 ? 4 : -1;
        }
        /* The caller's lock fd and anything else it had open are not the monitor's business. */
        if (syscall(SYS_close_range, mp->debug_fd >= 0 ? 5 : 4, ~0U, 0) < 0) {
                struct ctr_error e = {0};
                ctr_err_sys(&e, errno, "monitor", "close the caller's descriptors");
                ctr_sync_die(report_fd, &e, 125);
        }
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        char *logp = ctr_path_monitor_log(p, cfg->name);
        struct stat st;
        /* A few lines per run: start afresh once it has grown past 256 KiB. */
        int trunc = stat(logp, &st) == 0 && st.st_size > (256 << 10) ? O_TRUNC : 0;
        int log = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | trunc, 0640);
        free(logp);
        dup2(nul, 0);
        dup2(log >= 0 ? log : nul, 1);
        dup2(log >= 0 ? log : nul, 2);
        if (nul > 2)
                close(nul);
        if (log > 2)
                close(log);
        if (chdir("/") < 0)
                _exit(125);
        umask(022);
        /* The caller holds the lock until our report: the monitor needs no copy of it. */
        struct ctr_monitor_args a = {.paths = p, .cfg = cfg, .foreground = false, .report_fd = report_fd, .lock_fd = -1};
        /* exit(), not _exit(): the monitor is a whole program's life, and leak checkers run at exit. */
        int code = ctr_monitor_run(&a);
        ctr_config_free((struct ctr_config *)cfg);
        ctr_paths_free(mp);
        exit(code);
}

/* What start and run share: the config, the lock, a stopped state, the rootfs there. */
static int start_prepare(const struct ctr_paths *p, const char *name, struct ctr_config *cfg, int *ret_lock,
                         struct ctr_error *err)
{
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *rootfs = ctr_path_rootfs(p, name);
        int r = ctr_container_load(p, name, cfg, err);
        if (r < 0)
                return r;
        if ((r = ctr_lock_container(p, name, &lock, err)) < 0 || (r = settle_state(p, name, &st, err)) < 0)
                goto out;
        if (st.status != CTR_STOPPED) {
                r = ctr_err(err, EBUSY, "state", "the container is already %s", ctr_status_name(st.status));
                goto out;
        }
        if (access(rootfs, F_OK) < 0) {
                r = ctr_err_sys(err, errno, "start", "rootfs %s", rootfs);
                goto out;
        }
        *ret_lock = TAKE_FD(lock);
out:
        ctr_state_free(&st);
        return r;
}

int ctr_container_run(const struct ctr_paths *p, const char *name, const struct ctr_monitor_args *run, int *ret_code,
                      struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        int lock = -1;
        int r = start_prepare(p, name, &cfg, &lock, err);
        if (r == 0) {
                struct ctr_monitor_args a = *run;
                a.paths = p;
                a.cfg = &cfg;
                a.foreground = false;
                a.report_fd = -1;
                a.lock_fd = lock;
                *ret_code = ctr_monitor_run(&a);
        }
        ctr_config_free(&cfg);
        return r;
}

/* ctr start --vm of a container created without --vm, under the start's lock: its tree becomes
 * its root disk (built beside the tree as create --vm builds it) and its mode vm, saved only
 * once the disk is whole. A user namespace's idmapped tree is stored unshifted, as the guest
 * wants it; the VM needs no id range, so the range is given back. *ret_disk names a disk this
 * call made, for convert_undo. */
static int convert_to_vm(const struct ctr_paths *p, struct ctr_config *cfg, char **ret_disk, struct ctr_error *err)
{
        *ret_disk = NULL;
        if (!strcmp(cfg->storage_driver, "overlay"))
                return ctr_err(err, EINVAL, "vm",
                               "the tree is an overlay on a template's cache, and a VM boots a disk built from a tree "
                               "of its own (create it with --storage dir, or with --vm)");
        if (cfg->userns && cfg->idmap.chowned)
                return ctr_err(err, EINVAL, "vm",
                               "the tree was chowned to the user namespace's ids at create, and a VM's disk needs "
                               "them unshifted (create it with --no-userns, or with --vm)");
        if (cfg->net_mode == CTR_NET_HOST || cfg->net_mode == CTR_NET_NETNS)
                return ctr_err(err, EINVAL, "vm", "a VM cannot share a network namespace (network mode %s)",
                               ctr_net_mode_name(cfg->net_mode));
        int r = ctr_vm_host_check(err);
        if (r < 0 || (r = ctr_vm_kernel_check(cfg->vm_kernel, cfg->vm_initrd, err)) < 0)
                return r;
        _cleanup_free_ char *rootfs = ctr_path_rootfs(p, cfg->name);
        _cleanup_free_ char *dir = ctr_path_container(p, cfg->name);
        _cleanup_free_ char *disk = xasprintf("%s/disk.img", dir);
        _cleanup_free_ char *cfgpath = ctr_path_config(p, cfg->name);
        r = ctr_vm_disk_build(rootfs, disk, cfg->vm_disk, err);
        if (r < 0)
                return r;
        struct ctr_idmap idmap = cfg->idmap;
        bool userns = cfg->userns;
        cfg->vm = true;
        cfg->userns = false;
        cfg->idmap = (struct ctr_idmap){0};
        r = ctr_config_validate(cfg, err);
        if (r >= 0)
                r = ctr_config_save_sync(cfgpath, cfg, true, err);
        if (r < 0) {
                cfg->vm = false;
                cfg->userns = userns;
                cfg->idmap = idmap;
                unlink(disk);
                return r;
        }
        if (userns)
                ctr_userns_release(p, cfg->name, &idmap);
        *ret_disk = TAKE_PTR(disk);
        return 0;
}

/* A start --vm that converted and then failed: the container as it was, a user namespace's ids
 * taken again as create takes them (the range given back may be another's by now; its tree is
 * stored unshifted, so any free range serves). */
static void convert_undo(const struct ctr_paths *p, const char *name, const char *disk, bool userns)
{
        struct ctr_config cfg = {0};
        struct ctr_error e = {0};
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        _cleanup_free_ char *cfgpath = ctr_path_config(p, name);
        if (ctr_container_load(p, name, &cfg, &e) == 0) {
                cfg.vm = false;
                cfg.userns = userns;
                int r = userns ? ctr_userns_allocate(p, &cfg, dir, &e) : ctr_config_save_sync(cfgpath, &cfg, true, &e);
                if (r == 0)
                        unlink(disk);
                else
                        fprintf(stderr, "ctr: start %s: undo --vm: %s: %s\n", name, e.op, e.msg);
        }
        ctr_config_free(&cfg);
}

int ctr_container_start(const struct ctr_paths *p, const char *name, bool foreground, int *ret_code,
                        struct ctr_error *err)
{
        return ctr_container_start_as(p, name, foreground, false, ret_code, err);
}

int ctr_container_start_as(const struct ctr_paths *p, const char *name, bool foreground, bool to_vm, int *ret_code,
                           struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *converted = NULL;
        bool was_userns = false;
        int r;

        *ret_code = 0;
        r = start_prepare(p, name, &cfg, &lock, err);
        if (r < 0)
                goto out;
        was_userns = cfg.userns;
        /* A VM that cannot boot here is refused before the cgroup, network and monitor exist
         * (convert_to_vm checked already, before it built the disk). */
        if (to_vm && !cfg.vm && (r = convert_to_vm(p, &cfg, &converted, err)) < 0)
                goto out;
        if (cfg.vm && !converted && (r = ctr_vm_host_check(err)) < 0)
                goto out;
        r = ctr_mkdir_p(p->log, 0750);
        if (r < 0) {
                r = ctr_err_sys(err, -r, "start", "create %s", p->log);
                goto out;
        }

        if (foreground) {
                /* The monitor releases the lock once it is running, so other verbs can act. */
                struct ctr_monitor_args a = {
                        .paths = p, .cfg = &cfg, .foreground = true, .report_fd = -1, .lock_fd = TAKE_FD(lock)};
                *ret_code = ctr_monitor_run(&a);
                r = 0;
                goto out;
        }

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = ctr_err_sys(err, errno, "start", "socketpair");
                goto out;
        }
        pid_t pid = fork();
        if (pid < 0) {
                r = ctr_err_sys(err, errno, "start", "fork");
                close(sv[0]);
                close(sv[1]);
                goto out;
        }
        if (pid == 0) {
                close(sv[0]);
                monitor_process(p, &cfg, sv[1]);
        }
        close(sv[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        struct ctr_sync_msg m;
        int q = ctr_sync_recv(sv[0], &m, NULL);
        close(sv[0]);
        if (q > 0 && m.step == CTR_SYNC_GO)
                r = 0;
        else if (q > 0 && m.step == CTR_SYNC_ERROR) {
                err->errnum = m.errnum > 0 ? m.errnum : EIO;
                memcpy(err->op, m.op, sizeof(err->op));
                memcpy(err->msg, m.msg, sizeof(err->msg));
                r = -err->errnum;
        } else {
                _cleanup_free_ char *logp = ctr_path_monitor_log(p, name);
                r = ctr_err(err, EIO, "monitor", "the monitor died during start (see %s)", logp);
        }
out:
        if (r < 0 && converted)
                convert_undo(p, name, converted, was_userns);
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

int ctr_container_stop(const struct ctr_paths *p, const char *name, int timeout, bool force_kill,
                       struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1, sock = -1;
        bool stale;
        int r;

        r = ctr_container_load(p, name, &cfg, err);
        if (r < 0 && force_kill && container_dir_exists(p, name)) {
                /* A kill needs nothing from the config: a damaged one must not keep it running. */
                timeout = 0;
                r = 0;
        } else if (r < 0)
                return r;
        if (timeout < 0)
                timeout = cfg.stop_timeout;
        r = ctr_lock_container(p, name, &lock, err);
        if (r < 0)
                goto out;
        r = ctr_state_probe(p, name, &st, &stale, err);
        if (r < 0)
                goto out;
        if (stale) {
                r = ctr_container_cleanup_stale(p, name, &st, err);
                goto out;
        }
        if (st.status == CTR_STOPPED)
                goto out;
        r = ctr_ctl_connect(p, name, &sock, err);
        if (r >= 0)
                r = ctr_ctl_send(sock, CTR_CTL_STOP, timeout, force_kill, NULL, 0);
        if (r < 0) {
                r = ctr_err_sys(err, -r, "stop", "cannot reach the monitor (pid %d)", (int)st.monitor_pid);
                goto out;
        }
        /* The monitor closes our connection once the container is torn down. Should it hang,
         * give it the stop timeout plus a grace period, then end it: init dies with it. */
        uint64_t deadline = ctr_now_ms() + (uint64_t)timeout * 1000 + 15000;
        for (;;) {
                struct pollfd pf = {.fd = sock, .events = POLLIN};
                uint64_t now = ctr_now_ms();
                if (now >= deadline) {
                        if (ctr_proc_alive(st.monitor_pid, st.monitor_start))
                                kill(st.monitor_pid, SIGKILL);
                        wait_monitor_gone(&st, 2000);
                        r = ctr_container_cleanup_stale(p, name, &st, err);
                        if (r >= 0)
                                r = ctr_err(err, ETIMEDOUT, "stop", "the monitor did not finish; it was killed");
                        break;
                }
                int n = poll(&pf, 1, (int)(deadline - now));
                if (n < 0 && errno != EINTR) {
                        r = ctr_err_sys(err, errno, "stop", "poll");
                        break;
                }
                if (n > 0) {
                        char buf[64];
                        if (recv(sock, buf, sizeof(buf), 0) <= 0) {
                                /* Make sure the monitor has exited, so a following start sees a clean slate. */
                                wait_monitor_gone(&st, 5000);
                                r = 0;
                                break;
                        }
                }
        }
out:
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

static const char unit_template[] =
#include "ctr-unit.h"
        ;

static int run_systemctl(const char *a, const char *b)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (nul >= 0)
                        dup2(nul, 1), dup2(nul, 2);
                execlp("systemctl", "systemctl", a, b, (char *)NULL);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* ctr@.service where `make install` put none: in /etc/systemd/system, running this binary. */
static int install_unit(struct ctr_error *err)
{
        static const char *const dirs[] = {"/etc/systemd/system", "/usr/local/lib/systemd/system",
                                           "/usr/lib/systemd/system", "/lib/systemd/system"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/ctr@.service", dirs[i]);
                if (access(p, F_OK) == 0)
                        return 0;
        }
        char exe[4096];
        ssize_t n = ctr_self_exe(exe, sizeof(exe));
        if (n <= 0)
                return ctr_err_sys(err, errno, "autostart", "find the ctr binary");
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        *slash = 0;
        /* The template names the binary as @BINDIR@/ctr. */
        size_t cap = sizeof(unit_template) + 4 * strlen(exe);
        _cleanup_free_ char *text = malloc(cap);
        if (!text)
                abort();
        size_t o = 0;
        for (const char *t = unit_template; *t;) {
                if (!strncmp(t, "@BINDIR@", 8)) {
                        o += snprintf(text + o, cap - o, "%s", exe);
                        t += 8;
                } else
                        text[o++] = *t++;
        }
        text[o] = 0;
        int r = ctr_write_atomic("/etc/systemd/system/ctr@.service", text, o, 0644);
        if (r < 0)
                return ctr_err_sys(err, -r, "autostart", "write /etc/systemd/system/ctr@.service");
        if (run_systemctl("daemon-reload", NULL) < 0)
                return ctr_err(err, EIO, "autostart", "systemctl daemon-reload failed");
        return 0;
}

/* autostart: enable or disable ctr@NAME.service where systemd manages the host. */
static int autostart_unit(const struct ctr_paths *p, const char *name, bool enable, struct ctr_error *err)
{
        if (access("/run/systemd/system", F_OK) < 0)
                return ctr_err(err, EOPNOTSUPP, "autostart",
                               "systemd is not the host's init manager (no /run/systemd/system): start the "
                               "container from the host's own boot scripts instead");
        if (strcmp(p->root, "/var/lib/ctr"))
                return ctr_err(err, EINVAL, "autostart",
                               "ctr@.service starts containers of /var/lib/ctr, not of --root %s", p->root);
        int r = install_unit(err);
        if (r < 0)
                return r;
        _cleanup_free_ char *unit = xasprintf("ctr@%s.service", name);
        if (run_systemctl(enable ? "enable" : "disable", unit) < 0)
                return ctr_err(err, EIO, "autostart", "systemctl %s %s failed", enable ? "enable" : "disable", unit);
        return 0;
}

int ctr_container_config_set(const struct ctr_paths *p, const char *name, const char *key, const char *value,
                             bool *ret_live, struct ctr_error *err)
{
        struct ctr_config cfg = {0}, old = {0};
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *path = ctr_path_config(p, name);
        bool stale;
        int r;

        *ret_live = false;
        if (!ctr_name_valid(name))
                return ctr_container_load(p, name, &cfg, err); /* the usual "not a valid name" */
        r = ctr_lock_container(p, name, &lock, err);
        /* Both copies are read under the lock: old is what the live cgroup reflects. */
        if (r >= 0)
                r = ctr_container_load(p, name, &old, err);
        if (r >= 0)
                r = ctr_container_load(p, name, &cfg, err);
        if (r >= 0)
                r = ctr_config_set(&cfg, key, value, err);
        if (r >= 0)
                r = ctr_config_validate(&cfg, err);
        if (r >= 0)
                r = ctr_state_probe(p, name, &st, &stale, err);
        bool running = r >= 0 && (st.status == CTR_RUNNING || st.status == CTR_FROZEN) && st.cgroup;
        const struct ctr_config_key *k = ctr_config_key_find(key);
        if (running && k && (k->flags & CTR_KEY_LIVE)) {
                struct ctr_cg_host h;
                struct ctr_cg_limits a = ctr_config_cg_limits(&old), b = ctr_config_cg_limits(&cfg);
                r = ctr_cgroup_detect(&h, err);
                if (r >= 0 && !ctr_cgroup_path_ours(&h, st.cgroup))
                        r = ctr_err(err, EINVAL, "cgroup", "state names a cgroup ctr does not own: %s", st.cgroup);
                if (r >= 0)
                        r = ctr_cgroup_update_limits(&h, st.cgroup, &a, &b, err);
                if (r >= 0)
                        *ret_live = true;
                else if (r < 0 && ctr_cgroup_detect(&h, NULL) == 0)
                        ctr_cgroup_update_limits(&h, st.cgroup, &b, &a, NULL); /* put back what was */
        }
        if (r >= 0 && !strcmp(key, "autostart") && cfg.autostart != old.autostart)
                r = autostart_unit(p, name, cfg.autostart, err);
        if (r >= 0)
                r = ctr_config_save(path, &cfg, err);
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        ctr_config_free(&old);
        return r;
}

int ctr_container_freeze(const struct ctr_paths *p, const char *name, bool freeze, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1, sock = -1;
        bool stale;
        const char *op = freeze ? "freeze" : "unfreeze";
        int r = ctr_container_load(p, name, &cfg, err);
        if (r < 0)
                return r;
        r = ctr_lock_container(p, name, &lock, err);
        if (r >= 0)
                r = ctr_state_probe(p, name, &st, &stale, err);
        if (r >= 0 && st.status != CTR_RUNNING && st.status != CTR_FROZEN)
                r = ctr_err(err, ESRCH, "state", "the container is %s, not running", ctr_status_name(st.status));
        if (r >= 0)
                r = ctr_ctl_connect(p, name, &sock, err);
        if (r >= 0)
                r = ctr_ctl_request(sock, CTR_CTL_FREEZE, freeze, 0, op, err);
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

int ctr_container_destroy(const struct ctr_paths *p, const char *name, bool force, struct ctr_error *err)
{
        struct ctr_config cfg = {0};
        struct ctr_state st = {0};
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *dir = ctr_path_container(p, name);
        _cleanup_free_ char *gone = xasprintf("%s/.%s.destroy-%d", p->containers, name, (int)getpid());
        int r;

        bool unreadable = false;
        r = ctr_container_load(p, name, &cfg, err);
        if (r < 0 && force && container_dir_exists(p, name)) {
                /* --force removes a container whatever its config says (unparseable, out of
                 * range, truncated, missing): whether it runs is the state's and the kernel's. */
                unreadable = true;
                r = 0;
        } else if (r < 0)
                return r;
        r = ctr_lock_container(p, name, &lock, err);
        if (r < 0)
                goto out;
        r = settle_state(p, name, &st, err);
        if (r < 0)
                goto out;
        if (st.status != CTR_STOPPED && unreadable) {
                r = ctr_err(err, EBUSY, "state",
                            "the container is %s and its config.json cannot be read (stop it with 'ctr stop --kill' first)",
                            ctr_status_name(st.status));
                goto out;
        }
        if (st.status != CTR_STOPPED) {
                if (!force) {
                        r = ctr_err(err, EBUSY, "state", "the container is %s (stop it first, or use --force)",
                                    ctr_status_name(st.status));
                        goto out;
                }
                /* Release our lock for the stop, which takes it itself. */
                close(TAKE_FD(lock));
                r = ctr_container_stop(p, name, 0, true, err);
                if (r < 0)
                        goto out;
                r = ctr_lock_container(p, name, &lock, err);
                if (r < 0)
                        goto out;
                ctr_state_free(&st);
                r = settle_state(p, name, &st, err);
                if (r < 0)
                        goto out;
                if (st.status != CTR_STOPPED) {
                        r = ctr_err(err, EBUSY, "destroy", "the container was started again meanwhile");
                        goto out;
                }
        }
        if (rename(dir, gone) < 0) {
                r = ctr_err_sys(err, errno, "destroy", "rename %s", dir);
                goto out;
        }
        r = ctr_rm_rf(gone);
        if (r < 0) {
                r = ctr_err_sys(err, -r, "destroy", "remove %s (left for inspection)", gone);
                goto out;
        }
        ctr_userns_release(p, name, unreadable ? NULL : &cfg.idmap);
        r = ctr_network_release(p, name, err);
        if (r < 0)
                goto out;
        const char *suffixes[] = {".log", ".log.1", ".monitor.log"};
        for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
                _cleanup_free_ char *l = xasprintf("%s/%s%s", p->log, name, suffixes[i]);
                unlink(l);
        }
out:
        ctr_state_free(&st);
        ctr_config_free(&cfg);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctr_container_names(const struct ctr_paths *p, char ***ret, struct ctr_error *err)
{
        DIR *d = opendir(p->containers);
        size_t n = 0, cap = 16;
        char **v = calloc(cap, sizeof(char *));
        if (!v)
                abort();
        if (!d) {
                if (errno == ENOENT) {
                        *ret = v;
                        return 0;
                }
                free(v);
                return ctr_err_sys(err, errno, "list", "open %s", p->containers);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!ctr_name_valid(de->d_name))
                        continue;
                if (n + 1 >= cap) {
                        cap *= 2;
                        v = realloc(v, cap * sizeof(char *));
                        if (!v)
                                abort();
                }
                v[n++] = xstrdup(de->d_name);
        }
        v[n] = NULL;
        closedir(d);
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        return 0;
}
