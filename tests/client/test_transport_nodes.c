/* SPDX-License-Identifier: MIT */
/*
 * Conformance, nodes: reads, writes, directories (large ones through
 * DIRECTORY_PART), permissions and the errors of each, identical over every
 * transport (argv[1]); only privilege changes an answer, as in Xenstore.
 */
#include "transport_fixture.h"

static void assert_strings(const struct vs_strarray *a, const char *const *want, size_t n)
{
	assert_int_equal(a->count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a->strings[i], want[i]);
}

static void test_a_written_value_reads_back(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;
	static const char bin[] = {'a', 0, 'b', '\n', (char)0xff};

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("a"), "hello", 5));
	vsct_assert_value(f->c, vsct_path("a"), "hello");
	vsct_assert_value(f->helper, vsct_path("a"), "hello");
	/* Values are bytes: NULs included, no terminator added on the wire. */
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("bin"), bin, sizeof(bin)));
	assert_vs_ok(vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("bin")));
	assert_int_equal(b.size, sizeof(bin));
	assert_memory_equal(b.ptr, bin, sizeof(bin));
	assert_int_equal(b.ptr[b.size], '\0');
	/* An empty value is an empty, NUL-terminated buffer. */
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("empty"), NULL, 0));
	assert_vs_ok(vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("empty")));
	assert_int_equal(b.size, 0);
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	vs_buf_release(&b);
}

static void test_write_creates_parents_and_mkdir_keeps_values(void **state)
{
	struct vsct_fixture *f = *state;

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("p/q/r"), "x", 1));
	vsct_assert_value(f->c, vsct_path("p/q"), "");
	assert_vs_ok(vsc_mkdir(f->c, VSC_TXN_NONE, vsct_path("p/q/r")));
	vsct_assert_value(f->c, vsct_path("p/q/r"), "x");
	assert_vs_ok(vsc_mkdir(f->c, VSC_TXN_NONE, vsct_path("m/n")));
	vsct_assert_value(f->c, vsct_path("m/n"), "");
}

static void test_rm_removes_the_subtree(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("r/s/t"), "1", 1));
	assert_vs_ok(vsc_rm(f->c, VSC_TXN_NONE, vsct_path("r")));
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("r/s/t")));
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("r")));
	/* Absent with its parent present: fine; parent absent too: ENOENT. */
	assert_vs_ok(vsc_rm(f->c, VSC_TXN_NONE, vsct_path("r")));
	assert_vs_err(VS_ENOENT, vsc_rm(f->c, VSC_TXN_NONE, vsct_path("r/s")));
	vs_buf_release(&b);
}

static void test_relative_paths_are_below_the_own_home(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf home = VS_BUF_INIT;
	char abs[512];

	assert_vs_ok(vsc_get_domain_path(&home, f->c, f->domid));
	snprintf(abs, sizeof(abs), "%s/data/t/rel", home.ptr);
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, "data/t/rel", "r", 1));
	vsct_assert_value(f->helper, abs, "r");
	vsct_assert_value(f->c, "data/t/rel", "r");
	vs_buf_release(&home);
}

static void test_directory_lists_children_in_creation_order(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_strarray a;
	static const char *const want[] = {"zeta", "alpha", "mu"};

	for (size_t i = 0; i < 3; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "d/%s", want[i]);
		assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path(rel), "", 0));
	}
	assert_vs_ok(vsc_directory(&a, f->c, VSC_TXN_NONE, vsct_path("d")));
	assert_strings(&a, want, 3);
	vs_strarray_dispose(&a);
	assert_vs_ok(vsc_directory(&a, f->c, VSC_TXN_NONE, vsct_path("d/mu")));
	assert_int_equal(a.count, 0);
	vs_strarray_dispose(&a);
	assert_vs_err(VS_ENOENT, vsc_directory(&a, f->c, VSC_TXN_NONE, vsct_path("none")));
	assert_int_equal(a.count, 0);
}

#define BIG_N 300

static void test_a_directory_larger_than_a_reply_is_listed_whole(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_strarray a;
	char rel[64];
	vsc_txn_t t;
	size_t bytes = 0;

	/* Made by the privileged helper: the node-size quota stops domains first. */
	assert_vs_ok(vsc_transaction_start(&t, f->helper));
	for (int i = 0; i < BIG_N; i++) {
		snprintf(rel, sizeof(rel), "big/child-with-a-rather-long-name-%03d", i);
		assert_vs_ok(vsc_write(f->helper, t, vsct_path(rel), "", 0));
		bytes += strlen(rel) - 4 + 1;
	}
	assert_vs_ok(vsc_transaction_end(f->helper, t, true));
	assert_true(bytes > 4096 * 2);
	assert_vs_ok(vsc_directory(&a, f->c, VSC_TXN_NONE, vsct_path("big")));
	assert_int_equal(a.count, BIG_N);
	for (int i = 0; i < BIG_N; i++) {
		snprintf(rel, sizeof(rel), "child-with-a-rather-long-name-%03d", i);
		assert_string_equal(a.strings[i], rel);
	}
	vs_strarray_dispose(&a);
	/* The same inside a transaction. */
	assert_vs_ok(vsc_transaction_start(&t, f->c));
	assert_vs_ok(vsc_directory(&a, f->c, t, vsct_path("big")));
	assert_int_equal(a.count, BIG_N);
	vs_strarray_dispose(&a);
	assert_vs_ok(vsc_transaction_end(f->c, t, false));
}

static void test_permissions_round_trip_and_bind_domains(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_strarray a;
	struct vs_buf b = VS_BUF_INIT;
	static const char *const mine[] = {"n5", "r7"};
	static const char *const dom0[] = {"n0"};
	static const char *const to7[] = {"b7"};

	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("p"), "v", 1));
	assert_vs_ok(vsc_get_perms(&a, f->c, VSC_TXN_NONE, vsct_path("p")));
	assert_int_equal(a.count, 1);
	assert_string_equal(a.strings[0], "n5"); /* inherited from data/, owner 5 */
	vs_strarray_dispose(&a);
	assert_vs_ok(vsc_set_perms(f->c, VSC_TXN_NONE, vsct_path("p"), mine, 2));
	assert_vs_ok(vsc_get_perms(&a, f->c, VSC_TXN_NONE, vsct_path("p")));
	assert_strings(&a, mine, 2);
	vs_strarray_dispose(&a);
	assert_vs_err(VS_EINVAL, vsc_set_perms(f->c, VSC_TXN_NONE, vsct_path("p"), mine, 0));

	/* A node the helper keeps to dom0: only privilege reads it. */
	assert_vs_ok(vsc_write(f->helper, VSC_TXN_NONE, vsct_path("secret"), "s", 1));
	assert_vs_ok(vsc_set_perms(f->helper, VSC_TXN_NONE, vsct_path("secret"), dom0, 1));
	if (f->kind->priv) {
		vsct_assert_value(f->c, vsct_path("secret"), "s");
		/* Only the privileged may give a node away. */
		assert_vs_ok(vsc_set_perms(f->c, VSC_TXN_NONE, vsct_path("p"), to7, 1));
	} else {
		assert_vs_err(VS_EACCES, vsc_read(&b, f->c, VSC_TXN_NONE, vsct_path("secret")));
		assert_vs_err(VS_EACCES,
			      vsc_write(f->c, VSC_TXN_NONE, vsct_path("secret"), "x", 1));
		assert_vs_err(VS_EACCES, vsc_get_perms(&a, f->c, VSC_TXN_NONE, "@introduceDomain"));
		assert_vs_err(VS_EPERM, vsc_set_perms(f->c, VSC_TXN_NONE, vsct_path("p"), to7, 1));
		/* Hidden existence: no read right on the parent, EACCES for absent nodes. */
		assert_vs_err(VS_EACCES, vsc_read(&b, f->c, VSC_TXN_NONE, "/tool/none"));
	}
	vs_buf_release(&b);
}

static void test_bad_requests_fail_as_xenstore_fails_them(void **state)
{
	struct vsct_fixture *f = *state;
	struct vs_buf b = VS_BUF_INIT;
	static char big[4200];

	assert_vs_err(VS_EINVAL, vsc_read(&b, f->c, VSC_TXN_NONE, "/a//b"));
	assert_vs_err(VS_EINVAL, vsc_write(f->c, VSC_TXN_NONE, "/trailing/", "x", 1));
	assert_vs_err(VS_EINVAL, vsc_rm(f->c, VSC_TXN_NONE, "/")); /* checked before access */
	/* A request over 4096 bytes never leaves the client. */
	memset(big, 'v', sizeof(big));
	assert_vs_err(VS_E2BIG, vsc_write(f->c, VSC_TXN_NONE, vsct_path("big"), big, sizeof(big)));
	/* Unknown transaction ids are ENOENT. */
	assert_vs_err(VS_ENOENT, vsc_read(&b, f->c, 4242, vsct_path("a")));
	assert_vs_err(VS_ENOENT, vsc_transaction_end(f->c, 4242, true));
	/* The connection is still fine. */
	assert_vs_ok(vsc_write(f->c, VSC_TXN_NONE, vsct_path("after"), "ok", 2));
	vsct_assert_value(f->c, vsct_path("after"), "ok");
	vs_buf_release(&b);
}

int main(int argc, char **argv)
{
	vsct_kind_from_args(argc, argv);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, vsct_setup, vsct_teardown)
	    T(test_a_written_value_reads_back),
	    T(test_write_creates_parents_and_mkdir_keeps_values),
	    T(test_rm_removes_the_subtree),
	    T(test_relative_paths_are_below_the_own_home),
	    T(test_directory_lists_children_in_creation_order),
	    T(test_a_directory_larger_than_a_reply_is_listed_whole),
	    T(test_permissions_round_trip_and_bind_domains),
	    T(test_bad_requests_fail_as_xenstore_fails_them),
#undef T
	};
	return cmocka_run_group_tests_name("transport_nodes", tests, NULL, NULL);
}
