/* SPDX-License-Identifier: MIT */
/*
 * Transactions as branches (DESIGN.md §3). START forks the head: the
 * transaction reads and edits its own tree and notes what it observed
 * (which aspects of which nodes: metadata, value, children) and the write
 * operations it made. END checks each observation against the head as it
 * is now — compared with the tree the transaction started from — and, when
 * all still hold, replays the writes on the head: the transaction then
 * behaves as if it ran whole at commit time (serializable), disjoint
 * transactions both commit and blind writes never conflict. Otherwise
 * EAGAIN, and the client retries.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

struct obs {
	char *path;
	unsigned int what; /* enum xsd_obs bits */
};

struct wop {
	enum xsd_wop op;
	char *path;
	void *data;
	size_t len;
};

struct xsd_txn {
	uint32_t id;
	struct xsd_conn *conn;
	struct xsd_txn *next;
	struct vs_tree *base;   /* the head at START */
	uint64_t base_gen;      /* its change number */
	struct vs_tree *root;   /* the transaction's own tree */
	struct obs *obs;        /* open addressing, by path */
	size_t nobs, obs_cap;
	struct wop *ops;
	size_t nops, ops_cap;
	int64_t nodes_delta;
	int failed;             /* what END answers when set */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct obs *obs_slot(struct obs *tab, size_t cap, const char *path)
{
	size_t i = hash_str(path) & (cap - 1);
	while (tab[i].path && strcmp(tab[i].path, path))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int obs_grow(struct xsd_txn *t)
{
	size_t ncap = t->obs_cap ? t->obs_cap * 2 : 16;
	struct obs *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return VS_ENOMEM;
	for (size_t i = 0; i < t->obs_cap; i++)
		if (t->obs[i].path)
			*obs_slot(nt, ncap, t->obs[i].path) = t->obs[i];
	free(t->obs);
	t->obs = nt;
	t->obs_cap = ncap;
	return 0;
}

struct xsd_txn *xsd__txn_find(struct xsd_conn *c, uint32_t id)
{
	for (struct xsd_txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

struct vs_tree *xsd__txn_root(struct xsd_txn *t)
{
	return t->root;
}

void xsd__txn_set_root(struct xsd_txn *t, struct vs_tree *root)
{
	vs_tree_dup(root);
	vs_tree_free(t->root);
	t->root = root;
}

int xsd__txn_failed(const struct xsd_txn *t)
{
	return t->failed;
}

int64_t xsd__txn_nodes_delta(const struct xsd_view *v)
{
	return v->txn && !v->replay ? v->txn->nodes_delta : 0;
}

int xsd__txn_observe(struct xsd_view *v, const char *path, unsigned int what)
{
	struct xsd_txn *t = v->txn;
	if (!t || v->replay)
		return 0;
	if ((t->nobs + 1) * 4 > t->obs_cap * 3 && obs_grow(t) < 0)
		return VS_ENOMEM;
	struct obs *o = obs_slot(t->obs, t->obs_cap, path);
	if (!o->path) {
		uint64_t q = xsd__quota_applies(t->conn)
				     ? xsd__quota(v->e, t->conn->domid, XSD_QUOTA_TRANSACTION_NODES)
				     : 0;
		if (q && t->nobs >= q) {
			/* As 4.17: the transaction cannot commit any more. */
			t->failed = VS_ENOSPC;
			return vs_error_set(VS_ENOSPC, "transaction %u touches more than %llu nodes",
					    t->id, (unsigned long long)q);
		}
		if (!(o->path = strdup(path)))
			return VS_ENOMEM;
		t->nobs++;
	}
	o->what |= what;
	return 0;
}

int xsd__txn_record(struct xsd_view *v, enum xsd_wop op, const char *path, const void *data,
		    size_t len)
{
	struct xsd_txn *t = v->txn;
	if (!t || v->replay)
		return 0;
	if (t->nops == t->ops_cap) {
		size_t ncap = t->ops_cap ? t->ops_cap * 2 : 8;
		struct wop *nw = realloc(t->ops, ncap * sizeof(*nw));
		if (!nw)
			return VS_ENOMEM;
		t->ops = nw;
		t->ops_cap = ncap;
	}
	struct wop *w = &t->ops[t->nops];
	w->op = op;
	w->len = len;
	w->path = strdup(path);
	w->data = malloc(len ? len : 1);
	if (!w->path || !w->data) {
		free(w->path);
		free(w->data);
		return VS_ENOMEM;
	}
	if (len)
		memcpy(w->data, data, len);
	t->nops++;
	return 0;
}

void xsd__txn_account(struct xsd_view *v)
{
	struct xsd_txn *t = v->txn;
	for (size_t i = 0; t && i < v->nfx; i++) {
		const struct xsd_effect *fx = &v->fx[i];
		if (fx->new_owner == t->conn->domid && fx->old_owner != t->conn->domid)
			t->nodes_delta++;
		else if (fx->old_owner == t->conn->domid && fx->new_owner != t->conn->domid)
			t->nodes_delta--;
	}
}

void xsd__txn_free(struct xsd_txn *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->obs_cap; i++)
		free(t->obs[i].path);
	free(t->obs);
	for (size_t i = 0; i < t->nops; i++) {
		free(t->ops[i].path);
		free(t->ops[i].data);
	}
	free(t->ops);
	vs_tree_free(t->base);
	vs_tree_free(t->root);
	free(t);
}

/* Unlink @t from its connection and free it. */
static void txn_end(struct xsd_txn *t)
{
	struct xsd_conn *c = t->conn;
	for (struct xsd_txn **pp = &c->txns; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	c->ntxns--;
	c->e->ntxns--;
	struct xsd_domain *d = c->e->dom[c->domid];
	if (d && d->txns)
		d->txns--;
	xsd__txn_free(t);
}

bool xsd__txn_oldest_base(const struct xsd_conn *c, uint64_t *gen)
{
	for (const struct xsd_txn *t = c->txns; t; t = t->next)
		if (t->base_gen < *gen)
			*gen = t->base_gen;
	return c->txns != NULL;
}

void xsd__txn_abort_all(struct xsd_conn *c)
{
	while (c->txns)
		txn_end(c->txns);
}

void xsd__txn_invalidate_all(struct xsd_engine *e)
{
	for (struct xsd_conn *c = e->conns; c; c = c->next)
		for (struct xsd_txn *t = c->txns; t; t = t->next)
			t->failed = VS_EAGAIN;
}

int xsd__op_transaction_start(struct xsd_conn *c, const struct xsd_msg_hdr *hdr,
			      const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	struct xsd_domain *d = xsd__domain(e, c->domid);
	char reply[16];

	if (hdr->tx_id)
		return vs_error_set(VS_EBUSY, "transactions do not nest");
	if (!hdr->len || body[hdr->len - 1])
		return vs_error_set(VS_EINVAL, "TRANSACTION_START takes an empty string");
	if (xsd__quota_applies(c)) {
		uint64_t q = xsd__quota(e, c->domid, XSD_QUOTA_TRANSACTIONS);
		if (q && c->ntxns >= q)
			return vs_error_set(VS_ENOSPC, "too many transactions (%llu)",
					    (unsigned long long)q);
	}
	struct xsd_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return VS_ENOMEM;
	do { /* ids are never 0 and unique per connection */
		t->id = e->next_txid++;
	} while (!t->id || xsd__txn_find(c, t->id));
	t->conn = c;
	t->base = vs_tree_dup(e->root);
	t->base_gen = e->gen;
	t->root = vs_tree_dup(e->root);
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	e->ntxns++;
	if (d) {
		d->txns++;
		if (d->txns > d->txns_max)
			d->txns_max = d->txns;
	}
	int n = snprintf(reply, sizeof(reply), "%u", t->id);
	return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, reply, (size_t)n + 1);
}

/* Whether aspect @what of node @path is the same in @a and @b. */
static bool same(struct vs_tree *a, struct vs_tree *b, const char *path, unsigned int what)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_tree_stat sa, sb;
	int ea, eb;

	/* The whole node subtree unchanged: every aspect holds. */
	if (xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE) < 0)
		return false;
	ea = vs_tree_stat(&sa, a, sp);
	eb = vs_tree_stat(&sb, b, sp);
	if (ea < 0 || eb < 0)
		return ea == eb;
	if (vs_oid_equal(&sa.id, &sb.id))
		return true;
	if (what & XSD_OBS_META) {
		if (xsd_path_store(sp, sizeof(sp), path, XSD_STORE_META) < 0)
			return false;
		ea = vs_tree_stat(&sa, a, sp);
		eb = vs_tree_stat(&sb, b, sp);
		if (ea != eb || (ea >= 0 && !vs_oid_equal(&sa.id, &sb.id)))
			return false;
	}
	if (what & XSD_OBS_VALUE) {
		if (xsd_path_store(sp, sizeof(sp), path, XSD_STORE_VALUE) < 0)
			return false;
		ea = vs_tree_stat(&sa, a, sp);
		eb = vs_tree_stat(&sb, b, sp);
		if (ea != eb || (ea >= 0 && !vs_oid_equal(&sa.id, &sb.id)))
			return false;
	}
	if (what & XSD_OBS_CHILDREN) {
		struct xsd_child *ka = NULL, *kb = NULL;
		size_t na = 0, nb = 0;
		bool eq = xsd__node_children(&ka, &na, a, path) >= 0 &&
			  xsd__node_children(&kb, &nb, b, path) >= 0 && na == nb;
		for (size_t i = 0; eq && i < na; i++)
			eq = ka[i].seq == kb[i].seq && !strcmp(ka[i].name, kb[i].name);
		xsd__children_free(ka, na);
		xsd__children_free(kb, nb);
		if (!eq)
			return false;
	}
	return true;
}

static bool still_valid(struct xsd_txn *t, struct vs_tree *head)
{
	if (head == t->base)
		return true;
	for (size_t i = 0; i < t->obs_cap; i++)
		if (t->obs[i].path && !same(t->base, head, t->obs[i].path, t->obs[i].what))
			return false;
	return true;
}

/* Apply the transaction's writes to the head; the view holds the result. */
static int replay(struct xsd_view *v, struct xsd_txn *t)
{
	int err = 0;
	for (size_t i = 0; i < t->nops && err >= 0; i++) {
		struct wop *w = &t->ops[i];
		struct xsd_perms perms;
		switch (w->op) {
		case XSD_WOP_WRITE:
			err = xsd__op_write(v, w->path, w->data, w->len);
			break;
		case XSD_WOP_MKDIR:
			err = xsd__op_mkdir(v, w->path);
			break;
		case XSD_WOP_RM:
			err = xsd__op_rm(v, w->path);
			break;
		case XSD_WOP_SET_PERMS:
			perms.p = w->data;
			perms.num = perms.cap = (unsigned int)(w->len / sizeof(struct xsd_perm));
			err = xsd__op_set_perms(v, w->path, &perms);
			break;
		}
	}
	return err;
}

int xsd__op_transaction_end(struct xsd_conn *c, const struct xsd_msg_hdr *hdr,
			    const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	struct xsd_txn *t;
	struct xsd_view v;
	int err;

	if (hdr->len != 2 || body[1] || (body[0] != 'T' && body[0] != 'F'))
		return vs_error_set(VS_EINVAL, "TRANSACTION_END takes \"T\" or \"F\"");
	if (!(t = xsd__txn_find(c, hdr->tx_id)))
		return vs_error_set(VS_ENOENT, "no transaction %u", hdr->tx_id);
	if (body[0] == 'F' || t->failed) {
		err = body[0] == 'T' ? t->failed : 0;
		txn_end(t);
		return err < 0 ? err : xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
	}
	/* A read-only transaction too: what it read must still be so. */
	if (!still_valid(t, e->root)) {
		txn_end(t);
		return vs_error_set(VS_EAGAIN, "transaction conflicts with a newer change");
	}
	if (!t->nops) {
		txn_end(t);
		return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
	}
	/* Its writes count against the domain's rate now (wrl_apply_debit_trans_commit). */
	xsd__wrl_debit_commit(c, t->nops);
	xsd__view_init(&v, e, c, NULL, e->root);
	v.replay = true;
	if ((err = replay(&v, t)) < 0) {
		xsd__view_release(&v);
		txn_end(t);
		/* A quota the commit would exceed stays an error (XSA-326); any
		 * other check that passed at first and fails now: the world changed. */
		return err == VS_ENOMEM || err == VS_ENOSPC
			       ? err
			       : vs_error_set(VS_EAGAIN, "transaction replay failed");
	}
	if ((err = xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3)) >= 0 && v.changed) {
		bool branch = e->root != t->base;
		vs_tree_free(e->root);
		e->root = vs_tree_dup(v.root);
		static const uint32_t wire_op[] = { [XSD_WOP_WRITE] = XSD_WRITE,
						    [XSD_WOP_MKDIR] = XSD_MKDIR,
						    [XSD_WOP_RM] = XSD_RM,
						    [XSD_WOP_SET_PERMS] = XSD_SET_PERMS };
		char first[XSD_PATH_BUF + 16];
		snprintf(first, sizeof(first), "%s %s", xsd__op_verb(wire_op[t->ops[0].op]),
			 t->ops[0].path);
		if ((err = xsd__change(e, c, XSD_TRANSACTION_END, first, t->id, t->nops)) >= 0 &&
		    branch) {
			struct xsd_change *ch = &e->changes[e->nchanges - 1];
			ch->side = vs_tree_dup(t->root);
			ch->side_base = t->base_gen;
		}
		xsd__view_apply(&v);
	}
	xsd__view_release(&v);
	txn_end(t);
	return err;
}
