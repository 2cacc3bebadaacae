/* SPDX-License-Identifier: MIT */
/*
 * A hash map from object ids to pointers (open addressing, linear probing,
 * tombstone-free deletion by backward shift). Ids are already uniform
 * hashes, so their first bytes are the hash.
 */
#ifndef VSTORE_OIDMAP_H
#define VSTORE_OIDMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "vstore/oid.h"

struct vs_oidmap_slot {
	struct vs_oid key;
	void *value;
	bool used;
};

struct vs_oidmap {
	struct vs_oidmap_slot *slots;
	size_t cap;   /* power of two, or 0 */
	size_t count;
};

/* The value stored for @key, or NULL. */
void *vs__oidmap_get(const struct vs_oidmap *m, const struct vs_oid *key);
/* True when @key is present. */
bool vs__oidmap_has(const struct vs_oidmap *m, const struct vs_oid *key);
/* Insert or replace; *old (if not NULL) gets the replaced value. 0 or VS_ENOMEM. */
int vs__oidmap_put(struct vs_oidmap *m, const struct vs_oid *key, void *value, void **old);
/* Remove @key; returns its value or NULL. */
void *vs__oidmap_del(struct vs_oidmap *m, const struct vs_oid *key);
/* Free the slots (not the values). */
void vs__oidmap_dispose(struct vs_oidmap *m);

#define vs__oidmap_foreach(m, slot)                                                    \
	for (struct vs_oidmap_slot *slot = (m)->slots; slot && slot < (m)->slots + (m)->cap; \
	     slot++)                                                                   \
		if (slot->used)

#endif
