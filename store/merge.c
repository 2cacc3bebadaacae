/* SPDX-License-Identifier: MIT */
/*
 * Three-way merges of trees and commits, and the stock contents merge
 * functions. The result starts as "ours" and receives what has to come from
 * theirs, so a conflicting path simply keeps our side. A directory merges by
 * joining base against theirs (vs__dir_join) and looking each changed name
 * up in ours: equal subtrees and buckets of split directories are never
 * loaded, so the cost follows theirs' changes, not the directory sizes.
 * Subtrees changed on both sides merge recursively, values changed on both
 * sides go to the contents merge function.
 */
#include <inttypes.h>
#include <stdio.h>

#include "tree_int.h"

/* One name's entry on one side of the merge. */
struct side {
	struct vs_tree *leaf;   /* the flat node holding it, borrowed; NULL: absent */
	size_t i;               /* its index in leaf */
	struct vs_tree_stat st; /* its kind, mode and id */
};

struct merge_ctx {
	struct vs_tree *result;       /* ours plus what was merged in so far */
	struct vs_buf path;           /* path of the entry being merged */
	vs_merge_fn *fn;              /* the contents merge function */
	void *payload;                /* its payload */
	int64_t ours_time;            /* for vs_merge_lww() and friends */
	int64_t theirs_time;
	struct vs_strarray conflicts; /* paths, in walk order until sorted */
	size_t aconflicts;            /* slots allocated in conflicts.strings */
};

static bool slice_eq(const struct vs_slice *a, const struct vs_slice *b)
{
	if (!a || !b)
		return a == b;
	return a->len == b->len && (!a->len || !memcmp(a->ptr, b->ptr, a->len));
}

/* Make @s (NULL: absent) the merged value. */
static int merge_take(struct vs_buf *out, bool *deleted, const struct vs_slice *s)
{
	*deleted = !s;
	if (!s) {
		vs_buf_clear(out);
		return 0;
	}
	return vs_buf_set(out, s->ptr, s->len);
}

static const char *merge_path(const struct vs_merge_input *in)
{
	return in->path ? in->path : "";
}

/*
 * The rule every merge function starts from: when only one side changed, or
 * both made the same change, there is nothing to decide. Returns 1 when
 * settled. vs_merge_counter() does not use it: two equal increments add up.
 */
static int merge_one_side(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in)
{
	int err;

	if (slice_eq(in->ours, in->theirs) || slice_eq(in->base, in->theirs))
		err = merge_take(out, deleted, in->ours);
	else if (slice_eq(in->base, in->ours))
		err = merge_take(out, deleted, in->theirs);
	else
		return 0;
	return err < 0 ? err : 1;
}

int vs_merge_default(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
		     void *payload)
{
	int err;

	(void)payload;
	VS_CHECK_ARG(out && deleted && in);
	if ((err = merge_one_side(out, deleted, in)) != 0)
		return err < 0 ? err : 0;
	return vs_error_set(VS_ECONFLICT, "merge conflict at '%s': both sides changed the value",
			    merge_path(in));
}

/*
 * Both sides changed: the later committer time wins, theirs on a tie (tree
 * merges pass 0 for both, so theirs always wins there). A deletion is a write
 * like any other, so a later deletion beats an earlier change.
 */
int vs_merge_lww(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
		 void *payload)
{
	int err;

	(void)payload;
	VS_CHECK_ARG(out && deleted && in);
	if ((err = merge_one_side(out, deleted, in)) != 0)
		return err < 0 ? err : 0;
	return merge_take(out, deleted, in->ours_time > in->theirs_time ? in->ours : in->theirs);
}

/* A strict decimal int64: an optional '-', then digits only (no space, no '+'). */
static bool counter_parse(int64_t *out, const struct vs_slice *s)
{
	const char *p = s ? s->ptr : NULL;
	size_t n = s ? s->len : 0, i;
	bool neg = n && p[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	*out = 0;
	if (!s)
		return true; /* absent counts 0 */
	if (n == (size_t)neg)
		return false;
	for (i = neg; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned int d = (unsigned int)(p[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

/*
 * base + (ours - base) + (theirs - base) == ours + (theirs - base), exactly.
 * Try both groupings: if both differences overflow, ours and theirs lie on
 * the same side of base, more than INT64_MAX away, and so does the sum.
 */
static bool counter_sum(int64_t *out, int64_t b, int64_t o, int64_t t)
{
	int64_t d;

	if (!__builtin_sub_overflow(t, b, &d) && !__builtin_add_overflow(o, d, out))
		return true;
	return !__builtin_sub_overflow(o, b, &d) && !__builtin_add_overflow(t, d, out);
}

/*
 * Counters. One side changed: it wins (a deletion stays a deletion); both
 * deleted: deleted. Both changed: the increments add up, an absent side
 * counting 0. A value that is not a strict decimal int64, or a sum out of
 * range, cannot be merged: VS_ECONFLICT with the path in the message (not
 * VS_EINVAL, so a tree merge reports it as one more conflicting path).
 */
int vs_merge_counter(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
		     void *payload)
{
	int64_t b, o, t, r;

	(void)payload;
	VS_CHECK_ARG(out && deleted && in);
	if (slice_eq(in->base, in->ours))
		return merge_take(out, deleted, in->theirs);
	if (slice_eq(in->base, in->theirs) || (!in->ours && !in->theirs))
		return merge_take(out, deleted, in->ours);
	if (!counter_parse(&b, in->base) || !counter_parse(&o, in->ours) ||
	    !counter_parse(&t, in->theirs))
		return vs_error_set(VS_ECONFLICT, "merge conflict at '%s': not a decimal counter",
				    merge_path(in));
	if (!counter_sum(&r, b, o, t))
		return vs_error_set(VS_ECONFLICT, "merge conflict at '%s': counter overflow",
				    merge_path(in));
	*deleted = false;
	vs_buf_clear(out);
	return vs_buf_printf(out, "%" PRId64, r);
}

void vs_merge_result_dispose(struct vs_merge_result *r)
{
	if (!r)
		return;
	vs_tree_free(r->tree);
	vs_strarray_dispose(&r->conflicts);
	memset(r, 0, sizeof(*r));
}

/* Describe entry @d (NULL or leaf NULL: absent) as a side of the merge. */
static int side_load(struct side *s, const struct vs__dent *d)
{
	unsigned int mode;

	memset(s, 0, sizeof(*s));
	if (!d || !d->leaf)
		return 0;
	mode = d->leaf->e[d->i].mode;
	s->leaf = d->leaf;
	s->i = d->i;
	s->st.mode = mode;
	if (vs__is_tree_mode(mode))
		s->st.kind = VS_ENTRY_TREE;
	else
		s->st.kind = mode == 0160000 ? VS_ENTRY_COMMIT : VS_ENTRY_BLOB;
	return vs__tree_entry_id(&s->st.id, d->leaf, d->i);
}

/* Same content and same kind of entry, or both absent. */
static bool entry_same(const struct side *a, const struct side *b)
{
	if (!a->leaf || !b->leaf)
		return a->leaf == b->leaf;
	return a->st.kind == b->st.kind && a->st.mode == b->st.mode &&
	       vs_oid_equal(&a->st.id, &b->st.id);
}

static bool entry_is(const struct side *s, enum vs_entry_kind kind)
{
	return s->leaf && s->st.kind == kind;
}

/* The subtree of @s when it is one, borrowed from its node; else NULL (an empty dir). */
static int side_subtree(struct vs_tree **out, const struct side *s)
{
	*out = NULL;
	if (!entry_is(s, VS_ENTRY_TREE))
		return 0;
	return vs__child_borrow(out, s->leaf, &s->leaf->e[s->i]);
}

static int conflict_add(struct merge_ctx *ctx)
{
	struct vs_strarray *c = &ctx->conflicts;

	if (c->count == ctx->aconflicts) {
		size_t n = ctx->aconflicts ? ctx->aconflicts * 2 : 8;
		char **v = vs__realloc(c->strings, n * sizeof(*v));
		if (!v)
			return vs__enomem();
		c->strings = v;
		ctx->aconflicts = n;
	}
	if (!(c->strings[c->count] = vs__strdup(ctx->path.ptr)))
		return vs__enomem();
	c->count++;
	return 0;
}

/* The update functions return a new tree: swap it in for the result. */
static void result_swap(struct merge_ctx *ctx, struct vs_tree *t)
{
	vs_tree_free(ctx->result);
	ctx->result = t;
}

static int result_remove(struct merge_ctx *ctx)
{
	struct vs_tree *t = NULL;
	int err = vs_tree_remove(&t, ctx->result, ctx->path.ptr);

	if (err >= 0)
		result_swap(ctx, t);
	return err;
}

static int result_set(struct merge_ctx *ctx, const char *data, size_t len)
{
	struct vs_tree *t = NULL;
	int err = vs_tree_set(&t, ctx->result, ctx->path.ptr, data ? data : "", len);

	if (err >= 0)
		result_swap(ctx, t);
	return err;
}

/*
 * Only theirs changed the entry at ctx->path: copy it over ours. @so is our
 * (unchanged) entry, to be removed first when a value must replace it.
 */
static int take_theirs(struct merge_ctx *ctx, const struct side *so, const struct side *st)
{
	struct vs_buf value = VS_BUF_INIT;
	struct vs_tree *sub, *t = NULL;
	int err;

	if (!st->leaf)
		return result_remove(ctx);
	switch (st->st.kind) {
	case VS_ENTRY_TREE:
		if ((err = side_subtree(&sub, st)) < 0)
			break;
		if ((err = vs_tree_set_tree(&t, ctx->result, ctx->path.ptr, sub)) >= 0)
			result_swap(ctx, t);
		break;
	case VS_ENTRY_BLOB:
		if ((err = vs__tree_entry_value(&value, st->leaf, st->i)) < 0)
			break;
		/* vs_tree_set() will not overwrite a subtree (VS_EISDIR). */
		if (!entry_is(so, VS_ENTRY_BLOB) && so->leaf && (err = result_remove(ctx)) < 0)
			break;
		err = result_set(ctx, value.ptr, value.size);
		break;
	default:
		/* A gitlink cannot be written through the tree API: keep ours, say so. */
		err = conflict_add(ctx);
		break;
	}
	vs_buf_release(&value);
	return err;
}

/* The value of @s as a slice in @buf; NULL when @s is not a value. */
static int value_read(const struct vs_slice **out, struct vs_slice *slice, struct vs_buf *buf,
		      const struct side *s)
{
	int err;

	*out = NULL;
	if (!entry_is(s, VS_ENTRY_BLOB))
		return 0;
	if ((err = vs__tree_entry_value(buf, s->leaf, s->i)) < 0)
		return err;
	slice->ptr = buf->ptr ? buf->ptr : "";
	slice->len = buf->size;
	*out = slice;
	return 0;
}

/*
 * Both sides changed the value at ctx->path (either may be absent; a base
 * that was a subtree counts as absent): ask the contents merge function.
 */
static int merge_value(struct merge_ctx *ctx, const struct side sides[3])
{
	struct vs_buf bufs[3] = { VS_BUF_INIT, VS_BUF_INIT, VS_BUF_INIT };
	struct vs_buf merged = VS_BUF_INIT;
	struct vs_slice slices[3];
	const struct vs_slice **in_sides[3];
	struct vs_merge_input in = {
		.path = ctx->path.ptr,
		.ours_time = ctx->ours_time,
		.theirs_time = ctx->theirs_time,
	};
	bool deleted = false;
	int err = 0;

	in_sides[0] = &in.base;
	in_sides[1] = &in.ours;
	in_sides[2] = &in.theirs;
	for (int i = 0; i < 3 && err >= 0; i++)
		err = value_read(in_sides[i], &slices[i], &bufs[i], &sides[i]);
	if (err < 0)
		goto out;
	err = ctx->fn(&merged, &deleted, &in, ctx->payload);
	if (err == VS_ECONFLICT) {
		err = conflict_add(ctx);
		goto out;
	}
	if (err < 0)
		goto out;
	if (deleted)
		err = in.ours ? result_remove(ctx) : 0;
	else if (!in.ours || !slice_eq(in.ours, &(struct vs_slice){ merged.ptr, merged.size }))
		err = result_set(ctx, merged.ptr, merged.size);
out:
	for (int i = 0; i < 3; i++)
		vs_buf_release(&bufs[i]);
	vs_buf_release(&merged);
	return err;
}

static int merge_dir(struct merge_ctx *ctx, struct vs_tree *dirs[3]);

/*
 * Both sides changed the entry at ctx->path, differently. Subtrees (or a
 * subtree against nothing) merge recursively, so a deletion of a directory
 * meets each change inside it; a value against a subtree is a conflict.
 */
static int merge_changed(struct merge_ctx *ctx, const struct side sides[3])
{
	const struct side *so = &sides[1], *st = &sides[2];
	bool otree = entry_is(so, VS_ENTRY_TREE), ttree = entry_is(st, VS_ENTRY_TREE);
	struct vs_tree *subs[3] = { NULL, NULL, NULL };
	int err = 0;

	if (entry_is(so, VS_ENTRY_COMMIT) || entry_is(st, VS_ENTRY_COMMIT))
		return conflict_add(ctx);
	/* Recurse when each side is a subtree or absent, and one is a subtree. */
	if (!((otree || !so->leaf) && (ttree || !st->leaf) && (otree || ttree))) {
		if (otree || ttree)
			return conflict_add(ctx);
		return merge_value(ctx, sides);
	}
	/* Borrowed: the nodes holding the entries outlive the recursion. */
	for (int i = 0; i < 3 && err >= 0; i++)
		err = side_subtree(&subs[i], &sides[i]);
	return err < 0 ? err : merge_dir(ctx, subs);
}

/* The entries of one name that theirs changed: @o is ours (leaf NULL: absent). */
static int merge_entry(struct merge_ctx *ctx, const struct vs__dent *b, const struct vs__dent *o,
		       const struct vs__dent *t)
{
	const struct vs__dent *d = t ? t : b;
	const struct entry *e = &d->leaf->e[d->i];
	size_t mark = ctx->path.size;
	struct side sides[3];
	int err;

	if ((err = side_load(&sides[0], b)) < 0 || (err = side_load(&sides[1], o)) < 0 ||
	    (err = side_load(&sides[2], t)) < 0)
		return err;
	/* Theirs agrees with ours or did not change: ours, already in the result. */
	if (entry_same(&sides[1], &sides[2]) || entry_same(&sides[0], &sides[2]))
		return 0;
	if ((mark && (err = vs_buf_putc(&ctx->path, '/')) < 0) ||
	    (err = vs_buf_put(&ctx->path, vs__ename(d->leaf, e), e->namelen)) < 0)
		return err;
	if (entry_same(&sides[0], &sides[1]))
		err = take_theirs(ctx, &sides[1], &sides[2]);
	else
		err = merge_changed(ctx, sides);
	ctx->path.size = mark;
	ctx->path.ptr[mark] = '\0';
	return err;
}

/* One directory's merge, as the join of base against theirs walks it. */
struct level {
	struct merge_ctx *ctx;
	struct vs_tree *ours; /* our directory, NULL: empty */
};

/* A name whose entry theirs changed (@b or @t absent: NULL): find ours, merge. */
static int on_theirs(void *payload, const struct vs__dent *b, const struct vs__dent *t)
{
	struct level *l = payload;
	const struct vs__dent *d = t ? t : b;
	const struct entry *e = &d->leaf->e[d->i];
	struct vs__nameh nh = { vs__ename(d->leaf, e), e->namelen, false, { 0 } };
	struct vs__dent o = { NULL, 0 };
	long k = -1;
	int err;

	if (l->ours && (err = vs__dir_find(&o.leaf, &k, l->ours, &nh)) < 0)
		return err;
	if (k < 0)
		o.leaf = NULL;
	else
		o.i = (size_t)k;
	return merge_entry(l->ctx, b, &o, t);
}

/*
 * Merge the directories @dirs (base, ours, theirs; NULL: empty) at ctx->path.
 * Only names theirs changed can change the result, so one join of base
 * against theirs finds them; ours is looked up by name, which walks our
 * nodes on the paths the result's updates walk anyway. What ours alone
 * changed is never visited: it is in the result already.
 */
static int merge_dir(struct merge_ctx *ctx, struct vs_tree *dirs[3])
{
	struct level l = { ctx, dirs[1] };

	return vs__dir_join(dirs[0], dirs[2], on_theirs, &l);
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The root: settle the trivial cases by id, else merge entry by entry. */
static int merge_root(struct merge_ctx *ctx, struct vs_tree *dirs[3])
{
	struct vs_oid ids[3];
	int err;

	for (int i = 0; i < 3; i++)
		if ((err = vs_tree_id(&ids[i], dirs[i])) < 0)
			return err;
	if (vs_oid_equal(&ids[1], &ids[2]) || vs_oid_equal(&ids[0], &ids[2])) {
		ctx->result = vs_tree_dup(dirs[1]);
		return 0;
	}
	if (vs_oid_equal(&ids[0], &ids[1])) {
		ctx->result = vs_tree_dup(dirs[2]);
		return 0;
	}
	ctx->result = vs_tree_dup(dirs[1]);
	return merge_dir(ctx, dirs);
}

/*
 * vs_merge_trees() with the committer times the merge function sees.
 * out->base is the base tree's id (null without a base); *out is
 * overwritten, and left empty on failures other than VS_ECONFLICT.
 */
static int merge_trees_timed(struct vs_merge_result *out, struct vs_tree *base,
			     struct vs_tree *ours, struct vs_tree *theirs,
			     const struct vs_merge_opts *opts, int64_t ours_time,
			     int64_t theirs_time)
{
	struct merge_ctx ctx = {
		.fn = opts && opts->fn ? opts->fn : vs_merge_default,
		.payload = opts ? opts->payload : NULL,
		.ours_time = ours_time,
		.theirs_time = theirs_time,
	};
	struct vs_tree *empty = NULL;
	int err;

	VS_CHECK_ARG(out);
	memset(out, 0, sizeof(*out));
	VS_CHECK_ARG(ours && theirs);
	VS_CHECK_ARG(vs_tree_repo(ours) == vs_tree_repo(theirs));
	VS_CHECK_ARG(!base || vs_tree_repo(base) == vs_tree_repo(ours));
	if (!base && (err = vs_tree_new(&empty, vs_tree_repo(ours))) < 0)
		return err;
	if ((err = vs_buf_grow(&ctx.path, 64)) < 0)
		goto out;
	if (base && (err = vs_tree_id(&out->base, base)) < 0)
		goto out;
	if ((err = merge_root(&ctx, (struct vs_tree *[3]){ base ? base : empty, ours, theirs })) < 0)
		goto out;
	if (ctx.conflicts.count > 1)
		qsort(ctx.conflicts.strings, ctx.conflicts.count, sizeof(char *), path_cmp);
	out->tree = ctx.result;
	out->conflicts = ctx.conflicts;
	ctx.result = NULL;
	ctx.conflicts = (struct vs_strarray){ 0 };
	if (out->conflicts.count)
		err = vs_error_set(VS_ECONFLICT, "merge: %zu conflicting path%s, first '%s'",
				   out->conflicts.count, out->conflicts.count > 1 ? "s" : "",
				   out->conflicts.strings[0]);
out:
	if (err < 0 && err != VS_ECONFLICT)
		memset(&out->base, 0, sizeof(out->base));
	vs_tree_free(ctx.result);
	vs_strarray_dispose(&ctx.conflicts);
	vs_buf_release(&ctx.path);
	vs_tree_free(empty);
	return err;
}

int vs_merge_trees(struct vs_merge_result *out, struct vs_tree *base, struct vs_tree *ours,
		   struct vs_tree *theirs, const struct vs_merge_opts *opts)
{
	return merge_trees_timed(out, base, ours, theirs, opts, 0, 0);
}

/* Load commit @id and its tree. */
static int commit_load(struct vs_commit **c, struct vs_tree **t, struct vs_repo *repo,
		       const struct vs_oid *id)
{
	int err = vs_commit_lookup(c, repo, id);

	return err < 0 ? err : vs_commit_tree(t, *c);
}

int vs_merge_commits(struct vs_merge_result *out, struct vs_repo *repo, const struct vs_oid *ours,
		     const struct vs_oid *theirs, const struct vs_merge_opts *opts)
{
	struct vs_commit *cb = NULL, *co = NULL, *ct = NULL;
	struct vs_tree *tb = NULL, *to = NULL, *tt = NULL;
	struct vs_oid base;
	int err;

	VS_CHECK_ARG(out);
	memset(out, 0, sizeof(*out));
	VS_CHECK_ARG(repo && ours && theirs);
	/* Both commits load before vs_merge_base(), so its VS_ENOENT means "no common history". */
	if ((err = commit_load(&co, &to, repo, ours)) < 0 ||
	    (err = commit_load(&ct, &tt, repo, theirs)) < 0)
		goto out;
	err = vs_merge_base(&base, repo, ours, theirs);
	if (err == VS_ENOENT)
		memset(&base, 0, sizeof(base));
	else if (err < 0 || (err = commit_load(&cb, &tb, repo, &base)) < 0)
		goto out;
	err = merge_trees_timed(out, tb, to, tt, opts, vs_commit_committer(co)->time,
				vs_commit_committer(ct)->time);
	if (err >= 0 || err == VS_ECONFLICT)
		out->base = base;
out:
	vs_tree_free(tb);
	vs_tree_free(to);
	vs_tree_free(tt);
	vs_commit_free(cb);
	vs_commit_free(co);
	vs_commit_free(ct);
	return err;
}

/* The result of a merge that needs no new commit: the tree of @head. */
static int result_at(struct vs_merge_result *r, struct vs_repo *repo, const struct vs_oid *head,
		     const struct vs_oid *base)
{
	struct vs_commit *c = NULL;
	int err = commit_load(&c, &r->tree, repo, head);

	vs_commit_free(c);
	r->base = *base;
	return err;
}

/* Neither contains the other: a merge commit with parents (head, theirs). */
static int branch_merge_commit(struct vs_oid *out, struct vs_repo *repo, const char *branch,
			       const struct vs_oid *head, const struct vs_oid *theirs,
			       const struct vs_merge_opts *mopts,
			       const struct vs_commit_opts *copts, struct vs_merge_result *res)
{
	struct vs_oid parents[2] = { *head, *theirs };
	struct vs_commit_opts o;
	int err;

	if (!copts)
		return vs_error_set(VS_EINVAL, "merge into '%s' needs commit options", branch);
	if ((err = vs_merge_commits(res, repo, head, theirs, mopts)) < 0)
		return err;
	o = *copts;
	o.parents = parents;
	o.nparents = 2;
	/* vs_branch_commit() moves the branch only if it still points at head. */
	return vs_branch_commit(out, repo, branch, head, res->tree, &o);
}

/*
 * vs_branch_merge(): *out is the branch's head afterwards (zeroed on
 * failure). @result, when given, is overwritten with the tree the branch
 * points at afterwards and the base used (theirs when up to date, the old
 * head for a fast-forward, the merge base otherwise; on VS_ECONFLICT the
 * merged tree with its conflicts). Up to date and fast-forward need no @copts.
 */
int vs_branch_merge(struct vs_oid *out, struct vs_repo *repo, const char *branch,
		    const struct vs_oid *theirs, const struct vs_merge_opts *mopts,
		    const struct vs_commit_opts *copts, struct vs_merge_result *result)
{
	struct vs_merge_result local = { 0 };
	struct vs_merge_result *res = result ? result : &local;
	struct vs_oid head;
	int err;

	VS_CHECK_ARG(out && repo && branch && theirs);
	memset(out, 0, sizeof(*out));
	memset(res, 0, sizeof(*res));
	if ((err = vs_branch_head(&head, repo, branch)) < 0)
		goto out;
	if ((err = vs_descendant_of(repo, &head, theirs)) < 0)
		goto out;
	if (err == 1) {
		*out = head;
		err = result ? result_at(res, repo, &head, theirs) : 0;
		goto out;
	}
	if ((err = vs_descendant_of(repo, theirs, &head)) < 0)
		goto out;
	if (err == 1) {
		/* Load the result first: a failure then leaves the branch alone. */
		if ((result && (err = result_at(res, repo, theirs, &head)) < 0) ||
		    (err = vs_branch_update(repo, branch, theirs, &head)) < 0)
			goto out;
		*out = *theirs;
		goto out;
	}
	err = branch_merge_commit(out, repo, branch, &head, theirs, mopts, copts, res);
out:
	if (err < 0)
		memset(out, 0, sizeof(*out));
	if (err < 0 && err != VS_ECONFLICT)
		vs_merge_result_dispose(res);
	vs_merge_result_dispose(&local);
	return err;
}
