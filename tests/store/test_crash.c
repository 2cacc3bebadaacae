/* SPDX-License-Identifier: MIT */
/*
 * Crash safety: a writer process killed with SIGKILL in the middle of a
 * stream of commits leaves a store that opens, passes vs_repo_check, and
 * holds every commit whose call had returned (reported to us through a pipe
 * right after the call returned).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vst.h"

#define MAX_REPORTED 4096

/* The writer: commit forever (bounded), reporting each returned commit id. */
static void writer(const char *backend, const char *dir, int fd, int round)
{
	struct vs_repo *repo = vst_repo_open(backend, dir);
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "crash test\n" };
	time_t until = time(NULL) + 60;

	for (int i = 0; i < 100000 && time(NULL) < until; i++) {
		struct vs_oid head, id;
		struct vs_commit *c = NULL;
		struct vs_tree *t = NULL, *n = NULL;
		char key[32], val[32], line[VS_OID_MAXHEXSZ + 2];

		if (vs_branch_head(&head, repo, "main") == 0) {
			if (vs_commit_lookup(&c, repo, &head) < 0 || vs_commit_tree(&t, c) < 0)
				_exit(3);
			vs_commit_free(c);
		} else if (vs_tree_new(&t, repo) < 0) {
			_exit(3);
		}
		snprintf(key, sizeof(key), "round%d/k%d/v", round, i % 97);
		snprintf(val, sizeof(val), "%d", i);
		sig.time++;
		if (vs_tree_set(&n, t, key, val, strlen(val)) < 0 ||
		    vs_branch_commit(&id, repo, "main", NULL, n, &o) < 0)
			_exit(4);
		vs_oid_tostr(line, &id);
		strcat(line, "\n");
		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			_exit(5);
		vs_tree_free(t);
		vs_tree_free(n);
	}
	_exit(0);
}

static size_t read_reports(int fd, struct vs_oid *ids, size_t have, size_t want)
{
	static char buf[64 * 1024];
	static size_t len;
	while (have < want) {
		ssize_t got = read(fd, buf + len, sizeof(buf) - len);
		if (got <= 0)
			break;
		len += (size_t)got;
		char *nl;
		while ((nl = memchr(buf, '\n', len)) && have < MAX_REPORTED) {
			assert_vs_ok(vs_oid_fromhex(&ids[have++], buf, (size_t)(nl - buf)));
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
	}
	return have;
}

static void crash_rounds(const char *backend)
{
	static struct vs_oid ids[MAX_REPORTED];
	char *dir = vst_tmpdir(backend);
	size_t have = 0;

	for (int round = 0; round < 4; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			writer(backend, dir, p[1], round);
		}
		close(p[1]);
		/* Let it write a varying number of commits, then kill it mid-stream. */
		have = read_reports(p[0], ids, have, have + 15 + (size_t)round * 7);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status))
			fail_msg("writer exited early with status %d", WEXITSTATUS(status));
		/* Ids written to the pipe before death were acknowledged too. */
		have = read_reports(p[0], ids, have, MAX_REPORTED);
		close(p[0]);

		struct vs_repo *repo = vst_repo_open(backend, dir);
		struct vs_check_stats st;
		struct vs_oid head;
		assert_vs_ok(vs_repo_check(repo, &st));
		assert_vs_ok(vs_branch_head(&head, repo, "main"));
		assert_true(st.commits >= have);
		for (size_t i = 0; i < have; i++)
			assert_int_equal(vs_descendant_of(repo, &head, &ids[i]), 1);
		vs_repo_close(repo);
	}
	assert_true(have >= 4 * 15);
	vst_rmrf(dir);
	free(dir);
}

static void test_killed_lmdb_writer_loses_no_returned_commit(void **state)
{
	(void)state;
	crash_rounds("lmdb");
}

static void test_killed_git_writer_loses_no_returned_commit(void **state)
{
	(void)state;
	crash_rounds("git");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_lmdb_writer_loses_no_returned_commit),
		cmocka_unit_test(test_killed_git_writer_loses_no_returned_commit),
	};
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
