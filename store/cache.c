/* SPDX-License-Identifier: MIT */
/*
 * A bounded cache keyed by object id, in two generations: lookups that hit
 * the cold generation move the entry to the hot one; when the hot one
 * reaches its budget, the cold one is dropped and the hot one turns cold.
 * Cheap (no list to maintain on every hit), bounded by twice the budget,
 * and close to LRU. Trees are counted by entries, values by bytes.
 */
#include "store_int.h"

void *vs__cache_lookup(struct vs__cache *c, const struct vs_oid *id)
{
	void *v = vs__oidmap_get(&c->gen[0], id);
	size_t cost;

	if (v || !(v = vs__oidmap_get(&c->gen[1], id)))
		return v;
	/* Promote: take it out of the cold generation first, so a rotation
	 * triggered by the insert cannot release it. */
	vs__oidmap_del(&c->gen[1], id);
	cost = c->cost ? c->cost(v) : 1;
	if (vs__cache_insert(c, id, v, cost) < 0)
		return NULL; /* released by the failed insert; a miss costs a reload */
	return v;
}

int vs__cache_insert(struct vs__cache *c, const struct vs_oid *id, void *value, size_t cost)
{
	void *old = NULL;
	int err;

	if (vs__oidmap_has(&c->gen[0], id)) {
		c->release(value);
		return 0;
	}
	if (c->used + cost > c->max && c->gen[0].count) {
		vs__oidmap_foreach(&c->gen[1], slot) c->release(slot->value);
		vs__oidmap_dispose(&c->gen[1]);
		c->gen[1] = c->gen[0];
		memset(&c->gen[0], 0, sizeof(c->gen[0]));
		c->used = 0;
	}
	if ((err = vs__oidmap_put(&c->gen[0], id, value, &old)) < 0) {
		c->release(value);
		return err;
	}
	assert(!old);
	c->used += cost;
	return 0;
}

void vs__cache_dispose(struct vs__cache *c)
{
	for (int g = 0; g < 2; g++) {
		vs__oidmap_foreach(&c->gen[g], slot) c->release(slot->value);
		vs__oidmap_dispose(&c->gen[g]);
	}
	c->used = 0;
}
