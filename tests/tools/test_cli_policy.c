/* SPDX-License-Identifier: MIT */
/*
 * `vstore check-policy`: the checker's output for each golden file of
 * tests/mac/data (the same text xenstored --check-policy prints), exit 1 on
 * errors, "FILE: OK" and exit 0 for the shipped policy, 2 without a file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

/* Run @cmd in the shell; its stdout into @out (malloc'd). @return its exit code. */
static int run(char **out, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	assert_non_null(p);
	assert_non_null(buf);
	for (size_t got; (got = fread(buf + n, 1, cap - n - 1, p)) > 0;) {
		n += got;
		if (cap - n < 2 && !(buf = realloc(buf, cap *= 2)))
			fail();
	}
	buf[n] = '\0';
	*out = buf;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static void test_golden_errors(void **state)
{
	static const char *const names[] = { "syntax", "bytes", "labels", "domains", "paths",
					      "neverallow" };
	const char *exe = getenv("VSTORE_TEST_EXE"), *data = getenv("MAC_TEST_DATA");
	char cmd[4096], path[2048];
	(void)state;
	assert_non_null(exe);
	assert_non_null(data);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *out, *want;
		snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' check-policy %s.policy 2>/dev/null", data,
			 exe, names[i]);
		assert_int_equal(run(&out, cmd), 1);
		snprintf(path, sizeof(path), "%s/%s.errors", data, names[i]);
		want = slurp(path);
		assert_string_equal(out, want);
		free(out);
		free(want);
	}
}

static void test_shipped_policy_is_ok_and_usage_is_checked(void **state)
{
	const char *exe = getenv("VSTORE_TEST_EXE"), *pol = getenv("MAC_HOST_POLICY");
	char cmd[4096], *out;
	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' check-policy '%s'", exe, pol);
	assert_int_equal(run(&out, cmd), 0);
	assert_non_null(strstr(out, ": OK\n"));
	free(out);
	snprintf(cmd, sizeof(cmd), "'%s' check-policy 2>/dev/null", exe);
	assert_int_equal(run(&out, cmd), 2);
	free(out);
	snprintf(cmd, sizeof(cmd), "'%s' check-policy /nonexistent/p 2>&1", exe);
	assert_int_equal(run(&out, cmd), 1);
	assert_non_null(strstr(out, "/nonexistent/p"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_errors),
		cmocka_unit_test(test_shipped_policy_is_ok_and_usage_is_checked),
	};
	return cmocka_run_group_tests_name("tools_cli_policy", tests, NULL, NULL);
}
