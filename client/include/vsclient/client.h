/* SPDX-License-Identifier: MIT */
/*
 * libvsclient: one Xenstore client API over every transport. A program is
 * written once against struct vsc_client and picks its transport at run
 * time by URI:
 *   unix:PATH                  the daemon's socket (NULL URI: XENSTORED_PATH,
 *                              else $XENSTORED_RUNDIR/socket, else
 *                              /var/run/xenstored/socket, as libxenstore)
 *   xenbus:[PATH]              a guest's xenbus device (default: XENSTORED_PATH,
 *                              else /dev/xen/xenbus, else /proc/xen/xenbus);
 *                              PATH may also be a socket (it is connected to)
 *   inproc:STORE-URI[?domid=N] the store as a library in this process, with
 *                              the daemon's semantics (its engine), no daemon;
 *                              privileged without domid. Clients of the same
 *                              STORE-URI in one process share one engine, as
 *                              clients of one daemon do. More parameters,
 *                              joined with '&': the daemon's retention
 *                              keep-last=N, keep-newer-than=D, gc-every=N
 *                              (a collection advances one ~1 ms step per
 *                              request; every client of a store must give
 *                              the same settings)
 *   /PATH                      a socket or a device, as libxenstore's stat()
 * Other schemes: vsclient/sys/transport.h.
 * Errors are the store's negative VS_E… codes; a Xenstore error reply maps
 * to the errno of its name (VS_ENOENT for "ENOENT"), with the daemon's text
 * in vs_error_last(). Not thread-safe: one client per thread.
 */
#ifndef VSCLIENT_CLIENT_H
#define VSCLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vstore/vstore.h>

#define VSC_EXTERN __attribute__((visibility("default")))

struct vsc_client;

/** A transaction id; VSC_TXN_NONE outside transactions. */
typedef uint32_t vsc_txn_t;
#define VSC_TXN_NONE 0u

/**
 * Open a client on @p uri (NULL: the daemon socket found as libxenstore does,
 * then the xenbus device). Caller closes *out (NULL on failure).
 * @return 0, VS_EINVAL (bad URI), VS_ENOENT (no such socket or device), VS_EIO.
 */
VSC_EXTERN int vsc_client_open(struct vsc_client **out, const char *uri);
/** Close: open transactions are aborted, watches dropped. NULL-safe. */
VSC_EXTERN void vsc_client_close(struct vsc_client *c);
/** The transport's scheme ("unix", "xenbus", "inproc"). Borrowed. */
VSC_EXTERN const char *vsc_client_transport(const struct vsc_client *c);

/* --- nodes ---------------------------------------------------------------- */
/** Read @p path into @p out (replaced; NUL-terminated past size). @return 0, VS_ENOENT, VS_EACCES… */
VSC_EXTERN int vsc_read(struct vs_buf *out, struct vsc_client *c, vsc_txn_t t, const char *path);
/** Write @p len bytes at @p path, creating parents. */
VSC_EXTERN int vsc_write(struct vsc_client *c, vsc_txn_t t, const char *path, const void *data,
			 size_t len);
/** Create @p path (and parents) if missing. */
VSC_EXTERN int vsc_mkdir(struct vsc_client *c, vsc_txn_t t, const char *path);
/** Remove @p path and everything below it. */
VSC_EXTERN int vsc_rm(struct vsc_client *c, vsc_txn_t t, const char *path);
/** The children of @p path in the daemon's order; large listings use DIRECTORY_PART. Caller disposes @p out. */
VSC_EXTERN int vsc_directory(struct vs_strarray *out, struct vsc_client *c, vsc_txn_t t,
			     const char *path);
/** The permissions of @p path as strings ("b0", "r5"), owner first. Caller disposes @p out. */
VSC_EXTERN int vsc_get_perms(struct vs_strarray *out, struct vsc_client *c, vsc_txn_t t,
			     const char *path);
/** Set the permissions of @p path from @p n strings ("b0", "r5"), owner first. */
VSC_EXTERN int vsc_set_perms(struct vsc_client *c, vsc_txn_t t, const char *path,
			     const char *const *perms, size_t n);

/* --- watches ---------------------------------------------------------------- */
/** One watch event; its strings are owned by it. */
struct vsc_event {
	char *path;
	char *token;
};
/** Free the strings of @p ev. NULL-safe. */
VSC_EXTERN void vsc_event_release(struct vsc_event *ev);
/** Watch @p path (a subtree) with @p token; @p depth < 0: any depth. The initial event is queued. */
VSC_EXTERN int vsc_watch(struct vsc_client *c, const char *path, const char *token, int depth);
/** Remove a watch. @return 0, VS_ENOENT. */
VSC_EXTERN int vsc_unwatch(struct vsc_client *c, const char *path, const char *token);
/**
 * A file descriptor (borrowed) that polls readable while events are queued
 * or bytes wait on the connection (for poll/uv_poll); a wake-up by a message
 * still incomplete is possible: vsc_event_next(…, 0) then says VS_EAGAIN.
 */
VSC_EXTERN int vsc_event_fd(struct vsc_client *c);
/**
 * The next event, waiting up to @p timeout_ms (-1: forever, 0: poll).
 * @return 0 (fill @p out; release it), VS_EAGAIN (none in time).
 */
VSC_EXTERN int vsc_event_next(struct vsc_event *out, struct vsc_client *c, int timeout_ms);

/* --- transactions ---------------------------------------------------------- */
/** Start a transaction; its id into @p out. @return 0, VS_ENOSPC (too many open). */
VSC_EXTERN int vsc_transaction_start(vsc_txn_t *out, struct vsc_client *c);
/** Commit (@p commit) or abort. @return 0, VS_EAGAIN (conflict: run it again). */
VSC_EXTERN int vsc_transaction_end(struct vsc_client *c, vsc_txn_t t, bool commit);
/** The body of a transaction: 0 to commit, negative to abort with that error. */
typedef int vsc_txn_fn(struct vsc_client *c, vsc_txn_t t, void *payload);
/** Bounds of vsc_transaction_run's retries; zero-filled means the defaults. */
struct vsc_retry_opts {
	unsigned int attempts;    /* 0: 16 */
	unsigned int backoff_ms;  /* first wait after a conflict, doubled each time; 0: 1 */
	unsigned int max_wait_ms; /* cap of one wait; 0: 100 */
};
/**
 * Run @p fn in a transaction until it commits, retrying on EAGAIN (from
 * @p fn or the commit) with backoff. @return 0, @p fn's error, or VS_EAGAIN
 * when the attempts ran out.
 */
VSC_EXTERN int vsc_transaction_run(struct vsc_client *c, vsc_txn_fn *fn, void *payload,
				   const struct vsc_retry_opts *opts);

/* --- waiting for a condition ------------------------------------------------ */
#define VSC_WAIT_AGAIN 1 /* what a vsc_wait_fn returns for "not yet" */
/** A condition over the store: 0 done, VSC_WAIT_AGAIN not yet, negative error. */
typedef int vsc_wait_fn(struct vsc_client *c, void *payload);
/**
 * Run @p fn; while it answers VSC_WAIT_AGAIN, watch exactly the paths it
 * read (through this client) and run it again when one changes. Its
 * watches are removed before returning. @return 0, @p fn's error,
 * VS_EAGAIN after @p timeout_ms (-1: none).
 */
VSC_EXTERN int vsc_wait(struct vsc_client *c, vsc_wait_fn *fn, void *payload, int timeout_ms);

/* --- domains, features, quotas, control ------------------------------------- */
/** INTRODUCE domain @p domid (ring page @p gfn, event channel @p evtchn). @return 0, VS_EACCES, VS_EINVAL. */
VSC_EXTERN int vsc_introduce(struct vsc_client *c, unsigned int domid, uint64_t gfn,
			     uint32_t evtchn);
/** RELEASE domain @p domid (its nodes go, @releaseDomain fires). @return 0, VS_EACCES, VS_ENOENT. */
VSC_EXTERN int vsc_release(struct vsc_client *c, unsigned int domid);
/** RESUME domain @p domid (re-arms @releaseDomain). @return 0, VS_EACCES, VS_ENOENT. */
VSC_EXTERN int vsc_resume(struct vsc_client *c, unsigned int domid);
/** Whether @p domid is introduced, into @p out. @return 0, VS_EACCES. */
VSC_EXTERN int vsc_is_introduced(bool *out, struct vsc_client *c, unsigned int domid);
/** "/local/domain/<domid>" into @p out. */
VSC_EXTERN int vsc_get_domain_path(struct vs_buf *out, struct vsc_client *c, unsigned int domid);
/** SET_TARGET: @p domid gets @p target's rights (device models). @return 0, VS_EACCES, VS_ENOENT. */
VSC_EXTERN int vsc_set_target(struct vsc_client *c, unsigned int domid, unsigned int target);
/** Features of @p domid (< 0: this connection's). */
VSC_EXTERN int vsc_get_features(uint32_t *out, struct vsc_client *c, int domid);
/** Set the features of @p domid before it is introduced. @return 0, VS_EACCES, VS_EBUSY. */
VSC_EXTERN int vsc_set_features(struct vsc_client *c, unsigned int domid, uint32_t features);
/** Quota @p name, of @p domid (< 0: the global default). */
VSC_EXTERN int vsc_get_quota(uint64_t *out, struct vsc_client *c, int domid, const char *name);
/** Set quota @p name of @p domid (< 0: the global default). @return 0, VS_EACCES, VS_EINVAL. */
VSC_EXTERN int vsc_set_quota(struct vsc_client *c, int domid, const char *name, uint64_t value);
/** The quota names the daemon knows. Caller disposes @p out. */
VSC_EXTERN int vsc_quota_names(struct vs_strarray *out, struct vsc_client *c);
/** CONTROL with @p argc strings; the reply text into @p out. */
VSC_EXTERN int vsc_control(struct vs_buf *out, struct vsc_client *c, const char *const *argv,
			   size_t argc);

/* --- history (inproc, and unix to vstore's daemon) --------------------------- */
/** One change of a path, newest first. */
struct vsc_change {
	char commit[VS_OID_MAXHEXSZ + 1]; /* commit id, hex */
	int64_t time;                     /* seconds since 1970 */
	unsigned int domid;               /* who made it (~0u: not recorded) */
	char *summary;                    /* the commit's first line; owned */
};
/** Free the entries of @p v (and @p v). NULL-safe. */
VSC_EXTERN void vsc_changes_free(struct vsc_change *v, size_t n);
/**
 * The last @p max changes to @p path or below it (0: all), newest first;
 * free *out with vsc_changes_free(). Like CONTROL, for the privileged only.
 * @return 0, VS_ENOTSUP when the transport has no history (xenbus, another
 * daemon), VS_EACCES (an unprivileged client).
 */
VSC_EXTERN int vsc_log(struct vsc_change **out, size_t *n, struct vsc_client *c, const char *path,
		       size_t max);
/**
 * Read @p path as it was at commit @p commit: a hex id or prefix, a branch
 * ("main"), either with "~N" (N first parents back). An existing node
 * without value reads empty. @return 0, VS_ENOENT, VS_ENOTSUP, VS_EACCES.
 */
VSC_EXTERN int vsc_read_at(struct vs_buf *out, struct vsc_client *c, const char *commit,
			   const char *path);

#endif
