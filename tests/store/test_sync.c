/* SPDX-License-Identifier: MIT */
/*
 * Sync with git remotes: push from every backend to a bare repository made
 * by plain git (git log and git fsck --strict agree), clone into every
 * backend, incremental fetch, pull (fast-forward and a real merge), and
 * non-fast-forward pushes; then the same over git daemon on loopback.
 */
#include "vst.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char *dir;    /* temporary directory, removed in teardown */
	char *bare;   /* dir/remote.git, made by git init --bare */
	char *url;    /* how vstore reaches it: the path, or git://127.0.0.1:PORT/remote.git */
	pid_t daemon; /* git daemon, or 0 */
};

static int setup_with(void **state, bool daemon);

static int setup(void **state)
{
	return setup_with(state, false);
}

static int setup_daemon(void **state)
{
	return setup_with(state, true);
}

/* A port nobody listens on now (the kernel's choice). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* git daemon on 127.0.0.1 serving f->dir, push enabled; waits (bounded) until it accepts. */
static void daemon_start(struct fixture *f)
{
	int port = free_port();
	char portarg[32], base[4200];

	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	snprintf(base, sizeof(base), "--base-path=%s", f->dir);
	f->daemon = fork();
	assert_true(f->daemon >= 0);
	if (f->daemon == 0) {
		/* Its children complain about our probes; keep that out of the test log. */
		char log[4200];
		snprintf(log, sizeof(log), "%s/daemon.log", f->dir);
		if (!freopen(log, "w", stderr))
			_exit(126);
		execlp("git", "git", "daemon", "--reuseaddr", base, "--export-all",
		       "--enable=receive-pack", "--listen=127.0.0.1", portarg, f->dir,
		       (char *)NULL);
		_exit(127);
	}
	bool up = false;
	for (int i = 0; i < 200 && !(up = port_accepts(port)); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 25 * 1000 * 1000 }, NULL);
	if (!up) {
		/* A failed setup gets no teardown: do not leave the daemon behind. */
		kill(f->daemon, SIGTERM);
		waitpid(f->daemon, NULL, 0);
		f->daemon = 0;
		fail_msg("git daemon did not accept connections on port %d within 5 s", port);
	}
	assert_true(asprintf(&f->url, "git://127.0.0.1:%d/remote.git", port) > 0);
}

static int setup_with(void **state, bool daemon)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("sync");
	assert_true(asprintf(&f->bare, "%s/remote.git", f->dir) > 0);
	assert_int_equal(vst_sh("git init -q --bare -b main '%s'", f->bare), 0);
	if (daemon)
		daemon_start(f);
	else
		f->url = strdup(f->bare);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->daemon > 0) {
		kill(f->daemon, SIGTERM);
		waitpid(f->daemon, NULL, 0);
	}
	vst_rmrf(f->dir);
	free(f->dir);
	free(f->bare);
	free(f->url);
	free(f);
	return 0;
}

/* A store of @backend in the git format, in its own directory under f->dir. */
static struct vs_repo *store(struct fixture *f, const char *backend, const char *tag)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = "git" };
	struct vs_repo *repo = NULL;
	char uri[4300];
	snprintf(uri, sizeof(uri), "%s:%s/%s-%s/store", backend, f->dir, backend, tag);
	if (!strcmp(backend, "mem"))
		snprintf(uri, sizeof(uri), "mem:");
	assert_vs_ok(vs_repo_open(&repo, uri, &o));
	return repo;
}

/* Commit @path = @value on @branch (created if missing); returns the commit. */
static struct vs_oid put(struct vs_repo *repo, const char *branch, const char *path,
			 const char *value, int64_t time)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = value };
	struct vs_tree *tree = vst_branch_tree(repo, branch), *next = NULL;
	struct vs_oid id;

	assert_vs_ok(vs_tree_set(&next, tree, path, value, strlen(value)));
	assert_vs_ok(vs_branch_commit(&id, repo, branch, NULL, next, &o));
	vs_tree_free(tree);
	vs_tree_free(next);
	return id;
}

static int log_one(void *payload, struct vs_commit *c)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	strcat(payload, vs_oid_tostr(hex, vs_commit_id(c)));
	strcat(payload, "\n");
	return 0;
}

/* vstore's log of @branch as git log --format=%H prints it. */
static void vs_log_str(char *out, struct vs_repo *repo, const char *branch)
{
	struct vs_oid head;
	out[0] = '\0';
	assert_vs_ok(vs_branch_head(&head, repo, branch));
	assert_vs_ok(vs_log(repo, &head, NULL, log_one, out));
}

/* The remote agrees with @repo about @branch, and git fsck --strict is happy. */
static void assert_remote_matches(struct fixture *f, struct vs_repo *repo, const char *branch)
{
	char want[4096];
	vs_log_str(want, repo, branch);
	char *got = vst_sh_out("git --git-dir='%s' log --format=%%H %s", f->bare, branch);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(vst_sh("git --git-dir='%s' fsck --strict --no-dangling 2>&1", f->bare), 0);
}

static void assert_value(struct vs_repo *repo, const char *branch, const char *path,
			 const char *want)
{
	struct vs_buf buf = VS_BUF_INIT;
	struct vs_oid head;
	assert_vs_ok(vs_branch_head(&head, repo, branch));
	assert_vs_ok(vs_read_at(&buf, repo, &head, path));
	assert_int_equal(buf.size, strlen(want));
	assert_memory_equal(buf.ptr, want, buf.size);
	vs_buf_release(&buf);
}

static void push_from(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = store(f, backend, "src");
	put(repo, "main", "local/domain/1/name", "guest1", 1700000000);
	put(repo, "main", "local/domain/2/name", "guest2", 1700000100);
	put(repo, "main", "local/domain/1/name", "renamed", 1700000200);
	assert_vs_ok(vs_sync_push(repo, f->url, "main", NULL, NULL));
	assert_remote_matches(f, repo, "main");
	char *v = vst_sh_out("git --git-dir='%s' show main:local/domain/1/name", f->bare);
	assert_non_null(v);
	assert_string_equal(v, "renamed");
	free(v);

	/* Pushing again moves nothing and still succeeds; so does a new name. */
	assert_vs_ok(vs_sync_push(repo, f->url, "main", NULL, NULL));
	assert_vs_ok(vs_sync_push(repo, f->url, "main", "audit/host1", NULL));
	v = vst_sh_out("git --git-dir='%s' rev-parse main audit/host1 | uniq | wc -l", f->bare);
	assert_non_null(v);
	assert_string_equal(v, "1\n");
	free(v);
	vs_repo_close(repo);
}

static void test_push_from_mem_is_what_git_log_shows_and_fsck_accepts(void **state)
{
	push_from(*state, "mem");
}

static void test_push_from_lmdb_is_what_git_log_shows_and_fsck_accepts(void **state)
{
	push_from(*state, "lmdb");
}

static void test_push_from_git_is_what_git_log_shows_and_fsck_accepts(void **state)
{
	push_from(*state, "git");
}

/* The bare remote gets two branches from plain git: main (two commits) and dev. */
static void remote_from_plain_git(struct fixture *f)
{
	assert_int_equal(
	    vst_sh("cd '%s' && git init -q -b main work && cd work && "
		   "mkdir -p local/domain/0 && printf Domain-0 > local/domain/0/name && "
		   "git add . && git -c user.name=G -c user.email=g@example.org "
		   "commit -q -m one && printf dom0 > local/domain/0/name && "
		   "git -c user.name=G -c user.email=g@example.org commit -q -am two && "
		   "git branch dev HEAD~1 && git push -q '%s' main dev",
		   f->dir, f->bare),
	    0);
}

static void clone_into(struct fixture *f, const char *backend)
{
	/* The git format keeps the remote's ids (LMDB's default, vs, converts). */
	struct vs_repo_opts git = { .version = VS_REPO_OPTS_VERSION, .format = "git" };
	char uri[4400];
	struct vs_repo *repo = NULL, *again = NULL;
	struct vs_strarray names = { 0 };
	struct vs_oid head;
	char hex[VS_OID_MAXHEXSZ + 1];

	if (!strcmp(backend, "mem"))
		snprintf(uri, sizeof(uri), "mem:");
	else
		snprintf(uri, sizeof(uri), "%s:%s/clone-%s", backend, f->dir, backend);
	assert_vs_ok(vs_sync_clone(&repo, f->url, uri, &git, NULL));
	assert_string_equal(vs_repo_format(repo), "git");
	assert_vs_ok(vs_branch_list(&names, repo));
	assert_int_equal(names.count, 2);
	assert_string_equal(names.strings[0], "dev");
	assert_string_equal(names.strings[1], "main");
	vs_strarray_dispose(&names);
	for (int i = 0; i < 2; i++) {
		const char *b = i ? "dev" : "main";
		assert_vs_ok(vs_branch_head(&head, repo, b));
		char *want = vst_sh_out("git --git-dir='%s' rev-parse %s", f->bare, b);
		assert_non_null(want);
		assert_memory_equal(want, vs_oid_tostr(hex, &head), 40);
		free(want);
	}
	assert_value(repo, "main", "local/domain/0/name", "dom0");
	assert_value(repo, "dev", "local/domain/0/name", "Domain-0");
	assert_vs_ok(vs_repo_check(repo, NULL));

	/* A store that has branches is not a clone target. */
	if (strcmp(backend, "mem")) {
		vs_repo_close(repo);
		repo = NULL;
		assert_vs_err(VS_EEXIST, vs_sync_clone(&again, f->url, uri, &git, NULL));
		assert_null(again);
	}
	vs_repo_close(repo);
}

static void test_clone_into_mem_has_the_remote_heads_and_values(void **state)
{
	remote_from_plain_git(*state);
	clone_into(*state, "mem");
}

static void test_clone_into_lmdb_has_the_remote_heads_and_values(void **state)
{
	remote_from_plain_git(*state);
	clone_into(*state, "lmdb");
}

static void test_clone_into_git_has_the_remote_heads_and_values(void **state)
{
	remote_from_plain_git(*state);
	clone_into(*state, "git");
}

struct stages {
	size_t total[4]; /* last total seen for counting, sending, receiving, copying */
	int calls;
	int stop_with;   /* non-zero: return it on the first call */
};

static int on_progress(void *payload, const char *stage, size_t done, size_t total)
{
	static const char *const names[] = { "counting", "sending", "receiving", "copying" };
	struct stages *s = payload;
	bool known = false;

	for (int i = 0; i < 4; i++) {
		if (!strcmp(stage, names[i])) {
			s->total[i] = total;
			known = true;
		}
	}
	assert_true(known);
	assert_true(done <= total);
	s->calls++;
	return s->stop_with;
}

static void fetch_gets_one_more_commit(struct fixture *f, const char *backend)
{
	struct vs_repo *a = store(f, "mem", "a"), *b = store(f, backend, "b");
	struct stages st = { 0 };
	struct vs_sync_opts o = { .version = VS_SYNC_OPTS_VERSION, .progress = on_progress,
				  .payload = &st };
	struct vs_oid got, want;

	put(a, "main", "x", "1", 1700000000);
	put(a, "main", "y", "2", 1700000100);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, &o));
	assert_true(st.total[0] > 0 || st.total[1] > 0);
	assert_vs_ok(vs_sync_fetch(&got, b, f->url, "main", "main", NULL));
	assert_value(b, "main", "y", "2");

	/* One more commit (commit, root tree, blob) crosses, and nothing else. */
	want = put(a, "main", "z", "3", 1700000200);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	memset(&st, 0, sizeof(st));
	assert_vs_ok(vs_sync_fetch(&got, b, f->url, "main", "main", &o));
	assert_true(vs_oid_equal(&got, &want));
	assert_vs_ok(vs_branch_head(&got, b, "main"));
	assert_true(vs_oid_equal(&got, &want));
	assert_value(b, "main", "z", "3");
	if (strcmp(backend, "git")) {
		assert_int_equal(st.total[3], 3);
		assert_true(st.total[2] <= 3);
	}

	/* Fetching only the objects leaves every branch alone. */
	put(a, "main", "z", "4", 1700000300);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_vs_ok(vs_sync_fetch(&got, b, f->url, "main", NULL, NULL));
	assert_int_equal(vs_descendant_of(b, &got, &want), 1);
	assert_vs_ok(vs_branch_head(&got, b, "main"));
	assert_true(vs_oid_equal(&got, &want));
	assert_vs_err(VS_ENOENT, vs_sync_fetch(&got, b, f->url, "nosuch", NULL, NULL));
	vs_repo_close(a);
	vs_repo_close(b);
}

static void test_fetch_transfers_the_commit_another_store_pushed_into_mem(void **state)
{
	fetch_gets_one_more_commit(*state, "mem");
}

static void test_fetch_transfers_the_commit_another_store_pushed_into_lmdb(void **state)
{
	fetch_gets_one_more_commit(*state, "lmdb");
}

static void test_fetch_transfers_the_commit_another_store_pushed_into_git(void **state)
{
	fetch_gets_one_more_commit(*state, "git");
}

static void test_pull_fast_forwards_and_merges_diverged_histories(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *a = store(f, "mem", "a"), *b = store(f, "lmdb", "b");
	struct vs_signature sig = vst_sig(1700000900);
	struct vs_commit_opts copts = { .author = &sig, .message = "merge" };
	struct vs_commit *c = NULL;
	struct vs_oid got, a2, b2;

	put(a, "main", "shared", "base", 1700000000);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	/* Pull into a store without the branch creates it. */
	assert_vs_ok(vs_sync_pull(&got, b, f->url, "main", NULL, NULL, &copts, NULL));
	assert_value(b, "main", "shared", "base");

	a2 = put(a, "main", "from/a", "A", 1700000100);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_vs_ok(vs_sync_pull(&got, b, f->url, "main", NULL, NULL, &copts, NULL));
	assert_true(vs_oid_equal(&got, &a2)); /* a fast-forward: no new commit */

	/* Both sides commit; the pull makes a merge commit with both parents. */
	put(a, "main", "from/a", "A2", 1700000300);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	b2 = put(b, "main", "from/b", "B", 1700000400);
	assert_vs_ok(vs_sync_pull(&got, b, f->url, "main", NULL, NULL, &copts, NULL));
	assert_vs_ok(vs_commit_lookup(&c, b, &got));
	assert_int_equal(vs_commit_parentcount(c), 2);
	assert_true(vs_oid_equal(vs_commit_parent_id(c, 0), &b2));
	vs_commit_free(c);
	assert_value(b, "main", "from/a", "A2");
	assert_value(b, "main", "from/b", "B");

	/* The merge goes back up as a fast-forward, and git accepts it. */
	assert_vs_ok(vs_sync_push(b, f->url, "main", NULL, NULL));
	assert_remote_matches(f, b, "main");
	vs_repo_close(a);
	vs_repo_close(b);
}

static void test_non_fast_forward_push_is_econflict_unless_forced(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *a = store(f, "mem", "a"), *b = store(f, "git", "b");
	struct vs_sync_opts force = { .version = VS_SYNC_OPTS_VERSION, .force = true };
	struct vs_oid base, mine;

	base = put(a, "main", "k", "v0", 1700000000);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_vs_ok(vs_sync_fetch(&mine, b, f->url, "main", "main", NULL));
	put(a, "main", "k", "a", 1700000100);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	mine = put(b, "main", "k", "b", 1700000200);

	assert_vs_err(VS_ECONFLICT, vs_sync_push(b, f->url, "main", NULL, NULL));
	/* A fetch into the diverged branch refuses as well. */
	assert_vs_err(VS_ECONFLICT, vs_sync_fetch(&base, b, f->url, "main", "main", NULL));
	assert_vs_ok(vs_sync_push(b, f->url, "main", NULL, &force));
	char *head = vst_sh_out("git --git-dir='%s' rev-parse main", f->bare);
	char hex[VS_OID_MAXHEXSZ + 1];
	assert_non_null(head);
	assert_memory_equal(head, vs_oid_tostr(hex, &mine), 40);
	free(head);
	vs_repo_close(a);
	vs_repo_close(b);
}

static void test_missing_branches_and_stopped_progress_are_reported(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *a = store(f, "mem", "a");
	struct stages st = { .stop_with = 99 };
	struct vs_sync_opts o = { .version = VS_SYNC_OPTS_VERSION, .progress = on_progress,
				  .payload = &st };
	struct vs_oid got;

	assert_vs_err(VS_ENOENT, vs_sync_push(a, f->url, "main", NULL, NULL));
	put(a, "main", "k", "v", 1700000000);
	assert_int_equal(vs_sync_push(a, f->url, "main", NULL, &o), 99);
	assert_int_equal(st.calls, 1);
	assert_int_equal(vst_sh("git --git-dir='%s' rev-parse -q --verify main", f->bare), 1);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_vs_err(VS_ENOENT, vs_sync_fetch(&got, a, f->url, "other", NULL, NULL));
	assert_vs_err(VS_EINVAL, vs_sync_push(a, f->url, "main", "bad..name", NULL));
	o.version = 99;
	assert_vs_err(VS_EINVAL, vs_sync_push(a, f->url, "main", NULL, &o));
	vs_repo_close(a);
}

static void test_daemon_push_clone_fetch_and_conflict(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *a = store(f, "lmdb", "a"), *b = NULL, *c = NULL;
	char uri[4400];
	struct vs_oid got, want;

	put(a, "main", "local/domain/1/name", "one", 1700000000);
	put(a, "main", "local/domain/2/name", "two", 1700000100);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_remote_matches(f, a, "main");

	snprintf(uri, sizeof(uri), "lmdb:%s/clone-lmdb", f->dir);
	assert_vs_ok(vs_sync_clone(&b, f->url, uri, NULL, NULL));
	assert_vs_ok(vs_sync_clone(&c, f->url, "mem:", NULL, NULL));
	assert_value(b, "main", "local/domain/2/name", "two");
	assert_value(c, "main", "local/domain/1/name", "one");

	want = put(a, "main", "local/domain/3/name", "three", 1700000200);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	/* b is in LMDB's default format, vs: fetches convert, pushes map back. */
	assert_string_equal(vs_repo_format(b), "vs");
	assert_vs_ok(vs_sync_fetch(&got, b, f->url, "main", "main", NULL));
	assert_value(b, "main", "local/domain/3/name", "three");
	assert_vs_ok(vs_branch_create(b, "fromvs", &got));
	put(b, "fromvs", "local/domain/7/name", "seven", 1700000250);
	assert_vs_ok(vs_sync_push(b, f->url, "fromvs", NULL, NULL));
	char *seven = vst_sh_out("git --git-dir='%s' log --format=%%s -1 fromvs^ && "
				 "git --git-dir='%s' show fromvs:local/domain/7/name",
				 f->bare, f->bare);
	assert_non_null(seven);
	assert_string_equal(seven, "three\nseven");
	free(seven);
	assert_vs_ok(vs_sync_pull(&got, c, f->url, "main", NULL, NULL, NULL, NULL));
	assert_true(vs_oid_equal(&got, &want));
	assert_value(c, "main", "local/domain/3/name", "three");

	put(c, "main", "local/domain/4/name", "four", 1700000300);
	put(c, "other", "local/domain/4/name", "four", 1700000300);
	put(a, "main", "local/domain/5/name", "five", 1700000400);
	assert_vs_ok(vs_sync_push(a, f->url, "main", NULL, NULL));
	assert_vs_err(VS_ECONFLICT, vs_sync_push(c, f->url, "main", NULL, NULL));

	/* The remote's own refusals come back with its words. */
	struct vs_sync_opts force = { .version = VS_SYNC_OPTS_VERSION, .force = true };
	assert_int_equal(vst_sh("git --git-dir='%s' config receive.denyNonFastForwards true",
				f->bare),
			 0);
	assert_vs_err(VS_ECONFLICT, vs_sync_push(c, f->url, "main", NULL, &force));
	assert_non_null(strstr(vs_error_last()->message, "refused to update refs/heads/main"));
	assert_int_equal(vst_sh("printf '#!/bin/sh\nexit 1\n' > '%s/hooks/pre-receive' && "
				"chmod +x '%s/hooks/pre-receive'",
				f->bare, f->bare),
			 0);
	assert_vs_err(VS_EBACKEND, vs_sync_push(c, f->url, "other", NULL, NULL));
	assert_non_null(strstr(vs_error_last()->message, "hook declined"));
	assert_remote_matches(f, a, "main");
	vs_repo_close(a);
	vs_repo_close(b);
	vs_repo_close(c);
}

int main(void)
{
	/* git must not read the user's configuration. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	/* ... nor does libgit2, which has no such switch: no user.name anywhere. */
	setenv("HOME", "/nonexistent", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_push_from_mem_is_what_git_log_shows_and_fsck_accepts),
		T(test_push_from_lmdb_is_what_git_log_shows_and_fsck_accepts),
		T(test_push_from_git_is_what_git_log_shows_and_fsck_accepts),
		T(test_clone_into_mem_has_the_remote_heads_and_values),
		T(test_clone_into_lmdb_has_the_remote_heads_and_values),
		T(test_clone_into_git_has_the_remote_heads_and_values),
		T(test_fetch_transfers_the_commit_another_store_pushed_into_mem),
		T(test_fetch_transfers_the_commit_another_store_pushed_into_lmdb),
		T(test_fetch_transfers_the_commit_another_store_pushed_into_git),
		T(test_pull_fast_forwards_and_merges_diverged_histories),
		T(test_non_fast_forward_push_is_econflict_unless_forced),
		T(test_missing_branches_and_stopped_progress_are_reported),
#undef T
		cmocka_unit_test_setup_teardown(test_daemon_push_clone_fetch_and_conflict,
						setup_daemon, teardown),
	};
	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
