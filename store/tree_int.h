/* SPDX-License-Identifier: MIT */
/*
 * The in-memory tree node, shared by tree.c (reading and updating) and
 * tree_write.c (ids and storing).
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
 * One allocation holds the node, then e[n], the names and ids[n], so a
 * lookup walks contiguous memory.
 */
struct vs_tree {
	size_t refs;
	struct vs_repo *repo;
	bool has_id;  /* id is valid */
	bool stored;  /* the node is in the backend (loaded from it or written) */
	struct vs_oid id;
	size_t n;
	struct entry *e;      /* sorted by name */
	struct vs_oid *ids;   /* ids[i] is entry i's id when e[i].has_id */
	char *names;          /* NUL-terminated names, back to back */
	size_t names_len;     /* bytes used in names */
	size_t names_cap;     /* bytes allocated for names */
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

void vs__blob_free(struct vs_blob *b);
int vs__blob_id(struct vs_oid *out, struct vs_repo *repo, const struct vs_blob *b);

#endif
