/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous form (vsclient/async.h). A request goes out at once
 * through the client's transport (vsc__send) and waits in `sent`, in send
 * order, until client.c's dispatcher hands over its reply by req_id
 * (vsc__async_reply); peers usually answer in order, so the match is at the
 * head. Answered requests and watch events then wait in `ready`, in stream
 * order, and are delivered from the loop: by the poll callback once it has
 * pumped the connection, or by an idle handle when a synchronous call read
 * them. No callback runs inside the dispatcher, so callbacks may do
 * anything. What must happen when a reply is read happens in the dispatcher:
 * the next DIRECTORY_PART is sent, an unwatch drops the queued events.
 * Invariant: `pending` counts the requests in sent + ready; each leaves
 * through finish(), which calls its callback exactly once.
 */
#include <vsclient/async.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client_int.h"

/* How a request's answer is handed over, or an event. */
enum item_kind { K_DONE, K_READ, K_LIST, K_DIR, K_TXN, K_UNWATCH, K_EVENT };

struct item {
	struct item *prev, *next; /* in sent or ready */
	enum item_kind kind;
	uint32_t type;	     /* the request's type (DIRECTORY_PART once a directory falls back) */
	uint32_t req_id;     /* of its latest request */
	uint32_t reply_type; /* the reply's type, once answered */
	vsc_txn_t t;	     /* its transaction */
	int err;	     /* an error of our own (a lost connection, ENOMEM), else 0 */
	const char *why;     /* its message */
	union {
		vsc_async_done_fn *done;
		vsc_async_read_fn *read;
		vsc_async_list_fn *list;
		vsc_async_txn_fn *txn;
	} cb;
	void *payload;
	struct vs_buf reply; /* the reply's payload; a directory's names once complete */
	struct vs_buf names; /* DIRECTORY_PART: the names so far */
	size_t at;	     /* DIRECTORY_PART: the offset asked for */
	unsigned int passes; /* DIRECTORY_PART: restarts after a change */
	char gen[32];	     /* DIRECTORY_PART: the node's generation */
	char str[];	     /* the path, or what; then NUL and the token (unwatch, events) */
};

struct item_list {
	struct item *head, *tail;
};

struct vsc_async {
	struct vsc_client *c; /* NULL once closed */
	uv_poll_t poll;	      /* readable: the transport's fd */
	uv_idle_t idle;	      /* active while ready holds what no poll callback will deliver */
	unsigned int handles; /* handles not yet closed; freed at 0 after close */
	vsc_async_event_fn *event_cb;
	void *event_payload;
	struct item_list sent;	/* sent, unanswered, in send order */
	struct item_list ready; /* answered requests and events, in stream order */
	size_t pending;		/* requests in sent or ready */
	bool delivering;	/* deliver() runs */
	bool closing;
};

/* --- lists and items ------------------------------------------------------ */

static void list_push(struct item_list *l, struct item *it)
{
	it->next = NULL;
	it->prev = l->tail;
	if (l->tail)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
}

static void list_del(struct item_list *l, struct item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		l->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		l->tail = it->prev;
	it->prev = it->next = NULL;
}

static struct item *list_pop(struct item_list *l)
{
	struct item *it = l->head;
	if (it)
		list_del(l, it);
	return it;
}

static struct item *item_new(enum item_kind kind, uint32_t type, vsc_txn_t t, const char *str,
			     const char *token)
{
	size_t sl = strlen(str) + 1, tl = token ? strlen(token) + 1 : 0;
	struct item *it = malloc(sizeof(*it) + sl + tl);
	if (!it) {
		vs_error_set(VS_ENOMEM, "out of memory for a request");
		return NULL;
	}
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->type = type;
	it->t = t;
	memcpy(it->str, str, sl);
	if (token)
		memcpy(it->str + sl, token, tl);
	return it;
}

static void item_free(struct item *it)
{
	vs_buf_release(&it->reply);
	vs_buf_release(&it->names);
	free(it);
}

/* The token stored after the path. */
static const char *item_token(const struct item *it)
{
	return it->str + strlen(it->str) + 1;
}

/* The one place libuv's codes become VS codes. */
static int uv_err(int rc, const char *what)
{
	int code = rc == UV_ENOMEM ? VS_ENOMEM : rc == UV_EEXIST ? VS_EBUSY : VS_EIO;
	return vs_error_set(code, "%s: %s", what, uv_strerror(rc));
}

/* --- the loop side ---------------------------------------------------------- */

/* The poll handle keeps the loop alive while requests wait, or events may come. */
static void update_ref(struct vsc_async *a)
{
	if (a->pending || a->event_cb)
		uv_ref((uv_handle_t *)&a->poll);
	else
		uv_unref((uv_handle_t *)&a->poll);
}

static void on_idle(uv_idle_t *h);

static void ready_push(struct vsc_async *a, struct item *it)
{
	list_push(&a->ready, it);
	if (!a->closing)
		uv_idle_start(&a->idle, on_idle);
}

/* Every request still unanswered fails with VS_EIO and @why. */
static void fail_sent(struct vsc_async *a, const char *why)
{
	struct item *it;
	while ((it = list_pop(&a->sent))) {
		it->err = VS_EIO;
		it->why = why;
		ready_push(a, it);
	}
}

/* The error a request ended with (0 when it succeeded); the message is set. */
static int item_result(const struct item *it)
{
	const char *tn = xsd_msg_type_name(it->type);
	if (it->err)
		return vs_error_set(it->err, "%s %s: %s", tn ? tn : "?", it->str, it->why);
	if (it->reply_type == XSD_ERROR)
		return vsc__reply_error(it->type, it->reply.ptr, it->reply.size, it->str);
	if (it->reply_type != it->type) {
		const char *rn = xsd_msg_type_name(it->reply_type);
		return vs_error_set(VS_EIO, "%s: reply of type %s", it->str, rn ? rn : "?");
	}
	return 0;
}

/* A TRANSACTION_START reply: the id in decimal. */
static int parse_txn(vsc_txn_t *out, const struct vs_buf *r)
{
	char *end;
	if (!r->size || r->ptr[0] < '1' || r->ptr[0] > '9')
		return vs_error_set(VS_EIO, "TRANSACTION_START: reply is not an id");
	unsigned long long v = strtoull(r->ptr, &end, 10);
	if ((size_t)(end - r->ptr) != strnlen(r->ptr, r->size) || v > UINT32_MAX)
		return vs_error_set(VS_EIO, "TRANSACTION_START: bad id \"%.*s\"", (int)r->size,
				    r->ptr);
	*out = (vsc_txn_t)v;
	return 0;
}

/* Hand one request its outcome, exactly once, and free it. */
static void finish(struct vsc_async *a, struct item *it)
{
	int err = item_result(it);
	struct vs_strarray list = {0};
	vsc_txn_t txn = VSC_TXN_NONE;

	a->pending--;
	if (!a->closing)
		update_ref(a);
	switch (it->kind) {
	case K_READ:
		if (err < 0)
			vs_buf_clear(&it->reply);
		else if (!it->reply.ptr)
			err = vs_buf_put(&it->reply, "", 0);
		it->cb.read(it->payload, err, &it->reply);
		break;
	case K_LIST:
	case K_DIR:
		if (err >= 0)
			err = vsc__strarray_split(&list, it->reply.ptr, it->reply.size, '\0');
		it->cb.list(it->payload, err, &list);
		vs_strarray_dispose(&list);
		break;
	case K_TXN:
		if (err >= 0)
			err = parse_txn(&txn, &it->reply);
		it->cb.txn(it->payload, err, err < 0 ? VSC_TXN_NONE : txn);
		break;
	case K_DONE:
	case K_UNWATCH:
		it->cb.done(it->payload, err);
		break;
	case K_EVENT:
		break;
	}
	item_free(it);
}

/* Run the callbacks of what is ready, in stream order. */
static void deliver(struct vsc_async *a)
{
	struct item *it;

	if (a->delivering)
		return; /* only a callback running the loop itself could get here */
	a->delivering = true;
	while (!a->closing && (it = list_pop(&a->ready))) {
		if (it->kind == K_EVENT) {
			a->event_cb(a->event_payload, it->str, item_token(it));
			item_free(it);
		} else {
			finish(a, it);
		}
	}
	a->delivering = false;
	if (!a->closing && !a->ready.head)
		uv_idle_stop(&a->idle);
}

static void on_idle(uv_idle_t *h)
{
	deliver(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct vsc_async *a = h->data;
	int err;
	(void)events;

	if (status < 0) {
		err = uv_err(status, "poll");
		a->c->broken = true;
	} else {
		err = vsc__pump(a->c, 0);
	}
	if (err < 0 && a->c->broken) {
		uv_poll_stop(&a->poll);
		fail_sent(a, "the connection is lost");
	}
	deliver(a);
}

/* --- the dispatcher's side -------------------------------------------------- */

/* Send @it's request (@iov: the payload) and wait for its reply in sent. */
static int send_item(struct vsc_async *a, struct item *it, const struct iovec *iov, size_t n)
{
	int err = vsc__send(&it->req_id, a->c, it->type, it->t, iov, n, it->str);
	if (err < 0) {
		if (a->c->broken) /* nothing sent before will be answered either */
			fail_sent(a, "the connection is lost");
		return err;
	}
	list_push(&a->sent, it);
	return 0;
}

/* Ask for the DIRECTORY_PART at it->at; false (it->err set) when that failed. */
static bool dir_send(struct vsc_async *a, struct item *it)
{
	char off[24];
	snprintf(off, sizeof(off), "%zu", it->at);
	struct iovec v[2] = {{it->str, strlen(it->str) + 1}, {off, strlen(off) + 1}};
	int err = send_item(a, it, v, 2);
	if (err < 0) {
		it->err = err;
		it->why = "the next DIRECTORY_PART could not be sent";
	}
	return err >= 0;
}

/* The directory was too large for one reply: start DIRECTORY_PART passes. */
static bool dir_fall_back(struct vsc_async *a, struct item *it)
{
	if (it->reply_type != XSD_ERROR ||
	    vsc__reply_error(it->type, it->reply.ptr, it->reply.size, it->str) != VS_E2BIG)
		return false;
	it->type = XSD_DIRECTORY_PART;
	it->at = 0;
	vs_buf_clear(&it->names);
	return dir_send(a, it);
}

/* Set @it's own error; false, so that it is finished. */
static bool dir_fail(struct item *it, int err, const char *why)
{
	it->err = err;
	it->why = why;
	return false;
}

/*
 * A DIRECTORY_PART reply: the generation, then names up to an empty one at
 * the end of the list. true when the next part is on its way; false when
 * @it is done (its names in it->reply) or failed. As libxenstore, a listing
 * whose generation changed starts again; ENOSYS means a peer without it.
 */
static bool dir_part(struct vsc_async *a, struct item *it)
{
	if (it->reply_type == XSD_ERROR) {
		if (vsc__reply_error(it->type, it->reply.ptr, it->reply.size, it->str) == VS_ENOSYS)
			return dir_fail(it, VS_E2BIG,
					"too many children for DIRECTORY and no DIRECTORY_PART");
		return false;
	}
	if (it->reply_type != it->type)
		return false;
	const char *p = it->reply.ptr, *end = p + it->reply.size;
	size_t gl = strnlen(p, it->reply.size), got = 0;
	if (gl == it->reply.size || gl >= sizeof(it->gen))
		return dir_fail(it, VS_EIO, "bad DIRECTORY_PART reply");
	if (!it->at) {
		memcpy(it->gen, p, gl + 1);
	} else if (strcmp(it->gen, p)) {
		if (++it->passes >= 16)
			return dir_fail(it, VS_EAGAIN,
					"the node kept changing while it was listed");
		it->at = 0;
		vs_buf_clear(&it->names);
		return dir_send(a, it);
	}
	for (p += gl + 1; p < end;) {
		size_t l = strnlen(p, (size_t)(end - p));
		if (!l) { /* the end of the list */
			struct vs_buf tmp = it->reply;
			it->reply = it->names;
			it->names = tmp;
			return false;
		}
		if (p + l == end)
			return dir_fail(it, VS_EIO, "bad DIRECTORY_PART reply (cut)");
		if (vs_buf_put(&it->names, p, l + 1) < 0)
			return dir_fail(it, VS_ENOMEM, "out of memory for the listing");
		got += l + 1;
		p += l + 1;
	}
	if (!got)
		return dir_fail(it, VS_EIO, "DIRECTORY_PART made no progress");
	it->at += got;
	return dir_send(a, it);
}

void vsc__async_reply(struct vsc_async *a, const struct xsd_msg_hdr *hdr, const unsigned char *p)
{
	struct item *it = a->sent.head;
	while (it && it->req_id != hdr->req_id)
		it = it->next;
	if (!it)
		return; /* nobody's: a request of a closed form, or a peer's mistake */
	list_del(&a->sent, it);
	it->reply_type = hdr->type;
	if (vs_buf_set(&it->reply, p, hdr->len) < 0) {
		it->err = VS_ENOMEM;
		it->why = "out of memory for the reply";
	} else if (it->kind == K_DIR) {
		bool more = it->type == XSD_DIRECTORY ? dir_fall_back(a, it) : dir_part(a, it);
		if (more)
			return;
	} else if (it->kind == K_UNWATCH && hdr->type == XSD_UNWATCH) {
		/* As vsc_unwatch(): the watch's events still queued go with it. */
		vsc__events_drop(a->c, item_token(it), true, it->str);
	}
	ready_push(a, it);
}

bool vsc__async_event(struct vsc_async *a, const char *path, const char *token)
{
	if (!a->event_cb)
		return false;
	/* Out of memory the event is lost, as the synchronous queue would lose it. */
	struct item *it = item_new(K_EVENT, XSD_WATCH_EVENT, VSC_TXN_NONE, path, token);
	if (it)
		ready_push(a, it);
	return true;
}

/* --- open and close ----------------------------------------------------------- */

int vsc_async_new(struct vsc_async **out, struct vsc_client *c, struct uv_loop_s *loop,
		  vsc_async_event_fn *event_cb, void *payload)
{
	struct vsc_async *a;
	int rc;

	if (!out || !c || !loop)
		return vs_error_set(VS_EINVAL, "vsc_async_new: bad arguments");
	*out = NULL;
	if (c->async)
		return vs_error_set(VS_EBUSY, "the client has an async form already");
	if (c->broken)
		return vs_error_set(VS_EIO, "the connection is lost");
	if (!(a = calloc(1, sizeof(*a))))
		return vs_error_set(VS_ENOMEM, "out of memory");
	/* A failed uv_poll_init leaves nothing in the loop: free() is enough. */
	if ((rc = uv_poll_init(loop, &a->poll, c->t->ops->fd(c->t))) < 0) {
		free(a);
		return uv_err(rc, "polling the connection");
	}
	uv_idle_init(loop, &a->idle);
	a->poll.data = a->idle.data = a; /* the callbacks' way back */
	a->handles = 2;
	a->c = c;
	a->event_cb = event_cb;
	a->event_payload = payload;
	if ((rc = uv_poll_start(&a->poll, UV_READABLE, on_poll)) < 0) {
		int err = uv_err(rc, "polling the connection");
		vsc_async_close(a);
		return err;
	}
	update_ref(a);
	c->async = a;
	*out = a;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct vsc_async *a = h->data;
	if (--a->handles == 0)
		free(a);
}

void vsc_async_close(struct vsc_async *a)
{
	struct item *it;

	if (!a || a->closing)
		return;
	a->closing = true;
	/* Replies to what is still in flight are dropped by the client from now on. */
	if (a->c && a->c->async == a)
		a->c->async = NULL;
	a->c = NULL;
	fail_sent(a, "closed with the request unanswered");
	while ((it = list_pop(&a->ready))) {
		if (it->kind == K_EVENT)
			item_free(it);
		else
			finish(a, it);
	}
	uv_close((uv_handle_t *)&a->poll, on_closed);
	uv_close((uv_handle_t *)&a->idle, on_closed);
}

size_t vsc_async_pending(const struct vsc_async *a)
{
	return a ? a->pending : 0;
}

/* --- requests ------------------------------------------------------------------ */

/* Check the form and make the item of a new request; NULL with the error in *err. */
static struct item *begin(int *err, struct vsc_async *a, enum item_kind kind, uint32_t type,
			  vsc_txn_t t, const char *str, const char *token, bool cb_ok)
{
	struct item *it;
	if (!a || !str || !cb_ok) {
		*err = vs_error_set(VS_EINVAL, "%s: bad arguments", xsd_msg_type_name(type));
		return NULL;
	}
	if (a->closing) {
		*err = vs_error_set(VS_EBUSY, "%s: the async form is closing", str);
		return NULL;
	}
	if (!(it = item_new(kind, type, t, str, token)))
		*err = VS_ENOMEM;
	return it;
}

/* Send the new request @it; on failure it is freed and never calls back. */
static int submit(struct vsc_async *a, struct item *it, const struct iovec *iov, size_t n)
{
	int err = send_item(a, it, iov, n);
	if (err < 0) {
		item_free(it);
		return err;
	}
	a->pending++;
	update_ref(a);
	return 0;
}

/* A request whose payload is the NUL-terminated @argv. */
static int submit_strs(struct vsc_async *a, struct item *it, const char *const *argv, size_t argc)
{
	struct iovec v[3];
	for (size_t i = 0; i < argc; i++)
		v[i] = (struct iovec){(void *)argv[i], strlen(argv[i]) + 1};
	return submit(a, it, v, argc);
}

int vsc_async_read(struct vsc_async *a, vsc_txn_t t, const char *path, vsc_async_read_fn *cb,
		   void *payload)
{
	int err;
	struct item *it = begin(&err, a, K_READ, XSD_READ, t, path, NULL, cb != NULL);
	if (!it)
		return err;
	it->cb.read = cb;
	it->payload = payload;
	return submit_strs(a, it, &path, 1);
}

int vsc_async_write(struct vsc_async *a, vsc_txn_t t, const char *path, const void *data,
		    size_t len, vsc_async_done_fn *cb, void *payload)
{
	int err;
	struct item *it = begin(&err, a, K_DONE, XSD_WRITE, t, path, NULL, cb && (data || !len));
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	struct iovec v[2] = {{(void *)path, strlen(path) + 1}, {(void *)data, len}};
	return submit(a, it, v, 2);
}

/* mkdir and rm: a path, no value. */
static int done_request(struct vsc_async *a, uint32_t type, vsc_txn_t t, const char *path,
			vsc_async_done_fn *cb, void *payload)
{
	int err;
	struct item *it = begin(&err, a, K_DONE, type, t, path, NULL, cb != NULL);
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	return submit_strs(a, it, &path, 1);
}

int vsc_async_mkdir(struct vsc_async *a, vsc_txn_t t, const char *path, vsc_async_done_fn *cb,
		    void *payload)
{
	return done_request(a, XSD_MKDIR, t, path, cb, payload);
}

int vsc_async_rm(struct vsc_async *a, vsc_txn_t t, const char *path, vsc_async_done_fn *cb,
		 void *payload)
{
	return done_request(a, XSD_RM, t, path, cb, payload);
}

/* directory and get_perms: a path, a list of strings back. */
static int list_request(struct vsc_async *a, enum item_kind kind, uint32_t type, vsc_txn_t t,
			const char *path, vsc_async_list_fn *cb, void *payload)
{
	int err;
	struct item *it = begin(&err, a, kind, type, t, path, NULL, cb != NULL);
	if (!it)
		return err;
	it->cb.list = cb;
	it->payload = payload;
	return submit_strs(a, it, &path, 1);
}

int vsc_async_directory(struct vsc_async *a, vsc_txn_t t, const char *path, vsc_async_list_fn *cb,
			void *payload)
{
	return list_request(a, K_DIR, XSD_DIRECTORY, t, path, cb, payload);
}

int vsc_async_get_perms(struct vsc_async *a, vsc_txn_t t, const char *path, vsc_async_list_fn *cb,
			void *payload)
{
	return list_request(a, K_LIST, XSD_GET_PERMS, t, path, cb, payload);
}

int vsc_async_set_perms(struct vsc_async *a, vsc_txn_t t, const char *path,
			const char *const *perms, size_t n, vsc_async_done_fn *cb, void *payload)
{
	struct vs_buf b = VS_BUF_INIT;
	int err = 0;
	struct item *it = begin(&err, a, K_DONE, XSD_SET_PERMS, t, path, NULL, cb && (perms || !n));
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	if (!n)
		err = vs_error_set(VS_EINVAL, "%s: at least one permission (the owner)", path);
	for (size_t i = 0; i < n && err >= 0; i++)
		err = perms[i] ? vs_buf_put(&b, perms[i], strlen(perms[i]) + 1)
			       : vs_error_set(VS_EINVAL, "%s: NULL permission", path);
	if (err < 0) {
		item_free(it);
	} else {
		struct iovec v[2] = {{(void *)path, strlen(path) + 1}, {b.ptr, b.size}};
		err = submit(a, it, v, 2);
	}
	vs_buf_release(&b);
	return err;
}

int vsc_async_transaction_start(struct vsc_async *a, vsc_async_txn_fn *cb, void *payload)
{
	int err;
	struct item *it =
	    begin(&err, a, K_TXN, XSD_TRANSACTION_START, VSC_TXN_NONE, "transaction", NULL, cb);
	if (!it)
		return err;
	it->cb.txn = cb;
	it->payload = payload;
	struct iovec v = {"", 1};
	return submit(a, it, &v, 1);
}

int vsc_async_transaction_end(struct vsc_async *a, vsc_txn_t t, bool commit, vsc_async_done_fn *cb,
			      void *payload)
{
	char what[32];
	int err;

	snprintf(what, sizeof(what), "transaction %" PRIu32, t);
	struct item *it =
	    begin(&err, a, K_DONE, XSD_TRANSACTION_END, t, what, NULL, cb && t != VSC_TXN_NONE);
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	struct iovec v = {commit ? "T" : "F", 2};
	return submit(a, it, &v, 1);
}

int vsc_async_watch(struct vsc_async *a, const char *path, const char *token, int depth,
		    vsc_async_done_fn *cb, void *payload)
{
	char d[16];
	int err;
	struct item *it = begin(&err, a, K_DONE, XSD_WATCH, VSC_TXN_NONE, path, NULL, cb && token);
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	snprintf(d, sizeof(d), "%d", depth);
	const char *argv[3] = {path, token, d};
	return submit_strs(a, it, argv, depth >= 0 ? 3 : 2);
}

int vsc_async_unwatch(struct vsc_async *a, const char *path, const char *token,
		      vsc_async_done_fn *cb, void *payload)
{
	int err;
	struct item *it =
	    begin(&err, a, K_UNWATCH, XSD_UNWATCH, VSC_TXN_NONE, path, token, cb && token);
	if (!it)
		return err;
	it->cb.done = cb;
	it->payload = payload;
	const char *argv[2] = {path, token};
	return submit_strs(a, it, argv, 2);
}
