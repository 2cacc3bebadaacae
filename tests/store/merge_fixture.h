/* SPDX-License-Identifier: MIT */
/*
 * What the merge tests share (test_merge.c, test_merge_fn.c): a "mem:"
 * store per test, trees built from path/value pairs, commits at given
 * times, and value checks.
 */
#ifndef VSTORE_TEST_MERGE_FIXTURE_H
#define VSTORE_TEST_MERGE_FIXTURE_H

#include "vst.h"
#include "vstore/sys/backend.h"

struct fixture {
	struct vs_repo *repo;
};

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->repo = vst_repo_open("mem", NULL);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	vs_repo_close(f->repo);
	free(f);
	return 0;
}

/* A copy of @t (NULL: empty) with "path", "value" pairs set; a NULL value removes. */
static inline struct vs_tree *edit(struct vs_repo *repo, struct vs_tree *t, ...)
{
	struct vs_tree *cur = NULL, *next;
	const char *path;
	va_list ap;

	if (t)
		cur = vs_tree_dup(t);
	else
		assert_vs_ok(vs_tree_new(&cur, repo));
	va_start(ap, t);
	while ((path = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		if (value)
			assert_vs_ok(vs_tree_set(&next, cur, path, value, strlen(value)));
		else
			assert_vs_ok(vs_tree_remove(&next, cur, path));
		vs_tree_free(cur);
		cur = next;
	}
	va_end(ap);
	return cur;
}

/* The value at @path in @t must be @want (NULL: absent). */
static inline void assert_value(struct vs_tree *t, const char *path, const char *want)
{
	struct vs_buf b = VS_BUF_INIT;
	if (!want) {
		assert_vs_err(VS_ENOENT, vs_tree_get(&b, t, path));
	} else {
		assert_vs_ok(vs_tree_get(&b, t, path));
		assert_int_equal(b.size, strlen(want));
		assert_memory_equal(b.ptr, want, b.size);
	}
	vs_buf_release(&b);
}

static inline struct vs_oid commit(struct vs_repo *repo, struct vs_tree *t, int64_t time,
			           const struct vs_oid *parents, size_t nparents)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = "test\n", .parents = parents,
				    .nparents = nparents };
	struct vs_oid id;
	assert_vs_ok(vs_commit_create(&id, repo, t, &o));
	return id;
}

#endif
