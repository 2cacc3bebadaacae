/* SPDX-License-Identifier: MIT */
/*
 * Watches on branch heads. A repo's watches, and the last head seen of each
 * branch some watch covers, live in one struct vs__watches hung on the repo.
 * An event is delivered only after its diff is in hand, and "seen" moves with
 * it, so a failed delivery is retried by the next vs_watch_poll(). Callbacks
 * may add or free watches (their own too): a free during a dispatch only
 * marks the watch dead, and the outermost dispatch sweeps when it returns.
 */
#include "store_int.h"

struct vs_watch {
	struct vs_repo *repo;
	char *branch;     /* NULL: every branch */
	char *path;       /* NULL: a branch watch; else normalised, "" is the root */
	vs_watch_fn *cb;
	void *payload;
	bool dead;        /* freed during a dispatch; the sweep frees it */
};

/* The last head seen of an existing branch; a branch absent here did not exist. */
struct seen {
	char *name;
	struct vs_oid head;
};

struct vs__watches {
	struct vs_watch **v;  /* in creation order; dead ones until the sweep */
	size_t n, alloc;
	struct seen *seen;    /* sorted by name, only branches some watch covers */
	size_t nseen, aseen;
	unsigned int depth;   /* dispatches in progress (a callback may nest one) */
};

/* A diff, copied out of vs_diff_trees()'s callback. */
struct deltas {
	struct vs_delta *v;
	size_t n, alloc;
};

static bool covers(const struct vs_watch *w, const char *branch)
{
	return !w->dead && (!w->branch || !strcmp(w->branch, branch));
}

static bool covered(const struct vs__watches *st, const char *branch)
{
	for (size_t i = 0; i < st->n; i++)
		if (covers(st->v[i], branch))
			return true;
	return false;
}

/* Index of @name in st->seen, or where it would go; true when present. */
static bool seen_find(const struct vs__watches *st, const char *name, size_t *at)
{
	size_t lo = 0, hi = st->nseen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->seen[mid].name, name);
		if (!c) {
			*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return false;
}

static void seen_drop(struct vs__watches *st, size_t i)
{
	vs_free(st->seen[i].name);
	memmove(&st->seen[i], &st->seen[i + 1], (st->nseen - i - 1) * sizeof(*st->seen));
	st->nseen--;
}

/* Record @head (NULL: the branch no longer exists) as branch @name's. */
static int seen_set(struct vs__watches *st, const char *name, const struct vs_oid *head)
{
	size_t i;
	bool found = seen_find(st, name, &i);

	if (!head) {
		if (found)
			seen_drop(st, i);
		return 0;
	}
	if (found) {
		st->seen[i].head = *head;
		return 0;
	}
	if (st->nseen == st->aseen) {
		size_t n = st->aseen ? st->aseen * 2 : 8;
		struct seen *v = vs__realloc(st->seen, n * sizeof(*v));
		if (!v)
			return vs__enomem();
		st->seen = v;
		st->aseen = n;
	}
	char *copy = vs__strdup(name);
	if (!copy)
		return vs__enomem();
	memmove(&st->seen[i + 1], &st->seen[i], (st->nseen - i) * sizeof(*st->seen));
	st->seen[i] = (struct seen){ copy, *head };
	st->nseen++;
	return 0;
}

/* Forget the heads of branches no watch covers any more. */
static void seen_prune(struct vs__watches *st)
{
	for (size_t i = st->nseen; i-- > 0;)
		if (!covered(st, st->seen[i].name))
			seen_drop(st, i);
}

/* Branch @name's head into *@out, or *@exists false when there is no such branch. */
static int head_read(struct vs_oid *out, bool *exists, struct vs_repo *repo, const char *name)
{
	int err = vs_branch_head(out, repo, name);

	*exists = err >= 0;
	return err == VS_ENOENT ? 0 : err;
}

/* Start tracking @branch's head (NULL: every branch's) if nothing does yet. */
static int seen_track(struct vs__watches *st, struct vs_repo *repo, const char *branch)
{
	struct vs_strarray all = {0};
	struct vs_oid head;
	bool exists;
	size_t at;
	int err = 0;

	if (!branch && (err = vs_branch_list(&all, repo)) < 0)
		return err;
	for (size_t i = 0; i < (branch ? 1 : all.count) && err >= 0; i++) {
		const char *name = branch ? branch : all.strings[i];
		if (seen_find(st, name, &at))
			continue;
		if ((err = head_read(&head, &exists, repo, name)) >= 0 && exists)
			err = seen_set(st, name, &head);
	}
	vs_strarray_dispose(&all);
	return err;
}

static void watch_destroy(struct vs_watch *w)
{
	vs_free(w->branch);
	vs_free(w->path);
	vs_free(w);
}

/* Free the watches freed during dispatches, once none is running. */
static void watches_sweep(struct vs__watches *st)
{
	size_t kept = 0;

	assert(st->depth == 0);
	for (size_t i = 0; i < st->n; i++) {
		if (st->v[i]->dead)
			watch_destroy(st->v[i]);
		else
			st->v[kept++] = st->v[i];
	}
	st->n = kept;
	seen_prune(st);
}

static int deltas_add(void *payload, const struct vs_delta *d)
{
	struct deltas *ds = payload;
	struct vs_delta *c;

	if (ds->n == ds->alloc) {
		size_t n = ds->alloc ? ds->alloc * 2 : 16;
		struct vs_delta *v = vs__realloc(ds->v, n * sizeof(*v));
		if (!v)
			return vs__enomem();
		ds->v = v;
		ds->alloc = n;
	}
	c = &ds->v[ds->n];
	*c = (struct vs_delta){ .status = d->status };
	char *path = vs__strdup(d->path);
	void *old = vs__malloc(d->old_value.len), *new_value = vs__malloc(d->new_value.len);
	if (!path || !old || !new_value) {
		vs_free(path);
		vs_free(old);
		vs_free(new_value);
		return vs__enomem();
	}
	if (d->old_value.len)
		memcpy(old, d->old_value.ptr, d->old_value.len);
	if (d->new_value.len)
		memcpy(new_value, d->new_value.ptr, d->new_value.len);
	c->path = path;
	c->old_value = (struct vs_slice){ old, d->old_value.len };
	c->new_value = (struct vs_slice){ new_value, d->new_value.len };
	ds->n++;
	return 0;
}

static void deltas_release(struct deltas *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		vs_free((char *)ds->v[i].path);
		vs_free((void *)ds->v[i].old_value.ptr);
		vs_free((void *)ds->v[i].new_value.ptr);
	}
	vs_free(ds->v);
}

static int tree_of(struct vs_tree **out, struct vs_repo *repo, const struct vs_oid *commit)
{
	struct vs_commit *c = NULL;
	int err;

	*out = NULL;
	if (!commit)
		return 0;
	if ((err = vs_commit_lookup(&c, repo, commit)) >= 0)
		err = vs_commit_tree(out, c);
	vs_commit_free(c);
	return err;
}

/*
 * The diff from @old to @now (NULL: no branch, an empty tree). Trees rather
 * than vs_diff_commits(), which has no "deleted" side.
 */
static int deltas_load(struct deltas *ds, struct vs_repo *repo, const struct vs_oid *old,
		       const struct vs_oid *now)
{
	struct vs_tree *a = NULL, *b = NULL;
	int err;

	if ((err = tree_of(&a, repo, old)) >= 0 && (err = tree_of(&b, repo, now)) >= 0)
		err = vs_diff_trees(a, b, deltas_add, ds);
	vs_tree_free(a);
	vs_tree_free(b);
	return err;
}

/* True when @path is @at or below it ("a/b" holds "a/b" and "a/b/c", not "a/bc"). */
static bool path_within(const char *path, const char *at)
{
	size_t n = strlen(at);

	return !n || (!strncmp(path, at, n) && (path[n] == '\0' || path[n] == '/'));
}

/* Call @w with @ev, narrowed to its path; @scratch has room for every delta. */
static void watch_fire(struct vs_watch *w, struct vs_watch_event ev, struct vs_delta *scratch)
{
	if (w->path) {
		size_t n = 0;
		for (size_t i = 0; i < ev.ndeltas; i++)
			if (path_within(ev.deltas[i].path, w->path))
				scratch[n++] = ev.deltas[i];
		if (!n)
			return;
		ev.deltas = scratch;
		ev.ndeltas = n;
	}
	w->cb(w->payload, &ev);
}

/*
 * Branch @branch moved from @old to @now (NULL: absent). Everything that can
 * fail happens before "seen" moves and before the first callback. Watches
 * added by a callback do not see the event in progress (the loop stops at the
 * count it started with); freed ones are skipped.
 */
static int watch_deliver(struct vs__watches *st, struct vs_repo *repo, const char *branch,
			 const struct vs_oid *old, const struct vs_oid *now)
{
	struct deltas ds = { NULL, 0, 0 };
	struct vs_delta *scratch = NULL;
	size_t count = st->n;
	int err;

	if ((err = deltas_load(&ds, repo, old, now)) < 0)
		goto out;
	if (ds.n && !(scratch = vs__calloc(ds.n, sizeof(*scratch)))) {
		err = vs__enomem();
		goto out;
	}
	if ((err = seen_set(st, branch, now)) < 0)
		goto out;
	const struct vs_watch_event ev = {
		.branch = branch,
		.old_head = old,
		.new_head = now,
		.deltas = ds.v,
		.ndeltas = ds.n,
	};
	st->depth++;
	for (size_t i = 0; i < count; i++)
		if (covers(st->v[i], branch))
			watch_fire(st->v[i], ev, scratch);
	if (--st->depth == 0)
		watches_sweep(st);
out:
	vs_free(scratch);
	deltas_release(&ds);
	return err;
}

void vs__watch_notify(struct vs_repo *repo, const char *branch, const struct vs_oid *old_head,
		      const struct vs_oid *new_head)
{
	struct vs__watches *st = *vs__repo_watches(repo);

	if (!st || !covered(st, branch))
		return;
	if (old_head && new_head && vs_oid_equal(old_head, new_head))
		return;
	/*
	 * The move itself succeeded, so there is no caller to fail: when the
	 * event cannot be delivered (no memory, an unreadable tree), "seen" stays
	 * behind and the next vs_watch_poll() delivers it or reports the error.
	 */
	(void)watch_deliver(st, repo, branch, old_head, new_head);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every branch name a poll must look at: those seen, those watched, and all when asked. */
static int poll_names(struct vs_strarray *out, struct vs__watches *st, struct vs_repo *repo)
{
	bool all = false;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < st->n; i++)
		all |= !st->v[i]->dead && !st->v[i]->branch;
	if (all && (err = vs_branch_list(out, repo)) < 0)
		return err;
	char **v = vs__realloc(out->strings, (out->count + st->nseen + st->n) * sizeof(*v));
	if (!v)
		return vs__enomem();
	out->strings = v;
	for (size_t i = 0; i < st->nseen + st->n; i++) {
		const char *name = i < st->nseen ? st->seen[i].name : st->v[i - st->nseen]->branch;
		if (!name)
			continue;
		if (!(v[out->count] = vs__strdup(name)))
			return vs__enomem();
		out->count++;
	}
	if (out->count > 1)
		qsort(v, out->count, sizeof(*v), name_cmp);
	for (size_t i = 0; i < out->count; i++) {
		if (n && !strcmp(v[n - 1], v[i]))
			vs_free(v[i]);
		else
			v[n++] = v[i];
	}
	out->count = n;
	return 0;
}

/*
 * Heads are read one branch at a time, right before comparing, and "seen" is
 * looked up afresh each time: a callback may move branches through this
 * handle, and notify has then already delivered (and recorded) that move.
 */
int vs_watch_poll(struct vs_repo *repo)
{
	struct vs_strarray names = {0};
	struct vs__watches *st;
	int err = 0;

	VS_CHECK_ARG(repo);
	if (!(st = *vs__repo_watches(repo)) || !st->n)
		return 0;
	if ((err = poll_names(&names, st, repo)) < 0)
		goto out;
	for (size_t i = 0; i < names.count && err >= 0; i++) {
		const char *name = names.strings[i];
		struct vs_oid now, old;
		bool exists, was;
		size_t at;

		if (!covered(st, name))
			continue;
		if ((err = head_read(&now, &exists, repo, name)) < 0)
			break;
		if ((was = seen_find(st, name, &at)))
			old = st->seen[at].head;
		if (was == exists && (!was || vs_oid_equal(&old, &now)))
			continue;
		err = watch_deliver(st, repo, name, was ? &old : NULL, exists ? &now : NULL);
	}
out:
	vs_strarray_dispose(&names);
	return err;
}

/* "/a//b/" -> "a/b"; "" and "/" are the root. "." and ".." name nothing. */
static int path_normalise(char **out, const char *path)
{
	size_t len = strlen(path), n = 0;
	char *p = vs__malloc(len + 1);

	if (!p)
		return vs__enomem();
	for (const char *s = path; *s;) {
		size_t k = strcspn(s, "/");
		if ((k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.')) {
			vs_free(p);
			return vs_error_set(VS_EINVAL, "bad watch path '%s'", path);
		}
		if (k) {
			if (n)
				p[n++] = '/';
			memcpy(p + n, s, k);
			n += k;
		}
		s += k + (s[k] == '/');
	}
	p[n] = '\0';
	*out = p;
	return 0;
}

static int watch_add(struct vs_watch **out, struct vs_repo *repo, const char *branch,
		     const char *path, vs_watch_fn *cb, void *payload)
{
	struct vs__watches **slot, *st;
	struct vs_watch *w = NULL;
	int err;

	VS_CHECK_ARG(out);
	*out = NULL;
	VS_CHECK_ARG(repo && cb);
	if (branch && (err = vs_branch_name_check(branch)) < 0)
		return err;
	slot = vs__repo_watches(repo);
	if (!*slot && !(*slot = vs__calloc(1, sizeof(**slot))))
		return vs__enomem();
	st = *slot;
	if (!(w = vs__calloc(1, sizeof(*w))) || (branch && !(w->branch = vs__strdup(branch)))) {
		err = vs__enomem();
		goto out;
	}
	if (path && (err = path_normalise(&w->path, path)) < 0)
		goto out;
	if (st->n == st->alloc) {
		size_t n = st->alloc ? st->alloc * 2 : 4;
		struct vs_watch **v = vs__realloc(st->v, n * sizeof(*v));
		if (!v) {
			err = vs__enomem();
			goto out;
		}
		st->v = v;
		st->alloc = n;
	}
	/* From now on, moves are measured against the heads as they are now. */
	if ((err = seen_track(st, repo, branch)) < 0)
		goto out;
	w->repo = repo;
	w->cb = cb;
	w->payload = payload;
	st->v[st->n++] = w;
	*out = w;
	w = NULL;
out:
	if (w)
		watch_destroy(w);
	return err;
}

int vs_watch_branch(struct vs_watch **out, struct vs_repo *repo, const char *branch,
		    vs_watch_fn *cb, void *payload)
{
	return watch_add(out, repo, branch, NULL, cb, payload);
}

/* @branch NULL watches @path on every branch, as vs_watch_branch() does. */
int vs_watch_path(struct vs_watch **out, struct vs_repo *repo, const char *branch,
		  const char *path, vs_watch_fn *cb, void *payload)
{
	VS_CHECK_ARG(path);
	return watch_add(out, repo, branch, path, cb, payload);
}

void vs_watch_free(struct vs_watch *w)
{
	struct vs__watches *st;

	if (!w)
		return;
	st = *vs__repo_watches(w->repo);
	w->dead = true;
	if (st->depth)
		return; /* a callback is running: the sweep frees it */
	watches_sweep(st);
}

void vs__watch_dispose(struct vs_repo *repo)
{
	struct vs__watches **slot = vs__repo_watches(repo), *st = *slot;

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		watch_destroy(st->v[i]);
	for (size_t i = 0; i < st->nseen; i++)
		vs_free(st->seen[i].name);
	vs_free(st->v);
	vs_free(st->seen);
	vs_free(st);
	*slot = NULL;
}
