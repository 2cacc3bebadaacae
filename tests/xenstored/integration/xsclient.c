/* SPDX-License-Identifier: MIT */
/*
 * Raw Xenstore wire client (see xsclient.h). Blocking writes, poll()-bounded
 * reads; a header is read whole before its payload, and a payload length
 * above 4096 is reported rather than trusted.
 */
#include "xsclient.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Xen's xsd_errors[] (xs_wire.h), in its order. */
static const struct {
	const char *name;
	int err;
} wire_errors[] = {
	{ "EINVAL", EINVAL }, { "EACCES", EACCES },	  { "EEXIST", EEXIST },
	{ "EISDIR", EISDIR }, { "ENOENT", ENOENT },	  { "ENOMEM", ENOMEM },
	{ "ENOSPC", ENOSPC }, { "EIO", EIO },		  { "ENOTEMPTY", ENOTEMPTY },
	{ "ENOSYS", ENOSYS }, { "EROFS", EROFS },	  { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
	{ "EPERM", EPERM },
};

uint64_t xst_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int xst_errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(wire_errors) / sizeof(wire_errors[0]); i++)
		if (!strcmp(name, wire_errors[i].name))
			return -wire_errors[i].err;
	return -EINVAL;
}

int xst_connect(struct xst_conn **out, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A daemon that closes on us must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct xst_conn *c = calloc(1, sizeof(*c));
	if (c)
		c->events = calloc(XST_EVENT_RING, sizeof(*c->events));
	if (!c || !c->events) {
		if (c)
			free(c->events);
		free(c);
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_req = 1;
	*out = c;
	return 0;
}

void xst_close(struct xst_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->events);
	free(c);
}

int xst_send_raw(struct xst_conn *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int xst_send_lying(struct xst_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		   uint32_t hdr_len, const void *payload, size_t len)
{
	struct xsd_msg_hdr h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = hdr_len };
	unsigned char buf[sizeof(h) + XSD_PAYLOAD_MAX + 64];
	if (len > sizeof(buf) - sizeof(h))
		return -E2BIG;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	/* One write: the daemon sees header and payload together. */
	return xst_send_raw(c, buf, sizeof(h) + len);
}

long xst_send(struct xst_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
	      size_t len)
{
	uint32_t req = c->next_req++;
	int err = xst_send_lying(c, type, req, tx_id, (uint32_t)len, payload, len);
	return err < 0 ? err : (long)req;
}

/* Read exactly @len bytes before @deadline. */
static int read_full(struct xst_conn *c, void *buf, size_t len, uint64_t deadline)
{
	unsigned char *p = buf;
	while (len) {
		uint64_t now = xst_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(c->fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int xst_recv_any(struct xst_conn *c, struct xst_msg *out, int timeout_ms)
{
	uint64_t deadline = xst_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	int err = read_full(c, &out->hdr, sizeof(out->hdr), deadline);
	if (err < 0)
		return err;
	if (out->hdr.len > XSD_PAYLOAD_MAX)
		return -EPROTO;
	/* Once a header is in, its payload is due: allow it the full wait. */
	err = read_full(c, out->body, out->hdr.len, xst_now_ms() + XST_TIMEOUT_MS);
	if (err < 0)
		return err;
	out->body[out->hdr.len] = '\0';
	return 0;
}

static void queue_event(struct xst_conn *c, const struct xst_msg *m)
{
	if (c->ev_count == XST_EVENT_RING) {
		c->ev_dropped++;
		return;
	}
	size_t slot = (c->ev_head + c->ev_count) % XST_EVENT_RING;
	c->events[slot].hdr = m->hdr;
	memcpy(c->events[slot].body, m->body, m->hdr.len + 1);
	c->ev_count++;
}

int xst_recv_reply(struct xst_conn *c, struct xst_msg *out, int timeout_ms)
{
	uint64_t deadline = xst_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	for (;;) {
		uint64_t now = xst_now_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);
		int err = xst_recv_any(c, out, left);
		if (err < 0)
			return err;
		if (out->hdr.type != XSD_WATCH_EVENT)
			return 0;
		queue_event(c, out);
	}
}

int xst_next_event(struct xst_conn *c, struct xst_msg *out, int timeout_ms)
{
	if (c->ev_count) {
		const struct xst_msg *m = &c->events[c->ev_head];
		out->hdr = m->hdr;
		memcpy(out->body, m->body, m->hdr.len + 1);
		c->ev_head = (c->ev_head + 1) % XST_EVENT_RING;
		c->ev_count--;
		return 0;
	}
	uint64_t deadline = xst_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	for (;;) {
		uint64_t now = xst_now_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);
		int err = xst_recv_any(c, out, left);
		if (err < 0)
			return err;
		if (out->hdr.type == XSD_WATCH_EVENT)
			return 0;
		/* An unexpected reply: not an event; keep looking. */
	}
}

void xst_drain(struct xst_conn *c, int quiet_ms)
{
	struct xst_msg *m = malloc(sizeof(*m));
	c->ev_head = c->ev_count = 0;
	/* Bounded: at most 100000 messages, each within @quiet_ms of the last. */
	for (int i = 0; m && i < 100000; i++)
		if (xst_recv_any(c, m, quiet_ms) < 0)
			break;
	free(m);
}

int xst_msg_error(const struct xst_msg *m)
{
	if (m->hdr.type != XSD_ERROR)
		return 0;
	return xst_errno_from_name(m->body);
}

int xst_request(struct xst_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
		size_t len, struct xst_msg *out)
{
	struct xst_msg *m = out ? out : malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	long req = xst_send(c, type, tx_id, payload, len);
	int err = req < 0 ? (int)req : xst_recv_reply(c, m, XST_TIMEOUT_MS);
	/* Replies to an earlier xst_flood() may still be on their way: skip them. */
	for (int i = 0; !err && i < 1000000 && m->hdr.req_id >= XST_FLOOD_REQ_ID; i++)
		err = xst_recv_reply(c, m, XST_TIMEOUT_MS);
	if (!err && m->hdr.req_id != (uint32_t)req)
		err = -EBADMSG;
	if (!err)
		err = xst_msg_error(m);
	if (!out)
		free(m);
	return err;
}

int xst_requestv(struct xst_conn *c, uint32_t type, uint32_t tx_id, struct xst_msg *out, ...)
{
	char buf[XSD_PAYLOAD_MAX + 64];
	size_t len = 0;
	va_list ap;
	va_start(ap, out);
	for (const char *s; (s = va_arg(ap, const char *));) {
		size_t n = strlen(s) + 1;
		if (len + n > sizeof(buf)) {
			va_end(ap);
			return -E2BIG;
		}
		memcpy(buf + len, s, n);
		len += n;
	}
	va_end(ap);
	return xst_request(c, type, tx_id, buf, len, out);
}

int xst_write(struct xst_conn *c, uint32_t tx_id, const char *path, const char *value)
{
	char buf[XSD_PAYLOAD_MAX + 64];
	size_t pl = strlen(path) + 1, vl = strlen(value);
	if (pl + vl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	return xst_request(c, XSD_WRITE, tx_id, buf, pl + vl, NULL);
}

bool xst_wait_closed(struct xst_conn *c, int timeout_ms)
{
	uint64_t deadline = xst_now_ms() + (uint64_t)timeout_ms;
	struct xst_msg *m = malloc(sizeof(*m));
	bool closed = false;
	while (m && !closed) {
		uint64_t now = xst_now_ms();
		if (now >= deadline)
			break;
		int err = xst_recv_any(c, m, (int)(deadline - now));
		if (err == -ECONNRESET || err == -EPIPE)
			closed = true;
		else if (err == -ETIMEDOUT)
			break;
		else if (err < 0)
			closed = true; /* any other transport failure ends the stream too */
	}
	free(m);
	return closed;
}

size_t xst_count_strings(const struct xst_msg *m)
{
	size_t n = 0;
	for (uint32_t i = 0; i < m->hdr.len; i++)
		if (m->body[i] == '\0')
			n++;
	return n;
}

bool xst_has_string(const struct xst_msg *m, const char *name)
{
	for (uint32_t i = 0; i < m->hdr.len; i += (uint32_t)strlen(m->body + i) + 1)
		if (!strcmp(m->body + i, name))
			return true;
	return false;
}

long xst_proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long anon = -1, rss = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "RssAnon:", 8))
			anon = strtol(line + 8, NULL, 10);
		else if (!strncmp(line, "VmRSS:", 6))
			rss = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return anon >= 0 ? anon : rss;
}

long xst_flood(struct xst_conn *c, uint32_t type, const void *payload, size_t len,
	       long count, int stall_ms, int budget_ms)
{
	enum { BATCH = 32 };
	size_t one = sizeof(struct xsd_msg_hdr) + len;
	unsigned char *buf = malloc(one * BATCH);
	if (!buf || len > XSD_PAYLOAD_MAX) {
		free(buf);
		return 0;
	}
	for (size_t i = 0; i < BATCH; i++) {
		struct xsd_msg_hdr h = { .type = type, .req_id = XST_FLOOD_REQ_ID + (uint32_t)i,
					 .len = (uint32_t)len };
		memcpy(buf + i * one, &h, sizeof(h));
		memcpy(buf + i * one + sizeof(h), payload, len);
	}
	uint64_t end = xst_now_ms() + (uint64_t)budget_ms;
	long sent = 0;
	size_t off = 0, total = 0; /* bytes of the current batch sent, batch size */
	while (sent < count && xst_now_ms() < end) {
		if (off == total) {
			long left = count - sent;
			total = one * (size_t)(left < BATCH ? left : BATCH);
			off = 0;
		}
		ssize_t n = send(c->fd, buf + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			/* Count the messages completed by this chunk. */
			sent += (long)((off + (size_t)n) / one - off / one);
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break; /* the daemon closed the connection */
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
		if (poll(&pfd, 1, stall_ms) <= 0)
			break; /* stalled: the daemon applies back-pressure */
	}
	free(buf);
	return sent;
}
