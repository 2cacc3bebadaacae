/* SPDX-License-Identifier: MIT */
/*
 * Branches: refs/heads/<name>, moved only by compare-and-swap. Every move
 * through this repo handle notifies its watches once it committed (inside a
 * repo batch: when the batch commits).
 */
#include "store_int.h"

#define REF_PREFIX "refs/heads/"
#define REF_MAX 1024

int vs_branch_name_check(const char *name)
{
	size_t len;
	VS_CHECK_ARG(name);
	len = strlen(name);
	if (!len || len > REF_MAX - sizeof(REF_PREFIX))
		return vs_error_set(VS_EINVAL, "branch name '%s' is empty or too long", name);
	if (name[0] == '/' || name[len - 1] == '/' || name[len - 1] == '.' ||
	    !strcmp(name, "@") || strstr(name, "..") || strstr(name, "//") ||
	    strstr(name, "@{") || strstr(name, "/.") || name[0] == '.' || name[0] == '-' ||
	    (len >= 5 && !strcmp(name + len - 5, ".lock")) || strstr(name, ".lock/"))
		return vs_error_set(VS_EINVAL, "'%s' is not a valid branch name", name);
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return vs_error_set(VS_EINVAL, "branch name '%s' contains '%c'", name,
					    c >= 0x20 ? c : '?');
	}
	return 0;
}

/* Runs on every commit: no stdio (the check bounds the name's length). */
static int ref_name(char out[REF_MAX], const char *name)
{
	int err = vs_branch_name_check(name);
	if (err < 0)
		return err;
	memcpy(out, REF_PREFIX, sizeof(REF_PREFIX) - 1);
	memcpy(out + sizeof(REF_PREFIX) - 1, name, strlen(name) + 1);
	return 0;
}

int vs_branch_head(struct vs_oid *out, struct vs_repo *repo, const char *name)
{
	char ref[REF_MAX];
	int err;
	VS_CHECK_ARG(out && repo);
	if ((err = ref_name(ref, name)) < 0)
		return err;
	if ((err = vs__backend_ref_read(repo->backend, ref, out)) == VS_ENOENT)
		return vs_error_set(VS_ENOENT, "no branch '%s'", name);
	return err;
}

static int check_commit(struct vs_repo *repo, const struct vs_oid *target)
{
	struct vs_buf raw = VS_BUF_INIT;
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err = vs__backend_obj_read(repo->backend, target, &type, &raw);
	vs_buf_release(&raw);
	if (err == VS_ENOENT)
		return vs_error_set(VS_ENOENT, "commit %s not found", vs_oid_tostr(hex, target));
	if (err >= 0 && type != VS_OBJ_COMMIT)
		return vs_error_set(VS_ENOENT, "%s is not a commit", vs_oid_tostr(hex, target));
	return err;
}

/* Move branch @name (absent when @expected is NULL); @create words a conflict as such. */
static int branch_move(struct vs_repo *repo, const char *name, const struct vs_oid *target,
		       const struct vs_oid *expected, bool create)
{
	char ref[REF_MAX];
	int err;

	VS_CHECK_ARG(repo && target);
	if ((err = ref_name(ref, name)) < 0 || (err = vs__write_begin(repo, NULL)) < 0)
		return err;
	if ((err = check_commit(repo, target)) >= 0 &&
	    (err = vs__backend_ref_cas(repo->backend, ref, target, expected)) == VS_ECONFLICT)
		err = create ? vs_error_set(VS_EEXIST, "branch '%s' already exists", name)
			     : vs_error_set(VS_ECONFLICT, "branch '%s' moved concurrently", name);
	if (err >= 0)
		vs__write_notify(repo, name, expected, target);
	return vs__write_end(repo, err);
}

int vs_branch_update(struct vs_repo *repo, const char *name, const struct vs_oid *target,
		     const struct vs_oid *expected)
{
	return branch_move(repo, name, target, expected, false);
}

int vs_branch_create(struct vs_repo *repo, const char *name, const struct vs_oid *target)
{
	return branch_move(repo, name, target, NULL, true);
}

int vs_branch_delete(struct vs_repo *repo, const char *name, const struct vs_oid *expected)
{
	struct vs_oid old;
	char ref[REF_MAX];
	int err;

	VS_CHECK_ARG(repo);
	if ((err = ref_name(ref, name)) < 0)
		return err;
	if (!expected) {
		if ((err = vs_branch_head(&old, repo, name)) < 0)
			return err;
		expected = &old;
	}
	if ((err = vs__write_begin(repo, NULL)) < 0)
		return err;
	if ((err = vs__backend_ref_delete(repo->backend, ref, expected)) == VS_ENOENT)
		err = vs_error_set(VS_ENOENT, "no branch '%s'", name);
	if (err >= 0)
		vs__write_notify(repo, name, expected, NULL);
	return vs__write_end(repo, err);
}

static int collect(void *payload, const char *name, const struct vs_oid *target)
{
	struct vs_strarray *a = payload;
	char **ns = vs__realloc(a->strings, (a->count + 1) * sizeof(*ns));
	(void)target;
	if (!ns)
		return vs__enomem();
	a->strings = ns;
	if (!(a->strings[a->count] = vs__strdup(name + strlen(REF_PREFIX))))
		return vs__enomem();
	a->count++;
	return 0;
}

int vs_branch_list(struct vs_strarray *out, struct vs_repo *repo)
{
	VS_CHECK_ARG(out && repo);
	memset(out, 0, sizeof(*out));
	int err = vs__backend_ref_list(repo->backend, REF_PREFIX, collect, out);
	if (err < 0)
		vs_strarray_dispose(out);
	return err;
}

int vs_branch_commit(struct vs_oid *out, struct vs_repo *repo, const char *name,
		     const struct vs_oid *expected, struct vs_tree *tree,
		     const struct vs_commit_opts *opts)
{
	struct vs_commit_opts o;
	struct vs_oid head;
	bool has_head = false;
	char ref[REF_MAX];
	int err;

	VS_CHECK_ARG(out && repo && tree && opts);
	if ((err = ref_name(ref, name)) < 0)
		return err;
	if (expected) {
		head = *expected;
		has_head = true;
	} else if ((err = vs__backend_ref_read(repo->backend, ref, &head)) >= 0) {
		has_head = true;
	} else if (err != VS_ENOENT) {
		return err;
	}
	o = *opts;
	if (!o.nparents && has_head) {
		o.parents = &head;
		o.nparents = 1;
	}
	bool doomed = repo->batch.err < 0; /* then the error says so already */
	err = vs__commit_in_batch(out, repo, tree, &o, ref, has_head ? &head : NULL);
	if (err == VS_ECONFLICT && !doomed)
		return vs_error_set(VS_ECONFLICT, "branch '%s' moved concurrently", name);
	if (err < 0)
		return err;
	vs__write_notify(repo, name, has_head ? &head : NULL, out);
	return 0;
}
