/* SPDX-License-Identifier: MIT */
/*
 * The fake Xen's files, shared by the preloaded library (libxenfake.so, the
 * daemon's side) and the guest-side test client (fakeguest). Everything
 * lives in $XENFAKE_DIR:
 *   ring-<domid>         the domain's 4 KiB xenstore page (mmapped shared)
 *   dom-<domid>          "running", "shutdown" or "dying"; absent = no such
 *                        domain (domain 0 always exists)
 *   evtchn               FIFO read by the daemon's event-channel handle;
 *                        each notification is one struct xenfake_event
 *   guest-<domid>-<port> FIFO of guest <domid>'s port <port>: one byte per
 *                        notification from the daemon
 *   port-<domid>         dom0's event channel as /proc/xen/xsd_port gives it
 *   log                  one line per map/unmap/bind/unbind the fake did
 */
#ifndef XENFAKE_H
#define XENFAKE_H

#include <stdint.h>

#define XENFAKE_PAGE_SIZE 4096
#define XENFAKE_DIR_ENV "XENFAKE_DIR"
/* Set (to anything) to make grant mapping fail, exercising the fallback. */
#define XENFAKE_NO_GNTTAB_ENV "XENFAKE_NO_GNTTAB"
/* The domid a VIRQ notification carries (DOMID_SELF); port = the VIRQ number. */
#define XENFAKE_VIRQ_DOMID 0x7FF0u

/** One notification to the daemon: from port @p port of domain @p domid. */
struct xenfake_event {
	uint32_t domid;
	uint32_t port;
};

#endif
