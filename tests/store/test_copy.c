/* SPDX-License-Identifier: MIT */
/*
 * Copying between backends writes every object after all it refers to, so a
 * copy interrupted between batches leaves no object with missing children.
 */
#include "vst.h"
#include "vstore/sys/backend.h"
#include "vstore/sys/format.h"

struct closure {
	struct vs_repo *repo;
	size_t objects, missing;
	struct vs_buf raw;
};

static int check_ref(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct closure *c = payload;
	struct vs_backend *b = vs_repo_backend(c->repo);
	(void)type;
	if (b->ops->obj_exists(b, id) != 1)
		c->missing++;
	return 0;
}

static int check_object(void *payload, const struct vs_oid *id)
{
	struct closure *c = payload;
	const struct vs_format *f = vs_format_find(vs_repo_format(c->repo));
	int type;

	c->objects++;
	assert_vs_ok(vs_repo_read_raw(&c->raw, &type, c->repo, id));
	return f->obj_refs(f, (enum vs_otype)type, c->raw.ptr, c->raw.size, check_ref, c);
}

static int stop_after_first_batch(void *payload, const char *stage, size_t done, size_t total)
{
	(void)payload, (void)total;
	return !strcmp(stage, "writing") && done > 0 ? 42 : 0;
}

static void test_an_interrupted_copy_leaves_no_object_without_its_children(void **state)
{
	struct vs_repo *src = vst_repo_open("mem", NULL), *dst = vst_repo_open("mem", NULL);
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	struct vs_tree *t, *n, *shared;
	struct vs_oid id;
	char path[64];
	(void)state;

	/* Many commits that share subtrees, so objects are reached from many places. */
	assert_vs_ok(vs_tree_new(&t, src));
	for (int i = 0; i < 1200; i++) {
		snprintf(path, sizeof(path), "a/k%d/v%d", i % 37, i);
		assert_vs_ok(vs_tree_set(&n, t, path, path, strlen(path)));
		vs_tree_free(t);
		t = n;
		if (i % 10 == 0) {
			assert_vs_ok(vs_tree_subtree(&shared, t, "a"));
			snprintf(path, sizeof(path), "copies/c%d", i);
			assert_vs_ok(vs_tree_set_tree(&n, t, path, shared));
			vs_tree_free(shared);
			vs_tree_free(t);
			t = n;
		}
		sig.time++;
		assert_vs_ok(vs_branch_commit(&id, src, "main", NULL, t, &o));
	}
	vs_tree_free(t);

	assert_int_equal(vs_repo_copy(dst, src, stop_after_first_batch, NULL), 42);
	struct closure c = { .repo = dst };
	struct vs_backend *b = vs_repo_backend(dst);
	assert_vs_ok(b->ops->obj_foreach(b, check_object, &c));
	print_message("%zu objects copied before the stop\n", c.objects);
	assert_true(c.objects >= 1024);
	assert_int_equal(c.missing, 0);
	/* Finishing the copy afterwards gives a complete, checkable store. */
	assert_vs_ok(vs_repo_copy(dst, src, NULL, NULL));
	assert_vs_ok(vs_repo_check(dst, NULL));
	vs_buf_release(&c.raw);
	vs_repo_close(src);
	vs_repo_close(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_interrupted_copy_leaves_no_object_without_its_children),
	};
	return cmocka_run_group_tests_name("copy", tests, NULL, NULL);
}
