/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for the Xen security advisories about resource use
 * (docs/xsa.md): replies never read, watch-event floods, oversized watch
 * events, very deep trees, quota values past 32 bits. The daemon's memory is
 * read from /proc (RssAnon) before and during each attack; it must stay
 * within a bound far below what an unbounded daemon would use, and other
 * clients must still be answered.
 */
#include "vst.h"

#include <errno.h>

#include "xsfixture.h"

#define QUIET_MS 300
#define EVENT_MS 3000
/* Growth of the daemon's anonymous memory an attack may cause, in KiB. */
#define RSS_BOUND_KB (48 * 1024)

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

static long rss(struct xsf *f)
{
	long kb = xst_proc_rss_kb(f->pid);
	assert_true(kb > 0);
	return kb;
}

/* Another client gets an answer within a second. */
static void assert_responsive(struct xsf *f, const char *path)
{
	struct xst_conn *c = xsf_raw(f);
	uint64_t t0 = xst_now_ms();
	struct xst_msg m;
	long req = xst_send(c, XSD_READ, 0, path, strlen(path) + 1);
	assert_true(req > 0);
	assert_int_equal(xst_recv_reply(c, &m, 1000), 0);
	print_message("another client answered in %llu ms\n",
		      (unsigned long long)(xst_now_ms() - t0));
	xst_close(c);
}

/* Flood @c with @type requests for @payload; report and bound the daemon's growth. */
static void flood_and_bound(struct xsf *f, struct xst_conn *c, uint32_t type,
			    const void *payload, size_t len, const char *label)
{
	long before = rss(f), peak = before;
	long sent = 0;
	/* 20 rounds of at most 5000 requests; a daemon that stops reading stalls them. */
	for (int round = 0; round < 20; round++) {
		sent += xst_flood(c, type, payload, len, 5000, 300, 2000);
		long now = rss(f);
		if (now > peak)
			peak = now;
	}
	print_message("%s: %ld requests sent, anon memory %ld -> %ld KiB\n", label, sent,
		      before, peak);
	assert_true(peak - before < RSS_BOUND_KB);
	assert_responsive(f, "/tool");
}

/*
 * XSA-326 (unread replies): a guest sending requests without reading the
 * replies made xenstored buffer them all. Queued output per connection is
 * bounded: the daemon stops taking requests from it instead.
 */
static void test_xsa326_unread_replies_are_bounded(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	char value[2001];
	memset(value, 'v', 2000);
	value[2000] = '\0';
	assert_true(xsf_write(f->h, "/local/domain/5/data/big", value));
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	flood_and_bound(f, d5, XSD_READ, "data/big", 9, "guest READ flood");
	xst_close(d5);
	/* dom0 gets flow control too (no quota, but no unbounded queue). */
	struct xst_conn *c = xsf_raw(f);
	flood_and_bound(f, c, XSD_READ, "/local/domain/5/data/big", 25, "dom0 READ flood");
	xst_close(c);
	assert_true(xsf_alive(f));
}

/*
 * XSA-416: memory a request needed was held until its reply was read, so
 * large replies left unread pinned large buffers. Flood with DIRECTORY
 * requests whose replies are near 4096 bytes.
 */
static void test_xsa416_large_unread_replies_are_bounded(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	char path[96];
	for (int i = 0; i < 170; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/data/dir/entry-%04d-abcdefghij", i);
		assert_true(xs_mkdir(f->h, XBT_NULL, path));
	}
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	struct xst_msg m;
	assert_int_equal(xst_requestv(d5, XSD_DIRECTORY, 0, &m, "data/dir", NULL), 0);
	assert_true(m.hdr.len > 3500);
	flood_and_bound(f, d5, XSD_DIRECTORY, "data/dir", 9, "guest DIRECTORY flood");
	xst_close(d5);
	assert_true(xsf_alive(f));
}

/*
 * XSA-326 (watch events): many watches with long tokens and many changes
 * below them produced events without limit for a guest that never reads.
 */
static void test_xsa326_watch_event_flood_is_bounded(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/local/domain/5/data/ev"));
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	char tok[1001];
	memset(tok, 't', 1000);
	tok[1000] = '\0';
	int watches = 0;
	for (int i = 0; i < 120; i++) {
		snprintf(tok, 8, "%03d-", i);
		tok[4] = 't';
		if (xst_requestv(d5, XSD_WATCH, 0, NULL, "data/ev", tok, NULL) < 0)
			break;
		watches++;
	}
	assert_true(watches >= 100);
	long before = rss(f), peak = before;
	uint64_t t0 = xst_now_ms();
	char path[96];
	/* Up to 120000 events of about 1 KiB unless the daemon bounds them. */
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/local/domain/5/data/ev/n%d", i);
		assert_true(xsf_write(f->h, path, "x"));
		if (i % 100 == 99) {
			long now = rss(f);
			peak = now > peak ? now : peak;
		}
	}
	assert_true(xs_rm(f->h, XBT_NULL, "/local/domain/5/data/ev"));
	long now = rss(f);
	peak = now > peak ? now : peak;
	print_message("%d watches, 1000 writes in %llu ms, anon memory %ld -> %ld KiB\n",
		      watches, (unsigned long long)(xst_now_ms() - t0), before, peak);
	assert_true(peak - before < RSS_BOUND_KB);
	assert_responsive(f, "/tool");
	xst_close(d5);
	assert_true(xsf_alive(f));
}

/* Receive events on @c for @quiet_ms; each must fit the protocol. */
static int events_fit(struct xst_conn *c, int quiet_ms)
{
	struct xst_msg m;
	int n = 0, err;
	while ((err = xst_next_event(c, &m, quiet_ms)) == 0)
		n++;
	assert_int_equal(err, -ETIMEDOUT); /* not -EPROTO (oversized), not closed */
	return n;
}

/*
 * XSA-324: a watch registered with a token near the 4096-byte limit fired
 * for a longer path below it, producing an event larger than the protocol
 * allows, and C xenstored crashed. Such an event is never sent; daemon and
 * watcher go on.
 */
static void test_xsa324_oversized_watch_events_are_not_sent(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	char tok[4001], name[300], path[400];
	memset(tok, 'T', 4000);
	tok[4000] = '\0';
	memset(name, 'n', 250);
	name[250] = '\0';

	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	assert_int_equal(xst_requestv(d5, XSD_WATCH, 0, NULL, "data", tok, NULL), 0);
	assert_int_equal(events_fit(d5, QUIET_MS), 1); /* the initial event fits */
	snprintf(path, sizeof(path), "/local/domain/5/data/%s", name);
	assert_true(xsf_write(f->h, path, "x"));
	events_fit(d5, QUIET_MS);
	assert_int_equal(xst_requestv(d5, XSD_READ, 0, NULL, "data", NULL), 0);
	xst_close(d5);

	struct xst_conn *c = xsf_raw(f);
	assert_int_equal(xst_requestv(c, XSD_WATCH, 0, NULL, "/w324", tok, NULL), 0);
	assert_int_equal(events_fit(c, QUIET_MS), 1);
	snprintf(path, sizeof(path), "/w324/%s", name);
	assert_int_equal(xst_write(c, 0, path, "x"), 0);
	events_fit(c, QUIET_MS);
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, path, NULL), 0);
	xst_close(c);
	assert_true(xsf_alive(f));
}

/*
 * XSA-418: removing a very deep tree recursed once per level and exhausted
 * xenstored's stack. Build the deepest trees the path limits allow, as dom0
 * and as a guest, and remove them.
 */
/* "@prefix" followed by @levels times "/a"; the caller frees it. */
static char *deep_path(const char *prefix, int levels)
{
	size_t len = strlen(prefix);
	char *p = malloc(len + 2 * (size_t)levels + 1);
	assert_non_null(p);
	memcpy(p, prefix, len);
	for (int i = 0; i < levels; i++, len += 2)
		memcpy(p + len, "/a", 2);
	p[len] = '\0';
	return p;
}

/*
 * Write the deepest of @levels (the path limits' maximum) or, when the daemon
 * refuses that depth with EINVAL, @fallback levels. @return the path written.
 */
static char *write_deep(struct xs_handle *h, const char *prefix, int levels, int fallback)
{
	char *p = deep_path(prefix, levels);
	if (xsf_write(h, p, "bottom"))
		return p;
	/* C xenstored takes any depth the path length allows; a lower limit must say EINVAL. */
	assert_int_equal(errno, EINVAL);
	print_message("NOTE: %d levels refused with EINVAL; using %d\n", levels, fallback);
	free(p);
	p = deep_path(prefix, fallback);
	assert_true(xsf_write(h, p, "bottom"));
	return p;
}

/*
 * XSA-418: removing a very deep tree recursed once per level and exhausted
 * xenstored's stack. Build the deepest trees the path limits allow, as dom0
 * and as a guest, and remove them.
 */
static void test_xsa418_deep_trees_do_not_exhaust_the_stack(void **state)
{
	struct xsf *f = *state;
	/* dom0: "/deep" and 1533 levels of "/a": 3071 bytes. */
	char *path = write_deep(f->h, "/deep", (XSD_ABS_PATH_MAX - 6) / 2, 250);
	char *v = xsf_read(f->h, path);
	assert_non_null(v);
	assert_string_equal(v, "bottom");
	free(v);
	free(path);
	assert_true(xs_watch(f->h, "/deep", "deep"));
	xsf_drain_watches(f->h, QUIET_MS);
	assert_true(xs_rm(f->h, XBT_NULL, "/deep"));
	assert_true(xsf_expect_watch(f->h, "/deep", EVENT_MS));
	assert_null(xsf_read(f->h, "/deep"));

	/* A guest: 900 levels below its data directory (node quota 1000). */
	xsf_make_home(f, 5);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	path = write_deep(d5, "data", 900, 250);
	assert_true(xs_rm(d5, XBT_NULL, "data/a"));
	assert_null(xsf_read(d5, "data/a"));
	/* The guest's node count came back down. */
	assert_true(xsf_write(d5, path, "again"));
	free(path);
	xs_close(d5);
	char *r = xs_control_command(f->h, "check", NULL, 0);
	assert_non_null(r);
	free(r);
	assert_true(xsf_alive(f));
}

/* SET_QUOTA @value: refused with EINVAL, or read back unchanged. */
static bool quota_exact_or_refused(struct xst_conn *c, const char *dom, const char *value)
{
	struct xst_msg m;
	int err = xst_requestv(c, XSD_SET_QUOTA, 0, NULL, dom, "nodes", value, NULL);
	if (err == -EINVAL)
		return false;
	assert_int_equal(err, 0);
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, &m, dom, "nodes", NULL), 0);
	assert_string_equal(m.body, value);
	return true;
}

/*
 * XSA-420: oxenstored kept quotas in 31-bit integers, so large values
 * wrapped. Values past 31 and 32 bits are either refused or kept exactly,
 * never truncated into a small quota (or into 0, which disables it).
 */
static void test_xsa420_large_quota_values_do_not_wrap(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_true(xsf_introduce(f, 5));
	struct xst_conn *c = xsf_raw(f);
	static const char *const values[] = { "2147483648", "4294967296", "4294967297",
					      "9223372036854775808" };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (!quota_exact_or_refused(c, "5", values[i]))
			continue;
		/* Accepted: the guest is not limited to the truncated value (0 or 1). */
		struct xs_handle *d5 = xsf_open_domain(f, 5);
		assert_non_null(d5);
		char path[32];
		for (int k = 0; k < 5; k++) {
			snprintf(path, sizeof(path), "data/q%zu-%d", i, k);
			if (!xsf_write(d5, path, "x"))
				fail_msg("quota %s: write %d failed: %s", values[i], k,
					 strerror(errno));
		}
		xs_close(d5);
	}
	assert_int_equal(xst_requestv(c, XSD_SET_QUOTA, 0, NULL, "5", "nodes", "-1", NULL),
			 -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_SET_QUOTA, 0, NULL, "5", "nodes",
				      "18446744073709551616", NULL),
			 -EINVAL);
	xst_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_xsa326_unread_replies_are_bounded),
		T(test_xsa416_large_unread_replies_are_bounded),
		T(test_xsa326_watch_event_flood_is_bounded),
		T(test_xsa324_oversized_watch_events_are_not_sent),
		T(test_xsa418_deep_trees_do_not_exhaust_the_stack),
		T(test_xsa420_large_quota_values_do_not_wrap),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_xsa_mem", tests, NULL, NULL);
}
