/* SPDX-License-Identifier: MIT */
/*
 * The security server the daemon holds: the policy in force (swapped whole
 * on reload), the mode, the decision cache, the audit log, and what the
 * daemon told us about domains (names, explicit labels). A domain's label
 * is resolved once per policy and kept in its record; domains without a
 * record are resolved from the policy's rules on each check (a binary
 * search). Records are sorted by domid. Invariant: every explicit label is
 * declared by the policy in force (mac_server_set_policy() refuses others).
 */
#include "mac_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

struct mac_dom {
	uint32_t domid;
	char *name;    /* /local/domain/N/name, or NULL; owned */
	char *label;   /* explicit label, or NULL; owned */
	uint32_t type; /* the resolved label, valid when seq matches the server's */
	uint64_t seq;
};

struct mac_server {
	struct mac_policy *policy; /* a reference of ours */
	uint64_t seq;		   /* policies installed; 0 never matches a record */
	enum mac_mode mode;
	bool audit_grants;
	mac_serves_fn *serves;
	void *serves_payload;
	struct mac_avc avc;
	struct mac_audit *audit;
	struct mac_dom *doms; /* sorted by domid */
	size_t ndoms, doms_cap;
	uint64_t checks, denials;
};

int mac_server_new(struct mac_server **out, struct mac_policy *policy,
		   const struct mac_server_opts *opts)
{
	static const struct mac_server_opts defaults = MAC_SERVER_OPTS_INIT;
	struct mac_server *s;
	int err;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != MAC_SERVER_OPTS_VERSION)
		return vs_error_set(VS_EINVAL, "mac_server_opts version %u, expected %u",
				    opts->version, MAC_SERVER_OPTS_VERSION);
	if (!policy)
		return vs_error_set(VS_EINVAL, "a security server needs a policy");
	if (!(s = calloc(1, sizeof(*s))))
		return vs_error_set(VS_ENOMEM, "out of memory for the security server");
	if ((err = mac__audit_new(&s->audit, opts)) < 0) {
		free(s);
		return err;
	}
	s->policy = mac_policy_dup(policy);
	s->seq = 1;
	s->mode = opts->mode;
	s->audit_grants = opts->audit_grants;
	s->serves = opts->serves;
	s->serves_payload = opts->serves_payload;
	mac__avc_init(&s->avc);
	*out = s;
	return 0;
}

void mac_server_free(struct mac_server *s)
{
	if (!s)
		return;
	mac__audit_flush(s->audit);
	mac__audit_free(s->audit);
	for (size_t i = 0; i < s->ndoms; i++) {
		free(s->doms[i].name);
		free(s->doms[i].label);
	}
	free(s->doms);
	mac_policy_free(s->policy);
	free(s);
}

int mac_server_set_policy(struct mac_server *s, struct mac_policy *policy)
{
	if (!policy)
		return vs_error_set(VS_EINVAL, "no policy");
	for (size_t i = 0; i < s->ndoms; i++) {
		const char *l = s->doms[i].label;

		if (l && mac__labels_find(&policy->labels, l, strlen(l)) < 0)
			return vs_error_set(VS_EINVAL,
					    "domain %u has the label '%s', which the new policy "
					    "does not declare; keeping the old policy",
					    s->doms[i].domid, l);
	}
	struct mac_policy *old = s->policy;

	s->policy = mac_policy_dup(policy); /* before the free: @policy may be the same */
	mac_policy_free(old);
	s->seq++;
	mac__avc_flush(&s->avc);
	return 0;
}

const struct mac_policy *mac_server_policy(const struct mac_server *s)
{
	return s->policy;
}

void mac_server_set_mode(struct mac_server *s, enum mac_mode mode)
{
	s->mode = mode;
}

enum mac_mode mac_server_mode(const struct mac_server *s)
{
	return s->mode;
}

void mac_server_set_audit_grants(struct mac_server *s, bool on)
{
	s->audit_grants = on;
}

/* The index of @domid's record, or where it would go (*found false). */
static size_t dom_index(const struct mac_server *s, uint32_t domid, bool *found)
{
	size_t lo = 0, hi = s->ndoms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->doms[mid].domid == domid) {
			*found = true;
			return mid;
		}
		if (s->doms[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* @domid's record, created when missing. */
static struct mac_dom *dom_get(struct mac_server *s, uint32_t domid)
{
	bool found;
	size_t i = dom_index(s, domid, &found);

	if (found)
		return &s->doms[i];
	if (s->ndoms == s->doms_cap) {
		size_t cap = s->doms_cap ? 2 * s->doms_cap : 16;
		struct mac_dom *v = realloc(s->doms, cap * sizeof(*v));

		if (!v) {
			vs_error_set(VS_ENOMEM, "out of memory for domain labels");
			return NULL;
		}
		s->doms = v;
		s->doms_cap = cap;
	}
	memmove(&s->doms[i + 1], &s->doms[i], (s->ndoms - i) * sizeof(*s->doms));
	s->ndoms++;
	s->doms[i] = (struct mac_dom){.domid = domid};
	return &s->doms[i];
}

/* Drop @d's record when it no longer says anything. */
static void dom_trim(struct mac_server *s, struct mac_dom *d)
{
	size_t i = (size_t)(d - s->doms);

	if (d->name || d->label)
		return;
	memmove(&s->doms[i], &s->doms[i + 1], (s->ndoms - i - 1) * sizeof(*s->doms));
	s->ndoms--;
}

/* Replace @domid's explicit label (@is_label) or name by a copy of @value (NULL clears it). */
static int dom_set(struct mac_server *s, uint32_t domid, bool is_label, const char *value)
{
	struct mac_dom *d;
	char *copy = NULL;

	if (domid > MAC_DOMID_MAX)
		return vs_error_set(VS_EINVAL, "domid %u out of range", domid);
	if (value && !(copy = strdup(value)))
		return vs_error_set(VS_ENOMEM, "out of memory for a domain label");
	if (!(d = dom_get(s, domid))) {
		free(copy);
		return VS_ENOMEM;
	}
	char **slot = is_label ? &d->label : &d->name;
	free(*slot);
	*slot = copy;
	d->seq = 0; /* resolve again */
	dom_trim(s, d);
	return 0;
}

int mac_domain_set_name(struct mac_server *s, unsigned int domid, const char *name)
{
	return dom_set(s, domid, false, name);
}

int mac_domain_set_label(struct mac_server *s, unsigned int domid, const char *label)
{
	if (label && (!mac__name_ok(label, strlen(label)) ||
		      mac__labels_find(&s->policy->labels, label, strlen(label)) < 0))
		return vs_error_set(VS_EINVAL, "'%.64s' is not a label the policy declares", label);
	return dom_set(s, domid, true, label);
}

void mac_domain_forget(struct mac_server *s, unsigned int domid)
{
	bool found;
	size_t i = dom_index(s, domid, &found);

	if (!found)
		return;
	free(s->doms[i].name);
	free(s->doms[i].label);
	s->doms[i].name = s->doms[i].label = NULL;
	dom_trim(s, &s->doms[i]);
}

static uint32_t domain_type(struct mac_server *s, uint32_t domid)
{
	bool found;
	size_t i = dom_index(s, domid, &found);

	if (!found)
		return mac__policy_domain_type(s->policy, domid, NULL);
	struct mac_dom *d = &s->doms[i];
	if (d->seq != s->seq) {
		int64_t t = d->label
				? mac__labels_find(&s->policy->labels, d->label, strlen(d->label))
				: -1;

		/* t < 0 with a label cannot happen: set_policy keeps explicit labels declared. */
		d->type = t >= 0 ? (uint32_t)t : mac__policy_domain_type(s->policy, domid, d->name);
		d->seq = s->seq;
	}
	return d->type;
}

const char *mac_domain_label(struct mac_server *s, unsigned int domid)
{
	return s->policy->labels.names[domain_type(s, domid)];
}

void mac_node_label(struct mac_server *s, char *out, const char *path, const char *parent_label)
{
	mac_policy_label_node(s->policy, out, path, parent_label);
}

/* Copy @src into @dst (@n bytes), '?' for anything that would break the line's format. */
static void sanitize(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < n; i++)
		dst[i] =
		    (unsigned char)src[i] < 0x21 || (unsigned char)src[i] > 0x7e ? '?' : src[i];
	dst[i] = '\0';
}

static void audit_check(struct mac_server *s, bool allowed, uint32_t domid, uint32_t stype,
			enum mac_op op, const char *path, const char *tlabel)
{
	char p[3073], t[MAC_LABEL_MAX + 1], line[4608];

	sanitize(p, sizeof(p), path);
	sanitize(t, sizeof(t), tlabel);
	snprintf(line, sizeof(line),
		 "mac: verdict=%s op=%s domid=%u slabel=%s path=%s tlabel=%s mode=%s",
		 allowed ? "granted" : "denied", mac_op_name(op), domid,
		 s->policy->labels.names[stype], p[0] ? p : "-", t[0] ? t : "-",
		 mac_mode_name(s->mode));
	mac__audit_emit(s->audit, line);
}

static int check(struct mac_server *s, uint32_t domid, enum mac_op op, const char *path,
		 const char *tlabel, uint32_t ttype, uint32_t tbound, unsigned int flags)
{
	uint32_t stype = domain_type(s, domid);
	const struct mac_vec *v = mac__avc_lookup(&s->avc, s->policy, stype, ttype);
	bool allowed = mac__vec_allows(v, op, domid, tbound, s->serves, s->serves_payload);

	s->checks++;
	if (!allowed)
		s->denials++;
	if (!(flags & MAC_CHECK_QUIET) && (!allowed || s->audit_grants))
		audit_check(s, allowed, domid, stype, op, path, tlabel);
	if (allowed || s->mode == MAC_MODE_PERMISSIVE)
		return 0;
	if (flags & MAC_CHECK_QUIET)
		return VS_EACCES; /* watch filtering: no message to format */
	return vs_error_set(VS_EACCES, "mac: %s denied to domain %u (%s) on %s (%s)",
			    mac_op_name(op), domid, s->policy->labels.names[stype], path, tlabel);
}

int mac_check(struct mac_server *s, unsigned int domid, enum mac_op op, const char *path,
	      const char *label, unsigned int flags)
{
	char computed[MAC_LABEL_MAX + 1];
	uint32_t ttype, tbound;

	if ((unsigned int)op >= MAC_OP_COUNT || !path)
		return vs_error_set(VS_EINVAL, "mac_check: bad operation %d or no path", (int)op);
	if (!label) {
		mac_policy_label_node(s->policy, computed, path, NULL);
		label = computed;
	}
	mac__label_parse(&s->policy->labels, label, &ttype, &tbound);
	return check(s, domid, op, path, label, ttype, tbound, flags);
}

int mac_check_domain(struct mac_server *s, unsigned int domid, enum mac_op op, unsigned int target,
		     unsigned int flags)
{
	char path[32], label[MAC_LABEL_MAX + 1];
	uint32_t ttype;

	if ((unsigned int)op >= MAC_OP_COUNT)
		return vs_error_set(VS_EINVAL, "mac_check_domain: bad operation %d", (int)op);
	ttype = domain_type(s, target);
	snprintf(path, sizeof(path), "@domain:%u", target);
	mac__label_format(&s->policy->labels, label, ttype,
			  target <= MAC_DOMID_MAX ? target : MAC_UNBOUND);
	return check(s, domid, op, path, label, ttype,
		     target <= MAC_DOMID_MAX ? target : MAC_UNBOUND, flags);
}

void mac_audit_flush(struct mac_server *s)
{
	mac__audit_flush(s->audit);
}

void mac_server_stats(const struct mac_server *s, struct mac_stats *out)
{
	out->policy_seq = s->seq;
	out->checks = s->checks;
	out->denials = s->denials;
	out->cache_hits = s->avc.hits;
	out->cache_misses = s->avc.misses;
	mac__audit_counts(s->audit, &out->audit_lines, &out->audit_suppressed);
}
