/* SPDX-License-Identifier: MIT */
/*
 * vs_repo_resolve_rev(): revisions as git names them — an id, a prefix, a
 * branch, "" or "HEAD" for a given branch, each followed by ~N.
 */
#include "vst.h"

/* Three commits on main, one on side; ids[0] is the oldest. */
struct fixture {
	struct vs_repo *repo;
	struct vs_oid ids[3], side;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts o = { .author = &sig, .message = "c" };
	struct vs_tree *t = NULL;

	f->repo = vst_repo_open("mem", NULL);
	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (int i = 0; i < 3; i++) {
		struct vs_tree *next;
		char v[2] = { (char)('a' + i), 0 };
		assert_vs_ok(vs_tree_set(&next, t, "k", v, 1));
		vs_tree_free(t);
		t = next;
		assert_vs_ok(vs_branch_commit(&f->ids[i], f->repo, "main", NULL, t, &o));
	}
	assert_vs_ok(vs_branch_create(f->repo, "side", &f->ids[0]));
	f->side = f->ids[0];
	vs_tree_free(t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vs_repo_close(f->repo);
	free(f);
	return 0;
}

static void test_head_branch_and_ancestors(void **state)
{
	struct fixture *f = *state;
	struct vs_oid id;

	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, "", "main"));
	assert_true(vs_oid_equal(&id, &f->ids[2]));
	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, "HEAD~1", "main"));
	assert_true(vs_oid_equal(&id, &f->ids[1]));
	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, "main~", "other"));
	assert_true(vs_oid_equal(&id, &f->ids[1]));
	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, "main~2", "main"));
	assert_true(vs_oid_equal(&id, &f->ids[0]));
	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, "HEAD", "side"));
	assert_true(vs_oid_equal(&id, &f->side));

	char hex[VS_OID_MAXHEXSZ + 1], spec[VS_OID_MAXHEXSZ + 8];
	vs_oid_tostr(hex, &f->ids[2]);
	snprintf(spec, sizeof(spec), "%s~1", hex);
	assert_vs_ok(vs_repo_resolve_rev(&id, f->repo, spec, "main"));
	assert_true(vs_oid_equal(&id, &f->ids[1]));
}

static void test_bad_revisions_are_refused(void **state)
{
	struct fixture *f = *state;
	struct vs_oid id;

	assert_vs_err(VS_ENOENT, vs_repo_resolve_rev(&id, f->repo, "main~3", "main"));
	assert_vs_err(VS_EINVAL, vs_repo_resolve_rev(&id, f->repo, "main~x", "main"));
	assert_vs_err(VS_EINVAL, vs_repo_resolve_rev(&id, f->repo, "main~-1", "main"));
	assert_vs_err(VS_ENOENT, vs_repo_resolve_rev(&id, f->repo, "nosuch", "main"));
	assert_vs_err(VS_ENOENT, vs_repo_resolve_rev(&id, f->repo, "", "nosuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_head_branch_and_ancestors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_revisions_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("store_history", tests, NULL, NULL);
}
