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

struct missing {
	struct vs_oid id;
	enum vs_otype type;
};

struct copy {
	struct vs_repo *dst, *src;
	struct vs_oidmap seen;
	struct missing *order; /* missing objects, referrers before referents */
	size_t n, cap;
	struct vs_buf raw;
	vs_progress_fn *progress;
	void *payload;
};

static int note(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct copy *c = payload;
	int err;
	if (vs__oidmap_has(&c->seen, id))
		return 0;
	if ((err = vs__oidmap_put(&c->seen, id, NULL, NULL)) < 0)
		return err;
	if ((err = vs__backend_obj_exists(c->dst->backend, id)) != 0)
		return err < 0 ? err : 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct missing *no = vs__realloc(c->order, ncap * sizeof(*no));
		if (!no)
			return vs__enomem();
		c->order = no;
		c->cap = ncap;
	}
	c->order[c->n++] = (struct missing){ *id, type };
	return 0;
}

/* Find what @dst lacks: breadth first from the refs; values need not be read. */
static int discover(struct copy *c)
{
	const struct vs_format *f = c->src->format;
	enum vs_otype type;
	int err = 0;

	for (size_t i = 0; i < c->n && err >= 0; i++) {
		struct missing m = c->order[i];
		if (m.type == VS_OBJ_BLOB)
			continue;
		if ((err = vs__backend_obj_read(c->src->backend, &m.id, &type, &c->raw)) < 0)
			break;
		err = f->obj_refs(f, type, c->raw.ptr, c->raw.size, note, c);
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
			const struct vs_oid *id = &c->order[c->n - 1 - done].id;
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
