/* SPDX-License-Identifier: MIT */
/*
 * The xenbus ring on plain memory: the test plays the guest, writing
 * requests at req_prod and consuming replies at rsp_cons, while ring.c is
 * the server. Covers wrap-around at the buffer end and at 2^32, full and
 * empty rings, partial transfers, corrupt indices and reconnection.
 */
#include "vst.h"

#include <stdbool.h>
#include <string.h>

#include "ring.h"
#include "xsd/wire.h"

#if defined(__has_include)
#if __has_include(<xen/io/xs_wire.h>)
#include <xen/io/xs_wire.h>
#define HAVE_XS_WIRE 1
#endif
#endif

struct fixture {
	struct xsd_ring_page page;
	struct xsd_ring ring;
	int notified;
};

static void count_notify(void *payload)
{
	struct fixture *f = payload;
	f->notified++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	/* Garbage in the buffers: the guest may not assume any content. */
	memset(f->page.req, 0xa5, sizeof(f->page.req));
	memset(f->page.rsp, 0x5a, sizeof(f->page.rsp));
	xsd_ring_init(&f->ring, &f->page, count_notify, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Guest side: append what fits of @len bytes to the request queue. */
static size_t guest_send(struct xsd_ring_page *p, const void *data, size_t len)
{
	size_t space = XSD_RING_SIZE - (p->req_prod - p->req_cons);
	if (len > space)
		len = space;
	for (size_t i = 0; i < len; i++)
		p->req[XSD_RING_MASK(p->req_prod + (uint32_t)i)] = ((const char *)data)[i];
	p->req_prod += (uint32_t)len;
	return len;
}

/* Guest side: take up to @len reply bytes. */
static size_t guest_recv(struct xsd_ring_page *p, void *buf, size_t len)
{
	size_t avail = p->rsp_prod - p->rsp_cons;
	if (len > avail)
		len = avail;
	for (size_t i = 0; i < len; i++)
		((char *)buf)[i] = p->rsp[XSD_RING_MASK(p->rsp_cons + (uint32_t)i)];
	p->rsp_cons += (uint32_t)len;
	return len;
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 7u + (i >> 8));
}

static void test_init_advertises_features_and_leaves_indexes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->page.server_features, XSD_FEATURE_RECONNECTION | XSD_FEATURE_ERROR);
	assert_int_equal(f->page.req_cons, 0);
	assert_int_equal(f->page.rsp_prod, 0);
	assert_int_equal(f->notified, 0);
	assert_false(xsd_ring_can_read(&f->ring));
	assert_true(xsd_ring_can_write(&f->ring));
}

static void test_read_takes_request_and_notifies(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(guest_send(&f->page, "hello", 5), 5);
	assert_true(xsd_ring_can_read(&f->ring));
	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(f->page.req_cons, 5);
	assert_int_equal(f->notified, 1);
	assert_false(xsd_ring_can_read(&f->ring));
}

static void test_read_on_empty_ring_returns_zero_without_notify(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), 0);
	assert_int_equal(f->notified, 0);
}

static void test_read_wraps_around_buffer_end(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[300], got[300];

	f->page.req_cons = f->page.req_prod = 1000;
	fill_pattern(msg, sizeof(msg), 3);
	assert_int_equal(guest_send(&f->page, msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(xsd_ring_read(&f->ring, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(f->page.req_cons, 1300);
	assert_int_equal(f->notified, 1);
}

static void test_indexes_wrap_around_2_to_32(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[200], got[200];

	f->page.req_cons = f->page.req_prod = 0xffffff80u;
	f->page.rsp_cons = f->page.rsp_prod = 0xffffffa0u;
	fill_pattern(msg, sizeof(msg), 11);
	guest_send(&f->page, msg, sizeof(msg));
	assert_int_equal(f->page.req_prod, 0x48);
	assert_int_equal(xsd_ring_read(&f->ring, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(f->page.req_cons, 0x48);

	assert_int_equal(xsd_ring_write(&f->ring, msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(f->page.rsp_prod, 0x68);
	assert_int_equal(guest_recv(&f->page, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));
}

static void test_partial_reads_return_bytes_in_order(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[100], got[100];

	fill_pattern(msg, sizeof(msg), 5);
	guest_send(&f->page, msg, sizeof(msg));
	size_t off = 0;
	while (off < sizeof(msg)) {
		int n = xsd_ring_read(&f->ring, got + off, 16);
		assert_true(n > 0 && n <= 16);
		off += (size_t)n;
	}
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(f->notified, 7);
	assert_false(xsd_ring_can_read(&f->ring));
}

static void test_full_request_ring_is_read_whole(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[XSD_RING_SIZE + 10], got[XSD_RING_SIZE + 10];

	f->page.req_cons = f->page.req_prod = 512;
	fill_pattern(msg, sizeof(msg), 1);
	assert_int_equal(guest_send(&f->page, msg, sizeof(msg)), XSD_RING_SIZE);
	assert_int_equal(xsd_ring_read(&f->ring, got, sizeof(got)), XSD_RING_SIZE);
	assert_memory_equal(got, msg, XSD_RING_SIZE);
}

static void test_write_stops_when_reply_ring_full(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[1500], got[1500];

	fill_pattern(msg, sizeof(msg), 9);
	f->page.rsp_cons = f->page.rsp_prod = 700;
	assert_int_equal(xsd_ring_write(&f->ring, msg, sizeof(msg)), XSD_RING_SIZE);
	assert_false(xsd_ring_can_write(&f->ring));
	assert_int_equal(xsd_ring_write(&f->ring, msg + XSD_RING_SIZE, 10), 0);
	assert_int_equal(f->notified, 1);

	/* The guest takes part; the rest goes in after the wrap. */
	assert_int_equal(guest_recv(&f->page, got, 600), 600);
	assert_true(xsd_ring_can_write(&f->ring));
	size_t rest = sizeof(msg) - XSD_RING_SIZE;
	assert_int_equal(xsd_ring_write(&f->ring, msg + XSD_RING_SIZE, rest), rest);
	assert_int_equal(guest_recv(&f->page, got + 600, sizeof(got)), sizeof(got) - 600);
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(f->notified, 2);
}

/* A long stream both ways through small, uneven chunks, as a busy guest would. */
static void test_stream_larger_than_ring_survives_uneven_chunks(void **state)
{
	struct fixture *f = *state;
	enum { TOTAL = 20000 };
	static unsigned char msg[TOTAL], got[TOTAL], back[TOTAL];
	size_t sent = 0, taken = 0, echoed = 0, received = 0;

	f->page.req_cons = f->page.req_prod = 0xfffff000u;
	f->page.rsp_cons = f->page.rsp_prod = 0xfffff321u;
	fill_pattern(msg, sizeof(msg), 42);
	for (unsigned int round = 0; received < TOTAL; round++) {
		assert_true(round < 10000);
		size_t want = 1 + (round * 37u) % 900;
		if (sent < TOTAL)
			sent += guest_send(&f->page, msg + sent,
					   want < TOTAL - sent ? want : TOTAL - sent);
		int n = xsd_ring_read(&f->ring, got + taken, 1 + (round * 53u) % 700);
		assert_true(n >= 0);
		taken += (size_t)n;
		n = xsd_ring_write(&f->ring, got + echoed, taken - echoed);
		assert_true(n >= 0);
		echoed += (size_t)n;
		received += guest_recv(&f->page, back + received, 1 + (round * 29u) % 1100);
	}
	assert_memory_equal(got, msg, TOTAL);
	assert_memory_equal(back, msg, TOTAL);
}

static void test_corrupt_request_index_breaks_ring(void **state)
{
	struct fixture *f = *state;
	char buf[16];

	f->page.req_cons = 100;
	f->page.req_prod = 100 + XSD_RING_SIZE + 1;
	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), VS_EIO);
	assert_int_equal(f->page.error, XSD_RING_ERROR_RINGIDX);
	assert_true(f->ring.broken);
	assert_int_equal(f->notified, 1);
	assert_int_equal(f->page.req_cons, 100);

	/* Broken: nothing more is read or written, even once indices look sane. */
	f->page.req_prod = 105;
	assert_false(xsd_ring_can_read(&f->ring));
	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), 0);
	assert_int_equal(xsd_ring_write(&f->ring, "x", 1), 0);
	assert_int_equal(f->page.rsp_prod, 0);
}

static void test_reply_consumer_ahead_of_producer_breaks_ring(void **state)
{
	struct fixture *f = *state;

	f->page.rsp_prod = 10;
	f->page.rsp_cons = 20;
	assert_int_equal(xsd_ring_write(&f->ring, "abc", 3), VS_EIO);
	assert_int_equal(f->page.error, XSD_RING_ERROR_RINGIDX);
	assert_int_equal(f->page.rsp_prod, 10);
	assert_false(xsd_ring_can_write(&f->ring));
}

static void test_exactly_one_ring_ahead_is_a_full_ring(void **state)
{
	struct fixture *f = *state;
	char buf[XSD_RING_SIZE];

	f->page.req_cons = 5;
	f->page.req_prod = 5 + XSD_RING_SIZE;
	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), XSD_RING_SIZE);
	assert_int_equal(f->page.error, XSD_RING_ERROR_NONE);
}

static void test_reconnect_resets_ring_and_clears_error(void **state)
{
	struct fixture *f = *state;
	char buf[16];

	guest_send(&f->page, "partial", 7);
	assert_int_equal(xsd_ring_write(&f->ring, "reply", 5), 5);
	xsd_ring_fail(&f->ring, XSD_RING_ERROR_PROTO);
	assert_int_equal(f->page.error, XSD_RING_ERROR_PROTO);
	assert_false(xsd_ring_reconnect_requested(&f->ring));

	f->page.connection = XSD_RING_RECONNECT;
	assert_true(xsd_ring_reconnect_requested(&f->ring));
	int before = f->notified;
	xsd_ring_reset(&f->ring);
	assert_int_equal(f->notified, before + 1);
	assert_int_equal(f->page.connection, XSD_RING_CONNECTED);
	assert_int_equal(f->page.error, XSD_RING_ERROR_NONE);
	assert_int_equal(f->page.req_cons, 0);
	assert_int_equal(f->page.req_prod, 0);
	assert_int_equal(f->page.rsp_cons, 0);
	assert_int_equal(f->page.rsp_prod, 0);
	assert_false(f->ring.broken);
	assert_false(xsd_ring_reconnect_requested(&f->ring));
	assert_int_equal(f->page.server_features, XSD_FEATURE_RECONNECTION | XSD_FEATURE_ERROR);

	/* Usable again from a clean packet boundary. */
	guest_send(&f->page, "again", 5);
	assert_int_equal(xsd_ring_read(&f->ring, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "again", 5);
}

static void test_init_keeps_features_the_guest_cannot_clear(void **state)
{
	struct fixture *f = *state;

	f->page.server_features = 0x100;
	xsd_ring_init(&f->ring, &f->page, NULL, NULL);
	assert_int_equal(f->page.server_features,
			 0x100 | XSD_FEATURE_RECONNECTION | XSD_FEATURE_ERROR);
	/* Without a notify callback the ring still works. */
	guest_send(&f->page, "ab", 2);
	char buf[2];
	assert_int_equal(xsd_ring_read(&f->ring, buf, 2), 2);
}

static void test_layout_matches_xs_wire(void **state)
{
	(void)state;
#ifdef HAVE_XS_WIRE
	assert_int_equal(XSD_RING_SIZE, XENSTORE_RING_SIZE);
	assert_int_equal(sizeof(struct xsd_ring_page), sizeof(struct xenstore_domain_interface));
#define SAME_OFFSET(field)                                                                         \
	assert_int_equal(offsetof(struct xsd_ring_page, field),                                    \
			 offsetof(struct xenstore_domain_interface, field))
	SAME_OFFSET(req);
	SAME_OFFSET(rsp);
	SAME_OFFSET(req_cons);
	SAME_OFFSET(req_prod);
	SAME_OFFSET(rsp_cons);
	SAME_OFFSET(rsp_prod);
	SAME_OFFSET(server_features);
	SAME_OFFSET(connection);
	SAME_OFFSET(error);
#undef SAME_OFFSET
	assert_int_equal(XSD_RING_CONNECTED, XENSTORE_CONNECTED);
	assert_int_equal(XSD_RING_RECONNECT, XENSTORE_RECONNECT);
	assert_int_equal(XSD_RING_ERROR_RINGIDX, XENSTORE_ERROR_RINGIDX);
	assert_int_equal(XSD_RING_ERROR_PROTO, XENSTORE_ERROR_PROTO);
	assert_int_equal(XSD_FEATURE_RECONNECTION, XENSTORE_SERVER_FEATURE_RECONNECTION);
	assert_int_equal(XSD_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_ERROR);
#else
	/* Without Xen's header, check the documented offsets directly. */
	assert_int_equal(offsetof(struct xsd_ring_page, req_cons), 2048);
	assert_int_equal(offsetof(struct xsd_ring_page, error), 2072);
#endif
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_advertises_features_and_leaves_indexes),
	    T(test_read_takes_request_and_notifies),
	    T(test_read_on_empty_ring_returns_zero_without_notify),
	    T(test_read_wraps_around_buffer_end),
	    T(test_indexes_wrap_around_2_to_32),
	    T(test_partial_reads_return_bytes_in_order),
	    T(test_full_request_ring_is_read_whole),
	    T(test_write_stops_when_reply_ring_full),
	    T(test_stream_larger_than_ring_survives_uneven_chunks),
	    T(test_corrupt_request_index_breaks_ring),
	    T(test_reply_consumer_ahead_of_producer_breaks_ring),
	    T(test_exactly_one_ring_ahead_is_a_full_ring),
	    T(test_reconnect_resets_ring_and_clears_error),
	    T(test_init_keeps_features_the_guest_cannot_clear),
	    T(test_layout_matches_xs_wire),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
