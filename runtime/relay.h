/* The monitor's side of `ctr exec` into a VM: each exec client of the control socket owns one
 * session of the guest agent (vm/agent.h), and the relay multiplexes them on the agent's stream.
 * Both directions are queued without blocking and bounded: when a client does not read, the
 * relay stops reading the agent (the guest's writes wait); when the guest does not read, the
 * relay stops reading exec clients. Nothing is dropped, and the monitor never blocks on either.
 * Epoll-agnostic: the caller asks which events each fd wants. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/agent.h"

struct ctr_relay;

/* Caps the relay keeps queued before it stops reading the other side. */
#define CTR_RELAY_CLIENT_QUEUE_MAX (1u << 20)
#define CTR_RELAY_AGENT_QUEUE_MAX (256u << 10)

struct ctr_relay *ctr_relay_new(void);
void ctr_relay_free(struct ctr_relay *r);

/* The agent's stream (made non-blocking), or -1 when it went down; a new link ends no session by
 * itself (see ctr_relay_link_down). */
void ctr_relay_set_agent(struct ctr_relay *r, int fd);
/* The agent said READY: sessions that waited for it are sent. */
void ctr_relay_agent_ready(struct ctr_relay *r);
/* Every session ends for its client with ERROR why, then EXIT 255; the queue to the agent goes. */
void ctr_relay_link_down(struct ctr_relay *r, const char *why);

/* A frame of a VM-wide type for the agent (SHUTDOWN). -ENOTCONN when there is no link. */
int ctr_relay_agent_send(struct ctr_relay *r, uint8_t type, uint8_t chan, const void *p, size_t len);
/* A frame from the agent for a session (chan 1..CTR_AGENT_MAX_CHAN); others are ignored. */
void ctr_relay_agent_frame(struct ctr_relay *r, const struct ctr_agent_hdr *h, const uint8_t *p);

/* A CTR_CTL_AGENT message from client fd: EXEC first (it opens the client's session), then
 * STDIN, STDIN_EOF, SIGNAL, RESIZE for it. -EPROTO when the client broke the protocol (the
 * caller drops it, which ends its session). */
int ctr_relay_client_msg(struct ctr_relay *r, int fd, uint32_t type, const uint8_t *p, size_t len);
/* The client closed or was dropped: its running command is killed (SIGKILL to its process
 * group in the guest) and its session ends when the guest reports EXIT. */
void ctr_relay_client_gone(struct ctr_relay *r, int fd);
bool ctr_relay_has_client(const struct ctr_relay *r, int fd);

/* Readiness from the caller's poll. */
void ctr_relay_agent_writable(struct ctr_relay *r);
void ctr_relay_client_writable(struct ctr_relay *r, int fd);

/* Wanted events, as EPOLLIN/EPOLLOUT bits. */
uint32_t ctr_relay_agent_events(const struct ctr_relay *r);
/* For a client of the relay; an fd the relay does not know gets EPOLLIN. */
uint32_t ctr_relay_client_events(const struct ctr_relay *r, int fd);
/* A client whose socket failed, for the caller to drop (-1 when none). */
int ctr_relay_take_dead(struct ctr_relay *r);
