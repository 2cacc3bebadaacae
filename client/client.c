/* SPDX-License-Identifier: MIT */
/*
 * The client object: opening by URI (and libxenstore's discovery), the
 * request/reply core and the watch event queue. Every request gets a fresh
 * req_id and its reply is matched by it; watch events that arrive meanwhile
 * (req_id 0, type WATCH_EVENT) are queued. Whatever bytes are read are
 * parsed at once, so no whole message ever waits in a private buffer: the
 * event fd (epoll over the queue's eventfd and the transport's fd) is
 * readable exactly when an event is queued or more bytes wait.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vsclient/async.h>

#include "client_int.h"

int64_t vsc__deadline(int timeout_ms)
{
	struct timespec ts;
	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
}

int vsc__remaining_ms(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - vsc__deadline(0);
	return left <= 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

/* --- the event queue ----------------------------------------------------- */

static void evfd_set(struct vsc_client *c, bool readable)
{
	uint64_t v = 1;
	ssize_t r;
	if (readable)
		r = write(c->evfd, &v, sizeof(v));
	else
		r = read(c->evfd, &v, sizeof(v)); /* EAGAIN when already clear */
	(void)r;
}

static int event_push(struct vsc_client *c, const char *path, const char *token)
{
	if (c->ev_n == c->ev_cap) {
		if (c->ev_head) { /* reuse the room of taken events first */
			memmove(c->ev, c->ev + c->ev_head, (c->ev_n - c->ev_head) * sizeof(*c->ev));
			c->ev_n -= c->ev_head;
			c->ev_head = 0;
		} else {
			size_t ncap = c->ev_cap ? c->ev_cap * 2 : 16;
			struct vsc_event *nv = realloc(c->ev, ncap * sizeof(*nv));
			if (!nv)
				return vs_error_set(VS_ENOMEM, "out of memory queueing an event");
			c->ev = nv;
			c->ev_cap = ncap;
		}
	}
	struct vsc_event ev = {strdup(path), strdup(token)};
	if (!ev.path || !ev.token) {
		vsc_event_release(&ev);
		return vs_error_set(VS_ENOMEM, "out of memory queueing an event");
	}
	bool was_empty = c->ev_head == c->ev_n;
	c->ev[c->ev_n++] = ev;
	if (was_empty)
		evfd_set(c, true);
	return 0;
}

static void queue_settle(struct vsc_client *c)
{
	if (c->ev_head == c->ev_n) {
		c->ev_head = c->ev_n = 0;
		evfd_set(c, false);
	}
}

static bool token_matches(const char *token, const char *prefix, bool exact)
{
	return exact ? !strcmp(token, prefix) : !strncmp(token, prefix, strlen(prefix));
}

/* @path is @under or below it, by the strings (as xs_path_is_subpath). */
static bool path_under(const char *path, const char *under)
{
	size_t n = strlen(under);
	if (strncmp(path, under, n))
		return false;
	return !path[n] || path[n] == '/' || (n && under[n - 1] == '/');
}

void vsc__events_drop(struct vsc_client *c, const char *prefix, bool exact, const char *path)
{
	size_t w = c->ev_head;
	for (size_t i = c->ev_head; i < c->ev_n; i++) {
		struct vsc_event *ev = &c->ev[i];
		if (token_matches(ev->token, prefix, exact) &&
		    (!path || path_under(ev->path, path)))
			vsc_event_release(ev);
		else
			c->ev[w++] = *ev;
	}
	c->ev_n = w;
	queue_settle(c);
}

/* The first queued event with a token starting with @prefix, taken out. */
static bool event_find(struct vsc_event *out, struct vsc_client *c, const char *prefix)
{
	for (size_t i = c->ev_head; i < c->ev_n; i++) {
		if (!token_matches(c->ev[i].token, prefix, false))
			continue;
		*out = c->ev[i];
		if (i == c->ev_head) {
			c->ev_head++;
		} else {
			memmove(c->ev + i, c->ev + i + 1, (c->ev_n - i - 1) * sizeof(*c->ev));
			c->ev_n--;
		}
		queue_settle(c);
		return true;
	}
	return false;
}

int vsc__event_take(struct vsc_event *out, struct vsc_client *c, const char *prefix,
		    int64_t deadline)
{
	bool polled = false;
	for (;;) {
		if (event_find(out, c, prefix))
			return 0;
		int left = vsc__remaining_ms(deadline);
		if (left == 0 && polled)
			return vs_error_set(VS_EAGAIN, "no watch event in time");
		int err = vsc__pump(c, left);
		if (err < 0 && err != VS_EAGAIN)
			return err;
		polled = true;
	}
}

void vsc_event_release(struct vsc_event *ev)
{
	if (!ev)
		return;
	free(ev->path);
	free(ev->token);
	ev->path = ev->token = NULL;
}

int vsc_event_fd(struct vsc_client *c)
{
	return c ? c->epfd : -1;
}

int vsc_event_next(struct vsc_event *out, struct vsc_client *c, int timeout_ms)
{
	if (!out || !c)
		return vs_error_set(VS_EINVAL, "vsc_event_next: bad arguments");
	*out = (struct vsc_event){NULL, NULL};
	return vsc__event_take(out, c, "", vsc__deadline(timeout_ms));
}

/* --- the stream ---------------------------------------------------------- */

static int dispatch(struct vsc_client *c, const struct xsd_msg_hdr *hdr, const unsigned char *p)
{
	if (hdr->type == XSD_WATCH_EVENT) {
		const char *argv[2];
		if (xsd_args_split(argv, 2, p, hdr->len, NULL, NULL) < 2)
			return 0; /* malformed: nothing to deliver */
		if (c->async && vsc__async_event(c->async, argv[0], argv[1]))
			return 0;
		return event_push(c, argv[0], argv[1]);
	}
	if (c->want_req && hdr->req_id == c->want_req && !c->got) {
		c->reply_hdr = *hdr;
		c->got = true;
		return vs_buf_set(&c->reply, p, hdr->len);
	}
	/* Not the synchronous call's: an async request's, or nobody's any more. */
	if (c->async)
		vsc__async_reply(c->async, hdr, p);
	return 0;
}

static int feed(struct vsc_client *c, const unsigned char *p, size_t len)
{
	while (len) {
		bool complete = false;
		long used = xsd_reader_feed(&c->reader, p, len, &complete);
		if (used < 0) {
			c->broken = true;
			return vs_error_set(VS_EIO, "oversized message from the peer: stream lost");
		}
		p += used;
		len -= (size_t)used;
		if (complete) {
			int err = dispatch(c, &c->reader.hdr, xsd_reader_payload(&c->reader));
			xsd_reader_next(&c->reader);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int vsc__pump(struct vsc_client *c, int timeout_ms)
{
	const struct vsc_transport_ops *ops = c->t->ops;
	unsigned char buf[16384];
	/* Waiting for good: in the transport's blocking receive, where it has one. */
	bool wait = timeout_ms < 0 && ops->version >= 2 && ops->recv_wait;
	int err;

	if (c->broken)
		return vs_error_set(VS_EIO, "the connection is lost");
	if (timeout_ms != 0 && !wait) {
		struct pollfd p = {.fd = ops->fd(c->t), .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return vs_error_set(VS_EIO, "poll: %s", strerror(errno));
		if (r <= 0)
			return VS_EAGAIN; /* the caller recomputes its time left */
	}
	/* A bounded drain: what stays unread keeps the fd readable. */
	for (int i = 0; i < 64; i++) {
		long n = wait && i == 0 ? ops->recv_wait(c->t, buf, sizeof(buf))
					: ops->recv(c->t, buf, sizeof(buf));
		if (n == VS_EAGAIN)
			break;
		if (n < 0) {
			c->broken = true;
			return (int)n;
		}
		if ((err = feed(c, buf, (size_t)n)) < 0)
			return err;
		if (c->want_req && c->got)
			break; /* the synchronous call has its reply: spare it a recv */
	}
	return 0;
}

/* An error reply: its name as an errno, as libxenstore's get_error(). */
int vsc__reply_error(uint32_t type, const char *p, size_t len, const char *what)
{
	char name[32];
	size_t n = strnlen(p ? p : "", len);
	snprintf(name, sizeof(name), "%.*s", (int)n, p ? p : "");
	int code = xsd_error_from_name(name);
	if (!code)
		code = !strcmp(name, "EQUOTA") ? VS_EQUOTA : VS_EINVAL;
	const char *tn = xsd_msg_type_name(type);
	return vs_error_set(code, "%s %s: %s", tn ? tn : "?", what ? what : "", name);
}

int vsc__send(uint32_t *req_out, struct vsc_client *c, uint32_t type, vsc_txn_t t,
	      const struct iovec *iov, size_t n, const char *what)
{
	struct iovec v[8];
	size_t len = 0;
	int err;

	if (n > 7)
		return vs_error_set(VS_EINVAL, "too many payload pieces");
	if (c->broken)
		return vs_error_set(VS_EIO, "%s: the connection is lost", what ? what : "");
	for (size_t i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len > XSD_PAYLOAD_MAX)
		return vs_error_set(VS_E2BIG, "%s: request of %zu bytes (at most %u)",
				    what ? what : "", len, XSD_PAYLOAD_MAX);
	/*
	 * 0 is the req_id of watch events. Ids wrap after 2^32 requests; one
	 * still unanswered by then would be confused with its successor.
	 */
	if (!++c->next_req)
		c->next_req = 1;
	struct xsd_msg_hdr hdr = {type, c->next_req, t, (uint32_t)len};
	v[0] = (struct iovec){&hdr, sizeof(hdr)};
	if (n)
		memcpy(v + 1, iov, n * sizeof(*iov));
	if ((err = c->t->ops->send(c->t, v, n + 1)) < 0) {
		c->broken = true;
		return err;
	}
	*req_out = hdr.req_id;
	return 0;
}

int vsc__request(struct vs_buf *reply, struct vsc_client *c, uint32_t type, vsc_txn_t t,
		 const struct iovec *iov, size_t n, const char *what)
{
	uint32_t id;
	int err;

	if (c->want_req)
		return vs_error_set(VS_EBUSY, "a request is already in progress on this client");
	c->got = false;
	if ((err = vsc__send(&id, c, type, t, iov, n, what)) < 0)
		return err;
	/* The transport never dispatches inside send: the reply is still unread. */
	c->want_req = id;
	while (!c->got)
		if ((err = vsc__pump(c, -1)) < 0 && err != VS_EAGAIN) {
			c->want_req = 0;
			return err;
		}
	c->want_req = 0;
	if (c->reply_hdr.type == XSD_ERROR)
		return vsc__reply_error(type, c->reply.ptr, c->reply.size, what);
	if (c->reply_hdr.type != type) {
		const char *tn = xsd_msg_type_name(c->reply_hdr.type);
		return vs_error_set(VS_EIO, "%s: reply of type %s", what ? what : "",
				    tn ? tn : "?");
	}
	if (reply) {
		struct vs_buf tmp = *reply;
		*reply = c->reply;
		c->reply = tmp;
		vs_buf_clear(&c->reply);
		if (!reply->ptr && (err = vs_buf_put(reply, "", 0)) < 0)
			return err;
	}
	return 0;
}

int vsc__request_strs(struct vs_buf *reply, struct vsc_client *c, uint32_t type, vsc_txn_t t,
		      const char *const *argv, size_t argc)
{
	struct iovec v[7];
	if (argc > 7)
		return vs_error_set(VS_EINVAL, "too many arguments");
	for (size_t i = 0; i < argc; i++)
		v[i] = (struct iovec){(void *)argv[i], strlen(argv[i]) + 1};
	return vsc__request(reply, c, type, t, v, argc, argc ? argv[0] : "");
}

int vsc__strarray_split(struct vs_strarray *out, const void *data, size_t len, char sep)
{
	const char *p = data, *end = p + len;
	size_t n = 1; /* pieces, at most: one more than the separators */

	*out = (struct vs_strarray){0};
	for (const char *q = p; q < end; q++)
		n += !*q || *q == sep;
	/*
	 * One allocation, as libxenstore's xs_directory() makes: the pointers,
	 * then a copy of the bytes with the separators turned into NULs (a
	 * listing of 100 names costs one malloc, not 101).
	 */
	struct vs_buf b = VS_BUF_INIT;
	size_t ptrs = (n + 1) * sizeof(char *);
	int err = vs_buf_grow(&b, ptrs + len + 1);
	if (err < 0)
		return err;
	char **v = (char **)(void *)b.ptr, *copy = b.ptr + ptrs;
	memcpy(copy, data, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (copy[i] == sep)
			copy[i] = '\0';
	for (char *q = copy, *cend = copy + len; q < cend; q += strlen(q) + 1)
		if (*q)
			v[out->count++] = q;
	v[out->count] = NULL;
	out->strings = (char **)(void *)vs_buf_detach(&b);
	out->packed = true;
	return 0;
}

void vsc__track(struct vsc_client *c, const char *path)
{
	struct vs_strarray *a = c->track;
	if (!a)
		return;
	for (size_t i = 0; i < a->count; i++)
		if (!strcmp(a->strings[i], path))
			return;
	char **nv = realloc(a->strings, (a->count + 1) * sizeof(*nv));
	if (!nv)
		return; /* vsc_wait then watches less and may miss this path's changes */
	a->strings = nv;
	if ((nv[a->count] = strdup(path)))
		a->count++;
}

/* --- open and close ------------------------------------------------------ */

static int client_new(struct vsc_client **out, struct vsc_transport *t)
{
	struct vsc_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!c) {
		t->ops->free(t);
		return vs_error_set(VS_ENOMEM, "out of memory");
	}
	c->t = t;
	c->evfd = c->epfd = -1;
	xsd_reader_init(&c->reader);
	c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->evfd < 0 || c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) < 0 ||
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, t->ops->fd(t), &ev) < 0) {
		int e = errno;
		vsc_client_close(c);
		return vs_error_set(e == ENOMEM || e == EMFILE ? VS_ENOMEM : VS_EIO, "event fd: %s",
				    strerror(e));
	}
	*out = c;
	return 0;
}

static int connect_with(struct vsc_client **out, const struct vsc_transport_ops *ops,
			const char *address)
{
	struct vsc_transport *t = NULL;
	int err = ops->connect(&t, ops, address);
	if (err < 0)
		return err;
	if (!t || t->ops != ops) {
		if (t)
			t->ops->free(t);
		return vs_error_set(VS_EINVAL, "transport %s connected without its ops",
				    ops->scheme);
	}
	return client_new(out, t);
}

/* As libxenstore's get_handle(): a socket is connected to, anything else opened as a device. */
static int open_path(struct vsc_client **out, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		return connect_with(out, &vsc__unix_ops, path);
	return connect_with(out, &vsc__xenbus_ops, path);
}

int vsc_client_open(struct vsc_client **out, const char *uri)
{
	char scheme[32], path[4096];
	int err;

	if (!out)
		return vs_error_set(VS_EINVAL, "vsc_client_open: no output");
	*out = NULL;
	if (!uri || !*uri) {
		/* xs_open(): the daemon socket first, then the xenbus device. */
		if ((err = vsc__socket_path(path, sizeof(path))) < 0 ||
		    (err = open_path(out, path)) >= 0)
			return err;
		if ((err = vsc__device_path(path, sizeof(path))) < 0)
			return err;
		return open_path(out, path);
	}
	if (uri[0] == '/')
		return open_path(out, uri);
	const char *colon = strchr(uri, ':');
	if (!colon || colon == uri || (size_t)(colon - uri) >= sizeof(scheme))
		return vs_error_set(VS_EINVAL, "bad client URI \"%s\" (scheme:address)", uri);
	memcpy(scheme, uri, (size_t)(colon - uri));
	scheme[colon - uri] = '\0';
	const struct vsc_transport_ops *ops = vsc_transport_find(scheme);
	if (!ops)
		return vs_error_set(VS_EINVAL, "no transport for scheme \"%s\"", scheme);
	return connect_with(out, ops, colon + 1);
}

void vsc_client_close(struct vsc_client *c)
{
	if (!c)
		return;
	vsc_async_close(c->async); /* its callbacks run now, while the client still works */
	if (c->t) {
		if (c->t->ops->close)
			c->t->ops->close(c->t);
		c->t->ops->free(c->t);
	}
	for (size_t i = c->ev_head; i < c->ev_n; i++)
		vsc_event_release(&c->ev[i]);
	free(c->ev);
	if (c->evfd >= 0)
		close(c->evfd);
	if (c->epfd >= 0)
		close(c->epfd);
	vs_buf_release(&c->reply);
	xsd_reader_release(&c->reader);
	free(c);
}

const char *vsc_client_transport(const struct vsc_client *c)
{
	return c ? c->t->ops->scheme : NULL;
}

/* --- watches ------------------------------------------------------------- */

int vsc_watch(struct vsc_client *c, const char *path, const char *token, int depth)
{
	char d[16];
	const char *argv[3] = {path, token, d};
	if (!c || !path || !token)
		return vs_error_set(VS_EINVAL, "vsc_watch: bad arguments");
	snprintf(d, sizeof(d), "%d", depth);
	return vsc__request_strs(NULL, c, XSD_WATCH, VSC_TXN_NONE, argv, depth >= 0 ? 3 : 2);
}

int vsc_unwatch(struct vsc_client *c, const char *path, const char *token)
{
	const char *argv[2] = {path, token};
	if (!c || !path || !token)
		return vs_error_set(VS_EINVAL, "vsc_unwatch: bad arguments");
	int err = vsc__request_strs(NULL, c, XSD_UNWATCH, VSC_TXN_NONE, argv, 2);
	/*
	 * XS_UNWATCH_FILTER: the events of this watch already queued go too.
	 * The reply follows every event of the watch on the stream, so none
	 * can come after it.
	 */
	if (err >= 0)
		vsc__events_drop(c, token, true, path);
	return err;
}
