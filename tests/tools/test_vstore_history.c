/* SPDX-License-Identifier: MIT */
/*
 * vstore against a live daemon: xenstored runs with per-domain sockets, dom0
 * and two introduced domains (5 and 6) write with Debian's xenstore-write,
 * and `vstore log/show/diff/blame/cat --at/ls -p` read the LMDB store while
 * the daemon keeps running and writing. Bad input gives one line on stderr
 * and exit 1 (2 for usage), and read commands leave the store's files as
 * they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "daemon_harness.h"

struct fixture {
	struct xsd_harness *h;
	const char *exe;	/* the vstore binary */
	char dom_sock[2][4096]; /* DIR/run/domain/5 and /6 */
	int64_t t_before_4;	/* a time after state=1 and before state=4 */
};

/* Run "vstore --store STORE ARGS" (printf-style), stdout into *out. */
static int vstore(struct fixture *f, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int vstore(struct fixture *f, char **out, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return xsd_harness_sh(f->h, NULL, out, "'%s' --no-pager --store '%s' %s", f->exe,
			      f->h->store, args);
}

/* Like vstore() but expecting output; fails the test on a non-zero exit. */
static char *vstore_ok(struct fixture *f, const char *args)
{
	char *out = NULL;
	int rc = vstore(f, &out, "%s", args);
	if (rc != 0)
		fail_msg("vstore %s: exit %d", args, rc);
	assert_non_null(out);
	return out;
}

static void sh_ok(struct fixture *f, const char *sock, const char *cmd)
{
	if (xsd_harness_sh(f->h, sock, NULL, "%s", cmd) != 0)
		fail_msg("%s failed", cmd);
}

static void introduce(struct fixture *f, unsigned int domid, const char *sock)
{
	struct stat st;
	setenv("XENSTORED_PATH", f->h->sock, 1);
	struct xs_handle *xs = xs_open(0);
	assert_non_null(xs);
	assert_true(xs_introduce_domain(xs, domid, 0, 1));
	xs_close(xs);
	for (int i = 0; i < 200 && stat(sock, &st) != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(stat(sock, &st), 0);
}

/* The history every test reads: see the numbered steps. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static const char *const extra[] = {"--domains", "socket", NULL};
	assert_non_null(f);
	f->exe = getenv("VSTORE_TEST_EXE");
	assert_non_null(f->exe);
	f->h = xsd_harness_new("vstore");
	assert_non_null(f->h);
	if (xsd_harness_start(f->h, extra) < 0) {
		xsd_harness_dump_log(f->h);
		fail_msg("the daemon did not start");
	}
	for (int i = 0; i < 2; i++)
		snprintf(f->dom_sock[i], sizeof(f->dom_sock[i]), "%s/domain/%d", f->h->run_dir,
			 5 + i);
	/* 1. The toolstack (dom0) makes the domains' homes and introduces them. */
	sh_ok(f, NULL,
	      "xenstore-write /local/domain/5/name vm5 /local/domain/6/name vm6 "
	      "/local/domain/5/esc 'x\\t\\001\\x1b\"\\\\'");
	sh_ok(f, NULL, "xenstore-chmod /local/domain/5 n5 && xenstore-chmod /local/domain/6 n6");
	introduce(f, 5, f->dom_sock[0]);
	introduce(f, 6, f->dom_sock[1]);
	/* 2. Each domain writes below its home (relative paths). */
	sh_ok(f, f->dom_sock[0], "xenstore-write data/state 1");
	sh_ok(f, f->dom_sock[1], "xenstore-write data/x hello");
	sleep(1);
	f->t_before_4 = (int64_t)time(NULL);
	sleep(1);
	/* 3. Domain 5 moves on; dom0 lets domain 6 read the state. */
	sh_ok(f, f->dom_sock[0], "xenstore-write data/state 4");
	sh_ok(f, NULL, "xenstore-chmod /local/domain/5/data/state n5 r6");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	xsd_harness_free(f->h);
	free(f);
	return 0;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_log_filters_by_domain_op_path_and_time(void **state)
{
	struct fixture *f = *state;
	char *out = vstore_ok(f, "log --oneline --domain 5");
	assert_int_equal(count(out, "write /local/domain/5/data/state"), 2);
	assert_null(strstr(out, "domain/6"));
	free(out);

	out = vstore_ok(f, "log --oneline /local/domain/6");
	assert_non_null(strstr(out, "write /local/domain/6/data/x"));
	assert_null(strstr(out, "domain/5/data"));
	free(out);

	out = vstore_ok(f, "log -n 1");
	assert_int_equal(count(out, "\ncommit ") + (strncmp(out, "commit ", 7) == 0), 1);
	assert_non_null(strstr(out, "Author: dom0 <dom0@xenstore>"));
	assert_non_null(strstr(out, "    Xs-Op: TRANSACTION_END"));
	free(out);

	char args[128];
	snprintf(args, sizeof(args), "log --oneline --op write --until @%lld",
		 (long long)f->t_before_4);
	out = vstore_ok(f, args);
	assert_non_null(strstr(out, "write /local/domain/6/data/x"));
	assert_null(strstr(out, "chmod"));
	free(out);

	snprintf(args, sizeof(args), "log --json --since @%lld", (long long)f->t_before_4);
	out = vstore_ok(f, args);
	assert_int_equal(count(out, "\n"), 2); /* the state=4 write and the chmod */
	assert_non_null(strstr(out, "\"author\":{\"name\":\"dom5\""));
	assert_non_null(strstr(out, "\"domain\":5,\"op\":\"WRITE\",\"tx\":0}"));
	free(out);
}

static void test_show_prints_metadata_and_node_changes(void **state)
{
	struct fixture *f = *state;
	char *out = vstore_ok(f, "show");
	assert_non_null(strstr(out, "chmod /local/domain/5/data/state"));
	assert_non_null(strstr(out, "~ /local/domain/5/data/state: perms n5 -> n5,r6\n"));
	free(out);

	out = vstore_ok(f, "show HEAD~1");
	assert_non_null(strstr(out, "Author: dom5 <dom5@xenstore>"));
	assert_non_null(strstr(out, "~ /local/domain/5/data/state: \"1\" -> \"4\"\n"));
	free(out);

	out = vstore_ok(f, "--json show HEAD~1");
	assert_non_null(
	    strstr(out, "\"changes\":[{\"path\":\"/local/domain/5/data/state\","
			"\"change\":\"modified\",\"old_value\":\"1\",\"new_value\":\"4\"}]"));
	free(out);

	out = vstore_ok(f, "diff HEAD~4 HEAD /local/domain/5");
	assert_non_null(strstr(out, "+ /local/domain/5/data/state = \"4\"  (n5,r6)\n"));
	assert_null(strstr(out, "domain/6"));
	free(out);
}

static void test_blame_names_the_last_writer_of_each_node(void **state)
{
	struct fixture *f = *state;
	char *out = vstore_ok(f, "blame /local/domain");
	char *l5 = strstr(out, "/local/domain/5/data/state = \"4\"");
	char *l6 = strstr(out, "/local/domain/6/data/x = \"hello\"");
	assert_non_null(l5);
	assert_non_null(l6);
	/* Each line: "<id> (<author> <date>) <path> = ..."; state's last change is dom0's chmod. */
	char *line6 = l6;
	while (line6 > out && line6[-1] != '\n')
		line6--;
	assert_non_null(strstr(line6, "(dom6 "));
	assert_true(strstr(line6, "(dom6 ") < l6);
	char *line5 = l5;
	while (line5 > out && line5[-1] != '\n')
		line5--;
	assert_true(strstr(line5, "(dom0 ") < l5);
	free(out);

	out = vstore_ok(f, "--json blame /local/domain/6/data/x");
	assert_non_null(strstr(out, "\"author\":\"dom6\""));
	assert_non_null(strstr(out, "\"domain\":6,\"op\":\"WRITE\""));
	free(out);
}

static void test_a_merged_transaction_is_credited_to_its_own_commit(void **state)
{
	struct fixture *f = *state;
	sh_ok(f, NULL, "xenstore-write /vm/t ''");
	/* Two transactions from the same start: the second to end is merged. */
	setenv("XENSTORED_PATH", f->h->sock, 1);
	struct xs_handle *a = xs_open(0), *b = xs_open(0);
	assert_non_null(a);
	assert_non_null(b);
	xs_transaction_t ta = xs_transaction_start(a), tb = xs_transaction_start(b);
	assert_true(xs_write(a, ta, "/vm/t/a", "1", 1));
	assert_true(xs_write(b, tb, "/vm/t/b", "2", 1));
	assert_true(xs_transaction_end(a, ta, false));
	assert_true(xs_transaction_end(b, tb, false));
	xs_close(a);
	xs_close(b);

	char *out = vstore_ok(f, "show");
	assert_non_null(strstr(out, "\nMerge: "));
	assert_non_null(strstr(out, "+ /vm/t/b = \"2\"  (n0)\n"));
	assert_null(strstr(out, "/vm/t/a"));
	free(out);
	char *side = vstore_ok(f, "log -n 1 --oneline -r HEAD^2");
	char *first = vstore_ok(f, "log -n 1 --oneline -r HEAD^1");
	side[12] = first[12] = '\0'; /* the short ids */
	out = vstore_ok(f, "blame /vm/t");
	char want_a[64], want_b[64];
	snprintf(want_a, sizeof(want_a), "%s (dom0 ", first);
	snprintf(want_b, sizeof(want_b), "%s (dom0 ", side);
	char *la = strstr(out, "/vm/t/a = \"1\""), *lb = strstr(out, "/vm/t/b = \"2\"");
	assert_non_null(la);
	assert_non_null(lb);
	assert_true(strstr(out, want_a) && strstr(out, want_a) < la);
	assert_true(strstr(out, want_b) && strstr(out, want_b) < lb && strstr(out, want_b) > la);
	free(out);
	free(side);
	free(first);
}

static void test_cat_and_ls_read_the_tree_at_a_revision_or_time(void **state)
{
	struct fixture *f = *state;
	char args[128];
	char *out = vstore_ok(f, "cat /local/domain/5/data/state");
	assert_string_equal(out, "4\n");
	free(out);
	snprintf(args, sizeof(args), "cat --at @%lld /local/domain/5/data/state",
		 (long long)f->t_before_4);
	out = vstore_ok(f, args);
	assert_string_equal(out, "1\n");
	free(out);
	snprintf(args, sizeof(args), "cat -n --at '@{@%lld}' local/domain/5/data/state",
		 (long long)f->t_before_4);
	out = vstore_ok(f, args);
	assert_string_equal(out, "1");
	free(out);
	out = vstore_ok(f, "cat --at HEAD~2 /local/domain/5/data/state");
	assert_string_equal(out, "1\n");
	free(out);

	out = vstore_ok(f, "ls -r -p /local/domain/5");
	assert_non_null(strstr(out, "name = \"vm5\""));
	assert_non_null(strstr(out, "data = \"\""));
	assert_non_null(strstr(out, " state = \"4\""));
	assert_non_null(strstr(out, "  (n5,r6)\n"));
	free(out);
	out = vstore_ok(f, "ls --at HEAD~1 -p /local/domain/5/data");
	assert_non_null(strstr(out, "state = \"4\""));
	assert_non_null(strstr(out, "  (n5)\n"));
	free(out);
	/* The same layout as xenstore-ls -p on the live daemon. */
	char *want = NULL;
	assert_int_equal(xsd_harness_sh(f->h, NULL, &want, "xenstore-ls -p /local/domain/5"), 0);
	out = vstore_ok(f, "ls -r -p /local/domain/5");
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void test_bad_input_is_one_line_and_nonzero(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *args;
		int rc;
		const char *msg;
	} cases[] = {
	    {"show nosuch", 1, "vstore show: unknown revision 'nosuch'\n"},
	    {"cat /local/domain/9", 1, "vstore cat: no node /local/domain/9\n"},
	    {"cat --at 'HEAD~999' /local", 1, "vstore cat: 'HEAD~999': history has only"},
	    {"ls /nope", 1, "vstore ls: no node /nope\n"},
	    {"log --bogus", 2, "vstore log: unknown option '--bogus' (see 'vstore log --help')\n"},
	    {"diff HEAD", 2, "vstore diff: two revisions needed"},
	    {"frob", 2, "vstore: 'frob' is not a vstore command"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		int rc = vstore(f, &out, "%s 2>&1", cases[i].args);
		if (rc != cases[i].rc || !out || !strstr(out, cases[i].msg) ||
		    count(out, "\n") != 1)
			fail_msg("vstore %s: exit %d, output '%s'", cases[i].args, rc,
				 out ? out : "");
		free(out);
	}
	char *out = NULL;
	int rc = xsd_harness_sh(f->h, NULL, &out, "'%s' --store lmdb:%s/none log 2>&1", f->exe,
				f->h->dir);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "does not exist"));
	free(out);
	rc = xsd_harness_sh(f->h, NULL, &out, "test -e %s/none || echo absent", f->h->dir);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "absent\n"); /* nothing was created */
	free(out);
}

static void test_reading_neither_blocks_nor_modifies(void **state)
{
	struct fixture *f = *state;
	char *out, *sum1 = NULL, *sum2 = NULL;
	/* The daemon goes on committing while a reader has the store open. */
	sh_ok(f, NULL, "xenstore-write /vm/busy 1");
	out = vstore_ok(f, "log -n 1 --oneline");
	assert_non_null(strstr(out, "write /vm/busy"));
	free(out);
	sh_ok(f, NULL, "xenstore-write /vm/busy 2");
	out = vstore_ok(f, "cat /vm/busy");
	assert_string_equal(out, "2\n");
	free(out);
	/* Stopped, the store's data file is the same before and after every reader. */
	assert_int_equal(xsd_harness_stop(f->h), 0);
	const char *dir = f->h->store + strlen("lmdb:");
	assert_int_equal(xsd_harness_sh(f->h, NULL, &sum1, "sha256sum < %s/data.mdb", dir), 0);
	free(vstore_ok(f, "log"));
	free(vstore_ok(f, "show HEAD~2"));
	free(vstore_ok(f, "blame /"));
	free(vstore_ok(f, "ls -r -p /"));
	free(vstore_ok(f, "diff HEAD~4 HEAD"));
	assert_int_equal(xsd_harness_sh(f->h, NULL, &sum2, "sha256sum < %s/data.mdb", dir), 0);
	assert_string_equal(sum1, sum2);
	free(sum1);
	free(sum2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_log_filters_by_domain_op_path_and_time, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_show_prints_metadata_and_node_changes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_blame_names_the_last_writer_of_each_node, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_merged_transaction_is_credited_to_its_own_commit,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cat_and_ls_read_the_tree_at_a_revision_or_time,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input_is_one_line_and_nonzero, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reading_neither_blocks_nor_modifies, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("vstore_history", tests, NULL, NULL);
}
