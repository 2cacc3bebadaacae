/* SPDX-License-Identifier: MIT */
/*
 * The loop-level handles of the daemon. The group commit: a check handle,
 * run once per loop turn after I/O, commits every change the engine took in
 * that turn as one backend batch and releases the replies it held back. The
 * disk sync: unless --sync always, batches are not fsynced one by one; a
 * one-shot timer armed by the first batch after a sync calls vs_repo_sync a
 * second later, so an acknowledged write is on disk within about a second.
 * The deferred work: an idle handle, active only while conn.c has queued
 * work, frees closed clients and resumes held input between loop turns.
 * Retention: while the engine has a collection due or running, a repeating
 * timer runs bounded steps (~1 ms each) every GC_PERIOD_MS: one step when
 * requests came in since the last tick (the collection takes at most a
 * quarter of a busy loop, a request waits at most a step), steps for up to
 * GC_QUIET_MS when none did (a quiet daemon collects at three quarters).
 */
#include "daemon.h"

#include <stdarg.h>

#define SYNC_INTERVAL_MS 1000
#define GC_PERIOD_MS 4
#define GC_QUIET_MS 3

void xsd_log(struct xsd_daemon *d, int level, const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_INFO && !(d && d->verbose))
		return;
	va_start(ap, fmt);
	if (d && d->use_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		fputs("xenstored: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void sync_cb(uv_timer_t *t)
{
	struct xsd_daemon *d = xsd_container_of(t, struct xsd_daemon, sync_timer);

	if (vs_repo_sync(d->repo) < 0) {
		xsd_log(d, LOG_ERR, "cannot sync the store to disk: %s", vs_error_last()->message);
		uv_timer_start(&d->sync_timer, sync_cb, SYNC_INTERVAL_MS, 0);
		return;
	}
	d->unsynced = false;
}

/* Store writes not synced yet: sync within SYNC_INTERVAL_MS (--sync default). */
static void note_unsynced(struct xsd_daemon *d)
{
	if (!d->sync_always && !d->unsynced) {
		d->unsynced = true;
		uv_timer_start(&d->sync_timer, sync_cb, SYNC_INTERVAL_MS, 0);
	}
}

static void gc_cb(uv_timer_t *t)
{
	struct xsd_daemon *d = xsd_container_of(t, struct xsd_daemon, gc_timer);

	bool quiet = d->requests == d->gc_seen_requests;
	uint64_t until = uv_hrtime() + (uint64_t)GC_QUIET_MS * 1000000;
	int r;

	/* Failures are logged by the engine; the next collection starts later. */
	do
		r = xsd_engine_gc_step(d->engine);
	while (r > 0 && quiet && uv_hrtime() < until);
	if (r <= 0)
		uv_timer_stop(t);
	d->gc_seen_requests = d->requests;
	note_unsynced(d); /* the steps may have deleted or moved records */
}

static void flush_cb(uv_check_t *h)
{
	struct xsd_daemon *d = xsd_container_of(h, struct xsd_daemon, flush_check);

	if (!xsd_engine_pending(d->engine))
		return;
	/* On failure the engine has answered the requests with the error. */
	d->deferring_kicks = true;
	int err = xsd_engine_flush(d->engine);
	d->deferring_kicks = false;
	xsd_clients_kick(d);
	if (err < 0)
		xsd_log(d, LOG_ERR, "cannot commit to the store: %s", vs_error_last()->message);
	/*
	 * The engine does not say whether the batch held changes or only
	 * replies to reads; a sync with nothing to write is cheap.
	 */
	note_unsynced(d);
	if (xsd_engine_gc_due(d->engine) && !uv_is_active((uv_handle_t *)&d->gc_timer))
		uv_timer_start(&d->gc_timer, gc_cb, GC_PERIOD_MS, GC_PERIOD_MS);
}

static void work_cb(uv_idle_t *h)
{
	struct xsd_daemon *d = xsd_container_of(h, struct xsd_daemon, work_idle);

	/*
	 * Requests taken from held input leave replies in the engine: stay
	 * active until the check handle flushed them, or the loop would block
	 * in poll with the replies unsent.
	 */
	if (!xsd_clients_work(d) && !xsd_engine_pending(d->engine))
		uv_idle_stop(h);
}

int xsd_loop_init(struct xsd_daemon *d)
{
	uv_check_init(d->loop, &d->flush_check);
	uv_timer_init(d->loop, &d->sync_timer);
	uv_timer_init(d->loop, &d->gc_timer);
	uv_idle_init(d->loop, &d->work_idle);
	uv_check_start(&d->flush_check, flush_cb);
	/* The check handle alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&d->flush_check);
	return 0;
}

void xsd_loop_wake(struct xsd_daemon *d)
{
	if (!uv_is_closing((uv_handle_t *)&d->work_idle))
		uv_idle_start(&d->work_idle, work_cb);
}

int xsd_loop_flush(struct xsd_daemon *d)
{
	int err = 0;

	if (xsd_engine_pending(d->engine) && (err = xsd_engine_flush(d->engine)) < 0)
		xsd_log(d, LOG_ERR, "cannot commit to the store: %s", vs_error_last()->message);
	int serr = vs_repo_sync(d->repo);
	if (serr < 0)
		xsd_log(d, LOG_ERR, "cannot sync the store to disk: %s", vs_error_last()->message);
	else
		d->unsynced = false;
	uv_timer_stop(&d->sync_timer);
	return err < 0 ? err : serr;
}

void xsd_loop_close(struct xsd_daemon *d)
{
	uv_close((uv_handle_t *)&d->flush_check, NULL);
	uv_close((uv_handle_t *)&d->sync_timer, NULL);
	uv_close((uv_handle_t *)&d->gc_timer, NULL);
	uv_close((uv_handle_t *)&d->work_idle, NULL);
}
