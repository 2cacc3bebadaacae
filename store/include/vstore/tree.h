/* SPDX-License-Identifier: MIT */
/*
 * Immutable trees. Every update returns a new tree that shares all untouched
 * subtrees with the old one (only the path from the root is copied). Children
 * and values are loaded from the backend when first needed; a tree keeps what
 * was read through it until it is freed, and the repo keeps bounded caches
 * (vs_repo_opts: cache_trees, cache_value_bytes) shared by all its trees.
 * Paths are "a/b/c" (a leading '/' is allowed); the empty path is the root.
 * Trees are refcounted: vs_tree_dup() adds a reference, vs_tree_free() drops one.
 */
#ifndef VSTORE_TREE_H
#define VSTORE_TREE_H

#include "buf.h"
#include "common.h"
#include "oid.h"

struct vs_repo;
struct vs_tree;

/** What a tree entry holds. */
enum vs_entry_kind {
	VS_ENTRY_BLOB = 1,   /**< a value (git modes 100644, 100755, 120000) */
	VS_ENTRY_TREE = 2,   /**< a subtree (040000) */
	VS_ENTRY_COMMIT = 3, /**< a gitlink (160000), kept as is from git remotes */
};

/** One entry, as vs_tree_stat() and vs_tree_list() report it. */
struct vs_tree_stat {
	enum vs_entry_kind kind; /**< blob or tree */
	unsigned int mode;       /**< git file mode, 0100644 for values */
	size_t size;             /**< value length (blobs) or entry count (trees) */
	struct vs_oid id;        /**< the entry's id (computed if not yet known) */
};

/** Create an empty tree bound to @p repo. Caller frees *out. @return 0, VS_ENOMEM. */
VS_EXTERN int vs_tree_new(struct vs_tree **out, struct vs_repo *repo);

/** Load the tree with id @p id. Caller frees *out. @return 0, VS_ENOENT, VS_ECORRUPT. */
VS_EXTERN int vs_tree_lookup(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id);

/** Add a reference to @p t. @return @p t. */
VS_EXTERN struct vs_tree *vs_tree_dup(struct vs_tree *t);

/** Drop a reference. NULL-safe. */
VS_EXTERN void vs_tree_free(struct vs_tree *t);

/**
 * Read the value at @p path into @p out (replacing its contents).
 * @return 0, VS_ENOENT (no such path), VS_EISDIR (path is a tree).
 */
VS_EXTERN int vs_tree_get(struct vs_buf *out, struct vs_tree *t, const char *path);

/** Describe the entry at @p path (the root for ""). @return 0, VS_ENOENT. */
VS_EXTERN int vs_tree_stat(struct vs_tree_stat *out, struct vs_tree *t, const char *path);

/** The subtree at @p path. Caller frees *out. @return 0, VS_ENOENT, VS_ENOTDIR. */
VS_EXTERN int vs_tree_subtree(struct vs_tree **out, struct vs_tree *t, const char *path);

/**
 * A copy of @p t with @p path set to the value @p data; missing parents are
 * created. Caller frees *out.
 * @return 0, VS_EINVAL (bad path or name), VS_ENOTDIR (a parent is a value),
 * VS_EISDIR (@p path is a tree).
 */
VS_EXTERN int vs_tree_set(struct vs_tree **out, struct vs_tree *t, const char *path,
			  const void *data, size_t len);

/**
 * A copy of @p t with the subtree @p sub grafted at @p path (replacing what
 * was there); an empty @p sub removes the path. Caller frees *out.
 * @return 0, VS_EINVAL, VS_ENOTDIR.
 */
VS_EXTERN int vs_tree_set_tree(struct vs_tree **out, struct vs_tree *t, const char *path,
			       struct vs_tree *sub);

/**
 * A copy of @p t without @p path (a value or a whole subtree). Parents left
 * empty are removed too, as git cannot store empty subtrees. Removing a
 * missing path is not an error: *out is then @p t itself (a new reference).
 * @return 0, VS_EINVAL.
 */
VS_EXTERN int vs_tree_remove(struct vs_tree **out, struct vs_tree *t, const char *path);

/** Called once per entry by vs_tree_list(); return non-zero to stop (returned as is). */
typedef int vs_tree_list_fn(void *payload, const char *name, const struct vs_tree_stat *st);

/**
 * Call @p cb for each entry of the tree at @p path, in byte order of names.
 * @return 0, VS_ENOENT, VS_ENOTDIR, or what @p cb returned.
 */
VS_EXTERN int vs_tree_list(struct vs_tree *t, const char *path, vs_tree_list_fn *cb,
			   void *payload);

/** Called once per value by vs_tree_walk(); @p value is borrowed for the call. */
typedef int vs_tree_walk_fn(void *payload, const char *path, const void *value, size_t len);

/**
 * Call @p cb for every value below @p path, depth first, in byte order.
 * @return 0, VS_ENOENT, or what @p cb returned.
 */
VS_EXTERN int vs_tree_walk(struct vs_tree *t, const char *path, vs_tree_walk_fn *cb,
			   void *payload);

/** Number of entries directly in @p t. */
VS_EXTERN size_t vs_tree_entrycount(struct vs_tree *t);

/**
 * The id @p t has (or will have once committed), computed and remembered;
 * nothing is written. @return 0, VS_ECORRUPT (a hash collision attack).
 */
VS_EXTERN int vs_tree_id(struct vs_oid *out, struct vs_tree *t);

/**
 * Store @p t and everything below it that is not stored yet, in one batch.
 * vs_commit_create() does this itself; call it to keep a tree without a commit.
 * @return 0, VS_EROFS.
 */
VS_EXTERN int vs_tree_write(struct vs_oid *out, struct vs_tree *t);

/**
 * Drop the in-memory copies @p t keeps of what was read or written through
 * it and is stored in the backend (subtrees and values over 64 bytes become
 * ids again, read back through the repo's caches when needed; smaller values
 * stay, as cheap as their ids); what is not stored yet stays. Invisible to reads, it bounds the memory a long-lived tree holds:
 * call it on a root after each commit. Nodes are shared, so other trees
 * holding them get trimmed too. Not from inside a vs_tree_walk(),
 * vs_tree_list() or diff callback on a tree sharing nodes with @p t.
 * NULL-safe.
 */
VS_EXTERN void vs_tree_trim(struct vs_tree *t);

/** True when @p a and @p b hold the same entries (compares ids). */
VS_EXTERN bool vs_tree_equal(struct vs_tree *a, struct vs_tree *b);

/** The repo @p t belongs to. Borrowed. */
VS_EXTERN struct vs_repo *vs_tree_repo(const struct vs_tree *t);

#endif
