/* SPDX-License-Identifier: MIT */
/*
 * Repo write batches (group commit): operations inside see each other's
 * effects and land together at vs_repo_batch_commit(); a failure dooms the
 * batch; an abort leaves no node claiming to be stored; a chain of commits
 * writes each node once; watches fire after the commit. Durability mode:
 * a VS_REPO_NOSYNC store keeps what vs_repo_sync() flushed, and a commit
 * survives the process being killed right after it returned.
 */
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vst.h"

#include "vstore/sys/backend.h"

struct fixture {
	const char *backend;
	char *dir; /* NULL with mem */
	struct vs_repo *repo;
};

static int setup_with(void **state, const char *backend)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->backend = backend;
	if (strcmp(backend, "mem"))
		f->dir = vst_tmpdir("batch");
	f->repo = vst_repo_open(backend, f->dir);
	*state = f;
	return 0;
}

static int setup_mem(void **state)
{
	return setup_with(state, "mem");
}

static int setup_lmdb(void **state)
{
	return setup_with(state, "lmdb");
}

static int setup_git(void **state)
{
	return setup_with(state, "git");
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

/* A second handle on the fixture's store (not for mem). */
static struct vs_repo *reopen(struct fixture *f)
{
	return vst_repo_open(f->backend, f->dir);
}

static void set(struct vs_tree **t, const char *path, const char *value)
{
	struct vs_tree *next;
	assert_vs_ok(vs_tree_set(&next, *t, path, value, strlen(value)));
	vs_tree_free(*t);
	*t = next;
}

static int branch_commit(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *t,
			 const struct vs_oid *expected)
{
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	return vs_branch_commit(out, repo, "main", expected, t, &o);
}

static void check_value(struct vs_repo *repo, const struct vs_oid *commit, const char *path,
			const char *value)
{
	struct vs_buf got = VS_BUF_INIT;
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;
	assert_vs_ok(vs_commit_lookup(&c, repo, commit));
	assert_vs_ok(vs_commit_tree(&t, c));
	assert_vs_ok(vs_tree_get(&got, t, path));
	assert_int_equal(got.size, strlen(value));
	assert_memory_equal(got.ptr, value, got.size);
	vs_buf_release(&got);
	vs_tree_free(t);
	vs_commit_free(c);
}

static void test_batch_begin_twice_is_busy_and_commit_without_one_is_invalid(void **state)
{
	struct fixture *f = *state;

	assert_vs_err(VS_EINVAL, vs_repo_batch_commit(f->repo));
	vs_repo_batch_abort(f->repo); /* no batch: nothing happens */
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	assert_vs_err(VS_EBUSY, vs_repo_batch_begin(f->repo));
	assert_vs_ok(vs_repo_batch_commit(f->repo)); /* an empty batch */
	assert_vs_err(VS_EINVAL, vs_repo_batch_commit(f->repo));
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	vs_repo_batch_abort(f->repo);
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	assert_vs_ok(vs_repo_batch_commit(f->repo));
}

static void test_batch_commits_see_each_other_and_land_together(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *other = f->dir ? reopen(f) : NULL;
	struct vs_oid c[3], head, tree_id;
	struct vs_tree *t = NULL, *back = NULL;
	struct vs_commit *commit = NULL;
	char value[16];

	assert_vs_ok(vs_tree_new(&t, f->repo));
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	for (int i = 0; i < 3; i++) {
		snprintf(value, sizeof(value), "v%d", i);
		set(&t, "a/b/c", value);
		/* NULL expected: each commit reads the head the one before moved. */
		assert_vs_ok(branch_commit(&c[i], f->repo, t, NULL));
		assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
		assert_true(vs_oid_equal(&head, &c[i]));
		assert_vs_ok(vs_commit_lookup(&commit, f->repo, &c[i]));
		assert_int_equal(vs_commit_parentcount(commit), i ? 1 : 0);
		if (i)
			assert_true(vs_oid_equal(vs_commit_parent_id(commit, 0), &c[i - 1]));
		vs_commit_free(commit);
		check_value(f->repo, &c[i], "a/b/c", value);
		if (other) /* nothing is visible outside before the commit */
			assert_vs_err(VS_ENOENT, vs_branch_head(&head, other, "main"));
	}
	/* A tree written alone in the batch is readable by id at once. */
	set(&t, "x", "tree only");
	assert_vs_ok(vs_tree_write(&tree_id, t));
	assert_vs_ok(vs_tree_lookup(&back, f->repo, &tree_id));
	vs_tree_free(back);
	assert_vs_ok(vs_repo_batch_commit(f->repo));
	if (other) {
		assert_vs_ok(vs_branch_head(&head, other, "main"));
		assert_true(vs_oid_equal(&head, &c[2]));
		check_value(other, &c[0], "a/b/c", "v0");
		check_value(other, &c[2], "a/b/c", "v2");
		assert_vs_ok(vs_tree_lookup(&back, other, &tree_id));
		vs_tree_free(back);
		assert_vs_ok(vs_repo_check(other, NULL));
		vs_repo_close(other);
	}
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	vs_tree_free(t);
}

static void test_failed_operation_dooms_the_batch(void **state)
{
	struct fixture *f = *state;
	struct vs_oid c1, c2, c3, head;
	struct vs_tree *t = NULL;

	assert_vs_ok(vs_tree_new(&t, f->repo));
	set(&t, "k", "1");
	assert_vs_ok(branch_commit(&c1, f->repo, t, NULL));
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	set(&t, "k", "2");
	assert_vs_ok(branch_commit(&c2, f->repo, t, NULL));
	/* Expecting the old head: the branch moved in this batch. */
	set(&t, "k", "3");
	assert_vs_err(VS_ECONFLICT, branch_commit(&c3, f->repo, t, &c1));
	assert_vs_err(VS_ECONFLICT, branch_commit(&c3, f->repo, t, NULL));
	assert_non_null(strstr(vs_error_last()->message, "already failed"));
	assert_vs_err(VS_ECONFLICT, vs_branch_create(f->repo, "other", &c1));
	assert_vs_err(VS_ECONFLICT, vs_repo_batch_commit(f->repo));
	assert_non_null(strstr(vs_error_last()->message, "batch failed"));
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &c1));
	assert_vs_err(VS_ENOENT, vs_branch_head(&head, f->repo, "other"));
	/* The repo works normally afterwards. */
	assert_vs_ok(branch_commit(&c3, f->repo, t, NULL));
	check_value(f->repo, &c3, "k", "3");
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	vs_tree_free(t);
}

/*
 * Commit A in a batch, derive B from A (after A's nodes were written), abort;
 * then commit B and A outside a batch: the nodes they share must be written
 * again, so a fresh handle reads everything.
 */
static void test_abort_undoes_stored_marks(void **state)
{
	struct fixture *f = *state;
	struct vs_oid base, ca, cb, head, tree_a, tree_b;
	struct vs_tree *a = NULL, *b = NULL, *back = NULL;
	struct vs_buf raw = VS_BUF_INIT;
	char path[32], value[32];
	int type;

	assert_vs_ok(vs_tree_new(&a, f->repo));
	set(&a, "base", "0");
	assert_vs_ok(branch_commit(&base, f->repo, a, NULL));
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof(path), "d%d/s%d/v%d", i % 3, i % 7, i);
		snprintf(value, sizeof(value), "val%d", i);
		set(&a, path, value);
	}
	assert_vs_ok(branch_commit(&ca, f->repo, a, NULL));
	check_value(f->repo, &ca, "d2/s5/v47", "val47");
	b = vs_tree_dup(a);
	set(&b, "d1/s1/extra", "e");
	assert_vs_ok(vs_tree_id(&tree_a, a));
	assert_vs_ok(vs_tree_lookup(&back, f->repo, &tree_a)); /* readable inside */
	vs_tree_free(back);
	vs_repo_batch_abort(f->repo);

	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &base));
	if (!strcmp(f->backend, "lmdb")) /* mem and git keep unreferenced objects */
		assert_vs_err(VS_ENOENT, vs_repo_read_raw(&raw, &type, f->repo, &ca));
	assert_vs_ok(branch_commit(&cb, f->repo, b, NULL));
	assert_vs_ok(vs_tree_id(&tree_b, b));
	struct vs_signature sig = vst_sig(2000);
	struct vs_commit_opts o = { .author = &sig, .message = "a again\n" };
	assert_vs_ok(vs_commit_create(&ca, f->repo, a, &o));
	assert_vs_ok(vs_repo_check(f->repo, NULL));

	/* A handle with empty caches reads only what the backend holds. */
	struct vs_repo *fresh = reopen(f);
	assert_vs_ok(vs_tree_lookup(&back, fresh, &tree_b));
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof(path), "d%d/s%d/v%d", i % 3, i % 7, i);
		snprintf(value, sizeof(value), "val%d", i);
		assert_vs_ok(vs_tree_get(&raw, back, path));
		assert_int_equal(raw.size, strlen(value));
		assert_memory_equal(raw.ptr, value, raw.size);
	}
	assert_vs_ok(vs_tree_get(&raw, back, "d1/s1/extra"));
	vs_tree_free(back);
	assert_vs_ok(vs_tree_lookup(&back, fresh, &tree_a));
	vs_tree_free(back);
	assert_vs_ok(vs_repo_check(fresh, NULL));
	vs_repo_close(fresh);
	vs_buf_release(&raw);
	vs_tree_free(a);
	vs_tree_free(b);
}

/*
 * 100 one-value commits in one batch over a tree the batch's first commit
 * wrote: each writes its path and the values beside it, never the whole
 * tree again.
 */
static void test_chain_of_commits_in_a_batch_writes_shared_nodes_once(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = vs_repo_backend(f->repo);
	struct vs_tree *t = NULL;
	char path[32], value[32];
	struct vs_oid id;

	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "d%d/s%d/v%d", i / 100, i / 10 % 10, i % 10);
		snprintf(value, sizeof(value), "val%d", i);
		set(&t, path, value);
	}
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	uint64_t w0 = b->stats.obj_writes;
	assert_vs_ok(branch_commit(&id, f->repo, t, NULL));
	uint64_t w1 = b->stats.obj_writes;
	assert_true(w1 - w0 >= 1000 + 111 + 1); /* values, trees, the commit */
	for (int k = 0; k < 100; k++) {
		int i = (k * 37) % 1000;
		snprintf(path, sizeof(path), "d%d/s%d/v%d", i / 100, i / 10 % 10, i % 10);
		snprintf(value, sizeof(value), "new%d", k);
		set(&t, path, value);
		assert_vs_ok(branch_commit(&id, f->repo, t, NULL));
	}
	uint64_t w2 = b->stats.obj_writes;
	/* Per commit: 3 trees, the new value, the commit, and the up to 9 values
	 * beside it written earlier in this batch (not yet marked stored). */
	print_message("first commit: %" PRIu64 " writes; 100 more: %" PRIu64 "\n", w1 - w0,
		      w2 - w1);
	assert_true(w2 - w1 <= 100 * 15);
	assert_vs_ok(vs_repo_batch_commit(f->repo));
	check_value(f->repo, &id, "d6/s6/v3", "new99"); /* 99 * 37 % 1000 = 663 */
	/* After the commit everything counts as stored: one more writes 5. */
	set(&t, "d0/s0/v0", "last");
	w0 = b->stats.obj_writes;
	assert_vs_ok(branch_commit(&id, f->repo, t, NULL));
	assert_int_equal(b->stats.obj_writes - w0, 5);
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	vs_tree_free(t);
}

struct recorder {
	int calls;
	struct vs_oid last;
};

static void record(void *payload, const struct vs_watch_event *ev)
{
	struct recorder *r = payload;
	r->calls++;
	if (ev->new_head)
		r->last = *ev->new_head;
}

static void test_watches_fire_when_the_batch_commits(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 };
	struct vs_watch *w = NULL;
	struct vs_tree *t = NULL;
	struct vs_oid c1, c2, c3;

	assert_vs_ok(vs_watch_branch(&w, f->repo, "main", record, &r));
	assert_vs_ok(vs_tree_new(&t, f->repo));
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	set(&t, "a", "1");
	assert_vs_ok(branch_commit(&c1, f->repo, t, NULL));
	set(&t, "a", "2");
	assert_vs_ok(branch_commit(&c2, f->repo, t, NULL));
	assert_vs_ok(vs_branch_create(f->repo, "side", &c1));
	assert_int_equal(r.calls, 0);
	assert_vs_ok(vs_repo_batch_commit(f->repo));
	assert_int_equal(r.calls, 2); /* in order: the last event is the last move */
	assert_true(vs_oid_equal(&r.last, &c2));

	assert_vs_ok(vs_repo_batch_begin(f->repo));
	set(&t, "a", "3");
	assert_vs_ok(branch_commit(&c3, f->repo, t, NULL));
	vs_repo_batch_abort(f->repo);
	assert_int_equal(r.calls, 2);
	/* Outside a batch a move fires at once. */
	assert_vs_ok(branch_commit(&c3, f->repo, t, NULL));
	assert_int_equal(r.calls, 3);
	assert_true(vs_oid_equal(&r.last, &c3));
	vs_watch_free(w);
	vs_tree_free(t);
}

static void test_readonly_repo_refuses_a_batch(void **state)
{
	struct fixture *f = *state;
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .flags = VS_REPO_READONLY };
	struct vs_repo *ro = NULL;
	char uri[4200];

	vs_repo_close(f->repo); /* a read-only env cannot join a writable one */
	f->repo = NULL;
	snprintf(uri, sizeof(uri), "lmdb:%s/store", f->dir);
	assert_vs_ok(vs_repo_open(&ro, uri, &o));
	assert_vs_err(VS_EROFS, vs_repo_batch_begin(ro));
	assert_vs_ok(vs_repo_sync(ro));
	vs_repo_close(ro);
}

/* ---- durability mode ---- */

static struct vs_repo *open_nosync(const char *dir)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .flags = VS_REPO_NOSYNC };
	struct vs_repo *repo = NULL;
	char uri[4200];
	snprintf(uri, sizeof(uri), "lmdb:%s/store", dir);
	assert_vs_ok(vs_repo_open(&repo, uri, &o));
	return repo;
}

static void test_nosync_commit_is_there_after_sync_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = NULL;
	struct vs_oid id, head;

	vs_repo_close(f->repo);
	f->repo = open_nosync(f->dir);
	assert_vs_ok(vs_tree_new(&t, f->repo));
	set(&t, "k", "durable");
	assert_vs_ok(vs_repo_batch_begin(f->repo));
	assert_vs_ok(branch_commit(&id, f->repo, t, NULL));
	assert_vs_ok(vs_repo_batch_commit(f->repo));
	assert_vs_ok(vs_repo_sync(f->repo));
	vs_tree_free(t);
	vs_repo_close(f->repo);
	f->repo = reopen(f);
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &id));
	check_value(f->repo, &id, "k", "durable");
	assert_vs_ok(vs_repo_sync(f->repo)); /* a syncing handle: nothing to do */
}

/* The child commits with NOSYNC, tells the parent, and is killed: the commit
 * reached the OS, so the parent finds it. */
static void test_nosync_commit_survives_sigkill(void **state)
{
	struct fixture *f = *state;
	struct vs_oid id, head;
	int fds[2], status;

	vs_repo_close(f->repo); /* no env open across fork() */
	f->repo = NULL;
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
					  .flags = VS_REPO_NOSYNC };
		struct vs_signature sig = vst_sig(1000);
		struct vs_commit_opts co = { .author = &sig, .message = "m\n" };
		struct vs_repo *repo = NULL;
		struct vs_tree *t = NULL, *next = NULL;
		char uri[4200];

		close(fds[0]);
		snprintf(uri, sizeof(uri), "lmdb:%s/store", f->dir);
		if (vs_repo_open(&repo, uri, &o) < 0 || vs_tree_new(&t, repo) < 0 ||
		    vs_tree_set(&next, t, "k", "killed", 6) < 0 ||
		    vs_branch_commit(&id, repo, "main", NULL, next, &co) < 0)
			_exit(1);
		if (write(fds[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ssize_t got = read(fds[0], &id, sizeof(id));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fds[0]);
	assert_int_equal(got, (ssize_t)sizeof(id));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	f->repo = reopen(f);
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &id));
	check_value(f->repo, &id, "k", "killed");
	assert_vs_ok(vs_repo_check(f->repo, NULL));
}

static void test_sync_is_a_noop_on_mem_and_git(void **state)
{
	struct fixture *f = *state;
	assert_vs_ok(vs_repo_sync(f->repo));
}

int main(void)
{
#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)
	const struct CMUnitTest tests[] = {
		T(test_batch_begin_twice_is_busy_and_commit_without_one_is_invalid, setup_mem),
		T(test_batch_begin_twice_is_busy_and_commit_without_one_is_invalid, setup_lmdb),
		T(test_batch_begin_twice_is_busy_and_commit_without_one_is_invalid, setup_git),
		T(test_batch_commits_see_each_other_and_land_together, setup_mem),
		T(test_batch_commits_see_each_other_and_land_together, setup_lmdb),
		T(test_batch_commits_see_each_other_and_land_together, setup_git),
		T(test_failed_operation_dooms_the_batch, setup_mem),
		T(test_failed_operation_dooms_the_batch, setup_lmdb),
		T(test_failed_operation_dooms_the_batch, setup_git),
		T(test_abort_undoes_stored_marks, setup_lmdb),
		T(test_abort_undoes_stored_marks, setup_git),
		T(test_chain_of_commits_in_a_batch_writes_shared_nodes_once, setup_lmdb),
		T(test_watches_fire_when_the_batch_commits, setup_mem),
		T(test_watches_fire_when_the_batch_commits, setup_lmdb),
		T(test_readonly_repo_refuses_a_batch, setup_lmdb),
		T(test_nosync_commit_is_there_after_sync_and_reopen, setup_lmdb),
		T(test_nosync_commit_survives_sigkill, setup_lmdb),
		T(test_sync_is_a_noop_on_mem_and_git, setup_mem),
		T(test_sync_is_a_noop_on_mem_and_git, setup_git),
	};
	return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
