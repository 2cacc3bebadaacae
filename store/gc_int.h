/* SPDX-License-Identifier: MIT */
/*
 * What gc.c (the collection) shares with gc_shallow.c (the boundary): the
 * retention state each backend handle carries in b->gc.
 */
#ifndef VSTORE_GC_INT_H
#define VSTORE_GC_INT_H

#include "store_int.h"
#include "vstore/gc.h"

struct vs_gc_state {
	struct vs_oid *shallow; /* the boundary, sorted */
	size_t nshallow;
	struct vs_buf raw;      /* its text as last read from the store */
	bool loaded;            /* shallow and raw are valid */
	struct vs_gc *cycle;    /* the collection in progress on this handle, or NULL */
};

/* gc.c: make the collection running on @b (if any) keep tree @id, marking
 * it if need be; false when it cannot (deleted or unreadable already). */
bool vs__gc_keep(struct vs_backend *b, const struct vs_oid *id);

/* gc.c: the backend of @gc's repo is closing under it; it may only be freed. */
void vs__gc_orphan(struct vs_gc *gc);

#endif
