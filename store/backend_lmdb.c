/* SPDX-License-Identifier: MIT */
/*
 * The LMDB backend, the default: the store's layout in the named databases
 * "log", "index", "refs", "config" and "idmap" (ids of converted objects),
 * its batches and its vs_backend_ops. A batch is one write txn whose writes
 * are also kept in memory, so that when the map fills up it is grown and the
 * batch replayed. The environment, its registry and its txns live in
 * backend_lmdb_env.c, the records of the log in backend_lmdb_log.c.
 */
#include "backend_lmdb_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Layout, chosen for space (a commit adds ~8 objects of ~200 bytes): objects
 * are appended to "log", a byte stream cut into chunks of chunk_size bytes
 * keyed by chunk number (MDB_INTEGERKEY, new chunks with MDB_APPEND): two
 * chunks fill a 4 KiB leaf page exactly. A record is a type byte, a LEB128
 * length and the content. "index" has one key per id length (20, 32) whose
 * MDB_DUPFIXED values are id || 48-bit log offset, packed with no per-entry
 * header. Measured growth per commit is 1.23x the object bytes, against
 * 1.77x for objects keyed by id (random keys leave B-tree pages ~69% full).
 */

static const struct vs_backend_ops lmdb_ops;

struct lmdb_backend *vs__lmdb_from(struct vs_backend *b)
{
	assert(b->ops == &lmdb_ops);
	return container_of(b, struct lmdb_backend, base);
}

static int corrupt_obj(const char *path, const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "object %s in %s: %s", vs_oid_tostr(hex, id), path, why);
}

/* 1 with the log offset of @id in *off, 0 when absent, or an error. */
int vs__lmdb_index_find(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
			uint64_t *off)
{
	size_t n = vs_oid_size(id->type);
	unsigned char key = (unsigned char)n, ent[VS_OID_MAXSZ + OFFSZ] = { 0 };
	MDB_val k = { 1, &key }, v = { n + OFFSZ, ent };
	MDB_cursor **c = txn == l->wtxn ? &l->wcur : &l->rcur;
	int rc = 0;

	if (!n)
		return vs_error_set(VS_EINVAL, "object id of unknown type %d", id->type);
	if (!*c) {
		rc = mdb_cursor_open(txn, l->e->index, c);
	} else if (c == &l->rcur && l->rcur_stale && (rc = mdb_cursor_renew(txn, *c))) {
		mdb_cursor_close(*c);
		*c = NULL;
	}
	if (rc)
		return vs__lmdb_err(rc, "open index cursor", l->e->path);
	if (c == &l->rcur)
		l->rcur_stale = false;
	memcpy(ent, id->id, n);
	if ((rc = mdb_cursor_get(*c, &k, &v, MDB_GET_BOTH_RANGE)))
		return rc == MDB_NOTFOUND ? 0 : vs__lmdb_err(rc, "index lookup", l->e->path);
	if (v.mv_size != n + OFFSZ)
		return corrupt_obj(l->e->path, id, "index entry of the wrong size");
	if (memcmp(v.mv_data, id->id, n))
		return 0;
	*off = 0;
	for (size_t i = 0; i < OFFSZ; i++)
		*off = *off << 8 | ((const unsigned char *)v.mv_data)[n + i];
	return 1;
}

/* 1 when stored, 0 when already present, or an error. */
static int apply_obj(struct lmdb_backend *l, const struct lmdb_op *op)
{
	unsigned char key = (unsigned char)vs_oid_size(op->id.type), ent[VS_OID_MAXSZ + OFFSZ];
	MDB_val k = { 1, &key }, v = { key + OFFSZ, ent };
	uint64_t off;
	int err, rc;

	/* Nearly every object written is new: the filter spares the lookup. */
	bool fresh = vs__lmdb_filter_absent(l, &op->id);
	if (!fresh && (err = vs__lmdb_index_find(l, l->wtxn, &op->id, &off)) != 0) {
		if (err > 0 && op->based)
			return vs__lmdb_apply_rebase(l, op);
		return err < 0 ? err : 0;
	}
	if ((err = vs__lmdb_obj_append(l, op, &off)) < 0)
		return err;
	vs__lmdb_index_entry(ent, &op->id, off);
	if ((rc = mdb_put(l->wtxn, l->e->index, &k, &v, 0))) {
		l->tail_loaded = false;
		return vs__lmdb_err(rc, "index put", l->e->path);
	}
	if (!fresh)
		vs__lmdb_filter_add(l, &op->id);
	return 1;
}

static int ref_parse(struct lmdb_backend *l, const char *name, const MDB_val *v,
		     struct vs_oid *out)
{
	if (v->mv_size != 20 && v->mv_size != 32)
		return vs_error_set(VS_ECORRUPT, "ref %s in %s holds %zu bytes, not an id", name,
				    l->e->path, v->mv_size);
	return vs_oid_fromraw(out, v->mv_size == 20 ? VS_OID_SHA1 : VS_OID_SHA256, v->mv_data);
}

static int ref_get(struct lmdb_backend *l, MDB_txn *txn, const char *name, struct vs_oid *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, l->e->refs, &k, &v);

	if (rc == MDB_NOTFOUND)
		return vs_error_set(VS_ENOENT, "ref %s not found", name);
	return rc ? vs__lmdb_err(rc, "read ref", l->e->path) : ref_parse(l, name, &v, out);
}

static int apply_ref(struct lmdb_backend *l, const struct lmdb_op *op)
{
	MDB_val k = { strlen(op->name), (void *)op->name };
	MDB_val v = { vs_oid_size(op->id.type), (void *)op->id.id };
	bool want = op->expected.type != 0;
	struct vs_oid cur;
	int err = ref_get(l, l->wtxn, op->name, &cur), rc;

	if (err < 0 && (err != VS_ENOENT || op->kind == OP_DEL))
		return err;
	if (want ? err || !vs_oid_equal(&cur, &op->expected) : !err && op->kind == OP_CAS)
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", op->name);
	if (op->kind == OP_DEL)
		rc = mdb_del(l->wtxn, l->e->refs, &k, NULL);
	else
		rc = mdb_put(l->wtxn, l->e->refs, &k, &v, 0);
	return rc ? vs__lmdb_err(rc, "update ref", l->e->path) : 0;
}

static int apply(struct lmdb_backend *l, const struct lmdb_op *op)
{
	MDB_val k = { op->name ? strlen(op->name) : 0, (void *)op->name };
	MDB_val v = { op->len, (void *)op->data };
	int rc;

	switch (op->kind) {
	case OP_OBJ:
		return apply_obj(l, op);
	case OP_CAS:
	case OP_DEL:
		return apply_ref(l, op);
	case OP_ODEL:
		return vs__lmdb_apply_odel(l, op);
	case OP_MOVE:
		return vs__lmdb_apply_move(l, op);
	case OP_DROP:
		return vs__lmdb_apply_drop(l, op);
	case OP_IDMAP:
		k = (MDB_val){ vs_oid_size(op->id.type), (void *)op->id.id };
		rc = mdb_put(l->wtxn, l->e->idmap, &k, &v, 0);
		return rc ? vs__lmdb_err(rc, "write id map", l->e->path) : 0;
	case OP_CONFIG:
		break;
	}
	rc = mdb_put(l->wtxn, l->e->config, &k, &v, 0);
	return rc ? vs__lmdb_err(rc, "write setting", l->e->path) : 0;
}

static void batch_clear(struct lmdb_backend *l)
{
	vs_free(l->ops);
	l->ops = NULL;
	l->nops = l->aops = 0;
	vs_buf_release(&l->opdata);
	l->in_batch = false;
	l->batch_err = 0;
}

/* Keep a copy of @op for replay: its bytes go to one buffer that grows
 * geometrically, so a batch costs a few allocations, not one per write. */
static int batch_log(struct lmdb_backend *l, const struct lmdb_op *op)
{
	size_t nlen = op->name ? strlen(op->name) + 1 : 0;
	struct lmdb_logged *c;
	int err;

	if (l->nops == l->aops) {
		size_t n = l->aops ? l->aops * 2 : 64;
		struct lmdb_logged *a = vs__realloc(l->ops, n * sizeof(*a));
		if (!a)
			return vs__enomem();
		l->ops = a;
		l->aops = n;
	}
	c = &l->ops[l->nops];
	c->op = *op;
	c->op.data = NULL;
	c->op.name = NULL;
	c->data_at = l->opdata.size;
	c->name_at = l->opdata.size + op->len;
	if ((err = vs_buf_put(&l->opdata, op->data, op->len)) < 0 ||
	    (err = vs_buf_put(&l->opdata, op->name, nlen)) < 0)
		return err;
	c->has_name = nlen > 0;
	l->nops++;
	return 0;
}

/* Logged write @i with its pointers into l->opdata. */
static struct lmdb_op batch_op(const struct lmdb_backend *l, size_t i)
{
	struct lmdb_op op = l->ops[i].op;
	if (op.len)
		op.data = l->opdata.ptr + l->ops[i].data_at;
	if (l->ops[i].has_name)
		op.name = l->opdata.ptr + l->ops[i].name_at;
	return op;
}

/* The map filled up during the batch: drop the txn, grow, replay. */
static int batch_regrow(struct lmdb_backend *l)
{
	int err;
	for (;;) {
		size_t seen = l->wmapsize;
		vs__lmdb_wtxn_end(l, false);
		if ((err = vs__lmdb_map_resize(l->e, seen)) < 0 ||
		    (err = vs__lmdb_wtxn_begin(l)) < 0)
			break;
		for (size_t i = 0; i < l->nops && err >= 0; i++) {
			struct lmdb_op op = batch_op(l, i);
			err = apply(l, &op);
		}
		if (err >= 0)
			return 0;
		if (err != VS_ENOSPC) { /* e.g. another writer moved a ref meanwhile */
			vs__error_wrap(err, "replaying the batch after growing the map");
			break;
		}
	}
	vs__lmdb_wtxn_end(l, false);
	return l->batch_err = err;
}

/* Apply one write: in the batch's txn (kept for replay), else in its own. */
int vs__lmdb_run_write(struct lmdb_backend *l, const struct lmdb_op *op)
{
	int err;

	l->last_read.type = 0; /* what obj_base may answer from may change */
	if (l->in_batch) {
		if (l->batch_err)
			return vs_error_set(l->batch_err, "the batch on %s already failed",
					    l->e->path);
		while ((err = apply(l, op)) == VS_ENOSPC)
			if ((err = batch_regrow(l)) < 0)
				return err;
		/* Our own refusals leave the txn usable; LMDB failures do not. */
		if (err < 0 && err != VS_ECONFLICT && err != VS_ENOENT && err != VS_EINVAL)
			return l->batch_err = err;
		/* An object already stored before needs no replay. */
		if ((err > 0 || (err == 0 && op->kind != OP_OBJ)) && (err = batch_log(l, op)) < 0)
			return l->batch_err = err;
		return err < 0 ? err : 0;
	}
	for (;;) {
		if ((err = vs__lmdb_wtxn_begin(l)) < 0)
			return err;
		size_t seen = l->wmapsize;
		if ((err = apply(l, op)) >= 0)
			err = vs__lmdb_wtxn_end(l, true);
		vs__lmdb_wtxn_end(l, false);
		if (err != VS_ENOSPC)
			return err < 0 ? err : 0;
		if ((err = vs__lmdb_map_resize(l->e, seen)) < 0)
			return err;
	}
}

static int lmdb_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	char hex[VS_OID_MAXHEXSZ + 1];
	MDB_txn *txn;
	uint64_t off;
	int err;

	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((err = vs__lmdb_index_find(l, txn, id, &off)) > 0)
		err = vs__lmdb_obj_load(l, txn, id, off, type, out);
	else if (err == 0)
		err = vs_error_set(VS_ENOENT, "object %s not found", vs_oid_tostr(hex, id));
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_obj_exists(struct vs_backend *b, const struct vs_oid *id)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_txn *txn;
	uint64_t off;
	int err;

	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = vs__lmdb_index_find(l, txn, id, &off);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_obj_write_based(struct vs_backend *b, const struct vs_oid *id,
				enum vs_otype type, const void *data, size_t len,
				const struct vs_oid *base)
{
	struct lmdb_op op = { .kind = OP_OBJ, .type = type, .id = *id, .data = data, .len = len,
			      .based = true };
	VS_CHECK_ARG(vs_oid_size(id->type) && type >= VS_OBJ_COMMIT && type <= VS_OBJ_TAG);
	if (base)
		op.base = *base;
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

static int lmdb_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			  const void *data, size_t len)
{
	struct lmdb_op op = { .kind = OP_OBJ, .type = type, .id = *id, .data = data, .len = len };
	VS_CHECK_ARG(vs_oid_size(id->type) && type >= VS_OBJ_COMMIT && type <= VS_OBJ_TAG);
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

static int lmdb_obj_stat(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 uint64_t *size)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_txn *txn;
	int err;

	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = vs__lmdb_obj_stat(l, txn, id, type, size);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_obj_base(struct vs_backend *b, const struct vs_oid *id, struct vs_oid *base)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_txn *txn;
	int err;

	/* The collection asks right after reading the object: no lookup then. */
	if (vs_oid_equal(id, &l->last_read)) {
		*base = l->last_base;
		return base->type != 0;
	}
	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = vs__lmdb_obj_base(l, txn, id, base);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

/*
 * Walks in steps of vs__lmdb_obj_list, each resuming after the last id seen,
 * with no txn held while callbacks run: they may use this handle, and an
 * entry deleted or moved meanwhile (by them, a collection or another
 * process) does not end the walk early.
 */
static int lmdb_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	struct vs_oid *ids = vs__malloc(FOREACH_STEP * sizeof(*ids)), last;
	size_t n = 0;
	int err = 0;

	if (!ids)
		return vs__enomem();
	do {
		bool resume = n > 0;
		if ((err = vs__lmdb_obj_list(b, resume ? &last : NULL, ids, FOREACH_STEP, &n)) < 0)
			break;
		for (size_t i = 0; i < n && !err; i++)
			err = cb(payload, &ids[i]);
		if (n)
			last = ids[n - 1];
	} while (!err && n == FOREACH_STEP);
	vs_free(ids);
	return err;
}

static int lmdb_batch_begin(struct vs_backend *b)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	int err;

	if (l->in_batch)
		return vs_error_set(VS_EBUSY, "a batch is already open");
	if ((err = vs__lmdb_wtxn_begin(l)) < 0)
		return err;
	l->in_batch = true;
	return 0;
}

static int lmdb_batch_commit(struct vs_backend *b)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	int err;

	if (!l->in_batch)
		return vs_error_set(VS_EINVAL, "no batch is open");
	if ((err = l->batch_err) < 0)
		vs_error_set(err, "the batch on %s failed and was dropped", l->e->path);
	while (!err && (err = vs__lmdb_wtxn_end(l, true)) == VS_ENOSPC)
		err = batch_regrow(l); /* the commit itself ran out of map */
	vs__lmdb_wtxn_end(l, false);
	batch_clear(l);
	return err;
}

static void lmdb_batch_abort(struct vs_backend *b)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	if (!l->in_batch)
		return;
	vs__lmdb_wtxn_end(l, false);
	batch_clear(l);
}

static int lmdb_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_txn *txn;
	int err;

	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = ref_get(l, txn, name, out);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int ref_write(struct vs_backend *b, enum op_kind kind, const char *name,
		     const struct vs_oid *target, const struct vs_oid *expected)
{
	struct lmdb_op op = { .kind = kind, .name = name };
	if (target)
		op.id = *target;
	if (expected)
		op.expected = *expected;
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

static int lmdb_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
			const struct vs_oid *expected)
{
	VS_CHECK_ARG(vs_oid_size(target->type));
	return ref_write(b, OP_CAS, name, target, expected);
}

static int lmdb_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	return ref_write(b, OP_DEL, name, NULL, expected);
}

struct lmdb_ref {
	char *name;
	struct vs_oid id;
};

/* Refs are collected first so callbacks run with no txn held. */
static int ref_collect(struct lmdb_backend *l, const char *prefix, struct lmdb_ref **out,
		       size_t *n)
{
	size_t plen = strlen(prefix), cap = 0;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, err;

	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_cursor_open(txn, l->e->refs, &c)) == 0)
		rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; !rc && !err && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen);
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (*n == cap) {
			struct lmdb_ref *a = vs__realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof(*a));
			if (!a && (err = vs__enomem()))
				break;
			*out = a;
		}
		struct lmdb_ref *r = &(*out)[*n];
		if (!(r->name = vs__strndup(k.mv_data, k.mv_size)) && (err = vs__enomem()))
			break;
		(*n)++;
		err = ref_parse(l, r->name, &v, &r->id);
	}
	if (!err && rc && rc != MDB_NOTFOUND)
		err = vs__lmdb_err(rc, "walk refs", l->e->path);
	if (c)
		mdb_cursor_close(c);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	struct lmdb_ref *refs = NULL;
	size_t n = 0;
	int err = ref_collect(vs__lmdb_from(b), prefix, &refs, &n);

	for (size_t i = 0; i < n && !err; i++)
		err = cb(payload, refs[i].name, &refs[i].id);
	for (size_t i = 0; i < n; i++)
		vs_free(refs[i].name);
	vs_free(refs);
	return err;
}

/* Pages in use (the file's high-water mark less free pages) times page size. */
static int stat_bytes_used(struct lmdb_backend *l, MDB_txn *txn, uint64_t *out)
{
	MDB_envinfo info;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t free_pages = 0;
	size_t cnt;
	int rc;

	mdb_env_info(l->e->env, &info);
	if ((rc = mdb_cursor_open(txn, 0, &c))) /* dbi 0 is LMDB's freelist */
		return vs__lmdb_err(rc, "open freelist cursor", l->e->path);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (v.mv_size < sizeof(cnt))
			continue;
		memcpy(&cnt, v.mv_data, sizeof(cnt)); /* a list of page numbers, count first */
		free_pages += cnt;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return vs__lmdb_err(rc, "walk freelist", l->e->path);
	*out = ((uint64_t)info.me_last_pgno + 1 - free_pages) * l->e->psize;
	return 0;
}

/* "stat.bytes_used" and "stat.map_size" are computed; the rest is stored. */
static int lmdb_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_val k = { strlen(key), (void *)key }, v;
	bool stat = !strncmp(key, "stat.", 5);
	MDB_envinfo info;
	MDB_txn *txn;
	uint64_t n = 0;
	int rc, err;

	/* LMDB's freelist is not readable from a write txn: stats read the last commit. */
	if ((err = vs__lmdb_rtxn_begin(l, stat, &txn)) < 0)
		return err;
	vs_buf_clear(out);
	if (!strcmp(key, "stat.bytes_used")) {
		if ((err = stat_bytes_used(l, txn, &n)) == 0)
			err = vs_buf_printf(out, "%" PRIu64, n);
	} else if (!strcmp(key, "stat.map_size")) {
		mdb_env_info(l->e->env, &info);
		err = vs_buf_printf(out, "%zu", info.me_mapsize);
	} else if ((rc = mdb_get(txn, l->e->config, &k, &v))) {
		err = rc == MDB_NOTFOUND ? vs_error_set(VS_ENOENT, "setting '%s' not set", key)
					 : vs__lmdb_err(rc, "read setting", l->e->path);
	} else {
		err = vs_buf_set(out, v.mv_data, v.mv_size);
	}
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_config_set(struct vs_backend *b, const char *key, const char *value)
{
	struct lmdb_op op = { .kind = OP_CONFIG, .name = key, .data = value, .len = strlen(value) };
	if (!strncmp(key, "stat.", 5) || !strncmp(key, "lmdb.", 5))
		return vs_error_set(VS_EINVAL, "setting '%s' is reserved", key);
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

/* The id map of conversions: raw id -> the raw id it converts to ("idmap"). */
static int lmdb_idmap_get(struct vs_backend *b, const struct vs_oid *from, struct vs_oid *to)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	MDB_val k = { vs_oid_size(from->type), (void *)from->id }, v;
	char hex[VS_OID_MAXHEXSZ + 1];
	MDB_txn *txn;
	int rc, err;

	VS_CHECK_ARG(k.mv_size);
	if (!l->e->has_idmap)
		return vs_error_set(VS_ENOENT, "no converted id for %s", vs_oid_tostr(hex, from));
	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_get(txn, l->e->idmap, &k, &v)) == MDB_NOTFOUND)
		err = vs_error_set(VS_ENOENT, "no converted id for %s", vs_oid_tostr(hex, from));
	else if (rc)
		err = vs__lmdb_err(rc, "read id map", l->e->path);
	else if (v.mv_size != 20 && v.mv_size != 32)
		err = vs_error_set(VS_ECORRUPT, "id map of %s holds a value of %zu bytes",
				   l->e->path, v.mv_size);
	else
		err = vs_oid_fromraw(to, v.mv_size == 20 ? VS_OID_SHA1 : VS_OID_SHA256, v.mv_data);
	vs__lmdb_rtxn_end(l, txn);
	return err;
}

static int lmdb_idmap_put(struct vs_backend *b, const struct vs_oid *from, const struct vs_oid *to)
{
	struct lmdb_op op = { .kind = OP_IDMAP, .id = *from, .data = to->id,
			      .len = vs_oid_size(to->type) };
	VS_CHECK_ARG(vs_oid_size(from->type) && op.len && vs__lmdb_from(b)->e->has_idmap);
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

static void lmdb_free(struct vs_backend *b)
{
	struct lmdb_backend *l = vs__lmdb_from(b);

	/* In a forked child the env is the parent's: any LMDB call would
	 * clobber the parent's reader slots. Free only our memory. */
	if (l->e->pid == getpid()) {
		lmdb_batch_abort(b);
		vs__lmdb_rtxn_drop(l);
		vs__lmdb_env_release(l->e);
	}
	batch_clear(l);
	vs_buf_release(&l->tail);
	vs__lmdb_delta_free_reads(l);
	vs_free(l);
}

static const struct vs_backend_ops lmdb_ops = {
	.version = VS_BACKEND_OPS_VERSION,
	.name = "lmdb",
	.obj_read = lmdb_obj_read,
	.obj_exists = lmdb_obj_exists,
	.obj_write = lmdb_obj_write,
	.obj_write_based = lmdb_obj_write_based,
	.obj_base = lmdb_obj_base,
	.obj_stat = lmdb_obj_stat,
	.obj_foreach = lmdb_obj_foreach,
	.obj_list = vs__lmdb_obj_list,
	.obj_delete = vs__lmdb_obj_delete,
	.compact_step = vs__lmdb_compact_step,
	.batch_begin = lmdb_batch_begin,
	.batch_commit = lmdb_batch_commit,
	.batch_abort = lmdb_batch_abort,
	.sync = vs__lmdb_sync,
	.ref_read = lmdb_ref_read,
	.ref_cas = lmdb_ref_cas,
	.ref_delete = lmdb_ref_delete,
	.ref_list = lmdb_ref_list,
	.config_get = lmdb_config_get,
	.config_set = lmdb_config_set,
	.idmap_get = lmdb_idmap_get,
	.idmap_put = lmdb_idmap_put,
	.free = lmdb_free,
};

int vs_backend_lmdb_open(struct vs_backend **out, const char *path,
			 const struct vs_repo_opts *opts)
{
	unsigned int flags = opts ? opts->flags : 0;
	char real[PATH_MAX], data[PATH_MAX + 16];
	struct lmdb_backend *l;
	struct stat st;
	int err;

	VS_CHECK_ARG(out);
	*out = NULL;
	VS_CHECK_ARG(path && *path);
	if (flags & (VS_REPO_NOCREATE | VS_REPO_READONLY)) {
		snprintf(data, sizeof(data), "%s/data.mdb", path);
		if (stat(data, &st))
			return vs_error_set(VS_ENOENT, "no LMDB store at %s (%s: %s)", path, data,
					    strerror(errno));
	} else if ((err = vs__lmdb_dir_create(path)) < 0) {
		return err;
	}
	if (!realpath(path, real))
		return vs_error_set(errno == ENOENT ? VS_ENOENT : VS_EIO, "cannot resolve %s: %s",
				    path, strerror(errno));
	if (!(l = vs__calloc(1, sizeof(*l))))
		return vs__enomem();
	if ((err = vs__lmdb_env_acquire(&l->e, real, opts)) < 0) {
		vs_free(l);
		return err;
	}
	l->base.ops = &lmdb_ops;
	l->base.default_format = "vs";
	l->base.readonly = flags & VS_REPO_READONLY;
	*out = &l->base;
	return 0;
}
