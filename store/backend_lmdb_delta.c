/* SPDX-License-Identifier: MIT */
/*
 * Objects the LMDB backend stores as a difference from another object.
 *
 * A commit rewrites every tree node on the path to the key it changes, and
 * the new version of a node differs from the old one in one child id: in a
 * split directory of 100 000 entries that is three 1 KiB nodes stored again
 * for 96 changed bytes. When the core names the node an object was edited
 * from (obj_write_based), the object is stored as that base's bytes with
 * one stretch replaced, which is what such an edit is:
 *
 *   record type   the object's type | REC_DELTA
 *   content       base id (raw, the object's id type) | depth (1 byte) |
 *                 LEB128 prefix | LEB128 suffix | the bytes in between
 *
 * The object is the base's first `prefix` bytes, the bytes in between, then
 * the base's last `suffix` bytes; it keeps its own id and index entry, so
 * nothing above the backend knows. `depth` is the number of records a read
 * resolves after this one: a chain stops at DELTA_MAX_DEPTH, the next
 * version is stored whole, so a read costs at most DELTA_MAX_DEPTH + 1
 * records. A delta is kept only when it saves at least half the bytes.
 *
 * Writing a delta needs its base whole, usually the version written by the
 * commit before: the environment keeps the objects it recently wrote (by
 * the write txn's thread, a slot per id hash), so that a node rewritten by
 * every commit costs no read of its chain. The base is still looked up in
 * the index, which alone knows whether it is stored (a batch may have been
 * dropped, another process may have collected it). Each handle keeps the
 * same of the trees it read whole, so that reading a node's versions one
 * after the other (as a collection's marking does) reads each chain once.
 *
 * The base is named by id, not offset, so compaction moves records freely.
 * A based write of an object already stored as a delta from another base
 * stores it again whole (vs__lmdb_apply_rebase; whole, as the deltas from it
 * recorded its depth, which must stay an upper bound of its chain):
 * garbage collection writes so, with no base, what it keeps while dropping
 * its base, before it deletes anything, and the core gives only bases the
 * collection keeps while one runs (see backend.c), so a base is never swept
 * from under a live delta.
 */
#include "backend_lmdb_int.h"

#define DELTA_MAX_DEPTH 6
#define DELTA_MIN_BYTES 64 /* below this, a record whole is as small as a delta */
#define RECENT_SLOTS 64
#define RECENT_MAX_BYTES 2048 /* a split node is 1 041; larger objects are read back */

/* An object written recently, whole: a likely base of the next write. */
struct recent_slot {
	struct vs_oid id;   /* type 0: empty */
	struct vs_oid base; /* what it is stored as a delta from (reads), or type 0 */
	enum vs_otype type;
	unsigned int depth;
	size_t len;
	unsigned char data[RECENT_MAX_BYTES];
};

struct lmdb_recent {
	struct recent_slot slot[RECENT_SLOTS];
};

/* The slot of @id in @c, if it holds @id. */
static struct recent_slot *recent_find(struct lmdb_recent *c, const struct vs_oid *id)
{
	struct recent_slot *s;
	uint32_t h;

	if (!c)
		return NULL;
	memcpy(&h, id->id, sizeof(h));
	s = &c->slot[h % RECENT_SLOTS];
	return vs_oid_equal(&s->id, id) ? s : NULL;
}

static void recent_put(struct lmdb_recent **c, const struct vs_oid *id, enum vs_otype type,
		       unsigned int depth, const struct vs_oid *base, const void *data, size_t len)
{
	struct recent_slot *s;
	uint32_t h;

	if (len > RECENT_MAX_BYTES)
		return;
	if (!*c && !(*c = vs__calloc(1, sizeof(**c))))
		return; /* only a cache */
	memcpy(&h, id->id, sizeof(h));
	s = &(*c)->slot[h % RECENT_SLOTS];
	memcpy(s->data, data, len);
	s->len = len;
	s->id = *id;
	s->base = base ? *base : (struct vs_oid){ 0 };
	s->type = type;
	s->depth = depth;
}

void vs__lmdb_delta_free(struct lmdb_env *e)
{
	vs_free(e->recent);
	e->recent = NULL;
}

void vs__lmdb_delta_free_reads(struct lmdb_backend *l)
{
	vs_free(l->read);
	l->read = NULL;
}

static int corrupt_delta(const char *path, const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "object %s in %s: %s", vs_oid_tostr(hex, id), path, why);
}

static size_t leb_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	do {
		p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* Bytes used at @p (at most @n), or 0 if the number is cut or too long. */
static size_t leb_get(const unsigned char *p, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

struct delta {
	struct vs_oid base;
	unsigned int depth;
	uint64_t prefix, suffix;
	const unsigned char *mid;
	size_t midlen;
};

static int delta_parse(struct delta *d, const struct lmdb_backend *l, const struct vs_oid *id,
		       const unsigned char *p, size_t n)
{
	size_t idlen = vs_oid_size(id->type), at = idlen + 1, used;

	if (n < at + 2)
		return corrupt_delta(l->e->path, id, "delta record too short");
	vs_oid_fromraw(&d->base, id->type, p);
	d->depth = p[idlen];
	if (!d->depth || d->depth > DELTA_MAX_DEPTH)
		return corrupt_delta(l->e->path, id, "delta of a bad depth");
	if (!(used = leb_get(p + at, n - at, &d->prefix)))
		return corrupt_delta(l->e->path, id, "delta with a bad prefix length");
	at += used;
	if (!(used = leb_get(p + at, n - at, &d->suffix)))
		return corrupt_delta(l->e->path, id, "delta with a bad suffix length");
	at += used;
	d->mid = p + at;
	d->midlen = n - at;
	return 0;
}

/* vs__lmdb_obj_load(), also giving the depth of the record at @off (0:
 * whole) and its base (type 0: none). */
static int load(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		enum vs_otype *type, struct vs_buf *out, unsigned int *depth,
		struct vs_oid *base_of, unsigned int limit)
{
	struct vs_buf base = VS_BUF_INIT, whole = VS_BUF_INIT;
	enum vs_otype btype;
	unsigned int rtype, bdepth;
	struct vs_oid bbase;
	struct delta d;
	uint64_t boff;
	int err;

	struct recent_slot *hit = recent_find(l->read, id);
	if (hit) { /* the caller found @id in the index: it is stored */
		*type = hit->type;
		*depth = hit->depth;
		*base_of = hit->base;
		return vs_buf_set(out, hit->data, hit->len);
	}
	if ((err = vs__lmdb_rec_read(l, txn, id, off, &rtype, out)) < 0)
		return err;
	*type = (enum vs_otype)(rtype & ~(unsigned int)REC_DELTA);
	*depth = 0;
	*base_of = (struct vs_oid){ 0 };
	if (!(rtype & REC_DELTA)) {
		if (*type == VS_OBJ_TREE) /* a likely base of what is read next */
			recent_put(&l->read, id, *type, 0, NULL, out->ptr, out->size);
		return 0;
	}
	if ((err = delta_parse(&d, l, id, (const unsigned char *)out->ptr, out->size)) < 0)
		return err;
	if (d.depth > limit)
		return corrupt_delta(l->e->path, id, "delta chain deeper than its first record says");
	if ((err = vs__lmdb_index_find(l, txn, &d.base, &boff)) <= 0)
		return err < 0 ? err : corrupt_delta(l->e->path, id, "the base of a delta is missing");
	if ((err = load(l, txn, &d.base, boff, &btype, &base, &bdepth, &bbase, d.depth - 1)) < 0)
		goto out;
	err = VS_ECORRUPT;
	if (btype != *type)
		corrupt_delta(l->e->path, id, "delta from a base of another type");
	else if (d.prefix > base.size || d.suffix > base.size - d.prefix)
		corrupt_delta(l->e->path, id, "delta longer than its base");
	else if ((err = vs_buf_grow(&whole, d.prefix + d.midlen + d.suffix)) == 0 &&
		 (err = vs_buf_put(&whole, base.ptr, d.prefix)) == 0 &&
		 (err = vs_buf_put(&whole, d.mid, d.midlen)) == 0 &&
		 (err = vs_buf_put(&whole, base.ptr + base.size - d.suffix, d.suffix)) == 0) {
		vs_buf_release(out);
		*out = whole;
		whole = (struct vs_buf)VS_BUF_INIT;
		*depth = d.depth;
		*base_of = d.base;
		recent_put(&l->read, id, *type, d.depth, &d.base, out->ptr, out->size);
	}
out:
	vs_buf_release(&base);
	vs_buf_release(&whole);
	return err;
}

int vs__lmdb_obj_load(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		      enum vs_otype *type, struct vs_buf *out)
{
	unsigned int depth;
	int err = load(l, txn, id, off, type, out, &depth, &l->last_base, DELTA_MAX_DEPTH);
	l->last_read = err < 0 ? (struct vs_oid){ 0 } : *id;
	return err;
}

/*
 * The delta of @op from op->base into @rec: 1, or 0 when it is not worth it
 * (no such base, a chain too deep, too little in common), or an error.
 */
static int delta_build(struct lmdb_backend *l, const struct lmdb_op *op, struct vs_buf *rec,
		       unsigned int *depth_out)
{
	const unsigned char *a = op->data;
	struct vs_buf base = VS_BUF_INIT;
	unsigned char hdr[VS_OID_MAXSZ + 1 + 20];
	size_t idlen = vs_oid_size(op->id.type), h = 0, min, prefix = 0, suffix = 0;
	struct vs_oid bbase;
	enum vs_otype btype;
	unsigned int depth;
	uint64_t boff;
	int err;

	if ((err = vs__lmdb_index_find(l, l->wtxn, &op->base, &boff)) <= 0)
		return err;
	err = 0;
	struct recent_slot *r = recent_find(l->e->recent, &op->base);
	const unsigned char *b;
	size_t blen;
	if (r) {
		btype = r->type;
		depth = r->depth;
		b = r->data;
		blen = r->len;
	} else if ((err = load(l, l->wtxn, &op->base, boff, &btype, &base, &depth, &bbase,
			       DELTA_MAX_DEPTH)) < 0) {
		goto out;
	} else {
		b = (const unsigned char *)base.ptr;
		blen = base.size;
	}
	*depth_out = depth + 1;
	if (btype != op->type || depth >= DELTA_MAX_DEPTH)
		goto out;
	min = op->len < blen ? op->len : blen;
	while (prefix < min && a[prefix] == b[prefix])
		prefix++;
	while (suffix < min - prefix && a[op->len - 1 - suffix] == b[blen - 1 - suffix])
		suffix++;
	memcpy(hdr, op->base.id, idlen);
	h = idlen;
	hdr[h++] = (unsigned char)(depth + 1);
	h += leb_put(hdr + h, prefix);
	h += leb_put(hdr + h, suffix);
	size_t mid = op->len - prefix - suffix;
	if ((h + mid) * 2 > op->len)
		goto out;
	vs_buf_clear(rec);
	if ((err = vs_buf_put(rec, hdr, h)) == 0 && (err = vs_buf_put(rec, a + prefix, mid)) == 0)
		err = 1;
out:
	vs_buf_release(&base);
	return err;
}

int vs__lmdb_obj_append(struct lmdb_backend *l, const struct lmdb_op *op, uint64_t *off)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int depth = 0;
	bool based = op->base.type == op->id.type && op->len >= DELTA_MIN_BYTES &&
		     !vs_oid_equal(&op->base, &op->id);
	int err = based ? delta_build(l, op, &rec, &depth) : 0;

	if (err == VS_ENOMEM)
		return err;
	if (err < 0)
		vs_error_clear(); /* an unreadable base: store the object whole */
	if (err > 0) {
		err = vs__lmdb_rec_append(l, op->type | REC_DELTA, rec.ptr, rec.size, off);
	} else {
		depth = 0;
		err = vs__lmdb_rec_append(l, op->type, op->data, op->len, off);
	}
	/* What was given a base will likely be one: the next version's. */
	if (err >= 0 && based)
		recent_put(&l->e->recent, &op->id, op->type, depth, NULL, op->data, op->len);
	vs_buf_release(&rec);
	return err;
}

/* The record of stored @id: its offset, type byte and content, and @d
 * parsed when it is a delta. VS_ENOENT if absent. */
static int stored(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t *off,
		  unsigned int *rtype, struct vs_buf *rec, struct delta *d)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if ((err = vs__lmdb_index_find(l, txn, id, off)) <= 0)
		return err < 0 ? err
			       : vs_error_set(VS_ENOENT, "object %s not found", vs_oid_tostr(hex, id));
	if ((err = vs__lmdb_rec_read(l, txn, id, *off, rtype, rec)) < 0 || !(*rtype & REC_DELTA))
		return err;
	return delta_parse(d, l, id, (const unsigned char *)rec->ptr, rec->size);
}

int vs__lmdb_apply_rebase(struct lmdb_backend *l, const struct lmdb_op *op)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int rtype;
	struct delta d;
	uint64_t off;
	int err;

	/* As for a move: nothing written to the log between lookup and delete. */
	if ((err = vs__lmdb_tail_flush(l)) < 0 ||
	    (err = stored(l, l->wtxn, &op->id, &off, &rtype, &rec, &d)) < 0 ||
	    !(rtype & REC_DELTA) || vs_oid_equal(&d.base, &op->base))
		goto out;
	/* Whole: deltas from this object recorded its depth, which must stay
	 * an upper bound of its chain. */
	if ((err = vs__lmdb_rec_rewrite(l, &op->id, off, rec.size, op->type, op->data,
					op->len)) == 0)
		err = 1;
out:
	vs_buf_release(&rec);
	return err;
}

int vs__lmdb_obj_stat(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		      enum vs_otype *type, uint64_t *size)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int rtype;
	struct delta d;
	uint64_t off;
	int err;

	if ((err = stored(l, txn, id, &off, &rtype, &rec, &d)) == 0) {
		*type = (enum vs_otype)(rtype & ~(unsigned int)REC_DELTA);
		*size = rtype & REC_DELTA ? d.prefix + d.midlen + d.suffix : rec.size;
	}
	vs_buf_release(&rec);
	return err;
}

int vs__lmdb_obj_base(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		      struct vs_oid *base)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int rtype;
	struct delta d;
	uint64_t off;
	int err;

	if ((err = stored(l, txn, id, &off, &rtype, &rec, &d)) == 0 && (rtype & REC_DELTA)) {
		*base = d.base;
		err = 1;
	}
	vs_buf_release(&rec);
	return err;
}
