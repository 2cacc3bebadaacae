/* SPDX-License-Identifier: MIT */
/*
 * A repository: one backend (mem, lmdb or git), one object format, a cache
 * of loaded trees. Not thread-safe: use one repo per thread, or a lock.
 */
#ifndef VSTORE_REPO_H
#define VSTORE_REPO_H

#include "common.h"
#include "buf.h"
#include "oid.h"

struct vs_repo;

enum vs_repo_flags {
	VS_REPO_NOCREATE = 1 << 0, /**< fail with VS_ENOENT instead of creating */
	VS_REPO_READONLY = 1 << 1, /**< open for reading; writes fail with VS_EROFS */
	VS_REPO_NO_VALUE_CACHE = 1 << 2, /**< read every value from the backend */
	/**
	 * Do not force commits onto disk: a commit reaches the OS (it survives
	 * the process being killed) but the last ones may be lost on power
	 * loss until vs_repo_sync(). LMDB: the environment is opened with
	 * MDB_NOSYNC; handles of one process share it, and a writable handle
	 * opened without this flag turns syncing back on for all of them for
	 * the rest of the environment's life. git and mem: no effect (git
	 * objects and refs are always fsynced).
	 */
	VS_REPO_NOSYNC = 1 << 3,
};

#define VS_REPO_OPTS_VERSION 1

/** Options for vs_repo_open(); zero-fill, then set version. */
struct vs_repo_opts {
	unsigned int version;  /**< VS_REPO_OPTS_VERSION */
	unsigned int flags;    /**< enum vs_repo_flags */
	const char *format;    /**< object format for a new store; NULL: the backend's default */
	size_t cache_trees;    /**< trees kept loaded in the cache; 0: 32768 */
	size_t cache_value_bytes; /**< bytes of values kept in memory; 0: 32 MiB */
	size_t lmdb_mapsize;   /**< initial LMDB map size in bytes; 0: 64 MiB (grown when full) */
};

/**
 * Open (or create) the store named by @p uri: "mem:", "lmdb:PATH" or
 * "git:PATH" (a bare repository is created when PATH does not exist).
 * @param opts NULL for defaults.
 * @return 0, VS_ENOENT (missing with VS_REPO_NOCREATE), VS_EINVAL (bad URI
 * or options). The caller closes *out with vs_repo_close().
 */
VS_EXTERN int vs_repo_open(struct vs_repo **out, const char *uri,
			   const struct vs_repo_opts *opts);

/** Close the repo and its backend. Trees and commits must be freed first. NULL-safe. */
VS_EXTERN void vs_repo_close(struct vs_repo *repo);

/**
 * Open a write batch (group commit): until vs_repo_batch_commit(), every
 * write of @p repo (vs_commit_create, vs_branch_commit, vs_branch_update,
 * vs_branch_create, vs_branch_delete, vs_tree_write, vs_repo_copy...) joins
 * it. Each succeeds at once and its effects are visible through @p repo
 * (branches moved, objects readable), but nothing lands before the batch
 * commits, all together. A failed operation (other than an argument check
 * made before it wrote) dooms the batch: later operations fail with its
 * code, and commit aborts. Branch watches fire when the batch commits
 * (vs_watch_poll() on this repo while the batch is open would report its
 * moves early: do not). Garbage collection steps fail with VS_EBUSY inside
 * a batch. Not nested: one batch per repo at a time.
 * @return 0, VS_EBUSY (a batch is open), VS_EROFS.
 */
VS_EXTERN int vs_repo_batch_begin(struct vs_repo *repo);

/**
 * Commit the open batch: everything written in it lands, or nothing does.
 * @return 0, VS_EINVAL (no batch open), or the error that doomed the batch
 * (it was aborted), or the backend's commit error (VS_ECONFLICT: LMDB had
 * to grow its map and another writer moved a ref meanwhile).
 */
VS_EXTERN int vs_repo_batch_commit(struct vs_repo *repo);

/**
 * Drop the open batch: nothing of it lands and its watches never fire. Trees
 * written in it count as not stored again, and the repo forgets the trees it
 * loaded meanwhile; trees looked up by id during the batch that came from
 * its own writes (and trees made from them) must not be used afterwards.
 * No-op without a batch.
 */
VS_EXTERN void vs_repo_batch_abort(struct vs_repo *repo);

/**
 * Force every committed write onto stable storage (see VS_REPO_NOSYNC); an
 * open batch is not included. LMDB: mdb_env_sync; mem, git: nothing to do.
 * @return 0, VS_EIO.
 */
VS_EXTERN int vs_repo_sync(struct vs_repo *repo);

/** The object format's name ("git"). Borrowed. */
VS_EXTERN const char *vs_repo_format(const struct vs_repo *repo);

/** The backend's name ("mem", "lmdb", "git"). Borrowed. */
VS_EXTERN const char *vs_repo_backend_name(const struct vs_repo *repo);

/** What vs_repo_check() looked at. */
struct vs_check_stats {
	size_t refs;    /**< refs resolved */
	size_t commits; /**< commits verified */
	size_t trees;   /**< trees verified */
	size_t blobs;   /**< blobs verified */
};

/**
 * Full integrity check: every ref names a commit, and every object reachable
 * from a ref exists, hashes to its id and parses strictly.
 * @param out NULL or filled with counts.
 * @return 0, or VS_ECORRUPT naming the first bad ref or object.
 */
VS_EXTERN int vs_repo_check(struct vs_repo *repo, struct vs_check_stats *out);

/** Progress of a long operation; return non-zero to stop it (that value is returned). */
typedef int vs_progress_fn(void *payload, const char *stage, size_t done, size_t total);

/**
 * Copy every ref of @p src and every object reachable from them into @p dst,
 * byte for byte (same format, same ids); objects @p dst has are skipped.
 * Between the git and vs formats objects are converted instead: the same
 * paths, values, modes, authors, messages and parents under other ids, each
 * ref then naming what its target became. The id map (kept by the store not
 * in the git format, when its backend keeps one) records every converted
 * object both ways, so converting again after one more commit converts only
 * that commit and what it changed, and git -> vs -> git gives back the
 * original ids. A SHA-1 gitlink is kept zero-extended in a vs tree.
 * Progress stages: "counting" and "writing" (same format), "converting".
 * @return 0, VS_ENOTSUP (a commit git would not write back byte for byte,
 * a SHA-256 gitlink, or history cut by retention before it was converted).
 */
VS_EXTERN int vs_repo_copy(struct vs_repo *dst, struct vs_repo *src,
			   vs_progress_fn *progress, void *payload);

/**
 * Read the raw content of object @p id (without git's header).
 * @param[out] type 1 commit, 2 tree, 3 blob, 4 tag (git's numbers, enum vs_otype).
 * @return 0, VS_ENOENT. The caller releases @p out.
 */
VS_EXTERN int vs_repo_read_raw(struct vs_buf *out, int *type, struct vs_repo *repo,
			       const struct vs_oid *id);

/**
 * Resolve @p spec: a full hex id, a unique hex prefix of at least 4 digits
 * (not on every backend: VS_ENOTSUP), a branch name, or a full ref name.
 * @return 0, VS_ENOENT, VS_EINVAL (ambiguous prefix).
 */
VS_EXTERN int vs_repo_resolve(struct vs_oid *out, struct vs_repo *repo, const char *spec);

/**
 * Resolve @p spec as git names a commit: what vs_repo_resolve() takes, or
 * "" / "HEAD" for the head of branch @p head, then "~N" (N first-parent
 * steps back; "~" alone is one). @return 0, VS_ENOENT (no such commit or
 * ancestor), VS_EINVAL (malformed).
 */
VS_EXTERN int vs_repo_resolve_rev(struct vs_oid *out, struct vs_repo *repo, const char *spec,
				  const char *head);

#endif
