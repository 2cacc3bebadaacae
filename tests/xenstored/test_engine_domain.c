/* SPDX-License-Identifier: MIT */
/*
 * Domains: INTRODUCE, RELEASE, RESUME, IS_DOMAIN_INTRODUCED,
 * GET_DOMAIN_PATH, SET_TARGET, GET/SET_FEATURE, the domain hooks, and what
 * a domain leaves behind when it goes: its nodes removed (or kept and given
 * to the privileged domain with keep_orphans), its permission entries made
 * inert, its watches and transactions dropped, and a fresh start when its
 * id comes back. Reference answers are C xenstored 4.17's where it has the
 * request (GET/SET_FEATURE came later).
 */
#include "engine_fixture.h"

/* Introduce @domid and give it a home only it (and the privileged) may use. */
static void introduce(struct ef_conn *p, unsigned int domid)
{
	char args[64], home[64], perm[16];
	snprintf(args, sizeof(args), "%u 0 %u", domid, domid + 100);
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, args), "OK");
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	snprintf(perm, sizeof(perm), "n%u", domid);
	assert_string_equal(ef_mkdir(p, home), "OK");
	assert_string_equal(ef_setperms(p, home, perm), "OK");
}

static void test_introduce_calls_the_hook_and_marks_the_domain(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "F");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 -2 7"), "OK");
	assert_int_equal(f->nintroduced, 1);
	assert_int_equal(f->introduced[0], 5);
	assert_true(f->introduced_gfn[0] == (uint64_t)-2); /* sent signed by libxenstore */
	assert_int_equal(f->introduced_evtchn[0], 7);
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "T");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "0"), "T");
	/* Again with the same page: fine. */
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 -2 9"), "OK");
	/* Malformed, or not from the privileged. */
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "x 0 1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 y 1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "99999 0 1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0 0"), "EINVAL");
	assert_string_equal(ef_call(g, XSD_INTRODUCE, 0, "6 0 1"), "EACCES");
	assert_string_equal(ef_call(g, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "EACCES");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "6"), "F");
}

static void test_a_failing_introduce_hook_fails_the_request(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	f->introduce_rc = VS_ENOENT;
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "F");
	f->introduce_rc = 0;
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "T");
}

static void test_release_removes_the_domain_and_what_it_owns(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *w = ef_priv(f);

	introduce(p, 5);
	struct ef_conn *g = ef_conn(f, 5, 0);
	assert_string_equal(ef_write(g, "a/b", "v"), "OK");
	assert_string_equal(ef_write(p, "/owned5", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/owned5", "b5"), "OK");
	assert_string_equal(ef_write(p, "/other", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/other", "n0 r5"), "OK");
	assert_string_equal(ef_read(g, "/other"), "v");
	assert_string_equal(ef_watch(g, "/other", "gw"), "OK");
	uint32_t tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "t", "v"), "OK");
	assert_string_equal(ef_watch(w, "/", "all"), "OK");
	ef_drain(w);
	ef_drain(g);

	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "OK");
	assert_int_equal(f->nreleased, 1);
	assert_int_equal(f->released[0], 5);
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "F");
	assert_string_equal(ef_read(p, "/local/domain/5"), "ENOENT");
	assert_string_equal(ef_read(p, "/owned5"), "ENOENT");
	assert_string_equal(ef_dir(p, "/local/domain"), "");
	const char *ev = ef_event(w);
	assert_non_null(ev);
	/* 4.17 fires "/local/domain/5" and "/owned5" for a watch on "/". */
	assert_true(!strcmp(ev, "/local/domain/5 all") || !strcmp(ev, "/owned5 all"));
	ef_drain(w);
	/* Its entry in others' permissions is still listed, and inert. */
	assert_string_equal(ef_perms(p, "/other"), "n0 r5");
	/* Its connection's watches and transactions went with it. */
	assert_string_equal(ef_write(p, "/other", "changed"), "OK");
	assert_int_equal(ef_nevents(g), 0);
	assert_string_equal(ef_txn_end(g, tx, true), "ENOENT");
	/* Unknown now. */
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "9"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "0"), "EINVAL");
	assert_string_equal(ef_call(g, XSD_RELEASE, 0, "5"), "EACCES");
}

static void test_a_reused_domain_id_starts_from_nothing(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	introduce(p, 5);
	assert_string_equal(ef_write(p, "/other", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/other", "n0 r5"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_QUOTA, 0, "5 nodes 3"), "OK");
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_FEATURE, 0, "5 4"), "OK");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	struct ef_conn *g = ef_conn(f, 5, 0);
	/* The old entry does not grant the new domain 5 anything (4.17: EACCES). */
	assert_string_equal(ef_read(g, "/other"), "EACCES");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "5 nodes"), "1000");
	assert_string_equal(ef_call(p, XSD_GET_FEATURE, 0, "5"), "4");
	/* Permissions set now name the new domain. */
	assert_string_equal(ef_setperms(p, "/other", "n0 r5"), "OK");
	assert_string_equal(ef_read(g, "/other"), "v");
}

static void test_keep_orphans_gives_the_nodes_to_the_privileged(void **state)
{
	struct xsd_engine_opts o;
	ef_default_opts(&o);
	o.keep_orphans = true;
	struct ef_fixture *f = ef_new(&o);
	struct ef_conn *p = ef_priv(f);

	introduce(p, 5);
	struct ef_conn *g = ef_conn(f, 5, 0);
	assert_string_equal(ef_write(g, "a", "v"), "OK");
	assert_string_equal(ef_setperms(g, "a", "r5 b7"), "OK");
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "OK");
	assert_string_equal(ef_read(p, "/local/domain/5/a"), "v");
	assert_string_equal(ef_perms(p, "/local/domain/5"), "n0");
	assert_string_equal(ef_perms(p, "/local/domain/5/a"), "r0 b7");
	/* A new domain 5 is not their owner; domain 7's entry still holds. */
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	struct ef_conn *again = ef_conn(f, 5, 0), *seven = ef_conn(f, 7, 0);
	assert_string_equal(ef_write(again, "a", "w"), "EACCES");
	assert_string_equal(ef_write(seven, "/local/domain/5/a", "7"), "OK");
	ef_free(f);
}

static void test_set_target_gives_a_domain_the_rights_of_its_target(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	introduce(p, 5);
	introduce(p, 6);
	struct ef_conn *dm = ef_conn(f, 5, 0);
	assert_string_equal(ef_write(p, "/local/domain/6/x", "v"), "OK");
	assert_string_equal(ef_read(dm, "/local/domain/6/x"), "EACCES");
	assert_string_equal(ef_call(dm, XSD_SET_TARGET, 0, "5 6"), "EACCES");
	assert_string_equal(ef_call(p, XSD_SET_TARGET, 0, "5 9"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_SET_TARGET, 0, "9 5"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_SET_TARGET, 0, "5"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_TARGET, 0, "5 6"), "OK");
	assert_string_equal(ef_read(dm, "/local/domain/6/x"), "v");
	assert_string_equal(ef_write(dm, "/local/domain/6/x", "dm"), "OK");
	assert_string_equal(ef_write(dm, "/local/domain/6/new", "n"), "OK");
	/* Its own home stays its own; others stay closed. */
	assert_string_equal(ef_write(dm, "mine", "m"), "OK");
	assert_string_equal(ef_read(dm, "/tool/xenstored"), "EACCES");
	/* The target gone, the right goes with it. */
	assert_string_equal(ef_write(p, "/keep6", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/keep6", "n6"), "OK");
	assert_string_equal(ef_read(dm, "/keep6"), "v");
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "6"), "OK");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0 1"), "OK");
	assert_string_equal(ef_write(p, "/keep6", "w"), "OK");
	assert_string_equal(ef_setperms(p, "/keep6", "n6"), "OK");
	assert_string_equal(ef_read(dm, "/keep6"), "EACCES");
}

static void test_resume_and_domain_paths(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_call(p, XSD_RESUME, 0, "5"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_string_equal(ef_call(p, XSD_RESUME, 0, "5"), "OK");
	assert_string_equal(ef_call(g, XSD_RESUME, 0, "5"), "EACCES");
	assert_string_equal(ef_call(g, XSD_GET_DOMAIN_PATH, 0, "7"), "/local/domain/7");
	assert_string_equal(ef_call(p, XSD_GET_DOMAIN_PATH, 0, "0"), "/local/domain/0");
	assert_string_equal(ef_call(p, XSD_GET_DOMAIN_PATH, 0, NULL), "EINVAL");
	assert_string_equal(ef_call(p, XSD_GET_DOMAIN_PATH, 0, "1 2"), "EINVAL");
}

static void test_features_are_set_before_introduction(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	const char *all = ef_call(g, XSD_GET_FEATURE, 0, NULL);
	assert_false(ef_failed(g));
	char *mine = strdup(all);
	assert_string_equal(ef_call(p, XSD_GET_FEATURE, 0, "5"), mine);
	assert_string_equal(ef_call(g, XSD_GET_FEATURE, 0, "5"), "EACCES");
	assert_string_equal(ef_call(g, XSD_SET_FEATURE, 0, "3 0"), "EACCES");
	assert_string_equal(ef_call(p, XSD_SET_FEATURE, 0, "5 4"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_FEATURE, 0, "5"), "4");
	assert_string_equal(ef_call(p, XSD_SET_FEATURE, 0, "5 1024"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_SET_FEATURE, 0, "5"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_FEATURE, 0, "5 0"), "EBUSY");
	assert_string_equal(ef_call(p, XSD_GET_FEATURE, 0, "5"), "4");
	struct ef_conn *h = ef_conn(f, 5, 0);
	assert_string_equal(ef_call(h, XSD_GET_FEATURE, 0, NULL), "4");
	free(mine);
}

static void test_a_domain_gone_without_release_is_cleaned_up(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	introduce(p, 5);
	assert_string_equal(ef_watch(p, "@releaseDomain", "out"), "OK");
	ef_drain(p);
	/* Not introduced: nothing happens. */
	xsd_engine_domain_gone(f->e, 8);
	assert_int_equal(f->nreleased, 0);
	xsd_engine_domain_gone(f->e, 5);
	assert_vs_ok(xsd_engine_flush(f->e));
	assert_int_equal(f->nreleased, 1);
	assert_int_equal(f->released[0], 5);
	assert_string_equal(ef_event(p), "@releaseDomain out");
	assert_string_equal(ef_read(p, "/local/domain/5"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "5"), "F");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_introduce_calls_the_hook_and_marks_the_domain),
		T(test_a_failing_introduce_hook_fails_the_request),
		T(test_release_removes_the_domain_and_what_it_owns),
		T(test_a_reused_domain_id_starts_from_nothing),
		cmocka_unit_test(test_keep_orphans_gives_the_nodes_to_the_privileged),
		T(test_set_target_gives_a_domain_the_rights_of_its_target),
		T(test_resume_and_domain_paths),
		T(test_features_are_set_before_introduction),
		T(test_a_domain_gone_without_release_is_cleaned_up),
#undef T
	};
	return cmocka_run_group_tests_name("engine_domain", tests, NULL, NULL);
}
