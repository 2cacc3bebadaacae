/* SPDX-License-Identifier: MIT */
#include "store_int.h"

static size_t hash(const struct vs_oid *k)
{
	size_t h;
	memcpy(&h, k->id, sizeof(h));
	return h;
}

static size_t find(const struct vs_oidmap *m, const struct vs_oid *key)
{
	size_t mask = m->cap - 1, i = hash(key) & mask;
	while (m->slots[i].used && !vs_oid_equal(&m->slots[i].key, key))
		i = (i + 1) & mask;
	return i;
}

void *vs__oidmap_get(const struct vs_oidmap *m, const struct vs_oid *key)
{
	if (!m->count)
		return NULL;
	size_t i = find(m, key);
	return m->slots[i].used ? m->slots[i].value : NULL;
}

bool vs__oidmap_has(const struct vs_oidmap *m, const struct vs_oid *key)
{
	return m->count && m->slots[find(m, key)].used;
}

static int grow(struct vs_oidmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct vs_oidmap_slot *old = m->slots, *s = vs__calloc(ncap, sizeof(*s));
	size_t ocap = m->cap;

	if (!s)
		return vs__enomem();
	m->slots = s;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			m->slots[find(m, &old[i].key)] = old[i];
	vs_free(old);
	return 0;
}

int vs__oidmap_put(struct vs_oidmap *m, const struct vs_oid *key, void *value, void **old)
{
	int err;
	if ((m->count + 1) * 4 > m->cap * 3 && (err = grow(m)) < 0)
		return err;
	size_t i = find(m, key);
	if (old)
		*old = m->slots[i].used ? m->slots[i].value : NULL;
	if (!m->slots[i].used) {
		m->slots[i].used = true;
		m->slots[i].key = *key;
		m->count++;
	}
	m->slots[i].value = value;
	return 0;
}

void *vs__oidmap_del(struct vs_oidmap *m, const struct vs_oid *key)
{
	if (!m->count)
		return NULL;
	size_t mask = m->cap - 1, i = find(m, key);
	if (!m->slots[i].used)
		return NULL;
	void *value = m->slots[i].value;
	m->slots[i].used = false;
	m->count--;
	/* Backward-shift the cluster after i so lookups never stop early. */
	for (size_t j = (i + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
		size_t home = hash(&m->slots[j].key) & mask;
		bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (between)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].used = false;
		i = j;
	}
	return value;
}

void vs__oidmap_dispose(struct vs_oidmap *m)
{
	vs_free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}
