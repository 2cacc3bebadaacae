/* SPDX-License-Identifier: MIT */
/*
 * Tree nodes: memory, loading (flat and split), values, and copy-on-write
 * edits of flat nodes. A node's entries never change after creation; only
 * memos do (ids, and the pointers to children and values once loaded).
 */
#include "tree_int.h"

void vs__blob_free(struct vs_blob *b)
{
	if (b && --b->refs == 0)
		vs_free(b);
}

void vs__blob_release(void *blob)
{
	vs__blob_free(blob);
}

size_t vs__blob_cost(void *blob)
{
	return ((struct vs_blob *)blob)->len + sizeof(struct vs_blob) + sizeof(struct vs_oidmap_slot);
}

struct vs_blob *vs__blob_new(const void *data, size_t len)
{
	struct vs_blob *b = vs__malloc(sizeof(*b) + len);
	if (b) {
		b->refs = 1;
		b->len = len;
		if (len)
			memcpy(b->data, data, len);
	}
	return b;
}

struct vs_tree *vs__node_alloc(struct vs_repo *repo, size_t n, size_t names_cap)
{
	/* Entries, then names (both read by lookups), then ids (rarely needed). */
	size_t names_at = sizeof(struct vs_tree) + n * sizeof(struct entry);
	size_t ids_at = (names_at + names_cap + 1 + 7) & ~(size_t)7;
	struct vs_tree *t = vs__calloc(1, ids_at + n * sizeof(struct vs_oid));
	if (!t)
		return NULL;
	t->refs = 1;
	t->repo = repo;
	t->e = (struct entry *)(t + 1);
	t->names = (char *)t + names_at;
	t->ids = (struct vs_oid *)((char *)t + ids_at);
	t->names_cap = names_cap + 1;
	return t;
}

struct vs_tree *vs__inode_alloc(struct vs_repo *repo, unsigned int depth)
{
	struct vs_tree *t = vs__calloc(1, sizeof(*t) + VS_INODE_FANOUT * (sizeof(struct vs_tree *) +
									 sizeof(struct vs_oid)));
	if (!t)
		return NULL;
	t->refs = 1;
	t->repo = repo;
	t->inode = true;
	t->depth = depth;
	t->child = (struct vs_tree **)(t + 1);
	t->child_id = (struct vs_oid *)(t->child + VS_INODE_FANOUT);
	return t;
}

struct vs_tree *vs_tree_dup(struct vs_tree *t)
{
	if (t)
		t->refs++;
	return t;
}

void vs_tree_free(struct vs_tree *t)
{
	if (!t || --t->refs > 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		vs_tree_free(t->e[i].tree);
		vs__blob_free(t->e[i].blob);
	}
	for (unsigned b = 0; t->inode && b < VS_INODE_FANOUT; b++)
		vs_tree_free(t->child[b]);
	vs_free(t);
}

/* Stored values of at most this many bytes stay when a tree is trimmed: they
 * cost about what their id does, and reading one again (a daemon reads a node
 * before writing it) would otherwise be a cache lookup or a backend read. */
#define TRIM_KEEP 64

/*
 * Children and values that are in the backend are kept as ids only; the
 * repo's caches may still hold them, by id. Nodes and values not stored
 * (new, or written in a batch still open) stay, trimmed below, and so do
 * small values (TRIM_KEEP). A stored child is trimmed before it is let go,
 * so that a copy of it the cache (or another tree) holds does not keep its
 * loaded descendants alive either.
 */
void vs_tree_trim(struct vs_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		if (e->tree) {
			vs_tree_trim(e->tree);
			if (!e->tree->stored)
				continue;
			t->ids[i] = e->tree->id;
			e->has_id = true;
			vs_tree_free(e->tree);
			e->tree = NULL;
		} else if (e->blob && e->blob_stored && e->blob->len > TRIM_KEEP) {
			assert(e->has_id);
			vs__blob_free(e->blob);
			e->blob = NULL;
			e->blob_stored = false;
		}
	}
	for (unsigned int b = 0; t->inode && b < VS_INODE_FANOUT; b++) {
		struct vs_tree *c = t->child[b];
		if (!c)
			continue;
		vs_tree_trim(c);
		if (!c->stored)
			continue;
		t->child_id[b] = c->id;
		t->child_known |= 1u << b;
		vs_tree_free(c);
		t->child[b] = NULL;
	}
}

int vs_tree_new(struct vs_tree **out, struct vs_repo *repo)
{
	VS_CHECK_ARG(out && repo);
	if (!(*out = vs__node_alloc(repo, 0, 0)))
		return vs__enomem();
	return 0;
}

struct vs_repo *vs_tree_repo(const struct vs_tree *t)
{
	return t->repo;
}

size_t vs_tree_entrycount(struct vs_tree *t)
{
	return (size_t)vs__dir_count(t);
}

/* Append a name to @t's name buffer (which was sized by the caller). */
uint32_t vs__names_add(struct vs_tree *t, const char *name, size_t len)
{
	uint32_t off = (uint32_t)t->names_len;
	assert(t->names_len + len + 1 <= t->names_cap);
	memcpy(t->names + off, name, len);
	t->names[off + len] = '\0';
	t->names_len += len + 1;
	return off;
}

/* ---- loading ---- */

/* Bytewise order, shorter first on a common prefix. Names are short: a
 * plain loop beats a memcmp call on the lookup path of every read. */
int vs__name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/* Entries as parsed, before the node of the right size exists. */
struct load_ctx {
	struct vs_format_entry *e; /* each name is an offset into names, cast */
	size_t n, cap;
	struct vs_buf names;
};

static int load_entry(void *payload, const struct vs_format_entry *fe)
{
	struct load_ctx *c = payload;
	int err;

	if (memchr(fe->name, '\0', fe->namelen) || fe->namelen > UINT32_MAX / 2)
		return vs_error_set(VS_ECORRUPT, "tree entry name with a NUL byte");
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct vs_format_entry *ne = vs__realloc(c->e, ncap * sizeof(*ne));
		if (!ne)
			return vs__enomem();
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n] = *fe;
	c->e[c->n].name = (const char *)(uintptr_t)c->names.size;
	if ((err = vs_buf_put(&c->names, fe->name, fe->namelen)) < 0 ||
	    (err = vs_buf_putc(&c->names, '\0')) < 0)
		return err;
	c->n++;
	return 0;
}

static int fe_cmp(const void *a, const void *b, void *names)
{
	const struct vs_format_entry *x = a, *y = b;
	const char *base = names;
	return vs__name_cmp(base + (uintptr_t)x->name, x->namelen, base + (uintptr_t)y->name,
			y->namelen);
}

/* Build a node from parsed entries, in byte order of names. */
static struct vs_tree *node_from(struct vs_repo *repo, struct load_ctx *c)
{
	struct vs_tree *t;
	bool in_order = true;

	for (size_t i = 1; i < c->n && in_order; i++)
		in_order = fe_cmp(&c->e[i - 1], &c->e[i], c->names.ptr) < 0;
	if (!in_order)
		qsort_r(c->e, c->n, sizeof(*c->e), fe_cmp, c->names.ptr);
	if (!(t = vs__node_alloc(repo, c->n, c->names.size)))
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &t->e[i];
		e->name_off = vs__names_add(t, c->names.ptr + (uintptr_t)c->e[i].name, c->e[i].namelen);
		e->namelen = (uint32_t)c->e[i].namelen;
		e->mode = c->e[i].mode;
		e->has_id = true;
		t->ids[i] = c->e[i].id;
	}
	t->n = c->n;
	return t;
}

/* A split node as read: children not loaded yet, their ids known. */
static struct vs_tree *inode_from(struct vs_repo *repo, const struct vs_format_inode *in)
{
	struct vs_tree *t = vs__inode_alloc(repo, in->depth);
	if (!t)
		return NULL;
	t->count = in->count;
	t->bitmap = t->child_known = in->bitmap;
	for (unsigned b = 0; b < VS_INODE_FANOUT; b++)
		t->child_id[b] = in->child[b];
	return t;
}

int vs__tree_load(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id)
{
	struct load_ctx ctx = { 0 };
	struct vs_format_inode in;
	struct vs_tree *t = NULL;
	int err;

	if ((*out = vs__cache_get(repo, id)))
		return 0;
	err = repo->format->tree_load(repo->format, &repo->io_read, id, load_entry, &ctx, &in);
	if (err == 1)
		err = (t = inode_from(repo, &in)) ? 0 : vs__enomem();
	else if (err >= 0 && !(t = node_from(repo, &ctx)))
		err = vs__enomem();
	vs_free(ctx.e);
	vs_buf_release(&ctx.names);
	if (err < 0)
		return err;
	t->has_id = t->stored = true;
	t->id = *id;
	if ((err = vs__cache_put(repo, t)) < 0) {
		vs_tree_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int vs_tree_lookup(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id)
{
	VS_CHECK_ARG(out && repo && id);
	*out = NULL;
	return vs__tree_load(out, repo, id);
}

long vs__flat_find(const struct vs_tree *t, const char *name, size_t len, size_t *pos)
{
	size_t lo = 0, hi = t->n;

	/* Small nodes (most of them): a forward scan reads memory in order. */
	if (t->n <= 8) {
		for (size_t i = 0; i < t->n; i++) {
			const struct entry *e = &t->e[i];
			int c = vs__name_cmp(vs__ename(t, e), e->namelen, name, len);
			if (c == 0)
				return (long)i;
			if (c > 0) {
				if (pos)
					*pos = i;
				return -1;
			}
		}
		if (pos)
			*pos = t->n;
		return -1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = &t->e[mid];
		int c = vs__name_cmp(vs__ename(t, e), e->namelen, name, len);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return -1;
}

/*
 * The subtree behind entry @e of @t, borrowed: @t keeps it once loaded, so
 * it lives as long as @t does whatever the repo cache evicts.
 */
int vs__child_borrow(struct vs_tree **out, struct vs_tree *t, struct entry *e)
{
	int err;
	if (!vs__is_tree_mode(e->mode))
		return vs_error_set(VS_ENOTDIR, "'%s' is not a tree", vs__ename(t, e));
	if (!e->tree && (err = vs__tree_load(&e->tree, t->repo, vs__eid(t, e))) < 0)
		return err;
	*out = e->tree;
	return 0;
}

int vs__blob_id(struct vs_oid *out, struct vs_repo *repo, const struct vs_blob *b)
{
	return repo->format->hash(out, VS_OBJ_BLOB, b->data, b->len);
}

/*
 * A stored value, from the repo's value cache or the backend; *out is a new
 * reference. Without a value cache, NULL with the bytes left in @raw.
 */
static int value_read(struct vs_blob **out, struct vs_buf *raw, struct vs_repo *repo,
		      const struct vs_oid *id, const char *name)
{
	struct vs_blob *b = vs__cache_lookup(&repo->values, id);
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if (b) {
		b->refs++;
		*out = b;
		return 0;
	}
	*out = NULL;
	vs_buf_clear(raw);
	if ((err = vs__backend_obj_read(repo->backend, id, &type, raw)) < 0)
		return err;
	if (type != VS_OBJ_BLOB)
		return vs_error_set(VS_ECORRUPT, "object %s at '%s' is not a blob",
				    vs_oid_tostr(hex, id), name);
	if (!repo->values.max || !(b = vs__blob_new(raw->ptr, raw->size)))
		return 0; /* no cache, or no memory for it: the bytes are in raw */
	b->refs++;
	vs__cache_insert(&repo->values, id, b, vs__blob_cost(b)); /* best effort */
	*out = b;
	return 0;
}

int vs__tree_entry_value(struct vs_buf *out, struct vs_tree *t, size_t i)
{
	struct entry *e = &t->e[i];
	struct vs_blob *b;
	int err;

	if (vs__is_tree_mode(e->mode))
		return vs_error_set(VS_EISDIR, "'%s' is a tree", vs__ename(t, e));
	if (!e->blob) {
		if ((err = value_read(&b, out, t->repo, &t->ids[i], vs__ename(t, e))) < 0 || !b)
			return err;
		/* Kept by the entry like a loaded subtree: the next read is one hop. */
		e->blob = b;
		e->blob_stored = true;
	}
	return vs_buf_set(out, e->blob->data, e->blob->len);
}

struct vs_tree *vs__node_edit(struct vs_tree *t, long k, size_t pos, const char *name,
			      size_t namelen, bool remove, unsigned int mode,
			      struct vs_tree *child, struct vs_blob *blob)
{
	size_t n = t->n + (k < 0 ? 1 : 0) - (remove ? 1 : 0);
	struct vs_tree *c = vs__node_alloc(t->repo, n, t->names_len + namelen + 1);
	size_t at = k >= 0 ? (size_t)k : pos, j = 0;

	if (!c)
		return NULL;
	vs__tree_derive(c, t);
	for (size_t i = 0; i <= t->n; i++) {
		if (i == at && !remove) {
			struct entry *e = &c->e[j++];
			e->name_off = vs__names_add(c, name, namelen);
			e->namelen = (uint32_t)namelen;
			e->mode = mode;
			e->tree = vs_tree_dup(child);
			e->blob = blob;
			if (blob)
				blob->refs++;
		}
		if (i == t->n)
			break;
		if (i == (size_t)k)
			continue;
		c->ids[j] = t->ids[i];
		struct entry *e = &c->e[j++];
		*e = t->e[i];
		e->name_off = vs__names_add(c, vs__ename(t, &t->e[i]), t->e[i].namelen);
		vs_tree_dup(e->tree);
		if (e->blob)
			e->blob->refs++;
	}
	assert(j == n);
	c->n = n;
	return c;
}

struct vs_tree *vs__flat_from(struct vs_repo *repo, const struct vs__dent *v, size_t n)
{
	size_t names = 0;
	struct vs_tree *c;

	for (size_t k = 0; k < n; k++)
		names += v[k].leaf->e[v[k].i].namelen + 1;
	if (!(c = vs__node_alloc(repo, n, names)))
		return NULL;
	for (size_t k = 0; k < n; k++) {
		const struct vs_tree *t = v[k].leaf;
		struct entry *e = &c->e[k];
		*e = t->e[v[k].i];
		c->ids[k] = t->ids[v[k].i];
		e->name_off = vs__names_add(c, vs__ename(t, &t->e[v[k].i]), e->namelen);
		vs_tree_dup(e->tree);
		if (e->blob)
			e->blob->refs++;
	}
	c->n = n;
	return c;
}
