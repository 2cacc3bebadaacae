/* SPDX-License-Identifier: MIT */
/*
 * Conversion between the git and vs formats: a history made by plain git
 * (merges, branches, a directory big enough to split, binary values, an
 * executable, a symlink, a gitlink, an encoding header, an annotated tag)
 * goes git -> vs -> git with every id reproduced; a vs history goes vs ->
 * git -> vs likewise; converting again after one more commit writes only
 * the new objects; and vs stores push, clone, fetch and pull with a git
 * remote, incrementally, through the id map.
 */
#include "vst.h"
#include "vstore/sys/backend.h"

#include <signal.h>

#define BIG 1100 /* entries in the big directory: the vs format splits it */

struct fixture {
	char *dir;    /* temporary directory, removed in teardown */
	char *origin; /* dir/origin.git: the history plain git made, or an empty bare remote */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("convert");
	assert_true(asprintf(&f->origin, "%s/origin.git", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vst_rmrf(f->dir);
	free(f->dir);
	free(f->origin);
	free(f);
	return 0;
}

/* A commit in a git fast-import stream, its message ending in a newline. */
static void fi_commit(FILE *s, const char *branch, int mark, int from, int merge,
		      const char *encoding, const char *msg)
{
	fprintf(s, "commit refs/heads/%s\nmark :%d\n", branch, mark);
	fprintf(s, "author G <g@example.org> %d +0100\n", 1700000000 + 100 * mark);
	fprintf(s, "committer C <c@example.org> %d -0230\n", 1700000050 + 100 * mark);
	if (encoding)
		fprintf(s, "encoding %s\n", encoding);
	fprintf(s, "data %zu\n%s", strlen(msg), msg);
	if (from)
		fprintf(s, "from :%d\n", from);
	if (merge)
		fprintf(s, "merge :%d\n", merge);
}

static void fi_file(FILE *s, unsigned int mode, const char *path, const void *data, size_t len)
{
	fprintf(s, "M %o inline %s\ndata %zu\n", mode, path, len);
	fwrite(data, 1, len, s);
	fputc('\n', s);
}

/*
 * origin.git, made by git fast-import (one pack, no work tree): main (a root
 * commit with the big directory, a binary value, an executable and a
 * symlink; a gitlink; a Latin-1 commit; a merge of dev), dev (one commit off
 * the second) and feature (off the Latin-1 one).
 */
static void origin_from_plain_git(struct fixture *f)
{
	char path[4300], name[32], value[32];
	FILE *s;

	snprintf(path, sizeof(path), "%s/stream", f->dir);
	assert_non_null(s = fopen(path, "w"));
	fi_commit(s, "main", 1, 0, 0, NULL, "one\n");
	for (int i = 0; i < BIG; i++) {
		snprintf(name, sizeof(name), "big/k%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		fi_file(s, 0100644, name, value, strlen(value));
	}
	fi_file(s, 0100644, "local/domain/0/name", "Domain-0", 8);
	fi_file(s, 0100644, "bin", "\0\1\377bin", 7);
	fi_file(s, 0100755, "tools/run.sh", "#!/bin/sh\necho hi\n", 18);
	fi_file(s, 0120000, "link", "local/domain/0/name", 19);
	fi_commit(s, "main", 2, 1, 0, NULL, "a gitlink\n");
	fprintf(s, "M 160000 0123456789abcdef0123456789abcdef01234567 sub\n");
	fi_commit(s, "dev", 3, 2, 0, NULL, "dev: k7\n");
	fi_file(s, 0100644, "big/k7", "changed", 7);
	fi_commit(s, "main", 4, 2, 0, "ISO-8859-1", "two, in Latin-1\n");
	fi_file(s, 0100644, "local/domain/0/name", "dom0", 4);
	fi_commit(s, "main", 5, 4, 3, NULL, "merge dev\n");
	fi_file(s, 0100644, "big/k7", "changed", 7);
	fi_commit(s, "feature", 6, 4, 0, NULL, "feature\n\nbody line\n");
	fi_file(s, 0100644, "feature", "f", 1);
	assert_int_equal(fclose(s), 0);
	assert_int_equal(vst_sh("git init -q --bare -b main '%s' && "
				"git --git-dir='%s' fast-import --quiet < '%s'",
				f->origin, f->origin, path),
			 0);
}

/* Open "@scheme:@path" (the format @format unless NULL). */
static struct vs_repo *open_uri(const char *scheme, const char *path, const char *format,
				size_t mapsize)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = format,
				  .lmdb_mapsize = mapsize };
	struct vs_repo *repo = NULL;
	char uri[4300];
	snprintf(uri, sizeof(uri), "%s:%s", scheme, path);
	assert_vs_ok(vs_repo_open(&repo, uri, &o));
	if (format)
		assert_string_equal(vs_repo_format(repo), format);
	return repo;
}

/* A vs store on @backend; LMDB starts with a small map, so batches replay as it grows. */
static struct vs_repo *vs_store(struct fixture *f, const char *backend, const char *tag)
{
	char path[4200];
	if (!strcmp(backend, "mem"))
		return open_uri("mem", "", "vs", 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, tag);
	return open_uri("lmdb", path, "vs", 256 << 10);
}

static struct vs_repo *git_store(struct fixture *f, const char *name)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return open_uri("git", path, "git", 0);
}

/* What a git repository holds: refs, then every object reachable, sorted. */
static char *git_contents(const char *gitdir)
{
	char *s = vst_sh_out("git --git-dir='%s' for-each-ref "
			     "--format='%%(objectname) %%(refname)' && "
			     "git --git-dir='%s' rev-list --objects --all | sort",
			     gitdir, gitdir);
	assert_non_null(s);
	return s;
}

static void assert_fsck_strict(const char *gitdir)
{
	assert_int_equal(vst_sh("git --git-dir='%s' fsck --strict --no-dangling 2>&1", gitdir), 0);
}

static struct vs_oid mapped(struct vs_repo *repo, const struct vs_oid *id)
{
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_oid to;
	assert_vs_ok(b->ops->idmap_get(b, id, &to));
	return to;
}

static bool oid_eq(struct vs_oid a, struct vs_oid b)
{
	return vs_oid_equal(&a, &b);
}

static struct vs_oid head_of(struct vs_repo *repo, const char *branch)
{
	struct vs_oid id;
	assert_vs_ok(vs_branch_head(&id, repo, branch));
	return id;
}

static void assert_value(struct vs_repo *repo, const char *branch, const char *path,
			 const void *want, size_t len)
{
	struct vs_buf buf = VS_BUF_INIT;
	struct vs_oid head = head_of(repo, branch);
	assert_vs_ok(vs_read_at(&buf, repo, &head, path));
	assert_int_equal(buf.size, len);
	assert_memory_equal(buf.ptr, want, len);
	vs_buf_release(&buf);
}

/* The entry at @path on main has @mode; returns its id. */
static struct vs_oid assert_mode(struct vs_repo *repo, const char *path, unsigned int mode)
{
	struct vs_oid head = head_of(repo, "main");
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;
	struct vs_tree_stat st;

	assert_vs_ok(vs_commit_lookup(&c, repo, &head));
	assert_vs_ok(vs_commit_tree(&t, c));
	assert_vs_ok(vs_tree_stat(&st, t, path));
	assert_int_equal(st.mode, mode);
	vs_tree_free(t);
	vs_commit_free(c);
	return st.id;
}

/* What plain git wrote reads back from the vs store: values, modes, the split, the gitlink. */
static void assert_fixture_in_vs(struct vs_repo *vs)
{
	static const char bin[] = "\0\1\377bin";
	struct vs_buf raw = VS_BUF_INIT;
	int type;

	assert_value(vs, "main", "local/domain/0/name", "dom0", 4);
	assert_value(vs, "main", "big/k7", "changed", 7);
	assert_value(vs, "dev", "big/k1099", "v1099", 5);
	assert_value(vs, "main", "bin", bin, sizeof(bin));
	assert_value(vs, "feature", "feature", "f", 1);
	assert_mode(vs, "tools/run.sh", 0100755);
	assert_mode(vs, "link", 0120000);
	struct vs_oid link = assert_mode(vs, "sub", 0160000);
	assert_int_equal(link.type, VS_OID_SHA256);
	assert_memory_equal(link.id, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
	assert_memory_equal(link.id + 20, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	/* The big directory is a split node: its object starts with "\0vsi". */
	struct vs_oid big = assert_mode(vs, "big", 040000);
	assert_vs_ok(vs_repo_read_raw(&raw, &type, vs, &big));
	assert_memory_equal(raw.ptr, "\0vsi", 4);
	vs_buf_release(&raw);
	assert_vs_ok(vs_repo_check(vs, NULL));
}

static void git_vs_git(struct fixture *f, const char *backend)
{
	struct vs_repo *origin, *vs, *back;
	char back_dir[4200];

	origin_from_plain_git(f);
	origin = open_uri("git", f->origin, "git", 0);
	vs = vs_store(f, backend, "vs");
	assert_vs_ok(vs_repo_copy(vs, origin, NULL, NULL));
	assert_fixture_in_vs(vs);
	struct vs_oid main_vs = head_of(vs, "main"), main_git = head_of(origin, "main");
	assert_true(oid_eq(mapped(vs, &main_git), main_vs));
	assert_true(oid_eq(mapped(vs, &main_vs), main_git));

	/* Back into a new git repository: every ref and object id is the original's. */
	back = git_store(f, "back.git");
	assert_vs_ok(vs_repo_copy(back, vs, NULL, NULL));
	snprintf(back_dir, sizeof(back_dir), "%s/back.git", f->dir);
	char *want = git_contents(f->origin), *got = git_contents(back_dir);
	assert_string_equal(got, want);
	free(got);
	assert_fsck_strict(back_dir);

	/* An annotated tag converts too, and alone: the rest is in the map. */
	assert_int_equal(vst_sh("git -c user.name=T -c user.email=t@example.org --git-dir='%s' "
				"tag -a -m release v1 dev",
				f->origin),
			 0);
	vs_repo_close(origin);
	origin = open_uri("git", f->origin, "git", 0);
	uint64_t before = vs_repo_backend(vs)->stats.obj_writes;
	assert_vs_ok(vs_repo_copy(vs, origin, NULL, NULL));
	assert_int_equal(vs_repo_backend(vs)->stats.obj_writes - before, 1);
	assert_vs_ok(vs_repo_copy(back, vs, NULL, NULL));
	free(want);
	want = git_contents(f->origin);
	got = git_contents(back_dir);
	assert_string_equal(got, want);
	free(want);
	free(got);
	assert_fsck_strict(back_dir);
	vs_repo_close(back);
	vs_repo_close(vs);
	vs_repo_close(origin);
}

static void test_git_to_vs_to_git_on_mem_reproduces_every_git_id(void **state)
{
	git_vs_git(*state, "mem");
}

static void test_git_to_vs_to_git_on_lmdb_reproduces_every_git_id(void **state)
{
	git_vs_git(*state, "lmdb");
}

/* Commit @path = @value (len bytes) on @branch, created if missing; returns the commit. */
static struct vs_oid put(struct vs_repo *repo, const char *branch, const char *path,
			 const void *value, size_t len, int64_t time)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = path };
	struct vs_tree *tree = vst_branch_tree(repo, branch), *next = NULL;
	struct vs_oid id;

	assert_vs_ok(vs_tree_set(&next, tree, path, value, len));
	assert_vs_ok(vs_branch_commit(&id, repo, branch, NULL, next, &o));
	vs_tree_free(tree);
	vs_tree_free(next);
	return id;
}

/* A vs history: main with the big directory and a binary value, dev, and their merge. */
static void vs_history(struct vs_repo *repo)
{
	struct vs_signature sig = vst_sig(1700000500);
	struct vs_commit_opts copts = { .author = &sig, .message = "merge dev\n" };
	struct vs_tree *t = NULL, *n = NULL;
	struct vs_oid id, theirs;
	char path[32], value[32];

	assert_vs_ok(vs_tree_new(&t, repo));
	for (int i = 0; i < BIG; i++) {
		snprintf(path, sizeof(path), "big/k%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		assert_vs_ok(vs_tree_set(&n, t, path, value, strlen(value)));
		vs_tree_free(t);
		t = n;
	}
	struct vs_signature first = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &first, .message = "big\n" };
	assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &o));
	vs_tree_free(t);
	put(repo, "main", "bin", "\0\1\377", 3, 1700000100);
	assert_vs_ok(vs_branch_create(repo, "dev", &id));
	theirs = put(repo, "dev", "big/k7", "changed", 7, 1700000200);
	put(repo, "main", "local/domain/0/name", "dom0", 4, 1700000300);
	struct vs_merge_result res = { 0 };
	assert_vs_ok(vs_branch_merge(&id, repo, "main", &theirs, NULL, &copts, &res));
	vs_merge_result_dispose(&res);
}

static size_t converting_total;

static int on_progress(void *payload, const char *stage, size_t done, size_t total)
{
	(void)payload;
	assert_true(done <= total);
	if (!strcmp(stage, "converting"))
		converting_total = total;
	return 0;
}

static void test_vs_to_git_to_vs_reproduces_vs_ids_and_converts_only_new_objects(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *a = vs_store(f, "mem", "a"), *mid = git_store(f, "mid.git");
	struct vs_repo *b = vs_store(f, "lmdb", "b");
	static const char *const branches[] = { "main", "dev" };
	char mid_dir[4200];

	vs_history(a);
	assert_vs_ok(vs_repo_copy(mid, a, NULL, NULL));
	snprintf(mid_dir, sizeof(mid_dir), "%s/mid.git", f->dir);
	assert_fsck_strict(mid_dir);
	assert_int_equal(vst_sh("test \"$(git --git-dir='%s' show main:bin | od -An -tx1)\" = "
				"' 00 01 ff'",
				mid_dir),
			 0);
	assert_vs_ok(vs_repo_copy(b, mid, NULL, NULL));
	for (size_t i = 0; i < 2; i++) {
		struct vs_oid x = head_of(a, branches[i]), y = head_of(b, branches[i]);
		struct vs_oid g = head_of(mid, branches[i]);
		assert_true(vs_oid_equal(&x, &y));
		assert_true(oid_eq(mapped(a, &x), g));
	}
	assert_vs_ok(vs_repo_check(b, NULL));

	/* One more commit changes one value of the big directory: vs -> git
	 * writes its commit, the root, the big tree and the value. */
	put(a, "main", "big/k500", "new", 3, 1700000600);
	uint64_t before = vs_repo_backend(mid)->stats.obj_writes;
	assert_vs_ok(vs_repo_copy(mid, a, on_progress, NULL));
	assert_int_equal(vs_repo_backend(mid)->stats.obj_writes - before, 4);
	assert_int_equal(converting_total, 4);
	/* git -> vs writes the commit, the root, the value and the few nodes
	 * of the split directory on the changed path, not its 1100 entries. */
	before = vs_repo_backend(b)->stats.obj_writes;
	assert_vs_ok(vs_repo_copy(b, mid, on_progress, NULL));
	uint64_t wrote = vs_repo_backend(b)->stats.obj_writes - before;
	assert_true(wrote >= 5 && wrote <= 6);
	assert_int_equal(converting_total, 4);
	struct vs_oid x = head_of(a, "main"), y = head_of(b, "main");
	assert_true(vs_oid_equal(&x, &y));
	assert_vs_ok(vs_repo_check(b, NULL));
	vs_repo_close(a);
	vs_repo_close(mid);
	vs_repo_close(b);
}

static void test_commit_git_would_not_write_back_identically_is_refused(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *origin, *vs = vs_store(f, "mem", "vs");

	/* No blank line after the headers: a vs copy would come back with one. */
	assert_int_equal(
	    vst_sh("git init -q --bare '%s' && cd '%s' && "
		   "t=$(git hash-object -t tree -w /dev/null) && "
		   "c=$(printf 'tree %%s\\nauthor A <a@b> 1 +0000\\ncommitter A <a@b> 1 +0000\\n' "
		   "$t | git hash-object -t commit -w --literally --stdin) && "
		   "git update-ref refs/heads/odd $c",
		   f->origin, f->origin),
	    0);
	origin = open_uri("git", f->origin, "git", 0);
	assert_vs_err(VS_ENOTSUP, vs_repo_copy(vs, origin, NULL, NULL));
	assert_non_null(strstr(vs_error_last()->message, "without changing it"));
	vs_repo_close(origin);
	vs_repo_close(vs);
}

/* ---- sync ---- */

static void bare_remote(struct fixture *f)
{
	assert_int_equal(vst_sh("git init -q --bare -b main '%s'", f->origin), 0);
}

/* git log of the remote's @branch is the vs log of @repo mapped to git ids. */
static void assert_remote_is_mapped(struct fixture *f, struct vs_repo *repo, const char *branch)
{
	char want[8192] = "", hex[VS_OID_MAXHEXSZ + 1];
	struct vs_oid head = head_of(repo, branch);
	struct vs_commit *c = NULL;

	/* First parents are enough for the linear histories pushed here. */
	for (;;) {
		struct vs_oid g = mapped(repo, &head);
		strcat(want, vs_oid_tostr(hex, &g));
		strcat(want, "\n");
		assert_vs_ok(vs_commit_lookup(&c, repo, &head));
		bool more = vs_commit_parentcount(c) > 0;
		if (more)
			head = *vs_commit_parent_id(c, 0);
		vs_commit_free(c);
		if (!more)
			break;
	}
	char *got = vst_sh_out("git --git-dir='%s' log --first-parent --format=%%H %s", f->origin,
			       branch);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	assert_fsck_strict(f->origin);
}

static int stop_converting(void *payload, const char *stage, size_t done, size_t total)
{
	(void)payload, (void)done, (void)total;
	return strcmp(stage, "converting") ? 0 : 42;
}

static void push_from(struct fixture *f, const char *backend)
{
	struct vs_repo *repo = vs_store(f, backend, "src");
	struct vs_sync_opts o = { .version = VS_SYNC_OPTS_VERSION, .progress = on_progress };

	bare_remote(f);
	put(repo, "main", "local/domain/1/name", "guest1", 6, 1700000000);
	put(repo, "main", "local/domain/2/name", "guest2", 6, 1700000100);
	put(repo, "main", "local/domain/1/name", "renamed", 7, 1700000200);
	converting_total = 0;
	assert_vs_ok(vs_sync_push(repo, f->origin, "main", NULL, &o));
	assert_int_equal(converting_total, 3 + 3 * 4 + 3); /* commits, changed trees, values */
	assert_remote_is_mapped(f, repo, "main");
	char *v = vst_sh_out("git --git-dir='%s' show main:local/domain/1/name", f->origin);
	assert_non_null(v);
	assert_string_equal(v, "renamed");
	free(v);

	/* One more commit: one commit, the four directories on its path, one value.
	 * A progress callback that stops the conversion stops the push first. */
	put(repo, "main", "local/domain/3/name", "guest3", 6, 1700000300);
	struct vs_sync_opts stop = { .version = VS_SYNC_OPTS_VERSION, .progress = stop_converting };
	char *before = vst_sh_out("git --git-dir='%s' rev-parse main", f->origin);
	assert_int_equal(vs_sync_push(repo, f->origin, "main", NULL, &stop), 42);
	char *after = vst_sh_out("git --git-dir='%s' rev-parse main", f->origin);
	assert_non_null(before);
	assert_non_null(after);
	assert_string_equal(after, before);
	free(before);
	free(after);
	converting_total = 0;
	assert_vs_ok(vs_sync_push(repo, f->origin, "main", NULL, &o));
	assert_int_equal(converting_total, 6);
	assert_remote_is_mapped(f, repo, "main");
	/* Nothing new: nothing converted, and the push succeeds. */
	converting_total = 0;
	assert_vs_ok(vs_sync_push(repo, f->origin, "main", "audit/host1", &o));
	assert_int_equal(converting_total, 0);
	v = vst_sh_out("git --git-dir='%s' rev-parse main audit/host1 | uniq | wc -l", f->origin);
	assert_non_null(v);
	assert_string_equal(v, "1\n");
	free(v);
	vs_repo_close(repo);
}

static void test_push_from_a_vs_store_on_mem_converts_only_new_commits(void **state)
{
	push_from(*state, "mem");
}

static void test_push_from_a_vs_store_on_lmdb_converts_only_new_commits(void **state)
{
	push_from(*state, "lmdb");
}

static void test_clone_into_lmdb_defaults_to_vs_and_reads_back(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *repo = NULL;
	struct vs_strarray names = { 0 };
	char uri[4300];

	origin_from_plain_git(f);
	snprintf(uri, sizeof(uri), "lmdb:%s/clone", f->dir);
	assert_vs_ok(vs_sync_clone(&repo, f->origin, uri, NULL, NULL));
	assert_string_equal(vs_repo_format(repo), "vs");
	assert_vs_ok(vs_branch_list(&names, repo));
	assert_int_equal(names.count, 3);
	for (size_t i = 0; i < names.count; i++) {
		char *hex = vst_sh_out("git --git-dir='%s' rev-parse %s", f->origin,
				       names.strings[i]);
		struct vs_oid g, head = head_of(repo, names.strings[i]);
		assert_non_null(hex);
		assert_vs_ok(vs_oid_fromhex(&g, hex, 40));
		assert_true(oid_eq(mapped(repo, &g), head));
		free(hex);
	}
	vs_strarray_dispose(&names);
	assert_fixture_in_vs(repo);
	vs_repo_close(repo);
}

static void test_fetch_and_pull_into_a_vs_store_convert_incrementally(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *git = open_uri("mem", "", "git", 0), *vs = vs_store(f, "mem", "vs");
	struct vs_sync_opts o = { .version = VS_SYNC_OPTS_VERSION, .progress = on_progress };
	struct vs_signature sig = vst_sig(1700000900);
	struct vs_commit_opts copts = { .author = &sig, .message = "merge" };
	struct vs_commit *c = NULL;
	struct vs_oid got, want;

	bare_remote(f);
	put(git, "main", "x/a", "1", 1, 1700000000);
	put(git, "main", "x/b", "2", 1, 1700000100);
	assert_vs_ok(vs_sync_push(git, f->origin, "main", NULL, NULL));
	assert_vs_ok(vs_sync_fetch(&got, vs, f->origin, "main", "main", &o));
	assert_value(vs, "main", "x/b", "2", 1);

	/* One more commit on the remote: its commit, two trees and a value convert. */
	want = put(git, "main", "x/c", "3", 1, 1700000200);
	assert_vs_ok(vs_sync_push(git, f->origin, "main", NULL, NULL));
	converting_total = 0;
	assert_vs_ok(vs_sync_fetch(&got, vs, f->origin, "main", "main", &o));
	assert_int_equal(converting_total, 4);
	assert_true(oid_eq(mapped(vs, &got), want));
	assert_value(vs, "main", "x/c", "3", 1);

	/* Both sides commit; the pull merges, and the merge goes back up. */
	want = put(git, "main", "from/git", "G", 1, 1700000300);
	assert_vs_ok(vs_sync_push(git, f->origin, "main", NULL, NULL));
	struct vs_oid mine = put(vs, "main", "from/vs", "V", 1, 1700000400);
	assert_vs_ok(vs_sync_pull(&got, vs, f->origin, "main", NULL, NULL, &copts, &o));
	assert_vs_ok(vs_commit_lookup(&c, vs, &got));
	assert_int_equal(vs_commit_parentcount(c), 2);
	assert_true(vs_oid_equal(vs_commit_parent_id(c, 0), &mine));
	assert_true(oid_eq(mapped(vs, vs_commit_parent_id(c, 1)), want));
	vs_commit_free(c);
	assert_vs_ok(vs_sync_push(vs, f->origin, "main", NULL, NULL));
	assert_fsck_strict(f->origin);
	assert_vs_ok(vs_sync_pull(&got, git, f->origin, "main", NULL, NULL, &copts, NULL));
	assert_value(git, "main", "from/vs", "V", 1);
	struct vs_oid vs_head = head_of(vs, "main");
	assert_true(oid_eq(got, mapped(vs, &vs_head)));
	vs_repo_close(git);
	vs_repo_close(vs);
}

int main(void)
{
	/* git must not read the user's configuration, nor libgit2. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("HOME", "/nonexistent", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_git_to_vs_to_git_on_mem_reproduces_every_git_id),
		T(test_git_to_vs_to_git_on_lmdb_reproduces_every_git_id),
		T(test_vs_to_git_to_vs_reproduces_vs_ids_and_converts_only_new_objects),
		T(test_commit_git_would_not_write_back_identically_is_refused),
		T(test_push_from_a_vs_store_on_mem_converts_only_new_commits),
		T(test_push_from_a_vs_store_on_lmdb_converts_only_new_commits),
		T(test_clone_into_lmdb_defaults_to_vs_and_reads_back),
		T(test_fetch_and_pull_into_a_vs_store_convert_incrementally),
#undef T
	};
	return cmocka_run_group_tests_name("convert", tests, NULL, NULL);
}
