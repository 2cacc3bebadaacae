/* SPDX-License-Identifier: MIT */
/*
 * The git backend: libgit2's odb and refdb on a real repository (bare when
 * we create it), so git log, git show and git fsck read what vstore writes.
 * Objects are written at once (unreferenced objects are harmless); ref
 * updates made inside a batch are checked when issued, kept in a pending
 * list that this handle sees, and applied at batch_commit under the locks
 * of every ref involved (a git_transaction), so they land together or not.
 * Garbage collection deletes loose objects (a batch's at batch_commit);
 * objects inside packs stay, reported as such (git gc repacks them). The
 * retention boundary is git's own .git/shallow (backend_git_shallow.c).
 */
#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_git_int.h"
#include "oidmap.h"

/* A ref update made inside the open batch. */
struct gitb_pending {
	char *name;
	bool had;       /* the ref existed when the batch first touched it */
	git_oid orig;   /* its value then (when had) */
	bool deleted;   /* the batch deletes it */
	git_oid target; /* its new value (when !deleted) */
};

struct gitb_backend {
	struct vs_backend base;
	git_repository *repo;
	git_odb *odb;
	git_odb *packs;  /* the packs alone, to tell packed objects (lazily) */
	bool odb_stale;  /* objects were deleted: odb's cache may still hold them */
	struct vs_oid *dels; /* loose objects the open batch deletes */
	size_t ndels;
	bool in_batch;
	struct gitb_pending *pending; /* in issue order, one entry per ref */
	size_t npending;
};

static const struct vs_backend_ops gitb_ops;

static struct gitb_backend *gitb_from(struct vs_backend *b)
{
	assert(b->ops == &gitb_ops);
	return container_of(b, struct gitb_backend, base);
}

git_repository *vs__backend_git_repository(struct vs_backend *b)
{
	return b && b->ops == &gitb_ops ? gitb_from(b)->repo : NULL;
}

static int gitb_obj_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out)
{
	struct gitb_backend *g = gitb_from(b);
	char hex[VS_OID_MAXHEXSZ + 1], what[VS_OID_MAXHEXSZ + 64];
	git_odb_object *obj = NULL;
	git_oid oid;
	int err, rc;

	if ((err = vs__oid_to_git(&oid, id)) < 0)
		return err;
	if ((rc = git_odb_read(&obj, g->odb, &oid)) < 0) {
		vs_oid_tostr(hex, id);
		if (rc == GIT_ENOTFOUND) {
			git_error_clear();
			return vs_error_set(VS_ENOENT, "object %s not found", hex);
		}
		/* Garbage or a content that hashes elsewhere: VS_ECORRUPT (git2.c). */
		snprintf(what, sizeof(what), "reading object %s", hex);
		return vs__git2_err(rc, what);
	}
	if ((err = vs__otype_from_git(type, git_odb_object_type(obj))) == 0)
		err = vs_buf_set(out, git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	return err;
}

/*
 * Our own odb on the repository's objects, not the repository's: an odb a
 * repository owns caches objects in the repository, and libgit2 offers no
 * way to forget one, so after deletions only a fresh odb of our own stops
 * answering for deleted objects.
 */
static int odb_open(struct gitb_backend *g)
{
	char dir[4096];
	git_odb *odb;
	int rc;

	snprintf(dir, sizeof(dir), "%sobjects", git_repository_path(g->repo));
	if ((rc = git_odb_open(&odb, dir)) < 0)
		return vs__git2_err(rc, dir);
	git_odb_free(g->odb);
	g->odb = odb;
	g->odb_stale = false;
	return 0;
}

static int odb_renew(struct gitb_backend *g)
{
	return g->odb_stale ? odb_open(g) : 0;
}

/* 1 if @oid sits in a pack, 0 if not. */
static int packed(struct gitb_backend *g, const git_oid *oid)
{
	git_odb_backend *be = NULL;
	char dir[4096];
	int rc;

	if (!g->packs) {
		snprintf(dir, sizeof(dir), "%sobjects", git_repository_path(g->repo));
		if ((rc = git_odb_new(&g->packs)) < 0 ||
		    (rc = git_odb_backend_pack(&be, dir)) < 0 ||
		    (rc = git_odb_add_backend(g->packs, be, 1)) < 0) {
			if (be && g->packs)
				be->free(be);
			git_odb_free(g->packs);
			g->packs = NULL;
			return vs__git2_err(rc, dir);
		}
	}
	return git_odb_exists(g->packs, oid) ? 1 : 0;
}

static int loose_remove(struct gitb_backend *g, const struct vs_oid *id)
{
	char hex[VS_OID_MAXHEXSZ + 1], path[4200];

	vs_oid_tostr(hex, id);
	snprintf(path, sizeof(path), "%sobjects/%.2s/%s", git_repository_path(g->repo), hex,
		 hex + 2);
	if (unlink(path) && errno != ENOENT)
		return vs_error_set(errno == EACCES ? VS_EACCES : VS_EIO, "cannot remove %s: %s",
				    path, strerror(errno));
	g->odb_stale = true;
	return 0;
}

static void dels_clear(struct gitb_backend *g)
{
	vs_free(g->dels);
	g->dels = NULL;
	g->ndels = 0;
}

/* Remove the loose file of @id (at batch_commit in a batch); 1 when the
 * object also (or only) sits in a pack, where it stays. */
static int gitb_obj_delete(struct vs_backend *b, const struct vs_oid *id)
{
	struct gitb_backend *g = gitb_from(b);
	struct vs_oid *d;
	git_oid oid;
	int inpack, err;

	if ((err = vs__oid_to_git(&oid, id)) < 0 || (inpack = packed(g, &oid)) < 0)
		return err < 0 ? err : inpack;
	if (g->in_batch) {
		if (!(d = vs__realloc(g->dels, (g->ndels + 1) * sizeof(*d))))
			return vs__enomem();
		g->dels = d;
		g->dels[g->ndels++] = *id;
		return inpack;
	}
	if ((err = loose_remove(g, id)) < 0 || (err = odb_renew(g)) < 0)
		return err;
	return inpack;
}

static int gitb_obj_exists(struct vs_backend *b, const struct vs_oid *id)
{
	git_oid oid;
	int err;

	if ((err = vs__oid_to_git(&oid, id)) < 0)
		return err;
	return git_odb_exists(gitb_from(b)->odb, &oid) ? 1 : 0;
}

static int gitb_obj_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			  const void *data, size_t len)
{
	struct gitb_backend *g = gitb_from(b);
	char want[VS_OID_MAXHEXSZ + 1], got[GIT_OID_HEXSZ + 1];
	git_object_t gtype = vs__otype_to_git(type);
	git_oid expect, oid;
	int err, rc;

	if ((err = vs__oid_to_git(&expect, id)) < 0)
		return err;
	if (gtype == GIT_OBJECT_INVALID)
		return vs_error_set(VS_EINVAL, "cannot store an object of type %d", (int)type);
	if ((rc = git_odb_write(&oid, g->odb, data, len, gtype)) < 0)
		return vs__git2_err(rc, "writing an object");
	/* The core computed the id; a different one means its hashing is broken. */
	if (!git_oid_equal(&oid, &expect))
		return vs_error_set(VS_ECORRUPT, "object given id %s hashes to %s in git",
				    vs_oid_tostr(want, id), git_oid_tostr(got, sizeof(got), &oid));
	return 0;
}

struct foreach_ctx {
	vs_oid_fn *cb;
	void *payload;
	struct vs_oidmap seen; /* an object both loose and packed is reported once */
	int rc;                /* what cb returned to stop, or our own failure */
};

static int foreach_one(const git_oid *id, void *payload)
{
	struct foreach_ctx *c = payload;
	struct vs_oid oid;

	vs__oid_from_git(&oid, id);
	if (vs__oidmap_has(&c->seen, &oid))
		return 0;
	if ((c->rc = vs__oidmap_put(&c->seen, &oid, NULL, NULL)) < 0)
		return c->rc;
	if ((c->rc = c->cb(c->payload, &oid)) != 0)
		return c->rc;
	return 0;
}

static int gitb_obj_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	struct foreach_ctx c = { .cb = cb, .payload = payload };
	int rc = git_odb_foreach(gitb_from(b)->odb, foreach_one, &c);

	vs__oidmap_dispose(&c.seen);
	if (c.rc != 0) {
		git_error_clear();
		return c.rc; /* the callback's value, its message untouched */
	}
	return rc < 0 ? vs__git2_err(rc, "listing objects") : 0;
}

static struct gitb_pending *pending_find(struct gitb_backend *g, const char *name)
{
	for (size_t i = 0; i < g->npending; i++)
		if (!strcmp(g->pending[i].name, name))
			return &g->pending[i];
	return NULL;
}

static void pending_clear(struct gitb_backend *g)
{
	for (size_t i = 0; i < g->npending; i++)
		vs_free(g->pending[i].name);
	vs_free(g->pending);
	g->pending = NULL;
	g->npending = 0;
}

/* The value of ref @name on disk (symbolic refs resolved); *present false if absent. */
static int disk_ref(struct gitb_backend *g, const char *name, bool *present, git_oid *out)
{
	int rc = git_reference_name_to_id(out, g->repo, name);

	*present = rc == 0;
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	return rc < 0 ? vs__git2_err(rc, name) : 0;
}

/* The value this handle sees: the batch's pending update, else the disk. */
static int view_ref(struct gitb_backend *g, const char *name, bool *present, git_oid *out)
{
	struct gitb_pending *p = pending_find(g, name);

	if (!p)
		return disk_ref(g, name, present, out);
	*present = !p->deleted;
	if (!p->deleted)
		git_oid_cpy(out, &p->target);
	return 0;
}

static int gitb_batch_begin(struct vs_backend *b)
{
	struct gitb_backend *g = gitb_from(b);

	if (g->in_batch)
		return vs_error_set(VS_EBUSY, "a batch is already open");
	g->in_batch = true;
	return 0;
}

/* Under the lock of p->name: fail unless the ref still holds what the batch saw. */
static int pending_recheck(struct gitb_backend *g, const struct gitb_pending *p)
{
	bool present;
	git_oid cur;
	int err;

	if ((err = disk_ref(g, p->name, &present, &cur)) < 0)
		return err;
	if (present != p->had || (present && !git_oid_equal(&cur, &p->orig)))
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", p->name);
	return 0;
}

/* Lock every ref of the batch, re-check each, then write them all. */
static int pending_apply(struct gitb_backend *g)
{
	git_transaction *tx = NULL;
	int err = 0, rc;

	if ((rc = git_transaction_new(&tx, g->repo)) < 0)
		return vs__git2_err(rc, "starting a ref transaction");
	for (size_t i = 0; i < g->npending; i++) {
		struct gitb_pending *p = &g->pending[i];

		if ((rc = git_transaction_lock_ref(tx, p->name)) < 0) {
			err = vs__git2_err(rc, p->name);
			goto out;
		}
		if ((err = pending_recheck(g, p)) < 0)
			goto out;
		if (!p->deleted)
			rc = git_transaction_set_target(tx, p->name, &p->target, NULL, "vstore");
		else if (p->had)
			rc = git_transaction_remove(tx, p->name);
		if (rc < 0) {
			err = vs__git2_err(rc, p->name);
			goto out;
		}
	}
	if ((rc = git_transaction_commit(tx)) < 0)
		err = vs__git2_err(rc, "committing ref updates");
out:
	git_transaction_free(tx); /* releases the locks it still holds */
	return err;
}

static int gitb_batch_commit(struct vs_backend *b)
{
	struct gitb_backend *g = gitb_from(b);
	int err = 0;

	if (g->npending)
		err = pending_apply(g);
	for (size_t i = 0; i < g->ndels && err >= 0; i++)
		err = loose_remove(g, &g->dels[i]);
	pending_clear(g);
	dels_clear(g);
	g->in_batch = false;
	if (err >= 0)
		err = odb_renew(g);
	return err;
}

static void gitb_batch_abort(struct vs_backend *b)
{
	struct gitb_backend *g = gitb_from(b);

	pending_clear(g);
	dels_clear(g);
	g->in_batch = false;
}

static int gitb_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	bool present;
	git_oid oid;
	int err;

	if ((err = view_ref(gitb_from(b), name, &present, &oid)) < 0)
		return err;
	if (!present)
		return vs_error_set(VS_ENOENT, "ref %s not found", name);
	vs__oid_from_git(out, &oid);
	return 0;
}

static int check_refname(const char *name)
{
	int valid = 0;

	if (git_reference_name_is_valid(&valid, name) < 0)
		return vs__git2_err(GIT_ERROR, name);
	if (!valid)
		return vs_error_set(VS_EINVAL, "'%s' is not a valid git ref name", name);
	return 0;
}

/*
 * Record an update in the open batch; @target NULL deletes. @had/@cur are
 * what view_ref() just saw: for a ref the batch has not touched yet, the
 * disk value that batch_commit re-checks under the lock.
 */
static int pending_add(struct gitb_backend *g, const char *name, bool had, const git_oid *cur,
		       const git_oid *target)
{
	struct gitb_pending *p = pending_find(g, name);

	if (!p) {
		p = vs__realloc(g->pending, (g->npending + 1) * sizeof(*p));
		if (!p)
			return vs__enomem();
		g->pending = p;
		p = &g->pending[g->npending];
		*p = (struct gitb_pending){ .name = vs__strdup(name), .had = had };
		if (!p->name)
			return vs__enomem();
		if (had)
			git_oid_cpy(&p->orig, cur);
		g->npending++;
	}
	p->deleted = !target;
	if (target)
		git_oid_cpy(&p->target, target);
	return 0;
}

/* Outside a batch: one compare-and-swap in the refdb, under the ref's lock. */
static int ref_cas_now(struct gitb_backend *g, const char *name, const git_oid *target,
		       const git_oid *expected)
{
	git_reference *ref = NULL;
	int rc;

	if (expected)
		rc = git_reference_create_matching(&ref, g->repo, name, target, 1, expected,
						   "vstore");
	else
		rc = git_reference_create(&ref, g->repo, name, target, 0, "vstore");
	git_reference_free(ref);
	/* Exists (create only), modified, or gone (expected a value): lost a race. */
	if (rc == GIT_EEXISTS || rc == GIT_EMODIFIED || (rc == GIT_ENOTFOUND && expected)) {
		git_error_clear();
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	}
	return rc < 0 ? vs__git2_err(rc, name) : 0;
}

static int gitb_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
			const struct vs_oid *expected)
{
	struct gitb_backend *g = gitb_from(b);
	git_oid t, e, cur;
	bool present;
	int err;

	if ((err = check_refname(name)) < 0 || (err = vs__oid_to_git(&t, target)) < 0 ||
	    (expected && (err = vs__oid_to_git(&e, expected)) < 0))
		return err;
	/* Checked now, so a conflict shows at once even inside a batch. */
	if ((err = view_ref(g, name, &present, &cur)) < 0)
		return err;
	if (expected ? !present || !git_oid_equal(&cur, &e) : present)
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	if (g->in_batch)
		return pending_add(g, name, present, &cur, &t);
	return ref_cas_now(g, name, &t, expected ? &e : NULL);
}

static int ref_delete_now(struct gitb_backend *g, const char *name)
{
	git_reference *ref = NULL;
	int rc = git_reference_lookup(&ref, g->repo, name);

	/* git_reference_delete() removes it only if it still holds what we looked up. */
	if (rc == 0)
		rc = git_reference_delete(ref);
	git_reference_free(ref);
	if (rc == GIT_EMODIFIED || rc == GIT_ENOTFOUND) {
		git_error_clear();
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	}
	return rc < 0 ? vs__git2_err(rc, name) : 0;
}

static int gitb_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	struct gitb_backend *g = gitb_from(b);
	git_oid e, cur;
	bool present;
	int err;

	if ((err = check_refname(name)) < 0 ||
	    (expected && (err = vs__oid_to_git(&e, expected)) < 0))
		return err;
	if ((err = view_ref(g, name, &present, &cur)) < 0)
		return err;
	if (!present)
		return vs_error_set(VS_ENOENT, "ref %s not found", name);
	if (expected && !git_oid_equal(&cur, &e))
		return vs_error_set(VS_ECONFLICT, "ref %s was updated concurrently", name);
	if (g->in_batch)
		return pending_add(g, name, present, &cur, NULL);
	return ref_delete_now(g, name);
}

struct ref_item {
	char *name;
	struct vs_oid target;
};

struct ref_items {
	struct ref_item *v;
	size_t n;
};

static int items_set(struct ref_items *l, const char *name, const git_oid *target)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name))
			continue;
		if (target) {
			vs__oid_from_git(&l->v[i].target, target);
		} else {
			vs_free(l->v[i].name);
			l->v[i] = l->v[--l->n];
		}
		return 0;
	}
	if (!target)
		return 0;
	struct ref_item *v = vs__realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return vs__enomem();
	l->v = v;
	if (!(v[l->n].name = vs__strdup(name)))
		return vs__enomem();
	vs__oid_from_git(&v[l->n++].target, target);
	return 0;
}

static void items_release(struct ref_items *l)
{
	for (size_t i = 0; i < l->n; i++)
		vs_free(l->v[i].name);
	vs_free(l->v);
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ref_item *)a)->name, ((const struct ref_item *)b)->name);
}

/* Every ref on disk under @prefix, symbolic ones resolved (dangling ones skipped). */
static int items_from_disk(struct ref_items *l, struct gitb_backend *g, const char *prefix)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL, *res = NULL;
	size_t plen = strlen(prefix);
	int err = 0, rc;

	if ((rc = git_reference_iterator_new(&it, g->repo)) < 0)
		return vs__git2_err(rc, "listing refs");
	while (!err && (rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		if (!strncmp(name, prefix, plen) && git_reference_resolve(&res, ref) == 0)
			err = items_set(l, name, git_reference_target(res));
		git_reference_free(res);
		git_reference_free(ref);
		res = NULL;
	}
	git_reference_iterator_free(it);
	if (err)
		return err;
	if (rc != GIT_ITEROVER)
		return vs__git2_err(rc, "listing refs");
	git_error_clear(); /* a dangling symbolic ref left a message */
	return 0;
}

static int gitb_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	struct gitb_backend *g = gitb_from(b);
	struct ref_items l = { 0 };
	int err;

	if ((err = items_from_disk(&l, g, prefix)) < 0)
		goto out;
	for (size_t i = 0; i < g->npending && !err; i++) {
		struct gitb_pending *p = &g->pending[i];
		if (!strncmp(p->name, prefix, strlen(prefix)))
			err = items_set(&l, p->name, p->deleted ? NULL : &p->target);
	}
	if (err)
		goto out;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), item_cmp);
	for (size_t i = 0; i < l.n && !err; i++)
		err = cb(payload, l.v[i].name, &l.v[i].target);
out:
	items_release(&l);
	return err;
}

static int gitb_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	if (!strcmp(key, "shallow"))
		return vs__git_shallow_read(gitb_from(b)->repo, out);
	if (strcmp(key, "format"))
		return vs_error_set(VS_ENOENT, "setting '%s' not set", key);
	return vs_buf_set(out, "git", 3);
}

static int gitb_config_set(struct vs_backend *b, const char *key, const char *value)
{
	if (!strcmp(key, "shallow"))
		return vs__git_shallow_write(gitb_from(b)->repo, value);
	if (strcmp(key, "format"))
		return vs_error_set(VS_EINVAL, "the git backend keeps no setting '%s'", key);
	if (strcmp(value, "git"))
		return vs_error_set(VS_EINVAL,
				    "a git repository holds only the git format, not '%s'", value);
	return 0;
}

static void gitb_free(struct vs_backend *b)
{
	struct gitb_backend *g = gitb_from(b);

	pending_clear(g);
	dels_clear(g);
	git_odb_free(g->packs);
	git_odb_free(g->odb);
	git_repository_free(g->repo);
	vs_free(g);
}

static const struct vs_backend_ops gitb_ops = {
	.version = VS_BACKEND_OPS_VERSION,
	.name = "git",
	.obj_read = gitb_obj_read,
	.obj_exists = gitb_obj_exists,
	.obj_write = gitb_obj_write,
	.obj_foreach = gitb_obj_foreach,
	.obj_delete = gitb_obj_delete,
	.batch_begin = gitb_batch_begin,
	.batch_commit = gitb_batch_commit,
	.batch_abort = gitb_batch_abort,
	.ref_read = gitb_ref_read,
	.ref_cas = gitb_ref_cas,
	.ref_delete = gitb_ref_delete,
	.ref_list = gitb_ref_list,
	.config_get = gitb_config_get,
	.config_set = gitb_config_set,
	.free = gitb_free,
};

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* A new bare repository whose HEAD names "main", vstore's first branch. */
static int repo_create(git_repository **out, const char *path)
{
	git_repository_init_options o;
	int rc;

	/* The _INIT macro leaves fields out, which -Wextra rejects. */
	if ((rc = git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION)) < 0)
		return vs__git2_err(rc, path);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "main";
	if ((rc = git_repository_init_ext(out, path, &o)) < 0)
		return vs__git2_err(rc, path);
	return 0;
}

/* Open the repository at @path (no search upward), or create a bare one. */
static int repo_open(git_repository **out, const char *path, unsigned int flags)
{
	struct stat st;
	int rc;

	if (stat(path, &st) == 0) {
		rc = git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (rc == 0)
			return 0;
		if (rc != GIT_ENOTFOUND)
			return vs__git2_err(rc, path);
		git_error_clear();
		if (!S_ISDIR(st.st_mode) || !dir_is_empty(path))
			return vs_error_set(VS_ENOENT, "'%s' exists but is not a git repository",
					    path);
	} else if (errno != ENOENT) {
		return vs_error_set(errno == EACCES ? VS_EACCES : VS_EIO, "cannot access '%s': %s",
				    path, strerror(errno));
	}
	if (flags & VS_REPO_NOCREATE)
		return vs_error_set(VS_ENOENT, "no git repository at '%s' (not created: NOCREATE)",
				    path);
	if (flags & VS_REPO_READONLY)
		return vs_error_set(VS_ENOENT, "no git repository at '%s' (not created: read-only)",
				    path);
	return repo_create(out, path);
}

int vs_backend_git_open(struct vs_backend **out, const char *path,
			const struct vs_repo_opts *opts)
{
	unsigned int flags = opts ? opts->flags : 0;
	struct gitb_backend *g;
	int err;

	VS_CHECK_ARG(out);
	*out = NULL;
	VS_CHECK_ARG(path && *path);
	if (opts && opts->format && strcmp(opts->format, "git"))
		return vs_error_set(VS_EINVAL,
				    "a git repository holds only the git format, not '%s'",
				    opts->format);
	/* Before any repository work: it turns on fsync of objects and refs. */
	if ((err = vs__git2_init()) < 0)
		return err;
	if (!(g = vs__calloc(1, sizeof(*g))))
		return vs__enomem();
	g->base.ops = &gitb_ops;
	g->base.default_format = "git";
	g->base.readonly = flags & VS_REPO_READONLY;
	if ((err = repo_open(&g->repo, path, flags)) < 0)
		goto fail;
	if ((err = odb_open(g)) < 0)
		goto fail;
	*out = &g->base;
	return 0;
fail:
	gitb_free(&g->base);
	return err;
}
