/* SPDX-License-Identifier: MIT */
/*
 * Domains: INTRODUCE, RELEASE, RESUME, IS_DOMAIN_INTRODUCED,
 * GET_DOMAIN_PATH, SET_TARGET, GET/SET_FEATURE, and what happens when a
 * domain goes away: its connections' watches and transactions dropped, the
 * nodes it owns removed (or given to the privileged domain with -K), its
 * entries in other nodes' permissions made inert, @releaseDomain fired. A
 * domain id used again later starts from nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define SERVER_FEATURES                                                                     \
	(XSD_FEATURE_RECONNECTION | XSD_FEATURE_ERROR | XSD_FEATURE_WATCHDEPTH |            \
	 XSD_FEATURE_DOMID_ANY)

struct xsd_domain *xsd__domain(struct xsd_engine *e, unsigned int domid)
{
	if (domid >= XSD_DOMID_COUNT)
		return NULL;
	struct xsd_domain *d = e->dom[domid];
	if (!d && (d = calloc(1, sizeof(*d)))) {
		d->domid = domid;
		d->target = XSD_NO_TARGET;
		d->features = SERVER_FEATURES;
		e->dom[domid] = d;
	}
	return d;
}

static int count_cb(void *payload, const char *path, const struct xsd_meta *meta)
{
	struct xsd_engine *e = payload;
	(void)path;
	/* Creation order survives a clock set back: never hand out an older number. */
	if (meta->seq > e->seq)
		e->seq = meta->seq;
	struct xsd_domain *d = meta->perms.num ? xsd__domain(e, meta->perms.p[0].domid) : NULL;
	if (d) {
		d->nodes++;
		if (d->nodes > d->nodes_max)
			d->nodes_max = d->nodes;
	}
	return 0;
}

int xsd__domain_count_nodes(struct xsd_engine *e)
{
	for (unsigned int i = 0; i < XSD_DOMID_COUNT; i++)
		if (e->dom[i])
			e->dom[i]->nodes = 0;
	return xsd__node_walk(e->root, "/", count_cb, e);
}

struct orphan_ctx {
	struct xsd_engine *e;
	unsigned int domid;
	char **rm;          /* top-most nodes it owns */
	size_t nrm, cap;
	char **fix;         /* other nodes whose permissions name it */
	size_t nfix, fix_cap;
};

static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	if (!((*v)[*n] = strdup(s)))
		return VS_ENOMEM;
	(*n)++;
	return 0;
}

static int orphan_cb(void *payload, const char *path, const struct xsd_meta *meta)
{
	struct orphan_ctx *ox = payload;
	/* Below a node already going: nothing more to note. */
	if (ox->nrm && !ox->e->opts.keep_orphans && xsd_path_is_descendant(path, ox->rm[ox->nrm - 1]))
		return 0;
	if (meta->perms.num && meta->perms.p[0].domid == ox->domid && strcmp(path, "/"))
		return ox->e->opts.keep_orphans ? push(&ox->fix, &ox->nfix, &ox->fix_cap, path)
						: push(&ox->rm, &ox->nrm, &ox->cap, path);
	for (unsigned int i = 1; i < meta->perms.num; i++)
		if (meta->perms.p[i].domid == ox->domid && !(meta->perms.p[i].perm & XSD_PERM_IGNORE))
			return push(&ox->fix, &ox->nfix, &ox->fix_cap, path);
	return 0;
}

/* Apply the cleanup of a gone domain to the head, as one change. */
static int remove_nodes(struct xsd_engine *e, unsigned int domid)
{
	struct orphan_ctx ox = { e, domid, NULL, 0, 0, NULL, 0, 0 };
	struct xsd_view v;
	int err;

	xsd__view_init(&v, e, &e->self, NULL, e->root);
	v.replay = true; /* the engine itself acts: no checks, no quotas */
	err = xsd__node_walk(e->root, "/", orphan_cb, &ox);
	for (size_t i = 0; i < ox.nrm && err >= 0; i++)
		err = xsd__op_rm(&v, ox.rm[i]);
	for (size_t i = 0; i < ox.nfix && err >= 0; i++) {
		struct xsd_meta meta;
		xsd_meta_init(&meta);
		if ((err = xsd__node_meta(&meta, v.root, ox.fix[i])) >= 0 &&
		    xsd_perms_forget_domain(&meta.perms, domid, e->opts.priv_domid))
			err = xsd__op_set_perms(&v, ox.fix[i], &meta.perms);
		xsd_meta_release(&meta);
	}
	if (err >= 0 && v.changed) {
		vs_tree_free(e->root);
		e->root = vs_tree_dup(v.root);
		char path[32];
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		err = xsd__change(e, NULL, XSD_RELEASE, path, 0, ox.nrm + ox.nfix);
		xsd__view_apply(&v);
	}
	xsd__view_release(&v);
	for (size_t i = 0; i < ox.nrm; i++)
		free(ox.rm[i]);
	for (size_t i = 0; i < ox.nfix; i++)
		free(ox.fix[i]);
	free(ox.rm);
	free(ox.fix);
	return err;
}

void xsd__domain_remove(struct xsd_engine *e, unsigned int domid)
{
	struct xsd_domain *d = domid < XSD_DOMID_COUNT ? e->dom[domid] : NULL;
	if (!d)
		return;
	bool fire = !d->shutdown;
	if (e->opts.hooks.release)
		e->opts.hooks.release(e->opts.hooks.payload, domid);
	/* Connections the transport closes later act on nothing meanwhile. */
	for (struct xsd_conn *c = e->conns; c; c = c->next)
		if (c->domid == domid) {
			xsd__watch_drop_all(c);
			xsd__txn_abort_all(c);
		}
	if (remove_nodes(e, domid) < 0)
		xsd__warn(e, "dom%u: removing its nodes failed: %s", domid,
			  vs_error_last()->message);
	/* Domains targeting it lose that right. */
	for (unsigned int i = 0; i < XSD_DOMID_COUNT; i++)
		if (e->dom[i] && e->dom[i]->target == domid)
			e->dom[i]->target = XSD_NO_TARGET;
	/* A domain id used again later starts from nothing. */
	unsigned int conns = d->conns;
	free(d);
	e->dom[domid] = NULL;
	if (conns && (d = xsd__domain(e, domid)))
		d->conns = conns; /* still open until the transport closes them */
	if (fire)
		xsd__watch_fire_special(e, "@releaseDomain", domid);
}

void xsd_engine_domain_gone(struct xsd_engine *e, unsigned int domid)
{
	if (e && domid < XSD_DOMID_COUNT && e->dom[domid] && e->dom[domid]->introduced)
		xsd__domain_remove(e, domid);
}

void xsd_engine_domain_shutdown(struct xsd_engine *e, unsigned int domid)
{
	struct xsd_domain *d = e && domid < XSD_DOMID_COUNT ? e->dom[domid] : NULL;
	if (!d || !d->introduced || d->shutdown)
		return;
	d->shutdown = true;
	xsd__watch_fire_special(e, "@releaseDomain", domid);
}

static int parse_num(uint64_t *out, const char *s, uint64_t max)
{
	char *end;
	if (!*s || *s == '-' || *s == ' ')
		return vs_error_set(VS_EINVAL, "bad number \"%s\"", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE || v > max)
		return vs_error_set(VS_EINVAL, "bad number \"%s\"", s);
	*out = v;
	return 0;
}

static int parse_domid(unsigned int *out, const char *s)
{
	uint64_t v = 0;
	int err = parse_num(&v, s, XSD_DOMID_COUNT - 1);
	*out = (unsigned int)v;
	return err;
}

static int reply_ok(struct xsd_conn *c, const struct xsd_msg_hdr *hdr)
{
	return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
}

static int op_introduce(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const char **argv)
{
	struct xsd_engine *e = c->e;
	unsigned int domid;
	uint64_t evtchn;
	char *end;
	int err;

	if ((err = parse_domid(&domid, argv[0])) < 0)
		return err;
	long long gfn = strtoll(argv[1], &end, 10); /* libxenstore sends it signed */
	/* Port 0 is never a bound event channel (4.17: EINVAL). */
	if (!*argv[1] || *end || (err = parse_num(&evtchn, argv[2], UINT32_MAX)) < 0 || !evtchn)
		return vs_error_set(VS_EINVAL, "INTRODUCE takes domid, gfn and event channel");
	if (domid == e->opts.priv_domid)
		return vs_error_set(VS_EINVAL, "the control domain is not introduced");
	struct xsd_domain *d = xsd__domain(e, domid);
	if (!d)
		return VS_ENOMEM;
	if (d->introduced) {
		/* Again with the same page: the guest's event channel is rebound. */
		if (d->gfn != (uint64_t)gfn)
			return vs_error_set(VS_EINVAL, "domain %u already introduced", domid);
		return reply_ok(c, hdr);
	}
	if (e->opts.hooks.introduce &&
	    (err = e->opts.hooks.introduce(e->opts.hooks.payload, domid, (uint64_t)gfn,
					   (uint32_t)evtchn)) < 0)
		return err;
	d->introduced = true;
	d->shutdown = false;
	d->gfn = (uint64_t)gfn;
	d->evtchn = (uint32_t)evtchn;
	if ((err = reply_ok(c, hdr)) < 0)
		return err;
	xsd__watch_fire_special(e, "@introduceDomain", domid);
	return 0;
}

/* The introduced domain named by @s (the control domain counts). */
static int known_domain(struct xsd_domain **out, struct xsd_engine *e, const char *s)
{
	unsigned int domid;
	int err = parse_domid(&domid, s);
	if (err < 0)
		return err;
	struct xsd_domain *d = e->dom[domid];
	if (domid == e->opts.priv_domid)
		d = xsd__domain(e, domid);
	else if (!d || !d->introduced)
		return vs_error_set(VS_ENOENT, "domain %u is not introduced", domid);
	if (!d)
		return VS_ENOMEM;
	*out = d;
	return 0;
}

/* The policy's say on @op by @c on domain @s (a domid argument, checked by its request). */
static int mac_on_domain(struct xsd_conn *c, enum xsd_mac_op op, const char *s)
{
	const struct xsd_mac_hooks *mac = &c->e->opts.mac;
	unsigned int target;

	if (!mac->check_domain)
		return xsd__mac_check(c, op, NULL, NULL, false);
	if (parse_domid(&target, s) < 0)
		return 0; /* the request itself answers EINVAL */
	if (mac->check_domain(mac->payload, c->domid, op, target) < 0)
		return vs_error_set(VS_EACCES, "%s of domain %u: denied by the policy",
				    op == XSD_MAC_RELEASE ? "release" : "introduce", target);
	return 0;
}

/*
 * The mandatory access control of a privileged domain request, on the
 * domains it names: RELEASE and RESUME release, the rest introduce (or,
 * for queries, look at) their domain; SET_TARGET involves both of its.
 */
static int domain_mac(struct xsd_conn *c, uint32_t type, const char **argv, size_t n)
{
	const struct xsd_mac_hooks *mac = &c->e->opts.mac;
	enum xsd_mac_op op = type == XSD_RELEASE || type == XSD_RESUME ? XSD_MAC_RELEASE
								  : XSD_MAC_INTRODUCE;
	int err = 0;

	if (!mac->check && !mac->check_domain)
		return 0;
	for (size_t i = 0; i < n && i < (type == XSD_SET_TARGET ? 2u : 1u) && err >= 0; i++)
		err = mac_on_domain(c, op, argv[i]);
	return err;
}

int xsd__op_domain(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	const char *argv[4];
	size_t n = xsd_args_split(argv, 4, body, hdr->len, NULL, NULL);
	struct xsd_domain *d;
	unsigned int domid;
	uint64_t v = 0;
	char buf[48];
	int err;

	static const unsigned char nargs[XSD_TYPE_COUNT] = {
		[XSD_INTRODUCE] = 3, [XSD_RELEASE] = 1, [XSD_RESUME] = 1,
		[XSD_IS_DOMAIN_INTRODUCED] = 1, [XSD_GET_DOMAIN_PATH] = 1, [XSD_SET_TARGET] = 2,
		[XSD_GET_FEATURE] = 1, [XSD_SET_FEATURE] = 2,
	};
	bool priv_only = hdr->type != XSD_GET_DOMAIN_PATH &&
			 !(hdr->type == XSD_GET_FEATURE && n == 0);
	if (hdr->len && body[hdr->len - 1])
		return vs_error_set(VS_EINVAL, "arguments must be NUL-terminated");
	if (n != nargs[hdr->type] && !(hdr->type == XSD_GET_FEATURE && n == 0))
		return vs_error_set(VS_EINVAL, "%s takes %u argument(s)",
				    xsd_msg_type_name(hdr->type), nargs[hdr->type]);
	if (priv_only && !xsd__priv(c))
		return vs_error_set(VS_EACCES, "%s is for the control domain",
				    xsd_msg_type_name(hdr->type));
	if (priv_only && (err = domain_mac(c, hdr->type, argv, n)) < 0)
		return err;
	switch (hdr->type) {
	case XSD_INTRODUCE:
		return op_introduce(c, hdr, argv);
	case XSD_RELEASE:
		if ((err = known_domain(&d, e, argv[0])) < 0)
			return err;
		if (d->domid == e->opts.priv_domid)
			return vs_error_set(VS_EINVAL, "the control domain cannot be released");
		domid = d->domid;
		xsd__domain_remove(e, domid);
		return reply_ok(c, hdr);
	case XSD_RESUME:
		if ((err = known_domain(&d, e, argv[0])) < 0)
			return err;
		d->shutdown = false;
		return reply_ok(c, hdr);
	case XSD_IS_DOMAIN_INTRODUCED:
		if ((err = parse_domid(&domid, argv[0])) < 0)
			return err;
		d = e->dom[domid];
		bool yes = domid == e->opts.priv_domid || (d && d->introduced);
		return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, yes ? "T" : "F", 2);
	case XSD_GET_DOMAIN_PATH:
		if ((err = parse_domid(&domid, argv[0])) < 0)
			return err;
		n = (size_t)snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
		return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, buf, n + 1);
	case XSD_SET_TARGET: {
		struct xsd_domain *t;
		if ((err = known_domain(&d, e, argv[0])) < 0 ||
		    (err = known_domain(&t, e, argv[1])) < 0)
			return err;
		d->target = t->domid;
		return reply_ok(c, hdr);
	}
	case XSD_GET_FEATURE:
		if (n == 0) {
			d = xsd__domain(e, c->domid);
		} else {
			if ((err = parse_domid(&domid, argv[0])) < 0)
				return err;
			d = xsd__domain(e, domid);
		}
		if (!d)
			return VS_ENOMEM;
		n = (size_t)snprintf(buf, sizeof(buf), "%u", d->features);
		return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, buf, n + 1);
	case XSD_SET_FEATURE:
		if ((err = parse_domid(&domid, argv[0])) < 0 ||
		    (err = parse_num(&v, argv[1], UINT32_MAX)) < 0)
			return err;
		if (v & ~(uint64_t)SERVER_FEATURES)
			return vs_error_set(VS_EINVAL, "unsupported features %llu",
					    (unsigned long long)v);
		if (!(d = xsd__domain(e, domid)))
			return VS_ENOMEM;
		if (d->introduced)
			return vs_error_set(VS_EBUSY, "domain %u is already introduced", domid);
		d->features = (unsigned int)v;
		return reply_ok(c, hdr);
	}
	return VS_ENOSYS;
}
