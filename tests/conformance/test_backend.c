/* SPDX-License-Identifier: MIT */
/*
 * The backend conformance suite: one program, run once per backend and
 * object format (argv[1] = mem | lmdb | git, argv[2] = git | vs). The same
 * operations must give the same results everywhere, and the ids must be the
 * ones real git computes for the same content (checked with git hash-object /
 * mktree / commit-tree; for the vs format in a SHA-256 git repository, whose
 * objects are the vs format's as long as trees stay flat).
 */
#include <unistd.h>

#include "vst.h"
#include "vstore/sys/backend.h"

static const char *backend = "mem";
static const char *format = "git";

/* Options for git commands creating the reference repository. */
static const char *git_init_opts(void)
{
	return strcmp(format, "vs") ? "" : "--object-format=sha256";
}

static size_t hexlen(void)
{
	return strcmp(format, "vs") ? 40 : 64;
}

static struct vs_repo *open_repo(const char *kind, const char *dir)
{
	return vst_repo_open_format(kind, dir, format);
}

struct fixture {
	char *dir;
	struct vs_repo *repo;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = vst_tmpdir(backend);
	f->repo = open_repo(backend, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vs_repo_close(f->repo);
	vst_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	if (!strcmp(backend, "mem"))
		return; /* nothing persists: the same handle stands in */
	vs_repo_close(f->repo);
	f->repo = open_repo(backend, f->dir);
}

/* Build a tree from NULL-terminated {path, value} pairs. */
static struct vs_tree *build(struct vs_repo *repo, const char *const *kv)
{
	struct vs_tree *t, *n;
	assert_vs_ok(vs_tree_new(&t, repo));
	for (; *kv; kv += 2) {
		assert_vs_ok(vs_tree_set(&n, t, kv[0], kv[1], strlen(kv[1])));
		vs_tree_free(t);
		t = n;
	}
	return t;
}

static void commit_on(struct fixture *f, struct vs_oid *out, const char *branch,
		      struct vs_tree *t, int64_t time, const char *msg)
{
	struct vs_signature sig = vst_sig(time);
	struct vs_commit_opts o = { .author = &sig, .message = msg };
	assert_vs_ok(vs_branch_commit(out, f->repo, branch, NULL, t, &o));
}

/* The tree id real git computes for the same {path, value} pairs. */
static char *git_tree_for(const char *dir, const char *const *kv)
{
	char *out;
	vst_sh("rm -rf '%s/ref.git' '%s/idx' && git init -q --bare %s '%s/ref.git'", dir, dir,
	       git_init_opts(), dir);
	for (; *kv; kv += 2) {
		FILE *fp;
		char path[4200];
		snprintf(path, sizeof(path), "%s/val", dir);
		fp = fopen(path, "wb");
		fwrite(kv[1], 1, strlen(kv[1]), fp);
		fclose(fp);
		assert_int_equal(vst_sh("cd '%s' && id=$(git --git-dir=ref.git hash-object -w val) && "
					"GIT_INDEX_FILE=idx git --git-dir=ref.git update-index "
					"--add --cacheinfo 100644,$id,'%s'",
					dir, kv[0]),
				 0);
	}
	out = vst_sh_out("cd '%s' && GIT_INDEX_FILE=idx git --git-dir=ref.git write-tree", dir);
	assert_non_null(out);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static const char *const sample[] = {
	"local/domain/1/name", "guest-one",
	"local/domain/1/memory/target", "524288",
	"local/domain/2/name", "guest-two",
	"local/domain/10/name", "guest-ten",
	"vm/abc-def/image", "linux",
	"tool/xenstored/a.b", "dot in a name",
	"x", "",
	NULL,
};

static void test_tree_ids_equal_what_git_computes(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample);
	struct vs_oid id;
	char hex[VS_OID_MAXHEXSZ + 1];
	char *want = git_tree_for(f->dir, sample);

	assert_vs_ok(vs_tree_id(&id, t));
	assert_string_equal(vs_oid_tostr(hex, &id), want);
	free(want);
	vs_tree_free(t);
}

static void test_commit_ids_equal_what_git_commit_tree_computes(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample);
	struct vs_oid c1, c2;
	char hex[VS_OID_MAXHEXSZ + 1], *want;

	commit_on(f, &c1, "main", t, 1700000000, "first write\n\nXs-Domain: 0\n");
	vs_tree_free(t);
	char *tree = git_tree_for(f->dir, sample);
	vst_sh("printf 'first write\\n\\nXs-Domain: 0\\n' > '%s/msg'", f->dir);
	want = vst_sh_out("cd '%s' && GIT_AUTHOR_NAME='Test Author' "
			  "GIT_AUTHOR_EMAIL=test@example.org GIT_AUTHOR_DATE='@1700000000 +0000' "
			  "GIT_COMMITTER_NAME='Test Author' GIT_COMMITTER_EMAIL=test@example.org "
			  "GIT_COMMITTER_DATE='@1700000000 +0000' "
			  "git --git-dir=ref.git commit-tree %s -F msg",
			  f->dir, tree);
	assert_non_null(want);
	want[strcspn(want, "\n")] = '\0';
	assert_string_equal(vs_oid_tostr(hex, &c1), want);

	/* A child commit: parent line and a removal. */
	struct vs_tree *t1, *t2;
	struct vs_commit *c;
	assert_vs_ok(vs_commit_lookup(&c, f->repo, &c1));
	assert_vs_ok(vs_commit_tree(&t1, c));
	assert_vs_ok(vs_tree_remove(&t2, t1, "vm"));
	commit_on(f, &c2, "main", t2, 1700000100, "rm vm\n");
	char *want2 = vst_sh_out(
		"cd '%s' && tree=$(git --git-dir=ref.git ls-tree %s | grep -v '\tvm$' | "
		"git --git-dir=ref.git mktree) && printf 'rm vm\\n' > msg && "
		"GIT_AUTHOR_NAME='Test Author' GIT_AUTHOR_EMAIL=test@example.org "
		"GIT_AUTHOR_DATE='@1700000100 +0000' GIT_COMMITTER_NAME='Test Author' "
		"GIT_COMMITTER_EMAIL=test@example.org GIT_COMMITTER_DATE='@1700000100 +0000' "
		"git --git-dir=ref.git commit-tree $tree -p %s -F msg",
		f->dir, tree, want);
	assert_non_null(want2);
	want2[strcspn(want2, "\n")] = '\0';
	assert_string_equal(vs_oid_tostr(hex, &c2), want2);
	free(want);
	free(want2);
	free(tree);
	vs_tree_free(t1);
	vs_tree_free(t2);
	vs_commit_free(c);
}

static void test_values_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample), *back;
	struct vs_commit *c;
	struct vs_oid id, head;
	struct vs_buf v = VS_BUF_INIT;

	commit_on(f, &id, "main", t, 1700000000, "write\n");
	vs_tree_free(t);
	reopen(f);
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &id));
	assert_vs_ok(vs_commit_lookup(&c, f->repo, &head));
	assert_vs_ok(vs_commit_tree(&back, c));
	for (const char *const *kv = sample; *kv; kv += 2) {
		assert_vs_ok(vs_tree_get(&v, back, kv[0]));
		assert_int_equal(v.size, strlen(kv[1]));
		assert_memory_equal(v.ptr ? v.ptr : "", kv[1], v.size);
	}
	assert_vs_err(VS_ENOENT, vs_tree_get(&v, back, "local/domain/3/name"));
	assert_vs_err(VS_EISDIR, vs_tree_get(&v, back, "local/domain"));
	assert_string_equal(vs_commit_message(c), "write\n");
	assert_string_equal(vs_commit_author(c)->name, "Test Author");
	assert_int_equal(vs_commit_author(c)->time, 1700000000);
	vs_buf_release(&v);
	vs_tree_free(back);
	vs_commit_free(c);
}

static void test_updates_leave_the_old_tree_unchanged(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample), *t2, *t3;
	struct vs_buf v = VS_BUF_INIT;
	struct vs_oid before, after;

	assert_vs_ok(vs_tree_id(&before, t));
	assert_vs_ok(vs_tree_set(&t2, t, "local/domain/1/name", "renamed", 7));
	assert_vs_ok(vs_tree_remove(&t3, t2, "local/domain/2"));
	assert_vs_ok(vs_tree_id(&after, t));
	assert_true(vs_oid_equal(&before, &after));
	assert_vs_ok(vs_tree_get(&v, t, "local/domain/1/name"));
	assert_string_equal(v.ptr, "guest-one");
	assert_vs_ok(vs_tree_get(&v, t3, "local/domain/1/name"));
	assert_string_equal(v.ptr, "renamed");
	assert_vs_err(VS_ENOENT, vs_tree_get(&v, t3, "local/domain/2/name"));
	/* Removing what is not there changes nothing. */
	struct vs_tree *t4;
	assert_vs_ok(vs_tree_remove(&t4, t3, "no/such/path"));
	assert_true(vs_tree_equal(t3, t4));
	/* Emptied parents disappear, as in git. */
	struct vs_tree *t5;
	assert_vs_ok(vs_tree_remove(&t5, t4, "vm/abc-def/image"));
	assert_vs_err(VS_ENOENT, vs_tree_get(&v, t5, "vm"));
	struct vs_tree_stat st;
	assert_vs_err(VS_ENOENT, vs_tree_stat(&st, t5, "vm"));
	/* Bad names and shapes. */
	struct vs_tree *bad = NULL;
	assert_vs_err(VS_EINVAL, vs_tree_set(&bad, t, "a//b", "v", 1));
	assert_vs_err(VS_EINVAL, vs_tree_set(&bad, t, "a/.git/b", "v", 1));
	assert_vs_err(VS_EINVAL, vs_tree_set(&bad, t, "a/../b", "v", 1));
	assert_vs_err(VS_ENOTDIR, vs_tree_set(&bad, t, "x/child", "v", 1));
	assert_vs_err(VS_EISDIR, vs_tree_set(&bad, t, "local", "v", 1));
	assert_null(bad);
	vs_buf_release(&v);
	vs_tree_free(t);
	vs_tree_free(t2);
	vs_tree_free(t3);
	vs_tree_free(t4);
	vs_tree_free(t5);
}

static void test_lost_cas_race_is_a_conflict_and_loses_no_commit(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample), *a, *b;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "m\n" };
	struct vs_oid base, ca, cb, head;

	commit_on(f, &base, "main", t, 1700000000, "base\n");
	assert_vs_ok(vs_tree_set(&a, t, "writer", "a", 1));
	assert_vs_ok(vs_tree_set(&b, t, "writer", "b", 1));
	/* Both writers saw `base`; the first wins, the second must not clobber it. */
	assert_vs_ok(vs_branch_commit(&ca, f->repo, "main", &base, a, &o));
	assert_vs_err(VS_ECONFLICT, vs_branch_commit(&cb, f->repo, "main", &base, b, &o));
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &ca));
	/* Retrying on the new head succeeds and keeps both in history. */
	assert_vs_ok(vs_branch_commit(&cb, f->repo, "main", &ca, b, &o));
	assert_vs_ok(vs_descendant_of(f->repo, &cb, &ca) == 1 ? 0 : -1);
	assert_vs_err(VS_ECONFLICT, vs_branch_update(f->repo, "main", &base, &ca));
	assert_vs_err(VS_ECONFLICT, vs_branch_update(f->repo, "main", &base, NULL));
	vs_tree_free(t);
	vs_tree_free(a);
	vs_tree_free(b);
}

static void test_branches_are_created_listed_and_deleted(void **state)
{
	struct fixture *f = *state;
	struct vs_tree *t = build(f->repo, sample);
	struct vs_strarray names;
	struct vs_oid c, d, head;
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "detached\n" };

	assert_vs_ok(vs_branch_list(&names, f->repo));
	assert_int_equal(names.count, 0);
	commit_on(f, &c, "main", t, 1700000000, "m\n");
	assert_vs_ok(vs_branch_create(f->repo, "txn/42", &c));
	assert_vs_err(VS_EEXIST, vs_branch_create(f->repo, "txn/42", &c));
	assert_vs_err(VS_EINVAL, vs_branch_create(f->repo, "bad..name", &c));
	assert_vs_err(VS_EINVAL, vs_branch_create(f->repo, "x.lock", &c));
	assert_vs_ok(vs_branch_list(&names, f->repo));
	assert_int_equal(names.count, 2);
	assert_string_equal(names.strings[0], "main");
	assert_string_equal(names.strings[1], "txn/42");
	vs_strarray_dispose(&names);
	/* A detached commit moves no branch. */
	assert_vs_ok(vs_commit_create(&d, f->repo, t, &o));
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_true(vs_oid_equal(&head, &c));
	assert_vs_err(VS_ECONFLICT, vs_branch_delete(f->repo, "txn/42", &d));
	assert_vs_ok(vs_branch_delete(f->repo, "txn/42", &c));
	assert_vs_err(VS_ENOENT, vs_branch_head(&head, f->repo, "txn/42"));
	assert_vs_err(VS_ENOENT, vs_branch_delete(f->repo, "txn/42", NULL));
	assert_vs_err(VS_ENOENT, vs_branch_update(f->repo, "other", &(struct vs_oid){ .type = 1 },
						  NULL));
	vs_tree_free(t);
}

struct logged {
	struct vs_oid ids[16];
	size_t n;
};

static int log_cb(void *payload, struct vs_commit *c)
{
	struct logged *l = payload;
	assert_true(l->n < 16);
	l->ids[l->n++] = *vs_commit_id(c);
	return 0;
}

/* Five commits on main: a, b changes x, c changes y, d changes x, e changes nothing in x/y. */
static void make_history(struct fixture *f, struct vs_oid c[5])
{
	static const char *const vals[5][2] = {
		{ "x", "1" }, { "x", "2" }, { "y", "1" }, { "x", "3" }, { "z", "1" },
	};
	struct vs_tree *t;
	assert_vs_ok(vs_tree_new(&t, f->repo));
	for (int i = 0; i < 5; i++) {
		struct vs_tree *n;
		assert_vs_ok(vs_tree_set(&n, t, vals[i][0], vals[i][1], 1));
		vs_tree_free(t);
		t = n;
		commit_on(f, &c[i], "main", t, 1700000000 + i * 10, "step\n");
	}
	vs_tree_free(t);
}

static void test_log_lists_newest_first_and_filters_by_path(void **state)
{
	struct fixture *f = *state;
	struct vs_oid c[5], head;
	struct logged all = { 0 }, x = { 0 }, lim = { 0 };

	make_history(f, c);
	assert_vs_ok(vs_branch_head(&head, f->repo, "main"));
	assert_vs_ok(vs_log(f->repo, &head, NULL, log_cb, &all));
	assert_int_equal(all.n, 5);
	for (int i = 0; i < 5; i++)
		assert_true(vs_oid_equal(&all.ids[i], &c[4 - i]));
	assert_vs_ok(vs_log(f->repo, &head, &(struct vs_log_opts){ .path = "x" }, log_cb, &x));
	assert_int_equal(x.n, 3);
	assert_true(vs_oid_equal(&x.ids[0], &c[3]));
	assert_true(vs_oid_equal(&x.ids[1], &c[1]));
	assert_true(vs_oid_equal(&x.ids[2], &c[0]));
	assert_vs_ok(vs_log(f->repo, &head, &(struct vs_log_opts){ .max = 2 }, log_cb, &lim));
	assert_int_equal(lim.n, 2);

	struct vs_oid who;
	assert_vs_ok(vs_blame(&who, f->repo, &head, "x"));
	assert_true(vs_oid_equal(&who, &c[3]));
	assert_vs_ok(vs_blame(&who, f->repo, &head, "y"));
	assert_true(vs_oid_equal(&who, &c[2]));
	assert_vs_err(VS_ENOENT, vs_blame(&who, f->repo, &head, "never"));

	struct vs_buf v = VS_BUF_INIT;
	assert_vs_ok(vs_read_at(&v, f->repo, &c[1], "x"));
	assert_string_equal(v.ptr, "2");
	assert_vs_err(VS_ENOENT, vs_read_at(&v, f->repo, &c[1], "y"));
	vs_buf_release(&v);
}

struct deltas {
	char paths[8][32];
	char vals[8][32];
	enum vs_delta_status st[8];
	size_t n;
};

static int diff_cb(void *payload, const struct vs_delta *d)
{
	struct deltas *ds = payload;
	assert_true(ds->n < 8);
	snprintf(ds->paths[ds->n], 32, "%s", d->path);
	snprintf(ds->vals[ds->n], 32, "%.*s>%.*s", (int)d->old_value.len,
		 (const char *)d->old_value.ptr, (int)d->new_value.len,
		 (const char *)d->new_value.ptr);
	ds->st[ds->n++] = d->status;
	return 0;
}

static void test_diff_reports_each_changed_value(void **state)
{
	struct fixture *f = *state;
	struct vs_oid c[5];
	struct deltas d = { 0 }, p = { 0 };

	make_history(f, c);
	assert_vs_ok(vs_diff_commits(f->repo, &c[1], &c[4], NULL, diff_cb, &d));
	assert_int_equal(d.n, 3);
	assert_string_equal(d.paths[0], "x");
	assert_string_equal(d.vals[0], "2>3");
	assert_int_equal(d.st[0], VS_DELTA_MODIFIED);
	assert_string_equal(d.paths[1], "y");
	assert_int_equal(d.st[1], VS_DELTA_ADDED);
	assert_string_equal(d.paths[2], "z");
	/* Limited to one path; and from nothing. */
	assert_vs_ok(vs_diff_commits(f->repo, NULL, &c[4], "y", diff_cb, &p));
	assert_int_equal(p.n, 1);
	assert_string_equal(p.paths[0], "y");
	assert_string_equal(p.vals[0], ">1");
}

static void test_merge_base_of_forked_branches_is_the_fork_point(void **state)
{
	struct fixture *f = *state;
	struct vs_oid c[5], side, base;
	struct vs_tree *t;

	make_history(f, c);
	assert_vs_ok(vs_branch_create(f->repo, "side", &c[2]));
	assert_vs_ok(vs_tree_new(&t, f->repo));
	commit_on(f, &side, "side", t, 1700000500, "side\n");
	vs_tree_free(t);
	assert_vs_ok(vs_merge_base(&base, f->repo, &c[4], &side));
	assert_true(vs_oid_equal(&base, &c[2]));
	assert_int_equal(vs_descendant_of(f->repo, &c[4], &c[2]), 1);
	assert_int_equal(vs_descendant_of(f->repo, &c[2], &c[4]), 0);
}

static void test_check_passes_on_a_written_store(void **state)
{
	struct fixture *f = *state;
	struct vs_oid c[5];
	struct vs_check_stats st;

	make_history(f, c);
	assert_vs_ok(vs_repo_check(f->repo, &st));
	assert_int_equal(st.commits, 5);
	assert_int_equal(st.refs, 1);
	assert_true(st.trees >= 5);
	assert_true(st.blobs >= 3);
}

static void test_check_finds_a_dangling_tree_entry(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = vs_repo_backend(f->repo);
	unsigned char raw[64];
	struct vs_oid missing, tree, commit;
	int type;
	struct vs_buf buf = VS_BUF_INIT;

	/* A tree naming a blob that was never stored, committed and put on a branch. */
	memset(&missing, 0, sizeof(missing));
	size_t idsz = hexlen() / 2;
	missing.type = idsz == 20 ? VS_OID_SHA1 : VS_OID_SHA256;
	memset(missing.id, 0xab, idsz);
	size_t n = (size_t)snprintf((char *)raw, sizeof(raw), "100644 lost") + 1;
	memcpy(raw + n, missing.id, idsz);
	char *h = vst_sh_out("cd '%s' && rm -rf h.git && git init -q --bare %s h.git && "
			     "printf '100644 lost\\0' > t && printf '\\253%%.0s' $(seq %zu) >> t && "
			     "git --git-dir=h.git hash-object -t tree --literally t",
			     f->dir, git_init_opts(), idsz);
	assert_non_null(h);
	assert_vs_ok(vs_oid_fromhex(&tree, h, hexlen()));
	free(h);
	assert_vs_ok(b->ops->obj_write(b, &tree, VS_OBJ_TREE, raw, n + idsz));
	struct vs_tree *t;
	assert_vs_ok(vs_tree_lookup(&t, f->repo, &tree));
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = { .author = &sig, .message = "dangling\n" };
	assert_vs_ok(vs_branch_commit(&commit, f->repo, "main", NULL, t, &o));
	vs_tree_free(t);
	assert_vs_err(VS_ECORRUPT, vs_repo_check(f->repo, NULL));
	assert_non_null(strstr(vs_error_last()->message, "abababab"));
	assert_vs_err(VS_ENOENT, vs_repo_read_raw(&buf, &type, f->repo, &missing));
	vs_buf_release(&buf);
}

static void test_copy_to_every_backend_keeps_the_ids(void **state)
{
	static const char *const kinds[] = { "mem", "lmdb", "git" };
	struct fixture *f = *state;
	struct vs_oid c[5];

	make_history(f, c);
	for (size_t i = 0; i < 3; i++) {
		char sub[4200];
		if (!strcmp(kinds[i], "git") && strcmp(format, "git"))
			continue; /* a git repository holds the git format only */
		snprintf(sub, sizeof(sub), "%s/copy-%s", f->dir, kinds[i]);
		vst_sh("mkdir -p '%s'", sub);
		struct vs_repo *dst = open_repo(kinds[i], sub);
		struct vs_oid head;
		assert_vs_ok(vs_repo_copy(dst, f->repo, NULL, NULL));
		assert_vs_ok(vs_branch_head(&head, dst, "main"));
		assert_true(vs_oid_equal(&head, &c[4]));
		assert_vs_ok(vs_repo_check(dst, NULL));
		/* Copying again finds nothing to do and changes nothing. */
		assert_vs_ok(vs_repo_copy(dst, f->repo, NULL, NULL));
		if (!strcmp(kinds[i], "git")) {
			char *log = vst_sh_out("git --git-dir='%s/store' log --format=%%H main", sub);
			char want[5 * 65 + 1] = "", hex[VS_OID_MAXHEXSZ + 1];
			for (int k = 4; k >= 0; k--) {
				strcat(want, vs_oid_tostr(hex, &c[k]));
				strcat(want, "\n");
			}
			assert_non_null(log);
			assert_string_equal(log, want);
			free(log);
			assert_int_equal(vst_sh("git --git-dir='%s/store' fsck --strict --no-progress "
						"2>&1",
						sub),
					 0);
		}
		vs_repo_close(dst);
	}
}

static void test_store_remembers_its_format(void **state)
{
	struct fixture *f = *state;
	struct vs_repo *r = NULL;
	char uri[4200];
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = "nonesuch" };

	assert_string_equal(vs_repo_format(f->repo), format);
	assert_string_equal(vs_repo_backend_name(f->repo), backend);
	if (!strcmp(backend, "mem"))
		snprintf(uri, sizeof(uri), "mem:");
	else
		snprintf(uri, sizeof(uri), "%s:%s/other", backend, f->dir);
	assert_vs_err(VS_EINVAL, vs_repo_open(&r, uri, &o));
	assert_null(r);
	assert_vs_err(VS_EINVAL, vs_repo_open(&r, "nosuch:x", NULL));
	assert_vs_err(VS_EINVAL, vs_repo_open(&r, "no-scheme", NULL));
}

int main(int argc, char **argv)
{
	if (argc > 1)
		backend = argv[1];
	if (argc > 2)
		format = argv[2];
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_tree_ids_equal_what_git_computes),
		T(test_commit_ids_equal_what_git_commit_tree_computes),
		T(test_values_survive_reopen),
		T(test_updates_leave_the_old_tree_unchanged),
		T(test_lost_cas_race_is_a_conflict_and_loses_no_commit),
		T(test_branches_are_created_listed_and_deleted),
		T(test_log_lists_newest_first_and_filters_by_path),
		T(test_diff_reports_each_changed_value),
		T(test_merge_base_of_forked_branches_is_the_fork_point),
		T(test_check_passes_on_a_written_store),
		T(test_check_finds_a_dangling_tree_entry),
		T(test_copy_to_every_backend_keeps_the_ids),
		T(test_store_remembers_its_format),
#undef T
	};
	char name[64];
	snprintf(name, sizeof(name), "conformance.%s.%s", backend, format);
	return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
