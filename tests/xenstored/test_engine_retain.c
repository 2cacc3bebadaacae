/* SPDX-License-Identifier: MIT */
/*
 * Retention in the engine (retain.c): collections start every
 * retention.every commits and run in steps between flushes; the kept
 * window holds, the tree and the store stay whole, an open transaction's
 * starting commit survives so it still commits, and CONTROL gc reports
 * and starts collections.
 */
#include "engine_fixture.h"

#include <stdio.h>

#define MAX_STEPS 100000 /* a collection of these tiny stores takes a handful */

static int count_cb(void *payload, struct vs_commit *c)
{
	(void)c;
	(*(size_t *)payload)++;
	return 0;
}

/* Commits the branch's history walk reaches (it stops at the retention boundary). */
static size_t history_len(struct ef_fixture *f)
{
	struct vs_commit *head = ef_head(f);
	size_t n = 0;
	assert_vs_ok(vs_log(f->repo, vs_commit_id(head), NULL, count_cb, &n));
	vs_commit_free(head);
	return n;
}

/* Step until the engine has nothing left to collect. @return the steps taken. */
static size_t collect(struct ef_fixture *f)
{
	size_t steps = 0;
	int r;
	while ((r = xsd_engine_gc_step(f->e)) > 0)
		assert_true(++steps < MAX_STEPS);
	assert_vs_ok(r);
	return steps;
}

static struct ef_fixture *with_retention(size_t keep_last, size_t every)
{
	struct xsd_engine_opts o;
	ef_default_opts(&o);
	o.retention.keep_last = keep_last;
	o.retention.every = every;
	return ef_new(&o);
}

static void test_collections_keep_the_window_and_the_tree(void **state)
{
	struct ef_fixture *f = with_retention(5, 4);
	struct ef_conn *p = ef_priv(f);
	char path[32], val[32];
	(void)state;

	assert_false(xsd_engine_gc_due(f->e));
	assert_int_equal(xsd_engine_gc_step(f->e), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/data/k%d", i % 6);
		snprintf(val, sizeof(val), "v%d", i);
		assert_string_equal(ef_write(p, path, val), "OK");
		collect(f); /* as the daemon does between loop turns */
	}
	/* The last collection kept 5 commits; at most every - 1 came after it. */
	size_t n = history_len(f);
	assert_in_range(n, 5, 5 + 3);
	for (int i = 34; i < 40; i++) {
		snprintf(path, sizeof(path), "/data/k%d", i % 6);
		snprintf(val, sizeof(val), "v%d", i);
		assert_string_equal(ef_read(p, path), val);
	}
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "check"), "OK"));
	const char *report = ef_call(p, XSD_CONTROL, 0, "gc");
	assert_non_null(strstr(report, "keep the last 5 commits"));
	assert_non_null(strstr(report, "a collection every 4 commits"));
	assert_non_null(strstr(report, "kept 5 commits"));
	/* The store is whole for a fresh engine too. */
	ef_restart(f);
	p = ef_priv(f);
	assert_string_equal(ef_read(p, "/data/k3"), "v39");
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "check"), "OK"));
	ef_free(f);
}

static void test_an_open_transaction_keeps_the_commit_it_started_from(void **state)
{
	struct ef_fixture *f = with_retention(2, 2);
	struct ef_conn *p = ef_priv(f), *g = ef_priv(f);
	char val[32];
	(void)state;

	assert_string_equal(ef_write(p, "/t", "0"), "OK");
	uint32_t tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "/t", "in-tx"), "OK");
	/* Many commits after the transaction's start, each followed by collections. */
	for (int i = 0; i < 30; i++) {
		snprintf(val, sizeof(val), "%d", i);
		assert_string_equal(ef_write(p, "/other", val), "OK");
		collect(f);
	}
	/* END merges onto the head with the transaction's own commit on its base. */
	assert_string_equal(ef_txn_end(g, tx, true), "OK");
	assert_string_equal(ef_read(p, "/t"), "in-tx");
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "check"), "OK"));
	/* With the transaction gone, the window shrinks back to what is configured. */
	for (int i = 0; i < 4; i++)
		assert_string_equal(ef_write(p, "/other", "x"), "OK");
	collect(f);
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "check"), "OK"));
	assert_true(history_len(f) <= 2 + 1 + 2); /* the window, a side commit, every - 1 */
	ef_free(f);
}

static void test_control_gc_reports_and_starts_a_collection(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_write(p, "/a", "1"), "OK");
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "gc"), "keep all history"));
	assert_false(xsd_engine_gc_due(f->e));
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "gc start"), "OK"));
	assert_true(xsd_engine_gc_due(f->e));
	assert_non_null(strstr(ef_call(p, XSD_CONTROL, 0, "gc start"), "running or about to"));
	assert_true(collect(f) > 0);
	assert_false(xsd_engine_gc_due(f->e));
	/* Keeping everything sweeps nothing that is reachable. */
	assert_string_equal(ef_read(p, "/a"), "1");
	const char *report = ef_call(p, XSD_CONTROL, 0, "gc");
	assert_non_null(strstr(report, "last collection (1 so far)"));
	assert_non_null(strstr(report, "dropped 0"));
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "gc now"), "EINVAL");
	assert_string_equal(ef_call(g, XSD_CONTROL, 0, "gc start"), "EACCES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collections_keep_the_window_and_the_tree),
	    cmocka_unit_test(test_an_open_transaction_keeps_the_commit_it_started_from),
	    cmocka_unit_test_setup_teardown(test_control_gc_reports_and_starts_a_collection,
					    ef_setup, ef_teardown),
	};
	return cmocka_run_group_tests_name("xsd_engine_retain", tests, NULL, NULL);
}
