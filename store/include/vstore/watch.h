/* SPDX-License-Identifier: MIT */
/*
 * Watches: callbacks when a branch head moves, with the diff; or only when
 * a given key or subtree changed. Moves made through this repo handle fire at
 * once; vs_watch_poll() notices moves made by other handles or processes.
 */
#ifndef VSTORE_WATCH_H
#define VSTORE_WATCH_H

#include "common.h"
#include "diff.h"
#include "oid.h"

struct vs_repo;
struct vs_watch;

/** One head change. Everything is borrowed for the duration of the callback. */
struct vs_watch_event {
	const char *branch;            /**< the branch that moved */
	const struct vs_oid *old_head; /**< NULL when the branch was created */
	const struct vs_oid *new_head; /**< NULL when the branch was deleted */
	const struct vs_delta *deltas; /**< changed values (below the watched path, if any) */
	size_t ndeltas;                /**< how many */
};

/**
 * A watch callback. It may free watches, its own included, and create
 * watches, which see only later events; it may move branches, and those
 * events are delivered at once.
 */
typedef void vs_watch_fn(void *payload, const struct vs_watch_event *ev);

/**
 * Watch branch @p branch (NULL: every branch) and call @p cb on each head
 * change, even when the diff is empty. Moves are counted from the heads as
 * they were when the watch was created.
 * Caller frees *out with vs_watch_free(). @return 0, VS_EINVAL.
 */
VS_EXTERN int vs_watch_branch(struct vs_watch **out, struct vs_repo *repo, const char *branch,
			      vs_watch_fn *cb, void *payload);

/**
 * Watch the value or subtree at @p path on @p branch (NULL: every branch):
 * @p cb runs only when something at or below @p path changed, with only
 * those deltas. @p path is normalised ('/a//b/' is 'a/b', '' is the root);
 * it covers 'a/b/x' but not 'a/bc'. A '.' or '..' component is VS_EINVAL.
 * @return 0, VS_EINVAL.
 */
VS_EXTERN int vs_watch_path(struct vs_watch **out, struct vs_repo *repo, const char *branch,
			    const char *path, vs_watch_fn *cb, void *payload);

/** Stop and free a watch. NULL-safe. Watches still open at vs_repo_close() are freed by it. */
VS_EXTERN void vs_watch_free(struct vs_watch *w);

/**
 * Re-read the refs and fire watches for heads that moved since last seen
 * (by another process, or another repo handle). It also delivers a local
 * move whose event could not be built at the time (out of memory).
 * @return 0 or a read error.
 */
VS_EXTERN int vs_watch_poll(struct vs_repo *repo);

#endif
