/* SPDX-License-Identifier: MIT */
/*
 * The xenbus shared ring (docs/misc/xenstore-ring.txt), server side, as pure
 * code over a page the caller maps and a notify callback the caller wires to
 * an event channel. Indices are free-running uint32 values masked by the
 * ring size; the guest owns req_prod and rsp_cons, the server req_cons and
 * rsp_prod. Once an index is found inconsistent the ring is marked broken
 * and left alone until the guest asks to reconnect.
 */
#ifndef XSD_RING_H
#define XSD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSD_RING_SIZE 1024u /* XENSTORE_RING_SIZE */
#define XSD_RING_MASK(idx) ((idx) & (XSD_RING_SIZE - 1))

/* Values of the connection field (XENSTORE_CONNECTED / _RECONNECT). */
#define XSD_RING_CONNECTED 0u
#define XSD_RING_RECONNECT 1u

/* Values of the error field (XENSTORE_ERROR_*). */
#define XSD_RING_ERROR_NONE 0u
#define XSD_RING_ERROR_COMM 1u	  /* event channel not functional */
#define XSD_RING_ERROR_RINGIDX 2u /* inconsistent producer or consumer index */
#define XSD_RING_ERROR_PROTO 3u	  /* protocol violation (payload too long) */

/** The shared page, laid out as xs_wire.h's struct xenstore_domain_interface. */
struct xsd_ring_page {
	char req[XSD_RING_SIZE];  /* requests, guest to server */
	char rsp[XSD_RING_SIZE];  /* replies and watch events, server to guest */
	uint32_t req_cons;	  /* written by the server */
	uint32_t req_prod;	  /* written by the guest */
	uint32_t rsp_cons;	  /* written by the guest */
	uint32_t rsp_prod;	  /* written by the server */
	uint32_t server_features; /* enum xsd_feature bits the server offers */
	uint32_t connection;	  /* XSD_RING_CONNECTED / XSD_RING_RECONNECT */
	uint32_t error;		  /* XSD_RING_ERROR_*, set by the server */
};

/** Signal the peer (the event channel) after the ring changed. */
typedef void xsd_ring_notify_fn(void *payload);

/** Server state of one ring; caller-owned (init / no release needed). */
struct xsd_ring {
	struct xsd_ring_page *page; /* borrowed: the mapped page */
	xsd_ring_notify_fn *notify;
	void *payload;
	bool broken; /* an error was reported: no more reads or writes */
};

/**
 * Attach @p r to @p page (borrowed; must outlive its use) and advertise the
 * reconnection and error features. Does not touch indices or notify.
 */
void xsd_ring_init(struct xsd_ring *r, void *page, xsd_ring_notify_fn *notify, void *payload);

/**
 * Copy up to @p len request bytes into @p buf, consume them and notify when
 * any were taken. @return the byte count (0: nothing there or ring broken),
 * or VS_EIO when the guest's indices are inconsistent (the ring is then
 * marked broken with XSD_RING_ERROR_RINGIDX).
 */
int xsd_ring_read(struct xsd_ring *r, void *buf, size_t len);

/**
 * Copy up to @p len reply bytes from @p data into the free space, publish
 * them and notify when any were written. @return the byte count (0: ring
 * full or broken), or VS_EIO on inconsistent indices as xsd_ring_read.
 */
int xsd_ring_write(struct xsd_ring *r, const void *data, size_t len);

/** True when request bytes are waiting (false on a broken ring). */
bool xsd_ring_can_read(const struct xsd_ring *r);

/** True when reply space is free (false on a broken ring). */
bool xsd_ring_can_write(const struct xsd_ring *r);

/** True when the guest set the connection field to XSD_RING_RECONNECT. */
bool xsd_ring_reconnect_requested(const struct xsd_ring *r);

/**
 * Stop using the ring and tell the guest why: set the error field to
 * @p error (XSD_RING_ERROR_*) and notify.
 */
void xsd_ring_fail(struct xsd_ring *r, uint32_t error);

/**
 * Bring the ring to its initial state: both queues empty (indices 0), no
 * error, features advertised, then connection = XSD_RING_CONNECTED, and
 * notify. Used at introduction and to complete a guest's reconnect request;
 * the caller drops the connection state (partial packets, watches,
 * transactions) first.
 */
void xsd_ring_reset(struct xsd_ring *r);

#endif
