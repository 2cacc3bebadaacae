/* SPDX-License-Identifier: MIT */
/*
 * Node permissions as the engine applies them to requests: inheritance on
 * creation, the owner's rights, owner changes, error hiding (EACCES instead
 * of ENOENT where existence must not leak) and relative paths. Every
 * expectation here was checked against C xenstored 4.17 run under a fake
 * hypervisor, with a ring guest as the unprivileged domain.
 */
#include "engine_fixture.h"

/* A home for domain 3 with @perms, made by the privileged connection. */
static void home(struct ef_conn *p, const char *perms)
{
	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", perms), "OK");
}

static void test_an_unprivileged_creator_owns_its_nodes_and_inherits_the_rest(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0), *h = ef_conn(f, 5, 0),
		       *o = ef_conn(f, 7, 0);

	home(p, "n0 b3 r5");
	assert_string_equal(ef_write(g, "a/b", "v"), "OK");
	assert_string_equal(ef_perms(g, "a"), "n3 b3 r5");
	assert_string_equal(ef_perms(g, "a/b"), "n3 b3 r5");
	/* The privileged creator keeps the parent's owner. */
	assert_string_equal(ef_write(p, "/local/domain/3/a/p", "v"), "OK");
	assert_string_equal(ef_perms(p, "/local/domain/3/a/p"), "n3 b3 r5");
	/* Domain 5 reads, domain 7 gets the owner's "n". */
	assert_string_equal(ef_read(h, "/local/domain/3/a/b"), "v");
	assert_string_equal(ef_write(h, "/local/domain/3/a/b", "x"), "EACCES");
	assert_string_equal(ef_read(o, "/local/domain/3/a/b"), "EACCES");
	assert_string_equal(ef_read(g, "a/b"), "v");
}

static void test_the_owner_has_every_right_whatever_its_letter(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	home(p, "b3");
	assert_string_equal(ef_write(p, "/local/domain/3/own", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3/own", "n3"), "OK");
	assert_string_equal(ef_read(g, "own"), "v");
	assert_string_equal(ef_write(g, "own", "w"), "OK");
	assert_string_equal(ef_setperms(g, "own", "r3 b5"), "OK");
	assert_string_equal(ef_perms(g, "own"), "r3 b5");
	assert_string_equal(ef_dir(g, "own"), "");
}

static void test_only_the_privileged_change_an_owner(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	home(p, "b3");
	assert_string_equal(ef_write(g, "own", "v"), "OK");
	assert_string_equal(ef_setperms(g, "own", "n5"), "EPERM");
	assert_string_equal(ef_perms(g, "own"), "b3");
	assert_string_equal(ef_setperms(p, "/local/domain/3/own", "n5"), "OK");
	/* No longer the owner: not even its own old node. */
	assert_string_equal(ef_setperms(g, "own", "n3"), "EACCES");
	assert_string_equal(ef_read(g, "own"), "EACCES");
	assert_string_equal(ef_perms(p, "/local/domain/3/own"), "n5");
}

static void test_write_permission_does_not_allow_changing_permissions(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_write(p, "/pub/x", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/pub", "r0"), "OK");
	assert_string_equal(ef_setperms(p, "/pub/x", "n0 w3"), "OK");
	assert_string_equal(ef_setperms(g, "/pub/x", "n0 w3"), "EACCES");
	/* Write-only: written and removed, never read. */
	assert_string_equal(ef_write(g, "/pub/x", "new"), "OK");
	assert_string_equal(ef_read(g, "/pub/x"), "EACCES");
	assert_string_equal(ef_read(p, "/pub/x"), "new");
	assert_string_equal(ef_rm(g, "/pub/x"), "OK");
	assert_string_equal(ef_read(p, "/pub/x"), "ENOENT");
}

/*
 * The matrix 4.17 answers for domain 3, with /priv "n0" (hidden), /pub
 * "r0" (readable, not writable) and /pub/x "n0".
 */
static void test_errors_do_not_reveal_what_cannot_be_read(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_write(p, "/priv/here", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/priv", "n0"), "OK");
	assert_string_equal(ef_write(p, "/pub/x", "v"), "OK");
	assert_string_equal(ef_setperms(p, "/pub", "r0"), "OK");
	assert_string_equal(ef_setperms(p, "/pub/x", "n0"), "OK");

	assert_string_equal(ef_read(g, "/pub/x"), "EACCES");
	assert_string_equal(ef_dir(g, "/pub/x"), "EACCES");
	assert_string_equal(ef_perms(g, "/pub/x"), "EACCES");
	assert_string_equal(ef_read(g, "/pub/y"), "ENOENT");
	assert_string_equal(ef_read(g, "/pub/y/z"), "ENOENT");
	assert_string_equal(ef_read(g, "/priv/y"), "EACCES");
	/* An existing and a missing node under /priv look the same. */
	assert_string_equal(ef_read(g, "/priv/here"), "EACCES");
	assert_string_equal(ef_dir(g, "/pub"), "x");
	assert_string_equal(ef_write(g, "/pub/new", "v"), "EACCES");
	assert_string_equal(ef_mkdir(g, "/pub/new"), "EACCES");
	assert_string_equal(ef_mkdir(g, "/pub"), "EACCES");
	assert_string_equal(ef_rm(g, "/priv/zz"), "EACCES");
	assert_string_equal(ef_rm(g, "/pub/x/zz"), "EACCES");
	assert_string_equal(ef_rm(g, "/nope/deeper"), "EACCES");
	assert_string_equal(ef_setperms(g, "/priv/zz", "b3"), "EACCES");
}

/*
 * 4.17 hides a missing node from a writer by the write permission of the
 * nearest ancestor (errno_from_parents() with the permission asked for):
 * removing a missing child of a read-only node is EACCES, not OK.
 */
static void test_missing_nodes_below_a_read_only_node_are_not_writable(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/pub"), "OK");
	assert_string_equal(ef_setperms(p, "/pub", "r0"), "OK");
	assert_string_equal(ef_rm(g, "/pub/zz"), "EACCES");
	assert_string_equal(ef_setperms(g, "/pub/zz", "b3"), "EACCES");
	assert_string_equal(ef_setperms(g, "/pub/zz/deeper", "b3"), "EACCES");
}

static void test_relative_paths_are_below_the_domain_home(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	home(p, "b3");
	assert_string_equal(ef_write(g, "dir/x", "v"), "OK");
	assert_string_equal(ef_read(p, "/local/domain/3/dir/x"), "v");
	assert_string_equal(ef_dir(g, "dir"), "x");
	assert_string_equal(ef_perms(g, "dir/x"), "b3");
	assert_string_equal(ef_rm(g, "dir"), "OK");
	assert_string_equal(ef_read(p, "/local/domain/3/dir"), "ENOENT");
	/* The empty relative path is no path (4.17: EINVAL). */
	assert_string_equal(ef_read(g, ""), "EINVAL");
	assert_string_equal(ef_dir(g, ""), "EINVAL");
	/* The privileged socket's relative paths are dom0's. */
	assert_string_equal(ef_write(p, "rel", "0"), "OK");
	assert_string_equal(ef_read(p, "/local/domain/0/rel"), "0");
}

static void test_permissions_lists_are_checked(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_write(p, "/n", "v"), "OK");
	assert_string_equal(ef_call(p, XSD_SET_PERMS, 0, "/n"), "EINVAL");
	assert_string_equal(ef_setperms(p, "/n", "x3"), "EINVAL");
	assert_string_equal(ef_setperms(p, "/n", "r"), "EINVAL");
	assert_string_equal(ef_setperms(p, "/n", "b0 q1"), "EINVAL");
	assert_string_equal(ef_setperms(p, "/missing", "b0"), "ENOENT");
	assert_string_equal(ef_perms(p, "/n"), "n0");
	/* Unterminated SET_PERMS payloads are refused whole. */
	ef_req(p, XSD_SET_PERMS, 0, "/n\0b0", 5);
	assert_string_equal(ef_text(p, &p->last), "EINVAL");
	assert_string_equal(ef_setperms(p, "/n", "b0 r1 w2 n3"), "OK");
	assert_string_equal(ef_perms(p, "/n"), "b0 r1 w2 n3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_an_unprivileged_creator_owns_its_nodes_and_inherits_the_rest),
		T(test_the_owner_has_every_right_whatever_its_letter),
		T(test_only_the_privileged_change_an_owner),
		T(test_write_permission_does_not_allow_changing_permissions),
		T(test_errors_do_not_reveal_what_cannot_be_read),
		T(test_missing_nodes_below_a_read_only_node_are_not_writable),
		T(test_relative_paths_are_below_the_domain_home),
		T(test_permissions_lists_are_checked),
#undef T
	};
	return cmocka_run_group_tests_name("engine_perms", tests, NULL, NULL);
}
