/* SPDX-License-Identifier: MIT */
/*
 * libvsclient against a scripted peer: a "mock:" transport registered at
 * run time answers each request with whatever the test says, so the
 * client's side of the protocol is checked byte for byte — request layouts,
 * matching replies by req_id, error names, the DIRECTORY_PART fallback and
 * its restart, a broken stream — plus URI parsing and libxenstore's
 * discovery of the daemon socket.
 */
#include "vst.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vsclient/client.h>
#include <vsclient/sys/transport.h>
#include <xsd/wire.h>

struct mock;
typedef void mock_fn(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body);

struct mock {
	struct vsc_transport base;
	int fd;		   /* eventfd: readable while out has bytes */
	struct vs_buf out; /* bytes for the client */
	size_t off;
	bool closed;		/* recv fails once out is drained */
	mock_fn *fn;		/* the script */
	int calls;		/* requests seen */
	int state;		/* the script's own counter */
	struct xsd_msg_hdr req; /* the last request */
	struct vs_buf body;	/* and its payload */
};

static struct mock *mock_last;

static void mock_put(struct mock *m, uint32_t type, uint32_t req_id, const void *p, size_t len)
{
	struct xsd_msg_hdr h = {type, req_id, 0, (uint32_t)len};
	uint64_t one = 1;
	assert_vs_ok(xsd_msg_build(&m->out, &h, p, len));
	assert_int_equal(write(m->fd, &one, sizeof(one)), sizeof(one));
}

static void mock_reply(struct mock *m, const struct xsd_msg_hdr *h, const void *p, size_t len)
{
	mock_put(m, h->type, h->req_id, p, len);
}

static void mock_error(struct mock *m, const struct xsd_msg_hdr *h, const char *name)
{
	mock_put(m, XSD_ERROR, h->req_id, name, strlen(name) + 1);
}

static int mock_connect(struct vsc_transport **out, const struct vsc_transport_ops *ops,
			const char *address)
{
	struct mock *m = calloc(1, sizeof(*m));
	(void)address;
	assert_non_null(m);
	m->base.ops = ops;
	m->fd = eventfd(0, EFD_NONBLOCK);
	mock_last = m;
	*out = &m->base;
	return 0;
}

static int mock_send(struct vsc_transport *t, const struct iovec *iov, size_t n)
{
	struct mock *m = (struct mock *)t;
	struct vs_buf all = VS_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		assert_vs_ok(vs_buf_put(&all, iov[i].iov_base, iov[i].iov_len));
	assert_true(all.size >= sizeof(m->req));
	memcpy(&m->req, all.ptr, sizeof(m->req));
	assert_int_equal(m->req.len, all.size - sizeof(m->req));
	assert_vs_ok(vs_buf_set(&m->body, all.ptr + sizeof(m->req), m->req.len));
	m->calls++;
	if (m->fn)
		m->fn(m, &m->req, (const unsigned char *)m->body.ptr);
	vs_buf_release(&all);
	return 0;
}

static long mock_recv(struct vsc_transport *t, void *buf, size_t len)
{
	struct mock *m = (struct mock *)t;
	uint64_t v;
	size_t avail = m->out.size - m->off;
	if (!avail)
		return m->closed ? vs_error_set(VS_EIO, "mock: closed") : VS_EAGAIN;
	/* Hand out at most 7 bytes at a time: messages arrive in pieces. */
	size_t k = avail < len ? avail : len;
	k = k > 7 ? 7 : k;
	memcpy(buf, m->out.ptr + m->off, k);
	m->off += k;
	if (m->off == m->out.size) {
		vs_buf_clear(&m->out);
		m->off = 0;
		if (read(m->fd, &v, sizeof(v)) < 0)
			v = 0;
	}
	return (long)k;
}

static int recv_wait_calls;

/* The blocking receive: the script has answered already, so there are bytes. */
static long mock_recv_wait(struct vsc_transport *t, void *buf, size_t len)
{
	recv_wait_calls++;
	long n = mock_recv(t, buf, len);
	assert_true(n != VS_EAGAIN); /* it would have waited forever */
	return n;
}

/* A version-1 table has no recv_wait: the client must never look there. */
static long recv_wait_never(struct vsc_transport *t, void *buf, size_t len)
{
	(void)t;
	(void)buf;
	(void)len;
	fail_msg("recv_wait of a version-1 transport was called");
	return VS_EIO;
}

static int mock_fd(struct vsc_transport *t)
{
	return ((struct mock *)t)->fd;
}

static void mock_free(struct vsc_transport *t)
{
	struct mock *m = (struct mock *)t;
	close(m->fd);
	vs_buf_release(&m->out);
	vs_buf_release(&m->body);
	if (mock_last == m)
		mock_last = NULL;
	free(m);
}

static const struct vsc_transport_ops mock_ops = {
    .version = VSC_TRANSPORT_OPS_VERSION,
    .scheme = "mock",
    .connect = mock_connect,
    .send = mock_send,
    .recv = mock_recv,
    .fd = mock_fd,
    .free = mock_free,
};

static int setup(void **state)
{
	struct vsc_client *c = NULL;
	if (vsc_client_open(&c, "mock:") < 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	vsc_client_close(*state);
	return 0;
}

/* "OK" to everything, and the value "v" to READ. */
static void fn_ok(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	(void)body;
	if (h->type == XSD_READ)
		mock_reply(m, h, "v", 1);
	else if (h->type == XSD_TRANSACTION_START)
		mock_reply(m, h, "17", 3);
	else
		mock_reply(m, h, "OK", 3);
}

static void test_registry_checks_and_finds_transports(void **state)
{
	struct vsc_transport_ops bad = mock_ops;
	(void)state;
	assert_ptr_equal(vsc_transport_find("mock"), &mock_ops);
	assert_non_null(vsc_transport_find("unix"));
	assert_non_null(vsc_transport_find("xenbus"));
	assert_non_null(vsc_transport_find("inproc"));
	assert_null(vsc_transport_find("nope"));
	assert_vs_err(VS_EEXIST, vsc_transport_register(&mock_ops));
	bad.scheme = "Bad Scheme";
	assert_vs_err(VS_EINVAL, vsc_transport_register(&bad));
	bad.scheme = "other";
	bad.version = 99;
	assert_vs_err(VS_EINVAL, vsc_transport_register(&bad));
	bad.version = VSC_TRANSPORT_OPS_VERSION;
	bad.recv = NULL;
	assert_vs_err(VS_EINVAL, vsc_transport_register(&bad));
	assert_vs_err(VS_ENOENT, vsc_transport_unregister("other"));
}

static void test_a_sync_call_waits_in_recv_wait_when_the_transport_has_one(void **state)
{
	struct vsc_transport_ops waits = mock_ops, old = mock_ops;
	struct vsc_client *c = NULL;
	struct vs_buf v = VS_BUF_INIT;
	(void)state;

	waits.scheme = "mockwait";
	waits.recv_wait = mock_recv_wait;
	assert_vs_ok(vsc_transport_register(&waits));
	assert_vs_ok(vsc_client_open(&c, "mockwait:"));
	mock_last->fn = fn_ok;
	recv_wait_calls = 0;
	assert_vs_ok(vsc_read(&v, c, 0, "/a"));
	assert_string_equal(v.ptr, "v");
	/* The mock hands out 7 bytes at a time: one wait, then plain recvs. */
	assert_int_equal(recv_wait_calls, 1);
	vsc_client_close(c);
	assert_vs_ok(vsc_transport_unregister("mockwait"));

	old.scheme = "mockold";
	old.version = 1;
	old.recv_wait = recv_wait_never;
	assert_vs_ok(vsc_transport_register(&old));
	assert_vs_ok(vsc_client_open(&c, "mockold:"));
	mock_last->fn = fn_ok;
	assert_vs_ok(vsc_read(&v, c, 0, "/a"));
	assert_string_equal(v.ptr, "v");
	vsc_client_close(c);
	assert_vs_ok(vsc_transport_unregister("mockold"));
	vs_buf_release(&v);
}

static void test_bad_uris_are_refused(void **state)
{
	struct vsc_client *c = NULL;
	char *dir = vst_tmpdir("vscuri"), file[512];
	(void)state;

	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "nosuch:x"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "no-scheme"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?domid=x"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?domid=70000"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:nosuchbackend:"));
	snprintf(file, sizeof(file), "%s/missing", dir);
	assert_vs_err(VS_ENOENT, vsc_client_open(&c, file));
	snprintf(file, sizeof(file), "unix:%s/missing", dir);
	assert_vs_err(VS_ENOENT, vsc_client_open(&c, file));
	snprintf(file, sizeof(file), "%s/plain", dir);
	assert_int_equal(vst_sh("touch '%s'", file), 0);
	char uri[600];
	snprintf(uri, sizeof(uri), "xenbus:%s", file);
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, uri));
	assert_null(c);
	vst_rmrf(dir);
	free(dir);
}

/* A listening socket at @path (connect() succeeds through the backlog). */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* inproc: takes the daemon's retention settings and collects as requests come. */
static void test_inproc_retention_bounds_history(void **state)
{
	struct vsc_client *c = NULL, *other = NULL;
	const char *const gc[] = {"gc"};
	struct vsc_change *log = NULL;
	struct vs_buf out = VS_BUF_INIT;
	char val[16];
	size_t n = 0;
	(void)state;

	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?keep-last=0"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?keep-newer-than=3x"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?gc-every=3"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?bogus=1"));
	assert_vs_err(VS_EINVAL, vsc_client_open(&c, "inproc:mem:?keep-last"));
	assert_vs_ok(vsc_client_open(&c, "inproc:mem:?keep-last=3&gc-every=2"));
	/* One store, one engine: another client must not ask for other settings. */
	assert_vs_err(VS_EINVAL, vsc_client_open(&other, "inproc:mem:?keep-last=4&gc-every=2"));
	assert_vs_ok(vsc_client_open(&other, "inproc:mem:?gc-every=2&keep-last=3&domid=4"));
	vsc_client_close(other);
	for (int i = 0; i < 30; i++) {
		snprintf(val, sizeof(val), "v%d", i);
		assert_vs_ok(vsc_write(c, VSC_TXN_NONE, "/k", val, strlen(val)));
	}
	/* Collections finish a few requests after they start: give them requests. */
	for (int i = 0; i < 20; i++)
		assert_vs_ok(vsc_read(&out, c, VSC_TXN_NONE, "/k"));
	assert_string_equal(out.ptr, "v29");
	assert_vs_ok(vsc_control(&out, c, gc, 1));
	assert_non_null(strstr(out.ptr, "keep the last 3 commits"));
	assert_non_null(strstr(out.ptr, "kept 3 commits"));
	assert_vs_ok(vsc_log(&log, &n, c, "/k", 0));
	assert_in_range(n, 3, 3 + 1); /* the window, and at most every - 1 since */
	vsc_changes_free(log, n);
	vs_buf_release(&out);
	vsc_client_close(c);
}

static void test_no_uri_finds_the_socket_as_libxenstore_does(void **state)
{
	struct vsc_client *c = NULL;
	char *dir = vst_tmpdir("vscdisc"), sock[512], uri[600];
	(void)state;

	snprintf(sock, sizeof(sock), "%s/socket", dir);
	int lfd = listen_at(sock);
	/* $XENSTORED_PATH first. */
	setenv("XENSTORED_PATH", sock, 1);
	assert_vs_ok(vsc_client_open(&c, NULL));
	assert_string_equal(vsc_client_transport(c), "unix");
	vsc_client_close(c);
	/* Else $XENSTORED_RUNDIR/socket. */
	unsetenv("XENSTORED_PATH");
	setenv("XENSTORED_RUNDIR", dir, 1);
	assert_vs_ok(vsc_client_open(&c, NULL));
	assert_string_equal(vsc_client_transport(c), "unix");
	vsc_client_close(c);
	assert_vs_ok(vsc_client_open(&c, "unix:"));
	vsc_client_close(c);
	/* A path alone, or the xenbus transport pointed at a socket. */
	assert_vs_ok(vsc_client_open(&c, sock));
	assert_string_equal(vsc_client_transport(c), "unix");
	vsc_client_close(c);
	snprintf(uri, sizeof(uri), "xenbus:%s", sock);
	assert_vs_ok(vsc_client_open(&c, uri));
	assert_string_equal(vsc_client_transport(c), "xenbus");
	vsc_client_close(c);
	/* Nothing there: ENOENT, no client. */
	setenv("XENSTORED_PATH", "/nonexistent/vsclient/socket", 1);
	c = NULL;
	assert_vs_err(VS_ENOENT, vsc_client_open(&c, NULL));
	assert_null(c);
	unsetenv("XENSTORED_PATH");
	unsetenv("XENSTORED_RUNDIR");
	close(lfd);
	vst_rmrf(dir);
	free(dir);
}

static void test_requests_are_laid_out_as_xs_wire_says(void **state)
{
	struct vsc_client *c = *state;
	struct mock *m = mock_last;
	static const char *const perms[] = {"b0", "r5"};
	static const char *const cmd[] = {"print", "x"};
	struct vs_buf b = VS_BUF_INIT;
	vsc_txn_t t;

	m->fn = fn_ok;
	assert_vs_ok(vsc_write(c, 3, "/a", "va", 2));
	assert_int_equal(m->req.type, XSD_WRITE);
	assert_int_equal(m->req.tx_id, 3);
	assert_int_equal(m->body.size, 5);
	assert_memory_equal(m->body.ptr, "/a\0va", 5); /* no NUL after the value */
	assert_vs_ok(vsc_watch(c, "/w", "tk", 2));
	assert_int_equal(m->body.size, 8);
	assert_memory_equal(m->body.ptr,
			    "/w\0tk\0"
			    "2\0",
			    8);
	assert_vs_ok(vsc_watch(c, "/w", "tk", -1));
	assert_int_equal(m->body.size, 6);
	assert_vs_ok(vsc_introduce(c, 4, UINT64_MAX, 7));
	assert_memory_equal(m->body.ptr,
			    "4\0-1\0"
			    "7\0",
			    8); /* the gfn is sent signed */
	assert_vs_ok(vsc_set_perms(c, 0, "/p", perms, 2));
	assert_memory_equal(m->body.ptr, "/p\0b0\0r5\0", 9);
	assert_vs_ok(vsc_transaction_start(&t, c));
	assert_int_equal(t, 17);
	assert_int_equal(m->body.size, 1);
	assert_vs_ok(vsc_transaction_end(c, t, true));
	assert_int_equal(m->req.tx_id, 17);
	assert_memory_equal(m->body.ptr, "T\0", 2);
	assert_vs_ok(vsc_set_quota(c, -1, "nodes", 9));
	assert_memory_equal(m->body.ptr,
			    "nodes\0"
			    "9\0",
			    8);
	assert_vs_ok(vsc_control(&b, c, cmd, 2));
	assert_int_equal(m->req.type, XSD_CONTROL);
	assert_memory_equal(m->body.ptr, "print\0x\0", 8);
	assert_string_equal(b.ptr, "OK");
	vs_buf_release(&b);
}

/* A stale reply, an event, then the real reply. */
static void fn_noisy(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	(void)body;
	mock_put(m, h->type, h->req_id + 1000, "stale", 5);
	mock_put(m, XSD_WATCH_EVENT, 0, "/ev\0tok\0", 8);
	mock_reply(m, h, "fresh", 5);
}

static void test_replies_are_matched_by_request_id_and_events_queued(void **state)
{
	struct vsc_client *c = *state;
	struct vs_buf b = VS_BUF_INIT;
	struct vsc_event ev;

	mock_last->fn = fn_noisy;
	assert_false(vsc_event_next(&ev, c, 0) == 0);
	assert_vs_ok(vsc_read(&b, c, 0, "/x"));
	assert_string_equal(b.ptr, "fresh");
	/* The event is queued, and the event fd says so. */
	struct pollfd p = {.fd = vsc_event_fd(c), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_vs_ok(vsc_event_next(&ev, c, 0));
	assert_string_equal(ev.path, "/ev");
	assert_string_equal(ev.token, "tok");
	vsc_event_release(&ev);
	assert_null(ev.path);
	assert_vs_err(VS_EAGAIN, vsc_event_next(&ev, c, 0));
	assert_int_equal(poll(&p, 1, 0), 0);
	/* An event that comes on its own wakes the fd too. */
	mock_put(mock_last, XSD_WATCH_EVENT, 0, "/late\0t2\0", 9);
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_vs_ok(vsc_event_next(&ev, c, 1000));
	assert_string_equal(ev.path, "/late");
	vsc_event_release(&ev);
	vs_buf_release(&b);
}

static void fn_errors(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	const char *path = (const char *)body;
	mock_error(m, h, path + 1); /* "/ENOENT" answers ENOENT */
}

static void test_error_names_become_codes(void **state)
{
	struct vsc_client *c = *state;
	struct vs_buf b = VS_BUF_INIT;

	mock_last->fn = fn_errors;
	assert_vs_err(VS_ENOENT, vsc_read(&b, c, 0, "/ENOENT"));
	assert_non_null(strstr(vs_error_last()->message, "/ENOENT"));
	assert_vs_err(VS_EACCES, vsc_read(&b, c, 0, "/EACCES"));
	assert_vs_err(VS_EAGAIN, vsc_read(&b, c, 0, "/EAGAIN"));
	assert_vs_err(VS_EQUOTA, vsc_read(&b, c, 0, "/EQUOTA"));    /* oxenstored's */
	assert_vs_err(VS_EINVAL, vsc_read(&b, c, 0, "/EWHATEVER")); /* as libxenstore */
	vs_buf_release(&b);
}

/*
 * Children c000..c199 (2000 bytes listed). DIRECTORY is E2BIG; each
 * DIRECTORY_PART returns 50 names; the generation changes once, on the
 * second part of the first pass.
 */
static void fn_big_dir(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	struct vs_buf r = VS_BUF_INIT;
	if (h->type == XSD_DIRECTORY) {
		mock_error(m, h, "E2BIG");
		return;
	}
	const char *off = (const char *)body + strlen((const char *)body) + 1;
	size_t at = strtoul(off, NULL, 10), first = at / 5; /* "cNNN\0" */
	m->state++;
	assert_vs_ok(vs_buf_puts(&r, m->state == 2 ? "8" : "7"));
	assert_vs_ok(vs_buf_putc(&r, '\0'));
	for (size_t i = first; i < first + 50 && i < 200; i++) {
		assert_vs_ok(vs_buf_printf(&r, "c%03zu", i));
		assert_vs_ok(vs_buf_putc(&r, '\0'));
	}
	if (first + 50 >= 200)
		assert_vs_ok(vs_buf_putc(&r, '\0'));
	mock_reply(m, h, r.ptr, r.size);
	vs_buf_release(&r);
}

static void test_a_large_directory_is_read_in_parts_and_restarted_on_change(void **state)
{
	struct vsc_client *c = *state;
	struct vs_strarray a;
	char want[8];

	mock_last->fn = fn_big_dir;
	assert_vs_ok(vsc_directory(&a, c, 0, "/big"));
	assert_int_equal(a.count, 200);
	for (size_t i = 0; i < 200; i++) {
		snprintf(want, sizeof(want), "c%03zu", i);
		assert_string_equal(a.strings[i], want);
	}
	vs_strarray_dispose(&a);
	/* DIRECTORY, 2 parts (changed), then 4 parts. */
	assert_int_equal(mock_last->calls, 1 + 2 + 4);
}

/* A listing with empty pieces and an unterminated last name. */
static void fn_ragged_dir(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	static const char r[] = "\0a\0\0bc\0d";
	(void)body;
	mock_reply(m, h, r, sizeof(r) - 1);
}

static void test_a_listing_drops_empty_names_and_keeps_an_unterminated_last(void **state)
{
	struct vsc_client *c = *state;
	struct vs_strarray a = {0};

	mock_last->fn = fn_ragged_dir;
	assert_vs_ok(vsc_directory(&a, c, 0, "/r"));
	assert_int_equal(a.count, 3);
	assert_string_equal(a.strings[0], "a");
	assert_string_equal(a.strings[1], "bc");
	assert_string_equal(a.strings[2], "d");
	assert_true(a.packed); /* one allocation; ASan checks the dispose frees it whole */
	vs_strarray_dispose(&a);
	assert_null(a.strings);
	assert_false(a.packed);
	mock_last->fn = fn_ok; /* "OK\0": one name */
	assert_vs_ok(vsc_directory(&a, c, 0, "/r"));
	assert_int_equal(a.count, 1);
	assert_string_equal(a.strings[0], "OK");
	vs_strarray_dispose(&a);
}

static void fn_no_part(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	(void)body;
	mock_error(m, h, h->type == XSD_DIRECTORY ? "E2BIG" : "ENOSYS");
}

static void test_a_large_directory_without_directory_part_is_e2big(void **state)
{
	struct vsc_client *c = *state;
	struct vs_strarray a;

	mock_last->fn = fn_no_part;
	assert_vs_err(VS_E2BIG, vsc_directory(&a, c, 0, "/big"));
	assert_int_equal(a.count, 0);
}

static void fn_hangup(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	(void)h, (void)body;
	uint64_t one = 1;
	m->closed = true;
	assert_int_equal(write(m->fd, &one, sizeof(one)), sizeof(one));
}

static void test_a_lost_connection_fails_every_call(void **state)
{
	struct vsc_client *c = *state;
	struct vs_buf b = VS_BUF_INIT;
	struct vsc_event ev;

	mock_last->fn = fn_hangup;
	assert_vs_err(VS_EIO, vsc_read(&b, c, 0, "/x"));
	mock_last->fn = fn_ok;
	assert_vs_err(VS_EIO, vsc_read(&b, c, 0, "/x"));
	assert_vs_err(VS_EIO, vsc_event_next(&ev, c, 0));
	vs_buf_release(&b);
}

static void fn_oversized(struct mock *m, const struct xsd_msg_hdr *h, const unsigned char *body)
{
	struct xsd_msg_hdr bad = {h->type, h->req_id, 0, XSD_PAYLOAD_MAX + 1};
	uint64_t one = 1;
	(void)body;
	assert_vs_ok(vs_buf_put(&m->out, &bad, sizeof(bad)));
	assert_int_equal(write(m->fd, &one, sizeof(one)), sizeof(one));
}

static void test_an_oversized_reply_breaks_the_stream(void **state)
{
	struct vsc_client *c = *state;
	struct vs_buf b = VS_BUF_INIT;

	mock_last->fn = fn_oversized;
	assert_vs_err(VS_EIO, vsc_read(&b, c, 0, "/x"));
	mock_last->fn = fn_ok;
	assert_vs_err(VS_EIO, vsc_read(&b, c, 0, "/x"));
	vs_buf_release(&b);
}

static void test_history_needs_a_transport_that_has_it(void **state)
{
	struct vsc_client *c = *state;
	struct vsc_change *log = (struct vsc_change *)1;
	size_t n = 9;
	struct vs_buf b = VS_BUF_INIT;

	assert_vs_err(VS_ENOTSUP, vsc_log(&log, &n, c, "/x", 0));
	assert_null(log);
	assert_int_equal(n, 0);
	assert_vs_err(VS_ENOTSUP, vsc_read_at(&b, c, "main", "/x"));
	assert_int_equal(mock_last->calls, 0);
	vsc_changes_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registry_checks_and_finds_transports, setup,
					    teardown),
	    cmocka_unit_test(test_a_sync_call_waits_in_recv_wait_when_the_transport_has_one),
	    cmocka_unit_test_setup_teardown(
		test_a_listing_drops_empty_names_and_keeps_an_unterminated_last, setup, teardown),
	    cmocka_unit_test(test_bad_uris_are_refused),
	    cmocka_unit_test(test_no_uri_finds_the_socket_as_libxenstore_does),
	    cmocka_unit_test(test_inproc_retention_bounds_history),
	    cmocka_unit_test_setup_teardown(test_requests_are_laid_out_as_xs_wire_says, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_replies_are_matched_by_request_id_and_events_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_names_become_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_large_directory_is_read_in_parts_and_restarted_on_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_large_directory_without_directory_part_is_e2big,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_lost_connection_fails_every_call, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_an_oversized_reply_breaks_the_stream, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_history_needs_a_transport_that_has_it, setup,
					    teardown),
	};
	if (vsc_transport_register(&mock_ops) < 0)
		return 1;
	int rc = cmocka_run_group_tests_name("client_mock", tests, NULL, NULL);
	vsc_transport_unregister("mock");
	return rc;
}
