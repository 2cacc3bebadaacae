/* SPDX-License-Identifier: MIT */
/*
 * Garbage collection while others work: writers committing between the
 * steps of a collection lose nothing (the write barrier), a collection
 * killed at any step leaves a store that opens and checks clean, and a tree
 * from swept history is refused rather than committed dangling.
 */
#include "gc_fixture.h"
#include "vstore/sys/backend.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Commit the tree of commit @from on @branch (a revert to old content). */
static int commit_tree_of(struct vs_repo *repo, const char *branch, const struct vs_oid *from,
			  int64_t time)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = "revert\n" };
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;
	struct vs_oid id;
	int err;

	if ((err = vs_commit_lookup(&c, repo, from)) >= 0 && (err = vs_commit_tree(&t, c)) >= 0)
		err = vs_branch_commit(&id, repo, branch, NULL, t, &o);
	vs_tree_free(t);
	vs_commit_free(c);
	return err;
}

/*
 * Writers go on between steps: new values, values and trees of dropped
 * commits, a branch at a dropped commit. While nothing was swept yet, all
 * of it must work and survive; afterwards a re-use of swept history may
 * fail with VS_ENOENT, never leave a dangling reference.
 */
static void writers_between_steps(struct fixture *f, const char *backend, const char *format,
				  size_t wide)
{
	struct vs_repo *repo = open_as(f, backend, "s", format);
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION, .step_objects = 8 };
	struct vs_gc_policy p = keep_last(10);
	static struct vs_oid ids[60];
	char key[32], val[32];
	struct vs_gc_stats st;
	struct vs_gc *gc;
	int rc, step = 0, refused = 0;

	for (size_t i = 0; i < wide; i++) { /* one wide directory: split nodes in vs */
		snprintf(key, sizeof(key), "wide/k%zu", i);
		commit_kv(repo, "main", key, "w", T0 - 1000 + (int64_t)i);
	}
	history(repo, "main", 60, T0, ids);
	assert_vs_ok(vs_gc_new(&gc, repo, &p, &o));
	do {
		rc = vs_gc_step(gc, &st);
		assert_vs_ok(rc);
		int64_t now = T0 + 100000 + step;
		const struct vs_oid *old = &ids[(step * 7) % 40];
		snprintf(key, sizeof(key), "wide/k%d", step % (wide ? (int)wide : 1));
		snprintf(val, sizeof(val), "main-%d", (step * 3) % 40); /* a dropped value */
		commit_kv(repo, "main", step % 2 ? key : "new/key", val, now);
		int err = commit_tree_of(repo, "reverts", old, now);
		if (!st.objects_swept)
			assert_vs_ok(err);
		else if (err < 0)
			assert_int_equal(err, VS_ENOENT), refused++;
		/* A commit that loses its race: its batch is dropped, the cycle goes on. */
		struct vs_signature sig = vst_sig(now);
		struct vs_commit_opts co = { .author = &sig, .message = "stale\n" };
		struct vs_commit *c;
		struct vs_tree *t;
		struct vs_oid id;
		assert_vs_ok(vs_commit_lookup(&c, repo, &ids[59]));
		assert_vs_ok(vs_commit_tree(&t, c));
		assert_vs_err(VS_ECONFLICT, vs_branch_commit(&id, repo, "main", &ids[58], t, &co));
		vs_tree_free(t);
		vs_commit_free(c);
		snprintf(key, sizeof(key), "keep%d", step);
		err = vs_branch_create(repo, key, old);
		if (!st.objects_swept)
			assert_vs_ok(err);
		else if (err < 0)
			assert_int_equal(err, VS_ENOENT), refused++;
		step++;
	} while (rc == 1);
	vs_gc_free(gc);
	print_message("%s/%s: %d steps, %zu swept, %d re-uses of swept history refused\n",
		      backend, format ? format : "git", step, st.objects_swept, refused);
	assert_true(step > 3);
	assert_vs_ok(vs_repo_check(repo, NULL));
	/* And a second collection over what the writers left agrees. */
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

CASE(test_writers_between_steps_lose_nothing_on_mem,
     writers_between_steps, "mem", NULL, 0)
CASE(test_writers_between_steps_lose_nothing_on_lmdb,
     writers_between_steps, "lmdb", "git", 0)
CASE(test_writers_between_steps_lose_nothing_on_lmdb_with_split_trees,
     writers_between_steps, "lmdb", "vs", 300)
CASE(test_writers_between_steps_lose_nothing_on_git,
     writers_between_steps, "git", NULL, 0)

/* commit_kv for a child process: no cmocka asserts there (they would unwind
 * into the child's copy of the test runner). */
static int child_commit(struct vs_repo *repo, const char *key, int64_t time)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = "child\n" };
	struct vs_tree *t = NULL, *n = NULL;
	struct vs_commit *c = NULL;
	struct vs_oid head, id;
	int err;

	if ((err = vs_branch_head(&head, repo, "main")) >= 0 &&
	    (err = vs_commit_lookup(&c, repo, &head)) >= 0 && (err = vs_commit_tree(&t, c)) >= 0 &&
	    (err = vs_tree_set(&n, t, key, key, strlen(key))) >= 0)
		err = vs_branch_commit(&id, repo, "main", NULL, n, &o);
	vs_tree_free(t);
	vs_tree_free(n);
	vs_commit_free(c);
	return err;
}

/* The child: commits and GC steps, reporting each step done on @fd. */
static void gc_child(struct fixture *f, const char *backend, int fd, int round)
{
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION, .step_objects = 4 };
	struct vs_gc_policy p = keep_last(15);
	struct vs_repo *repo;
	struct vs_gc *gc;
	char key[32];
	int rc;

	snprintf(f->uri, sizeof(f->uri), "%s:%s/s", backend, f->dir);
	if (vs_repo_open(&repo, f->uri, NULL) < 0 || vs_gc_new(&gc, repo, &p, &o) < 0)
		_exit(3);
	for (int i = 0;; i++) {
		snprintf(key, sizeof(key), "round%d/k%d", round, i % 5);
		if (child_commit(repo, key, T0 + 100000 * round + i) < 0)
			_exit(6);
		if ((rc = vs_gc_step(gc, NULL)) < 0)
			_exit(4);
		if (write(fd, "s", 1) != 1)
			_exit(5);
		if (rc == 0) { /* done: start over, so the kill always lands mid-cycle */
			vs_gc_free(gc);
			if (vs_gc_new(&gc, repo, &p, &o) < 0)
				_exit(3);
		}
	}
}

static void killed_collections(struct fixture *f, const char *backend)
{
	static const int kill_after[] = { 1, 2, 3, 5, 8, 13, 21, 40, 70 };
	struct vs_repo *repo = open_as(f, backend, "s", NULL);
	static struct vs_oid ids[80];
	struct ids l;

	history(repo, "main", 80, T0, ids);
	vs_repo_close(repo);
	for (size_t r = 0; r < sizeof(kill_after) / sizeof(kill_after[0]); r++) {
		int pfd[2], status, steps = 0;
		char c;

		assert_int_equal(pipe(pfd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			gc_child(f, backend, pfd[1], (int)r + 1);
		}
		close(pfd[1]);
		while (steps < kill_after[r] && read(pfd[0], &c, 1) == 1)
			steps++;
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(pfd[0]);
		if (steps != kill_after[r]) /* gc_child's exit codes say where it stopped */
			print_message("round %zu: the child stopped after %d steps, %s %d\n", r, steps,
				      WIFEXITED(status) ? "exit" : "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		assert_int_equal(steps, kill_after[r]);
		assert_true(WIFSIGNALED(status));

		repo = open_as(f, backend, "s", NULL);
		assert_vs_ok(vs_repo_check(repo, NULL));
		log_of(&l, repo, "main");
		assert_true(l.n >= 15);
		struct vs_gc_policy p = keep_last(15);
		assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
		assert_vs_ok(vs_repo_check(repo, NULL));
		log_of(&l, repo, "main");
		assert_int_equal(l.n, 15);
		vs_repo_close(repo);
	}
}

CASE(test_a_collection_killed_at_any_step_leaves_a_sound_store_on_lmdb,
     killed_collections, "lmdb")
CASE(test_a_collection_killed_at_any_step_leaves_a_sound_store_on_git,
     killed_collections, "git")

/*
 * A tree read from history the collection drops, committed again after the
 * sweep removed what it refers to: the write fails with VS_ENOENT instead
 * of leaving a reference to nothing.
 */
static void test_a_tree_from_swept_history_is_refused_during_the_collection(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "mem", "s", NULL);
	struct vs_gc_policy p = keep_last(3);
	struct vs_signature sig = vst_sig(T0 + 90000);
	struct vs_commit_opts o = { .author = &sig, .message = "from the past\n" };
	static struct vs_oid ids[30];
	struct vs_tree *t, *n;
	struct vs_commit *c;
	struct vs_gc_stats st;
	struct vs_oid id;
	struct vs_gc *gc;

	history(repo, "main", 30, T0, ids);
	size_t total = objects(repo);
	assert_vs_ok(vs_commit_lookup(&c, repo, &ids[4]));
	assert_vs_ok(vs_commit_tree(&t, c));
	vs_commit_free(c);
	assert_vs_ok(vs_gc_new(&gc, repo, &p, NULL));
	do /* until all is swept: finish, which ends the cycle, takes a step of its own */
		assert_int_equal(vs_gc_step(gc, &st), 1);
	while (!st.objects_marked || st.objects_swept < total - st.objects_marked);
	assert_vs_ok(vs_tree_set(&n, t, "top", "level", 5));
	assert_vs_err(VS_ENOENT, vs_branch_commit(&id, repo, "past", NULL, n, &o));
	assert_non_null(strstr(vs_error_last()->message, "garbage collection"));
	vs_tree_free(n);
	vs_tree_free(t);
	while (vs_gc_step(gc, &st) == 1)
		;
	vs_gc_free(gc);
	assert_vs_err(VS_ENOENT, vs_branch_head(&id, repo, "past"));
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

/* The id of directory @path in the tree of @commit. */
static struct vs_oid dir_id(struct vs_repo *repo, const struct vs_oid *commit, const char *path)
{
	struct vs_commit *c;
	struct vs_tree *t, *d;
	struct vs_oid id;

	assert_vs_ok(vs_commit_lookup(&c, repo, commit));
	assert_vs_ok(vs_commit_tree(&t, c));
	assert_vs_ok(vs_tree_subtree(&d, t, path));
	assert_vs_ok(vs_tree_id(&id, d));
	vs_tree_free(d);
	vs_tree_free(t);
	vs_commit_free(c);
	return id;
}

/* d/key0 .. d/key7 = @val, a commit each from time @t0 (d: a node of ~350
 * bytes, stored as deltas); the last commit. */
static struct vs_oid commit_d(struct vs_repo *repo, const char *val, int64_t t0)
{
	struct vs_oid last = { 0 };
	char key[32];

	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "d/key%d", i);
		last = commit_kv(repo, "main", key, val, t0 + i);
	}
	return last;
}

/* Step @gc to its end (it swept something); the store checks clean and
 * d/key0 at @commit reads @want. Frees @gc and closes @repo. */
static void finish_then_read(struct vs_repo *repo, struct vs_gc *gc, const struct vs_oid *commit,
			     const char *want)
{
	struct vs_buf v = VS_BUF_INIT;
	struct vs_gc_stats st;

	while (vs_gc_step(gc, &st) == 1)
		;
	vs_gc_free(gc);
	assert_true(st.objects_swept > 0);
	assert_vs_ok(vs_repo_check(repo, NULL));
	assert_vs_ok(vs_read_at(&v, repo, commit, "d/key0"));
	assert_int_equal(v.size, strlen(want));
	assert_memory_equal(v.ptr, want, v.size);
	vs_buf_release(&v);
	vs_repo_close(repo);
}

/*
 * LMDB stores an edited tree node as a delta from its previous version. A
 * writer that builds, during a collection, a node equal to one stored as a
 * delta in dropped history would write nothing new, and the node would keep
 * needing its base, dropped history too: it is stored whole again.
 */
static void test_a_delta_written_again_during_the_collection_is_stored_whole(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", "vs");
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_signature sig = vst_sig(T0 + 90000);
	struct vs_commit_opts o = { .author = &sig, .message = "d again\n" };
	struct vs_gc_policy p = keep_last(1);
	struct vs_gc_opts go = { .version = VS_GC_OPTS_VERSION, .step_objects = 2 };
	struct vs_oid c_b, d_b, base, head, id;
	struct vs_tree *t, *n;
	struct vs_commit *c;
	struct vs_gc_stats st;
	struct vs_gc *gc;
	char key[32];

	commit_d(repo, "a", T0);
	c_b = commit_kv(repo, "main", "d/key0", "b", T0 + 10);
	commit_kv(repo, "main", "d/key0", "c", T0 + 11);
	d_b = dir_id(repo, &c_b, "d");
	assert_int_equal(b->ops->obj_base(b, &d_b, &base), 1); /* d_b is a delta */

	/* Head without d: every version of d is dropped history. */
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_commit_lookup(&c, repo, &head));
	assert_vs_ok(vs_commit_tree(&t, c));
	vs_commit_free(c);
	assert_vs_ok(vs_tree_remove(&n, t, "d"));
	vs_tree_free(t);
	assert_vs_ok(vs_branch_commit(&id, repo, "main", &head, n, &o));

	assert_vs_ok(vs_gc_new(&gc, repo, &p, &go));
	assert_int_equal(vs_gc_step(gc, &st), 1);
	assert_int_equal(st.objects_swept, 0);
	for (int i = 0; i < 8; i++) { /* d_b again, built in memory */
		snprintf(key, sizeof(key), "d/key%d", i);
		assert_vs_ok(vs_tree_set(&t, n, key, i ? "a" : "b", 1));
		vs_tree_free(n);
		n = t;
	}
	head = id;
	assert_vs_ok(vs_branch_commit(&id, repo, "main", &head, n, &o));
	vs_tree_free(n);
	struct vs_oid d_again = dir_id(repo, &id, "d");
	assert_true(vs_oid_equal(&d_again, &d_b));
	assert_int_equal(b->ops->obj_base(b, &d_b, &base), 0);
	finish_then_read(repo, gc, &id, "b");
}

/*
 * A writer edits, while a collection runs, a node of a tree from dropped
 * history: the edit may be stored as a delta from that node only if the
 * collection keeps it, which it does from then on.
 */
static void test_an_edit_of_dropped_history_during_the_collection_keeps_its_base(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", "vs");
	struct vs_gc_opts go = { .version = VS_GC_OPTS_VERSION, .step_objects = 2 };
	struct vs_gc_policy p = keep_last(1);
	struct vs_signature sig = vst_sig(T0 + 90000);
	struct vs_commit_opts o = { .author = &sig, .message = "edit of the past\n" };
	struct vs_oid c_old, id;
	struct vs_tree *old, *t, *n;
	struct vs_commit *c;
	struct vs_gc_stats st;
	struct vs_gc *gc;

	c_old = commit_d(repo, "old", T0);
	commit_d(repo, "new", T0 + 100); /* every version of d above is dropped history now */
	assert_vs_ok(vs_commit_lookup(&c, repo, &c_old));
	assert_vs_ok(vs_commit_tree(&old, c));
	vs_commit_free(c);
	assert_vs_ok(vs_tree_subtree(&t, old, "d")); /* loads the node */
	vs_tree_free(t);

	assert_vs_ok(vs_gc_new(&gc, repo, &p, &go));
	assert_int_equal(vs_gc_step(gc, &st), 1);
	assert_vs_ok(vs_tree_set(&n, old, "d/key1", "edited", 6));
	assert_vs_ok(vs_branch_commit(&id, repo, "side", NULL, n, &o));
	vs_tree_free(n);
	vs_tree_free(old);
	finish_then_read(repo, gc, &id, "old");
}

/*
 * A tree from dropped history held in memory, whose node is a delta from a
 * base the sweep already deleted: committing a tree that refers to the node
 * fails with VS_ENOENT instead of leaving an unreadable node.
 */
static void test_a_delta_from_swept_history_is_refused_during_the_collection(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", "vs");
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_gc_opts go = { .version = VS_GC_OPTS_VERSION, .step_objects = 1 };
	struct vs_gc_policy p = keep_last(1);
	struct vs_signature sig = vst_sig(T0 + 90000);
	struct vs_commit_opts o = { .author = &sig, .message = "from the past\n" };
	struct vs_oid prev, cur, base, c_x, head, id;
	struct vs_tree *t, *n, *past = NULL;
	struct vs_commit *c;
	struct vs_gc_stats st;
	struct vs_gc *gc;
	char val[32];

	c_x = commit_d(repo, "a", T0);
	prev = dir_id(repo, &c_x, "d");
	/* A version whose base the sweep meets first (it goes in id order). */
	for (int i = 0; i < 64; i++) {
		snprintf(val, sizeof(val), "v%d", i);
		c_x = commit_kv(repo, "main", "d/key0", val, T0 + 100 + i);
		cur = dir_id(repo, &c_x, "d");
		if (b->ops->obj_base(b, &cur, &base) == 1 && vs_oid_equal(&base, &prev) &&
		    vs_oid_cmp(&prev, &cur) < 0)
			break;
		prev = cur;
	}
	assert_true(vs_oid_cmp(&prev, &cur) < 0);
	assert_vs_ok(vs_commit_lookup(&c, repo, &c_x));
	assert_vs_ok(vs_commit_tree(&past, c));
	vs_commit_free(c);
	assert_vs_ok(vs_tree_subtree(&t, past, "d")); /* loads the node */
	vs_tree_free(t);

	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_tree_remove(&n, past, "d"));
	assert_vs_ok(vs_branch_commit(&id, repo, "main", &head, n, &o));
	vs_tree_free(n);
	assert_vs_ok(vs_gc_new(&gc, repo, &p, &go));
	while (b->ops->obj_exists(b, &prev) == 1)
		assert_int_equal(vs_gc_step(gc, &st), 1);
	assert_int_equal(b->ops->obj_exists(b, &cur), 1);

	assert_vs_ok(vs_tree_set(&n, past, "top", "level", 5));
	assert_vs_err(VS_ENOENT, vs_branch_commit(&id, repo, "past", NULL, n, &o));
	assert_non_null(strstr(vs_error_last()->message, "difference"));
	vs_tree_free(n);
	vs_tree_free(past);
	while (vs_gc_step(gc, &st) == 1)
		;
	vs_gc_free(gc);
	assert_vs_err(VS_ENOENT, vs_branch_head(&id, repo, "past"));
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_writers_between_steps_lose_nothing_on_mem),
		T(test_writers_between_steps_lose_nothing_on_lmdb),
		T(test_writers_between_steps_lose_nothing_on_lmdb_with_split_trees),
		T(test_writers_between_steps_lose_nothing_on_git),
		T(test_a_collection_killed_at_any_step_leaves_a_sound_store_on_lmdb),
		T(test_a_collection_killed_at_any_step_leaves_a_sound_store_on_git),
		T(test_a_tree_from_swept_history_is_refused_during_the_collection),
		T(test_a_delta_written_again_during_the_collection_is_stored_whole),
		T(test_a_delta_from_swept_history_is_refused_during_the_collection),
		T(test_an_edit_of_dropped_history_during_the_collection_keeps_its_base),
	};
#undef T
	return cmocka_run_group_tests_name("gc_writers", tests, NULL, NULL);
}
