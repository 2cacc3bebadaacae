/* SPDX-License-Identifier: MIT */
/*
 * The LMDB backend, the default: one MDB_env per store directory with the
 * named databases "log", "index", "refs" and "config". A batch is one write
 * txn; its writes are also kept in memory so that when the map fills up it
 * is grown and the batch replayed. Reads outside a batch reuse one reset
 * read-only txn, so every read sees the latest committed state.
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
#define LMDB_OFFSZ 6        /* bytes of a log offset in an index entry */
#define LMDB_HDRMAX 11      /* type byte + LEB128 of a 64-bit length */
#define LMDB_FOREACH_STEP 1024

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
	pthread_rwlock_t maplock; /* shared by every live txn, exclusive to remap */
	pthread_mutex_t wlock;    /* guards writer, has_writer; taken after LMDB's */
	pthread_t writer;         /* thread holding a write txn */
	bool has_writer;
};

enum lmdb_op_kind { OP_OBJ, OP_CAS, OP_DEL, OP_CONFIG };

/* One write; the batch keeps copies to replay after growing the map. */
struct lmdb_op {
	enum lmdb_op_kind kind;
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
	MDB_txn *rtxn;         /* reusable read txn, reset between calls */
	MDB_cursor *rcur;      /* index cursor of rtxn */
	bool rcur_stale;       /* rtxn was renewed since rcur was */
	MDB_txn *wtxn;         /* the open write txn, if any */
	MDB_cursor *wcur;      /* index cursor of wtxn (freed by LMDB with it) */
	size_t wmapsize;       /* map size when wtxn began */
	bool in_batch;
	int batch_err;         /* the batch is lost: every later call fails */
	struct lmdb_op **ops;  /* the batch's writes, oldest first */
	size_t nops, aops;
	struct vs_buf tail;    /* the last log chunk, loaded lazily in wtxn */
	size_t tail_no;
	bool tail_loaded, tail_fresh; /* fresh: tail_no not yet in the log */
};

/* The log stores the type byte as git numbers it: keep the enum pinned. */
static_assert(VS_OBJ_COMMIT == 1 && VS_OBJ_TREE == 2 && VS_OBJ_BLOB == 3 && VS_OBJ_TAG == 4,
	      "enum vs_otype is stored on disk");

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
	int code;
	switch (rc) {
	case MDB_NOTFOUND:
	case ENOENT:
		code = VS_ENOENT;
		break;
	case MDB_MAP_FULL:
		code = VS_ENOSPC;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		code = VS_ECORRUPT;
		break;
	case ENOMEM:
		code = VS_ENOMEM;
		break;
	case EACCES:
		code = VS_EACCES;
		break;
	default:
		code = VS_EBACKEND;
	}
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
			mdb_reader_check(e->env, &dead); /* stale readers pin pages */
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
		if (rc != MDB_MAP_RESIZED)
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

	pthread_mutex_lock(&e->wlock);
	bool self = e->has_writer && pthread_equal(e->writer, pthread_self());
	pthread_mutex_unlock(&e->wlock);
	if (self)
		return vs_error_set(VS_EBUSY, "another handle on %s is writing in this thread",
				    e->path);
	for (;;) {
		pthread_rwlock_rdlock(&e->maplock);
		rc = mdb_txn_begin(e->env, NULL, 0, &l->wtxn);
		if (!rc) {
			mdb_env_info(e->env, &info);
			if ((info.me_last_pgno + 1) * e->psize <= info.me_mapsize / 4 * 3)
				break;
			mdb_txn_abort(l->wtxn);
		}
		l->wtxn = NULL;
		pthread_rwlock_unlock(&e->maplock);
		if (rc && rc != MDB_MAP_RESIZED)
			return lmdb_err(rc, "begin write", e->path);
		if ((err = map_resize(e, rc ? 0 : info.me_mapsize)) < 0)
			return err;
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

static int index_cursor(struct lmdb_backend *l, MDB_txn *txn, MDB_cursor **out)
{
	MDB_cursor **c = txn == l->wtxn ? &l->wcur : &l->rcur;
	int rc = 0;

	if (!*c)
		rc = mdb_cursor_open(txn, l->e->index, c);
	else if (c == &l->rcur && l->rcur_stale)
		rc = mdb_cursor_renew(txn, *c);
	if (rc) {
		if (*c)
			mdb_cursor_close(*c);
		*c = NULL;
		return lmdb_err(rc, "open index cursor", l->e->path);
	}
	if (c == &l->rcur)
		l->rcur_stale = false;
	*out = *c;
	return 0;
}

/* 1 with the log offset of @id in *off, 0 when absent, or an error. */
static int index_find(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		      uint64_t *off)
{
	size_t n = vs_oid_size(id->type);
	unsigned char key = (unsigned char)n, ent[VS_OID_MAXSZ + LMDB_OFFSZ] = { 0 };
	MDB_val k = { 1, &key }, v = { n + LMDB_OFFSZ, ent };
	MDB_cursor *c;
	int rc, err;

	if (!n)
		return vs_error_set(VS_EINVAL, "object id of unknown type %d", id->type);
	if ((err = index_cursor(l, txn, &c)) < 0)
		return err;
	memcpy(ent, id->id, n);
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return lmdb_err(rc, "index lookup", l->e->path);
	if (v.mv_size != n + LMDB_OFFSZ)
		return corrupt_obj(l->e->path, id, "index entry of the wrong size");
	if (memcmp(v.mv_data, id->id, n))
		return 0;
	*off = 0;
	for (size_t i = 0; i < LMDB_OFFSZ; i++)
		*off = *off << 8 | ((const unsigned char *)v.mv_data)[n + i];
	return 1;
}

/* Copy @n log bytes at @off into @dst, across chunks. */
static int log_copy(struct lmdb_backend *l, MDB_txn *txn, uint64_t off, void *dst, size_t n)
{
	size_t no = (size_t)(off / l->e->chunk), in = (size_t)(off % l->e->chunk);
	MDB_val k = { sizeof(no), &no }, v;
	MDB_cursor *c;
	int rc, err = 0;

	if ((rc = mdb_cursor_open(txn, l->e->log, &c)))
		return lmdb_err(rc, "open log cursor", l->e->path);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (n && !err) {
		size_t got = SIZE_MAX;
		if (!rc && k.mv_size == sizeof(got))
			memcpy(&got, k.mv_data, sizeof(got));
		if (rc && rc != MDB_NOTFOUND) {
			err = lmdb_err(rc, "read log", l->e->path);
		} else if (rc || got != no || v.mv_size <= in) {
			err = vs_error_set(VS_ECORRUPT, "log of %s: chunk %zu missing or short",
					   l->e->path, no);
		} else {
			size_t take = v.mv_size - in < n ? v.mv_size - in : n;
			memcpy(dst, (const char *)v.mv_data + in, take);
			dst = (char *)dst + take;
			n -= take;
			in = 0;
			no++;
			if (n)
				rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
	}
	mdb_cursor_close(c);
	return err;
}

/* The log's length in bytes. */
static int log_end(struct lmdb_backend *l, MDB_txn *txn, uint64_t *out)
{
	MDB_val k, v;
	MDB_cursor *c;
	size_t no;
	int rc;

	*out = 0;
	if ((rc = mdb_cursor_open(txn, l->e->log, &c)))
		return lmdb_err(rc, "open log cursor", l->e->path);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (!rc && k.mv_size == sizeof(no)) {
		memcpy(&no, k.mv_data, sizeof(no));
		*out = (uint64_t)no * l->e->chunk + v.mv_size;
	}
	mdb_cursor_close(c);
	return rc && rc != MDB_NOTFOUND ? lmdb_err(rc, "read log", l->e->path) : 0;
}

/* Parse a record header: its size, 0 when @n bytes are too few, -1 if bad. */
static int hdr_parse(const unsigned char *p, size_t n, unsigned int *type, uint64_t *len)
{
	*len = 0;
	if (n < 2)
		return 0;
	*type = p[0];
	for (size_t i = 1; i < n && i < LMDB_HDRMAX; i++) {
		if (i == LMDB_HDRMAX - 1 && p[i] > 1)
			return -1; /* more than 64 bits */
		*len |= (uint64_t)(p[i] & 0x7f) << (7 * (i - 1));
		if (!(p[i] & 0x80))
			return (int)i + 1;
	}
	return n >= LMDB_HDRMAX ? -1 : 0;
}

static int rec_read(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		    uint64_t off, enum vs_otype *type, struct vs_buf *out)
{
	size_t no = (size_t)(off / l->e->chunk), in = (size_t)(off % l->e->chunk);
	MDB_val k = { sizeof(no), &no }, v;
	unsigned char hdr[LMDB_HDRMAX];
	unsigned int t;
	uint64_t len;
	int rc, h, err;

	if ((rc = mdb_get(txn, l->e->log, &k, &v)))
		return rc == MDB_NOTFOUND ? corrupt_obj(l->e->path, id, "offset past the log")
					  : lmdb_err(rc, "read log", l->e->path);
	const unsigned char *p = (const unsigned char *)v.mv_data + in;
	size_t avail = v.mv_size > in ? v.mv_size - in : 0;
	h = hdr_parse(p, avail, &t, &len);
	for (size_t i = 0; h == 0 && i < LMDB_HDRMAX; i++) {
		/* Rare: the header straddles two chunks; read it byte by byte. */
		if ((err = log_copy(l, txn, off + i, &hdr[i], 1)) < 0)
			return err;
		h = hdr_parse(hdr, i + 1, &t, &len);
	}
	if (h <= 0 || t < VS_OBJ_COMMIT || t > VS_OBJ_TAG)
		return corrupt_obj(l->e->path, id, "bad record header in the log");
	*type = (enum vs_otype)t;
	if ((uint64_t)h + len <= avail)
		return vs_buf_set(out, p + h, (size_t)len);
	uint64_t end;
	if ((err = log_end(l, txn, &end)) < 0)
		return err;
	if (len > end || off + (uint64_t)h > end - len) /* before allocating */
		return corrupt_obj(l->e->path, id, "record runs past the end of the log");
	vs_buf_clear(out);
	if ((err = vs_buf_grow(out, (size_t)len)) < 0)
		return err;
	if ((err = log_copy(l, txn, off + (uint64_t)h, out->ptr, (size_t)len)) < 0)
		return err;
	out->size = (size_t)len;
	out->ptr[len] = '\0';
	return 0;
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
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (!rc && (k.mv_size != sizeof(size_t) || v.mv_size > l->e->chunk)) {
		mdb_cursor_close(c);
		return vs_error_set(VS_ECORRUPT, "log of %s: malformed last chunk", l->e->path);
	}
	if (!rc) {
		memcpy(&l->tail_no, k.mv_data, sizeof(l->tail_no));
		if (v.mv_size < l->e->chunk)
			l->tail_fresh = false;
		else
			l->tail_no++;
		if (!l->tail_fresh && vs_buf_set(&l->tail, v.mv_data, v.mv_size) < 0)
			rc = ENOMEM;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "read log", l->e->path);
	l->tail_loaded = true;
	return 0;
}

static int tail_put(struct lmdb_backend *l)
{
	MDB_val k = { sizeof(size_t), &l->tail_no }, v = { l->tail.size, l->tail.ptr };
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
	unsigned char hdr[LMDB_HDRMAX], key, ent[VS_OID_MAXSZ + LMDB_OFFSZ];
	size_t n = vs_oid_size(op->id.type), h = 0, len = op->len;
	uint64_t off;
	int err, rc;

	if ((err = index_find(l, l->wtxn, &op->id, &off)) != 0)
		return err < 0 ? err : 0;
	if ((err = tail_load(l)) < 0)
		return err;
	off = (uint64_t)l->tail_no * l->e->chunk + l->tail.size;
	if (off >> (8 * LMDB_OFFSZ))
		return vs_error_set(VS_E2BIG, "log of %s is full", l->e->path);
	hdr[h++] = (unsigned char)op->type;
	do {
		hdr[h++] = (unsigned char)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len);
	if ((err = log_append(l, hdr, h, false)) < 0 ||
	    (err = log_append(l, op->data, op->len, true)) < 0)
		return err;
	key = (unsigned char)n;
	memcpy(ent, op->id.id, n);
	for (size_t i = 0; i < LMDB_OFFSZ; i++)
		ent[n + i] = (unsigned char)(off >> (8 * (LMDB_OFFSZ - 1 - i)));
	MDB_val k = { 1, &key }, v = { n + LMDB_OFFSZ, ent };
	if ((rc = mdb_put(l->wtxn, l->e->index, &k, &v, 0)))
		return lmdb_err(rc, "index put", l->e->path);
	return 1;
}

static int name_check(const struct lmdb_backend *l, const char *what, const char *name)
{
	size_t n = strlen(name);
	if (!n || n > (size_t)mdb_env_get_maxkeysize(l->e->env))
		return vs_error_set(VS_EINVAL, "%s name of %zu bytes (1 to %d allowed)", what, n,
				    mdb_env_get_maxkeysize(l->e->env));
	return 0;
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
	if (rc)
		return lmdb_err(rc, "read ref", l->e->path);
	return ref_parse(l, name, &v, out);
}

static int apply_ref(struct lmdb_backend *l, const struct lmdb_op *op)
{
	MDB_val k = { strlen(op->name), (void *)op->name };
	struct vs_oid cur;
	bool want = op->expected.type != 0;
	int err = ref_get(l, l->wtxn, op->name, &cur), rc;

	if (err < 0 && (err != VS_ENOENT || op->kind == OP_DEL))
		return err;
	if (want ? err || !vs_oid_equal(&cur, &op->expected) : !err && op->kind == OP_CAS)
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", op->name);
	if (op->kind == OP_DEL) {
		rc = mdb_del(l->wtxn, l->e->refs, &k, NULL);
	} else {
		MDB_val v = { vs_oid_size(op->id.type), (void *)op->id.id };
		rc = mdb_put(l->wtxn, l->e->refs, &k, &v, 0);
	}
	return rc ? lmdb_err(rc, "update ref", l->e->path) : 0;
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
	case OP_CONFIG:
		rc = mdb_put(l->wtxn, l->e->config, &k, &v, 0);
		return rc ? lmdb_err(rc, "write setting", l->e->path) : 0;
	}
	VS_BUG("unknown op %d", (int)op->kind);
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
	if (!(c = vs__malloc(sizeof(*c) + nlen + op->len)))
		return vs__enomem();
	*c = *op;
	if (op->len)
		memcpy((char *)(c + 1), op->data, op->len);
	c->data = c + 1;
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
		if (err != VS_ENOSPC) {
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
		if (err > 0 || (err == 0 && op->kind != OP_OBJ)) {
			if ((err = batch_log(l, op)) < 0)
				return l->batch_err = err;
		}
		return err < 0 ? err : 0;
	}
	for (;;) {
		if ((err = wtxn_begin(l)) < 0)
			return err;
		size_t seen = l->wmapsize;
		err = apply(l, op);
		if (err >= 0)
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
	err = index_find(l, txn, id, &off);
	if (err > 0)
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

/* Collect up to @max ids after index entry @last (none: from the start). */
static int foreach_step(struct lmdb_backend *l, struct vs_oid *ids, size_t max, size_t *n,
			unsigned char *last, size_t *lastlen)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v = { *lastlen, last };
	int rc, err;

	*n = 0;
	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((err = index_cursor(l, txn, &c)) < 0)
		goto out;
	k = (MDB_val){ 1, &(unsigned char){ (unsigned char)(*lastlen - LMDB_OFFSZ) } };
	rc = *lastlen ? mdb_cursor_get(c, &k, &v, MDB_GET_BOTH) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (!rc && *lastlen)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	for (; !rc && *n < max; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t idlen = k.mv_size == 1 ? *(unsigned char *)k.mv_data : 0;
		enum vs_oid_type t = idlen == 20 ? VS_OID_SHA1 : VS_OID_SHA256;
		if ((idlen != 20 && idlen != 32) || v.mv_size != idlen + LMDB_OFFSZ) {
			err = vs_error_set(VS_ECORRUPT, "index of %s has a malformed entry",
					   l->e->path);
			goto out;
		}
		vs_oid_fromraw(&ids[(*n)++], t, v.mv_data);
		memcpy(last, v.mv_data, v.mv_size);
		*lastlen = v.mv_size;
	}
	if (rc && rc != MDB_NOTFOUND)
		err = lmdb_err(rc, "walk index", l->e->path);
out:
	rtxn_end(l, txn);
	return err;
}

/* Walks in steps, no txn held while callbacks run: they may use this handle. */
static int lmdb_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	struct lmdb_backend *l = lmdb_from(b);
	struct vs_oid *ids = vs__malloc(LMDB_FOREACH_STEP * sizeof(*ids));
	unsigned char last[VS_OID_MAXSZ + LMDB_OFFSZ];
	size_t lastlen = 0, n;
	int err = 0;

	if (!ids)
		return vs__enomem();
	do {
		if ((err = foreach_step(l, ids, LMDB_FOREACH_STEP, &n, last, &lastlen)) < 0)
			break;
		for (size_t i = 0; i < n && !err; i++)
			err = cb(payload, &ids[i]);
	} while (!err && n == LMDB_FOREACH_STEP);
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

	if ((err = name_check(l, "ref", name)) < 0 || (err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	err = ref_get(l, txn, name, out);
	rtxn_end(l, txn);
	return err;
}

static int lmdb_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
			const struct vs_oid *expected)
{
	struct lmdb_backend *l = lmdb_from(b);
	struct lmdb_op op = { .kind = OP_CAS, .name = name, .id = *target };
	int err;

	VS_CHECK_ARG(vs_oid_size(target->type));
	if ((err = name_check(l, "ref", name)) < 0)
		return err;
	if (expected)
		op.expected = *expected;
	return run_write(l, &op);
}

static int lmdb_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	struct lmdb_backend *l = lmdb_from(b);
	struct lmdb_op op = { .kind = OP_DEL, .name = name };
	int err;

	if ((err = name_check(l, "ref", name)) < 0)
		return err;
	if (expected)
		op.expected = *expected;
	return run_write(l, &op);
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
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	int rc, err;

	if ((err = rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_cursor_open(txn, l->e->refs, &c))) {
		err = lmdb_err(rc, "open ref cursor", l->e->path);
		goto out;
	}
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; !rc && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen);
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (*n == cap) {
			struct lmdb_ref *a = vs__realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(*a));
			if (!a) {
				err = vs__enomem();
				goto out;
			}
			*out = a;
		}
		struct lmdb_ref *r = &(*out)[*n];
		if (!(r->name = vs__strndup(k.mv_data, k.mv_size))) {
			err = vs__enomem();
			goto out;
		}
		(*n)++;
		if ((err = ref_parse(l, r->name, &v, &r->id)) < 0)
			goto out;
	}
	if (rc && rc != MDB_NOTFOUND)
		err = lmdb_err(rc, "walk refs", l->e->path);
out:
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

/* Pages in use (the file's high-water mark minus free pages) times page size. */
static int stat_bytes_used(struct lmdb_backend *l, MDB_txn *txn, uint64_t *out)
{
	MDB_envinfo info;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t free_pages = 0;
	int rc;

	mdb_env_info(l->e->env, &info);
	if ((rc = mdb_cursor_open(txn, 0, &c))) /* dbi 0 is LMDB's freelist */
		return lmdb_err(rc, "open freelist cursor", l->e->path);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)))
		if (v.mv_size >= sizeof(size_t)) { /* an IDL: its count first */
			size_t cnt;
			memcpy(&cnt, v.mv_data, sizeof(cnt));
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
	MDB_envinfo info;
	MDB_txn *txn;
	uint64_t n = 0;
	int rc, err;

	/* LMDB's freelist is not readable from a write txn: stats read the last commit. */
	bool stat = !strncmp(key, "stat.", 5);
	if ((err = name_check(l, "setting", key)) < 0 || (err = rtxn_begin(l, stat, &txn)) < 0)
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
	struct lmdb_backend *l = lmdb_from(b);
	struct lmdb_op op = { .kind = OP_CONFIG, .name = key, .data = value, .len = strlen(value) };
	int err;

	if ((err = name_check(l, "setting", key)) < 0)
		return err;
	if (!strncmp(key, "stat.", 5) || !strncmp(key, "lmdb.", 5))
		return vs_error_set(VS_EINVAL, "setting '%s' is reserved", key);
	return run_write(l, &op);
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

/* Open the named databases and read (or, for a new store, set) the chunk size. */
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
		/* The largest data that stays in a leaf: LMDB's nodemax
		 * ((psize - 16) / 2, even, minus 2) less an 8-byte node header and the key. */
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
	/* Readers first: a thread holding a batch may read through another
	 * handle (a recursive read lock) while a remap waits. */
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_READER_NP);
	pthread_rwlock_init(&e->maplock, &attr);
	pthread_rwlockattr_destroy(&attr);
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
	if (e && e->rdonly && !rdonly) {
		err = vs_error_set(VS_EBUSY, "%s is open read-only in this process", real);
	} else if (e) {
		e->nrefs++;
	} else if ((err = env_open(&e, real, opts)) == 0) {
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
