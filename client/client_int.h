/* SPDX-License-Identifier: MIT */
/*
 * libvsclient internals shared by its files: the client object, the
 * request/reply core (client.c), the event queue, the read tracking that
 * vsc_wait() uses, and the helpers the built-in transports share. Never
 * installed; symbols are hidden by -fvisibility=hidden.
 */
#ifndef VSC_CLIENT_INT_H
#define VSC_CLIENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vsclient/client.h>
#include <vsclient/sys/transport.h>
#include <xsd/wire.h>

/* The default daemon socket directory (libxenstore's XEN_RUN_STORED). */
#define VSC_RUNDIR_DEFAULT "/var/run/xenstored"

struct vsc_client {
	struct vsc_transport *t;  /* the connection */
	struct xsd_reader reader; /* framing of the incoming stream */
	bool broken;		  /* the stream is lost or desynchronised: calls fail */
	uint32_t next_req;	  /* the last req_id used */
	uint32_t want_req;	  /* the req_id awaited, 0 when none */
	bool got;		  /* its reply arrived: reply_hdr, reply */
	struct xsd_msg_hdr reply_hdr;
	struct vs_buf reply;
	/* Watch events not yet taken: ev[ev_head .. ev_n). */
	struct vsc_event *ev;
	size_t ev_head, ev_n, ev_cap;
	int evfd; /* eventfd, readable while events are queued */
	int epfd; /* epoll over evfd and the transport's fd: vsc_event_fd() */
	/* vsc_wait(): the paths read while its condition runs, or NULL. */
	struct vs_strarray *track;
	unsigned int wait_seq;	 /* makes each vsc_wait()'s tokens unique */
	struct vsc_async *async; /* the async form bound to a loop (async.c), or NULL */
};

/**
 * Send one request of @p type in transaction @p t with the payload made of
 * @p iov (@p n pieces) and wait for its reply; watch events arriving
 * meanwhile are queued. An error reply becomes its errno, with @p what
 * (e.g. the path) in the message. @param[out] reply the payload (may be NULL).
 */
int vsc__request(struct vs_buf *reply, struct vsc_client *c, uint32_t type, vsc_txn_t t,
		 const struct iovec *iov, size_t n, const char *what);
/**
 * Send one request (as vsc__request()) without waiting; its req_id into
 * @p req_out. A failed send marks the client broken. @return 0, VS_EINVAL,
 * VS_E2BIG, VS_EIO.
 */
int vsc__send(uint32_t *req_out, struct vsc_client *c, uint32_t type, vsc_txn_t t,
	      const struct iovec *iov, size_t n, const char *what);
/**
 * The error of an XSD_ERROR reply to a request of @p type: the errno of the
 * name in @p p (@p len bytes), as libxenstore's get_error(), with the
 * message "TYPE what: NAME".
 */
int vsc__reply_error(uint32_t type, const char *p, size_t len, const char *what);
/** vsc__request() with a payload of the NUL-terminated strings @p argv. */
int vsc__request_strs(struct vs_buf *reply, struct vsc_client *c, uint32_t type, vsc_txn_t t,
		      const char *const *argv, size_t argc);

/* The async form's hooks (async.c), called while messages are dispatched. */
struct vsc_async;
/** A reply that no synchronous call waits for: it may answer an async request. */
void vsc__async_reply(struct vsc_async *a, const struct xsd_msg_hdr *hdr, const unsigned char *p);
/** A watch event: true when the async form takes it (it has an event callback). */
bool vsc__async_event(struct vsc_async *a, const char *path, const char *token);

/** Note that the condition vsc_wait() runs read @p path (no-op outside vsc_wait). */
void vsc__track(struct vsc_client *c, const char *path);

/**
 * Take what the transport has: wait up to @p timeout_ms (-1: forever, 0:
 * not at all) for bytes, then read what is there and dispatch whole
 * messages (events to the queue, the awaited reply to c->reply).
 * @return 0; VS_EAGAIN (nothing came in time); VS_EIO (connection lost).
 */
int vsc__pump(struct vsc_client *c, int timeout_ms);

/** Milliseconds left until @p deadline (CLOCK_MONOTONIC ms; -1: no deadline, gives -1). */
int vsc__remaining_ms(int64_t deadline);
/** Now plus @p timeout_ms as a deadline (-1 when @p timeout_ms < 0). */
int64_t vsc__deadline(int timeout_ms);

/** Remove queued events whose token starts with @p prefix and (when @p path) lie under it. */
void vsc__events_drop(struct vsc_client *c, const char *prefix, bool exact, const char *path);
/**
 * Take one queued event whose token starts with @p prefix out of the queue,
 * waiting until @p deadline. @return 0 (and *out), VS_EAGAIN, or the pump's error.
 */
int vsc__event_take(struct vsc_event *out, struct vsc_client *c, const char *prefix,
		    int64_t deadline);

/**
 * Build a packed vs_strarray (one allocation from libvstore's allocator,
 * freed by vs_strarray_dispose()) from the NUL-terminated strings in
 * @p data (@p len bytes); a last unterminated piece counts too, empty
 * strings do not. @p sep: also split on this byte (0: none).
 */
int vsc__strarray_split(struct vs_strarray *out, const void *data, size_t len, char sep);

/* --- transports (transport_unix.c): a byte stream on a file descriptor --- */

/**
 * A transport over connected stream descriptor @p fd (taken over: closed by
 * free): a socket (@p is_socket) is left blocking and used with sendmsg /
 * recv flags, anything else is made non-blocking and used with writev / read.
 */
int vsc__fd_transport_new(struct vsc_transport **out, const struct vsc_transport_ops *ops, int fd,
			  bool is_socket);
/** Connect a stream socket to unix socket @p path. @return the fd or a VS_E… code. */
int vsc__unix_connect(const char *path);
/** send/recv/recv_wait/fd/close/free of vsc__fd_transport_new() transports. */
int vsc__fd_send(struct vsc_transport *t, const struct iovec *iov, size_t n);
long vsc__fd_recv(struct vsc_transport *t, void *buf, size_t len);
long vsc__fd_recv_wait(struct vsc_transport *t, void *buf, size_t len);
int vsc__fd_fd(struct vsc_transport *t);
void vsc__fd_close(struct vsc_transport *t);
void vsc__fd_free(struct vsc_transport *t);
/** The daemon socket path as libxenstore finds it, into @p out (@p n bytes). */
int vsc__socket_path(char *out, size_t n);
/** The xenbus device path as libxenstore finds it, into @p out (@p n bytes). */
int vsc__device_path(char *out, size_t n);

/* History over CONTROL "history ..." (history.c), for daemon transports. */
int vsc__log_control(struct vsc_change **out, size_t *n, struct vsc_transport *t,
		     struct vsc_client *c, const char *path, size_t max);
int vsc__read_at_control(struct vs_buf *out, struct vsc_transport *t, struct vsc_client *c,
			 const char *commit, const char *path);

/* History straight from a repository (history.c), for the in-process transport. */
struct vs_repo;
/**
 * The changes of canonical Xenstore path @p path on @p branch, newest
 * first, at most @p max (0: all).
 */
int vsc__log_repo(struct vsc_change **out, size_t *n, struct vs_repo *repo, const char *branch,
		  const char *path, size_t max);
/** Read canonical @p path at @p commit (hex, prefix, branch, "~N" suffix) on @p branch. */
int vsc__read_at_repo(struct vs_buf *out, struct vs_repo *repo, const char *branch,
		      const char *commit, const char *path);

/** The built-in transports (transport.c's table). */
extern const struct vsc_transport_ops vsc__unix_ops;
extern const struct vsc_transport_ops vsc__xenbus_ops;
extern const struct vsc_transport_ops vsc__inproc_ops;

#endif
