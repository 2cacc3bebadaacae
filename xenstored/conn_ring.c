/* SPDX-License-Identifier: MIT */
/*
 * The xenbus transport: one client per introduced domain over its shared
 * ring page (ring.c), woken through one uv_poll on the event-channel
 * device. The page comes from the grant table (GNTTAB_RESERVED_XENSTORE),
 * else from foreign memory at the gfn given to INTRODUCE; dom0's own ring,
 * when the kernel offers one, from /dev/xen/xsd_kva and /proc/xen/xsd_port.
 * VIRQ_DOM_EXC makes us look for dying domains and report them to the
 * engine. A domain's client is detached (transport = NULL) before it is
 * closed, so a deferred close never reaches a ring that is gone.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* xenctrl.h first: it defines __XEN_TOOLS__, which the xen/ headers need. */
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#include <xen/grant_table.h>

#include "ring.h"

/* Device paths, overridable so tests can run under the fake (tests/xenfake). */
#define ENV_EVTCHN_DEV "XSD_XEN_EVTCHN_DEV"
#define ENV_KVA_DEV "XSD_XEN_KVA_DEV"
#define ENV_PORT_DEV "XSD_XEN_PORT_DEV"

#define XEN_PAGE_SIZE 4096

#define xen_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

enum xen_map { XEN_MAP_GNTTAB, XEN_MAP_FOREIGN, XEN_MAP_KVA };

struct xen_state;

/* One introduced domain (or dom0's own ring). */
struct xen_dom {
	struct xen_state *x;
	struct xen_dom *next;
	unsigned int domid;
	evtchn_port_t port; /* our end of its event channel; 0: unbound */
	void *page;	    /* mapped ring page */
	enum xen_map how;   /* how to unmap it */
	struct xsd_ring ring;
	struct xsd_client *cl; /* NULL while the ring is failed or not yet connected */
	bool want_client;      /* create the client at the next service */
	bool paused;	       /* conn.c asked us to stop reading */
	bool queued;	       /* waiting for the deferred service */
	bool released;	       /* unlinked and unmapped: free when !busy */
	unsigned int busy;     /* service calls on the stack */
};

/* The transport (d->xen). */
struct xen_state {
	struct xsd_daemon *d;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;	      /* NULL: foreign memory only */
	xenforeignmemory_handle *xfm; /* NULL: grant tables only */
	xc_interface *xch;
	int virq_port;	      /* VIRQ_DOM_EXC, or -1 */
	uv_poll_t poll;	      /* readable: xenevtchn_pending() */
	uv_timer_t defer;     /* services domains marked queued */
	unsigned int handles; /* uv handles still open */
	struct xen_dom *doms;
};

static void dom_service(struct xen_dom *dom);

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

/* The one translation of libxen's errno into VS_E… codes. */
static int xen_err(const char *what, unsigned int domid)
{
	int e = errno;
	int code;

	switch (e) {
	case ENOENT:
	case EEXIST:
	case EINVAL:
	case EACCES:
	case EPERM:
	case ENOMEM:
	case ENOSPC:
	case E2BIG:
	case EAGAIN:
	case EBUSY:
	case EIO:
	case ENOSYS:
		code = -e;
		break;
	case ESRCH:
		code = VS_ENOENT;
		break;
	default:
		code = VS_EIO;
		break;
	}
	return vs_error_set(code, "xen: %s (domain %u): %s", what, domid, strerror(e));
}

static void xen_warn(struct xen_state *x, const char *what, unsigned int domid)
{
	xsd_log(x->d, LOG_WARNING, "xen: %s (domain %u): %s", what, domid, strerror(errno));
}

bool xsd_xen_available(void)
{
	return access(env_or(ENV_EVTCHN_DEV, "/dev/xen/evtchn"), F_OK) == 0;
}

static struct xen_dom *dom_find(struct xen_state *x, unsigned int domid)
{
	for (struct xen_dom *dom = x->doms; dom; dom = dom->next)
		if (dom->domid == domid)
			return dom;
	return NULL;
}

static void dom_notify(void *payload)
{
	struct xen_dom *dom = payload;
	if (dom->port && xenevtchn_notify(dom->x->xce, dom->port) < 0)
		xen_warn(dom->x, "notify", dom->domid);
}

static void dom_unbusy(struct xen_dom *dom)
{
	if (--dom->busy == 0 && dom->released)
		free(dom);
}

/* Detach and close the client: its queued output and state are dropped. */
static void dom_drop_client(struct xen_dom *dom)
{
	struct xsd_client *cl = dom->cl;

	dom->cl = NULL;
	dom->paused = false;
	if (cl) {
		cl->transport = NULL;
		xsd_client_close(cl);
	}
}

static void defer_cb(uv_timer_t *t)
{
	struct xen_state *x = xen_container_of(t, struct xen_state, defer);

	/* Rescan from the head: servicing may release other domains. */
	for (;;) {
		struct xen_dom *dom = x->doms;
		while (dom && !dom->queued)
			dom = dom->next;
		if (!dom)
			return;
		dom->queued = false;
		dom_service(dom);
	}
}

/* Service @dom from the loop soon, outside the caller's stack. */
static void dom_defer(struct xen_dom *dom)
{
	dom->queued = true;
	uv_timer_start(&dom->x->defer, defer_cb, 0, 0);
}

static void ring_kick(struct xsd_client *cl);
static void ring_pause(struct xsd_client *cl, bool paused);
static void ring_close(struct xsd_client *cl);

static const struct xsd_client_ops ring_client_ops = {
    .kick = ring_kick,
    .pause = ring_pause,
    .close = ring_close,
};

static int dom_connect(struct xen_dom *dom)
{
	int err = xsd_client_new(&dom->cl, dom->x->d, dom->domid, 0, &ring_client_ops, dom);
	if (err < 0) {
		dom->cl = NULL;
		xsd_log(dom->x->d, LOG_ERR, "xen: no client for domain %u: %s", dom->domid,
			vs_error_last()->message);
		xsd_ring_fail(&dom->ring, XSD_RING_ERROR_COMM);
	}
	return err;
}

/* Queued output into the reply ring, as far as it fits. */
static void dom_write(struct xen_dom *dom)
{
	const void *data;
	size_t n;

	while (dom->cl && (n = xsd_client_out_peek(dom->cl, &data)) > 0) {
		int w = xsd_ring_write(&dom->ring, data, n);
		if (w < 0) {
			xsd_log(dom->x->d, LOG_WARNING, "domain %u: %s", dom->domid,
				vs_error_last()->message);
			dom_drop_client(dom);
			return;
		}
		if (w == 0)
			return;
		xsd_client_out_consume(dom->cl, (size_t)w);
	}
}

/* Requests from the ring into the client, while it takes them. */
static void dom_read(struct xen_dom *dom)
{
	unsigned char buf[XSD_RING_SIZE];

	while (dom->cl && !dom->paused) {
		int n = xsd_ring_read(&dom->ring, buf, sizeof(buf));
		if (n < 0) {
			xsd_log(dom->x->d, LOG_WARNING, "domain %u: %s", dom->domid,
				vs_error_last()->message);
			dom_drop_client(dom);
			return;
		}
		if (n == 0)
			return;
		if (xsd_client_input(dom->cl, buf, (size_t)n) < 0) {
			/* A packet too long, or garbage: the guest must reconnect. */
			if (dom->cl) {
				xsd_ring_fail(&dom->ring, XSD_RING_ERROR_PROTO);
				dom_drop_client(dom);
			}
			return;
		}
	}
}

/* The guest asked for a fresh connection (docs/misc/xenstore-ring.txt). */
static void dom_reconnect(struct xen_dom *dom)
{
	dom_drop_client(dom);
	dom->want_client = false;
	xsd_ring_reset(&dom->ring);
	dom_connect(dom);
}

static void dom_service(struct xen_dom *dom)
{
	if (dom->released)
		return;
	dom->busy++;
	if (xsd_ring_reconnect_requested(&dom->ring)) {
		dom_reconnect(dom);
	} else if (dom->want_client) {
		dom->want_client = false;
		dom_connect(dom);
	}
	/* Each step can end in a release or a dropped client: re-check. */
	if (!dom->released && dom->cl)
		dom_write(dom);
	if (!dom->released && dom->cl)
		dom_read(dom);
	if (!dom->released && dom->cl)
		dom_write(dom);
	dom_unbusy(dom);
}

static void ring_kick(struct xsd_client *cl)
{
	struct xen_dom *dom = cl->transport;

	if (!dom || dom->cl != cl || dom->released)
		return;
	dom->busy++;
	dom_write(dom);
	dom_unbusy(dom);
}

static void ring_pause(struct xsd_client *cl, bool paused)
{
	struct xen_dom *dom = cl->transport;

	if (!dom || dom->cl != cl)
		return;
	dom->paused = paused;
	if (!paused)
		dom_defer(dom);
}

static void ring_close(struct xsd_client *cl)
{
	struct xen_dom *dom = cl->transport;

	cl->transport = NULL;
	if (dom && dom->cl == cl) {
		/* Not detached by us: conn.c gave up on the guest's input. */
		dom->cl = NULL;
		dom->paused = false;
		if (!dom->released)
			xsd_ring_fail(&dom->ring, XSD_RING_ERROR_PROTO);
	}
}

static void dom_unmap(struct xen_state *x, struct xen_dom *dom)
{
	if (!dom->page)
		return;
	switch (dom->how) {
	case XEN_MAP_GNTTAB:
		xengnttab_unmap(x->xgt, dom->page, 1);
		break;
	case XEN_MAP_FOREIGN:
		xenforeignmemory_unmap(x->xfm, dom->page, 1);
		break;
	case XEN_MAP_KVA:
		munmap(dom->page, XEN_PAGE_SIZE);
		break;
	}
	dom->page = NULL;
}

/* Tear down @dom: client, event channel, mapping; freed once off the stack. */
static void dom_release(struct xen_dom *dom)
{
	struct xen_state *x = dom->x;

	for (struct xen_dom **p = &x->doms; *p; p = &(*p)->next) {
		if (*p == dom) {
			*p = dom->next;
			break;
		}
	}
	dom->released = true;
	dom_drop_client(dom);
	if (dom->port && xenevtchn_unbind(x->xce, dom->port) < 0)
		xen_warn(x, "unbind", dom->domid);
	dom->port = 0;
	dom_unmap(x, dom);
	if (dom->busy == 0)
		free(dom);
}

/* Map @domid's ring: its reserved grant first, the gfn as a fallback. */
static int dom_map(struct xen_state *x, struct xen_dom *dom, uint64_t gfn)
{
	if (x->xgt) {
		dom->page = xengnttab_map_grant_ref(x->xgt, dom->domid, GNTTAB_RESERVED_XENSTORE,
						    PROT_READ | PROT_WRITE);
		dom->how = XEN_MAP_GNTTAB;
	}
	if (!dom->page && x->xfm) {
		xen_pfn_t pfn = (xen_pfn_t)gfn;
		dom->page =
		    xenforeignmemory_map(x->xfm, dom->domid, PROT_READ | PROT_WRITE, 1, &pfn, NULL);
		dom->how = XEN_MAP_FOREIGN;
	}
	return dom->page ? 0 : xen_err("cannot map the ring page", dom->domid);
}

static struct xen_dom *dom_new(struct xen_state *x, unsigned int domid)
{
	struct xen_dom *dom = calloc(1, sizeof(*dom));
	if (!dom)
		return NULL;
	dom->x = x;
	dom->domid = domid;
	return dom;
}

static void dom_link(struct xen_state *x, struct xen_dom *dom)
{
	dom->next = x->doms;
	x->doms = dom;
}

int xsd_xen_introduce(struct xsd_daemon *d, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	struct xen_state *x = d->xen;
	int port;

	if (!x)
		return vs_error_set(VS_ENOTSUP, "xen: the xenbus transport is not running");
	struct xen_dom *dom = dom_find(x, domid);
	if (dom) {
		/* As C xenstored: rebind the event channel and reset the connection. */
		if (dom->port)
			xenevtchn_unbind(x->xce, dom->port);
		dom->port = 0;
		if ((port = xenevtchn_bind_interdomain(x->xce, domid, evtchn)) < 0)
			return xen_err("cannot bind the event channel", domid);
		dom->port = (evtchn_port_t)port;
		dom_drop_client(dom);
		xsd_ring_reset(&dom->ring);
		dom->want_client = true;
		dom_defer(dom);
		return 0;
	}

	if (!(dom = dom_new(x, domid)))
		return vs_error_set(VS_ENOMEM, "xen: out of memory");
	int err = dom_map(x, dom, gfn);
	if (err < 0) {
		free(dom);
		return err;
	}
	if ((port = xenevtchn_bind_interdomain(x->xce, domid, evtchn)) < 0) {
		err = xen_err("cannot bind the event channel", domid);
		dom_unmap(x, dom);
		free(dom);
		return err;
	}
	dom->port = (evtchn_port_t)port;
	xsd_ring_init(&dom->ring, dom->page, dom_notify, dom);
	/* A fresh connection starts on empty queues, as in C xenstored's do_introduce. */
	xsd_ring_reset(&dom->ring);
	dom_link(x, dom);
	/* The engine is inside INTRODUCE: open the client from the loop. */
	dom->want_client = true;
	dom_defer(dom);
	return 0;
}

void xsd_xen_release(struct xsd_daemon *d, unsigned int domid)
{
	struct xen_state *x = d->xen;
	struct xen_dom *dom = x ? dom_find(x, domid) : NULL;

	if (dom)
		dom_release(dom);
}

/* VIRQ_DOM_EXC: report every introduced domain that is dying or gone. */
static void xen_check_domains(struct xen_state *x)
{
	size_t n = 0, ndead = 0;

	for (struct xen_dom *dom = x->doms; dom; dom = dom->next)
		n++;
	unsigned int *dead = calloc(n ? n : 1, sizeof(*dead));
	if (!dead)
		return;
	for (struct xen_dom *dom = x->doms; dom; dom = dom->next) {
		xc_dominfo_t info;
		if (dom->how == XEN_MAP_KVA)
			continue;
		int got = xc_domain_getinfo(x->xch, dom->domid, 1, &info);
		if (got < 0) {
			xen_warn(x, "getinfo", dom->domid);
			continue;
		}
		if (got == 1 && info.domid == dom->domid && !info.dying) {
			/* Shut down but not dying yet: @releaseDomain once (RESUME re-arms). */
			if (info.shutdown)
				xsd_engine_domain_shutdown(x->d->engine, dom->domid);
			continue;
		}
		dead[ndead++] = dom->domid;
	}
	for (size_t i = 0; i < ndead; i++) {
		/* The engine fires @releaseDomain and calls its release hook. */
		xsd_engine_domain_gone(x->d->engine, dead[i]);
		struct xen_dom *dom = dom_find(x, dead[i]);
		if (dom)
			dom_release(dom);
	}
	free(dead);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct xen_state *x = xen_container_of(h, struct xen_state, poll);

	if (status < 0) {
		xsd_log(x->d, LOG_ERR, "xen: event channel poll: %s", uv_strerror(status));
		return;
	}
	/* One event per wake-up (the fd is level-triggered), as C xenstored does. */
	int port = xenevtchn_pending(x->xce);
	if (port < 0) {
		if (errno != EAGAIN && errno != EINTR)
			xen_warn(x, "pending", 0);
		return;
	}
	if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0)
		xen_warn(x, "unmask", 0);
	if (port == x->virq_port) {
		xen_check_domains(x);
		return;
	}
	for (struct xen_dom *dom = x->doms; dom; dom = dom->next) {
		if (dom->port == (evtchn_port_t)port) {
			dom_service(dom);
			return;
		}
	}
}

/* dom0's own ring, when the kernel provides one (C xenstored's dom0_init). */
static int xen_dom0_init(struct xen_state *x)
{
	const char *kva = env_or(ENV_KVA_DEV, "/dev/xen/xsd_kva");
	const char *portf = env_or(ENV_PORT_DEV, "/proc/xen/xsd_port");
	unsigned int evtchn;

	if (access(kva, F_OK) < 0 || access(portf, F_OK) < 0)
		return 0;
	FILE *f = fopen(portf, "re");
	int ok = f && fscanf(f, "%u", &evtchn) == 1;
	if (f)
		fclose(f);
	if (!ok)
		return vs_error_set(VS_EIO, "xen: cannot read dom0's port from %s", portf);
	struct xen_dom *dom = dom_new(x, 0);
	if (!dom)
		return vs_error_set(VS_ENOMEM, "xen: out of memory");
	dom->how = XEN_MAP_KVA;
	int fd = open(kva, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dom->page = mmap(NULL, XEN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	}
	if (fd < 0 || dom->page == MAP_FAILED) {
		free(dom);
		return xen_err(kva, 0);
	}
	int port = xenevtchn_bind_interdomain(x->xce, 0, evtchn);
	if (port < 0) {
		int err = xen_err("cannot bind dom0's event channel", 0);
		dom_unmap(x, dom);
		free(dom);
		return err;
	}
	dom->port = (evtchn_port_t)port;
	xsd_ring_init(&dom->ring, dom->page, dom_notify, dom);
	dom_link(x, dom);
	dom->want_client = true;
	/* Requests the kernel queued before we started are read right away. */
	dom_service(dom);
	dom_notify(dom);
	return 0;
}

static void xen_free(struct xen_state *x)
{
	if (x->virq_port >= 0)
		xenevtchn_unbind(x->xce, (evtchn_port_t)x->virq_port);
	if (x->xch)
		xc_interface_close(x->xch);
	if (x->xfm)
		xenforeignmemory_close(x->xfm);
	if (x->xgt)
		xengnttab_close(x->xgt);
	if (x->xce)
		xenevtchn_close(x->xce);
	free(x);
}

static void xen_closed(uv_handle_t *h)
{
	struct xen_state *x = h->data;
	if (--x->handles == 0)
		xen_free(x);
}

int xsd_xen_start(struct xsd_daemon *d)
{
	struct xen_state *x = calloc(1, sizeof(*x));
	int err, port;

	if (!x)
		return vs_error_set(VS_ENOMEM, "xen: out of memory");
	x->d = d;
	x->virq_port = -1;
	if (!(x->xce = xenevtchn_open(NULL, 0))) {
		err = xen_err("cannot open the event channel device", 0);
		goto fail;
	}
	x->xgt = xengnttab_open(NULL, 0);
	if (x->xgt)
		/* One grant per domain at most. */
		xengnttab_set_max_grants(x->xgt, DOMID_FIRST_RESERVED);
	x->xfm = xenforeignmemory_open(NULL, 0);
	if (!x->xgt && !x->xfm) {
		err = xen_err("cannot open grant tables or foreign memory", 0);
		goto fail;
	}
	if (!(x->xch = xc_interface_open(NULL, NULL, 0))) {
		err = xen_err("cannot open the hypervisor interface", 0);
		goto fail;
	}
	if ((port = xenevtchn_bind_virq(x->xce, VIRQ_DOM_EXC)) < 0) {
		err = xen_err("cannot bind VIRQ_DOM_EXC", 0);
		goto fail;
	}
	x->virq_port = port;
	if ((err = uv_poll_init(d->loop, &x->poll, xenevtchn_fd(x->xce))) < 0) {
		err = vs_error_set(VS_EIO, "xen: cannot poll the event channel: %s",
				   uv_strerror(err));
		goto fail;
	}
	x->poll.data = x;
	uv_timer_init(d->loop, &x->defer);
	x->defer.data = x;
	x->handles = 2;
	uv_poll_start(&x->poll, UV_READABLE, poll_cb);
	d->xen = x;
	if ((err = xen_dom0_init(x)) < 0) {
		xsd_xen_stop(d);
		return err;
	}
	return 0;
fail:
	xen_free(x);
	return err;
}

void xsd_xen_stop(struct xsd_daemon *d)
{
	struct xen_state *x = d->xen;

	if (!x)
		return;
	while (x->doms)
		dom_release(x->doms);
	d->xen = NULL;
	uv_close((uv_handle_t *)&x->poll, xen_closed);
	uv_close((uv_handle_t *)&x->defer, xen_closed);
}
