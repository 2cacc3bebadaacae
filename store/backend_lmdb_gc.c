/* SPDX-License-Identifier: MIT */
/*
 * Garbage collection in the LMDB backend: deleting objects, listing them in
 * steps, and compacting the log. Deleting an object removes its index entry;
 * its record stays in the log, and its size is added to the "free" database
 * (dead bytes per log segment of SEG_CHUNKS chunks). Compaction picks the
 * oldest stretch of the log that is at least half dead, moves the live
 * records in it to the log's end (updating their index entries) and then
 * deletes its chunks, so LMDB frees their pages and reuses them for new
 * chunks: the file stops growing once history is trimmed. Every step is one
 * write txn, so a crash leaves either the old or the new place of a record
 * indexed; moving a record counts its old copy as dead, so the tallies stay
 * exact across crashes.
 */
#include "backend_lmdb_int.h"

#include <stdio.h>

/* A compaction pass must gain at least 1/GAIN_DIV of the log, so that its
 * scan of the whole index is paid for. */
#define GAIN_DIV 64
#define SCAN_PER_MOVE 32

static uint64_t seg_bytes(const struct lmdb_env *e)
{
	return (uint64_t)SEG_CHUNKS * e->chunk;
}

/* Bytes a record of @len content bytes takes in the log (header included). */
static uint64_t rec_size(uint64_t len)
{
	uint64_t n = 2; /* type byte and at least one length byte */
	for (uint64_t rest = len >> 7; rest; rest >>= 7)
		n++;
	return n + len;
}

/* Count @bytes at log offset @off as dead, in the write txn. */
static int tally_add(struct lmdb_backend *l, uint64_t off, uint64_t bytes)
{
	size_t seg = (size_t)(off / seg_bytes(l->e));
	MDB_val k = { sizeof(seg), &seg }, v;
	uint64_t dead = 0;
	int rc;

	if (!l->e->has_free)
		return 0;
	rc = mdb_get(l->wtxn, l->e->free, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return vs__lmdb_err(rc, "read free space", l->e->path);
	if (!rc && v.mv_size == sizeof(dead))
		memcpy(&dead, v.mv_data, sizeof(dead));
	dead += bytes;
	v = (MDB_val){ sizeof(dead), &dead };
	rc = mdb_put(l->wtxn, l->e->free, &k, &v, 0);
	return rc ? vs__lmdb_err(rc, "write free space", l->e->path) : 0;
}

/* The record of op->id: its index entry goes, its bytes count as dead. */
int vs__lmdb_apply_odel(struct lmdb_backend *l, const struct lmdb_op *op)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int type;
	uint64_t off;
	int err, rc;

	/* No log write may come between the lookup and the cursor's delete. */
	if ((err = vs__lmdb_tail_flush(l)) < 0 ||
	    (err = vs__lmdb_index_find(l, l->wtxn, &op->id, &off)) <= 0)
		return err;
	/* The cursor stays on the entry: reading the log uses other cursors. */
	if ((err = vs__lmdb_rec_read(l, l->wtxn, &op->id, off, &type, &rec)) < 0)
		goto out;
	if ((rc = mdb_cursor_del(l->wcur, 0))) {
		err = vs__lmdb_err(rc, "delete index entry", l->e->path);
		goto out;
	}
	err = tally_add(l, off, rec_size(rec.size));
out:
	vs_buf_release(&rec);
	return err;
}

int vs__lmdb_rec_rewrite(struct lmdb_backend *l, const struct vs_oid *id, uint64_t off,
			 size_t oldlen, unsigned int rtype, const void *data, size_t len)
{
	unsigned char key = (unsigned char)vs_oid_size(id->type), ent[VS_OID_MAXSZ + OFFSZ];
	MDB_val k = { 1, &key }, v = { key + OFFSZ, ent };
	uint64_t noff;
	int err, rc;

	/* Delete and insert rather than overwrite in place: plain LMDB semantics. */
	if ((rc = mdb_cursor_del(l->wcur, 0)))
		return vs__lmdb_err(rc, "rewrite index entry", l->e->path);
	if ((err = vs__lmdb_rec_append(l, rtype, data, len, &noff)) < 0)
		return err;
	vs__lmdb_index_entry(ent, id, noff);
	if ((rc = mdb_put(l->wtxn, l->e->index, &k, &v, 0)))
		return vs__lmdb_err(rc, "rewrite index entry", l->e->path);
	return tally_add(l, off, rec_size(oldlen));
}

/* Move the record of op->id to the log's end if it lies below op->limit. */
int vs__lmdb_apply_move(struct lmdb_backend *l, const struct lmdb_op *op)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int type; /* a delta moves as it is: its base is named by id */
	uint64_t off;
	int err;

	if ((err = vs__lmdb_tail_flush(l)) < 0)
		return err;
	if ((err = vs__lmdb_index_find(l, l->wtxn, &op->id, &off)) <= 0 || off >= op->limit)
		return err < 0 ? err : 0;
	if ((err = vs__lmdb_rec_read(l, l->wtxn, &op->id, off, &type, &rec)) == 0)
		err = vs__lmdb_rec_rewrite(l, &op->id, off, rec.size, type, rec.ptr, rec.size);
	vs_buf_release(&rec);
	return err;
}

/* Delete the free-space tallies of the segments below @limit. */
static int tallies_drop(struct lmdb_backend *l, uint64_t limit)
{
	size_t below = (size_t)(limit / seg_bytes(l->e)), seg;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!l->e->has_free)
		return 0;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->free, &c)))
		return vs__lmdb_err(rc, "open free space cursor", l->e->path);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) && k.mv_size == sizeof(seg)) {
		memcpy(&seg, k.mv_data, sizeof(seg));
		if (seg >= below || (rc = mdb_cursor_del(c, 0)))
			break;
	}
	mdb_cursor_close(c);
	return rc && rc != MDB_NOTFOUND ? vs__lmdb_err(rc, "drop free space", l->e->path) : 0;
}

/* Delete up to op->len log chunks below op->limit; then their tallies. */
int vs__lmdb_apply_drop(struct lmdb_backend *l, const struct lmdb_op *op)
{
	size_t below = (size_t)(op->limit / l->e->chunk), no, n = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	l->compact.dropped = 0; /* a replay after growing the map counts afresh */
	l->compact.drop_more = false;
	if ((rc = vs__lmdb_tail_flush(l)) < 0)
		return rc;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->log, &c)))
		return vs__lmdb_err(rc, "open log cursor", l->e->path);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) && k.mv_size == sizeof(no)) {
		memcpy(&no, k.mv_data, sizeof(no));
		if (no >= below)
			break;
		if (n == op->len) {
			l->compact.drop_more = true;
			break;
		}
		l->compact.dropped += v.mv_size;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return vs__lmdb_err(rc, "drop log chunks", l->e->path);
	return l->compact.drop_more ? 0 : tallies_drop(l, op->limit);
}

int vs__lmdb_obj_delete(struct vs_backend *b, const struct vs_oid *id)
{
	struct lmdb_op op = { .kind = OP_ODEL, .id = *id };
	VS_CHECK_ARG(vs_oid_size(id->type));
	return vs__lmdb_run_write(vs__lmdb_from(b), &op);
}

/* Called per index entry by scan(); non-zero stops it. */
typedef int scan_fn(void *ctx, const struct vs_oid *id, uint64_t off);

/* Up to @max index entries with ids above @after (NULL: from the first), in
 * order; *end is true when the index ended before @max. */
static int scan(struct lmdb_backend *l, const struct vs_oid *after, size_t max, scan_fn *fn,
		void *ctx, bool *end)
{
	unsigned char key = 0, ent[VS_OID_MAXSZ + OFFSZ];
	MDB_val k = { 1, &key }, v = { 0, ent };
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, err;

	*end = false;
	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_cursor_open(txn, l->e->index, &c)) == 0 && after) {
		/* The first entry past every offset of @after is the next id. */
		vs__lmdb_index_entry(ent, after, ((uint64_t)1 << (8 * OFFSZ)) - 1);
		key = (unsigned char)vs_oid_size(after->type);
		v.mv_size = key + OFFSZ;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE)) == MDB_NOTFOUND) {
			key++;
			k = (MDB_val){ 1, &key };
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		}
	} else if (!rc) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	}
	for (size_t n = 0; !rc && !err && n < max; n++) {
		size_t idlen = k.mv_size == 1 ? *(unsigned char *)k.mv_data : 0;
		struct vs_oid id;
		uint64_t off = 0;

		if ((idlen != 20 && idlen != 32) || v.mv_size != idlen + OFFSZ) {
			err = vs_error_set(VS_ECORRUPT, "index of %s: malformed entry", l->e->path);
			break;
		}
		vs_oid_fromraw(&id, idlen == 20 ? VS_OID_SHA1 : VS_OID_SHA256, v.mv_data);
		for (size_t i = 0; i < OFFSZ; i++)
			off = off << 8 | ((const unsigned char *)v.mv_data)[idlen + i];
		if ((err = fn(ctx, &id, off)) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	*end = rc == MDB_NOTFOUND;
	if (!err && rc && rc != MDB_NOTFOUND)
		err = vs__lmdb_err(rc, "walk index", l->e->path);
	if (c)
		mdb_cursor_close(c);
	vs__lmdb_rtxn_end(l, txn);
	return err < 0 ? err : 0;
}

struct list_ctx {
	struct vs_oid *out;
	size_t n;
};

static int list_one(void *ctx, const struct vs_oid *id, uint64_t off)
{
	struct list_ctx *c = ctx;
	(void)off;
	c->out[c->n++] = *id;
	return 0;
}

int vs__lmdb_obj_list(struct vs_backend *b, const struct vs_oid *after, struct vs_oid *out,
		      size_t max, size_t *n)
{
	struct list_ctx c = { out, 0 };
	bool end;
	int err = scan(vs__lmdb_from(b), after, max, list_one, &c, &end);

	*n = c.n;
	return err;
}

/*
 * Where a pass should clear up to: the segment boundary below the log's last
 * segment that maximises what the pass gains, the dead bytes below it less
 * the live ones it must copy (so a mostly dead segment is worth crossing a
 * live one, but the live recent end of the log is never copied), if the gain
 * is worth scanning the index. 0: no pass.
 */
static int choose_limit(struct lmdb_backend *l, uint64_t *limit)
{
	uint64_t sb = seg_bytes(l->e), start, end, dead = 0;
	int64_t gain, best = 0;
	size_t first, last, seg;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	MDB_txn *txn;
	int rc, err;

	*limit = 0;
	if (!l->e->has_free)
		return 0;
	if ((err = vs__lmdb_rtxn_begin(l, false, &txn)) < 0)
		return err;
	if ((rc = mdb_cursor_open(txn, l->e->log, &c)) ||
	    (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)))
		goto out;
	memcpy(&first, k.mv_data, sizeof(first));
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST)))
		goto out;
	memcpy(&last, k.mv_data, sizeof(last));
	mdb_cursor_close(c);
	c = NULL;
	start = (uint64_t)first * l->e->chunk;
	end = (uint64_t)(last / SEG_CHUNKS) * sb; /* the last segment is still filling */
	if ((rc = mdb_cursor_open(txn, l->e->free, &c)))
		goto out;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t d;
		if (k.mv_size != sizeof(seg) || v.mv_size != sizeof(d))
			continue;
		memcpy(&seg, k.mv_data, sizeof(seg));
		memcpy(&d, v.mv_data, sizeof(d));
		if ((uint64_t)(seg + 1) * sb > end)
			break;
		dead += d;
		gain = (int64_t)(2 * dead) - (int64_t)((uint64_t)(seg + 1) * sb - start);
		if (gain > best) {
			*limit = (uint64_t)(seg + 1) * sb;
			best = gain;
		}
	}
	if ((uint64_t)best < sb ||
	    (uint64_t)best < ((uint64_t)(last + 1) * l->e->chunk - start) / GAIN_DIV)
		*limit = 0;
out:
	if (c)
		mdb_cursor_close(c);
	vs__lmdb_rtxn_end(l, txn);
	return rc && rc != MDB_NOTFOUND ? vs__lmdb_err(rc, "read free space", l->e->path) : 0;
}

struct move_ctx {
	struct vs_oid *ids;
	size_t n, max, scanned;
	uint64_t limit;
	struct vs_oid last;
};

static int move_pick(void *ctx, const struct vs_oid *id, uint64_t off)
{
	struct move_ctx *m = ctx;
	m->last = *id;
	m->scanned++;
	if (off < m->limit)
		m->ids[m->n++] = *id;
	return m->n == m->max ? 1 : 0;
}

/* Scan the next stretch of the index and move what lies below the limit. */
static int move_step(struct lmdb_backend *l, size_t budget, size_t *moved)
{
	struct lmdb_compact *cp = &l->compact;
	struct move_ctx m = { .max = budget, .limit = cp->limit };
	struct vs_oid after;
	bool end;
	int err;

	if (!(m.ids = vs__malloc(budget * sizeof(*m.ids))))
		return vs__enomem();
	if (cp->lastlen)
		vs_oid_fromraw(&after, cp->lastlen == 20 ? VS_OID_SHA1 : VS_OID_SHA256, cp->last);
	err = scan(l, cp->lastlen ? &after : NULL, budget * SCAN_PER_MOVE, move_pick, &m, &end);
	if (err < 0 || !m.n || (err = l->base.ops->batch_begin(&l->base)) < 0)
		goto out;
	for (size_t i = 0; i < m.n && err >= 0; i++) {
		struct lmdb_op op = { .kind = OP_MOVE, .id = m.ids[i], .limit = cp->limit };
		err = vs__lmdb_run_write(l, &op);
	}
	if (err < 0)
		l->base.ops->batch_abort(&l->base);
	else if ((err = l->base.ops->batch_commit(&l->base)) >= 0)
		*moved += m.n;
out:
	if (err >= 0 && m.scanned) {
		cp->lastlen = vs_oid_size(m.last.type);
		memcpy(cp->last, m.last.id, cp->lastlen);
	}
	if (err >= 0 && end)
		cp->stage = CP_DROPPING;
	vs_free(m.ids);
	return err;
}

int vs__lmdb_compact_step(struct vs_backend *b, size_t budget, uint64_t *freed, size_t *moved)
{
	struct lmdb_backend *l = vs__lmdb_from(b);
	struct lmdb_compact *cp = &l->compact;
	struct lmdb_op op = { .kind = OP_DROP, .len = budget ? budget : 1 };
	int err;

	if (l->in_batch)
		return vs_error_set(VS_EBUSY, "cannot compact %s inside a batch", l->e->path);
	if (cp->stage == CP_IDLE) {
		if ((err = choose_limit(l, &cp->limit)) < 0 || !cp->limit)
			return err;
		cp->stage = CP_MOVING;
		cp->lastlen = 0;
	}
	if (cp->stage == CP_MOVING)
		return (err = move_step(l, budget ? budget : 1, moved)) < 0 ? err : 1;
	op.limit = cp->limit;
	if ((err = vs__lmdb_run_write(l, &op)) < 0)
		return err;
	*freed += cp->dropped;
	if (cp->drop_more)
		return 1;
	cp->stage = CP_IDLE;
	return 0;
}
