/* SPDX-License-Identifier: MIT */
/*
 * The vstore command line's argument parsing: global options and the
 * parsers of log, show, diff, blame, cat and ls (cmd_args.h). No store is
 * opened; usage errors must return CLI_EXIT_USAGE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_args.h"

#define T0 1795168800LL /* 2026-11-20 10:00:00 UTC */

/* argv from a NULL-terminated list of string literals (getopt permutes argv). */
#define ARGV(...)                                                                                  \
	char *argv[] = {__VA_ARGS__, NULL};                                                        \
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1

static void fresh(struct cli *cli)
{
	unsetenv("VSTORE_STORE");
	cli_init(cli);
	cli->now = T0;
}

static void test_global_options_come_before_the_command(void **state)
{
	struct cli cli;
	fresh(&cli);
	{
		ARGV("vstore", "--store", "lmdb:/x", "--json", "--no-pager", "--color=never", "log",
		     "-n", "1");
		assert_int_equal(cli_parse_global(&cli, argc, argv), 6);
		assert_string_equal(cli.store, "lmdb:/x");
		assert_true(cli.json);
		assert_true(cli.no_pager);
		assert_int_equal(cli.color_mode, CLI_COLOR_NEVER);
	}
	fresh(&cli);
	{
		ARGV("vstore", "--store=git:/y", "--color", "show");
		assert_int_equal(cli_parse_global(&cli, argc, argv), 3);
		assert_string_equal(cli.store, "git:/y");
		assert_int_equal(cli.color_mode, CLI_COLOR_ALWAYS);
	}
}

static void test_the_store_defaults_to_the_environment_then_the_daemon(void **state)
{
	struct cli cli;
	fresh(&cli);
	assert_string_equal(cli.store, CLI_DEFAULT_STORE);
	setenv("VSTORE_STORE", "lmdb:/env", 1);
	cli_init(&cli);
	assert_string_equal(cli.store, "lmdb:/env");
	unsetenv("VSTORE_STORE");
}

static void test_bad_global_options_are_usage_errors(void **state)
{
	struct cli cli;
	fresh(&cli);
	{
		ARGV("vstore", "--bogus", "log");
		assert_int_equal(cli_parse_global(&cli, argc, argv), -1);
	}
	{
		ARGV("vstore", "--color=sometimes", "log");
		assert_int_equal(cli_parse_global(&cli, argc, argv), -1);
	}
	{
		ARGV("vstore", "--store");
		assert_int_equal(cli_parse_global(&cli, argc, argv), -1);
	}
	{
		ARGV("vstore", "--help");
		assert_int_equal(cli_parse_global(&cli, argc, argv), 1); /* left to main */
	}
	{
		ARGV("vstore");
		assert_int_equal(cli_parse_global(&cli, argc, argv), 1); /* no command */
	}
}

static void test_log_takes_filters_and_a_path(void **state)
{
	struct cli cli;
	struct log_args a;
	fresh(&cli);
	ARGV("log", "-n", "5", "--since", "2 hours ago", "--until=2026-11-20 10:00", "--domain",
	     "7", "--op", "write", "--oneline", "local/domain/7/");
	assert_int_equal(log_args_parse(&a, &cli, argc, argv), 0);
	assert_int_equal(a.max, 5);
	assert_true(a.has_since);
	assert_int_equal(a.since, T0 - 7200);
	assert_true(a.has_until);
	assert_int_equal(a.until, T0);
	assert_int_equal(a.domain, 7);
	assert_string_equal(a.op, "write");
	assert_true(a.oneline);
	assert_false(a.json);
	assert_string_equal(a.path, "/local/domain/7");
}

static void test_log_defaults_and_global_json(void **state)
{
	struct cli cli;
	struct log_args a;
	fresh(&cli);
	cli.json = true;
	ARGV("log");
	assert_int_equal(log_args_parse(&a, &cli, argc, argv), 0);
	assert_null(a.path);
	assert_null(a.rev);
	assert_int_equal(a.max, 0);
	assert_int_equal(a.domain, -1);
	assert_false(a.has_since);
	assert_true(a.json);
}

static void test_log_rejects_bad_values(void **state)
{
	struct cli cli;
	struct log_args a;
	fresh(&cli);
	static const char *const bad[][3] = {
	    {"-n", "x", NULL},		 {"-n", "-1", NULL},
	    {"--domain", "70000", NULL}, {"--domain", "a", NULL},
	    {"--since", "soon", NULL},	 {"--frobnicate", NULL, NULL},
	    {"a//b", NULL, NULL},	 {"/a", "/b", NULL},
	    {"--op", "", NULL},		 {"--since", "2026-11-21", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[6] = {"log"};
		int argc = 1;
		for (int j = 0; j < 3 && bad[i][j]; j++)
			argv[argc++] = (char *)bad[i][j];
		if (i == 9) /* since after until */
			argv[argc++] = "--until=2026-11-20";
		argv[argc] = NULL;
		if (log_args_parse(&a, &cli, argc, argv) != CLI_EXIT_USAGE)
			fail_msg("log case %zu (%s) accepted", i, bad[i][0]);
	}
	ARGV("log", "-n");
	assert_int_equal(log_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
}

static void test_log_filters_match_the_daemon_trailers(void **state)
{
	struct cli cli;
	struct log_args a;
	fresh(&cli);
	ARGV("log", "--domain", "3", "--op", "WRITE");
	assert_int_equal(log_args_parse(&a, &cli, argc, argv), 0);
	assert_true(log_args_match(&a, "write /x\n\nXs-Domain: 3\nXs-Op: WRITE\n", "dom3"));
	assert_true(log_args_match(&a, "w\n\nXs-Domain: 3\nXs-Op: write\n", "x"));
	assert_false(log_args_match(&a, "w\n\nXs-Domain: 4\nXs-Op: WRITE\n", "dom3"));
	assert_false(log_args_match(&a, "w\n\nXs-Domain: 3\nXs-Op: RM\n", "dom3"));
	/* Without the trailer the author "domN" counts. */
	assert_true(log_args_match(&a, "w\n\nXs-Op: WRITE\n", "dom3"));
	assert_false(log_args_match(&a, "w\n\nXs-Op: WRITE\n", "someone"));
}

static void test_show_and_diff_take_revisions(void **state)
{
	struct cli cli;
	fresh(&cli);
	{
		struct show_args a;
		ARGV("show", "--raw", "HEAD~2");
		assert_int_equal(show_args_parse(&a, &cli, argc, argv), 0);
		assert_true(a.raw);
		assert_string_equal(a.rev, "HEAD~2");
	}
	{
		struct show_args a;
		ARGV("show");
		assert_int_equal(show_args_parse(&a, &cli, argc, argv), 0);
		assert_null(a.rev);
	}
	{
		struct show_args a;
		ARGV("show", "a", "b");
		assert_int_equal(show_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
	{
		struct diff_args a;
		ARGV("diff", "--json", "HEAD~1", "HEAD", "/vm");
		assert_int_equal(diff_args_parse(&a, &cli, argc, argv), 0);
		assert_true(a.json);
		assert_string_equal(a.rev1, "HEAD~1");
		assert_string_equal(a.rev2, "HEAD");
		assert_string_equal(a.path, "/vm");
	}
	{
		struct diff_args a;
		ARGV("diff", "HEAD");
		assert_int_equal(diff_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
}

static void test_blame_cat_and_ls_take_paths(void **state)
{
	struct cli cli;
	fresh(&cli);
	{
		struct blame_args a;
		ARGV("blame", "-r", "main~1", "/local/domain/3");
		assert_int_equal(blame_args_parse(&a, &cli, argc, argv), 0);
		assert_string_equal(a.rev, "main~1");
		assert_string_equal(a.xpath, "/local/domain/3");
	}
	{
		struct blame_args a;
		ARGV("blame");
		assert_int_equal(blame_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
	{
		struct cat_args a;
		ARGV("cat", "/vm/a/name", "--at", "@{yesterday}", "-n");
		assert_int_equal(cat_args_parse(&a, &cli, argc, argv), 0);
		assert_string_equal(a.at, "@{yesterday}");
		assert_string_equal(a.xpath, "/vm/a/name");
		assert_true(a.no_newline);
		assert_false(a.raw);
	}
	{
		struct cat_args a;
		ARGV("cat", "--raw", "vm/a/.value");
		assert_int_equal(cat_args_parse(&a, &cli, argc, argv), 0);
		assert_true(a.raw);
		assert_string_equal(a.path, "vm/a/.value");
	}
	{
		struct cat_args a;
		ARGV("cat", "/bad path");
		assert_int_equal(cat_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
	{
		struct ls_args a;
		ARGV("ls", "-rp", "--at", "HEAD~3");
		assert_int_equal(ls_args_parse(&a, &cli, argc, argv), 0);
		assert_true(a.recursive);
		assert_true(a.perms);
		assert_string_equal(a.at, "HEAD~3");
		assert_string_equal(a.xpath, "/");
	}
	{
		struct ls_args a;
		ARGV("ls", "--at");
		assert_int_equal(ls_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
	{
		struct ls_args a;
		ARGV("ls", "-x");
		assert_int_equal(ls_args_parse(&a, &cli, argc, argv), CLI_EXIT_USAGE);
	}
}

static void test_xenstore_paths_are_canonicalised(void **state)
{
	char p[XSD_PATH_BUF];
	assert_int_equal(cli_xs_path(p, sizeof(p), "/"), 0);
	assert_string_equal(p, "/");
	assert_int_equal(cli_xs_path(p, sizeof(p), "local/domain/0/"), 0);
	assert_string_equal(p, "/local/domain/0");
	assert_int_equal(cli_xs_path(p, sizeof(p), "@introduceDomain"), 0);
	assert_string_equal(p, "@introduceDomain");
	assert_int_equal(cli_xs_path(p, sizeof(p), "/a//b"), VS_EINVAL);
	assert_int_equal(cli_xs_path(p, sizeof(p), "/a.b"), VS_EINVAL);
	assert_int_equal(cli_xs_path(p, 4, "/abcd"), VS_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_global_options_come_before_the_command),
	    cmocka_unit_test(test_the_store_defaults_to_the_environment_then_the_daemon),
	    cmocka_unit_test(test_bad_global_options_are_usage_errors),
	    cmocka_unit_test(test_log_takes_filters_and_a_path),
	    cmocka_unit_test(test_log_defaults_and_global_json),
	    cmocka_unit_test(test_log_rejects_bad_values),
	    cmocka_unit_test(test_log_filters_match_the_daemon_trailers),
	    cmocka_unit_test(test_show_and_diff_take_revisions),
	    cmocka_unit_test(test_blame_cat_and_ls_take_paths),
	    cmocka_unit_test(test_xenstore_paths_are_canonicalised),
	};
	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests_name("cli_args", tests, NULL, NULL);
}
