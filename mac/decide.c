/* SPDX-License-Identifier: MIT */
/*
 * Pure decisions (FLASK's security server), no I/O and no state: the
 * operations a (subject label, object label) pair may do, split by the
 * condition under which the allow rules grant them, and the answer for one
 * request given the requester's domid and the object's bound domid. Also
 * the policy's domain labelling and the names of operations and modes.
 */
#include "mac_int.h"

#include <string.h>

#include <vstore/errors.h>

static const char *const op_names[MAC_OP_COUNT] = {
    [MAC_OP_READ] = "read",	  [MAC_OP_WRITE] = "write",	[MAC_OP_CREATE] = "create",
    [MAC_OP_REMOVE] = "remove",	  [MAC_OP_LIST] = "list",	[MAC_OP_WATCH] = "watch",
    [MAC_OP_SETPERM] = "setperm", [MAC_OP_RELABEL] = "relabel", [MAC_OP_INTRODUCE] = "introduce",
    [MAC_OP_RELEASE] = "release", [MAC_OP_CONTROL] = "control",
};

const char *mac_op_name(enum mac_op op)
{
	return (unsigned int)op < MAC_OP_COUNT ? op_names[op] : "?";
}

int mac_op_from_name(const char *name)
{
	for (int i = 0; i < MAC_OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return vs_error_set(VS_EINVAL, "unknown operation '%.32s'", name);
}

const char *mac_mode_name(enum mac_mode mode)
{
	return mode == MAC_MODE_PERMISSIVE ? "permissive" : "enforcing";
}

int mac_mode_from_name(const char *name)
{
	if (strcmp(name, "enforcing") == 0)
		return MAC_MODE_ENFORCING;
	if (strcmp(name, "permissive") == 0)
		return MAC_MODE_PERMISSIVE;
	return vs_error_set(VS_EINVAL, "unknown MAC mode '%.32s' (enforcing or permissive)", name);
}

void mac__vec_compute(const struct mac_policy *p, uint32_t stype, uint32_t ttype,
		      struct mac_vec *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->nallow; i++) {
		const struct mac_rule *r = &p->allow[i];

		if (mac__bit(r->subj, stype) && mac__bit(r->obj, ttype))
			out->ops[r->cond] |= r->ops;
	}
}

bool mac__vec_allows(const struct mac_vec *v, enum mac_op op, uint32_t domid, uint32_t bound,
		     mac_serves_fn *serves, void *payload)
{
	uint32_t bit = 1u << op;

	if (v->ops[MAC_COND_ANY] & bit)
		return true;
	if (bound == MAC_UNBOUND) /* the conditions relate the requester to a bound domain */
		return false;
	if ((v->ops[MAC_COND_SELF] & bit) && bound == domid)
		return true;
	/* The pairing oracle walks the store: ask it only when a rule needs it. */
	if ((v->ops[MAC_COND_SERVES] & bit) && serves && serves(payload, domid, bound))
		return true;
	if ((v->ops[MAC_COND_SERVED] & bit) && serves && serves(payload, bound, domid))
		return true;
	return false;
}

bool mac_policy_decide(const struct mac_policy *p, const char *slabel, unsigned int domid,
		       enum mac_op op, const char *tlabel, mac_serves_fn *serves, void *payload)
{
	uint32_t stype, sbound, ttype, tbound;
	struct mac_vec v;

	if ((unsigned int)op >= MAC_OP_COUNT)
		return false;
	mac__label_parse(&p->labels, slabel, &stype, &sbound);
	mac__label_parse(&p->labels, tlabel, &ttype, &tbound);
	mac__vec_compute(p, stype, ttype, &v);
	return mac__vec_allows(&v, op, domid, tbound, serves, payload);
}

uint32_t mac__policy_domain_type(const struct mac_policy *p, uint32_t domid, const char *name)
{
	size_t lo = 0, hi = p->ndomids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->domids[mid].domid == domid)
			return p->domids[mid].label;
		if (p->domids[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; name && i < p->nnames; i++)
		if (mac__glob_match(p->names[i].glob, name))
			return p->names[i].label;
	return p->default_label;
}

const char *mac_policy_domain_label(const struct mac_policy *p, unsigned int domid,
				    const char *name)
{
	return p->labels.names[mac__policy_domain_type(p, domid, name)];
}
