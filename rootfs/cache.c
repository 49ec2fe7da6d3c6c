/* The template cache: one read-only tree per template/distribution/release/arch, built once by the
 * template and shared by every container created from it (as an overlay lower, or copied).
 * Layout: CACHE/templates/KEY/{current -> BUILD, BUILD/rootfs, BUILD/meta.json}; a refresh adds a
 * build and moves "current", so containers on an older build keep their lower. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/util.h"

char *ctr_cache_key(const char *tpl, const char *dist, const char *release, const char *arch)
{
        return xasprintf("%s%s%s-%s-%s", tpl, dist ? "-" : "", dist ? dist : "", release && *release ? release : "default",
                         arch);
}

int ctr_cache_lookup(const char *cache, const char *key, char **ret_rootfs)
{
        _cleanup_free_ char *cur = xasprintf("%s/templates/%s/current", cache, key);
        char target[256];
        ssize_t n = readlink(cur, target, sizeof(target) - 1);
        *ret_rootfs = NULL;
        if (n <= 0)
                return -ENOENT;
        target[n] = 0;
        if (strchr(target, '/'))
                return -EINVAL;
        char *rootfs = xasprintf("%s/templates/%s/%s/rootfs", cache, key, target);
        if (access(rootfs, F_OK) < 0) {
                free(rootfs);
                return -ENOENT;
        }
        *ret_rootfs = rootfs;
        return 0;
}

/* Builds of creates that died mid-way (their pid is gone) are removed by the next build. */
static void sweep_builds(const char *keydir)
{
        DIR *d = opendir(keydir);
        struct dirent *de;
        if (!d)
                return;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, ".build-", 7))
                        continue;
                pid_t pid = atoi(de->d_name + 7);
                if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", keydir, de->d_name);
                ctr_rm_rf(p);
        }
        closedir(d);
}

static char *meta_json(const struct ctr_template_args *a, const char *key)
{
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        /* Values are template/release/arch names: validated as names by the caller. */
        return xasprintf("{\n  \"key\": \"%s\",\n  \"template\": \"%s\",\n  \"dist\": %s%s%s,\n  \"release\": \"%s\",\n"
                         "  \"arch\": \"%s\",\n  \"created\": \"%s\"\n}\n",
                         key, a->template, a->dist ? "\"" : "", a->dist ? a->dist : "null", a->dist ? "\"" : "",
                         a->release ? a->release : "", a->arch, ts);
}

/* Write the build's metadata, give it its final name and point "current" at it. */
static int publish(const struct ctr_template_args *args, const char *keydir, const char *build, const char *key,
                   char **ret_rootfs, struct ctr_error *err)
{
        int r;
        _cleanup_free_ char *meta = meta_json(args, key);
        _cleanup_free_ char *metap = xasprintf("%s/meta.json", build);
        r = ctr_write_atomic(metap, meta, strlen(meta), 0644);
        if (r < 0) {
                return ctr_err_sys(err, -r, "cache", "write %s", metap);
        }
        char id[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(id, sizeof(id), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
        snprintf(id + strlen(id), sizeof(id) - strlen(id), "-%d", (int)getpid());
        _cleanup_free_ char *final = xasprintf("%s/%s", keydir, id);
        _cleanup_free_ char *link_tmp = xasprintf("%s/.current-%d", keydir, (int)getpid());
        _cleanup_free_ char *link = xasprintf("%s/current", keydir);
        if (rename(build, final) < 0) {
                return ctr_err_sys(err, errno, "cache", "rename %s", build);
        }
        unlink(link_tmp);
        if (symlink(id, link_tmp) < 0 || rename(link_tmp, link) < 0) {
                r = ctr_err_sys(err, errno, "cache", "point %s at %s", link, id);
                unlink(link_tmp);
                ctr_rm_rf(final);
                return r;
        }
        *ret_rootfs = xasprintf("%s/rootfs", final);
        return 0;
}

int ctr_cache_build(const struct ctr_template_args *args, const char *cache, const char *key, bool refresh,
                    char **ret_rootfs, struct ctr_error *err)
{
        _cleanup_free_ char *tdir = xasprintf("%s/templates", cache);
        _cleanup_free_ char *keydir = xasprintf("%s/%s", tdir, key);
        _cleanup_free_ char *lockp = xasprintf("%s/.%s.lock", tdir, key);
        _cleanup_free_ char *build = xasprintf("%s/.build-%d", keydir, (int)getpid());
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", build);
        _cleanup_close_ int lock = -1;
        int r;

        *ret_rootfs = NULL;
        r = ctr_mkdir_p(tdir, 0755);
        if (r < 0)
                return ctr_err_sys(err, -r, "cache", "create %s", tdir);
        lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock < 0)
                return ctr_err_sys(err, errno, "cache", "open %s", lockp);
        /* Concurrent first creates of one release wait for a single build instead of each
         * downloading it. */
        while (flock(lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return ctr_err_sys(err, errno, "cache", "lock %s", lockp);
        if (!refresh && ctr_cache_lookup(cache, key, ret_rootfs) == 0)
                return 0;
        if (mkdir(keydir, 0755) < 0 && errno != EEXIST)
                return ctr_err_sys(err, errno, "cache", "create %s", keydir);
        sweep_builds(keydir);
        if (mkdir(build, 0755) < 0 || mkdir(rootfs, 0755) < 0) {
                r = ctr_err_sys(err, errno, "cache", "create %s", rootfs);
                goto fail;
        }
        struct ctr_template_args a = *args;
        a.rootfs = rootfs;
        r = ctr_template_run(&a, err);
        if (r < 0)
                goto fail;
        r = publish(&a, keydir, build, key, ret_rootfs, err);
        if (r < 0)
                goto fail;
        return 0;
fail:
        ctr_rm_rf(build);
        /* A first build that failed leaves no trace; waiters re-create what they need. */
        if (rmdir(keydir) == 0 && unlink(lockp) == 0 && rmdir(tdir) == 0)
                rmdir(cache);
        return r;
}

int ctr_cache_copy(const char *from, const char *to, struct ctr_error *err)
{
        _cleanup_free_ char *src = xasprintf("%s/.", from);
        pid_t pid = fork();
        if (pid < 0)
                return ctr_err_sys(err, errno, "copy", "fork");
        if (pid == 0) {
                /* cp keeps hard links, xattrs, device nodes and sparse files; reflinks where the
                 * filesystem can. */
                execlp("cp", "cp", "-a", "--reflink=auto", "--", src, to, (char *)NULL);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st))
                return ctr_err(err, EIO, "copy", "cp -a %s %s failed", from, to);
        return 0;
}

bool ctr_overlay_supported(void)
{
        _cleanup_free_ char *fs = NULL;
        if (ctr_read_file("/proc/filesystems", 1 << 16, &fs, NULL) < 0)
                return false;
        return strstr(fs, "\toverlay\n") != NULL;
}
