/* SPDX-License-Identifier: MIT */
/*
 * The fixture the libxenstore and XSA integration tests share: one daemon
 * (started through daemon_harness.h with per-domain sockets), a dom0
 * libxenstore handle on it, and helpers to act as a domain, wait for watch
 * events with a timeout, and set quotas and permissions. Every wait is
 * bounded; a test never blocks longer than its meson timeout.
 */
#ifndef XSF_FIXTURE_H
#define XSF_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xenstore.h>

#include "xsclient.h"

struct xsd_harness;

/** A running daemon and a privileged libxenstore handle on its socket. */
struct xsf {
	struct xsd_harness *d; /* the daemon (daemon_harness.h) */
	const char *dir;       /* its run dir (borrowed from the harness) */
	const char *sock;      /* DIR/socket */
	pid_t pid;             /* the daemon process */
	struct xs_handle *h;   /* dom0 handle, opened at start */
};

/**
 * Start a daemon with `--domains socket` plus the NULL-terminated @p extra
 * arguments (may be NULL) and open the dom0 handle. Fails the test on error.
 * Free with xsf_stop().
 */
struct xsf *xsf_start(const char *const *extra);

/**
 * Close the handle, stop the daemon, remove its directory. NULL-safe.
 * @return 0, or -1 when the daemon had died or did not stop cleanly (its
 * log tail is printed): teardowns return it so the test fails.
 */
int xsf_stop(struct xsf *f);

/** Open libxenstore on the socket @p path (XENSTORED_PATH). NULL on failure. */
struct xs_handle *xsf_open_path(const char *path);

/** DIR/domain/<domid> into @p buf (returned). */
const char *xsf_domain_sock(const struct xsf *f, unsigned int domid, char *buf, size_t n);

/**
 * Introduce @p domid when it is not yet, then wait (bounded) for its socket.
 * @return true when the socket exists.
 */
bool xsf_introduce(struct xsf *f, unsigned int domid);

/**
 * Give @p domid a home as a toolstack does: /local/domain/<domid> owned by
 * dom0 and readable by the domain, /local/domain/<domid>/data owned by it.
 */
void xsf_make_home(struct xsf *f, unsigned int domid);

/** Introduce @p domid (if needed) and open a libxenstore handle acting as it. */
struct xs_handle *xsf_open_domain(struct xsf *f, unsigned int domid);

/** A raw wire connection to the dom0 socket (test fails when it cannot connect). */
struct xst_conn *xsf_raw(struct xsf *f);

/** A raw wire connection acting as @p domid (introduced first when needed). */
struct xst_conn *xsf_raw_domain(struct xsf *f, unsigned int domid);

/**
 * The next watch event of @p h within @p timeout_ms: a malloc'd vector
 * ([XS_WATCH_PATH], [XS_WATCH_TOKEN]; one free()), or NULL on timeout.
 */
char **xsf_wait_watch(struct xs_handle *h, int timeout_ms);

/**
 * Wait for an event on @p h whose path is @p path (other events are
 * skipped) within @p timeout_ms. @return true when it came.
 */
bool xsf_expect_watch(struct xs_handle *h, const char *path, int timeout_ms);

/** Whether no event at all arrives on @p h within @p quiet_ms. */
bool xsf_no_watch(struct xs_handle *h, int quiet_ms);

/** Consume the events already queued or arriving within @p quiet_ms. */
void xsf_drain_watches(struct xs_handle *h, int quiet_ms);

/** SET_QUOTA over the wire (domid < 0: the global value). @return 0 or -errno. */
int xsf_set_quota(struct xsf *f, int domid, const char *name, unsigned long val);

/** Set the permissions of @p path from strings such as "n0", "r5" (NULL-terminated). */
bool xsf_set_perms(struct xs_handle *h, const char *path, ...) __attribute__((sentinel));

/** The daemon still runs and answers a READ on a fresh dom0 connection. */
bool xsf_alive(struct xsf *f);

/** Run only the tests matching $XSF_TEST_FILTER (a cmocka pattern), when it is set. */
void xsf_filter_from_env(void);

/** Read @p path with @p h; the value (malloc'd, NUL-terminated) or NULL with errno set. */
char *xsf_read(struct xs_handle *h, const char *path);

/** Write the string @p value at @p path. */
bool xsf_write(struct xs_handle *h, const char *path, const char *value);

#endif
