/* SPDX-License-Identifier: MIT */
/*
 * Retention and garbage collection: each policy on every backend, the
 * boundary as history walks, vs_repo_check and git see it, space given back
 * (LMDB's size levels off), copies and pushes of cut history, bad arguments,
 * progress and deletes in batches. Writers between steps and killed
 * collections: test_gc_writers.c.
 */
#include "gc_fixture.h"

static void keep_all_sweeps_only_unreachable(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = open_as(f, backend, "s", NULL);
	struct vs_gc_policy p = { .version = VS_GC_POLICY_VERSION, .keep_all = true };
	static struct vs_oid ids[20], side[3];
	struct vs_gc_stats st;
	struct vs_tree *t, *n;
	struct vs_oid loose;
	struct ids l;

	history(repo, "main", 20, T0, ids);
	history(repo, "side", 3, T0 + 5000, side);
	assert_vs_ok(vs_branch_delete(repo, "side", NULL));
	assert_vs_ok(vs_tree_new(&t, repo));
	assert_vs_ok(vs_tree_set(&n, t, "never/committed", "x", 1));
	assert_vs_ok(vs_tree_write(&loose, n));
	vs_tree_free(t);
	vs_tree_free(n);
	size_t before = objects(repo);

	assert_vs_ok(vs_gc_run(repo, &p, NULL, &st));
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 20);
	assert_false(exists(repo, &loose));
	assert_false(exists(repo, &side[2]));
	assert_true(exists(repo, &ids[0]));
	assert_int_equal(st.commits_dropped, 3);
	assert_int_equal(st.commits_kept, 20);
	assert_int_equal(objects(repo), before - st.objects_swept);
	assert_true(st.objects_swept >= 3 + 3 + 2);
	assert_boundary(repo, NULL, 0);
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

CASE(test_keep_all_sweeps_only_unreachable_objects_on_mem,
     keep_all_sweeps_only_unreachable, "mem")
CASE(test_keep_all_sweeps_only_unreachable_objects_on_lmdb,
     keep_all_sweeps_only_unreachable, "lmdb")
CASE(test_keep_all_sweeps_only_unreachable_objects_on_git,
     keep_all_sweeps_only_unreachable, "git")

/* git's own log of @branch equals vs_log's. */
static void assert_git_log_agrees(struct fixture *f, struct vs_repo *repo, const char *branch)
{
	char *out = vst_sh_out("git --git-dir='%s/s' log --format=%%H %s", f->dir, branch);
	char hex[VS_OID_MAXHEXSZ + 2];
	struct ids l;
	size_t at = 0;

	assert_non_null(out);
	log_of(&l, repo, branch);
	for (size_t i = 0; i < l.n; i++) {
		vs_oid_tostr(hex, &l.v[i]);
		assert_int_equal(strncmp(out + at, hex, 40), 0);
		assert_int_equal(out[at + 40], '\n');
		at += 41;
	}
	assert_int_equal(out[at], '\0');
	free(out);
	assert_int_equal(vst_sh("git --git-dir='%s/s' fsck --no-dangling --no-progress "
				">/dev/null 2>&1", f->dir),
			 0);
}

static void keep_last_cuts_history(struct fixture *f, const char *backend, const char *format)
{
	struct vs_repo *repo = open_as(f, backend, "s", format);
	struct vs_gc_policy p = keep_last(10);
	static struct vs_oid ids[60];
	struct vs_gc_stats st;
	struct ids l;

	history(repo, "main", 50, T0, ids);
	size_t before = objects(repo);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, &st));
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 10);
	assert_true(vs_oid_equal(&l.v[9], &ids[40]));
	assert_boundary(repo, &ids[40], 1);
	assert_int_equal(st.boundary, 1);
	assert_int_equal(st.commits_kept, 10);
	assert_int_equal(st.commits_dropped, 40);
	assert_false(exists(repo, &ids[39]));
	assert_false(exists(repo, &ids[0]));
	assert_int_equal(objects(repo), before - st.objects_swept);
	assert_vs_ok(vs_repo_check(repo, NULL));
	if (!strcmp(backend, "git"))
		assert_git_log_agrees(f, repo, "main");

	/* Later commits move the boundary up; the old one goes. */
	history(repo, "main", 5, T0 + 10000, ids + 50);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, &st));
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 10);
	assert_boundary(repo, &ids[45], 1);
	assert_false(exists(repo, &ids[40]));
	assert_int_equal(st.commits_dropped, 5);
	assert_vs_ok(vs_repo_check(repo, NULL));
	if (!strcmp(backend, "git"))
		assert_git_log_agrees(f, repo, "main");
	vs_repo_close(repo);
}

CASE(test_keep_last_cuts_history_at_the_boundary_on_mem,
     keep_last_cuts_history, "mem", NULL)
CASE(test_keep_last_cuts_history_at_the_boundary_on_lmdb,
     keep_last_cuts_history, "lmdb", NULL)
CASE(test_keep_last_cuts_history_at_the_boundary_on_lmdb_in_the_git_format,
     keep_last_cuts_history, "lmdb", "git")
CASE(test_keep_last_cuts_history_at_the_boundary_on_git,
     keep_last_cuts_history, "git", NULL)

static void keep_newer_than(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = open_as(f, backend, "s", NULL);
	struct vs_gc_policy p = { .version = VS_GC_POLICY_VERSION, .keep_newer_than = 1000,
				  .now = T0 + 49 * 100 };
	static struct vs_oid ids[50];
	struct ids l;

	history(repo, "main", 50, T0, ids);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 11); /* times T0 + 3900 ... T0 + 4900 */
	assert_boundary(repo, &ids[39], 1);
	assert_false(exists(repo, &ids[38]));
	assert_vs_ok(vs_repo_check(repo, NULL));
	if (!strcmp(backend, "git"))
		assert_git_log_agrees(f, repo, "main");
	vs_repo_close(repo);
}

CASE(test_keep_newer_than_keeps_the_recent_window_on_mem,
     keep_newer_than, "mem")
CASE(test_keep_newer_than_keeps_the_recent_window_on_lmdb,
     keep_newer_than, "lmdb")
CASE(test_keep_newer_than_keeps_the_recent_window_on_git,
     keep_newer_than, "git")

static void old_branch_keeps_history(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = open_as(f, backend, "s", NULL);
	struct vs_gc_policy p = keep_last(5);
	struct vs_gc_policy recent = { .version = VS_GC_POLICY_VERSION, .keep_newer_than = 300,
				       .now = T0 + 49 * 100 };
	static struct vs_oid ids[50];
	struct vs_oid want[2], base;
	struct ids l;

	history(repo, "main", 50, T0, ids);
	assert_vs_ok(vs_branch_create(repo, "old", &ids[9]));
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 5);
	log_of(&l, repo, "old");
	assert_int_equal(l.n, 5);
	assert_true(vs_oid_equal(&l.v[0], &ids[9]) && vs_oid_equal(&l.v[4], &ids[5]));
	want[0] = ids[45];
	want[1] = ids[5];
	assert_boundary(repo, want, 2);
	assert_false(exists(repo, &ids[20]));
	/* Their common history is gone: no merge base any more. */
	assert_vs_err(VS_ENOENT, vs_merge_base(&base, repo, &ids[49], &ids[9]));
	assert_int_equal(vs_descendant_of(repo, &ids[49], &ids[9]), 0);
	assert_vs_ok(vs_repo_check(repo, NULL));

	/* By time, the old branch keeps at least the commit it names. */
	assert_vs_ok(vs_gc_run(repo, &recent, NULL, NULL));
	log_of(&l, repo, "old");
	assert_int_equal(l.n, 1);
	log_of(&l, repo, "main");
	assert_int_equal(l.n, 4);
	want[0] = ids[46];
	want[1] = ids[9];
	assert_boundary(repo, want, 2);
	assert_vs_ok(vs_repo_check(repo, NULL));
	if (!strcmp(backend, "git")) {
		assert_git_log_agrees(f, repo, "main");
		assert_git_log_agrees(f, repo, "old");
	}
	vs_repo_close(repo);
}

CASE(test_a_branch_at_an_old_commit_keeps_its_history_on_mem,
     old_branch_keeps_history, "mem")
CASE(test_a_branch_at_an_old_commit_keeps_its_history_on_lmdb,
     old_branch_keeps_history, "lmdb")
CASE(test_a_branch_at_an_old_commit_keeps_its_history_on_git,
     old_branch_keeps_history, "git")

/* A merge whose side branch started below the boundary: git log agrees still. */
static void test_git_log_agrees_with_vs_log_across_a_merge(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "git", "s", NULL);
	struct vs_gc_policy p = keep_last(4);
	struct vs_signature sig = vst_sig(T0 + 9000);
	struct vs_commit_opts o = { .author = &sig, .message = "merge\n" };
	static struct vs_oid ids[30], side[6];
	struct vs_oid merged;
	struct ids l;

	history(repo, "main", 20, T0, ids);
	assert_vs_ok(vs_branch_create(repo, "side", &ids[10]));
	for (int i = 0; i < 6; i++)
		side[i] = commit_kv(repo, "side", "side/key", i % 2 ? "odd" : "even",
				    T0 + 3000 + i);
	assert_vs_ok(vs_branch_merge(&merged, repo, "main", &side[5], NULL, &o, NULL));
	history(repo, "main", 3, T0 + 10000, ids + 20);
	assert_vs_ok(vs_branch_delete(repo, "side", NULL));
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	log_of(&l, repo, "main");
	assert_true(l.n >= 4);
	assert_vs_ok(vs_repo_check(repo, NULL));
	assert_git_log_agrees(f, repo, "main");
	vs_repo_close(repo);
}

static uint64_t bytes_used(struct vs_repo *repo)
{
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_buf v = VS_BUF_INIT;
	assert_vs_ok(b->ops->config_get(b, "stat.bytes_used", &v));
	uint64_t n = strtoull(v.ptr, NULL, 10);
	vs_buf_release(&v);
	return n;
}

/*
 * 3000 single-key commits with keep_last 300 and one GC step after each
 * (a new collection as soon as one ends): LMDB's pages in use after 3000
 * commits stay within 1.2x of those after the first 600. Steps are bounded
 * by objects only (the time budget is out of reach), so the run and its
 * figures do not depend on the machine's speed.
 */
static void test_lmdb_size_levels_off_under_a_stream_of_commits(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", NULL);
	struct vs_gc_policy p = keep_last(300);
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION, .step_objects = 256,
				.step_usec = 10000000 };
	struct vs_gc *gc = NULL;
	uint64_t at600 = 0, peak = 0;
	char key[32], val[32];
	size_t cycles = 0;

	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "d%d/k%d", i % 10, (i * 7) % 100);
		snprintf(val, sizeof(val), "value %d", i);
		commit_kv(repo, "main", key, val, T0 + i);
		if (!gc)
			assert_vs_ok(vs_gc_new(&gc, repo, &p, &o));
		int rc = vs_gc_step(gc, NULL);
		assert_vs_ok(rc);
		if (rc == 0) {
			vs_gc_free(gc);
			gc = NULL;
			cycles++;
		}
		uint64_t used = bytes_used(repo);
		if (i + 1 == 600)
			at600 = used;
		if (i >= 600 && used > peak)
			peak = used;
	}
	vs_gc_free(gc);
	uint64_t at3000 = bytes_used(repo);
	print_message("lmdb bytes used: %llu after 600 commits, %llu after 3000 (peak %llu, "
		      "ratio %.2f), %zu collections\n",
		      (unsigned long long)at600, (unsigned long long)at3000,
		      (unsigned long long)peak, (double)at3000 / (double)at600, cycles);
	assert_true(at3000 * 10 <= at600 * 12);
	assert_true(peak * 10 <= at600 * 15);
	struct ids l;
	log_of(&l, repo, "main");
	assert_true(l.n >= 300 && l.n < 600);
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

/*
 * LMDB keeps rewritten tree nodes as deltas from their previous versions.
 * After a collection the oldest kept version of a node whose base was
 * dropped is stored whole: the store holds exactly what is reachable, no
 * dropped version kept as a base, and every delta left has its base.
 */
static int base_present(void *payload, const struct vs_oid *id)
{
	struct vs_backend *b = payload;
	struct vs_oid base;
	int rc = b->ops->obj_base(b, id, &base);
	assert_true(rc == 0 || rc == 1);
	if (rc == 1)
		assert_int_equal(b->ops->obj_exists(b, &base), 1);
	return 0;
}

static void test_kept_deltas_are_stored_whole_when_their_bases_are_dropped(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", "vs");
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_gc_policy p = keep_last(10);
	static struct vs_oid ids[80];
	struct vs_gc_stats st;
	size_t deltas = 0;

	history(repo, "main", 80, T0, ids);
	for (size_t i = 1; i < 80; i++) { /* the three directories are deltas mostly */
		struct vs_commit *c;
		struct vs_tree *t, *d;
		struct vs_oid id, base;
		assert_vs_ok(vs_commit_lookup(&c, repo, &ids[i]));
		assert_vs_ok(vs_commit_tree(&t, c));
		assert_vs_ok(vs_tree_subtree(&d, t, i % 3 == 0 ? "dir0" : i % 3 == 1 ? "dir1" : "dir2"));
		assert_vs_ok(vs_tree_id(&id, d));
		deltas += b->ops->obj_base(b, &id, &base) == 1;
		vs_tree_free(d);
		vs_tree_free(t);
		vs_commit_free(c);
	}
	assert_true(deltas > 40);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, &st));
	assert_int_equal(objects(repo), st.objects_marked);
	assert_vs_ok(b->ops->obj_foreach(b, base_present, b));
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

static void test_bad_arguments_are_refused(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "mem", "s", NULL);
	struct vs_gc_policy p = keep_last(3), bad;
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION };
	struct vs_gc *gc, *other;
	static struct vs_oid ids[5];

	history(repo, "main", 5, T0, ids);
	assert_vs_err(VS_EINVAL, vs_gc_new(NULL, repo, &p, NULL));
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, NULL, &p, NULL));
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, NULL, NULL));
	assert_null(gc);
	bad = (struct vs_gc_policy){ .version = VS_GC_POLICY_VERSION };
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, &bad, NULL)); /* keeps nothing */
	bad = (struct vs_gc_policy){ .version = 99, .keep_last = 3 };
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, &bad, NULL));
	bad = (struct vs_gc_policy){ .version = VS_GC_POLICY_VERSION, .keep_newer_than = -5 };
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, &bad, NULL));
	bad = (struct vs_gc_policy){ .version = VS_GC_POLICY_VERSION, .keep_last = 2, .now = -1 };
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, &bad, NULL));
	o.version = 7;
	assert_vs_err(VS_EINVAL, vs_gc_new(&gc, repo, &p, &o));
	assert_vs_err(VS_EINVAL, vs_gc_run(repo, &bad, NULL, NULL));
	assert_vs_err(VS_EINVAL, vs_gc_step(NULL, NULL));
	assert_vs_err(VS_EINVAL, vs_gc_boundary(NULL, repo));
	vs_gc_free(NULL);

	/* One collection per repo at a time. */
	assert_vs_ok(vs_gc_new(&gc, repo, &p, NULL));
	assert_vs_err(VS_EBUSY, vs_gc_new(&other, repo, &p, NULL));
	vs_gc_free(gc);
	assert_vs_ok(vs_gc_new(&gc, repo, &p, NULL));
	while (vs_gc_step(gc, NULL) == 1)
		;
	assert_int_equal(vs_gc_step(gc, NULL), 0);
	vs_gc_free(gc);
	vs_repo_close(repo);
}

static void test_a_copy_of_cut_history_keeps_the_boundary(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *src = open_as(f, "mem", "src", NULL);
	struct vs_gc_policy p = keep_last(6);
	static struct vs_oid ids[30];
	struct ids a, b;

	history(src, "main", 30, T0, ids);
	assert_vs_ok(vs_gc_run(src, &p, NULL, NULL));
	const char *backends[] = { "lmdb", "git" };
	for (size_t i = 0; i < 2; i++) {
		struct vs_repo *dst = open_as(f, backends[i], backends[i], "git");
		assert_vs_ok(vs_repo_copy(dst, src, NULL, NULL));
		assert_vs_ok(vs_repo_check(dst, NULL));
		assert_boundary(dst, &ids[24], 1);
		log_of(&a, src, "main");
		log_of(&b, dst, "main");
		assert_int_equal(a.n, 6);
		assert_int_equal(b.n, 6);
		assert_memory_equal(a.v, b.v, a.n * sizeof(a.v[0]));
		vs_repo_close(dst);
	}
	vs_repo_close(src);
}

static void test_a_push_of_cut_history_is_refused_naming_the_boundary(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "git", "s", NULL);
	struct vs_gc_policy p = keep_last(3);
	static struct vs_oid ids[10];
	char url[4200], hex[VS_OID_MAXHEXSZ + 1];

	history(repo, "main", 10, T0, ids);
	assert_int_equal(vst_sh("git init -q --bare '%s/remote'", f->dir), 0);
	snprintf(url, sizeof(url), "%s/remote", f->dir);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	assert_vs_err(VS_ENOTSUP, vs_sync_push(repo, url, "main", NULL, NULL));
	assert_non_null(strstr(vs_error_last()->message, vs_oid_tostr(hex, &ids[7])));
	/* A branch whose history does not reach the boundary still goes. */
	commit_kv(repo, "fresh", "a", "b", T0 + 50000);
	assert_vs_ok(vs_sync_push(repo, url, "fresh", NULL, NULL));
	vs_repo_close(repo);
}

static void test_git_objects_in_packs_are_reported_not_swept(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "git", "s", NULL);
	struct vs_gc_policy p = keep_last(5);
	static struct vs_oid ids[20];
	struct vs_gc_stats st;

	history(repo, "main", 20, T0, ids);
	assert_int_equal(vst_sh("git --git-dir='%s/s' repack -q -a -d", f->dir), 0);
	history(repo, "main", 5, T0 + 5000, ids);
	assert_vs_ok(vs_gc_run(repo, &p, NULL, &st));
	assert_true(st.objects_unswept > 0);
	assert_int_equal(st.commits_dropped, 0); /* every dropped commit sits in the pack */
	assert_vs_ok(vs_repo_check(repo, NULL));
	assert_git_log_agrees(f, repo, "main");
	vs_repo_close(repo);
}

static int list_all(void *payload, const struct vs_oid *id)
{
	struct ids *l = payload;
	assert_true(l->n < MAXC);
	l->v[l->n++] = *id;
	return 0;
}

static int oid_order(const void *a, const void *b)
{
	return vs_oid_cmp(a, b);
}

/* The backend operations GC adds: deletes land with their batch; LMDB lists in steps. */
static void deletes_and_listing(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = open_as(f, backend, "s", NULL);
	struct vs_backend *b = vs_repo_backend(repo);
	static struct vs_oid ids[12];
	static struct ids all, steps;
	struct vs_oid after;
	size_t n;

	history(repo, "main", 12, T0, ids);
	assert_vs_ok(b->ops->batch_begin(b));
	assert_int_equal(b->ops->obj_delete(b, &ids[0]), 0);
	b->ops->batch_abort(b);
	assert_true(exists(repo, &ids[0]));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_int_equal(b->ops->obj_delete(b, &ids[0]), 0);
	assert_vs_ok(b->ops->batch_commit(b));
	assert_false(exists(repo, &ids[0]));
	assert_int_equal(b->ops->obj_delete(b, &ids[0]), 0); /* gone already: fine */
	if (b->ops->obj_list) {
		all.n = steps.n = 0;
		assert_vs_ok(b->ops->obj_foreach(b, list_all, &all));
		qsort(all.v, all.n, sizeof(all.v[0]), oid_order);
		do {
			assert_vs_ok(b->ops->obj_list(b, steps.n ? &after : NULL,
						      steps.v + steps.n, 7, &n));
			steps.n += n;
			if (n)
				after = steps.v[steps.n - 1];
		} while (n == 7);
		assert_int_equal(steps.n, all.n);
		assert_memory_equal(steps.v, all.v, all.n * sizeof(all.v[0]));
	}
	vs_repo_close(repo);
}

CASE(test_deletes_land_with_their_batch_on_mem,
     deletes_and_listing, "mem")
CASE(test_deletes_land_with_their_batch_and_lmdb_lists_in_id_order,
     deletes_and_listing, "lmdb")
CASE(test_deletes_land_with_their_batch_on_git,
     deletes_and_listing, "git")

struct progress_log {
	char stages[8][16];
	size_t n, calls, stop_at;
};

static int on_progress(void *payload, const char *stage, size_t done, size_t total)
{
	struct progress_log *l = payload;
	assert_true(done <= total);
	if (!l->n || strcmp(l->stages[l->n - 1], stage))
		snprintf(l->stages[l->n++], sizeof(l->stages[0]), "%s", stage);
	return ++l->calls == l->stop_at ? 42 : 0;
}

static void test_progress_reports_each_stage_and_can_pause_a_step(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = open_as(f, "lmdb", "s", NULL);
	struct progress_log l = { .stop_at = 2 };
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION, .step_objects = 16,
				.progress = on_progress, .payload = &l };
	struct vs_gc_policy p = keep_last(5);
	static struct vs_oid ids[200];
	struct vs_gc *gc;
	int rc;

	history(repo, "main", 200, T0, ids);
	assert_vs_ok(vs_gc_new(&gc, repo, &p, &o));
	assert_int_equal(vs_gc_step(gc, NULL), 1);
	assert_int_equal(vs_gc_step(gc, NULL), 42); /* stopped: the next step goes on */
	while ((rc = vs_gc_step(gc, NULL)) == 1)
		;
	assert_int_equal(rc, 0);
	vs_gc_free(gc);
	/* Stages come in order, each reported until the next begins. */
	static const char *const order[] = { "walking", "marking", "sweeping", "compacting" };
	for (size_t i = 0, at = 0; i < l.n; i++) {
		while (at < 4 && strcmp(order[at], l.stages[i]))
			at++;
		assert_true(at < 4);
	}
	assert_true(l.n >= 2);
	assert_string_equal(l.stages[l.n - 1], "compacting");
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_repo_close(repo);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_keep_all_sweeps_only_unreachable_objects_on_mem),
		T(test_keep_all_sweeps_only_unreachable_objects_on_lmdb),
		T(test_keep_all_sweeps_only_unreachable_objects_on_git),
		T(test_keep_last_cuts_history_at_the_boundary_on_mem),
		T(test_keep_last_cuts_history_at_the_boundary_on_lmdb),
		T(test_keep_last_cuts_history_at_the_boundary_on_lmdb_in_the_git_format),
		T(test_keep_last_cuts_history_at_the_boundary_on_git),
		T(test_keep_newer_than_keeps_the_recent_window_on_mem),
		T(test_keep_newer_than_keeps_the_recent_window_on_lmdb),
		T(test_keep_newer_than_keeps_the_recent_window_on_git),
		T(test_a_branch_at_an_old_commit_keeps_its_history_on_mem),
		T(test_a_branch_at_an_old_commit_keeps_its_history_on_lmdb),
		T(test_a_branch_at_an_old_commit_keeps_its_history_on_git),
		T(test_git_log_agrees_with_vs_log_across_a_merge),
		T(test_lmdb_size_levels_off_under_a_stream_of_commits),
		T(test_kept_deltas_are_stored_whole_when_their_bases_are_dropped),
		T(test_bad_arguments_are_refused),
		T(test_a_copy_of_cut_history_keeps_the_boundary),
		T(test_a_push_of_cut_history_is_refused_naming_the_boundary),
		T(test_git_objects_in_packs_are_reported_not_swept),
		T(test_progress_reports_each_stage_and_can_pause_a_step),
		T(test_deletes_land_with_their_batch_on_mem),
		T(test_deletes_land_with_their_batch_and_lmdb_lists_in_id_order),
		T(test_deletes_land_with_their_batch_on_git),
	};
#undef T
	return cmocka_run_group_tests_name("gc", tests, NULL, NULL);
}
