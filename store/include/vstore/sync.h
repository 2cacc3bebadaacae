/* SPDX-License-Identifier: MIT */
/*
 * Sync with git remotes through libgit2: push, fetch, pull and clone, from
 * and to any backend. A remote is a URL libgit2 understands: a path, file://,
 * git://, ssh:// or https://. A store in the vs format converts on the way,
 * through its id map (see vs_repo_copy()): a push converts the commits the
 * map lacks (after one more commit, that commit and what it changed), a
 * fetch converts what arrived; ids given and taken are the store's own.
 */
#ifndef VSTORE_SYNC_H
#define VSTORE_SYNC_H

#include "common.h"
#include "oid.h"
#include "repo.h"

struct vs_merge_opts;
struct vs_commit_opts;

#define VS_SYNC_OPTS_VERSION 1

/** Options for sync calls; zero-fill, set version. */
struct vs_sync_opts {
	unsigned int version;        /**< VS_SYNC_OPTS_VERSION */
	vs_progress_fn *progress;    /**< NULL, or called as objects move; stages
					  "counting" (no real total: total = done),
					  "sending", "receiving", "copying", and
					  "converting" (vs stores); non-zero stops */
	void *payload;               /**< for progress */
	bool force;                  /**< push, fetch into a branch: allow a non-fast-forward update */
};

/**
 * Push branch @p branch to @p remote_branch (NULL: the same name) of @p url.
 * A vs store needs a backend that keeps an id map (mem, lmdb; else VS_ENOTSUP).
 * @return 0, VS_ENOENT (no such branch), VS_ECONFLICT (not a fast-forward),
 * VS_EBACKEND (the remote failed; the message has its words).
 */
VS_EXTERN int vs_sync_push(struct vs_repo *repo, const char *url, const char *branch,
			   const char *remote_branch, const struct vs_sync_opts *opts);

/**
 * Fetch @p remote_branch of @p url with every object it needs; store its head
 * (for a vs store, the commit it converted to) in local branch @p into (NULL:
 * only fetch the objects) and in @p out.
 * Moving @p into is a fast-forward unless opts->force.
 * @return 0, VS_ENOENT (no such remote branch), VS_ECONFLICT (@p into has
 * diverged), VS_EBACKEND.
 */
VS_EXTERN int vs_sync_fetch(struct vs_oid *out, struct vs_repo *repo, const char *url,
			    const char *remote_branch, const char *into,
			    const struct vs_sync_opts *opts);

/**
 * Fetch @p remote_branch (NULL: @p branch) and merge it into @p branch as
 * vs_branch_merge() does. @return 0, VS_ECONFLICT, VS_EBACKEND.
 */
VS_EXTERN int vs_sync_pull(struct vs_oid *out, struct vs_repo *repo, const char *url,
			   const char *branch, const char *remote_branch,
			   const struct vs_merge_opts *mopts, const struct vs_commit_opts *copts,
			   const struct vs_sync_opts *opts);

/**
 * Create the store @p dst_uri (any backend) holding every branch of @p url,
 * in the format ropts->format names, else the backend's default (lmdb: vs,
 * converted through the id map; mem and git: git, keeping the remote's ids).
 * URL rewrites from git config (url.*.insteadOf) are not applied.
 * Caller closes *out. @return 0, VS_EEXIST (@p dst_uri holds branches), VS_EBACKEND.
 */
VS_EXTERN int vs_sync_clone(struct vs_repo **out, const char *url, const char *dst_uri,
			    const struct vs_repo_opts *ropts, const struct vs_sync_opts *opts);

#endif
