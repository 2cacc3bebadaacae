/* SPDX-License-Identifier: MIT */
/*
 * The xenbus shared ring, server side. The guest may change its own indices
 * at any time, so each index is read exactly once per operation (volatile
 * load), checked, and only then used; full fences order the index loads
 * before the data copy and the data copy before the index store, as Xen's
 * C xenstored does with xen_mb() in readchn()/writechn().
 */
#include "ring.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>
#include <vstore/errors.h>

#include "xsd/wire.h"

static_assert(sizeof(struct xsd_ring_page) == 2076, "xenstore_domain_interface size");
static_assert(offsetof(struct xsd_ring_page, req_cons) == 2048, "req_cons offset");
static_assert(offsetof(struct xsd_ring_page, rsp_prod) == 2060, "rsp_prod offset");
static_assert(offsetof(struct xsd_ring_page, server_features) == 2064, "features offset");
static_assert(offsetof(struct xsd_ring_page, error) == 2072, "error offset");

#define RING_FEATURES ((uint32_t)(XSD_FEATURE_RECONNECTION | XSD_FEATURE_ERROR))

static uint32_t ring_load(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

static void ring_store(uint32_t *p, uint32_t v)
{
	*(volatile uint32_t *)p = v;
}

static void ring_mb(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

static void ring_notify(struct xsd_ring *r)
{
	if (r->notify)
		r->notify(r->payload);
}

/* A producer may be at most one ring ahead of its consumer, never behind. */
static bool ring_indexes_ok(uint32_t cons, uint32_t prod)
{
	return prod - cons <= XSD_RING_SIZE;
}

static int ring_bad_index(struct xsd_ring *r, const char *which, uint32_t cons, uint32_t prod)
{
	xsd_ring_fail(r, XSD_RING_ERROR_RINGIDX);
	return vs_error_set(VS_EIO, "xenbus ring: bad %s indexes cons=%u prod=%u", which,
			    (unsigned int)cons, (unsigned int)prod);
}

void xsd_ring_init(struct xsd_ring *r, void *page, xsd_ring_notify_fn *notify, void *payload)
{
	r->page = page;
	r->notify = notify;
	r->payload = payload;
	r->broken = false;
	ring_store(&r->page->server_features, ring_load(&r->page->server_features) | RING_FEATURES);
	ring_mb();
}

int xsd_ring_read(struct xsd_ring *r, void *buf, size_t len)
{
	struct xsd_ring_page *p = r->page;

	if (r->broken)
		return 0;
	uint32_t cons = ring_load(&p->req_cons);
	uint32_t prod = ring_load(&p->req_prod);
	ring_mb();
	if (!ring_indexes_ok(cons, prod))
		return ring_bad_index(r, "request", cons, prod);

	size_t avail = prod - cons;
	if (len > avail)
		len = avail;
	if (len == 0)
		return 0;
	/* At most two chunks: up to the end of the buffer, then from its start. */
	size_t first = XSD_RING_SIZE - XSD_RING_MASK(cons);
	if (first > len)
		first = len;
	memcpy(buf, p->req + XSD_RING_MASK(cons), first);
	memcpy((char *)buf + first, p->req, len - first);
	ring_mb();
	ring_store(&p->req_cons, cons + (uint32_t)len);
	ring_notify(r);
	return (int)len;
}

int xsd_ring_write(struct xsd_ring *r, const void *data, size_t len)
{
	struct xsd_ring_page *p = r->page;

	if (r->broken)
		return 0;
	uint32_t cons = ring_load(&p->rsp_cons);
	uint32_t prod = ring_load(&p->rsp_prod);
	ring_mb();
	if (!ring_indexes_ok(cons, prod))
		return ring_bad_index(r, "reply", cons, prod);

	size_t space = XSD_RING_SIZE - (prod - cons);
	if (len > space)
		len = space;
	if (len == 0)
		return 0;
	size_t first = XSD_RING_SIZE - XSD_RING_MASK(prod);
	if (first > len)
		first = len;
	memcpy(p->rsp + XSD_RING_MASK(prod), data, first);
	memcpy(p->rsp, (const char *)data + first, len - first);
	/* The bytes must be visible before the guest can see the new index. */
	ring_mb();
	ring_store(&p->rsp_prod, prod + (uint32_t)len);
	ring_notify(r);
	return (int)len;
}

bool xsd_ring_can_read(const struct xsd_ring *r)
{
	if (r->broken)
		return false;
	return ring_load(&r->page->req_cons) != ring_load(&r->page->req_prod);
}

bool xsd_ring_can_write(const struct xsd_ring *r)
{
	if (r->broken)
		return false;
	uint32_t cons = ring_load(&r->page->rsp_cons);
	uint32_t prod = ring_load(&r->page->rsp_prod);
	/* A bad index also "can write": the write then reports it. */
	return prod - cons != XSD_RING_SIZE;
}

bool xsd_ring_reconnect_requested(const struct xsd_ring *r)
{
	return ring_load(&r->page->connection) == XSD_RING_RECONNECT;
}

void xsd_ring_fail(struct xsd_ring *r, uint32_t error)
{
	assert(error != XSD_RING_ERROR_NONE);
	r->broken = true;
	ring_store(&r->page->error, error);
	ring_mb();
	ring_notify(r);
}

void xsd_ring_reset(struct xsd_ring *r)
{
	struct xsd_ring_page *p = r->page;

	ring_store(&p->req_cons, 0);
	ring_store(&p->req_prod, 0);
	ring_store(&p->rsp_cons, 0);
	ring_store(&p->rsp_prod, 0);
	ring_store(&p->error, XSD_RING_ERROR_NONE);
	ring_store(&p->server_features, ring_load(&p->server_features) | RING_FEATURES);
	/* Empty queues first: the guest trusts nothing until it sees CONNECTED. */
	ring_mb();
	ring_store(&p->connection, XSD_RING_CONNECTED);
	ring_mb();
	r->broken = false;
	ring_notify(r);
}
