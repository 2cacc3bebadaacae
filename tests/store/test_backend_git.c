/* SPDX-License-Identifier: MIT */
/*
 * The git backend through its ops table: objects and refs land in a real
 * repository that git itself reads (cat-file, log, fsck --strict), batches
 * are all or nothing, and stale locks or corrupted objects give clear errors.
 * Ids are computed here with libgit2's own hasher, independently of the core.
 */
#include "vst.h"

#include <git2.h>
#include <stdlib.h>

#include "vstore/sys/backend.h"

struct fixture {
	char *dir;  /* temporary directory, removed in teardown */
	char *path; /* dir/repo.git: the repository */
	struct vs_backend *b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("backend-git");
	assert_true(asprintf(&f->path, "%s/repo.git", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->b)
		f->b->ops->free(f->b);
	vst_rmrf(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static struct vs_backend *open_default(struct fixture *f)
{
	assert_vs_ok(vs_backend_git_open(&f->b, f->path, NULL));
	assert_non_null(f->b);
	return f->b;
}

/* The id git gives an object, through libgit2's hasher, as a vs_oid. */
static struct vs_oid hash_obj(enum vs_otype type, const void *data, size_t len)
{
	static const git_object_t types[] = { [VS_OBJ_BLOB] = GIT_OBJECT_BLOB,
					      [VS_OBJ_TREE] = GIT_OBJECT_TREE,
					      [VS_OBJ_COMMIT] = GIT_OBJECT_COMMIT };
	git_oid g;
	struct vs_oid id;
	assert_int_equal(git_odb_hash(&g, data, len, types[type]), 0);
	assert_vs_ok(vs_oid_fromraw(&id, VS_OID_SHA1, g.id));
	return id;
}

static struct vs_oid put(struct vs_backend *b, enum vs_otype type, const void *data, size_t len)
{
	struct vs_oid id = hash_obj(type, data, len);
	assert_vs_ok(b->ops->obj_write(b, &id, type, data, len));
	return id;
}

static struct vs_oid put_blob(struct vs_backend *b, const char *text)
{
	return put(b, VS_OBJ_BLOB, text, strlen(text));
}

/* A tree with one file "hello" -> @blob, then a commit of it with @parent (or none). */
static struct vs_oid put_commit(struct vs_backend *b, const struct vs_oid *blob,
				const struct vs_oid *parent, const char *msg)
{
	char tree[64], hex[VS_OID_MAXHEXSZ + 1], phex[VS_OID_MAXHEXSZ + 1], commit[1024];
	size_t tlen = (size_t)snprintf(tree, sizeof(tree), "100644 hello") + 1;
	memcpy(tree + tlen, blob->id, 20);
	struct vs_oid tid = put(b, VS_OBJ_TREE, tree, tlen + 20);
	char parents[64] = "";
	if (parent)
		snprintf(parents, sizeof(parents), "parent %s\n", vs_oid_tostr(phex, parent));
	int n = snprintf(commit, sizeof(commit),
			 "tree %s\n%s"
			 "author A U Thor <author@example.org> 1700000000 +0100\n"
			 "committer C O Mitter <committer@example.org> 1700000060 +0100\n"
			 "\n%s\n",
			 vs_oid_tostr(hex, &tid), parents, msg);
	return put(b, VS_OBJ_COMMIT, commit, (size_t)n);
}

static char *oid_hex(const struct vs_oid *id)
{
	static char hex[VS_OID_MAXHEXSZ + 1];
	return vs_oid_tostr(hex, id);
}

static void assert_ref(struct vs_backend *b, const char *name, const struct vs_oid *want)
{
	struct vs_oid got;
	assert_vs_ok(b->ops->ref_read(b, name, &got));
	assert_true(vs_oid_equal(&got, want));
}

static void test_object_written_reads_back_and_git_cat_file_prints_it(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid id = put_blob(b, "hello");
	struct vs_buf buf = VS_BUF_INIT;
	enum vs_otype type = 0;

	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, "hello", 5)); /* again: a no-op */
	assert_int_equal(b->ops->obj_exists(b, &id), 1);
	assert_vs_ok(b->ops->obj_read(b, &id, &type, &buf));
	assert_int_equal(type, VS_OBJ_BLOB);
	assert_int_equal(buf.size, 5);
	assert_memory_equal(buf.ptr, "hello", 5);
	vs_buf_release(&buf);

	char *out = vst_sh_out("git --git-dir='%s' cat-file -p %s", f->path, oid_hex(&id));
	assert_non_null(out);
	assert_string_equal(out, "hello");
	free(out);
	out = vst_sh_out("git --git-dir='%s' cat-file -t %s", f->path, oid_hex(&id));
	assert_non_null(out);
	assert_string_equal(out, "blob\n");
	free(out);

	struct vs_oid missing = hash_obj(VS_OBJ_BLOB, "absent", 6);
	assert_int_equal(b->ops->obj_exists(b, &missing), 0);
	assert_vs_err(VS_ENOENT, b->ops->obj_read(b, &missing, &type, &buf));
}

static void test_object_with_a_wrong_id_is_refused_as_corrupt(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid wrong = hash_obj(VS_OBJ_BLOB, "other", 5);

	assert_vs_err(VS_ECORRUPT, b->ops->obj_write(b, &wrong, VS_OBJ_BLOB, "hello", 5));
	assert_non_null(strstr(vs_error_last()->message, oid_hex(&wrong)));
}

static void test_only_sha1_ids_and_the_git_format_are_accepted(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid sha256 = { .type = VS_OID_SHA256 };
	struct vs_buf buf = VS_BUF_INIT;
	enum vs_otype type;

	assert_string_equal(b->default_format, "git");
	assert_vs_err(VS_ENOTSUP, b->ops->obj_write(b, &sha256, VS_OBJ_BLOB, "x", 1));
	assert_vs_err(VS_ENOTSUP, b->ops->obj_read(b, &sha256, &type, &buf));
	assert_vs_err(VS_ENOTSUP, b->ops->ref_cas(b, "refs/heads/main", &sha256, NULL));

	assert_vs_ok(b->ops->config_get(b, "format", &buf));
	assert_string_equal(buf.ptr, "git");
	vs_buf_release(&buf);
	assert_vs_ok(b->ops->config_set(b, "format", "git"));
	assert_vs_err(VS_EINVAL, b->ops->config_set(b, "format", "vs"));
	assert_vs_err(VS_EINVAL, b->ops->config_set(b, "color", "blue"));
	assert_vs_err(VS_ENOENT, b->ops->config_get(b, "color", &buf));

	struct vs_backend *other = NULL;
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = "vs" };
	assert_vs_err(VS_EINVAL, vs_backend_git_open(&other, f->path, &o));
	assert_null(other);
}

static void test_ref_cas_with_a_stale_expected_value_conflicts(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid blob = put_blob(b, "hello");
	struct vs_oid one = put_commit(b, &blob, NULL, "one");
	struct vs_oid two = put_commit(b, &blob, &one, "two");
	struct vs_oid three = put_commit(b, &blob, &two, "three");

	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/main", &(struct vs_oid){ 0 }));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &one, NULL));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &two, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &three, &one));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/other", &three, &one));
	assert_ref(b, "refs/heads/main", &two);

	/* git itself sees the ref where the last successful CAS put it. */
	char *out = vst_sh_out("git --git-dir='%s' rev-parse refs/heads/main", f->path);
	assert_non_null(out);
	assert_memory_equal(out, oid_hex(&two), 40);
	free(out);

	/* Another writer (git) moves the ref: our stale expectation must lose. */
	assert_int_equal(vst_sh("git --git-dir='%s' update-ref refs/heads/main %s", f->path,
				oid_hex(&three)),
			 0);
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &one, &two));
	assert_ref(b, "refs/heads/main", &three);
	assert_vs_err(VS_EINVAL, b->ops->ref_cas(b, "refs/heads/bad..name", &one, NULL));
}

static void test_ref_delete_checks_the_expected_value(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid one = put_blob(b, "one"), two = put_blob(b, "two");

	assert_vs_err(VS_ENOENT, b->ops->ref_delete(b, "refs/heads/gone", NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/x", &one, NULL));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_delete(b, "refs/heads/x", &two));
	assert_ref(b, "refs/heads/x", &one);
	assert_vs_ok(b->ops->ref_delete(b, "refs/heads/x", &one));
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/x", &two));
	assert_int_equal(vst_sh("git --git-dir='%s' rev-parse -q --verify refs/heads/x >/dev/null",
				f->path),
			 1);
}

static int collect_ref(void *payload, const char *name, const struct vs_oid *target)
{
	char *list = payload;
	(void)target;
	strcat(list, name);
	strcat(list, ";");
	return 0;
}

static int stop_at_first(void *payload, const char *name, const struct vs_oid *target)
{
	(void)payload;
	(void)name;
	(void)target;
	return 42;
}

static void test_ref_list_is_sorted_filtered_and_sees_the_open_batch(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid id = put_blob(b, "x");
	char list[512] = "";

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/zeta", &id, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/alpha", &id, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/tags/v1", &id, NULL));
	/* Packed refs must be listed too. */
	assert_int_equal(vst_sh("git --git-dir='%s' pack-refs --all", f->path), 0);
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/mid/x", &id, NULL));
	assert_vs_ok(b->ops->ref_list(b, "refs/heads/", collect_ref, list));
	assert_string_equal(list, "refs/heads/alpha;refs/heads/mid/x;refs/heads/zeta;");

	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/beta", &id, NULL));
	assert_vs_ok(b->ops->ref_delete(b, "refs/heads/zeta", &id));
	list[0] = '\0';
	assert_vs_ok(b->ops->ref_list(b, "refs/", collect_ref, list));
	assert_string_equal(list,
			    "refs/heads/alpha;refs/heads/beta;refs/heads/mid/x;refs/tags/v1;");
	assert_int_equal(b->ops->ref_list(b, "refs/", stop_at_first, NULL), 42);
	assert_vs_ok(b->ops->batch_commit(b));

	char *out = vst_sh_out("git --git-dir='%s' for-each-ref --format='%%(refname)'", f->path);
	assert_non_null(out);
	assert_string_equal(out,
			    "refs/heads/alpha\nrefs/heads/beta\nrefs/heads/mid/x\nrefs/tags/v1\n");
	free(out);
}

static void test_batch_abort_drops_the_ref_update(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid one = put_blob(b, "one"), two = put_blob(b, "two");

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &one, NULL));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_err(VS_EBUSY, b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/new", &two, NULL));
	/* Visible to this handle, checked when issued, not yet on disk. */
	assert_ref(b, "refs/heads/main", &two);
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &one, &one));
	char *out = vst_sh_out("git --git-dir='%s' rev-parse refs/heads/main", f->path);
	assert_non_null(out);
	assert_memory_equal(out, oid_hex(&one), 40);
	free(out);
	b->ops->batch_abort(b);

	assert_ref(b, "refs/heads/main", &one);
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/new", &two));

	/* The same batch committed lands whole. */
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/new", &two, NULL));
	assert_vs_ok(b->ops->batch_commit(b));
	assert_ref(b, "refs/heads/main", &two);
	assert_ref(b, "refs/heads/new", &two);
}

static void test_batch_whose_ref_moved_meanwhile_lands_not_at_all(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid blob = put_blob(b, "hello");
	struct vs_oid one = put_commit(b, &blob, NULL, "one");
	struct vs_oid two = put_commit(b, &blob, &one, "two");

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/a", &one, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/b", &one, NULL));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/a", &two, &one));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/b", &two, &one));
	/* Someone else moves b before the batch commits. */
	assert_int_equal(vst_sh("git --git-dir='%s' update-ref refs/heads/b %s", f->path,
				oid_hex(&two)),
			 0);
	assert_vs_err(VS_ECONFLICT, b->ops->batch_commit(b));
	assert_non_null(strstr(vs_error_last()->message, "refs/heads/b"));
	assert_ref(b, "refs/heads/a", &one); /* a did not move either */
	assert_ref(b, "refs/heads/b", &two);
	assert_int_equal(vst_sh("test -e '%s/refs/heads/a.lock'", f->path), 1);
}

static void test_stale_lock_file_is_ebusy_naming_the_lock_and_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid one = put_blob(b, "one"), two = put_blob(b, "two");
	char lock[4200];

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &one, NULL));
	snprintf(lock, sizeof(lock), "%s/refs/heads/main.lock", f->path);
	assert_int_equal(vst_sh("echo crashed > '%s'", lock), 0);

	assert_vs_err(VS_EBUSY, b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_non_null(strstr(vs_error_last()->message, lock));
	assert_non_null(
	    strstr(vs_error_last()->message, "if no git process is running, remove the lock file"));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_vs_err(VS_EBUSY, b->ops->batch_commit(b));
	assert_non_null(strstr(vs_error_last()->message, lock));
	assert_ref(b, "refs/heads/main", &one);

	/* Removing the lock is all it takes. */
	assert_int_equal(vst_sh("rm '%s'", lock), 0);
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &two, &one));
	assert_ref(b, "refs/heads/main", &two);
}

static void test_corrupted_loose_object_is_an_error_not_a_crash(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid garbage = put_blob(b, "to be garbled");
	struct vs_oid swapped = put_blob(b, "to be swapped");
	struct vs_oid other = put_blob(b, "another object");
	struct vs_buf buf = VS_BUF_INIT;
	enum vs_otype type;
	char g[VS_OID_MAXHEXSZ + 1], s[VS_OID_MAXHEXSZ + 1], o[VS_OID_MAXHEXSZ + 1];

	vs_oid_tostr(g, &garbage);
	vs_oid_tostr(s, &swapped);
	vs_oid_tostr(o, &other);
	/* Garbage bytes in one file; a valid object under the wrong name in another. */
	assert_int_equal(vst_sh("cd '%s/objects' && chmod u+w %.2s/%s && "
				"printf 'not zlib at all' > %.2s/%s",
				f->path, g, g + 2, g, g + 2),
			 0);
	assert_int_equal(vst_sh("cd '%s/objects' && chmod u+w %.2s/%s && cp %.2s/%s %.2s/%s",
				f->path, s, s + 2, o, o + 2, s, s + 2),
			 0);

	/* A fresh handle, so nothing comes from libgit2's object cache. */
	b->ops->free(b);
	f->b = NULL;
	b = open_default(f);
	assert_vs_err(VS_ECORRUPT, b->ops->obj_read(b, &garbage, &type, &buf));
	assert_non_null(strstr(vs_error_last()->message, g));
	assert_vs_err(VS_ECORRUPT, b->ops->obj_read(b, &swapped, &type, &buf));
	assert_vs_ok(b->ops->obj_read(b, &other, &type, &buf));
	assert_memory_equal(buf.ptr, "another object", 14);
	vs_buf_release(&buf);
}

static void test_nocreate_on_a_missing_path_is_enoent_and_creates_nothing(void **state)
{
	struct fixture *f = *state;
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .flags = VS_REPO_NOCREATE };

	assert_vs_err(VS_ENOENT, vs_backend_git_open(&f->b, f->path, &o));
	assert_null(f->b);
	assert_non_null(strstr(vs_error_last()->message, f->path));
	o.flags = VS_REPO_READONLY;
	assert_vs_err(VS_ENOENT, vs_backend_git_open(&f->b, f->path, &o));
	assert_int_equal(vst_sh("test -e '%s'", f->path), 1);

	/* A directory that is not a repository is never taken over. */
	assert_int_equal(vst_sh("mkdir '%s' && echo x > '%s/file'", f->path, f->path), 0);
	assert_vs_err(VS_ENOENT, vs_backend_git_open(&f->b, f->path, NULL));
	assert_null(f->b);

	/* Without the flag a bare repository appears, with HEAD on main. */
	vst_rmrf(f->path);
	open_default(f);
	char *out = vst_sh_out("git --git-dir='%s' rev-parse --is-bare-repository && "
			       "git --git-dir='%s' symbolic-ref HEAD",
			       f->path, f->path);
	assert_non_null(out);
	assert_string_equal(out, "true\nrefs/heads/main\n");
	free(out);

	/* ... which NOCREATE and READONLY now open. */
	f->b->ops->free(f->b);
	f->b = NULL;
	o.flags = VS_REPO_NOCREATE | VS_REPO_READONLY;
	assert_vs_ok(vs_backend_git_open(&f->b, f->path, &o));
	assert_true(f->b->readonly);
}

static void test_non_bare_repository_made_by_git_init_opens(void **state)
{
	struct fixture *f = *state;
	char work[4200];
	struct vs_oid head, mine;

	snprintf(work, sizeof(work), "%s/work", f->dir);
	assert_int_equal(vst_sh("cd '%s' && git init -q -b main work && cd work && "
				"echo hi > file && git add file && "
				"git -c user.name=T -c user.email=t@example.org "
				"commit -q -m first",
				f->dir),
			 0);
	assert_vs_ok(vs_backend_git_open(&f->b, work, NULL));
	struct vs_backend *b = f->b;
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &head));
	assert_vs_ok(b->ops->ref_read(b, "HEAD", &mine)); /* symbolic: resolved */
	assert_true(vs_oid_equal(&head, &mine));
	char *out = vst_sh_out("git -C '%s' rev-parse HEAD", work);
	assert_non_null(out);
	assert_memory_equal(out, oid_hex(&head), 40);
	free(out);

	/* Writes land in its .git; the reflog needs no user.name. */
	struct vs_oid blob = put_blob(b, "hello");
	mine = put_commit(b, &blob, &head, "from vstore");
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &mine, &head));
	out = vst_sh_out("git -C '%s' log --format=%%s main", work);
	assert_non_null(out);
	assert_string_equal(out, "from vstore\nfirst\n");
	free(out);
	assert_int_equal(vst_sh("git -C '%s' reflog -1 main | grep -q vstore", work), 0);

	/* A batch (a libgit2 ref transaction) writes the reflog too. */
	struct vs_oid next = put_commit(b, &blob, &mine, "batched");
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &next, &mine));
	assert_vs_ok(b->ops->batch_commit(b));
	out = vst_sh_out("git -C '%s' reflog main | grep -c vstore", work);
	assert_non_null(out);
	assert_string_equal(out, "2\n");
	free(out);
	assert_int_equal(vst_sh("git -C '%s' fsck --strict --no-dangling 2>&1", work), 0);
}

static int count_obj(void *payload, const struct vs_oid *id)
{
	(void)id;
	(*(int *)payload)++;
	return 0;
}

static void test_commit_written_passes_git_fsck_strict_and_git_log_shows_it(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = open_default(f);
	struct vs_oid blob, c1, c2;
	int n = 0;

	assert_vs_ok(b->ops->batch_begin(b));
	blob = put_blob(b, "hello");
	c1 = put_commit(b, &blob, NULL, "first");
	c2 = put_commit(b, &blob, &c1, "second");
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &c2, NULL));
	assert_vs_ok(b->ops->batch_commit(b));

	assert_int_equal(vst_sh("git --git-dir='%s' fsck --strict --no-dangling 2>&1", f->path), 0);
	char *out = vst_sh_out("git --git-dir='%s' log --format=%%H", f->path);
	char want[100];
	snprintf(want, sizeof(want), "%s\n", oid_hex(&c2));
	snprintf(want + 41, sizeof(want) - 41, "%s\n", oid_hex(&c1));
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
	out = vst_sh_out("git --git-dir='%s' show main:hello", f->path);
	assert_non_null(out);
	assert_string_equal(out, "hello");
	free(out);

	/* blob, one tree (shared by both commits), two commits: each listed once. */
	assert_int_equal(vst_sh("git --git-dir='%s' repack -q -a", f->path), 0);
	b->ops->free(b);
	f->b = NULL;
	b = open_default(f);
	assert_vs_ok(b->ops->obj_foreach(b, count_obj, &n));
	assert_int_equal(n, 4);
}

int main(void)
{
	/* git must not read the user's configuration. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	/* ... nor does libgit2, which has no such switch: no user.name anywhere. */
	setenv("HOME", "/nonexistent", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	git_libgit2_init();
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_object_written_reads_back_and_git_cat_file_prints_it),
		T(test_object_with_a_wrong_id_is_refused_as_corrupt),
		T(test_only_sha1_ids_and_the_git_format_are_accepted),
		T(test_ref_cas_with_a_stale_expected_value_conflicts),
		T(test_ref_delete_checks_the_expected_value),
		T(test_ref_list_is_sorted_filtered_and_sees_the_open_batch),
		T(test_batch_abort_drops_the_ref_update),
		T(test_batch_whose_ref_moved_meanwhile_lands_not_at_all),
		T(test_stale_lock_file_is_ebusy_naming_the_lock_and_loses_nothing),
		T(test_corrupted_loose_object_is_an_error_not_a_crash),
		T(test_nocreate_on_a_missing_path_is_enoent_and_creates_nothing),
		T(test_non_bare_repository_made_by_git_init_opens),
		T(test_commit_written_passes_git_fsck_strict_and_git_log_shows_it),
#undef T
	};
	int rc = cmocka_run_group_tests_name("backend_git", tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
