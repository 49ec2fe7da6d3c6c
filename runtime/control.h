/* The monitor's control socket (RUN/NAME/monitor.sock): typed SOCK_SEQPACKET messages so that
 * stop and attach work the same whoever started the container. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "state.h"

enum ctr_ctl_type {
        CTR_CTL_STOP = 1,   /* arg1: timeout seconds, arg2: 1 = kill at once. Reply: EOF when stopped. */
        CTR_CTL_ATTACH = 2, /* arg1: rows, arg2: cols. Then DATA both ways. */
        CTR_CTL_DATA = 3,   /* payload: console bytes */
        CTR_CTL_RESIZE = 4, /* arg1: rows, arg2: cols */
        CTR_CTL_FREEZE = 5, /* arg1: 1 = freeze, 0 = thaw. Reply: REPLY. */
        CTR_CTL_REPLY = 6,  /* arg1: errno (0 = done), payload: the reason */
        /* VM exec (runtime/relay.h): arg1 is a vm/agent.h frame type, the payload that frame's.
         * Client to monitor: EXEC (opens the connection's one session), STDIN, STDIN_EOF,
         * SIGNAL, RESIZE; monitor to client: STARTED, STDOUT, STDERR, ERROR, EXIT. */
        CTR_CTL_AGENT = 7,
        /* A live snapshot of a VM (ctr snapshot --live): payload the absolute path of an empty
         * directory the VMM writes vmstate, memory and disk.img to. Reply: REPLY, its payload the
         * microseconds the vCPUs were paused, or the reason. */
        CTR_CTL_VM_SNAPSHOT = 8,
};

struct ctr_ctl_hdr {
        uint32_t type;
        uint32_t arg1;
        uint32_t arg2;
        uint32_t len;
};

/* A whole agent frame fits one message. */
#define CTR_CTL_MAX_DATA 65536

/* Path used to bind/connect, short enough for sun_path whatever the --root: /proc/self/fd/N/... */
int ctr_ctl_listen(int rundir_fd, struct ctr_error *err);
int ctr_ctl_connect(const struct ctr_paths *p, const char *name, int *ret_fd, struct ctr_error *err);
int ctr_ctl_send(int fd, uint32_t type, uint32_t a1, uint32_t a2, const void *data, size_t len);
/* Returns payload length (>= 0), -ECONNRESET on EOF, or -errno. */
ssize_t ctr_ctl_recv(int fd, struct ctr_ctl_hdr *h, void *buf, size_t cap);
/* Send a request and wait for its REPLY; a nonzero errno in the reply fills err. */
int ctr_ctl_request(int fd, uint32_t type, uint32_t a1, uint32_t a2, const char *op, struct ctr_error *err);
/* The same with a payload; the reply's payload (NUL-terminated, cut to cap) goes to ret. */
int ctr_ctl_request_data(int fd, uint32_t type, uint32_t a1, uint32_t a2, const void *data, size_t len, char *ret,
                         size_t cap, const char *op, struct ctr_error *err);
