/* SPDX-License-Identifier: MIT */
/*
 * A set of object ids of one type, for garbage collection's marks: open
 * addressing with the raw id bytes packed back to back and a bitmap of used
 * slots, ~36 bytes per SHA-1 id (vs_oidmap needs ~100), no deletion. Ids are
 * uniform hashes, so their first bytes are the hash. Growing moves the old
 * table a few slots per insertion, so no insertion pays for rehashing a
 * million ids at once (a GC step must stay short).
 */
#ifndef VSTORE_IDSET_H
#define VSTORE_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vstore/oid.h"

/* One open-addressing table. */
struct vs_idtab {
	unsigned char *keys; /* cap * isz bytes */
	uint64_t *used;      /* one bit per slot */
	size_t cap;          /* power of two, or 0 */
};

struct vs_idset {
	struct vs_idtab now;  /* where ids are added */
	struct vs_idtab old;  /* being moved into now while old.cap != 0 */
	size_t moved;         /* slots of old already moved */
	size_t count;         /* ids in both tables */
	size_t isz;           /* bytes of an id */
	unsigned char type;   /* enum vs_oid_type of every member */
};

/* An empty set of ids of @type. */
void vs__idset_init(struct vs_idset *s, enum vs_oid_type type);
/* True when @id is a member (an id of another type never is). */
bool vs__idset_has(const struct vs_idset *s, const struct vs_oid *id);
/* Add @id: 1 when added, 0 when already there, VS_ENOMEM, or VS_EINVAL for
 * an id of another type. */
int vs__idset_add(struct vs_idset *s, const struct vs_oid *id);
/* Free the memory; the set is empty afterwards. */
void vs__idset_release(struct vs_idset *s);

#endif
