/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous form of libvsclient: a struct vsc_async binds a client to
 * a libuv loop, and requests are sent at once and answered through
 * callbacks, many in flight on one connection (matched by request id, so a
 * peer may answer in any order), where libxenstore allows one at a time.
 *
 * Rules every function below shares:
 *  - A request function returning 0 has sent its request; its callback then
 *    runs exactly once, from the loop (never inside the request function),
 *    or from vsc_async_close(). One returning < 0 sent nothing and never
 *    calls back: VS_EINVAL (bad arguments), VS_E2BIG (over 4096 bytes),
 *    VS_EIO (connection lost), VS_EBUSY (closing), VS_ENOMEM.
 *  - A callback's err is 0 or the error the synchronous call would return;
 *    vs_error_last() holds its message during the callback. A lost
 *    connection, or vsc_async_close() with the request unanswered, is VS_EIO.
 *  - Callbacks may issue requests, synchronous calls and vsc_async_close().
 *  - The synchronous API stays usable on the client meanwhile; replies to
 *    asynchronous requests that such a call reads are delivered afterwards.
 *  - Sending may wait for room on the connection, as the synchronous calls
 *    do: keep what is in flight bounded (hundreds, not millions).
 * uv_loop_t is struct uv_loop_s; this header does not need <uv.h>.
 */
#ifndef VSCLIENT_ASYNC_H
#define VSCLIENT_ASYNC_H

#include "client.h"

struct uv_loop_s;
struct vsc_async;

/** Outcome of a request without a value (write, mkdir, rm, set_perms, txn end, watch). */
typedef void vsc_async_done_fn(void *payload, int err);
/**
 * Outcome of a read: @p value holds the bytes (NUL-terminated past size;
 * empty on error). Borrowed for the call; keep them with vs_buf_detach().
 */
typedef void vsc_async_read_fn(void *payload, int err, struct vs_buf *value);
/**
 * Outcome of directory / get_perms: @p list (empty on error), borrowed for
 * the call; take it by copying the struct and zeroing *@p list.
 */
typedef void vsc_async_list_fn(void *payload, int err, struct vs_strarray *list);
/** Outcome of a transaction start: its id (VSC_TXN_NONE on error). */
typedef void vsc_async_txn_fn(void *payload, int err, vsc_txn_t txn);
/** One watch event; @p path and @p token are borrowed for the call. */
typedef void vsc_async_event_fn(void *payload, const char *path, const char *token);

/**
 * Bind client @p c (one async form per client) to @p loop (a uv_loop_t).
 * Watch events go to @p event_cb with @p payload (so vsc_wait() on @p c sees
 * none), or, when it is NULL, stay in the client's queue (vsc_event_next()).
 * The loop stays alive while requests are in flight, and for as long as the
 * form is open with an @p event_cb. Caller closes *out (NULL on failure)
 * with vsc_async_close().
 * @return 0, VS_EBUSY (the client has one already), VS_EIO (a lost connection).
 */
VSC_EXTERN int vsc_async_new(struct vsc_async **out, struct vsc_client *c, struct uv_loop_s *loop,
			     vsc_async_event_fn *event_cb, void *payload);
/**
 * Close: answers already read get their callbacks, the rest VS_EIO, all
 * before this returns; events not yet delivered are dropped. The memory goes
 * when the loop runs next (libuv's close callbacks); @p a must not be used
 * after this call. vsc_client_close() closes an attached form. NULL-safe.
 */
VSC_EXTERN void vsc_async_close(struct vsc_async *a);
/** Requests sent whose callbacks have not run yet. */
VSC_EXTERN size_t vsc_async_pending(const struct vsc_async *a);

/** Read @p path (in transaction @p t); @p cb gets the value. */
VSC_EXTERN int vsc_async_read(struct vsc_async *a, vsc_txn_t t, const char *path,
			      vsc_async_read_fn *cb, void *payload);
/** Write @p len bytes of @p data (not kept after the call) at @p path, creating parents. */
VSC_EXTERN int vsc_async_write(struct vsc_async *a, vsc_txn_t t, const char *path, const void *data,
			       size_t len, vsc_async_done_fn *cb, void *payload);
/** Create @p path (and parents) if missing. */
VSC_EXTERN int vsc_async_mkdir(struct vsc_async *a, vsc_txn_t t, const char *path,
			       vsc_async_done_fn *cb, void *payload);
/** Remove @p path and everything below it. */
VSC_EXTERN int vsc_async_rm(struct vsc_async *a, vsc_txn_t t, const char *path,
			    vsc_async_done_fn *cb, void *payload);
/** The children of @p path, through DIRECTORY_PART when they do not fit one reply. */
VSC_EXTERN int vsc_async_directory(struct vsc_async *a, vsc_txn_t t, const char *path,
				   vsc_async_list_fn *cb, void *payload);
/** The permissions of @p path as strings ("b0", "r5"), owner first. */
VSC_EXTERN int vsc_async_get_perms(struct vsc_async *a, vsc_txn_t t, const char *path,
				   vsc_async_list_fn *cb, void *payload);
/** Set the permissions of @p path from @p n strings (not kept), owner first. */
VSC_EXTERN int vsc_async_set_perms(struct vsc_async *a, vsc_txn_t t, const char *path,
				   const char *const *perms, size_t n, vsc_async_done_fn *cb,
				   void *payload);
/** Start a transaction; @p cb gets its id. */
VSC_EXTERN int vsc_async_transaction_start(struct vsc_async *a, vsc_async_txn_fn *cb,
					   void *payload);
/** Commit (@p commit) or abort transaction @p t; VS_EAGAIN in @p cb: a conflict, run it again. */
VSC_EXTERN int vsc_async_transaction_end(struct vsc_async *a, vsc_txn_t t, bool commit,
					 vsc_async_done_fn *cb, void *payload);
/** Watch @p path with @p token, @p depth levels (< 0: any); events as vsc_async_new() says. */
VSC_EXTERN int vsc_async_watch(struct vsc_async *a, const char *path, const char *token, int depth,
			       vsc_async_done_fn *cb, void *payload);
/** Remove a watch (VS_ENOENT in @p cb when there is none); no event of it follows @p cb. */
VSC_EXTERN int vsc_async_unwatch(struct vsc_async *a, const char *path, const char *token,
				 vsc_async_done_fn *cb, void *payload);

#endif
