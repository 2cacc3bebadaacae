/* SPDX-License-Identifier: MIT */
/*
 * Watches: WATCH / UNWATCH, and firing them for committed changes. Watches
 * are indexed by their absolute path, so a change at /a/b/c looks up only
 * "/a/b/c", "/a/b", "/a" and "/" — the cost of a write does not grow with
 * the number of watches elsewhere. A removed subtree fires the watches on
 * its root and above, and those registered exactly on the nodes it held.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

struct xsd_watch {
	struct xsd_conn *conn;
	char *path;       /* as registered (maybe relative) */
	char *abs;        /* canonical absolute path */
	char *token;
	int depth;        /* -1: any depth */
	bool relative;
	struct xsd_watch *next_conn;
	struct xsd_watch *next_hash;
};

struct xsd_watch_index {
	struct xsd_watch **b;
	size_t nb, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

int xsd__watch_index_new(struct xsd_watch_index **out)
{
	struct xsd_watch_index *ix = calloc(1, sizeof(*ix));
	if (!ix || !(ix->b = calloc(256, sizeof(*ix->b)))) {
		free(ix);
		return vs_error_set(VS_ENOMEM, "out of memory");
	}
	ix->nb = 256;
	*out = ix;
	return 0;
}

void xsd__watch_index_free(struct xsd_watch_index *ix)
{
	if (!ix)
		return;
	free(ix->b);
	free(ix);
}

static void index_grow(struct xsd_watch_index *ix)
{
	size_t nb = ix->nb * 2;
	struct xsd_watch **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < ix->nb; i++)
		for (struct xsd_watch *w = ix->b[i], *next; w; w = next) {
			next = w->next_hash;
			size_t k = hash_str(w->abs) & (nb - 1);
			w->next_hash = b[k];
			b[k] = w;
		}
	free(ix->b);
	ix->b = b;
	ix->nb = nb;
}

static void index_add(struct xsd_watch_index *ix, struct xsd_watch *w)
{
	if (ix->n >= ix->nb)
		index_grow(ix);
	size_t k = hash_str(w->abs) & (ix->nb - 1);
	w->next_hash = ix->b[k];
	ix->b[k] = w;
	ix->n++;
}

static void index_del(struct xsd_watch_index *ix, struct xsd_watch *w)
{
	size_t k = hash_str(w->abs) & (ix->nb - 1);
	for (struct xsd_watch **pp = &ix->b[k]; *pp; pp = &(*pp)->next_hash)
		if (*pp == w) {
			*pp = w->next_hash;
			ix->n--;
			return;
		}
}

static void watch_free(struct xsd_watch *w)
{
	free(w->path);
	free(w->abs);
	free(w->token);
	free(w);
}

/* Remove @w from its connection's list and the index, and free it. */
static void watch_del(struct xsd_watch *w)
{
	struct xsd_conn *c = w->conn;
	for (struct xsd_watch **pp = &c->watches; *pp; pp = &(*pp)->next_conn)
		if (*pp == w) {
			*pp = w->next_conn;
			break;
		}
	index_del(c->e->windex, w);
	struct xsd_domain *d = c->e->dom[c->domid];
	if (d && d->watches)
		d->watches--;
	watch_free(w);
}

void xsd__watch_drop_all(struct xsd_conn *c)
{
	while (c->watches)
		watch_del(c->watches);
}

static int send_event(struct xsd_watch *w, const char *epath)
{
	size_t pl = strlen(epath) + 1, tl = strlen(w->token) + 1;
	char buf[XSD_PAYLOAD_MAX];
	if (pl + tl > XSD_PAYLOAD_MAX)
		return 0; /* never an event above the payload limit */
	memcpy(buf, epath, pl);
	memcpy(buf + pl, w->token, tl);
	return xsd__send(w->conn, XSD_WATCH_EVENT, 0, 0, buf, pl + tl);
}

/* Parse WATCH/UNWATCH arguments: path, token and (WATCH only) an optional depth. */
static int watch_args(const char **path, const char **token, int *depth,
		      const struct xsd_msg_hdr *hdr, const unsigned char *body, bool with_depth)
{
	const char *argv[4];
	size_t n = xsd_args_split(argv, 4, body, hdr->len, NULL, NULL);
	if (!hdr->len || body[hdr->len - 1] || n < 2 || n > (with_depth ? 3u : 2u))
		return vs_error_set(VS_EINVAL, "expected a path, a token%s",
				    with_depth ? " and maybe a depth" : "");
	*path = argv[0];
	*token = argv[1];
	*depth = -1;
	if (n == 3) {
		char *end;
		long d = strtol(argv[2], &end, 10);
		if (!*argv[2] || *end || d < 0 || d > (long)XSD_ABS_PATH_MAX)
			return vs_error_set(VS_EINVAL, "bad watch depth %s", argv[2]);
		*depth = (int)d;
	}
	return 0;
}

/*
 * The policy's say on watching @abs: the label of the node, or for a node
 * not created yet, the label it would be created with below its nearest
 * existing ancestor.
 */
static int watch_mac(struct xsd_conn *c, const char *abs)
{
	const struct xsd_mac_hooks *mac = &c->e->opts.mac;
	char at[XSD_PATH_BUF], label[XSD_LABEL_MAX + 1];
	struct xsd_meta meta;
	int err = 0;

	snprintf(at, sizeof(at), "%s", abs);
	xsd_meta_init(&meta);
	while (xsd__node_meta(&meta, c->e->root, at) < 0 &&
	       xsd_path_parent(at, sizeof(at), at) >= 0)
		;
	if (strcmp(at, abs) && meta.perms.num && mac->label_new &&
	    mac->label_new(mac->payload, label, sizeof(label), c->domid, abs, meta.label) >= 0)
		err = xsd_meta_set_label(&meta, label[0] ? label : NULL);
	if (err >= 0)
		err = xsd__mac_check(c, XSD_MAC_WATCH, abs, meta.perms.num ? &meta : NULL, false);
	xsd_meta_release(&meta);
	return err;
}

int xsd__op_watch(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	const char *path, *token;
	char abs[XSD_PATH_BUF];
	int depth, err;

	if ((err = watch_args(&path, &token, &depth, hdr, body, true)) < 0 ||
	    (err = xsd__path_arg(abs, sizeof(abs), c, path, true)) < 0)
		return err;
	for (struct xsd_watch *w = c->watches; w; w = w->next_conn)
		if (!strcmp(w->abs, abs) && !strcmp(w->token, token))
			return vs_error_set(VS_EEXIST, "watch %s %s exists", path, token);
	if (e->opts.mac.check && (err = watch_mac(c, abs)) < 0)
		return err;
	struct xsd_domain *d = xsd__domain(e, c->domid);
	if (xsd__quota_applies(c)) {
		uint64_t q = xsd__quota(e, c->domid, XSD_QUOTA_WATCHES);
		if (q && d && d->watches >= q)
			return vs_error_set(VS_E2BIG, "watch quota (%llu) reached",
					    (unsigned long long)q);
	}
	struct xsd_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return VS_ENOMEM;
	w->conn = c;
	w->depth = depth;
	w->relative = path[0] != '/' && path[0] != '@';
	w->path = strdup(path);
	w->abs = strdup(abs);
	w->token = strdup(token);
	if (!w->path || !w->abs || !w->token) {
		watch_free(w);
		return VS_ENOMEM;
	}
	w->next_conn = c->watches;
	c->watches = w;
	index_add(e->windex, w);
	if (d) {
		d->watches++;
		if (d->watches > d->watches_max)
			d->watches_max = d->watches;
	}
	if ((err = xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3)) < 0)
		return err;
	return send_event(w, w->path); /* the initial event */
}

int xsd__op_unwatch(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	const char *path, *token;
	char abs[XSD_PATH_BUF];
	int depth, err;

	if ((err = watch_args(&path, &token, &depth, hdr, body, false)) < 0 ||
	    (err = xsd__path_arg(abs, sizeof(abs), c, path, true)) < 0)
		return err;
	for (struct xsd_watch *w = c->watches; w; w = w->next_conn)
		if (!strcmp(w->abs, abs) && !strcmp(w->token, token)) {
			watch_del(w);
			return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
		}
	return vs_error_set(VS_ENOENT, "no watch %s %s", path, token);
}

static bool can_read(const struct xsd_conn *c, const struct xsd_perms *perms)
{
	if (xsd__priv(c))
		return true;
	struct xsd_domain *d = c->e->dom[c->domid];
	return xsd_perm_allows(perms, c->domid, d ? d->target : XSD_NO_TARGET, false,
			       XSD_PERM_READ);
}

/*
 * C xenstored's watch_permitted(): the watcher sees the event when it may
 * read the node as it was, as it is, or its parent.
 */
static bool permitted(struct xsd_engine *e, const struct xsd_conn *c, const struct xsd_effect *fx)
{
	struct xsd_meta meta;
	char parent[XSD_PATH_BUF];
	bool ok = false;

	/* The policy first: a node the watcher may not read is never named to it. */
	if (e->opts.mac.check) {
		xsd_meta_init(&meta);
		const struct xsd_meta *m = fx->had_old ? &fx->old_meta : NULL;
		if (!m && xsd__node_meta(&meta, e->root, fx->path) >= 0)
			m = &meta;
		int err = xsd__mac_check(c, XSD_MAC_READ, fx->path, m, true);
		xsd_meta_release(&meta);
		if (err < 0)
			return false;
	}
	if (xsd__priv(c) || (fx->had_old && can_read(c, &fx->old_meta.perms)))
		return true;
	xsd_meta_init(&meta);
	if (!fx->removed && xsd__node_meta(&meta, e->root, fx->path) >= 0)
		ok = can_read(c, &meta.perms);
	xsd_meta_release(&meta);
	if (!ok && xsd_path_parent(parent, sizeof(parent), fx->path) >= 0) {
		xsd_meta_init(&meta);
		if (xsd__node_meta(&meta, e->root, parent) >= 0)
			ok = can_read(c, &meta.perms);
		xsd_meta_release(&meta);
	}
	return ok;
}

static void fire_one(struct xsd_engine *e, struct xsd_watch *w, const struct xsd_effect *fx,
		     const char *epath)
{
	if (!permitted(e, w->conn, fx))
		return;
	if (w->relative)
		epath = xsd_path_relative(epath, w->conn->domid);
	if (send_event(w, epath) < 0)
		xsd__warn(e, "dom%u: watch event for %s dropped (no memory)", w->conn->domid, epath);
}

void xsd__watch_fire(struct xsd_engine *e, const struct xsd_effect *fx)
{
	struct xsd_watch_index *ix = e->windex;
	char anc[XSD_PATH_BUF];

	/* Special nodes fire only for their events, not for SET_PERMS on them (4.17). */
	if (!ix->n || fx->path[0] == '@')
		return;
	if (fx->removed && !fx->recursive) {
		/* A node removed with its parent: only watches on the node itself. */
		for (struct xsd_watch *w = ix->b[hash_str(fx->path) & (ix->nb - 1)]; w;
		     w = w->next_hash)
			if (!strcmp(w->abs, fx->path))
				fire_one(e, w, fx, fx->path);
		return;
	}
	snprintf(anc, sizeof(anc), "%s", fx->path);
	for (int depth = 0;; depth++) {
		for (struct xsd_watch *w = ix->b[hash_str(anc) & (ix->nb - 1)]; w; w = w->next_hash)
			if (!strcmp(w->abs, anc) && (w->depth < 0 || depth <= w->depth))
				fire_one(e, w, fx, fx->path);
		if (xsd_path_parent(anc, sizeof(anc), anc) < 0)
			break;
	}
}

void xsd__watch_fire_special(struct xsd_engine *e, const char *name, unsigned int domid)
{
	struct xsd_watch_index *ix = e->windex;
	struct xsd_meta meta;
	char one[64];

	snprintf(one, sizeof(one), "%s/%u", name, domid);
	xsd_meta_init(&meta);
	bool have_meta = xsd__node_meta(&meta, e->root, name) >= 0;
	for (size_t i = 0; i < ix->nb; i++)
		for (struct xsd_watch *w = ix->b[i]; w; w = w->next_hash) {
			const char *epath = NULL;
			if (!strcmp(w->abs, name))
				epath = w->depth > 0 ? one : name;
			else if (!strcmp(w->abs, one))
				epath = one;
			if (!epath)
				continue;
			if (!xsd__priv(w->conn) && !(have_meta && can_read(w->conn, &meta.perms)))
				continue;
			if (xsd__mac_check(w->conn, XSD_MAC_READ, name, have_meta ? &meta : NULL,
					   true) < 0)
				continue;
			if (send_event(w, epath) < 0)
				xsd__warn(e, "watch event %s dropped (no memory)", epath);
		}
	xsd_meta_release(&meta);
}
