/* SPDX-License-Identifier: MIT */
/*
 * Transactions: isolation, commit and abort, conflicts (EAGAIN when
 * something a transaction observed changed; blind writes do not conflict),
 * transaction ids, the ways a transaction ends without END, and the
 * transaction quotas.
 */
#include "engine_fixture.h"

static void test_a_transaction_reads_its_own_writes_and_others_do_not(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/y", "0"), "OK");
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/y", "5"), "OK");
	assert_string_equal(ef_write_tx(p, tx, "/new/deep", "n"), "OK");
	assert_string_equal(ef_read_tx(p, tx, "/y"), "5");
	assert_string_equal(ef_read_tx(p, tx, "/new/deep"), "n");
	assert_string_equal(ef_read(p, "/y"), "0");
	assert_string_equal(ef_read(q, "/y"), "0");
	assert_string_equal(ef_read(q, "/new"), "ENOENT");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_string_equal(ef_read(q, "/y"), "5");
	assert_string_equal(ef_read(q, "/new/deep"), "n");
}

static void test_ending_with_f_discards_the_writes(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_write(p, "/y", "0"), "OK");
	size_t n = ef_ncommits(f);
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/y", "5"), "OK");
	assert_string_equal(ef_call(p, XSD_RM, tx, "/missing-is-fine"), "OK");
	assert_string_equal(ef_txn_end(p, tx, false), "OK");
	assert_string_equal(ef_read(p, "/y"), "0");
	assert_int_equal(ef_ncommits(f), n);
	/* It is gone: a second END does not find it (4.17: ENOENT). */
	assert_string_equal(ef_txn_end(p, tx, false), "ENOENT");
}

static void test_rm_inside_a_transaction_shows_at_commit(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/w/x", "v"), "OK");
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_call(p, XSD_RM, tx, "/w"), "OK");
	assert_string_equal(ef_read_tx(p, tx, "/w/x"), "ENOENT");
	assert_string_equal(ef_read(q, "/w/x"), "v");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_string_equal(ef_read(q, "/w"), "ENOENT");
}

static void test_mkdir_and_set_perms_in_a_transaction_apply_at_commit(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/s", "v"), "OK");
	assert_string_equal(ef_write(q, "/other", "1"), "OK");
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_call(p, XSD_MKDIR, tx, "/m/n"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_PERMS, tx, "/s b3 r5"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_PERMS, tx, "/s"), "b3 r5");
	assert_string_equal(ef_perms(q, "/s"), "n0");
	assert_string_equal(ef_read(q, "/m"), "ENOENT");
	/* An unrelated change meanwhile: the commit is a merge, and holds. */
	assert_string_equal(ef_write(q, "/other", "2"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_string_equal(ef_perms(q, "/s"), "b3 r5");
	assert_string_equal(ef_read(q, "/m/n"), "");
	assert_string_equal(ef_read(q, "/other"), "2");

	/* Permissions changed under a transaction that wrote the node: EAGAIN. */
	tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/s", "mine"), "OK");
	assert_string_equal(ef_setperms(q, "/s", "n0"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");
	assert_string_equal(ef_read(q, "/s"), "v");
}

static void test_disjoint_transactions_both_commit(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/a", "1"), "OK");
	assert_string_equal(ef_write(p, "/b", "1"), "OK");
	assert_string_equal(ef_mkdir(p, "/c"), "OK");
	uint32_t t1 = ef_txn_start(p), t2 = ef_txn_start(q);
	assert_string_equal(ef_read_tx(p, t1, "/a"), "1");
	assert_string_equal(ef_write_tx(p, t1, "/a", "2"), "OK");
	assert_string_equal(ef_write_tx(p, t1, "/c/p", "p"), "OK");
	assert_string_equal(ef_read_tx(q, t2, "/b"), "1");
	assert_string_equal(ef_write_tx(q, t2, "/b", "2"), "OK");
	assert_string_equal(ef_write_tx(q, t2, "/c/q", "q"), "OK");
	assert_string_equal(ef_txn_end(p, t1, true), "OK");
	assert_string_equal(ef_txn_end(q, t2, true), "OK");
	assert_string_equal(ef_read(p, "/a"), "2");
	assert_string_equal(ef_read(p, "/b"), "2");
	assert_string_equal(ef_dir(p, "/c"), "p q");
}

static void test_a_transaction_whose_reads_changed_gets_eagain(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	/* A value it read was rewritten. */
	assert_string_equal(ef_write(p, "/x", "0"), "OK");
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_read_tx(p, tx, "/x"), "0");
	assert_string_equal(ef_write_tx(p, tx, "/out", "from 0"), "OK");
	assert_string_equal(ef_write(q, "/x", "1"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");
	assert_string_equal(ef_read(p, "/out"), "ENOENT");

	/* A node it found missing was created. */
	tx = ef_txn_start(p);
	assert_string_equal(ef_read_tx(p, tx, "/nx"), "ENOENT");
	assert_string_equal(ef_write_tx(p, tx, "/out", "v"), "OK");
	assert_string_equal(ef_write(q, "/nx", "v"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");

	/* A node it read was removed. */
	tx = ef_txn_start(p);
	assert_string_equal(ef_read_tx(p, tx, "/x"), "1");
	assert_string_equal(ef_write_tx(p, tx, "/out", "v"), "OK");
	assert_string_equal(ef_rm(q, "/x"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");

	/* A node it writes was removed with its parent meanwhile. */
	assert_string_equal(ef_write(p, "/w/x", "v"), "OK");
	tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/w/x", "mine"), "OK");
	assert_string_equal(ef_rm(q, "/w"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");
	assert_string_equal(ef_read(p, "/w"), "ENOENT");
	assert_string_equal(ef_read(p, "/out"), "ENOENT");
}

/*
 * The engine's rule: a node written but never read does not conflict, the
 * transactions serialize in commit order. (C xenstored 4.17 answers EAGAIN
 * to the second: it records a write as an access to the node.)
 */
static void test_blind_writes_to_one_node_both_commit_and_the_last_wins(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/b", "0"), "OK");
	uint32_t t1 = ef_txn_start(p), t2 = ef_txn_start(q);
	assert_string_equal(ef_write_tx(p, t1, "/b", "1"), "OK");
	assert_string_equal(ef_write_tx(q, t2, "/b", "2"), "OK");
	assert_string_equal(ef_txn_end(p, t1, true), "OK");
	assert_string_equal(ef_read(p, "/b"), "1");
	assert_string_equal(ef_txn_end(q, t2, true), "OK");
	assert_string_equal(ef_read(p, "/b"), "2");
	/* Against a plain write too. */
	uint32_t t3 = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, t3, "/b", "3"), "OK");
	assert_string_equal(ef_write(q, "/b", "other"), "OK");
	assert_string_equal(ef_txn_end(p, t3, true), "OK");
	assert_string_equal(ef_read(p, "/b"), "3");
}

static void test_a_listed_directory_that_gains_a_child_gets_eagain(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/d/a", ""), "OK");
	uint32_t tx = ef_txn_start(p);
	const char *list = ef_text(p, ef_req(p, XSD_DIRECTORY, tx, "/d", 3));
	assert_string_equal(list, "a");
	assert_string_equal(ef_write_tx(p, tx, "/count", "1"), "OK");
	assert_string_equal(ef_write(q, "/d/b", ""), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");
	assert_string_equal(ef_read(p, "/count"), "ENOENT");

	/* A changed value of a child does not change the list. */
	tx = ef_txn_start(p);
	list = ef_text(p, ef_req(p, XSD_DIRECTORY, tx, "/d", 3));
	assert_string_equal(list, "a b");
	assert_string_equal(ef_write_tx(p, tx, "/count", "2"), "OK");
	assert_string_equal(ef_write(q, "/d/a", "changed"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_string_equal(ef_read(p, "/count"), "2");
}

static void test_transaction_ids_are_checked(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_call(p, XSD_TRANSACTION_START, tx, ""), "EBUSY");
	/* 4.17 looks every id up first, except for WATCH and UNWATCH. */
	assert_string_equal(ef_call(p, XSD_TRANSACTION_START, tx + 100, ""), "ENOENT");
	assert_string_equal(ef_call(p, XSD_GET_DOMAIN_PATH, tx + 100, "1"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_WATCH, tx + 100, "/w t"), "OK");
	assert_string_equal(ef_call(p, XSD_UNWATCH, tx + 100, "/w t"), "OK");
	ef_drain(p);
	assert_string_equal(ef_read_tx(p, tx + 100, "/"), "ENOENT");
	assert_string_equal(ef_write_tx(p, tx + 100, "/z", "v"), "ENOENT");
	assert_string_equal(ef_txn_end(p, tx + 100, true), "ENOENT");
	assert_string_equal(ef_txn_end(p, 0, true), "ENOENT");
	/* Transactions belong to their connection. */
	assert_string_equal(ef_read_tx(q, tx, "/"), "ENOENT");
	assert_string_equal(ef_txn_end(q, tx, true), "ENOENT");
	/* END takes exactly "T" or "F" (4.17: EINVAL). */
	assert_string_equal(ef_call(p, XSD_TRANSACTION_END, tx, "X"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_TRANSACTION_END, tx, ""), "EINVAL");
	ef_req(p, XSD_TRANSACTION_END, tx, "T", 1);
	assert_string_equal(ef_text(p, &p->last), "EINVAL");
	/* START takes one empty string. */
	ef_req(p, XSD_TRANSACTION_START, 0, NULL, 0);
	assert_string_equal(ef_text(p, &p->last), "EINVAL");
	/* Each transaction gets its own id. */
	uint32_t tx2 = ef_txn_start(p);
	assert_int_not_equal(tx, tx2);
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_string_equal(ef_txn_end(p, tx2, false), "OK");
}

static void test_reset_watches_aborts_the_connections_transactions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/r", "v"), "OK");
	assert_string_equal(ef_call(p, XSD_RESET_WATCHES, 0, ""), "OK");
	assert_string_equal(ef_read_tx(p, tx, "/"), "ENOENT");
	assert_string_equal(ef_txn_end(p, tx, true), "ENOENT");
	assert_string_equal(ef_read(p, "/r"), "ENOENT");
}

static void test_closing_a_connection_aborts_its_transactions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "b3"), "OK");
	size_t n = ef_ncommits(f);
	uint32_t tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "x", "v"), "OK");
	ef_txn_start(g);
	const char *use = ef_call(p, XSD_CONTROL, 0, "quota 3");
	assert_non_null(strstr(use, "transactions 2"));
	ef_close(g);
	assert_string_equal(ef_read(p, "/local/domain/3/x"), "ENOENT");
	assert_int_equal(ef_ncommits(f), n);
	use = ef_call(p, XSD_CONTROL, 0, "quota 3");
	assert_non_null(strstr(use, "transactions 0"));
}

static void test_the_transaction_quota_limits_open_transactions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);
	uint32_t ids[10];

	for (int i = 0; i < 10; i++)
		ids[i] = ef_txn_start(g);
	assert_string_equal(ef_call(g, XSD_TRANSACTION_START, 0, ""), "ENOSPC");
	assert_string_equal(ef_txn_end(g, ids[3], false), "OK");
	ef_txn_start(g);
	assert_string_equal(ef_call(g, XSD_TRANSACTION_START, 0, ""), "ENOSPC");
	/* The privileged have no such limit. */
	for (int i = 0; i < 20; i++)
		ef_txn_start(p);
	/* Per domain, as set by SET_QUOTA. */
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "3 transactions 12"), "OK");
	ef_txn_start(g);
	ef_txn_start(g);
	assert_string_equal(ef_call(g, XSD_TRANSACTION_START, 0, ""), "ENOSPC");
}

/*
 * transaction-nodes: once a transaction touches one node too many, the
 * request fails with ENOSPC and the transaction can no longer commit
 * (4.17 answers END "T" with ENOMEM then; the write never happens).
 */
static void test_the_transaction_nodes_quota_fails_the_transaction(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);
	char name[16];
	int hit = -1;

	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "b3"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "transaction-nodes 5"), "OK");
	uint32_t tx = ef_txn_start(g);
	for (int i = 0; i < 8 && hit < 0; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if (strcmp(ef_write_tx(g, tx, name, "v"), "OK")) {
			assert_string_equal(ef_text(g, &g->last), "ENOSPC");
			hit = i;
		}
	}
	assert_true(hit > 0 && hit <= 5);
	const char *end = ef_txn_end(g, tx, true);
	assert_true(!strcmp(end, "ENOSPC") || !strcmp(end, "ENOMEM"));
	assert_string_equal(ef_read(p, "/local/domain/3/t0"), "ENOENT");
	/* Aborting such a transaction is fine, and the quota is per transaction. */
	tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "t0", "v"), "OK");
	assert_string_equal(ef_txn_end(g, tx, true), "OK");
	assert_string_equal(ef_read(p, "/local/domain/3/t0"), "v");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_a_transaction_reads_its_own_writes_and_others_do_not),
		T(test_ending_with_f_discards_the_writes),
		T(test_rm_inside_a_transaction_shows_at_commit),
		T(test_mkdir_and_set_perms_in_a_transaction_apply_at_commit),
		T(test_disjoint_transactions_both_commit),
		T(test_a_transaction_whose_reads_changed_gets_eagain),
		T(test_blind_writes_to_one_node_both_commit_and_the_last_wins),
		T(test_a_listed_directory_that_gains_a_child_gets_eagain),
		T(test_transaction_ids_are_checked),
		T(test_reset_watches_aborts_the_connections_transactions),
		T(test_closing_a_connection_aborts_its_transactions),
		T(test_the_transaction_quota_limits_open_transactions),
		T(test_the_transaction_nodes_quota_fails_the_transaction),
#undef T
	};
	return cmocka_run_group_tests_name("engine_txn", tests, NULL, NULL);
}
