/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for the Xen security advisories about the life of a
 * domain (docs/xsa.md): protocol violations, RELEASE while requests are in
 * flight, nodes left behind by a dead domain (removed by default, re-owned by
 * dom0 with -K), and a reused domid starting from nothing.
 */
#include "vst.h"

#include <errno.h>

#include "xsfixture.h"

#define QUIET_MS 300
#define EVENT_MS 3000

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int setup_keep_orphans(void **state)
{
	static const char *const args[] = { "-K", NULL };
	*state = xsf_start(args);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

/*
 * XSA-325: when a guest broke the protocol, C xenstored dropped the whole
 * domain, firing @releaseDomain for a guest still alive, and never again when
 * it really died. Here only the offending connection goes: the domain stays
 * introduced, reconnects, and @releaseDomain fires once, at RELEASE.
 */
static void test_xsa325_protocol_violation_does_not_end_the_domain(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *w = xsf_open_path(f->sock);
	assert_non_null(w);
	assert_true(xs_watch(w, "@releaseDomain", "rel"));
	xsf_drain_watches(w, QUIET_MS);

	struct xst_conn *d7 = xsf_raw_domain(f, 7);
	assert_int_equal(xst_send_lying(d7, XSD_READ, 1, 0, XSD_PAYLOAD_MAX + 1, "/", 2), 0);
	assert_true(xst_wait_closed(d7, EVENT_MS));
	xst_close(d7);
	assert_true(xsf_no_watch(w, QUIET_MS));
	assert_true(xs_is_domain_introduced(f->h, 7));

	d7 = xsf_raw_domain(f, 7);
	assert_int_equal(xst_requestv(d7, XSD_GET_DOMAIN_PATH, 0, NULL, "7", NULL), 0);
	assert_true(xs_release_domain(f->h, 7));
	assert_true(xsf_expect_watch(w, "@releaseDomain", EVENT_MS));
	assert_true(xst_wait_closed(d7, EVENT_MS));
	xst_close(d7);
	xs_close(w);
}

/*
 * XSA-425: RELEASE freed a connection the daemon's main loop was about to
 * use. Release a domain whose several connections all have requests queued,
 * and a stub domain's target, while another domain keeps talking.
 */
static void test_xsa425_release_during_traffic_is_safe(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 7);
	xsf_make_home(f, 8);
	struct xst_conn *d7[3], *d8 = xsf_raw_domain(f, 8);
	for (int i = 0; i < 3; i++) {
		d7[i] = xsf_raw_domain(f, 7);
		xst_flood(d7[i], XSD_READ, "data", 5, 2000, 200, 1000);
	}
	xst_flood(d8, XSD_READ, "data", 5, 200, 200, 1000);
	assert_true(xs_release_domain(f->h, 7));
	for (int i = 0; i < 3; i++) {
		assert_true(xst_wait_closed(d7[i], 10000));
		xst_close(d7[i]);
	}
	/* Domain 8 is still served once its backlog is read. */
	xst_drain(d8, QUIET_MS);
	assert_int_equal(xst_requestv(d8, XSD_READ, 0, NULL, "data", NULL), 0);

	/* A device-model domain whose target goes away. */
	assert_true(xsf_introduce(f, 9));
	assert_true(xs_set_target(f->h, 8, 9));
	assert_true(xs_release_domain(f->h, 9));
	xst_drain(d8, QUIET_MS);
	assert_int_equal(xst_requestv(d8, XSD_READ, 0, NULL, "data", NULL), 0);
	assert_true(xs_release_domain(f->h, 8));
	assert_true(xst_wait_closed(d8, 10000));
	xst_close(d8);
	assert_true(xsf_alive(f));
}

/* Domain 6 writes into domain 5's shared area and its own home, then dies. */
static void orphan_setup(struct xsf *f)
{
	xsf_make_home(f, 5);
	xsf_make_home(f, 6);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/local/domain/5/data/shared"));
	assert_true(xsf_set_perms(f->h, "/local/domain/5/data/shared", "n5", "b6", NULL));
	struct xs_handle *d6 = xsf_open_domain(f, 6);
	assert_non_null(d6);
	assert_true(xsf_write(d6, "/local/domain/5/data/shared/from6/a", "1"));
	assert_true(xsf_write(d6, "/local/domain/5/data/shared/from6/b", "2"));
	assert_true(xsf_write(d6, "data/own", "3"));
	xs_close(d6);
	assert_true(xs_release_domain(f->h, 6));
}

/*
 * XSA-419: nodes a domain created outside its home outlived it (owned by
 * dom0 since XSA-322, beyond any quota), so cooperating guests could grow
 * the store without bound by rebooting. By default they are removed with
 * the domain.
 */
static void test_xsa419_nodes_of_a_dead_domain_are_removed(void **state)
{
	struct xsf *f = *state;
	orphan_setup(f);
	assert_null(xsf_read(f->h, "/local/domain/5/data/shared/from6"));
	assert_int_equal(errno, ENOENT);
	assert_null(xsf_read(f->h, "/local/domain/6/data"));
	assert_int_equal(errno, ENOENT);
	/* What belongs to others stays. */
	char *v = xsf_read(f->h, "/local/domain/5/data/shared");
	assert_non_null(v);
	free(v);
	v = xsf_read(f->h, "/local/domain/6");
	assert_non_null(v);
	free(v);

	/* Round after round, a rebooting guest leaves nothing behind. */
	for (int round = 0; round < 3; round++) {
		assert_true(xsf_introduce(f, 6));
		assert_int_equal(xsf_set_quota(f, 6, "nodes", 5), 0);
		struct xs_handle *d6 = xsf_open_domain(f, 6);
		assert_non_null(d6);
		char path[96];
		for (int i = 0; i < 10; i++) {
			snprintf(path, sizeof(path), "/local/domain/5/data/shared/r%d-%d", round, i);
			if (!xsf_write(d6, path, "x"))
				break;
		}
		xs_close(d6);
		assert_true(xs_release_domain(f->h, 6));
		unsigned int n = 99;
		char **dir = xs_directory(f->h, XBT_NULL, "/local/domain/5/data/shared", &n);
		assert_non_null(dir);
		assert_int_equal(n, 0);
		free(dir);
	}
}

/* XSA-419 with -K: the nodes stay, owned by dom0, out of the new domain's reach. */
static void test_xsa419_keep_orphans_reowns_to_dom0(void **state)
{
	struct xsf *f = *state;
	orphan_setup(f);
	unsigned int n = 0;
	struct xs_permissions *p = xs_get_permissions(f->h, XBT_NULL,
						     "/local/domain/5/data/shared/from6/a", &n);
	assert_non_null(p);
	assert_int_equal(p[0].id, 0);
	free(p);
	p = xs_get_permissions(f->h, XBT_NULL, "/local/domain/6/data", &n);
	assert_non_null(p);
	assert_int_equal(p[0].id, 0);
	free(p);

	/* A new domain 6 does not get them back (XSA-322). */
	struct xs_handle *d6 = xsf_open_domain(f, 6);
	assert_non_null(d6);
	assert_false(xsf_write(d6, "/local/domain/6/data/own", "mine?"));
	assert_int_equal(errno, EACCES);
	xs_close(d6);
}

struct usage {
	int nodes, watches, txns;
};

/* Fill domain 5's quotas (set small) from one connection and report what fit. */
static struct usage fill_quotas(struct xsf *f, struct xs_handle **keep)
{
	struct usage u = { 0 };
	assert_true(xsf_introduce(f, 5));
	/* Grants to an earlier domain 5 do not carry over (XSA-322): grant anew. */
	assert_true(xsf_set_perms(f->h, "/pool", "n0", "b5", NULL));
	assert_int_equal(xsf_set_quota(f, 5, "nodes", 6), 0);
	assert_int_equal(xsf_set_quota(f, 5, "watches", 3), 0);
	assert_int_equal(xsf_set_quota(f, 5, "transactions", 2), 0);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	char name[64];
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/pool/n%d", i);
		if (!xsf_write(d5, name, "x")) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
		u.nodes++;
	}
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		if (!xs_watch(d5, "/pool", name))
			break;
		u.watches++;
	}
	for (int i = 0; i < 20; i++) {
		if (xs_transaction_start(d5) == XBT_NULL)
			break;
		u.txns++;
	}
	*keep = d5;
	return u;
}

/*
 * XSA-483: oxenstored kept a dead domain's usage counts, so each reuse of
 * the domid had less quota until the guest could not work at all. A domid
 * reintroduced after RELEASE starts with zero usage and no watches.
 */
static void test_xsa483_reused_domid_starts_fresh(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/pool"));
	struct usage first = { 0 };
	for (int round = 0; round < 3; round++) {
		struct xs_handle *d5 = NULL;
		xsf_make_home(f, 5);
		struct usage u = fill_quotas(f, &d5);
		print_message("round %d: nodes %d watches %d transactions %d\n", round, u.nodes,
			      u.watches, u.txns);
		assert_in_range(u.nodes, 4, 5);
		assert_in_range(u.watches, 3, 4);
		assert_in_range(u.txns, 2, 3);
		if (round == 0)
			first = u;
		assert_int_equal(u.nodes, first.nodes);
		assert_int_equal(u.watches, first.watches);
		assert_int_equal(u.txns, first.txns);
		/* Release with everything still open. */
		assert_true(xs_release_domain(f->h, 5));
		xs_close(d5);
		unsigned int n = 99;
		char **dir = xs_directory(f->h, XBT_NULL, "/pool", &n);
		assert_non_null(dir);
		assert_int_equal(n, 0);
		free(dir);
	}
	/* A fresh connection of the reused domid has no watches firing. */
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xsf_write(f->h, "/pool/after", "x"));
	assert_true(xsf_no_watch(d5, QUIET_MS));
	xs_close(d5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_xsa325_protocol_violation_does_not_end_the_domain),
		T(test_xsa425_release_during_traffic_is_safe),
		T(test_xsa419_nodes_of_a_dead_domain_are_removed),
		cmocka_unit_test_setup_teardown(test_xsa419_keep_orphans_reowns_to_dom0,
						setup_keep_orphans, teardown),
		T(test_xsa483_reused_domid_starts_fresh),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_xsa_domain", tests, NULL, NULL);
}
