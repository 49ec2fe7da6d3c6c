/* VM exec sessions between control-socket clients and the guest agent (relay.h). */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "../base/util.h"

enum sess_state { S_FREE, S_PENDING, S_RUNNING, S_ORPHAN };

struct sess {
        enum sess_state state;
        int client;       /* fd, -1 once orphaned */
        uint8_t *pending; /* the EXEC payload while the agent is not up */
        size_t pending_len;
};

struct msg {
        struct msg *next;
        size_t len;
        uint8_t data[];
};

struct rclient {
        int fd;
        uint8_t chan;
        bool dead;
        struct msg *head, *tail;
        size_t queued;
};

struct ctr_relay {
        int agent_fd;
        bool ready;
        uint8_t *aq; /* bytes for the agent not written yet */
        size_t aq_off, aq_len, aq_cap;
        struct sess s[CTR_AGENT_MAX_CHAN + 1];
        struct rclient *c;
        size_t n_c;
        size_t client_queued; /* over every client */
};

struct ctr_relay *ctr_relay_new(void)
{
        struct ctr_relay *r = calloc(1, sizeof(*r));
        if (!r)
                abort();
        r->agent_fd = -1;
        return r;
}

static void client_free_queue(struct ctr_relay *r, struct rclient *c)
{
        for (struct msg *m = c->head, *next; m; m = next) {
                next = m->next;
                free(m);
        }
        r->client_queued -= c->queued;
        c->head = c->tail = NULL;
        c->queued = 0;
}

void ctr_relay_free(struct ctr_relay *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_c; i++)
                client_free_queue(r, &r->c[i]);
        for (int i = 0; i <= CTR_AGENT_MAX_CHAN; i++)
                free(r->s[i].pending);
        free(r->c);
        free(r->aq);
        free(r);
}

static struct rclient *client_find(const struct ctr_relay *r, int fd)
{
        for (size_t i = 0; i < r->n_c; i++)
                if (r->c[i].fd == fd)
                        return &r->c[i];
        return NULL;
}

bool ctr_relay_has_client(const struct ctr_relay *r, int fd)
{
        return client_find(r, fd) != NULL;
}

/* --- to the agent ------------------------------------------------------------------------- */

void ctr_relay_agent_writable(struct ctr_relay *r)
{
        while (r->agent_fd >= 0 && r->aq_off < r->aq_len) {
                ssize_t w = write(r->agent_fd, r->aq + r->aq_off, r->aq_len - r->aq_off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return; /* EAGAIN: later; a dead link shows on the read side */
                r->aq_off += (size_t)w;
        }
        r->aq_off = r->aq_len = 0;
}

int ctr_relay_agent_send(struct ctr_relay *r, uint8_t type, uint8_t chan, const void *p, size_t len)
{
        if (r->agent_fd < 0)
                return -ENOTCONN;
        if (len > CTR_AGENT_MAX_PAYLOAD)
                return -EMSGSIZE;
        if (r->aq_off > 0) {
                memmove(r->aq, r->aq + r->aq_off, r->aq_len - r->aq_off);
                r->aq_len -= r->aq_off;
                r->aq_off = 0;
        }
        if (r->aq_len + 8 + len > r->aq_cap) {
                size_t cap = r->aq_cap ? r->aq_cap : 16384;
                while (cap < r->aq_len + 8 + len)
                        cap *= 2;
                uint8_t *q = realloc(r->aq, cap);
                if (!q)
                        abort();
                r->aq = q;
                r->aq_cap = cap;
        }
        ctr_agent_hdr_put(r->aq + r->aq_len, type, chan, (uint32_t)len);
        if (len)
                memcpy(r->aq + r->aq_len + 8, p, len);
        r->aq_len += 8 + len;
        ctr_relay_agent_writable(r);
        return 0;
}

/* --- to a client -------------------------------------------------------------------------- */

static void client_flush(struct ctr_relay *r, struct rclient *c)
{
        while (c->head && !c->dead) {
                struct msg *m = c->head;
                ssize_t n = send(c->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return;
                if (n < 0) {
                        c->dead = true;
                        break;
                }
                c->head = m->next;
                if (!c->head)
                        c->tail = NULL;
                c->queued -= m->len;
                r->client_queued -= m->len;
                free(m);
        }
        if (c->dead)
                client_free_queue(r, c);
}

static void client_send(struct ctr_relay *r, struct rclient *c, uint32_t type, const void *p, size_t len)
{
        if (c->dead)
                return;
        struct msg *m = malloc(sizeof(*m) + sizeof(struct ctr_ctl_hdr) + len);
        if (!m)
                abort();
        struct ctr_ctl_hdr h = {CTR_CTL_AGENT, type, 0, (uint32_t)len};
        memcpy(m->data, &h, sizeof(h));
        if (len)
                memcpy(m->data + sizeof(h), p, len);
        m->len = sizeof(h) + len;
        m->next = NULL;
        if (c->tail)
                c->tail->next = m;
        else
                c->head = m;
        c->tail = m;
        c->queued += m->len;
        r->client_queued += m->len;
        client_flush(r, c);
}

static void client_send_u32(struct ctr_relay *r, struct rclient *c, uint32_t type, uint32_t v)
{
        uint8_t b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
        client_send(r, c, type, b, sizeof(b));
}

void ctr_relay_client_writable(struct ctr_relay *r, int fd)
{
        struct rclient *c = client_find(r, fd);
        if (c)
                client_flush(r, c);
}

/* --- sessions ----------------------------------------------------------------------------- */

static void sess_free(struct ctr_relay *r, uint8_t chan)
{
        struct sess *s = &r->s[chan];
        free(s->pending);
        *s = (struct sess){.client = -1};
        for (size_t i = 0; i < r->n_c; i++)
                if (r->c[i].chan == chan)
                        r->c[i].chan = 0;
}

/* The session is over for its client, which then closes; the chan stays free for the next. */
static void sess_end(struct ctr_relay *r, uint8_t chan, const char *why, uint32_t status)
{
        struct rclient *c = r->s[chan].client >= 0 ? client_find(r, r->s[chan].client) : NULL;
        if (c) {
                if (why)
                        client_send(r, c, CTR_AGENT_ERROR, why, strlen(why));
                client_send_u32(r, c, CTR_AGENT_EXIT, status);
        }
        sess_free(r, chan);
}

static void sess_start(struct ctr_relay *r, uint8_t chan)
{
        struct sess *s = &r->s[chan];
        if (ctr_relay_agent_send(r, CTR_AGENT_EXEC, chan, s->pending, s->pending_len) < 0) {
                sess_end(r, chan, "the VM's agent link is down", 125);
                return;
        }
        free(s->pending);
        s->pending = NULL;
        s->pending_len = 0;
        s->state = S_RUNNING;
}

void ctr_relay_set_agent(struct ctr_relay *r, int fd)
{
        r->agent_fd = fd;
        r->ready = false;
        r->aq_off = r->aq_len = 0;
        if (fd >= 0)
                ctr_fd_set_nonblock(fd, true);
}

void ctr_relay_agent_ready(struct ctr_relay *r)
{
        r->ready = true;
        for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++)
                if (r->s[c].state == S_PENDING)
                        sess_start(r, (uint8_t)c);
}

void ctr_relay_link_down(struct ctr_relay *r, const char *why)
{
        r->ready = false;
        r->aq_off = r->aq_len = 0;
        for (int c = 1; c <= CTR_AGENT_MAX_CHAN; c++) {
                /* A command waiting for the agent waits on for the next boot's. */
                if (r->s[c].state == S_RUNNING || r->s[c].state == S_ORPHAN)
                        sess_end(r, (uint8_t)c, why, 255);
        }
}

void ctr_relay_agent_frame(struct ctr_relay *r, const struct ctr_agent_hdr *h, const uint8_t *p)
{
        if (h->chan == 0 || h->chan > CTR_AGENT_MAX_CHAN)
                return;
        struct sess *s = &r->s[h->chan];
        if (s->state != S_RUNNING && s->state != S_ORPHAN)
                return;
        struct rclient *c = s->state == S_RUNNING ? client_find(r, s->client) : NULL;
        switch (h->type) {
        case CTR_AGENT_STARTED:
        case CTR_AGENT_STDOUT:
        case CTR_AGENT_STDERR:
        case CTR_AGENT_ERROR:
                if (c)
                        client_send(r, c, h->type, p, h->len);
                break;
        case CTR_AGENT_EXIT:
                if (c)
                        client_send(r, c, h->type, p, h->len);
                sess_free(r, h->chan);
                break;
        default: break;
        }
}

int ctr_relay_client_msg(struct ctr_relay *r, int fd, uint32_t type, const uint8_t *p, size_t len)
{
        struct rclient *c = client_find(r, fd);
        if (type == CTR_AGENT_EXEC) {
                if (c)
                        return -EPROTO; /* one session per connection */
                struct rclient *nc = realloc(r->c, (r->n_c + 1) * sizeof(*nc));
                if (!nc)
                        abort();
                r->c = nc;
                c = &r->c[r->n_c++];
                *c = (struct rclient){.fd = fd};
                uint8_t chan = 0;
                for (int i = 1; i <= CTR_AGENT_MAX_CHAN && !chan; i++)
                        if (r->s[i].state == S_FREE)
                                chan = (uint8_t)i;
                if (!chan) {
                        static const char busy[] = "exec: every one of the agent's 64 sessions is in use";
                        client_send(r, c, CTR_AGENT_ERROR, busy, sizeof(busy) - 1);
                        client_send_u32(r, c, CTR_AGENT_EXIT, 125);
                        return 0;
                }
                struct sess *s = &r->s[chan];
                *s = (struct sess){.state = S_PENDING, .client = fd, .pending = malloc(len ? len : 1),
                                   .pending_len = len};
                if (!s->pending)
                        abort();
                memcpy(s->pending, p, len);
                c->chan = chan;
                if (r->ready)
                        sess_start(r, chan);
                return 0;
        }
        if (!c)
                return -EPROTO;
        if (!c->chan)
                return 0; /* the session already ended: late input */
        struct sess *s = &r->s[c->chan];
        switch (type) {
        case CTR_AGENT_SIGNAL:
                if (len != 4)
                        return -EPROTO;
                if (s->state == S_PENDING) {
                        /* Not started yet: nothing runs, and the command ends as killed. */
                        uint32_t sig = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
                        sess_end(r, c->chan, NULL, 128 + (sig & 0x7f));
                        return 0;
                }
                break;
        case CTR_AGENT_RESIZE:
                if (len != 4)
                        return -EPROTO;
                break;
        case CTR_AGENT_STDIN:
        case CTR_AGENT_STDIN_EOF: break;
        default: return -EPROTO;
        }
        if (s->state == S_PENDING)
                return -EPROTO; /* input before STARTED */
        ctr_relay_agent_send(r, (uint8_t)type, c->chan, p, len);
        return 0;
}

void ctr_relay_client_gone(struct ctr_relay *r, int fd)
{
        struct rclient *c = client_find(r, fd);
        if (!c)
                return;
        if (c->chan) {
                struct sess *s = &r->s[c->chan];
                if (s->state == S_PENDING)
                        sess_free(r, c->chan);
                else {
                        /* As a namespace exec dies with its ctr exec: the guest kills the job. */
                        uint8_t sig[4] = {SIGKILL, 0, 0, 0};
                        ctr_relay_agent_send(r, CTR_AGENT_SIGNAL, c->chan, sig, sizeof(sig));
                        s->state = S_ORPHAN;
                        s->client = -1;
                }
        }
        client_free_queue(r, c);
        *c = r->c[--r->n_c];
}

int ctr_relay_take_dead(struct ctr_relay *r)
{
        for (size_t i = 0; i < r->n_c; i++)
                if (r->c[i].dead)
                        return r->c[i].fd;
        return -1;
}

uint32_t ctr_relay_agent_events(const struct ctr_relay *r)
{
        uint32_t ev = r->client_queued < CTR_RELAY_CLIENT_QUEUE_MAX ? EPOLLIN : 0;
        if (r->aq_len > r->aq_off)
                ev |= EPOLLOUT;
        return ev;
}

uint32_t ctr_relay_client_events(const struct ctr_relay *r, int fd)
{
        const struct rclient *c = client_find(r, fd);
        if (!c)
                return EPOLLIN;
        uint32_t ev = r->aq_len - r->aq_off < CTR_RELAY_AGENT_QUEUE_MAX ? EPOLLIN : 0;
        if (c->head)
                ev |= EPOLLOUT;
        return ev;
}
