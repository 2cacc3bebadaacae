/* SPDX-License-Identifier: MIT */
/*
 * A raw Xenstore wire client for the integration tests: it speaks the
 * protocol byte by byte over a unix socket, so tests can send what
 * libxenstore never would (garbage, lying lengths, truncated headers,
 * unknown types, floods whose replies are never read). Every wait is bounded
 * by a timeout. It keeps its own error-name table, independent of the
 * daemon's wire.c, so a test checks the daemon against Xen's list.
 */
#ifndef XST_CLIENT_H
#define XST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xsd/wire.h"

/** Default wait for one reply, in milliseconds. */
#define XST_TIMEOUT_MS 5000

/** One message received: header, payload and a NUL after it. */
struct xst_msg {
	struct xsd_msg_hdr hdr;
	char body[XSD_PAYLOAD_MAX + 1]; /* hdr.len bytes, then a NUL */
};

/** A connection; watch events seen while waiting for replies are queued. */
struct xst_conn {
	int fd;
	uint32_t next_req;        /* req_id of the next request */
	struct xst_msg *events;   /* queued watch events (ring) */
	size_t ev_head, ev_count; /* ring position and fill */
	size_t ev_dropped;        /* events lost because the ring was full */
};

#define XST_EVENT_RING 512u

/** Request ids of xst_flood() messages (xst_request() skips their replies). */
#define XST_FLOOD_REQ_ID 0x40000000u

/**
 * Connect to the unix socket @p path. @return 0 or -errno. The caller frees
 * *out with xst_close().
 */
int xst_connect(struct xst_conn **out, const char *path);

/** Close and free. NULL-safe. */
void xst_close(struct xst_conn *c);

/** Write all of @p buf (blocking). @return 0 or -errno (-EPIPE when the daemon closed). */
int xst_send_raw(struct xst_conn *c, const void *buf, size_t len);

/**
 * Send one message whose header claims @p hdr_len payload bytes, followed by
 * the @p len bytes of @p payload (the two may differ on purpose).
 * @return 0 or -errno.
 */
int xst_send_lying(struct xst_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		   uint32_t hdr_len, const void *payload, size_t len);

/** Send a well-formed message; @return its req_id (>= 0) or -errno. */
long xst_send(struct xst_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
	      size_t len);

/**
 * Receive the next message of any kind within @p timeout_ms.
 * @return 0; -ETIMEDOUT; -ECONNRESET when the daemon closed the connection;
 * -EPROTO when it sent a header claiming more than 4096 bytes.
 */
int xst_recv_any(struct xst_conn *c, struct xst_msg *out, int timeout_ms);

/**
 * Receive the next message that is not a watch event (events are queued for
 * xst_next_event). Same returns as xst_recv_any().
 */
int xst_recv_reply(struct xst_conn *c, struct xst_msg *out, int timeout_ms);

/**
 * The next watch event, queued or arriving within @p timeout_ms.
 * Same returns as xst_recv_any().
 */
int xst_next_event(struct xst_conn *c, struct xst_msg *out, int timeout_ms);

/** Forget queued events and read away whatever arrives within @p quiet_ms. */
void xst_drain(struct xst_conn *c, int quiet_ms);

/**
 * Send a request and wait for its reply. @return 0 on a normal reply (in
 * *out when not NULL), -errno for an XS_ERROR reply (named as in xs_wire.h),
 * or a transport error as xst_recv_any().
 */
int xst_request(struct xst_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
		size_t len, struct xst_msg *out);

/**
 * A request whose payload is the NULL-terminated list of strings, each sent
 * with its NUL. Same returns as xst_request().
 */
int xst_requestv(struct xst_conn *c, uint32_t type, uint32_t tx_id, struct xst_msg *out, ...)
	__attribute__((sentinel));

/** WRITE @p value (no NUL) at @p path. Same returns as xst_request(). */
int xst_write(struct xst_conn *c, uint32_t tx_id, const char *path, const char *value);

/** -errno for an XS_ERROR message, 0 for any other message. */
int xst_msg_error(const struct xst_msg *m);

/** The negative errno for a wire error name ("ENOENT"), or -EINVAL when unknown. */
int xst_errno_from_name(const char *name);

/**
 * Send @p count copies of one request without reading any reply. Sending
 * never blocks: when the socket stays full for @p stall_ms (the daemon
 * stopped reading), or @p budget_ms have passed, flooding stops.
 * @return the number of whole messages sent (the last one may be cut short).
 */
long xst_flood(struct xst_conn *c, uint32_t type, const void *payload, size_t len,
	       long count, int stall_ms, int budget_ms);

/** Whether the daemon closes the connection within @p timeout_ms (messages are discarded). */
bool xst_wait_closed(struct xst_conn *c, int timeout_ms);

/** Count the NUL-terminated strings in the payload of @p m. */
size_t xst_count_strings(const struct xst_msg *m);

/** Whether @p name is one of the NUL-separated strings of @p m's payload. */
bool xst_has_string(const struct xst_msg *m, const char *name);

/**
 * Resident memory of process @p pid in KiB: RssAnon when the kernel reports
 * it, else VmRSS. @return the value or -1.
 */
long xst_proc_rss_kb(pid_t pid);

/** Milliseconds of CLOCK_MONOTONIC. */
uint64_t xst_now_ms(void);

#endif
