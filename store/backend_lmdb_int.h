/* SPDX-License-Identifier: MIT */
/*
 * What backend_lmdb.c (layout, batches, the ops) shares with
 * backend_lmdb_env.c (the environment, its registry and txns): the structs of
 * an environment and a handle, the batch's write ops, and the calls between.
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

/* mkdir -p @path. */
int vs__lmdb_dir_create(const char *path);

#endif
