/* SPDX-License-Identifier: MIT */
/*
 * Trees: updates copy only the path from the root, children load lazily
 * through a bounded cache, listing and walking are in name order, and
 * allocation failures are reported, never crash or leak.
 */
#include "vst.h"
#include "vstore/sys/backend.h"

static struct vs_tree *set(struct vs_tree *t, const char *path, const char *value)
{
	struct vs_tree *n;
	assert_vs_ok(vs_tree_set(&n, t, path, value, strlen(value)));
	vs_tree_free(t);
	return n;
}

/* A tree of fan-out 7 and depth @depth: keys k0/k1/.../kN. */
static struct vs_tree *fanout_tree(struct vs_repo *repo, int depth, int *count)
{
	struct vs_tree *t;
	int total = 1;
	assert_vs_ok(vs_tree_new(&t, repo));
	for (int i = 0; i < depth; i++)
		total *= 7;
	for (int k = 0; k < total; k++) {
		char path[64] = "";
		for (int i = 0, v = k; i < depth; i++, v /= 7) {
			char comp[8];
			snprintf(comp, sizeof(comp), "%sk%d", i ? "/" : "", v % 7);
			strcat(path, comp);
		}
		t = set(t, path, path);
	}
	*count = total;
	return t;
}

static void test_single_key_commit_writes_only_the_path_from_the_root(void **state)
{
	struct vs_repo *repo = vst_repo_open("mem", NULL);
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	struct vs_oid id;
	int count;
	(void)state;

	/* Depth 4 with fan-out 7: 2401 keys. */
	struct vs_tree *t = fanout_tree(repo, 4, &count);
	assert_int_equal(count, 2401);
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	uint64_t before = b->stats.obj_writes;
	t = set(t, "k3/k4/k5/k6", "changed");
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	/* 4 trees on the path (root included), 1 value, 1 commit. */
	assert_int_equal(b->stats.obj_writes - before, 6);
	vs_tree_free(t);
	vs_repo_close(repo);
}

static void test_a_tiny_cache_still_reads_everything(void **state)
{
	struct vs_repo_opts ro = { .version = VS_REPO_OPTS_VERSION, .cache_trees = 2 };
	struct vs_repo *repo;
	struct vs_oid id;
	struct vs_buf v = VS_BUF_INIT;
	int count;
	(void)state;

	assert_vs_ok(vs_repo_open(&repo, "mem:", &ro));
	struct vs_tree *t = fanout_tree(repo, 3, &count), *back;
	assert_vs_ok(vs_tree_write(&id, t));
	vs_tree_free(t);
	assert_vs_ok(vs_tree_lookup(&back, repo, &id));
	for (int k = 0; k < count; k += 5) {
		char path[32];
		snprintf(path, sizeof(path), "k%d/k%d/k%d", k % 7, k / 7 % 7, k / 49 % 7);
		assert_vs_ok(vs_tree_get(&v, back, path));
		assert_string_equal(v.ptr, path);
	}
	vs_buf_release(&v);
	vs_tree_free(back);
	vs_repo_close(repo);
}

struct names {
	char s[16][16];
	int n;
};

static int list_cb(void *payload, const char *name, const struct vs_tree_stat *st)
{
	struct names *n = payload;
	snprintf(n->s[n->n++], 16, "%s%s", name, st->kind == VS_ENTRY_TREE ? "/" : "");
	return 0;
}

static int walk_cb(void *payload, const char *path, const void *value, size_t len)
{
	struct names *n = payload;
	snprintf(n->s[n->n++], 16, "%s=%.*s", path, (int)len, (const char *)value);
	return 0;
}

static void test_list_and_walk_go_in_byte_order_of_names(void **state)
{
	struct vs_repo *repo = vst_repo_open("mem", NULL);
	struct vs_tree *t;
	struct names l = { 0 }, w = { 0 };
	(void)state;

	assert_vs_ok(vs_tree_new(&t, repo));
	t = set(t, "b", "1");
	t = set(t, "a.b", "2");
	t = set(t, "a/c", "3");
	t = set(t, "a/b", "4");
	t = set(t, "A", "5");
	assert_vs_ok(vs_tree_list(t, "", list_cb, &l));
	assert_int_equal(l.n, 4);
	assert_string_equal(l.s[0], "A");
	assert_string_equal(l.s[1], "a/");
	assert_string_equal(l.s[2], "a.b");
	assert_string_equal(l.s[3], "b");
	assert_vs_ok(vs_tree_walk(t, "", walk_cb, &w));
	assert_int_equal(w.n, 5);
	assert_string_equal(w.s[1], "a/b=4");
	assert_string_equal(w.s[2], "a/c=3");
	assert_vs_err(VS_ENOENT, vs_tree_list(t, "zz", list_cb, &l));
	assert_vs_err(VS_ENOTDIR, vs_tree_list(t, "b", list_cb, &l));
	assert_int_equal(vs_tree_entrycount(t), 4);
	vs_tree_free(t);
	vs_repo_close(repo);
}

static void test_grafting_a_subtree_shares_it(void **state)
{
	struct vs_repo *repo = vst_repo_open("mem", NULL);
	struct vs_tree *t, *sub, *g, *empty, *gone;
	struct vs_buf v = VS_BUF_INIT;
	struct vs_tree_stat a, b;
	(void)state;

	assert_vs_ok(vs_tree_new(&t, repo));
	t = set(t, "src/x", "1");
	t = set(t, "src/y/z", "2");
	assert_vs_ok(vs_tree_subtree(&sub, t, "src"));
	assert_vs_ok(vs_tree_set_tree(&g, t, "dst/copy", sub));
	assert_vs_ok(vs_tree_stat(&a, g, "src"));
	assert_vs_ok(vs_tree_stat(&b, g, "dst/copy"));
	assert_true(vs_oid_equal(&a.id, &b.id));
	assert_vs_ok(vs_tree_get(&v, g, "dst/copy/y/z"));
	assert_string_equal(v.ptr, "2");
	/* Grafting an empty tree removes the path. */
	assert_vs_ok(vs_tree_new(&empty, repo));
	assert_vs_ok(vs_tree_set_tree(&gone, g, "src", empty));
	assert_vs_err(VS_ENOENT, vs_tree_stat(&a, gone, "src"));
	vs_buf_release(&v);
	vs_tree_free(t);
	vs_tree_free(sub);
	vs_tree_free(g);
	vs_tree_free(empty);
	vs_tree_free(gone);
	vs_repo_close(repo);
}

static void test_values_may_hold_any_bytes(void **state)
{
	struct vs_repo *repo = vst_repo_open("mem", NULL);
	struct vs_tree *t, *n, *back;
	struct vs_buf v = VS_BUF_INIT;
	unsigned char bin[300];
	struct vs_oid id;
	(void)state;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	assert_vs_ok(vs_tree_new(&t, repo));
	assert_vs_ok(vs_tree_set(&n, t, "bin", bin, sizeof(bin)));
	assert_vs_ok(vs_tree_write(&id, n));
	assert_vs_ok(vs_tree_lookup(&back, repo, &id));
	assert_vs_ok(vs_tree_get(&v, back, "bin"));
	assert_int_equal(v.size, sizeof(bin));
	assert_memory_equal(v.ptr, bin, sizeof(bin));
	vs_buf_release(&v);
	vs_tree_free(t);
	vs_tree_free(n);
	vs_tree_free(back);
	vs_repo_close(repo);
}

/* Every allocation failing in turn: the error surfaces, nothing leaks (ASan checks). */
static void test_allocation_failures_are_reported_not_fatal(void **state)
{
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	int failures = 0;
	(void)state;

	for (long n = 0; n < 2000; n++) {
		struct vs_repo *repo = NULL;
		struct vs_tree *t = NULL, *t2 = NULL;
		struct vs_oid id;
		int rc;

		vst_alloc_fail_after(n);
		rc = vs_repo_open(&repo, "mem:", NULL);
		if (rc >= 0)
			rc = vs_tree_new(&t, repo);
		if (rc >= 0)
			rc = vs_tree_set(&t2, t, "a/b/c", "v", 1);
		if (rc >= 0)
			rc = vs_branch_commit(&id, repo, "main", NULL, t2, &o);
		vst_alloc_fail_after(-1);
		vs_tree_free(t);
		vs_tree_free(t2);
		vs_repo_close(repo);
		if (rc >= 0)
			break; /* n allocations were enough: every earlier failure was clean */
		assert_int_equal(rc, VS_ENOMEM);
		failures++;
	}
	assert_true(failures > 10);
}

int main(void)
{
	vst_alloc_install();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_key_commit_writes_only_the_path_from_the_root),
		cmocka_unit_test(test_a_tiny_cache_still_reads_everything),
		cmocka_unit_test(test_list_and_walk_go_in_byte_order_of_names),
		cmocka_unit_test(test_grafting_a_subtree_shares_it),
		cmocka_unit_test(test_values_may_hold_any_bytes),
		cmocka_unit_test(test_allocation_failures_are_reported_not_fatal),
	};
	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
