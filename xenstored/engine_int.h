/* SPDX-License-Identifier: MIT */
/*
 * The engine's internals, shared by engine.c (lifecycle, dispatch, group
 * commit, output), node.c (Xenstore nodes as store trees), ops.c (node
 * requests), txn.c (transactions as branches), watch.c, ops_domain.c
 * (domains, features, quotas) and control.c.
 *
 * Every request runs against a "view": the tree it reads and edits (the
 * engine's head tree, or a transaction's own tree) plus who acts. A request
 * outside a transaction edits the head at once and queues one pending
 * change; xsd_engine_flush() turns the pending changes into commits, one
 * backend batch for all, then releases the replies and events held back.
 */
#ifndef XSD_ENGINE_INT_H
#define XSD_ENGINE_INT_H

#include <stdint.h>
#include <stdio.h>

#include <xsd/engine.h>

#include "xsd_int.h"

#define XSD_DOMID_COUNT 0x7FF0u /* real domain ids are below DOMID_FIRST_RESERVED */

struct xsd_watch;
struct xsd_txn;

/* A message held back until the next flush. */
struct xsd_held {
	struct xsd_conn *conn; /* NULL once the connection is gone */
	struct xsd_msg_hdr hdr;
	unsigned char *body;
};

/* What one domain has: created on first use, kept while it owns anything. */
struct xsd_domain {
	unsigned int domid;
	bool introduced;
	bool shutdown;           /* @releaseDomain already fired (RESUME re-arms) */
	uint64_t gfn;
	uint32_t evtchn;
	uint32_t target;         /* SET_TARGET, or XSD_NO_TARGET */
	unsigned int features;   /* enum xsd_feature */
	bool quota_set[XSD_QUOTA_COUNT];
	uint64_t quota[XSD_QUOTA_COUNT]; /* overrides where quota_set */
	uint64_t nodes;          /* nodes owned */
	uint64_t nodes_max;      /* high-water marks, for "quota max" */
	unsigned int watches, txns, conns;
	unsigned int watches_max, txns_max;
	/* write rate limiting: a token bucket in milli-writes */
	int64_t wrl_credit;
	uint64_t wrl_stamp_ms;
};

struct xsd_conn {
	struct xsd_engine *e;
	unsigned int domid;
	unsigned int flags;
	xsd_send_fn *send;
	void *payload;
	struct xsd_conn *next, *prev;
	struct xsd_watch *watches; /* this connection's watches */
	struct xsd_txn *txns;      /* open transactions */
	unsigned int ntxns;
	size_t held;               /* messages held for this connection */
};

struct xsd_change {
	struct vs_tree *tree; /* the head after the change */
	unsigned int domid;
	char *message;        /* commit message with trailers */
	struct xsd_conn *conn; /* whose request made it (NULL once gone) */
	size_t held_mark;     /* held messages before this change's reply */
	uint64_t gen;         /* its number in the sequence of changes */
	struct vs_tree *side; /* a transaction's own tree, committed as a branch, or NULL */
	uint64_t side_base;   /* the change the transaction started from */
};

/* Commit ids of recent changes, by change number (transactions' merge parents). */
#define XSD_RECENT 1024
struct xsd_recent {
	uint64_t gen;
	struct vs_oid id;
};

struct xsd_engine {
	struct vs_repo *repo;
	struct xsd_engine_opts opts;
	char branch[64];
	struct vs_tree *root;      /* head, with the changes not flushed yet */
	struct vs_tree *durable;   /* the tree of the last commit */
	struct vs_oid head;        /* the last commit */
	bool has_head;
	struct xsd_change *changes;
	size_t nchanges, changes_cap;
	struct xsd_held *held;
	size_t nheld, held_cap;
	struct xsd_conn *conns;
	struct xsd_domain *dom[XSD_DOMID_COUNT];
	struct xsd_watch_index *windex;
	struct xsd_dircache *dircache;
	uint64_t seq;              /* last creation sequence number handed out */
	uint64_t gen;              /* changes made so far (the head's change number) */
	struct xsd_recent recent[XSD_RECENT];
	uint32_t next_txid;
	unsigned int ntxns;        /* open transactions of every connection */
	bool log_on;
	FILE *logfile;             /* CONTROL logfile, or NULL */
	uint64_t stats_requests, stats_commits, stats_batches;
	struct {                   /* retention (retain.c) */
		struct vs_gc *run;         /* the collection in progress, or NULL */
		bool requested;            /* CONTROL gc start: begin one at the next step */
		uint64_t commits_at_start; /* stats_commits when the last one started */
		uint64_t started_ms, last_ms, last_end_ms;
		struct vs_gc_stats stats;  /* of the one in progress */
		struct vs_gc_stats last;   /* of the last one ended */
		int last_err;              /* how it ended */
		size_t cycles;             /* collections ended */
		char last_msg[200];        /* its error */
	} gc;
	struct xsd_conn self;      /* the engine acting for itself (domain cleanup) */
};

/* --- retain.c --- */
/* Whether @r keeps less than all history. */
bool xsd__retention_on(const struct xsd_retention *r);
/* CONTROL gc start: begin a collection at the next step. 0 or VS_EBUSY (one runs). */
int xsd__gc_request(struct xsd_engine *e);
/* CONTROL gc: the retention and the state of collections, as text. */
int xsd__gc_report(const struct xsd_engine *e, struct vs_buf *out);
/* End a collection in progress (engine teardown). */
void xsd__gc_free(struct xsd_engine *e);

/* --- engine.c --- */
/* Queue a reply or event for @c (released at the next flush). */
int xsd__send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, size_t len);
/* Queue an error reply naming @err (a negative VS_E… code). */
int xsd__send_error(struct xsd_conn *c, const struct xsd_msg_hdr *req, int err);
/* Record a change of the head made by @c's request (message built from op and path). */
int xsd__change(struct xsd_engine *e, struct xsd_conn *c, uint32_t op, const char *path,
		uint32_t txid, size_t nops);
/* The verb of a change in commit messages ("write", "rm", "chmod"...). */
const char *xsd__op_verb(uint32_t op);
/* Log a warning line through opts.log. */
void xsd__warn(struct xsd_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The next creation sequence number. */
uint64_t xsd__next_seq(struct xsd_engine *e);
/* Whether @c acts with every right. */
static inline bool xsd__priv(const struct xsd_conn *c)
{
	return (c->flags & XSD_CONN_PRIV) || c->domid == c->e->opts.priv_domid;
}

/* The owner of a node with @m (its first permission entry). */
static inline unsigned int xsd_meta_owner(const struct xsd_meta *m)
{
	return m->perms.num ? m->perms.p[0].domid : UINT32_MAX;
}

/*
 * The mandatory access control verdict for @c doing @op on node @path with
 * @meta (NULL: no node). 0 or VS_EACCES. The engine acting for itself
 * (domain cleanup) is never checked.
 */
int xsd__mac_check(const struct xsd_conn *c, enum xsd_mac_op op, const char *path,
		   const struct xsd_meta *meta, bool quiet);

/* --- node.c: a Xenstore node is a store tree (DESIGN.md §3) --- */
struct xsd_node {
	struct vs_buf value;
	struct xsd_meta meta;
};
void xsd__node_init(struct xsd_node *n);
void xsd__node_release(struct xsd_node *n);
/* Read node @path (absolute, canonical) of @root. @return 0, VS_ENOENT. */
int xsd__node_read(struct xsd_node *out, struct vs_tree *root, const char *path);
/* Read only the metadata. @return 0, VS_ENOENT. */
int xsd__node_meta(struct xsd_meta *out, struct vs_tree *root, const char *path);
/* Whether node @path exists. */
bool xsd__node_exists(struct vs_tree *root, const char *path);
/* Store the value and/or metadata of @path (a NULL argument is left as is). */
int xsd__node_put(struct vs_tree **root, const char *path, const void *value, size_t len,
		  bool set_value, const struct xsd_meta *meta);
/* Remove node @path and everything below it. */
int xsd__node_remove(struct vs_tree **root, const char *path);
/* One child, as xsd__node_children lists them. */
struct xsd_child {
	char *name;
	uint64_t seq;
};
/* The children of @path in creation order. Caller frees with xsd__children_free. */
int xsd__node_children(struct xsd_child **out, size_t *n, struct vs_tree *root,
		       const char *path);
/* The same, where a child whose metadata is missing or bad sorts last (checkers). */
int xsd__node_children_lenient(struct xsd_child **out, size_t *n, struct vs_tree *root,
			       const char *path);
void xsd__children_free(struct xsd_child *v, size_t n);
/* A cache of large listings (node.c), by the id of the directory's tree. */
struct xsd_dircache;
int xsd__dircache_new(struct xsd_dircache **out);
void xsd__dircache_free(struct xsd_dircache *dc);
/* xsd__node_children through @dc (NULL: no cache). */
int xsd__node_children_cached(struct xsd_child **out, size_t *n, struct xsd_dircache *dc,
			      struct vs_tree *root, const char *path);
/* The bytes of @path's child names, NULs included (for the node-size quota). */
int xsd__node_children_len(size_t *out, struct vs_tree *root, const char *path);
/* Called for every node at or below @path (parents first) with its metadata. */
typedef int xsd_node_walk_fn(void *payload, const char *path, const struct xsd_meta *meta);
int xsd__node_walk(struct vs_tree *root, const char *path, xsd_node_walk_fn *cb, void *payload);

/* --- ops.c: node requests, shared by direct requests, transactions and replay --- */
struct xsd_view {
	struct xsd_engine *e;
	struct xsd_conn *conn;
	struct xsd_txn *txn;     /* NULL outside a transaction */
	bool replay;             /* applying a committed transaction to the head */
	struct vs_tree *root;    /* owned; replaced by each edit */
	bool changed;
	/* effects, applied when the view is kept */
	struct xsd_effect *fx;
	size_t nfx, fx_cap;
};
/* A node changed: the watch event to fire and the owner accounting to apply. */
struct xsd_effect {
	char *path;
	bool recursive;        /* a removed subtree's root */
	bool removed;
	bool quiet;            /* accounted, but fires no watch (implied parents) */
	unsigned int old_owner, new_owner; /* UINT32_MAX: none */
	struct xsd_meta old_meta; /* for the watch permission filter (has_perms false when new) */
	bool had_old;
};
/*
 * Record a changed node in @v: its watch event and owner accounting;
 * @old is its metadata before (NULL for a new node).
 */
int xsd__effect_add(struct xsd_view *v, const char *path, const struct xsd_meta *old,
		    unsigned int new_owner, bool removed, bool recursive);
void xsd__view_init(struct xsd_view *v, struct xsd_engine *e, struct xsd_conn *c,
		    struct xsd_txn *t, struct vs_tree *root);
void xsd__view_release(struct xsd_view *v);
/* Apply the accounting of @v's effects to the domains and fire its watches. */
void xsd__view_apply(struct xsd_view *v);

/* The write operations a transaction replays at commit. */
enum xsd_wop { XSD_WOP_WRITE, XSD_WOP_MKDIR, XSD_WOP_RM, XSD_WOP_SET_PERMS };
int xsd__op_write(struct xsd_view *v, const char *path, const void *value, size_t len);
int xsd__op_mkdir(struct xsd_view *v, const char *path);
int xsd__op_rm(struct xsd_view *v, const char *path);
int xsd__op_set_perms(struct xsd_view *v, const char *path, const struct xsd_perms *perms);
/* Handle a node request (READ, WRITE, DIRECTORY, ...) for @c. */
int xsd__op_node(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);
/* Resolve and check a path argument: canonical absolute path into @out. */
int xsd__path_arg(char *out, size_t outsz, struct xsd_conn *c, const char *arg, bool special_ok);

/* --- txn.c --- */
/* Aspects of a node a transaction can observe. */
enum xsd_obs { XSD_OBS_META = 1, XSD_OBS_VALUE = 2, XSD_OBS_CHILDREN = 4 };
struct xsd_txn *xsd__txn_find(struct xsd_conn *c, uint32_t id);
/* Note that the transaction saw @what of @path (no-op outside a transaction). */
int xsd__txn_observe(struct xsd_view *v, const char *path, unsigned int what);
/* Note a write operation for replay, and that @path was written. */
int xsd__txn_record(struct xsd_view *v, enum xsd_wop op, const char *path, const void *data,
		    size_t len);
int xsd__op_transaction_start(struct xsd_conn *c, const struct xsd_msg_hdr *hdr,
			      const unsigned char *body);
int xsd__op_transaction_end(struct xsd_conn *c, const struct xsd_msg_hdr *hdr,
			    const unsigned char *body);
void xsd__txn_free(struct xsd_txn *t);
/* The transaction's tree (borrowed) and its replacement (a new reference is taken). */
struct vs_tree *xsd__txn_root(struct xsd_txn *t);
void xsd__txn_set_root(struct xsd_txn *t, struct vs_tree *root);
/* The error END will answer (0: none yet): EAGAIN once stale, the quota error once failed. */
int xsd__txn_failed(const struct xsd_txn *t);
/* Nodes the view's transaction created minus those it removed, for the acting domain. */
int64_t xsd__txn_nodes_delta(const struct xsd_view *v);
/* Count the nodes a transaction request created or removed for its domain. */
void xsd__txn_account(struct xsd_view *v);
/* Abort every transaction of @c. */
void xsd__txn_abort_all(struct xsd_conn *c);
/* Lower *gen to the change the oldest open transaction of @c started from; true if it has one. */
bool xsd__txn_oldest_base(const struct xsd_conn *c, uint64_t *gen);
/* After a failed flush: every open transaction must fail with EAGAIN. */
void xsd__txn_invalidate_all(struct xsd_engine *e);

/* --- watch.c --- */
int xsd__watch_index_new(struct xsd_watch_index **out);
void xsd__watch_index_free(struct xsd_watch_index *ix);
int xsd__op_watch(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);
int xsd__op_unwatch(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);
/* Drop every watch of @c. */
void xsd__watch_drop_all(struct xsd_conn *c);
/* Fire the watches of one changed node (see struct xsd_effect). */
void xsd__watch_fire(struct xsd_engine *e, const struct xsd_effect *fx);
/* Fire a special watch (@introduceDomain, @releaseDomain) for @domid. */
void xsd__watch_fire_special(struct xsd_engine *e, const char *name, unsigned int domid);

/* --- ops_domain.c and quota.c --- */
/* The domain record of @domid, created when missing (NULL: bad domid or no memory). */
struct xsd_domain *xsd__domain(struct xsd_engine *e, unsigned int domid);
/* The effective quota @k for @domid. */
uint64_t xsd__quota(struct xsd_engine *e, unsigned int domid, enum xsd_quota_kind k);
/* Whether @c is subject to quotas. */
bool xsd__quota_applies(const struct xsd_conn *c);
/* Count the owners of every node of @root into the domain table. */
int xsd__domain_count_nodes(struct xsd_engine *e);
/* Debit one direct write, or a committed transaction's writes, for rate limiting. */
void xsd__wrl_debit(struct xsd_conn *c);
void xsd__wrl_debit_commit(struct xsd_conn *c, size_t nwrites);
int xsd__op_domain(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);
int xsd__op_quota(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);
/* Remove domain @domid: its nodes (or re-own them), watches, transactions; @releaseDomain. */
void xsd__domain_remove(struct xsd_engine *e, unsigned int domid);

/* --- control.c --- */
int xsd__op_control(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body);

#endif
