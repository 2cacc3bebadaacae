/* SPDX-License-Identifier: MIT */
/*
 * Bad input on the socket: garbage, truncated headers, lengths past 4096,
 * payloads without their NULs or with too many strings, unknown message
 * types, malformed permissions and transaction ids. Each gets a clear error
 * reply or a closed connection (never a reply larger than the protocol
 * allows), and the daemon keeps serving another client afterwards. Answers
 * are those of Xen 4.17's C xenstored.
 */
#include "vst.h"

#include <errno.h>
#include <unistd.h>

#include "xsfixture.h"

#define EVENT_MS 3000

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

/* A fresh dom0 connection is answered, so the daemon survived. */
static void assert_serving(struct xsf *f)
{
	assert_true(xsf_alive(f));
}

static void test_garbage_bytes_close_the_connection(void **state)
{
	struct xsf *f = *state;
	unsigned char junk[256];
	/* A header whose length is huge, then noise. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(0xA5 ^ (i * 37));
	struct xst_conn *c = xsf_raw(f);
	assert_int_equal(xst_send_raw(c, junk, sizeof(junk)), 0);
	assert_true(xst_wait_closed(c, EVENT_MS));
	xst_close(c);
	assert_serving(f);
}

static void test_length_past_4096_closes_the_connection(void **state)
{
	struct xsf *f = *state;
	static const uint32_t lens[] = { XSD_PAYLOAD_MAX + 1, 65536, UINT32_MAX };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct xst_conn *c = xsf_raw(f);
		assert_int_equal(xst_send_lying(c, XSD_WRITE, 1, 0, lens[i], "/x\0v", 4), 0);
		assert_true(xst_wait_closed(c, EVENT_MS));
		xst_close(c);
	}
	/* Exactly 4096 is fine. */
	char buf[XSD_PAYLOAD_MAX];
	memset(buf, 'v', sizeof(buf));
	memcpy(buf, "/max", 5);
	struct xst_conn *c = xsf_raw(f);
	assert_int_equal(xst_request(c, XSD_WRITE, 0, buf, sizeof(buf), NULL), 0);
	xst_close(c);
	assert_serving(f);
}

static void test_truncated_header_blocks_nobody(void **state)
{
	struct xsf *f = *state;
	struct xsd_msg_hdr h = { .type = XSD_READ, .req_id = 1, .len = 2 };
	struct xst_conn *c = xsf_raw(f);
	/* Half a header, then silence: the daemon waits for this client only. */
	assert_int_equal(xst_send_raw(c, &h, 8), 0);
	assert_serving(f);
	struct xst_msg m;
	assert_int_equal(xst_recv_any(c, &m, 300), -ETIMEDOUT);
	/* The rest arrives late, byte by byte: one whole request. */
	const unsigned char *p = (const unsigned char *)&h;
	for (size_t i = 8; i < sizeof(h); i++)
		assert_int_equal(xst_send_raw(c, p + i, 1), 0);
	assert_int_equal(xst_send_raw(c, "/", 2), 0);
	assert_int_equal(xst_recv_reply(c, &m, EVENT_MS), 0);
	assert_int_equal(m.hdr.req_id, 1);
	xst_close(c);

	/* A header cut short by a close. */
	assert_int_equal(xst_connect(&c, f->sock), 0);
	assert_int_equal(xst_send_raw(c, &h, 5), 0);
	xst_close(c);
	/* A payload cut short by a close. */
	assert_int_equal(xst_connect(&c, f->sock), 0);
	assert_int_equal(xst_send_lying(c, XSD_WRITE, 2, 0, 100, "/cut\0", 5), 0);
	xst_close(c);
	assert_serving(f);
	assert_null(xsf_read(f->h, "/cut"));
}

static void test_single_path_requests_need_exactly_one_string(void **state)
{
	struct xsf *f = *state;
	assert_true(xsf_write(f->h, "/a", "x"));
	struct xst_conn *c = xsf_raw(f);
	static const uint32_t ops[] = { XSD_READ, XSD_DIRECTORY, XSD_GET_PERMS, XSD_MKDIR,
					XSD_RM };
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "/a", 2 },	      /* no NUL */
		{ "/a\0/b\0", 6 },    /* two strings */
		{ "/a\0junk", 7 },    /* trailing bytes */
		{ "", 0 },	      /* nothing */
		{ "\0", 1 },	      /* an empty path */
		{ "/a\0\0", 4 },      /* an extra NUL */
	};
	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int err = xst_request(c, ops[o], 0, bad[i].bytes, bad[i].len, NULL);
			if (err != -EINVAL)
				fail_msg("op %u payload #%zu: %d, want EINVAL", ops[o], i, err);
		}
	/* The connection is still good, and so is /a. */
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, "/a", NULL), 0);
	xst_close(c);
	assert_serving(f);
}

static void test_malformed_multi_argument_requests_are_einval(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	/* WRITE: the path needs its NUL. */
	assert_int_equal(xst_request(c, XSD_WRITE, 0, "/nonul", 6, NULL), -EINVAL);
	assert_int_equal(xst_request(c, XSD_WRITE, 0, "", 0, NULL), -EINVAL);
	/* WATCH / UNWATCH: path and token. */
	assert_int_equal(xst_requestv(c, XSD_WATCH, 0, NULL, "/w", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_UNWATCH, 0, NULL, "/w", NULL), -EINVAL);
	/* Domain operations with too few arguments. */
	assert_int_equal(xst_requestv(c, XSD_INTRODUCE, 0, NULL, "5", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_TARGET, 0, NULL, "5", NULL), -EINVAL);
	assert_int_equal(xst_request(c, XSD_GET_DOMAIN_PATH, 0, "", 0, NULL), -EINVAL);
	assert_int_equal(xst_request(c, XSD_IS_DOMAIN_INTRODUCED, 0, "7", 1, NULL), -EINVAL);
	/* DIRECTORY_PART: path and offset. */
	assert_int_equal(xst_requestv(c, XSD_DIRECTORY_PART, 0, NULL, "/", NULL), -EINVAL);
	/* TRANSACTION_END: T or F, in a transaction. */
	struct xst_msg m;
	assert_int_equal(xst_request(c, XSD_TRANSACTION_START, 0, "", 1, &m), 0);
	uint32_t tx = (uint32_t)strtoul(m.body, NULL, 10);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, tx, "X", 2, NULL), -EINVAL);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, tx, "", 0, NULL), -EINVAL);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, tx, "F", 2, NULL), 0);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, 0, "T", 2, NULL), -ENOENT);
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, "/", NULL), 0);
	xst_close(c);
	assert_serving(f);
}

static void test_bad_permissions_are_refused(void **state)
{
	struct xsf *f = *state;
	assert_true(xsf_write(f->h, "/p", "x"));
	struct xst_conn *c = xsf_raw(f);
	/* No permission at all, bad letters, missing domids. */
	assert_int_equal(xst_requestv(c, XSD_SET_PERMS, 0, NULL, "/p", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_PERMS, 0, NULL, "/p", "x0", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_PERMS, 0, NULL, "/p", "r", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_PERMS, 0, NULL, "/p", "", NULL), -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_PERMS, 0, NULL, "/p", "n0", "rX", NULL),
			 -EINVAL);
	/* A special path that is not one of the special nodes. */
	int err = xst_requestv(c, XSD_SET_PERMS, 0, NULL, "@nosuch", "n0", NULL);
	assert_true(err == -EINVAL || err == -ENOENT);
	err = xst_requestv(c, XSD_SET_PERMS, 0, NULL, "@", "n0", NULL);
	assert_true(err == -EINVAL || err == -ENOENT);
	/* The node's permissions did not change. */
	unsigned int n = 0;
	struct xs_permissions *p = xs_get_permissions(f->h, XBT_NULL, "/p", &n);
	assert_non_null(p);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].id, 0);
	free(p);
	xst_close(c);
	assert_serving(f);
}

static void test_unknown_types_are_enosys_and_keep_the_connection(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	static const uint32_t types[] = { 20, 27, 28, 100, XSD_WATCH_EVENT, XSD_ERROR,
					  XSD_INVALID, 0x7fffffffu, UINT32_MAX };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int err = xst_requestv(c, types[i], 0, NULL, "/", NULL);
		if (err != -ENOSYS)
			fail_msg("type %u: %d, want ENOSYS", types[i], err);
	}
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, "/", NULL), 0);
	xst_close(c);

	/* The same from a guest. */
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	assert_int_equal(xst_requestv(d5, 20, 0, NULL, "/", NULL), -ENOSYS);
	assert_int_equal(xst_requestv(d5, 27, 0, NULL, "/", NULL), -ENOSYS);
	assert_int_equal(xst_requestv(d5, XSD_GET_DOMAIN_PATH, 0, NULL, "5", NULL), 0);
	xst_close(d5);
	assert_serving(f);
}

static void test_replies_echo_request_ids_in_order(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	/* Pipelined requests of mixed kinds, errors included. */
	long ids[6];
	ids[0] = xst_send(c, XSD_READ, 0, "/", 2);
	ids[1] = xst_send(c, 20, 0, "/", 2);
	ids[2] = xst_send(c, XSD_READ, 0, "/nosuch", 8);
	ids[3] = xst_send(c, XSD_WRITE, 0, "/pipe\0v", 7);
	ids[4] = xst_send(c, XSD_READ, 0, "/pipe", 6);
	ids[5] = xst_send(c, XSD_DIRECTORY, 0, "/", 2);
	static const int want[] = { 0, -ENOSYS, -ENOENT, 0, 0, 0 };
	for (int i = 0; i < 6; i++) {
		struct xst_msg m;
		assert_true(ids[i] > 0);
		assert_int_equal(xst_recv_reply(c, &m, EVENT_MS), 0);
		assert_int_equal(m.hdr.req_id, (uint32_t)ids[i]);
		assert_int_equal(xst_msg_error(&m), want[i]);
		if (i == 4)
			assert_string_equal(m.body, "v");
	}
	xst_close(c);
}

static void test_many_broken_clients_leave_the_daemon_serving(void **state)
{
	struct xsf *f = *state;
	/* Bounded: 200 connections, each broken in one of four ways. */
	for (int i = 0; i < 200; i++) {
		struct xst_conn *c = NULL;
		assert_int_equal(xst_connect(&c, f->sock), 0);
		switch (i % 4) {
		case 0:
			xst_send_raw(c, "\xff\xff\xff\xff", 4);
			break;
		case 1:
			xst_send_lying(c, XSD_READ, 1, 0, UINT32_MAX, NULL, 0);
			break;
		case 2:
			xst_send(c, XSD_READ, 0, "/", 2); /* and never read the reply */
			break;
		default:
			xst_send_lying(c, XSD_TRANSACTION_START, 1, 0, 1, "", 1);
			break;
		}
		xst_close(c);
	}
	assert_serving(f);
	char *v = xsf_read(f->h, "/tool");
	assert_non_null(v);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_garbage_bytes_close_the_connection),
		T(test_length_past_4096_closes_the_connection),
		T(test_truncated_header_blocks_nobody),
		T(test_single_path_requests_need_exactly_one_string),
		T(test_malformed_multi_argument_requests_are_einval),
		T(test_bad_permissions_are_refused),
		T(test_unknown_types_are_enosys_and_keep_the_connection),
		T(test_replies_echo_request_ids_in_order),
		T(test_many_broken_clients_leave_the_daemon_serving),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_bad_input", tests, NULL, NULL);
}
