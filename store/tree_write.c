/* SPDX-License-Identifier: MIT */
/*
 * Tree ids and storing. A node's id is computed once and remembered; a
 * write goes children first, so a stored tree always has its children.
 * A node written in the open batch is marked "pending" (later writes of the
 * same batch skip it) and "stored" only after the backend batch committed:
 * an aborted batch clears the pending marks and leaves no node that claims
 * to be stored. Values are marked stored at the commit too, so nothing else
 * needs undoing (a copy of an entry made meanwhile rewrites its value, a
 * no-op for the backend).
 */
#include "tree_int.h"

static int log_add(struct vs__write_log *log, struct vs_tree *t)
{
	if (log->n == log->cap) {
		size_t ncap = log->cap ? log->cap * 2 : 16;
		struct vs_tree **nt = vs__realloc(log->trees, ncap * sizeof(*nt));
		if (!nt)
			return vs__enomem();
		log->trees = nt;
		log->cap = ncap;
	}
	log->trees[log->n++] = vs_tree_dup(t);
	t->pending = true;
	return 0;
}

/* Drop the references; the array stays for the next batch (freed with the repo). */
static void log_clear(struct vs__write_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		vs_tree_free(log->trees[i]);
	log->n = 0;
	log->last_commit.type = 0;
	if (log->cap > 4096) { /* a bulk batch: do not keep its array forever */
		vs_free(log->trees);
		log->trees = NULL;
		log->cap = 0;
	}
}

/*
 * Cache the nodes written in the batch that @t holds (still marked pending),
 * clearing their marks. Only the last tree written is walked: a batch of
 * many commits (a daemon's loop turn) writes as many versions of the path
 * to each change, and only the last one is read again; caching every
 * version cost more than the rest of the commit and pushed useful nodes out.
 */
static void cache_last(struct vs_tree *t, int depth)
{
	if (!t || !t->pending || depth > 2 * VS_TREE_MAX_DEPTH)
		return;
	t->pending = false;
	vs__cache_put(t->repo, t); /* a failed insert only costs a later reload */
	for (size_t i = 0; i < t->n; i++)
		cache_last(t->e[i].tree, depth + 1);
	for (unsigned int b = 0; t->inode && b < VS_INODE_FANOUT; b++)
		cache_last(t->child[b], depth + 1);
}

void vs__write_log_commit(struct vs__write_log *log)
{
	/* Everything logged is stored now; what it holds stays attached. */
	for (size_t i = 0; i < log->n; i++) {
		struct vs_tree *t = log->trees[i];
		t->stored = true;
		for (size_t j = 0; j < t->n; j++) {
			struct entry *e = &t->e[j];
			assert(e->has_id);
			e->blob_stored = true; /* kept in memory, as values read are */
		}
	}
	if (log->n)
		cache_last(log->trees[log->n - 1], 0);
	for (size_t i = 0; i < log->n; i++)
		log->trees[i]->pending = false;
	log_clear(log);
}

void vs__write_log_abort(struct vs__write_log *log)
{
	/* Values are marked stored only at commit, so the marks to undo are these. */
	for (size_t i = 0; i < log->n; i++)
		log->trees[i]->pending = false;
	log_clear(log);
}

static int io_hash_only(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
			size_t len)
{
	(void)ctx, (void)id, (void)type, (void)data, (void)len;
	return 0;
}

/* What a node's io writes with: the repo, and the node's base for its own object. */
struct write_ctx {
	struct vs_repo *repo;
	const struct vs_oid *base;
};

static int io_write(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
		    size_t len)
{
	struct write_ctx *w = ctx;
	return vs__backend_obj_write_based(w->repo->backend, id, type, data, len, w->base);
}

static int io_read(void *ctx, const struct vs_oid *id, enum vs_otype *type, struct vs_buf *out)
{
	struct write_ctx *w = ctx;
	return w->repo->io_read.read(w->repo, id, type, out);
}

static int blob_write(struct vs_repo *repo, const struct vs_oid *id, const struct vs_blob *b)
{
	return vs__backend_obj_write(repo->backend, id, VS_OBJ_BLOB, b->data, b->len);
}



static int tree_encode(struct vs_tree *t, struct vs__write_log *log, int depth);

/* tree_encode for a split node: its buckets first, then the node itself. */
static int inode_encode(struct vs_tree *t, struct vs__write_log *log, int depth,
			struct vs_object_io *io)
{
	const struct vs_format *f = t->repo->format;
	struct vs_format_inode in = { .depth = t->depth, .count = t->count, .bitmap = t->bitmap };
	int err;

	for (unsigned int b = 0; b < VS_INODE_FANOUT; b++) {
		if (!(t->bitmap >> b & 1))
			continue;
		if (t->child[b]) {
			if ((err = tree_encode(t->child[b], log, depth + 1)) < 0)
				return err;
			t->child_id[b] = t->child[b]->id;
			t->child_known |= 1u << b;
		}
		assert(t->child_known >> b & 1);
		in.child[b] = t->child_id[b];
	}
	if ((err = f->inode_store(f, io, &in, &t->id)) < 0)
		return err;
	t->has_id = true;
	return log ? log_add(log, t) : 0;
}

/*
 * Compute @t's id; with @log, also write @t and every child not stored yet
 * (children before parents, so a stored tree always has its children).
 */
static int tree_encode(struct vs_tree *t, struct vs__write_log *log, int depth)
{
	struct vs_format_entry stack[32], *fe = stack;
	struct vs_repo *repo = t->repo;
	struct vs_oid base = { 0 };
	struct write_ctx w = { repo, &base };
	struct vs_object_io io = { .ctx = &w, .read = io_read,
				   .write = log ? io_write : io_hash_only };
	int err = 0;

	if (t->stored || t->pending || (t->has_id && !log))
		return 0;
	if (depth > 2 * VS_TREE_MAX_DEPTH)
		return vs_error_set(VS_EINVAL, "tree deeper than %d", VS_TREE_MAX_DEPTH);
	if (t->has_base) { /* id becomes the node's own (hashing only drops the hint) */
		base = t->id;
		t->has_base = false;
	}
	if (t->inode)
		return inode_encode(t, log, depth, &io);
	if (t->n > VS_ARRAY_SIZE(stack) && !(fe = vs__calloc(t->n, sizeof(*fe))))
		return vs__enomem();
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		if (e->tree) {
			if ((err = tree_encode(e->tree, log, depth + 1)) < 0)
				goto out;
			*vs__eid(t, e) = e->tree->id;
		} else if (e->blob && !e->blob_stored) {
			if (!e->has_id && (err = vs__blob_id(vs__eid(t, e), repo, e->blob)) < 0)
				goto out;
			if (log && (err = blob_write(repo, vs__eid(t, e), e->blob)) < 0)
				goto out;
		}
		e->has_id = true;
		fe[i] = (struct vs_format_entry){ vs__ename(t, e), e->namelen, e->mode, t->ids[i] };
	}
	if ((err = repo->format->tree_store(repo->format, &io, fe, t->n, &t->id)) < 0)
		goto out;
	t->has_id = true;
	if (log)
		err = log_add(log, t);
out:
	if (fe != stack)
		vs_free(fe);
	return err;
}

int vs__tree_store(struct vs_oid *out, struct vs_tree *t, struct vs__write_log *log)
{
	int err = tree_encode(t, log, 0);
	if (err >= 0)
		*out = t->id;
	return err;
}

int vs_tree_id(struct vs_oid *out, struct vs_tree *t)
{
	VS_CHECK_ARG(out && t);
	int err = tree_encode(t, NULL, 0);
	if (err >= 0)
		*out = t->id;
	return err;
}

int vs__tree_entry_id(struct vs_oid *out, struct vs_tree *t, size_t i)
{
	struct entry *e = &t->e[i];
	int err = 0;

	if (!e->has_id) {
		if (e->tree && (err = vs_tree_id(&t->ids[i], e->tree)) < 0)
			return err;
		if (e->blob && (err = vs__blob_id(&t->ids[i], t->repo, e->blob)) < 0)
			return err;
		e->has_id = true;
	}
	*out = t->ids[i];
	return 0;
}

int vs_tree_write(struct vs_oid *out, struct vs_tree *t)
{
	struct vs__write_log *log;
	int err;

	VS_CHECK_ARG(out && t);
	if ((err = vs__write_begin(t->repo, &log)) < 0)
		return err;
	return vs__write_end(t->repo, vs__tree_store(out, t, log));
}

bool vs_tree_equal(struct vs_tree *a, struct vs_tree *b)
{
	struct vs_oid x, y;
	if (a == b)
		return true;
	if (vs_tree_id(&x, a) < 0 || vs_tree_id(&y, b) < 0)
		return false;
	return vs_oid_equal(&x, &y);
}
