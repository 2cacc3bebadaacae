/* SPDX-License-Identifier: MIT */
/*
 * The object format interface: how blobs, trees and commits become bytes and
 * ids. "git" is git's format with SHA-1 ids; a format may store one logical
 * tree as several objects (the "vs" format's bounded nodes), which is why
 * trees go through tree_load/tree_store with an object I/O context rather
 * than a single encode/decode pair.
 */
#ifndef VSTORE_SYS_FORMAT_H
#define VSTORE_SYS_FORMAT_H

#include "../buf.h"
#include "../common.h"
#include "../oid.h"
#include "backend.h"

/** One tree entry as the format sees it. */
struct vs_format_entry {
	const char *name; /**< not NUL-terminated when coming from a parser */
	size_t namelen;   /**< bytes in name */
	unsigned int mode; /**< git mode: 0100644, 0100755, 0120000, 040000, 0160000 */
	struct vs_oid id;  /**< the child's id */
};

/** Where a format reads and writes objects (the backend, or only a hasher). */
struct vs_object_io {
	void *ctx;
	/** Read object @p id; VS_ENOENT if absent. */
	int (*read)(void *ctx, const struct vs_oid *id, enum vs_otype *type, struct vs_buf *out);
	/** Store an object under the id the format computed (may only record the id). */
	int (*write)(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
		     size_t len);
};

/** A commit's fields as the format stores them. */
struct vs_format_commit {
	struct vs_oid tree;
	struct vs_oid *parents; /**< owned by whoever filled the struct */
	size_t nparents;
	char *author;           /**< "Name <email> 1700000000 +0100" */
	char *committer;        /**< same form */
	char *extra_headers;    /**< headers git may carry (encoding, gpgsig...), raw, or NULL */
	char *message;          /**< everything after the blank line */
};

#define VS_INODE_FANOUT 32 /* buckets per split node: 5 bits of the name hash per level */

/**
 * A split tree node (formats with max_flat > 0). A tree with more than
 * max_flat entries is a trie keyed by the hash of entry names: the node at
 * depth d puts each entry in bucket (5 bits of the name hash at 5d), and each
 * bucket holds the entries that fall in it as a flat tree when there are at
 * most max_flat of them, else as a node of depth d + 1. The shape depends only
 * on the set of entries, so the same entries always give the same id.
 */
struct vs_format_inode {
	unsigned int depth;                   /**< level in the trie, 0 at the top */
	uint64_t count;                       /**< entries below this node */
	uint32_t bitmap;                      /**< bucket i is present iff bit i is set */
	struct vs_oid child[VS_INODE_FANOUT]; /**< per bucket: a flat tree or a node */
};

/** Called per entry by tree_load, in the order stored; non-zero stops. */
typedef int vs_format_entry_fn(void *payload, const struct vs_format_entry *e);

/** Called per object id an object refers to (obj_refs); non-zero stops. */
typedef int vs_format_ref_fn(void *payload, const struct vs_oid *id, enum vs_otype type);

struct vs_format {
	const char *name;           /**< "git" */
	enum vs_oid_type oid_type;  /**< VS_OID_SHA1 */
	size_t max_flat;            /**< trees with more entries are split into nodes; 0: never */

	/** Id of an object of @p type with content @p data. VS_ECORRUPT on a detected collision attack. */
	int (*hash)(struct vs_oid *out, enum vs_otype type, const void *data, size_t len);

	/**
	 * Read tree @p id through @p io and report every entry. If it is a split
	 * node, fill *@p inode instead and return 1 (VS_ECORRUPT when @p inode is
	 * NULL). VS_ECORRUPT if malformed.
	 */
	int (*tree_load)(const struct vs_format *f, struct vs_object_io *io,
			 const struct vs_oid *id, vs_format_entry_fn *cb, void *payload,
			 struct vs_format_inode *inode);
	/**
	 * Encode and write the tree with entries @p e (sorted by name, bytewise,
	 * unique), putting its id in @p out.
	 */
	int (*tree_store)(const struct vs_format *f, struct vs_object_io *io,
			  const struct vs_format_entry *e, size_t n, struct vs_oid *out);

	/** Encode and write a split node (split formats only). */
	int (*inode_store)(const struct vs_format *f, struct vs_object_io *io,
			   const struct vs_format_inode *in, struct vs_oid *out);
	/** The hash of an entry name that picks its buckets (split formats only). */
	void (*name_hash)(unsigned char out[32], const char *name, size_t len);

	/**
	 * Report every object an object refers to, parsing it strictly: a
	 * commit's tree and parents, a tree's entries (not gitlinks, which
	 * name commits of other repositories) or the nodes of a split tree.
	 * Reachability (check, copy, gc) walks objects through this alone.
	 */
	int (*obj_refs)(const struct vs_format *f, enum vs_otype type, const void *data,
			size_t len, vs_format_ref_fn *cb, void *payload);

	/** Parse a commit strictly; fills @p out (free with vs_format_commit_dispose()). */
	int (*commit_parse)(struct vs_format_commit *out, const void *data, size_t len);
	/** Encode a commit. */
	int (*commit_write)(struct vs_buf *out, const struct vs_format_commit *c);
};

/** The format named @p name, or NULL. */
VS_EXTERN const struct vs_format *vs_format_find(const char *name);

/** Free the strings and parents of @p c and zero it. */
VS_EXTERN void vs_format_commit_dispose(struct vs_format_commit *c);

#endif
