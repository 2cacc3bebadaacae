/* SPDX-License-Identifier: MIT */
/*
 * Value-level diffs. Two trees are merged entry by entry in name order;
 * entries with equal ids are skipped without loading, so the cost follows
 * the size of the change, not of the trees.
 */
#include "store_int.h"

struct diff {
	vs_diff_fn *cb;
	void *payload;
	struct vs_buf path;
	struct vs_buf old_val, new_val;
};

static bool is_tree(unsigned int mode)
{
	return mode == 040000;
}

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

/* Report every value of one side's entry @i as added (@t is new) or removed. */
static int one_side(struct diff *d, struct vs_tree *t, size_t i, bool added)
{
	struct vs_tree *child;
	int err;

	if (vs__tree_entry_mode(t, i) == 0160000)
		return 0; /* gitlinks carry no value */
	if (!is_tree(vs__tree_entry_mode(t, i))) {
		if ((err = vs__tree_entry_value(added ? &d->new_val : &d->old_val, t, i)) < 0)
			return err;
		return emit(d, added ? VS_DELTA_ADDED : VS_DELTA_REMOVED);
	}
	if ((err = vs__tree_entry_child(&child, t, i)) < 0)
		return err;
	err = added ? diff_rec(d, NULL, child) : diff_rec(d, child, NULL);
	vs_tree_free(child);
	return err;
}

static int both_sides(struct diff *d, struct vs_tree *a, size_t i, struct vs_tree *b, size_t j)
{
	unsigned int ma = vs__tree_entry_mode(a, i), mb = vs__tree_entry_mode(b, j);
	struct vs_oid ia, ib;
	struct vs_tree *ca = NULL, *cb = NULL;
	int err;

	if ((err = vs__tree_entry_id(&ia, a, i)) < 0 || (err = vs__tree_entry_id(&ib, b, j)) < 0)
		return err;
	if (vs_oid_equal(&ia, &ib) && ma == mb)
		return 0;
	if (is_tree(ma) != is_tree(mb)) {
		/* A value became a subtree or back: the old side goes, the new comes. */
		if ((err = one_side(d, a, i, false)) < 0)
			return err;
		return one_side(d, b, j, true);
	}
	if (!is_tree(ma)) {
		if ((err = vs__tree_entry_value(&d->old_val, a, i)) < 0 ||
		    (err = vs__tree_entry_value(&d->new_val, b, j)) < 0)
			return err;
		return emit(d, VS_DELTA_MODIFIED);
	}
	if ((err = vs__tree_entry_child(&ca, a, i)) >= 0 &&
	    (err = vs__tree_entry_child(&cb, b, j)) >= 0)
		err = diff_rec(d, ca, cb);
	vs_tree_free(ca);
	vs_tree_free(cb);
	return err;
}

static int name_cmp(struct vs_tree *a, size_t i, struct vs_tree *b, size_t j)
{
	return strcmp(vs__tree_entry_name(a, i), vs__tree_entry_name(b, j));
}

static int diff_rec(struct diff *d, struct vs_tree *a, struct vs_tree *b)
{
	size_t na = a ? vs__tree_count(a) : 0, nb = b ? vs__tree_count(b) : 0;
	size_t i = 0, j = 0, base = d->path.size;
	int err = 0;

	while ((i < na || j < nb) && !err) {
		int c = i >= na ? 1 : j >= nb ? -1 : name_cmp(a, i, b, j);
		const char *name = c <= 0 ? vs__tree_entry_name(a, i) : vs__tree_entry_name(b, j);

		d->path.size = base;
		if ((base && (err = vs_buf_putc(&d->path, '/')) < 0) ||
		    (err = vs_buf_puts(&d->path, name)) < 0)
			break;
		if (c < 0)
			err = one_side(d, a, i++, false);
		else if (c > 0)
			err = one_side(d, b, j++, true);
		else
			err = both_sides(d, a, i++, b, j++);
	}
	d->path.size = base;
	if (d->path.ptr)
		d->path.ptr[base] = '\0';
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
