/* SPDX-License-Identifier: MIT */
/*
 * The Xenstore engine: Xenstore semantics over a libvstore branch, with no
 * I/O of its own. Requests go in through xsd_conn_request(); replies and
 * watch events come out through each connection's send callback, released
 * by xsd_engine_flush() once the changes they acknowledge are in the store
 * (group commit). Permissions, transactions (as branches), watches, quotas
 * and domains live here; the daemon (and the client's in-process transport)
 * wrap it in transports and a loop. Single-threaded: one caller at a time.
 */
#ifndef XSD_ENGINE_H
#define XSD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <vstore/vstore.h>

#include "wire.h"

struct xsd_engine;
struct xsd_conn;

/** Per-domain quotas, named as C xenstored names them; 0 disables a check. */
enum xsd_quota_kind {
	XSD_QUOTA_NODES,             /* "nodes": nodes owned (1000) */
	XSD_QUOTA_WATCHES,           /* "watches" (128) */
	XSD_QUOTA_TRANSACTIONS,      /* "transactions": open at once (10) */
	XSD_QUOTA_TRANSACTION_NODES, /* "transaction-nodes": touched per transaction (1024) */
	XSD_QUOTA_NODE_PERMS,        /* "node-permissions" (5) */
	XSD_QUOTA_PATH_MAX,          /* "path-max": below /local/domain/N/ (2048) */
	XSD_QUOTA_NODE_SIZE,         /* "node-size": value + perms + child names (2048) */
	XSD_QUOTA_OUTSTANDING,       /* "outstanding": replies and events queued (20) */
	XSD_QUOTA_MEMORY,            /* "memory" in bytes (2.5 MiB) */
	XSD_QUOTA_COUNT,
};

struct xsd_quota {
	uint64_t hard[XSD_QUOTA_COUNT];
	uint64_t soft_memory; /* "soft-memory": warn above (2 MiB) */
};

/** Fill @p q with C xenstored's defaults. */
void xsd_quota_defaults(struct xsd_quota *q);
/** The quota name ("transaction-nodes"), and back (-1 when unknown). */
const char *xsd_quota_name(enum xsd_quota_kind k);
int xsd_quota_from_name(const char *name);

/** How the engine reaches the transport that owns domain connections. */
struct xsd_domain_hooks {
	/*
	 * INTRODUCE was accepted for @p domid: connect to it (map the ring, or
	 * create its socket). @return 0 or a negative VS_E… sent to the introducer.
	 */
	int (*introduce)(void *payload, unsigned int domid, uint64_t gfn, uint32_t evtchn);
	/* The domain was released or died: close its connections now. */
	void (*release)(void *payload, unsigned int domid);
	void *payload;
};

/** What a request does, for the mandatory access control hook (mac/). */
enum xsd_mac_op {
	XSD_MAC_READ,      /* READ, GET_PERMS; and receiving a node's watch events */
	XSD_MAC_WRITE,     /* WRITE or MKDIR of an existing node */
	XSD_MAC_CREATE,    /* a node WRITE or MKDIR creates (checked on its new label) */
	XSD_MAC_REMOVE,    /* RM */
	XSD_MAC_LIST,      /* DIRECTORY, DIRECTORY_PART */
	XSD_MAC_WATCH,     /* WATCH */
	XSD_MAC_SETPERM,   /* SET_PERMS */
	XSD_MAC_RELABEL,   /* CONTROL "mac relabel": on the old and on the new label */
	XSD_MAC_INTRODUCE, /* INTRODUCE, SET_TARGET, SET_FEATURE, IS_DOMAIN_INTRODUCED,
			      GET_FEATURE of another domain (check_domain) */
	XSD_MAC_RELEASE,   /* RELEASE, RESUME (check_domain) */
	XSD_MAC_CONTROL,   /* CONTROL, GET/SET_QUOTA */
};

/**
 * Mandatory access control, consulted after the discretionary check: both
 * must allow. A node's label lives in its metadata (.meta "label" line).
 * Every member may be NULL; all NULL: no mandatory access control. The
 * engine acting for itself (a gone domain's cleanup) is never checked.
 */
struct xsd_mac_hooks {
	/*
	 * May domain @p domid do @p op on node @p path labelled @p label (NULL:
	 * unlabelled)? @p path is NULL for XSD_MAC_CONTROL, whose object is the
	 * daemon itself. @p quiet: a watch event being filtered or existence
	 * being hidden, not the request's own verdict (audit accordingly).
	 * @return 0 to allow, VS_EACCES to deny.
	 */
	int (*check)(void *payload, unsigned int domid, enum xsd_mac_op op, const char *path,
		     const char *label, bool quiet);
	/*
	 * May domain @p domid do @p op (XSD_MAC_INTRODUCE or XSD_MAC_RELEASE)
	 * on domain @p target? NULL: @p check is asked with a NULL path.
	 * @return 0 to allow, VS_EACCES to deny.
	 */
	int (*check_domain)(void *payload, unsigned int domid, enum xsd_mac_op op,
			    unsigned int target);
	/*
	 * The label of node @p path that domain @p domid is creating below a
	 * node labelled @p parent_label (may be NULL): written to @p out
	 * (@p outsz bytes). @return 0, or VS_EINVAL to refuse the creation.
	 */
	int (*label_new)(void *payload, char *out, size_t outsz, unsigned int domid,
			 const char *path, const char *parent_label);
	/*
	 * Whether @p label may be given to a node by "mac relabel" (a label the
	 * policy knows). @return 0, or VS_EINVAL with the reason in the message.
	 */
	int (*label_check)(void *payload, const char *label);
	/*
	 * Node @p path of the head was written, created or (@p removed) removed
	 * by domain @p domid; @p priv: it acted with every right (the privileged
	 * connection or domain, or the engine's own cleanup). Called once per
	 * changed node right after the change is applied to the head, before
	 * xsd_engine_flush() stores it; the head may be read meanwhile.
	 */
	void (*node_changed)(void *payload, const char *path, unsigned int domid, bool priv,
			     bool removed);
	/*
	 * The CONTROL command "mac ARGS..." (@p argv, @p n words after "mac"),
	 * other than "mac relabel PATH LABEL", which the engine runs itself. The
	 * reply text goes to @p out. @return 0, or a negative VS_E... sent as
	 * the error reply.
	 */
	int (*control)(void *payload, struct vs_buf *out, const char *const *argv, size_t n);
	void *payload;
};

/** One line of the trace log (-T): the daemon writes it where it wants. */
typedef void xsd_log_fn(void *payload, const char *line);

/**
 * History the store keeps (vstore/gc.h): a commit is kept when a rule keeps
 * it; with no rule, everything. The engine starts a collection every
 * @c every commits; xsd_engine_gc_step() carries it out.
 */
struct xsd_retention {
	size_t keep_last;        /* commits below the head; 0: no such rule */
	int64_t keep_newer_than; /* commits younger than this many seconds; 0: no such rule */
	size_t every;            /* commits between collections; 0: keep_last / 2, at least 100;
				    10 000 with keep_newer_than only */
};

/**
 * Set retention setting @p name ("keep-last", "keep-newer-than" or
 * "gc-every", as the daemon's options and inproc: URIs spell them) from
 * @p value: a count of at least 1, or for keep-newer-than a duration
 * (seconds, or a number with s, m, h, d or w: "30d").
 * @return 0; VS_EINVAL (a bad value: the message names it); VS_ENOENT (no
 * such setting).
 */
int xsd_retention_set(struct xsd_retention *r, const char *name, const char *value);

/** VS_EINVAL when @p r sets gc-every but keeps everything; else 0. */
int xsd_retention_check(const struct xsd_retention *r);

/* 2 added retention. */
#define XSD_ENGINE_OPTS_VERSION 2

struct xsd_engine_opts {
	unsigned int version;      /* XSD_ENGINE_OPTS_VERSION */
	const char *branch;        /* history branch; NULL: "main" */
	unsigned int priv_domid;   /* the privileged domain (0) */
	bool keep_orphans;         /* -K: re-own a dead domain's nodes instead of removing them */
	struct xsd_quota quota;    /* defaults for every domain (xsd_quota_defaults) */
	unsigned int wrl_rate;     /* writes per second per domain (0: no rate limit) */
	unsigned int wrl_burst;    /* writes a domain may do at once */
	struct xsd_domain_hooks hooks;
	struct xsd_mac_hooks mac;  /* all NULL: no mandatory access control */
	xsd_log_fn *trace;         /* each request and reply, or NULL */
	xsd_log_fn *log;           /* warnings (soft quota, dropped events), or NULL */
	void *log_payload;
	struct xsd_retention retention; /* all 0: keep all history */
};

/**
 * Open the engine on @p repo (borrowed; must outlive the engine): loads the
 * tree at the head of the branch, creating the initial tree (/, /tool,
 * /tool/xenstored, with C xenstored's permissions) on an empty store.
 * @return 0, or the store's error. The caller frees *out with xsd_engine_free.
 */
int xsd_engine_new(struct xsd_engine **out, struct vs_repo *repo,
		   const struct xsd_engine_opts *opts);

/** Flush, then free the engine. Every connection must be freed first. NULL-safe. */
void xsd_engine_free(struct xsd_engine *e);

/**
 * Commit every change made since the last flush to the branch as one
 * backend batch (one commit per change), then hand out the replies and
 * watch events held back until then. On a store failure the changes are
 * undone, their requests answered with the error, open transactions marked
 * to fail (EAGAIN), and the error returned.
 */
int xsd_engine_flush(struct xsd_engine *e);

/** True when replies or changes are waiting for xsd_engine_flush(). */
bool xsd_engine_pending(const struct xsd_engine *e);

/**
 * True when a collection of the store runs or is due (opts.retention, or
 * CONTROL "gc start"): call xsd_engine_gc_step() until it returns 0.
 */
bool xsd_engine_gc_due(const struct xsd_engine *e);

/**
 * One bounded step (about a millisecond) of the store's collection,
 * starting it when due; nothing while changes wait for a flush. Call it
 * between flushes, from the loop. @return 1 while work remains; 0 when none
 * runs (any more); an error when the collection failed (it is logged, and
 * the next one starts after opts.retention.every more commits).
 */
int xsd_engine_gc_step(struct xsd_engine *e);

/**
 * A domain died without RELEASE (the Xen transport saw it): remove it as
 * RELEASE does and fire @releaseDomain.
 */
void xsd_engine_domain_gone(struct xsd_engine *e, unsigned int domid);

/**
 * A domain shut down (crashed, powered off, suspended) but is not gone:
 * fire @releaseDomain once, as C xenstored does; RESUME re-arms it.
 */
void xsd_engine_domain_shutdown(struct xsd_engine *e, unsigned int domid);

/*
 * Privileged reads of the head, for the daemon's own needs (the access
 * control policy's questions about the tree): no permission, policy or
 * quota check, no transaction. @p path is canonical ("/a/b" or "@name").
 */

/**
 * The value of node @p path. @param[out] out replaced by the value.
 * @return 0; VS_ENOENT; VS_EINVAL (not a canonical path).
 */
int xsd_engine_read(struct vs_buf *out, struct xsd_engine *e, const char *path);

/**
 * The names of @p path's children in creation order, each followed by a
 * NUL, one after another. @param[out] out replaced by the names.
 * @return how many (>= 0); VS_ENOENT; VS_EINVAL (not a canonical path).
 */
int xsd_engine_directory(struct vs_buf *out, struct xsd_engine *e, const char *path);

/**
 * The owner (first permission entry) and MAC label of node @p path.
 * @param[out] owner may be NULL.
 * @param[out] label may be NULL; else @p labelsz bytes receive the label,
 *             "" when the node has none (256 bytes always suffice).
 * @return 0; VS_ENOENT; VS_EINVAL (not a canonical path, or @p labelsz
 *         too small for the label).
 */
int xsd_engine_stat(unsigned int *owner, char *label, size_t labelsz, struct xsd_engine *e,
		    const char *path);

/** Called for each message (reply or watch event) to one connection; @p body is borrowed. */
typedef void xsd_send_fn(void *payload, const struct xsd_msg_hdr *hdr, const void *body);

enum xsd_conn_flags {
	XSD_CONN_PRIV = 1 << 0, /* the privileged socket: every discretionary check passes */
};

/**
 * A connection acting as domain @p domid. Messages for it go to @p send.
 * @return 0, VS_ENOMEM. Free with xsd_conn_free().
 */
int xsd_conn_new(struct xsd_conn **out, struct xsd_engine *e, unsigned int domid,
		 unsigned int flags, xsd_send_fn *send, void *payload);

/** Abort the connection's transactions, drop its watches and queued output. NULL-safe. */
void xsd_conn_free(struct xsd_conn *c);

/**
 * Handle one request. Its reply (and any watch events) are queued and sent
 * at the next xsd_engine_flush(). @return 0; a negative value only when the
 * connection must be closed (the request broke the protocol).
 */
int xsd_conn_request(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const void *body);

/** The domain this connection acts as. */
unsigned int xsd_conn_domid(const struct xsd_conn *c);

/**
 * Milliseconds the connection must wait before its next write request is
 * taken (write rate limiting); 0 when it may go on. The transport stops
 * reading from it meanwhile.
 */
unsigned int xsd_conn_throttle_ms(struct xsd_conn *c);

#endif
