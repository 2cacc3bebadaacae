/* SPDX-License-Identifier: MIT */
/*
 * Copying a store into another backend: byte for byte when both use the same
 * format, else converted (convert.c), each ref then naming what its target
 * became. Objects the destination already has are skipped with everything
 * below them (a store only holds an object once its children are stored).
 * A source cut by retention copies its boundary too: walks stop there, and
 * the destination records it (before any ref names the copied history)
 * wherever it lacks the dropped parents.
 */
#include <stdio.h>

#include "store_int.h"

#define BATCH_OBJECTS 1024

struct missing {
	struct vs_oid id;
	enum vs_otype type;
};

struct copy {
	struct vs_repo *dst, *src;
	struct vs_oidmap seen;   /* id -> STARTED or DONE */
	struct missing *stack;   /* objects to visit (may repeat) */
	size_t depth, stack_cap;
	struct missing *order;   /* missing objects, each after all it refers to */
	size_t n, cap;
	struct vs_buf raw;
	vs_progress_fn *progress;
	void *payload;
	bool cut; /* the object being read is a boundary commit of the source */
};

/* Visit states in c->seen (absent: not visited yet). */
#define STARTED ((void *)1)
#define DONE ((void *)2)

static int grow(struct missing **v, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 1024;
	struct missing *nv = vs__realloc(*v, ncap * sizeof(*nv));
	if (!nv)
		return vs__enomem();
	*v = nv;
	*cap = ncap;
	return 0;
}

/* Schedule @id for a visit unless it was visited or the destination has it. */
static int note(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct copy *c = payload;
	int err;

	if (vs__oidmap_has(&c->seen, id))
		return 0;
	if ((err = vs__backend_obj_exists(c->dst->backend, id)) != 0)
		return err < 0 ? err : vs__oidmap_put(&c->seen, id, DONE, NULL);
	if ((err = grow(&c->stack, &c->stack_cap, c->depth)) < 0)
		return err;
	c->stack[c->depth++] = (struct missing){ *id, type };
	return 0;
}

static int note_below(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct copy *c = payload;
	if (c->cut && type == VS_OBJ_COMMIT)
		return 0; /* the source dropped it */
	return note(c, id, type);
}

/*
 * Find what @dst lacks, depth first from the refs, and order it so that every
 * object comes after all it refers to (a post-order): written in that order,
 * in several batches, an interrupted copy never leaves an object whose
 * children are missing. A stack entry whose object is already visited is
 * skipped, so an object scheduled early but reached again below a later one
 * is finished there first. Values need not be read.
 */
static int discover(struct copy *c)
{
	const struct vs_format *f = c->src->format;
	enum vs_otype type;
	int err = 0;

	while (c->depth && err == 0) {
		struct missing m = c->stack[c->depth - 1];
		void *state = vs__oidmap_get(&c->seen, &m.id);

		if (state == DONE) {
			c->depth--;
		} else if (state == STARTED || m.type == VS_OBJ_BLOB) {
			c->depth--;
			if ((err = vs__oidmap_put(&c->seen, &m.id, DONE, NULL)) < 0 ||
			    (err = grow(&c->order, &c->cap, c->n)) < 0)
				break;
			c->order[c->n++] = m;
		} else {
			/* First visit: its references go above it, so they finish first. */
			if ((err = vs__oidmap_put(&c->seen, &m.id, STARTED, NULL)) < 0 ||
			    (err = vs__backend_obj_read(c->src->backend, &m.id, &type, &c->raw)) < 0)
				break;
			c->cut = type == VS_OBJ_COMMIT && vs__shallow_has(c->src, &m.id);
			err = f->obj_refs(f, type, c->raw.ptr, c->raw.size, note_below, c);
			if (err >= 0 && c->progress && c->n % 4096 == 0)
				err = c->progress(c->payload, "counting", c->n, c->n);
		}
	}
	return err;
}

static int write_all(struct copy *c)
{
	struct vs_backend *b = c->dst->backend;
	struct vs__write_log *log;
	enum vs_otype type;
	int err = 0;

	for (size_t done = 0; done < c->n && err == 0;) {
		if ((err = vs__write_begin(c->dst, &log)) < 0)
			break;
		for (size_t k = 0; k < BATCH_OBJECTS && done < c->n && err >= 0; k++, done++) {
			const struct vs_oid *id = &c->order[done].id;
			if ((err = vs__backend_obj_read(c->src->backend, id, &type, &c->raw)) >= 0)
				err = vs__backend_obj_write(b, id, type, c->raw.ptr, c->raw.size);
		}
		if ((err = vs__write_end(c->dst, err)) < 0)
			break;
		if (c->progress)
			err = c->progress(c->payload, "writing", done, c->n);
	}
	return err;
}

/* 1 when @dst lacks a parent of @id (a source boundary commit), 0 if not. */
static int lacks_parent(struct vs_repo *dst, struct vs_repo *src, const struct vs_oid *id)
{
	struct vs_commit *commit;
	int err = vs_commit_lookup(&commit, src, id);

	for (size_t i = 0; err == 0 && i < vs_commit_parentcount(commit); i++) {
		const struct vs_oid *parent = vs_commit_parent_id(commit, i);
		if ((err = vs__backend_obj_exists(dst->backend, parent)) >= 0)
			err = !err; /* 1: lacking; else 0, go on */
	}
	vs_commit_free(commit);
	return err;
}

/* Add the source's boundary commits the destination now holds without parents. */
static int copy_boundary(struct vs_repo *dst, struct vs_repo *src)
{
	const struct vs_oid *theirs, *ours;
	size_t ntheirs, nours, n;
	struct vs_oid *all;
	int err;

	vs__shallow_ids(src, &theirs, &ntheirs);
	if (!ntheirs)
		return 0;
	if ((err = vs__shallow_refresh(dst)) < 0)
		return err;
	vs__shallow_ids(dst, &ours, &nours);
	if (!(all = vs__malloc((ntheirs + nours) * sizeof(*all))))
		return vs__enomem();
	if (nours)
		memcpy(all, ours, nours * sizeof(*all));
	n = nours;
	for (size_t i = 0; i < ntheirs && err >= 0; i++) {
		if ((err = vs__backend_obj_exists(dst->backend, &theirs[i])) <= 0)
			continue; /* not copied: nothing of ours reaches it */
		if ((err = lacks_parent(dst, src, &theirs[i])) > 0)
			all[n++] = theirs[i];
	}
	if (err >= 0 && n > nours)
		err = vs__shallow_set(dst, all, n);
	vs_free(all);
	return err < 0 ? err : 0;
}

static int note_ref(void *payload, const char *name, const struct vs_oid *target)
{
	(void)name;
	return note(payload, target, VS_OBJ_COMMIT);
}

static int copy_ref(void *payload, const char *name, const struct vs_oid *target)
{
	struct copy *c = payload;
	struct vs_oid cur;
	int err = vs__backend_ref_read(c->dst->backend, name, &cur);
	if (err < 0 && err != VS_ENOENT)
		return err;
	if (err >= 0 && vs_oid_equal(&cur, target))
		return 0;
	bool had = err >= 0;
	if ((err = vs__write_begin(c->dst, NULL)) < 0)
		return err;
	err = vs__backend_ref_cas(c->dst->backend, name, target, had ? &cur : NULL);
	return vs__write_end(c->dst, err);
}

/* The refs of a store, collected before anything is written. */
struct refs {
	char **names;
	struct vs_oid *ids;
	size_t n, cap;
};

static int refs_add(void *payload, const char *name, const struct vs_oid *target)
{
	struct refs *r = payload;

	if (r->n == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 16;
		char **nn = vs__realloc(r->names, ncap * sizeof(*nn));
		struct vs_oid *ni;
		if (!nn)
			return vs__enomem();
		r->names = nn;
		if (!(ni = vs__realloc(r->ids, ncap * sizeof(*ni))))
			return vs__enomem();
		r->ids = ni;
		r->cap = ncap;
	}
	if (!(r->names[r->n] = vs__strdup(name)))
		return vs__enomem();
	r->ids[r->n++] = *target;
	return 0;
}

/* Different formats: convert what the refs reach, then move each ref to what its target became. */
static int copy_converted(struct copy *c)
{
	struct vs__convert_opts o = { .progress = c->progress, .payload = c->payload };
	struct vs_oid *to = NULL;
	struct refs r = { 0 };
	int err;

	if ((err = vs__backend_ref_list(c->src->backend, "refs/", refs_add, &r)) < 0)
		goto out;
	if (r.n && !(to = vs__calloc(r.n, sizeof(*to)))) {
		err = vs__enomem();
		goto out;
	}
	if ((err = vs__convert_tips(to, c->dst, c->src, r.ids, r.n, &o)) != 0)
		goto out;
	for (size_t i = 0; i < r.n && !err; i++)
		err = copy_ref(c, r.names[i], &to[i]);
out:
	for (size_t i = 0; i < r.n; i++)
		vs_free(r.names[i]);
	vs_free(r.names);
	vs_free(r.ids);
	vs_free(to);
	return err;
}

int vs_repo_copy(struct vs_repo *dst, struct vs_repo *src, vs_progress_fn *progress,
		 void *payload)
{
	struct copy c = { .dst = dst, .src = src, .progress = progress, .payload = payload };
	int err;

	VS_CHECK_ARG(dst && src && dst != src);
	if (strcmp(dst->format->name, src->format->name))
		return copy_converted(&c);
	/* A progress callback's non-zero answer stops the copy and is returned. */
	if ((err = vs__shallow_refresh(src)) != 0 ||
	    (err = vs__backend_ref_list(src->backend, "refs/", note_ref, &c)) != 0 ||
	    (err = discover(&c)) != 0 || (err = write_all(&c)) != 0 ||
	    (err = copy_boundary(dst, src)) != 0)
		goto out;
	err = vs__backend_ref_list(src->backend, "refs/", copy_ref, &c);
out:
	vs__oidmap_dispose(&c.seen);
	vs_free(c.order);
	vs_free(c.stack);
	vs_buf_release(&c.raw);
	return err;
}
