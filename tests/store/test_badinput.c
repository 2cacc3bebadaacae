/* SPDX-License-Identifier: MIT */
/*
 * Bad stored data: corrupted objects, a truncated ref, a missing object and
 * a stale git lock each give a clear error, never a crash, and what was
 * committed before stays readable.
 */
#include <unistd.h>

#include "vst.h"
#include "vstore/sys/backend.h"

struct fixture {
	char *dir;
	struct vs_repo *repo;
	struct vs_oid good; /* head of "main": a valid commit */
};

static struct fixture *open_fixture(const char *backend)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vs_tree *t, *n;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "good\n" };

	f->dir = vst_tmpdir(backend);
	f->repo = vst_repo_open(backend, f->dir);
	assert_vs_ok(vs_tree_new(&t, f->repo));
	assert_vs_ok(vs_tree_set(&n, t, "local/domain/1/name", "guest", 5));
	assert_vs_ok(vs_branch_commit(&f->good, f->repo, "main", NULL, n, &o));
	vs_tree_free(t);
	vs_tree_free(n);
	return f;
}

static void close_fixture(struct fixture *f)
{
	vs_repo_close(f->repo);
	vst_rmrf(f->dir);
	free(f->dir);
	free(f);
}

static void assert_good_still_readable(struct fixture *f)
{
	struct vs_buf v = VS_BUF_INIT;
	assert_vs_ok(vs_read_at(&v, f->repo, &f->good, "local/domain/1/name"));
	assert_string_equal(v.ptr, "guest");
	vs_buf_release(&v);
}

/* Store @bytes as an object of @type under the id git would give them. */
static struct vs_oid put_raw(struct fixture *f, int type, const char *bytes, size_t len)
{
	static const char *const names[] = { "", "commit", "tree", "blob", "tag" };
	struct vs_backend *b = vs_repo_backend(f->repo);
	char path[4200];
	struct vs_oid id;

	snprintf(path, sizeof(path), "%s/raw", f->dir);
	FILE *fp = fopen(path, "wb");
	fwrite(bytes, 1, len, fp);
	fclose(fp);
	char *hex = vst_sh_out("git hash-object --literally -t %s '%s'", names[type], path);
	assert_non_null(hex);
	assert_vs_ok(vs_oid_fromhex(&id, hex, 40));
	free(hex);
	assert_vs_ok(b->ops->obj_write(b, &id, (enum vs_otype)type, bytes, len));
	return id;
}

static void corrupted_objects(const char *backend)
{
	struct fixture *f = open_fixture(backend);
	struct vs_backend *b = vs_repo_backend(f->repo);
	static const char garbage_commit[] = "tree nonsense\nauthor nobody\n";
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;

	struct vs_oid bad = put_raw(f, VS_OBJ_COMMIT, garbage_commit, sizeof(garbage_commit) - 1);
	assert_vs_err(VS_ECORRUPT, vs_commit_lookup(&c, f->repo, &bad));
	assert_null(c);
	assert_non_null(strstr(vs_error_last()->message, "tree"));
	/* A garbage tree behind a well-formed commit. */
	struct vs_oid badtree = put_raw(f, VS_OBJ_TREE, "100644 x", 8);
	assert_vs_err(VS_ECORRUPT, vs_tree_lookup(&t, f->repo, &badtree));
	assert_null(t);
	/* A branch pointing at the garbage commit: check names it, main is intact. */
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/broken", &bad, NULL));
	assert_vs_err(VS_ECORRUPT, vs_repo_check(f->repo, NULL));
	assert_good_still_readable(f);
	close_fixture(f);
}

static void test_corrupted_objects_are_reported_on_mem(void **state)
{
	(void)state;
	corrupted_objects("mem");
}

static void test_corrupted_objects_are_reported_on_lmdb(void **state)
{
	(void)state;
	corrupted_objects("lmdb");
}

static void test_corrupted_objects_are_reported_on_git(void **state)
{
	(void)state;
	corrupted_objects("git");
}

static void test_truncated_git_ref_is_a_clear_error(void **state)
{
	struct fixture *f = open_fixture("git");
	struct vs_oid head;
	(void)state;

	assert_int_equal(vst_sh("truncate -s 11 '%s/store/refs/heads/main'", f->dir), 0);
	vs_repo_close(f->repo);
	f->repo = vst_repo_open("git", f->dir);
	int rc = vs_branch_head(&head, f->repo, "main");
	assert_true(rc < 0);
	assert_non_null(strstr(vs_error_last()->message, "main"));
	/* The commit itself is still there, readable by id. */
	assert_good_still_readable(f);
	close_fixture(f);
}

static void test_missing_object_fails_check_and_reads(void **state)
{
	struct fixture *f = open_fixture("git");
	struct vs_commit *c;
	struct vs_tree *t;
	char hex[VS_OID_MAXHEXSZ + 1];
	struct vs_buf v = VS_BUF_INIT;
	(void)state;

	/* Delete the loose object of the value "guest". */
	assert_vs_ok(vs_commit_lookup(&c, f->repo, &f->good));
	assert_vs_ok(vs_commit_tree(&t, c));
	struct vs_tree_stat st;
	assert_vs_ok(vs_tree_stat(&st, t, "local/domain/1/name"));
	vs_oid_tostr(hex, &st.id);
	assert_int_equal(vst_sh("rm -f '%s/store/objects/%.2s/%s'", f->dir, hex, hex + 2), 0);
	vs_tree_free(t);
	vs_commit_free(c);
	vs_repo_close(f->repo);
	f->repo = vst_repo_open("git", f->dir);
	assert_vs_err(VS_ECORRUPT, vs_repo_check(f->repo, NULL));
	assert_non_null(strstr(vs_error_last()->message, hex));
	assert_vs_err(VS_ENOENT, vs_read_at(&v, f->repo, &f->good, "local/domain/1/name"));
	vs_buf_release(&v);
	close_fixture(f);
}

static void test_stale_git_lock_is_a_clear_error_and_loses_nothing(void **state)
{
	struct fixture *f = open_fixture("git");
	struct vs_tree *t, *n;
	struct vs_oid id, head;
	struct vs_signature sig = vst_sig(1700000100);
	struct vs_commit_opts o = { .author = &sig, .message = "after lock\n" };
	(void)state;

	assert_int_equal(vst_sh("touch '%s/store/refs/heads/main.lock'", f->dir), 0);
	assert_vs_ok(vs_tree_new(&t, f->repo));
	assert_vs_ok(vs_tree_set(&n, t, "k", "v", 1));
	assert_vs_err(VS_EBUSY, vs_branch_commit(&id, f->repo, "main", NULL, n, &o));
	assert_non_null(strstr(vs_error_last()->message, "main.lock"));
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &f->good));
	assert_int_equal(vst_sh("rm '%s/store/refs/heads/main.lock'", f->dir), 0);
	assert_vs_ok(vs_branch_commit(&id, f->repo, "main", NULL, n, &o));
	assert_vs_ok(vs_repo_check(f->repo, NULL));
	assert_good_still_readable(f);
	vs_tree_free(t);
	vs_tree_free(n);
	close_fixture(f);
}

static void test_bad_signatures_and_messages_are_refused(void **state)
{
	struct fixture *f = open_fixture("mem");
	struct vs_tree *t;
	struct vs_oid id;
	struct vs_signature bad[] = {
		{ "", "e@x", 1, 0 },
		{ "a<b", "e@x", 1, 0 },
		{ "ok", "e>x", 1, 0 },
		{ "ok", "e\nx", 1, 0 },
		{ "ok", "e@x", -1, 0 },
		{ "ok", "e@x", 1, 1440 },
	};
	(void)state;

	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vs_commit_opts o = { .author = &bad[i], .message = "m\n" };
		assert_vs_err(VS_EINVAL, vs_commit_create(&id, f->repo, t, &o));
	}
	vs_tree_free(t);
	close_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corrupted_objects_are_reported_on_mem),
		cmocka_unit_test(test_corrupted_objects_are_reported_on_lmdb),
		cmocka_unit_test(test_corrupted_objects_are_reported_on_git),
		cmocka_unit_test(test_truncated_git_ref_is_a_clear_error),
		cmocka_unit_test(test_missing_object_fails_check_and_reads),
		cmocka_unit_test(test_stale_git_lock_is_a_clear_error_and_loses_nothing),
		cmocka_unit_test(test_bad_signatures_and_messages_are_refused),
	};
	return cmocka_run_group_tests_name("badinput", tests, NULL, NULL);
}
