/* SPDX-License-Identifier: MIT */
/*
 * The engine's lifecycle, request dispatch, held output and group commit.
 *
 * Requests are applied to the in-memory head at once, so the next request
 * sees them; their replies and watch events are held. xsd_engine_flush()
 * writes one commit per change (the history keeps every change) in one
 * backend batch, then releases what was held: nothing is acknowledged
 * before it is in the store.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"

#define DEFAULT_BRANCH "main"

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t xsd__next_seq(struct xsd_engine *e)
{
	/* Creation order survives restarts: sequence numbers follow the clock. */
	uint64_t t = now_us();
	e->seq = t > e->seq ? t : e->seq + 1;
	return e->seq;
}

void xsd__warn(struct xsd_engine *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (e->opts.log)
		e->opts.log(e->opts.log_payload, line);
	if (e->logfile && e->log_on) {
		fprintf(e->logfile, "%s\n", line);
		fflush(e->logfile);
	}
}

static void trace(struct xsd_conn *c, const char *dir, const struct xsd_msg_hdr *h,
		  const void *body)
{
	struct xsd_engine *e = c->e;
	if (!e->opts.trace)
		return;
	char line[256];
	const char *name = xsd_msg_type_name(h->type);
	int n = snprintf(line, sizeof(line), "%s dom%u %s req %u tx %u len %u \"", dir, c->domid,
			 name ? name : "?", h->req_id, h->tx_id, h->len);
	/* The payload, printable bytes as they are, others in octal, cut to fit. */
	const unsigned char *p = body;
	for (uint32_t i = 0; i < h->len && n < (int)sizeof(line) - 6; i++) {
		if (p[i] >= 32 && p[i] < 127 && p[i] != '\\')
			line[n++] = (char)p[i];
		else
			n += snprintf(line + n, sizeof(line) - (size_t)n, "\\%o", p[i]);
	}
	snprintf(line + n, sizeof(line) - (size_t)n, "\"");
	e->opts.trace(e->opts.log_payload, line);
}

int xsd__send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, size_t len)
{
	struct xsd_engine *e = c->e;
	if (len > XSD_PAYLOAD_MAX) /* never put an oversized message on the wire */
		return xsd__send(c, XSD_ERROR, req_id, tx_id, "E2BIG", 6);
	if (e->nheld == e->held_cap) {
		size_t ncap = e->held_cap ? e->held_cap * 2 : 64;
		struct xsd_held *nh = realloc(e->held, ncap * sizeof(*nh));
		if (!nh)
			return VS_ENOMEM;
		e->held = nh;
		e->held_cap = ncap;
	}
	struct xsd_held *h = &e->held[e->nheld];
	h->body = malloc(len ? len : 1);
	if (!h->body)
		return VS_ENOMEM;
	if (len)
		memcpy(h->body, body, len);
	h->conn = c;
	h->hdr = (struct xsd_msg_hdr){ type, req_id, tx_id, (uint32_t)len };
	e->nheld++;
	c->held++;
	return 0;
}

int xsd__mac_check(const struct xsd_conn *c, enum xsd_mac_op op, const char *path,
		   const struct xsd_meta *meta, bool quiet)
{
	const struct xsd_mac_hooks *mac = &c->e->opts.mac;
	if (!mac->check || c == &c->e->self)
		return 0;
	int err = mac->check(mac->payload, c->domid, op, path, meta ? meta->label : NULL, quiet);
	return err < 0 ? vs_error_set(VS_EACCES, "%s: denied by the access control policy",
				      path ? path : "request")
		       : 0;
}

int xsd__send_error(struct xsd_conn *c, const struct xsd_msg_hdr *req, int err)
{
	const char *name = xsd_error_name(err);
	return xsd__send(c, XSD_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1);
}

static void held_release(struct xsd_engine *e)
{
	/* Sending may make a transport close a connection: entries are re-read. */
	for (size_t i = 0; i < e->nheld; i++) {
		struct xsd_held *h = &e->held[i];
		struct xsd_conn *c = h->conn;
		if (c) {
			c->held--;
			h->conn = NULL;
			if (e->opts.trace)
				trace(c, "OUT", &h->hdr, h->body);
			c->send(c->payload, &h->hdr, h->body);
		}
		free(h->body);
		h->body = NULL;
	}
	e->nheld = 0;
}

const char *xsd__op_verb(uint32_t op)
{
	switch (op) {
	case XSD_WRITE: return "write";
	case XSD_MKDIR: return "mkdir";
	case XSD_RM: return "rm";
	case XSD_SET_PERMS: return "chmod";
	case XSD_TRANSACTION_END: return "commit transaction";
	case XSD_RELEASE: return "release domain";
	case XSD_INTRODUCE: return "introduce domain";
	case XSD_CONTROL: return "relabel";
	default: return "change";
	}
}

int xsd__change(struct xsd_engine *e, struct xsd_conn *c, uint32_t op, const char *path,
		uint32_t txid, size_t nops)
{
	if (e->nchanges == e->changes_cap) {
		size_t ncap = e->changes_cap ? e->changes_cap * 2 : 16;
		struct xsd_change *nc = realloc(e->changes, ncap * sizeof(*nc));
		if (!nc)
			return VS_ENOMEM;
		e->changes = nc;
		e->changes_cap = ncap;
	}
	struct vs_buf msg = VS_BUF_INIT;
	unsigned int domid = c ? c->domid : e->opts.priv_domid;
	const char *name = xsd_msg_type_name(op);
	int err;
	if (op == XSD_TRANSACTION_END) /* @path: the first operation, "write /a/b" */
		err = nops > 1 ? vs_buf_printf(&msg, "transaction %u: %s (+%zu more)", txid, path,
					       nops - 1)
			       : vs_buf_printf(&msg, "transaction %u: %s", txid, path);
	else
		err = vs_buf_printf(&msg, "%s %s", xsd__op_verb(op), path);
	if (err >= 0)
		err = vs_buf_printf(&msg, "\n\nXs-Domain: %u\nXs-Op: %s\nXs-Tx: %u\n", domid,
				    name ? name : "?", txid);
	if (err < 0) {
		vs_buf_release(&msg);
		return err;
	}
	struct xsd_change *ch = &e->changes[e->nchanges++];
	ch->tree = vs_tree_dup(e->root);
	ch->domid = domid;
	ch->message = vs_buf_detach(&msg);
	ch->conn = c;
	ch->held_mark = e->nheld;
	/* The request's own reply is queued just before: it acknowledges the change. */
	if (c && e->nheld && e->held[e->nheld - 1].conn == c &&
	    e->held[e->nheld - 1].hdr.type != XSD_WATCH_EVENT)
		ch->held_mark--;
	ch->gen = ++e->gen;
	ch->side = NULL;
	ch->side_base = 0;
	return 0;
}

bool xsd_engine_pending(const struct xsd_engine *e)
{
	return e && (e->nheld || e->nchanges);
}

static void changes_clear(struct xsd_engine *e)
{
	for (size_t i = 0; i < e->nchanges; i++) {
		vs_tree_free(e->changes[i].tree);
		vs_tree_free(e->changes[i].side);
		vs_free(e->changes[i].message);
	}
	e->nchanges = 0;
}

/* The commit of change number @gen, if it is recent enough to be known. */
static const struct vs_oid *recent_commit(const struct xsd_engine *e, uint64_t gen)
{
	const struct xsd_recent *r = &e->recent[gen % XSD_RECENT];
	return r->gen == gen && r->id.type ? &r->id : NULL;
}

/*
 * One change as one commit. A transaction that did not start from the head
 * is a branch: its own tree committed on the commit it started from, then
 * merged into the head.
 */
static int commit_one(struct xsd_engine *e, struct xsd_change *ch, struct vs_oid *head,
		      bool has_head)
{
	char name[32], email[48];
	snprintf(name, sizeof(name), "dom%u", ch->domid);
	snprintf(email, sizeof(email), "dom%u@xenstore", ch->domid);
	struct vs_signature sig = { name, email, (int64_t)time(NULL), 0 };
	struct vs_commit_opts o = { .author = &sig, .message = ch->message };
	struct vs_oid parents[2], id;
	const struct vs_oid *base = ch->side ? recent_commit(e, ch->side_base) : NULL;
	int err;

	if (base && has_head && vs_oid_cmp(base, head)) {
		struct vs_commit_opts so = o;
		so.parents = base;
		so.nparents = 1;
		if ((err = vs_commit_create(&parents[1], e->repo, ch->side, &so)) < 0)
			return err;
		parents[0] = *head;
		o.parents = parents;
		o.nparents = 2;
	}
	if ((err = vs_branch_commit(&id, e->repo, e->branch, has_head ? head : NULL, ch->tree,
				    &o)) < 0)
		return err;
	*head = id;
	e->recent[ch->gen % XSD_RECENT] = (struct xsd_recent){ ch->gen, id };
	return 0;
}

static int commit_changes(struct xsd_engine *e)
{
	struct vs_oid head = e->head;
	bool has_head = e->has_head;
	int err;

	if ((err = vs_repo_batch_begin(e->repo)) < 0)
		return err;
	for (size_t i = 0; i < e->nchanges; i++) {
		if ((err = commit_one(e, &e->changes[i], &head, has_head)) < 0) {
			vs_repo_batch_abort(e->repo);
			return err;
		}
		has_head = true;
	}
	if ((err = vs_repo_batch_commit(e->repo)) < 0)
		return err;
	e->head = head;
	e->has_head = has_head;
	e->stats_commits += e->nchanges;
	e->stats_batches++;
	return 0;
}

/* The batch failed: answer every request since the first change with @err. */
static void flush_failed(struct xsd_engine *e, int err)
{
	size_t mark = e->changes[0].held_mark;
	const char *name = xsd_error_name(err);
	xsd__warn(e, "store write failed (%s): %zu change(s) undone", vs_error_last()->message,
		  e->nchanges);
	for (size_t i = mark; i < e->nheld; i++) {
		struct xsd_held *h = &e->held[i];
		if (h->hdr.type == XSD_WATCH_EVENT) { /* the change never happened */
			if (h->conn)
				h->conn->held--;
			h->conn = NULL;
			continue;
		}
		unsigned char *nb = malloc(strlen(name) + 1);
		if (!nb)
			continue; /* keeps the old reply: better than none */
		memcpy(nb, name, strlen(name) + 1);
		free(h->body);
		h->body = nb;
		h->hdr.type = XSD_ERROR;
		h->hdr.len = (uint32_t)strlen(name) + 1;
	}
	vs_tree_free(e->root);
	e->root = vs_tree_dup(e->durable);
	for (size_t i = 0; i < e->nchanges; i++)
		memset(&e->recent[e->changes[i].gen % XSD_RECENT], 0, sizeof(e->recent[0]));
	changes_clear(e);
	xsd__txn_invalidate_all(e);
	xsd__domain_count_nodes(e);
}

int xsd_engine_flush(struct xsd_engine *e)
{
	int err = 0;
	if (!e)
		return 0;
	if (e->nchanges) {
		if ((err = commit_changes(e)) < 0) {
			flush_failed(e, err);
		} else {
			changes_clear(e);
			vs_tree_free(e->durable);
			e->durable = vs_tree_dup(e->root);
		}
	}
	/*
	 * Reads and writes load nodes into the head tree; what is stored can be
	 * read back, so memory stays what the repo's caches hold.
	 */
	if (e->nheld)
		vs_tree_trim(e->root);
	held_release(e);
	return err;
}

/* Nodes of a fresh store, with C xenstored's permissions. */
static int initial_tree(struct xsd_engine *e)
{
	static const char *const nodes[] = { "/", "/tool", "/tool/xenstored" };
	struct xsd_meta meta;
	int err = 0;

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]) && err >= 0; i++) {
		xsd_meta_init(&meta);
		if ((err = xsd_perms_add(&meta.perms, e->opts.priv_domid, XSD_PERM_NONE)) >= 0) {
			meta.seq = xsd__next_seq(e);
			err = xsd__node_put(&e->root, nodes[i], NULL, 0, false, &meta);
		}
		xsd_meta_release(&meta);
	}
	if (err < 0)
		return err;
	return xsd__change(e, NULL, XSD_MKDIR, "/tool/xenstored", 0, 0);
}

/* The special nodes hold only permissions (who may watch them). */
static int special_nodes(struct xsd_engine *e)
{
	struct xsd_meta meta;
	int err = 0;
	bool changed = false;

	for (int i = 0; i < 2 && err >= 0; i++) {
		const char *name = i ? "@releaseDomain" : "@introduceDomain";
		if (xsd__node_exists(e->root, name))
			continue;
		xsd_meta_init(&meta);
		/* Only the privileged domain watches them until SET_PERMS says otherwise. */
		err = xsd_perms_add(&meta.perms, e->opts.priv_domid, XSD_PERM_NONE);
		meta.seq = xsd__next_seq(e);
		if (err >= 0)
			err = xsd__node_put(&e->root, name, NULL, 0, false, &meta);
		xsd_meta_release(&meta);
		changed = true;
	}
	if (err >= 0 && changed)
		err = xsd__change(e, NULL, XSD_MKDIR, "@introduceDomain", 0, 0);
	return err;
}

static int load_head(struct xsd_engine *e)
{
	struct vs_commit *commit = NULL;
	int err = vs_branch_head(&e->head, e->repo, e->branch);

	if (err == VS_ENOENT) {
		if ((err = vs_tree_new(&e->root, e->repo)) < 0)
			return err;
		return initial_tree(e);
	}
	if (err < 0)
		return err;
	e->has_head = true;
	e->recent[0] = (struct xsd_recent){ 0, e->head };
	if ((err = vs_commit_lookup(&commit, e->repo, &e->head)) >= 0)
		err = vs_commit_tree(&e->root, commit);
	vs_commit_free(commit);
	return err;
}

int xsd_engine_new(struct xsd_engine **out, struct vs_repo *repo,
		   const struct xsd_engine_opts *opts)
{
	struct xsd_engine *e;
	int err;

	*out = NULL;
	if (!repo || !opts || opts->version != XSD_ENGINE_OPTS_VERSION)
		return vs_error_set(VS_EINVAL, "xsd_engine_new: bad arguments");
	if (!(e = calloc(1, sizeof(*e))))
		return vs_error_set(VS_ENOMEM, "out of memory");
	e->repo = repo;
	e->opts = *opts;
	snprintf(e->branch, sizeof(e->branch), "%s", opts->branch ? opts->branch : DEFAULT_BRANCH);
	e->opts.branch = e->branch;
	e->next_txid = 1;
	e->log_on = true;
	e->self.e = e;
	e->self.domid = opts->priv_domid;
	e->self.flags = XSD_CONN_PRIV;
	if ((err = vs_branch_name_check(e->branch)) < 0 ||
	    (err = xsd__watch_index_new(&e->windex)) < 0 ||
	    (err = xsd__dircache_new(&e->dircache)) < 0 || (err = load_head(e)) < 0 ||
	    (err = special_nodes(e)) < 0 || (err = xsd__domain_count_nodes(e)) < 0)
		goto fail;
	if (!e->has_head || e->nchanges) {
		e->durable = NULL;
		if ((err = xsd_engine_flush(e)) < 0)
			goto fail;
	}
	if (!e->durable)
		e->durable = vs_tree_dup(e->root);
	*out = e;
	return 0;
fail:
	xsd_engine_free(e);
	return err;
}

void xsd_engine_free(struct xsd_engine *e)
{
	if (!e)
		return;
	xsd__gc_free(e);
	if (e->durable || e->nchanges)
		xsd_engine_flush(e);
	while (e->conns)
		xsd_conn_free(e->conns);
	changes_clear(e);
	free(e->changes);
	held_release(e);
	free(e->held);
	for (unsigned int i = 0; i < XSD_DOMID_COUNT; i++)
		free(e->dom[i]);
	xsd__watch_index_free(e->windex);
	xsd__dircache_free(e->dircache);
	vs_tree_free(e->root);
	vs_tree_free(e->durable);
	if (e->logfile)
		fclose(e->logfile);
	free(e);
}

int xsd_conn_new(struct xsd_conn **out, struct xsd_engine *e, unsigned int domid,
		 unsigned int flags, xsd_send_fn *send, void *payload)
{
	struct xsd_conn *c;
	struct xsd_domain *d;

	*out = NULL;
	if (!e || !send)
		return vs_error_set(VS_EINVAL, "xsd_conn_new: bad arguments");
	if (!(d = xsd__domain(e, domid)))
		return vs_error_set(VS_EINVAL, "domain id %u out of range", domid);
	if (!(c = calloc(1, sizeof(*c))))
		return vs_error_set(VS_ENOMEM, "out of memory");
	c->e = e;
	c->domid = domid;
	c->flags = flags;
	c->send = send;
	c->payload = payload;
	c->next = e->conns;
	if (e->conns)
		e->conns->prev = c;
	e->conns = c;
	d->conns++;
	*out = c;
	return 0;
}

void xsd_conn_free(struct xsd_conn *c)
{
	if (!c)
		return;
	struct xsd_engine *e = c->e;
	xsd__txn_abort_all(c);
	xsd__watch_drop_all(c);
	for (size_t i = 0; c->held && i < e->nheld; i++)
		if (e->held[i].conn == c) {
			e->held[i].conn = NULL;
			c->held--;
		}
	for (size_t i = 0; i < e->nchanges; i++)
		if (e->changes[i].conn == c)
			e->changes[i].conn = NULL;
	struct xsd_domain *d = e->dom[c->domid];
	if (d && d->conns)
		d->conns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

unsigned int xsd_conn_domid(const struct xsd_conn *c)
{
	return c->domid;
}

/* Reset: the caller's watches and transactions go (XSA-style cleanup). */
static int op_reset_watches(struct xsd_conn *c, const struct xsd_msg_hdr *hdr)
{
	xsd__watch_drop_all(c);
	xsd__txn_abort_all(c);
	return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
}

int xsd_conn_request(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const void *body)
{
	const unsigned char *b = body;
	int err;

	if (!c || !hdr || hdr->len > XSD_PAYLOAD_MAX || (hdr->len && !body))
		return VS_EINVAL; /* a transport bug or a broken peer: close */
	c->e->stats_requests++;
	if (c->e->opts.trace)
		trace(c, "IN ", hdr, body);
	/* As C xenstored: a transaction id must name an open transaction. */
	if (hdr->tx_id && hdr->type != XSD_WATCH && hdr->type != XSD_UNWATCH &&
	    !xsd__txn_find(c, hdr->tx_id))
		return xsd__send_error(c, hdr, vs_error_set(VS_ENOENT, "no transaction %u",
							    hdr->tx_id)) == VS_ENOMEM
			       ? VS_ENOMEM
			       : 0;
	switch (hdr->type) {
	case XSD_READ:
	case XSD_WRITE:
	case XSD_MKDIR:
	case XSD_RM:
	case XSD_DIRECTORY:
	case XSD_DIRECTORY_PART:
	case XSD_GET_PERMS:
	case XSD_SET_PERMS:
		err = xsd__op_node(c, hdr, b);
		break;
	case XSD_WATCH:
		err = xsd__op_watch(c, hdr, b);
		break;
	case XSD_UNWATCH:
		err = xsd__op_unwatch(c, hdr, b);
		break;
	case XSD_RESET_WATCHES:
		err = op_reset_watches(c, hdr);
		break;
	case XSD_TRANSACTION_START:
		err = xsd__op_transaction_start(c, hdr, b);
		break;
	case XSD_TRANSACTION_END:
		err = xsd__op_transaction_end(c, hdr, b);
		break;
	case XSD_INTRODUCE:
	case XSD_RELEASE:
	case XSD_RESUME:
	case XSD_IS_DOMAIN_INTRODUCED:
	case XSD_GET_DOMAIN_PATH:
	case XSD_SET_TARGET:
	case XSD_GET_FEATURE:
	case XSD_SET_FEATURE:
		err = xsd__op_domain(c, hdr, b);
		break;
	case XSD_GET_QUOTA:
	case XSD_SET_QUOTA:
		err = xsd__op_quota(c, hdr, b);
		break;
	case XSD_CONTROL:
		err = xsd__op_control(c, hdr, b);
		break;
	default: /* WATCH_EVENT and ERROR are the server's; 20 was removed */
		err = VS_ENOSYS;
		break;
	}
	if (err < 0)
		err = xsd__send_error(c, hdr, err);
	return err == VS_ENOMEM ? err : 0;
}
