/* The guest agent's wire protocol: frames between the monitor (host) and ctr-vminit's agent in
 * the guest over the VM's virtio console (/dev/hvc0 in the guest, raw mode). Shared, header-only
 * apart from vm/agent.c, by the VMM side and the static guest program. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Every frame: this header (little endian) then len payload bytes. */
struct ctr_agent_hdr {
        uint8_t type;
        uint8_t chan;   /* exec session 1..CTR_AGENT_MAX_CHAN; 0 for VM-wide frames */
        uint16_t magic; /* CTR_AGENT_MAGIC: a resync guard, a frame without it is a protocol error */
        uint32_t len;
} __attribute__((packed));

#define CTR_AGENT_MAGIC 0xc7a6
#define CTR_AGENT_MAX_PAYLOAD 65536
#define CTR_AGENT_MAX_CHAN 64

enum ctr_agent_type {
        /* host -> guest */
        CTR_AGENT_EXEC = 1,      /* chan: new session. payload: flags (u32: 1 = tty), rows (u16), cols (u16),
                                  * uid (u32), gid (u32), then NUL-terminated strings: cwd, argv..., "",
                                  * env "K=V"..., "" */
        CTR_AGENT_STDIN = 2,     /* chan; payload: bytes for the command's stdin (or its pty) */
        CTR_AGENT_STDIN_EOF = 3, /* chan: close the command's stdin */
        CTR_AGENT_SIGNAL = 4,    /* chan; payload: u32 signal number for the session's process group */
        CTR_AGENT_RESIZE = 5,    /* chan; payload: rows (u16), cols (u16) */
        CTR_AGENT_SHUTDOWN = 6,  /* chan 0; payload: u32 signal to send to the guest's PID 1 */
        /* guest -> host */
        CTR_AGENT_READY = 64,    /* chan 0, once the agent runs; payload: guest kernel release string */
        CTR_AGENT_STARTED = 65,  /* chan; payload: u32 guest pid */
        CTR_AGENT_STDOUT = 66,   /* chan; payload: bytes (also the pty's output for a tty session) */
        CTR_AGENT_STDERR = 67,   /* chan; payload: bytes */
        CTR_AGENT_EXIT = 68,     /* chan; payload: i32 status as a shell reports it (128+N for signal N,
                                  * 126 not executable, 127 not found); the session is over */
        CTR_AGENT_ERROR = 69,    /* chan (0 = agent-wide); payload: a message; for a session, followed by EXIT */
};

/* Encode a frame header into 8 bytes. */
void ctr_agent_hdr_put(uint8_t out[8], uint8_t type, uint8_t chan, uint32_t len);
/* Decode 8 bytes; -EPROTO on a bad magic or a payload over CTR_AGENT_MAX_PAYLOAD. */
int ctr_agent_hdr_get(const uint8_t in[8], struct ctr_agent_hdr *ret);

/* An incremental reader: feed bytes as they arrive, take whole frames out. */
struct ctr_agent_reader {
        uint8_t buf[8 + CTR_AGENT_MAX_PAYLOAD];
        size_t have;
};
/* Appends up to n bytes; returns how many were taken (less than n when a frame is complete and
 * waits to be taken). */
size_t ctr_agent_reader_feed(struct ctr_agent_reader *r, const void *data, size_t n);
/* 1 with *hdr and *payload (valid until the next call) when a whole frame is buffered, 0 when
 * more bytes are needed, -EPROTO on a malformed frame. */
int ctr_agent_reader_next(struct ctr_agent_reader *r, struct ctr_agent_hdr *hdr, const uint8_t **payload);
/* Build an EXEC payload into buf (cap bytes); returns its length or -E2BIG. */
int ctr_agent_exec_payload(uint8_t *buf, size_t cap, uint32_t flags, uint16_t rows, uint16_t cols, uint32_t uid,
                           uint32_t gid, const char *cwd, char *const *argv, char *const *env);

/* ctr_agent_exec_payload also fails with -EINVAL for an empty argv, or an empty string in argv or
 * env: "" ends a list on the wire, so it cannot be carried. */

/* Drop the first buffered byte: after -EPROTO, the caller hunts for the next valid header this way
 * (the magic is the resync guard) instead of dropping the whole link. */
void ctr_agent_reader_skip(struct ctr_agent_reader *r);

/* A decoded EXEC payload. The strings live in one allocation owned by mem. */
struct ctr_agent_exec {
        uint32_t flags; /* 1 = tty */
        uint16_t rows, cols;
        uint32_t uid, gid;
        char *cwd;   /* "" when the host sent none */
        char **argv; /* NULL-terminated, at least one element */
        char **env;  /* NULL-terminated, maybe empty */
        void *mem;
};
/* Decode an EXEC payload: 0, -EPROTO when it is malformed (short, unterminated, empty argv, trailing
 * bytes), -ENOMEM. Free with ctr_agent_exec_free. */
int ctr_agent_exec_parse(const uint8_t *p, size_t len, struct ctr_agent_exec *ret);
void ctr_agent_exec_free(struct ctr_agent_exec *e);

/* The static guest program (build/ctr-vminit), embedded in ctr by vm/vminit-blob.S. */
extern const unsigned char ctr_vminit_start[], ctr_vminit_end[];
