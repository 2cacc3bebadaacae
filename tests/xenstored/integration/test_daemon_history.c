/* SPDX-License-Identifier: MIT */
/*
 * The daemon's history and durability, seen from outside: every change is
 * a commit readable by another process while the daemon runs (LMDB opened
 * read-only; `git log` on a git store), an acknowledged write survives
 * kill -9 of the daemon, and retention keeps history bounded as it runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <vstore/vstore.h>

#include "daemon_harness.h"

static int setup(void **state)
{
	struct xsd_harness *h = xsd_harness_new("history");
	if (!h)
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	xsd_harness_free(*state);
	return 0;
}

static void start(struct xsd_harness *h, const char *const *extra)
{
	if (xsd_harness_start(h, extra) < 0) {
		xsd_harness_dump_log(h);
		fail_msg("the daemon did not start");
	}
}

/* The message of the commit @back commits before the head of main in @uri. */
static char *message_at(const char *uri, int back)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
				  .flags = VS_REPO_READONLY | VS_REPO_NOCREATE };
	struct vs_repo *repo;
	struct vs_commit *c = NULL;
	struct vs_oid id;
	char *msg = NULL;

	assert_int_equal(vs_repo_open(&repo, uri, &o), 0);
	assert_int_equal(vs_branch_head(&id, repo, "main"), 0);
	for (int i = 0; i <= back; i++) {
		assert_int_equal(vs_commit_lookup(&c, repo, &id), 0);
		if (i < back) {
			assert_true(vs_commit_parentcount(c) >= 1);
			id = *vs_commit_parent_id(c, 0);
			vs_commit_free(c);
		}
	}
	assert_string_equal(vs_commit_author(c)->name, "dom0");
	msg = strdup(vs_commit_message(c));
	vs_commit_free(c);
	vs_repo_close(repo);
	return msg;
}

static void test_history_is_readable_while_the_daemon_runs(void **state)
{
	struct xsd_harness *h = *state;
	start(h, NULL);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-write /vm/a/name one"), 0);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-write /vm/a/name two"), 0);
	/* The same value again changes nothing: no commit. */
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-write /vm/a/name two"), 0);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-rm /vm/a"), 0);

	/* xenstore-rm removes inside a transaction: one commit for all of it. */
	char *m = message_at(h->store, 0);
	assert_true(!strncmp(m, "transaction ", 12));
	assert_non_null(strstr(m, ": rm /vm/a\n"));
	assert_non_null(strstr(m, "\nXs-Domain: 0\n"));
	assert_non_null(strstr(m, "\nXs-Op: TRANSACTION_END\n"));
	assert_null(strstr(m, "\nXs-Tx: 0\n"));
	free(m);
	m = message_at(h->store, 1);
	assert_true(!strncmp(m, "write /vm/a/name\n", 17));
	assert_non_null(strstr(m, "\nXs-Op: WRITE\n"));
	assert_non_null(strstr(m, "\nXs-Tx: 0\n"));
	free(m);
	/* Two writes of "two"... but only one commit: before it, the write of "one". */
	m = message_at(h->store, 2);
	assert_true(!strncmp(m, "write /vm/a/name\n", 17));
	free(m);
	m = message_at(h->store, 3);
	assert_null(strstr(m, "/vm/a/name"));
	free(m);
	assert_int_equal(xsd_harness_stop(h), 0);
}

static void test_an_acknowledged_write_survives_kill_9(void **state)
{
	struct xsd_harness *h = *state;
	char *out = NULL;

	start(h, NULL);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL,
					"xenstore-write /local/domain/1/name guest1 "
					"/local/domain/1/memory/target 524288"),
			 0);
	xsd_harness_kill(h); /* no chance to sync or close anything */
	start(h, NULL);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "xenstore-read /local/domain/1/name "
						       "/local/domain/1/memory/target"),
			 0);
	assert_string_equal(out, "guest1\n524288\n");
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);
}

static void test_sync_always_survives_kill_9_too(void **state)
{
	struct xsd_harness *h = *state;
	const char *const extra[] = { "--sync", "always", NULL };
	char *out = NULL;

	start(h, extra);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-write /x durable"), 0);
	xsd_harness_kill(h);
	start(h, extra);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "xenstore-read /x"), 0);
	assert_string_equal(out, "durable\n");
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);
}

static void test_git_log_shows_the_changes(void **state)
{
	struct xsd_harness *h = *state;
	char arg[512], *out = NULL;

	snprintf(arg, sizeof(arg), "git:%s/repo", h->dir);
	const char *const extra[] = { "--store", arg, NULL };
	start(h, extra);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL, "xenstore-write /vm/b/uuid 1234"), 0);
	assert_int_equal(xsd_harness_sh(h, NULL, &out,
					"git -C '%s/repo' log -1 --format='%%an %%s%%n%%b' main && "
					"git -C '%s/repo' show main:vm/b/uuid/.value",
					h->dir, h->dir),
			 0);
	assert_non_null(strstr(out, "dom0 write /vm/b/uuid\n"));
	assert_non_null(strstr(out, "Xs-Op: WRITE"));
	assert_non_null(strstr(out, "\n1234"));
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);
}

static int count_cb(void *payload, struct vs_commit *c)
{
	(void)c;
	(*(size_t *)payload)++;
	return 0;
}

/* With --keep-last the daemon collects its store as it runs: history stays bounded. */
static void test_retention_bounds_history_while_the_daemon_runs(void **state)
{
	struct xsd_harness *h = *state;
	const char *const extra[] = { "--keep-last", "20", "--gc-every", "5", NULL };
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
				  .flags = VS_REPO_READONLY | VS_REPO_NOCREATE };
	const char *ctl = "/usr/lib/xen-4.17/bin/xenstore-control";
	struct vs_check_stats st;
	struct vs_repo *repo;
	struct vs_oid head;
	char *out = NULL;
	size_t n = 0;

	if (access(ctl, X_OK) < 0)
		skip(); /* scripts/install-deps.sh installs it */
	start(h, extra);
	assert_int_equal(xsd_harness_sh(h, NULL, NULL,
					"i=0; while [ $i -lt 120 ]; do i=$((i + 1)); "
					"xenstore-write /r/k$((i %% 7)) v$i || exit 1; done"),
			 0);
	/* Wait until no collection runs or is due (fewer than 5 commits since one started). */
	for (int tries = 0; tries < 200; tries++) {
		const char *idle;
		unsigned int since = 5;
		free(out);
		out = NULL;
		assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s gc", ctl), 0);
		if ((idle = strstr(out, "idle; ")) && sscanf(idle, "idle; %u", &since) == 1 &&
		    since < 5)
			break;
		usleep(50 * 1000);
	}
	assert_non_null(strstr(out, "keep the last 20 commits"));
	assert_non_null(strstr(out, "idle"));
	assert_non_null(strstr(out, "kept 20 commits"));
	assert_non_null(strstr(out, " bytes in use\n")); /* LMDB counts its pages */
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);

	assert_int_equal(vs_repo_open(&repo, h->store, &o), 0);
	assert_int_equal(vs_branch_head(&head, repo, "main"), 0);
	assert_int_equal(vs_log(repo, &head, NULL, count_cb, &n), 0);
	assert_in_range(n, 20, 20 + 4);
	assert_int_equal(vs_repo_check(repo, &st), 0);
	vs_repo_close(repo);

	start(h, extra); /* and the daemon starts on the collected store */
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "xenstore-read /r/k1 /r/k0"), 0);
	assert_string_equal(out, "v120\nv119\n");
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);
}

/* kill -9 while collections run: the store opens, checks clean and keeps every acknowledged write. */
static void test_a_daemon_killed_while_collecting_restarts_on_a_sound_store(void **state)
{
	struct xsd_harness *h = *state;
	const char *const extra[] = { "--keep-last", "30", "--gc-every", "3", NULL };
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
				  .flags = VS_REPO_READONLY | VS_REPO_NOCREATE };
	struct vs_check_stats st;
	struct vs_repo *repo;
	char *out = NULL;

	for (int round = 0; round < 3; round++) {
		start(h, extra);
		/* Each write acknowledged before the next; a collection every 3 commits. */
		assert_int_equal(xsd_harness_sh(h, NULL, NULL,
						"i=0; while [ $i -lt 60 ]; do i=$((i + 1)); "
						"xenstore-write /kill/r%d/k$((i %% 4)) v$i || exit 1; "
						"done",
						round),
				 0);
		xsd_harness_kill(h); /* most likely inside a collection's step or between */
		assert_int_equal(vs_repo_open(&repo, h->store, &o), 0);
		assert_int_equal(vs_repo_check(repo, &st), 0);
		vs_repo_close(repo);
	}
	start(h, extra);
	assert_int_equal(xsd_harness_sh(h, NULL, &out,
					"xenstore-read /kill/r0/k0 /kill/r1/k3 /kill/r2/k1"),
			 0);
	assert_string_equal(out, "v60\nv59\nv57\n");
	free(out);
	assert_int_equal(xsd_harness_stop(h), 0);
}

/* Xen's own xenstore-control (xen-utils-4.17) drives the CONTROL commands. */
static void test_xenstore_control_commands(void **state)
{
	struct xsd_harness *h = *state;
	const char *ctl = "/usr/lib/xen-4.17/bin/xenstore-control";
	char *out = NULL;

	if (access(ctl, X_OK) < 0)
		skip(); /* scripts/install-deps.sh installs it */
	start(h, NULL);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s help", ctl), 0);
	assert_non_null(strstr(out, "quota-soft"));
	free(out);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s check", ctl), 0);
	assert_true(!strncmp(out, "OK", 2));
	free(out);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s quota", ctl), 0);
	assert_non_null(strstr(out, "transaction-nodes"));
	free(out);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s quota set nodes 7 && %s quota", ctl,
					ctl),
			 0);
	assert_non_null(strstr(out, "nodes              7\n"));
	free(out);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s memreport", ctl), 0);
	assert_non_null(strstr(out, "connections"));
	free(out);
	assert_int_equal(xsd_harness_sh(h, NULL, &out, "%s print hello-from-test", ctl), 0);
	free(out);
	/* Unknown commands fail cleanly. */
	assert_true(xsd_harness_sh(h, NULL, NULL, "%s no-such-command 2>/dev/null", ctl) != 0);
	assert_int_equal(xsd_harness_stop(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_history_is_readable_while_the_daemon_runs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_acknowledged_write_survives_kill_9, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sync_always_survives_kill_9_too, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_git_log_shows_the_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xenstore_control_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_bounds_history_while_the_daemon_runs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_daemon_killed_while_collecting_restarts_on_a_sound_store, setup,
			teardown),
	};
	return cmocka_run_group_tests_name("xsd_daemon_history", tests, NULL, NULL);
}
