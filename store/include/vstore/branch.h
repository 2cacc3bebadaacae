/* SPDX-License-Identifier: MIT */
/*
 * Branches: names ("main", "txn/42") for refs "refs/heads/<name>". Moving a
 * branch is a compare-and-swap, so two writers never lose each other's commits.
 */
#ifndef VSTORE_BRANCH_H
#define VSTORE_BRANCH_H

#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_tree;
struct vs_commit_opts;

/** The commit branch @p name points at. @return 0, VS_ENOENT, VS_EINVAL (bad name). */
VS_EXTERN int vs_branch_head(struct vs_oid *out, struct vs_repo *repo, const char *name);

/**
 * Move branch @p name to @p target iff it now points at @p expected (NULL:
 * iff it does not exist, i.e. create it).
 * @return 0, VS_ECONFLICT (it points elsewhere; nothing changed), VS_ENOENT
 * (@p target is not a commit here), VS_EINVAL (bad name).
 */
VS_EXTERN int vs_branch_update(struct vs_repo *repo, const char *name,
			       const struct vs_oid *target, const struct vs_oid *expected);

/** Create branch @p name at @p target. @return 0, VS_EEXIST, VS_ENOENT, VS_EINVAL. */
VS_EXTERN int vs_branch_create(struct vs_repo *repo, const char *name,
			       const struct vs_oid *target);

/**
 * Delete branch @p name iff it points at @p expected (NULL: whatever it points at).
 * @return 0, VS_ENOENT, VS_ECONFLICT.
 */
VS_EXTERN int vs_branch_delete(struct vs_repo *repo, const char *name,
			       const struct vs_oid *expected);

/** All branch names, sorted. Caller disposes @p out. @return 0. */
VS_EXTERN int vs_branch_list(struct vs_strarray *out, struct vs_repo *repo);

/**
 * Commit @p tree on branch @p name and move the branch to it, atomically.
 * The parent is @p expected (NULL: the branch's current head, or none if it
 * does not exist); opts->parents, when given, replace it. The branch moves
 * only if it still points at that head.
 * @return 0, VS_ECONFLICT (the branch moved meanwhile: nothing changed).
 */
VS_EXTERN int vs_branch_commit(struct vs_oid *out, struct vs_repo *repo, const char *name,
			       const struct vs_oid *expected, struct vs_tree *tree,
			       const struct vs_commit_opts *opts);

/** Check a branch name as git check-ref-format does. @return 0 or VS_EINVAL. */
VS_EXTERN int vs_branch_name_check(const char *name);

#endif
