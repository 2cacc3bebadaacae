/* SPDX-License-Identifier: MIT */
/*
 * Diffs between trees or commits, at the level of values: each path whose
 * value was added, removed or changed, in byte order of paths. Subtrees with
 * equal ids are skipped without being loaded.
 */
#ifndef VSTORE_DIFF_H
#define VSTORE_DIFF_H

#include "buf.h"
#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_tree;

enum vs_delta_status {
	VS_DELTA_ADDED = 1,
	VS_DELTA_REMOVED = 2,
	VS_DELTA_MODIFIED = 3,
};

/** One changed value. Everything is borrowed for the duration of the callback. */
struct vs_delta {
	enum vs_delta_status status;
	const char *path;        /**< "a/b/c" */
	struct vs_slice old_value; /**< empty for ADDED */
	struct vs_slice new_value; /**< empty for REMOVED */
};

/** Called per delta; return non-zero to stop (returned as is). */
typedef int vs_diff_fn(void *payload, const struct vs_delta *d);

/** Diff @p a (old, NULL: empty) against @p b (new, NULL: empty). @return 0 or what @p cb returned. */
VS_EXTERN int vs_diff_trees(struct vs_tree *a, struct vs_tree *b, vs_diff_fn *cb, void *payload);

/**
 * Diff the trees of commits @p a (NULL: empty) and @p b.
 * @param path NULL for everything, or only below this path.
 * @return 0, VS_ENOENT, or what @p cb returned.
 */
VS_EXTERN int vs_diff_commits(struct vs_repo *repo, const struct vs_oid *a, const struct vs_oid *b,
			      const char *path, vs_diff_fn *cb, void *payload);

#endif
