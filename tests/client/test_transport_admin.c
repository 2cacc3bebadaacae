/* SPDX-License-Identifier: MIT */
/*
 * Conformance, administration: domain operations, features, quotas,
 * CONTROL, history and what closing a client undoes, identical over every
 * transport (argv[1]): the privileged kinds may, domain 5 gets EACCES.
 */
#include "transport_fixture.h"

static void test_domain_operations_need_privilege(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;
	bool yes = false;

	assert_vs_ok(vsc_get_domain_path(&b, f->c, 7));
	assert_string_equal(b.ptr, "/local/domain/7");
	assert_int_equal(b.size, strlen("/local/domain/7"));
	vs_buf_release(&b);
	if (!f->kind->priv) {
		assert_vs_err(VS_EACCES, vsc_introduce(f->c, 7, 1, 1));
		assert_vs_err(VS_EACCES, vsc_is_introduced(&yes, f->c, VSCT_DOMID));
		assert_vs_err(VS_EACCES, vsc_release(f->c, VSCT_DOMID));
		assert_vs_err(VS_EACCES, vsc_resume(f->c, VSCT_DOMID));
		assert_vs_err(VS_EACCES, vsc_set_target(f->c, VSCT_DOMID, 0));
		return;
	}
	assert_vs_ok(vsc_introduce(f->c, 7, 0x1234, 9));
	assert_vs_ok(vsc_is_introduced(&yes, f->c, 7));
	assert_true(yes);
	assert_vs_ok(vsc_is_introduced(&yes, f->c, 8));
	assert_false(yes);
	assert_vs_err(VS_EINVAL, vsc_introduce(f->c, 7, 0x999, 9)); /* another page */
	assert_vs_ok(vsc_set_target(f->c, 7, VSCT_DOMID));
	assert_vs_err(VS_ENOENT, vsc_set_target(f->c, 7, 8));
	assert_vs_ok(vsc_resume(f->c, 7));
	assert_vs_ok(vsc_watch(f->c, "@releaseDomain", "rel", -1));
	vsct_expect_event(f->c, "@releaseDomain", "rel", 5000);
	assert_vs_ok(vsc_release(f->c, 7));
	vsct_expect_event(f->c, "@releaseDomain", "rel", 5000);
	assert_vs_ok(vsc_is_introduced(&yes, f->c, 7));
	assert_false(yes);
	assert_vs_err(VS_ENOENT, vsc_release(f->c, 7));
}

static void test_features_are_per_domain(void **state)
{
	struct vsct_fixture *f = *state;
	uint32_t mine = 0, v = 0;

	assert_vs_ok(vsc_get_features(&mine, f->c, -1));
	assert_true(mine & 4); /* WATCHDEPTH: the daemon offers it to everyone */
	if (!f->kind->priv) {
		assert_vs_err(VS_EACCES, vsc_get_features(&v, f->c, 9));
		assert_vs_err(VS_EACCES, vsc_set_features(f->c, 9, 4));
		return;
	}
	assert_vs_ok(vsc_set_features(f->c, 9, 4));
	assert_vs_ok(vsc_get_features(&v, f->c, 9));
	assert_int_equal(v, 4);
	assert_vs_err(VS_EINVAL, vsc_set_features(f->c, 9, 0x100000));
	/* Not after INTRODUCE. */
	assert_vs_err(VS_EBUSY, vsc_set_features(f->c, VSCT_DOMID, 4));
}

static void test_quotas_are_read_set_and_enforced(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_strarray names;
	uint64_t v = 0;
	char big[300];

	memset(big, 'q', sizeof(big));
	/* The helper shrinks domain 5's node-size quota: only domain 5 feels it. */
	assert_vs_ok(vsc_set_quota(f->helper, VSCT_DOMID, "node-size", 128));
	if (f->kind->priv)
		assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("q"), big, sizeof(big)));
	else
		assert_vs_err(VS_ENOSPC,
			      vsc_write(f->c, VSC_TXN_NONE, vsct_path("q"), big, sizeof(big)));
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("q"), big, 16));
	if (!f->kind->priv) {
		assert_vs_err(VS_EACCES, vsc_quota_names(&names, f->c));
		assert_vs_err(VS_EACCES, vsc_get_quota(&v, f->c, -1, "nodes"));
		assert_vs_err(VS_EACCES, vsc_set_quota(f->c, -1, "nodes", 5));
		return;
	}
	assert_vs_ok(vsc_quota_names(&names, f->c));
	bool has_nodes = false, has_size = false;
	for (size_t i = 0; i < names.count; i++) {
		has_nodes |= !strcmp(names.strings[i], "nodes");
		has_size |= !strcmp(names.strings[i], "node-size");
	}
	assert_true(has_nodes && has_size);
	vs_strarray_dispose(&names);
	assert_vs_ok(vsc_get_quota(&v, f->c, -1, "nodes"));
	assert_int_equal(v, 1000);
	assert_vs_ok(vsc_get_quota(&v, f->c, VSCT_DOMID, "node-size"));
	assert_int_equal(v, 128);
	assert_vs_ok(vsc_set_quota(f->c, -1, "watches", 64));
	assert_vs_ok(vsc_get_quota(&v, f->c, -1, "watches"));
	assert_int_equal(v, 64);
	assert_vs_err(VS_EINVAL, vsc_get_quota(&v, f->c, -1, "no-such-quota"));
}

static void test_control_commands_need_privilege(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf out = VS_BUF_INIT;
	static const char *const print[] = {"print", "hello from vsclient"};
	static const char *const help[] = {"help"};
	static const char *const bogus[] = {"no-such-command"};

	if (!f->kind->priv) {
		assert_vs_err(VS_EACCES, vsc_control(&out, f->c, help, 1));
		return;
	}
	assert_vs_ok(vsc_control(&out, f->c, print, 2));
	assert_string_equal(out.ptr, "OK");
	assert_vs_ok(vsc_control(&out, f->c, help, 1));
	assert_non_null(strstr(out.ptr, "history"));
	assert_int_equal(strlen(out.ptr), out.size);
	assert_vs_err(VS_EINVAL, vsc_control(&out, f->c, bogus, 1));
	vs_buf_release(&out);
}

static void test_history_logs_changes_and_reads_old_values(void **state)
{
	struct vsct_fixture *f = *state;
	struct vsc_change *log = NULL;
	struct vs_buf b = VS_BUF_INIT;
	size_t n = 0;
	char want[300], v[16], h[256];

	snprintf(h, sizeof(h), "%s", vsct_path("h")); /* vsct_path's buffers rotate */

	if (!f->kind->history || !f->kind->priv) {
		int code = f->kind->priv ? VS_ENOTSUP : VS_EACCES;
		assert_vs_err(code, vsc_log(&log, &n, f->c, h, 0));
		assert_null(log);
		assert_vs_err(code, vsc_read_at(&b, f->c, "main", h));
		return;
	}
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, h, "one", 3));
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("other"), "x", 1));
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, h, "two", 3));
	assert_vs_ok(vsc_log(&log, &n, f->c, h, 0));
	assert_int_equal(n, 2); /* the write of "other" did not touch h */
	snprintf(want, sizeof(want), "write %s", h);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(log[i].summary, want);
		assert_int_equal(log[i].domid, 0);
		assert_true(log[i].time > 1600000000);
		assert_true(strlen(log[i].commit) == 40 || strlen(log[i].commit) == 64);
	}
	assert_vs_ok(vsc_read_at(&b, f->c, log[1].commit, h));
	assert_string_equal(b.ptr, "one");
	assert_vs_ok(vsc_read_at(&b, f->c, log[0].commit, h));
	assert_string_equal(b.ptr, "two");
	assert_vs_ok(vsc_read_at(&b, f->c, "main~1", vsct_path("other")));
	assert_string_equal(b.ptr, "x");
	assert_vs_err(VS_ENOENT, vsc_read_at(&b, f->c, "main~2", vsct_path("other")));
	assert_vs_ok(vsc_read_at(&b, f->c, log[1].commit, VSCT_BASE)); /* a node without value */
	assert_int_equal(b.size, 0);
	assert_vs_err(VS_ENOENT, vsc_read_at(&b, f->c, log[1].commit, vsct_path("none")));
	assert_vs_err(VS_EINVAL, vsc_read_at(&b, f->c, log[1].commit, "/bad//path"));
	vsc_changes_free(log, n);

	/* More changes than one reply holds: pages, newest first, no repeats. */
	for (int i = 0; i < 60; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, h, v, strlen(v)));
	}
	assert_vs_ok(vsc_log(&log, &n, f->c, h, 0));
	assert_int_equal(n, 62);
	assert_vs_ok(vsc_read_at(&b, f->c, log[0].commit, h));
	assert_string_equal(b.ptr, "59");
	assert_vs_ok(vsc_read_at(&b, f->c, log[59].commit, h));
	assert_string_equal(b.ptr, "0");
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(log[i].commit, log[i - 1].commit);
	vsc_changes_free(log, n);
	assert_vs_ok(vsc_log(&log, &n, f->c, h, 5));
	assert_int_equal(n, 5);
	vsc_changes_free(log, n);
	vs_buf_release(&b);
}

static void test_closing_a_client_aborts_its_transactions_and_watches(void **state)
{
	struct vsct_fixture *f = *state;
	struct vsc_client *c2 = NULL;
	struct vs_buf b = VS_BUF_INIT;
	vsc_txn_t t;

	assert_vs_ok(vsc_client_open(&c2, f->uri));
	assert_vs_ok(vsc_watch(c2, vsct_path("cl"), "c2", -1));
	assert_vs_ok(vsc_transaction_start(&t, c2));
	assert_vs_ok(vsc_write(c2, t, vsct_path("cl"), "lost", 4));
	vsc_client_close(c2);
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("cl")));
	/* Its watch went with it: the same path and token are free. */
	assert_vs_ok(vsc_watch(f->c, vsct_path("cl"), "c2", -1));
	vsct_expect_event(f->c, vsct_path("cl"), "c2", 5000);
	vs_buf_release(&b);
}

int main(int argc, char **argv)
{
	vsct_kind_from_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, vsct_setup, vsct_teardown)
	    T(test_domain_operations_need_privilege),
	    T(test_features_are_per_domain),
	    T(test_quotas_are_read_set_and_enforced),
	    T(test_control_commands_need_privilege),
	    T(test_history_logs_changes_and_reads_old_values),
	    T(test_closing_a_client_aborts_its_transactions_and_watches),
#undef T
	};
	return cmocka_run_group_tests_name("transport_admin", tests, NULL, NULL);
}
