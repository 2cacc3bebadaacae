/* SPDX-License-Identifier: MIT */
/*
 * Immutable, structurally shared trees.
 *
 * A node holds its entries sorted by name (bytewise; the format reorders
 * them as it needs when encoding). An entry refers to its child by id; a
 * subtree or value, once loaded, read or built by an update, is also kept by
 * pointer, so reading a path again is a chain of pointer hops with no
 * backend access. A tree thus holds at most what was read or written through
 * it (a daemon's current tree becomes an in-memory tree, as xenstored's is)
 * and drops it when freed. The repo's caches, bounded by count and by bytes,
 * find loaded nodes and values by id for other trees: commits share most of
 * their nodes. A new value is marked stored once the batch writing it commits.
 *
 * Updates copy only the nodes on the path from the root. Ids are computed
 * lazily (vs_tree_id) or when stored, and remembered: a node never changes
 * its entries after creation, only these memos and the "stored" flag.
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

static struct vs_blob *blob_new(const void *data, size_t len)
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

static struct vs_tree *node_alloc(struct vs_repo *repo, size_t n, size_t names_cap)
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
	vs_free(t);
}

int vs_tree_new(struct vs_tree **out, struct vs_repo *repo)
{
	VS_CHECK_ARG(out && repo);
	if (!(*out = node_alloc(repo, 0, 0)))
		return vs__enomem();
	return 0;
}

struct vs_repo *vs_tree_repo(const struct vs_tree *t)
{
	return t->repo;
}

size_t vs_tree_entrycount(struct vs_tree *t)
{
	return t->n;
}

/* Append a name to @t's name buffer (which was sized by the caller). */
static uint32_t names_add(struct vs_tree *t, const char *name, size_t len)
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
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
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
	return name_cmp(base + (uintptr_t)x->name, x->namelen, base + (uintptr_t)y->name,
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
	if (!(t = node_alloc(repo, c->n, c->names.size)))
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &t->e[i];
		e->name_off = names_add(t, c->names.ptr + (uintptr_t)c->e[i].name, c->e[i].namelen);
		e->namelen = (uint32_t)c->e[i].namelen;
		e->mode = c->e[i].mode;
		e->has_id = true;
		t->ids[i] = c->e[i].id;
	}
	t->n = c->n;
	return t;
}

static int tree_load(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id)
{
	struct load_ctx ctx = { 0 };
	struct vs_tree *t = NULL;
	int err;

	if ((*out = vs__cache_get(repo, id)))
		return 0;
	err = repo->format->tree_load(repo->format, &repo->io_read, id, load_entry, &ctx);
	if (err >= 0 && !(t = node_from(repo, &ctx)))
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
	return tree_load(out, repo, id);
}

/* ---- paths ---- */

struct path {
	const char *comp[VS_TREE_MAX_DEPTH];
	size_t len[VS_TREE_MAX_DEPTH];
	size_t n;
};

static int path_split(struct path *p, const char *path)
{
	const char *s = path;
	p->n = 0;
	if (!path)
		return vs_error_set(VS_EINVAL, "NULL path");
	if (*s == '/')
		s++;
	while (*s) {
		size_t len = strcspn(s, "/");
		if (!len)
			return vs_error_set(VS_EINVAL, "path '%s' has an empty component", path);
		if (p->n == VS_TREE_MAX_DEPTH)
			return vs_error_set(VS_EINVAL, "path '%s' is deeper than %d", path,
					    VS_TREE_MAX_DEPTH);
		p->comp[p->n] = s;
		p->len[p->n++] = len;
		s += len;
		if (*s == '/' && !*++s)
			return vs_error_set(VS_EINVAL, "path '%s' ends with '/'", path);
	}
	return 0;
}

int vs__name_check(const char *name, size_t len)
{
	char low[8];
	size_t trimmed = len;

	if (len == 0 || len > 255)
		return vs_error_set(VS_EINVAL, "a name has 1 to 255 bytes");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c > 0x7e || c == '/' || c == '\\')
			return vs_error_set(VS_EINVAL,
					    "name '%.*s' has a byte outside printable ASCII, "
					    "'/' or '\\'",
					    (int)len, name);
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return vs_error_set(VS_EINVAL, "'.' and '..' are not names");
	/* git fsck rejects ".git" in any case, with trailing dots or spaces
	 * (NTFS), its 8.3 alias "git~1", and polices ".gitmodules"-like files. */
	while (trimmed && (name[trimmed - 1] == '.' || name[trimmed - 1] == ' '))
		trimmed--;
	for (size_t i = 0; i < sizeof(low) && i < trimmed; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	if ((trimmed >= 4 && !memcmp(low, ".git", 4)) || (trimmed == 5 && !memcmp(low, "git~1", 5)))
		return vs_error_set(VS_EINVAL, "name '%.*s' is reserved by git", (int)len, name);
	return 0;
}

/* Index of @name in @t, or -1 with *pos = where it would be inserted. */
static long find(const struct vs_tree *t, const char *name, size_t len, size_t *pos)
{
	size_t lo = 0, hi = t->n;

	/* Small nodes (most of them): a forward scan reads memory in order. */
	if (t->n <= 8) {
		for (size_t i = 0; i < t->n; i++) {
			const struct entry *e = &t->e[i];
			int c = name_cmp(vs__ename(t, e), e->namelen, name, len);
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
		int c = name_cmp(vs__ename(t, e), e->namelen, name, len);
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
static int child_borrow(struct vs_tree **out, struct vs_tree *t, struct entry *e)
{
	int err;
	if (!vs__is_tree_mode(e->mode))
		return vs_error_set(VS_ENOTDIR, "'%s' is not a tree", vs__ename(t, e));
	if (!e->tree && (err = tree_load(&e->tree, t->repo, vs__eid(t, e))) < 0)
		return err;
	*out = e->tree;
	return 0;
}

/* The subtree behind entry @e of @t (a new reference). */
static int entry_child(struct vs_tree **out, struct vs_tree *t, struct entry *e)
{
	int err = child_borrow(out, t, e);
	if (err >= 0)
		vs_tree_dup(*out);
	return err;
}

/* Walk to the node holding the last component; *out is borrowed from @root. */
static int walk_parent(struct vs_tree **out, struct vs_tree *root, const struct path *p,
		       const char *path)
{
	struct vs_tree *cur = root;
	int err;

	for (size_t i = 0; i + 1 < p->n; i++) {
		long k = find(cur, p->comp[i], p->len[i], NULL);
		if (k < 0)
			return vs_error_set(VS_ENOENT, "no entry '%s'", path);
		if (!vs__is_tree_mode(cur->e[k].mode))
			return vs_error_set(VS_ENOENT, "no entry '%s' ('%.*s' is a value)", path,
					    (int)p->len[i], p->comp[i]);
		if ((err = child_borrow(&cur, cur, &cur->e[k])) < 0)
			return err;
	}
	*out = cur;
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
	if (!repo->values.max || !(b = blob_new(raw->ptr, raw->size)))
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

int vs_tree_get(struct vs_buf *out, struct vs_tree *t, const char *path)
{
	struct vs_tree *parent;
	struct path p;
	int err;

	VS_CHECK_ARG(out && t);
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n)
		return vs_error_set(VS_EISDIR, "the root is a tree");
	if ((err = walk_parent(&parent, t, &p, path)) < 0)
		return err;
	long k = find(parent, p.comp[p.n - 1], p.len[p.n - 1], NULL);
	if (k < 0)
		err = vs_error_set(VS_ENOENT, "no entry '%s'", path);
	else if (vs__is_tree_mode(parent->e[k].mode))
		err = vs_error_set(VS_EISDIR, "'%s' is a tree", path);
	else
		err = vs__tree_entry_value(out, parent, (size_t)k);
	return err;
}

static enum vs_entry_kind mode_kind(unsigned int mode)
{
	return vs__is_tree_mode(mode) ? VS_ENTRY_TREE : mode == 0160000 ? VS_ENTRY_COMMIT
								    : VS_ENTRY_BLOB;
}

int vs_tree_stat(struct vs_tree_stat *out, struct vs_tree *t, const char *path)
{
	struct vs_tree *parent;
	struct path p;
	int err;

	VS_CHECK_ARG(out && t);
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n) {
		*out = (struct vs_tree_stat){ .kind = VS_ENTRY_TREE, .mode = 040000 };
		return vs_tree_id(&out->id, t);
	}
	if ((err = walk_parent(&parent, t, &p, path)) < 0)
		return err;
	long k = find(parent, p.comp[p.n - 1], p.len[p.n - 1], NULL);
	if (k < 0) {
		err = vs_error_set(VS_ENOENT, "no entry '%s'", path);
	} else {
		out->kind = mode_kind(parent->e[k].mode);
		out->mode = parent->e[k].mode;
		err = vs__tree_entry_id(&out->id, parent, (size_t)k);
	}
	return err;
}

int vs_tree_subtree(struct vs_tree **out, struct vs_tree *t, const char *path)
{
	struct vs_tree *parent;
	struct path p;
	int err;

	VS_CHECK_ARG(out && t);
	*out = NULL;
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n) {
		*out = vs_tree_dup(t);
		return 0;
	}
	if ((err = walk_parent(&parent, t, &p, path)) < 0)
		return err;
	long k = find(parent, p.comp[p.n - 1], p.len[p.n - 1], NULL);
	if (k < 0)
		err = vs_error_set(VS_ENOENT, "no entry '%s'", path);
	else
		err = entry_child(out, parent, &parent->e[k]);
	return err;
}

/* ---- updates ---- */

/* What to put at the end of the path: a value, a subtree, or nothing. */
struct update {
	struct vs_blob *blob;  /* set a value */
	struct vs_tree *tree;  /* graft a (non-empty) subtree */
	bool remove;           /* remove the entry */
	const char *path;      /* for messages */
};

/*
 * A copy of @t with entry @k replaced (k >= 0), removed (@remove), or a new
 * entry inserted at @pos (k < 0). The new entry takes references to
 * @child / @blob. Returns NULL on allocation failure.
 */
static struct vs_tree *node_edit(struct vs_tree *t, long k, size_t pos, const char *name,
				 size_t namelen, bool remove, struct vs_tree *child,
				 struct vs_blob *blob)
{
	size_t n = t->n + (k < 0 ? 1 : 0) - (remove ? 1 : 0);
	struct vs_tree *c = node_alloc(t->repo, n, t->names_len + namelen + 1);
	size_t at = k >= 0 ? (size_t)k : pos, j = 0;

	if (!c)
		return NULL;
	for (size_t i = 0; i <= t->n; i++) {
		if (i == at && !remove) {
			struct entry *e = &c->e[j++];
			e->name_off = names_add(c, name, namelen);
			e->namelen = (uint32_t)namelen;
			e->mode = child ? 040000 : 0100644;
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
		e->name_off = names_add(c, vs__ename(t, &t->e[i]), t->e[i].namelen);
		vs_tree_dup(e->tree);
		if (e->blob)
			e->blob->refs++;
	}
	assert(j == n);
	c->n = n;
	return c;
}

static int update_rec(struct vs_tree **out, struct vs_tree *t, const struct path *p, size_t i,
		      const struct update *u)
{
	size_t pos = 0;
	long k = find(t, p->comp[i], p->len[i], &pos);
	bool last = i + 1 == p->n;
	struct vs_tree *child = NULL, *nchild = NULL;
	int err = 0;

	*out = NULL;
	if (last) {
		if (u->remove && k < 0) {
			*out = vs_tree_dup(t);
			return 0;
		}
		if (u->blob && k >= 0 && vs__is_tree_mode(t->e[k].mode))
			return vs_error_set(VS_EISDIR, "'%s' is a tree", u->path);
		*out = node_edit(t, k, pos, p->comp[i], p->len[i], u->remove, u->tree, u->blob);
		return *out ? 0 : vs__enomem();
	}
	if (k >= 0 && !vs__is_tree_mode(t->e[k].mode)) {
		if (u->remove) {
			*out = vs_tree_dup(t);
			return 0;
		}
		return vs_error_set(VS_ENOTDIR, "'%.*s' in '%s' is a value", (int)p->len[i],
				    p->comp[i], u->path);
	}
	if (k < 0) {
		if (u->remove) {
			*out = vs_tree_dup(t);
			return 0;
		}
		err = vs_tree_new(&child, t->repo);
	} else {
		err = entry_child(&child, t, &t->e[k]);
	}
	if (err < 0)
		return err;
	if ((err = update_rec(&nchild, child, p, i + 1, u)) < 0)
		goto out;
	if (nchild == child) {
		*out = vs_tree_dup(t); /* nothing changed below */
		goto out;
	}
	/* A subtree left empty disappears, as git cannot store it. */
	*out = node_edit(t, k, pos, p->comp[i], p->len[i], nchild->n == 0, nchild, NULL);
	if (!*out)
		err = vs__enomem();
out:
	vs_tree_free(child);
	vs_tree_free(nchild);
	return err;
}

static int update(struct vs_tree **out, struct vs_tree *t, const char *path,
		  const struct update *u)
{
	struct path p;
	int err;

	*out = NULL;
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!u->remove)
		for (size_t i = 0; i < p.n; i++)
			if ((err = vs__name_check(p.comp[i], p.len[i])) < 0)
				return vs__error_wrap(err, "path '%s'", path);
	if (!p.n) {
		if (u->blob)
			return vs_error_set(VS_EINVAL, "cannot set a value at the root");
		if (u->tree) {
			*out = vs_tree_dup(u->tree);
			return 0;
		}
		return vs_tree_new(out, t->repo); /* remove everything */
	}
	return update_rec(out, t, &p, 0, u);
}

int vs_tree_set(struct vs_tree **out, struct vs_tree *t, const char *path, const void *data,
		size_t len)
{
	VS_CHECK_ARG(out && t && (data || !len));
	struct vs_blob *b = blob_new(data, len);
	if (!b)
		return vs__enomem();
	struct update u = { .blob = b, .path = path };
	int err = update(out, t, path, &u);
	vs__blob_free(b);
	return err;
}

int vs_tree_set_tree(struct vs_tree **out, struct vs_tree *t, const char *path,
		     struct vs_tree *sub)
{
	VS_CHECK_ARG(out && t && sub);
	if (sub->repo != t->repo)
		return vs_error_set(VS_EINVAL, "cannot graft a tree of another repo");
	struct update u = { .tree = sub, .remove = sub->n == 0, .path = path };
	return update(out, t, path, &u);
}

int vs_tree_remove(struct vs_tree **out, struct vs_tree *t, const char *path)
{
	VS_CHECK_ARG(out && t);
	struct update u = { .remove = true, .path = path };
	return update(out, t, path, &u);
}

/* ---- listing and walking ---- */

size_t vs__tree_count(const struct vs_tree *t)
{
	return t->n;
}

const char *vs__tree_entry_name(const struct vs_tree *t, size_t i)
{
	return vs__ename(t, &t->e[i]);
}

unsigned int vs__tree_entry_mode(const struct vs_tree *t, size_t i)
{
	return t->e[i].mode;
}

int vs__tree_entry_child(struct vs_tree **out, struct vs_tree *t, size_t i)
{
	return entry_child(out, t, &t->e[i]);
}

int vs_tree_list(struct vs_tree *t, const char *path, vs_tree_list_fn *cb, void *payload)
{
	struct vs_tree *dir;
	int err;

	VS_CHECK_ARG(t && cb);
	if ((err = vs_tree_subtree(&dir, t, path ? path : "")) < 0)
		return err;
	for (size_t i = 0; i < dir->n && !err; i++) {
		struct vs_tree_stat st = { .kind = mode_kind(dir->e[i].mode),
					   .mode = dir->e[i].mode };
		if ((err = vs__tree_entry_id(&st.id, dir, i)) < 0)
			break;
		err = cb(payload, vs__ename(dir, &dir->e[i]), &st);
	}
	vs_tree_free(dir);
	return err;
}

static int walk_rec(struct vs_tree *t, struct vs_buf *path, struct vs_buf *val,
		    vs_tree_walk_fn *cb, void *payload)
{
	size_t base = path->size;
	int err = 0;

	for (size_t i = 0; i < t->n && !err; i++) {
		struct entry *e = &t->e[i];
		path->size = base;
		if ((base && (err = vs_buf_putc(path, '/')) < 0) ||
		    (err = vs_buf_put(path, vs__ename(t, e), e->namelen)) < 0)
			break;
		if (vs__is_tree_mode(e->mode)) {
			struct vs_tree *child;
			if ((err = entry_child(&child, t, e)) < 0)
				break;
			err = walk_rec(child, path, val, cb, payload);
			vs_tree_free(child);
		} else if (e->mode != 0160000) {
			if ((err = vs__tree_entry_value(val, t, i)) < 0)
				break;
			err = cb(payload, path->ptr, val->ptr, val->size);
		}
	}
	path->size = base;
	if (path->ptr)
		path->ptr[base] = '\0';
	return err;
}

int vs_tree_walk(struct vs_tree *t, const char *path, vs_tree_walk_fn *cb, void *payload)
{
	struct vs_buf pbuf = VS_BUF_INIT, val = VS_BUF_INIT;
	struct vs_tree *dir;
	struct vs_tree_stat st;
	int err;

	VS_CHECK_ARG(t && cb);
	path = path ? path : "";
	if ((err = vs_tree_stat(&st, t, path)) < 0)
		return err;
	if (st.kind == VS_ENTRY_BLOB) {
		if ((err = vs_tree_get(&val, t, path)) >= 0)
			err = cb(payload, *path == '/' ? path + 1 : path, val.ptr, val.size);
		vs_buf_release(&val);
		return err;
	}
	if ((err = vs_tree_subtree(&dir, t, path)) < 0)
		return err;
	if ((err = vs_buf_puts(&pbuf, *path == '/' ? path + 1 : path)) >= 0)
		err = walk_rec(dir, &pbuf, &val, cb, payload);
	vs_tree_free(dir);
	vs_buf_release(&pbuf);
	vs_buf_release(&val);
	return err;
}
