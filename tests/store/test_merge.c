/* SPDX-License-Identifier: MIT */
/*
 * Three-way merges: trees entry by entry (disjoint and equal changes,
 * conflicts listed by path, value against subtree, deletions), merges of
 * commits over their lowest common ancestor, vs_branch_merge's up-to-date,
 * fast-forward, merge-commit and conflict outcomes, and merges in split
 * directories of the "vs" format, which read only the nodes that changed.
 * The stock contents merge functions: test_merge_fn.c.
 */
#include "merge_fixture.h"

static void test_merge_disjoint_writes_both_survive(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "a", "1", "dir/x", "1", "gone", "1", NULL);
	struct vs_tree *ours = edit(f->repo, base, "b", "2", "dir/y", "2", "gone", NULL, NULL);
	struct vs_tree *theirs = edit(f->repo, base, "c", "3", "dir/z", "3", "a", "4", NULL);
	struct vs_merge_result r;

	assert_vs_ok(vs_merge_trees(&r, base, ours, theirs, NULL));
	assert_int_equal(r.conflicts.count, 0);
	assert_value(r.tree, "a", "4");
	assert_value(r.tree, "b", "2");
	assert_value(r.tree, "c", "3");
	assert_value(r.tree, "dir/x", "1");
	assert_value(r.tree, "dir/y", "2");
	assert_value(r.tree, "dir/z", "3");
	assert_value(r.tree, "gone", NULL);
	vs_merge_result_dispose(&r);
	assert_null(r.tree);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
}

static void test_merge_one_sided_change_returns_that_side(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "a", "1", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "b/c", "2", NULL);
	struct vs_merge_result r;
	struct vs_oid want;

	assert_vs_ok(vs_merge_trees(&r, base, base, theirs, NULL));
	assert_true(vs_tree_equal(r.tree, theirs));
	assert_vs_ok(vs_tree_id(&want, base));
	assert_true(vs_oid_equal(&r.base, &want));
	vs_merge_result_dispose(&r);
	assert_vs_ok(vs_merge_trees(&r, base, theirs, base, NULL));
	assert_true(vs_tree_equal(r.tree, theirs));
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(theirs);
}

static void test_merge_same_change_on_both_sides_is_clean(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "a", "1", "b", "1", "d/e", "1", NULL);
	struct vs_tree *ours = edit(f->repo, base, "a", "2", "b", NULL, "d/e", "5", "n", "x", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "a", "2", "b", NULL, "d/e", "5", "m", "y",
				      NULL);
	struct vs_merge_result r;

	assert_vs_ok(vs_merge_trees(&r, base, ours, theirs, NULL));
	assert_int_equal(r.conflicts.count, 0);
	assert_value(r.tree, "a", "2");
	assert_value(r.tree, "b", NULL);
	assert_value(r.tree, "d/e", "5");
	assert_value(r.tree, "n", "x");
	assert_value(r.tree, "m", "y");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
}

static void test_merge_conflicting_values_list_every_path_sorted(void **state)
{
	struct fixture *f = *state;
	/* "a-b" sorts before "a/c" although the walk meets directory "a" first. */
	struct vs_tree *base = edit(f->repo, NULL, "z", "0", "a/c", "0", "a-b", "0", "k", "0", NULL);
	struct vs_tree *ours = edit(f->repo, base, "z", "1", "a/c", "1", "a-b", "1", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "z", "2", "a/c", "2", "a-b", "2", "k", "2",
				      "new/both", "t", NULL);
	struct vs_tree *ours2 = edit(f->repo, ours, "new/both", "o", NULL);
	struct vs_merge_result r;

	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, base, ours2, theirs, NULL));
	assert_int_equal(r.conflicts.count, 4);
	assert_string_equal(r.conflicts.strings[0], "a-b");
	assert_string_equal(r.conflicts.strings[1], "a/c");
	assert_string_equal(r.conflicts.strings[2], "new/both");
	assert_string_equal(r.conflicts.strings[3], "z");
	/* Conflicting paths keep our side; the rest of theirs still comes in. */
	assert_non_null(r.tree);
	assert_value(r.tree, "z", "1");
	assert_value(r.tree, "a/c", "1");
	assert_value(r.tree, "new/both", "o");
	assert_value(r.tree, "k", "2");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(ours2);
	vs_tree_free(theirs);
}

static void test_merge_value_against_subtree_conflicts(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "x", "1", "keep", "1", NULL);
	struct vs_tree *ours = edit(f->repo, base, "x", "2", NULL);
	struct vs_tree *t1 = edit(f->repo, base, "x", NULL, NULL);
	struct vs_tree *theirs = edit(f->repo, t1, "x/y", "3", "keep", "3", NULL);
	struct vs_merge_result r;

	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, base, ours, theirs, NULL));
	assert_int_equal(r.conflicts.count, 1);
	assert_string_equal(r.conflicts.strings[0], "x");
	assert_value(r.tree, "x", "2");
	assert_value(r.tree, "keep", "3");
	vs_merge_result_dispose(&r);

	/* Without a base: both added "x", one as a value, one as a subtree. */
	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, NULL, ours, theirs, NULL));
	assert_true(vs_oid_is_null(&r.base));
	assert_int_equal(r.conflicts.count, 2);
	assert_string_equal(r.conflicts.strings[0], "keep");
	assert_string_equal(r.conflicts.strings[1], "x");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(t1);
	vs_tree_free(theirs);
}

static void test_merge_deletions_against_modifications(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "a", "1", "b", "1", "d/x", "1", "d/y", "1", NULL);
	/* Ours deletes "a", "b" and the whole of "d"; theirs changes "a" and "d/x". */
	struct vs_tree *ours = edit(f->repo, base, "a", NULL, "b", NULL, "d", NULL, NULL);
	struct vs_tree *theirs = edit(f->repo, base, "a", "2", "d/x", "2", NULL);
	struct vs_merge_result r;

	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, base, ours, theirs, NULL));
	assert_int_equal(r.conflicts.count, 2);
	assert_string_equal(r.conflicts.strings[0], "a");
	assert_string_equal(r.conflicts.strings[1], "d/x");
	assert_value(r.tree, "a", NULL);
	assert_value(r.tree, "b", NULL);
	assert_value(r.tree, "d/x", NULL);
	assert_value(r.tree, "d/y", NULL);
	vs_merge_result_dispose(&r);

	/* Deleting what the other side left alone is clean. */
	struct vs_tree *theirs2 = edit(f->repo, base, "c", "3", NULL);
	assert_vs_ok(vs_merge_trees(&r, base, ours, theirs2, NULL));
	assert_value(r.tree, "a", NULL);
	assert_value(r.tree, "d/y", NULL);
	assert_value(r.tree, "c", "3");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
	vs_tree_free(theirs2);
}

/*
 * R(a=0) -> C(a=1) -> ours (b=1) and C -> theirs (a=2). Over C, theirs' a=2
 * merges cleanly; over the root R it would conflict.
 */
static void test_merge_commits_use_the_lowest_common_ancestor(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *tr = edit(f->repo, NULL, "a", "0", NULL);
	struct vs_tree *tc = edit(f->repo, tr, "a", "1", NULL);
	struct vs_tree *to = edit(f->repo, tc, "b", "1", NULL);
	struct vs_tree *tt = edit(f->repo, tc, "a", "2", NULL);
	struct vs_oid r = commit(f->repo, tr, 1, NULL, 0);
	struct vs_oid c = commit(f->repo, tc, 2, &r, 1);
	struct vs_oid o = commit(f->repo, to, 3, &c, 1);
	struct vs_oid t = commit(f->repo, tt, 4, &c, 1);
	struct vs_merge_result res;

	assert_vs_ok(vs_merge_commits(&res, f->repo, &o, &t, NULL));
	assert_true(vs_oid_equal(&res.base, &c));
	assert_value(res.tree, "a", "2");
	assert_value(res.tree, "b", "1");
	vs_merge_result_dispose(&res);

	/* No common history: merged over the empty tree, base is the null id. */
	struct vs_oid lone = commit(f->repo, tt, 5, NULL, 0);
	assert_vs_err(VS_ECONFLICT, vs_merge_commits(&res, f->repo, &o, &lone, NULL));
	assert_true(vs_oid_is_null(&res.base));
	assert_int_equal(res.conflicts.count, 1);
	assert_string_equal(res.conflicts.strings[0], "a");
	vs_merge_result_dispose(&res);
	vs_tree_free(tr);
	vs_tree_free(tc);
	vs_tree_free(to);
	vs_tree_free(tt);
}

/* A branch "main" at C1 <- C2 (main), and a side commit S off C1. */
struct history {
	struct vs_oid c1, c2, side;
};

static struct history make_history(struct vs_repo *repo, const char *side_key,
				   const char *side_value)
{
	struct vs_tree *t1 = edit(repo, NULL, "a", "1", NULL);
	struct vs_tree *t2 = edit(repo, t1, "b", "2", NULL);
	struct vs_tree *ts = edit(repo, t1, side_key, side_value, NULL);
	struct history h;
	h.c1 = commit(repo, t1, 10, NULL, 0);
	h.c2 = commit(repo, t2, 20, &h.c1, 1);
	h.side = commit(repo, ts, 30, &h.c1, 1);
	assert_vs_ok(vs_branch_create(repo, "main", &h.c2));
	vs_tree_free(t1);
	vs_tree_free(t2);
	vs_tree_free(ts);
	return h;
}

static void assert_head(struct vs_repo *repo, const struct vs_oid *want)
{
	struct vs_oid head;
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_true(vs_oid_equal(&head, want));
}

static void test_branch_merge_of_an_ancestor_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct history h = make_history(f->repo, "c", "3");
	struct vs_merge_result r;
	struct vs_oid out;

	assert_vs_ok(vs_branch_merge(&out, f->repo, "main", &h.c1, NULL, NULL, &r));
	assert_true(vs_oid_equal(&out, &h.c2));
	assert_head(f->repo, &h.c2);
	assert_int_equal(r.conflicts.count, 0);
	assert_value(r.tree, "b", "2");
	vs_merge_result_dispose(&r);
	assert_vs_ok(vs_branch_merge(&out, f->repo, "main", &h.c2, NULL, NULL, NULL));
	assert_true(vs_oid_equal(&out, &h.c2));
}

static void test_branch_merge_fast_forwards(void **state)
{
	struct fixture *f = *state;
	struct history h = make_history(f->repo, "c", "3");
	struct vs_tree *t3 = edit(f->repo, NULL, "a", "1", "b", "2", "d", "4", NULL);
	struct vs_oid c3 = commit(f->repo, t3, 40, &h.c2, 1);
	struct vs_oid out;

	assert_vs_ok(vs_branch_merge(&out, f->repo, "main", &c3, NULL, NULL, NULL));
	assert_true(vs_oid_equal(&out, &c3));
	assert_head(f->repo, &c3);
	vs_tree_free(t3);
}

static void test_branch_merge_commits_with_head_and_theirs_as_parents(void **state)
{
	struct fixture *f = *state;
	struct history h = make_history(f->repo, "c", "3");
	struct vs_signature sig = vst_sig(50);
	struct vs_oid bogus = h.c1;
	struct vs_commit_opts copts = { .author = &sig, .message = "merge side\n",
					.parents = &bogus, .nparents = 1 };
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;
	struct vs_oid out;

	assert_vs_ok(vs_branch_merge(&out, f->repo, "main", &h.side, NULL, &copts, NULL));
	assert_head(f->repo, &out);
	assert_vs_ok(vs_commit_lookup(&c, f->repo, &out));
	assert_int_equal(vs_commit_parentcount(c), 2);
	assert_true(vs_oid_equal(vs_commit_parent_id(c, 0), &h.c2));
	assert_true(vs_oid_equal(vs_commit_parent_id(c, 1), &h.side));
	assert_string_equal(vs_commit_message(c), "merge side\n");
	assert_vs_ok(vs_commit_tree(&t, c));
	assert_value(t, "a", "1");
	assert_value(t, "b", "2");
	assert_value(t, "c", "3");
	vs_tree_free(t);
	vs_commit_free(c);

	/* A true merge needs commit options; the branch stays put without them. */
	struct vs_tree *t4 = edit(f->repo, NULL, "a", "1", "e", "5", NULL);
	struct vs_oid other = commit(f->repo, t4, 60, &h.c1, 1);
	assert_vs_err(VS_EINVAL, vs_branch_merge(&out, f->repo, "main", &other, NULL, NULL, NULL));
	vs_tree_free(t4);
}

static void test_branch_merge_conflict_leaves_the_branch_unchanged(void **state)
{
	struct fixture *f = *state;
	struct history h = make_history(f->repo, "b", "side");
	struct vs_signature sig = vst_sig(50);
	struct vs_commit_opts copts = { .author = &sig, .message = "merge\n" };
	struct vs_merge_result r;
	struct vs_oid out;

	assert_vs_err(VS_ECONFLICT,
		      vs_branch_merge(&out, f->repo, "main", &h.side, NULL, &copts, &r));
	assert_head(f->repo, &h.c2);
	assert_true(vs_oid_equal(&r.base, &h.c1));
	assert_int_equal(r.conflicts.count, 1);
	assert_string_equal(r.conflicts.strings[0], "b");
	assert_value(r.tree, "b", "2");
	vs_merge_result_dispose(&r);

	/* The same merge with last-writer-wins resolves it: side is newer. */
	struct vs_merge_opts lww = { .fn = vs_merge_lww };
	assert_vs_ok(vs_branch_merge(&out, f->repo, "main", &h.side, &lww, &copts, &r));
	assert_head(f->repo, &out);
	assert_value(r.tree, "b", "side");
	vs_merge_result_dispose(&r);
}

/* Fail the n-th allocation for every n: ENOMEM with an empty result, never a crash or leak. */
static void test_merge_out_of_memory_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "a", "1", "d/x", "1", "d/y", "1", "j", "{}",
				    NULL);
	struct vs_tree *ours = edit(f->repo, base, "a", "2", "d/x", "2", "n/o", "1", "j",
				    "{\"o\":1}", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "a", "3", "d/y", "3", "n/t", "1", "j",
				      "{\"t\":1}", NULL);
	struct vs_merge_opts json = { .fn = vs_merge_json };
	struct vs_merge_result r;
	int rc = VS_ENOMEM;

	for (long n = 0; rc == VS_ENOMEM; n++) {
		vst_alloc_fail_after(n);
		rc = vs_merge_trees(&r, base, ours, theirs, &json);
		vst_alloc_fail_after(-1);
		if (rc == VS_ENOMEM) {
			assert_null(r.tree);
			assert_int_equal(r.conflicts.count, 0);
		}
		assert_true(n < 100000);
	}
	assert_vs_err(VS_ECONFLICT, rc);
	assert_int_equal(r.conflicts.count, 1);
	assert_string_equal(r.conflicts.strings[0], "a");
	assert_value(r.tree, "d/x", "2");
	assert_value(r.tree, "d/y", "3");
	assert_value(r.tree, "n/o", "1");
	assert_value(r.tree, "n/t", "1");
	assert_value(r.tree, "j", "{\"o\":1,\"t\":1}");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
}

/* A repo in the "vs" format, whose directories of more than 32 entries split. */
static struct vs_repo *open_vs(const char *uri)
{
	return vst_repo_open_uri(uri, "vs");
}

/* "top" = "t" and "dir/k<i>" = vals[i] for i < n (vals NULL: all "v"; a NULL: absent). */
static struct vs_tree *dir_tree(struct vs_repo *repo, int n, const char *const *vals)
{
	struct vs_tree *t = edit(repo, NULL, "top", "t", NULL), *next;
	char path[32];

	for (int i = 0; i < n; i++) {
		const char *v = vals ? vals[i] : "v";
		snprintf(path, sizeof(path), "dir/k%d", i);
		if (v) {
			assert_vs_ok(vs_tree_set(&next, t, path, v, strlen(v)));
			vs_tree_free(t);
			t = next;
		}
	}
	return t;
}

#define SPLIT_N 5000

/*
 * Each side changes, adds and removes different entries of a 5000-entry split
 * directory. On a cold handle the merge reads only the nodes on the changed
 * paths (a full listing would read every one of the directory's ~1000
 * nodes; the bound also covers the commits and the merge-base walk), and
 * the result is the tree with every change applied directly.
 */
static void test_merge_split_directory_reads_only_changed_nodes(void **state)
{
	char *dir = vst_tmpdir("merge");
	char uri[4200];
	struct vs_repo *repo;
	struct vs_tree *base = NULL, *ours, *theirs, *want, *sub;
	struct vs_commit *cb = NULL;
	struct vs_merge_result r;
	struct vs_oid b, o, t;
	(void)state;

	snprintf(uri, sizeof(uri), "lmdb:%s/store", dir);
	repo = open_vs(uri);
	base = dir_tree(repo, SPLIT_N, NULL);
	ours = edit(repo, base, "dir/k17", "o", "dir/k42", NULL, "dir/new-o", "o", NULL);
	theirs = edit(repo, base, "dir/k4000", "t", "dir/k99", NULL, "dir/new-t", "t", "top", "t2",
		      NULL);
	b = commit(repo, base, 1, NULL, 0);
	o = commit(repo, ours, 2, &b, 1);
	t = commit(repo, theirs, 3, &b, 1);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
	vs_repo_close(repo);

	/* A fresh handle on the same store: nothing cached. */
	repo = open_vs(uri);
	struct vs_backend *bk = vs_repo_backend(repo);
	uint64_t reads = bk->stats.obj_reads;
	assert_vs_ok(vs_merge_commits(&r, repo, &o, &t, NULL));
	reads = bk->stats.obj_reads - reads;
	print_message("merge in a %d-entry split directory: %llu object reads\n", SPLIT_N,
		      (unsigned long long)reads);
	assert_true(reads <= 40);
	assert_int_equal(r.conflicts.count, 0);
	assert_true(vs_oid_equal(&r.base, &b));

	assert_vs_ok(vs_commit_lookup(&cb, repo, &b));
	assert_vs_ok(vs_commit_tree(&base, cb));
	want = edit(repo, base, "dir/k17", "o", "dir/k42", NULL, "dir/new-o", "o", "dir/k4000",
		    "t", "dir/k99", NULL, "dir/new-t", "t", "top", "t2", NULL);
	assert_true(vs_tree_equal(r.tree, want));
	assert_value(r.tree, "dir/k17", "o");
	assert_value(r.tree, "dir/k4000", "t");
	assert_value(r.tree, "dir/k42", NULL);
	assert_value(r.tree, "dir/k99", NULL);
	assert_value(r.tree, "dir/k1234", "v");
	assert_vs_ok(vs_tree_subtree(&sub, r.tree, "dir"));
	assert_int_equal(vs_tree_entrycount(sub), SPLIT_N);
	vs_tree_free(sub);
	vs_merge_result_dispose(&r);
	vs_tree_free(want);
	vs_tree_free(base);
	vs_commit_free(cb);
	vs_repo_close(repo);
	vst_rmrf(dir);
	free(dir);
}

/*
 * Both sides change one entry of a split directory differently: that path
 * alone conflicts, the disjoint changes around it merge, and a subtree
 * inside the directory changed on both sides merges recursively.
 */
static void test_merge_split_directory_conflict_is_reported_by_path(void **state)
{
	struct vs_repo *repo = open_vs("mem:");
	struct vs_tree *b0 = dir_tree(repo, SPLIT_N, NULL);
	struct vs_tree *base = edit(repo, b0, "dir/sub/a", "1", NULL);
	struct vs_tree *ours = edit(repo, base, "dir/k123", "o", "dir/k7", "o", "dir/sub/a", "2",
				    NULL);
	struct vs_tree *theirs = edit(repo, base, "dir/k123", "t", "dir/k8", "t", "dir/k9", NULL,
				      "dir/sub/b", "3", NULL);
	struct vs_merge_opts lww = { .fn = vs_merge_lww };
	struct vs_merge_result r;
	(void)state;

	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, base, ours, theirs, NULL));
	assert_non_null(strstr(vs_error_last()->message, "dir/k123"));
	assert_int_equal(r.conflicts.count, 1);
	assert_string_equal(r.conflicts.strings[0], "dir/k123");
	assert_value(r.tree, "dir/k123", "o");
	assert_value(r.tree, "dir/k7", "o");
	assert_value(r.tree, "dir/k8", "t");
	assert_value(r.tree, "dir/k9", NULL);
	assert_value(r.tree, "dir/sub/a", "2");
	assert_value(r.tree, "dir/sub/b", "3");
	vs_merge_result_dispose(&r);

	/* Last writer wins settles it for theirs; the result is canonical. */
	struct vs_tree *want = edit(repo, ours, "dir/k123", "t", "dir/k8", "t", "dir/k9", NULL,
				    "dir/sub/b", "3", NULL);
	assert_vs_ok(vs_merge_trees(&r, base, ours, theirs, &lww));
	assert_true(vs_tree_equal(r.tree, want));
	vs_merge_result_dispose(&r);
	vs_tree_free(want);
	vs_tree_free(b0);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
	vs_repo_close(repo);
}

#define MODEL_KEYS 96

static unsigned int model_rand(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 16;
}

/*
 * Random three-way merges of a directory crossing the split threshold (32
 * entries) either way, against a per-key model. Last writer wins (no times):
 * theirs where theirs changed the key, else ours. The default: the same but
 * ours, and a conflict, where both changed it differently.
 */
static void test_merge_split_directories_match_a_per_key_model(void **state)
{
	static const char *const pool[] = { NULL, "a", "b", "c" };
	struct vs_repo *repo = open_vs("mem:");
	struct vs_merge_opts lww = { .fn = vs_merge_lww };
	unsigned int seed = 12345;
	(void)state;

	for (unsigned int round = 0; round < 300; round++) {
		const char *v[5][MODEL_KEYS]; /* base, ours, theirs, lww and default results */
		unsigned int fill = round % 4, churn = 1 + round % 5;
		size_t nconflicts = 0;
		for (int k = 0; k < MODEL_KEYS; k++) {
			v[0][k] = model_rand(&seed) % 4 < fill ? pool[1 + model_rand(&seed) % 3] : NULL;
			for (int i = 1; i < 3; i++)
				v[i][k] = model_rand(&seed) % 8 < churn ? pool[model_rand(&seed) % 4]
									: v[0][k];
			bool both = v[1][k] != v[0][k] && v[2][k] != v[0][k] && v[1][k] != v[2][k];
			v[3][k] = v[2][k] != v[0][k] ? v[2][k] : v[1][k];
			v[4][k] = both ? v[1][k] : v[3][k];
			nconflicts += both;
		}
		struct vs_tree *t[5];
		struct vs_merge_result r;
		for (int i = 0; i < 5; i++)
			t[i] = dir_tree(repo, MODEL_KEYS, v[i]);
		assert_vs_ok(vs_merge_trees(&r, t[0], t[1], t[2], &lww));
		assert_true(vs_tree_equal(r.tree, t[3]));
		vs_merge_result_dispose(&r);
		assert_int_equal(vs_merge_trees(&r, t[0], t[1], t[2], NULL),
				 nconflicts ? VS_ECONFLICT : 0);
		assert_int_equal(r.conflicts.count, nconflicts);
		assert_true(vs_tree_equal(r.tree, t[4]));
		vs_merge_result_dispose(&r);
		for (int i = 0; i < 5; i++)
			vs_tree_free(t[i]);
	}
	vs_repo_close(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_merge_disjoint_writes_both_survive),
		T(test_merge_one_sided_change_returns_that_side),
		T(test_merge_same_change_on_both_sides_is_clean),
		T(test_merge_conflicting_values_list_every_path_sorted),
		T(test_merge_value_against_subtree_conflicts),
		T(test_merge_deletions_against_modifications),
		T(test_merge_commits_use_the_lowest_common_ancestor),
		T(test_branch_merge_of_an_ancestor_changes_nothing),
		T(test_branch_merge_fast_forwards),
		T(test_branch_merge_commits_with_head_and_theirs_as_parents),
		T(test_branch_merge_conflict_leaves_the_branch_unchanged),
		T(test_merge_out_of_memory_fails_cleanly),
		T(test_merge_split_directory_reads_only_changed_nodes),
		T(test_merge_split_directory_conflict_is_reported_by_path),
		T(test_merge_split_directories_match_a_per_key_model),
#undef T
	};
	vst_alloc_install();
	return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
