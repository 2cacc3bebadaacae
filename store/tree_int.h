/* SPDX-License-Identifier: MIT */
/*
 * The in-memory tree node, shared by the tree files: tree_node.c (nodes,
 * loading, values), tree_inode.c (directories split into bounded nodes),
 * tree.c (the public path API) and tree_write.c (ids and storing).
 *
 * A directory is a flat node (sorted entries) or, in formats that split
 * large trees, a split node ("inode") whose buckets hold flat nodes or
 * deeper split nodes (see struct vs_format_inode for the canonical shape).
 */
#ifndef VSTORE_TREE_INT_H
#define VSTORE_TREE_INT_H

#include "store_int.h"

struct vs_blob {
	size_t refs;
	size_t len;
	unsigned char data[];
};

/* The fields a lookup touches, kept small: two entries per cache line. */
struct entry {
	uint32_t name_off;     /* into the node's names */
	uint32_t namelen;
	uint32_t mode;         /* git mode */
	bool has_id;           /* the node's ids[i] is valid */
	bool blob_stored;      /* blob is a copy of a stored value, not a new one */
	struct vs_tree *tree;  /* the subtree once loaded or built (strong), or NULL */
	struct vs_blob *blob;  /* the value once read or set (strong), or NULL */
};

/*
 * One allocation holds the node, then (flat) e[n], the names and ids[n], or
 * (split) the child pointers and ids, so a lookup walks contiguous memory.
 */
struct vs_tree {
	size_t refs;
	struct vs_repo *repo;
	bool has_id;  /* id is valid */
	bool stored;  /* the node is in the backend (loaded from it or written) */
	bool pending; /* written in the open batch, stored once it commits */
	bool inode;   /* a split node: buckets, no entries */
	bool has_base; /* no id yet: id holds the node this one was edited from,
			  a hint for backends that store differences */
	struct vs_oid id;
	/* flat nodes */
	size_t n;
	struct entry *e;      /* sorted by name */
	struct vs_oid *ids;   /* ids[i] is entry i's id when e[i].has_id */
	char *names;          /* NUL-terminated names, back to back */
	size_t names_len;     /* bytes used in names */
	size_t names_cap;     /* bytes allocated for names */
	/* split nodes */
	unsigned int depth;        /* level in the trie */
	uint64_t count;            /* entries below */
	uint32_t bitmap;           /* present buckets */
	uint32_t child_known;      /* buckets whose child_id is valid */
	struct vs_tree **child;    /* [VS_INODE_FANOUT] loaded or built, or NULL */
	struct vs_oid *child_id;   /* [VS_INODE_FANOUT] */
};

#define VS_TREE_MAX_DEPTH 256

static inline bool vs__is_tree_mode(unsigned int mode)
{
	return mode == 040000;
}

static inline const char *vs__ename(const struct vs_tree *t, const struct entry *e)
{
	return t->names + e->name_off;
}

static inline struct vs_oid *vs__eid(const struct vs_tree *t, const struct entry *e)
{
	return &t->ids[e - t->e];
}

/* tree_node.c */
void vs__blob_free(struct vs_blob *b);
struct vs_blob *vs__blob_new(const void *data, size_t len);
int vs__blob_id(struct vs_oid *out, struct vs_repo *repo, const struct vs_blob *b);
struct vs_tree *vs__node_alloc(struct vs_repo *repo, size_t n, size_t names_cap);
struct vs_tree *vs__inode_alloc(struct vs_repo *repo, unsigned int depth);
uint32_t vs__names_add(struct vs_tree *t, const char *name, size_t len);
int vs__name_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Index of @name in flat node @t, or -1 with *pos (if not NULL) where it would go. */
long vs__flat_find(const struct vs_tree *t, const char *name, size_t len, size_t *pos);
/* Load tree @id (flat or split) through the cache; *out is a new reference. */
int vs__tree_load(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id);
/* The subtree of entry @e of flat node @t, borrowed (kept by @t once loaded). */
int vs__child_borrow(struct vs_tree **out, struct vs_tree *t, struct entry *e);
/*
 * A copy of flat node @t with entry @k replaced (k >= 0), removed (@remove),
 * or a new entry inserted at @pos (k < 0), of mode @mode holding @child or
 * @blob (new references). NULL on allocation failure.
 */
struct vs_tree *vs__node_edit(struct vs_tree *t, long k, size_t pos, const char *name,
			      size_t namelen, bool remove, unsigned int mode,
			      struct vs_tree *child, struct vs_blob *blob);

/* Record that edited copy @c (no id yet) derives from @t: @t's id if @t is
 * stored (or being stored), else what @t itself derives from, if anything. */
static inline void vs__tree_derive(struct vs_tree *c, const struct vs_tree *t)
{
	c->has_base = (t->has_id && (t->stored || t->pending)) || t->has_base;
	if (c->has_base)
		c->id = t->id;
}

/* One entry of a directory: a flat node and an index in it, both borrowed. */
struct vs__dent {
	struct vs_tree *leaf;
	size_t i;
};

/* A flat node holding the entries @v (sorted by name): copies them. */
struct vs_tree *vs__flat_from(struct vs_repo *repo, const struct vs__dent *v, size_t n);

/* An entry name with its hash, computed once when a split node needs it. */
struct vs__nameh {
	const char *name;
	size_t len;
	bool have;
	unsigned char h[32];
};

/* tree_inode.c */
/* Entries in directory @dir (a flat node's n, a split node's count). */
uint64_t vs__dir_count(const struct vs_tree *dir);
/* Find @nh in directory @dir: *leaf and *k (-1: absent; then *leaf may be NULL). */
int vs__dir_find(struct vs_tree **leaf, long *k, struct vs_tree *dir, struct vs__nameh *nh);
/*
 * A copy of directory @dir (at trie depth @depth) with entry @nh set to mode
 * @mode holding @child or @blob, or removed (@remove), kept canonical;
 * *delta is the change in entry count. *out is a new reference (@dir itself
 * when nothing changed).
 */
int vs__dir_put(struct vs_tree **out, int *delta, struct vs_tree *dir, unsigned int depth,
		struct vs__nameh *nh, bool remove, unsigned int mode, struct vs_tree *child,
		struct vs_blob *blob);
/*
 * A directory holding entries @e (sorted by name, unique; children by id,
 * already stored or to be stored), in the format's canonical shape. *out is
 * a new tree; for conversions and bulk loads.
 */
int vs__dir_from_entries(struct vs_tree **out, struct vs_repo *repo,
			 const struct vs_format_entry *e, size_t n);
/* Every entry of @dir in byte order of names; caller frees *out with vs_free(). */
int vs__dir_collect(struct vs__dent **out, size_t *n, struct vs_tree *dir);
/* Called per name whose entries differ between two directories; absent side: leaf NULL. */
typedef int vs__dir_join_fn(void *payload, const struct vs__dent *a, const struct vs__dent *b);
/* The differences of @a and @b (either may be NULL), in byte order of names,
 * skipping subtrees and buckets with equal ids. */
int vs__dir_join(struct vs_tree *a, struct vs_tree *b, vs__dir_join_fn *cb, void *payload);

#endif
