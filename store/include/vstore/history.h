/* SPDX-License-Identifier: MIT */
/*
 * History: logs, reads at a commit, blame, lowest common ancestors.
 */
#ifndef VSTORE_HISTORY_H
#define VSTORE_HISTORY_H

#include "buf.h"
#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_commit;

/** Called per commit, newest first; @p c is borrowed. Return non-zero to stop (returned). */
typedef int vs_log_fn(void *payload, struct vs_commit *c);

/** Options for vs_log(); zero-fill. */
struct vs_log_opts {
	const char *path;  /**< only commits that changed this path (NULL: all) */
	size_t max;        /**< stop after this many (0: no limit) */
	int64_t since;     /**< skip commits with committer time before this (0: none) */
	int64_t until;     /**< skip commits with committer time after this (0: none) */
};

/**
 * Walk history from @p start in git log's default order (newest committer
 * date first; equal dates in the order found), each commit once. With a
 * path, a commit is reported when the path's content (value or subtree)
 * differs from every parent's (for a root commit: when the path exists).
 * @return 0, VS_ENOENT (start missing), or what @p cb returned.
 */
VS_EXTERN int vs_log(struct vs_repo *repo, const struct vs_oid *start,
		     const struct vs_log_opts *opts, vs_log_fn *cb, void *payload);

/** Read the value at @p path in commit @p commit. @return 0, VS_ENOENT, VS_EISDIR. */
VS_EXTERN int vs_read_at(struct vs_buf *out, struct vs_repo *repo, const struct vs_oid *commit,
			 const char *path);

/**
 * The newest commit reachable from @p start that changed @p path (the first
 * one vs_log() with that path reports). @return 0, VS_ENOENT (never existed).
 */
VS_EXTERN int vs_blame(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *start,
		       const char *path);

/**
 * A lowest common ancestor of @p a and @p b (the newest, when there are
 * several). @return 0, VS_ENOENT (no common history).
 */
VS_EXTERN int vs_merge_base(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *a,
			    const struct vs_oid *b);

/** 1 when @p ancestor is reachable from @p descendant (or equal), 0 if not, or an error. */
VS_EXTERN int vs_descendant_of(struct vs_repo *repo, const struct vs_oid *descendant,
			       const struct vs_oid *ancestor);

#endif
