/* SPDX-License-Identifier: MIT */
/*
 * The management commands of `vstore` end to end: each case starts the real
 * daemon (daemon_harness.h) on its own LMDB store, drives it with Debian's
 * xenstore-* tools and libvsclient, runs the built vstore binary
 * ($VSTORE_TEST_EXE) and checks the store with libvstore: restore through
 * the daemon, push to a bare git repository, gc then check, branches,
 * stats, watch, graph and conduit init.
 */
#include "vst.h"

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vsclient/client.h>

#include "cli.h"
#include "daemon_harness.h"

struct fixture {
	struct xsd_harness *h;
	const char *vstore; /* the binary under test */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || !(f->vstore = getenv("VSTORE_TEST_EXE")) || !xsd_harness_exe())
		goto fail;
	if (!(f->h = xsd_harness_new("cli-manage")))
		goto fail;
	if (xsd_harness_start(f->h, NULL) < 0) {
		xsd_harness_dump_log(f->h);
		goto fail;
	}
	*state = f;
	return 0;
fail:
	if (f)
		xsd_harness_free(f->h);
	free(f);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	xsd_harness_free(f->h);
	free(f);
	return 0;
}

/* Run `vstore --store STORE ARGS` (ARGS printf-style); stdout into *out when given. */
static int __attribute__((format(printf, 3, 4)))
vstore(struct fixture *f, char **out, const char *fmt, ...)
{
	char args[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return xsd_harness_sh(f->h, NULL, out, "'%s' --no-pager --store '%s' %s", f->vstore,
			      f->h->store, args);
}

/* A shell command with XENSTORED_PATH set; it must succeed. */
static void sh_ok(struct fixture *f, const char *cmd)
{
	assert_int_equal(xsd_harness_sh(f->h, NULL, NULL, "%s", cmd), 0);
}

static struct vs_repo *open_store(struct fixture *f)
{
	struct vs_repo_opts o = {.version = VS_REPO_OPTS_VERSION,
				 .flags = VS_REPO_READONLY | VS_REPO_NOCREATE};
	struct vs_repo *repo = NULL;
	assert_vs_ok(vs_repo_open(&repo, f->h->store, &o));
	return repo;
}

static struct vs_oid head_of(struct fixture *f)
{
	struct vs_repo *repo = open_store(f);
	struct vs_oid id;
	assert_vs_ok(vs_branch_head(&id, repo, "main"));
	vs_repo_close(repo);
	return id;
}

static int count_change(void *payload, const struct cli_xs_change *ch)
{
	(void)ch;
	++*(size_t *)payload;
	return 0;
}

/* Xenstore-level changes below @path between two commits (seq-only changes excluded). */
static size_t xs_changes(struct fixture *f, const struct vs_oid *a, const struct vs_oid *b,
			 const char *path)
{
	struct vs_repo *repo = open_store(f);
	size_t n = 0;
	assert_vs_ok(cli_xs_diff(repo, a, b, path, count_change, &n));
	vs_repo_close(repo);
	return n;
}

static void test_restore_through_the_daemon_makes_a_new_commit_equal_to_the_old_tree(void **state)
{
	struct fixture *f = *state;
	char hex[VS_OID_MAXHEXSZ + 1], *out = NULL;

	sh_ok(f, "xenstore-write /vm/a/x one /vm/a/y two /vm/a/d/e deep && "
		 "xenstore-chmod /vm/a/x n0 r5 && xenstore-write /vm/keep k");
	struct vs_oid rev = head_of(f);
	/* Change values, perms, remove one node and add two. */
	sh_ok(f, "xenstore-write /vm/a/x ONE /vm/a/new n /vm/a/d/f added && "
		 "xenstore-chmod /vm/a/x b0 && xenstore-rm /vm/a/y && xenstore-write /vm/keep K");
	struct vs_oid before = head_of(f);
	assert_true(xs_changes(f, &rev, &before, "/vm/a") > 0);

	assert_int_equal(vstore(f, &out, "restore /vm/a --at %s", vs_oid_tostr(hex, &rev)), 0);
	assert_non_null(strstr(out, "restored"));
	free(out);
	struct vs_oid after = head_of(f);
	/* A new commit on top of the old head: history is not rewritten. */
	assert_false(vs_oid_equal(&after, &before));
	struct vs_repo *repo = open_store(f);
	assert_int_equal(vs_descendant_of(repo, &after, &before), 1);
	vs_repo_close(repo);
	/* The subtree is what it was at REV; nodes outside it are untouched. */
	assert_int_equal(xs_changes(f, &rev, &after, "/vm/a"), 0);
	assert_int_equal(xs_changes(f, &before, &after, "/vm/keep"), 0);
	assert_int_equal(xsd_harness_sh(f->h, NULL, &out, "xenstore-read /vm/a/y /vm/keep"), 0);
	assert_string_equal(out, "two\nK\n");
	free(out);
	/* Restoring again changes nothing and makes no commit. */
	assert_int_equal(vstore(f, &out, "restore /vm/a --at %s", hex), 0);
	assert_non_null(strstr(out, "nothing to do"));
	free(out);
	struct vs_oid again = head_of(f);
	assert_true(vs_oid_equal(&again, &after));
}

static void test_restore_removes_a_subtree_that_did_not_exist_then(void **state)
{
	struct fixture *f = *state;
	char hex[VS_OID_MAXHEXSZ + 1], *out = NULL;

	sh_ok(f, "xenstore-write /vm/base b");
	struct vs_oid rev = head_of(f);
	sh_ok(f, "xenstore-write /vm/later/a 1 /vm/later/b/c 2");
	assert_int_equal(
	    vstore(f, &out, "restore --json /vm/later --at %s", vs_oid_tostr(hex, &rev)), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "removed")), 1);
	assert_true(json_is_string(json_object_get(j, "commit")));
	json_decref(j);
	free(out);
	assert_int_not_equal(
	    xsd_harness_sh(f->h, NULL, NULL, "xenstore-read /vm/later 2>/dev/null"), 0);
	/* --dry-run reports and changes nothing. */
	struct vs_oid h1 = head_of(f);
	assert_int_equal(vstore(f, &out, "restore --dry-run /vm/base --at %s~1", hex), 0);
	assert_non_null(strstr(out, "rm /vm/base"));
	free(out);
	struct vs_oid h2 = head_of(f);
	assert_true(vs_oid_equal(&h1, &h2));
}

static void test_bad_input_fails_with_one_line_and_a_nonzero_exit(void **state)
{
	struct fixture *f = *state;
	char *out = NULL;

	assert_int_equal(vstore(f, &out, "restore /vm --at nosuchrev 2>&1"), 1);
	assert_int_equal(strncmp(out, "vstore restore: ", 16), 0);
	assert_non_null(strchr(out, '\n')); /* exactly one line */
	assert_string_equal(strchr(out, '\n'), "\n");
	free(out);
	assert_int_equal(vstore(f, NULL, "restore /vm 2>/dev/null"), 2); /* no --at */
	assert_int_equal(vstore(f, NULL, "gc --keep-last x 2>/dev/null"), 2);
	assert_int_equal(vstore(f, NULL, "branch -d nosuch 2>/dev/null"), 1);
	assert_int_equal(xsd_harness_sh(f->h, NULL, &out, "'%s' --store lmdb:%s/none stats 2>&1",
					f->vstore, f->h->dir),
			 1);
	assert_non_null(strstr(out, "does not exist"));
	free(out);
	/* Every management command has --help. */
	const char *cmds[] = {"branch", "restore", "push",  "fetch", "pull",  "clone", "export",
			      "import", "gc",	   "check", "stats", "watch", "graph", "conduit"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(vstore(f, &out, "%s --help", cmds[i]), 0);
		assert_non_null(strstr(out, "usage: vstore"));
		free(out);
	}
}

struct messages {
	char **v;
	size_t n;
};

/* Trailing blanks and newlines off, in place. */
static char *rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static int collect_message(void *payload, struct vs_commit *c)
{
	struct messages *m = payload;
	m->v = realloc(m->v, (m->n + 1) * sizeof(char *));
	assert_non_null(m->v);
	m->v[m->n] = strdup(vs_commit_message(c));
	assert_non_null(m->v[m->n]);
	rtrim(m->v[m->n++]);
	return 0;
}

static void test_push_to_a_bare_repository_gives_git_log_the_same_messages(void **state)
{
	struct fixture *f = *state;
	struct messages m = {0};
	char *out = NULL;

	sh_ok(f, "xenstore-write /vm/p/a 1 && xenstore-write /vm/p/b 2 && xenstore-rm /vm/p/a");
	assert_int_equal(
	    xsd_harness_sh(f->h, NULL, NULL, "git init -q --bare '%s/remote.git'", f->h->dir), 0);
	assert_int_equal(vstore(f, &out, "push '%s/remote.git'", f->h->dir), 0);
	assert_non_null(strstr(out, "pushed main"));
	free(out);

	struct vs_repo *repo = open_store(f);
	struct vs_oid head;
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_log(repo, &head, NULL, collect_message, &m));
	vs_repo_close(repo);
	assert_true(m.n >= 3);

	/* git log -z: one NUL-terminated raw message per commit, newest first. */
	assert_int_equal(xsd_harness_sh(f->h, NULL, &out,
					"git --git-dir='%s/remote.git' log -z --format=%%B main",
					f->h->dir),
			 0);
	size_t i = 0;
	for (char *p = out; *p && i <= m.n; i++) {
		size_t len = strlen(p);
		assert_true(i < m.n);
		assert_string_equal(rtrim(p), m.v[i]);
		p += len + 1;
	}
	assert_int_equal(i, m.n);
	free(out);
	assert_int_equal(
	    xsd_harness_sh(f->h, NULL, NULL,
			   "git --git-dir='%s/remote.git' fsck --strict >/dev/null 2>&1",
			   f->h->dir),
	    0);
	for (size_t k = 0; k < m.n; k++)
		free(m.v[k]);
	free(m.v);
}

static void test_gc_keep_last_then_check_passes(void **state)
{
	struct fixture *f = *state;
	char *out = NULL;

	sh_ok(f, "for i in 1 2 3 4 5 6 7 8 9 10; do xenstore-write /vm/g/v$i $i || exit 1; done");
	/* gc is refused while the daemon runs: it would sweep under its writer. */
	assert_int_equal(vstore(f, &out, "gc --keep-last 3 2>&1"), 1);
	assert_non_null(strstr(out, "stop it"));
	assert_non_null(strstr(out, "xenstore-control gc start")); /* and what to do instead */
	free(out);
	assert_int_equal(xsd_harness_stop(f->h), 0);

	assert_int_equal(vstore(f, &out, "gc --keep-last 3 --json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "commits_kept")), 3);
	assert_true(json_integer_value(json_object_get(j, "commits_dropped")) > 0);
	assert_true(json_integer_value(json_object_get(j, "objects_swept")) > 0);
	assert_int_equal(json_integer_value(json_object_get(j, "boundary")), 1);
	json_decref(j);
	free(out);
	assert_int_equal(vstore(f, &out, "check"), 0);
	assert_non_null(strstr(out, "ok: 1 ref, 3 commits"));
	assert_non_null(strstr(out, "Xenstore nodes"));
	free(out);
	/* The daemon starts again on the collected store and keeps committing. */
	assert_int_equal(xsd_harness_start(f->h, NULL), 0);
	assert_int_equal(xsd_harness_sh(f->h, NULL, &out, "xenstore-read /vm/g/v10"), 0);
	assert_string_equal(out, "10\n");
	free(out);
	sh_ok(f, "xenstore-write /vm/g/after yes");
	assert_int_equal(vstore(f, NULL, "check >/dev/null"), 0);
}

static void test_branch_create_list_delete(void **state)
{
	struct fixture *f = *state;
	char hex[VS_OID_MAXHEXSZ + 1], *out = NULL;

	sh_ok(f, "xenstore-write /vm/b/one 1 && xenstore-write /vm/b/two 2");
	struct vs_repo *repo = open_store(f);
	struct vs_oid head, parent;
	struct vs_commit *c;
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_commit_lookup(&c, repo, &head));
	parent = *vs_commit_parent_id(c, 0);
	vs_commit_free(c);
	vs_repo_close(repo);

	assert_int_equal(vstore(f, NULL, "branch snap HEAD~1 >/dev/null"), 0);
	assert_int_equal(vstore(f, NULL, "branch snap 2>/dev/null"), 1); /* exists */
	assert_int_equal(vstore(f, NULL, "branch 'bad..name' 2>/dev/null"), 1);
	assert_int_equal(vstore(f, &out, "branch --json"), 0);
	char want[200];
	snprintf(want, sizeof(want), "{\"name\":\"snap\",\"commit\":\"%s\"",
		 vs_oid_tostr(hex, &parent));
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "{\"name\":\"main\""));
	free(out);
	/* The daemon keeps committing on main; the new branch stays put. */
	sh_ok(f, "xenstore-write /vm/b/three 3");
	repo = open_store(f);
	struct vs_oid snap;
	assert_vs_ok(vs_branch_head(&snap, repo, "snap"));
	assert_true(vs_oid_equal(&snap, &parent));
	vs_repo_close(repo);
	/* main is not deleted under a running daemon. */
	assert_int_equal(vstore(f, NULL, "branch -d main 2>/dev/null"), 1);
	assert_int_equal(vstore(f, &out, "branch -d snap"), 0);
	assert_non_null(strstr(out, "deleted branch snap"));
	free(out);
	assert_int_equal(vstore(f, &out, "branch"), 0);
	assert_null(strstr(out, "snap"));
	assert_non_null(strstr(out, "main"));
	free(out);
}

struct walk {
	size_t count;
	struct vs_oid oldest; /* the last commit vs_log reports */
};

static int count_commit(void *payload, struct vs_commit *c)
{
	struct walk *w = payload;
	w->count++;
	w->oldest = *vs_commit_id(c);
	return 0;
}

static void test_stats_numbers_match_the_store(void **state)
{
	struct fixture *f = *state;
	char hex[VS_OID_MAXHEXSZ + 1], *out = NULL;

	sh_ok(f, "xenstore-write /vm/s/a 1 /vm/s/b 2 && xenstore-rm /vm/s/a");
	assert_int_equal(vstore(f, &out, "stats --json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	free(out);

	struct vs_repo *repo = open_store(f);
	struct vs_oid head;
	struct walk w = {0};
	struct vs_check_stats cs;
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_log(repo, &head, NULL, count_commit, &w));
	assert_vs_ok(vs_repo_check(repo, &cs));
	vs_repo_close(repo);

	assert_int_equal(json_integer_value(json_object_get(j, "commits")), w.count);
	assert_int_equal(json_integer_value(json_object_get(j, "objects")),
			 cs.commits + cs.trees + cs.blobs);
	assert_int_equal(json_integer_value(json_object_get(j, "branches")), 1);
	assert_true(json_integer_value(json_object_get(j, "bytes")) > 0);
	assert_int_equal(json_integer_value(json_object_get(j, "boundary")), 0);
	json_t *oldest = json_object_get(j, "oldest");
	assert_string_equal(json_string_value(json_object_get(oldest, "commit")),
			    vs_oid_tostr(hex, &w.oldest));
	json_decref(j);
	assert_int_equal(vstore(f, &out, "stats"), 0);
	assert_non_null(strstr(out, "oldest:"));
	free(out);
}

/*
 * Start `vstore watch ARGS --count 1` in the background, then write
 * /vm/w/v = x<i> every 100 ms until it exits (a write made before its watch
 * is registered is simply not seen): its output into *out.
 */
static int watch_while_writing(struct fixture *f, char **out, const char *args)
{
	return xsd_harness_sh(f->h, NULL, out,
			      "'%s' --no-pager --store '%s' watch %s --count 1 --timeout 15 & "
			      "pid=$!; i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 120 ]; do "
			      "xenstore-write /vm/w/v x$i; i=$((i+1)); sleep 0.1; done; wait $pid",
			      f->vstore, f->h->store, args);
}

static void test_watch_prints_a_change_made_by_xenstore_write(void **state)
{
	struct fixture *f = *state;
	char *out = NULL;

	sh_ok(f, "xenstore-write /vm/w/v start");
	assert_int_equal(watch_while_writing(f, &out, "/vm/w"), 0);
	assert_non_null(strstr(out, "/vm/w/v = \"x"));
	free(out);
	/* From the store, polled: the same change with its commit id. */
	assert_int_equal(watch_while_writing(f, &out, "--poll --interval 50 --json /vm/w"), 0);
	json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/vm/w/v");
	assert_int_equal(strncmp(json_string_value(json_object_get(j, "value")), "x", 1), 0);
	assert_true(json_is_string(json_object_get(j, "commit")));
	json_decref(j);
	free(out);
	/* Nothing happens: --timeout ends it, and --count unmet is a failure. */
	assert_int_equal(vstore(f, NULL, "watch /vm/quiet --timeout 0.3"), 0);
	assert_int_equal(vstore(f, NULL, "watch /vm/quiet --count 1 --timeout 0.3 2>/dev/null"), 1);
}

static void test_graph_emits_dot_with_transactions_as_merges_and_svg(void **state)
{
	struct fixture *f = *state;
	char sock[4200], *out = NULL;
	struct vsc_client *c;
	vsc_txn_t t;

	/* A transaction that does not start from the head becomes a merge. */
	snprintf(sock, sizeof(sock), "unix:%s", f->h->sock);
	assert_vs_ok(vsc_client_open(&c, sock));
	assert_vs_ok(vsc_write(c, VSC_TXN_NONE, "/vm/t/base", "0", 1));
	assert_vs_ok(vsc_transaction_start(&t, c));
	assert_vs_ok(vsc_write(c, t, "/vm/t/inside", "1", 1));
	assert_vs_ok(vsc_write(c, VSC_TXN_NONE, "/vm/t/outside", "2", 1));
	assert_vs_ok(vsc_transaction_end(c, t, true));
	vsc_client_close(c);

	assert_int_equal(vstore(f, &out, "graph -n 0"), 0);
	assert_int_equal(strncmp(out, "digraph vstore {\n", 17), 0);
	assert_string_equal(out + strlen(out) - 2, "}\n");
	assert_non_null(strstr(out, "label=\"merge\""));
	assert_non_null(strstr(out, "fillcolor=lightblue"));
	assert_non_null(strstr(out, "\"b:main\""));
	free(out);
	if (xsd_harness_sh(f->h, NULL, NULL, "command -v dot >/dev/null") != 0) {
		fprintf(stderr, "# dot not installed: svg not checked\n");
		assert_int_equal(vstore(f, NULL, "graph --svg '%s/g.svg' 2>/dev/null", f->h->dir),
				 1);
		return;
	}
	/* dot parses it, and --svg renders through it. */
	assert_int_equal(vstore(f, NULL, "graph | dot -Tcanon >/dev/null"), 0);
	assert_int_equal(vstore(f, NULL, "graph --svg '%s/g.svg' 2>/dev/null", f->h->dir), 0);
	assert_int_equal(xsd_harness_sh(f->h, NULL, NULL, "grep -q '<svg' '%s/g.svg'", f->h->dir),
			 0);
}

static void test_conduit_init_creates_conduit_with_b0(void **state)
{
	struct fixture *f = *state;
	char sock[4200], *out = NULL;
	struct vsc_client *c;
	struct vs_strarray perms = {0};

	sh_ok(f, "xenstore-write /conduit/stale 7");
	assert_int_equal(vstore(f, &out, "conduit init"), 0);
	assert_non_null(strstr(out, "created /conduit"));
	free(out);
	snprintf(sock, sizeof(sock), "unix:%s", f->h->sock);
	assert_vs_ok(vsc_client_open(&c, sock));
	assert_vs_ok(vsc_get_perms(&perms, c, VSC_TXN_NONE, "/conduit"));
	assert_int_equal(perms.count, 1);
	assert_string_equal(perms.strings[0], "b0");
	vs_strarray_dispose(&perms);
	struct vs_buf val = VS_BUF_INIT;
	assert_vs_err(VS_ENOENT, vsc_read(&val, c, VSC_TXN_NONE, "/conduit/stale"));
	vs_buf_release(&val);
	vsc_client_close(c);
	sh_ok(f, "xenstore-write /conduit/svc 3");
	assert_int_equal(vstore(f, &out, "conduit list"), 0);
	assert_string_equal(out, "svc domain 3\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_restore_through_the_daemon_makes_a_new_commit_equal_to_the_old_tree),
	    T(test_restore_removes_a_subtree_that_did_not_exist_then),
	    T(test_bad_input_fails_with_one_line_and_a_nonzero_exit),
	    T(test_push_to_a_bare_repository_gives_git_log_the_same_messages),
	    T(test_gc_keep_last_then_check_passes),
	    T(test_branch_create_list_delete),
	    T(test_stats_numbers_match_the_store),
	    T(test_watch_prints_a_change_made_by_xenstore_write),
	    T(test_graph_emits_dot_with_transactions_as_merges_and_svg),
	    T(test_conduit_init_creates_conduit_with_b0),
#undef T
	};
	return cmocka_run_group_tests_name("cli_manage", tests, NULL, NULL);
}
