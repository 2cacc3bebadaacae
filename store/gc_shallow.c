/* SPDX-License-Identifier: MIT */
/*
 * The boundary of retained history: the commits retention cut off from
 * their parents, which every history walk treats as root commits (git's
 * shallow commits). It is persisted through the backend setting "shallow"
 * (hex ids, one per line: git's .git/shallow format, which the git backend
 * keeps in that very file) and cached, sorted, in the backend handle's
 * retention state, which also points at a collection in progress.
 */
#include <stdio.h>

#include "gc_int.h"

/* The retention state of @b, created on first use; NULL (VS_ENOMEM set) if it cannot be. */
static struct vs_gc_state *state_get(struct vs_backend *b)
{
	if (!b->gc && !(b->gc = vs__calloc(1, sizeof(*b->gc))))
		vs__enomem();
	return b->gc;
}

void vs__gc_state_free(struct vs_backend *b)
{
	struct vs_gc_state *s = b->gc;

	if (!s)
		return;
	/* A collection still open only loses its link: it must not be used. */
	if (s->cycle)
		vs__gc_orphan(s->cycle);
	vs_free(s->shallow);
	vs_buf_release(&s->raw);
	vs_free(s);
	b->gc = NULL;
}

static int oid_cmp(const void *a, const void *b)
{
	return vs_oid_cmp(a, b);
}

/* Sort @ids and drop duplicates; the new count. */
static size_t sort_unique(struct vs_oid *ids, size_t n)
{
	size_t k = 0;
	if (n)
		qsort(ids, n, sizeof(*ids), oid_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || !vs_oid_equal(&ids[k - 1], &ids[i]))
			ids[k++] = ids[i];
	return k;
}

/* Parse the text of the setting into a sorted array. */
static int parse(struct vs_oid **out, size_t *n, const char *text, size_t len, const char *store)
{
	struct vs_oid *ids = NULL;
	size_t cap = 0;
	int err = 0;

	*n = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (*n == cap) {
			struct vs_oid *a = vs__realloc(ids, (cap = cap ? 2 * cap : 8) * sizeof(*a));
			if (!a) {
				err = vs__enomem();
				break;
			}
			ids = a;
		}
		if (vs_oid_fromhex(&ids[*n], text + pos, end - pos) < 0) {
			int show = (int)(end - pos < 80 ? end - pos : 80);
			err = vs_error_set(VS_ECORRUPT,
					   "the boundary of the %s store has a bad line '%.*s'",
					   store, show, text + pos);
			break;
		}
		(*n)++;
		pos = end + 1;
	}
	if (err < 0) {
		vs_free(ids);
		return err;
	}
	*n = sort_unique(ids, *n);
	*out = ids;
	return 0;
}

int vs__shallow_refresh(struct vs_repo *repo)
{
	struct vs_backend *b = repo->backend;
	struct vs_buf text = VS_BUF_INIT;
	struct vs_gc_state *s;
	struct vs_oid *ids = NULL;
	size_t n = 0;
	int err;

	if (!(s = state_get(b)))
		return VS_ENOMEM;
	err = vs__backend_config_get(b, "shallow", &text);
	if (err == VS_ENOENT) {
		vs_error_clear();
		err = 0;
	}
	if (err < 0)
		goto out;
	/* Unchanged since the last look: nothing to parse (the usual case). */
	if (s->loaded && text.size == s->raw.size &&
	    (!text.size || !memcmp(text.ptr, s->raw.ptr, text.size)))
		goto out;
	if ((err = parse(&ids, &n, text.ptr, text.size, b->ops->name)) < 0)
		goto out;
	vs_free(s->shallow);
	s->shallow = ids;
	s->nshallow = n;
	vs_buf_release(&s->raw);
	s->raw = text;
	text = (struct vs_buf)VS_BUF_INIT;
	s->loaded = true;
out:
	vs_buf_release(&text);
	return err;
}

bool vs__shallow_has(struct vs_repo *repo, const struct vs_oid *id)
{
	struct vs_gc_state *s = repo->backend->gc;
	if (!s || !s->nshallow)
		return false;
	return bsearch(id, s->shallow, s->nshallow, sizeof(*id), oid_cmp) != NULL;
}

void vs__shallow_ids(struct vs_repo *repo, const struct vs_oid **ids, size_t *n)
{
	struct vs_gc_state *s = repo->backend->gc;
	*ids = s ? s->shallow : NULL;
	*n = s ? s->nshallow : 0;
}

int vs__shallow_set(struct vs_repo *repo, struct vs_oid *ids, size_t n)
{
	struct vs_backend *b = repo->backend;
	struct vs_buf text = VS_BUF_INIT;
	struct vs_gc_state *s;
	struct vs_oid *copy = NULL;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err = 0;

	if (!(s = state_get(b)))
		return VS_ENOMEM;
	n = sort_unique(ids, n);
	if (n && !(copy = vs__malloc(n * sizeof(*copy))))
		return vs__enomem();
	for (size_t i = 0; i < n && err >= 0; i++)
		err = vs_buf_printf(&text, "%s\n", vs_oid_tostr(hex, &ids[i]));
	if (err < 0 || (err = vs_buf_puts(&text, "")) < 0 ||
	    (err = vs__backend_config_set(b, "shallow", text.ptr)) < 0) {
		vs_free(copy);
		vs_buf_release(&text);
		return err;
	}
	if (n)
		memcpy(copy, ids, n * sizeof(*copy));
	vs_free(s->shallow);
	s->shallow = copy;
	s->nshallow = n;
	vs_buf_release(&s->raw);
	s->raw = text;
	s->loaded = true;
	return 0;
}

int vs_gc_boundary(struct vs_strarray *out, struct vs_repo *repo)
{
	const struct vs_oid *ids;
	char hex[VS_OID_MAXHEXSZ + 1];
	size_t n;
	int err;

	VS_CHECK_ARG(out && repo);
	*out = (struct vs_strarray){ 0 };
	if ((err = vs__shallow_refresh(repo)) < 0)
		return err;
	vs__shallow_ids(repo, &ids, &n);
	if (n && !(out->strings = vs__calloc(n, sizeof(*out->strings))))
		return vs__enomem();
	for (size_t i = 0; i < n; i++) {
		if (!(out->strings[i] = vs__strdup(vs_oid_tostr(hex, &ids[i])))) {
			vs_strarray_dispose(out);
			return vs__enomem();
		}
		out->count++;
	}
	return 0;
}
