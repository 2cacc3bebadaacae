/* SPDX-License-Identifier: MIT */
/*
 * Commits: a tree, parents, author, committer and a message. Immutable and
 * refcounted like trees.
 */
#ifndef VSTORE_COMMIT_H
#define VSTORE_COMMIT_H

#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_tree;
struct vs_commit;

/**
 * Who and when. name may not contain '<', '>' or a newline; email may not
 * contain '<', '>' or a newline; time is seconds since the epoch (>= 0);
 * offset is the time zone in minutes east of UTC.
 */
struct vs_signature {
	const char *name;  /**< "Xen domain 3" */
	const char *email; /**< "dom3@xenstore" */
	int64_t time;      /**< seconds since 1970 */
	int offset;        /**< minutes east of UTC, -1439..1439 */
};

/** What vs_commit_create() records besides the tree. */
struct vs_commit_opts {
	const struct vs_signature *author;    /**< required */
	const struct vs_signature *committer; /**< NULL: the author */
	const char *message;                  /**< NULL: empty; no NUL bytes */
	const struct vs_oid *parents;         /**< parent commit ids, in order */
	size_t nparents;                      /**< 0 for a root commit */
};

/**
 * Write @p tree, everything new below it and a commit of it, in one atomic
 * batch; no branch moves (a detached commit). @p out receives the id.
 * @return 0, VS_EINVAL (bad signature), VS_ENOENT (a parent is missing), VS_EROFS.
 */
VS_EXTERN int vs_commit_create(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *tree,
			       const struct vs_commit_opts *opts);

/** Load commit @p id. Caller frees *out. @return 0, VS_ENOENT, VS_ECORRUPT. */
VS_EXTERN int vs_commit_lookup(struct vs_commit **out, struct vs_repo *repo,
			       const struct vs_oid *id);

/** Add a reference. @return @p c. */
VS_EXTERN struct vs_commit *vs_commit_dup(struct vs_commit *c);
/** Drop a reference. NULL-safe. */
VS_EXTERN void vs_commit_free(struct vs_commit *c);

/** The commit's id. Borrowed. */
VS_EXTERN const struct vs_oid *vs_commit_id(const struct vs_commit *c);
/** The id of the commit's tree. Borrowed. */
VS_EXTERN const struct vs_oid *vs_commit_tree_id(const struct vs_commit *c);
/** Load the commit's tree. Caller frees *out. @return 0, VS_ENOENT, VS_ECORRUPT. */
VS_EXTERN int vs_commit_tree(struct vs_tree **out, struct vs_commit *c);
/** Number of parents. */
VS_EXTERN size_t vs_commit_parentcount(const struct vs_commit *c);
/** Parent @p i, or NULL past the end. Borrowed. */
VS_EXTERN const struct vs_oid *vs_commit_parent_id(const struct vs_commit *c, size_t i);
/** The author. Borrowed. */
VS_EXTERN const struct vs_signature *vs_commit_author(const struct vs_commit *c);
/** The committer. Borrowed. */
VS_EXTERN const struct vs_signature *vs_commit_committer(const struct vs_commit *c);
/** The message, as stored. Borrowed. */
VS_EXTERN const char *vs_commit_message(const struct vs_commit *c);
/** The first line of the message, without its newline, into @p out (at most @p n bytes). */
VS_EXTERN const char *vs_commit_summary(const struct vs_commit *c, char *out, size_t n);
/** The repo @p c belongs to. Borrowed. */
VS_EXTERN struct vs_repo *vs_commit_repo(const struct vs_commit *c);

#endif
