/* SPDX-License-Identifier: MIT */
/*
 * Retention while the daemon runs (DESIGN.md §2, "Retention and GC"): every
 * opts.retention.every commits the engine starts a collection of the store
 * (vstore/gc.h) with the configured window, and the daemon drives it one
 * bounded step at a time between loop turns through xsd_engine_gc_step().
 * The collection runs on the engine's own repo handle, so the commits made
 * between steps are protected by the store's write barrier; the window is
 * widened to keep the commit every open transaction started from (its merge
 * parent), so no transaction ever refers to swept history.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vstore/sys/backend.h>

#include "engine_int.h"

#define STEP_OBJECTS 1024
#define STEP_USEC 1000       /* a step delays requests by about this much */
#define EVERY_MIN 100        /* commits between collections, at least */
#define EVERY_DIV 2          /* by default a collection every keep_last / 2 commits */
#define EVERY_BY_TIME 10000  /* and every this many with only keep_newer_than */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A count >= 1, or with @units a duration: a number of seconds, or with s, m, h, d or w. */
static int parse_amount(int64_t *out, const char *name, const char *value, bool units)
{
	static const struct {
		char unit;
		int64_t secs;
	} table[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	char *end;

	errno = 0;
	long long v = strtoll(value, &end, 10);
	int64_t mult = *end ? 0 : 1;
	for (size_t i = 0; units && !mult && i < sizeof(table) / sizeof(table[0]); i++)
		if (end[0] == table[i].unit && !end[1])
			mult = table[i].secs;
	if (!isdigit((unsigned char)*value) || errno || !mult || v <= 0 || v > INT64_MAX / mult)
		return units ? vs_error_set(VS_EINVAL,
					    "%s: '%s' is not a duration (3600, 12h, 30d, 2w)",
					    name, value)
			     : vs_error_set(VS_EINVAL, "%s: '%s' is not a count of at least 1",
					    name, value);
	*out = v * mult;
	return 0;
}

int xsd_retention_set(struct xsd_retention *r, const char *name, const char *value)
{
	int64_t v = 0;
	int err;

	if (!r || !name || !value)
		return vs_error_set(VS_EINVAL, "xsd_retention_set: NULL argument");
	if (!strcmp(name, "keep-newer-than")) {
		if ((err = parse_amount(&v, name, value, true)) >= 0)
			r->keep_newer_than = v;
		return err;
	}
	if (strcmp(name, "keep-last") && strcmp(name, "gc-every"))
		return vs_error_set(VS_ENOENT, "no retention setting %s", name);
	if ((err = parse_amount(&v, name, value, false)) < 0)
		return err;
	if ((uint64_t)v > SIZE_MAX)
		return vs_error_set(VS_EINVAL, "%s: %s is too large", name, value);
	if (!strcmp(name, "keep-last"))
		r->keep_last = (size_t)v;
	else
		r->every = (size_t)v;
	return 0;
}

int xsd_retention_check(const struct xsd_retention *r)
{
	if (r->every && !xsd__retention_on(r))
		return vs_error_set(VS_EINVAL, "gc-every: give the history to keep "
					       "(keep-last or keep-newer-than)");
	return 0;
}

bool xsd__retention_on(const struct xsd_retention *r)
{
	return r->keep_last || r->keep_newer_than;
}

/*
 * Commits between two collections: as configured, else half the window (or
 * EVERY_BY_TIME when the window is an age). A collection marks every object
 * of the kept window and lists every stored object, so its cost per commit
 * is about (window + stored objects) / every: half the window keeps history
 * between N and 1.5 N commits for ~45 objects marked or listed per commit
 * (~9 objects a commit).
 */
static uint64_t every(const struct xsd_engine *e)
{
	const struct xsd_retention *r = &e->opts.retention;
	if (r->every)
		return r->every;
	if (!r->keep_last)
		return EVERY_BY_TIME;
	uint64_t n = r->keep_last / EVERY_DIV;
	return n < EVERY_MIN ? EVERY_MIN : n;
}

bool xsd_engine_gc_due(const struct xsd_engine *e)
{
	if (!e)
		return false;
	if (e->gc.run || e->gc.requested)
		return true;
	return xsd__retention_on(&e->opts.retention) &&
	       e->stats_commits - e->gc.commits_at_start >= every(e);
}

/* The oldest change an open transaction started from; false when none is open. */
static bool oldest_txn_base(const struct xsd_engine *e, uint64_t *gen)
{
	bool any = false;
	for (const struct xsd_conn *c = e->conns; c; c = c->next)
		any |= xsd__txn_oldest_base(c, gen);
	return any;
}

static int gc_start(struct xsd_engine *e)
{
	const struct xsd_retention *r = &e->opts.retention;
	struct vs_gc_policy p = { .version = VS_GC_POLICY_VERSION,
				  .keep_last = r->keep_last,
				  .keep_newer_than = r->keep_newer_than };
	struct vs_gc_opts o = { .version = VS_GC_OPTS_VERSION,
				.step_objects = STEP_OBJECTS,
				.step_usec = STEP_USEC };
	uint64_t base = e->gen;

	e->gc.started_ms = now_ms();
	/* Keep what open transactions will merge onto (they started at change base). */
	if (xsd__retention_on(r) && oldest_txn_base(e, &base) && e->gen - base + 2 > p.keep_last)
		p.keep_last = (size_t)(e->gen - base + 2);
	p.keep_all = !xsd__retention_on(r);
	int err = vs_gc_new(&e->gc.run, e->repo, &p, &o);
	e->gc.requested = false;
	e->gc.commits_at_start = e->stats_commits;
	memset(&e->gc.stats, 0, sizeof(e->gc.stats));
	return err;
}

static void gc_end(struct xsd_engine *e, int err)
{
	e->gc.last = e->gc.stats;
	e->gc.last_ms = now_ms() - e->gc.started_ms;
	e->gc.last_err = err;
	e->gc.cycles++;
	e->gc.last_end_ms = now_ms();
	if (err < 0)
		snprintf(e->gc.last_msg, sizeof(e->gc.last_msg), "%s", vs_error_last()->message);
	else
		e->gc.last_msg[0] = '\0';
	vs_gc_free(e->gc.run);
	e->gc.run = NULL;
	/* A routine collection is reported by CONTROL gc; a failed one is logged. */
	if (err < 0)
		xsd__warn(e, "gc: the collection failed: %s", e->gc.last_msg);
}

int xsd_engine_gc_step(struct xsd_engine *e)
{
	int err;

	if (!e || e->nchanges || !xsd_engine_gc_due(e))
		return 0; /* changes not committed yet: step after the flush */
	if (!e->gc.run && (err = gc_start(e)) < 0) {
		gc_end(e, err);
		return err;
	}
	err = vs_gc_step(e->gc.run, &e->gc.stats);
	if (err == VS_EBUSY)
		return 1; /* a batch is open: the next turn */
	if (err <= 0)
		gc_end(e, err);
	return err;
}

int xsd__gc_request(struct xsd_engine *e)
{
	if (e->gc.run || e->gc.requested)
		return VS_EBUSY;
	e->gc.requested = true;
	return 0;
}

/* The store's bytes in use, where the backend counts them (LMDB's pages). */
static int report_size(const struct xsd_engine *e, struct vs_buf *out)
{
	struct vs_backend *b = vs_repo_backend(e->repo);
	struct vs_buf v = VS_BUF_INIT;
	int err = 0;

	if (b->ops->config_get(b, "stat.bytes_used", &v) >= 0 && v.ptr)
		err = vs_buf_printf(out, "store: %s bytes in use\n", v.ptr);
	vs_buf_release(&v);
	return err;
}

int xsd__gc_report(const struct xsd_engine *e, struct vs_buf *out)
{
	const struct xsd_retention *r = &e->opts.retention;
	int err;

	if (!xsd__retention_on(r))
		err = vs_buf_puts(out, "retention: keep all history (gc start sweeps only "
				       "unreachable objects)\n");
	else if (r->keep_last && r->keep_newer_than)
		err = vs_buf_printf(out,
				    "retention: keep the last %zu commits and those younger than %" PRId64
				    " s; a collection every %" PRIu64 " commits\n",
				    r->keep_last, r->keep_newer_than, every(e));
	else if (r->keep_last)
		err = vs_buf_printf(out,
				    "retention: keep the last %zu commits; a collection every %" PRIu64
				    " commits\n",
				    r->keep_last, every(e));
	else
		err = vs_buf_printf(out,
				    "retention: keep commits younger than %" PRId64
				    " s; a collection every %" PRIu64 " commits\n",
				    r->keep_newer_than, every(e));
	if (err >= 0 && e->gc.run)
		err = vs_buf_printf(out,
				    "running for %" PRIu64 " ms: %zu commits kept so far, %zu "
				    "objects marked, %zu swept, %zu steps\n",
				    now_ms() - e->gc.started_ms, e->gc.stats.commits_kept,
				    e->gc.stats.objects_marked, e->gc.stats.objects_swept,
				    e->gc.stats.steps);
	else if (err >= 0)
		err = vs_buf_printf(out, "idle%s; %" PRIu64 " commits since the last start\n",
				    e->gc.requested ? " (start requested)" : "",
				    e->stats_commits - e->gc.commits_at_start);
	if (err >= 0 && e->gc.cycles && e->gc.last_err < 0)
		err = vs_buf_printf(out, "last collection (%zu so far) failed: %s\n", e->gc.cycles,
				    e->gc.last_msg);
	else if (err >= 0 && e->gc.cycles)
		err = vs_buf_printf(out,
				    "last collection (%zu so far), %" PRIu64 " s ago, took %" PRIu64
				    " ms: kept %zu commits, dropped %zu; swept %zu objects, freed "
				    "%" PRIu64 " bytes\n",
				    e->gc.cycles, (now_ms() - e->gc.last_end_ms) / 1000, e->gc.last_ms,
				    e->gc.last.commits_kept, e->gc.last.commits_dropped,
				    e->gc.last.objects_swept, e->gc.last.bytes_freed);
	return err < 0 ? err : report_size(e, out);
}

void xsd__gc_free(struct xsd_engine *e)
{
	vs_gc_free(e->gc.run);
	e->gc.run = NULL;
}
