/* SPDX-License-Identifier: MIT */
/*
 * The wire codec: type and error names, the incremental reader (messages
 * split at every byte boundary, several per feed, the 4096-byte limit),
 * argument splitting, the message builder, and our constants against Xen's
 * own xs_wire.h when libxen-dev is installed.
 */
#include "vst.h"

#include <errno.h>
#include <limits.h>

#include "xsd/wire.h"

#if __has_include(<xen/io/xs_wire.h>)
#include <stdint.h>
#include <xen/io/xs_wire.h>
#define HAVE_XS_WIRE 1
#endif

/* A message of @p len payload bytes (pattern i * 7 + 3), built by hand. */
static size_t make_msg(unsigned char *out, uint32_t type, uint32_t req, uint32_t tx,
		       uint32_t len)
{
	struct xsd_msg_hdr h = { .type = type, .req_id = req, .tx_id = tx, .len = len };
	memcpy(out, &h, sizeof(h));
	for (uint32_t i = 0; i < len; i++)
		out[sizeof(h) + i] = (unsigned char)(i * 7 + 3);
	return sizeof(h) + len;
}

static void assert_msg(const struct xsd_reader *r, uint32_t type, uint32_t req, uint32_t tx,
		       uint32_t len)
{
	assert_int_equal(r->hdr.type, type);
	assert_int_equal(r->hdr.req_id, req);
	assert_int_equal(r->hdr.tx_id, tx);
	assert_int_equal(r->hdr.len, len);
	const unsigned char *p = xsd_reader_payload(r);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(p[i], (unsigned char)(i * 7 + 3));
}

static void test_type_names_cover_every_type_but_20(void **state)
{
	static const char *const want[XSD_TYPE_COUNT] = {
		"CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
		"TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
		"GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT",
		"ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", NULL,
		"RESET_WATCHES", "DIRECTORY_PART", "GET_FEATURE", "SET_FEATURE",
		"GET_QUOTA", "SET_QUOTA",
	};
	(void)state;
	for (uint32_t t = 0; t < XSD_TYPE_COUNT; t++) {
		if (want[t])
			assert_string_equal(xsd_msg_type_name(t), want[t]);
		else
			assert_null(xsd_msg_type_name(t));
	}
	assert_string_equal(xsd_msg_type_name(XSD_READ), "READ");
	assert_null(xsd_msg_type_name(XSD_TYPE_COUNT));
	assert_null(xsd_msg_type_name(XSD_INVALID));
	assert_null(xsd_msg_type_name(UINT32_MAX));
}

static const int wire_errnos[] = { EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM,
				   ENOSPC, EIO, ENOTEMPTY, ENOSYS, EROFS, EBUSY,
				   EAGAIN, EISCONN, E2BIG, EPERM };
static const char *const wire_names[] = { "EINVAL", "EACCES", "EEXIST", "EISDIR",
					  "ENOENT", "ENOMEM", "ENOSPC", "EIO",
					  "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY",
					  "EAGAIN", "EISCONN", "E2BIG", "EPERM" };

static void test_error_names_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wire_errnos) / sizeof(wire_errnos[0]); i++) {
		assert_string_equal(xsd_error_name(-wire_errnos[i]), wire_names[i]);
		assert_string_equal(xsd_error_name(wire_errnos[i]), wire_names[i]);
		assert_int_equal(xsd_error_from_name(wire_names[i]), -wire_errnos[i]);
		assert_int_equal(xsd_error_from_name(xsd_error_name(-wire_errnos[i])),
				 -wire_errnos[i]);
	}
	assert_string_equal(xsd_error_name(VS_ENOENT), "ENOENT");
	assert_string_equal(xsd_error_name(VS_EACCES), "EACCES");
}

static void test_error_names_outside_the_list_become_einval(void **state)
{
	(void)state;
	assert_string_equal(xsd_error_name(VS_ENOTSUP), "EINVAL");
	assert_string_equal(xsd_error_name(VS_ERANGE), "EINVAL");
	assert_string_equal(xsd_error_name(VS_ETIMEDOUT), "EINVAL");
	assert_string_equal(xsd_error_name(VS_ENOTDIR), "EINVAL");
	assert_string_equal(xsd_error_name(0), "EINVAL");
	assert_string_equal(xsd_error_name(-12345), "EINVAL");
	assert_string_equal(xsd_error_name(INT_MIN), "EINVAL");
	assert_string_equal(xsd_error_name(INT_MAX), "EINVAL");
}

static void test_error_names_translate_the_store_codes(void **state)
{
	(void)state;
	assert_string_equal(xsd_error_name(VS_ECONFLICT), "EAGAIN");
	assert_string_equal(xsd_error_name(VS_ECORRUPT), "EIO");
	assert_string_equal(xsd_error_name(VS_EBACKEND), "EIO");
	assert_string_equal(xsd_error_name(VS_EQUOTA), "ENOSPC");
}

static void test_error_from_unknown_name_is_zero(void **state)
{
	(void)state;
	assert_int_equal(xsd_error_from_name(NULL), 0);
	assert_int_equal(xsd_error_from_name(""), 0);
	assert_int_equal(xsd_error_from_name("EQUOTA"), 0);
	assert_int_equal(xsd_error_from_name("enoent"), 0);
	assert_int_equal(xsd_error_from_name("ENOENT "), 0);
	assert_int_equal(xsd_error_from_name("ENOTSUP"), 0);
}

static void test_reader_takes_a_whole_message_in_one_feed(void **state)
{
	unsigned char msg[64];
	size_t n = make_msg(msg, XSD_READ, 7, 3, 20);
	struct xsd_reader r;
	bool done = true;
	(void)state;

	xsd_reader_init(&r);
	assert_int_equal(xsd_reader_feed(&r, msg, n, &done), (long)n);
	assert_true(done);
	assert_msg(&r, XSD_READ, 7, 3, 20);
	/* While a message is complete nothing more is taken. */
	assert_int_equal(xsd_reader_feed(&r, msg, n, &done), 0);
	assert_true(done);
	xsd_reader_next(&r);
	assert_int_equal(xsd_reader_feed(&r, msg, 0, &done), 0);
	assert_false(done);
	xsd_reader_release(&r);
}

static void test_reader_takes_a_message_byte_by_byte(void **state)
{
	unsigned char msg[16 + 300];
	size_t n = make_msg(msg, XSD_WRITE, 0xdeadbeef, 0x12345678, 300);
	struct xsd_reader r;
	bool done;
	(void)state;

	xsd_reader_init(&r);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(xsd_reader_feed(&r, msg + i, 1, &done), 1);
		assert_int_equal(done, i == n - 1);
	}
	assert_msg(&r, XSD_WRITE, 0xdeadbeef, 0x12345678, 300);
	xsd_reader_release(&r);
}

static void test_reader_survives_a_split_at_every_boundary(void **state)
{
	unsigned char msg[16 + 40];
	size_t n = make_msg(msg, XSD_DIRECTORY, 1, 0, 40);
	struct xsd_reader r;
	bool done;
	(void)state;

	for (size_t cut = 0; cut <= n; cut++) {
		xsd_reader_init(&r);
		assert_int_equal(xsd_reader_feed(&r, msg, cut, &done), (long)cut);
		assert_int_equal(done, cut == n);
		assert_int_equal(xsd_reader_feed(&r, msg + cut, n - cut, &done), (long)(n - cut));
		assert_true(done);
		assert_msg(&r, XSD_DIRECTORY, 1, 0, 40);
	}
}

static void test_reader_takes_several_messages_from_one_feed(void **state)
{
	unsigned char stream[3 * (16 + 100)];
	size_t n = 0;
	struct xsd_reader r;
	bool done;
	(void)state;

	n += make_msg(stream + n, XSD_READ, 1, 0, 10);
	n += make_msg(stream + n, XSD_TRANSACTION_START, 2, 0, 0);
	n += make_msg(stream + n, XSD_WRITE, 3, 9, 100);
	xsd_reader_init(&r);
	size_t off = 0;
	uint32_t seen = 0;
	while (off < n) {
		long used = xsd_reader_feed(&r, stream + off, n - off, &done);
		assert_true(used > 0);
		off += (size_t)used;
		assert_true(done);
		seen++;
		if (seen == 1)
			assert_msg(&r, XSD_READ, 1, 0, 10);
		else if (seen == 2)
			assert_msg(&r, XSD_TRANSACTION_START, 2, 0, 0);
		else
			assert_msg(&r, XSD_WRITE, 3, 9, 100);
		xsd_reader_next(&r);
	}
	assert_int_equal(seen, 3);
}

static void test_reader_completes_a_zero_length_payload_with_the_header(void **state)
{
	unsigned char msg[16];
	make_msg(msg, XSD_RESET_WATCHES, 5, 0, 0);
	struct xsd_reader r;
	bool done;
	(void)state;

	xsd_reader_init(&r);
	assert_int_equal(xsd_reader_feed(&r, msg, 15, &done), 15);
	assert_false(done);
	assert_int_equal(xsd_reader_feed(&r, msg + 15, 1, &done), 1);
	assert_true(done);
	assert_msg(&r, XSD_RESET_WATCHES, 5, 0, 0);
}

static void test_reader_accepts_exactly_4096_bytes(void **state)
{
	static unsigned char msg[16 + XSD_PAYLOAD_MAX + 16];
	size_t n = make_msg(msg, XSD_WRITE, 1, 0, XSD_PAYLOAD_MAX);
	n += make_msg(msg + n, XSD_READ, 2, 0, 0);
	struct xsd_reader r;
	bool done;
	(void)state;

	xsd_reader_init(&r);
	assert_int_equal(xsd_reader_feed(&r, msg, n, &done), 16 + XSD_PAYLOAD_MAX);
	assert_true(done);
	assert_msg(&r, XSD_WRITE, 1, 0, XSD_PAYLOAD_MAX);
	xsd_reader_next(&r);
	assert_int_equal(xsd_reader_feed(&r, msg + 16 + XSD_PAYLOAD_MAX, 16, &done), 16);
	assert_true(done);
	assert_msg(&r, XSD_READ, 2, 0, 0);
}

static void test_reader_refuses_a_header_announcing_4097_for_good(void **state)
{
	struct xsd_msg_hdr h = { .type = XSD_WRITE, .req_id = 1, .len = XSD_PAYLOAD_MAX + 1 };
	unsigned char bytes[16];
	memcpy(bytes, &h, sizeof(h));
	struct xsd_reader r;
	bool done = true;
	(void)state;

	xsd_reader_init(&r);
	/* Byte by byte: the error comes with the header's last byte. */
	for (size_t i = 0; i < 15; i++) {
		assert_int_equal(xsd_reader_feed(&r, bytes + i, 1, &done), 1);
		assert_false(done);
	}
	assert_vs_err(VS_E2BIG, (int)xsd_reader_feed(&r, bytes + 15, 1, &done));
	assert_false(done);
	assert_int_equal(vs_error_last()->code, VS_E2BIG);
	/* Sticky: the stream cannot be resynchronised. */
	assert_vs_err(VS_E2BIG, (int)xsd_reader_feed(&r, bytes, sizeof(bytes), &done));
	assert_vs_err(VS_E2BIG, (int)xsd_reader_feed(&r, bytes, 0, &done));
	assert_false(done);

	/* In one feed, and with a huge length, too. */
	h.len = UINT32_MAX;
	memcpy(bytes, &h, sizeof(h));
	xsd_reader_init(&r);
	assert_vs_err(VS_E2BIG, (int)xsd_reader_feed(&r, bytes, sizeof(bytes), &done));
	xsd_reader_release(&r);
	/* Released, the reader starts over. */
	h.len = 0;
	memcpy(bytes, &h, sizeof(h));
	assert_int_equal(xsd_reader_feed(&r, bytes, sizeof(bytes), &done), 16);
	assert_true(done);
}

static void test_args_split_counts_terminated_strings(void **state)
{
	static const unsigned char p[] = "a\0bc\0\0d";
	const char *argv[4];
	const unsigned char *tail = (const unsigned char *)"x";
	size_t tail_len = 99;
	(void)state;

	/* "a", "bc", "" are terminated; "d" is the tail. */
	assert_int_equal(xsd_args_split(argv, 4, p, 7, &tail, &tail_len), 3);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "bc");
	assert_string_equal(argv[2], "");
	assert_ptr_equal(tail, p + 6);
	assert_int_equal(tail_len, 1);
	/* With the final NUL there is no tail. */
	assert_int_equal(xsd_args_split(argv, 4, p, 8, &tail, &tail_len), 4);
	assert_string_equal(argv[3], "d");
	assert_null(tail);
	assert_int_equal(tail_len, 0);
	/* The tail pointers are optional. */
	assert_int_equal(xsd_args_split(argv, 4, p, 7, NULL, NULL), 3);
}

static void test_args_split_reports_more_strings_than_room(void **state)
{
	static const unsigned char p[] = "1\0002\0003\0004\0";
	const char *argv[2] = { NULL, NULL };
	(void)state;

	assert_int_equal(xsd_args_split(argv, 2, p, sizeof(p) - 1, NULL, NULL), 4);
	assert_string_equal(argv[0], "1");
	assert_string_equal(argv[1], "2");
	assert_int_equal(xsd_args_split(NULL, 0, p, sizeof(p) - 1, NULL, NULL), 4);
}

static void test_args_split_of_write_gives_the_value_as_tail(void **state)
{
	static const unsigned char p[] = "/local/domain/1/name\0guest-one";
	const char *argv[2];
	const unsigned char *tail;
	size_t tail_len;
	(void)state;

	assert_int_equal(xsd_args_split(argv, 2, p, sizeof(p) - 1, &tail, &tail_len), 1);
	assert_string_equal(argv[0], "/local/domain/1/name");
	assert_int_equal(tail_len, 9);
	assert_memory_equal(tail, "guest-one", 9);
}

static void test_args_split_of_empty_payloads(void **state)
{
	const char *argv[2];
	const unsigned char *tail = (const unsigned char *)"x";
	size_t tail_len = 5;
	(void)state;

	assert_int_equal(xsd_args_split(argv, 2, (const unsigned char *)"", 0, &tail,
					&tail_len), 0);
	assert_null(tail);
	assert_int_equal(tail_len, 0);
	assert_int_equal(xsd_args_split(argv, 2, (const unsigned char *)"", 1, &tail,
					&tail_len), 1);
	assert_string_equal(argv[0], "");
	assert_null(tail);
}

static void test_msg_build_round_trips_through_the_reader(void **state)
{
	struct vs_buf out = VS_BUF_INIT;
	struct xsd_msg_hdr h = { .type = XSD_READ, .req_id = 42, .tx_id = 7, .len = 999 };
	struct xsd_reader r;
	bool done;
	(void)state;

	assert_vs_ok(xsd_msg_build(&out, &h, "value", 5));
	h.type = XSD_ERROR;
	assert_vs_ok(xsd_msg_build(&out, &h, "ENOENT", 7));
	h.type = XSD_WATCH_EVENT;
	assert_vs_ok(xsd_msg_build(&out, &h, NULL, 0));
	assert_int_equal(out.size, 3 * 16 + 5 + 7);

	xsd_reader_init(&r);
	long used = xsd_reader_feed(&r, out.ptr, out.size, &done);
	assert_int_equal(used, 16 + 5);
	assert_true(done);
	assert_int_equal(r.hdr.type, XSD_READ);
	assert_int_equal(r.hdr.req_id, 42);
	assert_int_equal(r.hdr.tx_id, 7);
	assert_int_equal(r.hdr.len, 5);
	assert_memory_equal(xsd_reader_payload(&r), "value", 5);
	xsd_reader_next(&r);
	long used2 = xsd_reader_feed(&r, out.ptr + used, out.size - (size_t)used, &done);
	assert_int_equal(used2, 16 + 7);
	assert_int_equal(r.hdr.type, XSD_ERROR);
	assert_int_equal(xsd_error_from_name((const char *)xsd_reader_payload(&r)), VS_ENOENT);
	xsd_reader_next(&r);
	assert_int_equal(xsd_reader_feed(&r, out.ptr + used + used2, 16, &done), 16);
	assert_true(done);
	assert_int_equal(r.hdr.len, 0);
	vs_buf_release(&out);
}

static void test_msg_build_refuses_more_than_4096(void **state)
{
	static unsigned char big[XSD_PAYLOAD_MAX + 1];
	struct vs_buf out = VS_BUF_INIT;
	struct xsd_msg_hdr h = { .type = XSD_DIRECTORY };
	(void)state;

	assert_vs_ok(xsd_msg_build(&out, &h, "a", 1));
	assert_vs_err(VS_E2BIG, xsd_msg_build(&out, &h, big, sizeof(big)));
	assert_int_equal(out.size, 17);
	assert_vs_ok(xsd_msg_build(&out, &h, big, XSD_PAYLOAD_MAX));
	assert_int_equal(out.size, 17 + 16 + XSD_PAYLOAD_MAX);
	vs_buf_release(&out);
}

#ifdef HAVE_XS_WIRE
static void test_constants_match_xen_xs_wire_h(void **state)
{
	(void)state;
	assert_int_equal(XSD_CONTROL, XS_CONTROL);
	assert_int_equal(XSD_CONTROL, XS_DEBUG);
	assert_int_equal(XSD_DIRECTORY, XS_DIRECTORY);
	assert_int_equal(XSD_READ, XS_READ);
	assert_int_equal(XSD_GET_PERMS, XS_GET_PERMS);
	assert_int_equal(XSD_WATCH, XS_WATCH);
	assert_int_equal(XSD_UNWATCH, XS_UNWATCH);
	assert_int_equal(XSD_TRANSACTION_START, XS_TRANSACTION_START);
	assert_int_equal(XSD_TRANSACTION_END, XS_TRANSACTION_END);
	assert_int_equal(XSD_INTRODUCE, XS_INTRODUCE);
	assert_int_equal(XSD_RELEASE, XS_RELEASE);
	assert_int_equal(XSD_GET_DOMAIN_PATH, XS_GET_DOMAIN_PATH);
	assert_int_equal(XSD_WRITE, XS_WRITE);
	assert_int_equal(XSD_MKDIR, XS_MKDIR);
	assert_int_equal(XSD_RM, XS_RM);
	assert_int_equal(XSD_SET_PERMS, XS_SET_PERMS);
	assert_int_equal(XSD_WATCH_EVENT, XS_WATCH_EVENT);
	assert_int_equal(XSD_ERROR, XS_ERROR);
	assert_int_equal(XSD_IS_DOMAIN_INTRODUCED, XS_IS_DOMAIN_INTRODUCED);
	assert_int_equal(XSD_RESUME, XS_RESUME);
	assert_int_equal(XSD_SET_TARGET, XS_SET_TARGET);
	assert_int_equal(XSD_RESET_WATCHES, XS_RESET_WATCHES);
	assert_int_equal(XSD_DIRECTORY_PART, XS_DIRECTORY_PART);
	assert_int_equal(XSD_INVALID, XS_INVALID);
	/*
	 * GET/SET_FEATURE and GET/SET_QUOTA (23..26) reached xs_wire.h only in
	 * Xen 4.21, appended right after DIRECTORY_PART, with no macro to test
	 * for them: older headers end at 23, newer ones at our count.
	 */
	assert_true((int)XS_TYPE_COUNT == (int)XSD_DIRECTORY_PART + 1 ||
		    (int)XS_TYPE_COUNT == (int)XSD_TYPE_COUNT);

	assert_int_equal(XSD_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
	assert_int_equal(XSD_ABS_PATH_MAX, XENSTORE_ABS_PATH_MAX);
	assert_int_equal(XSD_REL_PATH_MAX, XENSTORE_REL_PATH_MAX);
	assert_int_equal(XSD_FEATURE_RECONNECTION, XENSTORE_SERVER_FEATURE_RECONNECTION);
	assert_int_equal(XSD_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_ERROR);
#ifdef XENSTORE_SERVER_FEATURE_WATCHDEPTH
	assert_int_equal(XSD_FEATURE_WATCHDEPTH, XENSTORE_SERVER_FEATURE_WATCHDEPTH);
#endif
#ifdef XENSTORE_SERVER_FEATURE_DOMID_ANY
	assert_int_equal(XSD_FEATURE_DOMID_ANY, XENSTORE_SERVER_FEATURE_DOMID_ANY);
#endif
	assert_int_equal(sizeof(struct xsd_msg_hdr), sizeof(struct xsd_sockmsg));

	/* xsd_errors[]: same names, same order, each mapped both ways. */
	size_t n = sizeof(xsd_errors) / sizeof(xsd_errors[0]);
	assert_true(n >= sizeof(wire_names) / sizeof(wire_names[0]));
	for (size_t i = 0; i < n; i++) {
		if (i < sizeof(wire_names) / sizeof(wire_names[0])) {
			assert_string_equal(xsd_errors[i].errstring, wire_names[i]);
			assert_int_equal(xsd_errors[i].errnum, wire_errnos[i]);
		}
		/* A name Xen added later must still be known to us. */
		assert_string_equal(xsd_error_name(-xsd_errors[i].errnum),
				    xsd_errors[i].errstring);
		assert_int_equal(xsd_error_from_name(xsd_errors[i].errstring),
				 -xsd_errors[i].errnum);
	}
}
#else
static void test_constants_match_xen_xs_wire_h(void **state)
{
	(void)state;
	skip(); /* libxen-dev's xen/io/xs_wire.h was not there at build time */
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names_cover_every_type_but_20),
		cmocka_unit_test(test_error_names_round_trip),
		cmocka_unit_test(test_error_names_outside_the_list_become_einval),
		cmocka_unit_test(test_error_names_translate_the_store_codes),
		cmocka_unit_test(test_error_from_unknown_name_is_zero),
		cmocka_unit_test(test_reader_takes_a_whole_message_in_one_feed),
		cmocka_unit_test(test_reader_takes_a_message_byte_by_byte),
		cmocka_unit_test(test_reader_survives_a_split_at_every_boundary),
		cmocka_unit_test(test_reader_takes_several_messages_from_one_feed),
		cmocka_unit_test(test_reader_completes_a_zero_length_payload_with_the_header),
		cmocka_unit_test(test_reader_accepts_exactly_4096_bytes),
		cmocka_unit_test(test_reader_refuses_a_header_announcing_4097_for_good),
		cmocka_unit_test(test_args_split_counts_terminated_strings),
		cmocka_unit_test(test_args_split_reports_more_strings_than_room),
		cmocka_unit_test(test_args_split_of_write_gives_the_value_as_tail),
		cmocka_unit_test(test_args_split_of_empty_payloads),
		cmocka_unit_test(test_msg_build_round_trips_through_the_reader),
		cmocka_unit_test(test_msg_build_refuses_more_than_4096),
		cmocka_unit_test(test_constants_match_xen_xs_wire_h),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
