/* SPDX-License-Identifier: MIT */
/*
 * Value-level diffs. Two trees are merged entry by entry in name order;
 * entries with equal ids are skipped without loading, so the cost follows
 * the size of the change, not of the trees.
 */
#include "tree_int.h"

struct diff {
	vs_diff_fn *cb;
	void *payload;
	struct vs_buf path;
	struct vs_buf old_val, new_val;
};

static int emit(struct diff *d, enum vs_delta_status status)
{
	struct vs_delta delta = {
		.status = status,
		.path = d->path.ptr ? d->path.ptr : "",
		.old_value = { d->old_val.ptr, status == VS_DELTA_ADDED ? 0 : d->old_val.size },
		.new_value = { d->new_val.ptr, status == VS_DELTA_REMOVED ? 0 : d->new_val.size },
	};
	return d->cb(d->payload, &delta);
}

static int diff_rec(struct diff *d, struct vs_tree *a, struct vs_tree *b);

/* Report every value of one side's entry @x as added (@added) or removed. */
static int one_side(struct diff *d, const struct vs__dent *x, bool added)
{
	struct entry *e = &x->leaf->e[x->i];
	struct vs_tree *child;
	int err;

	if (e->mode == 0160000)
		return 0; /* gitlinks carry no value */
	if (!vs__is_tree_mode(e->mode)) {
		if ((err = vs__tree_entry_value(added ? &d->new_val : &d->old_val, x->leaf,
						x->i)) < 0)
			return err;
		return emit(d, added ? VS_DELTA_ADDED : VS_DELTA_REMOVED);
	}
	if ((err = vs__child_borrow(&child, x->leaf, e)) < 0)
		return err;
	return added ? diff_rec(d, NULL, child) : diff_rec(d, child, NULL);
}

/* Both sides have the name and the entries differ (the join checked ids). */
static int both_sides(struct diff *d, const struct vs__dent *a, const struct vs__dent *b)
{
	struct entry *ea = &a->leaf->e[a->i], *eb = &b->leaf->e[b->i];
	struct vs_tree *ca, *cb;
	int err;

	if (vs__is_tree_mode(ea->mode) != vs__is_tree_mode(eb->mode)) {
		/* A value became a subtree or back: the old side goes, the new comes. */
		if ((err = one_side(d, a, false)) < 0)
			return err;
		return one_side(d, b, true);
	}
	if (!vs__is_tree_mode(ea->mode)) {
		if ((err = vs__tree_entry_value(&d->old_val, a->leaf, a->i)) < 0 ||
		    (err = vs__tree_entry_value(&d->new_val, b->leaf, b->i)) < 0)
			return err;
		return emit(d, VS_DELTA_MODIFIED);
	}
	if ((err = vs__child_borrow(&ca, a->leaf, ea)) < 0 ||
	    (err = vs__child_borrow(&cb, b->leaf, eb)) < 0)
		return err;
	return diff_rec(d, ca, cb);
}

struct level {
	struct diff *d;
	size_t base; /* length of the parent's path */
};

static int on_pair(void *payload, const struct vs__dent *a, const struct vs__dent *b)
{
	struct level *l = payload;
	struct diff *d = l->d;
	const struct vs__dent *x = a ? a : b;
	int err;

	d->path.size = l->base;
	if ((l->base && (err = vs_buf_putc(&d->path, '/')) < 0) ||
	    (err = vs_buf_put(&d->path, vs__ename(x->leaf, &x->leaf->e[x->i]),
			      x->leaf->e[x->i].namelen)) < 0)
		return err;
	if (!b)
		return one_side(d, a, false);
	if (!a)
		return one_side(d, b, true);
	return both_sides(d, a, b);
}

static int diff_rec(struct diff *d, struct vs_tree *a, struct vs_tree *b)
{
	struct level l = { d, d->path.size };
	int err = vs__dir_join(a, b, on_pair, &l);

	d->path.size = l.base;
	if (d->path.ptr)
		d->path.ptr[l.base] = '\0';
	return err;
}

static int diff_at(struct vs_tree *a, struct vs_tree *b, vs_diff_fn *cb, void *payload)
{
	struct diff d = { .cb = cb, .payload = payload };
	int err = diff_rec(&d, a, b);
	vs_buf_release(&d.path);
	vs_buf_release(&d.old_val);
	vs_buf_release(&d.new_val);
	return err;
}

int vs_diff_trees(struct vs_tree *a, struct vs_tree *b, vs_diff_fn *cb, void *payload)
{
	VS_CHECK_ARG(cb && (a || b));
	return diff_at(a, b, cb, payload);
}

/*
 * Commit @id's tree reduced to what lies at @path (a value or a subtree),
 * grafted at the same path into an otherwise empty tree; NULL for no commit.
 * Diffing two such projections reports full paths and still skips equal
 * subtrees by id.
 */
static int project(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *id,
		   const char *path)
{
	struct vs_commit *c = NULL;
	struct vs_tree *root = NULL, *empty = NULL, *sub = NULL;
	struct vs_buf val = VS_BUF_INIT;
	struct vs_tree_stat st;
	int err;

	*out = NULL;
	if (!id)
		return 0;
	if ((err = vs_commit_lookup(&c, repo, id)) < 0 || (err = vs_commit_tree(&root, c)) < 0)
		goto out;
	if (!path || !*path || !strcmp(path, "/")) {
		*out = vs_tree_dup(root);
		goto out;
	}
	if ((err = vs_tree_new(&empty, repo)) < 0)
		goto out;
	err = vs_tree_stat(&st, root, path);
	if (err == VS_ENOENT) {
		*out = vs_tree_dup(empty);
		err = 0;
	} else if (err >= 0 && st.kind == VS_ENTRY_TREE) {
		if ((err = vs_tree_subtree(&sub, root, path)) >= 0)
			err = vs_tree_set_tree(out, empty, path, sub);
	} else if (err >= 0) {
		if ((err = vs_tree_get(&val, root, path)) >= 0)
			err = vs_tree_set(out, empty, path, val.ptr, val.size);
	}
out:
	vs_buf_release(&val);
	vs_tree_free(sub);
	vs_tree_free(empty);
	vs_tree_free(root);
	vs_commit_free(c);
	return err;
}

int vs_diff_commits(struct vs_repo *repo, const struct vs_oid *a, const struct vs_oid *b,
		    const char *path, vs_diff_fn *cb, void *payload)
{
	struct vs_tree *ta = NULL, *tb = NULL;
	int err;

	VS_CHECK_ARG(repo && b && cb);
	if ((err = project(&ta, repo, a, path)) >= 0 && (err = project(&tb, repo, b, path)) >= 0)
		err = diff_at(ta, tb, cb, payload);
	vs_tree_free(ta);
	vs_tree_free(tb);
	return err;
}
