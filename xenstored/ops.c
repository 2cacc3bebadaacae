/* SPDX-License-Identifier: MIT */
/*
 * Node requests: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART,
 * GET_PERMS, SET_PERMS, with C xenstored's permission rules, error hiding
 * and quotas. The same code serves requests outside a transaction (on the
 * head), inside one (on its own tree, noting what it observed) and the
 * replay of a transaction's writes at commit.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define NO_OWNER UINT32_MAX

void xsd__view_init(struct xsd_view *v, struct xsd_engine *e, struct xsd_conn *c,
		    struct xsd_txn *t, struct vs_tree *root)
{
	memset(v, 0, sizeof(*v));
	v->e = e;
	v->conn = c;
	v->txn = t;
	v->root = vs_tree_dup(root);
}

static void effect_release(struct xsd_effect *fx)
{
	free(fx->path);
	xsd_meta_release(&fx->old_meta);
}

void xsd__view_release(struct xsd_view *v)
{
	for (size_t i = 0; i < v->nfx; i++)
		effect_release(&v->fx[i]);
	free(v->fx);
	v->fx = NULL;
	v->nfx = v->fx_cap = 0;
	vs_tree_free(v->root);
	v->root = NULL;
}

int xsd__effect_add(struct xsd_view *v, const char *path, const struct xsd_meta *old,
		    unsigned int new_owner, bool removed, bool recursive)
{
	if (v->nfx == v->fx_cap) {
		size_t ncap = v->fx_cap ? v->fx_cap * 2 : 4;
		struct xsd_effect *nf = realloc(v->fx, ncap * sizeof(*nf));
		if (!nf)
			return VS_ENOMEM;
		v->fx = nf;
		v->fx_cap = ncap;
	}
	struct xsd_effect *fx = &v->fx[v->nfx];
	memset(fx, 0, sizeof(*fx));
	xsd_meta_init(&fx->old_meta);
	if (!(fx->path = strdup(path)))
		return VS_ENOMEM;
	fx->had_old = old != NULL;
	fx->old_owner = old ? xsd_meta_owner(old) : NO_OWNER;
	fx->new_owner = new_owner;
	fx->removed = removed;
	fx->recursive = recursive;
	if (old && xsd_meta_copy(&fx->old_meta, old) < 0) {
		free(fx->path);
		return VS_ENOMEM;
	}
	v->nfx++;
	v->changed = true;
	return 0;
}

/* Node counts of the domains a committed effect moved a node between. */
static void account(struct xsd_engine *e, const struct xsd_effect *fx)
{
	if (fx->old_owner == fx->new_owner)
		return;
	struct xsd_domain *d;
	if (fx->old_owner != NO_OWNER && (d = xsd__domain(e, fx->old_owner)) && d->nodes)
		d->nodes--;
	if (fx->new_owner != NO_OWNER && (d = xsd__domain(e, fx->new_owner))) {
		d->nodes++;
		if (d->nodes > d->nodes_max)
			d->nodes_max = d->nodes;
	}
}

void xsd__view_apply(struct xsd_view *v)
{
	const struct xsd_mac_hooks *mac = &v->e->opts.mac;
	/* What the policy learns from the change (a domain's name) holds for its events. */
	for (size_t i = 0; mac->node_changed && i < v->nfx; i++)
		mac->node_changed(mac->payload, v->fx[i].path, v->conn->domid, xsd__priv(v->conn),
				  v->fx[i].removed);
	for (size_t i = 0; i < v->nfx; i++) {
		account(v->e, &v->fx[i]);
		if (!v->fx[i].quiet)
			xsd__watch_fire(v->e, &v->fx[i]);
	}
}

/* The rights @c has on a node with @meta (XSD_PERM_READ/WRITE/OWNER bits). */
static unsigned int rights(const struct xsd_conn *c, const struct xsd_meta *meta)
{
	if (xsd__priv(c))
		return XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER;
	struct xsd_domain *d = c->e->dom[c->domid];
	return xsd_perm_for(&meta->perms, c->domid, d ? d->target : XSD_NO_TARGET, false);
}

int xsd__path_arg(char *out, size_t outsz, struct xsd_conn *c, const char *arg, bool special_ok)
{
	uint64_t path_max = xsd__quota_applies(c) ? xsd__quota(c->e, c->domid, XSD_QUOTA_PATH_MAX)
						  : 0;
	return xsd_path_canonical(out, outsz, arg, c->domid, (unsigned int)path_max,
				  special_ok ? XSD_PATH_SPECIAL : 0);
}

/*
 * Error hiding (C xenstored's errno_from_parents): a missing node answers
 * EACCES instead of ENOENT when the first existing ancestor grants the
 * caller none of the rights @need it asked for, so existence does not leak.
 */
static int missing(struct xsd_view *v, const char *path, unsigned int need)
{
	enum xsd_mac_op mop = need & XSD_PERM_WRITE ? XSD_MAC_WRITE : XSD_MAC_READ;
	char parent[XSD_ABS_PATH_MAX + 1];
	struct xsd_meta meta;
	int err = VS_ENOENT;

	snprintf(parent, sizeof(parent), "%s", path);
	while (xsd_path_parent(parent, sizeof(parent), parent) >= 0) {
		xsd_meta_init(&meta);
		int r = xsd__node_meta(&meta, v->root, parent);
		xsd__txn_observe(v, parent, XSD_OBS_META);
		if (r >= 0) {
			if (!(rights(v->conn, &meta) & need) ||
			    xsd__mac_check(v->conn, mop, parent, &meta, true) < 0)
				err = VS_EACCES;
			xsd_meta_release(&meta);
			break;
		}
		xsd_meta_release(&meta);
	}
	return vs_error_set(err, "%s: no such node", path);
}

/*
 * Check @need rights on node @path, then the policy's @mop, given what
 * reading its metadata @meta gave (@err).
 */
static int check_node(struct xsd_view *v, const char *path, const struct xsd_meta *meta, int err,
		      unsigned int need, enum xsd_mac_op mop)
{
	int oerr = xsd__txn_observe(v, path, XSD_OBS_META);
	if (oerr < 0)
		return oerr;
	if (err == VS_ENOENT)
		return missing(v, path, need);
	if (err < 0)
		return err;
	if ((rights(v->conn, meta) & need) != need)
		return vs_error_set(VS_EACCES, "%s: permission denied", path);
	return xsd__mac_check(v->conn, mop, path, meta, false);
}

/* Read @path's metadata and check @need rights on it, then the policy's @mop. */
static int get_meta(struct xsd_meta *out, struct xsd_view *v, const char *path, unsigned int need,
		    enum xsd_mac_op mop)
{
	return check_node(v, path, out, xsd__node_meta(out, v->root, path), need, mop);
}

/*
 * The node-size quota as C xenstored counts a node: a 24-byte record
 * header, 8 bytes per permission, the value and the child names; a node
 * reaching the quota is refused.
 */
static int check_node_size(struct xsd_view *v, const struct xsd_meta *meta, size_t len,
			   size_t children)
{
	if (!xsd__quota_applies(v->conn))
		return 0;
	uint64_t q = xsd__quota(v->e, v->conn->domid, XSD_QUOTA_NODE_SIZE);
	if (q && 24 + (uint64_t)meta->perms.num * 8 + len + children >= q)
		return vs_error_set(VS_ENOSPC, "node size above quota (%llu)", (unsigned long long)q);
	return 0;
}

/* The same for existing node @path, its value @len bytes, gaining a child of @extra bytes. */
static int check_existing_size(struct xsd_view *v, const char *path, const struct xsd_meta *meta,
			       size_t len, size_t extra)
{
	size_t children = 0;
	int err;
	if (!xsd__quota_applies(v->conn))
		return 0;
	if ((err = xsd__node_children_len(&children, v->root, path)) < 0)
		return err;
	return check_node_size(v, meta, len, children + extra);
}

/* Nodes the view's effects so far gave @domid (created or re-owned) minus those taken. */
static int64_t view_nodes_delta(const struct xsd_view *v, unsigned int domid)
{
	int64_t n = 0;
	for (size_t i = 0; i < v->nfx; i++) {
		const struct xsd_effect *fx = &v->fx[i];
		n += (fx->new_owner == domid) - (fx->old_owner == domid);
	}
	return n;
}

/*
 * Room for @n more nodes owned by the acting domain, counting what its open
 * transaction and this request already did. Checked again when a
 * transaction commits (its replay), so concurrent transactions cannot
 * together exceed the quota (XSA-326).
 */
static int check_nodes(struct xsd_view *v, uint64_t n)
{
	if (!xsd__quota_applies(v->conn))
		return 0;
	unsigned int domid = v->conn->domid;
	uint64_t q = xsd__quota(v->e, domid, XSD_QUOTA_NODES);
	struct xsd_domain *d = v->e->dom[domid];
	int64_t have = (int64_t)(d ? d->nodes : 0) + xsd__txn_nodes_delta(v) +
		       view_nodes_delta(v, domid);
	if (q && (uint64_t)(have > 0 ? have : 0) + n > q)
		return vs_error_set(VS_ENOSPC, "domain %u: node quota (%llu) reached", domid,
				    (unsigned long long)q);
	return 0;
}

/*
 * The label of node @path being created, from the policy, given @meta as
 * copied from its parent (whose label it holds until replaced).
 */
static int new_label(struct xsd_view *v, struct xsd_meta *meta, const char *path)
{
	const struct xsd_mac_hooks *mac = &v->e->opts.mac;
	char label[XSD_LABEL_MAX + 1];
	if (!mac->label_new)
		return 0;
	int err = mac->label_new(mac->payload, label, sizeof(label), v->conn->domid, path,
				 meta->label);
	if (err < 0)
		return vs_error_set(VS_EACCES, "%s: no label for it in the policy", path);
	return xsd_meta_set_label(meta, label[0] ? label : NULL);
}

/*
 * Create @path (absent) and its missing parents, inheriting the permissions
 * of the nearest existing ancestor, which must grant write.
 */
static int create(struct xsd_view *v, const char *path, const void *value, size_t len)
{
	char anc[XSD_ABS_PATH_MAX + 1];
	struct xsd_meta pmeta, meta;
	size_t depth = 0;
	int err;

	snprintf(anc, sizeof(anc), "%s", path);
	xsd_meta_init(&pmeta);
	xsd_meta_init(&meta);
	for (;;) {
		if (xsd_path_parent(anc, sizeof(anc), anc) < 0) { /* the root always exists */
			err = vs_error_set(VS_ENOENT, "no root node");
			goto out;
		}
		depth++;
		if ((err = xsd__txn_observe(v, anc, XSD_OBS_META)) < 0)
			goto out;
		xsd_meta_release(&pmeta);
		xsd_meta_init(&pmeta);
		if (xsd__node_meta(&pmeta, v->root, anc) >= 0)
			break;
	}
	if (!(rights(v->conn, &pmeta) & XSD_PERM_WRITE)) {
		err = vs_error_set(VS_EACCES, "%s: permission denied", anc);
		goto out;
	}
	if ((err = check_nodes(v, depth)) < 0)
		goto out;
	if ((err = xsd_perms_inherit(&meta.perms, &pmeta.perms, v->conn->domid,
				     xsd__priv(v->conn))) < 0 ||
	    (err = xsd_meta_set_label(&meta, pmeta.label)) < 0 ||
	    (err = check_node_size(v, &meta, len, 0)) < 0)
		goto out;
	if (xsd__quota_applies(v->conn)) {
		/* The ancestor gains a child name: it must still fit. */
		struct xsd_node anode;
		const char *first = path + (strcmp(anc, "/") ? strlen(anc) : 0) + 1;
		const char *slash = strchr(first, '/');
		size_t flen = slash ? (size_t)(slash - first) : strlen(first);
		xsd__node_init(&anode);
		err = xsd__node_read(&anode, v->root, anc);
		if (err >= 0)
			err = check_existing_size(v, anc, &anode.meta, anode.value.size, flen + 1);
		xsd__node_release(&anode);
		if (err < 0)
			goto out;
	}
	/* Parents first, each one level below the last. */
	size_t alen = strcmp(anc, "/") ? strlen(anc) : 0;
	for (;;) {
		const char *next = strchr(path + alen + 1, '/');
		size_t plen = next ? (size_t)(next - path) : strlen(path);
		char sub[XSD_ABS_PATH_MAX + 1];
		memcpy(sub, path, plen);
		sub[plen] = '\0';
		meta.seq = xsd__next_seq(v->e);
		if ((err = new_label(v, &meta, sub)) < 0 ||
		    (err = xsd__mac_check(v->conn, XSD_MAC_CREATE, sub, &meta, false)) < 0)
			goto out;
		if (next) { /* a new parent holds one child name */
			const char *cend = strchr(next + 1, '/');
			size_t clen = cend ? (size_t)(cend - next - 1) : strlen(next + 1);
			if ((err = check_node_size(v, &meta, 0, clen + 1)) < 0)
				goto out;
		}
		if ((err = xsd__node_put(&v->root, sub, next ? NULL : value, next ? 0 : len, !next,
					 &meta)) < 0 ||
		    (err = xsd__effect_add(v, sub, NULL, xsd_meta_owner(&meta), false, false)) < 0)
			goto out;
		/* C xenstored fires only for the node written, not the parents it implied. */
		v->fx[v->nfx - 1].quiet = next != NULL;
		if (!next)
			break;
		alen = plen;
	}
out:
	xsd_meta_release(&meta);
	xsd_meta_release(&pmeta);
	return err;
}

int xsd__op_write(struct xsd_view *v, const char *path, const void *value, size_t len)
{
	struct xsd_node node;
	int err;

	xsd__node_init(&node);
	err = xsd__node_read(&node, v->root, path);
	if (err == VS_ENOENT) {
		xsd__node_release(&node);
		if ((err = xsd__txn_observe(v, path, XSD_OBS_META)) < 0 ||
		    (err = create(v, path, value, len)) < 0)
			return err;
		return xsd__txn_record(v, XSD_WOP_WRITE, path, value, len);
	}
	if (err >= 0 && (err = xsd__txn_observe(v, path, XSD_OBS_META)) >= 0 &&
	    (err = (rights(v->conn, &node.meta) & XSD_PERM_WRITE)
			   ? 0
			   : vs_error_set(VS_EACCES, "%s: permission denied", path)) >= 0 &&
	    (err = xsd__mac_check(v->conn, XSD_MAC_WRITE, path, &node.meta, false)) >= 0 &&
	    (err = check_existing_size(v, path, &node.meta, len, 0)) >= 0 &&
	    (err = xsd__txn_record(v, XSD_WOP_WRITE, path, value, len)) >= 0) {
		bool same = node.value.size == len && (!len || !memcmp(node.value.ptr, value, len));
		bool changed = v->changed;
		if (!same)
			err = xsd__node_put(&v->root, path, value, len, true, NULL);
		if (err >= 0)
			err = xsd__effect_add(v, path, &node.meta, xsd_meta_owner(&node.meta),
					      false, false);
		if (same) /* no commit, but the watches fire, as in C xenstored */
			v->changed = changed;
	}
	xsd__node_release(&node);
	return err;
}

int xsd__op_mkdir(struct xsd_view *v, const char *path)
{
	struct xsd_meta meta;
	int err;

	xsd_meta_init(&meta);
	err = xsd__node_meta(&meta, v->root, path);
	if (err == VS_ENOENT) {
		if ((err = xsd__txn_observe(v, path, XSD_OBS_META)) >= 0 &&
		    (err = create(v, path, NULL, 0)) >= 0)
			err = xsd__txn_record(v, XSD_WOP_MKDIR, path, NULL, 0);
	} else if (err >= 0) {
		xsd_meta_release(&meta);
		xsd_meta_init(&meta);
		/* exists: nothing to do */
		err = get_meta(&meta, v, path, XSD_PERM_WRITE, XSD_MAC_WRITE);
	}
	xsd_meta_release(&meta);
	return err;
}

struct rm_ctx {
	struct xsd_view *v;
	const char *root;
};

static int rm_collect(void *payload, const char *path, const struct xsd_meta *meta)
{
	struct rm_ctx *rx = payload;
	bool top = !strcmp(path, rx->root);
	return xsd__effect_add(rx->v, path, meta, NO_OWNER, true, top);
}

int xsd__op_rm(struct xsd_view *v, const char *path)
{
	struct xsd_meta meta;
	int err;

	if (!strcmp(path, "/"))
		return vs_error_set(VS_EINVAL, "cannot remove the root node");
	xsd_meta_init(&meta);
	err = xsd__node_meta(&meta, v->root, path);
	if (err == VS_ENOENT) {
		/* Fine when the parent exists; hidden (EACCES) unless it may be written. */
		char parent[XSD_ABS_PATH_MAX + 1];
		xsd_path_parent(parent, sizeof(parent), path);
		xsd_meta_release(&meta);
		xsd_meta_init(&meta);
		if ((err = xsd__txn_observe(v, path, XSD_OBS_META)) >= 0)
			err = get_meta(&meta, v, parent, XSD_PERM_WRITE, XSD_MAC_WRITE);
		if (err >= 0)
			err = xsd__txn_record(v, XSD_WOP_RM, path, NULL, 0);
		xsd_meta_release(&meta);
		return err;
	}
	xsd_meta_release(&meta);
	xsd_meta_init(&meta);
	if ((err = get_meta(&meta, v, path, XSD_PERM_WRITE, XSD_MAC_REMOVE)) >= 0) {
		struct rm_ctx rx = { v, path };
		if ((err = xsd__node_walk(v->root, path, rm_collect, &rx)) >= 0 &&
		    (err = xsd__node_remove(&v->root, path)) >= 0)
			err = xsd__txn_record(v, XSD_WOP_RM, path, NULL, 0);
	}
	xsd_meta_release(&meta);
	return err;
}

int xsd__op_set_perms(struct xsd_view *v, const char *path, const struct xsd_perms *perms)
{
	struct xsd_meta meta, next;
	int err;

	if (!perms->num)
		return vs_error_set(VS_EINVAL, "no permissions given");
	xsd_meta_init(&meta);
	xsd_meta_init(&next);
	if ((err = get_meta(&meta, v, path, XSD_PERM_WRITE | XSD_PERM_OWNER, XSD_MAC_SETPERM)) < 0)
		goto out;
	if (!xsd__priv(v->conn) && perms->p[0].domid != xsd_meta_owner(&meta)) {
		err = vs_error_set(VS_EPERM, "only the control domain changes owners");
		goto out;
	}
	if ((err = xsd_meta_copy(&next, &meta)) < 0 ||
	    (err = xsd_perms_copy(&next.perms, perms)) < 0)
		goto out;
	if (!v->replay && path[0] != '@' && xsd_meta_owner(&next) != xsd_meta_owner(&meta) &&
	    (err = check_nodes(v, 0)) < 0)
		goto out;
	if ((err = xsd__txn_record(v, XSD_WOP_SET_PERMS, path, perms->p,
				   perms->num * sizeof(perms->p[0]))) < 0)
		goto out;
	/* The watch fires even when nothing changes, as in C xenstored. */
	bool same = xsd_perms_equal(&meta.perms, &next.perms), changed = v->changed;
	if (!same)
		err = xsd__node_put(&v->root, path, NULL, 0, false, &next);
	if (err >= 0)
		err = xsd__effect_add(v, path, &meta,
				      path[0] == '@' ? NO_OWNER : xsd_meta_owner(&next), false,
				      false);
	if (err >= 0 && path[0] == '@') /* special nodes count for nobody */
		v->fx[v->nfx - 1].old_owner = NO_OWNER;
	if (same)
		v->changed = changed;
out:
	xsd_meta_release(&meta);
	xsd_meta_release(&next);
	return err;
}

/* A hash of the children list: DIRECTORY_PART's generation value. */
static uint64_t children_gen(const struct xsd_child *v, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		for (const char *p = v[i].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ v[i].seq) * 1099511628211ull;
	}
	return h & 0x7fffffffffffffffull;
}

static int op_directory(struct xsd_view *v, const struct xsd_msg_hdr *hdr, const char *path,
			const char *offset)
{
	struct xsd_meta meta;
	struct xsd_child *kids = NULL;
	size_t n = 0;
	struct vs_buf out = VS_BUF_INIT;
	int err;

	xsd_meta_init(&meta);
	if ((err = get_meta(&meta, v, path, XSD_PERM_READ, XSD_MAC_LIST)) < 0 ||
	    (err = xsd__txn_observe(v, path, XSD_OBS_CHILDREN)) < 0 ||
	    (err = xsd__node_children_cached(&kids, &n, v->e->dircache, v->root, path)) < 0)
		goto out;
	if (!offset) {
		for (size_t i = 0; i < n && err >= 0; i++)
			err = vs_buf_put(&out, kids[i].name, strlen(kids[i].name) + 1);
	} else {
		/*
		 * As C xenstored: the offset (atoi) is a byte offset into the
		 * NUL-separated list; the reply is the generation, then as many
		 * names from there as fit, then an empty string once the list ends.
		 */
		struct vs_buf all = VS_BUF_INIT;
		size_t off = (size_t)strtoul(offset, NULL, 10), at;
		for (size_t i = 0; i < n && err >= 0; i++)
			err = vs_buf_put(&all, kids[i].name, strlen(kids[i].name) + 1);
		if (err >= 0)
			err = vs_buf_printf(&out, "%llu", (unsigned long long)children_gen(kids, n));
		if (err >= 0)
			err = vs_buf_putc(&out, '\0');
		for (at = off < all.size ? off : all.size; at < all.size && err >= 0;) {
			size_t l = strlen(all.ptr + at) + 1;
			if (out.size + l + 1 > XSD_PAYLOAD_MAX)
				break;
			err = vs_buf_put(&out, all.ptr + at, l);
			at += l;
		}
		if (err >= 0 && at >= all.size)
			err = vs_buf_putc(&out, '\0'); /* the list is complete */
		vs_buf_release(&all);
	}
	if (err >= 0)
		err = xsd__send(v->conn, hdr->type, hdr->req_id, hdr->tx_id, out.ptr, out.size);
out:
	xsd__children_free(kids, n);
	xsd_meta_release(&meta);
	vs_buf_release(&out);
	return err;
}

static int op_read(struct xsd_view *v, const struct xsd_msg_hdr *hdr, const char *path)
{
	struct xsd_node node;
	int err;

	xsd__node_init(&node);
	/* One lookup for the checks and the value: nothing is sent unless they pass. */
	err = xsd__node_read(&node, v->root, path);
	if ((err = check_node(v, path, &node.meta, err, XSD_PERM_READ, XSD_MAC_READ)) >= 0 &&
	    (err = xsd__txn_observe(v, path, XSD_OBS_VALUE)) >= 0)
		err = xsd__send(v->conn, hdr->type, hdr->req_id, hdr->tx_id, node.value.ptr,
				node.value.size);
	xsd__node_release(&node);
	return err;
}

static int op_get_perms(struct xsd_view *v, const struct xsd_msg_hdr *hdr, const char *path)
{
	struct xsd_meta meta;
	struct vs_buf out = VS_BUF_INIT;
	int err;

	xsd_meta_init(&meta);
	if ((err = get_meta(&meta, v, path, XSD_PERM_READ, XSD_MAC_READ)) >= 0 &&
	    (err = xsd_perms_format_wire(&out, &meta.perms)) >= 0)
		err = xsd__send(v->conn, hdr->type, hdr->req_id, hdr->tx_id, out.ptr, out.size);
	xsd_meta_release(&meta);
	vs_buf_release(&out);
	return err;
}

/*
 * Every domain id may appear in permissions: without a hypervisor to ask,
 * a domain not introduced yet is still a domain the toolstack prepares
 * nodes for. Gone domains are cleaned out when they go (ops_domain.c).
 */
static bool domain_exists(void *payload, unsigned int domid)
{
	(void)payload;
	return domid < XSD_DOMID_COUNT || domid == XSD_DOMID_ANY;
}

/* The single NUL-terminated string a one-path request carries, or NULL. */
static const char *one_string(const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	if (!hdr->len || body[hdr->len - 1] || memchr(body, '\0', hdr->len) != body + hdr->len - 1)
		return NULL;
	return (const char *)body;
}

int xsd__op_node(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	struct xsd_txn *t = NULL;
	struct xsd_view v;
	char path[XSD_ABS_PATH_MAX + 1];
	const char *args[2] = { NULL, NULL };
	const unsigned char *value = NULL;
	size_t vlen = 0;
	struct xsd_perms perms;
	bool write = hdr->type == XSD_WRITE || hdr->type == XSD_MKDIR || hdr->type == XSD_RM ||
		     hdr->type == XSD_SET_PERMS;
	int err;

	/* Arguments: exactly what each request carries, or EINVAL. */
	const unsigned char *nul = hdr->len ? memchr(body, '\0', hdr->len) : NULL;
	switch (hdr->type) {
	case XSD_WRITE:
		if (!nul)
			return vs_error_set(VS_EINVAL, "WRITE without a path");
		args[0] = (const char *)body;
		value = nul + 1;
		vlen = hdr->len - (size_t)(value - body);
		break;
	case XSD_SET_PERMS:
	case XSD_DIRECTORY_PART:
		if (!nul || body[hdr->len - 1])
			return vs_error_set(VS_EINVAL, "malformed request");
		args[0] = (const char *)body;
		args[1] = (const char *)nul + 1;
		if (hdr->type == XSD_DIRECTORY_PART && (nul + 1 == body + hdr->len ||
		    memchr(nul + 1, '\0', hdr->len - (size_t)(nul + 1 - body)) !=
			body + hdr->len - 1))
			return vs_error_set(VS_EINVAL, "DIRECTORY_PART needs a path and an offset");
		break;
	default:
		if (!(args[0] = one_string(hdr, body)))
			return vs_error_set(VS_EINVAL, "expected one NUL-terminated path");
	}
	if ((err = xsd__path_arg(path, sizeof(path), c, args[0], hdr->type == XSD_SET_PERMS ||
							    hdr->type == XSD_GET_PERMS)) < 0)
		return err;
	if (hdr->tx_id)
		t = xsd__txn_find(c, hdr->tx_id); /* xsd_conn_request checked it exists */
	if (t && xsd__txn_failed(t))
		return xsd__txn_failed(t);
	if (write && !t)
		xsd__wrl_debit(c);

	xsd__view_init(&v, e, c, t, t ? xsd__txn_root(t) : e->root);
	switch (hdr->type) {
	case XSD_READ:
		err = op_read(&v, hdr, path);
		break;
	case XSD_DIRECTORY:
		err = op_directory(&v, hdr, path, NULL);
		break;
	case XSD_DIRECTORY_PART:
		err = op_directory(&v, hdr, path, args[1]);
		break;
	case XSD_GET_PERMS:
		err = op_get_perms(&v, hdr, path);
		break;
	case XSD_WRITE:
		err = xsd__op_write(&v, path, value, vlen);
		break;
	case XSD_MKDIR:
		err = xsd__op_mkdir(&v, path);
		break;
	case XSD_RM:
		err = xsd__op_rm(&v, path);
		break;
	case XSD_SET_PERMS:
		xsd_perms_init(&perms);
		err = xsd_perms_parse_wire(&perms, args[1],
					   hdr->len - (size_t)(args[1] - (const char *)body),
					   xsd__quota_applies(c)
						   ? (unsigned int)xsd__quota(e, c->domid,
									       XSD_QUOTA_NODE_PERMS)
						   : 0);
		if (err >= 0)
			err = xsd_perms_prepare_set(&perms, xsd__priv(c) || (e->dom[c->domid] &&
					(e->dom[c->domid]->features & XSD_FEATURE_DOMID_ANY)),
					domain_exists, e);
		if (err >= 0)
			err = xsd__op_set_perms(&v, path, &perms);
		xsd_perms_release(&perms);
		break;
	default:
		err = VS_ENOSYS;
	}
	if (err >= 0 && write)
		err = xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
	if (err >= 0 && v.changed) {
		if (t) {
			xsd__txn_set_root(t, v.root);
			xsd__txn_account(&v);
		} else {
			vs_tree_free(e->root);
			e->root = vs_tree_dup(v.root);
			err = xsd__change(e, c, hdr->type, path, 0, 1);
			xsd__view_apply(&v);
		}
	} else if (err >= 0 && v.nfx && !t) {
		xsd__view_apply(&v); /* events of a change that changed nothing */
	}
	xsd__view_release(&v);
	return err;
}

/* The engine's own reads of the head, for the daemon (engine.h): no checks. */
static int engine_path(const struct xsd_engine *e, const char *path)
{
	if (!e || !path || xsd_path_check(path, 0, XSD_PATH_SPECIAL) < 0)
		return vs_error_set(VS_EINVAL, "%s: not a canonical path", path ? path : "(null)");
	return 0;
}

int xsd_engine_read(struct vs_buf *out, struct xsd_engine *e, const char *path)
{
	struct xsd_node node;
	int err;

	if ((err = engine_path(e, path)) < 0)
		return err;
	xsd__node_init(&node);
	if ((err = xsd__node_read(&node, e->root, path)) >= 0)
		err = vs_buf_set(out, node.value.ptr, node.value.size);
	xsd__node_release(&node);
	return err;
}

int xsd_engine_directory(struct vs_buf *out, struct xsd_engine *e, const char *path)
{
	struct xsd_child *kids = NULL;
	size_t n = 0;
	int err;

	if ((err = engine_path(e, path)) < 0 ||
	    (err = xsd__node_children(&kids, &n, e->root, path)) < 0)
		return err;
	err = vs_buf_set(out, "", 0);
	for (size_t i = 0; i < n && err >= 0; i++)
		err = vs_buf_put(out, kids[i].name, strlen(kids[i].name) + 1);
	xsd__children_free(kids, n);
	return err < 0 ? err : (int)n;
}

int xsd_engine_stat(unsigned int *owner, char *label, size_t labelsz, struct xsd_engine *e,
		    const char *path)
{
	struct xsd_meta meta;
	int err;

	if ((err = engine_path(e, path)) < 0)
		return err;
	xsd_meta_init(&meta);
	if ((err = xsd__node_meta(&meta, e->root, path)) >= 0) {
		const char *l = meta.label ? meta.label : "";
		if (owner)
			*owner = xsd_meta_owner(&meta);
		if (label && strlen(l) >= labelsz)
			err = vs_error_set(VS_EINVAL, "%s: label longer than %zu bytes", path,
					   labelsz);
		else if (label)
			memcpy(label, l, strlen(l) + 1);
	}
	xsd_meta_release(&meta);
	return err;
}
