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

struct entry {
	uint32_t name_off;     /* into the node's names */
	uint32_t namelen;
	unsigned int mode;     /* git mode */
	bool has_id;           /* id below is valid */
	struct vs_oid id;
	struct vs_tree *tree;  /* subtree not stored yet (strong), or NULL */
	struct vs_blob *blob;  /* value not stored yet (strong), or NULL */
};

struct vs_tree {
	size_t refs;
	struct vs_repo *repo;
	bool has_id;  /* id is valid */
	bool stored;  /* the node is in the backend (loaded from it or written) */
	struct vs_oid id;
	size_t n;
	struct entry *e;
	char *names;
	size_t names_len, names_cap;
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

void vs__blob_free(struct vs_blob *b);
int vs__blob_id(struct vs_oid *out, struct vs_repo *repo, const struct vs_blob *b);

#endif
