/* SPDX-License-Identifier: MIT */
/*
 * The vstore command line's output helpers (cli_out.c, cli.c): colour only
 * when resolved on, the pager only on a terminal, the progress line, and
 * error lines with their exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "vst.h"

/* Run @p fn with stderr sent to a temporary file; return what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/vstore-cli-out-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
	close(fd);
	unlink(path);
	return buf;
}

static void test_colour_is_empty_unless_resolved_on(void **state)
{
	struct cli cli;
	cli_init(&cli);
	cli.color_mode = CLI_COLOR_NEVER;
	cli_color_resolve(&cli);
	assert_string_equal(cli_color(&cli, CLI_C_ADDED), "");
	cli.color_mode = CLI_COLOR_ALWAYS;
	cli_color_resolve(&cli);
	assert_string_equal(cli_color(&cli, CLI_C_ADDED), "\033[32m");
	assert_string_equal(cli_color(&cli, CLI_C_RESET), "\033[m");
	assert_string_equal(cli_color(&cli, CLI_C_COUNT), "");
	/* auto: the tests' stdout is a pipe or a file, never a terminal here */
	if (!isatty(STDOUT_FILENO)) {
		cli.color_mode = CLI_COLOR_AUTO;
		cli_color_resolve(&cli);
		assert_false(cli.color);
	}
}

static void test_the_pager_starts_only_on_a_terminal(void **state)
{
	struct cli cli;
	cli_init(&cli);
	if (isatty(STDOUT_FILENO))
		skip();
	setenv("PAGER", "false", 1);
	cli_pager_start(&cli);
	assert_int_equal(cli.pager_pid, 0);
	cli_pager_stop(&cli); /* a no-op without one */
	assert_int_equal(cli.pager_pid, 0);
}

static void run_progress(void *arg)
{
	struct cli_progress *p = arg;
	cli_progress_cb(p, "counting", 1, 0);
	cli_progress_cb(p, "counting", 7, 0);  /* within 100 ms: not redrawn */
	cli_progress_cb(p, "writing", 5, 10);  /* new stage: counting's final count first */
	cli_progress_cb(p, "writing", 10, 10); /* done: always drawn */
	cli_progress_done(p);
}

static void test_progress_redraws_one_line_per_stage(void **state)
{
	struct cli_progress p;
	cli_progress_init(&p, NULL);
	p.on = true; /* as on a terminal */
	char *out = capture_stderr(run_progress, &p);
	assert_string_equal(out, "\rcounting: 1\033[K"
				 "\rcounting: 7\033[K\n"
				 "\rwriting: 5/10 (50%)\033[K"
				 "\rwriting: 10/10 (100%)\033[K"
				 "\rwriting: 10/10 (100%)\033[K\n");
	free(out);
}

static void test_progress_is_silent_off_a_terminal(void **state)
{
	struct cli_progress p;
	struct cli cli;
	cli_init(&cli);
	cli.json = true;
	cli_progress_init(&p, &cli);
	assert_false(p.on);
	char *out = capture_stderr(run_progress, &p);
	assert_string_equal(out, "");
	free(out);
}

static void run_errors(void *arg)
{
	struct cli *cli = arg;
	assert_int_equal(cli_error(cli, "no node %s", "/x"), CLI_EXIT_FAIL);
	assert_int_equal(cli_usage_error(cli, "bad %d", 2), CLI_EXIT_USAGE);
	vs_error_set(VS_ENOENT, "unknown revision 'q'");
	assert_int_equal(cli_error_vs(cli, VS_ENOENT, "opening"), CLI_EXIT_FAIL);
	vs_error_clear();
	assert_int_equal(cli_error_vs(cli, VS_EIO, NULL), CLI_EXIT_FAIL);
	cli->cmd = NULL;
	assert_int_equal(cli_error(cli, "plain"), CLI_EXIT_FAIL);
}

static void test_errors_are_one_line_each_with_their_exit_code(void **state)
{
	struct cli cli;
	cli_init(&cli);
	cli.cmd = "log";
	char *out = capture_stderr(run_errors, &cli);
	char want[512];
	snprintf(want, sizeof(want),
		 "vstore log: no node /x\n"
		 "vstore log: bad 2 (see 'vstore log --help')\n"
		 "vstore log: opening: unknown revision 'q'\n"
		 "vstore log: %s\n"
		 "vstore: plain\n",
		 vs_strerror(VS_EIO));
	assert_string_equal(out, want);
	free(out);
}

static void test_json_null_and_plain_strings(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	cli_json_str(f, NULL);
	putc(' ', f);
	cli_json_str(f, "a/b");
	fclose(f);
	assert_string_equal(buf, "null \"a/b\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_colour_is_empty_unless_resolved_on),
	    cmocka_unit_test(test_the_pager_starts_only_on_a_terminal),
	    cmocka_unit_test(test_progress_redraws_one_line_per_stage),
	    cmocka_unit_test(test_progress_is_silent_off_a_terminal),
	    cmocka_unit_test(test_errors_are_one_line_each_with_their_exit_code),
	    cmocka_unit_test(test_json_null_and_plain_strings),
	};
	return cmocka_run_group_tests_name("cli_out", tests, NULL, NULL);
}
