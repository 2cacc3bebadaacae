/* SPDX-License-Identifier: MIT */
/*
 * Watches: branch watches get every head move with its diff, path watches
 * only the deltas at or below their path, freed watches stop, creation and
 * deletion are events, vs_watch_poll() sees moves made through another
 * handle on the same LMDB store, and callbacks may add and free watches.
 */
#include "vst.h"

#define MAX_DELTAS 8

/* What one callback saw, copied out of the borrowed event. */
struct event {
	char branch[64];
	bool had_old, had_new;
	struct vs_oid old_head, new_head;
	size_t ndeltas;
	char paths[MAX_DELTAS][64];
	enum vs_delta_status status[MAX_DELTAS];
	char values[MAX_DELTAS][32]; /* new value, or old for removals */
};

struct recorder {
	int calls;
	struct event last;
};

static void record(void *payload, const struct vs_watch_event *ev)
{
	struct recorder *r = payload;
	struct event *e = &r->last;

	memset(e, 0, sizeof(*e));
	r->calls++;
	snprintf(e->branch, sizeof(e->branch), "%s", ev->branch);
	if ((e->had_old = ev->old_head != NULL))
		e->old_head = *ev->old_head;
	if ((e->had_new = ev->new_head != NULL))
		e->new_head = *ev->new_head;
	e->ndeltas = ev->ndeltas;
	for (size_t i = 0; i < ev->ndeltas && i < MAX_DELTAS; i++) {
		const struct vs_delta *d = &ev->deltas[i];
		const struct vs_slice *v = d->status == VS_DELTA_REMOVED ? &d->old_value
									 : &d->new_value;
		snprintf(e->paths[i], sizeof(e->paths[i]), "%s", d->path);
		e->status[i] = d->status;
		snprintf(e->values[i], sizeof(e->values[i]), "%.*s", (int)v->len,
			 (const char *)v->ptr);
	}
}

struct fixture {
	char *dir; /* for the LMDB store; NULL with mem */
	struct vs_repo *repo;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->repo = vst_repo_open("mem", NULL);
	*state = f;
	return 0;
}

static int setup_lmdb(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("watch");
	f->repo = vst_repo_open("lmdb", f->dir);
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

/* Commit "path", "value" pairs (NULL value: remove) on @branch over its head. */
static struct vs_oid commit_on(struct vs_repo *repo, const char *branch, ...)
{
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts o = { .author = &sig, .message = "change\n" };
	struct vs_tree *t = vst_branch_tree(repo, branch), *next;
	struct vs_oid id;
	const char *path;
	va_list ap;

	va_start(ap, branch);
	while ((path = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		if (value)
			assert_vs_ok(vs_tree_set(&next, t, path, value, strlen(value)));
		else
			assert_vs_ok(vs_tree_remove(&next, t, path));
		vs_tree_free(t);
		t = next;
	}
	va_end(ap);
	assert_vs_ok(vs_branch_commit(&id, repo, branch, NULL, t, &o));
	vs_tree_free(t);
	return id;
}

static void test_watch_branch_watch_gets_the_diff(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 };
	struct vs_watch *w = NULL;

	assert_vs_ok(vs_watch_branch(&w, f->repo, "main", record, &r));
	struct vs_oid c1 = commit_on(f->repo, "main", "a", "1", "b/c", "2", NULL);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.last.branch, "main");
	assert_false(r.last.had_old);
	assert_true(r.last.had_new);
	assert_true(vs_oid_equal(&r.last.new_head, &c1));
	assert_int_equal(r.last.ndeltas, 2);
	assert_string_equal(r.last.paths[0], "a");
	assert_int_equal(r.last.status[0], VS_DELTA_ADDED);
	assert_string_equal(r.last.paths[1], "b/c");
	assert_string_equal(r.last.values[1], "2");

	struct vs_oid c2 = commit_on(f->repo, "main", "a", "9", "b/c", NULL, NULL);
	assert_int_equal(r.calls, 2);
	assert_true(r.last.had_old);
	assert_true(vs_oid_equal(&r.last.old_head, &c1));
	assert_true(vs_oid_equal(&r.last.new_head, &c2));
	assert_int_equal(r.last.ndeltas, 2);
	assert_string_equal(r.last.paths[0], "a");
	assert_int_equal(r.last.status[0], VS_DELTA_MODIFIED);
	assert_string_equal(r.last.values[0], "9");
	assert_int_equal(r.last.status[1], VS_DELTA_REMOVED);
	assert_string_equal(r.last.values[1], "2");

	/* Other branches are not this watch's business. */
	commit_on(f->repo, "other", "a", "1", NULL);
	assert_int_equal(r.calls, 2);
	vs_watch_free(w);
}

static void test_watch_path_watch_fires_only_for_its_subtree(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 }, root = { 0 };
	struct vs_watch *w = NULL, *wr = NULL;

	commit_on(f->repo, "main", "a/b/c", "1", NULL);
	assert_vs_ok(vs_watch_path(&w, f->repo, "main", "/a/b/", record, &r));
	assert_vs_ok(vs_watch_path(&wr, f->repo, "main", "", record, &root));

	/* Siblings that merely share the prefix do not count. */
	commit_on(f->repo, "main", "a/bc", "1", "x", "1", "a/b-d", "1", NULL);
	assert_int_equal(r.calls, 0);
	assert_int_equal(root.calls, 1);

	commit_on(f->repo, "main", "a/b/c", "2", "z", "1", "a/b/d/e", "3", NULL);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.last.ndeltas, 2);
	assert_string_equal(r.last.paths[0], "a/b/c");
	assert_string_equal(r.last.values[0], "2");
	assert_string_equal(r.last.paths[1], "a/b/d/e");
	assert_int_equal(root.calls, 2);
	assert_int_equal(root.last.ndeltas, 3);

	struct vs_watch *bad = NULL;
	assert_vs_err(VS_EINVAL, vs_watch_path(&bad, f->repo, "main", "a/../b", record, &r));
	assert_null(bad);
	vs_watch_free(w);
	vs_watch_free(wr);
}

static void test_watch_freed_watch_gets_no_more_events(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 }, other = { 0 };
	struct vs_watch *w = NULL, *keep = NULL;

	assert_vs_ok(vs_watch_branch(&w, f->repo, "main", record, &r));
	assert_vs_ok(vs_watch_branch(&keep, f->repo, NULL, record, &other));
	commit_on(f->repo, "main", "a", "1", NULL);
	assert_int_equal(r.calls, 1);
	vs_watch_free(w);
	commit_on(f->repo, "main", "a", "2", NULL);
	assert_int_equal(r.calls, 1);
	assert_int_equal(other.calls, 2);
	vs_watch_free(keep);
	commit_on(f->repo, "main", "a", "3", NULL);
	assert_int_equal(other.calls, 2);
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(other.calls, 2);
}

static void test_watch_branch_creation_and_deletion_are_events(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 };
	struct vs_watch *w = NULL;

	struct vs_oid c1 = commit_on(f->repo, "main", "k", "v", NULL);
	assert_vs_ok(vs_watch_branch(&w, f->repo, NULL, record, &r));
	assert_vs_ok(vs_branch_create(f->repo, "feature", &c1));
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.last.branch, "feature");
	assert_false(r.last.had_old);
	assert_true(vs_oid_equal(&r.last.new_head, &c1));
	assert_int_equal(r.last.ndeltas, 1);
	assert_int_equal(r.last.status[0], VS_DELTA_ADDED);

	assert_vs_ok(vs_branch_delete(f->repo, "feature", NULL));
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.last.branch, "feature");
	assert_true(r.last.had_old);
	assert_true(vs_oid_equal(&r.last.old_head, &c1));
	assert_false(r.last.had_new);
	assert_int_equal(r.last.ndeltas, 1);
	assert_int_equal(r.last.status[0], VS_DELTA_REMOVED);
	assert_string_equal(r.last.paths[0], "k");

	/* Delivered at once: a poll finds nothing new. */
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(r.calls, 2);
	vs_watch_free(w);
}

static void test_watch_poll_sees_a_move_by_another_handle(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *other = vst_repo_open("lmdb", f->dir);
	struct recorder r = { 0 }, all = { 0 }, path = { 0 };
	struct vs_watch *w = NULL, *wa = NULL, *wp = NULL;

	struct vs_oid c1 = commit_on(f->repo, "main", "a", "1", NULL);
	assert_vs_ok(vs_watch_branch(&w, f->repo, "main", record, &r));
	assert_vs_ok(vs_watch_branch(&wa, f->repo, NULL, record, &all));
	assert_vs_ok(vs_watch_path(&wp, f->repo, "main", "b", record, &path));

	struct vs_oid c2 = commit_on(other, "main", "a", "2", NULL);
	assert_int_equal(r.calls, 0);
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(r.calls, 1);
	assert_true(vs_oid_equal(&r.last.old_head, &c1));
	assert_true(vs_oid_equal(&r.last.new_head, &c2));
	assert_int_equal(r.last.ndeltas, 1);
	assert_string_equal(r.last.values[0], "2");
	assert_int_equal(all.calls, 1);
	assert_int_equal(path.calls, 0);

	/* Seen once, reported once. */
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(r.calls, 1);

	/* Creation and deletion by the other handle. */
	assert_vs_ok(vs_branch_create(other, "side", &c1));
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(all.calls, 2);
	assert_string_equal(all.last.branch, "side");
	assert_false(all.last.had_old);
	assert_vs_ok(vs_branch_delete(other, "side", NULL));
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(all.calls, 3);
	assert_false(all.last.had_new);
	assert_int_equal(r.calls, 1);

	commit_on(other, "main", "b", "1", NULL);
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(path.calls, 1);
	assert_string_equal(path.last.paths[0], "b");
	vs_watch_free(w);
	vs_watch_free(wa);
	vs_watch_free(wp);
	vs_repo_close(other);
}

/* A callback that frees one watch, frees its own, and adds a new one. */
struct juggler {
	struct vs_repo *repo;
	struct vs_watch *self, *victim, *added;
	struct recorder added_rec;
	int calls;
};

static void juggle(void *payload, const struct vs_watch_event *ev)
{
	struct juggler *j = payload;

	(void)ev;
	j->calls++;
	vs_watch_free(j->victim);
	j->victim = NULL;
	assert_vs_ok(vs_watch_branch(&j->added, j->repo, "main", record, &j->added_rec));
	vs_watch_free(j->self);
	j->self = NULL;
}

static void test_watch_callbacks_may_add_and_free_watches(void **state)
{
	struct fixture *f = *state;
	struct juggler j = { .repo = f->repo };
	struct recorder victim = { 0 };

	assert_vs_ok(vs_watch_branch(&j.self, f->repo, "main", juggle, &j));
	assert_vs_ok(vs_watch_branch(&j.victim, f->repo, "main", record, &victim));
	commit_on(f->repo, "main", "a", "1", NULL);
	assert_int_equal(j.calls, 1);
	/* Freed before its turn: never called. Added during the event: not called for it. */
	assert_int_equal(victim.calls, 0);
	assert_int_equal(j.added_rec.calls, 0);

	commit_on(f->repo, "main", "a", "2", NULL);
	assert_int_equal(j.calls, 1);
	assert_int_equal(j.added_rec.calls, 1);
	vs_watch_free(j.added);
}

/* On its first event, moves branch "other" through the same handle. */
struct mover {
	struct vs_repo *repo;
	int calls;
};

static void move_other(void *payload, const struct vs_watch_event *ev)
{
	struct mover *m = payload;

	(void)ev;
	if (m->calls++ == 0)
		commit_on(m->repo, "other", "nested", "1", NULL);
}

static void test_watch_callbacks_may_move_branches(void **state)
{
	struct fixture *f = *state;
	struct mover m = { .repo = f->repo };
	struct recorder other = { 0 }, all = { 0 };
	struct vs_watch *wm = NULL, *wo = NULL, *wa = NULL;

	assert_vs_ok(vs_watch_branch(&wm, f->repo, "main", move_other, &m));
	assert_vs_ok(vs_watch_branch(&wo, f->repo, "other", record, &other));
	assert_vs_ok(vs_watch_branch(&wa, f->repo, NULL, record, &all));
	commit_on(f->repo, "main", "a", "1", NULL);
	assert_int_equal(m.calls, 1);
	assert_int_equal(other.calls, 1);
	assert_string_equal(other.last.paths[0], "nested");
	/* "all" saw the nested move first, then main's (its turn came after). */
	assert_int_equal(all.calls, 2);
	assert_string_equal(all.last.branch, "main");
	/* Both moves were recorded as seen: a poll has nothing to add. */
	assert_vs_ok(vs_watch_poll(f->repo));
	assert_int_equal(all.calls, 2);
	vs_watch_free(wm);
	vs_watch_free(wo);
	vs_watch_free(wa);
}

/*
 * Fail the n-th allocation of a commit, for every n: when the commit fails
 * nothing is reported; when it succeeds but its event could not be built,
 * the next poll delivers it. Either way each move is reported exactly once.
 */
static void test_watch_event_lost_to_oom_is_delivered_by_poll(void **state)
{
	struct fixture *f = *state;
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts o = { .author = &sig, .message = "oom\n" };
	struct recorder r = { 0 };
	struct vs_watch *w = NULL;
	struct vs_tree *t = NULL;
	struct vs_oid id;
	bool direct = false;

	commit_on(f->repo, "main", "a", "0", NULL);
	assert_vs_ok(vs_watch_path(&w, f->repo, "main", "a", record, &r));
	for (long n = 0; !direct; n++) {
		char value[32];
		struct vs_tree *next = NULL;
		snprintf(value, sizeof(value), "%ld", n + 1);
		assert_vs_ok(vs_tree_new(&t, f->repo));
		assert_vs_ok(vs_tree_set(&next, t, "a", value, strlen(value)));
		vs_tree_free(t);
		int before = r.calls;
		vst_alloc_fail_after(n);
		int rc = vs_branch_commit(&id, f->repo, "main", NULL, next, &o);
		vst_alloc_fail_after(-1);
		vs_tree_free(next);
		if (rc < 0) {
			assert_vs_err(VS_ENOMEM, rc);
			assert_int_equal(r.calls, before);
			continue;
		}
		direct = r.calls == before + 1;
		assert_vs_ok(vs_watch_poll(f->repo));
		assert_int_equal(r.calls, before + 1);
		assert_true(vs_oid_equal(&r.last.new_head, &id));
		assert_string_equal(r.last.values[0], value);
		assert_true(n < 10000);
	}
	vs_watch_free(w);
}

static void test_watch_bad_arguments_are_rejected(void **state)
{
	struct fixture *f = *state;
	struct recorder r = { 0 };
	struct vs_watch *w = NULL;

	assert_vs_err(VS_EINVAL, vs_watch_branch(&w, f->repo, "bad..name", record, &r));
	assert_null(w);
	assert_vs_err(VS_EINVAL, vs_watch_branch(&w, f->repo, "main", NULL, &r));
	assert_vs_err(VS_EINVAL, vs_watch_path(&w, f->repo, "main", NULL, record, &r));
	vs_watch_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_branch_watch_gets_the_diff, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_path_watch_fires_only_for_its_subtree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_freed_watch_gets_no_more_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_branch_creation_and_deletion_are_events,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_poll_sees_a_move_by_another_handle,
						setup_lmdb, teardown),
		cmocka_unit_test_setup_teardown(test_watch_callbacks_may_add_and_free_watches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_callbacks_may_move_branches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_event_lost_to_oom_is_delivered_by_poll,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_bad_arguments_are_rejected, setup,
						teardown),
	};
	vst_alloc_install();
	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
