/* SPDX-License-Identifier: MIT */
/*
 * vs_tree_trim(): a tree lets go of what it read or wrote that is stored,
 * every read afterwards returns the same, and the memory held (counted
 * through the allocator hook, live bytes) drops to what the repo's bounded
 * caches keep. New and batch-pending nodes stay, so an aborted batch after a
 * trim loses nothing.
 */
#include "vst.h"

#include "vstore/sys/alloc.h"

/* ---- a live-bytes allocator: a size header before every block ---- */

#define HDR 16
static size_t live_bytes;

static void *live_malloc(size_t n)
{
	unsigned char *p = malloc(n + HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	live_bytes += n;
	return p + HDR;
}

static void live_free(void *ptr)
{
	size_t n;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - HDR;
	memcpy(&n, p, sizeof(n));
	live_bytes -= n;
	free(p);
}

static void *live_realloc(void *ptr, size_t n)
{
	size_t old = 0;
	unsigned char *p = ptr ? (unsigned char *)ptr - HDR : NULL;
	if (p)
		memcpy(&old, p, sizeof(old));
	unsigned char *np = realloc(p, n + HDR);
	if (!np)
		return NULL;
	memcpy(np, &n, sizeof(n));
	live_bytes = live_bytes - old + n;
	return np + HDR;
}

/* ---- the data set: 8000 values three levels deep, 2000 in one directory ---- */

#define NESTED 20 /* 20 x 20 x 20 */
#define BIG 2000  /* split into bucket nodes by the vs format */
#define TOTAL (NESTED * NESTED * NESTED + BIG)

static void path_of(char *out, size_t n, int i)
{
	if (i < NESTED * NESTED * NESTED)
		snprintf(out, n, "n%02d/m%02d/v%02d", i / (NESTED * NESTED), i / NESTED % NESTED,
			 i % NESTED);
	else
		snprintf(out, n, "big/k%04d", i - NESTED * NESTED * NESTED);
}

/* The value at @i after @gen rounds of changes (0: never changed). */
static void value_of(char *out, size_t n, int i, int gen)
{
	snprintf(out, n, "value-%d-%d", i, gen);
}

struct fixture {
	char *dir; /* NULL with mem */
	struct vs_repo *repo;
	int gen[TOTAL]; /* the generation each value has now */
};

static struct vs_repo *open_small_cache(const char *uri)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = "vs",
				  .cache_trees = 16, .cache_value_bytes = 4096 };
	struct vs_repo *repo = NULL;
	assert_vs_ok(vs_repo_open(&repo, uri, &o));
	return repo;
}

static int setup_mem(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->repo = open_small_cache("mem:");
	*state = f;
	return 0;
}

static int setup_lmdb(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char uri[4200];
	assert_non_null(f);
	f->dir = vst_tmpdir("trim");
	snprintf(uri, sizeof(uri), "lmdb:%s/store", f->dir);
	f->repo = open_small_cache(uri);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vs_repo_close(f->repo);
	if (f->dir)
		vst_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Set value @i of @*t to its generation @gen. */
static void put(struct fixture *f, struct vs_tree **t, int i, int gen)
{
	char path[64], value[64];
	struct vs_tree *next;
	path_of(path, sizeof(path), i);
	value_of(value, sizeof(value), i, gen);
	assert_vs_ok(vs_tree_set(&next, *t, path, value, strlen(value)));
	vs_tree_free(*t);
	*t = next;
	f->gen[i] = gen;
}

/* Every value of @t is the one f->gen says. */
static void check_all(struct fixture *f, struct vs_tree *t)
{
	struct vs_buf got = VS_BUF_INIT;
	char path[64], value[64];
	for (int i = 0; i < TOTAL; i++) {
		path_of(path, sizeof(path), i);
		value_of(value, sizeof(value), i, f->gen[i]);
		assert_vs_ok(vs_tree_get(&got, t, path));
		assert_int_equal(got.size, strlen(value));
		assert_memory_equal(got.ptr, value, got.size);
	}
	vs_buf_release(&got);
	assert_int_equal(vs_tree_entrycount(t), NESTED + 1);
}

/* LMDB also keeps the last trees a store wrote and a handle read, likely
 * bases of the next (backend_lmdb_delta.c: twice 64 slots of 2 KiB). */
#define LMDB_CACHES (2 * 64 * 2200)

static struct vs_oid commit(struct vs_repo *repo, struct vs_tree *t)
{
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	struct vs_oid id;
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	return id;
}

static struct vs_tree *build(struct fixture *f)
{
	struct vs_tree *t = NULL;
	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (int i = 0; i < TOTAL; i++)
		put(f, &t, i, 0);
	return t;
}

static void test_trim_of_a_committed_tree_frees_memory_and_reads_the_same(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f);
	struct vs_oid before, after;

	commit(f->repo, t);
	assert_vs_ok(vs_tree_id(&before, t));
	size_t full = live_bytes;
	vs_tree_trim(t);
	size_t trimmed = live_bytes;
	print_message("live bytes: %zu committed, %zu trimmed (%zu values)\n", full, trimmed,
		      (size_t)TOTAL);
	/* At least ~100 bytes per value went (entries, ids, names, values). */
	assert_true(full - trimmed > (size_t)TOTAL * 100);
	/* What stays: the root, the bounded caches and the repo (and with mem,
	 * whose objects are allocated through the hook too, the store). */
	if (f->dir)
		assert_true(trimmed * 10 < full);
	assert_vs_ok(vs_tree_id(&after, t));
	assert_true(vs_oid_equal(&before, &after));
	check_all(f, t);
	assert_true(live_bytes > trimmed); /* reading attached what it read */
	vs_tree_trim(t);
	assert_true(live_bytes <= trimmed + trimmed / 8 + (f->dir ? LMDB_CACHES : 0));

	/* Change 300 values and remove none: commit, trim, all reads agree. */
	for (int i = 0; i < TOTAL; i += TOTAL / 300)
		put(f, &t, i, 1);
	commit(f->repo, t);
	vs_tree_trim(t);
	assert_true(live_bytes <= trimmed + trimmed / 4 + (f->dir ? LMDB_CACHES : 0));
	check_all(f, t);
	vs_tree_trim(t);
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	vs_tree_free(t);
}

static void test_trim_keeps_what_is_not_stored(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f), *sub = NULL;
	struct vs_oid id;

	size_t full = live_bytes;
	vs_tree_trim(t); /* nothing is stored: nothing may go */
	assert_int_equal(live_bytes, full);
	check_all(f, t);
	/* A tree half stored: the new values stay, the stored ones go. */
	commit(f->repo, t);
	for (int i = 0; i < TOTAL; i += 7)
		put(f, &t, i, 2);
	vs_tree_trim(t);
	check_all(f, t);
	assert_vs_ok(vs_tree_subtree(&sub, t, "big"));
	vs_tree_trim(sub); /* a shared subtree, trimmed through another holder */
	vs_tree_free(sub);
	commit(f->repo, t);
	assert_vs_ok(vs_tree_id(&id, t));
	vs_tree_trim(t);
	check_all(f, t);
	vs_tree_free(t);
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	assert_vs_ok(vs_tree_lookup(&t, f->repo, &id));
	check_all(f, t);
	vs_tree_free(t);
}

/* Nodes written in an open batch are not stored yet: trim keeps them, so
 * an abort loses nothing the tree needs. */
static void test_trim_in_a_batch_keeps_pending_nodes_for_an_abort(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f);
	struct vs_oid id;

	assert_vs_ok(vs_repo_batch_begin(f->repo));
	commit(f->repo, t);
	size_t full = live_bytes;
	vs_tree_trim(t);
	assert_true(live_bytes * 10 > full * 9); /* next to nothing went */
	vs_repo_batch_abort(f->repo);
	check_all(f, t);
	assert_vs_err(VS_ENOENT, vs_branch_head(&id, f->repo, "main"));
	commit(f->repo, t); /* writes everything again: nothing claims to be stored */
	vs_tree_trim(t);
	check_all(f, t);
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	vs_tree_free(t);
}

int main(void)
{
	static const struct vs_allocator a = { live_malloc, live_realloc, live_free };
	vs_set_allocator(&a);
#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)
	const struct CMUnitTest tests[] = {
		T(test_trim_of_a_committed_tree_frees_memory_and_reads_the_same, setup_mem),
		T(test_trim_of_a_committed_tree_frees_memory_and_reads_the_same, setup_lmdb),
		T(test_trim_keeps_what_is_not_stored, setup_mem),
		T(test_trim_in_a_batch_keeps_pending_nodes_for_an_abort, setup_lmdb),
	};
	return cmocka_run_group_tests_name("trim", tests, NULL, NULL);
}
