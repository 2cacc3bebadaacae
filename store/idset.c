/* SPDX-License-Identifier: MIT */
/*
 * The id set of idset.h: linear probing over packed keys. At 3/4 load a
 * table twice as large takes the new ids while each insertion moves MOVE_STEP
 * slots of the old one; the old table has emptied long before the new one
 * reaches 3/4 (it holds 3/8 then), and lookups meanwhile probe both.
 */
#include "idset.h"

#include "store_int.h"

#define MOVE_STEP 16

static bool slot_used(const struct vs_idtab *t, size_t i)
{
	return t->used[i / 64] >> (i % 64) & 1;
}

/* The slot of @t holding @raw, or the empty slot where it would go. */
static size_t probe(const struct vs_idtab *t, size_t isz, const unsigned char *raw)
{
	uint64_t h;
	size_t i;

	memcpy(&h, raw, sizeof(h));
	for (i = (size_t)h & (t->cap - 1); slot_used(t, i) && memcmp(t->keys + i * isz, raw, isz);)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static bool tab_has(const struct vs_idtab *t, size_t isz, const unsigned char *raw)
{
	return t->cap && slot_used(t, probe(t, isz, raw));
}

static void put(struct vs_idtab *t, size_t isz, size_t i, const unsigned char *raw)
{
	memcpy(t->keys + i * isz, raw, isz);
	t->used[i / 64] |= (uint64_t)1 << (i % 64);
}

static void tab_free(struct vs_idtab *t)
{
	vs_free(t->keys);
	vs_free(t->used);
	*t = (struct vs_idtab){ 0 };
}

void vs__idset_init(struct vs_idset *s, enum vs_oid_type type)
{
	*s = (struct vs_idset){ .isz = vs_oid_size(type), .type = (unsigned char)type };
	assert(s->isz >= sizeof(uint64_t));
}

bool vs__idset_has(const struct vs_idset *s, const struct vs_oid *id)
{
	if (!s->count || id->type != s->type)
		return false;
	return tab_has(&s->now, s->isz, id->id) || tab_has(&s->old, s->isz, id->id);
}

/* Move a few slots of the old table into the new one. */
static void move_some(struct vs_idset *s)
{
	for (size_t n = 0; n < MOVE_STEP && s->moved < s->old.cap; s->moved++) {
		const unsigned char *raw = s->old.keys + s->moved * s->isz;
		if (!slot_used(&s->old, s->moved))
			continue;
		put(&s->now, s->isz, probe(&s->now, s->isz, raw), raw);
		n++;
	}
	if (s->moved == s->old.cap)
		tab_free(&s->old);
}

/* Start moving into a table twice as large (the first table needs no move). */
static int grow(struct vs_idset *s)
{
	struct vs_idtab t = { .cap = s->now.cap ? s->now.cap * 2 : 1024 };

	assert(!s->old.cap);
	t.keys = vs__malloc(t.cap * s->isz);
	t.used = vs__calloc(t.cap / 64, sizeof(*t.used));
	if (!t.keys || !t.used) {
		tab_free(&t);
		return vs__enomem();
	}
	s->old = s->now;
	s->now = t;
	s->moved = 0;
	if (!s->old.cap)
		tab_free(&s->old);
	return 0;
}

int vs__idset_add(struct vs_idset *s, const struct vs_oid *id)
{
	size_t i;
	int err;

	if (id->type != s->type)
		return vs_error_set(VS_EINVAL, "an id of type %u in a set of type %u", id->type,
				    s->type);
	if (s->old.cap)
		move_some(s);
	if (tab_has(&s->old, s->isz, id->id))
		return 0;
	if (!s->old.cap && (s->count + 1) * 4 > s->now.cap * 3 && (err = grow(s)) < 0)
		return err;
	i = probe(&s->now, s->isz, id->id);
	if (slot_used(&s->now, i))
		return 0;
	put(&s->now, s->isz, i, id->id);
	s->count++;
	return 1;
}

void vs__idset_release(struct vs_idset *s)
{
	tab_free(&s->now);
	tab_free(&s->old);
	*s = (struct vs_idset){ .isz = s->isz, .type = s->type };
}
