/* SPDX-License-Identifier: MIT */
/*
 * Backend registry (URI schemes) and checked dispatch. The core never calls
 * b->ops->x directly: these wrappers turn a missing optional slot into
 * VS_ENOTSUP, refuse writes on read-only handles, keep results within the
 * VS_E* space, and count operations for the benchmarks.
 */
#include <stdio.h>

#include "gc_int.h"

struct scheme {
	char name[16];
	vs_backend_open_fn *open;
};

static int open_mem(struct vs_backend **out, const char *path, const struct vs_repo_opts *opts)
{
	if (*path)
		return vs_error_set(VS_EINVAL, "the mem: backend takes no path (got '%s')", path);
	return vs_backend_mem_open(out, opts);
}

static struct scheme schemes[16] = {
	{ "mem", open_mem },
	{ "lmdb", vs_backend_lmdb_open },
	{ "git", vs_backend_git_open },
};

int vs_backend_register(const char *scheme, vs_backend_open_fn *open)
{
	VS_CHECK_ARG(scheme && *scheme && strlen(scheme) < sizeof(schemes[0].name) && open);
	for (size_t i = 0; i < VS_ARRAY_SIZE(schemes); i++) {
		if (!strcmp(schemes[i].name, scheme))
			return vs_error_set(VS_EEXIST, "backend scheme '%s' already registered",
					    scheme);
		if (!schemes[i].open) {
			snprintf(schemes[i].name, sizeof(schemes[i].name), "%s", scheme);
			schemes[i].open = open;
			return 0;
		}
	}
	return vs_error_set(VS_ENOSPC, "too many backend schemes");
}

int vs__uri_split(char *scheme, size_t n, const char **rest, const char *uri)
{
	const char *colon = strchr(uri, ':');
	if (!colon || colon == uri || (size_t)(colon - uri) >= n)
		return vs_error_set(VS_EINVAL,
				    "store URI '%s' has no scheme (expected mem:, lmdb:PATH or "
				    "git:PATH)",
				    uri);
	memcpy(scheme, uri, (size_t)(colon - uri));
	scheme[colon - uri] = '\0';
	*rest = colon + 1;
	return 0;
}

int vs__backend_open_uri(struct vs_backend **out, const char *uri, const struct vs_repo_opts *opts)
{
	char scheme[16];
	const char *rest = NULL;
	int err;

	*out = NULL;
	if ((err = vs__uri_split(scheme, sizeof(scheme), &rest, uri)) < 0)
		return err;
	for (size_t i = 0; i < VS_ARRAY_SIZE(schemes) && schemes[i].open; i++) {
		if (strcmp(schemes[i].name, scheme))
			continue;
		if (strcmp(scheme, "mem") && !*rest)
			return vs_error_set(VS_EINVAL, "store URI '%s' needs a path after '%s:'",
					    uri, scheme);
		if ((err = schemes[i].open(out, rest, opts)) < 0)
			return err;
		return vs__backend_check(*out);
	}
	return vs_error_set(VS_EINVAL, "unknown store scheme '%s' in '%s'", scheme, uri);
}

int vs__backend_check(struct vs_backend *b)
{
	const struct vs_backend_ops *o = b->ops;
	if (o->version < 2 || o->version > VS_BACKEND_OPS_VERSION)
		return vs_error_set(VS_EINVAL, "backend '%s' has ops version %u, expected 2 to %u",
				    o->name, o->version, VS_BACKEND_OPS_VERSION);
	if (o->version >= 3 && o->obj_write_based && !o->obj_base)
		return vs_error_set(VS_EINVAL, "backend '%s' has obj_write_based without obj_base",
				    o->name);
	if (!o->obj_read || !o->obj_exists || !o->obj_write || !o->batch_begin ||
	    !o->batch_commit || !o->batch_abort || !o->ref_read || !o->ref_cas ||
	    !o->ref_delete || !o->ref_list || !o->free)
		return vs_error_set(VS_EINVAL, "backend '%s' lacks a mandatory operation",
				    o->name);
	return 0;
}

/* A backend must answer with a VS_E* code; anything else is a bug there. */
static int checked(struct vs_backend *b, int rc, const char *op)
{
	if (rc > 0 || rc == 0)
		return rc;
	if (rc > -4096 || (rc <= VS_ECONFLICT && rc >= VS_EQUOTA))
		return rc;
	return vs_error_set(VS_EBACKEND, "backend '%s' %s returned foreign code %d",
			    b->ops->name, op, rc);
}

static int readonly(struct vs_backend *b)
{
	return vs_error_set(VS_EROFS, "the %s store is open read-only", b->ops->name);
}

int vs__backend_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out)
{
	b->stats.obj_reads++;
	return checked(b, b->ops->obj_read(b, id, type, out), "obj_read");
}

int vs__backend_obj_exists(struct vs_backend *b, const struct vs_oid *id)
{
	b->stats.obj_exists++;
	return checked(b, b->ops->obj_exists(b, id), "obj_exists");
}

/* The version-3 operations, NULL in a version-2 table (which ends before them). */
static bool has_based(const struct vs_backend *b)
{
	return b->ops->version >= 3 && b->ops->obj_write_based;
}

int vs__backend_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			  const void *data, size_t len)
{
	int err;

	if (b->readonly)
		return readonly(b);
	/* A collection in progress must learn of the object and what it refers to. */
	if (b->gc && (err = vs__gc_note_write(b, id, type, data, len)) < 0)
		return err;
	b->stats.obj_writes++;
	/* Nor may what a writer stores then depend on a base the sweep may
	 * delete: a tree already stored as a delta is stored again, whole. */
	if (type == VS_OBJ_TREE && b->gc && b->gc->cycle && has_based(b))
		return checked(b, b->ops->obj_write_based(b, id, type, data, len, NULL),
			       "obj_write_based");
	return checked(b, b->ops->obj_write(b, id, type, data, len), "obj_write");
}

int vs__backend_obj_write_based(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
				const void *data, size_t len, const struct vs_oid *base)
{
	int err;

	/* While a collection runs, only a base it keeps (marked now if need
	 * be): what it sweeps must leave no delta behind. */
	if (!base || !base->type || !has_based(b) ||
	    (b->gc && b->gc->cycle && !vs__gc_keep(b, base)))
		return vs__backend_obj_write(b, id, type, data, len);
	if (b->readonly)
		return readonly(b);
	if (b->gc && (err = vs__gc_note_write(b, id, type, data, len)) < 0)
		return err;
	b->stats.obj_writes++;
	err = b->ops->obj_write_based(b, id, type, data, len, base);
	return checked(b, err, "obj_write_based");
}

int vs__backend_obj_base(struct vs_backend *b, const struct vs_oid *id, struct vs_oid *base)
{
	if (!has_based(b))
		return 0;
	return checked(b, b->ops->obj_base(b, id, base), "obj_base");
}

int vs__backend_obj_stat(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 uint64_t *size, struct vs_buf *scratch)
{
	int err;

	if (b->ops->version >= 3 && b->ops->obj_stat)
		return checked(b, b->ops->obj_stat(b, id, type, size), "obj_stat");
	if ((err = vs__backend_obj_read(b, id, type, scratch)) >= 0)
		*size = scratch->size;
	return err;
}

int vs__backend_obj_store_whole(struct vs_backend *b, const struct vs_oid *id,
				enum vs_otype type, const void *data, size_t len)
{
	if (!has_based(b))
		return vs__backend_obj_write(b, id, type, data, len);
	if (b->readonly)
		return readonly(b);
	b->stats.obj_writes++;
	return checked(b, b->ops->obj_write_based(b, id, type, data, len, NULL),
		       "obj_write_based");
}

int vs__backend_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	if (!b->ops->obj_foreach)
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot list objects", b->ops->name);
	return checked(b, b->ops->obj_foreach(b, cb, payload), "obj_foreach");
}

int vs__backend_obj_list(struct vs_backend *b, const struct vs_oid *after, struct vs_oid *out,
			 size_t max, size_t *n)
{
	*n = 0;
	if (!b->ops->obj_list)
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot list objects in steps",
				    b->ops->name);
	int err = checked(b, b->ops->obj_list(b, after, out, max, n), "obj_list");
	if (err >= 0 && *n > max)
		return vs_error_set(VS_EBACKEND, "backend '%s' listed %zu objects, asked for %zu",
				    b->ops->name, *n, max);
	return err;
}

int vs__backend_obj_delete(struct vs_backend *b, const struct vs_oid *id)
{
	if (!b->ops->obj_delete)
		return vs_error_set(VS_ENOTSUP, "backend '%s' cannot delete objects", b->ops->name);
	if (b->readonly)
		return readonly(b);
	return checked(b, b->ops->obj_delete(b, id), "obj_delete");
}

int vs__backend_compact_step(struct vs_backend *b, size_t budget, uint64_t *freed, size_t *moved)
{
	if (!b->ops->compact_step)
		return 0; /* deletes free their space at once */
	if (b->readonly)
		return readonly(b);
	return checked(b, b->ops->compact_step(b, budget, freed, moved), "compact_step");
}

int vs__backend_batch_begin(struct vs_backend *b)
{
	if (b->readonly)
		return readonly(b);
	b->stats.batches++;
	return checked(b, b->ops->batch_begin(b), "batch_begin");
}

int vs__backend_batch_commit(struct vs_backend *b)
{
	return checked(b, b->ops->batch_commit(b), "batch_commit");
}

void vs__backend_batch_abort(struct vs_backend *b)
{
	b->ops->batch_abort(b);
}

int vs__backend_sync(struct vs_backend *b)
{
	if (!b->ops->sync || b->readonly)
		return 0; /* commits are as durable as this backend makes them */
	return checked(b, b->ops->sync(b), "sync");
}

int vs__backend_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	b->stats.ref_reads++;
	return checked(b, b->ops->ref_read(b, name, out), "ref_read");
}

int vs__backend_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
			const struct vs_oid *expected)
{
	int err;

	if (b->readonly)
		return readonly(b);
	if (b->gc && (err = vs__gc_note_ref(b, target)) < 0)
		return err;
	b->stats.ref_updates++;
	return checked(b, b->ops->ref_cas(b, name, target, expected), "ref_cas");
}

int vs__backend_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	if (b->readonly)
		return readonly(b);
	b->stats.ref_updates++;
	return checked(b, b->ops->ref_delete(b, name, expected), "ref_delete");
}

int vs__backend_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	return checked(b, b->ops->ref_list(b, prefix, cb, payload), "ref_list");
}

int vs__backend_idmap_get(struct vs_backend *b, const struct vs_oid *from, struct vs_oid *to)
{
	if (!b->ops->idmap_get)
		return vs_error_set(VS_ENOTSUP, "backend '%s' keeps no id map", b->ops->name);
	return checked(b, b->ops->idmap_get(b, from, to), "idmap_get");
}

int vs__backend_idmap_put(struct vs_backend *b, const struct vs_oid *from, const struct vs_oid *to)
{
	if (!b->ops->idmap_put)
		return vs_error_set(VS_ENOTSUP, "backend '%s' keeps no id map", b->ops->name);
	if (b->readonly)
		return readonly(b);
	return checked(b, b->ops->idmap_put(b, from, to), "idmap_put");
}

int vs__backend_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	if (!b->ops->config_get)
		return vs_error_set(VS_ENOENT, "backend '%s' keeps no settings", b->ops->name);
	return checked(b, b->ops->config_get(b, key, out), "config_get");
}

int vs__backend_config_set(struct vs_backend *b, const char *key, const char *value)
{
	if (!b->ops->config_set)
		return 0; /* nothing to remember: the backend has a fixed format */
	if (b->readonly)
		return readonly(b);
	return checked(b, b->ops->config_set(b, key, value), "config_set");
}

void vs__backend_free(struct vs_backend *b)
{
	if (!b)
		return;
	vs__gc_state_free(b);
	b->ops->free(b);
}

