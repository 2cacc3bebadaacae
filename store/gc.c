/* SPDX-License-Identifier: MIT */
/*
 * Retention and garbage collection: an incremental mark and sweep driven by
 * the writer's own thread (the daemon calls vs_gc_step() between requests).
 *
 * A cycle runs in phases, each in bounded steps (objects and microseconds):
 * - walk: breadth first from the refs as they were at vs_gc_new(), each
 *   commit classified kept (a ref names it, it is fewer than keep_last parent
 *   steps down, or newer than the cutoff) or dropped; the walk does not go
 *   past a dropped commit nor past the old boundary. The new boundary is
 *   every kept commit with a dropped parent (git's --depth semantics).
 * - shallow: persist S1 = new boundary + old boundary before anything is
 *   deleted, so a crash at any later moment leaves walks stopping above
 *   whatever was swept (the git backend writes .git/shallow, atomically).
 * - mark: trace from the refs through obj_refs (the only way to see what an
 *   object refers to, whatever the format), not past S1's commits.
 * - sweep: every stored object not marked is deleted, in one backend batch
 *   per step; S1's commits wait for finish. LMDB lists its objects in id
 *   order a stretch per step (obj_list); other backends once (obj_foreach).
 * - finish (one step): persist S2 = S1's marked commits, then delete the rest
 *   of S1: a boundary commit is never gone while the boundary names it.
 * - compact: the backend gives the space back (LMDB moves live records out
 *   of the oldest log chunks and deletes them, so LMDB reuses their pages).
 *
 * Writers go on between steps through the same repo handle. backend.c's
 * dispatch reports every object written (and ref moved) to the cycle: the
 * object is marked and what it refers to is shaded grey; a step deletes
 * nothing until the grey stack is empty, so whatever a writer uses anew is
 * traced first (a Dijkstra-style barrier: no marked object ever refers to an
 * unmarked one once the stack is empty). A write that refers to an object
 * this cycle already swept fails with VS_ENOENT rather than dangling; that
 * needs a tree read from dropped history. An object written after the start
 * is marked, so it is never deleted, whether or not listings see it; one a
 * failed batch never stored is skipped when traced, while any other missing
 * object is VS_ECORRUPT and ends the cycle before it deletes more. Writers
 * in other processes or handles bypass the barrier: they must not run then.
 * Memory: one id set entry per reachable object (~36 bytes for SHA-1).
 */
#include <stdio.h>
#include <time.h>

#include "gc_int.h"
#include "idset.h"

#define DEFAULT_STEP_OBJECTS 1024
#define DEFAULT_STEP_USEC 2000
#define LIST_COST 16 /* ids listed per unit of work */

enum phase { PH_WALK, PH_EDGES, PH_SHALLOW, PH_MARK, PH_SWEEP, PH_FINISH, PH_COMPACT, PH_DONE,
	     PH_FAILED };

struct walk_item {
	struct vs_oid id;
	size_t depth; /* parent steps below a ref: the least, as the walk is breadth first */
};

struct edge {
	struct vs_oid child, parent; /* child is kept; if parent is not, child is boundary */
};

struct gray {
	struct vs_oid id;
	enum vs_otype type; /* what the referrer says it is */
	bool noted;         /* shaded by the barrier: a batch that failed may not have stored it */
};

/* A kept tree stored as a delta from a base nothing else keeps. */
struct flat {
	struct vs_oid id, base;
};

struct vs_gc {
	struct vs_repo *repo;
	struct vs_gc_state *state; /* the backend's; NULL once it closed */
	struct vs_gc_policy policy;
	struct vs_gc_opts opts;
	int64_t cutoff;            /* keep_newer_than: oldest committer time kept */
	enum phase phase;
	int err;                   /* why the cycle failed */
	struct vs_gc_stats stats;
	size_t left;               /* work units left in this step */
	uint64_t deadline;         /* CLOCK_MONOTONIC ns when this step must end */

	struct walk_item *queue; /* walk */
	size_t qhead, qn, qcap;
	struct vs_idset kept, dropped;
	struct edge *edges;
	size_t nedges, cedges, epos;
	struct vs_oid *bnd; /* S1 once sorted: the new boundary and the old */
	size_t nbnd, cbnd;

	struct vs_idset marked; /* mark: grey or black */
	struct gray *gray;
	size_t ngray, cgray;
	struct vs_buf raw;
	struct flat *flat; /* to store whole before anything is deleted */
	size_t nflat, cflat, fpos;

	struct vs_oid *cand; /* sweep: unmarked objects to delete */
	size_t ncand, ccand, cpos;
	bool listed;         /* every stored object was listed */
	bool have_after;
	struct vs_oid after; /* the last id listed */
	struct vs_idset deleted;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool budget_left(const struct vs_gc *gc)
{
	return gc->left && now_ns() < gc->deadline;
}

static void spend(struct vs_gc *gc, size_t units)
{
	gc->left = gc->left > units ? gc->left - units : 0;
}

/* Make room for one more element in a growing array. */
static int room(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *a;

	if (n < *cap)
		return 0;
	if (!(a = vs__realloc(*arr, ncap * size)))
		return vs__enomem();
	*arr = a;
	*cap = ncap;
	return 0;
}

static int gray_push(struct vs_gc *gc, const struct vs_oid *id, enum vs_otype type, bool noted)
{
	int err = vs__idset_add(&gc->marked, id);

	if (err <= 0 || type == VS_OBJ_BLOB)
		return err < 0 ? err : 0; /* known already, or a value: nothing below it */
	if ((err = room((void **)&gc->gray, &gc->cgray, gc->ngray, sizeof(*gc->gray))) < 0)
		return err;
	gc->gray[gc->ngray++] = (struct gray){ *id, type, noted };
	return 0;
}

/*
 * Kept tree @id may be stored as a delta (backend_lmdb_delta.c): if its base
 * is not kept too, note it, to be stored whole before the sweep deletes
 * anything (keeping the base instead would keep old versions of nodes
 * beyond the window, and their bases, for as long as the delta lives).
 */
static int note_base(struct vs_gc *gc, const struct vs_oid *id)
{
	struct vs_oid base;
	int err = vs__backend_obj_base(gc->repo->backend, id, &base);

	if (err <= 0 || vs__idset_has(&gc->marked, &base))
		return err < 0 ? err : 0;
	if ((err = room((void **)&gc->flat, &gc->cflat, gc->nflat, sizeof(*gc->flat))) < 0)
		return err;
	gc->flat[gc->nflat++] = (struct flat){ *id, base };
	return 0;
}

static int enqueue(struct vs_gc *gc, const struct vs_oid *id, size_t depth)
{
	int err;

	if (gc->qhead > 4096 && gc->qhead * 2 > gc->qn) { /* reuse the consumed front */
		memmove(gc->queue, gc->queue + gc->qhead,
			(gc->qn - gc->qhead) * sizeof(*gc->queue));
		gc->qn -= gc->qhead;
		gc->qhead = 0;
	}
	if ((err = room((void **)&gc->queue, &gc->qcap, gc->qn, sizeof(*gc->queue))) < 0)
		return err;
	gc->queue[gc->qn++] = (struct walk_item){ *id, depth };
	return 0;
}

static int bnd_add(struct vs_gc *gc, const struct vs_oid *id)
{
	int err = room((void **)&gc->bnd, &gc->cbnd, gc->nbnd, sizeof(*gc->bnd));
	if (err >= 0)
		gc->bnd[gc->nbnd++] = *id;
	return err;
}

static int oid_cmp(const void *a, const void *b)
{
	return vs_oid_cmp(a, b);
}

static bool in_s1(const struct vs_gc *gc, const struct vs_oid *id)
{
	return gc->nbnd && bsearch(id, gc->bnd, gc->nbnd, sizeof(*id), oid_cmp);
}

static int corrupt(const struct vs_oid *id, const char *what)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "%s %s is missing: the history to keep is incomplete",
			    what, vs_oid_tostr(hex, id));
}

/* Classify the next queued commit and queue its parents if it is kept. */
static int walk_one(struct vs_gc *gc)
{
	struct walk_item it = gc->queue[gc->qhead++];
	const struct vs_gc_policy *p = &gc->policy;
	struct vs_commit *c;
	bool keep;
	int err;

	if (vs__idset_has(&gc->kept, &it.id) || vs__idset_has(&gc->dropped, &it.id))
		return 0; /* the first visit had the least depth */
	if ((err = vs_commit_lookup(&c, gc->repo, &it.id)) < 0)
		return err == VS_ENOENT ? corrupt(&it.id, "commit") : err;
	keep = it.depth == 0 || (p->keep_last && it.depth < p->keep_last) ||
	       (p->keep_newer_than && vs_commit_committer(c)->time >= gc->cutoff);
	if (!keep) {
		err = vs__idset_add(&gc->dropped, &it.id);
		goto out;
	}
	if ((err = vs__idset_add(&gc->kept, &it.id)) < 0 || vs__shallow_has(gc->repo, &it.id))
		goto out; /* an old boundary commit: its parents are gone already */
	for (size_t i = 0; i < vs_commit_parentcount(c) && err >= 0; i++) {
		const struct vs_oid *par = vs_commit_parent_id(c, i);
		err = room((void **)&gc->edges, &gc->cedges, gc->nedges, sizeof(*gc->edges));
		if (err < 0)
			break;
		gc->edges[gc->nedges++] = (struct edge){ it.id, *par };
		if (!vs__idset_has(&gc->kept, par) && !vs__idset_has(&gc->dropped, par))
			err = enqueue(gc, par, it.depth + 1);
	}
out:
	vs_commit_free(c);
	return err < 0 ? err : 0;
}

/* The new boundary: kept commits with a parent that is not kept. */
static int edges_one(struct vs_gc *gc)
{
	const struct edge *e = &gc->edges[gc->epos++];
	if (vs__idset_has(&gc->kept, &e->parent))
		return 0;
	return bnd_add(gc, &e->child);
}

static void walk_release(struct vs_gc *gc)
{
	vs_free(gc->queue);
	vs_free(gc->edges);
	gc->queue = NULL;
	gc->edges = NULL;
	gc->qhead = gc->qn = gc->qcap = gc->nedges = gc->cedges = gc->epos = 0;
	vs__idset_release(&gc->kept);
	vs__idset_release(&gc->dropped);
}

/* Persist S1 before deleting anything (if it changed). */
static int shallow_first(struct vs_gc *gc)
{
	const struct vs_oid *old;
	size_t nold, n = 0;
	struct vs_oid *copy = NULL;
	int err = 0;

	walk_release(gc);
	vs__shallow_ids(gc->repo, &old, &nold);
	if (gc->nbnd)
		qsort(gc->bnd, gc->nbnd, sizeof(*gc->bnd), oid_cmp);
	for (size_t i = 0; i < gc->nbnd; i++)
		if (!n || !vs_oid_equal(&gc->bnd[n - 1], &gc->bnd[i]))
			gc->bnd[n++] = gc->bnd[i];
	gc->nbnd = n;
	if (n == nold && (!n || !memcmp(old, gc->bnd, n * sizeof(*old))))
		return 0;
	if (!(copy = vs__malloc(n * sizeof(*copy))))
		return vs__enomem();
	memcpy(copy, gc->bnd, n * sizeof(*copy));
	err = vs__shallow_set(gc->repo, copy, n);
	vs_free(copy);
	return err;
}

struct trace_ctx {
	struct vs_gc *gc;
	bool cut; /* a boundary commit: its parents are not followed */
};

static int trace_ref(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct trace_ctx *t = payload;
	if (t->cut && type == VS_OBJ_COMMIT)
		return 0;
	return gray_push(t->gc, id, type, false);
}

/* Read the top grey object and shade what it refers to. */
static int trace_one(struct vs_gc *gc)
{
	const struct vs_format *f = gc->repo->format;
	struct gray g = gc->gray[--gc->ngray];
	struct trace_ctx t = { gc, false };
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if ((err = vs__backend_obj_read(gc->repo->backend, &g.id, &type, &gc->raw)) < 0) {
		if (err != VS_ENOENT)
			return err;
		if (!g.noted)
			return corrupt(&g.id, "object");
		vs_error_clear(); /* never stored: nothing to keep */
		return 0;
	}
	if (type != g.type)
		return vs_error_set(VS_ECORRUPT, "object %s has type %d where type %d is expected",
				    vs_oid_tostr(hex, &g.id), (int)type, (int)g.type);
	if (type == VS_OBJ_COMMIT) {
		gc->stats.commits_kept++;
		t.cut = in_s1(gc, &g.id);
	}
	if ((err = f->obj_refs(f, type, gc->raw.ptr, gc->raw.size, trace_ref, &t)) < 0)
		return err;
	return type == VS_OBJ_TREE ? note_base(gc, &g.id) : 0;
}

/* Trace until the grey stack is empty (1) or the budget is spent (0). */
static int drain(struct vs_gc *gc)
{
	int err;
	while (gc->ngray) {
		if (!budget_left(gc))
			return 0;
		if ((err = trace_one(gc)) < 0)
			return err;
		spend(gc, 1);
	}
	gc->stats.objects_marked = gc->marked.count;
	return 1;
}

static int collect(void *payload, const struct vs_oid *id)
{
	struct vs_gc *gc = payload;
	int err;

	if (id->type != gc->marked.type || vs__idset_has(&gc->marked, id) || in_s1(gc, id))
		return 0; /* live, deferred to finish, or of no format we know */
	if ((err = room((void **)&gc->cand, &gc->ccand, gc->ncand, sizeof(*gc->cand))) < 0)
		return err;
	gc->cand[gc->ncand++] = *id;
	return 0;
}

/* Find the next unmarked objects: a stretch of the listing, else everything at once. */
static int list_more(struct vs_gc *gc)
{
	size_t max = gc->opts.step_objects, n;
	struct vs_oid *ids;
	int err;

	gc->ncand = gc->cpos = 0;
	if (!gc->repo->backend->ops->obj_list) {
		gc->listed = true;
		return vs__backend_obj_foreach(gc->repo->backend, collect, gc);
	}
	if (!(ids = vs__malloc(max * sizeof(*ids))))
		return vs__enomem();
	err = vs__backend_obj_list(gc->repo->backend, gc->have_after ? &gc->after : NULL, ids, max,
				   &n);
	for (size_t i = 0; i < n && err >= 0; i++)
		err = collect(gc, &ids[i]);
	if (err >= 0 && n) {
		gc->after = ids[n - 1];
		gc->have_after = true;
	}
	gc->listed = err >= 0 && n < max;
	vs_free(ids);
	spend(gc, n / LIST_COST + 1);
	return err;
}

/*
 * True when @id is stored as a delta that cannot be read: a base on its chain
 * is gone (deleted by this collection, or by one killed before it ended).
 */
static bool chain_broken(struct vs_gc *gc, const struct vs_oid *id)
{
	struct vs_oid at = *id, base;
	bool broken = false;

	for (int hops = 0; hops < 64; hops++) { /* backends bound their chains far below */
		int err = vs__backend_obj_base(gc->repo->backend, &at, &base);
		if (err <= 0) {
			broken = err < 0 && hops > 0; /* a base is missing */
			break;
		}
		if (vs__idset_has(&gc->deleted, &base)) {
			broken = true;
			break;
		}
		at = base;
	}
	if (broken)
		vs_error_clear();
	return broken;
}

/* Delete one unreachable object in the open batch, counting what it was. */
static int sweep_one(struct vs_gc *gc, const struct vs_oid *id)
{
	struct vs_backend *b = gc->repo->backend;
	enum vs_otype type;
	uint64_t size;
	int err;

	/* Not read whole: a delta's base may have gone first (it is garbage too). */
	if ((err = vs__backend_obj_stat(b, id, &type, &size, &gc->raw)) == VS_ENOENT) {
		vs_error_clear();
		return 0; /* gone already */
	}
	if (err < 0 || (err = vs__backend_obj_delete(b, id)) < 0)
		return err;
	if (err == 1) {
		gc->stats.objects_unswept++;
		return 0;
	}
	gc->stats.objects_swept++;
	gc->stats.bytes_swept += size;
	if (type == VS_OBJ_COMMIT)
		gc->stats.commits_dropped++;
	return vs__idset_add(&gc->deleted, id) < 0 ? vs__enomem() : 0;
}

/*
 * Delete @ids (skipping any marked since they were found) in one batch, as
 * the budget allows; with @bnd, first make it the boundary in that batch
 * (LMDB: atomically; git: its file is replaced before any object goes).
 */
static int delete_batch(struct vs_gc *gc, const struct vs_oid *ids, size_t n, size_t *done,
			struct vs_oid *bnd, size_t nbnd)
{
	struct vs_backend *b = gc->repo->backend;
	int err;

	*done = 0;
	if ((err = vs__backend_batch_begin(b)) < 0)
		return err;
	if (bnd)
		err = vs__shallow_set(gc->repo, bnd, nbnd);
	for (; *done < n && err >= 0 && budget_left(gc); (*done)++, spend(gc, 1))
		if (!vs__idset_has(&gc->marked, &ids[*done]))
			err = sweep_one(gc, &ids[*done]);
	if (err < 0) {
		vs__backend_batch_abort(b);
		return err;
	}
	return vs__backend_batch_commit(b);
}

/*
 * Store whole the kept deltas whose bases are not kept (1 when none is
 * left, 0 when the budget ran out first), in one batch. A base marked
 * since needs nothing.
 */
static int flatten(struct vs_gc *gc)
{
	struct vs_backend *b = gc->repo->backend;
	enum vs_otype type;
	int err;

	if (gc->fpos == gc->nflat)
		return 1;
	if ((err = vs__backend_batch_begin(b)) < 0)
		return err;
	for (; gc->fpos < gc->nflat && budget_left(gc); gc->fpos++, spend(gc, 1)) {
		const struct flat *x = &gc->flat[gc->fpos];
		if (vs__idset_has(&gc->marked, &x->base))
			continue;
		if ((err = vs__backend_obj_read(b, &x->id, &type, &gc->raw)) < 0 ||
		    (err = vs__backend_obj_store_whole(b, &x->id, type, gc->raw.ptr,
						       gc->raw.size)) < 0) {
			vs__backend_batch_abort(b);
			return err;
		}
		gc->stats.records_moved++;
	}
	if ((err = vs__backend_batch_commit(b)) < 0)
		return err;
	return gc->fpos == gc->nflat;
}

static int sweep_step(struct vs_gc *gc)
{
	size_t done;
	int err;

	/* Nothing may go while anything is grey, or a kept delta's base is needed. */
	if ((err = drain(gc)) <= 0 || (err = flatten(gc)) <= 0 || !budget_left(gc))
		return err < 0 ? err : 0;
	if (gc->cpos == gc->ncand) {
		if (gc->listed) {
			gc->phase = PH_FINISH;
			gc->left = 0; /* finish gets a step of its own */
			return 0;
		}
		if ((err = list_more(gc)) < 0 || gc->cpos == gc->ncand || !budget_left(gc))
			return err;
	}
	err = delete_batch(gc, gc->cand + gc->cpos, gc->ncand - gc->cpos, &done, NULL, 0);
	gc->cpos += done;
	return err;
}

/* Persist S2 (S1's marked commits), then delete the rest of S1. */
static int finish(struct vs_gc *gc)
{
	struct vs_oid *gone = NULL, *keep = NULL;
	size_t ngone = 0, nkeep = 0, done;
	int err;

	if ((err = drain(gc)) <= 0 || (err = flatten(gc)) <= 0)
		return err;
	if (gc->nbnd && (!(gone = vs__malloc(gc->nbnd * sizeof(*gone))) ||
			 !(keep = vs__malloc(gc->nbnd * sizeof(*keep))))) {
		err = vs__enomem();
		goto out;
	}
	for (size_t i = 0; i < gc->nbnd; i++) {
		if (vs__idset_has(&gc->marked, &gc->bnd[i]))
			keep[nkeep++] = gc->bnd[i];
		else
			gone[ngone++] = gc->bnd[i];
	}
	gc->stats.boundary = nkeep;
	gc->left = SIZE_MAX; /* the few of S1 go in this very step */
	gc->deadline = UINT64_MAX;
	err = ngone ? delete_batch(gc, gone, ngone, &done, keep, nkeep) : 0;
	gc->left = 0; /* this step is over */
	if (err < 0)
		goto out;
	gc->phase = PH_COMPACT;
	if (gc->state)
		gc->state->cycle = NULL; /* nothing more is deleted: the barrier ends */
	vs__idset_release(&gc->marked);
	vs__idset_release(&gc->deleted);
out:
	vs_free(gone);
	vs_free(keep);
	return err;
}

static int compact_step(struct vs_gc *gc)
{
	size_t budget = gc->left < gc->opts.step_objects / 4 ? gc->left : gc->opts.step_objects / 4;
	int rc = vs__backend_compact_step(gc->repo->backend, budget ? budget : 1,
					   &gc->stats.bytes_freed, &gc->stats.records_moved);
	spend(gc, budget);
	if (rc == 0) {
		if (!gc->repo->backend->ops->compact_step)
			gc->stats.bytes_freed = gc->stats.bytes_swept;
		gc->phase = PH_DONE;
	}
	return rc < 0 ? rc : 0;
}

/* One unit of the current phase; phases change as they complete. */
static int advance(struct vs_gc *gc)
{
	switch (gc->phase) {
	case PH_WALK:
		if (gc->qhead == gc->qn) {
			gc->phase = PH_EDGES;
			return 0;
		}
		spend(gc, 1);
		return walk_one(gc);
	case PH_EDGES:
		if (gc->epos == gc->nedges) {
			gc->phase = PH_SHALLOW;
			return 0;
		}
		spend(gc, gc->epos % 64 == 0 ? 1 : 0);
		return edges_one(gc);
	case PH_SHALLOW:
		gc->phase = PH_MARK;
		return shallow_first(gc);
	case PH_MARK: {
		int err = drain(gc);
		if (err > 0)
			gc->phase = PH_SWEEP;
		return err < 0 ? err : 0;
	}
	case PH_SWEEP:
		return sweep_step(gc);
	case PH_FINISH:
		return finish(gc);
	case PH_COMPACT:
		return compact_step(gc);
	case PH_DONE:
	case PH_FAILED:
		break;
	}
	return 0;
}

static void cycle_release(struct vs_gc *gc)
{
	walk_release(gc);
	vs__idset_release(&gc->marked);
	vs__idset_release(&gc->deleted);
	vs_free(gc->bnd);
	vs_free(gc->gray);
	vs_free(gc->flat);
	vs_free(gc->cand);
	vs_buf_release(&gc->raw);
	gc->bnd = NULL;
	gc->gray = NULL;
	gc->cand = NULL;
	gc->nbnd = gc->ngray = gc->ncand = gc->cpos = 0;
}

/* The cycle cannot go on: it deletes nothing more, writers go unobserved. */
static int fail(struct vs_gc *gc, int err)
{
	if (gc->state && gc->state->cycle == gc)
		gc->state->cycle = NULL;
	gc->phase = PH_FAILED;
	gc->err = err;
	cycle_release(gc);
	return err;
}

void vs__gc_orphan(struct vs_gc *gc)
{
	gc->state = NULL;
	if (gc->phase != PH_DONE)
		fail(gc, VS_EINVAL);
}

static const char *stage_name(enum phase p, size_t *done, const struct vs_gc *gc)
{
	if (p <= PH_SHALLOW) {
		*done = gc->kept.count + gc->dropped.count;
		return "walking";
	}
	if (p == PH_MARK) {
		*done = gc->marked.count;
		return "marking";
	}
	if (p <= PH_FINISH) {
		*done = gc->stats.objects_swept;
		return "sweeping";
	}
	*done = gc->stats.records_moved;
	return "compacting";
}

int vs_gc_step(struct vs_gc *gc, struct vs_gc_stats *out)
{
	size_t done;
	int err = 0;

	VS_CHECK_ARG(gc);
	if (gc->phase == PH_FAILED)
		return vs_error_set(gc->err, "this collection failed in an earlier step (%s)",
				    vs_err_name(gc->err));
	if (gc->phase != PH_DONE) {
		gc->left = gc->opts.step_objects;
		gc->deadline = now_ns() + (uint64_t)gc->opts.step_usec * 1000u;
		while (!err && gc->phase != PH_DONE && budget_left(gc))
			err = advance(gc);
		gc->stats.steps++;
		/* A batch the caller holds open is no fault of the cycle: retry later. */
		if (err < 0 && err != VS_EBUSY)
			return fail(gc, err);
		if (!err && gc->opts.progress) {
			const char *stage = stage_name(gc->phase, &done, gc);
			err = gc->opts.progress(gc->opts.payload, stage, done, done);
		}
	}
	if (out)
		*out = gc->stats;
	return err ? err : gc->phase != PH_DONE;
}

static int check_policy(const struct vs_gc_policy *p, const struct vs_gc_opts *o)
{
	if (p->version != VS_GC_POLICY_VERSION)
		return vs_error_set(VS_EINVAL, "vs_gc_policy version %u, expected %u", p->version,
				    VS_GC_POLICY_VERSION);
	if (o && o->version != VS_GC_OPTS_VERSION)
		return vs_error_set(VS_EINVAL, "vs_gc_opts version %u, expected %u", o->version,
				    VS_GC_OPTS_VERSION);
	if (p->keep_newer_than < 0 || p->now < 0)
		return vs_error_set(VS_EINVAL, "keep_newer_than and now must not be negative");
	if (!p->keep_all && !p->keep_last && !p->keep_newer_than)
		return vs_error_set(VS_EINVAL, "the policy keeps no history: set keep_all, "
				    "keep_last or keep_newer_than");
	return 0;
}

/* What a collection of @repo needs from its backend. */
static int check_backend(struct vs_repo *repo, const struct vs_gc_policy *p)
{
	struct vs_backend *b = repo->backend;

	if (b->readonly)
		return vs_error_set(VS_EROFS, "the %s store is open read-only", b->ops->name);
	if (!b->ops->obj_delete)
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot delete objects", b->ops->name);
	if (!b->ops->obj_list && !b->ops->obj_foreach)
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot list objects", b->ops->name);
	if (!p->keep_all && (!b->ops->config_get || !b->ops->config_set))
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot record where history is cut",
				    b->ops->name);
	return 0;
}

/* Each ref is a root: of the walk at depth 0, and of the marking. */
static int add_root(void *payload, const char *name, const struct vs_oid *target)
{
	struct vs_gc *gc = payload;
	int err;

	if (target->type != gc->repo->format->oid_type)
		return vs_error_set(VS_ECORRUPT, "ref %s holds an id of another format", name);
	if ((err = gray_push(gc, target, VS_OBJ_COMMIT, false)) < 0)
		return err;
	return gc->policy.keep_all ? 0 : enqueue(gc, target, 0);
}

static int cycle_init(struct vs_gc *gc)
{
	const struct vs_oid *old;
	size_t nold;
	int err;

	vs__shallow_ids(gc->repo, &old, &nold);
	for (size_t i = 0; i < nold; i++)
		if ((err = bnd_add(gc, &old[i])) < 0)
			return err;
	gc->cutoff = (gc->policy.now ? gc->policy.now : (int64_t)time(NULL)) -
		     gc->policy.keep_newer_than;
	gc->phase = gc->policy.keep_all ? PH_SHALLOW : PH_WALK;
	return vs__backend_ref_list(gc->repo->backend, "refs/", add_root, gc);
}

int vs_gc_new(struct vs_gc **out, struct vs_repo *repo, const struct vs_gc_policy *policy,
	      const struct vs_gc_opts *opts)
{
	enum vs_oid_type t;
	struct vs_gc *gc;
	int err;

	VS_CHECK_ARG(out);
	*out = NULL;
	VS_CHECK_ARG(repo && policy);
	if ((err = check_policy(policy, opts)) < 0 || (err = check_backend(repo, policy)) < 0 ||
	    (err = vs__shallow_refresh(repo)) < 0)
		return err;
	if (repo->backend->gc->cycle)
		return vs_error_set(VS_EBUSY, "a collection is already running on this repo");
	if (!(gc = vs__calloc(1, sizeof(*gc))))
		return vs__enomem();
	gc->repo = repo;
	gc->state = repo->backend->gc;
	gc->policy = *policy;
	gc->opts = opts ? *opts : (struct vs_gc_opts){ .version = VS_GC_OPTS_VERSION };
	if (!gc->opts.step_objects)
		gc->opts.step_objects = DEFAULT_STEP_OBJECTS;
	if (!gc->opts.step_usec)
		gc->opts.step_usec = DEFAULT_STEP_USEC;
	t = repo->format->oid_type;
	vs__idset_init(&gc->kept, t);
	vs__idset_init(&gc->dropped, t);
	vs__idset_init(&gc->marked, t);
	vs__idset_init(&gc->deleted, t);
	gc->state->cycle = gc; /* from now on, every write is noted */
	if ((err = cycle_init(gc)) < 0) {
		vs_gc_free(gc);
		return err;
	}
	*out = gc;
	return 0;
}

void vs_gc_free(struct vs_gc *gc)
{
	if (!gc)
		return;
	if (gc->state && gc->state->cycle == gc)
		gc->state->cycle = NULL;
	cycle_release(gc);
	vs_free(gc);
}

int vs_gc_run(struct vs_repo *repo, const struct vs_gc_policy *policy,
	      const struct vs_gc_opts *opts, struct vs_gc_stats *out)
{
	struct vs_gc *gc;
	int err;

	if (out)
		*out = (struct vs_gc_stats){ 0 };
	if ((err = vs_gc_new(&gc, repo, policy, opts)) < 0)
		return err;
	while ((err = vs_gc_step(gc, out)) == 1)
		;
	vs_gc_free(gc);
	return err;
}

struct note_ctx {
	struct vs_gc *gc;
	struct vs_backend *b;
	bool shade; /* second pass: shade what the object refers to */
};

static int note_ref(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct note_ctx *n = payload;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if (n->shade)
		return gray_push(n->gc, id, type, true);
	if (type == VS_OBJ_TREE && !vs__idset_has(&n->gc->marked, id) && chain_broken(n->gc, id))
		return vs_error_set(VS_ENOENT, "object %s is stored as a difference from an object "
				    "the garbage collection in progress removed (it was read from "
				    "history the collection drops)", vs_oid_tostr(hex, id));
	if (!vs__idset_has(&n->gc->deleted, id))
		return 0;
	/* Swept by this cycle, unless a write of this batch brought it back. */
	if ((err = vs__backend_obj_exists(n->b, id)) != 0)
		return err < 0 ? err : 0;
	return vs_error_set(VS_ENOENT, "object %s was removed by the garbage collection in "
			    "progress (it was read from history the collection drops)",
			    vs_oid_tostr(hex, id));
}

int vs__gc_note_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
		      const void *data, size_t len)
{
	struct vs_gc *gc = b->gc->cycle;
	struct note_ctx n = { gc, b, false };
	const struct vs_format *f;
	int err;

	if (!gc || id->type != gc->marked.type || vs__idset_has(&gc->marked, id))
		return 0; /* no cycle, a foreign id, or known (its references are too) */
	f = gc->repo->format;
	if (gc->deleted.count && (err = f->obj_refs(f, type, data, len, note_ref, &n)) < 0)
		return err;
	/* Black at once, what it refers to grey (a commit's parents too: when
	 * traced, each respects the boundary). A failed batch may never store
	 * it, but marked it keeps what it refers to safe for a retry. */
	if ((err = vs__idset_add(&gc->marked, id)) > 0 && type != VS_OBJ_BLOB) {
		n.shade = true;
		err = f->obj_refs(f, type, data, len, note_ref, &n);
	}
	/* A mark half made would let a later write skip the rest: stop the cycle. */
	return err < 0 ? fail(gc, err) : 0;
}

bool vs__gc_keep(struct vs_backend *b, const struct vs_oid *id)
{
	struct vs_gc *gc = b->gc ? b->gc->cycle : NULL;

	if (!gc || vs__idset_has(&gc->marked, id))
		return true;
	if (id->type != gc->marked.type || vs__idset_has(&gc->deleted, id) ||
	    chain_broken(gc, id))
		return false;
	/* Grey: kept, and what it refers to is traced before the sweep goes on. */
	if (gray_push(gc, id, VS_OBJ_TREE, true) < 0) {
		fail(gc, vs__enomem());
		return false;
	}
	return true;
}

int vs__gc_note_ref(struct vs_backend *b, const struct vs_oid *target)
{
	struct vs_gc *gc = b->gc->cycle;
	struct note_ctx n = { gc, b, false };
	int err;

	if (!gc || target->type != gc->marked.type)
		return 0;
	if ((err = note_ref(&n, target, VS_OBJ_COMMIT)) < 0)
		return err;
	return (err = gray_push(gc, target, VS_OBJ_COMMIT, true)) < 0 ? fail(gc, err) : 0;
}
