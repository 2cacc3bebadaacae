/* SPDX-License-Identifier: MIT */
/*
 * vs_repo_check: every ref names a commit, and every object reachable from
 * the refs exists, has the type its referrer says, hashes to its id, and
 * parses strictly. Walks stop at the retention boundary (whose commits must
 * exist, as commits): that nothing reachable above it was swept is exactly
 * "every object reachable exists".
 */
#include <stdio.h>

#include "store_int.h"

struct pending {
	struct vs_oid id;
	enum vs_otype type;
};

struct check {
	struct vs_repo *repo;
	bool cut; /* the commit being checked is a boundary commit */
	struct vs_oidmap seen;
	struct pending *stack;
	size_t n, cap;
	struct vs_check_stats stats;
	struct vs_buf raw;
};

static int push(struct check *c, const struct vs_oid *id, enum vs_otype type)
{
	int err;
	if (vs__oidmap_has(&c->seen, id))
		return 0;
	if ((err = vs__oidmap_put(&c->seen, id, NULL, NULL)) < 0)
		return err;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct pending *ns = vs__realloc(c->stack, ncap * sizeof(*ns));
		if (!ns)
			return vs__enomem();
		c->stack = ns;
		c->cap = ncap;
	}
	c->stack[c->n++] = (struct pending){ *id, type };
	return 0;
}

static const char *type_name(enum vs_otype t)
{
	static const char *const names[] = { "?", "commit", "tree", "blob", "tag" };
	return (unsigned)t < VS_ARRAY_SIZE(names) ? names[t] : "?";
}

/* Read @id, insisting on @want and on the content hashing to @id. */
static int read_verified(void *ctx, const struct vs_oid *id, enum vs_otype *type,
			 struct vs_buf *out)
{
	struct check *c = ctx;
	char hex[VS_OID_MAXHEXSZ + 1];
	struct vs_oid again;
	int err;

	if ((err = vs__backend_obj_read(c->repo->backend, id, type, out)) < 0)
		return err == VS_ENOENT ? vs_error_set(VS_ECORRUPT, "object %s is missing",
						       vs_oid_tostr(hex, id))
					: err;
	if ((err = c->repo->format->hash(&again, *type, out->ptr, out->size)) < 0)
		return err;
	if (!vs_oid_equal(&again, id))
		return vs_error_set(VS_ECORRUPT, "object %s does not hash to its id",
				    vs_oid_tostr(hex, id));
	return 0;
}

static int push_ref(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	struct check *c = payload;
	if (c->cut && type == VS_OBJ_COMMIT)
		return 0; /* retention dropped the parents of a boundary commit */
	return push(c, id, type);
}

static int check_one(struct check *c, const struct pending *p)
{
	const struct vs_format *f = c->repo->format;
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if ((err = read_verified(c, &p->id, &type, &c->raw)) < 0)
		return err;
	if (type != p->type)
		return vs_error_set(VS_ECORRUPT, "object %s is a %s, expected a %s",
				    vs_oid_tostr(hex, &p->id), type_name(type),
				    type_name(p->type));
	if (type == VS_OBJ_BLOB)
		c->stats.blobs++;
	else if (type == VS_OBJ_TREE)
		c->stats.trees++;
	else
		c->stats.commits++;
	c->cut = type == VS_OBJ_COMMIT && vs__shallow_has(c->repo, &p->id);
	/* Parsing is strict: a malformed commit or tree fails here. */
	if ((err = f->obj_refs(f, type, c->raw.ptr, c->raw.size, push_ref, c)) < 0)
		return vs__error_wrap(err, "%s %s", type_name(type), vs_oid_tostr(hex, &p->id));
	return 0;
}

static int check_ref(void *payload, const char *name, const struct vs_oid *target)
{
	struct check *c = payload;
	c->stats.refs++;
	if (target->type != c->repo->format->oid_type)
		return vs_error_set(VS_ECORRUPT, "ref %s holds an id of another format", name);
	return push(c, target, VS_OBJ_COMMIT);
}

/* Every boundary id must name a commit that is there and sound. */
static int check_boundary(struct check *c)
{
	const struct vs_oid *ids;
	char hex[VS_OID_MAXHEXSZ + 1];
	enum vs_otype type;
	size_t n;
	int err;

	vs__shallow_ids(c->repo, &ids, &n);
	for (size_t i = 0; i < n; i++) {
		if (ids[i].type != c->repo->format->oid_type)
			return vs_error_set(VS_ECORRUPT, "boundary id %s is of another format",
					    vs_oid_tostr(hex, &ids[i]));
		if ((err = read_verified(c, &ids[i], &type, &c->raw)) < 0)
			return vs__error_wrap(err, "boundary commit");
		if (type != VS_OBJ_COMMIT)
			return vs_error_set(VS_ECORRUPT, "boundary id %s names a %s, not a commit",
					    vs_oid_tostr(hex, &ids[i]), type_name(type));
	}
	return 0;
}

int vs_repo_check(struct vs_repo *repo, struct vs_check_stats *out)
{
	struct check c = { .repo = repo };
	int err;

	VS_CHECK_ARG(repo);
	if ((err = vs__shallow_refresh(repo)) < 0 || (err = check_boundary(&c)) < 0 ||
	    (err = vs__backend_ref_list(repo->backend, "refs/", check_ref, &c)) < 0)
		goto out;
	while (c.n && err >= 0) {
		struct pending p = c.stack[--c.n];
		err = check_one(&c, &p);
	}
out:
	if (out)
		*out = c.stats;
	vs__oidmap_dispose(&c.seen);
	vs_free(c.stack);
	vs_buf_release(&c.raw);
	return err;
}
