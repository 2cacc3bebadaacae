/* SPDX-License-Identifier: MIT */
/*
 * What backend_lmdb.c (layout, batches, the ops) shares with
 * backend_lmdb_env.c (the environment, its registry and txns), _log.c (the
 * records), _gc.c (deletion, compaction) and _filter.c (the index's negative
 * cache): the structs of an environment and a handle, the batch's write ops,
 * and the calls between.
 */
#ifndef VSTORE_BACKEND_LMDB_INT_H
#define VSTORE_BACKEND_LMDB_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <sys/types.h>

#include "store_int.h"

#define LMDB_MAPSIZE_DEFAULT ((size_t)64 << 20)
#define OFFSZ 6   /* bytes of a log offset in an index entry */
#define HDRMAX 11 /* type byte + LEB128 of a 64-bit length */
#define FOREACH_STEP 1024
/* A record's type byte: the object's type, with REC_DELTA when its content
 * is a difference from a base object (backend_lmdb_delta.c). */
#define REC_DELTA 0x40

/* The log stores the type byte as git numbers it: keep the enum pinned. */
static_assert(VS_OBJ_COMMIT == 1 && VS_OBJ_TREE == 2 && VS_OBJ_BLOB == 3 && VS_OBJ_TAG == 4,
	      "enum vs_otype is stored on disk");

/* backend_lmdb_filter.c: the index's negative cache (a Bloom filter). */
enum lmdb_filter_state {
	FILTER_NONE,    /* never built: the first write decides when to */
	FILTER_CURRENT, /* holds every id committed up to txnid, and more */
	FILTER_STALE,   /* another process may have indexed ids it lacks */
};

struct lmdb_filter {
	uint64_t *bits;      /* nblocks blocks of 512 bits; NULL until built */
	size_t nblocks;      /* below 2^32 */
	size_t ids, cap;     /* ids it holds (counting repeats); rebuilt larger past cap */
	size_t since;        /* ids added since it was built */
	size_t backoff;      /* object writes before a rebuild may run */
	size_t txnid;        /* last txn whose ids it holds, when current */
	enum lmdb_filter_state state;
};

/* One open environment, shared by the handles of a directory in this process. */
struct lmdb_env {
	struct lmdb_env *next;
	char *path;               /* realpath of the directory */
	pid_t pid;                /* opener; a forked child must never touch env */
	unsigned int nrefs;       /* handles using it (registry lock) */
	MDB_env *env;
	MDB_dbi log, index, refs, config;
	MDB_dbi free;             /* bytes of dead records per log segment; 0 if absent */
	bool has_free;            /* free is open (a read-only env of an old store may lack it) */
	MDB_dbi idmap;            /* raw id -> raw id in the other format (conversions) */
	bool has_idmap;           /* idmap is open (as has_free) */
	bool rdonly;
	bool nosync;              /* opened with MDB_NOSYNC, still in force */
	size_t psize, chunk;      /* page size, log chunk size */
	/* Shared by every live txn of this process, exclusive to remap. glibc's
	 * default prefers readers, so a thread holding a batch may read through
	 * another handle (a recursive read lock) while a remap waits. */
	pthread_rwlock_t maplock;
	pthread_mutex_t wlock;    /* guards the next three; taken after LMDB's */
	pthread_t writer;         /* thread holding a write txn */
	bool has_writer;
	unsigned int wtxns_unchecked; /* write txns begun since the last dead-reader check */
	struct lmdb_filter filter; /* see backend_lmdb_filter.c */
	struct lmdb_recent *recent; /* see backend_lmdb_delta.c; NULL until a delta is tried */
};

/* Log segments, the unit compaction reclaims: SEG_CHUNKS chunks each. */
#define SEG_CHUNKS 32

enum op_kind { OP_OBJ, OP_CAS, OP_DEL, OP_CONFIG, OP_ODEL, OP_MOVE, OP_DROP, OP_IDMAP };

/* One write; the batch keeps copies to replay after growing the map. */
struct lmdb_op {
	enum op_kind kind;
	enum vs_otype type;     /* OP_OBJ */
	struct vs_oid id;       /* OP_OBJ: the object; OP_CAS: the target; OP_IDMAP: the key */
	struct vs_oid expected; /* OP_CAS, OP_DEL; type 0 when none */
	struct vs_oid base;     /* OP_OBJ: what it may be stored as a difference from, or type 0 */
	bool based;             /* OP_OBJ: from obj_write_based (a stored delta is redone) */
	const char *name;       /* ref name or setting */
	const void *data;       /* object content, setting value; OP_IDMAP: the raw id mapped to */
	size_t len;             /* bytes at data; OP_DROP: most chunks to delete */
	uint64_t lo, limit;     /* OP_MOVE, OP_DROP: the log stretch [lo, limit) to clear */
	bool straddle;          /* OP_MOVE: move it if it starts below limit and ends past it */
};

/* A write kept for replay: its data and name live in the batch's opdata. */
struct lmdb_logged {
	struct lmdb_op op; /* data and name NULL here */
	size_t data_at;    /* offset of op.len bytes of data */
	size_t name_at;    /* offset of the NUL-terminated name, if has_name */
	bool has_name;
};

/* Most stretches of the log one compaction pass clears. */
#define CP_MAX_RANGES 64

/* A stretch of the log a pass clears: segment boundaries lo < hi. The live
 * record that starts last below lo (found by the scan) may run into it. */
struct lmdb_range {
	uint64_t lo, hi;
	struct vs_oid before; /* type 0: no live record below lo seen yet */
	uint64_t before_off;
};

/* A compaction pass: the live records in its stretches move to the log's
 * end, then the chunks of the stretches go. Kept in memory: after a restart
 * a new pass starts. */
struct lmdb_compact {
	enum { CP_IDLE, CP_MOVING, CP_DROPPING } stage;
	struct lmdb_range ranges[CP_MAX_RANGES]; /* in log order, disjoint */
	size_t nranges, drop_at;                 /* drop_at: the stretch OP_DROP clears */
	unsigned char last[VS_OID_MAXSZ + OFFSZ]; /* index entry the scan reached */
	size_t lastlen;                       /* 0: from the first entry */
	uint64_t dropped;                     /* OP_DROP: bytes of the chunks it deleted */
	bool drop_more;                       /* OP_DROP: chunks of the stretch remain */
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
	struct lmdb_logged *ops; /* the batch's writes, oldest first */
	size_t nops, aops;
	struct vs_buf opdata; /* their bytes */
	struct vs_buf tail;   /* the last log chunk, loaded lazily in wtxn */
	size_t tail_no;
	bool tail_loaded, tail_fresh; /* fresh: tail_no not yet in the log */
	bool tail_dirty;      /* tail holds bytes the log does not yet have */
	struct lmdb_compact compact;
	struct lmdb_recent *read; /* trees this handle read (backend_lmdb_delta.c) */
	struct vs_oid last_read;  /* the object obj_read returned last (type 0: none) */
	struct vs_oid last_base;  /* its base, or type 0; both reset by any write */
};

/* The one place LMDB (and errno) codes become VS_E* codes; sets the message. */
int vs__lmdb_err(int rc, const char *what, const char *path);

/* The env of directory @real, shared with this process's other handles; an
 * open read-only env refuses a writer (VS_EBUSY). vs__lmdb_env_release drops
 * the reference, closing the env with the last one. */
int vs__lmdb_env_acquire(struct lmdb_env **out, const char *real,
			 const struct vs_repo_opts *opts);
void vs__lmdb_env_release(struct lmdb_env *e);

/* Grow the map of @e past @seen (0: adopt another process's size). */
int vs__lmdb_map_resize(struct lmdb_env *e, size_t seen);

/* Outside a batch reads reuse one reset read-only txn, so each read sees the
 * latest commit of any process. Every vs__lmdb_rtxn_begin is paired with a
 * vs__lmdb_rtxn_end; vs__lmdb_rtxn_drop frees the txn for good. */
int vs__lmdb_rtxn_begin(struct lmdb_backend *l, bool committed, MDB_txn **out);
void vs__lmdb_rtxn_end(struct lmdb_backend *l, MDB_txn *txn);
void vs__lmdb_rtxn_drop(struct lmdb_backend *l);

/* The handle's write txn: VS_EBUSY when this thread already writes to the env. */
int vs__lmdb_wtxn_begin(struct lmdb_backend *l);
int vs__lmdb_wtxn_end(struct lmdb_backend *l, bool commit);

/* The sync op: force what was committed onto disk (mdb_env_sync). */
int vs__lmdb_sync(struct vs_backend *b);

/* mkdir -p @path. */
int vs__lmdb_dir_create(const char *path);

/* An index entry: @id's bytes, then @off in OFFSZ big-endian bytes. */
static inline void vs__lmdb_index_entry(unsigned char *ent, const struct vs_oid *id, uint64_t off)
{
	size_t n = vs_oid_size(id->type);
	memcpy(ent, id->id, n);
	for (size_t i = 0; i < OFFSZ; i++)
		ent[n + i] = (unsigned char)(off >> (8 * (OFFSZ - 1 - i)));
}

/* backend_lmdb.c and backend_lmdb_log.c, for the other files: the index
 * and log primitives. */
/* 1 with the log offset of @id in *off (l->wcur then points at its index
 * entry when @txn is the write txn), 0 when absent, or an error. */
int vs__lmdb_index_find(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
			uint64_t *off);
/* Read the record at @off: its type byte (REC_DELTA may be set) and content. */
int vs__lmdb_rec_read(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		      unsigned int *rtype, struct vs_buf *out);
/* Append a record at the log's end in the write txn; *off gets its offset.
 * The last, partial chunk stays in memory until vs__lmdb_tail_flush, which
 * the txn's commit calls first, as do reads reaching into it from an earlier
 * chunk (a record inside it is read from memory). */
int vs__lmdb_rec_append(struct lmdb_backend *l, unsigned int rtype, const void *data, size_t len,
			uint64_t *off);
int vs__lmdb_tail_flush(struct lmdb_backend *l);
/* backend_lmdb_delta.c: objects stored as differences from other objects. */
/* Load object @id whose record is at @off: its type and whole content. */
int vs__lmdb_obj_load(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id, uint64_t off,
		      enum vs_otype *type, struct vs_buf *out);
/* Append OP_OBJ @op's record: a delta from op->base when that saves at
 * least half the bytes, else the content whole. *off gets its offset. */
int vs__lmdb_obj_append(struct lmdb_backend *l, const struct lmdb_op *op, uint64_t *off);
/* OP_OBJ from obj_write_based, op->id stored: if it is a delta from
 * another base than op->base, store it again whole (1), else leave it (0). */
int vs__lmdb_apply_rebase(struct lmdb_backend *l, const struct lmdb_op *op);
/* Type and content size of stored object @id, its chain unread. */
int vs__lmdb_obj_stat(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		      enum vs_otype *type, uint64_t *size);
/* 1 with the base of stored object @id, 0 if stored whole, VS_ENOENT if absent. */
int vs__lmdb_obj_base(struct lmdb_backend *l, MDB_txn *txn, const struct vs_oid *id,
		      struct vs_oid *base);
/* Free what the environment's deltas keep (the recently written objects). */
void vs__lmdb_delta_free(struct lmdb_env *e);
/* Free what a handle keeps of the trees it read. */
void vs__lmdb_delta_free_reads(struct lmdb_backend *l);
/* Apply @op in the batch's txn (kept for replay), else in a txn of its own. */
int vs__lmdb_run_write(struct lmdb_backend *l, const struct lmdb_op *op);

/* backend_lmdb_filter.c. True when @id is certainly not in the index (then
 * the lookup can be skipped, and @id is recorded as indexed); builds the
 * filter when it is worth it. Only in the write txn. */
bool vs__lmdb_filter_absent(struct lmdb_backend *l, const struct vs_oid *id);
/* Record @id, just indexed in the write txn after filter_absent said no. */
void vs__lmdb_filter_add(struct lmdb_backend *l, const struct vs_oid *id);
/* A write txn began (detects other processes' commits), or @txnid committed. */
void vs__lmdb_filter_txn_begin(struct lmdb_env *e, MDB_txn *wtxn);
void vs__lmdb_filter_txn_committed(struct lmdb_env *e, size_t txnid);
void vs__lmdb_filter_free(struct lmdb_env *e);

/* backend_lmdb_gc.c: deleting, listing and compaction (the "free" database). */
int vs__lmdb_apply_odel(struct lmdb_backend *l, const struct lmdb_op *op);
int vs__lmdb_apply_move(struct lmdb_backend *l, const struct lmdb_op *op);
/* Replace the record of @id (at @off, @oldlen content bytes; l->wcur on its
 * index entry, nothing written to the log since the lookup) by a record at
 * the log's end; the old one counts as dead. */
int vs__lmdb_rec_rewrite(struct lmdb_backend *l, const struct vs_oid *id, uint64_t off,
			 size_t oldlen, unsigned int rtype, const void *data, size_t len);
int vs__lmdb_apply_drop(struct lmdb_backend *l, const struct lmdb_op *op);
int vs__lmdb_obj_delete(struct vs_backend *b, const struct vs_oid *id);
int vs__lmdb_obj_list(struct vs_backend *b, const struct vs_oid *after, struct vs_oid *out,
		      size_t max, size_t *n);
int vs__lmdb_compact_step(struct vs_backend *b, size_t budget, uint64_t *freed, size_t *moved);
/* The handle behind @b (asserts it is an LMDB one). */
struct lmdb_backend *vs__lmdb_from(struct vs_backend *b);

#endif
