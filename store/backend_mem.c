/* SPDX-License-Identifier: MIT */
/*
 * The in-memory backend: objects in a hash map, refs in a sorted array.
 * A batch keeps an undo log of ref changes so batch_abort restores them,
 * and its object deletions until batch_commit applies them; objects written
 * by an aborted batch stay, unreachable and harmless.
 */
#include "store_int.h"

struct mem_obj {
	enum vs_otype type;
	size_t len;
	unsigned char data[];
};

struct mem_ref {
	char *name;
	struct vs_oid target;
	bool present; /* only meaningful in the undo log */
};

struct mem_backend {
	struct vs_backend base;
	struct vs_oidmap objs;
	struct mem_ref *refs; /* sorted by name */
	size_t nrefs;
	struct mem_ref *undo; /* ref states before the open batch touched them */
	size_t nundo;
	struct vs_oid *dels; /* objects the open batch deletes */
	size_t ndels;
	bool in_batch;
	struct vs_oidmap idmap; /* id -> a heap vs_oid: its id in the other format */
	char *config[2]; /* values of the settings in mem_settings, or NULL */
};

/* The settings the core keeps here: the object format and the boundary. */
static const char *const mem_settings[] = { "format", "shallow" };

static const struct vs_backend_ops mem_ops;

static struct mem_backend *mem_from(struct vs_backend *b)
{
	assert(b->ops == &mem_ops);
	return container_of(b, struct mem_backend, base);
}

static int mem_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			struct vs_buf *out)
{
	struct mem_obj *o = vs__oidmap_get(&mem_from(b)->objs, id);
	char hex[VS_OID_MAXHEXSZ + 1];
	if (!o)
		return vs_error_set(VS_ENOENT, "object %s not found", vs_oid_tostr(hex, id));
	*type = o->type;
	return vs_buf_set(out, o->data, o->len);
}

static int mem_obj_exists(struct vs_backend *b, const struct vs_oid *id)
{
	return vs__oidmap_has(&mem_from(b)->objs, id);
}

static int mem_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			 const void *data, size_t len)
{
	struct mem_backend *m = mem_from(b);
	if (vs__oidmap_has(&m->objs, id))
		return 0;
	struct mem_obj *o = vs__malloc(sizeof(*o) + len);
	if (!o)
		return vs__enomem();
	o->type = type;
	o->len = len;
	if (len)
		memcpy(o->data, data, len);
	int err = vs__oidmap_put(&m->objs, id, o, NULL);
	if (err < 0)
		vs_free(o);
	return err;
}

static int mem_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	struct mem_backend *m = mem_from(b);
	vs__oidmap_foreach(&m->objs, slot)
	{
		int rc = cb(payload, &slot->key);
		if (rc)
			return rc;
	}
	return 0;
}

static int mem_obj_delete(struct vs_backend *b, const struct vs_oid *id)
{
	struct mem_backend *m = mem_from(b);
	struct vs_oid *d;

	if (!m->in_batch) {
		vs_free(vs__oidmap_del(&m->objs, id));
		return 0;
	}
	if (!(d = vs__realloc(m->dels, (m->ndels + 1) * sizeof(*d))))
		return vs__enomem();
	m->dels = d;
	m->dels[m->ndels++] = *id;
	return 0;
}

static void dels_clear(struct mem_backend *m, bool apply)
{
	for (size_t i = 0; apply && i < m->ndels; i++)
		vs_free(vs__oidmap_del(&m->objs, &m->dels[i]));
	vs_free(m->dels);
	m->dels = NULL;
	m->ndels = 0;
}

static int mem_batch_begin(struct vs_backend *b)
{
	struct mem_backend *m = mem_from(b);
	if (m->in_batch)
		return vs_error_set(VS_EBUSY, "a batch is already open");
	m->in_batch = true;
	return 0;
}

static void undo_clear(struct mem_backend *m)
{
	for (size_t i = 0; i < m->nundo; i++)
		vs_free(m->undo[i].name);
	vs_free(m->undo);
	m->undo = NULL;
	m->nundo = 0;
}

static int mem_batch_commit(struct vs_backend *b)
{
	struct mem_backend *m = mem_from(b);
	m->in_batch = false;
	undo_clear(m);
	dels_clear(m, true);
	return 0;
}

/* Binary search; returns the index of @name or where it would go. */
static size_t ref_find(struct mem_backend *m, const char *name, bool *found)
{
	size_t lo = 0, hi = m->nrefs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->refs[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Set (target != NULL) or delete a ref, without any check. */
static int ref_apply(struct mem_backend *m, const char *name, const struct vs_oid *target)
{
	bool found;
	size_t i = ref_find(m, name, &found);
	if (found && target) {
		m->refs[i].target = *target;
	} else if (found) {
		vs_free(m->refs[i].name);
		memmove(&m->refs[i], &m->refs[i + 1], (m->nrefs - i - 1) * sizeof(*m->refs));
		m->nrefs--;
	} else if (target) {
		struct mem_ref *r = vs__realloc(m->refs, (m->nrefs + 1) * sizeof(*r));
		char *dup = vs__strdup(name);
		if (r)
			m->refs = r;
		if (!r || !dup) {
			vs_free(dup);
			return vs__enomem();
		}
		memmove(&m->refs[i + 1], &m->refs[i], (m->nrefs - i) * sizeof(*m->refs));
		m->refs[i] = (struct mem_ref){ .name = dup, .target = *target };
		m->nrefs++;
	}
	return 0;
}

static void mem_batch_abort(struct vs_backend *b)
{
	struct mem_backend *m = mem_from(b);
	/* Undo newest first, so the oldest recorded state wins. */
	for (size_t i = m->nundo; i-- > 0;)
		ref_apply(m, m->undo[i].name, m->undo[i].present ? &m->undo[i].target : NULL);
	m->in_batch = false;
	undo_clear(m);
	dels_clear(m, false);
}

static int mem_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	struct mem_backend *m = mem_from(b);
	bool found;
	size_t i = ref_find(m, name, &found);
	if (!found)
		return vs_error_set(VS_ENOENT, "ref %s not found", name);
	*out = m->refs[i].target;
	return 0;
}

static int record_undo(struct mem_backend *m, const char *name)
{
	if (!m->in_batch)
		return 0;
	struct mem_ref *u = vs__realloc(m->undo, (m->nundo + 1) * sizeof(*u));
	if (!u)
		return vs__enomem();
	m->undo = u;
	bool found;
	size_t i = ref_find(m, name, &found);
	u[m->nundo] = (struct mem_ref){ .name = vs__strdup(name), .present = found };
	if (!u[m->nundo].name)
		return vs__enomem();
	if (found)
		u[m->nundo].target = m->refs[i].target;
	m->nundo++;
	return 0;
}

static int mem_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
		       const struct vs_oid *expected)
{
	struct mem_backend *m = mem_from(b);
	bool found;
	size_t i = ref_find(m, name, &found);
	int err;

	if (expected ? !found || !vs_oid_equal(&m->refs[i].target, expected) : found)
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	if ((err = record_undo(m, name)) < 0)
		return err;
	return ref_apply(m, name, target);
}

static int mem_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	struct mem_backend *m = mem_from(b);
	bool found;
	size_t i = ref_find(m, name, &found);
	int err;

	if (!found)
		return vs_error_set(VS_ENOENT, "ref %s not found", name);
	if (expected && !vs_oid_equal(&m->refs[i].target, expected))
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	if ((err = record_undo(m, name)) < 0)
		return err;
	return ref_apply(m, name, NULL);
}

static int mem_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	struct mem_backend *m = mem_from(b);
	size_t plen = strlen(prefix);
	for (size_t i = 0; i < m->nrefs; i++) {
		if (strncmp(m->refs[i].name, prefix, plen))
			continue;
		int rc = cb(payload, m->refs[i].name, &m->refs[i].target);
		if (rc)
			return rc;
	}
	return 0;
}

static char **setting(struct mem_backend *m, const char *key)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(mem_settings); i++)
		if (!strcmp(key, mem_settings[i]))
			return &m->config[i];
	return NULL;
}

static int mem_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	char **v = setting(mem_from(b), key);
	if (!v || !*v)
		return vs_error_set(VS_ENOENT, "setting '%s' not set", key);
	return vs_buf_set(out, *v, strlen(*v));
}

static int mem_config_set(struct vs_backend *b, const char *key, const char *value)
{
	char **v = setting(mem_from(b), key), *dup;
	if (!v)
		return vs_error_set(VS_EINVAL, "the mem backend keeps no setting '%s'", key);
	if (!(dup = vs__strdup(value)))
		return vs__enomem();
	vs_free(*v);
	*v = dup;
	return 0;
}

static int mem_idmap_get(struct vs_backend *b, const struct vs_oid *from, struct vs_oid *to)
{
	const struct vs_oid *v = vs__oidmap_get(&mem_from(b)->idmap, from);
	char hex[VS_OID_MAXHEXSZ + 1];
	if (!v)
		return vs_error_set(VS_ENOENT, "no converted id for %s", vs_oid_tostr(hex, from));
	*to = *v;
	return 0;
}

/* Lands at once, batch or not: an aborted batch leaves its objects too. */
static int mem_idmap_put(struct vs_backend *b, const struct vs_oid *from, const struct vs_oid *to)
{
	struct mem_backend *m = mem_from(b);
	struct vs_oid *v = vs__malloc(sizeof(*v));
	void *old = NULL;
	int err;

	if (!v)
		return vs__enomem();
	*v = *to;
	if ((err = vs__oidmap_put(&m->idmap, from, v, &old)) < 0)
		vs_free(v);
	vs_free(old);
	return err;
}

static void mem_free(struct vs_backend *b)
{
	struct mem_backend *m = mem_from(b);
	vs__oidmap_foreach(&m->objs, slot) vs_free(slot->value);
	vs__oidmap_dispose(&m->objs);
	vs__oidmap_foreach(&m->idmap, slot) vs_free(slot->value);
	vs__oidmap_dispose(&m->idmap);
	for (size_t i = 0; i < m->nrefs; i++)
		vs_free(m->refs[i].name);
	vs_free(m->refs);
	undo_clear(m);
	dels_clear(m, false);
	for (size_t i = 0; i < VS_ARRAY_SIZE(m->config); i++)
		vs_free(m->config[i]);
	vs_free(m);
}

static const struct vs_backend_ops mem_ops = {
	.version = VS_BACKEND_OPS_VERSION,
	.name = "mem",
	.obj_read = mem_obj_read,
	.obj_exists = mem_obj_exists,
	.obj_write = mem_obj_write,
	.obj_foreach = mem_obj_foreach,
	.obj_delete = mem_obj_delete,
	.batch_begin = mem_batch_begin,
	.batch_commit = mem_batch_commit,
	.batch_abort = mem_batch_abort,
	.ref_read = mem_ref_read,
	.ref_cas = mem_ref_cas,
	.ref_delete = mem_ref_delete,
	.ref_list = mem_ref_list,
	.config_get = mem_config_get,
	.config_set = mem_config_set,
	.idmap_get = mem_idmap_get,
	.idmap_put = mem_idmap_put,
	.free = mem_free,
};

int vs_backend_mem_open(struct vs_backend **out, const struct vs_repo_opts *opts)
{
	struct mem_backend *m = vs__calloc(1, sizeof(*m));
	(void)opts;
	*out = NULL;
	if (!m)
		return vs__enomem();
	m->base.ops = &mem_ops;
	m->base.default_format = "git";
	*out = &m->base;
	return 0;
}
