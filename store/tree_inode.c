/* SPDX-License-Identifier: MIT */
/*
 * Directories as the tree layer sees them: a flat node, or (in formats that
 * split large trees) a trie of split nodes keyed by the hash of entry names,
 * always in the canonical shape struct vs_format_inode describes: a
 * directory of more than max_flat entries is split, a bucket holds a flat
 * node while it has at most max_flat entries. Every operation keeps that
 * shape, so the same entries give the same id whatever the order of updates.
 *
 * Lookups and updates walk one path of the trie (O(log n) nodes of at most
 * 32 buckets or max_flat entries); joins skip buckets whose ids are equal,
 * so the diff of two directories that differ in one entry touches O(log n)
 * nodes. Only a full listing visits everything.
 */
#include "tree_int.h"

static const unsigned char *nameh_get(struct vs_repo *repo, struct vs__nameh *nh)
{
	if (!nh->have) {
		repo->format->name_hash(nh->h, nh->name, nh->len);
		nh->have = true;
	}
	return nh->h;
}

/* Bits [5 * depth, 5 * depth + 5) of the name hash. */
static unsigned int bucket(const unsigned char h[32], unsigned int depth)
{
	unsigned int bit = depth * 5, byte = bit / 8;
	unsigned int v = h[byte] | (byte + 1 < 32 ? (unsigned int)h[byte + 1] << 8 : 0);
	return (v >> (bit % 8)) & (VS_INODE_FANOUT - 1);
}

uint64_t vs__dir_count(const struct vs_tree *dir)
{
	return dir->inode ? dir->count : dir->n;
}

/* The node in bucket @b of split node @t, borrowed (kept by @t once loaded). */
static int child_borrow(struct vs_tree **out, struct vs_tree *t, unsigned int b)
{
	int err;
	if (!t->child[b] && (err = vs__tree_load(&t->child[b], t->repo, &t->child_id[b])) < 0)
		return err;
	*out = t->child[b];
	return 0;
}

int vs__dir_find(struct vs_tree **leaf, long *k, struct vs_tree *dir, struct vs__nameh *nh)
{
	int err;

	while (dir->inode) {
		unsigned int b = bucket(nameh_get(dir->repo, nh), dir->depth);
		if (!(dir->bitmap >> b & 1)) {
			*leaf = NULL;
			*k = -1;
			return 0;
		}
		if ((err = child_borrow(&dir, dir, b)) < 0)
			return err;
	}
	*leaf = dir;
	*k = vs__flat_find(dir, nh->name, nh->len, NULL);
	return 0;
}

/* ---- collecting entries ---- */

struct dents {
	struct vs__dent *v;
	size_t n, cap;
};

static int dents_add(struct dents *d, struct vs_tree *leaf, size_t i)
{
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct vs__dent *nv = vs__realloc(d->v, ncap * sizeof(*nv));
		if (!nv)
			return vs__enomem();
		d->v = nv;
		d->cap = ncap;
	}
	d->v[d->n++] = (struct vs__dent){ leaf, i };
	return 0;
}

static int collect_rec(struct dents *d, struct vs_tree *dir)
{
	struct vs_tree *c;
	int err = 0;

	if (!dir->inode) {
		for (size_t i = 0; i < dir->n && err >= 0; i++)
			err = dents_add(d, dir, i);
		return err;
	}
	for (unsigned int b = 0; b < VS_INODE_FANOUT && err >= 0; b++)
		if (dir->bitmap >> b & 1 && (err = child_borrow(&c, dir, b)) >= 0)
			err = collect_rec(d, c);
	return err;
}

static int dent_cmp(const void *a, const void *b)
{
	const struct vs__dent *x = a, *y = b;
	const struct entry *ex = &x->leaf->e[x->i], *ey = &y->leaf->e[y->i];
	return vs__name_cmp(vs__ename(x->leaf, ex), ex->namelen, vs__ename(y->leaf, ey),
			    ey->namelen);
}

int vs__dir_collect(struct vs__dent **out, size_t *n, struct vs_tree *dir)
{
	struct dents d = { 0 };
	int err = collect_rec(&d, dir);

	if (err < 0) {
		vs_free(d.v);
		return err;
	}
	if (dir->inode) /* buckets follow the hash, not the names */
		qsort(d.v, d.n, sizeof(*d.v), dent_cmp);
	*out = d.v;
	*n = d.n;
	return 0;
}

/* ---- keeping the shape canonical ---- */

/* Split flat node @f (more than max_flat entries) into a split node at @depth. */
static int split(struct vs_tree **out, struct vs_tree *f, unsigned int depth)
{
	struct vs_repo *repo = f->repo;
	struct dents buckets[VS_INODE_FANOUT] = { 0 };
	struct vs_tree *t = NULL;
	int err = 0;

	if (depth >= 51)
		return vs_error_set(VS_ECORRUPT, "more than %zu names share a 255-bit hash prefix",
				    repo->format->max_flat);
	for (size_t i = 0; i < f->n && err >= 0; i++) {
		struct vs__nameh nh = { vs__ename(f, &f->e[i]), f->e[i].namelen, false, { 0 } };
		err = dents_add(&buckets[bucket(nameh_get(repo, &nh), depth)], f, i);
	}
	if (err >= 0 && !(t = vs__inode_alloc(repo, depth)))
		err = vs__enomem();
	for (unsigned int b = 0; b < VS_INODE_FANOUT && err >= 0; b++) {
		struct vs_tree *c;
		if (!buckets[b].n)
			continue;
		if (!(c = vs__flat_from(repo, buckets[b].v, buckets[b].n))) {
			err = vs__enomem();
			break;
		}
		if (c->n > repo->format->max_flat) {
			err = split(&t->child[b], c, depth + 1);
			vs_tree_free(c);
		} else {
			t->child[b] = c;
		}
		t->bitmap |= 1u << b;
	}
	for (unsigned int b = 0; b < VS_INODE_FANOUT; b++)
		vs_free(buckets[b].v);
	if (err < 0) {
		vs_tree_free(t);
		return err;
	}
	t->count = f->n;
	*out = t;
	return 0;
}

int vs__dir_from_entries(struct vs_tree **out, struct vs_repo *repo,
			 const struct vs_format_entry *e, size_t n)
{
	size_t names = 0, max = repo->format->max_flat;
	struct vs_tree *f;
	int err;

	for (size_t i = 0; i < n; i++)
		names += e[i].namelen + 1;
	if (!(f = vs__node_alloc(repo, n, names)))
		return vs__enomem();
	for (size_t i = 0; i < n; i++) {
		if (i && vs__name_cmp(e[i - 1].name, e[i - 1].namelen, e[i].name, e[i].namelen) >= 0) {
			vs_tree_free(f);
			return vs_error_set(VS_EINVAL, "entries not sorted by name or not unique");
		}
		f->e[i].name_off = vs__names_add(f, e[i].name, e[i].namelen);
		f->e[i].namelen = (uint32_t)e[i].namelen;
		f->e[i].mode = e[i].mode;
		f->e[i].has_id = true;
		f->ids[i] = e[i].id;
	}
	f->n = n;
	if (!max || n <= max) {
		*out = f;
		return 0;
	}
	err = split(out, f, 0);
	vs_tree_free(f);
	return err;
}

/* The flat node holding every entry of split node @t, bucket @b replaced by @nb. */
static int collapse(struct vs_tree **out, struct vs_tree *t, unsigned int b, struct vs_tree *nb)
{
	struct dents d = { 0 };
	struct vs_tree *c;
	int err = 0;

	for (unsigned int k = 0; k < VS_INODE_FANOUT && err >= 0; k++) {
		if (k == b)
			c = nb;
		else if (!(t->bitmap >> k & 1))
			continue;
		else if ((err = child_borrow(&c, t, k)) < 0)
			break;
		if (c)
			err = collect_rec(&d, c);
	}
	if (err >= 0) {
		qsort(d.v, d.n, sizeof(*d.v), dent_cmp);
		if (!(*out = vs__flat_from(t->repo, d.v, d.n)))
			err = vs__enomem();
	}
	vs_free(d.v);
	return err;
}

/* A copy of split node @t with bucket @b holding @nb (NULL or empty: none). */
static struct vs_tree *inode_edit(struct vs_tree *t, unsigned int b, struct vs_tree *nb,
				  uint64_t count)
{
	struct vs_tree *c = vs__inode_alloc(t->repo, t->depth);
	if (!c)
		return NULL;
	vs__tree_derive(c, t);
	c->count = count;
	c->bitmap = t->bitmap;
	c->child_known = t->child_known;
	for (unsigned int k = 0; k < VS_INODE_FANOUT; k++) {
		c->child[k] = vs_tree_dup(t->child[k]);
		c->child_id[k] = t->child_id[k];
	}
	vs_tree_free(c->child[b]);
	c->child[b] = NULL;
	c->child_known &= ~(1u << b);
	c->bitmap &= ~(1u << b);
	if (nb && vs__dir_count(nb)) {
		c->child[b] = vs_tree_dup(nb);
		c->bitmap |= 1u << b;
	}
	return c;
}

static int flat_put(struct vs_tree **out, int *delta, struct vs_tree *dir, unsigned int depth,
		    struct vs__nameh *nh, bool remove, unsigned int mode, struct vs_tree *child,
		    struct vs_blob *blob)
{
	size_t pos = 0, max = dir->repo->format->max_flat;
	long k = vs__flat_find(dir, nh->name, nh->len, &pos);
	struct vs_tree *n;
	int err;

	*delta = 0;
	if (remove && k < 0) {
		*out = vs_tree_dup(dir);
		return 0;
	}
	*delta = k < 0 ? 1 : remove ? -1 : 0;
	if (!(n = vs__node_edit(dir, k, pos, nh->name, nh->len, remove, mode, child, blob)))
		return vs__enomem();
	if (!max || n->n <= max) {
		*out = n;
		return 0;
	}
	err = split(out, n, depth);
	vs_tree_free(n);
	return err;
}

int vs__dir_put(struct vs_tree **out, int *delta, struct vs_tree *dir, unsigned int depth,
		struct vs__nameh *nh, bool remove, unsigned int mode, struct vs_tree *child,
		struct vs_blob *blob)
{
	struct vs_tree *c = NULL, *empty = NULL, *nc = NULL;
	unsigned int b;
	int err;

	*out = NULL;
	if (!dir->inode)
		return flat_put(out, delta, dir, depth, nh, remove, mode, child, blob);
	b = bucket(nameh_get(dir->repo, nh), dir->depth);
	if (!(dir->bitmap >> b & 1) && remove) {
		*delta = 0;
		*out = vs_tree_dup(dir);
		return 0;
	}
	if (dir->bitmap >> b & 1)
		err = child_borrow(&c, dir, b);
	else if ((err = vs_tree_new(&empty, dir->repo)) >= 0)
		c = empty;
	if (err < 0 || (err = vs__dir_put(&nc, delta, c, dir->depth + 1, nh, remove, mode, child,
					  blob)) < 0)
		goto out;
	if (nc == c && c != empty) {
		*out = vs_tree_dup(dir); /* nothing changed below */
	} else {
		uint64_t count = dir->count + (uint64_t)(int64_t)*delta;
		if (count <= dir->repo->format->max_flat)
			err = collapse(out, dir, b, nc);
		else if (!(*out = inode_edit(dir, b, nc, count)))
			err = vs__enomem();
	}
out:
	vs_tree_free(nc);
	vs_tree_free(empty);
	return err;
}

/* ---- joins ---- */

static int node_id(struct vs_oid *out, struct vs_tree *t)
{
	return vs_tree_id(out, t);
}

/* The id of bucket @b of split node @t, known or computed, without loading it. */
static int child_id(struct vs_oid *out, struct vs_tree *t, unsigned int b)
{
	int err;
	if (!(t->child_known >> b & 1)) {
		if ((err = vs_tree_id(&t->child_id[b], t->child[b])) < 0)
			return err;
		t->child_known |= 1u << b;
	}
	*out = t->child_id[b];
	return 0;
}

static int entry_differs(bool *out, const struct vs__dent *a, const struct vs__dent *b)
{
	struct vs_oid x, y;
	int err;
	if ((err = vs__tree_entry_id(&x, a->leaf, a->i)) < 0 ||
	    (err = vs__tree_entry_id(&y, b->leaf, b->i)) < 0)
		return err;
	*out = a->leaf->e[a->i].mode != b->leaf->e[b->i].mode || !vs_oid_equal(&x, &y);
	return 0;
}

/* A pair of differing entries (either side may be absent: leaf NULL). */
struct pair {
	struct vs__dent a, b;
};

struct pairs {
	struct pair *v;
	size_t n, cap;
};

static int pairs_add(struct pairs *p, const struct vs__dent *a, const struct vs__dent *b)
{
	static const struct vs__dent none = { NULL, 0 };
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct pair *nv = vs__realloc(p->v, ncap * sizeof(*nv));
		if (!nv)
			return vs__enomem();
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n++] = (struct pair){ a ? *a : none, b ? *b : none };
	return 0;
}

/* Merge-join two sorted entry lists into @p. */
static int join_sorted(struct pairs *p, const struct vs__dent *a, size_t na,
		       const struct vs__dent *b, size_t nb)
{
	size_t i = 0, j = 0;
	int err = 0;

	while ((i < na || j < nb) && err >= 0) {
		int c = i >= na ? 1 : j >= nb ? -1 : dent_cmp(&a[i], &b[j]);
		bool differs = true;
		if (c < 0) {
			err = pairs_add(p, &a[i++], NULL);
		} else if (c > 0) {
			err = pairs_add(p, NULL, &b[j++]);
		} else {
			if ((err = entry_differs(&differs, &a[i], &b[j])) >= 0 && differs)
				err = pairs_add(p, &a[i], &b[j]);
			i++, j++;
		}
	}
	return err;
}

static int join_rec(struct pairs *p, struct vs_tree *a, struct vs_tree *b)
{
	struct vs__dent *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0;
	struct vs_oid x, y;
	int err = 0;

	if (a && b) {
		if ((err = node_id(&x, a)) < 0 || (err = node_id(&y, b)) < 0)
			return err;
		if (vs_oid_equal(&x, &y))
			return 0;
	}
	if (a && b && a->inode && b->inode && a->depth == b->depth) {
		for (unsigned int k = 0; k < VS_INODE_FANOUT && err >= 0; k++) {
			struct vs_tree *ca = NULL, *cb = NULL;
			bool ina = a->bitmap >> k & 1, inb = b->bitmap >> k & 1;
			if (ina && inb && a->child[k] && a->child[k] == b->child[k])
				continue; /* the very same node: shared by both trees */
			if (ina && inb && (err = child_id(&x, a, k)) >= 0 &&
			    (err = child_id(&y, b, k)) >= 0 && vs_oid_equal(&x, &y))
				continue; /* an equal bucket: not even loaded */
			if (err < 0)
				break;
			if (ina && (err = child_borrow(&ca, a, k)) < 0)
				break;
			if (inb && (err = child_borrow(&cb, b, k)) < 0)
				break;
			if (ca || cb)
				err = join_rec(p, ca, cb);
		}
		return err;
	}
	/* Flat against flat (or a directory crossing the split threshold). */
	if ((a && (err = vs__dir_collect(&va, &na, a)) < 0) ||
	    (b && (err = vs__dir_collect(&vb, &nb, b)) < 0))
		goto out;
	err = join_sorted(p, va, na, vb, nb);
out:
	vs_free(va);
	vs_free(vb);
	return err;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	return dent_cmp(a->a.leaf ? &a->a : &a->b, b->a.leaf ? &b->a : &b->b);
}

int vs__dir_join(struct vs_tree *a, struct vs_tree *b, vs__dir_join_fn *cb, void *payload)
{
	struct pairs p = { 0 };
	int err = join_rec(&p, a, b);

	if (err >= 0 && ((a && a->inode) || (b && b->inode)))
		qsort(p.v, p.n, sizeof(*p.v), pair_cmp);
	for (size_t i = 0; i < p.n && err >= 0; i++)
		err = cb(payload, p.v[i].a.leaf ? &p.v[i].a : NULL,
			 p.v[i].b.leaf ? &p.v[i].b : NULL);
	vs_free(p.v);
	return err;
}
