/* SPDX-License-Identifier: MIT */
/*
 * A negative cache in front of the LMDB index: a Bloom filter of every id
 * the index holds, so that writing a new object (nearly every write) skips
 * the index lookup that deduplicates it. Only "definitely absent" is
 * trusted; "maybe" falls back to the lookup, so a stale or partial filter
 * costs lookups, never correctness, as long as it holds every id indexed.
 *
 * It belongs to the env (all handles of this process write through it) and
 * is touched only inside a write txn, so LMDB's writer lock serializes it;
 * e->wlock guards the txn id it is current for, which is also set after
 * the commit released that lock. Ids enter it when indexed; deletions leave
 * them in (false positives). Another process's commit is seen as a gap in
 * txn ids: the filter is then rebuilt from the index, at most once per
 * REBUILD_DIV-th of its size in writes of ours, with plain lookups meanwhile.
 *
 * Ids are uniform hashes, so their bytes serve as the hash: bytes 0-3 pick
 * a 512-bit block (one cache line), bytes 8-19 the K bits set in it.
 * Sized at BITS_PER_ID bits per id for twice the ids present, it is rebuilt
 * twice as large once full (a false positive rate near 0.1% then): 2 to 4
 * bytes of memory per stored object.
 */
#include "backend_lmdb_int.h"

#define BITS_PER_ID 16
#define MIN_IDS ((size_t)1 << 14) /* fewer: no filter */
#define BLOCK_WORDS 8 /* 512 bits */
#define K 8
#define REBUILD_DIV 8

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* The block of @id: 32 bits of it scaled to nblocks (no power of two needed). */
static uint64_t *block_of(const struct lmdb_filter *f, const unsigned char *id)
{
	uint64_t h = (uint32_t)load64(id);
	return f->bits + (size_t)((h * f->nblocks) >> 32) * BLOCK_WORDS;
}

/* Bit @i (0 <= i < K) of @id within its block: 9 bits each. */
static unsigned int bit_of(const unsigned char *id, unsigned int i)
{
	uint64_t h = i < 7 ? load64(id + 8) >> (9 * i) : load64(id + 12) >> 55;
	return (unsigned int)(h & 511);
}

static void add_raw(struct lmdb_filter *f, const unsigned char *id)
{
	uint64_t *b = block_of(f, id);
	for (unsigned int i = 0; i < K; i++) {
		unsigned int bit = bit_of(id, i);
		b[bit / 64] |= (uint64_t)1 << (bit % 64);
	}
}

/* Set the bits of @id; true when they were all set already ("maybe"). */
static bool test_and_add(struct lmdb_filter *f, const unsigned char *id)
{
	uint64_t *b = block_of(f, id);
	bool all = true;
	for (unsigned int i = 0; i < K; i++) {
		unsigned int bit = bit_of(id, i);
		uint64_t m = (uint64_t)1 << (bit % 64);
		all = all && (b[bit / 64] & m);
		b[bit / 64] |= m;
	}
	return all;
}

/* Ids in the index as the write txn sees it, per id length. */
static int index_count(struct lmdb_backend *l, MDB_cursor *c, size_t *n)
{
	static const unsigned char lens[] = { 20, 32 };
	int rc;

	*n = 0;
	for (size_t i = 0; i < sizeof(lens); i++) {
		MDB_val k = { 1, (void *)&lens[i] }, v;
		size_t cnt;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET)) == MDB_NOTFOUND)
			continue;
		if (rc || (rc = mdb_cursor_count(c, &cnt)))
			return vs__lmdb_err(rc, "count index entries", l->e->path);
		*n += cnt;
	}
	return 0;
}

/* Add every id of the index to @f, a page of entries at a time. */
static int index_scan(struct lmdb_backend *l, MDB_cursor *c, struct lmdb_filter *f)
{
	static const unsigned char lens[] = { 20, 32 };
	int rc;

	for (size_t i = 0; i < sizeof(lens); i++) {
		size_t ent = lens[i] + OFFSZ;
		MDB_val k = { 1, (void *)&lens[i] }, v;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET)) == MDB_NOTFOUND)
			continue;
		if (!rc)
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE);
		for (; !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE)) {
			if (v.mv_size % ent)
				return vs_error_set(VS_ECORRUPT, "index of %s: malformed entries",
						    l->e->path);
			for (size_t off = 0; off < v.mv_size; off += ent)
				add_raw(f, (const unsigned char *)v.mv_data + off);
		}
		if (rc != MDB_NOTFOUND)
			return vs__lmdb_err(rc, "scan index", l->e->path);
	}
	return 0;
}

/* Writes a rebuild of a filter of @ids must wait for, less @since done:
 * then the scan costs less than the lookups the filter saves. */
static size_t backoff_for(size_t ids, size_t since)
{
	return since < ids / REBUILD_DIV ? ids / REBUILD_DIV - since : 0;
}

static void filter_set(struct lmdb_env *e, const struct lmdb_filter *nf)
{
	pthread_mutex_lock(&e->wlock);
	vs_free(e->filter.bits);
	e->filter = *nf;
	pthread_mutex_unlock(&e->wlock);
}

/*
 * (Re)build the filter from the index in the write txn: 0, or 1 when it is
 * not worth it yet (a small index is a few cached pages; a large one is
 * first scanned after backoff_for() writes of ours), or an error.
 */
static int rebuild(struct lmdb_backend *l)
{
	struct lmdb_filter *f = &l->e->filter, nf = { .state = FILTER_STALE };
	MDB_cursor *c;
	size_t n = 0, cap;
	int rc, err;

	if ((rc = mdb_cursor_open(l->wtxn, l->e->index, &c)))
		return vs__lmdb_err(rc, "open index cursor", l->e->path);
	if ((err = index_count(l, c, &n)) < 0)
		goto out;
	if (n < MIN_IDS || f->state == FILTER_NONE) {
		nf.backoff = n < MIN_IDS ? MIN_IDS - n : backoff_for(n, 0);
		nf.ids = n;
		if (nf.backoff) {
			filter_set(l->e, &nf);
			err = 1;
			goto out;
		}
	}
	cap = 2 * n;
	nf.nblocks = cap / (64 * BLOCK_WORDS / BITS_PER_ID) + 1;
	if (nf.nblocks > UINT32_MAX) {
		err = vs__enomem();
		goto out;
	}
	if (!(nf.bits = vs__calloc(nf.nblocks * BLOCK_WORDS, sizeof(uint64_t)))) {
		err = vs__enomem();
		goto out;
	}
	if ((err = index_scan(l, c, &nf)) < 0)
		goto out;
	nf.ids = n;
	nf.cap = cap;
	nf.state = FILTER_CURRENT;
	/* It holds what was committed before this txn, and this txn's ids. */
	nf.txnid = mdb_txn_id(l->wtxn) - 1;
	filter_set(l->e, &nf);
	nf.bits = NULL;
out:
	vs_free(nf.bits);
	mdb_cursor_close(c);
	return err;
}

bool vs__lmdb_filter_absent(struct lmdb_backend *l, const struct vs_oid *id)
{
	struct lmdb_filter *f = &l->e->filter;
	int err;

	assert(l->wtxn);
	if (vs_oid_size(id->type) < 20)
		return false;
	if (f->state != FILTER_CURRENT || f->ids > f->cap) {
		if (f->backoff) {
			f->backoff--;
			return false;
		}
		if ((err = rebuild(l)) != 0) {
			if (err < 0) /* no memory, or a bad index: the lookups tell */
				f->backoff = backoff_for(f->ids > MIN_IDS ? f->ids : MIN_IDS, 0);
			return false;
		}
	}
	/* The id goes in now (its write may still fail: a false positive). */
	if (test_and_add(f, id->id))
		return false;
	f->ids++;
	f->since++;
	return true;
}

void vs__lmdb_filter_add(struct lmdb_backend *l, const struct vs_oid *id)
{
	struct lmdb_filter *f = &l->e->filter;

	if (!f->bits || vs_oid_size(id->type) < 20)
		return;
	add_raw(f, id->id);
	f->ids++;
	f->since++;
}

void vs__lmdb_filter_txn_begin(struct lmdb_env *e, MDB_txn *wtxn)
{
	struct lmdb_filter *f = &e->filter;

	pthread_mutex_lock(&e->wlock);
	if (f->state == FILTER_CURRENT && f->txnid + 1 != mdb_txn_id(wtxn)) {
		f->state = FILTER_STALE; /* another process committed since */
		f->backoff = backoff_for(f->ids, f->since);
	}
	pthread_mutex_unlock(&e->wlock);
}

void vs__lmdb_filter_txn_committed(struct lmdb_env *e, size_t txnid)
{
	pthread_mutex_lock(&e->wlock);
	if (e->filter.state == FILTER_CURRENT)
		e->filter.txnid = txnid;
	pthread_mutex_unlock(&e->wlock);
}

void vs__lmdb_filter_free(struct lmdb_env *e)
{
	vs_free(e->filter.bits);
	memset(&e->filter, 0, sizeof(e->filter));
}
