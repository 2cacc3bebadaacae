/* SPDX-License-Identifier: MIT */
/*
 * Retention and garbage collection. A policy says which history to keep;
 * older commits are cut off as in a shallow clone (the oldest kept commits
 * become the boundary, which history walks treat as parentless), and objects
 * no longer reachable are swept in bounded steps while the same repo handle
 * keeps committing between steps.
 */
#ifndef VSTORE_GC_H
#define VSTORE_GC_H

#include "common.h"
#include "repo.h"

struct vs_gc;

#define VS_GC_POLICY_VERSION 1

/**
 * What history to keep; zero-fill, then set version. A commit is kept when
 * any rule keeps it and it is reachable from a ref through kept commits.
 * The commit each ref (branch or tag) names is always kept, and each ref
 * keeps its own window: a branch left at an old commit keeps the history
 * the rules give below that commit.
 */
struct vs_gc_policy {
	unsigned int version;    /**< VS_GC_POLICY_VERSION */
	bool keep_all;           /**< keep all history: only unreachable objects go */
	size_t keep_last;        /**< keep commits fewer than this many parent steps
				      below a ref, as git clone --depth (1: only the
				      commits refs name); 0: no such rule */
	int64_t keep_newer_than; /**< keep commits whose committer time is at least
				      now - this many seconds; 0: no such rule */
	int64_t now;             /**< the time keep_newer_than counts back from
				      (seconds since 1970); 0: the current time */
};

#define VS_GC_OPTS_VERSION 1

/** How a collection runs; zero-fill, then set version. */
struct vs_gc_opts {
	unsigned int version;     /**< VS_GC_OPTS_VERSION */
	size_t step_objects;      /**< most objects a step reads, deletes or moves; 0: 1024 */
	unsigned int step_usec;   /**< time budget of a step in microseconds; 0: 2000 */
	vs_progress_fn *progress; /**< NULL, or called after each step with stage "walking"
				       (commits classified), "marking" (objects found
				       reachable), "sweeping" (objects examined) or
				       "compacting" (records moved); total is the
				       known total or done; non-zero stops the step */
	void *payload;            /**< for progress */
};

/** What a collection did so far. */
struct vs_gc_stats {
	size_t commits_kept;        /**< commits found reachable down to the boundary */
	size_t commits_dropped;     /**< commits swept */
	size_t boundary;            /**< commits in the new boundary */
	size_t objects_marked;      /**< objects found reachable (commits, trees, values) */
	size_t objects_swept;       /**< objects deleted */
	size_t objects_unswept;     /**< unreachable objects the backend could not delete
					 (git objects inside packs) */
	uint64_t bytes_swept;       /**< content bytes of the objects deleted */
	uint64_t bytes_freed;       /**< storage given back, as the backend measures it: LMDB
					 log bytes released by compaction; mem and git count
					 bytes_swept (git's compressed files are smaller) */
	size_t records_moved;       /**< live records rewritten (LMDB: moved by compaction,
					 or stored whole for their base to go) */
	size_t steps;               /**< vs_gc_step() calls that did work */
};

/**
 * Start a collection on @p repo: snapshot the refs, and from now on note
 * every object this repo handle writes or refers to anew, so that nothing a
 * writer uses between steps is swept. Writers must use this handle: another
 * handle or process that writes to the store during the collection may
 * lose objects (an LMDB store has one writer, the daemon). Objects read
 * from history the collection drops may vanish; a tree loaded from such a
 * commit and committed again fails with VS_ENOENT instead of referring to
 * a swept object, during the collection.
 * A collection walks the kept history and reads every reachable object, so
 * its cost is that of the kept history: start one every so many commits
 * (say a twentieth of keep_last), not back to back. It needs about 40 bytes
 * of memory per reachable object (SHA-1 ids; 60 for SHA-256).
 * @param opts NULL for defaults.
 * @return 0, VS_EINVAL (bad policy or options), VS_EBUSY (a collection is
 * running on this repo), VS_ENOTSUP (the backend cannot delete objects).
 * Free *out with vs_gc_free() before closing the repo.
 */
VS_EXTERN int vs_gc_new(struct vs_gc **out, struct vs_repo *repo,
			const struct vs_gc_policy *policy, const struct vs_gc_opts *opts);

/**
 * Do a bounded amount of work (opts->step_objects, opts->step_usec). A step
 * that deletes or moves objects holds the backend's write transaction for
 * that long, no more. Commit with the same repo between steps at will.
 * @param out NULL, or filled with the statistics so far.
 * @return 1 while work remains, 0 when the collection is complete (and on
 * every later call), what the progress callback returned to stop (the next
 * step goes on), VS_EBUSY (a batch is open in this thread: call again once
 * it is closed), or another error (VS_ECORRUPT: the history to keep is
 * incomplete), after which the handle only frees: nothing more is deleted.
 */
VS_EXTERN int vs_gc_step(struct vs_gc *gc, struct vs_gc_stats *out);

/** End the collection (complete or not) and free @p gc. NULL-safe. */
VS_EXTERN void vs_gc_free(struct vs_gc *gc);

/**
 * Run a whole collection: vs_gc_new(), vs_gc_step() until done, vs_gc_free().
 * @param out NULL, or filled with the statistics.
 * @return 0, or as vs_gc_new() and vs_gc_step().
 */
VS_EXTERN int vs_gc_run(struct vs_repo *repo, const struct vs_gc_policy *policy,
			const struct vs_gc_opts *opts, struct vs_gc_stats *out);

/**
 * The boundary: the commits where retention cut history (treated as having
 * no parents). @p out gets them as hex ids, sorted; empty when history is
 * whole. Caller disposes @p out. @return 0.
 */
VS_EXTERN int vs_gc_boundary(struct vs_strarray *out, struct vs_repo *repo);

#endif
