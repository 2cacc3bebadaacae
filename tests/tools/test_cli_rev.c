/* SPDX-License-Identifier: MIT */
/*
 * The vstore command line's revision and time syntax (cli_rev.c): parsing
 * without a store, then resolution against a small mem store with known
 * commit times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "vst.h"

/* 2026-11-20 10:00:00 UTC */
#define T0 1795168800LL

static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	return 0;
}

static void test_full_dates_parse_in_utc_and_with_zones(void **state)
{
	int64_t t;
	assert_vs_ok(cli_parse_time(&t, "2026-11-20 10:00", 0));
	assert_int_equal(t, T0);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20T10:00:05", 0));
	assert_int_equal(t, T0 + 5);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20", 0));
	assert_int_equal(t, T0 - 10 * 3600);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20 11:00 +01:00", 0));
	assert_int_equal(t, T0);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20T08:30:00-0130", 0));
	assert_int_equal(t, T0);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20T10:00:00Z", 0));
	assert_int_equal(t, T0);
	assert_vs_ok(cli_parse_time(&t, "  @1795168800 ", 0));
	assert_int_equal(t, T0);
}

static void test_local_time_follows_tz(void **state)
{
	int64_t t;
	setenv("TZ", "CET-1", 1);
	assert_vs_ok(cli_parse_time(&t, "2026-11-20 11:00", 0));
	assert_int_equal(t, T0);
	setenv("TZ", "UTC", 1);
}

static void test_relative_times_count_back_from_now(void **state)
{
	int64_t t;
	assert_vs_ok(cli_parse_time(&t, "now", T0));
	assert_int_equal(t, T0);
	assert_vs_ok(cli_parse_time(&t, "2 hours ago", T0));
	assert_int_equal(t, T0 - 7200);
	assert_vs_ok(cli_parse_time(&t, "1 hour", T0));
	assert_int_equal(t, T0 - 3600);
	assert_vs_ok(cli_parse_time(&t, "90s", T0));
	assert_int_equal(t, T0 - 90);
	assert_vs_ok(cli_parse_time(&t, "5m", T0));
	assert_int_equal(t, T0 - 300);
	assert_vs_ok(cli_parse_time(&t, "3 days ago", T0));
	assert_int_equal(t, T0 - 3 * 86400);
	assert_vs_ok(cli_parse_time(&t, "2w", T0));
	assert_int_equal(t, T0 - 14 * 86400);
	assert_vs_ok(cli_parse_time(&t, "yesterday", T0));
	assert_int_equal(t, T0 - 86400);
	assert_vs_ok(cli_parse_time(&t, "today", T0));
	assert_int_equal(t, T0 - 10 * 3600);
}

static void test_bad_times_are_einval(void **state)
{
	static const char *const bad[] = {
	    "",
	    "tomorrowish",
	    "2026-13-01",
	    "2026-02-30",
	    "2026-11-20 25:00",
	    "2026-11-20T",
	    "2026-11-20 10:00 +25:00",
	    "5 parsecs ago",
	    "@12x",
	    "-3 hours",
	    "2026/11/20",
	    "12",
	};
	int64_t t;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_time(&t, bad[i], T0) != VS_EINVAL)
			fail_msg("'%s' parsed as %lld", bad[i], (long long)t);
	}
}

static void test_revisions_parse_into_base_date_and_steps(void **state)
{
	struct cli_rev r;
	assert_vs_ok(cli_rev_parse(&r, "HEAD", T0));
	assert_string_equal(r.base, "");
	assert_false(r.has_date);
	assert_int_equal(r.back, 0);

	assert_vs_ok(cli_rev_parse(&r, "main~3", T0));
	assert_string_equal(r.base, "main");
	assert_int_equal(r.back, 3);

	assert_vs_ok(cli_rev_parse(&r, "HEAD^^~2^1^0", T0));
	assert_string_equal(r.base, "");
	assert_int_equal(r.back, 5);
	assert_int_equal(r.nsteps, 1);
	assert_int_equal(r.steps[0].count, 5);

	assert_vs_ok(cli_rev_parse(&r, "main^2~3", T0));
	assert_int_equal(r.nsteps, 2);
	assert_int_equal(r.steps[0].parent, 2);
	assert_int_equal(r.steps[0].count, 1);
	assert_int_equal(r.steps[1].parent, 1);
	assert_int_equal(r.steps[1].count, 3);
	assert_int_equal(r.back, 4);

	assert_vs_ok(cli_rev_parse(&r, "a1b2c3d~", T0));
	assert_string_equal(r.base, "a1b2c3d");
	assert_int_equal(r.back, 1);

	assert_vs_ok(cli_rev_parse(&r, "@{2026-11-20 10:00}", T0));
	assert_string_equal(r.base, "");
	assert_true(r.has_date);
	assert_int_equal(r.date, T0);

	assert_vs_ok(cli_rev_parse(&r, "txn/7@{2 hours ago}~1", T0));
	assert_string_equal(r.base, "txn/7");
	assert_int_equal(r.date, T0 - 7200);
	assert_int_equal(r.back, 1);

	assert_vs_ok(cli_rev_parse(&r, "@", T0));
	assert_string_equal(r.base, "");
}

static void test_bad_revisions_are_einval(void **state)
{
	static const char *const bad[] = {
	    "",
	    "~1",
	    "main~x",
	    "a^2^2^2^2^2^2^2^2^2^2^2^2^2^2^2^2^2",
	    "@{}",
	    "@{not a date}",
	    "main@{2026-11-20",
	    "ma in",
	    "main:x",
	    "HEAD~99999999999",
	};
	struct cli_rev r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_rev_parse(&r, bad[i], T0) != VS_EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
}

static void test_times_format_as_git_and_iso(void **state)
{
	char buf[64];
	assert_string_equal(cli_format_time(buf, sizeof(buf), T0, 0, CLI_TIME_GIT),
			    "Fri Nov 20 10:00:00 2026 +0000");
	assert_string_equal(cli_format_time(buf, sizeof(buf), T0, 90, CLI_TIME_ISO),
			    "2026-11-20T11:30:00+01:30");
	assert_string_equal(cli_format_time(buf, sizeof(buf), T0, -300, CLI_TIME_GIT),
			    "Fri Nov 20 05:00:00 2026 -0500");
}

static void test_trailers_are_found_after_the_subject(void **state)
{
	const char *msg = "write /a\n\nXs-Domain: 3\nXs-Op: WRITE\nXs-Tx: 0\n";
	char v[16];
	assert_true(cli_trailer(v, sizeof(v), msg, "Xs-Op"));
	assert_string_equal(v, "WRITE");
	assert_true(cli_trailer(v, sizeof(v), msg, "Xs-Domain"));
	assert_string_equal(v, "3");
	assert_false(cli_trailer(v, sizeof(v), msg, "Xs-Dom"));
	assert_false(cli_trailer(v, sizeof(v), "Xs-Op: WRITE", "Xs-Op"));
	assert_true(cli_trailer(v, 4, msg, "Xs-Op"));
	assert_string_equal(v, "WRI");
}

/* A mem store: main = c0 <- c1 <- c2, a "side" branch at c1, times T0 + 60 * i. */
struct fixture {
	struct vs_repo *repo;
	struct vs_oid c[3];
	struct cli cli;
};

static int setup_repo(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vs_tree *t = NULL, *n;
	assert_non_null(f);
	setenv("TZ", "UTC", 1);
	f->repo = vst_repo_open("mem", NULL);
	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (int i = 0; i < 3; i++) {
		char v[8];
		snprintf(v, sizeof(v), "v%d", i);
		assert_vs_ok(vs_tree_set(&n, t, "k/.value", v, strlen(v)));
		vs_tree_free(t);
		t = n;
		struct vs_signature sig = vst_sig(T0 + 60 * i);
		struct vs_commit_opts o = {.author = &sig, .message = "m\n"};
		assert_vs_ok(vs_branch_commit(&f->c[i], f->repo, "main", NULL, t, &o));
	}
	vs_tree_free(t);
	assert_vs_ok(vs_branch_create(f->repo, "side", &f->c[1]));
	cli_init(&f->cli);
	f->cli.now = T0 + 3600;
	*state = f;
	return 0;
}

static int teardown_repo(void **state)
{
	struct fixture *f = *state;
	vs_repo_close(f->repo);
	free(f);
	return 0;
}

static void assert_resolves(struct fixture *f, const char *spec, int want)
{
	struct vs_oid id;
	int err = cli_resolve_rev(&id, &f->cli, f->repo, spec);
	if (err < 0)
		fail_msg("'%s': %s", spec, vs_error_last()->message);
	if (!vs_oid_equal(&id, &f->c[want]))
		fail_msg("'%s' is not commit %d", spec, want);
}

static void test_names_ids_prefixes_and_steps_resolve(void **state)
{
	struct fixture *f = *state;
	char hex[VS_OID_MAXHEXSZ + 1], spec[80];
	assert_resolves(f, "HEAD", 2);
	assert_resolves(f, "main", 2);
	assert_resolves(f, "HEAD~2", 0);
	assert_resolves(f, "main^", 1);
	assert_resolves(f, "side", 1);
	assert_resolves(f, "refs/heads/side~1", 0);
	vs_oid_tostr(hex, &f->c[1]);
	assert_resolves(f, hex, 1);
	snprintf(spec, sizeof(spec), "%.8s~1", hex);
	assert_resolves(f, spec, 0);
}

static void test_dates_pick_the_newest_commit_not_after_them(void **state)
{
	struct fixture *f = *state;
	struct vs_oid id;
	assert_resolves(f, "@{2026-11-20 10:01:30}", 1);
	assert_resolves(f, "main@{2026-11-20 10:02}", 2);
	assert_resolves(f, "@{@1795168800}", 0);
	assert_resolves(f, "@{1 hour ago}", 0); /* now = T0 + 1 h */
	assert_vs_err(VS_ENOENT, cli_resolve_rev(&id, &f->cli, f->repo, "@{2026-11-20 09:59}"));
	/* --at also takes a bare time, and a revision first. */
	assert_vs_ok(cli_resolve_at(&id, &f->cli, f->repo, "2026-11-20 10:01"));
	assert_true(vs_oid_equal(&id, &f->c[1]));
	assert_vs_ok(cli_resolve_at(&id, &f->cli, f->repo, "side~1"));
	assert_true(vs_oid_equal(&id, &f->c[0]));
}

static void test_unknown_revisions_are_enoent_with_a_message(void **state)
{
	struct fixture *f = *state;
	struct vs_oid id;
	assert_vs_err(VS_ENOENT, cli_resolve_rev(&id, &f->cli, f->repo, "nosuch"));
	assert_non_null(strstr(vs_error_last()->message, "unknown revision 'nosuch'"));
	assert_vs_err(VS_ENOENT, cli_resolve_rev(&id, &f->cli, f->repo, "HEAD~3"));
	assert_non_null(strstr(vs_error_last()->message, "only 2 commits"));
	assert_vs_err(VS_ENOENT, cli_resolve_at(&id, &f->cli, f->repo, "neither"));
	assert_non_null(strstr(vs_error_last()->message, "neither a revision nor a time"));
	assert_vs_err(VS_ENOENT, cli_resolve_rev(&id, &f->cli, f->repo, "main^2"));
	assert_non_null(strstr(vs_error_last()->message, "no parent 2"));
}

static void test_tree_at_loads_the_commit_tree(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t;
	struct vs_oid id;
	struct vs_buf b = VS_BUF_INIT;
	assert_vs_ok(cli_tree_at(&t, &id, &f->cli, f->repo, "HEAD~1"));
	assert_true(vs_oid_equal(&id, &f->c[1]));
	assert_vs_ok(vs_tree_get(&b, t, "k/.value"));
	assert_memory_equal(b.ptr, "v1", 2);
	vs_tree_free(t);
	assert_vs_ok(cli_tree_at(&t, NULL, &f->cli, f->repo, NULL));
	assert_vs_ok(vs_tree_get(&b, t, "k/.value"));
	assert_memory_equal(b.ptr, "v2", 2);
	vs_tree_free(t);
	vs_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_dates_parse_in_utc_and_with_zones),
	    cmocka_unit_test(test_local_time_follows_tz),
	    cmocka_unit_test(test_relative_times_count_back_from_now),
	    cmocka_unit_test(test_bad_times_are_einval),
	    cmocka_unit_test(test_revisions_parse_into_base_date_and_steps),
	    cmocka_unit_test(test_bad_revisions_are_einval),
	    cmocka_unit_test(test_times_format_as_git_and_iso),
	    cmocka_unit_test(test_trailers_are_found_after_the_subject),
	    cmocka_unit_test_setup_teardown(test_names_ids_prefixes_and_steps_resolve, setup_repo,
					    teardown_repo),
	    cmocka_unit_test_setup_teardown(test_dates_pick_the_newest_commit_not_after_them,
					    setup_repo, teardown_repo),
	    cmocka_unit_test_setup_teardown(test_unknown_revisions_are_enoent_with_a_message,
					    setup_repo, teardown_repo),
	    cmocka_unit_test_setup_teardown(test_tree_at_loads_the_commit_tree, setup_repo,
					    teardown_repo),
	};
	return cmocka_run_group_tests_name("cli_rev", tests, utc, NULL);
}
