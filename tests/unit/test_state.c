/* Unit tests for runtime/state.c: the state root layout, state.json round trip and parse errors,
 * liveness probing against real processes, and the per-container lock, on a temp root. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../runtime/state.h"
#include "../../base/util.h"

static char tmpdir[64];

static void tmp_setup(void)
{
        unsetenv("CTR_ROOT");
        unsetenv("CTR_CACHE");
        unit_tmpdir_make(tmpdir, sizeof(tmpdir), "state");
}

static void tmp_teardown(void)
{
        unit_tmpdir_remove(tmpdir);
}

TestSuite(paths, .init = tmp_setup, .fini = tmp_teardown);
TestSuite(state_files, .init = tmp_setup, .fini = tmp_teardown);

/* --- paths ---------------------------------------------------------------------------------- */

Test(paths, with_root)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_paths_init(&p, tmpdir, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.root, tmpdir);
        char want[PATH_MAX];
        snprintf(want, sizeof(want), "%s/containers", tmpdir);
        cr_assert_str_eq(p.containers, want);
        snprintf(want, sizeof(want), "%s/run", tmpdir);
        cr_assert_str_eq(p.run, want);
        snprintf(want, sizeof(want), "%s/log", tmpdir);
        cr_assert_str_eq(p.log, want);
        snprintf(want, sizeof(want), "%s/cache", tmpdir);
        cr_assert_str_eq(p.cache, want);

        _cleanup_free_ char *c = ctr_path_container(&p, "web");
        _cleanup_free_ char *cfg = ctr_path_config(&p, "web");
        _cleanup_free_ char *rootfs = ctr_path_rootfs(&p, "web");
        _cleanup_free_ char *rundir = ctr_path_rundir(&p, "web");
        _cleanup_free_ char *state = ctr_path_state(&p, "web");
        _cleanup_free_ char *clog = ctr_path_console_log(&p, "web");
        _cleanup_free_ char *mlog = ctr_path_monitor_log(&p, "web");
        snprintf(want, sizeof(want), "%s/containers/web", tmpdir);
        cr_assert_str_eq(c, want);
        snprintf(want, sizeof(want), "%s/containers/web/config.json", tmpdir);
        cr_assert_str_eq(cfg, want);
        snprintf(want, sizeof(want), "%s/containers/web/rootfs", tmpdir);
        cr_assert_str_eq(rootfs, want);
        snprintf(want, sizeof(want), "%s/run/web", tmpdir);
        cr_assert_str_eq(rundir, want);
        snprintf(want, sizeof(want), "%s/run/web/state.json", tmpdir);
        cr_assert_str_eq(state, want);
        snprintf(want, sizeof(want), "%s/log/web.log", tmpdir);
        cr_assert_str_eq(clog, want);
        snprintf(want, sizeof(want), "%s/log/web.monitor.log", tmpdir);
        cr_assert_str_eq(mlog, want);
        ctr_paths_free(&p);
        cr_assert_null(p.root);
}

Test(paths, relative_root_made_absolute)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        char cwd[PATH_MAX], want[PATH_MAX];
        cr_assert_eq(chdir(tmpdir), 0);
        cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
        cr_assert_eq(ctr_paths_init(&p, "state", &err), 0, "%s", err.msg);
        cr_assert_eq(p.root[0], '/');
        snprintf(want, sizeof(want), "%s/state", cwd);
        cr_assert_str_eq(p.root, want);
        snprintf(want, sizeof(want), "%s/state/containers", cwd);
        cr_assert_str_eq(p.containers, want);
        snprintf(want, sizeof(want), "%s/state/run", cwd);
        cr_assert_str_eq(p.run, want);
        /* Another cwd later does not change the paths already resolved. */
        cr_assert_eq(chdir("/"), 0);
        cr_assert_eq(strncmp(p.run, cwd, strlen(cwd)), 0);
        ctr_paths_free(&p);
}

Test(paths, cache_override)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        cr_assert_eq(setenv("CTR_CACHE", "/srv/ctr-cache", 1), 0);
        cr_assert_eq(ctr_paths_init(&p, tmpdir, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.cache, "/srv/ctr-cache");
        cr_assert_str_eq(p.root, tmpdir);
        ctr_paths_free(&p);
        cr_assert_eq(ctr_paths_init(&p, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.cache, "/srv/ctr-cache");
        ctr_paths_free(&p);
        /* An empty override is no override. */
        cr_assert_eq(setenv("CTR_CACHE", "", 1), 0);
        cr_assert_eq(ctr_paths_init(&p, tmpdir, &err), 0, "%s", err.msg);
        cr_assert_eq(strncmp(p.cache, tmpdir, strlen(tmpdir)), 0, "%s", p.cache);
        ctr_paths_free(&p);
}

Test(paths, defaults_and_env_root)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        cr_assert_eq(ctr_paths_init(&p, NULL, &err), 0);
        cr_assert_str_eq(p.root, "/var/lib/ctr");
        cr_assert_str_eq(p.containers, "/var/lib/ctr/containers");
        cr_assert_str_eq(p.run, "/run/ctr");
        cr_assert_str_eq(p.log, "/var/log/ctr");
        cr_assert_str_eq(p.cache, "/var/cache/ctr");
        ctr_paths_free(&p);

        cr_assert_eq(setenv("CTR_ROOT", tmpdir, 1), 0);
        cr_assert_eq(ctr_paths_init(&p, "", &err), 0);
        cr_assert_str_eq(p.root, tmpdir);
        ctr_paths_free(&p);
        /* An explicit root wins over the environment. */
        cr_assert_eq(ctr_paths_init(&p, "/elsewhere", &err), 0);
        cr_assert_str_eq(p.root, "/elsewhere");
        cr_assert_str_eq(p.run, "/elsewhere/run");
        ctr_paths_free(&p);
}

/* --- state.json ----------------------------------------------------------------------------- */

Test(state, status_names)
{
        cr_assert_str_eq(ctr_status_name(CTR_STOPPED), "stopped");
        cr_assert_str_eq(ctr_status_name(CTR_STARTING), "starting");
        cr_assert_str_eq(ctr_status_name(CTR_RUNNING), "running");
        cr_assert_str_eq(ctr_status_name(CTR_FROZEN), "frozen");
        cr_assert_str_eq(ctr_status_name(CTR_STOPPING), "stopping");
        cr_assert_str_eq(ctr_status_name((enum ctr_status)42), "unknown");
}

static void assert_state_eq(const struct ctr_state *a, const struct ctr_state *b)
{
        cr_assert_eq(a->status, b->status);
        cr_assert_eq(a->monitor_pid, b->monitor_pid);
        cr_assert_eq(a->monitor_start, b->monitor_start);
        cr_assert_eq(a->init_pid, b->init_pid);
        cr_assert_eq(a->init_start, b->init_start);
        if (a->cgroup && b->cgroup)
                cr_assert_str_eq(a->cgroup, b->cgroup);
        else
                cr_assert(a->cgroup == b->cgroup, "cgroup null mismatch");
        cr_assert_eq(a->started_at, b->started_at);
        cr_assert_eq(a->transition_at, b->transition_at);
        if (a->net_mode && b->net_mode)
                cr_assert_str_eq(a->net_mode, b->net_mode);
        else
                cr_assert(a->net_mode == b->net_mode, "net_mode null mismatch");
        cr_assert_eq(a->foreground, b->foreground);
}

Test(state, round_trip_every_field)
{
        static const enum ctr_status all[] = {CTR_STOPPED, CTR_STARTING, CTR_RUNNING, CTR_FROZEN, CTR_STOPPING};
        for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
                struct ctr_state a = {
                        .status = all[i],
                        .monitor_pid = 4242 + (pid_t)i,
                        .monitor_start = 123456789012ULL,
                        .init_pid = 4300,
                        .init_start = 123456789999ULL,
                        .cgroup = "/sys/fs/cgroup/ctr.slice/web-0123abcd.scope",
                        .started_at = 1700000000,
                        .transition_at = 1700000123,
                        .net_mode = "host",
                        .foreground = i % 2,
                };
                struct ctr_state b;
                struct ctr_error err = {0};
                _cleanup_free_ char *text = ctr_state_to_json(&a);
                cr_assert_eq(ctr_state_parse(text, &b, &err), 0, "%s\n%s", err.msg, text);
                assert_state_eq(&a, &b);
                ctr_state_free(&b);
        }
}

Test(state, round_trip_nulls)
{
        struct ctr_state a = {.status = CTR_STARTING, .monitor_pid = 1}, b;
        struct ctr_error err = {0};
        _cleanup_free_ char *text = ctr_state_to_json(&a);
        cr_assert_eq(ctr_state_parse(text, &b, &err), 0, "%s", err.msg);
        assert_state_eq(&a, &b);
        ctr_state_free(&b);
        ctr_state_free(NULL);
}

Test(state, parse_errors)
{
        static const struct {
                const char *doc;
                const char *substr;
        } cases[] = {
                {"garbage", ""},
                {"{\"status\": \"running\", \"monitor_pid\": ", ""},
                {"", ""},
                {"[]", "not a JSON object"},
                {"\"running\"", "not a JSON object"},
                {"{\"monitor_pid\": 5}", "lacks status or monitor_pid"},
                {"{\"status\": \"running\"}", "lacks status or monitor_pid"},
                {"{\"status\": \"running\", \"monitor_pid\": 0}", "lacks status or monitor_pid"},
                {"{\"status\": \"running\", \"monitor_pid\": -3}", "lacks status or monitor_pid"},
                {"{\"status\": 2, \"monitor_pid\": 5}", "lacks status or monitor_pid"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct ctr_state s;
                struct ctr_error err = {0};
                memset(&s, 0x5a, sizeof(s));
                cr_assert_eq(ctr_state_parse(cases[i].doc, &s, &err), -EINVAL, "'%s' accepted", cases[i].doc);
                cr_assert_not_null(strstr(err.msg, cases[i].substr), "%s", err.msg);
                cr_assert_null(strchr(err.msg, '\n'));
        }
}

/* --- on-disk state and probing -------------------------------------------------------------- */

static void init_root(struct ctr_paths *p, const char *name)
{
        struct ctr_error err = {0};
        cr_assert_eq(ctr_paths_init(p, tmpdir, &err), 0, "%s", err.msg);
        _cleanup_free_ char *rundir = ctr_path_rundir(p, name);
        cr_assert_eq(ctr_mkdir_p(rundir, 0700), 0);
        _cleanup_free_ char *cdir = ctr_path_container(p, name);
        cr_assert_eq(ctr_mkdir_p(cdir, 0700), 0);
}

Test(state_files, save_and_load)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        init_root(&p, "web");
        struct ctr_state a = {.status = CTR_RUNNING,
                              .monitor_pid = 77,
                              .monitor_start = 9,
                              .init_pid = 78,
                              .init_start = 10,
                              .cgroup = "/x",
                              .net_mode = "none",
                              .started_at = 5},
                         b;
        cr_assert_eq(ctr_state_load(&p, "web", &b, &err), -ENOENT);
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_state_load(&p, "web", &b, &err), 0, "%s", err.msg);
        assert_state_eq(&a, &b);
        ctr_state_free(&b);

        /* A bad file is reported with its path. */
        _cleanup_free_ char *path = ctr_path_state(&p, "web");
        cr_assert_eq(ctr_write_atomic(path, "{}", 2, 0644), 0);
        cr_assert_eq(ctr_state_load(&p, "web", &b, &err), -EINVAL);
        cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);

        /* Saving without a run directory fails with a message. */
        cr_assert_eq(ctr_state_save(&p, "nosuch", &a, &err), -ENOENT);
        cr_assert_str_eq(err.op, "state");
        ctr_paths_free(&p);
}

Test(state_files, probe_no_file)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = true;
        init_root(&p, "web");
        memset(&s, 0x5a, sizeof(s));
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0, "%s", err.msg);
        cr_assert_eq(s.status, CTR_STOPPED);
        cr_assert_not(stale);
        cr_assert_null(s.cgroup);
        ctr_state_free(&s);
        /* Not even a run directory: the same answer. */
        stale = true;
        cr_assert_eq(ctr_state_probe(&p, "never-created", &s, &stale, &err), 0, "%s", err.msg);
        cr_assert_eq(s.status, CTR_STOPPED);
        cr_assert_not(stale);
        ctr_paths_free(&p);
}

Test(state_files, probe_running_self)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = true;
        init_root(&p, "web");
        uint64_t st = ctr_proc_starttime(getpid());
        cr_assert_neq(st, 0);
        struct ctr_state a = {.status = CTR_RUNNING,
                              .monitor_pid = getpid(),
                              .monitor_start = st,
                              .init_pid = getpid(),
                              .init_start = st,
                              .cgroup = "/sys/fs/cgroup/ctr.slice/w.scope",
                              .net_mode = "none"};
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0, "%s", err.msg);
        cr_assert_eq(s.status, CTR_RUNNING, "status %s", ctr_status_name(s.status));
        cr_assert_not(stale);
        cr_assert_eq(s.monitor_pid, getpid());
        cr_assert_eq(s.init_pid, getpid());
        cr_assert_str_eq(s.cgroup, a.cgroup);
        ctr_state_free(&s);

        /* Frozen is kept as frozen while both live. */
        a.status = CTR_FROZEN;
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0);
        cr_assert_eq(s.status, CTR_FROZEN);
        cr_assert_not(stale);
        ctr_state_free(&s);

        /* Starting is reported as recorded. */
        a.status = CTR_STARTING;
        a.init_pid = 0;
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0);
        cr_assert_eq(s.status, CTR_STARTING);
        cr_assert_not(stale);
        ctr_state_free(&s);
        ctr_paths_free(&p);
}

static pid_t dead_pid(uint64_t *ret_start)
{
        int pfd[2];
        cr_assert_eq(pipe(pfd), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char c;
                close(pfd[1]);
                while (read(pfd[0], &c, 1) > 0)
                        ;
                _exit(0);
        }
        close(pfd[0]);
        *ret_start = ctr_proc_starttime(pid);
        cr_assert_neq(*ret_start, 0);
        close(pfd[1]);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return pid;
}

Test(state_files, probe_dead_monitor_is_stale)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = false;
        uint64_t start;
        init_root(&p, "web");
        pid_t pid = dead_pid(&start);
        struct ctr_state a = {.status = CTR_RUNNING,
                              .monitor_pid = pid,
                              .monitor_start = start,
                              .init_pid = pid,
                              .init_start = start,
                              .cgroup = "/sys/fs/cgroup/ctr.slice/w.scope"};
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0, "%s", err.msg);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0, "%s", err.msg);
        cr_assert_eq(s.status, CTR_STOPPED, "status %s", ctr_status_name(s.status));
        cr_assert(stale);
        /* The recorded cgroup is kept for the cleanup. */
        cr_assert_str_eq(s.cgroup, a.cgroup);
        ctr_state_free(&s);
        ctr_paths_free(&p);
}

Test(state_files, probe_recycled_pid_is_stale)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = false;
        init_root(&p, "web");
        /* Our pid, but with another process's start time: a recycled pid, not our monitor. */
        uint64_t st = ctr_proc_starttime(getpid());
        struct ctr_state a = {.status = CTR_RUNNING,
                              .monitor_pid = getpid(),
                              .monitor_start = st + 1,
                              .init_pid = getpid(),
                              .init_start = st};
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0);
        cr_assert_eq(s.status, CTR_STOPPED);
        cr_assert(stale);
        ctr_state_free(&s);
        ctr_paths_free(&p);
}

Test(state_files, probe_dead_init_is_stopping)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = true;
        uint64_t start;
        init_root(&p, "web");
        pid_t pid = dead_pid(&start);
        struct ctr_state a = {.status = CTR_RUNNING,
                              .monitor_pid = getpid(),
                              .monitor_start = ctr_proc_starttime(getpid()),
                              .init_pid = pid,
                              .init_start = start};
        cr_assert_eq(ctr_state_save(&p, "web", &a, &err), 0);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0);
        cr_assert_eq(s.status, CTR_STOPPING, "status %s", ctr_status_name(s.status));
        cr_assert_not(stale);
        ctr_state_free(&s);
        ctr_paths_free(&p);
}

Test(state_files, probe_garbage_is_stale)
{
        struct ctr_paths p;
        struct ctr_state s;
        struct ctr_error err = {0};
        bool stale = false;
        init_root(&p, "web");
        _cleanup_free_ char *path = ctr_path_state(&p, "web");
        cr_assert_eq(ctr_write_atomic(path, "{\"status\": \"runn", 16, 0644), 0);
        cr_assert_eq(ctr_state_probe(&p, "web", &s, &stale, &err), 0);
        cr_assert_eq(s.status, CTR_STOPPED);
        cr_assert(stale);
        cr_assert_null(s.cgroup);
        ctr_state_free(&s);
        ctr_paths_free(&p);
}

/* --- lock ----------------------------------------------------------------------------------- */

Test(state_files, lock_container)
{
        struct ctr_paths p;
        struct ctr_error err = {0};
        int fd = -1;
        init_root(&p, "web");
        cr_assert_eq(ctr_lock_container(&p, "nosuch", &fd, &err), -ENOENT);
        cr_assert_str_eq(err.msg, "no such container");
        cr_assert_eq(fd, -1);

        cr_assert_eq(ctr_lock_container(&p, "web", &fd, &err), 0, "%s", err.msg);
        cr_assert_geq(fd, 0);
        cr_assert_neq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0, "lock fd is not CLOEXEC");

        /* Another open file description cannot take the lock while we hold it. */
        _cleanup_free_ char *dir = ctr_path_container(&p, "web");
        int other = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(other, 0);
        cr_assert_eq(flock(other, LOCK_EX | LOCK_NB), -1);
        cr_assert_eq(errno, EWOULDBLOCK);
        close(fd);
        cr_assert_eq(flock(other, LOCK_EX | LOCK_NB), 0, "lock not released on close");
        close(other);

        /* A symlink in place of the directory is not a container. */
        _cleanup_free_ char *link = ctr_path_container(&p, "linked");
        cr_assert_eq(symlink(dir, link), 0);
        fd = -1;
        cr_assert_eq(ctr_lock_container(&p, "linked", &fd, &err), -ENOENT);
        cr_assert_eq(fd, -1);
        ctr_paths_free(&p);
}
