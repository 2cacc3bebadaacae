/* SPDX-License-Identifier: MIT */
/*
 * The LMDB environment of a store directory: opening it, growing its map,
 * the read and write txns every backend call runs in, and LMDB's error codes.
 * LMDB forbids opening one environment twice in a process, so envs are
 * shared through a registry keyed by real path: the only global state here.
 * An env's flags are its first opener's, except that NOSYNC is dropped as
 * soon as a writer that did not ask for it shares the env.
 */
#include "backend_lmdb_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *registry;

/* The one place LMDB (and errno) codes become VS_E* codes. */
int vs__lmdb_err(int rc, const char *what, const char *path)
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

/* Remap @e: to 2x @seen unless someone already grew it, or (seen 0) to the
 * size another process set. No txn of this process may be live meanwhile. */
int vs__lmdb_map_resize(struct lmdb_env *e, size_t seen)
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
	return rc ? vs__lmdb_err(rc, "resize map", e->path) : 0;
}

void vs__lmdb_rtxn_drop(struct lmdb_backend *l)
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
int vs__lmdb_rtxn_begin(struct lmdb_backend *l, bool committed, MDB_txn **out)
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
		vs__lmdb_rtxn_drop(l);
		pthread_rwlock_unlock(&e->maplock);
		if (rc != MDB_MAP_RESIZED) /* another process grew the map */
			return vs__lmdb_err(rc, "begin read", e->path);
		if ((err = vs__lmdb_map_resize(e, 0)) < 0)
			return err;
	}
	l->rcur_stale = true;
	*out = l->rtxn;
	return 0;
}

void vs__lmdb_rtxn_end(struct lmdb_backend *l, MDB_txn *txn)
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

/*
 * A process killed inside a read txn leaves its reader slot behind, and the
 * snapshot the slot names keeps every page freed since from being reused:
 * the file grows as if the reader were still reading. LMDB clears such slots
 * only when asked (mdb_reader_check), so a writer asks every
 * READER_CHECK_TXNS write txns: a dead reader then pins at most that many
 * txns' worth of freed pages. A check costs a scan of the reader table.
 */
#define READER_CHECK_TXNS 64

/* Begin the write txn, first growing a map that is 3/4 full. */
int vs__lmdb_wtxn_begin(struct lmdb_backend *l)
{
	struct lmdb_env *e = l->e;
	MDB_envinfo info;
	int rc, err, dead;

	/* LMDB's writer lock is not recursive: refuse rather than deadlock. */
	pthread_mutex_lock(&e->wlock);
	bool self = e->has_writer && pthread_equal(e->writer, pthread_self());
	bool check = !self && ++e->wtxns_unchecked >= READER_CHECK_TXNS;
	if (check)
		e->wtxns_unchecked = 0;
	pthread_mutex_unlock(&e->wlock);
	if (self)
		return vs_error_set(VS_EBUSY, "another handle on %s is writing in this thread",
				    e->path);
	if (check)
		mdb_reader_check(e->env, &dead);
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
			return vs__lmdb_err(rc, "begin write", e->path);
		/* Growing early is best effort; MAP_FULL still grows on demand. */
		if ((err = vs__lmdb_map_resize(e, rc ? 0 : info.me_mapsize)) < 0 && rc)
			return err;
		grown = !rc;
	}
	writer_set(e, true);
	vs__lmdb_filter_txn_begin(e, l->wtxn);
	l->wmapsize = info.me_mapsize;
	l->tail_loaded = false;
	l->tail_dirty = false;
	return 0;
}

/* Commit or abort the write txn; either way it is gone afterwards. */
int vs__lmdb_wtxn_end(struct lmdb_backend *l, bool commit)
{
	size_t txnid;
	int rc = 0, err = 0;

	if (!l->wtxn)
		return 0;
	/* The log's last chunk is written once per txn, not per record. */
	if (commit && (err = vs__lmdb_tail_flush(l)) < 0)
		commit = false;
	txnid = mdb_txn_id(l->wtxn);
	if (commit && !(rc = mdb_txn_commit(l->wtxn)))
		vs__lmdb_filter_txn_committed(l->e, txnid);
	else if (!commit)
		mdb_txn_abort(l->wtxn);
	l->wtxn = NULL;
	l->wcur = NULL;
	l->tail_dirty = false;
	writer_set(l->e, false);
	pthread_rwlock_unlock(&l->e->maplock);
	if (err < 0)
		return err;
	return rc ? vs__lmdb_err(rc, "commit", l->e->path) : 0;
}

/* Flush the data file: what commits made with MDB_NOSYNC left in the page cache. */
int vs__lmdb_sync(struct vs_backend *b)
{
	struct lmdb_env *e = vs__lmdb_from(b)->e;
	int rc;

	if (e->rdonly)
		return 0;
	if ((rc = mdb_env_sync(e->env, 1)))
		return vs_error_set(VS_EIO, "lmdb sync of %s: %s", e->path, mdb_strerror(rc));
	return 0;
}

static void env_close(struct lmdb_env *e)
{
	vs__lmdb_filter_free(e);
	vs__lmdb_delta_free(e);
	if (e->env)
		mdb_env_close(e->env);
	pthread_rwlock_destroy(&e->maplock);
	pthread_mutex_destroy(&e->wlock);
	vs_free(e->path);
	vs_free(e);
}

void vs__lmdb_env_release(struct lmdb_env *e)
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
		return vs__lmdb_err(rc, "begin", e->path);
	if ((rc = mdb_dbi_open(txn, "log", create | MDB_INTEGERKEY, &e->log)) ||
	    (rc = mdb_dbi_open(txn, "index", create | MDB_DUPSORT | MDB_DUPFIXED, &e->index)) ||
	    (rc = mdb_dbi_open(txn, "refs", create, &e->refs)) ||
	    (rc = mdb_dbi_open(txn, "config", create, &e->config)))
		goto out;
	/* Stores made before compaction existed lack it until a writer opens them. */
	rc = mdb_dbi_open(txn, "free", create | MDB_INTEGERKEY, &e->free);
	if (rc && (rc != MDB_NOTFOUND || !e->rdonly))
		goto out;
	e->has_free = rc == 0;
	/* Likewise the id map of conversions (backend_lmdb.c). */
	rc = mdb_dbi_open(txn, "idmap", create, &e->idmap);
	if (rc && (rc != MDB_NOTFOUND || !e->rdonly))
		goto out;
	e->has_idmap = rc == 0;
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
		return vs__lmdb_err(rc, "open databases", e->path);
	}
	/* Even a read txn commits, so its database handles stay open. */
	return (rc = mdb_txn_commit(txn)) ? vs__lmdb_err(rc, "commit", e->path) : 0;
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
	e->nosync = !e->rdonly && opts && (opts->flags & VS_REPO_NOSYNC);
	/* Without VS_REPO_NOSYNC an acknowledged commit survives a power loss;
	 * with it (MDB_NOSYNC) commits still reach the OS, so they survive the
	 * process's death. NOSYNC also maps the file writable (MDB_WRITEMAP):
	 * pages are dirtied in place instead of in malloc'd copies written out
	 * at commit — 2.4x the daemon's create rate, and its anonymous memory
	 * stays flat. MDB_NOTLS: read txns belong to handles, not threads. */
	if ((rc = mdb_env_create(&e->env)) || (rc = mdb_env_set_maxdbs(e->env, 6)) ||
	    (rc = mdb_env_set_mapsize(e->env, mapsize)) ||
	    (rc = mdb_env_open(e->env, real,
			       MDB_NOTLS | (e->rdonly ? MDB_RDONLY : 0) |
				       (e->nosync ? MDB_NOSYNC | MDB_WRITEMAP : 0),
			       0644))) {
		err = vs__lmdb_err(rc, "open", real);
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
int vs__lmdb_env_acquire(struct lmdb_env **out, const char *real,
			 const struct vs_repo_opts *opts)
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
	/* A writer that did not ask for NOSYNC keeps its durability: syncing
	 * comes back on for every handle, for the rest of the env's life. */
	if (!err && e->nosync && !rdonly && !(opts && (opts->flags & VS_REPO_NOSYNC))) {
		mdb_env_set_flags(e->env, MDB_NOSYNC, 0);
		e->nosync = false;
	}
	pthread_mutex_unlock(&registry_lock);
	*out = err ? NULL : e;
	return err;
}

int vs__lmdb_dir_create(const char *path)
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
