/* The template runner: finds a template executable and runs it to fill a rootfs, relaying its
 * progress and keeping the tail of its errors; an interrupt stops it so the caller can clean up. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/util.h"

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
                if ((len = ctr_self_exe(exe, sizeof(exe))) > 0) {
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
                struct stat st;
                /* keys/ and other directories beside the templates are not templates. */
                if (access(p, X_OK) == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode))
                        return p;
                free(p);
        }
        ctr_err(err, ENOENT, "template", "no template named '%s' (see: ctr template list)", name);
        return NULL;
}

int ctr_template_meta(const char *exe, struct ctr_template_meta *ret)
{
        FILE *f = fopen(exe, "re");
        char line[512];
        memset(ret, 0, sizeof(*ret));
        if (!f)
                return -errno;
        for (int i = 0; i < 15 && fgets(line, sizeof(line), f); i++) {
                line[strcspn(line, "\n")] = 0;
                if (strncmp(line, "# ", 2))
                        continue;
                const char *k = line + 2, *v = strstr(k, ": ");
                if (!v)
                        continue;
                size_t kl = v - k;
                v += 2;
#define KEY(s) (kl == strlen(s) && !strncmp(k, s, kl))
                if (KEY("description"))
                        snprintf(ret->description, sizeof(ret->description), "%s", v);
                else if (KEY("distribution"))
                        snprintf(ret->distribution, sizeof(ret->distribution), "%s", v);
                else if (KEY("default-release"))
                        snprintf(ret->default_release, sizeof(ret->default_release), "%s", v);
                else if (KEY("cache"))
                        ret->cache = !strcmp(v, "yes");
#undef KEY
        }
        fclose(f);
        return 0;
}

void ctr_template_parse_line(const char *line, struct ctr_template_event *ret)
{
        int step, total, off = 0;
        *ret = (struct ctr_template_event){.kind = CTR_TPL_LOG, .text = line};
        if (sscanf(line, "step %d/%d:%n", &step, &total, &off) == 2 && off > 0 && step >= 0 && total > 0 &&
            step <= total) {
                ret->kind = CTR_TPL_STEP;
                ret->step = step;
                ret->total = total;
                ret->text = line + off + strspn(line + off, " ");
        }
}

/* Line assembly for one of the template's pipes. */
struct linebuf {
        char buf[2048];
        size_t n;
};

static void emit(const struct ctr_template_args *a, enum ctr_template_event_kind kind, char *line, char *tail,
                 size_t tail_cap)
{
        struct ctr_template_event ev;
        line[strcspn(line, "\r")] = 0;
        if (kind == CTR_TPL_ERR) {
                if (*line)
                        snprintf(tail, tail_cap, "%s", line);
                ev = (struct ctr_template_event){.kind = CTR_TPL_ERR, .text = line};
        } else
                ctr_template_parse_line(line, &ev);
        if (a->progress && *line)
                a->progress(a->userdata, &ev);
}

static void feed(const struct ctr_template_args *a, struct linebuf *lb, enum ctr_template_event_kind kind,
                 const char *data, size_t n, bool eof, char *tail, size_t tail_cap)
{
        for (size_t i = 0; i < n; i++) {
                /* An over-long line is cut, not lost. */
                if (data[i] == '\n' || lb->n == sizeof(lb->buf) - 1) {
                        lb->buf[lb->n] = 0;
                        emit(a, kind, lb->buf, tail, tail_cap);
                        lb->n = 0;
                        if (data[i] == '\n')
                                continue;
                }
                lb->buf[lb->n++] = data[i];
        }
        if (eof && lb->n) {
                lb->buf[lb->n] = 0;
                emit(a, kind, lb->buf, tail, tail_cap);
                lb->n = 0;
        }
}

static void __attribute__((noreturn)) template_child(const struct ctr_template_args *a, const char *exe,
                                                     const sigset_t *old, int out, int errfd)
{
        sigprocmask(SIG_SETMASK, old, NULL);
        setpgid(0, 0);
        /* ctr dying (even by SIGKILL) takes the template down; the temp tree is swept later. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(out, 1);
        dup2(errfd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
                dup2(devnull, 0);
        /* debootstrap mounts /proc and /sys in the target: in a namespace of its own, those
         * mounts vanish with its last process, however it ends. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                dprintf(2, "private mount namespace: %s\n", strerror(errno));
                _exit(126);
        }
        const char *argv[20];
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
        if (a->dist) {
                argv[n++] = "--dist";
                argv[n++] = a->dist;
        }
        if (a->release) {
                argv[n++] = "--release";
                argv[n++] = a->release;
        }
        if (a->mirror) {
                argv[n++] = "--mirror";
                argv[n++] = a->mirror;
        }
        argv[n] = NULL;
        execv(exe, (char **)argv);
        dprintf(2, "exec %s: %s\n", exe, strerror(errno));
        _exit(127);
}

int ctr_template_run(const struct ctr_template_args *a, struct ctr_error *err)
{
        _cleanup_free_ char *exe = ctr_template_find(a->template, err);
        int out[2] = {-1, -1}, errp[2] = {-1, -1}, r = 0;
        sigset_t mask, old;
        char tail[400] = "";
        struct linebuf lout = {0}, lerr = {0};
        _cleanup_close_ int sfd = -EBADF;

        if (!exe)
                return -err->errnum;
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                r = ctr_err_sys(err, errno, "template", "pipe");
                goto out;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        pid_t pid = fork();
        if (pid < 0) {
                r = ctr_err_sys(err, errno, "template", "fork");
                goto unblock;
        }
        if (pid == 0)
                template_child(a, exe, &old, out[1], errp[1]);
        /* Both sides set the group, so no signal can race the child's own setpgid. */
        setpgid(pid, pid);
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
                        out_open = n > 0;
                        feed(a, &lout, CTR_TPL_LOG, buf, n > 0 ? n : 0, !out_open, tail, sizeof(tail));
                }
                if (pfd[1].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(errp[0], buf, sizeof(buf));
                        err_open = n > 0;
                        feed(a, &lerr, CTR_TPL_ERR, buf, n > 0 ? n : 0, !err_open, tail, sizeof(tail));
                }
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        /* Whatever the template left running in its group (a stuck dpkg) ends with it. */
        kill(-pid, SIGKILL);
        /* "debian template: no mirror" reads "template: debian: no mirror" in ctr's line. */
        char prefix[80];
        const char *reason = tail;
        snprintf(prefix, sizeof(prefix), "%s template: ", a->template);
        if (!strncmp(reason, prefix, strlen(prefix)))
                reason += strlen(prefix);
        if (interrupted)
                r = ctr_err(err, EINTR, "template", "%s interrupted", a->template);
        else if (WIFSIGNALED(status))
                r = ctr_err(err, ECHILD, "template", "%s killed by signal %d%s%s", a->template, WTERMSIG(status),
                            *tail ? ": " : "", tail);
        else if (WEXITSTATUS(status) != 0 && *reason)
                r = ctr_err(err, ECHILD, "template", "%s: %s", a->template, reason);
        else if (WEXITSTATUS(status) != 0)
                r = ctr_err(err, ECHILD, "template", "%s failed (exit %d) without a reason", a->template,
                            WEXITSTATUS(status));
unblock:
        sigprocmask(SIG_SETMASK, &old, NULL);
out:
        for (int i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        return r;
}
