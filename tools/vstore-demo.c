/* SPDX-License-Identifier: MIT */
/*
 * vstore-demo: a short tour of libvstore on its default backend (LMDB), in a
 * private run directory. It plays a dom0 and two guests writing Xenstore-like
 * keys, forks and merges a transaction branch, then asks history the
 * questions an operator asks: who changed this key, when, and what was there
 * before. Finally it exports the history to a git repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vstore/vstore.h"

static void die(const char *what)
{
	const struct vs_error *e = vs_error_last();
	fprintf(stderr, "vstore-demo: %s: %s (%s)\n", what, e->message, vs_err_name(e->code));
	exit(1);
}

#define CHECK(call, what)            \
	do {                         \
		if ((call) < 0)      \
			die(what);   \
	} while (0)

static int64_t clock_now;

/* Commit one write on @branch as domain @dom. */
static void write_key(struct vs_repo *repo, const char *branch, int dom, const char *path,
		      const char *value)
{
	struct vs_oid head, id;
	struct vs_commit *c = NULL;
	struct vs_tree *t, *n;
	char name[32], email[32], msg[512];

	if (vs_branch_head(&head, repo, branch) == 0) {
		CHECK(vs_commit_lookup(&c, repo, &head), "lookup");
		CHECK(vs_commit_tree(&t, c), "tree");
		vs_commit_free(c);
	} else {
		CHECK(vs_tree_new(&t, repo), "new tree");
	}
	CHECK(vs_tree_set(&n, t, path, value, strlen(value)), path);
	snprintf(name, sizeof(name), "domain %d", dom);
	snprintf(email, sizeof(email), "dom%d@xenstore", dom);
	snprintf(msg, sizeof(msg), "WRITE %s\n\nXs-Domain: %d\nXs-Op: WRITE\n", path, dom);
	struct vs_signature sig = { name, email, clock_now++, 0 };
	struct vs_commit_opts o = { .author = &sig, .message = msg };
	CHECK(vs_branch_commit(&id, repo, branch, NULL, n, &o), "commit");
	vs_tree_free(t);
	vs_tree_free(n);
}

static int print_commit(void *payload, struct vs_commit *c)
{
	char hex[VS_OID_MAXHEXSZ + 1], summary[80];
	(void)payload;
	printf("  %.10s  %-9s  %s\n", vs_oid_tostr(hex, vs_commit_id(c)),
	       vs_commit_author(c)->name, vs_commit_summary(c, summary, sizeof(summary)));
	return 0;
}

static int print_delta(void *payload, const struct vs_delta *d)
{
	static const char mark[] = " +-~";
	(void)payload;
	printf("  %c %s: '%.*s' -> '%.*s'\n", mark[d->status], d->path, (int)d->old_value.len,
	       (const char *)d->old_value.ptr, (int)d->new_value.len,
	       (const char *)d->new_value.ptr);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[4096] = "", uri[4200], git_uri[4200], hex[VS_OID_MAXHEXSZ + 1];
	char git_hex[VS_OID_MAXHEXSZ + 1];
	struct vs_repo *repo, *git;
	struct vs_oid head, prev, who, git_head;
	struct vs_buf val = VS_BUF_INIT;
	struct vs_check_stats st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--run-dir") && i + 1 < argc) {
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
		} else {
			fprintf(stderr, "usage: vstore-demo [--run-dir DIR]\n"
					"Writes a small store under DIR (default: a new "
					"temporary directory) and shows its history.\n");
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (!*dir) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/vstore-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("vstore-demo: mkdtemp");
			return 1;
		}
	}
	clock_now = (int64_t)time(NULL);
	snprintf(uri, sizeof(uri), "lmdb:%s/store", dir);
	CHECK(vs_repo_open(&repo, uri, NULL), uri);
	printf("store %s (format %s)\n\n", uri, vs_repo_format(repo));

	write_key(repo, "main", 0, "local/domain/0/name", "Domain-0");
	write_key(repo, "main", 0, "local/domain/3/name", "guest-3");
	write_key(repo, "main", 3, "local/domain/3/device/vif/0/state", "1");
	write_key(repo, "main", 0, "local/domain/3/memory/target", "524288");
	/* A transaction is a branch: fork, change, merge back while main moved on. */
	CHECK(vs_branch_head(&head, repo, "main"), "head");
	CHECK(vs_branch_create(repo, "txn/1", &head), "fork");
	write_key(repo, "txn/1", 0, "local/domain/3/memory/target", "1048576");
	write_key(repo, "main", 3, "local/domain/3/device/vif/0/state", "4");
	CHECK(vs_branch_head(&prev, repo, "main"), "head");
	CHECK(vs_branch_head(&head, repo, "txn/1"), "head");
	struct vs_signature sig = { "domain 0", "dom0@xenstore", clock_now++, 0 };
	struct vs_commit_opts copts = { .author = &sig, .message = "TRANSACTION_END 1\n" };
	struct vs_merge_result res = { 0 };
	struct vs_oid theirs = head;
	CHECK(vs_branch_merge(&head, repo, "main", &theirs, NULL, &copts, &res), "merge");
	vs_merge_result_dispose(&res);
	CHECK(vs_branch_delete(repo, "txn/1", NULL), "delete branch");

	printf("history of main, newest first:\n");
	CHECK(vs_log(repo, &head, NULL, print_commit, NULL), "log");
	const char *key = "local/domain/3/device/vif/0/state";
	printf("\nwho last changed %s?\n", key);
	CHECK(vs_blame(&who, repo, &head, key), "blame");
	struct vs_commit *c;
	CHECK(vs_commit_lookup(&c, repo, &who), "lookup");
	print_commit(NULL, c);
	if (vs_commit_parentcount(c)) {
		CHECK(vs_read_at(&val, repo, vs_commit_parent_id(c, 0), key), "read at");
		printf("  value just before: '%s'\n", val.ptr);
	}
	vs_commit_free(c);
	printf("\nchanges made by the merge:\n");
	CHECK(vs_diff_commits(repo, &prev, &head, NULL, print_delta, NULL), "diff");
	CHECK(vs_repo_check(repo, &st), "check");
	printf("\nintegrity check: %zu refs, %zu commits, %zu trees, %zu blobs verified\n",
	       st.refs, st.commits, st.trees, st.blobs);

	snprintf(git_uri, sizeof(git_uri), "git:%s/history.git", dir);
	CHECK(vs_repo_open(&git, git_uri, NULL), git_uri);
	/* From the vs format (LMDB's default) this converts: same history, git ids. */
	CHECK(vs_repo_copy(git, repo, NULL, NULL), "export");
	CHECK(vs_branch_head(&git_head, git, "main"), "head");
	printf("exported to %s; try:\n  git --git-dir=%s/history.git log --stat main\n",
	       git_uri, dir);
	printf("head %s\n     %s in git\n", vs_oid_tostr(hex, &head),
	       vs_oid_tostr(git_hex, &git_head));
	vs_buf_release(&val);
	vs_repo_close(git);
	vs_repo_close(repo);
	return 0;
}
