/* SPDX-License-Identifier: MIT */
/*
 * For implementers of libvsclient transports, not for its users. A
 * transport moves whole Xenstore messages (xs_wire.h framing: a 16-byte
 * header, then at most 4096 bytes of payload) between the client and one
 * Xenstore connection; the client does the framing, matches replies to
 * requests by req_id and queues watch events. A transport is an object whose
 * first member is struct vsc_transport, plus a const ops table shared by its
 * instances (designated initializers), registered under a URI scheme.
 * Everything is called from the thread that owns the client.
 */
#ifndef VSCLIENT_SYS_TRANSPORT_H
#define VSCLIENT_SYS_TRANSPORT_H

#include <stddef.h>
#include <sys/uio.h>

#include "../client.h"

/*
 * 2 added recv_wait; tables of version 1 (without it) are still accepted,
 * and their slots after free are never read.
 */
#define VSC_TRANSPORT_OPS_VERSION 2

struct vsc_transport;

/** What a transport does; the mandatory slots are checked at registration. */
struct vsc_transport_ops {
	/** VSC_TRANSPORT_OPS_VERSION */
	unsigned int version;
	/** The URI scheme without ':' ("unix"), [a-z0-9+.-]+. */
	const char *scheme;
	/**
	 * Connect to @p address (the URI after "scheme:", possibly empty). On
	 * success *out is a new transport whose ops is @p ops. Mandatory.
	 * @return 0; VS_ENOENT (no such endpoint), VS_EINVAL (bad address), VS_EIO.
	 */
	int (*connect)(struct vsc_transport **out, const struct vsc_transport_ops *ops,
		       const char *address);
	/**
	 * Send the bytes of @p iov (@p n pieces: always whole messages), all of
	 * them before returning (it may block). Mandatory.
	 * @return 0; VS_EIO (connection lost: the client then stops using it).
	 */
	int (*send)(struct vsc_transport *t, const struct iovec *iov, size_t n);
	/**
	 * Take up to @p len bytes the peer sent, without blocking: any split
	 * of the stream is fine. Mandatory.
	 * @return the count (> 0); VS_EAGAIN (nothing now); VS_EIO (closed or failed).
	 */
	long (*recv)(struct vsc_transport *t, void *buf, size_t len);
	/**
	 * A file descriptor that polls readable (POLLIN) whenever recv may
	 * return bytes, owned by the transport. Mandatory: the client waits on it.
	 */
	int (*fd)(struct vsc_transport *t);
	/**
	 * History of a path (vsc_log()). Optional: NULL answers VS_ENOTSUP. It
	 * may talk to the peer through @p c (vsc_control()).
	 * @param[out] out, n: changes, newest first, freed by vsc_changes_free().
	 */
	int (*log)(struct vsc_change **out, size_t *n, struct vsc_transport *t,
		   struct vsc_client *c, const char *path, size_t max);
	/** A value at a commit (vsc_read_at()). Optional: NULL answers VS_ENOTSUP. */
	int (*read_at)(struct vs_buf *out, struct vsc_transport *t, struct vsc_client *c,
		       const char *commit, const char *path);
	/**
	 * Stop talking (the peer drops the connection's watches and open
	 * transactions); afterwards only free is called. Optional.
	 */
	void (*close)(struct vsc_transport *t);
	/** Release everything of @p t (after close). Mandatory. */
	void (*free)(struct vsc_transport *t);
	/**
	 * As recv, but wait until at least one byte arrives (a synchronous call
	 * waiting for its reply). Optional (version >= 2): without it the
	 * client polls fd() and then calls recv; with it a call costs one
	 * system call and one wake-up less.
	 * @return the count (> 0); VS_EIO (closed or failed).
	 */
	long (*recv_wait)(struct vsc_transport *t, void *buf, size_t len);
};

/** The base of every transport object. */
struct vsc_transport {
	const struct vsc_transport_ops *ops; /* its ops table, set by connect */
};

/**
 * Make @p ops (borrowed: it must outlive every client using it) open URIs
 * of its scheme, in addition to the built-in "unix", "xenbus" and "inproc";
 * a registered scheme may replace a built-in one. Thread-safe.
 * @return 0; VS_EINVAL (bad version, scheme or missing mandatory slot);
 * VS_EEXIST (the scheme is registered already); VS_ENOMEM.
 */
VSC_EXTERN int vsc_transport_register(const struct vsc_transport_ops *ops);

/** Remove the registration of @p scheme. @return 0, VS_ENOENT. Thread-safe. */
VSC_EXTERN int vsc_transport_unregister(const char *scheme);

/** The ops opening @p scheme (registered ones first), or NULL. Borrowed. Thread-safe. */
VSC_EXTERN const struct vsc_transport_ops *vsc_transport_find(const char *scheme);

#endif
