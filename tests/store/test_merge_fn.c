/* SPDX-License-Identifier: MIT */
/*
 * The stock contents merge functions (vs_merge_default, _lww, _counter,
 * _json) on three optional values, and last-writer-wins over commits'
 * committer times.
 */
#include "merge_fixture.h"

/* Run @fn on three optional C strings (NULL: absent); on success *out holds the result. */
static int merge3(vs_merge_fn *fn, struct vs_buf *out, bool *deleted, const char *base,
		  const char *ours, const char *theirs, int64_t ours_time, int64_t theirs_time)
{
	struct vs_slice sb = { base, base ? strlen(base) : 0 };
	struct vs_slice so = { ours, ours ? strlen(ours) : 0 };
	struct vs_slice st = { theirs, theirs ? strlen(theirs) : 0 };
	struct vs_merge_input in = {
		.path = "some/key",
		.base = base ? &sb : NULL,
		.ours = ours ? &so : NULL,
		.theirs = theirs ? &st : NULL,
		.ours_time = ours_time,
		.theirs_time = theirs_time,
	};
	*deleted = false;
	vs_buf_clear(out);
	return fn(out, deleted, &in, NULL);
}

/* @fn must merge to @want (NULL: deleted). */
static void assert_merges_to(vs_merge_fn *fn, const char *base, const char *ours,
			     const char *theirs, const char *want)
{
	struct vs_buf out = VS_BUF_INIT;
	bool deleted;
	assert_vs_ok(merge3(fn, &out, &deleted, base, ours, theirs, 0, 0));
	if (!want) {
		assert_true(deleted);
	} else {
		assert_false(deleted);
		assert_int_equal(out.size, strlen(want));
		assert_memory_equal(out.ptr, want, out.size);
	}
	vs_buf_release(&out);
}

static void assert_conflicts(vs_merge_fn *fn, const char *base, const char *ours,
			     const char *theirs)
{
	struct vs_buf out = VS_BUF_INIT;
	bool deleted;
	assert_vs_err(VS_ECONFLICT, merge3(fn, &out, &deleted, base, ours, theirs, 0, 0));
	assert_non_null(strstr(vs_error_last()->message, "some/key"));
	vs_buf_release(&out);
}

static void test_merge_default_function_takes_the_side_that_changed(void **state)
{
	(void)state;
	assert_merges_to(vs_merge_default, "1", "1", "2", "2");
	assert_merges_to(vs_merge_default, "1", "2", "1", "2");
	assert_merges_to(vs_merge_default, "1", "3", "3", "3");
	assert_merges_to(vs_merge_default, "1", NULL, NULL, NULL);
	assert_merges_to(vs_merge_default, "1", "1", NULL, NULL);
	assert_merges_to(vs_merge_default, NULL, "", "", "");
	assert_conflicts(vs_merge_default, "1", "2", "3");
	assert_conflicts(vs_merge_default, NULL, "2", "3");
	assert_conflicts(vs_merge_default, "1", NULL, "3");
}

static void test_merge_lww_later_writer_wins(void **state)
{
	struct vs_buf out = VS_BUF_INIT;
	bool deleted;

	(void)state;
	assert_vs_ok(merge3(vs_merge_lww, &out, &deleted, "1", "ours", "theirs", 20, 10));
	assert_string_equal(out.ptr, "ours");
	assert_vs_ok(merge3(vs_merge_lww, &out, &deleted, "1", "ours", "theirs", 10, 20));
	assert_string_equal(out.ptr, "theirs");
	/* A tie (and tree merges, with no times) goes to theirs. */
	assert_vs_ok(merge3(vs_merge_lww, &out, &deleted, "1", "ours", "theirs", 0, 0));
	assert_string_equal(out.ptr, "theirs");
	/* A later deletion is a write like any other. */
	assert_vs_ok(merge3(vs_merge_lww, &out, &deleted, "1", NULL, "theirs", 30, 20));
	assert_true(deleted);
	/* Only one side changed: it wins whatever the times. */
	assert_vs_ok(merge3(vs_merge_lww, &out, &deleted, "1", "1", "theirs", 99, 1));
	assert_false(deleted);
	assert_string_equal(out.ptr, "theirs");
	vs_buf_release(&out);
}

static void test_merge_lww_commits_use_committer_times(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *base = edit(f->repo, NULL, "k", "0", NULL);
	struct vs_tree *ours = edit(f->repo, base, "k", "ours", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "k", "theirs", NULL);
	struct vs_oid b = commit(f->repo, base, 100, NULL, 0);
	struct vs_oid o = commit(f->repo, ours, 300, &b, 1);
	struct vs_oid t = commit(f->repo, theirs, 200, &b, 1);
	struct vs_merge_opts lww = { .fn = vs_merge_lww };
	struct vs_merge_result r;

	assert_vs_ok(vs_merge_commits(&r, f->repo, &o, &t, &lww));
	assert_value(r.tree, "k", "ours");
	vs_merge_result_dispose(&r);
	assert_vs_ok(vs_merge_commits(&r, f->repo, &t, &o, &lww));
	assert_value(r.tree, "k", "ours");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
}

static void test_merge_counter_adds_both_increments(void **state)
{
	struct fixture *f = *state;

	assert_merges_to(vs_merge_counter, "10", "15", "7", "12");
	assert_merges_to(vs_merge_counter, "1", "2", "2", "3");
	assert_merges_to(vs_merge_counter, "-5", "-10", "0", "-5");
	/* Absent counts 0: created on both sides, or deleted against a change. */
	assert_merges_to(vs_merge_counter, NULL, "3", "4", "7");
	assert_merges_to(vs_merge_counter, "10", NULL, "12", "2");
	/* One side changed: it wins, a deletion included; both deleted: deleted. */
	assert_merges_to(vs_merge_counter, "10", "10", NULL, NULL);
	assert_merges_to(vs_merge_counter, "10", NULL, NULL, NULL);
	assert_merges_to(vs_merge_counter, "10", "x", "10", "x");
	assert_merges_to(vs_merge_counter, "0", "9223372036854775807", "-9223372036854775808",
			 "-1");
	assert_conflicts(vs_merge_counter, "1", "2", "three");
	assert_conflicts(vs_merge_counter, "1", " 2", "3");
	assert_conflicts(vs_merge_counter, "1", "-", "3");
	assert_conflicts(vs_merge_counter, "0", "9223372036854775807", "1");
	assert_conflicts(vs_merge_counter, "0", "9223372036854775808", "1");

	/* In a tree merge, through the options. */
	struct vs_tree *base = edit(f->repo, NULL, "hits", "1", "bad", "1", NULL);
	struct vs_tree *ours = edit(f->repo, base, "hits", "3", "bad", "2", NULL);
	struct vs_tree *theirs = edit(f->repo, base, "hits", "5", "bad", "nan", NULL);
	struct vs_merge_opts counter = { .fn = vs_merge_counter };
	struct vs_merge_result r;
	assert_vs_err(VS_ECONFLICT, vs_merge_trees(&r, base, ours, theirs, &counter));
	assert_int_equal(r.conflicts.count, 1);
	assert_string_equal(r.conflicts.strings[0], "bad");
	assert_value(r.tree, "hits", "7");
	vs_merge_result_dispose(&r);
	vs_tree_free(base);
	vs_tree_free(ours);
	vs_tree_free(theirs);
}

static void test_merge_json_merges_objects_key_by_key(void **state)
{
	(void)state;
	assert_merges_to(vs_merge_json, "{\"a\":1,\"n\":{\"x\":1,\"y\":1},\"gone\":0}",
			 "{\"a\":2, \"n\":{\"x\":2,\"y\":1}, \"gone\":0, \"o\":true}",
			 "{\"n\":{\"y\":3,\"x\":1},\"a\":1,\"t\":null}",
			 "{\"a\":2,\"n\":{\"x\":2,\"y\":3},\"o\":true,\"t\":null}");
	/* Added on both sides (no base), each with its own keys. */
	assert_merges_to(vs_merge_json, NULL, "{\"b\":[1,2]}", "{\"a\":\"s\"}",
			 "{\"a\":\"s\",\"b\":[1,2]}");
	/* The same key changed alike, with different spacing. */
	assert_merges_to(vs_merge_json, "{\"a\":1}", "{\"a\": 5, \"c\": 1}", "{\"a\":5,\"d\":2}",
			 "{\"a\":5,\"c\":1,\"d\":2}");
	/* Not objects: the default rule, equality judged as JSON. */
	assert_merges_to(vs_merge_json, "[0]", "[1, 2]", "[1,2]", "[1, 2]");
	assert_conflicts(vs_merge_json, "[0]", "[1]", "[2]");
	assert_conflicts(vs_merge_json, "{\"a\":1}", NULL, "{\"a\":2}");
}

static void test_merge_json_conflicting_keys_are_all_named(void **state)
{
	struct vs_buf out = VS_BUF_INIT;
	bool deleted;

	(void)state;
	assert_vs_err(VS_ECONFLICT,
		      merge3(vs_merge_json, &out, &deleted,
			     "{\"a\":1,\"n\":{\"x\":1},\"ok\":1}",
			     "{\"a\":2,\"n\":{\"x\":2},\"ok\":1,\"s/t\":1}",
			     "{\"a\":3,\"n\":{\"x\":3},\"ok\":2,\"s/t\":2}", 0, 0));
	const char *msg = vs_error_last()->message;
	assert_non_null(strstr(msg, "some/key"));
	assert_non_null(strstr(msg, "/a"));
	assert_non_null(strstr(msg, "/n/x"));
	assert_non_null(strstr(msg, "/s~1t"));
	assert_null(strstr(msg, "/ok"));
	vs_buf_release(&out);
}

static void test_merge_json_invalid_json_is_a_conflict(void **state)
{
	struct vs_buf out = VS_BUF_INIT;
	bool deleted;

	(void)state;
	assert_vs_err(VS_ECONFLICT, merge3(vs_merge_json, &out, &deleted, "{}", "{\"a\":1",
					   "{\"b\":2}", 0, 0));
	assert_non_null(strstr(vs_error_last()->message, "some/key"));
	assert_non_null(strstr(vs_error_last()->message, "invalid JSON"));
	assert_vs_err(VS_ECONFLICT, merge3(vs_merge_json, &out, &deleted, "{}", "{\"a\":1}",
					   "{\"b\":1,\"b\":2}", 0, 0));
	/* One side changed: nothing is parsed, so nothing can be invalid. */
	assert_vs_ok(merge3(vs_merge_json, &out, &deleted, "{}", "{}", "not json", 0, 0));
	assert_string_equal(out.ptr, "not json");
	vs_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_merge_default_function_takes_the_side_that_changed),
		T(test_merge_lww_later_writer_wins),
		T(test_merge_lww_commits_use_committer_times),
		T(test_merge_counter_adds_both_increments),
		T(test_merge_json_merges_objects_key_by_key),
		T(test_merge_json_conflicting_keys_are_all_named),
		T(test_merge_json_invalid_json_is_a_conflict),
#undef T
	};
	return cmocka_run_group_tests_name("merge_fn", tests, NULL, NULL);
}
