/* SPDX-License-Identifier: MIT */
/*
 * Write rate limiting as C xenstored 4.17 does it: only while some
 * transaction is open, only for unprivileged domains, a burst of writes
 * and then a wait proportional to the debt (xsd_conn_throttle_ms).
 */
#include "engine_fixture.h"

static int setup_wrl(void **state)
{
	struct xsd_engine_opts opts;
	ef_default_opts(&opts);
	opts.wrl_rate = 200; /* C xenstored's defaults */
	opts.wrl_burst = 10;
	struct ef_fixture *f = ef_new(&opts);
	if (!f)
		return -1;
	*state = f;
	return 0;
}

static struct ef_conn *guest(struct ef_fixture *f, unsigned int domid)
{
	char path[64], perms[32];
	struct ef_conn *p = ef_priv(f);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	snprintf(perms, sizeof(perms), "b%u", domid);
	assert_string_equal(ef_mkdir(p, path), "OK");
	assert_string_equal(ef_setperms(p, path, perms), "OK");
	return ef_conn(f, domid, 0);
}

static void test_no_limit_without_open_transactions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = guest(f, 3);
	for (int i = 0; i < 50; i++)
		assert_string_equal(ef_write(g, "k", i % 2 ? "a" : "b"), "OK");
	assert_int_equal(xsd_conn_throttle_ms(g->c), 0);
}

static void test_writes_beyond_the_burst_wait_while_a_transaction_is_open(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = guest(f, 3), *other = guest(f, 4), *p = ef_priv(f);
	uint32_t tx = ef_txn_start(other);
	assert_true(tx != 0);
	for (int i = 0; i < 12; i++)
		assert_string_equal(ef_write(g, "k", i % 2 ? "a" : "b"), "OK");
	/* 12 writes against a burst of 10 at 200/s: about 10 ms of debt. */
	unsigned int ms = xsd_conn_throttle_ms(g->c);
	assert_true(ms >= 1 && ms <= 15);
	/* The privileged domain is never limited. */
	for (int i = 0; i < 50; i++)
		assert_string_equal(ef_write(p, "/x", i % 2 ? "a" : "b"), "OK");
	assert_int_equal(xsd_conn_throttle_ms(p->c), 0);
	assert_string_equal(ef_txn_end(other, tx, false), "OK");
}

static void test_a_transaction_commit_debits_its_writes_when_others_are_open(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *g = guest(f, 3), *other = guest(f, 4);
	uint32_t open = ef_txn_start(other);
	uint32_t tx = ef_txn_start(g);
	char name[16];
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		assert_string_equal(ef_write_tx(g, tx, name, "v"), "OK");
	}
	assert_int_equal(xsd_conn_throttle_ms(g->c), 0); /* writes in a transaction wait for END */
	assert_string_equal(ef_txn_end(g, tx, true), "OK");
	assert_true(xsd_conn_throttle_ms(g->c) > 0);
	assert_string_equal(ef_txn_end(other, open, false), "OK");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_limit_without_open_transactions, setup_wrl,
						ef_teardown),
		cmocka_unit_test_setup_teardown(
			test_writes_beyond_the_burst_wait_while_a_transaction_is_open, setup_wrl,
			ef_teardown),
		cmocka_unit_test_setup_teardown(
			test_a_transaction_commit_debits_its_writes_when_others_are_open, setup_wrl,
			ef_teardown),
	};
	return cmocka_run_group_tests_name("xsd_engine_wrl", tests, NULL, NULL);
}
