/* SPDX-License-Identifier: MIT */
/*
 * The access vector cache: (subject type, object type) -> the operations the
 * rules grant that pair, per condition (struct mac_vec), so a request costs
 * one hash probe instead of a walk over the allow rules. One vector answers
 * every operation of the pair, so the cache holds "label pair x operation"
 * decisions. Direct-mapped; an entry is valid only while its sequence
 * number equals the cache's, so a flush (policy reload) is one increment.
 * The conditions (self, pairing) are applied per request after the lookup:
 * they depend on domids, not on labels.
 */
#include "mac_int.h"

#include <string.h>

void mac__avc_init(struct mac_avc *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = 1;
}

void mac__avc_flush(struct mac_avc *c)
{
	c->seq++;
}

static uint32_t avc_slot(uint32_t stype, uint32_t ttype)
{
	uint32_t h = stype * 0x9E3779B1u ^ (ttype + 0x7F4A7C15u) * 0x85EBCA77u;

	return (h ^ (h >> 15)) & (MAC_AVC_SLOTS - 1);
}

const struct mac_vec *mac__avc_lookup(struct mac_avc *c, const struct mac_policy *p, uint32_t stype,
				      uint32_t ttype)
{
	struct mac_avc_entry *e = &c->slot[avc_slot(stype, ttype)];

	if (e->seq == c->seq && e->stype == stype && e->ttype == ttype) {
		c->hits++;
		return &e->vec;
	}
	c->misses++;
	mac__vec_compute(p, stype, ttype, &e->vec);
	e->stype = stype;
	e->ttype = ttype;
	e->seq = c->seq;
	return &e->vec;
}
