/* SPDX-License-Identifier: MIT */
/*
 * Garbage collection in the LMDB backend: deleting objects, listing them in
 * steps, and compacting the log. Deleting an object removes its index entry;
 * its record stays in the log, and its size is added to the "free" database
 * (dead bytes per log segment of SEG_CHUNKS chunks). Compaction picks the
 * stretches of the log, anywhere but its last segment, that are more dead
 * than live (up to CP_MAX_RANGES of them: retention kills the oldest
 * records, but each collection also leaves a burst of short-lived ones in
 * the middle: records it moved or stored again whole), moves the live
 * records in them to the log's end (updating their index entries) and then
 * deletes their chunks, so LMDB frees their pages and reuses them for new
 * chunks: the file stops growing once history is trimmed. A live record
 * that starts before a stretch and runs into it moves too. Every step is one
 * write txn, so a crash leaves either the old or the new place of a record
 * indexed; moving a record counts its old copy as dead, so the tallies stay
 * exact across crashes (but for records straddling a stretch's ends).
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

/* Move the record of op->id to the log's end if it starts in [op->lo,
 * op->limit), or with op->straddle, if it starts below op->limit and ends
 * past it. */
int vs__lmdb_apply_move(struct lmdb_backend *l, const struct lmdb_op *op)
{
	struct vs_buf rec = VS_BUF_INIT;
	unsigned int type; /* a delta moves as it is: its base is named by id */
	uint64_t off;
	int err;

	if ((err = vs__lmdb_tail_flush(l)) < 0)
		return err;
	if ((err = vs__lmdb_index_find(l, l->wtxn, &op->id, &off)) <= 0 || off >= op->limit ||
	    (!op->straddle && off < op->lo))
		return err < 0 ? err : 0;
	if ((err = vs__lmdb_rec_read(l, l->wtxn, &op->id, off, &type, &rec)) == 0 &&
	    (!op->straddle || off + rec_size(rec.size) > op->limit))
		err = vs__lmdb_rec_rewrite(l, &op->id, off, rec.size, type, rec.ptr, rec.size);
	vs_buf_release(&rec);
	return err;
}

/* Delete the free-space tallies of the segments in [@lo, @limit). */
static int tallies_drop(struct lmdb_backend *l, uint64_t lo, uint64_t limit)
{
	size_t seg = (size_t)(lo / seg_bytes(l->e)), below = (size_t)(limit / seg_bytes(l->e));
	MDB_val k = { sizeof(seg), &seg }, v;
	MDB_cursor *c;
	int rc;

	if (!l->e->has_free)
		return 0;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->free, &c)))
		return vs__lmdb_err(rc, "open free space cursor", l->e->path);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc && k.mv_size == sizeof(seg);
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) { /* after a delete: its successor */
		memcpy(&seg, k.mv_data, sizeof(seg));
		if (seg >= below || (rc = mdb_cursor_del(c, 0)))
			break;
	}
	mdb_cursor_close(c);
	return rc && rc != MDB_NOTFOUND ? vs__lmdb_err(rc, "drop free space", l->e->path) : 0;
}

/* Delete up to op->len log chunks in [op->lo, op->limit); then their tallies. */
int vs__lmdb_apply_drop(struct lmdb_backend *l, const struct lmdb_op *op)
{
	size_t below = (size_t)(op->limit / l->e->chunk), no = (size_t)(op->lo / l->e->chunk);
	size_t n = 0;
	MDB_val k = { sizeof(no), &no }, v;
	MDB_cursor *c;
	int rc;

	l->compact.dropped = 0; /* a replay after growing the map counts afresh */
	l->compact.drop_more = false;
	if ((rc = vs__lmdb_tail_flush(l)) < 0)
		return rc;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->log, &c)))
		return vs__lmdb_err(rc, "open log cursor", l->e->path);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc && k.mv_size == sizeof(no);
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) { /* after a delete: its successor */
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
	return l->compact.drop_more ? 0 : tallies_drop(l, op->lo, op->limit);
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

/* Whether log chunk @no or a later one below @below exists (cursor @c on log). */
static int chunks_in(MDB_cursor *c, size_t no, size_t below, bool *any)
{
	MDB_val k = { sizeof(no), &no }, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);

	*any = false;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (!rc && k.mv_size == sizeof(no)) {
		memcpy(&no, k.mv_data, sizeof(no));
		*any = no < below;
	}
	return rc;
}

/*
 * The stretches a pass should clear: the log's segments below its last one
 * each weigh what clearing it gains, its dead bytes less the live ones that
 * must be copied (a segment already gone weighs nothing), and a stretch runs
 * from a segment more dead than live for as long as the sum stays positive,
 * ending where it was highest (so a mostly dead segment is worth crossing a
 * live one). A pass is worth its scan of the whole index when the stretches
 * gain a segment and 1/GAIN_DIV of the log; else no stretch (nranges 0).
 */
static int choose_ranges(struct lmdb_backend *l, struct lmdb_compact *cp)
{
	uint64_t sb = seg_bytes(l->e), total = 0;
	size_t first, last, end, nseg, seg, hi;
	int64_t *gain = NULL, sum, best;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	MDB_txn *txn;
	int rc, err;

	cp->nranges = 0;
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
	first /= SEG_CHUNKS;
	end = last / SEG_CHUNKS; /* the last segment is still filling */
	if (end <= first)
		goto out;
	nseg = end - first;
	if (!(gain = vs__calloc(nseg, sizeof(*gain)))) {
		err = vs__enomem();
		goto out;
	}
	for (seg = 0; seg < nseg && !rc; seg++) {
		bool any;
		rc = chunks_in(c, (first + seg) * SEG_CHUNKS, (first + seg + 1) * SEG_CHUNKS, &any);
		gain[seg] = any ? -(int64_t)sb : 0;
		total += any ? sb : 0;
	}
	mdb_cursor_close(c);
	c = NULL;
	if (rc || (rc = mdb_cursor_open(txn, l->e->free, &c)))
		goto out;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t d;
		if (k.mv_size != sizeof(seg) || v.mv_size != sizeof(d))
			continue;
		memcpy(&seg, k.mv_data, sizeof(seg));
		memcpy(&d, v.mv_data, sizeof(d));
		if (seg >= end)
			break;
		if (seg >= first && gain[seg - first] && d <= INT64_MAX / 4)
			gain[seg - first] += 2 * (int64_t)d; /* dead bytes, less the live ones */
	}
	best = 0;
	for (seg = 0; seg < nseg && cp->nranges < CP_MAX_RANGES;) {
		if (gain[seg] <= 0) {
			seg++;
			continue;
		}
		int64_t top = 0;
		for (sum = 0, hi = seg; hi < nseg && sum + gain[hi] > 0; hi++) {
			sum += gain[hi];
			if (sum > top) {
				top = sum;
				cp->ranges[cp->nranges] = (struct lmdb_range){
					.lo = (first + seg) * sb, .hi = (first + hi + 1) * sb
				};
			}
		}
		best += top;
		seg = (size_t)(cp->ranges[cp->nranges++].hi / sb - first);
	}
	if ((uint64_t)best < sb || (uint64_t)best < total / GAIN_DIV)
		cp->nranges = 0;
out:
	vs_free(gain);
	if (c)
		mdb_cursor_close(c);
	vs__lmdb_rtxn_end(l, txn);
	if (rc && rc != MDB_NOTFOUND)
		return vs__lmdb_err(rc, "read free space", l->e->path);
	return err < 0 ? err : 0;
}

struct move_ctx {
	struct lmdb_compact *cp;
	struct lmdb_op *ops;
	size_t n, max, scanned;
	struct vs_oid last;
};

/* The first of cp's stretches that ends past @off (nranges: none). */
static size_t range_at(const struct lmdb_compact *cp, uint64_t off)
{
	size_t lo = 0, hi = cp->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp->ranges[mid].hi <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int move_pick(void *ctx, const struct vs_oid *id, uint64_t off)
{
	struct move_ctx *m = ctx;
	size_t r = range_at(m->cp, off);
	struct lmdb_range *rg = &m->cp->ranges[r];

	m->last = *id;
	m->scanned++;
	if (r == m->cp->nranges)
		return 0;
	if (off >= rg->lo) {
		m->ops[m->n++] = (struct lmdb_op){ .kind = OP_MOVE, .id = *id, .lo = rg->lo,
						   .limit = rg->hi };
	} else if (!rg->before.type || off > rg->before_off) {
		rg->before = *id; /* the live record that may run into the stretch */
		rg->before_off = off;
	}
	return m->n == m->max ? 1 : 0;
}

/* Scan the next stretch of the index and move what lies in a stretch of the
 * log; once the scan is through, move what runs into one from below. */
static int move_step(struct lmdb_backend *l, size_t budget, size_t *moved)
{
	struct lmdb_compact *cp = &l->compact;
	struct move_ctx m = { .cp = cp, .max = budget };
	struct vs_oid after;
	bool end;
	int err;

	/* Room for the picks and a record running into each stretch. */
	if (!(m.ops = vs__malloc((budget + CP_MAX_RANGES) * sizeof(*m.ops))))
		return vs__enomem();
	if (cp->lastlen)
		vs_oid_fromraw(&after, cp->lastlen == 20 ? VS_OID_SHA1 : VS_OID_SHA256, cp->last);
	err = scan(l, cp->lastlen ? &after : NULL, budget * SCAN_PER_MOVE, move_pick, &m, &end);
	for (size_t r = 0; err >= 0 && end && r < cp->nranges; r++) {
		if (cp->ranges[r].before.type)
			m.ops[m.n++] = (struct lmdb_op){ .kind = OP_MOVE, .straddle = true,
							 .id = cp->ranges[r].before,
							 .limit = cp->ranges[r].lo };
	}
	if (err < 0 || !m.n || (err = l->base.ops->batch_begin(&l->base)) < 0)
		goto out;
	for (size_t i = 0; i < m.n && err >= 0; i++)
		err = vs__lmdb_run_write(l, &m.ops[i]);
	if (err < 0)
		l->base.ops->batch_abort(&l->base);
	else if ((err = l->base.ops->batch_commit(&l->base)) >= 0)
		*moved += m.n;
out:
	if (err >= 0 && m.scanned) {
		cp->lastlen = vs_oid_size(m.last.type);
		memcpy(cp->last, m.last.id, cp->lastlen);
	}
	if (err >= 0 && end) {
		cp->stage = CP_DROPPING;
		cp->drop_at = 0;
	}
	vs_free(m.ops);
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
		if ((err = choose_ranges(l, cp)) < 0 || !cp->nranges)
			return err;
		cp->stage = CP_MOVING;
		cp->lastlen = 0;
	}
	if (cp->stage == CP_MOVING)
		return (err = move_step(l, budget ? budget : 1, moved)) < 0 ? err : 1;
	op.lo = cp->ranges[cp->drop_at].lo;
	op.limit = cp->ranges[cp->drop_at].hi;
	if ((err = vs__lmdb_run_write(l, &op)) < 0)
		return err;
	*freed += cp->dropped;
	if (cp->drop_more || ++cp->drop_at < cp->nranges)
		return 1;
	cp->stage = CP_IDLE;
	return 0;
}
