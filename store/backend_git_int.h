/* SPDX-License-Identifier: MIT */
/*
 * What backend_git.c shares with sync.c: the libgit2 repository under a git
 * backend, so sync can fetch into it and push from it directly, and the
 * conversions between our ids and types and libgit2's.
 */
#ifndef VSTORE_BACKEND_GIT_INT_H
#define VSTORE_BACKEND_GIT_INT_H

#include <git2.h>

#include "store_int.h"

/* The repository of a git backend (borrowed, lives as long as @b); NULL for other backends. */
git_repository *vs__backend_git_repository(struct vs_backend *b);

/* backend_git_shallow.c: .git/shallow as the setting "shallow" (empty: no file). */
int vs__git_shallow_read(git_repository *repo, struct vs_buf *out);
int vs__git_shallow_write(git_repository *repo, const char *value);

/* Our id as libgit2's; only SHA-1 exists in a git repository (VS_ENOTSUP otherwise). */
static inline int vs__oid_to_git(git_oid *out, const struct vs_oid *id)
{
	if (id->type != VS_OID_SHA1)
		return vs_error_set(VS_ENOTSUP,
				    "git stores only SHA-1 ids (the git format), got an id of "
				    "type %u",
				    id->type);
	return git_oid_fromraw(out, id->id) < 0 ? vs__git2_err(GIT_ERROR, "object id") : 0;
}

static inline void vs__oid_from_git(struct vs_oid *out, const git_oid *id)
{
	int rc = vs_oid_fromraw(out, VS_OID_SHA1, id->id);
	assert(rc == 0);
	(void)rc;
}

/* GIT_OBJECT_INVALID for a type git does not know. */
static inline git_object_t vs__otype_to_git(enum vs_otype type)
{
	switch (type) {
	case VS_OBJ_BLOB:
		return GIT_OBJECT_BLOB;
	case VS_OBJ_TREE:
		return GIT_OBJECT_TREE;
	case VS_OBJ_COMMIT:
		return GIT_OBJECT_COMMIT;
	case VS_OBJ_TAG:
		return GIT_OBJECT_TAG;
	}
	return GIT_OBJECT_INVALID;
}

/* VS_ECORRUPT for a type we do not store. */
static inline int vs__otype_from_git(enum vs_otype *out, git_object_t type)
{
	switch (type) {
	case GIT_OBJECT_BLOB:
		*out = VS_OBJ_BLOB;
		return 0;
	case GIT_OBJECT_TREE:
		*out = VS_OBJ_TREE;
		return 0;
	case GIT_OBJECT_COMMIT:
		*out = VS_OBJ_COMMIT;
		return 0;
	case GIT_OBJECT_TAG:
		*out = VS_OBJ_TAG;
		return 0;
	default:
		return vs_error_set(VS_ECORRUPT, "object of unknown git type %d", (int)type);
	}
}

#endif
