/* The template runner: finds a template executable and runs it to fill a rootfs, relaying its
 * progress and keeping the tail of its errors; an interrupt stops it so the caller can clean up. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../runtime/util.h"

#ifndef TEMPLATEDIR
#define TEMPLATEDIR "/usr/local/share/ctr/templates"
#endif

static void add_dir(char **dirs, size_t *n, char *d)
{
        struct stat st;
        for (size_t i = 0; i < *n; i++)
                if (!strcmp(dirs[i], d)) {
                        free(d);
                        return;
                }
        if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
                dirs[(*n)++] = d;
        else
                free(d);
}

const char *const *ctr_template_dirs(void)
{
        static char *dirs[5];
        static bool done;
        if (!done) {
                size_t n = 0;
                const char *env = getenv("CTR_TEMPLATE_DIR");
                char exe[PATH_MAX];
                ssize_t len;
                if (env && *env)
                        dirs[n++] = xstrdup(env);
                /* Relative to the binary: ./ctr in the source tree next to ./templates, or an
                 * installed PREFIX/bin/ctr with PREFIX/share/ctr/templates, wherever PREFIX is. */
                if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
                        exe[len] = 0;
                        char *slash = strrchr(exe, '/');
                        if (slash) {
                                *slash = 0;
                                add_dir(dirs, &n, xasprintf("%s/templates", exe));
                                add_dir(dirs, &n, xasprintf("%s/../share/ctr/templates", exe));
                        }
                }
                add_dir(dirs, &n, xstrdup(TEMPLATEDIR));
                dirs[n] = NULL;
                done = true;
        }
        return (const char *const *)dirs;
}

char *ctr_template_find(const char *name, struct ctr_error *err)
{
        if (!ctr_name_valid(name))
                return ctr_err(err, EINVAL, "template", "'%s' is not a valid template name", name), NULL;
        for (const char *const *d = ctr_template_dirs(); *d; d++) {
                char *p = xasprintf("%s/%s", *d, name);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        ctr_err(err, ENOENT, "template", "no template named '%s' (see: ctr template list)", name);
        return NULL;
}

/* Keep the last line of the template's stderr for the one-line error. */
static void keep_tail(char *tail, size_t cap, const char *buf, size_t n)
{
        size_t have = strlen(tail);
        if (n >= cap - 1) {
                memcpy(tail, buf + n - (cap - 1), cap - 1);
                tail[cap - 1] = 0;
                return;
        }
        if (have + n >= cap) {
                size_t drop = have + n - (cap - 1);
                memmove(tail, tail + drop, have - drop + 1);
                have -= drop;
        }
        memcpy(tail + have, buf, n);
        tail[have + n] = 0;
}

static void last_line(char *tail)
{
        size_t n = strlen(tail);
        while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
                tail[--n] = 0;
        char *nl = strrchr(tail, '\n');
        if (nl)
                memmove(tail, nl + 1, strlen(nl + 1) + 1);
}

int ctr_template_run(const struct ctr_template_args *a, struct ctr_error *err)
{
        _cleanup_free_ char *exe = ctr_template_find(a->template, err);
        int out[2], errp[2], r = 0;
        sigset_t mask, old;
        char tail[400] = "";

        if (!exe)
                return -err->errnum;
        if (pipe2(out, O_CLOEXEC) < 0)
                return ctr_err_sys(err, errno, "template", "pipe");
        if (pipe2(errp, O_CLOEXEC) < 0) {
                close(out[0]);
                close(out[1]);
                return ctr_err_sys(err, errno, "template", "pipe");
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        pid_t pid = fork();
        if (pid < 0) {
                r = ctr_err_sys(err, errno, "template", "fork");
                goto out;
        }
        if (pid == 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                setpgid(0, 0);
                dup2(out[1], 1);
                dup2(errp[1], 2);
                int devnull = open("/dev/null", O_RDONLY);
                if (devnull >= 0)
                        dup2(devnull, 0);
                const char *argv[16];
                size_t n = 0;
                argv[n++] = exe;
                argv[n++] = "--rootfs";
                argv[n++] = a->rootfs;
                argv[n++] = "--name";
                argv[n++] = a->name;
                argv[n++] = "--arch";
                argv[n++] = a->arch;
                argv[n++] = "--cache";
                argv[n++] = a->cache;
                if (a->release) {
                        argv[n++] = "--release";
                        argv[n++] = a->release;
                }
                argv[n] = NULL;
                execv(exe, (char **)argv);
                dprintf(2, "exec %s: %s\n", exe, strerror(errno));
                _exit(127);
        }
        close(out[1]);
        close(errp[1]);
        out[1] = errp[1] = -1;

        bool out_open = true, err_open = true, interrupted = false;
        while (out_open || err_open) {
                struct pollfd pfd[3] = {
                        {.fd = out_open ? out[0] : -1, .events = POLLIN},
                        {.fd = err_open ? errp[0] : -1, .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                };
                if (poll(pfd, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                char buf[4096];
                if (pfd[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                interrupted = true;
                                kill(-pid, SIGTERM);
                        }
                }
                if (pfd[0].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(out[0], buf, sizeof(buf));
                        if (n <= 0)
                                out_open = false;
                        else if (!a->quiet)
                                ctr_write_all(2, buf, n);
                }
                if (pfd[1].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(errp[0], buf, sizeof(buf));
                        if (n <= 0)
                                err_open = false;
                        else {
                                keep_tail(tail, sizeof(tail), buf, n);
                                if (!a->quiet)
                                        ctr_write_all(2, buf, n);
                        }
                }
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        last_line(tail);
        if (interrupted)
                r = ctr_err(err, EINTR, "template", "%s interrupted", a->template);
        else if (WIFSIGNALED(status))
                r = ctr_err(err, ECHILD, "template", "%s killed by signal %d%s%s", a->template, WTERMSIG(status),
                            *tail ? ": " : "", tail);
        else if (WEXITSTATUS(status) != 0)
                r = ctr_err(err, ECHILD, "template", "%s failed (exit %d)%s%s", a->template, WEXITSTATUS(status),
                            *tail ? ": " : "", tail);
out:
        for (int i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
