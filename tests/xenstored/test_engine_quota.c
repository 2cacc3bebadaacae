/* SPDX-License-Identifier: MIT */
/*
 * Quotas: nodes (ENOSPC), watches (E2BIG), node-size, node-permissions and
 * path-max, as they apply to unprivileged domains only, and GET_QUOTA /
 * SET_QUOTA (global and per domain, privileged only). The transaction
 * quotas are in test_engine_txn.c. Boundaries are C xenstored 4.17's,
 * checked against it, except where a comment says otherwise.
 */
#include "engine_fixture.h"

/* Domain 3 with a home it owns ("b3"): one node counted for it. */
static struct ef_conn *dom3(struct ef_fixture *f)
{
	struct ef_conn *p = ef_priv(f);
	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "b3"), "OK");
	return ef_conn(f, 3, 0);
}

static void test_the_nodes_quota_counts_what_a_domain_owns(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = dom3(f), *p = ef_priv(f);
	char name[16];

	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "3 nodes 10"), "OK");
	for (int i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_string_equal(ef_write(g, name, "v"), "OK");
	}
	assert_string_equal(ef_write(g, "n9", "v"), "ENOSPC");
	/* Rewriting an owned node needs no new one. */
	assert_string_equal(ef_write(g, "n0", "w"), "OK");
	assert_string_equal(ef_rm(g, "n0"), "OK");
	assert_string_equal(ef_write(g, "deep/a/b", "v"), "ENOSPC");
	assert_string_equal(ef_read(g, "deep"), "ENOENT");
	assert_string_equal(ef_write(g, "deep", "v"), "OK");
	assert_string_equal(ef_write(g, "more", "v"), "ENOSPC");
	/* Inside a transaction too. */
	assert_string_equal(ef_rm(g, "deep"), "OK");
	uint32_t tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "t1", "v"), "OK");
	assert_string_equal(ef_write_tx(g, tx, "t2", "v"), "ENOSPC");
	assert_string_equal(ef_txn_end(g, tx, false), "OK");
	/* The privileged may create nodes the domain owns beyond its quota. */
	assert_string_equal(ef_write(p, "/local/domain/3/byp", "v"), "OK");
	assert_string_equal(ef_perms(p, "/local/domain/3/byp"), "b3");
	const char *use = ef_call(p, XSD_CONTROL, 0, "quota 3");
	assert_non_null(strstr(use, "in use: nodes 10 "));
}

static void test_the_watches_quota_is_per_domain(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *a = ef_conn(f, 3, 0), *b = ef_conn(f, 3, 0);

	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "watches 4"), "OK");
	assert_string_equal(ef_watch(a, "/w1", "t"), "OK");
	assert_string_equal(ef_watch(a, "/w2", "t"), "OK");
	assert_string_equal(ef_watch(b, "/w3", "t"), "OK");
	assert_string_equal(ef_watch(b, "/w4", "t"), "OK");
	assert_string_equal(ef_watch(a, "/w5", "t"), "E2BIG");
	assert_string_equal(ef_unwatch(b, "/w4", "t"), "OK");
	assert_string_equal(ef_watch(a, "/w5", "t"), "OK");
	ef_close(b);
	assert_string_equal(ef_watch(a, "/w6", "t"), "OK");
	assert_string_equal(ef_watch(a, "/w7", "t"), "E2BIG");
	/* Another domain, and the privileged, count on their own. */
	struct ef_conn *h = ef_conn(f, 5, 0);
	assert_string_equal(ef_watch(h, "/w1", "t"), "OK");
	for (int i = 0; i < 10; i++) {
		char path[16];
		snprintf(path, sizeof(path), "/p%d", i);
		assert_string_equal(ef_watch(p, path, "t"), "OK");
	}
}

/*
 * node-size: 4.17 counts a record header (24 bytes), 8 bytes per
 * permission, the value and the child names, and fails at >= the quota:
 * with the default 2048 and one permission, 2015 value bytes fit, 2016 do
 * not.
 */
static void test_the_node_size_quota_counts_value_and_permissions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = dom3(f), *p = ef_priv(f);
	static char value[2100];

	memset(value, 'x', 2015);
	assert_string_equal(ef_write(g, "v", value), "OK");
	memset(value, 'x', 2041);
	assert_string_equal(ef_write(g, "v", value), "ENOSPC");
	assert_string_equal(ef_write(g, "w", value), "ENOSPC");
	assert_string_equal(ef_read(g, "w"), "ENOENT");
	/* Not for the privileged. */
	assert_string_equal(ef_write(p, "/local/domain/3/v", value), "OK");
	memset(value, 'x', 2016);
	value[2016] = '\0';
	assert_string_equal(ef_write(g, "v2", value), "ENOSPC");
}

static void test_the_node_size_quota_counts_child_names(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = dom3(f), *p = ef_priv(f);
	char name[64];

	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "node-size 100"), "OK");
	assert_string_equal(ef_write(g, "p", ""), "OK");
	/* Two children of 30-byte names fit (24 + 8 + 62 < 100); the third does not. */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "p/%02d%s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		assert_string_equal(ef_write(g, name, ""), i < 2 ? "OK" : "ENOSPC");
	}
}

static void test_the_node_permissions_quota_limits_entries(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = dom3(f), *p = ef_priv(f);

	assert_string_equal(ef_write(g, "a", "v"), "OK");
	assert_string_equal(ef_setperms(g, "a", "b3 r1 r2 r4 r5 r6"), "ENOSPC");
	assert_string_equal(ef_setperms(g, "a", "b3 r1 r2 r4 r5"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "3 node-permissions 2"), "OK");
	assert_string_equal(ef_setperms(g, "a", "b3 r1 r2"), "ENOSPC");
	assert_string_equal(ef_setperms(g, "a", "b3 r1"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3/a", "b3 r1 r2 r4 r5 r6 r7"), "OK");
}

static void test_the_path_max_quota_limits_paths_below_the_home(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = dom3(f), *p = ef_priv(f);
	static char path[2200];

	/* Components of 9 bytes keep every node under the node-size quota. */
	for (int i = 0; i < 2048; i++)
		path[i] = i % 10 == 9 ? '/' : 'a';
	path[2048] = '\0';
	assert_string_equal(ef_write(g, path, "v"), "OK");
	path[2048] = 'a';
	path[2049] = '\0';
	assert_string_equal(ef_write(g, path, "v"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "3 path-max 10"), "OK");
	assert_string_equal(ef_write(g, "abcdefghij", "v"), "OK");
	assert_string_equal(ef_write(g, "abcdefghijk", "v"), "EINVAL");
	assert_string_equal(ef_write(g, "/local/domain/3/abcdefghijk", "v"), "EINVAL");
	assert_string_equal(ef_write(p, "/local/domain/3/abcdefghijk", "v"), "OK");
	assert_string_equal(ef_read(g, "abcdefghijk"), "EINVAL");
}

static void test_get_quota_names_and_reads_the_quotas(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);
	static const char *const names[] = { "nodes", "watches", "transactions",
					     "transaction-nodes", "node-permissions", "path-max",
					     "node-size", "outstanding", "memory", "soft-memory" };
	static const char *const values[] = { "1000", "128", "10", "1024", "5", "2048",
					      "2048", "20", "2621440", "2097152" };

	char *list = strdup(ef_call(p, XSD_GET_QUOTA, 0, NULL));
	assert_false(ef_failed(p));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char word[40];
		snprintf(word, sizeof(word), " %s ", names[i]);
		char padded[512];
		snprintf(padded, sizeof(padded), " %s ", list);
		assert_non_null(strstr(padded, word));
		assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, names[i]), values[i]);
	}
	free(list);
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "3 nodes"), "1000");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "no-such-quota"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "3 nodes extra"), "EINVAL");
}

static void test_set_quota_sets_global_and_per_domain_values(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "nodes 50"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "nodes"), "50");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "3 nodes"), "50");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "3 nodes 7"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "3 nodes"), "7");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "4 nodes"), "50");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "nodes"), "50");
	/* A per-domain value stays when the global one changes. */
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "nodes 60"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "3 nodes"), "7");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "soft-memory 100"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "soft-memory"), "100");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "nodes -1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "nodes x"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "bogus 1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "nodes"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "99999 nodes 1"), "EINVAL");
}

static void test_quota_requests_are_for_the_privileged(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_call(g, XSD_GET_QUOTA, 0, NULL), "EACCES");
	assert_string_equal(ef_call(g, XSD_GET_QUOTA, 0, "nodes"), "EACCES");
	assert_string_equal(ef_call(g, XSD_GET_QUOTA, 0, "3 nodes"), "EACCES");
	assert_string_equal(ef_call(g, XSD_SET_QUOTA, 0, "3 nodes 100000"), "EACCES");
	assert_string_equal(ef_call(g, XSD_SET_QUOTA, 0, "nodes 100000"), "EACCES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_the_nodes_quota_counts_what_a_domain_owns),
		T(test_the_watches_quota_is_per_domain),
		T(test_the_node_size_quota_counts_value_and_permissions),
		T(test_the_node_size_quota_counts_child_names),
		T(test_the_node_permissions_quota_limits_entries),
		T(test_the_path_max_quota_limits_paths_below_the_home),
		T(test_get_quota_names_and_reads_the_quotas),
		T(test_set_quota_sets_global_and_per_domain_values),
		T(test_quota_requests_are_for_the_privileged),
#undef T
	};
	return cmocka_run_group_tests_name("engine_quota", tests, NULL, NULL);
}
