/* SPDX-License-Identifier: MIT */
/*
 * The generic client connection shared by every transport: requests are cut
 * out of the byte stream and handed to the engine; replies and watch events
 * come back through the engine's send callback into an output queue the
 * transport drains. Flow control keeps memory bounded whatever a peer does:
 * a client whose output piles up, whose answers are outstanding or whose
 * writes are rate-limited is paused (its transport stops reading) and its
 * unparsed input is held; watch events beyond a bound are dropped, replies
 * never. Closing is deferred to loop.c's idle work, so any callback may close
 * any client, its own included.
 */
#include "daemon.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Queued output above OUT_HIGH pauses the client until it drains to OUT_LOW. */
#define OUT_HIGH (64u * 1024)
#define OUT_LOW (16u * 1024)
/* Output queued beyond which new watch events are dropped. */
#define EVENTS_MAX_UNPRIV (256u * 1024)
#define EVENTS_MAX_PRIV (16u * 1024 * 1024)
/* Unanswered requests a privileged client may have (unprivileged: d->max_inflight). */
#define INFLIGHT_PRIV 256u

/* One queued message: the wire header and payload, contiguous. */
struct xsd_outmsg {
	struct xsd_outmsg *next;
	uint64_t queued; /* uv_now() when queued, ms */
	bool event;	 /* a WATCH_EVENT (droppable), not a reply */
	size_t len;	 /* bytes in data */
	unsigned char data[];
};

static bool client_priv(const struct xsd_client *cl)
{
	return cl->flags & XSD_CONN_PRIV;
}

static unsigned int client_max_inflight(const struct xsd_client *cl)
{
	if (client_priv(cl))
		return INFLIGHT_PRIV;
	return cl->d->max_inflight ? cl->d->max_inflight : 1;
}

/* Whether the next complete request must wait. */
static bool client_blocked(const struct xsd_client *cl)
{
	return cl->closing || cl->out_full || cl->throttled ||
	       cl->inflight >= client_max_inflight(cl);
}

static void ready_push(struct xsd_client *cl)
{
	if (cl->queued)
		return;
	cl->queued = true;
	cl->ready_next = cl->d->ready;
	cl->d->ready = cl;
	xsd_loop_wake(cl->d);
}

static void ready_remove(struct xsd_client *cl)
{
	if (!cl->queued)
		return;
	for (struct xsd_client **pp = &cl->d->ready; *pp; pp = &(*pp)->ready_next) {
		if (*pp == cl) {
			*pp = cl->ready_next;
			break;
		}
	}
	cl->queued = false;
	cl->ready_next = NULL;
}

/*
 * Recompute the flow-control state after anything that changes it: the
 * output watermarks, the transport's pause, and whether held input may be
 * resumed (by xsd_clients_work(), never from inside the caller's callback).
 */
static void client_update(struct xsd_client *cl)
{
	if (cl->closing)
		return;
	if (cl->out_full && cl->out_bytes <= OUT_LOW)
		cl->out_full = false;
	else if (!cl->out_full && cl->out_bytes > OUT_HIGH)
		cl->out_full = true;
	bool blocked = client_blocked(cl);
	bool held = cl->msg_ready || cl->in_len > 0;
	bool pause = blocked || held;
	if (pause != cl->paused) {
		cl->paused = pause;
		cl->ops->pause(cl, pause);
	}
	if (!blocked && held)
		ready_push(cl);
}

static void throttle_done(uv_timer_t *t)
{
	struct xsd_client *cl = t->data;

	cl->throttled = false;
	client_update(cl);
}

/*
 * Hand complete requests from @p data to the engine until the bytes run out
 * or the client must wait; *used counts the bytes taken into the reader.
 * A negative return means the peer broke the protocol.
 */
static int client_feed(struct xsd_client *cl, const unsigned char *data, size_t len, size_t *used)
{
	size_t off = 0;
	int err = 0;

	for (;;) {
		if (cl->msg_ready) {
			if (client_blocked(cl))
				break;
			unsigned int ms = xsd_conn_throttle_ms(cl->conn);
			if (ms > 0) {
				cl->throttled = true;
				uv_timer_start(cl->throttle, throttle_done, ms, 0);
				break;
			}
			cl->msg_ready = false;
			cl->inflight++; /* before: the engine may answer at once */
			cl->d->requests++;
			err = xsd_conn_request(cl->conn, &cl->reader.hdr,
					       xsd_reader_payload(&cl->reader));
			xsd_reader_next(&cl->reader);
			if (err < 0)
				break;
			continue;
		}
		if (off == len)
			break;
		bool complete;
		long n = xsd_reader_feed(&cl->reader, data + off, len - off, &complete);
		if (n < 0) {
			err = (int)n;
			break;
		}
		off += (size_t)n;
		cl->msg_ready = complete;
	}
	*used = off;
	if (err < 0)
		xsd_log(cl->d, LOG_WARNING, "domain %u broke the protocol (%s): closing it",
			cl->domid, vs_error_last()->message);
	return err;
}

/* Keep @p len bytes of input for later. */
static int client_hold(struct xsd_client *cl, const void *data, size_t len)
{
	if (cl->in_cap - cl->in_len < len) {
		size_t cap = cl->in_cap ? cl->in_cap : 4096;
		while (cap - cl->in_len < len)
			cap *= 2;
		unsigned char *p = realloc(cl->in, cap);
		if (!p)
			return vs_error_set(VS_ENOMEM, "no memory to hold %zu bytes of input", len);
		cl->in = p;
		cl->in_cap = cap;
	}
	memcpy(cl->in + cl->in_len, data, len);
	cl->in_len += len;
	return 0;
}

/* Go on with held input once the client may (xsd_clients_work). */
static void client_resume(struct xsd_client *cl)
{
	size_t used = 0;
	int err = client_feed(cl, cl->in, cl->in_len, &used);

	if (err < 0) {
		xsd_client_close(cl);
		return;
	}
	cl->in_len -= used;
	if (cl->in_len)
		memmove(cl->in, cl->in + used, cl->in_len);
	else {
		free(cl->in);
		cl->in = NULL;
		cl->in_cap = 0;
	}
	client_update(cl);
}

int xsd_client_input(struct xsd_client *cl, const void *data, size_t len)
{
	int err = 0;

	if (cl->closing || len == 0)
		return 0;
	if (cl->in_len || cl->msg_ready || client_blocked(cl)) {
		/* Order matters: new bytes go behind what is held. */
		err = client_hold(cl, data, len);
	} else {
		size_t used = 0;
		err = client_feed(cl, data, len, &used);
		if (err >= 0 && used < len)
			err = client_hold(cl, (const unsigned char *)data + used, len - used);
	}
	client_update(cl);
	return err < 0 ? err : 0;
}

/* Drop watch events queued longer than -w watch-event=SEC (not one being sent). */
static void client_drop_stale(struct xsd_client *cl)
{
	if (client_priv(cl) || !cl->d->event_timeout || !cl->out_head)
		return;
	uint64_t now = uv_now(cl->d->loop);
	uint64_t max = (uint64_t)cl->d->event_timeout * 1000;
	struct xsd_outmsg *prev = NULL, **pp = &cl->out_head;
	if (cl->out_off) {
		prev = cl->out_head;
		pp = &prev->next;
	}
	/* The queue is in time order: stop at the first message young enough. */
	while (*pp && now - (*pp)->queued > max) {
		struct xsd_outmsg *m = *pp;
		if (!m->event) {
			prev = m;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		if (cl->out_tail == m)
			cl->out_tail = prev;
		cl->out_bytes -= m->len;
		cl->out_msgs--;
		if (!cl->dropped++)
			xsd_log(cl->d, LOG_WARNING,
				"domain %u: dropping watch events pending over %u s", cl->domid,
				cl->d->event_timeout);
		free(m);
	}
}

/* Room for one more watch event of @p len payload bytes? */
static bool client_event_room(const struct xsd_client *cl, size_t len)
{
	size_t max = client_priv(cl) ? EVENTS_MAX_PRIV : EVENTS_MAX_UNPRIV;

	return cl->out_bytes + sizeof(struct xsd_msg_hdr) + len <= max;
}

/* The engine's send callback: queue a reply or watch event for the transport. */
static void client_send(void *payload, const struct xsd_msg_hdr *hdr, const void *body)
{
	struct xsd_client *cl = payload;
	bool event = hdr->type == XSD_WATCH_EVENT;

	if (cl->closing)
		return;
	if (!event && cl->inflight > 0)
		cl->inflight--;
	if (event && !client_event_room(cl, hdr->len)) {
		if (!cl->dropped++)
			xsd_log(
			    cl->d, LOG_WARNING,
			    "domain %u is not reading: dropping watch events (%zu bytes queued)",
			    cl->domid, cl->out_bytes);
		client_update(cl);
		return;
	}
	size_t len = sizeof(*hdr) + hdr->len;
	struct xsd_outmsg *m = malloc(sizeof(*m) + len);
	if (!m) {
		if (event) {
			cl->dropped++;
			client_update(cl);
			return;
		}
		/* A lost reply would leave the peer waiting forever. */
		xsd_log(cl->d, LOG_ERR, "domain %u: no memory to queue a reply: closing it",
			cl->domid);
		xsd_client_close(cl);
		return;
	}
	m->next = NULL;
	m->queued = uv_now(cl->d->loop);
	m->event = event;
	m->len = len;
	memcpy(m->data, hdr, sizeof(*hdr));
	if (hdr->len)
		memcpy(m->data + sizeof(*hdr), body, hdr->len);
	if (cl->out_tail)
		cl->out_tail->next = m;
	else
		cl->out_head = m;
	cl->out_tail = m;
	cl->out_bytes += len;
	cl->out_msgs++;
	client_update(cl);
	if (!cl->d->deferring_kicks) {
		cl->ops->kick(cl);
	} else if (!cl->kick_queued) { /* a flush is handing out replies: write once after */
		cl->kick_queued = true;
		cl->kick_next = cl->d->kicks;
		cl->d->kicks = cl;
	}
}

void xsd_clients_kick(struct xsd_daemon *d)
{
	struct xsd_client *list = d->kicks;

	d->kicks = NULL;
	while (list) {
		struct xsd_client *cl = list;
		list = cl->kick_next;
		cl->kick_next = NULL;
		cl->kick_queued = false;
		if (!cl->closing)
			cl->ops->kick(cl);
	}
}

size_t xsd_client_out_peek(struct xsd_client *cl, const void **data)
{
	client_drop_stale(cl);
	struct xsd_outmsg *m = cl->out_head;
	if (!m) {
		*data = NULL;
		return 0;
	}
	*data = m->data + cl->out_off;
	return m->len - cl->out_off;
}

size_t xsd_client_out_iov(struct xsd_client *cl, uv_buf_t *bufs, size_t max)
{
	size_t n = 0;

	client_drop_stale(cl);
	for (struct xsd_outmsg *m = cl->out_head; m && n < max; m = m->next) {
		size_t off = m == cl->out_head ? cl->out_off : 0;
		bufs[n++] = uv_buf_init((char *)m->data + off, (unsigned int)(m->len - off));
	}
	return n;
}

void xsd_client_out_consume(struct xsd_client *cl, size_t n)
{
	while (n > 0) {
		struct xsd_outmsg *m = cl->out_head;
		assert(m);
		size_t left = m->len - cl->out_off;
		if (n < left) {
			cl->out_off += n;
			cl->out_bytes -= n;
			break;
		}
		n -= left;
		cl->out_bytes -= left;
		cl->out_head = m->next;
		if (!cl->out_head)
			cl->out_tail = NULL;
		cl->out_off = 0;
		cl->out_msgs--;
		free(m);
	}
	if (!cl->out_head && cl->dropped) {
		xsd_log(cl->d, LOG_WARNING, "domain %u: %zu watch events were dropped", cl->domid,
			cl->dropped);
		cl->dropped = 0;
	}
	client_update(cl);
}

int xsd_client_new(struct xsd_client **out, struct xsd_daemon *d, unsigned int domid,
		   unsigned int flags, const struct xsd_client_ops *ops, void *transport)
{
	int err;

	*out = NULL;
	struct xsd_client *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return vs_error_set(VS_ENOMEM, "no memory for a client connection");
	cl->throttle = malloc(sizeof(*cl->throttle));
	if (!cl->throttle) {
		free(cl);
		return vs_error_set(VS_ENOMEM, "no memory for a client connection");
	}
	cl->d = d;
	cl->ops = ops;
	cl->transport = transport;
	cl->domid = domid;
	cl->flags = flags;
	xsd_reader_init(&cl->reader);
	if ((err = xsd_conn_new(&cl->conn, d->engine, domid, flags, client_send, cl)) < 0) {
		xsd_reader_release(&cl->reader);
		free(cl->throttle);
		free(cl);
		return err;
	}
	uv_timer_init(d->loop, cl->throttle);
	cl->throttle->data = cl;
	cl->next = d->clients;
	if (d->clients)
		d->clients->prev = cl;
	d->clients = cl;
	xsd_log(d, LOG_INFO, "new connection as domain %u%s", domid,
		flags & XSD_CONN_PRIV ? " (privileged)" : "");
	*out = cl;
	return 0;
}

void xsd_client_close(struct xsd_client *cl)
{
	if (!cl || cl->closing)
		return;
	cl->closing = true;
	uv_timer_stop(cl->throttle);
	cl->close_next = cl->d->closing;
	cl->d->closing = cl;
	xsd_loop_wake(cl->d);
}

void xsd_client_close_domain(struct xsd_daemon *d, unsigned int domid)
{
	for (struct xsd_client *cl = d->clients; cl; cl = cl->next)
		if (cl->domid == domid && !client_priv(cl))
			xsd_client_close(cl);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* Teardown proper, outside every callback of @p cl. */
static void client_free(struct xsd_client *cl)
{
	struct xsd_daemon *d = cl->d;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		d->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	ready_remove(cl);
	/* The engine drops what it still held for the client; client_send ignores it. */
	xsd_conn_free(cl->conn);
	cl->conn = NULL;
	cl->ops->close(cl);
	cl->throttle->data = NULL;
	uv_close((uv_handle_t *)cl->throttle, free_handle);
	while (cl->out_head) {
		struct xsd_outmsg *m = cl->out_head;
		cl->out_head = m->next;
		free(m);
	}
	free(cl->in);
	xsd_reader_release(&cl->reader);
	xsd_log(d, LOG_INFO, "connection of domain %u closed", cl->domid);
	free(cl);
}

static void clients_reap(struct xsd_daemon *d)
{
	while (d->closing) {
		struct xsd_client *cl = d->closing;
		d->closing = cl->close_next;
		client_free(cl);
	}
}

bool xsd_clients_work(struct xsd_daemon *d)
{
	struct xsd_client *list = d->ready;

	d->ready = NULL;
	while (list) {
		struct xsd_client *cl = list;
		list = cl->ready_next;
		cl->ready_next = NULL;
		cl->queued = false;
		if (!cl->closing)
			client_resume(cl);
	}
	clients_reap(d);
	return d->ready || d->closing;
}

void xsd_clients_close_all(struct xsd_daemon *d)
{
	for (struct xsd_client *cl = d->clients; cl; cl = cl->next)
		xsd_client_close(cl);
	clients_reap(d);
}
