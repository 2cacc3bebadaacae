/* SPDX-License-Identifier: MIT */
/*
 * The backend interface, for those who implement a backend. A backend stores
 * bytes under ids the core computed: immutable objects (read, write, exists,
 * foreach), an atomic write batch, and mutable refs moved by compare-and-swap.
 *
 * Contract, checked by tests/conformance/test_backend.c:
 * - obj_write of an id already present is a no-op and succeeds.
 * - Between batch_begin and batch_commit, writes and ref updates are visible
 *   to this handle and land together at batch_commit or not at all
 *   (batch_abort, or a crash). Outside a batch each call is its own batch.
 *   With VS_REPO_NOSYNC a committed batch must survive the death of the
 *   process (it reached the OS) but may be lost on power loss until sync.
 * - ref_cas never loses an update: it fails with VS_ECONFLICT when the ref
 *   does not hold the expected value at the moment it is applied.
 * - Every function returns 0 or a VS_E* code with the message set.
 */
#ifndef VSTORE_SYS_BACKEND_H
#define VSTORE_SYS_BACKEND_H

#include "../buf.h"
#include "../common.h"
#include "../oid.h"
#include "../repo.h"

/** Object types, numbered as git numbers them. */
enum vs_otype {
	VS_OBJ_COMMIT = 1,
	VS_OBJ_TREE = 2,
	VS_OBJ_BLOB = 3,
	VS_OBJ_TAG = 4,
};

struct vs_backend;

/** Called per ref by ref_list; non-zero stops the walk and is returned. */
typedef int vs_ref_fn(void *payload, const char *name, const struct vs_oid *target);
/** Called per object by obj_foreach; non-zero stops the walk and is returned. */
typedef int vs_oid_fn(void *payload, const struct vs_oid *id);

#define VS_BACKEND_OPS_VERSION 3 /* 2: the sync op; 3: obj_write_based, obj_base, obj_stat */

struct vs_backend_ops {
	unsigned int version; /**< VS_BACKEND_OPS_VERSION */
	const char *name;     /**< "mem", "lmdb", "git" */

	/** Read object @p id: its type and raw content. VS_ENOENT if absent. */
	int (*obj_read)(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			struct vs_buf *out);
	/** 1 if @p id is stored, 0 if not, or an error. */
	int (*obj_exists)(struct vs_backend *b, const struct vs_oid *id);
	/** Store an object whose id the core computed. */
	int (*obj_write)(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			 const void *data, size_t len);
	/** Every stored object, in no particular order (optional). */
	int (*obj_foreach)(struct vs_backend *b, vs_oid_fn *cb, void *payload);
	/**
	 * Up to @p max stored ids greater than @p after (NULL: from the least)
	 * in vs_oid_cmp() order, into @p out, their count in *@p n; fewer than
	 * @p max means the end (optional: garbage collection enumerates objects
	 * through it in bounded steps, else through one obj_foreach).
	 */
	int (*obj_list)(struct vs_backend *b, const struct vs_oid *after, struct vs_oid *out,
			size_t max, size_t *n);
	/**
	 * Delete object @p id (optional; garbage collection needs it). Deleting
	 * a missing object succeeds. Inside a batch it lands with the batch.
	 * @return 0, or 1 when the object stays because this backend cannot
	 * delete it where it lies (git: inside a pack).
	 */
	int (*obj_delete)(struct vs_backend *b, const struct vs_oid *id);
	/**
	 * Give back the space of deleted objects, a bounded amount of work per
	 * call: at most @p budget records moved or storage units released, in
	 * one atomic step (optional: for backends whose deletes leave space
	 * behind, as LMDB's log does). Adds the bytes released to *@p freed
	 * and the records rewritten to *@p moved. Call outside a batch.
	 * @return 1 while work remains, 0 when done.
	 */
	int (*compact_step)(struct vs_backend *b, size_t budget, uint64_t *freed, size_t *moved);

	/** Start an atomic batch of writes (batches do not nest). */
	int (*batch_begin)(struct vs_backend *b);
	/**
	 * Make the batch durable. On failure nothing of it is kept; LMDB may
	 * answer VS_ECONFLICT when it had to grow the map and replay the batch
	 * after another writer moved a ref: retry as for ref_cas.
	 */
	int (*batch_commit)(struct vs_backend *b);
	/** Drop the batch. */
	void (*batch_abort)(struct vs_backend *b);
	/**
	 * Force what was committed onto stable storage (optional: a backend
	 * without it makes every commit as durable as it can by itself). A
	 * store opened with VS_REPO_NOSYNC may skip syncing at batch_commit;
	 * this makes up for it. Not called on read-only handles.
	 */
	int (*sync)(struct vs_backend *b);

	/** Read full ref @p name ("refs/heads/main"). VS_ENOENT if absent. */
	int (*ref_read)(struct vs_backend *b, const char *name, struct vs_oid *out);
	/** Set ref @p name to @p target iff it holds @p expected (NULL: iff absent). */
	int (*ref_cas)(struct vs_backend *b, const char *name, const struct vs_oid *target,
		       const struct vs_oid *expected);
	/** Delete ref @p name iff it holds @p expected (NULL: whatever it holds). */
	int (*ref_delete)(struct vs_backend *b, const char *name, const struct vs_oid *expected);
	/** Every ref whose name starts with @p prefix, sorted by name. */
	int (*ref_list)(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload);

	/**
	 * Read a store setting: "format", "shallow" (the retention boundary, hex
	 * ids one per line; the git backend keeps it in git's shallow file).
	 * VS_ENOENT if unset (optional).
	 */
	int (*config_get)(struct vs_backend *b, const char *key, struct vs_buf *out);
	/** Write a store setting (optional). */
	int (*config_set)(struct vs_backend *b, const char *key, const char *value);

	/**
	 * The id object @p from was converted to in another format (optional:
	 * stores that convert to and from git remotes keep this map). VS_ENOENT
	 * if unknown.
	 */
	int (*idmap_get)(struct vs_backend *b, const struct vs_oid *from, struct vs_oid *to);
	/** Remember that @p from converts to @p to (inside the open batch, if any). */
	int (*idmap_put)(struct vs_backend *b, const struct vs_oid *from, const struct vs_oid *to);

	/** Close and free. Mandatory. */
	void (*free)(struct vs_backend *b);

	/* Version 3 (a version-2 table ends above: these are never read there). */

	/**
	 * obj_write for backends that store objects as differences (optional;
	 * then obj_base is required). @p base (NULL: none) is an object @p data
	 * was edited from, the previous version of a tree node: if it is stored
	 * the backend may keep the object as a difference from it. An object
	 * already stored as a difference from another object is stored again,
	 * whole, so that its old base may go. The core gives
	 * bases for trees only, and while a garbage collection runs only bases
	 * that collection keeps; the collection stores with no base what it
	 * keeps without its base.
	 */
	int (*obj_write_based)(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			       const void *data, size_t len, const struct vs_oid *base);
	/**
	 * 1 with the base whose content stored object @p id is kept as a
	 * difference from, 0 when it is stored whole (optional; required with
	 * obj_write_based). VS_ENOENT if @p id is absent.
	 */
	int (*obj_base)(struct vs_backend *b, const struct vs_oid *id, struct vs_oid *base);
	/**
	 * The type and content size of stored object @p id, without reading it
	 * whole (optional: garbage collection counts what it deletes with it,
	 * else with obj_read). VS_ENOENT if absent.
	 */
	int (*obj_stat)(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			uint64_t *size);
};

/** Operation counters kept by the core's dispatch (for benchmarks and tests). */
struct vs_backend_stats {
	uint64_t obj_reads, obj_writes, obj_exists, batches, ref_reads, ref_updates;
};

struct vs_gc_state;

/** The base every backend embeds first. */
struct vs_backend {
	const struct vs_backend_ops *ops; /**< read-only table shared by instances */
	const char *default_format;       /**< format for a new store: "vs" (lmdb), "git" */
	bool readonly;                    /**< opened with VS_REPO_READONLY */
	struct vs_backend_stats stats;    /**< maintained by the core, not the backend */
	struct vs_gc_state *gc;           /**< the core's retention state (boundary, collection
					       in progress); backends leave it NULL */
};

/** Open an in-memory backend (empty). @return 0, VS_ENOMEM. */
VS_EXTERN int vs_backend_mem_open(struct vs_backend **out, const struct vs_repo_opts *opts);

/**
 * Open an LMDB environment at directory @p path (created if missing). Handles
 * on one path in one process share the environment. Settings readable with
 * config_get: "format", "stat.bytes_used" (pages in use x page size, a
 * decimal string), "stat.map_size".
 * @return 0, VS_ENOENT, VS_EBUSY (the path is open read-only in this process
 * and a writer asks for it), VS_EBACKEND.
 */
VS_EXTERN int vs_backend_lmdb_open(struct vs_backend **out, const char *path,
				   const struct vs_repo_opts *opts);

/**
 * Open a git repository at @p path (created bare if missing).
 * @return 0, VS_ENOENT, VS_EINVAL (a format other than git), VS_EBACKEND.
 */
VS_EXTERN int vs_backend_git_open(struct vs_backend **out, const char *path,
				  const struct vs_repo_opts *opts);

/** Opens a backend for a URI's remainder (after "scheme:"). */
typedef int vs_backend_open_fn(struct vs_backend **out, const char *path,
			       const struct vs_repo_opts *opts);

/** Make vs_repo_open() accept "@p scheme:..." URIs. @return 0, VS_EEXIST, VS_EINVAL. */
VS_EXTERN int vs_backend_register(const char *scheme, vs_backend_open_fn *open);

/**
 * Open a repo on an already open backend, which the repo then owns (it is
 * freed even when this fails). @return 0, VS_EINVAL (version or format).
 */
VS_EXTERN int vs_repo_open_backend(struct vs_repo **out, struct vs_backend *b,
				   const struct vs_repo_opts *opts);

/** The repo's backend. Borrowed. */
VS_EXTERN struct vs_backend *vs_repo_backend(struct vs_repo *repo);

#endif
