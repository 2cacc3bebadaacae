/* SPDX-License-Identifier: MIT */
/*
 * The LMDB backend, the default: one MDB_env per store directory with the
 * named databases "log", "index", "refs" and "config". A batch is one write
 * txn whose writes are also kept in memory, so that when the map fills up it
 * is grown and the batch replayed. Outside a batch reads reuse one reset
 * read-only txn, so each read sees the latest commit of any process.
 *
 * Layout, chosen for space (a commit adds ~8 objects of ~200 bytes): objects
 * are appended to "log", a byte stream cut into chunks of chunk_size bytes
 * keyed by chunk number (MDB_INTEGERKEY, new chunks with MDB_APPEND): two
 * chunks fill a 4 KiB leaf page exactly. A record is a type byte, a LEB128
 * length and the content. "index" has one key per id length (20, 32) whose
 * MDB_DUPFIXED values are id || 48-bit log offset, packed with no per-entry
 * header. Measured growth per commit is 1.23x the object bytes, against
 * 1.77x for objects keyed by id (random keys leave B-tree pages ~69% full).
 *
 * LMDB forbids opening one environment twice in a process, so envs are
 * shared through a registry keyed by real path: the only global state here.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

#define LMDB_MAPSIZE_DEFAULT ((size_t)64 << 20)
#define OFFSZ 6   /* bytes of a log offset in an index entry */
#define HDRMAX 11 /* type byte + LEB128 of a 64-bit length */
#define FOREACH_STEP 1024

/* The log stores the type byte as git numbers it: keep the enum pinned. */
static_assert(VS_OBJ_COMMIT == 1 && VS_OBJ_TREE == 2 && VS_OBJ_BLOB == 3 && VS_OBJ_TAG == 4,
	      "enum vs_otype is stored on disk");

/* One open environment, shared by the handles of a directory in this process. */
struct lmdb_env {
	struct lmdb_env *next;
	char *path;               /* realpath of the directory */
	pid_t pid;                /* opener; a forked child must never touch env */
	unsigned int nrefs;       /* handles using it (registry lock) */
	MDB_env *env;
	MDB_dbi log, index, refs, config;
	bool rdonly;
	size_t psize, chunk;      /* page size, log chunk size */
	/* Shared by every live txn of this process, exclusive to remap. glibc's
	 * default prefers readers, so a thread holding a batch may read through
	 * another handle (a recursive read lock) while a remap waits. */
	pthread_rwlock_t maplock;
	pthread_mutex_t wlock;    /* guards writer, has_writer; taken after LMDB's */
	pthread_t writer;         /* thread holding a write txn */
	bool has_writer;
};

enum op_kind { OP_OBJ, OP_CAS, OP_DEL, OP_CONFIG };

/* One write; the batch keeps copies to replay after growing the map. */
struct lmdb_op {
	enum op_kind kind;
	enum vs_otype type;     /* OP_OBJ */
	struct vs_oid id;       /* OP_OBJ: the object; OP_CAS: the target */
	struct vs_oid expected; /* OP_CAS, OP_DEL; type 0 when none */
	const char *name;       /* ref name or setting */
	const void *data;       /* object content or setting value */
	size_t len;
};

struct lmdb_backend {
	struct vs_backend base;
	struct lmdb_env *e;
	MDB_txn *rtxn;        /* reusable read txn, reset between calls */
	MDB_cursor *rcur;     /* index cursor of rtxn */
	bool rcur_stale;      /* rtxn was renewed since rcur was */
	MDB_txn *wtxn;        /* the open write txn, if any */
	MDB_cursor *wcur;     /* index cursor of wtxn (LMDB frees it with wtxn) */
	size_t wmapsize;      /* map size when wtxn began */
	bool in_batch;
	int batch_err;        /* the batch is lost: every later call fails */
	struct lmdb_op **ops; /* the batch's writes, oldest first */
	size_t nops, aops;
	struct vs_buf tail;   /* the last log chunk, loaded lazily in wtxn */
	size_t tail_no;
	bool tail_loaded, tail_fresh; /* fresh: tail_no not yet in the log */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *registry;

static const struct vs_backend_ops lmdb_ops;

static struct lmdb_backend *lmdb_from(struct vs_backend *b)
{
	assert(b->ops == &lmdb_ops);
	return container_of(b, struct lmdb_backend, base);
}

/* The one place LMDB (and errno) codes become VS_E* codes. */
static int lmdb_err(int rc, const char *what, const char *path)
{
	int code = VS_EBACKEND;
	if (rc == MDB_NOTFOUND || rc == ENOENT)
		code = VS_ENOENT;
	else if (rc == MDB_MAP_FULL)
		code = VS_ENOSPC;
	else if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID)
		code = VS_ECORRUPT;
	else if (rc == MDB_BAD_VALSIZE) /* an empty name, or one past LMDB's 511 bytes */
		code = VS_EINVAL;
	else if (rc == ENOMEM || rc == EACCES)
		code = -rc;
	return vs_error_set(code, "lmdb %s: %s (%s)", what, mdb_strerror(rc), path);
}

static int corrupt_obj(const char *path, const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "object %s in %s: %s", vs_oid_tostr(hex, id), path, why);
}

/* Remap @e: to 2x @seen unless someone already grew it, or (seen 0) to the
 * size another process set. No txn of this process may be live meanwhile. */
static int map_resize(struct lmdb_env *e, size_t seen)
{
	MDB_envinfo info;
	int rc = 0, dead;

	pthread_rwlock_wrlock(&e->maplock);
	mdb_env_info(e->env, &info);
	if (!seen) {
		rc = mdb_env_set_mapsize(e->env, 0);
	} else if (info.me_mapsize <= seen) {
		if (!e->rdonly)
			mdb_reader_check(e->env, &dead); /* dead readers pin pages */
		rc = seen > SIZE_MAX / 2 ? ENOMEM : mdb_env_set_mapsize(e->env, seen * 2);
	}
	pthread_rwlock_unlock(&e->maplock);
	if (rc == ENOMEM || rc == EINVAL)
		return vs_error_set(VS_ENOSPC, "lmdb map of %s cannot grow past %zu bytes: %s",
				    e->path, seen, mdb_strerror(rc));
	return rc ? lmdb_err(rc, "resize map", e->path) : 0;
}

static void rtxn_drop(struct lmdb_backend *l)
{
	if (l->rcur)
		mdb_cursor_close(l->rcur);
	if (l->rtxn)
		mdb_txn_abort(l->rtxn);
	l->rcur = NULL;
	l->rtxn = NULL;
}

/* The txn reads go through: the open write txn (unless @committed), else
 * the renewed read txn, which sees the latest commit. */
static int rtxn_begin(struct lmdb_backend *l, bool committed, MDB_txn **out)
{
	struct lmdb_env *e = l->e;
	int rc, err;

	if (!committed && (*out = l->wtxn))
		return 0;
	for (;;) {
		pthread_rwlock_rdlock(&e->maplock);
		rc = l->rtxn ? mdb_txn_renew(l->rtxn)
			     : mdb_txn_begin(e->env, NULL, MDB_RDONLY, &l->rtxn);
		if (!rc)
			break;
		rtxn_drop(l);
		pthread_rwlock_unlock(&e->maplock);
		if (rc != MDB_MAP_RESIZED) /* another process grew the map */
			return lmdb_err(rc, "begin read", e->path);
		if ((err = map_resize(e, 0)) < 0)
			return err;
	}
	l->rcur_stale = true;
	*out = l->rtxn;
	return 0;
}

static void rtxn_end(struct lmdb_backend *l, MDB_txn *txn)
{
	if (txn == l->wtxn)
		return;
	mdb_txn_reset(txn);
	pthread_rwlock_unlock(&l->e->maplock);
}

static void writer_set(struct lmdb_env *e, bool on)
{
	pthread_mutex_lock(&e->wlock);
	e->has_writer = on;
	e->writer = pthread_self();
	pthread_mutex_unlock(&e->wlock);
}

/* Begin the write txn, first growing a map that is 3/4 full. */
static int wtxn_begin(struct lmdb_backend *l)
{
	struct lmdb_env *e = l->e;
	MDB_envinfo info;
	int rc, err;

	/* LMDB's writer lock is not recursive: refuse rather than deadlock. */
	pthread_mutex_lock(&e->wlock);
	bool self = e->has_writer && pthread_equal(e->writer, pthread_self());
	pthread_mutex_unlock(&e->wlock);
	if (self)
		return vs_error_set(VS_EBUSY, "another handle on %s is writing in this thread",
				    e->path);
	for (bool grown = false;;) {
		pthread_rwlock_rdlock(&e->maplock);
		if (!(rc = mdb_txn_begin(e->env, NULL, 0, &l->wtxn))) {
			mdb_env_info(e->env, &info);
			if (grown || (info.me_last_pgno + 1) * e->psize <= info.me_mapsize / 4 * 3)
				break;
			mdb_txn_abort(l->wtxn);
		}
		l->wtxn = NULL;
		pthread_rwlock_unlock(&e->maplock);
		if (rc && rc != MDB_MAP_RESIZED)
			return lmdb_err(rc, "begin write", e->path);
		/* Growing early is best effort; MAP_FULL still grows on demand. */
		if ((err = map_resize(e, rc ? 0 : info.me_mapsize)) < 0 && rc)
			return err;
		grown = !rc;
	}
	writer_set(e, true);
	l->wmapsize = info.me_mapsize;
	l->tail_loaded = false;
	return 0;
}

/* Commit or abort the write txn; either way it is gone afterwards. */
static int wtxn_end(struct lmdb_backend *l, bool commit)
{
	int rc = 0;

	if (!l->wtxn)
		return 0;
	if (commit)
		rc = mdb_txn_commit(l->wtxn);
	else
		mdb_txn_abort(l->wtxn);
	l->wtxn = NULL;
	l->wcur = NULL;
	writer_set(l->e, false);
	pthread_rwlock_unlock(&l->e->maplock);
	return rc ? lmdb_err(rc, "commit", l->e->path) : 0;
}

/* 1 with the log offset of @id in *off, 0 when absent, or an error. */
static int index_find(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
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
		return lmdb_err(rc, "open index cursor", l->e->path);
	if (c == &l->rcur)
		l->rcur_stale = false;
	memcpy(ent, id->id, n);
	if ((rc = mdb_cursor_get(*c, &k, &v, MDB_GET_BOTH_RANGE)))
		return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc, "index lookup", l->e->path);
	if (v.mv_size != n + OFFSZ)
		return corrupt_obj(l->e->path, id, "index entry of the wrong size");
	if (memcmp(v.mv_data, id->id, n))
		return 0;
	*off = 0;
	for (size_t i = 0; i < OFFSZ; i++)
		*off = *off << 8 | ((const unsigned char *)v.mv_data)[n + i];
	return 1;
}

/* Append up to @n log bytes at @off to @out: fewer where the log ends. */
static int log_read(struct lmdb_backend *l, MDB_txn *txn, uint64_t off, size_t n,
		    struct vs_buf *out)
{
	size_t no = (size_t)(off / l->e->chunk), in = (size_t)(off % l->e->chunk), got;
	MDB_val k = { sizeof(no), &no }, v;
	MDB_cursor *c;
	int rc, err = 0;

	if ((rc = mdb_cursor_open(txn, l->e->log, &c)))
		return lmdb_err(rc, "open log cursor", l->e->path);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (!rc && n && k.mv_size == sizeof(got) && !err) {
		memcpy(&got, k.mv_data, sizeof(got));
		if (got != no++ || v.mv_size <= in)
			break; /* a gap: treat as the end */
		size_t take = v.mv_size - in < n ? v.mv_size - in : n;
		err = vs_buf_put(out, (const char *)v.mv_data + in, take);
		n -= take;
		in = 0;
		if (n)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return !err && rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "read log", l->e->path) : err;
}

/* Parse a record header: its size, 0 when @n bytes are too few, -1 if bad. */
static int hdr_parse(const unsigned char *p, size_t n, unsigned int *type, uint64_t *len)
{
	*len = 0;
	for (size_t i = 1; i < n && i < HDRMAX; i++) {
		if (i == HDRMAX - 1 && p[i] > 1)
			return -1; /* more than 64 bits */
		*len |= (uint64_t)(p[i] & 0x7f) << (7 * (i - 1));
		if (!(p[i] & 0x80)) {
			*type = p[0];
			return (int)i + 1;
		}
	}
	return n >= HDRMAX ? -1 : 0;
}

/* Read the record at @off; usually it lies inside one chunk: one lookup. */
static int rec_read(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		    enum vs_otype *type, struct vs_buf *out)
{
	size_t no = (size_t)(off / l->e->chunk), in = (size_t)(off % l->e->chunk), avail = 0;
	MDB_val k = { sizeof(no), &no }, v = { 0, NULL };
	struct vs_buf hdr = VS_BUF_INIT;
	unsigned int t = 0;
	uint64_t len;
	int rc, h, err;

	if ((rc = mdb_get(txn, l->e->log, &k, &v)) && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "read log", l->e->path);
	const unsigned char *p = rc ? NULL : (const unsigned char *)v.mv_data + in;
	if (!rc && v.mv_size > in)
		avail = v.mv_size - in;
	if (!(h = hdr_parse(p, avail, &t, &len))) { /* it straddles two chunks */
		if ((err = log_read(l, txn, off, HDRMAX, &hdr)) == 0)
			h = hdr_parse((const unsigned char *)hdr.ptr, hdr.size, &t, &len);
		vs_buf_release(&hdr);
		if (err < 0)
			return err;
	}
	if (h <= 0 || t < VS_OBJ_COMMIT || t > VS_OBJ_TAG)
		return corrupt_obj(l->e->path, id, "no valid record header in the log");
	*type = (enum vs_otype)t;
	if ((uint64_t)h + len <= avail)
		return vs_buf_set(out, p + h, (size_t)len);
	/* Grow with what is really there: a corrupt length must not allocate. */
	vs_buf_clear(out);
	if ((err = vs_buf_grow(out, len < (1 << 20) ? (size_t)len : 1 << 20)) < 0 ||
	    (err = log_read(l, txn, off + (uint64_t)h, (size_t)len, out)) < 0)
		return err;
	return out->size == len ? 0 : corrupt_obj(l->e->path, id, "record past the log's end");
}

/* Load the last log chunk into l->tail (once per write txn). */
static int tail_load(struct lmdb_backend *l)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (l->tail_loaded)
		return 0;
	vs_buf_clear(&l->tail);
	l->tail_no = 0;
	l->tail_fresh = true;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->log, &c)))
		return lmdb_err(rc, "open log cursor", l->e->path);
	if (!(rc = mdb_cursor_get(c, &k, &v, MDB_LAST))) {
		if (k.mv_size != sizeof(l->tail_no) || v.mv_size > l->e->chunk)
			rc = MDB_CORRUPTED;
		else
			memcpy(&l->tail_no, k.mv_data, sizeof(l->tail_no));
		if (!rc && v.mv_size == l->e->chunk)
			l->tail_no++;
		else if (!rc && vs_buf_set(&l->tail, v.mv_data, v.mv_size) < 0)
			rc = ENOMEM;
		else if (!rc)
			l->tail_fresh = false;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "read the log's end", l->e->path);
	l->tail_loaded = true;
	return 0;
}

static int tail_put(struct lmdb_backend *l)
{
	MDB_val k = { sizeof(l->tail_no), &l->tail_no }, v = { l->tail.size, l->tail.ptr };
	/* MDB_APPEND splits at the end, so full pages stay full. */
	int rc = mdb_put(l->wtxn, l->e->log, &k, &v, l->tail_fresh ? MDB_APPEND : 0);
	if (rc)
		return lmdb_err(rc, "append to log", l->e->path);
	l->tail_fresh = false;
	return 0;
}

/* Append @n bytes to the log; @flush writes a partial last chunk too. */
static int log_append(struct lmdb_backend *l, const void *p, size_t n, bool flush)
{
	int err;
	while (n) {
		size_t take = l->e->chunk - l->tail.size < n ? l->e->chunk - l->tail.size : n;
		if ((err = vs_buf_put(&l->tail, p, take)) < 0)
			return err;
		p = (const char *)p + take;
		n -= take;
		if (l->tail.size < l->e->chunk)
			continue;
		if ((err = tail_put(l)) < 0)
			return err;
		vs_buf_clear(&l->tail);
		l->tail_no++;
		l->tail_fresh = true;
	}
	return flush && l->tail.size ? tail_put(l) : 0;
}

/* 1 when stored, 0 when already present, or an error. */
static int apply_obj(struct lmdb_backend *l, const struct lmdb_op *op)
{
	unsigned char hdr[HDRMAX], key, ent[VS_OID_MAXSZ + OFFSZ];
	size_t n = vs_oid_size(op->id.type), h = 0, len = op->len;
	uint64_t off;
	int err, rc;

	if ((err = index_find(l, l->wtxn, &op->id, &off)) != 0)
		return err < 0 ? err : 0;
	if ((err = tail_load(l)) < 0)
		return err;
	off = (uint64_t)l->tail_no * l->e->chunk + l->tail.size;
	if (off >> (8 * OFFSZ))
		return vs_error_set(VS_E2BIG, "log of %s is full", l->e->path);
	hdr[h++] = (unsigned char)op->type;
	do {
		hdr[h++] = (unsigned char)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len);
	key = (unsigned char)n;
	memcpy(ent, op->id.id, n);
	for (size_t i = 0; i < OFFSZ; i++)
		ent[n + i] = (unsigned char)(off >> (8 * (OFFSZ - 1 - i)));
	MDB_val k = { 1, &key }, v = { n + OFFSZ, ent };
	if ((err = log_append(l, hdr, h, false)) < 0 ||
	    (err = log_append(l, op->data, op->len, true)) < 0)
		goto fail;
	if ((rc = mdb_put(l->wtxn, l->e->index, &k, &v, 0))) {
		err = lmdb_err(rc, "index put", l->e->path);
		goto fail;
	}
	return 1;
fail:
	l->tail_loaded = false; /* the tail in memory may be ahead of the log */
	return err;
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
	return rc ? lmdb_err(rc, "read ref", l->e->path) : ref_parse(l, name, &v, out);
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
	return rc ? lmdb_err(rc, "update ref", l->e->path) : 0;
}

static int apply(struct lmdb_backend *l, const struct lmdb_op *op)
{
	MDB_val k = { op->name ? strlen(op->name) : 0, (void *)op->name };
	MDB_val v = { op->len, (void *)op->data };
	int rc;

	if (op->kind == OP_OBJ)
		return apply_obj(l, op);
	if (op->kind != OP_CONFIG)
		return apply_ref(l, op);
	rc = mdb_put(l->wtxn, l->e->config, &k, &v, 0);
	return rc ? lmdb_err(rc, "write setting", l->e->path) : 0;
}

static void batch_clear(struct lmdb_backend *l)
{
	for (size_t i = 0; i < l->nops; i++)
		vs_free(l->ops[i]);
	vs_free(l->ops);
	l->ops = NULL;
	l->nops = l->aops = 0;
	l->in_batch = false;
	l->batch_err = 0;
}

/* Keep a copy of @op (one allocation) for replay. */
static int batch_log(struct lmdb_backend *l, const struct lmdb_op *op)
{
	size_t nlen = op->name ? strlen(op->name) + 1 : 0;
	struct lmdb_op *c;

	if (l->nops == l->aops) {
		size_t n = l->aops ? l->aops * 2 : 64;
		struct lmdb_op **a = vs__realloc(l->ops, n * sizeof(*a));
		if (!a)
			return vs__enomem();
		l->ops = a;
		l->aops = n;
	}
	if (!(c = vs__malloc(sizeof(*c) + op->len + nlen)))
		return vs__enomem();
	*c = *op;
	c->data = op->len ? memcpy(c + 1, op->data, op->len) : NULL;
	if (nlen)
		c->name = memcpy((char *)(c + 1) + op->len, op->name, nlen);
	l->ops[l->nops++] = c;
	return 0;
}

/* The map filled up during the batch: drop the txn, grow, replay. */
static int batch_regrow(struct lmdb_backend *l)
{
	int err;
	for (;;) {
		size_t seen = l->wmapsize;
		wtxn_end(l, false);
		if ((err = map_resize(l->e, seen)) < 0 || (err = wtxn_begin(l)) < 0)
			break;
		for (size_t i = 0; i < l->nops && err >= 0; i++)
			err = apply(l, l->ops[i]);
		if (err >= 0)
			return 0;
		if (err != VS_ENOSPC) { /* e.g. another writer moved a ref meanwhile */
			vs__error_wrap(err, "replaying the batch after growing the map");
			break;
		}
	}
	wtxn_end(l, false);
	return l->batch_err = err;
}

/* Apply one write: in the batch's txn (kept for replay), else in its own. */
static int run_write(struct lmdb_backend *l, const struct lmdb_op *op)
{
	int err;

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
		if ((err = wtxn_begin(l)) < 0)
			return err;
		size_t seen = l->wmapsize;
		if ((err = apply(l, op)) >= 0)
			err = wtxn_end(l, true);
		wtxn_end(l, false);
		if (err != VS_ENOSPC)
			return err < 0 ? err : 0;
		if ((err = map_resize(l->e, seen)) < 0)
			return err;
	}
}

static int lmdb_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out)
{
	struct lmdb_backend *l = lmdb_from(b);
	char hex[VS_OID_MAXHEXSZ + 1];
	MDB_txn *txn;
	uint64_t off;
	int err;

	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((err = index_find(l, txn, id, &off)) > 0)
		err = rec_read(l, txn, id, off, type, out);
	else if (err == 0)
		err = vs_error_set(VS_ENOENT, "object %s not found", vs_oid_tostr(hex, id));
	rtxn_end(l, txn);
	return err;
}

static int lmdb_obj_exists(struct vs_backend *b, const struct vs_oid *id)
{
	struct lmdb_backend *l = lmdb_from(b);
	MDB_txn *txn;
	uint64_t off;
	int err;

	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = index_find(l, txn, id, &off);
	rtxn_end(l, txn);
	return err;
}

static int lmdb_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			  const void *data, size_t len)
{
	struct lmdb_op op = { .kind = OP_OBJ, .type = type, .id = *id, .data = data, .len = len };
	VS_CHECK_ARG(vs_oid_size(id->type) && type >= VS_OBJ_COMMIT && type <= VS_OBJ_TAG);
	return run_write(lmdb_from(b), &op);
}

/* Collect up to FOREACH_STEP ids after index entry @last (none: from the start). */
static int foreach_step(struct lmdb_backend *l, struct vs_oid *ids, size_t *n,
			unsigned char *last, size_t *lastlen)
{
	unsigned char key = (unsigned char)(*lastlen - OFFSZ);
	MDB_val k = { 1, &key }, v = { *lastlen, last };
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, err;

	*n = 0;
	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_cursor_open(txn, l->e->index, &c)) == 0)
		rc = mdb_cursor_get(c, &k, &v, *lastlen ? MDB_GET_BOTH : MDB_FIRST);
	if (!rc && *lastlen)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	for (; !rc && *n < FOREACH_STEP; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t idlen = k.mv_size == 1 ? *(unsigned char *)k.mv_data : 0;
		if ((idlen != 20 && idlen != 32) || v.mv_size != idlen + OFFSZ) {
			err = vs_error_set(VS_ECORRUPT, "index of %s: malformed entry", l->e->path);
			break;
		}
		vs_oid_fromraw(&ids[(*n)++], idlen == 20 ? VS_OID_SHA1 : VS_OID_SHA256, v.mv_data);
		*lastlen = v.mv_size;
		memcpy(last, v.mv_data, v.mv_size);
	}
	if (!err && rc && rc != MDB_NOTFOUND)
		err = lmdb_err(rc, "walk index", l->e->path);
	if (c)
		mdb_cursor_close(c);
	rtxn_end(l, txn);
	return err;
}

/* Walks in steps, no txn held while callbacks run: they may use this handle. */
static int lmdb_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	struct lmdb_backend *l = lmdb_from(b);
	struct vs_oid *ids = vs__malloc(FOREACH_STEP * sizeof(*ids));
	unsigned char last[VS_OID_MAXSZ + OFFSZ];
	size_t lastlen = 0, n;
	int err = 0;

	if (!ids)
		return vs__enomem();
	do {
		if ((err = foreach_step(l, ids, &n, last, &lastlen)) < 0)
			break;
		for (size_t i = 0; i < n && !err; i++)
			err = cb(payload, &ids[i]);
	} while (!err && n == FOREACH_STEP);
	vs_free(ids);
	return err;
}

static int lmdb_batch_begin(struct vs_backend *b)
{
	struct lmdb_backend *l = lmdb_from(b);
	int err;

	if (l->in_batch)
		return vs_error_set(VS_EBUSY, "a batch is already open");
	if ((err = wtxn_begin(l)) < 0)
		return err;
	l->in_batch = true;
	return 0;
}

static int lmdb_batch_commit(struct vs_backend *b)
{
	struct lmdb_backend *l = lmdb_from(b);
	int err;

	if (!l->in_batch)
		return vs_error_set(VS_EINVAL, "no batch is open");
	if ((err = l->batch_err) < 0)
		vs_error_set(err, "the batch on %s failed and was dropped", l->e->path);
	while (!err && (err = wtxn_end(l, true)) == VS_ENOSPC)
		err = batch_regrow(l); /* the commit itself ran out of map */
	wtxn_end(l, false);
	batch_clear(l);
	return err;
}

static void lmdb_batch_abort(struct vs_backend *b)
{
	struct lmdb_backend *l = lmdb_from(b);
	if (!l->in_batch)
		return;
	wtxn_end(l, false);
	batch_clear(l);
}

static int lmdb_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	struct lmdb_backend *l = lmdb_from(b);
	MDB_txn *txn;
	int err;

	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = ref_get(l, txn, name, out);
	rtxn_end(l, txn);
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
	return run_write(lmdb_from(b), &op);
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

	if ((err = rtxn_begin(l, false, &txn)) < 0)
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
		err = lmdb_err(rc, "walk refs", l->e->path);
	if (c)
		mdb_cursor_close(c);
	rtxn_end(l, txn);
	return err;
}

static int lmdb_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	struct lmdb_ref *refs = NULL;
	size_t n = 0;
	int err = ref_collect(lmdb_from(b), prefix, &refs, &n);

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
		return lmdb_err(rc, "open freelist cursor", l->e->path);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (v.mv_size < sizeof(cnt))
			continue;
		memcpy(&cnt, v.mv_data, sizeof(cnt)); /* a list of page numbers, count first */
		free_pages += cnt;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return lmdb_err(rc, "walk freelist", l->e->path);
	*out = ((uint64_t)info.me_last_pgno + 1 - free_pages) * l->e->psize;
	return 0;
}

/* "stat.bytes_used" and "stat.map_size" are computed; the rest is stored. */
static int lmdb_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	struct lmdb_backend *l = lmdb_from(b);
	MDB_val k = { strlen(key), (void *)key }, v;
	bool stat = !strncmp(key, "stat.", 5);
	MDB_envinfo info;
	MDB_txn *txn;
	uint64_t n = 0;
	int rc, err;

	/* LMDB's freelist is not readable from a write txn: stats read the last commit. */
	if ((err = rtxn_begin(l, stat, &txn)) < 0)
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
					 : lmdb_err(rc, "read setting", l->e->path);
	} else {
		err = vs_buf_set(out, v.mv_data, v.mv_size);
	}
	rtxn_end(l, txn);
	return err;
}

static int lmdb_config_set(struct vs_backend *b, const char *key, const char *value)
{
	struct lmdb_op op = { .kind = OP_CONFIG, .name = key, .data = value, .len = strlen(value) };
	if (!strncmp(key, "stat.", 5) || !strncmp(key, "lmdb.", 5))
		return vs_error_set(VS_EINVAL, "setting '%s' is reserved", key);
	return run_write(lmdb_from(b), &op);
}

static void env_close(struct lmdb_env *e)
{
	if (e->env)
		mdb_env_close(e->env);
	pthread_rwlock_destroy(&e->maplock);
	pthread_mutex_destroy(&e->wlock);
	vs_free(e->path);
	vs_free(e);
}

static void env_release(struct lmdb_env *e)
{
	pthread_mutex_lock(&registry_lock);
	bool last = --e->nrefs == 0;
	for (struct lmdb_env **p = &registry; last && *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (last)
		env_close(e);
}

static void lmdb_free(struct vs_backend *b)
{
	struct lmdb_backend *l = lmdb_from(b);

	/* In a forked child the env is the parent's: any LMDB call would
	 * clobber the parent's reader slots. Free only our memory. */
	if (l->e->pid == getpid()) {
		lmdb_batch_abort(b);
		rtxn_drop(l);
		env_release(l->e);
	}
	batch_clear(l);
	vs_buf_release(&l->tail);
	vs_free(l);
}

static const struct vs_backend_ops lmdb_ops = {
	.version = VS_BACKEND_OPS_VERSION,
	.name = "lmdb",
	.obj_read = lmdb_obj_read,
	.obj_exists = lmdb_obj_exists,
	.obj_write = lmdb_obj_write,
	.obj_foreach = lmdb_obj_foreach,
	.batch_begin = lmdb_batch_begin,
	.batch_commit = lmdb_batch_commit,
	.batch_abort = lmdb_batch_abort,
	.ref_read = lmdb_ref_read,
	.ref_cas = lmdb_ref_cas,
	.ref_delete = lmdb_ref_delete,
	.ref_list = lmdb_ref_list,
	.config_get = lmdb_config_get,
	.config_set = lmdb_config_set,
	.free = lmdb_free,
};

/* Open the named databases; read (or, for a new store, set) the chunk size. */
static int env_init(struct lmdb_env *e)
{
	unsigned int create = e->rdonly ? 0 : MDB_CREATE;
	MDB_val k = { 15, "lmdb.chunk_size" }, v;
	char num[24];
	MDB_txn *txn;
	int rc;

	while ((rc = mdb_txn_begin(e->env, NULL, e->rdonly ? MDB_RDONLY : 0, &txn)) ==
	       MDB_MAP_RESIZED)
		if ((rc = mdb_env_set_mapsize(e->env, 0)))
			break;
	if (rc)
		return lmdb_err(rc, "begin", e->path);
	if ((rc = mdb_dbi_open(txn, "log", create | MDB_INTEGERKEY, &e->log)) ||
	    (rc = mdb_dbi_open(txn, "index", create | MDB_DUPSORT | MDB_DUPFIXED, &e->index)) ||
	    (rc = mdb_dbi_open(txn, "refs", create, &e->refs)) ||
	    (rc = mdb_dbi_open(txn, "config", create, &e->config)))
		goto out;
	if (!(rc = mdb_get(txn, e->config, &k, &v))) {
		snprintf(num, sizeof(num), "%.*s", (int)(v.mv_size < 23 ? v.mv_size : 23),
			 (const char *)v.mv_data);
		e->chunk = strtoul(num, NULL, 10);
	} else if (rc == MDB_NOTFOUND && !e->rdonly) {
		/* The most data a leaf node holds inline: LMDB's nodemax (half a
		 * page less the header, even, less a slot) less node header and key. */
		e->chunk = ((e->psize - 16) / 2 & ~(size_t)1) - 2 - 8 - sizeof(size_t);
		v = (MDB_val){ (size_t)snprintf(num, sizeof(num), "%zu", e->chunk), num };
		rc = mdb_put(txn, e->config, &k, &v, 0);
	}
	if (!rc && (e->chunk < 64 || e->chunk > e->psize))
		rc = MDB_INVALID;
out:
	if (rc) {
		mdb_txn_abort(txn);
		return lmdb_err(rc, "open databases", e->path);
	}
	/* Even a read txn commits, so its database handles stay open. */
	return (rc = mdb_txn_commit(txn)) ? lmdb_err(rc, "commit", e->path) : 0;
}

static int env_open(struct lmdb_env **out, const char *real, const struct vs_repo_opts *opts)
{
	struct lmdb_env *e = vs__calloc(1, sizeof(*e));
	size_t mapsize = opts && opts->lmdb_mapsize ? opts->lmdb_mapsize : LMDB_MAPSIZE_DEFAULT;
	MDB_stat st;
	int rc, err, dead;

	if (!e || !(e->path = vs__strdup(real))) {
		vs_free(e);
		return vs__enomem();
	}
	pthread_rwlock_init(&e->maplock, NULL);
	pthread_mutex_init(&e->wlock, NULL);
	e->pid = getpid();
	e->nrefs = 1;
	e->rdonly = opts && (opts->flags & VS_REPO_READONLY);
	/* No MDB_NOSYNC/NOMETASYNC: an acknowledged commit survives a crash.
	 * MDB_NOTLS: read txns belong to handles, not threads. */
	if ((rc = mdb_env_create(&e->env)) || (rc = mdb_env_set_maxdbs(e->env, 4)) ||
	    (rc = mdb_env_set_mapsize(e->env, mapsize)) ||
	    (rc = mdb_env_open(e->env, real, MDB_NOTLS | (e->rdonly ? MDB_RDONLY : 0), 0644))) {
		err = lmdb_err(rc, "open", real);
		goto fail;
	}
	if (!e->rdonly)
		mdb_reader_check(e->env, &dead);
	mdb_env_stat(e->env, &st);
	e->psize = st.ms_psize;
	if ((err = env_init(e)) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	env_close(e);
	return err;
}

/* The env of directory @real, shared with this process's other handles. */
static int env_acquire(struct lmdb_env **out, const char *real, const struct vs_repo_opts *opts)
{
	bool rdonly = opts && (opts->flags & VS_REPO_READONLY);
	struct lmdb_env *e;
	int err = 0;

	pthread_mutex_lock(&registry_lock);
	for (e = registry; e; e = e->next)
		if (e->pid == getpid() && !strcmp(e->path, real))
			break;
	if (e && e->rdonly && !rdonly)
		err = vs_error_set(VS_EBUSY, "%s is open read-only in this process", real);
	else if (e)
		e->nrefs++;
	else if ((err = env_open(&e, real, opts)) == 0) {
		e->next = registry;
		registry = e;
	}
	pthread_mutex_unlock(&registry_lock);
	*out = err ? NULL : e;
	return err;
}

static int dir_create(const char *path)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return vs_error_set(VS_EINVAL, "path too long: %s", path);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0777) && errno != EEXIST)
			return vs_error_set(errno == EACCES ? VS_EACCES : VS_EIO,
					    "cannot create directory %s: %s", buf, strerror(errno));
		if (!(*p = c))
			return 0;
	}
}

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
	} else if ((err = dir_create(path)) < 0) {
		return err;
	}
	if (!realpath(path, real))
		return vs_error_set(errno == ENOENT ? VS_ENOENT : VS_EIO, "cannot resolve %s: %s",
				    path, strerror(errno));
	if (!(l = vs__calloc(1, sizeof(*l))))
		return vs__enomem();
	if ((err = env_acquire(&l->e, real, opts)) < 0) {
		vs_free(l);
		return err;
	}
	l->base.ops = &lmdb_ops;
	l->base.default_format = "git";
	l->base.readonly = flags & VS_REPO_READONLY;
	*out = &l->base;
	return 0;
}
