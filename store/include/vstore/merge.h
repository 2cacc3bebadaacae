/* SPDX-License-Identifier: MIT */
/*
 * Three-way merges of trees and commits. Trees merge entry by entry; where
 * both sides changed a value differently, a contents merge function decides.
 * The result names every conflicting path.
 */
#ifndef VSTORE_MERGE_H
#define VSTORE_MERGE_H

#include "buf.h"
#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_tree;
struct vs_commit_opts;

/** The three versions of one value. A NULL slice means "absent". All borrowed. */
struct vs_merge_input {
	const char *path;             /**< the value's path */
	const struct vs_slice *base;  /**< in the common ancestor */
	const struct vs_slice *ours;  /**< on our side */
	const struct vs_slice *theirs;/**< on their side */
	int64_t ours_time;            /**< committer time of our commit (0 for tree merges) */
	int64_t theirs_time;          /**< committer time of their commit (0 for tree merges) */
};

/**
 * A contents merge function: write the merged value to @p out, or set
 * *@p deleted when the merged result is "absent".
 * @return 0 merged, VS_ECONFLICT when it cannot decide, another code on failure.
 */
typedef int vs_merge_fn(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
			void *payload);

/** Conflict unless both sides agree (the side that changed wins). */
VS_EXTERN int vs_merge_default(struct vs_buf *out, bool *deleted,
			       const struct vs_merge_input *in, void *payload);
/** Last writer wins: the side with the later commit time (theirs on a tie). */
VS_EXTERN int vs_merge_lww(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
			   void *payload);
/** Decimal int64 counters: base + (ours - base) + (theirs - base); absent counts 0. */
VS_EXTERN int vs_merge_counter(struct vs_buf *out, bool *deleted,
			       const struct vs_merge_input *in, void *payload);
/**
 * JSON objects merged key by key, recursively; a key changed differently on
 * both sides is a conflict; values that are not objects merge as default.
 */
VS_EXTERN int vs_merge_json(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
			    void *payload);

/** Options for merges; zero-fill for the defaults. */
struct vs_merge_opts {
	vs_merge_fn *fn; /**< NULL: vs_merge_default */
	void *payload;   /**< passed to fn */
};

/** A merge's outcome. Dispose with vs_merge_result_dispose(). */
struct vs_merge_result {
	struct vs_tree *tree;           /**< merged tree; conflicting paths keep our side */
	struct vs_strarray conflicts;   /**< every conflicting path, sorted */
	struct vs_oid base;             /**< the ancestor used (null id: none) */
};

/** Free what @p r holds and zero it. NULL-safe. */
VS_EXTERN void vs_merge_result_dispose(struct vs_merge_result *r);

/**
 * Merge @p ours and @p theirs given their ancestor @p base (NULL: empty).
 * @return 0 (clean), VS_ECONFLICT (out->conflicts lists the paths), or a failure.
 */
VS_EXTERN int vs_merge_trees(struct vs_merge_result *out, struct vs_tree *base,
			     struct vs_tree *ours, struct vs_tree *theirs,
			     const struct vs_merge_opts *opts);

/**
 * Merge the trees of commits @p ours and @p theirs over their lowest common
 * ancestor (none: the empty tree). @return as vs_merge_trees().
 */
VS_EXTERN int vs_merge_commits(struct vs_merge_result *out, struct vs_repo *repo,
			       const struct vs_oid *ours, const struct vs_oid *theirs,
			       const struct vs_merge_opts *opts);

/**
 * Merge commit @p theirs into branch @p branch: nothing when already merged,
 * a fast-forward when possible, else a merge commit with parents (head,
 * theirs) described by @p copts (its parents are ignored). The branch moves
 * by compare-and-swap. @p result, when not NULL, receives the conflicts.
 * @return 0, VS_ECONFLICT (conflicts, or the branch moved; nothing changed).
 */
VS_EXTERN int vs_branch_merge(struct vs_oid *out, struct vs_repo *repo, const char *branch,
			      const struct vs_oid *theirs, const struct vs_merge_opts *mopts,
			      const struct vs_commit_opts *copts, struct vs_merge_result *result);

#endif
