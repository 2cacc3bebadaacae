/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing repositories, choosing the object format, the bounded
 * tree cache, the write batch every write operation runs in (group commit),
 * raw object access and revision parsing.
 */
#include <stdio.h>

#include "store_int.h"

#define DEFAULT_CACHE_TREES 32768
#define DEFAULT_CACHE_VALUE_BYTES ((size_t)32 << 20)

static int io_backend_read(void *ctx, const struct vs_oid *id, enum vs_otype *type,
			   struct vs_buf *out)
{
	struct vs_repo *repo = ctx;
	return vs__backend_obj_read(repo->backend, id, type, out);
}

static void tree_release(void *t)
{
	vs_tree_free(t);
}

/* The format is recorded in the store on creation and must match afterwards. */
static int choose_format(struct vs_repo *repo, const struct vs_repo_opts *opts)
{
	struct vs_buf stored = VS_BUF_INIT;
	const char *want = opts && opts->format ? opts->format : NULL;
	const char *name;
	int err = vs__backend_config_get(repo->backend, "format", &stored);

	if (err < 0 && err != VS_ENOENT)
		goto out;
	name = err >= 0 ? stored.ptr : want ? want : repo->backend->default_format;
	if (err >= 0 && want && strcmp(want, stored.ptr)) {
		err = vs_error_set(VS_EINVAL, "the store uses the '%s' format, not '%s'",
				   stored.ptr, want);
		goto out;
	}
	if (!(repo->format = vs_format_find(name))) {
		err = vs_error_set(VS_EINVAL, "unknown object format '%s'", name);
		goto out;
	}
	err = 0;
	if (!stored.ptr && !repo->backend->readonly)
		err = vs__backend_config_set(repo->backend, "format", name);
out:
	vs_buf_release(&stored);
	return err;
}

int vs_repo_open_backend(struct vs_repo **out, struct vs_backend *b,
			 const struct vs_repo_opts *opts)
{
	struct vs_repo *repo;
	int err;

	*out = NULL;
	if (opts && opts->version != VS_REPO_OPTS_VERSION) {
		vs__backend_free(b);
		return vs_error_set(VS_EINVAL, "vs_repo_opts version %u, expected %u",
				    opts->version, VS_REPO_OPTS_VERSION);
	}
	if ((err = vs__backend_check(b)) < 0) {
		vs__backend_free(b);
		return err;
	}
	if (!(repo = vs__calloc(1, sizeof(*repo)))) {
		vs__backend_free(b);
		return vs__enomem();
	}
	repo->backend = b;
	repo->io_read = (struct vs_object_io){ repo, io_backend_read, NULL };
	repo->trees = (struct vs__cache){ .release = tree_release };
	repo->trees.max = opts && opts->cache_trees ? opts->cache_trees : DEFAULT_CACHE_TREES;
	repo->values = (struct vs__cache){ .release = vs__blob_release, .cost = vs__blob_cost };
	repo->values.max = opts && opts->cache_value_bytes ? opts->cache_value_bytes
							   : DEFAULT_CACHE_VALUE_BYTES;
	if (opts && opts->flags & VS_REPO_NO_VALUE_CACHE)
		repo->values.max = 0;
	if ((err = choose_format(repo, opts)) < 0) {
		vs_repo_close(repo);
		return err;
	}
	*out = repo;
	return 0;
}

int vs_repo_open(struct vs_repo **out, const char *uri, const struct vs_repo_opts *opts)
{
	struct vs_backend *b;
	int err;

	VS_CHECK_ARG(out && uri);
	*out = NULL;
	if ((err = vs__backend_open_uri(&b, uri, opts)) < 0)
		return err;
	if (opts && opts->flags & VS_REPO_READONLY)
		b->readonly = true;
	return vs_repo_open_backend(out, b, opts);
}

void vs_repo_close(struct vs_repo *repo)
{
	if (!repo)
		return;
	vs_repo_batch_abort(repo);
	vs_free(repo->batch.log.trees);
	vs_free(repo->batch.notes);
	vs__watch_dispose(repo);
	vs__cache_dispose(&repo->trees);
	vs__cache_dispose(&repo->values);
	vs__backend_free(repo->backend);
	vs_free(repo);
}

const char *vs_repo_format(const struct vs_repo *repo)
{
	return repo->format->name;
}

const char *vs_repo_backend_name(const struct vs_repo *repo)
{
	return repo->backend->ops->name;
}

struct vs_backend *vs_repo_backend(struct vs_repo *repo)
{
	return repo->backend;
}

/* ---- the write batch ---- */

/* Remember the first failure inside the batch, with its message. */
static void batch_fail(struct vs__batch *b, int err)
{
	const struct vs_error *last = vs_error_last();

	if (b->err)
		return;
	b->err = err;
	snprintf(b->errmsg, sizeof(b->errmsg), "%s",
		 last->code == err ? last->message : vs_strerror(err));
}

int vs__write_begin(struct vs_repo *repo, struct vs__write_log **log)
{
	struct vs__batch *b = &repo->batch;
	int err;

	if (log)
		*log = &b->log;
	if (b->depth && b->err)
		return vs_error_set(b->err, "the write batch already failed: %s", b->errmsg);
	assert(!b->depth || !log || b->backend_open);
	if (!b->depth && log) {
		if ((err = vs__backend_batch_begin(repo->backend)) < 0)
			return err;
		b->backend_open = true;
	}
	b->depth++;
	return 0;
}

/* Fire the queued notes: the batch is closed, so callbacks may write again. */
static void notes_fire(struct vs_repo *repo, struct vs__note *notes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct vs__note *no = &notes[i];
		vs__watch_notify(repo, no->branch, no->old_head.type ? &no->old_head : NULL,
				 no->new_head.type ? &no->new_head : NULL);
	}
}

/* Close the batch: commit it (@commit and nothing failed) or drop it. */
static int batch_finish(struct vs_repo *repo, bool commit)
{
	struct vs__batch *b = &repo->batch;
	struct vs__note *notes = b->notes;
	size_t nnotes = b->nnotes;
	int err = b->err;
	bool ok = commit && !err;

	if (b->backend_open && ok && (err = vs__backend_batch_commit(repo->backend)) < 0)
		ok = false;
	if (b->backend_open && !ok) /* a failed commit kept nothing: this is a no-op then */
		vs__backend_batch_abort(repo->backend);
	if (ok) {
		vs__write_log_commit(&b->log);
	} else {
		vs__write_log_abort(&b->log);
		/* Trees loaded during a repo batch may come from its own writes,
		 * which never landed: forget every loaded tree. */
		if (b->user)
			vs__cache_dispose(&repo->trees);
	}
	b->notes = NULL;
	b->nnotes = b->cap = 0;
	b->depth = 0;
	b->user = b->backend_open = false;
	b->err = 0;
	if (ok)
		notes_fire(repo, notes, nnotes);
	for (size_t i = 0; i < nnotes; i++)
		vs_free(notes[i].branch);
	vs_free(notes);
	return err;
}

int vs__write_end(struct vs_repo *repo, int err)
{
	struct vs__batch *b = &repo->batch;

	assert(b->depth > 0);
	if (err < 0)
		batch_fail(b, err);
	if (--b->depth > 0)
		return err;
	int cerr = batch_finish(repo, true);
	return err < 0 ? err : cerr;
}

void vs__write_notify(struct vs_repo *repo, const char *branch, const struct vs_oid *old_head,
		      const struct vs_oid *new_head)
{
	struct vs__batch *b = &repo->batch;
	struct vs__note *no;

	if (!b->depth) {
		vs__watch_notify(repo, branch, old_head, new_head);
		return;
	}
	/* Without memory the event is lost here, but a watch's "seen" head
	 * stays behind, so the next vs_watch_poll() delivers it. */
	if (b->nnotes == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 8;
		if (!(no = vs__realloc(b->notes, ncap * sizeof(*no))))
			return;
		b->notes = no;
		b->cap = ncap;
	}
	no = &b->notes[b->nnotes];
	*no = (struct vs__note){ .branch = vs__strdup(branch) };
	if (!no->branch)
		return;
	if (old_head)
		no->old_head = *old_head;
	if (new_head)
		no->new_head = *new_head;
	b->nnotes++;
}

int vs_repo_batch_begin(struct vs_repo *repo)
{
	struct vs__batch *b;
	int err;

	VS_CHECK_ARG(repo);
	b = &repo->batch;
	if (b->depth)
		return vs_error_set(VS_EBUSY, "a write batch is already open on this repo");
	if ((err = vs__backend_batch_begin(repo->backend)) < 0)
		return err;
	b->depth = 1;
	b->user = b->backend_open = true;
	return 0;
}

int vs_repo_batch_commit(struct vs_repo *repo)
{
	VS_CHECK_ARG(repo);
	if (!repo->batch.user)
		return vs_error_set(VS_EINVAL, "no write batch is open on this repo");
	if (repo->batch.depth != 1)
		return vs_error_set(VS_EBUSY, "an operation of the batch is still running");
	if (repo->batch.err < 0)
		vs_error_set(repo->batch.err, "the write batch failed: %s", repo->batch.errmsg);
	return batch_finish(repo, true);
}

void vs_repo_batch_abort(struct vs_repo *repo)
{
	if (repo && repo->batch.user && repo->batch.depth == 1)
		batch_finish(repo, false);
}

int vs_repo_sync(struct vs_repo *repo)
{
	VS_CHECK_ARG(repo);
	return vs__backend_sync(repo->backend);
}

struct vs__watches **vs__repo_watches(struct vs_repo *repo)
{
	return &repo->watches;
}

struct vs_tree *vs__cache_get(struct vs_repo *repo, const struct vs_oid *id)
{
	return vs_tree_dup(vs__cache_lookup(&repo->trees, id));
}

int vs__cache_put(struct vs_repo *repo, struct vs_tree *t)
{
	struct vs_oid id;
	int err = vs_tree_id(&id, t);
	if (err < 0)
		return err;
	return vs__cache_insert(&repo->trees, &id, vs_tree_dup(t), 1);
}

int vs_repo_read_raw(struct vs_buf *out, int *type, struct vs_repo *repo, const struct vs_oid *id)
{
	enum vs_otype t;
	VS_CHECK_ARG(out && type && repo && id);
	int err = vs__backend_obj_read(repo->backend, id, &t, out);
	if (err >= 0)
		*type = (int)t;
	return err;
}

struct prefix_search {
	const char *hex;
	size_t len;
	struct vs_oid found;
	size_t matches;
};

static int match_prefix(void *payload, const struct vs_oid *id)
{
	struct prefix_search *s = payload;
	char hex[VS_OID_MAXHEXSZ + 1];
	if (!strncmp(vs_oid_tostr(hex, id), s->hex, s->len)) {
		s->found = *id;
		s->matches++;
	}
	return 0;
}

static int resolve_prefix(struct vs_oid *out, struct vs_repo *repo, const char *spec, size_t len)
{
	struct prefix_search s = { .hex = spec, .len = len };
	char lower[VS_OID_MAXHEXSZ + 1];
	int err;

	for (size_t i = 0; i < len; i++)
		lower[i] = (char)(spec[i] >= 'A' && spec[i] <= 'F' ? spec[i] + 32 : spec[i]);
	lower[len] = '\0';
	s.hex = lower;
	if ((err = vs__backend_obj_foreach(repo->backend, match_prefix, &s)) < 0)
		return err;
	if (s.matches > 1)
		return vs_error_set(VS_EINVAL, "'%s' is ambiguous (%zu objects)", spec, s.matches);
	if (!s.matches)
		return vs_error_set(VS_ENOENT, "no object or branch '%s'", spec);
	*out = s.found;
	return 0;
}

int vs_repo_resolve(struct vs_oid *out, struct vs_repo *repo, const char *spec)
{
	size_t len;
	int err;

	VS_CHECK_ARG(out && repo && spec);
	len = strlen(spec);
	if (!strncmp(spec, "refs/", 5))
		return vs__backend_ref_read(repo->backend, spec, out);
	if (vs_branch_name_check(spec) == 0) {
		err = vs_branch_head(out, repo, spec);
		if (err != VS_ENOENT)
			return err;
	}
	if (len == vs_oid_size(repo->format->oid_type) * 2 && vs_oid_fromhex(out, spec, len) == 0) {
		if ((err = vs__backend_obj_exists(repo->backend, out)) < 0)
			return err;
		return err ? 0 : vs_error_set(VS_ENOENT, "no object %s", spec);
	}
	if (len >= 4 && len < 64 && strspn(spec, "0123456789abcdefABCDEF") == len)
		return resolve_prefix(out, repo, spec, len);
	return vs_error_set(VS_ENOENT, "no branch or object '%s'", spec);
}

int vs_repo_resolve_rev(struct vs_oid *out, struct vs_repo *repo, const char *spec,
			const char *head)
{
	char base[256];
	unsigned long back = 0;
	const char *tilde;
	size_t blen;
	int err;

	VS_CHECK_ARG(out && repo && spec && head);
	tilde = strrchr(spec, '~');
	blen = tilde ? (size_t)(tilde - spec) : strlen(spec);
	if (tilde) {
		char *end = NULL;
		back = tilde[1] ? strtoul(tilde + 1, &end, 10) : 1;
		if (tilde[1] && (*end || tilde[1] < '0' || tilde[1] > '9'))
			return vs_error_set(VS_EINVAL, "bad commit \"%s\"", spec);
	}
	if (blen >= sizeof(base))
		return vs_error_set(VS_EINVAL, "bad commit \"%s\"", spec);
	memcpy(base, spec, blen);
	base[blen] = '\0';
	if (!*base || !strcmp(base, "HEAD"))
		err = vs_branch_head(out, repo, head);
	else
		err = vs_repo_resolve(out, repo, base);
	for (unsigned long i = 0; err >= 0 && i < back; i++) {
		struct vs_commit *commit;
		if ((err = vs_commit_lookup(&commit, repo, out)) < 0)
			break;
		const struct vs_oid *parent = vs_commit_parent_id(commit, 0);
		if (parent)
			*out = *parent;
		else
			err = vs_error_set(VS_ENOENT, "%s: no such ancestor", spec);
		vs_commit_free(commit);
	}
	return err;
}

const char *vs_version(void)
{
	return "0.1.0";
}
