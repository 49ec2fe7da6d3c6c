/* exec and attach: join a running container (exec through a pidfd of its init, into every
 * namespace and its cgroup), or connect to its console through the monitor. */
#pragma once

#include <stdbool.h>

#include "../base/error.h"
#include "state.h"

struct ctr_exec_opts {
        char **argv;
        bool tty;
        const char *user; /* name or uid[:gid], NULL = root */
        const char *cwd;  /* NULL = the user's home, else / */
        char **env;       /* extra "K=V" */
};

/* 0 with *ret_status = the command's exit status (128+N when killed by signal N), or -errno with
 * err set and *ret_status = 125 (ctr failed), 126 (not executable) or 127 (not found). */
struct ctr_config;
struct ctr_spec;
/* What an exec into a running container with this config is, compiled: joins through init's
 * pidfd, the command, the user looked up inside, the container's confinement. */
int ctr_exec_compile(const struct ctr_config *cfg, const struct ctr_exec_opts *o, int init_pidfd, struct ctr_spec *ret,
                     struct ctr_error *err);

int ctr_exec(const struct ctr_paths *p, const char *name, const struct ctr_exec_opts *o, int *ret_status,
             struct ctr_error *err);

/* The caller's terminal (stdin) in raw mode while a pty is relayed, and back; no-ops when stdin
 * is not a terminal. */
void ctr_tty_raw(void);
void ctr_tty_restore(void);

/* Returns 0 on detach or when the container stops, -errno with err set. */
int ctr_attach(const struct ctr_paths *p, const char *name, struct ctr_error *err);

/* Parse /etc/passwd text for a user given by name or number. Exposed for unit tests. */
