/* SPDX-License-Identifier: MIT */
/*
 * The log of the LMDB backend: records (a type byte, a LEB128 length, the
 * content; the type byte has REC_DELTA set when the content is a difference
 * from another object, see backend_lmdb_delta.c) appended to a byte stream cut into chunks of the "log" database
 * (see backend_lmdb.c for the layout). In a write txn the last, partial
 * chunk is kept in memory (l->tail) and written to the log once, when the
 * txn commits or something reads the log first, rather than after every
 * record: a txn of many small records rewrote the chunk each time.
 */
#include "backend_lmdb_int.h"

#include <errno.h>

static int corrupt_rec(const char *path, const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "object %s in %s: %s", vs_oid_tostr(hex, id), path, why);
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
		return vs__lmdb_err(rc, "open log cursor", l->e->path);
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
	return !err && rc && rc != MDB_NOTFOUND ? vs__lmdb_err(rc, "read log", l->e->path) : err;
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

/*
 * Read the record at @off; usually it lies inside one chunk: one lookup. In
 * the write txn a record in the tail is read from memory, and the tail goes
 * to the log first only when a record reaches into it from an earlier chunk
 * (reading a delta's base must not cost a rewrite of the tail).
 */
int vs__lmdb_rec_read(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		      unsigned int *rtype, struct vs_buf *out)
{
	size_t no = (size_t)(off / l->e->chunk), in = (size_t)(off % l->e->chunk), avail = 0;
	MDB_val k = { sizeof(no), &no }, v = { 0, NULL };
	struct vs_buf hdr = VS_BUF_INIT;
	const unsigned char *p = NULL;
	bool wtxn = txn == l->wtxn;
	unsigned int t = 0, otype;
	uint64_t len;
	int rc, h, err;

	if (wtxn && l->tail_loaded && no == l->tail_no) {
		p = (const unsigned char *)l->tail.ptr + in;
		avail = l->tail.size > in ? l->tail.size - in : 0;
	} else if (!(rc = mdb_get(txn, l->e->log, &k, &v))) {
		p = (const unsigned char *)v.mv_data + in;
		avail = v.mv_size > in ? v.mv_size - in : 0;
	} else if (rc != MDB_NOTFOUND) {
		return vs__lmdb_err(rc, "read log", l->e->path);
	}
	if (!(h = hdr_parse(p, avail, &t, &len))) { /* it straddles two chunks */
		if ((!wtxn || (err = vs__lmdb_tail_flush(l)) == 0) &&
		    (err = log_read(l, txn, off, HDRMAX, &hdr)) == 0)
			h = hdr_parse((const unsigned char *)hdr.ptr, hdr.size, &t, &len);
		vs_buf_release(&hdr);
		if (err < 0)
			return err;
	}
	otype = t & ~(unsigned int)REC_DELTA;
	if (h <= 0 || otype < VS_OBJ_COMMIT || otype > VS_OBJ_TAG)
		return corrupt_rec(l->e->path, id, "no valid record header in the log");
	*rtype = t;
	if ((uint64_t)h + len <= avail)
		return vs_buf_set(out, p + h, (size_t)len);
	if (wtxn && (err = vs__lmdb_tail_flush(l)) < 0)
		return err;
	/* Grow with what is really there: a corrupt length must not allocate. */
	vs_buf_clear(out);
	if ((err = vs_buf_grow(out, len < (1 << 20) ? (size_t)len : 1 << 20)) < 0 ||
	    (err = log_read(l, txn, off + (uint64_t)h, (size_t)len, out)) < 0)
		return err;
	return out->size == len ? 0 : corrupt_rec(l->e->path, id, "record past the log's end");
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
	l->tail_dirty = false;
	if ((rc = mdb_cursor_open(l->wtxn, l->e->log, &c)))
		return vs__lmdb_err(rc, "open log cursor", l->e->path);
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
		return vs__lmdb_err(rc, "read the log's end", l->e->path);
	l->tail_loaded = true;
	return 0;
}

static int tail_put(struct lmdb_backend *l)
{
	MDB_val k = { sizeof(l->tail_no), &l->tail_no }, v = { l->tail.size, l->tail.ptr };
	/* MDB_APPEND splits at the end, so full pages stay full. */
	int rc = mdb_put(l->wtxn, l->e->log, &k, &v, l->tail_fresh ? MDB_APPEND : 0);
	if (rc) {
		l->tail_loaded = false; /* the tail in memory is ahead of the log */
		return vs__lmdb_err(rc, "append to log", l->e->path);
	}
	l->tail_fresh = false;
	l->tail_dirty = false;
	return 0;
}

int vs__lmdb_tail_flush(struct lmdb_backend *l)
{
	return l->tail_dirty ? tail_put(l) : 0;
}

/*
 * Append @n bytes to the log: full chunks go to the log at once, the last
 * partial one only when flushed (rewriting it for every record of a txn
 * cost more than the records themselves).
 */
static int log_append(struct lmdb_backend *l, const void *p, size_t n)
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
	l->tail_dirty = l->tail.size > 0;
	return 0;
}

int vs__lmdb_rec_append(struct lmdb_backend *l, unsigned int rtype, const void *data, size_t len,
			uint64_t *off)
{
	unsigned char hdr[HDRMAX];
	size_t h = 0, rest = len;
	int err;

	if ((err = tail_load(l)) < 0)
		return err;
	*off = (uint64_t)l->tail_no * l->e->chunk + l->tail.size;
	if (*off >> (8 * OFFSZ))
		return vs_error_set(VS_E2BIG, "log of %s is full", l->e->path);
	hdr[h++] = (unsigned char)rtype;
	do {
		hdr[h++] = (unsigned char)((rest & 0x7f) | (rest > 0x7f ? 0x80 : 0));
		rest >>= 7;
	} while (rest);
	if ((err = log_append(l, hdr, h)) < 0 || (err = log_append(l, data, len)) < 0)
		l->tail_loaded = false; /* the tail in memory may be ahead of the log */
	return err;
}
