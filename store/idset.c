/* SPDX-License-Identifier: MIT */
/*
 * The id set of idset.h: linear probing over packed keys; grown at 3/4 load.
 */
#include "idset.h"

#include "store_int.h"

static size_t slot_of(const struct vs_idset *s, const unsigned char *raw)
{
	uint64_t h;
	memcpy(&h, raw, sizeof(h));
	return (size_t)h & (s->cap - 1);
}

static bool slot_used(const struct vs_idset *s, size_t i)
{
	return s->used[i / 64] >> (i % 64) & 1;
}

/* The slot holding @raw, or the empty slot where it would go. */
static size_t probe(const struct vs_idset *s, const unsigned char *raw)
{
	size_t i = slot_of(s, raw);
	while (slot_used(s, i) && memcmp(s->keys + i * s->isz, raw, s->isz))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void put(struct vs_idset *s, size_t i, const unsigned char *raw)
{
	memcpy(s->keys + i * s->isz, raw, s->isz);
	s->used[i / 64] |= (uint64_t)1 << (i % 64);
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
	return slot_used(s, probe(s, id->id));
}

static int grow(struct vs_idset *s)
{
	struct vs_idset n = *s;
	n.cap = s->cap ? s->cap * 2 : 1024;
	n.keys = vs__malloc(n.cap * n.isz);
	n.used = vs__calloc(n.cap / 64, sizeof(*n.used));
	if (!n.keys || !n.used) {
		vs_free(n.keys);
		vs_free(n.used);
		return vs__enomem();
	}
	for (size_t i = 0; i < s->cap; i++)
		if (slot_used(s, i))
			put(&n, probe(&n, s->keys + i * s->isz), s->keys + i * s->isz);
	vs_free(s->keys);
	vs_free(s->used);
	*s = n;
	return 0;
}

int vs__idset_add(struct vs_idset *s, const struct vs_oid *id)
{
	size_t i;
	int err;

	if (id->type != s->type)
		return vs_error_set(VS_EINVAL, "an id of type %u in a set of type %u", id->type,
				    s->type);
	if ((s->count + 1) * 4 > s->cap * 3 && (err = grow(s)) < 0)
		return err;
	i = probe(s, id->id);
	if (slot_used(s, i))
		return 0;
	put(s, i, id->id);
	s->count++;
	return 1;
}

void vs__idset_release(struct vs_idset *s)
{
	vs_free(s->keys);
	vs_free(s->used);
	*s = (struct vs_idset){ .isz = s->isz, .type = s->type };
}
