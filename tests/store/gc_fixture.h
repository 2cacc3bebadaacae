/* SPDX-License-Identifier: MIT */
/*
 * What the garbage collection tests share (test_gc.c, test_gc_writers.c): a
 * temporary directory per test, stores of each backend in it, histories of
 * single-key commits, and checks of listings, objects and the boundary.
 */
#ifndef VSTORE_TEST_GC_FIXTURE_H
#define VSTORE_TEST_GC_FIXTURE_H

#include "vst.h"

#include "vstore/sys/backend.h"

#define T0 1700000000
#define MAXC 4096

/* A test case running @fn with the fixture and further arguments. */
#define CASE(name, fn, ...)              \
	static void name(void **state)   \
	{                                \
		fn(*state, __VA_ARGS__); \
	}

struct fixture {
	char *dir;
	char uri[4200];
};

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("gc");
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	vst_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Open store @name of @backend in the fixture's directory, in @format (NULL: default). */
static inline struct vs_repo *open_as(struct fixture *f, const char *backend, const char *name,
			              const char *format)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = format };
	struct vs_repo *repo = NULL;

	if (!strcmp(backend, "mem"))
		snprintf(f->uri, sizeof(f->uri), "mem:");
	else
		snprintf(f->uri, sizeof(f->uri), "%s:%s/%s", backend, f->dir, name);
	assert_vs_ok(vs_repo_open(&repo, f->uri, &o));
	return repo;
}

/* Commit @key = @val on @branch (created if missing) at committer time @time. */
static inline struct vs_oid commit_kv(struct vs_repo *repo, const char *branch, const char *key,
			              const char *val, int64_t time)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = "gc test\n" };
	struct vs_tree *t = vst_branch_tree(repo, branch), *n = NULL;
	struct vs_oid id;

	assert_vs_ok(vs_tree_set(&n, t, key, val, strlen(val)));
	assert_vs_ok(vs_branch_commit(&id, repo, branch, NULL, n, &o));
	vs_tree_free(t);
	vs_tree_free(n);
	return id;
}

/* @n commits on @branch, each a new value of one of 7 keys; ids oldest first. */
static inline void history(struct vs_repo *repo, const char *branch, size_t n, int64_t t0,
		           struct vs_oid *ids)
{
	char key[32], val[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "dir%zu/key%zu", i % 3, i % 7);
		snprintf(val, sizeof(val), "%s-%zu", branch, i);
		ids[i] = commit_kv(repo, branch, key, val, t0 + (int64_t)i * 100);
	}
}

struct ids {
	struct vs_oid v[MAXC];
	size_t n;
};

static inline int collect(void *payload, struct vs_commit *c)
{
	struct ids *l = payload;
	assert_true(l->n < MAXC);
	l->v[l->n++] = *vs_commit_id(c);
	return 0;
}

/* vs_log of @branch, newest first. */
static inline void log_of(struct ids *out, struct vs_repo *repo, const char *branch)
{
	struct vs_oid head;
	out->n = 0;
	assert_vs_ok(vs_branch_head(&head, repo, branch));
	assert_vs_ok(vs_log(repo, &head, NULL, collect, out));
}

static inline int count_one(void *payload, const struct vs_oid *id)
{
	(void)id;
	(*(size_t *)payload)++;
	return 0;
}

static inline size_t objects(struct vs_repo *repo)
{
	struct vs_backend *b = vs_repo_backend(repo);
	size_t n = 0;
	assert_vs_ok(b->ops->obj_foreach(b, count_one, &n));
	return n;
}

static inline bool exists(struct vs_repo *repo, const struct vs_oid *id)
{
	struct vs_backend *b = vs_repo_backend(repo);
	int rc = b->ops->obj_exists(b, id);
	assert_true(rc >= 0);
	return rc == 1;
}

static inline struct vs_gc_policy keep_last(size_t n)
{
	return (struct vs_gc_policy){ .version = VS_GC_POLICY_VERSION, .keep_last = n };
}

static inline void assert_boundary(struct vs_repo *repo, const struct vs_oid *want, size_t n)
{
	struct vs_strarray b;
	char hex[VS_OID_MAXHEXSZ + 1];

	assert_vs_ok(vs_gc_boundary(&b, repo));
	assert_int_equal(b.count, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		vs_oid_tostr(hex, &want[i]);
		for (size_t k = 0; k < b.count; k++)
			found |= !strcmp(b.strings[k], hex);
		assert_true(found);
	}
	vs_strarray_dispose(&b);
}

#endif
