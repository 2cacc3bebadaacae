/* SPDX-License-Identifier: MIT */
/*
 * libvstore internals shared across its files: allocation, argument checks,
 * checked backend dispatch, and the repo structure.
 */
#ifndef VSTORE_STORE_INT_H
#define VSTORE_STORE_INT_H

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vstore/vstore.h"
#include "vstore/sys/alloc.h"
#include "vstore/sys/backend.h"
#include "vstore/sys/format.h"
#include "oidmap.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* API misuse: set the message and return VS_EINVAL, never abort. */
#define VS_CHECK_ARG(x)                                                                   \
	do {                                                                              \
		if (!(x))                                                                 \
			return vs_error_set(VS_EINVAL, "%s: invalid argument '%s'", __func__, \
					    #x);                                          \
	} while (0)

/* An impossible state: abort loudly. */
#define VS_BUG(...)                                                                       \
	do {                                                                              \
		fprintf(stderr, "vstore BUG at %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                      \
		abort();                                                                  \
	} while (0)

/* alloc.c: every allocation goes through the hook. */
void *vs__malloc(size_t n);
void *vs__calloc(size_t nmemb, size_t n);
void *vs__realloc(void *p, size_t n);
char *vs__strdup(const char *s);
char *vs__strndup(const char *s, size_t n);
#define vs__free vs_free

/* error.c */
int vs__error_vset(int code, const char *fmt, va_list ap);
int vs__enomem(void);
/* Re-prefix the current message: "ctx: old message". Returns the code. */
int vs__error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* backend.c: checked dispatch with per-op counters. */
int vs__backend_check(struct vs_backend *b);
int vs__backend_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out);
int vs__backend_obj_exists(struct vs_backend *b, const struct vs_oid *id);
int vs__backend_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			  const void *data, size_t len);
/* obj_write, where the backend may store the object as a difference from
 * @base (NULL or type 0: none; while a collection runs, only a base it keeps). */
int vs__backend_obj_write_based(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
				const void *data, size_t len, const struct vs_oid *base);
/* 1 with the base stored object @id depends on, 0 when stored whole. */
int vs__backend_obj_base(struct vs_backend *b, const struct vs_oid *id, struct vs_oid *base);
/* Type and content size of stored @id (read whole into @scratch if the
 * backend cannot tell otherwise). */
int vs__backend_obj_stat(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 uint64_t *size, struct vs_buf *scratch);
/* obj_write, replacing a delta stored under @id by @data whole (the
 * collection, for what it keeps without its base; no barrier). */
int vs__backend_obj_store_whole(struct vs_backend *b, const struct vs_oid *id,
				enum vs_otype type, const void *data, size_t len);
int vs__backend_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload);
int vs__backend_obj_delete(struct vs_backend *b, const struct vs_oid *id);
int vs__backend_obj_list(struct vs_backend *b, const struct vs_oid *after, struct vs_oid *out,
			 size_t max, size_t *n);
int vs__backend_compact_step(struct vs_backend *b, size_t budget, uint64_t *freed,
			     size_t *moved);
int vs__backend_batch_begin(struct vs_backend *b);
int vs__backend_batch_commit(struct vs_backend *b);
void vs__backend_batch_abort(struct vs_backend *b);
int vs__backend_sync(struct vs_backend *b);
int vs__backend_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out);
int vs__backend_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
			const struct vs_oid *expected);
int vs__backend_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected);
int vs__backend_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload);
int vs__backend_idmap_get(struct vs_backend *b, const struct vs_oid *from, struct vs_oid *to);
int vs__backend_idmap_put(struct vs_backend *b, const struct vs_oid *from, const struct vs_oid *to);
int vs__backend_config_get(struct vs_backend *b, const char *key, struct vs_buf *out);
int vs__backend_config_set(struct vs_backend *b, const char *key, const char *value);
void vs__backend_free(struct vs_backend *b);
int vs__backend_open_uri(struct vs_backend **out, const char *uri, const struct vs_repo_opts *opts);

/* Parse a URI "scheme:rest" into its parts (rest borrowed from uri). */
int vs__uri_split(char *scheme, size_t n, const char **rest, const char *uri);

/* format_git.c, format_vs.c */
extern const struct vs_format vs__format_git;
extern const struct vs_format vs__format_vs;

/* Translate libgit2's last error into a VS_E* code with its message. */
int vs__git2_err(int rc, const char *what);
/* Initialise libgit2 once per process (thread-safe). */
int vs__git2_init(void);


/* cache.c: a bounded two-generation cache of refcounted objects by id. */
struct vs__cache {
	struct vs_oidmap gen[2];   /* gen[0] hot, gen[1] cold */
	size_t used;               /* cost held by the hot generation */
	size_t max;                /* budget of the hot generation */
	void (*release)(void *v);  /* drops the cache's reference */
	size_t (*cost)(void *v);   /* NULL: every entry costs 1 */
};

/* The value cached under @id (borrowed: take a reference before the next
 * cache call), or NULL. */
void *vs__cache_lookup(struct vs__cache *c, const struct vs_oid *id);
/* Add @value, taking over one reference (released at once if @id is
 * there already, or on failure). */
int vs__cache_insert(struct vs__cache *c, const struct vs_oid *id, void *value, size_t cost);
void vs__cache_dispose(struct vs__cache *c);

/*
 * tree_write.c: the trees written in the open write batch. Each is marked
 * pending (written, so later writes of the batch skip it) and becomes stored
 * only when the batch commits; an aborted batch clears the marks.
 */
struct vs__write_log {
	struct vs_tree **trees; /* a reference each */
	size_t n, cap;
	struct vs_oid last_commit; /* the last commit written in the batch; type 0: none */
};
/* The batch committed: mark everything logged as stored, cache the nodes of
 * the last tree written (the rest is rarely read again), empty the log. */
void vs__write_log_commit(struct vs__write_log *log);
/* The batch was dropped: clear the pending marks, empty the log. */
void vs__write_log_abort(struct vs__write_log *log);

/* A branch move made in the open batch, announced to watches once it commits. */
struct vs__note {
	char *branch;
	struct vs_oid old_head, new_head; /* type 0: none (creation, deletion) */
};

/*
 * The repo's write batch (repo.c). Every write operation runs between
 * vs__write_begin() and vs__write_end(): the outermost one opens the backend
 * batch and commits it, inner ones join. vs_repo_batch_begin() holds the
 * outermost level itself, so operations until vs_repo_batch_commit() join.
 */
struct vs__batch {
	unsigned int depth;       /* levels open; 0: no batch */
	bool user;                /* opened by vs_repo_batch_begin() */
	bool backend_open;        /* a backend batch is open (ref-only operations
				     outside a batch run without one) */
	int err;                  /* first failure inside: the batch will abort */
	char errmsg[256];         /* its message, for vs_repo_batch_commit() */
	struct vs__write_log log; /* trees written in the batch */
	struct vs__note *notes;   /* branch moves to announce after the commit */
	size_t nnotes, cap;
};

/* repo.c: the repository. */
struct vs_repo {
	struct vs_backend *backend;
	const struct vs_format *format;
	struct vs__cache trees;      /* loaded, stored trees by id */
	struct vs__cache values;     /* values read from the backend, by id (bytes) */
	struct vs__watches *watches; /* watch.c */
	struct vs_object_io io_read; /* reads from the backend */
	struct vs__batch batch;      /* the open write batch, if any */
};

/*
 * Start a write operation of @repo: join the open batch, else open a backend
 * batch (with @log non-NULL; a ref-only operation passes NULL and runs its
 * single backend call without one). *log receives the batch's write log.
 * Fails when the open batch already failed (its code). On success the
 * operation must end with vs__write_end().
 */
int vs__write_begin(struct vs_repo *repo, struct vs__write_log **log);
/*
 * End the operation started last with its result @err (returned, or the
 * commit's error): a failure dooms the open batch; the outermost level
 * commits or aborts it and then announces its branch moves.
 */
int vs__write_end(struct vs_repo *repo, int err);
/* Announce a branch move: queued while a batch is open, else at once. */
void vs__write_notify(struct vs_repo *repo, const char *branch, const struct vs_oid *old_head,
		      const struct vs_oid *new_head);

/* The tree with id @id from the cache (a new reference), or NULL. */
struct vs_tree *vs__cache_get(struct vs_repo *repo, const struct vs_oid *id);
/* Remember a stored tree (takes a new reference). */
int vs__cache_put(struct vs_repo *repo, struct vs_tree *t);
/* tree.c: values (struct vs_blob) as the value cache holds them. */
void vs__blob_release(void *blob);
size_t vs__blob_cost(void *blob);

/* tree.c: what diff, commit and merge need beyond the public API. */
/* Write @t and what is new below it through the open batch, logging the
 * trees written in @log (from vs__write_begin). */
int vs__tree_store(struct vs_oid *out, struct vs_tree *t, struct vs__write_log *log);
/* Entry @i of flat node @t: its id, its value. */
int vs__tree_entry_id(struct vs_oid *out, struct vs_tree *t, size_t i);
int vs__tree_entry_value(struct vs_buf *out, struct vs_tree *t, size_t i);
/* Check a name for storage: printable ASCII, not '.', '..' or a .git alias. */
int vs__name_check(const char *name, size_t len);

/* commit.c: write @tree and a commit in one batch; with @ref, also move
 * that ref from @expected (NULL: must not exist) in the same batch. */
int vs__commit_in_batch(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *tree,
			const struct vs_commit_opts *opts, const char *ref,
			const struct vs_oid *expected);

/* repo.c / watch.c: watches live on the repo; watch.c owns their state. */
struct vs__watches;
struct vs__watches **vs__repo_watches(struct vs_repo *repo);
/* Called (through vs__write_notify) after a ref under refs/heads/ moved
 * through this repo and the move committed (old or new NULL for creation or
 * deletion). */
void vs__watch_notify(struct vs_repo *repo, const char *branch, const struct vs_oid *old_head,
		      const struct vs_oid *new_head);
/* Free every watch state of @repo (repo close). */
void vs__watch_dispose(struct vs_repo *repo);

/*
 * gc section: retention and garbage collection (gc.c, gc_shallow.c).
 * The boundary (shallow commits) is cached per backend handle in b->gc and
 * persisted with config_set("shallow"): hex ids, one per line, as git's
 * .git/shallow. The write barrier is called by backend.c's dispatch.
 */
/* Re-read the boundary from the store (another handle or process may have
 * collected): history walks call it once before asking vs__shallow_has. */
int vs__shallow_refresh(struct vs_repo *repo);
/* True when @id is a boundary commit: walks treat it as having no parents. */
bool vs__shallow_has(struct vs_repo *repo, const struct vs_oid *id);
/* The boundary as last loaded (borrowed until the next refresh or set). */
void vs__shallow_ids(struct vs_repo *repo, const struct vs_oid **ids, size_t *n);
/* Persist @ids (sorted and deduplicated here) as the boundary and adopt it. */
int vs__shallow_set(struct vs_repo *repo, struct vs_oid *ids, size_t n);
/* A collection in progress on @b learns of an object written (and of what it
 * refers to) or of a ref moved; no-ops otherwise. VS_ENOENT when the object
 * refers to one the collection already swept. */
int vs__gc_note_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
		      const void *data, size_t len);
int vs__gc_note_ref(struct vs_backend *b, const struct vs_oid *target);
/* Free the retention state of @b (backend close). */
void vs__gc_state_free(struct vs_backend *b);

/*
 * convert section: conversion between object formats (convert.c). Blobs keep
 * their bytes, trees their names and modes, commits and tags every byte but
 * the ids they name. Each converted object is recorded in the id map both
 * ways (backend idmap ops), in the store not in the git format when it keeps
 * one, else in the other, else only for the call. SHA-1 gitlinks are kept in
 * SHA-256 trees zero-extended and truncated back.
 */
enum vs__convert_flags {
	/* Only give objects ids in the target format and record them in the map;
	 * write no object (a sync builds them on demand from the map). */
	VS__CONVERT_MAP_ONLY = 1 << 0,
};

struct vs__convert_opts {
	unsigned int flags;             /* enum vs__convert_flags */
	const struct vs_format *format; /* with VS__CONVERT_MAP_ONLY: the (flat) target format */
	vs_progress_fn *progress;       /* NULL, or called with stage "converting" */
	void *payload;                  /* for progress */
};

/*
 * Convert the @n objects @tips of @src (commits, or objects of any type) and
 * everything they reach into @dst (@dst NULL with VS__CONVERT_MAP_ONLY);
 * out[i] receives what tips[i] became. Objects the map holds and @dst has are
 * skipped with what they reach; the rest is written children first, in
 * bounded batches. Stores of one format get a byte-for-byte copy (stage
 * "copying", no map). What progress returns to stop is returned; the batches
 * committed before stay.
 */
int vs__convert_tips(struct vs_oid *out, struct vs_repo *dst, struct vs_repo *src,
		     const struct vs_oid *tips, size_t n, const struct vs__convert_opts *opts);
/*
 * Object @id of format @to rebuilt from the object of @repo that the map of
 * @repo says it converts to, its hash checked: how sync shows a vs store to
 * libgit2 as git objects. VS_ENOENT when the map does not know @id.
 */
int vs__convert_encode(struct vs_buf *out, enum vs_otype *type, struct vs_repo *repo,
		       const struct vs_format *to, const struct vs_oid *id);

#endif
