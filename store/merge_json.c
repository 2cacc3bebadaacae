/* SPDX-License-Identifier: MIT */
/*
 * vs_merge_json(): JSON objects merged key by key, with jansson. Values are
 * parsed only when both sides changed; a merged object is written compact
 * with sorted keys, so the same merge always gives the same bytes (and id).
 * jansson allocates with malloc: its objects never leave this file, and the
 * merged text is serialised straight into the caller's vs_buf.
 */
#include <jansson.h>

#include "store_int.h"

/* What one merge collects besides the merged object. */
struct json_merge {
	struct vs_buf where;  /* JSON Pointer of the key being merged ("/a/b") */
	struct vs_buf keys;   /* conflicting keys' pointers, ", "-separated */
	size_t nconflicts;
};

/* Equal JSON values; NULL is "absent". */
static bool json_same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

/* Append "/key" to the pointer, escaped as RFC 6901 says ('~' "~0", '/' "~1"). */
static int where_push(struct vs_buf *where, const char *key)
{
	int err = vs_buf_putc(where, '/');

	for (const char *p = key; *p && err >= 0; p++) {
		if (*p == '~')
			err = vs_buf_puts(where, "~0");
		else if (*p == '/')
			err = vs_buf_puts(where, "~1");
		else
			err = vs_buf_putc(where, *p);
	}
	return err;
}

static int conflict_note(struct json_merge *m)
{
	int err = 0;

	m->nconflicts++;
	if (m->keys.size)
		err = vs_buf_puts(&m->keys, ", ");
	return err < 0 ? err : vs_buf_put(&m->keys, m->where.ptr, m->where.size);
}

static bool mergeable_objects(const json_t *b, const json_t *o, const json_t *t)
{
	return json_is_object(o) && json_is_object(t) && (!b || json_is_object(b));
}

static int merge_objects(struct json_merge *m, json_t **out, json_t *b, json_t *o, json_t *t);

/*
 * Merge @key of objects @b (NULL: absent), @o and @t into @res, with the
 * default rule per key; objects changed on both sides recurse. A conflict
 * keeps our value and is noted, so one pass names every conflicting key.
 */
static int merge_key(struct json_merge *m, json_t *res, const char *key, json_t *b, json_t *o,
		     json_t *t)
{
	json_t *bv = b ? json_object_get(b, key) : NULL;
	json_t *ov = json_object_get(o, key), *tv = json_object_get(t, key);
	json_t *merged = NULL;
	size_t mark = m->where.size;
	int err;

	if ((err = where_push(&m->where, key)) < 0)
		goto out;
	if (json_same(ov, tv) || json_same(bv, tv))
		merged = json_incref(ov);
	else if (json_same(bv, ov))
		merged = json_incref(tv);
	else if (mergeable_objects(bv, ov, tv))
		err = merge_objects(m, &merged, bv, ov, tv);
	else if ((err = conflict_note(m)) >= 0)
		merged = json_incref(ov);
	if (err >= 0 && merged && json_object_set_new(res, key, merged) < 0)
		err = vs__enomem();
out:
	m->where.size = mark;
	if (m->where.ptr)
		m->where.ptr[mark] = '\0';
	return err;
}

/* Every key of @o and @t; keys only in @b were deleted on both sides. */
static int merge_objects(struct json_merge *m, json_t **out, json_t *b, json_t *o, json_t *t)
{
	json_t *res = json_object(), *v;
	const char *key;
	int err = 0;

	*out = NULL;
	if (!res)
		return vs__enomem();
	json_object_foreach(o, key, v) {
		if ((err = merge_key(m, res, key, b, o, t)) < 0)
			goto out;
	}
	json_object_foreach(t, key, v) {
		if (!json_object_get(o, key) && (err = merge_key(m, res, key, b, o, t)) < 0)
			goto out;
	}
	*out = res;
	res = NULL;
out:
	json_decref(res);
	return err;
}

/* Parse @s (NULL: absent, *out NULL). Invalid JSON is a conflict naming the path. */
static int json_parse(json_t **out, const struct vs_slice *s, const char *path, const char *side)
{
	json_error_t jerr;

	*out = NULL;
	if (!s)
		return 0;
	*out = json_loadb(s->len ? s->ptr : "", s->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			  &jerr);
	if (*out)
		return 0;
	if (json_error_code(&jerr) == json_error_out_of_memory)
		return vs__enomem();
	return vs_error_set(VS_ECONFLICT, "merge conflict at '%s': invalid JSON on %s side: %s",
			    path, side, jerr.text);
}

/* Serialise @j canonically into @out, without a malloc'd string in between. */
static int json_emit(struct vs_buf *out, const json_t *j)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	size_t n = json_dumpb(j, NULL, 0, flags);
	int err;

	if (!n)
		return vs_error_set(VS_ENOMEM, "cannot serialise merged JSON");
	vs_buf_clear(out);
	if ((err = vs_buf_grow(out, n)) < 0)
		return err;
	if (json_dumpb(j, out->ptr, n, flags) != n)
		return vs_error_set(VS_ENOMEM, "cannot serialise merged JSON");
	out->size = n;
	out->ptr[n] = '\0';
	return 0;
}

/*
 * One side changed, or both alike: as vs_merge_default(), without parsing.
 * Both changed: ours and theirs must be valid JSON (else VS_ECONFLICT naming
 * the path and side); objects (over an object or absent base) merge key by
 * key, and conflicting keys are listed as JSON Pointers in the message. Other
 * values merge only when they are equal as JSON (ours' bytes are kept).
 * Deleting the whole value on one side while the other changed it conflicts.
 */
int vs_merge_json(struct vs_buf *out, bool *deleted, const struct vs_merge_input *in,
		  void *payload)
{
	struct json_merge m = { VS_BUF_INIT, VS_BUF_INIT, 0 };
	json_t *jb = NULL, *jo = NULL, *jt = NULL, *res = NULL;
	const char *path = in && in->path ? in->path : "";
	int err;

	err = vs_merge_default(out, deleted, in, payload);
	if (err != VS_ECONFLICT || !in->ours || !in->theirs)
		return err;
	if ((err = json_parse(&jo, in->ours, path, "our")) < 0 ||
	    (err = json_parse(&jt, in->theirs, path, "their")) < 0 ||
	    (err = json_parse(&jb, in->base, path, "the base")) < 0)
		goto out;
	if (mergeable_objects(jb, jo, jt)) {
		if ((err = merge_objects(&m, &res, jb, jo, jt)) < 0)
			goto out;
		if (m.nconflicts) {
			err = vs_error_set(VS_ECONFLICT, "merge conflict at '%s': JSON key%s %s",
					   path, m.nconflicts > 1 ? "s" : "", m.keys.ptr);
			goto out;
		}
		*deleted = false;
		err = json_emit(out, res);
	} else if (json_equal(jo, jt)) {
		*deleted = false;
		err = vs_buf_set(out, in->ours->ptr, in->ours->len);
	} else {
		err = vs_error_set(VS_ECONFLICT, "merge conflict at '%s': both sides changed the "
				   "JSON value", path);
	}
out:
	json_decref(res);
	json_decref(jb);
	json_decref(jo);
	json_decref(jt);
	vs_buf_release(&m.where);
	vs_buf_release(&m.keys);
	return err;
}
