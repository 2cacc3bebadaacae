/* SPDX-License-Identifier: MIT */
/*
 * Push, fetch, pull and clone with git remotes through libgit2. A git backend
 * is used as it is. Any other backend gets a scratch bare repository in a
 * temporary directory whose odb also reads our store (an extra odb backend),
 * so the pack builder sends our objects; its refs name our branch heads, so a
 * fetch advertises them as haves. Fetched objects our store lacks are copied
 * children first, in bounded batches, before any branch moves. A store in the
 * vs format crosses through its id map (convert.c): a push gives the new
 * commits git ids, and the odb backend builds each git object from the vs
 * object the map names when libgit2 reads it; a fetch converts what arrived.
 */
#include <ftw.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend_git_int.h"

#define REF_HEADS "refs/heads/"
#define SPEC_MAX 2200

/* One sync operation's state, shared with the libgit2 callbacks. */
struct sync_ctx {
	struct vs_repo *repo;
	struct vs_backend *b;
	const struct vs_sync_opts *opts;
	git_repository *grepo; /* the git backend's repository, or the scratch one */
	bool convert;          /* the store is not in the git format: ids go through its map */
	char *scratch;         /* the scratch directory (removed at the end), or NULL */
	int stop;              /* what opts->progress returned to stop us */
	int err;               /* a VS_E* our odb backend met inside libgit2 */
	char errmsg[512];      /* its message (libgit2 may call us again meanwhile) */
	char *rejected;        /* the remote's reason for refusing a ref update */
};

/* Our store as a read-only libgit2 odb backend. */
struct sync_odb {
	git_odb_backend parent;
	struct sync_ctx *c;
};

/* A branch on the remote. */
struct rhead {
	char *name; /* without refs/heads/ */
	git_oid id;
};

struct rheads {
	struct rhead *v;
	size_t n;
};

/*
 * Report progress. Once the callback asked to stop, every later report says
 * so again: libgit2 1.5 ignores what some callbacks return (the pack
 * builder's, during a push), so the next one it does check must stop it.
 */
static int progress(struct sync_ctx *c, const char *stage, size_t done, size_t total)
{
	if (c->opts && c->opts->progress && !c->stop)
		c->stop = c->opts->progress(c->opts->payload, stage, done, total);
	return c->stop;
}

static int cb_transfer(const git_indexer_progress *s, void *payload)
{
	return progress(payload, "receiving", s->received_objects, s->total_objects);
}

static int cb_pack(int stage, uint32_t current, uint32_t total, void *payload)
{
	if (stage != GIT_PACKBUILDER_ADDING_OBJECTS)
		return 0;
	/* While counting, libgit2 does not know the total yet (it passes 0). */
	return progress(payload, "counting", current, total > current ? total : current);
}

static int cb_push_transfer(unsigned int current, unsigned int total, size_t bytes,
			    void *payload)
{
	(void)bytes;
	return progress(payload, "sending", current, total);
}

static int cb_push_ref(const char *refname, const char *status, void *payload)
{
	struct sync_ctx *c = payload;
	char msg[1024];

	if (!status || c->rejected)
		return 0;
	snprintf(msg, sizeof(msg), "the remote refused to update %s: %s", refname, status);
	if (!(c->rejected = vs__strdup(msg)))
		return -1;
	return 0;
}

static int cb_convert(void *payload, const char *stage, size_t done, size_t total)
{
	return progress(payload, stage, done, total);
}

static void set_callbacks(git_remote_callbacks *cbs, struct sync_ctx *c)
{
	cbs->transfer_progress = cb_transfer;
	cbs->pack_progress = cb_pack;
	cbs->push_transfer_progress = cb_push_transfer;
	cbs->push_update_reference = cb_push_ref;
	cbs->payload = c;
}

/* The code for a failed libgit2 call: a stop request, our own error, or libgit2's. */
static int sync_fail(struct sync_ctx *c, int rc, const char *what)
{
	if (c->stop) {
		git_error_clear();
		return c->stop;
	}
	if (c->err) {
		git_error_clear();
		return vs_error_set(c->err, "%s: %s", what, c->errmsg);
	}
	return vs__git2_err(rc, what);
}

/* Inside libgit2: remember our error, hand it a generic one. */
static int sodb_fail(struct sync_odb *s, int err)
{
	if (!s->c->err) {
		s->c->err = err;
		snprintf(s->c->errmsg, sizeof(s->c->errmsg), "%s", vs_error_last()->message);
	}
	git_error_set_str(GIT_ERROR_CALLBACK, s->c->errmsg);
	return GIT_ERROR;
}

/* Read @id from our store; GIT_ENOTFOUND lets libgit2 try its other backends. */
static int sodb_get(struct sync_odb *s, const git_oid *id, git_object_t *type, struct vs_buf *buf)
{
	struct vs_oid oid;
	enum vs_otype t;
	int err;

	/* Where libgit2 ignored a stop request, refusing to read stops it. */
	if (s->c->stop) {
		git_error_set_str(GIT_ERROR_CALLBACK, "stopped by the progress callback");
		return GIT_EUSER;
	}
	vs__oid_from_git(&oid, id);
	if (s->c->convert)
		err = vs__convert_encode(buf, &t, s->c->repo, &vs__format_git, &oid);
	else
		err = vs__backend_obj_read(s->c->b, &oid, &t, buf);
	if (err == VS_ENOENT)
		return GIT_ENOTFOUND;
	if (err < 0)
		return sodb_fail(s, err);
	*type = vs__otype_to_git(t);
	return 0;
}

static int sodb_read(void **data, size_t *len, git_object_t *type, git_odb_backend *gb,
		     const git_oid *id)
{
	struct sync_odb *s = container_of(gb, struct sync_odb, parent);
	struct vs_buf buf = VS_BUF_INIT;
	int rc = sodb_get(s, id, type, &buf);

	if (rc == 0) {
		/* libgit2 frees what read returns, so it must come from its allocator. */
		if ((*data = git_odb_backend_data_alloc(gb, buf.size ? buf.size : 1))) {
			memcpy(*data, buf.ptr ? buf.ptr : "", buf.size);
			*len = buf.size;
		} else {
			rc = sodb_fail(s, vs__enomem());
		}
	}
	vs_buf_release(&buf);
	return rc;
}

static int sodb_read_header(size_t *len, git_object_t *type, git_odb_backend *gb,
			    const git_oid *id)
{
	struct vs_buf buf = VS_BUF_INIT;
	int rc = sodb_get(container_of(gb, struct sync_odb, parent), id, type, &buf);

	*len = buf.size;
	vs_buf_release(&buf);
	return rc;
}

/* A failure reads as "absent" here; reading the object then reports it. */
static int sodb_exists(git_odb_backend *gb, const git_oid *id)
{
	struct sync_odb *s = container_of(gb, struct sync_odb, parent);
	struct vs_oid oid, to;

	vs__oid_from_git(&oid, id);
	/* The map outlives objects retention swept: the object must still be here. */
	if (s->c->convert)
		return vs__backend_idmap_get(s->c->b, &oid, &to) == 0 &&
		       vs__backend_obj_exists(s->c->b, &to) > 0;
	return vs__backend_obj_exists(s->c->b, &oid) > 0;
}

struct sodb_walk {
	git_odb_foreach_cb cb;
	void *payload;
	int stopped; /* what cb returned to stop the walk */
};

static int sodb_each(void *payload, const struct vs_oid *id)
{
	struct sodb_walk *w = payload;
	git_oid oid;

	if (git_oid_fromraw(&oid, id->id) < 0)
		return vs__git2_err(GIT_ERROR, "object id");
	w->stopped = w->cb(&oid, w->payload);
	return w->stopped ? 1 : 0;
}

/* libgit2 calls every backend's foreach unconditionally, so we need one. */
static int sodb_foreach(git_odb_backend *gb, git_odb_foreach_cb cb, void *payload)
{
	struct sync_odb *s = container_of(gb, struct sync_odb, parent);
	struct sodb_walk w = { cb, payload, 0 };
	int err;

	if (s->c->convert)
		return 0; /* a vs store's git ids live only in its map */
	err = vs__backend_obj_foreach(s->c->b, sodb_each, &w);

	if (w.stopped)
		return w.stopped;
	return err < 0 ? sodb_fail(s, err) : 0;
}

static void sodb_free(git_odb_backend *gb)
{
	vs_free(container_of(gb, struct sync_odb, parent));
}

static int sodb_attach(struct sync_ctx *c)
{
	struct sync_odb *s = vs__calloc(1, sizeof(*s));
	git_odb *odb = NULL;
	int rc;

	if (!s)
		return vs__enomem();
	if ((rc = git_odb_init_backend(&s->parent, GIT_ODB_BACKEND_VERSION)) < 0) {
		vs_free(s);
		return vs__git2_err(rc, "odb backend");
	}
	s->c = c;
	s->parent.read = sodb_read;
	s->parent.read_header = sodb_read_header;
	s->parent.exists = sodb_exists;
	s->parent.foreach = sodb_foreach;
	s->parent.free = sodb_free;
	/* Lowest priority: what the scratch repository received is looked up first. */
	if ((rc = git_repository_odb(&odb, c->grepo)) == 0)
		rc = git_odb_add_backend(odb, &s->parent, 0);
	if (rc < 0)
		vs_free(s); /* not added: still ours */
	git_odb_free(odb);
	return rc < 0 ? vs__git2_err(rc, "scratch object database") : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Ref @ref of the scratch repository names @head (through the map for a vs
 * store: a head never converted is left out, having no git id). */
static int scratch_ref(struct sync_ctx *c, const char *ref, const struct vs_oid *head)
{
	git_reference *r = NULL;
	struct vs_oid gid = *head;
	git_oid id;
	int err, rc;

	if (c->convert && (err = vs__backend_idmap_get(c->b, head, &gid)) < 0)
		return err == VS_ENOENT ? 0 : err;
	if ((err = vs__oid_to_git(&id, &gid)) < 0)
		return err;
	if ((rc = git_reference_create(&r, c->grepo, ref, &id, 1, NULL)) < 0)
		err = sync_fail(c, rc, ref);
	git_reference_free(r);
	return err;
}

/* A ref in the scratch repository for each of our branches: the haves of a fetch. */
static int scratch_refs(struct sync_ctx *c)
{
	struct vs_strarray names = { 0 };
	char ref[SPEC_MAX];
	int err;

	if ((err = vs_branch_list(&names, c->repo)) < 0)
		return err;
	for (size_t i = 0; i < names.count && !err; i++) {
		struct vs_oid head;
		if ((err = vs_branch_head(&head, c->repo, names.strings[i])) < 0)
			break;
		snprintf(ref, sizeof(ref), REF_HEADS "%s", names.strings[i]);
		err = scratch_ref(c, ref, &head);
	}
	vs_strarray_dispose(&names);
	return err;
}

static int scratch_create(struct sync_ctx *c)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	int rc;

	snprintf(dir, sizeof(dir), "%s/vstore-sync-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return vs_error_set(VS_EIO, "cannot create a scratch directory in %s: %s",
				    tmp && *tmp ? tmp : "/tmp", strerror(errno));
	if (!(c->scratch = vs__strdup(dir))) {
		rmdir(dir);
		return vs__enomem();
	}
	if ((rc = git_repository_init(&c->grepo, dir, 1)) < 0)
		return vs__git2_err(rc, dir);
	int err = sodb_attach(c);
	return err < 0 ? err : scratch_refs(c);
}

/* Check the format and find the git repository to work in. */
static int session_open(struct sync_ctx *c, struct vs_repo *repo, const struct vs_sync_opts *opts)
{
	int err;

	*c = (struct sync_ctx){ .repo = repo, .b = vs_repo_backend(repo), .opts = opts };
	if (opts && opts->version != VS_SYNC_OPTS_VERSION)
		return vs_error_set(VS_EINVAL, "vs_sync_opts version %u, expected %u",
				    opts->version, VS_SYNC_OPTS_VERSION);
	c->convert = strcmp(vs_repo_format(repo), "git") != 0;
	if (c->convert && (!c->b->ops->idmap_get || !c->b->ops->idmap_put))
		return vs_error_set(VS_ENOTSUP,
				    "a '%s' store syncs with git through an id map, which the %s "
				    "backend does not keep",
				    vs_repo_format(repo), vs_repo_backend_name(repo));
	if ((err = vs__git2_init()) < 0)
		return err;
	if ((c->grepo = vs__backend_git_repository(c->b)))
		return 0;
	return scratch_create(c);
}

static void session_close(struct sync_ctx *c)
{
	if (c->scratch) {
		git_repository_free(c->grepo);
		nftw(c->scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		vs_free(c->scratch);
	}
	vs_free(c->rejected);
	c->grepo = NULL;
	c->scratch = NULL;
	c->rejected = NULL;
}

static void rheads_release(struct rheads *h)
{
	for (size_t i = 0; i < h->n; i++)
		vs_free(h->v[i].name);
	vs_free(h->v);
	*h = (struct rheads){ 0 };
}

/* The remote's branches (all, or only @only), from its advertisement. */
static int rheads_list(struct rheads *out, struct sync_ctx *c, git_remote *remote,
		       const char *only)
{
	const git_remote_head **heads;
	size_t n;
	int rc;

	if ((rc = git_remote_ls(&heads, &n, remote)) < 0)
		return sync_fail(c, rc, "listing the remote's refs");
	for (size_t i = 0; i < n; i++) {
		const char *name = heads[i]->name;
		if (strncmp(name, REF_HEADS, strlen(REF_HEADS)))
			continue;
		name += strlen(REF_HEADS);
		if (only && strcmp(name, only))
			continue;
		struct rhead *v = vs__realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v)
			return vs__enomem();
		out->v = v;
		if (!(v[out->n].name = vs__strdup(name)))
			return vs__enomem();
		git_oid_cpy(&v[out->n++].id, &heads[i]->oid);
	}
	return 0;
}

static int remote_open(git_remote **out, struct sync_ctx *c, const char *url, git_direction dir)
{
	git_remote_create_options ro;
	git_remote_connect_options o;
	int rc;

	*out = NULL;
	/*
	 * Not git_remote_create_anonymous(): it scans the configuration for
	 * url.*.insteadOf with a regex, and libgit2 1.5 leaks pcre2 match data
	 * on every entry that does not match. URLs are taken as given.
	 */
	if ((rc = git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION)) < 0)
		return vs__git2_err(rc, url);
	ro.repository = c->grepo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((rc = git_remote_create_with_opts(out, url, &ro)) < 0)
		return vs__git2_err(rc, url);
	if ((rc = git_remote_connect_options_init(&o, GIT_REMOTE_CONNECT_OPTIONS_VERSION)) < 0)
		return vs__git2_err(rc, url);
	set_callbacks(&o.callbacks, c);
	if ((rc = git_remote_connect_ext(*out, dir, &o)) < 0)
		return sync_fail(c, rc, url);
	return 0;
}

/*
 * Bring what the scratch repository received into our store: what @heads
 * reach that the store lacks, copied (or converted, for a vs store) children
 * first. It is read through a handle of its own on the scratch repository,
 * whose odb does not include ours.
 */
static int import_objects(struct sync_ctx *c, const struct rheads *heads)
{
	struct vs_repo_opts ro = { .version = VS_REPO_OPTS_VERSION,
				   .flags = VS_REPO_NOCREATE | VS_REPO_READONLY };
	struct vs__convert_opts o = { .progress = cb_convert, .payload = c };
	struct vs_oid *ids = vs__calloc(2 * heads->n, sizeof(*ids));
	struct vs_repo *src = NULL;
	char uri[4200];
	int err;

	if (!ids)
		return vs__enomem();
	snprintf(uri, sizeof(uri), "git:%s", c->scratch);
	if ((err = vs_repo_open(&src, uri, &ro)) >= 0) {
		for (size_t i = 0; i < heads->n; i++)
			vs__oid_from_git(&ids[i], &heads->v[i].id);
		err = vs__convert_tips(ids + heads->n, c->repo, src, ids, heads->n, &o);
	}
	vs_repo_close(src);
	vs_free(ids);
	return err;
}

/* Download the remote branches @heads and make our store hold their objects. */
static int fetch_heads(struct sync_ctx *c, git_remote *remote, const struct rheads *heads)
{
	git_fetch_options o;
	git_strarray specs = { 0 };
	int err = 0, rc;

	if (!heads->n)
		return 0;
	if (!(specs.strings = vs__calloc(heads->n, sizeof(char *))))
		return vs__enomem();
	for (; specs.count < heads->n; specs.count++) {
		size_t len = strlen(REF_HEADS) + strlen(heads->v[specs.count].name) + 1;
		if (!(specs.strings[specs.count] = vs__malloc(len))) {
			err = vs__enomem();
			goto out;
		}
		snprintf(specs.strings[specs.count], len, REF_HEADS "%s",
			 heads->v[specs.count].name);
	}
	if ((rc = git_fetch_options_init(&o, GIT_FETCH_OPTIONS_VERSION)) < 0) {
		err = vs__git2_err(rc, "fetch options");
		goto out;
	}
	set_callbacks(&o.callbacks, c);
	o.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	o.update_fetchhead = 0;
	if ((rc = git_remote_download(remote, &specs, &o)) < 0 || c->stop)
		err = sync_fail(c, rc, "downloading from the remote");
	else if (c->scratch)
		err = import_objects(c, heads);
out:
	for (size_t i = 0; i < specs.count; i++)
		vs_free(specs.strings[i]);
	vs_free(specs.strings);
	return err;
}

/* Connect, list the remote's branches (all, or only @only), fetch them. */
static int fetch_run(struct rheads *out, struct sync_ctx *c, const char *url, const char *only)
{
	git_remote *remote = NULL;
	int err;

	if ((err = remote_open(&remote, c, url, GIT_DIRECTION_FETCH)) < 0 ||
	    (err = rheads_list(out, c, remote, only)) < 0)
		goto out;
	if (only && !out->n) {
		err = vs_error_set(VS_ENOENT, "the remote %s has no branch '%s'", url, only);
		goto out;
	}
	err = fetch_heads(c, remote, out);
out:
	git_remote_free(remote); /* disconnects */
	return err;
}

/* A remote head as an id of our store: the same, or what a vs store converted it to. */
static int rhead_local(struct vs_oid *out, struct sync_ctx *c, const git_oid *id)
{
	struct vs_oid gid;

	vs__oid_from_git(&gid, id);
	if (!c->convert) {
		*out = gid;
		return 0;
	}
	return vs__backend_idmap_get(c->b, &gid, out);
}

/* Move local branch @into to a fetched head: a fast-forward, or any move with @force. */
static int move_branch(struct vs_repo *repo, const char *into, const struct vs_oid *theirs,
		       bool force)
{
	struct vs_oid cur;
	int err = vs_branch_head(&cur, repo, into);

	if (err == VS_ENOENT)
		return vs_branch_create(repo, into, theirs);
	if (err < 0 || vs_oid_equal(&cur, theirs))
		return err;
	if (!force && (err = vs_descendant_of(repo, theirs, &cur)) <= 0)
		return err < 0 ? err
			       : vs_error_set(VS_ECONFLICT,
					      "the fetched head does not descend from branch '%s': "
					      "not a fast-forward",
					      into);
	return vs_branch_update(repo, into, theirs, &cur);
}

int vs_sync_fetch(struct vs_oid *out, struct vs_repo *repo, const char *url,
		  const char *remote_branch, const char *into, const struct vs_sync_opts *opts)
{
	struct rheads heads = { 0 };
	struct sync_ctx c = { 0 };
	struct vs_oid theirs;
	int err;

	VS_CHECK_ARG(out && repo && url && remote_branch);
	memset(out, 0, sizeof(*out));
	if ((err = vs_branch_name_check(remote_branch)) < 0 ||
	    (into && (err = vs_branch_name_check(into)) < 0))
		return err;
	if ((err = session_open(&c, repo, opts)) < 0 ||
	    (err = fetch_run(&heads, &c, url, remote_branch)) < 0 ||
	    (err = rhead_local(&theirs, &c, &heads.v[0].id)) < 0)
		goto out;
	if (into && (err = move_branch(repo, into, &theirs, opts && opts->force)) < 0)
		goto out;
	*out = theirs;
out:
	rheads_release(&heads);
	session_close(&c);
	return err;
}

int vs_sync_pull(struct vs_oid *out, struct vs_repo *repo, const char *url, const char *branch,
		 const char *remote_branch, const struct vs_merge_opts *mopts,
		 const struct vs_commit_opts *copts, const struct vs_sync_opts *opts)
{
	struct vs_oid theirs, head;
	int err;

	VS_CHECK_ARG(out && repo && url && branch);
	memset(out, 0, sizeof(*out));
	if ((err = vs_sync_fetch(&theirs, repo, url, remote_branch ? remote_branch : branch, NULL,
				 opts)) < 0)
		return err;
	if ((err = vs_branch_head(&head, repo, branch)) == VS_ENOENT) {
		/* Nothing to merge into: the branch starts where the remote's is. */
		if ((err = vs_branch_create(repo, branch, &theirs)) == 0)
			*out = theirs;
		return err;
	}
	if (err < 0)
		return err;
	return vs_branch_merge(out, repo, branch, &theirs, mopts, copts, NULL);
}

/* The remote's words decide: a ref that moved there is our conflict, the rest its failure. */
static int push_rejected(struct sync_ctx *c)
{
	bool moved = strstr(c->rejected, "non-fast-forward") ||
		     strstr(c->rejected, "fetch first") || strstr(c->rejected, "stale info");

	return vs_error_set(moved ? VS_ECONFLICT : VS_EBACKEND, "%s", c->rejected);
}

/*
 * A vs store gives the branch's commits that the map lacks git ids (ids only:
 * our odb backend builds each git object from the map as libgit2 reads it),
 * then names the head in the scratch repository for the refspec.
 */
static int push_convert(struct sync_ctx *c, const char *branch, const struct vs_oid *head)
{
	struct vs__convert_opts o = { .flags = VS__CONVERT_MAP_ONLY, .format = &vs__format_git,
				      .progress = cb_convert, .payload = c };
	char ref[SPEC_MAX];
	struct vs_oid gid;
	int err = vs__convert_tips(&gid, NULL, c->repo, head, 1, &o);

	if (err != 0)
		return err;
	snprintf(ref, sizeof(ref), REF_HEADS "%s", branch);
	return scratch_ref(c, ref, head);
}

static int push_run(struct sync_ctx *c, const char *url, const char *spec)
{
	git_remote *remote = NULL;
	git_push_options o;
	char *specs[] = { (char *)spec };
	git_strarray refspecs = { specs, 1 };
	int err, rc;

	if ((err = remote_open(&remote, c, url, GIT_DIRECTION_PUSH)) < 0)
		goto out;
	if ((rc = git_push_options_init(&o, GIT_PUSH_OPTIONS_VERSION)) < 0) {
		err = vs__git2_err(rc, "push options");
		goto out;
	}
	set_callbacks(&o.callbacks, c);
	o.pb_parallelism = 1; /* our odb backend (and store) is single-threaded */
	/* libgit2 1.5 may finish a push whose progress callback asked it to stop. */
	if ((rc = git_remote_push(remote, &refspecs, &o)) < 0 || c->stop)
		err = sync_fail(c, rc, url);
	else if (c->rejected)
		err = push_rejected(c);
out:
	git_remote_free(remote);
	return err;
}

static int find_boundary(void *payload, struct vs_commit *c)
{
	struct vs_oid *found = payload;
	if (!vs__shallow_has(vs_commit_repo(c), vs_commit_id(c)))
		return 0;
	*found = *vs_commit_id(c);
	return 1;
}

/*
 * libgit2 1.5 knows nothing of shallow history: its pack builder walks past
 * a boundary commit into parents retention dropped and fails on the first.
 * Refuse up front, naming the boundary, when the branch reaches one.
 */
static int push_shallow_check(struct vs_repo *repo, const char *branch, const struct vs_oid *head)
{
	struct vs_oid found = { 0 };
	char hex[VS_OID_MAXHEXSZ + 1];
	const struct vs_oid *ids;
	size_t n;
	int err;

	if ((err = vs__shallow_refresh(repo)) < 0)
		return err;
	vs__shallow_ids(repo, &ids, &n);
	if (!n || (err = vs_log(repo, head, NULL, find_boundary, &found)) < 0 || !err)
		return err < 0 ? err : 0;
	return vs_error_set(VS_ENOTSUP,
			    "cannot push branch '%s': retention cut its history at commit %s "
			    "(the boundary), and libgit2 1.5 cannot push shallow history",
			    branch, vs_oid_tostr(hex, &found));
}

int vs_sync_push(struct vs_repo *repo, const char *url, const char *branch,
		 const char *remote_branch, const struct vs_sync_opts *opts)
{
	struct sync_ctx c = { 0 };
	struct vs_oid head;
	char spec[SPEC_MAX];
	int err;

	VS_CHECK_ARG(repo && url && branch);
	if (!remote_branch)
		remote_branch = branch;
	if ((err = vs_branch_name_check(remote_branch)) < 0 ||
	    (err = vs_branch_head(&head, repo, branch)) < 0 ||
	    (err = push_shallow_check(repo, branch, &head)) < 0)
		return err;
	if ((err = session_open(&c, repo, opts)) < 0 ||
	    (c.convert && (err = push_convert(&c, branch, &head)) != 0))
		goto out;
	snprintf(spec, sizeof(spec), "%s" REF_HEADS "%s:" REF_HEADS "%s",
		 opts && opts->force ? "+" : "", branch, remote_branch);
	err = push_run(&c, url, spec);
out:
	session_close(&c);
	return err;
}

int vs_sync_clone(struct vs_repo **out, const char *url, const char *dst_uri,
		  const struct vs_repo_opts *ropts, const struct vs_sync_opts *opts)
{
	struct vs_strarray names = { 0 };
	struct rheads heads = { 0 };
	struct sync_ctx c = { 0 };
	struct vs_repo *repo = NULL;
	int err;

	VS_CHECK_ARG(out && url && dst_uri);
	*out = NULL;
	/* The format asked for, else the backend's default: git keeps the
	 * remote's ids, vs converts (and maps them). */
	if ((err = vs_repo_open(&repo, dst_uri, ropts)) < 0)
		return err;
	if ((err = vs_branch_list(&names, repo)) < 0)
		goto out;
	if (names.count) {
		err = vs_error_set(VS_EEXIST, "cannot clone into %s: it has branches already",
				   dst_uri);
		goto out;
	}
	if ((err = session_open(&c, repo, opts)) < 0 ||
	    (err = fetch_run(&heads, &c, url, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < heads.n && !err; i++) {
		struct vs_oid id;
		if ((err = rhead_local(&id, &c, &heads.v[i].id)) == 0)
			err = vs_branch_create(repo, heads.v[i].name, &id);
	}
	if (!err) {
		*out = repo;
		repo = NULL;
	}
out:
	session_close(&c);
	rheads_release(&heads);
	vs_strarray_dispose(&names);
	vs_repo_close(repo);
	return err;
}
