/* SPDX-License-Identifier: MIT */
/*
 * History walks: log (all commits, or those that changed a path), reads at
 * a commit, blame, merge bases. Walks follow git log's default order: a
 * queue by committer date, newest first, equal dates in insertion order.
 * They stop at the retention boundary, as git does at shallow commits.
 */
#include <stdio.h>

#include "store_int.h"

struct qitem {
	int64_t time;
	uint64_t seq;
	struct vs_oid id;
};

struct queue {
	struct qitem *h;
	size_t n, cap;
	uint64_t seq;
};

static bool before(const struct qitem *a, const struct qitem *b)
{
	return a->time != b->time ? a->time > b->time : a->seq < b->seq;
}

static int queue_push(struct queue *q, const struct vs_oid *id, int64_t time)
{
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		struct qitem *nh = vs__realloc(q->h, ncap * sizeof(*nh));
		if (!nh)
			return vs__enomem();
		q->h = nh;
		q->cap = ncap;
	}
	size_t i = q->n++;
	q->h[i] = (struct qitem){ time, q->seq++, *id };
	while (i && before(&q->h[i], &q->h[(i - 1) / 2])) {
		struct qitem t = q->h[i];
		q->h[i] = q->h[(i - 1) / 2];
		q->h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static struct qitem queue_pop(struct queue *q)
{
	struct qitem top = q->h[0];
	q->h[0] = q->h[--q->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->n && before(&q->h[l], &q->h[m]))
			m = l;
		if (r < q->n && before(&q->h[r], &q->h[m]))
			m = r;
		if (m == i)
			break;
		struct qitem t = q->h[i];
		q->h[i] = q->h[m];
		q->h[m] = t;
		i = m;
	}
	return top;
}

/* Per-commit walk state, kept for every commit seen. */
struct seen {
	struct vs_commit *commit; /* parsed when queued, taken when popped */
	unsigned int flags;
	bool path_known; /* path_id/path_present are valid */
	bool path_present;
	struct vs_oid path_id;
};

struct walk {
	struct vs_repo *repo;
	struct queue q;
	struct vs_oidmap seen; /* id -> struct seen */
	const char *path;
};

static void walk_dispose(struct walk *w)
{
	vs__oidmap_foreach(&w->seen, slot)
	{
		struct seen *s = slot->value;
		vs_commit_free(s->commit);
		vs_free(s);
	}
	vs__oidmap_dispose(&w->seen);
	vs_free(w->q.h);
}

static int seen_get(struct seen **out, struct walk *w, const struct vs_oid *id, bool *isnew)
{
	struct seen *s = vs__oidmap_get(&w->seen, id);
	int err;
	*out = NULL;
	*isnew = !s;
	if (!s) {
		if (!(s = vs__calloc(1, sizeof(*s))))
			return vs__enomem();
		if ((err = vs__oidmap_put(&w->seen, id, s, NULL)) < 0) {
			vs_free(s);
			return err;
		}
	}
	*out = s;
	return 0;
}

/* Push commit @id unless already seen. */
static int walk_push(struct walk *w, const struct vs_oid *id, unsigned int flags)
{
	struct vs_commit *c;
	struct seen *s = NULL;
	bool isnew;
	int err;

	if ((err = seen_get(&s, w, id, &isnew)) < 0)
		return err;
	if (!isnew && (s->flags & flags) == flags)
		return 0;
	s->flags |= flags;
	if (!s->commit && (err = vs_commit_lookup(&s->commit, w->repo, id)) < 0)
		return err;
	c = s->commit;
	return queue_push(&w->q, id, vs_commit_committer(c)->time);
}

/* The commit of a popped queue entry: the one parsed when it was queued. */
static int walk_take(struct vs_commit **out, struct walk *w, const struct vs_oid *id)
{
	struct seen *s = vs__oidmap_get(&w->seen, id);
	if (s && s->commit) {
		*out = s->commit;
		s->commit = NULL;
		return 0;
	}
	return vs_commit_lookup(out, w->repo, id); /* queued twice: parse again */
}

/* The id of @path in commit @id (memoised); *present false when absent. */
static int path_id_at(struct walk *w, const struct vs_oid *id, struct vs_oid *out,
		      bool *present)
{
	struct vs_commit *c = NULL;
	struct vs_tree *t = NULL;
	struct vs_tree_stat st;
	struct seen *s = NULL;
	bool isnew;
	int err;

	if ((err = seen_get(&s, w, id, &isnew)) < 0)
		return err;
	if (!s->path_known) {
		if ((err = vs_commit_lookup(&c, w->repo, id)) < 0 ||
		    (err = vs_commit_tree(&t, c)) < 0)
			goto out;
		err = vs_tree_stat(&st, t, w->path);
		if (err < 0 && err != VS_ENOENT)
			goto out;
		s->path_present = err >= 0;
		if (s->path_present)
			s->path_id = st.id;
		s->path_known = true;
		err = 0;
	}
	*out = s->path_id;
	*present = s->path_present;
out:
	vs_tree_free(t);
	vs_commit_free(c);
	return err;
}

/* The parents a walk follows: none past the retention boundary. */
static size_t parents(struct vs_repo *repo, struct vs_commit *c)
{
	return vs__shallow_has(repo, vs_commit_id(c)) ? 0 : vs_commit_parentcount(c);
}

/* Did commit @c change w->path compared with every parent? */
static int changed_path(struct walk *w, struct vs_commit *c, bool *changed)
{
	struct vs_oid mine, theirs;
	bool here, there;
	int err;

	if ((err = path_id_at(w, vs_commit_id(c), &mine, &here)) < 0)
		return err;
	*changed = here;
	/* A boundary commit is a root here: its parents were dropped. */
	for (size_t i = 0; i < parents(w->repo, c); i++) {
		if ((err = path_id_at(w, vs_commit_parent_id(c, i), &theirs, &there)) < 0)
			return err;
		*changed = here != there || (here && !vs_oid_equal(&mine, &theirs));
		if (!*changed)
			break;
	}
	return 0;
}

int vs_log(struct vs_repo *repo, const struct vs_oid *start, const struct vs_log_opts *opts,
	   vs_log_fn *cb, void *payload)
{
	struct walk w = { .repo = repo };
	struct vs_log_opts o = opts ? *opts : (struct vs_log_opts){ 0 };
	size_t shown = 0;
	int err;

	VS_CHECK_ARG(repo && start && cb);
	w.path = o.path && *o.path ? o.path : NULL;
	if ((err = vs__shallow_refresh(repo)) < 0 || (err = walk_push(&w, start, 1)) < 0)
		goto out;
	while (w.q.n && (!o.max || shown < o.max)) {
		struct qitem it = queue_pop(&w.q);
		struct vs_commit *c;
		bool show = true;

		if (o.since && it.time < o.since)
			break; /* everything left is older (dates permitting) */
		if ((err = walk_take(&c, &w, &it.id)) < 0)
			goto out;
		for (size_t i = 0; i < parents(repo, c) && err >= 0; i++)
			err = walk_push(&w, vs_commit_parent_id(c, i), 1);
		if (err >= 0 && w.path)
			err = changed_path(&w, c, &show);
		if (err >= 0 && show && !(o.until && it.time > o.until)) {
			shown++;
			err = cb(payload, c);
		}
		vs_commit_free(c);
		if (err)
			goto out;
	}
out:
	walk_dispose(&w);
	return err;
}

int vs_read_at(struct vs_buf *out, struct vs_repo *repo, const struct vs_oid *commit,
	       const char *path)
{
	struct vs_commit *c;
	struct vs_tree *t = NULL;
	int err;

	VS_CHECK_ARG(out && repo && commit && path);
	if ((err = vs_commit_lookup(&c, repo, commit)) < 0)
		return err;
	if ((err = vs_commit_tree(&t, c)) >= 0)
		err = vs_tree_get(out, t, path);
	vs_tree_free(t);
	vs_commit_free(c);
	return err;
}

static int first_commit(void *payload, struct vs_commit *c)
{
	*(struct vs_oid *)payload = *vs_commit_id(c);
	return 1;
}

int vs_blame(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *start,
	     const char *path)
{
	struct vs_log_opts o = { .path = path, .max = 1 };
	VS_CHECK_ARG(out && repo && start && path && *path);
	memset(out, 0, sizeof(*out));
	int err = vs_log(repo, start, &o, first_commit, out);
	if (err < 0)
		return err;
	if (vs_oid_is_null(out))
		return vs_error_set(VS_ENOENT, "'%s' never existed in this history", path);
	return 0;
}

enum { P1 = 1, P2 = 2, STALE = 4 };

/*
 * git's merge-base walk: paint ancestors of @a with P1 and of @b with P2,
 * newest first; the first commit carrying both is a common ancestor that no
 * newer common ancestor descends from (given sane commit dates).
 */
int vs_merge_base(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *a,
		  const struct vs_oid *b)
{
	struct walk w = { .repo = repo };
	int err;

	VS_CHECK_ARG(out && repo && a && b);
	if (vs_oid_equal(a, b)) {
		*out = *a;
		return 0;
	}
	if ((err = vs__shallow_refresh(repo)) < 0 || (err = walk_push(&w, a, P1)) < 0 ||
	    (err = walk_push(&w, b, P2)) < 0)
		goto out;
	err = vs_error_set(VS_ENOENT, "the commits have no common history");
	while (w.q.n) {
		struct qitem it = queue_pop(&w.q);
		struct seen *s = vs__oidmap_get(&w.seen, &it.id);
		struct vs_commit *c;
		int perr = 0;

		if ((s->flags & (P1 | P2)) == (P1 | P2)) {
			*out = it.id;
			err = 0;
			break;
		}
		if ((perr = walk_take(&c, &w, &it.id)) < 0) {
			err = perr;
			break;
		}
		for (size_t i = 0; i < parents(repo, c) && perr >= 0; i++)
			perr = walk_push(&w, vs_commit_parent_id(c, i), s->flags);
		vs_commit_free(c);
		if (perr < 0) {
			err = perr;
			break;
		}
	}
out:
	walk_dispose(&w);
	return err;
}

int vs_descendant_of(struct vs_repo *repo, const struct vs_oid *descendant,
		     const struct vs_oid *ancestor)
{
	struct vs_oid base;
	int err = vs_merge_base(&base, repo, descendant, ancestor);
	if (err == VS_ENOENT) {
		vs_error_clear();
		return 0;
	}
	if (err < 0)
		return err;
	return vs_oid_equal(&base, ancestor);
}
