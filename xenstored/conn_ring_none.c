/* SPDX-License-Identifier: MIT */
/*
 * The Xen ring transport of a daemon built without libxen (meson -Dxen=disabled
 * or the libraries missing): Xen is never available, so --domains defaults to
 * socket, and asking for rings fails with a message saying why.
 */
#include "daemon.h"

bool xsd_xen_available(void)
{
	return false;
}

int xsd_xen_start(struct xsd_daemon *d)
{
	return vs_error_set(VS_ENOTSUP, "this xenstored was built without Xen support (libxen): "
					"use --domains socket");
}

void xsd_xen_stop(struct xsd_daemon *d)
{
	/* Nothing was started. */
}

int xsd_xen_introduce(struct xsd_daemon *d, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	return vs_error_set(VS_ENOTSUP,
			    "cannot connect domain %u's ring: this xenstored was built without "
			    "Xen support (libxen)",
			    domid);
}

void xsd_xen_release(struct xsd_daemon *d, unsigned int domid)
{
	/* No ring can have been connected. */
}
