/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for the Xen security advisories about node creation,
 * quota accounting and transactions (docs/xsa.md): error paths of node
 * creation, nodes created and removed inside transactions, commits racing
 * removals outside, quotas across concurrent transactions, RESET_WATCHES in
 * a transaction. After each attack the test measures what the guest may
 * still create: a leak or a negative count shows as a wrong number.
 */
#include "vst.h"

#include <errno.h>

#include "xsfixture.h"

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

/* Domain 5 with a home, node quota @nodes, and a handle acting as it. */
static struct xs_handle *guest(struct xsf *f, unsigned long nodes)
{
	xsf_make_home(f, 5);
	assert_int_equal(xsf_set_quota(f, 5, "nodes", nodes), 0);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	return d5;
}

/* Empty domain 5's data directory (as dom0), keeping the directory itself. */
static void clear_data(struct xsf *f)
{
	unsigned int n = 0;
	char **dir = xs_directory(f->h, XBT_NULL, "/local/domain/5/data", &n);
	assert_non_null(dir);
	for (unsigned int i = 0; i < n; i++) {
		char path[256];
		snprintf(path, sizeof(path), "/local/domain/5/data/%s", dir[i]);
		assert_true(xs_rm(f->h, XBT_NULL, path));
	}
	free(dir);
}

/* How many new leaf nodes domain 5 can still create under data/ (at most @max). */
static int free_slots(struct xs_handle *d5, const char *tag, int max)
{
	char path[64];
	for (int i = 0; i < max; i++) {
		snprintf(path, sizeof(path), "data/%s%d", tag, i);
		if (!xsf_write(d5, path, "x")) {
			assert_int_equal(errno, ENOSPC);
			return i;
		}
	}
	return max;
}

/* Nodes at and below @path, as dom0 sees them. */
static int count_nodes(struct xs_handle *h, const char *path, int depth)
{
	unsigned int n = 0;
	char **dir = xs_directory(h, XBT_NULL, path, &n);
	if (!dir)
		return 0;
	int total = 1;
	for (unsigned int i = 0; depth < 64 && i < n; i++) {
		char child[1024];
		snprintf(child, sizeof(child), "%s/%s", path, dir[i]);
		total += count_nodes(h, child, depth + 1);
	}
	free(dir);
	return total;
}

/*
 * XSA-414: exceeding the node quota while WRITE created several parents at
 * once sent C xenstored down an error path with a wrong pointer. The write
 * fails whole with ENOSPC, nothing of it remains, and the count is intact.
 */
static void test_xsa414_quota_hit_while_creating_parents(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 4); /* data/ is one: three free */
	assert_false(xsf_write(d5, "data/x/y/z/w/v", "deep"));
	assert_int_equal(errno, ENOSPC);
	assert_null(xsf_read(f->h, "/local/domain/5/data/x"));
	assert_int_equal(errno, ENOENT);
	assert_true(xsf_alive(f));

	/* The same inside a transaction. */
	xs_transaction_t t = xs_transaction_start(d5);
	assert_int_not_equal(t, XBT_NULL);
	bool wrote = xs_write(d5, t, "data/q/r/s/t/u", "deep", 4);
	if (wrote)
		assert_false(xs_transaction_end(d5, t, false));
	else
		assert_true(xs_transaction_end(d5, t, true));
	assert_null(xsf_read(f->h, "/local/domain/5/data/q"));
	assert_int_equal(free_slots(d5, "n", 10), 3);
	xs_close(d5);
}

/*
 * XSA-415: after an error in the middle of creating nodes in a transaction,
 * the cleanup missed some of them, and committing made nodes without a
 * valid parent permanent. Whatever commits, every node is listed by its
 * parent, and the domain never owns more than its quota.
 */
static void test_xsa415_failed_creation_in_transaction_leaves_no_orphans(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 4);
	xs_transaction_t t = xs_transaction_start(d5);
	assert_int_not_equal(t, XBT_NULL);
	bool deep = xs_write(d5, t, "data/o/p/q/r/s", "x", 1);
	if (!deep)
		assert_int_equal(errno, ENOSPC);
	bool ok = xs_write(d5, t, "data/ok", "x", 1);
	bool committed = xs_transaction_end(d5, t, false);
	print_message("deep write %d, small write %d, commit %d\n", deep, ok, committed);
	assert_false(deep && committed); /* five new nodes never fit in three */

	static const char *const chain[] = { "/local/domain/5/data/o", "/local/domain/5/data/o/p",
					     "/local/domain/5/data/o/p/q",
					     "/local/domain/5/data/o/p/q/r",
					     "/local/domain/5/data/o/p/q/r/s" };
	const char *parent = "/local/domain/5/data";
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		char *v = xsf_read(f->h, chain[i]);
		unsigned int n = 0;
		char **dir = xs_directory(f->h, XBT_NULL, parent, &n);
		bool listed = false;
		for (unsigned int k = 0; dir && k < n; k++)
			listed |= !strcmp(dir[k], strrchr(chain[i], '/') + 1);
		free(dir);
		if ((v != NULL) != listed)
			fail_msg("%s: exists %d but listed by its parent %d", chain[i], v != NULL,
				 listed);
		free(v);
		parent = chain[i];
	}
	assert_true(count_nodes(f->h, "/local/domain/5/data", 0) <= 4);
	char *r = xs_control_command(f->h, "check", NULL, 0);
	assert_non_null(r);
	free(r);
	xs_close(d5);
}

/*
 * XSA-421: a node created and removed in the same transaction made the
 * commit fail half-way, without the accounting: repeated, a guest created
 * any number of nodes. Such transactions commit cleanly and the count after
 * many of them is what it was before.
 */
static void test_xsa421_created_then_removed_in_transaction(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 6); /* data/ is one: five free */
	for (int round = 0; round < 20; round++) {
		bool done = false;
		for (int attempt = 0; attempt < 5 && !done; attempt++) {
			xs_transaction_t t = xs_transaction_start(d5);
			assert_int_not_equal(t, XBT_NULL);
			assert_true(xs_write(d5, t, "data/tmp/a/b", "x", 1));
			assert_true(xs_rm(d5, t, "data/tmp"));
			assert_true(xs_write(d5, t, "data/keep", "k", 1));
			done = xs_transaction_end(d5, t, false);
			if (!done)
				assert_int_equal(errno, EAGAIN);
		}
		assert_true(done);
	}
	assert_null(xsf_read(f->h, "/local/domain/5/data/tmp"));
	assert_int_equal(count_nodes(f->h, "/local/domain/5/data", 0), 2);
	assert_int_equal(free_slots(d5, "n", 10), 4);
	xs_close(d5);
}

/*
 * XSA-440: a node removed outside a transaction that also touched it made
 * the commit-time accounting negative and tripped an assert. Whatever the
 * commit answers, the daemon lives and the count stays exact.
 */
static void test_xsa440_commit_after_outside_removal(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 6);
	for (int round = 0; round < 3; round++) {
		assert_true(xsf_write(d5, "data/a", "1"));
		assert_true(xsf_write(d5, "data/b", "2"));
		xs_transaction_t t = xs_transaction_start(d5);
		assert_int_not_equal(t, XBT_NULL);
		assert_true(xs_rm(d5, t, "data/a"));
		assert_true(xs_write(d5, t, "data/c", "3", 1));
		assert_true(xs_rm(f->h, XBT_NULL, "/local/domain/5/data/a"));
		assert_true(xs_rm(f->h, XBT_NULL, "/local/domain/5/data/b"));
		bool ok = xs_transaction_end(d5, t, false);
		if (!ok)
			assert_int_equal(errno, EAGAIN);
		assert_true(xsf_alive(f));
		clear_data(f);
	}
	assert_int_equal(free_slots(d5, "n", 10), 5);
	xs_close(d5);
}

/*
 * XSA-326 (transactions): each transaction was checked against the node
 * quota alone, so several of them together could create far more. Three
 * transactions that each fit commit only as far as the quota allows.
 */
static void test_xsa326_quota_holds_across_concurrent_transactions(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 10); /* nine free */
	xs_transaction_t t[3];
	char path[64];
	for (int k = 0; k < 3; k++) {
		t[k] = xs_transaction_start(d5);
		assert_int_not_equal(t[k], XBT_NULL);
		/* Seven new nodes each: one transaction fits, two do not. */
		for (int i = 0; i < 6; i++) {
			snprintf(path, sizeof(path), "data/t%d/n%d", k, i);
			assert_true(xs_write(d5, t[k], path, "x", 1));
		}
	}
	int committed = 0;
	for (int k = 0; k < 3; k++)
		committed += xs_transaction_end(d5, t[k], false);
	assert_int_equal(committed, 1);
	assert_true(count_nodes(f->h, "/local/domain/5/data", 0) <= 10);
	xs_close(d5);
}

/*
 * XSA-326 (transaction size): the nodes one transaction touches are
 * limited ("transaction-nodes"), so a transaction cannot pin unbounded
 * memory.
 */
static void test_xsa326_transaction_node_limit(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = guest(f, 1000);
	assert_int_equal(xsf_set_quota(f, 5, "transaction-nodes", 50), 0);
	assert_true(xs_mkdir(d5, XBT_NULL, "data/tn"));
	xs_transaction_t t = xs_transaction_start(d5);
	assert_int_not_equal(t, XBT_NULL);
	char path[64];
	int i;
	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "data/tn/n%d", i);
		if (!xs_write(d5, t, path, "x", 1))
			break;
	}
	assert_int_equal(errno, ENOSPC);
	assert_in_range(i, 45, 50);
	xs_transaction_end(d5, t, true);
	/* Outside a transaction there is no such limit. */
	for (i = 0; i < 60; i++) {
		snprintf(path, sizeof(path), "data/tn/n%d", i);
		assert_true(xsf_write(d5, path, "x"));
	}
	xs_close(d5);
}

/*
 * XSA-484: RESET_WATCHES sent inside a transaction hit an assert in C
 * xenstored. It succeeds, drops every transaction of the connection
 * (this one included) and the guest goes on.
 */
static void test_xsa484_reset_watches_inside_a_transaction(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	struct xst_msg m;
	assert_int_equal(xst_request(d5, XSD_TRANSACTION_START, 0, "", 1, &m), 0);
	uint32_t tx = (uint32_t)strtoul(m.body, NULL, 10);
	assert_int_equal(xst_write(d5, tx, "data/intx", "x"), 0);
	assert_int_equal(xst_requestv(d5, XSD_WATCH, 0, NULL, "data", "t", NULL), 0);
	assert_int_equal(xst_request(d5, XSD_RESET_WATCHES, tx, "", 1, NULL), 0);
	assert_int_equal(xst_request(d5, XSD_TRANSACTION_END, tx, "T", 2, NULL), -ENOENT);
	assert_int_equal(xst_request(d5, XSD_RESET_WATCHES, tx + 77, "", 1, NULL), -ENOENT);
	assert_true(xsf_alive(f));
	assert_null(xsf_read(f->h, "/local/domain/5/data/intx"));
	assert_int_equal(xst_write(d5, 0, "data/after", "x"), 0);
	xst_close(d5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_xsa414_quota_hit_while_creating_parents),
		T(test_xsa415_failed_creation_in_transaction_leaves_no_orphans),
		T(test_xsa421_created_then_removed_in_transaction),
		T(test_xsa440_commit_after_outside_removal),
		T(test_xsa326_quota_holds_across_concurrent_transactions),
		T(test_xsa326_transaction_node_limit),
		T(test_xsa484_reset_watches_inside_a_transaction),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_xsa_txn", tests, NULL, NULL);
}
