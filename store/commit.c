/* SPDX-License-Identifier: MIT */
/*
 * Commits: creating them (tree, new objects and the commit in one atomic
 * batch, or in the repo's open batch) and reading them back.
 */
#include <inttypes.h>
#include <stdio.h>

#include "store_int.h"

struct vs_commit {
	size_t refs;
	struct vs_repo *repo;
	struct vs_oid id;
	struct vs_format_commit fc;
	struct vs_signature author, committer; /* views into ident_buf */
	char *ident_buf;
};

static int check_sig(const struct vs_signature *s, const char *who)
{
	if (!s || !s->name || !s->email)
		return vs_error_set(VS_EINVAL, "the %s needs a name and an email", who);
	if (!*s->name || strpbrk(s->name, "<>\n"))
		return vs_error_set(VS_EINVAL,
				    "%s name '%s' must be non-empty without '<', '>' or newline",
				    who, s->name);
	if (strpbrk(s->email, "<>\n"))
		return vs_error_set(VS_EINVAL, "%s email '%s' may not contain '<', '>' or newline",
				    who, s->email);
	if (s->time < 0 || s->time > INT64_C(999999999999))
		return vs_error_set(VS_EINVAL, "%s time %" PRId64 " is out of range", who,
				    s->time);
	if (s->offset <= -1440 || s->offset >= 1440)
		return vs_error_set(VS_EINVAL, "%s time zone offset %d minutes is out of range",
				    who, s->offset);
	return 0;
}

/* Append the decimal digits of @v, at least @width of them. */
static size_t put_decimal(char *p, uint64_t v, size_t width)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* "Name <email> 1700000000 +0100", built by hand: it runs on every commit. */
static char *format_ident(const struct vs_signature *s)
{
	size_t nlen = strlen(s->name), elen = strlen(s->email), at = 0;
	int off = s->offset < 0 ? -s->offset : s->offset;
	char *p = vs__malloc(nlen + elen + 40);

	if (!p)
		return NULL;
	memcpy(p, s->name, nlen);
	at = nlen;
	p[at++] = ' ';
	p[at++] = '<';
	memcpy(p + at, s->email, elen);
	at += elen;
	p[at++] = '>';
	p[at++] = ' ';
	at += put_decimal(p + at, (uint64_t)s->time, 1); /* check_sig: 0 <= time < 10^12 */
	p[at++] = ' ';
	p[at++] = s->offset < 0 ? '-' : '+';
	at += put_decimal(p + at, (uint64_t)(off / 60), 2);
	at += put_decimal(p + at, (uint64_t)(off % 60), 2);
	p[at] = '\0';
	return p;
}

/* Write @tree and the commit object through the open batch. */
static int write_commit(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *tree,
			const struct vs_commit_opts *opts, struct vs__write_log *log)
{
	struct vs_format_commit fc = { 0 };
	struct vs_buf raw = VS_BUF_INIT;
	int err;

	if ((err = vs__tree_store(&fc.tree, tree, log)) < 0)
		return err;
	for (size_t i = 0; i < opts->nparents; i++) {
		char hex[VS_OID_MAXHEXSZ + 1];
		/* A parent written earlier in the batch lands with this commit or
		 * neither does (a daemon's loop turn chains its commits). */
		if (vs_oid_equal(&opts->parents[i], &log->last_commit))
			continue;
		if ((err = vs__backend_obj_exists(repo->backend, &opts->parents[i])) <= 0)
			return err < 0 ? err
				       : vs_error_set(VS_ENOENT, "parent commit %s not found",
						      vs_oid_tostr(hex, &opts->parents[i]));
	}
	fc.parents = (struct vs_oid *)opts->parents;
	fc.nparents = opts->nparents;
	fc.author = format_ident(opts->author);
	fc.committer = opts->committer ? format_ident(opts->committer) : fc.author;
	fc.message = (char *)(opts->message ? opts->message : "");
	if (!fc.author || !fc.committer) {
		err = vs__enomem();
		goto out;
	}
	if ((err = repo->format->commit_write(&raw, &fc)) < 0 ||
	    (err = repo->format->hash(out, VS_OBJ_COMMIT, raw.ptr, raw.size)) < 0)
		goto out;
	if ((err = vs__backend_obj_write(repo->backend, out, VS_OBJ_COMMIT, raw.ptr, raw.size)) >= 0)
		log->last_commit = *out;
out:
	if (fc.committer != fc.author)
		vs_free(fc.committer);
	vs_free(fc.author);
	vs_buf_release(&raw);
	return err;
}

static int check_opts(struct vs_repo *repo, struct vs_tree *tree,
		      const struct vs_commit_opts *opts)
{
	int err;
	VS_CHECK_ARG(repo && tree && opts && (opts->parents || !opts->nparents));
	if (vs_tree_repo(tree) != repo)
		return vs_error_set(VS_EINVAL, "the tree belongs to another repo");
	if ((err = check_sig(opts->author, "author")) < 0)
		return err;
	if (opts->committer && (err = check_sig(opts->committer, "committer")) < 0)
		return err;
	for (size_t i = 0; i < opts->nparents; i++)
		if (opts->parents[i].type != repo->format->oid_type)
			return vs_error_set(VS_EINVAL, "parent %zu is not an id of this format", i);
	return 0;
}

int vs__commit_in_batch(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *tree,
			const struct vs_commit_opts *opts, const char *ref,
			const struct vs_oid *expected)
{
	struct vs__write_log *log;
	int err;

	if ((err = check_opts(repo, tree, opts)) < 0 || (err = vs__write_begin(repo, &log)) < 0)
		return err;
	if ((err = write_commit(out, repo, tree, opts, log)) >= 0 && ref)
		err = vs__backend_ref_cas(repo->backend, ref, out, expected);
	return vs__write_end(repo, err);
}

int vs_commit_create(struct vs_oid *out, struct vs_repo *repo, struct vs_tree *tree,
		     const struct vs_commit_opts *opts)
{
	VS_CHECK_ARG(out);
	return vs__commit_in_batch(out, repo, tree, opts, NULL, NULL);
}

/* Split an ident line into a signature whose strings point into @buf. */
static void parse_ident(struct vs_signature *s, char *buf)
{
	char *lt = strchr(buf, '<'), *gt = strchr(lt, '>');
	lt[-1] = '\0';
	*gt = '\0';
	s->name = buf;
	s->email = lt + 1;
	s->time = strtoll(gt + 2, NULL, 10);
	char *tz = strchr(gt + 2, ' ') + 1;
	int hhmm = atoi(tz + 1);
	s->offset = (hhmm / 100 * 60 + hhmm % 100) * (*tz == '-' ? -1 : 1);
}

int vs_commit_lookup(struct vs_commit **out, struct vs_repo *repo, const struct vs_oid *id)
{
	struct vs_buf raw = VS_BUF_INIT;
	struct vs_commit *c = NULL;
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	VS_CHECK_ARG(out && repo && id);
	*out = NULL;
	if ((err = vs__backend_obj_read(repo->backend, id, &type, &raw)) < 0)
		goto out;
	if (type != VS_OBJ_COMMIT) {
		err = vs_error_set(VS_EINVAL, "object %s is not a commit", vs_oid_tostr(hex, id));
		goto out;
	}
	if (!(c = vs__calloc(1, sizeof(*c)))) {
		err = vs__enomem();
		goto out;
	}
	c->refs = 1;
	c->repo = repo;
	c->id = *id;
	if ((err = repo->format->commit_parse(&c->fc, raw.ptr, raw.size)) < 0) {
		vs__error_wrap(err, "commit %s", vs_oid_tostr(hex, id));
		goto out;
	}
	size_t alen = strlen(c->fc.author) + 1, clen = strlen(c->fc.committer) + 1;
	if (!(c->ident_buf = vs__malloc(alen + clen))) {
		err = vs__enomem();
		goto out;
	}
	memcpy(c->ident_buf, c->fc.author, alen);
	memcpy(c->ident_buf + alen, c->fc.committer, clen);
	parse_ident(&c->author, c->ident_buf);
	parse_ident(&c->committer, c->ident_buf + alen);
	*out = c;
	c = NULL;
out:
	vs_commit_free(c);
	vs_buf_release(&raw);
	return err;
}

struct vs_commit *vs_commit_dup(struct vs_commit *c)
{
	if (c)
		c->refs++;
	return c;
}

void vs_commit_free(struct vs_commit *c)
{
	if (!c || --c->refs > 0)
		return;
	vs_format_commit_dispose(&c->fc);
	vs_free(c->ident_buf);
	vs_free(c);
}

const struct vs_oid *vs_commit_id(const struct vs_commit *c)
{
	return &c->id;
}

const struct vs_oid *vs_commit_tree_id(const struct vs_commit *c)
{
	return &c->fc.tree;
}

int vs_commit_tree(struct vs_tree **out, struct vs_commit *c)
{
	VS_CHECK_ARG(out && c);
	return vs_tree_lookup(out, c->repo, &c->fc.tree);
}

size_t vs_commit_parentcount(const struct vs_commit *c)
{
	return c->fc.nparents;
}

const struct vs_oid *vs_commit_parent_id(const struct vs_commit *c, size_t i)
{
	return i < c->fc.nparents ? &c->fc.parents[i] : NULL;
}

const struct vs_signature *vs_commit_author(const struct vs_commit *c)
{
	return &c->author;
}

const struct vs_signature *vs_commit_committer(const struct vs_commit *c)
{
	return &c->committer;
}

const char *vs_commit_message(const struct vs_commit *c)
{
	return c->fc.message;
}

const char *vs_commit_summary(const struct vs_commit *c, char *out, size_t n)
{
	const char *m = c->fc.message;
	size_t len = strcspn(m, "\n");
	if (n == 0)
		return out;
	if (len >= n)
		len = n - 1;
	memcpy(out, m, len);
	out[len] = '\0';
	return out;
}

struct vs_repo *vs_commit_repo(const struct vs_commit *c)
{
	return c->repo;
}
