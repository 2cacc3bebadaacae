/* SPDX-License-Identifier: MIT */
/*
 * The daemon around the engine: one libuv loop, one thread, no locks.
 * Transports (conn_socket.c: the dom0 socket and per-domain sockets;
 * conn_ring.c: xenbus rings) turn bytes into requests through the generic
 * client connection (conn.c), which owns the engine connection, the input
 * reader, the output queue and the flow control shared by every transport.
 * loop.c owns the loop-level handles: the group commit, the disk sync timer
 * and the deferred work (client teardown, resuming stalled input).
 */
#ifndef XSD_DAEMON_H
#define XSD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>
#include <uv.h>
#include <vstore/vstore.h>
#include <xsd/engine.h>

/* The structure embedding @p ptr as its @p member (libuv handles are embedded). */
#define xsd_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct xsd_client;
struct xsd_outmsg;

enum xsd_domains_mode { XSD_DOMAINS_SOCKET, XSD_DOMAINS_XEN };

struct xsd_daemon {
	uv_loop_t *loop;	       /* the one loop (main.c owns it) */
	struct vs_repo *repo;	       /* the store (--store) */
	struct xsd_engine *engine;     /* Xenstore semantics, no I/O */
	char *run_dir;		       /* DIR: DIR/socket, DIR/domain/<domid> */
	enum xsd_domains_mode domains; /* --domains: how INTRODUCE connects a domain */
	bool sync_always;	       /* --sync always: fsync each batch before replying */
	uv_check_t flush_check;	       /* group commit at the end of each loop turn */
	uv_timer_t sync_timer;	       /* --sync default: flush to disk every second */
	uv_timer_t gc_timer;	       /* steps of the store's collection (retention) */
	uint64_t requests;	       /* requests handed to the engine so far */
	uint64_t gc_seen_requests;     /* requests when the last collection step ran */
	struct xsd_client *clients;    /* every open client connection (list) */
	void *sock;		       /* conn_socket.c state */
	void *xen;		       /* conn_ring.c state, when Xen rings are in use */
	FILE *trace;		       /* -T trace file, or NULL */
	bool stopping;		       /* SIGTERM/SIGINT: shutting down */
	unsigned int priv_domid;       /* -p: the domain of the privileged socket */
	bool verbose;		       /* -V: log connections at LOG_INFO too */
	bool use_syslog;	       /* detached: log to syslog instead of stderr */
	unsigned int event_timeout;    /* -w watch-event=SEC: drop older events (0: never) */
	unsigned int max_inflight;     /* requests an unprivileged client may have unanswered */
	bool unsynced;		       /* batches committed since the last vs_repo_sync */
	uv_idle_t work_idle;	       /* runs deferred client work (loop.c) */
	struct xsd_client *closing;    /* clients waiting to be freed (conn.c) */
	struct xsd_client *ready;      /* clients with held input to resume (conn.c) */
	struct xsd_client *kicks;      /* clients with output queued during a flush */
	bool deferring_kicks;          /* a flush runs: write each client's output once after it */
};

/** How a transport moves bytes; conn.c calls these. */
struct xsd_client_ops {
	/* Output was queued: start sending it (xsd_client_out_peek / _consume). */
	void (*kick)(struct xsd_client *cl);
	/* Stop (@paused) or resume taking input from the peer. */
	void (*pause)(struct xsd_client *cl, bool paused);
	/* Release transport resources; conn.c frees @cl afterwards. */
	void (*close)(struct xsd_client *cl);
};

/** One transport connection: the generic part, embedded or allocated by conn.c. */
struct xsd_client {
	struct xsd_daemon *d;
	const struct xsd_client_ops *ops;
	void *transport;       /* the transport's own state */
	struct xsd_conn *conn; /* the engine connection */
	unsigned int domid;
	struct xsd_client *next, *prev;
	/* private to conn.c */
	struct xsd_reader reader;
	unsigned char *in; /* input taken while paused, not yet parsed */
	size_t in_len, in_cap;
	struct xsd_outmsg *out_head, *out_tail;
	size_t out_off;		    /* bytes of out_head already consumed */
	size_t out_bytes, out_msgs; /* queued */
	bool paused, closing;
	uv_timer_t *throttle;	       /* write rate limit wait */
	unsigned int flags;	       /* enum xsd_conn_flags given at creation */
	bool msg_ready;		       /* the reader holds a whole request not yet handled */
	bool out_full;		       /* output above the high mark until drained */
	bool throttled;		       /* the throttle timer runs */
	bool queued;		       /* on d->ready */
	unsigned int inflight;	       /* requests handed to the engine, not yet answered */
	size_t dropped;		       /* watch events dropped since the queue last drained */
	struct xsd_client *ready_next; /* link in d->ready */
	bool kick_queued;              /* on d->kicks */
	struct xsd_client *kick_next;  /* link in d->kicks */
	struct xsd_client *close_next; /* link in d->closing */
};

/**
 * Open a client connection acting as @p domid (XSD_CONN_PRIV in @p flags for
 * the dom0 socket) over a transport. @return 0 or VS_ENOMEM.
 */
int xsd_client_new(struct xsd_client **out, struct xsd_daemon *d, unsigned int domid,
		   unsigned int flags, const struct xsd_client_ops *ops, void *transport);

/**
 * Bytes from the peer. All of them are taken (kept while the client is
 * paused). @return 0, or a negative value when the peer broke the protocol
 * (the caller then closes the client).
 */
int xsd_client_input(struct xsd_client *cl, const void *data, size_t len);

/**
 * The next queued output bytes and their count (0 when none); borrowed until
 * consumed or until the next _peek/_iov, which may drop stale watch events.
 */
size_t xsd_client_out_peek(struct xsd_client *cl, const void **data);
/**
 * Up to @p max pieces of queued output, in order, as buffers for a gathered
 * write (borrowed as with _peek). @return their count.
 */
size_t xsd_client_out_iov(struct xsd_client *cl, uv_buf_t *bufs, size_t max);
/** @p n bytes of output were sent. */
void xsd_client_out_consume(struct xsd_client *cl, size_t n);

/** Close: transport ops->close, engine connection freed, @p cl freed. Safe from callbacks
 * (deferred). */
void xsd_client_close(struct xsd_client *cl);

/** Close every client of domain @p domid. */
void xsd_client_close_domain(struct xsd_daemon *d, unsigned int domid);

/**
 * Deferred client work, run by loop.c between loop turns: resume held input
 * of clients that may go on, then free closed clients.
 * @return true while more work is queued.
 */
bool xsd_clients_work(struct xsd_daemon *d);

/** Write out what a flush queued for each client, one transport write each. */
void xsd_clients_kick(struct xsd_daemon *d);

/** Close every client and free them now (shutdown; not from a client callback). */
void xsd_clients_close_all(struct xsd_daemon *d);

/* The loop (loop.c). */

/** Start the group commit, the sync timer and the deferred-work handle. @return 0 or VS_E…. */
int xsd_loop_init(struct xsd_daemon *d);
/** Close the handles of xsd_loop_init(); uv_run() then returns once they are closed. */
void xsd_loop_close(struct xsd_daemon *d);
/** Ask for xsd_clients_work() before the loop next blocks. */
void xsd_loop_wake(struct xsd_daemon *d);
/** Commit what the engine holds now and sync to disk (shutdown). @return 0 or the store's error. */
int xsd_loop_flush(struct xsd_daemon *d);

/**
 * Log one line at syslog @p level (LOG_ERR … LOG_DEBUG): stderr in the
 * foreground, syslog once detached; LOG_INFO and below only with -V.
 */
void xsd_log(struct xsd_daemon *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Transports: conn_socket.c (always), conn_ring.c or conn_ring_none.c. */

/**
 * Listen on DIR/socket (mode 0600): each connection is privileged and acts as
 * the privileged domain. Refuses a socket a live daemon answers on.
 * @return 0, VS_EBUSY (another daemon owns the run directory), VS_EIO.
 */
int xsd_socket_start(struct xsd_daemon *d);
/** Close every listener and unlink its socket (clients stay open). */
void xsd_socket_stop(struct xsd_daemon *d);
/**
 * Listen on DIR/domain/<domid>: each connection acts as unprivileged @p domid.
 * Already listening: 0. @return 0 or VS_EIO (the message names the path).
 */
int xsd_socket_introduce(struct xsd_daemon *d, unsigned int domid);
/** Close the listener of @p domid and its connections, unlink its socket. */
void xsd_socket_release(struct xsd_daemon *d, unsigned int domid);

/** True when the Xen transport can work here (the event-channel device exists). */
bool xsd_xen_available(void);
/** Open evtchn, bind VIRQ_DOM_EXC, connect dom0's own ring. @return 0, VS_ENOTSUP. */
int xsd_xen_start(struct xsd_daemon *d);
/** Disconnect every ring and close the Xen handles. */
void xsd_xen_stop(struct xsd_daemon *d);
/** Map domain @p domid's ring page @p gfn and bind @p evtchn. @return 0, VS_ENOTSUP. */
int xsd_xen_introduce(struct xsd_daemon *d, unsigned int domid, uint64_t gfn, uint32_t evtchn);
/** Disconnect domain @p domid's ring. */
void xsd_xen_release(struct xsd_daemon *d, unsigned int domid);

#endif
