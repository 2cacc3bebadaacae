/* SPDX-License-Identifier: MIT */
/*
 * Conversion between object formats (git <-> vs). Objects are translated,
 * not copied: blobs keep their bytes, trees their names and modes, commits
 * and tags every byte but the ids they name. Each converted object is
 * recorded in the id map both ways (its id in the other format), and an
 * object the map already holds is never converted again, so converting a
 * history after one more commit converts that commit and the directories on
 * its changed paths. A map entry is written only after the object and
 * everything it reaches are stored: the map never names a half-stored object.
 * Between stores of one format the same walk copies objects byte for byte
 * (sync's fetch into a store in the git format).
 */
#include "tree_int.h"

#define BATCH_OBJECTS 1024 /* objects per destination batch: bounds the batch's memory */
#define PROGRESS_STEP 256

/* An object to convert; in the plan's stack, expanded once its children were pushed. */
struct visit {
	struct vs_oid id;
	enum vs_otype type; /* 0 while unknown (a tip) */
	bool expanded;
};

struct visits {
	struct visit *v;
	size_t n, cap;
};

struct pair {
	struct vs_oid from, to;
};

struct convert {
	struct vs_repo *src;
	struct vs_repo *dst;           /* NULL with VS__CONVERT_MAP_ONLY */
	const struct vs_format *dstf;  /* the format converted to */
	struct vs_backend *map;        /* holds the id map, or NULL: only ->pending */
	unsigned int flags;
	bool same;                     /* one format: copy objects, no map */
	const struct vs__convert_opts *opts;
	struct vs_oidmap pending;      /* from -> index + 1 in pairs: not yet in ->map */
	struct pair *pairs;
	size_t npairs, cap;
	struct vs__write_log *log;     /* destination trees written in the open batch */
	bool in_batch;                 /* a destination batch is open */
	size_t batch_n;                /* objects converted since the last batch commit */
	struct vs_buf raw, enc;
};

static int visit_push(struct visits *t, const struct vs_oid *id, enum vs_otype type)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 256;
		struct visit *nv = vs__realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return vs__enomem();
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = (struct visit){ *id, type, false };
	return 0;
}

static int map_get(struct convert *cv, const struct vs_oid *from, struct vs_oid *to)
{
	uintptr_t i = (uintptr_t)vs__oidmap_get(&cv->pending, from);
	char hex[VS_OID_MAXHEXSZ + 1];

	if (i) {
		*to = cv->pairs[i - 1].to;
		return 0;
	}
	if (cv->map)
		return vs__backend_idmap_get(cv->map, from, to);
	return vs_error_set(VS_ENOENT, "object %s was not converted", vs_oid_tostr(hex, from));
}

static int map_put(struct convert *cv, const struct vs_oid *from, const struct vs_oid *to)
{
	if (cv->npairs == cv->cap) {
		size_t ncap = cv->cap ? 2 * cv->cap : 256;
		struct pair *np = vs__realloc(cv->pairs, ncap * sizeof(*np));
		if (!np)
			return vs__enomem();
		cv->pairs = np;
		cv->cap = ncap;
	}
	cv->pairs[cv->npairs++] = (struct pair){ *from, *to };
	return vs__oidmap_put(&cv->pending, from, (void *)(uintptr_t)cv->npairs, NULL);
}

/* Write the pending entries, both ways, into the map store's open batch. */
static int map_flush(struct convert *cv)
{
	int err = 0;
	for (size_t i = 0; i < cv->npairs && err >= 0; i++) {
		const struct pair *p = &cv->pairs[i];
		if ((err = vs__backend_idmap_put(cv->map, &p->from, &p->to)) >= 0)
			err = vs__backend_idmap_put(cv->map, &p->to, &p->from);
	}
	return err;
}

static void pending_clear(struct convert *cv)
{
	vs__oidmap_dispose(&cv->pending);
	cv->npairs = 0;
}

/*
 * 1 when @id needs no conversion: the map has it, and the destination holds
 * what it became (a destination always holds what its objects reach). With
 * VS__CONVERT_MAP_ONLY the map alone decides: nothing is written anyway.
 */
static int converted(struct convert *cv, const struct vs_oid *id)
{
	struct vs_oid to;
	int err;

	if (cv->same)
		return vs__backend_obj_exists(cv->dst->backend, id);
	if ((err = map_get(cv, id, &to)) == VS_ENOENT)
		return 0;
	if (err < 0 || (cv->flags & VS__CONVERT_MAP_ONLY))
		return err < 0 ? err : 1;
	return vs__backend_obj_exists(cv->dst->backend, &to);
}

static int batch_open(struct convert *cv)
{
	int err;
	if (cv->in_batch || !cv->dst)
		return 0;
	if ((err = vs__write_begin(cv->dst, &cv->log)) < 0)
		return err;
	cv->in_batch = true;
	return 0;
}

/*
 * Drop what the open batch holds: objects and their pending map entries.
 * @err is why: a failure, or a progress callback's stop (positive), which
 * inside a repo batch dooms that batch as a failure would.
 */
static void batch_drop(struct convert *cv, int err)
{
	if (cv->in_batch)
		vs__write_end(cv->dst, err < 0 ? err
					       : vs_error_set(VS_EAGAIN, "conversion stopped by "
									 "its progress callback"));
	cv->log = NULL;
	cv->in_batch = false;
	if (cv->map)
		pending_clear(cv);
}

/*
 * Commit the destination batch, then the map entries: in the same batch when
 * the destination holds the map, else in a batch of their own afterwards, so
 * that the map never names an object the destination lacks (inside a repo
 * batch of the destination the map may land first; converted() checks the
 * destination too, so such an entry only costs a conversion again).
 */
static int batch_close(struct convert *cv)
{
	struct vs_backend *db = cv->dst ? cv->dst->backend : NULL;
	bool shared = cv->map && cv->map == db;
	int err = 0;

	if (shared && (err = map_flush(cv)) < 0) {
		batch_drop(cv, err);
		return err;
	}
	if (cv->in_batch)
		err = vs__write_end(cv->dst, 0);
	cv->log = NULL;
	cv->in_batch = false;
	cv->batch_n = 0;
	if (err >= 0 && cv->map && !shared && cv->npairs) {
		if ((err = vs__backend_batch_begin(cv->map)) < 0)
			return err;
		if ((err = map_flush(cv)) < 0 || (err = vs__backend_batch_commit(cv->map)) < 0) {
			vs__backend_batch_abort(cv->map);
			return err;
		}
	}
	if (err >= 0 && cv->map)
		pending_clear(cv);
	return err;
}

/* Read @id from the source, insisting on type @want (0: any, then set). */
static int src_read(struct convert *cv, const struct vs_oid *id, enum vs_otype *want)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	enum vs_otype type;
	int err = vs__backend_obj_read(cv->src->backend, id, &type, &cv->raw);

	if (err < 0)
		return err;
	if (*want && type != *want)
		return vs_error_set(VS_ECORRUPT, "object %s has type %d, expected %d",
				    vs_oid_tostr(hex, id), (int)type, (int)*want);
	*want = type;
	return 0;
}

/* The object a tag names, and where its text after the "object" line starts. */
static int tag_target(struct vs_oid *id, enum vs_otype *type, size_t *rest,
		      const struct vs_format *f, const char *p, size_t len)
{
	static const char *const names[] = { "", "commit", "tree", "blob", "tag" };
	size_t hexlen = 2 * vs_oid_size(f->oid_type), at = 7 + hexlen + 1;

	if (len < at || memcmp(p, "object ", 7) || p[at - 1] != '\n' ||
	    vs_oid_fromhex(id, p + 7, hexlen) < 0)
		return vs_error_set(VS_ECORRUPT, "tag has no valid object line");
	for (int t = VS_OBJ_COMMIT; t <= VS_OBJ_TAG; t++) {
		size_t n = strlen(names[t]);
		if (len >= at + 6 + n && !memcmp(p + at, "type ", 5) &&
		    !memcmp(p + at + 5, names[t], n) && p[at + 5 + n] == '\n') {
			*type = (enum vs_otype)t;
			*rest = at;
			return 0;
		}
	}
	return vs_error_set(VS_ECORRUPT, "tag has no valid type line");
}

/* A directory's entries with their children's ids in the destination format. */
struct dir_list {
	struct vs_tree *dir;         /* keeps the names alive */
	struct vs__dent *d;
	struct vs_format_entry *fe;
	size_t n;
};

static void dir_list_release(struct dir_list *l)
{
	vs_tree_free(l->dir);
	vs_free(l->d);
	vs_free(l->fe);
	*l = (struct dir_list){ 0 };
}

/* The logical entries of directory @id (all the nodes of a split one), by name. */
static int dir_read(struct dir_list *l, struct convert *cv, const struct vs_oid *id)
{
	int err;

	*l = (struct dir_list){ 0 };
	if ((err = vs__tree_load(&l->dir, cv->src, id)) < 0 ||
	    (err = vs__dir_collect(&l->d, &l->n, l->dir)) < 0)
		return err;
	if (l->n && !(l->fe = vs__calloc(l->n, sizeof(*l->fe))))
		return vs__enomem();
	for (size_t i = 0; i < l->n && err >= 0; i++) {
		struct vs_tree *leaf = l->d[i].leaf;
		struct entry *e = &leaf->e[l->d[i].i];
		l->fe[i] = (struct vs_format_entry){ .name = vs__ename(leaf, e),
						     .namelen = e->namelen, .mode = e->mode };
		err = vs__tree_entry_id(&l->fe[i].id, leaf, l->d[i].i);
	}
	return err;
}

/*
 * Gitlinks name commits of other repositories, which no map can know. A
 * SHA-1 gitlink is kept in a SHA-256 format zero-extended (its 12 trailing
 * bytes zero) and truncated back, so the round trip is exact; a SHA-256
 * gitlink whose tail is not zero has no SHA-1 form.
 */
static int gitlink_convert(struct vs_oid *out, const struct vs_oid *id, enum vs_oid_type to)
{
	static const unsigned char zero[VS_OID_MAXSZ];
	char hex[VS_OID_MAXHEXSZ + 1];

	*out = *id; /* the bytes past an id's size are zero */
	if (to == VS_OID_SHA1 && id->type == VS_OID_SHA256 &&
	    memcmp(id->id + 20, zero, VS_OID_MAXSZ - 20))
		return vs_error_set(VS_ENOTSUP,
				    "gitlink %s names a SHA-256 commit: git cannot hold it",
				    vs_oid_tostr(hex, id));
	out->type = (unsigned char)to;
	return 0;
}

/* Replace the children's ids of @l by what they converted to. */
static int dir_translate(struct dir_list *l, struct convert *cv)
{
	int err = 0;
	for (size_t i = 0; i < l->n && err >= 0; i++) {
		struct vs_oid *id = &l->fe[i].id;
		if (l->fe[i].mode == 0160000)
			err = gitlink_convert(id, id, cv->dstf->oid_type);
		else
			err = map_get(cv, id, id);
	}
	return err;
}

/*
 * Commit @raw of the source format in the destination format, its tree and
 * parents mapped. A commit whose bytes its own format would not write back
 * identically (git always ends the headers with a blank line) would come
 * back with another id: refused rather than changed.
 */
static int commit_translate(struct vs_buf *out, struct convert *cv, const struct vs_oid *id,
			    const struct vs_buf *raw)
{
	const struct vs_format *sf = cv->src->format;
	char hex[VS_OID_MAXHEXSZ + 1];
	struct vs_format_commit c;
	int err;

	if ((err = sf->commit_parse(&c, raw->ptr, raw->size)) < 0)
		return vs__error_wrap(err, "commit %s", vs_oid_tostr(hex, id));
	if ((err = sf->commit_write(out, &c)) < 0)
		goto out;
	if (out->size != raw->size || memcmp(out->ptr, raw->ptr, raw->size)) {
		err = vs_error_set(VS_ENOTSUP, "commit %s cannot be converted without changing it",
				   vs_oid_tostr(hex, id));
		goto out;
	}
	if ((err = map_get(cv, &c.tree, &c.tree)) < 0)
		goto out;
	for (size_t i = 0; i < c.nparents && err >= 0; i++)
		err = map_get(cv, &c.parents[i], &c.parents[i]);
	if (err == VS_ENOENT) /* a retention boundary whose parents went unconverted */
		err = vs_error_set(VS_ENOTSUP, "commit %s: a parent was dropped before it was "
				   "converted, so no id can name it", vs_oid_tostr(hex, id));
	if (err >= 0)
		err = cv->dstf->commit_write(out, &c);
out:
	vs_format_commit_dispose(&c);
	return err;
}

/* Tag @raw with the id on its object line mapped; the rest is kept as is. */
static int tag_translate(struct vs_buf *out, struct convert *cv, const struct vs_buf *raw)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	struct vs_oid target;
	enum vs_otype type;
	size_t rest = 0;
	int err;

	if ((err = tag_target(&target, &type, &rest, cv->src->format, raw->ptr, raw->size)) < 0 ||
	    (err = map_get(cv, &target, &target)) < 0)
		return err;
	vs_buf_clear(out);
	if ((err = vs_buf_printf(out, "object %s\n", vs_oid_tostr(hex, &target))) < 0)
		return err;
	return vs_buf_put(out, (const char *)raw->ptr + rest, raw->size - rest);
}

struct plan {
	struct visits stack, order;
	struct vs_oidmap seen;
	bool cut; /* the commit being expanded is a retention boundary of the source */
};

static int plan_push(struct plan *p, const struct vs_oid *id, enum vs_otype type)
{
	if (p->cut && type == VS_OBJ_COMMIT)
		return 0; /* the source dropped it */
	return vs__oidmap_has(&p->seen, id) ? 0 : visit_push(&p->stack, id, type);
}

static int plan_ref(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	return plan_push(payload, id, type);
}

static int expand_dir(struct plan *p, struct convert *cv, const struct vs_oid *id)
{
	struct dir_list l;
	int err = dir_read(&l, cv, id);

	for (size_t i = 0; i < l.n && err >= 0; i++) {
		if (l.fe[i].mode == 0160000)
			continue; /* a gitlink: a commit of another repository */
		err = plan_push(p, &l.fe[i].id,
				vs__is_tree_mode(l.fe[i].mode) ? VS_OBJ_TREE : VS_OBJ_BLOB);
	}
	dir_list_release(&l);
	return err;
}

/* Push the objects stack entry @k refers to; learns its type if unknown. */
static int expand(struct plan *p, struct convert *cv, size_t k)
{
	struct visit t = p->stack.v[k];
	const struct vs_format *sf = cv->src->format;
	struct vs_format_commit c;
	struct vs_oid target;
	enum vs_otype ttype = VS_OBJ_COMMIT;
	size_t rest = 0;
	int err;

	if (t.type == VS_OBJ_BLOB)
		return 0;
	if (t.type == VS_OBJ_TREE && !cv->same)
		return expand_dir(p, cv, &t.id);
	if ((err = src_read(cv, &t.id, &t.type)) < 0)
		return err;
	p->stack.v[k].type = t.type;
	p->cut = t.type == VS_OBJ_COMMIT && vs__shallow_has(cv->src, &t.id);
	/* A copy follows the stored objects (a split tree's nodes), not directories. */
	if (cv->same && t.type != VS_OBJ_TAG)
		return sf->obj_refs(sf, t.type, cv->raw.ptr, cv->raw.size, plan_ref, p);
	switch (t.type) {
	case VS_OBJ_TREE:
		return expand_dir(p, cv, &t.id);
	case VS_OBJ_TAG:
		if ((err = tag_target(&target, &ttype, &rest, sf, cv->raw.ptr, cv->raw.size)) < 0)
			return err;
		return plan_push(p, &target, ttype);
	case VS_OBJ_COMMIT:
		if ((err = sf->commit_parse(&c, cv->raw.ptr, cv->raw.size)) < 0)
			return err;
		for (size_t i = c.nparents; i-- > 0 && err >= 0;)
			err = plan_push(p, &c.parents[i], VS_OBJ_COMMIT);
		if (err >= 0)
			err = plan_push(p, &c.tree, VS_OBJ_TREE);
		vs_format_commit_dispose(&c);
		return err;
	default:
		return 0;
	}
}

/* Depth first from @tips, skipping what is converted: a post-order, children first. */
static int plan_run(struct plan *p, struct convert *cv, const struct vs_oid *tips, size_t n)
{
	int err = 0;

	for (size_t i = n; i-- > 0 && err >= 0;)
		err = visit_push(&p->stack, &tips[i], 0);
	while (p->stack.n && err >= 0) {
		size_t k = p->stack.n - 1;
		struct visit *t = &p->stack.v[k];

		if (t->expanded) {
			err = visit_push(&p->order, &t->id, t->type);
			p->stack.n--;
		} else if (vs__oidmap_has(&p->seen, &t->id)) {
			p->stack.n--;
		} else if ((err = vs__oidmap_put(&p->seen, &t->id, NULL, NULL)) < 0) {
			break;
		} else if ((err = converted(cv, &t->id)) != 0) {
			p->stack.n--;
		} else {
			t->expanded = true;
			err = expand(p, cv, k);
		}
	}
	return err < 0 ? err : 0;
}

static int io_dst_write(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
			size_t len)
{
	struct convert *cv = ctx;
	if (cv->flags & VS__CONVERT_MAP_ONLY)
		return 0;
	return vs__backend_obj_write(cv->dst->backend, id, type, data, len);
}

/* Mark the nodes the destination already holds as stored, so that only new ones are written. */
static int mark_stored(struct convert *cv, struct vs_tree *t)
{
	int err = vs__backend_obj_exists(cv->dst->backend, &t->id);

	if (err > 0)
		t->stored = true;
	for (unsigned int b = 0; !err && t->inode && b < VS_INODE_FANOUT; b++)
		if (t->child[b])
			err = mark_stored(cv, t->child[b]);
	return err < 0 ? err : 0;
}

static int dir_convert(struct vs_oid *out, struct convert *cv, const struct vs_oid *id)
{
	struct vs_object_io io = { .ctx = cv, .write = io_dst_write };
	struct vs_tree *d = NULL;
	struct dir_list l;
	int err;

	if ((err = dir_read(&l, cv, id)) < 0 || (err = dir_translate(&l, cv)) < 0)
		goto out;
	if (!cv->dstf->max_flat) { /* one flat tree */
		err = cv->dstf->tree_store(cv->dstf, &io, l.fe, l.n, out);
		goto out;
	}
	/* A split format: the canonical trie of nodes, of which only new ones are written. */
	if ((err = vs__dir_from_entries(&d, cv->dst, l.fe, l.n)) < 0 ||
	    (err = vs_tree_id(out, d)) < 0 || (err = mark_stored(cv, d)) < 0)
		goto out;
	err = vs__tree_store(out, d, cv->log);
out:
	if (err < 0) {
		char hex[VS_OID_MAXHEXSZ + 1];
		vs__error_wrap(err, "converting tree %s", vs_oid_tostr(hex, id));
	}
	vs_tree_free(d);
	dir_list_release(&l);
	return err;
}

static int convert_one(struct vs_oid *out, struct convert *cv, const struct visit *t)
{
	enum vs_otype type = t->type;
	const struct vs_buf *data = &cv->raw;
	int err;

	if (type == VS_OBJ_TREE && !cv->same)
		return dir_convert(out, cv, &t->id);
	if ((err = src_read(cv, &t->id, &type)) < 0)
		return err;
	if (cv->same) {
		*out = t->id;
		return vs__backend_obj_write(cv->dst->backend, out, type, data->ptr, data->size);
	}
	if (type == VS_OBJ_COMMIT)
		err = commit_translate(&cv->enc, cv, &t->id, &cv->raw);
	else if (type == VS_OBJ_TAG)
		err = tag_translate(&cv->enc, cv, &cv->raw);
	if (err < 0)
		return err;
	if (type != VS_OBJ_BLOB)
		data = &cv->enc;
	if ((err = cv->dstf->hash(out, type, data->ptr, data->size)) < 0)
		return err;
	return io_dst_write(cv, out, type, data->ptr, data->size);
}

/* Convert the planned objects in order, in bounded batches. */
static int convert_all(struct convert *cv, const struct visits *order)
{
	const struct vs__convert_opts *o = cv->opts;
	struct vs_oid to;
	int err = 0;

	for (size_t i = 0; i < order->n && err == 0; i++) {
		if ((err = batch_open(cv)) < 0 || (err = convert_one(&to, cv, &order->v[i])) < 0 ||
		    (!cv->same && (err = map_put(cv, &order->v[i].id, &to)) < 0))
			break;
		if (++cv->batch_n >= BATCH_OBJECTS && (err = batch_close(cv)) < 0)
			break;
		if (o->progress && ((i + 1) % PROGRESS_STEP == 0 || i + 1 == order->n))
			err = o->progress(o->payload, cv->same ? "copying" : "converting", i + 1,
					  order->n);
	}
	if (err == 0)
		return batch_close(cv);
	batch_drop(cv, err);
	return err;
}

static bool keeps_map(struct vs_repo *r)
{
	const struct vs_backend_ops *o = r ? r->backend->ops : NULL;
	return o && o->idmap_get && o->idmap_put && !r->backend->readonly;
}

/* The map lives with the store not in the git format (the one that syncs with git). */
static struct vs_backend *map_holder(struct vs_repo *a, struct vs_repo *b)
{
	if (a && !strcmp(a->format->name, "git")) {
		struct vs_repo *t = a;
		a = b;
		b = t;
	}
	return keeps_map(a) ? a->backend : keeps_map(b) ? b->backend : NULL;
}

static int convert_init(struct convert *cv, struct vs_repo *dst, struct vs_repo *src,
			const struct vs__convert_opts *opts)
{
	bool map_only = opts->flags & VS__CONVERT_MAP_ONLY;
	int err;

	*cv = (struct convert){ .src = src, .dst = dst, .flags = opts->flags, .opts = opts };
	cv->dstf = map_only ? opts->format : dst ? dst->format : NULL;
	VS_CHECK_ARG(src && cv->dstf && (map_only ? !dst : dst != NULL) && dst != src);
	if ((cv->same = cv->dstf == src->format) && map_only)
		return vs_error_set(VS_EINVAL, "no format to convert to");
	cv->map = cv->same ? NULL : map_holder(dst, src);
	if ((err = vs__shallow_refresh(src)) < 0)
		return err;
	if (map_only && (cv->dstf->max_flat || !cv->map))
		return vs_error_set(VS_EINVAL, "recording ids only needs a flat target "
						"format and a store that keeps an id map");
	return 0;
}

int vs__convert_tips(struct vs_oid *out, struct vs_repo *dst, struct vs_repo *src,
		     const struct vs_oid *tips, size_t n, const struct vs__convert_opts *opts)
{
	static const struct vs__convert_opts none = { 0 };
	struct plan p = { 0 };
	struct convert cv;
	int err;

	if ((err = convert_init(&cv, dst, src, opts ? opts : &none)) < 0 ||
	    (err = plan_run(&p, &cv, tips, n)) < 0 || (err = convert_all(&cv, &p.order)) != 0)
		goto out;
	for (size_t i = 0; i < n && err >= 0; i++) {
		out[i] = tips[i];
		if (!cv.same)
			err = map_get(&cv, &tips[i], &out[i]);
	}
out:
	vs__oidmap_dispose(&p.seen);
	vs_free(p.stack.v);
	vs_free(p.order.v);
	pending_clear(&cv);
	vs_free(cv.pairs);
	vs_buf_release(&cv.raw);
	vs_buf_release(&cv.enc);
	return err;
}

/* An object_io that keeps what the format writes: the encoding, in a vs_buf. */
static int io_capture(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
		      size_t len)
{
	(void)id, (void)type;
	return vs_buf_set(ctx, data, len);
}

static int encode_dir(struct vs_buf *out, struct vs_oid *got, struct convert *cv,
		      const struct vs_oid *from)
{
	struct vs_object_io io = { .ctx = out, .write = io_capture };
	struct dir_list l;
	int err;

	if ((err = dir_read(&l, cv, from)) >= 0 && (err = dir_translate(&l, cv)) >= 0)
		err = cv->dstf->tree_store(cv->dstf, &io, l.fe, l.n, got);
	dir_list_release(&l);
	return err;
}

int vs__convert_encode(struct vs_buf *out, enum vs_otype *type, struct vs_repo *repo,
		       const struct vs_format *to, const struct vs_oid *id)
{
	struct convert cv = { .src = repo, .dstf = to, .map = repo->backend };
	char hex[VS_OID_MAXHEXSZ + 1];
	struct vs_oid from, got;
	int err;

	*type = 0;
	if ((err = vs__backend_idmap_get(repo->backend, id, &from)) < 0 ||
	    (err = src_read(&cv, &from, type)) < 0)
		goto out;
	if (*type == VS_OBJ_TREE) {
		err = encode_dir(out, &got, &cv, &from);
		goto check;
	}
	if (*type == VS_OBJ_COMMIT)
		err = commit_translate(out, &cv, &from, &cv.raw);
	else if (*type == VS_OBJ_TAG)
		err = tag_translate(out, &cv, &cv.raw);
	else
		err = vs_buf_set(out, cv.raw.ptr, cv.raw.size);
	if (err >= 0)
		err = to->hash(&got, *type, out->ptr, out->size);
check:
	if (err >= 0 && !vs_oid_equal(&got, id))
		err = vs_error_set(VS_ECORRUPT, "object %s of the id map converts to another id",
				   vs_oid_tostr(hex, id));
out:
	vs_buf_release(&cv.raw);
	return err;
}
