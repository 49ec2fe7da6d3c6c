/* The compiled container's lifetime and its printed form: one line a field, fixed order, so
 * --debug shows what the launcher gets and golden tests compare two compiles line by line. */
#define _GNU_SOURCE
#include "spec.h"

#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../base/util.h"

void ctr_spec_init(struct ctr_spec *s)
{
        *s = (struct ctr_spec){.join_pidfd = -1, .pidns_fd = -1, .console_fd = -1, .fifo_fd = -1};
        for (size_t i = 0; i < CTR_SPEC_MAX_JOINS; i++)
                s->join_fds[i] = -1;
        s->plan.root_mount_fd = s->plan.root_target_fd = -1;
        s->process.umask = 022;
        s->process.fail_status = 1;
}

static void hooks_free(struct ctr_spec_hook *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(h[i].path);
                strv_free(h[i].args);
                strv_free(h[i].env);
        }
        free(h);
}

void ctr_spec_free(struct ctr_spec *s)
{
        struct ctr_spec_process *p = &s->process;
        free(s->what);
        free(s->hostname);
        free(s->domainname);
        if (s->has_plan) {
                /* Detached mounts the parent made for the child (user namespaces) are the spec's. */
                for (size_t i = 0; i < s->plan.n; i++)
                        if (s->plan.ops[i].has_fd)
                                close(s->plan.ops[i].fd);
                if (s->plan.attach_root && s->plan.root_mount_fd >= 0)
                        close(s->plan.root_mount_fd);
                ctr_rootfs_plan_free(&s->plan);
        }
        free(s->root_path);
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                free(s->files[i].need_dir);
                free(s->files[i].text);
        }
        free(s->files);
        hooks_free(s->start_hooks, s->n_start_hooks);
        strv_free(p->argv);
        strv_free(p->env);
        free(p->cwd);
        free(p->user);
        free(p->groups);
        free(p->rlimits);
        ctr_seccomp_prog_free(&p->seccomp);
        free(p->seccomp_desc);
        strv_free(s->warnings);
        ctr_spec_init(s);
}

void ctr_spec_warn(struct ctr_spec *s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *w = xvasprintf(fmt, ap);
        va_end(ap);
        strv_push(&s->warnings, w);
}

static void print_strv(FILE *f, const char *key, char *const *v)
{
        fprintf(f, "%s", key);
        for (char *const *p = v; p && *p; p++)
                fprintf(f, " %s", *p);
        fputc('\n', f);
}

static void print_caps(FILE *f, const char *key, ctr_capmask m)
{
        _cleanup_free_ char *t = ctr_caps_format(m);
        fprintf(f, "%s %s\n", key, t && *t ? t : "-");
}

static const char *ns_name(int type)
{
        switch (type) {
        case CLONE_NEWUSER: return "user";
        case CLONE_NEWNS: return "mnt";
        case CLONE_NEWPID: return "pid";
        case CLONE_NEWNET: return "net";
        case CLONE_NEWUTS: return "uts";
        case CLONE_NEWIPC: return "ipc";
        case CLONE_NEWCGROUP: return "cgroup";
        default: return "?";
        }
}

static void print_ns(FILE *f, const char *key, uint64_t flags)
{
        static const int order[] = {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
                                    CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP};
        fprintf(f, "%s", key);
        bool any = false;
        for (size_t i = 0; i < ARRAY_SIZE(order); i++)
                if (flags & (uint64_t)order[i]) {
                        fprintf(f, " %s", ns_name(order[i]));
                        any = true;
                }
        fprintf(f, "%s\n", any ? "" : " -");
}

void ctr_spec_print(const struct ctr_spec *s, FILE *f)
{
        static const char *const roots[] = {"none", "pivot_root", "move", "chroot"};
        static const char *const consoles[] = {"inherit", "fd", "socket", "pass"};
        const struct ctr_spec_process *p = &s->process;
        uint64_t made = s->clone_flags | (s->new_cgroupns ? CLONE_NEWCGROUP : 0);

        fprintf(f, "what %s\n", s->what ? s->what : "-");
        print_ns(f, "namespaces.new", made);
        uint64_t joined = 0;
        for (size_t i = 0; i < s->n_joins; i++)
                joined |= (uint64_t)s->join_types[i];
        print_ns(f, "namespaces.join", joined | (s->join_pidfd >= 0 ? (uint64_t)s->join_pidfd_types : 0));
        fprintf(f, "namespaces.userns_root %s\n", s->userns_root ? "yes" : "no");
        fprintf(f, "dies_with_parent %s\n", s->die_with_parent ? "yes" : "no");
        fprintf(f, "network.loopback_up %s\n", s->loopback_up ? "yes" : "no");
        fprintf(f, "hostname %s\n", s->hostname ? s->hostname : "-");
        fprintf(f, "domainname %s\n", s->domainname ? s->domainname : "-");
        if (s->has_plan)
                ctr_rootfs_plan_print(&s->plan, f);
        else
                fprintf(f, "mounts -\n");
        fprintf(f, "hooks_step %s\n", s->hooks_step ? "yes" : "no");
        fprintf(f, "root %s %s\n", roots[s->root], s->root_path ? s->root_path : "-");
        fprintf(f, "root.propagation %s\n", s->root_propagation & MS_SHARED       ? "shared"
                                            : s->root_propagation & MS_SLAVE      ? "slave"
                                            : s->root_propagation & MS_UNBINDABLE ? "unbindable"
                                            : s->root_propagation & MS_PRIVATE    ? "private"
                                                                                  : "-");
        for (size_t i = 0; i < s->n_files; i++)
                fprintf(f, "file %s%s%s (%zu bytes)\n", s->files[i].path, s->files[i].need_dir ? " if " : "",
                        s->files[i].need_dir ? s->files[i].need_dir : "", strlen(s->files[i].text));
        fprintf(f, "console %s%s\n", consoles[s->console], s->console_bind ? " bound on /dev/console" : "");
        fprintf(f, "gate %s\n", s->fifo_fd >= 0 ? "exec.fifo" : "-");
        for (size_t i = 0; i < s->n_start_hooks; i++)
                fprintf(f, "hook.startContainer %s\n", s->start_hooks[i].path);
        print_strv(f, "process.args", p->argv);
        for (char *const *e = p->env; e && *e; e++)
                fprintf(f, "process.env %s\n", *e);
        fprintf(f, "process.cwd %s%s\n", p->cwd ? p->cwd : p->cwd_home ? "(the user's home)" : "/",
                p->cwd_home && p->cwd ? " (else the user's home)" : "");
        if (p->user)
                fprintf(f, "process.user %s (from /etc/passwd)%s\n", p->user, p->user_env ? " with HOME, USER" : "");
        else {
                fprintf(f, "process.user %u:%u", (unsigned)p->uid, (unsigned)p->gid);
                for (size_t i = 0; i < p->n_groups; i++)
                        fprintf(f, "%s%u", i ? "," : " groups ", (unsigned)p->groups[i]);
                fputc('\n', f);
        }
        for (size_t i = 0; i < p->n_rlimits; i++)
                fprintf(f, "process.rlimit %d %llu %llu\n", p->rlimits[i].resource, (unsigned long long)p->rlimits[i].soft,
                        (unsigned long long)p->rlimits[i].hard);
        fprintf(f, "process.umask %04o\n", (unsigned)p->umask);
        print_caps(f, "process.caps.bounding", p->bounding);
        print_caps(f, "process.caps.effective", p->effective);
        print_caps(f, "process.caps.permitted", p->permitted);
        print_caps(f, "process.caps.inheritable", p->inheritable);
        print_caps(f, "process.caps.ambient", p->ambient);
        fprintf(f, "process.no_new_privs %s\n", p->no_new_privs ? "yes" : "no");
        fprintf(f, "process.seccomp %s\n", p->seccomp_desc ? p->seccomp_desc : p->seccomp.len ? "filter" : "-");
        fprintf(f, "process.preserve_fds %d\n", p->preserve_fds);
        if (s->has_oom_score_adj)
                fprintf(f, "process.oom_score_adj %d\n", s->oom_score_adj);
}

void ctr_spec_write(const struct ctr_spec *s, int fd)
{
        _cleanup_free_ char *t = ctr_spec_text(s);
        dprintf(fd, "ctr: the compiled spec of %s:\n%s", s->what ? s->what : "a process", t);
}

char *ctr_spec_text(const struct ctr_spec *s)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        ctr_spec_print(s, f);
        fclose(f);
        return buf;
}
