/* SPDX-License-Identifier: MIT */
/*
 * Xenstore nodes as store trees (DESIGN.md §3). Node /a/b is the subtree
 * a/b: its value in the entry ".value" (absent when empty), its metadata
 * (permissions, creation sequence number, label) in ".meta", its children
 * as subtrees under their own names. Names never start with '.', so the
 * reserved entries cannot collide, and a node's tree is never empty. The
 * special nodes (@introduceDomain, @releaseDomain) are top-level subtrees
 * that DIRECTORY of "/" does not list.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define META_NAME ".meta"

void xsd__node_init(struct xsd_node *n)
{
	n->value = (struct vs_buf)VS_BUF_INIT;
	xsd_meta_init(&n->meta);
}

void xsd__node_release(struct xsd_node *n)
{
	vs_buf_release(&n->value);
	xsd_meta_release(&n->meta);
}

/* The subtree of node @path, a new reference. VS_ENOENT when there is none. */
static int node_tree(struct vs_tree **out, struct vs_tree *root, const char *path)
{
	char sp[XSD_STORE_PATH_BUF];
	int err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE);
	if (err < 0)
		return err;
	if (!*sp) {
		*out = vs_tree_dup(root);
		return 0;
	}
	err = vs_tree_subtree(out, root, sp);
	return err == VS_ENOTDIR ? VS_ENOENT : err;
}

static int meta_of(struct xsd_meta *out, struct vs_tree *node)
{
	struct vs_buf raw = VS_BUF_INIT;
	int err = vs_tree_get(&raw, node, META_NAME);
	if (err == VS_EISDIR)
		err = vs_error_set(VS_ENOENT, "not a node");
	if (err >= 0)
		err = xsd_meta_parse(out, raw.ptr, raw.size);
	vs_buf_release(&raw);
	return err;
}

int xsd__node_meta(struct xsd_meta *out, struct vs_tree *root, const char *path)
{
	struct vs_tree *node;
	int err = node_tree(&node, root, path);
	if (err < 0)
		return err;
	err = meta_of(out, node);
	vs_tree_free(node);
	return err;
}

int xsd__node_read(struct xsd_node *out, struct vs_tree *root, const char *path)
{
	struct vs_tree *node;
	int err = node_tree(&node, root, path);
	if (err < 0)
		return err;
	if ((err = meta_of(&out->meta, node)) >= 0) {
		err = vs_tree_get(&out->value, node, ".value");
		if (err == VS_ENOENT) {
			vs_buf_clear(&out->value);
			err = 0;
		}
	}
	vs_tree_free(node);
	return err;
}

bool xsd__node_exists(struct vs_tree *root, const char *path)
{
	struct vs_tree_stat st;
	char sp[XSD_STORE_PATH_BUF];
	return xsd_path_store(sp, sizeof(sp), path, XSD_STORE_META) >= 0 &&
	       vs_tree_stat(&st, root, sp) >= 0 && st.kind == VS_ENTRY_BLOB;
}

static void tree_replace(struct vs_tree **root, struct vs_tree *next)
{
	vs_tree_free(*root);
	*root = next;
}

int xsd__node_put(struct vs_tree **root, const char *path, const void *value, size_t len,
		  bool set_value, const struct xsd_meta *meta)
{
	char buf[XSD_STORE_PATH_BUF];
	struct vs_tree *next;
	int err;

	if (set_value) {
		if ((err = xsd_path_store(buf, sizeof(buf), path, XSD_STORE_VALUE)) < 0)
			return err;
		err = len ? vs_tree_set(&next, *root, buf, value, len)
			  : vs_tree_remove(&next, *root, buf);
		if (err < 0)
			return err;
		tree_replace(root, next);
	}
	if (meta) {
		struct vs_buf raw = VS_BUF_INIT;
		if ((err = xsd_path_store(buf, sizeof(buf), path, XSD_STORE_META)) < 0 ||
		    (err = xsd_meta_format(&raw, meta)) < 0 ||
		    (err = vs_tree_set(&next, *root, buf, raw.ptr, raw.size)) < 0) {
			vs_buf_release(&raw);
			return err;
		}
		vs_buf_release(&raw);
		tree_replace(root, next);
	}
	return 0;
}

int xsd__node_remove(struct vs_tree **root, const char *path)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_tree *next;
	int err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE);
	if (err >= 0)
		err = vs_tree_remove(&next, *root, sp);
	if (err >= 0)
		tree_replace(root, next);
	return err;
}

/*
 * Call @cb for each child node of node tree @node, with its Xenstore name
 * and its tree: names longer than a store name are chains of chunks
 * (xsd_path_store), followed here. Special nodes are skipped at the root.
 */
typedef int child_fn(void *payload, const char *name, struct vs_tree *child);

struct each_ctx {
	struct vs_tree *tree;
	char name[XSD_PATH_BUF];
	size_t len;
	bool top;
	child_fn *cb;
	void *payload;
};

static int each_entry(void *payload, const char *name, const struct vs_tree_stat *st)
{
	struct each_ctx *ec = payload;
	enum xsd_store_entry kind = xsd_store_entry_kind(name);
	struct vs_tree *child;
	size_t keep = ec->len, nl = strlen(name);
	int err;

	if (st->kind != VS_ENTRY_TREE || (kind != XSD_ENTRY_CHILD && kind != XSD_ENTRY_CHUNK))
		return 0;
	if (ec->top && name[0] == '.')
		return 0; /* ".@name": a special node, not a child of "/" */
	if (keep + nl >= sizeof(ec->name))
		return vs_error_set(VS_ECORRUPT, "node name too long in the store");
	if ((err = vs_tree_subtree(&child, ec->tree, name)) < 0)
		return err;
	memcpy(ec->name + keep, name, nl + 1);
	if (kind == XSD_ENTRY_CHUNK) {
		struct vs_tree *parent = ec->tree;
		bool top = ec->top;
		ec->len = keep + nl - 1; /* without the chunk's '.' */
		ec->tree = child;
		ec->top = false;
		err = vs_tree_list(child, "", each_entry, ec);
		ec->tree = parent;
		ec->top = top;
	} else {
		err = ec->cb(ec->payload, ec->name, child);
	}
	vs_tree_free(child);
	ec->len = keep;
	ec->name[keep] = '\0';
	return err;
}

static int each_child(struct vs_tree *node, bool top, child_fn *cb, void *payload)
{
	struct each_ctx ec = { .tree = node, .top = top, .cb = cb, .payload = payload };
	return vs_tree_list(node, "", each_entry, &ec);
}

struct children_ctx {
	struct xsd_child *v;
	size_t n, cap;
	bool lenient;         /* a child without readable metadata sorts last */
	struct xsd_meta meta; /* reused from child to child: one allocation for all */
};

static int child_cb(void *payload, const char *name, struct vs_tree *child)
{
	struct children_ctx *cx = payload;
	int err;

	if (cx->n == cx->cap) {
		size_t ncap = cx->cap ? cx->cap * 2 : 16;
		struct xsd_child *nv = realloc(cx->v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		cx->v = nv;
		cx->cap = ncap;
	}
	uint64_t seq;
	if ((err = meta_of(&cx->meta, child)) >= 0)
		seq = cx->meta.seq;
	else if (cx->lenient && err != VS_ENOMEM)
		seq = UINT64_MAX; /* then by name */
	else
		return err;
	if (!(cx->v[cx->n].name = strdup(name)))
		return VS_ENOMEM;
	cx->v[cx->n++].seq = seq;
	return 0;
}

static int child_cmp(const void *a, const void *b)
{
	const struct xsd_child *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int children(struct xsd_child **out, size_t *n, struct vs_tree *root, const char *path,
		    bool lenient)
{
	struct children_ctx cx = { .lenient = lenient };
	struct vs_tree *node;
	int err = node_tree(&node, root, path);

	*out = NULL;
	*n = 0;
	if (err < 0)
		return err;
	xsd_meta_init(&cx.meta);
	err = each_child(node, !strcmp(path, "/"), child_cb, &cx);
	xsd_meta_release(&cx.meta);
	vs_tree_free(node);
	if (err < 0) {
		xsd__children_free(cx.v, cx.n);
		return err;
	}
	if (cx.n > 1)
		qsort(cx.v, cx.n, sizeof(*cx.v), child_cmp);
	*out = cx.v;
	*n = cx.n;
	return 0;
}

int xsd__node_children(struct xsd_child **out, size_t *n, struct vs_tree *root, const char *path)
{
	return children(out, n, root, path, false);
}

int xsd__node_children_lenient(struct xsd_child **out, size_t *n, struct vs_tree *root,
			       const char *path)
{
	return children(out, n, root, path, true);
}

static int len_cb(void *payload, const char *name, struct vs_tree *child)
{
	size_t *len = payload;
	(void)child;
	*len += strlen(name) + 1;
	return 0;
}

/*
 * Listings of large directories by the id of the node's tree: sorting a
 * listing needs every child's metadata, and a directory read again
 * unchanged has the same id. Direct-mapped, bounded, copies handed out.
 */
#define DIRCACHE_SLOTS 128
#define DIRCACHE_MIN 8 /* smaller listings are cheap to build */

struct dircache_slot {
	struct vs_oid id;
	bool top;
	struct xsd_child *v;
	size_t n;
};

struct xsd_dircache {
	struct dircache_slot slot[DIRCACHE_SLOTS];
};

int xsd__dircache_new(struct xsd_dircache **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return vs_error_set(VS_ENOMEM, "out of memory");
	return 0;
}

void xsd__dircache_free(struct xsd_dircache *dc)
{
	if (!dc)
		return;
	for (size_t i = 0; i < DIRCACHE_SLOTS; i++)
		xsd__children_free(dc->slot[i].v, dc->slot[i].n);
	free(dc);
}

static int children_copy(struct xsd_child **out, const struct xsd_child *v, size_t n)
{
	struct xsd_child *c = calloc(n ? n : 1, sizeof(*c));
	if (!c)
		return VS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i].seq = v[i].seq;
		if (!(c[i].name = strdup(v[i].name))) {
			xsd__children_free(c, i);
			return VS_ENOMEM;
		}
	}
	*out = c;
	return 0;
}

int xsd__node_children_cached(struct xsd_child **out, size_t *n, struct xsd_dircache *dc,
			      struct vs_tree *root, const char *path)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_tree_stat st;
	bool top = !strcmp(path, "/");
	int err;

	*out = NULL;
	*n = 0;
	if (!dc || xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE) < 0)
		return xsd__node_children(out, n, root, path);
	if (*sp) {
		if ((err = vs_tree_stat(&st, root, sp)) < 0 || st.kind != VS_ENTRY_TREE)
			return xsd__node_children(out, n, root, path);
	} else if ((err = vs_tree_id(&st.id, root)) < 0) {
		return err;
	}
	struct dircache_slot *s = &dc->slot[(st.id.id[0] | st.id.id[1] << 8) % DIRCACHE_SLOTS];
	if (s->v && s->top == top && vs_oid_equal(&s->id, &st.id)) {
		if ((err = children_copy(out, s->v, s->n)) < 0)
			return err;
		*n = s->n;
		return 0;
	}
	if ((err = xsd__node_children(out, n, root, path)) < 0 || *n < DIRCACHE_MIN)
		return err;
	struct xsd_child *keep;
	if (children_copy(&keep, *out, *n) < 0)
		return 0; /* not cached: no harm */
	xsd__children_free(s->v, s->n);
	s->v = keep;
	s->n = *n;
	s->id = st.id;
	s->top = top;
	return 0;
}

int xsd__node_children_len(size_t *out, struct vs_tree *root, const char *path)
{
	struct vs_tree *node;
	int err = node_tree(&node, root, path);

	*out = 0;
	if (err < 0)
		return err;
	err = each_child(node, !strcmp(path, "/"), len_cb, out);
	vs_tree_free(node);
	return err;
}

void xsd__children_free(struct xsd_child *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

struct walk_ctx {
	xsd_node_walk_fn *cb;
	void *payload;
	struct vs_buf path;
};

static int walk_node(struct walk_ctx *w, struct vs_tree *node);

static int walk_child(void *payload, const char *name, struct vs_tree *child)
{
	struct walk_ctx *w = payload;
	size_t keep = w->path.size;
	int err = 0;

	if (strcmp(w->path.ptr, "/"))
		err = vs_buf_putc(&w->path, '/');
	if (err >= 0 && (err = vs_buf_puts(&w->path, name)) >= 0)
		err = walk_node(w, child);
	w->path.size = keep;
	w->path.ptr[keep] = '\0';
	return err;
}

static int walk_node(struct walk_ctx *w, struct vs_tree *node)
{
	struct xsd_meta meta;
	int err;

	xsd_meta_init(&meta);
	err = meta_of(&meta, node);
	if (err >= 0)
		err = w->cb(w->payload, w->path.ptr, &meta);
	xsd_meta_release(&meta);
	if (err != 0)
		return err;
	return each_child(node, !strcmp(w->path.ptr, "/"), walk_child, w);
}

int xsd__node_walk(struct vs_tree *root, const char *path, xsd_node_walk_fn *cb, void *payload)
{
	struct walk_ctx w = { cb, payload, VS_BUF_INIT };
	struct vs_tree *node;
	int err = node_tree(&node, root, path);

	if (err < 0)
		return err;
	if ((err = vs_buf_puts(&w.path, path)) >= 0)
		err = walk_node(&w, node);
	vs_tree_free(node);
	vs_buf_release(&w.path);
	return err;
}
