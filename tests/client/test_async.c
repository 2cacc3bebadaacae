/* SPDX-License-Identifier: MIT */
/*
 * libvsclient's asynchronous form on a libuv loop, over the transport named
 * by argv[1] (the conformance fixture: the daemon's socket, a per-domain
 * socket, the in-process engine): many requests in flight on one connection,
 * errors per request, the directory fallback, transactions chained through
 * callbacks, watch events, sync calls meanwhile, and closing or losing the
 * connection with requests in flight, where each callback runs exactly
 * once. A "shim:" transport wrapped around the real one holds replies back
 * and hands them over in reverse (so matching by req_id is seen to work),
 * or cuts the connection.
 */
#include "transport_fixture.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <vsclient/async.h>
#include <vsclient/sys/transport.h>
#include <xsd/wire.h>

#include "daemon_harness.h"

/* --- the shim transport ---------------------------------------------------- */

struct shim {
	struct vsc_transport base;
	struct vsc_transport *inner; /* the real connection */
	int evfd;		     /* readable while out has bytes */
	int epfd;		     /* epoll over evfd and the inner fd: our fd */
	struct vs_buf in;	     /* inner bytes short of a whole message */
	struct vs_buf held;	     /* whole messages held back */
	size_t nheld;
	struct vs_buf out; /* bytes for the client */
	size_t off;
	bool dead; /* the inner connection ended */
	bool cut;  /* the test cut the connection: recv fails */
};

static const struct vsc_transport_ops shim_ops;
static struct shim *shim_last;
/* Messages held until this many are there, then released in reverse (0: none held). */
static size_t shim_hold;

static void shim_signal(struct shim *s, bool readable)
{
	uint64_t v = 1;
	ssize_t r = readable ? write(s->evfd, &v, sizeof(v)) : read(s->evfd, &v, sizeof(v));
	(void)r;
}

static int shim_connect(struct vsc_transport **out, const struct vsc_transport_ops *ops,
			const char *address)
{
	char scheme[16];
	const char *colon = strchr(address, ':');
	struct shim *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	assert_non_null(s);
	assert_non_null(colon);
	snprintf(scheme, sizeof(scheme), "%.*s", (int)(colon - address), address);
	const struct vsc_transport_ops *inner = vsc_transport_find(scheme);
	assert_non_null(inner);
	if ((err = inner->connect(&s->inner, inner, colon + 1)) < 0) {
		free(s);
		return err;
	}
	s->base.ops = ops;
	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(s->evfd >= 0 && s->epfd >= 0);
	assert_int_equal(epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev), 0);
	assert_int_equal(epoll_ctl(s->epfd, EPOLL_CTL_ADD, inner->fd(s->inner), &ev), 0);
	shim_last = s;
	*out = &s->base;
	return 0;
}

static int shim_send(struct vsc_transport *t, const struct iovec *iov, size_t n)
{
	struct shim *s = (struct shim *)t;
	return s->cut ? VS_EIO : s->inner->ops->send(s->inner, iov, n);
}

/* Move whole messages from in to held, then release held as shim_hold says. */
static void shim_frame(struct shim *s)
{
	struct xsd_msg_hdr h;
	size_t at = 0;
	while (s->in.size - at >= sizeof(h)) {
		memcpy(&h, s->in.ptr + at, sizeof(h));
		size_t len = sizeof(h) + h.len;
		if (s->in.size - at < len)
			break;
		assert_vs_ok(vs_buf_put(&s->held, s->in.ptr + at, len));
		s->nheld++;
		at += len;
	}
	if (s->in.size > at)
		memmove(s->in.ptr, s->in.ptr + at, s->in.size - at);
	s->in.size -= at;
	if (s->nheld < shim_hold || !s->nheld)
		return;
	/* Collect the starts, then append from the last message to the first. */
	size_t starts[1024], n = 0;
	for (size_t p = 0; p < s->held.size && n < 1024; n++) {
		starts[n] = p;
		memcpy(&h, s->held.ptr + p, sizeof(h));
		p += sizeof(h) + h.len;
	}
	assert_int_equal(n, s->nheld);
	while (n--) {
		memcpy(&h, s->held.ptr + starts[n], sizeof(h));
		assert_vs_ok(vs_buf_put(&s->out, s->held.ptr + starts[n], sizeof(h) + h.len));
	}
	vs_buf_clear(&s->held);
	s->nheld = 0;
}

static long shim_recv(struct vsc_transport *t, void *buf, size_t len)
{
	struct shim *s = (struct shim *)t;
	unsigned char tmp[4096];
	long n;

	if (s->cut)
		return vs_error_set(VS_EIO, "shim: cut");
	while (!s->dead && (n = s->inner->ops->recv(s->inner, tmp, sizeof(tmp))) != VS_EAGAIN) {
		if (n < 0)
			s->dead = true;
		else
			assert_vs_ok(vs_buf_put(&s->in, tmp, (size_t)n));
	}
	shim_frame(s);
	size_t avail = s->out.size - s->off;
	if (!avail)
		return s->dead ? vs_error_set(VS_EIO, "shim: the connection ended") : VS_EAGAIN;
	size_t got = avail < len ? avail : len;
	memcpy(buf, s->out.ptr + s->off, got);
	s->off += got;
	if (s->off == s->out.size) {
		vs_buf_clear(&s->out);
		s->off = 0;
	}
	shim_signal(s, s->off < s->out.size);
	return (long)got;
}

static int shim_fd(struct vsc_transport *t)
{
	return ((struct shim *)t)->epfd;
}

static void shim_free(struct vsc_transport *t)
{
	struct shim *s = (struct shim *)t;
	if (s->inner->ops->close)
		s->inner->ops->close(s->inner);
	s->inner->ops->free(s->inner);
	close(s->evfd);
	close(s->epfd);
	vs_buf_release(&s->in);
	vs_buf_release(&s->held);
	vs_buf_release(&s->out);
	if (shim_last == s)
		shim_last = NULL;
	free(s);
}

static const struct vsc_transport_ops shim_ops = {
    .version = VSC_TRANSPORT_OPS_VERSION,
    .scheme = "shim",
    .connect = shim_connect,
    .send = shim_send,
    .recv = shim_recv,
    .fd = shim_fd,
    .free = shim_free,
};

/* --- the fixture: the conformance one, a loop, an async form ------------------ */

#define NREC 300

/* What one callback saw. */
struct rec {
	int calls;	 /* how often it ran: must end as 1 */
	int err;	 /* its err */
	int order;	 /* its place among the callbacks that ran */
	char msg[160];	 /* vs_error_last() during it, on error */
	char *bytes;	 /* read: the value, taken with vs_buf_detach() */
	size_t len;	 /* read: its size */
	size_t count;	 /* directory / perms: entries */
	char first[64];	 /* directory / perms: the first entry */
	vsc_txn_t txn;	 /* transaction start */
	struct tfix *fx; /* back to the fixture (chained callbacks) */
};

struct tfix {
	struct vsct_fixture *f;
	uv_loop_t loop;
	uv_timer_t watchdog;
	bool timed_out;
	struct vsc_async *a; /* on f->c, closed in teardown unless NULL */
	struct rec rec[NREC];
	int completed; /* callbacks run so far */
	int events;    /* events seen by ev_cb */
	char ev_path[256], ev_token[64];
	struct vsc_async *close_in_cb; /* closed by the first callback, if set */
};

static int setup(void **state)
{
	struct tfix *fx = calloc(1, sizeof(*fx));
	void *inner = NULL;
	if (!fx || vsct_setup(&inner) < 0)
		return -1;
	fx->f = inner;
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	uv_timer_init(&fx->loop, &fx->watchdog);
	for (int i = 0; i < NREC; i++)
		fx->rec[i].fx = fx;
	shim_hold = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct tfix *fx = *state;
	void *inner = fx->f;
	vsc_async_close(fx->a);
	uv_close((uv_handle_t *)&fx->watchdog, NULL);
	assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&fx->loop), 0); /* every handle of the form was closed */
	for (int i = 0; i < NREC; i++)
		vs_free(fx->rec[i].bytes);
	free(fx);
	return vsct_teardown(&inner);
}

static void on_watchdog(uv_timer_t *t)
{
	struct tfix *fx = (struct tfix *)((char *)t - offsetof(struct tfix, watchdog));
	fx->timed_out = true;
}

/* Run the loop until @n callbacks ran (or events, with @events) or @ms pass. */
static bool run_until(struct tfix *fx, int n, bool events, int ms)
{
	fx->timed_out = false;
	uv_timer_start(&fx->watchdog, on_watchdog, (uint64_t)ms, 0);
	while ((events ? fx->events : fx->completed) < n && !fx->timed_out)
		uv_run(&fx->loop, UV_RUN_ONCE);
	uv_timer_stop(&fx->watchdog);
	return (events ? fx->events : fx->completed) >= n;
}

static void note(struct rec *r, int err)
{
	r->calls++;
	r->err = err;
	r->order = r->fx->completed++;
	if (err < 0)
		snprintf(r->msg, sizeof(r->msg), "%s", vs_error_last()->message);
	if (r->fx->close_in_cb) {
		struct vsc_async *a = r->fx->close_in_cb;
		r->fx->close_in_cb = NULL;
		vsc_async_close(a);
	}
}

static void done_cb(void *payload, int err)
{
	note(payload, err);
}

static void read_cb(void *payload, int err, struct vs_buf *value)
{
	struct rec *r = payload;
	if (err >= 0) {
		assert_non_null(value->ptr);
		r->len = value->size;
		r->bytes = vs_buf_detach(value);
	} else {
		assert_int_equal(value->size, 0);
	}
	note(r, err);
}

static void list_cb(void *payload, int err, struct vs_strarray *list)
{
	struct rec *r = payload;
	r->count = list->count;
	if (list->count)
		snprintf(r->first, sizeof(r->first), "%s", list->strings[0]);
	note(r, err);
}

static void ev_cb(void *payload, const char *path, const char *token)
{
	struct tfix *fx = payload;
	fx->events++;
	snprintf(fx->ev_path, sizeof(fx->ev_path), "%s", path);
	snprintf(fx->ev_token, sizeof(fx->ev_token), "%s", token);
}

static const char *key(int i)
{
	static char b[4][64];
	static int n;
	char rel[32];
	snprintf(rel, sizeof(rel), "k%03d", i);
	return strcpy(b[n++ % 4], vsct_path(rel));
}

static void assert_read(const struct rec *r, const char *want)
{
	assert_int_equal(r->calls, 1);
	assert_vs_ok(r->err);
	assert_int_equal(r->len, strlen(want));
	assert_string_equal(r->bytes, want);
}

/* --- tests ---------------------------------------------------------------------- */

#define MANY 64

static void test_many_requests_fly_at_once_and_each_is_answered(void **state)
{
	struct tfix *fx = *state;
	char v[16];

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	assert_vs_err(VS_EBUSY,
		      vsc_async_new(&(struct vsc_async *){NULL}, fx->f->c, &fx->loop, NULL, NULL));
	for (int i = 0; i < MANY; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		assert_vs_ok(vsc_async_write(fx->a, VSC_TXN_NONE, key(i), v, strlen(v), done_cb,
					     &fx->rec[i]));
	}
	for (int i = 0; i < MANY; i++)
		assert_vs_ok(
		    vsc_async_read(fx->a, VSC_TXN_NONE, key(i), read_cb, &fx->rec[MANY + i]));
	/* All sent, none answered: callbacks only ever run from the loop. */
	assert_int_equal(vsc_async_pending(fx->a), 2 * MANY);
	assert_int_equal(fx->completed, 0);
	assert_true(run_until(fx, 2 * MANY, false, 20000));
	assert_int_equal(vsc_async_pending(fx->a), 0);
	for (int i = 0; i < MANY; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(fx->rec[i].calls, 1);
		assert_vs_ok(fx->rec[i].err);
		assert_read(&fx->rec[MANY + i], v);
		/* One connection, answered in order by these peers. */
		assert_int_equal(fx->rec[i].order, i);
		assert_int_equal(fx->rec[MANY + i].order, MANY + i);
	}
	vsct_assert_value(fx->f->helper, key(MANY - 1), "v63");
	/* With nothing in flight, the loop is free to end. */
	assert_int_equal(uv_run(&fx->loop, UV_RUN_NOWAIT), 0);
}

static void test_replies_out_of_order_are_matched_by_request_id(void **state)
{
	struct tfix *fx = *state;
	struct vsc_client *c;
	struct vsc_async *a;
	char uri[1200], v[16];
	enum { N = 16 };

	for (int i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "value-%d", i);
		assert_vs_ok(vsc_write(fx->f->helper, VSC_TXN_NONE, key(i), v, strlen(v)));
	}
	snprintf(uri, sizeof(uri), "shim:%s", fx->f->uri);
	assert_vs_ok(vsc_client_open(&c, uri));
	shim_hold = N; /* all N replies, then handed over last first */
	assert_vs_ok(vsc_async_new(&a, c, &fx->loop, NULL, NULL));
	for (int i = 0; i < N; i++)
		assert_vs_ok(vsc_async_read(a, VSC_TXN_NONE, key(i), read_cb, &fx->rec[i]));
	assert_true(run_until(fx, N, false, 20000));
	for (int i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "value-%d", i);
		assert_read(&fx->rec[i], v);
		assert_int_equal(fx->rec[i].order, N - 1 - i);
	}
	vsc_async_close(a);
	shim_hold = 0;
	vsc_client_close(c);
}

static void test_each_request_gets_its_own_error(void **state)
{
	struct tfix *fx = *state;
	static char big[5000];

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	assert_vs_ok(
	    vsc_async_read(fx->a, VSC_TXN_NONE, vsct_path("missing"), read_cb, &fx->rec[0]));
	assert_vs_ok(
	    vsc_async_write(fx->a, VSC_TXN_NONE, "/bad path", "x", 1, done_cb, &fx->rec[1]));
	assert_vs_ok(
	    vsc_async_write(fx->a, VSC_TXN_NONE, vsct_path("ok"), "fine", 4, done_cb, &fx->rec[2]));
	assert_vs_ok(vsc_async_transaction_end(fx->a, 4242, true, done_cb, &fx->rec[3]));
	assert_vs_ok(vsc_async_read(fx->a, 4242, vsct_path("ok"), read_cb, &fx->rec[4]));
	assert_vs_ok(vsc_async_read(fx->a, VSC_TXN_NONE, vsct_path("ok"), read_cb, &fx->rec[5]));
	assert_vs_ok(
	    vsc_async_rm(fx->a, VSC_TXN_NONE, vsct_path("missing/deeper"), done_cb, &fx->rec[6]));
	/* Refused before sending: no callback, ever. */
	memset(big, 'v', sizeof(big));
	assert_vs_err(VS_E2BIG, vsc_async_write(fx->a, VSC_TXN_NONE, vsct_path("big"), big,
						sizeof(big), done_cb, &fx->rec[7]));
	assert_vs_err(VS_EINVAL, vsc_async_read(fx->a, VSC_TXN_NONE, NULL, read_cb, &fx->rec[7]));
	assert_vs_err(VS_EINVAL, vsc_async_read(fx->a, VSC_TXN_NONE, "/x", NULL, NULL));
	assert_int_equal(vsc_async_pending(fx->a), 7);
	assert_true(run_until(fx, 7, false, 20000));
	assert_vs_err(VS_ENOENT, fx->rec[0].err);
	assert_non_null(strstr(fx->rec[0].msg, vsct_path("missing")));
	assert_vs_err(VS_EINVAL, fx->rec[1].err);
	assert_vs_ok(fx->rec[2].err);
	assert_vs_err(VS_ENOENT, fx->rec[3].err);
	assert_vs_err(VS_ENOENT, fx->rec[4].err);
	assert_read(&fx->rec[5], "fine");
	assert_vs_err(VS_ENOENT, fx->rec[6].err);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fx->rec[i].calls, i < 7);
}

#define BIG_N 300

static void txn_write_cb(void *payload, int err);

static void txn_started(void *payload, int err, vsc_txn_t txn)
{
	struct rec *r = payload;
	r->txn = txn;
	note(r, err);
	assert_vs_ok(err);
	assert_true(txn != VSC_TXN_NONE);
	/* Chained from a callback: write inside, then commit. */
	assert_vs_ok(
	    vsc_async_write(r->fx->a, txn, vsct_path("t/in-txn"), "T", 1, txn_write_cb, r + 1));
}

static void txn_write_cb(void *payload, int err)
{
	struct rec *r = payload;
	note(r, err);
	assert_vs_ok(err);
	assert_vs_ok(vsc_async_transaction_end(r->fx->a, (r - 1)->txn, true, done_cb, r + 1));
}

static void test_directories_permissions_and_transactions(void **state)
{
	struct tfix *fx = *state;
	static const char *const perms[] = {"n5", "r0"};
	char rel[64];
	vsc_txn_t t;

	assert_vs_ok(vsc_transaction_start(&t, fx->f->helper));
	for (int i = 0; i < BIG_N; i++) {
		snprintf(rel, sizeof(rel), "big/child-with-a-rather-long-name-%03d", i);
		assert_vs_ok(vsc_write(fx->f->helper, t, vsct_path(rel), "", 0));
	}
	assert_vs_ok(vsc_transaction_end(fx->f->helper, t, true));
	assert_vs_ok(vsc_write(fx->f->helper, VSC_TXN_NONE, vsct_path("d/b"), "", 0));
	assert_vs_ok(vsc_write(fx->f->helper, VSC_TXN_NONE, vsct_path("d/a"), "", 0));

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	assert_vs_ok(
	    vsc_async_directory(fx->a, VSC_TXN_NONE, vsct_path("d"), list_cb, &fx->rec[0]));
	/* Too large for one reply: DIRECTORY_PART, with other requests around it. */
	assert_vs_ok(
	    vsc_async_directory(fx->a, VSC_TXN_NONE, vsct_path("big"), list_cb, &fx->rec[1]));
	assert_vs_ok(vsc_async_mkdir(fx->a, VSC_TXN_NONE, vsct_path("m"), done_cb, &fx->rec[2]));
	assert_vs_ok(vsc_async_set_perms(fx->a, VSC_TXN_NONE, vsct_path("m"), perms, 2, done_cb,
					 &fx->rec[3]));
	assert_vs_ok(
	    vsc_async_get_perms(fx->a, VSC_TXN_NONE, vsct_path("m"), list_cb, &fx->rec[4]));
	assert_vs_ok(
	    vsc_async_directory(fx->a, VSC_TXN_NONE, vsct_path("none"), list_cb, &fx->rec[5]));
	assert_vs_ok(vsc_async_transaction_start(fx->a, txn_started, &fx->rec[6]));
	assert_true(run_until(fx, 9, false, 20000));
	assert_int_equal(fx->rec[0].count, 2);
	assert_string_equal(fx->rec[0].first, "b"); /* creation order */
	assert_vs_ok(fx->rec[1].err);
	assert_int_equal(fx->rec[1].count, BIG_N);
	assert_string_equal(fx->rec[1].first, "child-with-a-rather-long-name-000");
	assert_vs_ok(fx->rec[2].err);
	assert_vs_ok(fx->rec[3].err);
	assert_int_equal(fx->rec[4].count, 2);
	assert_string_equal(fx->rec[4].first, "n5");
	assert_vs_err(VS_ENOENT, fx->rec[5].err);
	assert_int_equal(fx->rec[5].count, 0);
	for (int i = 6; i < 9; i++) {
		assert_int_equal(fx->rec[i].calls, 1);
		assert_vs_ok(fx->rec[i].err);
	}
	vsct_assert_value(fx->f->helper, vsct_path("t/in-txn"), "T");
}

static void test_watch_events_reach_the_event_callback(void **state)
{
	struct tfix *fx = *state;
	const char *w = vsct_path("w");

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, ev_cb, fx));
	assert_vs_ok(vsc_async_watch(fx->a, w, "tok", -1, done_cb, &fx->rec[0]));
	assert_true(run_until(fx, 1, true, 5000)); /* the initial event */
	assert_vs_ok(fx->rec[0].err);
	assert_string_equal(fx->ev_path, w);
	assert_string_equal(fx->ev_token, "tok");
	assert_vs_ok(vsc_write(fx->f->helper, VSC_TXN_NONE, vsct_path("w/x"), "1", 1));
	assert_true(run_until(fx, 2, true, 5000));
	assert_string_equal(fx->ev_path, vsct_path("w/x"));
	/* Not through the client's own queue. */
	assert_false(vsct_fd_readable(fx->f->c, 0));
	assert_vs_ok(vsc_async_watch(fx->a, w, "tok", -1, done_cb, &fx->rec[1]));
	assert_vs_ok(vsc_async_unwatch(fx->a, w, "tok", done_cb, &fx->rec[2]));
	assert_vs_ok(vsc_async_unwatch(fx->a, w, "tok", done_cb, &fx->rec[3]));
	assert_true(run_until(fx, 4, false, 5000));
	assert_vs_err(VS_EEXIST, fx->rec[1].err);
	assert_vs_ok(fx->rec[2].err);
	assert_vs_err(VS_ENOENT, fx->rec[3].err);
	assert_vs_ok(vsc_write(fx->f->helper, VSC_TXN_NONE, w, "2", 1));
	assert_false(run_until(fx, 3, true, 200));
	assert_int_equal(fx->events, 2);
}

static void test_sync_calls_work_while_requests_are_in_flight(void **state)
{
	struct tfix *fx = *state;
	struct vs_buf b = VS_BUF_INIT;

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	for (int i = 0; i < 16; i++)
		assert_vs_ok(
		    vsc_async_write(fx->a, VSC_TXN_NONE, key(i), "a", 1, done_cb, &fx->rec[i]));
	/* Sent after the writes on the same connection: it sees the last one. */
	assert_vs_ok(vsc_read(&b, fx->f->c, VSC_TXN_NONE, key(15)));
	assert_string_equal(b.ptr, "a");
	vs_buf_release(&b);
	assert_int_equal(fx->completed, 0); /* read by the sync call, delivered by the loop */
	assert_true(run_until(fx, 16, false, 20000));
	for (int i = 0; i < 16; i++) {
		assert_int_equal(fx->rec[i].calls, 1);
		assert_vs_ok(fx->rec[i].err);
	}
}

static void test_closing_with_requests_in_flight_fails_each_once(void **state)
{
	struct tfix *fx = *state;
	struct vsc_client *c2;
	struct vsc_async *a2;

	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	for (int i = 0; i < 32; i++)
		assert_vs_ok(
		    vsc_async_write(fx->a, VSC_TXN_NONE, key(i), "c", 1, done_cb, &fx->rec[i]));
	vsc_async_close(fx->a); /* every callback runs before it returns */
	fx->a = NULL;
	for (int i = 0; i < 32; i++) {
		assert_int_equal(fx->rec[i].calls, 1);
		assert_vs_err(VS_EIO, fx->rec[i].err);
		assert_non_null(strstr(fx->rec[i].msg, "closed"));
	}
	/* The late replies are dropped; the client goes on synchronously. */
	assert_vs_ok(vsc_write(fx->f->c, VSC_TXN_NONE, key(0), "sync", 4));
	vsct_assert_value(fx->f->c, key(0), "sync");

	/* Closed by its own first callback: the others still run once. */
	assert_vs_ok(vsc_async_new(&fx->a, fx->f->c, &fx->loop, NULL, NULL));
	fx->completed = 0;
	for (int i = 0; i < 10; i++)
		assert_vs_ok(
		    vsc_async_read(fx->a, VSC_TXN_NONE, key(0), read_cb, &fx->rec[100 + i]));
	fx->close_in_cb = fx->a;
	fx->a = NULL;
	assert_true(run_until(fx, 10, false, 20000));
	assert_read(&fx->rec[100], "sync");
	for (int i = 1; i < 10; i++) {
		assert_int_equal(fx->rec[100 + i].calls, 1);
		assert_true(fx->rec[100 + i].err == 0 || fx->rec[100 + i].err == VS_EIO);
	}

	/* Closing the client closes its form. */
	assert_vs_ok(vsc_client_open(&c2, fx->f->uri));
	assert_vs_ok(vsc_async_new(&a2, c2, &fx->loop, NULL, NULL));
	for (int i = 0; i < 8; i++)
		assert_vs_ok(vsc_async_read(a2, VSC_TXN_NONE, key(0), read_cb, &fx->rec[200 + i]));
	vsc_client_close(c2);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(fx->rec[200 + i].calls, 1);
		assert_vs_err(VS_EIO, fx->rec[200 + i].err);
	}
}

static void test_a_lost_connection_fails_each_request_once(void **state)
{
	struct tfix *fx = *state;
	struct vsc_client *c;
	struct vsc_async *a;
	struct vs_buf b = VS_BUF_INIT;
	char uri[1200];

	snprintf(uri, sizeof(uri), "shim:%s", fx->f->uri);
	assert_vs_ok(vsc_client_open(&c, uri));
	shim_hold = 1000; /* replies are held back: none is answered */
	assert_vs_ok(vsc_async_new(&a, c, &fx->loop, NULL, NULL));
	for (int i = 0; i < 8; i++)
		assert_vs_ok(vsc_async_read(a, VSC_TXN_NONE, key(0), read_cb, &fx->rec[i]));
	if (fx->f->h)
		xsd_harness_kill(fx->f->h); /* the daemon dies */
	else
		shim_last->cut = true; /* the stream breaks */
	assert_true(run_until(fx, 8, false, 20000));
	for (int i = 0; i < 8; i++) {
		assert_int_equal(fx->rec[i].calls, 1);
		assert_vs_err(VS_EIO, fx->rec[i].err);
	}
	assert_vs_err(VS_EIO, vsc_async_read(a, VSC_TXN_NONE, key(0), read_cb, &fx->rec[9]));
	assert_vs_err(VS_EIO, vsc_read(&b, c, VSC_TXN_NONE, key(0)));
	assert_int_equal(fx->rec[9].calls, 0);
	vsc_async_close(a);
	vsc_client_close(c);
	vs_buf_release(&b);
}

int main(int argc, char **argv)
{
	vsct_kind_from_args(argc, argv);
	if (vsc_transport_register(&shim_ops) < 0)
		return 1;
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_many_requests_fly_at_once_and_each_is_answered),
	    T(test_replies_out_of_order_are_matched_by_request_id),
	    T(test_each_request_gets_its_own_error),
	    T(test_directories_permissions_and_transactions),
	    T(test_watch_events_reach_the_event_callback),
	    T(test_sync_calls_work_while_requests_are_in_flight),
	    T(test_closing_with_requests_in_flight_fails_each_once),
	    T(test_a_lost_connection_fails_each_request_once),
#undef T
	};
	return cmocka_run_group_tests_name("async", tests, NULL, NULL);
}
