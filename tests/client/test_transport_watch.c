/* SPDX-License-Identifier: MIT */
/*
 * Conformance, watches and transactions: events through the pollable fd,
 * the unwatch filter, transactions with their conflicts, the retry helper
 * and vsc_wait(), identical over every transport (argv[1]).
 */
#include "transport_fixture.h"

#include <pthread.h>
#include <unistd.h>

static void test_watch_events_arrive_through_the_event_fd(void **state)
{
	struct vsct_fixture *f = *state;
	const char *w = vsct_path("w");

	assert_false(vsct_fd_readable(f->c, 0));
	assert_vs_ok(vsc_watch(f->c, w, "tok", -1));
	vsct_expect_event(f->c, w, "tok", 5000); /* the initial event */
	assert_false(vsct_fd_readable(f->c, 0));
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("w/x"), "1", 1));
	vsct_expect_event(f->c, vsct_path("w/x"), "tok", 5000);
	/* Outside the watched subtree: nothing. */
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("wx"), "1", 1));
	vsct_expect_no_event(f->c, 100);
	assert_vs_err(VS_EEXIST, vsc_watch(f->c, w, "tok", -1));
	assert_vs_ok(vsc_rm(f->helper, VSC_TXN_NONE, w));
	vsct_expect_event(f->c, w, "tok", 5000);
	assert_vs_ok(vsc_unwatch(f->c, w, "tok"));
	assert_vs_err(VS_ENOENT, vsc_unwatch(f->c, w, "tok"));
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, w, "2", 1));
	vsct_expect_no_event(f->c, 100);
	assert_false(vsct_fd_readable(f->c, 0));
}

static void test_watch_depth_limits_the_levels(void **state)
{
	struct vsct_fixture *f = *state;
	const char *w = vsct_path("dw");

	assert_vs_ok(vsc_watch(f->c, w, "d0", 0));
	vsct_expect_event(f->c, w, "d0", 5000);
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("dw/child"), "c", 1));
	vsct_expect_no_event(f->c, 100);
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, w, "v", 1));
	vsct_expect_event(f->c, w, "d0", 5000);
}

static void test_unwatch_drops_the_events_already_queued(void **state)
{
	struct vsct_fixture *f = *state;
	const char *w = vsct_path("f");

	assert_vs_ok(vsc_watch(f->c, w, "keep", -1));
	assert_vs_ok(vsc_watch(f->c, w, "drop", -1));
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, w, "1", 1));
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, w, "2", 1));
	/* Unwatching reads what is pending first; the dropped watch's events go. */
	assert_vs_ok(vsc_unwatch(f->c, w, "drop"));
	for (int i = 0; i < 3; i++) /* initial + two writes */
		vsct_expect_event(f->c, w, "keep", 5000);
	vsct_expect_no_event(f->c, 100);
}

static void test_special_watches_see_domains_come_and_go(void **state)
{
	struct vsct_fixture *f = *state;

	assert_vs_ok(vsc_watch(f->c, "@introduceDomain", "in", -1));
	vsct_expect_event(f->c, "@introduceDomain", "in", 5000);
	assert_vs_ok(vsc_introduce(f->helper, 9, 1, 1));
	if (f->kind->priv)
		vsct_expect_event(f->c, "@introduceDomain", "in", 5000);
	else /* @introduceDomain is readable by dom0 only */
		vsct_expect_no_event(f->c, 200);
}

static void test_a_transaction_is_isolated_until_it_commits(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;
	vsc_txn_t t;

	assert_vs_ok(vsc_transaction_start(&t, f->c));
	assert_int_not_equal(t, VSC_TXN_NONE);
	assert_vs_ok(vsc_write(f->c, t, vsct_path("t1"), "in", 2));
	assert_vs_ok(vsc_read(&b, f->c, t, vsct_path("t1")));
	assert_string_equal(b.ptr, "in");
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->helper, VSC_TXN_NONE, vsct_path("t1")));
	assert_vs_ok(vsc_transaction_end(f->c, t, true));
	vsct_assert_value(f->helper, vsct_path("t1"), "in");
	/* Aborted: nothing happened. */
	assert_vs_ok(vsc_transaction_start(&t, f->c));
	assert_vs_ok(vsc_write(f->c, t, vsct_path("t2"), "x", 1));
	assert_vs_ok(vsc_transaction_end(f->c, t, false));
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("t2")));
	assert_vs_err(VS_ENOENT, vsc_transaction_end(f->c, t, true));
	vs_buf_release(&b);
}

static void test_a_transaction_whose_reads_changed_gets_eagain(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;
	vsc_txn_t t;

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("c"), "0", 1));
	assert_vs_ok(vsc_transaction_start(&t, f->c));
	assert_vs_ok(vsc_read(&b, f->c, t, vsct_path("c")));
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("c"), "1", 1));
	assert_vs_ok(vsc_write(f->c, t, vsct_path("c2"), "from-t", 6));
	assert_vs_err(VS_EAGAIN, vsc_transaction_end(f->c, t, true));
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("c2")));
	vs_buf_release(&b);
}

struct run_state {
	struct vsct_fixture *f;
	int calls;
	int conflict_until; /* the helper changes what fn read during the first calls */
	int fail_with;	    /* fn's error, 0: none */
};

static int run_body(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	struct run_state *rs = payload;
	struct vs_buf b = VS_BUF_INIT;
	char v[16];
	int err;

	rs->calls++;
	if ((err = vsc_read(&b, c, t, vsct_path("n"))) < 0)
		return err;
	if (rs->fail_with)
		err = vs_error_set(rs->fail_with, "the body says no");
	else if (rs->calls <= rs->conflict_until) { /* a new value each time: a change */
		snprintf(v, sizeof(v), "%d", rs->calls * 100);
		err = vsc_write(rs->f->helper, VSC_TXN_NONE, vsct_path("n"), v, strlen(v));
	}
	if (err >= 0) {
		snprintf(v, sizeof(v), "%d", atoi(b.ptr) + 1);
		err = vsc_write(c, t, vsct_path("n"), v, strlen(v));
	}
	vs_buf_release(&b);
	return err;
}

static void test_transaction_run_retries_conflicts_with_a_bound(void **state)
{
	struct vsct_fixture *f = *state;
	struct run_state rs = {.f = f, .conflict_until = 1};
	struct vsc_retry_opts three = {.attempts = 3};

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("n"), "1", 1));
	assert_vs_ok(vsc_transaction_run(f->c, run_body, &rs, NULL));
	assert_int_equal(rs.calls, 2);
	vsct_assert_value(f->c, vsct_path("n"), "101");

	rs = (struct run_state){.f = f, .conflict_until = 100};
	assert_vs_err(VS_EAGAIN, vsc_transaction_run(f->c, run_body, &rs, &three));
	assert_int_equal(rs.calls, 3);

	rs = (struct run_state){.f = f, .fail_with = VS_EPERM};
	assert_vs_err(VS_EPERM, vsc_transaction_run(f->c, run_body, &rs, NULL));
	assert_int_equal(rs.calls, 1);
	assert_string_equal(vs_error_last()->message, "the body says no");
	vsct_assert_value(f->c, vsct_path("n"), "300");
}

struct cond {
	int runs;
	int fail_with;
};

static int ready_cond(struct vsc_client *c, void *payload)
{
	struct cond *k = payload;
	struct vs_buf b = VS_BUF_INIT;
	k->runs++;
	if (k->fail_with)
		return vs_error_set(k->fail_with, "condition failed");
	int err = vsc_read(&b, c, VSC_TXN_NONE, vsct_path("ready"));
	if (err >= 0)
		err = strcmp(b.ptr, "yes") ? VSC_WAIT_AGAIN : 0;
	else if (err == VS_ENOENT)
		err = VSC_WAIT_AGAIN;
	vs_buf_release(&b);
	return err;
}

/* Someone else, later: a thread with its own client writes "ready". */
static void *writer(void *arg)
{
	struct vsct_fixture *f = arg;
	struct vsc_client *h = NULL;
	if (vsc_client_open(&h, f->helper_uri) < 0)
		return (void *)1;
	usleep(100 * 1000);
	int err = vsc_write(h, VSC_TXN_NONE, vsct_path("ready"), "not yet", 7);
	usleep(100 * 1000);
	if (err >= 0)
		err = vsc_write(h, VSC_TXN_NONE, vsct_path("ready"), "yes", 3);
	vsc_client_close(h);
	return err < 0 ? (void *)1 : NULL;
}

static void test_wait_reruns_the_condition_when_its_reads_change(void **state)
{
	struct vsct_fixture *f = *state;
	struct cond k = {0};
	pthread_t th;
	void *ret;

	/* The application's own watch: its events must survive the wait. */
	assert_vs_ok(vsc_watch(f->c, vsct_path("app"), "app", -1));
	assert_int_equal(pthread_create(&th, NULL, writer, f), 0);
	int err = vsc_wait(f->c, ready_cond, &k, 10000);
	assert_int_equal(pthread_join(th, &ret), 0);
	assert_null(ret);
	assert_vs_ok(err);
	assert_true(k.runs >= 3); /* missing, "not yet", "yes" */
	vsct_expect_event(f->c, vsct_path("app"), "app", 5000);
	/* Its watches are gone: a change now reaches nobody. */
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("ready"), "again", 5));
	vsct_expect_no_event(f->c, 100);
	/* Already true: one run, no watch. */
	k.runs = 0;
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("ready"), "yes", 3));
	assert_vs_ok(vsc_wait(f->c, ready_cond, &k, 1000));
	assert_int_equal(k.runs, 1);
}

static void test_wait_times_out_and_passes_errors_through(void **state)
{
	struct vsct_fixture *f = *state;
	struct cond k = {0};

	assert_vs_err(VS_EAGAIN, vsc_wait(f->c, ready_cond, &k, 200));
	assert_true(k.runs >= 1);
	vsct_expect_no_event(f->c, 50);
	k = (struct cond){.fail_with = VS_EIO};
	assert_vs_err(VS_EIO, vsc_wait(f->c, ready_cond, &k, 1000));
	assert_string_equal(vs_error_last()->message, "condition failed");
}

int main(int argc, char **argv)
{
	vsct_kind_from_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, vsct_setup, vsct_teardown)
	    T(test_watch_events_arrive_through_the_event_fd),
	    T(test_watch_depth_limits_the_levels),
	    T(test_unwatch_drops_the_events_already_queued),
	    T(test_special_watches_see_domains_come_and_go),
	    T(test_a_transaction_is_isolated_until_it_commits),
	    T(test_a_transaction_whose_reads_changed_gets_eagain),
	    T(test_transaction_run_retries_conflicts_with_a_bound),
	    T(test_wait_reruns_the_condition_when_its_reads_change),
	    T(test_wait_times_out_and_passes_errors_through),
#undef T
	};
	return cmocka_run_group_tests_name("transport_watch", tests, NULL, NULL);
}
