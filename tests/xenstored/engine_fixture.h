/* SPDX-License-Identifier: MIT */
/*
 * The engine under test, with no daemon: a "mem:" store, an engine on it,
 * domain hooks that record what they are asked, and connections whose
 * messages land in a queue per connection. Requests go through
 * xsd_conn_request() and xsd_engine_flush(), as the daemon sends them; every
 * reply is checked to echo the request's req_id and tx_id and to be either
 * of the request's type or an ERROR. Strings returned by the helpers are
 * borrowed until the next request on the same connection (or ef_event call).
 */
#ifndef ENGINE_FIXTURE_H
#define ENGINE_FIXTURE_H

#include "vst.h"

#include <xsd/engine.h>

/** One message the engine sent to a connection: header and payload (+ a NUL). */
struct ef_msg {
	struct xsd_msg_hdr hdr;
	char *body; /* hdr.len bytes, then one NUL so text is a C string */
};

struct ef_fixture;

/** A connection of the engine, with the messages sent to it. */
struct ef_conn {
	struct ef_fixture *f;
	struct xsd_conn *c;
	unsigned int domid;
	struct ef_msg *q; /* messages not taken yet, oldest first */
	size_t nq, qcap;
	struct ef_msg last; /* the reply of the last request (owned) */
	char *text;         /* the last string handed out (owned) */
};

#define EF_MAX_CONNS 32
#define EF_MAX_HOOK_CALLS 64

struct ef_fixture {
	struct vs_repo *repo;
	struct xsd_engine *e;
	struct xsd_engine_opts opts;
	struct ef_conn *conns[EF_MAX_CONNS]; /* open connections; NULL slots are free */
	uint32_t next_req;
	/* What the domain hooks were asked, in order. */
	unsigned int introduced[EF_MAX_HOOK_CALLS];
	uint64_t introduced_gfn[EF_MAX_HOOK_CALLS];
	uint32_t introduced_evtchn[EF_MAX_HOOK_CALLS];
	size_t nintroduced;
	unsigned int released[EF_MAX_HOOK_CALLS];
	size_t nreleased;
	int introduce_rc; /* what the introduce hook answers (0) */
};

/** The options the fixture uses: C xenstored's quota defaults, hooks set by ef_new(). */
void ef_default_opts(struct xsd_engine_opts *opts);

/**
 * A fixture with an engine on a fresh "mem:" store. @p opts NULL: the
 * defaults; otherwise used as given except for the hooks, which always
 * record into the fixture. Fails the test on error. Free with ef_free().
 */
struct ef_fixture *ef_new(const struct xsd_engine_opts *opts);
/** Close every connection, free the engine and the store. NULL-safe. */
void ef_free(struct ef_fixture *f);
/** Close every connection and the engine, then open a new engine on the same store. */
void ef_restart(struct ef_fixture *f);

/** cmocka setup / teardown for a default fixture in *state. */
int ef_setup(void **state);
int ef_teardown(void **state);

/** A new connection acting as @p domid with XSD_CONN_* @p flags. Freed by ef_close/ef_free. */
struct ef_conn *ef_conn(struct ef_fixture *f, unsigned int domid, unsigned int flags);
/** The privileged connection of domain 0 (the dom0 socket). */
struct ef_conn *ef_priv(struct ef_fixture *f);
/** Free the connection (xsd_conn_free) and what it received. */
void ef_close(struct ef_conn *c);

/**
 * Send one request and flush. @return what xsd_conn_request() returned
 * (0, or negative when the connection must be closed).
 */
int ef_send(struct ef_conn *c, uint32_t type, uint32_t tx_id, const void *payload, size_t len);
/**
 * Send one request, flush, and take its reply out of the queue (watch
 * events stay queued). The reply is borrowed until the next request.
 */
const struct ef_msg *ef_req(struct ef_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
			    size_t len);
/**
 * ef_req() with a payload made of @p args split at single spaces, each part
 * NUL-terminated ("a b" -> "a\0b\0"; "" -> "\0"; NULL -> no payload).
 * @return the reply as ef_text() gives it.
 */
const char *ef_call(struct ef_conn *c, uint32_t type, uint32_t tx_id, const char *args);
/**
 * The reply's payload as text: an ERROR's name ("ENOENT"), else the payload
 * with each inner NUL turned into a space and a final NUL dropped.
 */
const char *ef_text(struct ef_conn *c, const struct ef_msg *m);
/** True when the last reply on @p c was an ERROR. */
bool ef_failed(const struct ef_conn *c);

/** WRITE of the string @p value (no NUL sent): "OK" or an error name. */
const char *ef_write(struct ef_conn *c, const char *path, const char *value);
/** WRITE inside transaction @p tx. */
const char *ef_write_tx(struct ef_conn *c, uint32_t tx, const char *path, const char *value);
/** READ: the value or an error name. */
const char *ef_read(struct ef_conn *c, const char *path);
/** READ inside transaction @p tx. */
const char *ef_read_tx(struct ef_conn *c, uint32_t tx, const char *path);
/** MKDIR: "OK" or an error name. */
const char *ef_mkdir(struct ef_conn *c, const char *path);
/** RM: "OK" or an error name. */
const char *ef_rm(struct ef_conn *c, const char *path);
/** DIRECTORY: the children separated by spaces ("" when none), or an error name. */
const char *ef_dir(struct ef_conn *c, const char *path);
/** GET_PERMS: "b0 r5" or an error name. */
const char *ef_perms(struct ef_conn *c, const char *path);
/** SET_PERMS with @p perms given as "b0 r5": "OK" or an error name. */
const char *ef_setperms(struct ef_conn *c, const char *path, const char *perms);
/** WATCH @p path with @p token (its initial event stays queued): "OK" or an error name. */
const char *ef_watch(struct ef_conn *c, const char *path, const char *token);
/** UNWATCH: "OK" or an error name. */
const char *ef_unwatch(struct ef_conn *c, const char *path, const char *token);

/** TRANSACTION_START, which must succeed. @return the transaction id. */
uint32_t ef_txn_start(struct ef_conn *c);
/** TRANSACTION_END: "OK" or an error name. */
const char *ef_txn_end(struct ef_conn *c, uint32_t tx, bool commit);

/** Take the oldest queued watch event as "path token", or NULL when there is none. */
const char *ef_event(struct ef_conn *c);
/** How many watch events are queued. */
size_t ef_nevents(const struct ef_conn *c);
/** Drop the queued watch events. */
void ef_drain(struct ef_conn *c);

/** The head commit of the engine's branch. Caller frees with vs_commit_free(). */
struct vs_commit *ef_head(struct ef_fixture *f);
/** How many commits the branch's first-parent chain holds. */
size_t ef_ncommits(struct ef_fixture *f);

#endif
