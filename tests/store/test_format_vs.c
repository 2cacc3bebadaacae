/* SPDX-License-Identifier: MIT */
/*
 * The vs format: large directories split into bounded nodes, in a canonical
 * shape (the same entries give the same id whatever the order of updates),
 * with lookups, updates and diffs that touch O(log n) nodes.
 */
#include "vst.h"
#include "vstore/sys/backend.h"

static struct vs_repo *open_vs(const char *uri)
{
	return vst_repo_open_uri(uri, "vs");
}

static struct vs_tree *set(struct vs_tree *t, const char *path, const char *value)
{
	struct vs_tree *n;
	assert_vs_ok(vs_tree_set(&n, t, path, value, strlen(value)));
	vs_tree_free(t);
	return n;
}

static struct vs_tree *rm(struct vs_tree *t, const char *path)
{
	struct vs_tree *n;
	assert_vs_ok(vs_tree_remove(&n, t, path));
	vs_tree_free(t);
	return n;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define UNIVERSE 96

static void test_random_update_orders_of_the_same_set_give_the_same_id(void **state)
{
	struct vs_repo *repo = open_vs("mem:");
	(void)state;

	for (int seq = 0; seq < 3000; seq++) {
		bool present[UNIVERSE] = { false };
		struct vs_tree *t, *canon;
		struct vs_oid a, b;
		char path[32];

		/* A random walk of inserts and removals, crossing the split size often. */
		assert_vs_ok(vs_tree_new(&t, repo));
		for (int op = 0, n = 20 + (int)(next() % 100); op < n; op++) {
			int k = (int)(next() % UNIVERSE);
			snprintf(path, sizeof(path), "d/key%d", k);
			if (next() % 3 == 0) {
				t = rm(t, path);
				present[k] = false;
			} else {
				t = set(t, path, path + 2);
				present[k] = true;
			}
		}
		/* The same final set, inserted in a fixed order. */
		assert_vs_ok(vs_tree_new(&canon, repo));
		for (int k = UNIVERSE - 1; k >= 0; k--) {
			snprintf(path, sizeof(path), "d/key%d", k);
			if (present[k])
				canon = set(canon, path, path + 2);
		}
		assert_vs_ok(vs_tree_id(&a, t));
		assert_vs_ok(vs_tree_id(&b, canon));
		if (!vs_oid_equal(&a, &b))
			fail_msg("sequence %d: same entries, different ids", seq);
		vs_tree_free(t);
		vs_tree_free(canon);
	}
	vs_repo_close(repo);
}

#define BIG 3000

/* Deeper tries (a directory of thousands): shuffled inserts and removals. */
static void test_deep_splits_are_canonical_too(void **state)
{
	struct vs_repo *repo = open_vs("mem:");
	static int order[BIG];
	(void)state;

	for (int round = 0; round < 8; round++) {
		bool present[BIG] = { false };
		struct vs_tree *t, *canon;
		struct vs_oid a, b;
		char path[32];

		for (int k = 0; k < BIG; k++)
			order[k] = k;
		for (int k = BIG - 1; k > 0; k--) {
			int j = (int)(next() % (uint64_t)(k + 1)), x = order[k];
			order[k] = order[j];
			order[j] = x;
		}
		assert_vs_ok(vs_tree_new(&t, repo));
		for (int k = 0; k < BIG; k++) {
			snprintf(path, sizeof(path), "n%d", order[k]);
			t = set(t, path, "v");
			present[order[k]] = true;
		}
		for (int k = 0; k < BIG; k++) {
			if (next() % 100 < 97)
				continue; /* remove ~3% */
			snprintf(path, sizeof(path), "n%d", k);
			t = rm(t, path);
			present[k] = false;
		}
		assert_vs_ok(vs_tree_new(&canon, repo));
		for (int k = 0; k < BIG; k++) {
			snprintf(path, sizeof(path), "n%d", k);
			if (present[k])
				canon = set(canon, path, "v");
		}
		assert_vs_ok(vs_tree_id(&a, t));
		assert_vs_ok(vs_tree_id(&b, canon));
		if (!vs_oid_equal(&a, &b))
			fail_msg("round %d: same entries, different ids", round);
		vs_tree_free(t);
		vs_tree_free(canon);
	}
	vs_repo_close(repo);
}

struct listing {
	char last[32];
	size_t n;
};

static int list_cb(void *payload, const char *name, const struct vs_tree_stat *st)
{
	struct listing *l = payload;
	assert_int_equal(st->kind, VS_ENTRY_TREE);
	if (l->n && strcmp(l->last, name) >= 0)
		fail_msg("'%s' listed after '%s'", name, l->last);
	snprintf(l->last, sizeof(l->last), "%s", name);
	l->n++;
	return 0;
}

static void test_a_large_directory_reads_lists_and_survives_reopen(void **state)
{
	char *dir = vst_tmpdir("vsfmt");
	char uri[4200], path[64];
	struct vs_repo *repo;
	struct vs_tree *t, *back;
	struct vs_commit *c;
	struct vs_oid id;
	struct vs_buf v = VS_BUF_INIT;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "big\n" };
	struct listing l = { "", 0 };
	(void)state;

	snprintf(uri, sizeof(uri), "lmdb:%s/store", dir);
	repo = open_vs(uri);
	assert_vs_ok(vs_tree_new(&t, repo));
	for (int k = 0; k < 5000; k++) {
		snprintf(path, sizeof(path), "local/domain/%d/name", k);
		t = set(t, path, path);
	}
	for (int k = 0; k < 5000; k += 2) {
		snprintf(path, sizeof(path), "local/domain/%d", k);
		t = rm(t, path);
	}
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	vs_tree_free(t);
	vs_repo_close(repo);

	repo = open_vs(uri);
	assert_vs_ok(vs_commit_lookup(&c, repo, &id));
	assert_vs_ok(vs_commit_tree(&back, c));
	for (int k = 0; k < 5000; k++) {
		snprintf(path, sizeof(path), "local/domain/%d/name", k);
		if (k % 2) {
			assert_vs_ok(vs_tree_get(&v, back, path));
			assert_string_equal(v.ptr, path);
		} else {
			assert_vs_err(VS_ENOENT, vs_tree_get(&v, back, path));
		}
	}
	assert_vs_ok(vs_tree_list(back, "local/domain", list_cb, &l));
	assert_int_equal(l.n, 2500);
	struct vs_tree *sub;
	assert_vs_ok(vs_tree_subtree(&sub, back, "local/domain"));
	assert_int_equal(vs_tree_entrycount(sub), 2500);
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_tree_free(sub);
	vs_buf_release(&v);
	vs_tree_free(back);
	vs_commit_free(c);
	vs_repo_close(repo);
	vst_rmrf(dir);
	free(dir);
}

struct count {
	size_t n;
	char path[64];
};

static int count_delta(void *payload, const struct vs_delta *d)
{
	struct count *c = payload;
	snprintf(c->path, sizeof(c->path), "%s", d->path);
	c->n++;
	return 0;
}

static void test_one_change_in_a_huge_directory_costs_log_n(void **state)
{
	char *dir = vst_tmpdir("vsfmt");
	char uri[4200], path[64];
	struct vs_repo *repo;
	struct vs_tree *t;
	struct vs_oid a, b;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	struct count cnt = { 0, "" };
	(void)state;

	snprintf(uri, sizeof(uri), "lmdb:%s/store", dir);
	repo = open_vs(uri);
	assert_vs_ok(vs_tree_new(&t, repo));
	for (int k = 0; k < 20000; k++) {
		snprintf(path, sizeof(path), "dir/entry%d", k);
		t = set(t, path, "v");
	}
	assert_vs_ok(vs_branch_commit(&a, repo, "main", NULL, t, &o));
	/* One single-key commit writes a path of bounded nodes, not 20000 entries. */
	struct vs_backend *bk = vs_repo_backend(repo);
	uint64_t writes = bk->stats.obj_writes;
	t = set(t, "dir/entry12345", "changed");
	assert_vs_ok(vs_branch_commit(&b, repo, "main", NULL, t, &o));
	assert_true(bk->stats.obj_writes - writes <= 8);
	vs_tree_free(t);
	vs_repo_close(repo);

	/* A cold handle: the diff reads only the nodes on the changed path. */
	repo = open_vs(uri);
	bk = vs_repo_backend(repo);
	uint64_t reads = bk->stats.obj_reads;
	assert_vs_ok(vs_diff_commits(repo, &a, &b, NULL, count_delta, &cnt));
	assert_int_equal(cnt.n, 1);
	assert_string_equal(cnt.path, "dir/entry12345");
	assert_true(bk->stats.obj_reads - reads <= 16);
	vs_repo_close(repo);
	vst_rmrf(dir);
	free(dir);
}

static void test_split_nodes_are_verified_by_check(void **state)
{
	struct vs_repo *repo = open_vs("mem:");
	struct vs_tree *t;
	struct vs_oid id;
	struct vs_check_stats st;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	char path[32];
	(void)state;

	assert_vs_ok(vs_tree_new(&t, repo));
	for (int k = 0; k < 300; k++) {
		snprintf(path, sizeof(path), "k%d", k);
		t = set(t, path, path);
	}
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	assert_vs_ok(vs_repo_check(repo, &st));
	/* A split root and its buckets are all trees: more trees than one. */
	assert_true(st.trees > 8);
	assert_int_equal(st.blobs, 300);
	vs_tree_free(t);
	vs_repo_close(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_update_orders_of_the_same_set_give_the_same_id),
		cmocka_unit_test(test_deep_splits_are_canonical_too),
		cmocka_unit_test(test_a_large_directory_reads_lists_and_survives_reopen),
		cmocka_unit_test(test_one_change_in_a_huge_directory_costs_log_n),
		cmocka_unit_test(test_split_nodes_are_verified_by_check),
	};
	return cmocka_run_group_tests_name("format_vs", tests, NULL, NULL);
}
