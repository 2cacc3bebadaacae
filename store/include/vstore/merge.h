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
/**
 * Last writer wins. When only one side changed, it wins whatever the times.
 * Both changed: the later committer time wins, theirs on a tie (tree merges
 * have no times, so theirs). A deletion counts as a write.
 */
VS_EXTERN int vs_merge_lww(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
			   void *payload);
/**
 * Decimal int64 counters (an optional '-' then digits). One side changed: it
 * wins (a deletion too); both deleted: deleted. Both changed:
 * base + (ours - base) + (theirs - base), absent counting 0, so equal
 * increments add up. A value that is not a decimal int64, or a result out
 * of range: VS_ECONFLICT, with the path in the message.
 */
VS_EXTERN int vs_merge_counter(struct vs_buf *out, bool *deleted,
			       const struct vs_merge_input *in, void *payload);
/**
 * JSON objects merged key by key, recursively. Only one side changed: that
 * side, not parsed. Both changed: invalid JSON (duplicate keys included) is
 * VS_ECONFLICT naming the path and side; objects over an object or absent
 * base merge key by key and are written compact with sorted keys, every
 * conflicting key named as a JSON Pointer in the message; other values merge
 * when equal as JSON (ours' bytes kept). Deleting the value while the other
 * side changed it conflicts.
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
	struct vs_oid base;             /**< the ancestor used: the base commit for
					     vs_merge_commits() and vs_branch_merge(), the
					     base tree's id for vs_merge_trees(); null id: none */
};

/** Free what @p r holds and zero it. NULL-safe. */
VS_EXTERN void vs_merge_result_dispose(struct vs_merge_result *r);

/**
 * Merge @p ours and @p theirs given their ancestor @p base (NULL: empty).
 * *out is overwritten (dispose it first) and left empty on failures other
 * than VS_ECONFLICT. Values taken from theirs get mode 100644; gitlinks that
 * would come from theirs are reported as conflicts.
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
 * theirs) described by @p copts (its parents are ignored; @p copts is needed
 * only for a merge commit). The branch moves by compare-and-swap. *out is the
 * branch's head afterwards (zeroed on failure). @p result, when given, is
 * overwritten with the tree the branch has afterwards and the base: theirs
 * when up to date, the old head for a fast-forward, the merge base otherwise;
 * on VS_ECONFLICT it holds the merged tree and the conflicts (no conflicts
 * means the branch moved).
 * @return 0, VS_ECONFLICT, VS_ENOENT (no such branch), VS_EINVAL (a merge
 * commit without @p copts).
 */
VS_EXTERN int vs_branch_merge(struct vs_oid *out, struct vs_repo *repo, const char *branch,
			      const struct vs_oid *theirs, const struct vs_merge_opts *mopts,
			      const struct vs_commit_opts *copts, struct vs_merge_result *result);

#endif
