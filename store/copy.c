/* SPDX-License-Identifier: MIT */
/*
 * Copying a store into another backend, byte for byte. Objects the
 * destination already has are skipped with everything below them (a store
 * only holds an object once its children are stored), and objects are
 * written children first, so an interrupted copy leaves a consistent store.
 */
#include <stdio.h>

#include "store_int.h"

#define BATCH_OBJECTS 1024

struct copy {
	struct vs_repo *dst, *src;
	struct vs_oidmap seen;
	struct vs_oid *order; /* missing objects, referrers before referents */
	size_t n, cap;
	struct vs_buf raw;
	vs_progress_fn *progress;
	void *payload;
};

static int note(struct copy *c, const struct vs_oid *id)
{
	int err;
	if (vs__oidmap_has(&c->seen, id))
		return 0;
	if ((err = vs__oidmap_put(&c->seen, id, NULL, NULL)) < 0)
		return err;
	if ((err = vs__backend_obj_exists(c->dst->backend, id)) != 0)
		return err < 0 ? err : 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct vs_oid *no = vs__realloc(c->order, ncap * sizeof(*no));
		if (!no)
			return vs__enomem();
		c->order = no;
		c->cap = ncap;
	}
	c->order[c->n++] = *id;
	return 0;
}

static int note_entry(void *payload, const struct vs_format_entry *e)
{
	return e->mode == 0160000 ? 0 : note(payload, &e->id);
}

/* Find what @dst lacks: breadth first from the refs, reading only commits and trees. */
static int discover(struct copy *c)
{
	struct vs_format_commit fc;
	enum vs_otype type;
	int err = 0;

	for (size_t i = 0; i < c->n && err >= 0; i++) {
		struct vs_oid id = c->order[i];
		if ((err = vs__backend_obj_read(c->src->backend, &id, &type, &c->raw)) < 0)
			break;
		if (type == VS_OBJ_COMMIT) {
			if ((err = c->src->format->commit_parse(&fc, c->raw.ptr, c->raw.size)) < 0)
				break;
			err = note(c, &fc.tree);
			for (size_t p = 0; p < fc.nparents && err >= 0; p++)
				err = note(c, &fc.parents[p]);
			vs_format_commit_dispose(&fc);
		} else if (type == VS_OBJ_TREE) {
			err = c->src->format->tree_load(c->src->format, &c->src->io_read, &id,
							note_entry, c);
		}
		if (err >= 0 && c->progress && i % 4096 == 0)
			err = c->progress(c->payload, "counting", i, c->n);
	}
	return err;
}

static int write_all(struct copy *c)
{
	struct vs_backend *b = c->dst->backend;
	enum vs_otype type;
	int err = 0;

	for (size_t done = 0; done < c->n && err >= 0;) {
		if ((err = vs__backend_batch_begin(b)) < 0)
			break;
		for (size_t k = 0; k < BATCH_OBJECTS && done < c->n && err >= 0; k++, done++) {
			const struct vs_oid *id = &c->order[c->n - 1 - done];
			if ((err = vs__backend_obj_read(c->src->backend, id, &type, &c->raw)) >= 0)
				err = vs__backend_obj_write(b, id, type, c->raw.ptr, c->raw.size);
		}
		if (err < 0 || (err = vs__backend_batch_commit(b)) < 0) {
			vs__backend_batch_abort(b);
			break;
		}
		if (c->progress)
			err = c->progress(c->payload, "writing", done, c->n);
	}
	return err;
}

static int note_ref(void *payload, const char *name, const struct vs_oid *target)
{
	(void)name;
	return note(payload, target);
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
	return vs__backend_ref_cas(c->dst->backend, name, target, err >= 0 ? &cur : NULL);
}

int vs_repo_copy(struct vs_repo *dst, struct vs_repo *src, vs_progress_fn *progress,
		 void *payload)
{
	struct copy c = { .dst = dst, .src = src, .progress = progress, .payload = payload };
	int err;

	VS_CHECK_ARG(dst && src && dst != src);
	if (strcmp(dst->format->name, src->format->name))
		return vs_error_set(VS_EINVAL, "cannot copy a '%s' store into a '%s' store",
				    src->format->name, dst->format->name);
	if ((err = vs__backend_ref_list(src->backend, "refs/", note_ref, &c)) < 0 ||
	    (err = discover(&c)) < 0 || (err = write_all(&c)) < 0)
		goto out;
	err = vs__backend_ref_list(src->backend, "refs/", copy_ref, &c);
out:
	vs__oidmap_dispose(&c.seen);
	vs_free(c.order);
	vs_buf_release(&c.raw);
	return err;
}
