/* SPDX-License-Identifier: MIT */
/*
 * Immutable, structurally shared trees: the public path API.
 *
 * A node holds its entries sorted by name (bytewise; the format reorders
 * them as it needs when encoding). An entry refers to its child by id; a
 * subtree or value, once loaded, read or built by an update, is also kept by
 * pointer, so reading a path again is a chain of pointer hops with no
 * backend access. A tree thus holds at most what was read or written through
 * it (a daemon's current tree becomes an in-memory tree, as xenstored's is)
 * and drops it when freed. The repo's caches, bounded by count and by bytes,
 * find loaded nodes and values by id for other trees: commits share most of
 * their nodes. Large directories are split into bounded nodes where the
 * format asks for it (tree_inode.c).
 *
 * Updates copy only the nodes on the path from the root. Ids are computed
 * lazily (vs_tree_id) or when stored, and remembered (tree_write.c).
 */
#include "tree_int.h"

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

/* Find path component @i of @p in directory @dir: *leaf and *k (-1: absent). */
static int find_comp(struct vs_tree **leaf, long *k, struct vs_tree *dir, const struct path *p,
		     size_t i)
{
	struct vs__nameh nh = { p->comp[i], p->len[i], false, { 0 } };
	return vs__dir_find(leaf, k, dir, &nh);
}

/* Walk to the directory holding the last component; *out is borrowed from @root. */
static int walk_parent(struct vs_tree **out, struct vs_tree *root, const struct path *p,
		       const char *path)
{
	struct vs_tree *cur = root, *leaf;
	long k;
	int err;

	for (size_t i = 0; i + 1 < p->n; i++) {
		if ((err = find_comp(&leaf, &k, cur, p, i)) < 0)
			return err;
		if (k < 0)
			return vs_error_set(VS_ENOENT, "no entry '%s'", path);
		if (!vs__is_tree_mode(leaf->e[k].mode))
			return vs_error_set(VS_ENOENT, "no entry '%s' ('%.*s' is a value)", path,
					    (int)p->len[i], p->comp[i]);
		if ((err = vs__child_borrow(&cur, leaf, &leaf->e[k])) < 0)
			return err;
	}
	*out = cur;
	return 0;
}

/* The entry at @path (not the root): *leaf and *k, both borrowed from @t. */
static int lookup(struct vs_tree **leaf, long *k, struct vs_tree *t, const struct path *p,
		  const char *path)
{
	struct vs_tree *dir = NULL;
	int err;

	if ((err = walk_parent(&dir, t, p, path)) < 0 ||
	    (err = find_comp(leaf, k, dir, p, p->n - 1)) < 0)
		return err;
	return *k < 0 ? vs_error_set(VS_ENOENT, "no entry '%s'", path) : 0;
}

int vs_tree_get(struct vs_buf *out, struct vs_tree *t, const char *path)
{
	struct vs_tree *leaf;
	struct path p;
	long k;
	int err;

	VS_CHECK_ARG(out && t);
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n)
		return vs_error_set(VS_EISDIR, "the root is a tree");
	if ((err = lookup(&leaf, &k, t, &p, path)) < 0)
		return err;
	if (vs__is_tree_mode(leaf->e[k].mode))
		return vs_error_set(VS_EISDIR, "'%s' is a tree", path);
	return vs__tree_entry_value(out, leaf, (size_t)k);
}

static enum vs_entry_kind mode_kind(unsigned int mode)
{
	return vs__is_tree_mode(mode) ? VS_ENTRY_TREE : mode == 0160000 ? VS_ENTRY_COMMIT
								    : VS_ENTRY_BLOB;
}

int vs_tree_stat(struct vs_tree_stat *out, struct vs_tree *t, const char *path)
{
	struct vs_tree *leaf;
	struct path p;
	long k;
	int err;

	VS_CHECK_ARG(out && t);
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n) {
		*out = (struct vs_tree_stat){ .kind = VS_ENTRY_TREE, .mode = 040000 };
		return vs_tree_id(&out->id, t);
	}
	if ((err = lookup(&leaf, &k, t, &p, path)) < 0)
		return err;
	out->kind = mode_kind(leaf->e[k].mode);
	out->mode = leaf->e[k].mode;
	return vs__tree_entry_id(&out->id, leaf, (size_t)k);
}

int vs_tree_subtree(struct vs_tree **out, struct vs_tree *t, const char *path)
{
	struct vs_tree *leaf, *sub;
	struct path p;
	long k;
	int err;

	VS_CHECK_ARG(out && t);
	*out = NULL;
	if ((err = path_split(&p, path)) < 0)
		return err;
	if (!p.n) {
		*out = vs_tree_dup(t);
		return 0;
	}
	if ((err = lookup(&leaf, &k, t, &p, path)) < 0 ||
	    (err = vs__child_borrow(&sub, leaf, &leaf->e[k])) < 0)
		return err;
	*out = vs_tree_dup(sub);
	return 0;
}

/* ---- updates ---- */

/* What to put at the end of the path: a value, a subtree, or nothing. */
struct update {
	struct vs_blob *blob;  /* set a value */
	struct vs_tree *tree;  /* graft a (non-empty) subtree */
	bool remove;           /* remove the entry */
	const char *path;      /* for messages */
};

static int update_rec(struct vs_tree **out, struct vs_tree *t, const struct path *p, size_t i,
		      const struct update *u)
{
	struct vs__nameh nh = { p->comp[i], p->len[i], false, { 0 } };
	struct vs_tree *leaf, *child = NULL, *nchild = NULL;
	bool last = i + 1 == p->n;
	long k;
	int delta, err;

	*out = NULL;
	if ((err = vs__dir_find(&leaf, &k, t, &nh)) < 0)
		return err;
	if (last) {
		if (u->blob && k >= 0 && vs__is_tree_mode(leaf->e[k].mode))
			return vs_error_set(VS_EISDIR, "'%s' is a tree", u->path);
		return vs__dir_put(out, &delta, t, 0, &nh, u->remove,
				   u->tree ? 040000 : 0100644, u->tree, u->blob);
	}
	if (k >= 0 && !vs__is_tree_mode(leaf->e[k].mode)) {
		if (u->remove) {
			*out = vs_tree_dup(t);
			return 0;
		}
		return vs_error_set(VS_ENOTDIR, "'%.*s' in '%s' is a value", (int)p->len[i],
				    p->comp[i], u->path);
	}
	if (k < 0 && u->remove) {
		*out = vs_tree_dup(t);
		return 0;
	}
	if (k < 0)
		err = vs_tree_new(&child, t->repo);
	else if ((err = vs__child_borrow(&child, leaf, &leaf->e[k])) >= 0)
		vs_tree_dup(child);
	if (err < 0)
		return err;
	if ((err = update_rec(&nchild, child, p, i + 1, u)) < 0)
		goto out;
	if (nchild == child) {
		*out = vs_tree_dup(t); /* nothing changed below */
		goto out;
	}
	/* A subtree left empty disappears, as git cannot store it. */
	err = vs__dir_put(out, &delta, t, 0, &nh, vs__dir_count(nchild) == 0, 040000, nchild,
			  NULL);
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
	struct vs_blob *b = vs__blob_new(data, len);
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
	bool empty = vs__dir_count(sub) == 0;
	struct update u = { .tree = empty ? NULL : sub, .remove = empty, .path = path };
	return update(out, t, path, &u);
}

int vs_tree_remove(struct vs_tree **out, struct vs_tree *t, const char *path)
{
	VS_CHECK_ARG(out && t);
	struct update u = { .remove = true, .path = path };
	return update(out, t, path, &u);
}

/* ---- listing and walking ---- */

int vs_tree_list(struct vs_tree *t, const char *path, vs_tree_list_fn *cb, void *payload)
{
	struct vs_tree *dir;
	struct vs__dent *v = NULL;
	size_t n = 0;
	int err;

	VS_CHECK_ARG(t && cb);
	if ((err = vs_tree_subtree(&dir, t, path ? path : "")) < 0)
		return err;
	if ((err = vs__dir_collect(&v, &n, dir)) < 0)
		goto out;
	for (size_t i = 0; i < n && !err; i++) {
		struct entry *e = &v[i].leaf->e[v[i].i];
		struct vs_tree_stat st = { .kind = mode_kind(e->mode), .mode = e->mode };
		if ((err = vs__tree_entry_id(&st.id, v[i].leaf, v[i].i)) < 0)
			break;
		err = cb(payload, vs__ename(v[i].leaf, e), &st);
	}
out:
	vs_free(v);
	vs_tree_free(dir);
	return err;
}

static int walk_rec(struct vs_tree *t, struct vs_buf *path, struct vs_buf *val,
		    vs_tree_walk_fn *cb, void *payload)
{
	size_t base = path->size, n = 0;
	struct vs__dent *v = NULL;
	int err = vs__dir_collect(&v, &n, t);

	for (size_t i = 0; i < n && !err; i++) {
		struct vs_tree *leaf = v[i].leaf, *child;
		struct entry *e = &leaf->e[v[i].i];
		path->size = base;
		if ((base && (err = vs_buf_putc(path, '/')) < 0) ||
		    (err = vs_buf_put(path, vs__ename(leaf, e), e->namelen)) < 0)
			break;
		if (vs__is_tree_mode(e->mode)) {
			if ((err = vs__child_borrow(&child, leaf, e)) >= 0)
				err = walk_rec(child, path, val, cb, payload);
		} else if (e->mode != 0160000) {
			if ((err = vs__tree_entry_value(val, leaf, v[i].i)) >= 0)
				err = cb(payload, path->ptr, val->ptr, val->size);
		}
	}
	vs_free(v);
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
