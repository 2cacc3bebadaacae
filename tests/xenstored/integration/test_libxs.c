/* SPDX-License-Identifier: MIT */
/*
 * Debian's libxenstore against the real daemon: nodes, directories (with the
 * DIRECTORY_PART fallback past 4096 bytes), permissions and their error
 * hiding, watches (initial event, subtree, depth, relative paths, removal,
 * commit-time delivery) and transactions. Semantics follow Xen 4.17's C
 * xenstored; what libxenstore 4.17 cannot send goes over the raw wire.
 * Domains, quotas, features and CONTROL are in test_libxs_domain.c.
 */
#include "vst.h"

#include <errno.h>
#include <unistd.h>

#include "xsfixture.h"

#define QUIET_MS 300  /* how long "no event" is watched for */
#define EVENT_MS 3000 /* how long an expected event may take */

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

static void test_write_read_mkdir_rm_round_trip(void **state)
{
	struct xsf *f = *state;
	unsigned int len = 0, n = 0;

	assert_true(xsf_write(f->h, "/test/a", "hello"));
	char *v = xs_read(f->h, XBT_NULL, "/test/a", &len);
	assert_non_null(v);
	assert_int_equal(len, 5);
	assert_string_equal(v, "hello");
	free(v);

	/* MKDIR creates an empty node and leaves an existing value alone. */
	assert_true(xs_mkdir(f->h, XBT_NULL, "/test/b"));
	v = xs_read(f->h, XBT_NULL, "/test/b", &len);
	assert_non_null(v);
	assert_int_equal(len, 0);
	free(v);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/test/a"));
	v = xsf_read(f->h, "/test/a");
	assert_string_equal(v, "hello");
	free(v);

	/* WRITE creates missing parents with empty values. */
	assert_true(xsf_write(f->h, "/test/c/d/e", "deep"));
	v = xs_read(f->h, XBT_NULL, "/test/c/d", &len);
	assert_non_null(v);
	assert_int_equal(len, 0);
	free(v);

	/* Children come back in creation order. */
	char **dir = xs_directory(f->h, XBT_NULL, "/test", &n);
	assert_non_null(dir);
	assert_int_equal(n, 3);
	assert_string_equal(dir[0], "a");
	assert_string_equal(dir[1], "b");
	assert_string_equal(dir[2], "c");
	free(dir);

	/* RM is recursive; RM of a missing node is fine if its parent exists. */
	assert_true(xs_rm(f->h, XBT_NULL, "/test/c"));
	assert_null(xsf_read(f->h, "/test/c/d/e"));
	assert_int_equal(errno, ENOENT);
	assert_true(xs_rm(f->h, XBT_NULL, "/test/c"));
	assert_false(xs_rm(f->h, XBT_NULL, "/test/nosuch/child"));
	assert_int_equal(errno, ENOENT);
	assert_false(xs_rm(f->h, XBT_NULL, "/"));
	assert_int_equal(errno, EINVAL);

	/* Binary values survive, NULs included. */
	const char bin[] = { 'a', 0, 'b', 0, (char)0xff };
	assert_true(xs_write(f->h, XBT_NULL, "/test/bin", bin, sizeof(bin)));
	v = xs_read(f->h, XBT_NULL, "/test/bin", &len);
	assert_non_null(v);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(v, bin, sizeof(bin));
	free(v);
}

static void test_directory_past_4096_bytes_falls_back_to_directory_part(void **state)
{
	struct xsf *f = *state;
	enum { N = 300 };
	char path[128];
	/* 300 names of 22 bytes with their NULs: 6600 bytes, more than one reply. */
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/big/child-%04d-padding-xx", i);
		assert_true(xs_mkdir(f->h, XBT_NULL, path));
	}
	struct xst_conn *c = xsf_raw(f);
	assert_int_equal(xst_requestv(c, XSD_DIRECTORY, 0, NULL, "/big", NULL), -E2BIG);
	xst_close(c);

	unsigned int n = 0;
	char **dir = xs_directory(f->h, XBT_NULL, "/big", &n);
	assert_non_null(dir);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "child-%04d-padding-xx", i);
		assert_string_equal(dir[i], path);
	}
	free(dir);
}

static void test_permissions_round_trip_and_hide_existence(void **state)
{
	struct xsf *f = *state;
	xsf_introduce(f, 5);
	assert_true(xsf_write(f->h, "/perm/hidden/child", "x"));
	assert_true(xsf_set_perms(f->h, "/perm/hidden", "n0", NULL));
	assert_true(xs_mkdir(f->h, XBT_NULL, "/perm/open"));
	assert_true(xsf_set_perms(f->h, "/perm/open", "n0", "r5", NULL));
	assert_true(xs_mkdir(f->h, XBT_NULL, "/perm/rw"));
	assert_true(xsf_set_perms(f->h, "/perm/rw", "n0", "b5", NULL));

	unsigned int n = 0;
	struct xs_permissions *p = xs_get_permissions(f->h, XBT_NULL, "/perm/open", &n);
	assert_non_null(p);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].id, 0);
	assert_int_equal(p[0].perms, XS_PERM_NONE);
	assert_int_equal(p[1].id, 5);
	assert_int_equal(p[1].perms, XS_PERM_READ);
	free(p);

	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	/* Unreadable parent: missing and existing nodes look the same. */
	assert_null(xsf_read(d5, "/perm/hidden/child"));
	assert_int_equal(errno, EACCES);
	assert_null(xsf_read(d5, "/perm/hidden/missing"));
	assert_int_equal(errno, EACCES);
	/* Readable parent: a missing node is ENOENT. */
	assert_null(xsf_read(d5, "/perm/open/missing"));
	assert_int_equal(errno, ENOENT);
	char *v = xsf_read(d5, "/perm/open");
	assert_non_null(v);
	free(v);
	assert_false(xsf_write(d5, "/perm/open/x", "no"));
	assert_int_equal(errno, EACCES);
	assert_false(xsf_write(d5, "/perm/open", "no"));
	assert_int_equal(errno, EACCES);

	/* With write access the domain creates a node it then owns. */
	assert_true(xsf_write(d5, "/perm/rw/mine", "yes"));
	p = xs_get_permissions(f->h, XBT_NULL, "/perm/rw/mine", &n);
	assert_non_null(p);
	assert_int_equal(p[0].id, 5);
	free(p);
	xs_close(d5);
}

static void test_unprivileged_owner_change_is_eperm(void **state)
{
	struct xsf *f = *state;
	assert_true(xsf_introduce(f, 6));
	xsf_make_home(f, 5);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xsf_write(d5, "/local/domain/5/data/x", "v"));
	assert_false(xsf_set_perms(d5, "/local/domain/5/data/x", "n6", NULL));
	assert_int_equal(errno, EPERM);
	/* Keeping the owner and granting another domain is fine. */
	assert_true(xsf_set_perms(d5, "/local/domain/5/data/x", "n5", "r6", NULL));
	/* A node it does not own: no perms change at all. */
	assert_false(xsf_set_perms(d5, "/local/domain/5", "n5", NULL));
	assert_true(errno == EACCES || errno == EPERM);
	xs_close(d5);
}

static void test_watch_fires_once_at_once_then_on_subtree_changes(void **state)
{
	struct xsf *f = *state;
	assert_true(xs_watch(f->h, "/w", "tok"));
	char **ev = xsf_wait_watch(f->h, EVENT_MS);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "/w");
	assert_string_equal(ev[XS_WATCH_TOKEN], "tok");
	free(ev);
	assert_true(xsf_no_watch(f->h, QUIET_MS));

	assert_true(xsf_write(f->h, "/w/a/b", "1"));
	assert_true(xsf_expect_watch(f->h, "/w/a/b", EVENT_MS));
	xsf_drain_watches(f->h, QUIET_MS);
	assert_true(xsf_write(f->h, "/other", "1"));
	assert_true(xsf_write(f->h, "/wx", "1")); /* a sibling with a common prefix */
	assert_true(xsf_no_watch(f->h, QUIET_MS));

	/* A permissions change fires too; after UNWATCH nothing does. */
	assert_true(xsf_set_perms(f->h, "/w/a", "b0", NULL));
	assert_true(xsf_expect_watch(f->h, "/w/a", EVENT_MS));
	assert_true(xs_unwatch(f->h, "/w", "tok"));
	xsf_drain_watches(f->h, QUIET_MS);
	assert_true(xsf_write(f->h, "/w/a", "2"));
	assert_true(xsf_no_watch(f->h, QUIET_MS));
	assert_false(xs_unwatch(f->h, "/w", "tok"));
	assert_int_equal(errno, ENOENT);
}

/* C xenstored fires on every SET_PERMS, even one that changes nothing. */
static void test_set_perms_fires_even_when_unchanged(void **state)
{
	struct xsf *f = *state;
	assert_true(xsf_write(f->h, "/same", "v"));
	assert_true(xs_watch(f->h, "/same", "tok"));
	xsf_drain_watches(f->h, QUIET_MS);
	assert_true(xsf_set_perms(f->h, "/same", "n0", NULL));
	assert_true(xsf_expect_watch(f->h, "/same", EVENT_MS));
}

static void test_duplicate_watch_is_eexist(void **state)
{
	struct xsf *f = *state;
	assert_true(xs_watch(f->h, "/dup", "t"));
	assert_false(xs_watch(f->h, "/dup", "t"));
	assert_int_equal(errno, EEXIST);
	assert_true(xs_watch(f->h, "/dup", "t2"));
}

static void test_relative_watch_reports_relative_paths(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xs_watch(d5, "data", "rel"));
	char **ev = xsf_wait_watch(d5, EVENT_MS);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], "data");
	free(ev);
	assert_true(xsf_write(f->h, "/local/domain/5/data/k", "v"));
	assert_true(xsf_expect_watch(d5, "data/k", EVENT_MS));
	/* Relative reads and writes resolve against the home path too. */
	assert_true(xsf_write(d5, "data/own", "x"));
	char *v = xsf_read(f->h, "/local/domain/5/data/own");
	assert_non_null(v);
	assert_string_equal(v, "x");
	free(v);
	xs_close(d5);
}

/* WATCH with a depth (feature WATCHDEPTH): libxenstore 4.17 has no call for it. */
static void test_watch_depth_limits_levels(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg m;
	assert_int_equal(xst_requestv(c, XSD_MKDIR, 0, NULL, "/dp/c", NULL), 0);
	assert_int_equal(xst_requestv(c, XSD_WATCH, 0, NULL, "/dp", "d0", "0", NULL), 0);
	assert_int_equal(xst_requestv(c, XSD_WATCH, 0, NULL, "/dp", "d1", "1", NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(xst_next_event(c, &m, EVENT_MS), 0);
		assert_string_equal(m.body, "/dp");
	}
	assert_int_equal(xst_write(c, 0, "/dp/c", "child"), 0);
	assert_int_equal(xst_next_event(c, &m, EVENT_MS), 0);
	assert_string_equal(m.body, "/dp/c");
	assert_string_equal(m.body + strlen(m.body) + 1, "d1");
	assert_int_equal(xst_write(c, 0, "/dp/c/g", "grandchild"), 0);
	assert_int_equal(xst_write(c, 0, "/dp", "self"), 0);
	/* Only the depth-0 and depth-1 events for /dp itself remain. */
	int seen = 0;
	while (xst_next_event(c, &m, QUIET_MS) == 0) {
		assert_string_equal(m.body, "/dp");
		seen++;
	}
	assert_int_equal(seen, 2);
	xst_close(c);
}

static void test_transaction_changes_fire_only_at_commit(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *w = xsf_open_path(f->sock);
	assert_non_null(w);
	assert_true(xs_watch(w, "/tx", "t"));
	assert_true(xsf_expect_watch(w, "/tx", EVENT_MS));

	xs_transaction_t t = xs_transaction_start(f->h);
	assert_int_not_equal(t, XBT_NULL);
	assert_true(xs_write(f->h, t, "/tx/a", "1", 1));
	assert_true(xsf_no_watch(w, QUIET_MS));
	assert_null(xsf_read(w, "/tx/a"));
	assert_true(xs_transaction_end(f->h, t, false));
	assert_true(xsf_expect_watch(w, "/tx/a", EVENT_MS));

	/* An aborted transaction fires nothing and leaves nothing. */
	t = xs_transaction_start(f->h);
	assert_int_not_equal(t, XBT_NULL);
	assert_true(xs_write(f->h, t, "/tx/b", "1", 1));
	assert_true(xs_transaction_end(f->h, t, true));
	assert_true(xsf_no_watch(w, QUIET_MS));
	assert_null(xsf_read(f->h, "/tx/b"));
	xs_close(w);
}

static void test_recursive_rm_fires_root_and_descendant_watches(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *w = xsf_open_path(f->sock);
	assert_non_null(w);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/r/a/b/c"));
	assert_true(xs_watch(w, "/r", "sub"));
	assert_true(xs_watch(w, "/r/a/b/c", "deep"));
	xsf_drain_watches(w, QUIET_MS);

	assert_true(xs_rm(f->h, XBT_NULL, "/r/a"));
	bool root = false, deep = false;
	char **ev;
	while ((ev = xsf_wait_watch(w, root && deep ? QUIET_MS : EVENT_MS))) {
		if (!strcmp(ev[XS_WATCH_TOKEN], "sub") && !strcmp(ev[XS_WATCH_PATH], "/r/a"))
			root = true;
		if (!strcmp(ev[XS_WATCH_TOKEN], "deep") &&
		    !strcmp(ev[XS_WATCH_PATH], "/r/a/b/c"))
			deep = true;
		free(ev);
	}
	assert_true(root);
	assert_true(deep);
	xs_close(w);
}

static void test_transaction_whose_read_changed_gets_eagain(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *other = xsf_open_path(f->sock);
	assert_non_null(other);
	assert_true(xsf_write(f->h, "/c/x", "0"));

	unsigned int len;
	xs_transaction_t t = xs_transaction_start(f->h);
	assert_int_not_equal(t, XBT_NULL);
	char *v = xs_read(f->h, t, "/c/x", &len);
	assert_non_null(v);
	free(v);
	assert_true(xsf_write(other, "/c/x", "1"));
	assert_true(xs_write(f->h, t, "/c/y", "dep", 3));
	assert_false(xs_transaction_end(f->h, t, false));
	assert_int_equal(errno, EAGAIN);
	assert_null(xsf_read(f->h, "/c/y"));
	xs_close(other);
}

static void test_disjoint_transactions_both_commit(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *h2 = xsf_open_path(f->sock);
	assert_non_null(h2);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/dj"));
	unsigned int len;
	xs_transaction_t t1 = xs_transaction_start(f->h);
	xs_transaction_t t2 = xs_transaction_start(h2);
	assert_int_not_equal(t1, XBT_NULL);
	assert_int_not_equal(t2, XBT_NULL);
	assert_null(xs_read(f->h, t1, "/dj/one", &len));
	assert_null(xs_read(h2, t2, "/dj/two", &len));
	assert_true(xs_write(f->h, t1, "/dj/one", "1", 1));
	assert_true(xs_write(h2, t2, "/dj/two", "2", 1));
	assert_true(xs_transaction_end(f->h, t1, false));
	assert_true(xs_transaction_end(h2, t2, false));
	char *v1 = xsf_read(f->h, "/dj/one"), *v2 = xsf_read(f->h, "/dj/two");
	assert_non_null(v1);
	assert_non_null(v2);
	free(v1);
	free(v2);
	xs_close(h2);
}

static void test_nested_transaction_start_is_ebusy(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg m;
	assert_int_equal(xst_request(c, XSD_TRANSACTION_START, 0, "", 1, &m), 0);
	uint32_t tx = (uint32_t)strtoul(m.body, NULL, 10);
	assert_true(tx != 0);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_START, tx, "", 1, NULL), -EBUSY);
	/* An unknown transaction id is ENOENT; the real one still works. */
	assert_int_equal(xst_write(c, tx + 1000, "/nest", "x"), -ENOENT);
	assert_int_equal(xst_write(c, tx, "/nest", "x"), 0);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, tx, "T", 2, NULL), 0);
	xst_close(c);
}

static void test_closing_a_connection_aborts_its_transactions(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_int_equal(xsf_set_quota(f, 5, "transactions", 1), 0);
	for (int round = 0; round < 3; round++) {
		struct xs_handle *d5 = xsf_open_domain(f, 5);
		assert_non_null(d5);
		/*
		 * With a quota of one, a transaction leaked by the last round
		 * blocks this one. The daemon sees a close asynchronously: allow
		 * it up to 3 s.
		 */
		xs_transaction_t t = XBT_NULL;
		for (int i = 0; i < 60 && t == XBT_NULL; i++) {
			t = xs_transaction_start(d5);
			if (t == XBT_NULL) {
				assert_int_equal(errno, ENOSPC);
				usleep(50 * 1000);
			}
		}
		assert_int_not_equal(t, XBT_NULL);
		assert_true(xs_write(d5, t, "data/pending", "x", 1));
		xs_close(d5);
	}
	assert_null(xsf_read(f->h, "/local/domain/5/data/pending"));
	assert_int_equal(errno, ENOENT);
}

static void test_reset_watches_drops_watches_and_transactions(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg m;
	assert_int_equal(xst_requestv(c, XSD_WATCH, 0, NULL, "/rw", "t", NULL), 0);
	assert_int_equal(xst_next_event(c, &m, EVENT_MS), 0);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_START, 0, "", 1, &m), 0);
	uint32_t tx = (uint32_t)strtoul(m.body, NULL, 10);
	assert_int_equal(xst_request(c, XSD_RESET_WATCHES, 0, "", 1, NULL), 0);
	assert_int_equal(xst_write(c, 0, "/rw/x", "1"), 0);
	assert_int_equal(xst_next_event(c, &m, QUIET_MS), -ETIMEDOUT);
	assert_int_equal(xst_request(c, XSD_TRANSACTION_END, tx, "T", 2, NULL), -ENOENT);
	xst_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_write_read_mkdir_rm_round_trip),
		T(test_directory_past_4096_bytes_falls_back_to_directory_part),
		T(test_permissions_round_trip_and_hide_existence),
		T(test_unprivileged_owner_change_is_eperm),
		T(test_watch_fires_once_at_once_then_on_subtree_changes),
		T(test_set_perms_fires_even_when_unchanged),
		T(test_duplicate_watch_is_eexist),
		T(test_relative_watch_reports_relative_paths),
		T(test_watch_depth_limits_levels),
		T(test_transaction_changes_fire_only_at_commit),
		T(test_recursive_rm_fires_root_and_descendant_watches),
		T(test_transaction_whose_read_changed_gets_eagain),
		T(test_disjoint_transactions_both_commit),
		T(test_nested_transaction_start_is_ebusy),
		T(test_closing_a_connection_aborts_its_transactions),
		T(test_reset_watches_drops_watches_and_transactions),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_libxs", tests, NULL, NULL);
}
